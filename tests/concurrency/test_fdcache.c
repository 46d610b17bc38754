/*
 * test_fdcache.c - the server's cache of open descriptors per file handle
 * (issue #5) when the files change behind its back, directly in DIR:
 *
 *  - remove: a cached file that is unlinked gives NFS3ERR_STALE (never its
 *    old bytes, never a new file that reuses the name or the inode number),
 *    and the server lets the inode go: no "(deleted)" descriptor of it stays
 *    in /proc/<server>/fd for longer than the 5 s sweep allows; also for a
 *    REMOVE through NFS, for hard links, for a removed directory, and while
 *    READs are in flight;
 *  - rename: within a directory, across directories, out of DIR and back,
 *    and while READs are in flight, the handle keeps reading the same
 *    bytes; a file renamed over it makes the old handle STALE (never the
 *    new bytes) and a fresh LOOKUP gives the new contents;
 *  - permissions: every request is checked as its caller even though the
 *    descriptor is cached and was opened by the server: chmod, chgrp and
 *    chown take effect on the very next READ / WRITE, also when calls of two
 *    users are interleaved on the same connections.
 */
#define _GNU_SOURCE
#include "cctest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct itest_env g_env;
static struct itest_server g_srv;
static fh_t g_root;
static int g_fd = -1; /* per-test raw connection */
static uint32_t g_xid = 0x0FC00000u;

#define SWEEP_LIMIT_MS 16000 /* the sweep runs every 5 s; a few passes at most */
#define UID_A 2001u
#define UID_OWNER 2002u
#define GID_A 2001u
#define GID_OWNER 2002u
#define GID_SHARED 3000u
#define GID_OTHER 3001u

static const char *P(const char *rel)
{
	return itest_path(&g_env, rel);
}

/* ------------------------------------------------------------- raw calls */
enum {
	CC_REMOVE = 12
};

/* One call on the test's connection; the reply is parsed for proc, READ
 * data copied into the arena. */
static cc_res call(const xbuf *m, uint32_t proc)
{
	uint32_t xid = cc_xid(m->buf, m->len);
	if (rr_tcp_send_record(g_fd, m->buf, m->len, NULL, 0, 0) != 0)
		fail_msg("send xid %#x: %s", xid, strerror(errno));
	unsigned char *rec = NULL;
	long n = rr_tcp_recv_record(g_fd, &rec, 60000);
	if (n < 0)
		fail_msg("no reply for xid %#x (%s)", xid, n == -2 ? "timeout" : "EOF/error");
	cc_res r;
	char err[200] = "";
	if (proc == CC_REMOVE) {
		/* status only */
		rr_reply rep;
		memset(&r, 0, sizeof(r));
		if (rr_parse_reply(rec, (size_t)n, &rep) != 0 || rep.accept_stat != RR_SUCCESS ||
		    rep.body_len < 4)
			fail_msg("REMOVE xid %#x: bad reply", xid);
		uint32_t be;
		memcpy(&be, rep.body, 4);
		r.xid = rep.xid;
		r.rpc_ok = 1;
		r.status = (int)ntohl(be);
	} else if (cc_parse(proc, rec, (size_t)n, &r, err, sizeof(err)) != 0 || !r.rpc_ok) {
		free(rec);
		fail_msg("xid %#x: %s", xid, err);
	}
	if (r.xid != xid) {
		free(rec);
		fail_msg("reply xid %#x for call %#x", r.xid, xid);
	}
	if (r.data) {
		unsigned char *d = itest_alloc(r.data_len);
		memcpy(d, r.data, r.data_len);
		r.data = d;
	}
	free(rec);
	return r;
}

static cc_res do_read(const fh_t *fh, uint64_t off, uint32_t count, uint32_t uid, uint32_t gid)
{
	xbuf m;
	cc_msg_read(&m, g_xid++, fh, off, count, uid, gid);
	cc_res r = call(&m, CC_READ);
	xb_free(&m);
	return r;
}

static cc_res do_read_groups(const fh_t *fh, uint32_t count, uint32_t uid, uint32_t gid,
			     uint32_t ngids, const uint32_t *gids)
{
	xbuf m;
	xb_init(&m);
	cc_hdr(&m, g_xid++, CC_READ, uid, gid, ngids, gids);
	xb_opaque(&m, fh->data, fh->len);
	xb_u64(&m, 0);
	xb_u32(&m, count);
	cc_res r = call(&m, CC_READ);
	xb_free(&m);
	return r;
}

