/*
 * The encrypted view's operations: read-only, every one through the
 * passthrough object below and the crypto core (include/crypt.h), which
 * says what each name, byte and size of the view is.
 */
#define _GNU_SOURCE
#include "cr_int.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static const struct vfs_ops *lower_ops(void)
{
	return &passthrough_ops;
}

static const struct crypt_keys *keys_of(const struct vfs_obj *obj)
{
	return cr_export(obj->ex)->keys;
}

static int cr_getattr(struct vfs_obj *obj, struct stat *st)
{
	struct cr_obj *o = cr_obj(obj);
	struct stat lst;
	int rc = lower_ops()->getattr(&o->lower, &lst);
	if (rc == 0)
		cr_view_stat(o, &lst, st);
	return rc;
}

static bool is_real_dir(const struct vfs_obj *obj)
{
	return cr_obj(obj)->kind == CR_REAL && S_ISDIR(cr_obj(obj)->lower.st.st_mode);
}

/* A plaintext object found from dir by plain name, as the view's object of kind. */
static int wrap_lower(struct vfs_obj *dir, enum cr_kind kind, const struct vfs_new *lnew,
		      struct vfs_new *out)
{
	out->ex = dir->ex;
	cr_make_fh(dir->ex, kind, NULL, &lnew->fh, &lnew->st, &out->fh);
	cr_view_stat_of(kind, NULL, 0, &lnew->st, &out->st);
	return 0;
}

/* The plaintext entry name in dir, unless the view leaves it out. */
static int lookup_real(struct vfs_obj *dir, enum cr_kind kind, const char *plain,
		       struct vfs_new *out)
{
	struct cr_obj *d = cr_obj(dir);
	struct vfs_new lnew;
	int rc = lower_ops()->lookup(&d->lower, plain, &lnew);
	if (rc < 0)
		return rc;
	if (kind == CR_REAL && !vfs_is_dot_or_dotdot(plain, strlen(plain)) &&
	    cr_excluded_child(dir->ex, d->plain_rel, plain))
		return -ENOENT;
	return wrap_lower(dir, kind, &lnew, out);
}

static int cr_lookup(struct vfs_obj *dir, const char *name, struct vfs_new *out)
{
	if (!is_real_dir(dir))
		return -ENOTDIR;
	struct cr_obj *d = cr_obj(dir);
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return lookup_real(dir, CR_REAL, name, out);
	int rc = cr_paths(dir->ex, d);
	if (rc < 0)
		return rc;
	struct crypt_ventry e;
	rc = crypt_view_lookup(keys_of(dir), d->lower.be.pt.fd, d->cpath, name, &e);
	if (rc < 0)
		return rc == -ENAMETOOLONG ? -ENOENT : rc;
	switch (e.kind) {
	case CRYPT_V_REAL:
		return lookup_real(dir, CR_REAL, e.plain_name, out);
	case CRYPT_V_CONF:
		return lookup_real(dir, CR_CONF, e.plain_name, out);
	case CRYPT_V_DIRIV:
	case CRYPT_V_NAME_FILE:
		/* A .name file of an excluded entry is excluded with it. */
		if (e.kind == CRYPT_V_NAME_FILE &&
		    cr_excluded_child(dir->ex, d->plain_rel, e.plain_name))
			return -ENOENT;
		cr_make_virtual(dir->ex, d, &e, out);
		return 0;
	}
	return -ENOENT;
}

static int cr_access(struct vfs_obj *obj, int mode)
{
	struct cr_obj *o = cr_obj(obj);
	if (mode & W_OK)
		return -EROFS;
	if (o->kind == CR_DIRIV || o->kind == CR_NAME_FILE)
		return mode & X_OK ? -EACCES : 0;
	return lower_ops()->access(&o->lower, mode);
}

static int cr_readlink(struct vfs_obj *obj, char *buf, size_t len)
{
	struct cr_obj *o = cr_obj(obj);
	if (o->kind != CR_REAL || !S_ISLNK(o->lower.st.st_mode))
		return -EINVAL;
	int rc = cr_paths(obj->ex, o);
	if (rc < 0)
		return rc;
	char ctarget[CRYPT_SYMLINK_MAX + 1];
	/* An O_PATH descriptor of the link itself: readlinkat(fd, "") reads it. */
	ssize_t n = crypt_view_readlink(keys_of(obj), o->lower.be.pt.fd, "", o->cpath, ctarget);
	if (n < 0)
		return (int)n;
	if ((size_t)n > len)
		return -ENAMETOOLONG;
	memcpy(buf, ctarget, (size_t)n);
	return (int)n;
}

