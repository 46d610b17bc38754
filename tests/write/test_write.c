/*
 * test_write.c - WRITE and COMMIT: UNSTABLE / DATA_SYNC / FILE_SYNC and the
 * reply's committed, one write verifier per server start shared by WRITE and
 * COMMIT, wcc_data, holes, wtmax-sized writes, error paths, a sparse file
 * written above 4 GiB, a stream whose older part is written back while
 * rewrites land in it, and concurrent writers (different files, and
 * different ranges of one file) coming out byte-exact.
 */
#define _GNU_SOURCE
#include "wtest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (64u * 1024)

static fh_t new_file(struct wt_ctx *x, const char *name)
{
	return wt_create_ok(x->c, &x->root, name, 0644);
}

static void check_disk(const char *rel, uint64_t off, const void *want, size_t len)
{
	int fd = open(itest_path(&wt_env, rel), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	unsigned char *got = malloc(len);
	assert_int_equal(pread(fd, got, len, (off_t)off), (ssize_t)len);
	close(fd);
	if (memcmp(got, want, len) != 0) {
		size_t i = 0;
		while (((const unsigned char *)want)[i] == got[i])
			i++;
		free(got);
		fail_msg("%s: byte %llu differs on disk", rel, (unsigned long long)(off + i));
	}
	free(got);
}

static void test_stable_modes(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "stable");
	static const stable_how hows[] = { UNSTABLE, DATA_SYNC, FILE_SYNC };
	char verf0[NFS3_WRITEVERFSIZE];
	for (int i = 0; i < 3; i++) {
		char data[100];
		itest_pattern(data, sizeof(data), (uint64_t)i * 100, 7);
		WRITE3resok ok =
			wt_write_ok(x->c, &fh, (uint64_t)i * 100, data, sizeof(data), hows[i]);
		/* committed is at least what was asked, and exactly what was done */
		assert_int_equal(ok.committed, hows[i]);
		if (i == 0)
			memcpy(verf0, ok.verf, sizeof(verf0));
		else
			assert_memory_equal(ok.verf, verf0, sizeof(verf0));
		check_disk("stable", (uint64_t)i * 100, data, sizeof(data));
	}
	COMMIT3res c;
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 0, 0, &c));
	assert_nfsstat(c.status, NFS3_OK);
	assert_memory_equal(c.COMMIT3res_u.resok.verf, verf0, sizeof(verf0));
	/* ranged commit too */
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 100, 50, &c));
	assert_nfsstat(c.status, NFS3_OK);
	assert_memory_equal(c.COMMIT3res_u.resok.verf, verf0, sizeof(verf0));
	assert_int_equal(wt_lstat(&wt_env, "stable").st_size, 300);
}

static void test_wcc(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "wcc");
	const char *p = itest_path(&wt_env, "wcc");
	for (int i = 0; i < 3; i++) {
		struct stat before = wt_lstat(&wt_env, "wcc");
		WRITE3res r;
		ITC_CALL(x->c, wtc_write(x->c, &fh, (uint64_t)i * 10, "0123456789", 10,
					 i == 1 ? FILE_SYNC : UNSTABLE, &r));
		assert_nfsstat(r.status, NFS3_OK);
		wt_check_wcc(&r.WRITE3res_u.resok.file_wcc, &before, p, "WRITE");
		assert_int_equal(r.WRITE3res_u.resok.file_wcc.after.post_op_attr_u.attributes.size,
				 (uint64_t)(i + 1) * 10);
	}
	struct stat before = wt_lstat(&wt_env, "wcc");
	COMMIT3res c;
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 0, 0, &c));
	assert_nfsstat(c.status, NFS3_OK);
	wt_check_wcc(&c.COMMIT3res_u.resok.file_wcc, &before, p, "COMMIT");
}

static void test_hole_and_overwrite(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "hole");
	wt_write_ok(x->c, &fh, (1u << 20) + 5, "tail", 4, UNSTABLE);
	assert_int_equal(wt_lstat(&wt_env, "hole").st_size, (1 << 20) + 9);
	char buf[16];
	wt_read_exact(x->c, &fh, (1u << 20) - 4, buf, 13);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0\0tail", 13);
	/* overwrite in the middle: size unchanged */
	wt_write_ok(x->c, &fh, 100, "abc", 3, DATA_SYNC);
	assert_int_equal(wt_lstat(&wt_env, "hole").st_size, (1 << 20) + 9);
	check_disk("hole", 99, "\0abc\0", 5);
}

