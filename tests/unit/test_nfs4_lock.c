/*
 * Byte-range locks (server/nfs4/range.c, lock.c, ofdlock.c): the range
 * arithmetic and its overflow rule, POSIX semantics for one owner (split,
 * merge, upgrade, downgrade, unlock) as tables, conflicts between owners
 * with LOCK4denied, LOCKT, LOCKU, lock stateids and their seqids, OPENMODE,
 * the per-client range budget, and the OFD hooks against a local process
 * (a forked child holding fcntl and OFD locks on the same file).
 */
#define _GNU_SOURCE
#include "nfs4_unit.h"

#include "st4_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXO UINT64_MAX

/* ------------------------------------------------------------------- ranges */

static void test_range_from(void **state)
{
	(void)state;
	uint64_t s, e;
	assert_st(st4_range_from(0, 0, &s, &e), ST4_ERR_INVAL);
	assert_st(st4_range_from(5, 10, &s, &e), ST4_OK);
	assert_true(s == 5 && e == 14);
	assert_st(st4_range_from(5, MAXO, &s, &e), ST4_OK);
	assert_true(s == 5 && e == MAXO);
	assert_st(st4_range_from(MAXO, MAXO, &s, &e), ST4_OK);
	assert_true(e == MAXO);
	/* offset + length == 2^64 is the last byte exactly; one more is past it. */
	assert_st(st4_range_from(1ull << 63, 1ull << 63, &s, &e), ST4_OK);
	assert_true(e == MAXO);
	assert_st(st4_range_from(1ull << 63, (1ull << 63) + 1, &s, &e), ST4_ERR_INVAL);
	assert_st(st4_range_from(MAXO, 1, &s, &e), ST4_OK);
	assert_true(s == MAXO && e == MAXO);
	assert_st(st4_range_from(MAXO, 2, &s, &e), ST4_ERR_INVAL);
	assert_st(st4_range_from(10, MAXO - 9, &s, &e), ST4_OK);
	assert_st(st4_range_from(10, MAXO - 1, &s, &e), ST4_ERR_INVAL);
	assert_true(st4_range_length(5, 14) == 10);
	assert_true(st4_range_length(5, MAXO) == MAXO);
}

#define R(a, b, t)                                             \
	{                                                      \
		.start = (a), .end = (b), .type = ST4_LOCK_##t \
	}
#define U ST4_LOCK_UNLOCK
#define RD ST4_LOCK_READ
#define WR ST4_LOCK_WRITE

struct range_case {
	const char *name;
	struct st4_range in[4];
	unsigned nin;
	uint64_t start, end;
	enum st4_lock_type type;
	struct st4_range want[5];
	unsigned nwant;
};

