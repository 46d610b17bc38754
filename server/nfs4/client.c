/*
 * Client records (RFC 8881 2.4, 18.35 EXCHANGE_ID, 18.50 DESTROY_CLIENTID)
 * and their leases. A clientid is the boot verifier (high 32 bits) and a
 * counter: one from an earlier run is recognised and answered
 * NFS4ERR_STALE_CLIENTID. A record leaves the tables at once
 * (st4_client_unhash_locked, under srv->lock) and its state goes after
 * (st4_client_finish, which takes each file's lock): nothing finds it in
 * between, and requests already holding it see it dead.
 */
#include "st4_int.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

#define EXCHGID_FLAG_MASK_A 0x40070103u /* the flags a client may send */

static unsigned client_bucket(uint64_t clientid)
{
	return (unsigned)(clientid ^ clientid >> 32) % ST4_CLIENT_BUCKETS;
}

struct st4_client *st4_client_by_id_locked(struct st4_server *srv, uint64_t clientid)
{
	if ((uint32_t)(clientid >> 32) != srv->boot) {
		log_debug("nfs4: clientid %016llx is from an earlier run",
			  (unsigned long long)clientid);
		return NULL;
	}
	for (struct st4_client *c = srv->client_hash[client_bucket(clientid)]; c; c = c->hnext)
		if (c->clientid == clientid)
			return c;
	return NULL;
}

static bool principal_eq(const struct st4_principal *a, const struct st4_principal *b)
{
	return a->flavor == b->flavor && a->uid == b->uid;
}

static bool owner_eq(const struct st4_client *c, const uint8_t *ownerid, uint32_t len)
{
	return c->ownerid_len == len && memcmp(c->ownerid, ownerid, len) == 0;
}

static struct st4_client *by_owner_locked(struct st4_server *srv, const uint8_t *ownerid,
					  uint32_t len, bool confirmed)
{
	for (struct st4_client *c = srv->clients; c; c = c->next)
		if (c->confirmed == confirmed && owner_eq(c, ownerid, len))
			return c;
	return NULL;
}

bool st4_client_expired_locked(const struct st4_server *srv, const struct st4_client *c,
			       uint64_t now)
{
	return !c->dead && c->inflight == 0 && now - c->renewed_ns > st4_lease_ns(srv);
}

/* RFC 8881 18.35.5 case 3: a record "in use" keeps its owner from another principal. */
static bool has_live_state_locked(const struct st4_server *srv, const struct st4_client *c,
				  uint64_t now)
{
	return !st4_client_expired_locked(srv, c, now) &&
	       (c->nsessions > 0 || c->nstates > 0 || c->inflight > 0);
}

static void remember_expired_locked(struct st4_server *srv, uint64_t clientid)
{
	srv->expired[srv->expired_next] = clientid;
	srv->expired_next = (srv->expired_next + 1) % ST4_EXPIRED_RING;
}

bool st4_was_expired_locked(const struct st4_server *srv, uint64_t clientid)
{
	for (unsigned i = 0; i < ST4_EXPIRED_RING; i++)
		if (srv->expired[i] == clientid)
			return true;
	return false;
}

static void client_free(struct st4_client *c)
{
	free(c->ownerid);
	free(c);
}

void st4_client_put_locked(struct st4_server *srv, struct st4_client *c)
{
	(void)srv;
	if (--c->refs == 0)
		client_free(c);
}

static uint64_t new_clientid_locked(struct st4_server *srv)
{
	for (;;) {
		uint32_t n = ++srv->next_client;
		uint64_t id = (uint64_t)srv->boot << 32 | n;
		if (n != 0 && !st4_client_by_id_locked(srv, id))
			return id;
	}
}

static struct st4_client *client_new_locked(struct st4_server *srv,
					    const struct st4_exchange_id_args *a, uint64_t now)
{
	struct st4_client *c = calloc(1, sizeof(*c));
	uint8_t *owner = malloc(a->ownerid_len);
	if (!c || !owner) {
		free(c);
		free(owner);
		return NULL;
	}
	memcpy(owner, a->ownerid, a->ownerid_len);
	c->ownerid = owner;
	c->ownerid_len = a->ownerid_len;
	memcpy(c->verifier, a->verifier, sizeof(c->verifier));
	c->principal = a->principal;
	c->clientid = new_clientid_locked(srv);
	c->cs_seq = 1;
	c->renewed_ns = now;
	c->refs = 1; /* the tables' */
	c->next = srv->clients;
	if (srv->clients)
		srv->clients->prev = c;
	srv->clients = c;
	unsigned b = client_bucket(c->clientid);
	c->hnext = srv->client_hash[b];
	srv->client_hash[b] = c;
	srv->nclients++;
	return c;
}

