/*
 * test_rpc.c - RPC-layer behaviour of loopnfsd, with hand-written XDR over
 * plain sockets: TCP record marking (multi-fragment records, trickled
 * bytes, pipelining), UDP, PROG_MISMATCH for NFS v2/v4, PROC_UNAVAIL,
 * PROG_UNAVAIL, GARBAGE_ARGS, RPC_MISMATCH, AUTH_NONE/AUTH_SYS accepted,
 * malformed credentials -> AUTH_BADCRED, and robustness against junk.
 */
#define _GNU_SOURCE
#include "itest.h"
#include "rawrpc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define TMO 20000

static struct itest_env g_env;
static struct itest_server g_srv;
static uint32_t g_xid = 0x10000;

enum {
	NFS_PROG = 100003,
	MNT_PROG = 100005,
	NFSPROC3_NULL = 0,
	NFSPROC3_GETATTR = 1,
	NFSPROC3_LOOKUP = 3,
	NFSPROC3_ACCESS = 4,
	NFSPROC3_READ = 6,
	NFSPROC3_READDIR = 16,
	MOUNTPROC_MNT = 1,
};

static const size_t k_file_size = 200000;

static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "rpc") != 0)
		return -1;
	unsigned char *buf = malloc(k_file_size);
	itest_pattern(buf, k_file_size, 0, 7);
	int rc = itest_write_file(itest_path(&g_env, "data.bin"), buf, k_file_size);
	free(buf);
	if (rc != 0)
		return -1;
	/* NFSv4.1 is opt-in while its operations are being written. */
	static const char *const v4[] = { "--nfs4", NULL };
	return itest_server_start(&g_srv, &g_env, v4);
}

static int group_teardown(void **state)
{
	(void)state;
	int st = itest_server_stop(&g_srv);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return itest_check_server_teardown(&g_srv);
}

/* ------------------------------------------------------------ helpers */

/* Port used by tcp_call (0: the group's server). */
static int g_target_port;

/* One call on a fresh TCP connection; fails the test on transport errors. */
static rr_reply tcp_call(const xbuf *msg, unsigned char **raw)
{
	rr_reply rep;
	if (rr_tcp_call(g_target_port ? g_target_port : g_srv.port, msg->buf, msg->len, raw, &rep,
			TMO) != 0)
		fail_msg("no (parsable) RPC reply over TCP");
	return rep;
}

/* Send on an existing connection and read one reply. */
static rr_reply conn_call(int fd, const xbuf *msg, unsigned char **raw)
{
	rr_reply rep;
	if (rr_tcp_send_record(fd, msg->buf, msg->len, NULL, 0, 0) != 0)
		fail_msg("send failed");
	long n = rr_tcp_recv_record(fd, raw, TMO);
	if (n < 0)
		fail_msg("no reply on the connection (%ld)", n);
	if (rr_parse_reply(*raw, (size_t)n, &rep) != 0)
		fail_msg("unparsable reply (%ld bytes)", n);
	return rep;
}

static void expect_accepted(const rr_reply *r, uint32_t xid, uint32_t accept_stat)
{
	assert_int_equal(r->xid, xid);
	if (r->reply_stat != RR_MSG_ACCEPTED)
		fail_msg("xid %u: expected MSG_ACCEPTED/%s, got MSG_DENIED (reject_stat %u, "
			 "auth_stat %s)",
			 xid, rr_accept_name(accept_stat), r->reject_stat,
			 rr_auth_name(r->auth_stat));
	if (r->accept_stat != accept_stat)
		fail_msg("xid %u: expected accept_stat %s, got %s(%u)", xid,
			 rr_accept_name(accept_stat), rr_accept_name(r->accept_stat),
			 r->accept_stat);
}

static void expect_auth_error(const rr_reply *r, uint32_t xid, uint32_t auth_stat)
{
	assert_int_equal(r->xid, xid);
	if (r->reply_stat != RR_MSG_DENIED)
		fail_msg("xid %u: expected MSG_DENIED/AUTH_ERROR/%s, got MSG_ACCEPTED/%s", xid,
			 rr_auth_name(auth_stat), rr_accept_name(r->accept_stat));
	if (r->reject_stat != RR_AUTH_ERROR)
		fail_msg("xid %u: expected AUTH_ERROR, got reject_stat %u", xid, r->reject_stat);
	if (r->auth_stat != auth_stat)
		fail_msg("xid %u: expected %s, got %s(%u)", xid, rr_auth_name(auth_stat),
			 rr_auth_name(r->auth_stat), r->auth_stat);
}

/* NULL call of prog/vers over a fresh connection. */
static rr_reply null_call(uint32_t prog, uint32_t vers, uint32_t proc, uint32_t *xid_out)
{
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, prog, vers, proc);
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	xb_free(&m);
	/* the body pointer dangles after free(raw): only header fields are used */
	r.body = NULL;
	free(raw);
	*xid_out = xid;
	return r;
}

/* Check the server still answers a NULL call on a new connection. */
static void assert_server_answers(void)
{
	uint32_t xid;
	rr_reply r = null_call(NFS_PROG, 3, NFSPROC3_NULL, &xid);
	expect_accepted(&r, xid, RR_SUCCESS);
	assert_true(itest_server_alive(&g_srv));
}

/* MNT "/" (MOUNT v3) over TCP; returns the root handle. */
static fh_t raw_mount_root(void)
{
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, MNT_PROG, 3, MOUNTPROC_MNT);
	xb_string(&m, "/");
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	xb_free(&m);
	expect_accepted(&r, xid, RR_SUCCESS);
	xrd x;
	xr_init(&x, r.body, r.body_len);
	uint32_t st = xr_u32(&x);
	assert_int_equal(st, 0);
	uint32_t n;
	const unsigned char *p = xr_opaque(&x, &n, 64);
	assert_false(x.err);
	assert_true(n > 0 && n <= 64);
	fh_t fh = { .len = n };
	memcpy(fh.data, p, n);
	free(raw);
	return fh;
}

