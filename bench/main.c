/*
 * loopnfs-bench: NFSv3 benchmark (libnfs raw async API) plus local
 * syscall-limit measurements.  See bench/README section in the top README.
 *
 *   loopnfs-bench --host H --port N [--mount-port N] --export PATH
 *                 --workload null,seqwrite,seqread@4,... [--qd 16] [--conns 1]
 *                 [--size 1G] [--bs 1M] [--files 100000] [--duration 5]
 *   loopnfs-bench --dir D --workload local-seqread,local-null,...
 *   loopnfs-bench ... --read-file PATH --list-dir PATH --workload seqread,readdir,...
 *
 * With --read-file/--list-dir the benchmark reads a tree made beforehand
 * (for a read-only export, e.g. an encrypted view) and creates nothing.
 * A workload name may carry "@N" to run it with N connections.  Every reply
 * is checked; any error, short transfer, data mismatch or stall is fatal
 * (exit status 2).  One "RESULT ..." line is printed per workload on stdout.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct opts g_opt = {
	.host = "127.0.0.1",
	.port = 0,
	.mount_port = 0,
	.export_path = NULL,
	.workloads = NULL,
	.label = NULL,
	.dir = NULL,
	.qd = 16,
	.conns = 1,
	.size = 1024ull * 1024 * 1024,
	.bs = 1024 * 1024,
	.files = 100000,
	.duration = 5.0,
	.timeout = 60.0,
	.commit_every = 256ull * 1024 * 1024,
	.rdsize = 65536,
	.seed = 0x6c6f6f706e6673ull,
	.keep = 0,
	.verbose = 0,
};

const uint8_t *g_pat;

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void die(const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(stderr, "loopnfs-bench: FATAL: %s\n", buf);
	fflush(stderr);
	_exit(2);
}

void note(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "loopnfs-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/*
 * A 64-bit hash, to tell a script whether two targets served the same bytes
 * (or names): fast enough to run over a whole file once, untimed; not
 * cryptographic.
 */
uint64_t hash64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0x243F6A8885A308D3ull ^ n, w;
	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0x9E3779B97F4A7C15ull;
		h ^= h >> 29;
	}
	for (; n > 0; b++, n--)
		h = (h ^ *b) * 0x100000001B3ull;
	h ^= h >> 32;
	return h * 0xD6E8FEB86659FD93ull;
}

int read_only_mode(void)
{
	return g_opt.read_file || g_opt.list_dir;
}

/*
 * Some virtual machines (this project's CI among them) hand free guest
 * memory back to the host; the first write into such a page then waits
 * for the host to fault it in (here ~3 ms per MiB, five times the cost of
 * the write itself). Writing workloads allocate page cache, so whichever
 * server ran first after a pause looked several times slower. Touching
 * the memory and freeing it just before the timed part gives every server,
 * and the local limit, the same warm pages.
 */
void warm_memory(void)
{
	if (g_opt.warm_mem == 0)
		return;
	size_t n = (size_t)g_opt.warm_mem;
	uint8_t *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		note("--warm-mem: mmap of %zu bytes failed: %s; not warming", n, strerror(errno));
		return;
	}
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	munmap(p, n);
}

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
	unsigned sub = (unsigned)(v >> (e - 6)) & (HIST_SUB - 1);
	unsigned idx = (e - 5) * HIST_SUB + sub;
	if (idx >= HIST_BUCKETS)
		idx = HIST_BUCKETS - 1;
	return idx;
}

