/*
 * test_perm.c - identities. With loopnfsd running as root, each request
 * runs with the caller's uid, gid and supplementary groups, so a user can do
 * through the export exactly what that user could do in DIR: a permission
 * matrix for two non-root users and a group (create, read, write, owner
 * override, sticky directories, set-gid directories, chmod/chown/chgrp,
 * times, ACCESS, MKNOD, hard-link protection), new files owned by their
 * creator, identities that never leak between concurrent requests.
 * Squashing: --all-squash with --anonuid/--anongid; root from another host
 * (a private network namespace, an exports file naming it) squashed unless
 * no_root_squash; local root is root for a bare DIR. Run as an ordinary user, loopnfsd acts as that user for
 * everyone.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define UID_A 1001u
#define GID_A 1001u
#define UID_B 1002u
#define GID_B 1002u
#define GID_G 2000u /* B is a member (supplementary), A is not */
#define ANON 65534u

static const uint32_t b_groups[] = { GID_B, GID_G };

static const char *P(const char *rel)
{
	return itest_path(&wt_env, rel);
}

struct pctx {
	itc_t *root, *a, *b;
	fh_t rootfh;
};

static int psetup(void **state)
{
	if (geteuid() != 0)
		return 0; /* each test skips */
	struct pctx *x = calloc(1, sizeof(*x));
	x->root = wt_connect_as(wt_srv.port, 0, 0, 0, NULL);
	x->a = wt_connect_as(wt_srv.port, UID_A, GID_A, 1, &(uint32_t){ GID_A });
	x->b = wt_connect_as(wt_srv.port, UID_B, GID_B, 2, b_groups);
	if (!x->root || !x->a || !x->b)
		return -1;
	x->rootfh = itc_root(x->root, "/");
	*state = x;
	return 0;
}

static int pteardown(void **state)
{
	struct pctx *x = *state;
	if (x) {
		itc_close(x->root);
		itc_close(x->a);
		itc_close(x->b);
		free(x);
	}
	return itest_check_server_teardown(&wt_srv);
}

/* ---- small status-returning wrappers ---- */

static nfsstat3 st_create(itc_t *c, const fh_t *d, const char *name, uint32_t mode)
{
	CREATE3res r;
	sattr3 sa = wt_sattr_mode(mode);
	ITC_CALL(c, wtc_create(c, d, name, GUARDED, &sa, NULL, &r));
	return r.status;
}

static nfsstat3 st_write(itc_t *c, const fh_t *f)
{
	WRITE3res r;
	ITC_CALL(c, wtc_write(c, f, 0, "written", 7, FILE_SYNC, &r));
	return r.status;
}

static nfsstat3 st_read(itc_t *c, const fh_t *f)
{
	READ3res r;
	ITC_CALL(c, itc_read(c, f, 0, 100, &r));
	return r.status;
}

static nfsstat3 st_setattr(itc_t *c, const fh_t *f, const sattr3 *sa)
{
	SETATTR3res r;
	ITC_CALL(c, wtc_setattr(c, f, sa, NULL, &r));
	return r.status;
}

static nfsstat3 st_remove(itc_t *c, const fh_t *d, const char *name)
{
	REMOVE3res r;
	ITC_CALL(c, wtc_remove(c, d, name, &r));
	return r.status;
}

static uint32_t access_of(itc_t *c, const fh_t *f)
{
	ACCESS3res r;
	ITC_CALL(c, itc_access(c, f, 0x3f, &r));
	assert_nfsstat(r.status, NFS3_OK);
	return r.ACCESS3res_u.resok.access;
}

/* lookup as root (who may see everything) */
static fh_t L(struct pctx *x, const char *rel)
{
	return itc_walk(x->root, &x->rootfh, rel);
}

static void make_fixture(void)
{
	wt_make_dir(&wt_env, "home_a", UID_A, GID_A, 0755);
	wt_make_file(&wt_env, "home_a/private", "secret", UID_A, GID_A, 0600);
	wt_make_file(&wt_env, "home_a/public", "public", UID_A, GID_A, 0644);
	wt_make_file(&wt_env, "home_a/ro", "readonly", UID_A, GID_A, 0444);
	wt_make_dir(&wt_env, "shared", 0, GID_G, 0770);
	wt_make_file(&wt_env, "shared/gfile", "group", 0, GID_G, 0660);
	wt_make_dir(&wt_env, "sgid", 0, GID_G, 02777);
	wt_make_dir(&wt_env, "tmp", 0, 0, 01777);
	wt_make_file(&wt_env, "tmp/a_file", "a", UID_A, GID_A, 0666);
}

