/* Per-thread identities and squashing (server/cred.c, req_enter_export). */
#define _GNU_SOURCE
#include "unit.h"

#include "cred.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *base;
static struct export_opts eo;

static int setup(void **state)
{
	(void)state;
	cred_init();
	base = ut_mkdtemp("cred");
	if (!base)
		return -1;
	memset(&eo, 0, sizeof(eo));
	eo.root_squash = true;
	eo.anonuid = 65534;
	eo.anongid = 65533;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ut_rm_rf(base);
	free(base);
	return 0;
}

static struct rpc_cred sys_cred(uint32_t uid, uint32_t gid, uint32_t ngids)
{
	struct rpc_cred c;
	memset(&c, 0, sizeof(c));
	c.flavor = RPC_AUTH_SYS;
	c.uid = uid;
	c.gid = gid;
	c.ngids = ngids;
	for (uint32_t i = 0; i < ngids; i++)
		c.gids[i] = 2000 + i;
	return c;
}

static void expect_anon(const struct ids *ids, const char *what)
{
	if (ids->uid != eo.anonuid || ids->gid != eo.anongid || ids->ngroups != 0)
		fail_msg("%s: %u/%u (+%u groups), want the anonymous %u/%u", what,
			 (unsigned)ids->uid, (unsigned)ids->gid, ids->ngroups, (unsigned)eo.anonuid,
			 (unsigned)eo.anongid);
}

static void test_map(void **state)
{
	(void)state;
	if (!cred_server_is_root()) {
		/* Unprivileged: everyone is the server's own user. */
		struct rpc_cred c = sys_cred(0, 0, 0);
		struct ids ids;
		cred_map(&c, &eo, &ids);
		assert_int_equal(ids.uid, geteuid());
		assert_int_equal(ids.gid, getegid());
		skip();
	}
	struct ids ids;

	struct rpc_cred c = sys_cred(1000, 100, RPC_MAX_GIDS);
	cred_map(&c, &eo, &ids);
	assert_int_equal(ids.uid, 1000);
	assert_int_equal(ids.gid, 100);
	assert_int_equal(ids.ngroups, RPC_MAX_GIDS);
	for (unsigned i = 0; i < RPC_MAX_GIDS; i++)
		assert_int_equal(ids.groups[i], 2000 + i);

	/* root: squashed under root_squash (whoever the client is), root under no_root_squash. */
	c = sys_cred(0, 0, 2);
	cred_map(&c, &eo, &ids);
	expect_anon(&ids, "root with root_squash");
	struct export_opts nosq = eo;
	nosq.root_squash = false;
	cred_map(&c, &nosq, &ids);
	assert_int_equal(ids.uid, 0);
	assert_int_equal(ids.gid, 0);
	assert_int_equal(ids.ngroups, 2);

	/* gid 0 alone is not root. */
	c = sys_cred(5, 0, 0);
	cred_map(&c, &eo, &ids);
	assert_int_equal(ids.uid, 5);
	assert_int_equal(ids.gid, 0);

	/* all_squash: everybody, root included, even under no_root_squash. */
	struct export_opts all = nosq;
	all.all_squash = true;
	c = sys_cred(1000, 100, 3);
	cred_map(&c, &all, &ids);
	expect_anon(&ids, "all_squash");
	c = sys_cred(0, 0, 0);
	cred_map(&c, &all, &ids);
	expect_anon(&ids, "all_squash, root");

	/* AUTH_NONE is anonymous. */
	struct rpc_cred none;
	memset(&none, 0, sizeof(none));
	none.flavor = RPC_AUTH_NONE;
	none.uid = none.gid = UINT32_MAX;
	cred_map(&none, &nosq, &ids);
	expect_anon(&ids, "AUTH_NONE");
}

/*
 * (uint32_t)-1 names nobody: Linux has no such id (setfsuid(-1) only
 * queries, setgroups refuses it). As knfsd, an AUTH_SYS uid or gid of -1 is
 * the export's anonymous one and a group of -1 is no group. Found by
 * tests/fuzz: before, every call of such a client failed with SERVERFAULT
 * and logged an error (tests/fuzz/regressions/serverfault-gid-minus-1).
 */
