/*
 * test_handles.c - file handles served by loopnfsd:
 *  - at most 64 bytes;
 *  - valid while the object exists: across renames done directly in DIR,
 *    across a restart of loopnfsd (same --state-dir), both combined;
 *  - NFS3ERR_STALE once the object is gone (for every procedure), also
 *    when a new object reuses the name / inode;
 *  - never resolving to anything outside DIR, whatever bytes a client
 *    sends (bit flips, truncation, extension, random bytes, another key,
 *    objects moved out of DIR): NFS3ERR_BADHANDLE or NFS3ERR_STALE.
 */
#define _GNU_SOURCE
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
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
	if (itest_env_init(&g_env, "handles") != 0)
		return -1;
	int rc = 0;
	rc |= itest_write_file(itest_path(&g_env, "a"), "content-of-a", 12);
	rc |= mkdir(itest_path(&g_env, "d"), 0755);
	rc |= itest_write_file(itest_path(&g_env, "d/inner"), "inner", 5);
	rc |= symlink("a", itest_path(&g_env, "lnk"));
	rc |= mkdir(itest_path(&g_env, "list"), 0755);
	for (int i = 0; i < 600 && rc == 0; i++)
		rc |= itest_write_file(itest_sprintf("%s/list/e%04d", g_env.dir, i), "", 0);
	if (rc != 0)
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

struct ctx {
	itc_t *c;
	fh_t root;
};

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	x->c = itc_connect(g_srv.port);
	if (!x->c) {
		free(x);
		return -1;
	}
	x->root = itc_root(x->c, "/");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;
	if (x) {
		itc_close(x->c);
		free(x);
	}
	return itest_check_server_teardown(&g_srv);
}

static void reconnect(struct ctx *x)
{
	itc_close(x->c);
	x->c = itc_connect(g_srv.port);
	assert_non_null(x->c);
}

static int is_bad(int st)
{
	return st == NFS3ERR_BADHANDLE || st == NFS3ERR_STALE;
}

/* Every read-side procedure on fh must fail with BADHANDLE or STALE (or
 * exactly `want` if non-zero). */
static void expect_all_procs_fail(struct ctx *x, const fh_t *fh, int want, const char *what)
{
	int st[10];
	GETATTR3res ga;
	LOOKUP3res lk;
	ACCESS3res ac;
	READLINK3res rl;
	READ3res rd;
	READDIR3res rdd;
	READDIRPLUS3res rdp;
	FSSTAT3res fs;
	FSINFO3res fi;
	PATHCONF3res pc;
	static const char *names[] = { "GETATTR", "LOOKUP",	 "ACCESS", "READLINK", "READ",
				       "READDIR", "READDIRPLUS", "FSSTAT", "FSINFO",   "PATHCONF" };
	ITC_CALL(x->c, itc_getattr(x->c, fh, &ga));
	st[0] = ga.status;
	ITC_CALL(x->c, itc_lookup(x->c, fh, "x", &lk));
	st[1] = lk.status;
	ITC_CALL(x->c, itc_access(x->c, fh, ACCESS3_READ, &ac));
	st[2] = ac.status;
	ITC_CALL(x->c, itc_readlink(x->c, fh, &rl));
	st[3] = rl.status;
	ITC_CALL(x->c, itc_read(x->c, fh, 0, 100, &rd));
	st[4] = rd.status;
	ITC_CALL(x->c, itc_readdir(x->c, fh, 0, NULL, 8192, &rdd));
	st[5] = rdd.status;
	ITC_CALL(x->c, itc_readdirplus(x->c, fh, 0, NULL, 8192, 32768, &rdp));
	st[6] = rdp.status;
	ITC_CALL(x->c, itc_fsstat(x->c, fh, &fs));
	st[7] = fs.status;
	ITC_CALL(x->c, itc_fsinfo(x->c, fh, &fi));
	st[8] = fi.status;
	ITC_CALL(x->c, itc_pathconf(x->c, fh, &pc));
	st[9] = pc.status;
	for (int i = 0; i < 10; i++) {
		if (want ? st[i] != want : !is_bad(st[i]))
			fail_msg("%s: %s returned %s, expected %s", what, names[i],
				 itest_nfsstat_name(st[i]),
				 want ? itest_nfsstat_name(want)
				      : "NFS3ERR_BADHANDLE or NFS3ERR_STALE");
	}
}

