/*
 * NFSv3 write-side procedures (RFC 1813): SETATTR, WRITE, CREATE, MKDIR,
 * SYMLINK, MKNOD, REMOVE, RMDIR, RENAME, LINK and COMMIT.
 *
 * Everything after the first fh_resolve runs as the caller (cred.c), so the
 * kernel checks each change as that user would be checked locally and new
 * objects get the caller's ownership. The exceptions are the I/O descriptors
 * of regular files, opened by the server: WRITE, COMMIT and size changes
 * check the caller with nfs3_may_io() first.
 *
 * Error choices follow knfsd where the RFC leaves room:
 *   - "." / ".." as the new name of CREATE, MKDIR, SYMLINK, MKNOD, LINK: EXIST
 *   - "." / ".." for REMOVE and RMDIR: ACCES; for either name of RENAME: PERM
 *   - empty names, or names with '/' or NUL: ACCES; over 255 bytes: NAMETOOLONG
 *   - an empty symlink target or one containing NUL: INVAL
 *   - MKNOD of a type other than CHR, BLK, SOCK or FIFO: BADTYPE
 *   - LINK to a directory: ISDIR; size change of a directory: ISDIR, of
 *     another non-regular file: INVAL
 */
#define _GNU_SOURCE
#include "attr.h"
#include "errmap.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

/* Modes for a CREATE/MKDIR/MKNOD whose sattr3 carries none (clients nearly always send one). */
#define DEFAULT_FILE_MODE 0644
#define DEFAULT_DIR_MODE 0755

/* ---- helpers ---- */

static void dir_wcc(const struct fsobj *dir, wcc_data *out)
{
	attr_wcc(dir->ex, &dir->st, dir->fd, out);
}

static bool sattr_any(const sattr3 *sa)
{
	return sa->mode.set_it || sa->uid.set_it || sa->gid.set_it || sa->size.set_it ||
	       sa->atime.set_it != DONT_CHANGE || sa->mtime.set_it != DONT_CHANGE;
}

static void sattr_time(struct timespec *out, time_how how, const nfstime3 *t)
{
	switch (how) {
	case SET_TO_CLIENT_TIME:
		out->tv_sec = (time_t)t->seconds;
		out->tv_nsec = (long)t->nseconds;
		break;
	case SET_TO_SERVER_TIME:
		out->tv_sec = 0;
		out->tv_nsec = UTIME_NOW;
		break;
	default:
		out->tv_sec = 0;
		out->tv_nsec = UTIME_OMIT;
		break;
	}
}

/*
 * Apply a sattr3 to obj in the order that keeps each field as asked: size
 * (truncation moves mtime), then owner (chown clears set-id bits), then
 * mode, then times.
 */
static nfsstat3 sattr_apply(struct fsobj *obj, const sattr3 *sa)
{
	mode_t type = obj->st.st_mode & S_IFMT;
	int rc;

	if (sa->size.set_it) {
		if (type == S_IFDIR)
			return NFS3ERR_ISDIR;
		if (type != S_IFREG)
			return NFS3ERR_INVAL;
		/* The I/O descriptor is the server's: check the caller (owner override). */
		if (!nfs3_may_io(obj, true))
			return NFS3ERR_ACCES;
		int fd = fsobj_io_fd(obj, true);
		if (fd < 0)
			return nfs3_errno(fd);
		rc = fs_truncate(fd, sa->size.set_size3_u.size);
		if (rc)
			return nfs3_errno(rc);
	}

	uid_t uid = sa->uid.set_it ? (uid_t)sa->uid.set_uid3_u.uid : (uid_t)-1;
	gid_t gid = sa->gid.set_it ? (gid_t)sa->gid.set_gid3_u.gid : (gid_t)-1;
	if (uid != (uid_t)-1 || gid != (gid_t)-1) {
		rc = fs_chown(obj->fd, uid, gid);
		if (rc)
			return nfs3_errno(rc);
	}

	/* Symlinks have no mode of their own on Linux: ignored, as knfsd does. */
	if (sa->mode.set_it && type != S_IFLNK) {
		rc = fs_chmod(obj->fd, (mode_t)sa->mode.set_mode3_u.mode & 07777);
		if (rc)
			return nfs3_errno(rc);
	}

	struct timespec ts[2];
	sattr_time(&ts[0], sa->atime.set_it, &sa->atime.set_atime_u.atime);
	sattr_time(&ts[1], sa->mtime.set_it, &sa->mtime.set_mtime_u.mtime);
	if (ts[0].tv_nsec != UTIME_OMIT || ts[1].tv_nsec != UTIME_OMIT) {
		rc = fs_utimens(obj->fd, ts);
		if (rc)
			return nfs3_errno(rc);
	}
	return NFS3_OK;
}