static const struct range_case range_cases[] = {
	{ "into empty", { { 0 } }, 0, 10, 19, RD, { R(10, 19, READ) }, 1 },
	{ "unlock empty", { { 0 } }, 0, 10, 19, U, { { 0 } }, 0 },
	{ "adjacent same type merges", { R(0, 9, READ) }, 1, 10, 19, RD, { R(0, 19, READ) }, 1 },
	{ "adjacent before merges", { R(10, 19, WRITE) }, 1, 0, 9, WR, { R(0, 19, WRITE) }, 1 },
	{ "adjacent other type stays apart",
	  { R(0, 9, READ) },
	  1,
	  10,
	  19,
	  WR,
	  { R(0, 9, READ), R(10, 19, WRITE) },
	  2 },
	{ "overlap same type merges", { R(0, 9, WRITE) }, 1, 5, 14, WR, { R(0, 14, WRITE) }, 1 },
	{ "inside same type: nothing changes",
	  { R(0, 99, READ) },
	  1,
	  10,
	  20,
	  RD,
	  { R(0, 99, READ) },
	  1 },
	{ "upgrade the middle splits",
	  { R(0, 99, READ) },
	  1,
	  40,
	  59,
	  WR,
	  { R(0, 39, READ), R(40, 59, WRITE), R(60, 99, READ) },
	  3 },
	{ "downgrade the whole", { R(0, 99, WRITE) }, 1, 0, 99, RD, { R(0, 99, READ) }, 1 },
	{ "downgrade the head",
	  { R(0, 99, WRITE) },
	  1,
	  0,
	  9,
	  RD,
	  { R(0, 9, READ), R(10, 99, WRITE) },
	  2 },
	{ "upgrade across two reads and a gap",
	  { R(0, 9, READ), R(20, 29, READ) },
	  2,
	  5,
	  24,
	  WR,
	  { R(0, 4, READ), R(5, 24, WRITE), R(25, 29, READ) },
	  3 },
	{ "bridge two of one type",
	  { R(0, 9, READ), R(20, 29, READ) },
	  2,
	  5,
	  25,
	  RD,
	  { R(0, 29, READ) },
	  1 },
	{ "bridge by adjacency",
	  { R(0, 9, READ), R(20, 29, READ) },
	  2,
	  10,
	  19,
	  RD,
	  { R(0, 29, READ) },
	  1 },
	{ "unlock the middle splits",
	  { R(0, 99, READ) },
	  1,
	  40,
	  59,
	  U,
	  { R(0, 39, READ), R(60, 99, READ) },
	  2 },
	{ "unlock across several",
	  { R(0, 9, READ), R(20, 29, WRITE), R(40, 49, READ) },
	  3,
	  5,
	  44,
	  U,
	  { R(0, 4, READ), R(45, 49, READ) },
	  2 },
	{ "unlock a gap",
	  { R(0, 9, READ), R(20, 29, READ) },
	  2,
	  10,
	  19,
	  U,
	  { R(0, 9, READ), R(20, 29, READ) },
	  2 },
	{ "unlock all", { R(0, 9, READ), R(20, 29, WRITE) }, 2, 0, MAXO, U, { { 0 } }, 0 },
	{ "to the end, cut", { R(100, MAXO, WRITE) }, 1, 200, MAXO, U, { R(100, 199, WRITE) }, 1 },
	{ "at the very end: no wrap",
	  { R(MAXO - 9, MAXO, READ) },
	  1,
	  MAXO - 19,
	  MAXO - 10,
	  RD,
	  { R(MAXO - 19, MAXO, READ) },
	  1 },
	{ "last byte upgraded",
	  { R(MAXO - 9, MAXO, READ) },
	  1,
	  MAXO,
	  MAXO,
	  WR,
	  { R(MAXO - 9, MAXO - 1, READ), R(MAXO, MAXO, WRITE) },
	  2 },
	{ "first byte unlocked", { R(0, MAXO, WRITE) }, 1, 0, 0, U, { R(1, MAXO, WRITE) }, 1 },
	{ "replace a write by a read over more",
	  { R(10, 19, WRITE) },
	  1,
	  0,
	  29,
	  RD,
	  { R(0, 29, READ) },
	  1 },
};

static void test_range_apply_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *c = &range_cases[i];
		struct st4_range out[8];
		unsigned n = st4_range_apply(c->in, c->nin, c->start, c->end, c->type, out);
		bool same = n == c->nwant;
		for (unsigned j = 0; same && j < n; j++)
			same = out[j].start == c->want[j].start && out[j].end == c->want[j].end &&
			       out[j].type == c->want[j].type;
		if (!same) {
			for (unsigned j = 0; j < n; j++)
				fprintf(stderr, "  got [%llu, %llu] %d\n",
					(unsigned long long)out[j].start,
					(unsigned long long)out[j].end, out[j].type);
			fail_msg("range case \"%s\"", c->name);
		}
	}
}

static void test_range_conflict(void **state)
{
	(void)state;
	struct st4_range set[] = { R(0, 9, READ), R(20, 29, WRITE) };
	assert_int_equal(st4_range_conflict(set, 2, 5, 5, RD), -1);
	assert_int_equal(st4_range_conflict(set, 2, 5, 5, WR), 0);
	assert_int_equal(st4_range_conflict(set, 2, 25, 25, RD), 1);
	assert_int_equal(st4_range_conflict(set, 2, 10, 19, WR), -1); /* the gap */
	assert_int_equal(st4_range_conflict(set, 2, 30, MAXO, WR), -1);
	assert_int_equal(st4_range_conflict(set, 2, 9, 20, RD), 1);
	assert_int_equal(st4_range_conflict(set, 2, 0, MAXO, WR), 0);
	assert_int_equal(st4_range_conflict(set, 0, 0, MAXO, WR), -1);
}