static void put_getattr(xbuf *m, uint32_t xid, const fh_t *fh)
{
	rr_call_hdr_sys(m, xid, NFS_PROG, 3, NFSPROC3_GETATTR);
	xb_opaque(m, fh->data, fh->len);
}

/* Decode a GETATTR3res body: returns status, fills type and fileid. */
static uint32_t decode_getattr(const unsigned char *body, size_t len, uint32_t *type,
			       uint64_t *fileid, uint64_t *size)
{
	xrd x;
	xr_init(&x, body, len);
	uint32_t st = xr_u32(&x);
	if (st == 0) {
		*type = xr_u32(&x);
		xr_u32(&x); /* mode */
		xr_u32(&x); /* nlink */
		xr_u32(&x); /* uid */
		xr_u32(&x); /* gid */
		*size = xr_u64(&x);
		xr_u64(&x); /* used */
		xr_u64(&x); /* rdev */
		xr_u64(&x); /* fsid */
		*fileid = xr_u64(&x);
		xr_skip(&x, 24); /* times */
		assert_false(x.err);
		assert_int_equal(x.pos, len); /* nothing after the attributes */
	}
	return st;
}

/* ------------------------------------------------------------- NULL / auth */
static void test_null_authsys_authnone(void **state)
{
	(void)state;
	uint32_t xid;
	rr_reply r = null_call(NFS_PROG, 3, NFSPROC3_NULL, &xid);
	expect_accepted(&r, xid, RR_SUCCESS);
	assert_int_equal(r.body_len, 0); /* NULL has no results */

	/* AUTH_NONE */
	xbuf m;
	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, RR_FLAVOR_NONE, NULL, 0);
	unsigned char *raw;
	r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	assert_int_equal(r.body_len, 0);
	free(raw);
	xb_free(&m);

	/* AUTH_NONE GETATTR works too (AUTH_NONE accepted, not just for NULL) */
	fh_t root = raw_mount_root();
	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_GETATTR, RR_FLAVOR_NONE, NULL, 0);
	xb_opaque(&m, root.data, root.len);
	r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	uint32_t type = 0;
	uint64_t fileid = 0, size = 0;
	assert_int_equal(decode_getattr(r.body, r.body_len, &type, &fileid, &size), 0);
	assert_int_equal(type, 2 /* NF3DIR */);
	free(raw);
	xb_free(&m);
}

static void test_mount_null_v1_v3_same_port(void **state)
{
	(void)state;
	uint32_t xid;
	rr_reply r = null_call(MNT_PROG, 1, 0, &xid);
	expect_accepted(&r, xid, RR_SUCCESS);
	r = null_call(MNT_PROG, 3, 0, &xid);
	expect_accepted(&r, xid, RR_SUCCESS);
}

static void test_authsys_boundaries_accepted(void **state)
{
	(void)state;
	/* 16 gids and a 255-byte machine name are the maxima and must work. */
	char name[256];
	memset(name, 'm', 255);
	name[255] = 0;
	uint32_t gids[16];
	for (int i = 0; i < 16; i++)
		gids[i] = 1000 + (uint32_t)i;
	xbuf cred, m;
	xb_init(&cred);
	xb_init(&m);
	rr_authsys_body(&cred, 1, name, 0, 0, 16, gids);
	uint32_t xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, RR_FLAVOR_SYS, cred.buf, cred.len);
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	free(raw);
	xb_free(&m);
	xb_free(&cred);

	/* uid/gid that do not exist on this host: still a valid credential */
	xb_init(&cred);
	xb_init(&m);
	rr_authsys_body(&cred, 2, "", 4000000000u, 4000000001u, 0, NULL);
	xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, RR_FLAVOR_SYS, cred.buf, cred.len);
	r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	free(raw);
	xb_free(&m);
	xb_free(&cred);
}

/* ------------------------------------------------------- PROG_MISMATCH */
/* Versions 3 and 4 (minor version 1) are served; others name that range. */
static void test_nfs_v2_v4_prog_mismatch(void **state)
{
	(void)state;
	const uint32_t vers[] = { 2, 1, 5 };
	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		for (uint32_t proc = 0; proc <= 1; proc++) {
			uint32_t xid;
			rr_reply r = null_call(NFS_PROG, vers[i], proc, &xid);
			expect_accepted(&r, xid, RR_PROG_MISMATCH);
			if (r.low != 3 || r.high != 4)
				fail_msg("NFS v%u proc %u: PROG_MISMATCH range %u..%u, want 3..4",
					 vers[i], proc, r.low, r.high);
		}
	}
	uint32_t xid;
	rr_reply r = null_call(NFS_PROG, 4, 0, &xid);
	expect_accepted(&r, xid, RR_SUCCESS);
}

static void test_mount_bad_version_prog_mismatch(void **state)
{
	(void)state;
	uint32_t xid;
	rr_reply r = null_call(MNT_PROG, 4, 0, &xid);
	expect_accepted(&r, xid, RR_PROG_MISMATCH);
	if (r.low != 1 || r.high != 3)
		fail_msg("MOUNT v4: PROG_MISMATCH range %u..%u, want 1..3", r.low, r.high);
	r = null_call(MNT_PROG, 0, 0, &xid);
	expect_accepted(&r, xid, RR_PROG_MISMATCH);
	assert_int_equal(r.low, 1);
	assert_int_equal(r.high, 3);
}

