/*
 * Sessions and slots (server/nfs4/session.c): the SEQUENCE checks (bad
 * session, bad slot, new request, replay of a cached reply, a reply not
 * kept, misordered, slot in use), the reply cache's size limit,
 * DESTROY_SESSION and BIND_CONN_TO_SESSION, and several threads driving
 * one session's slots and one file's locks at once (run under TSan in CI).
 */
#define _GNU_SOURCE
#include "nfs4_unit.h"

#include "st4_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static struct st4_sequence_args seq_args(const struct t4_client *tc, uint32_t slot, uint32_t seq,
					 bool cachethis)
{
	struct st4_sequence_args a = { 0 };
	memcpy(a.sessionid, tc->sessionid, ST4_SESSIONID_SIZE);
	a.slotid = slot;
	a.sequenceid = seq;
	a.cachethis = cachethis;
	a.conn_id = 1;
	return a;
}

static void test_sequence_slots(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_slots = 4;
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	struct st4_sequence_res r;
	struct st4_slot_ref ref;

	struct st4_sequence_args sa = seq_args(&a, 4, 1, false);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_ERR_BADSLOT);
	sa = seq_args(&a, 0, 0, false); /* a slot's first request is 1 */
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_ERR_SEQ_MISORDERED);
	sa.sequenceid = 2;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_ERR_SEQ_MISORDERED);
	uint8_t bad_id[ST4_SESSIONID_SIZE] = { 0 };
	struct st4_sequence_args bs = sa;
	memcpy(bs.sessionid, bad_id, sizeof(bad_id));
	assert_st(st4_sequence(t.srv, &bs, &r, &ref), ST4_ERR_BADSESSION);

	/* Request 1, cached. */
	sa = seq_args(&a, 0, 1, true);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_null(r.replay);
	assert_int_equal(r.highest_slotid, 3);
	assert_int_equal(r.target_highest_slotid, 3);
	assert_int_equal(r.status_flags, 0);
	assert_ptr_equal(ref.client != NULL, true);
	/* Its retransmission while it runs, and the next seqid before it ends. */
	struct st4_slot_ref ref2;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_ERR_DELAY);
	sa.sequenceid = 2;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_ERR_SEQ_MISORDERED);
	assert_int_equal(st4_slot_cache_limit(&ref), 7584);
	assert_st(st4_slot_done(t.srv, &ref, "reply-one", 9), ST4_OK);
	/* Now a replay: the bytes. */
	sa.sequenceid = 1;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_OK);
	assert_non_null(r.replay);
	assert_int_equal(r.replay_len, 9);
	assert_memory_equal(r.replay, "reply-one", 9);
	assert_null(ref2.session);
	free(r.replay);

	/* Request 2 not cached: its retransmission cannot be answered. */
	sa = seq_args(&a, 0, 2, false);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_st(st4_slot_done(t.srv, &ref, "reply-two", 9), ST4_OK);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_ERR_RETRY_UNCACHED_REP);
	/* Older than the last: misordered; slots are independent. */
	sa.sequenceid = 1;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_ERR_SEQ_MISORDERED);
	sa = seq_args(&a, 3, 1, true);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_OK);
	assert_st(st4_slot_done(t.srv, &ref2, "x", 1), ST4_OK);

	/* A reply over the cache limit is not kept. */
	static uint8_t big[8000];
	sa = seq_args(&a, 0, 3, true);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_st(st4_slot_done(t.srv, &ref, big, sizeof(big)), ST4_ERR_REP_TOO_BIG_TO_CACHE);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref2), ST4_ERR_RETRY_UNCACHED_REP);
	/* Slot done without a slot. */
	struct st4_slot_ref none = { 0 };
	assert_st(st4_slot_done(t.srv, &none, "", 0), ST4_ERR_SERVERFAULT);
	t4_stop(&t);
}

