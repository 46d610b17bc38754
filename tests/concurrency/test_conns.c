/*
 * test_conns.c - the transport under concurrency (issue #5): many TCP
 * connections each pipelining mixed calls, pipelining far beyond the
 * per-connection in-flight limits (calls and bytes), a client that stops
 * reading its replies must not stall anybody else, and UDP and TCP clients
 * at the same time.  Everything over hand-built RPC so that xids, framing
 * and arrival order are the test's own; every reply is checked against the
 * call with its xid (status, attributes, READ bytes, LOOKUP handles).
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;
static fh_t g_root;
static int g_v6;

/* ------------------------------------------------------------ the files */
#define NFILES 8
struct file {
	char name[32];
	size_t size;
	uint32_t seed;
	uint64_t ino;
	fh_t fh;
};
static struct file g_files[NFILES];

/* ------------------------------------------------------ per-test cleanup */
#define MAXFDS 160
static int g_fds[MAXFDS];
static int g_nfds;

static int track(int fd)
{
	if (fd >= 0 && g_nfds < MAXFDS)
		g_fds[g_nfds++] = fd;
	return fd;
}

static void close_tracked(void)
{
	for (int i = 0; i < g_nfds; i++)
		if (g_fds[i] >= 0)
			close(g_fds[i]);
	g_nfds = 0;
}

/* ------------------------------------------------------- expectations */
struct expect {
	uint32_t xid;
	int proc;
	int file;
	uint64_t off;
	uint32_t count;
	int seen;
	int udp;
};

/* Build the call for e into msg. */
static void build(const struct expect *e, xbuf *msg)
{
	const struct file *f = &g_files[e->file];
	switch (e->proc) {
	case CC_NULL:
		cc_msg_null(msg, e->xid);
		break;
	case CC_GETATTR:
		cc_msg_getattr(msg, e->xid, &f->fh, 0, 0);
		break;
	case CC_LOOKUP:
		cc_msg_lookup(msg, e->xid, &g_root, f->name, 0, 0);
		break;
	case CC_READ:
		cc_msg_read(msg, e->xid, &f->fh, e->off, e->count, 0, 0);
		break;
	default:
		abort();
	}
}

/* A mixed call: kind chosen by k, parameters derived from a and b. */
static void plan(struct expect *e, uint32_t xid, unsigned k, unsigned a, unsigned b, int null_ok,
		 uint32_t max_read)
{
	memset(e, 0, sizeof(*e));
	e->xid = xid;
	e->file = (int)(a % NFILES);
	const struct file *f = &g_files[e->file];
	unsigned kinds = null_ok ? 4 : 3;
	switch (k % kinds) {
	case 0:
		e->proc = CC_GETATTR;
		break;
	case 1:
		e->proc = CC_LOOKUP;
		break;
	case 2:
		e->proc = CC_READ;
		/* offsets anywhere, some near or past the end (short reads, eof) */
		e->off = ((uint64_t)b * 7919u * 512u) % (f->size + 4096);
		e->count = 1 + (b * 2654435761u) % max_read;
		break;
	default:
		e->proc = CC_NULL;
		break;
	}
}

/* Check one reply record against the call it answers.  0 ok, -1 (err set). */
static int verify(const struct expect *e, const unsigned char *rec, size_t len, char *err,
		  size_t errlen)
{
	cc_res r;
	char perr[200] = "";
	if (cc_parse((uint32_t)e->proc, rec, len, &r, perr, sizeof(perr)) != 0 || !r.rpc_ok) {
		snprintf(err, errlen, "xid %#x proc %d: %s", e->xid, e->proc, perr);
		return -1;
	}
	if (r.xid != e->xid) {
		snprintf(err, errlen, "reply xid %#x checked against call %#x", r.xid, e->xid);
		return -1;
	}
	if (e->proc == CC_NULL)
		return 0;
	const struct file *f = &g_files[e->file];
	if (r.status != 0) {
		snprintf(err, errlen, "xid %#x proc %d on %s: status %s(%d)", e->xid, e->proc,
			 f->name, itest_nfsstat_name(r.status), r.status);
		return -1;
	}
	if (!r.has_attr || r.type != 1 || r.size != f->size || r.fileid != f->ino) {
		snprintf(err, errlen,
			 "xid %#x proc %d on %s: attributes type %u size %llu fileid %llu, want "
			 "regular size %zu fileid %llu",
			 e->xid, e->proc, f->name, r.type, (unsigned long long)r.size,
			 (unsigned long long)r.fileid, f->size, (unsigned long long)f->ino);
		return -1;
	}
	if (e->proc == CC_LOOKUP && !itc_fh_equal(&r.fh, &f->fh)) {
		snprintf(err, errlen, "xid %#x: LOOKUP %s returned another handle", e->xid,
			 f->name);
		return -1;
	}
	if (e->proc == CC_READ) {
		uint64_t avail = e->off >= f->size ? 0 : f->size - e->off;
		uint32_t want = avail < e->count ? (uint32_t)avail : e->count;
		int want_eof = e->off + want >= f->size;
		if (r.count != want || r.data_len != want || r.eof != want_eof) {
			snprintf(err, errlen,
				 "xid %#x: READ %s off %llu count %u: got count %u len %u eof %d, "
				 "want %u eof %d",
				 e->xid, f->name, (unsigned long long)e->off, e->count, r.count,
				 r.data_len, r.eof, want, want_eof);
			return -1;
		}
		long bad = cc_pattern_mismatch(r.data, r.data_len, e->off, f->seed);
		if (bad >= 0) {
			snprintf(err, errlen, "xid %#x: READ %s off %llu: wrong byte at +%ld",
				 e->xid, f->name, (unsigned long long)e->off, bad);
			return -1;
		}
	}
	return 0;
}

