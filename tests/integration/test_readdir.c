/*
 * test_readdir.c - READDIR / READDIRPLUS against loopnfsd via libnfs:
 * small directories (names, fileids, "." / "..", attributes and handles),
 * a 100,000-entry directory listed completely with both procedures, each
 * name exactly once, across many calls and without re-reading the
 * directory from the start on each call; cookies that survive concurrent
 * adds/removes; cookie verifiers that never cause BAD_COOKIE;
 * count/dircount/maxcount honoured; NFS3ERR_TOOSMALL.
 */
#define _GNU_SOURCE
#include "itest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;

#define BIG_N 100000
#define MUT_N 5000

static const char *g_small_names[] = {
	"a",
	"bb",
	"ccc",
	"dddd",
	"with space",
	"\xc3\xbc"
	"n"
	"\xc3\xaf"
	"c"
	"\xc3\xb6"
	"d"
	"\xc3\xa9",
	".hidden",
	"-dash",
	"subdir",
	"symlink",
	"fifo",
	NULL /* + one 255-byte name */
};
static char g_name255[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int create_many(const char *dir, const char *fmt, int n)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	char name[64];
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), fmt, i);
		int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "create %s/%s: %s\n", dir, name, strerror(errno));
			close(dfd);
			return -1;
		}
		close(fd);
	}
	close(dfd);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "readdir") != 0)
		return -1;
	int rc = 0;
	rc |= mkdir(itest_path(&g_env, "small"), 0755);
	for (int i = 0; g_small_names[i]; i++) {
		char *p = itest_sprintf("%s/small/%s", g_env.dir, g_small_names[i]);
		if (strcmp(g_small_names[i], "subdir") == 0)
			rc |= mkdir(p, 0755);
		else if (strcmp(g_small_names[i], "symlink") == 0)
			rc |= symlink("/etc/passwd", p);
		else if (strcmp(g_small_names[i], "fifo") == 0)
			rc |= mkfifo(p, 0644);
		else
			rc |= itest_write_file(p, g_small_names[i], strlen(g_small_names[i]));
	}
	memset(g_name255, 'N', 255);
	g_name255[255] = 0;
	rc |= itest_write_file(itest_sprintf("%s/small/%s", g_env.dir, g_name255), "x", 1);
	rc |= mkdir(itest_path(&g_env, "empty"), 0755);
	rc |= mkdir(itest_path(&g_env, "big"), 0755);
	rc |= mkdir(itest_path(&g_env, "mut"), 0755);
	rc |= itest_write_file(itest_path(&g_env, "plainfile"), "p", 1);
	if (rc != 0)
		return -1;
	double t0 = now_s();
	if (create_many(itest_path(&g_env, "big"), "f%06d", BIG_N) != 0)
		return -1;
	if (create_many(itest_path(&g_env, "mut"), "m%05d", MUT_N) != 0)
		return -1;
	fprintf(stderr, "[ fixture  ] created %d + %d entries in %.2fs\n", BIG_N, MUT_N,
		now_s() - t0);
	return itest_server_start(&g_srv, &g_env, NULL);
}