/* A slot's reply survives other slots' traffic and is replaced by its next request's. */
static void test_replay_per_slot(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	struct st4_sequence_res r;
	struct st4_slot_ref ref;
	char buf[32];
	for (uint32_t slot = 0; slot < 8; slot++) {
		struct st4_sequence_args sa = seq_args(&a, slot, 1, true);
		assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
		snprintf(buf, sizeof(buf), "slot %u seq 1", slot);
		assert_st(st4_slot_done(t.srv, &ref, buf, (uint32_t)strlen(buf)), ST4_OK);
	}
	for (uint32_t slot = 0; slot < 8; slot++) {
		struct st4_sequence_args sa = seq_args(&a, slot, 1, true);
		assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
		snprintf(buf, sizeof(buf), "slot %u seq 1", slot);
		assert_int_equal(r.replay_len, strlen(buf));
		assert_memory_equal(r.replay, buf, strlen(buf));
		free(r.replay);
	}
	struct st4_sequence_args sa = seq_args(&a, 2, 2, true);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_st(st4_slot_done(t.srv, &ref, "new", 3), ST4_OK);
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_memory_equal(r.replay, "new", 3);
	free(r.replay);
	t4_stop(&t);
}

static void test_destroy_session(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	struct st4_sequence_res r;
	struct st4_slot_ref r0, r1;
	struct st4_sequence_args s0 = seq_args(&a, 0, 1, false), s1 = seq_args(&a, 1, 1, false);
	assert_st(st4_sequence(t.srv, &s0, &r, &r0), ST4_OK);
	assert_st(st4_sequence(t.srv, &s1, &r, &r1), ST4_OK);
	/* Another request of the session runs: not yet. */
	assert_st(st4_destroy_session(t.srv, a.sessionid, &r0, 1), ST4_ERR_DELAY);
	/* From a connection not bound to it, without its own SEQUENCE. */
	assert_st(st4_destroy_session(t.srv, a.sessionid, NULL, 99),
		  ST4_ERR_CONN_NOT_BOUND_TO_SESSION);
	assert_st(st4_slot_done(t.srv, &r1, "", 0), ST4_OK);
	assert_st(st4_destroy_session(t.srv, a.sessionid, &r0, 99), ST4_OK);
	assert_st(st4_destroy_session(t.srv, a.sessionid, NULL, 1), ST4_ERR_BADSESSION);
	/* The request that destroyed it still ends cleanly. */
	assert_st(st4_slot_done(t.srv, &r0, "", 0), ST4_OK);
	s0.sequenceid = 2;
	assert_st(st4_sequence(t.srv, &s0, &r, &r0), ST4_ERR_BADSESSION);
	t4_stop(&t);
}

