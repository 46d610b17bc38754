/*
 * The NFSv4.1 state core (RFC 8881): clients and leases, sessions and their
 * slot tables, stateids, opens with their share reservations, byte-range
 * locks, the grace period and the client records kept for it in a state
 * directory. It knows nothing of XDR or of files: the COMPOUND front end
 * decodes an operation, calls the function named after it here with plain C
 * arguments, and encodes what comes back. Files are opaque keys (dev, ino);
 * the locks a lock-owner holds are mirrored onto the real file through
 * struct st4_lock_hooks (server/nfs4/ofdlock.c holds them as OFD locks), so
 * a process working in the exported directory and an NFS client exclude
 * each other.
 *
 * Every function returns an enum st4_status whose values are RFC 8881's
 * nfsstat4 numbers: the front end passes them through as they are. The
 * names carry an ST4_ prefix so that this header and rpcgen's nfs4_prot.h
 * (which has NFS4ERR_* enumerators of its own) can be included together.
 *
 * Thread safety: every entry point may be called from any thread; requests
 * of one session run on several workers at once. The locks and their order
 * are described in server/nfs4/st4_int.h and ARCHITECTURE.md.
 *
 * Resource limits: every table is bounded (clients, sessions per client,
 * states and lock ranges per client). A full table answers ST4_ERR_DELAY:
 * NFS4ERR_RESOURCE is NFSv4.0's error (RFC 8881 lists it for no v4.1
 * operation), and the condition is temporary (leases expire, the client
 * unlocks or closes), which is what NFS4ERR_DELAY says.
 */
#ifndef LOOPNFS_NFS4_STATE_H
#define LOOPNFS_NFS4_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* nfsstat4 (RFC 8881 15.1), the values the state core returns. */
enum st4_status {
	ST4_OK = 0,
	ST4_ERR_PERM = 1,
	ST4_ERR_NOENT = 2,
	ST4_ERR_IO = 5,
	ST4_ERR_INVAL = 22,
	ST4_ERR_SERVERFAULT = 10006,
	ST4_ERR_DELAY = 10008,
	ST4_ERR_DENIED = 10010,
	ST4_ERR_EXPIRED = 10011,
	ST4_ERR_LOCKED = 10012,
	ST4_ERR_GRACE = 10013,
	ST4_ERR_SHARE_DENIED = 10015,
	ST4_ERR_CLID_INUSE = 10017,
	ST4_ERR_RESOURCE = 10018, /* NFSv4.0 only: never returned, see above */
	ST4_ERR_STALE_CLIENTID = 10022,
	ST4_ERR_OLD_STATEID = 10024,
	ST4_ERR_BAD_STATEID = 10025,
	ST4_ERR_NOT_SAME = 10027,
	ST4_ERR_NO_GRACE = 10033,
	ST4_ERR_LOCKS_HELD = 10037,
	ST4_ERR_OPENMODE = 10038,
	ST4_ERR_ADMIN_REVOKED = 10047,
	ST4_ERR_BADSESSION = 10052,
	ST4_ERR_BADSLOT = 10053,
	ST4_ERR_COMPLETE_ALREADY = 10054,
	ST4_ERR_CONN_NOT_BOUND_TO_SESSION = 10055,
	ST4_ERR_SEQ_MISORDERED = 10063,
	ST4_ERR_REP_TOO_BIG_TO_CACHE = 10067,
	ST4_ERR_RETRY_UNCACHED_REP = 10068,
	ST4_ERR_TOOSMALL = 10005,
	ST4_ERR_CLIENTID_BUSY = 10074,
	ST4_ERR_DELEG_REVOKED = 10087,
};

/* The status's RFC name ("NFS4ERR_BAD_STATEID"), for logs and tests. */
const char *st4_status_name(enum st4_status st);

/* ------------------------------------------------------------------ types */