static int group_teardown(void **state)
{
	(void)state;
	int st = itest_server_stop(&g_srv);
	double t0 = now_s();
	itest_env_cleanup(&g_env);
	fprintf(stderr, "[ cleanup  ] %.2fs\n", now_s() - t0);
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

/* ------------------------------------------------------------ listing */
static uint32_t xdr_pad(uint32_t n)
{
	return (n + 3) & ~3u;
}

static uint32_t post_op_size(const post_op_attr *p)
{
	return 4 + (p->attributes_follow ? 84 : 0);
}

struct ent {
	char *name;
	uint64_t fileid;
	uint64_t cookie;
	int has_attr;
	fattr3 attr;
	int has_fh;
	fh_t fh;
};

struct listing {
	struct ent *e;
	size_t n, cap;
	int calls;
	char verf[8];
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static struct ent *listing_add(struct listing *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
	}
	struct ent *e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* One READDIR call; appends entries; returns eof.  Checks the XDR size of
 * the reply against count, post-op dir attributes, non-zero cookies. */
static int readdir_step(itc_t *c, const fh_t *dir, uint64_t *cookie, char verf[8], uint32_t count,
			struct listing *l, int *status)
{
	void *mark = itest_arena_mark();
	READDIR3res r;
	ITC_CALL(c, itc_readdir(c, dir, *cookie, verf, count, &r));
	l->calls++;
	*status = r.status;
	if (r.status != NFS3_OK) {
		itest_arena_release(mark);
		return -1;
	}
	READDIR3resok *ok = &r.READDIR3res_u.resok;
	if (!ok->dir_attributes.attributes_follow)
		fail_msg("READDIR: no post-op dir attributes");
	uint32_t size = 4 + post_op_size(&ok->dir_attributes) + 8 + 4 + 4;
	size_t before = l->n;
	for (entry3 *e = ok->reply.entries; e; e = e->nextentry) {
		size += 4 + 8 + 4 + xdr_pad((uint32_t)strlen(e->name)) + 8;
		struct ent *n = listing_add(l);
		n->name = strdup(e->name);
		n->fileid = e->fileid;
		n->cookie = e->cookie;
		if (e->cookie == 0)
			fail_msg("READDIR entry \"%s\" has cookie 0", e->name);
		*cookie = e->cookie;
	}
	if (size > count)
		fail_msg("READDIR reply is %u XDR bytes, count was %u", size, count);
	if (!ok->reply.eof && l->n == before)
		fail_msg("READDIR returned no entries and no eof (cookie %llu)",
			 (unsigned long long)*cookie);
	memcpy(verf, ok->cookieverf, 8);
	memcpy(l->verf, ok->cookieverf, 8);
	int eof = ok->reply.eof;
	itest_arena_release(mark);
	return eof;
}

static int readdirplus_step(itc_t *c, const fh_t *dir, uint64_t *cookie, char verf[8],
			    uint32_t dircount, uint32_t maxcount, struct listing *l, int *status)
{
	void *mark = itest_arena_mark();
	READDIRPLUS3res r;
	ITC_CALL(c, itc_readdirplus(c, dir, *cookie, verf, dircount, maxcount, &r));
	l->calls++;
	*status = r.status;
	if (r.status != NFS3_OK) {
		itest_arena_release(mark);
		return -1;
	}
	READDIRPLUS3resok *ok = &r.READDIRPLUS3res_u.resok;
	if (!ok->dir_attributes.attributes_follow)
		fail_msg("READDIRPLUS: no post-op dir attributes");
	uint32_t size = 4 + post_op_size(&ok->dir_attributes) + 8 + 4 + 4;
	uint32_t dsize = 0;
	size_t before = l->n;
	for (entryplus3 *e = ok->reply.entries; e; e = e->nextentry) {
		uint32_t nl = xdr_pad((uint32_t)strlen(e->name));
		dsize += 8 + 4 + nl + 8;
		size += 4 + 8 + 4 + nl + 8 + post_op_size(&e->name_attributes) + 4;
		struct ent *n = listing_add(l);
		n->name = strdup(e->name);
		n->fileid = e->fileid;
		n->cookie = e->cookie;
		if (e->cookie == 0)
			fail_msg("READDIRPLUS entry \"%s\" has cookie 0", e->name);
		if (e->name_attributes.attributes_follow) {
			n->has_attr = 1;
			n->attr = e->name_attributes.post_op_attr_u.attributes;
			if (n->attr.fileid != e->fileid)
				fail_msg("READDIRPLUS \"%s\": entry fileid %llu != attribute "
					 "fileid %llu",
					 e->name, (unsigned long long)e->fileid,
					 (unsigned long long)n->attr.fileid);
		}
		if (e->name_handle.handle_follows) {
			n->has_fh = 1;
			uint32_t hl = e->name_handle.post_op_fh3_u.handle.data.data_len;
			if (hl == 0 || hl > 64)
				fail_msg("READDIRPLUS \"%s\": handle length %u", e->name, hl);
			size += 4 + xdr_pad(hl);
			n->fh = itc_fh(&e->name_handle.post_op_fh3_u.handle);
		}
		*cookie = e->cookie;
	}
	if (size > maxcount)
		fail_msg("READDIRPLUS reply is %u XDR bytes, maxcount was %u", size, maxcount);
	if (dsize > dircount)
		fail_msg("READDIRPLUS returned %u bytes of directory information "
			 "(fileid+name+cookie), dircount was %u",
			 dsize, dircount);
	if (!ok->reply.eof && l->n == before)
		fail_msg("READDIRPLUS returned no entries and no eof");
	memcpy(verf, ok->cookieverf, 8);
	memcpy(l->verf, ok->cookieverf, 8);
	int eof = ok->reply.eof;
	itest_arena_release(mark);
	return eof;
}

static void list_all(itc_t *c, const fh_t *dir, int plus, uint32_t count, uint32_t maxcount,
		     struct listing *l)
{
	uint64_t cookie = 0;
	char verf[8] = { 0 };
	int st, eof = 0;
	while (!eof) {
		eof = plus ? readdirplus_step(c, dir, &cookie, verf, count, maxcount, l, &st)
			   : readdir_step(c, dir, &cookie, verf, count, l, &st);
		if (eof < 0)
			fail_msg("%s (cookie %llu, after %zu entries): %s",
				 plus ? "READDIRPLUS" : "READDIR", (unsigned long long)cookie, l->n,
				 itest_nfsstat_name(st));
		if (l->calls > 1000000)
			fail_msg("listing does not terminate");
	}
}

static const struct ent *find(const struct listing *l, const char *name, int *count)
{
	const struct ent *f = NULL;
	*count = 0;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0) {
			(*count)++;
			f = &l->e[i];
		}
	return f;
}

/* Check the entries of DIR/rel against the real directory: each name once,
 * nothing else except "." and "..", with correct fileids. */
static void check_small_listing(struct ctx *x, const struct listing *l, const fh_t *dir,
				const fh_t *parent, const char *rel)
{
	char *path = itest_sprintf("%s/%s", g_env.dir, rel);
	DIR *d = opendir(path);
	assert_non_null(d);
	size_t real = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		real++;
		int cnt;
		const struct ent *e = find(l, de->d_name, &cnt);
		if (cnt != 1)
			fail_msg("%s: \"%s\" listed %d times", rel, de->d_name, cnt);
		fh_t h = itc_lookup_ok(x->c, dir, de->d_name);
		fattr3 a = itc_attr_ok(x->c, &h);
		if (a.fileid != e->fileid)
			fail_msg("%s/%s: READDIR fileid %llu, GETATTR fileid %llu", rel, de->d_name,
				 (unsigned long long)e->fileid, (unsigned long long)a.fileid);
	}
	closedir(d);
	size_t dots = 0;
	fattr3 da = itc_attr_ok(x->c, dir), pa = itc_attr_ok(x->c, parent);
	for (size_t i = 0; i < l->n; i++) {
		if (!strcmp(l->e[i].name, ".")) {
			dots++;
			assert_true(l->e[i].fileid == da.fileid);
		} else if (!strcmp(l->e[i].name, "..")) {
			dots++;
			if (l->e[i].fileid != pa.fileid)
				fail_msg("%s: \"..\" has fileid %llu, want %llu", rel,
					 (unsigned long long)l->e[i].fileid,
					 (unsigned long long)pa.fileid);
		}
	}
	if (l->n != real + dots)
		fail_msg("%s: %zu entries listed, directory has %zu (+%zu dot entries)", rel, l->n,
			 real, dots);
	/* cookies are distinct */
	for (size_t i = 0; i < l->n; i++)
		for (size_t j = i + 1; j < l->n; j++)
			if (l->e[i].cookie == l->e[j].cookie)
				fail_msg("%s: entries \"%s\" and \"%s\" share cookie %llu", rel,
					 l->e[i].name, l->e[j].name,
					 (unsigned long long)l->e[i].cookie);
}

