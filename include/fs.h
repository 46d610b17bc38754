/*
 * The filesystem layer: every call is relative to a directory descriptor,
 * never a path built from client input, and never follows a symlink in the
 * last component. Returns 0 / a count, or -errno.
 */
#ifndef LOOPNFS_FS_H
#define LOOPNFS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Open a child as O_PATH without following a final symlink. */
int fs_open_child(int dirfd, const char *name, int *fd_out, struct stat *st);
int fs_readlink(int fd, char *buf, size_t len);
/* Access check for the thread's current identity (faccessat2, AT_EACCESS). */
int fs_access(int fd, int mode);

struct fs_dirent {
	const char *name;
	size_t namelen;
	uint64_t ino;
	uint64_t cookie; /* the directory position after this entry */
	unsigned char type;
};

/* Called per entry; return false to stop (the entry is then not consumed). */
typedef bool (*fs_dirent_fn)(void *ctx, int dirfd, const struct fs_dirent *de);

/*
 * Read directory fd (O_PATH is fine) from position cookie (0 = start),
 * resuming at the directory's own offset. *eof is set when the end was reached.
 */
int fs_readdir(int fd, uint64_t cookie, fs_dirent_fn fn, void *ctx, bool *eof);

#endif
