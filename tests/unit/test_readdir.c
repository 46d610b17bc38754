/*
 * READDIR / READDIRPLUS paging (server/nfs3/nfs3_read.c over vfs_readdir and
 * the passthrough backend), called directly with decoded arguments:
 * completeness across many small pages, cookie resumption, concurrent
 * changes, TOOSMALL, "." and "..", and the count / dircount / maxcount
 * budgets checked against the XDR-encoded reply.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "backend.h"
#include "cred.h"
#include "errmap.h"
#include "fh.h"
#include "log.h"
#include "nfs3.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NBIG 5000
#define XPAD(n) (((n) + 3u) & ~3u)

static struct ut_export fx;
static struct export *ex; /* fx.ex */
static const char *exdir; /* fx.exdir */
static char *bignames[NBIG];
static struct fh_buf bigfh, rootfh;
static ino_t bigino;
static bool over_udp;	  /* the calls come from a UDP peer */
static uint32_t call_uid; /* AUTH_SYS uid (and gid) of the calls */

/* ------------------------------------------------------------ helpers */

static char *P(const char *rel)
{
	static char bufs[4][4096];
	static unsigned n;
	char *b = bufs[n++ % 4];
	snprintf(b, 4096, "%s/%s", exdir, rel);
	return b;
}

static void hmake(const char *rel, struct fh_buf *out)
{
	ut_hmake(ex, rel, out);
}

struct ent {
	char *name;
	uint64_t fileid, cookie;
	bool has_attr, has_fh;
	uint64_t attr_fileid;
	ftype3 attr_type;
	struct fh_buf fh;
};

struct page {
	struct ent *e;
	size_t n, cap;
	bool eof;
	size_t encoded;	 /* bytes of the XDR-encoded READDIR3res / READDIRPLUS3res */
	size_t dirbytes; /* fileid + name + cookie bytes, what dircount bounds */
	bool dir_attr;
};

static void page_free(struct page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		free(pg->e[i].name);
	free(pg->e);
	memset(pg, 0, sizeof(*pg));
}

static struct ent *page_add(struct page *pg, const filename3 *name)
{
	if (pg->n == pg->cap) {
		pg->cap = pg->cap ? 2 * pg->cap : 64;
		pg->e = realloc(pg->e, pg->cap * sizeof(*pg->e));
		assert_non_null(pg->e);
	}
	struct ent *e = &pg->e[pg->n++];
	memset(e, 0, sizeof(*e));
	e->name = strndup(name->filename3_val, name->filename3_len);
	assert_int_equal(strlen(e->name), name->filename3_len);
	pg->dirbytes += 8 + 4 + XPAD(name->filename3_len) + 8;
	return e;
}

static size_t encoded_size(xdrproc_t proc, void *res)
{
	/* What the reply encodes to, counted without a buffer. */
	unsigned long n = xdr_sizeof(proc, res);
	assert_true(n > 0);
	return n;
}

/*
 * The server encodes READDIRPLUS with its own inlined encoder: it must be
 * rpcgen's bytes exactly, and fail where rpcgen's fails (a buffer too small).
 */
static void expect_fast_encoding(READDIRPLUS3res *r)
{
	size_t n = xdr_sizeof((xdrproc_t)xdr_READDIRPLUS3res, r);
	/* The reply buffer is sized with it when the first guess is short. */
	assert_int_equal(xdr_sizeof((xdrproc_t)xdr_READDIRPLUS3res_fast, r), n);
	char *want = calloc(1, n + 64), *got = calloc(1, n + 64);
	assert_non_null(want);
	assert_non_null(got);
	XDR x;
	xdrmem_create(&x, want, (u_int)n, XDR_ENCODE);
	assert_true(xdr_READDIRPLUS3res(&x, r));
	xdr_destroy(&x);
	xdrmem_create(&x, got, (u_int)n, XDR_ENCODE);
	assert_true(xdr_READDIRPLUS3res_fast(&x, r));
	u_int used = xdr_getpos(&x);
	xdr_destroy(&x);
	assert_int_equal(used, n);
	assert_memory_equal(got, want, n);
	for (size_t cut = 4; cut < n; cut += n / 7 + 1) {
		xdrmem_create(&x, got, (u_int)(n - cut), XDR_ENCODE);
		if (xdr_READDIRPLUS3res_fast(&x, r))
			fail_msg("encoded %zu bytes into %zu", n, n - cut);
		xdr_destroy(&x);
	}
	free(want);
	free(got);
}

