/*
 * Passthrough handles: what the payload holds, how an object is found
 * again from it, and the proof that it still lies inside the export.
 *
 * Payload (big-endian), an object on the export's own mount, 9 + khlen bytes:
 *   0      kernel handle type (name_to_handle_at; never 0xff)
 *   1..8   inode number
 *   9..    kernel handle (inode + generation, as the filesystem encodes it)
 * An object on a filesystem mounted below the export (crossmnt), 14 + khlen:
 *   0      0xff
 *   1..4   the submount's tag (pt_mount.c: its mount point and identity)
 *   5      kernel handle type
 *   6..13  inode number
 *   14..   kernel handle (at most PT_SUB_KH_MAX bytes; longer: none, search)
 *
 * Resolution opens the kernel handle (open_by_handle_at on a descriptor of
 * the object's own filesystem, as root) or, run unprivileged, searches
 * that filesystem from its root for the inode. Either way the object must
 * prove it is inside the export (obj_inside_export); a fanotify epoch
 * (fs_watch.c) lets a cached object of the export's own mount keep its
 * proof while nothing on the filesystem was renamed or removed.
 */
#define _GNU_SOURCE
#include "backend.h"
#include "cred.h"
#include "fs.h"
#include "fs_watch.h"
#include "log.h"
#include "objcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PT_HDR 9
#define PT_SUB_MARK 0xff /* FILEID_INVALID: no filesystem's kernel handle type */
#define PT_SUB_HDR 14
#define ANCESTRY_MAX_DEPTH 4096
#define SEARCH_MAX_ENTRIES (4u << 20)

/* A cached passthrough object. */
struct pt_ent {
	struct oc_ent oc;
	int fd;	   /* O_PATH */
	dev_t dev; /* identity, immutable */
	ino_t ino;
	uint32_t fs_tag; /* the filesystem it is on (0: the export's own mount), from its payload */
	/* Lazily opened read/write descriptor for regular files (READ/WRITE). */
	pthread_mutex_t io_lock;
	/*
	 * Buffered writes to a file, and name changes in a directory, serialise
	 * on the inode lock in the kernel, where waiters spin (a core lost on a
	 * small machine): they queue here instead, asleep.
	 */
	pthread_mutex_t write_lock;
	int io_fd;
	int io_fd_old; /* a read-only fd replaced by a read-write one; closed with the entry */
	int io_flags;
	/* fs_watch epoch at which the object was last proven inside the export; 0: never */
	atomic_uint_fast64_t verified;
};

static struct pt_ent *ent_of(const struct vfs_obj *obj)
{
	return (struct pt_ent *)obj->ent;
}

/* ---- the payload ---- */

void pt_kernel_handle_mnt(int dirfd, const char *name, struct pt_kh *kh, int *mnt_id)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} k;
	kh->len = 0;
	kh->type = 0;
	*mnt_id = -1;
	k.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(dirfd, name, &k.fh, mnt_id, name[0] ? 0 : AT_EMPTY_PATH) < 0) {
		*mnt_id = -1;
		return; /* no export support on this fs; resolution falls back to searching */
	}
	if (k.fh.handle_bytes <= PT_KH_MAX && k.fh.handle_type >= 0 &&
	    k.fh.handle_type < PT_SUB_MARK) {
		kh->len = k.fh.handle_bytes;
		kh->type = (uint32_t)k.fh.handle_type;
		memcpy(kh->bytes, k.fh.f_handle, kh->len);
	}
}

void pt_kernel_handle(int dirfd, const char *name, struct pt_kh *kh)
{
	int mnt_id;
	pt_kernel_handle_mnt(dirfd, name, kh, &mnt_id);
}

void pt_encode(const struct export *ex, uint32_t fs_tag, const struct stat *st,
	       const struct pt_kh *kh, struct fh_buf *out)
{
	uint8_t p[FH_PAYLOAD_MAX];
	if (!fs_tag) {
		/* Byte for byte the layout before submounts had handles: those stay valid. */
		p[0] = (uint8_t)kh->type;
		fh_put_be64(p + 1, (uint64_t)st->st_ino);
		memcpy(p + PT_HDR, kh->bytes, kh->len);
		vfs_make_fh(ex, st->st_mode, p, PT_HDR + kh->len, out);
		return;
	}
	unsigned khlen = kh->len <= PT_SUB_KH_MAX ? kh->len : 0;
	p[0] = PT_SUB_MARK;
	fh_put_be32(p + 1, fs_tag);
	p[5] = khlen ? (uint8_t)kh->type : 0;
	fh_put_be64(p + 6, (uint64_t)st->st_ino);
	memcpy(p + PT_SUB_HDR, kh->bytes, khlen);
	vfs_make_fh(ex, st->st_mode, p, PT_SUB_HDR + khlen, out);
}

