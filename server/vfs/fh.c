/*
 * File handle encoding, authentication and resolution, and the cache of
 * resolved objects.
 *
 * Wire layout (all big-endian), 24 + khlen bytes, at most 64:
 *   0      version (1)
 *   1      ftype3 of the object (informational)
 *   2      export index
 *   3      khlen: length of the kernel handle at 24
 *   4..7   kernel handle type (name_to_handle_at)
 *   8..15  inode number
 *   16..23 SipHash-2-4 of bytes 0..15 and the kernel handle
 *   24..   kernel handle (inode + generation, as the filesystem encodes it)
 */
#define _GNU_SOURCE
#include "fh.h"
#include "clock.h"
#include "fs.h"
#include "fs_watch.h"

#include "cred.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FH_VERSION 1
#define FH_KEYLEN 16 /* bytes 0..15: identity without the MAC */

#define CACHE_BUCKETS 16384
#define CACHE_MAX_DEFAULT 8192
#define ANCESTRY_MAX_DEPTH 4096
#define SEARCH_MAX_ENTRIES (4u << 20)

struct fsent {
	int fd; /* O_PATH */
	dev_t dev; /* identity, immutable */
	ino_t ino;
	struct export *ex;
	/* Lazily opened read/write descriptor for regular files (READ/WRITE). */
	pthread_mutex_t io_lock;
	/*
	 * Buffered writes to a file, and name changes in a directory, serialise
	 * on the inode lock in the kernel, where waiters spin (a core lost on a
	 * small machine): they queue here instead, asleep.
	 */
	pthread_mutex_t write_lock;
	int io_fd;
	int io_fd_old; /* a read-only fd replaced by a read-write one; closed with the entry */
	int io_flags;
	uint8_t key[FH_KEYLEN + FH_KH_MAX];
	unsigned keylen;
	int refs;
	/* fs_watch epoch at which the object was last proven inside the export; 0: never */
	atomic_uint_fast64_t verified;
	struct fsent *hnext, *lprev, *lnext;
	double last_used;
	bool unhashed;
};

static unsigned char mac_key[crypto_shorthash_KEYBYTES];

static struct {
	pthread_mutex_t lock;
	struct fsent *buckets[CACHE_BUCKETS];
	struct fsent *lru_head, *lru_tail; /* head = most recent */
	unsigned count, max;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER, .max = CACHE_MAX_DEFAULT };

/* ---- key ---- */

static int load_key(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = read(fd, mac_key, sizeof(mac_key));
		close(fd);
		return n == (ssize_t)sizeof(mac_key) ? 0 : -EINVAL;
	}
	if (errno != ENOENT)
		return -errno;
	randombytes_buf(mac_key, sizeof(mac_key));
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	bool ok = write(fd, mac_key, sizeof(mac_key)) == (ssize_t)sizeof(mac_key) &&
		  fsync(fd) == 0;
	close(fd);
	/* link() instead of rename(): two servers starting at once agree on one key. */
	if (!ok || link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		if (ok && e == EEXIST)
			return load_key(path);
		return -(ok ? e : EIO);
	}
	unlink(tmp);
	return 0;
}

int fh_init(const char *state_dir)
{
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return -1;
	}
	char path[PATH_MAX];
	int rc = -ENOENT;
	if (state_dir) {
		mkdir(state_dir, 0700);
		if (snprintf(path, sizeof(path), "%s/handle.key", state_dir) < (int)sizeof(path))
			rc = load_key(path);
	}
	if (rc != 0) {
		randombytes_buf(mac_key, sizeof(mac_key));
		log_warn("no usable state directory (%s): file handles will not survive a "
			 "restart of loopnfsd",
			 state_dir ? strerror(-rc) : "none given");
	}
	return 0;
}

