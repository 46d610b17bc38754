/*
 * The exports file parser (server/conf/): syntax, every option, every
 * client form, every error with its line, the warnings, matching
 * precedence, the reach checks and the printed forms. Paths are real
 * directories under a temporary base, written "$B" in the texts.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "exports_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNAME "test.exports"

static char *base; /* canonical, so it is what realpath gives back */

static int setup(void **state)
{
	(void)state;
	char *tmp = ut_mkdtemp("exports");
	if (!tmp)
		return -1;
	base = realpath(tmp, NULL);
	free(tmp);
	if (!base)
		return -1;
	static const char *const dirs[] = { "a",	"b",	  "c", "my docs",
					    "hash#dir", "photos", "x", "x/photos" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char *d = ut_join(base, dirs[i]);
		ut_mkdir(d);
		free(d);
	}
	for (int i = 0; i <= EXPORT_MAX; i++) {
		char *d;
		assert_true(asprintf(&d, "%s/d%02d", base, i) > 0);
		ut_mkdir(d);
		free(d);
	}
	char *file = ut_join(base, "file"), *link = ut_join(base, "link");
	ut_touch(file);
	assert_int_equal(symlink("a", link), 0);
	free(file);
	free(link);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ut_rm_rf(base);
	free(base);
	return 0;
}

/* tmpl with every "$B" replaced by the temporary base; malloc'ed. */
static char *expand(const char *tmpl)
{
	size_t blen = strlen(base), n = 0;
	for (const char *s = tmpl; (s = strstr(s, "$B")); s += 2)
		n++;
	char *out = malloc(strlen(tmpl) + n * blen + 1), *w = out;
	assert_non_null(out);
	for (const char *s = tmpl; *s;) {
		if (s[0] == '$' && s[1] == 'B') {
			memcpy(w, base, blen);
			w += blen;
			s += 2;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
	return out;
}

static void parse_ok(const char *tmpl, struct xc_file *f)
{
	char *text = expand(tmpl);
	char err[1024] = "";
	if (xc_parse_text(FNAME, text, f, err, sizeof(err)) != 0)
		fail_msg("parse failed: %s\n--- text:\n%s", err, text);
	assert_string_equal(err, "");
	free(text);
}

static void expect_empty(const struct xc_file *f)
{
	assert_null(f->file);
	assert_null(f->ex);
	assert_int_equal(f->n, 0);
	assert_null(f->warnings);
	assert_int_equal(f->nwarnings, 0);
}

/* The parse fails with exactly want (both with "$B" expanded) and leaves *out empty. */
static void expect_error(const char *tmpl, const char *want_tmpl)
{
	char *text = expand(tmpl), *want = expand(want_tmpl);
	struct xc_file f;
	memset(&f, 0xa5, sizeof(f)); /* whatever was there, the parse empties it */
	char err[4096] = "";
	int rc = xc_parse_text(FNAME, text, &f, err, sizeof(err));
	if (rc != -1 || strcmp(err, want) != 0)
		fail_msg("rc %d\n got: %s\nwant: %s\n--- text:\n%s", rc, err, want, text);
	expect_empty(&f);
	xc_free(&f);
	free(text);
	free(want);
}

static void expect_addr(const struct xc_addr *a, const char *text)
{
	struct xc_addr want = { 0 };
	if (inet_pton(AF_INET, text, want.b) == 1)
		want.family = AF_INET;
	else if (inet_pton(AF_INET6, text, want.b) == 1)
		want.family = AF_INET6;
	else
		fail_msg("bad test address %s", text);
	char got[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family, a->b, got, sizeof(got));
	if (a->family != want.family || memcmp(a->b, want.b, sizeof(want.b)) != 0)
		fail_msg("address %s (family %d), want %s", got, a->family, text);
}

static struct xc_addr addr_of(const char *text)
{
	struct xc_addr a = { 0 };
	if (inet_pton(AF_INET, text, a.b) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, text, a.b) == 1)
		a.family = AF_INET6;
	else
		fail_msg("bad test address %s", text);
	return a;
}

static void test_defaults(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("$B/a *\n", &f);
	char *path = expand("$B/a");
	assert_string_equal(f.file, FNAME);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.nwarnings, 0);
	const struct xc_export *e = &f.ex[0];
	assert_string_equal(e->path, path);
	assert_null(e->name);
	assert_string_equal(xc_export_name(e), "a");
	assert_int_equal(e->fsid, 0);
	assert_false(e->crossmnt);
	assert_int_equal(e->line, 1);
	assert_int_equal(e->nclients, 1);
	const struct xc_client *c = &e->clients[0];
	assert_int_equal(c->kind, XC_ANY);
	assert_string_equal(c->text, "*");
	assert_int_equal(c->line, 1);
	assert_true(c->opts.ro);
	assert_true(c->opts.root_squash);
	assert_false(c->opts.all_squash);
	assert_false(c->opts.insecure);
	assert_false(c->opts.async);
	assert_int_equal(c->opts.anonuid, 65534);
	assert_int_equal(c->opts.anongid, 65534);
	xc_free(&f);
	expect_empty(&f);
	xc_free(&f); /* twice is harmless */
	free(path);
}

struct opt_case {
	const char *list;
	bool ro, root_squash, all_squash, insecure, async;
	uint32_t anonuid, anongid;
};

