/*
 * Filesystems mounted below a passthrough export.
 *
 * The kernel steps into a mount on every lookup of its mount point, so a
 * name whose object lies on another mount than its directory has crossed
 * one. What the export serves there:
 *
 * - Without crossmnt, what knfsd serves: the directory the mount covers.
 *   The kernel shows a covered directory only where nothing is mounted on
 *   it, so the name is looked up again in a clone of the export's own
 *   mount made without its submounts (open_tree(OPEN_TREE_CLONE), no
 *   AT_RECURSIVE; root only), and what is found there is reopened by its
 *   kernel handle on the export's mount: an ordinary object of the export,
 *   whose handle resolves like any other and whose lookups see the covered
 *   directory's own entries (an open covered directory is not a mount point).
 *
 * - With crossmnt, the mounted filesystem. Each submount seen gets an
 *   entry here: a tag (a hash of its mount point below the export root and
 *   of the filesystem's identity, so it is the same after a restart and
 *   differs for another filesystem mounted there), the relative mount
 *   point, and its fsid. Entries come from /proc/self/mountinfo, when a
 *   lookup first lands on a mount, or when a handle names a tag not seen
 *   since the start (the mounts below the export are scanned then). The
 *   table holds no descriptor, so it keeps no filesystem busy: the root of
 *   a submount is opened from the export root again (openat2, beneath, no
 *   symlinks) each time a handle on it is resolved outside the cache.
 */
#define _GNU_SOURCE
#include "backend.h"
#include "cred.h"
#include "fs.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#define SUBS_MAX 4096
#define MOUNTINFO_MAX (64u << 20)

struct sub {
	uint32_t tag;
	int mnt_id; /* as last seen; -1 after the mount table changed, until seen again */
	dev_t dev;
	uint64_t id; /* the filesystem's identity: statfs f_fsid (st_dev where it has none) */
	uint64_t fsid;
	bool warned;   /* "is a mount point" logged (unprivileged, without crossmnt) */
	char *relpath; /* the mount point, below the export root */
};

struct pt_mounts {
	pthread_mutex_t
		scan_lock;    /* one scan of the mounts below the export at a time; then lock */
	pthread_mutex_t lock; /* everything below; a leaf */
	struct sub *subs;
	unsigned n, cap;
	unsigned gen;	      /* counts the changes of the mount table seen */
	unsigned scanned_gen; /* the last one after which every mount below was registered */
	int mountinfo_fd;     /* polled: did any mount come or go since the last look? */
	int tree_fd;	      /* the clone of the export's mount, without submounts, or -1 */
	int clone_fd;	      /* O_RDONLY on the clone's root: open_by_handle_at refuses O_PATH */
	bool clone_failed;
};

struct pt_mounts *pt_mounts_new(void)
{
	struct pt_mounts *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutex_init(&m->scan_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	m->gen = 1;
	m->mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	m->tree_fd = m->clone_fd = -1;
	return m;
}

void pt_mounts_free(struct pt_mounts *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->n; i++)
		free(m->subs[i].relpath);
	free(m->subs);
	if (m->mountinfo_fd >= 0)
		close(m->mountinfo_fd);
	if (m->clone_fd >= 0)
		close(m->clone_fd);
	if (m->tree_fd >= 0)
		close(m->tree_fd);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->scan_lock);
	free(m);
}

int pt_mnt_id(int fd)
{
	struct statx sx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
		return -1;
	return (int)sx.stx_mnt_id;
}

static bool is_mount_root(int fd)
{
	struct statx sx;
	return statx(fd, "", AT_EMPTY_PATH, 0, &sx) == 0 &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* ---- names: tags and fsids ---- */

static uint32_t hash32(const char *salt, const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t h[16];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)salt, strlen(salt) + 1);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, h, sizeof(h));
	return fh_get_be32(h);
}

