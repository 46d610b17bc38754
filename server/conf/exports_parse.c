/*
 * One export line (path, -defaults, clients), the checks across lines
 * (path, name and fsid given once), the warnings, and the entry points.
 */
#define _GNU_SOURCE
#include "exports_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* An exports file is a few lines; anything this big is the wrong file (or /dev/zero). */
#define XC_FILE_MAX (16u << 20)

/* The state of the line being parsed: its export, defaults, and where its options were. */
struct line_state {
	struct xc_export *e;
	struct export_opts defaults;
	struct xc_opt_ctx cx;
};

const char *xc_export_name(const struct xc_export *e)
{
	if (e->name)
		return e->name;
	const char *slash = strrchr(e->path, '/');
	return slash && slash[1] ? slash + 1 : e->path;
}

static void export_free(struct xc_export *e)
{
	for (unsigned i = 0; i < e->nclients; i++)
		xc_client_free(&e->clients[i]);
	free(e->clients);
	free(e->path);
	free(e->name);
	free(e->passfile);
	for (unsigned i = 0; i < e->nexcludes; i++)
		free(e->excludes[i]);
	free(e->excludes);
	memset(e, 0, sizeof(*e));
}

void xc_free(struct xc_file *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->n; i++)
		export_free(&f->ex[i]);
	free(f->ex);
	for (unsigned i = 0; i < f->nwarnings; i++)
		free(f->warnings[i]);
	free(f->warnings);
	free(f->file);
	memset(f, 0, sizeof(*f));
}

/* The path word: unquoted, escapes decoded, absolute, an existing directory; canonical in e->path. */
static int parse_path(struct xc_parser *p, const struct xc_token *t, struct xc_export *e)
{
	char *path;
	int rc = xc_unquote(t->s, t->len, true, &path);
	if (rc == -ENOMEM)
		return xc_nomem(p, t->line);
	if (rc < 0)
		return xc_fail(
			p, t->line,
			"%.*s: \\000 and escapes above \\377 name no byte (\\040 is a space)",
			(int)t->len, t->s);
	struct stat st;
	if (path[0] != '/')
		rc = xc_fail(p, t->line, "'%s': the path must be absolute", path);
	else if (!(e->path = realpath(path, NULL)) || stat(e->path, &st) != 0)
		rc = xc_fail(p, t->line, "%s: %s", path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = xc_fail(p, t->line, "%s: %s", path, strerror(ENOTDIR));
	free(path);
	return rc;
}

static int parse_defaults(struct line_state *ls, const struct xc_token *t)
{
	ls->cx.where = t;
	return xc_parse_opts(&ls->cx, t->s + 1, t->len - 1, &ls->defaults);
}

/* "name" or "name(opts)": the client's options are the line's defaults with its own on top. */
static int parse_client_word(struct line_state *ls, const struct xc_token *t, struct xc_client *c)
{
	struct xc_parser *p = ls->cx.p;
	int n = (int)t->len;
	if (t->s[0] == '-')
		return xc_fail(p, t->line,
			       "'%.*s': default options come right after the path, once", n, t->s);
	if (t->s[0] == '(')
		return xc_fail(
			p, t->line,
			"'%.*s' after a blank means every host (exports(5)): write '*%.*s' if "
			"every host is meant, else remove the blank",
			n, t->s, n, t->s);
	c->opts = ls->defaults;
	size_t open = xc_find_unquoted(t->s, t->len, '(');
	if (open < t->len) {
		const char *o = t->s + open + 1;
		size_t close = xc_find_unquoted(o, t->len - open - 1, ')');
		if (close == t->len - open - 1)
			return xc_fail(p, t->line,
				       "unterminated '(' in '%.*s' (no blanks inside the options)",
				       n, t->s);
		if (close != t->len - open - 2)
			return xc_fail(p, t->line, "'%.*s': text after ')'", n, t->s);
		ls->cx.where = t;
		if (xc_parse_opts(&ls->cx, o, close, &c->opts) < 0)
			return -1;
	}
	char *name;
	if (xc_unquote(t->s, open, false, &name) < 0)
		return xc_nomem(p, t->line);
	int rc = xc_parse_client(p, t->line, name, c);
	free(name);
	return rc;
}

static int check_duplicate(struct xc_parser *p, const struct xc_export *e,
			   const struct xc_client *c)
{
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct xc_client *a = &e->clients[i];
		if (!xc_same_client(a, c))
			continue;
		if (strcasecmp(a->text, c->text) == 0)
			return xc_fail(p, c->line, "client '%s' is given twice on this line",
				       c->text);
		return xc_fail(p, c->line,
			       "'%s' names the same client as '%s' earlier on this line", c->text,
			       a->text);
	}
	return 0;
}