/* ---- encoding ---- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void fh_mac(const uint8_t *h, unsigned len, uint8_t out[8])
{
	uint8_t msg[FH_SIZE_MAX];
	memcpy(msg, h, FH_KEYLEN);
	memcpy(msg + FH_KEYLEN, h + FH_HDR, len - FH_HDR);
	crypto_shorthash(out, msg, len - (FH_HDR - FH_KEYLEN), mac_key);
}

static uint8_t ftype_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return NF3REG;
	case S_IFDIR: return NF3DIR;
	case S_IFBLK: return NF3BLK;
	case S_IFCHR: return NF3CHR;
	case S_IFLNK: return NF3LNK;
	case S_IFSOCK: return NF3SOCK;
	default: return NF3FIFO;
	}
}

void fh_kernel_handle(int dirfd, const char *name, struct fh_kh *kh)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} k;
	int mount_id;
	kh->len = 0;
	kh->type = 0;
	k.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dirfd, name, &k.fh, &mount_id, name[0] ? 0 : AT_EMPTY_PATH) == 0 &&
	    k.fh.handle_bytes <= FH_KH_MAX) {
		kh->len = k.fh.handle_bytes;
		kh->type = (uint32_t)k.fh.handle_type;
		memcpy(kh->bytes, k.fh.f_handle, kh->len);
	}
	/* else: no export support on this fs; resolution falls back to searching. */
}

void fh_encode(struct export *ex, const struct stat *st, const struct fh_kh *kh,
	       struct fh_buf *out)
{
	uint8_t *h = out->data;
	h[0] = FH_VERSION;
	h[1] = ftype_of(st->st_mode);
	h[2] = (uint8_t)ex->idx;
	h[3] = (uint8_t)kh->len;
	put_be32(h + 4, kh->type);
	put_be64(h + 8, (uint64_t)st->st_ino);
	memcpy(h + FH_HDR, kh->bytes, kh->len);
	out->len = FH_HDR + kh->len;
	fh_mac(h, out->len, h + 16);
}

int fh_make(struct export *ex, int dirfd, const char *name, const struct stat *st,
	    uint64_t parent_ino, struct fh_buf *out)
{
	(void)parent_ino; /* handles must be canonical per object, so no parent hint */
	struct fh_kh kh;
	fh_kernel_handle(dirfd, name, &kh);
	fh_encode(ex, st, &kh, out);
	return 0;
}

int fh_make_obj(struct fsobj *obj, uint64_t parent_ino, struct fh_buf *out)
{
	return fh_make(obj->ex, obj->fd, "", &obj->st, parent_ino, out);
}

/* ---- cache ---- */

static unsigned bucket_of(unsigned exidx, uint64_t ino)
{
	uint64_t x = ino * 0x9E3779B97F4A7C15ull ^ exidx;
	return (unsigned)(x >> 32) % CACHE_BUCKETS;
}

static void lru_unlink(struct fsent *o)
{
	if (o->lprev)
		o->lprev->lnext = o->lnext;
	else
		C.lru_head = o->lnext;
	if (o->lnext)
		o->lnext->lprev = o->lprev;
	else
		C.lru_tail = o->lprev;
	o->lprev = o->lnext = NULL;
}

static void lru_push_front(struct fsent *o)
{
	o->lnext = C.lru_head;
	o->lprev = NULL;
	if (C.lru_head)
		C.lru_head->lprev = o;
	C.lru_head = o;
	if (!C.lru_tail)
		C.lru_tail = o;
}

static void obj_free(struct fsent *o)
{
	if (o->io_fd >= 0)
		close(o->io_fd);
	if (o->io_fd_old >= 0)
		close(o->io_fd_old);
	close(o->fd);
	pthread_mutex_destroy(&o->io_lock);
	pthread_mutex_destroy(&o->write_lock);
	free(o);
}

/*
 * Entries unhashed with no reference left, to be freed once C.lock is
 * released: closing a descriptor that was written can take a while, and
 * every request waits on C.lock.
 */
struct dead {
	struct fsent *list;
};

static void dead_free(struct dead *d)
{
	while (d->list) {
		struct fsent *o = d->list;
		d->list = o->hnext;
		obj_free(o);
	}
}

/* Remove from the table; freed when the last reference goes. Lock held. */
static void cache_unhash(struct fsent *o, struct dead *d)
{
	if (o->unhashed)
		return;
	unsigned b = bucket_of(o->ex->idx, o->ino);
	for (struct fsent **pp = &C.buckets[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == o) {
			*pp = o->hnext;
			break;
		}
	}
	lru_unlink(o);
	o->unhashed = true;
	C.count--;
	if (o->refs == 0) {
		o->hnext = d->list;
		d->list = o;
	}
}

