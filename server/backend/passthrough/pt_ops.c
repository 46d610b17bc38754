/*
 * The passthrough backend's operations: a local directory, every call
 * relative to a descriptor (fs.h), as the request's identity. Objects a
 * call opens by name go into the cache (pt_adopt), so the client's next
 * call on them finds them there.
 */
#define _GNU_SOURCE
#include "backend.h"
#include "cred.h"
#include "fh_dircache.h"
#include "fs.h"
#include "fs_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int obj_fd(const struct vfs_obj *obj)
{
	return obj->be.pt.fd;
}

static int pt_getattr(struct vfs_obj *obj, struct stat *st)
{
	return fstat(obj_fd(obj), st) < 0 ? -errno : 0;
}

/* The filesystem dir is on (0: the export's own mount): its new objects are too. */
static uint32_t obj_fs(const struct vfs_obj *obj)
{
	return obj->be.pt.fs_tag;
}

/* Handle of an object found from dir (f->fd; io_fd or -1), both handed to the cache. */
static void new_from_found(struct vfs_obj *dir, const struct pt_found *f, int io_fd,
			   struct vfs_new *out)
{
	out->ex = dir->ex;
	out->st = f->st;
	pt_encode(dir->ex, f->fs_tag, &f->st, &f->kh, &out->fh);
	pt_adopt(dir, f->fd, io_fd, &out->st, &out->fh);
}

static int pt_lookup(struct vfs_obj *dir, const char *name, struct vfs_new *out)
{
	struct pt_found f;
	int rc = pt_open_name(dir->ex, obj_fd(dir), obj_fs(dir), name, false, &f);
	if (rc)
		return rc;
	new_from_found(dir, &f, -1, out);
	return 0;
}

static int pt_root(struct export *ex, struct vfs_new *out)
{
	int fd = pt_export(ex)->root_fd;
	if (fstat(fd, &out->st) < 0)
		return -ESTALE;
	out->ex = ex;
	pt_make_fh(ex, fd, "", &out->st, &out->fh);
	return 0;
}

/* MOUNT runs as the server: it names a directory, it does not act as the caller. */
static int pt_lookup_path(struct export *ex, const char *sub, struct vfs_new *out)
{
	cred_escalate();
	uint32_t fs_tag;
	int fd = pt_open_path(ex, sub, &fs_tag);
	int rc = fd < 0 ? fd : fstat(fd, &out->st) < 0 ? -errno : 0;
	out->ex = ex;
	if (rc == 0) {
		struct pt_kh kh;
		pt_kernel_handle(fd, "", &kh);
		pt_encode(ex, fs_tag, &out->st, &kh, &out->fh);
	}
	if (fd >= 0)
		close(fd);
	cred_restore();
	return rc;
}

/* The O_PATH descriptor: the OFD lock hooks reopen it per lock-owner. */
static int pt_lock_fd(struct vfs_obj *obj)
{
	return obj_fd(obj);
}

static int pt_access(struct vfs_obj *obj, int mode)
{
	return fs_access(obj_fd(obj), mode);
}

static int pt_readlink(struct vfs_obj *obj, char *buf, size_t len)
{
	return fs_readlink(obj_fd(obj), buf, len);
}

static ssize_t pt_read(struct vfs_obj *obj, void *buf, size_t len, uint64_t off)
{
	int fd = pt_io_fd(obj, false);
	if (fd < 0)
		return fd;
	return fs_pread(fd, buf, len, off);
}

static ssize_t pt_write(struct vfs_obj *obj, const void *buf, size_t len, uint64_t off,
			enum vfs_stable how)
{
	int fd = pt_io_fd(obj, true);
	if (fd < 0)
		return fd;
	enum fs_sync sync = how == VFS_UNSTABLE	   ? FS_NOSYNC
			    : how == VFS_DATA_SYNC ? FS_DSYNC
						   : FS_SYNC;
	pt_write_lock(obj);
	ssize_t n = fs_pwrite(fd, buf, len, off, sync);
	pt_write_unlock(obj);
	if (n > 0 && sync == FS_NOSYNC)
		fs_write_behind(fd, off, (size_t)n);
	return n;
}