/* ----------------------------------------------------------------- LOCK etc. */

static struct st4_lock_args lock_new(struct st4_stateid open, const char *owner, uint64_t off,
				     uint64_t len, enum st4_lock_type type, void *ctx)
{
	struct st4_lock_args la = { 0 };
	la.file = t4_file(10);
	la.file_ctx = ctx;
	la.type = type;
	la.offset = off;
	la.length = len;
	la.new_lock_owner = true;
	la.stateid = open;
	la.lock_owner = (const uint8_t *)owner;
	la.lock_owner_len = (uint32_t)strlen(owner);
	return la;
}

static struct st4_lock_args lock_more(struct st4_stateid lsid, uint64_t off, uint64_t len,
				      enum st4_lock_type type, void *ctx)
{
	struct st4_lock_args la = { 0 };
	la.file = t4_file(10);
	la.file_ctx = ctx;
	la.type = type;
	la.offset = off;
	la.length = len;
	la.stateid = lsid;
	return la;
}

struct two {
	struct t4 t;
	struct t4_client a, b;
	struct st4_stateid oa, ob;
};

static void two_start(struct two *w, const struct st4_config *extra)
{
	memset(w, 0, sizeof(*w));
	struct st4_config cfg = t4_config(&w->t);
	if (extra) {
		cfg.lock_hooks = extra->lock_hooks;
		cfg.max_locks_per_client = extra->max_locks_per_client;
	}
	t4_start(&w->t, &cfg);
	t4_connect(w->t.srv, "linux-a", &w->a);
	t4_connect(w->t.srv, "linux-b", &w->b);
	struct st4_open_args o = t4_open_args(10, "open-a", ST4_SHARE_ACCESS_BOTH, 0);
	assert_st(st4_open(w->t.srv, w->a.c, &o, &w->oa), ST4_OK);
	o.owner = (const uint8_t *)"open-b";
	assert_st(st4_open(w->t.srv, w->b.c, &o, &w->ob), ST4_OK);
}

static void two_stop(struct two *w)
{
	t4_end(w->t.srv, &w->a);
	t4_end(w->t.srv, &w->b);
	t4_stop(&w->t);
}