static void test_wtmax_write(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "big");
	FSINFO3res fi;
	ITC_CALL(x->c, itc_fsinfo(x->c, &x->root, &fi));
	assert_nfsstat(fi.status, NFS3_OK);
	uint32_t wtmax = fi.FSINFO3res_u.resok.wtmax;
	assert_true(wtmax >= CHUNK);
	unsigned char *data = malloc(wtmax);
	itest_pattern(data, wtmax, 0, 99);
	for (int i = 0; i < 3; i++)
		wt_write_ok(x->c, &fh, (uint64_t)i * wtmax, data, wtmax,
			    i == 2 ? FILE_SYNC : UNSTABLE);
	for (int i = 0; i < 3; i++)
		check_disk("big", (uint64_t)i * wtmax, data, wtmax);
	unsigned char *back = malloc(wtmax);
	wt_read_exact(x->c, &fh, wtmax, back, wtmax);
	assert_memory_equal(back, data, wtmax);
	free(back);
	free(data);
}

/*
 * A stream of UNSTABLE writes has its older part written back while it goes
 * on (the server's write-behind, 16 MiB chunks, two behind). Rewrites that
 * land in a range being written back, and a COMMIT after, must leave
 * exactly the last data written, on disk and through READ.
 */
#define WB_CHUNK (16u << 20)
#define WB_SIZE (4u * WB_CHUNK)
#define WB_IO (1u << 20)

static void test_stream_rewrites_behind(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "stream");
	unsigned char *image = malloc(WB_SIZE);
	assert_non_null(image);
	itest_pattern(image, WB_SIZE, 0, 5);
	for (uint64_t off = 0; off < WB_SIZE; off += WB_IO) {
		wt_write_ok(x->c, &fh, off, image + off, WB_IO, UNSTABLE);
		if (off + WB_IO < 2 * WB_CHUNK)
			continue;
		/* into the chunk whose writeback this write has just started */
		uint64_t back = off + WB_IO - 2 * WB_CHUNK + (off / WB_IO % 7) * CHUNK;
		itest_pattern(image + back, CHUNK, back, 6 + (uint32_t)(off / WB_IO));
		wt_write_ok(x->c, &fh, back, image + back, CHUNK, UNSTABLE);
	}
	COMMIT3res c;
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 0, 0, &c));
	assert_nfsstat(c.status, NFS3_OK);
	assert_int_equal(wt_lstat(&wt_env, "stream").st_size, WB_SIZE);
	for (uint64_t off = 0; off < WB_SIZE; off += WB_CHUNK)
		check_disk("stream", off, image + off, WB_CHUNK);
	unsigned char *got = malloc(WB_IO);
	for (uint64_t off = WB_CHUNK / 2; off < WB_SIZE; off += WB_CHUNK) {
		wt_read_exact(x->c, &fh, off, got, WB_IO);
		assert_memory_equal(got, image + off, WB_IO);
	}
	free(got);
	free(image);
}