static struct expect *find_xid(struct expect *v, int n, uint32_t xid)
{
	for (int i = 0; i < n; i++)
		if (v[i].xid == xid)
			return &v[i];
	return NULL;
}

/* ------------------------------------------------------------- fixture */
static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "conns") != 0)
		return -1;
	for (int i = 0; i < NFILES; i++) {
		struct file *f = &g_files[i];
		snprintf(f->name, sizeof(f->name), "file%d.bin", i);
		f->size = (size_t)(i + 1) * 150001u + (size_t)i * 4093u;
		f->seed = 1000u + (uint32_t)i;
		unsigned char *b = malloc(f->size);
		itest_pattern(b, f->size, 0, f->seed);
		int rc = itest_write_file(itest_path(&g_env, f->name), b, f->size);
		free(b);
		struct stat st;
		if (rc != 0 || stat(itest_path(&g_env, f->name), &st) != 0)
			return -1;
		f->ino = st.st_ino;
	}
	/* 64 MiB for the stalled-reader test is read in 1 MiB pieces of this file */
	unsigned char *b = malloc(1u << 20);
	itest_pattern(b, 1u << 20, 0, 77);
	int rc = itest_write_file(itest_path(&g_env, "mib.bin"), b, 1u << 20);
	free(b);
	if (rc != 0)
		return -1;
	/*
	 * More event threads than this machine has CPUs: the connections are
	 * dealt over three loops, each framing and answering its own, so the
	 * pipelining tests run across loops whatever the CI machine's size.
	 */
	const char *extra[] = { "--event-threads", "3", NULL };
	if (itest_server_start(&g_srv, &g_env, extra) != 0)
		return -1;
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	g_root = itc_root(c, "/");
	for (int i = 0; i < NFILES; i++)
		g_files[i].fh = itc_lookup_ok(c, &g_root, g_files[i].name);
	itc_close(c);
	itest_arena_free();
	g_v6 = cc_have_v6(g_srv.port);
	if (!g_v6)
		fprintf(stderr, "note: ::1 not reachable, IPv4 only\n");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	close_tracked();
	int st = itest_server_stop(&g_srv);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	g_nfds = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close_tracked();
	return itest_check_server_teardown(&g_srv);
}

/* ================================================ 1. many connections */
#define NCONN 64
#define NCALLS 32

struct pconn {
	int fd;
	cc_rx rx;
	struct expect ex[NCALLS];
	int got;
	int order[NCALLS]; /* index into ex in arrival order */
};