static void test_lock_conflicts(void **state)
{
	(void)state;
	struct two w;
	two_start(&w, NULL);
	struct st4_server *srv = w.t.srv;
	struct st4_stateid la_sid, lb_sid, la2_sid;
	struct st4_lock_denied d;
	struct st4_lock_args la = lock_new(w.oa, "lock-a", 0, 100, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &la, &la_sid, &d), ST4_OK);
	assert_int_equal(la_sid.seqid, 1);

	struct st4_lock_args lb = lock_new(w.ob, "lock-b", 50, 1, RD, NULL);
	memset(&d, 0, sizeof(d));
	assert_st(st4_lock(srv, w.b.c, &lb, &lb_sid, &d), ST4_ERR_DENIED);
	assert_true(d.offset == 0 && d.length == 100);
	assert_int_equal(d.type, WR);
	assert_true(d.clientid == w.a.clientid);
	assert_int_equal(d.owner_len, 6);
	assert_memory_equal(d.owner, "lock-a", 6);
	/* Beyond a's range it is granted; the failed try left no lock stateid behind. */
	lb.offset = 100;
	lb.length = MAXO;
	assert_st(st4_lock(srv, w.b.c, &lb, &lb_sid, &d), ST4_OK);
	assert_int_equal(lb_sid.seqid, 1);

	/* a downgrades to read: b may read-lock inside, not write. */
	struct st4_lock_args more = lock_more(la_sid, 0, 100, RD, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &la_sid, &d), ST4_OK);
	assert_int_equal(la_sid.seqid, 2);
	lb = lock_more(lb_sid, 10, 10, RD, NULL);
	assert_st(st4_lock(srv, w.b.c, &lb, &lb_sid, &d), ST4_OK);
	lb = lock_more(lb_sid, 95, 10, WR, NULL);
	assert_st(st4_lock(srv, w.b.c, &lb, &lb_sid, &d), ST4_ERR_DENIED);
	assert_true(d.offset == 0 && d.length == 100 && d.type == RD);
	/* a cannot upgrade over b's read lock. */
	more = lock_more(la_sid, 0, 50, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &la_sid, &d), ST4_ERR_DENIED);
	assert_true(d.offset == 10 && d.length == 10 && d.type == RD);
	assert_true(d.clientid == w.b.clientid);
	more = lock_more(la_sid, 30, 20, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &la_sid, &d), ST4_OK);

	/* Two lock-owners of one client conflict like any two owners. */
	struct st4_lock_args la2 = lock_new(w.oa, "lock-a2", 40, 1, RD, NULL);
	assert_st(st4_lock(srv, w.a.c, &la2, &la2_sid, &d), ST4_ERR_DENIED);
	assert_memory_equal(d.owner, "lock-a", 6);
	la2.offset = 60;
	assert_st(st4_lock(srv, w.a.c, &la2, &la2_sid, &d), ST4_OK);

	/* new_lock_owner for an owner that has a lock stateid: the same one. */
	struct st4_stateid again;
	la = lock_new(w.oa, "lock-a", 200, 1, RD, NULL); /* reads share with b's to the end */
	assert_st(st4_lock(srv, w.a.c, &la, &again, &d), ST4_OK);
	assert_memory_equal(again.other, la_sid.other, sizeof(again.other));
	assert_int_equal(again.seqid, la_sid.seqid + 1);
	two_stop(&w);
}

static void test_lock_stateid_rules(void **state)
{
	(void)state;
	struct two w;
	two_start(&w, NULL);
	struct st4_server *srv = w.t.srv;
	struct st4_stateid ls, ls_old, out;
	struct st4_lock_denied d;
	struct st4_lock_args la = lock_new(w.oa, "l", 0, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &la, &ls, &d), ST4_OK);
	ls_old = ls;
	struct st4_lock_args more = lock_more(ls, 20, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &ls, &d), ST4_OK);
	assert_int_equal(ls.seqid, 2);
	more = lock_more(ls_old, 40, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_OLD_STATEID);
	more.stateid.seqid = 0; /* "the current one" */
	assert_st(st4_lock(srv, w.a.c, &more, &ls, &d), ST4_OK);
	assert_int_equal(ls.seqid, 3);
	assert_st(st4_locku(srv, w.a.c, &ls_old, &la.file, 0, 10, &out), ST4_ERR_OLD_STATEID);
	assert_st(st4_locku(srv, w.a.c, &ls, &la.file, 0, 10, &ls), ST4_OK);
	assert_int_equal(ls.seqid, 4);
	/* Kinds and files must fit. */
	la = lock_new(ls, "l2", 0, 1, WR, NULL); /* new lock-owner but a lock stateid */
	assert_st(st4_lock(srv, w.a.c, &la, &out, &d), ST4_ERR_BAD_STATEID);
	more = lock_more(w.oa, 0, 1, WR, NULL); /* existing owner but an open stateid */
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_BAD_STATEID);
	more = lock_more(ls, 0, 1, WR, NULL);
	more.file = t4_file(11);
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_BAD_STATEID);
	struct st4_filekey f11 = t4_file(11);
	assert_st(st4_locku(srv, w.a.c, &ls, &f11, 0, 1, &out), ST4_ERR_BAD_STATEID);
	assert_st(st4_locku(srv, w.a.c, &w.oa, &la.file, 0, 1, &out), ST4_ERR_BAD_STATEID);
	assert_st(st4_locku(srv, w.b.c, &ls, &la.file, 0, 1, &out), ST4_ERR_BAD_STATEID);
	/* Arguments. */
	more = lock_more(ls, 0, 0, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_INVAL);
	more = lock_more(ls, 10, MAXO - 5, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_INVAL);
	more = lock_more(ls, 0, 1, ST4_LOCK_UNLOCK, NULL);
	assert_st(st4_lock(srv, w.a.c, &more, &out, &d), ST4_ERR_INVAL);
	assert_st(st4_locku(srv, w.a.c, &ls, &la.file, 5, 0, &out), ST4_ERR_INVAL);
	assert_st(st4_locku(srv, w.a.c, &ls, &la.file, 3, MAXO - 1, &out), ST4_ERR_INVAL);
	/* Unlocking what is not held is fine. */
	assert_st(st4_locku(srv, w.a.c, &ls, &la.file, 1000, 10, &ls), ST4_OK);
	two_stop(&w);
}

