/*
 * test_crash.c - restarts and crashes. kill -9 of the server between
 * UNSTABLE writes and COMMIT: the restarted server (same --state-dir, same
 * port) answers with a different write verifier, so the client knows to
 * resend what was not committed, and FILE_SYNC data written before the
 * kill is on disk exactly. An EXCLUSIVE create retransmitted after a
 * restart (the duplicate request cache is gone) is recognised by its
 * verifier: same verifier -> the same file, another one -> EXIST.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLK (64u * 1024)

/* kill -9 and start again on the same port with the same state directory. */
static void crash_and_restart(void)
{
	int port = wt_srv.port;
	assert_true(wt_srv.pid > 0);
	assert_int_equal(kill(wt_srv.pid, SIGKILL), 0);
	int st = itest_wait_exit(wt_srv.pid, ITEST_EXIT_TIMEOUT_MS);
	assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	wt_srv.pid = 0;
	char *ps = itest_sprintf("%d", port);
	const char *extra[] = { "--port", ps, NULL };
	assert_int_equal(itest_server_start(&wt_srv, &wt_env, extra), 0);
	assert_int_equal(wt_srv.port, port);
}

static void clean_restart(void)
{
	int port = wt_srv.port;
	char *ps = itest_sprintf("%d", port);
	const char *extra[] = { "--port", ps, NULL };
	assert_int_equal(itest_server_restart(&wt_srv, extra), 0);
	assert_int_equal(wt_srv.port, port);
}

static void pattern_blk(unsigned char *b, unsigned idx)
{
	itest_pattern(b, BLK, (uint64_t)idx * BLK, 0xc0ffee);
}

