/*
 * cctest.h - helpers for the concurrency / fd-cache tests (issue #5), on top
 * of the integration tier's itest.h (server start/stop, libnfs wrappers) and
 * rawrpc.h (hand-built RPC over sockets).
 *
 *  - cc_msg_*: complete NFSv3 call messages (AUTH_SYS with a chosen uid/gid)
 *    for the procedures these tests pipeline: NULL, GETATTR, LOOKUP, READ,
 *    WRITE, COMMIT.
 *  - cc_parse: decode the reply of one of those procedures (xid, nfsstat3,
 *    attributes, READ data, LOOKUP handle, WRITE/COMMIT results).
 *  - cc_rx: a non-blocking TCP record reassembler, so one thread can read
 *    many pipelined connections at once and see replies in arrival order.
 *  - /proc/<pid>/fd inspection of the server (cached and deleted files).
 *
 * Tests only talk to 127.0.0.1 / ::1.
 */
#ifndef LOOPNFS_CCTEST_H
#define LOOPNFS_CCTEST_H

#include "itest.h"
#include "rawrpc.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* NFSv3 procedure numbers (own names: libnfs defines its own macros). */
enum {
	CC_NULL = 0,
	CC_GETATTR = 1,
	CC_LOOKUP = 3,
	CC_READ = 6,
	CC_WRITE = 7,
	CC_COMMIT = 21,
};

enum {
	CC_UNSTABLE = 0,
	CC_DATA_SYNC = 1,
	CC_FILE_SYNC = 2
};

/* ------------------------------------------------------------ messages */
/* NFSv3 call header with AUTH_SYS uid/gid and the supplementary groups. */
void cc_hdr(xbuf *b, uint32_t xid, uint32_t proc, uint32_t uid, uint32_t gid, uint32_t ngids,
	    const uint32_t *gids);
/* Each starts a fresh message in *b (xb_init'd by the callee). */
void cc_msg_null(xbuf *b, uint32_t xid);
void cc_msg_getattr(xbuf *b, uint32_t xid, const fh_t *fh, uint32_t uid, uint32_t gid);
void cc_msg_lookup(xbuf *b, uint32_t xid, const fh_t *dir, const char *name, uint32_t uid,
		   uint32_t gid);
void cc_msg_read(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, uint32_t count, uint32_t uid,
		 uint32_t gid);
void cc_msg_write(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, const void *data,
		  uint32_t len, int stable, uint32_t uid, uint32_t gid);
void cc_msg_commit(xbuf *b, uint32_t xid, const fh_t *fh, uint64_t off, uint32_t count,
		   uint32_t uid, uint32_t gid);
/* Append msg to stream as one TCP record (single last fragment). */
void cc_frame(xbuf *stream, const xbuf *msg);

/* ------------------------------------------------------------- replies */
typedef struct {
	uint32_t xid;
	int rpc_ok; /* MSG_ACCEPTED + SUCCESS */
	int status; /* nfsstat3 (valid when rpc_ok and proc != NULL) */
	int has_attr;
	uint32_t type, mode, nlink, uid, gid;
	uint64_t size, fileid;
	/* READ */
	uint32_t count;
	int eof;
	const unsigned char *data; /* points into the record */
	uint32_t data_len;
	/* LOOKUP */
	fh_t fh;
	/* WRITE */
	uint32_t committed;
	unsigned char verf[8];
} cc_res;

/* Decode a reply record of procedure proc.  0 on success, -1 malformed (a
 * message is written to err, which may be NULL). */
int cc_parse(uint32_t proc, const unsigned char *rec, size_t len, cc_res *out, char *err,
	     size_t errlen);
/* The xid of a reply record (first word), 0 if too short. */
uint32_t cc_xid(const unsigned char *rec, size_t len);

/* ------------------------------------------------ record reassembly (TCP) */
typedef struct {
	unsigned char *buf;
	size_t len, cap;
	int eof;
} cc_rx;

void cc_rx_init(cc_rx *rx);
void cc_rx_free(cc_rx *rx);
/* recv() whatever is available on a non-blocking fd.  Returns bytes read,
 * 0 if nothing (EAGAIN), -1 on EOF or error (rx->eof set). */
long cc_rx_fill(int fd, cc_rx *rx);
/* Pop one complete record (fragments joined) if buffered: returns its length
 * and a malloc'd copy in *rec; 0 if none is complete yet; -1 if malformed. */
long cc_rx_pop(cc_rx *rx, unsigned char **rec);

/* ------------------------------------------------------------ sockets */
int cc_set_nonblock(int fd, int on);
/* TCP connect to 127.0.0.1 / ::1 with SO_RCVBUF/SO_SNDBUF forced before the
 * connect (0 = leave the default).  TCP_NODELAY set.  -1 on failure. */
int cc_tcp_connect(int port, int v6, int rcvbuf, int sndbuf);
/* Write all of buf to a (blocking or not) socket within timeout_ms.  0 / -1. */
int cc_send_all(int fd, const void *buf, size_t len, int timeout_ms);
/* Is ::1 usable on this host (the server listens on it by default)? */
int cc_have_v6(int port);

/* -------------------------------------------------------- server's fds */
/* Number of the server's descriptors whose /proc link is exactly path, and
 * (separately) path + " (deleted)".  -1 if /proc/<pid>/fd is unreadable. */
int cc_fd_links(pid_t pid, const char *path, int *deleted);
/* Poll until the server holds no descriptor of the deleted file at path;
 * returns the ms it took, or -1 if some were still open after timeout_ms. */
long cc_wait_no_deleted(pid_t pid, const char *path, int timeout_ms);

/* ------------------------------------------------------- frozen disks */
/* Mount a fresh 96 MiB ext4 image (loop device) on env->dir, in a mount
 * namespace of this process and its children only, so the test can freeze
 * it (FIFREEZE on a descriptor of env->dir).  0, or -1 when loop devices or
 * mkfs.ext4 are missing.  Needs root. */
int cc_mount_image(const struct itest_env *env);

/* ------------------------------------------------------------ misc */
long long cc_now_ms(void);
/* Write a file of len pattern bytes (itest_pattern(seed)), mode, owner. */
void cc_make_file(const char *path, size_t len, uint32_t seed, uid_t uid, gid_t gid, mode_t mode);
/* Does buf equal itest_pattern(seed) at off? Returns index of the first
 * mismatch or -1 when equal. */
long cc_pattern_mismatch(const unsigned char *buf, size_t len, uint64_t off, uint32_t seed);
/* Under a sanitizer build things are slower: a factor for time limits. */
int cc_slow_factor(void);

#endif
