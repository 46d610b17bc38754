/* NFSv3 read-side procedures: they never modify the exported tree. */
#define _GNU_SOURCE
#include "attr.h"
#include "errmap.h"
#include "fh_dircache.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

void nfs3_null(struct req *req, void *args, void *res)
{
}

void nfs3_getattr(struct req *req, void *argp, void *resp)
{
	GETATTR3args *args = argp;
	GETATTR3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	attr_fill(obj->ex, &obj->st, &res->GETATTR3res_u.resok.obj_attributes);
	fsobj_put(obj);
}

/* "." and ".." (clamped at the export root) as LOOKUP resolves them. */
static nfsstat3 lookup_dots(struct req *req, struct fsobj *dir, const char *name,
			    LOOKUP3resok *ok)
{
	struct export *ex = dir->ex;
	bool self = strcmp(name, ".") == 0 || dir->st.st_ino == ex->root_ino;
	return nfs3_obj_reply(req, dir, self ? "." : "..", &ok->object,
			      &ok->obj_attributes.post_op_attr_u.attributes);
}

void nfs3_lookup(struct req *req, void *argp, void *resp)
{
	LOOKUP3args *args = argp;
	LOOKUP3res *res = resp;
	struct fsobj *dir;
	char *name;

	res->status = nfs3_resolve_dir(req, &args->what.dir, &dir);
	if (res->status != NFS3_OK)
		return;
	LOOKUP3resok *ok = &res->LOOKUP3res_u.resok;
	res->status = nfs3_name(req, &args->what.name, NAME_ALLOW_DOTS, &name);
	if (res->status == NFS3_OK) {
		if (nfs3_is_dot_or_dotdot(name))
			res->status = lookup_dots(req, dir, name, ok);
		else
			res->status = nfs3_obj_reply(req, dir, name, &ok->object,
						     &ok->obj_attributes.post_op_attr_u.attributes);
	}
	if (res->status == NFS3_OK) {
		ok->obj_attributes.attributes_follow = TRUE;
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->LOOKUP3res_u.resfail.dir_attributes);
	}
	fsobj_put(dir);
}

void nfs3_access(struct req *req, void *argp, void *resp)
{
	ACCESS3args *args = argp;
	ACCESS3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	ACCESS3resok *ok = &res->ACCESS3res_u.resok;
	uint32_t want = args->access, got = 0;
	bool dir = S_ISDIR(obj->st.st_mode);
	bool ro = nfs3_export_ro(req);

	if ((want & ACCESS3_READ) && fs_access(obj->fd, R_OK) == 0)
		got |= ACCESS3_READ;
	if ((want & (ACCESS3_LOOKUP | ACCESS3_EXECUTE)) && fs_access(obj->fd, X_OK) == 0)
		got |= want & (dir ? ACCESS3_LOOKUP : ACCESS3_EXECUTE);
	if (!ro && (want & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE)) &&
	    fs_access(obj->fd, W_OK) == 0)
		got |= want & (ACCESS3_MODIFY | ACCESS3_EXTEND | (dir ? ACCESS3_DELETE : 0));
	ok->access = got;
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	fsobj_put(obj);
}

void nfs3_readlink(struct req *req, void *argp, void *resp)
{
	READLINK3args *args = argp;
	READLINK3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->symlink, &obj);
	if (res->status != NFS3_OK)
		return;
	if (!S_ISLNK(obj->st.st_mode)) {
		res->status = NFS3ERR_INVAL;
		attr_post_op(obj->ex, &obj->st, &res->READLINK3res_u.resfail.symlink_attributes);
		fsobj_put(obj);
		return;
	}
	READLINK3resok *ok = &res->READLINK3res_u.resok;
	char *buf = req_alloc(req, NFS3_MAXPATHLEN);
	int n = buf ? fs_readlink(obj->fd, buf, NFS3_MAXPATHLEN) : -ENOMEM;
	if (n < 0) {
		res->status = nfs3_errno(n);
		attr_post_op(obj->ex, &obj->st, &res->READLINK3res_u.resfail.symlink_attributes);
	} else {
		ok->data.nfspath3_len = (u_int)n;
		ok->data.nfspath3_val = buf;
		fsobj_refresh(obj); /* reading the link may have updated its atime */
		attr_post_op(obj->ex, &obj->st, &ok->symlink_attributes);
	}
	fsobj_put(obj);
}

static nfsstat3 io_type_check(const struct fsobj *obj)
{
	if (S_ISREG(obj->st.st_mode))
		return NFS3_OK;
	return S_ISDIR(obj->st.st_mode) ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
}

