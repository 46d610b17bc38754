/*
 * test_setattr.c - SETATTR: mode, uid, gid, size (grow and shrink),
 * atime/mtime to the client's time or the server's, the ctime guard
 * (NOT_SYNC on mismatch, nothing changed), field order within one call,
 * directories, symlinks and special files, wcc_data on every reply.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static fh_t file_fh(struct wt_ctx *x, const char *rel, const char *content, mode_t mode)
{
	wt_make_file(&wt_env, rel, content, 0, 0, mode);
	return itc_walk(x->c, &x->root, rel);
}

/* SETATTR that must succeed, with its wcc checked against lstat. */
static void setattr_ok(struct wt_ctx *x, const fh_t *fh, const char *rel, const sattr3 *sa)
{
	struct stat before = wt_lstat(&wt_env, rel);
	SETATTR3res r;
	ITC_CALL(x->c, wtc_setattr(x->c, fh, sa, NULL, &r));
	assert_nfsstat(r.status, NFS3_OK);
	wt_check_wcc(&r.SETATTR3res_u.resok.obj_wcc, &before, itest_path(&wt_env, rel), rel);
}

static void test_mode(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "m1", "data", 0644);
	static const uint32_t modes[] = { 0600, 0, 0777, 04755, 02711, 01644, 07777, 0444 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		sattr3 sa = wt_sattr_mode(modes[i]);
		setattr_ok(x, &fh, "m1", &sa);
		assert_int_equal(wt_lstat(&wt_env, "m1").st_mode & 07777, modes[i]);
		assert_int_equal(itc_attr_ok(x->c, &fh).mode, modes[i]);
	}
	/* Bits outside 07777 are not file type changes. */
	sattr3 sa = wt_sattr_mode(S_IFDIR | 0640);
	SETATTR3res r;
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3_OK);
	struct stat st = wt_lstat(&wt_env, "m1");
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
}

static void test_uid_gid(void **state)
{
	struct wt_ctx *x = *state;
	WT_REQUIRE_ROOT();
	fh_t fh = file_fh(x, "o1", "data", 0644);
	sattr3 sa = wt_sattr_none();
	sa.uid.set_it = 1;
	sa.uid.set_uid3_u.uid = 4321;
	setattr_ok(x, &fh, "o1", &sa);
	struct stat st = wt_lstat(&wt_env, "o1");
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 0);

	sa = wt_sattr_none();
	sa.gid.set_it = 1;
	sa.gid.set_gid3_u.gid = 8765;
	setattr_ok(x, &fh, "o1", &sa);
	st = wt_lstat(&wt_env, "o1");
	assert_int_equal(st.st_uid, 4321);
	assert_int_equal(st.st_gid, 8765);

	sa.uid.set_it = 1;
	sa.uid.set_uid3_u.uid = 11;
	sa.gid.set_gid3_u.gid = 12;
	setattr_ok(x, &fh, "o1", &sa);
	st = wt_lstat(&wt_env, "o1");
	assert_int_equal(st.st_uid, 11);
	assert_int_equal(st.st_gid, 12);
	fattr3 a = itc_attr_ok(x->c, &fh);
	assert_int_equal(a.uid, 11);
	assert_int_equal(a.gid, 12);
}

static void test_owner_then_mode(void **state)
{
	struct wt_ctx *x = *state;
	WT_REQUIRE_ROOT();
	/* chown clears set-id bits: within one call the mode must still come out as asked. */
	fh_t fh = file_fh(x, "o2", "data", 0644);
	sattr3 sa = wt_sattr_mode(06755);
	sa.uid.set_it = 1;
	sa.uid.set_uid3_u.uid = 1234;
	sa.gid.set_it = 1;
	sa.gid.set_gid3_u.gid = 1234;
	setattr_ok(x, &fh, "o2", &sa);
	struct stat st = wt_lstat(&wt_env, "o2");
	assert_int_equal(st.st_mode & 07777, 06755);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 1234);
}

static void test_size(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "s1", "0123456789", 0644);
	const char *p = itest_path(&wt_env, "s1");
	/* grow: old bytes kept, the rest reads as zeros */
	sattr3 sa = wt_sattr_none();
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = (1u << 20) + 3;
	setattr_ok(x, &fh, "s1", &sa);
	size_t len;
	unsigned char *b = wt_slurp_bin(p, &len);
	assert_non_null(b);
	assert_int_equal(len, (1u << 20) + 3);
	assert_memory_equal(b, "0123456789", 10);
	for (size_t i = 10; i < len; i++)
		if (b[i] != 0)
			fail_msg("byte %zu after grow is %u", i, b[i]);
	/* grown sparsely: nothing allocated for the hole */
	assert_true(wt_lstat(&wt_env, "s1").st_blocks * 512 < (1u << 20));
	/* shrink */
	sa.size.set_size3_u.size = 5;
	setattr_ok(x, &fh, "s1", &sa);
	b = wt_slurp_bin(p, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(b, "01234", 5);
	char buf[5];
	wt_read_exact(x->c, &fh, 0, buf, 5);
	assert_memory_equal(buf, "01234", 5);
	/* to zero, then past 4 GiB */
	sa.size.set_size3_u.size = 0;
	setattr_ok(x, &fh, "s1", &sa);
	assert_int_equal(wt_lstat(&wt_env, "s1").st_size, 0);
	sa.size.set_size3_u.size = (5ull << 30) + 7;
	setattr_ok(x, &fh, "s1", &sa);
	assert_int_equal(wt_lstat(&wt_env, "s1").st_size, (5ll << 30) + 7);
	assert_int_equal(itc_attr_ok(x->c, &fh).size, (5ull << 30) + 7);
	sa.size.set_size3_u.size = 0;
	setattr_ok(x, &fh, "s1", &sa);
}

