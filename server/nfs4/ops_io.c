/*
 * OPEN, OPEN_DOWNGRADE, CLOSE (RFC 8881 18.16, 18.18, 18.2) and READ,
 * WRITE, COMMIT (18.22, 18.32, 18.3). The state core decides share
 * reservations, stateids and the grace period; these find or create the
 * file through the backend as v3 does (the exclusive-create verifier in
 * atime/mtime, the owner override, the server's write verifier), check
 * what v3 checks, and translate.
 *
 * Choices where the RFC leaves room follow knfsd (fs/nfsd/nfs4proc.c):
 *   - UNCHECKED4 over an existing name opens it; only a size of 0 in the
 *     createattrs applies (truncation, which needs share access WRITE,
 *     else NFS4ERR_INVAL), after the share reservation is granted
 *   - opening a directory NFS4ERR_ISDIR, a symlink NFS4ERR_SYMLINK, any
 *     other non-regular file NFS4ERR_WRONG_TYPE
 *   - the permission check (skipped for a file this OPEN created): share
 *     READ needs read or execute permission, WRITE and DENY_READ write
 *     permission, the owner always passes
 *   - no delegation ever: OPEN_DELEGATE_NONE, or, when the client said
 *     what it wants, OPEN_DELEGATE_NONE_EXT with knfsd's reason
 *   - READ and WRITE with a regular stateid are not checked against the
 *     caller's permissions again (OPEN did, as an open file descriptor
 *     keeps its access); with the anonymous or bypass stateid they are
 */
#include "nfs4_attr.h"
#include "nfs4_int.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_FILE_MODE 0644 /* a create whose attributes carry none */
#define READ_MAX (1u << 20)
/* Room a READ leaves in the reply: its own header, the COMPOUND's, a GETATTR after it. */
#define READ_REPLY_MARGIN 1024u

static bool export_ro(const struct nfs4_cs *cs)
{
	return cs->req->opts && cs->req->opts->ro;
}

static bool export_async(const struct nfs4_cs *cs)
{
	return cs->req->opts && cs->req->opts->async;
}

nfsstat4 nfs4_regular_check(const struct vfs_obj *obj)
{
	mode_t m = obj->st.st_mode;
	if (S_ISREG(m))
		return NFS4_OK;
	return S_ISDIR(m) ? NFS4ERR_ISDIR : S_ISLNK(m) ? NFS4ERR_SYMLINK : NFS4ERR_WRONG_TYPE;
}

static void bit_set(uint32_t *w, unsigned bit)
{
	w[bit / 32] |= 1u << (bit % 32);
}

static void bit_clear(uint32_t *w, unsigned bit)
{
	w[bit / 32] &= ~(1u << (bit % 32));
}

/* ------------------------------------------------------------------ OPEN */

struct open_ctx {
	struct nfs4_cs *cs;
	const OPEN4args *a;
	struct vfs_obj *file; /* the file opened: its own reference, or cs->cur (borrowed) */
	struct fh_buf fh;
	bool borrowed; /* CLAIM_FH, CLAIM_PREVIOUS: the current filehandle is the file */
	bool created;  /* by this OPEN, or by the one this retransmits (EXCLUSIVE's verifier) */
	bool truncate; /* UNCHECKED4 with a size of 0 over an existing file */
	uint32_t attrset[NFS4_ATTR_WORDS];
};

/* The object a create or lookup in the directory gave becomes the OPEN's file. */
static nfsstat4 take_new(struct open_ctx *o, const struct vfs_new *n)
{
	int rc = vfs_resolve(o->cs->req, n->fh.data, n->fh.len, &o->file);
	if (rc < 0)
		return nfs4_errno(rc);
	o->fh = n->fh;
	return NFS4_OK;
}

static nfsstat4 lookup_existing(struct open_ctx *o, struct vfs_obj *dir, const char *name)
{
	struct vfs_new n;
	int rc = vfs_lookup(dir, name, &n);
	return rc < 0 ? nfs4_errno(rc) : take_new(o, &n);
}

static nfsstat4 setattr_file(struct open_ctx *o, const struct vfs_sattr *sa)
{
	int rc = o->file->ex->ops->setattr(o->file, sa);
	vfs_refresh(o->file);
	return nfs4_errno(rc);
}

/*
 * What creation left to set, as v3 and knfsd: the mode is set already, a
 * size of 0 is moot, and only root may give the file away (those bits
 * leave attrset: they were not set).
 */