/*
 * Reply handle and attributes for the object just created (or found) as
 * name in dir, or held open as io_fd (a new regular file; taken; -1 if
 * none); applies the sattr3 fields creation could not set.
 */
static nfsstat3 new_obj_reply(struct req *req, struct fsobj *dir, const char *name, int io_fd,
			      const sattr3 *rest, post_op_fh3 *fh_out, post_op_attr *attr_out)
{
	nfs_fh3 *fh = &fh_out->post_op_fh3_u.handle;
	fattr3 *attr = &attr_out->post_op_attr_u.attributes;
	nfsstat3 st = io_fd >= 0 ? nfs3_open_obj_reply(req, dir, io_fd, fh, attr)
				 : nfs3_obj_reply(req, dir, name, fh, attr);
	if (st != NFS3_OK)
		return st;
	/*
	 * What creation left to do, as knfsd: the mode is set already; a size
	 * of 0 is moot; only root may give the object away (IRIX sends its gid
	 * on create).
	 */
	sattr3 todo = rest ? *rest : (sattr3){ .mode.set_it = FALSE };
	todo.mode.set_it = FALSE;
	if (todo.size.set_it && todo.size.set_size3_u.size == 0)
		todo.size.set_it = FALSE;
	if (cred_current()->uid != 0)
		todo.uid.set_it = todo.gid.set_it = FALSE;
	if (sattr_any(&todo)) {
		struct fsobj *obj;
		st = fh_resolve(req, fh, &obj);
		if (st != NFS3_OK)
			return st;
		st = sattr_apply(obj, &todo);
		struct stat sb;
		if (fstat(obj->fd, &sb) == 0)
			attr_fill(obj->ex, &sb, attr);
		fsobj_put(obj);
		if (st != NFS3_OK)
			return st;
	}
	fh_out->handle_follows = TRUE;
	attr_out->attributes_follow = TRUE;
	return NFS3_OK;
}

/* Common start of the procedures that add a name to a directory. */
static nfsstat3 new_name_check(struct req *req, const filename3 *fname, char **name)
{
	if (nfs3_export_ro(req))
		return NFS3ERR_ROFS;
	/* "." and ".." exist already: EXIST (nfs3_name's default), as knfsd. */
	return nfs3_name(req, fname, 0, name);
}

static bool ctime_matches(const struct stat *st, const nfstime3 *t)
{
	return (uint32_t)st->st_ctim.tv_sec == t->seconds &&
	       (uint32_t)st->st_ctim.tv_nsec == t->nseconds;
}

/* ---- SETATTR ---- */

void nfs3_setattr(struct req *req, void *argp, void *resp)
{
	SETATTR3args *args = argp;
	SETATTR3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	if (nfs3_export_ro(req))
		res->status = NFS3ERR_ROFS;
	else if (args->guard.check &&
		 !ctime_matches(&obj->st, &args->guard.sattrguard3_u.obj_ctime))
		res->status = NFS3ERR_NOT_SYNC; /* changed since the client last looked */
	else
		res->status = sattr_apply(obj, &args->new_attributes);
	attr_wcc(obj->ex, &obj->st, obj->fd,
		 res->status == NFS3_OK ? &res->SETATTR3res_u.resok.obj_wcc
					: &res->SETATTR3res_u.resfail.obj_wcc);
	fsobj_put(obj);
}

/* ---- WRITE / COMMIT ---- */