static uint64_t hist_value(unsigned idx)
{
	if (idx < HIST_SUB)
		return idx;
	unsigned e = idx / HIST_SUB + 5;
	unsigned sub = idx % HIST_SUB;
	uint64_t lo = ((uint64_t)(HIST_SUB + sub)) << (e - 6);
	uint64_t width = 1ull << (e - 6);
	return lo + width / 2;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->n++;
	h->sum += ns;
	if (ns > h->max)
		h->max = ns;
	h->b[hist_index(ns)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	dst->n += src->n;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t hist_pct(const struct hist *h, double p)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)((double)h->n * p);
	if (want >= h->n)
		want = h->n - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want) {
			uint64_t v = hist_value(i);
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void print_result(const struct result *r)
{
	double secs = r->secs > 0 ? r->secs : 1e-9;
	double p50 = 0, p99 = 0, pmax = 0;
	if (r->h && r->h->n) {
		p50 = (double)hist_pct(r->h, 0.50) / 1000.0;
		p99 = (double)hist_pct(r->h, 0.99) / 1000.0;
		pmax = (double)r->h->max / 1000.0;
	}
	printf("RESULT workload=%s label=%s conns=%d qd=%d ops=%" PRIu64
	       " bytes=%" PRIu64 " secs=%.3f ops_s=%.1f mib_s=%.1f"
	       " p50_us=%.1f p99_us=%.1f max_us=%.1f%s%s\n",
	       r->workload, g_opt.label ? g_opt.label : "-", r->conns, r->qd,
	       r->ops, r->bytes, r->secs, (double)r->ops / secs,
	       (double)r->bytes / secs / 1048576.0, p50, p99, pmax,
	       r->extra[0] ? " " : "", r->extra);
	fflush(stdout);
}

/* ---- options ---- */

static uint64_t parse_size(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		die("bad %s: %s", what, s);
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': v *= 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		die("bad %s: %s", what, s);
	return (uint64_t)v;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: loopnfs-bench [options] --workload W[,W...]\n"
"NFS workloads (need --port and --export):\n"
"  null seqwrite seqread randread create stat readdir remove mixed\n"
"  (append @N to run one with N connections, e.g. seqread@4)\n"
"local-limit workloads (need --dir on the same filesystem):\n"
"  local-null (TCP ping-pong at --qd) local-seqwrite local-seqread\n"
"  local-randread local-create local-stat local-readdir local-remove\n"
"  local-readdirplus (getdents64 + fstatat of every entry)\n"
"options:\n"
"  --host ADDR          server address (127.0.0.1)\n"
"  --port N             NFS port\n"
"  --mount-port N       MOUNT port (default: --port)\n"
"  --export PATH        export path for MOUNT3 MNT\n"
"  --qd N               requests outstanding per connection (16)\n"
"  --conns N            connections (1)\n"
"  --size BYTES         seqwrite/seqread/mixed file size (1G)\n"
"  --bs BYTES           seq I/O size, clamped to FSINFO rtmax/wtmax (1M)\n"
"  --files N            files for create/stat/readdir/remove (100000)\n"
"  --duration SECS      time-bounded: null randread stat readdir, and seqread\n"
"                       (whole passes over the file, at least one) (5)\n"
"  --commit-every BYTES mixed: COMMIT after this many bytes (256M)\n"
"  --rdsize BYTES       READDIRPLUS dircount and maxcount (65536)\n"
"  --timeout SECS       fail if no reply arrives for this long (60)\n"
"  --label STR          label printed in RESULT lines\n"
"  --dir DIR            directory for local workloads\n"
"  --seed N             data pattern seed\n"
"  --warm-mem BYTES     touch and free this much memory before each timed\n"
"                       seqwrite, create and mixed (0: off)\n"
"  --keep               do not remove the files created on the server\n"
"  -v, --verbose\n"
"read-only mode (a tree made beforehand; nothing is created or removed):\n"
"  --read-file PATH     seqread/randread read this file (relative to the\n"
"                       export's root, or to --dir): one untimed pass reads\n"
"                       it whole (warming every cache), every timed read is\n"
"                       compared with that copy; RESULT has file_size= and\n"
"                       file_digest= (a hash of the copy)\n"
"  --list-dir PATH      readdir/local-readdir/local-readdirplus list this\n"
"                       directory; an untimed first listing sets the entry\n"
"                       count and names every timed one must match; RESULT has\n"
"                       listed= and names_digest=\n"
"  --drop-behind        local: drop the pages of --read-file just read\n"
"                       (POSIX_FADV_DONTNEED), so every read reaches the\n"
"                       filesystem (a FUSE mount's page cache answers repeated\n"
"                       reads otherwise; NFS READs all reach the server)\n"
"  (local-seqread@N and local-randread@N: N threads, N reads in flight)\n");
}

/* In read-only mode nothing may write: each workload reads what the options
 * name, or it is refused before anything runs. */
