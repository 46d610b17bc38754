/*
 * The object cache (server/vfs/objcache.c) against a fake backend: hits and
 * misses, references, twins, unhashing, LRU eviction, forgetting, the
 * sweep (gone and idle entries), keys that include the export id,
 * shutdown, and a concurrent mix of all of it that must end with every
 * entry freed exactly once (run under TSan and ASan in CI).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "objcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ the fake backend */

#define LIVE 0x4c495645u
#define DEAD 0xdeadbeefu
#define SERIALS (1u << 18)

struct fake {
	struct oc_ent oc;
	unsigned serial;
	uint32_t magic;
	atomic_bool gone;      /* what gone() answers */
	atomic_int gone_calls; /* gone() asked about this one */
	uint64_t token;	       /* what idle_detach() hands over once (0: nothing); cache lock */
	int detach_calls;      /* cache lock */
	atomic_bool armed;     /* used since: idle_detach hands over serial + 1 */
	atomic_int uses;
};

static atomic_uint next_serial;
static atomic_int freed[SERIALS]; /* free() calls per serial */
static atomic_int n_free, n_gone, n_detach, n_release, n_tokens;
/* Broken rules seen inside callbacks, where cmocka cannot fail a test. */
static atomic_int bad_free_state, free_under_lock, release_under_lock, detach_unlocked, gone_unheld;
static bool probe_lock; /* check in callbacks whether the cache lock is held */

#define RELEASED_MAX 64
static uint64_t released[RELEASED_MAX];
static uint64_t detached_tokens[RELEASED_MAX];
static int nreleased, ndetached;
static int seq, detach_seq, release_seq; /* order of the last detach and release */

/*
 * Is the cache lock free? Another thread takes it (oc_count) while this
 * one waits; a thread left waiting on a held lock finishes once it is
 * released, detached, writing only its own flag.
 */
#define PROBES 512
static atomic_bool probe_done[PROBES];
static atomic_uint nprobes;

static void *probe_fn(void *arg)
{
	(void)oc_count();
	atomic_store((atomic_bool *)arg, true);
	return NULL;
}

static bool cache_lock_free(int wait_ms)
{
	unsigned i = atomic_fetch_add(&nprobes, 1);
	if (i >= PROBES)
		return true; /* out of probes: cannot tell */
	pthread_t t;
	if (pthread_create(&t, NULL, probe_fn, &probe_done[i]) != 0)
		return true;
	pthread_detach(t);
	for (int ms = 0; ms < wait_ms; ms++) {
		if (atomic_load(&probe_done[i]))
			return true;
		usleep(1000);
	}
	return atomic_load(&probe_done[i]);
}

static void fake_free(struct oc_ent *e)
{
	struct fake *f = (struct fake *)e;
	/* Freed after leaving the table with no reference left, or a twin never inserted. */
	bool ok = f->magic == LIVE &&
		  ((e->unhashed && e->refs == 0) ||
		   (!e->unhashed && e->refs == 1 && !e->hnext && !e->lprev && !e->lnext));
	if (!ok)
		atomic_fetch_add(&bad_free_state, 1);
	if (probe_lock && !cache_lock_free(2000))
		atomic_fetch_add(&free_under_lock, 1);
	f->magic = DEAD;
	atomic_fetch_add(&freed[f->serial], 1);
	atomic_fetch_add(&n_free, 1);
	free(f);
}

/* A request that takes this entry while the sweep checks it (its lookup's result kept here). */
static struct fake *take_during_gone, *taken;

static bool fake_gone(struct oc_ent *e)
{
	struct fake *f = (struct fake *)e;
	atomic_fetch_add(&f->gone_calls, 1);
	atomic_fetch_add(&n_gone, 1);
	if (probe_lock && e->refs < 1)
		atomic_fetch_add(&gone_unheld, 1);
	if (f == take_during_gone) {
		/* Called without the cache lock, so a lookup may run now. */
		taken = (struct fake *)oc_lookup(e->export_id, e->hash, e->key, e->keylen);
		take_during_gone = NULL;
	}
	return atomic_load(&f->gone);
}