static void test_each_option(void **state)
{
	(void)state;
	static const struct opt_case cases[] = {
		{ "rw", 0, 1, 0, 0, 0, 65534, 65534 },
		{ "rw,ro", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "no_root_squash", 1, 0, 0, 0, 0, 65534, 65534 },
		{ "no_root_squash,root_squash", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "all_squash", 1, 1, 1, 0, 0, 65534, 65534 },
		{ "all_squash,no_all_squash", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "insecure", 1, 1, 0, 1, 0, 65534, 65534 },
		{ "insecure,secure", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "async", 1, 1, 0, 0, 1, 65534, 65534 },
		{ "async,sync", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "anonuid=1000", 1, 1, 0, 0, 0, 1000, 65534 },
		{ "anonuid=0", 1, 1, 0, 0, 0, 0, 65534 },
		{ "anonuid=4294967294", 1, 1, 0, 0, 0, 4294967294u, 65534 },
		{ "anongid=100", 1, 1, 0, 0, 0, 65534, 100 },
		{ "anongid=4294967294,anonuid=7", 1, 1, 0, 0, 0, 7, 4294967294u },
		{ "sec=sys", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "subtree_check", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "no_subtree_check", 1, 1, 0, 0, 0, 65534, 65534 },
		{ "rw,no_root_squash,all_squash,insecure,async,anonuid=1,anongid=2", 0, 0, 1, 1, 1,
		  1, 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct opt_case *k = &cases[i];
		char *tmpl;
		assert_true(asprintf(&tmpl, "# options\n\n$B/a 10.0.0.1(%s)\n", k->list) > 0);
		struct xc_file f;
		parse_ok(tmpl, &f);
		const struct xc_export *e = &f.ex[0];
		const struct export_opts *o = &e->clients[0].opts;
		if (o->ro != k->ro || o->root_squash != k->root_squash ||
		    o->all_squash != k->all_squash || o->insecure != k->insecure ||
		    o->async != k->async || o->anonuid != k->anonuid || o->anongid != k->anongid)
			fail_msg("(%s): ro %d root_squash %d all_squash %d insecure %d async %d "
				 "anonuid %u anongid %u",
				 k->list, o->ro, o->root_squash, o->all_squash, o->insecure,
				 o->async, (unsigned)o->anonuid, (unsigned)o->anongid);
		/* None of these touches what belongs to the export. */
		assert_false(e->crossmnt);
		assert_int_equal(e->fsid, 0);
		assert_null(e->name);
		assert_int_equal(e->line, 3);
		xc_free(&f);
		free(tmpl);
	}
}

static void test_export_options(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("$B/a 10.0.0.1(crossmnt)\n"
		 "$B/b -nohide 10.0.0.1\n"
		 "$B/c -crossmnt 10.0.0.1(crossmnt) 10.0.0.2(nohide)\n"
		 "$B/d00 10.0.0.1(hide)\n"
		 "$B/d01 10.0.0.1(fsid=17) 10.0.0.2(fsid=17)\n"
		 "$B/d02 -fsid=4294967295 10.0.0.1\n"
		 "$B/d03 10.0.0.1(name=bak) 10.0.0.2(ro,name=bak)\n"
		 "$B/d04 10.0.0.1(name=\"my docs\")\n",
		 &f);
	assert_int_equal(f.n, 8);
	assert_true(f.ex[0].crossmnt);
	assert_true(f.ex[1].crossmnt);
	assert_true(f.ex[2].crossmnt); /* the same value again on the line is no conflict */
	assert_false(f.ex[3].crossmnt);
	assert_int_equal(f.ex[4].fsid, 17);
	assert_int_equal(f.ex[5].fsid, 4294967295u);
	assert_string_equal(f.ex[6].name, "bak");
	assert_string_equal(xc_export_name(&f.ex[6]), "bak");
	assert_string_equal(f.ex[7].name, "my docs");
	for (unsigned i = 0; i < 6; i++)
		assert_null(f.ex[i].name);
	xc_free(&f);
}

static uint32_t fsid_of(const char *value)
{
	char *t;
	assert_true(asprintf(&t, "$B/a *(fsid=%s)\n", value) > 0);
	struct xc_file f;
	parse_ok(t, &f);
	uint32_t fsid = f.ex[0].fsid;
	xc_free(&f);
	free(t);
	return fsid;
}

static void test_fsid_uuid(void **state)
{
	(void)state;
	/* Pinned: a change here changes every UUID export's fsid across an upgrade. */
	assert_int_equal(fsid_of("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), 1789036700u);
	assert_int_equal(fsid_of("6ba7b8109dad11d180b400c04fd430c8"), 1789036700u);
	assert_int_equal(fsid_of("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"), 1789036700u);
	uint32_t other = fsid_of("6ba7b811-9dad-11d1-80b4-00c04fd430c8");
	assert_int_not_equal(other, 0);
	assert_int_not_equal(other, 1789036700u);
	/* The two forms of one UUID are one fsid: two exports cannot share it. */
	expect_error("$B/a *(fsid=6ba7b810-9dad-11d1-80b4-00c04fd430c8)\n"
		     "$B/b *(fsid=6ba7b8109dad11d180b400c04fd430c8)\n",
		     FNAME ":2: fsid 1789036700 of $B/b is that of $B/a (line 1): fsids must "
			   "differ");
	expect_error("$B/a *(fsid=6ba7b810-9dad-11d1-80b4-00c04fd430c)\n",
		     FNAME ":1: fsid=6ba7b810-9dad-11d1-80b4-00c04fd430c: neither a number "
			   "(1..4294967295) nor a UUID");
	expect_error("$B/a *(fsid=6ba7b810x9dad-11d1-80b4-00c04fd430c8)\n",
		     FNAME ":1: fsid=6ba7b810x9dad-11d1-80b4-00c04fd430c8: neither a number "
			   "(1..4294967295) nor a UUID");
}

static void test_defaults_and_override(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("$B/a -rw,insecure,anonuid=5 10.0.0.1 10.0.0.2(ro,anonuid=7) 10.0.0.3(secure)\n",
		 &f);
	const struct xc_client *c = f.ex[0].clients;
	assert_int_equal(f.ex[0].nclients, 3);
	assert_false(c[0].opts.ro);
	assert_true(c[0].opts.insecure);
	assert_int_equal(c[0].opts.anonuid, 5);
	assert_true(c[1].opts.ro);
	assert_true(c[1].opts.insecure);
	assert_int_equal(c[1].opts.anonuid, 7);
	assert_false(c[2].opts.ro);
	assert_false(c[2].opts.insecure);
	assert_int_equal(c[2].opts.anonuid, 5);
	for (int i = 0; i < 3; i++) {
		assert_true(c[i].opts.root_squash);
		assert_int_equal(c[i].opts.anongid, 65534);
	}
	xc_free(&f);
}

static void test_client_forms(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("$B/a * 192.168.1.7 fd00::7 ::ffff:10.1.2.3 192.168.1.77/24 10.0.0.0/255.0.0.0 "
		 "fd00:1::1234/64 ::ffff:172.16.0.0/108 *.LAN host?.lan [ab]x.lan localhost\n"
		 "$B/b 192.168.1.0/24 fd00:1::/ffff:ffff:ffff:ffff:: 0.0.0.0/0 ::/0 10.9.8.7/32\n",
		 &f);
	const struct xc_client *c = f.ex[0].clients;
	assert_int_equal(f.ex[0].nclients, 12);
	assert_int_equal(c[0].kind, XC_ANY);
	assert_int_equal(c[1].kind, XC_HOST);
	assert_int_equal(c[1].naddrs, 1);
	expect_addr(&c[1].addrs[0], "192.168.1.7");
	assert_int_equal(c[2].kind, XC_HOST);
	expect_addr(&c[2].addrs[0], "fd00::7");
	assert_int_equal(c[3].kind, XC_HOST); /* v4-mapped: IPv4 */
	expect_addr(&c[3].addrs[0], "10.1.2.3");
	assert_string_equal(c[3].text, "::ffff:10.1.2.3");
	assert_int_equal(c[4].kind, XC_NET); /* host bits masked off */
	assert_int_equal(c[4].prefix, 24);
	assert_int_equal(c[4].naddrs, 1);
	expect_addr(&c[4].addrs[0], "192.168.1.0");
	assert_string_equal(c[4].text, "192.168.1.77/24");
	assert_int_equal(c[5].kind, XC_NET);
	assert_int_equal(c[5].prefix, 8);
	expect_addr(&c[5].addrs[0], "10.0.0.0");
	assert_int_equal(c[6].kind, XC_NET);
	assert_int_equal(c[6].prefix, 64);
	expect_addr(&c[6].addrs[0], "fd00:1::");
	assert_int_equal(c[7].kind, XC_NET); /* v4-mapped network: the IPv4 /12 */
	assert_int_equal(c[7].prefix, 12);
	expect_addr(&c[7].addrs[0], "172.16.0.0");
	assert_int_equal(c[8].kind, XC_WILDCARD);
	assert_string_equal(c[8].text, "*.LAN");
	assert_string_equal(c[8].pattern, "*.lan");
	assert_null(c[8].addrs);
	assert_int_equal(c[9].kind, XC_WILDCARD);
	assert_string_equal(c[9].pattern, "host?.lan");
	assert_int_equal(c[10].kind, XC_WILDCARD);
	assert_string_equal(c[10].pattern, "[ab]x.lan");
	/* localhost resolves from /etc/hosts: 127.0.0.1 and/or ::1, each once. */
	assert_int_equal(c[11].kind, XC_HOST);
	assert_true(c[11].naddrs >= 1 && c[11].naddrs <= 2);
	bool v4 = false, v6 = false;
	for (unsigned i = 0; i < c[11].naddrs; i++) {
		struct xc_addr lo4 = addr_of("127.0.0.1"), lo6 = addr_of("::1");
		const struct xc_addr *a = &c[11].addrs[i];
		if (a->family == AF_INET && memcmp(a->b, lo4.b, 16) == 0 && !v4)
			v4 = true;
		else if (a->family == AF_INET6 && memcmp(a->b, lo6.b, 16) == 0 && !v6)
			v6 = true;
		else
			fail_msg("localhost: unexpected or repeated address %u", i);
	}
	c = f.ex[1].clients;
	assert_int_equal(c[0].prefix, 24);
	expect_addr(&c[0].addrs[0], "192.168.1.0");
	assert_int_equal(c[1].prefix, 64);
	expect_addr(&c[1].addrs[0], "fd00:1::");
	assert_int_equal(c[2].prefix, 0);
	expect_addr(&c[2].addrs[0], "0.0.0.0");
	assert_int_equal(c[3].prefix, 0);
	expect_addr(&c[3].addrs[0], "::");
	assert_int_equal(c[4].kind, XC_NET);
	assert_int_equal(c[4].prefix, 32);
	assert_int_equal(f.nwarnings, 0);
	xc_free(&f);
}

static void test_comments_and_continuations(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("# a comment\n"
		 "\n"
		 "   \t \n"
		 "$B/a 10.0.0.1(rw) # trailing comment (ro)\n"
		 "$B/b \\\n"
		 "    10.0.0.2(rw) \\\n"
		 "    10.0.0.3\n"
		 "# a backslash ends no comment \\\n"
		 "$B/c *#comment right after a word\n"
		 "\"$B/hash#dir\" 10.0.0.4 \\\r\n"
		 "  10.0.0.5\r\n"
		 "$B/d00 10.0.0.6",
		 &f);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.ex[0].line, 4);
	assert_int_equal(f.ex[0].nclients, 1);
	assert_false(f.ex[0].clients[0].opts.ro);
	assert_int_equal(f.ex[1].line, 5);
	assert_int_equal(f.ex[1].nclients, 2);
	assert_int_equal(f.ex[1].clients[0].line, 6);
	assert_int_equal(f.ex[1].clients[1].line, 7);
	assert_string_equal(f.ex[1].clients[1].text, "10.0.0.3");
	assert_int_equal(f.ex[2].line, 9);
	assert_int_equal(f.ex[2].nclients, 1);
	assert_int_equal(f.ex[2].clients[0].kind, XC_ANY);
	char *hash = expand("$B/hash#dir");
	assert_string_equal(f.ex[3].path, hash);
	assert_int_equal(f.ex[3].nclients, 2);
	assert_int_equal(f.ex[3].clients[1].line, 11);
	expect_addr(&f.ex[3].clients[1].addrs[0], "10.0.0.5");
	assert_int_equal(f.ex[4].line, 12);
	free(hash);
	xc_free(&f);
}

static void test_quoted_paths(void **state)
{
	(void)state;
	char *want = expand("$B/my docs"), *want_a = expand("$B/a");
	static const char *const forms[] = {
		"\"$B/my docs\" *\n", "$B/my\\040docs *\n",	   "\"$B/my\\040docs\" *\n",
		"$B/\"my docs\" *\n", "$B/x/../my\\040docs/. *\n",
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct xc_file f;
		parse_ok(forms[i], &f);
		if (strcmp(f.ex[0].path, want) != 0)
			fail_msg("%s: path %s", forms[i], f.ex[0].path);
		assert_string_equal(xc_export_name(&f.ex[0]), "my docs");
		xc_free(&f);
	}
	/* The stored path is the canonical one: a symlink is followed. */
	struct xc_file f;
	parse_ok("$B/link/ *\n", &f);
	assert_string_equal(f.ex[0].path, want_a);
	xc_free(&f);
	free(want);
	free(want_a);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw,no_root_sqash)\n",
		     FNAME ":3: unknown option 'no_root_sqash' (did you mean 'no_root_squash'?)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(wr)\n",
		     FNAME ":3: unknown option 'wr' (did you mean 'rw'?)");
	expect_error("# x\n$B/b *\n$B/a -anonid=5 10.0.0.1\n",
		     FNAME ":3: unknown option 'anonid=5' (did you mean 'anonuid'?)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(frobnicate)\n",
		     FNAME ":3: unknown option 'frobnicate'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(no_wdelay)\n",
		     FNAME ":3: option 'no_wdelay' is knfsd's: loopnfs does not support it, "
			   "remove it");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw,,sync)\n",
		     FNAME ":3: empty option in '10.0.0.1(rw,,sync)'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw,)\n",
		     FNAME ":3: empty option in '10.0.0.1(rw,)'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1()\n", FNAME ":3: empty option in '10.0.0.1()'");
	expect_error("# x\n$B/b *\n$B/a - 10.0.0.1\n", FNAME ":3: empty option in '-'");
	expect_error("# x\n$B/b *\n\"$B/a *\n", FNAME ":3: unterminated quote in \"$B/a *");
	expect_error("# x\n$B/b *\n$B/a \"10.0.0.1(rw)\n",
		     FNAME ":3: unterminated quote in \"10.0.0.1(rw)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw\n",
		     FNAME ":3: unterminated '(' in '10.0.0.1(rw' (no blanks inside the options)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw, sync)\n",
		     FNAME ":3: unterminated '(' in '10.0.0.1(rw,' (no blanks inside the options)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw)x\n",
		     FNAME ":3: '10.0.0.1(rw)x': text after ')'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1 -rw\n",
		     FNAME ":3: '-rw': default options come right after the path, once");
	expect_error("# x\n$B/b *\n$B/a -ro -rw 10.0.0.1\n",
		     FNAME ":3: '-rw': default options come right after the path, once");
	expect_error("# x\n$B/b *\n$B/a \"\"(rw)\n", FNAME ":3: empty client name");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(rw=10.0.0.2)\n",
		     FNAME ":3: option 'rw' takes no value");
}