static int getattr_status(struct ctx *x, const fh_t *fh, fattr3 *out)
{
	GETATTR3res r;
	if (itc_getattr(x->c, fh, &r) != 0)
		fail_msg("GETATTR RPC failed: %s", x->c->err);
	if (r.status == NFS3_OK && out)
		*out = r.GETATTR3res_u.resok.obj_attributes;
	return r.status;
}

/* ------------------------------------------------------------------ */
static void test_handle_sizes(void **state)
{
	struct ctx *x = *state;
	assert_true(x->root.len > 0 && x->root.len <= 64);
	const char *names[] = { "a", "d", "lnk", "list", "d/inner", "list/e0599" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fh_t h = itc_walk(x->c, &x->root, names[i]);
		if (h.len == 0 || h.len > 64)
			fail_msg("%s: handle length %u", names[i], h.len);
		/* handles for different objects differ */
		assert_false(itc_fh_equal(&h, &x->root));
	}
}

static void test_rename_keeps_handles(void **state)
{
	struct ctx *x = *state;
	/* a file renamed into another directory */
	assert_int_equal(itest_write_file(itest_path(&g_env, "ren_src"), "RENAME-ME", 9), 0);
	fh_t f = itc_lookup_ok(x->c, &x->root, "ren_src");
	fattr3 before = itc_attr_ok(x->c, &f);
	assert_int_equal(rename(itest_path(&g_env, "ren_src"), itest_path(&g_env, "d/ren_dst")), 0);
	fattr3 after;
	int st = getattr_status(x, &f, &after);
	if (st != NFS3_OK)
		fail_msg("GETATTR after rename of a file: %s", itest_nfsstat_name(st));
	assert_true(after.fileid == before.fileid);
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &f, 0, 100, &rd));
	assert_nfsstat(rd.status, NFS3_OK);
	assert_int_equal(rd.READ3res_u.resok.count, 9);
	assert_memory_equal(rd.READ3res_u.resok.data.data_val, "RENAME-ME", 9);

	/* a directory renamed (twice) keeps working as a directory handle */
	assert_int_equal(mkdir(itest_path(&g_env, "rdir"), 0755), 0);
	assert_int_equal(itest_write_file(itest_path(&g_env, "rdir/x"), "xx", 2), 0);
	fh_t dh = itc_lookup_ok(x->c, &x->root, "rdir");
	fh_t d = itc_lookup_ok(x->c, &x->root, "d");
	fattr3 da = itc_attr_ok(x->c, &d);
	assert_int_equal(rename(itest_path(&g_env, "rdir"), itest_path(&g_env, "d/rdir2")), 0);
	fh_t xh = itc_lookup_ok(x->c, &dh, "x");
	assert_int_equal(itc_attr_ok(x->c, &xh).size, 2);
	fh_t up = itc_lookup_ok(x->c, &dh, "..");
	if (itc_attr_ok(x->c, &up).fileid != da.fileid)
		fail_msg("\"..\" of a renamed directory is not its new parent");
	READDIR3res rdd;
	ITC_CALL(x->c, itc_readdir(x->c, &dh, 0, NULL, 8192, &rdd));
	assert_nfsstat(rdd.status, NFS3_OK);
	int found = 0;
	for (entry3 *e = rdd.READDIR3res_u.resok.reply.entries; e; e = e->nextentry)
		found += strcmp(e->name, "x") == 0;
	assert_int_equal(found, 1);
	assert_int_equal(rename(itest_path(&g_env, "d/rdir2"), itest_path(&g_env, "rdir3")), 0);
	xh = itc_lookup_ok(x->c, &dh, "x");
	up = itc_lookup_ok(x->c, &dh, "..");
	assert_true(itc_attr_ok(x->c, &up).fileid == itc_attr_ok(x->c, &x->root).fileid);

	/* the handle of the file inside the renamed directory is unaffected */
	assert_int_equal(itc_attr_ok(x->c, &xh).size, 2);
}