static cc_res do_write(const fh_t *fh, uint64_t off, const char *s, uint32_t uid, uint32_t gid)
{
	xbuf m;
	cc_msg_write(&m, g_xid++, fh, off, s, (uint32_t)strlen(s), CC_FILE_SYNC, uid, gid);
	cc_res r = call(&m, CC_WRITE);
	xb_free(&m);
	return r;
}

static int getattr_status(const fh_t *fh)
{
	xbuf m;
	cc_msg_getattr(&m, g_xid++, fh, 0, 0);
	cc_res r = call(&m, CC_GETATTR);
	xb_free(&m);
	return r.status;
}

static cc_res do_lookup(const fh_t *dir, const char *name)
{
	xbuf m;
	cc_msg_lookup(&m, g_xid++, dir, name, 0, 0);
	cc_res r = call(&m, CC_LOOKUP);
	xb_free(&m);
	return r;
}

/* Handle of a path relative to DIR (each component must exist). */
static fh_t walk(const char *rel)
{
	fh_t cur = g_root;
	char *p = itest_strdup(rel), *save = NULL;
	for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		cc_res r = do_lookup(&cur, tok);
		if (r.status != 0)
			fail_msg("LOOKUP %s in %s: %s", tok, rel, itest_nfsstat_name(r.status));
		cur = r.fh;
	}
	return cur;
}

/* READ the whole file (size <= 1 MiB) and check it is pattern(seed). */
static void assert_reads(const fh_t *fh, size_t size, uint32_t seed, const char *what)
{
	cc_res r = do_read(fh, 0, (uint32_t)size + 1, 0, 0);
	if (r.status != 0)
		fail_msg("%s: READ: %s(%d)", what, itest_nfsstat_name(r.status), r.status);
	if (r.data_len != size || !r.eof)
		fail_msg("%s: READ returned %u bytes (eof %d), want %zu", what, r.data_len, r.eof,
			 size);
	long bad = cc_pattern_mismatch(r.data, r.data_len, 0, seed);
	if (bad >= 0)
		fail_msg("%s: READ: wrong byte at %ld (other contents?)", what, bad);
}

static void assert_stale(const fh_t *fh, const char *what)
{
	cc_res r = do_read(fh, 0, 4096, 0, 0);
	if (r.status == 0)
		fail_msg("%s: READ of the old handle succeeded (%u bytes) instead of STALE", what,
			 r.data_len);
	assert_nfsstat(r.status, NFS3ERR_STALE);
	assert_nfsstat(getattr_status(fh), NFS3ERR_STALE);
}

/* The server holds at least one descriptor of path (it is cached). */
static void assert_cached(const char *path)
{
	int n = cc_fd_links(g_srv.pid, path, NULL);
	if (n < 0)
		fail_msg("cannot read /proc/%d/fd", (int)g_srv.pid);
	if (n == 0)
		fail_msg("the server holds no descriptor of %s after READ: nothing is cached, "
			 "the test would prove nothing",
			 path);
}

static void assert_released(const char *path, const char *what)
{
	long ms = cc_wait_no_deleted(g_srv.pid, path, SWEEP_LIMIT_MS);
	if (ms < 0) {
		int del = 0;
		cc_fd_links(g_srv.pid, path, &del);
		fail_msg("%s: after %d ms the server still holds %d descriptor(s) of the deleted "
			 "file %s: its space is never released",
			 what, SWEEP_LIMIT_MS, del, path);
	}
	fprintf(stderr, "  %s: deleted inode released after %ld ms\n", what, ms);
}

/* ------------------------------------------------------------- fixture */
static int group_setup(void **state)
{
	(void)state;
	if (itest_env_init(&g_env, "fdcache") != 0)
		return -1;
	if (itest_server_start(&g_srv, &g_env, NULL) != 0)
		return -1;
	itc_t *c = itc_connect(g_srv.port);
	if (!c)
		return -1;
	g_root = itc_root(c, "/");
	itc_close(c);
	itest_arena_free();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g_fd >= 0)
		close(g_fd);
	int st = itest_server_stop(&g_srv);
	itest_env_cleanup(&g_env);
	itest_arena_free();
	return st == 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	g_fd = rr_tcp_connect(g_srv.port, 0);
	return g_fd >= 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (g_fd >= 0)
		close(g_fd);
	g_fd = -1;
	return itest_check_server_teardown(&g_srv);
}

