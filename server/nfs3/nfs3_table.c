/* The NFSv3 procedure table (RFC 1813 section 3). */
#include "nfs3.h"

#define PROC(NAME, fn, ARGS, RES, flags)                                                           \
	{                                                                                          \
#NAME, (xdrproc_t)xdr_##ARGS, sizeof(ARGS), (xdrproc_t)xdr_##RES, sizeof(RES), fn, \
			(flags) | PROC_STATUS, NULL                                                \
	}

static const struct proc_desc nfs3_procs[] = {
	[NFSPROC3_NULL] = { "NULL", (xdrproc_t)xdr_nothing, 0, (xdrproc_t)xdr_nothing, 0, nfs3_null,
			    PROC_INLINE, NULL },
	[NFSPROC3_GETATTR] = PROC(GETATTR, nfs3_getattr, GETATTR3args, GETATTR3res, PROC_INLINE),
	[NFSPROC3_SETATTR] =
		PROC(SETATTR, nfs3_setattr, SETATTR3args, SETATTR3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_LOOKUP] = PROC(LOOKUP, nfs3_lookup, LOOKUP3args, LOOKUP3res, PROC_INLINE),
	[NFSPROC3_ACCESS] = PROC(ACCESS, nfs3_access, ACCESS3args, ACCESS3res, PROC_INLINE),
	[NFSPROC3_READLINK] = PROC(READLINK, nfs3_readlink, READLINK3args, READLINK3res, 0),
	[NFSPROC3_READ] = PROC(READ, nfs3_read, READ3args, READ3res, 0),
	[NFSPROC3_WRITE] = { "WRITE", (xdrproc_t)xdr_WRITE3args_inplace, sizeof(WRITE3args),
			     (xdrproc_t)xdr_WRITE3res, sizeof(WRITE3res), nfs3_write, PROC_STATUS,
			     (xdrproc_t)xdr_WRITE3args_free },
	[NFSPROC3_CREATE] = PROC(CREATE, nfs3_create, CREATE3args, CREATE3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_MKDIR] = PROC(MKDIR, nfs3_mkdir, MKDIR3args, MKDIR3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_SYMLINK] =
		PROC(SYMLINK, nfs3_symlink, SYMLINK3args, SYMLINK3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_MKNOD] = PROC(MKNOD, nfs3_mknod, MKNOD3args, MKNOD3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_REMOVE] = PROC(REMOVE, nfs3_remove, REMOVE3args, REMOVE3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_RMDIR] = PROC(RMDIR, nfs3_rmdir, RMDIR3args, RMDIR3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_RENAME] = PROC(RENAME, nfs3_rename, RENAME3args, RENAME3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_LINK] = PROC(LINK, nfs3_link, LINK3args, LINK3res, PROC_NONIDEMPOTENT),
	[NFSPROC3_READDIR] = PROC(READDIR, nfs3_readdir, READDIR3args, READDIR3res, 0),
	[NFSPROC3_READDIRPLUS] = { "READDIRPLUS", (xdrproc_t)xdr_READDIRPLUS3args,
				   sizeof(READDIRPLUS3args), (xdrproc_t)xdr_READDIRPLUS3res_fast,
				   sizeof(READDIRPLUS3res), nfs3_readdirplus, PROC_STATUS, NULL },
	[NFSPROC3_FSSTAT] = PROC(FSSTAT, nfs3_fsstat, FSSTAT3args, FSSTAT3res, 0),
	[NFSPROC3_FSINFO] = PROC(FSINFO, nfs3_fsinfo, FSINFO3args, FSINFO3res, 0),
	[NFSPROC3_PATHCONF] = PROC(PATHCONF, nfs3_pathconf, PATHCONF3args, PATHCONF3res, 0),
	[NFSPROC3_COMMIT] = PROC(COMMIT, nfs3_commit, COMMIT3args, COMMIT3res, 0),
};

const struct prog_desc nfs3_program = { NFS_PROGRAM, NFS_V3, nfs3_procs,
					sizeof(nfs3_procs) / sizeof(nfs3_procs[0]) };

/*
 * WRITE data is not copied out of the record: xdr_inline hands back a
 * pointer into the receive buffer, which outlives the call.
 */
bool_t xdr_WRITE3args_inplace(XDR *xdrs, WRITE3args *args)
{
	if (xdrs->x_op != XDR_DECODE)
		return xdr_WRITE3args(xdrs, args);
	u_int len;
	if (!xdr_nfs_fh3(xdrs, &args->file) || !xdr_offset3(xdrs, &args->offset) ||
	    !xdr_count3(xdrs, &args->count) || !xdr_stable_how(xdrs, &args->stable) ||
	    !xdr_u_int(xdrs, &len))
		return false;
	if (len > NFS3_WTMAX)
		return false;
	char *p = len ? (char *)xdr_inline(xdrs, (int)((len + 3) & ~3u)) : NULL;
	if (len && !p)
		return false;
	args->data.data_len = len;
	args->data.data_val = p;
	return true;
}

bool_t xdr_WRITE3args_free(XDR *xdrs, WRITE3args *args)
{
	/* Only the handle was allocated; the data belongs to the record. */
	return xdr_nfs_fh3(xdrs, &args->file);
}
