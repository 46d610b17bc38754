/*
 * The pseudo backend (server/backend/pseudo) through the vfs layer: the
 * synthesized read-only root over two and three export directories, its
 * lookups (names, ".", "..", ".." of an export root), READDIR with its
 * cookies and entry attributes, refused mutations, access, statfs, names
 * that clash, unknown nodes, and fsids.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "attr.h"
#include "backend.h"
#include "cred.h"
#include "export.h"
#include "fh.h"
#include "objcache.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NDIRS 3
static const char *const names[NDIRS] = { "alpha", "beta", "gamma" };
static const struct export_opts opts = { .anonuid = 65534, .anongid = 65534 };

static char *base, *statedir;
static char *dirs[NDIRS];
static unsigned ndirs;	      /* exports in this test: 2 or 3 */
static unsigned order[NDIRS]; /* dirs[order[i]] is the i-th export given */
static struct ut_rpc rpc;

/* ------------------------------------------------------------ fixture */

static void build(const unsigned *ord, unsigned n)
{
	oc_shutdown();
	export_free_all();
	char err[512];
	for (unsigned i = 0; i < n; i++) {
		order[i] = ord[i];
		if (!export_add(dirs[ord[i]], &opts, err, sizeof(err)))
			fail_msg("export_add %s: %s", dirs[ord[i]], err);
	}
	if (export_finish(err, sizeof(err)) != 0)
		fail_msg("export_finish: %s", err);
	assert_non_null(export_pseudo_root());
	assert_int_equal(export_count(), n);
}

static int setup_n(void **state)
{
	ndirs = *(unsigned *)*state;
	base = ut_mkdtemp("pseudo");
	if (!base)
		return -1;
	statedir = ut_join(base, "state");
	cred_init();
	if (fh_init(statedir) != 0)
		return -1;
	for (unsigned i = 0; i < NDIRS; i++) {
		dirs[i] = ut_join(base, names[i]);
		ut_mkdir(dirs[i]);
		char *f = ut_join(dirs[i], "file");
		ut_touch(f);
		free(f);
		char *sub = ut_join(dirs[i], "sub");
		ut_mkdir(sub);
		free(sub);
	}
	static const unsigned ident[NDIRS] = { 0, 1, 2 };
	build(ident, ndirs);
	return 0;
}

static int teardown(void **state)
{
	oc_shutdown();
	export_free_all();
	ut_rm_rf(base);
	free(base);
	free(statedir);
	for (unsigned i = 0; i < NDIRS; i++) {
		free(dirs[i]);
		dirs[i] = NULL;
	}
	base = statedir = NULL;
	return 0;
}

/* ------------------------------------------------------------ helpers */

static struct export *top(void)
{
	return export_pseudo_root();
}

/* The i-th export given (its directory is dirs[order[i]]). */
static struct export *ex_at(unsigned i)
{
	struct export *ex = export_get(i);
	assert_non_null(ex);
	assert_string_equal(ex->name, names[order[i]]);
	return ex;
}

static struct vfs_obj *resolve(const struct fh_buf *fh)
{
	ut_rpc_init(&rpc, 0, 0);
	struct vfs_obj *obj = NULL;
	int rc = vfs_resolve(&rpc.req, fh->data, fh->len, &obj);
	ut_rpc_done(&rpc);
	if (rc != 0)
		fail_msg("vfs_resolve: %d", rc);
	return obj;
}

static int resolve_rc(const struct fh_buf *fh)
{
	ut_rpc_init(&rpc, 0, 0);
	struct vfs_obj *obj = NULL;
	int rc = vfs_resolve(&rpc.req, fh->data, fh->len, &obj);
	ut_rpc_done(&rpc);
	if (rc == 0)
		vfs_put(obj);
	else
		assert_null(obj);
	return rc;
}

static void root_new(struct vfs_new *n)
{
	assert_int_equal(vfs_mount_lookup(top(), "", n), 0);
	assert_ptr_equal(n->ex, top());
}