static uint64_t fake_idle_detach(struct oc_ent *e)
{
	struct fake *f = (struct fake *)e;
	atomic_fetch_add(&n_detach, 1);
	f->detach_calls++;
	uint64_t t = f->token;
	f->token = 0;
	if (!t && atomic_exchange(&f->armed, false))
		t = f->serial + 1u;
	if (t)
		atomic_fetch_add(&n_tokens, 1);
	if (probe_lock) {
		if (cache_lock_free(100))
			atomic_fetch_add(&detach_unlocked, 1);
		detach_seq = ++seq;
		if (t && ndetached < RELEASED_MAX)
			detached_tokens[ndetached++] = t;
	}
	return t;
}

static void fake_idle_release(uint64_t token)
{
	atomic_fetch_add(&n_release, 1);
	if (probe_lock) {
		if (!cache_lock_free(2000))
			atomic_fetch_add(&release_under_lock, 1);
		release_seq = ++seq;
		if (nreleased < RELEASED_MAX)
			released[nreleased++] = token;
	}
}

static const struct oc_class fake_class = {
	.free = fake_free,
	.gone = fake_gone,
	.idle_detach = fake_idle_detach,
	.idle_release = fake_idle_release,
};

static struct fake *mk_len(uint32_t exid, uint64_t hash, const void *key, unsigned len)
{
	struct fake *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->serial = atomic_fetch_add(&next_serial, 1);
	if (f->serial >= SERIALS)
		abort();
	f->magic = LIVE;
	oc_ent_init(&f->oc, &fake_class, exid, hash, key, len);
	return f;
}

static struct fake *mk(uint32_t exid, uint64_t hash, const char *key)
{
	return mk_len(exid, hash, key, (unsigned)strlen(key));
}

/* A new entry in the table, held once by the caller. */
static struct fake *ins(uint32_t exid, uint64_t hash, const char *key)
{
	struct fake *f = mk(exid, hash, key);
	struct oc_ent *e = oc_insert(&f->oc);
	assert_ptr_equal(e, &f->oc);
	assert_int_equal(e->refs, 1);
	return f;
}

static struct fake *look(uint32_t exid, uint64_t hash, const char *key)
{
	return (struct fake *)oc_lookup(exid, hash, key, (unsigned)strlen(key));
}

static void put(struct fake *f)
{
	oc_put(&f->oc);
}

static int frees_of(unsigned serial)
{
	return atomic_load(&freed[serial]);
}

static unsigned first_serial;

static int setup(void **state)
{
	oc_shutdown();
	oc_set_max(0);
	memset(freed, 0, sizeof(freed));
	atomic_store(&n_free, 0);
	atomic_store(&n_gone, 0);
	atomic_store(&n_detach, 0);
	atomic_store(&n_release, 0);
	atomic_store(&n_tokens, 0);
	atomic_store(&bad_free_state, 0);
	atomic_store(&free_under_lock, 0);
	atomic_store(&release_under_lock, 0);
	atomic_store(&detach_unlocked, 0);
	atomic_store(&gone_unheld, 0);
	nreleased = ndetached = seq = detach_seq = release_seq = 0;
	take_during_gone = taken = NULL;
	probe_lock = true;
	first_serial = atomic_load(&next_serial);
	return 0;
}

/* Every test leaves the cache empty, each of its entries freed exactly once. */
static int teardown(void **state)
{
	oc_shutdown();
	oc_set_max(0);
	int rc = 0;
	if (oc_count() != 0) {
		fprintf(stderr, "cache not empty at the end: %u entries\n", oc_count());
		rc = -1;
	}
	for (unsigned s = first_serial; s < atomic_load(&next_serial); s++) {
		if (frees_of(s) != 1) {
			fprintf(stderr, "entry #%u freed %d times\n", s, frees_of(s));
			rc = -1;
		}
	}
	if (atomic_load(&bad_free_state) || atomic_load(&free_under_lock) ||
	    atomic_load(&release_under_lock) || atomic_load(&detach_unlocked) ||
	    atomic_load(&gone_unheld)) {
		fprintf(stderr,
			"callback rules broken: freed in a bad state %d, freed under the lock %d, "
			"released under the lock %d, detached without the lock %d, gone() "
			"unheld %d\n",
			atomic_load(&bad_free_state), atomic_load(&free_under_lock),
			atomic_load(&release_under_lock), atomic_load(&detach_unlocked),
			atomic_load(&gone_unheld));
		rc = -1;
	}
	return rc;
}