static void test_create_and_ownership(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t home = L(x, "home_a");
	assert_nfsstat(st_create(x->a, &home, "new_by_a", 0640), NFS3_OK);
	struct stat st = wt_lstat(&wt_env, "home_a/new_by_a");
	assert_int_equal(st.st_uid, UID_A);
	assert_int_equal(st.st_gid, GID_A);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_nfsstat(st_create(x->b, &home, "new_by_b", 0644), NFS3ERR_ACCES);
	assert_false(access(P("home_a/new_by_b"), F_OK) == 0);
	MKDIR3res md;
	sattr3 sa = wt_sattr_mode(0755);
	ITC_CALL(x->b, wtc_mkdir(x->b, &home, "dir_by_b", &sa, &md));
	assert_nfsstat(md.status, NFS3ERR_ACCES);
	ITC_CALL(x->a, wtc_mkdir(x->a, &home, "dir_by_a", &sa, &md));
	assert_nfsstat(md.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "home_a/dir_by_a").st_uid, UID_A);
	SYMLINK3res sy;
	ITC_CALL(x->a, wtc_symlink(x->a, &home, "sl_by_a", "x", NULL, &sy));
	assert_nfsstat(sy.status, NFS3_OK);
	st = wt_lstat(&wt_env, "home_a/sl_by_a");
	assert_int_equal(st.st_uid, UID_A);
	assert_int_equal(st.st_gid, GID_A);
	/* a user cannot create a file for someone else */
	CREATE3res cr;
	sattr3 give = wt_sattr_mode(0644);
	give.uid.set_it = 1;
	give.uid.set_uid3_u.uid = UID_B;
	ITC_CALL(x->a, wtc_create(x->a, &home, "given", UNCHECKED, &give, NULL, &cr));
	assert_true(cr.status == NFS3_OK || cr.status == NFS3ERR_PERM);
	if (cr.status == NFS3_OK)
		assert_int_equal(wt_lstat(&wt_env, "home_a/given").st_uid, UID_A);

	/* group membership comes from the supplementary groups */
	fh_t shared = L(x, "shared");
	assert_nfsstat(st_create(x->b, &shared, "by_b", 0644), NFS3_OK);
	st = wt_lstat(&wt_env, "shared/by_b");
	assert_int_equal(st.st_uid, UID_B);
	assert_int_equal(st.st_gid, GID_B);
	assert_nfsstat(st_create(x->a, &shared, "by_a", 0644), NFS3ERR_ACCES);
	assert_nfsstat(wt_lookup_status(x->a, &shared, "gfile"), NFS3ERR_ACCES);
	/* a set-gid directory hands down its group */
	fh_t sgid = L(x, "sgid");
	assert_nfsstat(st_create(x->b, &sgid, "by_b", 0644), NFS3_OK);
	st = wt_lstat(&wt_env, "sgid/by_b");
	assert_int_equal(st.st_uid, UID_B);
	assert_int_equal(st.st_gid, GID_G);
	ITC_CALL(x->a, wtc_mkdir(x->a, &sgid, "sub_a", &sa, &md));
	assert_nfsstat(md.status, NFS3_OK);
	st = wt_lstat(&wt_env, "sgid/sub_a");
	assert_int_equal(st.st_gid, GID_G);
	assert_true(st.st_mode & S_ISGID);
	/* exclusive create: owned by the caller too */
	ITC_CALL(x->b, wtc_create(x->b, &sgid, "excl_b", EXCLUSIVE, NULL, "verifier", &cr));
	assert_nfsstat(cr.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "sgid/excl_b").st_uid, UID_B);
}

/*
 * A file fresh from CREATE is held open for writing by the server (so the
 * WRITE that follows needs no open): the access checks must not lean on
 * how that descriptor was opened.
 */