static void test_value_errors(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anonuid)\n",
		     FNAME ":3: option anonuid needs a value (anonuid=N)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anongid=)\n",
		     FNAME ":3: option anongid needs a value (anongid=N)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(name=)\n",
		     FNAME ":3: option name needs a value (name=NAME)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(fsid)\n",
		     FNAME ":3: option fsid needs a value (fsid=N)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(sec)\n",
		     FNAME ":3: option sec needs a value (sec=sys)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anonuid=abc)\n",
		     FNAME ":3: anonuid=abc: not a number");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anonuid=-2)\n",
		     FNAME ":3: anonuid=-2: not a number");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anongid=4294967295)\n",
		     FNAME ":3: anongid=4294967295 is out of range (0..4294967294)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(anonuid=99999999999999999999999)\n",
		     FNAME ":3: anonuid=99999999999999999999999 is out of range (0..4294967294)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(sec=krb5p)\n",
		     FNAME ":3: sec=krb5p: only sec=sys is supported");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(sec=sys:krb5)\n",
		     FNAME ":3: sec=sys:krb5: only sec=sys is supported");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(fsid=0)\n",
		     FNAME ":3: fsid=0: knfsd uses it to mark the NFSv4 root; loopnfs synthesizes "
			   "its root itself, so remove it");
	expect_error("# x\n$B/b *\n$B/a -fsid=root 10.0.0.1\n",
		     FNAME ":3: fsid=root: knfsd uses it to mark the NFSv4 root; loopnfs "
			   "synthesizes its root itself, so remove it");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(fsid=4294967296)\n",
		     FNAME ":3: fsid=4294967296 is out of range (1..4294967295)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(fsid=12x)\n",
		     FNAME ":3: fsid=12x: neither a number (1..4294967295) nor a UUID");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(name=a/b)\n",
		     FNAME ":3: name=a/b: a name cannot contain '/'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(name=..)\n",
		     FNAME ":3: name=..: a name cannot be '.' or '..'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(name=.)\n",
		     FNAME ":3: name=.: a name cannot be '.' or '..'");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(name=\"a\tb\")\n",
		     FNAME ":3: name=: a name cannot contain control characters");
}

