/* RPC call header parsing and reply headers (server/rpcmsg.c, server/dispatch.c). */
#include "unit.h"

#include "rpc.h"

#include <stdlib.h>
#include <string.h>

#define NFS_PROG 100003
#define XID 0xdeadbeefu

/* AUTH_SYS body: stamp, machinename<255>, uid, gid, gids<16>. */
static void auth_sys_body(struct ut_buf *b, const char *machine, size_t mlen, uint32_t uid,
			  uint32_t gid, uint32_t ngids)
{
	ut_put32(b, 0x5eed);
	ut_put_opaque(b, machine, (uint32_t)mlen);
	ut_put32(b, uid);
	ut_put32(b, gid);
	ut_put32(b, ngids);
	for (uint32_t i = 0; i < ngids; i++)
		ut_put32(b, 1000 + i);
}

struct callspec {
	uint32_t xid, mtype, rpcvers, prog, vers, proc;
	uint32_t cflavor;
	const struct ut_buf *cbody;
	uint32_t vflavor;
	const void *args;
	size_t args_len;
};

static void build_call(struct ut_buf *b, const struct callspec *c)
{
	ut_put32(b, c->xid);
	ut_put32(b, c->mtype);
	ut_put32(b, c->rpcvers);
	ut_put32(b, c->prog);
	ut_put32(b, c->vers);
	ut_put32(b, c->proc);
	ut_put32(b, c->cflavor);
	if (c->cbody)
		ut_put_opaque(b, c->cbody->p, (uint32_t)c->cbody->len);
	else
		ut_put32(b, 0);
	ut_put32(b, c->vflavor);
	ut_put32(b, 0);
	if (c->args_len)
		ut_put_raw(b, c->args, c->args_len);
}

static struct callspec spec(uint32_t cflavor, const struct ut_buf *cbody)
{
	return (struct callspec){ .xid = XID,
				  .mtype = 0,
				  .rpcvers = 2,
				  .prog = NFS_PROG,
				  .vers = 3,
				  .proc = 1,
				  .cflavor = cflavor,
				  .cbody = cbody };
}

/* Parse and return the result; rep is left for the caller to inspect. */
static bool parse(const struct ut_buf *rec, struct rpc_call *call, struct rpc_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	return rpc_parse_call(rec->p, rec->len, call, rep);
}

/* The reply must be exactly these words after the 4 reserved bytes. */
static void expect_reply(const struct rpc_reply *rep, const uint32_t *words, size_t n)
{
	assert_false(rep->drop);
	if (rep->len != RPC_REPLY_RESERVE + 4 * n)
		fail_msg("reply is %zu bytes, want %zu", rep->len, RPC_REPLY_RESERVE + 4 * n);
	for (size_t i = 0; i < n; i++) {
		uint32_t got = ut_get32(rep->buf + RPC_REPLY_RESERVE + 4 * i);
		if (got != words[i])
			fail_msg("reply word %zu is %u, want %u", i, got, words[i]);
	}
}

static void expect_auth_error(const struct rpc_reply *rep, uint32_t why)
{
	/* xid, REPLY, MSG_DENIED, AUTH_ERROR, auth_stat */
	const uint32_t w[] = { XID, 1, 1, 1, why };
	expect_reply(rep, w, 5);
}

static void test_auth_none(void **state)
{
	(void)state;
	struct ut_buf rec = { 0 };
	struct callspec c = spec(RPC_AUTH_NONE, NULL);
	c.args = "ARGS1234";
	c.args_len = 8;
	build_call(&rec, &c);
	struct rpc_call call;
	struct rpc_reply rep;
	assert_true(parse(&rec, &call, &rep));
	assert_int_equal(call.xid, XID);
	assert_int_equal(call.prog, NFS_PROG);
	assert_int_equal(call.vers, 3);
	assert_int_equal(call.proc, 1);
	assert_int_equal(call.cred.flavor, RPC_AUTH_NONE);
	assert_int_equal(call.cred.uid, UINT32_MAX);
	assert_int_equal(call.cred.gid, UINT32_MAX);
	assert_int_equal(call.args_len, 8);
	assert_ptr_equal(call.args, rec.p + rec.len - 8);
	assert_memory_equal(call.args, "ARGS1234", 8);
	assert_false(rep.drop);
	assert_int_equal(rep.len, 0);
	rpc_reply_free(&rep);
	ut_buf_free(&rec);
}

