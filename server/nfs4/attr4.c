/* NFSv4.1 attributes: struct stat -> fattr4, and the settable ones back. */
#include "nfs4_attr.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

_Static_assert((int)VFS_REG == NF4REG && (int)VFS_DIR == NF4DIR && (int)VFS_BLK == NF4BLK &&
		       (int)VFS_CHR == NF4CHR && (int)VFS_LNK == NF4LNK &&
		       (int)VFS_SOCK == NF4SOCK && (int)VFS_FIFO == NF4FIFO,
	       "vfs_type numbers its types as nfs_ftype4 does");

#define NBITS (NFS4_ATTR_WORDS * 32)
/* The word-n part of attribute a's bit. */
#define IN(n, a) ((a) / 32 == (n) ? 1u << ((a) % 32) : 0u)

#define SUPPORTED(n)                                                                               \
	(IN(n, FATTR4_SUPPORTED_ATTRS) | IN(n, FATTR4_TYPE) | IN(n, FATTR4_FH_EXPIRE_TYPE) |       \
	 IN(n, FATTR4_CHANGE) | IN(n, FATTR4_SIZE) | IN(n, FATTR4_LINK_SUPPORT) |                  \
	 IN(n, FATTR4_SYMLINK_SUPPORT) | IN(n, FATTR4_NAMED_ATTR) | IN(n, FATTR4_FSID) |           \
	 IN(n, FATTR4_UNIQUE_HANDLES) | IN(n, FATTR4_LEASE_TIME) | IN(n, FATTR4_RDATTR_ERROR) |    \
	 IN(n, FATTR4_ACLSUPPORT) | IN(n, FATTR4_CANSETTIME) | IN(n, FATTR4_CASE_INSENSITIVE) |    \
	 IN(n, FATTR4_CASE_PRESERVING) | IN(n, FATTR4_CHOWN_RESTRICTED) |                          \
	 IN(n, FATTR4_FILEHANDLE) | IN(n, FATTR4_FILEID) | IN(n, FATTR4_FILES_AVAIL) |             \
	 IN(n, FATTR4_FILES_FREE) | IN(n, FATTR4_FILES_TOTAL) | IN(n, FATTR4_HOMOGENEOUS) |        \
	 IN(n, FATTR4_MAXFILESIZE) | IN(n, FATTR4_MAXLINK) | IN(n, FATTR4_MAXNAME) |               \
	 IN(n, FATTR4_MAXREAD) | IN(n, FATTR4_MAXWRITE) | IN(n, FATTR4_MODE) |                     \
	 IN(n, FATTR4_NO_TRUNC) | IN(n, FATTR4_NUMLINKS) | IN(n, FATTR4_OWNER) |                   \
	 IN(n, FATTR4_OWNER_GROUP) | IN(n, FATTR4_RAWDEV) | IN(n, FATTR4_SPACE_AVAIL) |            \
	 IN(n, FATTR4_SPACE_FREE) | IN(n, FATTR4_SPACE_TOTAL) | IN(n, FATTR4_SPACE_USED) |         \
	 IN(n, FATTR4_TIME_ACCESS) | IN(n, FATTR4_TIME_ACCESS_SET) | IN(n, FATTR4_TIME_DELTA) |    \
	 IN(n, FATTR4_TIME_METADATA) | IN(n, FATTR4_TIME_MODIFY) | IN(n, FATTR4_TIME_MODIFY_SET) | \
	 IN(n, FATTR4_MOUNTED_ON_FILEID) | IN(n, FATTR4_SUPPATTR_EXCLCREAT))
#define EXCLCREAT(n) \
	(IN(n, FATTR4_SIZE) | IN(n, FATTR4_MODE) | IN(n, FATTR4_OWNER) | IN(n, FATTR4_OWNER_GROUP))
#define WRITABLE(n) (EXCLCREAT(n) | IN(n, FATTR4_TIME_ACCESS_SET) | IN(n, FATTR4_TIME_MODIFY_SET))
#define SET_ONLY(n) (IN(n, FATTR4_TIME_ACCESS_SET) | IN(n, FATTR4_TIME_MODIFY_SET))
#define NEEDS_SFS(n)                                                                        \
	(IN(n, FATTR4_FILES_AVAIL) | IN(n, FATTR4_FILES_FREE) | IN(n, FATTR4_FILES_TOTAL) | \
	 IN(n, FATTR4_MAXLINK) | IN(n, FATTR4_SPACE_AVAIL) | IN(n, FATTR4_SPACE_FREE) |     \
	 IN(n, FATTR4_SPACE_TOTAL))