#define ST4_OPAQUE_LIMIT 1024 /* NFS4_OPAQUE_LIMIT: co_ownerid, open and lock owners */
#define ST4_SESSIONID_SIZE 16
#define ST4_VERIFIER_SIZE 8

struct st4_stateid {
	uint32_t seqid;
	uint8_t other[12];
};

/* A file: whatever identifies it for as long as it exists (st_dev, st_ino). */
struct st4_filekey {
	uint64_t dev, ino;
};

/*
 * Who made a call, as far as the client-ID rules compare it (RFC 8881
 * 2.4.3, 18.35.4): the RPC flavor and, for AUTH_SYS, the uid. Two calls
 * have the same principal when both fields are equal.
 */
struct st4_principal {
	uint32_t flavor;
	uint32_t uid;
};

struct st4_server;
struct st4_client;
struct st4_session;

/* --------------------------------------------------------- hooks and clock */

enum st4_lock_type {
	ST4_LOCK_UNLOCK = 0,
	ST4_LOCK_READ = 1,  /* READ_LT (and READW_LT: blocking locks are not queued) */
	ST4_LOCK_WRITE = 2, /* WRITE_LT (and WRITEW_LT) */
};

/* A conflicting lock held outside the state core (a local process's). */
struct st4_hook_conflict {
	uint64_t start, end; /* inclusive */
	enum st4_lock_type type;
};

/*
 * The underlying filesystem's side of byte-range locks. The state core
 * decides every conflict between NFS lock-owners itself, then calls these
 * to take the same range on the real file; a refusal there (a local
 * process's lock) becomes NFS4ERR_DENIED. They run under the file's lock:
 * they must not block. Ranges are inclusive, end UINT64_MAX = to the end.
 * Each returns 0 or -errno (-EAGAIN: conflict, *conflict filled).
 */
struct st4_lock_hooks {
	/* Make the context a lock-owner's locks on one file are held through. */
	int (*owner_open)(void *arg, void *file_ctx, void **owner_ctx);
	/* Let every lock held through owner_ctx go and free it. */
	void (*owner_close)(void *arg, void *owner_ctx);
	/* Take (READ, WRITE) or release (UNLOCK) [start, end] for the owner, POSIX-wise. */
	int (*apply)(void *arg, void *owner_ctx, enum st4_lock_type type, uint64_t start,
		     uint64_t end, struct st4_hook_conflict *conflict);
	/* Would [start, end] conflict with a lock not held through owner_ctx (may be NULL)? */
	int (*test)(void *arg, void *file_ctx, void *owner_ctx, enum st4_lock_type type,
		    uint64_t start, uint64_t end, struct st4_hook_conflict *conflict);
};

/* ofdlock.c: locks held as Linux OFD locks, file_ctx a struct st4_ofd_file. */
extern const struct st4_lock_hooks st4_ofd_hooks;
struct st4_ofd_file {
	int fd; /* any descriptor of the file, O_PATH is enough: it is reopened per owner */
};
/*
 * 0 when the kernel has OFD locks (F_OFD_GETLK), else -errno: then start
 * without hooks (locks between NFS clients only) and say so. Ranges
 * starting beyond 2^63 - 1, which fcntl cannot name, stay the core's alone.
 */
int st4_ofd_probe(void);

/* ----------------------------------------------------------------- server */

