/*
 * Stateids (RFC 8881 8.2). "other" is 12 bytes: the boot verifier, the
 * state's number (the table key, unique among live states) and the low half
 * of its clientid; the seqid starts at 1 and moves on with every change of
 * the state. A stateid of an earlier run is NFS4ERR_BAD_STATEID:
 * NFS4ERR_STALE_STATEID is moot in v4.1 (15.1.16.5), SEQUENCE finds the
 * restart first. A stateid of a client whose lease expired is
 * NFS4ERR_EXPIRED for as long as the client is remembered (a small ring),
 * NFS4ERR_BAD_STATEID after.
 */
#include "st4_int.h"

#include <stdlib.h>
#include <string.h>

const struct st4_stateid st4_invalid_stateid = { .seqid = UINT32_MAX };

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

enum st4_stateid_class st4_stateid_classify(const struct st4_stateid *sid)
{
	if (all_bytes(sid->other, sizeof(sid->other), 0)) {
		switch (sid->seqid) {
		case 0:
			return ST4_SID_ANONYMOUS;
		case 1:
			return ST4_SID_CURRENT;
		case UINT32_MAX:
			return ST4_SID_INVALID;
		default:
			return ST4_SID_BAD_SPECIAL;
		}
	}
	if (all_bytes(sid->other, sizeof(sid->other), 0xff))
		return sid->seqid == UINT32_MAX ? ST4_SID_BYPASS : ST4_SID_BAD_SPECIAL;
	return ST4_SID_REGULAR;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static unsigned state_bucket(uint32_t num)
{
	return (num * 2654435761u) % ST4_STATE_BUCKETS;
}

static struct st4_state *state_by_num_locked(struct st4_server *srv, uint32_t num)
{
	for (struct st4_state *st = srv->state_hash[state_bucket(num)]; st; st = st->hnext)
		if (st->num == num)
			return st;
	return NULL;
}

enum st4_status st4_state_new_locked(struct st4_server *srv, struct st4_client *c,
				     struct st4_file *f, enum st4_kind kind, const uint8_t *owner,
				     uint32_t owner_len, struct st4_state **out)
{
	if (c->dead)
		return ST4_ERR_EXPIRED;
	if (c->nstates >= srv->cfg.max_states_per_client)
		return ST4_FULL;
	struct st4_state *st = calloc(1, sizeof(*st));
	uint8_t *o = malloc(owner_len ? owner_len : 1);
	if (!st || !o) {
		free(st);
		free(o);
		return ST4_FULL;
	}
	memcpy(o, owner, owner_len);
	st->owner = o;
	st->owner_len = owner_len;
	/* Live states are bounded, so a free number turns up. */
	do
		st->num = ++srv->next_state;
	while (st->num == 0 || state_by_num_locked(srv, st->num));
	put_be32(st->other, srv->boot);
	put_be32(st->other + 4, st->num);
	put_be32(st->other + 8, (uint32_t)c->clientid);
	st->kind = kind;
	st->client = c;
	c->refs++;
	st->file = f;
	f->refs++;
	st->refs = 1; /* the table's */
	unsigned b = state_bucket(st->num);
	st->hnext = srv->state_hash[b];
	srv->state_hash[b] = st;
	st->cnext = c->states;
	if (c->states)
		c->states->cprev = st;
	c->states = st;
	c->nstates++;
	*out = st;
	return ST4_OK;
}

static void state_free_locked(struct st4_server *srv, struct st4_state *st)
{
	st4_client_put_locked(srv, st->client);
	st4_file_put_locked(srv, st->file);
	free(st->ranges);
	free(st->owner);
	free(st);
}

void st4_state_put_locked(struct st4_server *srv, struct st4_state *st)
{
	if (--st->refs == 0)
		state_free_locked(srv, st);
}

void st4_state_put(struct st4_server *srv, struct st4_state *st)
{
	pthread_mutex_lock(&srv->lock);
	st4_state_put_locked(srv, st);
	pthread_mutex_unlock(&srv->lock);
}

enum st4_status st4_state_find(struct st4_server *srv, struct st4_client *c,
			       const struct st4_stateid *sid, struct st4_state **out)
{
	if (st4_stateid_classify(sid) != ST4_SID_REGULAR || get_be32(sid->other) != srv->boot)
		return ST4_ERR_BAD_STATEID;
	enum st4_status status = ST4_OK;
	pthread_mutex_lock(&srv->lock);
	struct st4_state *st = state_by_num_locked(srv, get_be32(sid->other + 4));
	if (st && memcmp(st->other, sid->other, sizeof(st->other)) != 0)
		st = NULL;
	uint64_t clientid = (uint64_t)srv->boot << 32 | get_be32(sid->other + 8);
	if (c->dead)
		status = ST4_ERR_EXPIRED;
	else if (!st)
		status = st4_was_expired_locked(srv, clientid) ? ST4_ERR_EXPIRED
							       : ST4_ERR_BAD_STATEID;
	else if (st->client != c)
		status = ST4_ERR_BAD_STATEID;
	else
		st->refs++;
	pthread_mutex_unlock(&srv->lock);
	*out = status == ST4_OK ? st : NULL;
	return status;
}

enum st4_status st4_state_check(const struct st4_state *st, const struct st4_stateid *sid)
{
	if (st->dead)
		return ST4_ERR_BAD_STATEID;
	if (st->revoked)
		return st->kind == ST4_KIND_DELEG ? ST4_ERR_DELEG_REVOKED : ST4_ERR_ADMIN_REVOKED;
	if (sid->seqid == 0 || sid->seqid == st->seqid)
		return ST4_OK;
	return (int32_t)(sid->seqid - st->seqid) < 0 ? ST4_ERR_OLD_STATEID : ST4_ERR_BAD_STATEID;
}

void st4_state_bump(struct st4_state *st)
{
	if (++st->seqid == 0)
		st->seqid = 1;
}

void st4_state_sid(const struct st4_state *st, struct st4_stateid *out)
{
	out->seqid = st->seqid;
	memcpy(out->other, st->other, sizeof(out->other));
}

void st4_lockstate_release(struct st4_server *srv, struct st4_state *st)
{
	const struct st4_lock_hooks *h = srv->cfg.lock_hooks;
	if (st->owner_ctx && h)
		h->owner_close(srv->cfg.hooks_arg, st->owner_ctx);
	st->owner_ctx = NULL;
	pthread_mutex_lock(&srv->lock);
	st->client->nlocks -= st->nranges;
	pthread_mutex_unlock(&srv->lock);
	free(st->ranges);
	st->ranges = NULL;
	st->nranges = st->cap = 0;
}

static void file_unlink(struct st4_state *st)
{
	struct st4_state **head = st->kind == ST4_KIND_OPEN ? &st->file->opens : &st->file->locks;
	if (st->fprev)
		st->fprev->fnext = st->fnext;
	else if (*head == st)
		*head = st->fnext;
	if (st->fnext)
		st->fnext->fprev = st->fprev;
	st->fnext = st->fprev = NULL;
}

static void table_unlink_locked(struct st4_server *srv, struct st4_state *st)
{
	for (struct st4_state **pp = &srv->state_hash[state_bucket(st->num)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == st) {
			*pp = st->hnext;
			break;
		}
	}
	struct st4_client *c = st->client;
	if (st->cprev)
		st->cprev->cnext = st->cnext;
	else
		c->states = st->cnext;
	if (st->cnext)
		st->cnext->cprev = st->cprev;
	st->cnext = st->cprev = NULL;
	c->nstates--;
	if (st->revoked)
		c->nrevoked--;
}

void st4_state_kill(struct st4_server *srv, struct st4_state *st)
{
	if (st->dead)
		return;
	if (st->kind == ST4_KIND_OPEN) {
		/* Its lock stateids go first: each points at it. */
		struct st4_state *l = st->file->locks, *next;
		for (; l; l = next) {
			next = l->fnext;
			if (l->open == st)
				st4_state_kill(srv, l);
		}
	}
	if (st->kind == ST4_KIND_LOCK)
		st4_lockstate_release(srv, st);
	file_unlink(st);
	pthread_mutex_lock(&srv->lock);
	st->dead = true;
	table_unlink_locked(srv, st);
	st4_state_put_locked(srv, st);
	pthread_mutex_unlock(&srv->lock);
}

/* ---------------------------------------------------- TEST_STATEID, FREE_STATEID */

static enum st4_status test_one(struct st4_server *srv, struct st4_client *c,
				const struct st4_stateid *sid)
{
	struct st4_state *st;
	enum st4_status status = st4_state_find(srv, c, sid, &st);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&st->file->lock);
	status = st4_state_check(st, sid);
	pthread_mutex_unlock(&st->file->lock);
	st4_state_put(srv, st);
	return status;
}

