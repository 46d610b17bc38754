/*
 * fs_watch: a filesystem-wide fanotify mark for names moved away or
 * deleted (directories included). fsnotify queues the event before the
 * rename or unlink returns, so a poll that finds the queue empty proves no
 * such change finished since the last drain. Nobody reads the events
 * themselves: any event moves the epoch on.
 */
#define _GNU_SOURCE
#include "fs_watch.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

struct fs_watch {
	int fd;
	pthread_mutex_t lock; /* one drainer at a time */
	atomic_uint_fast64_t epoch;
	atomic_bool draining; /* events may be read but not yet counted */
	atomic_bool broken;
};

struct fs_watch *fs_watch_open(int dirfd)
{
	/*
	 * The default bounded queue: an idle server on a busy filesystem keeps
	 * at most 16384 events, and a full queue still reads as "something
	 * changed" (its overflow event).
	 */
	int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK | FAN_CLOEXEC,
			       O_RDONLY);
	if (fd < 0) {
		log_info("no fanotify (%s): every cached handle is checked by its path",
			 strerror(errno));
		return NULL;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
			  FAN_MOVED_FROM | FAN_DELETE | FAN_ONDIR, dirfd, NULL) < 0) {
		log_info("cannot watch the export's filesystem (%s): every cached handle is "
			 "checked by its path",
			 strerror(errno));
		close(fd);
		return NULL;
	}
	struct fs_watch *w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return NULL;
	}
	w->fd = fd;
	pthread_mutex_init(&w->lock, NULL);
	atomic_init(&w->epoch, 1);
	return w;
}

void fs_watch_close(struct fs_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Read every queued event; true if there were any. w->lock held. */
static bool drain(struct fs_watch *w)
{
	char buf[4096];
	bool any = false;
	ssize_t n;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		any = any || n > 0;
	if (n < 0 && errno != EAGAIN) {
		log_warn("fanotify read failed (%s): checking every cached handle by its path",
			 strerror(errno));
		atomic_store(&w->broken, true);
	}
	return any;
}

bool fs_watch_epoch(struct fs_watch *w, uint64_t *epoch)
{
	if (!w || atomic_load(&w->broken))
		return false;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int r = poll(&p, 1, 0);
	if (r < 0)
		return false;
	/*
	 * Nothing queued, and nobody holding events not yet counted: their
	 * drainer counts them before it clears the flag.
	 */
	if (r == 0 && !atomic_load(&w->draining)) {
		*epoch = atomic_load(&w->epoch);
		return true;
	}
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->draining, true);
	if (drain(w))
		atomic_fetch_add(&w->epoch, 1);
	atomic_store(&w->draining, false);
	*epoch = atomic_load(&w->epoch);
	pthread_mutex_unlock(&w->lock);
	return !atomic_load(&w->broken);
}