static void test_errors(void **state)
{
	struct wt_ctx *x = *state;
	WRITE3res r;
	ITC_CALL(x->c, wtc_write(x->c, &x->root, 0, "x", 1, UNSTABLE, &r));
	assert_nfsstat(r.status, NFS3ERR_ISDIR);
	assert_true(r.WRITE3res_u.resfail.file_wcc.after.attributes_follow);

	assert_int_equal(symlink("stable", itest_path(&wt_env, "wsl")), 0);
	fh_t sl = itc_lookup_ok(x->c, &x->root, "wsl");
	ITC_CALL(x->c, wtc_write(x->c, &sl, 0, "x", 1, UNSTABLE, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	assert_int_equal(mkfifo(itest_path(&wt_env, "wfifo"), 0666), 0);
	fh_t ff = itc_lookup_ok(x->c, &x->root, "wfifo");
	ITC_CALL(x->c, wtc_write(x->c, &ff, 0, "x", 1, UNSTABLE, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);

	fh_t fh = new_file(x, "werr");
	/* count larger than the data sent */
	ITC_CALL(x->c, wtc_write_raw(x->c, &fh, 0, 10, "abc", 3, UNSTABLE, &r));
	assert_nfsstat(r.status, NFS3ERR_INVAL);
	assert_int_equal(wt_lstat(&wt_env, "werr").st_size, 0);
	/* count 0 */
	ITC_CALL(x->c, wtc_write(x->c, &fh, 0, "", 0, FILE_SYNC, &r));
	assert_nfsstat(r.status, NFS3_OK);
	assert_int_equal(r.WRITE3res_u.resok.count, 0);
	/* beyond the largest file offset */
	ITC_CALL(x->c, wtc_write(x->c, &fh, UINT64_MAX - 1, "ab", 2, UNSTABLE, &r));
	assert_true(r.status == NFS3ERR_FBIG || r.status == NFS3ERR_INVAL);
	/* removed */
	assert_int_equal(unlink(itest_path(&wt_env, "werr")), 0);
	ITC_CALL(x->c, wtc_write(x->c, &fh, 0, "x", 1, UNSTABLE, &r));
	assert_nfsstat(r.status, NFS3ERR_STALE);
	COMMIT3res c;
	ITC_CALL(x->c, wtc_commit(x->c, &x->root, 0, 0, &c));
	assert_nfsstat(c.status, NFS3ERR_ISDIR);
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 0, 0, &c));
	assert_nfsstat(c.status, NFS3ERR_STALE);
}

#define FOUR_G (1ull << 32)

static void test_sparse_over_4g(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "huge");
	static const uint64_t offs[] = { FOUR_G - 3, 5ull << 30, (6ull << 30) + 12345 };
	unsigned char blk[8192];
	for (int i = 0; i < 3; i++) {
		itest_pattern(blk, sizeof(blk), offs[i], 4242);
		wt_write_ok(x->c, &fh, offs[i], blk, sizeof(blk), i == 2 ? FILE_SYNC : UNSTABLE);
	}
	COMMIT3res c;
	ITC_CALL(x->c, wtc_commit(x->c, &fh, 0, 0, &c));
	assert_nfsstat(c.status, NFS3_OK);
	uint64_t size = offs[2] + sizeof(blk);
	fattr3 a = itc_attr_ok(x->c, &fh);
	assert_int_equal(a.size, size);
	struct stat st = wt_lstat(&wt_env, "huge");
	assert_int_equal((uint64_t)st.st_size, size);
	assert_true((uint64_t)st.st_blocks * 512 < (1u << 20)); /* still sparse */
	itest_check_attr_matches(&a, itest_path(&wt_env, "huge"));
	for (int i = 0; i < 3; i++) {
		unsigned char want[8192], got[8192];
		itest_pattern(want, sizeof(want), offs[i], 4242);
		wt_read_exact(x->c, &fh, offs[i], got, sizeof(got));
		assert_memory_equal(got, want, sizeof(want));
		check_disk("huge", offs[i], want, sizeof(want));
	}
	/* the hole between reads as zeros, the 4 GiB boundary straddled exactly */
	unsigned char z[64];
	wt_read_exact(x->c, &fh, (5ull << 30) - 64, z, sizeof(z));
	for (size_t i = 0; i < sizeof(z); i++)
		assert_int_equal(z[i], 0);
	assert_int_equal(unlink(itest_path(&wt_env, "huge")), 0);
}

/* ---- concurrency ---- */

struct worker {
	int port;
	fh_t fh;
	uint64_t base;
	unsigned index, nworkers, nchunks;
	uint32_t seed;
	bool stripes; /* write every nworkers-th chunk of one file */
	char err[640];
};

