/*
 * fs_watch (server/fs_watch.c): the epoch moves on after a rename or a
 * removal anywhere on the watched filesystem, and stays put for changes
 * that can't take an object out of a directory tree.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "fs_watch.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t epoch_of(struct fs_watch *w)
{
	uint64_t e = 0;
	assert_true(fs_watch_epoch(w, &e));
	assert_true(e != 0);
	return e;
}

/* A watch on a fresh directory, or the test skipped (not root, no fanotify). */
static struct fs_watch *watch_tmpdir(const char *tag, char **dir, int *dfd)
{
	*dir = ut_mkdtemp(tag);
	*dfd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(*dfd >= 0);
	struct fs_watch *w = fs_watch_open(*dfd);
	if (!w) { /* the server then checks every handle instead */
		close(*dfd);
		ut_rm_rf(*dir);
		free(*dir);
		skip();
	}
	return w;
}

static void test_epoch(void **state)
{
	(void)state;
	char *dir;
	int dfd;
	struct fs_watch *w = watch_tmpdir("fswatch", &dir, &dfd);
	char *a = ut_join(dir, "a"), *b = ut_join(dir, "b"), *sub = ut_join(dir, "sub");
	char *c = ut_join(dir, "c");
	uint64_t e = epoch_of(w);
	/* creating, writing, linking and making directories: no change */
	ut_touch(a);
	int fd = open(a, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	ut_mkdir(sub);
	assert_int_equal(link(a, c), 0);
	assert_int_equal(epoch_of(w), e);
	/* a rename moves it on, once */
	assert_int_equal(rename(a, b), 0);
	uint64_t e2 = epoch_of(w);
	assert_true(e2 > e);
	assert_int_equal(epoch_of(w), e2);
	/* so does an unlink, and an rmdir */
	assert_int_equal(unlink(c), 0);
	uint64_t e3 = epoch_of(w);
	assert_true(e3 > e2);
	assert_int_equal(rmdir(sub), 0);
	assert_true(epoch_of(w) > e3);
	fs_watch_close(w);
	close(dfd);
	ut_rm_rf(dir);
	free(a);
	free(b);
	free(c);
	free(sub);
	free(dir);
}

/* More events than the queue holds: the overflow still counts as a change. */
static void test_overflow(void **state)
{
	(void)state;
	char *dir;
	int dfd;
	struct fs_watch *w = watch_tmpdir("fswatch-ov", &dir, &dfd);
	char *a = ut_join(dir, "a"), *b = ut_join(dir, "b");
	ut_touch(a);
	uint64_t e = epoch_of(w);
	for (int i = 0; i < 20000; i++) /* the default queue holds 16384 */
		assert_int_equal(i % 2 ? rename(b, a) : rename(a, b), 0);
	uint64_t e2 = epoch_of(w);
	assert_true(e2 > e);
	assert_int_equal(epoch_of(w), e2); /* drained: quiet again */
	fs_watch_close(w);
	close(dfd);
	ut_rm_rf(dir);
	free(a);
	free(b);
	free(dir);
}

/* A watch on a descriptor fanotify can't mark is refused, not half made. */
static void test_bad_fd(void **state)
{
	(void)state;
	assert_null(fs_watch_open(-1));
	uint64_t e = 7;
	assert_false(fs_watch_epoch(NULL, &e));
	fs_watch_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_bad_fd),
	};
	return cmocka_run_group_tests_name("fswatch", tests, NULL, NULL);
}