static void test_stale_after_delete(void **state)
{
	struct ctx *x = *state;
	assert_int_equal(itest_write_file(itest_path(&g_env, "gone_file"), "bye", 3), 0);
	assert_int_equal(mkdir(itest_path(&g_env, "gone_dir"), 0755), 0);
	assert_int_equal(symlink("target", itest_path(&g_env, "gone_link")), 0);
	fh_t f = itc_lookup_ok(x->c, &x->root, "gone_file");
	fh_t d = itc_lookup_ok(x->c, &x->root, "gone_dir");
	fh_t l = itc_lookup_ok(x->c, &x->root, "gone_link");
	/* make the server use them once (fills any cache) */
	itc_attr_ok(x->c, &f);
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &f, 0, 10, &rd));
	READDIR3res rdd;
	ITC_CALL(x->c, itc_readdir(x->c, &d, 0, NULL, 4096, &rdd));
	assert_nfsstat(rdd.status, NFS3_OK);

	assert_int_equal(unlink(itest_path(&g_env, "gone_file")), 0);
	assert_int_equal(rmdir(itest_path(&g_env, "gone_dir")), 0);
	assert_int_equal(unlink(itest_path(&g_env, "gone_link")), 0);
	expect_all_procs_fail(x, &f, NFS3ERR_STALE, "deleted file");
	expect_all_procs_fail(x, &d, NFS3ERR_STALE, "deleted directory");
	expect_all_procs_fail(x, &l, NFS3ERR_STALE, "deleted symlink");

	/* replaced by rename over it: the old object is gone */
	assert_int_equal(itest_write_file(itest_path(&g_env, "victim"), "old", 3), 0);
	assert_int_equal(itest_write_file(itest_path(&g_env, "newcomer"), "new!", 4), 0);
	fh_t v = itc_lookup_ok(x->c, &x->root, "victim");
	assert_int_equal(rename(itest_path(&g_env, "newcomer"), itest_path(&g_env, "victim")), 0);
	assert_nfsstat(getattr_status(x, &v, NULL), NFS3ERR_STALE);
	fh_t v2 = itc_lookup_ok(x->c, &x->root, "victim");
	assert_int_equal(itc_attr_ok(x->c, &v2).size, 4);
}

static void test_stale_when_inode_reused(void **state)
{
	struct ctx *x = *state;
	char *p = itest_path(&g_env, "reuse");
	int reused = 0;
	for (int i = 0; i < 30; i++) {
		assert_int_equal(itest_write_file(p, "first", 5), 0);
		struct stat s1, s2;
		assert_int_equal(stat(p, &s1), 0);
		fh_t old = itc_lookup_ok(x->c, &x->root, "reuse");
		assert_int_equal(unlink(p), 0);
		assert_int_equal(itest_write_file(p, "second!", 7), 0);
		assert_int_equal(stat(p, &s2), 0);
		reused += s1.st_ino == s2.st_ino;
		fattr3 a;
		int st = getattr_status(x, &old, &a);
		if (st == NFS3_OK)
			fail_msg("old handle of a deleted file resolves to its replacement (size "
				 "%llu, inode %s)",
				 (unsigned long long)a.size,
				 s1.st_ino == s2.st_ino ? "reused" : "new");
		assert_nfsstat(st, NFS3ERR_STALE);
		READ3res rd;
		ITC_CALL(x->c, itc_read(x->c, &old, 0, 100, &rd));
		assert_nfsstat(rd.status, NFS3ERR_STALE);
		fh_t cur = itc_lookup_ok(x->c, &x->root, "reuse");
		assert_int_equal(itc_attr_ok(x->c, &cur).size, 7);
		assert_int_equal(unlink(p), 0);
	}
	fprintf(stderr, "[ info     ] inode number reused in %d/30 rounds\n", reused);
}

/* A directory moved out of DIR must not be reachable through its old
 * handle: that would let a client browse a tree outside the export. */
