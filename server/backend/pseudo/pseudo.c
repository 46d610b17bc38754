/*
 * The pseudo backend: a read-only tree of directories synthesized from the
 * export list, so several exports show under one mount point. A node is a
 * directory of the tree, or names an export, whose root its lookup hands
 * back (the client then crosses into that export's fsid, as into a
 * submount). Its handles, fileids and cookies are its own: a node's id is a
 * hash of its path in the tree, stable across restarts and argument order.
 *
 * Payload: the node id, 8 bytes big-endian.
 */
#define _GNU_SOURCE
#include "backend.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PS_PAYLOAD 8
#define PS_NODES_MAX (2 * EXPORT_MAX + 1)
/* READDIR cookies: "." is 1, ".." 2, the i-th child 3 + i. */
#define PS_FIRST_CHILD 3

struct ps_node {
	char *name; /* one path component; "" for the root */
	uint64_t id;
	unsigned parent;
	struct export *ex; /* set: this name is that export's root */
	struct stat st;	   /* directories only */
};

struct ps_tree {
	struct ps_node node[PS_NODES_MAX];
	unsigned n;
};

static struct ps_tree *tree_of(const struct export *ex)
{
	return ex->be;
}

static uint64_t node_id(const char *path)
{
	uint8_t h[8];
	crypto_generichash(h, sizeof(h), (const uint8_t *)path, strlen(path), NULL, 0);
	uint64_t id = fh_get_be64(h);
	return id > 1 ? id : id + 2; /* 1 is the root's */
}