struct st4_config {
	uint32_t lease_seconds;		  /* 0: 90 */
	uint32_t grace_seconds;		  /* 0: the lease time */
	unsigned max_clients;		  /* confirmed and unconfirmed; 0: 1024 */
	unsigned max_sessions_per_client; /* 0: 4 */
	unsigned max_states_per_client;	  /* opens and lock stateids; 0: 4096 */
	unsigned max_locks_per_client;	  /* byte ranges held; 0: 8192 */
	/* The fore channel's limits CREATE_SESSION negotiates down to (0: defaults). */
	uint32_t max_slots;	      /* 64 */
	uint32_t max_request_size;    /* 1 MiB + 4 KiB */
	uint32_t max_response_size;   /* 1 MiB + 4 KiB */
	uint32_t max_response_cached; /* 8 KiB: a slot keeps a reply up to this */
	uint32_t max_operations;      /* 32 */
	/*
	 * Every session's reply cache together (0: 64 MiB): a session gets
	 * fewer slots when the rest is taken, NFS4ERR_DELAY when not one fits.
	 */
	uint64_t max_reply_cache_bytes;
	/* Client records for the grace period; NULL: none kept, no grace period. */
	const char *state_dir;
	/* The clock (nanoseconds, monotonic); NULL: CLOCK_MONOTONIC. For tests. */
	uint64_t (*now_ns)(void *arg);
	void *clock_arg;
	/* NULL: locks are the state core's alone. */
	const struct st4_lock_hooks *lock_hooks;
	void *hooks_arg;
	/* Tells clientids, sessions and stateids of this run from earlier ones; 0: random. */
	uint32_t boot_verifier;
};

/*
 * A server's whole state. With a state directory, the client records found
 * there open a grace period (loading skips, with a log line, any file that
 * is not a well-formed record). NULL with *err an -errno.
 */
struct st4_server *st4_server_new(const struct st4_config *cfg, int *err);
/*
 * Drop every client (their locks go from the files too); records stay on
 * disk. Only once no request runs: no slot may be held.
 */
void st4_server_free(struct st4_server *srv);
/*
 * The periodic sweep (the main thread's 5 s): clients whose lease ran out
 * go with all their state, records of clients that did not come back in
 * the grace period leave the state directory.
 */
void st4_reap(struct st4_server *srv);
uint32_t st4_lease_seconds(const struct st4_server *srv);
/* Counts, for tests and statistics. */
unsigned st4_client_count(struct st4_server *srv);
bool st4_in_grace(struct st4_server *srv);

/* ------------------------------------------------- EXCHANGE_ID (18.35) */

#define ST4_EXCHGID_SUPP_MOVED_REFER 0x00000001u
#define ST4_EXCHGID_SUPP_MOVED_MIGR 0x00000002u
#define ST4_EXCHGID_BIND_PRINC_STATEID 0x00000100u
#define ST4_EXCHGID_USE_NON_PNFS 0x00010000u
#define ST4_EXCHGID_USE_PNFS_MDS 0x00020000u
#define ST4_EXCHGID_USE_PNFS_DS 0x00040000u
#define ST4_EXCHGID_UPD_CONFIRMED_REC_A 0x40000000u
#define ST4_EXCHGID_CONFIRMED_R 0x80000000u

struct st4_exchange_id_args {
	const uint8_t *ownerid; /* co_ownerid, 1 to ST4_OPAQUE_LIMIT bytes */
	uint32_t ownerid_len;
	uint8_t verifier[ST4_VERIFIER_SIZE];
	uint32_t flags; /* eia_flags */
	struct st4_principal principal;
};

struct st4_exchange_id_res {
	uint64_t clientid;
	uint32_t sequenceid; /* what the first CREATE_SESSION must carry */
	uint32_t flags;	     /* eir_flags */
};

/*
 * The case table of RFC 8881 18.35.5: a new owner gets a new unconfirmed
 * record; the same verifier and principal get the confirmed record again
 * (a retransmission); a changed verifier (the client rebooted) gets a new
 * unconfirmed record, and the old record and all its state go when the new
 * one is confirmed; a confirmed record of another principal is
 * NFS4ERR_CLID_INUSE while it has state or sessions under an unexpired
 * lease, else replaced the same way. With UPD_CONFIRMED_REC_A: no
 * confirmed record NFS4ERR_NOENT, another principal NFS4ERR_PERM, another
 * verifier NFS4ERR_NOT_SAME. The principal is compared for AUTH_SYS too, as
 * knfsd does: a client's machine credential does not change.
 */
enum st4_status st4_exchange_id(struct st4_server *srv, const struct st4_exchange_id_args *a,
				struct st4_exchange_id_res *res);

