/* RPC message header decoding and reply header encoding (RFC 5531). */
#include "rpc.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define RPC_VERSION 2
#define MSG_CALL 0
#define MSG_REPLY 1
#define MSG_ACCEPTED 0
#define MSG_DENIED 1
#define REJ_RPC_MISMATCH 0
#define REJ_AUTH_ERROR 1

struct rd {
	const uint8_t *p;
	const uint8_t *end;
};

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return false;
	uint32_t be;
	memcpy(&be, r->p, 4);
	*v = ntohl(be);
	r->p += 4;
	return true;
}

static bool rd_skip(struct rd *r, uint32_t n)
{
	uint32_t padded = (n + 3) & ~3u;
	if (padded < n || (size_t)(r->end - r->p) < padded)
		return false;
	r->p += padded;
	return true;
}

bool rpc_reply_reserve(struct rpc_reply *rep, size_t n)
{
	if (rep->len + n <= rep->cap)
		return true;
	size_t cap = rep->cap ? rep->cap : 512;
	while (cap < rep->len + n)
		cap *= 2;
	uint8_t *nb = realloc(rep->buf, cap);
	if (!nb)
		return false;
	rep->buf = nb;
	rep->cap = cap;
	return true;
}

void rpc_reply_free(struct rpc_reply *rep)
{
	free(rep->buf);
	free(rep->payload);
	memset(rep, 0, sizeof(*rep));
}

static void put_u32(struct rpc_reply *rep, uint32_t v)
{
	if (!rpc_reply_reserve(rep, 4))
		return;
	uint32_t be = htonl(v);
	memcpy(rep->buf + rep->len, &be, 4);
	rep->len += 4;
}

static void reply_start(struct rpc_reply *rep, uint32_t xid)
{
	rep->len = 0;
	if (!rpc_reply_reserve(rep, RPC_REPLY_RESERVE))
		return;
	rep->len = RPC_REPLY_RESERVE;
	put_u32(rep, xid);
	put_u32(rep, MSG_REPLY);
}

void rpc_encode_accepted(struct rpc_reply *rep, uint32_t xid, enum rpc_accept_stat stat)
{
	reply_start(rep, xid);
	put_u32(rep, MSG_ACCEPTED);
	put_u32(rep, RPC_AUTH_NONE); /* verifier flavor */
	put_u32(rep, 0);             /* verifier length */
	put_u32(rep, stat);
}

void rpc_encode_prog_mismatch(struct rpc_reply *rep, uint32_t xid, uint32_t low, uint32_t high)
{
	rpc_encode_accepted(rep, xid, ACC_PROG_MISMATCH);
	put_u32(rep, low);
	put_u32(rep, high);
}

void rpc_encode_auth_error(struct rpc_reply *rep, uint32_t xid, enum rpc_auth_stat why)
{
	reply_start(rep, xid);
	put_u32(rep, MSG_DENIED);
	put_u32(rep, REJ_AUTH_ERROR);
	put_u32(rep, why);
}

static void encode_rpc_mismatch(struct rpc_reply *rep, uint32_t xid)
{
	reply_start(rep, xid);
	put_u32(rep, MSG_DENIED);
	put_u32(rep, REJ_RPC_MISMATCH);
	put_u32(rep, RPC_VERSION);
	put_u32(rep, RPC_VERSION);
}

/* AUTH_SYS body: stamp, machinename<255>, uid, gid, gids<16>. */
static bool parse_auth_sys(const uint8_t *body, uint32_t len, struct rpc_cred *cred)
{
	struct rd r = { body, body + len };
	uint32_t stamp, namelen;
	if (!rd_u32(&r, &stamp) || !rd_u32(&r, &namelen) || namelen > RPC_MAX_MACHINE)
		return false;
	const uint8_t *name = r.p;
	if (!rd_skip(&r, namelen))
		return false;
	memcpy(cred->machine, name, namelen);
	cred->machine[namelen] = '\0';
	if (!rd_u32(&r, &cred->uid) || !rd_u32(&r, &cred->gid) || !rd_u32(&r, &cred->ngids))
		return false;
	if (cred->ngids > RPC_MAX_GIDS)
		return false;
	for (uint32_t i = 0; i < cred->ngids; i++)
		if (!rd_u32(&r, &cred->gids[i]))
			return false;
	/* The body must be exactly what its fields say. */
	return r.p == r.end;
}

static bool parse_opaque_auth(struct rd *r, uint32_t *flavor, const uint8_t **body, uint32_t *len)
{
	if (!rd_u32(r, flavor) || !rd_u32(r, len) || *len > RPC_MAX_AUTH_BYTES)
		return false;
	*body = r->p;
	return rd_skip(r, *len);
}

bool rpc_parse_call(const uint8_t *rec, size_t len, struct rpc_call *call, struct rpc_reply *rep)
{
	struct rd r = { rec, rec + len };
	uint32_t mtype, rpcvers;

	memset(call, 0, sizeof(*call));
	if (!rd_u32(&r, &call->xid) || !rd_u32(&r, &mtype) || mtype != MSG_CALL) {
		rep->drop = true; /* not a call: nothing sensible to answer */
		return false;
	}
	if (!rd_u32(&r, &rpcvers) || !rd_u32(&r, &call->prog) || !rd_u32(&r, &call->vers) ||
	    !rd_u32(&r, &call->proc)) {
		rep->drop = true;
		return false;
	}
	if (rpcvers != RPC_VERSION) {
		encode_rpc_mismatch(rep, call->xid);
		return false;
	}

	const uint8_t *cbody, *vbody;
	uint32_t clen, vlen, vflavor;
	if (!parse_opaque_auth(&r, &call->cred.flavor, &cbody, &clen) ||
	    !parse_opaque_auth(&r, &vflavor, &vbody, &vlen)) {
		rpc_encode_auth_error(rep, call->xid, AUTHST_BADCRED);
		return false;
	}
	switch (call->cred.flavor) {
	case RPC_AUTH_NONE:
		/* Anonymous: mapped to the export's anonymous ids by the caller. */
		call->cred.uid = call->cred.gid = UINT32_MAX;
		break;
	case RPC_AUTH_SYS:
		if (!parse_auth_sys(cbody, clen, &call->cred)) {
			rpc_encode_auth_error(rep, call->xid, AUTHST_BADCRED);
			return false;
		}
		break;
	default:
		/* knfsd answers unsupported flavors (e.g. RPCSEC_GSS) with BADCRED too. */
		rpc_encode_auth_error(rep, call->xid, AUTHST_BADCRED);
		return false;
	}
	if (vflavor != RPC_AUTH_NONE && vflavor != RPC_AUTH_SYS) {
		rpc_encode_auth_error(rep, call->xid, AUTHST_BADVERF);
		return false;
	}
	call->args = r.p;
	call->args_len = (size_t)(r.end - r.p);
	return true;
}