static void test_per_export_conflicts(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\n$B/a -crossmnt 10.0.0.1(hide)\n",
		     FNAME ":3: 'hide' conflicts with 'crossmnt' earlier on this line (fsid, name "
			   "and crossmnt are per export)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(hide) 10.0.0.2(nohide)\n",
		     FNAME ":3: 'nohide' conflicts with 'hide' earlier on this line (fsid, name "
			   "and crossmnt are per export)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1(fsid=1) \\\n 10.0.0.2(fsid=2)\n",
		     FNAME ":4: fsid=2 conflicts with the fsid given earlier on this line (fsid, "
			   "name and crossmnt are per export)");
	expect_error("# x\n$B/b *\n$B/a -name=one 10.0.0.1(name=two)\n",
		     FNAME ":3: name=two conflicts with name=one earlier on this line (fsid, name "
			   "and crossmnt are per export)");
}

static void test_path_errors(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\na *\n", FNAME ":3: 'a': the path must be absolute");
	expect_error("# x\n$B/b *\n*(rw)\n", FNAME ":3: '*(rw)': the path must be absolute");
	expect_error("# x\n$B/b *\n$B/missing *\n",
		     FNAME ":3: $B/missing: No such file or directory");
	expect_error("# x\n$B/b *\n$B/file *\n", FNAME ":3: $B/file: Not a directory");
	expect_error("# x\n$B/b *\n$B/a\\000 *\n",
		     FNAME ":3: $B/a\\000: \\000 and escapes above \\377 name no byte (\\040 is a "
			   "space)");
	expect_error("# x\n$B/b *\n$B/a\n",
		     FNAME ":3: $B/a: no client given: write '*(opts)' if every host is meant");
	expect_error("# x\n$B/b *\n$B/a -rw # every host?\n",
		     FNAME ":3: $B/a: no client given: write '*(opts)' if every host is meant");
	expect_error("# x\n$B/b *\n$B/a (rw)\n",
		     FNAME ":3: '(rw)' after a blank means every host (exports(5)): write '*(rw)' "
			   "if every host is meant, else remove the blank");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1 \\\n  (ro)\n",
		     FNAME ":4: '(ro)' after a blank means every host (exports(5)): write '*(ro)' "
			   "if every host is meant, else remove the blank");
}

