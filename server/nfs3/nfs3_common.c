/* Helpers shared by the NFSv3 procedures. */
#include "attr.h"
#include "errmap.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The verifier is the server's, shared with NFSv4.1 (vfs.c). */
void nfs3_init_verifier(void)
{
	vfs_write_verf_init();
}

void nfs3_write_verf(writeverf3 out)
{
	_Static_assert(sizeof(writeverf3) == VFS_WRITE_VERF_SIZE, "one verifier for v3 and v4.1");
	vfs_write_verf((uint8_t *)out);
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
	if (!(flags & NAME_ALLOW_DOTS) && vfs_is_dot_or_dotdot(s, len))
		return NFS3ERR_EXIST;
	*out = s;
	return NFS3_OK;
}

nfsstat3 nfs3_resolve(struct req *req, const nfs_fh3 *fh, struct vfs_obj **out)
{
	nfsstat3 st = nfs3_errno(vfs_resolve(req, fh->data.data_val, fh->data.data_len, out));
	if (st != NFS3_OK && !req->need_worker)
		log_debug("handle of %u bytes refused: %s", fh->data.data_len, nfs3_strstat(st));
	return st;
}

nfsstat3 nfs3_resolve_dir(struct req *req, const nfs_fh3 *fh, struct vfs_obj **out)
{
	nfsstat3 st = nfs3_resolve(req, fh, out);
	if (st == NFS3_OK && !S_ISDIR((*out)->st.st_mode)) {
		vfs_put(*out);
		*out = NULL;
		return NFS3ERR_NOTDIR;
	}
	return st;
}

nfsstat3 nfs3_new_reply(struct req *req, const struct vfs_new *n, nfs_fh3 *fh_out, fattr3 *attr_out)
{
	struct fh_buf *b = req_alloc(req, sizeof(*b));
	if (!b)
		return NFS3ERR_JUKEBOX;
	*b = n->fh;
	fh_to_wire(b, fh_out);
	if (attr_out)
		attr_fill(n->ex, &n->st, attr_out);
	return NFS3_OK;
}

bool nfs3_export_ro(const struct req *req)
{
	return req->opts && req->opts->ro;
}

bool nfs3_export_async(const struct req *req)
{
	return req->opts && req->opts->async;
}

uint32_t nfs3_max_transfer(const struct req *req)
{
	return req->call->peer->is_tcp ? NFS3_RTMAX : NFS3_UDP_MAX;
}

bool nfs3_may_io(struct vfs_obj *obj, bool write)
{
	return vfs_may_io(obj, write);
}
