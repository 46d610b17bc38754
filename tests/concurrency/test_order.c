/*
 * test_order.c - replies on one TCP connection leave in completion order
 * and are matched by xid (issue #5).  One connection sends a slow call
 * first, a COMMIT of a file with hundreds of MiB of dirty page cache (the
 * fsync takes a while on the disk under the export), and then a dozen fast
 * calls (NULL, GETATTR, LOOKUP, READ).  The fast replies must arrive before
 * the COMMIT's, each with its own xid and correct content, and the COMMIT
 * must still be answered correctly afterwards.
 *
 * Timing is measured, not assumed: when the COMMIT turned out fast (the disk
 * had already written the pages back, say) the test tries again with twice
 * the dirty data, a few times, before it reports a failure.
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;
static fh_t g_root, g_small;
static uint64_t g_small_ino;

#define SMALL_SIZE 20000u
#define SMALL_SEED 31u
#define NFAST 12
#define START_MIB 192
#define ATTEMPTS 4

static int g_fd = -1;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "order") != 0)
		return -1;
	unsigned char *b = malloc(SMALL_SIZE);
	itest_pattern(b, SMALL_SIZE, 0, SMALL_SEED);
	int rc = itest_write_file(itest_path(&g_env, "small.bin"), b, SMALL_SIZE);
	free(b);
	struct stat st;
	if (rc != 0 || stat(itest_path(&g_env, "small.bin"), &st) != 0)
		return -1;
	g_small_ino = st.st_ino;
	if (itest_server_start(&g_srv, &g_env, NULL) != 0)
		return -1;
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	g_root = itc_root(c, "/");
	g_small = itc_lookup_ok(c, &g_root, "small.bin");
	itc_close(c);
	itest_arena_free();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g_fd >= 0)
		close(g_fd);
	unlink(itest_path(&g_env, "dirty.bin"));
	int st = itest_server_stop(&g_srv);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

/* Fill path with mib MiB through the page cache only (no fsync). */
static void make_dirty(const char *path, unsigned mib)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	const size_t chunk = 4u << 20;
	unsigned char *buf = malloc(chunk);
	assert_non_null(buf);
	for (unsigned i = 0; i < mib / 4; i++) {
		memset(buf, (int)(0x41 + i % 26), chunk);
		buf[0] = (unsigned char)i; /* not all one byte: nothing to dedupe or compress */
		if (pwrite(fd, buf, chunk, (off_t)i * (off_t)chunk) != (ssize_t)chunk)
			fail_msg("pwrite %s: %s", path, strerror(errno));
	}
	free(buf);
	close(fd);
}

struct call {
	uint32_t xid;
	int proc;
	int seen;
	int pos; /* arrival position */
	long long at_ms;
};

/* Check a fast reply's content.  Returns 0 or fails the test. */
static void check_fast(const struct call *c, const unsigned char *rec, size_t len)
{
	cc_res r;
	char err[200] = "";
	if (cc_parse((uint32_t)c->proc, rec, len, &r, err, sizeof(err)) != 0 || !r.rpc_ok)
		fail_msg("fast call xid %#x proc %d: %s", c->xid, c->proc, err);
	if (c->proc == CC_NULL)
		return;
	assert_nfsstat(r.status, NFS3_OK);
	if (!r.has_attr || r.fileid != g_small_ino || r.size != SMALL_SIZE)
		fail_msg(
			"fast call xid %#x proc %d: attributes of another object (fileid %llu size "
			"%llu)",
			c->xid, c->proc, (unsigned long long)r.fileid, (unsigned long long)r.size);
	if (c->proc == CC_LOOKUP && !itc_fh_equal(&r.fh, &g_small))
		fail_msg("fast LOOKUP xid %#x: wrong handle", c->xid);
	if (c->proc == CC_READ) {
		uint32_t off = (c->xid & 0xff) * 1000u;
		uint32_t want = SMALL_SIZE - off < 4096 ? SMALL_SIZE - off : 4096;
		if (r.count != want || r.data_len != want)
			fail_msg("fast READ xid %#x: %u bytes, want %u", c->xid, r.data_len, want);
		long bad = cc_pattern_mismatch(r.data, r.data_len, off, SMALL_SEED);
		if (bad >= 0)
			fail_msg("fast READ xid %#x: wrong byte at +%ld", c->xid, bad);
	}
}

/*
 * One attempt: COMMIT of mib dirty MiB, then NFAST fast calls, on one
 * connection.  Returns 1 when every fast reply came before the COMMIT's, 0
 * when the COMMIT overtook some (it was not slow enough); fails the test on
 * any wrong reply.
 */
