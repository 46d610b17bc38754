/*
 * One client word of an export line: "*", an address, a network, a name
 * pattern, or a host name, which is resolved here, once per parse.
 */
#define _GNU_SOURCE
#include "exports_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A numeric address as written, a v4-mapped one still IPv6 (a network needs to know). */
static bool parse_raw_address(const char *s, struct xc_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->b) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, s, a->b) == 1)
		a->family = AF_INET6;
	return a->family != 0;
}

static int add_addr(struct xc_client *c, const struct xc_addr *a)
{
	for (unsigned i = 0; i < c->naddrs; i++)
		if (xc_addr_equal(&c->addrs[i], a))
			return 0;
	struct xc_addr *n = realloc(c->addrs, (c->naddrs + 1) * sizeof(*n));
	if (!n)
		return -1;
	n[c->naddrs++] = *a;
	c->addrs = n;
	return 0;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static bool bit_set(const uint8_t *b, unsigned i)
{
	return b[i / 8] & (0x80 >> (i % 8));
}

/* A netmask's prefix length, or -1 when its ones do not run unbroken from the top. */
static int mask_prefix(const uint8_t *b, unsigned bits)
{
	unsigned n = 0;
	while (n < bits && bit_set(b, n))
		n++;
	for (unsigned i = n; i < bits; i++)
		if (bit_set(b, i))
			return -1;
	return (int)n;
}

/* What follows the '/': a prefix length or a netmask of the address's family. */
static int parse_prefix(struct xc_parser *p, unsigned line, const char *name, const char *m,
			int family, unsigned *prefix)
{
	unsigned bits = family_bits(family);
	if (*m && strspn(m, "0123456789") == strlen(m)) {
		unsigned v = strlen(m) <= 3 ? (unsigned)atoi(m) : bits + 1;
		if (v > bits)
			return xc_fail(p, line, "'%s': prefix /%s is out of range (0..%u)", name, m,
				       bits);
		*prefix = v;
		return 0;
	}
	struct xc_addr mask;
	if (*m && inet_pton(family, m, mask.b) == 1) {
		int v = mask_prefix(mask.b, bits);
		if (v < 0)
			return xc_fail(p, line, "'%s': netmask %s is not contiguous", name, m);
		*prefix = (unsigned)v;
		return 0;
	}
	return xc_fail(p, line, "'%s': /%s is neither a prefix length (0..%u) nor a netmask", name,
		       m, bits);
}

static int parse_network(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c)
{
	const char *slash = strrchr(name, '/');
	char *addr = strndup(name, (size_t)(slash - name));
	if (!addr)
		return xc_nomem(p, line);
	struct xc_addr net;
	bool numeric = parse_raw_address(addr, &net);
	free(addr);
	if (!numeric)
		return xc_fail(p, line,
			       "'%s': not a network (a numeric ADDRESS/PREFIX or ADDRESS/NETMASK)",
			       name);
	unsigned prefix = 0;
	if (parse_prefix(p, line, name, slash + 1, net.family, &prefix) < 0)
		return -1;
	struct xc_addr v4 = net;
	xc_addr_normalize(&v4);
	if (v4.family != net.family) {
		/* A v4-mapped network is stored as the IPv4 network it is, as its clients are. */
		if (prefix < 96)
			return xc_fail(p, line,
				       "'%s': a v4-mapped network needs a prefix of at least 96",
				       name);
		net = v4;
		prefix -= 96;
	}
	xc_addr_mask(&net, prefix);
	c->kind = XC_NET;
	c->prefix = prefix;
	return add_addr(c, &net) < 0 ? xc_nomem(p, line) : 0;
}

static int parse_wildcard(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c)
{
	for (const char *s = name; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("(),\"", *s))
			return xc_fail(p, line, "'%s': not a host name pattern", name);
	/* 192.168.1.* would only ever match a host whose reverse name is made of digits. */
	if (strpbrk(name, "0123456789") && strspn(name, "0123456789.*?[]-") == strlen(name) &&
	    xc_warn(p, line,
		    "'%s' is matched against host names, not addresses: for a range of addresses "
		    "write a network such as 192.168.1.0/24",
		    name) < 0)
		return -1;
	c->kind = XC_WILDCARD;
	c->pattern = strdup(name);
	if (!c->pattern)
		return xc_nomem(p, line);
	for (char *s = c->pattern; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	return 0;
}

static bool valid_hostname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-._", *s))
			return false;
	return true;
}

static int resolve(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0)
		return xc_fail(p, line, "cannot resolve host '%s': %s", name,
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	int ret = 0;
	for (const struct addrinfo *ai = res; ai && ret == 0; ai = ai->ai_next) {
		struct xc_addr a;
		if (xc_addr_from_sockaddr(ai->ai_addr, &a) && add_addr(c, &a) < 0)
			ret = xc_nomem(p, line);
	}
	freeaddrinfo(res);
	if (ret == 0 && c->naddrs == 0)
		ret = xc_fail(p, line, "host '%s' has no IPv4 or IPv6 address", name);
	return ret;
}

static int parse_host(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c)
{
	struct xc_addr a;
	c->kind = XC_HOST;
	if (parse_raw_address(name, &a)) {
		xc_addr_normalize(&a);
		return add_addr(c, &a) < 0 ? xc_nomem(p, line) : 0;
	}
	/* getaddrinfo would read "10.1" as 10.0.0.1 (inet_aton): refuse it rather than guess. */
	if (strspn(name, "0123456789.") == strlen(name))
		return xc_fail(p, line, "'%s': not an IPv4 address (four numbers with dots)", name);
	if (!valid_hostname(name))
		return xc_fail(p, line, "'%s': not a host name, address, network or pattern", name);
	return resolve(p, line, name, c);
}

int xc_parse_client(struct xc_parser *p, unsigned line, const char *name, struct xc_client *c)
{
	c->line = line;
	c->text = strdup(name);
	if (!c->text)
		return xc_nomem(p, line);
	if (!*name)
		return xc_fail(p, line, "empty client name");
	if (strcmp(name, "*") == 0) {
		c->kind = XC_ANY;
		return 0;
	}
	if (name[0] == '@')
		return xc_fail(p, line, "%s: netgroups are not supported", name);
	if (strchr(name, '/'))
		return parse_network(p, line, name, c);
	if (strpbrk(name, "*?["))
		return parse_wildcard(p, line, name, c);
	return parse_host(p, line, name, c);
}

static bool is_numeric(const char *s)
{
	struct xc_addr a;
	return parse_raw_address(s, &a);
}

bool xc_same_client(const struct xc_client *a, const struct xc_client *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case XC_ANY:
		return true;
	case XC_WILDCARD:
		return strcmp(a->pattern, b->pattern) == 0;
	case XC_NET:
		return a->prefix == b->prefix && xc_addr_equal(&a->addrs[0], &b->addrs[0]);
	default:
		/* A name and an address of it are two entries: line order decides between them. */
		if (is_numeric(a->text) && is_numeric(b->text))
			return xc_addr_equal(&a->addrs[0], &b->addrs[0]);
		return strcasecmp(a->text, b->text) == 0;
	}
}

void xc_client_free(struct xc_client *c)
{
	free(c->text);
	free(c->addrs);
	free(c->pattern);
	memset(c, 0, sizeof(*c));
}
