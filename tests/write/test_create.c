/*
 * test_create.c - CREATE in its three modes: UNCHECKED (new, and over an
 * existing file: only a size applies), GUARDED (EXIST when present),
 * EXCLUSIVE (the verifier is kept with the file: the same verifier
 * succeeds again with the same handle, another one gets EXIST, and so does
 * the same one once the client's SETATTR has set the real attributes).
 * Names that exist as symlinks are never created through; sattr3 on create;
 * the directory's wcc_data; errors.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static CREATE3resok create_ok(struct wt_ctx *x, const fh_t *dir, const char *dirrel,
			      const char *name, createmode3 how, const sattr3 *sa, const char *verf)
{
	struct stat before = wt_lstat(&wt_env, dirrel);
	CREATE3res r;
	ITC_CALL(x->c, wtc_create(x->c, dir, name, how, sa, verf, &r));
	if (r.status != NFS3_OK)
		fail_msg("CREATE %s/%s (mode %d): %s", dirrel, name, (int)how,
			 itest_nfsstat_name(r.status));
	CREATE3resok *ok = &r.CREATE3res_u.resok;
	assert_true(ok->obj.handle_follows);
	assert_true(ok->obj_attributes.attributes_follow);
	char *rel = itest_sprintf("%s/%s", dirrel, name);
	itest_check_attr_matches(&ok->obj_attributes.post_op_attr_u.attributes,
				 itest_path(&wt_env, rel));
	wt_check_wcc(&ok->dir_wcc, &before, itest_path(&wt_env, dirrel), "CREATE dir_wcc");
	/* the handle names what was created */
	fh_t fh = wt_post_fh(&ok->obj);
	fh_t looked = itc_lookup_ok(x->c, dir, name);
	assert_true(itc_fh_equal(&fh, &looked));
	return *ok;
}

static nfsstat3 create_fail(struct wt_ctx *x, const fh_t *dir, const char *dirrel, const char *name,
			    createmode3 how, const sattr3 *sa, const char *verf)
{
	struct stat before = wt_lstat(&wt_env, dirrel);
	CREATE3res r;
	ITC_CALL(x->c, wtc_create(x->c, dir, name, how, sa, verf, &r));
	if (r.status != NFS3_OK)
		wt_check_wcc(&r.CREATE3res_u.resfail.dir_wcc, &before, itest_path(&wt_env, dirrel),
			     "CREATE resfail dir_wcc");
	return r.status;
}

static void test_unchecked_new(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "u");
	sattr3 sa = wt_sattr_mode(0640);
	CREATE3resok ok = create_ok(x, &d, "u", "f", UNCHECKED, &sa, NULL);
	fattr3 *a = &ok.obj_attributes.post_op_attr_u.attributes;
	assert_int_equal(a->type, NF3REG);
	assert_int_equal(a->mode, 0640); /* no server umask */
	assert_int_equal(a->size, 0);
	struct stat st = wt_lstat(&wt_env, "u/f");
	assert_int_equal(st.st_uid, geteuid());
	/* modes with special bits */
	sa = wt_sattr_mode(04711);
	ok = create_ok(x, &d, "u", "suid", UNCHECKED, &sa, NULL);
	assert_int_equal(wt_lstat(&wt_env, "u/suid").st_mode & 07777, 04711);
	/* no mode given: a sane default */
	sattr3 none = wt_sattr_none();
	create_ok(x, &d, "u", "nomode", UNCHECKED, &none, NULL);
	assert_int_equal(wt_lstat(&wt_env, "u/nomode").st_mode & 07777, 0644);
}

static void test_unchecked_existing(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "ue");
	wt_make_file(&wt_env, "ue/f", "keep me", 0, 0, 0600);
	struct stat orig = wt_lstat(&wt_env, "ue/f");
	sattr3 sa = wt_sattr_mode(0777);
	CREATE3resok ok = create_ok(x, &d, "ue", "f", UNCHECKED, &sa, NULL);
	/* same file, untouched: mode and content as they were */
	assert_int_equal(ok.obj_attributes.post_op_attr_u.attributes.fileid, orig.st_ino);
	struct stat st = wt_lstat(&wt_env, "ue/f");
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 7);
	/* with size 0: truncated */
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = 0;
	ok = create_ok(x, &d, "ue", "f", UNCHECKED, &sa, NULL);
	st = wt_lstat(&wt_env, "ue/f");
	assert_int_equal(st.st_ino, orig.st_ino);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(ok.obj_attributes.post_op_attr_u.attributes.size, 0);
	/* a directory, a fifo: EXIST */
	wt_make_dir(&wt_env, "ue/dir", 0, 0, 0755);
	assert_nfsstat(create_fail(x, &d, "ue", "dir", UNCHECKED, &sa, NULL), NFS3ERR_EXIST);
	assert_int_equal(mkfifo(itest_path(&wt_env, "ue/fifo"), 0644), 0);
	assert_nfsstat(create_fail(x, &d, "ue", "fifo", UNCHECKED, &sa, NULL), NFS3ERR_EXIST);
}

