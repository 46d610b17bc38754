/*
 * The handle codec (server/vfs/fh_codec.c) and export ids (export.c):
 * round trips of both backends' payloads, the MAC over every byte, the
 * length, version and payload-length checks, the key, and export ids that
 * keep handles valid when the export table is rebuilt in another order.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "backend.h"
#include "export.h"
#include "fh.h"
#include "objcache.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct ut_export E;
static const struct export_opts opts = { .anonuid = 65534, .anongid = 65534 };

static int setup(void **state)
{
	return ut_export_init(&E, "codec");
}

static int teardown(void **state)
{
	fh_init(E.statedir); /* a test may have switched keys */
	ut_export_free(&E);
	return 0;
}

/* ------------------------------------------------------------ helpers */

static char *in_base(const char *name)
{
	return ut_join(E.base, name);
}

static char *in_export(const char *name)
{
	return ut_join(E.exdir, name);
}

static struct export *add_dir(const char *dir)
{
	char err[512] = "";
	struct export *ex = export_add(dir, &opts, err, sizeof(err));
	if (!ex)
		fail_msg("export_add %s: %s", dir, err);
	return ex;
}

static void finish(void)
{
	char err[512] = "";
	if (export_finish(err, sizeof(err)) != 0)
		fail_msg("export_finish: %s", err);
}

/* A new table of the given directories, in that order. */
static void rebuild(const char *const *dirs, unsigned n)
{
	oc_shutdown();
	export_free_all();
	for (unsigned i = 0; i < n; i++)
		add_dir(dirs[i]);
	finish();
}

/* Turn the fixture's single export into two under a synthesized root. */
static struct export *add_second_export(void)
{
	char *second = in_base("second");
	ut_mkdir(second);
	add_dir(second);
	free(second);
	finish();
	assert_non_null(export_pseudo_root());
	return export_pseudo_root();
}

/* vfs_resolve in a request of its own; the object's attributes into st. */
static int resolve_rc(const void *fh, unsigned len, struct stat *st)
{
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	struct vfs_obj *obj = (struct vfs_obj *)1;
	int rc = vfs_resolve(&u.req, fh, len, &obj);
	if (rc == 0) {
		assert_non_null(obj);
		if (st)
			*st = obj->st;
		vfs_put(obj);
	} else {
		assert_null(obj);
	}
	ut_rpc_done(&u);
	return rc;
}

static int resolve_buf(const struct fh_buf *b, struct stat *st)
{
	return resolve_rc(b->data, b->len, st);
}

static void assert_same_fh(const struct fh_buf *a, const struct fh_buf *b)
{
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

/* The key fh_init keeps in the state directory. */
static void read_key(const char *statedir, uint8_t key[crypto_shorthash_KEYBYTES])
{
	char *path = ut_join(statedir, "handle.key");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, key, crypto_shorthash_KEYBYTES), crypto_shorthash_KEYBYTES);
	close(fd);
	free(path);
}

/*
 * Recompute the MAC of h as include/fh.h documents it (SipHash-2-4 of
 * bytes 0..7 and the payload), so a test can present a handle that is
 * authentic but wrong in some other way.
 */
static void reseal(uint8_t *h, unsigned len)
{
	uint8_t key[crypto_shorthash_KEYBYTES];
	read_key(E.statedir, key);
	uint8_t msg[FH_SIZE_MAX * 2];
	assert_true(len >= FH_HDR && len - FH_HDR + 8 <= sizeof(msg));
	memcpy(msg, h, 8);
	memcpy(msg + 8, h + FH_HDR, len - FH_HDR);
	crypto_shorthash(h + 8, msg, len - FH_HDR + 8, key);
}

static void stat_in_export(const char *rel, struct stat *st)
{
	char *p = rel[0] ? in_export(rel) : strdup(E.exdir);
	assert_int_equal(lstat(p, st), 0);
	free(p);
}

/* ------------------------------------------------------------ round trips */

