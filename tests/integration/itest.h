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

#define ITEST_PROG_NFS 100003
#define ITEST_PROG_MOUNT 100005

/* Timeouts (ms).  Generous: the tier also runs under ASan and TSan. */
#define ITEST_READY_TIMEOUT_MS 30000
#define ITEST_CALL_TIMEOUT_MS 60000
#define ITEST_EXIT_TIMEOUT_MS 20000

/* ------------------------------------------------------------ arena */
void *itest_alloc(size_t n); /* zeroed, freed by itest_arena_free */
char *itest_strdup(const char *s);
void itest_arena_free(void);
/* Free only what was allocated after the mark. */
void *itest_arena_mark(void);
void itest_arena_release(void *mark);
char *itest_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --------------------------------------------------------- environment */
struct itest_env {
	char base[512];	 /* mkdtemp'd base directory (outside the export) */
	char dir[600];	 /* exported directory: base/export (realpath'd) */
	char state[600]; /* state dir: base/state */
};

/* Create base/export and base/state.  Returns 0 on success. */
int itest_env_init(struct itest_env *env, const char *tag);
/* rm -rf base (unless ITEST_KEEP is set in the environment). */
void itest_env_cleanup(struct itest_env *env);
/* Remove a tree (no symlink following). */
int itest_rmtree(const char *path);

/* Path helpers inside the export: returns arena string "dir/rel". */
char *itest_path(const struct itest_env *env, const char *rel);
/* Write a file with exactly the given bytes (creates/truncates). */
int itest_write_file(const char *path, const void *data, size_t len);
/* Fill buf with a deterministic pattern that depends on (seed, offset). */
void itest_pattern(void *buf, size_t len, uint64_t offset, uint32_t seed);

/* ------------------------------------------------------------- server */
struct itest_server {
	pid_t pid;
	int port;
	const struct itest_env *env;
	char out_path[700]; /* captured stdout */
	char err_path[700]; /* captured stderr */
	int generation;	    /* per-process start counter (log file names) */
	/* The relay port is in port when LOOPNFS_CAPTURE_DIR is set (capture.h). */
	struct capture *capture;
};

/* Path of the loopnfsd binary (env LOOPNFSD overrides the built-in path). */
const char *itest_loopnfsd_path(void);

/* Start loopnfsd --port 0 --no-rpcbind --state-dir env->state [extra...] env->dir
 * and wait for "port=N" on its stdout.  extra is a NULL-terminated list of
 * additional arguments inserted before DIR (may be NULL). Returns 0 / -1. */
int itest_server_start(struct itest_server *s, const struct itest_env *env,
		       const char *const *extra);
/* The same serving the NULL-terminated list dirs instead of env->dir. */
int itest_server_start_dirs(struct itest_server *s, const struct itest_env *env,
			    const char *const *extra, const char *const *dirs);
/* Like itest_server_start but with a full custom argv (argv[0] is set by
 * the helper; argv must not include the binary).  Does not wait for ready. */
pid_t itest_spawn(const char *const *args, const char *out_path, const char *err_path);
/* Wait until pid exits (up to timeout_ms); returns the wait status or -1 on
 * timeout (the process is then killed with SIGKILL and reaped). */
int itest_wait_exit(pid_t pid, int timeout_ms);
/* SIGTERM + wait.  Returns the raw wait status (0 == clean exit 0), or -1. */
int itest_server_stop(struct itest_server *s);
/* Stop (must exit 0) and start again with the same env.  Returns 0 / -1. */
int itest_server_restart(struct itest_server *s, const char *const *extra);
/* SIGHUP, then wait until the log has one more line about a reload (applied or refused). 0 / -1. */
int itest_server_reload(struct itest_server *s);
/* Is the server process still running?  1 yes; 0 (and logs dumped) no. */
int itest_server_alive(struct itest_server *s);
/* Per-test teardown helper: frees the arena; fails if the server died. */
int itest_check_server_teardown(struct itest_server *s);
/* Read a whole file into an arena string ("" if missing). */
char *itest_slurp(const char *path);
/* Dump the server's stderr to our stderr (diagnostics). */
void itest_server_dump_log(const struct itest_server *s);

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
