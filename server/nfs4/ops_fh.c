/*
 * The current and saved filehandles (RFC 8881 16.2.3.1): what PUTFH,
 * PUTROOTFH, LOOKUP... make current is resolved once, through the same
 * vfs_resolve as v3 (the MAC, the export, the client's access to it, its
 * identity), and kept resolved for the operations after it.
 */
#include "nfs4_int.h"

#include "export.h"

#include <errno.h>
#include <string.h>

static void put_obj(struct vfs_obj **o)
{
	vfs_put(*o);
	*o = NULL;
}

void nfs4_cs_release(struct nfs4_cs *cs)
{
	put_obj(&cs->cur);
	put_obj(&cs->saved);
}

void nfs4_cs_release_cur(struct nfs4_cs *cs)
{
	put_obj(&cs->cur);
	cs->cur_fh.len = 0;
	cs->cur_sid_set = false;
}

nfsstat4 nfs4_stateid_in(struct nfs4_cs *cs, const stateid4 *in, struct st4_stateid *out)
{
	out->seqid = in->seqid;
	memcpy(out->other, in->other, sizeof(out->other));
	if (st4_stateid_classify(out) != ST4_SID_CURRENT)
		return NFS4_OK;
	/* "The current stateid" (16.2.3.1.2): the one an earlier operation set. */
	if (!cs->cur_sid_set)
		return NFS4ERR_BAD_STATEID;
	*out = cs->cur_sid;
	return NFS4_OK;
}

void nfs4_stateid_out(struct nfs4_cs *cs, const struct st4_stateid *sid, stateid4 *out)
{
	out->seqid = sid->seqid;
	memcpy(out->other, sid->other, sizeof(out->other));
	cs->cur_sid = *sid;
	cs->cur_sid_set = true;
}

nfsstat4 nfs4_set_cur_fh(struct nfs4_cs *cs, const void *fh, unsigned len)
{
	struct vfs_obj *obj;
	if (len == 0 || len > FH_SIZE_MAX)
		return NFS4ERR_BADHANDLE;
	int rc = vfs_resolve(cs->req, fh, len, &obj);
	if (rc < 0)
		return nfs4_errno(rc);
	put_obj(&cs->cur);
	cs->cur = obj;
	memcpy(cs->cur_fh.data, fh, len);
	cs->cur_fh.len = len;
	/* A new filehandle has no current stateid (16.2.3.1.2). */
	cs->cur_sid_set = false;
	return NFS4_OK;
}

void nfs4_set_cur_obj(struct nfs4_cs *cs, struct vfs_obj *obj, const struct fh_buf *fh)
{
	put_obj(&cs->cur);
	cs->cur = obj;
	cs->cur_fh = *fh;
	cs->cur_sid_set = false;
}

nfsstat4 nfs4_set_cur_new(struct nfs4_cs *cs, const struct vfs_new *n)
{
	return nfs4_set_cur_fh(cs, n->fh.data, n->fh.len);
}

OP4_DECL(putfh)
{
	(void)res;
	const nfs_fh4 *fh = &arg->nfs_argop4_u.opputfh.object;
	return nfs4_set_cur_fh(cs, fh->nfs_fh4_val, fh->nfs_fh4_len);
}

/* The root every client starts from: the synthesized one, or the single export's own. */
OP4_DECL(putrootfh)
{
	(void)arg, (void)res;
	const char *sub = NULL;
	struct export *ex = export_table_find(req_table(cs->req), "/", &sub);
	if (!ex)
		return NFS4ERR_NOENT;
	struct vfs_new n;
	int rc = vfs_mount_lookup(ex, sub ? sub : "", &n);
	return rc < 0 ? nfs4_errno(rc) : nfs4_set_cur_new(cs, &n);
}

/* The public filehandle is the root, as knfsd has it without a "public" export. */
OP4_DECL(putpubfh)
{
	return nfs4_op_putrootfh(cs, arg, res);
}

OP4_DECL(getfh)
{
	(void)arg;
	GETFH4res *r = &res->nfs_resop4_u.opgetfh;
	uint8_t *copy = req_alloc(cs->req, cs->cur_fh.len);
	if (!copy)
		return NFS4ERR_DELAY;
	memcpy(copy, cs->cur_fh.data, cs->cur_fh.len);
	r->GETFH4res_u.resok4.object.nfs_fh4_len = cs->cur_fh.len;
	r->GETFH4res_u.resok4.object.nfs_fh4_val = (char *)copy;
	return NFS4_OK;
}

OP4_DECL(savefh)
{
	(void)arg, (void)res;
	struct vfs_obj *obj;
	/* Saved and current each hold their own reference: resolve the same handle again. */
	int rc = vfs_resolve(cs->req, cs->cur_fh.data, cs->cur_fh.len, &obj);
	if (rc < 0)
		return nfs4_errno(rc);
	put_obj(&cs->saved);
	cs->saved = obj;
	cs->saved_fh = cs->cur_fh;
	cs->saved_sid = cs->cur_sid;
	cs->saved_sid_set = cs->cur_sid_set;
	return NFS4_OK;
}

OP4_DECL(restorefh)
{
	(void)arg, (void)res;
	if (!cs->saved)
		return NFS4ERR_RESTOREFH;
	nfsstat4 st = nfs4_set_cur_fh(cs, cs->saved_fh.data, cs->saved_fh.len);
	if (st == NFS4_OK) {
		cs->cur_sid = cs->saved_sid;
		cs->cur_sid_set = cs->saved_sid_set;
	}
	return st;
}

/* A component4 as a C string: UTF-8 is not checked (knfsd does not either), '/' and NUL are. */
static nfsstat4 component(struct nfs4_cs *cs, const component4 *c, char **out)
{
	if (c->utf8string_len == 0)
		return NFS4ERR_INVAL;
	if (c->utf8string_len > 255)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(c->utf8string_val, '/', c->utf8string_len) ||
	    memchr(c->utf8string_val, '\0', c->utf8string_len))
		return NFS4ERR_BADNAME;
	*out = req_strdup(cs->req, c->utf8string_val, c->utf8string_len);
	return *out ? NFS4_OK : NFS4ERR_DELAY;
}

nfsstat4 nfs4_component(struct nfs4_cs *cs, const component4 *c, char **out)
{
	return component(cs, c, out);
}

static nfsstat4 lookup_name(struct nfs4_cs *cs, const char *name)
{
	if (!S_ISDIR(cs->cur->st.st_mode))
		return S_ISLNK(cs->cur->st.st_mode) ? NFS4ERR_SYMLINK : NFS4ERR_NOTDIR;
	struct vfs_new n;
	int rc = vfs_lookup(cs->cur, name, &n);
	return rc < 0 ? nfs4_errno(rc) : nfs4_set_cur_new(cs, &n);
}

OP4_DECL(lookup)
{
	(void)res;
	char *name;
	nfsstat4 st = component(cs, &arg->nfs_argop4_u.oplookup.objname, &name);
	if (st != NFS4_OK)
		return st;
	/* "." and ".." are not names in NFSv4 (LOOKUPP is ".."): RFC 8881 18.13.3. */
	if (vfs_is_dot_or_dotdot(name, strlen(name)))
		return NFS4ERR_BADNAME;
	return lookup_name(cs, name);
}

OP4_DECL(lookupp)
{
	(void)arg, (void)res;
	/* The root of everything has no parent. */
	const struct export *root = export_table_root(req_table(cs->req));
	if (cs->cur->is_root && (!root || cs->cur->ex == root))
		return NFS4ERR_NOENT;
	return lookup_name(cs, "..");
}