static nfsstat3 regular_file_check(const struct fsobj *obj)
{
	if (S_ISREG(obj->st.st_mode))
		return NFS3_OK;
	return S_ISDIR(obj->st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
}

void nfs3_write(struct req *req, void *argp, void *resp)
{
	WRITE3args *args = argp;
	WRITE3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->file, &obj);
	if (res->status != NFS3_OK)
		return;
	nfsstat3 st = regular_file_check(obj);
	if (st == NFS3_OK && nfs3_export_ro(req))
		st = NFS3ERR_ROFS;
	/* RFC 1813: count bytes of data; fewer bytes than that is a broken request. */
	if (st == NFS3_OK && args->data.data_len < args->count)
		st = NFS3ERR_INVAL;
	if (st == NFS3_OK && !nfs3_may_io(obj, true))
		st = NFS3ERR_ACCES;
	int fd = -1;
	if (st == NFS3_OK) {
		fd = fsobj_io_fd(obj, true);
		if (fd < 0)
			st = nfs3_errno(fd);
	}
	ssize_t n = 0;
	stable_how committed = UNSTABLE;
	if (st == NFS3_OK) {
		enum fs_sync sync = FS_NOSYNC;
		if (args->stable == DATA_SYNC) {
			sync = FS_DSYNC;
			committed = DATA_SYNC;
		} else if (args->stable != UNSTABLE) {
			sync = FS_SYNC;
			committed = FILE_SYNC;
		}
		fsobj_write_lock(obj);
		n = fs_pwrite(fd, args->data.data_val, args->count, args->offset, sync);
		fsobj_write_unlock(obj);
		if (n < 0)
			st = nfs3_errno((int)n);
		else if (sync == FS_NOSYNC)
			fs_write_behind(fd, args->offset, (size_t)n);
	}
	res->status = st;
	if (st == NFS3_OK) {
		WRITE3resok *ok = &res->WRITE3res_u.resok;
		ok->count = (count3)n;
		ok->committed = committed;
		nfs3_write_verf(ok->verf);
		attr_wcc(obj->ex, &obj->st, obj->fd, &ok->file_wcc);
	} else {
		attr_wcc(obj->ex, &obj->st, obj->fd, &res->WRITE3res_u.resfail.file_wcc);
	}
	fsobj_put(obj);
}

void nfs3_commit(struct req *req, void *argp, void *resp)
{
	COMMIT3args *args = argp;
	COMMIT3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->file, &obj);
	if (res->status != NFS3_OK)
		return;
	nfsstat3 st = regular_file_check(obj);
	if (st == NFS3_OK && nfs3_export_ro(req))
		st = NFS3ERR_ROFS;
	/* As knfsd: COMMIT needs write access (the owner always has it). */
	if (st == NFS3_OK && !nfs3_may_io(obj, true))
		st = NFS3ERR_ACCES;
	if (st == NFS3_OK) {
		/* fsync flushes the inode whichever descriptor wrote: the whole file. */
		int fd = fsobj_io_fd(obj, false);
		int rc = fd < 0 ? fd : fs_fsync(fd);
		if (rc < 0)
			st = nfs3_errno(rc);
	}
	res->status = st;
	if (st == NFS3_OK) {
		COMMIT3resok *ok = &res->COMMIT3res_u.resok;
		nfs3_write_verf(ok->verf);
		attr_wcc(obj->ex, &obj->st, obj->fd, &ok->file_wcc);
	} else {
		attr_wcc(obj->ex, &obj->st, obj->fd, &res->COMMIT3res_u.resfail.file_wcc);
	}
	fsobj_put(obj);
}

/* ---- CREATE ---- */

