/*
 * NFSv4.1 attributes (server/nfs4/attr4.c) against rpcgen's own XDR
 * routines, and nfs4_prot.x itself (a COMPOUND on the wire, byte for byte).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "mount_prot.h"
#include "nfs3_prot.h"
#include "nfs4_attr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#define BIT(a) ((a) % 32)
#define WORD(a) ((a) / 32)

static char *base;

static const uint8_t FH[] = {
	2, 1, 1, 13, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
};
static const struct vfs_statfs SFS = { .tbytes = 1000000000000ull,
				       .fbytes = 500000000000ull,
				       .abytes = 400000000000ull,
				       .tfiles = 1000000,
				       .ffiles = 900000,
				       .afiles = 800000,
				       .linkmax = 65000 };
static const struct nfs4_fs_info FS = { .caps = VFS_CAN_LINK | VFS_CAN_SYMLINK | VFS_CAN_SETTIME,
					.lease_time = 90,
					.maxname = 255,
					.maxfilesize = 0x7fffffffffffffffull,
					.maxread = 1 << 20,
					.maxwrite = 1 << 19 };

static int setup(void **state)
{
	(void)state;
	base = ut_mkdtemp("nfs4attr");
	return base ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ut_rm_rf(base);
	free(base);
	return 0;
}

static void set_bit(uint32_t *w, unsigned a)
{
	w[WORD(a)] |= 1u << BIT(a);
}

static bool bit_of(const uint32_t *w, unsigned n, unsigned a)
{
	return WORD(a) < n && (w[WORD(a)] & (1u << BIT(a)));
}

static bitmap4 bm(uint32_t *w, unsigned n)
{
	return (bitmap4){ .bitmap4_len = n, .bitmap4_val = w };
}

/* Every attribute the encoder can return: what it supports, less the set-only times. */
static void readable(uint32_t w[NFS4_ATTR_WORDS])
{
	memcpy(w, nfs4_attr_supported, NFS4_ATTR_WORDS * sizeof(w[0]));
	w[WORD(FATTR4_TIME_ACCESS_SET)] &= ~(1u << BIT(FATTR4_TIME_ACCESS_SET));
	w[WORD(FATTR4_TIME_MODIFY_SET)] &= ~(1u << BIT(FATTR4_TIME_MODIFY_SET));
}

static struct nfs4_attr_src src_of(const struct stat *st, const struct nfs4_fs_info *fs)
{
	return (struct nfs4_attr_src){ .fs = fs,
				       .st = st,
				       .sfs = &SFS,
				       .fsid = { .major = 0x4c4e465300000001ull, .minor = 0x22 },
				       .mounted_on_fileid = 4242,
				       .fh = FH,
				       .fh_len = sizeof(FH) };
}

/* ---- the reader: RFC 8881's attributes, one rpcgen routine each, written apart from attr4.c ---- */

static nfs_ftype4 ftype_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return NF4REG;
	case S_IFDIR:
		return NF4DIR;
	case S_IFLNK:
		return NF4LNK;
	case S_IFBLK:
		return NF4BLK;
	case S_IFCHR:
		return NF4CHR;
	case S_IFSOCK:
		return NF4SOCK;
	case S_IFIFO:
		return NF4FIFO;
	}
	fail_msg("mode %o", m);
	return 0;
}

static void want_bitmap(XDR *x, const uint32_t *w)
{
	bitmap4 b = { 0 };
	assert_true(xdr_bitmap4(x, &b));
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		assert_int_equal(i < b.bitmap4_len ? b.bitmap4_val[i] : 0, w[i]);
	for (unsigned i = NFS4_ATTR_WORDS; i < b.bitmap4_len; i++)
		assert_int_equal(b.bitmap4_val[i], 0);
	xdr_free((xdrproc_t)xdr_bitmap4, (char *)&b);
}

static void want_bool(XDR *x, bool v)
{
	bool_t b;
	assert_true(xdr_bool(x, &b));
	assert_int_equal(b, v);
}

static void want_u32(XDR *x, uint32_t v)
{
	uint32_t u;
	assert_true(xdr_uint32_t(x, &u));
	assert_int_equal(u, v);
}

static void want_u64(XDR *x, uint64_t v)
{
	uint64_t u;
	assert_true(xdr_uint64_t(x, &u));
	assert_int_equal(u, v);
}

static void want_time(XDR *x, const struct timespec *ts)
{
	nfstime4 t;
	assert_true(xdr_nfstime4(x, &t));
	assert_int_equal(t.seconds, ts->tv_sec);
	assert_int_equal(t.nseconds, ts->tv_nsec);
}

static void want_id(XDR *x, bool group, unsigned id)
{
	fattr4_owner o = { 0 };
	assert_true(group ? xdr_fattr4_owner_group(x, &o) : xdr_fattr4_owner(x, &o));
	char s[16];
	snprintf(s, sizeof(s), "%u", id);
	assert_int_equal(o.utf8string_len, strlen(s));
	assert_memory_equal(o.utf8string_val, s, strlen(s));
	xdr_free((xdrproc_t)xdr_fattr4_owner, (char *)&o);
}

static void want_fh(XDR *x, const struct nfs4_attr_src *s)
{
	fattr4_filehandle fh = { 0 };
	assert_true(xdr_fattr4_filehandle(x, &fh));
	assert_int_equal(fh.nfs_fh4_len, s->fh_len);
	assert_memory_equal(fh.nfs_fh4_val, s->fh, s->fh_len);
	xdr_free((xdrproc_t)xdr_fattr4_filehandle, (char *)&fh);
}

static const uint32_t *sup_of(const struct nfs4_attr_src *s)
{
	return s->fs->supported ? s->fs->supported : nfs4_attr_supported;
}