static void mkdir_p(const char *rel)
{
	if (mkdir(P(rel), 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", rel, strerror(errno));
}

/* =============================================================== remove */
static void test_remove_released_by_sweep(void **state)
{
	(void)state;
	mkdir_p("rm1");
	const char *path = P("rm1/victim");
	cc_make_file(path, 1u << 20, 11, 0, 0, 0644);
	mkdir_p("rm1/gonedir");
	const char *dpath = P("rm1/gonedir");
	fh_t h = walk("rm1/victim");
	fh_t hd = walk("rm1/gonedir");
	assert_reads(&h, 1u << 20, 11, "before removal");
	assert_cached(path);
	assert_cached(dpath);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dpath), 0);
	/* No request touches the handles: only the sweep can let the inodes go. */
	assert_released(path, "unlinked, untouched");
	assert_released(dpath, "directory removed, untouched");
	assert_stale(&h, "unlinked");
	assert_nfsstat(getattr_status(&hd), NFS3ERR_STALE);
	fh_t d = walk("rm1");
	assert_nfsstat(do_lookup(&d, "victim").status, NFS3ERR_NOENT);
}

static void test_remove_stale_at_once(void **state)
{
	(void)state;
	mkdir_p("rm2");
	const char *path = P("rm2/victim");
	cc_make_file(path, 300000, 12, 0, 0, 0644);
	fh_t h = walk("rm2/victim");
	fh_t d = walk("rm2");
	assert_reads(&h, 300000, 12, "before removal");
	assert_cached(path);
	struct stat st1;
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(unlink(path), 0);
	/* the very next request knows */
	assert_stale(&h, "unlinked");
	assert_nfsstat(do_lookup(&d, "victim").status, NFS3ERR_NOENT);
	assert_released(path, "unlinked, then used");
	/* A new file under the same name (ext4 often reuses the inode number):
	 * the old handle must stay stale and never read the new bytes. */
	cc_make_file(path, 300000, 13, 0, 0, 0644);
	struct stat st2;
	assert_int_equal(stat(path, &st2), 0);
	fprintf(stderr, "  recreated: inode %s (%llu -> %llu)\n",
		st1.st_ino == st2.st_ino ? "number reused" : "number differs",
		(unsigned long long)st1.st_ino, (unsigned long long)st2.st_ino);
	assert_stale(&h, "recreated under the same name");
	fh_t h2 = walk("rm2/victim");
	assert_false(itc_fh_equal(&h, &h2));
	assert_reads(&h2, 300000, 13, "the new file");
	assert_stale(&h, "after the new file was read");
}

static void test_remove_through_nfs(void **state)
{
	(void)state;
	mkdir_p("rm3");
	const char *path = P("rm3/victim");
	cc_make_file(path, 200000, 14, 0, 0, 0644);
	fh_t h = walk("rm3/victim");
	fh_t d = walk("rm3");
	assert_reads(&h, 200000, 14, "before REMOVE");
	assert_cached(path);
	xbuf m;
	xb_init(&m);
	cc_hdr(&m, g_xid++, CC_REMOVE, 0, 0, 1, (const uint32_t[]){ 0 });
	xb_opaque(&m, d.data, d.len);
	xb_string(&m, "victim");
	assert_nfsstat(call(&m, CC_REMOVE).status, NFS3_OK);
	xb_free(&m);
	struct stat st;
	assert_int_not_equal(lstat(path, &st), 0);
	assert_stale(&h, "removed through NFS");
	assert_released(path, "REMOVE");
}

static void test_remove_one_of_two_links(void **state)
{
	(void)state;
	mkdir_p("rm4");
	mkdir_p("rm4/sub");
	const char *a = P("rm4/a"), *b = P("rm4/sub/b");
	cc_make_file(a, 100000, 15, 0, 0, 0644);
	assert_int_equal(link(a, b), 0);
	fh_t h = walk("rm4/a");
	assert_reads(&h, 100000, 15, "via a");
	assert_cached(a);
	assert_int_equal(unlink(a), 0);
	/* still inside DIR under the other name: the same handle keeps working */
	assert_reads(&h, 100000, 15, "a unlinked, b remains");
	assert_nfsstat(getattr_status(&h), NFS3_OK);
	fh_t hb = walk("rm4/sub/b");
	assert_true(itc_fh_equal(&h, &hb));
	assert_int_equal(unlink(b), 0);
	assert_stale(&h, "both links removed");
	assert_released(a, "last link removed (name a)");
	assert_released(b, "last link removed (name b)");
}