static uint32_t be32(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/*
 * EXCLUSIVE: the verifier lives in the file's atime/mtime seconds (as knfsd,
 * high bits cleared for filesystems with 31-bit times), so a retransmission
 * after a restart still recognises its own file: same verifier, still
 * empty and untouched -> success; anything else -> EXIST. The client's
 * SETATTR that follows sets the real mode and times.
 */
static nfsstat3 create_exclusive(struct req *req, struct fsobj *dir, const char *name,
				 const char *verf, CREATE3resok *ok)
{
	uint32_t va = be32(verf) & 0x7fffffffu, vm = be32(verf + 4) & 0x7fffffffu;
	fsobj_write_lock(dir);
	int fd = fs_create_file(dir->fd, name, 0);
	fsobj_write_unlock(dir);
	if (fd >= 0) {
		struct timespec ts[2] = { { (time_t)va, 0 }, { (time_t)vm, 0 } };
		int rc = fs_utimens(fd, ts);
		if (rc) {
			close(fd);
			return nfs3_errno(rc);
		}
	} else if (fd != -EEXIST) {
		return nfs3_errno(fd);
	}
	nfsstat3 st = new_obj_reply(req, dir, name, fd, NULL, &ok->obj, &ok->obj_attributes);
	if (st != NFS3_OK)
		return st;
	const fattr3 *a = &ok->obj_attributes.post_op_attr_u.attributes;
	if (a->type != NF3REG || a->size != 0 || a->atime.seconds != va || a->mtime.seconds != vm) {
		ok->obj.handle_follows = FALSE;
		ok->obj_attributes.attributes_follow = FALSE;
		return NFS3ERR_EXIST;
	}
	return NFS3_OK;
}

static nfsstat3 create_file(struct req *req, struct fsobj *dir, const char *name,
			    const createhow3 *how, CREATE3resok *ok)
{
	if (how->mode == EXCLUSIVE)
		return create_exclusive(req, dir, name, how->createhow3_u.verf, ok);
	if (how->mode != UNCHECKED && how->mode != GUARDED)
		return NFS3ERR_INVAL;
	const sattr3 *sa = &how->createhow3_u.obj_attributes;
	mode_t mode =
		sa->mode.set_it ? (mode_t)sa->mode.set_mode3_u.mode & 07777 : DEFAULT_FILE_MODE;
	fsobj_write_lock(dir);
	int fd = fs_create_file(dir->fd, name, mode);
	fsobj_write_unlock(dir);
	if (fd >= 0)
		return new_obj_reply(req, dir, name, fd, sa, &ok->obj, &ok->obj_attributes);
	if (fd != -EEXIST || how->mode != UNCHECKED)
		return nfs3_errno(fd);

	/* UNCHECKED over an existing regular file: only a size (truncation) applies. */
	nfs_fh3 *fh = &ok->obj.post_op_fh3_u.handle;
	fattr3 *attr = &ok->obj_attributes.post_op_attr_u.attributes;
	nfsstat3 st = nfs3_obj_reply(req, dir, name, fh, attr);
	if (st != NFS3_OK)
		return st;
	if (attr->type != NF3REG)
		return NFS3ERR_EXIST;
	if (sa->size.set_it) {
		struct fsobj *obj;
		st = fh_resolve(req, fh, &obj);
		if (st != NFS3_OK)
			return st;
		sattr3 size_only = { .size = sa->size };
		st = sattr_apply(obj, &size_only);
		struct stat sb;
		if (fstat(obj->fd, &sb) == 0)
			attr_fill(obj->ex, &sb, attr);
		fsobj_put(obj);
		if (st != NFS3_OK)
			return st;
	}
	ok->obj.handle_follows = TRUE;
	ok->obj_attributes.attributes_follow = TRUE;
	return NFS3_OK;
}

void nfs3_create(struct req *req, void *argp, void *resp)
{
	CREATE3args *args = argp;
	CREATE3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	char *name;
	CREATE3resok *ok = &res->CREATE3res_u.resok;
	nfsstat3 st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK)
		st = create_file(req, dir, name, &args->how, ok);
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->CREATE3res_u, 0, sizeof(res->CREATE3res_u));
		dir_wcc(dir, &res->CREATE3res_u.resfail.dir_wcc);
	}
	fsobj_put(dir);
}

/* ---- MKDIR / SYMLINK / MKNOD ---- */

void nfs3_mkdir(struct req *req, void *argp, void *resp)
{
	MKDIR3args *args = argp;
	MKDIR3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	char *name;
	MKDIR3resok *ok = &res->MKDIR3res_u.resok;
	const sattr3 *sa = &args->attributes;
	nfsstat3 st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK) {
		mode_t mode = sa->mode.set_it ? (mode_t)sa->mode.set_mode3_u.mode & 07777
					      : DEFAULT_DIR_MODE;
		fsobj_write_lock(dir);
		int rc = fs_mkdir(dir->fd, name, mode);
		fsobj_write_unlock(dir);
		st = nfs3_errno(rc);
	}
	if (st == NFS3_OK) {
		sattr3 rest = *sa;
		rest.size.set_it = FALSE; /* a directory has no size to set */
		st = new_obj_reply(req, dir, name, -1, &rest, &ok->obj, &ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->MKDIR3res_u, 0, sizeof(res->MKDIR3res_u));
		dir_wcc(dir, &res->MKDIR3res_u.resfail.dir_wcc);
	}
	fsobj_put(dir);
}

void nfs3_symlink(struct req *req, void *argp, void *resp)
{
	SYMLINK3args *args = argp;
	SYMLINK3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	char *name, *target = NULL;
	SYMLINK3resok *ok = &res->SYMLINK3res_u.resok;
	const nfspath3 *data = &args->symlink.symlink_data;
	nfsstat3 st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK) {
		/* Stored byte for byte; the kernel cannot hold an empty target or a NUL. */
		if (data->nfspath3_len == 0 || memchr(data->nfspath3_val, '\0', data->nfspath3_len))
			st = NFS3ERR_INVAL;
		else if (data->nfspath3_len > NFS3_MAXPATHLEN)
			st = NFS3ERR_NAMETOOLONG;
		else if (!(target = req_strdup(req, data->nfspath3_val, data->nfspath3_len)))
			st = NFS3ERR_JUKEBOX;
	}
	if (st == NFS3_OK)
		st = nfs3_errno(fs_symlink(dir->fd, name, target));
	if (st == NFS3_OK) {
		sattr3 rest = args->symlink.symlink_attributes;
		rest.size.set_it = FALSE;
		st = new_obj_reply(req, dir, name, -1, &rest, &ok->obj, &ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->SYMLINK3res_u, 0, sizeof(res->SYMLINK3res_u));
		dir_wcc(dir, &res->SYMLINK3res_u.resfail.dir_wcc);
	}
	fsobj_put(dir);
}