static struct fsent *cache_lookup(const uint8_t *key, unsigned keylen, unsigned exidx, uint64_t ino)
{
	pthread_mutex_lock(&C.lock);
	struct fsent *o = C.buckets[bucket_of(exidx, ino)];
	for (; o; o = o->hnext)
		if (o->keylen == keylen && memcmp(o->key, key, keylen) == 0)
			break;
	if (o) {
		o->refs++;
		lru_unlink(o);
		lru_push_front(o);
	}
	pthread_mutex_unlock(&C.lock);
	return o;
}

/* Insert o (refs already 1 for the caller); returns the cached twin if one raced in. */
static struct fsent *cache_insert(struct fsent *o)
{
	pthread_mutex_lock(&C.lock);
	unsigned b = bucket_of(o->ex->idx, o->ino);
	for (struct fsent *x = C.buckets[b]; x; x = x->hnext) {
		if (x->keylen == o->keylen && memcmp(x->key, o->key, o->keylen) == 0) {
			x->refs++;
			pthread_mutex_unlock(&C.lock);
			obj_free(o);
			return x;
		}
	}
	o->hnext = C.buckets[b];
	C.buckets[b] = o;
	lru_push_front(o);
	C.count++;
	/* Evict the least recently used objects nobody holds. */
	struct dead d = { NULL };
	for (struct fsent *v = C.lru_tail; v && C.count > C.max;) {
		struct fsent *prev = v->lprev;
		if (v->refs == 0)
			cache_unhash(v, &d);
		v = prev;
	}
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
	return o;
}

static void fsent_put(struct fsent *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&C.lock);
	o->last_used = mono_s();
	bool gone = --o->refs == 0 && o->unhashed;
	pthread_mutex_unlock(&C.lock);
	if (gone)
		obj_free(o);
}

void fh_forget(struct export *ex, dev_t dev, ino_t ino)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	struct fsent *o = C.buckets[bucket_of(ex->idx, ino)], *next;
	for (; o; o = next) {
		next = o->hnext;
		if (o->ex == ex && o->ino == ino && o->dev == dev)
			cache_unhash(o, &d);
	}
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
	fs_readdir_forget(dev, ino);
}

/*
 * Every 5 s, over the whole cache: held entries are skipped, and the
 * fstat of each of the others is made without C.lock (thousands of them
 * would keep every request waiting for milliseconds). The references the
 * sweep takes meanwhile keep the entries alive; an idle descriptor is
 * only detached where the sweep's is the only reference, under the lock,
 * and closed after it.
 */
struct sweep_item {
	struct fsent *o;
	bool gone;
	int idle_fd[2];
};

void fh_cache_sweep(double idle_seconds)
{
	pthread_mutex_lock(&C.lock);
	unsigned n = 0, cap = C.count;
	struct sweep_item *v = cap ? calloc(cap, sizeof(*v)) : NULL;
	for (struct fsent *o = C.lru_tail; v && o && n < cap; o = o->lprev) {
		if (o->refs == 0) {
			o->refs++;
			v[n++].o = o;
		}
	}
	pthread_mutex_unlock(&C.lock);
	if (!v)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct stat st;
		v[i].gone = fstat(v[i].o->fd, &st) < 0 || st.st_nlink == 0;
	}

	double now = mono_s();
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	for (unsigned i = 0; i < n; i++) {
		struct fsent *o = v[i].o;
		bool last = --o->refs == 0;
		v[i].idle_fd[0] = v[i].idle_fd[1] = -1;
		if (o->unhashed) {
			if (last) {
				o->hnext = d.list;
				d.list = o;
			}
		} else if (v[i].gone) {
			cache_unhash(o, &d); /* removed behind our back: let the space go */
		} else if (last && o->io_fd >= 0 && now - o->last_used > idle_seconds) {
			v[i].idle_fd[0] = o->io_fd;
			v[i].idle_fd[1] = o->io_fd_old;
			o->io_fd = o->io_fd_old = -1;
		}
	}
	pthread_mutex_unlock(&C.lock);
	for (unsigned i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (v[i].idle_fd[k] >= 0)
				close(v[i].idle_fd[k]);
	dead_free(&d);
	free(v);
}