static void test_many_connections_pipelined(void **state)
{
	(void)state;
	static struct pconn pc[NCONN];
	memset(pc, 0, sizeof(pc));
	/* All connections open at once before anything is sent. */
	for (int c = 0; c < NCONN; c++) {
		pc[c].fd = track(cc_tcp_connect(g_srv.port, g_v6 && (c & 1), 0, 0));
		if (pc[c].fd < 0)
			fail_msg("connection %d: connect failed: %s", c, strerror(errno));
		cc_rx_init(&pc[c].rx);
	}
	/* Each pipelines 32 mixed calls, distinct xids across all connections. */
	for (int c = 0; c < NCONN; c++) {
		xbuf stream;
		xb_init(&stream);
		for (int i = 0; i < NCALLS; i++) {
			struct expect *e = &pc[c].ex[i];
			plan(e, 0xC0000000u | (uint32_t)c << 12 | (uint32_t)i,
			     (unsigned)(c * 7 + i), (unsigned)(c + i * 3), (unsigned)(c * 31 + i),
			     1, 65536);
			xbuf m;
			build(e, &m);
			cc_frame(&stream, &m);
			xb_free(&m);
		}
		if (cc_send_all(pc[c].fd, stream.buf, stream.len, 30000) != 0)
			fail_msg("connection %d: could not send its calls", c);
		xb_free(&stream);
	}
	/* Read every connection until all replies are in. */
	long long deadline = cc_now_ms() + 60000LL * cc_slow_factor();
	int total = 0, reordered = 0;
	char err[300];
	while (total < NCONN * NCALLS) {
		struct pollfd pfd[NCONN];
		for (int c = 0; c < NCONN; c++)
			pfd[c] = (struct pollfd){ .fd = pc[c].fd, .events = POLLIN };
		long long left = deadline - cc_now_ms();
		if (left <= 0)
			break;
		int r = poll(pfd, NCONN, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		for (int c = 0; c < NCONN; c++) {
			if (!(pfd[c].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			long n = cc_rx_fill(pc[c].fd, &pc[c].rx);
			unsigned char *rec;
			long len;
			while ((len = cc_rx_pop(&pc[c].rx, &rec)) > 0) {
				uint32_t xid = cc_xid(rec, (size_t)len);
				struct expect *e = find_xid(pc[c].ex, NCALLS, xid);
				if (!e) {
					free(rec);
					fail_msg("connection %d: reply with xid %#x that was not "
						 "sent "
						 "on this connection",
						 c, xid);
				}
				if (e->seen) {
					free(rec);
					fail_msg("connection %d: second reply for xid %#x", c, xid);
				}
				int ok = verify(e, rec, (size_t)len, err, sizeof(err));
				free(rec);
				if (ok != 0)
					fail_msg("connection %d: %s", c, err);
				e->seen = 1;
				int idx = (int)(e - pc[c].ex);
				if (pc[c].got > 0 && idx < pc[c].order[pc[c].got - 1])
					reordered++;
				pc[c].order[pc[c].got++] = idx;
				total++;
			}
			if (len < 0)
				fail_msg("connection %d: malformed record marking", c);
			if (n < 0 && pc[c].got < NCALLS)
				fail_msg(
					"connection %d closed by the server after %d of %d replies",
					c, pc[c].got, NCALLS);
		}
	}
	for (int c = 0; c < NCONN; c++) {
		for (int i = 0; i < NCALLS; i++)
			if (!pc[c].ex[i].seen)
				fail_msg("connection %d: no reply for xid %#x (proc %d) after %d "
					 "replies in all",
					 c, pc[c].ex[i].xid, pc[c].ex[i].proc, total);
	}
	/* Exactly once: nothing more may follow. */
	usleep(300 * 1000);
	for (int c = 0; c < NCONN; c++) {
		cc_rx_fill(pc[c].fd, &pc[c].rx);
		if (pc[c].rx.len != 0)
			fail_msg("connection %d: %zu unexpected bytes after all replies", c,
				 pc[c].rx.len);
		cc_rx_free(&pc[c].rx);
	}
	fprintf(stderr, "  %d replies on %d connections, %d arrived out of call order\n", total,
		NCONN, reordered);
}

/* ============================= 3. pipelining beyond the in-flight limit */
/* Read n replies from fd (blocking with deadline), verify against ex. */
static void read_and_verify(int fd, struct expect *ex, int n, int timeout_ms, const char *what)
{
	cc_rx rx;
	cc_rx_init(&rx);
	long long deadline = cc_now_ms() + timeout_ms;
	int got = 0;
	char err[300];
	while (got < n) {
		long long left = deadline - cc_now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
		long r = cc_rx_fill(fd, &rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(&rx, &rec)) > 0) {
			uint32_t xid = cc_xid(rec, (size_t)len);
			struct expect *e = find_xid(ex, n, xid);
			if (!e || e->seen) {
				free(rec);
				cc_rx_free(&rx);
				fail_msg("%s: %s reply xid %#x", what, e ? "second" : "unexpected",
					 xid);
			}
			int ok = verify(e, rec, (size_t)len, err, sizeof(err));
			free(rec);
			if (ok != 0) {
				cc_rx_free(&rx);
				fail_msg("%s: %s", what, err);
			}
			e->seen = 1;
			got++;
		}
		if (len < 0) {
			cc_rx_free(&rx);
			fail_msg("%s: malformed record marking", what);
		}
		if (r < 0 && got < n) {
			cc_rx_free(&rx);
			fail_msg("%s: connection closed after %d of %d replies", what, got, n);
		}
	}
	cc_rx_free(&rx);
	if (got < n) {
		for (int i = 0; i < n; i++)
			if (!ex[i].seen)
				fail_msg("%s: only %d of %d replies within %d ms (first missing: "
					 "xid "
					 "%#x proc %d)",
					 what, got, n, timeout_ms, ex[i].xid, ex[i].proc);
	}
}

#define DEEP 1000

static void test_pipeline_beyond_limit(void **state)
{
	(void)state;
	/* A receive buffer that holds every reply, so the client does not need to
	 * read while it sends: only the server's pause/resume decides progress. */
	int fd = track(cc_tcp_connect(g_srv.port, 0, 16 << 20, 4 << 20));
	assert_true(fd >= 0);
	static struct expect ex[DEEP];
	xbuf stream;
	xb_init(&stream);
	for (int i = 0; i < DEEP; i++) {
		plan(&ex[i], 0xD0000000u | (uint32_t)i, (unsigned)i, (unsigned)i * 5u,
		     (unsigned)i * 13u, 1, 1024);
		xbuf m;
		build(&ex[i], &m);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	long long t0 = cc_now_ms();
	if (cc_send_all(fd, stream.buf, stream.len, 60000 * cc_slow_factor()) != 0)
		fail_msg("could not send %d pipelined calls (%zu bytes) without reading: the "
			 "server stopped reading the connection and never resumed",
			 DEEP, stream.len);
	xb_free(&stream);
	long long t1 = cc_now_ms();
	read_and_verify(fd, ex, DEEP, 60000 * cc_slow_factor(), "deep pipeline");
	fprintf(stderr, "  %d calls sent in %lld ms, all answered after %lld ms\n", DEEP, t1 - t0,
		cc_now_ms() - t0);
	/* The connection is still usable afterwards. */
	struct expect one;
	plan(&one, 0xD00FFFFFu, 0, 1, 2, 0, 100);
	xbuf m;
	build(&one, &m);
	xbuf s1;
	xb_init(&s1);
	cc_frame(&s1, &m);
	assert_int_equal(cc_send_all(fd, s1.buf, s1.len, 10000), 0);
	xb_free(&m);
	xb_free(&s1);
	read_and_verify(fd, &one, 1, 30000, "after the deep pipeline");
}

/* In-flight bytes: 24 pipelined 1 MiB WRITEs (3x the 8 MiB limit). */
static void test_pipeline_beyond_byte_limit(void **state)
{
	(void)state;
	const int n = 24;
	const uint32_t chunk = 1u << 20;
	const char *name = "bytes.bin";
	assert_int_equal(itest_write_file(itest_path(&g_env, name), "", 0), 0);
	itc_t *c = itc_connect(g_srv.port);
	assert_non_null(c);
	fh_t fh = itc_lookup_ok(c, &g_root, name);
	itc_close(c);

	int fd = track(cc_tcp_connect(g_srv.port, 0, 0, 0));
	assert_true(fd >= 0);
	unsigned char *data = malloc(chunk);
	xbuf stream;
	xb_init(&stream);
	for (int i = 0; i < n; i++) {
		itest_pattern(data, chunk, (uint64_t)i * chunk, 4242);
		xbuf m;
		cc_msg_write(&m, 0xE0000000u | (uint32_t)i, &fh, (uint64_t)i * chunk, data, chunk,
			     CC_UNSTABLE, 0, 0);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	free(data);
	/* Sent from a thread-free loop: the replies are small, so reading them
	 * only afterwards cannot fill our receive buffer. */
	long long t0 = cc_now_ms();
	if (cc_send_all(fd, stream.buf, stream.len, 120000 * cc_slow_factor()) != 0)
		fail_msg("could not send %d x 1 MiB pipelined WRITEs: the server stopped reading "
			 "the connection and never resumed",
			 n);
	xb_free(&stream);
	cc_rx rx;
	cc_rx_init(&rx);
	int got = 0;
	int seen[24] = { 0 };
	unsigned char verf[8];
	long long deadline = cc_now_ms() + 120000LL * cc_slow_factor();
	while (got < n && cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 1000);
		long r = cc_rx_fill(fd, &rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(&rx, &rec)) > 0) {
			cc_res res;
			char err[200] = "";
			int prc = cc_parse(CC_WRITE, rec, (size_t)len, &res, err, sizeof(err));
			free(rec);
			if (prc != 0 || !res.rpc_ok)
				fail_msg("WRITE reply: %s", err);
			uint32_t i = res.xid & 0xffffu;
			if ((res.xid & 0xffff0000u) != 0xE0000000u || i >= (uint32_t)n || seen[i])
				fail_msg("unexpected or repeated WRITE reply xid %#x", res.xid);
			seen[i] = 1;
			assert_nfsstat(res.status, NFS3_OK);
			if (res.count != chunk)
				fail_msg("WRITE xid %#x: count %u, want %u", res.xid, res.count,
					 chunk);
			if (got == 0)
				memcpy(verf, res.verf, 8);
			else if (memcmp(verf, res.verf, 8) != 0)
				fail_msg("WRITE xid %#x: write verifier changed", res.xid);
			got++;
		}
		if (r < 0 && got < n)
			fail_msg("connection closed after %d of %d WRITE replies", got, n);
	}
	cc_rx_free(&rx);
	if (got != n)
		fail_msg("only %d of %d WRITE replies", got, n);
	fprintf(stderr, "  %d MiB pipelined in %lld ms\n", n, cc_now_ms() - t0);
	/* Every byte landed where its WRITE said. */
	size_t len = 0;
	char *content = itest_slurp(itest_path(&g_env, name));
	struct stat st;
	assert_int_equal(stat(itest_path(&g_env, name), &st), 0);
	len = (size_t)st.st_size;
	assert_int_equal(len, (size_t)n * chunk);
	long bad = cc_pattern_mismatch((unsigned char *)content, len, 0, 4242);
	if (bad >= 0)
		fail_msg("file content wrong at byte %ld", bad);
	unlink(itest_path(&g_env, name));
}

/* ======================== 4. a client that never reads its replies */
static long long timed_getattr(int fd, uint32_t xid, const fh_t *fh, int timeout_ms, int udp)
{
	xbuf m;
	cc_msg_getattr(&m, xid, fh, 0, 0);
	long long t0 = cc_now_ms();
	unsigned char *raw = NULL;
	long n;
	static unsigned char ubuf[65536];
	if (udp) {
		n = rr_udp_call(fd, m.buf, m.len, xid, ubuf, sizeof(ubuf), timeout_ms);
		raw = n > 0 ? ubuf : NULL;
	} else {
		if (rr_tcp_send_record(fd, m.buf, m.len, NULL, 0, 0) != 0) {
			xb_free(&m);
			return -1;
		}
		n = rr_tcp_recv_record(fd, &raw, timeout_ms);
	}
	xb_free(&m);
	if (n < 0)
		return -1;
	long long dt = cc_now_ms() - t0;
	cc_res r;
	char err[200] = "";
	int prc = cc_parse(CC_GETATTR, raw, (size_t)n, &r, err, sizeof(err));
	if (!udp)
		free(raw);
	if (prc != 0 || !r.rpc_ok || r.xid != xid || r.status != 0)
		fail_msg("GETATTR xid %#x: bad reply (%s, xid %#x, status %d)", xid, err, r.xid,
			 r.status);
	return dt;
}

static void test_stalled_reader_does_not_block_others(void **state)
{
	(void)state;
	itc_t *c = itc_connect(g_srv.port);
	assert_non_null(c);
	fh_t mib = itc_lookup_ok(c, &g_root, "mib.bin");
	itc_close(c);

	/* B is connected before the stall, C and the UDP socket after it. */
	int b = track(rr_tcp_connect(g_srv.port, 0));
	assert_true(b >= 0);
	timed_getattr(b, 0xF1000000u, &g_files[0].fh, 30000, 0);

	/* A: a small receive buffer, 64 READs of 1 MiB (64 MiB of replies), then
	 * it never reads. */
	int a = track(cc_tcp_connect(g_srv.port, 0, 32 << 10, 0));
	assert_true(a >= 0);
	const int nreads = 64;
	static struct expect ex[64];
	xbuf stream;
	xb_init(&stream);
	for (int i = 0; i < nreads; i++) {
		xbuf m;
		ex[i] = (struct expect){ .xid = 0xF2000000u | (uint32_t)i, .proc = CC_READ };
		cc_msg_read(&m, ex[i].xid, &mib, 0, 1u << 20, 0, 0);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	if (cc_send_all(a, stream.buf, stream.len, 30000) != 0)
		fail_msg("could not send the READ calls on the stalled connection");
	xb_free(&stream);
	long long stall_t0 = cc_now_ms();
	/* Give the workers time to run into the full socket. */
	usleep(1500 * 1000);

	const int limit_ms = 5000 * (cc_slow_factor() > 1 ? 2 : 1);
	long long worst = 0;
	for (int round = 0; round < 3; round++) {
		long long dt = timed_getattr(b, 0xF3000000u | (uint32_t)round, &g_files[1].fh,
					     limit_ms, 0);
		if (dt < 0)
			fail_msg("round %d: GETATTR on another (existing) connection got no reply "
				 "within %d ms while one client does not read its replies (%lld ms "
				 "into the stall)",
				 round, limit_ms, cc_now_ms() - stall_t0);
		worst = dt > worst ? dt : worst;
		int cfd = rr_tcp_connect(g_srv.port, g_v6 && round == 1);
		assert_true(cfd >= 0);
		dt = timed_getattr(cfd, 0xF4000000u | (uint32_t)round, &g_files[2].fh, limit_ms, 0);
		close(cfd);
		if (dt < 0)
			fail_msg("round %d: GETATTR on a new connection got no reply within %d ms "
				 "while one client does not read its replies",
				 round, limit_ms);
		worst = dt > worst ? dt : worst;
		int u = rr_udp_socket(g_srv.port, 0);
		assert_true(u >= 0);
		dt = timed_getattr(u, 0xF5000000u | (uint32_t)round, &g_files[3].fh, limit_ms, 1);
		close(u);
		if (dt < 0)
			fail_msg("round %d: GETATTR over UDP got no reply within %d ms while one "
				 "client does not read its replies",
				 round, limit_ms);
		worst = dt > worst ? dt : worst;
		usleep(700 * 1000);
	}
	fprintf(stderr, "  slowest other-client GETATTR during the stall: %lld ms\n", worst);

	/* The stalled client itself gets everything once it reads (well within
	 * the server's send timeout): 64 x 1 MiB, correct bytes, each once. */
	cc_rx rx;
	cc_rx_init(&rx);
	int got = 0;
	long long deadline = cc_now_ms() + 60000LL * cc_slow_factor();
	while (got < nreads && cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = a, .events = POLLIN };
		poll(&pfd, 1, 1000);
		long r = cc_rx_fill(a, &rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(&rx, &rec)) > 0) {
			cc_res res;
			char err[200] = "";
			int prc = cc_parse(CC_READ, rec, (size_t)len, &res, err, sizeof(err));
			struct expect *e = find_xid(ex, nreads, res.xid);
			int bad = prc != 0 || !res.rpc_ok || !e || e->seen || res.status != 0 ||
				  res.count != (1u << 20) || res.data_len != (1u << 20) ||
				  cc_pattern_mismatch(res.data, res.data_len, 0, 77) >= 0;
			free(rec);
			if (bad)
				fail_msg("stalled client: bad READ reply xid %#x (%s status %d "
					 "count "
					 "%u)",
					 res.xid, err, res.status, res.count);
			e->seen = 1;
			got++;
		}
		if (r < 0 && got < nreads)
			fail_msg(
				"stalled client: connection closed after %d of %d replies (%lld ms "
				"after the stall began)",
				got, nreads, cc_now_ms() - stall_t0);
	}
	cc_rx_free(&rx);
	if (got != nreads)
		fail_msg("stalled client: %d of %d replies", got, nreads);
}

/* ================================== 8. UDP and TCP at the same time */
#define MIX_THREADS 4 /* of each kind */
#define MIX_CALLS 160
#define MIX_BATCH 8

struct mixer {
	int id, udp, v6, port;
	int done, retrans;
	char err[400];
};

static int mix_tcp(struct mixer *m, struct expect *ex)
{
	int fd = cc_tcp_connect(m->port, m->v6, 0, 0);
	if (fd < 0) {
		snprintf(m->err, sizeof(m->err), "connect: %s", strerror(errno));
		return -1;
	}
	cc_rx rx;
	cc_rx_init(&rx);
	int rc = 0;
	for (int base = 0; base < MIX_CALLS && rc == 0; base += MIX_BATCH) {
		xbuf stream;
		xb_init(&stream);
		for (int i = base; i < base + MIX_BATCH; i++) {
			xbuf msg;
			build(&ex[i], &msg);
			cc_frame(&stream, &msg);
			xb_free(&msg);
		}
		if (cc_send_all(fd, stream.buf, stream.len, 30000) != 0) {
			snprintf(m->err, sizeof(m->err), "send failed");
			rc = -1;
		}
		xb_free(&stream);
		int got = 0;
		long long deadline = cc_now_ms() + 30000LL * cc_slow_factor();
		while (rc == 0 && got < MIX_BATCH) {
			if (cc_now_ms() > deadline) {
				snprintf(m->err, sizeof(m->err), "timeout at call %d", base + got);
				rc = -1;
				break;
			}
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, 1000);
			long r = cc_rx_fill(fd, &rx);
			unsigned char *rec;
			long len;
			while (rc == 0 && (len = cc_rx_pop(&rx, &rec)) > 0) {
				uint32_t xid = cc_xid(rec, (size_t)len);
				struct expect *e = find_xid(ex + base, MIX_BATCH, xid);
				if (!e || e->seen) {
					snprintf(m->err, sizeof(m->err), "%s reply xid %#x",
						 e ? "second" : "unexpected", xid);
					rc = -1;
				} else if (verify(e, rec, (size_t)len, m->err, sizeof(m->err)) !=
					   0) {
					rc = -1;
				} else {
					e->seen = 1;
					got++;
					m->done++;
				}
				free(rec);
			}
			if (rc == 0 && r < 0) {
				snprintf(m->err, sizeof(m->err), "connection closed");
				rc = -1;
			}
		}
	}
	cc_rx_free(&rx);
	close(fd);
	return rc;
}

