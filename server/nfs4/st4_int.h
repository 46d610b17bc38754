/*
 * The NFSv4.1 state core's private declarations (include/nfs4_state.h is
 * the public side).
 *
 * Locks, in the order they are taken (never a lower one while holding a
 * higher one):
 *   1. srv->db_lock: the state directory (one record write or removal at a
 *      time, each re-reading under it what the client's record should be)
 *   2. file->lock: one file's opens and lock stateids, and every mutable
 *      field of those states (seqid, share bits, ranges, revoked); the lock
 *      hooks run under it
 *   3. srv->lock: the tables (clients, sessions, stateids, files), every
 *      reference count, client fields, the grace period
 *   4. session->lock: a session's slots, reply cache and connections
 * A state is killed under its file's lock and then srv->lock: whoever
 * finds it in the table (srv->lock, a reference) and then takes the file's
 * lock sees it dead and answers as for an unknown stateid.
 */
#ifndef LOOPNFS_NFS4_ST4_INT_H
#define LOOPNFS_NFS4_ST4_INT_H

#include "nfs4_state.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* A full table's answer: see include/nfs4_state.h. */
#define ST4_FULL ST4_ERR_DELAY

#define ST4_SESSION_BUCKETS 256
#define ST4_STATE_BUCKETS 4096
#define ST4_FILE_BUCKETS 4096
#define ST4_CLIENT_BUCKETS 256
#define ST4_EXPIRED_RING 64 /* clients remembered after their lease expired */
#define ST4_SESSION_CONNS 16

/* ------------------------------------------------------------ byte ranges */

/* One held range, inclusive. A lock-owner's set is sorted, disjoint, merged. */
struct st4_range {
	uint64_t start, end;
	enum st4_lock_type type;
};

/* offset/length -> [start, end]; ST4_ERR_INVAL for length 0 or past 2^64. */
enum st4_status st4_range_from(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end);
/* [start, end] -> LOCK4denied's offset/length (to the end: UINT64_MAX). */
uint64_t st4_range_length(uint64_t start, uint64_t end);
/*
 * The set in[0..n) with [start, end] set to type (UNLOCK removes), POSIX
 * style, written to out, which has room for n + 2 (a split of one range
 * around a new one is the most it grows by). Returns the new count.
 */
unsigned st4_range_apply(const struct st4_range *in, unsigned n, uint64_t start, uint64_t end,
			 enum st4_lock_type type, struct st4_range *out);
/* The first range of in that a type lock of [start, end] by another owner conflicts with, or -1. */
int st4_range_conflict(const struct st4_range *in, unsigned n, uint64_t start, uint64_t end,
		       enum st4_lock_type type);

/* ------------------------------------------------------------------ objects */

enum st4_kind {
	ST4_KIND_OPEN = 1,
	ST4_KIND_LOCK = 2,
	ST4_KIND_DELEG = 3, /* never issued */
};

struct st4_file;

struct st4_state {
	uint8_t other[12];
	uint32_t num; /* other's table key */
	enum st4_kind kind;
	struct st4_client *client; /* a reference */
	struct st4_file *file;	   /* a reference */
	uint8_t *owner;
	uint32_t owner_len;
	/* srv->lock */
	int refs;
	struct st4_state *hnext;	 /* the stateid table */
	struct st4_state *cnext, *cprev; /* the client's states */
	/* file->lock (dead: also srv->lock) */
	bool dead, revoked;
	uint32_t seqid;
	struct st4_state *fnext, *fprev; /* the file's opens or lock stateids */
	uint32_t access, deny;		 /* open */
	struct st4_state *open;		 /* lock: the open it came from */
	struct st4_range *ranges;	 /* lock: held ranges */
	unsigned nranges, cap;
	void *owner_ctx; /* lock: the hooks' */
};

struct st4_file {
	struct st4_filekey key;
	pthread_mutex_t lock;
	/* srv->lock */
	int refs;
	struct st4_file *hnext;
	/* lock */
	struct st4_state *opens, *locks;
};

struct st4_slot {
	uint32_t seqid;
	bool used;	/* seqid is a request's (a new slot's first request is 1) */
	bool inuse;	/* that request is running */
	bool cached;	/* reply holds its reply */
	uint8_t *reply; /* at most fore.maxresponsesize_cached */
	uint32_t reply_len;
};

