/* Attribute conversion. */
#include "attr.h"

#include <string.h>
#include <sys/sysmacros.h>

_Static_assert((int)VFS_REG == NF3REG && (int)VFS_DIR == NF3DIR && (int)VFS_BLK == NF3BLK &&
		       (int)VFS_CHR == NF3CHR && (int)VFS_LNK == NF3LNK &&
		       (int)VFS_SOCK == NF3SOCK && (int)VFS_FIFO == NF3FIFO,
	       "vfs_type numbers its types as ftype3 does");

ftype3 attr_ftype(mode_t mode)
{
	return (ftype3)vfs_type_of(mode);
}

static void ts(nfstime3 *out, const struct timespec *in)
{
	out->seconds = (uint32)in->tv_sec;
	out->nseconds = (uint32)in->tv_nsec;
}

/* Which filesystem an object is on is the backend's to say (a submount has its own fsid). */
static uint64 fsid_of(const struct export *ex, const struct stat *st)
{
	if (!ex)
		return (uint64)st->st_dev;
	if (ex->ops && ex->ops->fsid)
		return ex->ops->fsid(ex, st);
	return ex->fsid;
}

void attr_fill(const struct export *ex, const struct stat *st, fattr3 *out)
{
	out->type = attr_ftype(st->st_mode);
	out->mode = st->st_mode & 07777;
	out->nlink = (uint32)st->st_nlink;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	out->size = (size3)st->st_size;
	out->used = (size3)st->st_blocks * 512;
	out->rdev.specdata1 = major(st->st_rdev);
	out->rdev.specdata2 = minor(st->st_rdev);
	out->fsid = fsid_of(ex, st);
	out->fileid = st->st_ino;
	ts(&out->atime, &st->st_atim);
	ts(&out->mtime, &st->st_mtim);
	ts(&out->ctime, &st->st_ctim);
}

void attr_post_op(const struct export *ex, const struct stat *st, post_op_attr *out)
{
	out->attributes_follow = st != NULL;
	if (st)
		attr_fill(ex, st, &out->post_op_attr_u.attributes);
}

void attr_post_op_now(struct vfs_obj *obj, post_op_attr *out)
{
	struct stat st;
	attr_post_op(obj->ex, vfs_getattr(obj, &st) == 0 ? &st : NULL, out);
}

void attr_pre_op(const struct stat *st, pre_op_attr *out)
{
	out->attributes_follow = st != NULL;
	if (!st)
		return;
	wcc_attr *w = &out->pre_op_attr_u.attributes;
	w->size = (size3)st->st_size;
	ts(&w->mtime, &st->st_mtim);
	ts(&w->ctime, &st->st_ctim);
}

void attr_wcc(struct vfs_obj *obj, const struct stat *before, wcc_data *out)
{
	attr_pre_op(before, &out->before);
	attr_post_op_now(obj, &out->after);
}
