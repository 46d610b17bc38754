/*
 * The exports file (exports(5) syntax): parsing, validation and client
 * matching. Nothing here opens an export: the export table does that from
 * the parsed result. Host names are resolved while parsing (at start and
 * at every reload), never per request.
 *
 *   /srv/photos   192.168.1.0/24(rw,all_squash) laptop(ro)
 *   "/srv/my docs" -ro,insecure *.lan fd00::/64(rw)
 *   /srv/backup   10.0.0.5(rw,no_root_squash,fsid=17,name=bak) \
 *                 10.0.0.6(ro)
 */
#ifndef LOOPNFS_EXPORTS_CONF_H
#define LOOPNFS_EXPORTS_CONF_H

#include "export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define XC_CLIENTS_MAX 64     /* clients on one export line */
#define XC_LINE_MAX 65536     /* bytes in one line (physical, or joined by backslashes) */
#define XC_OPTS_MAX 128	      /* a buffer this long always holds xc_format_opts' words */
#define XC_ANON_DEFAULT 65534 /* anonuid and anongid unless given (knfsd's nobody) */

/* Kinds in precedence order (exports(5)): a host beats a network beats a wildcard beats "*". */
enum xc_kind {
	XC_HOST,     /* an IPv4/IPv6 address, or a host name resolved to its addresses */
	XC_NET,	     /* CIDR (192.168.1.0/24, fd00::/64) or addr/netmask */
	XC_WILDCARD, /* a name pattern with * ? [...], matched against the verified reverse name */
	XC_ANY,	     /* "*" */
};

/* An address: IPv4 as 4 bytes (family AF_INET), IPv6 as 16; v4-mapped IPv6 is IPv4. */
struct xc_addr {
	int family;
	uint8_t b[16];
};

struct xc_client {
	enum xc_kind kind;
	char *text; /* as written ("192.168.1.0/24", "*.lan"): EXPORT lists it */
	unsigned line;
	struct export_opts opts;
	struct xc_addr *addrs; /* XC_HOST: every address of the host; XC_NET: the network */
	unsigned naddrs;
	unsigned prefix; /* XC_NET: prefix length in bits */
	char *pattern;	 /* XC_WILDCARD: lower-case pattern */
};

struct xc_export {
	char *path;	 /* canonical absolute path (realpath of what was written) */
	char *name;	 /* name=NAME, or NULL: the basename of path */
	uint32_t fsid;	 /* fsid=N (or a hash of fsid=UUID); 0: derived from the path */
	bool crossmnt;	 /* crossmnt or nohide on the line */
	bool encrypt;	 /* encrypt=reverse: gocryptfs -reverse's read-only encrypted view */
	char *passfile;	 /* passfile=FILE: the view's passphrase (else the command line's) */
	char **excludes; /* exclude=PATTERN, in order: plaintext paths left out of the view */
	unsigned nexcludes;
	unsigned line;
	struct xc_client *clients;
	unsigned nclients;
};

struct xc_file {
	char *file; /* the name errors and warnings give */
	struct xc_export *ex;
	unsigned n;
	char **warnings; /* "FILE:LINE: ..." for things accepted but worth a word */
	unsigned nwarnings;
};

/*
 * Parse a whole file (or text, named fname in messages). 0 and *out filled,
 * or -1 with "FILE:LINE: what is wrong" in err and *out empty. Checks what
 * can be checked without opening anything for serving: syntax, every
 * option, each directory exists, no path or name given twice, fsid values
 * distinct.
 */
int xc_parse_file(const char *path, struct xc_file *out, char *err, size_t errlen);
int xc_parse_text(const char *fname, const char *text, struct xc_file *out, char *err,
		  size_t errlen);
void xc_free(struct xc_file *f);
/* Where e shows under the synthesized root: its name=, else the basename of its path. */
const char *xc_export_name(const struct xc_export *e);

/* sa normalised (v4-mapped IPv6 -> IPv4); false for families other than AF_INET/AF_INET6. */
bool xc_addr_from_sockaddr(const struct sockaddr *sa, struct xc_addr *out);

/*
 * The client entry of e that applies to addr, by exports(5) precedence:
 * hosts in line order, then networks (longest prefix first, then line
 * order), then wildcards in line order (only when revname, the client's
 * verified reverse name, is known), then "*". NULL: not exported to it.
 */
const struct xc_client *xc_match(const struct xc_export *e, const struct xc_addr *addr,
				 const char *revname);
/* Does any export name a client by wildcard (so connections need their reverse name)? */
bool xc_needs_names(const struct xc_file *f);
/* Could any client outside the loopback addresses reach an export? */
bool xc_reaches_remote(const struct xc_file *f);
/* The table as --check prints it: one line per export and client with its options. */
void xc_print(const struct xc_file *f, FILE *out);
/* Options as exports(5) would write them ("rw,root_squash,secure,sync,anonuid=65534,..."). */
void xc_format_opts(const struct export_opts *o, char *buf, size_t len);

#endif
