/* NFSv3 read-side procedures: they never modify the exported tree. */
#include "attr.h"
#include "errmap.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nfs3_null(struct req *req, void *args, void *res)
{
}

void nfs3_getattr(struct req *req, void *argp, void *resp)
{
	GETATTR3args *args = argp;
	GETATTR3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	attr_fill(obj->ex, &obj->st, &res->GETATTR3res_u.resok.obj_attributes);
	vfs_put(obj);
}

/* The object a name in dir leads to, for a reply ("." and ".." included). */
static nfsstat3 lookup_reply(struct req *req, struct vfs_obj *dir, const char *name,
			     LOOKUP3resok *ok)
{
	struct vfs_new n;
	int rc = vfs_lookup(dir, name, &n);
	if (rc)
		return nfs3_errno(rc);
	return nfs3_new_reply(req, &n, &ok->object, &ok->obj_attributes.post_op_attr_u.attributes);
}

void nfs3_lookup(struct req *req, void *argp, void *resp)
{
	LOOKUP3args *args = argp;
	LOOKUP3res *res = resp;
	struct vfs_obj *dir;
	char *name;

	res->status = nfs3_resolve_dir(req, &args->what.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	LOOKUP3resok *ok = &res->LOOKUP3res_u.resok;
	res->status = nfs3_name(req, &args->what.name, NAME_ALLOW_DOTS, &name);
	if (res->status == NFS3_OK)
		res->status = lookup_reply(req, dir, name, ok);
	if (res->status == NFS3_OK) {
		ok->obj_attributes.attributes_follow = TRUE;
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->LOOKUP3res_u.resfail.dir_attributes);
	}
	vfs_put(dir);
}

void nfs3_access(struct req *req, void *argp, void *resp)
{
	ACCESS3args *args = argp;
	ACCESS3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	ACCESS3resok *ok = &res->ACCESS3res_u.resok;
	const struct vfs_ops *ops = obj->ex->ops;
	uint32_t want = args->access, got = 0;
	bool dir = S_ISDIR(obj->st.st_mode);
	bool ro = nfs3_export_ro(req);

	if ((want & ACCESS3_READ) && ops->access(obj, R_OK) == 0)
		got |= ACCESS3_READ;
	if ((want & (ACCESS3_LOOKUP | ACCESS3_EXECUTE)) && ops->access(obj, X_OK) == 0)
		got |= want & (dir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE);
	if (!ro && (want & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE)) &&
	    ops->access(obj, W_OK) == 0)
		got |= want & (ACCESS3_MODIFY | ACCESS3_EXTEND | (dir ? ACCESS3_DELETE : 0));
	ok->access = got;
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	vfs_put(obj);
}

void nfs3_readlink(struct req *req, void *argp, void *resp)
{
	READLINK3args *args = argp;
	READLINK3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->symlink, &obj);
	if (res->status != NFS3_OK)
		return;
	if (!S_ISLNK(obj->st.st_mode)) {
		res->status = NFS3ERR_INVAL;
		attr_post_op(obj->ex, &obj->st, &res->READLINK3res_u.resfail.symlink_attributes);
		vfs_put(obj);
		return;
	}
	READLINK3resok *ok = &res->READLINK3res_u.resok;
	char *buf = req_alloc(req, NFS3_MAXPATHLEN);
	int n = buf ? obj->ex->ops->readlink(obj, buf, NFS3_MAXPATHLEN) : -ENOMEM;
	if (n < 0) {
		res->status = nfs3_errno(n);
		attr_post_op(obj->ex, &obj->st, &res->READLINK3res_u.resfail.symlink_attributes);
	} else {
		ok->data.nfspath3_len = (u_int)n;
		ok->data.nfspath3_val = buf;
		vfs_refresh(obj); /* reading the link may have updated its atime */
		attr_post_op(obj->ex, &obj->st, &ok->symlink_attributes);
	}
	vfs_put(obj);
}

static nfsstat3 io_type_check(const struct vfs_obj *obj)
{
	if (S_ISREG(obj->st.st_mode))
		return NFS3_OK;
	return S_ISDIR(obj->st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
}

void nfs3_read(struct req *req, void *argp, void *resp)
{
	READ3args *args = argp;
	READ3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->file, &obj);
	if (res->status != NFS3_OK)
		return;
	READ3resok *ok = &res->READ3res_u.resok;
	res->status = io_type_check(obj);
	if (res->status == NFS3_OK && !nfs3_may_io(obj, false))
		res->status = NFS3ERR_ACCES;
	if (res->status != NFS3_OK) {
		attr_post_op(obj->ex, &obj->st, &res->READ3res_u.resfail.file_attributes);
		vfs_put(obj);
		return;
	}

	uint32_t max = nfs3_max_transfer(req);
	uint32_t count = args->count < max ? args->count : max;
	/* Read straight into the buffer that will be sent after the reply header. */
	void *data = count ? malloc(count) : NULL;
	ssize_t n = 0;
	if (count)
		n = data ? obj->ex->ops->read(obj, data, count, args->offset) : -ENOMEM;
	vfs_refresh(obj);
	if (n < 0) {
		free(data);
		res->status = nfs3_errno((int)n);
		attr_post_op(obj->ex, &obj->st, &res->READ3res_u.resfail.file_attributes);
		vfs_put(obj);
		return;
	}
	ok->count = (count3)n;
	ok->eof = args->offset + (uint64_t)n >= (uint64_t)obj->st.st_size;
	ok->data.data_len = 0; /* the payload is appended by the transport */
	if (n > 0) {
		req->rep->payload = data;
		req->rep->payload_len = (size_t)n;
	} else {
		free(data);
	}
	attr_post_op(obj->ex, &obj->st, &ok->file_attributes);
	vfs_put(obj);
}