const uint32_t nfs4_attr_supported[NFS4_ATTR_WORDS] = { SUPPORTED(0), SUPPORTED(1), SUPPORTED(2) };
const uint32_t nfs4_attr_writable[NFS4_ATTR_WORDS] = { WRITABLE(0), WRITABLE(1), WRITABLE(2) };
const uint32_t nfs4_attr_exclcreat[NFS4_ATTR_WORDS] = { EXCLCREAT(0), EXCLCREAT(1), EXCLCREAT(2) };
static const uint32_t set_only[NFS4_ATTR_WORDS] = { SET_ONLY(0), SET_ONLY(1), SET_ONLY(2) };
static const uint32_t needs_sfs[NFS4_ATTR_WORDS] = { NEEDS_SFS(0), NEEDS_SFS(1), NEEDS_SFS(2) };

static bool has(const uint32_t *w, unsigned bit)
{
	return w[bit / 32] & (1u << (bit % 32));
}

/* A client's bitmap4 as the words this server knows; bits past them are no attribute of 4.1. */
static void request_words(const bitmap4 *req, uint32_t w[NFS4_ATTR_WORDS])
{
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		w[i] = i < req->bitmap4_len ? req->bitmap4_val[i] : 0;
}

static unsigned used_words(const uint32_t w[NFS4_ATTR_WORDS])
{
	unsigned n = NFS4_ATTR_WORDS;
	while (n > 0 && w[n - 1] == 0)
		n--;
	return n;
}

size_t nfs4_attr_xdr_size(const fattr4 *fa)
{
	return 4 + 4 * (size_t)fa->attrmask.bitmap4_len + 4 + fa->attr_vals.attrlist4_len;
}

bool nfs4_attr_needs_statfs(const bitmap4 *request)
{
	uint32_t w[NFS4_ATTR_WORDS];
	request_words(request, w);
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		if (w[i] & needs_sfs[i])
			return true;
	return false;
}

/* ---- one attribute each: its value, through rpcgen's routine for its type ---- */

typedef bool_t (*enc_fn)(XDR *x, const struct nfs4_attr_src *s);

static bool_t put_bool(XDR *x, bool v)
{
	bool_t b = v;
	return xdr_bool(x, &b);
}

static bool_t put_u32(XDR *x, uint32_t v)
{
	return xdr_uint32_t(x, &v);
}

static bool_t put_u64(XDR *x, uint64_t v)
{
	return xdr_uint64_t(x, &v);
}

static bool_t put_time(XDR *x, const struct timespec *ts)
{
	nfstime4 t = { .seconds = ts->tv_sec, .nseconds = (uint32_t)ts->tv_nsec };
	return xdr_nfstime4(x, &t);
}

static bool_t put_bitmap(XDR *x, const uint32_t w[NFS4_ATTR_WORDS])
{
	uint32_t copy[NFS4_ATTR_WORDS];
	memcpy(copy, w, sizeof(copy));
	bitmap4 b = { .bitmap4_len = used_words(copy), .bitmap4_val = copy };
	return xdr_bitmap4(x, &b);
}

/* Owners as numbers, as knfsd gives them to AUTH_SYS clients (its nfs4_disable_idmapping). */
static bool_t put_id(XDR *x, uint32_t id)
{
	char s[16];
	int n = snprintf(s, sizeof(s), "%u", id);
	utf8str_mixed u = { .utf8string_len = (u_int)n, .utf8string_val = s };
	return xdr_utf8str_mixed(x, &u);
}

static const uint32_t *supported_of(const struct nfs4_attr_src *s)
{
	return s->fs->supported ? s->fs->supported : nfs4_attr_supported;
}

static bool_t e_supported(XDR *x, const struct nfs4_attr_src *s)
{
	const uint32_t *sup = supported_of(s);
	uint32_t w[NFS4_ATTR_WORDS];
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		w[i] = sup[i] & nfs4_attr_supported[i];
	return put_bitmap(x, w);
}

static bool_t e_type(XDR *x, const struct nfs4_attr_src *s)
{
	fattr4_type t = (nfs_ftype4)vfs_type_of(s->st->st_mode);
	return xdr_fattr4_type(x, &t);
}