static void test_client_errors(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\n$B/a @trusted(rw)\n",
		     FNAME ":3: @trusted: netgroups are not supported");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.0/33\n",
		     FNAME ":3: '10.0.0.0/33': prefix /33 is out of range (0..32)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.0/1234\n",
		     FNAME ":3: '10.0.0.0/1234': prefix /1234 is out of range (0..32)");
	expect_error("# x\n$B/b *\n$B/a fd00::/129\n",
		     FNAME ":3: 'fd00::/129': prefix /129 is out of range (0..128)");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.0/255.0.255.0\n",
		     FNAME ":3: '10.0.0.0/255.0.255.0': netmask 255.0.255.0 is not contiguous");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.0/\n",
		     FNAME ":3: '10.0.0.0/': / is neither a prefix length (0..32) nor a netmask");
	expect_error("# x\n$B/b *\n$B/a fd00::/255.0.0.0\n",
		     FNAME ":3: 'fd00::/255.0.0.0': /255.0.0.0 is neither a prefix length (0..128) "
			   "nor a netmask");
	expect_error("# x\n$B/b *\n$B/a myhost/24\n",
		     FNAME ":3: 'myhost/24': not a network (a numeric ADDRESS/PREFIX or "
			   "ADDRESS/NETMASK)");
	expect_error("# x\n$B/b *\n$B/a ::ffff:10.0.0.0/64\n",
		     FNAME ":3: '::ffff:10.0.0.0/64': a v4-mapped network needs a prefix of at "
			   "least 96");
	expect_error("# x\n$B/b *\n$B/a 10.1(rw)\n",
		     FNAME ":3: '10.1': not an IPv4 address (four numbers with dots)");
	expect_error("# x\n$B/b *\n$B/a ho$t\n",
		     FNAME ":3: 'ho$t': not a host name, address, network or pattern");
	expect_error("# x\n$B/b *\n$B/a *.lan,x\n", FNAME ":3: '*.lan,x': not a host name pattern");

	/* Whatever the resolver says about a name that cannot exist, the message carries it. */
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int rc = getaddrinfo("nosuchhost.invalid", NULL, &hints, &res);
	assert_int_not_equal(rc, 0);
	char *want;
	assert_true(asprintf(&want, FNAME ":3: cannot resolve host 'nosuchhost.invalid': %s",
			     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc)) > 0);
	expect_error("# x\n$B/b *\n$B/a nosuchhost.invalid(rw)\n", want);
	free(want);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1 10.0.0.2 10.0.0.1(rw)\n",
		     FNAME ":3: client '10.0.0.1' is given twice on this line");
	expect_error("# x\n$B/b *\n$B/a * 10.0.0.1 *(rw)\n",
		     FNAME ":3: client '*' is given twice on this line");
	expect_error("# x\n$B/b *\n$B/a *.lan *.LAN\n",
		     FNAME ":3: client '*.LAN' is given twice on this line");
	expect_error("# x\n$B/b *\n$B/a 192.168.1.0/24 \\\n  192.168.1.9/255.255.255.0\n",
		     FNAME ":4: '192.168.1.9/255.255.255.0' names the same client as "
			   "'192.168.1.0/24' earlier on this line");
	expect_error("# x\n$B/b *\n$B/a 10.0.0.1 ::ffff:10.0.0.1\n",
		     FNAME ":3: '::ffff:10.0.0.1' names the same client as '10.0.0.1' earlier on "
			   "this line");
	expect_error("# x\n$B/b *\n$B/c *\n$B/x/../b 10.0.0.1\n",
		     FNAME ":4: $B/b is exported on line 2 already: give all its clients on one "
			   "line");
	expect_error("# x\n$B/photos *\n\n$B/x/photos *\n",
		     FNAME ":4: $B/x/photos and $B/photos (line 2) would both show as /photos "
			   "under the root: give one a name=");
	expect_error("# x\n$B/a *\n$B/b *(name=a)\n",
		     FNAME ":3: $B/b and $B/a (line 2) would both show as /a under the root: give "
			   "one a name=");
	expect_error("# x\n$B/a *(fsid=5)\n$B/b -fsid=5 *\n",
		     FNAME ":3: fsid 5 of $B/b is that of $B/a (line 2): fsids must differ");
	/* A name= resolves the clash of two base names. */
	struct xc_file f;
	parse_ok("$B/photos *\n$B/x/photos *(name=photos2)\n", &f);
	assert_int_equal(f.n, 2);
	assert_string_equal(xc_export_name(&f.ex[0]), "photos");
	assert_string_equal(xc_export_name(&f.ex[1]), "photos2");
	xc_free(&f);
}

/* Lines "$B/d00 *" ... for n exports. */
static char *many_exports(int n)
{
	char *t = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&t, &len);
	assert_non_null(m);
	for (int i = 0; i < n; i++)
		fprintf(m, "$B/d%02d 10.0.0.1\n", i);
	fclose(m);
	return t;
}

/* "$B/a" and n clients 10.0.0.1... spread over continuation lines of 10 each. */
static char *many_clients(int n)
{
	char *t = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&t, &len);
	assert_non_null(m);
	fputs("# x\n$B/a", m);
	for (int i = 0; i < n; i++)
		fprintf(m, "%s 10.0.%d.%d", i % 10 == 0 ? " \\\n" : "", i / 250, 1 + i % 250);
	fputc('\n', m);
	fclose(m);
	return t;
}

static void test_limits(void **state)
{
	(void)state;
	struct xc_file f;
	char *t = many_exports(EXPORT_MAX);
	parse_ok(t, &f);
	assert_int_equal(f.n, EXPORT_MAX);
	xc_free(&f);
	free(t);
	t = many_exports(EXPORT_MAX + 1);
	expect_error(t, FNAME ":33: more than 32 exports");
	free(t);

	t = many_clients(XC_CLIENTS_MAX);
	parse_ok(t, &f);
	assert_int_equal(f.ex[0].nclients, XC_CLIENTS_MAX);
	assert_int_equal(f.ex[0].line, 2);
	assert_int_equal(f.ex[0].clients[63].line, 9);
	xc_free(&f);
	free(t);
	t = many_clients(XC_CLIENTS_MAX + 1);
	/* The 65th client is the 5th of the 7th continuation line (line 9). */
	expect_error(t, FNAME ":9: more than 64 clients on one line");
	free(t);

	char name[EXPORT_NAME_MAX + 2];
	memset(name, 'n', sizeof(name));
	name[EXPORT_NAME_MAX] = '\0';
	assert_true(asprintf(&t, "$B/a *(name=%s)\n", name) > 0);
	parse_ok(t, &f);
	assert_int_equal(strlen(f.ex[0].name), EXPORT_NAME_MAX);
	xc_free(&f);
	free(t);
	name[EXPORT_NAME_MAX] = 'n';
	name[EXPORT_NAME_MAX + 1] = '\0';
	assert_true(asprintf(&t, "# x\n$B/a *(name=%s)\n", name) > 0);
	expect_error(t, FNAME ":2: name= is longer than 255 bytes");
	free(t);
}

