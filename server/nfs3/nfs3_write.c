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
#include "attr.h"
#include "errmap.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

/* Modes for a CREATE/MKDIR/MKNOD whose sattr3 carries none (clients nearly always send one). */
#define DEFAULT_FILE_MODE 0644
#define DEFAULT_DIR_MODE 0755

/* ---- helpers ---- */

static void dir_wcc(struct vfs_obj *dir, wcc_data *out)
{
	attr_wcc(dir, &dir->st, out);
}

static bool sattr_any(const sattr3 *sa)
{
	return sa->mode.set_it || sa->uid.set_it || sa->gid.set_it || sa->size.set_it ||
	       sa->atime.set_it != DONT_CHANGE || sa->mtime.set_it != DONT_CHANGE;
}

static void sattr_time(struct timespec *out, time_how how, const nfstime3 *t)
{
	if (how == SET_TO_CLIENT_TIME) {
		out->tv_sec = (time_t)t->seconds;
		out->tv_nsec = (long)t->nseconds;
	} else {
		out->tv_sec = 0;
		out->tv_nsec = UTIME_NOW;
	}
}

/* A sattr3 as the backend takes it. */
static void sattr_convert(const sattr3 *sa, struct vfs_sattr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->size.set_it) {
		out->mask |= VFS_SET_SIZE;
		out->size = sa->size.set_size3_u.size;
	}
	if (sa->uid.set_it) {
		out->mask |= VFS_SET_UID;
		out->uid = (uid_t)sa->uid.set_uid3_u.uid;
	}
	if (sa->gid.set_it) {
		out->mask |= VFS_SET_GID;
		out->gid = (gid_t)sa->gid.set_gid3_u.gid;
	}
	if (sa->mode.set_it) {
		out->mask |= VFS_SET_MODE;
		out->mode = (mode_t)sa->mode.set_mode3_u.mode & 07777;
	}
	if (sa->atime.set_it != DONT_CHANGE) {
		out->mask |= VFS_SET_ATIME;
		sattr_time(&out->atime, sa->atime.set_it, &sa->atime.set_atime_u.atime);
	}
	if (sa->mtime.set_it != DONT_CHANGE) {
		out->mask |= VFS_SET_MTIME;
		sattr_time(&out->mtime, sa->mtime.set_it, &sa->mtime.set_mtime_u.mtime);
	}
}

/* Apply a sattr3 to obj; the backend keeps each field as asked (size, owner, mode, times). */
static nfsstat3 sattr_apply(struct vfs_obj *obj, const sattr3 *sa)
{
	mode_t type = obj->st.st_mode & S_IFMT;
	if (sa->size.set_it) {
		if (type == S_IFDIR)
			return NFS3ERR_ISDIR;
		if (type != S_IFREG)
			return NFS3ERR_INVAL;
		/* The I/O descriptor is the server's: check the caller (owner override). */
		if (!nfs3_may_io(obj, true))
			return NFS3ERR_ACCES;
	}
	struct vfs_sattr va;
	sattr_convert(sa, &va);
	return va.mask ? nfs3_errno(obj->ex->ops->setattr(obj, &va)) : NFS3_OK;
}

/* The attributes of obj as they are now, for a reply. */
static void fill_now(struct vfs_obj *obj, fattr3 *attr)
{
	struct stat sb;
	if (vfs_getattr(obj, &sb) == 0)
		attr_fill(obj->ex, &sb, attr);
}

/*
 * Reply handle and attributes for the object just made (or found), n;
 * applies the sattr3 fields creation could not set.
 */
static nfsstat3 new_obj_reply(struct req *req, const struct vfs_new *n, const sattr3 *rest,
			      post_op_fh3 *fh_out, post_op_attr *attr_out)
{
	nfs_fh3 *fh = &fh_out->post_op_fh3_u.handle;
	fattr3 *attr = &attr_out->post_op_attr_u.attributes;
	nfsstat3 st = nfs3_new_reply(req, n, fh, attr);
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
		struct vfs_obj *obj;
		st = nfs3_resolve(req, fh, &obj);
		if (st != NFS3_OK)
			return st;
		st = sattr_apply(obj, &todo);
		fill_now(obj, attr);
		vfs_put(obj);
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
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	if (nfs3_export_ro(req))
		res->status = NFS3ERR_ROFS;
	else if (args->guard.check &&
		 !ctime_matches(&obj->st, &args->guard.sattrguard3_u.obj_ctime))
		res->status = NFS3ERR_NOT_SYNC; /* changed since the client last looked */
	else
		res->status = sattr_apply(obj, &args->new_attributes);
	attr_wcc(obj, &obj->st,
		 res->status == NFS3_OK ? &res->SETATTR3res_u.resok.obj_wcc
					: &res->SETATTR3res_u.resfail.obj_wcc);
	vfs_put(obj);
}

