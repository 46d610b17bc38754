/*
 * Access decisions. A connection's view of a table is built once (the
 * exports file's precedence rules, over every export) and kept on the
 * connection until a reload publishes another table; each request then
 * only looks its export up in the view. Names for wildcard clients are
 * the connection's verified reverse name: the PTR record, confirmed by a
 * forward lookup that gives the same address back, so a client cannot
 * claim a name by controlling its own reverse zone alone.
 */
#define _GNU_SOURCE
#include "access.h"

#include "ebr.h"
#include "vfs.h"
#include "exports_conf.h"
#include "log.h"
#include "req.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct peer_cache {
	struct export_view *_Atomic view;
	pthread_mutex_t name_lock;
	atomic_bool name_done;
	char *name; /* verified reverse name, NULL if none */
};

struct peer_cache *peer_cache_new(void)
{
	struct peer_cache *pc = calloc(1, sizeof(*pc));
	if (pc)
		pthread_mutex_init(&pc->name_lock, NULL);
	return pc;
}

void peer_cache_free(struct peer_cache *pc)
{
	if (!pc)
		return;
	free(atomic_load(&pc->view));
	free(pc->name);
	pthread_mutex_destroy(&pc->name_lock);
	free(pc);
}

bool access_port_privileged(const struct rpc_peer *peer)
{
	const struct sockaddr *sa = (const struct sockaddr *)&peer->addr;
	unsigned port;
	if (sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	else
		return false;
	return port < 1024;
}

/* ---- the reverse name ---- */

static bool forward_confirms(const char *name, const struct xc_addr *want)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	bool ok = false;
	for (struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next) {
		struct xc_addr a;
		ok = xc_addr_from_sockaddr(ai->ai_addr, &a) && a.family == want->family &&
		     memcmp(a.b, want->b, a.family == AF_INET ? 4 : 16) == 0;
	}
	freeaddrinfo(res);
	return ok;
}

static char *verified_name(const struct rpc_peer *peer)
{
	struct xc_addr addr;
	char host[NI_MAXHOST];
	if (!xc_addr_from_sockaddr((const struct sockaddr *)&peer->addr, &addr) ||
	    getnameinfo((const struct sockaddr *)&peer->addr, peer->addrlen, host, sizeof(host),
			NULL, 0, NI_NAMEREQD) != 0)
		return NULL;
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!forward_confirms(host, &addr)) {
		log_info("the reverse name %s of a client does not resolve back to it: ignored",
			 host);
		return NULL;
	}
	return strdup(host);
}

/* Looked up once per connection, and only when a table names clients by wildcard. */
static const char *peer_name(const struct rpc_peer *peer, char **scratch)
{
	struct peer_cache *pc = peer->cache;
	if (!pc)
		return *scratch = verified_name(peer);
	pthread_mutex_lock(&pc->name_lock);
	if (!atomic_load(&pc->name_done)) {
		pc->name = verified_name(peer);
		atomic_store(&pc->name_done, true);
	}
	pthread_mutex_unlock(&pc->name_lock);
	return pc->name;
}

/* ---- views ---- */

void export_view_build(const struct export_table *t, const struct rpc_peer *peer,
		       const char *revname, struct export_view *v)
{
	memset(v, 0, sizeof(*v));
	v->tbl = t;
	v->gen = export_table_gen(t);
	struct xc_addr addr;
	if (!t || !xc_addr_from_sockaddr((const struct sockaddr *)&peer->addr, &addr))
		return;
	bool insecure = false;
	for (unsigned i = 0; i < export_table_count(t); i++) {
		const struct xc_client *c = xc_match(export_table_spec(t, i), &addr, revname);
		v->client[i] = c;
		if (c && !v->any)
			v->root_opts = c->opts; /* the identity the root's own lookups run as */
		if (c) {
			v->any = true;
			insecure |= c->opts.insecure;
		}
	}
	/* The synthesized root only lists names: read-only, and as open as the most open export. */
	v->root_opts.ro = true;
	v->root_opts.insecure = insecure;
}

static struct export_view *view_new(const struct export_table *t, const struct rpc_peer *peer)
{
	struct export_view *v = malloc(sizeof(*v));
	if (!v)
		return NULL;
	char *scratch = NULL;
	const char *name = export_table_needs_names(t) ? peer_name(peer, &scratch) : NULL;
	export_view_build(t, peer, name, v);
	free(scratch);
	return v;
}

const struct export_view *access_view(struct req *req)
{
	if (req->view)
		return req->view;
	const struct export_table *t = req_table(req);
	const struct rpc_peer *peer = req->call->peer;
	struct peer_cache *pc = peer->cache;
	if (!pc) {
		/* UDP: no connection to keep it on; one call's worth. */
		struct export_view *v = req_alloc(req, sizeof(*v));
		if (v) {
			char *scratch = NULL;
			const char *name =
				export_table_needs_names(t) ? peer_name(peer, &scratch) : NULL;
			export_view_build(t, peer, name, v);
			free(scratch);
		}
		return req->view = v;
	}
	for (;;) {
		struct export_view *v = atomic_load(&pc->view);
		if (v && v->tbl == t && v->gen == export_table_gen(t))
			return req->view = v;
		/* DNS is no work for an event thread: the first such call goes to a worker. */
		if (req->cached_only && export_table_needs_names(t) &&
		    !atomic_load(&pc->name_done)) {
			req->need_worker = true;
			return NULL;
		}
		struct export_view *nv = view_new(t, peer);
		if (!nv)
			return NULL;
		if (atomic_compare_exchange_strong(&pc->view, &v, nv)) {
			/* Another request of this connection may still be reading the old one. */
			ebr_retire(v, free);
			return req->view = nv;
		}
		free(nv);
	}
}

const struct export_opts *export_view_opts(const struct export_view *v, const struct export *ex)
{
	if (!v || !ex)
		return NULL;
	if (ex == export_table_root(v->tbl))
		return v->any ? &v->root_opts : NULL;
	for (unsigned i = 0; i < export_table_count(v->tbl); i++)
		if (export_table_get(v->tbl, i) == ex)
			return v->client[i] ? &v->client[i]->opts : NULL;
	return NULL;
}

bool export_view_shows(const struct export_view *v, const struct export *ex)
{
	return !v || export_view_opts(v, ex) != NULL;
}

int access_check(struct req *req, const struct export *ex, const struct export_opts **opts)
{
	const struct export_view *v = access_view(req);
	if (!v)
		return req->need_worker ? -EVFS_NEED_WORKER : -EJUKEBOX;
	const struct export_opts *o = export_view_opts(v, ex);
	if (!o)
		return -EACCES;
	if (!o->insecure && !access_port_privileged(req->call->peer))
		return -EPERM;
	*opts = o;
	return 0;
}