static void test_bind_conn(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	enum st4_conn_dir_res g;
	struct st4_chan_attrs fore;
	bool bound;
	assert_st(st4_session_info(t.srv, a.sessionid, 1, &fore, &bound), ST4_OK);
	assert_true(bound); /* CREATE_SESSION's own connection */
	assert_int_equal(fore.maxrequests, 64);
	assert_st(st4_session_info(t.srv, a.sessionid, 2, &fore, &bound), ST4_OK);
	assert_false(bound);
	assert_st(st4_bind_conn(t.srv, a.sessionid, 2, ST4_CDFC4_FORE, &g), ST4_OK);
	assert_int_equal(g, ST4_CDFS4_FORE);
	assert_st(st4_bind_conn(t.srv, a.sessionid, 3, ST4_CDFC4_BACK, &g), ST4_OK);
	assert_int_equal(g, ST4_CDFS4_BACK);
	assert_st(st4_bind_conn(t.srv, a.sessionid, 4, ST4_CDFC4_FORE_OR_BOTH, &g), ST4_OK);
	assert_int_equal(g, ST4_CDFS4_BOTH);
	assert_st(st4_bind_conn(t.srv, a.sessionid, 4, ST4_CDFC4_BACK_OR_BOTH, &g), ST4_OK);
	assert_int_equal(g, ST4_CDFS4_BOTH);
	assert_st(st4_bind_conn(t.srv, a.sessionid, 4, (enum st4_conn_dir)5, &g), ST4_ERR_INVAL);
	uint8_t bad[ST4_SESSIONID_SIZE] = { 1 };
	assert_st(st4_bind_conn(t.srv, bad, 4, ST4_CDFC4_FORE, &g), ST4_ERR_BADSESSION);
	assert_st(st4_session_info(t.srv, bad, 4, &fore, &bound), ST4_ERR_BADSESSION);
	assert_st(st4_session_info(t.srv, a.sessionid, 2, &fore, &bound), ST4_OK);
	assert_true(bound);
	st4_conn_closed(t.srv, 2);
	assert_st(st4_session_info(t.srv, a.sessionid, 2, &fore, &bound), ST4_OK);
	assert_false(bound);
	/* SEQUENCE binds the connection it comes on (SP4_NONE). */
	struct st4_sequence_args sa = seq_args(&a, 0, 1, false);
	sa.conn_id = 2;
	struct st4_sequence_res r;
	struct st4_slot_ref ref;
	assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
	assert_st(st4_slot_done(t.srv, &ref, "", 0), ST4_OK);
	assert_st(st4_session_info(t.srv, a.sessionid, 2, &fore, &bound), ST4_OK);
	assert_true(bound);
	/* Bookkeeping is bounded: many connections, the oldest forgotten. */
	for (uint64_t c = 100; c < 200; c++)
		assert_st(st4_bind_conn(t.srv, a.sessionid, c, ST4_CDFC4_FORE, &g), ST4_OK);
	assert_st(st4_session_info(t.srv, a.sessionid, 199, &fore, &bound), ST4_OK);
	assert_true(bound);
	assert_st(st4_session_info(t.srv, a.sessionid, 100, &fore, &bound), ST4_OK);
	assert_false(bound);
	t4_stop(&t);
}

/* The reply caches of all sessions share one budget: fewer slots, then none. */
static void test_reply_cache_budget(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_reply_cache_bytes = 10 * 1000 + 500;
	t4_start(&t, &cfg);
	struct st4_exchange_id_args ea = t4_eid_args("linux-a", 1);
	struct st4_exchange_id_res er;
	assert_st(st4_exchange_id(t.srv, &ea, &er), ST4_OK);
	struct st4_create_session_args ca = t4_cs_args(er.clientid, 1);
	ca.fore.maxresponsesize_cached = 1000;
	ca.fore.maxrequests = 4;
	struct st4_create_session_res c1, c2, c3;
	assert_st(st4_create_session(t.srv, &ca, &c1), ST4_OK);
	assert_int_equal(c1.fore.maxrequests, 4);
	ca.sequence = 2;
	ca.fore.maxrequests = 64;
	assert_st(st4_create_session(t.srv, &ca, &c2), ST4_OK);
	assert_int_equal(c2.fore.maxrequests, 6); /* what is left */
	ca.sequence = 3;
	assert_st(st4_create_session(t.srv, &ca, &c3), ST4_ERR_DELAY);
	assert_st(st4_destroy_session(t.srv, c1.sessionid, NULL, 1), ST4_OK);
	assert_st(st4_create_session(t.srv, &ca, &c3), ST4_OK);
	assert_int_equal(c3.fore.maxrequests, 4);
	/* A tiny cached size still costs a byte per slot: no division by zero. */
	assert_st(st4_destroy_session(t.srv, c3.sessionid, NULL, 1), ST4_OK);
	ca.sequence = 4;
	ca.fore.maxresponsesize_cached = 0;
	assert_st(st4_create_session(t.srv, &ca, &c3), ST4_OK);
	assert_int_equal(c3.fore.maxrequests, 64);
	assert_int_equal(c3.fore.maxresponsesize_cached, 0);
	t4_stop(&t);
}

/* ------------------------------------------------------------------ threads */

#define THREADS 6
#define ROUNDS 3000

struct seq_worker {
	struct t4 *t;
	struct t4_client *tc;
	uint32_t slot;
	int ok, replays;
};

