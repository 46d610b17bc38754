/*
 * File handles (server/vfs/fh_codec.c, vfs.c, objcache.c and the
 * passthrough backend's server/backend/passthrough/pt_handle.c): size,
 * canonical bytes, resolution, tamper resistance, staleness, renames, key
 * persistence, export confinement.
 *
 * Run twice by ctest: as is (cred_init(): as root, resolution uses
 * open_by_handle_at) and with --search (no cred_init(): the server acts as
 * an unprivileged user and finds objects by walking the export).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "backend.h"
#include "cred.h"
#include "errmap.h"
#include "fh.h"
#include "fs.h"
#include "log.h"
#include "nfs3.h"
#include "objcache.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * The wire layout documented in include/fh.h (the header) and at the top of
 * server/backend/passthrough/pt_handle.c (the passthrough payload).
 */
#define L_VERSION 0
#define L_BACKEND 1
#define L_TYPE 2
#define L_PAYLEN 3 /* payload length */
#define L_EXPORT 4 /* export id, 4 bytes big-endian */
#define L_MAC 8	   /* 8 bytes */
#define L_HDR 16   /* the payload starts here */
#define L_KHTYPE 16
#define L_INO 17 /* 8 bytes big-endian */
#define L_KH 25	 /* the kernel handle */

_Static_assert(L_HDR == FH_HDR, "the header is 16 bytes");

_Static_assert(FH_SIZE_MAX <= 64, "NFSv3 handles are at most 64 bytes");

static bool search_mode;
static char self_exe[PATH_MAX];
static char *base, *statedir, *exdir, *ex2dir, *outdir;
static struct export *ex, *ex2;

/* ------------------------------------------------------------ helpers */

static char *P(const char *rel) /* path inside the export; static ring of buffers */
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	char *b = bufs[n++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", exdir, rel);
	return b;
}

static void touch_rel(const char *rel)
{
	ut_touch(P(rel));
}

static void mkdir_rel(const char *rel)
{
	ut_mkdir(P(rel));
}

