/*
 * The tests' NFSv4.1 client (nfs4rpc.h): rpcgen's XDR for the COMPOUND,
 * rawrpc.c's header and record marking for the RPC around it.
 */
#define _GNU_SOURCE
#include "nfs4rpc.h"

#include "rawrpc.h"

#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 20000

int v4c_connect(struct v4c *c, int port, uint32_t uid, uint32_t gid)
{
	memset(c, 0, sizeof(*c));
	c->fd = rr_tcp_connect(port, 0);
	c->xid = 0x4000 + (uint32_t)getpid() * 97;
	c->uid = uid;
	c->gid = gid;
	return c->fd >= 0 ? 0 : -1;
}

void v4c_close(struct v4c *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int v4c_call_raw(struct v4c *c, uint32_t proc, const void *body, size_t len, uint8_t **reply,
		 size_t *rlen, uint32_t *accept_stat)
{
	xbuf m, cred;
	xb_init(&m);
	xb_init(&cred);
	rr_authsys_body(&cred, 1, "v4c", c->uid, c->gid, 0, NULL);
	uint32_t xid = ++c->xid;
	rr_call_hdr(&m, xid, 2, NFS4_PROGRAM, NFS_V4, proc, RR_FLAVOR_SYS, cred.buf, cred.len);
	xb_raw(&m, body, len);
	int rc = rr_tcp_send_record(c->fd, m.buf, m.len, NULL, 0, 0);
	xb_free(&m);
	xb_free(&cred);
	if (rc < 0)
		return -1;
	unsigned char *raw = NULL;
	long n = rr_tcp_recv_record(c->fd, &raw, CALL_TIMEOUT_MS);
	rr_reply r;
	if (n < 0 || rr_parse_reply(raw, (size_t)n, &r) != 0 || r.xid != xid) {
		free(raw);
		return -1;
	}
	if (accept_stat)
		*accept_stat = r.accept_stat;
	if (r.reply_stat != RR_MSG_ACCEPTED || r.accept_stat != RR_SUCCESS) {
		free(raw);
		return -1;
	}
	*rlen = r.body_len;
	*reply = malloc(r.body_len ? r.body_len : 1);
	memcpy(*reply, r.body, r.body_len);
	free(raw);
	return 0;
}

int v4c_compound_minor(struct v4c *c, uint32_t minor, nfs_argop4 *ops, unsigned n,
		       COMPOUND4res *res)
{
	COMPOUND4args a = { .minorversion = minor };
	a.tag.utf8string_val = "loopnfs-test";
	a.tag.utf8string_len = (u_int)strlen(a.tag.utf8string_val);
	a.argarray.argarray_len = n;
	a.argarray.argarray_val = ops;
	size_t cap = xdr_sizeof((xdrproc_t)xdr_COMPOUND4args, &a);
	char *buf = malloc(cap);
	XDR x;
	xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
	bool ok = xdr_COMPOUND4args(&x, &a);
	size_t len = xdr_getpos(&x);
	xdr_destroy(&x);
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int rc = ok ? v4c_call_raw(c, NFSPROC4_COMPOUND, buf, len, &reply, &rlen, NULL) : -1;
	free(buf);
	if (rc < 0)
		return -1;
	memset(res, 0, sizeof(*res));
	xdrmem_create(&x, (char *)reply, (u_int)rlen, XDR_DECODE);
	ok = xdr_COMPOUND4res(&x, res);
	xdr_destroy(&x);
	free(reply);
	return ok ? 0 : -1;
}

int v4c_compound(struct v4c *c, nfs_argop4 *ops, unsigned n, COMPOUND4res *res)
{
	return v4c_compound_minor(c, 1, ops, n, res);
}

void v4c_free(COMPOUND4res *res)
{
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)res);
}

nfsstat4 v4c_status(const COMPOUND4res *res, unsigned i)
{
	if (i >= res->resarray.resarray_len)
		return (nfsstat4)-1;
	nfsstat4 st;
	memcpy(&st, &res->resarray.resarray_val[i].nfs_resop4_u, sizeof(st));
	return st;
}

void v4c_op(nfs_argop4 *op, nfs_opnum4 num)
{
	memset(op, 0, sizeof(*op));
	op->argop = num;
}