/* ------------------------------------------------------------- small */
static void test_readdir_small(void **state)
{
	struct ctx *x = *state;
	fh_t small = itc_lookup_ok(x->c, &x->root, "small");
	struct listing l = { 0 };
	list_all(x->c, &small, 0, 8192, 0, &l);
	assert_int_equal(l.calls, 1);
	check_small_listing(x, &l, &small, &x->root, "small");
	int cnt;
	assert_non_null(find(&l, g_name255, &cnt));
	listing_free(&l);

	/* tiny count: one or two entries per call, cookies carry the listing */
	list_all(x->c, &small, 0, 4 + 88 + 8 + 8 + (4 + 8 + 4 + 256 + 8), 0, &l);
	assert_true(l.calls >= 4);
	check_small_listing(x, &l, &small, &x->root, "small");
	listing_free(&l);

	/* the export root lists its entries; its ".." (if listed) is itself */
	list_all(x->c, &x->root, 0, 8192, 0, &l);
	check_small_listing(x, &l, &x->root, &x->root, ".");
	listing_free(&l);

	/* empty directory: at most "." and "..", eof */
	fh_t empty = itc_lookup_ok(x->c, &x->root, "empty");
	list_all(x->c, &empty, 0, 8192, 0, &l);
	assert_true(l.n <= 2);
	check_small_listing(x, &l, &empty, &x->root, "empty");
	listing_free(&l);
}

