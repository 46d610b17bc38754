/*
 * --exclude: gocryptfs 2.3's -exclude-wildcard, as its matcher
 * (github.com/sabhiram/go-gitignore, 2021-09) really behaves, so a view
 * with the same patterns holds the same paths. That matcher is not git's:
 * it rewrites each line into a Go regular expression with a few string
 * replacements and leaves every other character to the regexp engine.
 * The same replacements are made here, in the same order, and the result
 * is compiled by the C library's POSIX regex engine (regcomp, ERE), after
 * the few constructs where Go's syntax and POSIX's differ are rewritten or
 * refused. fnmatch(3) cannot stand in: its '?', its [!...], its anchoring
 * of "a/b" and its '/' handling all answer differently.
 *
 * Go matches runes: the expressions are compiled and run under C.UTF-8,
 * and a path's invalid UTF-8 bytes are each replaced by U+FFFD before
 * matching, as Go decodes them.
 */
#define _GNU_SOURCE
#include "crypt.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX 4096
#define MAGIC_STAR "#$~" /* go-gitignore's placeholder for a '*' that must survive */
#define ANY_RUNE "[^\n]" /* Go's '.': any character but a newline */

struct xpattern {
	regex_t re;
	bool negate;
};

struct crypt_exclude {
	struct xpattern *p;
	size_t n;
	locale_t loc; /* C.UTF-8; (locale_t)0 if the system has none (bytes then) */
};

/* ------------------------------------------------------------ strings */

/* A growable NUL-terminated string; on allocation failure it stays NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_addn(struct sbuf *b, const char *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			free(b->s);
			*b = (struct sbuf){ .oom = true };
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *p)
{
	sb_addn(b, p, strlen(p));
}

/* Every non-overlapping occurrence of from, left to right, as Go's ReplaceAll. */
static char *replace_all(char *s, const char *from, const char *to)
{
	struct sbuf b = { 0 };
	size_t flen = strlen(from);
	const char *p = s, *hit;
	if (!s)
		return NULL;
	while ((hit = strstr(p, from))) {
		sb_addn(&b, p, (size_t)(hit - p));
		sb_add(&b, to);
		p = hit + flen;
	}
	sb_add(&b, p);
	free(s);
	return b.s;
}

static char *prepend(char *s, const char *prefix)
{
	struct sbuf b = { 0 };
	if (!s)
		return NULL;
	sb_add(&b, prefix);
	sb_add(&b, s);
	free(s);
	return b.s;
}

static void set_err(char *err, size_t errlen, const char *line, const char *fmt, ...)
{
	char what[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "exclude pattern \"%s\": %s", line, what);
}

/* ------------------------------------------------------------ UTF-8 */

/* The length of the valid UTF-8 sequence at p (as Go's utf8.DecodeRune), 0 if none. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0];
	size_t n = c < 0x80		    ? 1
		   : c >= 0xc2 && c <= 0xdf ? 2
		   : c >= 0xe0 && c <= 0xef ? 3
		   : c >= 0xf0 && c <= 0xf4 ? 4
					    : 0;
	if (n == 0 || n > avail)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF are invalid too. */
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		return 0;
	return n;
}

static bool utf8_valid(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0, n; i < len; i += n)
		if ((n = utf8_len((const unsigned char *)s + i, len - i)) == 0)
			return false;
	return true;
}

/* s with each byte that starts no valid sequence replaced by U+FFFD (malloc'ed). */
static char *utf8_sanitize(const char *s, size_t len)
{
	struct sbuf b = { 0 };
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_len((const unsigned char *)s + i, len - i);
		if (n)
			sb_addn(&b, s + i, n);
		else
			sb_add(&b, "\xef\xbf\xbd");
		n = n ? n : 1;
	}
	if (!b.s && !b.oom)
		sb_add(&b, "");
	return b.s;
}

/* ------------------------------------------------------------ checks */

/*
 * Go's named classes are ASCII only (glibc's follow the locale): each is
 * given to POSIX as the ranges Go means.
 */
