/*
 * NFSv4.1 COMPOUNDs over raw RPC: the engine's rules (minor versions,
 * SEQUENCE first or a session-less operation alone, TOO_MANY_OPS, BADXDR,
 * OP_ILLEGAL, NOTSUPP), sessions (EXCHANGE_ID, CREATE_SESSION, SEQUENCE's
 * replay from the slot's cache byte for byte, misordered and bad slots,
 * DESTROY_SESSION, BIND_CONN_TO_SESSION, DESTROY_CLIENTID) and the
 * filehandle operations across the synthesized root and two exports.
 */
#define _GNU_SOURCE
#include "itest_core.h"
#include "nfs4rpc.h"

#include <arpa/inet.h>

#include <rpc/rpc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct itest_env env;
static struct itest_server srv;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&env, "nfs4s") != 0)
		return -1;
	char *a = itest_sprintf("%s/alpha", env.base), *b = itest_sprintf("%s/beta", env.base);
	if (mkdir(a, 0755) != 0 || mkdir(b, 0755) != 0 || mkdir(itest_sprintf("%s/sub", a), 0755))
		return -1;
	const char *extra[] = { "--nfs4", NULL };
	const char *dirs[] = { a, b, NULL };
	return itest_server_start_dirs(&srv, &env, extra, dirs);
}