static int attempt(unsigned mib, uint32_t xbase)
{
	const char *path = itest_path(&g_env, "dirty.bin");
	make_dirty(path, mib);
	itc_t *c = itc_connect(g_srv.port);
	assert_non_null(c);
	fh_t dirty = itc_lookup_ok(c, &g_root, "dirty.bin");
	itc_close(c);

	g_fd = cc_tcp_connect(g_srv.port, 0, 4 << 20, 0);
	assert_true(g_fd >= 0);
	struct call calls[1 + NFAST];
	memset(calls, 0, sizeof(calls));
	xbuf stream;
	xb_init(&stream);
	xbuf m;
	calls[0] = (struct call){ .xid = xbase, .proc = CC_COMMIT };
	cc_msg_commit(&m, calls[0].xid, &dirty, 0, 0, 0, 0);
	cc_frame(&stream, &m);
	xb_free(&m);
	static const int kinds[] = { CC_GETATTR, CC_NULL, CC_READ, CC_LOOKUP };
	for (int i = 1; i <= NFAST; i++) {
		calls[i] = (struct call){ .xid = xbase + (uint32_t)i, .proc = kinds[i % 4] };
		switch (calls[i].proc) {
		case CC_GETATTR:
			cc_msg_getattr(&m, calls[i].xid, &g_small, 0, 0);
			break;
		case CC_NULL:
			cc_msg_null(&m, calls[i].xid);
			break;
		case CC_READ:
			cc_msg_read(&m, calls[i].xid, &g_small, (calls[i].xid & 0xff) * 1000u, 4096,
				    0, 0);
			break;
		default:
			cc_msg_lookup(&m, calls[i].xid, &g_root, "small.bin", 0, 0);
			break;
		}
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	/* The COMMIT goes first, on its own, so it is framed and queued first. */
	uint32_t first_len =
		4 + ((uint32_t)stream.buf[1] << 16 | (uint32_t)stream.buf[2] << 8 | stream.buf[3]);
	long long t0 = cc_now_ms();
	assert_int_equal(cc_send_all(g_fd, stream.buf, first_len, 10000), 0);
	assert_int_equal(cc_send_all(g_fd, stream.buf + first_len, stream.len - first_len, 10000),
			 0);
	xb_free(&stream);

	cc_rx rx;
	cc_rx_init(&rx);
	int got = 0;
	long long deadline = t0 + 300000;
	while (got < 1 + NFAST && cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = g_fd, .events = POLLIN };
		poll(&pfd, 1, 1000);
		long n = cc_rx_fill(g_fd, &rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(&rx, &rec)) > 0) {
			uint32_t xid = cc_xid(rec, (size_t)len);
			struct call *k = NULL;
			for (int i = 0; i <= NFAST; i++)
				if (calls[i].xid == xid)
					k = &calls[i];
			if (!k || k->seen) {
				free(rec);
				fail_msg("%s reply xid %#x", k ? "second" : "unexpected", xid);
			}
			k->seen = 1;
			k->pos = got++;
			k->at_ms = cc_now_ms() - t0;
			if (k == &calls[0]) {
				cc_res r;
				char err[200] = "";
				if (cc_parse(CC_COMMIT, rec, (size_t)len, &r, err, sizeof(err)) !=
					    0 ||
				    !r.rpc_ok) {
					free(rec);
					fail_msg("COMMIT reply: %s", err);
				}
				free(rec);
				assert_nfsstat(r.status, NFS3_OK);
				if (!r.has_attr || r.size != (uint64_t)mib << 20)
					fail_msg("COMMIT reply: post-op size %llu, want %llu",
						 (unsigned long long)r.size,
						 (unsigned long long)mib << 20);
			} else {
				check_fast(k, rec, (size_t)len);
				free(rec);
			}
		}
		if (len < 0)
			fail_msg("malformed record marking");
		if (n < 0 && got < 1 + NFAST)
			fail_msg("connection closed after %d replies", got);
	}
	cc_rx_free(&rx);
	close(g_fd);
	g_fd = -1;
	unlink(path);
	for (int i = 0; i <= NFAST; i++)
		if (!calls[i].seen)
			fail_msg("no reply for xid %#x (proc %d)", calls[i].xid, calls[i].proc);

	long long last_fast = 0;
	int overtaken = 0;
	for (int i = 1; i <= NFAST; i++) {
		if (calls[i].at_ms > last_fast)
			last_fast = calls[i].at_ms;
		if (calls[i].pos > calls[0].pos)
			overtaken++;
	}
	fprintf(stderr,
		"  %u MiB dirty: COMMIT answered after %lld ms at position %d of %d; last fast "
		"reply after %lld ms; %d fast replies after the COMMIT's\n",
		mib, calls[0].at_ms, calls[0].pos + 1, 1 + NFAST, last_fast, overtaken);
	return overtaken == 0 && calls[0].pos == NFAST;
}

static void test_fast_replies_overtake_slow_commit(void **state)
{
	(void)state;
	struct statvfs sv;
	assert_int_equal(statvfs(g_env.dir, &sv), 0);
	unsigned long long free_mib = (unsigned long long)sv.f_bavail * sv.f_frsize >> 20;
	unsigned mib = START_MIB;
	for (int a = 0; a < ATTEMPTS; a++, mib *= 2) {
		if ((unsigned long long)mib * 3 > free_mib) {
			fprintf(stderr, "  only %llu MiB free: not trying %u MiB\n", free_mib, mib);
			break;
		}
		if (attempt(mib, 0x0D000000u + (uint32_t)a * 0x100u))
			return;
	}
	fail_msg("the fast replies never all arrived before the slow COMMIT's: replies on one "
		 "connection look serialised in call order (or the disk syncs too fast to tell)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_replies_overtake_slow_commit),
	};
	return cmocka_run_group_tests_name("concurrency.order", tests, group_setup, group_teardown);
}