/* ---- WRITE / COMMIT ---- */

static nfsstat3 regular_file_check(const struct vfs_obj *obj)
{
	if (S_ISREG(obj->st.st_mode))
		return NFS3_OK;
	return S_ISDIR(obj->st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
}

static enum vfs_stable stable_of(stable_how how)
{
	return how == UNSTABLE ? VFS_UNSTABLE : how == DATA_SYNC ? VFS_DATA_SYNC : VFS_FILE_SYNC;
}

void nfs3_write(struct req *req, void *argp, void *resp)
{
	WRITE3args *args = argp;
	WRITE3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->file, &obj);
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
	ssize_t n = 0;
	enum vfs_stable how = stable_of(args->stable);
	/* async (as knfsd's): the reply says what was asked, the disk gets it later. */
	enum vfs_stable done = nfs3_export_async(req) ? VFS_UNSTABLE : how;
	if (st == NFS3_OK) {
		n = obj->ex->ops->write(obj, args->data.data_val, args->count, args->offset, done);
		if (n < 0)
			st = nfs3_errno((int)n);
	}
	res->status = st;
	if (st == NFS3_OK) {
		WRITE3resok *ok = &res->WRITE3res_u.resok;
		ok->count = (count3)n;
		ok->committed = how == VFS_UNSTABLE    ? UNSTABLE
				: how == VFS_DATA_SYNC ? DATA_SYNC
						       : FILE_SYNC;
		nfs3_write_verf(ok->verf);
		attr_wcc(obj, &obj->st, &ok->file_wcc);
	} else {
		attr_wcc(obj, &obj->st, &res->WRITE3res_u.resfail.file_wcc);
	}
	vfs_put(obj);
}

void nfs3_commit(struct req *req, void *argp, void *resp)
{
	COMMIT3args *args = argp;
	COMMIT3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->file, &obj);
	if (res->status != NFS3_OK)
		return;
	nfsstat3 st = regular_file_check(obj);
	if (st == NFS3_OK && nfs3_export_ro(req))
		st = NFS3ERR_ROFS;
	/* As knfsd: COMMIT needs write access (the owner always has it). */
	if (st == NFS3_OK && !nfs3_may_io(obj, true))
		st = NFS3ERR_ACCES;
	if (st == NFS3_OK && !nfs3_export_async(req))
		st = nfs3_errno(obj->ex->ops->commit(obj));
	res->status = st;
	if (st == NFS3_OK) {
		COMMIT3resok *ok = &res->COMMIT3res_u.resok;
		nfs3_write_verf(ok->verf);
		attr_wcc(obj, &obj->st, &ok->file_wcc);
	} else {
		attr_wcc(obj, &obj->st, &res->COMMIT3res_u.resfail.file_wcc);
	}
	vfs_put(obj);
}

/* ---- CREATE ---- */