static void test_long_lines(void **state)
{
	(void)state;
	/* One physical line of XC_LINE_MAX bytes is fine; one more byte is not. */
	size_t pad = XC_LINE_MAX - strlen("$B/a *") - strlen(base) + 2;
	char *t = malloc(pad + 64);
	assert_non_null(t);
	snprintf(t, pad + 64, "# x\n$B/a *%*s\n", (int)pad, "");
	struct xc_file f;
	parse_ok(t, &f);
	xc_free(&f);
	snprintf(t, pad + 64, "# x\n$B/b *\n$B/a *%*s\n", (int)pad + 1, "");
	expect_error(t, FNAME ":3: line longer than 64 KiB");
	free(t);
	/* Short physical lines joined by backslashes into more than 64 KiB. */
	char *m = NULL;
	size_t len = 0;
	FILE *s = open_memstream(&m, &len);
	assert_non_null(s);
	fputs("# x\n$B/b *\n$B/a \\\n", s);
	for (int i = 0; i < 70; i++)
		fprintf(s, "%1000s\\\n", "");
	fputs("  10.0.0.1\n", s);
	fclose(s);
	expect_error(m, FNAME ":3: line longer than 64 KiB (with its continuations)");
	free(m);
}

static void test_warnings(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("# x\n"
		 "$B/a *(rw,no_root_squash) 10.0.0.1(no_root_squash) \\\n"
		 "  *.lan(no_root_squash) 10.0.0.0/15(no_root_squash) 10.2.0.0/16(no_root_squash) "
		 "\\\n"
		 "  fd00::/47(no_root_squash) fd01::/48(no_root_squash) \\\n"
		 "  192.168.0.0/8(no_root_squash,all_squash)\n"
		 "$B/b -async 10.0.0.1 10.0.0.2 192.168.1.*\n"
		 "$B/c 10.0.0.1(async)\n"
		 "$B/d00 *\n",
		 &f);
	static const char *const want[] = {
		FNAME
		":2: no_root_squash given to '*': any host it matches can act as root on $B/a",
		FNAME ":3: no_root_squash given to '*.lan': any host it matches can act as root on "
		      "$B/a",
		FNAME ":3: no_root_squash given to '10.0.0.0/15': any host it matches can act as "
		      "root on $B/a",
		FNAME ":4: no_root_squash given to 'fd00::/47': any host it matches can act as "
		      "root on $B/a",
		FNAME ":6: '192.168.1.*' is matched against host names, not addresses: for a range "
		      "of addresses write a network such as 192.168.1.0/24",
		FNAME ":6: async on $B/b: a server crash loses writes the client was told are on "
		      "disk",
		FNAME ":7: async on $B/c: a server crash loses writes the client was told are on "
		      "disk",
	};
	size_t nwant = sizeof(want) / sizeof(want[0]);
	assert_int_equal(f.nwarnings, nwant);
	for (size_t i = 0; i < nwant; i++) {
		char *w = expand(want[i]);
		assert_string_equal(f.warnings[i], w);
		free(w);
	}
	xc_free(&f);

	parse_ok("", &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.nwarnings, 1);
	assert_string_equal(f.warnings[0], FNAME ":1: no exports: the file exports nothing");
	xc_free(&f);
	parse_ok("# only\n\n  # comments\n", &f);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.nwarnings, 1);
	assert_string_equal(f.warnings[0], FNAME ":1: no exports: the file exports nothing");
	xc_free(&f);
}

static const struct xc_client *match(const struct xc_export *e, const char *addr, const char *name)
{
	struct xc_addr a = addr_of(addr);
	return xc_match(e, &a, name);
}

/* The anonuid the matched entry carries (the tests number entries by it), or -1: no match. */
static long matched(const struct xc_export *e, const char *addr, const char *name)
{
	const struct xc_client *c = match(e, addr, name);
	return c ? (long)c->opts.anonuid : -1;
}

static void test_match_precedence(void **state)
{
	(void)state;
	struct xc_file f;
	/* Written in the reverse of precedence, so only the kinds can decide. */
	parse_ok("$B/a *(anonuid=1) *.lan(anonuid=2) host*.lan(anonuid=9) \\\n"
		 "  10.0.0.0/8(anonuid=3) 10.1.0.0/16(anonuid=4) 10.1.2.3(anonuid=5) \\\n"
		 "  fd00::/16(anonuid=6) fd00:1::/32(anonuid=7) fd00:1::5(anonuid=8)\n"
		 "$B/b 0.0.0.0/0(anonuid=1) 10.0.0.5(anonuid=2)\n"
		 "$B/c ::/0(anonuid=1)\n"
		 "$B/d00 10.1.0.0/16(anonuid=1) 10.0.0.0/8(anonuid=2)\n"
		 "$B/d01 **(anonuid=1) *(anonuid=2)\n",
		 &f);
	const struct xc_export *e = &f.ex[0];
	assert_int_equal(matched(e, "10.1.2.3", "host1.lan"), 5);
	assert_int_equal(matched(e, "10.1.2.4", "host1.lan"), 4);
	assert_int_equal(matched(e, "10.2.0.1", "host1.lan"), 3);
	assert_int_equal(matched(e, "11.0.0.1", "host1.lan"), 2); /* first wildcard on the line */
	assert_int_equal(matched(e, "11.0.0.1", "HOST1.Lan"), 2); /* names match case-blind */
	assert_int_equal(matched(e, "11.0.0.1", "a.b.lan"), 2);	  /* '*' spans dots */
	assert_int_equal(matched(e, "11.0.0.1", "lan"), 1);
	assert_int_equal(matched(e, "11.0.0.1", "x.org"), 1);
	assert_int_equal(matched(e, "11.0.0.1", NULL), 1); /* no name: no wildcard */
	assert_int_equal(matched(e, "fd00:1::5", "h.lan"), 8);
	assert_int_equal(matched(e, "fd00:1::6", "h.lan"), 7);
	assert_int_equal(matched(e, "fd00:2::1", "h.lan"), 6);
	assert_int_equal(matched(e, "fe80::1", NULL), 1);
	assert_ptr_equal(xc_match(e, NULL, NULL), &e->clients[0]);

	/* A v4-mapped peer is the IPv4 host it maps. */
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr), 1);
	struct xc_addr a;
	assert_true(xc_addr_from_sockaddr((struct sockaddr *)&sin6, &a));
	const struct xc_client *c = xc_match(e, &a, NULL);
	assert_non_null(c);
	assert_int_equal(c->opts.anonuid, 5);

	/* IPv4 never matches an IPv6 network, nor IPv6 an IPv4 one. */
	assert_int_equal(matched(&f.ex[1], "192.0.2.1", NULL), 1);
	assert_int_equal(matched(&f.ex[1], "10.0.0.5", NULL), 2);
	assert_int_equal(matched(&f.ex[1], "::1", NULL), -1);
	assert_int_equal(matched(&f.ex[1], "2001:db8::1", NULL), -1);
	assert_int_equal(matched(&f.ex[2], "10.0.0.1", NULL), -1);
	assert_int_equal(matched(&f.ex[2], "2001:db8::1", NULL), 1);
	assert_null(xc_match(&f.ex[2], &a, NULL));
	/* The longest prefix wins wherever it stands on the line. */
	assert_int_equal(matched(&f.ex[3], "10.1.0.9", NULL), 1);
	assert_int_equal(matched(&f.ex[3], "10.2.0.9", NULL), 2);
	assert_int_equal(matched(&f.ex[3], "11.0.0.1", "x.lan"), -1);
	/* A pattern that matches any name still needs one. */
	assert_int_equal(matched(&f.ex[4], "10.0.0.1", NULL), 2);
	assert_int_equal(matched(&f.ex[4], "10.0.0.1", ""), 1);
	assert_int_equal(matched(&f.ex[4], "10.0.0.1", "x.org"), 1);
	assert_null(xc_match(NULL, &a, NULL));
	xc_free(&f);
}

