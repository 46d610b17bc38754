/*
 * Handles of the encrypted view, and what an object's bytes derive from.
 *
 * A view handle wraps the passthrough handle of the plaintext object (for a
 * virtual file, of its directory), so it resolves after a restart exactly
 * as passthrough's does, proof of being inside the export included. What
 * gocryptfs derives IVs from is the cipher path, which no handle can hold:
 * it is computed from the kernel's current path of the resolved object
 * (the one passthrough's proof reads), encrypting one component at a time,
 * when an operation first needs it.
 * A file with several names takes its IVs from its inode instead
 * (crypt_file_ivs_of).
 */
#define _GNU_SOURCE
#include "cr_int.h"

#include "fs.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CR_VIRTUAL_FILEID (UINT64_C(1) << 63)

static const struct vfs_ops *lower_ops(void)
{
	return &passthrough_ops;
}

/* ---- payloads ---- */

static unsigned lower_max(enum cr_kind kind)
{
	return kind == CR_NAME_FILE ? CR_LOWER_NAMEFILE_MAX : CR_LOWER_MAX;
}

/*
 * A passthrough payload too long to wrap (a filesystem with long kernel
 * handles) is replaced by one without the kernel's handle: passthrough
 * then finds the object by searching for its inode.
 */
static void lower_payload(const struct export *ex, enum cr_kind kind, const struct fh_buf *lfh,
			  const struct stat *lst, uint8_t *out, unsigned *len)
{
	unsigned n = lfh->len - FH_HDR;
	if (n > lower_max(kind)) {
		struct pt_kh none = { 0 };
		struct fh_buf short_fh;
		pt_encode(&cr_export(ex)->lower, 0, lst, &none, &short_fh);
		lfh = &short_fh;
		n = lfh->len - FH_HDR;
		memcpy(out, lfh->data + FH_HDR, n);
	} else {
		memcpy(out, lfh->data + FH_HDR, n);
	}
	*len = n;
}

void cr_make_fh(const struct export *ex, enum cr_kind kind, const uint8_t *hash_prefix,
		const struct fh_buf *lower_fh, const struct stat *lower_st, struct fh_buf *out)
{
	uint8_t p[FH_PAYLOAD_MAX];
	unsigned off = 0, n;
	p[off++] = (uint8_t)kind;
	if (kind == CR_NAME_FILE) {
		memcpy(p + off, hash_prefix, CR_HASH_PREFIX);
		off += CR_HASH_PREFIX;
	}
	lower_payload(ex, kind, lower_fh, lower_st, p + off, &n);
	mode_t mode = kind == CR_REAL ? lower_st->st_mode : S_IFREG;
	vfs_make_fh(ex, mode, p, off + n, out);
}

const uint8_t *cr_name_prefix(const struct crypt_ventry *e)
{
	if (e->kind != CRYPT_V_NAME_FILE)
		return NULL;
	return (const uint8_t *)e->vname + strlen(CRYPT_LONGNAME_PREFIX);
}

enum cr_kind cr_virtual_kind(const struct crypt_ventry *e)
{
	return e->kind == CRYPT_V_DIRIV ? CR_DIRIV : CR_NAME_FILE;
}

void cr_make_virtual(const struct export *ex, const struct cr_obj *dir,
		     const struct crypt_ventry *e, struct vfs_new *out)
{
	struct fh_buf lfh;
	/* The directory's handle as passthrough made it: a header, then its payload. */
	memset(lfh.data, 0, FH_HDR);
	memcpy(lfh.data + FH_HDR, dir->lower_payload, dir->lower_len);
	lfh.len = FH_HDR + dir->lower_len;
	out->ex = (struct export *)ex;
	cr_make_fh(ex, cr_virtual_kind(e), cr_name_prefix(e), &lfh, &dir->lower.st, &out->fh);
	cr_view_stat_of(cr_virtual_kind(e), cr_name_prefix(e), e->content_len, &dir->lower.st,
			&out->st);
}

/* ---- attributes ---- */

/* Distinct from every inode number of the export's filesystem (which stay below 2^63). */
static uint64_t virtual_fileid(enum cr_kind kind, ino_t dir_ino, const uint8_t *hash_prefix)
{
	uint64_t h = (uint64_t)dir_ino * UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)kind;
	for (int i = 0; hash_prefix && i < CR_HASH_PREFIX; i++)
		h = (h ^ hash_prefix[i]) * UINT64_C(0x100000001b3);
	return CR_VIRTUAL_FILEID | (h & (CR_VIRTUAL_FILEID - 1));
}