void pt_make_fh(const struct export *ex, int dirfd, const char *name, const struct stat *st,
		struct fh_buf *out)
{
	struct pt_kh kh;
	pt_kernel_handle(dirfd, name, &kh);
	pt_encode(ex, 0, st, &kh, out);
}

/* A payload taken apart. */
struct payload {
	uint32_t fs_tag; /* 0: the export's own mount */
	uint8_t khtype;
	uint64_t ino;
	const uint8_t *kh;
	unsigned khlen;
};

static bool payload_parse(const uint8_t *p, unsigned len, struct payload *out)
{
	if (len < PT_HDR)
		return false;
	if (p[0] != PT_SUB_MARK) {
		*out = (struct payload){ 0, p[0], fh_get_be64(p + 1), p + PT_HDR, len - PT_HDR };
		return true;
	}
	if (len < PT_SUB_HDR || fh_get_be32(p + 1) == 0)
		return false;
	*out = (struct payload){ fh_get_be32(p + 1), p[5], fh_get_be64(p + 6), p + PT_SUB_HDR,
				 len - PT_SUB_HDR };
	return true;
}

/* The kernel handle an object of fs_tag has in its payload: none when it does not fit. */
static unsigned payload_khlen(uint32_t fs_tag, const struct pt_kh *kh)
{
	return fs_tag && kh->len > PT_SUB_KH_MAX ? 0 : kh->len;
}

/* ---- cache entries ---- */

static void ent_free(struct oc_ent *oc)
{
	struct pt_ent *o = (struct pt_ent *)oc;
	if (o->io_fd >= 0)
		close(o->io_fd);
	if (o->io_fd_old >= 0)
		close(o->io_fd_old);
	close(o->fd);
	pthread_mutex_destroy(&o->io_lock);
	pthread_mutex_destroy(&o->write_lock);
	free(o);
}

static bool ent_gone(struct oc_ent *oc)
{
	struct stat st;
	return fstat(((struct pt_ent *)oc)->fd, &st) < 0 || st.st_nlink == 0;
}

/* Both I/O descriptors in one token: descriptors are non-negative ints. */
static uint64_t ent_idle_detach(struct oc_ent *oc)
{
	struct pt_ent *o = (struct pt_ent *)oc;
	if (o->io_fd < 0)
		return 0;
	uint64_t token = (uint64_t)(uint32_t)(o->io_fd + 1) << 32 | (uint32_t)(o->io_fd_old + 1);
	o->io_fd = o->io_fd_old = -1;
	return token;
}

static void ent_idle_release(uint64_t token)
{
	int fd = (int)(token >> 32) - 1, old = (int)(uint32_t)token - 1;
	if (fd >= 0)
		close(fd);
	if (old >= 0)
		close(old);
}

static const struct oc_class pt_class = {
	.free = ent_free,
	.gone = ent_gone,
	.idle_detach = ent_idle_detach,
	.idle_release = ent_idle_release,
};

static struct pt_ent *ent_new(struct export *ex, int fd, const struct stat *st,
			      const uint8_t *payload, unsigned len)
{
	struct pt_ent *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	oc_ent_init(&o->oc, &pt_class, ex->id, (uint64_t)st->st_ino, payload, len);
	struct payload pl;
	o->fs_tag = payload_parse(payload, len, &pl) ? pl.fs_tag : 0;
	o->fd = fd;
	o->io_fd = -1;
	o->io_fd_old = -1;
	o->dev = st->st_dev;
	o->ino = st->st_ino;
	pthread_mutex_init(&o->io_lock, NULL);
	pthread_mutex_init(&o->write_lock, NULL);
	return o;
}

struct forget_arg {
	dev_t dev;
	ino_t ino;
};

static bool forget_match(struct oc_ent *oc, void *argp)
{
	const struct forget_arg *a = argp;
	const struct pt_ent *o = (const struct pt_ent *)oc;
	return o->ino == a->ino && o->dev == a->dev;
}

