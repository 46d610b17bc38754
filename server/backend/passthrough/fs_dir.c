/*
 * Directory reading, with open streams kept between calls.
 *
 * A client lists a big directory as a chain of calls, each starting at the
 * cookie where the last one stopped. Opening the directory and seeking to
 * that cookie on every call makes filesystems with hashed positions (ext4
 * htree) rebuild their readdir state and re-read records already returned.
 * So a call that stops early keeps its descriptor and the records it read
 * but did not use, keyed by the cookie the client will send next.
 */
#define _GNU_SOURCE
#include "fs.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define READ_MIN (4 * 1024)
#define READ_MAX (64 * 1024)
/* Enough for the Linux client's parallel listings and a few clients. */
#define STREAM_SLOTS 32

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct dstream {
	int fd; /* -1: slot free */
	dev_t dev;
	ino_t ino;
	uint64_t pos; /* cookie of the last record consumed */
	char *buf;    /* READ_MAX bytes; records [off, len) not yet consumed */
	long len, off;
	double last_used;
};

static struct {
	pthread_mutex_t lock;
	struct dstream slot[STREAM_SLOTS];
	bool init;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void slots_init(void)
{
	if (S.init)
		return;
	for (unsigned i = 0; i < STREAM_SLOTS; i++)
		S.slot[i].fd = -1;
	S.init = true;
}

static void stream_close(struct dstream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
}

/* Take the kept stream that continues dev/ino at cookie, if any. */
static bool stream_take(dev_t dev, ino_t ino, uint64_t cookie, struct dstream *out)
{
	bool found = false;
	pthread_mutex_lock(&S.lock);
	slots_init();
	for (unsigned i = 0; i < STREAM_SLOTS; i++) {
		struct dstream *s = &S.slot[i];
		if (s->fd >= 0 && s->ino == ino && s->dev == dev && s->pos == cookie) {
			*out = *s;
			s->fd = -1;
			s->buf = NULL;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&S.lock);
	return found;
}

/* Keep a stream for the next call; the least recently used one makes room. */
static void stream_keep(struct dstream *s)
{
	struct dstream victim = { .fd = -1 };
	s->last_used = mono_s();
	pthread_mutex_lock(&S.lock);
	slots_init();
	struct dstream *dst = NULL;
	for (unsigned i = 0; i < STREAM_SLOTS; i++) {
		struct dstream *c = &S.slot[i];
		if (c->fd >= 0 && c->ino == s->ino && c->dev == s->dev && c->pos == s->pos) {
			/* Another listing is at the same place: one stream is enough. */
			pthread_mutex_unlock(&S.lock);
			stream_close(s);
			return;
		}
	}
	for (unsigned i = 0; i < STREAM_SLOTS; i++) {
		struct dstream *c = &S.slot[i];
		if (c->fd < 0) {
			dst = c;
			break;
		}
		if (!dst || c->last_used < dst->last_used)
			dst = c;
	}
	if (dst->fd >= 0)
		victim = *dst;
	*dst = *s;
	pthread_mutex_unlock(&S.lock);
	stream_close(&victim);
}

static int stream_open(int fd, uint64_t cookie, struct dstream *s)
{
	/* A descriptor of our own: its position is the stream's, not shared. */
	s->fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (cookie != 0 && lseek(s->fd, (off_t)cookie, SEEK_SET) < 0) {
		int e = errno;
		close(s->fd);
		s->fd = -1;
		return -e;
	}
	s->pos = cookie;
	s->len = s->off = 0;
	s->buf = NULL;
	return 0;
}

static size_t read_size(size_t want)
{
	return want < READ_MIN ? READ_MIN : want > READ_MAX ? READ_MAX : want;
}

/* Feed records to fn until it stops (false) or the directory ends (*eof). */
static int stream_feed(struct dstream *s, size_t want, fs_dirent_fn fn, void *ctx, bool *eof)
{
	size_t next_read = read_size(want);
	for (;;) {
		if (s->off >= s->len) {
			if (!s->buf && !(s->buf = malloc(READ_MAX)))
				return -ENOMEM;
			long n = syscall(SYS_getdents64, s->fd, s->buf, next_read);
			if (n < 0)
				return -errno;
			if (n == 0) {
				*eof = true;
				return 0;
			}
			s->len = n;
			s->off = 0;
			next_read = READ_MAX; /* the estimate was short: read on in bulk */
		}
		while (s->off < s->len) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(s->buf + s->off);
			struct fs_dirent de = {
				.name = d->d_name,
				.namelen = strlen(d->d_name),
				.ino = d->d_ino,
				.cookie = (uint64_t)d->d_off,
				.type = d->d_type,
			};
			if (!fn(ctx, s->fd, &de))
				return 0;
			s->pos = de.cookie;
			s->off += d->d_reclen;
		}
	}
}

int fs_readdir(int fd, const struct stat *st, uint64_t cookie, size_t want, fs_dirent_fn fn,
	       void *ctx, bool *eof)
{
	*eof = false;
	struct dstream s = { .fd = -1 };
	int rc;
	if (cookie != 0 && stream_take(st->st_dev, st->st_ino, cookie, &s)) {
		/* Opened for another caller maybe: this one must be allowed to list. */
		rc = fs_access(fd, R_OK | X_OK);
		if (rc < 0) {
			stream_keep(&s);
			return rc;
		}
	} else {
		rc = stream_open(fd, cookie, &s);
		if (rc < 0)
			return rc;
		s.dev = st->st_dev;
		s.ino = st->st_ino;
	}
	rc = stream_feed(&s, want, fn, ctx, eof);
	if (rc == 0 && !*eof && s.pos != 0)
		stream_keep(&s);
	else
		stream_close(&s);
	return rc;
}

/* Close the kept streams that match; outside the lock. */
static void streams_drop(bool (*match)(const struct dstream *, const void *), const void *arg)
{
	struct dstream drop[STREAM_SLOTS];
	unsigned n = 0;
	pthread_mutex_lock(&S.lock);
	slots_init();
	for (unsigned i = 0; i < STREAM_SLOTS; i++) {
		struct dstream *s = &S.slot[i];
		if (s->fd >= 0 && match(s, arg)) {
			drop[n++] = *s;
			s->fd = -1;
			s->buf = NULL;
		}
	}
	pthread_mutex_unlock(&S.lock);
	for (unsigned i = 0; i < n; i++)
		stream_close(&drop[i]);
}

struct ident {
	dev_t dev;
	ino_t ino;
};

static bool match_ident(const struct dstream *s, const void *arg)
{
	const struct ident *id = arg;
	return s->dev == id->dev && s->ino == id->ino;
}

static bool match_idle(const struct dstream *s, const void *arg)
{
	const double *cutoff = arg;
	return s->last_used <= *cutoff;
}

void fs_readdir_forget(dev_t dev, ino_t ino)
{
	struct ident id = { dev, ino };
	streams_drop(match_ident, &id);
}

void fs_readdir_sweep(double idle_seconds)
{
	double cutoff = mono_s() - idle_seconds;
	streams_drop(match_idle, &cutoff);
}
