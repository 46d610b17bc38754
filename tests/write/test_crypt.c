/*
 * The encrypted view (loopnfsd --reverse-encrypt) procedure by procedure:
 * every mutation answered NFS3ERR_ROFS with the plaintext untouched, ACCESS
 * granting no change, handles of every kind of object (entries, the
 * virtual gocryptfs.diriv and .name files, gocryptfs.conf) valid across a
 * restart, READs at any offset equal to the slice of the whole, listings
 * paged in small replies equal to one big one with the virtual files last,
 * and the plaintext changing under the view: a removed file's handle
 * STALE, a renamed file under its new encrypted name with new bytes.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LONG_NAME_LEN 200

static struct itest_env env;
static struct itest_server srv;
static char pw[700];
static char long_name[LONG_NAME_LEN + 1];

static const char *crypt_tool(void)
{
	const char *t = getenv("LOOPNFS_CRYPT");
	return t ? t : "loopnfs-crypt";
}

/* The view's name of a plaintext path (loopnfs-crypt encrypt-path): the last component. */
static char *view_path(const char *rel)
{
	char *cmd = itest_sprintf("'%s' encrypt-path --passfile '%s' '%s' '%s'", crypt_tool(), pw,
				  env.dir, rel);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[4096] = "";
	char *got = fgets(line, sizeof(line), p);
	assert_int_equal(pclose(p), 0);
	assert_non_null(got);
	line[strcspn(line, "\n")] = '\0';
	return itest_strdup(line);
}

static int start(void)
{
	const char *extra[] = { "--passfile", pw, "--reverse-encrypt", env.dir, NULL };
	const char *no_dirs[] = { NULL };
	return itest_server_start_dirs(&srv, &env, extra, no_dirs);
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&env, "crypt") != 0)
		return -1;
	snprintf(pw, sizeof(pw), "%s/pw", env.base);
	if (itest_write_file(pw, "pass\n", 5) != 0)
		return -1;
	uint8_t *big = malloc(300000);
	itest_pattern(big, 300000, 0, 7);
	int rc = itest_write_file(itest_path(&env, "big"), big, 300000);
	free(big);
	memset(long_name, 'L', LONG_NAME_LEN);
	rc |= mkdir(itest_path(&env, "sub"), 0755);
	rc |= itest_write_file(itest_path(&env, "sub/small"), "hello", 5);
	rc |= itest_write_file(itest_path(&env, long_name), "long", 4);
	rc |= itest_write_file(itest_path(&env, "gone"), "soon gone", 9);
	rc |= itest_write_file(itest_path(&env, "moved"), "moving", 6);
	rc |= symlink("big", itest_path(&env, "link"));
	for (int i = 0; i < 300; i++)
		rc |= itest_write_file(itest_path(&env, itest_sprintf("sub/f%03d", i)), "x", 1);
	char *cmd = itest_sprintf("'%s' init --scryptn 10 --passfile '%s' '%s' >/dev/null 2>&1",
				  crypt_tool(), pw, env.dir);
	if (rc != 0 || system(cmd) != 0)
		return -1;
	return start();
}