static int mix_udp(struct mixer *m, struct expect *ex)
{
	int fd = rr_udp_socket(m->port, m->v6);
	if (fd < 0) {
		snprintf(m->err, sizeof(m->err), "udp socket: %s", strerror(errno));
		return -1;
	}
	unsigned char *buf = malloc(65536);
	int rc = 0;
	for (int base = 0; base < MIX_CALLS && rc == 0; base += MIX_BATCH) {
		int got = 0;
		for (int attempt = 0; attempt < 6 && got < MIX_BATCH && rc == 0; attempt++) {
			/* (re)send whatever is unanswered, same xids */
			for (int i = base; i < base + MIX_BATCH; i++) {
				if (ex[i].seen)
					continue;
				xbuf msg;
				build(&ex[i], &msg);
				if (send(fd, msg.buf, msg.len, 0) != (ssize_t)msg.len) {
					snprintf(m->err, sizeof(m->err), "udp send: %s",
						 strerror(errno));
					rc = -1;
				}
				xb_free(&msg);
				if (attempt > 0)
					m->retrans++;
			}
			long long deadline = cc_now_ms() + 3000LL * cc_slow_factor();
			while (rc == 0 && got < MIX_BATCH) {
				long long left = deadline - cc_now_ms();
				if (left <= 0)
					break;
				struct pollfd pfd = { .fd = fd, .events = POLLIN };
				if (poll(&pfd, 1, (int)left) <= 0)
					continue;
				ssize_t n = recv(fd, buf, 65536, 0);
				if (n < 0)
					continue;
				uint32_t xid = cc_xid(buf, (size_t)n);
				struct expect *e = find_xid(ex, MIX_CALLS, xid);
				if (!e || e < ex + base || e >= ex + base + MIX_BATCH) {
					/* an older batch's retransmission answered twice is fine */
					if (e && e->seen && m->retrans > 0)
						continue;
					snprintf(m->err, sizeof(m->err),
						 "unexpected UDP reply xid %#x", xid);
					rc = -1;
					break;
				}
				if (e->seen) {
					if (m->retrans > 0)
						continue;
					snprintf(m->err, sizeof(m->err),
						 "second UDP reply for xid %#x without "
						 "retransmission",
						 xid);
					rc = -1;
					break;
				}
				if (verify(e, buf, (size_t)n, m->err, sizeof(m->err)) != 0) {
					rc = -1;
					break;
				}
				e->seen = 1;
				got++;
				m->done++;
			}
		}
		if (rc == 0 && got < MIX_BATCH) {
			snprintf(m->err, sizeof(m->err),
				 "UDP: no reply for some of calls %d..%d "
				 "after 6 tries",
				 base, base + MIX_BATCH - 1);
			rc = -1;
		}
	}
	free(buf);
	close(fd);
	return rc;
}

