/*
 * Sessions (RFC 8881 2.10, 18.36 CREATE_SESSION, 18.46 SEQUENCE, 18.37
 * DESTROY_SESSION, 18.34 BIND_CONN_TO_SESSION): the fore channel's slot
 * table is what gives a COMPOUND exactly-once semantics. A slot remembers
 * the seqid of its last request and, when the client asked for it, that
 * request's whole encoded reply; a retransmission gets those bytes back
 * without running anything again. A session id is the clientid, the boot
 * verifier and a counter.
 */
#include "st4_int.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

/* A fore channel smaller than this cannot carry SEQUENCE and one operation. */
#define MIN_CHANNEL_SIZE 256

static unsigned session_bucket(const uint8_t *id)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < ST4_SESSIONID_SIZE; i++)
		h = (h ^ id[i]) * 16777619u;
	return h % ST4_SESSION_BUCKETS;
}

static struct st4_session *session_find_locked(struct st4_server *srv, const uint8_t *id)
{
	for (struct st4_session *s = srv->session_hash[session_bucket(id)]; s; s = s->hnext)
		if (memcmp(s->id, id, ST4_SESSIONID_SIZE) == 0)
			return s;
	return NULL;
}

static void session_free_locked(struct st4_server *srv, struct st4_session *s)
{
	srv->reply_cache_bytes -= s->reserved;
	for (uint32_t i = 0; i < s->fore.maxrequests; i++)
		free(s->slots[i].reply);
	free(s->slots);
	pthread_mutex_destroy(&s->lock);
	st4_client_put_locked(srv, s->client);
	free(s);
}

void st4_session_put_locked(struct st4_server *srv, struct st4_session *s)
{
	if (--s->refs == 0)
		session_free_locked(srv, s);
}