static nfsstat3 do_readdir(const struct fh_buf *dir, uint64_t cookie, uint32_t count,
			   struct page *pg)
{
	memset(pg, 0, sizeof(*pg));
	struct ut_rpc u;
	ut_rpc_init(&u, call_uid, call_uid);
	u.peer.is_tcp = !over_udp;
	READDIR3args a;
	READDIR3res r;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	fh_to_wire(dir, &a.dir);
	a.cookie = cookie;
	memcpy(a.cookieverf, "verifier", NFS3_COOKIEVERFSIZE);
	a.count = count;
	nfs3_readdir(&u.req, &a, &r);
	pg->encoded = encoded_size((xdrproc_t)xdr_READDIR3res, &r);
	if (r.status == NFS3_OK) {
		READDIR3resok *ok = &r.READDIR3res_u.resok;
		assert_memory_equal(ok->cookieverf, "verifier", NFS3_COOKIEVERFSIZE);
		pg->dir_attr = ok->dir_attributes.attributes_follow;
		for (entry3 *e = ok->reply.entries; e; e = e->nextentry) {
			struct ent *x = page_add(pg, &e->name);
			x->fileid = e->fileid;
			x->cookie = e->cookie;
		}
		pg->eof = ok->reply.eof;
	} else {
		pg->dir_attr = r.READDIR3res_u.resfail.dir_attributes.attributes_follow;
	}
	ut_rpc_done(&u);
	return r.status;
}

static nfsstat3 do_readdirplus(const struct fh_buf *dir, uint64_t cookie, uint32_t dircount,
			       uint32_t maxcount, struct page *pg)
{
	memset(pg, 0, sizeof(*pg));
	struct ut_rpc u;
	ut_rpc_init(&u, call_uid, call_uid);
	u.peer.is_tcp = !over_udp;
	READDIRPLUS3args a;
	READDIRPLUS3res r;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	fh_to_wire(dir, &a.dir);
	a.cookie = cookie;
	memcpy(a.cookieverf, "verifie2", NFS3_COOKIEVERFSIZE);
	a.dircount = dircount;
	a.maxcount = maxcount;
	nfs3_readdirplus(&u.req, &a, &r);
	expect_fast_encoding(&r);
	pg->encoded = encoded_size((xdrproc_t)xdr_READDIRPLUS3res, &r);
	if (r.status == NFS3_OK) {
		READDIRPLUS3resok *ok = &r.READDIRPLUS3res_u.resok;
		assert_memory_equal(ok->cookieverf, "verifie2", NFS3_COOKIEVERFSIZE);
		pg->dir_attr = ok->dir_attributes.attributes_follow;
		for (entryplus3 *e = ok->reply.entries; e; e = e->nextentry) {
			struct ent *x = page_add(pg, &e->name);
			x->fileid = e->fileid;
			x->cookie = e->cookie;
			x->has_attr = e->name_attributes.attributes_follow;
			if (x->has_attr) {
				x->attr_fileid =
					e->name_attributes.post_op_attr_u.attributes.fileid;
				x->attr_type = e->name_attributes.post_op_attr_u.attributes.type;
			}
			x->has_fh = e->name_handle.handle_follows;
			if (x->has_fh) {
				nfs_fh3 *h = &e->name_handle.post_op_fh3_u.handle;
				assert_true(h->data.data_len <= FH_SIZE_MAX);
				x->fh.len = h->data.data_len;
				memcpy(x->fh.data, h->data.data_val, h->data.data_len);
			}
		}
		pg->eof = ok->reply.eof;
	} else {
		pg->dir_attr = r.READDIRPLUS3res_u.resfail.dir_attributes.attributes_follow;
	}
	ut_rpc_done(&u);
	return r.status;
}

/* A whole listing, page by page; every page's encoded size is checked against its budget. */
struct listing {
	struct ent *e;
	size_t n, cap;
	unsigned pages;
};

typedef void (*between_fn)(const struct listing *so_far, void *ctx);

static void list_all(const struct fh_buf *dir, bool plus, uint32_t dircount, uint32_t count,
		     struct listing *out, between_fn between, void *ctx)
{
	memset(out, 0, sizeof(*out));
	uint64_t cookie = 0;
	for (;;) {
		struct page pg;
		nfsstat3 s = plus ? do_readdirplus(dir, cookie, dircount, count, &pg)
				  : do_readdir(dir, cookie, count, &pg);
		if (s != NFS3_OK)
			fail_msg("%s page %u at cookie %#llx: %s", plus ? "READDIRPLUS" : "READDIR",
				 out->pages, (unsigned long long)cookie, nfs3_strstat(s));
		out->pages++;
		if (pg.encoded > count)
			fail_msg("page %u encodes to %zu bytes, count %u", out->pages, pg.encoded,
				 count);
		if (plus && pg.dirbytes > dircount)
			fail_msg("page %u has %zu bytes of entries, dircount %u", out->pages,
				 pg.dirbytes, dircount);
		if (!pg.eof && pg.n == 0)
			fail_msg("page %u: no entries and no eof", out->pages);
		if (out->pages > 100000)
			fail_msg("listing does not end");
		assert_true(pg.dir_attr);
		if (out->n + pg.n > out->cap) {
			while (out->n + pg.n > out->cap)
				out->cap = out->cap ? 2 * out->cap : 256;
			out->e = realloc(out->e, out->cap * sizeof(*out->e));
			assert_non_null(out->e);
		}
		for (size_t i = 0; i < pg.n; i++) {
			out->e[out->n++] = pg.e[i];
			pg.e[i].name = NULL;
		}
		if (pg.n)
			cookie = pg.e[pg.n - 1].cookie;
		bool eof = pg.eof;
		page_free(&pg);
		if (eof)
			break;
		if (between)
			between(out, ctx);
	}
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* How often each of names[0..n) occurs in l; also fails on names seen twice. */
static void count_names(const struct listing *l, char **names, size_t n, unsigned *counts)
{
	memset(counts, 0, n * sizeof(*counts));
	char **sorted = malloc(l->n * sizeof(char *));
	for (size_t i = 0; i < l->n; i++)
		sorted[i] = l->e[i].name;
	qsort(sorted, l->n, sizeof(char *), cmp_str);
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(sorted[i], sorted[i - 1]) == 0)
			fail_msg("\"%s\" listed twice", sorted[i]);
	for (size_t i = 0; i < n; i++)
		counts[i] = bsearch(&names[i], sorted, l->n, sizeof(char *), cmp_str) ? 1 : 0;
	free(sorted);
}