/* Encrypted symlink targets are unpadded base64url of nonce || tag || target. */
static uint64_t symlink_view_size(uint64_t target_len)
{
	uint64_t n = target_len + CRYPT_BLOCK_OVERHEAD;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void cr_view_stat_of(enum cr_kind kind, const uint8_t *hash_prefix, size_t content_len,
		     const struct stat *lst, struct stat *out)
{
	*out = *lst;
	switch (kind) {
	case CR_REAL:
		if (S_ISREG(lst->st_mode))
			out->st_size = (off_t)crypt_cipher_size((uint64_t)lst->st_size);
		else if (S_ISLNK(lst->st_mode))
			out->st_size = (off_t)symlink_view_size((uint64_t)lst->st_size);
		return;
	case CR_CONF:
		return;
	case CR_DIRIV:
	case CR_NAME_FILE:
		/* As gocryptfs shows them: the directory's owner and times, read-only. */
		out->st_mode = S_IFREG | CRYPT_VIRTUAL_MODE;
		out->st_nlink = 1;
		out->st_size = (off_t)content_len;
		out->st_blocks = (blkcnt_t)((content_len + 511) / 512);
		out->st_rdev = 0;
		out->st_ino = (ino_t)virtual_fileid(kind, lst->st_ino, hash_prefix);
		return;
	}
}

void cr_view_stat(const struct cr_obj *o, const struct stat *lst, struct stat *out)
{
	size_t len = o->kind == CR_DIRIV ? CRYPT_IV_LEN : o->cname_len;
	cr_view_stat_of(o->kind, o->hash_prefix, len, lst, out);
}

/* ---- paths ---- */

/* The plaintext path of o's object below the export root, from the kernel. */
static int plain_rel_path(const struct export *ex, const struct cr_obj *o, char **out)
{
	if (o->lower.is_root) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	char path[PATH_MAX];
	ssize_t n = fs_fd_path(o->lower.be.pt.fd, path, sizeof(path) - 1);
	if (n <= 0)
		return n < 0 ? (int)n : -ESTALE;
	path[n] = '\0';
	size_t pl = strlen(ex->path);
	if (pl == 1)
		pl = 0; /* the export is "/" */
	if (strncmp(path, ex->path, pl) != 0 || path[pl] != '/')
		return -ESTALE; /* moved out since it was resolved */
	*out = strdup(path + pl + 1);
	return *out ? 0 : -ENOMEM;
}

/* One plaintext name in the directory at dir_cpath, as the view names it. */
static int encrypt_component(const struct crypt_keys *k, const char *dir_cpath, const char *name,
			     char vname[CRYPT_NAME_MAX + 1])
{
	uint8_t diriv[CRYPT_IV_LEN];
	struct crypt_ventry e, nf;
	bool has_nf;
	crypt_path_iv(dir_cpath, CRYPT_PURPOSE_DIRIV, diriv);
	int rc = crypt_view_entry(k, diriv, dir_cpath[0] == '\0', name, &e, &nf, &has_nf);
	if (rc < 0)
		return rc;
	memcpy(vname, e.vname, strlen(e.vname) + 1);
	return 0;
}

/* "a/b/c" -> the cipher path gocryptfs derives IVs from. */
static int cipher_path(const struct crypt_keys *k, const char *rel, char **out)
{
	char *cpath = strdup("");
	char *copy = strdup(rel);
	int rc = cpath && copy ? 0 : -ENOMEM;
	char *save = NULL;
	for (char *c = copy ? strtok_r(copy, "/", &save) : NULL; rc == 0 && c;
	     c = strtok_r(NULL, "/", &save)) {
		char vname[CRYPT_NAME_MAX + 1];
		rc = encrypt_component(k, cpath, c, vname);
		char *next = rc == 0 ? crypt_path_join(cpath, vname) : NULL;
		if (rc == 0 && !next)
			rc = -ENOMEM;
		free(cpath);
		cpath = next;
	}
	free(copy);
	if (rc < 0) {
		free(cpath);
		return rc;
	}
	*out = cpath;
	return 0;
}

int cr_paths(struct export *ex, struct cr_obj *o)
{
	if (o->have_paths)
		return 0;
	char *rel = NULL, *cpath = NULL;
	int rc = plain_rel_path(ex, o, &rel);
	if (rc == 0)
		rc = cipher_path(cr_export(ex)->keys, rel, &cpath);
	if (rc < 0) {
		free(rel);
		return rc;
	}
	o->plain_rel = rel;
	o->cpath = cpath;
	o->have_paths = true;
	return 0;
}

bool cr_excluded(const struct export *ex, const char *rel)
{
	const struct crypt_exclude *x = cr_export(ex)->exclude;
	return x && crypt_exclude_match(x, rel);
}

bool cr_excluded_child(const struct export *ex, const char *dir_rel, const char *name)
{
	const struct crypt_exclude *x = cr_export(ex)->exclude;
	return x && crypt_exclude_match_child(x, dir_rel, name);
}

int cr_file_ivs(struct export *ex, struct cr_obj *o, struct crypt_file_ivs *ivs)
{
	/* A hard-linked file's IVs need no path (crypt_file_ivs_of). */
	int rc = o->lower.st.st_nlink > 1 ? 0 : cr_paths(ex, o);
	if (rc == 0)
		crypt_file_ivs_of(o->cpath ? o->cpath : "", &o->lower.st, ivs);
	return rc;
}

/* ---- resolution ---- */

static bool parse_payload(const uint8_t *p, unsigned len, struct cr_obj *o, const uint8_t **lp,
			  unsigned *llen)
{
	if (len < 1)
		return false;
	o->kind = (enum cr_kind)p[0];
	unsigned off = 1;
	switch (o->kind) {
	case CR_REAL:
	case CR_CONF:
	case CR_DIRIV:
		break;
	case CR_NAME_FILE:
		if (len < 1 + CR_HASH_PREFIX)
			return false;
		memcpy(o->hash_prefix, p + 1, CR_HASH_PREFIX);
		off += CR_HASH_PREFIX;
		break;
	default:
		return false;
	}
	*lp = p + off;
	*llen = len - off;
	return *llen > 0;
}

struct nf_find {
	const uint8_t *prefix;
	struct cr_obj *o;
};

/* The longname whose hash starts with the prefix: its full encrypted name. */
static int nf_match(void *arg, const struct crypt_ventry *e)
{
	struct nf_find *f = arg;
	size_t pl = strlen(CRYPT_LONGNAME_PREFIX);
	if (e->kind != CRYPT_V_NAME_FILE || strncmp(e->vname, CRYPT_LONGNAME_PREFIX, pl) != 0 ||
	    memcmp(e->vname + pl, f->prefix, CR_HASH_PREFIX) != 0)
		return 0;
	memcpy(f->o->cname, e->content, e->content_len);
	f->o->cname[e->content_len] = '\0';
	f->o->cname_len = e->content_len;
	return 1;
}

static int find_name_file(struct export *ex, struct cr_obj *o)
{
	int rc = cr_paths(ex, o);
	if (rc < 0)
		return rc;
	struct nf_find f = { o->hash_prefix, o };
	rc = crypt_view_name_files(cr_export(ex)->keys, o->lower.be.pt.fd, o->cpath, nf_match, &f);
	return rc == 1 ? 0 : rc < 0 ? rc : -ESTALE; /* the long name is gone */
}

/* The object behind a payload must be what its kind says, and not excluded. */
static int check_kind(struct export *ex, struct cr_obj *o, bool cached_only)
{
	const struct stat *st = &o->lower.st;
	switch (o->kind) {
	case CR_DIRIV:
		return S_ISDIR(st->st_mode) ? 0 : -ESTALE;
	case CR_NAME_FILE:
		if (!S_ISDIR(st->st_mode))
			return -ESTALE;
		return cached_only ? -EVFS_NEED_WORKER : find_name_file(ex, o);
	case CR_CONF:
		return S_ISREG(st->st_mode) ? 0 : -ESTALE;
	case CR_REAL:
		break;
	}
	if (!cr_export(ex)->exclude || o->lower.is_root)
		return 0;
	int rc = cr_paths(ex, o);
	if (rc < 0)
		return rc;
	/* A rename can move an object under an excluded name: its handle then goes stale. */
	return cr_excluded(ex, o->plain_rel) ? -ESTALE : 0;
}

int cr_resolve(struct export *ex, const uint8_t *p, unsigned len, bool cached_only,
	       struct vfs_obj *out)
{
	struct cr_obj *o = calloc(1, sizeof(*o));
	if (!o)
		return -EJUKEBOX;
	const uint8_t *lp;
	unsigned llen;
	if (!parse_payload(p, len, o, &lp, &llen)) {
		free(o);
		return -EBADHANDLE;
	}
	memcpy(o->lower_payload, lp, llen);
	o->lower_len = llen;
	struct export *lower = &cr_export(ex)->lower;
	int rc = lower_ops()->resolve(lower, lp, llen, cached_only, &o->lower);
	if (rc < 0) {
		free(o);
		return rc;
	}
	o->lower.ex = lower;
	o->lower.view = NULL;
	rc = check_kind(ex, o, cached_only);
	if (rc < 0) {
		out->be.cr.o = o;
		cr_release(out);
		return rc;
	}
	out->ex = ex;
	out->ent = NULL;
	out->is_root = o->kind == CR_REAL && o->lower.is_root;
	cr_view_stat(o, &o->lower.st, &out->st);
	out->be.cr.o = o;
	return 0;
}

void cr_release(struct vfs_obj *obj)
{
	struct cr_obj *o = cr_obj(obj);
	if (!o)
		return;
	lower_ops()->release(&o->lower);
	free(o->plain_rel);
	free(o->cpath);
	free(o);
	obj->be.cr.o = NULL;
}