static void test_auth_sys_16_gids(void **state)
{
	(void)state;
	struct ut_buf body = { 0 }, rec = { 0 };
	auth_sys_body(&body, "client.example", 14, 1001, 1002, RPC_MAX_GIDS);
	struct callspec c = spec(RPC_AUTH_SYS, &body);
	build_call(&rec, &c);
	struct rpc_call call;
	struct rpc_reply rep;
	assert_true(parse(&rec, &call, &rep));
	assert_int_equal(call.cred.flavor, RPC_AUTH_SYS);
	assert_int_equal(call.cred.uid, 1001);
	assert_int_equal(call.cred.gid, 1002);
	assert_int_equal(call.cred.ngids, 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(call.cred.gids[i], 1000 + i);
	assert_string_equal(call.cred.machine, "client.example");
	assert_int_equal(call.args_len, 0);
	rpc_reply_free(&rep);
	ut_buf_free(&body);
	ut_buf_free(&rec);
}

static void test_auth_sys_name_lengths(void **state)
{
	(void)state;
	/* Every padding case, 0 gids, and the longest allowed machine name. */
	char name[RPC_MAX_MACHINE + 1];
	memset(name, 'm', sizeof(name));
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 254, RPC_MAX_MACHINE };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ut_buf body = { 0 }, rec = { 0 };
		auth_sys_body(&body, name, lens[i], 0, 0, 0);
		struct callspec c = spec(RPC_AUTH_SYS, &body);
		c.args = "XY\0\0";
		c.args_len = 4;
		build_call(&rec, &c);
		struct rpc_call call;
		struct rpc_reply rep;
		if (!parse(&rec, &call, &rep))
			fail_msg("machine name of %zu bytes rejected", lens[i]);
		assert_int_equal(strlen(call.cred.machine), lens[i]);
		assert_int_equal(call.cred.ngids, 0);
		assert_int_equal(call.args_len, 4);
		assert_memory_equal(call.args, "XY", 2);
		rpc_reply_free(&rep);
		ut_buf_free(&body);
		ut_buf_free(&rec);
	}
}

static void test_auth_sys_17_gids(void **state)
{
	(void)state;
	struct ut_buf body = { 0 }, rec = { 0 };
	auth_sys_body(&body, "h", 1, 0, 0, RPC_MAX_GIDS + 1);
	struct callspec c = spec(RPC_AUTH_SYS, &body);
	build_call(&rec, &c);
	struct rpc_call call;
	struct rpc_reply rep;
	assert_false(parse(&rec, &call, &rep));
	expect_auth_error(&rep, AUTHST_BADCRED);
	rpc_reply_free(&rep);
	ut_buf_free(&body);
	ut_buf_free(&rec);

	/* A huge count with no gids behind it. */
	struct ut_buf b2 = { 0 }, r2 = { 0 };
	auth_sys_body(&b2, "h", 1, 0, 0, 0);
	b2.len -= 4;
	ut_put32(&b2, 0xffffffffu);
	c = spec(RPC_AUTH_SYS, &b2);
	build_call(&r2, &c);
	assert_false(parse(&r2, &call, &rep));
	expect_auth_error(&rep, AUTHST_BADCRED);
	rpc_reply_free(&rep);
	ut_buf_free(&b2);
	ut_buf_free(&r2);
}

static void test_auth_sys_long_machine(void **state)
{
	(void)state;
	char name[300];
	memset(name, 'n', sizeof(name));
	struct ut_buf body = { 0 }, rec = { 0 };
	auth_sys_body(&body, name, RPC_MAX_MACHINE + 1, 0, 0, 0);
	struct callspec c = spec(RPC_AUTH_SYS, &body);
	build_call(&rec, &c);
	struct rpc_call call;
	struct rpc_reply rep;
	assert_false(parse(&rec, &call, &rep));
	expect_auth_error(&rep, AUTHST_BADCRED);
	rpc_reply_free(&rep);
	ut_buf_free(&body);
	ut_buf_free(&rec);
}

