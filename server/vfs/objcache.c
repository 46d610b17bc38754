/* The object cache (include/objcache.h): a hash table, an LRU list and the sweep. */
#include "objcache.h"

#include "clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 16384
#define CACHE_MAX_DEFAULT 8192

static struct {
	pthread_mutex_t lock;
	struct oc_ent *buckets[CACHE_BUCKETS];
	struct oc_ent *lru_head, *lru_tail; /* head = most recent */
	unsigned count, max;
} C = { .lock = PTHREAD_MUTEX_INITIALIZER, .max = CACHE_MAX_DEFAULT };

static unsigned bucket_of(uint32_t export_id, uint64_t hash)
{
	uint64_t x = hash * 0x9E3779B97F4A7C15ull ^ export_id;
	return (unsigned)(x >> 32) % CACHE_BUCKETS;
}

static bool same_key(const struct oc_ent *e, uint32_t export_id, const void *key, unsigned keylen)
{
	return e->export_id == export_id && e->keylen == keylen && memcmp(e->key, key, keylen) == 0;
}

static void lru_unlink(struct oc_ent *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		C.lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		C.lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
}

static void lru_push_front(struct oc_ent *e)
{
	e->lnext = C.lru_head;
	e->lprev = NULL;
	if (C.lru_head)
		C.lru_head->lprev = e;
	C.lru_head = e;
	if (!C.lru_tail)
		C.lru_tail = e;
}

/*
 * Entries unhashed with no reference left, freed once C.lock is released:
 * freeing one can take a while (closing a descriptor that was written),
 * and every request waits on C.lock.
 */
struct dead {
	struct oc_ent *list;
};

static void dead_add(struct dead *d, struct oc_ent *e)
{
	e->hnext = d->list;
	d->list = e;
}

static void dead_free(struct dead *d)
{
	while (d->list) {
		struct oc_ent *e = d->list;
		d->list = e->hnext;
		e->cls->free(e);
	}
}

/* Remove from the table; freed when the last reference goes. Lock held. */
static void unhash_locked(struct oc_ent *e, struct dead *d)
{
	if (e->unhashed)
		return;
	unsigned b = bucket_of(e->export_id, e->hash);
	for (struct oc_ent **pp = &C.buckets[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	lru_unlink(e);
	e->unhashed = true;
	C.count--;
	if (e->refs == 0)
		dead_add(d, e);
}

void oc_ent_init(struct oc_ent *e, const struct oc_class *cls, uint32_t export_id, uint64_t hash,
		 const void *key, unsigned keylen)
{
	e->cls = cls;
	e->export_id = export_id;
	e->hash = hash;
	e->keylen = keylen <= FH_PAYLOAD_MAX ? keylen : FH_PAYLOAD_MAX;
	memcpy(e->key, key, e->keylen);
	e->refs = 1;
	e->unhashed = false;
	e->last_used = mono_s();
	e->hnext = e->lprev = e->lnext = NULL;
}

struct oc_ent *oc_lookup(uint32_t export_id, uint64_t hash, const void *key, unsigned keylen)
{
	pthread_mutex_lock(&C.lock);
	struct oc_ent *e = C.buckets[bucket_of(export_id, hash)];
	for (; e; e = e->hnext)
		if (same_key(e, export_id, key, keylen))
			break;
	if (e) {
		e->refs++;
		lru_unlink(e);
		lru_push_front(e);
	}
	pthread_mutex_unlock(&C.lock);
	return e;
}

/* Evict the least recently used entries nobody holds. Lock held. */
static void evict_locked(struct dead *d)
{
	for (struct oc_ent *v = C.lru_tail; v && C.count > C.max;) {
		struct oc_ent *prev = v->lprev;
		if (v->refs == 0)
			unhash_locked(v, d);
		v = prev;
	}
}

struct oc_ent *oc_insert(struct oc_ent *e)
{
	pthread_mutex_lock(&C.lock);
	unsigned b = bucket_of(e->export_id, e->hash);
	for (struct oc_ent *x = C.buckets[b]; x; x = x->hnext) {
		if (same_key(x, e->export_id, e->key, e->keylen)) {
			x->refs++;
			pthread_mutex_unlock(&C.lock);
			e->cls->free(e);
			return x;
		}
	}
	e->hnext = C.buckets[b];
	C.buckets[b] = e;
	lru_push_front(e);
	C.count++;
	struct dead d = { NULL };
	evict_locked(&d);
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
	return e;
}

void oc_put(struct oc_ent *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&C.lock);
	e->last_used = mono_s();
	bool gone = --e->refs == 0 && e->unhashed;
	pthread_mutex_unlock(&C.lock);
	if (gone)
		e->cls->free(e);
}

void oc_unhash(struct oc_ent *e)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	unhash_locked(e, &d); /* held by the caller: not dead yet */
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}