static void test_dir_moved_outside_is_stale(void **state)
{
	struct ctx *x = *state;
	char *in_d = itest_path(&g_env, "escdir");
	char *out_d = itest_sprintf("%s/escdir-outside", g_env.base);
	assert_int_equal(mkdir(in_d, 0755), 0);
	assert_int_equal(mkdir(itest_sprintf("%s/nested", in_d), 0755), 0);
	assert_int_equal(itest_write_file(itest_sprintf("%s/inside", in_d), "i", 1), 0);
	fh_t d = itc_lookup_ok(x->c, &x->root, "escdir");
	fh_t n = itc_lookup_ok(x->c, &d, "nested");
	/* use them, so that any server-side cache holds them */
	itc_attr_ok(x->c, &d);
	itc_attr_ok(x->c, &n);
	READDIR3res rdd;
	ITC_CALL(x->c, itc_readdir(x->c, &d, 0, NULL, 4096, &rdd));
	assert_nfsstat(rdd.status, NFS3_OK);

	assert_int_equal(rename(in_d, out_d), 0);
	/* collect every leak, then report them together */
	char problems[2048] = "";
#define PROBLEM(...) \
	snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems), __VA_ARGS__)
	int st = getattr_status(x, &d, NULL);
	if (!is_bad(st))
		PROBLEM("\n  GETATTR(dir): %s", itest_nfsstat_name(st));
	LOOKUP3res lk;
	ITC_CALL(x->c, itc_lookup(x->c, &d, "inside", &lk));
	if (!is_bad(lk.status))
		PROBLEM("\n  LOOKUP(dir, \"inside\"): %s", itest_nfsstat_name(lk.status));
	ITC_CALL(x->c, itc_lookup(x->c, &d, "..", &lk));
	if (!is_bad(lk.status)) {
		PROBLEM("\n  LOOKUP(dir, \"..\"): %s", itest_nfsstat_name(lk.status));
		if (lk.status == NFS3_OK) {
			fh_t up = itc_fh(&lk.LOOKUP3res_u.resok.object);
			LOOKUP3res lk2;
			ITC_CALL(x->c, itc_lookup(x->c, &up, "state", &lk2));
			if (lk2.status == NFS3_OK)
				PROBLEM(" -> and from there LOOKUP(\"state\") reaches DIR's "
					"sibling (escape)");
		}
	}
	ITC_CALL(x->c, itc_readdir(x->c, &d, 0, NULL, 4096, &rdd));
	if (!is_bad(rdd.status))
		PROBLEM("\n  READDIR(dir): %s", itest_nfsstat_name(rdd.status));
	st = getattr_status(x, &n, NULL);
	if (!is_bad(st))
		PROBLEM("\n  GETATTR(dir/nested): %s", itest_nfsstat_name(st));
	ITC_CALL(x->c, itc_lookup(x->c, &n, "..", &lk));
	if (!is_bad(lk.status))
		PROBLEM("\n  LOOKUP(dir/nested, \"..\"): %s", itest_nfsstat_name(lk.status));
#undef PROBLEM
	if (problems[0]) {
		rename(out_d, in_d);
		fail_msg("a directory moved out of DIR is still served through its old handles "
			 "(want NFS3ERR_STALE):%s",
			 problems);
	}

	/* moved back: the directory exists in DIR again and the handle works */
	assert_int_equal(rename(out_d, in_d), 0);
	assert_nfsstat(getattr_status(x, &d, NULL), NFS3_OK);
	fh_t again = itc_lookup_ok(x->c, &d, "inside");
	assert_int_equal(itc_attr_ok(x->c, &again).size, 1);
}

/* A regular file moved out of DIR (and not linked inside any more). */
static void test_file_moved_outside_is_stale(void **state)
{
	struct ctx *x = *state;
	char *in_f = itest_path(&g_env, "escapee");
	char *out_f = itest_sprintf("%s/escapee-outside", g_env.base);
	assert_int_equal(itest_write_file(in_f, "secret", 6), 0);
	fh_t f = itc_lookup_ok(x->c, &x->root, "escapee");
	assert_int_equal(rename(in_f, out_f), 0);
	/* the file is now only reachable outside DIR */
	assert_int_equal(itest_write_file(out_f, "changed outside", 15), 0);
	fattr3 a;
	int st = getattr_status(x, &f, &a);
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &f, 0, 100, &rd));
	assert_int_equal(rename(out_f, in_f), 0);
	if (!is_bad(st))
		fail_msg("GETATTR on a file moved out of DIR: %s (size %llu), want STALE",
			 itest_nfsstat_name(st), (unsigned long long)a.size);
	if (!is_bad(rd.status))
		fail_msg("READ of a file moved out of DIR: %s (%u bytes), want STALE",
			 itest_nfsstat_name(rd.status),
			 rd.status == NFS3_OK ? rd.READ3res_u.resok.count : 0);
	/* back inside: valid again */
	assert_nfsstat(getattr_status(x, &f, &a), NFS3_OK);
	assert_int_equal(a.size, 15);
}

