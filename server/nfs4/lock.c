/*
 * Byte-range locks (RFC 8881 18.10 LOCK, 18.11 LOCKT, 18.12 LOCKU). A lock
 * stateid is one lock-owner's locks on one file, a set of ranges kept as
 * POSIX keeps one process's (range.c). Conflicts between NFS lock-owners
 * are decided here, under the file's lock; only then do the hooks take the
 * same range on the real file, and what they refuse (a local process's
 * lock) is a conflict as well. Blocking lock types are taken as their
 * non-blocking ones: nothing is queued, the client polls (no CB_NOTIFY_LOCK).
 */
#include "st4_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t local_owner[] = "local";

static bool same_owner(const struct st4_state *l, const struct st4_client *c, const uint8_t *owner,
		       uint32_t len)
{
	return l->client == c && l->owner_len == len && memcmp(l->owner, owner, len) == 0;
}

static void deny_from_state(const struct st4_state *l, const struct st4_range *r,
			    struct st4_lock_denied *d)
{
	d->offset = r->start;
	d->length = st4_range_length(r->start, r->end);
	d->type = r->type;
	d->clientid = l->client->clientid;
	d->owner_len = l->owner_len;
	memcpy(d->owner, l->owner, l->owner_len);
}

static void deny_from_hook(const struct st4_hook_conflict *hc, struct st4_lock_denied *d)
{
	d->offset = hc->start;
	d->length = st4_range_length(hc->start, hc->end);
	d->type = hc->type;
	d->clientid = 0;
	d->owner_len = sizeof(local_owner) - 1;
	memcpy(d->owner, local_owner, d->owner_len);
}

/* A hook's -errno as the operation's status. */
static enum st4_status hook_status(int rc)
{
	switch (rc) {
	case 0:
		return ST4_OK;
	case -EAGAIN:
	case -EACCES:
		return ST4_ERR_DENIED;
	case -EBADF:
		return ST4_ERR_OPENMODE; /* the file could not be opened for that lock type */
	case -ENOLCK:
	case -ENOMEM:
	case -EINTR:
		return ST4_ERR_DELAY;
	case -EIO:
		return ST4_ERR_IO;
	default:
		return ST4_ERR_SERVERFAULT;
	}
}

/* Another lock-owner's lock in the way of [start, end], into *d. File lock held. */
static bool nfs_conflict(const struct st4_file *f, const struct st4_client *c, const uint8_t *owner,
			 uint32_t owner_len, uint64_t start, uint64_t end, enum st4_lock_type type,
			 struct st4_lock_denied *d)
{
	for (const struct st4_state *l = f->locks; l; l = l->fnext) {
		if (l->revoked || same_owner(l, c, owner, owner_len))
			continue;
		int i = st4_range_conflict(l->ranges, l->nranges, start, end, type);
		if (i >= 0) {
			deny_from_state(l, &l->ranges[i], d);
			return true;
		}
	}
	return false;
}

/* Reserve room for delta more ranges of the client (negative: give back). */
static enum st4_status reserve_ranges(struct st4_server *srv, struct st4_client *c, int delta)
{
	enum st4_status status = ST4_OK;
	pthread_mutex_lock(&srv->lock);
	if (delta > 0 && c->nlocks + (unsigned)delta > srv->cfg.max_locks_per_client)
		status = ST4_FULL;
	else
		c->nlocks += delta;
	pthread_mutex_unlock(&srv->lock);
	return status;
}

/* The hooks' half: the same change on the real file. File lock held. */
static enum st4_status apply_on_file(struct st4_server *srv, struct st4_state *ls, void *file_ctx,
				     uint64_t start, uint64_t end, enum st4_lock_type type,
				     struct st4_lock_denied *denied)
{
	const struct st4_lock_hooks *h = srv->cfg.lock_hooks;
	if (!h)
		return ST4_OK;
	if (!ls->owner_ctx) {
		/* Nothing was ever taken on the file, or the backend has nothing to lock through. */
		if (type == ST4_LOCK_UNLOCK || !file_ctx)
			return ST4_OK;
		int rc = h->owner_open(srv->cfg.hooks_arg, file_ctx, &ls->owner_ctx);
		if (rc < 0) {
			log_warn("nfs4: cannot open the file for a lock-owner: %s", strerror(-rc));
			return hook_status(rc);
		}
	}
	struct st4_hook_conflict hc = { 0 };
	int rc = h->apply(srv->cfg.hooks_arg, ls->owner_ctx, type, start, end, &hc);
	if (rc == -EAGAIN && denied)
		deny_from_hook(&hc, denied);
	return hook_status(rc);
}

