/*
 * Option lists: "-ro,insecure" after a path and "(rw,no_root_squash)" after
 * a client. Per-client options land in a struct export_opts; crossmnt,
 * fsid, name and the encrypted view's (encrypt, passfile, exclude) belong
 * to the export and may come from any list of its line.
 */
#define _GNU_SOURCE
#include "exports_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
	O_RW,
	O_RO,
	O_ROOT_SQUASH,
	O_NO_ROOT_SQUASH,
	O_ALL_SQUASH,
	O_NO_ALL_SQUASH,
	O_SECURE,
	O_INSECURE,
	O_SYNC,
	O_ASYNC,
	O_CROSSMNT,
	O_NOHIDE,
	O_HIDE,
	O_SUBTREE_CHECK,
	O_NO_SUBTREE_CHECK,
	O_ANONUID,
	O_ANONGID,
	O_SEC,
	O_FSID,
	O_NAME,
	O_ENCRYPT,
	O_PASSFILE,
	O_EXCLUDE,
};

struct opt_def {
	const char *name;
	enum opt_id id;
	const char *value; /* the form to show when the value is missing; NULL: takes none */
};

static const struct opt_def opt_table[] = {
	{ "rw", O_RW, NULL },
	{ "ro", O_RO, NULL },
	{ "root_squash", O_ROOT_SQUASH, NULL },
	{ "no_root_squash", O_NO_ROOT_SQUASH, NULL },
	{ "all_squash", O_ALL_SQUASH, NULL },
	{ "no_all_squash", O_NO_ALL_SQUASH, NULL },
	{ "secure", O_SECURE, NULL },
	{ "insecure", O_INSECURE, NULL },
	{ "sync", O_SYNC, NULL },
	{ "async", O_ASYNC, NULL },
	{ "crossmnt", O_CROSSMNT, NULL },
	{ "nohide", O_NOHIDE, NULL },
	{ "hide", O_HIDE, NULL },
	{ "subtree_check", O_SUBTREE_CHECK, NULL },
	{ "no_subtree_check", O_NO_SUBTREE_CHECK, NULL },
	{ "anonuid", O_ANONUID, "anonuid=N" },
	{ "anongid", O_ANONGID, "anongid=N" },
	{ "sec", O_SEC, "sec=sys" },
	{ "fsid", O_FSID, "fsid=N" },
	{ "name", O_NAME, "name=NAME" },
	{ "encrypt", O_ENCRYPT, "encrypt=reverse" },
	{ "passfile", O_PASSFILE, "passfile=FILE" },
	{ "exclude", O_EXCLUDE, "exclude=PATTERN" },
};

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

/* knfsd options loopnfs has no counterpart for: named as such, not as typos. */
static const char *const knfsd_only[] = {
	"wdelay",
	"no_wdelay",
	"secure_locks",
	"insecure_locks",
	"auth_nlm",
	"no_auth_nlm",
	"mp",
	"mountpoint",
	"acl",
	"no_acl",
	"nordirplus",
	"pnfs",
	"no_pnfs",
	"security_label",
	"no_security_label",
	"refer",
	"replicas",
};

void xc_default_opts(struct export_opts *o)
{
	*o = (struct export_opts){
		.ro = true,
		.root_squash = true,
		.anonuid = XC_ANON_DEFAULT,
		.anongid = XC_ANON_DEFAULT,
	};
}

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;
	return m < c ? m : c;
}

/*
 * Edits (insert, delete, replace, swap two neighbours) from a to b; only
 * called when the lengths differ by at most 2 and b is an option name, so
 * both fit the table.
 */
#define DIST_MAX 24
static unsigned edit_distance(const char *a, size_t n, const char *b, size_t m)
{
	unsigned d[DIST_MAX][DIST_MAX];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[n][m];
}

/* The option name within 2 edits of key (the closest, first in the table on a tie), or NULL. */
static const char *suggest(const char *key, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 3;
	for (size_t i = 0; i < NOPTS; i++) {
		size_t m = strlen(opt_table[i].name);
		if (n > m + 2 || m > n + 2 || n + 1 > DIST_MAX || m + 1 > DIST_MAX)
			continue;
		unsigned d = edit_distance(key, n, opt_table[i].name, m);
		if (d < bestd) {
			bestd = d;
			best = opt_table[i].name;
		}
	}
	return best;
}

static const struct opt_def *find_opt(const char *key, size_t n)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strlen(opt_table[i].name) == n && memcmp(opt_table[i].name, key, n) == 0)
			return &opt_table[i];
	return NULL;
}

static int unknown_opt(struct xc_opt_ctx *cx, const char *word, size_t keylen)
{
	unsigned line = cx->where->line;
	for (size_t i = 0; i < sizeof(knfsd_only) / sizeof(knfsd_only[0]); i++)
		if (strlen(knfsd_only[i]) == keylen && memcmp(knfsd_only[i], word, keylen) == 0)
			return xc_fail(cx->p, line,
				       "option '%s' is knfsd's: loopnfs does not support it, "
				       "remove it",
				       word);
	const char *near = suggest(word, keylen);
	if (near)
		return xc_fail(cx->p, line, "unknown option '%s' (did you mean '%s'?)", word, near);
	return xc_fail(cx->p, line, "unknown option '%s'", word);
}

