/*
 * Calls answered on the event thread (rpc_process_inline): only the cheap
 * procedures, only from the handle cache, and nothing done when a call has
 * to go to a worker after all -- the worker's answer must be the same.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "cred.h"
#include "export.h"
#include "fh.h"
#include "log.h"
#include "nfs3.h"
#include "objcache.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XID 0x51515151u

static struct ut_export fx;
static struct export *ex; /* fx.ex */
static const char *exdir; /* fx.exdir */

static void build(struct ut_buf *b, uint32_t proc, const struct fh_buf *fh, const char *name)
{
	memset(b, 0, sizeof(*b));
	const uint32_t hdr[] = { XID, 0 /* CALL */, 2, 100003, 3, proc, 0, 0, 0, 0 };
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		ut_put32(b, hdr[i]);
	if (fh)
		ut_put_opaque(b, fh->data, fh->len);
	if (name)
		ut_put_opaque(b, name, (uint32_t)strlen(name));
	if (proc == 4) /* ACCESS: the bits asked for */
		ut_put32(b, 0x3f);
	if (proc == 7) { /* WRITE: offset, count, stable, data */
		ut_put32(b, 0);
		ut_put32(b, 0);
		ut_put32(b, 1);
		ut_put32(b, 0);
		ut_put32(b, 1);
		ut_put32(b, 0);
	}
}

/* A call leaves the thread as its caller; the test itself works as root. */
static void back_to_root(void)
{
	const struct ids root = { 0 };
	assert_int_equal(cred_apply(&root), 0);
}

/* Run one call, on the event thread's path or a worker's; false: not answered. */
static bool call(bool on_event_thread, uint32_t proc, const struct fh_buf *fh, const char *name,
		 struct rpc_reply *rep)
{
	struct ut_buf rec;
	build(&rec, proc, fh, name);
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	memset(rep, 0, sizeof(*rep));
	bool done = true;
	if (on_event_thread)
		done = rpc_process_inline(rec.p, rec.len, &u.peer, rep);
	else
		rpc_process(rec.p, rec.len, &u.peer, rep);
	ut_buf_free(&rec);
	back_to_root();
	return done;
}

static bool run_inline(uint32_t proc, const struct fh_buf *fh, const char *name,
		       struct rpc_reply *rep)
{
	return call(true, proc, fh, name, rep);
}

static void run_worker(uint32_t proc, const struct fh_buf *fh, const char *name,
		       struct rpc_reply *rep)
{
	call(false, proc, fh, name, rep);
}

/* The accepted reply's result status (word 6 of the body), or -1. */
static int64_t nfs_status(const struct rpc_reply *rep)
{
	if (rep->drop || rep->len < RPC_REPLY_RESERVE + 28)
		return -1;
	if (ut_get32(rep->buf + RPC_REPLY_RESERVE) != XID ||
	    ut_get32(rep->buf + RPC_REPLY_RESERVE + 20) != 0 /* SUCCESS */)
		return -1;
	return ut_get32(rep->buf + RPC_REPLY_RESERVE + 24);
}

static void assert_untouched(const struct rpc_reply *rep)
{
	assert_null(rep->buf);
	assert_int_equal(rep->len, 0);
	assert_false(rep->drop);
}

static void hmake(const char *rel, struct fh_buf *out)
{
	ut_hmake(ex, rel, out);
}

static void hroot(struct fh_buf *out)
{
	ut_hmake(ex, "", out);
}

static void test_only_cheap_procedures(void **state)
{
	(void)state;
	struct rpc_reply rep;
	assert_true(run_inline(0, NULL, NULL, &rep)); /* NULL */
	assert_int_equal(rep.len, RPC_REPLY_RESERVE + 24);
	rpc_reply_free(&rep);

	struct fh_buf f;
	hmake("file", &f);
	/* WRITE, READDIR, COMMIT...: never on the event thread. */
	assert_false(run_inline(7, &f, NULL, &rep));
	assert_untouched(&rep);
	assert_false(run_inline(16, &f, NULL, &rep));
	assert_untouched(&rep);
}