/* Device numbers, ids, counts and limits. */
static bool want_numbers(XDR *x, unsigned a, const struct nfs4_attr_src *s)
{
	const struct stat *st = s->st;
	switch (a) {
	case FATTR4_FILEID:
		want_u64(x, st->st_ino);
		return true;
	case FATTR4_FILES_AVAIL:
		want_u64(x, s->sfs->afiles);
		return true;
	case FATTR4_FILES_FREE:
		want_u64(x, s->sfs->ffiles);
		return true;
	case FATTR4_FILES_TOTAL:
		want_u64(x, s->sfs->tfiles);
		return true;
	case FATTR4_MAXFILESIZE:
		want_u64(x, s->fs->maxfilesize);
		return true;
	case FATTR4_MAXLINK:
		want_u32(x, s->sfs->linkmax);
		return true;
	case FATTR4_MAXNAME:
		want_u32(x, s->fs->maxname);
		return true;
	case FATTR4_MAXREAD:
		want_u64(x, s->fs->maxread);
		return true;
	case FATTR4_MAXWRITE:
		want_u64(x, s->fs->maxwrite);
		return true;
	case FATTR4_MODE:
		want_u32(x, st->st_mode & 07777);
		return true;
	case FATTR4_NUMLINKS:
		want_u32(x, (uint32_t)st->st_nlink);
		return true;
	case FATTR4_OWNER:
		want_id(x, false, st->st_uid);
		return true;
	case FATTR4_OWNER_GROUP:
		want_id(x, true, st->st_gid);
		return true;
	case FATTR4_RAWDEV: {
		fattr4_rawdev r;
		assert_true(xdr_fattr4_rawdev(x, &r));
		assert_int_equal(r.specdata1, major(st->st_rdev));
		assert_int_equal(r.specdata2, minor(st->st_rdev));
		return true;
	}
	case FATTR4_SPACE_AVAIL:
		want_u64(x, s->sfs->abytes);
		return true;
	case FATTR4_SPACE_FREE:
		want_u64(x, s->sfs->fbytes);
		return true;
	case FATTR4_SPACE_TOTAL:
		want_u64(x, s->sfs->tbytes);
		return true;
	case FATTR4_SPACE_USED:
		want_u64(x, (uint64_t)st->st_blocks * 512);
		return true;
	case FATTR4_MOUNTED_ON_FILEID:
		want_u64(x, s->mounted_on_fileid);
		return true;
	}
	return false;
}

/* What the filesystem is and can do. */
static bool want_fs(XDR *x, unsigned a, const struct nfs4_attr_src *s)
{
	switch (a) {
	case FATTR4_SUPPORTED_ATTRS:
		want_bitmap(x, sup_of(s));
		return true;
	case FATTR4_FH_EXPIRE_TYPE:
		want_u32(x, FH4_PERSISTENT);
		return true;
	case FATTR4_LINK_SUPPORT:
		want_bool(x, s->fs->caps & VFS_CAN_LINK);
		return true;
	case FATTR4_SYMLINK_SUPPORT:
		want_bool(x, s->fs->caps & VFS_CAN_SYMLINK);
		return true;
	case FATTR4_CANSETTIME:
		want_bool(x, s->fs->caps & VFS_CAN_SETTIME);
		return true;
	case FATTR4_NAMED_ATTR:
	case FATTR4_UNIQUE_HANDLES:
	case FATTR4_CASE_INSENSITIVE:
		want_bool(x, false);
		return true;
	case FATTR4_CASE_PRESERVING:
	case FATTR4_CHOWN_RESTRICTED:
	case FATTR4_HOMOGENEOUS:
	case FATTR4_NO_TRUNC:
		want_bool(x, true);
		return true;
	case FATTR4_FSID: {
		fattr4_fsid f;
		assert_true(xdr_fattr4_fsid(x, &f));
		assert_int_equal(f.major, s->fsid.major);
		assert_int_equal(f.minor, s->fsid.minor);
		return true;
	}
	case FATTR4_LEASE_TIME:
		want_u32(x, s->fs->lease_time);
		return true;
	case FATTR4_ACLSUPPORT:
		want_u32(x, 0);
		return true;
	case FATTR4_TIME_DELTA: {
		uint32_t ns = s->fs->time_delta_ns ? s->fs->time_delta_ns : 1;
		struct timespec d = { ns / 1000000000, ns % 1000000000 };
		want_time(x, &d);
		return true;
	}
	case FATTR4_SUPPATTR_EXCLCREAT: {
		uint32_t w[NFS4_ATTR_WORDS] = { 0 };
		set_bit(w, FATTR4_SIZE);
		set_bit(w, FATTR4_MODE);
		set_bit(w, FATTR4_OWNER);
		set_bit(w, FATTR4_OWNER_GROUP);
		for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
			w[i] &= sup_of(s)[i];
		want_bitmap(x, w);
		return true;
	}
	}
	return false;
}

/* The object itself. */
static bool want_object(XDR *x, unsigned a, const struct nfs4_attr_src *s)
{
	const struct stat *st = s->st;
	switch (a) {
	case FATTR4_TYPE: {
		fattr4_type t;
		assert_true(xdr_fattr4_type(x, &t));
		assert_int_equal(t, ftype_of(st->st_mode));
		return true;
	}
	case FATTR4_CHANGE:
		/* knfsd's change attribute without i_version. */
		want_u64(x, ((uint64_t)st->st_ctim.tv_sec << 30) + st->st_ctim.tv_nsec);
		return true;
	case FATTR4_SIZE:
		want_u64(x, st->st_size);
		return true;
	case FATTR4_RDATTR_ERROR: {
		fattr4_rdattr_error e;
		assert_true(xdr_fattr4_rdattr_error(x, &e));
		assert_int_equal(e, s->rdattr_error);
		return true;
	}
	case FATTR4_FILEHANDLE:
		want_fh(x, s);
		return true;
	case FATTR4_TIME_ACCESS:
		want_time(x, &st->st_atim);
		return true;
	case FATTR4_TIME_METADATA:
		want_time(x, &st->st_ctim);
		return true;
	case FATTR4_TIME_MODIFY:
		want_time(x, &st->st_mtim);
		return true;
	}
	return false;
}

/*
 * Read fa the way a client does: the bitmap's attributes in bit order, each
 * with its own rpcgen routine, checked against s, to the last byte.
 */
static void check_fattr(const fattr4 *fa, const struct nfs4_attr_src *s)
{
	XDR x;
	xdrmem_create(&x, fa->attr_vals.attrlist4_val, fa->attr_vals.attrlist4_len, XDR_DECODE);
	const uint32_t *w = fa->attrmask.bitmap4_val;
	unsigned n = fa->attrmask.bitmap4_len;
	for (unsigned a = 0; a < 32 * n; a++) {
		if (!bit_of(w, n, a))
			continue;
		if (!want_object(&x, a, s) && !want_fs(&x, a, s) && !want_numbers(&x, a, s))
			fail_msg("attribute %u returned, but no reader for it", a);
	}
	assert_int_equal(xdr_getpos(&x), fa->attr_vals.attrlist4_len);
	xdr_destroy(&x);
}

