/*
 * The per-directory cache of entries' kernel handles (fh_dircache): it is
 * used only for a directory whose ctime has settled, emptied when the ctime
 * moves, never emptied under a listing still using it, bounded in size, and
 * what it returns is exactly what the kernel would have said.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "backend.h"
#include "export.h"
#include "fh.h"
#include "fh_dircache.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct timespec T0 = { .tv_sec = 1000000 };
static const struct timespec LATER = { .tv_sec = 1000000 + 60 };

static struct pt_kh kh_of(uint32_t v)
{
	struct pt_kh kh = { .type = 1, .len = 8 };
	memcpy(kh.bytes, &v, 4);
	memcpy(kh.bytes + 4, &v, 4);
	return kh;
}

static int reset(void **state)
{
	(void)state;
	dhc_sweep(0);
	return dhc_entries() == 0 ? 0 : -1;
}

static void test_recent_directory_not_cached(void **state)
{
	(void)state;
	struct timespec just = T0;
	just.tv_nsec = 5;
	struct timespec now = { .tv_sec = T0.tv_sec + 1, .tv_nsec = 0 };
	assert_null(dhc_acquire(1, 10, &just, &now));
	now.tv_sec = T0.tv_sec + (time_t)(DHC_SETTLE_NS / 1000000000ull) + 1;
	struct dhc_dir *d = dhc_acquire(1, 10, &just, &now);
	assert_non_null(d);
	dhc_release(d);
}

static void test_put_get(void **state)
{
	(void)state;
	struct dhc_dir *d = dhc_acquire(1, 10, &T0, &LATER);
	assert_non_null(d);
	struct pt_kh out;
	assert_false(dhc_get(d, 77, &out));
	struct pt_kh a = kh_of(0xabcdef01);
	dhc_put(d, 77, &a);
	assert_true(dhc_get(d, 77, &out));
	assert_int_equal(out.type, a.type);
	assert_int_equal(out.len, a.len);
	assert_memory_equal(out.bytes, a.bytes, a.len);
	assert_false(dhc_get(d, 78, &out));
	/* Handles too long to keep are not kept (and not truncated). */
	struct pt_kh big = { .type = 2, .len = DHC_KH_MAX + 4 };
	dhc_put(d, 79, &big);
	assert_false(dhc_get(d, 79, &out));
	dhc_release(d);
	/* Another directory has its own names. */
	d = dhc_acquire(1, 11, &T0, &LATER);
	assert_non_null(d);
	assert_false(dhc_get(d, 77, &out));
	dhc_release(d);
	/* The same directory in the same state still has it. */
	d = dhc_acquire(1, 10, &T0, &LATER);
	assert_true(dhc_get(d, 77, &out));
	dhc_release(d);
}

static void test_changed_directory_emptied(void **state)
{
	(void)state;
	struct dhc_dir *d = dhc_acquire(1, 10, &T0, &LATER);
	struct pt_kh a = kh_of(1), out;
	dhc_put(d, 5, &a);
	dhc_release(d);
	struct timespec changed = T0;
	changed.tv_nsec = 1;
	d = dhc_acquire(1, 10, &changed, &LATER);
	assert_non_null(d);
	assert_false(dhc_get(d, 5, &out));
	assert_int_equal(dhc_entries(), 0);
	dhc_release(d);
}

static void test_changed_while_held(void **state)
{
	(void)state;
	struct dhc_dir *old = dhc_acquire(1, 10, &T0, &LATER);
	struct pt_kh a = kh_of(1), out;
	dhc_put(old, 5, &a);
	struct timespec changed = { .tv_sec = T0.tv_sec + 1 };
	/* A listing of the new state gets no cache while the old one is in use... */
	assert_null(dhc_acquire(1, 10, &changed, &LATER));
	/* ...and the old listing's entries are untouched. */
	assert_true(dhc_get(old, 5, &out));
	dhc_release(old);
	struct dhc_dir *d = dhc_acquire(1, 10, &changed, &LATER);
	assert_non_null(d);
	assert_false(dhc_get(d, 5, &out));
	dhc_release(d);
}