/*
 * Objects the server has served again and again (so it holds them proven
 * inside) and that then leave DIR: by a rename of the file, by a hard link
 * outside and the unlink of the inside name, and by a rename of the
 * directory above them. Each must be stale at once, without the client
 * looking anything up again.
 */
static void warm(struct ctx *x, const fh_t *fh)
{
	for (int i = 0; i < 3; i++)
		assert_nfsstat(getattr_status(x, fh, NULL), NFS3_OK);
}

static void test_served_objects_leaving_are_stale(void **state)
{
	struct ctx *x = *state;
	char problems[1024] = "";
#define PROBLEM(...) \
	snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems), __VA_ARGS__)
	/* 1. renamed out */
	char *in1 = itest_path(&g_env, "leave1"), *out1 = itest_sprintf("%s/leave1-out", g_env.base);
	assert_int_equal(itest_write_file(in1, "one", 3), 0);
	fh_t f1 = itc_lookup_ok(x->c, &x->root, "leave1");
	warm(x, &f1);
	assert_int_equal(rename(in1, out1), 0);
	int st = getattr_status(x, &f1, NULL);
	if (!is_bad(st))
		PROBLEM("\n  renamed out: GETATTR %s", itest_nfsstat_name(st));
	/* 2. linked outside, then unlinked inside */
	char *in2 = itest_path(&g_env, "leave2"), *out2 = itest_sprintf("%s/leave2-out", g_env.base);
	assert_int_equal(itest_write_file(in2, "two", 3), 0);
	fh_t f2 = itc_lookup_ok(x->c, &x->root, "leave2");
	warm(x, &f2);
	assert_int_equal(link(in2, out2), 0);
	warm(x, &f2); /* a second name outside changes nothing yet */
	assert_int_equal(unlink(in2), 0);
	st = getattr_status(x, &f2, NULL);
	if (!is_bad(st))
		PROBLEM("\n  linked out, unlinked in: GETATTR %s", itest_nfsstat_name(st));
	/* 3. the directory above moved out */
	char *ind = itest_path(&g_env, "leave3"), *outd = itest_sprintf("%s/leave3-out", g_env.base);
	assert_int_equal(mkdir(ind, 0755), 0);
	assert_int_equal(itest_write_file(itest_sprintf("%s/f", ind), "three", 5), 0);
	fh_t d3 = itc_lookup_ok(x->c, &x->root, "leave3");
	fh_t f3 = itc_lookup_ok(x->c, &d3, "f");
	warm(x, &f3);
	warm(x, &d3);
	assert_int_equal(rename(ind, outd), 0);
	st = getattr_status(x, &f3, NULL);
	if (!is_bad(st))
		PROBLEM("\n  parent renamed out: GETATTR(file) %s", itest_nfsstat_name(st));
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &f3, 0, 100, &rd));
	if (!is_bad(rd.status))
		PROBLEM("\n  parent renamed out: READ(file) %s", itest_nfsstat_name(rd.status));
#undef PROBLEM
	/* put everything back: served again */
	assert_int_equal(rename(out1, in1), 0);
	assert_int_equal(rename(outd, ind), 0);
	if (problems[0])
		fail_msg("objects that left DIR are still served through their old handles:%s",
			 problems);
	assert_nfsstat(getattr_status(x, &f1, NULL), NFS3_OK);
	assert_nfsstat(getattr_status(x, &f3, NULL), NFS3_OK);
}

