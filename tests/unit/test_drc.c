/* Duplicate request cache (server/drc.c). */
#include "unit.h"

#include "drc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call with its own peer and argument bytes. */
struct tcall {
	struct rpc_peer peer;
	struct rpc_call call;
	uint8_t args[64];
};

static void tcall_init(struct tcall *t, uint32_t xid, uint16_t port, const char *args)
{
	memset(t, 0, sizeof(*t));
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->peer.addr;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(0x0a000001);
	t->peer.addrlen = sizeof(*sin);
	t->peer.is_tcp = true;
	t->call.xid = xid;
	t->call.prog = 100003;
	t->call.vers = 3;
	t->call.proc = 8; /* CREATE */
	t->call.cred.flavor = RPC_AUTH_SYS;
	size_t n = strlen(args);
	memcpy(t->args, args, n);
	t->call.args = t->args;
	t->call.args_len = n;
	t->call.peer = &t->peer;
}

/* A reply as dispatch builds it: 4 reserved bytes, then the body. */
static void make_reply(struct rpc_reply *rep, const char *body)
{
	memset(rep, 0, sizeof(*rep));
	size_t n = strlen(body);
	assert_true(rpc_reply_reserve(rep, RPC_REPLY_RESERVE + n));
	memset(rep->buf, 0xee, RPC_REPLY_RESERVE);
	memcpy(rep->buf + RPC_REPLY_RESERVE, body, n);
	rep->len = RPC_REPLY_RESERVE + n;
}

static enum drc_result begin(const struct tcall *t, struct rpc_reply *out, void **token)
{
	memset(out, 0, sizeof(*out));
	return drc_begin(&t->call, out, token);
}

static void expect_replay(const struct tcall *t, const char *body)
{
	struct rpc_reply rep;
	void *tok = (void *)1;
	enum drc_result r = begin(t, &rep, &tok);
	if (r != DRC_REPLAY)
		fail_msg("xid %#x: %d, want DRC_REPLAY", t->call.xid, (int)r);
	assert_null(tok);
	assert_int_equal(rep.len, RPC_REPLY_RESERVE + strlen(body));
	assert_memory_equal(rep.buf + RPC_REPLY_RESERVE, body, strlen(body));
	rpc_reply_free(&rep);
}

static void *expect_new(const struct tcall *t)
{
	struct rpc_reply rep;
	void *tok = NULL;
	enum drc_result r = begin(t, &rep, &tok);
	if (r != DRC_NEW)
		fail_msg("xid %#x: %d, want DRC_NEW", t->call.xid, (int)r);
	assert_non_null(tok);
	rpc_reply_free(&rep);
	return tok;
}

static void finish(void *tok, const char *body)
{
	struct rpc_reply rep;
	make_reply(&rep, body);
	drc_finish(tok, &rep);
	rpc_reply_free(&rep);
}

/*
 * Must run first in this process: the very first call the cache ever sees
 * must be replayable like any other.
 */
static void test_first_call_replays(void **state)
{
	(void)state;
	struct tcall t;
	tcall_init(&t, 0x1000, 800, "first-call-args");
	void *tok = expect_new(&t);
	finish(tok, "first reply body");
	expect_replay(&t, "first reply body");
}

static void test_new_then_replay(void **state)
{
	(void)state;
	struct tcall t;
	tcall_init(&t, 0x2000, 801, "create foo");
	void *tok = expect_new(&t);
	const char *body = "\x01\x02\x03 reply with binary \xff\xfe bytes";
	finish(tok, body);
	/* Replays are byte-identical and repeatable. */
	expect_replay(&t, body);
	expect_replay(&t, body);

	/* A fresh but identical call struct (other memory) still matches. */
	struct tcall t2;
	tcall_init(&t2, 0x2000, 801, "create foo");
	expect_replay(&t2, body);
}

static void test_in_progress(void **state)
{
	(void)state;
	struct tcall t;
	tcall_init(&t, 0x3000, 802, "mkdir bar");
	void *tok = expect_new(&t);
	struct rpc_reply rep;
	void *tok2 = (void *)1;
	assert_int_equal(begin(&t, &rep, &tok2), DRC_IN_PROGRESS);
	assert_null(tok2);
	rpc_reply_free(&rep);
	assert_int_equal(begin(&t, &rep, &tok2), DRC_IN_PROGRESS);
	rpc_reply_free(&rep);
	finish(tok, "mkdir done");
	expect_replay(&t, "mkdir done");
}

static void test_differences_are_new(void **state)
{
	(void)state;
	struct tcall base;
	tcall_init(&base, 0x4000, 803, "remove baz");
	finish(expect_new(&base), "base reply");
	expect_replay(&base, "base reply");

	struct tcall t;
	/* Another xid. */
	tcall_init(&t, 0x4001, 803, "remove baz");
	finish(expect_new(&t), "x");
	/* Other arguments of the same length. */
	tcall_init(&t, 0x4000, 803, "remove bay");
	finish(expect_new(&t), "x");
	/* Other arguments, longer. */
	tcall_init(&t, 0x4000, 803, "remove baz2");
	finish(expect_new(&t), "x");
	/* Another peer port. */
	tcall_init(&t, 0x4000, 804, "remove baz");
	finish(expect_new(&t), "x");
	/* Another peer address. */
	tcall_init(&t, 0x4000, 803, "remove baz");
	((struct sockaddr_in *)&t.peer.addr)->sin_addr.s_addr = htonl(0x0a000002);
	finish(expect_new(&t), "x");
	/* UDP instead of TCP. */
	tcall_init(&t, 0x4000, 803, "remove baz");
	t.peer.is_tcp = false;
	finish(expect_new(&t), "x");
	/* Another procedure, program, version. */
	tcall_init(&t, 0x4000, 803, "remove baz");
	t.call.proc = 12;
	finish(expect_new(&t), "x");
	tcall_init(&t, 0x4000, 803, "remove baz");
	t.call.prog = 100005;
	finish(expect_new(&t), "x");
	tcall_init(&t, 0x4000, 803, "remove baz");
	t.call.vers = 2;
	finish(expect_new(&t), "x");

	/* None of that disturbed the original. */
	expect_replay(&base, "base reply");
}

