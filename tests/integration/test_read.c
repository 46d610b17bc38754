/*
 * test_read.c - NFSv3 read-side procedures against loopnfsd via libnfs:
 * NULL, GETATTR, LOOKUP, ACCESS, READLINK, READ, FSSTAT, FSINFO, PATHCONF;
 * post-op attributes, nanosecond times, stable fsid/fileid, "." / "..",
 * symlinks (incl. ones pointing outside DIR) never followed, a >4 GiB
 * sparse file, rtmax-sized reads and count clamping.
 */
#define _GNU_SOURCE
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;

#define HELLO_SIZE 10000u
#define BIG_SIZE ((3u << 20) + 12345u)
#define SPARSE_SIZE ((5ull << 30) + 4096ull)
#define FOUR_G (1ull << 32)
#define OTHER_UID 54321u
#define OTHER_GID 54321u

static char g_long_target[4001];

static int mkfile_pattern(const char *rel, size_t size, uint32_t seed)
{
	unsigned char *b = malloc(size ? size : 1);
	itest_pattern(b, size, 0, seed);
	int rc = itest_write_file(itest_path(&g_env, rel), b, size);
	free(b);
	return rc;
}

static int set_times(const char *rel, time_t as, long ans, time_t ms, long mns)
{
	struct timespec ts[2] = { { as, ans }, { ms, mns } };
	return utimensat(AT_FDCWD, itest_path(&g_env, rel), ts, AT_SYMLINK_NOFOLLOW);
}

