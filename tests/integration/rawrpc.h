/*
 * rawrpc.h - hand-written ONC RPC (RFC 5531) over plain sockets, for the
 * RPC-layer integration tests: record marking, UDP, malformed headers.
 * Independent of libnfs / libtirpc on purpose (no shared XDR code).
 */
#ifndef LOOPNFS_RAWRPC_H
#define LOOPNFS_RAWRPC_H

#include <stddef.h>
#include <stdint.h>

enum {
	RR_CALL = 0,
	RR_REPLY = 1,
	RR_MSG_ACCEPTED = 0,
	RR_MSG_DENIED = 1,
	RR_SUCCESS = 0,
	RR_PROG_UNAVAIL = 1,
	RR_PROG_MISMATCH = 2,
	RR_PROC_UNAVAIL = 3,
	RR_GARBAGE_ARGS = 4,
	RR_SYSTEM_ERR = 5,
	RR_RPC_MISMATCH = 0,
	RR_AUTH_ERROR = 1,
	RR_AUTH_OK = 0,
	RR_AUTH_BADCRED = 1,
	RR_AUTH_REJECTEDCRED = 2,
	RR_AUTH_BADVERF = 3,
	RR_AUTH_REJECTEDVERF = 4,
	RR_AUTH_TOOWEAK = 5,
	RR_FLAVOR_NONE = 0,
	RR_FLAVOR_SYS = 1,
};

/* ------------------------------------------------------------ encoder */
typedef struct {
	unsigned char *buf;
	size_t len, cap;
} xbuf;

void xb_init(xbuf *b);
void xb_free(xbuf *b);
void xb_raw(xbuf *b, const void *p, size_t n);
void xb_u32(xbuf *b, uint32_t v);
void xb_u64(xbuf *b, uint64_t v);
void xb_fixed(xbuf *b, const void *p, size_t n);  /* bytes + pad to 4 */
void xb_opaque(xbuf *b, const void *p, size_t n); /* length + bytes + pad */
void xb_string(xbuf *b, const char *s);

/* AUTH_SYS credential body (RFC 5531 appendix A). */
void rr_authsys_body(xbuf *body, uint32_t stamp, const char *machine, uint32_t uid, uint32_t gid,
		     uint32_t ngids, const uint32_t *gids);

/* Append a CALL header: xid, CALL, rpcvers, prog, vers, proc, cred, verf(NONE). */
void rr_call_hdr(xbuf *b, uint32_t xid, uint32_t rpcvers, uint32_t prog, uint32_t vers,
		 uint32_t proc, uint32_t cred_flavor, const void *cred, size_t cred_len);
/* Same with a default AUTH_SYS (uid 0, gid 0) credential. */
void rr_call_hdr_sys(xbuf *b, uint32_t xid, uint32_t prog, uint32_t vers, uint32_t proc);

/* ------------------------------------------------------------ decoder */
typedef struct {
	const unsigned char *p;
	size_t len, pos;
	int err;
} xrd;

void xr_init(xrd *r, const void *p, size_t len);
uint32_t xr_u32(xrd *r);
uint64_t xr_u64(xrd *r);
/* Variable-length opaque: returns pointer into buffer, sets *n. */
const unsigned char *xr_opaque(xrd *r, uint32_t *n, uint32_t max);
void xr_skip(xrd *r, size_t n);

typedef struct {
	uint32_t xid;
	uint32_t mtype;
	uint32_t reply_stat; /* RR_MSG_ACCEPTED / RR_MSG_DENIED */
	/* accepted */
	uint32_t verf_flavor;
	uint32_t accept_stat;
	uint32_t low, high; /* PROG_MISMATCH or RPC_MISMATCH */
	/* denied */
	uint32_t reject_stat;
	uint32_t auth_stat;
	/* results (accepted + SUCCESS) */
	const unsigned char *body;
	size_t body_len;
} rr_reply;

/* Parse a reply message.  Returns 0 on success, -1 if malformed. */
int rr_parse_reply(const void *msg, size_t len, rr_reply *out);

/* ------------------------------------------------------------ sockets */
/* TCP connect to 127.0.0.1:port (or ::1 when v6).  -1 on failure. */
int rr_tcp_connect(int port, int v6);
/* Send one record split into fragments: frag_sizes is a 0-terminated list of
 * fragment sizes cycled over the message (NULL = single fragment).  If
 * byte_delay_us > 0, write the stream in chunks of at most chunk bytes with a
 * pause between writes (to exercise partial reads on the server). */
int rr_tcp_send_record(int fd, const void *msg, size_t len, const size_t *frag_sizes, size_t chunk,
		       int delay_us);
/* Receive one whole record (reassembling fragments) into *out (malloc'd;
 * free with free()).  Returns length, -1 on error/EOF, -2 on timeout. */
long rr_tcp_recv_record(int fd, unsigned char **out, int timeout_ms);
/* Did the peer close the connection (EOF/RST) within timeout_ms?  1 yes, 0 no. */
int rr_tcp_peer_closed(int fd, int timeout_ms);

/* UDP socket connected to 127.0.0.1:port.  -1 on failure. */
int rr_udp_socket(int port, int v6);
/* Send one datagram and wait for the reply with the given xid.
 * Returns length, -2 on timeout, -1 on error. */
long rr_udp_call(int fd, const void *msg, size_t len, uint32_t xid, unsigned char *reply,
		 size_t cap, int timeout_ms);

/* Convenience: one call over a fresh TCP connection; fills *rep, copies
 * the reply into *raw (malloc'd, caller frees).  0 on success. */
int rr_tcp_call(int port, const void *msg, size_t len, unsigned char **raw, rr_reply *rep,
		int timeout_ms);

const char *rr_accept_name(uint32_t s);
const char *rr_auth_name(uint32_t s);

#endif