/* ---- READDIR / READDIRPLUS ---- */

#define XDR_PAD(n) (((n) + 3u) & ~3u)
/* status + post_op_attr + cookieverf + "no more entries" + eof */
#define READDIR_FIXED (4 + 4 + 84 + 8 + 4 + 4)
#define FATTR3_SIZE 84

struct rd_ctx {
	struct req *req;
	struct vfs_obj *dir;
	bool plus;
	size_t dir_budget; /* dircount: name/fileid/cookie bytes */
	size_t max_budget; /* count / maxcount: whole reply */
	size_t dir_used, max_used;
	unsigned nentries;
	nfsstat3 err;
	void *head, **tail; /* entry3 or entryplus3 list */
};

/* READDIRPLUS: attributes and handle are best effort, the entry may vanish meanwhile. */
static void plus_attrs(struct rd_ctx *c, const struct vfs_dirent *de, entryplus3 *e)
{
	struct vfs_new n;
	struct fh_buf *b = req_alloc(c->req, sizeof(*b));
	if (!b || de->attrs(de, &n) != 0)
		return;
	attr_post_op(n.ex, &n.st, &e->name_attributes);
	*b = n.fh;
	e->name_handle.handle_follows = TRUE;
	fh_to_wire(b, &e->name_handle.post_op_fh3_u.handle);
}

static bool rd_add(struct rd_ctx *c, const struct vfs_dirent *de, char *name)
{
	if (!c->plus) {
		entry3 *e = req_alloc(c->req, sizeof(*e));
		if (!e)
			return false;
		e->fileid = de->fileid;
		e->name.filename3_len = (u_int)de->namelen;
		e->name.filename3_val = name;
		e->cookie = de->cookie;
		*c->tail = e;
		c->tail = (void **)&e->nextentry;
		return true;
	}
	entryplus3 *e = req_alloc(c->req, sizeof(*e));
	if (!e)
		return false;
	e->fileid = de->fileid;
	e->name.filename3_len = (u_int)de->namelen;
	e->name.filename3_val = name;
	e->cookie = de->cookie;
	plus_attrs(c, de, e);
	*c->tail = e;
	c->tail = (void **)&e->nextentry;
	return true;
}

static bool rd_emit(void *ctxp, const struct vfs_dirent *de)
{
	struct rd_ctx *c = ctxp;
	size_t dsize = 8 + 4 + XDR_PAD(de->namelen) + 8;
	size_t msize = 4 + dsize;
	if (c->plus)
		msize += 4 + FATTR3_SIZE + 4 + 4 + FH_SIZE_MAX;
	if (c->max_used + msize > c->max_budget ||
	    (c->plus && c->dir_used + dsize > c->dir_budget)) {
		if (c->nentries == 0)
			c->err = NFS3ERR_TOOSMALL;
		return false;
	}
	char *name = req_strdup(c->req, de->name, de->namelen);
	if (!name || !rd_add(c, de, name)) {
		c->err = NFS3ERR_JUKEBOX;
		return false;
	}
	c->dir_used += dsize;
	c->max_used += msize;
	c->nentries++;
	return true;
}

/* Shared body of READDIR and READDIRPLUS; fills list head and eof. */
static nfsstat3 readdir_common(struct rd_ctx *c, uint64_t cookie, void **head, bool_t *eof)
{
	c->tail = &c->head;
	c->max_used = READDIR_FIXED;
	/* The reply is built in the arena and encoded once: size the buffer for it. */
	c->req->reply_hint = c->max_budget + 1024;
	bool at_end = false;
	/*
	 * Directory records are about 24 bytes + name; a READDIRPLUS entry costs
	 * the reply about 5 times that (attributes and handle), READDIR about the same.
	 */
	size_t want = c->plus ? c->max_budget / 5 : c->max_budget;
	int rc = vfs_readdir(c->dir, cookie, want, c->plus, rd_emit, c, &at_end);
	if (rc < 0)
		return nfs3_errno(rc);
	if (c->err != NFS3_OK)
		return c->err;
	*head = c->head;
	*eof = at_end;
	return NFS3_OK;
}

