/*
 * Helpers for the NFSv4.1 state core's unit tests: a server on a fake
 * clock, and a client taken through EXCHANGE_ID, CREATE_SESSION and
 * RECLAIM_COMPLETE the way the Linux client does it.
 */
#ifndef LOOPNFS_NFS4_UNIT_H
#define LOOPNFS_NFS4_UNIT_H

#include "unit.h"

#include "nfs4_state.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ull

/* Status assertions that print the RFC names when they differ. */
#define assert_st(got, want)                                                         \
	do {                                                                         \
		enum st4_status got_ = (got), want_ = (want);                        \
		if (got_ != want_)                                                   \
			fail_msg("%s: got %s, want %s", #got, st4_status_name(got_), \
				 st4_status_name(want_));                            \
	} while (0)

struct t4 {
	struct st4_server *srv;
	_Atomic uint64_t now;
};

static inline uint64_t t4_clock(void *arg)
{
	return atomic_load(&((struct t4 *)arg)->now);
}

static inline void t4_advance(struct t4 *t, uint64_t seconds)
{
	atomic_fetch_add(&t->now, seconds * NS);
}

/* A config on t's clock; the caller may change it before t4_start. */
static inline struct st4_config t4_config(struct t4 *t)
{
	struct st4_config cfg = { 0 };
	cfg.lease_seconds = 90;
	cfg.now_ns = t4_clock;
	cfg.clock_arg = t;
	if (atomic_load(&t->now) == 0)
		atomic_store(&t->now, 1000 * NS);
	return cfg;
}

static inline void t4_start(struct t4 *t, const struct st4_config *cfg)
{
	int err = 1;
	t->srv = st4_server_new(cfg, &err);
	assert_non_null(t->srv);
	assert_int_equal(err, 0);
}

static inline void t4_stop(struct t4 *t)
{
	st4_server_free(t->srv);
	t->srv = NULL;
}

/* One client with one session; seq is slot 0's last sequence id. */
struct t4_client {
	uint64_t clientid;
	uint8_t sessionid[ST4_SESSIONID_SIZE];
	uint32_t seq;
	struct st4_slot_ref ref; /* while a request is open */
	struct st4_client *c;	 /* the ref's client */
	char owner[64];
};

static inline struct st4_exchange_id_args t4_eid_args(const char *owner, uint8_t verf)
{
	struct st4_exchange_id_args a = { 0 };
	a.ownerid = (const uint8_t *)owner;
	a.ownerid_len = (uint32_t)strlen(owner);
	memset(a.verifier, verf, sizeof(a.verifier));
	a.principal.flavor = 1;
	a.principal.uid = 0;
	return a;
}

static inline struct st4_create_session_args t4_cs_args(uint64_t clientid, uint32_t seq)
{
	struct st4_create_session_args a = { 0 };
	a.clientid = clientid;
	a.sequence = seq;
	a.fore = (struct st4_chan_attrs){ .maxrequestsize = 1049620,
					  .maxresponsesize = 1049480,
					  .maxresponsesize_cached = 7584,
					  .maxoperations = 16,
					  .maxrequests = 64 };
	a.back = (struct st4_chan_attrs){ .maxrequestsize = 4096,
					  .maxresponsesize = 4096,
					  .maxoperations = 2,
					  .maxrequests = 1 };
	a.principal.flavor = 1;
	a.conn_id = 1;
	return a;
}

/* SEQUENCE on slot 0 with the next sequence id: a request opens. */
static inline void t4_begin(struct st4_server *srv, struct t4_client *tc)
{
	struct st4_sequence_args a = { 0 };
	struct st4_sequence_res res;
	memcpy(a.sessionid, tc->sessionid, ST4_SESSIONID_SIZE);
	a.sequenceid = tc->seq + 1;
	a.conn_id = 1;
	assert_st(st4_sequence(srv, &a, &res, &tc->ref), ST4_OK);
	assert_null(res.replay);
	tc->seq++;
	tc->c = tc->ref.client;
}

static inline void t4_end(struct st4_server *srv, struct t4_client *tc)
{
	assert_st(st4_slot_done(srv, &tc->ref, "", 0), ST4_OK);
	tc->c = NULL;
}

/* EXCHANGE_ID and CREATE_SESSION only: confirmed, RECLAIM_COMPLETE not sent. */
static inline void t4_confirm(struct st4_server *srv, const char *owner, uint8_t verf,
			      struct t4_client *tc)
{
	memset(tc, 0, sizeof(*tc));
	snprintf(tc->owner, sizeof(tc->owner), "%s", owner);
	struct st4_exchange_id_args ea = t4_eid_args(tc->owner, verf);
	struct st4_exchange_id_res er;
	assert_st(st4_exchange_id(srv, &ea, &er), ST4_OK);
	struct st4_create_session_args ca = t4_cs_args(er.clientid, er.sequenceid);
	struct st4_create_session_res cr;
	assert_st(st4_create_session(srv, &ca, &cr), ST4_OK);
	tc->clientid = er.clientid;
	memcpy(tc->sessionid, cr.sessionid, ST4_SESSIONID_SIZE);
}

/* A client ready to open and lock: confirmed and done reclaiming; a request left open. */
static inline void t4_connect(struct st4_server *srv, const char *owner, struct t4_client *tc)
{
	t4_confirm(srv, owner, 1, tc);
	t4_begin(srv, tc);
	assert_st(st4_reclaim_complete(srv, tc->c, false), ST4_OK);
}

static inline struct st4_open_args t4_open_args(uint64_t ino, const char *owner, uint32_t access,
						uint32_t deny)
{
	struct st4_open_args a = { 0 };
	a.file = (struct st4_filekey){ .dev = 7, .ino = ino };
	a.owner = (const uint8_t *)owner;
	a.owner_len = (uint32_t)strlen(owner);
	a.access = access;
	a.deny = deny;
	return a;
}

static inline struct st4_filekey t4_file(uint64_t ino)
{
	return (struct st4_filekey){ .dev = 7, .ino = ino };
}

#endif
