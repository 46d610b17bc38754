/*
 * The backend interface: what the protocol front ends (NFSv3, MOUNT, and
 * later NFSv4.1) reach the filesystem through. Each export has a backend, a
 * table of operations on objects, in the spirit of nfs-ganesha's FSAL
 * obj_ops: the passthrough backend (a local directory) and the pseudo
 * backend (the synthesized root over several exports), and the encrypted
 * view (gocryptfs -reverse's format) stacked on passthrough.
 *
 * Operations return 0 (or a count) or -errno. Results with no userspace
 * errno use the kernel's own internal codes, as knfsd does (EBADHANDLE...).
 * Attributes are a struct stat. Every operation runs with the identity the
 * request switched to (cred.h), so a backend backed by a filesystem lets
 * the kernel check permissions as the caller.
 */
#ifndef LOOPNFS_VFS_H
#define LOOPNFS_VFS_H

#include "export.h"
#include "fh.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* The kernel's internal NFS errnos (include/linux/errno.h), for what POSIX has no name for. */
#ifndef EBADHANDLE
#define EBADHANDLE 521 /* not a handle this server issued */
#endif
#ifndef EBADCOOKIE
#define EBADCOOKIE 523
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif
#ifndef ETOOSMALL
#define ETOOSMALL 525 /* a READDIR reply budget too small for one entry */
#endif
#ifndef EJUKEBOX
#define EJUKEBOX 528 /* try again later */
#endif
/* Resolution on the event thread found no cached object: run the call on a worker. */
#define EVFS_NEED_WORKER 4096

/* Object types, numbered as NFSv3's ftype3 (RFC 1813 2.5). */
enum vfs_type {
	VFS_REG = 1,
	VFS_DIR = 2,
	VFS_BLK = 3,
	VFS_CHR = 4,
	VFS_LNK = 5,
	VFS_SOCK = 6,
	VFS_FIFO = 7,
};
/* The one mode -> type mapping. */
enum vfs_type vfs_type_of(mode_t mode);
/* "." or "..": the one test for both. */
bool vfs_is_dot_or_dotdot(const char *name, size_t len);
bool vfs_is_dotdot(const char *name, size_t len);

struct oc_ent;
struct cr_obj;

/*
 * One request's view of a resolved object: its own fresh stat, so
 * concurrent requests on one object never share mutable attributes.
 */
struct vfs_obj {
	struct export *ex;
	const struct export_view *view; /* what the client may see (the pseudo root lists that) */
	struct stat st;
	bool is_root;	    /* the root of its export */
	struct oc_ent *ent; /* the shared cache entry behind it, or NULL */
	union {		    /* the backend's own */
		struct {
			int fd;		       /* O_PATH, owned by the cache entry */
			uint64_t proven_epoch; /* fanotify epoch it was proven inside at; 0: none */
			uint32_t fs_tag; /* the filesystem it is on: 0 the export's own mount */
		} pt;
		struct {
			unsigned node;
		} ps;
		struct {
			struct cr_obj
				*o; /* the plaintext object behind it and what it is in the view */
		} cr;
	} be;
};

enum vfs_stable {
	VFS_UNSTABLE,
	VFS_DATA_SYNC,
	VFS_FILE_SYNC,
};

/* What SETATTR asks for; applied in the order that keeps each field as asked. */
#define VFS_SET_SIZE 1u
#define VFS_SET_UID 2u
#define VFS_SET_GID 4u
#define VFS_SET_MODE 8u
#define VFS_SET_ATIME 16u
#define VFS_SET_MTIME 32u
struct vfs_sattr {
	unsigned mask;
	uint64_t size;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	struct timespec atime, mtime; /* tv_nsec UTIME_NOW: the server's time */
};

struct vfs_statfs {
	uint64_t tbytes, fbytes, abytes;
	uint64_t tfiles, ffiles, afiles;
	uint32_t linkmax;
};

/* What a backend can do at all (FSINFO properties), fixed per backend. */
#define VFS_CAN_LINK 1u
#define VFS_CAN_SYMLINK 2u
#define VFS_CAN_SETTIME 4u

/* A new object's handle and attributes, as the operations that make or find one return them. */
struct vfs_new {
	struct export
		*ex; /* the export it belongs to (an export root, found from the root above) */
	struct fh_buf fh;
	struct stat st;
};

struct vfs_dirent {
	const char *name;
	size_t namelen;
	uint64_t fileid;
	uint64_t cookie; /* the directory position after this entry */
	/*
	 * READDIRPLUS: the entry's attributes and handle, asked for only once
	 * the entry fits the reply. -errno if it vanished meanwhile.
	 */
	int (*attrs)(const struct vfs_dirent *de, struct vfs_new *out);
	void *priv; /* the backend's */
};
/* Called per entry; false stops the listing (the entry is then not consumed). */
typedef bool (*vfs_dirent_fn)(void *ctx, const struct vfs_dirent *de);