void nfs3_mknod(struct req *req, void *argp, void *resp)
{
	MKNOD3args *args = argp;
	MKNOD3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	MKNOD3resok *ok = &res->MKNOD3res_u.resok;
	const mknoddata3 *what = &args->what;
	const sattr3 *sa = NULL;
	mode_t type = 0;
	dev_t dev = 0;
	nfsstat3 st = NFS3_OK;
	switch (what->type) {
	case NF3CHR:
	case NF3BLK:
		type = what->type == NF3CHR ? S_IFCHR : S_IFBLK;
		sa = &what->mknoddata3_u.device.dev_attributes;
		dev = makedev(what->mknoddata3_u.device.spec.specdata1,
			      what->mknoddata3_u.device.spec.specdata2);
		break;
	case NF3SOCK:
	case NF3FIFO:
		type = what->type == NF3SOCK ? S_IFSOCK : S_IFIFO;
		sa = &what->mknoddata3_u.pipe_attributes;
		break;
	default:
		st = NFS3ERR_BADTYPE;
		break;
	}
	char *name;
	if (st == NFS3_OK)
		st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK) {
		mode_t mode = sa->mode.set_it ? (mode_t)sa->mode.set_mode3_u.mode & 07777
					      : DEFAULT_FILE_MODE;
		/* Devices need CAP_MKNOD, which only a root caller keeps: PERM for others. */
		st = nfs3_errno(fs_mknod(dir->fd, name, type | mode, dev));
	}
	if (st == NFS3_OK) {
		sattr3 rest = *sa;
		rest.size.set_it = FALSE;
		st = new_obj_reply(req, dir, name, -1, &rest, &ok->obj, &ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->MKNOD3res_u, 0, sizeof(res->MKNOD3res_u));
		dir_wcc(dir, &res->MKNOD3res_u.resfail.dir_wcc);
	}
	fsobj_put(dir);
}

/* ---- REMOVE / RMDIR ---- */

/*
 * Drop the server's cached state (open descriptors) of an inode a removal
 * or rename just unlinked for the last time, so it does not outlive its name.
 */
static void forget_if_gone(struct export *ex, int fd)
{
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0)
		fh_forget(ex, st.st_dev, st.st_ino);
}

static nfsstat3 remove_name(struct req *req, struct fsobj *dir, const filename3 *fname, bool isdir)
{
	if (nfs3_export_ro(req))
		return NFS3ERR_ROFS;
	char *name;
	nfsstat3 st = nfs3_name(req, fname, NAME_ALLOW_DOTS, &name);
	if (st != NFS3_OK)
		return st;
	/* knfsd answers ACCES for removing "." or "..". */
	if (nfs3_is_dot_or_dotdot(name))
		return NFS3ERR_ACCES;
	int fd;
	struct stat before;
	int rc = fs_open_child(dir->fd, name, &fd, &before);
	if (rc)
		return nfs3_errno(rc);
	fsobj_write_lock(dir);
	rc = fs_unlink(dir->fd, name, isdir);
	fsobj_write_unlock(dir);
	if (rc == 0)
		forget_if_gone(dir->ex, fd);
	close(fd);
	return nfs3_errno(rc); /* EBUSY (a mount point) maps to ACCES, as knfsd */
}

void nfs3_remove(struct req *req, void *argp, void *resp)
{
	REMOVE3args *args = argp;
	REMOVE3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->object.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	res->status = remove_name(req, dir, &args->object.name, false);
	dir_wcc(dir, res->status == NFS3_OK ? &res->REMOVE3res_u.resok.dir_wcc
					    : &res->REMOVE3res_u.resfail.dir_wcc);
	fsobj_put(dir);
}