static void test_payload_reply_not_cached(void **state)
{
	(void)state;
	struct tcall t;
	tcall_init(&t, 0x5000, 805, "payload");
	void *tok = expect_new(&t);
	struct rpc_reply rep;
	make_reply(&rep, "hdr");
	rep.payload = malloc(10);
	rep.payload_len = 10;
	drc_finish(tok, &rep);
	rpc_reply_free(&rep);
	/* Nothing to replay: the retransmission runs again. */
	finish(expect_new(&t), "second");
	expect_replay(&t, "second");
}

static void test_recycling(void **state)
{
	(void)state;
	/* Far more calls than slots: the oldest go, the newest replay. */
	enum {
		N = 10000
	};
	struct tcall t;
	char args[32], body[32];
	for (unsigned i = 0; i < N; i++) {
		snprintf(args, sizeof(args), "args %u", i);
		tcall_init(&t, 0x100000 + i, 900, args);
		snprintf(body, sizeof(body), "reply %u", i);
		finish(expect_new(&t), body);
	}
	for (unsigned i = N - 100; i < N; i++) {
		snprintf(args, sizeof(args), "args %u", i);
		tcall_init(&t, 0x100000 + i, 900, args);
		snprintf(body, sizeof(body), "reply %u", i);
		expect_replay(&t, body);
	}
	/* An entry still in progress is never recycled from under its call. */
	struct tcall held;
	tcall_init(&held, 0x7000, 906, "held");
	void *htok = expect_new(&held);
	for (unsigned i = 0; i < N; i++) {
		snprintf(args, sizeof(args), "more %u", i);
		tcall_init(&t, 0x200000 + i, 900, args);
		finish(expect_new(&t), "y");
	}
	struct rpc_reply rep;
	void *tok;
	assert_int_equal(begin(&held, &rep, &tok), DRC_IN_PROGRESS);
	rpc_reply_free(&rep);
	finish(htok, "held reply");
	expect_replay(&held, "held reply");
}

struct worker {
	unsigned id;
	unsigned bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	/*
	 * All threads together stay below the cache's 4096 slots: with more, a
	 * thread preempted between its finish and its replay can see its entry
	 * recycled by the others, which is the bounded cache working as designed.
	 */
	for (unsigned i = 0; i < 1000; i++) {
		struct tcall t;
		char args[48], body[48];
		snprintf(args, sizeof(args), "w%u-%u", w->id, i);
		snprintf(body, sizeof(body), "r%u-%u", w->id, i);
		tcall_init(&t, 0x30000000u + w->id * 100000u + i, (uint16_t)(1000 + w->id), args);
		struct rpc_reply rep;
		void *tok = NULL;
		memset(&rep, 0, sizeof(rep));
		if (drc_begin(&t.call, &rep, &tok) != DRC_NEW || !tok) {
			w->bad++;
			rpc_reply_free(&rep);
			continue;
		}
		rpc_reply_free(&rep);
		struct rpc_reply r;
		memset(&r, 0, sizeof(r));
		rpc_reply_reserve(&r, RPC_REPLY_RESERVE + strlen(body));
		memcpy(r.buf + RPC_REPLY_RESERVE, body, strlen(body));
		r.len = RPC_REPLY_RESERVE + strlen(body);
		drc_finish(tok, &r);
		rpc_reply_free(&r);
		memset(&rep, 0, sizeof(rep));
		tok = NULL;
		if (drc_begin(&t.call, &rep, &tok) != DRC_REPLAY ||
		    rep.len != RPC_REPLY_RESERVE + strlen(body) ||
		    memcmp(rep.buf + RPC_REPLY_RESERVE, body, strlen(body)) != 0)
			w->bad++;
		rpc_reply_free(&rep);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	enum {
		NT = 4
	};
	pthread_t th[NT];
	struct worker w[NT];
	for (unsigned i = 0; i < NT; i++) {
		w[i] = (struct worker){ .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		if (w[i].bad)
			fail_msg("thread %u: %u calls not NEW-then-REPLAY", i, w[i].bad);
	}
}

static int teardown(void **state)
{
	(void)state;
	drc_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* Keep first: it checks the cache's very first call. */
		cmocka_unit_test(test_first_call_replays),
		cmocka_unit_test(test_new_then_replay),
		cmocka_unit_test(test_in_progress),
		cmocka_unit_test(test_differences_are_new),
		cmocka_unit_test(test_payload_reply_not_cached),
		cmocka_unit_test(test_recycling),
		cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests_name("drc", tests, NULL, teardown);
}