/* READs in flight on the handle while the file is unlinked. */
static void test_remove_during_reads(void **state)
{
	(void)state;
	mkdir_p("rm5");
	const char *path = P("rm5/victim");
	const size_t size = 1u << 20;
	cc_make_file(path, size, 16, 0, 0, 0644);
	fh_t h = walk("rm5/victim");
	assert_reads(&h, size, 16, "before");
	const int n = 96;
	int fd = cc_tcp_connect(g_srv.port, 0, 16 << 20, 0);
	assert_true(fd >= 0);
	xbuf stream;
	xb_init(&stream);
	for (int i = 0; i < n; i++) {
		xbuf m;
		cc_msg_read(&m, 0x0E000000u | (uint32_t)i, &h, (uint64_t)(i % 16) * 65536u, 65536,
			    0, 0);
		cc_frame(&stream, &m);
		xb_free(&m);
	}
	assert_int_equal(cc_send_all(fd, stream.buf, stream.len / 2, 10000), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(
		cc_send_all(fd, stream.buf + stream.len / 2, stream.len - stream.len / 2, 10000),
		0);
	xb_free(&stream);
	cc_rx rx;
	cc_rx_init(&rx);
	int got = 0, ok = 0, stale = 0;
	char seen[96] = { 0 };
	long long deadline = cc_now_ms() + 60000LL * cc_slow_factor();
	while (got < n && cc_now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		poll(&pfd, 1, 1000);
		long rr = cc_rx_fill(fd, &rx);
		unsigned char *rec;
		long len;
		while ((len = cc_rx_pop(&rx, &rec)) > 0) {
			cc_res r;
			char err[200] = "";
			int prc = cc_parse(CC_READ, rec, (size_t)len, &r, err, sizeof(err));
			uint32_t i = r.xid & 0xffffu;
			int bad = prc != 0 || !r.rpc_ok || (r.xid & 0xffff0000u) != 0x0E000000u ||
				  i >= (uint32_t)n || seen[i];
			if (!bad && r.status == 0) {
				bad = r.data_len != 65536 ||
				      cc_pattern_mismatch(r.data, r.data_len, (i % 16) * 65536u,
							  16) >= 0;
				ok++;
			} else if (!bad) {
				bad = r.status != NFS3ERR_STALE;
				stale++;
			}
			free(rec);
			if (bad) {
				close(fd);
				fail_msg("READ during removal: bad reply xid %#x status %d (%s)",
					 r.xid, r.status, err);
			}
			seen[i] = 1;
			got++;
		}
		if (rr < 0 && got < n)
			break;
	}
	cc_rx_free(&rx);
	close(fd);
	if (got != n)
		fail_msg("READ during removal: %d of %d replies", got, n);
	fprintf(stderr, "  READs during removal: %d with the old bytes, %d STALE\n", ok, stale);
	assert_stale(&h, "after the reads");
	assert_released(path, "removed during READs");
}

/* =============================================================== rename */
static void test_rename_keeps_handle(void **state)
{
	(void)state;
	mkdir_p("mv");
	mkdir_p("mv/d1");
	mkdir_p("mv/d2");
	mkdir_p("mv/d2/deep");
	const size_t size = 250000;
	cc_make_file(P("mv/d1/a"), size, 21, 0, 0, 0644);
	fh_t h = walk("mv/d1/a");
	fh_t d1 = walk("mv/d1");
	assert_reads(&h, size, 21, "before");
	assert_cached(P("mv/d1/a"));

	/* same directory */
	assert_int_equal(rename(P("mv/d1/a"), P("mv/d1/b")), 0);
	assert_reads(&h, size, 21, "renamed within the directory");
	assert_nfsstat(do_lookup(&d1, "a").status, NFS3ERR_NOENT);
	fh_t hb = walk("mv/d1/b");
	assert_true(itc_fh_equal(&h, &hb));

	/* across directories */
	assert_int_equal(rename(P("mv/d1/b"), P("mv/d2/deep/c")), 0);
	assert_reads(&h, size, 21, "renamed into another directory");
	fh_t hc = walk("mv/d2/deep/c");
	assert_true(itc_fh_equal(&h, &hc));

	/* a directory on its path renamed */
	assert_int_equal(rename(P("mv/d2"), P("mv/d3")), 0);
	assert_reads(&h, size, 21, "its directory renamed");

	/* out of DIR: stale; back in: the same handle works again */
	char *outside = itest_sprintf("%s/moved-out", g_env.base);
	assert_int_equal(rename(P("mv/d3/deep/c"), outside), 0);
	assert_stale(&h, "moved outside DIR");
	assert_int_equal(rename(outside, P("mv/d1/back")), 0);
	assert_reads(&h, size, 21, "moved back into DIR");
}

static void test_rename_over(void **state)
{
	(void)state;
	mkdir_p("ov");
	mkdir_p("ov/other");
	const size_t size = 180000;
	const char *target = P("ov/target");
	cc_make_file(target, size, 31, 0, 0, 0644);
	cc_make_file(P("ov/other/new"), size, 32, 0, 0, 0644);
	fh_t h = walk("ov/target");
	assert_reads(&h, size, 31, "before");
	assert_cached(target);
	assert_int_equal(rename(P("ov/other/new"), target), 0);
	assert_stale(&h, "renamed over");
	fh_t h2 = walk("ov/target");
	assert_false(itc_fh_equal(&h, &h2));
	assert_reads(&h2, size, 32, "fresh LOOKUP after the rename over");
	assert_stale(&h, "old handle, after the new file was read");
	assert_released(target, "renamed over");
}

/* ---- READs in flight while renames happen ---- */
struct reader {
	fh_t fh;
	size_t size;
	uint32_t seed;
	uint32_t alt_seed; /* contents that must never appear */
	int allow_stale;   /* once STALE, only STALE */
	volatile int stop;
	int ok, stale;
	int batches; /* atomic: read by the main thread while running */
	int failed;  /* atomic: err is set */
	char err[300];
};

static int rd_failed(struct reader *rd)
{
	return __atomic_load_n(&rd->failed, __ATOMIC_ACQUIRE);
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	int fd = cc_tcp_connect(g_srv.port, 0, 4 << 20, 0);
	if (fd < 0) {
		snprintf(rd->err, sizeof(rd->err), "connect failed");
		return NULL;
	}
	cc_rx rx;
	cc_rx_init(&rx);
	uint32_t xid = 0x0A000000u;
	int went_stale = 0;
	while (!__atomic_load_n(&rd->stop, __ATOMIC_ACQUIRE) && !rd->err[0]) {
		enum {
			B = 16
		};
		uint64_t offs[B];
		uint32_t base = xid;
		xbuf stream;
		xb_init(&stream);
		for (int i = 0; i < B; i++) {
			offs[i] = ((uint64_t)(xid * 7919u) * 64u) % rd->size;
			xbuf m;
			cc_msg_read(&m, xid++, &rd->fh, offs[i], 8192, 0, 0);
			cc_frame(&stream, &m);
			xb_free(&m);
		}
		if (cc_send_all(fd, stream.buf, stream.len, 30000) != 0)
			snprintf(rd->err, sizeof(rd->err), "send failed");
		xb_free(&stream);
		int got = 0, batch_stale = 0;
		long long deadline = cc_now_ms() + 60000;
		while (!rd->err[0] && got < B) {
			if (cc_now_ms() > deadline) {
				snprintf(rd->err, sizeof(rd->err), "timeout");
				break;
			}
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, 1000);
			long n = cc_rx_fill(fd, &rx);
			unsigned char *rec;
			long len;
			while (!rd->err[0] && (len = cc_rx_pop(&rx, &rec)) > 0) {
				cc_res r;
				char perr[200] = "";
				int prc =
					cc_parse(CC_READ, rec, (size_t)len, &r, perr, sizeof(perr));
				uint32_t i = r.xid - base;
				if (prc != 0 || !r.rpc_ok || i >= B) {
					snprintf(rd->err, sizeof(rd->err), "bad reply xid %#x: %s",
						 r.xid, perr);
				} else if (r.status == 0) {
					uint64_t off = offs[i];
					uint32_t want = rd->size - off < 8192
								? (uint32_t)(rd->size - off)
								: 8192;
					if (went_stale)
						snprintf(rd->err, sizeof(rd->err),
							 "xid %#x: READ succeeded after the handle "
							 "had "
							 "gone stale",
							 r.xid);
					else if (r.data_len != want)
						snprintf(rd->err, sizeof(rd->err),
							 "xid %#x: %u bytes at %llu, want %u",
							 r.xid, r.data_len, (unsigned long long)off,
							 want);
					else if (cc_pattern_mismatch(r.data, r.data_len, off,
								     rd->seed) >= 0)
						snprintf(rd->err, sizeof(rd->err),
							 "xid %#x: wrong bytes at %llu%s", r.xid,
							 (unsigned long long)off,
							 cc_pattern_mismatch(r.data, r.data_len,
									     off, rd->alt_seed) < 0
								 ? " (the NEW file's contents)"
								 : "");
					else
						rd->ok++;
				} else if (r.status == NFS3ERR_STALE && rd->allow_stale) {
					rd->stale++;
					batch_stale = 1;
				} else {
					snprintf(rd->err, sizeof(rd->err), "xid %#x: status %s(%d)",
						 r.xid, itest_nfsstat_name(r.status), r.status);
				}
				free(rec);
				got++;
			}
			if (n < 0 && got < B && !rd->err[0])
				snprintf(rd->err, sizeof(rd->err), "connection closed");
		}
		/* replies of one batch race the rename; the next batch must agree */
		if (batch_stale)
			went_stale = 1;
		__atomic_fetch_add(&rd->batches, 1, __ATOMIC_RELEASE);
	}
	if (rd->err[0])
		__atomic_store_n(&rd->failed, 1, __ATOMIC_RELEASE);
	cc_rx_free(&rx);
	close(fd);
	return NULL;
}

