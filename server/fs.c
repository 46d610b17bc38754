/* Filesystem layer: descriptor-relative calls only. */
#define _GNU_SOURCE
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GETDENTS_BUF (64 * 1024)

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

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int fs_readdir(int fd, uint64_t cookie, fs_dirent_fn fn, void *ctx, bool *eof)
{
	*eof = false;
	/* A fresh open per call: position comes from the cookie, not shared state. */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int rc = 0;
	if (cookie != 0 && lseek(dfd, (off_t)cookie, SEEK_SET) < 0) {
		rc = -errno;
		goto out;
	}
	char *buf = malloc(GETDENTS_BUF);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, GETDENTS_BUF);
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0) {
			*eof = true;
			break;
		}
		bool stop = false;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			struct fs_dirent de = {
				.name = d->d_name,
				.namelen = strlen(d->d_name),
				.ino = d->d_ino,
				.cookie = (uint64_t)d->d_off,
				.type = d->d_type,
			};
			if (!fn(ctx, dfd, &de)) {
				stop = true;
				break;
			}
			off += d->d_reclen;
		}
		if (stop)
			break;
	}
	free(buf);
out:
	close(dfd);
	return rc;
}