static void test_new_file_access(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t tmp = L(x, "tmp");
	fh_t ro = wt_create_ok(x->b, &tmp, "new_ro_b", 0444);
	fh_t rw = wt_create_ok(x->b, &tmp, "new_644_b", 0644);
	/* The owner writes even 0444 (knfsd's owner override); others write neither. */
	assert_nfsstat(st_write(x->a, &ro), NFS3ERR_ACCES);
	assert_nfsstat(st_write(x->a, &rw), NFS3ERR_ACCES);
	assert_nfsstat(st_write(x->b, &ro), NFS3_OK);
	assert_nfsstat(st_write(x->b, &rw), NFS3_OK);
	assert_nfsstat(st_read(x->a, &rw), NFS3_OK);
	COMMIT3res cm;
	ITC_CALL(x->a, wtc_commit(x->a, &rw, 0, 0, &cm));
	assert_nfsstat(cm.status, NFS3ERR_ACCES);
	size_t n;
	unsigned char *c = wt_slurp_bin(P("tmp/new_ro_b"), &n);
	assert_int_equal(n, 7);
	assert_memory_equal(c, "written", 7);
	assert_int_equal(wt_lstat(&wt_env, "tmp/new_ro_b").st_mode & 07777, 0444);
	/* Made unreadable to others after the create: the cached descriptor grants nothing. */
	assert_int_equal(chmod(P("tmp/new_644_b"), 0600), 0);
	assert_nfsstat(st_read(x->a, &rw), NFS3ERR_ACCES);
}

static void test_read_write_matrix(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t priv = L(x, "home_a/private"), pub = L(x, "home_a/public"), ro = L(x, "home_a/ro");
	fh_t gfile = L(x, "shared/gfile");
	/* owner: read and write its 0600 file; B neither */
	assert_nfsstat(st_read(x->a, &priv), NFS3_OK);
	assert_nfsstat(st_write(x->a, &priv), NFS3_OK);
	assert_nfsstat(st_read(x->b, &priv), NFS3ERR_ACCES);
	assert_nfsstat(st_write(x->b, &priv), NFS3ERR_ACCES);
	/* 0644: B reads, does not write */
	assert_nfsstat(st_read(x->b, &pub), NFS3_OK);
	assert_nfsstat(st_write(x->b, &pub), NFS3ERR_ACCES);
	/* 0444: the owner still writes (knfsd's owner override, which cp and tar need) */
	assert_nfsstat(st_write(x->a, &ro), NFS3_OK);
	assert_nfsstat(st_write(x->b, &ro), NFS3ERR_ACCES);
	sattr3 trunc = wt_sattr_none();
	trunc.size.set_it = 1;
	trunc.size.set_size3_u.size = 2;
	assert_nfsstat(st_setattr(x->b, &ro, &trunc), NFS3ERR_ACCES);
	assert_nfsstat(st_setattr(x->a, &ro, &trunc), NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "home_a/ro").st_size, 2);
	COMMIT3res cm;
	ITC_CALL(x->b, wtc_commit(x->b, &priv, 0, 0, &cm));
	assert_nfsstat(cm.status, NFS3ERR_ACCES);
	ITC_CALL(x->a, wtc_commit(x->a, &ro, 0, 0, &cm));
	assert_nfsstat(cm.status, NFS3_OK);
	/* group member B writes the group's file; the file's content proves it */
	assert_nfsstat(st_write(x->b, &gfile), NFS3_OK);
	size_t n;
	unsigned char *c = wt_slurp_bin(P("shared/gfile"), &n);
	assert_int_equal(n, 7);
	assert_memory_equal(c, "written", 7);
	/* local root is root */
	assert_nfsstat(st_write(x->root, &priv), NFS3_OK);
	assert_nfsstat(st_read(x->root, &gfile), NFS3_OK);
	/* ownership of written files never changes */
	assert_int_equal(wt_lstat(&wt_env, "home_a/private").st_uid, UID_A);
}

