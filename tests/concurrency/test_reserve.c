/*
 * test_reserve.c - bulk calls never take the last workers (issue #5).
 *
 * The export is an ext4 image mounted in a private mount namespace, so the
 * test can freeze it: every buffered WRITE then blocks in the kernel until
 * the thaw. One connection pipelines more WRITEs than the server has
 * workers; while they are all stuck, a second connection's READ and
 * GETATTR must still be answered (a READ never runs on the event thread,
 * so it needs a free worker). After the thaw every WRITE completes and the
 * file holds exactly what was written.
 *
 * Skipped (exit 77) where loop devices or mkfs.ext4 are missing.
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;
static fh_t g_big, g_small;
static int g_freeze_fd = -1;
static bool g_frozen, g_mounted;

#define NWRITES 40 /* more than the server's 16 workers */
#define WSIZE (64 * 1024)
#define WSEED 7u
#define SMALL_SIZE 8192u
#define SMALL_SEED 9u

static int group_setup(void **state)
{
	(void)state;
	if (getuid() != 0) {
		fprintf(stderr, "test_reserve: needs root (mount, freeze): skipped\n");
		exit(77);
	}
	if (itest_env_init(&g_env, "reserve") != 0)
		return -1;
	if (cc_mount_image(&g_env) != 0) {
		fprintf(stderr,
			"test_reserve: cannot mount an ext4 image (loop device?): skipped\n");
		itest_env_cleanup(&g_env);
		exit(77);
	}
	g_mounted = true;
	cc_make_file(itest_path(&g_env, "small.bin"), SMALL_SIZE, SMALL_SEED, 0, 0, 0644);
	cc_make_file(itest_path(&g_env, "big.bin"), 0, 0, 0, 0, 0644);
	if (itest_server_start(&g_srv, &g_env, NULL) != 0)
		return -1;
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	fh_t root = itc_root(c, "/");
	g_big = itc_lookup_ok(c, &root, "big.bin");
	g_small = itc_lookup_ok(c, &root, "small.bin");
	itc_close(c);
	itest_arena_free();
	g_freeze_fd = open(g_env.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return g_freeze_fd >= 0 ? 0 : -1;
}

static void thaw(void)
{
	if (g_frozen && ioctl(g_freeze_fd, FITHAW, 0) == 0)
		g_frozen = false;
}

static int group_teardown(void **state)
{
	(void)state;
	thaw();
	int st = itest_server_stop(&g_srv);
	if (g_freeze_fd >= 0)
		close(g_freeze_fd);
	if (g_mounted)
		umount2(g_env.dir, MNT_DETACH);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

/* Wait for the replies with these xids on fd; returns how many arrived. */
static int collect(int fd, cc_rx *rx, const uint32_t *xids, const int *procs, int n, cc_res *out,
		   unsigned char **recs, int timeout_ms)
{
	int got = 0;
	long long deadline = cc_now_ms() + timeout_ms;
	while (got < n && cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 200);
		if (cc_rx_fill(fd, rx) < 0 && rx->eof)
			fail_msg("server closed the connection");
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(rx, &rec)) > 0) {
			uint32_t xid = cc_xid(rec, (size_t)len);
			int k = 0;
			while (k < n && xids[k] != xid)
				k++;
			if (k == n || recs[k])
				fail_msg("unexpected reply xid %#x", xid);
			char err[200] = "";
			if (cc_parse((uint32_t)procs[k], rec, (size_t)len, &out[k], err,
				     sizeof(err)) != 0 ||
			    !out[k].rpc_ok)
				fail_msg("reply xid %#x: %s", xid, err);
			recs[k] = rec;
			got++;
		}
		if (len < 0)
			fail_msg("malformed record from the server");
	}
	return got;
}

