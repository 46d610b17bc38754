/* struct stat -> NFSv3 attributes (server/nfs3/attr.c). */
#define _GNU_SOURCE
#include "unit.h"

#include "attr.h"
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#define FAKE_FSID 0x1122334455667788ull

static char *base;
static struct export ex;
/* The export's passthrough state: attr_post_op_now and attr_wcc read objects through it. */
static struct pt_export pe;

/*
 * An object of ex open as fd (-1: unusable), as a resolved handle would be.
 * Its st stays zero: what attr_post_op_now and attr_wcc report is read afresh.
 */
static struct vfs_obj obj_of(int fd)
{
	struct vfs_obj o;
	memset(&o, 0, sizeof(o));
	o.ex = &ex;
	o.be.pt.fd = fd;
	return o;
}

static int setup(void **state)
{
	(void)state;
	base = ut_mkdtemp("attr");
	if (!base)
		return -1;
	struct stat st;
	if (stat(base, &st) < 0)
		return -1;
	memset(&ex, 0, sizeof(ex));
	memset(&pe, 0, sizeof(pe));
	pe.root_fd = pe.mount_fd = -1;
	pe.root_ino = st.st_ino;
	ex.dev = st.st_dev;
	ex.fsid = FAKE_FSID;
	ex.ops = &passthrough_ops;
	ex.be = &pe;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ut_rm_rf(base);
	free(base);
	return 0;
}

/* What attr_fill must produce, written out independently of attr.c. */
static void check_fattr(const fattr3 *a, const struct stat *st, const struct export *e,
			const char *what)
{
	static const struct {
		mode_t fmt;
		ftype3 t;
	} types[] = { { S_IFREG, NF3REG },  { S_IFDIR, NF3DIR },   { S_IFLNK, NF3LNK },
		      { S_IFIFO, NF3FIFO }, { S_IFSOCK, NF3SOCK }, { S_IFCHR, NF3CHR },
		      { S_IFBLK, NF3BLK } };
	ftype3 want = (ftype3)-1;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if ((st->st_mode & S_IFMT) == types[i].fmt)
			want = types[i].t;
	if (a->type != want)
		fail_msg("%s: type %d, want %d", what, (int)a->type, (int)want);
	if (a->mode != (st->st_mode & 07777))
		fail_msg("%s: mode %o, want %o", what, a->mode, st->st_mode & 07777);
	assert_int_equal(a->nlink, st->st_nlink);
	assert_int_equal(a->uid, st->st_uid);
	assert_int_equal(a->gid, st->st_gid);
	assert_int_equal(a->size, (uint64_t)st->st_size);
	assert_int_equal(a->used, (uint64_t)st->st_blocks * 512);
	assert_int_equal(a->rdev.specdata1, major(st->st_rdev));
	assert_int_equal(a->rdev.specdata2, minor(st->st_rdev));
	uint64_t fsid = e && st->st_dev == e->dev ? e->fsid : (uint64_t)st->st_dev;
	if (a->fsid != fsid)
		fail_msg("%s: fsid %#llx, want %#llx", what, (unsigned long long)a->fsid,
			 (unsigned long long)fsid);
	assert_int_equal(a->fileid, (uint64_t)st->st_ino);
	assert_int_equal(a->atime.seconds, (uint32_t)st->st_atim.tv_sec);
	assert_int_equal(a->atime.nseconds, (uint32_t)st->st_atim.tv_nsec);
	assert_int_equal(a->mtime.seconds, (uint32_t)st->st_mtim.tv_sec);
	assert_int_equal(a->mtime.nseconds, (uint32_t)st->st_mtim.tv_nsec);
	assert_int_equal(a->ctime.seconds, (uint32_t)st->st_ctim.tv_sec);
	assert_int_equal(a->ctime.nseconds, (uint32_t)st->st_ctim.tv_nsec);
}

struct kind {
	const char *name;
	ftype3 type;
	bool made;
};

