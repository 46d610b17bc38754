/*
 * itest_core.h - the integration tests' helpers that need no NFS client:
 * an arena, temporary export and state directories, and loopnfsd started,
 * stopped, restarted and reloaded (itest.h adds the libnfs client; tests
 * that bring their own client, over rpcgen's XDR, include only this).
 */
#ifndef LOOPNFS_ITEST_CORE_H
#define LOOPNFS_ITEST_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>

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

#endif