static void test_readdirplus_small(void **state)
{
	struct ctx *x = *state;
	fh_t small = itc_lookup_ok(x->c, &x->root, "small");
	struct listing l = { 0 };
	list_all(x->c, &small, 1, 8192, 65536, &l);
	check_small_listing(x, &l, &small, &x->root, "small");
	for (size_t i = 0; i < l.n; i++) {
		struct ent *e = &l.e[i];
		int dot = !strcmp(e->name, ".") || !strcmp(e->name, "..");
		if (dot)
			continue;
		if (!e->has_attr || !e->has_fh)
			fail_msg("READDIRPLUS \"%s\": attributes %s, handle %s", e->name,
				 e->has_attr ? "yes" : "missing", e->has_fh ? "yes" : "missing");
		itest_check_attr_matches(&e->attr,
					 itest_sprintf("%s/small/%s", g_env.dir, e->name));
		/* the handle is the entry's own: GETATTR agrees, symlink not followed */
		fattr3 a = itc_attr_ok(x->c, &e->fh);
		assert_true(a.fileid == e->fileid);
		assert_int_equal(a.type, e->attr.type);
		if (!strcmp(e->name, "symlink"))
			assert_int_equal(a.type, NF3LNK);
		if (!strcmp(e->name, "subdir")) {
			/* the handle works as a directory handle */
			struct listing s = { 0 };
			list_all(x->c, &e->fh, 1, 8192, 65536, &s);
			assert_true(s.n <= 2);
			listing_free(&s);
		}
	}
	/* ".." of the root, if present with a handle, is the root */
	listing_free(&l);
	list_all(x->c, &x->root, 1, 8192, 65536, &l);
	fattr3 ra = itc_attr_ok(x->c, &x->root);
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.e[i].name, "..") != 0)
			continue;
		assert_true(l.e[i].fileid == ra.fileid);
		if (l.e[i].has_fh) {
			fattr3 a = itc_attr_ok(x->c, &l.e[i].fh);
			assert_true(a.fileid == ra.fileid);
		}
	}
	listing_free(&l);
}

