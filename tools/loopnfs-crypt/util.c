/* What both tree walks of loopnfs-crypt share: messages, the output root, metadata. */
#define _GNU_SOURCE
#include "tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tool_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loopnfs-crypt: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

char *tool_join(const char *a, const char *b)
{
	char *p;
	int n = *a ? asprintf(&p, "%s/%s", a, b) : asprintf(&p, "%s", b);
	if (n < 0) {
		tool_err("out of memory");
		exit(1);
	}
	return p;
}

static bool dir_is_empty(int fd)
{
	int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	bool empty = d != NULL;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	if (d)
		closedir(d);
	else if (dup_fd >= 0)
		close(dup_fd);
	return empty;
}

int tool_open_outdir(const char *outdir)
{
	if (mkdir(outdir, 0700) < 0 && errno != EEXIST) {
		tool_err("%s: %s", outdir, strerror(errno));
		return -1;
	}
	int fd = open(outdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		tool_err("%s: %s", outdir, strerror(errno));
		return -1;
	}
	if (!dir_is_empty(fd)) {
		tool_err("%s is not empty: give a new or empty directory", outdir);
		close(fd);
		return -1;
	}
	return fd;
}

void tool_copy_meta(int dirfd, const char *name, const struct stat *st)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	if (geteuid() == 0)
		(void)fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	/* After the owner: chown clears set-id bits. Symlinks have no mode of their own. */
	if (!S_ISLNK(st->st_mode))
		(void)fchmodat(dirfd, name, st->st_mode & 07777, 0);
	(void)utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

int tool_make_special(int dirfd, const char *name, const struct stat *st)
{
	if (mknodat(dirfd, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
		return -errno;
	return 0;
}

int tool_write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len) {
		ssize_t n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}