static int pt_commit(struct vfs_obj *obj)
{
	/* fsync flushes the inode whichever descriptor wrote: the whole file. */
	int fd = pt_io_fd(obj, false);
	return fd < 0 ? fd : fs_fsync(fd);
}

/*
 * Size first (truncation moves mtime), then owner (chown clears set-id
 * bits), then mode, then times.
 */
static int pt_setattr(struct vfs_obj *obj, const struct vfs_sattr *sa)
{
	int rc;
	if (sa->mask & VFS_SET_SIZE) {
		int fd = pt_io_fd(obj, true);
		if (fd < 0)
			return fd;
		if ((rc = fs_truncate(fd, sa->size)))
			return rc;
	}
	uid_t uid = sa->mask & VFS_SET_UID ? sa->uid : (uid_t)-1;
	gid_t gid = sa->mask & VFS_SET_GID ? sa->gid : (gid_t)-1;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && (rc = fs_chown(obj_fd(obj), uid, gid)))
		return rc;
	/* Symlinks have no mode of their own on Linux: ignored, as knfsd does. */
	if ((sa->mask & VFS_SET_MODE) && !S_ISLNK(obj->st.st_mode) &&
	    (rc = fs_chmod(obj_fd(obj), sa->mode & 07777)))
		return rc;
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	if (sa->mask & VFS_SET_ATIME)
		ts[0] = sa->atime;
	if (sa->mask & VFS_SET_MTIME)
		ts[1] = sa->mtime;
	if ((sa->mask & (VFS_SET_ATIME | VFS_SET_MTIME)) && (rc = fs_utimens(obj_fd(obj), ts)))
		return rc;
	return 0;
}

static int pt_create(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out)
{
	pt_write_lock(dir);
	int io_fd = fs_create_file(obj_fd(dir), name, mode);
	pt_write_unlock(dir);
	if (io_fd < 0)
		return io_fd;
	/* The O_PATH twin through /proc: the very inode, whatever its name has become. */
	struct pt_found f = { .fd = fs_reopen(io_fd, O_PATH), .fs_tag = obj_fs(dir) };
	if (f.fd < 0 || fstat(io_fd, &f.st) < 0) {
		int rc = f.fd < 0 ? f.fd : -errno;
		if (f.fd >= 0)
			close(f.fd);
		close(io_fd);
		return rc;
	}
	pt_kernel_handle(f.fd, "", &f.kh);
	new_from_found(dir, &f, io_fd, out);
	return 0;
}

/* The object a name change just made, as LOOKUP would find it. */
static int made(struct vfs_obj *dir, const char *name, int rc, struct vfs_new *out)
{
	return rc ? rc : pt_lookup(dir, name, out);
}

static int pt_mkdir(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out)
{
	pt_write_lock(dir);
	int rc = fs_mkdir(obj_fd(dir), name, mode);
	pt_write_unlock(dir);
	return made(dir, name, rc, out);
}

static int pt_symlink(struct vfs_obj *dir, const char *name, const char *target,
		      struct vfs_new *out)
{
	pt_write_lock(dir);
	int rc = fs_symlink(obj_fd(dir), name, target);
	pt_write_unlock(dir);
	return made(dir, name, rc, out);
}

static int pt_mknod(struct vfs_obj *dir, const char *name, mode_t mode, dev_t rdev,
		    struct vfs_new *out)
{
	pt_write_lock(dir);
	int rc = fs_mknod(obj_fd(dir), name, mode, rdev);
	pt_write_unlock(dir);
	return made(dir, name, rc, out);
}

/*
 * Drop the server's cached state (open descriptors) of an inode a removal
 * or rename just unlinked for the last time, so it does not outlive its name.
 */