static struct vfs_obj *root_obj(void)
{
	struct vfs_new n;
	root_new(&n);
	struct vfs_obj *obj = resolve(&n.fh);
	assert_ptr_equal(obj->ex, top());
	assert_true(obj->is_root);
	return obj;
}

static void export_root_new(struct export *ex, struct vfs_new *n)
{
	assert_int_equal(vfs_mount_lookup(ex, "", n), 0);
	assert_ptr_equal(n->ex, ex);
}

static void assert_same_fh(const struct fh_buf *a, const struct fh_buf *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

/* ------------------------------------------------------------ the root */

static void test_root_attrs(void **state)
{
	struct vfs_new n;
	root_new(&n);
	struct fh_view v;
	assert_int_equal(fh_decode(n.fh.data, n.fh.len, &v), 0);
	assert_int_equal(v.export_id, 0);
	assert_int_equal(v.backend, FH_PSEUDO);

	struct vfs_obj *root = root_obj();
	assert_true(S_ISDIR(root->st.st_mode));
	assert_int_equal(root->st.st_mode & 07777, 0555);
	assert_int_equal(root->st.st_mode, S_IFDIR | 0555);
	/* "." and ".." of itself plus each export's "..". */
	assert_int_equal(root->st.st_nlink, 2 + ndirs);
	assert_int_equal(root->st.st_ino, n.st.st_ino);
	assert_true(root->st.st_ino != 0);
	struct stat st;
	assert_int_equal(vfs_getattr(root, &st), 0);
	assert_int_equal(st.st_ino, root->st.st_ino);
	assert_int_equal(st.st_mode, root->st.st_mode);
	assert_int_equal(vfs_refresh(root), 0);
	assert_int_equal(root->st.st_ino, n.st.st_ino);
	ino_t ino = root->st.st_ino;
	vfs_put(root);

	/* The same handle and fileid after the table is rebuilt in another order. */
	static const unsigned rev[NDIRS] = { 2, 1, 0 };
	build(rev + (NDIRS - ndirs), ndirs);
	struct vfs_new again;
	root_new(&again);
	assert_same_fh(&again.fh, &n.fh);
	root = resolve(&n.fh);
	assert_true(root->is_root);
	assert_int_equal(root->st.st_ino, ino);
	assert_int_equal(root->st.st_mode, S_IFDIR | 0555);
	vfs_put(root);
}

static void test_lookup_names(void **state)
{
	struct vfs_obj *root = root_obj();
	struct vfs_new rn;
	root_new(&rn);
	for (unsigned i = 0; i < ndirs; i++) {
		struct export *ex = ex_at(i);
		struct vfs_new n, want;
		assert_int_equal(vfs_lookup(root, ex->name, &n), 0);
		export_root_new(ex, &want);
		assert_ptr_equal(n.ex, ex);
		assert_same_fh(&n.fh, &want.fh);
		struct stat st;
		assert_int_equal(stat(ex->path, &st), 0);
		assert_int_equal(n.st.st_ino, st.st_ino);
		assert_int_equal(n.st.st_dev, st.st_dev);
		assert_true(S_ISDIR(n.st.st_mode));
		/* And it resolves to that export's root. */
		struct vfs_obj *o = resolve(&n.fh);
		assert_ptr_equal(o->ex, ex);
		assert_true(o->is_root);
		vfs_put(o);
	}
	static const char *const self[] = { ".", ".." };
	for (unsigned i = 0; i < 2; i++) {
		struct vfs_new n;
		assert_int_equal(vfs_lookup(root, self[i], &n), 0);
		assert_ptr_equal(n.ex, top());
		assert_same_fh(&n.fh, &rn.fh);
		assert_int_equal(n.st.st_ino, rn.st.st_ino);
	}
	struct vfs_new n;
	assert_int_equal(vfs_lookup(root, "nosuch", &n), -ENOENT);
	assert_int_equal(vfs_lookup(root, "file", &n), -ENOENT); /* a name inside an export */
	/* A name given to no export, even one a later table would have. */
	if (ndirs < NDIRS)
		assert_int_equal(vfs_lookup(root, names[NDIRS - 1], &n), -ENOENT);
	vfs_put(root);
}

/* ------------------------------------------------------------ READDIR */

#define LIST_MAX 16
struct listed {
	char name[64];
	uint64_t fileid, cookie;
	int arc; /* attrs() */
	struct vfs_new attr;
};

struct list {
	struct listed e[LIST_MAX];
	unsigned n;
	unsigned stop_after; /* refuse the entry after this many; 0: take all */
	bool plus;
};

static bool collect(void *ctx, const struct vfs_dirent *de)
{
	struct list *l = ctx;
	if (l->stop_after && l->n == l->stop_after)
		return false;
	if (l->n >= LIST_MAX)
		return false;
	struct listed *x = &l->e[l->n++];
	assert_true(de->namelen < sizeof(x->name));
	memcpy(x->name, de->name, de->namelen);
	x->name[de->namelen] = '\0';
	x->fileid = de->fileid;
	x->cookie = de->cookie;
	x->arc = -1;
	if (l->plus) {
		assert_non_null(de->attrs);
		x->arc = de->attrs(de, &x->attr);
	}
	return true;
}

static int list_dir(struct vfs_obj *dir, uint64_t cookie, bool plus, unsigned stop_after,
		    struct list *l, bool *eof)
{
	memset(l, 0, sizeof(*l));
	l->plus = plus;
	l->stop_after = stop_after;
	*eof = false;
	return vfs_readdir(dir, cookie, 4096, plus, collect, l, eof);
}

/* ".", "..", then each export's name in the order given. */
static void check_full_listing(struct vfs_obj *root, const struct list *l)
{
	struct vfs_new rn;
	root_new(&rn);
	assert_int_equal(l->n, 2 + ndirs);
	assert_string_equal(l->e[0].name, ".");
	assert_string_equal(l->e[1].name, "..");
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(l->e[k].fileid, root->st.st_ino);
		if (l->plus) {
			assert_int_equal(l->e[k].arc, 0);
			assert_ptr_equal(l->e[k].attr.ex, top());
			assert_same_fh(&l->e[k].attr.fh, &rn.fh);
			assert_int_equal(l->e[k].attr.st.st_ino, root->st.st_ino);
		}
	}
	for (unsigned i = 0; i < ndirs; i++) {
		const struct listed *x = &l->e[2 + i];
		struct export *ex = ex_at(i);
		assert_string_equal(x->name, ex->name);
		struct stat st;
		assert_int_equal(stat(ex->path, &st), 0);
		/* The fileid is that of what the name leads to: the export's root. */
		assert_int_equal(x->fileid, st.st_ino);
		if (l->plus) {
			struct vfs_new want;
			export_root_new(ex, &want);
			assert_int_equal(x->arc, 0);
			assert_ptr_equal(x->attr.ex, ex);
			assert_same_fh(&x->attr.fh, &want.fh);
			assert_int_equal(x->attr.st.st_ino, st.st_ino);
			assert_int_equal(x->attr.st.st_dev, st.st_dev);
			assert_int_equal(x->attr.st.st_mode, st.st_mode);
			assert_int_equal(x->fileid, x->attr.st.st_ino);
		}
	}
	/* Cookies: distinct, never 0. */
	for (unsigned a = 0; a < l->n; a++) {
		assert_true(l->e[a].cookie != 0);
		for (unsigned b = 0; b < a; b++)
			assert_true(l->e[a].cookie != l->e[b].cookie);
	}
}

