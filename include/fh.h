/*
 * File handles. A handle names an object by its inode and the kernel's own
 * handle for it (name_to_handle_at), so it survives renames and restarts.
 * A keyed SipHash over the handle (key kept in the state directory) makes
 * every handle one this server issued for an object it found inside the
 * export; forged or altered bytes fail with BADHANDLE before any lookup.
 *
 * Resolution returns an fsobj: a cached O_PATH descriptor plus the fresh
 * stat of the object, shared and reference counted.
 */
#ifndef LOOPNFS_FH_H
#define LOOPNFS_FH_H

#include "export.h"
#include "nfs3_prot.h"
#include "req.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define FH_SIZE_MAX 64

struct fh_buf {
	uint8_t data[FH_SIZE_MAX];
	unsigned len;
};

#define FH_HDR 24
#define FH_KH_MAX (FH_SIZE_MAX - FH_HDR)

/* The kernel's own handle of an object (name_to_handle_at); len 0 if none. */
struct fh_kh {
	uint32_t type;
	unsigned len;
	uint8_t bytes[FH_KH_MAX];
};

struct fsent; /* the shared cache entry behind an fsobj (fh.c) */

/*
 * One request's view of a resolved object: its own fresh stat, so
 * concurrent requests on one file never share mutable attributes.
 */
struct fsobj {
	int fd; /* O_PATH, never follows symlinks; owned by the cache */
	struct stat st;
	struct export *ex;
	struct fsent *ent;
	/* Fanotify epoch at which it was proven inside the export; 0 if not by epoch. */
	uint64_t proven_epoch;
};

/* Load (or create) the handle key. Falls back to an ephemeral key with a warning. */
int fh_init(const char *state_dir);
void fh_shutdown(void);

/* Build the handle of the object at (dirfd, name); name "" means dirfd itself. */
int fh_make(struct export *ex, int dirfd, const char *name, const struct stat *st,
	    uint64_t parent_ino, struct fh_buf *out);
/* The two halves of fh_make: ask the kernel, then encode and sign. */
void fh_kernel_handle(int dirfd, const char *name, struct fh_kh *kh);
void fh_encode(struct export *ex, const struct stat *st, const struct fh_kh *kh,
	       struct fh_buf *out);
/*
 * Put an object a procedure just opened by name in dir (LOOKUP, CREATE...)
 * into the cache under its handle, so the client's next call needs no
 * open_by_handle_at, nor a proof that it lies inside the export. Takes
 * ownership of fd, and of io_fd (-1 if none): a descriptor the procedure
 * holds open for I/O too (CREATE), kept as the entry's.
 */
void fh_adopt(const struct fsobj *dir, int fd, int io_fd, const struct stat *st,
	      const struct fh_buf *fh);
/* Handle for an already open object. */
int fh_make_obj(struct fsobj *obj, uint64_t parent_ino, struct fh_buf *out);

/*
 * Decode, authenticate and open a client's handle. Also fixes the request's
 * export and identity. Returns NFS3_OK, NFS3ERR_BADHANDLE, NFS3ERR_STALE...
 */
nfsstat3 fh_resolve(struct req *req, const nfs_fh3 *fh, struct fsobj **out);
/* Resolve the export root. */
nfsstat3 fh_resolve_root(struct req *req, struct export *ex, struct fsobj **out);
/* Re-stat a held object (after a change). */
int fsobj_refresh(struct fsobj *obj);
void fsobj_put(struct fsobj *obj);
/* Drop cached state for an inode that was removed through the server. */
void fh_forget(struct export *ex, dev_t dev, ino_t ino);
/* Close idle I/O descriptors and objects gone from the filesystem. */
void fh_cache_sweep(double idle_seconds);
/* An fd for reading or writing a regular file; opened as root, access is checked by the caller. */
int fsobj_io_fd(struct fsobj *obj, bool write);
/*
 * Writers of one file, and changers of one directory's names, take turns
 * here rather than spinning on the kernel's inode lock.
 */
void fsobj_write_lock(struct fsobj *obj);
void fsobj_write_unlock(struct fsobj *obj);
void fsobj_write_lock2(struct fsobj *a, struct fsobj *b);
void fsobj_write_unlock2(struct fsobj *a, struct fsobj *b);

/* Fill an nfs_fh3 that points into buf (which must outlive the reply encode). */
static inline void fh_to_wire(const struct fh_buf *b, nfs_fh3 *fh)
{
	fh->data.data_len = b->len;
	fh->data.data_val = (char *)b->data;
}

#endif