static void test_rename_during_reads(void **state)
{
	(void)state;
	mkdir_p("mvr");
	mkdir_p("mvr/x");
	mkdir_p("mvr/y");
	const size_t size = 400000;
	cc_make_file(P("mvr/x/f"), size, 41, 0, 0, 0644);
	fh_t h = walk("mvr/x/f");
	assert_reads(&h, size, 41, "before");
	struct reader rd = { .fh = h, .size = size, .seed = 41, .alt_seed = 41 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	static const char *names[] = { "mvr/x/f", "mvr/y/g", "mvr/x/h", "mvr/y/f" };
	int renames = 0;
	long long end = cc_now_ms() + 3000;
	for (int i = 0; cc_now_ms() < end || renames < 200; i++) {
		if (rename(P(names[i % 4]), P(names[(i + 1) % 4])) != 0) {
			__atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
			pthread_join(th, NULL);
			fail_msg("rename: %s", strerror(errno));
		}
		renames++;
		if (renames % 8 == 0)
			usleep(2000);
		if (rd_failed(&rd) || renames > 100000)
			break;
	}
	__atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (rd.err[0])
		fail_msg("READ while the file was renamed (%d renames so far): %s", renames,
			 rd.err);
	fprintf(stderr, "  %d renames during %d READs (%d batches)\n", renames, rd.ok, rd.batches);
	if (rd.batches < 4)
		fail_msg("only %d READ batches ran during the renames", rd.batches);
	assert_reads(&h, size, 41, "after the renames");
}

static void test_rename_over_during_reads(void **state)
{
	(void)state;
	mkdir_p("ovr");
	const size_t size = 400000;
	const char *target = P("ovr/t");
	cc_make_file(target, size, 51, 0, 0, 0644);
	cc_make_file(P("ovr/n"), size, 52, 0, 0, 0644);
	fh_t h = walk("ovr/t");
	assert_reads(&h, size, 51, "before");
	struct reader rd = { .fh = h, .size = size, .seed = 51, .alt_seed = 52, .allow_stale = 1 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader_main, &rd), 0);
	/* let some batches succeed, then replace the file under the reader */
	long long t0 = cc_now_ms();
	while (__atomic_load_n(&rd.batches, __ATOMIC_RELAXED) < 5 && !rd_failed(&rd) &&
	       cc_now_ms() - t0 < 30000)
		usleep(5000);
	int rc = rename(P("ovr/n"), target);
	int batches_at_rename = __atomic_load_n(&rd.batches, __ATOMIC_RELAXED);
	t0 = cc_now_ms();
	while (__atomic_load_n(&rd.batches, __ATOMIC_RELAXED) < batches_at_rename + 5 &&
	       !rd_failed(&rd) && cc_now_ms() - t0 < 30000)
		usleep(5000);
	__atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_int_equal(rc, 0);
	if (rd.err[0])
		fail_msg("READ while the file was replaced: %s", rd.err);
	fprintf(stderr, "  replaced during reads: %d READs with the old bytes, %d STALE\n", rd.ok,
		rd.stale);
	if (rd.stale == 0)
		fail_msg("the old handle never went STALE after the file was replaced (%d batches "
			 "after the rename)",
			 rd.batches - batches_at_rename);
	assert_stale(&h, "after the replacement");
	fh_t h2 = walk("ovr/t");
	assert_reads(&h2, size, 52, "the replacement");
	assert_released(target, "replaced during READs");
}