/* Handle of rel (relative to the export root; "" is the root), via its parent directory. */
static void hmake_in(struct export *e, const char *rel, struct fh_buf *out)
{
	struct stat st;
	int root = pt_export(e)->root_fd;
	memset(out, 0, sizeof(*out));
	if (!rel[0]) {
		assert_int_equal(fstat(root, &st), 0);
		pt_make_fh(e, root, "", &st, out);
		assert_true(out->len >= L_KH);
		return;
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", rel);
	char *slash = strrchr(tmp, '/');
	int pfd;
	const char *name;
	if (slash) {
		*slash = '\0';
		name = slash + 1;
		pfd = openat(root, tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		name = tmp;
		pfd = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (pfd < 0)
		fail_msg("open parent of %s: %s", rel, strerror(errno));
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		fail_msg("stat %s: %s", rel, strerror(errno));
	pt_make_fh(e, pfd, name, &st, out);
	assert_true(out->len >= L_KH);
	close(pfd);
}

static void hmake(const char *rel, struct fh_buf *out)
{
	hmake_in(ex, rel, out);
}

static nfsstat3 resolve_raw(const void *data, unsigned len, struct stat *st_out,
			    struct export **ex_out)
{
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	nfs_fh3 w;
	w.data.data_len = len;
	w.data.data_val = (char *)data;
	struct vfs_obj *obj = (struct vfs_obj *)1;
	nfsstat3 s = nfs3_resolve(&u.req, &w, &obj);
	if (s == NFS3_OK) {
		assert_non_null(obj);
		assert_true(obj->be.pt.fd >= 0);
		assert_ptr_equal(u.req.ex, obj->ex);
		if (st_out)
			*st_out = obj->st;
		if (ex_out)
			*ex_out = obj->ex;
		vfs_put(obj);
	} else {
		assert_null(obj);
	}
	ut_rpc_done(&u);
	return s;
}

static nfsstat3 resolve(const struct fh_buf *b, struct stat *st_out)
{
	return resolve_raw(b->data, b->len, st_out, NULL);
}

/* Resolve and keep holding the object (as a request does) until ut_rpc_done. */
static struct vfs_obj *hold(const struct fh_buf *b, struct ut_rpc *u)
{
	ut_rpc_init(u, 0, 0);
	nfs_fh3 w;
	fh_to_wire(b, &w);
	struct vfs_obj *obj;
	assert_int_equal(nfs3_resolve(&u->req, &w, &obj), NFS3_OK);
	return obj;
}

static void expect_resolves_to(const struct fh_buf *b, const char *rel)
{
	struct stat want, got;
	assert_int_equal(lstat(P(rel), &want), 0);
	nfsstat3 s = resolve(b, &got);
	if (s != NFS3_OK)
		fail_msg("handle of %s: %s, want OK", rel, nfs3_strstat(s));
	if (got.st_ino != want.st_ino || got.st_dev != want.st_dev)
		fail_msg("handle of %s resolved to inode %lu, want %lu", rel,
			 (unsigned long)got.st_ino, (unsigned long)want.st_ino);
	assert_int_equal(got.st_mode & S_IFMT, want.st_mode & S_IFMT);
}

static void expect_status(const struct fh_buf *b, nfsstat3 want, const char *what)
{
	nfsstat3 s = resolve(b, NULL);
	if (s != want)
		fail_msg("%s: %s, want %s", what, nfs3_strstat(s), nfs3_strstat(want));
}

static void expect_same(const struct fh_buf *a, const struct fh_buf *b, const char *what)
{
	if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
		char ha[2 * FH_SIZE_MAX + 1], hb[2 * FH_SIZE_MAX + 1];
		ut_hex(a->data, a->len, ha);
		ut_hex(b->data, b->len, hb);
		fail_msg("%s: handles differ:\n  %s\n  %s", what, ha, hb);
	}
}

static bool same_bytes(const struct fh_buf *a, const struct fh_buf *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void read_key(const char *dir, uint8_t key[crypto_shorthash_KEYBYTES])
{
	char *p = ut_join(dir, "handle.key");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s", p, strerror(errno));
	assert_int_equal(read(fd, key, crypto_shorthash_KEYBYTES), crypto_shorthash_KEYBYTES);
	close(fd);
	free(p);
}

/* Recompute the MAC of an edited handle with the server's own key (forgery by the key holder). */
static void remac(struct fh_buf *b)
{
	uint8_t key[crypto_shorthash_KEYBYTES];
	read_key(statedir, key);
	/* Bytes 0..7, then the payload: every byte but the MAC's own. */
	uint8_t msg[FH_SIZE_MAX];
	memcpy(msg, b->data, L_MAC);
	memcpy(msg + L_MAC, b->data + L_HDR, b->len - L_HDR);
	crypto_shorthash(b->data + L_MAC, msg, b->len - (L_HDR - L_MAC), key);
}

static uint32_t get_export(const struct fh_buf *b)
{
	const uint8_t *p = b->data + L_EXPORT;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_export(struct fh_buf *b, uint32_t id)
{
	for (int i = 3; i >= 0; i--, id >>= 8)
		b->data[L_EXPORT + i] = (uint8_t)id;
}

static uint64_t get_ino(const struct fh_buf *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b->data[L_INO + i];
	return v;
}

static void put_ino(struct fh_buf *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b->data[L_INO + i] = (uint8_t)v;
}

static nfsstat3 status_of(const char *s)
{
	return (nfsstat3)atoi(s);
}

/* ---------------------------------------------------------- fixtures */

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR);
	base = ut_mkdtemp(search_mode ? "fhs" : "fh");
	if (!base)
		return -1;
	statedir = ut_join(base, "state");
	exdir = ut_join(base, "export");
	ex2dir = ut_join(base, "export2");
	outdir = ut_join(base, "outside");
	ut_mkdir(exdir);
	ut_mkdir(ex2dir);
	ut_mkdir(outdir);
	if (!search_mode)
		cred_init();
	if (fh_init(statedir) != 0)
		return -1;
	char err[256];
	struct export_opts o = { .anonuid = 65534, .anongid = 65534 };
	ex = export_add(exdir, &o, err, sizeof(err));
	ex2 = export_add(ex2dir, &o, err, sizeof(err));
	if (!ex || !ex2 || export_finish(err, sizeof(err)) != 0) {
		fprintf(stderr, "export_add: %s\n", err);
		return -1;
	}
	/* Two exports, in the order given, each with its own stable id (0 is the root's). */
	if (export_get(0) != ex || export_get(1) != ex2 || ex->id == ex2->id || ex->id == 0 ||
	    ex2->id == 0 || ex->id != export_id_of(ex->path) || ex2->id != export_id_of(ex2->path))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	oc_shutdown();
	export_free_all();
	ut_rm_rf(base);
	free(base);
	free(statedir);
	free(exdir);
	free(ex2dir);
	free(outdir);
	return 0;
}

/* -------------------------------------------------------------- tests */

static void test_mode(void **state)
{
	(void)state;
	if (!search_mode && geteuid() == 0)
		assert_true(cred_server_is_root());
	if (search_mode)
		assert_false(cred_server_is_root());
}

static void test_layout_and_size(void **state)
{
	(void)state;
	mkdir_rel("lay");
	mkdir_rel("lay/d1");
	mkdir_rel("lay/d1/d2");
	touch_rel("lay/d1/d2/file");
	assert_int_equal(symlink("file", P("lay/d1/d2/lnk")), 0);
	assert_int_equal(mkfifo(P("lay/fifo"), 0600), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", P("lay/sock"));
	bool have_sock = strlen(P("lay/sock")) < sizeof(sun.sun_path) &&
			 bind(s, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(s);

	const char *objs[] = { "",	   "lay",	    "lay/d1/d2", "lay/d1/d2/file",
			       "lay/fifo", "lay/d1/d2/lnk", "lay/sock" };
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		if (!have_sock && strcmp(objs[i], "lay/sock") == 0)
			continue;
		struct fh_buf b;
		hmake(objs[i], &b);
		if (b.len > 64 || b.len < L_KH)
			fail_msg("handle of '%s' is %u bytes", objs[i], b.len);
		assert_int_equal(b.data[L_VERSION], 2);
		assert_int_equal(b.data[L_BACKEND], FH_PASSTHROUGH);
		assert_int_equal(get_export(&b), ex->id);
		assert_int_equal(b.data[L_PAYLEN], b.len - L_HDR);
		struct stat st;
		assert_int_equal(lstat(P(objs[i]), &st), 0);
		assert_int_equal(b.data[L_TYPE], (uint8_t)vfs_type_of(st.st_mode));
		assert_int_equal(get_ino(&b), (uint64_t)st.st_ino);
		/* The kernel's own handle follows, as name_to_handle_at gives it. */
		struct pt_kh kh;
		pt_kernel_handle(AT_FDCWD, P(objs[i]), &kh);
		assert_int_equal(b.len - L_KH, kh.len);
		assert_int_equal(b.data[L_KHTYPE], (uint8_t)kh.type);
		assert_memory_equal(b.data + L_KH, kh.bytes, kh.len);
		/* The MAC is SipHash under the state directory's key, as documented. */
		struct fh_buf c = b;
		memset(c.data + L_MAC, 0, 8);
		remac(&c);
		expect_same(&b, &c, "recomputed MAC");
		expect_resolves_to(&b, objs[i]);
	}
	struct fh_buf r2;
	hmake_in(ex2, "", &r2);
	assert_int_equal(get_export(&r2), ex2->id);
	assert_int_not_equal(get_export(&r2), ex->id);
	assert_true(r2.len <= FH_SIZE_MAX);
}

static void test_canonical(void **state)
{
	(void)state;
	mkdir_rel("can");
	mkdir_rel("can/a");
	mkdir_rel("can/b");
	touch_rel("can/a/f");
	assert_int_equal(link(P("can/a/f"), P("can/b/g")), 0);
	assert_int_equal(link(P("can/a/f"), P("can/top")), 0);

	struct fh_buf h1, h2, h3, h4, h5, h6;
	hmake("can/a/f", &h1);
	hmake("can/b/g", &h2);
	expect_same(&h1, &h2, "hard link in another directory");
	hmake("can/top", &h3);
	expect_same(&h1, &h3, "hard link in the parent");

	/* A multi-component name from the root, the object's own fd, another stat. */
	struct stat st;
	int root = pt_export(ex)->root_fd;
	assert_int_equal(fstatat(root, "can/b/g", &st, AT_SYMLINK_NOFOLLOW), 0);
	pt_make_fh(ex, root, "can/b/g", &st, &h4);
	expect_same(&h1, &h4, "path from the export root");
	int fd = open(P("can/b/g"), O_PATH | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	pt_make_fh(ex, fd, "", &st, &h5);
	expect_same(&h1, &h5, "the object's own descriptor");
	close(fd);

	/* From a resolved object. */
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	nfs_fh3 w;
	fh_to_wire(&h2, &w);
	struct vfs_obj *obj;
	assert_int_equal(nfs3_resolve(&u.req, &w, &obj), NFS3_OK);
	pt_make_fh(obj->ex, obj->be.pt.fd, "", &obj->st, &h6);
	expect_same(&h1, &h6, "a resolved object's own descriptor");
	vfs_put(obj);
	ut_rpc_done(&u);

	/* Directories through "." and "..", and the root. */
	struct fh_buf d1, d2, d3, r1, r2;
	hmake("can/a", &d1);
	int afd = open(P("can/a"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	int bfd = open(P("can/b"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(afd >= 0 && bfd >= 0);
	assert_int_equal(fstat(afd, &st), 0);
	pt_make_fh(ex, afd, ".", &st, &d2);
	expect_same(&d1, &d2, "directory via \".\"");
	pt_make_fh(ex, bfd, "../a", &st, &d3);
	expect_same(&d1, &d3, "directory via \"../a\"");
	hmake("", &r1);
	struct stat rst;
	assert_int_equal(fstat(root, &rst), 0);
	int cfd = open(P("can"), O_PATH | O_DIRECTORY | O_CLOEXEC);
	pt_make_fh(ex, cfd, "..", &rst, &r2);
	expect_same(&r1, &r2, "root via \"..\"");
	close(afd);
	close(bfd);
	close(cfd);

	/* Different objects, different handles. */
	assert_false(same_bytes(&h1, &d1));
	assert_false(same_bytes(&d1, &r1));
	struct fh_buf bdir;
	hmake("can/b", &bdir);
	assert_false(same_bytes(&d1, &bdir));
}

static void test_resolve_roundtrip(void **state)
{
	(void)state;
	mkdir_rel("rt");
	touch_rel("rt/file");
	assert_int_equal(symlink("/etc/passwd", P("rt/lnk")), 0);
	assert_int_equal(mkfifo(P("rt/fifo"), 0600), 0);
	const char *objs[] = { "", "rt", "rt/file", "rt/lnk", "rt/fifo" };
	for (int pass = 0; pass < 3; pass++) {
		if (pass == 2)
			oc_shutdown(); /* uncached once more */
		for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
			struct fh_buf b;
			hmake(objs[i], &b);
			expect_resolves_to(&b, objs[i]);
		}
	}
	/* A symlink handle names the link itself, never its target. */
	struct fh_buf l;
	hmake("rt/lnk", &l);
	struct stat st;
	assert_int_equal(resolve(&l, &st), NFS3_OK);
	assert_true(S_ISLNK(st.st_mode));

	/* The root, both ways, and the request's export. */
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	struct vfs_new root;
	assert_int_equal(vfs_mount_lookup(ex, "", &root), 0);
	assert_ptr_equal(root.ex, ex);
	assert_int_equal(root.st.st_ino, pt_export(ex)->root_ino);
	nfs_fh3 rw;
	fh_to_wire(&root.fh, &rw);
	struct vfs_obj *obj;
	assert_int_equal(nfs3_resolve(&u.req, &rw, &obj), NFS3_OK);
	assert_int_equal(obj->st.st_ino, pt_export(ex)->root_ino);
	assert_true(obj->is_root);
	assert_ptr_equal(obj->ex, ex);
	assert_ptr_equal(u.req.ex, ex);
	struct fh_buf rb, rb2;
	pt_make_fh(obj->ex, obj->be.pt.fd, "", &obj->st, &rb);
	hmake("", &rb2);
	expect_same(&rb, &rb2, "root handle");
	expect_same(&root.fh, &rb2, "MOUNT's root handle");
	vfs_put(obj);
	ut_rpc_done(&u);

	/* Second export: its own objects, its own export in the request. */
	touch_rel("../export2/e2file");
	struct fh_buf e2;
	hmake_in(ex2, "e2file", &e2);
	struct export *got = NULL;
	assert_int_equal(resolve_raw(e2.data, e2.len, &st, &got), NFS3_OK);
	assert_ptr_equal(got, ex2);
}

static void mutate_all(const struct fh_buf *orig, const char *what)
{
	unsigned nbad = 0, nstale = 0;
	for (unsigned i = 0; i < orig->len; i++) {
		for (int v = 0; v < 10; v++) {
			struct fh_buf b = *orig;
			if (v < 8)
				b.data[i] ^= (uint8_t)(1u << v);
			else
				b.data[i] = v == 8 ? 0x00 : 0xff;
			if (b.data[i] == orig->data[i])
				continue;
			nfsstat3 s = resolve(&b, NULL);
			if (s == NFS3ERR_BADHANDLE)
				nbad++;
			else if (s == NFS3ERR_STALE)
				nstale++;
			else
				fail_msg("%s: byte %u changed %#x -> %#x: %s, want BADHANDLE/STALE",
					 what, i, orig->data[i], b.data[i], nfs3_strstat(s));
		}
	}
	assert_true(nbad + nstale > 8 * orig->len);
}

static void test_every_mutation_rejected(void **state)
{
	(void)state;
	mkdir_rel("mut");
	touch_rel("mut/file");
	const char *objs[] = { "mut/file", "mut", "" };
	for (size_t i = 0; i < 3; i++) {
		struct fh_buf b;
		hmake(objs[i], &b);
		expect_resolves_to(&b, objs[i]); /* cached now */
		mutate_all(&b, objs[i]);
		oc_shutdown();
		mutate_all(&b, objs[i]);
		expect_resolves_to(&b, objs[i]);
	}
}

static void test_truncated_and_oversized(void **state)
{
	(void)state;
	touch_rel("trunc");
	struct fh_buf b;
	hmake("trunc", &b);
	expect_resolves_to(&b, "trunc");
	for (unsigned len = 0; len < b.len; len++) {
		nfsstat3 s = resolve_raw(b.data, len, NULL, NULL);
		if (s != NFS3ERR_BADHANDLE)
			fail_msg("handle truncated to %u bytes: %s", len, nfs3_strstat(s));
	}
	assert_int_equal(resolve_raw(NULL, 0, NULL, NULL), NFS3ERR_BADHANDLE);
	uint8_t big[2048];
	memset(big, 0, sizeof(big));
	memcpy(big, b.data, b.len);
	const unsigned lens[] = { b.len + 1, b.len + 4, b.len + 8, 64, 65, 100, 1024, 2048 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		if (lens[i] <= b.len)
			continue;
		nfsstat3 s = resolve_raw(big, lens[i], NULL, NULL);
		if (s != NFS3ERR_BADHANDLE)
			fail_msg("handle padded to %u bytes: %s", lens[i], nfs3_strstat(s));
	}
}

static void test_forged_with_key(void **state)
{
	(void)state;
	touch_rel("forgeA");
	touch_rel("forgeB");
	mkdir_rel("forgeD");
	struct fh_buf a, bb, d;
	hmake("forgeA", &a);
	hmake("forgeB", &bb);
	hmake("forgeD", &d);

	/*
	 * An export id that names no passthrough export: made up, next to ours,
	 * or 0 (the synthesized root's, another backend).
	 */
	const uint32_t ids[] = { 0,
				 1,
				 2,
				 7,
				 31,
				 32,
				 255,
				 0xffffffffu,
				 ex->id ^ 1,
				 ex->id + 1,
				 ex->id ^ 0x80000000u,
				 ex2->id ^ 1 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ids[i] == ex->id || ids[i] == ex2->id)
			continue;
		struct fh_buf f = a;
		put_export(&f, ids[i]);
		remac(&f);
		nfsstat3 s = resolve(&f, NULL);
		if (s != NFS3ERR_STALE && s != NFS3ERR_BADHANDLE)
			fail_msg("export id %#x: %s", ids[i], nfs3_strstat(s));
	}
	/* A's kernel handle with B's inode number, and the other way round. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			oc_shutdown();
		struct fh_buf f = a;
		put_ino(&f, get_ino(&bb));
		remac(&f);
		expect_status(&f, NFS3ERR_STALE, "A's kernel handle with B's inode");
		f = bb;
		put_ino(&f, get_ino(&a));
		remac(&f);
		expect_status(&f, NFS3ERR_STALE, "B's kernel handle with A's inode");
		/* The directory's inode with the file's kernel handle. */
		f = a;
		put_ino(&f, get_ino(&d));
		remac(&f);
		expect_status(&f, NFS3ERR_STALE, "file kernel handle with a directory inode");
		/* An inode that does not exist at all. */
		f = a;
		put_ino(&f, 0xfffffffffff0ull);
		remac(&f);
		expect_status(&f, NFS3ERR_STALE, "made-up inode");
	}
	/* Structural nonsense is BADHANDLE even with a valid MAC. */
	const uint8_t versions[] = { 0, 1, 3, 255 };
	for (size_t i = 0; i < sizeof(versions); i++) {
		struct fh_buf f = a;
		f.data[L_VERSION] = versions[i];
		remac(&f);
		nfsstat3 s = resolve(&f, NULL);
		if (s != NFS3ERR_BADHANDLE)
			fail_msg("version %u: %s, want BADHANDLE", versions[i], nfs3_strstat(s));
	}
	struct fh_buf f = a;
	f.data[L_PAYLEN] = (uint8_t)(f.data[L_PAYLEN] + 4);
	remac(&f);
	expect_status(&f, NFS3ERR_BADHANDLE, "payload length beyond the handle");
	f = a;
	f.data[L_PAYLEN] = (uint8_t)(f.data[L_PAYLEN] - 1);
	remac(&f);
	expect_status(&f, NFS3ERR_BADHANDLE, "payload length short of the handle");
	/* A payload too short to hold the inode number, its length byte and MAC made to match. */
	f = a;
	f.len = L_HDR + 5;
	f.data[L_PAYLEN] = 5;
	remac(&f);
	expect_status(&f, NFS3ERR_BADHANDLE, "payload shorter than type and inode");
	/* The pseudo backend's kind on a passthrough export's id. */
	f = a;
	f.data[L_BACKEND] = FH_PSEUDO;
	remac(&f);
	expect_status(&f, NFS3ERR_STALE, "another backend's handle for this export");
	/* Still fine afterwards. */
	expect_resolves_to(&a, "forgeA");
	expect_resolves_to(&bb, "forgeB");
}

static void test_removed_is_stale(void **state)
{
	(void)state;
	/* Resolved (cached), then removed. */
	touch_rel("rm1");
	struct fh_buf h1;
	hmake("rm1", &h1);
	expect_resolves_to(&h1, "rm1");
	assert_int_equal(unlink(P("rm1")), 0);
	expect_status(&h1, NFS3ERR_STALE, "removed file (was cached)");
	expect_status(&h1, NFS3ERR_STALE, "removed file, again");

	/* Never resolved, removed, cache cleared. */
	touch_rel("rm2");
	struct fh_buf h2;
	hmake("rm2", &h2);
	assert_int_equal(unlink(P("rm2")), 0);
	oc_shutdown();
	expect_status(&h2, NFS3ERR_STALE, "removed file (uncached)");

	/* One of two links removed: still the same live object. */
	touch_rel("rm3");
	assert_int_equal(link(P("rm3"), P("rm3b")), 0);
	struct fh_buf h3;
	hmake("rm3", &h3);
	expect_resolves_to(&h3, "rm3");
	assert_int_equal(unlink(P("rm3")), 0);
	expect_resolves_to(&h3, "rm3b");
	oc_shutdown();
	expect_resolves_to(&h3, "rm3b");
	assert_int_equal(unlink(P("rm3b")), 0);
	expect_status(&h3, NFS3ERR_STALE, "last link removed");

	/* A directory. */
	mkdir_rel("rmd");
	struct fh_buf hd;
	hmake("rmd", &hd);
	expect_resolves_to(&hd, "rmd");
	assert_int_equal(rmdir(P("rmd")), 0);
	expect_status(&hd, NFS3ERR_STALE, "removed directory");

	/* The inode number reused by a new file: never the new file. */
	touch_rel("reuse");
	struct fh_buf hr;
	hmake("reuse", &hr);
	struct stat st;
	assert_int_equal(lstat(P("reuse"), &st), 0);
	ino_t old = st.st_ino;
	assert_int_equal(unlink(P("reuse")), 0);
	oc_shutdown();
	bool reused = false;
	char name[64];
	for (int i = 0; i < 64 && !reused; i++) {
		snprintf(name, sizeof(name), "reuse.%d", i);
		touch_rel(name);
		assert_int_equal(lstat(P(name), &st), 0);
		reused = st.st_ino == old;
	}
	expect_status(&hr, NFS3ERR_STALE, "handle of a removed file whose inode was reused");
	if (reused) {
		struct fh_buf hn;
		hmake(name, &hn);
		assert_false(same_bytes(&hn, &hr));
		expect_resolves_to(&hn, name);
	}
}

static void test_cache_sweep_and_forget(void **state)
{
	(void)state;
	touch_rel("sw");
	struct fh_buf h;
	hmake("sw", &h);
	expect_resolves_to(&h, "sw");
	struct stat st;
	assert_int_equal(lstat(P("sw"), &st), 0);
	pt_forget(ex, st.st_dev, st.st_ino);
	expect_resolves_to(&h, "sw");
	oc_sweep(0);
	expect_resolves_to(&h, "sw");
	assert_int_equal(unlink(P("sw")), 0);
	oc_sweep(0);
	expect_status(&h, NFS3ERR_STALE, "removed, swept");
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Resolve, open for I/O, let go; returns the entry's two descriptors. */
static void touch_and_release(const char *rel, struct fh_buf *h, int *path_fd, int *io_fd)
{
	touch_rel(rel);
	hmake(rel, h);
	struct ut_rpc u;
	struct vfs_obj *obj = hold(h, &u);
	*path_fd = obj->be.pt.fd;
	*io_fd = pt_io_fd(obj, true);
	assert_true(*io_fd >= 0);
	vfs_put(obj);
	ut_rpc_done(&u);
}

/*
 * The sweep closes the I/O descriptors of idle entries and drops entries
 * whose file was removed behind the server, but never touches an entry a
 * request holds.
 */
static void test_sweep_releases_idle_and_removed(void **state)
{
	(void)state;
	struct fh_buf hi, hr, hh;
	int idle_path, idle_io, rm_path, rm_io, held_path, held_io;
	touch_and_release("sw_idle", &hi, &idle_path, &idle_io);
	touch_and_release("sw_rm", &hr, &rm_path, &rm_io);
	touch_and_release("sw_held", &hh, &held_path, &held_io);
	struct ut_rpc u;
	struct vfs_obj *held = hold(&hh, &u);
	assert_int_equal(pt_io_fd(held, true), held_io);
	assert_int_equal(unlink(P("sw_rm")), 0);

	oc_sweep(0);
	bool idle_io_open = fd_open(idle_io), idle_path_open = fd_open(idle_path);
	bool rm_open = fd_open(rm_path) || fd_open(rm_io);
	bool held_open = fd_open(held_io) && fd_open(held_path);
	struct stat a, b;
	bool held_same = held_open && fstat(held_io, &a) == 0 && lstat(P("sw_held"), &b) == 0 &&
			 a.st_ino == b.st_ino;
	vfs_put(held);
	ut_rpc_done(&u);
	if (idle_io_open)
		fail_msg("an idle entry's I/O descriptor survived the sweep");
	if (!idle_path_open)
		fail_msg("the sweep dropped an idle entry whose file still exists");
	if (rm_open)
		fail_msg("an entry whose file was removed survived the sweep");
	if (!held_same)
		fail_msg("the sweep closed the descriptors of an entry a request holds");
	expect_resolves_to(&hi, "sw_idle");
	expect_status(&hr, NFS3ERR_STALE, "removed, swept");
}

static void test_rename_within_export(void **state)
{
	(void)state;
	mkdir_rel("ren");
	mkdir_rel("ren/a");
	mkdir_rel("ren/b");
	mkdir_rel("ren/b/deep");
	touch_rel("ren/a/x");
	struct fh_buf hx;
	hmake("ren/a/x", &hx);
	expect_resolves_to(&hx, "ren/a/x");

	/* Same directory (as `mv` would do it), cached and uncached. */
	assert_int_equal(rename(P("ren/a/x"), P("ren/a/y")), 0);
	expect_resolves_to(&hx, "ren/a/y");
	oc_shutdown();
	expect_resolves_to(&hx, "ren/a/y");
	struct fh_buf hy;
	hmake("ren/a/y", &hy);
	expect_same(&hx, &hy, "after a rename");

	/* Across directories. */
	assert_int_equal(rename(P("ren/a/y"), P("ren/b/deep/z")), 0);
	expect_resolves_to(&hx, "ren/b/deep/z");
	oc_shutdown();
	expect_resolves_to(&hx, "ren/b/deep/z");

	/* A directory with contents moved across directories. */
	mkdir_rel("ren/a/sub");
	touch_rel("ren/a/sub/f");
	struct fh_buf hs, hf;
	hmake("ren/a/sub", &hs);
	hmake("ren/a/sub/f", &hf);
	expect_resolves_to(&hs, "ren/a/sub");
	assert_int_equal(rename(P("ren/a/sub"), P("ren/b/deep/sub2")), 0);
	expect_resolves_to(&hs, "ren/b/deep/sub2");
	oc_shutdown();
	expect_resolves_to(&hs, "ren/b/deep/sub2");
	expect_resolves_to(&hf, "ren/b/deep/sub2/f");

	/* Renamed over: the replaced object's handle is stale. */
	touch_rel("ren/victim");
	touch_rel("ren/winner");
	struct fh_buf hv, hw;
	hmake("ren/victim", &hv);
	hmake("ren/winner", &hw);
	expect_resolves_to(&hv, "ren/victim");
	assert_int_equal(rename(P("ren/winner"), P("ren/victim")), 0);
	expect_status(&hv, NFS3ERR_STALE, "renamed-over file");
	expect_resolves_to(&hw, "ren/victim");
}

/* ---- persistence across fh_init and processes ---- */

static int run_child(const char *verb, const char *sdir, const char *arg, char *out, size_t outlen)
{
	char *argv[8];
	int n = 0;
	argv[n++] = self_exe;
	if (search_mode)
		argv[n++] = "--search";
	argv[n++] = "--child";
	argv[n++] = (char *)verb;
	argv[n++] = (char *)sdir;
	argv[n++] = exdir;
	argv[n++] = (char *)arg;
	argv[n] = NULL;
	return ut_run_capture(argv, out, outlen);
}

static void child_make(const char *sdir, const char *rel, struct fh_buf *out)
{
	char buf[512];
	int rc = run_child("make", sdir, rel, buf, sizeof(buf));
	if (rc != 0)
		fail_msg("child make %s: exit %d", rel, rc);
	int n = ut_unhex(buf, out->data, sizeof(out->data));
	if (n < L_HDR)
		fail_msg("child make %s: bad output '%s'", rel, buf);
	out->len = (unsigned)n;
}

static nfsstat3 child_resolve(const char *sdir, const struct fh_buf *b, unsigned long *ino)
{
	char hex[2 * FH_SIZE_MAX + 1], buf[512];
	ut_hex(b->data, b->len, hex);
	int rc = run_child("resolve", sdir, hex, buf, sizeof(buf));
	if (rc != 0)
		fail_msg("child resolve: exit %d", rc);
	*ino = 0;
	char *sp = strchr(buf, ' ');
	if (sp)
		*ino = strtoul(sp + 1, NULL, 10);
	return status_of(buf);
}

static void test_key_persists(void **state)
{
	(void)state;
	mkdir_rel("keep");
	touch_rel("keep/f");
	char *kp = ut_join(statedir, "handle.key");
	struct stat kst;
	assert_int_equal(lstat(kp, &kst), 0);
	assert_true(S_ISREG(kst.st_mode));
	assert_int_equal(kst.st_size, crypto_shorthash_KEYBYTES);
	assert_int_equal(kst.st_mode & 0777, 0600);
	uint8_t k1[crypto_shorthash_KEYBYTES], k2[crypto_shorthash_KEYBYTES];
	read_key(statedir, k1);

	struct fh_buf h, h2, hd;
	hmake("keep/f", &h);
	hmake("keep", &hd);
	struct stat fst;
	assert_int_equal(lstat(P("keep/f"), &fst), 0);

	/* Re-initialised from the same state directory: same key, same handles. */
	oc_shutdown();
	assert_int_equal(fh_init(statedir), 0);
	read_key(statedir, k2);
	assert_memory_equal(k1, k2, sizeof(k1));
	hmake("keep/f", &h2);
	expect_same(&h, &h2, "after fh_init again");
	expect_resolves_to(&h, "keep/f");
	expect_resolves_to(&hd, "keep");

	/* Another process (a "restart") with the same state directory. */
	struct fh_buf c;
	child_make(statedir, "keep/f", &c);
	expect_same(&h, &c, "handle made by another process");
	unsigned long ino;
	nfsstat3 s = child_resolve(statedir, &h, &ino);
	if (s != NFS3_OK)
		fail_msg("another process resolving our handle: %s", nfs3_strstat(s));
	assert_int_equal(ino, (unsigned long)fst.st_ino);
	s = child_resolve(statedir, &hd, &ino);
	assert_int_equal(s, NFS3_OK);
	read_key(statedir, k2);
	assert_memory_equal(k1, k2, sizeof(k1));

	/* A server with another state directory: other MACs, our handles refused. */
	char *other = ut_join(base, "state-other");
	struct fh_buf o;
	child_make(other, "keep/f", &o);
	assert_int_equal(o.len, h.len);
	/* The identity (header and payload) is the same... */
	assert_memory_equal(o.data, h.data, L_MAC);
	assert_memory_equal(o.data + L_HDR, h.data + L_HDR, h.len - L_HDR);
	assert_memory_not_equal(o.data + L_MAC, h.data + L_MAC, 8); /* ...the MAC is not */
	assert_int_equal(child_resolve(other, &h, &ino), NFS3ERR_BADHANDLE);
	assert_int_equal(child_resolve(other, &o, &ino), NFS3_OK);

	/* A corrupt key file: fh_init falls back to an ephemeral key and leaves it alone. */
	char *bad = ut_join(base, "state-bad");
	ut_mkdir(bad);
	char *bk = ut_join(bad, "handle.key");
	int fd = open(bk, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "short", 5), 5);
	close(fd);
	assert_int_equal(fh_init(bad), 0);
	expect_status(&h, NFS3ERR_BADHANDLE, "handle under an ephemeral key");
	assert_int_equal(lstat(bk, &kst), 0);
	assert_int_equal(kst.st_size, 5);
	/* Back to the real key. */
	assert_int_equal(fh_init(statedir), 0);
	expect_resolves_to(&h, "keep/f");
	free(kp);
	free(other);
	free(bad);
	free(bk);
}

/* ---- confinement to the export ---- */

static void test_dir_moved_outside(void **state)
{
	(void)state;
	mkdir_rel("om");
	mkdir_rel("om/inner");
	touch_rel("om/inner/file");
	struct fh_buf hom, hin;
	hmake("om", &hom);
	hmake("om/inner", &hin);
	expect_resolves_to(&hom, "om");
	expect_resolves_to(&hin, "om/inner");

	char *dst = ut_join(outdir, "om");
	assert_int_equal(rename(P("om"), dst), 0);
	oc_shutdown();
	expect_status(&hom, NFS3ERR_STALE, "directory moved outside the export");
	expect_status(&hin, NFS3ERR_STALE, "subdirectory of a directory moved outside");
	oc_shutdown();
	expect_status(&hin, NFS3ERR_STALE, "subdirectory of a directory moved outside, again");

	/* Moved back in: valid again. */
	assert_int_equal(rename(dst, P("om")), 0);
	oc_shutdown();
	expect_resolves_to(&hom, "om");
	expect_resolves_to(&hin, "om/inner");

	/* A directory of the other export is not inside this one. */
	mkdir_rel("../export2/e2dir");
	struct fh_buf e2;
	hmake_in(ex2, "e2dir", &e2);
	struct fh_buf f = e2;
	put_export(&f, ex->id);
	remac(&f);
	oc_shutdown();
	expect_status(&f, NFS3ERR_STALE, "the second export's directory under the first's id");
	free(dst);
}

/* Files moved out of the export (their only name outside) are stale too. */
static void test_file_moved_outside(void **state)
{
	(void)state;
	mkdir_rel("fo");
	touch_rel("fo/a");
	touch_rel("fo/b");
	touch_rel("fo/both");
	struct fh_buf ha, hb, hboth;
	hmake("fo/a", &ha);
	hmake("fo/b", &hb);
	hmake("fo/both", &hboth);
	expect_resolves_to(&ha, "fo/a"); /* cached */
	char *oa = ut_join(outdir, "fo-a"), *ob = ut_join(outdir, "fo-b");
	char *oboth = ut_join(outdir, "fo-both");

	assert_int_equal(rename(P("fo/a"), oa), 0);
	expect_status(&ha, NFS3ERR_STALE, "cached file moved outside the export");
	assert_int_equal(rename(P("fo/b"), ob), 0);
	oc_shutdown();
	expect_status(&hb, NFS3ERR_STALE, "file moved outside the export");

	/* A second link outside changes nothing while one is inside. */
	assert_int_equal(link(P("fo/both"), oboth), 0);
	expect_resolves_to(&hboth, "fo/both");
	oc_shutdown();
	expect_resolves_to(&hboth, "fo/both");
	/* Cached through the outside name's dentry, then the inside one goes. */
	assert_int_equal(unlink(P("fo/both")), 0);
	expect_status(&hboth, NFS3ERR_STALE, "file whose only remaining link is outside");
	oc_shutdown();
	expect_status(&hboth, NFS3ERR_STALE, "file whose only remaining link is outside, uncached");

	/* Back inside under another name: valid again. */
	assert_int_equal(rename(oa, P("fo/a-again")), 0);
	expect_resolves_to(&ha, "fo/a-again");
	assert_int_equal(link(oboth, P("fo/both-again")), 0);
	expect_resolves_to(&hboth, "fo/both-again");

	/* A file inside a directory that was moved outside. */
	mkdir_rel("fo/d");
	touch_rel("fo/d/f");
	struct fh_buf hdf;
	hmake("fo/d/f", &hdf);
	expect_resolves_to(&hdf, "fo/d/f");
	char *od = ut_join(outdir, "fo-d");
	assert_int_equal(rename(P("fo/d"), od), 0);
	expect_status(&hdf, NFS3ERR_STALE, "cached file in a directory moved outside");
	oc_shutdown();
	expect_status(&hdf, NFS3ERR_STALE, "file in a directory moved outside");
	assert_int_equal(rename(od, P("fo/d")), 0);
	expect_resolves_to(&hdf, "fo/d/f");
	free(oa);
	free(ob);
	free(oboth);
	free(od);
}

/*
 * The same, but the directory's handle was resolved (and so cached) before
 * it was moved out: resolving it must still fail, and LOOKUP of ".." in it
 * must not hand out the outside parent.
 */
static void test_cached_dir_moved_outside(void **state)
{
	(void)state;
	mkdir_rel("cm");
	mkdir_rel("cm/sub");
	struct fh_buf hcm;
	hmake("cm", &hcm);
	expect_resolves_to(&hcm, "cm");

	char *dst = ut_join(outdir, "cm");
	assert_int_equal(rename(P("cm"), dst), 0);

	/* LOOKUP ".." through the moved directory's handle. */
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	LOOKUP3args la;
	LOOKUP3res lr;
	memset(&la, 0, sizeof(la));
	memset(&lr, 0, sizeof(lr));
	fh_to_wire(&hcm, &la.what.dir);
	la.what.name.filename3_val = "..";
	la.what.name.filename3_len = 2;
	nfs3_lookup(&u.req, &la, &lr);
	bool escaped = false;
	struct stat ost;
	assert_int_equal(stat(outdir, &ost), 0);
	if (lr.status == NFS3_OK) {
		fattr3 *a = &lr.LOOKUP3res_u.resok.obj_attributes.post_op_attr_u.attributes;
		escaped = a->fileid == (uint64_t)ost.st_ino;
	}
	ut_rpc_done(&u);

	nfsstat3 s = resolve(&hcm, NULL);
	assert_int_equal(rename(dst, P("cm")), 0);
	free(dst);
	oc_shutdown();
	if (escaped)
		fail_msg("LOOKUP \"..\" in a directory moved outside the export returned the "
			 "outside parent directory (the handle cache skips the export check)");
	if (s != NFS3ERR_STALE)
		fail_msg("cached directory moved outside the export: %s, want STALE",
			 nfs3_strstat(s));
}

/*
 * LOOKUP and CREATE hand the object they opened by name to the cache as
 * proven inside, on the strength of the directory's proof. A directory
 * moved out between its resolve and the lookup in it must not lend that
 * proof: the child is outside by then.
 */
static void test_adopted_after_parent_moved(void **state)
{
	(void)state;
	mkdir_rel("am");
	touch_rel("am/f");
	struct fh_buf hdir;
	hmake("am", &hdir);
	struct ut_rpc u;
	struct vfs_obj *dir = hold(&hdir, &u);
	if (pt_export(ex)->watch)
		assert_int_not_equal(dir->be.pt.proven_epoch, 0);

	char *dst = ut_join(outdir, "am");
	assert_int_equal(rename(P("am"), dst), 0);
	int fd;
	struct stat st;
	assert_int_equal(fs_open_child(dir->be.pt.fd, "f", &fd, &st), 0);
	struct fh_buf hf;
	pt_make_fh(ex, fd, "", &st, &hf);
	pt_adopt(dir, fd, -1, &st, &hf);
	vfs_put(dir);
	ut_rpc_done(&u);

	nfsstat3 s = resolve(&hf, NULL);
	assert_int_equal(rename(dst, P("am")), 0);
	free(dst);
	if (s != NFS3ERR_STALE)
		fail_msg("a file opened in a directory that had just moved outside the export: "
			 "%s, want STALE",
			 nfs3_strstat(s));
	expect_resolves_to(&hf, "am/f");
}

/* ---- concurrency (meaningful under TSan) ---- */

#define NCONC 8
static struct fh_buf conc_h[NCONC];

static void *conc_worker(void *arg)
{
	unsigned *bad = arg;
	for (int i = 0; i < 300; i++) {
		for (int j = 0; j < NCONC; j++) {
			struct ut_rpc u;
			ut_rpc_init(&u, 0, 0);
			nfs_fh3 w;
			fh_to_wire(&conc_h[(i + j) % NCONC], &w);
			struct vfs_obj *obj;
			if (nfs3_resolve(&u.req, &w, &obj) != NFS3_OK) {
				(*bad)++;
			} else {
				struct stat st, io;
				if (fstat(obj->be.pt.fd, &st) != 0 || st.st_ino != obj->st.st_ino)
					(*bad)++;
				/* A held entry's I/O descriptor stays open and names the same file. */
				int fd = pt_io_fd(obj, false);
				if (fd < 0 || fstat(fd, &io) != 0 || io.st_ino != obj->st.st_ino)
					(*bad)++;
				vfs_put(obj);
			}
			ut_rpc_done(&u);
		}
	}
	return NULL;
}

static atomic_bool conc_done;

static void *conc_sweeper(void *arg)
{
	(void)arg;
	while (!atomic_load(&conc_done))
		oc_sweep(0);
	return NULL;
}

static void test_concurrent_resolve(void **state)
{
	(void)state;
	mkdir_rel("conc");
	for (int j = 0; j < NCONC; j++) {
		char name[32];
		snprintf(name, sizeof(name), "conc/f%d", j);
		touch_rel(name);
		hmake(name, &conc_h[j]);
	}
	oc_shutdown();
	pthread_t th[4], sw;
	unsigned bad[4] = { 0 };
	atomic_store(&conc_done, false);
	/* The sweep's unlocked phase races the resolves (TSan checks the rest). */
	assert_int_equal(pthread_create(&sw, NULL, conc_sweeper, NULL), 0);
	for (int t = 0; t < 4; t++)
		assert_int_equal(pthread_create(&th[t], NULL, conc_worker, &bad[t]), 0);
	for (int t = 0; t < 4; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(bad[t], 0);
	}
	atomic_store(&conc_done, true);
	pthread_join(sw, NULL);
}

static void test_shutdown_with_held_object(void **state)
{
	(void)state;
	touch_rel("held");
	touch_rel("idle");
	struct fh_buf hh, hi;
	hmake("held", &hh);
	hmake("idle", &hi);
	expect_resolves_to(&hi, "idle"); /* cached, unreferenced */
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	nfs_fh3 w;
	fh_to_wire(&hh, &w);
	struct vfs_obj *obj;
	assert_int_equal(nfs3_resolve(&u.req, &w, &obj), NFS3_OK);
	oc_shutdown();
	/* The held object stays usable until its last reference goes. */
	struct stat st;
	assert_int_equal(fstat(obj->be.pt.fd, &st), 0);
	assert_int_equal(st.st_ino, obj->st.st_ino);
	vfs_put(obj);
	ut_rpc_done(&u);
	expect_resolves_to(&hh, "held");
	expect_resolves_to(&hi, "idle");
}

/* ---- objects on filesystems mounted below the export (crossmnt) ---- */

#define L_SUB_TAG 17 /* 4 bytes big-endian: which submount */
#define L_SUB_KHTYPE 21
#define L_SUB_INO 22 /* 8 bytes big-endian */
#define L_SUB_KH 30

static void test_submount_payload(void **state)
{
	(void)state;
	touch_rel("subpl");
	struct stat st;
	assert_int_equal(lstat(P("subpl"), &st), 0);
	struct pt_kh kh;
	pt_kernel_handle(AT_FDCWD, P("subpl"), &kh);
	struct fh_buf b;
	pt_encode(ex, 0x12345678, &st, &kh, &b);
	assert_int_equal(b.data[L_HDR], 0xff);
	assert_int_equal(fh_get_be32(b.data + L_SUB_TAG), 0x12345678);
	assert_int_equal(fh_get_be64(b.data + L_SUB_INO), (uint64_t)st.st_ino);
	if (kh.len <= PT_SUB_KH_MAX) {
		assert_int_equal(b.len, L_SUB_KH + kh.len);
		assert_int_equal(b.data[L_SUB_KHTYPE], (uint8_t)kh.type);
		assert_memory_equal(b.data + L_SUB_KH, kh.bytes, kh.len);
	}
	assert_int_equal(b.data[L_PAYLEN], b.len - L_HDR);
	assert_true(b.len <= FH_SIZE_MAX);
	/* A kernel handle longer than the room left: none (found by a search). */
	struct pt_kh big = kh;
	big.len = PT_SUB_KH_MAX + 1;
	struct fh_buf nb;
	pt_encode(ex, 7, &st, &big, &nb);
	assert_int_equal(nb.len, L_SUB_KH);
	/* The export's own objects keep the layout from before: unmarked. */
	struct fh_buf own, made;
	pt_encode(ex, 0, &st, &kh, &own);
	hmake("subpl", &made);
	expect_same(&own, &made, "fs tag 0 is pt_make_fh's layout");
	assert_int_not_equal(own.data[L_HDR], 0xff);

	/* Without crossmnt no submount's handle resolves; with it, one mounted nowhere: neither. */
	expect_status(&b, NFS3ERR_STALE, "a submount's handle without crossmnt");
	ex->crossmnt = true;
	expect_status(&b, NFS3ERR_STALE, "the handle of a submount not mounted");
	ex->crossmnt = false;
	/* Marked, but tag 0 or too short for the header: not a payload this server makes. */
	struct fh_buf z = b;
	memset(z.data + L_SUB_TAG, 0, 4);
	remac(&z);
	expect_status(&z, NFS3ERR_BADHANDLE, "a marked payload with tag 0");
	struct fh_buf t = b;
	t.len = L_HDR + 10;
	t.data[L_PAYLEN] = 10;
	remac(&t);
	expect_status(&t, NFS3ERR_BADHANDLE, "a marked payload shorter than its header");
}

static void test_submount_names(void **state)
{
	(void)state;
	uint32_t a = pt_sub_tag("m", 1);
	assert_int_not_equal(a, 0);
	assert_int_equal(a, pt_sub_tag("m", 1));     /* stable: the same after a restart */
	assert_int_not_equal(a, pt_sub_tag("n", 1)); /* another mount point */
	assert_int_not_equal(a, pt_sub_tag("m", 2)); /* another filesystem at the same one */
	assert_int_not_equal(pt_sub_tag("m/n", 1), pt_sub_tag("m", 1));
	uint64_t f = pt_sub_fsid(ex->id, 1);
	assert_int_equal(f, pt_sub_fsid(ex->id, 1));
	assert_int_equal(f >> 32, 0x4c4e4673); /* never an export's ("LNFS" | id) */
	assert_int_not_equal(f, ex->fsid);
	assert_int_not_equal(f, pt_sub_fsid(ex2->id, 1));
	assert_int_not_equal(f, pt_sub_fsid(ex->id, 2));
	/* Attributes: the export's fsid on its filesystem; never it for one it never crossed into. */
	struct stat st;
	assert_int_equal(stat(exdir, &st), 0);
	assert_int_equal(pt_fsid(ex, &st), ex->fsid);
	st.st_dev = ex->dev + 1;
	assert_int_equal(pt_fsid(ex, &st), (uint64_t)st.st_dev);
	assert_ptr_equal(ex->ops->fsid, pt_fsid);
}

static void test_mountinfo_line(void **state)
{
	(void)state;
	int id;
	char *mp;
	char l1[] = "36 35 98:0 /mnt1 /mnt/par\\040ent rw,noatime master:1 - ext3 /dev/root rw";
	assert_true(pt_mountinfo_line(l1, &id, &mp));
	assert_int_equal(id, 36);
	assert_string_equal(mp, "/mnt/par ent");
	char l2[] = "7 1 0:1 / /a\\134b\\012c\\011d rw - tmpfs x rw";
	assert_true(pt_mountinfo_line(l2, &id, &mp));
	assert_string_equal(mp, "/a\\b\nc\td");
	char bad_id[] = "x 1 0:1 / /a rw - tmpfs x rw";
	assert_false(pt_mountinfo_line(bad_id, &id, &mp));
	char short_line[] = "7 1 0:1 /";
	assert_false(pt_mountinfo_line(short_line, &id, &mp));
	char relative[] = "7 1 0:1 / relative rw - tmpfs x rw";
	assert_false(pt_mountinfo_line(relative, &id, &mp));
}

/* ---- child process mode ---- */

static int child_main(int argc, char **argv)
{
	/* --child make|resolve STATEDIR EXPORTDIR ARG */
	if (argc != 5)
		return 2;
	log_set_level(LOG_LVL_ERROR);
	if (!search_mode)
		cred_init();
	if (fh_init(argv[2]) != 0)
		return 3;
	char err[256];
	struct export_opts o = { .anonuid = 65534, .anongid = 65534 };
	ex = export_add(argv[3], &o, err, sizeof(err));
	if (!ex || export_finish(err, sizeof(err)) != 0)
		return 4;
	exdir = argv[3];
	if (strcmp(argv[1], "make") == 0) {
		struct fh_buf b;
		struct stat st;
		int root = pt_export(ex)->root_fd;
		if (fstatat(root, argv[4], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return 5;
		pt_make_fh(ex, root, argv[4], &st, &b);
		char hex[2 * FH_SIZE_MAX + 1];
		ut_hex(b.data, b.len, hex);
		printf("%s\n", hex);
		return 0;
	}
	if (strcmp(argv[1], "resolve") == 0) {
		uint8_t data[FH_SIZE_MAX * 2];
		int n = ut_unhex(argv[4], data, sizeof(data));
		if (n < 0)
			return 6;
		struct ut_rpc u;
		ut_rpc_init(&u, 0, 0);
		nfs_fh3 w = { .data = { .data_len = (u_int)n, .data_val = (char *)data } };
		struct vfs_obj *obj;
		nfsstat3 s = nfs3_resolve(&u.req, &w, &obj);
		printf("%d %lu\n", (int)s, s == NFS3_OK ? (unsigned long)obj->st.st_ino : 0ul);
		if (s == NFS3_OK)
			vfs_put(obj);
		ut_rpc_done(&u);
		oc_shutdown();
		export_free_all();
		return 0;
	}
	return 2;
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a < argc && strcmp(argv[a], "--search") == 0) {
		search_mode = true;
		a++;
	}
	if (a < argc && strcmp(argv[a], "--child") == 0)
		return child_main(argc - a, argv + a);
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = '\0';

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_layout_and_size),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_resolve_roundtrip),
		cmocka_unit_test(test_every_mutation_rejected),
		cmocka_unit_test(test_truncated_and_oversized),
		cmocka_unit_test(test_forged_with_key),
		cmocka_unit_test(test_removed_is_stale),
		cmocka_unit_test(test_cache_sweep_and_forget),
		cmocka_unit_test(test_sweep_releases_idle_and_removed),
		cmocka_unit_test(test_rename_within_export),
		cmocka_unit_test(test_key_persists),
		cmocka_unit_test(test_dir_moved_outside),
		cmocka_unit_test(test_file_moved_outside),
		cmocka_unit_test(test_cached_dir_moved_outside),
		cmocka_unit_test(test_adopted_after_parent_moved),
		cmocka_unit_test(test_concurrent_resolve),
		cmocka_unit_test(test_shutdown_with_held_object),
		cmocka_unit_test(test_submount_payload),
		cmocka_unit_test(test_submount_names),
		cmocka_unit_test(test_mountinfo_line),
	};
	return cmocka_run_group_tests_name(search_mode ? "fh (search)" : "fh", tests, setup,
					   teardown);
}