/* Handles outlive restarts (the key is kept in the state directory) and renames. */
static bool_t e_fh_expire(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, FH4_PERSISTENT);
}

/*
 * The change attribute from ctime, as knfsd makes it for filesystems
 * without i_version: seconds << 30 | nanoseconds (below 2^30), so every
 * distinct ctime is a distinct value and a later one a larger value. Two
 * changes within one timestamp tick are one change to the client.
 */
uint64_t nfs4_attr_change(const struct stat *st)
{
	return ((uint64_t)st->st_ctim.tv_sec << 30) + (uint64_t)st->st_ctim.tv_nsec;
}

static bool_t e_change(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, nfs4_attr_change(s->st));
}

static bool_t e_size(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, (uint64_t)s->st->st_size);
}

static bool_t e_link_support(XDR *x, const struct nfs4_attr_src *s)
{
	return put_bool(x, s->fs->caps & VFS_CAN_LINK);
}

static bool_t e_symlink_support(XDR *x, const struct nfs4_attr_src *s)
{
	return put_bool(x, s->fs->caps & VFS_CAN_SYMLINK);
}

static bool_t e_false(XDR *x, const struct nfs4_attr_src *s)
{
	return put_bool(x, false);
}

static bool_t e_true(XDR *x, const struct nfs4_attr_src *s)
{
	return put_bool(x, true);
}

static bool_t e_fsid(XDR *x, const struct nfs4_attr_src *s)
{
	fattr4_fsid f = s->fsid;
	return xdr_fattr4_fsid(x, &f);
}

static bool_t e_lease_time(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, s->fs->lease_time);
}

static bool_t e_rdattr_error(XDR *x, const struct nfs4_attr_src *s)
{
	fattr4_rdattr_error e = s->rdattr_error;
	return xdr_fattr4_rdattr_error(x, &e);
}

/* No ACLs: the mode is the whole permission model. */
static bool_t e_zero32(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, 0);
}

static bool_t e_cansettime(XDR *x, const struct nfs4_attr_src *s)
{
	return put_bool(x, s->fs->caps & VFS_CAN_SETTIME);
}

static bool_t e_filehandle(XDR *x, const struct nfs4_attr_src *s)
{
	nfs_fh4 fh = { .nfs_fh4_len = s->fh_len, .nfs_fh4_val = (char *)s->fh };
	return xdr_nfs_fh4(x, &fh);
}

static bool_t e_fileid(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->st->st_ino);
}

static bool_t e_files_avail(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->afiles);
}

static bool_t e_files_free(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->ffiles);
}

static bool_t e_files_total(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->tfiles);
}

static bool_t e_maxfilesize(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->fs->maxfilesize);
}

static bool_t e_maxlink(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, s->sfs->linkmax);
}

static bool_t e_maxname(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, s->fs->maxname);
}

static bool_t e_maxread(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->fs->maxread);
}

static bool_t e_maxwrite(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->fs->maxwrite);
}

static bool_t e_mode(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u32(x, s->st->st_mode & 07777);
}

static bool_t e_numlinks(XDR *x, const struct nfs4_attr_src *s)
{
	nlink_t n = s->st->st_nlink;
	return put_u32(x, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
}

static bool_t e_owner(XDR *x, const struct nfs4_attr_src *s)
{
	return put_id(x, s->st->st_uid);
}

static bool_t e_owner_group(XDR *x, const struct nfs4_attr_src *s)
{
	return put_id(x, s->st->st_gid);
}

static bool_t e_rawdev(XDR *x, const struct nfs4_attr_src *s)
{
	fattr4_rawdev r = { .specdata1 = major(s->st->st_rdev),
			    .specdata2 = minor(s->st->st_rdev) };
	return xdr_fattr4_rawdev(x, &r);
}

static bool_t e_space_avail(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->abytes);
}

static bool_t e_space_free(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->fbytes);
}

static bool_t e_space_total(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->sfs->tbytes);
}

static bool_t e_space_used(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, (uint64_t)s->st->st_blocks * 512);
}

static bool_t e_time_access(XDR *x, const struct nfs4_attr_src *s)
{
	return put_time(x, &s->st->st_atim);
}