/* Bound what a client may make us build (and allocate) per call. */
static size_t clamp_count(const struct req *req, uint32_t count)
{
	uint32_t max = nfs3_max_transfer(req);
	return count > max ? max : count;
}

void nfs3_readdir(struct req *req, void *argp, void *resp)
{
	READDIR3args *args = argp;
	READDIR3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->dir, &dir);
	if (res->status != NFS3_OK)
		return;
	struct rd_ctx c = { .req = req, .dir = dir, .max_budget = clamp_count(req, args->count) };
	READDIR3resok *ok = &res->READDIR3res_u.resok;
	void *head = NULL;
	res->status = readdir_common(&c, args->cookie, &head, &ok->reply.eof);
	vfs_refresh(dir);
	if (res->status == NFS3_OK) {
		ok->reply.entries = head;
		/* Echo the client's verifier, as knfsd does: cookies never go stale. */
		memcpy(ok->cookieverf, args->cookieverf, NFS3_COOKIEVERFSIZE);
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->READDIR3res_u.resfail.dir_attributes);
	}
	vfs_put(dir);
}

void nfs3_readdirplus(struct req *req, void *argp, void *resp)
{
	READDIRPLUS3args *args = argp;
	READDIRPLUS3res *res = resp;
	struct vfs_obj *dir;
	res->status = nfs3_resolve_dir(req, &args->dir, &dir);
	if (res->status != NFS3_OK)
		return;
	struct rd_ctx c = { .req = req,
			    .dir = dir,
			    .plus = true,
			    .dir_budget = clamp_count(req, args->dircount),
			    .max_budget = clamp_count(req, args->maxcount) };
	READDIRPLUS3resok *ok = &res->READDIRPLUS3res_u.resok;
	void *head = NULL;
	res->status = readdir_common(&c, args->cookie, &head, &ok->reply.eof);
	vfs_refresh(dir);
	if (res->status == NFS3_OK) {
		ok->reply.entries = head;
		memcpy(ok->cookieverf, args->cookieverf, NFS3_COOKIEVERFSIZE);
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->READDIRPLUS3res_u.resfail.dir_attributes);
	}
	vfs_put(dir);
}

/* ---- filesystem information ---- */

void nfs3_fsstat(struct req *req, void *argp, void *resp)
{
	FSSTAT3args *args = argp;
	FSSTAT3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->fsroot, &obj);
	if (res->status != NFS3_OK)
		return;
	struct vfs_statfs sf;
	int rc = obj->ex->ops->statfs(obj, &sf);
	if (rc < 0) {
		res->status = nfs3_errno(rc);
		attr_post_op(obj->ex, &obj->st, &res->FSSTAT3res_u.resfail.obj_attributes);
		vfs_put(obj);
		return;
	}
	FSSTAT3resok *ok = &res->FSSTAT3res_u.resok;
	ok->tbytes = sf.tbytes;
	ok->fbytes = sf.fbytes;
	ok->abytes = sf.abytes;
	ok->tfiles = sf.tfiles;
	ok->ffiles = sf.ffiles;
	ok->afiles = sf.afiles;
	ok->invarsec = 0; /* a live filesystem: no promise it won't change */
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	vfs_put(obj);
}

void nfs3_fsinfo(struct req *req, void *argp, void *resp)
{
	FSINFO3args *args = argp;
	FSINFO3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->fsroot, &obj);
	if (res->status != NFS3_OK)
		return;
	unsigned caps = obj->ex->ops->caps;
	FSINFO3resok *ok = &res->FSINFO3res_u.resok;
	uint32_t max = nfs3_max_transfer(req);
	ok->rtmax = max;
	ok->rtpref = max;
	ok->rtmult = 4096;
	ok->wtmax = max;
	ok->wtpref = max;
	ok->wtmult = 4096;
	ok->dtpref = NFS3_DTPREF;
	ok->maxfilesize = (size3)INT64_MAX;
	ok->time_delta.seconds = 0;
	ok->time_delta.nseconds = 1;
	ok->properties = FSF3_HOMOGENEOUS | (caps & VFS_CAN_LINK ? FSF3_LINK : 0) |
			 (caps & VFS_CAN_SYMLINK ? FSF3_SYMLINK : 0) |
			 (caps & VFS_CAN_SETTIME ? FSF3_CANSETTIME : 0);
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	vfs_put(obj);
}

void nfs3_pathconf(struct req *req, void *argp, void *resp)
{
	PATHCONF3args *args = argp;
	PATHCONF3res *res = resp;
	struct vfs_obj *obj;
	res->status = nfs3_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	PATHCONF3resok *ok = &res->PATHCONF3res_u.resok;
	struct vfs_statfs sf;
	ok->linkmax = obj->ex->ops->statfs(obj, &sf) == 0 ? sf.linkmax : 65000;
	ok->name_max = NFS3_MAXNAMLEN;
	ok->no_trunc = TRUE;
	ok->chown_restricted = TRUE;
	ok->case_insensitive = FALSE;
	ok->case_preserving = TRUE;
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	vfs_put(obj);
}
