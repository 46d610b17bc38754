/*
 * test_drc.c - the duplicate request cache: a retransmitted non-idempotent
 * request (same client, same xid, same arguments) gets the original reply
 * instead of running twice. Byte-identical raw RPC records over TCP and UDP
 * for REMOVE; libnfs with a pinned xid for CREATE, MKDIR, SYMLINK, MKNOD,
 * RMDIR, RENAME, LINK and SETATTR. A new xid, or the same xid with other
 * arguments, runs anew.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *P(const char *rel)
{
	return itest_path(&wt_env, rel);
}

static bool exists(const char *rel)
{
	struct stat st;
	return lstat(P(rel), &st) == 0;
}

static void remove_msg(xbuf *m, uint32_t xid, const fh_t *dir, const char *name)
{
	xb_init(m);
	wt_raw_hdr(m, xid, 12 /* REMOVE */, 0, 0);
	xb_opaque(m, dir->data, dir->len);
	xb_opaque(m, name, strlen(name));
}

static void test_remove_replayed_tcp(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "tcp");
	wt_make_file(&wt_env, "tcp/victim", "v", 0, 0, 0644);
	int fd = rr_tcp_connect(wt_srv.port, 0);
	assert_true(fd >= 0);
	xbuf m;
	remove_msg(&m, 0x7e570001, &d, "victim");
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570001), NFS3_OK);
	assert_false(exists("tcp/victim"));
	/* the very same record again: the original reply, not NOENT */
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570001), NFS3_OK);
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570001), NFS3_OK);
	xb_free(&m);
	/* a new xid is a new request */
	remove_msg(&m, 0x7e570002, &d, "victim");
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570002), NFS3ERR_NOENT);
	xb_free(&m);
	/* the file, recreated locally, is not removed by another replay */
	wt_make_file(&wt_env, "tcp/victim", "v2", 0, 0, 0644);
	remove_msg(&m, 0x7e570001, &d, "victim");
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570001), NFS3_OK);
	xb_free(&m);
	assert_true(exists("tcp/victim"));
	/* same xid, other arguments: runs */
	wt_make_file(&wt_env, "tcp/other", "o", 0, 0, 0644);
	remove_msg(&m, 0x7e570001, &d, "other");
	assert_nfsstat(wt_raw_call(fd, &m, 0x7e570001), NFS3_OK);
	xb_free(&m);
	assert_false(exists("tcp/other"));
	assert_true(exists("tcp/victim"));
	close(fd);
}

static void test_remove_replayed_udp(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "udp");
	wt_make_file(&wt_env, "udp/victim", "v", 0, 0, 0644);
	int fd = rr_udp_socket(wt_srv.port, 0);
	assert_true(fd >= 0);
	xbuf m;
	remove_msg(&m, 0x7e580001, &d, "victim");
	unsigned char reply[2048];
	for (int i = 0; i < 3; i++) {
		long n = rr_udp_call(fd, m.buf, m.len, 0x7e580001, reply, sizeof(reply), 10000);
		assert_true(n > 0);
		rr_reply rep;
		assert_int_equal(rr_parse_reply(reply, (size_t)n, &rep), 0);
		assert_int_equal(rep.accept_stat, RR_SUCCESS);
		uint32_t be;
		memcpy(&be, rep.body, 4);
		assert_nfsstat(ntohl(be), NFS3_OK);
		assert_false(exists("udp/victim"));
	}
	xb_free(&m);
	close(fd);
}

/* ---- libnfs with a pinned xid ---- */

#define XID_BASE 0x44525000u
static uint32_t next_xid = XID_BASE;

