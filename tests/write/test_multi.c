/*
 * Several DIRs under one synthesized root (loopnfsd DIR1 DIR2 ...): listing
 * "/", crossing into each export, distinct fsids, ".." at an export root,
 * mutations on the root refused, MNT by absolute path and by name, libnfs
 * URLs, handles kept across a restart with the DIR arguments reordered, a
 * removed DIR's handles STALE, and a start-up refused for two DIRs with
 * one basename.
 */
#include "wtest.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct itest_env env;
static struct itest_server srv;
static char dirs[3][600]; /* base/photos, base/docs, base/music */
static const char *names[3] = { "photos", "docs", "music" };

static int start_with(const char *const *list)
{
	return itest_server_start_dirs(&srv, &env, NULL, list);
}

static int group_setup(void **state)
{
	if (itest_env_init(&env, "multi") != 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s/%s", env.base, names[i]);
		if (mkdir(dirs[i], 0777) != 0)
			return -1;
		char *f = itest_sprintf("%s/hello-%s", dirs[i], names[i]);
		if (itest_write_file(f, names[i], strlen(names[i])) != 0)
			return -1;
	}
	const char *list[] = { dirs[0], dirs[1], dirs[2], NULL };
	return start_with(list);
}

static int group_teardown(void **state)
{
	int st = srv.pid > 0 ? itest_server_stop(&srv) : 0;
	itest_env_cleanup(&env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static itc_t *conn(void)
{
	itc_t *c = wt_connect_as(srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	return c;
}

/* READDIRPLUS of dir in one call (the root is small), as a list of entries. */
static entryplus3 *list_plus(itc_t *c, const fh_t *dir)
{
	READDIRPLUS3res res;
	char verf[NFS3_COOKIEVERFSIZE] = { 0 };
	ITC_CALL(c, itc_readdirplus(c, dir, 0, verf, 65536, 65536, &res));
	assert_nfsstat(res.status, NFS3_OK);
	assert_true(res.READDIRPLUS3res_u.resok.reply.eof);
	return res.READDIRPLUS3res_u.resok.reply.entries;
}

static void test_root_lists_each_export(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	fattr3 ra = itc_attr_ok(c, &root);
	assert_int_equal(ra.type, NF3DIR);
	assert_int_equal(ra.mode & 0777, 0555);
	int seen = 0;
	uint64_t fsids[3];
	for (entryplus3 *e = list_plus(c, &root); e; e = e->nextentry) {
		const char *n = e->name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
			assert_true(e->name_handle.handle_follows);
			fh_t h = itc_fh(&e->name_handle.post_op_fh3_u.handle);
			assert_true(itc_fh_equal(&h, &root));
			seen |= strcmp(n, ".") == 0 ? 8 : 16;
			continue;
		}
		int i = 0;
		while (i < 3 && strcmp(n, names[i]) != 0)
			i++;
		if (i == 3)
			fail_msg("unexpected entry %s in /", n);
		assert_false(seen & (1 << i));
		seen |= 1 << i;
		/* The entry's handle and attributes are the export root's own. */
		assert_true(e->name_handle.handle_follows && e->name_attributes.attributes_follow);
		fh_t h = itc_fh(&e->name_handle.post_op_fh3_u.handle);
		fh_t byabs = itc_root(c, dirs[i]);
		assert_true(itc_fh_equal(&h, &byabs));
		fattr3 *a = &e->name_attributes.post_op_attr_u.attributes;
		itest_check_attr_matches(a, dirs[i]);
		assert_true(e->fileid == a->fileid);
		fsids[i] = a->fsid;
		assert_true(a->fsid != ra.fsid);
	}
	assert_int_equal(seen, 31);
	assert_true(fsids[0] != fsids[1] && fsids[1] != fsids[2] && fsids[0] != fsids[2]);
	itc_close(c);
}

static void test_plain_readdir_of_root(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	/* A small budget forces several calls: cookies resume where the last stopped. */
	char verf[NFS3_COOKIEVERFSIZE] = { 0 };
	uint64_t cookie = 0;
	int count = 0, calls = 0;
	for (bool eof = false; !eof && calls < 20; calls++) {
		READDIR3res res;
		ITC_CALL(c, itc_readdir(c, &root, cookie, verf, 140, &res));
		assert_nfsstat(res.status, NFS3_OK);
		for (entry3 *e = res.READDIR3res_u.resok.reply.entries; e; e = e->nextentry) {
			count++;
			cookie = e->cookie;
		}
		eof = res.READDIR3res_u.resok.reply.eof;
	}
	assert_int_equal(count, 5);
	assert_true(calls > 1);
	READDIR3res bad;
	ITC_CALL(c, itc_readdir(c, &root, 999, verf, 4096, &bad));
	assert_nfsstat(bad.status, NFS3ERR_BAD_COOKIE);
	itc_close(c);
}

static void test_cross_and_dotdot(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	fattr3 ra = itc_attr_ok(c, &root);
	for (int i = 0; i < 3; i++) {
		fh_t ex = itc_lookup_ok(c, &root, names[i]);
		fattr3 ea = itc_attr_ok(c, &ex);
		assert_true(ea.fsid != ra.fsid);
		itest_check_attr_matches(&ea, dirs[i]);
		/* Into the export: its files, on the export's fsid. */
		char fname[64];
		snprintf(fname, sizeof(fname), "hello-%s", names[i]);
		fh_t f = itc_lookup_ok(c, &ex, fname);
		fattr3 fa = itc_attr_ok(c, &f);
		assert_true(fa.fsid == ea.fsid);
		char buf[32];
		wt_read_exact(c, &f, 0, buf, (uint32_t)strlen(names[i]));
		assert_memory_equal(buf, names[i], strlen(names[i]));
		/* ".." of an export root leads to the root, never the directory above it. */
		fh_t up = itc_lookup_ok(c, &ex, "..");
		assert_true(itc_fh_equal(&up, &root));
		/* and its listing's ".." entry says so too */
		for (entryplus3 *e = list_plus(c, &ex); e; e = e->nextentry) {
			if (strcmp(e->name, "..") != 0)
				continue;
			assert_true(e->fileid == ra.fileid);
			fh_t h = itc_fh(&e->name_handle.post_op_fh3_u.handle);
			assert_true(itc_fh_equal(&h, &root));
		}
	}
	fh_t dot = itc_lookup_ok(c, &root, ".");
	fh_t dotdot = itc_lookup_ok(c, &root, "..");
	assert_true(itc_fh_equal(&dot, &root) && itc_fh_equal(&dotdot, &root));
	assert_nfsstat(wt_lookup_status(c, &root, "nothere"), NFS3ERR_NOENT);
	itc_close(c);
}

static void test_root_refuses_mutations(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	fh_t ex = itc_lookup_ok(c, &root, names[0]);
	fh_t file = itc_lookup_ok(c, &ex, "hello-photos");
	sattr3 sa = wt_sattr_mode(0644);
	CREATE3res cr;
	ITC_CALL(c, wtc_create(c, &root, "new", GUARDED, &sa, NULL, &cr));
	assert_nfsstat(cr.status, NFS3ERR_ROFS);
	MKDIR3res mk;
	ITC_CALL(c, wtc_mkdir(c, &root, "newdir", &sa, &mk));
	assert_nfsstat(mk.status, NFS3ERR_ROFS);
	SYMLINK3res sl;
	ITC_CALL(c, wtc_symlink(c, &root, "ln", "photos", &sa, &sl));
	assert_nfsstat(sl.status, NFS3ERR_ROFS);
	MKNOD3res mn;
	ITC_CALL(c, wtc_mknod(c, &root, "fifo", NF3FIFO, &sa, 0, 0, &mn));
	assert_nfsstat(mn.status, NFS3ERR_ROFS);
	REMOVE3res rm;
	ITC_CALL(c, wtc_remove(c, &root, names[1], &rm));
	assert_nfsstat(rm.status, NFS3ERR_ROFS);
	RMDIR3res rd;
	ITC_CALL(c, wtc_rmdir(c, &root, names[1], &rd));
	assert_nfsstat(rd.status, NFS3ERR_ROFS);
	RENAME3res rn;
	ITC_CALL(c, wtc_rename(c, &root, names[1], &root, "renamed", &rn));
	assert_nfsstat(rn.status, NFS3ERR_ROFS);
	/* Into the root from an export: another filesystem. */
	ITC_CALL(c, wtc_rename(c, &ex, "hello-photos", &root, "moved", &rn));
	assert_nfsstat(rn.status, NFS3ERR_XDEV);
	LINK3res ln;
	ITC_CALL(c, wtc_link(c, &file, &root, "hard", &ln));
	assert_nfsstat(ln.status, NFS3ERR_XDEV);
	SETATTR3res st;
	ITC_CALL(c, wtc_setattr(c, &root, &sa, NULL, &st));
	assert_nfsstat(st.status, NFS3ERR_ROFS);
	WRITE3res wr;
	ITC_CALL(c, wtc_write(c, &root, 0, "x", 1, FILE_SYNC, &wr));
	assert_nfsstat(wr.status, NFS3ERR_ISDIR);
	COMMIT3res cm;
	ITC_CALL(c, wtc_commit(c, &root, 0, 0, &cm));
	assert_nfsstat(cm.status, NFS3ERR_ISDIR);
	READ3res rr;
	ITC_CALL(c, itc_read(c, &root, 0, 10, &rr));
	assert_nfsstat(rr.status, NFS3ERR_ISDIR);
	READLINK3res rl;
	ITC_CALL(c, itc_readlink(c, &root, &rl));
	assert_nfsstat(rl.status, NFS3ERR_INVAL);
	ACCESS3res ac;
	ITC_CALL(c, itc_access(c, &root, 0x3f, &ac));
	assert_nfsstat(ac.status, NFS3_OK);
	uint32_t got = ac.ACCESS3res_u.resok.access;
	assert_true(got & ACCESS3_READ);
	assert_true(got & ACCESS3_LOOKUP);
	assert_false(got & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE));
	FSSTAT3res fs;
	ITC_CALL(c, itc_fsstat(c, &root, &fs));
	assert_nfsstat(fs.status, NFS3_OK);
	FSINFO3res fi;
	ITC_CALL(c, itc_fsinfo(c, &root, &fi));
	assert_nfsstat(fi.status, NFS3_OK);
	assert_false(fi.FSINFO3res_u.resok.properties & FSF3_LINK);
	PATHCONF3res pc;
	ITC_CALL(c, itc_pathconf(c, &root, &pc));
	assert_nfsstat(pc.status, NFS3_OK);
	/* Nothing appeared anywhere. */
	struct stat sb;
	assert_int_equal(lstat(itest_sprintf("%s/new", env.base), &sb), -1);
	assert_int_equal(lstat(itest_sprintf("%s/hello-photos", dirs[0]), &sb), 0);
	itc_close(c);
}

static void test_mnt_by_path_and_name(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	for (int i = 0; i < 3; i++) {
		fh_t byabs = itc_root(c, dirs[i]);
		fh_t byname = itc_root(c, itest_sprintf("/%s", names[i]));
		fh_t bylookup = itc_lookup_ok(c, &root, names[i]);
		assert_true(itc_fh_equal(&byabs, &byname));
		assert_true(itc_fh_equal(&byabs, &bylookup));
	}
	/* A subdirectory by name, and what is not exported. */
	assert_int_equal(mkdir(itest_sprintf("%s/sub", dirs[1]), 0755), 0);
	fh_t sub = itc_root(c, "/docs/sub");
	fh_t docs = itc_root(c, "/docs");
	fh_t sub2 = itc_lookup_ok(c, &docs, "sub");
	assert_true(itc_fh_equal(&sub, &sub2));
	mountres3 mr;
	ITC_CALL(c, itc_mnt3(c, "/nothere", &mr));
	assert_int_equal(mr.fhs_status, MNT3ERR_NOENT);
	ITC_CALL(c, itc_mnt3(c, "/docs/../photos", &mr));
	assert_true(mr.fhs_status != MNT3_OK);
	/* EXPORT lists every DIR. */
	exports ex;
	ITC_CALL(c, itc_export(c, 3, &ex));
	int n = 0;
	for (exportnode *e = ex; e; e = e->ex_next) {
		bool known = false;
		for (int i = 0; i < 3; i++)
			known |= strcmp(e->ex_dir, dirs[i]) == 0;
		assert_true(known);
		n++;
	}
	assert_int_equal(n, 3);
	/* DUMP and UMNT work per path. */
	mountlist ml;
	ITC_CALL(c, itc_dump(c, 3, &ml));
	bool listed = false;
	for (mountbody *b = ml; b; b = b->ml_next)
		listed |= strcmp(b->ml_directory, "/docs") == 0;
	assert_true(listed);
	ITC_CALL(c, itc_umnt(c, 3, "/docs"));
	ITC_CALL(c, itc_dump(c, 3, &ml));
	for (mountbody *b = ml; b; b = b->ml_next)
		assert_true(strcmp(b->ml_directory, "/docs") != 0);
	itc_close(c);
}

/* nfs://HOST/photos/file as libnfs parses and mounts it. */
static void test_libnfs_url(void **state)
{
	struct nfs_context *nfs = nfs_init_context();
	assert_non_null(nfs);
	char *u = itest_sprintf("nfs://127.0.0.1/docs/hello-docs?nfsport=%d&mountport=%d&version=3",
				srv.port, srv.port);
	struct nfs_url *url = nfs_parse_url_full(nfs, u);
	if (!url)
		fail_msg("nfs_parse_url_full(%s): %s", u, nfs_get_error(nfs));
	if (nfs_mount(nfs, url->server, url->path) != 0)
		fail_msg("nfs_mount(%s): %s", url->path, nfs_get_error(nfs));
	struct nfsfh *fh;
	if (nfs_open(nfs, url->file, O_RDONLY, &fh) != 0)
		fail_msg("nfs_open(%s): %s", url->file, nfs_get_error(nfs));
	char buf[16] = { 0 };
	assert_int_equal(nfs_read(nfs, fh, 4, buf), 4);
	assert_memory_equal(buf, "docs", 4);
	nfs_close(nfs, fh);
	nfs_destroy_url(url);
	nfs_destroy_context(nfs);
}

/* Handles survive a restart with the DIRs reordered; a removed DIR's handles are STALE. */
static void test_restart_reordered_and_removed(void **state)
{
	itc_t *c = conn();
	fh_t root = itc_root(c, "/");
	fh_t ex[3], files[3];
	fattr3 fattr[3];
	for (int i = 0; i < 3; i++) {
		ex[i] = itc_root(c, dirs[i]);
		files[i] = itc_lookup_ok(c, &ex[i], itest_sprintf("hello-%s", names[i]));
		fattr[i] = itc_attr_ok(c, &ex[i]);
	}
	itc_close(c);

	assert_int_equal(itest_server_stop(&srv), 0);
	const char *reordered[] = { dirs[2], dirs[0], dirs[1], NULL };
	assert_int_equal(start_with(reordered), 0);
	c = conn();
	fh_t root2 = itc_root(c, "/");
	assert_true(itc_fh_equal(&root, &root2));
	for (int i = 0; i < 3; i++) {
		fattr3 a = itc_attr_ok(c, &ex[i]);
		assert_true(a.fsid == fattr[i].fsid); /* fsids do not follow argument order */
		assert_true(a.fileid == fattr[i].fileid);
		assert_nfsstat(wt_getattr_status(c, &files[i]), NFS3_OK);
	}
	itc_close(c);

	/* Without "music": its handles are STALE, the others' still work. */
	assert_int_equal(itest_server_stop(&srv), 0);
	const char *two[] = { dirs[1], dirs[0], NULL };
	assert_int_equal(start_with(two), 0);
	c = conn();
	assert_nfsstat(wt_getattr_status(c, &ex[2]), NFS3ERR_STALE);
	assert_nfsstat(wt_getattr_status(c, &files[2]), NFS3ERR_STALE);
	for (int i = 0; i < 2; i++) {
		assert_nfsstat(wt_getattr_status(c, &ex[i]), NFS3_OK);
		assert_nfsstat(wt_getattr_status(c, &files[i]), NFS3_OK);
	}
	fh_t r = itc_root(c, "/");
	int n = 0;
	for (entryplus3 *e = list_plus(c, &r); e; e = e->nextentry)
		n++;
	assert_int_equal(n, 4); /* ".", "..", docs, photos */
	itc_close(c);

	/* One DIR: "/" is that DIR itself again, and the old root handle is STALE. */
	assert_int_equal(itest_server_stop(&srv), 0);
	const char *one[] = { dirs[0], NULL };
	assert_int_equal(start_with(one), 0);
	c = conn();
	fh_t r1 = itc_root(c, "/");
	assert_true(itc_fh_equal(&r1, &ex[0]));
	assert_nfsstat(wt_getattr_status(c, &root), NFS3ERR_STALE);
	assert_nfsstat(wt_getattr_status(c, &files[0]), NFS3_OK);
	itc_close(c);

	assert_int_equal(itest_server_stop(&srv), 0);
	const char *all[] = { dirs[0], dirs[1], dirs[2], NULL };
	assert_int_equal(start_with(all), 0);
}

/* Two DIRs with one basename can't both show under "/": a clear start-up error naming both. */
static void test_same_basename_refused(void **state)
{
	char *a = itest_sprintf("%s/x", env.base);
	char *b = itest_sprintf("%s/x/photos", env.base);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	const char *args[] = { "--port", "0", "--no-rpcbind", "--state-dir", env.state, dirs[0],
			       b,	 NULL };
	char *out = itest_sprintf("%s/dup.out", env.base),
	     *err = itest_sprintf("%s/dup.err", env.base);
	pid_t pid = itest_spawn(args, out, err);
	assert_true(pid > 0);
	int st = itest_wait_exit(pid, ITEST_EXIT_TIMEOUT_MS);
	assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
	char *msg = itest_slurp(err);
	if (!strstr(msg, dirs[0]) || !strstr(msg, b))
		fail_msg("start-up error does not name both directories: %s", msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_lists_each_export),
		cmocka_unit_test(test_plain_readdir_of_root),
		cmocka_unit_test(test_cross_and_dotdot),
		cmocka_unit_test(test_root_refuses_mutations),
		cmocka_unit_test(test_mnt_by_path_and_name),
		cmocka_unit_test(test_libnfs_url),
		cmocka_unit_test(test_restart_reordered_and_removed),
		cmocka_unit_test(test_same_basename_refused),
	};
	return cmocka_run_group_tests_name("multi", tests, group_setup, group_teardown);
}