void st4_client_unhash_locked(struct st4_server *srv, struct st4_client *c, bool expired)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	for (struct st4_client **pp = &srv->client_hash[client_bucket(c->clientid)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	srv->nclients--;
	if (expired) {
		remember_expired_locked(srv, c->clientid);
		log_info("nfs4: client %016llx: lease expired, its state is gone",
			 (unsigned long long)c->clientid);
	}
	while (c->sessions)
		st4_session_unhash_locked(srv, c->sessions);
}

/* Kill every state of a client that left the tables, then drop the tables' reference. */
void st4_client_finish(struct st4_server *srv, struct st4_client *c)
{
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		struct st4_state *st = c->states;
		if (st)
			st->refs++;
		pthread_mutex_unlock(&srv->lock);
		if (!st)
			break;
		struct st4_file *f = st->file;
		pthread_mutex_lock(&f->lock);
		st4_state_kill(srv, st);
		pthread_mutex_unlock(&f->lock);
		st4_state_put(srv, st);
	}
	if (c->confirmed)
		st4_db_sync(srv, c->ownerid, c->ownerid_len);
	pthread_mutex_lock(&srv->lock);
	st4_client_put_locked(srv, c);
	pthread_mutex_unlock(&srv->lock);
}

void st4_client_free_all(struct st4_server *srv)
{
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		struct st4_client *c = srv->clients;
		if (c)
			st4_client_unhash_locked(srv, c, false);
		pthread_mutex_unlock(&srv->lock);
		if (!c)
			return;
		/* The records stay: a restart finds them for its grace period. */
		c->confirmed = false;
		st4_client_finish(srv, c);
	}
}

/* A record whose lease ran out is as good as gone: take it out now (finished by the caller). */
static struct st4_client *drop_if_expired_locked(struct st4_server *srv, struct st4_client *c,
						 uint64_t now, struct st4_client **victim)
{
	if (c && !*victim && st4_client_expired_locked(srv, c, now)) {
		st4_client_unhash_locked(srv, c, true);
		*victim = c;
		return NULL;
	}
	return c;
}

static void fill_res(const struct st4_client *c, struct st4_exchange_id_res *res)
{
	res->clientid = c->clientid;
	res->sequenceid = c->cs_seq;
	res->flags = ST4_EXCHGID_USE_NON_PNFS | (c->confirmed ? ST4_EXCHGID_CONFIRMED_R : 0);
}

/* 18.35.5's cases 6 to 9: the client asks to update its confirmed record. */
static enum st4_status update_locked(struct st4_client *conf, const struct st4_exchange_id_args *a,
				     struct st4_exchange_id_res *res)
{
	if (!conf)
		return ST4_ERR_NOENT;
	if (!principal_eq(&conf->principal, &a->principal))
		return ST4_ERR_PERM;
	if (memcmp(conf->verifier, a->verifier, sizeof(a->verifier)) != 0)
		return ST4_ERR_NOT_SAME;
	conf->flags = a->flags;
	fill_res(conf, res);
	return ST4_OK;
}