/*
 * DESTROY_CLIENTID (18.50): NFS4ERR_STALE_CLIENTID for no such client,
 * NFS4ERR_CLIENTID_BUSY while it has sessions or opens or locks.
 */
enum st4_status st4_destroy_clientid(struct st4_server *srv, uint64_t clientid);

/* Revoke every open and lock of a client (an administrator's act): see 8.2.4. */
enum st4_status st4_client_revoke(struct st4_server *srv, uint64_t clientid);

/* ------------------------------------------------ CREATE_SESSION (18.36) */

#define ST4_CREATE_SESSION_PERSIST 0x1u
#define ST4_CREATE_SESSION_CONN_BACK_CHAN 0x2u
#define ST4_CREATE_SESSION_CONN_RDMA 0x4u

struct st4_chan_attrs {
	uint32_t headerpadsize;
	uint32_t maxrequestsize;
	uint32_t maxresponsesize;
	uint32_t maxresponsesize_cached;
	uint32_t maxoperations;
	uint32_t maxrequests; /* slots */
};

struct st4_create_session_args {
	uint64_t clientid;
	uint32_t sequence;
	uint32_t flags;
	struct st4_chan_attrs fore, back;
	struct st4_principal principal;
	uint64_t conn_id; /* the connection it came on: bound to the new session */
};

struct st4_create_session_res {
	uint8_t sessionid[ST4_SESSIONID_SIZE];
	uint32_t sequence;
	uint32_t flags;
	struct st4_chan_attrs fore, back; /* what was negotiated */
};

/*
 * Confirms an unconfirmed client (and drops the record it replaces). The
 * client's CREATE_SESSION sequence: csa_sequence the expected one is a new
 * request, the one before it a replay (the cached result, status
 * included), anything else NFS4ERR_SEQ_MISORDERED. The fore channel is
 * negotiated down to the server's limits (headerpadsize 0); the back
 * channel is accepted as asked (no callbacks are ever sent: no delegations
 * or layouts are handed out). PERSIST and RDMA are never granted.
 */
enum st4_status st4_create_session(struct st4_server *srv, const struct st4_create_session_args *a,
				   struct st4_create_session_res *res);

/* ------------------------------------------------------- SEQUENCE (18.46) */

#define ST4_SEQ4_STATUS_CB_PATH_DOWN 0x00000001u
#define ST4_SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED 0x00000008u
#define ST4_SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED 0x00000010u
#define ST4_SEQ4_STATUS_ADMIN_STATE_REVOKED 0x00000020u
#define ST4_SEQ4_STATUS_RECALLABLE_STATE_REVOKED 0x00000040u
#define ST4_SEQ4_STATUS_LEASE_MOVED 0x00000080u
#define ST4_SEQ4_STATUS_RESTART_RECLAIM_NEEDED 0x00000100u

struct st4_sequence_args {
	uint8_t sessionid[ST4_SESSIONID_SIZE];
	uint32_t sequenceid;
	uint32_t slotid;
	uint32_t highest_slotid;
	bool cachethis;
	uint64_t conn_id;
};

struct st4_sequence_res {
	uint32_t highest_slotid;
	uint32_t target_highest_slotid;
	uint32_t status_flags;
	/*
	 * A retransmission of a completed request: the reply cached for it,
	 * malloc'ed, to send as the whole COMPOUND reply; the caller frees it.
	 * Nothing else of the request runs, and no st4_slot_done follows.
	 */
	uint8_t *replay;
	uint32_t replay_len;
};

/*
 * What a request holds between SEQUENCE and its reply: its slot. A held
 * slot keeps the client's lease from running out, so every ST4_OK SEQUENCE
 * that is not a replay must end in st4_slot_done, errors and all.
 */
struct st4_slot_ref {
	struct st4_session *session;
	struct st4_client *client; /* what the operations of the COMPOUND act for */
	uint32_t slotid;
	bool cachethis;
};

