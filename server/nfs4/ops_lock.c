/*
 * LOCK, LOCKT, LOCKU (RFC 8881 18.10-18.12), TEST_STATEID, FREE_STATEID
 * (18.48, 18.38) and DELEGRETURN (18.6): rpcgen's arguments to the state
 * core's and back. The state core decides every conflict; the real file is
 * reached through the backend's lock_fd, which the OFD lock hooks reopen
 * per lock-owner (as the server: the caller may lack the right to open the
 * file for writing that a write lock's descriptor needs). Blocking lock
 * types are their non-blocking ones: NFS4ERR_DENIED, and the client polls.
 * The seqids of open_to_lock_owner4, exist_lock_owner4 and LOCKU mean
 * nothing in 4.1 (sessions order the requests) and are not looked at.
 */
#include "nfs4_int.h"

#include "cred.h"

#include <string.h>

static enum st4_lock_type lock_type(nfs_lock_type4 t)
{
	switch (t) {
	case READ_LT:
	case READW_LT:
		return ST4_LOCK_READ;
	case WRITE_LT:
	case WRITEW_LT:
		return ST4_LOCK_WRITE;
	}
	return ST4_LOCK_UNLOCK; /* not a lock type: the state core answers INVAL */
}

/* What the hooks lock through: the backend's descriptor of the file, or nothing. */
static void *file_ctx(struct vfs_obj *obj, struct st4_ofd_file *f)
{
	const struct vfs_ops *ops = obj->ex->ops;
	f->fd = ops->lock_fd ? ops->lock_fd(obj) : -1;
	return f->fd >= 0 ? f : NULL;
}

/* LOCK4denied from the state core's; the owner's bytes into the reply's arena. */
static nfsstat4 denied_out(struct nfs4_cs *cs, const struct st4_lock_denied *d, LOCK4denied *out)
{
	out->offset = d->offset;
	out->length = d->length;
	out->locktype = d->type == ST4_LOCK_WRITE ? WRITE_LT : READ_LT;
	out->owner.clientid = d->clientid;
	out->owner.owner.owner_len = d->owner_len;
	out->owner.owner.owner_val = d->owner_len ? req_alloc(cs->req, d->owner_len) : NULL;
	if (d->owner_len && !out->owner.owner.owner_val)
		return NFS4ERR_DELAY;
	if (d->owner_len)
		memcpy(out->owner.owner.owner_val, d->owner, d->owner_len);
	return NFS4ERR_DENIED;
}

/* The locker4: a new lock-owner with its open's stateid, or an existing lock stateid. */
static nfsstat4 locker_in(struct nfs4_cs *cs, const locker4 *l, struct st4_lock_args *la)
{
	la->new_lock_owner = l->new_lock_owner;
	if (!l->new_lock_owner)
		return nfs4_stateid_in(cs, &l->locker4_u.lock_owner.lock_stateid, &la->stateid);
	const open_to_lock_owner4 *o = &l->locker4_u.open_owner;
	la->lock_owner = (const uint8_t *)o->lock_owner.owner.owner_val;
	la->lock_owner_len = o->lock_owner.owner.owner_len;
	return nfs4_stateid_in(cs, &o->open_stateid, &la->stateid);
}

OP4_DECL(lock)
{
	LOCK4args *a = &arg->nfs_argop4_u.oplock;
	LOCK4res *r = &res->nfs_resop4_u.oplock;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	struct st4_ofd_file f;
	struct st4_lock_args la = {
		.file = nfs4_filekey(cs->cur),
		.file_ctx = file_ctx(cs->cur, &f),
		.type = lock_type(a->locktype),
		.reclaim = a->reclaim,
		.offset = a->offset,
		.length = a->length,
	};
	if (st == NFS4_OK)
		st = locker_in(cs, &a->locker, &la);
	if (st != NFS4_OK)
		return st;
	struct st4_stateid out;
	struct st4_lock_denied d;
	/* The hooks open the file for the lock-owner: as the server, not the caller. */
	cred_escalate();
	st = (nfsstat4)st4_lock(nfs4_g.st, nfs4_client(cs), &la, &out, &d);
	cred_restore();
	if (st == NFS4ERR_DENIED)
		return denied_out(cs, &d, &r->LOCK4res_u.denied);
	if (st == NFS4_OK)
		nfs4_stateid_out(cs, &out, &r->LOCK4res_u.resok4.lock_stateid);
	return st;
}