void pt_forget(struct export *ex, dev_t dev, ino_t ino)
{
	struct forget_arg a = { dev, ino };
	oc_forget(ex->id, (uint64_t)ino, forget_match, &a);
	fs_readdir_forget(dev, ino);
}

/* ---- the proof that an object is inside the export ---- */

static bool same_obj(const struct stat *a, dev_t dev, ino_t ino)
{
	return a->st_dev == dev && a->st_ino == ino;
}

/*
 * A directory is inside the export when walking ".." reaches the export root
 * before the filesystem root. This catches directories moved out of the
 * export after their handle was issued. The walk may pass mount points: up
 * out of a submount's root, or down onto the root of a mount covering a
 * parent (the kernel's ".." steps into mounts); either way it goes on up.
 */
static bool dir_inside_export(const struct export *ex, int fd)
{
	const struct pt_export *pe = pt_export(ex);
	int cur = dup(fd);
	bool inside = false;
	for (int depth = 0; cur >= 0 && depth < ANCESTRY_MAX_DEPTH; depth++) {
		struct stat st;
		if (fstat(cur, &st) < 0)
			break;
		if (same_obj(&st, ex->dev, pe->root_ino)) {
			inside = true;
			break;
		}
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		struct stat ust;
		if (up < 0 || fstat(up, &ust) < 0 || same_obj(&ust, st.st_dev, st.st_ino)) {
			if (up >= 0)
				close(up);
			break; /* reached the filesystem root */
		}
		close(cur);
		cur = up;
	}
	if (cur >= 0)
		close(cur);
	return inside;
}

/* The filesystem an object is on: where to search it from, and how to open it by handle. */
struct fs_root {
	int fd; /* O_PATH: the export root, or a submount's root */
	dev_t dev;
	ino_t ino;
	int mnt_id;
	int handle_fd; /* a descriptor on that mount open_by_handle_at accepts, or -1 */
	bool owned;    /* a submount's: opened for this resolve, closed after */
};

/* As the server. */
static int fs_root_open(const struct export *ex, uint32_t fs_tag, struct fs_root *r)
{
	const struct pt_export *pe = pt_export(ex);
	if (!fs_tag) {
		*r = (struct fs_root){ pe->root_fd, ex->dev,	  pe->root_ino,
				       pe->mnt_id,  pe->mount_fd, false };
		return 0;
	}
	struct stat st;
	int fd = pt_sub_open_root(ex, fs_tag, &st);
	if (fd < 0)
		return fd;
	*r = (struct fs_root){ fd, st.st_dev, st.st_ino, pt_mnt_id(fd), -1, true };
	if (S_ISDIR(st.st_mode)) {
		int hfd = fs_reopen(fd, O_RDONLY | O_DIRECTORY);
		r->handle_fd = hfd >= 0 ? hfd : -1;
	}
	return 0;
}

static void fs_root_close(struct fs_root *r)
{
	if (!r->owned)
		return;
	close(r->fd);
	if (r->handle_fd >= 0)
		close(r->handle_fd);
}

struct search {
	dev_t dev;
	int mnt_id;
	uint32_t fs_tag;
	uint64_t ino;
	const uint8_t *kh;
	unsigned khlen;
	unsigned long visited;
	int found_fd;
};

static struct search search_for(const struct fs_root *r, const struct payload *pl)
{
	return (struct search){ r->dev, r->mnt_id, pl->fs_tag, pl->ino, pl->kh, pl->khlen, 0, -1 };
}

static bool search_match(struct search *s, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) == 0 && same_obj(&st, s->dev, s->ino)) {
		struct pt_kh kh;
		pt_kernel_handle(fd, "", &kh);
		unsigned khlen = payload_khlen(s->fs_tag, &kh);
		if (khlen == s->khlen && memcmp(kh.bytes, s->kh, khlen) == 0) {
			s->found_fd = fd;
			return true;
		}
	}
	close(fd);
	return false;
}

/* Only directories of the same mount: a search never wanders onto another filesystem. */
static bool search_descends(const struct search *s, int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == s->dev && pt_mnt_id(fd) == s->mnt_id;
}