/*
 * SEQUENCE: NFS4ERR_BADSESSION (no such session, or its client's lease ran
 * out), NFS4ERR_BADSLOT (slotid beyond the table), NFS4ERR_DELAY (the
 * slot's request is still running), NFS4ERR_SEQ_MISORDERED,
 * NFS4ERR_RETRY_UNCACHED_REP (a retransmission of a reply not kept).
 * ST4_OK with res->replay set: a replay. ST4_OK otherwise: a new request,
 * *ref filled; the slot is the request's until st4_slot_done. Renews the
 * lease. The connection is bound to the session's fore channel (SP4_NONE).
 */
enum st4_status st4_sequence(struct st4_server *srv, const struct st4_sequence_args *a,
			     struct st4_sequence_res *res, struct st4_slot_ref *ref);

/* The most a reply may be for the slot to keep it (ca_maxresponsesize_cached). */
uint32_t st4_slot_cache_limit(const struct st4_slot_ref *ref);

/*
 * The request is answered: reply (the encoded COMPOUND reply) is kept for
 * replays when SEQUENCE asked (sa_cachethis); otherwise only the fact that
 * it cannot be replayed. A reply over the cache limit is not kept
 * (ST4_ERR_REP_TOO_BIG_TO_CACHE, which the front end should have answered
 * instead after checking st4_slot_cache_limit). Releases the slot and ref.
 */
enum st4_status st4_slot_done(struct st4_server *srv, struct st4_slot_ref *ref, const void *reply,
			      uint32_t len);

/* ------------------------------- DESTROY_SESSION, BIND_CONN_TO_SESSION */

/*
 * DESTROY_SESSION (18.37). cur is the slot of the COMPOUND's own SEQUENCE
 * (NULL if none); conn_id the connection it came on, which must be bound to
 * the session unless cur is of that session (NFS4ERR_CONN_NOT_BOUND_TO_SESSION).
 * NFS4ERR_DELAY while other requests of the session run.
 */
enum st4_status st4_destroy_session(struct st4_server *srv, const uint8_t *sessionid,
				    const struct st4_slot_ref *cur, uint64_t conn_id);

enum st4_conn_dir {
	ST4_CDFC4_FORE = 0x1,
	ST4_CDFC4_BACK = 0x2,
	ST4_CDFC4_FORE_OR_BOTH = 0x3,
	ST4_CDFC4_BACK_OR_BOTH = 0x7,
};
enum st4_conn_dir_res {
	ST4_CDFS4_FORE = 0x1,
	ST4_CDFS4_BACK = 0x2,
	ST4_CDFS4_BOTH = 0x3,
};

/* BIND_CONN_TO_SESSION (18.34): records the binding; "or both" is granted both. */
enum st4_status st4_bind_conn(struct st4_server *srv, const uint8_t *sessionid, uint64_t conn_id,
			      enum st4_conn_dir dir, enum st4_conn_dir_res *granted);
/* The connection closed: unbind it from every session. */
void st4_conn_closed(struct st4_server *srv, uint64_t conn_id);
/* The session's fore channel as negotiated, and whether conn_id is bound to it. */
enum st4_status st4_session_info(struct st4_server *srv, const uint8_t *sessionid, uint64_t conn_id,
				 struct st4_chan_attrs *fore, bool *bound);

/* --------------------------------------------------------------- stateids */

enum st4_stateid_class {
	ST4_SID_REGULAR = 0,
	ST4_SID_ANONYMOUS,   /* seqid 0, other 0: no state (READ/WRITE/SETATTR) */
	ST4_SID_BYPASS,	     /* all ones: READ that bypasses share deny */
	ST4_SID_CURRENT,     /* seqid 1, other 0: the COMPOUND's current stateid */
	ST4_SID_INVALID,     /* seqid 0xffffffff, other 0: always NFS4ERR_BAD_STATEID */
	ST4_SID_BAD_SPECIAL, /* other all 0 or all 1 with any other seqid */
};
/* Which stateid this is (RFC 8881 8.2.3). The front end substitutes "current" itself. */
enum st4_stateid_class st4_stateid_classify(const struct st4_stateid *sid);
/* What CLOSE returns (8.2.3's invalid stateid). */
extern const struct st4_stateid st4_invalid_stateid;

