/*
 * What the dispatch layer (server/rpc/dispatch.c) tells others about a
 * call: rpc_classify, the transport's only view into a record (its expected
 * reply size, whether it is bulk I/O, whether it may run inline).
 */
#include "unit.h"

#include "req.h"
#include "rpc.h"

#include <stdlib.h>
#include <string.h>

#define NFS_PROG 100003
#define MOUNT_PROG 100005

/* A call header with an AUTH_SYS credential of the given machine name. */
static void call_header(struct ut_buf *b, uint32_t prog, uint32_t vers, uint32_t proc,
			const char *machine)
{
	memset(b, 0, sizeof(*b));
	const uint32_t hdr[] = { 0x1111, 0 /* CALL */, 2, prog, vers, proc };
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		ut_put32(b, hdr[i]);
	struct ut_buf cred = { 0 };
	ut_put32(&cred, 0); /* stamp */
	ut_put_opaque(&cred, machine, (uint32_t)strlen(machine));
	ut_put32(&cred, 1000); /* uid */
	ut_put32(&cred, 1000); /* gid */
	ut_put32(&cred, 0);    /* no groups */
	ut_put32(b, 1);	       /* AUTH_SYS */
	ut_put_opaque(b, cred.p, (uint32_t)cred.len);
	ut_buf_free(&cred);
	ut_put32(b, 0); /* verifier: AUTH_NONE */
	ut_put32(b, 0);
}

/* READ3args after the header: a handle of fhlen bytes, offset, count. */
static void read_call(struct ut_buf *b, uint32_t prog, uint32_t vers, uint32_t count,
		      uint32_t fhlen)
{
	call_header(b, prog, vers, 6, "client.example");
	uint8_t fh[64] = { 0 };
	ut_put_opaque(b, fh, fhlen);
	ut_put32(b, 0); /* offset, high word */
	ut_put32(b, 4096);
	ut_put32(b, count);
}

static void test_read_reserves_its_count(void **state)
{
	(void)state;
	struct ut_buf b;
	read_call(&b, NFS_PROG, 3, 65536, 29); /* an odd handle length: XDR padding */
	struct rpc_hint h = rpc_classify(b.p, b.len);
	assert_int_equal(h.reply_bytes, 65536);
	assert_false(h.bulk);
	assert_true(h.may_inline); /* small: dispatch decides it needs a worker */
	ut_buf_free(&b);

	read_call(&b, NFS_PROG, 3, 64u << 20, 32); /* beyond any READ we'd send */
	assert_int_equal(rpc_classify(b.p, b.len).reply_bytes, 1u << 20);
	ut_buf_free(&b);
}

static void test_only_nfs3_read_has_an_estimate(void **state)
{
	(void)state;
	struct ut_buf b;
	read_call(&b, NFS_PROG, 2, 8192, 32); /* NFSv2 proc 6 is READ too, but not ours */
	assert_int_equal(rpc_classify(b.p, b.len).reply_bytes, 0);
	ut_buf_free(&b);
	read_call(&b, MOUNT_PROG, 3, 8192, 32); /* MOUNT proc 6 does not exist */
	assert_int_equal(rpc_classify(b.p, b.len).reply_bytes, 0);
	ut_buf_free(&b);

	call_header(&b, NFS_PROG, 3, 1, "c"); /* GETATTR */
	uint8_t fh[32] = { 0 };
	ut_put_opaque(&b, fh, sizeof(fh));
	struct rpc_hint h = rpc_classify(b.p, b.len);
	assert_int_equal(h.reply_bytes, 0);
	assert_false(h.bulk);
	assert_true(h.may_inline);
	ut_buf_free(&b);
}

/* Every cut of a READ record: nothing is read past its end (ASan), no estimate. */
static void test_truncated_records(void **state)
{
	(void)state;
	struct ut_buf b;
	read_call(&b, NFS_PROG, 3, 4096, 32);
	for (size_t len = 0; len < b.len; len++) {
		uint8_t *cut = malloc(len ? len : 1);
		assert_non_null(cut);
		memcpy(cut, b.p, len);
		struct rpc_hint h = rpc_classify(cut, len);
		free(cut);
		if (h.reply_bytes != 0)
			fail_msg("a READ cut to %zu of %zu bytes reserved %zu reply bytes", len,
				 b.len, h.reply_bytes);
	}
	assert_int_equal(rpc_classify(b.p, b.len).reply_bytes, 4096);
	ut_buf_free(&b);
}

/* Size alone makes a call bulk; the same bound keeps it off the event thread. */
static void test_bulk_by_size(void **state)
{
	(void)state;
	struct ut_buf b;
	call_header(&b, NFS_PROG, 3, 7, "c"); /* WRITE */
	while (b.len < 1024)
		ut_put32(&b, 0);
	assert_int_equal(b.len, 1024);
	struct rpc_hint h = rpc_classify(b.p, b.len);
	assert_false(h.bulk);
	assert_true(h.may_inline);
	ut_put32(&b, 0);
	h = rpc_classify(b.p, b.len);
	assert_true(h.bulk);
	assert_false(h.may_inline);
	assert_int_equal(h.reply_bytes, 0);
	ut_buf_free(&b);
}

/* The log reads a status only from results that begin with one (never a list's pointer). */
static void test_result_status(void **state)
{
	const struct prog_desc *progs[] = { &nfs3_program, &mount1_program, &mount3_program };
	int status;
	union {
		int st;
		void *list;
		char bytes[512];
	} res;
	memset(&res, 0, sizeof(res));
	res.st = 70; /* NFS3ERR_STALE */
	/* Every NFSv3 procedure but NULL returns a status first. */
	for (size_t i = 1; i < nfs3_program.nprocs; i++) {
		assert_true(proc_result_status(&nfs3_program.procs[i], &res, &status));
		assert_int_equal(status, 70);
	}
	assert_false(proc_result_status(&nfs3_program.procs[0], &res, &status));
	for (size_t p = 1; p < 3; p++) {
		const struct prog_desc *pd = progs[p];
		for (size_t i = 0; i < pd->nprocs; i++) {
			bool has = proc_result_status(&pd->procs[i], &res, &status);
			/* MNT (1) has a status; NULL, DUMP, UMNT, UMNTALL, EXPORT do not. */
			if (has != (i == 1))
				fail_msg("%s: status %s", pd->procs[i].name,
					 has ? "read" : "not read");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_reserves_its_count),
		cmocka_unit_test(test_only_nfs3_read_has_an_estimate),
		cmocka_unit_test(test_truncated_records),
		cmocka_unit_test(test_bulk_by_size),
		cmocka_unit_test(test_result_status),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
