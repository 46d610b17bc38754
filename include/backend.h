/*
 * The backends' own state, for the export table that opens them and for
 * the tests that look inside. The protocols never include this.
 */
#ifndef LOOPNFS_BACKEND_H
#define LOOPNFS_BACKEND_H

#include "export.h"
#include "vfs.h"

#include <stdint.h>
#include <sys/types.h>

/* ---- passthrough: a local directory (server/backend/passthrough/) ---- */

struct pt_export {
	int root_fd;  /* O_PATH directory fd every lookup starts from */
	int mount_fd; /* O_RDONLY: open_by_handle_at rejects O_PATH mount fds */
	ino_t root_ino;
	struct fs_watch *watch; /* renames/removals on the export's filesystem, or NULL */
};

/* Open ex->path as a passthrough export: fills ex->dev and ex->be. */
int passthrough_export_open(struct export *ex);

static inline struct pt_export *pt_export(const struct export *ex)
{
	return ex->be;
}

/* The kernel's own handle of an object (name_to_handle_at); len 0 if none. */
#define PT_KH_MAX (FH_PAYLOAD_MAX - 9)
struct pt_kh {
	uint32_t type;
	unsigned len;
	uint8_t bytes[PT_KH_MAX];
};

/* Ask the kernel for the handle of (dirfd, name); name "" means dirfd itself. */
void pt_kernel_handle(int dirfd, const char *name, struct pt_kh *kh);
/* The client handle of an object of ex with attributes st and kernel handle kh. */
void pt_encode(const struct export *ex, const struct stat *st, const struct pt_kh *kh,
	       struct fh_buf *out);
/* Both: the client handle of (dirfd, name). */
void pt_make_fh(const struct export *ex, int dirfd, const char *name, const struct stat *st,
		struct fh_buf *out);
/*
 * Put an object opened by name in dir (LOOKUP, CREATE...) into the cache
 * under its handle, so the client's next call needs no open_by_handle_at,
 * nor a proof that it lies inside the export. Takes fd, and io_fd (-1 if
 * none): a descriptor already open for I/O (CREATE), kept as the entry's.
 */
void pt_adopt(const struct vfs_obj *dir, int fd, int io_fd, const struct stat *st,
	      const struct fh_buf *fh);
/* Drop cached state for an inode removed through the server. */
void pt_forget(struct export *ex, dev_t dev, ino_t ino);
/* A descriptor for reading or writing a regular file; opened as the server. */
int pt_io_fd(struct vfs_obj *obj, bool write);
/*
 * Writers of one file, and changers of one directory's names, take turns
 * here rather than spinning on the kernel's inode lock.
 */
void pt_write_lock(struct vfs_obj *obj);
void pt_write_unlock(struct vfs_obj *obj);
void pt_write_lock2(struct vfs_obj *a, struct vfs_obj *b);
void pt_write_unlock2(struct vfs_obj *a, struct vfs_obj *b);
/* The passthrough's resolve (vfs_ops.resolve). */
int pt_resolve(struct export *ex, const uint8_t *payload, unsigned len, bool cached_only,
	       struct vfs_obj *out);
void pt_release(struct vfs_obj *obj);

/* ---- pseudo: the synthesized root over several exports (server/backend/pseudo/) ---- */

/* Build the root's tree from the exports' names. */
int pseudo_export_open(struct export *root, struct export *const *exports, unsigned n);

#endif
