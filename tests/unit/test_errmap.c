/* errno -> nfsstat3 (server/nfs3/errmap.c). */
#include "unit.h"

#include "errmap.h"
#include "vfs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

static const struct {
	int err;
	nfsstat3 st;
} mapped[] = {
	{ 0, NFS3_OK },
	{ EPERM, NFS3ERR_PERM },
	{ ENOENT, NFS3ERR_NOENT },
	{ EIO, NFS3ERR_IO },
	{ ENXIO, NFS3ERR_NXIO },
	{ EACCES, NFS3ERR_ACCES },
	{ EEXIST, NFS3ERR_EXIST },
	{ EXDEV, NFS3ERR_XDEV },
	{ ENODEV, NFS3ERR_NODEV },
	{ ENOTDIR, NFS3ERR_NOTDIR },
	{ EISDIR, NFS3ERR_ISDIR },
	{ EINVAL, NFS3ERR_INVAL },
	{ EFBIG, NFS3ERR_FBIG },
	{ ENOSPC, NFS3ERR_NOSPC },
	{ EDQUOT, NFS3ERR_DQUOT },
	{ EROFS, NFS3ERR_ROFS },
	{ EMLINK, NFS3ERR_MLINK },
	{ ENAMETOOLONG, NFS3ERR_NAMETOOLONG },
	{ ENOTEMPTY, NFS3ERR_NOTEMPTY },
	/* Removing or renaming over a mount point: knfsd's answer. */
	{ EBUSY, NFS3ERR_ACCES },
	{ ESTALE, NFS3ERR_STALE },
	{ EBADF, NFS3ERR_BADHANDLE },
	{ ENOTSUP, NFS3ERR_NOTSUPP },
	{ EOPNOTSUPP, NFS3ERR_NOTSUPP }, /* the same value on Linux */
	{ ETXTBSY, NFS3ERR_JUKEBOX },
	{ EAGAIN, NFS3ERR_JUKEBOX },
	{ EWOULDBLOCK, NFS3ERR_JUKEBOX },
	{ ENOMEM, NFS3ERR_JUKEBOX },
	/* A symlink where a directory was expected. */
	{ ELOOP, NFS3ERR_NOTDIR },
	{ EOVERFLOW, NFS3ERR_FBIG },
	{ EFAULT, NFS3ERR_SERVERFAULT },
	/* The kernel's internal NFS codes the backends return (vfs.h). */
	{ EBADHANDLE, NFS3ERR_BADHANDLE },
	{ EBADCOOKIE, NFS3ERR_BAD_COOKIE },
	{ ENOTSUPP, NFS3ERR_NOTSUPP },
	{ ETOOSMALL, NFS3ERR_TOOSMALL },
	{ EJUKEBOX, NFS3ERR_JUKEBOX },
	/* Never sent (the call moves to a worker), but never an error the client can't retry. */
	{ EVFS_NEED_WORKER, NFS3ERR_JUKEBOX },
};

static void test_every_mapped_errno_both_signs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++) {
		nfsstat3 pos = nfs3_errno(mapped[i].err);
		nfsstat3 neg = nfs3_errno(-mapped[i].err);
		if (pos != mapped[i].st || neg != mapped[i].st)
			fail_msg("errno %d (%s): +%d -> %s, -%d -> %s, want %s", mapped[i].err,
				 strerror(mapped[i].err), mapped[i].err, nfs3_strstat(pos),
				 mapped[i].err, nfs3_strstat(neg), nfs3_strstat(mapped[i].st));
	}
}

static void test_unknown_errno_is_io(void **state)
{
	(void)state;
	/* Everything not in the table, tried exhaustively over the errno range. */
	for (int e = 1; e < 2 * EVFS_NEED_WORKER; e++) {
		bool known = false;
		for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]); i++)
			known |= mapped[i].err == e;
		if (known)
			continue;
		if (nfs3_errno(e) != NFS3ERR_IO || nfs3_errno(-e) != NFS3ERR_IO)
			fail_msg("unmapped errno %d (%s) -> %s / %s, want IO", e, strerror(e),
				 nfs3_strstat(nfs3_errno(e)), nfs3_strstat(nfs3_errno(-e)));
	}
	assert_int_equal(nfs3_errno(ECONNRESET), NFS3ERR_IO);
	assert_int_equal(nfs3_errno(-EINTR), NFS3ERR_IO);
	assert_int_equal(nfs3_errno(INT_MAX), NFS3ERR_IO);
	assert_int_equal(nfs3_errno(-INT_MAX), NFS3ERR_IO);
}

static void test_strstat_names(void **state)
{
	(void)state;
	static const nfsstat3 all[] = {
		NFS3_OK,	   NFS3ERR_PERM,	NFS3ERR_NOENT,
		NFS3ERR_IO,	   NFS3ERR_NXIO,	NFS3ERR_ACCES,
		NFS3ERR_EXIST,	   NFS3ERR_XDEV,	NFS3ERR_NODEV,
		NFS3ERR_NOTDIR,	   NFS3ERR_ISDIR,	NFS3ERR_INVAL,
		NFS3ERR_FBIG,	   NFS3ERR_NOSPC,	NFS3ERR_ROFS,
		NFS3ERR_MLINK,	   NFS3ERR_NAMETOOLONG, NFS3ERR_NOTEMPTY,
		NFS3ERR_DQUOT,	   NFS3ERR_STALE,	NFS3ERR_REMOTE,
		NFS3ERR_BADHANDLE, NFS3ERR_NOT_SYNC,	NFS3ERR_BAD_COOKIE,
		NFS3ERR_NOTSUPP,   NFS3ERR_TOOSMALL,	NFS3ERR_SERVERFAULT,
		NFS3ERR_BADTYPE,   NFS3ERR_JUKEBOX,
	};
	size_t n = sizeof(all) / sizeof(all[0]);
	for (size_t i = 0; i < n; i++) {
		const char *s = nfs3_strstat(all[i]);
		assert_non_null(s);
		if (strcmp(s, "?") == 0)
			fail_msg("nfsstat3 %d has no name", (int)all[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s, nfs3_strstat(all[j])) == 0)
				fail_msg("nfsstat3 %d and %d share the name %s", (int)all[i],
					 (int)all[j], s);
	}
	assert_string_equal(nfs3_strstat(NFS3ERR_STALE), "STALE");
	assert_string_equal(nfs3_strstat((nfsstat3)12345), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_mapped_errno_both_signs),
		cmocka_unit_test(test_unknown_errno_is_io),
		cmocka_unit_test(test_strstat_names),
	};
	return cmocka_run_group_tests_name("errmap", tests, NULL, NULL);
}