static nfsstat4 apply_rest(struct open_ctx *o, struct vfs_sattr *sa)
{
	sa->mask &= ~(unsigned)VFS_SET_MODE;
	if ((sa->mask & VFS_SET_SIZE) && sa->size == 0)
		sa->mask &= ~(unsigned)VFS_SET_SIZE;
	if (cred_current()->uid != 0) {
		sa->mask &= ~(unsigned)(VFS_SET_UID | VFS_SET_GID);
		bit_clear(o->attrset, FATTR4_OWNER);
		bit_clear(o->attrset, FATTR4_OWNER_GROUP);
	}
	return sa->mask ? setattr_file(o, sa) : NFS4_OK;
}

static uint32_t verf_word(const char *p)
{
	const uint8_t *u = (const uint8_t *)p;
	uint32_t v = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
	return v & 0x7fffffffu; /* v3's rule: filesystems with 31-bit times keep it too */
}

/* The verifier v3's EXCLUSIVE keeps: atime and mtime seconds of a still empty file. */
static bool verifier_matches(const struct stat *st, uint32_t va, uint32_t vm)
{
	return S_ISREG(st->st_mode) && st->st_size == 0 && (uint32_t)st->st_atim.tv_sec == va &&
	       (uint32_t)st->st_mtim.tv_sec == vm;
}

/* UNCHECKED4 and GUARDED4: createattrs, and UNCHECKED4's open of what exists. */
static nfsstat4 create_checked(struct open_ctx *o, struct vfs_obj *dir, const char *name,
			       const createhow4 *how)
{
	struct vfs_sattr sa;
	nfsstat4 st = nfs4_attr_decode_set(&how->createhow4_u.createattrs, NULL, &sa, o->attrset);
	if (st != NFS4_OK)
		return st;
	mode_t mode = (sa.mask & VFS_SET_MODE) ? sa.mode : DEFAULT_FILE_MODE;
	struct vfs_new n;
	int rc = dir->ex->ops->create(dir, name, mode, &n);
	if (rc == 0) {
		o->created = true;
		st = take_new(o, &n);
		return st == NFS4_OK ? apply_rest(o, &sa) : st;
	}
	if (rc != -EEXIST || how->mode != UNCHECKED4)
		return nfs4_errno(rc);
	memset(o->attrset, 0, sizeof(o->attrset));
	o->truncate = (sa.mask & VFS_SET_SIZE) && sa.size == 0;
	if (o->truncate)
		bit_set(o->attrset, FATTR4_SIZE);
	return lookup_existing(o, dir, name);
}

/* A new exclusive file: the rest of its attributes, then the verifier, last, so nothing moves it. */
static nfsstat4 stamp_new(struct open_ctx *o, const struct vfs_new *n, struct vfs_sattr *sa,
			  uint32_t va, uint32_t vm)
{
	o->created = true;
	nfsstat4 st = take_new(o, n);
	if (st == NFS4_OK)
		st = apply_rest(o, sa);
	if (st != NFS4_OK)
		return st;
	struct vfs_sattr times = { .mask = VFS_SET_ATIME | VFS_SET_MTIME,
				   .atime = { (time_t)va, 0 },
				   .mtime = { (time_t)vm, 0 } };
	return setattr_file(o, &times);
}

/*
 * The name exists: this OPEN's retransmission finds the file its first
 * transmission made by the verifier (anything else is EXIST). It is the
 * caller's own only if the caller owns it: else permissions are checked.
 */
static nfsstat4 retransmitted(struct open_ctx *o, struct vfs_obj *dir, const char *name,
			      uint32_t va, uint32_t vm)
{
	nfsstat4 st = lookup_existing(o, dir, name);
	if (st != NFS4_OK)
		return st;
	if (!verifier_matches(&o->file->st, va, vm))
		return NFS4ERR_EXIST;
	o->created = o->file->st.st_uid == cred_current()->uid;
	return NFS4_OK;
}

/*
 * EXCLUSIVE4 (4.0's, the client sets the attributes after) and
 * EXCLUSIVE4_1 (cva_attrs within suppattr_exclcreat). The verifier goes in
 * the times, last, so nothing set after it moves them; a retransmission
 * finds its own file by it. attrset says the times hold it: the client
 * sets them itself after (RFC 8881 18.16.3).
 */