static void test_times_client(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "t1", "data", 0644);
	sattr3 sa = wt_sattr_none();
	sa.atime.set_it = SET_TO_CLIENT_TIME;
	sa.atime.set_atime_u.atime.seconds = 1500000000;
	sa.atime.set_atime_u.atime.nseconds = 123456789;
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1600000000;
	sa.mtime.set_mtime_u.mtime.nseconds = 987654321;
	setattr_ok(x, &fh, "t1", &sa);
	struct stat st = wt_lstat(&wt_env, "t1");
	assert_int_equal(st.st_atim.tv_sec, 1500000000);
	assert_int_equal(st.st_atim.tv_nsec, 123456789);
	assert_int_equal(st.st_mtim.tv_sec, 1600000000);
	assert_int_equal(st.st_mtim.tv_nsec, 987654321);

	/* only mtime: atime stays */
	sa = wt_sattr_none();
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1000000000;
	sa.mtime.set_mtime_u.mtime.nseconds = 1;
	setattr_ok(x, &fh, "t1", &sa);
	st = wt_lstat(&wt_env, "t1");
	assert_int_equal(st.st_atim.tv_sec, 1500000000);
	assert_int_equal(st.st_atim.tv_nsec, 123456789);
	assert_int_equal(st.st_mtim.tv_sec, 1000000000);
	assert_int_equal(st.st_mtim.tv_nsec, 1);

	/* an impossible nanosecond count is refused, nothing changes */
	sa.mtime.set_mtime_u.mtime.nseconds = 1000000000;
	SETATTR3res r;
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	assert_int_equal(wt_lstat(&wt_env, "t1").st_mtim.tv_nsec, 1);
}

static void test_times_server(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "t2", "data", 0644);
	struct timespec old[2] = { { 1000, 0 }, { 2000, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, itest_path(&wt_env, "t2"), old, 0), 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_REALTIME, &t0);
	sattr3 sa = wt_sattr_none();
	sa.atime.set_it = SET_TO_SERVER_TIME;
	setattr_ok(x, &fh, "t2", &sa);
	struct stat st = wt_lstat(&wt_env, "t2");
	assert_true(st.st_atim.tv_sec >= t0.tv_sec - 1);
	assert_int_equal(st.st_mtim.tv_sec, 2000); /* untouched */

	sa = wt_sattr_none();
	sa.atime.set_it = SET_TO_SERVER_TIME;
	sa.mtime.set_it = SET_TO_SERVER_TIME;
	setattr_ok(x, &fh, "t2", &sa);
	clock_gettime(CLOCK_REALTIME, &t1);
	st = wt_lstat(&wt_env, "t2");
	assert_true(st.st_mtim.tv_sec >= t0.tv_sec - 1 && st.st_mtim.tv_sec <= t1.tv_sec + 1);
	assert_true(st.st_atim.tv_sec >= t0.tv_sec - 1 && st.st_atim.tv_sec <= t1.tv_sec + 1);
}

static void test_guard(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "g1", "data", 0644);
	struct stat before = wt_lstat(&wt_env, "g1");
	nfstime3 wrong = { (uint32_t)before.st_ctim.tv_sec - 10, (uint32_t)before.st_ctim.tv_nsec };
	sattr3 sa = wt_sattr_mode(0600);
	SETATTR3res r;
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, &wrong, &r));
	assert_nfsstat(r.status, NFS3ERR_NOT_SYNC);
	wt_check_wcc(&r.SETATTR3res_u.resfail.obj_wcc, &before, itest_path(&wt_env, "g1"), "g1");
	assert_int_equal(wt_lstat(&wt_env, "g1").st_mode & 07777, 0644);

	/* off by a nanosecond is a mismatch too */
	nfstime3 close_ = { (uint32_t)before.st_ctim.tv_sec,
			    (uint32_t)(before.st_ctim.tv_nsec ^ 1) };
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, &close_, &r));
	assert_nfsstat(r.status, NFS3ERR_NOT_SYNC);
	assert_int_equal(wt_lstat(&wt_env, "g1").st_mode & 07777, 0644);

	nfstime3 right = { (uint32_t)before.st_ctim.tv_sec, (uint32_t)before.st_ctim.tv_nsec };
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, &right, &r));
	assert_nfsstat(r.status, NFS3_OK);
	wt_check_wcc(&r.SETATTR3res_u.resok.obj_wcc, &before, itest_path(&wt_env, "g1"), "g1");
	assert_int_equal(wt_lstat(&wt_env, "g1").st_mode & 07777, 0600);

	/* the old ctime no longer matches */
	sa = wt_sattr_mode(0640);
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, &right, &r));
	assert_nfsstat(r.status, NFS3ERR_NOT_SYNC);
	assert_int_equal(wt_lstat(&wt_env, "g1").st_mode & 07777, 0600);
}