void st4_test_stateids(struct st4_server *srv, struct st4_client *c, const struct st4_stateid *sids,
		       unsigned n, enum st4_status *status)
{
	for (unsigned i = 0; i < n; i++)
		status[i] = test_one(srv, c, &sids[i]);
}

enum st4_status st4_free_stateid(struct st4_server *srv, struct st4_client *c,
				 const struct st4_stateid *sid)
{
	struct st4_state *st;
	enum st4_status status = st4_state_find(srv, c, sid, &st);
	if (status != ST4_OK)
		return status;
	struct st4_file *f = st->file;
	pthread_mutex_lock(&f->lock);
	if (st->dead)
		status = ST4_ERR_BAD_STATEID;
	else if (!st->revoked && (st->kind == ST4_KIND_OPEN || st->nranges > 0))
		status = ST4_ERR_LOCKS_HELD;
	else
		st4_state_kill(srv, st);
	pthread_mutex_unlock(&f->lock);
	st4_state_put(srv, st);
	return status;
}

/* ----------------------------------------------------------------------- I/O */

/* May the anonymous stateid do this I/O: does an open of the file deny it? */
static enum st4_status check_share_deny(struct st4_server *srv, const struct st4_filekey *key,
					bool write)
{
	pthread_mutex_lock(&srv->lock);
	struct st4_file *f = st4_file_get_locked(srv, key, false);
	pthread_mutex_unlock(&srv->lock);
	if (!f)
		return ST4_OK;
	uint32_t deny = write ? ST4_SHARE_DENY_WRITE : ST4_SHARE_DENY_READ;
	enum st4_status status = ST4_OK;
	pthread_mutex_lock(&f->lock);
	for (struct st4_state *o = f->opens; o; o = o->fnext)
		if (o->deny & deny)
			status = ST4_ERR_LOCKED;
	pthread_mutex_unlock(&f->lock);
	st4_file_put(srv, f);
	return status;
}