void nfs3_read(struct req *req, void *argp, void *resp)
{
	READ3args *args = argp;
	READ3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->file, &obj);
	if (res->status != NFS3_OK)
		return;
	READ3resok *ok = &res->READ3res_u.resok;
	res->status = io_type_check(obj);
	if (res->status == NFS3_OK && !nfs3_may_io(obj, false))
		res->status = NFS3ERR_ACCES;
	int fd = -1;
	if (res->status == NFS3_OK) {
		fd = fsobj_io_fd(obj, false);
		if (fd < 0)
			res->status = nfs3_errno(fd);
	}
	if (res->status != NFS3_OK) {
		attr_post_op(obj->ex, &obj->st, &res->READ3res_u.resfail.file_attributes);
		fsobj_put(obj);
		return;
	}

	uint32_t max = req->call->peer->is_tcp ? NFS3_RTMAX : NFS3_UDP_MAX;
	uint32_t count = args->count < max ? args->count : max;
	/* Read straight into the buffer that will be sent after the reply header. */
	void *data = count ? malloc(count) : NULL;
	ssize_t n = 0;
	if (count && !data)
		n = -ENOMEM;
	while (count && n >= 0 && (uint32_t)n < count) {
		ssize_t r = pread(fd, (char *)data + n, count - (size_t)n,
				  (off_t)(args->offset + (uint64_t)n));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				n = -errno;
			break;
		}
		n += r;
	}
	fsobj_refresh(obj);
	if (n < 0) {
		free(data);
		res->status = nfs3_errno((int)n);
		attr_post_op(obj->ex, &obj->st, &res->READ3res_u.resfail.file_attributes);
		fsobj_put(obj);
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
	fsobj_put(obj);
}

/* ---- READDIR / READDIRPLUS ---- */

#define XDR_PAD(n) (((n) + 3u) & ~3u)
/* status + post_op_attr + cookieverf + "no more entries" + eof */
#define READDIR_FIXED (4 + 4 + 84 + 8 + 4 + 4)
#define FATTR3_SIZE 84

struct rd_ctx {
	struct req *req;
	struct fsobj *dir;
	bool plus;
	size_t dir_budget; /* dircount: name/fileid/cookie bytes */
	size_t max_budget; /* count / maxcount: whole reply */
	size_t dir_used, max_used;
	unsigned nentries;
	uint64_t last_cookie;
	nfsstat3 err;
	void *head, **tail; /* entry3 or entryplus3 list */
	/* READDIRPLUS: the directory's kept entry handles, or NULL */
	struct dhc_dir *handles;
};

static uint64_t entry_fileid(const struct rd_ctx *c, const struct fs_dirent *de)
{
	/* The export root's ".." is the root itself. */
	if (de->namelen == 2 && de->name[0] == '.' && de->name[1] == '.' &&
	    c->dir->st.st_ino == c->dir->ex->root_ino)
		return c->dir->st.st_ino;
	return de->ino;
}

static bool rd_emit(void *ctxp, int dirfd, const struct fs_dirent *de)
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
	if (!name) {
		c->err = NFS3ERR_JUKEBOX;
		return false;
	}
	if (!c->plus) {
		entry3 *e = req_alloc(c->req, sizeof(*e));
		if (!e) {
			c->err = NFS3ERR_JUKEBOX;
			return false;
		}
		e->fileid = entry_fileid(c, de);
		e->name.filename3_len = (u_int)de->namelen;
		e->name.filename3_val = name;
		e->cookie = de->cookie;
		*c->tail = e;
		c->tail = (void **)&e->nextentry;
	} else {
		entryplus3 *e = req_alloc(c->req, sizeof(*e));
		if (!e) {
			c->err = NFS3ERR_JUKEBOX;
			return false;
		}
		e->fileid = entry_fileid(c, de);
		e->name.filename3_len = (u_int)de->namelen;
		e->name.filename3_val = name;
		e->cookie = de->cookie;
		const char *target = name;
		if (strcmp(name, "..") == 0 && c->dir->st.st_ino == c->dir->ex->root_ino)
			target = ".";
		/* Attributes and handle are best effort: the entry may vanish meanwhile. */
		struct fh_buf *b = req_alloc(c->req, sizeof(*b));
		struct stat st;
		if (b && fstatat(dirfd, target, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			attr_post_op(c->dir->ex, &st, &e->name_attributes);
			dhc_make_fh(c->handles, c->dir->ex, dirfd, target, &st, b);
			e->name_handle.handle_follows = TRUE;
			fh_to_wire(b, &e->name_handle.post_op_fh3_u.handle);
		}
		*c->tail = e;
		c->tail = (void **)&e->nextentry;
	}
	c->dir_used += dsize;
	c->max_used += msize;
	c->nentries++;
	c->last_cookie = de->cookie;
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
	int rc = fs_readdir(c->dir->fd, &c->dir->st, cookie, want, rd_emit, c, &at_end);
	if (rc == -EINVAL || rc == -ENOENT)
		return cookie ? NFS3ERR_BAD_COOKIE : nfs3_errno(rc);
	if (rc < 0)
		return nfs3_errno(rc);
	if (c->err != NFS3_OK)
		return c->err;
	*head = c->head;
	*eof = at_end;
	return NFS3_OK;
}

static size_t clamp_count(const struct req *req, uint32_t count)
{
	/* Bound what a client may make us build (and allocate) per call. */
	uint32_t max = req->call->peer->is_tcp ? NFS3_RTMAX : NFS3_UDP_MAX;
	return count > max ? max : count;
}

