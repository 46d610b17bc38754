/*
 * Local limits: the same kind of work as each NFS workload, done with plain
 * syscalls by one thread on the same filesystem (--dir), plus a TCP
 * ping-pong over loopback at --qd messages in flight.  These are the
 * ceilings the NFS numbers are compared against.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define LOCAL_SMALL 4096

static const char *local_names[] = {
	"local-null",   "local-seqwrite", "local-seqread", "local-randread",
	"local-create", "local-stat",     "local-readdir", "local-remove",
	"local-readdirplus",
};

static int l_dirfd = -1;   /* --dir */
static int l_filesfd = -1; /* --dir/loopnfs-local.PID/files */
static char l_sub[64];
static int l_subfd = -1;
static uint64_t l_seq_size;
static uint64_t l_nfiles;
static int l_conns = 1; /* threads of the workload being run */

int local_is_workload(const char *name)
{
	for (size_t i = 0; i < sizeof(local_names) / sizeof(local_names[0]); i++)
		if (!strcmp(local_names[i], name))
			return 1;
	return 0;
}

int local_has_threads(const char *name)
{
	return g_opt.read_file &&
	       (!strcmp(name, "local-seqread") || !strcmp(name, "local-randread"));
}

static void local_init(void)
{
	if (l_dirfd >= 0)
		return;
	if (!g_opt.dir)
		die("local workloads need --dir DIR (on the same filesystem as the exports)");
	l_dirfd = open(g_opt.dir, O_RDONLY | O_DIRECTORY);
	if (l_dirfd < 0)
		die("open %s: %s", g_opt.dir, strerror(errno));
	if (read_only_mode())
		return; /* no work directory: --dir may be read-only */
	snprintf(l_sub, sizeof(l_sub), "loopnfs-local.%d", (int)getpid());
	if (mkdirat(l_dirfd, l_sub, 0755) != 0)
		die("mkdir %s/%s: %s", g_opt.dir, l_sub, strerror(errno));
	l_subfd = openat(l_dirfd, l_sub, O_RDONLY | O_DIRECTORY);
	if (l_subfd < 0 || mkdirat(l_subfd, "files", 0755) != 0)
		die("mkdir %s/%s/files: %s", g_opt.dir, l_sub, strerror(errno));
	l_filesfd = openat(l_subfd, "files", O_RDONLY | O_DIRECTORY);
	if (l_filesfd < 0)
		die("open files dir: %s", strerror(errno));
}

static void report(const char *name, uint64_t ops, uint64_t bytes, uint64_t t0,
		   const struct hist *h, const char *extra)
{
	struct result r;
	memset(&r, 0, sizeof(r));
	r.workload = name;
	r.conns = l_conns;
	r.qd = strcmp(name, "local-null") ? 1 : g_opt.qd;
	r.ops = ops;
	r.bytes = bytes;
	r.secs = (double)(now_ns() - t0) / 1e9;
	r.h = h;
	if (extra)
		snprintf(r.extra, sizeof(r.extra), "%s", extra);
	print_result(&r);
}

/* ---- file data ---- */