struct st4_conn {
	uint64_t id;
	enum st4_conn_dir_res dir;
};

struct st4_session {
	uint8_t id[ST4_SESSIONID_SIZE];
	struct st4_client *client; /* a reference */
	struct st4_chan_attrs fore, back;
	uint32_t flags;
	uint64_t reserved; /* of srv->reply_cache_bytes */
	/* srv->lock */
	int refs;
	bool dead;
	struct st4_session *hnext;
	struct st4_session *cnext; /* the client's sessions */
	/* lock */
	pthread_mutex_t lock;
	struct st4_slot *slots; /* fore.maxrequests */
	unsigned inflight;
	struct st4_conn conns[ST4_SESSION_CONNS];
	unsigned nconns;
};

/* CREATE_SESSION's one-slot reply cache (18.36.4). */
struct st4_cs_cache {
	bool valid;
	enum st4_status status;
	struct st4_create_session_res res;
};

struct st4_client {
	uint64_t clientid;
	uint8_t verifier[ST4_VERIFIER_SIZE];
	uint8_t *ownerid;
	uint32_t ownerid_len;
	struct st4_principal principal;
	/* srv->lock */
	int refs;
	bool dead, confirmed;
	struct st4_client *next, *prev; /* every client */
	struct st4_client *hnext;	/* by clientid */
	uint32_t flags;
	uint32_t cs_seq; /* the CREATE_SESSION sequence expected next */
	struct st4_cs_cache cs;
	uint64_t renewed_ns;
	unsigned inflight; /* requests holding a slot: the lease cannot run out */
	struct st4_session *sessions;
	unsigned nsessions;
	struct st4_state *states;
	unsigned nstates, nlocks, nrevoked;
	bool reclaim_complete;
	bool may_reclaim; /* its record was loaded at start */
};

/* A client record loaded from the state directory. */
struct st4_reclaimer {
	uint8_t *ownerid;
	uint32_t ownerid_len;
	bool returned; /* a client with this owner was confirmed in this run */
	bool complete; /* and sent RECLAIM_COMPLETE */
	bool removed;  /* its file left the directory */
};

struct st4_server {
	struct st4_config cfg;
	uint32_t boot;
	pthread_mutex_t lock;
	uint32_t next_client, next_state, next_session;
	uint64_t reply_cache_bytes; /* reserved by the sessions: slots times their cached size */
	struct st4_client *clients;
	struct st4_client *client_hash[ST4_CLIENT_BUCKETS];
	unsigned nclients;
	struct st4_session *session_hash[ST4_SESSION_BUCKETS];
	struct st4_state *state_hash[ST4_STATE_BUCKETS];
	struct st4_file *file_hash[ST4_FILE_BUCKETS];
	uint64_t expired[ST4_EXPIRED_RING];
	unsigned expired_next;
	/* grace (srv->lock) */
	bool grace;
	uint64_t grace_end_ns;
	struct st4_reclaimer *rec;
	unsigned nrec, ncomplete;
	/* the state directory */
	pthread_mutex_t db_lock;
	int db_fd; /* -1: none */
};

/* --------------------------------------------------------------- server.c */

uint64_t st4_now(const struct st4_server *srv);
uint64_t st4_lease_ns(const struct st4_server *srv);
void st4_client_put_locked(struct st4_server *srv, struct st4_client *c);

/* --------------------------------------------------------------- client.c */

struct st4_client *st4_client_by_id_locked(struct st4_server *srv, uint64_t clientid);
bool st4_client_expired_locked(const struct st4_server *srv, const struct st4_client *c,
			       uint64_t now);
/* Take a client out of every table (srv->lock); st4_client_finish then frees its state. */
void st4_client_unhash_locked(struct st4_server *srv, struct st4_client *c, bool expired);
void st4_client_finish(struct st4_server *srv, struct st4_client *c);
bool st4_was_expired_locked(const struct st4_server *srv, uint64_t clientid);
void st4_client_free_all(struct st4_server *srv);

/* -------------------------------------------------------------- session.c */