static void forget_if_gone(struct export *ex, int fd)
{
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0)
		pt_forget(ex, st.st_dev, st.st_ino);
}

static int pt_remove(struct vfs_obj *dir, const char *name, bool isdir)
{
	int fd;
	struct stat before;
	int rc = fs_open_child(obj_fd(dir), name, &fd, &before);
	if (rc)
		return rc;
	pt_write_lock(dir);
	rc = fs_unlink(obj_fd(dir), name, isdir);
	pt_write_unlock(dir);
	if (rc == 0)
		forget_if_gone(dir->ex, fd);
	close(fd);
	return rc;
}

static int pt_rename(struct vfs_obj *from, const char *fname, struct vfs_obj *to, const char *tname)
{
	if (from->ex != to->ex)
		return -EXDEV;
	/* Hold the object being replaced, if any, to drop its cached state after. */
	int victim = -1;
	struct stat vst;
	if (fs_open_child(obj_fd(to), tname, &victim, &vst) != 0)
		victim = -1;
	pt_write_lock2(from, to);
	int rc = fs_rename(obj_fd(from), fname, obj_fd(to), tname);
	pt_write_unlock2(from, to);
	if (rc == 0)
		forget_if_gone(to->ex, victim);
	if (victim >= 0)
		close(victim);
	return rc;
}

static int pt_link(struct vfs_obj *obj, struct vfs_obj *dir, const char *name)
{
	if (obj->ex != dir->ex)
		return -EXDEV;
	pt_write_lock(dir);
	int rc = fs_link(obj_fd(obj), obj_fd(dir), name);
	pt_write_unlock(dir);
	return rc;
}

/* ---- READDIR / READDIRPLUS ---- */

struct pt_list {
	vfs_dirent_fn fn;
	void *ctx;
	struct vfs_obj *dir;
	struct dhc_dir *handles; /* READDIRPLUS: the directory's kept entry handles, or NULL */
	int dirfd;
};

/*
 * The attributes are not of the entry the directory holds: a mount point
 * (fstatat gives the mounted root), the ".." of a submount's root, or an
 * entry replaced since it was read. Such an entry is looked up as LOOKUP
 * would, so `ls -l` and `find` agree with it, and its kernel handle is
 * kept nowhere.
 */
static bool entry_elsewhere(const struct pt_list *l, const struct vfs_dirent *de,
			    const struct stat *st)
{
	return (uint64_t)st->st_ino != de->fileid || st->st_dev != l->dir->st.st_dev;
}

/* Such an entry, looked up as LOOKUP would (a mount point: what it covers, or nothing). */
static int entry_attrs_looked_up(const struct pt_list *l, const struct vfs_dirent *de,
				 struct vfs_new *out)
{
	struct pt_found f;
	int rc = pt_open_name(l->dir->ex, l->dirfd, obj_fs(l->dir), de->name, true, &f);
	if (rc)
		return rc;
	close(f.fd);
	out->st = f.st;
	pt_encode(l->dir->ex, f.fs_tag, &f.st, &f.kh, &out->fh);
	return 0;
}

