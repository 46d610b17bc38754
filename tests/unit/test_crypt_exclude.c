/*
 * --exclude (server/crypt/exclude.c): go-gitignore's rules as gocryptfs 2.3
 * applies them, from its own tests and its rewrite of each line; every row
 * whose answer differs from gitignore(5) was checked against gocryptfs
 * -reverse over FUSE (tests/crypt/exclude_compare.sh runs those live).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "crypt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP 4

static const struct row {
	const char *pat[MAXP]; /* NULL-terminated */
	const char *path;
	bool hidden;
} rows[] = {
	/* Suffixes, at any depth, case-sensitive. */
	{ { "*.mp3" }, "b.mp3", true },
	{ { "*.mp3" }, "important/sub/x.mp3", true },
	{ { "*.mp3" }, "d.mp3.bak", false },
	{ { "*.MP3" }, "b.mp3", false },
	/* A name: file or directory, at any depth, and all below it. */
	{ { "foo" }, "foo", true },
	{ { "foo" }, "sub/foo", true },
	{ { "foo" }, "bar/foo/inner.txt", true },
	{ { "foo" }, "foobar", false },
	{ { "foo" }, "xfoo", false },
	{ { "/foo" }, "foo", true },
	{ { "/foo" }, "sub/foo", false },
	/* go-gitignore's tests. */
	{ { "abc/def", "a/b/c", "b" }, "abc", false },
	{ { "abc/def", "a/b/c", "b" }, "bd", false },
	{ { "abc/def", "a/b/c", "b" }, "abc/def/child", true },
	{ { "abc/def", "a/b/c", "b" }, "a/b/c/d", true },
	{ { "/a/b/c", "d/e/f", "/g" }, "a/b/c/d", true },
	{ { "/a/b/c", "d/e/f", "/g" }, "g", true },
	{ { "\\#file.txt", "\\!file.txt", "file.txt" }, "#file.txt", true },
	{ { "\\#file.txt", "\\!file.txt", "file.txt" }, "a/!file.txt", true },
	{ { "\\#file.txt", "\\!file.txt", "file.txt" }, "file2.txt", false },
	{ { "Documentation/*.html" }, "Documentation/git.html", true },
	{ { "Documentation/*.html" }, "Documentation/ppc/ppc.html", false },
	{ { "Documentation/*.html" }, "tools/perf/Documentation/perf.html", false },
	{ { "**/foo", "bar" }, "baz/foo", true },
	{ { "**/foo", "bar" }, "baz/bar", true },
	{ { "          # Invalid Comment" }, " Invalid Comment", true }, /* not a comment */
	/* A trailing '/': what is below, never the directory itself (not gitignore's). */
	{ { "foo/" }, "foo", false },
	{ { "foo/" }, "bar/foo", false },
	{ { "foo/" }, "bar/foo/inner.txt", true },
	/* An inner '/' anchors nothing without "*." after it (not gitignore's). */
	{ { "bar/foo" }, "x/bar/foo", true },
	{ { "/bar/foo" }, "x/bar/foo", false },
	{ { "doc/*.html" }, "tools/doc/c.html", false },
	/* '*' stays inside a component; "**" crosses them. */
	{ { "/doc/*" }, "doc/ppc", true },
	{ { "/doc/*" }, "doc", false },
	{ { "a/**" }, "a", true },
	{ { "a/**" }, "x/a/b", true },
	{ { "a/**/d.log" }, "a/b/c/d.log", true },
	{ { "a/**/d.log" }, "a/d.log", true },
	{ { "a/**/d.log" }, "a/xd.log", false },
	{ { "a/**/b" }, "a/x/y/b", true },
	{ { "**" }, "a/b", true },
	/* Negation: later lines win, and '!' only undoes. */
	{ { "*", "!/important" }, "important", false },
	{ { "*", "!/important" }, "important/keep.txt", false },
	{ { "*", "!/important" }, "a.txt", true },
	{ { "*", "!important/keep.txt" },
	  "important/keep.txt",
	  true }, /* its directory is hidden */
	{ { "*.txt", "!a.txt" }, "a.txt", false },
	{ { "*.txt", "!a.txt" }, "b.txt", true },
	{ { "!a.txt", "*.txt" }, "a.txt", true },
	{ { "*", "!!bang" }, "bang", false },
	/* '?' is a literal; [!...] is no negation, [^...] is (not gitignore's). */
	{ { "x?y" }, "x?y", true },
	{ { "x?y" }, "xzy", false },
	{ { "x[^/]y" }, "xzy", true },
	{ { "[!x]*" }, "!bang", true },
	{ { "[!x]*" }, "x", true },
	{ { "[!x]*" }, "a", false },
	{ { "/[^a-z]*" }, "7seven", true },
	{ { "/[^a-z]*" }, "abc", false },
	{ { "[]a]" }, "]", true },
	/* Named classes are Go's: ASCII only. */
	{ { "[[:digit:]]*" }, "7seven", true },
	{ { "[[:digit:]]*" }, "seven", false },
	{ { "[[:alpha:]]*" }, "\xc3\xbc.txt", false },
	{ { "[[:upper:][:punct:]]" }, "\xef\xbf\xbd", false },
	/* Runes, not bytes; an invalid byte is one rune (U+FFFD). */
	{ { "/[^a]" }, "\xc3\xa9", true },
	{ { "/[^a]" }, "ab", false },
	{ { "/[^a]" }, "\xff", true },
	{ { "/[\xc3\xbc]*" }, "\xc3\xbc.txt", true },
	{ { "*.bin" }, "\xff\xfe.bin", true },
	/* Comments, escapes, spaces, carriage returns. */
	{ { "#hash" }, "#hash", false },
	{ { "\\#hash" }, "#hash", true },
	{ { "  sp ace  " }, "sp ace", true },
	{ { "sp\\ ace" }, "sp ace", true },
	{ { "crlf\r" }, "crlf", true },
	{ { "star\\*name" }, "star*name", true },
	{ { "star\\*name" }, "starXname", false },
	{ { "test \\(1\\).txt" }, "test (1).txt", true },
	{ { "plus\\+file" }, "plus+file", true },
	{ { "a.b" }, "axb", false },
	{ { ".*" }, ".hidden", true },
	{ { ".*" }, "a.b", false },
	/* A '.' of the rewrite does not cross a newline, as Go's. */
	{ { "foo" }, "a\nb/foo", false },
	{ { "/" }, "anything/at/all", true },
	/* -exclude PATH is "/" PATH. */
	{ { "/foo", "/bar/baz.txt" }, "bar/baz.txt", true },
	{ { "/foo", "/bar/baz.txt" }, "x/bar/baz.txt", false },
	/* The root never. */
	{ { "/" }, "", false },
};