void fh_shutdown(void)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	while (C.lru_head) {
		struct fsent *o = C.lru_head;
		/* Frees it unless a request still holds it (then the last put does). */
		cache_unhash(o, &d);
	}
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}

/* ---- resolution ---- */

static bool same_obj(const struct stat *a, dev_t dev, ino_t ino)
{
	return a->st_dev == dev && a->st_ino == ino;
}

/*
 * A directory is inside the export when walking ".." reaches the export root
 * before the filesystem root. This catches directories moved out of the
 * export after their handle was issued.
 */
static bool dir_inside_export(struct export *ex, int fd)
{
	int cur = dup(fd);
	bool inside = false;
	for (int depth = 0; cur >= 0 && depth < ANCESTRY_MAX_DEPTH; depth++) {
		struct stat st;
		if (fstat(cur, &st) < 0 || st.st_dev != ex->dev)
			break;
		if (st.st_ino == ex->root_ino) {
			inside = true;
			break;
		}
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct stat ust;
		if (up < 0 || fstat(up, &ust) < 0 || same_obj(&ust, st.st_dev, st.st_ino)) {
			if (up >= 0)
				close(up);
			break; /* reached the filesystem root */
		}
		close(cur);
		cur = up;
	}
	if (cur >= 0)
		close(cur);
	return inside;
}

struct search {
	struct export *ex;
	uint64_t ino;
	const uint8_t *kh;
	unsigned khlen;
	unsigned long visited;
	int found_fd;
};

static bool search_match(struct search *s, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) == 0 && same_obj(&st, s->ex->dev, s->ino)) {
		struct fh_buf b;
		fh_make(s->ex, fd, "", &st, 0, &b);
		if (b.len - FH_HDR == s->khlen && memcmp(b.data + FH_HDR, s->kh, s->khlen) == 0) {
			s->found_fd = fd;
			return true;
		}
	}
	close(fd);
	return false;
}

/* Depth-first walk of the export for an inode: the fallback without open_by_handle_at. */
static bool search_dir(struct search *s, int dirfd, int depth)
{
	if (depth > 256)
		return false;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)) && s->visited++ < SEARCH_MAX_ENTRIES) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_ino == s->ino && search_match(s, dfd, de->d_name)) {
			found = true;
			break;
		}
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int sub = openat(dfd, de->d_name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			struct stat st;
			if (fstat(sub, &st) == 0 && st.st_dev == s->ex->dev)
				found = search_dir(s, sub, depth + 1);
			close(sub);
		}
	}
	closedir(d);
	return found;
}