static void assert_rules_kept(void)
{
	assert_int_equal(atomic_load(&bad_free_state), 0);
	assert_int_equal(atomic_load(&free_under_lock), 0);
	assert_int_equal(atomic_load(&release_under_lock), 0);
	assert_int_equal(atomic_load(&detach_unlocked), 0);
	assert_int_equal(atomic_load(&gone_unheld), 0);
}

/* ------------------------------------------------------------ basics */

static void test_lookup_insert_hit(void **state)
{
	assert_null(look(1, 10, "a"));
	assert_int_equal(oc_count(), 0);

	struct fake *f = ins(1, 10, "a");
	assert_int_equal(oc_count(), 1);
	assert_false(f->oc.unhashed);
	assert_int_equal(f->oc.export_id, 1);
	assert_int_equal(f->oc.hash, 10);
	assert_int_equal(f->oc.keylen, 1);

	struct fake *g = look(1, 10, "a");
	assert_ptr_equal(g, f);
	assert_int_equal(f->oc.refs, 2);
	struct fake *h = look(1, 10, "a");
	assert_ptr_equal(h, f);
	assert_int_equal(f->oc.refs, 3);

	/* Only the exact key. */
	assert_null(look(1, 10, "ab"));
	assert_null(look(1, 10, "b"));
	assert_null(oc_lookup(1, 10, "a", 0));

	put(h);
	put(g);
	put(f);
	assert_int_equal(f->oc.refs, 0);
	/* Unheld but still cached: found again, not freed. */
	assert_int_equal(frees_of(f->serial), 0);
	assert_int_equal(oc_count(), 1);
	g = look(1, 10, "a");
	assert_ptr_equal(g, f);
	assert_int_equal(f->oc.refs, 1);
	put(g);
	assert_int_equal(atomic_load(&n_free), 0);
	assert_rules_kept();
}

static void test_insert_twin(void **state)
{
	struct fake *a = ins(1, 5, "k");
	struct fake *b = mk(1, 5, "k");
	unsigned bs = b->serial;
	struct oc_ent *r = oc_insert(&b->oc);
	/* The one already there, with a reference for the caller; the newcomer freed. */
	assert_ptr_equal(r, &a->oc);
	assert_int_equal(a->oc.refs, 2);
	assert_int_equal(frees_of(bs), 1);
	assert_int_equal(frees_of(a->serial), 0);
	assert_int_equal(oc_count(), 1);
	assert_ptr_equal(look(1, 5, "k"), a);
	put(a);
	put(a);
	put(a);
	assert_int_equal(a->oc.refs, 0);
	assert_int_equal(frees_of(a->serial), 0);
	assert_rules_kept();
}

static void test_unhashed_freed_at_last_put(void **state)
{
	struct fake *f = ins(1, 3, "u");
	unsigned s = f->serial;
	assert_ptr_equal(look(1, 3, "u"), f);
	oc_unhash(&f->oc);
	assert_true(f->oc.unhashed);
	assert_int_equal(oc_count(), 0);
	assert_null(look(1, 3, "u"));
	assert_int_equal(frees_of(s), 0);
	oc_unhash(&f->oc); /* twice: no harm */
	assert_int_equal(oc_count(), 0);

	/* The key is free for a new entry while the old one is still held. */
	struct fake *n = ins(1, 3, "u");
	assert_ptr_not_equal(n, f);
	assert_int_equal(oc_count(), 1);
	assert_ptr_equal(look(1, 3, "u"), n);
	put(n);

	put(f);
	assert_int_equal(frees_of(s), 0); /* one reference left */
	put(f);
	assert_int_equal(frees_of(s), 1);
	assert_int_equal(frees_of(n->serial), 0);
	put(n);
	assert_int_equal(frees_of(n->serial), 0); /* hashed: stays cached */
	assert_int_equal(oc_count(), 1);
	assert_rules_kept();
}

/* ------------------------------------------------------------ eviction */

