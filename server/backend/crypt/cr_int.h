/*
 * The encrypted view's private declarations (server/backend/crypt/):
 *   cr_export.c  opening an export: the config, the passphrase, the
 *                passthrough export below, the exclusions
 *   cr_handle.c  payloads, resolution, the paths an object's IVs come from
 *   cr_ops.c     the operations (read-only)
 *
 * The view is a backend stacked on passthrough: every object of the view
 * is a passthrough object of the same directory (the entry itself, or for
 * a virtual file the directory it is in) and what the view makes of it.
 */
#ifndef LOOPNFS_CR_INT_H
#define LOOPNFS_CR_INT_H

#include "backend.h"
#include "crypt.h"
#include "vfs.h"

#include <stdbool.h>
#include <stdint.h>

struct cr_export {
	struct export lower; /* the passthrough export of the same directory, same id */
	struct crypt_keys *keys;
	struct crypt_exclude *exclude; /* --exclude / exclude=: NULL for none */
};

static inline struct cr_export *cr_export(const struct export *ex)
{
	return ex->be;
}

/*
 * Payload: the kind (one byte), then
 *   REAL, CONF   the entry's passthrough payload
 *   DIRIV        the directory's passthrough payload
 *   NAME_FILE    8 bytes of the longname's hash, the directory's payload
 */
enum cr_kind {
	CR_REAL = 1,	  /* a plaintext entry, encrypted */
	CR_DIRIV = 2,	  /* a directory's gocryptfs.diriv */
	CR_NAME_FILE = 3, /* gocryptfs.longname.X.name: the full encrypted name */
	CR_CONF = 4,	  /* gocryptfs.conf: the root's .gocryptfs.reverse.conf as it is */
};
#define CR_HASH_PREFIX 8
#define CR_LOWER_MAX (FH_PAYLOAD_MAX - 1)
#define CR_LOWER_NAMEFILE_MAX (FH_PAYLOAD_MAX - 1 - CR_HASH_PREFIX)

struct cr_obj {
	struct vfs_obj lower; /* passthrough: the entry (REAL, CONF) or its directory */
	enum cr_kind kind;
	uint8_t lower_payload[FH_PAYLOAD_MAX];
	unsigned lower_len;
	uint8_t hash_prefix[CR_HASH_PREFIX]; /* NAME_FILE */
	/* Computed when first needed (cr_paths): */
	bool have_paths;
	char *plain_rel; /* the plaintext path below the export root, "" for the root */
	char *cpath;	 /* its cipher path, as gocryptfs writes it */
	/* NAME_FILE: the encrypted name it holds (found at resolve). */
	char cname[CRYPT_CNAME_MAX + 1];
	size_t cname_len;
};

static inline struct cr_obj *cr_obj(const struct vfs_obj *obj)
{
	return obj->be.cr.o;
}

/* ---- cr_handle.c ---- */

int cr_resolve(struct export *ex, const uint8_t *payload, unsigned len, bool cached_only,
	       struct vfs_obj *out);
void cr_release(struct vfs_obj *obj);
/* Fill o's plaintext and cipher paths (once): 0 or -errno (-ESTALE: no longer inside). */
int cr_paths(struct export *ex, struct cr_obj *o);
/* The handle of a view object: kind, optional hash prefix, the passthrough payload below. */
void cr_make_fh(const struct export *ex, enum cr_kind kind, const uint8_t *hash_prefix,
		const struct fh_buf *lower_fh, const struct stat *lower_st, struct fh_buf *out);
/* A virtual file of directory dir (gocryptfs.diriv, a .name file): its handle and attributes. */
void cr_make_virtual(const struct export *ex, const struct cr_obj *dir,
		     const struct crypt_ventry *e, struct vfs_new *out);
enum cr_kind cr_virtual_kind(const struct crypt_ventry *e);
/* What a .name file's handle keeps of its longname (NULL for gocryptfs.diriv). */
const uint8_t *cr_name_prefix(const struct crypt_ventry *e);
/* What the view shows for o, from the plaintext object's attributes lst. */
void cr_view_stat(const struct cr_obj *o, const struct stat *lst, struct stat *out);
/* The same for an object about to get a handle (no cr_obj yet). */
void cr_view_stat_of(enum cr_kind kind, const uint8_t *hash_prefix, size_t content_len,
		     const struct stat *lst, struct stat *out);
/* Is the plaintext path rel (below the root), or a directory above it, left out of the view? */
bool cr_excluded(const struct export *ex, const char *rel);
/* Is the entry name of the shown directory dir_rel left out? */
bool cr_excluded_child(const struct export *ex, const char *dir_rel, const char *name);
/* The IVs of a regular file's content (its cipher path, or its inode if hard-linked). */
int cr_file_ivs(struct export *ex, struct cr_obj *o, struct crypt_file_ivs *ivs);

/* ---- cr_export.c ---- */
void cr_shutdown(struct export *ex);

#endif
