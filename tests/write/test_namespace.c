/*
 * test_namespace.c - MKDIR, SYMLINK (target byte for byte), MKNOD (FIFO,
 * socket, devices), REMOVE, RMDIR (NOTEMPTY), RENAME (over a file, a
 * directory over an empty directory, across directories, into its own
 * subtree), LINK; wcc_data for every directory involved; handles of removed
 * or replaced objects going stale without the server keeping the files open;
 * name checks on every name a client sends (libnfs and raw RPC for names
 * containing NUL); a read-only export answering ROFS everywhere.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *P(const char *rel)
{
	return itest_path(&wt_env, rel);
}

static bool exists(const char *rel)
{
	struct stat st;
	return lstat(P(rel), &st) == 0;
}

/* ---------------------------------------------------------------- MKDIR */

static void test_mkdir(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "md");
	struct stat before = wt_lstat(&wt_env, "md");
	sattr3 sa = wt_sattr_mode(0750);
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1300000000;
	MKDIR3res r;
	ITC_CALL(x->c, wtc_mkdir(x->c, &d, "sub", &sa, &r));
	assert_nfsstat(r.status, NFS3_OK);
	MKDIR3resok *ok = &r.MKDIR3res_u.resok;
	wt_check_wcc(&ok->dir_wcc, &before, P("md"), "MKDIR dir_wcc");
	assert_true(ok->obj_attributes.attributes_follow);
	itest_check_attr_matches(&ok->obj_attributes.post_op_attr_u.attributes, P("md/sub"));
	struct stat st = wt_lstat(&wt_env, "md/sub");
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_mtim.tv_sec, 1300000000);
	assert_int_equal(wt_lstat(&wt_env, "md").st_nlink, before.st_nlink + 1);
	fh_t sub = wt_post_fh(&ok->obj);
	fh_t looked = itc_lookup_ok(x->c, &d, "sub");
	assert_true(itc_fh_equal(&sub, &looked));
	/* usable at once */
	wt_create_ok(x->c, &sub, "inner", 0644);
	assert_true(exists("md/sub/inner"));

	/* existing names */
	before = wt_lstat(&wt_env, "md");
	ITC_CALL(x->c, wtc_mkdir(x->c, &d, "sub", &sa, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	wt_check_wcc(&r.MKDIR3res_u.resfail.dir_wcc, &before, P("md"), "MKDIR resfail");
	wt_make_file(&wt_env, "md/file", "", 0, 0, 0644);
	ITC_CALL(x->c, wtc_mkdir(x->c, &d, "file", &sa, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	assert_int_equal(symlink("nowhere", P("md/dangling")), 0);
	ITC_CALL(x->c, wtc_mkdir(x->c, &d, "dangling", &sa, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	assert_false(exists("md/nowhere"));
	/* in a non-directory */
	fh_t f = itc_lookup_ok(x->c, &d, "file");
	ITC_CALL(x->c, wtc_mkdir(x->c, &f, "x", &sa, &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	/* default mode */
	sattr3 none = wt_sattr_none();
	ITC_CALL(x->c, wtc_mkdir(x->c, &d, "nomode", &none, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "md/nomode").st_mode & 07777, 0755);
}

/* ------------------------------------------------------------ raw RPC */

static void raw_fh(xbuf *b, const fh_t *fh)
{
	xb_opaque(b, fh->data, fh->len);
}

static void raw_sattr_none(xbuf *b)
{
	for (int i = 0; i < 6; i++)
		xb_u32(b, 0);
}

/* SYMLINK by hand: libnfs will not encode long targets. Returns the status. */
static int raw_symlink(const fh_t *dir, const char *name, const char *target, size_t len)
{
	static uint32_t xid = 0x6b000000;
	int fd = rr_tcp_connect(wt_srv.port, 0);
	assert_true(fd >= 0);
	xbuf m;
	xb_init(&m);
	wt_raw_hdr(&m, ++xid, 10, 0, 0);
	raw_fh(&m, dir);
	xb_opaque(&m, name, strlen(name));
	raw_sattr_none(&m);
	xb_opaque(&m, target, len);
	int st = wt_raw_call(fd, &m, xid);
	xb_free(&m);
	close(fd);
	return st;
}

/* -------------------------------------------------------------- SYMLINK */

static void symlink_ok(struct wt_ctx *x, const fh_t *d, const char *dirrel, const char *name,
		       const char *target)
{
	struct stat before = wt_lstat(&wt_env, dirrel);
	SYMLINK3res r;
	ITC_CALL(x->c, wtc_symlink(x->c, d, name, target, NULL, &r));
	if (r.status != NFS3_OK)
		fail_msg("SYMLINK %s -> %.40s...: %s", name, target, itest_nfsstat_name(r.status));
	SYMLINK3resok *ok = &r.SYMLINK3res_u.resok;
	char *rel = itest_sprintf("%s/%s", dirrel, name);
	wt_check_wcc(&ok->dir_wcc, &before, P(dirrel), "SYMLINK dir_wcc");
	itest_check_attr_matches(&ok->obj_attributes.post_op_attr_u.attributes, P(rel));
	assert_int_equal(ok->obj_attributes.post_op_attr_u.attributes.type, NF3LNK);
	/* stored byte for byte */
	char buf[8192];
	ssize_t n = readlink(P(rel), buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(target));
	assert_memory_equal(buf, target, (size_t)n);
	fh_t fh = wt_post_fh(&ok->obj);
	READLINK3res rl;
	ITC_CALL(x->c, itc_readlink(x->c, &fh, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, target);
}

static void test_symlink(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "sy");
	symlink_ok(x, &d, "sy", "rel", "../a/b");
	symlink_ok(x, &d, "sy", "abs", "/etc/passwd");
	symlink_ok(x, &d, "sy", "spaces", " lead and trail  ");
	symlink_ok(x, &d, "sy", "bytes", "\x01\x7f\xff\xfe\xc3\x28 not utf-8 \\ * ? :");
	symlink_ok(x, &d, "sy", "dots", "./../.././");
	symlink_ok(x, &d, "sy", "self", "self");
	char *longt = itest_alloc(4096);
	for (int i = 0; i < 4095; i++)
		longt[i] = i % 64 == 63 ? '/' : (char)('a' + i % 26);
	longt[4095] = 0;
	/* PATH_MAX - 1: the longest target Linux holds */
	assert_nfsstat(raw_symlink(&d, "long", longt, 4095), NFS3_OK);
	char buf[4200];
	assert_int_equal(readlink(P("sy/long"), buf, sizeof(buf)), 4095);
	assert_memory_equal(buf, longt, 4095);
	fh_t lf = itc_lookup_ok(x->c, &d, "long");
	READLINK3res rl;
	ITC_CALL(x->c, itc_readlink(x->c, &lf, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, longt);

	SYMLINK3res r;
	struct stat before = wt_lstat(&wt_env, "sy");
	ITC_CALL(x->c, wtc_symlink(x->c, &d, "empty", "", NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	wt_check_wcc(&r.SYMLINK3res_u.resfail.dir_wcc, &before, P("sy"), "SYMLINK resfail");
	ITC_CALL(x->c, wtc_symlink(x->c, &d, "rel", "x", NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	ITC_CALL(x->c, wtc_symlink(x->c, &d, ".", "x", NULL, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	char *toolong = itest_alloc(4200);
	memset(toolong, 'z', 4199);
	assert_nfsstat(raw_symlink(&d, "toolong", toolong, 4096), NFS3ERR_NAMETOOLONG);
	assert_nfsstat(raw_symlink(&d, "toolong", toolong, 4199), NFS3ERR_NAMETOOLONG);
	assert_false(exists("sy/toolong"));
	/* times on the link itself */
	sattr3 sa = wt_sattr_none();
	sa.mtime.set_it = SET_TO_CLIENT_TIME;
	sa.mtime.set_mtime_u.mtime.seconds = 1200000000;
	ITC_CALL(x->c, wtc_symlink(x->c, &d, "timed", "somewhere", &sa, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "sy/timed").st_mtim.tv_sec, 1200000000);
}

/* ---------------------------------------------------------------- MKNOD */

static void mknod_ok(struct wt_ctx *x, const fh_t *d, const char *name, ftype3 type, uint32_t maj,
		     uint32_t min, mode_t want_type)
{
	struct stat before = wt_lstat(&wt_env, "mn");
	sattr3 sa = wt_sattr_mode(0640);
	MKNOD3res r;
	ITC_CALL(x->c, wtc_mknod(x->c, d, name, type, &sa, maj, min, &r));
	if (r.status != NFS3_OK)
		fail_msg("MKNOD %s: %s", name, itest_nfsstat_name(r.status));
	char *rel = itest_sprintf("mn/%s", name);
	MKNOD3resok *ok = &r.MKNOD3res_u.resok;
	wt_check_wcc(&ok->dir_wcc, &before, P("mn"), "MKNOD dir_wcc");
	itest_check_attr_matches(&ok->obj_attributes.post_op_attr_u.attributes, P(rel));
	struct stat st = wt_lstat(&wt_env, rel);
	assert_int_equal(st.st_mode & S_IFMT, want_type);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (type == NF3CHR || type == NF3BLK) {
		assert_int_equal(major(st.st_rdev), maj);
		assert_int_equal(minor(st.st_rdev), min);
		assert_int_equal(ok->obj_attributes.post_op_attr_u.attributes.rdev.specdata1, maj);
		assert_int_equal(ok->obj_attributes.post_op_attr_u.attributes.rdev.specdata2, min);
	}
	fh_t fh = wt_post_fh(&ok->obj);
	assert_int_equal(itc_attr_ok(x->c, &fh).type, type);
}

static void test_mknod(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "mn");
	mknod_ok(x, &d, "fifo", NF3FIFO, 0, 0, S_IFIFO);
	mknod_ok(x, &d, "sock", NF3SOCK, 0, 0, S_IFSOCK);
	/* devices: whenever this machine lets root make them */
	bool can =
		mknod(itest_sprintf("%s/probe", wt_env.base), S_IFCHR | 0600, makedev(1, 3)) == 0;
	MKNOD3res r;
	sattr3 sa = wt_sattr_mode(0600);
	if (can) {
		mknod_ok(x, &d, "null", NF3CHR, 1, 3, S_IFCHR);
		mknod_ok(x, &d, "blk", NF3BLK, 7, 200, S_IFBLK);
		mknod_ok(x, &d, "bigdev", NF3CHR, 300, 70000, S_IFCHR);
	} else {
		ITC_CALL(x->c, wtc_mknod(x->c, &d, "null", NF3CHR, &sa, 1, 3, &r));
		assert_nfsstat(r.status, NFS3ERR_PERM);
	}
	/* types MKNOD does not make */
	static const ftype3 bad[] = { NF3REG, NF3DIR, NF3LNK };
	for (int i = 0; i < 3; i++) {
		struct stat before = wt_lstat(&wt_env, "mn");
		ITC_CALL(x->c, wtc_mknod(x->c, &d, "bad", bad[i], &sa, 0, 0, &r));
		assert_nfsstat(r.status, NFS3ERR_BADTYPE);
		wt_check_wcc(&r.MKNOD3res_u.resfail.dir_wcc, &before, P("mn"), "MKNOD resfail");
	}
	assert_false(exists("mn/bad"));
	ITC_CALL(x->c, wtc_mknod(x->c, &d, "fifo", NF3FIFO, &sa, 0, 0, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	ITC_CALL(x->c, wtc_mknod(x->c, &d, "..", NF3FIFO, &sa, 0, 0, &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
}

/* --------------------------------------------------------------- REMOVE */

static void test_remove(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "rm");
	fh_t f = wt_create_ok(x->c, &d, "f", 0644);
	wt_write_ok(x->c, &f, 0, "hello", 5, UNSTABLE); /* the server now holds it open */
	char b[5];
	wt_read_exact(x->c, &f, 0, b, 5);
	struct stat before = wt_lstat(&wt_env, "rm");
	REMOVE3res r;
	ITC_CALL(x->c, wtc_remove(x->c, &d, "f", &r));
	assert_nfsstat(r.status, NFS3_OK);
	wt_check_wcc(&r.REMOVE3res_u.resok.dir_wcc, &before, P("rm"), "REMOVE dir_wcc");
	assert_false(exists("rm/f"));
	assert_nfsstat(wt_getattr_status(x->c, &f), NFS3ERR_STALE);
	/* the open descriptor went with it: the space is freed */
	assert_int_equal(wt_deleted_fds(wt_srv.pid, wt_env.dir), 0);
	before = wt_lstat(&wt_env, "rm");
	ITC_CALL(x->c, wtc_remove(x->c, &d, "f", &r));
	assert_nfsstat(r.status, NFS3ERR_NOENT);
	wt_check_wcc(&r.REMOVE3res_u.resfail.dir_wcc, &before, P("rm"), "REMOVE resfail");

	/* one of two hard links: the file and its handle live on */
	fh_t h = wt_create_ok(x->c, &d, "h1", 0644);
	assert_int_equal(link(P("rm/h1"), P("rm/h2")), 0);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "h1", &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(itc_attr_ok(x->c, &h).nlink, 1);

	/* a symlink goes, not its target */
	wt_make_file(&wt_env, "rm/target", "t", 0, 0, 0644);
	assert_int_equal(symlink("target", P("rm/sl")), 0);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "sl", &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_false(exists("rm/sl"));
	assert_true(exists("rm/target"));
	assert_int_equal(mkfifo(P("rm/fifo"), 0644), 0);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "fifo", &r));
	assert_nfsstat(r.status, NFS3_OK);

	/* directories are RMDIR's */
	wt_make_dir(&wt_env, "rm/dir", 0, 0, 0755);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "dir", &r));
	assert_nfsstat(r.status, NFS3ERR_ISDIR);
	assert_true(exists("rm/dir"));
	/* "." and "..": ACCES, as knfsd */
	ITC_CALL(x->c, wtc_remove(x->c, &d, ".", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "..", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	ITC_CALL(x->c, wtc_remove(x->c, &d, "", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	ITC_CALL(x->c, wtc_remove(x->c, &x->root, "rm/target", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	assert_true(exists("rm/target"));
	fh_t t = itc_lookup_ok(x->c, &d, "target");
	ITC_CALL(x->c, wtc_remove(x->c, &t, "x", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
}

/* ---------------------------------------------------------------- RMDIR */

static void test_rmdir(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "rd");
	fh_t e = wt_mkdir_ok(x->c, &d, "empty", 0755);
	struct stat before = wt_lstat(&wt_env, "rd");
	RMDIR3res r;
	ITC_CALL(x->c, wtc_rmdir(x->c, &d, "empty", &r));
	assert_nfsstat(r.status, NFS3_OK);
	wt_check_wcc(&r.RMDIR3res_u.resok.dir_wcc, &before, P("rd"), "RMDIR dir_wcc");
	assert_false(exists("rd/empty"));
	assert_int_equal(wt_lstat(&wt_env, "rd").st_nlink, before.st_nlink - 1);
	assert_nfsstat(wt_getattr_status(x->c, &e), NFS3ERR_STALE);

	wt_make_dir(&wt_env, "rd/full", 0, 0, 0755);
	wt_make_file(&wt_env, "rd/full/x", "", 0, 0, 0644);
	before = wt_lstat(&wt_env, "rd");
	ITC_CALL(x->c, wtc_rmdir(x->c, &d, "full", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTEMPTY);
	wt_check_wcc(&r.RMDIR3res_u.resfail.dir_wcc, &before, P("rd"), "RMDIR resfail");
	assert_true(exists("rd/full/x"));
	wt_make_file(&wt_env, "rd/file", "", 0, 0, 0644);
	ITC_CALL(x->c, wtc_rmdir(x->c, &d, "file", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	assert_int_equal(symlink("full", P("rd/tofull")), 0);
	ITC_CALL(x->c, wtc_rmdir(x->c, &d, "tofull", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	assert_true(exists("rd/full"));
	ITC_CALL(x->c, wtc_rmdir(x->c, &d, "missing", &r));
	assert_nfsstat(r.status, NFS3ERR_NOENT);
	/* "." and "..": ACCES, as knfsd */
	fh_t full = itc_lookup_ok(x->c, &d, "full");
	ITC_CALL(x->c, wtc_rmdir(x->c, &full, ".", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	ITC_CALL(x->c, wtc_rmdir(x->c, &full, "..", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	assert_true(exists("rd/full"));
}

/* --------------------------------------------------------------- RENAME */

static void rename_ok(struct wt_ctx *x, const fh_t *fd_, const char *frel, const char *fname,
		      const fh_t *td, const char *trel, const char *tname)
{
	struct stat fb = wt_lstat(&wt_env, frel), tb = wt_lstat(&wt_env, trel);
	RENAME3res r;
	ITC_CALL(x->c, wtc_rename(x->c, fd_, fname, td, tname, &r));
	if (r.status != NFS3_OK)
		fail_msg("RENAME %s/%s -> %s/%s: %s", frel, fname, trel, tname,
			 itest_nfsstat_name(r.status));
	wt_check_wcc(&r.RENAME3res_u.resok.fromdir_wcc, &fb, P(frel), "RENAME fromdir_wcc");
	wt_check_wcc(&r.RENAME3res_u.resok.todir_wcc, &tb, P(trel), "RENAME todir_wcc");
}

static nfsstat3 rename_st(struct wt_ctx *x, const fh_t *fd_, const char *fname, const fh_t *td,
			  const char *tname)
{
	RENAME3res r;
	ITC_CALL(x->c, wtc_rename(x->c, fd_, fname, td, tname, &r));
	if (r.status != NFS3_OK) {
		assert_true(r.RENAME3res_u.resfail.fromdir_wcc.after.attributes_follow);
		assert_true(r.RENAME3res_u.resfail.todir_wcc.after.attributes_follow);
	}
	return r.status;
}

static void test_rename(void **state)
{
	struct wt_ctx *x = *state;
	fh_t a = wt_dir_fh(x, "rn");
	fh_t b = wt_dir_fh(x, "rn2");
	/* within a directory */
	fh_t f = wt_create_ok(x->c, &a, "f", 0644);
	wt_write_ok(x->c, &f, 0, "content", 7, FILE_SYNC);
	rename_ok(x, &a, "rn", "f", &a, "rn", "g");
	assert_false(exists("rn/f"));
	assert_int_equal(wt_lstat(&wt_env, "rn/g").st_size, 7);
	/* handles name objects, not paths: still valid */
	assert_int_equal(itc_attr_ok(x->c, &f).size, 7);
	/* across directories */
	rename_ok(x, &a, "rn", "g", &b, "rn2", "moved");
	assert_true(exists("rn2/moved"));
	fh_t m = itc_lookup_ok(x->c, &b, "moved");
	assert_true(itc_fh_equal(&m, &f));
	assert_nfsstat(wt_lookup_status(x->c, &a, "g"), NFS3ERR_NOENT);

	/* over an existing file, which the server had open */
	fh_t victim = wt_create_ok(x->c, &b, "victim", 0644);
	wt_write_ok(x->c, &victim, 0, "old", 3, UNSTABLE);
	rename_ok(x, &b, "rn2", "moved", &b, "rn2", "victim");
	assert_int_equal(wt_lstat(&wt_env, "rn2/victim").st_size, 7);
	assert_nfsstat(wt_getattr_status(x->c, &victim), NFS3ERR_STALE);
	assert_int_equal(wt_deleted_fds(wt_srv.pid, wt_env.dir), 0);
	/* a name to itself, and a hard link onto its twin: nothing happens */
	rename_ok(x, &b, "rn2", "victim", &b, "rn2", "victim");
	assert_int_equal(link(P("rn2/victim"), P("rn2/twin")), 0);
	rename_ok(x, &b, "rn2", "victim", &b, "rn2", "twin");
	assert_true(exists("rn2/victim") && exists("rn2/twin"));

	/* a directory over an empty directory, and not over a full one */
	wt_make_dir(&wt_env, "rn/d1", 0, 0, 0755);
	wt_make_file(&wt_env, "rn/d1/inside", "i", 0, 0, 0644);
	wt_make_dir(&wt_env, "rn2/empty", 0, 0, 0755);
	fh_t empty = itc_lookup_ok(x->c, &b, "empty");
	rename_ok(x, &a, "rn", "d1", &b, "rn2", "empty");
	assert_true(exists("rn2/empty/inside"));
	assert_nfsstat(wt_getattr_status(x->c, &empty), NFS3ERR_STALE);
	wt_make_dir(&wt_env, "rn/d2", 0, 0, 0755);
	nfsstat3 st = rename_st(x, &a, "d2", &b, "empty");
	assert_true(st == NFS3ERR_NOTEMPTY || st == NFS3ERR_EXIST);
	assert_true(exists("rn/d2"));
	/* type mismatches */
	assert_nfsstat(rename_st(x, &b, "victim", &a, "d2"), NFS3ERR_ISDIR);
	assert_nfsstat(rename_st(x, &a, "d2", &b, "victim"), NFS3ERR_NOTDIR);
	/* into its own subtree */
	wt_make_dir(&wt_env, "rn/top", 0, 0, 0755);
	wt_make_dir(&wt_env, "rn/top/mid", 0, 0, 0755);
	fh_t mid = itc_walk(x->c, &x->root, "rn/top/mid");
	assert_nfsstat(rename_st(x, &a, "top", &mid, "low"), NFS3ERR_INVAL);
	fh_t top = itc_lookup_ok(x->c, &a, "top");
	assert_nfsstat(rename_st(x, &a, "top", &top, "self"), NFS3ERR_INVAL);
	assert_true(exists("rn/top/mid"));
	/* an ancestor over a descendant's entry */
	nfsstat3 anc = rename_st(x, &top, "mid", &a, "rn");
	assert_true(anc == NFS3_OK || anc == NFS3ERR_NOTEMPTY || anc == NFS3ERR_EXIST ||
		    anc == NFS3ERR_INVAL);
	/* "." and "..": PERM, as knfsd */
	assert_nfsstat(rename_st(x, &a, ".", &b, "x"), NFS3ERR_PERM);
	assert_nfsstat(rename_st(x, &a, "d2", &b, ".."), NFS3ERR_PERM);
	assert_nfsstat(rename_st(x, &mid, "..", &b, "x"), NFS3ERR_PERM);
	/* other errors */
	assert_nfsstat(rename_st(x, &a, "missing", &b, "x"), NFS3ERR_NOENT);
	assert_nfsstat(rename_st(x, &a, "d2", &b, "a/b"), NFS3ERR_ACCES);
	assert_nfsstat(rename_st(x, &a, "", &b, "x"), NFS3ERR_ACCES);
	char n256[257];
	memset(n256, 'r', 256);
	n256[256] = 0;
	assert_nfsstat(rename_st(x, &a, "d2", &b, n256), NFS3ERR_NAMETOOLONG);
	fh_t file = itc_lookup_ok(x->c, &b, "victim");
	RENAME3res r;
	ITC_CALL(x->c, wtc_rename(x->c, &a, "d2", &file, "x", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	/* a symlink is renamed as itself */
	assert_int_equal(symlink("nowhere", P("rn/sl")), 0);
	rename_ok(x, &a, "rn", "sl", &b, "rn2", "sl2");
	assert_true(S_ISLNK(wt_lstat(&wt_env, "rn2/sl2").st_mode));
}

/* ----------------------------------------------------------------- LINK */

static void test_link(void **state)
{
	struct wt_ctx *x = *state;
	fh_t a = wt_dir_fh(x, "ln");
	fh_t b = wt_dir_fh(x, "ln2");
	fh_t f = wt_create_ok(x->c, &a, "f", 0644);
	struct stat before = wt_lstat(&wt_env, "ln2");
	LINK3res r;
	ITC_CALL(x->c, wtc_link(x->c, &f, &b, "g", &r));
	assert_nfsstat(r.status, NFS3_OK);
	wt_check_post(&r.LINK3res_u.resok.file_attributes, P("ln/f"), "LINK file_attributes");
	assert_int_equal(r.LINK3res_u.resok.file_attributes.post_op_attr_u.attributes.nlink, 2);
	wt_check_wcc(&r.LINK3res_u.resok.linkdir_wcc, &before, P("ln2"), "LINK linkdir_wcc");
	assert_int_equal(wt_lstat(&wt_env, "ln2/g").st_ino, wt_lstat(&wt_env, "ln/f").st_ino);
	fh_t g = itc_lookup_ok(x->c, &b, "g");
	assert_true(itc_fh_equal(&f, &g));
	/* a symlink is linked as itself, never followed */
	assert_int_equal(symlink("f", P("ln/sl")), 0);
	fh_t sl = itc_lookup_ok(x->c, &a, "sl");
	ITC_CALL(x->c, wtc_link(x->c, &sl, &a, "sl2", &r));
	assert_nfsstat(r.status, NFS3_OK);
	struct stat s2 = wt_lstat(&wt_env, "ln/sl2");
	assert_true(S_ISLNK(s2.st_mode));
	assert_int_equal(s2.st_ino, wt_lstat(&wt_env, "ln/sl").st_ino);
	/* errors */
	before = wt_lstat(&wt_env, "ln2");
	ITC_CALL(x->c, wtc_link(x->c, &f, &b, "g", &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	wt_check_wcc(&r.LINK3res_u.resfail.linkdir_wcc, &before, P("ln2"), "LINK resfail");
	assert_true(r.LINK3res_u.resfail.file_attributes.attributes_follow);
	ITC_CALL(x->c, wtc_link(x->c, &b, &a, "dirlink", &r));
	assert_nfsstat(r.status, NFS3ERR_ISDIR);
	ITC_CALL(x->c, wtc_link(x->c, &f, &a, ".", &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	ITC_CALL(x->c, wtc_link(x->c, &f, &a, "..", &r));
	assert_nfsstat(r.status, NFS3ERR_EXIST);
	ITC_CALL(x->c, wtc_link(x->c, &f, &a, "x/y", &r));
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	ITC_CALL(x->c, wtc_link(x->c, &f, &f, "x", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	/* a removed file cannot get a new name */
	fh_t gone = wt_create_ok(x->c, &a, "gone", 0644);
	assert_int_equal(unlink(P("ln/gone")), 0);
	ITC_CALL(x->c, wtc_link(x->c, &gone, &a, "back", &r));
	assert_nfsstat(r.status, NFS3ERR_STALE);
	assert_false(exists("ln/back"));
}

/* ------------------------------------------------- names via raw RPC */

static void test_names_with_nul(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "nul");
	wt_make_file(&wt_env, "nul/a", "", 0, 0, 0644);
	int fd = rr_tcp_connect(wt_srv.port, 0);
	assert_true(fd >= 0);
	static const char name[] = { 'a', '\0', 'b' };
	uint32_t xid = 0x5a000001;
	/* CREATE, MKDIR, REMOVE, RMDIR, SYMLINK name; SYMLINK target */
	for (int proc = 0; proc < 6; proc++) {
		xbuf m;
		xb_init(&m);
		static const uint32_t procs[] = { 8, 9, 12, 13, 10, 10 };
		wt_raw_hdr(&m, xid, procs[proc], 0, 0);
		raw_fh(&m, &d);
		xb_opaque(&m, proc == 5 ? "ok" : name, proc == 5 ? 2 : sizeof(name));
		switch (procs[proc]) {
		case 8:
			xb_u32(&m, UNCHECKED);
			raw_sattr_none(&m);
			break;
		case 9:
			raw_sattr_none(&m);
			break;
		case 10:
			raw_sattr_none(&m);
			xb_opaque(&m, proc == 5 ? name : "t", proc == 5 ? sizeof(name) : 1);
			break;
		default:
			break;
		}
		int st = wt_raw_call(fd, &m, xid);
		xb_free(&m);
		assert_nfsstat(st, proc == 5 ? NFS3ERR_INVAL : NFS3ERR_ACCES);
		xid++;
	}
	/* the name before the NUL was not touched */
	assert_true(exists("nul/a"));
	assert_false(exists("nul/ok"));
	close(fd);
}

/* ------------------------------------------- name checks, every proc */

enum nproc {
	N_CREATE,
	N_MKDIR,
	N_SYMLINK,
	N_MKNOD,
	N_REMOVE,
	N_RMDIR,
	N_RENAME_FROM,
	N_RENAME_TO,
	N_LINK,
	N_COUNT
};
static const char *const nproc_name[N_COUNT] = { "CREATE",	 "MKDIR",      "SYMLINK",
						 "MKNOD",	 "REMOVE",     "RMDIR",
						 "RENAME(from)", "RENAME(to)", "LINK" };

static nfsstat3 name_call(struct wt_ctx *x, enum nproc p, const fh_t *d, const fh_t *file,
			  const char *name)
{
	sattr3 sa = wt_sattr_mode(0644);
	switch (p) {
	case N_CREATE: {
		CREATE3res r;
		ITC_CALL(x->c, wtc_create(x->c, d, name, UNCHECKED, &sa, NULL, &r));
		return r.status;
	}
	case N_MKDIR: {
		MKDIR3res r;
		ITC_CALL(x->c, wtc_mkdir(x->c, d, name, &sa, &r));
		return r.status;
	}
	case N_SYMLINK: {
		SYMLINK3res r;
		ITC_CALL(x->c, wtc_symlink(x->c, d, name, "t", NULL, &r));
		return r.status;
	}
	case N_MKNOD: {
		MKNOD3res r;
		ITC_CALL(x->c, wtc_mknod(x->c, d, name, NF3FIFO, &sa, 0, 0, &r));
		return r.status;
	}
	case N_REMOVE: {
		REMOVE3res r;
		ITC_CALL(x->c, wtc_remove(x->c, d, name, &r));
		return r.status;
	}
	case N_RMDIR: {
		RMDIR3res r;
		ITC_CALL(x->c, wtc_rmdir(x->c, d, name, &r));
		return r.status;
	}
	case N_RENAME_FROM: {
		RENAME3res r;
		ITC_CALL(x->c, wtc_rename(x->c, d, name, d, "target", &r));
		return r.status;
	}
	case N_RENAME_TO: {
		RENAME3res r;
		ITC_CALL(x->c, wtc_rename(x->c, d, "src", d, name, &r));
		return r.status;
	}
	case N_LINK: {
		LINK3res r;
		ITC_CALL(x->c, wtc_link(x->c, file, d, name, &r));
		return r.status;
	}
	default:
		return NFS3ERR_SERVERFAULT;
	}
}

static void test_name_checks_all_procs(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "names");
	wt_make_file(&wt_env, "names/src", "s", 0, 0, 0644);
	fh_t file = itc_lookup_ok(x->c, &d, "src");
	char *n256 = itest_alloc(257), *n300 = itest_alloc(301);
	memset(n256, 'q', 256);
	memset(n300, 'q', 300);
	/* knfsd's answers for "." and "..", per procedure */
	static const nfsstat3 dots[N_COUNT] = { NFS3ERR_EXIST, NFS3ERR_EXIST, NFS3ERR_EXIST,
						NFS3ERR_EXIST, NFS3ERR_ACCES, NFS3ERR_ACCES,
						NFS3ERR_PERM,  NFS3ERR_PERM,  NFS3ERR_EXIST };
	for (int p = 0; p < N_COUNT; p++) {
		struct {
			const char *name;
			nfsstat3 want;
		} cases[] = {
			{ "", NFS3ERR_ACCES },
			{ "a/b", NFS3ERR_ACCES },
			{ "/", NFS3ERR_ACCES },
			{ "src/", NFS3ERR_ACCES },
			{ n256, NFS3ERR_NAMETOOLONG },
			{ n300, NFS3ERR_NAMETOOLONG },
			{ ".", dots[p] },
			{ "..", dots[p] },
		};
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct stat before = wt_lstat(&wt_env, "names");
			nfsstat3 got = name_call(x, (enum nproc)p, &d, &file, cases[i].name);
			if (got != cases[i].want)
				fail_msg("%s(\"%.20s%s\"): expected %s, got %s", nproc_name[p],
					 cases[i].name, strlen(cases[i].name) > 20 ? "..." : "",
					 itest_nfsstat_name(cases[i].want),
					 itest_nfsstat_name(got));
			/* nothing changed */
			struct stat after = wt_lstat(&wt_env, "names");
			assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
			assert_int_equal(after.st_nlink, before.st_nlink);
		}
	}
	assert_true(exists("names/src"));
	/* 255 bytes is fine everywhere it creates */
	char *n255 = itest_alloc(256);
	memset(n255, 'k', 255);
	assert_nfsstat(name_call(x, N_MKDIR, &d, &file, n255), NFS3_OK);
	assert_nfsstat(name_call(x, N_RMDIR, &d, &file, n255), NFS3_OK);
	assert_nfsstat(name_call(x, N_LINK, &d, &file, n255), NFS3_OK);
	assert_nfsstat(name_call(x, N_REMOVE, &d, &file, n255), NFS3_OK);
	assert_nfsstat(name_call(x, N_RENAME_TO, &d, &file, n255), NFS3_OK);
	assert_true(exists(itest_sprintf("names/%s", n255)));
}

/* -------------------------------------------------------- read-only */

static void test_readonly_export(void **state)
{
	struct wt_ctx *x = *state;
	(void)x;
	struct itest_env env;
	struct itest_server srv;
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(itest_env_init(&env, "ro"), 0);
	assert_int_equal(itest_write_file(itest_sprintf("%s/f", env.dir), "ro", 2), 0);
	assert_int_equal(mkdir(itest_sprintf("%s/d", env.dir), 0755), 0);
	const char *extra[] = { "--ro", NULL };
	assert_int_equal(itest_server_start(&srv, &env, extra), 0);
	itc_t *c = wt_connect_as(srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	fh_t root = itc_root(c, "/");
	fh_t f = itc_lookup_ok(c, &root, "f");
	fh_t d = itc_lookup_ok(c, &root, "d");
	sattr3 sa = wt_sattr_mode(0600);
	SETATTR3res s;
	ITC_CALL(c, wtc_setattr(c, &f, &sa, NULL, &s));
	assert_nfsstat(s.status, NFS3ERR_ROFS);
	WRITE3res w;
	ITC_CALL(c, wtc_write(c, &f, 0, "x", 1, FILE_SYNC, &w));
	assert_nfsstat(w.status, NFS3ERR_ROFS);
	CREATE3res cr;
	ITC_CALL(c, wtc_create(c, &root, "n", UNCHECKED, &sa, NULL, &cr));
	assert_nfsstat(cr.status, NFS3ERR_ROFS);
	ITC_CALL(c, wtc_create(c, &root, "n", EXCLUSIVE, NULL, "abcdefgh", &cr));
	assert_nfsstat(cr.status, NFS3ERR_ROFS);
	MKDIR3res md;
	ITC_CALL(c, wtc_mkdir(c, &root, "n", &sa, &md));
	assert_nfsstat(md.status, NFS3ERR_ROFS);
	SYMLINK3res sy;
	ITC_CALL(c, wtc_symlink(c, &root, "n", "t", NULL, &sy));
	assert_nfsstat(sy.status, NFS3ERR_ROFS);
	MKNOD3res mk;
	ITC_CALL(c, wtc_mknod(c, &root, "n", NF3FIFO, &sa, 0, 0, &mk));
	assert_nfsstat(mk.status, NFS3ERR_ROFS);
	REMOVE3res rm;
	ITC_CALL(c, wtc_remove(c, &root, "f", &rm));
	assert_nfsstat(rm.status, NFS3ERR_ROFS);
	RMDIR3res rd;
	ITC_CALL(c, wtc_rmdir(c, &root, "d", &rd));
	assert_nfsstat(rd.status, NFS3ERR_ROFS);
	RENAME3res rn;
	ITC_CALL(c, wtc_rename(c, &root, "f", &d, "f", &rn));
	assert_nfsstat(rn.status, NFS3ERR_ROFS);
	LINK3res ln;
	ITC_CALL(c, wtc_link(c, &f, &d, "l", &ln));
	assert_nfsstat(ln.status, NFS3ERR_ROFS);
	COMMIT3res cm;
	ITC_CALL(c, wtc_commit(c, &f, 0, 0, &cm));
	assert_nfsstat(cm.status, NFS3ERR_ROFS);
	/* ACCESS does not offer what the export refuses */
	ACCESS3res ac;
	ITC_CALL(c, itc_access(c, &f, ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND, &ac));
	assert_nfsstat(ac.status, NFS3_OK);
	assert_int_equal(ac.ACCESS3res_u.resok.access, ACCESS3_READ);
	itc_close(c);
	struct stat st;
	assert_int_equal(stat(itest_sprintf("%s/f", env.dir), &st), 0);
	assert_int_equal(st.st_size, 2);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(itest_server_stop(&srv), 0);
	itest_env_cleanup(&env);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("namespace", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_mkdir),
		T(test_symlink),
		T(test_mknod),
		T(test_remove),
		T(test_rmdir),
		T(test_rename),
		T(test_link),
		T(test_names_with_nul),
		T(test_name_checks_all_procs),
		T(test_readonly_export),
	};
	return cmocka_run_group_tests_name("write.namespace", tests, gsetup, wt_group_teardown);
}