static void test_lru_eviction(void **state)
{
	struct fake *e[7];
	char key[8];
	for (int i = 1; i <= 4; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		e[i] = ins(1, (uint64_t)i, key);
	}
	/* e1 is the oldest and still held; e2, e3, e4 are not. */
	put(e[2]);
	put(e[3]);
	put(e[4]);
	unsigned s2 = e[2]->serial, s3 = e[3]->serial;
	oc_set_max(2);
	assert_int_equal(oc_count(), 2);
	assert_int_equal(frees_of(s2), 1);
	assert_int_equal(frees_of(s3), 1);
	assert_null(look(1, 2, "k2"));
	assert_null(look(1, 3, "k3"));
	assert_int_equal(frees_of(e[1]->serial), 0);
	assert_int_equal(frees_of(e[4]->serial), 0);
	assert_ptr_equal(look(1, 4, "k4"), e[4]);
	put(e[4]);

	/*
	 * Room for three. Recency is use, not age: e4, older than e5, was
	 * looked up since, so e5 is the least recently used unheld one.
	 */
	oc_set_max(3);
	e[5] = ins(1, 5, "k5");
	put(e[5]);
	assert_ptr_equal(look(1, 4, "k4"), e[4]);
	put(e[4]);
	unsigned s5 = e[5]->serial;
	e[6] = ins(1, 6, "k6");
	put(e[6]);
	assert_int_equal(oc_count(), 3);
	assert_int_equal(frees_of(s5), 1);
	assert_null(look(1, 5, "k5"));
	assert_int_equal(frees_of(e[4]->serial), 0);
	assert_int_equal(frees_of(e[6]->serial), 0);
	assert_int_equal(frees_of(e[1]->serial), 0);

	/* Everything held: over the limit, nothing evicted. */
	assert_ptr_equal(look(1, 4, "k4"), e[4]);
	assert_ptr_equal(look(1, 6, "k6"), e[6]);
	oc_set_max(1);
	assert_int_equal(oc_count(), 3);
	assert_int_equal(frees_of(e[4]->serial), 0);
	assert_int_equal(frees_of(e[6]->serial), 0);
	assert_int_equal(frees_of(e[1]->serial), 0);
	unsigned s4 = e[4]->serial, s6 = e[6]->serial;
	put(e[4]);
	put(e[6]);
	/* The next insert evicts unheld ones down to the limit; e1 is held, the new one too. */
	struct fake *x = ins(1, 7, "k7");
	assert_int_equal(frees_of(s4), 1);
	assert_int_equal(frees_of(s6), 1);
	assert_int_equal(oc_count(), 2);
	put(x);
	put(e[1]);
	oc_set_max(0);
	assert_rules_kept();
}

/* ------------------------------------------------------------ forgetting */

struct match_arg {
	int calls;
	int foreign; /* calls for an entry of another export or hash */
};

static bool match_not_b(struct oc_ent *e, void *argp)
{
	struct match_arg *a = argp;
	a->calls++;
	if (e->export_id != 1 || e->hash != 7)
		a->foreign++;
	return e->key[0] != 'b';
}

/* A hash other than h that the cache files in the same chain as h (its bucket spread). */
static uint64_t same_bucket_as(uint64_t h)
{
	uint64_t want = (h * 0x9E3779B97F4A7C15ull) >> 32;
	for (uint64_t x = h + 1;; x++)
		if (((x * 0x9E3779B97F4A7C15ull) >> 32) % 16384 == want % 16384)
			return x;
}