static uint32_t be32(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Set the times of a new object n to (va, vm) seconds. */
static nfsstat3 stamp_times(struct req *req, const struct vfs_new *n, uint32_t va, uint32_t vm)
{
	nfs_fh3 fh;
	fh_to_wire(&n->fh, &fh);
	struct vfs_obj *obj;
	nfsstat3 st = nfs3_resolve(req, &fh, &obj);
	if (st != NFS3_OK)
		return st;
	struct vfs_sattr sa = { .mask = VFS_SET_ATIME | VFS_SET_MTIME,
				.atime = { (time_t)va, 0 },
				.mtime = { (time_t)vm, 0 } };
	st = nfs3_errno(obj->ex->ops->setattr(obj, &sa));
	vfs_put(obj);
	return st;
}

/*
 * EXCLUSIVE: the verifier lives in the file's atime/mtime seconds (as knfsd,
 * high bits cleared for filesystems with 31-bit times), so a retransmission
 * after a restart still recognises its own file: same verifier, still
 * empty and untouched -> success; anything else -> EXIST. The client's
 * SETATTR that follows sets the real mode and times.
 */
static nfsstat3 create_exclusive(struct req *req, struct vfs_obj *dir, const char *name,
				 const char *verf, CREATE3resok *ok)
{
	uint32_t va = be32(verf) & 0x7fffffffu, vm = be32(verf + 4) & 0x7fffffffu;
	struct vfs_new n;
	int rc = dir->ex->ops->create(dir, name, 0, &n);
	if (rc == 0) {
		nfsstat3 st = stamp_times(req, &n, va, vm);
		if (st != NFS3_OK)
			return st;
	} else if (rc != -EEXIST) {
		return nfs3_errno(rc);
	}
	rc = vfs_lookup(dir, name, &n);
	if (rc)
		return nfs3_errno(rc);
	nfsstat3 st = new_obj_reply(req, &n, NULL, &ok->obj, &ok->obj_attributes);
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

/* UNCHECKED over an existing name: a regular file, of which only a size (truncation) applies. */
static nfsstat3 create_over(struct req *req, struct vfs_obj *dir, const char *name,
			    const sattr3 *sa, CREATE3resok *ok)
{
	nfs_fh3 *fh = &ok->obj.post_op_fh3_u.handle;
	fattr3 *attr = &ok->obj_attributes.post_op_attr_u.attributes;
	struct vfs_new n;
	int rc = vfs_lookup(dir, name, &n);
	if (rc)
		return nfs3_errno(rc);
	nfsstat3 st = nfs3_new_reply(req, &n, fh, attr);
	if (st != NFS3_OK)
		return st;
	if (attr->type != NF3REG)
		return NFS3ERR_EXIST;
	if (sa->size.set_it) {
		struct vfs_obj *obj;
		st = nfs3_resolve(req, fh, &obj);
		if (st != NFS3_OK)
			return st;
		sattr3 size_only = { .size = sa->size };
		st = sattr_apply(obj, &size_only);
		fill_now(obj, attr);
		vfs_put(obj);
		if (st != NFS3_OK)
			return st;
	}
	ok->obj.handle_follows = TRUE;
	ok->obj_attributes.attributes_follow = TRUE;
	return NFS3_OK;
}

static nfsstat3 create_file(struct req *req, struct vfs_obj *dir, const char *name,
			    const createhow3 *how, CREATE3resok *ok)
{
	if (how->mode == EXCLUSIVE)
		return create_exclusive(req, dir, name, how->createhow3_u.verf, ok);
	if (how->mode != UNCHECKED && how->mode != GUARDED)
		return NFS3ERR_INVAL;
	const sattr3 *sa = &how->createhow3_u.obj_attributes;
	mode_t mode =
		sa->mode.set_it ? (mode_t)sa->mode.set_mode3_u.mode & 07777 : DEFAULT_FILE_MODE;
	struct vfs_new n;
	int rc = dir->ex->ops->create(dir, name, mode, &n);
	if (rc == 0)
		return new_obj_reply(req, &n, sa, &ok->obj, &ok->obj_attributes);
	if (rc != -EEXIST || how->mode != UNCHECKED)
		return nfs3_errno(rc);
	return create_over(req, dir, name, sa, ok);
}

void nfs3_create(struct req *req, void *argp, void *resp)
{
	CREATE3args *args = argp;
	CREATE3res *res = resp;
	struct vfs_obj *dir;
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
	vfs_put(dir);
}

/* ---- MKDIR / SYMLINK / MKNOD ---- */

/* The end of MKDIR, SYMLINK and MKNOD: the object made (rc 0) with the rest of its sattr3. */
static nfsstat3 made_reply(struct req *req, int rc, const struct vfs_new *n, const sattr3 *sa,
			   post_op_fh3 *fh_out, post_op_attr *attr_out)
{
	if (rc)
		return nfs3_errno(rc);
	sattr3 rest = *sa;
	rest.size.set_it = FALSE; /* no size to set but a regular file's */
	return new_obj_reply(req, n, &rest, fh_out, attr_out);
}

void nfs3_mkdir(struct req *req, void *argp, void *resp)
{
	MKDIR3args *args = argp;
	MKDIR3res *res = resp;
	struct vfs_obj *dir;
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
		struct vfs_new n;
		int rc = dir->ex->ops->mkdir(dir, name, mode, &n);
		st = made_reply(req, rc, &n, sa, &ok->obj, &ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->MKDIR3res_u, 0, sizeof(res->MKDIR3res_u));
		dir_wcc(dir, &res->MKDIR3res_u.resfail.dir_wcc);
	}
	vfs_put(dir);
}

/* A symlink target as the kernel can store it, byte for byte. */
static nfsstat3 symlink_target(struct req *req, const nfspath3 *data, char **out)
{
	/* The kernel cannot hold an empty target or a NUL. */
	if (data->nfspath3_len == 0 || memchr(data->nfspath3_val, '\0', data->nfspath3_len))
		return NFS3ERR_INVAL;
	if (data->nfspath3_len > NFS3_MAXPATHLEN)
		return NFS3ERR_NAMETOOLONG;
	*out = req_strdup(req, data->nfspath3_val, data->nfspath3_len);
	return *out ? NFS3_OK : NFS3ERR_JUKEBOX;
}

void nfs3_symlink(struct req *req, void *argp, void *resp)
{
	SYMLINK3args *args = argp;
	SYMLINK3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	char *name, *target = NULL;
	SYMLINK3resok *ok = &res->SYMLINK3res_u.resok;
	nfsstat3 st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK)
		st = symlink_target(req, &args->symlink.symlink_data, &target);
	if (st == NFS3_OK) {
		struct vfs_new n;
		int rc = dir->ex->ops->symlink(dir, name, target, &n);
		st = made_reply(req, rc, &n, &args->symlink.symlink_attributes, &ok->obj,
				&ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->SYMLINK3res_u, 0, sizeof(res->SYMLINK3res_u));
		dir_wcc(dir, &res->SYMLINK3res_u.resfail.dir_wcc);
	}
	vfs_put(dir);
}

