/*
 * test_mount.c - MOUNT protocol v1 and v3 against loopnfsd via libnfs:
 * NULL, MNT (root handle, auth flavours, "/" and DIR's absolute path,
 * errors), DUMP, UMNT, UMNTALL, EXPORT.
 */
#define _GNU_SOURCE
#include "itest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "mount") != 0)
		return -1;
	if (mkdir(itest_path(&g_env, "sub"), 0755) != 0)
		return -1;
	if (itest_write_file(itest_path(&g_env, "file"), "x", 1) != 0)
		return -1;
	return itest_server_start(&g_srv, &g_env, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	int st = itest_server_stop(&g_srv);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static int setup(void **state)
{
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	itc_t *c = *state;
	if (c) {
		/* leave no mount entries behind for the next test */
		itc_umntall(c, 3);
		itc_close(c);
	}
	return itest_check_server_teardown(&g_srv);
}

static int dump_has(mountlist ml, const char *dir)
{
	int n = 0;
	for (; ml; ml = ml->ml_next)
		if (ml->ml_directory && strcmp(ml->ml_directory, dir) == 0)
			n++;
	return n;
}

static int dump_len(mountlist ml)
{
	int n = 0;
	for (; ml; ml = ml->ml_next)
		n++;
	return n;
}

/* ------------------------------------------------------------------ */
static void test_null_v1_v3(void **state)
{
	itc_t *c = *state;
	ITC_CALL(c, itc_mnt_null(c, 3));
	ITC_CALL(c, itc_mnt_null(c, 1));
}

static void test_mnt3_root(void **state)
{
	itc_t *c = *state;
	mountres3 m;
	ITC_CALL(c, itc_mnt3(c, "/", &m));
	assert_int_equal(m.fhs_status, MNT3_OK);
	mountres3_ok *ok = &m.mountres3_u.mountinfo;
	assert_true(ok->fhandle.fhandle3_len > 0);
	assert_true(ok->fhandle.fhandle3_len <= 64);
	/* AUTH_SYS (1) must be offered; every flavour listed must be one the
     * server accepts (AUTH_NONE=0 or AUTH_SYS=1). */
	int has_sys = 0;
	assert_true(ok->auth_flavors.auth_flavors_len >= 1);
	for (u_int i = 0; i < ok->auth_flavors.auth_flavors_len; i++) {
		int f = ok->auth_flavors.auth_flavors_val[i];
		if (f == 1)
			has_sys = 1;
		if (f != 0 && f != 1)
			fail_msg("MNT offers auth flavour %d which the server does not implement",
				 f);
	}
	assert_true(has_sys);

	/* The handle really is the export root. */
	fh_t root = itc_fh((nfs_fh3 *)&ok->fhandle);
	fattr3 a = itc_attr_ok(c, &root);
	assert_int_equal(a.type, NF3DIR);
	itest_check_attr_matches(&a, g_env.dir);
	/* and it contains what DIR contains */
	fh_t f = itc_lookup_ok(c, &root, "file");
	fattr3 fa = itc_attr_ok(c, &f);
	assert_int_equal(fa.type, NF3REG);
	assert_int_equal(fa.size, 1);
}

static void test_mnt3_by_absolute_path(void **state)
{
	itc_t *c = *state;
	fh_t r1 = itc_root(c, "/");
	fh_t r2 = itc_root(c, g_env.dir);
	fattr3 a1 = itc_attr_ok(c, &r1);
	fattr3 a2 = itc_attr_ok(c, &r2);
	assert_true(a1.fileid == a2.fileid);
	assert_true(a1.fsid == a2.fsid);
	assert_int_equal(a2.type, NF3DIR);
	/* A trailing slash names the same directory. */
	char *slash = itest_sprintf("%s/", g_env.dir);
	mountres3 m;
	ITC_CALL(c, itc_mnt3(c, slash, &m));
	if (m.fhs_status == MNT3_OK) {
		fh_t r3 = itc_fh((nfs_fh3 *)&m.mountres3_u.mountinfo.fhandle);
		fattr3 a3 = itc_attr_ok(c, &r3);
		assert_true(a3.fileid == a1.fileid);
	}
}

static void test_mnt3_errors(void **state)
{
	itc_t *c = *state;
	mountres3 m;
	/* Paths that are not the export must not be mounted. */
	const char *bad[] = { "/nonexistent", "/etc", "", g_env.base, "relative/path" };
	struct stat dst;
	assert_int_equal(stat(g_env.dir, &dst), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ITC_CALL(c, itc_mnt3(c, bad[i], &m));
		if (m.fhs_status == MNT3_OK && bad[i][0] == 0) {
			/* an empty path may be taken as the export root, nothing else */
			fh_t h = itc_fh((nfs_fh3 *)&m.mountres3_u.mountinfo.fhandle);
			fattr3 ra = itc_attr_ok(c, &h);
			itest_check_attr_matches(&ra, g_env.dir);
			continue;
		}
		if (m.fhs_status == MNT3_OK) {
			/* if the server mounted something, it must not be outside DIR */
			fh_t h = itc_fh((nfs_fh3 *)&m.mountres3_u.mountinfo.fhandle);
			fattr3 a = itc_attr_ok(c, &h);
			struct stat st;
			assert_int_equal(stat(g_env.dir, &st), 0);
			fail_msg("MNT(\"%s\") succeeded (fileid %llu, DIR inode %llu); expected an "
				 "error",
				 bad[i], (unsigned long long)a.fileid,
				 (unsigned long long)st.st_ino);
		}
		if (m.fhs_status != MNT3ERR_NOENT && m.fhs_status != MNT3ERR_ACCES &&
		    m.fhs_status != MNT3ERR_PERM && m.fhs_status != MNT3ERR_INVAL &&
		    m.fhs_status != MNT3ERR_NOTDIR)
			fail_msg("MNT(\"%s\"): unexpected mountstat3 %d", bad[i],
				 (int)m.fhs_status);
	}
	/* ../ tricks */
	char *esc = itest_sprintf("%s/..", g_env.dir);
	ITC_CALL(c, itc_mnt3(c, esc, &m));
	assert_int_not_equal(m.fhs_status, MNT3_OK);
	esc = itest_sprintf("/../..%s", g_env.base);
	ITC_CALL(c, itc_mnt3(c, esc, &m));
	assert_int_not_equal(m.fhs_status, MNT3_OK);
}

static void test_mnt1(void **state)
{
	itc_t *c = *state;
	/* MOUNT v1 MNT returns a 32-byte NFSv2 handle; NFSv2 itself is not
     * served, so the server may refuse.  Either way the reply must decode,
     * and a bad path is never OK. */
	mountres1 m;
	ITC_CALL(c, itc_mnt1(c, "/", &m));
	assert_true(m.fhs_status == MNT1_OK || m.fhs_status == MNT1ERR_ACCES ||
		    m.fhs_status == MNT1ERR_NOTSUPP || m.fhs_status == MNT1ERR_PERM);
	ITC_CALL(c, itc_mnt1(c, "/nonexistent", &m));
	assert_int_not_equal(m.fhs_status, MNT1_OK);
	/* the v1 procedures all answer */
	mountlist ml;
	ITC_CALL(c, itc_dump(c, 1, &ml));
	exports ex;
	ITC_CALL(c, itc_export(c, 1, &ex));
	assert_non_null(ex);
	ITC_CALL(c, itc_umnt(c, 1, "/"));
	ITC_CALL(c, itc_umntall(c, 1));
}

static void test_dump_umnt_umntall(void **state)
{
	itc_t *c = *state;
	mountlist ml;
	ITC_CALL(c, itc_umntall(c, 3));
	ITC_CALL(c, itc_dump(c, 3, &ml));
	assert_int_equal(dump_len(ml), 0);

	itc_root(c, "/");
	itc_root(c, g_env.dir);
	ITC_CALL(c, itc_dump(c, 3, &ml));
	assert_int_equal(dump_has(ml, "/"), 1);
	assert_int_equal(dump_has(ml, g_env.dir), 1);
	for (mountlist p = ml; p; p = p->ml_next) {
		assert_non_null(p->ml_hostname);
		assert_true(strlen(p->ml_hostname) > 0);
	}
	/* mounting the same path twice does not duplicate the entry */
	itc_root(c, "/");
	ITC_CALL(c, itc_dump(c, 3, &ml));
	assert_int_equal(dump_has(ml, "/"), 1);

	/* v1 DUMP sees the same list */
	mountlist ml1;
	ITC_CALL(c, itc_dump(c, 1, &ml1));
	assert_int_equal(dump_has(ml1, "/"), 1);
	assert_int_equal(dump_len(ml1), dump_len(ml));

	ITC_CALL(c, itc_umnt(c, 3, "/"));
	ITC_CALL(c, itc_dump(c, 3, &ml));
	assert_int_equal(dump_has(ml, "/"), 0);
	assert_int_equal(dump_has(ml, g_env.dir), 1);

	/* UMNT of something never mounted is harmless */
	ITC_CALL(c, itc_umnt(c, 3, "/never-mounted"));

	ITC_CALL(c, itc_umntall(c, 3));
	ITC_CALL(c, itc_dump(c, 3, &ml));
	assert_int_equal(dump_len(ml), 0);

	/* Handles stay valid after UMNT (NFS is stateless). */
	fh_t r = itc_root(c, "/");
	ITC_CALL(c, itc_umntall(c, 3));
	fattr3 a = itc_attr_ok(c, &r);
	assert_int_equal(a.type, NF3DIR);
}

static void test_export(void **state)
{
	itc_t *c = *state;
	for (int v = 1; v <= 3; v += 2) {
		exports ex;
		ITC_CALL(c, itc_export(c, v, &ex));
		assert_non_null(ex);
		int n = 0, found = 0;
		for (exports e = ex; e; e = e->ex_next) {
			n++;
			assert_non_null(e->ex_dir);
			if (strcmp(e->ex_dir, g_env.dir) == 0 || strcmp(e->ex_dir, "/") == 0)
				found++;
			else
				fail_msg("EXPORT v%d lists unexpected directory \"%s\"", v,
					 e->ex_dir);
		}
		assert_true(found >= 1);
		assert_true(n <= 2);
		/* every listed export can be mounted */
		for (exports e = ex; e; e = e->ex_next) {
			fh_t h = itc_root(c, e->ex_dir);
			fattr3 a = itc_attr_ok(c, &h);
			assert_int_equal(a.type, NF3DIR);
		}
	}
}

static void test_mnt_auth_none(void **state)
{
	itc_t *c = *state;
	itc_set_auth_none(c);
	fh_t r = itc_root(c, "/");
	/* AUTH_NONE is accepted for NFS calls too */
	fattr3 a = itc_attr_ok(c, &r);
	assert_int_equal(a.type, NF3DIR);
	fh_t f = itc_lookup_ok(c, &r, "file");
	a = itc_attr_ok(c, &f);
	assert_int_equal(a.size, 1);
}

static void test_mnt_subdirectory(void **state)
{
	itc_t *c = *state;
	/* Mounting a path below the export (DIR/sub) either works and gives
     * sub itself, or is refused; it must never give another directory. */
	mountres3 m;
	char *p = itest_sprintf("%s/sub", g_env.dir);
	ITC_CALL(c, itc_mnt3(c, p, &m));
	if (m.fhs_status == MNT3_OK) {
		fh_t h = itc_fh((nfs_fh3 *)&m.mountres3_u.mountinfo.fhandle);
		fattr3 a = itc_attr_ok(c, &h);
		struct stat st;
		assert_int_equal(stat(p, &st), 0);
		itest_check_attr_matches(&a, p);
	}
	/* a file is not a directory */
	p = itest_sprintf("%s/file", g_env.dir);
	ITC_CALL(c, itc_mnt3(c, p, &m));
	assert_int_not_equal(m.fhs_status, MNT3_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_v1_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt3_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt3_by_absolute_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt3_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_umnt_umntall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt_auth_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mnt_subdirectory, setup, teardown),
	};
	return cmocka_run_group_tests_name("integration.mount", tests, group_setup, group_teardown);
}