static void test_lock_openmode(void **state)
{
	(void)state;
	struct t4 t = { 0 };
	struct st4_config cfg = t4_config(&t);
	t4_start(&t, &cfg);
	struct t4_client a;
	t4_connect(t.srv, "linux-a", &a);
	struct st4_open_args ro = t4_open_args(10, "r", ST4_SHARE_ACCESS_READ, 0);
	struct st4_open_args wo = t4_open_args(10, "w", ST4_SHARE_ACCESS_WRITE, 0);
	struct st4_stateid rs, ws, ls;
	struct st4_lock_denied d;
	assert_st(st4_open(t.srv, a.c, &ro, &rs), ST4_OK);
	assert_st(st4_open(t.srv, a.c, &wo, &ws), ST4_OK);
	struct st4_lock_args la = lock_new(rs, "l1", 0, 1, WR, NULL);
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_ERR_OPENMODE);
	la.type = RD;
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_OK);
	la = lock_new(ws, "l2", 10, 1, RD, NULL);
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_ERR_OPENMODE);
	la.type = WR;
	assert_st(st4_lock(t.srv, a.c, &la, &ls, &d), ST4_OK);
	t4_end(t.srv, &a);
	t4_stop(&t);
}

static void test_lockt(void **state)
{
	(void)state;
	struct two w;
	two_start(&w, NULL);
	struct st4_server *srv = w.t.srv;
	struct st4_stateid ls;
	struct st4_lock_denied d;
	struct st4_filekey f = t4_file(10), g = t4_file(99);
	const uint8_t *own = (const uint8_t *)"lock-a";
	struct st4_lock_args la = lock_new(w.oa, "lock-a", 100, 50, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &la, &ls, &d), ST4_OK);
	/* The owner's own locks do not conflict; b's test does, and takes nothing. */
	assert_st(st4_lockt(srv, w.a.c, &f, NULL, WR, 0, MAXO, own, 6, &d), ST4_OK);
	for (int i = 0; i < 2; i++) {
		memset(&d, 0, sizeof(d));
		assert_st(st4_lockt(srv, w.b.c, &f, NULL, RD, 120, 1, own, 6, &d), ST4_ERR_DENIED);
		assert_true(d.offset == 100 && d.length == 50 && d.type == WR);
		assert_true(d.clientid == w.a.clientid);
	}
	/* Another owner of a's client. */
	assert_st(st4_lockt(srv, w.a.c, &f, NULL, RD, 149, 1, (const uint8_t *)"x", 1, &d),
		  ST4_ERR_DENIED);
	assert_st(st4_lockt(srv, w.b.c, &f, NULL, RD, 150, 10, own, 6, &d), ST4_OK);
	assert_st(st4_lockt(srv, w.b.c, &g, NULL, WR, 0, 1, own, 6, &d), ST4_OK); /* no state */
	assert_st(st4_lockt(srv, w.b.c, &f, NULL, WR, 0, 0, own, 6, &d), ST4_ERR_INVAL);
	assert_st(st4_lockt(srv, w.b.c, &f, NULL, ST4_LOCK_UNLOCK, 0, 1, own, 6, &d),
		  ST4_ERR_INVAL);
	assert_st(st4_lockt(srv, w.b.c, &f, NULL, WR, MAXO, 2, own, 6, &d), ST4_ERR_INVAL);
	two_stop(&w);
}

