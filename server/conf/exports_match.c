/*
 * Addresses and client matching (exports(5) precedence), the checks the
 * server makes on a parsed file before it listens, and the --check output.
 */
#define _GNU_SOURCE
#include "exports_int.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <string.h>

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* ::ffff:a.b.c.d, checked bytewise: b need not be aligned as a struct in6_addr. */
static bool is_v4_mapped(const uint8_t b[16])
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };
	return memcmp(b, prefix, sizeof(prefix)) == 0;
}

void xc_addr_normalize(struct xc_addr *a)
{
	if (a->family == AF_INET6 && is_v4_mapped(a->b)) {
		memmove(a->b, a->b + 12, 4);
		a->family = AF_INET;
	}
	if (a->family == AF_INET)
		memset(a->b + 4, 0, sizeof(a->b) - 4);
}

bool xc_addr_from_sockaddr(const struct sockaddr *sa, struct xc_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		memcpy(out->b, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(out->b, &sin6->sin6_addr, 16);
	} else {
		return false;
	}
	out->family = sa->sa_family;
	xc_addr_normalize(out);
	return true;
}

bool xc_addr_equal(const struct xc_addr *a, const struct xc_addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, addr_len(a->family)) == 0;
}

void xc_addr_mask(struct xc_addr *a, unsigned prefix)
{
	for (unsigned i = prefix; i < addr_len(a->family) * 8; i++)
		a->b[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
}

bool xc_net_contains(const struct xc_addr *net, unsigned prefix, const struct xc_addr *a)
{
	if (net->family != a->family)
		return false;
	struct xc_addr m = *a;
	xc_addr_mask(&m, prefix);
	return xc_addr_equal(&m, net);
}

static const struct xc_client *match_host(const struct xc_export *e, const struct xc_addr *a)
{
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct xc_client *c = &e->clients[i];
		if (c->kind != XC_HOST)
			continue;
		for (unsigned j = 0; j < c->naddrs; j++)
			if (xc_addr_equal(&c->addrs[j], a))
				return c;
	}
	return NULL;
}

/* The longest matching prefix; on a tie the first on the line. */
static const struct xc_client *match_net(const struct xc_export *e, const struct xc_addr *a)
{
	const struct xc_client *best = NULL;
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct xc_client *c = &e->clients[i];
		if (c->kind == XC_NET && xc_net_contains(&c->addrs[0], c->prefix, a) &&
		    (!best || c->prefix > best->prefix))
			best = c;
	}
	return best;
}

static const struct xc_client *match_wildcard(const struct xc_export *e, const char *revname)
{
	for (unsigned i = 0; i < e->nclients; i++) {
		const struct xc_client *c = &e->clients[i];
		/* The pattern is lower-case already: CASEFOLD lower-cases the name without a copy. */
		if (c->kind == XC_WILDCARD && fnmatch(c->pattern, revname, FNM_CASEFOLD) == 0)
			return c;
	}
	return NULL;
}

static const struct xc_client *match_any(const struct xc_export *e)
{
	for (unsigned i = 0; i < e->nclients; i++)
		if (e->clients[i].kind == XC_ANY)
			return &e->clients[i];
	return NULL;
}

const struct xc_client *xc_match(const struct xc_export *e, const struct xc_addr *addr,
				 const char *revname)
{
	if (!e)
		return NULL;
	const struct xc_client *c = NULL;
	if (addr && (c = match_host(e, addr)))
		return c;
	if (addr && (c = match_net(e, addr)))
		return c;
	if (revname && (c = match_wildcard(e, revname)))
		return c;
	return match_any(e);
}

bool xc_needs_names(const struct xc_file *f)
{
	for (unsigned i = 0; i < f->n; i++)
		for (unsigned j = 0; j < f->ex[i].nclients; j++)
			if (f->ex[i].clients[j].kind == XC_WILDCARD)
				return true;
	return false;
}

/* 127.0.0.0/8 or ::1 */
static bool is_loopback(const struct xc_addr *a)
{
	static const uint8_t one[16] = { [15] = 1 };
	if (a->family == AF_INET)
		return a->b[0] == 127;
	return a->family == AF_INET6 && memcmp(a->b, one, 16) == 0;
}