static void test_match_hosts_in_line_order(void **state)
{
	(void)state;
	/* localhost's addresses here (127.0.0.1 and/or ::1), to name one of them by number. */
	struct xc_file f;
	parse_ok("$B/a localhost\n", &f);
	const struct xc_client *lh = &f.ex[0].clients[0];
	assert_true(lh->naddrs >= 1);
	char first[INET6_ADDRSTRLEN], tmpl[256];
	assert_non_null(inet_ntop(lh->addrs[0].family, lh->addrs[0].b, first, sizeof(first)));
	unsigned naddrs = lh->naddrs;
	xc_free(&f);

	/* A name and one of its addresses: whichever comes first on the line wins. */
	snprintf(tmpl, sizeof(tmpl),
		 "$B/a localhost(anonuid=1) %s(anonuid=2) 192.0.2.1(anonuid=3)\n"
		 "$B/b %s(anonuid=2) LOCALHOST(anonuid=1) 0.0.0.0/0(anonuid=4)\n",
		 first, first);
	parse_ok(tmpl, &f);
	assert_int_equal(f.ex[0].clients[0].naddrs, naddrs);
	assert_int_equal(matched(&f.ex[0], first, NULL), 1);
	assert_int_equal(matched(&f.ex[1], first, NULL), 2);
	assert_int_equal(matched(&f.ex[0], "192.0.2.1", NULL), 3);
	assert_int_equal(matched(&f.ex[0], "192.0.2.2", NULL), -1);
	assert_int_equal(matched(&f.ex[1], "192.0.2.2", NULL), 4);
	xc_free(&f);
	expect_error("# x\n$B/a localhost 10.0.0.1 LocalHost(rw)\n",
		     FNAME ":2: client 'LocalHost' is given twice on this line");
}

static void test_addr_from_sockaddr(void **state)
{
	(void)state;
	struct xc_addr a;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
	memset(&a, 0xff, sizeof(a));
	assert_true(xc_addr_from_sockaddr((struct sockaddr *)&sin, &a));
	expect_addr(&a, "192.0.2.7"); /* the unused 12 bytes are zero */

	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr), 1);
	assert_true(xc_addr_from_sockaddr((struct sockaddr *)&sin6, &a));
	expect_addr(&a, "2001:db8::7");
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.8", &sin6.sin6_addr), 1);
	memset(&a, 0xff, sizeof(a));
	assert_true(xc_addr_from_sockaddr((struct sockaddr *)&sin6, &a));
	expect_addr(&a, "192.0.2.8");
	/* ::192.0.2.8 (v4-compatible, not mapped) stays IPv6. */
	assert_int_equal(inet_pton(AF_INET6, "::192.0.2.8", &sin6.sin6_addr), 1);
	assert_true(xc_addr_from_sockaddr((struct sockaddr *)&sin6, &a));
	expect_addr(&a, "::192.0.2.8");

	struct sockaddr sun = { .sa_family = AF_UNIX };
	assert_false(xc_addr_from_sockaddr(&sun, &a));
	assert_int_equal(a.family, 0);
	assert_false(xc_addr_from_sockaddr(NULL, &a));
}

static bool reaches(const char *clients)
{
	char *t;
	assert_true(asprintf(&t, "$B/a %s\n", clients) > 0);
	struct xc_file f;
	parse_ok(t, &f);
	bool r = xc_reaches_remote(&f);
	xc_free(&f);
	free(t);
	return r;
}

static bool needs_names(const char *clients)
{
	char *t;
	assert_true(asprintf(&t, "$B/a 127.0.0.1\n$B/b %s\n", clients) > 0);
	struct xc_file f;
	parse_ok(t, &f);
	bool r = xc_needs_names(&f);
	xc_free(&f);
	free(t);
	return r;
}

static void test_reach(void **state)
{
	(void)state;
	assert_false(reaches("127.0.0.1 ::1 ::ffff:127.0.0.9 127.0.0.0/8 127.1.0.0/16 ::1/128 "
			     "localhost 127.255.255.255/32"));
	assert_true(reaches("*"));
	assert_true(reaches("*.lan"));
	assert_true(reaches("localhost.*"));
	assert_true(reaches("10.0.0.1"));
	assert_true(reaches("127.0.0.1 192.168.1.0/24"));
	assert_true(reaches("126.0.0.0/7"));
	assert_true(reaches("0.0.0.0/0"));
	assert_true(reaches("::/0"));
	assert_true(reaches("::/127")); /* ::0 and ::1 */
	assert_true(reaches("fd00::1"));
	assert_true(reaches("::ffff:10.0.0.1"));
	struct xc_file f;
	parse_ok("", &f);
	assert_false(xc_reaches_remote(&f));
	assert_false(xc_needs_names(&f));
	xc_free(&f);

	assert_true(needs_names("10.0.0.1 *.lan"));
	assert_true(needs_names("host?"));
	assert_false(needs_names("10.0.0.1 * 10.0.0.0/8 localhost"));
}

