/* Filesystem layer: descriptor-relative calls only. */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_open_child(int dirfd, const char *name, int *fd_out, struct stat *st)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fd_out = fd;
	return 0;
}

int fs_readlink(int fd, char *buf, size_t len)
{
	ssize_t n = readlinkat(fd, "", buf, len);
	if (n < 0)
		return errno == ENOENT ? -EINVAL : -errno; /* not a symlink */
	return (int)n;
}

int fs_open_beneath_how(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return errno == ENOSYS ? -EACCES : -errno; /* no safe way to walk a path: refuse */
	return fd;
}

int fs_open_beneath(int dirfd, const char *path)
{
	return fs_open_beneath_how(dirfd, path, O_PATH | O_DIRECTORY, RESOLVE_NO_XDEV);
}

ssize_t fs_pread(int iofd, void *buf, size_t len, uint64_t off)
{
	size_t n = 0;
	while (n < len) {
		ssize_t r = pread(iofd, (char *)buf + n, len - n, (off_t)(off + n));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

int fs_access(int fd, int mode)
{
	/* AT_EACCESS: check with the thread's fsuid/fsgid, i.e. the caller's. */
	if (syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
		return -errno;
	return 0;
}

/*
 * /proc/self/fd, opened once per process: reading or opening descriptor
 * N's magic link is then a lookup of one name instead of a walk of
 * /proc/self/fd/N. The walk was two thirds of readlink's cost, and every
 * resolve of a cached handle read one. A fork child forgets it: it names
 * the parent's descriptors.
 */
static struct {
	pthread_mutex_t lock;
	atomic_int dirfd;
	atomic_bool opened;
	bool atfork;
} P = { .lock = PTHREAD_MUTEX_INITIALIZER, .dirfd = -1 };

static void proc_fd_dir_forget(void)
{
	int fd = atomic_load(&P.dirfd);
	if (fd >= 0)
		close(fd);
	atomic_store(&P.dirfd, -1);
	atomic_store(&P.opened, false);
	pthread_mutex_init(&P.lock,
			   NULL); /* the child's only thread; the parent's holder is gone */
}

static int proc_fd_dir(void)
{
	if (atomic_load_explicit(&P.opened, memory_order_acquire))
		return atomic_load_explicit(&P.dirfd, memory_order_relaxed);
	pthread_mutex_lock(&P.lock);
	if (!atomic_load(&P.opened)) {
		if (!P.atfork)
			P.atfork = pthread_atfork(NULL, NULL, proc_fd_dir_forget) == 0;
		atomic_store(&P.dirfd, open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
		atomic_store_explicit(&P.opened, true, memory_order_release);
	}
	pthread_mutex_unlock(&P.lock);
	return atomic_load(&P.dirfd);
}

int fs_proc_link(int fd, char name[FS_PROC_NAME])
{
	snprintf(name, FS_PROC_NAME, "%d", fd);
	int dir = proc_fd_dir();
	return dir < 0 ? -ENOENT : dir; /* ENOENT: no /proc */
}

ssize_t fs_fd_path(int fd, char *buf, size_t len)
{
	char name[FS_PROC_NAME];
	int dir = fs_proc_link(fd, name);
	if (dir < 0)
		return dir;
	ssize_t n = readlinkat(dir, name, buf, len);
	return n < 0 ? -errno : n;
}

int fs_reopen(int fd, int flags)
{
	char name[FS_PROC_NAME];
	int dir = fs_proc_link(fd, name);
	if (dir < 0)
		return dir;
	int nfd = openat(dir, name, flags | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	return nfd;
}