static void check_pt_handle(const char *rel, uint8_t type)
{
	struct fh_buf b, again;
	struct stat st, got;
	stat_in_export(rel, &st);
	ut_hmake(E.ex, rel, &b);
	assert_true(b.len > FH_HDR && b.len <= FH_SIZE_MAX);
	assert_int_equal(b.data[0], FH_VERSION);
	assert_int_equal(fh_get_be32(b.data + 4), E.ex->id);

	struct fh_view v;
	assert_int_equal(fh_decode(b.data, b.len, &v), 0);
	assert_int_equal(v.export_id, E.ex->id);
	assert_int_equal(v.backend, FH_PASSTHROUGH);
	assert_int_equal(v.type, type);
	assert_int_equal(v.len, b.len - FH_HDR);
	assert_ptr_equal(v.payload, b.data + FH_HDR);
	/* The passthrough payload: kernel handle type, inode number, kernel handle. */
	assert_true(v.len >= 9);
	assert_int_equal(fh_get_be64(v.payload + 1), (uint64_t)st.st_ino);

	/* Canonical: the same object gives the same bytes, and re-encoding the view does too. */
	ut_hmake(E.ex, rel, &again);
	assert_same_fh(&b, &again);
	fh_encode(v.export_id, v.backend, v.type, v.payload, v.len, &again);
	assert_same_fh(&b, &again);

	/* And it names the object. */
	assert_int_equal(resolve_buf(&b, &got), 0);
	assert_int_equal(got.st_ino, st.st_ino);
	assert_int_equal(got.st_dev, st.st_dev);
}

static void test_passthrough_roundtrip(void **state)
{
	char *f = in_export("f"), *d = in_export("d"), *l = in_export("l");
	ut_touch(f);
	ut_mkdir(d);
	assert_int_equal(symlink("f", l), 0);
	check_pt_handle("", VFS_DIR);
	check_pt_handle("f", VFS_REG);
	check_pt_handle("d", VFS_DIR);
	check_pt_handle("l", VFS_LNK);

	/* Two objects, two handles. */
	struct fh_buf hf, hd;
	ut_hmake(E.ex, "f", &hf);
	ut_hmake(E.ex, "d", &hd);
	assert_false(hf.len == hd.len && memcmp(hf.data, hd.data, hf.len) == 0);
	free(f);
	free(d);
	free(l);
}

static void test_pseudo_roundtrip(void **state)
{
	struct export *root = add_second_export();
	assert_int_equal(root->id, 0);
	struct vfs_new n;
	assert_int_equal(vfs_mount_lookup(root, "", &n), 0);
	assert_ptr_equal(n.ex, root);
	assert_int_equal(n.fh.len, FH_HDR + 8);

	struct fh_view v;
	assert_int_equal(fh_decode(n.fh.data, n.fh.len, &v), 0);
	assert_int_equal(v.export_id, 0);
	assert_int_equal(v.backend, FH_PSEUDO);
	assert_int_equal(v.type, VFS_DIR);
	assert_int_equal(v.len, 8);
	/* The pseudo payload is the node id, which is also its fileid. */
	assert_int_equal(fh_get_be64(v.payload), (uint64_t)n.st.st_ino);

	struct fh_buf again;
	fh_encode(v.export_id, v.backend, v.type, v.payload, v.len, &again);
	assert_same_fh(&n.fh, &again);
	struct vfs_new n2;
	assert_int_equal(vfs_mount_lookup(root, "", &n2), 0);
	assert_same_fh(&n.fh, &n2.fh);

	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	struct vfs_obj *obj;
	assert_int_equal(vfs_resolve(&u.req, n.fh.data, n.fh.len, &obj), 0);
	assert_ptr_equal(obj->ex, root);
	assert_true(obj->is_root);
	assert_int_equal(obj->st.st_ino, n.st.st_ino);
	assert_true(S_ISDIR(obj->st.st_mode));
	vfs_put(obj);
	ut_rpc_done(&u);

	/* Each export's root, reached from the pseudo root, still carries its own id. */
	for (unsigned i = 0; i < export_count(); i++) {
		struct export *ex = export_get(i);
		assert_int_equal(vfs_mount_lookup(ex, "", &n), 0);
		assert_int_equal(fh_decode(n.fh.data, n.fh.len, &v), 0);
		assert_int_equal(v.export_id, ex->id);
		assert_int_equal(v.backend, FH_PASSTHROUGH);
		assert_int_equal(resolve_buf(&n.fh, NULL), 0);
	}
}