/*
 * Set [start, end] of the lock-owner ls to type (UNLOCK releases): the
 * conflict check, the client's range budget, the file, then the new set.
 */
static enum st4_status set_range(struct st4_server *srv, struct st4_state *ls, void *file_ctx,
				 uint64_t start, uint64_t end, enum st4_lock_type type,
				 struct st4_lock_denied *denied)
{
	if (type != ST4_LOCK_UNLOCK &&
	    nfs_conflict(ls->file, ls->client, ls->owner, ls->owner_len, start, end, type, denied))
		return ST4_ERR_DENIED;
	struct st4_range *next = malloc((ls->nranges + 2) * sizeof(*next));
	if (!next)
		return ST4_ERR_DELAY;
	unsigned n = st4_range_apply(ls->ranges, ls->nranges, start, end, type, next);
	int delta = (int)n - (int)ls->nranges;
	enum st4_status status = delta > 0 ? reserve_ranges(srv, ls->client, delta) : ST4_OK;
	if (status == ST4_OK) {
		status = apply_on_file(srv, ls, file_ctx, start, end, type, denied);
		if (status != ST4_OK && delta > 0)
			reserve_ranges(srv, ls->client, -delta);
	}
	if (status != ST4_OK) {
		free(next);
		return status;
	}
	if (delta < 0)
		reserve_ranges(srv, ls->client, delta);
	free(ls->ranges);
	ls->ranges = next;
	ls->nranges = n;
	ls->cap = ls->nranges + 2;
	return ST4_OK;
}

static struct st4_state *find_lockstate(const struct st4_file *f, const struct st4_client *c,
					const uint8_t *owner, uint32_t len)
{
	for (struct st4_state *l = f->locks; l; l = l->fnext)
		if (!l->revoked && same_owner(l, c, owner, len))
			return l;
	return NULL;
}

static enum st4_status new_lockstate(struct st4_server *srv, struct st4_state *open,
				     const struct st4_lock_args *a, struct st4_state **out)
{
	struct st4_file *f = open->file;
	pthread_mutex_lock(&srv->lock);
	enum st4_status status = st4_state_new_locked(srv, open->client, f, ST4_KIND_LOCK,
						      a->lock_owner, a->lock_owner_len, out);
	pthread_mutex_unlock(&srv->lock);
	if (status != ST4_OK)
		return status;
	(*out)->open = open;
	(*out)->fnext = f->locks;
	if (f->locks)
		f->locks->fprev = *out;
	f->locks = *out;
	return ST4_OK;
}

static bool openmode_allows(const struct st4_state *open, enum st4_lock_type type)
{
	uint32_t need = type == ST4_LOCK_WRITE ? ST4_SHARE_ACCESS_WRITE : ST4_SHARE_ACCESS_READ;
	return (open->access & need) != 0;
}

/* LOCK once the stateid is found: the file lock held. */
static enum st4_status lock_on_file(struct st4_server *srv, struct st4_state *given,
				    const struct st4_lock_args *a, uint64_t start, uint64_t end,
				    struct st4_stateid *out, struct st4_lock_denied *denied)
{
	enum st4_status status = st4_state_check(given, &a->stateid);
	if (status != ST4_OK)
		return status;
	enum st4_kind want = a->new_lock_owner ? ST4_KIND_OPEN : ST4_KIND_LOCK;
	if (given->kind != want || !st4_same_file(&given->file->key, &a->file))
		return ST4_ERR_BAD_STATEID;
	struct st4_state *open = a->new_lock_owner ? given : given->open;
	if (!openmode_allows(open, a->type))
		return ST4_ERR_OPENMODE;
	struct st4_state *ls = given;
	bool created = false;
	if (a->new_lock_owner) {
		/* An owner that has a lock stateid for the file already keeps it (as knfsd). */
		ls = find_lockstate(given->file, given->client, a->lock_owner, a->lock_owner_len);
		if (!ls) {
			status = new_lockstate(srv, open, a, &ls);
			if (status != ST4_OK)
				return status;
			created = true;
		}
	}
	status = set_range(srv, ls, a->file_ctx, start, end, a->type, denied);
	if (status != ST4_OK) {
		if (created)
			st4_state_kill(srv, ls);
		return status;
	}
	st4_state_bump(ls);
	st4_state_sid(ls, out);
	return ST4_OK;
}

static bool valid_type(enum st4_lock_type t)
{
	return t == ST4_LOCK_READ || t == ST4_LOCK_WRITE;
}