/* -------------------------------------------- PROC_UNAVAIL / PROG_UNAVAIL */
static void test_proc_unavail(void **state)
{
	(void)state;
	const struct {
		uint32_t prog, vers, proc;
	} cases[] = {
		{ NFS_PROG, 3, 22 }, { NFS_PROG, 3, 1000 }, { NFS_PROG, 3, 0xffffffffu },
		{ MNT_PROG, 3, 6 },  { MNT_PROG, 1, 6 },    { MNT_PROG, 3, 0x80000000u },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t xid;
		rr_reply r = null_call(cases[i].prog, cases[i].vers, cases[i].proc, &xid);
		if (r.reply_stat != RR_MSG_ACCEPTED || r.accept_stat != RR_PROC_UNAVAIL)
			fail_msg("prog %u v%u proc %u: expected PROC_UNAVAIL, got reply_stat %u "
				 "accept_stat %s",
				 cases[i].prog, cases[i].vers, cases[i].proc, r.reply_stat,
				 rr_accept_name(r.accept_stat));
		assert_int_equal(r.xid, xid);
	}
}

static void test_prog_unavail(void **state)
{
	(void)state;
	const uint32_t progs[] = { 100099,	400000,		  0,
				   0xffffffffu, 100021 /* NLM */, 100227 /* NFS_ACL */ };
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		uint32_t xid;
		rr_reply r = null_call(progs[i], 3, 0, &xid);
		if (r.reply_stat != RR_MSG_ACCEPTED || r.accept_stat != RR_PROG_UNAVAIL)
			fail_msg("prog %u: expected PROG_UNAVAIL, got reply_stat %u accept_stat %s",
				 progs[i], r.reply_stat, rr_accept_name(r.accept_stat));
		assert_int_equal(r.xid, xid);
	}
}

static void test_rpc_version_mismatch(void **state)
{
	(void)state;
	xbuf cred, m;
	xb_init(&cred);
	xb_init(&m);
	rr_authsys_body(&cred, 1, "itest", 0, 0, 0, NULL);
	uint32_t xid = ++g_xid;
	rr_call_hdr(&m, xid, 3 /* rpcvers */, NFS_PROG, 3, 0, RR_FLAVOR_SYS, cred.buf, cred.len);
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	assert_int_equal(r.xid, xid);
	if (r.reply_stat != RR_MSG_DENIED || r.reject_stat != RR_RPC_MISMATCH)
		fail_msg("rpcvers 3: expected MSG_DENIED/RPC_MISMATCH, got reply_stat %u reject %u "
			 "accept %s",
			 r.reply_stat, r.reject_stat, rr_accept_name(r.accept_stat));
	assert_int_equal(r.low, 2);
	assert_int_equal(r.high, 2);
	free(raw);
	xb_free(&m);
	xb_free(&cred);
}

/* -------------------------------------------------------- GARBAGE_ARGS */
static void test_garbage_args(void **state)
{
	(void)state;
	fh_t root = raw_mount_root();
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	unsigned char pad[128];
	memset(pad, 0xAB, sizeof(pad));

	for (int c = 0; c < 12; c++) {
		xbuf m;
		xb_init(&m);
		uint32_t xid = ++g_xid;
		const char *what = "";
		switch (c) {
		case 0:
			what = "GETATTR without arguments";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_GETATTR);
			break;
		case 1:
			what = "GETATTR handle length 65 (> NFS3_FHSIZE)";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_GETATTR);
			xb_opaque(&m, pad, 65);
			break;
		case 2:
			what = "GETATTR handle length 64 with 8 bytes present";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_GETATTR);
			xb_u32(&m, 64);
			xb_raw(&m, pad, 8);
			break;
		case 3:
			what = "LOOKUP name length 0xfffffff0";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_LOOKUP);
			xb_opaque(&m, root.data, root.len);
			xb_u32(&m, 0xfffffff0u);
			xb_raw(&m, "abcd", 4);
			break;
		case 4:
			what = "READ without count";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_READ);
			xb_opaque(&m, root.data, root.len);
			xb_u64(&m, 0);
			break;
		case 5:
			what = "READDIR without count";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_READDIR);
			xb_opaque(&m, root.data, root.len);
			xb_u64(&m, 0);
			xb_raw(&m, pad, 8);
			break;
		case 6:
			what = "ACCESS without access mask";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_ACCESS);
			xb_opaque(&m, root.data, root.len);
			break;
		case 7:
			what = "MNT without a path";
			rr_call_hdr_sys(&m, xid, MNT_PROG, 3, MOUNTPROC_MNT);
			break;
		case 8:
			what = "MNT path longer than MNTPATHLEN (1025 bytes)";
			rr_call_hdr_sys(&m, xid, MNT_PROG, 3, MOUNTPROC_MNT);
			{
				char p[1026];
				memset(p, 'a', 1025);
				p[0] = '/';
				p[1025] = 0;
				xb_string(&m, p);
			}
			break;
		case 9:
			what = "LOOKUP with truncated name bytes";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_LOOKUP);
			xb_opaque(&m, root.data, root.len);
			xb_u32(&m, 40);
			xb_raw(&m, "abcd", 4);
			break;
		case 10:
			what = "MOUNT v1 MNT without a path";
			rr_call_hdr_sys(&m, xid, MNT_PROG, 1, MOUNTPROC_MNT);
			break;
		case 11:
			what = "READ handle only 2 bytes of length word";
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_READ);
			xb_raw(&m, pad, 2);
			break;
		}
		unsigned char *raw;
		rr_reply r = conn_call(fd, &m, &raw);
		if (r.xid != xid || r.reply_stat != RR_MSG_ACCEPTED ||
		    r.accept_stat != RR_GARBAGE_ARGS)
			fail_msg("%s: expected GARBAGE_ARGS (xid %u), got xid %u reply_stat %u "
				 "accept_stat %s",
				 what, xid, r.xid, r.reply_stat, rr_accept_name(r.accept_stat));
		free(raw);
		xb_free(&m);
	}

	/* The connection is still usable after all that. */
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	put_getattr(&m, xid, &root);
	unsigned char *raw;
	rr_reply r = conn_call(fd, &m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	uint32_t type = 0;
	uint64_t fileid = 0, size = 0;
	assert_int_equal(decode_getattr(r.body, r.body_len, &type, &fileid, &size), 0);
	assert_int_equal(type, 2);
	free(raw);
	xb_free(&m);
	close(fd);
}