/* --------------------------------------------------------------- forgery */
static void mutate_check(struct ctx *x, const fh_t *h, fh_t *m, const char *what, int i, int b)
{
	fattr3 a;
	int st = getattr_status(x, m, &a);
	if (st == NFS3_OK) {
		if (a.fileid == itc_attr_ok(x->c, h).fileid)
			return; /* an equivalent encoding of the same object is harmless */
		fail_msg("%s (byte %d bit %d, len %u): corrupted handle resolved to another object "
			 "(fileid %llu)",
			 what, i, b, m->len, (unsigned long long)a.fileid);
	}
	if (!is_bad(st))
		fail_msg("%s (byte %d bit %d, len %u): expected BADHANDLE/STALE, got %s", what, i,
			 b, m->len, itest_nfsstat_name(st));
}

static void test_bitflipped_handles_rejected(void **state)
{
	struct ctx *x = *state;
	fh_t targets[3];
	targets[0] = x->root;
	targets[1] = itc_lookup_ok(x->c, &x->root, "a");
	targets[2] = itc_walk(x->c, &x->root, "d/inner");
	int accepted_equiv = 0;
	for (int t = 0; t < 3; t++) {
		const fh_t *h = &targets[t];
		fattr3 orig = itc_attr_ok(x->c, h);
		for (uint32_t i = 0; i < h->len; i++) {
			for (int b = 0; b < 8; b++) {
				void *mark = itest_arena_mark();
				fh_t m = *h;
				m.data[i] ^= (unsigned char)(1u << b);
				fattr3 a;
				int st = getattr_status(x, &m, &a);
				if (st == NFS3_OK) {
					if (a.fileid != orig.fileid)
						fail_msg("target %d: flipping byte %u bit %d gives "
							 "another object (fileid %llu)",
							 t, i, b, (unsigned long long)a.fileid);
					accepted_equiv++;
				} else if (!is_bad(st)) {
					fail_msg("target %d: flipping byte %u bit %d: %s, want "
						 "BADHANDLE/STALE",
						 t, i, b, itest_nfsstat_name(st));
				}
				itest_arena_release(mark);
			}
		}
		/* truncated */
		for (uint32_t len = 0; len < h->len; len++) {
			fh_t m = *h;
			m.len = len;
			mutate_check(x, h, &m, "truncated", (int)len, -1);
		}
		/* extended */
		for (uint32_t len = h->len + 1; len <= 64; len++) {
			fh_t m = *h;
			m.len = len;
			memset(m.data + h->len, 0, 64 - h->len);
			mutate_check(x, h, &m, "extended", (int)len, -1);
		}
	}
	/* An authenticated handle accepts no bit flips at all. */
	if (accepted_equiv)
		fail_msg("%d single-bit-flipped handles were accepted (handles are not "
			 "authenticated)",
			 accepted_equiv);
}

static void test_random_handles_rejected(void **state)
{
	struct ctx *x = *state;
	uint64_t seed = 0x1234567;
	for (int n = 0; n < 1500; n++) {
		void *mark = itest_arena_mark();
		fh_t m;
		memset(&m, 0, sizeof(m));
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		m.len = (uint32_t)((seed >> 33) % 65);
		itest_pattern(m.data, m.len, (uint64_t)n * 64, (uint32_t)seed);
		if (n < 65) { /* structured: all-zero / all-ones of each length */
			m.len = (uint32_t)n;
			memset(m.data, (n & 1) ? 0xff : 0, m.len);
		}
		fattr3 a;
		int st = getattr_status(x, &m, &a);
		if (!is_bad(st))
			fail_msg("random handle #%d (len %u): %s, want BADHANDLE/STALE", n, m.len,
				 itest_nfsstat_name(st));
		itest_arena_release(mark);
	}
	/* every procedure rejects a corrupted and an empty handle */
	fh_t bad = itc_lookup_ok(x->c, &x->root, "d");
	bad.data[bad.len / 2] ^= 0x40;
	expect_all_procs_fail(x, &bad, 0, "corrupted directory handle");
	fh_t empty = { .len = 0 };
	expect_all_procs_fail(x, &empty, 0, "empty handle");
	fh_t zeros = { .len = 64 };
	expect_all_procs_fail(x, &zeros, 0, "64 zero bytes");
}