static int pwrite_str(int fd, const char *s, uint64_t off)
{
	return pwrite(fd, s, strlen(s), (off_t)off) == (ssize_t)strlen(s) ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "read") != 0)
		return -1;
	int rc = 0;
	rc |= mkfile_pattern("hello.txt", HELLO_SIZE, 1);
	rc |= mkfile_pattern("big.bin", BIG_SIZE, 2);
	rc |= mkfile_pattern("empty", 0, 0);
	rc |= mkdir(itest_path(&g_env, "sub"), 0755);
	rc |= mkdir(itest_path(&g_env, "sub/deeper"), 0755);
	rc |= itest_write_file(itest_path(&g_env, "sub/inner.txt"), "inner\n", 6);
	rc |= symlink("hello.txt", itest_path(&g_env, "link_rel"));
	rc |= symlink("/etc/passwd", itest_path(&g_env, "link_out"));
	rc |= symlink("/etc", itest_path(&g_env, "link_dir_out"));
	rc |= symlink("sub", itest_path(&g_env, "link_sub"));
	rc |= symlink("../../../../../../etc/passwd", itest_path(&g_env, "link_dotdot"));
	memset(g_long_target, 'T', 4000);
	g_long_target[0] = '/';
	for (int i = 100; i < 4000; i += 100)
		g_long_target[i] = '/';
	g_long_target[4000] = 0;
	rc |= symlink(g_long_target, itest_path(&g_env, "link_long"));
	rc |= mkfifo(itest_path(&g_env, "fifo"), 0644);
	rc |= link(itest_path(&g_env, "hello.txt"), itest_path(&g_env, "hello.hardlink"));
	/* permissions for ACCESS */
	rc |= mkfile_pattern("noread", 100, 3);
	rc |= chmod(itest_path(&g_env, "noread"), 0600);
	rc |= mkfile_pattern("exec", 100, 4);
	rc |= chmod(itest_path(&g_env, "exec"), 0755);
	rc |= mkfile_pattern("owned", 100, 5);
	rc |= chmod(itest_path(&g_env, "owned"), 0600);
	rc |= chown(itest_path(&g_env, "owned"), OTHER_UID, OTHER_GID);
	rc |= mkdir(itest_path(&g_env, "privdir"), 0700);
	rc |= itest_write_file(itest_path(&g_env, "privdir/secret"), "s", 1);
	/* >4 GiB sparse file with markers around the 4 GiB boundary */
	int fd = open(itest_path(&g_env, "sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	rc |= ftruncate(fd, (off_t)SPARSE_SIZE);
	rc |= pwrite_str(fd, "ABCDEFGH", FOUR_G - 4);
	rc |= pwrite_str(fd, "middle", FOUR_G + (1u << 20) + 3);
	rc |= pwrite_str(fd, "THE-END-OF-FILE!", SPARSE_SIZE - 16);
	rc |= close(fd);
	/* nanosecond times (set last: the symlink/link calls above change ctimes) */
	rc |= set_times("hello.txt", 1600000000, 123456789, 1600000100, 987654321);
	rc |= set_times("link_out", 1500000000, 111111111, 1500000001, 222222222);
	rc |= set_times("sub", 1400000000, 1, 1400000002, 999999999);
	if (rc != 0) {
		fprintf(stderr, "fixture setup failed\n");
		return -1;
	}
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

static void assert_post_op(const post_op_attr *p, const char *what)
{
	if (!p->attributes_follow)
		fail_msg("%s: post-op attributes missing", what);
}

/* ------------------------------------------------------------------ */
static void test_null(void **state)
{
	struct ctx *x = *state;
	ITC_CALL(x->c, itc_nfs_null(x->c));
}

static void test_getattr_root_and_file(void **state)
{
	struct ctx *x = *state;
	fattr3 a = itc_attr_ok(x->c, &x->root);
	assert_int_equal(a.type, NF3DIR);
	itest_check_attr_matches(&a, g_env.dir);

	fh_t h = itc_lookup_ok(x->c, &x->root, "hello.txt");
	a = itc_attr_ok(x->c, &h);
	assert_int_equal(a.type, NF3REG);
	assert_int_equal(a.size, HELLO_SIZE);
	/* nanosecond times survive the trip */
	assert_int_equal(a.mtime.seconds, 1600000100u);
	assert_int_equal(a.mtime.nseconds, 987654321u);
	assert_int_equal(a.atime.seconds, 1600000000u);
	assert_int_equal(a.atime.nseconds, 123456789u);
	itest_check_attr_matches(&a, itest_path(&g_env, "hello.txt"));

	h = itc_lookup_ok(x->c, &x->root, "sub");
	a = itc_attr_ok(x->c, &h);
	assert_int_equal(a.mtime.nseconds, 999999999u);
	itest_check_attr_matches(&a, itest_path(&g_env, "sub"));
}

static void test_getattr_types(void **state)
{
	struct ctx *x = *state;
	struct {
		const char *name;
		int type;
	} cases[] = {
		{ "link_out", NF3LNK }, { "link_rel", NF3LNK }, { "fifo", NF3FIFO },
		{ "empty", NF3REG },	{ "sub", NF3DIR },	{ "link_dir_out", NF3LNK },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fh_t h = itc_lookup_ok(x->c, &x->root, cases[i].name);
		fattr3 a = itc_attr_ok(x->c, &h);
		if ((int)a.type != cases[i].type)
			fail_msg("%s: type %d, want %d", cases[i].name, (int)a.type, cases[i].type);
		itest_check_attr_matches(&a, itest_path(&g_env, cases[i].name));
	}
	fh_t h = itc_lookup_ok(x->c, &x->root, "link_out");
	fattr3 a = itc_attr_ok(x->c, &h);
	assert_int_equal(a.size, strlen("/etc/passwd"));
	assert_int_equal(a.mtime.nseconds, 222222222u);

	/* device node (needs CAP_MKNOD; skipped silently without it) */
	if (mknod(itest_path(&g_env, "chardev"), S_IFCHR | 0600, makedev(1, 3)) == 0) {
		h = itc_lookup_ok(x->c, &x->root, "chardev");
		a = itc_attr_ok(x->c, &h);
		assert_int_equal(a.type, NF3CHR);
		assert_int_equal(a.rdev.specdata1, 1);
		assert_int_equal(a.rdev.specdata2, 3);
		unlink(itest_path(&g_env, "chardev"));
	}
}

static void test_fsid_fileid_stable(void **state)
{
	struct ctx *x = *state;
	const char *names[] = {
		"hello.txt", "big.bin", "empty", "sub", "link_out", "fifo", "sparse"
	};
	enum {
		N = sizeof(names) / sizeof(names[0])
	};
	fattr3 root = itc_attr_ok(x->c, &x->root);
	uint64_t ids[N];
	for (int i = 0; i < N; i++) {
		fh_t h = itc_lookup_ok(x->c, &x->root, names[i]);
		fattr3 a = itc_attr_ok(x->c, &h);
		assert_true(a.fsid == root.fsid);
		ids[i] = a.fileid;
		assert_true(a.fileid != root.fileid);
		/* same object again: same fileid */
		fh_t h2 = itc_lookup_ok(x->c, &x->root, names[i]);
		fattr3 b = itc_attr_ok(x->c, &h2);
		assert_true(b.fileid == a.fileid);
		assert_true(b.fsid == a.fsid);
		for (int j = 0; j < i; j++)
			if (ids[j] == ids[i])
				fail_msg("%s and %s share fileid %llu", names[i], names[j],
					 (unsigned long long)ids[i]);
	}
	/* hard links: one object, one fileid, nlink 2 */
	fh_t a1 = itc_lookup_ok(x->c, &x->root, "hello.txt");
	fh_t a2 = itc_lookup_ok(x->c, &x->root, "hello.hardlink");
	fattr3 f1 = itc_attr_ok(x->c, &a1), f2 = itc_attr_ok(x->c, &a2);
	assert_true(f1.fileid == f2.fileid);
	assert_int_equal(f1.nlink, 2);
	/* a fresh connection sees the same ids */
	itc_t *c2 = itc_connect(g_srv.port);
	assert_non_null(c2);
	fh_t r2 = itc_root(c2, "/");
	fattr3 rr = itc_attr_ok(c2, &r2);
	assert_true(rr.fileid == root.fileid && rr.fsid == root.fsid);
	itc_close(c2);
}

static void test_lookup_attrs(void **state)
{
	struct ctx *x = *state;
	LOOKUP3res r;
	ITC_CALL(x->c, itc_lookup(x->c, &x->root, "hello.txt", &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_post_op(&r.LOOKUP3res_u.resok.obj_attributes, "LOOKUP obj_attributes");
	assert_post_op(&r.LOOKUP3res_u.resok.dir_attributes, "LOOKUP dir_attributes");
	itest_check_attr_matches(&r.LOOKUP3res_u.resok.obj_attributes.post_op_attr_u.attributes,
				 itest_path(&g_env, "hello.txt"));
	itest_check_attr_matches(&r.LOOKUP3res_u.resok.dir_attributes.post_op_attr_u.attributes,
				 g_env.dir);
	assert_true(r.LOOKUP3res_u.resok.object.data.data_len <= 64);

	/* nested */
	fh_t inner = itc_walk(x->c, &x->root, "sub/inner.txt");
	fattr3 a = itc_attr_ok(x->c, &inner);
	assert_int_equal(a.size, 6);
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &inner, 0, 100, &rd));
	assert_nfsstat(rd.status, NFS3_OK);
	assert_int_equal(rd.READ3res_u.resok.count, 6);
	assert_memory_equal(rd.READ3res_u.resok.data.data_val, "inner\n", 6);
}

static void test_lookup_dot_dotdot(void **state)
{
	struct ctx *x = *state;
	fattr3 root = itc_attr_ok(x->c, &x->root);
	fh_t sub = itc_lookup_ok(x->c, &x->root, "sub");
	fattr3 suba = itc_attr_ok(x->c, &sub);
	fh_t deeper = itc_lookup_ok(x->c, &sub, "deeper");

	/* export root: "." and ".." are the root itself */
	fh_t h = itc_lookup_ok(x->c, &x->root, ".");
	assert_true(itc_attr_ok(x->c, &h).fileid == root.fileid);
	h = itc_lookup_ok(x->c, &x->root, "..");
	fattr3 up = itc_attr_ok(x->c, &h);
	if (up.fileid != root.fileid)
		fail_msg("LOOKUP(root, \"..\") escaped the export: fileid %llu, root %llu",
			 (unsigned long long)up.fileid, (unsigned long long)root.fileid);
	/* and stays there: ../.. and a lookup of a name that only exists above */
	fh_t h2 = itc_lookup_ok(x->c, &h, "..");
	assert_true(itc_attr_ok(x->c, &h2).fileid == root.fileid);
	LOOKUP3res r;
	ITC_CALL(x->c, itc_lookup(x->c, &h2, "state", &r)); /* base/state is DIR's sibling */
	assert_nfsstat(r.status, NFS3ERR_NOENT);
	fh_t again = itc_lookup_ok(x->c, &h2, "hello.txt");
	assert_int_equal(itc_attr_ok(x->c, &again).size, HELLO_SIZE);

	/* sub: "." is sub, ".." is root */
	h = itc_lookup_ok(x->c, &sub, ".");
	assert_true(itc_attr_ok(x->c, &h).fileid == suba.fileid);
	h = itc_lookup_ok(x->c, &sub, "..");
	assert_true(itc_attr_ok(x->c, &h).fileid == root.fileid);
	/* deeper: ".." is sub */
	h = itc_lookup_ok(x->c, &deeper, "..");
	assert_true(itc_attr_ok(x->c, &h).fileid == suba.fileid);
	h = itc_lookup_ok(x->c, &h, "..");
	assert_true(itc_attr_ok(x->c, &h).fileid == root.fileid);
}

static void test_lookup_errors(void **state)
{
	struct ctx *x = *state;
	LOOKUP3res r;
	ITC_CALL(x->c, itc_lookup(x->c, &x->root, "does-not-exist", &r));
	assert_nfsstat(r.status, NFS3ERR_NOENT);
	assert_post_op(&r.LOOKUP3res_u.resfail.dir_attributes, "LOOKUP NOENT dir_attributes");
	itest_check_attr_matches(&r.LOOKUP3res_u.resfail.dir_attributes.post_op_attr_u.attributes,
				 g_env.dir);

	fh_t file = itc_lookup_ok(x->c, &x->root, "hello.txt");
	ITC_CALL(x->c, itc_lookup(x->c, &file, "x", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);

	char longname[301];
	memset(longname, 'a', 300);
	longname[300] = 0;
	ITC_CALL(x->c, itc_lookup(x->c, &x->root, longname, &r));
	assert_nfsstat(r.status, NFS3ERR_NAMETOOLONG);

	/* names with a slash or empty names never resolve (no path walking) */
	const char *bad[] = { "sub/inner.txt", "", "../export", "/etc", "sub/", "./hello.txt" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = itc_lookup(x->c, &x->root, bad[i], &r);
		if (rc == 0 && r.status == NFS3_OK)
			fail_msg(
				"LOOKUP(root, \"%s\") succeeded; a name must be a single component",
				bad[i]);
		if (rc != 0) { /* GARBAGE_ARGS-style rejection: reconnect */
			itc_close(x->c);
			x->c = itc_connect(g_srv.port);
			assert_non_null(x->c);
		}
	}
}

static void test_symlinks_not_followed(void **state)
{
	struct ctx *x = *state;
	/* A symlink to /etc/passwd is served as a symlink. */
	LOOKUP3res r;
	ITC_CALL(x->c, itc_lookup(x->c, &x->root, "link_out", &r));
	assert_nfsstat(r.status, NFS3_OK);
	fh_t lo = itc_fh(&r.LOOKUP3res_u.resok.object);
	assert_post_op(&r.LOOKUP3res_u.resok.obj_attributes, "LOOKUP(symlink) obj_attributes");
	fattr3 *oa = &r.LOOKUP3res_u.resok.obj_attributes.post_op_attr_u.attributes;
	assert_int_equal(oa->type, NF3LNK);
	struct stat st;
	assert_int_equal(stat("/etc/passwd", &st), 0);
	assert_true(oa->size != (uint64_t)st.st_size || oa->size == strlen("/etc/passwd"));

	READLINK3res rl;
	ITC_CALL(x->c, itc_readlink(x->c, &lo, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, "/etc/passwd");

	/* READ on the symlink handle must not return the target's bytes */
	READ3res rd;
	ITC_CALL(x->c, itc_read(x->c, &lo, 0, 4096, &rd));
	if (rd.status == NFS3_OK)
		fail_msg("READ on a symlink handle returned NFS3_OK with %u bytes",
			 rd.READ3res_u.resok.count);
	assert_nfsstat(rd.status, NFS3ERR_INVAL);

	/* A symlink to a directory outside DIR: no lookups/readdir through it */
	fh_t ld = itc_lookup_ok(x->c, &x->root, "link_dir_out");
	ITC_CALL(x->c, itc_lookup(x->c, &ld, "passwd", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	READDIR3res rdd;
	ITC_CALL(x->c, itc_readdir(x->c, &ld, 0, NULL, 8192, &rdd));
	assert_nfsstat(rdd.status, NFS3ERR_NOTDIR);
	READDIRPLUS3res rdp;
	ITC_CALL(x->c, itc_readdirplus(x->c, &ld, 0, NULL, 8192, 32768, &rdp));
	assert_nfsstat(rdp.status, NFS3ERR_NOTDIR);
	fattr3 a = itc_attr_ok(x->c, &ld);
	assert_int_equal(a.type, NF3LNK);
	assert_int_equal(a.size, 4);

	/* Even a symlink to a directory inside DIR is not traversed by LOOKUP */
	fh_t ls = itc_lookup_ok(x->c, &x->root, "link_sub");
	ITC_CALL(x->c, itc_lookup(x->c, &ls, "inner.txt", &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);

	/* ../../ style target is returned verbatim */
	fh_t ldd = itc_lookup_ok(x->c, &x->root, "link_dotdot");
	ITC_CALL(x->c, itc_readlink(x->c, &ldd, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, "../../../../../../etc/passwd");
	ITC_CALL(x->c, itc_read(x->c, &ldd, 0, 100, &rd));
	assert_int_not_equal(rd.status, NFS3_OK);

	/* ACCESS/FSSTAT on a symlink handle work on the link, not the target */
	ACCESS3res ac;
	ITC_CALL(x->c, itc_access(x->c, &lo, ACCESS3_READ, &ac));
	assert_nfsstat(ac.status, NFS3_OK);
	assert_post_op(&ac.ACCESS3res_u.resok.obj_attributes, "ACCESS(symlink)");
	assert_int_equal(ac.ACCESS3res_u.resok.obj_attributes.post_op_attr_u.attributes.type,
			 NF3LNK);
}

static void test_readlink(void **state)
{
	struct ctx *x = *state;
	fh_t l = itc_lookup_ok(x->c, &x->root, "link_rel");
	READLINK3res rl;
	ITC_CALL(x->c, itc_readlink(x->c, &l, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_string_equal(rl.READLINK3res_u.resok.data, "hello.txt");
	assert_post_op(&rl.READLINK3res_u.resok.symlink_attributes, "READLINK symlink_attributes");
	/* post-op: taken after the readlink, so they include its atime update */
	itest_check_attr_matches(
		&rl.READLINK3res_u.resok.symlink_attributes.post_op_attr_u.attributes,
		itest_path(&g_env, "link_rel"));

	fh_t ll = itc_lookup_ok(x->c, &x->root, "link_long");
	ITC_CALL(x->c, itc_readlink(x->c, &ll, &rl));
	assert_nfsstat(rl.status, NFS3_OK);
	assert_int_equal(strlen(rl.READLINK3res_u.resok.data), 4000);
	assert_string_equal(rl.READLINK3res_u.resok.data, g_long_target);

	/* not a symlink -> NFS3ERR_INVAL, with post-op attributes */
	fh_t f = itc_lookup_ok(x->c, &x->root, "hello.txt");
	ITC_CALL(x->c, itc_readlink(x->c, &f, &rl));
	assert_nfsstat(rl.status, NFS3ERR_INVAL);
	assert_post_op(&rl.READLINK3res_u.resfail.symlink_attributes, "READLINK(file) attrs");
	ITC_CALL(x->c, itc_readlink(x->c, &x->root, &rl));
	assert_nfsstat(rl.status, NFS3ERR_INVAL);
}

/* READ helper: status must be OK; checks data against the pattern. */
static READ3resok read_ok(struct ctx *x, const fh_t *fh, uint64_t off, uint32_t count)
{
	READ3res r;
	ITC_CALL(x->c, itc_read(x->c, fh, off, count, &r));
	if (r.status != NFS3_OK)
		fail_msg("READ(off %llu, count %u): %s", (unsigned long long)off, count,
			 itest_nfsstat_name(r.status));
	READ3resok ok = r.READ3res_u.resok;
	if (ok.count != ok.data.data_len)
		fail_msg("READ: count %u but %u data bytes", ok.count, ok.data.data_len);
	if (ok.count > count)
		fail_msg("READ returned %u bytes for count %u", ok.count, count);
	assert_post_op(&ok.file_attributes, "READ file_attributes");
	return ok;
}

static void check_pattern(const char *data, uint32_t len, uint64_t off, uint32_t seed)
{
	unsigned char *want = malloc(len ? len : 1);
	itest_pattern(want, len, off, seed);
	if (memcmp(want, data, len) != 0) {
		uint32_t i = 0;
		while (i < len && want[i] == (unsigned char)data[i])
			i++;
		free(want);
		fail_msg("data mismatch at file offset %llu", (unsigned long long)(off + i));
	}
	free(want);
}

static void test_read_small(void **state)
{
	struct ctx *x = *state;
	fh_t f = itc_lookup_ok(x->c, &x->root, "hello.txt");
	READ3resok ok = read_ok(x, &f, 0, 65536);
	assert_int_equal(ok.count, HELLO_SIZE);
	assert_true(ok.eof);
	check_pattern(ok.data.data_val, ok.count, 0, 1);
	assert_int_equal(ok.file_attributes.post_op_attr_u.attributes.size, HELLO_SIZE);
	/* post-op attributes are taken after the read (atime included) */
	itest_check_attr_matches(&ok.file_attributes.post_op_attr_u.attributes,
				 itest_path(&g_env, "hello.txt"));

	ok = read_ok(x, &f, 100, 50);
	assert_int_equal(ok.count, 50);
	assert_false(ok.eof);
	check_pattern(ok.data.data_val, 50, 100, 1);

	/* ending exactly at EOF */
	ok = read_ok(x, &f, HELLO_SIZE - 100, 100);
	assert_int_equal(ok.count, 100);
	assert_true(ok.eof);
	check_pattern(ok.data.data_val, 100, HELLO_SIZE - 100, 1);

	/* straddling EOF */
	ok = read_ok(x, &f, HELLO_SIZE - 10, 100);
	assert_int_equal(ok.count, 10);
	assert_true(ok.eof);

	/* at and beyond EOF */
	ok = read_ok(x, &f, HELLO_SIZE, 100);
	assert_int_equal(ok.count, 0);
	assert_true(ok.eof);
	ok = read_ok(x, &f, 1ull << 40, 100);
	assert_int_equal(ok.count, 0);
	assert_true(ok.eof);
	/* offsets past 2^63 cannot exist in any file: empty+eof or INVAL */
	READ3res big;
	ITC_CALL(x->c, itc_read(x->c, &f, UINT64_MAX - 10, 100, &big));
	if (big.status == NFS3_OK) {
		assert_int_equal(big.READ3res_u.resok.count, 0);
		assert_true(big.READ3res_u.resok.eof);
	} else {
		assert_nfsstat(big.status, NFS3ERR_INVAL);
		assert_post_op(&big.READ3res_u.resfail.file_attributes,
			       "READ(huge offset) file_attributes");
	}

	/* count 0 */
	ok = read_ok(x, &f, 0, 0);
	assert_int_equal(ok.count, 0);
	assert_false(ok.eof);

	/* empty file */
	fh_t e = itc_lookup_ok(x->c, &x->root, "empty");
	ok = read_ok(x, &e, 0, 100);
	assert_int_equal(ok.count, 0);
	assert_true(ok.eof);

	/* through a hard link: same bytes */
	fh_t hl = itc_lookup_ok(x->c, &x->root, "hello.hardlink");
	ok = read_ok(x, &hl, 5000, 1000);
	assert_int_equal(ok.count, 1000);
	check_pattern(ok.data.data_val, 1000, 5000, 1);
}

static uint32_t get_rtmax(struct ctx *x)
{
	FSINFO3res fi;
	ITC_CALL(x->c, itc_fsinfo(x->c, &x->root, &fi));
	assert_nfsstat(fi.status, NFS3_OK);
	return fi.FSINFO3res_u.resok.rtmax;
}

static void test_read_rtmax_and_clamp(void **state)
{
	struct ctx *x = *state;
	uint32_t rtmax = get_rtmax(x);
	if (rtmax < (1u << 20))
		fail_msg("FSINFO rtmax %u < 1 MiB", rtmax);
	/* libnfs 4.0 accepts replies up to 1 MiB + 4 KiB */
	uint32_t big = rtmax > (1u << 20) ? (1u << 20) : rtmax;
	fh_t f = itc_lookup_ok(x->c, &x->root, "big.bin");

	READ3resok ok = read_ok(x, &f, 0, big);
	assert_int_equal(ok.count, big);
	assert_false(ok.eof);
	check_pattern(ok.data.data_val, ok.count, 0, 2);

	/* unaligned offset */
	ok = read_ok(x, &f, 12345, big);
	assert_int_equal(ok.count, big);
	check_pattern(ok.data.data_val, ok.count, 12345, 2);

	/* whole file in rtmax pieces */
	uint64_t off = 0;
	int eof = 0, calls = 0;
	while (!eof) {
		ok = read_ok(x, &f, off, big);
		check_pattern(ok.data.data_val, ok.count, off, 2);
		off += ok.count;
		eof = ok.eof;
		assert_true(++calls < 20);
		if (!eof)
			assert_true(ok.count > 0);
	}
	assert_int_equal(off, BIG_SIZE);

	/* count larger than rtmax is clamped (not an error) */
	if (rtmax <= (1u << 20)) {
		const uint32_t counts[] = { rtmax + 1, 4u << 20, 0xffffffffu };
		for (size_t i = 0; i < 3; i++) {
			ok = read_ok(x, &f, 4096, counts[i]);
			if (ok.count == 0 || ok.count > rtmax)
				fail_msg("READ count %u: got %u bytes, want 1..rtmax(%u)",
					 counts[i], ok.count, rtmax);
			check_pattern(ok.data.data_val, ok.count, 4096, 2);
			assert_false(ok.eof);
		}
	}
}

static void test_read_sparse_over_4g(void **state)
{
	struct ctx *x = *state;
	fh_t f = itc_lookup_ok(x->c, &x->root, "sparse");
	fattr3 a = itc_attr_ok(x->c, &f);
	assert_int_equal(a.size, SPARSE_SIZE);
	assert_true(a.used < (64ull << 20)); /* sparse: far less than 5 GiB used */
	itest_check_attr_matches(&a, itest_path(&g_env, "sparse"));

	/* straddles the 4 GiB boundary: exposes 32-bit offset truncation */
	READ3resok ok = read_ok(x, &f, FOUR_G - 4, 8);
	assert_int_equal(ok.count, 8);
	assert_memory_equal(ok.data.data_val, "ABCDEFGH", 8);
	assert_false(ok.eof);

	ok = read_ok(x, &f, FOUR_G - 6, 12);
	assert_int_equal(ok.count, 12);
	assert_memory_equal(ok.data.data_val, "\0\0ABCDEFGH\0\0", 12);

	/* 1 MiB beyond 4 GiB: zeros except the marker */
	ok = read_ok(x, &f, FOUR_G + (1u << 20), 65536);
	assert_int_equal(ok.count, 65536);
	for (uint32_t i = 0; i < 65536; i++) {
		char want = (i >= 3 && i < 9) ? "middle"[i - 3] : 0;
		if (ok.data.data_val[i] != want)
			fail_msg("sparse byte at 4GiB+1MiB+%u: got 0x%02x want 0x%02x", i,
				 (unsigned char)ok.data.data_val[i], (unsigned char)want);
	}

	/* hole in the first 4 GiB */
	ok = read_ok(x, &f, 2ull << 30, 4096);
	assert_int_equal(ok.count, 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(ok.data.data_val[i], 0);

	/* tail: straddles EOF at 5 GiB + 4 KiB */
	ok = read_ok(x, &f, SPARSE_SIZE - 16, 100);
	assert_int_equal(ok.count, 16);
	assert_true(ok.eof);
	assert_memory_equal(ok.data.data_val, "THE-END-OF-FILE!", 16);

	ok = read_ok(x, &f, SPARSE_SIZE, 100);
	assert_int_equal(ok.count, 0);
	assert_true(ok.eof);
	ok = read_ok(x, &f, 8ull << 30, 100);
	assert_int_equal(ok.count, 0);
	assert_true(ok.eof);
	/* offset that is (SPARSE_SIZE - 16) mod 2^32: must not alias */
	ok = read_ok(x, &f, (SPARSE_SIZE - 16) & 0xffffffffull, 16);
	assert_int_equal(ok.count, 16);
	for (int i = 0; i < 16; i++)
		assert_int_equal(ok.data.data_val[i], 0);
}

static void test_read_errors(void **state)
{
	struct ctx *x = *state;
	READ3res r;
	ITC_CALL(x->c, itc_read(x->c, &x->root, 0, 100, &r));
	assert_nfsstat(r.status, NFS3ERR_ISDIR);
	assert_post_op(&r.READ3res_u.resfail.file_attributes, "READ(dir) file_attributes");

	/* A FIFO must not block the server. */
	fh_t fifo = itc_lookup_ok(x->c, &x->root, "fifo");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ITC_CALL(x->c, itc_read(x->c, &fifo, 0, 100, &r));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r.status == NFS3_OK)
		assert_int_equal(r.READ3res_u.resok.count, 0);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	/* and the server still answers */
	fattr3 a = itc_attr_ok(x->c, &x->root);
	assert_int_equal(a.type, NF3DIR);
}

/* ---------------------------------------------------------------- ACCESS */
static uint32_t access_as(struct ctx *x, itc_t *c, const char *rel, uint32_t want)
{
	fh_t h = rel ? itc_walk(x->c, &x->root, rel) : x->root;
	ACCESS3res r;
	ITC_CALL(c, itc_access(c, &h, want, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_post_op(&r.ACCESS3res_u.resok.obj_attributes, "ACCESS obj_attributes");
	uint32_t got = r.ACCESS3res_u.resok.access;
	if (got & ~want)
		fail_msg("ACCESS(%s): granted bits 0x%x not requested (0x%x)", rel ? rel : "/", got,
			 want);
	return got;
}

static void test_access(void **state)
{
	struct ctx *x = *state;
	const uint32_t all = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND |
			     ACCESS3_DELETE | ACCESS3_EXECUTE;
	/* the requesting user is a stranger (not owner, not in group, not root) */
	itc_t *o = itc_connect(g_srv.port);
	assert_non_null(o);
	itc_set_auth_sys(o, OTHER_UID + 1, OTHER_GID + 1);

	uint32_t g = access_as(x, o, "hello.txt", all); /* 0644 root:root */
	assert_true(g & ACCESS3_READ);
	assert_false(g & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE));

	g = access_as(x, o, "noread", all); /* 0600 root */
	assert_false(g & (ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE));

	g = access_as(x, o, "exec", all); /* 0755 */
	assert_true(g & ACCESS3_READ);
	assert_true(g & ACCESS3_EXECUTE);
	assert_false(g & ACCESS3_MODIFY);

	g = access_as(x, o, NULL, all); /* root dir 0755 */
	assert_true(g & ACCESS3_READ);
	assert_true(g & ACCESS3_LOOKUP);
	assert_false(g & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE));

	g = access_as(x, o, "privdir", all); /* 0700 root */
	assert_false(g & (ACCESS3_READ | ACCESS3_LOOKUP));

	/* only the bits asked for come back */
	g = access_as(x, o, "hello.txt", ACCESS3_READ);
	assert_int_equal(g, ACCESS3_READ);
	g = access_as(x, o, "hello.txt", 0);
	assert_int_equal(g, 0);
	itc_close(o);

	/* the owner of a 0600 file may read and write it */
	itc_t *ow = itc_connect(g_srv.port);
	assert_non_null(ow);
	itc_set_auth_sys(ow, OTHER_UID, OTHER_GID);
	g = access_as(x, ow, "owned", all);
	assert_true(g & ACCESS3_READ);
	assert_true(g & ACCESS3_MODIFY);
	assert_true(g & ACCESS3_EXTEND);
	assert_false(g & ACCESS3_EXECUTE);
	/* ... and the stranger still may not */
	g = access_as(x, ow, "noread", ACCESS3_READ);
	assert_int_equal(g, 0);
	itc_close(ow);
}

/* --------------------------------------------------- FSSTAT/FSINFO/PATHCONF */
static int near(uint64_t a, uint64_t b, uint64_t tol)
{
	return a > b ? a - b <= tol : b - a <= tol;
}

static void test_fsstat(void **state)
{
	struct ctx *x = *state;
	FSSTAT3res r;
	ITC_CALL(x->c, itc_fsstat(x->c, &x->root, &r));
	assert_nfsstat(r.status, NFS3_OK);
	FSSTAT3resok *ok = &r.FSSTAT3res_u.resok;
	assert_post_op(&ok->obj_attributes, "FSSTAT obj_attributes");
	struct statvfs sv;
	assert_int_equal(statvfs(g_env.dir, &sv), 0);
	uint64_t tbytes = (uint64_t)sv.f_blocks * sv.f_frsize;
	uint64_t fbytes = (uint64_t)sv.f_bfree * sv.f_frsize;
	uint64_t abytes = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (ok->tbytes != tbytes)
		fail_msg("FSSTAT tbytes %llu, statvfs says %llu", (unsigned long long)ok->tbytes,
			 (unsigned long long)tbytes);
	/* free space moves while other tests run: allow 1 GiB of drift */
	assert_true(near(ok->fbytes, fbytes, 1ull << 30));
	assert_true(near(ok->abytes, abytes, 1ull << 30));
	assert_true(ok->abytes <= ok->fbytes);
	assert_true(ok->fbytes <= ok->tbytes);
	assert_true(ok->tfiles == (uint64_t)sv.f_files);
	assert_true(near(ok->ffiles, sv.f_ffree, 500000));
	assert_true(near(ok->afiles, sv.f_favail, 500000));
	assert_true(ok->afiles <= ok->ffiles && ok->ffiles <= ok->tfiles);

	/* on a file handle: same filesystem numbers */
	fh_t f = itc_lookup_ok(x->c, &x->root, "hello.txt");
	ITC_CALL(x->c, itc_fsstat(x->c, &f, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_true(r.FSSTAT3res_u.resok.tbytes == tbytes);
}

static void test_fsinfo(void **state)
{
	struct ctx *x = *state;
	FSINFO3res r;
	ITC_CALL(x->c, itc_fsinfo(x->c, &x->root, &r));
	assert_nfsstat(r.status, NFS3_OK);
	FSINFO3resok *ok = &r.FSINFO3res_u.resok;
	assert_post_op(&ok->obj_attributes, "FSINFO obj_attributes");
	itest_check_attr_matches(&ok->obj_attributes.post_op_attr_u.attributes, g_env.dir);
	if (ok->rtmax < (1u << 20))
		fail_msg("rtmax %u < 1 MiB", ok->rtmax);
	assert_true(ok->rtpref > 0 && ok->rtpref <= ok->rtmax);
	assert_true(ok->rtmult > 0 && ok->rtmult <= ok->rtpref);
	assert_true(ok->wtmax >= 32768);
	assert_true(ok->wtpref > 0 && ok->wtpref <= ok->wtmax);
	assert_true(ok->wtmult > 0);
	assert_true(ok->dtpref >= 4096 && ok->dtpref <= (1u << 20));
	if (ok->maxfilesize < SPARSE_SIZE)
		fail_msg("maxfilesize %llu smaller than a file the server serves",
			 (unsigned long long)ok->maxfilesize);
	/* nanosecond timestamps */
	assert_int_equal(ok->time_delta.seconds, 0);
	assert_true(ok->time_delta.nseconds <= 1);
	assert_true(ok->properties & FSF3_SYMLINK);
	assert_true(ok->properties & FSF3_LINK);
	assert_true(ok->properties & FSF3_HOMOGENEOUS);
	assert_true(ok->properties & FSF3_CANSETTIME);

	fh_t f = itc_lookup_ok(x->c, &x->root, "sub");
	ITC_CALL(x->c, itc_fsinfo(x->c, &f, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(r.FSINFO3res_u.resok.rtmax, ok->rtmax);
}

static void test_pathconf(void **state)
{
	struct ctx *x = *state;
	PATHCONF3res r;
	ITC_CALL(x->c, itc_pathconf(x->c, &x->root, &r));
	assert_nfsstat(r.status, NFS3_OK);
	PATHCONF3resok *ok = &r.PATHCONF3res_u.resok;
	assert_post_op(&ok->obj_attributes, "PATHCONF obj_attributes");
	long nm = pathconf(g_env.dir, _PC_NAME_MAX);
	long lm = pathconf(g_env.dir, _PC_LINK_MAX);
	assert_int_equal(ok->name_max, (uint32_t)nm);
	assert_int_equal(ok->linkmax, (uint32_t)lm);
	assert_true(ok->no_trunc);
	assert_true(ok->chown_restricted);
	assert_false(ok->case_insensitive);
	assert_true(ok->case_preserving);

	fh_t f = itc_lookup_ok(x->c, &x->root, "hello.txt");
	ITC_CALL(x->c, itc_pathconf(x->c, &f, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(r.PATHCONF3res_u.resok.name_max, (uint32_t)nm);
}

static void test_attrs_track_changes(void **state)
{
	struct ctx *x = *state;
	/* changes made directly in DIR are visible immediately (no stale cache) */
	char *p = itest_path(&g_env, "changing");
	assert_int_equal(itest_write_file(p, "12345", 5), 0);
	fh_t h = itc_lookup_ok(x->c, &x->root, "changing");
	fattr3 a = itc_attr_ok(x->c, &h);
	assert_int_equal(a.size, 5);
	assert_int_equal(truncate(p, 123456), 0);
	struct timespec ts[2] = { { 1700000000, 5 }, { 1700000001, 6 } };
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	assert_int_equal(chmod(p, 0640), 0);
	a = itc_attr_ok(x->c, &h);
	assert_int_equal(a.size, 123456);
	assert_int_equal(a.mode & 07777, 0640);
	assert_int_equal(a.mtime.seconds, 1700000001u);
	assert_int_equal(a.mtime.nseconds, 6);
	itest_check_attr_matches(&a, p);
	READ3resok ok = read_ok(x, &h, 0, 10);
	assert_memory_equal(ok.data.data_val, "12345\0\0\0\0\0", 10);
	unlink(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_null),
		T(test_getattr_root_and_file),
		T(test_getattr_types),
		T(test_fsid_fileid_stable),
		T(test_lookup_attrs),
		T(test_lookup_dot_dotdot),
		T(test_lookup_errors),
		T(test_symlinks_not_followed),
		T(test_readlink),
		T(test_read_small),
		T(test_read_rtmax_and_clamp),
		T(test_read_sparse_over_4g),
		T(test_read_errors),
		T(test_access),
		T(test_fsstat),
		T(test_fsinfo),
		T(test_pathconf),
		T(test_attrs_track_changes),
	};
	return cmocka_run_group_tests_name("integration.read", tests, group_setup, group_teardown);
}