/* --------------------------------------------------------- AUTH_BADCRED */
static void test_malformed_credentials_badcred(void **state)
{
	(void)state;
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	for (int c = 0; c < 6; c++) {
		xbuf cred, m;
		xb_init(&cred);
		xb_init(&m);
		const char *what = "";
		switch (c) {
		case 0:
			what = "AUTH_SYS machinename length 1000 in a 40-byte body";
			xb_u32(&cred, 1);
			xb_u32(&cred, 1000);
			for (int i = 0; i < 8; i++)
				xb_u32(&cred, 0);
			break;
		case 1:
			what = "AUTH_SYS with 17 gids";
			rr_authsys_body(&cred, 1, "h", 0, 0, 17, NULL);
			break;
		case 2:
			what = "AUTH_SYS body with only a stamp";
			xb_u32(&cred, 1);
			break;
		case 3:
			what = "AUTH_SYS machinename of 256 bytes";
			{
				char name[257];
				memset(name, 'x', 256);
				name[256] = 0;
				rr_authsys_body(&cred, 1, name, 0, 0, 0, NULL);
			}
			break;
		case 4:
			what = "AUTH_SYS gid count says 16 but none present";
			xb_u32(&cred, 1);
			xb_string(&cred, "h");
			xb_u32(&cred, 0);
			xb_u32(&cred, 0);
			xb_u32(&cred, 16);
			break;
		case 5:
			what = "AUTH_SYS empty body";
			break;
		}
		uint32_t xid = ++g_xid;
		rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, RR_FLAVOR_SYS, cred.buf,
			    cred.len);
		unsigned char *raw;
		rr_reply r = conn_call(fd, &m, &raw);
		if (r.xid != xid || r.reply_stat != RR_MSG_DENIED ||
		    r.reject_stat != RR_AUTH_ERROR || r.auth_stat != RR_AUTH_BADCRED)
			fail_msg("%s: expected MSG_DENIED/AUTH_ERROR/AUTH_BADCRED, got xid %u "
				 "reply_stat %u "
				 "reject_stat %u auth_stat %s accept_stat %s",
				 what, r.xid, r.reply_stat, r.reject_stat,
				 rr_auth_name(r.auth_stat), rr_accept_name(r.accept_stat));
		free(raw);
		xb_free(&m);
		xb_free(&cred);
	}
	/* still usable */
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, 0);
	unsigned char *raw;
	rr_reply r = conn_call(fd, &m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	free(raw);
	xb_free(&m);
	close(fd);
}

static void test_oversized_credential_badcred(void **state)
{
	(void)state;
	/* RFC 5531: opaque_auth body is at most 400 bytes. */
	xbuf cred, m;
	xb_init(&cred);
	xb_init(&m);
	char name[201];
	memset(name, 'n', 200);
	name[200] = 0;
	rr_authsys_body(&cred, 1, name, 0, 0, 16, NULL); /* 4+4+200+4+4+4+64 = 284 */
	unsigned char junk[120] = { 0 };
	xb_raw(&cred, junk, sizeof(junk)); /* 404 bytes > 400 */
	uint32_t xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, RR_FLAVOR_SYS, cred.buf, cred.len);
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	expect_auth_error(&r, xid, RR_AUTH_BADCRED);
	free(raw);
	xb_free(&m);
	xb_free(&cred);
}

static void test_unknown_flavor_denied(void **state)
{
	(void)state;
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	unsigned char body[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_NULL, 0x7fff, body, sizeof(body));
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	assert_int_equal(r.xid, xid);
	if (r.reply_stat != RR_MSG_DENIED || r.reject_stat != RR_AUTH_ERROR)
		fail_msg("unknown flavor: expected MSG_DENIED/AUTH_ERROR, got reply_stat %u accept "
			 "%s",
			 r.reply_stat, rr_accept_name(r.accept_stat));
	if (r.auth_stat != RR_AUTH_BADCRED && r.auth_stat != RR_AUTH_REJECTEDCRED &&
	    r.auth_stat != RR_AUTH_TOOWEAK)
		fail_msg("unknown flavor: unexpected auth_stat %s(%u)", rr_auth_name(r.auth_stat),
			 r.auth_stat);
	free(raw);
	xb_free(&m);

	/* RPCSEC_GSS (6) is not supported either: never silently accepted */
	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr(&m, xid, 2, NFS_PROG, 3, NFSPROC3_GETATTR, 6, body, sizeof(body));
	xb_opaque(&m, "x", 1);
	r = tcp_call(&m, &raw);
	assert_int_equal(r.xid, xid);
	assert_int_equal(r.reply_stat, RR_MSG_DENIED);
	assert_int_equal(r.reject_stat, RR_AUTH_ERROR);
	free(raw);
	xb_free(&m);
}

/* -------------------------------------------------------- record marking */
static void check_getattr_reply(const rr_reply *r, uint32_t xid, uint64_t want_fileid)
{
	expect_accepted(r, xid, RR_SUCCESS);
	uint32_t type = 0;
	uint64_t fileid = 0, size = 0;
	assert_int_equal(decode_getattr(r->body, r->body_len, &type, &fileid, &size), 0);
	assert_int_equal(type, 2);
	assert_true(fileid == want_fileid);
}

