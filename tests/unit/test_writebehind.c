/*
 * Write-behind of UNSTABLE writes (server/fs_write.c): which range a write
 * starts writing back, and, on a real file, that the range is no longer
 * dirty afterwards while the data ahead of it still is.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define C FS_WRITE_BEHIND_CHUNK
#define MIB (1ull << 20)

static void expect_none(uint64_t off, size_t len)
{
	uint64_t s = 7, n = 7;
	if (fs_write_behind_range(off, len, &s, &n))
		fail_msg("write [%llu, +%zu) started writeback of [%llu, +%llu)",
			 (unsigned long long)off, len, (unsigned long long)s,
			 (unsigned long long)n);
}

static void expect_range(uint64_t off, size_t len, uint64_t start)
{
	uint64_t s = 0, n = 0;
	assert_true(fs_write_behind_range(off, len, &s, &n));
	assert_int_equal(s, start);
	assert_int_equal(n, C);
}

static void test_range(void **state)
{
	(void)state;
	/* the first two chunks are never written back early: nothing is behind yet */
	expect_none(0, MIB);
	expect_none(C - MIB, MIB);
	expect_none(2 * C - MIB, MIB - 1);
	/* reaching the end of chunk 1 starts chunk 0; the next chunk boundary, chunk 1 */
	expect_range(2 * C - MIB, MIB, 0);
	expect_range(3 * C - 4096, 4096, C);
	/* a write that crosses a boundary counts; one that only starts on it does not */
	expect_range(3 * C - 100, 200, C);
	expect_none(3 * C, MIB);
	expect_none(3 * C + MIB, MIB);
	/* small scattered writes start nothing, empty and wrapping ones neither */
	expect_none(5 * C + 12345, 4096);
	expect_none(5 * C, 0);
	expect_none(UINT64_MAX - 10, 100);
	/* far into a large file */
	expect_range(1000 * C - MIB, MIB, 998 * C);
}

struct cachestat_range_ {
	uint64_t off, len;
};
struct cachestat_ {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif

/* Dirty pages of [off, off+len), or -errno (ENOSYS before Linux 6.5). */
static long dirty_pages(int fd, uint64_t off, uint64_t len)
{
	struct cachestat_range_ r = { off, len };
	struct cachestat_ cs;
	memset(&cs, 0, sizeof(cs));
	if (syscall(SYS_cachestat, fd, &r, &cs, 0) != 0)
		return -errno;
	return (long)cs.nr_dirty;
}

/* Writes 3 chunks in 1 MiB pieces, as the server would for UNSTABLE WRITEs. */
static int write_file(const char *path, bool behind)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	char *buf = malloc(MIB);
	assert_non_null(buf);
	for (uint64_t off = 0; off < 3 * C; off += MIB) {
		memset(buf, (int)(off / MIB), MIB);
		assert_int_equal(fs_pwrite(fd, buf, MIB, off, FS_NOSYNC), (ssize_t)MIB);
		if (behind)
			fs_write_behind(fd, off, MIB);
	}
	free(buf);
	return fd;
}

static void test_writeback_started(void **state)
{
	(void)state;
	char *dir = ut_mkdtemp("writebehind");
	char *plain = ut_join(dir, "plain"), *behind = ut_join(dir, "behind");
	int pfd = write_file(plain, false);
	long pdirty = dirty_pages(pfd, 0, C);
	if (pdirty == -ENOSYS || pdirty == -EOPNOTSUPP || pdirty == 0) {
		/* No cachestat, or this filesystem writes back at once (or has no dirty pages) */
		close(pfd);
		ut_rm_rf(dir);
		free(plain);
		free(behind);
		free(dir);
		skip();
	}
	assert_true(pdirty > 0);
	int bfd = write_file(behind, true);
	/* chunk 0 was written back when the writes passed the end of chunk 1 */
	assert_int_equal(dirty_pages(bfd, 0, C), 0);
	/* chunks 1 and 2 are still only in the page cache: nothing was behind them long enough */
	assert_true(dirty_pages(bfd, 2 * C, C) > 0);
	/* and the data reads back as written */
	char b[2];
	assert_int_equal(pread(bfd, b, 1, 5 * MIB), 1);
	assert_int_equal(b[0], 5);
	assert_int_equal(fs_fsync(bfd), 0);
	assert_int_equal(dirty_pages(bfd, 0, 3 * C), 0);
	close(pfd);
	close(bfd);
	ut_rm_rf(dir);
	free(plain);
	free(behind);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_writeback_started),
	};
	return cmocka_run_group_tests_name("writebehind", tests, NULL, NULL);
}
