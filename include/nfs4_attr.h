/*
 * NFSv4.1 attributes (RFC 8881 section 5): a struct stat and the facts of
 * its filesystem -> fattr4, and the fattr4 of SETATTR, OPEN and CREATE ->
 * struct vfs_sattr. The NFSv4.1 counterpart of attr.h.
 *
 * fattr4's attr_vals are the attributes' XDR, in bit order, one after the
 * other; the encoder writes them with rpcgen's own xdr_fattr4_* routines,
 * so xdr_fattr4 and those routines read back every byte it writes.
 */
#ifndef LOOPNFS_NFS4_ATTR_H
#define LOOPNFS_NFS4_ATTR_H

#include "nfs4_prot.h"
#include "vfs.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* bitmap4 words that hold every NFSv4.1 attribute (the last, fs_charset_cap, is bit 76). */
#define NFS4_ATTR_WORDS 3

/*
 * What this server has: the REQUIRED attributes, and the RECOMMENDED ones
 * a Linux client asks for that a POSIX filesystem can answer. No ACLs
 * (aclsupport 0), named attributes, fs_locations, pNFS or time_create.
 */
extern const uint32_t nfs4_attr_supported[NFS4_ATTR_WORDS];
/* What SETATTR, OPEN and CREATE may set: size, mode, owner, owner_group and the two times. */
extern const uint32_t nfs4_attr_writable[NFS4_ATTR_WORDS];
/*
 * suppattr_exclcreat: what an EXCLUSIVE4_1 OPEN may set, the writable ones
 * but the times, which keep the create verifier (as knfsd does).
 */
extern const uint32_t nfs4_attr_exclcreat[NFS4_ATTR_WORDS];

/* What every object on one filesystem of an export shares; set up once. */
struct nfs4_fs_info {
	/* NFS4_ATTR_WORDS words, within nfs4_attr_supported; NULL: all of those. */
	const uint32_t *supported;
	/* VFS_CAN_* of the backend: link_support, symlink_support, cansettime. */
	unsigned caps;
	uint32_t lease_time; /* seconds */
	uint32_t maxname;
	uint64_t maxfilesize, maxread, maxwrite;
	uint32_t time_delta_ns; /* the filesystem's time granularity; 0: 1 ns */
};

/* One object's attributes as the encoder takes them. */
struct nfs4_attr_src {
	const struct nfs4_fs_info *fs;
	const struct stat *st;
	/* Its filesystem's counts and link limit: needed only when nfs4_attr_needs_statfs(). */
	const struct vfs_statfs *sfs;
	fsid4 fsid;
	uint64_t mounted_on_fileid; /* an export root's: the directory it covers; else st_ino */
	const void *fh;		    /* its handle, for FILEHANDLE */
	unsigned fh_len;
	nfsstat4 rdattr_error; /* RDATTR_ERROR's value: NFS4_OK for an object read whole */
};

/*
 * Where an encoded fattr4 lives: its bitmap, and its values in vals, which
 * has room for budget bytes. budget is the most the whole fattr4 may take
 * on the wire (bitmap length, words, value length, values): what a reply
 * size limit counts. The fattr4 points into this; it must outlive it.
 */
struct nfs4_attr_buf {
	uint32_t mask[NFS4_ATTR_WORDS];
	uint8_t *vals;
	size_t budget;
};

/* The change attribute of an object with attributes st (also change_info4's before and after). */
uint64_t nfs4_attr_change(const struct stat *st);

/* Bytes fa takes on the wire. */
size_t nfs4_attr_xdr_size(const fattr4 *fa);

/* Whether a request asks for an attribute that needs the filesystem's statfs. */
bool nfs4_attr_needs_statfs(const bitmap4 *request);

/*
 * The requested attributes that src's filesystem supports, in bit order,
 * into out (its attrmask says which; unsupported and unknown bits are left
 * out, as RFC 8881 18.7.3 has it). 0, or
 *   -EINVAL    the request names a set-only attribute (time_access_set,
 *              time_modify_set): NFS4ERR_INVAL, as knfsd answers
 *   -EMSGSIZE  it does not fit in buf->budget (NFS4ERR_REP_TOO_BIG, or in
 *              READDIR the end of the page)
 *   -ENODATA   a requested attribute needs what src lacks (sfs, fh): the
 *              caller's bug, never the client's
 */
int nfs4_attr_encode(const struct nfs4_attr_src *src, const bitmap4 *request,
		     struct nfs4_attr_buf *buf, fattr4 *out);

/*
 * A READDIR entry whose attributes could not be read: only RDATTR_ERROR,
 * with err (RFC 8881 18.23.3). -ENODATA if the request lacks RDATTR_ERROR
 * (the whole READDIR then fails with err); else as nfs4_attr_encode.
 */
int nfs4_attr_encode_error(nfsstat4 err, const bitmap4 *request, struct nfs4_attr_buf *buf,
			   fattr4 *out);

/*
 * The attributes a client sets (SETATTR's obj_attributes, OPEN's and
 * CREATE's createattrs) -> sa, with set the bits decoded (SETATTR's
 * attrsset once applied). allowed: what this operation may set, within
 * nfs4_attr_writable (nfs4_attr_exclcreat for EXCLUSIVE4_1); NULL: all of
 * it. Owners are numeric strings ("1000"), as knfsd takes them for
 * AUTH_SYS; SET_TO_SERVER_TIME4 is tv_nsec UTIME_NOW. Returns NFS4_OK or
 *   NFS4ERR_ATTRNOTSUPP  a bit this server does not support, or unknown
 *   NFS4ERR_INVAL        a supported attribute that cannot be set here
 *                        (read-only, or outside allowed; RFC 8881 5.5), or
 *                        nanoseconds past 999999999
 *   NFS4ERR_BADOWNER     an owner or group that is not a number
 *   NFS4ERR_BADXDR       attr_vals shorter or longer than the bits say
 */
nfsstat4 nfs4_attr_decode_set(const fattr4 *in, const uint32_t *allowed, struct vfs_sattr *sa,
			      uint32_t set[NFS4_ATTR_WORDS]);

#endif