static void check_read_only(const char *w)
{
	static const char *file_readers[] = { "seqread", "randread", "local-seqread",
					      "local-randread" };
	static const char *listers[] = { "readdir", "local-readdir", "local-readdirplus" };
	if (!read_only_mode() || !strcmp(w, "null") || !strcmp(w, "local-null"))
		return;
	for (size_t i = 0; i < sizeof(file_readers) / sizeof(file_readers[0]); i++)
		if (!strcmp(w, file_readers[i])) {
			if (!g_opt.read_file)
				die("'%s' in read-only mode needs --read-file", w);
			return;
		}
	for (size_t i = 0; i < sizeof(listers) / sizeof(listers[0]); i++)
		if (!strcmp(w, listers[i])) {
			if (!g_opt.list_dir)
				die("'%s' in read-only mode needs --list-dir", w);
			return;
		}
	die("'%s' writes, so it cannot run with --read-file/--list-dir", w);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"host", required_argument, 0, 'H'},
		{"port", required_argument, 0, 'p'},
		{"mount-port", required_argument, 0, 'm'},
		{"export", required_argument, 0, 'e'},
		{"workload", required_argument, 0, 'w'},
		{"qd", required_argument, 0, 'q'},
		{"conns", required_argument, 0, 'c'},
		{"size", required_argument, 0, 's'},
		{"bs", required_argument, 0, 'b'},
		{"files", required_argument, 0, 'f'},
		{"duration", required_argument, 0, 'd'},
		{"timeout", required_argument, 0, 't'},
		{"commit-every", required_argument, 0, 'C'},
		{"rdsize", required_argument, 0, 'r'},
		{"label", required_argument, 0, 'l'},
		{"dir", required_argument, 0, 'D'},
		{"seed", required_argument, 0, 'S'},
		{"warm-mem", required_argument, 0, 'W'},
		{"read-file", required_argument, 0, 'R'},
		{"list-dir", required_argument, 0, 'L'},
		{"drop-behind", no_argument, 0, 'O'},
		{"keep", no_argument, 0, 'k'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'H': g_opt.host = optarg; break;
		case 'p': g_opt.port = atoi(optarg); break;
		case 'm': g_opt.mount_port = atoi(optarg); break;
		case 'e': g_opt.export_path = optarg; break;
		case 'w': g_opt.workloads = optarg; break;
		case 'q': g_opt.qd = atoi(optarg); break;
		case 'c': g_opt.conns = atoi(optarg); break;
		case 's': g_opt.size = parse_size(optarg, "--size"); break;
		case 'b': g_opt.bs = (uint32_t)parse_size(optarg, "--bs"); break;
		case 'f': g_opt.files = parse_size(optarg, "--files"); break;
		case 'd': g_opt.duration = atof(optarg); break;
		case 't': g_opt.timeout = atof(optarg); break;
		case 'C': g_opt.commit_every = parse_size(optarg, "--commit-every"); break;
		case 'r': g_opt.rdsize = (uint32_t)parse_size(optarg, "--rdsize"); break;
		case 'l': g_opt.label = optarg; break;
		case 'D': g_opt.dir = optarg; break;
		case 'S': g_opt.seed = strtoull(optarg, NULL, 0); break;
		case 'W': g_opt.warm_mem = parse_size(optarg, "--warm-mem"); break;
		case 'R': g_opt.read_file = optarg; break;
		case 'L': g_opt.list_dir = optarg; break;
		case 'O': g_opt.drop_behind = 1; break;
		case 'k': g_opt.keep = 1; break;
		case 'v': g_opt.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc || !g_opt.workloads) {
		usage(stderr);
		return 1;
	}
	if (g_opt.qd < 1 || g_opt.qd > BENCH_MAX_QD)
		die("--qd must be 1..%d", BENCH_MAX_QD);
	if (g_opt.conns < 1 || g_opt.conns > BENCH_MAX_CONNS)
		die("--conns must be 1..%d", BENCH_MAX_CONNS);
	if (g_opt.bs < 4096 || g_opt.bs > BENCH_MAX_IO || g_opt.bs % 4096)
		die("--bs must be a multiple of 4096 in 4K..1M");
	if (g_opt.size < 4096)
		die("--size must be at least 4096");
	if (g_opt.files < 1)
		die("--files must be at least 1");
	if (g_opt.rdsize < 1024)
		die("--rdsize too small");
	if (g_opt.commit_every < g_opt.bs)
		g_opt.commit_every = g_opt.bs;
	if (g_opt.mount_port == 0)
		g_opt.mount_port = g_opt.port;
	g_opt.seed %= PAT_PERIOD;

	/* Deterministic pattern buffer, period PAT_PERIOD, readable past the
	 * period end by up to one maximal I/O. */
	uint8_t *pat = malloc((size_t)PAT_PERIOD + BENCH_MAX_IO + 16);
	if (!pat)
		die("out of memory");
	uint64_t s = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < PAT_PERIOD; i += 8) {
		uint64_t v = xorshift64(&s);
		memcpy(pat + i, &v, 8);
	}
	/* periodic extension (the extension is longer than one period) */
	for (size_t i = PAT_PERIOD; i < (size_t)PAT_PERIOD + BENCH_MAX_IO + 8; i++)
		pat[i] = pat[i - PAT_PERIOD];
	g_pat = pat;

	/* Validate every name before running anything. */
	char *list = strdup(g_opt.workloads);
	int want_nfs = 0;
	for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *at = strchr(w, '@');
		if (at)
			*at = 0;
		if (nfs_is_workload(w))
			want_nfs = 1;
		else if (!local_is_workload(w))
			die("unknown workload '%s' (see --help)", w);
		if (at && (atoi(at + 1) < 1 || atoi(at + 1) > BENCH_MAX_CONNS))
			die("bad connection count in '%s@%s'", w, at + 1);
		check_read_only(w);
		if (at && atoi(at + 1) > 1 && local_is_workload(w) && !local_has_threads(w))
			die("'%s@%s': only local-seqread and local-randread with --read-file run "
			    "several threads",
			    w, at + 1);
	}
	free(list);
	if (want_nfs) {
		if (!g_opt.port || !g_opt.export_path)
			die("NFS workloads need --port and --export");
		nfs_bench_init();
	}

	list = strdup(g_opt.workloads);
	for (char *save = NULL, *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int conns = g_opt.conns;
		char *at = strchr(w, '@');
		if (at) {
			*at = 0;
			conns = atoi(at + 1);
		}
		if (nfs_is_workload(w))
			nfs_run_workload(w, conns);
		else
			local_run_workload(w, at ? conns : 1);
	}
	free(list);
	if (want_nfs)
		nfs_bench_finish();
	local_finish();
	return 0;
}