/* Decimal digits only, at most max: 0, -1 (not a number) or -ERANGE. */
static int parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

static int parse_anon(struct xc_opt_ctx *cx, const char *key, const char *val, uint32_t *out)
{
	uint64_t v = 0;
	int rc = parse_decimal(val, UINT32_MAX, &v);
	if (rc == -1)
		return xc_fail(cx->p, cx->where->line, "%s=%s: not a number", key, val);
	if (rc < 0 || v > UINT32_MAX - 1) /* (uid_t)-1 means "no change" to the kernel */
		return xc_fail(cx->p, cx->where->line, "%s=%s is out of range (0..4294967294)", key,
			       val);
	*out = (uint32_t)v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 32 hex digits, or the 8-4-4-4-12 form with dashes. */
static bool parse_uuid(const char *s, uint8_t out[16])
{
	size_t n = strlen(s);
	bool dashed = n == 36;
	if (n != 32 && !dashed)
		return false;
	unsigned nib = 0;
	for (size_t i = 0; i < n; i++) {
		if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return false;
			continue;
		}
		int h = hex_digit(s[i]);
		if (h < 0)
			return false;
		if (nib % 2 == 0)
			out[nib / 2] = (uint8_t)(h << 4);
		else
			out[nib / 2] |= (uint8_t)h;
		nib++;
	}
	return true;
}