static int group_teardown(void **state)
{
	(void)state;
	int st = srv.pid > 0 ? itest_server_stop(&srv) : 0;
	itest_env_cleanup(&env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static itc_t *conn(fh_t *root)
{
	itc_t *c = wt_connect_as(srv.port, 0, 0, 0, NULL);
	assert_non_null(c);
	*root = itc_root(c, "/");
	return c;
}

static char *listing_of(const char *dir)
{
	char *cmd =
		itest_sprintf("cd '%s' && find . -printf '%%y %%s %%m %%T@ %%p\\n' | sort", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 20;
	char *buf = itest_alloc(cap);
	size_t len = fread(buf, 1, cap - 1, p);
	buf[len] = '\0';
	pclose(p);
	return buf;
}

static void test_mutations_refused(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	char *before = listing_of(env.dir);
	fh_t file = itc_walk(c, &root, view_path("big"));
	fh_t sub = itc_walk(c, &root, view_path("sub"));
	sattr3 sa = wt_sattr_mode(0600);
	SETATTR3res sr;
	assert_int_equal(wtc_setattr(c, &file, &sa, NULL, &sr), 0);
	assert_int_equal(sr.status, NFS3ERR_ROFS);
	WRITE3res wr;
	assert_int_equal(wtc_write(c, &file, 0, "x", 1, FILE_SYNC, &wr), 0);
	assert_int_equal(wr.status, NFS3ERR_ROFS);
	COMMIT3res cr;
	assert_int_equal(wtc_commit(c, &file, 0, 0, &cr), 0);
	assert_int_equal(cr.status, NFS3ERR_ROFS);
	CREATE3res cre;
	sattr3 none = wt_sattr_none();
	assert_int_equal(wtc_create(c, &sub, "new", UNCHECKED, &none, NULL, &cre), 0);
	assert_int_equal(cre.status, NFS3ERR_ROFS);
	MKDIR3res mk;
	assert_int_equal(wtc_mkdir(c, &root, "newdir", &none, &mk), 0);
	assert_int_equal(mk.status, NFS3ERR_ROFS);
	SYMLINK3res sl;
	assert_int_equal(wtc_symlink(c, &root, "newlink", "x", &none, &sl), 0);
	assert_int_equal(sl.status, NFS3ERR_ROFS);
	MKNOD3res mn;
	assert_int_equal(wtc_mknod(c, &root, "fifo", NF3FIFO, &none, 0, 0, &mn), 0);
	assert_int_equal(mn.status, NFS3ERR_ROFS);
	REMOVE3res rm;
	assert_int_equal(wtc_remove(c, &root, view_path("big"), &rm), 0);
	assert_int_equal(rm.status, NFS3ERR_ROFS);
	assert_int_equal(wtc_remove(c, &root, "gocryptfs.diriv", &rm), 0);
	assert_int_equal(rm.status, NFS3ERR_ROFS);
	RMDIR3res rd;
	assert_int_equal(wtc_rmdir(c, &root, view_path("sub"), &rd), 0);
	assert_int_equal(rd.status, NFS3ERR_ROFS);
	RENAME3res rn;
	assert_int_equal(wtc_rename(c, &root, view_path("big"), &sub, "x", &rn), 0);
	assert_int_equal(rn.status, NFS3ERR_ROFS);
	LINK3res ln;
	assert_int_equal(wtc_link(c, &file, &sub, "hard", &ln), 0);
	assert_int_equal(ln.status, NFS3ERR_ROFS);
	assert_string_equal(listing_of(env.dir), before);
	itc_close(c);
}

static void test_access_grants_no_change(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	const char *names[] = { view_path("big"), view_path("sub"), "gocryptfs.diriv",
				"gocryptfs.conf" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fh_t fh = itc_walk(c, &root, names[i]);
		ACCESS3res res;
		uint32_t all = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND |
			       ACCESS3_DELETE | ACCESS3_EXECUTE;
		assert_int_equal(itc_access(c, &fh, all, &res), 0);
		assert_int_equal(res.status, NFS3_OK);
		uint32_t got = res.ACCESS3res_u.resok.access;
		assert_int_equal(got & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE), 0);
		assert_true(got & (ACCESS3_READ | ACCESS3_LOOKUP));
	}
	itc_close(c);
}

/* The whole content of fh, read in chunks of n. */
static uint8_t *read_all(itc_t *c, const fh_t *fh, uint32_t n, size_t *len)
{
	size_t cap = 1 << 20, off = 0;
	uint8_t *buf = itest_alloc(cap);
	for (;;) {
		READ3res r;
		assert_int_equal(itc_read(c, fh, off, n, &r), 0);
		assert_int_equal(r.status, NFS3_OK);
		uint32_t got = r.READ3res_u.resok.data.data_len;
		assert_true(off + got <= cap);
		memcpy(buf + off, r.READ3res_u.resok.data.data_val, got);
		off += got;
		if (r.READ3res_u.resok.eof)
			break;
		assert_true(got > 0);
	}
	*len = off;
	return buf;
}

static void test_reads_at_any_offset(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	fh_t file = itc_walk(c, &root, view_path("big"));
	size_t len;
	uint8_t *whole = read_all(c, &file, 1 << 20, &len);
	/* 18-byte header + 74 blocks of 4096 (the last 1024) + 32 bytes each. */
	assert_int_equal(len, 18 + 300000 + 74 * 32);
	GETATTR3res ga;
	assert_int_equal(itc_getattr(c, &file, &ga), 0);
	assert_int_equal(ga.GETATTR3res_u.resok.obj_attributes.size, len);
	const uint64_t offs[] = { 0, 1, 17, 18, 19, 4113, 4114, 4145, 4146, 100000, len - 1, len };
	const uint32_t lens[] = { 1, 5, 4128, 9000, 65536 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			READ3res r;
			assert_int_equal(itc_read(c, &file, offs[i], lens[j], &r), 0);
			assert_int_equal(r.status, NFS3_OK);
			size_t want = offs[i] >= len		? 0
				      : len - offs[i] < lens[j] ? len - offs[i]
								: lens[j];
			assert_int_equal(r.READ3res_u.resok.data.data_len, want);
			assert_memory_equal(r.READ3res_u.resok.data.data_val, whole + offs[i],
					    want);
			assert_int_equal(r.READ3res_u.resok.eof, offs[i] + want >= len);
		}
	}
	itc_close(c);
}

struct entry {
	char name[400];
	uint64_t fileid, cookie, size;
	bool has_attr;
};

/* READDIRPLUS of dir to the end with replies of maxcount bytes: the entries, in order. */
static struct entry *list_plus(itc_t *c, const fh_t *dir, uint32_t maxcount, size_t *n)
{
	struct entry *v = itest_alloc(2000 * sizeof(*v));
	uint64_t cookie = 0;
	char verf[NFS3_COOKIEVERFSIZE] = { 0 };
	*n = 0;
	for (int calls = 0; calls < 2000; calls++) {
		READDIRPLUS3res r;
		assert_int_equal(itc_readdirplus(c, dir, cookie, verf, maxcount, maxcount, &r), 0);
		assert_int_equal(r.status, NFS3_OK);
		memcpy(verf, r.READDIRPLUS3res_u.resok.cookieverf, sizeof(verf));
		for (entryplus3 *e = r.READDIRPLUS3res_u.resok.reply.entries; e; e = e->nextentry) {
			assert_true(*n < 2000);
			struct entry *x = &v[(*n)++];
			snprintf(x->name, sizeof(x->name), "%s", e->name);
			x->fileid = e->fileid;
			x->cookie = cookie = e->cookie;
			x->has_attr = e->name_attributes.attributes_follow;
			x->size =
				x->has_attr ? e->name_attributes.post_op_attr_u.attributes.size : 0;
		}
		if (r.READDIRPLUS3res_u.resok.reply.eof)
			return v;
	}
	fail_msg("listing never ended");
	return v;
}

static void test_listing_paged_equals_whole(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	fh_t sub = itc_walk(c, &root, view_path("sub"));
	size_t nbig, nsmall;
	struct entry *big = list_plus(c, &sub, 1 << 20, &nbig);
	struct entry *small = list_plus(c, &sub, 1200, &nsmall);
	assert_int_equal(nbig, 300 + 1 + 2 + 1); /* f000..f299, small, ".", "..", diriv */
	assert_int_equal(nsmall, nbig);
	for (size_t i = 0; i < nbig; i++) {
		assert_string_equal(small[i].name, big[i].name);
		assert_int_equal(small[i].fileid, big[i].fileid);
		for (size_t j = 0; j < i; j++)
			assert_true(big[j].fileid != big[i].fileid || !strcmp(big[i].name, ".."));
	}
	/* gocryptfs lists its virtual files last. */
	assert_string_equal(big[nbig - 1].name, "gocryptfs.diriv");
	assert_int_equal(big[nbig - 1].size, 16);
	/* Its cookie is past every directory offset: a listing resumed there gives nothing more. */
	assert_true(big[nbig - 1].cookie >> 63);
	assert_false(big[nbig - 2].cookie >> 63);
	/* The root: the longname's .name file after the diriv, with the full encrypted name's size. */
	size_t nroot;
	struct entry *r = list_plus(c, &root, 700, &nroot);
	const char *lname = view_path(long_name);
	bool seen_entry = false;
	for (size_t i = 0; i < nroot; i++) {
		if (!strcmp(r[i].name, lname))
			seen_entry = true;
		if (!strcmp(r[i].name, itest_sprintf("%s.name", lname))) {
			assert_true(seen_entry);
			assert_string_equal(r[i - 1].name, "gocryptfs.diriv");
			assert_true(r[i].size > 255);
			fh_t nf = itc_walk(c, &root, r[i].name);
			size_t len;
			uint8_t *content = read_all(c, &nf, 4096, &len);
			assert_int_equal(len, r[i].size);
			/* The full encrypted name: unpadded base64url. */
			for (size_t k = 0; k < len; k++)
				assert_non_null(strchr(
					"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-_",
					content[k]));
		}
	}
	assert_true(seen_entry);
	itc_close(c);
}

static void test_handles_survive_restart(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	const char *lname = view_path(long_name);
	const char *names[] = { view_path("big"),  view_path("sub/small"),
				view_path("link"), "gocryptfs.diriv",
				"gocryptfs.conf",  itest_sprintf("%s.name", lname) };
	enum {
		N = sizeof(names) / sizeof(names[0])
	};
	fh_t fh[N];
	fattr3 before[N];
	for (int i = 0; i < N; i++) {
		fh[i] = itc_walk(c, &root, names[i]);
		GETATTR3res ga;
		assert_int_equal(itc_getattr(c, &fh[i], &ga), 0);
		assert_int_equal(ga.status, NFS3_OK);
		before[i] = ga.GETATTR3res_u.resok.obj_attributes;
	}
	size_t len0;
	uint8_t *big0 = read_all(c, &fh[0], 70000, &len0);
	itc_close(c);
	assert_int_equal(itest_server_stop(&srv), 0);
	assert_int_equal(start(), 0);
	c = conn(&root);
	for (int i = 0; i < N; i++) {
		GETATTR3res ga;
		assert_int_equal(itc_getattr(c, &fh[i], &ga), 0);
		assert_int_equal(ga.status, NFS3_OK);
		assert_int_equal(ga.GETATTR3res_u.resok.obj_attributes.fileid, before[i].fileid);
		assert_int_equal(ga.GETATTR3res_u.resok.obj_attributes.size, before[i].size);
	}
	size_t len1;
	uint8_t *big1 = read_all(c, &fh[0], 65536, &len1);
	assert_int_equal(len1, len0);
	assert_memory_equal(big1, big0, len0);
	READLINK3res rl;
	assert_int_equal(itc_readlink(c, &fh[2], &rl), 0);
	assert_int_equal(rl.status, NFS3_OK);
	assert_int_equal(strlen(rl.READLINK3res_u.resok.data), before[2].size);
	itc_close(c);
}

static void test_plaintext_changes_show(void **state)
{
	(void)state;
	fh_t root;
	itc_t *c = conn(&root);
	fh_t gone = itc_walk(c, &root, view_path("gone"));
	const char *old_name = view_path("moved");
	fh_t moved = itc_walk(c, &root, old_name);
	size_t len;
	uint8_t *old_bytes = read_all(c, &moved, 4096, &len);
	assert_int_equal(unlink(itest_path(&env, "gone")), 0);
	assert_int_equal(wt_getattr_status(c, &gone), NFS3ERR_STALE);
	assert_int_equal(rename(itest_path(&env, "moved"), itest_path(&env, "sub/moved2")), 0);
	assert_int_equal(wt_lookup_status(c, &root, old_name), NFS3ERR_NOENT);
	fh_t again = itc_walk(c, &root, view_path("sub/moved2"));
	size_t len2;
	uint8_t *new_bytes = read_all(c, &again, 4096, &len2);
	/* Same size, other bytes: the IVs come from the new path. */
	assert_int_equal(len2, len);
	assert_memory_not_equal(new_bytes, old_bytes, len);
	/* The old handle names the same inode: it shows the bytes of where it is now. */
	size_t len3;
	uint8_t *via_old = read_all(c, &moved, 4096, &len3);
	assert_int_equal(len3, len2);
	assert_memory_equal(via_old, new_bytes, len2);
	itc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutations_refused),
		cmocka_unit_test(test_access_grants_no_change),
		cmocka_unit_test(test_reads_at_any_offset),
		cmocka_unit_test(test_listing_paged_equals_whole),
		cmocka_unit_test(test_handles_survive_restart),
		cmocka_unit_test(test_plaintext_changes_show),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