static void test_format_opts(void **state)
{
	(void)state;
	char buf[XC_OPTS_MAX];
	struct export_opts o = {
		.ro = true, .root_squash = true, .anonuid = 65534, .anongid = 65534
	};
	xc_format_opts(&o, buf, sizeof(buf));
	assert_string_equal(buf, "ro,root_squash,secure,sync,anonuid=65534,anongid=65534");
	o = (struct export_opts){ .all_squash = true,
				  .insecure = true,
				  .async = true,
				  .anonuid = 4294967294u,
				  .anongid = 4294967294u };
	xc_format_opts(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rw,no_root_squash,all_squash,insecure,async,"
				 "anonuid=4294967294,anongid=4294967294");
	o.all_squash = false;
	o.root_squash = true;
	o.anonuid = 0;
	xc_format_opts(&o, buf, sizeof(buf));
	assert_string_equal(buf, "rw,root_squash,insecure,async,anonuid=0,anongid=4294967294");
	/* Cut short, never past len. */
	memset(buf, 'z', sizeof(buf));
	xc_format_opts(&o, buf, 5);
	assert_string_equal(buf, "rw,r");
	assert_int_equal(buf[5], 'z');
	xc_format_opts(&o, buf, 0);
	assert_int_equal(buf[5], 'z');

	/* What the parser gives back through it. */
	struct xc_file f;
	parse_ok("$B/a 10.0.0.1(rw,all_squash,anongid=7)\n", &f);
	xc_format_opts(&f.ex[0].clients[0].opts, buf, sizeof(buf));
	assert_string_equal(buf, "rw,root_squash,all_squash,secure,sync,anonuid=65534,anongid=7");
	xc_free(&f);
}

static void test_print(void **state)
{
	(void)state;
	struct xc_file f;
	parse_ok("\"$B/my docs\" -rw 10.0.0.0/8 \\\n"
		 "   *.LAN(ro,fsid=17) 192.0.2.1(no_root_squash,name=docs)\n"
		 "$B/a -crossmnt *(async) fd00::1\n",
		 &f);
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	xc_print(&f, m);
	fclose(m);
	char *want =
		expand("export $B/my\\040docs\n"
		       "\tline 1\n"
		       "\tname docs\n"
		       "\tfsid 17\n"
		       "\tcrossmnt no\n"
		       "\tclient 10.0.0.0/8\n"
		       "\t\tline 1\n"
		       "\t\tkind network 10.0.0.0/8\n"
		       "\t\toptions rw,root_squash,secure,sync,anonuid=65534,anongid=65534\n"
		       "\tclient *.LAN\n"
		       "\t\tline 2\n"
		       "\t\tkind wildcard *.lan\n"
		       "\t\toptions ro,root_squash,secure,sync,anonuid=65534,anongid=65534\n"
		       "\tclient 192.0.2.1\n"
		       "\t\tline 2\n"
		       "\t\tkind host 192.0.2.1\n"
		       "\t\toptions rw,no_root_squash,secure,sync,anonuid=65534,anongid=65534\n"
		       "export $B/a\n"
		       "\tline 3\n"
		       "\tname a\n"
		       "\tfsid from path\n"
		       "\tcrossmnt yes\n"
		       "\tclient *\n"
		       "\t\tline 3\n"
		       "\t\tkind any\n"
		       "\t\toptions ro,root_squash,secure,async,anonuid=65534,anongid=65534\n"
		       "\tclient fd00::1\n"
		       "\t\tline 3\n"
		       "\t\tkind host fd00::1\n"
		       "\t\toptions ro,root_squash,secure,sync,anonuid=65534,anongid=65534\n");
	assert_string_equal(out, want);
	free(out);
	free(want);
	xc_free(&f);
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = ut_join(base, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return path;
}

static void test_parse_file(void **state)
{
	(void)state;
	char *text = expand("# the exports file\n$B/a 10.0.0.1(rw)\n$B/b -async *\n");
	char *path = write_file("exports", text, strlen(text));
	struct xc_file f;
	char err[1024] = "x";
	assert_int_equal(xc_parse_file(path, &f, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(f.file, path);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.ex[1].line, 3);
	assert_int_equal(f.nwarnings, 1);
	char *want;
	assert_true(asprintf(&want,
			     "%s:3: async on %s/b: a server crash loses writes the client was "
			     "told are on disk",
			     path, base) > 0);
	assert_string_equal(f.warnings[0], want);
	free(want);
	xc_free(&f);
	free(path);
	free(text);

	/* A NUL byte, named by its line. */
	static const char nul[] = "# x\n# y\n/a\0b *\n";
	path = write_file("nul", nul, sizeof(nul) - 1);
	memset(&f, 0xa5, sizeof(f));
	assert_int_equal(xc_parse_file(path, &f, err, sizeof(err)), -1);
	assert_true(asprintf(&want, "%s:3: NUL byte in the file", path) > 0);
	assert_string_equal(err, want);
	expect_empty(&f);
	free(want);
	free(path);

	/* Unreadable: missing, a directory, and (unless root, who reads anything) mode 000. */
	path = ut_join(base, "nofile");
	memset(&f, 0xa5, sizeof(f));
	assert_int_equal(xc_parse_file(path, &f, err, sizeof(err)), -1);
	assert_true(asprintf(&want, "%s: No such file or directory", path) > 0);
	assert_string_equal(err, want);
	expect_empty(&f);
	free(want);
	free(path);
	path = ut_join(base, "a");
	assert_int_equal(xc_parse_file(path, &f, err, sizeof(err)), -1);
	assert_true(asprintf(&want, "%s: Is a directory", path) > 0);
	assert_string_equal(err, want);
	expect_empty(&f);
	free(want);
	free(path);
	path = write_file("secret", "", 0);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		assert_int_equal(xc_parse_file(path, &f, err, sizeof(err)), -1);
		assert_true(asprintf(&want, "%s: Permission denied", path) > 0);
		assert_string_equal(err, want);
		free(want);
	}
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_each_option),
		cmocka_unit_test(test_export_options),
		cmocka_unit_test(test_fsid_uuid),
		cmocka_unit_test(test_defaults_and_override),
		cmocka_unit_test(test_client_forms),
		cmocka_unit_test(test_comments_and_continuations),
		cmocka_unit_test(test_quoted_paths),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_per_export_conflicts),
		cmocka_unit_test(test_path_errors),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_match_precedence),
		cmocka_unit_test(test_match_hosts_in_line_order),
		cmocka_unit_test(test_addr_from_sockaddr),
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_format_opts),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_parse_file),
	};
	return cmocka_run_group_tests_name("exports_conf", tests, setup, teardown);
}