static void test_auth_sys_truncated(void **state)
{
	(void)state;
	struct ut_buf full = { 0 };
	auth_sys_body(&full, "host", 4, 7, 8, 3);
	/* The credential's own length claims less than its fields need. */
	for (size_t cut = 0; cut < full.len; cut += 4) {
		struct ut_buf body = { 0 }, rec = { 0 };
		ut_put_raw(&body, full.p, cut);
		struct callspec c = spec(RPC_AUTH_SYS, &body);
		build_call(&rec, &c);
		struct rpc_call call;
		struct rpc_reply rep;
		if (parse(&rec, &call, &rep))
			fail_msg("AUTH_SYS body cut to %zu of %zu bytes accepted", cut, full.len);
		expect_auth_error(&rep, AUTHST_BADCRED);
		rpc_reply_free(&rep);
		ut_buf_free(&body);
		ut_buf_free(&rec);
	}
	/* Trailing bytes inside the credential body. */
	{
		struct ut_buf body = { 0 }, rec = { 0 };
		ut_put_raw(&body, full.p, full.len);
		ut_put32(&body, 0);
		struct callspec c = spec(RPC_AUTH_SYS, &body);
		build_call(&rec, &c);
		struct rpc_call call;
		struct rpc_reply rep;
		assert_false(parse(&rec, &call, &rep));
		expect_auth_error(&rep, AUTHST_BADCRED);
		rpc_reply_free(&rep);
		ut_buf_free(&body);
		ut_buf_free(&rec);
	}
	/* The record ends inside the credential (its length says more than there is). */
	{
		struct ut_buf rec = { 0 };
		struct callspec c = spec(RPC_AUTH_SYS, &full);
		build_call(&rec, &c);
		size_t hdr = 6 * 4 + 2 * 4; /* up to and including the cred length */
		for (size_t len = hdr; len < rec.len - 8; len++) {
			struct rpc_call call;
			struct rpc_reply rep;
			memset(&rep, 0, sizeof(rep));
			if (rpc_parse_call(rec.p, len, &call, &rep))
				fail_msg("record cut to %zu bytes accepted", len);
			expect_auth_error(&rep, AUTHST_BADCRED);
			rpc_reply_free(&rep);
		}
		ut_buf_free(&rec);
	}
	/* A credential longer than the protocol's 400 bytes. */
	{
		struct ut_buf body = { 0 }, rec = { 0 };
		uint8_t junk[404] = { 0 };
		ut_put_raw(&body, junk, sizeof(junk));
		struct callspec c = spec(RPC_AUTH_SYS, &body);
		build_call(&rec, &c);
		struct rpc_call call;
		struct rpc_reply rep;
		assert_false(parse(&rec, &call, &rep));
		expect_auth_error(&rep, AUTHST_BADCRED);
		rpc_reply_free(&rep);
		ut_buf_free(&body);
		ut_buf_free(&rec);
	}
	ut_buf_free(&full);
}

static void test_other_flavors(void **state)
{
	(void)state;
	struct ut_buf rec = { 0 };
	struct rpc_call call;
	struct rpc_reply rep;
	/* RPCSEC_GSS (6) and AUTH_DH (3) credentials: BADCRED. */
	static const uint32_t flavors[] = { 3, 6, 0xffffffffu };
	for (size_t i = 0; i < 3; i++) {
		struct callspec c = spec(flavors[i], NULL);
		build_call(&rec, &c);
		assert_false(parse(&rec, &call, &rep));
		expect_auth_error(&rep, AUTHST_BADCRED);
		rpc_reply_free(&rep);
		ut_buf_free(&rec);
	}
	/* An RPCSEC_GSS verifier: BADVERF. */
	struct callspec c = spec(RPC_AUTH_NONE, NULL);
	c.vflavor = 6;
	build_call(&rec, &c);
	assert_false(parse(&rec, &call, &rep));
	expect_auth_error(&rep, AUTHST_BADVERF);
	rpc_reply_free(&rep);
	ut_buf_free(&rec);
}

static void test_rpc_version_mismatch(void **state)
{
	(void)state;
	static const uint32_t vers[] = { 0, 1, 3, 0xffffffffu };
	for (size_t i = 0; i < 4; i++) {
		struct ut_buf rec = { 0 };
		struct callspec c = spec(RPC_AUTH_NONE, NULL);
		c.rpcvers = vers[i];
		build_call(&rec, &c);
		struct rpc_call call;
		struct rpc_reply rep;
		assert_false(parse(&rec, &call, &rep));
		/* xid, REPLY, MSG_DENIED, RPC_MISMATCH, low 2, high 2 */
		const uint32_t w[] = { XID, 1, 1, 0, 2, 2 };
		expect_reply(&rep, w, 6);
		rpc_reply_free(&rep);
		ut_buf_free(&rec);
	}
}

static void test_reply_and_short_records_dropped(void **state)
{
	(void)state;
	struct ut_buf rec = { 0 };
	struct callspec c = spec(RPC_AUTH_NONE, NULL);
	c.mtype = 1; /* REPLY */
	build_call(&rec, &c);
	struct rpc_call call;
	struct rpc_reply rep;
	assert_false(parse(&rec, &call, &rep));
	assert_true(rep.drop);
	assert_int_equal(rep.len, 0);
	rpc_reply_free(&rep);
	ut_buf_free(&rec);

	c = spec(RPC_AUTH_NONE, NULL);
	c.mtype = 7;
	build_call(&rec, &c);
	assert_false(parse(&rec, &call, &rep));
	assert_true(rep.drop);
	rpc_reply_free(&rep);

	/* Records too short to hold a call header: nothing to answer. */
	ut_buf_free(&rec);
	c = spec(RPC_AUTH_NONE, NULL);
	build_call(&rec, &c);
	for (size_t len = 0; len < 24; len++) {
		memset(&rep, 0, sizeof(rep));
		assert_false(rpc_parse_call(rec.p, len, &call, &rep));
		if (!rep.drop)
			fail_msg("%zu-byte record not dropped", len);
		assert_int_equal(rep.len, 0);
		rpc_reply_free(&rep);
	}
	/* A header that ends before the credential: rejected, never accepted. */
	for (size_t len = 24; len < rec.len; len++) {
		memset(&rep, 0, sizeof(rep));
		if (rpc_parse_call(rec.p, len, &call, &rep))
			fail_msg("%zu-byte record accepted", len);
		assert_true(rep.drop || rep.len > RPC_REPLY_RESERVE);
		rpc_reply_free(&rep);
	}
	ut_buf_free(&rec);
}