static void test_remove_rename_matrix(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t home = L(x, "home_a"), tmp = L(x, "tmp");
	assert_nfsstat(st_remove(x->b, &home, "public"), NFS3ERR_ACCES);
	RMDIR3res rd;
	wt_make_dir(&wt_env, "home_a/emptydir", UID_A, GID_A, 0755);
	ITC_CALL(x->b, wtc_rmdir(x->b, &home, "emptydir", &rd));
	assert_nfsstat(rd.status, NFS3ERR_ACCES);
	ITC_CALL(x->a, wtc_rmdir(x->a, &home, "emptydir", &rd));
	assert_nfsstat(rd.status, NFS3_OK);
	/* the sticky bit protects A's file from B, though both may write the directory */
	assert_nfsstat(st_remove(x->b, &tmp, "a_file"), NFS3ERR_PERM);
	RENAME3res rn;
	ITC_CALL(x->b, wtc_rename(x->b, &tmp, "a_file", &tmp, "stolen", &rn));
	assert_nfsstat(rn.status, NFS3ERR_PERM);
	assert_nfsstat(st_create(x->b, &tmp, "b_file", 0644), NFS3_OK);
	ITC_CALL(x->b, wtc_rename(x->b, &tmp, "b_file", &tmp, "b_file2", &rn));
	assert_nfsstat(rn.status, NFS3_OK);
	/* B cannot move its file over A's in a sticky directory */
	ITC_CALL(x->b, wtc_rename(x->b, &tmp, "b_file2", &tmp, "a_file", &rn));
	assert_nfsstat(rn.status, NFS3ERR_PERM);
	assert_nfsstat(st_remove(x->a, &tmp, "a_file"), NFS3_OK);
	assert_nfsstat(st_remove(x->b, &tmp, "b_file2"), NFS3_OK);
	/* RENAME out of a directory B cannot write */
	ITC_CALL(x->b, wtc_rename(x->b, &home, "public", &tmp, "moved", &rn));
	assert_nfsstat(rn.status, NFS3ERR_ACCES);
	assert_true(access(P("home_a/public"), F_OK) == 0);
	/* LINK: B may not link into A's home; protected hard links, when on */
	LINK3res ln;
	fh_t priv = L(x, "home_a/private"), gfile = L(x, "shared/gfile");
	ITC_CALL(x->b, wtc_link(x->b, &gfile, &home, "l", &ln));
	assert_nfsstat(ln.status, NFS3ERR_ACCES);
	FILE *f = fopen("/proc/sys/fs/protected_hardlinks", "r");
	int prot = 0;
	if (f) {
		if (fscanf(f, "%d", &prot) != 1)
			prot = 0;
		fclose(f);
	}
	/* the kernel checks the source before the directory, as for a local ln */
	ITC_CALL(x->b, wtc_link(x->b, &priv, &home, "l", &ln));
	assert_nfsstat(ln.status, prot ? NFS3ERR_PERM : NFS3ERR_ACCES);
	ITC_CALL(x->b, wtc_link(x->b, &priv, &tmp, "l", &ln));
	assert_nfsstat(ln.status, prot ? NFS3ERR_PERM : NFS3_OK);
	ITC_CALL(x->a, wtc_link(x->a, &priv, &tmp, "l_by_a", &ln));
	assert_nfsstat(ln.status, NFS3_OK);
}

static void test_setattr_matrix(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t pub = L(x, "home_a/public"), gfile = L(x, "shared/gfile");
	sattr3 m = wt_sattr_mode(0640);
	assert_nfsstat(st_setattr(x->b, &pub, &m), NFS3ERR_PERM);
	assert_nfsstat(st_setattr(x->a, &pub, &m), NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "home_a/public").st_mode & 07777, 0640);
	/* chown away: only root */
	sattr3 own = wt_sattr_none();
	own.uid.set_it = 1;
	own.uid.set_uid3_u.uid = UID_B;
	assert_nfsstat(st_setattr(x->a, &pub, &own), NFS3ERR_PERM);
	assert_nfsstat(st_setattr(x->root, &pub, &own), NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "home_a/public").st_uid, UID_B);
	/* chgrp: to a group the owner is in */
	wt_make_file(&wt_env, "tmp/b_own", "b", UID_B, GID_B, 0644);
	fh_t bown = L(x, "tmp/b_own");
	sattr3 grp = wt_sattr_none();
	grp.gid.set_it = 1;
	grp.gid.set_gid3_u.gid = GID_G;
	assert_nfsstat(st_setattr(x->b, &bown, &grp), NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "tmp/b_own").st_gid, GID_G);
	fh_t aown = L(x, "tmp/a_file");
	assert_nfsstat(st_setattr(x->a, &aown, &grp), NFS3ERR_PERM);
	/* times: to a given time only the owner; to now, anyone who may write */
	sattr3 t = wt_sattr_none();
	t.mtime.set_it = SET_TO_CLIENT_TIME;
	t.mtime.set_mtime_u.mtime.seconds = 1000000;
	assert_nfsstat(st_setattr(x->b, &gfile, &t), NFS3ERR_PERM);
	sattr3 now = wt_sattr_none();
	now.atime.set_it = SET_TO_SERVER_TIME;
	now.mtime.set_it = SET_TO_SERVER_TIME;
	assert_nfsstat(st_setattr(x->b, &gfile, &now), NFS3_OK);
	fh_t priv = L(x, "home_a/private");
	assert_nfsstat(st_setattr(x->b, &priv, &now), NFS3ERR_ACCES);
	/* a group member's chmod of someone else's file */
	assert_nfsstat(st_setattr(x->b, &gfile, &m), NFS3ERR_PERM);
	/* the guard is checked for any caller, before permissions matter */
	SETATTR3res r;
	nfstime3 bad = { 1, 1 };
	ITC_CALL(x->b, wtc_setattr(x->b, &priv, &m, &bad, &r));
	assert_nfsstat(r.status, NFS3ERR_NOT_SYNC);
}