static void test_multifragment_records(void **state)
{
	(void)state;
	fh_t root = raw_mount_root();
	/* reference: single fragment */
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	put_getattr(&m, xid, &root);
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	uint32_t type = 0;
	uint64_t root_fileid = 0, size = 0;
	assert_int_equal(decode_getattr(r.body, r.body_len, &type, &root_fileid, &size), 0);
	free(raw);
	xb_free(&m);

	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	static const size_t plans[][6] = {
		{ 4, 0 },	/* 4-byte fragments: splits every field */
		{ 1, 3, 7, 0 }, /* odd sizes: splits inside words */
		{ 0 },		/* (single, on the same connection) */
		{ 40, 1, 0 },	/* header in one fragment, args in 1-byte pieces */
		{ 13, 0 },
	};
	for (size_t p = 0; p < sizeof(plans) / sizeof(plans[0]); p++) {
		xb_init(&m);
		xid = ++g_xid;
		put_getattr(&m, xid, &root);
		assert_int_equal(
			rr_tcp_send_record(fd, m.buf, m.len, plans[p][0] ? plans[p] : NULL, 0, 0),
			0);
		long n = rr_tcp_recv_record(fd, &raw, TMO);
		if (n < 0)
			fail_msg("plan %zu: no reply to a multi-fragment record (%ld)", p, n);
		assert_int_equal(rr_parse_reply(raw, (size_t)n, &r), 0);
		check_getattr_reply(&r, xid, root_fileid);
		free(raw);
		xb_free(&m);
	}

	/* A zero-length non-final fragment is legal. */
	xb_init(&m);
	xid = ++g_xid;
	put_getattr(&m, xid, &root);
	{
		xbuf s;
		xb_init(&s);
		xb_u32(&s, 0); /* empty, not last */
		xb_u32(&s, (uint32_t)10);
		xb_raw(&s, m.buf, 10);
		xb_u32(&s, 0x80000000u | (uint32_t)(m.len - 10));
		xb_raw(&s, m.buf + 10, m.len - 10);
		assert_int_equal(send(fd, s.buf, s.len, MSG_NOSIGNAL), (ssize_t)s.len);
		xb_free(&s);
	}
	long n = rr_tcp_recv_record(fd, &raw, TMO);
	if (n < 0)
		fail_msg("no reply to a record with an empty first fragment (%ld)", n);
	assert_int_equal(rr_parse_reply(raw, (size_t)n, &r), 0);
	check_getattr_reply(&r, xid, root_fileid);
	free(raw);
	xb_free(&m);
	close(fd);
}

static void test_trickled_bytes(void **state)
{
	(void)state;
	fh_t root = raw_mount_root();
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	/* Whole stream (markers included) written 1 byte at a time with pauses,
     * in 5-byte fragments: the server must cope with partial reads. */
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	put_getattr(&m, xid, &root);
	static const size_t five[] = { 5, 0 };
	assert_int_equal(rr_tcp_send_record(fd, m.buf, m.len, five, 1, 300), 0);
	unsigned char *raw;
	long n = rr_tcp_recv_record(fd, &raw, TMO);
	if (n < 0)
		fail_msg("no reply to a trickled record (%ld)", n);
	rr_reply r;
	assert_int_equal(rr_parse_reply(raw, (size_t)n, &r), 0);
	expect_accepted(&r, xid, RR_SUCCESS);
	free(raw);
	xb_free(&m);
	close(fd);
}

static void test_pipelined_calls(void **state)
{
	(void)state;
	fh_t root = raw_mount_root();
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	enum {
		N = 16
	};
	xbuf all;
	xb_init(&all);
	uint32_t first = g_xid + 1;
	for (int i = 0; i < N; i++) {
		xbuf m;
		xb_init(&m);
		uint32_t xid = ++g_xid;
		if (i % 2)
			put_getattr(&m, xid, &root);
		else
			rr_call_hdr_sys(&m, xid, NFS_PROG, 3, 0);
		xb_u32(&all, 0x80000000u | (uint32_t)m.len);
		xb_raw(&all, m.buf, m.len);
		xb_free(&m);
	}
	assert_int_equal(send(fd, all.buf, all.len, MSG_NOSIGNAL), (ssize_t)all.len);
	xb_free(&all);
	int seen[N] = { 0 };
	for (int i = 0; i < N; i++) {
		unsigned char *raw;
		long n = rr_tcp_recv_record(fd, &raw, TMO);
		if (n < 0)
			fail_msg("pipelined: only %d of %d replies arrived", i, N);
		rr_reply r;
		assert_int_equal(rr_parse_reply(raw, (size_t)n, &r), 0);
		assert_true(r.xid >= first && r.xid < first + N);
		int k = (int)(r.xid - first);
		assert_int_equal(seen[k], 0);
		seen[k] = 1;
		expect_accepted(&r, r.xid, RR_SUCCESS);
		if (k % 2)
			assert_true(r.body_len > 84);
		else
			assert_int_equal(r.body_len, 0);
		free(raw);
	}
	close(fd);
}

/* ---------------------------------------------------------- robustness */
static void test_huge_record_marker_survives(void **state)
{
	(void)state;
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	unsigned char hdr[4] = { 0xff, 0xff, 0xff, 0xf0 }; /* last fragment, ~2 GiB */
	assert_int_equal(send(fd, hdr, 4, MSG_NOSIGNAL), 4);
	unsigned char junk[256];
	memset(junk, 0x5a, sizeof(junk));
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	/* The server should drop such a connection rather than buffer 2 GiB. */
	int closed = rr_tcp_peer_closed(fd, 5000);
	close(fd);
	assert_server_answers();
	if (!closed)
		fail_msg("server kept a connection open after a 2 GiB record marker");
	/* many non-final fragments adding up to a huge record */
	fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	unsigned char frag[4] = { 0x7f, 0xff, 0xff, 0xff };
	send(fd, frag, 4, MSG_NOSIGNAL);
	close(fd);
	assert_server_answers();
}