/*
 * TEST_STATEID (18.48): one status per stateid, in status[i]. A stateid of
 * another client, unknown or special is NFS4ERR_BAD_STATEID; revoked
 * NFS4ERR_ADMIN_REVOKED; of a client whose lease expired NFS4ERR_EXPIRED;
 * an older seqid NFS4ERR_OLD_STATEID; seqid 0 stands for the current one.
 */
void st4_test_stateids(struct st4_server *srv, struct st4_client *c, const struct st4_stateid *sids,
		       unsigned n, enum st4_status *status);
/*
 * FREE_STATEID (18.38): a revoked state, or a lock stateid holding no
 * locks. NFS4ERR_LOCKS_HELD for a lock stateid with locks and for an open
 * that is still open. The seqid is not compared (8.2.2 does not ask it).
 */
enum st4_status st4_free_stateid(struct st4_server *srv, struct st4_client *c,
				 const struct st4_stateid *sid);

/*
 * READ and WRITE (and SETATTR of the size): may this stateid do I/O on the
 * file? Regular stateids (open or lock) must be this client's, of this
 * file, and current; WRITE needs an open with write access
 * (NFS4ERR_OPENMODE), READ any open (as knfsd). The anonymous stateid (and
 * the bypass one for WRITE) is refused with NFS4ERR_LOCKED by an open
 * denying that access. Byte-range locks are advisory: I/O never checks them.
 */
enum st4_status st4_check_io(struct st4_server *srv, struct st4_client *c,
			     const struct st4_stateid *sid, const struct st4_filekey *file,
			     bool write);

/* ----------------------------------------------- OPEN, OPEN_DOWNGRADE, CLOSE */

#define ST4_SHARE_ACCESS_READ 0x1u
#define ST4_SHARE_ACCESS_WRITE 0x2u
#define ST4_SHARE_ACCESS_BOTH 0x3u
#define ST4_SHARE_DENY_NONE 0x0u
#define ST4_SHARE_DENY_READ 0x1u
#define ST4_SHARE_DENY_WRITE 0x2u
#define ST4_SHARE_DENY_BOTH 0x3u

struct st4_open_args {
	struct st4_filekey file;
	const uint8_t *owner; /* open_owner4's owner */
	uint32_t owner_len;
	uint32_t access; /* share_access; the OPEN4_SHARE_ACCESS_WANT_* bits are ignored */
	uint32_t deny;
	bool reclaim; /* CLAIM_PREVIOUS */
};

/*
 * OPEN's state (18.16): a share conflict with another open of the file is
 * NFS4ERR_SHARE_DENIED; a second OPEN by the same owner upgrades (the
 * union of both, the same stateid with its seqid bumped). During grace a
 * non-reclaim OPEN is NFS4ERR_GRACE; a reclaim outside it, by a client
 * with nothing to reclaim or after its RECLAIM_COMPLETE, NFS4ERR_NO_GRACE;
 * before the client's RECLAIM_COMPLETE any non-reclaim OPEN is
 * NFS4ERR_GRACE (18.51.3). The file should exist by now (OPEN's create done).
 */
enum st4_status st4_open(struct st4_server *srv, struct st4_client *c,
			 const struct st4_open_args *a, struct st4_stateid *out);

/*
 * What st4_open would answer about the client and the grace period alone
 * (NFS4ERR_EXPIRED, NFS4ERR_GRACE, NFS4ERR_NO_GRACE), before the file
 * exists: OPEN asks first so that it creates no file for an OPEN that then
 * fails. st4_open still decides.
 */