static int group_teardown(void **state)
{
	(void)state;
	int st = srv.pid > 0 ? itest_server_stop(&srv) : 0;
	itest_env_cleanup(&env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static void connect_session(struct v4c *c, const char *owner)
{
	assert_int_equal(v4c_connect(c, srv.port, 0, 0), 0);
	assert_int_equal(v4c_session(c, owner), 0);
}

/* Run ops after a SEQUENCE on slot 0; returns the COMPOUND's status. */
static nfsstat4 run(struct v4c *c, nfs_argop4 *ops, unsigned n, COMPOUND4res *res)
{
	nfs_argop4 all[32];
	v4c_seq(c, &all[0], 0, false);
	memcpy(all + 1, ops, n * sizeof(*ops));
	assert_int_equal(v4c_compound(c, all, n + 1, res), 0);
	return res->status;
}

static nfs_fh4 fh_of(const COMPOUND4res *res, unsigned i)
{
	const nfs_fh4 *f =
		&res->resarray.resarray_val[i].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;
	nfs_fh4 copy = { f->nfs_fh4_len, itest_alloc(f->nfs_fh4_len) };
	memcpy(copy.nfs_fh4_val, f->nfs_fh4_val, f->nfs_fh4_len);
	return copy;
}

static void test_minor_versions(void **state)
{
	(void)state;
	struct v4c c;
	assert_int_equal(v4c_connect(&c, srv.port, 0, 0), 0);
	nfs_argop4 op;
	v4c_op(&op, OP_PUTROOTFH);
	const uint32_t minors[] = { 0, 2, 7 };
	for (size_t i = 0; i < 3; i++) {
		COMPOUND4res res;
		assert_int_equal(v4c_compound_minor(&c, minors[i], &op, 1, &res), 0);
		assert_int_equal(res.status, NFS4ERR_MINOR_VERS_MISMATCH);
		assert_int_equal(res.resarray.resarray_len, 0);
		v4c_free(&res);
	}
	v4c_close(&c);
}

static void test_rules_without_session(void **state)
{
	(void)state;
	struct v4c c;
	assert_int_equal(v4c_connect(&c, srv.port, 0, 0), 0);
	COMPOUND4res res;
	nfs_argop4 ops[2];
	v4c_op(&ops[0], OP_PUTROOTFH);
	assert_int_equal(v4c_compound(&c, ops, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_OP_NOT_IN_SESSION);
	v4c_free(&res);
	/* A session-less operation must be alone. */
	v4c_op(&ops[0], OP_DESTROY_CLIENTID);
	v4c_op(&ops[1], OP_PUTROOTFH);
	assert_int_equal(v4c_compound(&c, ops, 2, &res), 0);
	assert_int_equal(res.status, NFS4ERR_NOT_ONLY_OP);
	v4c_free(&res);
	/* An empty COMPOUND is fine (16.2.3). */
	assert_int_equal(v4c_compound(&c, ops, 0, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	v4c_free(&res);
	v4c_close(&c);
}

static void test_sequence_position_and_limits(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "limits");
	COMPOUND4res res;
	nfs_argop4 ops[24];
	v4c_op(&ops[0], OP_PUTROOTFH);
	v4c_seq(&c, &ops[1], 1, false);
	assert_int_equal(run(&c, ops, 2, &res), NFS4ERR_SEQUENCE_POS);
	assert_int_equal(res.resarray.resarray_len, 3);
	v4c_free(&res);
	/* The session allows 16 operations. */
	for (int i = 0; i < 20; i++)
		v4c_op(&ops[i], OP_PUTROOTFH);
	assert_int_equal(run(&c, ops, 20, &res), NFS4ERR_TOO_MANY_OPS);
	v4c_free(&res);
	/* OP_ILLEGAL is illegal (rpcgen encodes no other unknown number), known ones not served NOTSUPP. */
	v4c_op(&ops[0], OP_ILLEGAL);
	assert_int_equal(run(&c, ops, 1, &res), NFS4ERR_OP_ILLEGAL);
	assert_int_equal(res.resarray.resarray_val[1].resop, OP_ILLEGAL);
	v4c_free(&res);
	v4c_op(&ops[0], OP_DELEGPURGE);
	assert_int_equal(run(&c, ops, 1, &res), NFS4ERR_NOTSUPP);
	v4c_free(&res);
	v4c_close(&c);
}

static void test_badxdr(void **state)
{
	(void)state;
	struct v4c c;
	assert_int_equal(v4c_connect(&c, srv.port, 0, 0), 0);
	/* tag "", minorversion 1, one op: LOOKUP whose name claims 200 bytes that are not there. */
	uint32_t body[] = { 0, htonl(1), htonl(1), htonl(OP_LOOKUP), htonl(200) };
	uint8_t *reply;
	size_t rlen;
	assert_int_equal(
		v4c_call_raw(&c, NFSPROC4_COMPOUND, body, sizeof(body), &reply, &rlen, NULL), 0);
	COMPOUND4res res = { 0 };
	XDR x;
	xdrmem_create(&x, (char *)reply, (u_int)rlen, XDR_DECODE);
	assert_true(xdr_COMPOUND4res(&x, &res));
	xdr_destroy(&x);
	assert_int_equal(res.status, NFS4ERR_BADXDR);
	v4c_free(&res);
	free(reply);
	/* A count of operations the record cannot hold. */
	uint32_t many[] = { 0, htonl(1), htonl(100000) };
	assert_int_equal(
		v4c_call_raw(&c, NFSPROC4_COMPOUND, many, sizeof(many), &reply, &rlen, NULL), 0);
	xdrmem_create(&x, (char *)reply, (u_int)rlen, XDR_DECODE);
	assert_true(xdr_COMPOUND4res(&x, &res));
	xdr_destroy(&x);
	assert_int_equal(res.status, NFS4ERR_TOO_MANY_OPS);
	v4c_free(&res);
	free(reply);
	v4c_close(&c);
}

/* The same request bytes twice on one slot: the second reply is the first, byte for byte. */
static void test_replay_from_slot(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "replay");
	nfs_argop4 ops[3];
	v4c_seq(&c, &ops[0], 2, true);
	v4c_op(&ops[1], OP_PUTROOTFH);
	v4c_op(&ops[2], OP_GETFH);
	COMPOUND4args a = { .minorversion = 1 };
	a.argarray.argarray_len = 3;
	a.argarray.argarray_val = ops;
	char buf[512];
	XDR x;
	xdrmem_create(&x, buf, sizeof(buf), XDR_ENCODE);
	assert_true(xdr_COMPOUND4args(&x, &a));
	size_t len = xdr_getpos(&x);
	xdr_destroy(&x);
	uint8_t *r1, *r2;
	size_t l1, l2;
	assert_int_equal(v4c_call_raw(&c, NFSPROC4_COMPOUND, buf, len, &r1, &l1, NULL), 0);
	assert_int_equal(v4c_call_raw(&c, NFSPROC4_COMPOUND, buf, len, &r2, &l2, NULL), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(r1, r2, l1);
	free(r1);
	free(r2);
	/* Not asked to be cached: a retransmission cannot be answered from the cache. */
	v4c_seq(&c, &ops[0], 3, false);
	xdrmem_create(&x, buf, sizeof(buf), XDR_ENCODE);
	assert_true(xdr_COMPOUND4args(&x, &a));
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	assert_int_equal(v4c_call_raw(&c, NFSPROC4_COMPOUND, buf, len, &r1, &l1, NULL), 0);
	free(r1);
	assert_int_equal(v4c_call_raw(&c, NFSPROC4_COMPOUND, buf, len, &r2, &l2, NULL), 0);
	COMPOUND4res res = { 0 };
	xdrmem_create(&x, (char *)r2, (u_int)l2, XDR_DECODE);
	assert_true(xdr_COMPOUND4res(&x, &res));
	xdr_destroy(&x);
	assert_int_equal(res.status, NFS4ERR_RETRY_UNCACHED_REP);
	v4c_free(&res);
	free(r2);
	v4c_close(&c);
}

static void test_slot_errors(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "slots");
	nfs_argop4 op;
	COMPOUND4res res;
	v4c_seq(&c, &op, 0, false);
	op.nfs_argop4_u.opsequence.sa_sequenceid += 5;
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_SEQ_MISORDERED);
	v4c_free(&res);
	c.slot_seq[0]--;
	v4c_seq(&c, &op, 60, false);
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_BADSLOT);
	v4c_free(&res);
	v4c_seq(&c, &op, 0, false);
	op.nfs_argop4_u.opsequence.sa_sessionid[0] ^= 0xff;
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_BADSESSION);
	v4c_free(&res);
	v4c_close(&c);
}