/*
 * fa through xdr_fattr4 onto the wire and back, as it travels in a reply:
 * the size the encoder says it takes, and what a client decodes.
 */
static void check_wire(const fattr4 *fa, const struct nfs4_attr_src *s, size_t budget)
{
	static char wire[8192];
	XDR x;
	xdrmem_create(&x, wire, sizeof(wire), XDR_ENCODE);
	assert_true(xdr_fattr4(&x, (fattr4 *)fa));
	assert_int_equal(xdr_getpos(&x), nfs4_attr_xdr_size(fa));
	assert_true(nfs4_attr_xdr_size(fa) <= budget);
	u_int len = xdr_getpos(&x);
	xdr_destroy(&x);

	fattr4 back = { 0 };
	xdrmem_create(&x, wire, len, XDR_DECODE);
	assert_true(xdr_fattr4(&x, &back));
	assert_int_equal(xdr_getpos(&x), len);
	xdr_destroy(&x);
	check_fattr(&back, s);
	xdr_free((xdrproc_t)xdr_fattr4, (char *)&back);
}

static uint8_t vals[8192];

/* Encode, check the bitmap against want, and read every value back. */
static fattr4 encode_ok(const struct nfs4_attr_src *s, uint32_t *req, unsigned nreq,
			const uint32_t *want, struct nfs4_attr_buf *b)
{
	*b = (struct nfs4_attr_buf){ .vals = vals, .budget = sizeof(vals) };
	fattr4 fa;
	bitmap4 r = bm(req, nreq);
	assert_int_equal(nfs4_attr_encode(s, &r, b, &fa), 0);
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++)
		assert_int_equal(i < fa.attrmask.bitmap4_len ? fa.attrmask.bitmap4_val[i] : 0,
				 want[i]);
	/* No trailing zero words. */
	if (fa.attrmask.bitmap4_len > 0)
		assert_int_not_equal(fa.attrmask.bitmap4_val[fa.attrmask.bitmap4_len - 1], 0);
	check_fattr(&fa, s);
	check_wire(&fa, s, b->budget);
	return fa;
}

/* ---- encoding ---- */

/* A file of each kind, from real stat()s, with every attribute there is. */
static void test_every_attribute_of_each_kind(void **state)
{
	char *reg = ut_join(base, "reg"), *dir = ut_join(base, "dir"), *lnk = ut_join(base, "lnk");
	char *fifo = ut_join(base, "fifo"), *sock = ut_join(base, "sock");
	int fd = open(reg, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	char data[12345];
	memset(data, 'x', sizeof(data));
	assert_int_equal(write(fd, data, sizeof(data)), sizeof(data));
	struct timespec t[2] = { { 1700000000, 123456789 }, { 1600000000, 987654321 } };
	assert_int_equal(futimens(fd, t), 0);
	close(fd);
	assert_int_equal(mkdir(dir, 0751), 0);
	assert_int_equal(symlink("a/target", lnk), 0);
	assert_int_equal(mkfifo(fifo, 0604), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_true(strlen(sock) < sizeof(sun.sun_path));
	strcpy(sun.sun_path, sock);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);

	const char *paths[] = { reg, dir, lnk, fifo, sock, "/dev/null" };
	uint32_t all[NFS4_ATTR_WORDS];
	readable(all);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct stat st;
		assert_int_equal(lstat(paths[i], &st), 0);
		struct nfs4_attr_src src = src_of(&st, &FS);
		struct nfs4_attr_buf b;
		uint32_t req[NFS4_ATTR_WORDS];
		memcpy(req, all, sizeof(req));
		encode_ok(&src, req, NFS4_ATTR_WORDS, all, &b);
	}
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
	free(reg), free(dir), free(lnk), free(fifo), free(sock);
}

/* What the Linux client asks (fs/nfs/nfs4proc.c's bitmaps): all of it is there but what it lacks. */
static void test_linux_client_bitmaps(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	static const unsigned fattr[] = { FATTR4_TYPE, FATTR4_CHANGE, FATTR4_SIZE, FATTR4_FSID,
					  FATTR4_FILEID, FATTR4_MODE, FATTR4_NUMLINKS, FATTR4_OWNER,
					  FATTR4_OWNER_GROUP, FATTR4_RAWDEV, FATTR4_SPACE_USED,
					  FATTR4_TIME_ACCESS, FATTR4_TIME_METADATA,
					  FATTR4_TIME_MODIFY, FATTR4_MOUNTED_ON_FILEID,
					  /* readdir */
					  FATTR4_RDATTR_ERROR, FATTR4_FILEHANDLE,
					  /* statfs */
					  FATTR4_FILES_AVAIL, FATTR4_FILES_FREE, FATTR4_FILES_TOTAL,
					  FATTR4_SPACE_AVAIL, FATTR4_SPACE_FREE, FATTR4_SPACE_TOTAL,
					  /* pathconf */
					  FATTR4_MAXLINK, FATTR4_MAXNAME,
					  /* fsinfo */
					  FATTR4_MAXFILESIZE, FATTR4_MAXREAD, FATTR4_MAXWRITE,
					  FATTR4_LEASE_TIME, FATTR4_TIME_DELTA,
					  /* server capabilities */
					  FATTR4_SUPPORTED_ATTRS, FATTR4_FH_EXPIRE_TYPE,
					  FATTR4_LINK_SUPPORT, FATTR4_SYMLINK_SUPPORT,
					  FATTR4_ACLSUPPORT, FATTR4_CASE_INSENSITIVE,
					  FATTR4_CASE_PRESERVING, FATTR4_SUPPATTR_EXCLCREAT };
	/* Asked for, not had: fs_layout_types, layout_blksize, time_create, security_label. */
	static const unsigned lacking[] = { FATTR4_FS_LAYOUT_TYPES, FATTR4_LAYOUT_BLKSIZE,
					    FATTR4_TIME_CREATE, 80 };
	uint32_t req[NFS4_ATTR_WORDS] = { 0 }, want[NFS4_ATTR_WORDS] = { 0 };
	for (size_t i = 0; i < sizeof(fattr) / sizeof(fattr[0]); i++) {
		set_bit(req, fattr[i]);
		set_bit(want, fattr[i]);
		assert_true(bit_of(nfs4_attr_supported, NFS4_ATTR_WORDS, fattr[i]));
	}
	for (size_t i = 0; i < sizeof(lacking) / sizeof(lacking[0]); i++)
		set_bit(req, lacking[i]);
	struct nfs4_attr_buf b;
	encode_ok(&src, req, NFS4_ATTR_WORDS, want, &b);
	bitmap4 r = bm(req, NFS4_ATTR_WORDS);
	assert_true(nfs4_attr_needs_statfs(&r));
}