/* Each thread runs requests on its own slot; every few, a retransmission of the last. */
static void *seq_worker_fn(void *arg)
{
	struct seq_worker *w = arg;
	char buf[32];
	for (uint32_t seq = 1; seq <= ROUNDS; seq++) {
		struct st4_sequence_args sa = seq_args(w->tc, w->slot, seq, seq % 3 != 0);
		struct st4_sequence_res r;
		struct st4_slot_ref ref;
		if (st4_sequence(w->t->srv, &sa, &r, &ref) != ST4_OK || r.replay)
			return NULL;
		int n = snprintf(buf, sizeof(buf), "%u:%u", w->slot, seq);
		if (st4_slot_done(w->t->srv, &ref, buf, (uint32_t)n) != ST4_OK)
			return NULL;
		w->ok++;
		if (seq % 7 == 1) {
			enum st4_status st = st4_sequence(w->t->srv, &sa, &r, &ref);
			if (st == ST4_OK && r.replay && r.replay_len == (uint32_t)n &&
			    memcmp(r.replay, buf, (size_t)n) == 0)
				w->replays++;
			free(r.replay);
		}
	}
	return NULL;
}

/* Threads sending stale and duplicate seqids on the workers' slots: never a new request. */
static _Atomic int stop_noise;
static _Atomic int noise_new;

static void *noise_fn(void *arg)
{
	struct seq_worker *w = arg;
	uint32_t x = 12345;
	while (!atomic_load(&stop_noise)) {
		x = x * 1103515245u + 12345u;
		struct st4_sequence_args sa = seq_args(w->tc, x % THREADS, 0, false);
		struct st4_sequence_res r;
		struct st4_slot_ref ref;
		sa.sequenceid = 0; /* never a slot's next (slots start at 1, go up to ROUNDS) */
		if (st4_sequence(w->t->srv, &sa, &r, &ref) == ST4_OK) {
			if (r.replay)
				free(r.replay);
			else
				atomic_fetch_add(&noise_new, 1);
		}
		struct st4_sequence_args bad = sa;
		bad.slotid = 1000;
		(void)st4_sequence(w->t->srv, &bad, &r, &ref);
	}
	return NULL;
}

static void test_threads_sequence(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_confirm(t.srv, "linux-a", 1, &a);
	struct seq_worker w[THREADS], noise = { .t = &t, .tc = &a };
	pthread_t th[THREADS], nth[2];
	atomic_store(&stop_noise, 0);
	atomic_store(&noise_new, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&nth[i], NULL, noise_fn, &noise), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct seq_worker){ .t = &t, .tc = &a, .slot = (uint32_t)i };
		assert_int_equal(pthread_create(&th[i], NULL, seq_worker_fn, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop_noise, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(nth[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].ok, ROUNDS);
		assert_true(w[i].replays > 0);
	}
	assert_int_equal(atomic_load(&noise_new), 0);
	/* Each slot is at ROUNDS: the next is ROUNDS + 1. */
	for (uint32_t s = 0; s < THREADS; s++) {
		struct st4_sequence_args sa = seq_args(&a, s, ROUNDS + 1, false);
		struct st4_sequence_res r;
		struct st4_slot_ref ref;
		assert_st(st4_sequence(t.srv, &sa, &r, &ref), ST4_OK);
		assert_st(st4_slot_done(t.srv, &ref, "", 0), ST4_OK);
	}
	t4_stop(&t);
}

#define LOCKERS 4
#define LOCK_ROUNDS 1500

struct lock_worker {
	struct t4 *t;
	struct t4_client tc; /* connected by the main thread: cmocka asserts only there */
	int id;
	int fd;
	_Atomic int *holder;
	int wins, errors;
};

/*
 * Each thread is its own client with its own lock-owner on one shared
 * file: a private range it always gets, and a shared one at most one may
 * hold at a time (holder says who does).
 */
