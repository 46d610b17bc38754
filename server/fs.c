/* Filesystem layer: descriptor-relative calls only. */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
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

int fs_access(int fd, int mode)
{
	/* AT_EACCESS: check with the thread's fsuid/fsgid, i.e. the caller's. */
	if (syscall(SYS_faccessat2, fd, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0)
		return -errno;
	return 0;
}