static void test_dir_and_special(void **state)
{
	struct wt_ctx *x = *state;
	wt_make_dir(&wt_env, "d1", 0, 0, 0755);
	fh_t d = itc_walk(x->c, &x->root, "d1");
	sattr3 sa = wt_sattr_mode(0700);
	setattr_ok(x, &d, "d1", &sa);
	assert_int_equal(wt_lstat(&wt_env, "d1").st_mode & 07777, 0700);
	sa = wt_sattr_mode(01777);
	setattr_ok(x, &d, "d1", &sa);
	assert_int_equal(wt_lstat(&wt_env, "d1").st_mode & 07777, 01777);

	SETATTR3res r;
	sa = wt_sattr_none();
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = 0;
	ITC_CALL(x->c, wtc_setattr(x->c, &d, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_ISDIR);

	assert_int_equal(mkfifo(itest_path(&wt_env, "fifo1"), 0644), 0);
	fh_t f = itc_walk(x->c, &x->root, "fifo1");
	ITC_CALL(x->c, wtc_setattr(x->c, &f, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	sattr3 m = wt_sattr_mode(0600);
	setattr_ok(x, &f, "fifo1", &m);
	assert_int_equal(wt_lstat(&wt_env, "fifo1").st_mode & 07777, 0600);

	/* symlinks: size refused, mode ignored, times and owner set on the link itself */
	wt_make_file(&wt_env, "target1", "xyz", 0, 0, 0644);
	assert_int_equal(symlink("target1", itest_path(&wt_env, "sl1")), 0);
	fh_t s = itc_walk(x->c, &x->root, "sl1");
	ITC_CALL(x->c, wtc_setattr(x->c, &s, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	setattr_ok(x, &s, "sl1", &m);
	assert_int_equal(wt_lstat(&wt_env, "target1").st_mode & 07777, 0644);
	sattr3 t = wt_sattr_none();
	t.mtime.set_it = SET_TO_CLIENT_TIME;
	t.mtime.set_mtime_u.mtime.seconds = 1234567890;
	if (geteuid() == 0) {
		t.uid.set_it = 1;
		t.uid.set_uid3_u.uid = 777;
	}
	setattr_ok(x, &s, "sl1", &t);
	struct stat ls = wt_lstat(&wt_env, "sl1");
	assert_int_equal(ls.st_mtim.tv_sec, 1234567890);
	struct stat ts;
	assert_int_equal(stat(itest_path(&wt_env, "target1"), &ts), 0);
	assert_int_not_equal(ts.st_mtim.tv_sec, 1234567890);
	if (geteuid() == 0) {
		assert_int_equal(ls.st_uid, 777);
		assert_int_equal(ts.st_uid, 0);
	}
}

static void test_size_and_mtime(void **state)
{
	struct wt_ctx *x = *state;
	/* truncation moves mtime; a time in the same call wins */
	fh_t fh = file_fh(x, "sm", "0123456789", 0644);
	sattr3 sa = wt_sattr_none();
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = 3;
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1111111111;
	sa.mtime.set_mtime_u.mtime.nseconds = 42;
	setattr_ok(x, &fh, "sm", &sa);
	struct stat st = wt_lstat(&wt_env, "sm");
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mtim.tv_sec, 1111111111);
	assert_int_equal(st.st_mtim.tv_nsec, 42);
}

static void test_errors(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = file_fh(x, "e1", "data", 0644);
	assert_int_equal(unlink(itest_path(&wt_env, "e1")), 0);
	sattr3 sa = wt_sattr_mode(0600);
	SETATTR3res r;
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_STALE);
	fh_t bad = x->root;
	bad.data[bad.len - 1] ^= 0x55;
	ITC_CALL(x->c, wtc_setattr(x->c, &bad, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_BADHANDLE);
	/* nothing to change is fine, and still reports wcc */
	fh = file_fh(x, "e2", "data", 0644);
	sattr3 none = wt_sattr_none();
	setattr_ok(x, &fh, "e2", &none);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("setattr", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_mode),	T(test_uid_gid),	 T(test_owner_then_mode),
		T(test_size),	T(test_times_client),	 T(test_times_server),
		T(test_guard),	T(test_dir_and_special), T(test_size_and_mtime),
		T(test_errors),
	};
	return cmocka_run_group_tests_name("write.setattr", tests, gsetup, wt_group_teardown);
}