uint32_t pt_sub_tag(const char *relpath, uint64_t id)
{
	uint8_t idb[8];
	fh_put_be64(idb, id);
	/* The path's NUL ends it: no path and identity run into another pair's. */
	uint32_t tag = hash32("loopnfs submount tag v1", relpath, strlen(relpath) + 1, idb, 8);
	return tag ? tag : 1; /* 0 is the export's own filesystem */
}

uint64_t pt_sub_fsid(uint32_t ex_id, uint64_t id)
{
	uint8_t exb[4], idb[8];
	fh_put_be32(exb, ex_id);
	fh_put_be64(idb, id);
	/* "LNFs": exports' fsids are "LNFS" | id, so no submount's is ever an export's. */
	return (uint64_t)0x4c4e4673u << 32 | hash32("loopnfs submount fsid v1", exb, 4, idb, 8);
}

static uint64_t fs_identity(int fd, dev_t dev)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		return (uint64_t)dev;
	uint64_t id = (uint64_t)(uint32_t)sf.f_fsid.__val[0] << 32 | (uint32_t)sf.f_fsid.__val[1];
	return id ? id : (uint64_t)dev;
}

/* ---- /proc/self/mountinfo ---- */

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* mountinfo writes space, tab, newline and backslash in paths as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (const char *r = s; *r;) {
		if (r[0] == '\\' && is_octal(r[1]) && is_octal(r[2]) && is_octal(r[3])) {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

bool pt_mountinfo_line(char *line, int *mnt_id, char **mount_point)
{
	/* "ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS ..." */
	char *save = NULL, *field[5];
	for (int i = 0; i < 5; i++) {
		field[i] = strtok_r(i ? NULL : line, " ", &save);
		if (!field[i])
			return false;
	}
	char *end;
	errno = 0;
	long id = strtol(field[0], &end, 10);
	if (errno || *end || end == field[0] || id < 0 || id > INT_MAX)
		return false;
	unescape_octal(field[4]);
	*mnt_id = (int)id;
	*mount_point = field[4];
	return field[4][0] == '/';
}

/* All of /proc/self/mountinfo, NUL-terminated, to free; NULL if unreadable. */
static char *mountinfo_read(void)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t n = 0;
	while (buf && (n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap) {
			char *bigger = cap < MOUNTINFO_MAX ? realloc(buf, 2 * cap + 1) : NULL;
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf || n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* The part of mount point mp strictly below the export, or NULL. */
static const char *below_export(const struct export *ex, const char *mp)
{
	size_t n = strlen(ex->path);
	if (n == 1)
		return mp[1] ? mp + 1 : NULL; /* the export is "/" */
	if (strncmp(mp, ex->path, n) != 0 || mp[n] != '/' || !mp[n + 1])
		return NULL;
	return mp + n + 1;
}

/*
 * Has a mount come or gone since anyone last asked? Mount ids are reused,
 * so every entry's id is forgotten then (to be seen again in mountinfo),
 * and the mounts below the export are to be scanned again. m->lock held.
 */
static void note_mount_changes(struct pt_mounts *m)
{
	struct pollfd p = { .fd = m->mountinfo_fd, .events = POLLPRI };
	if (m->mountinfo_fd < 0 || poll(&p, 1, 0) <= 0 || !(p.revents & (POLLPRI | POLLERR)))
		return;
	for (unsigned i = 0; i < m->n; i++)
		m->subs[i].mnt_id = -1;
	m->gen++;
}

/* ---- the table (m->lock held) ---- */

static struct sub *sub_by_tag(struct pt_mounts *m, uint32_t tag)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->subs[i].tag == tag)
			return &m->subs[i];
	return NULL;
}

static struct sub *sub_by_mount(struct pt_mounts *m, int mnt_id, dev_t dev)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->subs[i].mnt_id == mnt_id && m->subs[i].dev == dev)
			return &m->subs[i];
	return NULL;
}