static nfsstat4 create_exclusive(struct open_ctx *o, struct vfs_obj *dir, const char *name,
				 const char *verf, const fattr4 *attrs)
{
	struct vfs_sattr sa = { 0 };
	if (attrs) {
		nfsstat4 st = nfs4_attr_decode_set(attrs, nfs4_attr_exclcreat, &sa, o->attrset);
		if (st != NFS4_OK)
			return st;
	}
	uint32_t va = verf_word(verf), vm = verf_word(verf + 4);
	/* 4.0's client sends SETATTR with the mode next, as v3's does. */
	mode_t mode = (sa.mask & VFS_SET_MODE) ? sa.mode : attrs ? DEFAULT_FILE_MODE : 0;
	struct vfs_new n;
	int rc = dir->ex->ops->create(dir, name, mode, &n);
	nfsstat4 st = rc == 0	      ? stamp_new(o, &n, &sa, va, vm)
		      : rc == -EEXIST ? retransmitted(o, dir, name, va, vm)
				      : nfs4_errno(rc);
	if (st != NFS4_OK)
		return st;
	bit_set(o->attrset, FATTR4_TIME_ACCESS);
	bit_set(o->attrset, FATTR4_TIME_MODIFY);
	return NFS4_OK;
}

static nfsstat4 open_create(struct open_ctx *o, struct vfs_obj *dir, const char *name)
{
	if (export_ro(o->cs))
		return NFS4ERR_ROFS;
	const createhow4 *how = &o->a->openhow.openflag4_u.how;
	switch (how->mode) {
	case UNCHECKED4:
	case GUARDED4:
		return create_checked(o, dir, name, how);
	case EXCLUSIVE4:
		return create_exclusive(o, dir, name, how->createhow4_u.createverf, NULL);
	case EXCLUSIVE4_1:
		return create_exclusive(o, dir, name, how->createhow4_u.ch_createboth.cva_verf,
					&how->createhow4_u.ch_createboth.cva_attrs);
	}
	return NFS4ERR_INVAL;
}

/* CLAIM_NULL: a name in the current directory, made if asked. */
static nfsstat4 open_by_name(struct open_ctx *o, change_info4 *cinfo)
{
	struct vfs_obj *dir = o->cs->cur;
	if (!S_ISDIR(dir->st.st_mode))
		return S_ISLNK(dir->st.st_mode) ? NFS4ERR_SYMLINK : NFS4ERR_NOTDIR;
	char *name;
	nfsstat4 st = nfs4_component(o->cs, &o->a->claim.open_claim4_u.file, &name);
	if (st != NFS4_OK)
		return st;
	if (vfs_is_dot_or_dotdot(name, strlen(name)))
		return NFS4ERR_BADNAME;
	/* Ask the grace rules first: no file is made for an OPEN that fails with GRACE. */
	st = (nfsstat4)st4_grace_check(nfs4_g.st, nfs4_client(o->cs), false);
	if (st != NFS4_OK)
		return st;
	cinfo->before = nfs4_attr_change(&dir->st);
	if (o->a->openhow.opentype == OPEN4_CREATE)
		st = open_create(o, dir, name);
	else
		st = lookup_existing(o, dir, name);
	struct stat now;
	cinfo->after = vfs_getattr(dir, &now) == 0 ? nfs4_attr_change(&now) : cinfo->before;
	return st;
}

/* CLAIM_FH and CLAIM_PREVIOUS: the current filehandle is the file (no directory: no cinfo). */
static nfsstat4 open_by_fh(struct open_ctx *o)
{
	o->file = o->cs->cur;
	o->fh = o->cs->cur_fh;
	o->borrowed = true;
	const createhow4 *how = &o->a->openhow.openflag4_u.how;
	if (o->a->openhow.opentype != OPEN4_CREATE || how->mode != UNCHECKED4 ||
	    o->a->claim.claim != CLAIM_FH)
		return NFS4_OK; /* nothing to create: the rest of openhow means nothing here */
	struct vfs_sattr sa;
	uint32_t set[NFS4_ATTR_WORDS];
	nfsstat4 st = nfs4_attr_decode_set(&how->createhow4_u.createattrs, NULL, &sa, set);
	o->truncate = st == NFS4_OK && (sa.mask & VFS_SET_SIZE) && sa.size == 0;
	if (o->truncate)
		bit_set(o->attrset, FATTR4_SIZE);
	return st;
}