static void test_forget_match(void **state)
{
	uint64_t h2 = same_bucket_as(7);
	struct fake *a = ins(1, 7, "a"), *b = ins(1, 7, "b"), *c = ins(1, 7, "c");
	struct fake *d = ins(2, 7, "a"), *e = ins(1, 8, "a"), *g = ins(1, h2, "g");
	put(a);
	put(b);
	put(d);
	put(e);
	put(g);
	/* c stays held */
	unsigned sa = a->serial, sc = c->serial;
	struct match_arg arg = { 0, 0 };
	oc_forget(1, 7, match_not_b, &arg);
	assert_int_equal(arg.calls, 3); /* a, b and c: export 1, hash 7 */
	assert_int_equal(arg.foreign, 0);

	assert_int_equal(frees_of(sa), 1);
	assert_null(look(1, 7, "a"));
	assert_null(look(1, 7, "c"));
	assert_true(c->oc.unhashed);
	assert_int_equal(frees_of(c->serial), 0);
	assert_int_equal(oc_count(), 4);

	/* Not matched, or another export or hash: still there. */
	struct fake *f;
	assert_ptr_equal(f = look(1, 7, "b"), b);
	put(f);
	assert_ptr_equal(f = look(2, 7, "a"), d);
	put(f);
	assert_ptr_equal(f = look(1, 8, "a"), e);
	put(f);
	assert_ptr_equal(f = look(1, h2, "g"), g);
	put(f);

	put(c);
	assert_int_equal(frees_of(sc), 1);

	/* An export and hash with nothing cached. */
	arg.calls = 0;
	oc_forget(3, 7, match_not_b, &arg);
	assert_int_equal(arg.calls, 0);
	assert_int_equal(oc_count(), 4);
	assert_rules_kept();
}

static void test_forget_export(void **state)
{
	struct fake *x = ins(1, 1, "x"), *y = ins(1, 2, "y"), *z = ins(1, 3, "z");
	struct fake *x2 = ins(2, 1, "x"), *y2 = ins(2, 2, "y");
	put(x);
	put(z);
	put(x2);
	put(y2);
	/* y held */
	unsigned sx = x->serial, sy = y->serial, sz = z->serial;
	oc_forget_export(1);
	assert_int_equal(oc_count(), 2);
	assert_null(look(1, 1, "x"));
	assert_null(look(1, 2, "y"));
	assert_null(look(1, 3, "z"));
	assert_int_equal(frees_of(sx), 1);
	assert_int_equal(frees_of(sz), 1);
	assert_int_equal(frees_of(sy), 0);
	assert_true(y->oc.unhashed);
	struct fake *f;
	assert_ptr_equal(f = look(2, 1, "x"), x2);
	put(f);
	assert_ptr_equal(f = look(2, 2, "y"), y2);
	put(f);
	put(y);
	assert_int_equal(frees_of(sy), 1);
	assert_int_equal(frees_of(x2->serial), 0);
	assert_int_equal(frees_of(y2->serial), 0);
	oc_forget_export(1); /* nothing left of it */
	assert_int_equal(oc_count(), 2);
	assert_rules_kept();
}

/* ------------------------------------------------------------ the sweep */

static void test_sweep_gone(void **state)
{
	struct fake *a = ins(1, 1, "a"), *b = ins(1, 2, "b"), *c = ins(1, 3, "c");
	atomic_store(&a->gone, true);
	atomic_store(&c->gone, true);
	put(a);
	put(b);
	/* c held */
	unsigned sa = a->serial, sc = c->serial;
	oc_sweep(1e9);
	assert_int_equal(frees_of(sa), 1);
	assert_null(look(1, 1, "a"));
	assert_int_equal(oc_count(), 2);
	assert_int_equal(atomic_load(&b->gone_calls), 1);
	assert_int_equal(frees_of(b->serial), 0);
	assert_int_equal(atomic_load(&c->gone_calls), 0);
	assert_int_equal(frees_of(c->serial), 0);
	assert_false(c->oc.unhashed);
	assert_int_equal(atomic_load(&n_detach), 0); /* nothing idle for 1e9 s */

	put(c);
	oc_sweep(1e9);
	assert_int_equal(frees_of(sc), 1);
	assert_int_equal(oc_count(), 1);
	struct fake *f;
	assert_ptr_equal(f = look(1, 2, "b"), b);
	put(f);
	assert_rules_kept();
}