/* Attributes and handle are best effort: the entry may vanish meanwhile. */
static int entry_attrs(const struct vfs_dirent *de, struct vfs_new *out)
{
	const struct pt_list *l = de->priv;
	/* fs_dirent names are the records' own, NUL-terminated. */
	if (fstatat(l->dirfd, de->name, &out->st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	out->ex = l->dir->ex;
	if (entry_elsewhere(l, de, &out->st))
		return entry_attrs_looked_up(l, de, out);
	dhc_make_fh(l->handles, l->dir->ex, obj_fs(l->dir), l->dirfd, de->name, &out->st, &out->fh);
	return 0;
}

static bool list_emit(void *ctxp, int dirfd, const struct fs_dirent *fde)
{
	struct pt_list *l = ctxp;
	struct vfs_dirent de = {
		.name = fde->name,
		.namelen = fde->namelen,
		.fileid = fde->ino,
		.cookie = fde->cookie,
		.attrs = entry_attrs,
		.priv = l,
	};
	l->dirfd = dirfd;
	return l->fn(l->ctx, &de);
}

static int pt_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus,
		      vfs_dirent_fn fn, void *ctx, bool *eof)
{
	struct pt_list l = { fn, ctx, dir, NULL, -1 };
	if (plus) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		l.handles = dhc_acquire(dir->st.st_dev, dir->st.st_ino, &dir->st.st_ctim, &now);
	}
	int rc = fs_readdir(obj_fd(dir), &dir->st, cookie, want, list_emit, &l, eof);
	dhc_release(l.handles);
	/* A position the directory no longer has. */
	if (cookie && (rc == -EINVAL || rc == -ENOENT))
		return -EBADCOOKIE;
	return rc;
}

static int pt_statfs(struct vfs_obj *obj, struct vfs_statfs *out)
{
	struct statvfs sv;
	if (fstatvfs(obj_fd(obj), &sv) < 0)
		return -errno;
	out->tbytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	out->fbytes = (uint64_t)sv.f_bfree * sv.f_frsize;
	out->abytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	out->tfiles = sv.f_files;
	out->ffiles = sv.f_ffree;
	out->afiles = sv.f_favail;
	long linkmax = fpathconf(obj_fd(obj), _PC_LINK_MAX);
	out->linkmax = linkmax > 0 ? (uint32_t)linkmax : 65000;
	return 0;
}

static void pt_shutdown(struct export *ex)
{
	struct pt_export *pe = pt_export(ex);
	if (!pe)
		return;
	close(pe->root_fd);
	if (pe->mount_fd >= 0)
		close(pe->mount_fd);
	fs_watch_close(pe->watch);
	pt_mounts_free(pe->mounts);
	free(pe);
	ex->be = NULL;
}

int passthrough_export_open(struct export *ex)
{
	struct pt_export *pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	struct stat st;
	pe->root_fd = open(ex->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pe->root_fd < 0 || fstat(pe->root_fd, &st) < 0) {
		int rc = -errno;
		if (pe->root_fd >= 0)
			close(pe->root_fd);
		free(pe);
		return rc;
	}
	pe->mount_fd = open(ex->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pe->root_ino = st.st_ino;
	pe->mnt_id = pt_mnt_id(pe->root_fd);
	/* Whether the export crosses into them is read per lookup: options may change. */
	pe->mounts = pt_mounts_new();
	/* fanotify refuses O_PATH */
	pe->watch = pe->mount_fd >= 0 ? fs_watch_open(pe->mount_fd) : NULL;
	ex->dev = st.st_dev;
	ex->be = pe;
	return 0;
}

const struct vfs_ops passthrough_ops = {
	.name = "passthrough",
	.handle_kind = FH_PASSTHROUGH,
	.caps = VFS_CAN_LINK | VFS_CAN_SYMLINK | VFS_CAN_SETTIME,
	.resolve = pt_resolve,
	.release = pt_release,
	.root = pt_root,
	.lookup_path = pt_lookup_path,
	.getattr = pt_getattr,
	.lookup = pt_lookup,
	.access = pt_access,
	.readlink = pt_readlink,
	.read = pt_read,
	.write = pt_write,
	.commit = pt_commit,
	.setattr = pt_setattr,
	.create = pt_create,
	.mkdir = pt_mkdir,
	.symlink = pt_symlink,
	.mknod = pt_mknod,
	.remove = pt_remove,
	.rename = pt_rename,
	.link = pt_link,
	.readdir = pt_readdir,
	.statfs = pt_statfs,
	.fsid = pt_fsid,
	.shutdown = pt_shutdown,
	.lock_fd = pt_lock_fd,
};