static void *writer(void *arg)
{
	struct worker *w = arg;
	itc_t *c = wt_connect_as(w->port, 0, 0, 0, NULL);
	if (!c) {
		snprintf(w->err, sizeof(w->err), "connect failed");
		return NULL;
	}
	unsigned char *buf = malloc(CHUNK);
	for (unsigned i = 0; i < w->nchunks && !w->err[0]; i++) {
		unsigned chunk = w->stripes ? i * w->nworkers + w->index : i;
		uint64_t off = w->base + (uint64_t)chunk * CHUNK;
		itest_pattern(buf, CHUNK, off, w->seed);
		WRITE3res r;
		stable_how how = i % 7 == 3 ? FILE_SYNC : UNSTABLE;
		if (wtc_write(c, &w->fh, off, buf, CHUNK, how, &r) != 0)
			snprintf(w->err, sizeof(w->err), "WRITE rpc: %s", c->err);
		else if (r.status != NFS3_OK || r.WRITE3res_u.resok.count != CHUNK)
			snprintf(w->err, sizeof(w->err), "WRITE at %llu: status %d count %u",
				 (unsigned long long)off, (int)r.status, r.WRITE3res_u.resok.count);
	}
	COMMIT3res cr;
	if (!w->err[0] && (wtc_commit(c, &w->fh, 0, 0, &cr) != 0 || cr.status != NFS3_OK))
		snprintf(w->err, sizeof(w->err), "COMMIT failed");
	free(buf);
	itc_close(c);
	return NULL;
}

static void verify_pattern(const char *rel, uint64_t size, uint32_t seed)
{
	int fd = open(itest_path(&wt_env, rel), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	unsigned char *got = malloc(CHUNK), *want = malloc(CHUNK);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		assert_int_equal(pread(fd, got, CHUNK, (off_t)off), CHUNK);
		itest_pattern(want, CHUNK, off, seed);
		if (memcmp(got, want, CHUNK) != 0)
			fail_msg("%s: chunk at %llu differs", rel, (unsigned long long)off);
	}
	free(got);
	free(want);
	close(fd);
}

#define NWORKERS 4
#define NCHUNKS 48

static void test_concurrent_files(void **state)
{
	struct wt_ctx *x = *state;
	struct worker w[NWORKERS];
	pthread_t t[NWORKERS];
	for (unsigned i = 0; i < NWORKERS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "conc%u", i);
		memset(&w[i], 0, sizeof(w[i]));
		w[i].port = wt_srv.port;
		w[i].fh = new_file(x, name);
		w[i].nchunks = NCHUNKS;
		w[i].seed = 1000 + i;
	}
	for (unsigned i = 0; i < NWORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &w[i]), 0);
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < NWORKERS; i++) {
		if (w[i].err[0])
			fail_msg("writer %u: %s", i, w[i].err);
		char name[32];
		snprintf(name, sizeof(name), "conc%u", i);
		verify_pattern(name, (uint64_t)NCHUNKS * CHUNK, 1000 + i);
	}
}

static void test_concurrent_ranges(void **state)
{
	struct wt_ctx *x = *state;
	fh_t fh = new_file(x, "stripes");
	struct worker w[NWORKERS];
	pthread_t t[NWORKERS];
	for (unsigned i = 0; i < NWORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].port = wt_srv.port;
		w[i].fh = fh;
		w[i].index = i;
		w[i].nworkers = NWORKERS;
		w[i].nchunks = NCHUNKS / 2;
		w[i].stripes = true;
		w[i].seed = 77;
	}
	for (unsigned i = 0; i < NWORKERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &w[i]), 0);
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < NWORKERS; i++)
		if (w[i].err[0])
			fail_msg("writer %u: %s", i, w[i].err);
	verify_pattern("stripes", (uint64_t)NWORKERS * (NCHUNKS / 2) * CHUNK, 77);
	/* and the same through READ */
	unsigned char *got = malloc(CHUNK), *want = malloc(CHUNK);
	for (unsigned i = 0; i < NWORKERS * (NCHUNKS / 2); i += 5) {
		wt_read_exact(x->c, &fh, (uint64_t)i * CHUNK, got, CHUNK);
		itest_pattern(want, CHUNK, (uint64_t)i * CHUNK, 77);
		assert_memory_equal(got, want, CHUNK);
	}
	free(got);
	free(want);
}

static int gsetup(void **state)
{
	(void)state;
	return wt_group_setup("write", NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, wt_setup, wt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_stable_modes),
		T(test_wcc),
		T(test_hole_and_overwrite),
		T(test_wtmax_write),
		T(test_stream_rewrites_behind),
		T(test_errors),
		T(test_sparse_over_4g),
		T(test_concurrent_files),
		T(test_concurrent_ranges),
	};
	return cmocka_run_group_tests_name("write.write", tests, gsetup, wt_group_teardown);
}