/* Values come in bit order whatever the words, and only the ones asked for. */
static void test_order_and_only_requested(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	struct nfs4_attr_buf b;

	uint32_t one[1] = { 1u << FATTR4_TYPE };
	fattr4 fa = encode_ok(&src, one, 1, (uint32_t[NFS4_ATTR_WORDS]){ one[0], 0, 0 }, &b);
	assert_int_equal(fa.attr_vals.attrlist4_len, 4);
	assert_int_equal(fa.attrmask.bitmap4_len, 1);

	/* 11, 13, 19 in word 0; 33 and 55 in word 1; 75 in word 2: each value's own bytes. */
	uint32_t req[NFS4_ATTR_WORDS] = { 0 };
	set_bit(req, FATTR4_SUPPATTR_EXCLCREAT);
	set_bit(req, FATTR4_MOUNTED_ON_FILEID);
	set_bit(req, FATTR4_FILEHANDLE);
	set_bit(req, FATTR4_MODE);
	set_bit(req, FATTR4_ACLSUPPORT);
	set_bit(req, FATTR4_RDATTR_ERROR);
	uint32_t want[NFS4_ATTR_WORDS];
	memcpy(want, req, sizeof(want));
	fa = encode_ok(&src, req, NFS4_ATTR_WORDS, want, &b);
	const uint8_t *v = (const uint8_t *)fa.attr_vals.attrlist4_val;
	size_t fhpad = (sizeof(FH) + 3) & ~3u;
	assert_int_equal(fa.attr_vals.attrlist4_len, 4 + 4 + 4 + fhpad + 4 + 8 + 4 + 4 * 2);
	assert_int_equal(ut_get32(v), NFS4_OK);	       /* rdattr_error */
	assert_int_equal(ut_get32(v + 4), 0);	       /* aclsupport */
	assert_int_equal(ut_get32(v + 8), sizeof(FH)); /* filehandle */
	assert_memory_equal(v + 12, FH, sizeof(FH));
	assert_int_equal(ut_get32(v + 12 + fhpad), st.st_mode & 07777); /* mode */
	assert_int_equal(ut_get32(v + 16 + fhpad), 0);			/* mounted_on_fileid */
	assert_int_equal(ut_get32(v + 20 + fhpad), 4242);
	assert_int_equal(ut_get32(v + 24 + fhpad), 2); /* suppattr_exclcreat: 2 words */

	/* Nothing asked, nothing given: an empty bitmap and no values. */
	fa = encode_ok(&src, NULL, 0, (uint32_t[NFS4_ATTR_WORDS]){ 0 }, &b);
	assert_int_equal(fa.attrmask.bitmap4_len, 0);
	assert_int_equal(fa.attr_vals.attrlist4_len, 0);
	bitmap4 none = bm(NULL, 0);
	assert_false(nfs4_attr_needs_statfs(&none));
	bitmap4 r = bm(one, 1);
	assert_false(nfs4_attr_needs_statfs(&r));
}

/* Unsupported, unknown and past-the-end bits are left out; so is what an export does not have. */
static void test_unsupported_absent(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	struct nfs4_attr_buf b;

	uint32_t req[5] = { 0 };
	set_bit(req, FATTR4_ACL);
	set_bit(req, FATTR4_ARCHIVE);
	set_bit(req, FATTR4_FS_LOCATIONS);
	set_bit(req, FATTR4_HIDDEN);
	set_bit(req, FATTR4_MIMETYPE);
	set_bit(req, FATTR4_QUOTA_USED);
	set_bit(req, FATTR4_SYSTEM);
	set_bit(req, FATTR4_TIME_BACKUP);
	set_bit(req, FATTR4_TIME_CREATE);
	set_bit(req, FATTR4_DACL);
	set_bit(req, FATTR4_FS_LAYOUT_TYPES);
	set_bit(req, FATTR4_FS_CHARSET_CAP);
	set_bit(req, 95);
	req[3] = req[4] = 0xffffffff;
	set_bit(req, FATTR4_SIZE);
	uint32_t want[NFS4_ATTR_WORDS] = { 1u << FATTR4_SIZE, 0, 0 };
	encode_ok(&src, req, 5, want, &b);

	/* An export that has no FILEHANDLE nor MAXREAD: gone from the reply and from supported_attrs. */
	uint32_t sup[NFS4_ATTR_WORDS];
	memcpy(sup, nfs4_attr_supported, sizeof(sup));
	sup[0] &= ~(1u << FATTR4_FILEHANDLE | 1u << FATTR4_MAXREAD);
	struct nfs4_fs_info fs = FS;
	fs.supported = sup;
	src = src_of(&st, &fs);
	uint32_t all[NFS4_ATTR_WORDS], want2[NFS4_ATTR_WORDS];
	readable(all);
	memcpy(want2, all, sizeof(want2));
	want2[0] &= sup[0];
	encode_ok(&src, all, NFS4_ATTR_WORDS, want2, &b);
}

/* Set-only attributes in a GETATTR are NFS4ERR_INVAL; missing facts are the caller's bug. */
static void test_refusals(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	struct nfs4_attr_buf b = { .vals = vals, .budget = sizeof(vals) };
	fattr4 fa;
	uint32_t req[NFS4_ATTR_WORDS] = { 0 };
	set_bit(req, FATTR4_TIME_MODIFY_SET);
	set_bit(req, FATTR4_SIZE);
	bitmap4 r = bm(req, NFS4_ATTR_WORDS);
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -EINVAL);
	req[1] = 1u << BIT(FATTR4_TIME_ACCESS_SET);
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -EINVAL);

	memset(req, 0, sizeof(req));
	set_bit(req, FATTR4_SPACE_FREE);
	assert_true(nfs4_attr_needs_statfs(&r));
	src.sfs = NULL;
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -ENODATA);
	memset(req, 0, sizeof(req));
	set_bit(req, FATTR4_MAXLINK);
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -ENODATA);
	/* What needs no statfs goes without one. */
	memset(req, 0, sizeof(req));
	set_bit(req, FATTR4_MAXNAME);
	set_bit(req, FATTR4_SIZE);
	assert_false(nfs4_attr_needs_statfs(&r));
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), 0);

	src = src_of(&st, &FS);
	src.fh = NULL;
	set_bit(req, FATTR4_FILEHANDLE);
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -ENODATA);
	src = src_of(&st, &FS);
	src.st = NULL;
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -ENODATA);
}