enum st4_status st4_lock(struct st4_server *srv, struct st4_client *c,
			 const struct st4_lock_args *a, struct st4_stateid *out,
			 struct st4_lock_denied *denied)
{
	uint64_t start, end;
	if (!valid_type(a->type) || (a->new_lock_owner && a->lock_owner_len > ST4_OPAQUE_LIMIT))
		return ST4_ERR_INVAL;
	enum st4_status status = st4_range_from(a->offset, a->length, &start, &end);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&srv->lock);
	status = c->dead ? ST4_ERR_EXPIRED : st4_grace_check_locked(srv, c, a->reclaim);
	pthread_mutex_unlock(&srv->lock);
	if (status != ST4_OK)
		return status;
	struct st4_state *given;
	status = st4_state_find(srv, c, &a->stateid, &given);
	if (status != ST4_OK)
		return status;
	struct st4_file *f = given->file;
	pthread_mutex_lock(&f->lock);
	status = lock_on_file(srv, given, a, start, end, out, denied);
	pthread_mutex_unlock(&f->lock);
	st4_state_put(srv, given);
	return status;
}

enum st4_status st4_locku(struct st4_server *srv, struct st4_client *c,
			  const struct st4_stateid *sid, const struct st4_filekey *file,
			  uint64_t offset, uint64_t length, struct st4_stateid *out)
{
	uint64_t start, end;
	enum st4_status status = st4_range_from(offset, length, &start, &end);
	if (status != ST4_OK)
		return status;
	struct st4_state *ls;
	status = st4_state_find(srv, c, sid, &ls);
	if (status != ST4_OK)
		return status;
	struct st4_file *f = ls->file;
	pthread_mutex_lock(&f->lock);
	status = st4_state_check(ls, sid);
	if (status == ST4_OK && (ls->kind != ST4_KIND_LOCK || !st4_same_file(&f->key, file)))
		status = ST4_ERR_BAD_STATEID;
	if (status == ST4_OK)
		status = set_range(srv, ls, NULL, start, end, ST4_LOCK_UNLOCK, NULL);
	if (status == ST4_OK) {
		st4_state_bump(ls);
		st4_state_sid(ls, out);
	}
	pthread_mutex_unlock(&f->lock);
	st4_state_put(srv, ls);
	return status;
}

/* LOCKT's look at the real file, through the tester's own descriptor if it has one. */
static enum st4_status test_on_file(struct st4_server *srv, void *file_ctx, void *owner_ctx,
				    uint64_t start, uint64_t end, enum st4_lock_type type,
				    struct st4_lock_denied *denied)
{
	const struct st4_lock_hooks *h = srv->cfg.lock_hooks;
	if (!h)
		return ST4_OK;
	if (!file_ctx && !owner_ctx)
		return ST4_OK; /* a backend with nothing to lock through: the core's locks alone */
	struct st4_hook_conflict hc = { 0 };
	int rc = h->test(srv->cfg.hooks_arg, file_ctx, owner_ctx, type, start, end, &hc);
	if (rc == -EAGAIN)
		deny_from_hook(&hc, denied);
	return hook_status(rc);
}

enum st4_status st4_lockt(struct st4_server *srv, struct st4_client *c,
			  const struct st4_filekey *file, void *file_ctx, enum st4_lock_type type,
			  uint64_t offset, uint64_t length, const uint8_t *owner,
			  uint32_t owner_len, struct st4_lock_denied *denied)
{
	uint64_t start, end;
	if (!valid_type(type) || owner_len > ST4_OPAQUE_LIMIT)
		return ST4_ERR_INVAL;
	enum st4_status status = st4_range_from(offset, length, &start, &end);
	if (status != ST4_OK)
		return status;
	pthread_mutex_lock(&srv->lock);
	struct st4_file *f = NULL;
	if (c->dead)
		status = ST4_ERR_EXPIRED;
	else if (st4_grace_active_locked(srv))
		status = ST4_ERR_GRACE; /* only the server's grace period: LOCKT takes nothing */
	else
		f = st4_file_get_locked(srv, file, false);
	pthread_mutex_unlock(&srv->lock);
	if (status != ST4_OK)
		return status;
	if (!f)
		return test_on_file(srv, file_ctx, NULL, start, end, type, denied);
	pthread_mutex_lock(&f->lock);
	if (nfs_conflict(f, c, owner, owner_len, start, end, type, denied)) {
		status = ST4_ERR_DENIED;
	} else {
		struct st4_state *mine = find_lockstate(f, c, owner, owner_len);
		status = test_on_file(srv, file_ctx, mine ? mine->owner_ctx : NULL, start, end,
				      type, denied);
	}
	pthread_mutex_unlock(&f->lock);
	st4_file_put(srv, f);
	return status;
}
