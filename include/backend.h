/*
 * The backends' own state, for the export table that opens them and for
 * the tests that look inside. The protocols never include this.
 */
#ifndef LOOPNFS_BACKEND_H
#define LOOPNFS_BACKEND_H

#include "crypt.h"
#include "export.h"
#include "vfs.h"

#include <stdint.h>
#include <sys/types.h>

/* ---- passthrough: a local directory (server/backend/passthrough/) ---- */

struct pt_mounts;

struct pt_export {
	int root_fd;  /* O_PATH directory fd every lookup starts from */
	int mount_fd; /* O_RDONLY: open_by_handle_at rejects O_PATH mount fds */
	ino_t root_ino;
	int mnt_id; /* the export's own mount: an object on another is below a mount point */
	struct fs_watch *watch;	  /* renames/removals on the export's filesystem, or NULL */
	struct pt_mounts *mounts; /* filesystems mounted below the export (pt_mount.c), or NULL */
};

/* Open ex->path as a passthrough export: fills ex->dev and ex->be. */
int passthrough_export_open(struct export *ex);

static inline struct pt_export *pt_export(const struct export *ex)
{
	return ex->be;
}

/* The kernel's own handle of an object (name_to_handle_at); len 0 if none. */
#define PT_KH_MAX (FH_PAYLOAD_MAX - 9)
/* On a submount the payload also names the filesystem: 5 bytes less for the kernel's handle. */
#define PT_SUB_KH_MAX (FH_PAYLOAD_MAX - 14)
struct pt_kh {
	uint32_t type;
	unsigned len;
	uint8_t bytes[PT_KH_MAX];
};

/* Ask the kernel for the handle of (dirfd, name); name "" means dirfd itself. */
void pt_kernel_handle(int dirfd, const char *name, struct pt_kh *kh);
/* The same, and the id of the mount the object is on (-1 if the kernel gave no handle). */
void pt_kernel_handle_mnt(int dirfd, const char *name, struct pt_kh *kh, int *mnt_id);
/*
 * The client handle of an object of ex with attributes st and kernel handle
 * kh, on the filesystem fs_tag names (0: the export's own mount).
 */
void pt_encode(const struct export *ex, uint32_t fs_tag, const struct stat *st,
	       const struct pt_kh *kh, struct fh_buf *out);
/* Both: the client handle of (dirfd, name), an object of the export's own mount. */
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

/*
 * ---- passthrough: filesystems mounted below the export (pt_mount.c) ----
 * Without crossmnt a mount point shows as the directory it covers (found in
 * a private, submount-free clone of the export's mount; root only). With
 * crossmnt the server crosses into the mounted filesystem; its objects'
 * handles carry a tag naming it (a hash of the mount point's path below
 * the export and of the filesystem's identity), so they resolve after a
 * restart, and their attributes carry the submount's own fsid.
 */
struct pt_mounts *pt_mounts_new(void);
void pt_mounts_free(struct pt_mounts *m);
/* The id of the mount fd's object is on (statx STATX_MNT_ID), or -1. */
int pt_mnt_id(int fd);

/* An object a name led to, as the export serves it. */
struct pt_found {
	int fd; /* O_PATH; the caller's */
	struct stat st;
	uint32_t fs_tag; /* the filesystem it is on: 0 the export's own mount */
	struct pt_kh kh;
};
/*
 * Open name in directory dirfd (on filesystem dir_tag): on the directory's
 * own mount, the object itself. Across a mount point: the mounted
 * filesystem's root with crossmnt (-EXDEV instead when listing: a listing
 * gives no handle for a mount point it would cross, as knfsd), else the
 * directory the mount covers (as root) or -EACCES (unprivileged, logged
 * once per mount point). ".." never leads down into a mount.
 */
int pt_open_name(const struct export *ex, int dirfd, uint32_t dir_tag, const char *name,
		 bool listing, struct pt_found *out);
/* A directory at a path below the export root, by the same rules (MOUNT); O_PATH fd. */
int pt_open_path(const struct export *ex, const char *path, uint32_t *fs_tag);
/* The root of the submount fs_tag names (O_PATH), found again from the export root. */
int pt_sub_open_root(const struct export *ex, uint32_t fs_tag, struct stat *st);
/* vfs_ops.fsid: the export's fsid on its own filesystem, a submount's own below it. */
uint64_t pt_fsid(const struct export *ex, const struct stat *st);
/*
 * One line of /proc/self/mountinfo: the mount's id and its mount point
 * (unescaped in place). False if the line does not parse.
 */
bool pt_mountinfo_line(char *line, int *mnt_id, char **mount_point);
/* The tag of a submount at relpath (below the export root) with identity id (f_fsid). */
uint32_t pt_sub_tag(const char *relpath, uint64_t id);
/* The fsid of a submount with identity id below export ex_id: never an export's. */
uint64_t pt_sub_fsid(uint32_t ex_id, uint64_t id);

/* The passthrough's resolve (vfs_ops.resolve). */
int pt_resolve(struct export *ex, const uint8_t *payload, unsigned len, bool cached_only,
	       struct vfs_obj *out);
void pt_release(struct vfs_obj *obj);

/* ---- pseudo: the synthesized root over several exports (server/backend/pseudo/) ---- */

/* Build the root's tree from the exports' names. */
int pseudo_export_open(struct export *root, struct export *const *exports, unsigned n);

/* ---- the encrypted view: gocryptfs -reverse's format (server/backend/crypt/) ---- */

struct crypt_export_args {
	struct crypt_pass_opts pass; /* where the passphrase comes from */
	char *const *excludes;	     /* gitignore-style patterns of plaintext paths left out */
	unsigned nexcludes;
};

/*
 * Open ex->path's encrypted view: its .gocryptfs.reverse.conf unlocked
 * (a wrong passphrase: -EACCES), the passthrough export below. Fills
 * ex->dev and ex->be; err says what is wrong.
 */
int crypt_export_open(struct export *ex, const struct crypt_export_args *a, char *err,
		      size_t errlen);

#endif