static void test_readdir_errors(void **state)
{
	struct ctx *x = *state;
	fh_t f = itc_lookup_ok(x->c, &x->root, "plainfile");
	READDIR3res r;
	ITC_CALL(x->c, itc_readdir(x->c, &f, 0, NULL, 8192, &r));
	assert_nfsstat(r.status, NFS3ERR_NOTDIR);
	READDIRPLUS3res rp;
	ITC_CALL(x->c, itc_readdirplus(x->c, &f, 0, NULL, 8192, 65536, &rp));
	assert_nfsstat(rp.status, NFS3ERR_NOTDIR);

	/* count too small for even one entry -> NFS3ERR_TOOSMALL */
	fh_t small = itc_lookup_ok(x->c, &x->root, "small");
	const uint32_t tiny[] = { 0, 16, 64, 100 };
	for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		ITC_CALL(x->c, itc_readdir(x->c, &small, 0, NULL, tiny[i], &r));
		if (r.status != NFS3ERR_TOOSMALL)
			fail_msg("READDIR count %u: expected NFS3ERR_TOOSMALL, got %s", tiny[i],
				 itest_nfsstat_name(r.status));
		ITC_CALL(x->c, itc_readdirplus(x->c, &small, 0, NULL, 8192, tiny[i], &rp));
		if (rp.status != NFS3ERR_TOOSMALL)
			fail_msg("READDIRPLUS maxcount %u: expected NFS3ERR_TOOSMALL, got %s",
				 tiny[i], itest_nfsstat_name(rp.status));
	}
	/* a reading position past the last entry: no entries, eof */
	struct listing l = { 0 };
	list_all(x->c, &small, 0, 8192, 0, &l);
	uint64_t last = l.e[l.n - 1].cookie;
	listing_free(&l);
	ITC_CALL(x->c, itc_readdir(x->c, &small, last, NULL, 8192, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_null(r.READDIR3res_u.resok.reply.entries);
	assert_true(r.READDIR3res_u.resok.reply.eof);
}

static void test_dircount_honoured(void **state)
{
	struct ctx *x = *state;
	fh_t big = itc_lookup_ok(x->c, &x->root, "big");
	/* dircount small, maxcount large: dircount must limit the entries */
	struct listing l = { 0 };
	uint64_t cookie = 0;
	char verf[8] = { 0 };
	int st;
	readdirplus_step(x->c, &big, &cookie, verf, 1024, 256 * 1024, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	assert_true(l.n >= 1);
	assert_true(l.n <= 1024 / 28 + 1);
	listing_free(&l);
	/* maxcount small, dircount large: maxcount limits */
	cookie = 0;
	memset(verf, 0, 8);
	readdirplus_step(x->c, &big, &cookie, verf, 64 * 1024, 4096, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	assert_true(l.n >= 1);
	listing_free(&l);
	/* READDIR: several counts, each reply within count */
	const uint32_t counts[] = { 512, 1024, 4096, 32768, 65536 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		cookie = 0;
		memset(verf, 0, 8);
		readdir_step(x->c, &big, &cookie, verf, counts[i], &l, &st);
		assert_nfsstat(st, NFS3_OK);
		assert_true(l.n >= 1);
		listing_free(&l);
	}
}

/* ------------------------------------------------------------ 100k */
static void check_big_listing(const struct listing *l, int plus)
{
	unsigned char *seen = calloc(BIG_N, 1);
	size_t dots = 0;
	for (size_t i = 0; i < l->n; i++) {
		const char *nm = l->e[i].name;
		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			dots++;
			continue;
		}
		int idx;
		char tail;
		if (sscanf(nm, "f%6d%c", &idx, &tail) != 1 || idx < 0 || idx >= BIG_N ||
		    strlen(nm) != 7) {
			free(seen);
			fail_msg("unexpected name \"%s\" in big/", nm);
		}
		if (seen[idx]++) {
			free(seen);
			fail_msg("%s: \"%s\" listed twice", plus ? "READDIRPLUS" : "READDIR", nm);
		}
		if (plus) {
			if (!l->e[i].has_attr || !l->e[i].has_fh) {
				free(seen);
				fail_msg("READDIRPLUS \"%s\": missing attributes or handle", nm);
			}
			if (l->e[i].attr.type != NF3REG || l->e[i].attr.size != 0) {
				free(seen);
				fail_msg("READDIRPLUS \"%s\": type %d size %llu", nm,
					 (int)l->e[i].attr.type,
					 (unsigned long long)l->e[i].attr.size);
			}
		}
	}
	for (int i = 0; i < BIG_N; i++)
		if (!seen[i]) {
			free(seen);
			fail_msg("%s: f%06d never listed (%zu entries seen)",
				 plus ? "READDIRPLUS" : "READDIR", i, l->n);
		}
	free(seen);
	assert_true(dots <= 2);
	assert_int_equal(l->n, BIG_N + dots);
}

static void test_readdir_100k(void **state)
{
	struct ctx *x = *state;
	fh_t big = itc_lookup_ok(x->c, &x->root, "big");
	struct listing l = { 0 };
	double t0 = now_s();
	list_all(x->c, &big, 0, 32768, 0, &l);
	double t = now_s() - t0;
	fprintf(stderr, "[ info     ] READDIR 100k: %d calls, %.2fs\n", l.calls, t);
	assert_true(l.calls >= 50); /* 32 KiB replies hold ~1000 entries */
	check_big_listing(&l, 0);
	listing_free(&l);
}

static void test_readdirplus_100k(void **state)
{
	struct ctx *x = *state;
	fh_t big = itc_lookup_ok(x->c, &x->root, "big");
	struct listing l = { 0 };
	double t0 = now_s();
	list_all(x->c, &big, 1, 16384, 128 * 1024, &l);
	double t = now_s() - t0;
	fprintf(stderr, "[ info     ] READDIRPLUS 100k: %d calls, %.2fs\n", l.calls, t);
	assert_true(l.calls >= 100);
	check_big_listing(&l, 1);
	/* spot-check handles: every 997th entry's handle is that file */
	for (size_t i = 0; i < l.n; i += 997) {
		if (!strcmp(l.e[i].name, ".") || !strcmp(l.e[i].name, ".."))
			continue;
		void *mark = itest_arena_mark();
		fattr3 a = itc_attr_ok(x->c, &l.e[i].fh);
		fh_t h = itc_lookup_ok(x->c, &big, l.e[i].name);
		fattr3 b = itc_attr_ok(x->c, &h);
		itest_arena_release(mark);
		assert_true(a.fileid == l.e[i].fileid);
		assert_true(b.fileid == l.e[i].fileid);
	}
	listing_free(&l);
}

/* Time one READDIR call at cookie (best of n). */
static double time_readdir(struct ctx *x, const fh_t *dir, uint64_t cookie, const char *verf, int n)
{
	double best = 1e9;
	for (int i = 0; i < n; i++) {
		void *mark = itest_arena_mark();
		READDIR3res r;
		double t0 = now_s();
		ITC_CALL(x->c, itc_readdir(x->c, dir, cookie, verf, 8192, &r));
		double t = now_s() - t0;
		assert_nfsstat(r.status, NFS3_OK);
		assert_non_null(r.READDIR3res_u.resok.reply.entries);
		itest_arena_release(mark);
		if (t < best)
			best = t;
	}
	return best;
}

static void test_readdir_no_rescan_from_start(void **state)
{
	struct ctx *x = *state;
	fh_t big = itc_lookup_ok(x->c, &x->root, "big");
	struct listing l = { 0 };
	list_all(x->c, &big, 0, 65536, 0, &l);
	assert_true(l.n >= BIG_N);
	uint64_t early = l.e[200].cookie, late = l.e[l.n - 300].cookie;
	char verf[8];
	memcpy(verf, l.verf, 8);
	listing_free(&l);

	/* Baseline: what reading the whole directory costs here. */
	double t0 = now_s();
	DIR *d = opendir(itest_path(&g_env, "big"));
	assert_non_null(d);
	size_t n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	double full = now_s() - t0;
	assert_true(n >= BIG_N);

	double te = time_readdir(x, &big, early, verf, 7);
	double tl = time_readdir(x, &big, late, verf, 7);
	fprintf(stderr,
		"[ info     ] READDIR at early cookie %.3f ms, late cookie %.3f ms; full local "
		"scan %.3f ms\n",
		te * 1e3, tl * 1e3, full * 1e3);
	/* A server that re-reads from the start to find the cookie pays about a
     * full scan for the late cookie and almost nothing for the early one. */
	if (tl > te * 3 + full * 0.5 + 0.002)
		fail_msg("READDIR near the end of a 100k directory takes %.3f ms vs %.3f ms near "
			 "the start "
			 "(full scan %.3f ms): the directory seems to be re-read from the start",
			 tl * 1e3, te * 1e3, full * 1e3);
}

/* ------------------------------------------------- mutation + verifier */
static void test_readdir_concurrent_changes(void **state)
{
	struct ctx *x = *state;
	fh_t mut = itc_lookup_ok(x->c, &x->root, "mut");
	char *mdir = itest_path(&g_env, "mut");
	int dfd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);

	/* 0: survivor, 1: removed during listing */
	unsigned char *removed = calloc(MUT_N, 1);
	int added = 0;
	for (int plus = 0; plus <= 1; plus++) {
		struct listing l = { 0 };
		uint64_t cookie = 0;
		char verf[8] = { 0 };
		int st, eof = 0, step = 0;
		while (!eof) {
			eof = plus ? readdirplus_step(x->c, &mut, &cookie, verf, 2048, 8192, &l,
						      &st)
				   : readdir_step(x->c, &mut, &cookie, verf, 2048, &l, &st);
			if (eof < 0)
				fail_msg("listing with concurrent changes (call %d): %s", step,
					 itest_nfsstat_name(st));
			/* between calls: remove 7 original entries, add 7 new ones */
			for (int k = 0; k < 7; k++) {
				int victim = (int)((step * 7919u + (unsigned)k * 104729u +
						    (unsigned)plus * 31u) %
						   MUT_N);
				if (!removed[victim]) {
					char nm[32];
					snprintf(nm, sizeof(nm), "m%05d", victim);
					if (unlinkat(dfd, nm, 0) == 0)
						removed[victim] = 1;
				}
				char nn[32];
				snprintf(nn, sizeof(nn), "n%05d", added++);
				int fd = openat(dfd, nn, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
				assert_true(fd >= 0);
				close(fd);
			}
			step++;
			assert_true(step < 10000);
		}
		assert_true(step >= 20);
		/* every name at most once; every survivor exactly once */
		unsigned char *seen = calloc(MUT_N, 1);
		unsigned char *seen_new = calloc((size_t)added + 1, 1);
		for (size_t i = 0; i < l.n; i++) {
			const char *nm = l.e[i].name;
			int idx;
			if (!strcmp(nm, ".") || !strcmp(nm, ".."))
				continue;
			if (nm[0] == 'm' && sscanf(nm + 1, "%d", &idx) == 1 && idx >= 0 &&
			    idx < MUT_N) {
				if (seen[idx]++)
					fail_msg("%s: \"%s\" listed twice while the directory "
						 "changed",
						 plus ? "READDIRPLUS" : "READDIR", nm);
			} else if (nm[0] == 'n' && sscanf(nm + 1, "%d", &idx) == 1 && idx >= 0 &&
				   idx < added) {
				if (seen_new[idx]++)
					fail_msg("%s: added entry \"%s\" listed twice",
						 plus ? "READDIRPLUS" : "READDIR", nm);
			} else {
				fail_msg("unexpected name \"%s\"", nm);
			}
		}
		int lost = 0, first_lost = -1;
		for (int i = 0; i < MUT_N; i++)
			if (!removed[i] && !seen[i]) {
				if (first_lost < 0)
					first_lost = i;
				lost++;
			}
		if (lost)
			fail_msg("%s: %d surviving entries never listed (first: m%05d) while the "
				 "directory changed",
				 plus ? "READDIRPLUS" : "READDIR", lost, first_lost);
		free(seen);
		free(seen_new);
		listing_free(&l);
	}
	close(dfd);
	free(removed);
}

static void test_cookieverf_never_bad_cookie(void **state)
{
	struct ctx *x = *state;
	fh_t big = itc_lookup_ok(x->c, &x->root, "big");
	struct listing l = { 0 };
	uint64_t cookie = 0;
	char verf[8] = { 0 };
	int st;
	readdir_step(x->c, &big, &cookie, verf, 8192, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	uint64_t mid = cookie;
	char oldverf[8];
	memcpy(oldverf, verf, 8);
	size_t first_n = l.n;

	/* Change the directory (mtime moves), then continue with the old verifier. */
	char *p = itest_path(&g_env, "big/zz-new-entry");
	assert_int_equal(itest_write_file(p, "", 0), 0);
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 2000000000, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, itest_path(&g_env, "big"), ts, 0), 0);

	cookie = mid;
	memcpy(verf, oldverf, 8);
	readdir_step(x->c, &big, &cookie, verf, 8192, &l, &st);
	if (st == NFS3ERR_BAD_COOKIE)
		fail_msg("READDIR returned NFS3ERR_BAD_COOKIE for the previous verifier after a "
			 "directory change");
	assert_nfsstat(st, NFS3_OK);
	assert_true(l.n > first_n);

	/* A zero verifier with a non-zero cookie is fine too. */
	cookie = mid;
	char zero[8] = { 0 };
	readdir_step(x->c, &big, &cookie, zero, 8192, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	cookie = mid;
	memset(zero, 0, 8);
	readdirplus_step(x->c, &big, &cookie, zero, 8192, 65536, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	/* READDIRPLUS with READDIR's verifier */
	cookie = mid;
	memcpy(verf, oldverf, 8);
	readdirplus_step(x->c, &big, &cookie, verf, 8192, 65536, &l, &st);
	assert_nfsstat(st, NFS3_OK);
	listing_free(&l);

	/* A full listing with the verifier threaded through still completes
     * correctly after the change (the new entry is included). */
	list_all(x->c, &big, 0, 65536, 0, &l);
	int cnt;
	find(&l, "zz-new-entry", &cnt);
	assert_int_equal(cnt, 1);
	listing_free(&l);
	assert_int_equal(unlink(p), 0);
}

/* ------------------------------------------- cached entry handles */
/* DHC_SETTLE_NS in include/fh_dircache.h (that header needs the server's XDR types). */
#define SETTLE_S 3.0

static void wait_settled(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		fail_msg("stat %s: %s", path, strerror(errno));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	double age = (double)(now.tv_sec - st.st_ctim.tv_sec) +
		     (double)(now.tv_nsec - st.st_ctim.tv_nsec) / 1e9;
	double need = SETTLE_S + 0.3;
	if (age < need)
		usleep((useconds_t)((need - age) * 1e6));
}

static int fh_same(const fh_t *a, const fh_t *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Every entry's handle is the one LOOKUP gives, and names the file the name names now. */
static void check_entry_handles(struct ctx *x, const fh_t *dir, const char *rel,
				const struct listing *l, int expect)
{
	int checked = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct ent *e = &l->e[i];
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		if (!e->has_fh)
			fail_msg("READDIRPLUS \"%s\": no handle", e->name);
		fh_t want = itc_lookup_ok(x->c, dir, e->name);
		if (!fh_same(&e->fh, &want))
			fail_msg("READDIRPLUS \"%s\": handle differs from LOOKUP's", e->name);
		struct stat st;
		if (lstat(itest_sprintf("%s/%s/%s", g_env.dir, rel, e->name), &st) != 0)
			fail_msg("lstat %s: %s", e->name, strerror(errno));
		fattr3 a = itc_attr_ok(x->c, &e->fh);
		assert_true(a.fileid == (uint64_t)st.st_ino);
		assert_true(e->fileid == (uint64_t)st.st_ino);
		checked++;
	}
	assert_int_equal(checked, expect);
}

/*
 * Files replaced behind the server's back (unlink + create, often on the
 * same inode number with a new generation; rename over) in a directory
 * whose handles the server keeps between listings: no listing may hand out
 * the old object's handle, right after the change or once it settled.
 */
static void test_readdirplus_handles_follow_replaced_files(void **state)
{
	struct ctx *x = *state;
	const char *rel = "repl";
	char *dpath = itest_path(&g_env, rel);
	assert_int_equal(mkdir(dpath, 0755), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(itest_write_file(itest_sprintf("%s/r%02d", dpath, i), "old", 3),
				 0);
	wait_settled(dpath);
	fh_t dir = itc_lookup_ok(x->c, &x->root, rel);
	struct listing l1 = { 0 }, l;
	list_all(x->c, &dir, 1, 8192, 65536, &l1);
	/*
	 * The second listing of the settled directory is served from the kept
	 * handles. No LOOKUP yet: the server would hold the files open, and an
	 * unlinked file that is still open keeps its inode number.
	 */
	memset(&l, 0, sizeof(l));
	list_all(x->c, &dir, 1, 8192, 65536, &l);
	assert_int_equal(l.n, l1.n);
	for (size_t i = 0; i < l.n; i++) {
		int n;
		const struct ent *o = find(&l1, l.e[i].name, &n);
		assert_int_equal(n, 1);
		if (strcmp(o->name, ".") && strcmp(o->name, "..") && !fh_same(&o->fh, &l.e[i].fh))
			fail_msg("\"%s\": the second listing's handle differs", o->name);
	}
	listing_free(&l);

	int reused = 0;
	for (int i = 0; i < 8; i++) {
		char *p = itest_sprintf("%s/r%02d", dpath, i);
		struct stat before, after;
		assert_int_equal(lstat(p, &before), 0);
		assert_int_equal(unlink(p), 0);
		assert_int_equal(itest_write_file(p, "new", 3), 0);
		assert_int_equal(lstat(p, &after), 0);
		reused += before.st_ino == after.st_ino;
	}
	assert_int_equal(rename(itest_sprintf("%s/r15", dpath), itest_sprintf("%s/r08", dpath)), 0);
	fprintf(stderr, "[ info     ] %d of 8 replaced files got their old inode number\n", reused);

	for (int pass = 0; pass < 3; pass++) {
		if (pass == 1)
			wait_settled(dpath);
		memset(&l, 0, sizeof(l));
		list_all(x->c, &dir, 1, 8192, 65536, &l);
		check_entry_handles(x, &dir, rel, &l, 15);
		for (int i = 0; i <= 8; i++) {
			int n1, n2;
			char name[8];
			snprintf(name, sizeof(name), "r%02d", i);
			const struct ent *o = find(&l1, name, &n1), *e = find(&l, name, &n2);
			assert_int_equal(n1, 1);
			assert_int_equal(n2, 1);
			if (fh_same(&o->fh, &e->fh))
				fail_msg("pass %d: \"%s\" still has the replaced file's handle",
					 pass, name);
		}
		listing_free(&l);
	}
	listing_free(&l1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_readdir_small),
		T(test_readdirplus_small),
		T(test_readdir_errors),
		T(test_dircount_honoured),
		T(test_readdir_100k),
		T(test_readdirplus_100k),
		T(test_readdir_no_rescan_from_start),
		T(test_readdir_concurrent_changes),
		T(test_cookieverf_never_bad_cookie),
		T(test_readdirplus_handles_follow_replaced_files),
	};
	return cmocka_run_group_tests_name("integration.readdir", tests, group_setup,
					   group_teardown);
}