static bool client_remote(const struct xc_client *c)
{
	switch (c->kind) {
	case XC_NET:
		return !is_loopback(&c->addrs[0]) ||
		       c->prefix < (c->addrs[0].family == AF_INET ? 8u : 128u);
	case XC_HOST:
		for (unsigned i = 0; i < c->naddrs; i++)
			if (!is_loopback(&c->addrs[i]))
				return true;
		return false;
	default:
		return true;
	}
}

bool xc_reaches_remote(const struct xc_file *f)
{
	for (unsigned i = 0; i < f->n; i++)
		for (unsigned j = 0; j < f->ex[i].nclients; j++)
			if (client_remote(&f->ex[i].clients[j]))
				return true;
	return false;
}

void xc_format_opts(const struct export_opts *o, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	snprintf(buf, len, "%s,%s,%s%s,%s,anonuid=%u,anongid=%u", o->ro ? "ro" : "rw",
		 o->root_squash ? "root_squash" : "no_root_squash",
		 o->all_squash ? "all_squash," : "", o->insecure ? "insecure" : "secure",
		 o->async ? "async" : "sync", (unsigned)o->anonuid, (unsigned)o->anongid);
}

/* As the exports file would write it: blanks, '#', '"', '\' and control bytes as \ooo. */
static void print_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == 0x7f || c == '#' || c == '"' || c == '\\')
			fprintf(out, "\\%03o", c);
		else
			fputc(c, out);
	}
}

static void print_addr(FILE *out, const struct xc_addr *a)
{
	char s[INET6_ADDRSTRLEN];
	if (!inet_ntop(a->family, a->b, s, sizeof(s)))
		strcpy(s, "?");
	fputs(s, out);
}

static void print_kind(FILE *out, const struct xc_client *c)
{
	switch (c->kind) {
	case XC_HOST:
		fputs("host", out);
		for (unsigned i = 0; i < c->naddrs; i++) {
			fputc(' ', out);
			print_addr(out, &c->addrs[i]);
		}
		break;
	case XC_NET:
		fputs("network ", out);
		print_addr(out, &c->addrs[0]);
		fprintf(out, "/%u", c->prefix);
		break;
	case XC_WILDCARD:
		fputs("wildcard ", out);
		print_escaped(out, c->pattern);
		break;
	case XC_ANY:
		fputs("any", out);
		break;
	}
}

static void print_client(FILE *out, const struct xc_client *c)
{
	char opts[XC_OPTS_MAX];
	xc_format_opts(&c->opts, opts, sizeof(opts));
	fputs("\tclient ", out);
	print_escaped(out, c->text);
	fprintf(out, "\n\t\tline %u\n\t\tkind ", c->line);
	print_kind(out, c);
	fprintf(out, "\n\t\toptions %s\n", opts);
}

void xc_print(const struct xc_file *f, FILE *out)
{
	for (unsigned i = 0; i < f->n; i++) {
		const struct xc_export *e = &f->ex[i];
		fputs("export ", out);
		print_escaped(out, e->path);
		fprintf(out, "\n\tline %u\n\tname ", e->line);
		print_escaped(out, xc_export_name(e));
		if (e->fsid)
			fprintf(out, "\n\tfsid %u\n", (unsigned)e->fsid);
		else
			fputs("\n\tfsid from path\n", out);
		fputs(e->crossmnt ? "\tcrossmnt yes\n" : "\tcrossmnt no\n", out);
		if (e->encrypt) {
			fputs("\tencrypt reverse\n", out);
			if (e->passfile) {
				fputs("\tpassfile ", out);
				print_escaped(out, e->passfile);
				fputc('\n', out);
			}
			for (unsigned j = 0; j < e->nexcludes; j++) {
				fputs("\texclude ", out);
				print_escaped(out, e->excludes[j]);
				fputc('\n', out);
			}
		}
		for (unsigned j = 0; j < e->nclients; j++)
			print_client(out, &e->clients[j]);
	}
}
