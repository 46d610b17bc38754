/*
 * Every name-changing operation of the passthrough backend waits for the
 * directory's write turn (pt_write_lock): while another request holds it,
 * CREATE, MKDIR, SYMLINK, MKNOD, LINK, REMOVE and RENAME do not touch the
 * directory, and they all complete once it is released. (SYMLINK, MKNOD and
 * LINK once went straight to the kernel's inode lock, where waiters spin.)
 */
#include "unit.h"

#include "backend.h"
#include "vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Long enough for an unblocked operation to finish many times over, even under TSan. */
#define HOLD_MS 300

static struct ut_export E;

enum op { OP_CREATE, OP_MKDIR, OP_SYMLINK, OP_MKNOD, OP_LINK, OP_REMOVE, OP_RENAME };

struct job {
	enum op op;
	struct vfs_obj *dir, *file;
	atomic_bool done;
	int rc;
};

static void *run_op(void *arg)
{
	struct job *j = arg;
	const struct vfs_ops *ops = j->dir->ex->ops;
	struct vfs_new n;
	switch (j->op) {
	case OP_CREATE: j->rc = ops->create(j->dir, "c", 0644, &n); break;
	case OP_MKDIR: j->rc = ops->mkdir(j->dir, "m", 0755, &n); break;
	case OP_SYMLINK: j->rc = ops->symlink(j->dir, "s", "target", &n); break;
	case OP_MKNOD: j->rc = ops->mknod(j->dir, "p", S_IFIFO | 0644, 0, &n); break;
	case OP_LINK: j->rc = ops->link(j->file, j->dir, "l"); break;
	case OP_REMOVE: j->rc = ops->remove(j->dir, "gone", false); break;
	case OP_RENAME: j->rc = ops->rename(j->dir, "from", j->dir, "to"); break;
	}
	atomic_store(&j->done, true);
	return NULL;
}

static const char *made_name(enum op op)
{
	static const char *const n[] = { "c", "m", "s", "p", "l", "gone", "to" };
	return n[op];
}

static bool exists(const char *name)
{
	struct stat st;
	return fstatat(pt_export(E.ex)->root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void touch_in(const char *name)
{
	char *p = ut_join(E.exdir, name);
	ut_touch(p);
	free(p);
}

static struct vfs_obj *resolve(struct ut_rpc *u, const char *rel)
{
	struct fh_buf b;
	ut_hmake(E.ex, rel, &b);
	struct vfs_obj *obj;
	assert_int_equal(vfs_resolve(&u->req, b.data, b.len, &obj), 0);
	return obj;
}

static void check_waits_for_turn(enum op op)
{
	struct ut_rpc u;
	ut_rpc_init(&u, 0, 0);
	touch_in("file");
	touch_in("gone");
	touch_in("from");
	struct vfs_obj *dir = resolve(&u, "");
	struct job j = { .op = op, .dir = dir, .file = resolve(&u, "file") };
	bool was = op == OP_REMOVE; /* "gone" is there until the removal */

	pt_write_lock(dir);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, run_op, &j), 0);
	usleep(HOLD_MS * 1000);
	bool finished_early = atomic_load(&j.done);
	bool changed_early = exists(made_name(op)) != was;
	pt_write_unlock(dir);
	pthread_join(t, NULL);

	if (finished_early || changed_early)
		fail_msg("op %d did not wait for the directory's write turn (done %d, changed %d)",
			 (int)op, finished_early, changed_early);
	assert_int_equal(j.rc, 0);
	assert_true(exists(made_name(op)) != was);
	vfs_put(j.file);
	vfs_put(dir);
	ut_rpc_done(&u);
}

static void test_create_waits(void **state)
{
	check_waits_for_turn(OP_CREATE);
}

static void test_mkdir_waits(void **state)
{
	check_waits_for_turn(OP_MKDIR);
}

static void test_symlink_waits(void **state)
{
	check_waits_for_turn(OP_SYMLINK);
}

static void test_mknod_waits(void **state)
{
	check_waits_for_turn(OP_MKNOD);
}

static void test_link_waits(void **state)
{
	check_waits_for_turn(OP_LINK);
}

static void test_remove_waits(void **state)
{
	check_waits_for_turn(OP_REMOVE);
}

static void test_rename_waits(void **state)
{
	check_waits_for_turn(OP_RENAME);
}

static int setup(void **state)
{
	return ut_export_init(&E, "ptlock");
}

static int teardown(void **state)
{
	ut_export_free(&E);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mknod_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_waits, setup, teardown),
	};
	return cmocka_run_group_tests_name("ptlock", tests, NULL, NULL);
}