static void test_dotdot_from_export_root(void **state)
{
	struct vfs_new rn;
	root_new(&rn);
	for (unsigned i = 0; i < ndirs; i++) {
		struct export *ex = ex_at(i);
		struct vfs_new n;
		export_root_new(ex, &n);
		struct vfs_obj *er = resolve(&n.fh);
		assert_ptr_equal(er->ex, ex);
		assert_true(er->is_root);

		struct vfs_new up;
		assert_int_equal(vfs_lookup(er, "..", &up), 0);
		assert_ptr_equal(up.ex, top());
		assert_same_fh(&up.fh, &rn.fh);
		assert_int_equal(up.st.st_ino, rn.st.st_ino);
		/* "." of an export root is itself. */
		assert_int_equal(vfs_lookup(er, ".", &up), 0);
		assert_same_fh(&up.fh, &n.fh);

		struct vfs_new sub;
		assert_int_equal(vfs_lookup(er, "sub", &sub), 0);
		struct vfs_obj *so = resolve(&sub.fh);
		assert_false(so->is_root);
		/* ".." below an export root stays in the export. */
		assert_int_equal(vfs_lookup(so, "..", &up), 0);
		assert_ptr_equal(up.ex, ex);
		assert_same_fh(&up.fh, &n.fh);
		vfs_put(so);

		/* Its listing's ".." is the root too: fileid and READDIRPLUS handle. */
		struct list l;
		bool eof;
		assert_int_equal(list_dir(er, 0, true, 0, &l, &eof), 0);
		assert_true(eof);
		bool seen = false;
		for (unsigned k = 0; k < l.n; k++) {
			if (strcmp(l.e[k].name, "..") != 0)
				continue;
			seen = true;
			assert_int_equal(l.e[k].fileid, rn.st.st_ino);
			assert_int_equal(l.e[k].arc, 0);
			assert_ptr_equal(l.e[k].attr.ex, top());
			assert_same_fh(&l.e[k].attr.fh, &rn.fh);
		}
		assert_true(seen);
		vfs_put(er);
	}
}