static void local_seqwrite(int print)
{
	struct hist *h = calloc(1, sizeof(*h));
	int fd = openat(l_subfd, "seqfile", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create seqfile: %s", strerror(errno));
	if (print)
		warm_memory();
	uint64_t t0 = now_ns(), ops = 0;
	for (uint64_t off = 0; off < g_opt.size;) {
		size_t len = g_opt.size - off < g_opt.bs ? (size_t)(g_opt.size - off) : g_opt.bs;
		uint64_t t = now_ns();
		ssize_t n = pwrite(fd, pat_at(g_opt.seed, off), len, (off_t)off);
		if (n != (ssize_t)len)
			die("pwrite: %s", n < 0 ? strerror(errno) : "short write");
		hist_add(h, now_ns() - t);
		off += len;
		ops++;
	}
	uint64_t t = now_ns();
	if (fdatasync(fd) != 0)
		die("fdatasync: %s", strerror(errno));
	char extra[64];
	snprintf(extra, sizeof(extra), "sync_ms=%.1f", (double)(now_ns() - t) / 1e6);
	close(fd);
	l_seq_size = g_opt.size;
	if (print)
		report("local-seqwrite", ops, g_opt.size, t0, h, extra);
	free(h);
}

static int open_seqfile(void)
{
	if (l_seq_size != g_opt.size)
		local_seqwrite(0);
	int fd = openat(l_subfd, "seqfile", O_RDONLY);
	if (fd < 0)
		die("open seqfile: %s", strerror(errno));
	return fd;
}

static void local_seqread(void)
{
	int fd = open_seqfile();
	char *buf = aligned_alloc(4096, BENCH_MAX_IO);
	struct hist *h = calloc(1, sizeof(*h));
	/* One untimed pass so the page cache holds the file, as it does for the
	 * NFS seqread that follows seqwrite. */
	for (uint64_t off = 0; off < l_seq_size; off += g_opt.bs)
		if (pread(fd, buf, g_opt.bs, (off_t)off) < 0)
			die("pread: %s", strerror(errno));
	uint64_t t0 = now_ns(), ops = 0;
	for (uint64_t off = 0; off < l_seq_size;) {
		size_t len = l_seq_size - off < g_opt.bs ? (size_t)(l_seq_size - off) : g_opt.bs;
		uint64_t t = now_ns();
		ssize_t n = pread(fd, buf, len, (off_t)off);
		if (n != (ssize_t)len)
			die("pread: %s", n < 0 ? strerror(errno) : "short read");
		hist_add(h, now_ns() - t);
		off += len;
		ops++;
	}
	report("local-seqread", ops, l_seq_size, t0, h, NULL);
	/* verify afterwards, untimed */
	for (uint64_t off = 0; off < l_seq_size; off += g_opt.bs) {
		size_t len = l_seq_size - off < g_opt.bs ? (size_t)(l_seq_size - off) : g_opt.bs;
		if (pread(fd, buf, len, (off_t)off) != (ssize_t)len ||
		    memcmp(buf, pat_at(g_opt.seed, off), len) != 0)
			die("local seqfile data mismatch near offset %" PRIu64, off);
	}
	close(fd);
	free(buf);
	free(h);
}

static void local_randread(void)
{
	int fd = open_seqfile();
	char *buf = aligned_alloc(4096, 4096);
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t rng = g_opt.seed * 31 + 7, ops = 0, blocks = l_seq_size / 4096;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(g_opt.duration * 1e9), t = t0;
	while (t < end) {
		uint64_t off = (xorshift64(&rng) % blocks) * 4096;
		if (pread(fd, buf, 4096, (off_t)off) != 4096)
			die("pread: %s", strerror(errno));
		uint64_t t2 = now_ns();
		hist_add(h, t2 - t);
		t = t2;
		ops++;
	}
	report("local-randread", ops, ops * 4096, t0, h, NULL);
	close(fd);
	free(buf);
	free(h);
}

/* ---- read-only mode: a file made beforehand (--read-file) ---- */

static int l_rfd = -1;
static uint8_t *l_ref; /* the file as the untimed first pass read it */
static uint64_t l_ref_size;
static char l_ref_extra[96]; /* file_size= file_digest= for RESULT */

static size_t chunk_len(uint64_t off, uint64_t size, size_t bs)
{
	return size - off < bs ? (size_t)(size - off) : bs;
}

/* --drop-behind: forget the pages just read. A FUSE mount's page cache
 * would otherwise answer the next pass (and every random read of a page read
 * before) without asking the filesystem, where every NFS READ reaches the
 * server. The reads stay buffered, with the kernel's readahead, as a reader
 * of the mount gets them (O_DIRECT measured slower for gocryptfs: 34 against
 * 76 MiB/s with 16 threads). */
static void drop_behind(uint64_t off, size_t len)
{
	if (g_opt.drop_behind &&
	    posix_fadvise(l_rfd, (off_t)off, (off_t)len, POSIX_FADV_DONTNEED) != 0)
		die("posix_fadvise %s: %s", g_opt.read_file, strerror(errno));
}

/* Opens --read-file and reads it whole, untimed: the copy every timed read
 * is compared with, and the same warm caches the NFS side starts with. */
static void load_ref(void)
{
	if (l_ref)
		return;
	l_rfd = openat(l_dirfd, g_opt.read_file, O_RDONLY);
	struct stat st;
	if (l_rfd < 0 || fstat(l_rfd, &st) != 0)
		die("open %s/%s: %s", g_opt.dir, g_opt.read_file, strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 4096)
		die("%s: not a regular file of at least 4096 bytes", g_opt.read_file);
	l_ref_size = (uint64_t)st.st_size;
	l_ref = aligned_alloc(4096, (l_ref_size + 4095) / 4096 * 4096);
	if (!l_ref)
		die("out of memory for a copy of %s (%" PRIu64 " bytes)", g_opt.read_file,
		    l_ref_size);
	for (uint64_t off = 0; off < l_ref_size;) {
		size_t len = chunk_len(off, l_ref_size, g_opt.bs);
		ssize_t n = pread(l_rfd, l_ref + off, len, (off_t)off);
		if (n != (ssize_t)len)
			die("pread %s: %s", g_opt.read_file,
			    n < 0 ? strerror(errno) : "short read");
		drop_behind(off, len);
		off += len;
	}
	snprintf(l_ref_extra, sizeof(l_ref_extra), "file_size=%" PRIu64 " file_digest=%016" PRIx64,
		 l_ref_size, hash64(l_ref, l_ref_size));
}

struct rthread {
	pthread_t th;
	uint64_t rng, ops, bytes;
	struct hist h;
};

static _Atomic uint64_t l_next_chunk;
static uint64_t l_deadline;

/* One timed read at off, compared with the first pass (as the NFS side
 * compares every READ). */
static void read_checked(struct rthread *t, uint8_t *buf, uint64_t off, size_t len)
{
	uint64_t t0 = now_ns();
	ssize_t n = pread(l_rfd, buf, len, (off_t)off);
	if (n != (ssize_t)len)
		die("pread %s at %" PRIu64 ": %s", g_opt.read_file, off,
		    n < 0 ? strerror(errno) : "short read");
	hist_add(&t->h, now_ns() - t0);
	drop_behind(off, len);
	if (memcmp(buf, l_ref + off, len) != 0)
		die("%s: bytes at offset %" PRIu64 " differ from the first pass", g_opt.read_file,
		    off);
	t->ops++;
	t->bytes += len;
}

/* The threads take the next --bs chunk in turn, so together they read the
 * file in order with N reads in flight, as one NFS connection at qd N does;
 * whole passes until --duration (at least one). */
static void *seq_thread(void *arg)
{
	struct rthread *t = arg;
	uint8_t *buf = aligned_alloc(4096, BENCH_MAX_IO);
	uint64_t chunks = (l_ref_size + g_opt.bs - 1) / g_opt.bs;
	for (;;) {
		uint64_t k = atomic_fetch_add(&l_next_chunk, 1);
		if (k >= chunks && now_ns() >= l_deadline)
			break;
		uint64_t off = (k % chunks) * g_opt.bs;
		read_checked(t, buf, off, chunk_len(off, l_ref_size, g_opt.bs));
	}
	free(buf);
	return NULL;
}

/* 4 KiB at random 4 KiB-aligned offsets until --duration, as randread. */
static void *rand_thread(void *arg)
{
	struct rthread *t = arg;
	uint8_t *buf = aligned_alloc(4096, 4096);
	uint64_t blocks = l_ref_size / 4096;
	while (now_ns() < l_deadline)
		read_checked(t, buf, (xorshift64(&t->rng) % blocks) * 4096, 4096);
	free(buf);
	return NULL;
}

static void local_read_file(const char *name, void *(*fn)(void *))
{
	load_ref();
	struct rthread *ts = calloc((size_t)l_conns, sizeof(*ts));
	struct hist *h = calloc(1, sizeof(*h));
	if (!ts || !h)
		die("out of memory");
	atomic_store(&l_next_chunk, 0);
	uint64_t t0 = now_ns(), ops = 0, bytes = 0;
	l_deadline = t0 + (uint64_t)(g_opt.duration * 1e9);
	for (int i = 0; i < l_conns; i++) {
		ts[i].rng = g_opt.seed * 31 + 7 + (uint64_t)i * 7919;
		if (pthread_create(&ts[i].th, NULL, fn, &ts[i]) != 0)
			die("pthread_create failed");
	}
	for (int i = 0; i < l_conns; i++) {
		pthread_join(ts[i].th, NULL);
		hist_merge(h, &ts[i].h);
		ops += ts[i].ops;
		bytes += ts[i].bytes;
	}
	char extra[160];
	int n = snprintf(extra, sizeof(extra), "%s drop_behind=%d", l_ref_extra, g_opt.drop_behind);
	if (fn == seq_thread)
		snprintf(extra + n, sizeof(extra) - (size_t)n, " passes=%.2f",
			 (double)bytes / (double)l_ref_size);
	report(name, ops, bytes, t0, h, extra);
	free(ts);
	free(h);
}

/* ---- metadata ---- */

static void fname(char *b, size_t n, uint64_t i)
{
	snprintf(b, n, "f%08" PRIu64, i);
}

static void local_create(int print)
{
	struct hist *h = calloc(1, sizeof(*h));
	char name[32];
	if (print)
		warm_memory();
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < g_opt.files; i++) {
		uint64_t t = now_ns();
		fname(name, sizeof(name), i);
		int fd = openat(l_filesfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			die("create %s: %s", name, strerror(errno));
		if (pwrite(fd, pat_at(g_opt.seed, i * LOCAL_SMALL), LOCAL_SMALL, 0) != LOCAL_SMALL)
			die("write %s: %s", name, strerror(errno));
		close(fd);
		hist_add(h, now_ns() - t);
	}
	l_nfiles = g_opt.files;
	if (print)
		report("local-create", g_opt.files, g_opt.files * LOCAL_SMALL, t0, h, NULL);
	free(h);
}

static void ensure_local_files(void)
{
	if (l_nfiles == 0)
		local_create(0);
}

static void local_stat(void)
{
	ensure_local_files();
	struct hist *h = calloc(1, sizeof(*h));
	char name[32];
	uint64_t rng = g_opt.seed * 17 + 3, ops = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(g_opt.duration * 1e9), t = t0;
	while (t < end) {
		struct stat st;
		fname(name, sizeof(name), xorshift64(&rng) % l_nfiles);
		if (fstatat(l_filesfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			die("fstatat %s: %s", name, strerror(errno));
		if (!S_ISREG(st.st_mode) || st.st_size != LOCAL_SMALL)
			die("fstatat %s: unexpected type/size", name);
		uint64_t t2 = now_ns();
		hist_add(h, t2 - t);
		t = t2;
		ops++;
	}
	report("local-stat", ops, 0, t0, h, NULL);
	free(h);
}

static int open_list_dir(void);

/* One listing, as ls does: open, getdents64 until the end, close; with st
 * an fstatat of every entry too (the attributes READDIRPLUS returns).
 * Returns the entries other than . and ..; *names gets the sum of their
 * names' hashes (the same whatever the order). */
static uint64_t list_once(int st, char *buf, size_t bsz, struct hist *h, uint64_t *calls,
			  uint64_t *names)
{
	uint64_t listed = 0;
	int fd = open_list_dir();
	*names = 0;
	for (;;) {
		uint64_t t = now_ns();
		long n = syscall(SYS_getdents64, fd, buf, bsz);
		if (n < 0)
			die("getdents64: %s", strerror(errno));
		calls[0]++;
		if (n == 0) {
			hist_add(h, now_ns() - t);
			close(fd);
			return listed;
		}
		for (long pos = 0; pos < n;) {
			/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
			unsigned short reclen;
			memcpy(&reclen, buf + pos + 16, 2);
			const char *nm = buf + pos + 19;
			pos += reclen;
			if (!strcmp(nm, ".") || !strcmp(nm, ".."))
				continue;
			struct stat sb;
			if (st && fstatat(fd, nm, &sb, AT_SYMLINK_NOFOLLOW) != 0)
				die("fstatat %s: %s", nm, strerror(errno));
			listed++;
			*names += hash64(nm, strlen(nm));
		}
		hist_add(h, now_ns() - t);
	}
}

/* The directory to list: --list-dir, or the files made by local-create. */
static int open_list_dir(void)
{
	int fd;
	if (g_opt.list_dir)
		fd = openat(l_dirfd, g_opt.list_dir, O_RDONLY | O_DIRECTORY);
	else
		fd = openat(l_subfd, "files", O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die("open %s: %s", g_opt.list_dir ? g_opt.list_dir : "files", strerror(errno));
	return fd;
}

/* Whole listings until --duration; latency is per getdents64 call (with st:
 * that call and the fstatat of the entries it returned). */
static void local_readdir(const char *name, int st)
{
	struct hist *h = calloc(1, sizeof(*h));
	size_t bsz = 65536;
	char *buf = malloc(bsz);
	uint64_t entries = 0, calls = 0, listings = 0, names, want_names = 0, want;
	if (g_opt.list_dir) {
		/* Untimed: what every timed listing must show. */
		struct hist *h0 = calloc(1, sizeof(*h0));
		uint64_t c0 = 0;
		want = list_once(st, buf, bsz, h0, &c0, &want_names);
		free(h0);
	} else {
		ensure_local_files();
		want = l_nfiles;
	}
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(g_opt.duration * 1e9);
	do {
		uint64_t listed = list_once(st, buf, bsz, h, &calls, &names);
		if (listed != want)
			die("getdents listed %" PRIu64 " of %" PRIu64 " entries", listed, want);
		if (g_opt.list_dir && names != want_names)
			die("%s: a listing showed other names than the first", g_opt.list_dir);
		entries += listed;
		listings++;
	} while (now_ns() < end);
	char extra[200];
	double secs = (double)(now_ns() - t0) / 1e9;
	int n = snprintf(extra, sizeof(extra),
			 "entries=%" PRIu64 " entries_s=%.1f listings=%" PRIu64, entries,
			 (double)entries / secs, listings);
	if (g_opt.list_dir)
		snprintf(extra + n, sizeof(extra) - (size_t)n,
			 " listed=%" PRIu64 " names_digest=%016" PRIx64, want, want_names);
	report(name, calls, 0, t0, h, extra);
	free(buf);
	free(h);
}

static void local_remove(int print)
{
	ensure_local_files();
	struct hist *h = calloc(1, sizeof(*h));
	char name[32];
	uint64_t t0 = now_ns(), n = l_nfiles;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = now_ns();
		fname(name, sizeof(name), i);
		if (unlinkat(l_filesfd, name, 0) != 0)
			die("unlink %s: %s", name, strerror(errno));
		hist_add(h, now_ns() - t);
	}
	l_nfiles = 0;
	if (print)
		report("local-remove", n, 0, t0, h, NULL);
	free(h);
}

/* ---- TCP ping-pong ---- */

/* Message sizes close to an RPC NULL call with AUTH_UNIX and its reply,
 * including the record mark. */
#define PP_REQ 72
#define PP_REP 28

struct pp_server {
	int lfd;
};

static void *pp_server_thread(void *arg)
{
	struct pp_server *sv = arg;
	int fd = accept(sv->lfd, NULL, NULL);
	if (fd < 0)
		die("ping-pong accept: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	char in[65536];
	char *out = calloc(1, 65536 / PP_REQ * PP_REP + PP_REP);
	size_t partial = 0;
	for (;;) {
		ssize_t n = recv(fd, in, sizeof(in), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		partial += (size_t)n;
		size_t msgs = partial / PP_REQ;
		partial %= PP_REQ;
		size_t len = msgs * PP_REP, sent = 0;
		while (sent < len) {
			ssize_t w = send(fd, out + sent, len - sent, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				die("ping-pong server send: %s", strerror(errno));
			}
			sent += (size_t)w;
		}
	}
	close(fd);
	free(out);
	return NULL;
}

static void local_null(void)
{
	struct pp_server sv;
	sv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (sv.lfd < 0 || bind(sv.lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(sv.lfd, 4) != 0 || getsockname(sv.lfd, (struct sockaddr *)&a, &al) != 0)
		die("ping-pong listen: %s", strerror(errno));
	pthread_t th;
	if (pthread_create(&th, NULL, pp_server_thread, &sv) != 0)
		die("pthread_create failed");
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		die("ping-pong connect: %s", strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	int qd = g_opt.qd;
	uint64_t *sent_at = calloc((size_t)qd, sizeof(uint64_t));
	struct hist *h = calloc(1, sizeof(*h));
	char req[PP_REQ];
	memset(req, 0x5a, sizeof(req));
	char rep[PP_REP];
	size_t head = 0, tail = 0, have = 0; /* FIFO of send times; bytes of current reply */
	int outstanding = 0;
	uint64_t ops = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(g_opt.duration * 1e9);
	/*
	 * The client does what the libnfs client does, syscall for syscall:
	 * poll, then read replies until EAGAIN with two recv() calls each
	 * (4-byte record mark, then the body), then one send() per new
	 * request.  The echo server is the ideal one: one recv() for
	 * everything available, one send() for all the replies.  So this is
	 * the rate an NFS server with zero per-call cost would reach with
	 * this client at this queue depth.
	 */
	int sends = qd;
	while (sends > 0 || outstanding > 0) {
		for (; sends > 0; sends--) {
			sent_at[tail] = now_ns();
			tail = (tail + 1) % (size_t)qd;
			if (send(fd, req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req))
				die("ping-pong send: %s", strerror(errno));
			outstanding++;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			die("ping-pong: no reply");
		for (;;) {
			size_t want = have < 4 ? 4 - have : PP_REP - have;
			ssize_t n = recv(fd, rep + have, want, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("ping-pong recv: %s", n < 0 ? strerror(errno) : "eof");
			have += (size_t)n;
			if (have < PP_REP)
				continue;
			have = 0;
			uint64_t t = now_ns();
			hist_add(h, t - sent_at[head]);
			head = (head + 1) % (size_t)qd;
			outstanding--;
			ops++;
			if (t < end)
				sends++;
		}
	}
	report("local-null", ops, 0, t0, h, NULL);
	shutdown(fd, SHUT_WR);
	pthread_join(th, NULL);
	close(fd);
	close(sv.lfd);
	free(sent_at);
	free(h);
}

void local_run_workload(const char *name, int conns)
{
	local_init();
	l_conns = conns;
	if (g_opt.read_file && !strcmp(name, "local-seqread"))
		local_read_file(name, seq_thread);
	else if (g_opt.read_file && !strcmp(name, "local-randread"))
		local_read_file(name, rand_thread);
	else if (!strcmp(name, "local-null"))
		local_null();
	else if (!strcmp(name, "local-seqwrite"))
		local_seqwrite(1);
	else if (!strcmp(name, "local-seqread"))
		local_seqread();
	else if (!strcmp(name, "local-randread"))
		local_randread();
	else if (!strcmp(name, "local-create")) {
		if (l_nfiles)
			local_remove(0);
		local_create(1);
	} else if (!strcmp(name, "local-stat"))
		local_stat();
	else if (!strcmp(name, "local-readdir"))
		local_readdir(name, 0);
	else if (!strcmp(name, "local-readdirplus"))
		local_readdir(name, 1);
	else if (!strcmp(name, "local-remove"))
		local_remove(1);
	else
		die("unknown local workload %s", name);
}

void local_finish(void)
{
	if (l_rfd >= 0)
		close(l_rfd);
	free(l_ref);
	if (l_dirfd < 0 || g_opt.keep || read_only_mode())
		return;
	if (l_nfiles)
		local_remove(0);
	if (l_seq_size)
		unlinkat(l_subfd, "seqfile", 0);
	if (unlinkat(l_subfd, "files", AT_REMOVEDIR) != 0 ||
	    unlinkat(l_dirfd, l_sub, AT_REMOVEDIR) != 0)
		die("cleanup of %s/%s: %s", g_opt.dir, l_sub, strerror(errno));
}