static ssize_t read_memory(const void *src, size_t srclen, void *buf, size_t len, uint64_t off)
{
	if (off >= srclen)
		return 0;
	size_t n = srclen - (size_t)off < len ? srclen - (size_t)off : len;
	memcpy(buf, (const uint8_t *)src + off, n);
	return (ssize_t)n;
}

static ssize_t read_real(struct vfs_obj *obj, void *buf, size_t len, uint64_t off)
{
	struct cr_obj *o = cr_obj(obj);
	struct crypt_file_ivs ivs;
	int rc = cr_file_ivs(obj->ex, o, &ivs);
	if (rc < 0)
		return rc;
	int fd = pt_io_fd(&o->lower, false);
	if (fd < 0)
		return fd;
	return crypt_read_view(keys_of(obj), &ivs, fd, off, len, buf);
}

static ssize_t cr_read(struct vfs_obj *obj, void *buf, size_t len, uint64_t off)
{
	struct cr_obj *o = cr_obj(obj);
	uint8_t diriv[CRYPT_IV_LEN];
	int rc;
	switch (o->kind) {
	case CR_REAL:
		if (!S_ISREG(o->lower.st.st_mode))
			return -EINVAL;
		return read_real(obj, buf, len, off);
	case CR_CONF:
		return lower_ops()->read(&o->lower, buf, len, off);
	case CR_DIRIV:
		rc = cr_paths(obj->ex, o);
		if (rc < 0)
			return rc;
		crypt_path_iv(o->cpath, CRYPT_PURPOSE_DIRIV, diriv);
		return read_memory(diriv, sizeof(diriv), buf, len, off);
	case CR_NAME_FILE:
		return read_memory(o->cname, o->cname_len, buf, len, off);
	}
	return -EINVAL;
}

/* ---- read-only: every change is refused ---- */

static ssize_t cr_write(struct vfs_obj *obj, const void *buf, size_t len, uint64_t off,
			enum vfs_stable how)
{
	(void)obj, (void)buf, (void)len, (void)off, (void)how;
	return -EROFS;
}

static int cr_commit(struct vfs_obj *obj)
{
	(void)obj;
	return -EROFS;
}

static int cr_setattr(struct vfs_obj *obj, const struct vfs_sattr *sa)
{
	(void)obj, (void)sa;
	return -EROFS;
}

static int cr_create(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out)
{
	(void)dir, (void)name, (void)mode, (void)out;
	return -EROFS;
}

static int cr_symlink(struct vfs_obj *dir, const char *name, const char *target,
		      struct vfs_new *out)
{
	(void)dir, (void)name, (void)target, (void)out;
	return -EROFS;
}

static int cr_mknod(struct vfs_obj *dir, const char *name, mode_t mode, dev_t rdev,
		    struct vfs_new *out)
{
	(void)dir, (void)name, (void)mode, (void)rdev, (void)out;
	return -EROFS;
}

static int cr_remove(struct vfs_obj *dir, const char *name, bool isdir)
{
	(void)dir, (void)name, (void)isdir;
	return -EROFS;
}

static int cr_rename(struct vfs_obj *from, const char *fname, struct vfs_obj *to, const char *tname)
{
	(void)from, (void)fname, (void)to, (void)tname;
	return -EROFS;
}

static int cr_link(struct vfs_obj *obj, struct vfs_obj *dir, const char *name)
{
	(void)obj, (void)dir, (void)name;
	return -EROFS;
}

/* ---- the rest ---- */

static int cr_statfs(struct vfs_obj *obj, struct vfs_statfs *out)
{
	return lower_ops()->statfs(&cr_obj(obj)->lower, out);
}

int cr_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus, vfs_dirent_fn fn,
	       void *ctx, bool *eof);
int cr_root(struct export *ex, struct vfs_new *out);
int cr_lookup_path(struct export *ex, const char *sub, struct vfs_new *out);

const struct vfs_ops crypt_reverse_ops = {
	.name = "encrypt=reverse",
	.handle_kind = FH_CRYPT,
	.caps = VFS_CAN_LINK | VFS_CAN_SYMLINK,
	.resolve = cr_resolve,
	.release = cr_release,
	.root = cr_root,
	.lookup_path = cr_lookup_path,
	.getattr = cr_getattr,
	.lookup = cr_lookup,
	.access = cr_access,
	.readlink = cr_readlink,
	.read = cr_read,
	.write = cr_write,
	.commit = cr_commit,
	.setattr = cr_setattr,
	.create = cr_create,
	.mkdir = cr_create,
	.symlink = cr_symlink,
	.mknod = cr_mknod,
	.remove = cr_remove,
	.rename = cr_rename,
	.link = cr_link,
	.readdir = cr_readdir,
	.statfs = cr_statfs,
	.fsid = NULL,
	.shutdown = cr_shutdown,
};