static int add_client(struct line_state *ls, const struct xc_token *t)
{
	struct xc_export *e = ls->e;
	struct xc_parser *p = ls->cx.p;
	if (e->nclients == XC_CLIENTS_MAX)
		return xc_fail(p, t->line, "more than %d clients on one line", XC_CLIENTS_MAX);
	struct xc_client c = { 0 };
	if (parse_client_word(ls, t, &c) < 0 || check_duplicate(p, e, &c) < 0) {
		xc_client_free(&c);
		return -1;
	}
	struct xc_client *cl = realloc(e->clients, (e->nclients + 1) * sizeof(*cl));
	if (!cl) {
		xc_client_free(&c);
		return xc_nomem(p, t->line);
	}
	cl[e->nclients++] = c;
	e->clients = cl;
	return 0;
}

static int check_earlier(struct xc_parser *p, const struct xc_export *e)
{
	const struct xc_file *f = p->out;
	for (unsigned i = 0; i < f->n; i++) {
		const struct xc_export *o = &f->ex[i];
		/* A directory may be exported once as it is and once encrypted. */
		if (strcmp(o->path, e->path) == 0 && o->encrypt == e->encrypt)
			return xc_fail(p, e->line,
				       "%s is exported on line %u already: give all its clients on "
				       "one line",
				       e->path, o->line);
		if (strcmp(xc_export_name(o), xc_export_name(e)) == 0)
			return xc_fail(p, e->line,
				       "%s and %s (line %u) would both show as /%s under the root: "
				       "give one a name=",
				       e->path, o->path, o->line, xc_export_name(e));
		if (e->fsid && e->fsid == o->fsid)
			return xc_fail(p, e->line,
				       "fsid %u of %s is that of %s (line %u): fsids must differ",
				       e->fsid, e->path, o->path, o->line);
	}
	return 0;
}

/* Does the client stand for more hosts than anyone should trust with root? */
static bool is_wide(const struct xc_client *c)
{
	switch (c->kind) {
	case XC_ANY:
	case XC_WILDCARD:
		return true;
	case XC_NET:
		/* An IPv6 /48 is one site; a /16 is already a large part of the IPv4 Internet. */
		return c->prefix < (c->addrs[0].family == AF_INET ? 16u : 48u);
	default:
		return false;
	}
}

static int warn_line(struct xc_parser *p, const struct xc_export *e)
{
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct xc_client *c = &e->clients[i];
		if (!c->opts.root_squash && !c->opts.all_squash && is_wide(c) &&
		    xc_warn(p, c->line,
			    "no_root_squash given to '%s': any host it matches can act as root "
			    "on %s",
			    c->text, e->path) < 0)
			return -1;
	}
	for (unsigned i = 0; i < e->nclients; i++)
		if (e->clients[i].opts.async)
			return xc_warn(p, e->line,
				       "async on %s: a server crash loses writes the client was "
				       "told are on disk",
				       e->path);
	return 0;
}

/* The encrypted view's options belong together, and the view is read-only. */
static int check_encrypt(struct xc_parser *p, const struct xc_export *e)
{
	if (!e->encrypt) {
		if (e->passfile || e->nexcludes)
			return xc_fail(p, e->line, "%s: %s= needs encrypt=reverse on the line",
				       e->path, e->passfile ? "passfile" : "exclude");
		return 0;
	}
	if (e->crossmnt)
		return xc_fail(p, e->line,
			       "%s: encrypt=reverse does not cross into mounted filesystems "
			       "(crossmnt/nohide)",
			       e->path);
	for (unsigned i = 0; i < e->nclients; i++)
		if (!e->clients[i].opts.ro)
			return xc_fail(p, e->clients[i].line,
				       "%s: the encrypted view is read-only: '%s' cannot have rw",
				       e->path, e->clients[i].text);
	return 0;
}

