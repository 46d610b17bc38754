/* loopnfs-bench: shared declarations. */
#ifndef LOOPNFS_BENCH_H
#define LOOPNFS_BENCH_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define BENCH_MAX_CONNS 64
#define BENCH_MAX_QD 1024
#define BENCH_MAX_IO (1024 * 1024)
/* Pattern period: a prime, so data misplaced by any multiple of the I/O size
 * (a power of two) shows up as a mismatch. */
#define PAT_PERIOD 1048573u

struct opts {
	const char *host;
	int port;
	int mount_port;
	const char *export_path;
	const char *workloads;
	const char *label;
	const char *dir; /* local workloads */
	/* Read-only mode (--read-file, --list-dir): read what is already there,
	 * relative to the export's root or to --dir, and create nothing. */
	const char *read_file; /* seqread, randread */
	const char *list_dir;  /* readdir, local-readdir, local-readdirplus */
	int drop_behind;       /* local: drop --read-file's pages once read */
	int qd;
	int conns;
	uint64_t size;
	uint32_t bs;
	uint64_t files;
	double duration;
	double timeout;
	uint64_t commit_every;
	uint32_t rdsize;
	uint64_t seed;
	uint64_t warm_mem; /* bytes touched before each timed writing workload */
	int keep;
	int verbose;
};

extern struct opts g_opt;
extern const uint8_t *g_pat; /* PAT_PERIOD + BENCH_MAX_IO bytes */

/* Data expected at byte offset off of a file with the given seed. */
static inline const uint8_t *pat_at(uint64_t seed, uint64_t off)
{
	return g_pat + (size_t)((off + seed) % PAT_PERIOD);
}

/* ---- utilities (main.c) ---- */
uint64_t now_ns(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warm_memory(void);
uint64_t xorshift64(uint64_t *s);
uint64_t hash64(const void *p, size_t n);
int read_only_mode(void);

/* Latency histogram, log-linear: 64 sub-buckets per power of two. */
#define HIST_SUB 64
#define HIST_BUCKETS (HIST_SUB * 40)
struct hist {
	uint64_t n;
	uint64_t max;
	uint64_t sum;
	uint32_t b[HIST_BUCKETS];
};
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);
uint64_t hist_pct(const struct hist *h, double p); /* ns */

/* One result line. Extra key=value pairs may be appended by the caller via
 * the extra string. */
struct result {
	const char *workload;
	int conns;
	int qd;
	uint64_t ops;
	uint64_t bytes;
	double secs;
	const struct hist *h;
	char extra[512];
};
void print_result(const struct result *r);

/* ---- NFS workloads (nfs.c) ---- */
int nfs_is_workload(const char *name);
void nfs_bench_init(void);
void nfs_run_workload(const char *name, int conns);
void nfs_bench_finish(void);

/* ---- local limits (local.c) ---- */
int local_is_workload(const char *name);
int local_has_threads(const char *name);
void local_run_workload(const char *name, int conns);
void local_finish(void);

#endif