static void test_minus_one_is_anonymous(void **state)
{
	(void)state;
	if (!cred_server_is_root())
		skip();
	struct ids ids;
	struct rpc_cred c = sys_cred(UINT32_MAX, UINT32_MAX, 3);
	c.gids[1] = UINT32_MAX;
	cred_map(&c, &eo, &ids);
	assert_int_equal(ids.uid, eo.anonuid);
	assert_int_equal(ids.gid, eo.anongid);
	assert_int_equal(ids.ngroups, 2);
	assert_int_equal(ids.groups[0], 2000);
	assert_int_equal(ids.groups[1], 2002);
	c = sys_cred(1000, UINT32_MAX, 0);
	cred_map(&c, &eo, &ids);
	assert_int_equal(ids.uid, 1000);
	assert_int_equal(ids.gid, eo.anongid);

	/* And a request of such a client runs (as the anonymous user). */
	struct ut_rpc u;
	ut_rpc_init(&u, UINT32_MAX, 100);
	u.call.cred.ngids = 1;
	u.call.cred.gids[0] = UINT32_MAX;
	struct export ex;
	memset(&ex, 0, sizeof(ex));
	assert_int_equal(req_enter_export(&u.req, &ex, &eo), 0);
	assert_int_equal(setfsuid((uid_t)-1), 65534);
	assert_int_equal(setfsgid((gid_t)-1), 100);
	struct ids root = { 0 };
	assert_int_equal(cred_apply(&root), 0);
	ut_rpc_done(&u);
}

struct probe {
	struct ids want;
	int rc;
	uid_t fsuid;
	gid_t fsgid;
	int ngroups;
	gid_t groups[64];
	int access_before, access_escalated, access_nested, access_after;
	int fd; /* O_PATH, opened before the switch */
};

static void *apply_thread(void *arg)
{
	struct probe *p = arg;
	p->rc = cred_apply(&p->want);
	p->fsuid = (uid_t)setfsuid((uid_t)-1);
	p->fsgid = (gid_t)setfsgid((gid_t)-1);
	p->ngroups = (int)syscall(SYS_getgroups, 64, p->groups);
	int fd = p->fd;
	p->access_before = fs_access(fd, R_OK);
	cred_escalate();
	p->access_escalated = fs_access(fd, R_OK);
	cred_escalate(); /* nested */
	cred_restore();
	p->access_nested = fs_access(fd, R_OK);
	cred_restore();
	p->access_after = fs_access(fd, R_OK);
	const struct ids *cur = cred_current();
	if (cur->uid != p->want.uid || cur->gid != p->want.gid)
		p->rc = -1000;
	return NULL;
}

static void test_apply_per_thread(void **state)
{
	(void)state;
	if (!cred_server_is_root())
		skip();
	char *secret = ut_join(base, "secret");
	int fd = open(secret, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);

	struct probe p;
	memset(&p, 0, sizeof(p));
	p.want.uid = 1234;
	p.want.gid = 5678;
	p.want.ngroups = 2;
	p.want.groups[0] = 7;
	p.want.groups[1] = 8;
	p.fd = open(secret, O_PATH | O_CLOEXEC);
	assert_true(p.fd >= 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, apply_thread, &p), 0);
	pthread_join(th, NULL);
	close(p.fd);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.fsuid, 1234);
	assert_int_equal(p.fsgid, 5678);
	assert_int_equal(p.ngroups, 2);
	assert_int_equal(p.groups[0], 7);
	assert_int_equal(p.groups[1], 8);
	/* The kernel checks the caller as itself; escalation brackets root steps. */
	assert_int_equal(p.access_before, -EACCES);
	assert_int_equal(p.access_escalated, 0);
	assert_int_equal(p.access_nested, 0);
	assert_int_equal(p.access_after, -EACCES);

	/* This thread was not touched. */
	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_int_equal(setfsgid((gid_t)-1), 0);
	fd = open(secret, O_PATH | O_CLOEXEC);
	assert_int_equal(fs_access(fd, R_OK), 0);
	close(fd);
	free(secret);
}

static void test_req_enter_export(void **state)
{
	(void)state;
	if (!cred_server_is_root())
		skip();
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	/* Root under root_squash. */
	struct export ex;
	memset(&ex, 0, sizeof(ex));
	assert_int_equal(req_enter_export(&u.req, &ex, &eo), 0);
	assert_ptr_equal(u.req.ex, &ex);
	assert_ptr_equal(u.req.opts, &eo);
	assert_true(u.req.ids_set);
	expect_anon(&u.req.ids, "req_enter_export, root");
	assert_int_equal(setfsuid((uid_t)-1), 65534);
	/* Back to root for the rest of the process. */
	struct ids root = { 0 };
	assert_int_equal(cred_apply(&root), 0);
	assert_int_equal(setfsuid((uid_t)-1), 0);
	ut_rpc_done(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_apply_per_thread),
		cmocka_unit_test(test_req_enter_export),
		cmocka_unit_test(test_minus_one_is_anonymous),
	};
	return cmocka_run_group_tests_name("cred", tests, setup, teardown);
}