static void test_other_key_rejected(void **state)
{
	struct ctx *x = *state;
	fh_t a = itc_lookup_ok(x->c, &x->root, "a");
	/* a second server on the same DIR with a different state dir (key) */
	struct itest_env env2 = g_env;
	snprintf(env2.state, sizeof(env2.state), "%s/state-other", g_env.base);
	assert_int_equal(mkdir(env2.state, 0700), 0);
	struct itest_server s2;
	memset(&s2, 0, sizeof(s2));
	assert_int_equal(itest_server_start(&s2, &env2, NULL), 0);
	itc_t *c2 = itc_connect(s2.port);
	assert_non_null(c2);
	struct ctx x2 = { .c = c2 };
	x2.root = itc_root(c2, "/");
	int st1 = getattr_status(&x2, &x->root, NULL);
	int st2 = getattr_status(&x2, &a, NULL);
	/* and the other way round */
	fh_t a2 = itc_lookup_ok(c2, &x2.root, "a");
	int st3 = getattr_status(x, &a2, NULL);
	itc_close(c2);
	assert_int_equal(itest_server_stop(&s2), 0);
	if (!is_bad(st1) || !is_bad(st2) || !is_bad(st3))
		fail_msg("handles minted with another key: root %s, file %s, reverse %s (want "
			 "BADHANDLE/STALE)",
			 itest_nfsstat_name(st1), itest_nfsstat_name(st2), itest_nfsstat_name(st3));
}

/* --------------------------------------------------------------- restart */
static void test_restart_keeps_handles(void **state)
{
	struct ctx *x = *state;
	fh_t root = x->root;
	fattr3 root_a = itc_attr_ok(x->c, &root);
	fh_t a = itc_lookup_ok(x->c, &root, "a");
	fh_t d = itc_lookup_ok(x->c, &root, "d");
	fh_t l = itc_lookup_ok(x->c, &root, "lnk");
	fh_t inner = itc_walk(x->c, &root, "d/inner");
	fh_t list = itc_lookup_ok(x->c, &root, "list");
	assert_int_equal(itest_write_file(itest_path(&g_env, "moved_while_down"), "MWD", 3), 0);
	fh_t mwd = itc_lookup_ok(x->c, &root, "moved_while_down");
	fattr3 a_a = itc_attr_ok(x->c, &a), inner_a = itc_attr_ok(x->c, &inner),
	       mwd_a = itc_attr_ok(x->c, &mwd);

	/* first part of a listing */
	READDIR3res r;
	ITC_CALL(x->c, itc_readdir(x->c, &list, 0, NULL, 2048, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_false(r.READDIR3res_u.resok.reply.eof);
	char verf[8];
	memcpy(verf, r.READDIR3res_u.resok.cookieverf, 8);
	unsigned char seen[600] = { 0 };
	uint64_t cookie = 0;
	int dots = 0;
	for (entry3 *e = r.READDIR3res_u.resok.reply.entries; e; e = e->nextentry) {
		int idx;
		cookie = e->cookie;
		if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
			dots++;
			continue;
		}
		assert_int_equal(sscanf(e->name, "e%d", &idx), 1);
		seen[idx]++;
	}

	/* stop; rename while the server is down; start with the same state */
	itc_close(x->c);
	x->c = NULL;
	assert_int_equal(itest_server_stop(&g_srv), 0);
	assert_int_equal(
		rename(itest_path(&g_env, "moved_while_down"), itest_path(&g_env, "d/moved")), 0);
	assert_int_equal(itest_server_start(&g_srv, &g_env, NULL), 0);
	reconnect(x);

	fattr3 t;
	assert_nfsstat(getattr_status(x, &root, &t), NFS3_OK);
	assert_true(t.fileid == root_a.fileid && t.fsid == root_a.fsid);
	assert_nfsstat(getattr_status(x, &a, &t), NFS3_OK);
	assert_true(t.fileid == a_a.fileid && t.fsid == a_a.fsid);
	assert_nfsstat(getattr_status(x, &inner, &t), NFS3_OK);
	assert_true(t.fileid == inner_a.fileid);
	assert_nfsstat(getattr_status(x, &mwd, &t), NFS3_OK);
	assert_true(t.fileid == mwd_a.fileid);
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &a, 0, 100, &rd));
	assert_nfsstat(rd.status, NFS3_OK);
	assert_int_equal(rd.READ3res_u.resok.count, 12);
	assert_memory_equal(rd.READ3res_u.resok.data.data_val, "content-of-a", 12);
	ITC_CALL(x->c, itc_read(x->c, &mwd, 0, 100, &rd));
	assert_nfsstat(rd.status, NFS3_OK);
	assert_memory_equal(rd.READ3res_u.resok.data.data_val, "MWD", 3);
	READLINK3res rl;
	ITC_CALL(x->c, itc_readlink(x->c, &l, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, "a");
	fh_t moved = itc_lookup_ok(x->c, &d, "moved");
	assert_true(itc_attr_ok(x->c, &moved).fileid == mwd_a.fileid);

	/* continue the listing from the old cookie and verifier */
	int eof = 0, calls = 0;
	while (!eof) {
		void *mark = itest_arena_mark();
		ITC_CALL(x->c, itc_readdir(x->c, &list, cookie, verf, 2048, &r));
		if (r.status != NFS3_OK)
			fail_msg("READDIR continuing after restart (cookie %llu): %s",
				 (unsigned long long)cookie, itest_nfsstat_name(r.status));
		memcpy(verf, r.READDIR3res_u.resok.cookieverf, 8);
		for (entry3 *e = r.READDIR3res_u.resok.reply.entries; e; e = e->nextentry) {
			int idx;
			cookie = e->cookie;
			if (!strcmp(e->name, ".") || !strcmp(e->name, "..")) {
				dots++;
				continue;
			}
			assert_int_equal(sscanf(e->name, "e%d", &idx), 1);
			assert_true(idx >= 0 && idx < 600);
			if (seen[idx]++)
				fail_msg("e%04d listed twice across the restart", idx);
		}
		eof = r.READDIR3res_u.resok.reply.eof;
		itest_arena_release(mark);
		assert_true(++calls < 1000);
	}
	for (int i = 0; i < 600; i++)
		if (!seen[i])
			fail_msg("e%04d lost across the restart", i);
	assert_true(dots <= 2);

	/* a new MNT gives the same root object */
	fh_t r2 = itc_root(x->c, "/");
	assert_true(itc_attr_ok(x->c, &r2).fileid == root_a.fileid);
	x->root = r2;
}