static bool_t e_time_delta(XDR *x, const struct nfs4_attr_src *s)
{
	uint32_t ns = s->fs->time_delta_ns ? s->fs->time_delta_ns : 1;
	struct timespec d = { .tv_sec = ns / 1000000000u, .tv_nsec = ns % 1000000000u };
	return put_time(x, &d);
}

static bool_t e_time_metadata(XDR *x, const struct nfs4_attr_src *s)
{
	return put_time(x, &s->st->st_ctim);
}

static bool_t e_time_modify(XDR *x, const struct nfs4_attr_src *s)
{
	return put_time(x, &s->st->st_mtim);
}

static bool_t e_mounted_on_fileid(XDR *x, const struct nfs4_attr_src *s)
{
	return put_u64(x, s->mounted_on_fileid);
}

static bool_t e_suppattr_exclcreat(XDR *x, const struct nfs4_attr_src *s)
{
	const uint32_t *sup = supported_of(s);
	uint32_t w[NFS4_ATTR_WORDS];
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		w[i] = nfs4_attr_exclcreat[i] & sup[i];
	return put_bitmap(x, w);
}

/*
 * Bit -> encoder, for every readable attribute of nfs4_attr_supported
 * (the set-only ones have none). The unit test holds the two to each other.
 */
static const enc_fn encoders[NBITS] = {
	[FATTR4_SUPPORTED_ATTRS] = e_supported,
	[FATTR4_TYPE] = e_type,
	[FATTR4_FH_EXPIRE_TYPE] = e_fh_expire,
	[FATTR4_CHANGE] = e_change,
	[FATTR4_SIZE] = e_size,
	[FATTR4_LINK_SUPPORT] = e_link_support,
	[FATTR4_SYMLINK_SUPPORT] = e_symlink_support,
	[FATTR4_NAMED_ATTR] = e_false,
	[FATTR4_FSID] = e_fsid,
	/* A bind mount below an export shows one object under two handles. */
	[FATTR4_UNIQUE_HANDLES] = e_false,
	[FATTR4_LEASE_TIME] = e_lease_time,
	[FATTR4_RDATTR_ERROR] = e_rdattr_error,
	[FATTR4_ACLSUPPORT] = e_zero32,
	[FATTR4_CANSETTIME] = e_cansettime,
	[FATTR4_CASE_INSENSITIVE] = e_false,
	[FATTR4_CASE_PRESERVING] = e_true,
	[FATTR4_CHOWN_RESTRICTED] = e_true,
	[FATTR4_FILEHANDLE] = e_filehandle,
	[FATTR4_FILEID] = e_fileid,
	[FATTR4_FILES_AVAIL] = e_files_avail,
	[FATTR4_FILES_FREE] = e_files_free,
	[FATTR4_FILES_TOTAL] = e_files_total,
	[FATTR4_HOMOGENEOUS] = e_true,
	[FATTR4_MAXFILESIZE] = e_maxfilesize,
	[FATTR4_MAXLINK] = e_maxlink,
	[FATTR4_MAXNAME] = e_maxname,
	[FATTR4_MAXREAD] = e_maxread,
	[FATTR4_MAXWRITE] = e_maxwrite,
	[FATTR4_MODE] = e_mode,
	/* Too long a name is NAMETOOLONG, never cut short. */
	[FATTR4_NO_TRUNC] = e_true,
	[FATTR4_NUMLINKS] = e_numlinks,
	[FATTR4_OWNER] = e_owner,
	[FATTR4_OWNER_GROUP] = e_owner_group,
	[FATTR4_RAWDEV] = e_rawdev,
	[FATTR4_SPACE_AVAIL] = e_space_avail,
	[FATTR4_SPACE_FREE] = e_space_free,
	[FATTR4_SPACE_TOTAL] = e_space_total,
	[FATTR4_SPACE_USED] = e_space_used,
	[FATTR4_TIME_ACCESS] = e_time_access,
	[FATTR4_TIME_DELTA] = e_time_delta,
	[FATTR4_TIME_METADATA] = e_time_metadata,
	[FATTR4_TIME_MODIFY] = e_time_modify,
	[FATTR4_MOUNTED_ON_FILEID] = e_mounted_on_fileid,
	[FATTR4_SUPPATTR_EXCLCREAT] = e_suppattr_exclcreat,
};

/* ---- the fattr4 ---- */

