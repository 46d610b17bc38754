/*
 * itest.h - helpers for the loopnfs integration tests.
 *
 *  - itest_env / itest_server: temp export dir + state dir, start loopnfsd
 *    (--port 0 --no-rpcbind --state-dir), parse "port=N" from its stdout,
 *    stop it with SIGTERM and check it exits 0, restart it.
 *  - itc_*: a synchronous wrapper around libnfs's raw async API (one TCP
 *    connection to the single NFS+MOUNT port).  Results are deep-copied out
 *    of libnfs's callback into an arena that is released by itest_arena_free().
 *
 * The tests only ever talk to 127.0.0.1 / ::1.
 */
#ifndef LOOPNFS_ITEST_H
#define LOOPNFS_ITEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-mount.h>
#include <nfsc/libnfs-raw-nfs.h>

#include <cmocka.h>

#include "itest_core.h"

/* ------------------------------------------------------ libnfs client */
typedef struct {
	uint32_t len;
	unsigned char data[NFS3_FHSIZE];
} fh_t;

typedef struct itc {
	struct rpc_context *rpc;
	int port;
	char err[512];
} itc_t;

/* Connect over TCP to 127.0.0.1:port.  NULL on failure (message on stderr). */
itc_t *itc_connect(int port);
void itc_close(itc_t *c);
void itc_set_auth_none(itc_t *c);
void itc_set_auth_sys(itc_t *c, uint32_t uid, uint32_t gid);

/* Every call returns 0 when an RPC reply was received and decoded, -1 on any
 * RPC-level failure (error text in c->err).  Results are arena-allocated. */
int itc_mnt_null(itc_t *c, int vers);
int itc_mnt3(itc_t *c, const char *path, mountres3 *res);
int itc_mnt1(itc_t *c, const char *path, mountres1 *res);
int itc_dump(itc_t *c, int vers, mountlist *res);
int itc_umnt(itc_t *c, int vers, const char *path);
int itc_umntall(itc_t *c, int vers);
int itc_export(itc_t *c, int vers, exports *res);

int itc_nfs_null(itc_t *c);
int itc_getattr(itc_t *c, const fh_t *fh, GETATTR3res *res);
int itc_lookup(itc_t *c, const fh_t *dir, const char *name, LOOKUP3res *res);
int itc_access(itc_t *c, const fh_t *fh, uint32_t access, ACCESS3res *res);
int itc_readlink(itc_t *c, const fh_t *fh, READLINK3res *res);
int itc_read(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, READ3res *res);
int itc_readdir(itc_t *c, const fh_t *dir, uint64_t cookie, const char *verf, uint32_t count,
		READDIR3res *res);
int itc_readdirplus(itc_t *c, const fh_t *dir, uint64_t cookie, const char *verf, uint32_t dircount,
		    uint32_t maxcount, READDIRPLUS3res *res);
int itc_fsstat(itc_t *c, const fh_t *fh, FSSTAT3res *res);
int itc_fsinfo(itc_t *c, const fh_t *fh, FSINFO3res *res);
int itc_pathconf(itc_t *c, const fh_t *fh, PATHCONF3res *res);

/* Convenience (fail the current cmocka test on RPC errors). */
fh_t itc_fh(const nfs_fh3 *f);
fh_t itc_root(itc_t *c, const char *path);			 /* MNT3 -> fh */
fh_t itc_lookup_ok(itc_t *c, const fh_t *dir, const char *name); /* must be NFS3_OK */
fh_t itc_walk(itc_t *c, const fh_t *root, const char *relpath);	 /* a/b/c */
fattr3 itc_attr_ok(itc_t *c, const fh_t *fh);			 /* GETATTR must be OK */
int itc_fh_equal(const fh_t *a, const fh_t *b);

const char *itest_nfsstat_name(int st);

/* Assert helpers that print useful messages. */
#define ITC_CALL(c, expr)                                                     \
	do {                                                                  \
		if ((expr) != 0)                                              \
			fail_msg("RPC call failed: %s: %s", #expr, (c)->err); \
	} while (0)

#define assert_nfsstat(got, want)                                                                 \
	do {                                                                                      \
		int g_ = (int)(got), w_ = (int)(want);                                            \
		if (g_ != w_)                                                                     \
			fail_msg("%s: expected %s(%d), got %s(%d)", #got, itest_nfsstat_name(w_), \
				 w_, itest_nfsstat_name(g_), g_);                                 \
	} while (0)

/* Compare fattr3 with lstat() of path (type, mode, nlink, uid, gid, size,
 * used, times to the nanosecond). */
void itest_check_attr_matches(const fattr3 *a, const char *path);

#endif
