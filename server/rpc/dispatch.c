/*
 * Program/procedure dispatch: find the procedure, decode its arguments with
 * the rpcgen XDR routines, run it, encode the result. NFS errors are data in
 * the result; only transport-level failures become RPC errors.
 */
#include "drc.h"
#include "ebr.h"
#include "log.h"
#include "nfs4.h"
#include "req.h"

#include <arpa/inet.h>
#include <rpc/rpc.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define REPLY_DEFAULT (8 * 1024)
/* Calls at most this big (GETATTR, LOOKUP, ACCESS...) jump ahead of bulk I/O. */
#define SMALL_CALL_BYTES 1024

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

bool proc_result_status(const struct proc_desc *pd, const void *res, int *status)
{
	if (!(pd->flags & PROC_STATUS) || pd->res_size < sizeof(int))
		return false;
	memcpy(status, res, sizeof(int)); /* an enum or u_int at the start of the result */
	return true;
}

bool_t xdr_nothing(XDR *xdrs, void *p)
{
	return TRUE;
}

void *req_alloc(struct req *req, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_chunk *c = req->arena;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = req->arena;
		req->arena = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *req_strdup(struct req *req, const char *s, size_t n)
{
	char *p = req_alloc(req, n + 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

void req_release(struct req *req)
{
	while (req->arena) {
		struct arena_chunk *next = req->arena->next;
		free(req->arena);
		req->arena = next;
	}
}

int req_enter_export(struct req *req, struct export *ex, const struct export_opts *opts)
{
	req->ex = ex;
	req->opts = opts;
	cred_map(&req->call->cred, opts, &req->ids);
	req->ids_set = true;
	int rc = cred_apply(&req->ids);
	if (rc)
		log_error("cannot switch to uid %u gid %u: %s", (unsigned)req->ids.uid,
			  (unsigned)req->ids.gid, strerror(-rc));
	return rc;
}

static const struct prog_desc *const programs[] = { &nfs3_program, &nfs4_program, &mount1_program,
						    &mount3_program };

/* NFSv4.1 only where it is on, and only over TCP (RFC 8881 2.9.1: no UDP). */
static bool program_offered(const struct prog_desc *p, const struct rpc_call *call)
{
	return p != &nfs4_program || (nfs4_enabled() && call->peer->is_tcp);
}

static const struct prog_desc *find_program(const struct rpc_call *call, uint32_t *low,
					    uint32_t *high, bool *prog_known)
{
	uint32_t prog = call->prog, vers = call->vers;
	*prog_known = false;
	*low = UINT32_MAX;
	*high = 0;
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		const struct prog_desc *p = programs[i];
		if (p->prog != prog || !program_offered(p, call))
			continue;
		*prog_known = true;
		if (p->vers < *low)
			*low = p->vers;
		if (p->vers > *high)
			*high = p->vers;
		if (p->vers == vers)
			return p;
	}
	return NULL;
}

/* Encode res after the accepted-reply header already in rep. */
static bool encode_result(struct rpc_reply *rep, const struct proc_desc *pd, void *res, size_t hint)
{
	size_t start = rep->len;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = attempt == 0 ? hint : (size_t)xdr_sizeof(pd->xdr_res, res) + 64;
		if (!rpc_reply_reserve(rep, room))
			return false;
		XDR x;
		xdrmem_create(&x, (char *)rep->buf + start, (u_int)(rep->cap - start), XDR_ENCODE);
		bool ok = pd->xdr_res(&x, res);
		if (ok) {
			rep->len = start + xdr_getpos(&x);
			xdr_destroy(&x);
			return true;
		}
		xdr_destroy(&x);
	}
	return false;
}

/* Runs the procedure; false only when an inline call needs a worker (rep untouched). */
static bool run_proc(const struct rpc_call *call, const struct proc_desc *pd, struct rpc_reply *rep,
		     bool inline_call)
{
	bool done = true;
	void *args = calloc(1, pd->args_size ? pd->args_size : 1);
	void *res = calloc(1, pd->res_size ? pd->res_size : 1);
	if (!args || !res) {
		rpc_encode_accepted(rep, call->xid, ACC_SYSTEM_ERR);
		goto out;
	}
	XDR x;
	xdrmem_create(&x, (char *)call->args, (u_int)call->args_len, XDR_DECODE);
	bool decoded = pd->xdr_args(&x, args);
	xdr_destroy(&x);
	if (!decoded) {
		log_debug("%s: undecodable arguments", pd->name);
		rpc_encode_accepted(rep, call->xid, ACC_GARBAGE_ARGS);
		xdr_free(pd->xdr_free_args ? pd->xdr_free_args : pd->xdr_args, args);
		goto out;
	}

	struct req req = {
		.call = call, .rep = rep, .tbl = export_table_current(), .cached_only = inline_call
	};
	void *drc_token = NULL;
	if (pd->flags & PROC_NONIDEMPOTENT) {
		switch (drc_begin(call, rep, &drc_token)) {
		case DRC_REPLAY:
			log_debug("%s xid %#x: replayed from the duplicate request cache", pd->name,
				  call->xid);
			goto free_args;
		case DRC_IN_PROGRESS:
			rep->drop = true;
			goto free_args;
		case DRC_NEW:
			break;
		}
	}

	pd->fn(&req, args, res);
	if (req.need_worker) {
		/* Only ever before any change (PROC_INLINE procedures resolve first). */
		done = false;
		req_release(&req);
		goto free_args;
	}
	int status = 0;
	if (proc_result_status(pd, res, &status))
		log_debug("%s xid %#x from %s: status %d", pd->name, call->xid,
			  call->peer->is_tcp ? "tcp" : "udp", status);
	else
		log_debug("%s xid %#x from %s: done", pd->name, call->xid,
			  call->peer->is_tcp ? "tcp" : "udp");

	rpc_encode_accepted(rep, call->xid, ACC_SUCCESS);
	size_t hint = req.reply_hint > REPLY_DEFAULT ? req.reply_hint : REPLY_DEFAULT;
	if (!encode_result(rep, pd, res, hint)) {
		log_error("%s: cannot encode reply", pd->name);
		free(rep->payload);
		rep->payload = NULL;
		rep->payload_len = 0;
		rpc_encode_accepted(rep, call->xid, ACC_SYSTEM_ERR);
	} else if (rep->payload_len) {
		/* Bulk data goes out after the header; the encoded length was 0. */
		uint32_t be = htonl((uint32_t)rep->payload_len);
		memcpy(rep->buf + rep->len - 4, &be, 4);
	}
	if (drc_token)
		drc_finish(drc_token, rep);
	req_release(&req);
free_args:
	xdr_free(pd->xdr_free_args ? pd->xdr_free_args : pd->xdr_args, args);
out:
	free(args);
	free(res);
	return done;
}

static bool process(const uint8_t *rec, size_t len, const struct rpc_peer *peer,
		    struct rpc_reply *rep, bool inline_call)
{
	struct rpc_call call;
	if (!rpc_parse_call(rec, len, &call, rep))
		return true;
	call.peer = peer;

	uint32_t low, high;
	bool prog_known;
	const struct prog_desc *p = find_program(&call, &low, &high, &prog_known);
	if (!p) {
		if (prog_known)
			rpc_encode_prog_mismatch(rep, call.xid, low, high);
		else
			rpc_encode_accepted(rep, call.xid, ACC_PROG_UNAVAIL);
		return true;
	}
	if (call.proc >= p->nprocs || !p->procs[call.proc].fn) {
		rpc_encode_accepted(rep, call.xid, ACC_PROC_UNAVAIL);
		return true;
	}
	const struct proc_desc *pd = &p->procs[call.proc];
	if (inline_call && !(pd->flags & PROC_INLINE))
		return false;
	return run_proc(&call, pd, rep, inline_call);
}

/* A reload may publish another export table meanwhile: this call keeps the one it saw. */
bool rpc_process_inline(const uint8_t *rec, size_t len, const struct rpc_peer *peer,
			struct rpc_reply *rep)
{
	ebr_enter();
	bool done = process(rec, len, peer, rep, true);
	ebr_leave();
	return done;
}

void rpc_process(const uint8_t *rec, size_t len, const struct rpc_peer *peer, struct rpc_reply *rep)
{
	ebr_enter();
	process(rec, len, peer, rep, false);
	ebr_leave();
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * The reply size a call will need beyond its own bytes: what a READ asks
 * for. Charged up front so a client's queue of 1 MiB READs can't make the
 * server hold more than the connection's budget of reply data. Read
 * straight from the header, without decoding it: this runs for every call.
 */
static size_t reply_estimate(const uint8_t *rec, size_t len)
{
	const uint32_t nfs_prog = 100003, nfs_v3 = 3, read_proc = 6;
	size_t off = 24; /* xid, mtype, rpcvers, prog, vers, proc */
	if (len < off + 8 || be32_at(rec + 12) != nfs_prog || be32_at(rec + 16) != nfs_v3 ||
	    be32_at(rec + 20) != read_proc)
		return 0;
	for (int auth = 0; auth < 2; auth++) { /* credential, verifier */
		if (len < off + 8)
			return 0;
		off += 8 + ((be32_at(rec + off + 4) + 3u) & ~3u);
	}
	if (len < off + 4)
		return 0;
	off += 4 + ((be32_at(rec + off) + 3u) & ~3u); /* file handle */
	if (len < off + 12)
		return 0;
	uint32_t count = be32_at(rec + off + 8);
	return count < (1u << 20) ? count : (1u << 20);
}

struct rpc_hint rpc_classify(const uint8_t *rec, size_t len)
{
	return (struct rpc_hint){ .reply_bytes = reply_estimate(rec, len),
				  .bulk = len > SMALL_CALL_BYTES,
				  .may_inline = len <= SMALL_CALL_BYTES };
}