/* ------------------------------------------------------------ the MAC */

static void check_every_bit(const struct fh_buf *b, bool resolvable)
{
	struct fh_view v;
	unsigned rejected = 0;
	for (unsigned i = 0; i < b->len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			uint8_t h[FH_SIZE_MAX];
			memcpy(h, b->data, b->len);
			h[i] ^= (uint8_t)(1u << bit);
			int rc = fh_decode(h, b->len, &v);
			if (rc != -EBADHANDLE)
				fail_msg(
					"byte %u bit %u flipped in a %u-byte handle: fh_decode %d, "
					"want -EBADHANDLE",
					i, bit, b->len, rc);
			rc = resolve_rc(h, b->len, NULL);
			if (rc != -EBADHANDLE)
				fail_msg("byte %u bit %u flipped: vfs_resolve %d, want -EBADHANDLE",
					 i, bit, rc);
			rejected++;
		}
	}
	assert_int_equal(rejected, b->len * 8);
	/* The original is untouched and good. */
	assert_int_equal(fh_decode(b->data, b->len, &v), 0);
	if (resolvable)
		assert_int_equal(resolve_buf(b, NULL), 0);
}

static void test_every_bit_flip_rejected(void **state)
{
	char *f = in_export("f");
	ut_touch(f);
	free(f);
	struct fh_buf root, file, max, empty;
	ut_hmake(E.ex, "", &root);
	ut_hmake(E.ex, "f", &file);
	uint8_t p[FH_PAYLOAD_MAX];
	for (unsigned i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 37 + 1);
	fh_encode(E.ex->id, FH_PASSTHROUGH, VFS_REG, p, FH_PAYLOAD_MAX, &max);
	fh_encode(E.ex->id, FH_PASSTHROUGH, VFS_REG, p, 0, &empty);
	check_every_bit(&root, true);
	check_every_bit(&file, true);
	check_every_bit(&max, false);
	check_every_bit(&empty, false);

	struct export *top = add_second_export();
	struct vfs_new n;
	assert_int_equal(vfs_mount_lookup(top, "", &n), 0);
	check_every_bit(&n.fh, true);
}

/* ------------------------------------------------------------ lengths, version */