/* Which bits the reply carries: asked for and supported; -EINVAL for a set-only one. */
static int reply_mask(const struct nfs4_attr_src *s, const bitmap4 *req,
		      uint32_t mask[NFS4_ATTR_WORDS])
{
	const uint32_t *sup = supported_of(s);
	request_words(req, mask);
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++) {
		if (mask[i] & set_only[i])
			return -EINVAL;
		mask[i] &= sup[i] & nfs4_attr_supported[i];
	}
	return 0;
}

static bool lacks_facts(const struct nfs4_attr_src *s, const uint32_t mask[NFS4_ATTR_WORDS])
{
	bool sfs = false;
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		sfs |= (mask[i] & needs_sfs[i]) != 0;
	return !s->st || (sfs && !s->sfs) || (has(mask, FATTR4_FILEHANDLE) && !s->fh);
}

static int encode_values(const struct nfs4_attr_src *s, const uint32_t mask[NFS4_ATTR_WORDS],
			 uint8_t *vals, size_t cap, u_int *len)
{
	XDR x;
	xdrmem_create(&x, (char *)vals, (u_int)cap, XDR_ENCODE);
	int rc = 0;
	for (unsigned bit = 0; bit < NBITS && rc == 0; bit++)
		if (has(mask, bit) && !encoders[bit](&x, s))
			rc = -EMSGSIZE;
	*len = xdr_getpos(&x);
	xdr_destroy(&x);
	return rc;
}

static int encode_masked(const struct nfs4_attr_src *s, struct nfs4_attr_buf *buf, fattr4 *out)
{
	unsigned words = used_words(buf->mask);
	size_t head = 4 + 4 * (size_t)words + 4;
	if (buf->budget < head)
		return -EMSGSIZE;
	size_t cap = buf->budget - head;
	if (cap > UINT_MAX)
		cap = UINT_MAX & ~3u;
	u_int len;
	int rc = encode_values(s, buf->mask, buf->vals, cap, &len);
	if (rc < 0)
		return rc;
	out->attrmask.bitmap4_len = words;
	out->attrmask.bitmap4_val = buf->mask;
	out->attr_vals.attrlist4_len = len;
	out->attr_vals.attrlist4_val = (char *)buf->vals;
	return 0;
}

int nfs4_attr_encode(const struct nfs4_attr_src *src, const bitmap4 *request,
		     struct nfs4_attr_buf *buf, fattr4 *out)
{
	int rc = reply_mask(src, request, buf->mask);
	if (rc < 0)
		return rc;
	if (lacks_facts(src, buf->mask))
		return -ENODATA;
	return encode_masked(src, buf, out);
}

int nfs4_attr_encode_error(nfsstat4 err, const bitmap4 *request, struct nfs4_attr_buf *buf,
			   fattr4 *out)
{
	uint32_t req[NFS4_ATTR_WORDS];
	request_words(request, req);
	if (!has(req, FATTR4_RDATTR_ERROR))
		return -ENODATA;
	static const struct nfs4_fs_info none = { 0 };
	const struct nfs4_attr_src s = { .fs = &none, .rdattr_error = err };
	memset(buf->mask, 0, sizeof(buf->mask));
	buf->mask[FATTR4_RDATTR_ERROR / 32] = IN(FATTR4_RDATTR_ERROR / 32, FATTR4_RDATTR_ERROR);
	return encode_masked(&s, buf, out);
}

/* ---- the attributes a client sets ---- */

/* attr_vals read in place, every length checked against what is left. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool get_u32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return false;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return true;
}

static bool get_u64(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;
	if (!get_u32(c, &hi) || !get_u32(c, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* An opaque<>: its bytes stay where they are. */
static bool get_opaque(struct cursor *c, const uint8_t **data, uint32_t *len)
{
	if (!get_u32(c, len))
		return false;
	size_t padded = ((size_t)*len + 3) & ~(size_t)3;
	if (c->left < padded)
		return false;
	*data = c->p;
	c->p += padded;
	c->left -= padded;
	return true;
}

