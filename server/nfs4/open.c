/*
 * Files and their opens (RFC 8881 18.16 OPEN, 18.18 OPEN_DOWNGRADE, 18.2
 * CLOSE, 9.7 share reservations). A file is its key and the states on it;
 * it exists while some state or caller holds it. One open-owner has one
 * open stateid per file: a second OPEN adds its bits to the first.
 */
#include "st4_int.h"

#include <stdlib.h>
#include <string.h>

#define SHARE_ACCESS_MASK 0xffu /* above: OPEN4_SHARE_ACCESS_WANT_* (no delegations) */

bool st4_same_file(const struct st4_filekey *a, const struct st4_filekey *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static unsigned file_bucket(const struct st4_filekey *k)
{
	uint64_t x = (k->ino * 0x9E3779B97F4A7C15ull) ^ k->dev;
	return (unsigned)(x >> 32) % ST4_FILE_BUCKETS;
}

struct st4_file *st4_file_get_locked(struct st4_server *srv, const struct st4_filekey *key,
				     bool create)
{
	unsigned b = file_bucket(key);
	for (struct st4_file *f = srv->file_hash[b]; f; f = f->hnext) {
		if (st4_same_file(&f->key, key)) {
			f->refs++;
			return f;
		}
	}
	if (!create)
		return NULL;
	struct st4_file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = *key;
	pthread_mutex_init(&f->lock, NULL);
	f->refs = 1;
	f->hnext = srv->file_hash[b];
	srv->file_hash[b] = f;
	return f;
}

void st4_file_put_locked(struct st4_server *srv, struct st4_file *f)
{
	if (--f->refs > 0)
		return;
	for (struct st4_file **pp = &srv->file_hash[file_bucket(&f->key)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void st4_file_put(struct st4_server *srv, struct st4_file *f)
{
	pthread_mutex_lock(&srv->lock);
	st4_file_put_locked(srv, f);
	pthread_mutex_unlock(&srv->lock);
}

static bool valid_share(uint32_t access, uint32_t deny)
{
	return access >= ST4_SHARE_ACCESS_READ && access <= ST4_SHARE_ACCESS_BOTH &&
	       deny <= ST4_SHARE_DENY_BOTH;
}

/* Does another open of the file deny what this one wants, or want what it denies? */
static bool share_conflict(const struct st4_file *f, const struct st4_state *self, uint32_t access,
			   uint32_t deny)
{
	for (const struct st4_state *o = f->opens; o; o = o->fnext)
		if (o != self && !o->revoked && ((access & o->deny) || (deny & o->access)))
			return true;
	return false;
}

static struct st4_state *find_open(const struct st4_file *f, const struct st4_client *c,
				   const uint8_t *owner, uint32_t len)
{
	for (struct st4_state *o = f->opens; o; o = o->fnext)
		if (o->client == c && !o->revoked && o->owner_len == len &&
		    memcmp(o->owner, owner, len) == 0)
			return o;
	return NULL;
}

static void link_open(struct st4_file *f, struct st4_state *st)
{
	st->fnext = f->opens;
	if (f->opens)
		f->opens->fprev = st;
	f->opens = st;
}

/* The share check and the state itself, under the file's lock. */
static enum st4_status open_on_file(struct st4_server *srv, struct st4_client *c,
				    struct st4_file *f, const struct st4_open_args *a,
				    uint32_t access, struct st4_stateid *out)
{
	struct st4_state *st = find_open(f, c, a->owner, a->owner_len);
	uint32_t want_access = access | (st ? st->access : 0);
	uint32_t want_deny = a->deny | (st ? st->deny : 0);
	if (share_conflict(f, st, want_access, want_deny))
		return ST4_ERR_SHARE_DENIED;
	if (!st) {
		pthread_mutex_lock(&srv->lock);
		enum st4_status status =
			st4_state_new_locked(srv, c, f, ST4_KIND_OPEN, a->owner, a->owner_len, &st);
		pthread_mutex_unlock(&srv->lock);
		if (status != ST4_OK)
			return status;
		link_open(f, st);
	}
	st->access = want_access;
	st->deny = want_deny;
	st4_state_bump(st);
	st4_state_sid(st, out);
	return ST4_OK;
}

enum st4_status st4_open(struct st4_server *srv, struct st4_client *c,
			 const struct st4_open_args *a, struct st4_stateid *out)
{
	uint32_t access = a->access & SHARE_ACCESS_MASK;
	if (!valid_share(access, a->deny) || a->owner_len > ST4_OPAQUE_LIMIT)
		return ST4_ERR_INVAL;
	pthread_mutex_lock(&srv->lock);
	enum st4_status status =
		c->dead ? ST4_ERR_EXPIRED : st4_grace_check_locked(srv, c, a->reclaim);
	struct st4_file *f = NULL;
	if (status == ST4_OK) {
		f = st4_file_get_locked(srv, &a->file, true);
		if (!f)
			status = ST4_ERR_DELAY;
	}
	pthread_mutex_unlock(&srv->lock);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&f->lock);
	status = open_on_file(srv, c, f, a, access, out);
	pthread_mutex_unlock(&f->lock);
	st4_file_put(srv, f);
	return status;
}

/*
 * The open stateid sid names, on this file, current: its file locked on
 * return (ST4_OK only), a reference held.
 */
static enum st4_status open_state_locked(struct st4_server *srv, struct st4_client *c,
					 const struct st4_stateid *sid,
					 const struct st4_filekey *file, struct st4_state **out)
{
	struct st4_state *st;
	enum st4_status status = st4_state_find(srv, c, sid, &st);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&st->file->lock);
	status = st4_state_check(st, sid);
	if (status == ST4_OK && (st->kind != ST4_KIND_OPEN || !st4_same_file(&st->file->key, file)))
		status = ST4_ERR_BAD_STATEID;
	if (status != ST4_OK) {
		pthread_mutex_unlock(&st->file->lock);
		st4_state_put(srv, st);
		return status;
	}
	*out = st;
	return ST4_OK;
}

static void open_state_unlock(struct st4_server *srv, struct st4_state *st)
{
	pthread_mutex_unlock(&st->file->lock);
	st4_state_put(srv, st);
}

enum st4_status st4_open_downgrade(struct st4_server *srv, struct st4_client *c,
				   const struct st4_stateid *sid, const struct st4_filekey *file,
				   uint32_t access, uint32_t deny, struct st4_stateid *out)
{
	access &= SHARE_ACCESS_MASK;
	if (!valid_share(access, deny))
		return ST4_ERR_INVAL;
	struct st4_state *st;
	enum st4_status status = open_state_locked(srv, c, sid, file, &st);
	if (status != ST4_OK)
		return status;
	if ((access & ~st->access) || (deny & ~st->deny)) {
		status = ST4_ERR_INVAL;
	} else {
		st->access = access;
		st->deny = deny;
		st4_state_bump(st);
		st4_state_sid(st, out);
	}
	open_state_unlock(srv, st);
	return status;
}

static bool open_has_locks(const struct st4_state *open)
{
	for (const struct st4_state *l = open->file->locks; l; l = l->fnext)
		if (l->open == open && l->nranges > 0)
			return true;
	return false;
}

enum st4_status st4_close(struct st4_server *srv, struct st4_client *c,
			  const struct st4_stateid *sid, const struct st4_filekey *file,
			  struct st4_stateid *out)
{
	struct st4_state *st;
	enum st4_status status = open_state_locked(srv, c, sid, file, &st);
	if (status != ST4_OK)
		return status;
	if (open_has_locks(st)) {
		status = ST4_ERR_LOCKS_HELD;
	} else {
		st4_state_kill(srv, st); /* and its lock stateids */
		*out = st4_invalid_stateid;
	}
	open_state_unlock(srv, st);
	return status;
}