enum st4_status st4_grace_check(struct st4_server *srv, struct st4_client *c, bool reclaim);

/* OPEN_DOWNGRADE (18.18): the new bits must be a subset of the open's (else NFS4ERR_INVAL). */
enum st4_status st4_open_downgrade(struct st4_server *srv, struct st4_client *c,
				   const struct st4_stateid *sid, const struct st4_filekey *file,
				   uint32_t access, uint32_t deny, struct st4_stateid *out);

/*
 * CLOSE (18.2): NFS4ERR_LOCKS_HELD while a lock-owner of the open holds
 * locks on the file; else the open and its lock stateids go. *out is the
 * invalid stateid.
 */
enum st4_status st4_close(struct st4_server *srv, struct st4_client *c,
			  const struct st4_stateid *sid, const struct st4_filekey *file,
			  struct st4_stateid *out);

/* -------------------------------------------------------- LOCK, LOCKT, LOCKU */

/* LOCK4denied: the lock in the way. An owner outside NFS is clientid 0, owner "local". */
struct st4_lock_denied {
	uint64_t offset, length;
	enum st4_lock_type type;
	uint64_t clientid;
	uint32_t owner_len;
	uint8_t owner[ST4_OPAQUE_LIMIT];
};

struct st4_lock_args {
	struct st4_filekey file;
	/*
	 * For the hooks: the real file (a struct st4_ofd_file for OFD); NULL
	 * when the backend has nothing to lock through: the core's locks alone.
	 */
	void *file_ctx;
	enum st4_lock_type type; /* READ or WRITE */
	bool reclaim;
	uint64_t offset, length; /* length UINT64_MAX: to the end */
	bool new_lock_owner;
	/* new_lock_owner: the open stateid and the lock-owner; else the lock stateid. */
	struct st4_stateid stateid;
	const uint8_t *lock_owner;
	uint32_t lock_owner_len;
};

/*
 * LOCK (18.10), POSIX semantics per lock-owner: an own overlapping range is
 * replaced (split, merged, upgraded or downgraded); another owner's
 * overlapping lock where either is a write lock is NFS4ERR_DENIED with
 * *denied filled, and so is a local lock found by the hooks. Length 0 or
 * an offset + length beyond 2^64 is NFS4ERR_INVAL; a write lock on an open
 * without write access (or a read lock without read access)
 * NFS4ERR_OPENMODE; grace as for OPEN. *out: the lock stateid, seqid bumped.
 */
enum st4_status st4_lock(struct st4_server *srv, struct st4_client *c,
			 const struct st4_lock_args *a, struct st4_stateid *out,
			 struct st4_lock_denied *denied);

/* LOCKT (18.11): LOCK's conflict test for (c, owner) without taking anything. */
enum st4_status st4_lockt(struct st4_server *srv, struct st4_client *c,
			  const struct st4_filekey *file, void *file_ctx, enum st4_lock_type type,
			  uint64_t offset, uint64_t length, const uint8_t *owner,
			  uint32_t owner_len, struct st4_lock_denied *denied);

/*
 * LOCKU (18.12): releases [offset, offset + length) of the lock stateid's
 * owner (splitting a range as needed). The lock stateid stays valid with no
 * locks (8.2.4) until CLOSE or FREE_STATEID.
 */
enum st4_status st4_locku(struct st4_server *srv, struct st4_client *c,
			  const struct st4_stateid *sid, const struct st4_filekey *file,
			  uint64_t offset, uint64_t length, struct st4_stateid *out);

/* ---------------------------------------------------- RECLAIM_COMPLETE (18.51) */

/*
 * rca_one_fs false: the client is done reclaiming (a second time
 * NFS4ERR_COMPLETE_ALREADY); once every client of the loaded records is,
 * the grace period ends. rca_one_fs true is accepted and changes nothing
 * (the server's file systems are all recovered together).
 */
enum st4_status st4_reclaim_complete(struct st4_server *srv, struct st4_client *c, bool one_fs);

#endif