static int open_by_kernel_handle(struct export *ex, const uint8_t *h, unsigned khlen)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + FH_KH_MAX];
	} k;
	k.fh.handle_bytes = khlen;
	k.fh.handle_type = (int)get_be32(h + 4);
	memcpy(k.fh.f_handle, h + FH_HDR, khlen);
	int fd = open_by_handle_at(ex->mount_fd, &k.fh, O_PATH | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

enum where { INSIDE, OUTSIDE, UNKNOWN };

/*
 * Where is the object behind fd now? The kernel keeps the path of an open
 * dentry current across renames, so /proc/self/fd tells whether it still
 * lies under the export root, whoever moved it. UNKNOWN when the dentry is
 * not connected to a path (or /proc is missing): the caller must search.
 */
static enum where obj_where(struct export *ex, int fd)
{
	char path[PATH_MAX];
	ssize_t n = fs_fd_path(fd, path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/')
		return UNKNOWN;
	path[n] = '\0';
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;
	/* Unlinked under this name: maybe still linked elsewhere; look again. */
	if ((size_t)n > dl && strcmp(path + n - dl, deleted) == 0)
		return UNKNOWN;
	size_t pl = strlen(ex->path);
	if (pl == 1)
		return INSIDE; /* the export is "/" */
	if (strncmp(path, ex->path, pl) == 0 && (path[pl] == '\0' || path[pl] == '/'))
		return INSIDE;
	return OUTSIDE;
}

/*
 * Decide whether fd (the object of handle h) is inside the export. Files can
 * sit outside under one name and inside under another (hard links), or be
 * reachable only through a dentry with no path: those are searched for by
 * name from the export root, and *fd is replaced with the descriptor found.
 */
static bool obj_inside_export(struct export *ex, const uint8_t *h, int *fd, bool is_dir)
{
	enum where w = obj_where(ex, *fd);
	if (w == INSIDE)
		return true;
	if (is_dir) {
		/* A directory has one place: "..", walked to the root, is the truth. */
		return w == UNKNOWN && dir_inside_export(ex, *fd);
	}
	struct search s = { ex, get_be64(h + 8), h + FH_HDR, h[3], 0, -1 };
	cred_escalate();
	bool found = search_dir(&s, ex->root_fd, 0);
	cred_restore();
	if (!found)
		return false;
	close(*fd);
	*fd = s.found_fd;
	return true;
}

/* Find the object named by a verified handle without the cache. */
static nfsstat3 fh_open_uncached(struct export *ex, const uint8_t *h, unsigned len, int *out_fd)
{
	uint64_t ino = get_be64(h + 8);
	unsigned khlen = h[3];
	int fd = -ESTALE;

	cred_escalate();
	if (ino == ex->root_ino) {
		fd = openat(ex->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	} else if (khlen > 0 && cred_server_is_root()) {
		fd = open_by_kernel_handle(ex, h, khlen);
		/*
		 * ENOMEM here is transient more often than not: the inode of a
		 * just-removed file being evicted while we look it up. Look once
		 * more before telling the client to retry (JUKEBOX).
		 */
		if (fd == -ENOMEM) {
			sched_yield();
			fd = open_by_kernel_handle(ex, h, khlen);
		}
	} else {
		struct search s = { ex, ino, h + FH_HDR, khlen, 0, -1 };
		if (search_dir(&s, ex->root_fd, 0))
			fd = s.found_fd;
	}

	nfsstat3 st = NFS3_OK;
	struct stat sb;
	if (fd < 0) {
		st = fd == -ENOMEM ? NFS3ERR_JUKEBOX : NFS3ERR_STALE;
	} else if (fstat(fd, &sb) < 0 || !same_obj(&sb, ex->dev, (ino_t)ino) || sb.st_nlink == 0) {
		st = NFS3ERR_STALE;
	} else if (!obj_inside_export(ex, h, &fd, S_ISDIR(sb.st_mode))) {
		log_info("handle names an object outside export %s: stale", ex->path);
		st = NFS3ERR_STALE;
	}
	cred_restore();
	if (st != NFS3_OK && fd >= 0)
		close(fd);
	else
		*out_fd = fd;
	return st;
}

static nfsstat3 fh_verify(const nfs_fh3 *fh, struct export **ex)
{
	const uint8_t *h = (const uint8_t *)fh->data.data_val;
	unsigned len = fh->data.data_len;
	if (len < FH_HDR || len > FH_SIZE_MAX || h[0] != FH_VERSION || h[3] != len - FH_HDR)
		return NFS3ERR_BADHANDLE;
	uint8_t mac[8];
	fh_mac(h, len, mac);
	if (sodium_memcmp(mac, h + 16, 8) != 0)
		return NFS3ERR_BADHANDLE;
	*ex = export_get(h[2]);
	/* An export that went away makes its handles stale, not bad. */
	return *ex ? NFS3_OK : NFS3ERR_STALE;
}

static struct fsent *fsent_new(struct export *ex, int fd, const struct stat *st,
			       const uint8_t *key, unsigned keylen)
{
	struct fsent *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = fd;
	o->io_fd = -1;
	o->io_fd_old = -1;
	o->ex = ex;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	o->refs = 1;
	pthread_mutex_init(&o->io_lock, NULL);
	pthread_mutex_init(&o->write_lock, NULL);
	memcpy(o->key, key, keylen);
	o->keylen = keylen;
	return o;
}

static unsigned fh_key(const uint8_t *h, uint8_t *key)
{
	memcpy(key, h, FH_KEYLEN);
	key[1] = 0; /* ftype is not identity */
	memcpy(key + FH_KEYLEN, h + FH_HDR, h[3]);
	return FH_KEYLEN + h[3];
}

/* Only objects on the watched filesystem: a rename on a submount goes unseen. */
static bool epoch_tracks(bool watched, const struct export *ex, dev_t dev)
{
	return watched && dev == ex->dev;
}

/* cached_only: a miss (or anything but a live cached object inside) sets *miss. */
static nfsstat3 fh_lookup_or_open(const uint8_t *h, unsigned len, struct export *ex,
				  bool cached_only, bool *miss, struct fsent **out,
				  struct stat *st, uint64_t *proven_epoch)
{
	uint8_t key[FH_KEYLEN + FH_KH_MAX];
	unsigned keylen = fh_key(h, key);
	uint64_t ino = get_be64(h + 8);

	/* Read before any check, so a rename during the check makes it stale. */
	uint64_t epoch = 0;
	bool watched = fs_watch_epoch(ex->watch, &epoch);
	struct fsent *o = cache_lookup(key, keylen, ex->idx, ino);
	if (o) {
		bool alive = fstat(o->fd, st) == 0 && st->st_nlink > 0;
		bool tracked = epoch_tracks(watched, ex, o->dev);
		bool proven = tracked && atomic_load(&o->verified) == epoch;
		if (alive && (proven || obj_where(ex, o->fd) == INSIDE)) {
			if (tracked) {
				atomic_store(&o->verified, epoch);
				*proven_epoch = epoch;
			}
			*out = o;
			return NFS3_OK;
		}
		if (cached_only) {
			fsent_put(o);
			*miss = true;
			return NFS3ERR_JUKEBOX;
		}
		/*
		 * Gone, or moved where the cached descriptor no longer proves it is
		 * inside: forget it and look again from the handle.
		 */
		struct dead d = { NULL };
		pthread_mutex_lock(&C.lock);
		cache_unhash(o, &d); /* held by us: not dead yet */
		pthread_mutex_unlock(&C.lock);
		dead_free(&d);
		fsent_put(o);
		if (!alive)
			return NFS3ERR_STALE;
	} else if (cached_only) {
		*miss = true;
		return NFS3ERR_JUKEBOX;
	}

	int fd;
	nfsstat3 rc = fh_open_uncached(ex, h, len, &fd);
	if (rc != NFS3_OK)
		return rc;
	if (fstat(fd, st) < 0) {
		close(fd);
		return NFS3ERR_STALE;
	}
	o = fsent_new(ex, fd, st, key, keylen);
	if (!o) {
		close(fd);
		return NFS3ERR_JUKEBOX;
	}
	if (epoch_tracks(watched, ex, o->dev)) {
		atomic_store(&o->verified, epoch); /* fh_open_uncached proved it inside */
		*proven_epoch = epoch;
	}
	*out = cache_insert(o);
	return NFS3_OK;
}

/*
 * A name opened in a directory proven inside at epoch E is inside too, as
 * long as nothing was renamed or removed since E was read: then the
 * directory was still inside when the name was looked up in it.
 */
static uint64_t adopted_epoch(const struct fsobj *dir, const struct stat *st)
{
	uint64_t now;
	if (!dir->proven_epoch || !fs_watch_epoch(dir->ex->watch, &now))
		return 0;
	return now == dir->proven_epoch && epoch_tracks(true, dir->ex, st->st_dev) ? now : 0;
}

void fh_adopt(const struct fsobj *dir, int fd, int io_fd, const struct stat *st,
	      const struct fh_buf *fh)
{
	struct export *ex = dir->ex;
	uint8_t key[FH_KEYLEN + FH_KH_MAX];
	unsigned keylen = fh_key(fh->data, key);
	uint64_t epoch = adopted_epoch(dir, st);
	struct fsent *o = cache_lookup(key, keylen, ex->idx, st->st_ino);
	if (o) {
		close(fd);
	} else {
		o = fsent_new(ex, fd, st, key, keylen);
		if (!o) {
			close(fd);
			if (io_fd >= 0)
				close(io_fd);
			return;
		}
		o = cache_insert(o);
	}
	if (epoch)
		atomic_store(&o->verified, epoch);
	if (io_fd >= 0) {
		pthread_mutex_lock(&o->io_lock);
		if (o->io_fd < 0) {
			o->io_fd = io_fd;
			o->io_flags = O_RDWR;
			io_fd = -1;
		}
		pthread_mutex_unlock(&o->io_lock);
		if (io_fd >= 0)
			close(io_fd);
	}
	fsent_put(o);
}

void fsobj_put(struct fsobj *obj)
{
	if (!obj)
		return;
	fsent_put(obj->ent);
	free(obj);
}

nfsstat3 fh_resolve(struct req *req, const nfs_fh3 *fh, struct fsobj **out)
{
	struct export *ex;
	*out = NULL;
	nfsstat3 rc = fh_verify(fh, &ex);
	if (rc != NFS3_OK)
		return rc;
	struct fsobj *obj = malloc(sizeof(*obj));
	if (!obj)
		return NFS3ERR_JUKEBOX;
	obj->proven_epoch = 0;
	rc = fh_lookup_or_open((const uint8_t *)fh->data.data_val, fh->data.data_len, ex,
			       req->cached_only, &req->need_worker, &obj->ent, &obj->st,
			       &obj->proven_epoch);
	if (rc != NFS3_OK) {
		free(obj);
		return rc;
	}
	obj->fd = obj->ent->fd;
	obj->ex = ex;
	if (!req->ex && req_enter_export(req, ex) != 0) {
		fsobj_put(obj);
		return NFS3ERR_SERVERFAULT;
	}
	*out = obj;
	return NFS3_OK;
}

nfsstat3 fh_resolve_root(struct req *req, struct export *ex, struct fsobj **out)
{
	struct stat st;
	struct fh_buf b;
	if (fstat(ex->root_fd, &st) < 0)
		return NFS3ERR_STALE;
	fh_make(ex, ex->root_fd, "", &st, 0, &b);
	nfs_fh3 fh;
	fh_to_wire(&b, &fh);
	return fh_resolve(req, &fh, out);
}

int fsobj_refresh(struct fsobj *obj)
{
	return fstat(obj->fd, &obj->st) < 0 ? -errno : 0;
}

int fsobj_io_fd(struct fsobj *view, bool write)
{
	struct fsent *obj = view->ent;
	int want = write ? O_RDWR : O_RDONLY;
	pthread_mutex_lock(&obj->io_lock);
	if (obj->io_fd >= 0 && (obj->io_flags == O_RDWR || obj->io_flags == want)) {
		int fd = obj->io_fd;
		pthread_mutex_unlock(&obj->io_lock);
		return fd;
	}
	/*
	 * Reopen the O_PATH descriptor through /proc: no name lookup, so it is
	 * the same inode. Opened as the server; callers check the caller's access.
	 */
	cred_escalate();
	int fd = fs_reopen(obj->fd, O_RDWR | O_NOCTTY);
	int flags = O_RDWR;
	if (fd < 0 && !write) {
		fd = fs_reopen(obj->fd, O_RDONLY | O_NOCTTY);
		flags = O_RDONLY;
	}
	cred_restore();
	if (fd < 0) {
		pthread_mutex_unlock(&obj->io_lock);
		return fd;
	}
	if (obj->io_fd >= 0) {
		/* Another request may be reading through it right now. */
		if (obj->io_fd_old >= 0)
			close(obj->io_fd_old);
		obj->io_fd_old = obj->io_fd;
	}
	obj->io_fd = fd;
	obj->io_flags = flags;
	pthread_mutex_unlock(&obj->io_lock);
	return fd;
}

void fsobj_write_lock(struct fsobj *obj)
{
	pthread_mutex_lock(&obj->ent->write_lock);
}

void fsobj_write_unlock(struct fsobj *obj)
{
	pthread_mutex_unlock(&obj->ent->write_lock);
}

/* Both, in a fixed order (rename across directories); once when the same. */
void fsobj_write_lock2(struct fsobj *a, struct fsobj *b)
{
	if (a->ent == b->ent) {
		fsobj_write_lock(a);
		return;
	}
	bool a_first = (uintptr_t)a->ent < (uintptr_t)b->ent;
	fsobj_write_lock(a_first ? a : b);
	fsobj_write_lock(a_first ? b : a);
}

void fsobj_write_unlock2(struct fsobj *a, struct fsobj *b)
{
	fsobj_write_unlock(a);
	if (a->ent != b->ent)
		fsobj_write_unlock(b);
}