static void *mix_thread(void *arg)
{
	struct mixer *m = arg;
	struct expect *ex = calloc(MIX_CALLS, sizeof(*ex));
	for (int i = 0; i < MIX_CALLS; i++)
		plan(&ex[i], 0xA0000000u | (uint32_t)m->id << 16 | (uint32_t)i,
		     (unsigned)(i + m->id), (unsigned)(i * 3 + m->id), (unsigned)(i * 17 + m->id),
		     1, m->udp ? 32768 : 131072);
	if (m->udp)
		mix_udp(m, ex);
	else
		mix_tcp(m, ex);
	free(ex);
	return NULL;
}

/* Nanoseconds on CPU of each event thread of pid (up to max), in task order. */
static int loop_cpu_ns(pid_t pid, long long *ns, int max)
{
	char *dir = itest_sprintf("/proc/%d/task", (int)pid);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		if (e->d_name[0] == '.')
			continue;
		char *comm = itest_slurp(itest_sprintf("%s/%s/comm", dir, e->d_name));
		if (strncmp(comm, "loopnfs-ev", 10) != 0)
			continue;
		char *sched = itest_slurp(itest_sprintf("%s/%s/schedstat", dir, e->d_name));
		ns[n++] = atoll(sched);
	}
	closedir(d);
	return n;
}

