/*
 * The export table (server/vfs/export.c), NFS name checks (nfs3_name) and the
 * request arena (req_alloc / req_strdup).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "backend.h"
#include "export.h"
#include "exports_conf.h"
#include "nfs3.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *base;
static const struct export_opts opts = { .anonuid = 65534, .anongid = 65534 };

static int setup(void **state)
{
	(void)state;
	base = ut_mkdtemp("export");
	return base ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	export_free_all();
	ut_rm_rf(base);
	free(base);
	return 0;
}

static void test_add_errors(void **state)
{
	(void)state;
	char err[512] = "";
	char *missing = ut_join(base, "missing");
	assert_null(export_add(missing, &opts, err, sizeof(err)));
	assert_non_null(strstr(err, "missing"));
	char *file = ut_join(base, "file");
	ut_touch(file);
	err[0] = '\0';
	assert_null(export_add(file, &opts, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_int_equal(export_count(), 0);
	free(missing);
	free(file);
}

static void test_add_canonical(void **state)
{
	(void)state;
	char *real = ut_join(base, "real");
	char *link = ut_join(base, "link");
	ut_mkdir(real);
	assert_int_equal(symlink("real", link), 0);
	char *messy;
	assert_true(asprintf(&messy, "%s/./../%s/link/.", base, strrchr(base, '/') + 1) > 0);

	char err[256];
	struct export_opts o = opts;
	o.ro = true;
	struct export *e = export_add(messy, &o, err, sizeof(err));
	assert_non_null(e);
	char *canon = realpath(real, NULL);
	assert_string_equal(e->path, canon);
	struct stat st, rst;
	assert_int_equal(stat(real, &st), 0);
	/* The id is the canonical path's (never 0, the synthesized root's), whatever path named it. */
	assert_int_equal(e->id, export_id_of(canon));
	assert_int_not_equal(e->id, 0);
	assert_ptr_equal(export_by_id(e->id), e);
	assert_string_equal(e->name, "real");
	assert_ptr_equal(e->ops, &passthrough_ops);
	assert_int_equal(e->dev, st.st_dev);
	assert_int_equal(pt_export(e)->root_ino, st.st_ino);
	assert_int_not_equal(e->fsid, 0);
	assert_int_equal(fstat(pt_export(e)->root_fd, &rst), 0);
	assert_int_equal(rst.st_ino, st.st_ino);
	assert_true(pt_export(e)->mount_fd >= 0);
	assert_true((fcntl(pt_export(e)->root_fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(export_count(), 1);
	assert_ptr_equal(export_get(0), e);
	assert_null(export_get(1));
	assert_null(export_get(~0u));
	/* One export: no synthesized root. */
	assert_int_equal(export_finish(err, sizeof(err)), 0);
	assert_null(export_pseudo_root());
	/* The command line's export goes to the loopback addresses, with its options. */
	const struct xc_export *spec = export_table_spec(export_table_current(), 0);
	assert_non_null(spec);
	assert_int_equal(spec->nclients, 2);
	assert_string_equal(spec->clients[0].text, "127.0.0.0/8");
	assert_string_equal(spec->clients[1].text, "::1");
	assert_true(spec->clients[0].opts.ro);
	assert_true(spec->clients[1].opts.ro);
	uint32_t id = e->id;
	uint64_t fsid = e->fsid;
	export_free_all();
	assert_int_equal(export_count(), 0);
	assert_null(export_get(0));
	assert_null(export_by_id(id));
	/* Added again (by its canonical path this time): the same id and fsid. */
	e = export_add(canon, &o, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(e->id, id);
	assert_int_equal(e->fsid, fsid);
	export_free_all();
	free(real);
	free(link);
	free(messy);
	free(canon);
}

static void expect_find(const char *mnt, struct export *want, const char *want_sub)
{
	const char *sub = "(unset)";
	struct export *got = export_find(mnt, &sub);
	if (got != want)
		fail_msg("export_find(\"%s\"): %s, want %s", mnt ? mnt : "(null)",
			 got ? got->path : "none", want ? want->path : "none");
	if (want && strcmp(sub, want_sub) != 0)
		fail_msg("export_find(\"%s\"): subpath \"%s\", want \"%s\"", mnt, sub, want_sub);
}

static void test_find_single(void **state)
{
	(void)state;
	char *d = ut_join(base, "one");
	ut_mkdir(d);
	char err[256];
	assert_null(export_find("/", &(const char *){ NULL }));
	struct export *e = export_add(d, &opts, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(export_finish(err, sizeof(err)), 0);
	char buf[4096];

	expect_find("/", e, "");
	expect_find("", e, "");
	expect_find(e->path, e, "");
	snprintf(buf, sizeof(buf), "%s/", e->path);
	expect_find(buf, e, "");
	snprintf(buf, sizeof(buf), "%s/sub/dir", e->path);
	expect_find(buf, e, "sub/dir");
	snprintf(buf, sizeof(buf), "%s//sub", e->path);
	expect_find(buf, e, "sub");
	/* With one export, "/" is its root: other absolute paths are below it. */
	expect_find("/sub/dir", e, "sub/dir");
	expect_find("relative", NULL, NULL);
	expect_find(NULL, NULL, NULL);
	export_free_all();
	free(d);
}

static void test_find_several(void **state)
{
	(void)state;
	char *a = ut_join(base, "a"), *ab = ut_join(base, "a/b"), *c = ut_join(base, "c");
	ut_mkdir(a);
	ut_mkdir(ab);
	ut_mkdir(c);
	char err[256];
	struct export *ea = export_add(a, &opts, err, sizeof(err));
	struct export *eab = export_add(ab, &opts, err, sizeof(err));
	struct export *ec = export_add(c, &opts, err, sizeof(err));
	assert_non_null(ea);
	assert_non_null(eab);
	assert_non_null(ec);
	assert_int_equal(export_finish(err, sizeof(err)), 0);
	/* In the table in the order given; distinct ids (and fsids), each naming its export. */
	assert_ptr_equal(export_get(0), ea);
	assert_ptr_equal(export_get(1), eab);
	assert_ptr_equal(export_get(2), ec);
	assert_int_equal(export_count(), 3);
	struct export *all[] = { ea, eab, ec };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(all[i]->id, export_id_of(all[i]->path));
		assert_int_not_equal(all[i]->id, 0);
		assert_ptr_equal(export_by_id(all[i]->id), all[i]);
		for (int j = 0; j < i; j++) {
			assert_int_not_equal(all[i]->id, all[j]->id);
			assert_int_not_equal(all[i]->fsid, all[j]->fsid);
		}
	}
	struct export *root = export_pseudo_root();
	assert_non_null(root);
	assert_int_equal(root->id, 0);
	assert_ptr_equal(export_by_id(0), root);
	char buf[4096];

	expect_find(ea->path, ea, "");
	snprintf(buf, sizeof(buf), "%s/x/y", ea->path);
	expect_find(buf, ea, "x/y");
	/* The longest matching export wins. */
	expect_find(eab->path, eab, "");
	snprintf(buf, sizeof(buf), "%s/z", eab->path);
	expect_find(buf, eab, "z");
	/* Whole components only: a/bb is in a, not in a/b. */
	snprintf(buf, sizeof(buf), "%sb", eab->path);
	expect_find(buf, ea, "bb");
	snprintf(buf, sizeof(buf), "%s/", ec->path);
	expect_find(buf, ec, "");
	/* Several exports: "/" names none of them (the synthesized root), unrelated paths nothing. */
	expect_find("/", root, "");
	expect_find("", root, "");
	expect_find("//", root, "");
	expect_find("/nonexistent/path", NULL, NULL);
	snprintf(buf, sizeof(buf), "%sx", ec->path);
	expect_find(buf, NULL, NULL);
	/* "/NAME" is the export shown as NAME under the root. */
	expect_find("/a", ea, "");
	expect_find("/a/x/y", ea, "x/y");
	expect_find("/b", eab, "");
	expect_find("/b/z", eab, "z");
	expect_find("/c/", ec, "");
	expect_find("/d", NULL, NULL);
	export_free_all();
	assert_null(export_pseudo_root());
	free(a);
	free(ab);
	free(c);
}

static void test_table_full(void **state)
{
	(void)state;
	char err[256];
	for (int i = 0; i < EXPORT_MAX; i++) {
		char name[32];
		snprintf(name, sizeof(name), "many%d", i);
		char *d = ut_join(base, name);
		ut_mkdir(d);
		struct export *e = export_add(d, &opts, err, sizeof(err));
		assert_non_null(e);
		assert_ptr_equal(export_get((unsigned)i), e);
		assert_int_equal(e->id, export_id_of(e->path));
		assert_int_not_equal(e->id, 0);
		free(d);
	}
	assert_int_equal(export_count(), EXPORT_MAX);
	err[0] = '\0';
	assert_null(export_add(base, &opts, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_int_equal(export_count(), EXPORT_MAX);
	/* Handles carry the export's id: every export has its own, and it names it. */
	assert_int_equal(export_finish(err, sizeof(err)), 0);
	for (unsigned i = 0; i < EXPORT_MAX; i++) {
		struct export *e = export_get(i);
		assert_ptr_equal(export_by_id(e->id), e);
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(export_get(j)->id, e->id);
	}
	export_free_all();
	assert_int_equal(export_count(), 0);
}

/* ---- nfs3_name ---- */

static nfsstat3 name_check(struct req *req, const char *s, size_t len, unsigned flags, char **out)
{
	filename3 f = { .filename3_len = (u_int)len, .filename3_val = (char *)s };
	return nfs3_name(req, &f, flags, out);
}

static void test_names(void **state)
{
	(void)state;
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	char *out = NULL;

	assert_int_equal(name_check(&u.req, "file.txt", 8, 0, &out), NFS3_OK);
	assert_string_equal(out, "file.txt");
	/* A copy, NUL-terminated, not the wire buffer. */
	char wire[] = "abcdef";
	assert_int_equal(name_check(&u.req, wire, 3, 0, &out), NFS3_OK);
	assert_string_equal(out, "abc");
	assert_ptr_not_equal(out, wire);

	assert_int_equal(name_check(&u.req, "", 0, 0, &out), NFS3ERR_ACCES);
	assert_int_equal(name_check(&u.req, "a/b", 3, 0, &out), NFS3ERR_ACCES);
	assert_int_equal(name_check(&u.req, "/", 1, 0, &out), NFS3ERR_ACCES);
	assert_int_equal(name_check(&u.req, "a\0b", 3, 0, &out), NFS3ERR_ACCES);
	char longname[300];
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(name_check(&u.req, longname, 255, 0, &out), NFS3_OK);
	assert_int_equal(strlen(out), 255);
	assert_int_equal(name_check(&u.req, longname, 256, 0, &out), NFS3ERR_NAMETOOLONG);
	/* "." and ".." only where the caller allows them. */
	assert_int_equal(name_check(&u.req, ".", 1, 0, &out), NFS3ERR_EXIST);
	assert_int_equal(name_check(&u.req, "..", 2, 0, &out), NFS3ERR_EXIST);
	assert_int_equal(name_check(&u.req, ".", 1, NAME_ALLOW_DOTS, &out), NFS3_OK);
	assert_string_equal(out, ".");
	assert_int_equal(name_check(&u.req, "..", 2, NAME_ALLOW_DOTS, &out), NFS3_OK);
	assert_int_equal(name_check(&u.req, "...", 3, 0, &out), NFS3_OK);
	assert_int_equal(name_check(&u.req, ".x", 2, 0, &out), NFS3_OK);

	assert_true(vfs_is_dot_or_dotdot(".", 1));
	assert_true(vfs_is_dot_or_dotdot("..", 2));
	assert_false(vfs_is_dot_or_dotdot("...", 3));
	assert_false(vfs_is_dot_or_dotdot(".a", 2));
	assert_false(vfs_is_dot_or_dotdot("", 0));
	/* The length, not a NUL, ends the name: wire names are not terminated. */
	assert_true(vfs_is_dot_or_dotdot(".a", 1));
	assert_true(vfs_is_dot_or_dotdot("...", 2));
	assert_false(vfs_is_dot_or_dotdot("..", 0));
	ut_rpc_done(&u);
}

/* ---- request arena ---- */

static void test_arena(void **state)
{
	(void)state;
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	/* Zeroed, 16-byte aligned, distinct, across many chunks and one huge block. */
	unsigned char *prev = NULL;
	for (unsigned i = 0; i < 5000; i++) {
		size_t n = 1 + (i * 37) % 200;
		unsigned char *p = req_alloc(&u.req, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xab, n);
		assert_true(p != prev);
		prev = p;
	}
	unsigned char *big = req_alloc(&u.req, 1u << 20);
	assert_non_null(big);
	assert_int_equal(big[0], 0);
	assert_int_equal(big[(1u << 20) - 1], 0);
	memset(big, 1, 1u << 20);
	char *s = req_strdup(&u.req, "hello world", 5);
	assert_string_equal(s, "hello");
	s = req_strdup(&u.req, "", 0);
	assert_string_equal(s, "");
	req_release(&u.req);
	assert_null(u.req.arena);
	/* Usable again after a release. */
	assert_non_null(req_alloc(&u.req, 10));
	ut_rpc_done(&u);
	assert_null(u.req.arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_errors),  cmocka_unit_test(test_add_canonical),
		cmocka_unit_test(test_find_single), cmocka_unit_test(test_find_several),
		cmocka_unit_test(test_table_full),  cmocka_unit_test(test_names),
		cmocka_unit_test(test_arena),
	};
	return cmocka_run_group_tests_name("export", tests, setup, teardown);
}
