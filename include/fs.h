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
/*
 * fd's magic link as a name relative to the returned directory (an open
 * /proc/self/fd, shared): the object itself, reached with no name lookup
 * and no path walk. -ENOENT without /proc.
 */
#define FS_PROC_NAME 16
int fs_proc_link(int fd, char name[FS_PROC_NAME]);
/* What /proc says fd's object is called now (readlink of its magic link): length or -errno. */
ssize_t fs_fd_path(int fd, char *buf, size_t len);
/* Open fd's object anew, through its /proc magic link (no name lookup): fd or -errno. */
int fs_reopen(int fd, int flags);
int fs_readlink(int fd, char *buf, size_t len);
/*
 * Open the directory at a relative path below dirfd (O_PATH), never leaving
 * it: no "..", symlink or mount crossing out (openat2 RESOLVE_BENEATH).
 */
int fs_open_beneath(int dirfd, const char *path);
/*
 * The same with open flags and further RESOLVE_* flags of the caller's
 * (always RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): without RESOLVE_NO_XDEV
 * the walk crosses into filesystems mounted on the way.
 */
int fs_open_beneath_how(int dirfd, const char *path, int flags, uint64_t resolve);
/* Read up to len bytes at off (short only at the end of the file): bytes or -errno. */
ssize_t fs_pread(int iofd, void *buf, size_t len, uint64_t off);
/* Access check for the thread's current identity (faccessat2, AT_EACCESS). */
int fs_access(int fd, int mode);

struct fs_dirent {
	const char *name; /* NUL-terminated */
	size_t namelen;
	uint64_t ino;
	uint64_t cookie; /* the directory position after this entry */
	unsigned char type;
};

/* Called per entry; return false to stop (the entry is then not consumed). */
typedef bool (*fs_dirent_fn)(void *ctx, int dirfd, const struct fs_dirent *de);

/*
 * ---- directories (fs_dir.c) ----
 * Read directory fd (O_PATH is fine; st is its stat) from position cookie
 * (0 = start), resuming at the directory's own offset. want is about how
 * many bytes of directory records the caller expects to consume: the size
 * of the first read. A listing that stops before the end keeps its open
 * stream and unread records for the call that continues at the same
 * cookie, so walking a big directory reads each record once. *eof is set
 * when the end was reached. Runs with the thread's identity: the caller
 * needs read and search permission on the directory.
 */
int fs_readdir(int fd, const struct stat *st, uint64_t cookie, size_t want, fs_dirent_fn fn,
	       void *ctx, bool *eof);
/* Drop kept streams of a directory that is gone. */
void fs_readdir_forget(dev_t dev, ino_t ino);
/* Close streams unused for idle_seconds (0: all). */
void fs_readdir_sweep(double idle_seconds);

/*
 * ---- write side (fs_write.c) ----
 * Creation never opens or follows an existing name: an existing entry,
 * symlink or not, fails with -EEXIST. Attribute changes act on an O_PATH
 * descriptor and never follow a symlink. All of it runs with the thread's
 * current identity, so the kernel checks permissions as the caller.
 */
#include <time.h>

/* A new regular file (exclusive: never truncates, never follows); returns it open O_RDWR. */
int fs_create_file(int dirfd, const char *name, mode_t mode);
int fs_mkdir(int dirfd, const char *name, mode_t mode);
/* A symlink whose target is stored byte for byte. */
int fs_symlink(int dirfd, const char *name, const char *target);
/* FIFO, socket, character or block device (mode carries the type). */
int fs_mknod(int dirfd, const char *name, mode_t mode, dev_t dev);
/* Remove a non-directory (dir false: a directory gives -EISDIR) or an empty directory. */
int fs_unlink(int dirfd, const char *name, bool dir);
int fs_rename(int fromdir, const char *from, int todir, const char *to);
/* A new name in dirfd for the object open (O_PATH) as fd. */
int fs_link(int fd, int dirfd, const char *name);

/* Ownership; (uid_t)-1 / (gid_t)-1 leave that id unchanged. */
int fs_chown(int fd, uid_t uid, gid_t gid);
/* Permission bits of a non-symlink (-EOPNOTSUPP for a symlink). */
int fs_chmod(int fd, mode_t mode);
/* Times as utimensat: UTIME_NOW / UTIME_OMIT allowed. */
int fs_utimens(int fd, const struct timespec ts[2]);
/* Size of a regular file through a descriptor open for writing. */
int fs_truncate(int iofd, uint64_t size);

enum fs_sync {
	FS_NOSYNC,
	FS_DSYNC,
	FS_SYNC
};
/* Write all of buf at off (short only on error after progress); returns bytes or -errno. */
ssize_t fs_pwrite(int iofd, const void *buf, size_t len, uint64_t off, enum fs_sync sync);
/* Flush a file's data and metadata to stable storage. */
int fs_fsync(int iofd);
/* After an unstable write of [off, off+len): start writeback of data well behind it. */
void fs_write_behind(int iofd, uint64_t off, size_t len);
#define FS_WRITE_BEHIND_CHUNK (16ull << 20)
/* The range fs_write_behind starts writing back, if any. */
bool fs_write_behind_range(uint64_t off, size_t len, uint64_t *start, uint64_t *count);

#endif