/* May the caller open the file so? (nfsd's do_open_permission) */
static nfsstat4 open_permission(struct open_ctx *o, uint32_t access, uint32_t deny)
{
	if (o->truncate && !(access & OPEN4_SHARE_ACCESS_WRITE))
		return NFS4ERR_INVAL;
	if ((access & OPEN4_SHARE_ACCESS_WRITE) && export_ro(o->cs))
		return NFS4ERR_ROFS;
	if (o->created)
		return NFS4_OK; /* the creator opens what it made, whatever mode it gave it */
	if ((access & OPEN4_SHARE_ACCESS_READ) && !vfs_may_io(o->file, false))
		return NFS4ERR_ACCESS;
	/* Denying others READ is a way to keep them out: it takes the right to write. */
	bool need_write = (access & OPEN4_SHARE_ACCESS_WRITE) || (deny & OPEN4_SHARE_DENY_READ);
	if (need_write && !vfs_may_io(o->file, true))
		return NFS4ERR_ACCESS;
	return NFS4_OK;
}

/* The share reservation and stateid, then UNCHECKED4's truncation (never before the share check). */
static nfsstat4 open_state(struct open_ctx *o, struct st4_stateid *sid)
{
	const OPEN4args *a = o->a;
	struct st4_open_args sa = {
		.file = nfs4_filekey(o->file),
		.owner = (const uint8_t *)a->owner.owner.owner_val,
		.owner_len = a->owner.owner.owner_len,
		.access = a->share_access,
		.deny = a->share_deny,
		.reclaim = a->claim.claim == CLAIM_PREVIOUS,
	};
	struct st4_client *c = nfs4_client(o->cs);
	nfsstat4 st = (nfsstat4)st4_open(nfs4_g.st, c, &sa, sid);
	if (st != NFS4_OK || !o->truncate)
		return st;
	struct vfs_sattr size0 = { .mask = VFS_SET_SIZE, .size = 0 };
	st = setattr_file(o, &size0);
	if (st != NFS4_OK && sid->seqid == 1) {
		/* A new open that failed: let it go (an upgraded one keeps what it had). */
		struct st4_stateid gone;
		st4_close(nfs4_g.st, c, sid, &sa.file, &gone);
	}
	return st;
}

/* knfsd's answer when no delegation is given (nfs4state.c nfsd4_open_deleg_none_ext). */
static void no_delegation(uint32_t share_access, open_delegation4 *d)
{
	uint32_t want = share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
	memset(d, 0, sizeof(*d));
	if (want == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE) {
		d->delegation_type = OPEN_DELEGATE_NONE;
		return;
	}
	d->delegation_type = OPEN_DELEGATE_NONE_EXT;
	open_none_delegation4 *n = &d->open_delegation4_u.od_whynone;
	n->ond_why = want == OPEN4_SHARE_ACCESS_WANT_NO_DELEG ? WND4_NOT_WANTED
		     : want == OPEN4_SHARE_ACCESS_WANT_CANCEL ? WND4_CANCELLED
							      : WND4_RESOURCE;
	/* WND4_RESOURCE's flag: no signal will come (no callbacks are ever sent). */
	n->open_none_delegation4_u.ond_server_will_signal_avail = FALSE;
}

static nfsstat4 attrset_out(struct nfs4_cs *cs, const uint32_t *w, bitmap4 *out)
{
	unsigned n = NFS4_ATTR_WORDS;
	while (n > 0 && !w[n - 1])
		n--;
	out->bitmap4_len = n;
	out->bitmap4_val = n ? req_alloc(cs->req, n * sizeof(uint32_t)) : NULL;
	if (n && !out->bitmap4_val)
		return NFS4ERR_DELAY;
	if (n)
		memcpy(out->bitmap4_val, w, n * sizeof(uint32_t));
	return NFS4_OK;
}

static nfsstat4 open_find(struct open_ctx *o, change_info4 *cinfo)
{
	switch (o->a->claim.claim) {
	case CLAIM_NULL:
		return open_by_name(o, cinfo);
	case CLAIM_FH:
	case CLAIM_PREVIOUS:
		return open_by_fh(o);
	default:
		return NFS4ERR_NOTSUPP; /* the delegation claims: no delegation is ever given */
	}
}