static void test_lock_budget(void **state)
{
	(void)state;
	struct two w;
	struct st4_config extra = { .max_locks_per_client = 4 };
	two_start(&w, &extra);
	struct st4_server *srv = w.t.srv;
	struct st4_stateid ls;
	struct st4_lock_denied d;
	struct st4_filekey f = t4_file(10);
	struct st4_lock_args la = lock_new(w.oa, "l", 0, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &la, &ls, &d), ST4_OK);
	for (uint64_t i = 1; i < 4; i++) {
		struct st4_lock_args m = lock_more(ls, i * 100, 10, WR, NULL);
		assert_st(st4_lock(srv, w.a.c, &m, &ls, &d), ST4_OK);
	}
	struct st4_lock_args m = lock_more(ls, 1000, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &m, &ls, &d), ST4_ERR_DELAY);
	/* A merge does not grow the set; splitting by unlock would, and is refused too. */
	m = lock_more(ls, 10, 10, WR, NULL);
	assert_st(st4_lock(srv, w.a.c, &m, &ls, &d), ST4_OK);
	assert_st(st4_locku(srv, w.a.c, &ls, &f, 5, 1, &ls), ST4_ERR_DELAY);
	/* The budget is the client's: another owner of it has none left either. */
	struct st4_stateid ls2;
	la = lock_new(w.oa, "l2", 5000, 1, RD, NULL);
	assert_st(st4_lock(srv, w.a.c, &la, &ls2, &d), ST4_ERR_DELAY);
	/* b's is its own. */
	la = lock_new(w.ob, "lb", 5000, 1, RD, NULL);
	assert_st(st4_lock(srv, w.b.c, &la, &ls2, &d), ST4_OK);
	assert_st(st4_locku(srv, w.a.c, &ls, &f, 300, 10, &ls), ST4_OK);
	assert_st(st4_locku(srv, w.a.c, &ls, &f, 5, 1, &ls), ST4_OK);
	two_stop(&w);
}

/* --------------------------------------------------------------------- OFD */

struct child {
	pid_t pid;
	int cmd, ack; /* our ends */
};

/*
 * A local process on the file: told over a pipe to take ('r', 'w' with
 * fcntl F_SETLK, 'R', 'W' as OFD locks) or drop ('u') [start, start+len),
 * it answers '+' (done) or '-' (EAGAIN).
 */
static void child_loop(const char *path, int cmd, int ack)
{
	int fd = open(path, O_RDWR);
	char op;
	long long start, len;
	FILE *in = fdopen(cmd, "r");
	while (fd >= 0 && fscanf(in, " %c %lld %lld", &op, &start, &len) == 3) {
		struct flock fl = { .l_whence = SEEK_SET, .l_start = start, .l_len = len };
		int how = F_SETLK;
		switch (op) {
		case 'r':
		case 'R':
			fl.l_type = F_RDLCK;
			break;
		case 'w':
		case 'W':
			fl.l_type = F_WRLCK;
			break;
		default:
			fl.l_type = F_UNLCK;
		}
		if (op == 'R' || op == 'W' || op == 'U')
			how = F_OFD_SETLK;
		char r = fcntl(fd, how, &fl) == 0 ? '+' : '-';
		if (write(ack, &r, 1) != 1)
			break;
	}
	_exit(0);
}

static void child_start(struct child *c, const char *path)
{
	int to[2], from[2];
	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(to[1]);
		close(from[0]);
		child_loop(path, to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	c->cmd = to[1];
	c->ack = from[0];
}

static char child_do(struct child *c, char op, long long start, long long len)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%c %lld %lld\n", op, start, len);
	assert_int_equal(write(c->cmd, buf, (size_t)n), n);
	char r = 0;
	assert_int_equal(read(c->ack, &r, 1), 1);
	return r;
}

static void child_stop(struct child *c)
{
	close(c->cmd);
	close(c->ack);
	int status;
	waitpid(c->pid, &status, 0);
}