/* The whole fattr4 within the budget, to the byte; one byte less is -EMSGSIZE. */
static void test_budget(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	uint32_t all[NFS4_ATTR_WORDS];
	readable(all);
	bitmap4 r = bm(all, NFS4_ATTR_WORDS);
	struct nfs4_attr_buf b = { .vals = vals, .budget = sizeof(vals) };
	fattr4 fa;
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), 0);
	size_t need = nfs4_attr_xdr_size(&fa);
	assert_int_equal(need, 4 + 4 * 3 + 4 + fa.attr_vals.attrlist4_len);

	for (size_t budget = 0; budget < need; budget++) {
		b = (struct nfs4_attr_buf){ .vals = vals, .budget = budget };
		assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), -EMSGSIZE);
	}
	/* Exactly enough, into a buffer of exactly that size (ASan watches its end). */
	uint8_t *tight = malloc(need);
	assert_non_null(tight);
	b = (struct nfs4_attr_buf){ .vals = tight, .budget = need };
	assert_int_equal(nfs4_attr_encode(&src, &r, &b, &fa), 0);
	check_wire(&fa, &src, need);
	free(tight);

	/* The error-only form has its budget too. */
	uint32_t rd[1] = { 1u << FATTR4_RDATTR_ERROR };
	bitmap4 rr = bm(rd, 1);
	b = (struct nfs4_attr_buf){ .vals = vals, .budget = 15 };
	assert_int_equal(nfs4_attr_encode_error(NFS4ERR_ACCESS, &rr, &b, &fa), -EMSGSIZE);
	b.budget = 16;
	assert_int_equal(nfs4_attr_encode_error(NFS4ERR_ACCESS, &rr, &b, &fa), 0);
}

/* Owners are numbers; group too, whatever the numbers. */
static void test_owner_strings(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	uint32_t req[NFS4_ATTR_WORDS] = { 0 };
	set_bit(req, FATTR4_OWNER);
	set_bit(req, FATTR4_OWNER_GROUP);
	static const uid_t ids[][2] = {
		{ 0, 0 }, { 1000, 100 }, { 65534, 65534 }, { 4294967294u, 7 }
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		st.st_uid = ids[i][0];
		st.st_gid = ids[i][1];
		struct nfs4_attr_src src = src_of(&st, &FS);
		struct nfs4_attr_buf b;
		fattr4 fa = encode_ok(&src, req, NFS4_ATTR_WORDS, req, &b);
		char want[64];
		int n = snprintf(want, sizeof(want), "%u", ids[i][0]);
		const uint8_t *v = (const uint8_t *)fa.attr_vals.attrlist4_val;
		assert_int_equal(ut_get32(v), n);
		assert_memory_equal(v + 4, want, n);
	}
}

/* A READDIR entry that could not be read: rdattr_error alone. */
static void test_rdattr_error_only(void **state)
{
	struct nfs4_attr_buf b = { .vals = vals, .budget = sizeof(vals) };
	fattr4 fa;
	uint32_t req[NFS4_ATTR_WORDS];
	readable(req);
	bitmap4 r = bm(req, NFS4_ATTR_WORDS);
	assert_int_equal(nfs4_attr_encode_error(NFS4ERR_ACCESS, &r, &b, &fa), 0);
	assert_int_equal(fa.attrmask.bitmap4_len, 1);
	assert_int_equal(fa.attrmask.bitmap4_val[0], 1u << FATTR4_RDATTR_ERROR);
	assert_int_equal(fa.attr_vals.attrlist4_len, 4);
	assert_int_equal(ut_get32((const uint8_t *)fa.attr_vals.attrlist4_val), NFS4ERR_ACCESS);

	req[0] &= ~(1u << FATTR4_RDATTR_ERROR);
	assert_int_equal(nfs4_attr_encode_error(NFS4ERR_ACCESS, &r, &b, &fa), -ENODATA);

	/* And in an ordinary reply its value is the source's. */
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	src.rdattr_error = NFS4ERR_ACCESS;
	uint32_t one[NFS4_ATTR_WORDS] = { 1u << FATTR4_RDATTR_ERROR | 1u << FATTR4_FILEID };
	encode_ok(&src, one, NFS4_ATTR_WORDS, one, &b);
}

