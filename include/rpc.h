/*
 * ONC RPC (RFC 5531) call/reply framing, independent of transport.
 * The transport hands a whole record to rpc_process(); it returns an encoded
 * reply (or asks for the call to be dropped).
 */
#ifndef LOOPNFS_RPC_H
#define LOOPNFS_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RPC_AUTH_NONE 0
#define RPC_AUTH_SYS 1
#define RPC_MAX_GIDS 16
#define RPC_MAX_MACHINE 255
#define RPC_MAX_AUTH_BYTES 400

/* accept_stat (RFC 5531 section 9) */
enum rpc_accept_stat {
	ACC_SUCCESS = 0,
	ACC_PROG_UNAVAIL = 1,
	ACC_PROG_MISMATCH = 2,
	ACC_PROC_UNAVAIL = 3,
	ACC_GARBAGE_ARGS = 4,
	ACC_SYSTEM_ERR = 5,
};

/* auth_stat */
enum rpc_auth_stat {
	AUTHST_OK = 0,
	AUTHST_BADCRED = 1,
	AUTHST_REJECTEDCRED = 2,
	AUTHST_BADVERF = 3,
	AUTHST_REJECTEDVERF = 4,
	AUTHST_TOOWEAK = 5,
};

struct rpc_cred {
	uint32_t flavor;
	uint32_t uid;
	uint32_t gid;
	uint32_t ngids;
	uint32_t gids[RPC_MAX_GIDS];
	char machine[RPC_MAX_MACHINE + 1];
};

struct rpc_peer {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool is_tcp;
	bool is_local;		  /* loopback source address */
	struct peer_cache *cache; /* the connection's (access.h); NULL for UDP */
};

struct rpc_call {
	uint32_t xid;
	uint32_t prog;
	uint32_t vers;
	uint32_t proc;
	struct rpc_cred cred;
	const uint8_t *args; /* points into the record */
	size_t args_len;
	const struct rpc_peer *peer;
};

/*
 * An encoded reply. buf[0..4) is reserved for the TCP record mark so the
 * transport can send header and payload with one writev.
 */
struct rpc_reply {
	uint8_t *buf;
	size_t len; /* bytes used, including the 4 reserved */
	size_t cap;
	/* Optional bulk data sent after buf (READ payloads), then XDR padding. */
	void *payload;
	size_t payload_len;
	bool drop; /* send nothing (duplicate in progress) */
};

#define RPC_REPLY_RESERVE 4

/* Ensure room for n more bytes; returns false on allocation failure. */
bool rpc_reply_reserve(struct rpc_reply *rep, size_t n);
void rpc_reply_free(struct rpc_reply *rep);

/*
 * Parse the call header. On failure returns false and has already encoded
 * the right rejection (RPC_MISMATCH, AUTH_BADCRED...) into rep, or set
 * rep->drop when the record is not even a call.
 */
bool rpc_parse_call(const uint8_t *rec, size_t len, struct rpc_call *call, struct rpc_reply *rep);

/* Reply headers. */
void rpc_encode_accepted(struct rpc_reply *rep, uint32_t xid, enum rpc_accept_stat stat);
void rpc_encode_prog_mismatch(struct rpc_reply *rep, uint32_t xid, uint32_t low, uint32_t high);
void rpc_encode_auth_error(struct rpc_reply *rep, uint32_t xid, enum rpc_auth_stat why);

/*
 * What the transport needs to know of a call before it runs it, read from
 * the record's bytes here so that the transport itself only frames records
 * and schedules them.
 */
struct rpc_hint {
	/* Reply data expected beyond the call's own bytes (what a READ asks for). */
	size_t reply_bytes;
	/* Bulk I/O (a WRITE's payload): queued apart, never on the small-call reserve. */
	bool bulk;
	/* Small enough to try on the event thread (rpc_process_inline). */
	bool may_inline;
};

/* Classify a whole call record; never fails (unknown or short: no reply estimate). */
struct rpc_hint rpc_classify(const uint8_t *rec, size_t len);

/* Top level: parse, authenticate, dispatch, encode. Thread-safe. */
/*
 * The same on the event thread, for the cheap procedures (PROC_INLINE) whose
 * handles are cached. false: nothing was done (rep untouched), hand the
 * record to a worker.
 */
bool rpc_process_inline(const uint8_t *rec, size_t len, const struct rpc_peer *peer,
			struct rpc_reply *rep);
void rpc_process(const uint8_t *rec, size_t len, const struct rpc_peer *peer,
		 struct rpc_reply *rep);

#endif