static enum st4_status exchange_locked(struct st4_server *srv, const struct st4_exchange_id_args *a,
				       struct st4_exchange_id_res *res, struct st4_client **victim)
{
	uint64_t now = st4_now(srv);
	struct st4_client *conf = by_owner_locked(srv, a->ownerid, a->ownerid_len, true);
	conf = drop_if_expired_locked(srv, conf, now, victim);
	if (a->flags & ST4_EXCHGID_UPD_CONFIRMED_REC_A)
		return update_locked(conf, a, res);
	if (conf && principal_eq(&conf->principal, &a->principal) &&
	    memcmp(conf->verifier, a->verifier, sizeof(a->verifier)) == 0) {
		fill_res(conf, res); /* case 2: a retransmission, or asking again */
		return ST4_OK;
	}
	if (conf && !principal_eq(&conf->principal, &a->principal) &&
	    has_live_state_locked(srv, conf, now))
		return ST4_ERR_CLID_INUSE; /* case 3 */
	/*
	 * Cases 1, 3 without state, 4 (the client rebooted) and 5: a new
	 * unconfirmed record; a confirmed one goes when this one is
	 * confirmed, an unconfirmed one (no state, no sessions) now.
	 */
	struct st4_client *unconf = by_owner_locked(srv, a->ownerid, a->ownerid_len, false);
	if (unconf) {
		st4_client_unhash_locked(srv, unconf, false);
		st4_client_put_locked(srv, unconf);
	}
	if (srv->nclients >= srv->cfg.max_clients)
		return ST4_FULL;
	struct st4_client *c = client_new_locked(srv, a, now);
	if (!c)
		return ST4_ERR_DELAY;
	fill_res(c, res);
	return ST4_OK;
}

enum st4_status st4_exchange_id(struct st4_server *srv, const struct st4_exchange_id_args *a,
				struct st4_exchange_id_res *res)
{
	memset(res, 0, sizeof(*res));
	if (a->ownerid_len == 0 || a->ownerid_len > ST4_OPAQUE_LIMIT ||
	    (a->flags & ~EXCHGID_FLAG_MASK_A))
		return ST4_ERR_INVAL;
	enum st4_status st = ST4_OK;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct st4_client *victim = NULL;
		pthread_mutex_lock(&srv->lock);
		st = exchange_locked(srv, a, res, &victim);
		pthread_mutex_unlock(&srv->lock);
		if (victim)
			st4_client_finish(srv, victim);
		if (st != ST4_FULL || attempt > 0)
			break;
		st4_reap(srv); /* full: expired clients make room first */
	}
	if (st == ST4_FULL)
		log_warn("nfs4: %u clients, the most kept: EXCHANGE_ID refused",
			 srv->cfg.max_clients);
	return st;
}

enum st4_status st4_destroy_clientid(struct st4_server *srv, uint64_t clientid)
{
	pthread_mutex_lock(&srv->lock);
	struct st4_client *c = st4_client_by_id_locked(srv, clientid);
	enum st4_status st = ST4_OK;
	if (!c)
		st = ST4_ERR_STALE_CLIENTID;
	else if (c->nsessions > 0 || c->nstates > 0 || c->inflight > 0)
		st = ST4_ERR_CLIENTID_BUSY;
	else
		st4_client_unhash_locked(srv, c, false);
	pthread_mutex_unlock(&srv->lock);
	if (st == ST4_OK)
		st4_client_finish(srv, c);
	return st;
}

/* One state revoked: its locks leave the file, its share bits stop counting. File lock held. */
static void revoke_one(struct st4_server *srv, struct st4_state *st)
{
	if (st->dead || st->revoked)
		return;
	if (st->kind == ST4_KIND_LOCK)
		st4_lockstate_release(srv, st);
	st->access = st->deny = 0;
	st->revoked = true;
	pthread_mutex_lock(&srv->lock);
	st->client->nrevoked++;
	pthread_mutex_unlock(&srv->lock);
}

enum st4_status st4_client_revoke(struct st4_server *srv, uint64_t clientid)
{
	pthread_mutex_lock(&srv->lock);
	struct st4_client *c = st4_client_by_id_locked(srv, clientid);
	if (!c) {
		pthread_mutex_unlock(&srv->lock);
		return ST4_ERR_STALE_CLIENTID;
	}
	/* The states as they are now, each with a reference; revoking takes each file's lock. */
	unsigned n = 0;
	struct st4_state **all = calloc(c->nstates + 1, sizeof(*all));
	if (!all) {
		pthread_mutex_unlock(&srv->lock);
		return ST4_ERR_DELAY;
	}
	for (struct st4_state *st = c->states; st; st = st->cnext) {
		st->refs++;
		all[n++] = st;
	}
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&all[i]->file->lock);
		revoke_one(srv, all[i]);
		pthread_mutex_unlock(&all[i]->file->lock);
		st4_state_put(srv, all[i]);
	}
	free(all);
	log_info("nfs4: client %016llx: every open and lock revoked", (unsigned long long)clientid);
	return ST4_OK;
}