/* Depth-first walk of a filesystem for an inode: the fallback without open_by_handle_at. */
static bool search_dir(struct search *s, int dirfd, int depth)
{
	if (depth > 256)
		return false;
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)) && s->visited++ < SEARCH_MAX_ENTRIES) {
		if (vfs_is_dot_or_dotdot(de->d_name, strlen(de->d_name)))
			continue;
		if (de->d_ino == s->ino && search_match(s, dfd, de->d_name)) {
			found = true;
			break;
		}
		if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
			int sub = openat(dfd, de->d_name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			if (search_descends(s, sub))
				found = search_dir(s, sub, depth + 1);
			close(sub);
		}
	}
	closedir(d);
	return found;
}

static int open_by_kernel_handle(int mount_fd, const struct payload *pl)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + PT_KH_MAX];
	} k;
	k.fh.handle_bytes = pl->khlen;
	k.fh.handle_type = pl->khtype;
	memcpy(k.fh.f_handle, pl->kh, pl->khlen);
	int fd = open_by_handle_at(mount_fd, &k.fh, O_PATH | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

enum where {
	INSIDE,
	OUTSIDE,
	UNKNOWN
};

/*
 * Where is the object behind fd now? The kernel keeps the path of an open
 * dentry current across renames, so /proc/self/fd tells whether it still
 * lies under the export root, whoever moved it. UNKNOWN when the dentry is
 * not connected to a path (or /proc is missing): the caller must search.
 */
static enum where obj_where(const struct export *ex, int fd)
{
	char path[PATH_MAX];
	ssize_t n = fs_fd_path(fd, path, sizeof(path) - 1);
	if (n <= 0 || path[0] != '/')
		return UNKNOWN;
	path[n] = '\0';
	static const char deleted[] = " (deleted)";
	size_t dl = sizeof(deleted) - 1;
	/* Unlinked under this name: maybe still linked elsewhere; look again. */
	if ((size_t)n > dl && strcmp(path + n - dl, deleted) == 0)
		return UNKNOWN;
	size_t pl = strlen(ex->path);
	if (pl == 1)
		return INSIDE; /* the export is "/" */
	if (strncmp(path, ex->path, pl) == 0 && (path[pl] == '\0' || path[pl] == '/'))
		return INSIDE;
	return OUTSIDE;
}

/*
 * Decide whether fd (the object of payload pl, on filesystem r) is inside
 * the export. Files can sit outside under one name and inside under another
 * (hard links), or be reachable only through a dentry with no path: those
 * are searched for by name from their filesystem's root, and *fd is
 * replaced with the descriptor found.
 */
static bool obj_inside_export(const struct export *ex, const struct fs_root *r,
			      const struct payload *pl, int *fd, bool is_dir)
{
	enum where w = obj_where(ex, *fd);
	if (w == INSIDE)
		return true;
	if (is_dir) {
		/* A directory has one place: "..", walked to the root, is the truth. */
		return w == UNKNOWN && dir_inside_export(ex, *fd);
	}
	struct search s = search_for(r, pl);
	cred_escalate();
	bool found = search_dir(&s, r->fd, 0);
	cred_restore();
	if (!found)
		return false;
	close(*fd);
	*fd = s.found_fd;
	return true;
}

/* Open the object pl names on filesystem r: its root, by kernel handle, or by a search. */
static int open_on_fs(const struct fs_root *r, const struct payload *pl)
{
	if (pl->ino == r->ino) {
		int fd = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
		return fd >= 0 ? fd : -errno;
	}
	if (pl->khlen > 0 && cred_server_is_root() && r->handle_fd >= 0) {
		int fd = open_by_kernel_handle(r->handle_fd, pl);
		/*
		 * ENOMEM here is transient more often than not: the inode of a
		 * just-removed file being evicted while we look it up. Look once
		 * more before telling the client to retry (JUKEBOX).
		 */
		if (fd == -ENOMEM) {
			sched_yield();
			fd = open_by_kernel_handle(r->handle_fd, pl);
		}
		return fd;
	}
	struct search s = search_for(r, pl);
	return search_dir(&s, r->fd, 0) ? s.found_fd : -ESTALE;
}

/* Find the object a verified payload names, without the cache. */
static int open_uncached(const struct export *ex, const struct payload *pl, int *out_fd)
{
	struct fs_root r;
	cred_escalate();
	int rc = fs_root_open(ex, pl->fs_tag, &r);
	if (rc != 0) {
		cred_restore();
		return -ESTALE; /* a submount no longer there (or another filesystem in its place) */
	}
	int fd = open_on_fs(&r, pl);
	struct stat sb;
	if (fd < 0) {
		rc = fd == -ENOMEM ? -EJUKEBOX : -ESTALE;
	} else if (fstat(fd, &sb) < 0 || !same_obj(&sb, r.dev, (ino_t)pl->ino) ||
		   sb.st_nlink == 0) {
		rc = -ESTALE;
	} else if (!obj_inside_export(ex, &r, pl, &fd, S_ISDIR(sb.st_mode))) {
		log_info("handle names an object outside export %s: stale", ex->path);
		rc = -ESTALE;
	}
	fs_root_close(&r);
	cred_restore();
	if (rc != 0 && fd >= 0)
		close(fd);
	else
		*out_fd = fd;
	return rc;
}

/*
 * Only objects of the export's own mount: the watch sees renames on its
 * filesystem, not on submounts, nor mounts and unmounts (which move objects
 * on a submount, even one of the same filesystem, out of the export).
 */
static bool epoch_tracks(bool watched, const struct export *ex, uint32_t fs_tag, dev_t dev)
{
	return watched && fs_tag == 0 && dev == ex->dev;
}

/* A cached entry still good to use: alive, and inside (by the epoch or by /proc). */
static bool cached_usable(const struct export *ex, struct pt_ent *o, bool watched, uint64_t epoch,
			  struct vfs_obj *out, bool *alive)
{
	*alive = fstat(o->fd, &out->st) == 0 && out->st.st_nlink > 0;
	bool tracked = epoch_tracks(watched, ex, o->fs_tag, o->dev);
	bool proven = tracked && atomic_load(&o->verified) == epoch;
	if (!*alive || !(proven || obj_where(ex, o->fd) == INSIDE))
		return false;
	if (tracked) {
		atomic_store(&o->verified, epoch);
		out->be.pt.proven_epoch = epoch;
	}
	return true;
}

static void fill_obj(struct export *ex, struct pt_ent *o, struct vfs_obj *out)
{
	out->ex = ex;
	out->ent = &o->oc;
	out->be.pt.fd = o->fd;
	out->be.pt.fs_tag = o->fs_tag;
	out->is_root = o->fs_tag == 0 && o->ino == pt_export(ex)->root_ino && o->dev == ex->dev;
}

int pt_resolve(struct export *ex, const uint8_t *p, unsigned len, bool cached_only,
	       struct vfs_obj *out)
{
	struct payload pl;
	if (!payload_parse(p, len, &pl))
		return -EBADHANDLE;
	/* Read now, not when the export opened: the export's options may change while it runs. */
	if (pl.fs_tag && !ex->crossmnt)
		return -ESTALE;
	out->be.pt.proven_epoch = 0;

	/* Read before any check, so a rename during the check makes it stale. */
	uint64_t epoch = 0;
	bool watched = fs_watch_epoch(pt_export(ex)->watch, &epoch);
	struct pt_ent *o = (struct pt_ent *)oc_lookup(ex->id, pl.ino, p, len);
	if (o) {
		bool alive;
		if (cached_usable(ex, o, watched, epoch, out, &alive)) {
			fill_obj(ex, o, out);
			return 0;
		}
		if (cached_only) {
			oc_put(&o->oc);
			return -EVFS_NEED_WORKER;
		}
		/*
		 * Gone, or moved where the cached descriptor no longer proves it is
		 * inside: forget it and look again from the handle.
		 */
		oc_unhash(&o->oc);
		oc_put(&o->oc);
		if (!alive)
			return -ESTALE;
	} else if (cached_only) {
		return -EVFS_NEED_WORKER;
	}

	int fd;
	int rc = open_uncached(ex, &pl, &fd);
	if (rc != 0)
		return rc;
	if (fstat(fd, &out->st) < 0) {
		close(fd);
		return -ESTALE;
	}
	o = ent_new(ex, fd, &out->st, p, len);
	if (!o) {
		close(fd);
		return -EJUKEBOX;
	}
	if (epoch_tracks(watched, ex, o->fs_tag, o->dev)) {
		atomic_store(&o->verified, epoch); /* open_uncached proved it inside */
		out->be.pt.proven_epoch = epoch;
	}
	o = (struct pt_ent *)oc_insert(&o->oc);
	fill_obj(ex, o, out);
	return 0;
}

void pt_release(struct vfs_obj *obj)
{
	oc_put(obj->ent);
}

/*
 * A name opened in a directory proven inside at epoch E is inside too, as
 * long as nothing was renamed or removed since E was read: then the
 * directory was still inside when the name was looked up in it.
 */
static uint64_t adopted_epoch(const struct vfs_obj *dir, uint32_t fs_tag, const struct stat *st)
{
	uint64_t now;
	uint64_t proven = dir->be.pt.proven_epoch;
	if (!proven || !fs_watch_epoch(pt_export(dir->ex)->watch, &now))
		return 0;
	return now == proven && epoch_tracks(true, dir->ex, fs_tag, st->st_dev) ? now : 0;
}

static void adopt_io_fd(struct pt_ent *o, int io_fd)
{
	pthread_mutex_lock(&o->io_lock);
	if (o->io_fd < 0) {
		o->io_fd = io_fd;
		o->io_flags = O_RDWR;
		io_fd = -1;
	}
	pthread_mutex_unlock(&o->io_lock);
	if (io_fd >= 0)
		close(io_fd);
}

void pt_adopt(const struct vfs_obj *dir, int fd, int io_fd, const struct stat *st,
	      const struct fh_buf *fh)
{
	struct export *ex = dir->ex;
	const uint8_t *p = fh->data + FH_HDR;
	unsigned len = fh->len - FH_HDR;
	struct payload pl;
	uint32_t fs_tag = payload_parse(p, len, &pl) ? pl.fs_tag : 0;
	uint64_t epoch = adopted_epoch(dir, fs_tag, st);
	struct pt_ent *o = (struct pt_ent *)oc_lookup(ex->id, (uint64_t)st->st_ino, p, len);
	if (o) {
		close(fd);
	} else {
		o = ent_new(ex, fd, st, p, len);
		if (!o) {
			close(fd);
			if (io_fd >= 0)
				close(io_fd);
			return;
		}
		o = (struct pt_ent *)oc_insert(&o->oc);
	}
	if (epoch)
		atomic_store(&o->verified, epoch);
	if (io_fd >= 0)
		adopt_io_fd(o, io_fd);
	oc_put(&o->oc);
}

/* ---- I/O descriptors and write turns ---- */

int pt_io_fd(struct vfs_obj *view, bool write)
{
	struct pt_ent *obj = ent_of(view);
	int want = write ? O_RDWR : O_RDONLY;
	pthread_mutex_lock(&obj->io_lock);
	if (obj->io_fd >= 0 && (obj->io_flags == O_RDWR || obj->io_flags == want)) {
		int fd = obj->io_fd;
		pthread_mutex_unlock(&obj->io_lock);
		return fd;
	}
	/*
	 * Reopen the O_PATH descriptor through /proc: no name lookup, so it is
	 * the same inode. Opened as the server; callers check the caller's access.
	 */
	cred_escalate();
	int fd = fs_reopen(obj->fd, O_RDWR | O_NOCTTY);
	int flags = O_RDWR;
	if (fd < 0 && !write) {
		fd = fs_reopen(obj->fd, O_RDONLY | O_NOCTTY);
		flags = O_RDONLY;
	}
	cred_restore();
	if (fd < 0) {
		pthread_mutex_unlock(&obj->io_lock);
		return fd;
	}
	if (obj->io_fd >= 0) {
		/* Another request may be reading through it right now. */
		if (obj->io_fd_old >= 0)
			close(obj->io_fd_old);
		obj->io_fd_old = obj->io_fd;
	}
	obj->io_fd = fd;
	obj->io_flags = flags;
	pthread_mutex_unlock(&obj->io_lock);
	return fd;
}

void pt_write_lock(struct vfs_obj *obj)
{
	pthread_mutex_lock(&ent_of(obj)->write_lock);
}

void pt_write_unlock(struct vfs_obj *obj)
{
	pthread_mutex_unlock(&ent_of(obj)->write_lock);
}

/* Both, in a fixed order (rename across directories); once when the same. */
void pt_write_lock2(struct vfs_obj *a, struct vfs_obj *b)
{
	if (a->ent == b->ent) {
		pt_write_lock(a);
		return;
	}
	bool a_first = (uintptr_t)a->ent < (uintptr_t)b->ent;
	pt_write_lock(a_first ? a : b);
	pt_write_lock(a_first ? b : a);
}

void pt_write_unlock2(struct vfs_obj *a, struct vfs_obj *b)
{
	pt_write_unlock(a);
	if (a->ent != b->ent)
		pt_write_unlock(b);
}