/* The file type, device and sattr3 of a MKNOD; BADTYPE for what MKNOD does not make. */
static nfsstat3 mknod_what(const mknoddata3 *what, mode_t *type, dev_t *dev, const sattr3 **sa)
{
	*dev = 0;
	switch (what->type) {
	case NF3CHR:
	case NF3BLK:
		*type = what->type == NF3CHR ? S_IFCHR : S_IFBLK;
		*sa = &what->mknoddata3_u.device.dev_attributes;
		*dev = makedev(what->mknoddata3_u.device.spec.specdata1,
			       what->mknoddata3_u.device.spec.specdata2);
		return NFS3_OK;
	case NF3SOCK:
	case NF3FIFO:
		*type = what->type == NF3SOCK ? S_IFSOCK : S_IFIFO;
		*sa = &what->mknoddata3_u.pipe_attributes;
		return NFS3_OK;
	default:
		return NFS3ERR_BADTYPE;
	}
}

void nfs3_mknod(struct req *req, void *argp, void *resp)
{
	MKNOD3args *args = argp;
	MKNOD3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->where.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	MKNOD3resok *ok = &res->MKNOD3res_u.resok;
	const sattr3 *sa = NULL;
	mode_t type = 0;
	dev_t dev = 0;
	char *name;
	nfsstat3 st = mknod_what(&args->what, &type, &dev, &sa);
	if (st == NFS3_OK)
		st = new_name_check(req, &args->where.name, &name);
	if (st == NFS3_OK) {
		mode_t mode = sa->mode.set_it ? (mode_t)sa->mode.set_mode3_u.mode & 07777
					      : DEFAULT_FILE_MODE;
		/* Devices need CAP_MKNOD, which only a root caller keeps: PERM for others. */
		struct vfs_new n;
		int rc = dir->ex->ops->mknod(dir, name, type | mode, dev, &n);
		st = made_reply(req, rc, &n, sa, &ok->obj, &ok->obj_attributes);
	}
	res->status = st;
	if (st == NFS3_OK) {
		dir_wcc(dir, &ok->dir_wcc);
	} else {
		memset(&res->MKNOD3res_u, 0, sizeof(res->MKNOD3res_u));
		dir_wcc(dir, &res->MKNOD3res_u.resfail.dir_wcc);
	}
	vfs_put(dir);
}