static bool sub_grow(struct pt_mounts *m)
{
	if (m->n < m->cap)
		return true;
	unsigned cap = m->cap ? 2 * m->cap : 8;
	struct sub *subs = cap <= SUBS_MAX ? realloc(m->subs, cap * sizeof(*subs)) : NULL;
	if (!subs)
		return false;
	m->subs = subs;
	m->cap = cap;
	return true;
}

/* Add what was found mounted at relpath, or refresh its entry (remounted); NULL if no room. */
static struct sub *sub_put(const struct export *ex, struct pt_mounts *m, const struct sub *c,
			   const char *relpath)
{
	struct sub *s = sub_by_tag(m, c->tag);
	if (s && strcmp(s->relpath, relpath) != 0) {
		log_warn("%s: the mounts on %s and %s hash to one tag: %s is not crossed into",
			 ex->path, s->relpath, relpath, relpath);
		return NULL;
	}
	if (!s) {
		char *rel = strdup(relpath);
		if (!rel || !sub_grow(m)) {
			free(rel);
			return NULL;
		}
		s = &m->subs[m->n++];
		*s = *c;
		s->relpath = rel;
		s->warned = false;
	}
	s->mnt_id = c->mnt_id;
	s->dev = c->dev;
	return s;
}

/* ---- registering mounts ---- */