static struct crypt_exclude *compile(const char *const *pat, char *err, size_t errlen)
{
	size_t n = 0;
	while (n < MAXP && pat[n])
		n++;
	return crypt_exclude_new(pat, n, err, errlen);
}

static void test_table(void **state)
{
	(void)state;
	char err[256];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct crypt_exclude *x = compile(rows[i].pat, err, sizeof(err));
		if (!x)
			fail_msg("row %zu (%s): %s", i, rows[i].pat[0], err);
		if (crypt_exclude_match(x, rows[i].path) != rows[i].hidden)
			fail_msg("row %zu: \"%s\" against \"%s\": want %s", i, rows[i].pat[0],
				 rows[i].path, rows[i].hidden ? "hidden" : "shown");
		crypt_exclude_free(x);
	}
}

static void test_child_trusts_its_directory(void **state)
{
	(void)state;
	const char *pat[] = { "*", "!important/keep.txt" };
	char err[256];
	struct crypt_exclude *x = crypt_exclude_new(pat, 2, err, sizeof(err));
	assert_non_null(x);
	assert_true(crypt_exclude_match(x, "important/keep.txt"));
	/* READDIR of a directory already shown tests only the entry itself. */
	assert_false(crypt_exclude_match_child(x, "important", "keep.txt"));
	assert_true(crypt_exclude_match_child(x, "", "important"));
	crypt_exclude_free(x);
	assert_false(crypt_exclude_match(NULL, "a"));
	assert_false(crypt_exclude_match_child(NULL, "", "a"));
}

static void test_comments_only(void **state)
{
	(void)state;
	const char *pat[] = { "# nothing", "", "   ", "\r" };
	char err[256];
	struct crypt_exclude *x = crypt_exclude_new(pat, 4, err, sizeof(err));
	assert_non_null(x);
	assert_false(crypt_exclude_match(x, "# nothing"));
	assert_false(crypt_exclude_match(x, "a"));
	crypt_exclude_free(x);
	x = crypt_exclude_new(NULL, 0, err, sizeof(err));
	assert_non_null(x);
	assert_false(crypt_exclude_match(x, "a"));
	crypt_exclude_free(x);
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *pat, *says;
	} bad[] = {
		{ "a+b", "'+' is a regular-expression operator" },
		{ "x(", "'('" },
		{ "a|b", "'|'" },
		{ "^a", "'^'" },
		{ "a$", "'$'" },
		{ "x{2}", "'{'" },
		{ "[abc", "unterminated '['" },
		{ "[*]", "'*' inside [...]" },
		{ "[a\\]]", "'\\' inside [...]" },
		{ "[[.a.]]", "collating elements" },
		{ "[[=a=]]", "collating elements" },
		{ "[[:foo:]]", "unknown character class" },
		{ "\\d", "'\\d' is not supported" },
		{ "foo\\", "a trailing '\\'" },
		{ "\\**/x", "unbalanced parentheses" },
		{ "\xff*", "not valid UTF-8" },
		{ "a\nb", "a newline" },
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *pat[] = { "fine", bad[i].pat };
		err[0] = '\0';
		if (crypt_exclude_new(pat, 2, err, sizeof(err)))
			fail_msg("\"%s\" was accepted", bad[i].pat);
		if (!strstr(err, bad[i].says) || !strstr(err, "exclude pattern"))
			fail_msg("\"%s\": %s", bad[i].pat, err);
	}
	char *huge = malloc(5000);
	memset(huge, 'a', 4999);
	huge[4999] = '\0';
	const char *pat[] = { huge };
	assert_null(crypt_exclude_new(pat, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));
	free(huge);
}

/* Several threads on one compiled set: matching keeps no shared state. */
static void *hammer(void *arg)
{
	const struct crypt_exclude *x = arg;
	for (int i = 0; i < 2000; i++) {
		if (!crypt_exclude_match(x, "a/b/c/d.log") || crypt_exclude_match(x, "a/b/c/d.txt"))
			return (void *)1;
		if (!crypt_exclude_match_child(x, "\xc3\xa9t\xc3\xa9", "\xff.log"))
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	const char *pat[] = { "*.log", "/[^a]/" };
	char err[256];
	pthread_t t[4];
	void *r;
	struct crypt_exclude *x = crypt_exclude_new(pat, 2, err, sizeof(err));
	assert_non_null(x);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, x), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], &r), 0);
		assert_null(r);
	}
	crypt_exclude_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_child_trusts_its_directory),
		cmocka_unit_test(test_comments_only),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests_name("crypt_exclude", tests, NULL, NULL);
}
