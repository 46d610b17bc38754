/* The export table. */
#define _GNU_SOURCE
#include "export.h"

#include "backend.h"
#include "objcache.h"
#include "vfs.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct export *table[EXPORT_MAX];
static unsigned nexports;
static struct export *pseudo_root;

uint32_t export_id_of(const char *path)
{
	/* Unkeyed on purpose: the id must not change when the handle key does. */
	static const char salt[] = "loopnfs export id v1";
	uint8_t h[8];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)salt, sizeof(salt));
	crypto_generichash_update(&st, (const uint8_t *)path, strlen(path));
	crypto_generichash_final(&st, h, sizeof(h));
	uint32_t id = fh_get_be32(h);
	return id ? id : 1; /* 0 is the synthesized root's */
}

/* fsids are derived from ids: stable across restarts and argument order, distinct per export. */
static uint64_t fsid_of(uint32_t id)
{
	return (uint64_t)0x4c4e4653u << 32 | id; /* "LNFS" */
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

struct export *export_add(const char *dir, const struct export_opts *opts, char *err, size_t errlen)
{
	if (nexports >= EXPORT_MAX) {
		snprintf(err, errlen, "too many exports (at most %d)", EXPORT_MAX);
		return NULL;
	}
	char *real = realpath(dir, NULL);
	if (!real) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	struct export *ex = calloc(1, sizeof(*ex));
	char *name = strdup(base_name(real));
	if (!ex || !name) {
		snprintf(err, errlen, "out of memory");
		free(ex);
		free(name);
		free(real);
		return NULL;
	}
	ex->path = real;
	ex->name = name;
	ex->id = export_id_of(real);
	ex->fsid = fsid_of(ex->id);
	ex->opts = *opts;
	ex->ops = &passthrough_ops;
	int rc = passthrough_export_open(ex);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", real, strerror(-rc));
		free(name);
		free(real);
		free(ex);
		return NULL;
	}
	table[nexports++] = ex;
	return ex;
}

static int check_unique(char *err, size_t errlen)
{
	for (unsigned i = 0; i < nexports; i++) {
		for (unsigned j = i + 1; j < nexports; j++) {
			const struct export *a = table[i], *b = table[j];
			if (strcmp(a->path, b->path) == 0) {
				snprintf(err, errlen, "%s is given twice", a->path);
				return -1;
			}
			if (nexports > 1 && strcmp(a->name, b->name) == 0) {
				snprintf(err, errlen,
					 "%s and %s would both show as /%s under the root: "
					 "export directories with different names",
					 a->path, b->path, a->name);
				return -1;
			}
			if (a->id == b->id) {
				snprintf(err, errlen, "%s and %s hash to one export id", a->path,
					 b->path);
				return -1;
			}
		}
	}
	return 0;
}

int export_finish(char *err, size_t errlen)
{
	if (check_unique(err, errlen) != 0)
		return -1;
	if (nexports < 2)
		return 0;
	struct export *root = calloc(1, sizeof(*root));
	char *path = strdup("/"), *name = strdup("");
	if (!root || !path || !name) {
		free(root);
		free(path);
		free(name);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	root->id = 0;
	root->path = path;
	root->name = name;
	root->fsid = fsid_of(0);
	root->opts = (struct export_opts){
		.ro = true, .root_squash = true, .anonuid = 65534, .anongid = 65534
	};
	root->ops = &pseudo_ops;
	int rc = pseudo_export_open(root, table, nexports);
	if (rc < 0) {
		snprintf(err, errlen, "cannot build the root: %s", strerror(-rc));
		free(path);
		free(name);
		free(root);
		return -1;
	}
	pseudo_root = root;
	return 0;
}

struct export *export_get(unsigned idx)
{
	return idx < nexports ? table[idx] : NULL;
}

unsigned export_count(void)
{
	return nexports;
}

struct export *export_by_id(uint32_t id)
{
	if (pseudo_root && id == pseudo_root->id)
		return pseudo_root;
	for (unsigned i = 0; i < nexports; i++)
		if (table[i]->id == id)
			return table[i];
	return NULL;
}

struct export *export_pseudo_root(void)
{
	return pseudo_root;
}

/* Does path start with prefix as whole components? Returns the rest or NULL. */
static const char *path_below(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (n == 1 && prefix[0] == '/')
		return path + 1;
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

static const char *skip_slashes(const char *p)
{
	while (*p == '/')
		p++;
	return p;
}

/* The export whose absolute path is the longest prefix of mntpath. */
static struct export *find_by_path(const char *mntpath, const char **subpath)
{
	struct export *best = NULL;
	size_t bestlen = 0;
	for (unsigned i = 0; i < nexports; i++) {
		const char *rest = path_below(mntpath, table[i]->path);
		size_t len = strlen(table[i]->path);
		if (rest && len >= bestlen) {
			best = table[i];
			bestlen = len;
			*subpath = rest;
		}
	}
	return best;
}

/* "/NAME" or "/NAME/sub": the export shown as NAME under the root. */
static struct export *find_by_name(const char *mntpath, const char **subpath)
{
	const char *p = skip_slashes(mntpath);
	size_t n = strcspn(p, "/");
	for (unsigned i = 0; i < nexports; i++) {
		if (strlen(table[i]->name) == n && strncmp(p, table[i]->name, n) == 0) {
			*subpath = p + n;
			return table[i];
		}
	}
	return NULL;
}

struct export *export_find(const char *mntpath, const char **subpath)
{
	if (!mntpath || nexports == 0)
		return NULL;
	/* Some clients (libnfs URLs naming a file in the root) ask for "". */
	if (mntpath[0] == '\0')
		mntpath = "/";
	if (mntpath[0] != '/')
		return NULL;
	struct export *ex;
	if (nexports == 1) {
		/* "/" is the one export's root (what `mount server:/ MNT` asks for). */
		ex = table[0];
		const char *rest = path_below(mntpath, ex->path);
		*subpath = rest ? rest : mntpath + 1;
	} else if (*skip_slashes(mntpath) == '\0') {
		*subpath = "";
		return pseudo_root;
	} else if (!(ex = find_by_path(mntpath, subpath)) &&
		   !(ex = find_by_name(mntpath, subpath))) {
		return NULL;
	}
	*subpath = skip_slashes(*subpath);
	return ex;
}

void export_free_all(void)
{
	if (pseudo_root) {
		pseudo_root->ops->shutdown(pseudo_root);
		free(pseudo_root->path);
		free(pseudo_root->name);
		free(pseudo_root);
		pseudo_root = NULL;
	}
	for (unsigned i = 0; i < nexports; i++) {
		oc_forget_export(table[i]->id); /* no cached object outlives its export */
		table[i]->ops->shutdown(table[i]);
		free(table[i]->path);
		free(table[i]->name);
		free(table[i]);
		table[i] = NULL;
	}
	nexports = 0;
}