OP4_DECL(lockt)
{
	LOCKT4args *a = &arg->nfs_argop4_u.oplockt;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	if (st != NFS4_OK)
		return st;
	struct st4_filekey key = nfs4_filekey(cs->cur);
	struct st4_ofd_file f;
	void *ctx = file_ctx(cs->cur, &f);
	struct st4_lock_denied d;
	cred_escalate();
	st = (nfsstat4)st4_lockt(nfs4_g.st, nfs4_client(cs), &key, ctx, lock_type(a->locktype),
				 a->offset, a->length, (const uint8_t *)a->owner.owner.owner_val,
				 a->owner.owner.owner_len, &d);
	cred_restore();
	if (st == NFS4ERR_DENIED)
		return denied_out(cs, &d, &res->nfs_resop4_u.oplockt.LOCKT4res_u.denied);
	return st;
}

OP4_DECL(locku)
{
	LOCKU4args *a = &arg->nfs_argop4_u.oplocku;
	nfsstat4 st = nfs4_regular_check(cs->cur);
	struct st4_stateid sid, out;
	if (st == NFS4_OK)
		st = nfs4_stateid_in(cs, &a->lock_stateid, &sid);
	if (st != NFS4_OK)
		return st;
	struct st4_filekey key = nfs4_filekey(cs->cur);
	st = (nfsstat4)st4_locku(nfs4_g.st, nfs4_client(cs), &sid, &key, a->offset, a->length,
				 &out);
	if (st == NFS4_OK)
		nfs4_stateid_out(cs, &out, &res->nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid);
	return st;
}

/* ------------------------------------------ TEST_STATEID, FREE_STATEID */

OP4_DECL(test_stateid)
{
	TEST_STATEID4args *a = &arg->nfs_argop4_u.optest_stateid;
	TEST_STATEID4resok *ok = &res->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	unsigned n = a->ts_stateids.ts_stateids_len;
	struct st4_stateid *sids = n ? req_alloc(cs->req, n * sizeof(*sids)) : NULL;
	enum st4_status *status = n ? req_alloc(cs->req, n * sizeof(*status)) : NULL;
	nfsstat4 *codes = n ? req_alloc(cs->req, n * sizeof(*codes)) : NULL;
	if (n && (!sids || !status || !codes))
		return NFS4ERR_DELAY;
	/* As they are: "the current stateid" is not one to test (it is BAD_STATEID, a special one). */
	for (unsigned i = 0; i < n; i++) {
		sids[i].seqid = a->ts_stateids.ts_stateids_val[i].seqid;
		memcpy(sids[i].other, a->ts_stateids.ts_stateids_val[i].other,
		       sizeof(sids[i].other));
	}
	st4_test_stateids(nfs4_g.st, nfs4_client(cs), sids, n, status);
	for (unsigned i = 0; i < n; i++)
		codes[i] = (nfsstat4)status[i];
	ok->tsr_status_codes.tsr_status_codes_len = n;
	ok->tsr_status_codes.tsr_status_codes_val = codes;
	return NFS4_OK;
}

OP4_DECL(free_stateid)
{
	(void)res;
	struct st4_stateid sid;
	nfsstat4 st = nfs4_stateid_in(cs, &arg->nfs_argop4_u.opfree_stateid.fsa_stateid, &sid);
	if (st != NFS4_OK)
		return st;
	return (nfsstat4)st4_free_stateid(nfs4_g.st, nfs4_client(cs), &sid);
}

/* No delegation is ever handed out: whatever the stateid, it names none. */
OP4_DECL(delegreturn)
{
	(void)res;
	struct st4_stateid sid;
	nfsstat4 st = nfs4_stateid_in(cs, &arg->nfs_argop4_u.opdelegreturn.deleg_stateid, &sid);
	return st != NFS4_OK ? st : NFS4ERR_BAD_STATEID;
}