/* The opened file becomes the current filehandle, its stateid the current stateid. */
static nfsstat4 open_result(struct open_ctx *o, const struct st4_stateid *sid, OPEN4resok *ok)
{
	nfsstat4 st = attrset_out(o->cs, o->attrset, &ok->attrset);
	if (st != NFS4_OK)
		return st;
	ok->rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
	no_delegation(o->a->share_access, &ok->delegation);
	if (!o->borrowed) {
		nfs4_set_cur_obj(o->cs, o->file, &o->fh);
		o->file = NULL;
	}
	nfs4_stateid_out(o->cs, sid, &ok->stateid);
	return NFS4_OK;
}

/* share_access (WANT bits aside) and share_deny as 18.16.3 has them: checked before any create. */
static bool valid_share(uint32_t access, uint32_t deny)
{
	uint32_t a = access & 0xffu;
	return a >= OPEN4_SHARE_ACCESS_READ && a <= OPEN4_SHARE_ACCESS_BOTH &&
	       deny <= OPEN4_SHARE_DENY_BOTH;
}

OP4_DECL(open)
{
	OPEN4resok *ok = &res->nfs_resop4_u.opopen.OPEN4res_u.resok4;
	struct open_ctx o = { .cs = cs, .a = &arg->nfs_argop4_u.opopen };
	if (!valid_share(o.a->share_access, o.a->share_deny))
		return NFS4ERR_INVAL;
	memset(&ok->cinfo, 0, sizeof(ok->cinfo));
	nfsstat4 st = open_find(&o, &ok->cinfo);
	if (st == NFS4_OK)
		st = nfs4_regular_check(o.file);
	uint32_t access = o.a->share_access & OPEN4_SHARE_ACCESS_BOTH;
	if (st == NFS4_OK)
		st = open_permission(&o, access, o.a->share_deny);
	struct st4_stateid sid;
	if (st == NFS4_OK)
		st = open_state(&o, &sid);
	if (st == NFS4_OK)
		st = open_result(&o, &sid, ok);
	if (!o.borrowed)
		vfs_put(o.file);
	return st;
}

/* --------------------------------------------------- OPEN_DOWNGRADE, CLOSE */

OP4_DECL(open_downgrade)
{
	OPEN_DOWNGRADE4args *a = &arg->nfs_argop4_u.opopen_downgrade;
	struct st4_stateid sid, out;
	nfsstat4 st = nfs4_stateid_in(cs, &a->open_stateid, &sid);
	if (st != NFS4_OK)
		return st;
	struct st4_filekey key = nfs4_filekey(cs->cur);
	st = (nfsstat4)st4_open_downgrade(nfs4_g.st, nfs4_client(cs), &sid, &key, a->share_access,
					  a->share_deny, &out);
	if (st == NFS4_OK)
		nfs4_stateid_out(cs, &out,
				 &res->nfs_resop4_u.opopen_downgrade.OPEN_DOWNGRADE4res_u.resok4
					  .open_stateid);
	return st;
}

OP4_DECL(close)
{
	CLOSE4args *a = &arg->nfs_argop4_u.opclose;
	struct st4_stateid sid, out;
	nfsstat4 st = nfs4_stateid_in(cs, &a->open_stateid, &sid);
	if (st != NFS4_OK)
		return st;
	struct st4_filekey key = nfs4_filekey(cs->cur);
	st = (nfsstat4)st4_close(nfs4_g.st, nfs4_client(cs), &sid, &key, &out);
	if (st == NFS4_OK)
		nfs4_stateid_out(cs, &out, &res->nfs_resop4_u.opclose.CLOSE4res_u.open_stateid);
	return st;
}

/* -------------------------------------------------------- READ, WRITE, COMMIT */

/* The stateid's say on I/O, and the caller's permission when no open stands behind it. */
static nfsstat4 io_check(struct nfs4_cs *cs, const stateid4 *in, bool write)
{
	struct st4_stateid sid;
	nfsstat4 st = nfs4_stateid_in(cs, in, &sid);
	if (st != NFS4_OK)
		return st;
	struct st4_filekey key = nfs4_filekey(cs->cur);
	st = (nfsstat4)st4_check_io(nfs4_g.st, nfs4_client(cs), &sid, &key, write);
	if (st != NFS4_OK)
		return st;
	enum st4_stateid_class k = st4_stateid_classify(&sid);
	bool special = k == ST4_SID_ANONYMOUS || k == ST4_SID_BYPASS;
	if (special && !vfs_may_io(cs->cur, write))
		return NFS4ERR_ACCESS;
	return NFS4_OK;
}