/* Every supported attribute encodes, and nothing unsupported does (the table and the mask agree). */
static void test_supported_mask(void **state)
{
	uint32_t w[NFS4_ATTR_WORDS] = { 0 };
	static const unsigned must[] = { /* RFC 8881 5.6: REQUIRED */
					 FATTR4_SUPPORTED_ATTRS,
					 FATTR4_TYPE,
					 FATTR4_FH_EXPIRE_TYPE,
					 FATTR4_CHANGE,
					 FATTR4_SIZE,
					 FATTR4_LINK_SUPPORT,
					 FATTR4_SYMLINK_SUPPORT,
					 FATTR4_NAMED_ATTR,
					 FATTR4_FSID,
					 FATTR4_UNIQUE_HANDLES,
					 FATTR4_LEASE_TIME,
					 FATTR4_RDATTR_ERROR,
					 FATTR4_FILEHANDLE,
					 FATTR4_SUPPATTR_EXCLCREAT
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		assert_true(bit_of(nfs4_attr_supported, NFS4_ATTR_WORDS, must[i]));
	/* Writable is within supported, exclcreat within writable and without the times. */
	for (unsigned i = 0; i < NFS4_ATTR_WORDS; i++) {
		assert_int_equal(nfs4_attr_writable[i] & ~nfs4_attr_supported[i], 0);
		assert_int_equal(nfs4_attr_exclcreat[i] & ~nfs4_attr_writable[i], 0);
		w[i] = nfs4_attr_writable[i] & ~nfs4_attr_exclcreat[i];
	}
	uint32_t times[NFS4_ATTR_WORDS] = { 0 };
	set_bit(times, FATTR4_TIME_ACCESS_SET);
	set_bit(times, FATTR4_TIME_MODIFY_SET);
	assert_memory_equal(w, times, sizeof(w));
	assert_false(bit_of(nfs4_attr_supported, NFS4_ATTR_WORDS, FATTR4_ACL));
	assert_false(bit_of(nfs4_attr_supported, NFS4_ATTR_WORDS, FATTR4_FS_LAYOUT_TYPES));
}

/* ---- the attributes a client sets ---- */

struct setbuf {
	char vals[512];
	XDR x;
	uint32_t mask[4];
};

static void set_begin(struct setbuf *s)
{
	memset(s->mask, 0, sizeof(s->mask));
	xdrmem_create(&s->x, s->vals, sizeof(s->vals), XDR_ENCODE);
}

static fattr4 set_end(struct setbuf *s, unsigned words)
{
	fattr4 fa = { .attrmask = bm(s->mask, words),
		      .attr_vals = { .attrlist4_len = xdr_getpos(&s->x),
				     .attrlist4_val = s->vals } };
	xdr_destroy(&s->x);
	return fa;
}

static void put_owner(struct setbuf *s, unsigned a, const char *who)
{
	utf8str_mixed u = { .utf8string_len = strlen(who), .utf8string_val = (char *)who };
	assert_true(xdr_utf8str_mixed(&s->x, &u));
	set_bit(s->mask, a);
}

static nfsstat4 decode(fattr4 *fa, const uint32_t *allowed, struct vfs_sattr *sa, uint32_t *set)
{
	return nfs4_attr_decode_set(fa, allowed, sa, set);
}

static nfsstat4 owner_status(const char *who, bool group, uint32_t *id)
{
	struct setbuf s;
	set_begin(&s);
	put_owner(&s, group ? FATTR4_OWNER_GROUP : FATTR4_OWNER, who);
	fattr4 fa = set_end(&s, 2);
	struct vfs_sattr sa;
	uint32_t set[NFS4_ATTR_WORDS];
	nfsstat4 st = decode(&fa, NULL, &sa, set);
	if (st == NFS4_OK) {
		assert_int_equal(sa.mask, group ? VFS_SET_GID : VFS_SET_UID);
		*id = group ? sa.gid : sa.uid;
	}
	return st;
}

/* Everything settable at once, written with rpcgen's routines. */
static void test_decode_set(void **state)
{
	struct setbuf s;
	set_begin(&s);
	fattr4_size size = 0x123456789ull;
	assert_true(xdr_fattr4_size(&s.x, &size));
	set_bit(s.mask, FATTR4_SIZE);
	fattr4_mode mode = S_IFREG | 04755;
	assert_true(xdr_fattr4_mode(&s.x, &mode));
	set_bit(s.mask, FATTR4_MODE);
	put_owner(&s, FATTR4_OWNER, "1000");
	put_owner(&s, FATTR4_OWNER_GROUP, "100");
	settime4 at = { .set_it = SET_TO_SERVER_TIME4 };
	assert_true(xdr_fattr4_time_access_set(&s.x, &at));
	set_bit(s.mask, FATTR4_TIME_ACCESS_SET);
	settime4 mt = { .set_it = SET_TO_CLIENT_TIME4,
			.settime4_u.time = { .seconds = -5, .nseconds = 999999999 } };
	assert_true(xdr_fattr4_time_modify_set(&s.x, &mt));
	set_bit(s.mask, FATTR4_TIME_MODIFY_SET);
	fattr4 fa = set_end(&s, 2);

	struct vfs_sattr sa;
	uint32_t set[NFS4_ATTR_WORDS];
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4_OK);
	assert_int_equal(sa.mask, VFS_SET_SIZE | VFS_SET_MODE | VFS_SET_UID | VFS_SET_GID |
					  VFS_SET_ATIME | VFS_SET_MTIME);
	assert_int_equal(sa.size, 0x123456789ull);
	assert_int_equal(sa.mode, 04755);
	assert_int_equal(sa.uid, 1000);
	assert_int_equal(sa.gid, 100);
	assert_int_equal(sa.atime.tv_nsec, UTIME_NOW);
	assert_int_equal(sa.mtime.tv_sec, -5);
	assert_int_equal(sa.mtime.tv_nsec, 999999999);
	assert_memory_equal(set, nfs4_attr_writable, sizeof(set));

	/* EXCLUSIVE4_1: the times are the verifier's. */
	assert_int_equal(decode(&fa, nfs4_attr_exclcreat, &sa, set), NFS4ERR_INVAL);
	assert_int_equal(sa.mask, 0);
	set_begin(&s);
	assert_true(xdr_fattr4_mode(&s.x, &mode));
	set_bit(s.mask, FATTR4_MODE);
	fa = set_end(&s, 2);
	assert_int_equal(decode(&fa, nfs4_attr_exclcreat, &sa, set), NFS4_OK);
	assert_int_equal(sa.mask, VFS_SET_MODE);

	/* Nothing to set is nothing set. */
	set_begin(&s);
	fa = set_end(&s, 0);
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4_OK);
	assert_int_equal(sa.mask, 0);
}

static void test_decode_owners(void **state)
{
	uint32_t id = 0;
	assert_int_equal(owner_status("0", false, &id), NFS4_OK);
	assert_int_equal(id, 0);
	assert_int_equal(owner_status("4294967294", true, &id), NFS4_OK);
	assert_int_equal(id, 4294967294u);
	assert_int_equal(owner_status("007", false, &id), NFS4_OK);
	assert_int_equal(id, 7);
	static const char *bad[] = {
		"",   "bob",	    "bob@example.org", "1000@localdomain",    "-1", "+5", " 5",
		"5 ", "4294967295", "4294967296",      "99999999999999999999"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(owner_status(bad[i], false, &id), NFS4ERR_BADOWNER);
		assert_int_equal(owner_status(bad[i], true, &id), NFS4ERR_BADOWNER);
	}
	/* A NUL inside is no number either. */
	struct setbuf s;
	set_begin(&s);
	utf8str_mixed u = { .utf8string_len = 3, .utf8string_val = "1\0002" };
	assert_true(xdr_utf8str_mixed(&s.x, &u));
	set_bit(s.mask, FATTR4_OWNER);
	fattr4 fa = set_end(&s, 2);
	struct vfs_sattr sa;
	uint32_t set[NFS4_ATTR_WORDS];
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADOWNER);
}