/* ========================================================== permissions */
static void test_perm_read_chmod(void **state)
{
	(void)state;
	mkdir_p("pr");
	const char *path = P("pr/f");
	cc_make_file(path, 5000, 61, UID_OWNER, GID_OWNER, 0644);
	fh_t h = walk("pr/f");
	cc_res r = do_read(&h, 0, 5000, UID_A, GID_A);
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(r.data_len, 5000);
	assert_true(cc_pattern_mismatch(r.data, r.data_len, 0, 61) < 0);
	assert_cached(path);

	assert_int_equal(chmod(path, 0600), 0);
	assert_nfsstat(do_read(&h, 0, 5000, UID_A, GID_A).status, NFS3ERR_ACCES);
	r = do_read(&h, 0, 5000, UID_OWNER, GID_OWNER);
	assert_nfsstat(r.status, NFS3_OK);
	assert_true(cc_pattern_mismatch(r.data, r.data_len, 0, 61) < 0);
	/* A may still see the attributes */
	assert_nfsstat(getattr_status(&h), NFS3_OK);
	assert_nfsstat(do_read(&h, 0, 5000, UID_A, GID_A).status, NFS3ERR_ACCES);

	assert_int_equal(chmod(path, 0644), 0);
	r = do_read(&h, 0, 5000, UID_A, GID_A);
	assert_nfsstat(r.status, NFS3_OK);
	assert_true(cc_pattern_mismatch(r.data, r.data_len, 0, 61) < 0);
}