static const char *class_ranges(const char *p, size_t n)
{
	static const char *const classes[][2] = {
		{ "alnum", "0-9A-Za-z" },    { "alpha", "A-Za-z" },	   { "ascii", "\x01-\x7f" },
		{ "blank", "\t " },	     { "cntrl", "\x01-\x1f\x7f" }, { "digit", "0-9" },
		{ "graph", "!-~" },	     { "lower", "a-z" },	   { "print", " -~" },
		{ "punct", "!-/:-@[-`{-~" }, { "space", "\t\n\v\f\r " },   { "upper", "A-Z" },
		{ "word", "0-9A-Za-z_" },    { "xdigit", "0-9A-Fa-f" },
	};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strlen(classes[i][0]) == n && memcmp(p, classes[i][0], n) == 0)
			return classes[i][1];
	return NULL;
}

/*
 * A bracket expression starting at s[0] == '['; returns its length, or 0
 * with err set. Refused inside: '\' (an escape to Go, a character to POSIX),
 * '*' (go-gitignore's rewrite breaks the class: gocryptfs drops the line),
 * "[." and "[=" (POSIX collating elements, plain characters to Go).
 */
static size_t check_bracket(const char *s, const char *line, char *err, size_t errlen)
{
	size_t i = 1;
	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++; /* a ']' first is a member, in both syntaxes */
	for (; s[i] && s[i] != ']'; i++) {
		if (s[i] == '\\' || s[i] == '*') {
			set_err(err, errlen, line, "'%c' inside [...] is not supported", s[i]);
			return 0;
		}
		if (s[i] == '[' && (s[i + 1] == '.' || s[i + 1] == '=')) {
			set_err(err, errlen, line,
				"collating elements ([. .], [= =]) are not supported");
			return 0;
		}
		if (s[i] == '[' && s[i + 1] == ':') {
			const char *end = strstr(s + i + 2, ":]");
			if (!end || !class_ranges(s + i + 2, (size_t)(end - s - i - 2))) {
				set_err(err, errlen, line, "unknown character class in [...]");
				return 0;
			}
			i = (size_t)(end - s) + 1;
		}
	}
	if (!s[i]) {
		set_err(err, errlen, line, "unterminated '['");
		return 0;
	}
	return i + 1;
}

/*
 * What the line may hold: characters go-gitignore hands to Go's regexp as
 * operators ("a+b", "x(1)", "a|b", "{2}", '^', '$') are refused rather than
 * given a meaning gitignore(5) never had; "\(" and the like (an escaped
 * punctuation character) match the character in both engines.
 */