static int append_export(struct xc_parser *p, struct xc_export *e)
{
	struct xc_file *f = p->out;
	struct xc_export *ex = realloc(f->ex, (f->n + 1) * sizeof(*ex));
	if (!ex)
		return xc_nomem(p, e->line);
	ex[f->n++] = *e;
	f->ex = ex;
	return 0;
}

static int parse_line(struct xc_parser *p, const struct xc_line *l)
{
	const struct xc_token *t = l->tok;
	if (p->out->n == EXPORT_MAX)
		return xc_fail(p, t[0].line, "more than %d exports", EXPORT_MAX);
	struct xc_export e = { .line = t[0].line };
	struct line_state ls = { .e = &e, .cx = { .p = p, .ex = &e } };
	xc_default_opts(&ls.defaults);
	int rc = parse_path(p, &t[0], &e);
	unsigned i = 1;
	if (rc == 0 && l->ntok > 1 && t[1].s[0] == '-')
		rc = parse_defaults(&ls, &t[i++]);
	if (rc == 0 && i == l->ntok)
		rc = xc_fail(p, e.line,
			     "%s: no client given: write '*(opts)' if every host is meant", e.path);
	for (; rc == 0 && i < l->ntok; i++)
		rc = add_client(&ls, &t[i]);
	if (rc == 0)
		rc = check_encrypt(p, &e);
	if (rc == 0)
		rc = check_earlier(p, &e);
	if (rc == 0)
		rc = warn_line(p, &e);
	if (rc == 0)
		rc = append_export(p, &e);
	if (rc < 0)
		export_free(&e);
	return rc;
}

static int parse_buffer(const char *fname, const char *buf, size_t len, struct xc_file *out,
			char *err, size_t errlen)
{
	struct xc_parser p = { .fname = fname,
			       .buf = buf,
			       .len = len,
			       .line = 1,
			       .err = err,
			       .errlen = errlen,
			       .out = out };
	struct xc_line l = { 0 };
	int rc = 0;
	out->file = strdup(fname);
	if (!out->file)
		rc = xc_nomem(&p, 1);
	if (rc == 0)
		rc = xc_check_bytes(&p);
	while (rc == 0 && (rc = xc_next_line(&p, &l)) == 1)
		rc = parse_line(&p, &l);
	xc_line_free(&l);
	if (rc == 0 && out->n == 0)
		rc = xc_warn(&p, 1, "no exports: the file exports nothing");
	if (rc < 0) {
		xc_free(out);
		return -1;
	}
	return 0;
}

int xc_parse_text(const char *fname, const char *text, struct xc_file *out, char *err,
		  size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		text = "";
	return parse_buffer(fname ? fname : "exports", text, strlen(text), out, err, errlen);
}

/* The whole file, less than XC_FILE_MAX bytes: 0 or -errno. */
static int read_whole(const char *path, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 0, n = 0;
	char *b = NULL;
	int rc = 0;
	for (;;) {
		if (n == cap) {
			char *nb = cap >= XC_FILE_MAX ? NULL : realloc(b, cap ? cap * 2 : 4096);
			if (!nb) {
				rc = cap >= XC_FILE_MAX ? -EFBIG : -ENOMEM;
				break;
			}
			b = nb;
			cap = cap ? cap * 2 : 4096;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*buf = b;
	*len = n;
	return 0;
}

int xc_parse_file(const char *path, struct xc_file *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	char *buf = NULL;
	size_t len = 0;
	int rc = read_whole(path, &buf, &len);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return -1;
	}
	rc = parse_buffer(path, buf ? buf : "", len, out, err, errlen);
	free(buf);
	return rc;
}