static void test_perm_write_chmod(void **state)
{
	(void)state;
	mkdir_p("pw");
	const char *path = P("pw/f");
	assert_int_equal(itest_write_file(path, "................", 16), 0);
	assert_int_equal(chown(path, UID_OWNER, GID_OWNER), 0);
	assert_int_equal(chmod(path, 0666), 0);
	fh_t h = walk("pw/f");
	assert_nfsstat(do_write(&h, 0, "AAAA", UID_A, GID_A).status, NFS3_OK);
	assert_cached(path);

	assert_int_equal(chmod(path, 0644), 0);
	cc_res r = do_write(&h, 4, "BBBB", UID_A, GID_A);
	assert_nfsstat(r.status, NFS3ERR_ACCES);
	assert_nfsstat(do_write(&h, 8, "CCCC", UID_OWNER, GID_OWNER).status, NFS3_OK);
	assert_nfsstat(do_write(&h, 4, "BBBB", UID_A, GID_A).status, NFS3ERR_ACCES);

	assert_int_equal(chmod(path, 0666), 0);
	assert_nfsstat(do_write(&h, 12, "DDDD", UID_A, GID_A).status, NFS3_OK);
	assert_string_equal(itest_slurp(path), "AAAA....CCCCDDDD");
}

static void test_perm_group_and_owner_change(void **state)
{
	(void)state;
	mkdir_p("pg");
	const char *path = P("pg/f");
	cc_make_file(path, 3000, 71, UID_OWNER, GID_SHARED, 0640);
	fh_t h = walk("pg/f");
	const uint32_t groups[] = { GID_A, GID_SHARED };
	/* A is in the file's group through a supplementary gid */
	assert_nfsstat(do_read_groups(&h, 3000, UID_A, GID_A, 2, groups).status, NFS3_OK);
	assert_cached(path);
	assert_int_equal(chown(path, (uid_t)-1, GID_OTHER), 0);
	assert_nfsstat(do_read_groups(&h, 3000, UID_A, GID_A, 2, groups).status, NFS3ERR_ACCES);
	assert_int_equal(chown(path, (uid_t)-1, GID_SHARED), 0);
	assert_nfsstat(do_read_groups(&h, 3000, UID_A, GID_A, 2, groups).status, NFS3_OK);
	/* without the supplementary group: denied */
	assert_nfsstat(do_read_groups(&h, 3000, UID_A, GID_A, 1, groups).status, NFS3ERR_ACCES);

	/* owner change: 0600, A gets it, then loses it again */
	assert_int_equal(chmod(path, 0600), 0);
	assert_nfsstat(do_read(&h, 0, 3000, UID_A, GID_A).status, NFS3ERR_ACCES);
	assert_int_equal(chown(path, UID_A, (gid_t)-1), 0);
	cc_res r = do_read(&h, 0, 3000, UID_A, GID_A);
	assert_nfsstat(r.status, NFS3_OK);
	assert_true(cc_pattern_mismatch(r.data, r.data_len, 0, 71) < 0);
	assert_int_equal(chown(path, UID_OWNER, (gid_t)-1), 0);
	assert_nfsstat(do_read(&h, 0, 3000, UID_A, GID_A).status, NFS3ERR_ACCES);
	assert_nfsstat(do_read(&h, 0, 3000, UID_OWNER, GID_OWNER).status, NFS3_OK);
}

/*
 * Two users' calls interleaved, pipelined on two connections, on one cached
 * file (0600, the owner's), both users with the same gid: every worker
 * switches identity per request, so
 * the owner's READs all succeed and A's all fail, whatever ran before them
 * on the same thread; then chmod 0644 mid-stream and everyone reads.
 */