static void test_small_calls_answered_while_writes_block(void **state)
{
	(void)state;
	int wfd = cc_tcp_connect(g_srv.port, 0, 0, 8 << 20);
	int rfd = cc_tcp_connect(g_srv.port, 0, 0, 0);
	assert_true(wfd >= 0 && rfd >= 0);
	if (ioctl(g_freeze_fd, FIFREEZE, 0) != 0)
		fail_msg("FIFREEZE: %s", strerror(errno));
	g_frozen = true;

	/* NWRITES pipelined WRITEs: they take every worker bulk calls may have. */
	unsigned char *data = malloc(WSIZE);
	assert_non_null(data);
	xbuf stream, m;
	xb_init(&stream);
	uint32_t wxid[NWRITES];
	int wproc[NWRITES];
	for (int i = 0; i < NWRITES; i++) {
		itest_pattern(data, WSIZE, (uint64_t)i * WSIZE, WSEED);
		wxid[i] = 0x7e000000u + (uint32_t)i;
		wproc[i] = CC_WRITE;
		cc_msg_write(&m, wxid[i], &g_big, (uint64_t)i * WSIZE, data, WSIZE, CC_UNSTABLE, 0,
			     0);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	free(data);
	assert_int_equal(cc_send_all(wfd, stream.buf, stream.len, 20000), 0);
	xb_free(&stream);
	/* Let the workers pick them up and block. */
	usleep(500 * 1000);
	cc_rx wrx;
	cc_rx_init(&wrx);
	cc_res wres[NWRITES];
	unsigned char *wrecs[NWRITES] = { 0 };
	if (collect(wfd, &wrx, wxid, wproc, NWRITES, wres, wrecs, 100) != 0)
		fail_msg("a WRITE completed on the frozen filesystem: the test proves nothing");

	/* The other connection: a READ (worker-only) and a GETATTR. */
	uint32_t sxid[2] = { 0x5e000001u, 0x5e000002u };
	int sproc[2] = { CC_READ, CC_GETATTR };
	cc_msg_read(&m, sxid[0], &g_small, 0, SMALL_SIZE, 0, 0);
	xb_init(&stream);
	cc_frame(&stream, &m);
	xb_free(&m);
	cc_msg_getattr(&m, sxid[1], &g_small, 0, 0);
	cc_frame(&stream, &m);
	xb_free(&m);
	assert_int_equal(cc_send_all(rfd, stream.buf, stream.len, 10000), 0);
	xb_free(&stream);
	cc_rx rrx;
	cc_rx_init(&rrx);
	cc_res sres[2];
	unsigned char *srecs[2] = { 0 };
	int got = collect(rfd, &rrx, sxid, sproc, 2, sres, srecs, 15000 * cc_slow_factor());
	thaw(); /* before any assertion can end the test with the fs frozen */
	if (got != 2)
		fail_msg("with %d WRITEs blocked, READ %s and GETATTR %s within 15 s: bulk calls "
			 "took every worker",
			 NWRITES, srecs[0] ? "answered" : "unanswered",
			 srecs[1] ? "answered" : "unanswered");
	assert_nfsstat(sres[0].status, NFS3_OK);
	if (sres[0].data_len != SMALL_SIZE ||
	    cc_pattern_mismatch(sres[0].data, sres[0].data_len, 0, SMALL_SEED) >= 0)
		fail_msg("READ returned wrong data");
	assert_nfsstat(sres[1].status, NFS3_OK);
	assert_true(sres[1].size == SMALL_SIZE);
	for (int i = 0; i < 2; i++)
		free(srecs[i]);

	/* Thawed: every WRITE completes, and the file is exactly what was sent. */
	got = collect(wfd, &wrx, wxid, wproc, NWRITES, wres, wrecs, 60000 * cc_slow_factor());
	if (got != NWRITES)
		fail_msg("only %d of %d WRITEs answered after the thaw", got, NWRITES);
	for (int i = 0; i < NWRITES; i++) {
		assert_nfsstat(wres[i].status, NFS3_OK);
		free(wrecs[i]);
	}
	cc_rx_free(&wrx);
	cc_rx_free(&rrx);
	close(wfd);
	close(rfd);
	int fd = open(itest_path(&g_env, "big.bin"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned char *back = malloc((size_t)NWRITES * WSIZE);
	assert_non_null(back);
	assert_int_equal(pread(fd, back, (size_t)NWRITES * WSIZE, 0), (ssize_t)NWRITES * WSIZE);
	close(fd);
	long bad = cc_pattern_mismatch(back, (size_t)NWRITES * WSIZE, 0, WSEED);
	free(back);
	if (bad >= 0)
		fail_msg("big.bin differs from what was written at byte %ld", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_calls_answered_while_writes_block),
	};
	return cmocka_run_group_tests_name("reserve", tests, group_setup, group_teardown);
}