static void test_uncached_handle_goes_to_worker(void **state)
{
	(void)state;
	oc_shutdown(); /* empty cache */
	struct fh_buf f;
	hmake("file", &f);
	struct rpc_reply rep, wrep;
	assert_false(run_inline(1, &f, NULL, &rep)); /* GETATTR */
	assert_untouched(&rep);
	assert_false(run_inline(4, &f, NULL, &rep)); /* ACCESS */
	assert_untouched(&rep);

	/* The worker opens it (and caches it): now it is answered inline, alike. */
	run_worker(1, &f, NULL, &wrep);
	assert_int_equal(nfs_status(&wrep), NFS3_OK);
	assert_true(run_inline(1, &f, NULL, &rep));
	assert_int_equal(nfs_status(&rep), NFS3_OK);
	assert_int_equal(rep.len, wrep.len);
	/* Same fattr3 up to the times (type ... fileid: 60 bytes after the status). */
	assert_memory_equal(rep.buf + RPC_REPLY_RESERVE + 28, wrep.buf + RPC_REPLY_RESERVE + 28,
			    60);
	rpc_reply_free(&rep);
	rpc_reply_free(&wrep);
	assert_true(run_inline(4, &f, NULL, &rep));
	assert_int_equal(nfs_status(&rep), NFS3_OK);
	rpc_reply_free(&rep);
}

static void test_lookup_inline(void **state)
{
	(void)state;
	struct fh_buf root;
	hroot(&root);
	struct rpc_reply rep;
	oc_shutdown();
	assert_false(run_inline(3, &root, "file", &rep)); /* directory not cached */
	assert_untouched(&rep);
	run_worker(3, &root, "file", &rep);
	assert_int_equal(nfs_status(&rep), NFS3_OK);
	rpc_reply_free(&rep);
	assert_true(run_inline(3, &root, "file", &rep));
	assert_int_equal(nfs_status(&rep), NFS3_OK);
	rpc_reply_free(&rep);
	assert_true(run_inline(3, &root, "missing", &rep));
	assert_int_equal(nfs_status(&rep), NFS3ERR_NOENT);
	rpc_reply_free(&rep);
}

static void test_bad_and_gone_handles(void **state)
{
	(void)state;
	struct rpc_reply rep;
	/* A forged handle is refused before the cache: no worker needed. */
	struct fh_buf f;
	hmake("file", &f);
	f.data[9] ^= 0x40;
	assert_true(run_inline(1, &f, NULL, &rep));
	assert_int_equal(nfs_status(&rep), NFS3ERR_BADHANDLE);
	rpc_reply_free(&rep);

	/* A cached object removed behind the server's back: the worker says STALE. */
	char *p = ut_join(exdir, "doomed");
	ut_touch(p);
	struct fh_buf d;
	hmake("doomed", &d);
	run_worker(1, &d, NULL, &rep);
	assert_int_equal(nfs_status(&rep), NFS3_OK);
	rpc_reply_free(&rep);
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_false(run_inline(1, &d, NULL, &rep));
	assert_untouched(&rep);
	run_worker(1, &d, NULL, &rep);
	assert_int_equal(nfs_status(&rep), NFS3ERR_STALE);
	rpc_reply_free(&rep);
}

static int setup(void **state)
{
	(void)state;
	log_set_level(LOG_LVL_ERROR);
	if (ut_export_init(&fx, "inline") != 0)
		return -1;
	ex = fx.ex;
	exdir = fx.exdir;
	char *f = ut_join(exdir, "file");
	ut_touch(f);
	free(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ut_export_free(&fx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_cheap_procedures),
		cmocka_unit_test(test_uncached_handle_goes_to_worker),
		cmocka_unit_test(test_lookup_inline),
		cmocka_unit_test(test_bad_and_gone_handles),
	};
	return cmocka_run_group_tests_name("inline", tests, setup, teardown);
}
