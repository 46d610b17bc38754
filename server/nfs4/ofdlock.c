/*
 * The lock hooks as Linux OFD locks (F_OFD_SETLK, F_OFD_GETLK): each NFS
 * lock-owner gets its own open file description of the file, so the kernel
 * keeps its locks apart from every other owner's, merges and splits them as
 * POSIX does for one process, and makes them conflict with the fcntl and
 * OFD locks of local processes (not with flock(2): that is another lock
 * space). Closing the descriptor lets all of an owner's locks go at once.
 *
 * fcntl offsets are signed: a range starting beyond 2^63 - 1 cannot be held
 * there, nor conflict with anything local, and is left to the state core;
 * one reaching past it is held to the end of the file (l_len 0).
 */
#define _GNU_SOURCE
#include "nfs4_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct ofd_owner {
	int fd;
};

/* Reopen the file through its descriptor: O_PATH ones too. */
static int reopen(int fd, int flags)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

static int ofd_owner_open(void *arg, void *file_ctx, void **owner_ctx)
{
	(void)arg;
	const struct st4_ofd_file *f = file_ctx;
	/* Write locks need a descriptor open for writing, read locks one for reading. */
	int fd = reopen(f->fd, O_RDWR);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ETXTBSY || errno == EPERM))
		fd = reopen(f->fd, O_RDONLY);
	if (fd < 0)
		return -errno;
	struct ofd_owner *o = malloc(sizeof(*o));
	if (!o) {
		close(fd);
		return -ENOMEM;
	}
	o->fd = fd;
	*owner_ctx = o;
	return 0;
}

static void ofd_owner_close(void *arg, void *owner_ctx)
{
	(void)arg;
	struct ofd_owner *o = owner_ctx;
	close(o->fd);
	free(o);
}

/* false: the range lies wholly beyond what fcntl can name. */
static bool to_flock(enum st4_lock_type type, uint64_t start, uint64_t end, struct flock *fl)
{
	if (start > (uint64_t)INT64_MAX)
		return false;
	fl->l_type = type == ST4_LOCK_WRITE ? F_WRLCK : type == ST4_LOCK_READ ? F_RDLCK : F_UNLCK;
	fl->l_whence = SEEK_SET;
	fl->l_start = (off_t)start;
	fl->l_len = end >= (uint64_t)INT64_MAX ? 0 : (off_t)(end - start + 1);
	fl->l_pid = 0; /* OFD locks require it */
	return true;
}

static void from_flock(const struct flock *fl, struct st4_hook_conflict *c)
{
	c->start = (uint64_t)fl->l_start;
	c->end = fl->l_len == 0 ? UINT64_MAX : (uint64_t)fl->l_start + (uint64_t)fl->l_len - 1;
	c->type = fl->l_type == F_WRLCK ? ST4_LOCK_WRITE : ST4_LOCK_READ;
}

/* Who is in the way of fl on fd (F_OFD_GETLK): -EAGAIN with *c, 0 if nobody, -errno. */
static int probe(int fd, struct flock fl, struct st4_hook_conflict *c)
{
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	if (fl.l_type == F_UNLCK)
		return 0;
	from_flock(&fl, c);
	return -EAGAIN;
}

static int ofd_apply(void *arg, void *owner_ctx, enum st4_lock_type type, uint64_t start,
		     uint64_t end, struct st4_hook_conflict *conflict)
{
	(void)arg;
	const struct ofd_owner *o = owner_ctx;
	struct flock fl;
	if (!to_flock(type, start, end, &fl))
		return 0;
	if (fcntl(o->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e != EAGAIN && e != EACCES)
		return -e;
	int rc = probe(o->fd, fl, conflict);
	if (rc == 0) {
		/* Gone between the two calls: say so with the range asked for. */
		*conflict = (struct st4_hook_conflict){ .start = start, .end = end, .type = type };
	}
	return -EAGAIN;
}

static int ofd_test(void *arg, void *file_ctx, void *owner_ctx, enum st4_lock_type type,
		    uint64_t start, uint64_t end, struct st4_hook_conflict *conflict)
{
	(void)arg;
	struct flock fl;
	if (!to_flock(type, start, end, &fl))
		return 0;
	if (owner_ctx)
		return probe(((const struct ofd_owner *)owner_ctx)->fd, fl, conflict);
	int fd = reopen(((const struct st4_ofd_file *)file_ctx)->fd, O_RDONLY);
	if (fd < 0)
		return -errno;
	int rc = probe(fd, fl, conflict);
	close(fd);
	return rc;
}

const struct st4_lock_hooks st4_ofd_hooks = {
	.owner_open = ofd_owner_open,
	.owner_close = ofd_owner_close,
	.apply = ofd_apply,
	.test = ofd_test,
};

int st4_ofd_probe(void)
{
	int fd = memfd_create("loopnfs-ofd-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc = fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -errno : 0;
	close(fd);
	return rc;
}