static void test_lengths_and_version(void **state)
{
	char *f = in_export("f");
	ut_touch(f);
	free(f);
	struct fh_buf b;
	struct fh_view v;
	ut_hmake(E.ex, "f", &b);

	/* Our reseal is the documented MAC: the untouched handle seals to itself. */
	uint8_t h[FH_SIZE_MAX + 8];
	memcpy(h, b.data, b.len);
	reseal(h, b.len);
	assert_memory_equal(h, b.data, b.len);

	assert_int_equal(fh_decode(NULL, 0, &v), -EBADHANDLE);
	assert_int_equal(fh_decode(NULL, b.len, &v), -EBADHANDLE);
	for (unsigned len = 0; len < b.len; len++)
		assert_int_equal(fh_decode(b.data, len, &v), -EBADHANDLE);
	/* One byte more than the handle (zero or not). */
	memset(h, 0, sizeof(h));
	memcpy(h, b.data, b.len);
	assert_int_equal(fh_decode(h, b.len + 1, &v), -EBADHANDLE);
	h[b.len] = 0x5a;
	assert_int_equal(fh_decode(h, b.len + 1, &v), -EBADHANDLE);
	assert_int_equal(resolve_rc(h, b.len + 1, NULL), -EBADHANDLE);

	/* Authentic but another version. */
	static const uint8_t versions[] = { 0, 1, FH_VERSION + 1, 0xff };
	for (unsigned i = 0; i < sizeof(versions); i++) {
		memcpy(h, b.data, b.len);
		h[0] = versions[i];
		reseal(h, b.len);
		assert_int_equal(fh_decode(h, b.len, &v), -EBADHANDLE);
		assert_int_equal(resolve_rc(h, b.len, NULL), -EBADHANDLE);
	}

	/* Authentic but the payload length byte disagrees with the handle's length. */
	const int deltas[] = { -1, 1, -(int)(b.len - FH_HDR), 100 };
	for (unsigned i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		memcpy(h, b.data, b.len);
		h[3] = (uint8_t)((int)(b.len - FH_HDR) + deltas[i]);
		reseal(h, b.len);
		if (fh_decode(h, b.len, &v) != -EBADHANDLE)
			fail_msg("payload length byte %u in a %u-byte handle accepted", h[3],
				 b.len);
	}
	/* A handle one byte short whose length byte and MAC agree with it is still authentic. */
	memcpy(h, b.data, b.len);
	h[3] = (uint8_t)(b.len - 1 - FH_HDR);
	reseal(h, b.len - 1);
	assert_int_equal(fh_decode(h, b.len - 1, &v), 0);
	assert_int_equal(v.len, b.len - 1 - FH_HDR);

	/* Longer than NFS3_FHSIZE, even if self-consistent. */
	uint8_t big[FH_SIZE_MAX + 8] = { 0 };
	memcpy(big, b.data, FH_HDR);
	big[3] = FH_PAYLOAD_MAX + 1;
	reseal(big, FH_SIZE_MAX + 1);
	assert_int_equal(fh_decode(big, FH_SIZE_MAX + 1, &v), -EBADHANDLE);
	assert_int_equal(resolve_rc(big, FH_SIZE_MAX + 1, NULL), -EBADHANDLE);
}

