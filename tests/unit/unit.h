/*
 * Shared helpers for the cmocka unit tier: temporary trees, a fake RPC
 * call/peer/request context, and a small XDR-ish record writer.
 */
#ifndef LOOPNFS_UNIT_H
#define LOOPNFS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rpc.h"
#include "req.h"

#include <stdbool.h>
#include <sys/types.h>

/* A fresh directory under $TMPDIR (or /tmp); returns a malloc'ed path. */
char *ut_mkdtemp(const char *tag);
/* rm -rf path (never follows symlinks). */
void ut_rm_rf(const char *path);
/* path = a/b, malloc'ed. */
char *ut_join(const char *a, const char *b);
/* Create an empty regular file (parents must exist). */
void ut_touch(const char *path);
void ut_mkdir(const char *path);

/*
 * One NFS request context: a TCP loopback peer, an RPC call with AUTH_SYS
 * credentials, a reply buffer and a struct req pointing at them.
 */
struct ut_rpc {
	struct rpc_peer peer;
	struct rpc_call call;
	struct rpc_reply rep;
	struct req req;
};

void ut_rpc_init(struct ut_rpc *u, uint32_t uid, uint32_t gid);
/* Free the request arena and the reply buffer. */
void ut_rpc_done(struct ut_rpc *u);

/* Growable big-endian word writer for hand-built RPC records. */
struct ut_buf {
	uint8_t *p;
	size_t len, cap;
};

void ut_put32(struct ut_buf *b, uint32_t v);
/* Opaque with length prefix and XDR padding. */
void ut_put_opaque(struct ut_buf *b, const void *data, uint32_t len);
void ut_put_raw(struct ut_buf *b, const void *data, size_t len);
void ut_buf_free(struct ut_buf *b);
uint32_t ut_get32(const uint8_t *p);

/* Hex for messages and for passing handles between processes. */
void ut_hex(const uint8_t *p, size_t n, char *out /* 2n+1 */);
/* Returns the number of bytes decoded, or -1. */
int ut_unhex(const char *s, uint8_t *out, size_t cap);

/* Run argv (execv) and capture its stdout; returns the exit status or -1. */
int ut_run_capture(char *const argv[], char *out, size_t outlen);

/*
 * The usual fixture: a temporary base with state/ and export/, the server
 * side initialised as root (credentials, handle key in state/) and export/
 * exported with default options (anonymous 65534).
 */
struct export;
struct fh_buf;
struct ut_export {
	char *base, *statedir, *exdir;
	struct export *ex;
};
int ut_export_init(struct ut_export *u, const char *tag);
/* Drop the handle cache and the export table, remove the tree. */
void ut_export_free(struct ut_export *u);
/* Handle of rel, a name directly under the export root ("" = the root). */
void ut_hmake(struct export *ex, const char *rel, struct fh_buf *out);

#endif
