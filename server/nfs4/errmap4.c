/* The single errno -> nfsstat4 mapping (RFC 8881 15.1), as knfsd's nfserrno. */
#include "nfs4_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>

nfsstat4 nfs4_errno(int err)
{
	switch (abs(err)) {
	case 0:
		return NFS4_OK;
	case EPERM:
		return NFS4ERR_PERM;
	case ENOENT:
		return NFS4ERR_NOENT;
	case EIO:
		return NFS4ERR_IO;
	case ENXIO:
		return NFS4ERR_NXIO;
	case EACCES:
		return NFS4ERR_ACCESS;
	case EEXIST:
		return NFS4ERR_EXIST;
	case EXDEV:
		return NFS4ERR_XDEV;
	case ENOTDIR:
		return NFS4ERR_NOTDIR;
	case EISDIR:
		return NFS4ERR_ISDIR;
	case EINVAL:
		return NFS4ERR_INVAL;
	case EFBIG:
		return NFS4ERR_FBIG;
	case ENOSPC:
		return NFS4ERR_NOSPC;
	case EDQUOT:
		return NFS4ERR_DQUOT;
	case EROFS:
		return NFS4ERR_ROFS;
	case EMLINK:
		return NFS4ERR_MLINK;
	case ENAMETOOLONG:
		return NFS4ERR_NAMETOOLONG;
	case ENOTEMPTY:
		return NFS4ERR_NOTEMPTY;
	/* Removing or renaming over a mount point: knfsd says FILE_OPEN for v4. */
	case EBUSY:
		return NFS4ERR_FILE_OPEN;
	case ESTALE:
		return NFS4ERR_STALE;
	case EBADF:
		return NFS4ERR_BADHANDLE;
	case ENOTSUP:
		return NFS4ERR_NOTSUPP;
	case ETXTBSY:
	case EAGAIN:
	case ENOMEM:
		return NFS4ERR_DELAY;
	/* A symlink where a directory was expected (LOOKUP through it): RFC 8881 18.13.3. */
	case ELOOP:
		return NFS4ERR_SYMLINK;
	case EOVERFLOW:
		return NFS4ERR_FBIG;
	case EFAULT:
		return NFS4ERR_SERVERFAULT;
	/* The kernel's internal codes the backends use (vfs.h). */
	case EBADHANDLE:
		return NFS4ERR_BADHANDLE;
	case EBADCOOKIE:
		return NFS4ERR_BAD_COOKIE;
	case ENOTSUPP:
		return NFS4ERR_NOTSUPP;
	case ETOOSMALL:
		return NFS4ERR_TOOSMALL;
	case EJUKEBOX:
		return NFS4ERR_DELAY;
	}
	log_warn("no NFSv4 status for errno %d: SERVERFAULT", abs(err));
	return NFS4ERR_SERVERFAULT;
}