static void test_payload_sizes(void **state)
{
	uint8_t p[FH_PAYLOAD_MAX];
	for (unsigned i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(0xa5 ^ i);
	for (unsigned len = 0; len <= FH_PAYLOAD_MAX; len++) {
		struct fh_buf b;
		struct fh_view v;
		fh_encode(0x01020304u, FH_PASSTHROUGH, VFS_FIFO, p, len, &b);
		assert_int_equal(b.len, FH_HDR + len);
		assert_int_equal(b.data[3], len);
		assert_int_equal(fh_decode(b.data, b.len, &v), 0);
		assert_int_equal(v.export_id, 0x01020304u);
		assert_int_equal(v.backend, FH_PASSTHROUGH);
		assert_int_equal(v.type, VFS_FIFO);
		assert_int_equal(v.len, len);
		if (len)
			assert_memory_equal(v.payload, p, len);
	}
	struct fh_buf max;
	fh_encode(7, FH_PSEUDO, VFS_DIR, p, FH_PAYLOAD_MAX, &max);
	assert_int_equal(max.len, FH_SIZE_MAX);
	assert_int_equal(FH_SIZE_MAX, 64); /* NFS3_FHSIZE */

	/* Different payloads of one length: different handles, both good. */
	struct fh_buf a, c;
	uint8_t q[FH_PAYLOAD_MAX];
	memcpy(q, p, sizeof(q));
	q[FH_PAYLOAD_MAX - 1] ^= 1;
	fh_encode(7, FH_PSEUDO, VFS_DIR, q, FH_PAYLOAD_MAX, &a);
	assert_memory_not_equal(a.data, max.data, FH_SIZE_MAX);
	/* A payload from one handle under another's header and MAC is refused. */
	memcpy(c.data, max.data, FH_HDR);
	memcpy(c.data + FH_HDR, q, FH_PAYLOAD_MAX);
	struct fh_view v;
	assert_int_equal(fh_decode(c.data, FH_SIZE_MAX, &v), -EBADHANDLE);
	assert_int_equal(fh_decode(a.data, a.len, &v), 0);
}

/* ------------------------------------------------------------ keys */

static void test_other_key_rejected(void **state)
{
	char *f = in_export("f");
	ut_touch(f);
	free(f);
	struct fh_buf a, b;
	struct fh_view v;
	ut_hmake(E.ex, "f", &a);
	assert_int_equal(fh_decode(a.data, a.len, &v), 0);

	/* The key is kept in the state directory, private to the server. */
	char *keyfile = ut_join(E.statedir, "handle.key");
	struct stat st;
	assert_int_equal(stat(keyfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, crypto_shorthash_KEYBYTES);
	free(keyfile);

	char *other = in_base("state2");
	assert_int_equal(fh_init(other), 0);
	uint8_t k1[crypto_shorthash_KEYBYTES], k2[crypto_shorthash_KEYBYTES];
	read_key(E.statedir, k1);
	read_key(other, k2);
	assert_memory_not_equal(k1, k2, sizeof(k1));

	assert_int_equal(fh_decode(a.data, a.len, &v), -EBADHANDLE);
	assert_int_equal(resolve_buf(&a, NULL), -EBADHANDLE);
	ut_hmake(E.ex, "f", &b);
	assert_int_equal(fh_decode(b.data, b.len, &v), 0);
	assert_int_equal(resolve_buf(&b, NULL), 0);
	/* Same object, same header and payload: only the MAC tells them apart. */
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, 8);
	assert_memory_equal(a.data + FH_HDR, b.data + FH_HDR, a.len - FH_HDR);
	assert_memory_not_equal(a.data + 8, b.data + 8, 8);

	/* Back to the first state directory: its key is loaded again, not made anew. */
	assert_int_equal(fh_init(E.statedir), 0);
	assert_int_equal(fh_decode(a.data, a.len, &v), 0);
	assert_int_equal(resolve_buf(&a, NULL), 0);
	assert_int_equal(fh_decode(b.data, b.len, &v), -EBADHANDLE);
	assert_int_equal(resolve_buf(&b, NULL), -EBADHANDLE);
	free(other);
}

/* ------------------------------------------------------------ export ids */

static void test_export_ids(void **state)
{
	uint32_t a = export_id_of("/srv/a");
	assert_int_equal(export_id_of("/srv/a"), a);
	assert_int_not_equal(export_id_of("/srv/b"), a);
	assert_int_not_equal(export_id_of("/srv/a/"), a);
	assert_int_not_equal(export_id_of("/srv"), a);
	assert_int_not_equal(export_id_of("/"), 0);
	assert_int_not_equal(export_id_of(""), 0);

	/* Many paths: never 0 (the synthesized root's), no two alike. */
	enum {
		N = 2000
	};
	static uint32_t ids[N];
	for (unsigned i = 0; i < N; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/export/dir%u", i);
		ids[i] = export_id_of(p);
		assert_int_not_equal(ids[i], 0);
		assert_int_equal(export_id_of(p), ids[i]);
		for (unsigned j = 0; j < i; j++)
			if (ids[j] == ids[i])
				fail_msg("dir%u and dir%u share export id %08x", j, i, ids[i]);
	}

	/* An export's id is that of its canonical path, whatever path named it. */
	struct export *ex = E.ex;
	uint32_t id = ex->id;
	uint64_t fsid = ex->fsid;
	char *path = strdup(ex->path);
	assert_int_equal(id, export_id_of(path));
	assert_int_not_equal(id, 0);

	/* Not keyed: another handle key leaves ids alone. */
	char *other = in_base("state2");
	assert_int_equal(fh_init(other), 0);
	assert_int_equal(export_id_of(path), id);
	assert_int_equal(fh_init(E.statedir), 0);
	free(other);

	/* Across a re-init of the table, named another way, in another place. */
	char *odd;
	assert_true(asprintf(&odd, "%s/./export//", E.base) > 0);
	char *first = in_base("first");
	ut_mkdir(first);
	const char *dirs[] = { first, odd };
	rebuild(dirs, 2);
	E.ex = NULL;
	struct export *again = export_get(1);
	assert_string_equal(again->path, path);
	assert_int_equal(again->id, id);
	assert_int_equal(again->fsid, fsid);
	assert_ptr_equal(export_by_id(id), again);
	assert_int_equal(export_get(0)->id, export_id_of(export_get(0)->path));
	assert_int_not_equal(export_get(0)->id, id);
	assert_int_equal(export_pseudo_root()->id, 0);
	assert_ptr_equal(export_by_id(0), export_pseudo_root());
	free(odd);
	free(first);
	free(path);
}

/* ------------------------------------------------------------ rebuilt tables */

struct handles {
	struct fh_buf a_root, a_file, b_root, b_file, top;
	struct stat a_root_st, a_file_st, b_root_st;
};

static void expect_ino(const struct fh_buf *h, const struct stat *want)
{
	struct stat got;
	assert_int_equal(resolve_buf(h, &got), 0);
	assert_int_equal(got.st_ino, want->st_ino);
	assert_int_equal(got.st_dev, want->st_dev);
}

static void test_rebuilt_table(void **state)
{
	char *a = strdup(E.exdir), *b = in_base("bdir"), *c = in_base("cdir");
	ut_mkdir(b);
	ut_mkdir(c);
	char *af = ut_join(a, "f"), *bf = ut_join(b, "g");
	ut_touch(af);
	ut_touch(bf);

	const char *ab[] = { a, b };
	rebuild(ab, 2);
	E.ex = NULL;
	struct export *ea = export_get(0), *eb = export_get(1);
	uint32_t ida = ea->id, idb = eb->id;
	struct handles H;
	ut_hmake(ea, "", &H.a_root);
	ut_hmake(ea, "f", &H.a_file);
	ut_hmake(eb, "", &H.b_root);
	ut_hmake(eb, "g", &H.b_file);
	struct vfs_new n;
	assert_int_equal(vfs_mount_lookup(export_pseudo_root(), "", &n), 0);
	H.top = n.fh;
	assert_int_equal(resolve_buf(&H.a_root, &H.a_root_st), 0);
	assert_int_equal(resolve_buf(&H.a_file, &H.a_file_st), 0);
	assert_int_equal(resolve_buf(&H.b_root, &H.b_root_st), 0);
	assert_int_equal(resolve_buf(&H.b_file, NULL), 0);
	assert_int_equal(resolve_buf(&H.top, NULL), 0);

	/* Another order, b removed, c added: a's handles hold, b's are stale. */
	const char *ca[] = { c, a };
	rebuild(ca, 2);
	assert_int_equal(export_get(1)->id, ida);
	assert_ptr_equal(export_by_id(ida), export_get(1));
	assert_null(export_by_id(idb));
	expect_ino(&H.a_root, &H.a_root_st);
	expect_ino(&H.a_file, &H.a_file_st);
	assert_int_equal(resolve_buf(&H.b_root, NULL), -ESTALE);
	assert_int_equal(resolve_buf(&H.b_file, NULL), -ESTALE);
	assert_int_equal(resolve_buf(&H.top, NULL), 0);
	/* The same bytes as a's handles made by the new table. */
	struct fh_buf now;
	ut_hmake(export_get(1), "f", &now);
	assert_same_fh(&now, &H.a_file);
	assert_int_equal(vfs_mount_lookup(export_pseudo_root(), "", &n), 0);
	assert_same_fh(&n.fh, &H.top);

	/* b back, in the middle: its old handles work again. */
	const char *bac[] = { b, a, c };
	rebuild(bac, 3);
	expect_ino(&H.a_root, &H.a_root_st);
	expect_ino(&H.a_file, &H.a_file_st);
	expect_ino(&H.b_root, &H.b_root_st);
	assert_int_equal(resolve_buf(&H.b_file, NULL), 0);
	assert_int_equal(resolve_buf(&H.top, NULL), 0);

	/* a alone: no synthesized root any more, its handle is stale; a's hold. */
	const char *only_a[] = { a };
	rebuild(only_a, 1);
	assert_null(export_pseudo_root());
	assert_int_equal(resolve_buf(&H.top, NULL), -ESTALE);
	assert_int_equal(resolve_buf(&H.b_root, NULL), -ESTALE);
	expect_ino(&H.a_root, &H.a_root_st);
	expect_ino(&H.a_file, &H.a_file_st);

	free(a);
	free(b);
	free(c);
	free(af);
	free(bf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passthrough_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pseudo_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lengths_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuilt_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
