/*
 * test_crossmnt.c - filesystems mounted below the export.
 *
 * Inside a mount namespace of its own (so every mount it makes goes with
 * it), the test loop-mounts a fresh ext4 image on DIR/m and a tmpfs on
 * DIR/t, each over a directory holding a marker file of its own, then:
 *  - without --crossmnt: LOOKUP, READDIRPLUS, "..", MOUNT of a path and
 *    READ show the directories the mounts cover (the markers, the export's
 *    fsid), never what is mounted on them;
 *  - with --crossmnt: the mounted content, each filesystem with its own
 *    fsid (not the export's, not each other's), the same after a restart of
 *    loopnfsd; handles of objects on them kept across the restart still
 *    resolve (GETATTR, READ, WRITE with the saved bytes); CREATE and WRITE
 *    through NFS land in the mounted filesystem; a handle of a filesystem
 *    replaced by another at the same place is STALE, and so are they all
 *    once the server runs without --crossmnt.
 * Needs root, a loop device and mkfs.ext4; skipped (exit 77) otherwise.
 */
#define _GNU_SOURCE
#include "itest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SKIP_CODE 77
#define EXT4_ROOT_INO 2

static struct itest_env g_env;
static struct itest_server g_srv;
static ino_t covered_m_ino, covered_t_ino; /* the directories the mounts cover */
static dev_t ext4_dev;

static const char *const crossmnt_args[] = { "--crossmnt", NULL };

/* ------------------------------------------------------------ setup */

/* Run argv with no output; 0 if it exited 0. */
static int run_quiet(const char *const *argv)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

/* A marker in the directory to be covered, then the ext4 mounted over it, with content of its own. */
static int mount_ext4(void)
{
	char *m = itest_path(&g_env, "m");
	char *img = itest_sprintf("%s/ext4.img", g_env.base);
	if (mkdir(m, 0755) ||
	    itest_write_file(itest_path(&g_env, "m/covered-marker"), "covered", 7) ||
	    mkdir(itest_path(&g_env, "m/cdir"), 0755) ||
	    itest_write_file(itest_path(&g_env, "m/cdir/inner"), "inner", 5))
		return -1;
	covered_m_ino = ino_of(m);
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 16 << 20) < 0 || close(fd) < 0)
		return -1;
	const char *mkfs[] = { "mkfs.ext4", "-q", "-F", img, NULL };
	/* mount(8) -o loop: the loop device is set to detach itself once unmounted. */
	const char *mnt[] = { "mount", "-o", "loop", img, m, NULL };
	if (run_quiet(mkfs) || run_quiet(mnt))
		return -1;
	struct stat st;
	if (chmod(m, 0755) || stat(m, &st) || st.st_ino != EXT4_ROOT_INO)
		return -1;
	ext4_dev = st.st_dev;
	return itest_write_file(itest_path(&g_env, "m/ext-file"), "on ext4", 7) ||
	       mkdir(itest_path(&g_env, "m/extdir"), 0755) ||
	       itest_write_file(itest_path(&g_env, "m/extdir/deep"), "deep", 4);
}

static int mount_tmpfs(void)
{
	char *t = itest_path(&g_env, "t");
	if (mkdir(t, 0755) || itest_write_file(itest_path(&g_env, "t/tmpfs-covered"), "tc", 2))
		return -1;
	covered_t_ino = ino_of(t);
	if (mount("loopnfs-it", t, "tmpfs", 0, "mode=0755,size=4m"))
		return -1;
	return itest_write_file(itest_path(&g_env, "t/tfile"), "on tmpfs", 8);
}