void oc_forget(uint32_t export_id, uint64_t hash, bool (*match)(struct oc_ent *e, void *arg),
	       void *arg)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	struct oc_ent *e = C.buckets[bucket_of(export_id, hash)], *next;
	for (; e; e = next) {
		next = e->hnext;
		if (e->export_id == export_id && e->hash == hash && match(e, arg))
			unhash_locked(e, &d);
	}
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}

void oc_forget_export(uint32_t export_id)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	for (struct oc_ent *e = C.lru_head, *next; e; e = next) {
		next = e->lnext;
		if (e->export_id == export_id)
			unhash_locked(e, &d);
	}
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}

/*
 * Over the whole cache: held entries are skipped, and each of the others
 * is checked (an fstat, for files) without C.lock: thousands of them would
 * keep every request waiting for milliseconds. The references the sweep
 * takes meanwhile keep the entries alive; an idle one only detaches where
 * the sweep's is the only reference, under the lock.
 */
struct sweep_item {
	struct oc_ent *e;
	bool gone;
	uint64_t token;
	const struct oc_class *cls; /* e may be gone once the lock is released */
};

static unsigned sweep_collect(struct sweep_item **out)
{
	pthread_mutex_lock(&C.lock);
	unsigned n = 0, cap = C.count;
	struct sweep_item *v = cap ? calloc(cap, sizeof(*v)) : NULL;
	for (struct oc_ent *e = C.lru_tail; v && e && n < cap; e = e->lprev) {
		if (e->refs == 0) {
			e->refs++;
			v[n++].e = e;
		}
	}
	pthread_mutex_unlock(&C.lock);
	*out = v;
	return n;
}

void oc_sweep(double idle_seconds)
{
	struct sweep_item *v;
	unsigned n = sweep_collect(&v);
	if (!v)
		return;
	for (unsigned i = 0; i < n; i++)
		v[i].gone = v[i].e->cls->gone && v[i].e->cls->gone(v[i].e);

	double now = mono_s();
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	for (unsigned i = 0; i < n; i++) {
		struct oc_ent *e = v[i].e;
		bool last = --e->refs == 0;
		if (e->unhashed) {
			if (last)
				dead_add(&d, e);
		} else if (v[i].gone) {
			unhash_locked(e, &d); /* removed behind our back: let the space go */
		} else if (last && e->cls->idle_detach && now - e->last_used > idle_seconds) {
			v[i].token = e->cls->idle_detach(e);
			v[i].cls = e->cls;
		}
	}
	pthread_mutex_unlock(&C.lock);
	for (unsigned i = 0; i < n; i++)
		if (v[i].token)
			v[i].cls->idle_release(v[i].token);
	dead_free(&d);
	free(v);
}

unsigned oc_count(void)
{
	pthread_mutex_lock(&C.lock);
	unsigned n = C.count;
	pthread_mutex_unlock(&C.lock);
	return n;
}

void oc_set_max(unsigned max)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	C.max = max ? max : CACHE_MAX_DEFAULT;
	evict_locked(&d);
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}

void oc_shutdown(void)
{
	struct dead d = { NULL };
	pthread_mutex_lock(&C.lock);
	while (C.lru_head)
		unhash_locked(C.lru_head, &d); /* freed unless a request still holds it */
	pthread_mutex_unlock(&C.lock);
	dead_free(&d);
}