static void test_budget(void **state)
{
	(void)state;
	struct dhc_dir *d = dhc_acquire(1, 10, &T0, &LATER);
	struct pt_kh a = kh_of(3), out;
	for (uint64_t i = 1; i <= DHC_MAX_ENTRIES + 5000; i++)
		dhc_put(d, i, &a);
	size_t n = dhc_entries();
	assert_true(n <= DHC_MAX_ENTRIES);
	assert_true(n >= DHC_MAX_ENTRIES / 2);
	assert_true(dhc_get(d, 1, &out));
	dhc_release(d);
	dhc_sweep(0);
	assert_int_equal(dhc_entries(), 0);
}

static void test_slots_bounded_and_busy_kept(void **state)
{
	(void)state;
	struct dhc_dir *held[DHC_DIRS];
	for (int i = 0; i < DHC_DIRS; i++) {
		held[i] = dhc_acquire(1, (ino_t)(100 + i), &T0, &LATER);
		assert_non_null(held[i]);
		struct pt_kh a = kh_of((uint32_t)i);
		dhc_put(held[i], 9, &a);
	}
	/* Every slot in use: one more directory goes uncached, nobody's is lost. */
	assert_null(dhc_acquire(1, 999, &T0, &LATER));
	for (int i = 0; i < DHC_DIRS; i++) {
		struct pt_kh out;
		assert_true(dhc_get(held[i], 9, &out));
		assert_memory_equal(out.bytes, kh_of((uint32_t)i).bytes, 8);
		dhc_release(held[i]);
	}
	struct dhc_dir *d = dhc_acquire(1, 999, &T0, &LATER);
	assert_non_null(d);
	dhc_release(d);
}

/* Through the real filesystem: the cached handle is byte for byte pt_make_fh's. */
static void test_make_fh_matches_kernel(void **state)
{
	(void)state;
	struct ut_export fx;
	assert_int_equal(ut_export_init(&fx, "dircache"), 0);
	char *p = ut_join(fx.exdir, "file");
	ut_touch(p);
	free(p);
	int root = pt_export(fx.ex)->root_fd;
	struct stat dst, st;
	assert_int_equal(fstat(root, &dst), 0);
	assert_int_equal(fstatat(root, "file", &st, AT_SYMLINK_NOFOLLOW), 0);
	struct fh_buf want, got;
	pt_make_fh(fx.ex, root, "file", &st, &want);
	struct dhc_dir *d = dhc_acquire(dst.st_dev, dst.st_ino, &T0, &LATER);
	assert_non_null(d);
	dhc_make_fh(d, fx.ex, 0, root, "file", &st, &got); /* miss: asks the kernel */
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	size_t n = dhc_entries();
	/* The kernel handle is what follows the header and the payload's type and inode. */
	assert_true(want.len >= FH_HDR + 9);
	unsigned khlen = want.len - FH_HDR - 9;
	assert_int_equal(n, khlen > 0 && khlen <= DHC_KH_MAX ? 1 : 0);
	memset(&got, 0, sizeof(got));
	dhc_make_fh(d, fx.ex, 0, root, "file", &st, &got); /* hit */
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	/* "." and ".." are never cached: they are not entries. */
	struct stat dot;
	assert_int_equal(fstatat(root, ".", &dot, 0), 0);
	dhc_make_fh(d, fx.ex, 0, root, ".", &dot, &got);
	assert_int_equal(dhc_entries(), n);
	/* Without a cache it is pt_make_fh. */
	dhc_make_fh(NULL, fx.ex, 0, root, "file", &st, &got);
	assert_memory_equal(got.data, want.data, want.len);
	dhc_release(d);
	ut_export_free(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_recent_directory_not_cached, reset),
		cmocka_unit_test_setup(test_put_get, reset),
		cmocka_unit_test_setup(test_changed_directory_emptied, reset),
		cmocka_unit_test_setup(test_changed_while_held, reset),
		cmocka_unit_test_setup(test_budget, reset),
		cmocka_unit_test_setup(test_slots_bounded_and_busy_kept, reset),
		cmocka_unit_test_setup(test_make_fh_matches_kernel, reset),
	};
	return cmocka_run_group_tests_name("dircache", tests, NULL, NULL);
}
