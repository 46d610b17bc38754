/*
 * Each thread that runs requests owns a slot holding the global epoch it
 * saw on entry (0 while outside). Retiring bumps the epoch and records the
 * new value E: a reader that entered at E or later loaded its pointers
 * after the object was unlinked, so the object is free to go once every
 * occupied slot is at E or above. All accesses are sequentially consistent,
 * which is what the argument needs: entry is one atomic store per request.
 */
#include "ebr.h"

#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* Workers (at most 1024), event threads, main and tests' threads. */
#define EBR_SLOTS 1100

struct slot {
	_Atomic uint64_t epoch;
	_Atomic int taken;
	char pad[64 - sizeof(uint64_t) - sizeof(int)];
};

struct retired {
	struct retired *next;
	void *p;
	void (*free_fn)(void *);
	uint64_t epoch;
};

static struct slot slots[EBR_SLOTS];
static _Atomic uint64_t global_epoch = 1;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
static struct retired *retired;
static unsigned nretired;

static __thread struct slot *my_slot;
static __thread unsigned depth;
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* A thread's slot goes back to the pool when the thread ends. */
static void slot_release(void *p)
{
	struct slot *s = p;
	atomic_store(&s->epoch, 0);
	atomic_store(&s->taken, 0);
}

static void key_init(void)
{
	pthread_key_create(&slot_key, slot_release);
}

static struct slot *slot_claim(void)
{
	pthread_once(&key_once, key_init);
	for (unsigned i = 0; i < EBR_SLOTS; i++) {
		int expect = 0;
		if (atomic_compare_exchange_strong(&slots[i].taken, &expect, 1)) {
			pthread_setspecific(slot_key, &slots[i]);
			return &slots[i];
		}
	}
	/* More threads than a server starts: nothing sensible is left to do. */
	log_error("ebr: more than %d threads run requests", EBR_SLOTS);
	abort();
}

void ebr_enter(void)
{
	if (depth++ > 0)
		return;
	if (!my_slot)
		my_slot = slot_claim();
	atomic_store(&my_slot->epoch, atomic_load(&global_epoch));
}

void ebr_leave(void)
{
	if (--depth > 0)
		return;
	atomic_store(&my_slot->epoch, 0);
}

void ebr_retire(void *p, void (*free_fn)(void *))
{
	if (!p)
		return;
	struct retired *r = malloc(sizeof(*r));
	if (!r) {
		/* Leaking one object beats freeing it under a reader. */
		log_error("ebr: out of memory: an old object is kept");
		return;
	}
	r->p = p;
	r->free_fn = free_fn;
	r->epoch = atomic_fetch_add(&global_epoch, 1) + 1;
	pthread_mutex_lock(&retire_lock);
	r->next = retired;
	retired = r;
	nretired++;
	pthread_mutex_unlock(&retire_lock);
}

static uint64_t oldest_reader(void)
{
	uint64_t min = UINT64_MAX;
	for (unsigned i = 0; i < EBR_SLOTS; i++) {
		if (!atomic_load(&slots[i].taken))
			continue;
		uint64_t e = atomic_load(&slots[i].epoch);
		if (e != 0 && e < min)
			min = e;
	}
	return min;
}

void ebr_reclaim(void)
{
	pthread_mutex_lock(&retire_lock);
	uint64_t oldest = oldest_reader();
	struct retired *done = NULL, **pp = &retired;
	while (*pp) {
		struct retired *r = *pp;
		if (r->epoch <= oldest) {
			*pp = r->next;
			r->next = done;
			done = r;
			nretired--;
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&retire_lock);
	/* Free outside the lock: freeing a table closes descriptors. */
	while (done) {
		struct retired *next = done->next;
		done->free_fn(done->p);
		free(done);
		done = next;
	}
}

unsigned ebr_pending(void)
{
	pthread_mutex_lock(&retire_lock);
	unsigned n = nretired;
	pthread_mutex_unlock(&retire_lock);
	return n;
}