static void test_readdir(void **state)
{
	struct vfs_obj *root = root_obj();
	struct list l, r;
	bool eof;
	for (int plus = 0; plus <= 1; plus++) {
		assert_int_equal(list_dir(root, 0, plus, 0, &l, &eof), 0);
		assert_true(eof);
		check_full_listing(root, &l);

		/* Restart from each cookie: the rest of the listing, the same entries. */
		for (unsigned j = 0; j < l.n; j++) {
			assert_int_equal(list_dir(root, l.e[j].cookie, plus, 0, &r, &eof), 0);
			assert_true(eof);
			assert_int_equal(r.n, l.n - j - 1);
			for (unsigned k = 0; k < r.n; k++) {
				assert_string_equal(r.e[k].name, l.e[j + 1 + k].name);
				assert_int_equal(r.e[k].cookie, l.e[j + 1 + k].cookie);
				assert_int_equal(r.e[k].fileid, l.e[j + 1 + k].fileid);
			}
		}

		/* One entry per call: a refused entry is not consumed. */
		uint64_t cookie = 0;
		unsigned got = 0;
		for (unsigned calls = 0; calls < 2 * LIST_MAX; calls++) {
			assert_int_equal(list_dir(root, cookie, plus, 1, &r, &eof), 0);
			if (r.n == 0) {
				assert_true(eof);
				break;
			}
			assert_int_equal(r.n, 1);
			assert_true(got < l.n);
			assert_string_equal(r.e[0].name, l.e[got].name);
			assert_int_equal(r.e[0].cookie, l.e[got].cookie);
			got++;
			cookie = r.e[0].cookie;
			if (eof)
				break;
		}
		assert_int_equal(got, l.n);
		assert_true(eof);
	}
	vfs_put(root);

	/* Another order given: listed in that order. */
	static const unsigned rev[NDIRS] = { 2, 1, 0 };
	build(rev + (NDIRS - ndirs), ndirs);
	root = root_obj();
	assert_int_equal(list_dir(root, 0, true, 0, &l, &eof), 0);
	assert_true(eof);
	check_full_listing(root, &l);
	assert_string_equal(l.e[2].name, names[ndirs - 1]);
	vfs_put(root);
}