static void test_filehandles_across_exports(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "fh");
	nfs_argop4 ops[12];
	COMPOUND4res res;
	v4c_op(&ops[0], OP_PUTROOTFH);
	v4c_op(&ops[1], OP_GETFH);
	v4c_lookup(&ops[2], "alpha");
	v4c_op(&ops[3], OP_GETFH);
	v4c_lookup(&ops[4], "sub");
	v4c_op(&ops[5], OP_SAVEFH);
	v4c_op(&ops[6], OP_LOOKUPP);
	v4c_op(&ops[7], OP_GETFH);
	v4c_op(&ops[8], OP_LOOKUPP);
	v4c_op(&ops[9], OP_GETFH);
	v4c_op(&ops[10], OP_RESTOREFH);
	v4c_op(&ops[11], OP_GETFH);
	assert_int_equal(run(&c, ops, 12, &res), NFS4_OK);
	nfs_fh4 root = fh_of(&res, 2), alpha = fh_of(&res, 4), up = fh_of(&res, 8),
		top = fh_of(&res, 10), sub = fh_of(&res, 12);
	assert_memory_equal(up.nfs_fh4_val, alpha.nfs_fh4_val, alpha.nfs_fh4_len);
	assert_int_equal(top.nfs_fh4_len, root.nfs_fh4_len);
	assert_memory_equal(top.nfs_fh4_val, root.nfs_fh4_val, root.nfs_fh4_len);
	assert_true(sub.nfs_fh4_len != alpha.nfs_fh4_len ||
		    memcmp(sub.nfs_fh4_val, alpha.nfs_fh4_val, alpha.nfs_fh4_len));
	v4c_free(&res);

	/* PUTFH of a handle from the first COMPOUND; the root has no parent. */
	v4c_putfh(&ops[0], &root);
	v4c_op(&ops[1], OP_LOOKUPP);
	assert_int_equal(run(&c, ops, 2, &res), NFS4ERR_NOENT);
	v4c_free(&res);
	v4c_putfh(&ops[0], &alpha);
	v4c_lookup(&ops[1], "beta");
	assert_int_equal(run(&c, ops, 2, &res), NFS4ERR_NOENT);
	v4c_free(&res);

	/* Names: ".", "..", with '/', empty, too long. */
	const char *bad[] = { ".", "..", "a/b", "" };
	const nfsstat4 want[] = { NFS4ERR_BADNAME, NFS4ERR_BADNAME, NFS4ERR_BADNAME,
				  NFS4ERR_INVAL };
	for (int i = 0; i < 4; i++) {
		v4c_putfh(&ops[0], &alpha);
		v4c_lookup(&ops[1], bad[i]);
		assert_int_equal(run(&c, ops, 2, &res), want[i]);
		v4c_free(&res);
	}
	char longname[300];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	v4c_putfh(&ops[0], &alpha);
	v4c_lookup(&ops[1], longname);
	assert_int_equal(run(&c, ops, 2, &res), NFS4ERR_NAMETOOLONG);
	v4c_free(&res);

	/* No current or saved filehandle. */
	v4c_op(&ops[0], OP_GETFH);
	assert_int_equal(run(&c, ops, 1, &res), NFS4ERR_NOFILEHANDLE);
	v4c_free(&res);
	v4c_op(&ops[0], OP_RESTOREFH);
	assert_int_equal(run(&c, ops, 1, &res), NFS4ERR_RESTOREFH);
	v4c_free(&res);
	/* A forged handle. */
	nfs_fh4 forged = { alpha.nfs_fh4_len, itest_alloc(alpha.nfs_fh4_len) };
	memcpy(forged.nfs_fh4_val, alpha.nfs_fh4_val, alpha.nfs_fh4_len);
	forged.nfs_fh4_val[forged.nfs_fh4_len - 1] ^= 1;
	v4c_putfh(&ops[0], &forged);
	assert_int_equal(run(&c, ops, 1, &res), NFS4ERR_BADHANDLE);
	v4c_free(&res);
	v4c_close(&c);
}