static void make_kinds(struct kind *k, size_t *n)
{
	char *p;
	size_t i = 0;

	/* A regular file with data, its times set to distinctive nanoseconds. */
	p = ut_join(base, "reg");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	char buf[12345];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
	free(p);
	k[i++] = (struct kind){ "reg", NF3REG, true };

	p = ut_join(base, "dir");
	assert_int_equal(mkdir(p, 0751), 0);
	free(p);
	k[i++] = (struct kind){ "dir", NF3DIR, true };

	p = ut_join(base, "lnk");
	assert_int_equal(symlink("some/target/that/does/not/exist", p), 0);
	free(p);
	k[i++] = (struct kind){ "lnk", NF3LNK, true };

	p = ut_join(base, "fifo");
	assert_int_equal(mkfifo(p, 0604), 0);
	free(p);
	k[i++] = (struct kind){ "fifo", NF3FIFO, true };

	p = ut_join(base, "sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_true(strlen(p) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, p);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);
	free(p);
	k[i++] = (struct kind){ "sock", NF3SOCK, true };

	/* Device nodes need CAP_MKNOD: checked when we have it. */
	p = ut_join(base, "chr");
	bool ok = mknod(p, S_IFCHR | 0600, makedev(1, 3)) == 0;
	free(p);
	k[i++] = (struct kind){ "chr", NF3CHR, ok };
	p = ut_join(base, "blk");
	ok = mknod(p, S_IFBLK | 0600, makedev(259, 70000)) == 0;
	free(p);
	k[i++] = (struct kind){ "blk", NF3BLK, ok };
	*n = i;
}

static void test_each_file_kind(void **state)
{
	(void)state;
	struct kind k[8];
	size_t n;
	make_kinds(k, &n);
	for (size_t i = 0; i < n; i++) {
		if (!k[i].made) {
			fprintf(stderr, "note: %s not created (no CAP_MKNOD?), skipped\n",
				k[i].name);
			continue;
		}
		char *p = ut_join(base, k[i].name);
		/* Distinctive times, down to the nanosecond (not for the socket's peers). */
		struct timespec tv[2] = { { 1600000000, 123456789 }, { 4000000000LL, 999999999 } };
		assert_int_equal(utimensat(AT_FDCWD, p, tv, AT_SYMLINK_NOFOLLOW), 0);
		struct stat st;
		assert_int_equal(lstat(p, &st), 0);
		assert_int_equal(st.st_mtim.tv_nsec, 999999999);

		fattr3 a;
		memset(&a, 0xa5, sizeof(a));
		attr_fill(&ex, &st, &a);
		assert_int_equal(a.type, k[i].type);
		assert_int_equal(attr_ftype(st.st_mode), k[i].type);
		check_fattr(&a, &st, &ex, k[i].name);
		assert_int_equal(a.fsid, FAKE_FSID);
		assert_int_equal(a.atime.seconds, 1600000000u);
		assert_int_equal(a.atime.nseconds, 123456789u);
		assert_int_equal(a.mtime.seconds, 4000000000u);
		assert_int_equal(a.mtime.nseconds, 999999999u);
		if (k[i].type == NF3REG) {
			assert_int_equal(a.size, 12345);
			assert_int_equal(a.mode, 0640);
			assert_true(a.used >= 12345);
		}
		if (k[i].type == NF3DIR) {
			assert_int_equal(a.mode, 0751);
			assert_int_equal(a.nlink, 2);
		}
		if (k[i].type == NF3LNK)
			assert_int_equal(a.size, strlen("some/target/that/does/not/exist"));
		if (k[i].type == NF3CHR) {
			assert_int_equal(a.rdev.specdata1, 1);
			assert_int_equal(a.rdev.specdata2, 3);
		}
		if (k[i].type == NF3BLK) {
			assert_int_equal(a.rdev.specdata1, 259);
			assert_int_equal(a.rdev.specdata2, 70000);
		}
		free(p);
	}
}

static void test_mode_bits_and_owner(void **state)
{
	(void)state;
	char *p = ut_join(base, "suid");
	ut_touch(p);
	/* chown first: it clears setuid/setgid. */
	if (geteuid() == 0)
		assert_int_equal(lchown(p, 4242, 4343), 0);
	assert_int_equal(chmod(p, 07755), 0);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	fattr3 a;
	attr_fill(&ex, &st, &a);
	/* The permission bits incl. setuid/setgid/sticky, and never the type bits. */
	assert_int_equal(a.mode, 07755);
	if (geteuid() == 0) {
		assert_int_equal(a.uid, 4242);
		assert_int_equal(a.gid, 4343);
	}
	check_fattr(&a, &st, &ex, "suid");
	free(p);

	/* Hard links count. */
	p = ut_join(base, "nl");
	char *q = ut_join(base, "nl2");
	ut_touch(p);
	assert_int_equal(link(p, q), 0);
	assert_int_equal(lstat(p, &st), 0);
	attr_fill(&ex, &st, &a);
	assert_int_equal(a.nlink, 2);
	free(p);
	free(q);
}

static void test_made_up_stat(void **state)
{
	(void)state;
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFCHR | 01777;
	st.st_rdev = makedev(0x123, 0x45678);
	st.st_nlink = 70000;
	st.st_uid = 4000000000u;
	st.st_gid = 4000000001u;
	st.st_size = 5LL << 30; /* > 4 GiB: 64-bit sizes */
	st.st_blocks = (5LL << 30) / 512 + 8;
	st.st_dev = ex.dev;
	st.st_ino = 0x123456789abcdefull;
	st.st_atim = (struct timespec){ 1, 1 };
	st.st_mtim = (struct timespec){ 2, 999999999 };
	st.st_ctim = (struct timespec){ 3, 500000000 };

	fattr3 a;
	attr_fill(&ex, &st, &a);
	assert_int_equal(a.type, NF3CHR);
	assert_int_equal(a.mode, 01777);
	assert_int_equal(a.rdev.specdata1, 0x123);
	assert_int_equal(a.rdev.specdata2, 0x45678);
	assert_int_equal(a.nlink, 70000);
	assert_int_equal(a.uid, 4000000000u);
	assert_int_equal(a.gid, 4000000001u);
	assert_int_equal(a.size, 5ull << 30);
	assert_int_equal(a.used, (uint64_t)st.st_blocks * 512);
	assert_int_equal(a.fileid, 0x123456789abcdefull);
	assert_int_equal(a.fsid, FAKE_FSID);
	assert_int_equal(a.atime.seconds, 1);
	assert_int_equal(a.atime.nseconds, 1);
	assert_int_equal(a.mtime.seconds, 2);
	assert_int_equal(a.mtime.nseconds, 999999999);
	assert_int_equal(a.ctime.seconds, 3);
	assert_int_equal(a.ctime.nseconds, 500000000);
	check_fattr(&a, &st, &ex, "made-up chr");

	st.st_mode = S_IFBLK | 0660;
	st.st_rdev = makedev(4095, 1048575); /* the largest Linux major/minor */
	attr_fill(&ex, &st, &a);
	assert_int_equal(a.type, NF3BLK);
	assert_int_equal(a.rdev.specdata1, 4095);
	assert_int_equal(a.rdev.specdata2, 1048575);

	/* Every type, through attr_ftype too. */
	static const struct {
		mode_t m;
		ftype3 t;
	} tt[] = { { S_IFREG, NF3REG }, { S_IFDIR, NF3DIR }, { S_IFBLK, NF3BLK },
		   { S_IFCHR, NF3CHR }, { S_IFLNK, NF3LNK }, { S_IFSOCK, NF3SOCK },
		   { S_IFIFO, NF3FIFO } };
	for (size_t i = 0; i < sizeof(tt) / sizeof(tt[0]); i++) {
		st.st_mode = tt[i].m | 0644;
		assert_int_equal(attr_ftype(st.st_mode), tt[i].t);
		attr_fill(&ex, &st, &a);
		assert_int_equal(a.type, tt[i].t);
		assert_int_equal(a.mode, 0644);
	}
}

static uint64_t fake_fsid(const struct export *e, const struct stat *st)
{
	(void)e;
	return 0xabcd0000ull + (uint64_t)st->st_dev;
}

static void test_fsid(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	fattr3 a;
	attr_fill(&ex, &st, &a);
	assert_int_equal(a.fsid, FAKE_FSID);

	/* An object on a filesystem the export never crossed into: never the export's fsid. */
	st.st_dev = ex.dev + 1;
	attr_fill(&ex, &st, &a);
	assert_int_equal(a.fsid, (uint64_t)(ex.dev + 1));

	/* The backend says which filesystem an object is on (a submount has its own fsid). */
	struct vfs_ops ops = passthrough_ops;
	ops.fsid = fake_fsid;
	struct export e3 = ex;
	e3.ops = &ops;
	attr_fill(&e3, &st, &a);
	assert_int_equal(a.fsid, 0xabcd0000ull + (uint64_t)st.st_dev);
	/* Without one (the pseudo root), every object has the export's. */
	ops.fsid = NULL;
	attr_fill(&e3, &st, &a);
	assert_int_equal(a.fsid, FAKE_FSID);

	/* No export at all. */
	attr_fill(NULL, &st, &a);
	assert_int_equal(a.fsid, (uint64_t)st.st_dev);

	/* The fsid is the export's, whatever its value. */
	struct export e2 = ex;
	e2.fsid = 7;
	assert_int_equal(stat(base, &st), 0);
	attr_fill(&e2, &st, &a);
	assert_int_equal(a.fsid, 7);
}

static void test_post_op(void **state)
{
	(void)state;
	post_op_attr p;
	memset(&p, 0xa5, sizeof(p));
	attr_post_op(&ex, NULL, &p);
	assert_false(p.attributes_follow);

	char *path = ut_join(base, "postop");
	ut_touch(path);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	attr_post_op(&ex, &st, &p);
	assert_true(p.attributes_follow);
	check_fattr(&p.post_op_attr_u.attributes, &st, &ex, "post_op");

	memset(&p, 0xa5, sizeof(p));
	struct vfs_obj bad = obj_of(-1);
	attr_post_op_now(&bad, &p);
	assert_false(p.attributes_follow);

	int fd = open(path, O_PATH | O_CLOEXEC);
	assert_true(fd >= 0);
	struct vfs_obj o = obj_of(fd);
	attr_post_op_now(&o, &p);
	assert_true(p.attributes_follow);
	check_fattr(&p.post_op_attr_u.attributes, &st, &ex, "post_op_now");
	close(fd);
	free(path);
}

static void test_pre_op_and_wcc(void **state)
{
	(void)state;
	pre_op_attr pre;
	memset(&pre, 0xa5, sizeof(pre));
	attr_pre_op(NULL, &pre);
	assert_false(pre.attributes_follow);

	char *path = ut_join(base, "wcc");
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	struct timespec tv[2] = { { 1000, 111 }, { 2000, 222222222 } };
	assert_int_equal(futimens(fd, tv), 0);
	struct stat before;
	assert_int_equal(fstat(fd, &before), 0);

	attr_pre_op(&before, &pre);
	assert_true(pre.attributes_follow);
	assert_int_equal(pre.pre_op_attr_u.attributes.size, 5);
	assert_int_equal(pre.pre_op_attr_u.attributes.mtime.seconds, 2000);
	assert_int_equal(pre.pre_op_attr_u.attributes.mtime.nseconds, 222222222);
	assert_int_equal(pre.pre_op_attr_u.attributes.ctime.seconds,
			 (uint32_t)before.st_ctim.tv_sec);
	assert_int_equal(pre.pre_op_attr_u.attributes.ctime.nseconds,
			 (uint32_t)before.st_ctim.tv_nsec);

	/* Change the file: before keeps the old values, after has the new ones. */
	char big[70000];
	memset(big, 'y', sizeof(big));
	assert_int_equal(pwrite(fd, big, sizeof(big), 5), sizeof(big));
	wcc_data w;
	memset(&w, 0xa5, sizeof(w));
	struct vfs_obj o = obj_of(fd);
	attr_wcc(&o, &before, &w);
	assert_true(w.before.attributes_follow);
	assert_int_equal(w.before.pre_op_attr_u.attributes.size, 5);
	assert_int_equal(w.before.pre_op_attr_u.attributes.mtime.seconds, 2000);
	assert_true(w.after.attributes_follow);
	struct stat after;
	assert_int_equal(fstat(fd, &after), 0);
	check_fattr(&w.after.post_op_attr_u.attributes, &after, &ex, "wcc after");
	assert_int_equal(w.after.post_op_attr_u.attributes.size, 5 + sizeof(big));

	/* No pre-op stat, and an unusable descriptor. */
	memset(&w, 0xa5, sizeof(w));
	struct vfs_obj bad = obj_of(-1);
	attr_wcc(&bad, NULL, &w);
	assert_false(w.before.attributes_follow);
	assert_false(w.after.attributes_follow);
	close(fd);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_file_kind), cmocka_unit_test(test_mode_bits_and_owner),
		cmocka_unit_test(test_made_up_stat),   cmocka_unit_test(test_fsid),
		cmocka_unit_test(test_post_op),	       cmocka_unit_test(test_pre_op_and_wcc),
	};
	return cmocka_run_group_tests_name("attr", tests, setup, teardown);
}
