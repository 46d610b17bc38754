/* The single errno -> nfsstat3 mapping. */
#include "errmap.h"
#include "vfs.h"

#include <errno.h>
#include <stdlib.h>

nfsstat3 nfs3_errno(int err)
{
	switch (abs(err)) {
	case 0:
		return NFS3_OK;
	case EPERM:
		return NFS3ERR_PERM;
	case ENOENT:
		return NFS3ERR_NOENT;
	case EIO:
		return NFS3ERR_IO;
	case ENXIO:
		return NFS3ERR_NXIO;
	case EACCES:
		return NFS3ERR_ACCES;
	case EEXIST:
		return NFS3ERR_EXIST;
	case EXDEV:
		return NFS3ERR_XDEV;
	case ENODEV:
		return NFS3ERR_NODEV;
	case ENOTDIR:
		return NFS3ERR_NOTDIR;
	case EISDIR:
		return NFS3ERR_ISDIR;
	case EINVAL:
		return NFS3ERR_INVAL;
	case EFBIG:
		return NFS3ERR_FBIG;
	case ENOSPC:
		return NFS3ERR_NOSPC;
	case EDQUOT:
		return NFS3ERR_DQUOT;
	case EROFS:
		return NFS3ERR_ROFS;
	case EMLINK:
		return NFS3ERR_MLINK;
	case ENAMETOOLONG:
		return NFS3ERR_NAMETOOLONG;
	case ENOTEMPTY:
		return NFS3ERR_NOTEMPTY;
	/* Removing or renaming over a mount point: knfsd's answer for NFSv3. */
	case EBUSY:
		return NFS3ERR_ACCES;
	case ESTALE:
		return NFS3ERR_STALE;
	case EBADF:
		return NFS3ERR_BADHANDLE;
	case ENOTSUP:
		return NFS3ERR_NOTSUPP;
	case ETXTBSY:
		return NFS3ERR_JUKEBOX;
	case EAGAIN:
		return NFS3ERR_JUKEBOX;
	case ENOMEM:
		return NFS3ERR_JUKEBOX;
	/* A symlink where a directory was expected: the client sees "not a directory". */
	case ELOOP:
		return NFS3ERR_NOTDIR;
	case EOVERFLOW:
		return NFS3ERR_FBIG;
	case EFAULT:
		return NFS3ERR_SERVERFAULT;
	/* The kernel's internal codes the backends use (vfs.h). */
	case EBADHANDLE:
		return NFS3ERR_BADHANDLE;
	case EBADCOOKIE:
		return NFS3ERR_BAD_COOKIE;
	case ENOTSUPP:
		return NFS3ERR_NOTSUPP;
	case ETOOSMALL:
		return NFS3ERR_TOOSMALL;
	case EJUKEBOX:
		return NFS3ERR_JUKEBOX;
	case EVFS_NEED_WORKER:
		return NFS3ERR_JUKEBOX; /* never sent: the call moves to a worker */
	default:
		return NFS3ERR_IO;
	}
}

const char *nfs3_strstat(nfsstat3 st)
{
	switch (st) {
	case NFS3_OK:
		return "OK";
	case NFS3ERR_PERM:
		return "PERM";
	case NFS3ERR_NOENT:
		return "NOENT";
	case NFS3ERR_IO:
		return "IO";
	case NFS3ERR_NXIO:
		return "NXIO";
	case NFS3ERR_ACCES:
		return "ACCES";
	case NFS3ERR_EXIST:
		return "EXIST";
	case NFS3ERR_XDEV:
		return "XDEV";
	case NFS3ERR_NODEV:
		return "NODEV";
	case NFS3ERR_NOTDIR:
		return "NOTDIR";
	case NFS3ERR_ISDIR:
		return "ISDIR";
	case NFS3ERR_INVAL:
		return "INVAL";
	case NFS3ERR_FBIG:
		return "FBIG";
	case NFS3ERR_NOSPC:
		return "NOSPC";
	case NFS3ERR_ROFS:
		return "ROFS";
	case NFS3ERR_MLINK:
		return "MLINK";
	case NFS3ERR_NAMETOOLONG:
		return "NAMETOOLONG";
	case NFS3ERR_NOTEMPTY:
		return "NOTEMPTY";
	case NFS3ERR_DQUOT:
		return "DQUOT";
	case NFS3ERR_STALE:
		return "STALE";
	case NFS3ERR_REMOTE:
		return "REMOTE";
	case NFS3ERR_BADHANDLE:
		return "BADHANDLE";
	case NFS3ERR_NOT_SYNC:
		return "NOT_SYNC";
	case NFS3ERR_BAD_COOKIE:
		return "BAD_COOKIE";
	case NFS3ERR_NOTSUPP:
		return "NOTSUPP";
	case NFS3ERR_TOOSMALL:
		return "TOOSMALL";
	case NFS3ERR_SERVERFAULT:
		return "SERVERFAULT";
	case NFS3ERR_BADTYPE:
		return "BADTYPE";
	case NFS3ERR_JUKEBOX:
		return "JUKEBOX";
	}
	return "?";
}