static void test_access_per_caller(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	const uint32_t RME = ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND;
	fh_t priv = L(x, "home_a/private"), pub = L(x, "home_a/public");
	fh_t gfile = L(x, "shared/gfile"), home = L(x, "home_a");
	assert_int_equal(access_of(x->a, &priv) & RME, RME);
	assert_int_equal(access_of(x->b, &priv) & RME, 0);
	assert_int_equal(access_of(x->b, &pub) & RME, ACCESS3_READ);
	assert_int_equal(access_of(x->b, &gfile) & RME, RME);
	assert_int_equal(access_of(x->a, &gfile) & RME, 0);
	uint32_t da = access_of(x->a, &home), db = access_of(x->b, &home);
	assert_true(da & ACCESS3_LOOKUP);
	assert_true(da & ACCESS3_MODIFY);
	assert_true(da & ACCESS3_DELETE);
	assert_true(db & ACCESS3_LOOKUP);
	assert_false(db & ACCESS3_MODIFY);
	assert_false(db & ACCESS3_DELETE);
	/* and ACCESS agrees with what WRITE then does */
	assert_nfsstat(st_write(x->b, &gfile), NFS3_OK);
	assert_nfsstat(st_write(x->b, &pub), NFS3ERR_ACCES);
}

static void test_mknod_matrix(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	make_fixture();
	fh_t tmp = L(x, "tmp");
	MKNOD3res r;
	sattr3 sa = wt_sattr_mode(0644);
	ITC_CALL(x->a, wtc_mknod(x->a, &tmp, "fifo_a", NF3FIFO, &sa, 0, 0, &r));
	assert_nfsstat(r.status, NFS3_OK);
	ITC_CALL(x->b, wtc_mknod(x->b, &tmp, "sock_b", NF3SOCK, &sa, 0, 0, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "tmp/fifo_a").st_uid, UID_A);
	assert_int_equal(wt_lstat(&wt_env, "tmp/sock_b").st_uid, UID_B);
	ITC_CALL(x->a, wtc_mknod(x->a, &tmp, "chr_a", NF3CHR, &sa, 1, 3, &r));
	assert_nfsstat(r.status, NFS3ERR_PERM);
	ITC_CALL(x->b, wtc_mknod(x->b, &tmp, "blk_b", NF3BLK, &sa, 7, 0, &r));
	assert_nfsstat(r.status, NFS3ERR_PERM);
	assert_false(access(P("tmp/chr_a"), F_OK) == 0);
}

/* ---- identities never leak between concurrent requests ---- */

struct idworker {
	int port;
	uint32_t uid, gid;
	fh_t dir;
	int n;
	char err[640];
};