static void test_junk_input_survives(void **state)
{
	(void)state;
	/* 1. a REPLY message sent to the server: ignored, no crash */
	int fd = rr_tcp_connect(g_srv.port, 0);
	assert_true(fd >= 0);
	xbuf m;
	xb_init(&m);
	xb_u32(&m, 77);
	xb_u32(&m, RR_REPLY);
	xb_u32(&m, 0);
	xb_u32(&m, 0);
	xb_u32(&m, 0);
	xb_u32(&m, 0);
	rr_tcp_send_record(fd, m.buf, m.len, NULL, 0, 0);
	xb_free(&m);
	/* 2. a truncated call header */
	xb_init(&m);
	xb_u32(&m, 78);
	xb_u32(&m, RR_CALL);
	rr_tcp_send_record(fd, m.buf, m.len, NULL, 0, 0);
	xb_free(&m);
	close(fd);
	/* 3. pseudo-random records */
	for (int i = 0; i < 20; i++) {
		fd = rr_tcp_connect(g_srv.port, 0);
		assert_true(fd >= 0);
		unsigned char buf[200];
		itest_pattern(buf, sizeof(buf), (uint64_t)i * 1000, 99);
		size_t len = 8 + (size_t)(buf[0] % 180);
		rr_tcp_send_record(fd, buf, len, NULL, 0, 0);
		close(fd);
	}
	/* 4. UDP junk: empty, 3 bytes, a REPLY */
	int u = rr_udp_socket(g_srv.port, 0);
	assert_true(u >= 0);
	send(u, "", 0, 0);
	send(u, "abc", 3, 0);
	unsigned char rep[24] = { 0, 0, 0, 9, 0, 0, 0, 1 };
	send(u, rep, sizeof(rep), 0);
	close(u);
	usleep(100000);
	assert_server_answers();
}

/* ------------------------------------------------------------------ UDP */
static rr_reply udp_call(int u, const xbuf *m, uint32_t xid, unsigned char *buf, size_t cap)
{
	long n = rr_udp_call(u, m->buf, m->len, xid, buf, cap, 5000);
	if (n == -2) /* one retransmission, UDP may drop */
		n = rr_udp_call(u, m->buf, m->len, xid, buf, cap, TMO);
	if (n < 0)
		fail_msg("no UDP reply for xid %u (%ld)", xid, n);
	rr_reply r;
	if (rr_parse_reply(buf, (size_t)n, &r) != 0)
		fail_msg("unparsable UDP reply");
	return r;
}

static void test_udp_null_mount_getattr(void **state)
{
	(void)state;
	int u = rr_udp_socket(g_srv.port, 0);
	assert_true(u >= 0);
	unsigned char *buf = malloc(70000);
	xbuf m;

	/* NULL for NFS v3 and MOUNT v1/v3 */
	const uint32_t pv[][2] = { { NFS_PROG, 3 }, { MNT_PROG, 3 }, { MNT_PROG, 1 } };
	for (int i = 0; i < 3; i++) {
		xb_init(&m);
		uint32_t xid = ++g_xid;
		rr_call_hdr_sys(&m, xid, pv[i][0], pv[i][1], 0);
		rr_reply r = udp_call(u, &m, xid, buf, 70000);
		expect_accepted(&r, xid, RR_SUCCESS);
		assert_int_equal(r.body_len, 0);
		xb_free(&m);
	}

	/* MNT "/" over UDP */
	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, MNT_PROG, 3, MOUNTPROC_MNT);
	xb_string(&m, "/");
	rr_reply r = udp_call(u, &m, xid, buf, 70000);
	expect_accepted(&r, xid, RR_SUCCESS);
	xrd x;
	xr_init(&x, r.body, r.body_len);
	assert_int_equal(xr_u32(&x), 0);
	uint32_t n;
	const unsigned char *p = xr_opaque(&x, &n, 64);
	assert_false(x.err);
	fh_t root = { .len = n };
	memcpy(root.data, p, n);
	xb_free(&m);

	/* GETATTR over UDP */
	xb_init(&m);
	xid = ++g_xid;
	put_getattr(&m, xid, &root);
	r = udp_call(u, &m, xid, buf, 70000);
	expect_accepted(&r, xid, RR_SUCCESS);
	uint32_t type = 0;
	uint64_t fileid = 0, size = 0;
	assert_int_equal(decode_getattr(r.body, r.body_len, &type, &fileid, &size), 0);
	assert_int_equal(type, 2);
	xb_free(&m);

	/* LOOKUP data.bin then READ 1 MiB over UDP: the reply must still
     * arrive (clamped to what fits in a datagram) with correct bytes. */
	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_LOOKUP);
	xb_opaque(&m, root.data, root.len);
	xb_string(&m, "data.bin");
	r = udp_call(u, &m, xid, buf, 70000);
	expect_accepted(&r, xid, RR_SUCCESS);
	xr_init(&x, r.body, r.body_len);
	assert_int_equal(xr_u32(&x), 0);
	p = xr_opaque(&x, &n, 64);
	assert_false(x.err);
	fh_t file = { .len = n };
	memcpy(file.data, p, n);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_READ);
	xb_opaque(&m, file.data, file.len);
	xb_u64(&m, 1000);
	xb_u32(&m, 1u << 20);
	r = udp_call(u, &m, xid, buf, 70000);
	expect_accepted(&r, xid, RR_SUCCESS);
	xr_init(&x, r.body, r.body_len);
	assert_int_equal(xr_u32(&x), 0);
	if (xr_u32(&x)) /* post_op_attr */
		xr_skip(&x, 84);
	uint32_t count = xr_u32(&x);
	uint32_t eof = xr_u32(&x);
	p = xr_opaque(&x, &n, 1u << 20);
	assert_false(x.err);
	assert_int_equal(n, count);
	assert_true(count > 0);
	assert_true(count <= 65000);
	assert_int_equal(eof, 1000 + count >= k_file_size);
	unsigned char *want = malloc(count);
	itest_pattern(want, count, 1000, 7);
	assert_memory_equal(p, want, count);
	free(want);
	xb_free(&m);
	free(buf);
	close(u);
}