/* As much of count as the reply has room for: a short READ, rather than an error. */
static nfsstat4 read_budget(const struct nfs4_cs *cs, uint32_t count, uint32_t *out)
{
	size_t limit = cs->max_reply;
	bool cached = cs->in_session && cs->slot.cachethis;
	if (cached && st4_slot_cache_limit(&cs->slot) < limit)
		limit = st4_slot_cache_limit(&cs->slot);
	size_t room = limit > cs->reply_size + READ_REPLY_MARGIN
			      ? limit - cs->reply_size - READ_REPLY_MARGIN
			      : 0;
	*out = count < READ_MAX ? count : READ_MAX;
	if (*out > room)
		*out = (uint32_t)room;
	if (count > 0 && *out == 0)
		return cached ? NFS4ERR_REP_TOO_BIG_TO_CACHE : NFS4ERR_REP_TOO_BIG;
	return NFS4_OK;
}

OP4_DECL(read)
{
	READ4args *a = &arg->nfs_argop4_u.opread;
	READ4resok *ok = &res->nfs_resop4_u.opread.READ4res_u.resok4;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	if (st == NFS4_OK)
		st = io_check(cs, &a->stateid, false);
	uint32_t count = 0;
	if (st == NFS4_OK)
		st = read_budget(cs, a->count, &count);
	if (st != NFS4_OK)
		return st;
	if (a->offset > (uint64_t)INT64_MAX)
		count = 0; /* beyond what a file can hold: nothing, and the end */
	char *data = count ? req_alloc(cs->req, count) : NULL;
	if (count && !data)
		return NFS4ERR_DELAY;
	ssize_t n = count ? cs->cur->ex->ops->read(cs->cur, data, count, a->offset) : 0;
	if (n < 0)
		return nfs4_errno((int)n);
	vfs_refresh(cs->cur);
	ok->eof = a->offset + (uint64_t)n >= (uint64_t)cs->cur->st.st_size;
	ok->data.data_len = (u_int)n;
	ok->data.data_val = n ? data : NULL;
	return NFS4_OK;
}

static enum vfs_stable stable_of(stable_how4 how)
{
	return how == UNSTABLE4 ? VFS_UNSTABLE : how == DATA_SYNC4 ? VFS_DATA_SYNC : VFS_FILE_SYNC;
}

OP4_DECL(write)
{
	WRITE4args *a = &arg->nfs_argop4_u.opwrite;
	WRITE4resok *ok = &res->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	if (st == NFS4_OK && export_ro(cs))
		st = NFS4ERR_ROFS;
	if (st == NFS4_OK)
		st = io_check(cs, &a->stateid, true);
	if (st != NFS4_OK)
		return st;
	uint64_t len = a->data.data_len;
	if (a->offset > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - a->offset)
		return NFS4ERR_FBIG;
	/* async (as knfsd's): the reply says what was asked, the disk gets it later. */
	enum vfs_stable done = export_async(cs) ? VFS_UNSTABLE : stable_of(a->stable);
	ssize_t n = cs->cur->ex->ops->write(cs->cur, a->data.data_val, len, a->offset, done);
	if (n < 0)
		return nfs4_errno((int)n);
	ok->count = (count4)n;
	ok->committed = a->stable;
	vfs_write_verf((uint8_t *)ok->writeverf);
	return NFS4_OK;
}

OP4_DECL(commit)
{
	COMMIT4args *a = &arg->nfs_argop4_u.opcommit;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	if (st == NFS4_OK && export_ro(cs))
		st = NFS4ERR_ROFS;
	/* A range past 2^64 (18.3.3): INVAL. The whole file is flushed anyway. */
	if (st == NFS4_OK && a->count && a->offset + a->count < a->offset)
		st = NFS4ERR_INVAL;
	/* As v3 and knfsd: COMMIT needs write access (the owner always has it). */
	if (st == NFS4_OK && !vfs_may_io(cs->cur, true))
		st = NFS4ERR_ACCESS;
	if (st == NFS4_OK && !export_async(cs))
		st = nfs4_errno(cs->cur->ex->ops->commit(cs->cur));
	if (st == NFS4_OK)
		vfs_write_verf((uint8_t *)res->nfs_resop4_u.opcommit.COMMIT4res_u.resok4.writeverf);
	return st;
}