static void *idwork(void *arg)
{
	struct idworker *w = arg;
	itc_t *c = wt_connect_as(w->port, w->uid, w->gid, 1, &w->gid);
	if (!c) {
		snprintf(w->err, sizeof(w->err), "connect failed");
		return NULL;
	}
	for (int i = 0; i < w->n && !w->err[0]; i++) {
		char name[64];
		snprintf(name, sizeof(name), "u%u_%d", w->uid, i);
		CREATE3res r;
		sattr3 sa = wt_sattr_mode(0600);
		if (wtc_create(c, &w->dir, name, GUARDED, &sa, NULL, &r) != 0)
			snprintf(w->err, sizeof(w->err), "rpc: %s", c->err);
		else if (r.status != NFS3_OK)
			snprintf(w->err, sizeof(w->err), "CREATE %s: %d", name, (int)r.status);
		else if (r.CREATE3res_u.resok.obj_attributes.post_op_attr_u.attributes.uid !=
			 w->uid)
			snprintf(w->err, sizeof(w->err), "%s created with uid %u", name,
				 r.CREATE3res_u.resok.obj_attributes.post_op_attr_u.attributes.uid);
	}
	itc_close(c);
	return NULL;
}

static void test_concurrent_identities(void **state)
{
	struct pctx *x = *state;
	WT_REQUIRE_ROOT();
	wt_make_dir(&wt_env, "ids", 0, 0, 01777);
	fh_t d = L(x, "ids");
	enum {
		N = 6
	};
	struct idworker w[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].port = wt_srv.port;
		w[i].uid = 3000 + (uint32_t)i;
		w[i].gid = 4000 + (uint32_t)i;
		w[i].dir = d;
		w[i].n = 60;
		assert_int_equal(pthread_create(&t[i], NULL, idwork, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < N; i++) {
		if (w[i].err[0])
			fail_msg("worker %d: %s", i, w[i].err);
		for (int j = 0; j < w[i].n; j++) {
			struct stat st =
				wt_lstat(&wt_env, itest_sprintf("ids/u%u_%d", w[i].uid, j));
			assert_int_equal(st.st_uid, w[i].uid);
			assert_int_equal(st.st_gid, w[i].gid);
		}
	}
	/* the server's own identity is untouched: root still acts as root */
	assert_nfsstat(st_create(x->root, &x->rootfh, "after_ids", 0600), NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "after_ids").st_uid, 0);
}

/* ---- squashing ---- */

static void test_all_squash(void **state)
{
	(void)state;
	WT_REQUIRE_ROOT();
	struct itest_env env;
	struct itest_server srv;
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(itest_env_init(&env, "squash"), 0);
	assert_int_equal(chmod(env.dir, 01777), 0);
	const char *extra[] = { "--all-squash", "--anonuid", "3456", "--anongid", "4567", NULL };
	assert_int_equal(itest_server_start(&srv, &env, extra), 0);
	itc_t *r = wt_connect_as(srv.port, 0, 0, 0, NULL);
	itc_t *a = wt_connect_as(srv.port, UID_A, GID_A, 0, NULL);
	assert_non_null(r);
	assert_non_null(a);
	fh_t root = itc_root(r, "/");
	assert_nfsstat(st_create(r, &root, "by_root", 0644), NFS3_OK);
	assert_nfsstat(st_create(a, &root, "by_a", 0644), NFS3_OK);
	struct stat st;
	assert_int_equal(lstat(itest_sprintf("%s/by_root", env.dir), &st), 0);
	assert_int_equal(st.st_uid, 3456);
	assert_int_equal(st.st_gid, 4567);
	assert_int_equal(lstat(itest_sprintf("%s/by_a", env.dir), &st), 0);
	assert_int_equal(st.st_uid, 3456);
	/* squashed root is no longer root */
	assert_int_equal(itest_write_file(itest_sprintf("%s/rootfile", env.dir), "r", 1), 0);
	assert_int_equal(chmod(itest_sprintf("%s/rootfile", env.dir), 0600), 0);
	fh_t rf = itc_lookup_ok(r, &root, "rootfile");
	assert_nfsstat(st_write(r, &rf), NFS3ERR_ACCES);
	sattr3 own = wt_sattr_none();
	own.uid.set_it = 1;
	own.uid.set_uid3_u.uid = 0;
	fh_t br = itc_lookup_ok(r, &root, "by_root");
	assert_nfsstat(st_setattr(r, &br, &own), NFS3ERR_PERM);
	itc_close(r);
	itc_close(a);
	assert_int_equal(itest_server_stop(&srv), 0);
	itest_env_cleanup(&env);
}