static void test_udp_errors(void **state)
{
	(void)state;
	int u = rr_udp_socket(g_srv.port, 0);
	assert_true(u >= 0);
	unsigned char buf[9000];
	xbuf m;

	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 4, 0);
	rr_reply r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_accepted(&r, xid, RR_PROG_MISMATCH);
	assert_int_equal(r.low, 3);
	assert_int_equal(r.high, 3);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 2, 0);
	r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_accepted(&r, xid, RR_PROG_MISMATCH);
	assert_int_equal(r.low, 3);
	assert_int_equal(r.high, 3);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, 99);
	r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_accepted(&r, xid, RR_PROC_UNAVAIL);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, 100099, 1, 0);
	r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_accepted(&r, xid, RR_PROG_UNAVAIL);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_GETATTR);
	xb_u32(&m, 64);
	r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_accepted(&r, xid, RR_GARBAGE_ARGS);
	xb_free(&m);

	xb_init(&m);
	xid = ++g_xid;
	xb_u32(&m, xid);
	xb_u32(&m, RR_CALL);
	xb_u32(&m, 2);
	xb_u32(&m, NFS_PROG);
	xb_u32(&m, 3);
	xb_u32(&m, 0);
	xb_u32(&m, RR_FLAVOR_SYS);
	xb_u32(&m, 8);
	xb_u32(&m, 1);
	xb_u32(&m, 500); /* machine name longer than the body */
	xb_u32(&m, 0);
	xb_u32(&m, 0);
	r = udp_call(u, &m, xid, buf, sizeof(buf));
	expect_auth_error(&r, xid, RR_AUTH_BADCRED);
	xb_free(&m);
	close(u);
}

/* ------------------------------------------------ allocation from lengths */
static long vm_peak_kb(pid_t pid)
{
	char *st = itest_slurp(itest_sprintf("/proc/%d/status", (int)pid));
	const char *p = strstr(st, "VmPeak:");
	return p ? atol(p + 7) : -1;
}

/* A length prefix in the arguments must not make the server allocate what
 * it claims before checking the record actually holds that much. */
static void test_no_allocation_from_length_prefix(void **state)
{
	(void)state;
	struct itest_server s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(itest_server_start(&s, &g_env, NULL), 0);
	g_target_port = s.port;
	fh_t root = raw_mount_root();
	g_target_port = 0;
	long before = vm_peak_kb(s.pid);
	assert_true(before > 0);
	int fd = rr_tcp_connect(s.port, 0);
	assert_true(fd >= 0);
	const uint32_t procs[] = { NFSPROC3_LOOKUP, NFSPROC3_LOOKUP, NFSPROC3_LOOKUP };
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++) {
		xbuf m;
		xb_init(&m);
		uint32_t xid = ++g_xid;
		rr_call_hdr_sys(&m, xid, NFS_PROG, 3, procs[i]);
		xb_opaque(&m, root.data, root.len);
		xb_u32(&m, 0xfffffff0u - (uint32_t)i * 4096u); /* name "length" ~4 GiB */
		xb_raw(&m, "abcd", 4);
		unsigned char *raw;
		rr_reply r = conn_call(fd, &m, &raw);
		expect_accepted(&r, xid, RR_GARBAGE_ARGS);
		free(raw);
		xb_free(&m);
	}
	close(fd);
	long after = vm_peak_kb(s.pid);
	assert_int_equal(itest_server_stop(&s), 0);
	if (after - before > 512 * 1024)
		fail_msg("server peak virtual memory grew by %ld MiB decoding 4 GiB name length "
			 "prefixes "
			 "(allocates the claimed length before checking the record)",
			 (after - before) / 1024);
}

/* --------------------------------------------------------- parallel load */
/* 8 connections x 24 pipelined READs (+ GETATTRs) in flight at once, plus
 * UDP traffic: exercises the worker pool, handle cache and transport
 * concurrently (meaningful under TSan); every reply is checked. */