struct ofd_fixture {
	struct two w;
	char *dir, *path;
	int fd;
	struct st4_ofd_file file;
	struct child ch;
};

static void ofd_start(struct ofd_fixture *x)
{
	if (st4_ofd_probe() != 0)
		skip();
	x->dir = ut_mkdtemp("nfs4ofd");
	x->path = ut_join(x->dir, "f");
	ut_touch(x->path);
	x->fd = open(x->path, O_PATH | O_CLOEXEC);
	assert_true(x->fd >= 0);
	x->file.fd = x->fd;
	struct st4_config extra = { .lock_hooks = &st4_ofd_hooks };
	two_start(&x->w, &extra);
	child_start(&x->ch, x->path);
}

static void ofd_stop(struct ofd_fixture *x)
{
	child_stop(&x->ch);
	if (x->w.t.srv)
		two_stop(&x->w);
	close(x->fd);
	ut_rm_rf(x->dir);
	free(x->path);
	free(x->dir);
}

/* A local process's lock holds off the NFS client. */
static void test_ofd_local_blocks_nfs(void **state)
{
	(void)state;
	struct ofd_fixture x;
	ofd_start(&x);
	struct st4_server *srv = x.w.t.srv;
	struct st4_stateid ls;
	struct st4_lock_denied d;
	struct st4_filekey f = t4_file(10);
	const uint8_t *own = (const uint8_t *)"lock-a";
	assert_int_equal(child_do(&x.ch, 'w', 0, 10), '+'); /* a classic POSIX lock */
	struct st4_lock_args la = lock_new(x.w.oa, "lock-a", 5, 1, WR, &x.file);
	memset(&d, 0, sizeof(d));
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_ERR_DENIED);
	assert_true(d.offset == 0 && d.length == 10 && d.type == WR);
	assert_true(d.clientid == 0);
	assert_memory_equal(d.owner, "local", 5);
	assert_st(st4_lockt(srv, x.w.a.c, &f, &x.file, RD, 9, 1, own, 6, &d), ST4_ERR_DENIED);
	assert_st(st4_lockt(srv, x.w.a.c, &f, &x.file, RD, 10, 1, own, 6, &d), ST4_OK);
	/* Read locks share; the child lets go and the write lock is granted. */
	assert_int_equal(child_do(&x.ch, 'r', 0, 10), '+');
	la.type = RD;
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'u', 0, 0), '+');
	la = lock_more(ls, 5, 1, WR, &x.file);
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_OK);
	/* An OFD lock of a local process counts the same. */
	assert_int_equal(child_do(&x.ch, 'W', 100, 10), '+');
	la = lock_more(ls, 105, 100, RD, &x.file);
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_ERR_DENIED);
	assert_true(d.offset == 100 && d.length == 10);
	ofd_stop(&x);
}