/*
 * Root from another host. The child moves into a network namespace of its
 * own, gives its loopback device a second, non-loopback address and talks
 * to a server listening there: the server sees a remote peer. Plain checks
 * (no cmocka in the child); the exit code tells the parent what failed.
 */
#define REMOTE_ADDR "10.99.0.1"

static int remote_create_owner(const struct itest_env *env, const char *opts, const char *name,
			       uid_t *owner)
{
	/* Another host reaches nothing a bare DIR serves: it needs an exports file. */
	char *conf = itest_sprintf("%s/exports", env->base);
	char *line = itest_sprintf("%s " REMOTE_ADDR "(%s)\n", env->dir, opts);
	if (itest_write_file(conf, line, strlen(line)) != 0)
		return 16;
	const char *extra[] = { "--listen", REMOTE_ADDR, "-c", conf, NULL };
	const char *no_dirs[] = { NULL };
	struct itest_server srv;
	memset(&srv, 0, sizeof(srv));
	if (itest_server_start_dirs(&srv, env, extra, no_dirs) != 0)
		return 10;
	int rc = 0;
	itc_t *c = wt_connect_host(REMOTE_ADDR, srv.port);
	if (!c) {
		rc = 11;
		goto out;
	}
	wt_set_auth(c, 0, 0, 0, NULL);
	mountres3 m;
	if (itc_mnt3(c, "/", &m) != 0 || m.fhs_status != MNT3_OK) {
		rc = 12;
		goto close;
	}
	fh_t root;
	root.len = m.mountres3_u.mountinfo.fhandle.fhandle3_len;
	memcpy(root.data, m.mountres3_u.mountinfo.fhandle.fhandle3_val, root.len);
	CREATE3res r;
	sattr3 sa = wt_sattr_mode(0644);
	if (wtc_create(c, &root, name, GUARDED, &sa, NULL, &r) != 0 || r.status != NFS3_OK) {
		rc = 13;
		goto close;
	}
	struct stat st;
	if (lstat(itest_sprintf("%s/%s", env->dir, name), &st) != 0) {
		rc = 14;
		goto close;
	}
	*owner = st.st_uid;
close:
	itc_close(c);
out:
	if (itest_server_stop(&srv) != 0 && rc == 0)
		rc = 15;
	return rc;
}

static int remote_child(void)
{
	if (unshare(CLONE_NEWNET) != 0)
		return 77;
	if (system("ip link set lo up && ip addr add " REMOTE_ADDR "/32 dev lo") != 0)
		return 77;
	struct itest_env env;
	if (itest_env_init(&env, "remote") != 0)
		return 20;
	chmod(env.dir, 01777);
	uid_t o1 = 12345, o2 = 12345;
	int rc = remote_create_owner(&env, "rw", "squashed", &o1);
	if (rc == 0)
		rc = remote_create_owner(&env, "rw,no_root_squash", "unsquashed", &o2);
	if (rc == 0 && o1 != ANON)
		rc = 30; /* remote root was not squashed (root_squash is the default) */
	if (rc == 0 && o2 != 0)
		rc = 31; /* no_root_squash did not keep root */
	itest_env_cleanup(&env);
	itest_arena_free();
	return rc;
}

static void test_remote_root_squashed(void **state)
{
	(void)state;
	WT_REQUIRE_ROOT();
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(remote_child());
	}
	int st = itest_wait_exit(pid, 120000);
	assert_true(st != -1 && WIFEXITED(st));
	int code = WEXITSTATUS(st);
	if (code == 77) {
		fprintf(stderr, "skipped: cannot make a network namespace here\n");
		skip();
	}
	if (code != 0)
		fail_msg("remote-root child failed with code %d (30: root not squashed, 31: "
			 "no_root_squash ignored, 1x: server/connection)",
			 code);
}

/* ---- an unprivileged server acts as its own user for everyone ---- */

#define SERVER_UID 1005u
#define SERVER_GID 1005u

static pid_t spawn_as(uid_t uid, gid_t gid, const char *const *args, const char *out,
		      const char *err)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = itest_loopnfsd_path();
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
		_exit(126);
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		_exit(125);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static int wait_port(const char *out, pid_t pid)
{
	for (int i = 0; i < 3000; i++) {
		char *s = itest_slurp(out);
		char *p = strstr(s, "ready port=");
		if (p)
			return atoi(p + strlen("ready port="));
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1;
		usleep(10000);
	}
	return -1;
}

