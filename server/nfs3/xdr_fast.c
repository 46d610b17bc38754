/*
 * Hand-inlined XDR encoding for the reply that carries the most
 * attributes: READDIRPLUS, a fattr3 (21 words) per entry, several hundred
 * entries per reply. rpcgen's code makes a call per field and recurses
 * once per entry through xdr_pointer; here each fattr3 is one XDR_INLINE
 * reservation filled in place. Byte for byte what rpcgen encodes (the unit
 * test compares them); decoding and freeing stay rpcgen's.
 */
#include "nfs3.h"

#include <arpa/inet.h>

#define FATTR3_WORDS 21

static int32_t *put_u32(int32_t *p, uint32_t v)
{
	*p++ = (int32_t)htonl(v);
	return p;
}

static int32_t *put_u64(int32_t *p, uint64_t v)
{
	p = put_u32(p, (uint32_t)(v >> 32));
	return put_u32(p, (uint32_t)v);
}

static bool_t put_fattr3(XDR *xdrs, fattr3 *a)
{
	int32_t *p = XDR_INLINE(xdrs, FATTR3_WORDS * 4);
	if (!p)
		return xdr_fattr3(xdrs, a); /* the buffer's end: rpcgen's path reports it */
	p = put_u32(p, (uint32_t)a->type);
	p = put_u32(p, a->mode);
	p = put_u32(p, a->nlink);
	p = put_u32(p, a->uid);
	p = put_u32(p, a->gid);
	p = put_u64(p, a->size);
	p = put_u64(p, a->used);
	p = put_u32(p, a->rdev.specdata1);
	p = put_u32(p, a->rdev.specdata2);
	p = put_u64(p, a->fsid);
	p = put_u64(p, a->fileid);
	const nfstime3 *t[3] = { &a->atime, &a->mtime, &a->ctime };
	for (int i = 0; i < 3; i++) {
		p = put_u32(p, t[i]->seconds);
		p = put_u32(p, t[i]->nseconds);
	}
	return TRUE;
}

static bool_t put_post_op_attr(XDR *xdrs, post_op_attr *a)
{
	if (!xdr_bool(xdrs, &a->attributes_follow))
		return FALSE;
	return !a->attributes_follow || put_fattr3(xdrs, &a->post_op_attr_u.attributes);
}

static bool_t put_entries(XDR *xdrs, entryplus3 *e)
{
	bool_t more = TRUE;
	for (; e; e = e->nextentry) {
		if (!xdr_bool(xdrs, &more) || !xdr_fileid3(xdrs, &e->fileid) ||
		    !xdr_filename3(xdrs, &e->name) || !xdr_cookie3(xdrs, &e->cookie) ||
		    !put_post_op_attr(xdrs, &e->name_attributes) ||
		    !xdr_post_op_fh3(xdrs, &e->name_handle))
			return FALSE;
	}
	more = FALSE;
	return xdr_bool(xdrs, &more);
}

bool_t xdr_READDIRPLUS3res_fast(XDR *xdrs, READDIRPLUS3res *res)
{
	if (xdrs->x_op != XDR_ENCODE)
		return xdr_READDIRPLUS3res(xdrs, res);
	if (!xdr_nfsstat3(xdrs, &res->status))
		return FALSE;
	if (res->status != NFS3_OK)
		return put_post_op_attr(xdrs, &res->READDIRPLUS3res_u.resfail.dir_attributes);
	READDIRPLUS3resok *ok = &res->READDIRPLUS3res_u.resok;
	return put_post_op_attr(xdrs, &ok->dir_attributes) &&
	       xdr_cookieverf3(xdrs, ok->cookieverf) && put_entries(xdrs, ok->reply.entries) &&
	       xdr_bool(xdrs, &ok->reply.eof);
}