static void test_encode_headers(void **state)
{
	(void)state;
	struct rpc_reply rep = { 0 };
	rpc_encode_accepted(&rep, 77, ACC_GARBAGE_ARGS);
	/* xid, REPLY, MSG_ACCEPTED, verf AUTH_NONE, verf len 0, accept_stat */
	const uint32_t w1[] = { 77, 1, 0, 0, 0, ACC_GARBAGE_ARGS };
	expect_reply(&rep, w1, 6);
	rpc_encode_prog_mismatch(&rep, 78, 3, 4);
	const uint32_t w2[] = { 78, 1, 0, 0, 0, ACC_PROG_MISMATCH, 3, 4 };
	expect_reply(&rep, w2, 8);
	rpc_encode_auth_error(&rep, 79, AUTHST_TOOWEAK);
	const uint32_t w3[] = { 79, 1, 1, 1, AUTHST_TOOWEAK };
	expect_reply(&rep, w3, 5);
	rpc_reply_free(&rep);
	assert_null(rep.buf);
	assert_int_equal(rep.len, 0);
}

/* rpc_process on records that fail before any procedure runs. */
static void process(const struct callspec *c, struct rpc_reply *rep)
{
	struct ut_buf rec = { 0 };
	build_call(&rec, c);
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	memset(rep, 0, sizeof(*rep));
	rpc_process(rec.p, rec.len, &u.peer, rep);
	ut_buf_free(&rec);
}

static void test_dispatch_errors(void **state)
{
	(void)state;
	struct rpc_reply rep;

	struct callspec c = spec(RPC_AUTH_NONE, NULL);
	c.proc = 0; /* NFS NULL */
	process(&c, &rep);
	const uint32_t ok[] = { XID, 1, 0, 0, 0, ACC_SUCCESS };
	expect_reply(&rep, ok, 6);
	rpc_reply_free(&rep);

	c = spec(RPC_AUTH_NONE, NULL);
	c.prog = 100099;
	process(&c, &rep);
	const uint32_t pu[] = { XID, 1, 0, 0, 0, ACC_PROG_UNAVAIL };
	expect_reply(&rep, pu, 6);
	rpc_reply_free(&rep);

	c = spec(RPC_AUTH_NONE, NULL);
	c.vers = 2;
	process(&c, &rep);
	const uint32_t pm[] = { XID, 1, 0, 0, 0, ACC_PROG_MISMATCH, 3, 3 };
	expect_reply(&rep, pm, 8);
	rpc_reply_free(&rep);

	c = spec(RPC_AUTH_NONE, NULL);
	c.proc = 22;
	process(&c, &rep);
	const uint32_t pr[] = { XID, 1, 0, 0, 0, ACC_PROC_UNAVAIL };
	expect_reply(&rep, pr, 6);
	rpc_reply_free(&rep);

	/* GETATTR whose handle length runs past the record. */
	c = spec(RPC_AUTH_NONE, NULL);
	c.proc = 1;
	c.args = "\0\0\0\x40";
	c.args_len = 4;
	process(&c, &rep);
	const uint32_t ga[] = { XID, 1, 0, 0, 0, ACC_GARBAGE_ARGS };
	expect_reply(&rep, ga, 6);
	rpc_reply_free(&rep);

	/* The header errors come out of rpc_process too. */
	c = spec(RPC_AUTH_NONE, NULL);
	c.rpcvers = 3;
	process(&c, &rep);
	const uint32_t rm[] = { XID, 1, 1, 0, 2, 2 };
	expect_reply(&rep, rm, 6);
	rpc_reply_free(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_none),
		cmocka_unit_test(test_auth_sys_16_gids),
		cmocka_unit_test(test_auth_sys_name_lengths),
		cmocka_unit_test(test_auth_sys_17_gids),
		cmocka_unit_test(test_auth_sys_long_machine),
		cmocka_unit_test(test_auth_sys_truncated),
		cmocka_unit_test(test_other_flavors),
		cmocka_unit_test(test_rpc_version_mismatch),
		cmocka_unit_test(test_reply_and_short_records_dropped),
		cmocka_unit_test(test_encode_headers),
		cmocka_unit_test(test_dispatch_errors),
	};
	return cmocka_run_group_tests_name("rpcmsg", tests, NULL, NULL);
}