static int child_of(const struct ps_tree *t, unsigned dir, const char *name, size_t len)
{
	for (unsigned i = 1; i < t->n; i++)
		if (t->node[i].parent == dir && strlen(t->node[i].name) == len &&
		    memcmp(t->node[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static void dir_stat(struct ps_node *n, uint64_t fileid, time_t born)
{
	memset(&n->st, 0, sizeof(n->st));
	n->st.st_mode = S_IFDIR | 0555;
	n->st.st_nlink = 2;
	n->st.st_ino = (ino_t)fileid;
	n->st.st_size = 4096;
	n->st.st_blksize = 4096;
	n->st.st_atim.tv_sec = n->st.st_mtim.tv_sec = n->st.st_ctim.tv_sec = born;
}

static int add_node(struct ps_tree *t, unsigned parent, const char *name, size_t len,
		    const char *path, struct export *ex, time_t born)
{
	if (t->n >= PS_NODES_MAX)
		return -ENOSPC;
	struct ps_node *n = &t->node[t->n];
	if (!(n->name = strndup(name, len)))
		return -ENOMEM;
	n->id = node_id(path);
	n->parent = parent;
	n->ex = ex;
	dir_stat(n, n->id, born);
	t->node[parent].st.st_nlink++; /* a subdirectory's ".." */
	return (int)t->n++;
}

/* Place ex at its name, a path of components below the root, making the directories on the way. */
static int place_export(struct ps_tree *t, struct export *ex, time_t born)
{
	char path[EXPORT_NAME_MAX + 2] = "";
	unsigned dir = 0;
	const char *p = ex->name;
	while (*p) {
		size_t len = strcspn(p, "/");
		bool last = p[len] == '\0';
		if (len == 0 || strlen(path) + len + 2 > sizeof(path))
			return -EINVAL;
		strcat(path, "/");
		strncat(path, p, len);
		int c = child_of(t, dir, p, len);
		if (c >= 0 && (last || t->node[c].ex))
			return -EEXIST; /* two exports at one name, or one inside another's */
		if (c < 0)
			c = add_node(t, dir, p, len, path, last ? ex : NULL, born);
		if (c < 0)
			return c;
		dir = (unsigned)c;
		p += len;
		while (*p == '/')
			p++;
	}
	return dir == 0 ? -EINVAL : 0;
}

static void tree_free(struct ps_tree *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->node[i].name);
	free(t);
}

int pseudo_export_open(struct export *root, struct export *const *exports, unsigned n)
{
	struct ps_tree *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	time_t born = time(NULL);
	t->node[0].name = strdup("");
	t->node[0].id = 1;
	dir_stat(&t->node[0], 1, born);
	t->n = 1;
	int rc = t->node[0].name ? 0 : -ENOMEM;
	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = place_export(t, exports[i], born);
	if (rc < 0) {
		tree_free(t);
		return rc;
	}
	root->dev = 0; /* its objects' st_dev: attributes report the root's fsid */
	root->be = t;
	return 0;
}

/* ---- objects ---- */

static void node_new(const struct export *ex, unsigned i, struct vfs_new *out)
{
	const struct ps_node *n = &tree_of(ex)->node[i];
	uint8_t p[PS_PAYLOAD];
	fh_put_be64(p, n->id);
	out->ex = (struct export *)ex;
	vfs_make_fh(ex, n->st.st_mode, p, sizeof(p), &out->fh);
	out->st = n->st;
}

/* What a name in the tree leads to: one of its directories, or an export's root. */
static int node_target(struct export *ex, unsigned i, struct vfs_new *out)
{
	struct export *leaf = tree_of(ex)->node[i].ex;
	if (leaf)
		return leaf->ops->root(leaf, out);
	node_new(ex, i, out);
	return 0;
}

static int ps_resolve(struct export *ex, const uint8_t *p, unsigned len, bool cached_only,
		      struct vfs_obj *out)
{
	if (len != PS_PAYLOAD)
		return -EBADHANDLE;
	const struct ps_tree *t = tree_of(ex);
	uint64_t id = fh_get_be64(p);
	for (unsigned i = 0; i < t->n; i++) {
		if (t->node[i].id == id && !t->node[i].ex) {
			out->ex = ex;
			out->st = t->node[i].st;
			out->is_root = i == 0;
			out->ent = NULL;
			out->be.ps.node = i;
			return 0;
		}
	}
	return -ESTALE; /* a directory the tree no longer has */
}

static void ps_release(struct vfs_obj *obj)
{
}

static int ps_root(struct export *ex, struct vfs_new *out)
{
	node_new(ex, 0, out);
	return 0;
}

static int ps_lookup_path(struct export *ex, const char *sub, struct vfs_new *out)
{
	const struct ps_tree *t = tree_of(ex);
	unsigned dir = 0;
	while (*sub) {
		size_t len = strcspn(sub, "/");
		int c = child_of(t, dir, sub, len);
		if (c < 0)
			return -ENOENT;
		sub += len;
		while (*sub == '/')
			sub++;
		struct export *leaf = t->node[c].ex;
		if (leaf)
			return vfs_mount_lookup(leaf, sub, out);
		dir = (unsigned)c;
	}
	node_new(ex, dir, out);
	return 0;
}

static int ps_getattr(struct vfs_obj *obj, struct stat *st)
{
	*st = tree_of(obj->ex)->node[obj->be.ps.node].st;
	return 0;
}

/* A client sees only the exports it may reach (and the directories leading to them). */
static bool node_shown(const struct vfs_obj *dir, unsigned i)
{
	const struct ps_tree *t = tree_of(dir->ex);
	if (t->node[i].ex)
		return export_view_shows(dir->view, t->node[i].ex);
	for (unsigned j = 1; j < t->n; j++)
		if (t->node[j].parent == i && node_shown(dir, j))
			return true;
	return false;
}

static int ps_lookup(struct vfs_obj *dir, const char *name, struct vfs_new *out)
{
	const struct ps_tree *t = tree_of(dir->ex);
	unsigned i = dir->be.ps.node;
	size_t len = strlen(name);
	if (len == 1 && name[0] == '.')
		return node_target(dir->ex, i, out);
	if (vfs_is_dotdot(name, len))
		return node_target(dir->ex, t->node[i].parent, out);
	int c = child_of(t, i, name, len);
	if (c < 0 || !node_shown(dir, (unsigned)c))
		return -ENOENT;
	return node_target(dir->ex, (unsigned)c, out);
}

static int ps_access(struct vfs_obj *obj, int mode)
{
	return mode & W_OK ? -EROFS : 0;
}

static int ps_readlink(struct vfs_obj *obj, char *buf, size_t len)
{
	return -EINVAL;
}

static ssize_t ps_read(struct vfs_obj *obj, void *buf, size_t len, uint64_t off)
{
	return -EISDIR;
}

static ssize_t ps_write(struct vfs_obj *obj, const void *buf, size_t len, uint64_t off,
			enum vfs_stable how)
{
	return -EROFS;
}

static int ps_commit(struct vfs_obj *obj)
{
	return -EROFS;
}

static int ps_setattr(struct vfs_obj *obj, const struct vfs_sattr *sa)
{
	return -EROFS;
}

static int ps_make(struct vfs_obj *dir, const char *name, mode_t mode, struct vfs_new *out)
{
	return -EROFS;
}

static int ps_symlink(struct vfs_obj *dir, const char *name, const char *target,
		      struct vfs_new *out)
{
	return -EROFS;
}

static int ps_mknod(struct vfs_obj *dir, const char *name, mode_t mode, dev_t rdev,
		    struct vfs_new *out)
{
	return -EROFS;
}

static int ps_remove(struct vfs_obj *dir, const char *name, bool isdir)
{
	return -EROFS;
}

static int ps_rename(struct vfs_obj *from, const char *fname, struct vfs_obj *to, const char *tname)
{
	return -EROFS;
}

static int ps_link(struct vfs_obj *obj, struct vfs_obj *dir, const char *name)
{
	return -EROFS;
}

/* ---- READDIR ---- */

struct ps_list_entry {
	struct export *ex;
	unsigned node;
};

static int entry_attrs(const struct vfs_dirent *de, struct vfs_new *out)
{
	const struct ps_list_entry *e = de->priv;
	return node_target(e->ex, e->node, out);
}

/* Entry k of directory dir: ".", "..", then its children in the order of the export list. */
static bool entry_at(const struct ps_tree *t, unsigned dir, uint64_t k, unsigned *node,
		     const char **name)
{
	if (k == 0) {
		*node = dir;
		*name = ".";
		return true;
	}
	if (k == 1) {
		*node = t->node[dir].parent;
		*name = "..";
		return true;
	}
	uint64_t seen = 2;
	for (unsigned i = 1; i < t->n; i++) {
		if (t->node[i].parent != dir)
			continue;
		if (seen++ == k) {
			*node = i;
			*name = t->node[i].name;
			return true;
		}
	}
	return false;
}

static int ps_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus,
		      vfs_dirent_fn fn, void *ctx, bool *eof)
{
	const struct ps_tree *t = tree_of(dir->ex);
	unsigned d = dir->be.ps.node, node;
	const char *name;
	*eof = false;
	if (cookie && !entry_at(t, d, cookie - 1, &node, &name))
		return -EBADCOOKIE;
	for (uint64_t k = cookie;; k++) {
		if (!entry_at(t, d, k, &node, &name)) {
			*eof = true;
			return 0;
		}
		if (k >= 2 && !node_shown(dir, node))
			continue;
		struct ps_list_entry e = { dir->ex, node };
		struct vfs_new target;
		/* The fileid GETATTR of what the name leads to reports: an export root's own. */
		uint64_t fileid = t->node[node].st.st_ino;
		if (t->node[node].ex && node_target(dir->ex, node, &target) == 0)
			fileid = (uint64_t)target.st.st_ino;
		struct vfs_dirent de = {
			.name = name,
			.namelen = strlen(name),
			.fileid = fileid,
			.cookie = k + 1,
			.attrs = entry_attrs,
			.priv = &e,
		};
		if (!fn(ctx, &de))
			return 0;
	}
}

static int ps_statfs(struct vfs_obj *obj, struct vfs_statfs *out)
{
	memset(out, 0, sizeof(*out));
	out->linkmax = 1;
	return 0;
}

static void ps_shutdown(struct export *ex)
{
	if (ex->be)
		tree_free(ex->be);
	ex->be = NULL;
}

const struct vfs_ops pseudo_ops = {
	.name = "pseudo",
	.handle_kind = FH_PSEUDO,
	.caps = 0,
	.resolve = ps_resolve,
	.release = ps_release,
	.root = ps_root,
	.lookup_path = ps_lookup_path,
	.getattr = ps_getattr,
	.lookup = ps_lookup,
	.access = ps_access,
	.readlink = ps_readlink,
	.read = ps_read,
	.write = ps_write,
	.commit = ps_commit,
	.setattr = ps_setattr,
	.create = ps_make,
	.mkdir = ps_make,
	.symlink = ps_symlink,
	.mknod = ps_mknod,
	.remove = ps_remove,
	.rename = ps_rename,
	.link = ps_link,
	.readdir = ps_readdir,
	.statfs = ps_statfs,
	.shutdown = ps_shutdown,
};