static void test_symlink_not_followed(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "sl");
	/* a dangling symlink pointing outside the export */
	char *outside = itest_sprintf("%s/outside-created", wt_env.base);
	unlink(outside);
	assert_int_equal(symlink(outside, itest_path(&wt_env, "sl/evil")), 0);
	wt_make_file(&wt_env, "sl/real", "real", 0, 0, 0644);
	assert_int_equal(symlink("real", itest_path(&wt_env, "sl/tofile")), 0);
	static const createmode3 modes[] = { UNCHECKED, GUARDED, EXCLUSIVE };
	sattr3 sa = wt_sattr_mode(0666);
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = 0;
	for (int i = 0; i < 3; i++) {
		assert_nfsstat(create_fail(x, &d, "sl", "evil", modes[i], &sa, "12345678"),
			       NFS3ERR_EXIST);
		assert_nfsstat(create_fail(x, &d, "sl", "tofile", modes[i], &sa, "12345678"),
			       NFS3ERR_EXIST);
	}
	struct stat st;
	assert_int_equal(lstat(outside, &st), -1);
	assert_int_equal(wt_lstat(&wt_env, "sl/real").st_size, 4);
	assert_true(S_ISLNK(wt_lstat(&wt_env, "sl/evil").st_mode));
}

static void test_guarded(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "g");
	sattr3 sa = wt_sattr_mode(0600);
	create_ok(x, &d, "g", "f", GUARDED, &sa, NULL);
	assert_int_equal(wt_lstat(&wt_env, "g/f").st_mode & 07777, 0600);
	assert_int_equal(itest_write_file(itest_path(&wt_env, "g/f"), "abc", 3), 0);
	assert_nfsstat(create_fail(x, &d, "g", "f", GUARDED, &sa, NULL), NFS3ERR_EXIST);
	assert_int_equal(wt_lstat(&wt_env, "g/f").st_size, 3);
	wt_make_dir(&wt_env, "g/dir", 0, 0, 0755);
	assert_nfsstat(create_fail(x, &d, "g", "dir", GUARDED, &sa, NULL), NFS3ERR_EXIST);
}

static void test_create_sattr(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "sa");
	sattr3 sa = wt_sattr_mode(0604);
	sa.size.set_it = 1;
	sa.size.set_size3_u.size = 1000;
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1234567890;
	sa.mtime.set_mtime_u.mtime.nseconds = 5;
	sa.atime.set_it = SET_TO_CLIENT_TIME;
	sa.atime.set_atime_u.atime.seconds = 1234567000;
	CREATE3resok ok = create_ok(x, &d, "sa", "f", GUARDED, &sa, NULL);
	struct stat st = wt_lstat(&wt_env, "sa/f");
	assert_int_equal(st.st_mode & 07777, 0604);
	assert_int_equal(st.st_size, 1000);
	assert_int_equal(st.st_mtim.tv_sec, 1234567890);
	assert_int_equal(st.st_mtim.tv_nsec, 5);
	assert_int_equal(st.st_atim.tv_sec, 1234567000);
	assert_int_equal(ok.obj_attributes.post_op_attr_u.attributes.size, 1000);
	if (geteuid() == 0) {
		/* root may create on behalf of another owner */
		sattr3 own = wt_sattr_mode(0644);
		own.uid.set_it = 1;
		own.uid.set_uid3_u.uid = 3333;
		own.gid.set_it = 1;
		own.gid.set_gid3_u.gid = 4444;
		create_ok(x, &d, "sa", "owned", UNCHECKED, &own, NULL);
		st = wt_lstat(&wt_env, "sa/owned");
		assert_int_equal(st.st_uid, 3333);
		assert_int_equal(st.st_gid, 4444);
	}
}