void nfs3_readdir(struct req *req, void *argp, void *resp)
{
	READDIR3args *args = argp;
	READDIR3res *res = resp;
	struct fsobj *dir;
	res->status = nfs3_resolve_dir(req, &args->dir, &dir);
	if (res->status != NFS3_OK)
		return;
	struct rd_ctx c = { .req = req, .dir = dir, .max_budget = clamp_count(req, args->count) };
	READDIR3resok *ok = &res->READDIR3res_u.resok;
	void *head = NULL;
	res->status = readdir_common(&c, args->cookie, &head, &ok->reply.eof);
	fsobj_refresh(dir);
	if (res->status == NFS3_OK) {
		ok->reply.entries = head;
		/* Echo the client's verifier, as knfsd does: cookies never go stale. */
		memcpy(ok->cookieverf, args->cookieverf, NFS3_COOKIEVERFSIZE);
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->READDIR3res_u.resfail.dir_attributes);
	}
	fsobj_put(dir);
}

void nfs3_readdirplus(struct req *req, void *argp, void *resp)
{
	READDIRPLUS3args *args = argp;
	READDIRPLUS3res *res = resp;
	struct fsobj *dir;
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
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	c.handles = dhc_acquire(dir->st.st_dev, dir->st.st_ino, &dir->st.st_ctim, &now);
	res->status = readdir_common(&c, args->cookie, &head, &ok->reply.eof);
	dhc_release(c.handles);
	fsobj_refresh(dir);
	if (res->status == NFS3_OK) {
		ok->reply.entries = head;
		memcpy(ok->cookieverf, args->cookieverf, NFS3_COOKIEVERFSIZE);
		attr_post_op(dir->ex, &dir->st, &ok->dir_attributes);
	} else {
		attr_post_op(dir->ex, &dir->st, &res->READDIRPLUS3res_u.resfail.dir_attributes);
	}
	fsobj_put(dir);
}

/* ---- filesystem information ---- */

void nfs3_fsstat(struct req *req, void *argp, void *resp)
{
	FSSTAT3args *args = argp;
	FSSTAT3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->fsroot, &obj);
	if (res->status != NFS3_OK)
		return;
	struct statvfs sv;
	if (fstatvfs(obj->fd, &sv) < 0) {
		res->status = nfs3_errno(errno);
		attr_post_op(obj->ex, &obj->st, &res->FSSTAT3res_u.resfail.obj_attributes);
		fsobj_put(obj);
		return;
	}
	FSSTAT3resok *ok = &res->FSSTAT3res_u.resok;
	ok->tbytes = (size3)sv.f_blocks * sv.f_frsize;
	ok->fbytes = (size3)sv.f_bfree * sv.f_frsize;
	ok->abytes = (size3)sv.f_bavail * sv.f_frsize;
	ok->tfiles = sv.f_files;
	ok->ffiles = sv.f_ffree;
	ok->afiles = sv.f_favail;
	ok->invarsec = 0; /* a live filesystem: no promise it won't change */
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	fsobj_put(obj);
}

void nfs3_fsinfo(struct req *req, void *argp, void *resp)
{
	FSINFO3args *args = argp;
	FSINFO3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->fsroot, &obj);
	if (res->status != NFS3_OK)
		return;
	FSINFO3resok *ok = &res->FSINFO3res_u.resok;
	uint32_t max = req->call->peer->is_tcp ? NFS3_RTMAX : NFS3_UDP_MAX;
	ok->rtmax = max;
	ok->rtpref = max;
	ok->rtmult = 4096;
	ok->wtmax = req->call->peer->is_tcp ? NFS3_WTMAX : NFS3_UDP_MAX;
	ok->wtpref = ok->wtmax;
	ok->wtmult = 4096;
	ok->dtpref = NFS3_DTPREF;
	ok->maxfilesize = (size3)INT64_MAX;
	ok->time_delta.seconds = 0;
	ok->time_delta.nseconds = 1;
	ok->properties = FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME;
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	fsobj_put(obj);
}

void nfs3_pathconf(struct req *req, void *argp, void *resp)
{
	PATHCONF3args *args = argp;
	PATHCONF3res *res = resp;
	struct fsobj *obj;
	res->status = fh_resolve(req, &args->object, &obj);
	if (res->status != NFS3_OK)
		return;
	PATHCONF3resok *ok = &res->PATHCONF3res_u.resok;
	long linkmax = fpathconf(obj->fd, _PC_LINK_MAX);
	ok->linkmax = linkmax > 0 ? (uint32)linkmax : 65000;
	ok->name_max = NFS3_MAXNAMLEN;
	ok->no_trunc = TRUE;
	ok->chown_restricted = TRUE;
	ok->case_insensitive = FALSE;
	ok->case_preserving = TRUE;
	attr_post_op(obj->ex, &obj->st, &ok->obj_attributes);
	fsobj_put(obj);
}
