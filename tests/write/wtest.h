/*
 * wtest.h - helpers for the write-side integration tests (issue #3), on top
 * of tests/integration/itest.h (server start/stop, libnfs connection, the
 * read-side wrappers) and rawrpc.h (hand-built RPC for exact replays).
 *
 *  - wtc_*: synchronous wrappers for the NFSv3 procedures that change
 *    things; results are deep-copied into the itest arena.
 *  - wt_connect_*: connections with a chosen AUTH_SYS identity or host.
 *  - sattr3 builders, handle/attr helpers, wcc checks against lstat().
 *
 * Tests only talk to 127.0.0.1 / ::1, or to addresses inside a network
 * namespace the test created for itself.
 */
#ifndef LOOPNFS_WTEST_H
#define LOOPNFS_WTEST_H

#include "itest.h"
#include "rawrpc.h"

#include <stdbool.h>
#include <sys/stat.h>

/* ----------------------------------------------------------- connections */
/* TCP to host:port (numeric address), AUTH_SYS uid 0 gid 0 as libnfs sets it. */
itc_t *wt_connect_host(const char *host, int port);
/* 127.0.0.1:port with AUTH_SYS uid/gid and supplementary groups. */
itc_t *wt_connect_as(int port, uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids);
void wt_set_auth(itc_t *c, uint32_t uid, uint32_t gid, uint32_t ngids, const uint32_t *gids);

/* ----------------------------------------------------------- sattr3 */
sattr3 wt_sattr_none(void);
sattr3 wt_sattr_mode(uint32_t mode);

/* ----------------------------------------------------------- procedures */
int wtc_setattr(itc_t *c, const fh_t *fh, const sattr3 *sa, const nfstime3 *guard,
		SETATTR3res *res);
int wtc_write(itc_t *c, const fh_t *fh, uint64_t off, const void *data, uint32_t len,
	      stable_how how, WRITE3res *res);
/* count and data length set independently (count > len: a broken request). */
int wtc_write_raw(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, const void *data,
		  uint32_t len, stable_how how, WRITE3res *res);
int wtc_commit(itc_t *c, const fh_t *fh, uint64_t off, uint32_t count, COMMIT3res *res);
int wtc_create(itc_t *c, const fh_t *dir, const char *name, createmode3 mode, const sattr3 *sa,
	       const char verf[8], CREATE3res *res);
int wtc_mkdir(itc_t *c, const fh_t *dir, const char *name, const sattr3 *sa, MKDIR3res *res);
int wtc_symlink(itc_t *c, const fh_t *dir, const char *name, const char *target, const sattr3 *sa,
		SYMLINK3res *res);
int wtc_mknod(itc_t *c, const fh_t *dir, const char *name, ftype3 type, const sattr3 *sa,
	      uint32_t major, uint32_t minor, MKNOD3res *res);
int wtc_remove(itc_t *c, const fh_t *dir, const char *name, REMOVE3res *res);
int wtc_rmdir(itc_t *c, const fh_t *dir, const char *name, RMDIR3res *res);
int wtc_rename(itc_t *c, const fh_t *fdir, const char *fname, const fh_t *tdir, const char *tname,
	       RENAME3res *res);
int wtc_link(itc_t *c, const fh_t *file, const fh_t *dir, const char *name, LINK3res *res);

/* ----------------------------------------------------------- conveniences */
/* Each fails the current test unless the call returned NFS3_OK. */
fh_t wt_create_ok(itc_t *c, const fh_t *dir, const char *name, uint32_t mode);
fh_t wt_mkdir_ok(itc_t *c, const fh_t *dir, const char *name, uint32_t mode);
WRITE3resok wt_write_ok(itc_t *c, const fh_t *fh, uint64_t off, const void *data, uint32_t len,
			stable_how how);
/* READ exactly len bytes at off (loops over short reads); fails the test otherwise. */
void wt_read_exact(itc_t *c, const fh_t *fh, uint64_t off, void *buf, uint32_t len);
/* Status of one procedure, failing the test on RPC errors. */
nfsstat3 wt_lookup_status(itc_t *c, const fh_t *dir, const char *name);
nfsstat3 wt_getattr_status(itc_t *c, const fh_t *fh);
/* Handle from a post_op_fh3 (must be present). */
fh_t wt_post_fh(const post_op_fh3 *p);

/* lstat(env->dir/rel) or fail. */
struct stat wt_lstat(const struct itest_env *env, const char *rel);
/* Fail unless pre-op attributes equal before (size, mtime, ctime to the ns). */
void wt_check_pre(const pre_op_attr *pre, const struct stat *before, const char *what);
/* Fail unless post-op attributes are present and equal lstat(path) now. */
void wt_check_post(const post_op_attr *post, const char *path, const char *what);
/* Both of the above. */
void wt_check_wcc(const wcc_data *w, const struct stat *before, const char *path, const char *what);

/* A file of exactly these bytes, owned by uid:gid with mode (through chown/chmod). */
void wt_make_file(const struct itest_env *env, const char *rel, const char *content, uid_t uid,
		  gid_t gid, mode_t mode);
void wt_make_dir(const struct itest_env *env, const char *rel, uid_t uid, gid_t gid, mode_t mode);
/* Whole file from disk into the arena; *len set. NULL if missing. */
unsigned char *wt_slurp_bin(const char *path, size_t *len);

/* Number of the server's open descriptors naming a deleted file below dir. */
int wt_deleted_fds(pid_t pid, const char *dir);

/* A raw NFSv3 call header for AUTH_SYS uid/gid on xid. */
void wt_raw_hdr(xbuf *b, uint32_t xid, uint32_t proc, uint32_t uid, uint32_t gid);
/* Send msg on fd and wait for the reply record; returns the nfsstat3 or -1. */
int wt_raw_call(int fd, const xbuf *msg, uint32_t xid);

/* Skip the current test unless running as root. */
#define WT_REQUIRE_ROOT()                                         \
	do {                                                      \
		if (geteuid() != 0) {                             \
			fprintf(stderr, "skipped: needs root\n"); \
			skip();                                   \
		}                                                 \
	} while (0)

/* ----------------------------------------------------------- fixtures */
/* One server per test program over a fresh export; per-test connection. */
extern struct itest_env wt_env;
extern struct itest_server wt_srv;
struct wt_ctx {
	itc_t *c; /* AUTH_SYS uid 0 gid 0 from 127.0.0.1: local root */
	fh_t root;
};
/* Start the server (extra: more options, may be NULL). */
int wt_group_setup(const char *tag, const char *const *extra);
int wt_group_teardown(void **state);
int wt_setup(void **state);
int wt_teardown(void **state);
/* mkdir env->dir/rel (root 0777 unless changed after) and return its handle. */
fh_t wt_dir_fh(struct wt_ctx *x, const char *rel);

#endif