static void *lock_worker_fn(void *arg)
{
	struct lock_worker *w = arg;
	struct st4_server *srv = w->t->srv;
	struct t4_client *tc = &w->tc;
	const char *owner = tc->owner;
	struct st4_open_args oa = t4_open_args(42, owner, ST4_SHARE_ACCESS_BOTH, 0);
	struct st4_stateid osid, lsid;
	struct st4_lock_denied d;
	struct st4_ofd_file file = { .fd = w->fd };
	if (st4_open(srv, tc->c, &oa, &osid) != ST4_OK) {
		w->errors++;
		return NULL;
	}
	struct st4_lock_args la = { .file = oa.file,
				    .file_ctx = &file,
				    .type = ST4_LOCK_WRITE,
				    .offset = (uint64_t)w->id * 100,
				    .length = 10,
				    .new_lock_owner = true,
				    .stateid = osid,
				    .lock_owner = (const uint8_t *)owner,
				    .lock_owner_len = (uint32_t)strlen(owner) };
	if (st4_lock(srv, tc->c, &la, &lsid, &d) != ST4_OK) {
		w->errors++;
		return NULL;
	}
	la.new_lock_owner = false;
	for (int i = 0; i < LOCK_ROUNDS; i++) {
		la.stateid = lsid;
		la.offset = 10000;
		la.length = 50;
		la.type = i % 2 ? ST4_LOCK_WRITE : ST4_LOCK_READ;
		enum st4_status st = st4_lock(srv, tc->c, &la, &lsid, &d);
		if (st == ST4_OK) {
			if (la.type == ST4_LOCK_WRITE && atomic_exchange(w->holder, w->id) != -1)
				w->errors++;
			if (la.type == ST4_LOCK_WRITE)
				w->wins++;
			if (la.type == ST4_LOCK_WRITE)
				atomic_store(w->holder, -1);
			if (st4_locku(srv, tc->c, &lsid, &oa.file, 10000, 50, &lsid) != ST4_OK)
				w->errors++;
		} else if (st != ST4_ERR_DENIED) {
			w->errors++;
		}
		/* The private range, upgraded and downgraded: never anyone else's business. */
		la.stateid = lsid;
		la.offset = (uint64_t)w->id * 100 + (uint64_t)(i % 5);
		la.length = 3;
		if (st4_lock(srv, tc->c, &la, &lsid, &d) != ST4_OK)
			w->errors++;
	}
	if (st4_locku(srv, tc->c, &lsid, &oa.file, 0, UINT64_MAX, &lsid) != ST4_OK)
		w->errors++;
	return NULL;
}