/* FNV-1a: stable across builds and versions, which an fsid must be; never 0 ("from the path"). */
static uint32_t uuid_fsid(const uint8_t uuid[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++) {
		h ^= uuid[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

static int set_fsid(struct xc_opt_ctx *cx, const char *val)
{
	unsigned line = cx->where->line;
	uint8_t uuid[16];
	uint64_t v = 0;
	int rc;
	if (strcmp(val, "0") == 0 || strcmp(val, "root") == 0)
		return xc_fail(cx->p, line,
			       "fsid=%s: knfsd uses it to mark the NFSv4 root; loopnfs synthesizes "
			       "its root itself, so remove it",
			       val);
	if (parse_uuid(val, uuid)) {
		v = uuid_fsid(uuid);
	} else if ((rc = parse_decimal(val, UINT32_MAX, &v)) != 0 || v == 0) {
		if (rc == -ERANGE)
			return xc_fail(cx->p, line, "fsid=%s is out of range (1..4294967295)", val);
		return xc_fail(cx->p, line, "fsid=%s: neither a number (1..4294967295) nor a UUID",
			       val);
	}
	if (cx->ex->fsid && cx->ex->fsid != v)
		return xc_fail(cx->p, line,
			       "fsid=%s conflicts with the fsid given earlier on this line "
			       "(fsid, name and crossmnt are per export)",
			       val);
	cx->ex->fsid = (uint32_t)v;
	return 0;
}

static int check_name(struct xc_opt_ctx *cx, const char *val)
{
	unsigned line = cx->where->line;
	if (strlen(val) > EXPORT_NAME_MAX)
		return xc_fail(cx->p, line, "name= is longer than %d bytes", EXPORT_NAME_MAX);
	if (strchr(val, '/'))
		return xc_fail(cx->p, line, "name=%s: a name cannot contain '/'", val);
	if (strcmp(val, ".") == 0 || strcmp(val, "..") == 0)
		return xc_fail(cx->p, line, "name=%s: a name cannot be '.' or '..'", val);
	for (const char *c = val; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return xc_fail(cx->p, line,
				       "name=: a name cannot contain control characters");
	return 0;
}

static int set_name(struct xc_opt_ctx *cx, const char *val)
{
	if (check_name(cx, val) < 0)
		return -1;
	if (cx->ex->name) {
		if (strcmp(cx->ex->name, val) == 0)
			return 0;
		return xc_fail(cx->p, cx->where->line,
			       "name=%s conflicts with name=%s earlier on this line "
			       "(fsid, name and crossmnt are per export)",
			       val, cx->ex->name);
	}
	cx->ex->name = strdup(val);
	return cx->ex->name ? 0 : xc_nomem(cx->p, cx->where->line);
}

static int set_encrypt(struct xc_opt_ctx *cx, const char *val)
{
	if (strcmp(val, "reverse") != 0)
		return xc_fail(cx->p, cx->where->line,
			       "encrypt=%s: the one encrypted view is encrypt=reverse "
			       "(gocryptfs -reverse's)",
			       val);
	cx->ex->encrypt = true;
	return 0;
}

static int set_passfile(struct xc_opt_ctx *cx, const char *val)
{
	unsigned line = cx->where->line;
	if (val[0] != '/')
		return xc_fail(cx->p, line, "passfile=%s: give an absolute path", val);
	if (cx->ex->passfile && strcmp(cx->ex->passfile, val) != 0)
		return xc_fail(cx->p, line,
			       "passfile=%s conflicts with passfile=%s earlier on this line", val,
			       cx->ex->passfile);
	free(cx->ex->passfile);
	cx->ex->passfile = strdup(val);
	return cx->ex->passfile ? 0 : xc_nomem(cx->p, line);
}

static int add_exclude(struct xc_opt_ctx *cx, const char *val)
{
	struct xc_export *e = cx->ex;
	char **v = realloc(e->excludes, (e->nexcludes + 1) * sizeof(*v));
	if (!v)
		return xc_nomem(cx->p, cx->where->line);
	e->excludes = v;
	if (!(v[e->nexcludes] = strdup(val)))
		return xc_nomem(cx->p, cx->where->line);
	e->nexcludes++;
	return 0;
}

static int set_crossmnt(struct xc_opt_ctx *cx, const char *word, bool on)
{
	if (cx->crossmnt_by && cx->ex->crossmnt != on)
		return xc_fail(cx->p, cx->where->line,
			       "'%s' conflicts with '%s' earlier on this line "
			       "(fsid, name and crossmnt are per export)",
			       word, cx->crossmnt_by);
	cx->ex->crossmnt = on;
	cx->crossmnt_by = word;
	return 0;
}

static int apply_flag(struct xc_opt_ctx *cx, const struct opt_def *d, struct export_opts *o)
{
	switch (d->id) {
	case O_RW:
	case O_RO:
		o->ro = d->id == O_RO;
		return 0;
	case O_ROOT_SQUASH:
	case O_NO_ROOT_SQUASH:
		o->root_squash = d->id == O_ROOT_SQUASH;
		return 0;
	case O_ALL_SQUASH:
	case O_NO_ALL_SQUASH:
		o->all_squash = d->id == O_ALL_SQUASH;
		return 0;
	case O_SECURE:
	case O_INSECURE:
		o->insecure = d->id == O_INSECURE;
		return 0;
	case O_SYNC:
	case O_ASYNC:
		o->async = d->id == O_ASYNC;
		return 0;
	case O_CROSSMNT:
	case O_NOHIDE:
	case O_HIDE:
		return set_crossmnt(cx, d->name, d->id != O_HIDE);
	default:
		/* subtree_check and no_subtree_check: every handle is proven inside its export anyway. */
		return 0;
	}
}

static int apply_value(struct xc_opt_ctx *cx, const struct opt_def *d, const char *val,
		       struct export_opts *o)
{
	uint32_t id;
	switch (d->id) {
	case O_ANONUID:
		if (parse_anon(cx, d->name, val, &id) < 0)
			return -1;
		o->anonuid = id;
		return 0;
	case O_ANONGID:
		if (parse_anon(cx, d->name, val, &id) < 0)
			return -1;
		o->anongid = id;
		return 0;
	case O_SEC:
		if (strcmp(val, "sys") != 0)
			return xc_fail(cx->p, cx->where->line, "sec=%s: only sec=sys is supported",
				       val);
		return 0;
	case O_FSID:
		return set_fsid(cx, val);
	case O_ENCRYPT:
		return set_encrypt(cx, val);
	case O_PASSFILE:
		return set_passfile(cx, val);
	case O_EXCLUDE:
		return add_exclude(cx, val);
	default:
		return set_name(cx, val);
	}
}

static int apply_opt(struct xc_opt_ctx *cx, const char *word, struct export_opts *o)
{
	const char *eq = strchr(word, '=');
	size_t keylen = eq ? (size_t)(eq - word) : strlen(word);
	const struct opt_def *d = find_opt(word, keylen);
	if (!d)
		return unknown_opt(cx, word, keylen);
	if (!d->value) {
		if (eq)
			return xc_fail(cx->p, cx->where->line, "option '%s' takes no value",
				       d->name);
		return apply_flag(cx, d, o);
	}
	if (!eq || !eq[1])
		return xc_fail(cx->p, cx->where->line, "option %s needs a value (%s)", d->name,
			       d->value);
	return apply_value(cx, d, eq + 1, o);
}

int xc_parse_opts(struct xc_opt_ctx *cx, const char *s, size_t len, struct export_opts *o)
{
	size_t i = 0;
	for (;;) {
		size_t n = xc_find_unquoted(s + i, len - i, ',');
		char *word;
		if (xc_unquote(s + i, n, false, &word) < 0)
			return xc_nomem(cx->p, cx->where->line);
		int rc = word[0] ? apply_opt(cx, word, o)
				 : xc_fail(cx->p, cx->where->line, "empty option in '%.*s'",
					   (int)cx->where->len, cx->where->s);
		free(word);
		if (rc < 0)
			return -1;
		i += n;
		if (i >= len)
			return 0;
		i++; /* the comma */
	}
}