static void test_procs_replayed(void **state)
{
	struct wt_ctx *x = *state;
	itc_t *c = x->c;
	fh_t d = wt_dir_fh(x, "lib");
	sattr3 sa = wt_sattr_mode(0644);

	/* CREATE GUARDED: the replay returns the original OK and the same handle */
	uint32_t xid = next_xid++;
	CREATE3res cr1, cr2;
	rpc_set_next_xid(c->rpc, xid);
	ITC_CALL(c, wtc_create(c, &d, "f", GUARDED, &sa, NULL, &cr1));
	assert_nfsstat(cr1.status, NFS3_OK);
	rpc_set_next_xid(c->rpc, xid);
	ITC_CALL(c, wtc_create(c, &d, "f", GUARDED, &sa, NULL, &cr2));
	assert_nfsstat(cr2.status, NFS3_OK);
	fh_t h1 = wt_post_fh(&cr1.CREATE3res_u.resok.obj);
	fh_t h2 = wt_post_fh(&cr2.CREATE3res_u.resok.obj);
	assert_true(itc_fh_equal(&h1, &h2));
	/* and without the cache it would have been EXIST */
	ITC_CALL(c, wtc_create(c, &d, "f", GUARDED, &sa, NULL, &cr2));
	assert_nfsstat(cr2.status, NFS3ERR_EXIST);

	/* MKDIR */
	xid = next_xid++;
	MKDIR3res md;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_mkdir(c, &d, "dir", &sa, &md));
		assert_nfsstat(md.status, NFS3_OK);
	}
	/* same xid, another name: a different request */
	rpc_set_next_xid(c->rpc, xid);
	ITC_CALL(c, wtc_mkdir(c, &d, "dir2", &sa, &md));
	assert_nfsstat(md.status, NFS3_OK);
	assert_true(exists("lib/dir2"));

	/* SYMLINK */
	xid = next_xid++;
	SYMLINK3res sy;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_symlink(c, &d, "sl", "target", NULL, &sy));
		assert_nfsstat(sy.status, NFS3_OK);
	}

	/* MKNOD */
	xid = next_xid++;
	MKNOD3res mk;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_mknod(c, &d, "fifo", NF3FIFO, &sa, 0, 0, &mk));
		assert_nfsstat(mk.status, NFS3_OK);
	}

	/* LINK */
	xid = next_xid++;
	LINK3res ln;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_link(c, &h1, &d, "f2", &ln));
		assert_nfsstat(ln.status, NFS3_OK);
	}
	assert_int_equal(wt_lstat(&wt_env, "lib/f").st_nlink, 2);

	/* RENAME: the replay must not answer NOENT */
	xid = next_xid++;
	RENAME3res rn;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_rename(c, &d, "f2", &d, "f3", &rn));
		assert_nfsstat(rn.status, NFS3_OK);
	}
	assert_true(exists("lib/f3") && !exists("lib/f2"));

	/* RMDIR */
	xid = next_xid++;
	RMDIR3res rd;
	for (int i = 0; i < 2; i++) {
		rpc_set_next_xid(c->rpc, xid);
		ITC_CALL(c, wtc_rmdir(c, &d, "dir", &rd));
		assert_nfsstat(rd.status, NFS3_OK);
	}

	/* SETATTR with a guard: the first call changes ctime, the replay still says OK */
	struct stat st = wt_lstat(&wt_env, "lib/f");
	nfstime3 guard = { (uint32_t)st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec };
	sattr3 m = wt_sattr_mode(0600);
	xid = next_xid++;
	SETATTR3res s1, s2;
	rpc_set_next_xid(c->rpc, xid);
	ITC_CALL(c, wtc_setattr(c, &h1, &m, &guard, &s1));
	assert_nfsstat(s1.status, NFS3_OK);
	rpc_set_next_xid(c->rpc, xid);
	ITC_CALL(c, wtc_setattr(c, &h1, &m, &guard, &s2));
	assert_nfsstat(s2.status, NFS3_OK);
	/* the replayed reply is the original one, wcc included */
	assert_memory_equal(&s1.SETATTR3res_u.resok.obj_wcc, &s2.SETATTR3res_u.resok.obj_wcc,
			    sizeof(wcc_data));
	ITC_CALL(c, wtc_setattr(c, &h1, &m, &guard, &s2));
	assert_nfsstat(s2.status, NFS3ERR_NOT_SYNC);
}

static void test_other_client_not_replayed(void **state)
{
	struct wt_ctx *x = *state;
	fh_t d = wt_dir_fh(x, "two");
	wt_make_file(&wt_env, "two/a", "", 0, 0, 0644);
	/* another connection (another client address) with the same xid and arguments */
	int fd1 = rr_tcp_connect(wt_srv.port, 0), fd2 = rr_tcp_connect(wt_srv.port, 0);
	assert_true(fd1 >= 0 && fd2 >= 0);
	xbuf m;
	remove_msg(&m, 0x7e590001, &d, "a");
	assert_nfsstat(wt_raw_call(fd1, &m, 0x7e590001), NFS3_OK);
	assert_nfsstat(wt_raw_call(fd2, &m, 0x7e590001), NFS3ERR_NOENT);
	xb_free(&m);
	close(fd1);
	close(fd2);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("drc", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_remove_replayed_tcp),
		T(test_remove_replayed_udp),
		T(test_procs_replayed),
		T(test_other_client_not_replayed),
	};
	return cmocka_run_group_tests_name("write.drc", tests, gsetup, wt_group_teardown);
}
