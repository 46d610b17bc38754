/*
 * A small NFSv4.1 client for the integration tests: COMPOUNDs encoded and
 * decoded with rpcgen's routines of rpc/nfs4_prot.x, sent over one TCP
 * connection with a hand-written RPC header (rawrpc.h), and the session
 * set-up every test needs (EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE).
 */
#ifndef LOOPNFS_NFS4RPC_H
#define LOOPNFS_NFS4RPC_H

#include "nfs4_prot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct v4c {
	int fd;
	uint32_t xid;
	uint32_t uid, gid; /* AUTH_SYS */
	uint64_t clientid;
	uint32_t cs_seq; /* the next CREATE_SESSION's csa_sequence */
	sessionid4 sessionid;
	uint32_t slot_seq[64]; /* each slot's last sequenceid */
	char owner[64];
};

/* Connect to 127.0.0.1:port as AUTH_SYS uid/gid. 0 or -1. */
int v4c_connect(struct v4c *c, int port, uint32_t uid, uint32_t gid);
void v4c_close(struct v4c *c);

/*
 * One COMPOUND of minor version 1 (v4c_compound_minor: any) with ops;
 * res decoded (free it with v4c_free). 0, or -1 when no reply or an RPC
 * error came (then *accept_stat, if asked, says which).
 */
int v4c_compound(struct v4c *c, nfs_argop4 *ops, unsigned n, COMPOUND4res *res);
int v4c_compound_minor(struct v4c *c, uint32_t minor, nfs_argop4 *ops, unsigned n,
		       COMPOUND4res *res);
void v4c_free(COMPOUND4res *res);

/* A whole call body (after the RPC header) as bytes; the reply's body bytes, malloc'ed. */
int v4c_call_raw(struct v4c *c, uint32_t proc, const void *body, size_t len, uint8_t **reply,
		 size_t *rlen, uint32_t *accept_stat);

/* EXCHANGE_ID (owner) + CREATE_SESSION (+ RECLAIM_COMPLETE): a session ready for OPEN/LOCK. 0/-1. */
int v4c_session(struct v4c *c, const char *owner);

/* Fill op with the SEQUENCE of the next request on slot (its seqid advanced). */
void v4c_seq(struct v4c *c, nfs_argop4 *op, uint32_t slot, bool cachethis);

/* Builders for the common ops (names point to static or caller storage). */
void v4c_op(nfs_argop4 *op, nfs_opnum4 num);
void v4c_lookup(nfs_argop4 *op, const char *name);
void v4c_putfh(nfs_argop4 *op, const nfs_fh4 *fh);
void v4c_getattr(nfs_argop4 *op, uint32_t *words, unsigned n);

/* The status of the i-th result (every result starts with it). */
nfsstat4 v4c_status(const COMPOUND4res *res, unsigned i);

#endif