void st4_session_unhash_locked(struct st4_server *srv, struct st4_session *s)
{
	if (s->dead)
		return;
	s->dead = true;
	for (struct st4_session **pp = &srv->session_hash[session_bucket(s->id)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	struct st4_client *c = s->client;
	for (struct st4_session **pp = &c->sessions; *pp; pp = &(*pp)->cnext) {
		if (*pp == s) {
			*pp = s->cnext;
			break;
		}
	}
	c->nsessions--;
	st4_session_put_locked(srv, s);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* The fore channel as the server will keep it: every limit the lower of both sides'. */
static enum st4_status negotiate_fore(const struct st4_config *cfg, const struct st4_chan_attrs *in,
				      struct st4_chan_attrs *out)
{
	if (in->maxrequests == 0 || in->maxoperations == 0)
		return ST4_ERR_INVAL;
	if (in->maxrequestsize < MIN_CHANNEL_SIZE || in->maxresponsesize < MIN_CHANNEL_SIZE)
		return ST4_ERR_TOOSMALL;
	out->headerpadsize = 0;
	out->maxrequestsize = min_u32(in->maxrequestsize, cfg->max_request_size);
	out->maxresponsesize = min_u32(in->maxresponsesize, cfg->max_response_size);
	out->maxresponsesize_cached =
		min_u32(min_u32(in->maxresponsesize_cached, cfg->max_response_cached),
			out->maxresponsesize);
	out->maxoperations = min_u32(in->maxoperations, cfg->max_operations);
	out->maxrequests = min_u32(in->maxrequests, cfg->max_slots);
	return ST4_OK;
}

/*
 * The reply cache's share of the session: as many of the slots asked for as
 * the budget left holds (each may keep maxresponsesize_cached bytes); 0
 * when not even one fits. Reserved in srv->reply_cache_bytes.
 */
static uint64_t reserve_slots_locked(struct st4_server *srv, struct st4_chan_attrs *fore)
{
	uint64_t per_slot = fore->maxresponsesize_cached ? fore->maxresponsesize_cached : 1;
	uint64_t left = srv->cfg.max_reply_cache_bytes - srv->reply_cache_bytes;
	uint64_t fit = left / per_slot;
	if (fit == 0)
		return 0;
	if (fit < fore->maxrequests) {
		log_info("nfs4: reply cache budget: a session gets %llu slots of %u",
			 (unsigned long long)fit, fore->maxrequests);
		fore->maxrequests = (uint32_t)fit;
	}
	uint64_t bytes = per_slot * fore->maxrequests;
	srv->reply_cache_bytes += bytes;
	return bytes;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void bind_conn_locked(struct st4_session *s, uint64_t conn_id, enum st4_conn_dir_res dir)
{
	for (unsigned i = 0; i < s->nconns; i++) {
		if (s->conns[i].id == conn_id) {
			s->conns[i].dir |= dir;
			return;
		}
	}
	/* Bookkeeping only, bounded: the oldest binding makes room. */
	if (s->nconns == ST4_SESSION_CONNS) {
		memmove(&s->conns[0], &s->conns[1], (ST4_SESSION_CONNS - 1) * sizeof(s->conns[0]));
		s->nconns--;
	}
	s->conns[s->nconns++] = (struct st4_conn){ .id = conn_id, .dir = dir };
}

static bool conn_bound_locked(const struct st4_session *s, uint64_t conn_id)
{
	for (unsigned i = 0; i < s->nconns; i++)
		if (s->conns[i].id == conn_id)
			return true;
	return false;
}

enum st4_status st4_session_new_locked(struct st4_server *srv, struct st4_client *c,
				       const struct st4_create_session_args *a,
				       struct st4_create_session_res *res)
{
	struct st4_chan_attrs fore;
	enum st4_status st = negotiate_fore(&srv->cfg, &a->fore, &fore);
	if (st != ST4_OK)
		return st;
	if (c->nsessions >= srv->cfg.max_sessions_per_client)
		return ST4_FULL;
	uint64_t reserved = reserve_slots_locked(srv, &fore);
	if (reserved == 0)
		return ST4_FULL;
	struct st4_session *s = calloc(1, sizeof(*s));
	struct st4_slot *slots = calloc(fore.maxrequests, sizeof(*slots));
	if (!s || !slots) {
		srv->reply_cache_bytes -= reserved;
		free(s);
		free(slots);
		return ST4_FULL;
	}
	s->reserved = reserved;
	s->slots = slots;
	s->fore = fore;
	s->back = a->back;
	s->back.headerpadsize = 0;
	s->flags = a->flags & ST4_CREATE_SESSION_CONN_BACK_CHAN;
	put_be(s->id, c->clientid, 8);
	put_be(s->id + 8, srv->boot, 4);
	put_be(s->id + 12, ++srv->next_session, 4);
	pthread_mutex_init(&s->lock, NULL);
	bind_conn_locked(s, a->conn_id, s->flags ? ST4_CDFS4_BOTH : ST4_CDFS4_FORE);
	s->client = c;
	c->refs++;
	s->refs = 1; /* the tables' */
	unsigned b = session_bucket(s->id);
	s->hnext = srv->session_hash[b];
	srv->session_hash[b] = s;
	s->cnext = c->sessions;
	c->sessions = s;
	c->nsessions++;

	memcpy(res->sessionid, s->id, ST4_SESSIONID_SIZE);
	res->sequence = a->sequence;
	res->flags = s->flags;
	res->fore = s->fore;
	res->back = s->back;
	return ST4_OK;
}

/* What CREATE_SESSION does once its sequence is right. srv->lock held. */
static enum st4_status create_locked(struct st4_server *srv, struct st4_client *c,
				     const struct st4_create_session_args *a,
				     struct st4_create_session_res *res, struct st4_client **old)
{
	enum st4_status st = st4_session_new_locked(srv, c, a, res);
	if (st == ST4_FULL)
		return st; /* not cached: the retry should run again */
	c->cs_seq++;
	c->cs.valid = true;
	c->cs.status = st;
	c->cs.res = *res;
	if (st != ST4_OK)
		return st;
	c->renewed_ns = st4_now(srv);
	if (!c->confirmed) {
		/* 18.35.5 case 4: the client rebooted; what it had goes now. */
		for (struct st4_client *o = srv->clients; o; o = o->next) {
			if (o != c && o->confirmed && o->ownerid_len == c->ownerid_len &&
			    memcmp(o->ownerid, c->ownerid, c->ownerid_len) == 0) {
				st4_client_unhash_locked(srv, o, false);
				*old = o;
				break;
			}
		}
		c->confirmed = true;
		st4_grace_client_confirmed_locked(srv, c);
	}
	return ST4_OK;
}

enum st4_status st4_create_session(struct st4_server *srv, const struct st4_create_session_args *a,
				   struct st4_create_session_res *res)
{
	memset(res, 0, sizeof(*res));
	struct st4_client *old = NULL;
	enum st4_status st;
	bool persist = false;
	pthread_mutex_lock(&srv->lock);
	struct st4_client *c = st4_client_by_id_locked(srv, a->clientid);
	if (c && st4_client_expired_locked(srv, c, st4_now(srv))) {
		st4_client_unhash_locked(srv, c, true);
		old = c;
		c = NULL;
	}
	if (!c) {
		st = ST4_ERR_STALE_CLIENTID;
	} else if (c->principal.flavor != a->principal.flavor ||
		   c->principal.uid != a->principal.uid) {
		st = ST4_ERR_CLID_INUSE;
	} else if (c->cs.valid && a->sequence == c->cs_seq - 1) {
		*res = c->cs.res; /* a replay */
		st = c->cs.status;
	} else if (a->sequence != c->cs_seq) {
		st = ST4_ERR_SEQ_MISORDERED;
	} else {
		bool was_confirmed = c->confirmed;
		st = create_locked(srv, c, a, res, &old);
		persist = st == ST4_OK && !was_confirmed;
		if (persist)
			c->refs++;
	}
	pthread_mutex_unlock(&srv->lock);
	if (old)
		st4_client_finish(srv, old); /* its record sync writes c's if c is confirmed */
	if (persist) {
		if (!old)
			st4_db_sync(srv, c->ownerid, c->ownerid_len);
		pthread_mutex_lock(&srv->lock);
		st4_client_put_locked(srv, c);
		pthread_mutex_unlock(&srv->lock);
	}
	return st;
}

/* The slot table's verdict on one SEQUENCE (2.10.6.1). Both locks held. */
static enum st4_status slot_check_locked(struct st4_session *s, const struct st4_sequence_args *a,
					 struct st4_sequence_res *res)
{
	if (a->slotid >= s->fore.maxrequests)
		return ST4_ERR_BADSLOT;
	struct st4_slot *slot = &s->slots[a->slotid];
	if (slot->inuse)
		return a->sequenceid == slot->seqid ? ST4_ERR_DELAY : ST4_ERR_SEQ_MISORDERED;
	if (slot->used && a->sequenceid == slot->seqid) {
		if (!slot->cached)
			return ST4_ERR_RETRY_UNCACHED_REP;
		uint8_t *copy = malloc(slot->reply_len ? slot->reply_len : 1);
		if (!copy)
			return ST4_ERR_DELAY;
		memcpy(copy, slot->reply, slot->reply_len);
		res->replay = copy;
		res->replay_len = slot->reply_len;
		return ST4_OK;
	}
	if (a->sequenceid != slot->seqid + 1)
		return ST4_ERR_SEQ_MISORDERED;
	slot->seqid = a->sequenceid;
	slot->used = true;
	slot->inuse = true;
	slot->cached = false;
	s->inflight++;
	return ST4_OK;
}

enum st4_status st4_sequence(struct st4_server *srv, const struct st4_sequence_args *a,
			     struct st4_sequence_res *res, struct st4_slot_ref *ref)
{
	memset(res, 0, sizeof(*res));
	memset(ref, 0, sizeof(*ref));
	pthread_mutex_lock(&srv->lock);
	struct st4_session *s = session_find_locked(srv, a->sessionid);
	if (!s) {
		pthread_mutex_unlock(&srv->lock);
		return ST4_ERR_BADSESSION;
	}
	struct st4_client *c = s->client;
	uint64_t now = st4_now(srv);
	if (st4_client_expired_locked(srv, c, now)) {
		/* The lease ran out before the sweep saw it: the state goes now. */
		st4_client_unhash_locked(srv, c, true);
		pthread_mutex_unlock(&srv->lock);
		st4_client_finish(srv, c);
		return ST4_ERR_BADSESSION;
	}
	pthread_mutex_lock(&s->lock);
	enum st4_status st = slot_check_locked(s, a, res);
	if (st == ST4_OK)
		bind_conn_locked(s, a->conn_id, ST4_CDFS4_FORE);
	pthread_mutex_unlock(&s->lock);
	if (st == ST4_OK) {
		res->highest_slotid = s->fore.maxrequests - 1;
		res->target_highest_slotid = s->fore.maxrequests - 1;
		res->status_flags = c->nrevoked ? ST4_SEQ4_STATUS_ADMIN_STATE_REVOKED : 0;
		c->renewed_ns = now;
		if (!res->replay) {
			c->inflight++;
			s->refs++;
			ref->session = s;
			ref->client = c;
			ref->slotid = a->slotid;
			ref->cachethis = a->cachethis;
		}
	}
	pthread_mutex_unlock(&srv->lock);
	return st;
}

uint32_t st4_slot_cache_limit(const struct st4_slot_ref *ref)
{
	return ref->session->fore.maxresponsesize_cached;
}

enum st4_status st4_slot_done(struct st4_server *srv, struct st4_slot_ref *ref, const void *reply,
			      uint32_t len)
{
	struct st4_session *s = ref->session;
	enum st4_status st = ST4_OK;
	if (!s)
		return ST4_ERR_SERVERFAULT;
	pthread_mutex_lock(&s->lock);
	struct st4_slot *slot = &s->slots[ref->slotid];
	free(slot->reply);
	slot->reply = NULL;
	slot->reply_len = 0;
	slot->cached = false;
	if (ref->cachethis && len > s->fore.maxresponsesize_cached) {
		st = ST4_ERR_REP_TOO_BIG_TO_CACHE;
	} else if (ref->cachethis) {
		slot->reply = malloc(len ? len : 1);
		if (slot->reply) {
			memcpy(slot->reply, reply, len);
			slot->reply_len = len;
			slot->cached = true;
		}
	}
	slot->inuse = false;
	s->inflight--;
	pthread_mutex_unlock(&s->lock);

	pthread_mutex_lock(&srv->lock);
	ref->client->inflight--;
	ref->client->renewed_ns = st4_now(srv);
	st4_session_put_locked(srv, s);
	pthread_mutex_unlock(&srv->lock);
	memset(ref, 0, sizeof(*ref));
	return st;
}

enum st4_status st4_destroy_session(struct st4_server *srv, const uint8_t *sessionid,
				    const struct st4_slot_ref *cur, uint64_t conn_id)
{
	enum st4_status st = ST4_OK;
	pthread_mutex_lock(&srv->lock);
	struct st4_session *s = session_find_locked(srv, sessionid);
	if (!s) {
		pthread_mutex_unlock(&srv->lock);
		return ST4_ERR_BADSESSION;
	}
	bool own = cur && cur->session == s;
	pthread_mutex_lock(&s->lock);
	if (!own && !conn_bound_locked(s, conn_id))
		st = ST4_ERR_CONN_NOT_BOUND_TO_SESSION;
	else if (s->inflight > (own ? 1u : 0u))
		st = ST4_ERR_DELAY; /* other requests of the session still run */
	pthread_mutex_unlock(&s->lock);
	if (st == ST4_OK)
		st4_session_unhash_locked(srv, s);
	pthread_mutex_unlock(&srv->lock);
	return st;
}

enum st4_status st4_bind_conn(struct st4_server *srv, const uint8_t *sessionid, uint64_t conn_id,
			      enum st4_conn_dir dir, enum st4_conn_dir_res *granted)
{
	enum st4_conn_dir_res g;
	switch (dir) {
	case ST4_CDFC4_FORE:
		g = ST4_CDFS4_FORE;
		break;
	case ST4_CDFC4_BACK:
		g = ST4_CDFS4_BACK;
		break;
	case ST4_CDFC4_FORE_OR_BOTH:
	case ST4_CDFC4_BACK_OR_BOTH:
		g = ST4_CDFS4_BOTH;
		break;
	default:
		return ST4_ERR_INVAL;
	}
	pthread_mutex_lock(&srv->lock);
	struct st4_session *s = session_find_locked(srv, sessionid);
	if (s) {
		pthread_mutex_lock(&s->lock);
		bind_conn_locked(s, conn_id, g);
		pthread_mutex_unlock(&s->lock);
		s->client->renewed_ns = st4_now(srv);
	}
	pthread_mutex_unlock(&srv->lock);
	if (!s)
		return ST4_ERR_BADSESSION;
	*granted = g;
	return ST4_OK;
}

void st4_conn_closed(struct st4_server *srv, uint64_t conn_id)
{
	pthread_mutex_lock(&srv->lock);
	for (unsigned b = 0; b < ST4_SESSION_BUCKETS; b++) {
		for (struct st4_session *s = srv->session_hash[b]; s; s = s->hnext) {
			pthread_mutex_lock(&s->lock);
			for (unsigned i = 0; i < s->nconns; i++) {
				if (s->conns[i].id == conn_id) {
					s->conns[i] = s->conns[--s->nconns];
					break;
				}
			}
			pthread_mutex_unlock(&s->lock);
		}
	}
	pthread_mutex_unlock(&srv->lock);
}

enum st4_status st4_session_info(struct st4_server *srv, const uint8_t *sessionid, uint64_t conn_id,
				 struct st4_chan_attrs *fore, bool *bound)
{
	pthread_mutex_lock(&srv->lock);
	struct st4_session *s = session_find_locked(srv, sessionid);
	if (s) {
		*fore = s->fore;
		pthread_mutex_lock(&s->lock);
		*bound = conn_bound_locked(s, conn_id);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&srv->lock);
	return s ? ST4_OK : ST4_ERR_BADSESSION;
}