/*
 * Connections are dealt to the loop with the fewest. A client that opens a
 * short connection (MOUNT) before each long one must still get its long
 * ones spread over both loops: with round-robin they all landed on one.
 */
static void test_connections_spread_over_loops(void **state)
{
	(void)state;
	struct itest_server s2;
	memset(&s2, 0, sizeof(s2));
	const char *extra[] = { "--event-threads", "2", NULL };
	assert_int_equal(itest_server_start(&s2, &g_env, extra), 0);
	enum { NLONG = 4, ROUNDS = 40, BATCH = 64 };
	int fds[NLONG];
	for (int k = 0; k < NLONG; k++) {
		int shortfd = cc_tcp_connect(s2.port, 0, 0, 0);
		assert_true(shortfd >= 0);
		close(shortfd);
		usleep(100000); /* let its loop see the close */
		fds[k] = cc_tcp_connect(s2.port, 0, 0, 0);
		assert_true(fds[k] >= 0);
	}
	long long before[2], after[2];
	assert_int_equal(loop_cpu_ns(s2.pid, before, 2), 2);
	/* NULL calls are answered on the connection's own loop. */
	for (int r = 0; r < ROUNDS; r++) {
		for (int k = 0; k < NLONG; k++) {
			xbuf stream;
			xb_init(&stream);
			for (int i = 0; i < BATCH; i++) {
				xbuf m;
				cc_msg_null(&m, (uint32_t)(r * BATCH + i + 1));
				cc_frame(&stream, &m);
				xb_free(&m);
			}
			assert_int_equal(cc_send_all(fds[k], stream.buf, stream.len, 30000), 0);
			xb_free(&stream);
		}
		for (int k = 0; k < NLONG; k++) {
			cc_rx rx;
			cc_rx_init(&rx);
			int got = 0;
			long long deadline = cc_now_ms() + 30000LL * cc_slow_factor();
			while (got < BATCH && cc_now_ms() < deadline) {
				unsigned char *rec;
				long len;
				while (got < BATCH && (len = cc_rx_pop(&rx, &rec)) > 0) {
					free(rec);
					got++;
				}
				if (got == BATCH)
					break;
				struct pollfd pfd = { .fd = fds[k], .events = POLLIN };
				if (poll(&pfd, 1, 1000) < 0 || cc_rx_fill(fds[k], &rx) < 0)
					break;
			}
			cc_rx_free(&rx);
			if (got < BATCH)
				fail_msg("connection %d: %d of %d NULL replies", k, got, BATCH);
		}
	}
	assert_int_equal(loop_cpu_ns(s2.pid, after, 2), 2);
	long long d0 = after[0] - before[0], d1 = after[1] - before[1];
	fprintf(stderr, "[ info     ] event loops on CPU: %lld and %lld us\n", d0 / 1000,
		d1 / 1000);
	if (d0 * 5 < d0 + d1 || d1 * 5 < d0 + d1)
		fail_msg("one event loop did almost all the work (%lld vs %lld us on CPU): "
			 "connections not spread",
			 d0 / 1000, d1 / 1000);
	for (int k = 0; k < NLONG; k++)
		close(fds[k]);
	assert_int_equal(itest_server_stop(&s2), 0);
}