static void test_readdir_bad_cookie(void **state)
{
	struct vfs_obj *root = root_obj();
	struct list l, r;
	bool eof;
	assert_int_equal(list_dir(root, 0, false, 0, &l, &eof), 0);
	uint64_t last = 0;
	for (unsigned i = 0; i < l.n; i++)
		if (l.e[i].cookie > last)
			last = l.e[i].cookie;
	/* The last cookie is good: nothing more, end of directory. */
	assert_int_equal(list_dir(root, last, false, 0, &r, &eof), 0);
	assert_int_equal(r.n, 0);
	assert_true(eof);
	/* Cookies this directory never gave. */
	const uint64_t bad[] = { last + 1, last + 100, UINT64_MAX, UINT64_MAX / 2 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = list_dir(root, bad[i], true, 0, &r, &eof);
		if (rc != -EBADCOOKIE)
			fail_msg("cookie %llu: %d, want -EBADCOOKIE", (unsigned long long)bad[i],
				 rc);
		assert_int_equal(r.n, 0);
	}
	vfs_put(root);
}

/* ------------------------------------------------------------ read-only */

static void assert_rofs(int rc, const char *op)
{
	if (rc != -EROFS)
		fail_msg("%s on the root: %d, want -EROFS", op, rc);
}

static void test_mutations_refused(void **state)
{
	struct vfs_obj *root = root_obj();
	const struct vfs_ops *ops = root->ex->ops;
	const char *name = ex_at(0)->name;
	struct vfs_new n;
	assert_rofs(ops->create(root, "new", 0644, &n), "create");
	assert_rofs(ops->mkdir(root, "newdir", 0755, &n), "mkdir");
	assert_rofs(ops->symlink(root, "sym", "target", &n), "symlink");
	assert_rofs(ops->mknod(root, "fifo", S_IFIFO | 0644, 0, &n), "mknod");
	assert_rofs(ops->remove(root, name, true), "remove (rmdir)");
	assert_rofs(ops->remove(root, name, false), "remove");
	assert_rofs(ops->remove(root, "nosuch", false), "remove of a missing name");
	assert_rofs(ops->rename(root, name, root, "renamed"), "rename");
	assert_rofs(ops->link(root, root, "hard"), "link");
	struct vfs_sattr sa = { .mask = VFS_SET_MODE, .mode = 0777 };
	assert_rofs(ops->setattr(root, &sa), "setattr mode");
	struct vfs_sattr sz = { .mask = VFS_SET_SIZE, .size = 0 };
	assert_rofs(ops->setattr(root, &sz), "setattr size");
	struct vfs_sattr tm = { .mask = VFS_SET_MTIME | VFS_SET_ATIME,
				.atime = { 0, UTIME_NOW },
				.mtime = { 0, UTIME_NOW } };
	assert_rofs(ops->setattr(root, &tm), "setattr times");
	assert_rofs((int)ops->write(root, "x", 1, 0, VFS_FILE_SYNC), "write");
	assert_rofs((int)ops->write(root, "x", 1, 0, VFS_UNSTABLE), "unstable write");
	assert_rofs(ops->commit(root), "commit");

	/* Nothing changed: same attributes, same listing, the exports untouched. */
	struct stat st;
	assert_int_equal(vfs_getattr(root, &st), 0);
	assert_int_equal(st.st_mode, S_IFDIR | 0555);
	assert_int_equal(st.st_nlink, 2 + ndirs);
	struct list l;
	bool eof;
	assert_int_equal(list_dir(root, 0, false, 0, &l, &eof), 0);
	assert_int_equal(l.n, 2 + ndirs);
	assert_string_equal(l.e[2].name, name);
	struct vfs_new tmp;
	assert_int_equal(vfs_lookup(root, "new", &tmp), -ENOENT);
	assert_int_equal(vfs_lookup(root, "renamed", &tmp), -ENOENT);
	for (unsigned i = 0; i < ndirs; i++) {
		char *p = ut_join(dirs[i], "new");
		assert_int_equal(access(p, F_OK), -1);
		free(p);
	}
	vfs_put(root);
}

