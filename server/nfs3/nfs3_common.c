/* Helpers shared by the NFSv3 procedures. */
#define _GNU_SOURCE
#include "attr.h"
#include "errmap.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static writeverf3 write_verf;

void nfs3_init_verifier(void)
{
	/* Boot time plus randomness: differs after every restart, even a fast one. */
	uint32_t t = (uint32_t)time(NULL);
	memcpy(write_verf, &t, 4);
	randombytes_buf(write_verf + 4, 4);
}

void nfs3_write_verf(writeverf3 out)
{
	memcpy(out, write_verf, sizeof(writeverf3));
}

bool nfs3_is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

nfsstat3 nfs3_name(struct req *req, const filename3 *name, unsigned flags, char **out)
{
	size_t len = name->filename3_len;
	const char *p = name->filename3_val;
	/* RFC 1813 2.6: names the server cannot handle get NFS3ERR_ACCES. */
	if (len == 0)
		return NFS3ERR_ACCES;
	if (len > NFS3_MAXNAMLEN)
		return NFS3ERR_NAMETOOLONG;
	if (memchr(p, '\0', len) || memchr(p, '/', len))
		return NFS3ERR_ACCES;
	char *s = req_strdup(req, p, len);
	if (!s)
		return NFS3ERR_JUKEBOX;
	if (!(flags & NAME_ALLOW_DOTS) && nfs3_is_dot_or_dotdot(s))
		return NFS3ERR_EXIST;
	*out = s;
	return NFS3_OK;
}

nfsstat3 nfs3_resolve_dir(struct req *req, const nfs_fh3 *fh, struct fsobj **out)
{
	nfsstat3 st = fh_resolve(req, fh, out);
	if (st == NFS3_OK && !S_ISDIR((*out)->st.st_mode)) {
		fsobj_put(*out);
		*out = NULL;
		return NFS3ERR_NOTDIR;
	}
	return st;
}

/* Handle and attributes of the object behind fd (O_PATH; io_fd or -1), both handed to the cache. */
static nfsstat3 obj_reply_fd(struct req *req, struct fsobj *dir, int fd, int io_fd,
			     const struct stat *st, nfs_fh3 *fh_out, fattr3 *attr_out)
{
	struct fh_buf *b = req_alloc(req, sizeof(*b));
	if (!b) {
		close(fd);
		if (io_fd >= 0)
			close(io_fd);
		return NFS3ERR_JUKEBOX;
	}
	fh_make(dir->ex, fd, "", st, dir->st.st_ino, b);
	fh_adopt(dir, fd, io_fd, st, b);
	fh_to_wire(b, fh_out);
	if (attr_out)
		attr_fill(dir->ex, st, attr_out);
	return NFS3_OK;
}

nfsstat3 nfs3_obj_reply(struct req *req, struct fsobj *dir, const char *name, nfs_fh3 *fh_out,
			fattr3 *attr_out)
{
	struct stat st;
	int fd;
	int rc = fs_open_child(dir->fd, name, &fd, &st);
	if (rc)
		return nfs3_errno(rc);
	return obj_reply_fd(req, dir, fd, -1, &st, fh_out, attr_out);
}

nfsstat3 nfs3_open_obj_reply(struct req *req, struct fsobj *dir, int io_fd, nfs_fh3 *fh_out,
			     fattr3 *attr_out)
{
	struct stat st;
	/* The O_PATH twin through /proc: the very inode, whatever its name has become. */
	int fd = fs_reopen(io_fd, O_PATH);
	if (fd < 0 || fstat(io_fd, &st) < 0) {
		int rc = fd < 0 ? fd : -errno;
		if (fd >= 0)
			close(fd);
		close(io_fd);
		return nfs3_errno(rc);
	}
	return obj_reply_fd(req, dir, fd, io_fd, &st, fh_out, attr_out);
}

bool nfs3_export_ro(const struct req *req)
{
	return req->ex && req->ex->opts.ro;
}

bool nfs3_may_io(const struct fsobj *obj, bool write)
{
	const struct ids *ids = cred_current();
	if (ids->uid == obj->st.st_uid)
		return true;
	if (write)
		return fs_access(obj->fd, W_OK) == 0;
	/* Clients read executables to run them, so execute permission allows READ too. */
	return fs_access(obj->fd, R_OK) == 0 || fs_access(obj->fd, X_OK) == 0;
}