static void test_threads_locks(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.lock_hooks = &st4_ofd_hooks;
	t4_start(&t, &cfg);
	char *dir = ut_mkdtemp("nfs4thr");
	char *path = ut_join(dir, "f");
	ut_touch(path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	_Atomic int holder = -1;
	struct lock_worker w[LOCKERS];
	pthread_t th[LOCKERS];
	for (int i = 0; i < LOCKERS; i++) {
		w[i] = (struct lock_worker){ .t = &t, .id = i, .fd = fd, .holder = &holder };
		char owner[16];
		snprintf(owner, sizeof(owner), "locker-%d", i);
		t4_connect(t.srv, owner, &w[i].tc);
		assert_int_equal(pthread_create(&th[i], NULL, lock_worker_fn, &w[i]), 0);
	}
	int wins = 0;
	for (int i = 0; i < LOCKERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
		wins += w[i].wins;
		t4_end(t.srv, &w[i].tc);
	}
	assert_true(wins > 0);
	t4_stop(&t);
	close(fd);
	ut_rm_rf(dir);
	free(path);
	free(dir);
}

/*
 * Clients come and go while the clock jumps: threads keep making clients
 * that open and lock one file and then fall silent; the main thread moves
 * the clock past their leases and sweeps. Any step may find its client
 * already gone (that is the point); in the end nothing is left.
 */
#define CHURNERS 4
#define CHURN_ROUNDS 150

static _Atomic int churn_stop;

struct churner {
	struct st4_server *srv;
	int id;
	int made; /* clients that got as far as a lock */
};

static bool churn_once(struct churner *w, int round)
{
	char owner[32];
	snprintf(owner, sizeof(owner), "churn-%d-%d", w->id, round);
	struct st4_exchange_id_args ea = t4_eid_args(owner, 1);
	struct st4_exchange_id_res er;
	if (st4_exchange_id(w->srv, &ea, &er) != ST4_OK)
		return false;
	struct st4_create_session_args ca = t4_cs_args(er.clientid, er.sequenceid);
	ca.fore.maxrequests = 2;
	struct st4_create_session_res cr;
	if (st4_create_session(w->srv, &ca, &cr) != ST4_OK)
		return false;
	struct st4_sequence_args sa = { 0 };
	memcpy(sa.sessionid, cr.sessionid, ST4_SESSIONID_SIZE);
	sa.sequenceid = 1;
	struct st4_sequence_res sr;
	struct st4_slot_ref ref;
	if (st4_sequence(w->srv, &sa, &sr, &ref) != ST4_OK)
		return false;
	bool ok = false;
	struct st4_stateid os, ls;
	struct st4_lock_denied d;
	struct st4_open_args oa = t4_open_args(77, owner, ST4_SHARE_ACCESS_READ, 0);
	if (st4_reclaim_complete(w->srv, ref.client, false) == ST4_OK &&
	    st4_open(w->srv, ref.client, &oa, &os) == ST4_OK) {
		struct st4_lock_args la = { .file = oa.file,
					    .type = ST4_LOCK_READ,
					    .offset = (uint64_t)w->id,
					    .length = 100,
					    .new_lock_owner = true,
					    .stateid = os,
					    .lock_owner = (const uint8_t *)owner,
					    .lock_owner_len = (uint32_t)strlen(owner) };
		ok = st4_lock(w->srv, ref.client, &la, &ls, &d) == ST4_OK;
		enum st4_status ts;
		st4_test_stateids(w->srv, ref.client, &ls, 1, &ts);
	}
	st4_slot_done(w->srv, &ref, "", 0);
	return ok;
}

static void *churn_fn(void *arg)
{
	struct churner *w = arg;
	for (int i = 0; i < CHURN_ROUNDS && !atomic_load(&churn_stop); i++)
		if (churn_once(w, i))
			w->made++;
	return NULL;
}

static void test_threads_expiry(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	cfg.max_clients = 64;
	t4_start(&t, &cfg);
	struct churner w[CHURNERS];
	pthread_t th[CHURNERS];
	atomic_store(&churn_stop, 0);
	for (int i = 0; i < CHURNERS; i++) {
		w[i] = (struct churner){ .srv = t.srv, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, churn_fn, &w[i]), 0);
	}
	for (int k = 0; k < 400; k++) {
		t4_advance(&t, 30);
		st4_reap(t.srv);
		(void)st4_client_count(t.srv);
		usleep(200);
	}
	atomic_store(&churn_stop, 1);
	int made = 0;
	for (int i = 0; i < CHURNERS; i++) {
		pthread_join(th[i], NULL);
		made += w[i].made;
	}
	assert_true(made > 0);
	t4_advance(&t, 1000);
	st4_reap(t.srv);
	assert_int_equal(st4_client_count(t.srv), 0);
	/* Every file, state and reply cache went with the clients. */
	for (unsigned b = 0; b < ST4_FILE_BUCKETS; b++)
		assert_null(t.srv->file_hash[b]);
	for (unsigned b = 0; b < ST4_STATE_BUCKETS; b++)
		assert_null(t.srv->state_hash[b]);
	assert_true(t.srv->reply_cache_bytes == 0);
	t4_stop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* One thread first, then several. */
		cmocka_unit_test(test_sequence_slots),	   cmocka_unit_test(test_replay_per_slot),
		cmocka_unit_test(test_destroy_session),	   cmocka_unit_test(test_bind_conn),
		cmocka_unit_test(test_reply_cache_budget), cmocka_unit_test(test_threads_sequence),
		cmocka_unit_test(test_threads_locks),	   cmocka_unit_test(test_threads_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