static void test_access_statfs(void **state)
{
	struct vfs_obj *root = root_obj();
	const struct vfs_ops *ops = root->ex->ops;
	assert_true(ops->access(root, W_OK) < 0);
	assert_true(ops->access(root, R_OK | W_OK) < 0);
	assert_true(ops->access(root, W_OK | X_OK) < 0);
	assert_int_equal(ops->access(root, R_OK | X_OK), 0);
	assert_int_equal(ops->access(root, R_OK), 0);
	assert_int_equal(ops->access(root, X_OK), 0);
	assert_int_equal(ops->access(root, F_OK), 0);

	struct vfs_statfs sf;
	memset(&sf, 0xff, sizeof(sf));
	assert_int_equal(ops->statfs(root, &sf), 0);
	assert_true(sf.fbytes <= sf.tbytes);
	assert_true(sf.abytes <= sf.fbytes);
	assert_true(sf.ffiles <= sf.tfiles);
	assert_true(sf.afiles <= sf.ffiles);
	assert_true(sf.linkmax >= 1);

	/* Read-only calls refused as a directory's would be. */
	char buf[16];
	assert_true(ops->read(root, buf, sizeof(buf), 0) < 0);
	assert_true(ops->readlink(root, buf, sizeof(buf)) < 0);
	vfs_put(root);
}

/* ------------------------------------------------------------ configuration */

static void test_same_basename_refused(void **state)
{
	oc_shutdown();
	export_free_all();
	char *x = ut_join(base, "x"), *y = ut_join(base, "y");
	char *xa = ut_join(x, "a"), *ya = ut_join(y, "a");
	ut_mkdir(x);
	ut_mkdir(y);
	ut_mkdir(xa);
	ut_mkdir(ya);
	char err[1024] = "";
	struct export *a = export_add(xa, &opts, err, sizeof(err));
	struct export *b = export_add(ya, &opts, err, sizeof(err));
	assert_non_null(a);
	assert_non_null(b);
	err[0] = '\0';
	assert_int_not_equal(export_finish(err, sizeof(err)), 0);
	assert_null(export_pseudo_root());
	if (!strstr(err, a->path) || !strstr(err, b->path))
		fail_msg("message does not name both %s and %s: \"%s\"", a->path, b->path, err);
	assert_non_null(strstr(err, "/a"));

	/* With a third, differently named, still refused. */
	export_free_all();
	assert_non_null(export_add(dirs[0], &opts, err, sizeof(err)));
	assert_non_null(export_add(xa, &opts, err, sizeof(err)));
	assert_non_null(export_add(ya, &opts, err, sizeof(err)));
	err[0] = '\0';
	assert_int_not_equal(export_finish(err, sizeof(err)), 0);
	assert_null(export_pseudo_root());
	assert_non_null(strstr(err, "/x/a"));
	assert_non_null(strstr(err, "/y/a"));
	export_free_all();
	free(x);
	free(y);
	free(xa);
	free(ya);
}

static void test_unknown_node_stale(void **state)
{
	struct vfs_new rn;
	root_new(&rn);
	struct fh_view v;
	assert_int_equal(fh_decode(rn.fh.data, rn.fh.len, &v), 0);
	assert_int_equal(v.len, 8);

	/* Authentic, but no node of the tree has this id. */
	uint8_t p[8];
	struct fh_buf h;
	const uint64_t unknown[] = { 0, 2, 0x123456789abcdefull, UINT64_MAX };
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		fh_put_be64(p, unknown[i]);
		if (memcmp(p, v.payload, 8) == 0)
			continue;
		fh_encode(0, FH_PSEUDO, VFS_DIR, p, sizeof(p), &h);
		int rc = resolve_rc(&h);
		if (rc != -ESTALE)
			fail_msg("node id %llx: %d, want -ESTALE", (unsigned long long)unknown[i],
				 rc);
	}
	/* The root's own payload re-encoded is the root again. */
	fh_encode(0, FH_PSEUDO, VFS_DIR, v.payload, v.len, &h);
	assert_same_fh(&h, &rn.fh);
	assert_int_equal(resolve_rc(&h), 0);

	/* A pseudo payload of the wrong size is no handle of the pseudo backend. */
	uint8_t longer[9] = { 0 };
	memcpy(longer, v.payload, 8);
	fh_encode(0, FH_PSEUDO, VFS_DIR, longer, 9, &h);
	assert_int_equal(resolve_rc(&h), -EBADHANDLE);
	fh_encode(0, FH_PSEUDO, VFS_DIR, v.payload, 7, &h);
	assert_int_equal(resolve_rc(&h), -EBADHANDLE);

	/* The root's payload under an export's id, or a passthrough handle under the root's. */
	fh_encode(ex_at(0)->id, FH_PSEUDO, VFS_DIR, v.payload, v.len, &h);
	assert_int_equal(resolve_rc(&h), -ESTALE);
	struct vfs_new en;
	export_root_new(ex_at(0), &en);
	struct fh_view ev;
	assert_int_equal(fh_decode(en.fh.data, en.fh.len, &ev), 0);
	fh_encode(0, FH_PASSTHROUGH, VFS_DIR, ev.payload, ev.len, &h);
	assert_int_equal(resolve_rc(&h), -ESTALE);
}