/* The mount at relpath from the export root, if walking there reaches mount mnt_id. As the server. */
static bool probe_mount(const struct export *ex, const char *relpath, int mnt_id, struct sub *out)
{
	int fd = fs_open_beneath_how(pt_export(ex)->root_fd, relpath, O_PATH | O_NOFOLLOW,
				     RESOLVE_NO_SYMLINKS);
	struct stat st;
	/* Another mount stacked on top, or one under a covered directory: not reachable by path. */
	bool ok = fd >= 0 && pt_mnt_id(fd) == mnt_id && fstat(fd, &st) == 0;
	if (ok) {
		out->mnt_id = mnt_id;
		out->dev = st.st_dev;
		out->id = fs_identity(fd, st.st_dev);
		out->tag = pt_sub_tag(relpath, out->id);
		out->fsid = pt_sub_fsid(ex->id, out->id);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Register the mounts below the export that mountinfo lists: only the one
 * with id want, or all of them (want < 0). Returns the tag registered for
 * want (0 if none).
 */
static uint32_t register_mounts(const struct export *ex, int want)
{
	struct pt_mounts *m = pt_export(ex)->mounts;
	char *mi = mountinfo_read();
	if (!mi)
		return 0;
	uint32_t tag = 0;
	char *save = NULL;
	cred_escalate(); /* the walk to a mount point needs search permission on the way */
	for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id;
		char *mp;
		const char *rel;
		struct sub c;
		if (!pt_mountinfo_line(line, &id, &mp) || (want >= 0 && id != want) ||
		    !(rel = below_export(ex, mp)) || !probe_mount(ex, rel, id, &c))
			continue;
		pthread_mutex_lock(&m->lock);
		struct sub *s = sub_put(ex, m, &c, rel);
		if (s && id == want)
			tag = s->tag;
		pthread_mutex_unlock(&m->lock);
		if (s)
			log_debug("%s: %s is a submount (tag %08x, mount %d)", ex->path, rel, c.tag,
				  id);
	}
	cred_restore();
	free(mi);
	return tag;
}

/*
 * The filesystem an object of mount mnt_id (on device dev) is on: 0 for
 * the export's own mount, else the tag of a submount, registered on first
 * sight. False when it is none the export can name by a path (hidden
 * under another mount, or not below the export at all).
 */
static bool fs_of_mount(const struct export *ex, int mnt_id, dev_t dev, uint32_t *tag)
{
	const struct pt_export *pe = pt_export(ex);
	if (mnt_id == pe->mnt_id) {
		*tag = 0;
		return true;
	}
	struct pt_mounts *m = pe->mounts;
	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	note_mount_changes(m);
	struct sub *s = sub_by_mount(m, mnt_id, dev);
	*tag = s ? s->tag : 0;
	pthread_mutex_unlock(&m->lock);
	if (!*tag)
		*tag = register_mounts(ex, mnt_id);
	return *tag != 0;
}

/* The mount id objects of filesystem fs_tag are on (-1: not known now). */
static int mount_of_fs(const struct export *ex, uint32_t fs_tag)
{
	const struct pt_export *pe = pt_export(ex);
	if (!fs_tag)
		return pe->mnt_id;
	if (!pe->mounts)
		return -1;
	pthread_mutex_lock(&pe->mounts->lock);
	const struct sub *s = sub_by_tag(pe->mounts, fs_tag);
	int mnt_id = s ? s->mnt_id : -1;
	pthread_mutex_unlock(&pe->mounts->lock);
	return mnt_id;
}

/* Unprivileged and without crossmnt, a mount point can show neither side: say so, once. */
static void warn_hidden(const struct export *ex, int mnt_id, dev_t dev, const char *name)
{
	struct pt_mounts *m = pt_export(ex)->mounts;
	uint32_t tag;
	if (!m || !fs_of_mount(ex, mnt_id, dev, &tag)) {
		log_debug("%s: \"%s\" leads onto another mount: refused", ex->path, name);
		return;
	}
	char rel[PATH_MAX] = "";
	pthread_mutex_lock(&m->lock);
	struct sub *s = sub_by_tag(m, tag);
	bool first = s && !s->warned;
	if (first) {
		s->warned = true;
		snprintf(rel, sizeof(rel), "%s", s->relpath); /* the table may move once unlocked */
	}
	pthread_mutex_unlock(&m->lock);
	if (first)
		log_warn("%s/%s is a mount point; run as root to serve the directory it covers, "
			 "or export with crossmnt",
			 ex->path, rel);
}

/* ---- covered directories ---- */

/* The clone of the export's mount without its submounts, made on first use: an O_RDONLY fd. */
static int covered_clone(const struct export *ex)
{
	struct pt_mounts *m = pt_export(ex)->mounts;
	if (!m)
		return -EACCES;
	pthread_mutex_lock(&m->lock);
	if (m->clone_fd < 0 && !m->clone_failed) {
		cred_escalate();
		m->tree_fd = open_tree(pt_export(ex)->root_fd, "",
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (m->tree_fd >= 0) {
			/* Private: nothing mounted on the original later may show up in it. */
			struct mount_attr ma = { .propagation = MS_PRIVATE };
			if (mount_setattr(m->tree_fd, "", AT_EMPTY_PATH, &ma, sizeof(ma)) < 0)
				log_debug("mount_setattr on the clone of %s: %s", ex->path,
					  strerror(errno));
			m->clone_fd = openat(m->tree_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (m->clone_fd < 0) {
			log_warn("cannot clone the mount of %s (%s): its mount points are refused",
				 ex->path, strerror(errno));
			m->clone_failed = true;
		}
		cred_restore();
	}
	int fd = m->clone_fd;
	pthread_mutex_unlock(&m->lock);
	return fd >= 0 ? fd : -EACCES;
}

static int open_kh(int mount_fd, const struct pt_kh *kh, int flags)
{
	union {
		struct file_handle fh;
		uint8_t raw[sizeof(struct file_handle) + PT_KH_MAX];
	} k;
	k.fh.handle_bytes = kh->len;
	k.fh.handle_type = (int)kh->type;
	memcpy(k.fh.f_handle, kh->bytes, kh->len);
	return open_by_handle_at(mount_fd, &k.fh, flags | O_CLOEXEC);
}

/* name in dirfd where nothing is mounted: looked up in the clone, reopened on the export's mount. */
static int covered_in_clone(const struct export *ex, int clone, int dirfd, const char *name,
			    struct pt_kh *kh)
{
	struct pt_kh dir_kh;
	pt_kernel_handle(dirfd, "", &dir_kh);
	int cdir = dir_kh.len ? open_kh(clone, &dir_kh, O_PATH | O_DIRECTORY) : -1;
	int cfd = cdir >= 0 ? openat(cdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
	kh->len = 0;
	if (cfd >= 0)
		pt_kernel_handle(cfd, "", kh);
	int fd = kh->len ? open_kh(pt_export(ex)->mount_fd, kh, O_PATH) : -1;
	if (cfd >= 0)
		close(cfd);
	if (cdir >= 0)
		close(cdir);
	return fd;
}

static int open_covered(const struct export *ex, int dirfd, const char *name, struct pt_found *out)
{
	int clone = covered_clone(ex);
	if (clone < 0)
		return clone;
	cred_escalate(); /* the caller has just looked name up in dirfd: this repeats it */
	int fd = covered_in_clone(ex, clone, dirfd, name, &out->kh);
	cred_restore();
	if (fd < 0 || fstat(fd, &out->st) < 0) {
		if (fd >= 0)
			close(fd);
		log_debug("%s: what \"%s\" covers cannot be opened: refused", ex->path, name);
		return -EACCES;
	}
	out->fd = fd;
	out->fs_tag = 0;
	return 0;
}

/* ---- names and paths ---- */

/* Object out->fd (of mount mnt_id) lies on another mount than directory dirfd (filesystem dir_tag). */
static int crossed(const struct export *ex, int dirfd, uint32_t dir_tag, const char *name,
		   bool listing, int mnt_id, struct pt_found *out)
{
	bool dotdot = vfs_is_dotdot(name, strlen(name));
	uint32_t tag;
	if (dotdot && is_mount_root(dirfd)) {
		/* Up out of a submount, into the filesystem it is mounted on. */
		if (fs_of_mount(ex, mnt_id, out->st.st_dev, &tag)) {
			out->fs_tag = tag;
			return 0;
		}
	} else if (!dotdot && ex->crossmnt && fs_of_mount(ex, mnt_id, out->st.st_dev, &tag)) {
		if (listing) {
			close(out->fd);
			return -EXDEV;
		}
		out->fs_tag = tag;
		return 0;
	}
	close(out->fd);
	out->fd = -1;
	/* Only the export's own mount has a clone to find what a mount covers. */
	if (dir_tag == 0 && cred_server_is_root())
		return open_covered(ex, dirfd, name, out);
	if (dir_tag == 0 && !dotdot && !ex->crossmnt)
		warn_hidden(ex, mnt_id, out->st.st_dev, name);
	return -EACCES;
}

int pt_open_name(const struct export *ex, int dirfd, uint32_t dir_tag, const char *name,
		 bool listing, struct pt_found *out)
{
	int rc = fs_open_child(dirfd, name, &out->fd, &out->st);
	if (rc)
		return rc;
	int mnt_id;
	pt_kernel_handle_mnt(out->fd, "", &out->kh, &mnt_id);
	if (mnt_id < 0)
		mnt_id = pt_mnt_id(out->fd);
	out->fs_tag = dir_tag;
	/* The common case costs nothing more: the kernel handle came with the mount id. */
	if (mnt_id < 0 || mnt_id == mount_of_fs(ex, dir_tag))
		return 0;
	uint32_t tag;
	if (fs_of_mount(ex, mnt_id, out->st.st_dev, &tag) && tag == dir_tag)
		return 0; /* the directory's filesystem, remounted since its id was noted */
	return crossed(ex, dirfd, dir_tag, name, listing, mnt_id, out);
}

int pt_open_path(const struct export *ex, const char *path, uint32_t *fs_tag)
{
	const struct pt_export *pe = pt_export(ex);
	*fs_tag = 0;
	if (ex->crossmnt) {
		int fd = fs_open_beneath_how(pe->root_fd, path, O_PATH | O_DIRECTORY, 0);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return fd < 0 ? fd : -errno;
		if (fs_of_mount(ex, pt_mnt_id(fd), st.st_dev, fs_tag))
			return fd;
		close(fd); /* a mount it cannot name: what it covers, as without crossmnt */
	}
	int fd = fs_open_beneath(pe->root_fd, path);
	if (fd != -EXDEV)
		return fd;
	if (!cred_server_is_root()) {
		log_info("%s: MOUNT of %s crosses a mount point: refused", ex->path, path);
		return -EACCES;
	}
	/* The clone has no submounts: the walk finds the covered directories. */
	int clone = covered_clone(ex);
	return clone < 0 ? clone : fs_open_beneath(clone, path);
}

/*
 * Scan the mounts below the export once per change of the mount table.
 * Callers wait for a scan under way: a handle must not be called stale
 * while the mount it names is still being registered.
 */
static void rescan_if_changed(const struct export *ex)
{
	struct pt_mounts *m = pt_export(ex)->mounts;
	pthread_mutex_lock(&m->scan_lock);
	pthread_mutex_lock(&m->lock);
	note_mount_changes(m);
	unsigned gen = m->gen;
	bool scan = m->scanned_gen != gen;
	pthread_mutex_unlock(&m->lock);
	if (scan) {
		register_mounts(ex, -1);
		pthread_mutex_lock(&m->lock);
		m->scanned_gen = gen; /* a change during the scan moved gen on: scanned again */
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&m->scan_lock);
}

/* Where the submount tagged fs_tag is mounted, and what it is: false if unknown. */
static bool sub_where(struct pt_mounts *m, uint32_t fs_tag, char *relpath, uint64_t *id)
{
	pthread_mutex_lock(&m->lock);
	const struct sub *s = sub_by_tag(m, fs_tag);
	if (s) {
		snprintf(relpath, PATH_MAX, "%s", s->relpath);
		*id = s->id;
	}
	pthread_mutex_unlock(&m->lock);
	return s != NULL;
}

int pt_sub_open_root(const struct export *ex, uint32_t fs_tag, struct stat *st)
{
	const struct pt_export *pe = pt_export(ex);
	char rel[PATH_MAX];
	uint64_t id;
	if (!pe->mounts)
		return -ESTALE;
	if (!sub_where(pe->mounts, fs_tag, rel, &id)) {
		rescan_if_changed(ex); /* a handle from before a restart */
		if (!sub_where(pe->mounts, fs_tag, rel, &id))
			return -ESTALE;
	}
	int fd = fs_open_beneath_how(pe->root_fd, rel, O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return -ESTALE;
	/* The very filesystem, mounted there now: unmounted, or another one, and its handles are stale. */
	if (!is_mount_root(fd) || fstat(fd, st) < 0 || fs_identity(fd, st->st_dev) != id) {
		close(fd);
		return -ESTALE;
	}
	struct sub seen = { .tag = fs_tag,
			    .mnt_id = pt_mnt_id(fd),
			    .dev = st->st_dev,
			    .id = id,
			    .fsid = pt_sub_fsid(ex->id, id) };
	pthread_mutex_lock(&pe->mounts->lock);
	sub_put(ex, pe->mounts, &seen, rel);
	pthread_mutex_unlock(&pe->mounts->lock);
	return fd;
}

uint64_t pt_fsid(const struct export *ex, const struct stat *st)
{
	if (st->st_dev == ex->dev)
		return ex->fsid;
	const struct pt_export *pe = pt_export(ex);
	uint64_t fsid = 0;
	if (pe && pe->mounts) {
		pthread_mutex_lock(&pe->mounts->lock);
		for (unsigned i = 0; i < pe->mounts->n && !fsid; i++)
			if (pe->mounts->subs[i].dev == st->st_dev)
				fsid = pe->mounts->subs[i].fsid;
		pthread_mutex_unlock(&pe->mounts->lock);
	}
	/* A filesystem the export never crossed into: at least never the export's own. */
	return fsid ? fsid : (uint64_t)st->st_dev;
}