void v4c_lookup(nfs_argop4 *op, const char *name)
{
	v4c_op(op, OP_LOOKUP);
	op->nfs_argop4_u.oplookup.objname.utf8string_val = (char *)name;
	op->nfs_argop4_u.oplookup.objname.utf8string_len = (u_int)strlen(name);
}

void v4c_putfh(nfs_argop4 *op, const nfs_fh4 *fh)
{
	v4c_op(op, OP_PUTFH);
	op->nfs_argop4_u.opputfh.object = *fh;
}

void v4c_getattr(nfs_argop4 *op, uint32_t *words, unsigned n)
{
	v4c_op(op, OP_GETATTR);
	op->nfs_argop4_u.opgetattr.attr_request.bitmap4_len = n;
	op->nfs_argop4_u.opgetattr.attr_request.bitmap4_val = words;
}

void v4c_seq(struct v4c *c, nfs_argop4 *op, uint32_t slot, bool cachethis)
{
	v4c_op(op, OP_SEQUENCE);
	SEQUENCE4args *s = &op->nfs_argop4_u.opsequence;
	memcpy(s->sa_sessionid, c->sessionid, sizeof(s->sa_sessionid));
	s->sa_sequenceid = ++c->slot_seq[slot];
	s->sa_slotid = slot;
	s->sa_highest_slotid = slot;
	s->sa_cachethis = cachethis;
}

static int exchange_id(struct v4c *c, const char *owner)
{
	nfs_argop4 op;
	v4c_op(&op, OP_EXCHANGE_ID);
	EXCHANGE_ID4args *a = &op.nfs_argop4_u.opexchange_id;
	snprintf(c->owner, sizeof(c->owner), "%s", owner);
	memcpy(a->eia_clientowner.co_verifier, "verifier", 8);
	a->eia_clientowner.co_ownerid.co_ownerid_val = c->owner;
	a->eia_clientowner.co_ownerid.co_ownerid_len = (u_int)strlen(c->owner);
	a->eia_flags = EXCHGID4_FLAG_USE_NON_PNFS;
	a->eia_state_protect.spa_how = SP4_NONE;
	COMPOUND4res res;
	if (v4c_compound(c, &op, 1, &res) != 0)
		return -1;
	int rc = res.status == NFS4_OK ? 0 : -1;
	if (rc == 0) {
		EXCHANGE_ID4resok *ok =
			&res.resarray.resarray_val[0]
				 .nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
		c->clientid = ok->eir_clientid;
		c->cs_seq = ok->eir_sequenceid;
	}
	v4c_free(&res);
	return rc;
}

static int create_session(struct v4c *c)
{
	nfs_argop4 op;
	v4c_op(&op, OP_CREATE_SESSION);
	CREATE_SESSION4args *a = &op.nfs_argop4_u.opcreate_session;
	a->csa_clientid = c->clientid;
	a->csa_sequence = c->cs_seq;
	channel_attrs4 ch = { .ca_maxrequestsize = 1 << 20,
			      .ca_maxresponsesize = 1 << 20,
			      .ca_maxresponsesize_cached = 8192,
			      .ca_maxoperations = 16,
			      .ca_maxrequests = 8 };
	a->csa_fore_chan_attrs = ch;
	a->csa_back_chan_attrs = ch;
	a->csa_cb_program = 0x40000000;
	COMPOUND4res res;
	if (v4c_compound(c, &op, 1, &res) != 0)
		return -1;
	int rc = res.status == NFS4_OK ? 0 : -1;
	if (rc == 0) {
		CREATE_SESSION4resok *ok =
			&res.resarray.resarray_val[0]
				 .nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4;
		memcpy(c->sessionid, ok->csr_sessionid, sizeof(c->sessionid));
		memset(c->slot_seq, 0, sizeof(c->slot_seq));
		c->cs_seq++;
	}
	v4c_free(&res);
	return rc;
}

static int reclaim_complete(struct v4c *c)
{
	nfs_argop4 ops[2];
	v4c_seq(c, &ops[0], 0, false);
	v4c_op(&ops[1], OP_RECLAIM_COMPLETE);
	COMPOUND4res res;
	if (v4c_compound(c, ops, 2, &res) != 0)
		return -1;
	int rc = res.status == NFS4_OK ? 0 : -1;
	v4c_free(&res);
	return rc;
}

int v4c_session(struct v4c *c, const char *owner)
{
	if (exchange_id(c, owner) != 0 || create_session(c) != 0)
		return -1;
	return reclaim_complete(c);
}