static void test_sweep_held_never(void **state)
{
	struct fake *h = ins(1, 1, "held");
	h->token = 0x77;
	put(h);
	assert_ptr_equal(look(1, 1, "held"), h); /* held again */
	atomic_store(&h->gone, true);
	usleep(20 * 1000);
	for (int i = 0; i < 3; i++)
		oc_sweep(0);
	assert_int_equal(atomic_load(&h->gone_calls), 0);
	assert_int_equal(h->detach_calls, 0);
	assert_int_equal(atomic_load(&n_release), 0);
	assert_false(h->oc.unhashed);
	assert_int_equal(frees_of(h->serial), 0);
	assert_int_equal(oc_count(), 1);
	assert_int_equal(h->oc.refs, 1);
	struct fake *f;
	assert_ptr_equal(f = look(1, 1, "held"), h);
	put(f);
	unsigned sh = h->serial;
	put(h);
	/* Let go: now it is swept. */
	oc_sweep(1e9);
	assert_int_equal(frees_of(sh), 1);
	assert_int_equal(oc_count(), 0);
	assert_rules_kept();
}

static void test_sweep_idle(void **state)
{
	struct fake *a = ins(1, 1, "a"), *d = ins(1, 4, "d"), *c = ins(1, 3, "c");
	a->token = 0xA1;
	c->token = 0xC3;
	/* d has nothing to let go (token 0) */
	put(a);
	put(d);
	put(c);
	assert_ptr_equal(look(1, 3, "c"), c); /* held from here on */
	usleep(400 * 1000);
	struct fake *b = ins(1, 2, "b");
	b->token = 0xB2;
	put(b); /* just used */

	oc_sweep(0.2);
	/* Idle longer than 200 ms and unheld: a and d. b is recent, c held. */
	assert_int_equal(a->detach_calls, 1);
	assert_int_equal(d->detach_calls, 1);
	assert_int_equal(b->detach_calls, 0);
	assert_int_equal(c->detach_calls, 0);
	assert_int_equal(atomic_load(&n_detach), 2);
	/* a's token, and only it (d's was 0), let go after the detach. */
	assert_int_equal(atomic_load(&n_release), 1);
	assert_int_equal(nreleased, 1);
	assert_true(released[0] == 0xA1);
	assert_true(release_seq > detach_seq && detach_seq > 0);
	/* Idle entries stay cached. */
	assert_int_equal(oc_count(), 4);
	assert_int_equal(atomic_load(&n_free), 0);
	struct fake *f;
	assert_ptr_equal(f = look(1, 1, "a"), a);
	put(f);

	/* a was just used again; b is not idle for 10 s; nothing more to let go. */
	oc_sweep(10);
	assert_int_equal(atomic_load(&n_detach), 2);
	assert_int_equal(atomic_load(&n_release), 1);

	/* Everything unheld is idle for 0 s after a pause: detached once more, b's token freed. */
	put(c);
	usleep(5 * 1000);
	oc_sweep(0);
	assert_int_equal(b->detach_calls, 1);
	assert_int_equal(c->detach_calls, 1);
	assert_int_equal(a->detach_calls, 2);
	assert_int_equal(atomic_load(&n_release), 3);
	bool seen_b = false, seen_c = false;
	for (int i = 0; i < nreleased; i++) {
		seen_b |= released[i] == 0xB2;
		seen_c |= released[i] == 0xC3;
	}
	assert_true(seen_b && seen_c);
	assert_int_equal(oc_count(), 4);
	assert_rules_kept();
}

/*
 * The sweep checks entries without the cache lock; one taken by a request
 * meanwhile is held again when the sweep comes back to it: not detached
 * then, and if gone, unhashed but left to its holder's last put.
 */
static void test_sweep_entry_taken_meanwhile(void **state)
{
	struct fake *a = ins(1, 1, "a");
	a->token = 0xA1;
	put(a);
	usleep(20 * 1000);
	take_during_gone = a;
	oc_sweep(0);
	assert_ptr_equal(taken, a);
	assert_int_equal(atomic_load(&a->gone_calls), 1);
	assert_int_equal(a->detach_calls, 0);
	assert_int_equal(atomic_load(&n_release), 0);
	assert_int_equal(a->oc.refs, 1);
	assert_int_equal(oc_count(), 1);
	put(taken);
	usleep(20 * 1000);
	oc_sweep(0); /* unheld and idle now: detached */
	assert_int_equal(a->detach_calls, 1);
	assert_int_equal(atomic_load(&n_release), 1);

	/* Gone, and taken during the check: out of the table, freed at the holder's put. */
	struct fake *g = ins(1, 2, "g");
	unsigned sg = g->serial;
	atomic_store(&g->gone, true);
	put(g);
	take_during_gone = g;
	oc_sweep(1e9);
	assert_ptr_equal(taken, g);
	assert_true(g->oc.unhashed);
	assert_null(look(1, 2, "g"));
	assert_int_equal(frees_of(sg), 0);
	assert_int_equal(g->oc.refs, 1);
	put(taken);
	assert_int_equal(frees_of(sg), 1);
	assert_int_equal(oc_count(), 1);
	assert_rules_kept();
}

