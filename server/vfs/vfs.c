/*
 * The layer between the protocols and the backends: handles in, objects
 * out, and the few rules that span exports (".." of an export root leads
 * to the synthesized root, never elsewhere).
 */
#include "vfs.h"

#include "access.h"
#include "cred.h"
#include "log.h"
#include "req.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint8_t write_verf[VFS_WRITE_VERF_SIZE];

void vfs_write_verf_init(void)
{
	/* Boot time plus randomness: differs after every restart, even a fast one. */
	uint32_t t = (uint32_t)time(NULL);
	memcpy(write_verf, &t, 4);
	randombytes_buf(write_verf + 4, 4);
}

void vfs_write_verf(uint8_t out[VFS_WRITE_VERF_SIZE])
{
	memcpy(out, write_verf, VFS_WRITE_VERF_SIZE);
}

bool vfs_may_io(struct vfs_obj *obj, bool write)
{
	const struct vfs_ops *ops = obj->ex->ops;
	if (cred_current()->uid == obj->st.st_uid)
		return true;
	if (write)
		return ops->access(obj, W_OK) == 0;
	return ops->access(obj, R_OK) == 0 || ops->access(obj, X_OK) == 0;
}

enum vfs_type vfs_type_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return VFS_REG;
	case S_IFDIR:
		return VFS_DIR;
	case S_IFBLK:
		return VFS_BLK;
	case S_IFCHR:
		return VFS_CHR;
	case S_IFLNK:
		return VFS_LNK;
	case S_IFSOCK:
		return VFS_SOCK;
	case S_IFIFO:
		return VFS_FIFO;
	}
	return VFS_REG;
}

bool vfs_is_dot_or_dotdot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') || vfs_is_dotdot(name, len);
}

bool vfs_is_dotdot(const char *name, size_t len)
{
	return len == 2 && name[0] == '.' && name[1] == '.';
}

void vfs_make_fh(const struct export *ex, mode_t mode, const void *payload, unsigned len,
		 struct fh_buf *out)
{
	fh_encode(ex->id, ex->ops->handle_kind, (uint8_t)vfs_type_of(mode), payload, len, out);
}

int vfs_resolve(struct req *req, const void *fh, unsigned len, struct vfs_obj **out)
{
	*out = NULL;
	struct fh_view v;
	int rc = fh_decode(fh, len, &v);
	if (rc != 0)
		return rc;
	/* An export that went away makes its handles stale, not bad. */
	struct export *ex = export_table_by_id(req_table(req), v.export_id);
	if (!ex || v.backend != ex->ops->handle_kind)
		return -ESTALE;
	/* Before the backend opens anything: however the client got the handle. */
	const struct export_opts *opts;
	rc = access_check(req, ex, &opts);
	if (rc != 0)
		return rc;
	/* malloc, not calloc: resolve fills every field, and this runs on every call. */
	struct vfs_obj *obj = malloc(sizeof(*obj));
	if (!obj)
		return -EJUKEBOX;
	rc = ex->ops->resolve(ex, v.payload, v.len, req->cached_only, obj);
	if (rc != 0) {
		free(obj);
		if (rc == -EVFS_NEED_WORKER)
			req->need_worker = true;
		return rc;
	}
	obj->ex = ex;
	obj->view = req->view;
	/*
	 * The first handle fixes the identity; a handle of another export (an
	 * NFSv4 COMPOUND walks from one to the next) maps it again under that
	 * export's options.
	 */
	if (req->ex != ex && req_enter_export(req, ex, opts) != 0) {
		vfs_put(obj);
		return -EFAULT;
	}
	*out = obj;
	return 0;
}

void vfs_put(struct vfs_obj *obj)
{
	if (!obj)
		return;
	obj->ex->ops->release(obj);
	free(obj);
}

int vfs_getattr(struct vfs_obj *obj, struct stat *st)
{
	return obj->ex->ops->getattr(obj, st);
}

int vfs_refresh(struct vfs_obj *obj)
{
	return vfs_getattr(obj, &obj->st);
}

/* The synthesized root of the table dir was resolved in (tests resolve without one). */
static struct export *top_of(const struct vfs_obj *dir)
{
	return dir->view ? export_table_root(dir->view->tbl) : export_pseudo_root();
}

/* ".." of an export root: the synthesized root when there is one, else the root itself. */
static int root_parent(struct vfs_obj *dir, struct vfs_new *out)
{
	struct export *top = top_of(dir);
	if (top && dir->ex != top)
		return top->ops->root(top, out);
	return dir->ex->ops->lookup(dir, ".", out);
}

int vfs_lookup(struct vfs_obj *dir, const char *name, struct vfs_new *out)
{
	if (dir->is_root && vfs_is_dotdot(name, strlen(name)))
		return root_parent(dir, out);
	return dir->ex->ops->lookup(dir, name, out);
}

/* Listing an export root: its ".." entry is what vfs_lookup gives for "..". */
struct root_list {
	vfs_dirent_fn fn;
	void *ctx;
	struct vfs_obj *dir;
	uint64_t parent_fileid;
};

static int root_dotdot_attrs(const struct vfs_dirent *de, struct vfs_new *out)
{
	const struct root_list *rl = de->priv;
	return root_parent(rl->dir, out);
}

static bool root_list_emit(void *ctxp, const struct vfs_dirent *de)
{
	struct root_list *rl = ctxp;
	if (!vfs_is_dotdot(de->name, de->namelen))
		return rl->fn(rl->ctx, de);
	struct vfs_dirent up = *de;
	up.fileid = rl->parent_fileid;
	up.attrs = root_dotdot_attrs;
	up.priv = rl;
	return rl->fn(rl->ctx, &up);
}

int vfs_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus, vfs_dirent_fn fn,
		void *ctx, bool *eof)
{
	const struct vfs_ops *ops = dir->ex->ops;
	if (!dir->is_root)
		return ops->readdir(dir, cookie, want, plus, fn, ctx, eof);
	struct root_list rl = { fn, ctx, dir, dir->st.st_ino };
	struct export *top = top_of(dir);
	if (top && dir->ex != top) {
		struct vfs_new up;
		if (top->ops->root(top, &up) == 0)
			rl.parent_fileid = (uint64_t)up.st.st_ino;
	}
	return ops->readdir(dir, cookie, want, plus, root_list_emit, &rl, eof);
}

int vfs_mount_lookup(struct export *ex, const char *subpath, struct vfs_new *out)
{
	if (!subpath || *subpath == '\0')
		return ex->ops->root(ex, out);
	return ex->ops->lookup_path(ex, subpath, out);
}