static void test_exclusive(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "x");
	const char *v1 = "\x81\x02\x03\x04\xf5\x06\x07\x08";
	const char *v2 = "\x81\x02\x03\x04\xf5\x06\x07\x09";
	CREATE3resok ok = create_ok(x, &d, "x", "f", EXCLUSIVE, NULL, v1);
	fh_t fh = wt_post_fh(&ok.obj);
	struct stat st = wt_lstat(&wt_env, "x/f");
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_uid, geteuid());
	/* the verifier is what the times hold (high bits cleared, as knfsd) */
	assert_int_equal(st.st_atim.tv_sec, 0x01020304);
	assert_int_equal(st.st_mtim.tv_sec, 0x75060708);

	/* a retransmission (new xid: past the duplicate request cache) succeeds */
	ok = create_ok(x, &d, "x", "f", EXCLUSIVE, NULL, v1);
	fh_t again = wt_post_fh(&ok.obj);
	assert_true(itc_fh_equal(&fh, &again));
	/* another client's create with another verifier: EXIST */
	assert_nfsstat(create_fail(x, &d, "x", "f", EXCLUSIVE, NULL, v2), NFS3ERR_EXIST);
	/* GUARDED and UNCHECKED see an ordinary existing file */
	assert_nfsstat(create_fail(x, &d, "x", "f", GUARDED, NULL, NULL), NFS3ERR_EXIST);

	/* the client's follow-up SETATTR sets the real attributes ... */
	sattr3 sa = wt_sattr_mode(0640);
	sa.atime.set_it = SET_TO_SERVER_TIME;
	sa.mtime.set_it = SET_TO_SERVER_TIME;
	SETATTR3res sr;
	ITC_CALL(x->c, wtc_setattr(x->c, &fh, &sa, NULL, &sr));
	assert_nfsstat(sr.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "x/f").st_mode & 07777, 0640);
	/* ... after which the old verifier no longer matches */
	assert_nfsstat(create_fail(x, &d, "x", "f", EXCLUSIVE, NULL, v1), NFS3ERR_EXIST);

	/* data written after an exclusive create is not lost to a late retransmission */
	ok = create_ok(x, &d, "x", "g", EXCLUSIVE, NULL, v2);
	fh_t g = wt_post_fh(&ok.obj);
	wt_write_ok(x->c, &g, 0, "data", 4, FILE_SYNC);
	struct timespec keep[2] = { { 0x01020304, 0 }, { 0x75060709, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, itest_path(&wt_env, "x/g"), keep, 0), 0);
	assert_nfsstat(create_fail(x, &d, "x", "g", EXCLUSIVE, NULL, v2), NFS3ERR_EXIST);
	assert_int_equal(wt_lstat(&wt_env, "x/g").st_size, 4);

	/* a file made locally with other times */
	wt_make_file(&wt_env, "x/local", "", 0, 0, 0644);
	assert_nfsstat(create_fail(x, &d, "x", "local", EXCLUSIVE, NULL, v1), NFS3ERR_EXIST);
	/* a directory of that name */
	wt_make_dir(&wt_env, "x/dir", 0, 0, 0755);
	assert_nfsstat(create_fail(x, &d, "x", "dir", EXCLUSIVE, NULL, v1), NFS3ERR_EXIST);
}

static void test_errors(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "err");
	wt_make_file(&wt_env, "err/file", "x", 0, 0, 0644);
	fh_t f = itc_lookup_ok(x->c, &d, "file");
	CREATE3res r;
	sattr3 sa = wt_sattr_mode(0644);
	ITC_CALL(x->c, wtc_create(x->c, &f, "a", UNCHECKED, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	/* names */
	assert_nfsstat(create_fail(x, &d, "err", "", UNCHECKED, &sa, NULL), NFS3ERR_ACCES);
	assert_nfsstat(create_fail(x, &d, "err", ".", UNCHECKED, &sa, NULL), NFS3ERR_EXIST);
	assert_nfsstat(create_fail(x, &d, "err", "..", GUARDED, &sa, NULL), NFS3ERR_EXIST);
	assert_nfsstat(create_fail(x, &d, "err", "a/b", UNCHECKED, &sa, NULL), NFS3ERR_ACCES);
	char n255[256], n256[257];
	memset(n255, 'n', 255);
	n255[255] = 0;
	memset(n256, 'n', 256);
	n256[256] = 0;
	assert_nfsstat(create_fail(x, &d, "err", n256, UNCHECKED, &sa, NULL), NFS3ERR_NAMETOOLONG);
	create_ok(x, &d, "err", n255, GUARDED, &sa, NULL);
	/* a directory removed behind the client's back */
	fh_t gone = wt_dir_fh(x, "err/gone");
	assert_int_equal(rmdir(itest_path(&wt_env, "err/gone")), 0);
	ITC_CALL(x->c, wtc_create(x->c, &gone, "a", UNCHECKED, &sa, NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_STALE);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("create", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_unchecked_new), T(test_unchecked_existing), T(test_symlink_not_followed),
		T(test_guarded),       T(test_create_sattr),	   T(test_exclusive),
		T(test_errors),
	};
	return cmocka_run_group_tests_name("write.create", tests, gsetup, wt_group_teardown);
}