void st4_session_unhash_locked(struct st4_server *srv, struct st4_session *s);
void st4_session_put_locked(struct st4_server *srv, struct st4_session *s);
enum st4_status st4_session_new_locked(struct st4_server *srv, struct st4_client *c,
				       const struct st4_create_session_args *a,
				       struct st4_create_session_res *res);

/* -------------------------------------------------------------- stateid.c */

/* A new state of c on f (srv->lock; client alive, room checked): refs 1, seqid 0. */
enum st4_status st4_state_new_locked(struct st4_server *srv, struct st4_client *c,
				     struct st4_file *f, enum st4_kind kind, const uint8_t *owner,
				     uint32_t owner_len, struct st4_state **out);
/*
 * The state sid names, of client c, with a reference: NFS4ERR_BAD_STATEID
 * (unknown, another client's, special), NFS4ERR_EXPIRED (the client's lease
 * ran out). Its seqid and liveness are checked under the file's lock.
 */
enum st4_status st4_state_find(struct st4_server *srv, struct st4_client *c,
			       const struct st4_stateid *sid, struct st4_state **out);
/* Under the file's lock: dead, revoked, seqid (0: current). */
enum st4_status st4_state_check(const struct st4_state *st, const struct st4_stateid *sid);
void st4_state_put(struct st4_server *srv, struct st4_state *st);
void st4_state_put_locked(struct st4_server *srv, struct st4_state *st);
/* Under the file's lock: out of every list and the table, its locks released. */
void st4_state_kill(struct st4_server *srv, struct st4_state *st);
/* Under the file's lock: the next seqid (0 is skipped: it means "current"). */
void st4_state_bump(struct st4_state *st);
void st4_state_sid(const struct st4_state *st, struct st4_stateid *out);
/* Under the file's lock: release the hooks' context of a lock state and its ranges. */
void st4_lockstate_release(struct st4_server *srv, struct st4_state *st);

/* ----------------------------------------------------------------- open.c */

/* The file with this key, with a reference (created if asked); srv->lock. */
struct st4_file *st4_file_get_locked(struct st4_server *srv, const struct st4_filekey *key,
				     bool create);
void st4_file_put(struct st4_server *srv, struct st4_file *f);
void st4_file_put_locked(struct st4_server *srv, struct st4_file *f);
bool st4_same_file(const struct st4_filekey *a, const struct st4_filekey *b);

/* ---------------------------------------------------------------- grace.c */

/* May c take this lock or open now (reclaim or not)? srv->lock. */
enum st4_status st4_grace_check_locked(struct st4_server *srv, struct st4_client *c, bool reclaim);
/* Is the grace period on (it ends by time here)? srv->lock. */
bool st4_grace_active_locked(struct st4_server *srv);
/* A client of a loaded record was confirmed: it may reclaim. srv->lock. */
void st4_grace_client_confirmed_locked(struct st4_server *srv, struct st4_client *c);
/* Load the records; start the grace period if there are any. */
int st4_grace_start(struct st4_server *srv);
/* Remove records of clients that did not come back (after grace). */
void st4_grace_cleanup(struct st4_server *srv);
void st4_grace_free(struct st4_server *srv);

/* ------------------------------------------------------------- clientdb.c */

/* A loaded record, ownerid malloc'ed. */
struct st4_record {
	uint8_t *ownerid;
	uint32_t ownerid_len;
	uint8_t verifier[ST4_VERIFIER_SIZE];
	struct st4_principal principal;
};

int st4_db_open(struct st4_server *srv);
void st4_db_close(struct st4_server *srv);
/* Every well-formed record in the directory (at most max); the rest skipped, logged. */
int st4_db_load(struct st4_server *srv, struct st4_record **out, unsigned *n, unsigned max);
/*
 * Make the directory say what this owner's record is now: the live
 * confirmed client's with that co_ownerid, or none (the file removed).
 */
void st4_db_sync(struct st4_server *srv, const uint8_t *ownerid, uint32_t len);
/* Encode/decode one record (exposed for the tests' hostile files). */
size_t st4_db_encode(const struct st4_record *r, uint8_t *buf, size_t cap);
int st4_db_decode(const uint8_t *buf, size_t len, struct st4_record *r);
void st4_db_name(const uint8_t *ownerid, uint32_t len, char name[40]);

#endif
