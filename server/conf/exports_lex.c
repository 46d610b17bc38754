/*
 * The exports file as text: messages, the byte checks, logical lines
 * (comments and backslash continuations) cut into words, and unquoting.
 */
#define _GNU_SOURCE
#include "exports_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xc_fail(struct xc_parser *p, unsigned line, const char *fmt, ...)
{
	if (!p->err || p->errlen == 0)
		return -1;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->fname, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int xc_nomem(struct xc_parser *p, unsigned line)
{
	return xc_fail(p, line, "out of memory");
}

int xc_warn(struct xc_parser *p, unsigned line, const char *fmt, ...)
{
	char *msg, *full;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return xc_nomem(p, line);
	n = asprintf(&full, "%s:%u: %s", p->fname, line, msg);
	free(msg);
	if (n < 0)
		return xc_nomem(p, line);
	struct xc_file *f = p->out;
	char **w = realloc(f->warnings, (f->nwarnings + 1) * sizeof(*w));
	if (!w) {
		free(full);
		return xc_nomem(p, line);
	}
	w[f->nwarnings++] = full;
	f->warnings = w;
	return 0;
}

int xc_check_bytes(struct xc_parser *p)
{
	unsigned line = 1;
	size_t start = 0;
	for (size_t i = 0; i <= p->len; i++) {
		if (i == p->len || p->buf[i] == '\n') {
			if (i - start > XC_LINE_MAX)
				return xc_fail(p, line, "line longer than %d KiB",
					       XC_LINE_MAX / 1024);
			line++;
			start = i + 1;
		} else if (p->buf[i] == '\0') {
			return xc_fail(p, line, "NUL byte in the file");
		}
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The length of a backslash-newline at pos (the newline may be CRLF), or 0. */
static size_t continuation_at(const struct xc_parser *p, size_t pos)
{
	const char *b = p->buf;
	if (pos + 1 < p->len && b[pos] == '\\' && b[pos + 1] == '\n')
		return 2;
	if (pos + 2 < p->len && b[pos] == '\\' && b[pos + 1] == '\r' && b[pos + 2] == '\n')
		return 3;
	return 0;
}

/* A comment runs to the end of its physical line: a backslash in it continues nothing. */
static void skip_comment(struct xc_parser *p)
{
	while (p->pos < p->len && p->buf[p->pos] != '\n')
		p->pos++;
}

static int push_token(struct xc_parser *p, struct xc_line *l, size_t start, unsigned line)
{
	if (l->ntok == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 8;
		struct xc_token *t = realloc(l->tok, cap * sizeof(*t));
		if (!t)
			return xc_nomem(p, line);
		l->tok = t;
		l->cap = cap;
	}
	l->tok[l->ntok++] =
		(struct xc_token){ .s = p->buf + start, .len = p->pos - start, .line = line };
	return 0;
}

/* A word ends at a blank, a comment or a continuation outside quotes; a quote must close on its line. */
static int read_token(struct xc_parser *p, struct xc_line *l)
{
	size_t start = p->pos;
	unsigned line = p->line;
	bool quoted = false;
	while (p->pos < p->len && p->buf[p->pos] != '\n') {
		char c = p->buf[p->pos];
		if (c == '"')
			quoted = !quoted;
		else if (!quoted && (is_blank(c) || c == '#' || continuation_at(p, p->pos)))
			break;
		p->pos++;
	}
	if (quoted)
		return xc_fail(p, line, "unterminated quote in %.*s", (int)(p->pos - start),
			       p->buf + start);
	return push_token(p, l, start, line);
}

/* One logical line, maybe without words: 1, 0 at the end of the text, -1 on an error. */
static int read_logical(struct xc_parser *p, struct xc_line *l)
{
	if (p->pos >= p->len)
		return 0;
	size_t start = p->pos;
	unsigned first = p->line;
	l->ntok = 0;
	for (;;) {
		if (p->pos - start > XC_LINE_MAX)
			return xc_fail(p, first, "line longer than %d KiB (with its continuations)",
				       XC_LINE_MAX / 1024);
		if (p->pos >= p->len)
			return 1;
		char c = p->buf[p->pos];
		size_t cont = continuation_at(p, p->pos);
		if (c == '\n') {
			p->pos++;
			p->line++;
			return 1;
		} else if (cont) {
			p->pos += cont;
			p->line++;
		} else if (is_blank(c)) {
			p->pos++;
		} else if (c == '#') {
			skip_comment(p);
		} else if (read_token(p, l) < 0) {
			return -1;
		}
	}
}

int xc_next_line(struct xc_parser *p, struct xc_line *l)
{
	int rc;
	while ((rc = read_logical(p, l)) == 1 && l->ntok == 0)
		;
	return rc;
}

void xc_line_free(struct xc_line *l)
{
	free(l->tok);
	l->tok = NULL;
	l->ntok = l->cap = 0;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

int xc_unquote(const char *s, size_t len, bool octal, char **out)
{
	char *r = malloc(len + 1), *w = r;
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			continue;
		if (octal && s[i] == '\\' && i + 3 < len && is_octal(s[i + 1]) &&
		    is_octal(s[i + 2]) && is_octal(s[i + 3])) {
			unsigned v =
				(s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
			if (v == 0 || v > 255) {
				free(r);
				return -EINVAL;
			}
			*w++ = (char)v;
			i += 3;
			continue;
		}
		*w++ = s[i];
	}
	*w = '\0';
	*out = r;
	return 0;
}

size_t xc_find_unquoted(const char *s, size_t len, char c)
{
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == c)
			return i;
	}
	return len;
}