static const struct ent *find(const struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	return NULL;
}

/* Names of varied lengths (every XDR padding case, some 255 bytes long). */
static char *make_name(const char *prefix, unsigned i)
{
	char *s;
	unsigned extra = (i * 7) % 61;
	if (i % 997 == 3)
		extra = 255 - 6 - (unsigned)strlen(prefix);
	assert_true(asprintf(&s, "%s%05u%.*s", prefix, i, (int)extra,
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
			     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
			     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd") >
		    0);
	return s;
}

static void create_in(int dfd, const char *name)
{
	if (mknodat(dfd, name, S_IFREG | 0644, 0) < 0)
		fail_msg("create %s: %s", name, strerror(errno));
}

/*
 * Entry i of a big directory. Allocating an inode costs ~1 ms on a busy
 * ext4, so one entry in 50 is a new file and the others are hard links to
 * it: the directory itself (names, hash order, cookies) is what paging is
 * about, and there are still 100 distinct inodes for the fileid checks.
 */
static void create_nth(int dfd, char **names, unsigned i)
{
	if (i % 50 == 0) {
		create_in(dfd, names[i]);
		return;
	}
	if (linkat(dfd, names[i - i % 50], dfd, names[i], 0) < 0)
		fail_msg("link %s: %s", names[i], strerror(errno));
}

/* ---------------------------------------------------------- fixtures */

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR);
	if (ut_export_init(&fx, "readdir") != 0)
		return -1;
	ex = fx.ex;
	exdir = fx.exdir;
	ut_mkdir(P("big"));
	int dfd = open(P("big"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	for (unsigned i = 0; i < NBIG; i++) {
		bignames[i] = make_name("e", i);
		create_nth(dfd, bignames, i);
	}
	/* A few of other types. */
	if (mkdirat(dfd, "subdir", 0755) < 0 || symlinkat("target", dfd, "symlink") < 0)
		return -1;
	close(dfd);
	struct stat st;
	if (stat(P("big"), &st) < 0)
		return -1;
	bigino = st.st_ino;
	hmake("big", &bigfh);
	hmake("", &rootfh);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ut_export_free(&fx);
	for (unsigned i = 0; i < NBIG; i++)
		free(bignames[i]);
	return 0;
}

/* Every entry of "big" exactly once, plus ".", "..", "subdir", "symlink". */
static void check_big_complete(const struct listing *l, const char *what)
{
	unsigned *counts = calloc(NBIG, sizeof(unsigned));
	count_names(l, bignames, NBIG, counts);
	for (unsigned i = 0; i < NBIG; i++)
		if (counts[i] != 1)
			fail_msg("%s: \"%.40s\" listed %u times", what, bignames[i], counts[i]);
	free(counts);
	const char *extra[] = { ".", "..", "subdir", "symlink" };
	for (int i = 0; i < 4; i++)
		if (!find(l, extra[i]))
			fail_msg("%s: \"%s\" missing", what, extra[i]);
	if (l->n != NBIG + 4)
		fail_msg("%s: %zu entries, want %d", what, l->n, NBIG + 4);
	/* fileids are the inode numbers. */
	for (size_t i = 0; i < l->n; i += 97) {
		struct stat st;
		char rel[300];
		snprintf(rel, sizeof(rel), "big/%s", l->e[i].name);
		assert_int_equal(lstat(P(rel), &st), 0);
		if (strcmp(l->e[i].name, "..") != 0 && l->e[i].fileid != st.st_ino)
			fail_msg("%s: fileid of %s is %llu, want %llu", what, l->e[i].name,
				 (unsigned long long)l->e[i].fileid, (unsigned long long)st.st_ino);
	}
}

/* -------------------------------------------------------------- tests */

static void test_readdir_small_pages(void **state)
{
	(void)state;
	const uint32_t counts[] = { 1024, 8192 };
	for (size_t c = 0; c < 2; c++) {
		struct listing l;
		list_all(&bigfh, false, 0, counts[c], &l, NULL, NULL);
		check_big_complete(&l, "READDIR");
		if (l.pages < (c ? 20u : 200u))
			fail_msg("count %u: only %u pages", counts[c], l.pages);
		listing_free(&l);
	}
}

static void test_readdirplus_small_pages(void **state)
{
	(void)state;
	const uint32_t dc[][2] = { { 1024, 65536 }, { 65536, 4096 } };
	for (size_t c = 0; c < 2; c++) {
		struct listing l;
		list_all(&bigfh, true, dc[c][0], dc[c][1], &l, NULL, NULL);
		check_big_complete(&l, "READDIRPLUS");
		if (l.pages < 100)
			fail_msg("dircount %u maxcount %u: only %u pages", dc[c][0], dc[c][1],
				 l.pages);
		for (size_t i = 0; i < l.n; i++) {
			if (!l.e[i].has_attr || !l.e[i].has_fh)
				fail_msg("%s: no attributes or handle", l.e[i].name);
			if (l.e[i].attr_fileid != l.e[i].fileid)
				fail_msg("%s: attribute fileid %llu, entry fileid %llu",
					 l.e[i].name, (unsigned long long)l.e[i].attr_fileid,
					 (unsigned long long)l.e[i].fileid);
		}
		listing_free(&l);
	}
}

static void test_plus_handles_resolve(void **state)
{
	(void)state;
	struct page pg;
	assert_int_equal(do_readdirplus(&bigfh, 0, 65536, 65536, &pg), NFS3_OK);
	assert_true(pg.n > 50);
	for (size_t i = 0; i < pg.n; i++) {
		struct ent *e = &pg.e[i];
		assert_true(e->has_fh);
		struct ut_rpc u;
		ut_rpc_init(&u, 0, 0);
		nfs_fh3 w;
		fh_to_wire(&e->fh, &w);
		struct vfs_obj *obj;
		nfsstat3 s = nfs3_resolve(&u.req, &w, &obj);
		if (s != NFS3_OK)
			fail_msg("handle of %s: %s", e->name, nfs3_strstat(s));
		assert_int_equal(obj->st.st_ino, e->fileid);
		vfs_put(obj);
		ut_rpc_done(&u);
		/* The same canonical handle a lookup by name gives. */
		if (strcmp(e->name, ".") && strcmp(e->name, "..")) {
			char rel[300];
			snprintf(rel, sizeof(rel), "big/%s", e->name);
			struct fh_buf h;
			hmake(rel, &h);
			assert_int_equal(h.len, e->fh.len);
			assert_memory_equal(h.data, e->fh.data, h.len);
			struct stat st;
			assert_int_equal(lstat(P(rel), &st), 0);
			ftype3 want = S_ISDIR(st.st_mode)   ? NF3DIR
				      : S_ISLNK(st.st_mode) ? NF3LNK
							    : NF3REG;
			assert_int_equal(e->attr_type, want);
		}
	}
	page_free(&pg);
}

static void test_cookie_resume(void **state)
{
	(void)state;
	/* The reference: one big page (count is clamped to 1 MiB). */
	struct page all;
	assert_int_equal(do_readdir(&bigfh, 0, 0xffffffffu, &all), NFS3_OK);
	assert_true(all.eof);
	assert_int_equal(all.n, NBIG + 4);
	const size_t ks[] = { 0, 1, 2, 3, 100, 2500, NBIG - 1, NBIG + 2, NBIG + 3 };
	for (size_t t = 0; t < sizeof(ks) / sizeof(ks[0]); t++) {
		size_t k = ks[t];
		struct page rest;
		assert_int_equal(do_readdir(&bigfh, all.e[k].cookie, 0xffffffffu, &rest), NFS3_OK);
		assert_true(rest.eof);
		if (rest.n != all.n - k - 1)
			fail_msg("resume after entry %zu: %zu entries, want %zu", k, rest.n,
				 all.n - k - 1);
		for (size_t i = 0; i < rest.n; i++) {
			assert_string_equal(rest.e[i].name, all.e[k + 1 + i].name);
			assert_int_equal(rest.e[i].cookie, all.e[k + 1 + i].cookie);
			assert_int_equal(rest.e[i].fileid, all.e[k + 1 + i].fileid);
		}
		page_free(&rest);
		/* READDIRPLUS resumes at the same place. */
		struct page plus;
		assert_int_equal(do_readdirplus(&bigfh, all.e[k].cookie, 4096, 16384, &plus),
				 NFS3_OK);
		if (k + 1 < all.n) {
			assert_true(plus.n > 0);
			for (size_t i = 0; i < plus.n; i++)
				assert_string_equal(plus.e[i].name, all.e[k + 1 + i].name);
		} else {
			assert_int_equal(plus.n, 0);
			assert_true(plus.eof);
		}
		page_free(&plus);
	}
	/* Cookies are distinct. */
	uint64_t *c = malloc(all.n * sizeof(uint64_t));
	for (size_t i = 0; i < all.n; i++)
		c[i] = all.e[i].cookie;
	for (size_t i = 0; i < all.n; i++)
		for (size_t j = i + 1; j < all.n && j < i + 50; j++)
			assert_true(c[i] != c[j]);
	free(c);
	page_free(&all);
}

/* Changes made between pages of a listing of "mut". */
struct churn {
	int dfd;
	const char *anchor; /* new entries are links to it */
	char **orig;
	size_t norig;
	bool *removed;
	unsigned next_new, rnd;
};

static unsigned rnd(struct churn *c)
{
	c->rnd = c->rnd * 1103515245u + 12345u;
	return c->rnd >> 8;
}

static void churn_between(const struct listing *so_far, void *ctx)
{
	struct churn *c = ctx;
	/* New entries... */
	for (int i = 0; i < 3; i++) {
		char name[64];
		snprintf(name, sizeof(name), "new-%05u", c->next_new++);
		if (linkat(AT_FDCWD, c->anchor, c->dfd, name, 0) < 0)
			fail_msg("link %s: %s", name, strerror(errno));
	}
	/* ...one already listed, and two chosen at random, removed. */
	for (int i = 0; i < 3; i++) {
		size_t k;
		if (i == 0 && so_far->n > 0) {
			const char *seen = so_far->e[rnd(c) % so_far->n].name;
			if (strncmp(seen, "m", 1) != 0)
				continue;
			k = (size_t)atoi(seen + 1);
		} else {
			k = rnd(c) % c->norig;
		}
		if (c->removed[k])
			continue;
		if (unlinkat(c->dfd, c->orig[k], 0) < 0)
			fail_msg("unlink %s: %s", c->orig[k], strerror(errno));
		c->removed[k] = true;
	}
}

static void test_changes_between_pages(void **state)
{
	(void)state;
	enum {
		M = 2000
	};
	ut_mkdir(P("mut"));
	ut_touch(P("mut-anchor"));
	char *anchor = strdup(P("mut-anchor"));
	struct churn c = { .norig = M, .rnd = 42, .anchor = anchor };
	c.dfd = open(P("mut"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(c.dfd >= 0);
	c.orig = calloc(M, sizeof(char *));
	c.removed = calloc(M, sizeof(bool));
	for (unsigned i = 0; i < M; i++) {
		c.orig[i] = make_name("m", i);
		create_nth(c.dfd, c.orig, i);
	}
	struct fh_buf mfh;
	hmake("mut", &mfh);

	for (int plus = 0; plus < 2; plus++) {
		struct listing l;
		list_all(&mfh, plus, 1024, plus ? 4096 : 1024, &l, churn_between, &c);
		/* count_names fails on any name listed twice, new ones included. */
		unsigned *counts = calloc(M, sizeof(unsigned));
		count_names(&l, c.orig, M, counts);
		unsigned survivors = 0, lost = 0;
		for (unsigned i = 0; i < M; i++) {
			if (c.removed[i])
				continue;
			survivors++;
			if (counts[i] != 1) {
				lost++;
				fprintf(stderr, "surviving \"%.40s\" listed %u times\n", c.orig[i],
					counts[i]);
			}
		}
		if (lost)
			fail_msg("%s: %u of %u surviving entries lost",
				 plus ? "READDIRPLUS" : "READDIR", lost, survivors);
		assert_true(l.pages > 20);
		assert_true(survivors < M); /* the churn did remove entries */
		free(counts);
		listing_free(&l);
	}
	close(c.dfd);
	for (unsigned i = 0; i < M; i++)
		free(c.orig[i]);
	free(c.orig);
	free(c.removed);
	free(anchor);
}

static void test_toosmall(void **state)
{
	(void)state;
	struct page pg;
	const uint32_t tiny[] = { 0, 1, 50, 100, 107, 108 };
	for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		nfsstat3 s = do_readdir(&bigfh, 0, tiny[i], &pg);
		if (s != NFS3ERR_TOOSMALL)
			fail_msg("READDIR count %u: %s, want TOOSMALL", tiny[i], nfs3_strstat(s));
		assert_true(pg.dir_attr);
		page_free(&pg);
		s = do_readdirplus(&bigfh, 0, 65536, tiny[i], &pg);
		if (s != NFS3ERR_TOOSMALL)
			fail_msg("READDIRPLUS maxcount %u: %s, want TOOSMALL", tiny[i],
				 nfs3_strstat(s));
		page_free(&pg);
		s = do_readdirplus(&bigfh, 0, tiny[i] < 20 ? tiny[i] : 20, 65536, &pg);
		if (s != NFS3ERR_TOOSMALL)
			fail_msg("READDIRPLUS dircount %u: %s, want TOOSMALL", tiny[i],
				 nfs3_strstat(s));
		page_free(&pg);
	}

	/*
	 * The exact boundary for READDIR: the encoded size of a reply with one
	 * entry fits, one byte less does not. Checked from several cookies so
	 * that names of every padding length come first.
	 */
	struct page all;
	assert_int_equal(do_readdir(&bigfh, 0, 0xffffffffu, &all), NFS3_OK);
	for (size_t k = 0; k < 12; k++) {
		uint64_t cookie = k ? all.e[k * 37].cookie : 0;
		const char *first = all.e[k ? k * 37 + 1 : 0].name;
		/* status, post_op_attr, cookieverf, one entry, no more entries, eof */
		uint32_t need = 4 + 4 + 84 + 8 + (4 + 8 + 4 + XPAD(strlen(first)) + 8) + 4 + 4;
		nfsstat3 s = do_readdir(&bigfh, cookie, need - 1, &pg);
		if (s != NFS3ERR_TOOSMALL)
			fail_msg("count %u, first entry needs %u: %s", need - 1, need,
				 nfs3_strstat(s));
		page_free(&pg);
		s = do_readdir(&bigfh, cookie, need, &pg);
		if (s != NFS3_OK || pg.n != 1)
			fail_msg("count %u for one entry \"%.40s\": %s, %zu entries", need, first,
				 nfs3_strstat(s), pg.n);
		assert_string_equal(pg.e[0].name, first);
		assert_int_equal(pg.encoded, need);
		page_free(&pg);
	}
	page_free(&all);
}

static void test_dots(void **state)
{
	(void)state;
	struct stat rst;
	assert_int_equal(fstat(pt_export(ex)->root_fd, &rst), 0);

	/* At the export root, ".." is the root itself. */
	for (int plus = 0; plus < 2; plus++) {
		struct listing l;
		list_all(&rootfh, plus, 8192, 8192, &l, NULL, NULL);
		const struct ent *dot = find(&l, "."), *dotdot = find(&l, "..");
		assert_non_null(dot);
		assert_non_null(dotdot);
		assert_int_equal(dot->fileid, rst.st_ino);
		if (dotdot->fileid != rst.st_ino)
			fail_msg("\"..\" at the export root has fileid %llu, want the root's %llu",
				 (unsigned long long)dotdot->fileid,
				 (unsigned long long)rst.st_ino);
		if (plus) {
			assert_true(dotdot->has_attr && dotdot->has_fh && dot->has_fh);
			assert_int_equal(dotdot->attr_fileid, rst.st_ino);
			assert_int_equal(dotdot->fh.len, rootfh.len);
			assert_memory_equal(dotdot->fh.data, rootfh.data, rootfh.len);
			assert_memory_equal(dot->fh.data, rootfh.data, rootfh.len);
		}
		listing_free(&l);
	}
	/* In a subdirectory, "." is itself and ".." its parent. */
	for (int plus = 0; plus < 2; plus++) {
		struct page pg;
		assert_int_equal(plus ? do_readdirplus(&bigfh, 0, 65536, 65536, &pg)
				      : do_readdir(&bigfh, 0, 65536, &pg),
				 NFS3_OK);
		struct listing l = { pg.e, pg.n, pg.cap, 1 };
		const struct ent *dot = find(&l, "."), *dotdot = find(&l, "..");
		assert_non_null(dot);
		assert_non_null(dotdot);
		assert_int_equal(dot->fileid, bigino);
		assert_int_equal(dotdot->fileid, rst.st_ino);
		if (plus) {
			assert_memory_equal(dot->fh.data, bigfh.data, bigfh.len);
			assert_memory_equal(dotdot->fh.data, rootfh.data, rootfh.len);
			assert_int_equal(dot->attr_type, NF3DIR);
		}
		page_free(&pg);
	}
	/* An empty directory: just the two, in one page, with eof. */
	ut_mkdir(P("empty"));
	struct fh_buf efh;
	hmake("empty", &efh);
	struct page pg;
	assert_int_equal(do_readdir(&efh, 0, 4096, &pg), NFS3_OK);
	assert_int_equal(pg.n, 2);
	assert_true(pg.eof);
	page_free(&pg);
	assert_int_equal(do_readdirplus(&efh, 0, 4096, 4096, &pg), NFS3_OK);
	assert_int_equal(pg.n, 2);
	assert_true(pg.eof);
	page_free(&pg);
}

static void test_budgets(void **state)
{
	(void)state;
	struct page pg;
	/* READDIR: the encoded reply never exceeds count. */
	for (uint32_t count = 140; count < 9000; count = count * 5 / 4 + 3) {
		assert_int_equal(do_readdir(&bigfh, 0, count, &pg), NFS3_OK);
		if (pg.encoded > count)
			fail_msg("READDIR count %u: %zu bytes encoded", count, pg.encoded);
		assert_true(pg.n >= 1);
		page_free(&pg);
	}
	/* READDIRPLUS: both dircount and maxcount bound the page. */
	const uint32_t dcs[] = { 64, 200, 1000, 8192, 65536 };
	const uint32_t mcs[] = { 400, 1000, 4096, 32768, 262144 };
	for (size_t i = 0; i < 5; i++) {
		for (size_t j = 0; j < 5; j++) {
			nfsstat3 s = do_readdirplus(&bigfh, 0, dcs[i], mcs[j], &pg);
			if (s == NFS3ERR_TOOSMALL) {
				page_free(&pg);
				continue;
			}
			assert_int_equal(s, NFS3_OK);
			if (pg.encoded > mcs[j])
				fail_msg("dircount %u maxcount %u: %zu bytes encoded", dcs[i],
					 mcs[j], pg.encoded);
			if (pg.dirbytes > dcs[i])
				fail_msg("dircount %u maxcount %u: %zu bytes of entries", dcs[i],
					 mcs[j], pg.dirbytes);
			assert_true(pg.n >= 1);
			page_free(&pg);
		}
	}
	/* Each budget alone limits the page. */
	struct page a, b, both;
	assert_int_equal(do_readdirplus(&bigfh, 0, 1000, 1 << 20, &a), NFS3_OK);
	assert_int_equal(do_readdirplus(&bigfh, 0, 1 << 20, 4000, &b), NFS3_OK);
	assert_int_equal(do_readdirplus(&bigfh, 0, 1 << 20, 1 << 20, &both), NFS3_OK);
	assert_true(a.n < both.n && b.n < both.n);
	assert_true(a.dirbytes <= 1000 && b.encoded <= 4000);
	page_free(&a);
	page_free(&b);
	page_free(&both);
}

static void test_not_a_directory(void **state)
{
	(void)state;
	struct fh_buf fh;
	char rel[300];
	snprintf(rel, sizeof(rel), "big/%s", bignames[0]);
	hmake(rel, &fh);
	struct page pg;
	assert_int_equal(do_readdir(&fh, 0, 4096, &pg), NFS3ERR_NOTDIR);
	page_free(&pg);
	assert_int_equal(do_readdirplus(&fh, 0, 4096, 4096, &pg), NFS3ERR_NOTDIR);
	page_free(&pg);
	hmake("big/symlink", &fh);
	assert_int_equal(do_readdir(&fh, 0, 4096, &pg), NFS3ERR_NOTDIR);
	page_free(&pg);

	/* A removed directory. */
	ut_mkdir(P("gone"));
	hmake("gone", &fh);
	assert_int_equal(do_readdir(&fh, 0, 4096, &pg), NFS3_OK);
	page_free(&pg);
	assert_int_equal(rmdir(P("gone")), 0);
	assert_int_equal(do_readdir(&fh, 0, 4096, &pg), NFS3ERR_STALE);
	page_free(&pg);
	/* A garbage handle. */
	struct fh_buf junk = bigfh;
	junk.data[10] ^= 1;
	assert_int_equal(do_readdir(&junk, 0, 4096, &pg), NFS3ERR_BADHANDLE);
	page_free(&pg);
}

/* Over UDP a reply must fit a datagram whatever count the client asks for. */
static void test_udp_clamp(void **state)
{
	(void)state;
	over_udp = true;
	struct page pg;
	nfsstat3 s = do_readdir(&bigfh, 0, 1u << 20, &pg);
	size_t n1 = pg.n, e1 = pg.encoded;
	page_free(&pg);
	nfsstat3 s2 = do_readdirplus(&bigfh, 0, 1u << 20, 1u << 20, &pg);
	size_t n2 = pg.n, e2 = pg.encoded;
	page_free(&pg);
	over_udp = false;
	assert_int_equal(s, NFS3_OK);
	assert_int_equal(s2, NFS3_OK);
	if (e1 > NFS3_UDP_MAX || e2 > NFS3_UDP_MAX)
		fail_msg("UDP replies of %zu / %zu bytes (limit %u)", e1, e2, NFS3_UDP_MAX);
	assert_true(n1 > 100 && n2 > 20);
	/* The same over TCP is not limited that way. */
	assert_int_equal(do_readdir(&bigfh, 0, 1u << 20, &pg), NFS3_OK);
	assert_true(pg.encoded > NFS3_UDP_MAX);
	page_free(&pg);
}

/*
 * More listings in progress at once than the server keeps streams for,
 * advanced a page each in turn: kept streams are evicted and reopened at
 * their cookies, and every listing still comes out complete.
 */
static void test_interleaved_listings(void **state)
{
	(void)state;
	enum {
		NL = 40
	};
	struct listing *l = calloc(NL, sizeof(*l));
	uint64_t *cookie = calloc(NL, sizeof(*cookie));
	bool *done = calloc(NL, sizeof(*done));
	assert_non_null(l);
	assert_non_null(cookie);
	assert_non_null(done);
	for (unsigned left = NL, round = 0; left > 0; round++) {
		assert_true(round < 10000);
		for (unsigned i = 0; i < NL; i++) {
			if (done[i])
				continue;
			struct page pg;
			/* Odd listings use READDIR, even ones READDIRPLUS; sizes vary. */
			nfsstat3 st =
				i % 2 ? do_readdir(&bigfh, cookie[i], 2048 + 512 * (i % 5), &pg)
				      : do_readdirplus(&bigfh, cookie[i], 4096, 8192, &pg);
			if (st != NFS3_OK)
				fail_msg("listing %u round %u: %s", i, round, nfs3_strstat(st));
			if (!pg.eof && pg.n == 0)
				fail_msg("listing %u: no entries and no eof", i);
			l[i].e = realloc(l[i].e, (l[i].n + pg.n + 1) * sizeof(struct ent));
			assert_non_null(l[i].e);
			for (size_t k = 0; k < pg.n; k++) {
				l[i].e[l[i].n++] = pg.e[k];
				pg.e[k].name = NULL;
			}
			if (pg.n)
				cookie[i] = pg.e[pg.n - 1].cookie;
			if (pg.eof) {
				done[i] = true;
				left--;
			}
			page_free(&pg);
		}
	}
	for (unsigned i = 0; i < NL; i++) {
		check_big_complete(&l[i],
				   i % 2 ? "interleaved READDIR" : "interleaved READDIRPLUS");
		listing_free(&l[i]);
	}
	free(l);
	free(cookie);
	free(done);
}

/*
 * A listing stopped part way keeps its open directory stream; a caller who
 * may not read the directory must not be able to continue through it.
 */
/* Shapes a real listing rarely has: entries without attributes or handle, failures. */
static void test_fast_encoding_shapes(void **state)
{
	(void)state;
	entryplus3 e[3];
	memset(e, 0, sizeof(e));
	char n0[] = "a", n1[] = "bcdef", n2[] = "no-attrs";
	char *names[3] = { n0, n1, n2 };
	uint8_t fh[28];
	for (size_t i = 0; i < sizeof(fh); i++)
		fh[i] = (uint8_t)(i * 37 + 1);
	for (int i = 0; i < 3; i++) {
		e[i].fileid = 0x0102030405060708ull + (uint64_t)i;
		e[i].name.filename3_val = names[i];
		e[i].name.filename3_len = (u_int)strlen(names[i]);
		e[i].cookie = 0xfedcba9876543210ull - (uint64_t)i;
		e[i].nextentry = i < 2 ? &e[i + 1] : NULL;
	}
	fattr3 *a = &e[0].name_attributes.post_op_attr_u.attributes;
	e[0].name_attributes.attributes_follow = TRUE;
	*a = (fattr3){ .type = NF3CHR,
		       .mode = 04755,
		       .nlink = 3,
		       .uid = 0xfffffffe,
		       .gid = 7,
		       .size = 0x8000000000000001ull,
		       .used = 4096,
		       .rdev = { 10, 200 },
		       .fsid = 0xabcdefull,
		       .fileid = 0x0102030405060708ull,
		       .atime = { 1, 999999999 },
		       .mtime = { 0x7fffffff, 0 },
		       .ctime = { 0xffffffff, 1 } };
	e[0].name_handle.handle_follows = TRUE;
	e[0].name_handle.post_op_fh3_u.handle.data.data_val = (char *)fh;
	e[0].name_handle.post_op_fh3_u.handle.data.data_len = 27; /* padded on the wire */
	e[1].name_attributes = e[0].name_attributes;		  /* attributes, no handle */
	READDIRPLUS3res r;
	memset(&r, 0, sizeof(r));
	r.status = NFS3_OK;
	READDIRPLUS3resok *ok = &r.READDIRPLUS3res_u.resok;
	ok->dir_attributes = e[0].name_attributes;
	memcpy(ok->cookieverf, "cookieve", NFS3_COOKIEVERFSIZE);
	ok->reply.entries = e;
	ok->reply.eof = TRUE;
	expect_fast_encoding(&r);
	ok->reply.entries = NULL; /* an empty page */
	ok->dir_attributes.attributes_follow = FALSE;
	expect_fast_encoding(&r);
	memset(&r, 0, sizeof(r));
	r.status = NFS3ERR_BAD_COOKIE;
	expect_fast_encoding(&r);
	r.READDIRPLUS3res_u.resfail.dir_attributes = e[0].name_attributes;
	expect_fast_encoding(&r);
}

static void test_kept_stream_needs_permission(void **state)
{
	(void)state;
	ut_mkdir(P("priv"));
	int dfd = open(P("priv"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	for (unsigned i = 0; i < 200; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%04u", i);
		create_in(dfd, name);
	}
	close(dfd);
	assert_int_equal(chmod(P("priv"), 0700), 0);
	struct fh_buf fh;
	hmake("priv", &fh);

	struct page first;
	assert_int_equal(do_readdir(&fh, 0, 1024, &first), NFS3_OK);
	assert_false(first.eof);
	assert_true(first.n > 0);
	uint64_t cookie = first.e[first.n - 1].cookie;

	struct page pg;
	call_uid = 2001;
	nfsstat3 as_user = do_readdir(&fh, cookie, 1024, &pg);
	size_t user_n = pg.n;
	page_free(&pg);
	nfsstat3 as_user_plus = do_readdirplus(&fh, cookie, 1024, 4096, &pg);
	page_free(&pg);
	call_uid = 0;
	if (as_user != NFS3ERR_ACCES || as_user_plus != NFS3ERR_ACCES)
		fail_msg("uid 2001 continued a mode-0700 listing: %s (%zu entries), %s",
			 nfs3_strstat(as_user), user_n, nfs3_strstat(as_user_plus));

	/* The owner still continues where it stopped. */
	assert_int_equal(do_readdir(&fh, cookie, 1024, &pg), NFS3_OK);
	assert_true(pg.n > 0);
	for (size_t i = 0; i < first.n; i++)
		for (size_t k = 0; k < pg.n; k++)
			assert_string_not_equal(first.e[i].name, pg.e[k].name);
	page_free(&pg);
	page_free(&first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readdir_small_pages),
		cmocka_unit_test(test_readdirplus_small_pages),
		cmocka_unit_test(test_plus_handles_resolve),
		cmocka_unit_test(test_cookie_resume),
		cmocka_unit_test(test_changes_between_pages),
		cmocka_unit_test(test_toosmall),
		cmocka_unit_test(test_dots),
		cmocka_unit_test(test_budgets),
		cmocka_unit_test(test_not_a_directory),
		cmocka_unit_test(test_udp_clamp),
		cmocka_unit_test(test_interleaved_listings),
		cmocka_unit_test(test_kept_stream_needs_permission),
		cmocka_unit_test(test_fast_encoding_shapes),
	};
	return cmocka_run_group_tests_name("readdir", tests, setup, teardown);
}