static void test_unprivileged_server(void **state)
{
	(void)state;
	WT_REQUIRE_ROOT();
	struct itest_env env;
	assert_int_equal(itest_env_init(&env, "unpriv"), 0);
	/* the user needs to reach its directories */
	assert_int_equal(chmod(env.base, 0755), 0);
	assert_int_equal(chown(env.dir, SERVER_UID, SERVER_GID), 0);
	assert_int_equal(chown(env.state, SERVER_UID, SERVER_GID), 0);
	char *mine = itest_sprintf("%s/mine", env.dir);
	assert_int_equal(itest_write_file(mine, "m", 1), 0);
	assert_int_equal(chown(mine, SERVER_UID, SERVER_GID), 0);
	assert_int_equal(chmod(mine, 0600), 0);
	char *roots = itest_sprintf("%s/roots", env.dir);
	assert_int_equal(itest_write_file(roots, "r", 1), 0);
	assert_int_equal(chmod(roots, 0600), 0);
	const char *args[] = { "--port", "0", "--no-rpcbind", "--state-dir", env.state,
			       env.dir,	 NULL };
	char *out = itest_sprintf("%s/srv.out", env.base),
	     *err = itest_sprintf("%s/srv.err", env.base);
	pid_t pid = spawn_as(SERVER_UID, SERVER_GID, args, out, err);
	assert_true(pid > 0);
	int port = wait_port(out, pid);
	if (port <= 0)
		fail_msg("unprivileged loopnfsd did not start: %s", itest_slurp(err));
	itc_t *r = wt_connect_as(port, 0, 0, 0, NULL);
	itc_t *b = wt_connect_as(port, UID_B, GID_B, 2, b_groups);
	assert_non_null(r);
	assert_non_null(b);
	fh_t root = itc_root(r, "/");
	assert_nfsstat(st_create(r, &root, "by_root", 0644), NFS3_OK);
	assert_nfsstat(st_create(b, &root, "by_b", 0644), NFS3_OK);
	struct stat st;
	assert_int_equal(lstat(itest_sprintf("%s/by_root", env.dir), &st), 0);
	assert_int_equal(st.st_uid, SERVER_UID);
	assert_int_equal(lstat(itest_sprintf("%s/by_b", env.dir), &st), 0);
	assert_int_equal(st.st_uid, SERVER_UID);
	assert_int_equal(st.st_gid, SERVER_GID);
	/* B acts as the server's user: may write its 0600 file */
	fh_t m = itc_lookup_ok(b, &root, "mine");
	assert_nfsstat(st_write(b, &m), NFS3_OK);
	/* root acts as the server's user: may not write root's 0600 file, nor chown */
	fh_t rf = itc_lookup_ok(r, &root, "roots");
	assert_nfsstat(st_write(r, &rf), NFS3ERR_ACCES);
	sattr3 own = wt_sattr_none();
	own.uid.set_it = 1;
	own.uid.set_uid3_u.uid = 0;
	assert_nfsstat(st_setattr(r, &m, &own), NFS3ERR_PERM);
	MKNOD3res mk;
	sattr3 sa = wt_sattr_mode(0600);
	ITC_CALL(r, wtc_mknod(r, &root, "chr", NF3CHR, &sa, 1, 3, &mk));
	assert_nfsstat(mk.status, NFS3ERR_PERM);
	itc_close(r);
	itc_close(b);
	kill(pid, SIGTERM);
	int ws = itest_wait_exit(pid, ITEST_EXIT_TIMEOUT_MS);
	assert_true(ws != -1 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	itest_env_cleanup(&env);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("perm", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, psetup, pteardown)
	const struct CMUnitTest tests[] = {
		T(test_create_and_ownership), T(test_new_file_access),
		T(test_read_write_matrix),    T(test_remove_rename_matrix),
		T(test_setattr_matrix),	      T(test_access_per_caller),
		T(test_mknod_matrix),	      T(test_concurrent_identities),
		T(test_all_squash),	      T(test_remote_root_squashed),
		T(test_unprivileged_server),
	};
	return cmocka_run_group_tests_name("write.perm", tests, gsetup, wt_group_teardown);
}