/* ------------------------------------------------------------ keys */

static void test_key_includes_export(void **state)
{
	struct fake *a = ins(1, 9, "k");
	struct fake *b = mk(2, 9, "k");
	assert_ptr_equal(oc_insert(&b->oc), &b->oc); /* not a's twin */
	assert_int_equal(oc_count(), 2);
	assert_int_equal(frees_of(b->serial), 0);
	struct fake *c = mk_len(1, 9, "k\0", 2); /* a longer key with a's bytes first */
	assert_ptr_equal(oc_insert(&c->oc), &c->oc);
	struct fake *d = ins(1, 9, "j");
	assert_int_equal(oc_count(), 4);

	struct fake *f;
	assert_ptr_equal(f = look(1, 9, "k"), a);
	put(f);
	assert_ptr_equal(f = look(2, 9, "k"), b);
	put(f);
	assert_ptr_equal(f = (struct fake *)oc_lookup(1, 9, "k\0", 2), c);
	put(f);
	assert_ptr_equal(f = look(1, 9, "j"), d);
	put(f);
	assert_null(look(3, 9, "k"));

	put(a);
	put(b);
	put(c);
	put(d);
	oc_forget_export(2);
	assert_null(look(2, 9, "k"));
	assert_ptr_equal(f = look(1, 9, "k"), a);
	put(f);
	assert_int_equal(oc_count(), 3);
	assert_rules_kept();
}

/* ------------------------------------------------------------ shutdown */

static void test_shutdown(void **state)
{
	struct fake *a = ins(1, 1, "a"), *b = ins(1, 2, "b"), *c = ins(2, 3, "c");
	put(b);
	put(c);
	/* a held */
	unsigned sa = a->serial, sb = b->serial, sc = c->serial;
	oc_shutdown();
	assert_int_equal(oc_count(), 0);
	assert_int_equal(frees_of(sb), 1);
	assert_int_equal(frees_of(sc), 1);
	assert_int_equal(frees_of(sa), 0);
	assert_true(a->oc.unhashed);
	assert_null(look(1, 1, "a"));
	put(a);
	assert_int_equal(frees_of(sa), 1);

	/* The cache works again afterwards. */
	struct fake *n = ins(1, 1, "a");
	put(n);
	struct fake *f;
	assert_ptr_equal(f = look(1, 1, "a"), n);
	put(f);
	unsigned sn = n->serial;
	oc_shutdown();
	assert_int_equal(frees_of(sn), 1);
	assert_int_equal(oc_count(), 0);
	assert_rules_kept();
}

/* ------------------------------------------------------------ concurrency */

#define THREADS 4
#define ITERS 20000
#define HOLD 4
#define KEYS 8

static atomic_int workers_done;
static atomic_uint sweeps; /* by the main thread so far */
#define MIN_SWEEPS 400
static atomic_int wrong_entry; /* a lookup or insert handed back an entry not of its key, or dead */

struct worker {
	unsigned seed;
	pthread_t t;
};

static bool match_any(struct oc_ent *e, void *arg)
{
	return true;
}