struct vfs_ops {
	const char *name;
	uint8_t handle_kind; /* enum fh_backend: which payloads are this backend's */
	unsigned caps;	     /* VFS_CAN_* */
	/* The object a handle payload names. cached_only: -EVFS_NEED_WORKER if not cached. */
	int (*resolve)(struct export *ex, const uint8_t *payload, unsigned len, bool cached_only,
		       struct vfs_obj *out);
	void (*release)(struct vfs_obj *obj);
	/* The export's root (MOUNT), or a directory below it by path (never leaving it). */
	int (*root)(struct export *ex, struct vfs_new *out);
	int (*lookup_path)(struct export *ex, const char *subpath, struct vfs_new *out);
	int (*getattr)(struct vfs_obj *obj, struct stat *st);
	/* A name in dir, "." and ".." included (".." of the export root: vfs_lookup answers). */
	int (*lookup)(struct vfs_obj *dir, const char *name, struct vfs_new *out);
	/* R_OK, W_OK, X_OK as the current identity: 0 or -EACCES. */
	int (*access)(struct vfs_obj *obj, int mode);
	int (*readlink)(struct vfs_obj *obj, char *buf, size_t len);
	ssize_t (*read)(struct vfs_obj *obj, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct vfs_obj *obj, const void *buf, size_t len, uint64_t off,
			 enum vfs_stable how);
	int (*commit)(struct vfs_obj *obj);
	int (*setattr)(struct vfs_obj *obj, const struct vfs_sattr *sa);
	/* A new regular file, never over an existing name (-EEXIST). */
	int (*create)(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out);
	int (*mkdir)(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out);
	int (*symlink)(struct vfs_obj *dir, const char *name, const char *target,
		       struct vfs_new *out);
	/* FIFO, socket or device: mode carries the type. */
	int (*mknod)(struct vfs_obj *dir, const char *name, mode_t mode, dev_t rdev,
		     struct vfs_new *out);
	int (*remove)(struct vfs_obj *dir, const char *name, bool isdir);
	int (*rename)(struct vfs_obj *from, const char *fname, struct vfs_obj *to,
		      const char *tname);
	int (*link)(struct vfs_obj *obj, struct vfs_obj *dir, const char *name);
	/*
	 * List dir from cookie (0: the start). want: about how many bytes of
	 * entries the caller expects to take. plus: entries' attributes will be
	 * asked for (vfs_dirent.attrs).
	 */
	int (*readdir)(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus,
		       vfs_dirent_fn fn, void *ctx, bool *eof);
	int (*statfs)(struct vfs_obj *obj, struct vfs_statfs *out);
	/*
	 * The fsid attributes give an object with attributes st (optional:
	 * NULL means ex->fsid for every object of the export).
	 */
	uint64_t (*fsid)(const struct export *ex, const struct stat *st);
	/* Release what the export holds (descriptors, cached objects). */
	void (*shutdown)(struct export *ex);
	/*
	 * Optional: a descriptor of the file (O_PATH is enough, owned by obj)
	 * that NFSv4 byte-range locks are mirrored through as OFD locks, so a
	 * process working in the directory sees them; -errno or no member: the
	 * NFSv4 state core's locks alone.
	 */
	int (*lock_fd)(struct vfs_obj *obj);
};

extern const struct vfs_ops passthrough_ops;
extern const struct vfs_ops pseudo_ops;
extern const struct vfs_ops crypt_reverse_ops;

/* ---- the layer the front ends call (server/vfs/vfs.c) ---- */

struct req;

/*
 * Decode, authenticate and resolve a client's handle; fixes the request's
 * export and identity at the first one. 0, -EBADHANDLE, -ESTALE,
 * -EJUKEBOX, or -EVFS_NEED_WORKER on the event thread.
 */
int vfs_resolve(struct req *req, const void *fh, unsigned len, struct vfs_obj **out);
void vfs_put(struct vfs_obj *obj);
/* Re-read obj->st after a change. */
int vfs_refresh(struct vfs_obj *obj);
/* Fresh attributes into st (obj->st untouched). */
int vfs_getattr(struct vfs_obj *obj, struct stat *st);
/* A name in dir, "." and ".." included (".." of an export root: the pseudo root, or itself). */
int vfs_lookup(struct vfs_obj *dir, const char *name, struct vfs_new *out);
/* The same list as the backend's readdir, with ".." of an export root as vfs_lookup has it. */
int vfs_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus, vfs_dirent_fn fn,
		void *ctx, bool *eof);
/* The export's root handle, or the directory MOUNT names below it. */
int vfs_mount_lookup(struct export *ex, const char *subpath, struct vfs_new *out);

/*
 * The server's write verifier, the same for NFSv3 and NFSv4.1 WRITE and
 * COMMIT: new at every start (vfs_write_verf_init), so a client resends
 * what it wrote unstable before a restart.
 */
#define VFS_WRITE_VERF_SIZE 8
void vfs_write_verf_init(void);
void vfs_write_verf(uint8_t out[VFS_WRITE_VERF_SIZE]);

/*
 * May the caller (the thread's identity) read (write) obj through the
 * server's own I/O descriptor? Owner override as knfsd does it: an owner
 * may whatever the mode; execute permission allows reading (clients read
 * executables to run them).
 */
bool vfs_may_io(struct vfs_obj *obj, bool write);

/* The handle of an export's object: the codec with the export's id. */
void vfs_make_fh(const struct export *ex, mode_t mode, const void *payload, unsigned len,
		 struct fh_buf *out);

#endif