/* Read-only -> INVAL, unsupported or unknown -> ATTRNOTSUPP (first), broken XDR -> BADXDR. */
static void test_decode_errors(void **state)
{
	struct setbuf s;
	struct vfs_sattr sa;
	uint32_t set[NFS4_ATTR_WORDS];
	fattr4 fa;
	fattr4_type type = NF4REG;

	static const unsigned readonly[] = { FATTR4_TYPE,	    FATTR4_CHANGE,
					     FATTR4_FILEID,	    FATTR4_NUMLINKS,
					     FATTR4_TIME_MODIFY,    FATTR4_SPACE_USED,
					     FATTR4_SUPPORTED_ATTRS };
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		set_begin(&s);
		assert_true(xdr_fattr4_type(&s.x, &type)); /* some value: never read */
		set_bit(s.mask, readonly[i]);
		fa = set_end(&s, 2);
		assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_INVAL);
		assert_int_equal(set[0] | set[1] | set[2], 0);
	}
	static const unsigned unsupported[] = {
		FATTR4_ACL,  FATTR4_ARCHIVE,	     FATTR4_HIDDEN,	   FATTR4_TIME_CREATE,
		FATTR4_SACL, FATTR4_MODE_SET_MASKED, FATTR4_RETENTION_SET, 90,
		127
	};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		set_begin(&s);
		assert_true(xdr_fattr4_type(&s.x, &type));
		set_bit(s.mask, unsupported[i]);
		set_bit(s.mask, FATTR4_TYPE); /* read-only too, but unsupported answers first */
		fa = set_end(&s, 4);
		assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_ATTRNOTSUPP);
	}

	/* Too short, too long, a bad how, nanoseconds out of range. */
	set_begin(&s);
	fattr4_size size = 1;
	assert_true(xdr_fattr4_size(&s.x, &size));
	set_bit(s.mask, FATTR4_SIZE);
	set_bit(s.mask, FATTR4_MODE);
	fa = set_end(&s, 2);
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADXDR);
	fa.attrmask.bitmap4_val[1] = 0;
	fa.attr_vals.attrlist4_len = 4;
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADXDR);
	fa.attr_vals.attrlist4_len = 12;
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADXDR);

	set_begin(&s);
	put_owner(&s, FATTR4_OWNER, "12345");
	fa = set_end(&s, 2);
	fa.attr_vals.attrlist4_len = 8; /* length 5, then 4 of its 8 bytes */
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADXDR);
	uint32_t huge = htonl(0xfffffff0u);
	memcpy(s.vals, &huge, sizeof(huge));
	fa.attr_vals.attrlist4_len = 12;
	assert_int_equal(decode(&fa, NULL, &sa, set), NFS4ERR_BADXDR);

	uint32_t how[][4] = { { htonl(2) },
			      { htonl(SET_TO_CLIENT_TIME4), 0, 0 },
			      { htonl(SET_TO_CLIENT_TIME4), 0, 7, htonl(1000000000) } };
	size_t len[] = { 4, 8, 16 };
	nfsstat4 want[] = { NFS4ERR_BADXDR, NFS4ERR_BADXDR, NFS4ERR_INVAL };
	for (size_t i = 0; i < 3; i++) {
		uint32_t m[2] = { 0 };
		set_bit(m, FATTR4_TIME_MODIFY_SET);
		fa = (fattr4){ .attrmask = bm(m, 2),
			       .attr_vals = { .attrlist4_len = len[i],
					      .attrlist4_val = (char *)how[i] } };
		assert_int_equal(decode(&fa, NULL, &sa, set), want[i]);
	}
}

/* ---- nfs4_prot.x on the wire ---- */

static const char SESSION[16] = "0123456789abcdef";

static void fill_args(COMPOUND4args *a, nfs_argop4 ops[3], uint32_t words[2])
{
	memset(ops, 0, 3 * sizeof(ops[0]));
	ops[0].argop = OP_SEQUENCE;
	SEQUENCE4args *sq = &ops[0].nfs_argop4_u.opsequence;
	memcpy(sq->sa_sessionid, SESSION, sizeof(SESSION));
	sq->sa_sequenceid = 7;
	sq->sa_slotid = 2;
	sq->sa_highest_slotid = 9;
	sq->sa_cachethis = TRUE;
	ops[1].argop = OP_PUTFH;
	ops[1].nfs_argop4_u.opputfh.object =
		(nfs_fh4){ .nfs_fh4_len = sizeof(FH), .nfs_fh4_val = (char *)FH };
	ops[2].argop = OP_GETATTR;
	ops[2].nfs_argop4_u.opgetattr.attr_request = bm(words, 2);
	*a = (COMPOUND4args){ .tag = { .utf8string_len = 4, .utf8string_val = "test" },
			      .minorversion = 1,
			      .argarray = { .argarray_len = 3, .argarray_val = ops } };
}