static void check_entry(struct fake *f, uint32_t exid, uint64_t hash, const char *key)
{
	if (f->magic != LIVE || f->oc.export_id != exid || f->oc.hash != hash ||
	    f->oc.keylen != strlen(key) || memcmp(f->oc.key, key, f->oc.keylen) != 0)
		atomic_fetch_add(&wrong_entry, 1);
	atomic_fetch_add(&f->uses, 1);
	atomic_store(&f->armed, true);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	struct fake *held[HOLD] = { NULL };
	/* At least ITERS rounds, and on until the sweeps have had their share. */
	for (int it = 0; it < ITERS || (atomic_load(&sweeps) < MIN_SWEEPS &&
					atomic_load(&next_serial) < SERIALS / 2);
	     it++) {
		unsigned r = (unsigned)rand_r(&w->seed), op = (unsigned)rand_r(&w->seed) % 16;
		uint32_t exid = 1 + r % 2;
		uint64_t hash = (r >> 1) % KEYS;
		char key[8];
		snprintf(key, sizeof(key), "k%u", (unsigned)hash);
		unsigned slot = (r >> 4) % HOLD;
		switch (op) {
		case 0 ... 8: {
			struct fake *f = look(exid, hash, key);
			if (!f) {
				struct fake *n = mk(exid, hash, key);
				f = (struct fake *)oc_insert(&n->oc);
			}
			check_entry(f, exid, hash, key);
			if (held[slot])
				put(held[slot]);
			held[slot] = f;
			if (r & 0x80) {
				put(held[slot]);
				held[slot] = NULL;
			}
			break;
		}
		case 9:
		case 10:
			oc_forget(exid, hash, match_any, NULL);
			break;
		case 11:
			if (held[slot])
				oc_unhash(&held[slot]->oc);
			break;
		case 12:
			if (held[slot])
				atomic_store(&held[slot]->gone, true);
			break;
		case 13:
			if (it % 64 == 0)
				oc_forget_export(exid);
			break;
		default:
			if (held[slot]) {
				put(held[slot]);
				held[slot] = NULL;
			}
			break;
		}
	}
	for (int i = 0; i < HOLD; i++)
		if (held[i])
			put(held[i]);
	atomic_fetch_add(&workers_done, 1);
	return NULL;
}

static void test_concurrent(void **state)
{
	probe_lock = false;
	atomic_store(&workers_done, 0);
	atomic_store(&sweeps, 0);
	atomic_store(&wrong_entry, 0);
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i].seed = 0x5eed + (unsigned)i * 7919u;
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_fn, &w[i]), 0);
	}
	/* Meanwhile: sweeps (gone and idle entries) and a cache now tiny, now large. */
	unsigned rounds = 0;
	while (atomic_load(&workers_done) < THREADS) {
		oc_sweep(rounds % 2 ? 0 : 1e9);
		oc_set_max(rounds % 8 == 3 ? 3 : 0);
		rounds++;
		atomic_store(&sweeps, rounds);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(w[i].t, NULL), 0);
	oc_set_max(0);
	assert_int_equal(atomic_load(&wrong_entry), 0);

	/* Every thread let go of what it held: what is still cached has no reference. */
	for (uint32_t exid = 1; exid <= 2; exid++) {
		for (unsigned h = 0; h < KEYS; h++) {
			char key[8];
			snprintf(key, sizeof(key), "k%u", h);
			struct fake *f = look(exid, h, key);
			if (f) {
				assert_int_equal(f->oc.refs, 1);
				assert_false(f->oc.unhashed);
				put(f);
			}
		}
	}
	unsigned cached = oc_count();
	assert_true(cached <= 2 * KEYS);
	unsigned made = atomic_load(&next_serial) - first_serial;
	assert_int_equal((unsigned)atomic_load(&n_free) + cached, made);

	oc_shutdown();
	assert_int_equal(oc_count(), 0);
	assert_int_equal((unsigned)atomic_load(&n_free), made);
	for (unsigned s = first_serial; s < first_serial + made; s++)
		if (frees_of(s) != 1)
			fail_msg("entry #%u freed %d times", s, frees_of(s));
	assert_int_equal(atomic_load(&bad_free_state), 0);
	/* Every token detached was released, once. */
	assert_int_equal(atomic_load(&n_tokens), atomic_load(&n_release));
	print_message("concurrent: %u entries made, %u sweeps, %d gone checks, %d idle "
		      "detaches, %d releases\n",
		      made, rounds, atomic_load(&n_gone), atomic_load(&n_detach),
		      atomic_load(&n_release));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_insert_hit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_insert_twin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unhashed_freed_at_last_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_held_never, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_entry_taken_meanwhile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_includes_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