/* ---- REMOVE / RMDIR ---- */

static nfsstat3 remove_name(struct req *req, struct vfs_obj *dir, const filename3 *fname,
			    bool isdir)
{
	if (nfs3_export_ro(req))
		return NFS3ERR_ROFS;
	char *name;
	nfsstat3 st = nfs3_name(req, fname, NAME_ALLOW_DOTS, &name);
	if (st != NFS3_OK)
		return st;
	/* knfsd answers ACCES for removing "." or "..". */
	if (vfs_is_dot_or_dotdot(name, strlen(name)))
		return NFS3ERR_ACCES;
	/* EBUSY (a mount point) maps to ACCES, as knfsd */
	return nfs3_errno(dir->ex->ops->remove(dir, name, isdir));
}

void nfs3_remove(struct req *req, void *argp, void *resp)
{
	REMOVE3args *args = argp;
	REMOVE3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->object.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	res->status = remove_name(req, dir, &args->object.name, false);
	dir_wcc(dir, res->status == NFS3_OK ? &res->REMOVE3res_u.resok.dir_wcc
					    : &res->REMOVE3res_u.resfail.dir_wcc);
	vfs_put(dir);
}

void nfs3_rmdir(struct req *req, void *argp, void *resp)
{
	RMDIR3args *args = argp;
	RMDIR3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->object.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	res->status = remove_name(req, dir, &args->object.name, true);
	dir_wcc(dir, res->status == NFS3_OK ? &res->RMDIR3res_u.resok.dir_wcc
					    : &res->RMDIR3res_u.resfail.dir_wcc);
	vfs_put(dir);
}

/* ---- RENAME / LINK ---- */

static nfsstat3 rename_names(struct req *req, struct vfs_obj *from, const filename3 *fname,
			     struct vfs_obj *to, const filename3 *tname)
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
	if (vfs_is_dot_or_dotdot(fn, strlen(fn)) || vfs_is_dot_or_dotdot(tn, strlen(tn)))
		return NFS3ERR_PERM;
	/* Into its own subtree: EINVAL from the kernel, INVAL for the client. */
	return nfs3_errno(from->ex->ops->rename(from, fn, to, tn));
}

void nfs3_rename(struct req *req, void *argp, void *resp)
{
	RENAME3args *args = argp;
	RENAME3res *res = resp;
	struct vfs_obj *from, *to;
	res->status = nfs3_resolve_dir(req, &args->from.dir, &from);
	if (res->status != NFS3_OK)
		return;
	res->status = nfs3_resolve_dir(req, &args->to.dir, &to);
	if (res->status != NFS3_OK) {
		dir_wcc(from, &res->RENAME3res_u.resfail.fromdir_wcc);
		vfs_put(from);
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
	vfs_put(to);
	vfs_put(from);
}

void nfs3_link(struct req *req, void *argp, void *resp)
{
	LINK3args *args = argp;
	LINK3res *res = resp;
	struct vfs_obj *file, *dir;
	res->status = nfs3_resolve(req, &args->file, &file);
	if (res->status != NFS3_OK)
		return;
	res->status = nfs3_resolve_dir(req, &args->link.dir, &dir);
	if (res->status != NFS3_OK) {
		attr_post_op(file->ex, &file->st, &res->LINK3res_u.resfail.file_attributes);
		vfs_put(file);
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
		st = nfs3_errno(file->ex->ops->link(file, dir, name));
	res->status = st;
	if (st == NFS3_OK) {
		attr_post_op_now(file, &res->LINK3res_u.resok.file_attributes);
		dir_wcc(dir, &res->LINK3res_u.resok.linkdir_wcc);
	} else {
		attr_post_op_now(file, &res->LINK3res_u.resfail.file_attributes);
		dir_wcc(dir, &res->LINK3res_u.resfail.linkdir_wcc);
	}
	vfs_put(dir);
	vfs_put(file);
}