void nfs3_rmdir(struct req *req, void *argp, void *resp)
{
	RMDIR3args *args = argp;
	RMDIR3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->object.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	res->status = remove_name(req, dir, &args->object.name, true);
	dir_wcc(dir, res->status == NFS3_OK ? &res->RMDIR3res_u.resok.dir_wcc
					    : &res->RMDIR3res_u.resfail.dir_wcc);
	fsobj_put(dir);
}

/* ---- RENAME / LINK ---- */

static nfsstat3 rename_names(struct req *req, struct fsobj *from, const filename3 *fname,
			     struct fsobj *to, const filename3 *tname)
{
	if (from->ex != to->ex)
		return NFS3ERR_XDEV;
	if (nfs3_export_ro(req))
		return NFS3ERR_ROFS;
	char *fn, *tn;
	nfsstat3 st = nfs3_name(req, fname, NAME_ALLOW_DOTS, &fn);
	if (st == NFS3_OK)
		st = nfs3_name(req, tname, NAME_ALLOW_DOTS, &tn);
	if (st != NFS3_OK)
		return st;
	/* knfsd answers PERM when either name is "." or "..". */
	if (nfs3_is_dot_or_dotdot(fn) || nfs3_is_dot_or_dotdot(tn))
		return NFS3ERR_PERM;
	/* Hold the object being replaced, if any, to drop its cached state after. */
	int victim = -1;
	struct stat vst;
	if (fs_open_child(to->fd, tn, &victim, &vst) != 0)
		victim = -1;
	/* Into its own subtree: EINVAL from the kernel, INVAL for the client. */
	fsobj_write_lock2(from, to);
	int rc = fs_rename(from->fd, fn, to->fd, tn);
	fsobj_write_unlock2(from, to);
	if (rc == 0)
		forget_if_gone(to->ex, victim);
	if (victim >= 0)
		close(victim);
	return nfs3_errno(rc);
}

void nfs3_rename(struct req *req, void *argp, void *resp)
{
	RENAME3args *args = argp;
	RENAME3res *res = resp;
	struct fsobj *from, *to;
	res->status = nfs3_resolve_dir(req, &args->from.dir, &from);
	if (res->status != NFS3_OK)
		return;
	res->status = nfs3_resolve_dir(req, &args->to.dir, &to);
	if (res->status != NFS3_OK) {
		dir_wcc(from, &res->RENAME3res_u.resfail.fromdir_wcc);
		fsobj_put(from);
		return;
	}
	res->status = rename_names(req, from, &args->from.name, to, &args->to.name);
	/* resok and resfail have the same layout; fill the arm that will be encoded. */
	if (res->status == NFS3_OK) {
		dir_wcc(from, &res->RENAME3res_u.resok.fromdir_wcc);
		dir_wcc(to, &res->RENAME3res_u.resok.todir_wcc);
	} else {
		dir_wcc(from, &res->RENAME3res_u.resfail.fromdir_wcc);
		dir_wcc(to, &res->RENAME3res_u.resfail.todir_wcc);
	}
	fsobj_put(to);
	fsobj_put(from);
}

void nfs3_link(struct req *req, void *argp, void *resp)
{
	LINK3args *args = argp;
	LINK3res *res = resp;
	struct fsobj *file, *dir;
	res->status = fh_resolve(req, &args->file, &file);
	if (res->status != NFS3_OK)
		return;
	res->status = nfs3_resolve_dir(req, &args->link.dir, &dir);
	if (res->status != NFS3_OK) {
		attr_post_op(file->ex, &file->st, &res->LINK3res_u.resfail.file_attributes);
		fsobj_put(file);
		return;
	}
	nfsstat3 st = NFS3_OK;
	char *name;
	if (file->ex != dir->ex)
		st = NFS3ERR_XDEV;
	else if (nfs3_export_ro(req))
		st = NFS3ERR_ROFS;
	else if (S_ISDIR(file->st.st_mode))
		st = NFS3ERR_ISDIR;
	else
		st = nfs3_name(req, &args->link.name, 0, &name);
	if (st == NFS3_OK)
		st = nfs3_errno(fs_link(file->fd, dir->fd, name));
	res->status = st;
	if (st == NFS3_OK) {
		attr_post_op_fd(file->ex, file->fd, &res->LINK3res_u.resok.file_attributes);
		dir_wcc(dir, &res->LINK3res_u.resok.linkdir_wcc);
	} else {
		attr_post_op_fd(file->ex, file->fd, &res->LINK3res_u.resfail.file_attributes);
		dir_wcc(dir, &res->LINK3res_u.resfail.linkdir_wcc);
	}
	fsobj_put(dir);
	fsobj_put(file);
}
