/* NFSv3 write-side procedures. PLACEHOLDER: being implemented (issue #3). */
#include "nfs3.h"

#define NOTSUPP(fn, RES)                                                                           \
	void fn(struct req *req, void *args, void *res)                                            \
	{                                                                                          \
		((RES *)res)->status = NFS3ERR_NOTSUPP;                                            \
	}

NOTSUPP(nfs3_setattr, SETATTR3res)
NOTSUPP(nfs3_write, WRITE3res)
NOTSUPP(nfs3_create, CREATE3res)
NOTSUPP(nfs3_mkdir, MKDIR3res)
NOTSUPP(nfs3_symlink, SYMLINK3res)
NOTSUPP(nfs3_mknod, MKNOD3res)
NOTSUPP(nfs3_remove, REMOVE3res)
NOTSUPP(nfs3_rmdir, RMDIR3res)
NOTSUPP(nfs3_rename, RENAME3res)
NOTSUPP(nfs3_link, LINK3res)
NOTSUPP(nfs3_commit, COMMIT3res)