static void test_restart_state_dir_created(void **state)
{
	(void)state;
	/* --state-dir that does not exist yet: created (or a clear error), and
     * handles still survive a restart with it. */
	struct itest_env env2 = g_env;
	snprintf(env2.state, sizeof(env2.state), "%s/fresh-state/sub", g_env.base);
	struct itest_server s2;
	memset(&s2, 0, sizeof(s2));
	if (itest_server_start(&s2, &env2, NULL) != 0) {
		/* refusing is acceptable if it says so; the message must exist */
		char *err = itest_slurp(s2.err_path);
		assert_true(strlen(err) > 0);
		return;
	}
	itc_t *c = itc_connect(s2.port);
	assert_non_null(c);
	fh_t root = itc_root(c, "/");
	fh_t a = itc_lookup_ok(c, &root, "a");
	itc_close(c);
	assert_int_equal(itest_server_restart(&s2, NULL), 0);
	c = itc_connect(s2.port);
	assert_non_null(c);
	struct ctx x2 = { .c = c, .root = root };
	fattr3 t;
	int st = getattr_status(&x2, &a, &t);
	itc_close(c);
	assert_int_equal(itest_server_stop(&s2), 0);
	assert_nfsstat(st, NFS3_OK);
	assert_int_equal(t.size, 12);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_handle_sizes),
		T(test_rename_keeps_handles),
		T(test_stale_after_delete),
		T(test_stale_when_inode_reused),
		T(test_dir_moved_outside_is_stale),
		T(test_file_moved_outside_is_stale),
		T(test_served_objects_leaving_are_stale),
		T(test_bitflipped_handles_rejected),
		T(test_random_handles_rejected),
		T(test_other_key_rejected),
		T(test_restart_keeps_handles),
		T(test_restart_state_dir_created),
	};
	return cmocka_run_group_tests_name("integration.handles", tests, group_setup,
					   group_teardown);
}