/* SEQUENCE + PUTFH + GETATTR: RFC 5662's bytes, and back into the same call. */
static void test_compound_args_roundtrip(void **state)
{
	nfs_argop4 ops[3];
	uint32_t words[2] = { 0x0010011a, 0x00b0a23a }; /* the Linux client's nfs4_fattr_bitmap */
	COMPOUND4args a;
	fill_args(&a, ops, words);

	char wire[512];
	XDR x;
	xdrmem_create(&x, wire, sizeof(wire), XDR_ENCODE);
	assert_true(xdr_COMPOUND4args(&x, &a));
	u_int len = xdr_getpos(&x);
	xdr_destroy(&x);

	struct ut_buf w = { 0 };
	ut_put_opaque(&w, "test", 4);
	ut_put32(&w, 1); /* minorversion */
	ut_put32(&w, 3); /* ops */
	ut_put32(&w, OP_SEQUENCE);
	ut_put_raw(&w, SESSION, 16);
	ut_put32(&w, 7);
	ut_put32(&w, 2);
	ut_put32(&w, 9);
	ut_put32(&w, 1);
	ut_put32(&w, OP_PUTFH);
	ut_put_opaque(&w, FH, sizeof(FH));
	ut_put32(&w, OP_GETATTR);
	ut_put32(&w, 2);
	ut_put32(&w, words[0]);
	ut_put32(&w, words[1]);
	assert_int_equal(len, w.len);
	assert_memory_equal(wire, w.p, len);
	assert_int_equal(OP_SEQUENCE, 53);
	assert_int_equal(OP_PUTFH, 22);
	assert_int_equal(OP_GETATTR, 9);
	ut_buf_free(&w);

	COMPOUND4args b = { 0 };
	xdrmem_create(&x, wire, len, XDR_DECODE);
	assert_true(xdr_COMPOUND4args(&x, &b));
	assert_int_equal(xdr_getpos(&x), len);
	xdr_destroy(&x);
	assert_int_equal(b.tag.utf8string_len, 4);
	assert_memory_equal(b.tag.utf8string_val, "test", 4);
	assert_int_equal(b.minorversion, 1);
	assert_int_equal(b.argarray.argarray_len, 3);
	const nfs_argop4 *o = b.argarray.argarray_val;
	assert_int_equal(o[0].argop, OP_SEQUENCE);
	const SEQUENCE4args *sq = &o[0].nfs_argop4_u.opsequence;
	assert_memory_equal(sq->sa_sessionid, SESSION, 16);
	assert_int_equal(sq->sa_sequenceid, 7);
	assert_int_equal(sq->sa_slotid, 2);
	assert_int_equal(sq->sa_highest_slotid, 9);
	assert_true(sq->sa_cachethis);
	assert_int_equal(o[1].argop, OP_PUTFH);
	assert_int_equal(o[1].nfs_argop4_u.opputfh.object.nfs_fh4_len, sizeof(FH));
	assert_memory_equal(o[1].nfs_argop4_u.opputfh.object.nfs_fh4_val, FH, sizeof(FH));
	assert_int_equal(o[2].argop, OP_GETATTR);
	const bitmap4 *r = &o[2].nfs_argop4_u.opgetattr.attr_request;
	assert_int_equal(r->bitmap4_len, 2);
	assert_memory_equal(r->bitmap4_val, words, sizeof(words));
	xdr_free((xdrproc_t)xdr_COMPOUND4args, (char *)&b);

	/* Cut anywhere, the call does not decode. */
	for (u_int cut = 0; cut < len; cut += 4) {
		COMPOUND4args c = { 0 };
		xdrmem_create(&x, wire, cut, XDR_DECODE);
		assert_false(xdr_COMPOUND4args(&x, &c));
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_COMPOUND4args, (char *)&c);
	}
}

/* The answer to it, with the encoder's fattr4 inside, read back as a client would. */
static void test_compound_res_roundtrip(void **state)
{
	struct stat st;
	assert_int_equal(stat(base, &st), 0);
	struct nfs4_attr_src src = src_of(&st, &FS);
	uint32_t req[2] = { 0x0010011a, 0x00b0a23a };
	bitmap4 r = bm(req, 2);
	struct nfs4_attr_buf ab = { .vals = vals, .budget = sizeof(vals) };
	fattr4 fa;
	assert_int_equal(nfs4_attr_encode(&src, &r, &ab, &fa), 0);
	assert_memory_equal(fa.attrmask.bitmap4_val, req, sizeof(req));

	nfs_resop4 ops[3];
	memset(ops, 0, sizeof(ops));
	ops[0].resop = OP_SEQUENCE;
	SEQUENCE4resok *sr = &ops[0].nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4;
	memcpy(sr->sr_sessionid, SESSION, 16);
	sr->sr_sequenceid = 7;
	sr->sr_slotid = 2;
	sr->sr_highest_slotid = sr->sr_target_highest_slotid = 63;
	ops[1].resop = OP_PUTFH;
	ops[2].resop = OP_GETATTR;
	ops[2].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes = fa;
	COMPOUND4res res = { .status = NFS4_OK,
			     .tag = { .utf8string_len = 4, .utf8string_val = "test" },
			     .resarray = { .resarray_len = 3, .resarray_val = ops } };
	char wire[2048];
	XDR x;
	xdrmem_create(&x, wire, sizeof(wire), XDR_ENCODE);
	assert_true(xdr_COMPOUND4res(&x, &res));
	u_int len = xdr_getpos(&x);
	xdr_destroy(&x);
	/* status, tag, count; SEQUENCE: op, status, 16 + 5 words; PUTFH: op, status; GETATTR: op, status. */
	assert_int_equal(len, 4 + 8 + 4 + (8 + 16 + 20) + 8 + 8 + nfs4_attr_xdr_size(&fa));

	COMPOUND4res back = { 0 };
	xdrmem_create(&x, wire, len, XDR_DECODE);
	assert_true(xdr_COMPOUND4res(&x, &back));
	xdr_destroy(&x);
	assert_int_equal(back.resarray.resarray_len, 3);
	const nfs_resop4 *o = back.resarray.resarray_val;
	assert_int_equal(o[0].nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4.sr_highest_slotid,
			 63);
	assert_int_equal(o[2].resop, OP_GETATTR);
	assert_int_equal(o[2].nfs_resop4_u.opgetattr.status, NFS4_OK);
	check_fattr(&o[2].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes, &src);
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&back);
}

/*
 * NFSv3, MOUNT and NFSv4.1's generated routines in one program: a name
 * the two .x files shared would be a second definition, here a link error.
 */
static void test_protocols_link_together(void **state)
{
	xdrproc_t procs[] = { (xdrproc_t)xdr_fattr3, (xdrproc_t)xdr_fhandle3, (xdrproc_t)xdr_fattr4,
			      (xdrproc_t)xdr_COMPOUND4args, (xdrproc_t)xdr_CB_COMPOUND4args };
	for (size_t i = 0; i < sizeof(procs) / sizeof(procs[0]); i++)
		assert_non_null(procs[i]);
	assert_int_equal(NFS4_PROGRAM, NFS_PROGRAM);
	assert_int_equal(NFS_V4, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_attribute_of_each_kind),
		cmocka_unit_test(test_linux_client_bitmaps),
		cmocka_unit_test(test_order_and_only_requested),
		cmocka_unit_test(test_unsupported_absent),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_owner_strings),
		cmocka_unit_test(test_rdattr_error_only),
		cmocka_unit_test(test_supported_mask),
		cmocka_unit_test(test_decode_set),
		cmocka_unit_test(test_decode_owners),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_compound_args_roundtrip),
		cmocka_unit_test(test_compound_res_roundtrip),
		cmocka_unit_test(test_protocols_link_together),
	};
	return cmocka_run_group_tests_name("nfs4_attr", tests, setup, teardown);
}