static void test_parallel_load(void **state)
{
	(void)state;
	fh_t root = raw_mount_root();
	/* LOOKUP data.bin */
	xbuf m;
	xb_init(&m);
	uint32_t xid = ++g_xid;
	rr_call_hdr_sys(&m, xid, NFS_PROG, 3, NFSPROC3_LOOKUP);
	xb_opaque(&m, root.data, root.len);
	xb_string(&m, "data.bin");
	unsigned char *raw;
	rr_reply r = tcp_call(&m, &raw);
	expect_accepted(&r, xid, RR_SUCCESS);
	xrd x;
	xr_init(&x, r.body, r.body_len);
	assert_int_equal(xr_u32(&x), 0);
	uint32_t n;
	const unsigned char *p = xr_opaque(&x, &n, 64);
	assert_false(x.err);
	fh_t file = { .len = n };
	memcpy(file.data, p, n);
	free(raw);
	xb_free(&m);

	enum {
		CONNS = 8,
		PER = 24,
		CHUNK = 8192
	};
	int fds[CONNS];
	uint32_t base = g_xid + 1;
	g_xid += CONNS * PER;
	for (int c = 0; c < CONNS; c++) {
		fds[c] = rr_tcp_connect(g_srv.port, 0);
		assert_true(fds[c] >= 0);
		xbuf all;
		xb_init(&all);
		for (int k = 0; k < PER; k++) {
			uint32_t id = base + (uint32_t)(c * PER + k);
			xb_init(&m);
			if (k % 4 == 3) {
				put_getattr(&m, id, &root);
			} else {
				rr_call_hdr_sys(&m, id, NFS_PROG, 3, NFSPROC3_READ);
				xb_opaque(&m, file.data, file.len);
				xb_u64(&m, (uint64_t)((id * 7919u) % (k_file_size - CHUNK)));
				xb_u32(&m, CHUNK);
			}
			xb_u32(&all, 0x80000000u | (uint32_t)m.len);
			xb_raw(&all, m.buf, m.len);
			xb_free(&m);
		}
		assert_int_equal(send(fds[c], all.buf, all.len, MSG_NOSIGNAL), (ssize_t)all.len);
		xb_free(&all);
	}
	/* UDP at the same time */
	int u = rr_udp_socket(g_srv.port, 0);
	assert_true(u >= 0);
	for (int k = 0; k < 16; k++) {
		xb_init(&m);
		put_getattr(&m, 0x7000000u + (uint32_t)k, &root);
		send(u, m.buf, m.len, 0);
		xb_free(&m);
	}
	unsigned char *want = malloc(CHUNK);
	for (int c = 0; c < CONNS; c++) {
		unsigned char seen[PER] = { 0 };
		for (int k = 0; k < PER; k++) {
			long len = rr_tcp_recv_record(fds[c], &raw, TMO);
			if (len < 0)
				fail_msg("connection %d: reply %d of %d missing", c, k, PER);
			assert_int_equal(rr_parse_reply(raw, (size_t)len, &r), 0);
			expect_accepted(&r, r.xid, RR_SUCCESS);
			uint32_t id = r.xid;
			assert_true(id >= base + (uint32_t)(c * PER) &&
				    id < base + (uint32_t)((c + 1) * PER));
			int kk = (int)(id - base) - c * PER;
			assert_int_equal(seen[kk], 0);
			seen[kk] = 1;
			xr_init(&x, r.body, r.body_len);
			assert_int_equal(xr_u32(&x), 0);
			if (kk % 4 == 3) {
				assert_int_equal(xr_u32(&x), 2); /* NF3DIR */
			} else {
				if (xr_u32(&x))
					xr_skip(&x, 84);
				uint32_t cnt = xr_u32(&x);
				xr_u32(&x); /* eof */
				p = xr_opaque(&x, &n, CHUNK);
				assert_false(x.err);
				assert_int_equal(cnt, CHUNK);
				assert_int_equal(n, CHUNK);
				uint64_t off = (uint64_t)((id * 7919u) % (k_file_size - CHUNK));
				itest_pattern(want, CHUNK, off, 7);
				if (memcmp(want, p, CHUNK) != 0)
					fail_msg("connection %d xid %u: READ data at offset %llu "
						 "corrupted",
						 c, id, (unsigned long long)off);
			}
			free(raw);
		}
		close(fds[c]);
	}
	free(want);
	/* UDP replies (allow loss, but any reply must be right) */
	unsigned char buf[2048];
	int got = 0;
	for (;;) {
		struct timeval tv = { .tv_sec = 2 };
		setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t len = recv(u, buf, sizeof(buf), 0);
		if (len <= 0)
			break;
		assert_int_equal(rr_parse_reply(buf, (size_t)len, &r), 0);
		assert_true(r.xid >= 0x7000000u && r.xid < 0x7000000u + 16);
		expect_accepted(&r, r.xid, RR_SUCCESS);
		if (++got == 16)
			break;
	}
	close(u);
	assert_true(got >= 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_null_authsys_authnone, teardown),
		cmocka_unit_test_teardown(test_mount_null_v1_v3_same_port, teardown),
		cmocka_unit_test_teardown(test_authsys_boundaries_accepted, teardown),
		cmocka_unit_test_teardown(test_nfs_v2_v4_prog_mismatch, teardown),
		cmocka_unit_test_teardown(test_mount_bad_version_prog_mismatch, teardown),
		cmocka_unit_test_teardown(test_proc_unavail, teardown),
		cmocka_unit_test_teardown(test_prog_unavail, teardown),
		cmocka_unit_test_teardown(test_rpc_version_mismatch, teardown),
		cmocka_unit_test_teardown(test_no_allocation_from_length_prefix, teardown),
		cmocka_unit_test_teardown(test_garbage_args, teardown),
		cmocka_unit_test_teardown(test_malformed_credentials_badcred, teardown),
		cmocka_unit_test_teardown(test_oversized_credential_badcred, teardown),
		cmocka_unit_test_teardown(test_unknown_flavor_denied, teardown),
		cmocka_unit_test_teardown(test_multifragment_records, teardown),
		cmocka_unit_test_teardown(test_trickled_bytes, teardown),
		cmocka_unit_test_teardown(test_pipelined_calls, teardown),
		cmocka_unit_test_teardown(test_huge_record_marker_survives, teardown),
		cmocka_unit_test_teardown(test_junk_input_survives, teardown),
		cmocka_unit_test_teardown(test_udp_null_mount_getattr, teardown),
		cmocka_unit_test_teardown(test_udp_errors, teardown),
		cmocka_unit_test_teardown(test_parallel_load, teardown),
	};
	return cmocka_run_group_tests_name("integration.rpc", tests, group_setup, group_teardown);
}