enum st4_status st4_check_io(struct st4_server *srv, struct st4_client *c,
			     const struct st4_stateid *sid, const struct st4_filekey *file,
			     bool write)
{
	switch (st4_stateid_classify(sid)) {
	case ST4_SID_ANONYMOUS:
		return check_share_deny(srv, file, write);
	case ST4_SID_BYPASS:
		return write ? check_share_deny(srv, file, write) : ST4_OK;
	case ST4_SID_REGULAR:
		break;
	default:
		return ST4_ERR_BAD_STATEID;
	}
	struct st4_state *st;
	enum st4_status status = st4_state_find(srv, c, sid, &st);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&st->file->lock);
	status = st4_state_check(st, sid);
	if (status == ST4_OK && !st4_same_file(&st->file->key, file))
		status = ST4_ERR_BAD_STATEID;
	if (status == ST4_OK && st->kind == ST4_KIND_DELEG)
		status = ST4_ERR_BAD_STATEID;
	const struct st4_state *open = st->kind == ST4_KIND_LOCK ? st->open : st;
	if (status == ST4_OK && write && !(open->access & ST4_SHARE_ACCESS_WRITE))
		status = ST4_ERR_OPENMODE;
	pthread_mutex_unlock(&st->file->lock);
	st4_state_put(srv, st);
	return status;
}