/* A decimal uid or gid; (uint32_t)-1 is chown's "leave it", never an owner. */
static bool parse_id(const uint8_t *s, uint32_t len, uint32_t *id)
{
	uint64_t v = 0;
	if (len == 0)
		return false;
	for (uint32_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*id = (uint32_t)v;
	return true;
}

static nfsstat4 get_id(struct cursor *c, uint32_t *id)
{
	const uint8_t *s;
	uint32_t len;
	if (!get_opaque(c, &s, &len))
		return NFS4ERR_BADXDR;
	return parse_id(s, len, id) ? NFS4_OK : NFS4ERR_BADOWNER;
}

static nfsstat4 get_settime(struct cursor *c, struct timespec *ts)
{
	uint32_t how, nsec;
	uint64_t sec;
	if (!get_u32(c, &how))
		return NFS4ERR_BADXDR;
	if (how == SET_TO_SERVER_TIME4) {
		*ts = (struct timespec){ .tv_sec = 0, .tv_nsec = UTIME_NOW };
		return NFS4_OK;
	}
	if (how != SET_TO_CLIENT_TIME4 || !get_u64(c, &sec) || !get_u32(c, &nsec))
		return NFS4ERR_BADXDR;
	if (nsec > 999999999)
		return NFS4ERR_INVAL;
	*ts = (struct timespec){ .tv_sec = (time_t)(int64_t)sec, .tv_nsec = nsec };
	return NFS4_OK;
}

/* One settable attribute's value into sa. */
static nfsstat4 decode_one(struct cursor *c, unsigned bit, struct vfs_sattr *sa)
{
	uint32_t v;
	nfsstat4 st;
	switch (bit) {
	case FATTR4_SIZE:
		sa->mask |= VFS_SET_SIZE;
		return get_u64(c, &sa->size) ? NFS4_OK : NFS4ERR_BADXDR;
	case FATTR4_MODE:
		if (!get_u32(c, &v))
			return NFS4ERR_BADXDR;
		/* Only permission bits: a type is never the client's to set (knfsd masks alike). */
		sa->mask |= VFS_SET_MODE;
		sa->mode = v & 07777;
		return NFS4_OK;
	case FATTR4_OWNER:
		if ((st = get_id(c, &v)) != NFS4_OK)
			return st;
		sa->mask |= VFS_SET_UID;
		sa->uid = v;
		return NFS4_OK;
	case FATTR4_OWNER_GROUP:
		if ((st = get_id(c, &v)) != NFS4_OK)
			return st;
		sa->mask |= VFS_SET_GID;
		sa->gid = v;
		return NFS4_OK;
	case FATTR4_TIME_ACCESS_SET:
		sa->mask |= VFS_SET_ATIME;
		return get_settime(c, &sa->atime);
	case FATTR4_TIME_MODIFY_SET:
		sa->mask |= VFS_SET_MTIME;
		return get_settime(c, &sa->mtime);
	default:
		return NFS4ERR_SERVERFAULT; /* check_settable let through what it must not */
	}
}

/* Unknown or unsupported first, then read-only or not allowed here: knfsd's order. */
static nfsstat4 check_settable(const bitmap4 *bm, const uint32_t *allowed)
{
	for (u_int i = NFS4_ATTR_WORDS; i < bm->bitmap4_len; i++)
		if (bm->bitmap4_val[i])
			return NFS4ERR_ATTRNOTSUPP;
	uint32_t w[NFS4_ATTR_WORDS];
	request_words(bm, w);
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		if (w[i] & ~nfs4_attr_supported[i])
			return NFS4ERR_ATTRNOTSUPP;
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		if (w[i] & ~(nfs4_attr_writable[i] & allowed[i]))
			return NFS4ERR_INVAL;
	return NFS4_OK;
}

nfsstat4 nfs4_attr_decode_set(const fattr4 *in, const uint32_t *allowed, struct vfs_sattr *sa,
			      uint32_t set[NFS4_ATTR_WORDS])
{
	memset(sa, 0, sizeof(*sa));
	memset(set, 0, NFS4_ATTR_WORDS * sizeof(set[0]));
	nfsstat4 st = check_settable(&in->attrmask, allowed ? allowed : nfs4_attr_writable);
	if (st != NFS4_OK)
		return st;
	uint32_t w[NFS4_ATTR_WORDS];
	request_words(&in->attrmask, w);
	struct cursor c = { .p = (const uint8_t *)in->attr_vals.attrlist4_val,
			    .left = in->attr_vals.attrlist4_len };
	for (unsigned bit = 0; bit < NBITS; bit++) {
		if (!has(w, bit))
			continue;
		st = decode_one(&c, bit, sa);
		if (st != NFS4_OK)
			return st;
	}
	if (c.left != 0)
		return NFS4ERR_BADXDR;
	memcpy(set, w, sizeof(w));
	return NFS4_OK;
}
