/*
 * The COMPOUND procedure (RFC 8881 16.2): operations decoded one at a time
 * with rpcgen's routines (so a bad one is NFS4ERR_BADXDR in its own place
 * and nothing is decoded beyond what runs), the rules of a 4.1 COMPOUND
 * (SEQUENCE first, or one of the operations that create or bind sessions
 * alone), the reply encoded here rather than by dispatch, so that the
 * session's slot can keep its bytes for a retransmission (exactly-once
 * semantics) and a replay sends them as they were.
 */
#define _GNU_SOURCE
#include "nfs4_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COMPOUND_OPS_MAX 128	       /* before a session says its own (ca_maxoperations) */
#define TAG_MAX NFS4_OPAQUE_LIMIT      /* a tag is the client's label for its logs */
#define REPLY_MAX ((1u << 20) + 65536) /* outside a session: more than any reply needs */

struct nfs4_globals nfs4_g;

/* ---- the operation table ---- */

#define OP(num, name, flags) [num] = { #name, nfs4_op_##name, flags }
/* Not written yet: NFS4ERR_NOTSUPP until it is. */
#define OPN(num, name, flags) [num] = { #name, NULL, flags }
static const struct nfs4_op_desc ops[] = {
	OPN(OP_ACCESS, access, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_CLOSE, close, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_COMMIT, commit, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OPN(OP_CREATE, create, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OP(OP_DELEGRETURN, delegreturn, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_GETATTR, getattr, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_GETFH, getfh, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_LINK, link, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OP(OP_LOCK, lock, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_LOCKT, lockt, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_LOCKU, locku, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_LOOKUP, lookup, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_LOOKUPP, lookupp, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_NVERIFY, nverify, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_OPEN, open, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_OPEN_DOWNGRADE, open_downgrade, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_PUTFH, putfh, OP4_NEED_SESSION),
	OP(OP_PUTPUBFH, putpubfh, OP4_NEED_SESSION),
	OP(OP_PUTROOTFH, putrootfh, OP4_NEED_SESSION),
	OP(OP_READ, read, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_READDIR, readdir, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_READLINK, readlink, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_REMOVE, remove, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OPN(OP_RENAME, rename, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OP(OP_RESTOREFH, restorefh, OP4_NEED_SESSION),
	OP(OP_SAVEFH, savefh, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_SECINFO, secinfo, OP4_NEED_FH | OP4_NEED_SESSION),
	OPN(OP_SETATTR, setattr, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OPN(OP_VERIFY, verify, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_WRITE, write, OP4_NEED_FH | OP4_NEED_SESSION | OP4_CHANGES),
	OP(OP_BIND_CONN_TO_SESSION, bind_conn_to_session, OP4_SESSIONLESS),
	OP(OP_EXCHANGE_ID, exchange_id, OP4_SESSIONLESS),
	OP(OP_CREATE_SESSION, create_session, OP4_SESSIONLESS),
	OP(OP_DESTROY_SESSION, destroy_session, OP4_SESSIONLESS),
	OP(OP_FREE_STATEID, free_stateid, OP4_NEED_SESSION),
	OP(OP_SECINFO_NO_NAME, secinfo_no_name, OP4_NEED_FH | OP4_NEED_SESSION),
	OP(OP_SEQUENCE, sequence, 0),
	OP(OP_TEST_STATEID, test_stateid, OP4_NEED_SESSION),
	OP(OP_DESTROY_CLIENTID, destroy_clientid, OP4_SESSIONLESS),
	OP(OP_RECLAIM_COMPLETE, reclaim_complete, OP4_NEED_SESSION),
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

/* Operations the protocol has that this server does not do (delegations, pNFS, named attrs). */
static const struct nfs4_op_desc not_supported = { "(not supported)", NULL, 0 };

const struct nfs4_op_desc *nfs4_op(nfs_opnum4 op)
{
	if ((unsigned)op < NOPS && ops[op].fn)
		return &ops[op];
	if (op >= OP_ACCESS && op <= OP_RECLAIM_COMPLETE)
		return &not_supported;
	return NULL; /* OP_ILLEGAL, or a number no minor version has */
}

/* ---- the checks around each operation ---- */

/* Every result begins with its status. */
static void set_status(nfs_resop4 *res, nfsstat4 st)
{
	memcpy(&res->nfs_resop4_u, &st, sizeof(st));
}

static bool first_may_be_sessionless(const struct nfs4_op_desc *d)
{
	return d && (d->flags & OP4_SESSIONLESS);
}

/* RFC 8881 2.10.6.2 and 18.46.3: where SEQUENCE and the session-less operations may stand. */
static nfsstat4 position_check(struct nfs4_cs *cs, nfs_opnum4 op, const struct nfs4_op_desc *d)
{
	if (op == OP_SEQUENCE)
		return cs->opindex == 0 ? NFS4_OK : NFS4ERR_SEQUENCE_POS;
	if (cs->in_session)
		return NFS4_OK;
	if (cs->opindex > 0 || !first_may_be_sessionless(d))
		return NFS4ERR_OP_NOT_IN_SESSION;
	return cs->numops == 1 ? NFS4_OK : NFS4ERR_NOT_ONLY_OP;
}

static nfsstat4 run_op(struct nfs4_cs *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	const struct nfs4_op_desc *d = nfs4_op(arg->argop);
	res->resop = d ? arg->argop : OP_ILLEGAL;
	if (!d)
		return NFS4ERR_OP_ILLEGAL;
	nfsstat4 st = position_check(cs, arg->argop, d);
	if (st != NFS4_OK)
		return st;
	if (!d->fn)
		return NFS4ERR_NOTSUPP;
	if ((d->flags & OP4_NEED_FH) && !cs->cur)
		return NFS4ERR_NOFILEHANDLE;
	return d->fn(cs, arg, res);
}

/* ---- decoding ---- */

static bool decode_header(XDR *x, struct req *req, COMPOUND4res *res, uint32_t *minor,
			  uint32_t *numops)
{
	u_int taglen;
	if (!xdr_u_int(x, &taglen) || taglen > TAG_MAX)
		return false;
	char *tag = taglen ? (char *)xdr_inline(x, (int)((taglen + 3) & ~3u)) : NULL;
	if (taglen && !tag)
		return false;
	res->tag.utf8string_len = taglen;
	res->tag.utf8string_val = taglen ? req_strdup(req, tag, taglen) : NULL;
	return (!taglen || res->tag.utf8string_val) && xdr_uint32_t(x, minor) &&
	       xdr_uint32_t(x, numops);
}

/* ---- the reply ---- */

/*
 * The results so far must fit what the session allows, and what its slot
 * can keep when SEQUENCE asked for that (RFC 8881 2.10.6.4, 18.46.3).
 */
static nfsstat4 budget_check(struct nfs4_cs *cs, nfs_resop4 *res)
{
	cs->reply_size += xdr_sizeof((xdrproc_t)xdr_nfs_resop4, res);
	if (cs->reply_size > cs->max_reply)
		return NFS4ERR_REP_TOO_BIG;
	if (cs->in_session && cs->slot.cachethis &&
	    cs->reply_size > st4_slot_cache_limit(&cs->slot))
		return NFS4ERR_REP_TOO_BIG_TO_CACHE;
	return NFS4_OK;
}

struct compound_reply {
	uint8_t *bytes;
	size_t len;
};

static bool_t xdr_compound_reply(XDR *x, struct compound_reply *r)
{
	return x->x_op != XDR_ENCODE || !r->len || xdr_opaque(x, (char *)r->bytes, (u_int)r->len);
}

static bool encode_reply(struct req *req, COMPOUND4res *res, struct compound_reply *out)
{
	size_t cap = xdr_sizeof((xdrproc_t)xdr_COMPOUND4res, res);
	uint8_t *buf = req_alloc(req, cap);
	if (!buf)
		return false;
	XDR x;
	xdrmem_create(&x, (char *)buf, (u_int)cap, XDR_ENCODE);
	bool ok = xdr_COMPOUND4res(&x, res);
	out->len = xdr_getpos(&x);
	xdr_destroy(&x);
	out->bytes = buf;
	req->reply_hint = out->len + 64;
	return ok;
}

/* The slot keeps the reply for a retransmission (or only that it cannot be replayed). */
static void finish_slot(struct nfs4_cs *cs, const struct compound_reply *out, bool encoded)
{
	if (!cs->in_session)
		return;
	bool keep = encoded && cs->slot.cachethis;
	st4_slot_done(nfs4_g.st, &cs->slot, keep ? out->bytes : NULL,
		      keep ? (uint32_t)out->len : 0);
	cs->in_session = false;
}

static void run_ops(struct nfs4_cs *cs, XDR *x, COMPOUND4res *res, nfs_argop4 *args)
{
	nfsstat4 st = NFS4_OK;
	for (unsigned i = 0; i < cs->numops && st == NFS4_OK && !cs->replay; i++) {
		nfs_resop4 *r = &res->resarray.resarray_val[i];
		cs->opindex = i;
		res->resarray.resarray_len = i + 1;
		if (!xdr_nfs_argop4(x, &args[i])) {
			r->resop = nfs4_op(args[i].argop) ? args[i].argop : OP_ILLEGAL;
			st = NFS4ERR_BADXDR;
		} else if (cs->in_session && i >= cs->max_ops) {
			r->resop = nfs4_op(args[i].argop) ? args[i].argop : OP_ILLEGAL;
			st = NFS4ERR_TOO_MANY_OPS;
		} else {
			st = run_op(cs, &args[i], r);
		}
		set_status(r, st);
		nfsstat4 b = budget_check(cs, r);
		if (b != NFS4_OK) {
			/* An error result instead, which always fits: the client asks again, smaller. */
			memset(&r->nfs_resop4_u, 0, sizeof(r->nfs_resop4_u));
			set_status(r, st = b);
		}
	}
	res->status = st;
}

static void nfs4_compound(struct req *req, void *argp, void *resp)
{
	(void)argp;
	struct compound_reply *out = resp;
	COMPOUND4res res = { 0 };
	struct nfs4_cs cs = { .req = req, .max_reply = REPLY_MAX, .max_ops = COMPOUND_OPS_MAX };
	cs.conn_id = (uint64_t)(uintptr_t)req->call->peer->cache;
	XDR x;
	xdrmem_create(&x, (char *)req->call->args, (u_int)req->call->args_len, XDR_DECODE);
	uint32_t minor = 0, numops = 0;
	nfs_argop4 *args = NULL;
	if (!decode_header(&x, req, &res, &minor, &numops)) {
		res.status = NFS4ERR_BADXDR;
	} else if (minor != 1) {
		res.status =
			NFS4ERR_MINOR_VERS_MISMATCH; /* 4.0 and 4.2: the client settles on 4.1 */
	} else if (numops > COMPOUND_OPS_MAX || numops > req->call->args_len / 4) {
		res.status = NFS4ERR_TOO_MANY_OPS;
	} else if (numops) {
		args = calloc(numops, sizeof(*args));
		res.resarray.resarray_val = req_alloc(req, numops * sizeof(nfs_resop4));
		cs.numops = numops;
		if (!args || !res.resarray.resarray_val)
			res.status = NFS4ERR_DELAY;
		else
			run_ops(&cs, &x, &res, args);
	}
	xdr_destroy(&x);
	if (cs.replay) {
		/* A retransmission: the reply as it went the first time, nothing run again. */
		out->bytes = req_alloc(req, cs.replay_len);
		if (out->bytes)
			memcpy(out->bytes, cs.replay, cs.replay_len);
		out->len = out->bytes ? cs.replay_len : 0;
		free(cs.replay);
	} else {
		bool encoded = encode_reply(req, &res, out);
		if (!encoded)
			log_error("COMPOUND: cannot encode a reply of %zu bytes", cs.reply_size);
		finish_slot(&cs, out, encoded);
	}
	nfs4_cs_release(&cs);
	for (unsigned i = 0; args && i < numops; i++)
		xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)&args[i]);
	free(args);
}

static void nfs4_null(struct req *req, void *argp, void *resp)
{
	(void)req, (void)argp, (void)resp;
}

static const struct proc_desc nfs4_procs[] = {
	[NFSPROC4_NULL] = { "NULL", (xdrproc_t)xdr_nothing, 0, (xdrproc_t)xdr_nothing, 0, nfs4_null,
			    PROC_INLINE, NULL },
	/* The arguments are decoded op by op by the procedure itself, from the record. */
	[NFSPROC4_COMPOUND] = { "COMPOUND", (xdrproc_t)xdr_nothing, 0,
				(xdrproc_t)xdr_compound_reply, sizeof(struct compound_reply),
				nfs4_compound, 0, NULL },
};

const struct prog_desc nfs4_program = { NFS4_PROGRAM, NFS_V4, nfs4_procs,
					sizeof(nfs4_procs) / sizeof(nfs4_procs[0]) };