static void interleaved_round(const fh_t *h, int expect_a_ok, uint32_t xbase)
{
	enum {
		N = 200,
		C = 2
	};
	int fds[C];
	for (int c = 0; c < C; c++) {
		fds[c] = cc_tcp_connect(g_srv.port, 0, 8 << 20, 0);
		assert_true(fds[c] >= 0);
	}
	for (int c = 0; c < C; c++) {
		xbuf stream;
		xb_init(&stream);
		for (int i = 0; i < N; i++) {
			int is_a = (i + c) & 1;
			xbuf m;
			/* same gid for both: only the uid tells them apart */
			cc_msg_read(&m, xbase | (uint32_t)c << 12 | (uint32_t)i, h, 0, 2000,
				    is_a ? UID_A : UID_OWNER, GID_SHARED);
			cc_frame(&stream, &m);
			xb_free(&m);
		}
		int rc = cc_send_all(fds[c], stream.buf, stream.len, 30000);
		xb_free(&stream);
		if (rc != 0) {
			for (int k = 0; k < C; k++)
				close(fds[k]);
			fail_msg("send failed");
		}
	}
	for (int c = 0; c < C; c++) {
		cc_rx rx;
		cc_rx_init(&rx);
		int got = 0;
		char seen[N] = { 0 };
		char err[300] = "";
		long long deadline = cc_now_ms() + 60000LL * cc_slow_factor();
		while (!err[0] && got < N && cc_now_ms() < deadline) {
			struct pollfd pfd = { .fd = fds[c], .events = POLLIN };
			poll(&pfd, 1, 1000);
			long n = cc_rx_fill(fds[c], &rx);
			unsigned char *rec;
			long len;
			while (!err[0] && (len = cc_rx_pop(&rx, &rec)) > 0) {
				cc_res r;
				char perr[200] = "";
				int prc =
					cc_parse(CC_READ, rec, (size_t)len, &r, perr, sizeof(perr));
				uint32_t i = r.xid & 0xfffu;
				int is_a = (int)((i + (uint32_t)c) & 1);
				int want = is_a && !expect_a_ok ? NFS3ERR_ACCES : NFS3_OK;
				if (prc != 0 || !r.rpc_ok || i >= N || seen[i])
					snprintf(err, sizeof(err), "bad reply xid %#x %s", r.xid,
						 perr);
				else if (r.status != want)
					snprintf(err, sizeof(err),
						 "xid %#x (%s): status %s, want %s", r.xid,
						 is_a ? "uid 2001" : "owner uid 2002",
						 itest_nfsstat_name(r.status),
						 itest_nfsstat_name(want));
				else if (r.status == 0 &&
					 (r.data_len != 2000 ||
					  cc_pattern_mismatch(r.data, r.data_len, 0, 81) >= 0))
					snprintf(err, sizeof(err), "xid %#x: wrong data", r.xid);
				else
					seen[i] = 1, got++;
				free(rec);
			}
			if (n < 0 && got < N && !err[0])
				snprintf(err, sizeof(err), "connection closed");
		}
		cc_rx_free(&rx);
		if (err[0] || got < N) {
			for (int k = 0; k < C; k++)
				close(fds[k]);
			fail_msg("connection %d: %s (%d of %d replies)", c,
				 err[0] ? err : "timeout", got, N);
		}
	}
	for (int c = 0; c < C; c++)
		close(fds[c]);
}

static void test_perm_interleaved_users(void **state)
{
	(void)state;
	mkdir_p("pi");
	const char *path = P("pi/f");
	cc_make_file(path, 4000, 81, UID_OWNER, GID_OWNER, 0600);
	fh_t h = walk("pi/f");
	assert_nfsstat(do_read(&h, 0, 10, UID_OWNER, GID_OWNER).status, NFS3_OK);
	assert_cached(path);
	interleaved_round(&h, 0, 0x0B000000u);
	assert_int_equal(chmod(path, 0644), 0);
	interleaved_round(&h, 1, 0x0B100000u);
	assert_int_equal(chmod(path, 0600), 0);
	interleaved_round(&h, 0, 0x0B200000u);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "concurrency.fdcache needs root (AUTH_SYS identities, chown)\n");
		return 77;
	}
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_remove_released_by_sweep),
		T(test_remove_stale_at_once),
		T(test_remove_through_nfs),
		T(test_remove_one_of_two_links),
		T(test_remove_during_reads),
		T(test_rename_keeps_handle),
		T(test_rename_over),
		T(test_rename_during_reads),
		T(test_rename_over_during_reads),
		T(test_perm_read_chmod),
		T(test_perm_write_chmod),
		T(test_perm_group_and_owner_change),
		T(test_perm_interleaved_users),
	};
	return cmocka_run_group_tests_name("concurrency.fdcache", tests, group_setup,
					   group_teardown);
}