static void unmount_all(void)
{
	umount2(itest_path(&g_env, "m"), MNT_DETACH);
	umount2(itest_path(&g_env, "t"), MNT_DETACH);
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "crossmnt") != 0)
		return -1;
	if (itest_write_file(itest_path(&g_env, "top"), "top", 3) || mount_ext4() ||
	    mount_tmpfs()) {
		fprintf(stderr, "crossmnt: setting up the mounts failed: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unmount_all();
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return 0;
}

/* ------------------------------------------------------------ NFS helpers */

struct ctx {
	itc_t *c;
	fh_t root;
};

static void start(struct ctx *x, bool crossmnt)
{
	assert_int_equal(itest_server_start(&g_srv, &g_env, crossmnt ? crossmnt_args : NULL), 0);
	x->c = itc_connect(g_srv.port);
	assert_non_null(x->c);
	x->root = itc_root(x->c, "/");
}

static void stop(struct ctx *x)
{
	itc_close(x->c);
	x->c = NULL;
	assert_int_equal(itest_server_stop(&g_srv), 0);
}

static int teardown(void **state)
{
	(void)state;
	if (g_srv.pid > 0)
		itest_server_stop(&g_srv);
	itest_arena_free();
	return 0;
}

static nfsstat3 lookup_status(struct ctx *x, const fh_t *dir, const char *name)
{
	LOOKUP3res r;
	ITC_CALL(x->c, itc_lookup(x->c, dir, name, &r));
	return r.status;
}

static nfsstat3 getattr_status(struct ctx *x, const fh_t *fh, fattr3 *out)
{
	GETATTR3res r;
	ITC_CALL(x->c, itc_getattr(x->c, fh, &r));
	if (r.status == NFS3_OK && out)
		*out = r.GETATTR3res_u.resok.obj_attributes;
	return r.status;
}

static void read_is(struct ctx *x, const fh_t *fh, const char *want, const char *what)
{
	READ3res r;
	ITC_CALL(x->c, itc_read(x->c, fh, 0, 100, &r));
	if (r.status != NFS3_OK)
		fail_msg("READ %s: %s", what, itest_nfsstat_name(r.status));
	size_t n = strlen(want);
	if (r.READ3res_u.resok.count != n || memcmp(r.READ3res_u.resok.data.data_val, want, n))
		fail_msg("READ %s: %u bytes \"%.*s\", want \"%s\"", what, r.READ3res_u.resok.count,
			 (int)r.READ3res_u.resok.count, r.READ3res_u.resok.data.data_val, want);
}

/* The READDIRPLUS entry called name in dir (the whole directory fits one reply here). */
static entryplus3 *plus_entry(struct ctx *x, const fh_t *dir, const char *name)
{
	READDIRPLUS3res r;
	ITC_CALL(x->c, itc_readdirplus(x->c, dir, 0, NULL, 8192, 65536, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_true(r.READDIRPLUS3res_u.resok.reply.eof);
	for (entryplus3 *e = r.READDIRPLUS3res_u.resok.reply.entries; e; e = e->nextentry)
		if (strcmp(e->name, name) == 0)
			return e;
	fail_msg("READDIRPLUS lists no \"%s\"", name);
	return NULL;
}

static bool lists(struct ctx *x, const fh_t *dir, const char *name)
{
	READDIR3res r;
	ITC_CALL(x->c, itc_readdir(x->c, dir, 0, NULL, 8192, &r));
	assert_nfsstat(r.status, NFS3_OK);
	for (entry3 *e = r.READDIR3res_u.resok.reply.entries; e; e = e->nextentry)
		if (strcmp(e->name, name) == 0)
			return true;
	return false;
}

/* MOUNT of DIR/rel: the handle (fails the test otherwise). */
static fh_t mount_path(struct ctx *x, const char *rel)
{
	return itc_root(x->c, itest_sprintf("%s/%s", g_env.dir, rel));
}

/* ---- CREATE and WRITE (the read-side harness has none) ---- */

struct wcall {
	bool done;
	int status; /* RPC status */
	nfsstat3 nfs;
	fh_t fh; /* CREATE: the new handle */
	uint32_t count;
};

static void create_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct wcall *w = priv;
	w->done = true;
	w->status = status;
	if (status != RPC_STATUS_SUCCESS)
		return;
	CREATE3res *r = data;
	w->nfs = r->status;
	if (r->status == NFS3_OK && r->CREATE3res_u.resok.obj.handle_follows)
		w->fh = itc_fh(&r->CREATE3res_u.resok.obj.post_op_fh3_u.handle);
}

static void write_cb(struct rpc_context *rpc, int status, void *data, void *priv)
{
	(void)rpc;
	struct wcall *w = priv;
	w->done = true;
	w->status = status;
	if (status != RPC_STATUS_SUCCESS)
		return;
	WRITE3res *r = data;
	w->nfs = r->status;
	if (r->status == NFS3_OK)
		w->count = r->WRITE3res_u.resok.count;
}

static void wait_call(struct ctx *x, struct wcall *w, int queued)
{
	assert_int_equal(queued, 0);
	time_t deadline = time(NULL) + ITEST_CALL_TIMEOUT_MS / 1000;
	while (!w->done) {
		struct pollfd p = { .fd = rpc_get_fd(x->c->rpc),
				    .events = (short)rpc_which_events(x->c->rpc) };
		int r = poll(&p, 1, 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (rpc_service(x->c->rpc, r > 0 ? p.revents : 0) < 0 && !w->done)
			fail_msg("rpc_service: %s", rpc_get_error(x->c->rpc));
		if (time(NULL) > deadline)
			fail_msg("no reply");
	}
	assert_int_equal(w->status, RPC_STATUS_SUCCESS);
}

static fh_t create_ok(struct ctx *x, const fh_t *dir, const char *name)
{
	CREATE3args a;
	memset(&a, 0, sizeof(a));
	a.where.dir.data.data_len = dir->len;
	a.where.dir.data.data_val = (char *)dir->data;
	a.where.name = (char *)name;
	a.how.mode = GUARDED;
	a.how.createhow3_u.obj_attributes.mode.set_it = TRUE;
	a.how.createhow3_u.obj_attributes.mode.set_mode3_u.mode = 0644;
	struct wcall w = { 0 };
	wait_call(x, &w, rpc_nfs3_create_async(x->c->rpc, create_cb, &a, &w));
	if (w.nfs != NFS3_OK || !w.fh.len)
		fail_msg("CREATE %s: %s", name, itest_nfsstat_name(w.nfs));
	return w.fh;
}

static void write_ok(struct ctx *x, const fh_t *fh, const char *data)
{
	WRITE3args a;
	memset(&a, 0, sizeof(a));
	a.file.data.data_len = fh->len;
	a.file.data.data_val = (char *)fh->data;
	a.count = (count3)strlen(data);
	a.stable = FILE_SYNC;
	a.data.data_len = a.count;
	a.data.data_val = (char *)data;
	struct wcall w = { 0 };
	wait_call(x, &w, rpc_nfs3_write_async(x->c->rpc, write_cb, &a, &w));
	if (w.nfs != NFS3_OK || w.count != a.count)
		fail_msg("WRITE: %s (%u bytes)", itest_nfsstat_name(w.nfs), w.count);
}

/* The file at DIR/rel holds exactly want, and lies on the ext4. */
static void on_ext4_is(const char *rel, const char *want)
{
	char *p = itest_path(&g_env, rel);
	char *got = itest_slurp(p);
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	if (strcmp(got, want) != 0 || st.st_dev != ext4_dev)
		fail_msg("%s: \"%s\" on device %#lx, want \"%s\" on the ext4 (%#lx)", rel, got,
			 (unsigned long)st.st_dev, want, (unsigned long)ext4_dev);
}

/* ------------------------------------------------------------ without crossmnt */

/* A mount point's LOOKUP and READDIRPLUS: the covered directory, on the export's filesystem. */
static void check_covered(struct ctx *x, const char *name, ino_t covered, const char *marker,
			  const char *hidden)
{
	fattr3 root_a = itc_attr_ok(x->c, &x->root);
	fh_t d = itc_lookup_ok(x->c, &x->root, name);
	fattr3 a = itc_attr_ok(x->c, &d);
	if (a.fileid != covered || a.fsid != root_a.fsid)
		fail_msg("LOOKUP %s: fileid %llu fsid %#llx, want the covered directory (%llu, "
			 "the export's fsid %#llx)",
			 name, (unsigned long long)a.fileid, (unsigned long long)a.fsid,
			 (unsigned long long)covered, (unsigned long long)root_a.fsid);
	assert_nfsstat(lookup_status(x, &d, marker), NFS3_OK);
	assert_nfsstat(lookup_status(x, &d, hidden), NFS3ERR_NOENT);
	assert_true(lists(x, &d, marker));
	assert_false(lists(x, &d, hidden));

	entryplus3 *e = plus_entry(x, &x->root, name);
	if (!e->name_attributes.attributes_follow || !e->name_handle.handle_follows)
		fail_msg("READDIRPLUS %s: no attributes or handle", name);
	fattr3 *pa = &e->name_attributes.post_op_attr_u.attributes;
	fh_t ph = itc_fh(&e->name_handle.post_op_fh3_u.handle);
	if (pa->fileid != covered || pa->fsid != root_a.fsid || e->fileid != covered)
		fail_msg("READDIRPLUS %s: fileid %llu/%llu fsid %#llx, want the covered directory",
			 name, (unsigned long long)e->fileid, (unsigned long long)pa->fileid,
			 (unsigned long long)pa->fsid);
	assert_true(itc_fh_equal(&ph, &d));
}

static void test_hidden_without_crossmnt(void **state)
{
	(void)state;
	struct ctx x;
	start(&x, false);
	check_covered(&x, "m", covered_m_ino, "covered-marker", "ext-file");
	check_covered(&x, "t", covered_t_ino, "tmpfs-covered", "tfile");

	fh_t m = itc_lookup_ok(x.c, &x.root, "m");
	fh_t marker = itc_lookup_ok(x.c, &m, "covered-marker");
	read_is(&x, &marker, "covered", "the covered marker");
	/* ".." of a directory under the covered one: the covered one, not the ext4's root. */
	fh_t cdir = itc_lookup_ok(x.c, &m, "cdir");
	fh_t up = itc_lookup_ok(x.c, &cdir, "..");
	fattr3 ua = itc_attr_ok(x.c, &up);
	if (ua.fileid != covered_m_ino)
		fail_msg("\"..\" of m/cdir: fileid %llu, want the covered m (%llu)",
			 (unsigned long long)ua.fileid, (unsigned long long)covered_m_ino);
	/* MOUNT of a path through a mount point walks the covered directories too. */
	fh_t mc = mount_path(&x, "m/cdir");
	assert_true(itc_fh_equal(&mc, &cdir));
	fh_t mm = mount_path(&x, "m");
	assert_true(itc_fh_equal(&mm, &m));

	/* Their handles are the export's own: valid across a restart. */
	stop(&x);
	start(&x, false);
	read_is(&x, &marker, "covered", "the covered marker after a restart");
	assert_int_equal(itc_attr_ok(x.c, &m).fileid, covered_m_ino);
	fh_t inner = itc_lookup_ok(x.c, &cdir, "inner");
	read_is(&x, &inner, "inner", "m/cdir/inner after a restart");
	stop(&x);
}

/* ------------------------------------------------------------ with crossmnt */

struct saved {
	fh_t m, ext_file, deep, created, t, tfile;
	fattr3 m_a, ext_a, deep_a, t_a, tfile_a;
};

static void check_crossed(struct ctx *x, struct saved *s)
{
	fattr3 root_a = itc_attr_ok(x->c, &x->root);
	s->m = itc_lookup_ok(x->c, &x->root, "m");
	s->m_a = itc_attr_ok(x->c, &s->m);
	if (s->m_a.fileid != EXT4_ROOT_INO || s->m_a.fsid == root_a.fsid)
		fail_msg("LOOKUP m: fileid %llu fsid %#llx, want the ext4's root with an fsid of "
			 "its "
			 "own (the export's is %#llx)",
			 (unsigned long long)s->m_a.fileid, (unsigned long long)s->m_a.fsid,
			 (unsigned long long)root_a.fsid);
	assert_nfsstat(lookup_status(x, &s->m, "covered-marker"), NFS3ERR_NOENT);
	assert_false(lists(x, &s->m, "covered-marker"));
	s->ext_file = itc_lookup_ok(x->c, &s->m, "ext-file");
	s->ext_a = itc_attr_ok(x->c, &s->ext_file);
	assert_true(s->ext_a.fsid == s->m_a.fsid);
	read_is(x, &s->ext_file, "on ext4", "m/ext-file");
	s->deep = itc_walk(x->c, &s->m, "extdir/deep");
	s->deep_a = itc_attr_ok(x->c, &s->deep);
	assert_true(s->deep_a.fsid == s->m_a.fsid);

	/* "..": back on the export. */
	fh_t up = itc_lookup_ok(x->c, &s->m, "..");
	fattr3 ua = itc_attr_ok(x->c, &up);
	assert_true(ua.fileid == root_a.fileid && ua.fsid == root_a.fsid);

	/* READDIRPLUS of the export: no covered directory behind the name (nothing, as knfsd). */
	entryplus3 *e = plus_entry(x, &x->root, "m");
	fattr3 *pa = &e->name_attributes.post_op_attr_u.attributes;
	if (e->name_attributes.attributes_follow &&
	    (pa->fsid != s->m_a.fsid || pa->fileid != s->m_a.fileid))
		fail_msg("READDIRPLUS of the export: m has fileid %llu fsid %#llx, not the ext4's",
			 (unsigned long long)pa->fileid, (unsigned long long)pa->fsid);
	if (e->name_handle.handle_follows) {
		fh_t ph = itc_fh(&e->name_handle.post_op_fh3_u.handle);
		assert_true(itc_fh_equal(&ph, &s->m));
	}
	/* READDIRPLUS on the ext4: its entries, its fsid, its handles. */
	e = plus_entry(x, &s->m, "ext-file");
	assert_true(e->name_attributes.attributes_follow && e->name_handle.handle_follows);
	assert_true(e->name_attributes.post_op_attr_u.attributes.fsid == s->m_a.fsid);
	fh_t ph = itc_fh(&e->name_handle.post_op_fh3_u.handle);
	assert_true(itc_fh_equal(&ph, &s->ext_file));

	/* MOUNT of a path on the ext4. */
	fh_t md = mount_path(x, "m/extdir");
	assert_true(itc_attr_ok(x->c, &md).fsid == s->m_a.fsid);

	/* FSSTAT describes the ext4. */
	FSSTAT3res fs;
	ITC_CALL(x->c, itc_fsstat(x->c, &s->m, &fs));
	assert_nfsstat(fs.status, NFS3_OK);
	struct statvfs sv;
	assert_int_equal(statvfs(itest_path(&g_env, "m"), &sv), 0);
	assert_true(fs.FSSTAT3res_u.resok.tbytes == (uint64_t)sv.f_blocks * sv.f_frsize);

	/* The tmpfs: a third fsid. */
	s->t = itc_lookup_ok(x->c, &x->root, "t");
	s->t_a = itc_attr_ok(x->c, &s->t);
	assert_true(s->t_a.fsid != root_a.fsid && s->t_a.fsid != s->m_a.fsid);
	s->tfile = itc_lookup_ok(x->c, &s->t, "tfile");
	s->tfile_a = itc_attr_ok(x->c, &s->tfile);
	assert_true(s->tfile_a.fsid == s->t_a.fsid);
	read_is(x, &s->tfile, "on tmpfs", "t/tfile");
}

static void same_object(struct ctx *x, const fh_t *fh, const fattr3 *before, const char *what)
{
	fattr3 a;
	nfsstat3 st = getattr_status(x, fh, &a);
	if (st != NFS3_OK)
		fail_msg("GETATTR %s with the handle from before the restart: %s", what,
			 itest_nfsstat_name(st));
	if (a.fileid != before->fileid || a.fsid != before->fsid)
		fail_msg("%s after the restart: fileid %llu fsid %#llx, before %llu %#llx", what,
			 (unsigned long long)a.fileid, (unsigned long long)a.fsid,
			 (unsigned long long)before->fileid, (unsigned long long)before->fsid);
}

static void test_crossmnt_across_restart(void **state)
{
	(void)state;
	struct ctx x;
	struct saved s;
	start(&x, true);
	check_crossed(&x, &s);
	/* Writes through NFS land on the ext4. */
	s.created = create_ok(&x, &s.m, "via-nfs");
	write_ok(&x, &s.created, "written over nfs");
	on_ext4_is("m/via-nfs", "written over nfs");
	fh_t extdir = itc_lookup_ok(x.c, &s.m, "extdir");
	fh_t nested = create_ok(&x, &extdir, "nested-new");
	write_ok(&x, &nested, "nested");
	on_ext4_is("m/extdir/nested-new", "nested");
	fattr3 created_a = itc_attr_ok(x.c, &s.created);
	assert_true(created_a.fsid == s.m_a.fsid);

	/* A new server: it has never seen these filesystems, the handles say which they are. */
	stop(&x);
	start(&x, true);
	same_object(&x, &s.ext_file, &s.ext_a, "m/ext-file");
	same_object(&x, &s.deep, &s.deep_a, "m/extdir/deep");
	same_object(&x, &s.created, &created_a, "m/via-nfs");
	same_object(&x, &s.tfile, &s.tfile_a, "t/tfile");
	same_object(&x, &s.m, &s.m_a, "m");
	same_object(&x, &s.t, &s.t_a, "t");
	read_is(&x, &s.deep, "deep", "m/extdir/deep after the restart");
	read_is(&x, &s.created, "written over nfs", "m/via-nfs after the restart");
	write_ok(&x, &s.ext_file, "rewritten");
	on_ext4_is("m/ext-file", "rewritten");
	/* And the same fsids by name. */
	fh_t m2 = itc_lookup_ok(x.c, &x.root, "m");
	assert_true(itc_fh_equal(&m2, &s.m));
	assert_true(itc_attr_ok(x.c, &m2).fsid == s.m_a.fsid);
	stop(&x);

	/* Without crossmnt the export serves none of them. */
	start(&x, false);
	assert_nfsstat(getattr_status(&x, &s.ext_file, NULL), NFS3ERR_STALE);
	assert_nfsstat(getattr_status(&x, &s.m, NULL), NFS3ERR_STALE);
	stop(&x);
}

/* Another filesystem mounted where one was: its predecessor's handles are stale. */
static void test_replaced_filesystem_is_stale(void **state)
{
	(void)state;
	struct ctx x;
	start(&x, true);
	fh_t t = itc_lookup_ok(x.c, &x.root, "t");
	fh_t tfile = itc_lookup_ok(x.c, &t, "tfile");
	fattr3 old_t = itc_attr_ok(x.c, &t);
	/* Detached while the server holds objects on it (a plain umount would be EBUSY). */
	char *tp = itest_path(&g_env, "t");
	assert_int_equal(umount2(tp, MNT_DETACH), 0);
	assert_int_equal(mount("loopnfs-it2", tp, "tmpfs", 0, "mode=0755,size=4m"), 0);
	assert_int_equal(itest_write_file(itest_path(&g_env, "t/tfile"), "new tmpfs", 9), 0);
	assert_nfsstat(getattr_status(&x, &tfile, NULL), NFS3ERR_STALE);
	assert_nfsstat(getattr_status(&x, &t, NULL), NFS3ERR_STALE);
	fh_t t2 = itc_lookup_ok(x.c, &x.root, "t");
	fattr3 new_t = itc_attr_ok(x.c, &t2);
	assert_true(new_t.fsid != old_t.fsid);
	fh_t f2 = itc_lookup_ok(x.c, &t2, "tfile");
	read_is(&x, &f2, "new tmpfs", "t/tfile on the new tmpfs");
	/* And after a restart: the old still stale, the new resolving. */
	stop(&x);
	start(&x, true);
	assert_nfsstat(getattr_status(&x, &tfile, NULL), NFS3ERR_STALE);
	read_is(&x, &f2, "new tmpfs", "t/tfile on the new tmpfs after a restart");
	stop(&x);
}

/* ------------------------------------------------------------ unprivileged */

#define NOBODY 65534

static struct itest_env g_nobody_env; /* the same DIR, a state directory nobody owns */

/* Start loopnfsd as nobody, through setpriv (a wrapper the harness runs as its binary). */
static void start_unprivileged(struct ctx *x, bool crossmnt)
{
	char *wrapper = itest_sprintf("%s/loopnfsd-as-nobody", g_env.base);
	char *script = itest_sprintf("#!/bin/sh\nexec setpriv --reuid=%d --regid=%d --clear-groups "
				     "'%s' \"$@\"\n",
				     NOBODY, NOBODY, itest_loopnfsd_path());
	assert_int_equal(itest_write_file(wrapper, script, strlen(script)), 0);
	assert_int_equal(chmod(wrapper, 0755), 0);
	char *real = itest_strdup(itest_loopnfsd_path());
	setenv("LOOPNFSD", wrapper, 1);
	int rc = itest_server_start(&g_srv, &g_nobody_env, crossmnt ? crossmnt_args : NULL);
	setenv("LOOPNFSD", real, 1);
	assert_int_equal(rc, 0);
	x->c = itc_connect(g_srv.port);
	assert_non_null(x->c);
	x->root = itc_root(x->c, "/");
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/*
 * Unprivileged the server has neither open_tree nor open_by_handle_at: it
 * cannot show what a mount covers (the mount point is refused, said once),
 * and with crossmnt it finds objects on a submount again by searching it.
 */
static void test_unprivileged(void **state)
{
	(void)state;
	const char *probe[] = { "setpriv", "--version", NULL };
	if (run_quiet(probe) != 0)
		skip();
	g_nobody_env = g_env;
	snprintf(g_nobody_env.state, sizeof(g_nobody_env.state), "%s/state-nobody", g_env.base);
	assert_int_equal(chmod(g_env.base, 0755), 0); /* mkdtemp's 0700: nobody could not enter */
	if (mkdir(g_nobody_env.state, 0700) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", g_nobody_env.state, strerror(errno));
	assert_int_equal(chown(g_nobody_env.state, NOBODY, NOBODY), 0);

	struct ctx x;
	start_unprivileged(&x, false);
	assert_nfsstat(lookup_status(&x, &x.root, "m"), NFS3ERR_ACCES);
	assert_nfsstat(lookup_status(&x, &x.root, "m"), NFS3ERR_ACCES);
	entryplus3 *e = plus_entry(&x, &x.root, "m");
	assert_false(e->name_attributes.attributes_follow);
	assert_false(e->name_handle.handle_follows);
	e = plus_entry(&x, &x.root, "top");
	assert_true(e->name_attributes.attributes_follow && e->name_handle.handle_follows);
	stop(&x);
	char *log = itest_slurp(g_srv.err_path);
	if (count(log, "/m is a mount point; run as root to serve the directory it covers, or "
		       "export with crossmnt") != 1)
		fail_msg("want the mount point logged once:\n%s", log);

	start_unprivileged(&x, true);
	fh_t m = itc_lookup_ok(x.c, &x.root, "m");
	fattr3 root_a = itc_attr_ok(x.c, &x.root), m_a = itc_attr_ok(x.c, &m);
	assert_true(m_a.fileid == EXT4_ROOT_INO && m_a.fsid != root_a.fsid);
	fh_t deep = itc_walk(x.c, &m, "extdir/deep");
	fattr3 deep_a = itc_attr_ok(x.c, &deep);
	stop(&x);
	/* A new server has nothing cached: the handle is found by searching the ext4. */
	start_unprivileged(&x, true);
	same_object(&x, &deep, &deep_a, "m/extdir/deep (unprivileged)");
	read_is(&x, &deep, "deep", "m/extdir/deep after an unprivileged restart");
	same_object(&x, &m, &m_a, "m (unprivileged)");
	stop(&x);
}

/* ------------------------------------------------------------ main */

/* ------------------------------------------------------------ the exports file */

static void write_exports(const char *path, const char *opts)
{
	char *line = itest_sprintf("%s 127.0.0.1(%s) ::1(%s)\n", g_env.dir, opts, opts);
	char *tmp = itest_sprintf("%s.tmp", path);
	assert_int_equal(itest_write_file(tmp, line, strlen(line)), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void reload_server(void)
{
	assert_int_equal(itest_server_reload(&g_srv), 0);
}

/*
 * crossmnt and nohide in the exports file do what --crossmnt does, and a
 * reload that turns crossmnt on or off applies to the next LOOKUP.
 */
static void test_exports_file_option(void **state)
{
	(void)state;
	char *conf = itest_sprintf("%s/exports", g_env.base);
	write_exports(conf, "rw,no_root_squash,insecure,nohide");
	const char *extra[] = { "-c", conf, NULL };
	const char *no_dirs[] = { NULL };
	assert_int_equal(itest_server_start_dirs(&g_srv, &g_env, extra, no_dirs), 0);
	struct ctx x = { .c = itc_connect(g_srv.port) };
	assert_non_null(x.c);
	x.root = itc_root(x.c, "/");
	fh_t m = itc_lookup_ok(x.c, &x.root, "m");
	assert_int_equal(lookup_status(&x, &m, "ext-file"), NFS3_OK);
	assert_int_equal(lookup_status(&x, &m, "covered-marker"), NFS3ERR_NOENT);
	fattr3 top, sub;
	assert_int_equal(getattr_status(&x, &x.root, &top), NFS3_OK);
	assert_int_equal(getattr_status(&x, &m, &sub), NFS3_OK);
	assert_true(top.fsid != sub.fsid);

	/* Reloaded without it: the mount point is the directory it covers. */
	write_exports(conf, "rw,no_root_squash,insecure");
	reload_server();
	fh_t covered = itc_lookup_ok(x.c, &x.root, "m");
	assert_int_equal(lookup_status(&x, &covered, "covered-marker"), NFS3_OK);
	assert_int_equal(lookup_status(&x, &covered, "ext-file"), NFS3ERR_NOENT);
	assert_int_equal(getattr_status(&x, &covered, &sub), NFS3_OK);
	assert_true(top.fsid == sub.fsid);

	/* And back, with crossmnt: the ext4 again, on the same connection. */
	write_exports(conf, "rw,no_root_squash,insecure,crossmnt");
	reload_server();
	m = itc_lookup_ok(x.c, &x.root, "m");
	assert_int_equal(lookup_status(&x, &m, "ext-file"), NFS3_OK);
	stop(&x);
}

static bool can_run(const char **why)
{
	if (geteuid() != 0) {
		*why = "needs root (loop mounts)";
		return false;
	}
	if (access("/dev/loop-control", W_OK) != 0) {
		*why = "no /dev/loop-control";
		return false;
	}
	const char *mkfs[] = { "mkfs.ext4", "-V", NULL };
	if (run_quiet(mkfs) != 0) {
		*why = "no mkfs.ext4 (e2fsprogs)";
		return false;
	}
	/* Every mount made from here on, loopnfsd's view included, goes with this process. */
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		*why = "cannot make a private mount namespace";
		return false;
	}
	return true;
}

int main(void)
{
	const char *why;
	if (!can_run(&why)) {
		printf("[  SKIPPED ] integration.crossmnt: %s\n", why);
		return SKIP_CODE;
	}
#define T(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hidden_without_crossmnt),      T(test_crossmnt_across_restart),
		T(test_replaced_filesystem_is_stale), T(test_unprivileged),
		T(test_exports_file_option),
	};
	return cmocka_run_group_tests_name("integration.crossmnt", tests, group_setup,
					   group_teardown);
}