static void check_blocks_on_disk(const char *rel, unsigned from, unsigned to)
{
	int fd = open(itest_path(&wt_env, rel), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned char *got = malloc(BLK), *want = malloc(BLK);
	for (unsigned i = from; i < to; i++) {
		assert_int_equal(pread(fd, got, BLK, (off_t)i * BLK), BLK);
		pattern_blk(want, i);
		if (memcmp(got, want, BLK) != 0)
			fail_msg("%s: block %u differs on disk", rel, i);
	}
	free(got);
	free(want);
	close(fd);
}

static void test_kill9_between_unstable_and_commit(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = wt_create_ok(x->c, &x->root, "crash", 0644);
	unsigned char *b = malloc(BLK);
	/* blocks 0-3 FILE_SYNC, 4-7 UNSTABLE and never committed */
	char verf1[NFS3_WRITEVERFSIZE];
	for (unsigned i = 0; i < 8; i++) {
		pattern_blk(b, i);
		WRITE3resok ok = wt_write_ok(x->c, &fh, (uint64_t)i * BLK, b, BLK,
					     i < 4 ? FILE_SYNC : UNSTABLE);
		assert_int_equal(ok.committed, i < 4 ? FILE_SYNC : UNSTABLE);
		if (i == 0)
			memcpy(verf1, ok.verf, sizeof(verf1));
		else
			assert_memory_equal(ok.verf, verf1, sizeof(verf1));
	}

	crash_and_restart();

	/* what was acknowledged as stable is there, exactly */
	check_blocks_on_disk("crash", 0, 4);

	itc_t *c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	/* the handle survives the restart */
	assert_int_equal(itc_attr_ok(c, &fh).type, NF3REG);
	/* the client COMMITs its unstable writes: a new verifier says "resend" */
	COMMIT3res cr;
	ITC_CALL(c, wtc_commit(c, &fh, 0, 0, &cr));
	assert_nfsstat(cr.status, NFS3_OK);
	char verf2[NFS3_WRITEVERFSIZE];
	memcpy(verf2, cr.COMMIT3res_u.resok.verf, sizeof(verf2));
	assert_memory_not_equal(verf2, verf1, sizeof(verf1));
	/* new writes carry the new verifier too */
	pattern_blk(b, 8);
	WRITE3resok ok = wt_write_ok(c, &fh, 8ull * BLK, b, BLK, UNSTABLE);
	assert_memory_equal(ok.verf, verf2, sizeof(verf2));
	/* so the client resends blocks 4-7 and commits again */
	for (unsigned i = 4; i < 8; i++) {
		pattern_blk(b, i);
		ok = wt_write_ok(c, &fh, (uint64_t)i * BLK, b, BLK, UNSTABLE);
		assert_memory_equal(ok.verf, verf2, sizeof(verf2));
	}
	ITC_CALL(c, wtc_commit(c, &fh, 0, 0, &cr));
	assert_nfsstat(cr.status, NFS3_OK);
	assert_memory_equal(cr.COMMIT3res_u.resok.verf, verf2, sizeof(verf2));
	check_blocks_on_disk("crash", 0, 9);
	assert_int_equal(wt_lstat(&wt_env, "crash").st_size, 9 * BLK);

	/* and a second crash: yet another verifier */
	crash_and_restart();
	itc_close(c);
	c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	ITC_CALL(c, wtc_commit(c, &fh, 0, 0, &cr));
	assert_nfsstat(cr.status, NFS3_OK);
	assert_memory_not_equal(cr.COMMIT3res_u.resok.verf, verf2, sizeof(verf2));
	assert_memory_not_equal(cr.COMMIT3res_u.resok.verf, verf1, sizeof(verf1));
	itc_close(c);
	free(b);
}

static void test_verifier_changes_on_clean_restart(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = wt_create_ok(x->c, &x->root, "clean", 0644);
	WRITE3resok a = wt_write_ok(x->c, &fh, 0, "abc", 3, UNSTABLE);
	clean_restart();
	itc_t *c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	WRITE3resok b = wt_write_ok(c, &fh, 3, "def", 3, UNSTABLE);
	assert_memory_not_equal(a.verf, b.verf, NFS3_WRITEVERFSIZE);
	char buf[6];
	wt_read_exact(c, &fh, 0, buf, 6);
	assert_memory_equal(buf, "abcdef", 6);
	itc_close(c);
}

static CREATE3res excl(itc_t *c, const fh_t *dir, const char *name, const char *verf)
{
	CREATE3res r;
	ITC_CALL(c, wtc_create(c, dir, name, EXCLUSIVE, NULL, verf, &r));
	return r;
}

static void test_exclusive_create_across_restart(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "ex");
	const char *v = "\x11\x22\x33\x44\x55\x66\x77\x88";
	const char *other = "\x11\x22\x33\x44\x55\x66\x77\x89";
	CREATE3res r = excl(x->c, &d, "f", v);
	assert_nfsstat(r.status, NFS3_OK);
	fh_t h = wt_post_fh(&r.CREATE3res_u.resok.obj);

	/* the reply was lost in a crash; the client retransmits to the new server */
	crash_and_restart();
	itc_t *c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	fh_t root = itc_root(c, "/");
	fh_t d2 = itc_lookup_ok(c, &root, "ex");
	r = excl(c, &d2, "f", v);
	assert_nfsstat(r.status, NFS3_OK);
	fh_t h2 = wt_post_fh(&r.CREATE3res_u.resok.obj);
	assert_true(itc_fh_equal(&h, &h2));
	assert_int_equal(r.CREATE3res_u.resok.obj_attributes.post_op_attr_u.attributes.size, 0);
	/* another client's verifier */
	r = excl(c, &d2, "f", other);
	assert_nfsstat(r.status, NFS3ERR_EXIST);

	/* and after a clean restart as well */
	itc_close(c);
	clean_restart();
	c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	r = excl(c, &d, "f", v);
	assert_nfsstat(r.status, NFS3_OK);
	h2 = wt_post_fh(&r.CREATE3res_u.resok.obj);
	assert_true(itc_fh_equal(&h, &h2));
	r = excl(c, &d, "f", other);
	assert_nfsstat(r.status, NFS3ERR_EXIST);

	/* once the client has set the real attributes, the verifier is spent */
	sattr3 sa = wt_sattr_mode(0644);
	sa.atime.set_it = SET_TO_SERVER_TIME;
	sa.mtime.set_it = SET_TO_SERVER_TIME;
	SETATTR3res s;
	ITC_CALL(c, wtc_setattr(c, &h, &sa, NULL, &s));
	assert_nfsstat(s.status, NFS3_OK);
	crash_and_restart();
	itc_close(c);
	c = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	r = excl(c, &d, "f", v);
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	itc_close(c);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("crash", NULL);
}

/* The per-test connection is made fresh, as the server may have restarted. */
int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_kill9_between_unstable_and_commit),
		T(test_verifier_changes_on_clean_restart),
		T(test_exclusive_create_across_restart),
	};
	return cmocka_run_group_tests_name("write.crash", tests, gsetup, wt_group_teardown);
}