static int check_line(const char *s, const char *line, char *err, size_t errlen)
{
	if (!utf8_valid(s)) {
		set_err(err, errlen, line, "not valid UTF-8");
		return -EINVAL;
	}
	for (size_t i = 0; s[i];) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\') {
			unsigned char e = (unsigned char)s[i + 1];
			if (e == '\0' || e >= 0x80 || isalnum(e)) {
				set_err(err, errlen, line,
					e ? "'\\%c' is not supported: escape only punctuation"
					  : "a trailing '\\' escapes nothing",
					e);
				return -EINVAL;
			}
			i += 2;
		} else if (c == '[') {
			size_t n = check_bracket(s + i, line, err, errlen);
			if (n == 0)
				return -EINVAL;
			i += n;
		} else if (c == '\n' || strchr("+()|^${}", c)) {
			if (c == '\n')
				set_err(err, errlen, line, "a newline is not supported");
			else
				set_err(err, errlen, line,
					"'%c' is a regular-expression operator in gocryptfs's "
					"matcher; write \\%c to match the character",
					c, c);
			return -EINVAL;
		} else {
			i++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ go-gitignore */

/* Strip and classify the line as getPatternFromLine does: false for no pattern. */
static bool line_body(const char *line, char *body, bool *negate)
{
	size_t len = strlen(line), at = 0;
	while (len && line[len - 1] == '\r')
		len--;
	if (len && line[0] == '#')
		return false; /* a comment; before the trimming, as there */
	while (at < len && line[at] == ' ')
		at++;
	while (len > at && line[len - 1] == ' ')
		len--;
	if (at == len)
		return false;
	*negate = line[at] == '!';
	at += *negate;
	if (at < len && (line[at] == '#' || line[at] == '!'))
		at++; /* "\#" and "\!" are not what it strips: a second '#' or '!' is */
	memcpy(body, line + at, len - at);
	body[len - at] = '\0';
	return true;
}

/* A character other than '/' or '+', then '/', then anywhere after it "*.". */
static bool looks_like_dir_glob(const char *s)
{
	for (size_t i = 0; s[i] && s[i + 1]; i++)
		if (s[i] != '/' && s[i] != '+' && s[i + 1] == '/' && strstr(s + i + 2, "*."))
			return true;
	return false;
}

/* The Go expression go-gitignore builds from a checked line body. */
static char *go_expr(const char *body)
{
	char *s = strdup(body);
	if (s && looks_like_dir_glob(s) && s[0] != '/')
		s = prepend(s, "/");
	s = replace_all(s, ".", "\\.");
	if (s && strncmp(s, "/**/", 4) == 0)
		memmove(s, s + 1, strlen(s));
	s = replace_all(s, "/**/", "(/|/.+/)");
	s = replace_all(s, "**/", "(|." MAGIC_STAR "/)");
	s = replace_all(s, "/**", "(|/." MAGIC_STAR ")");
	s = replace_all(s, "\\*", "\\" MAGIC_STAR);
	s = replace_all(s, "*", "([^/]*)");
	s = replace_all(s, "?", "\\?");
	s = replace_all(s, MAGIC_STAR, "*");
	if (!s)
		return NULL;
	bool dir = s[0] && s[strlen(s) - 1] == '/';
	char *expr = NULL;
	int n = asprintf(&expr, "%s%s%s", s[0] == '/' ? "^(|/)" : "^(|.*/)", s + (s[0] == '/'),
			 dir ? "(|.*)$" : "(|/.*)$");
	free(s);
	return n < 0 ? NULL : expr;
}

/*
 * Inside [...] of the Go expression: its "\." and "\?" are plain members
 * to POSIX, its named classes ASCII ranges.
 */
static size_t copy_bracket(struct sbuf *b, const char *s)
{
	size_t i = 1;
	sb_add(b, "[");
	if (s[i] == '^')
		sb_addn(b, s + i++, 1);
	if (s[i] == ']')
		sb_addn(b, s + i++, 1);
	for (; s[i] != ']'; i++) {
		if (s[i] == '\\')
			i++;
		if (s[i] == '[' && s[i + 1] == ':') {
			const char *end = strstr(s + i, ":]"); /* there: check_bracket saw it */
			sb_add(b, class_ranges(s + i + 2, (size_t)(end - (s + i + 2))));
			i = (size_t)(end + 1 - s);
			continue;
		}
		sb_addn(b, s + i, 1);
	}
	sb_add(b, "]");
	return i + 1;
}

/*
 * The Go expression as a POSIX ERE: '.' stops at a newline as Go's does,
 * "\c" becomes what means the character c to POSIX (GNU gives "\<" and
 * "\'" meanings of their own). An unbalanced parenthesis (an escaped one
 * go-gitignore glued to its own group) fails in Go: -EINVAL.
 */
static int go_to_ere(const char *s, char **out)
{
	struct sbuf b = { 0 };
	int depth = 0;
	for (size_t i = 0; s[i] && depth >= 0;) {
		if (s[i] == '\\') {
			if (strchr(".[]()*+?{}|^$\\", s[i + 1]))
				sb_addn(&b, s + i, 2);
			else
				sb_addn(&b, s + i + 1, 1);
			i += 2;
		} else if (s[i] == '[') {
			i += copy_bracket(&b, s + i);
		} else {
			depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
			if (s[i] == '.')
				sb_add(&b, ANY_RUNE);
			else
				sb_addn(&b, s + i, 1);
			i++;
		}
	}
	if (b.oom)
		return -ENOMEM;
	if (depth != 0) {
		free(b.s);
		return -EINVAL;
	}
	*out = b.s;
	return 0;
}

/* ------------------------------------------------------------ compile */

static int compile_re(struct crypt_exclude *x, regex_t *re, const char *ere, const char *line,
		      char *err, size_t errlen)
{
	locale_t old = x->loc ? uselocale(x->loc) : (locale_t)0;
	int r = regcomp(re, ere, REG_EXTENDED | REG_NOSUB);
	if (r != 0) {
		char msg[128];
		regerror(r, re, msg, sizeof(msg));
		set_err(err, errlen, line, "%s", msg);
	}
	if (old)
		uselocale(old);
	return r == 0 ? 0 : r == REG_ESPACE ? -ENOMEM : -EINVAL;
}

/* One line: 0 and *added (false for a blank line or a comment), or -errno. */
static int add_line(struct crypt_exclude *x, const char *line, bool *added, char *err,
		    size_t errlen)
{
	char body[PATTERN_MAX + 1], *expr, *ere = NULL;
	bool negate = false;
	*added = false;
	if (strlen(line) > PATTERN_MAX) {
		set_err(err, errlen, "...", "longer than %d bytes", PATTERN_MAX);
		return -ENAMETOOLONG;
	}
	if (!line_body(line, body, &negate))
		return 0;
	int r = check_line(body, line, err, errlen);
	if (r < 0)
		return r;
	expr = go_expr(body);
	r = expr ? go_to_ere(expr, &ere) : -ENOMEM;
	free(expr);
	if (r == -EINVAL)
		set_err(err, errlen, line, "unbalanced parentheses after rewriting");
	if (r == 0)
		r = compile_re(x, &x->p[x->n].re, ere, line, err, errlen);
	free(ere);
	if (r < 0)
		return r;
	x->p[x->n++].negate = negate;
	*added = true;
	return 0;
}

struct crypt_exclude *crypt_exclude_new(const char *const *patterns, size_t n, char *err,
					size_t errlen)
{
	struct crypt_exclude *x = calloc(1, sizeof(*x));
	int r = x ? 0 : -ENOMEM;
	if (x && n)
		x->p = calloc(n, sizeof(*x->p));
	if (x && n && !x->p)
		r = -ENOMEM;
	if (x) {
		x->loc = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C.UTF-8", (locale_t)0);
		if (!x->loc)
			x->loc = newlocale(LC_CTYPE_MASK | LC_COLLATE_MASK, "C.utf8", (locale_t)0);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool added;
		r = add_line(x, patterns[i], &added, err, errlen);
	}
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (r < 0) {
		crypt_exclude_free(x);
		return NULL;
	}
	return x;
}

void crypt_exclude_free(struct crypt_exclude *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		regfree(&x->p[i].re);
	if (x->loc)
		freelocale(x->loc);
	free(x->p);
	free(x);
}

/* ------------------------------------------------------------ match */

/* MatchesPath: the last pattern that matches decides, but a '!' only undoes. */
static bool match_one(const struct crypt_exclude *x, const char *path)
{
	bool excluded = false;
	for (size_t i = 0; i < x->n; i++) {
		if (regexec(&x->p[i].re, path, 0, NULL, 0) != 0)
			continue;
		excluded = !x->p[i].negate;
	}
	return excluded;
}

/* Each directory above path, then path: the kernel looks every one of them up. */
static bool match_ancestors(const struct crypt_exclude *x, char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		bool hit = match_one(x, path);
		*s = '/';
		if (hit)
			return true;
	}
	return match_one(x, path);
}

static bool match_path(const struct crypt_exclude *x, const char *path, bool ancestors)
{
	if (!x || x->n == 0 || path[0] == '\0')
		return false; /* the root is never excluded */
	char *p = x->loc ? utf8_sanitize(path, strlen(path)) : strdup(path);
	if (!p)
		return true; /* out of memory: hiding is the safe answer */
	locale_t old = x->loc ? uselocale(x->loc) : (locale_t)0;
	bool r = ancestors ? match_ancestors(x, p) : match_one(x, p);
	if (old)
		uselocale(old);
	free(p);
	return r;
}

bool crypt_exclude_match(const struct crypt_exclude *x, const char *relpath)
{
	return match_path(x, relpath, true);
}

bool crypt_exclude_match_child(const struct crypt_exclude *x, const char *dir_relpath,
			       const char *name)
{
	if (!x || x->n == 0)
		return false;
	char *p = crypt_path_join(dir_relpath, name);
	if (!p)
		return true;
	bool r = match_path(x, p, false);
	free(p);
	return r;
}