static void test_fsids(void **state)
{
	struct export *root = top();
	uint64_t fsid[NDIRS], root_fsid = root->fsid;
	for (unsigned i = 0; i < ndirs; i++) {
		struct export *ex = ex_at(i);
		fsid[order[i]] = ex->fsid;
		assert_true(ex->fsid != root_fsid);
		for (unsigned j = 0; j < i; j++)
			assert_true(ex_at(j)->fsid != ex->fsid);
	}

	/* The attributes: the root reports its own fsid, each export root its own. */
	struct vfs_obj *ro = root_obj();
	fattr3 fa;
	attr_fill(ro->ex, &ro->st, &fa);
	assert_int_equal(fa.fsid, root_fsid);
	assert_int_equal(fa.fileid, ro->st.st_ino);
	assert_int_equal(fa.type, NF3DIR);
	assert_int_equal(fa.mode, 0555);
	struct list l;
	bool eof;
	assert_int_equal(list_dir(ro, 0, true, 0, &l, &eof), 0);
	assert_int_equal(l.n, 2 + ndirs);
	for (unsigned k = 0; k < l.n; k++) {
		/* What READDIRPLUS would report for each entry. */
		assert_int_equal(l.e[k].arc, 0);
		attr_fill(l.e[k].attr.ex, &l.e[k].attr.st, &fa);
		if (k < 2) {
			assert_int_equal(fa.fsid, root_fsid);
		} else {
			struct export *ex = ex_at(k - 2);
			assert_int_equal(fa.fsid, ex->fsid);
			assert_int_equal(fa.fileid, l.e[k].fileid);
		}
	}
	for (unsigned i = 0; i < ndirs; i++) {
		struct export *ex = ex_at(i);
		struct vfs_new n;
		export_root_new(ex, &n);
		struct vfs_obj *o = resolve(&n.fh);
		attr_fill(o->ex, &o->st, &fa);
		assert_int_equal(fa.fsid, ex->fsid);
		assert_true(fa.fsid != root_fsid);
		vfs_put(o);
	}
	vfs_put(ro);

	/* Stable: the same after rebuilding the table in another order. */
	static const unsigned rev[NDIRS] = { 2, 1, 0 };
	build(rev + (NDIRS - ndirs), ndirs);
	assert_int_equal(top()->fsid, root_fsid);
	for (unsigned i = 0; i < ndirs; i++)
		assert_int_equal(ex_at(i)->fsid, fsid[order[i]]);
	ro = root_obj();
	attr_fill(ro->ex, &ro->st, &fa);
	assert_int_equal(fa.fsid, root_fsid);
	vfs_put(ro);
}

static unsigned two = 2, three = 3;

#define BOTH(t)                                                               \
	cmocka_unit_test_prestate_setup_teardown(t, setup_n, teardown, &two), \
		cmocka_unit_test_prestate_setup_teardown(t, setup_n, teardown, &three)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_root_attrs),
		BOTH(test_lookup_names),
		BOTH(test_dotdot_from_export_root),
		BOTH(test_readdir),
		BOTH(test_readdir_bad_cookie),
		BOTH(test_mutations_refused),
		BOTH(test_access_statfs),
		BOTH(test_unknown_node_stale),
		BOTH(test_fsids),
		cmocka_unit_test_prestate_setup_teardown(test_same_basename_refused, setup_n,
							 teardown, &two),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
