/*
 * Filesystem layer, write side: descriptor-relative calls only, never a
 * path built from client input, never following a symlink in the last
 * component. The only names not from a client are magic links in
 * /proc/self/fd (fs_proc_link), which reach an already open object.
 * Returns 0 / a count, or -errno.
 */
#define _GNU_SOURCE
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int neg_errno(int rc)
{
	return rc < 0 ? -errno : 0;
}

int fs_create_file(int dirfd, const char *name, mode_t mode)
{
	/*
	 * Opened for I/O at once: the WRITE that follows nearly every CREATE
	 * finds the descriptor in the handle cache. O_EXCL fails on any
	 * existing name, symlinks included, without following it, and needs no
	 * mknod support from the filesystem. A new file opens for writing
	 * whatever mode it was given.
	 */
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			mode & 07777);
	if (fd < 0)
		return -errno;
	return fd;
}

int fs_mkdir(int dirfd, const char *name, mode_t mode)
{
	return neg_errno(mkdirat(dirfd, name, mode & 07777));
}

int fs_symlink(int dirfd, const char *name, const char *target)
{
	return neg_errno(symlinkat(target, dirfd, name));
}

int fs_mknod(int dirfd, const char *name, mode_t mode, dev_t dev)
{
	return neg_errno(mknodat(dirfd, name, mode, dev));
}

int fs_unlink(int dirfd, const char *name, bool dir)
{
	return neg_errno(unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0));
}

int fs_rename(int fromdir, const char *from, int todir, const char *to)
{
	return neg_errno(renameat(fromdir, from, todir, to));
}

int fs_link(int fd, int dirfd, const char *name)
{
	/*
	 * linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH, which a
	 * caller's fsuid does not carry. Following the /proc magic link reaches
	 * the same inode (a symlink included: the magic link ends on it) and
	 * leaves the kernel's checks, protected_hardlinks among them, to the caller.
	 */
	char link[FS_PROC_NAME];
	int proc = fs_proc_link(fd, link);
	if (proc < 0)
		return proc;
	return neg_errno(linkat(proc, link, dirfd, name, AT_SYMLINK_FOLLOW));
}

int fs_chown(int fd, uid_t uid, gid_t gid)
{
	return neg_errno(fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int fs_chmod(int fd, mode_t mode)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -EOPNOTSUPP; /* Linux symlinks have no mode of their own */
	/*
	 * O_PATH descriptors refuse fchmod(); fchmodat2 (Linux 6.6) takes them.
	 * Older kernels (ENOSYS) or seccomp filters (EPERM) send us through
	 * /proc, whose answer is the authoritative one.
	 */
	if (syscall(SYS_fchmodat2, fd, "", mode & 07777, AT_EMPTY_PATH) == 0)
		return 0;
	int first = errno;
	char link[FS_PROC_NAME];
	int proc = fs_proc_link(fd, link);
	if (proc < 0)
		return -first;
	if (fchmodat(proc, link, mode & 07777, 0) == 0)
		return 0;
	return -errno;
}

int fs_utimens(int fd, const struct timespec ts[2])
{
	if (utimensat(fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* Kernels without AT_EMPTY_PATH here: through /proc, never for a symlink. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -EOPNOTSUPP;
	char link[FS_PROC_NAME];
	int proc = fs_proc_link(fd, link);
	if (proc < 0)
		return proc;
	return neg_errno(utimensat(proc, link, ts, 0));
}

int fs_truncate(int iofd, uint64_t size)
{
	if (size > (uint64_t)INT64_MAX)
		return -EFBIG;
	return neg_errno(ftruncate(iofd, (off_t)size));
}

ssize_t fs_pwrite(int iofd, const void *buf, size_t len, uint64_t off, enum fs_sync sync)
{
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	int flags = sync == FS_SYNC ? RWF_SYNC : sync == FS_DSYNC ? RWF_DSYNC : 0;
	size_t done = 0;
	while (done < len) {
		struct iovec iov = { (char *)buf + done, len - done };
		ssize_t n = pwritev2(iofd, &iov, 1, (off_t)(off + done), flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EOPNOTSUPP && flags) {
			/* No per-write sync flags here: write, then sync the whole file. */
			n = pwrite(iofd, iov.iov_base, iov.iov_len, (off_t)(off + done));
			if (n > 0 && (sync == FS_SYNC ? fsync(iofd) : fdatasync(iofd)) < 0)
				return done ? (ssize_t)done : -errno;
		}
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (n == 0)
			return done ? (ssize_t)done : -EIO;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int fs_fsync(int iofd)
{
	return neg_errno(fsync(iofd));
}

/*
 * UNSTABLE writes stay in the page cache until COMMIT, and the kernel
 * starts background writeback only past dirty_background_ratio (gigabytes
 * on a large machine) or after 30 s: a client streaming a file then waits
 * in COMMIT for all of it to reach the disk. Starting writeback of each
 * chunk once the writes have moved two chunks past it overlaps the disk
 * with the network. The lag keeps the range clear of writes still in
 * flight (a Linux client has up to 16 MiB outstanding); if one lands there
 * anyway its page is simply dirtied again. Writes that never cross a chunk
 * boundary (small, scattered) start nothing.
 */
bool fs_write_behind_range(uint64_t off, size_t len, uint64_t *start, uint64_t *count)
{
	if (len == 0 || off > UINT64_MAX - len)
		return false;
	uint64_t end = off + len;
	uint64_t boundary = end - end % FS_WRITE_BEHIND_CHUNK;
	if (boundary <= off || boundary < 2 * FS_WRITE_BEHIND_CHUNK)
		return false;
	*start = boundary - 2 * FS_WRITE_BEHIND_CHUNK;
	*count = FS_WRITE_BEHIND_CHUNK;
	return true;
}

void fs_write_behind(int iofd, uint64_t off, size_t len)
{
	uint64_t start, count;
	if (!fs_write_behind_range(off, len, &start, &count))
		return;
	/*
	 * Advisory: a failure here (EIO on writeback) is recorded on the file
	 * and reported by the COMMIT's fsync, which is where the client learns
	 * of it; nothing to report now.
	 */
	(void)sync_file_range(iofd, (off64_t)start, (off64_t)count, SYNC_FILE_RANGE_WRITE);
}
