/*
 * The exports parser's private declarations, shared by its files:
 *   exports_lex.c     the text: bytes, logical lines, tokens, quotes, messages
 *   exports_opts.c    one option list ("rw,no_root_squash,fsid=17")
 *   exports_client.c  one client word ("*", 10.0.0.0/8, *.lan, laptop)
 *   exports_parse.c   one export line, the checks across lines, the entry points
 *   exports_match.c   addresses, matching, the reach checks, printing
 */
#ifndef LOOPNFS_EXPORTS_INT_H
#define LOOPNFS_EXPORTS_INT_H

#include "exports_conf.h"

#include <stdbool.h>
#include <stddef.h>

#define XC_PRINTF(f, a) __attribute__((format(printf, f, a)))

struct xc_parser {
	const char *fname;
	const char *buf;
	size_t len;
	size_t pos;
	unsigned line; /* physical line of buf[pos], from 1 */
	char *err;
	size_t errlen;
	struct xc_file *out;
};

/* One word of a logical line as written (quotes kept), pointing into the text. */
struct xc_token {
	const char *s;
	size_t len;
	unsigned line; /* the physical line it is on */
};

struct xc_line {
	struct xc_token *tok;
	unsigned ntok, cap;
};

/* Where one option list is, and what it may set for its whole export. */
struct xc_opt_ctx {
	struct xc_parser *p;
	const struct xc_token *where; /* the word the list is in, for messages */
	struct xc_export *ex;	      /* crossmnt, fsid and name go here */
	const char *crossmnt_by;      /* the option that set ex->crossmnt on this line, or NULL */
};

/* "FILE:LINE: message" into the caller's err; always returns -1. */
int xc_fail(struct xc_parser *p, unsigned line, const char *fmt, ...) XC_PRINTF(3, 4);
int xc_nomem(struct xc_parser *p, unsigned line);
/* Appends "FILE:LINE: message" to out->warnings; -1 only when out of memory. */
int xc_warn(struct xc_parser *p, unsigned line, const char *fmt, ...) XC_PRINTF(3, 4);

/* Refuses NUL bytes and physical lines over XC_LINE_MAX before anything is lexed. */
int xc_check_bytes(struct xc_parser *p);
/* The next logical line with at least one word: 1, 0 at the end, -1 on an error. */
int xc_next_line(struct xc_parser *p, struct xc_line *l);
void xc_line_free(struct xc_line *l);

/*
 * s[0..len) without its double quotes, malloc'ed; with octal, \ooo (a byte
 * 1..255) becomes that byte. 0, -ENOMEM, or -EINVAL for \000 or above \377.
 */
int xc_unquote(const char *s, size_t len, bool octal, char **out);
/* The first c in s[0..len) outside double quotes, or len. */
size_t xc_find_unquoted(const char *s, size_t len, char c);

/* knfsd's defaults: ro, root_squash, secure, sync, anonuid/anongid 65534. */
void xc_default_opts(struct export_opts *o);
/* Applies a comma-separated option list on top of *o (and on cx->ex for per-export ones). */
int xc_parse_opts(struct xc_opt_ctx *cx, const char *s, size_t len, struct export_opts *o);

/* Fills c from its written name (kind, addresses, pattern); host names are resolved here. */
int xc_parse_client(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c);
/* Is b the client a, earlier on the line, written again (the same address, network, pattern or name)? */
bool xc_same_client(const struct xc_client *a, const struct xc_client *b);
void xc_client_free(struct xc_client *c);

/* v4-mapped IPv6 becomes IPv4; the unused bytes are zeroed. */
void xc_addr_normalize(struct xc_addr *a);
bool xc_addr_equal(const struct xc_addr *a, const struct xc_addr *b);
/* Clears every bit after the first prefix bits. */
void xc_addr_mask(struct xc_addr *a, unsigned prefix);
bool xc_net_contains(const struct xc_addr *net, unsigned prefix, const struct xc_addr *a);

#endif
