/* NFSv3 procedures (RFC 1813) and the helpers they share. */
#ifndef LOOPNFS_NFS3_H
#define LOOPNFS_NFS3_H

#include "fh.h"
#include "nfs3_prot.h"
#include "req.h"
#include "vfs.h"

#define NFS3_MAXNAMLEN 255
#define NFS3_MAXPATHLEN 4096
#define NFS3_RTMAX (1u << 20)
#define NFS3_WTMAX (1u << 20)
#define NFS3_UDP_MAX (32u * 1024)
#define NFS3_DTPREF (64u * 1024)

/* Name checks. Returns NFS3_OK and a NUL-terminated copy (request arena). */
#define NAME_ALLOW_DOTS 1u /* LOOKUP: "." and ".." are meaningful */
nfsstat3 nfs3_name(struct req *req, const filename3 *name, unsigned flags, char **out);

/* Resolve a client's handle (BADHANDLE, STALE... on failure). */
nfsstat3 nfs3_resolve(struct req *req, const nfs_fh3 *fh, struct vfs_obj **out);
/* Resolve a handle that must name a directory (NOTDIR otherwise). */
nfsstat3 nfs3_resolve_dir(struct req *req, const nfs_fh3 *fh, struct vfs_obj **out);
/* A new object's handle (copied into the request arena) and attributes for a reply. */
nfsstat3 nfs3_new_reply(struct req *req, const struct vfs_new *n, nfs_fh3 *fh_out,
			fattr3 *attr_out);
/* Whether the export is read-only for this request. */
bool nfs3_export_ro(const struct req *req);
/* Whether stable writes and COMMIT are answered before the data is on disk (async). */
bool nfs3_export_async(const struct req *req);
/* The largest READ, WRITE or READDIR reply on this request's transport. */
uint32_t nfs3_max_transfer(const struct req *req);
/* The server's write verifier (changes at every start). */
void nfs3_write_verf(writeverf3 out);
void nfs3_init_verifier(void);
/* Owner override as knfsd does it: owners may read/write their files whatever the mode. */
bool nfs3_may_io(struct vfs_obj *obj, bool write);

/* Fill an nfs_fh3 that points into buf (which must outlive the reply encode). */
static inline void fh_to_wire(const struct fh_buf *b, nfs_fh3 *fh)
{
	fh->data.data_len = b->len;
	fh->data.data_val = (char *)b->data;
}

void nfs3_null(struct req *req, void *args, void *res);
void nfs3_getattr(struct req *req, void *args, void *res);
void nfs3_setattr(struct req *req, void *args, void *res);
void nfs3_lookup(struct req *req, void *args, void *res);
void nfs3_access(struct req *req, void *args, void *res);
void nfs3_readlink(struct req *req, void *args, void *res);
void nfs3_read(struct req *req, void *args, void *res);
void nfs3_write(struct req *req, void *args, void *res);
void nfs3_create(struct req *req, void *args, void *res);
void nfs3_mkdir(struct req *req, void *args, void *res);
void nfs3_symlink(struct req *req, void *args, void *res);
void nfs3_mknod(struct req *req, void *args, void *res);
void nfs3_remove(struct req *req, void *args, void *res);
void nfs3_rmdir(struct req *req, void *args, void *res);
void nfs3_rename(struct req *req, void *args, void *res);
void nfs3_link(struct req *req, void *args, void *res);
void nfs3_readdir(struct req *req, void *args, void *res);
void nfs3_readdirplus(struct req *req, void *args, void *res);
void nfs3_fsstat(struct req *req, void *args, void *res);
void nfs3_fsinfo(struct req *req, void *args, void *res);
void nfs3_pathconf(struct req *req, void *args, void *res);
void nfs3_commit(struct req *req, void *args, void *res);

/* WRITE arguments decoded in place: data points into the received record. */
bool_t xdr_WRITE3args_inplace(XDR *xdrs, WRITE3args *args);
/* READDIRPLUS3res, encoded with each fattr3 inlined (server/nfs3/xdr_fast.c); other ops: rpcgen's. */
bool_t xdr_READDIRPLUS3res_fast(XDR *xdrs, READDIRPLUS3res *res);
bool_t xdr_WRITE3args_free(XDR *xdrs, WRITE3args *args);

#endif