static void test_secinfo(void **state)
{
	(void)state;
	struct v4c c;
	connect_session(&c, "secinfo");
	nfs_argop4 ops[3];
	COMPOUND4res res;
	v4c_op(&ops[0], OP_PUTROOTFH);
	v4c_op(&ops[1], OP_SECINFO_NO_NAME);
	ops[1].nfs_argop4_u.opsecinfo_no_name = SECINFO_STYLE4_CURRENT_FH;
	v4c_op(&ops[2], OP_GETFH);
	assert_int_equal(run(&c, ops, 3, &res), NFS4ERR_NOFILEHANDLE);
	SECINFO4res *si = &res.resarray.resarray_val[2].nfs_resop4_u.opsecinfo_no_name;
	assert_int_equal(si->status, NFS4_OK);
	assert_int_equal(si->SECINFO4res_u.resok4.SECINFO4resok_len, 1);
	assert_int_equal(si->SECINFO4res_u.resok4.SECINFO4resok_val[0].flavor, 1 /* AUTH_SYS */);
	v4c_free(&res);
	v4c_op(&ops[0], OP_PUTROOTFH);
	v4c_op(&ops[1], OP_SECINFO);
	ops[1].nfs_argop4_u.opsecinfo.name.utf8string_val = "beta";
	ops[1].nfs_argop4_u.opsecinfo.name.utf8string_len = 4;
	assert_int_equal(run(&c, ops, 2, &res), NFS4_OK);
	v4c_free(&res);
	ops[1].nfs_argop4_u.opsecinfo.name.utf8string_val = "gamma";
	ops[1].nfs_argop4_u.opsecinfo.name.utf8string_len = 5;
	assert_int_equal(run(&c, ops, 2, &res), NFS4ERR_NOENT);
	v4c_free(&res);
	v4c_close(&c);
}

static void test_session_lifecycle(void **state)
{
	(void)state;
	struct v4c c, other;
	connect_session(&c, "lifecycle");
	/* Another connection binds to the session, and works on it. */
	assert_int_equal(v4c_connect(&other, srv.port, 0, 0), 0);
	nfs_argop4 op;
	COMPOUND4res res;
	v4c_op(&op, OP_BIND_CONN_TO_SESSION);
	memcpy(op.nfs_argop4_u.opbind_conn_to_session.bctsa_sessid, c.sessionid, 16);
	op.nfs_argop4_u.opbind_conn_to_session.bctsa_dir = CDFC4_FORE_OR_BOTH;
	assert_int_equal(v4c_compound(&other, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	v4c_free(&res);
	memcpy(other.sessionid, c.sessionid, 16);
	memcpy(other.slot_seq, c.slot_seq, sizeof(c.slot_seq));
	v4c_seq(&other, &op, 0, false);
	c.slot_seq[0]++;
	assert_int_equal(v4c_compound(&other, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	v4c_free(&res);
	/* Busy while the session lives; then the session goes, then the client. */
	v4c_op(&op, OP_DESTROY_CLIENTID);
	op.nfs_argop4_u.opdestroy_clientid.dca_clientid = c.clientid;
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_CLIENTID_BUSY);
	v4c_free(&res);
	v4c_op(&op, OP_DESTROY_SESSION);
	memcpy(op.nfs_argop4_u.opdestroy_session.dsa_sessionid, c.sessionid, 16);
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	v4c_free(&res);
	v4c_seq(&c, &op, 0, false);
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_BADSESSION);
	v4c_free(&res);
	v4c_op(&op, OP_DESTROY_CLIENTID);
	op.nfs_argop4_u.opdestroy_clientid.dca_clientid = c.clientid;
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4_OK);
	v4c_free(&res);
	assert_int_equal(v4c_compound(&c, &op, 1, &res), 0);
	assert_int_equal(res.status, NFS4ERR_STALE_CLIENTID);
	v4c_free(&res);
	v4c_close(&other);
	v4c_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minor_versions),
		cmocka_unit_test(test_rules_without_session),
		cmocka_unit_test(test_sequence_position_and_limits),
		cmocka_unit_test(test_badxdr),
		cmocka_unit_test(test_replay_from_slot),
		cmocka_unit_test(test_slot_errors),
		cmocka_unit_test(test_filehandles_across_exports),
		cmocka_unit_test(test_secinfo),
		cmocka_unit_test(test_session_lifecycle),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