/* The server runs the event threads asked for (and names them and its workers). */
static void test_event_threads(void **state)
{
	(void)state;
	char *dir = itest_sprintf("/proc/%d/task", (int)g_srv.pid);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int loops = 0, workers = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char *comm = itest_slurp(itest_sprintf("%s/%s/comm", dir, e->d_name));
		loops += strncmp(comm, "loopnfs-ev", 10) == 0;
		workers += strncmp(comm, "loopnfs-work", 12) == 0;
	}
	closedir(d);
	assert_int_equal(loops, 3);
	assert_int_equal(workers, 16);
}

static void test_udp_and_tcp_mixed(void **state)
{
	(void)state;
	struct mixer mx[2 * MIX_THREADS];
	pthread_t th[2 * MIX_THREADS];
	for (int i = 0; i < 2 * MIX_THREADS; i++) {
		mx[i] = (struct mixer){
			.id = i, .udp = i & 1, .v6 = g_v6 && (i & 2), .port = g_srv.port
		};
		assert_int_equal(pthread_create(&th[i], NULL, mix_thread, &mx[i]), 0);
	}
	for (int i = 0; i < 2 * MIX_THREADS; i++)
		pthread_join(th[i], NULL);
	int retrans = 0;
	for (int i = 0; i < 2 * MIX_THREADS; i++) {
		if (mx[i].err[0])
			fail_msg("%s client %d (%s): %s", mx[i].udp ? "UDP" : "TCP", i,
				 mx[i].v6 ? "::1" : "127.0.0.1", mx[i].err);
		assert_int_equal(mx[i].done, MIX_CALLS);
		retrans += mx[i].retrans;
	}
	fprintf(stderr, "  %d TCP + %d UDP clients x %d calls, %d UDP retransmissions\n",
		MIX_THREADS, MIX_THREADS, MIX_CALLS, retrans);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_many_connections_pipelined),	      T(test_pipeline_beyond_limit),
		T(test_pipeline_beyond_byte_limit),	      T(test_udp_and_tcp_mixed),
		T(test_stalled_reader_does_not_block_others),
		T(test_event_threads),
		T(test_connections_spread_over_loops),
	};
	return cmocka_run_group_tests_name("concurrency.conns", tests, group_setup, group_teardown);
}