/* The NFS client's locks hold off a local process, as the state core's ranges say. */
static void test_ofd_nfs_blocks_local(void **state)
{
	(void)state;
	struct ofd_fixture x;
	ofd_start(&x);
	struct st4_server *srv = x.w.t.srv;
	struct st4_stateid ls, lb;
	struct st4_lock_denied d;
	struct st4_filekey f = t4_file(10);
	struct st4_lock_args la = lock_new(x.w.oa, "lock-a", 0, 100, WR, &x.file);
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'r', 50, 10), '-');
	assert_int_equal(child_do(&x.ch, 'R', 99, 1), '-');
	assert_int_equal(child_do(&x.ch, 'w', 100, 10), '+');
	assert_int_equal(child_do(&x.ch, 'u', 100, 10), '+');
	/* An unlock in the middle splits the kernel's lock too. */
	assert_st(st4_locku(srv, x.w.a.c, &ls, &f, 40, 20, &ls), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'w', 45, 10), '+');
	assert_int_equal(child_do(&x.ch, 'u', 45, 10), '+');
	assert_int_equal(child_do(&x.ch, 'w', 10, 10), '-');
	/* A downgrade lets local readers in, not writers. */
	la = lock_more(ls, 0, 40, RD, &x.file);
	assert_st(st4_lock(srv, x.w.a.c, &la, &ls, &d), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'r', 10, 10), '+');
	assert_int_equal(child_do(&x.ch, 'u', 10, 10), '+');
	assert_int_equal(child_do(&x.ch, 'w', 10, 10), '-');
	/* Two NFS owners on disjoint ranges: both on the file, apart. */
	struct st4_lock_args lbx = lock_new(x.w.ob, "lock-b", 200, MAXO, WR, &x.file);
	assert_st(st4_lock(srv, x.w.b.c, &lbx, &lb, &d), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'r', 1ll << 40, 1), '-');
	/* Offsets past what fcntl can name stay with the state core. */
	lbx = lock_more(lb, 1ull << 63, 10, RD, &x.file);
	assert_st(st4_lock(srv, x.w.b.c, &lbx, &lb, &d), ST4_OK);
	/* CLOSE needs the locks gone; the client's lease running out takes them all. */
	assert_st(st4_locku(srv, x.w.b.c, &lb, &f, 0, MAXO, &lb), ST4_OK);
	assert_int_equal(child_do(&x.ch, 'w', 1ll << 40, 1), '+');
	assert_int_equal(child_do(&x.ch, 'u', 1ll << 40, 1), '+');
	t4_end(srv, &x.w.a);
	t4_end(srv, &x.w.b);
	t4_advance(&x.w.t, 91);
	st4_reap(srv);
	assert_int_equal(child_do(&x.ch, 'w', 0, 0), '+');
	t4_stop(&x.w.t);
	x.w.t.srv = NULL;
	ofd_stop(&x);
}

/* The hooks alone: probing, a descriptor per owner, release on close. */
static void test_ofd_hooks_direct(void **state)
{
	(void)state;
	if (st4_ofd_probe() != 0)
		skip();
	char *dir = ut_mkdtemp("nfs4ofdh");
	char *path = ut_join(dir, "f");
	ut_touch(path);
	struct st4_ofd_file file = { .fd = open(path, O_PATH | O_CLOEXEC) };
	assert_true(file.fd >= 0);
	const struct st4_lock_hooks *h = &st4_ofd_hooks;
	void *o1, *o2;
	struct st4_hook_conflict c;
	assert_int_equal(h->owner_open(NULL, &file, &o1), 0);
	assert_int_equal(h->owner_open(NULL, &file, &o2), 0);
	assert_int_equal(h->apply(NULL, o1, WR, 0, 9, &c), 0);
	assert_int_equal(h->apply(NULL, o2, RD, 5, 5, &c), -EAGAIN);
	assert_true(c.start == 0 && c.end == 9 && c.type == WR);
	assert_int_equal(h->test(NULL, &file, o1, WR, 0, MAXO, &c), 0); /* its own */
	assert_int_equal(h->test(NULL, &file, NULL, RD, 9, 9, &c), -EAGAIN);
	assert_int_equal(h->test(NULL, &file, o2, RD, 10, MAXO, &c), 0);
	assert_int_equal(h->apply(NULL, o1, WR, 1ull << 63, MAXO, &c), 0);
	h->owner_close(NULL, o1);
	assert_int_equal(h->apply(NULL, o2, WR, 0, MAXO, &c), 0);
	h->owner_close(NULL, o2);
	struct st4_ofd_file bad = { .fd = 9999 };
	assert_true(h->owner_open(NULL, &bad, &o1) < 0);
	close(file.fd);
	ut_rm_rf(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_from),
		cmocka_unit_test(test_range_apply_table),
		cmocka_unit_test(test_range_conflict),
		cmocka_unit_test(test_lock_conflicts),
		cmocka_unit_test(test_lock_stateid_rules),
		cmocka_unit_test(test_lock_openmode),
		cmocka_unit_test(test_lockt),
		cmocka_unit_test(test_lock_budget),
		cmocka_unit_test(test_ofd_local_blocks_nfs),
		cmocka_unit_test(test_ofd_nfs_blocks_local),
		cmocka_unit_test(test_ofd_hooks_direct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
