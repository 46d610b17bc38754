/*
 * The export table. A table is built whole (from the command line or the
 * exports file), published with one atomic store and never changed after:
 * requests read it without a lock between ebr_enter and ebr_leave, and a
 * reload retires the old one to ebr_reclaim. Exports a reload leaves as
 * they were are shared by both tables (refs), so their descriptors, fanotify
 * epoch and cached objects carry on.
 */
#define _GNU_SOURCE
#include "export.h"

#include "backend.h"
#include "ebr.h"
#include "exports_conf.h"
#include "objcache.h"
#include "vfs.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct export_table {
	uint64_t gen;
	struct export *ex[EXPORT_MAX];
	unsigned n;
	struct export *root; /* the synthesized root, with two exports or more */
	struct xc_file conf; /* who may reach each export; synthesized for the command line */
	bool from_file;
	bool needs_names;
};

static struct export_table *_Atomic current;
static struct export_table *building; /* export_add's, until export_finish */
static uint64_t next_gen = 1;

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

static const char *spec_name(const struct xc_export *s)
{
	return s->name ? s->name : base_name(s->path);
}

/* An encrypted view of a directory is another export than the directory itself. */
static uint32_t view_id_of(const char *path)
{
	static const char salt[] = "loopnfs encrypt=reverse id v1";
	uint8_t h[8];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)salt, sizeof(salt));
	crypto_generichash_update(&st, (const uint8_t *)path, strlen(path));
	crypto_generichash_final(&st, h, sizeof(h));
	uint32_t id = fh_get_be32(h);
	return id ? id : 1;
}

static uint32_t spec_id(const struct xc_export *s)
{
	if (s->fsid)
		return s->fsid;
	return s->encrypt ? view_id_of(s->path) : export_id_of(s->path);
}

/* The command line's passphrase sources (--passfile, --extpass), for every encrypted view. */
static struct crypt_pass_opts pass_defaults;

void export_set_pass_defaults(const char *passfile, const char *extpass)
{
	pass_defaults.passfile = passfile;
	pass_defaults.extpass = extpass;
}

/* Open spec's backend on ex: passthrough, or the encrypted view over it. */
static int backend_open(struct export *ex, const struct xc_export *spec, char *err, size_t errlen)
{
	if (!spec->encrypt) {
		ex->ops = &passthrough_ops;
		int rc = passthrough_export_open(ex);
		if (rc < 0)
			snprintf(err, errlen, "%s: %s", ex->path, strerror(-rc));
		return rc;
	}
	struct crypt_export_args a = { .pass = pass_defaults,
				       .excludes = spec->excludes,
				       .nexcludes = spec->nexcludes };
	if (spec->passfile)
		a.pass.passfile = spec->passfile, a.pass.extpass = NULL;
	/* At a reload nobody is at the terminal to answer a prompt. */
	a.pass.no_prompt = atomic_load(&current) != NULL;
	ex->ops = &crypt_reverse_ops;
	return crypt_export_open(ex, &a, err, errlen);
}

static bool same_strings(char *const *a, unsigned na, char *const *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Would ex, opened from spec old, be opened the same from spec s? */
static bool same_view(const struct export *ex, const struct xc_export *old,
		      const struct xc_export *s)
{
	bool encrypted = ex->ops == &crypt_reverse_ops;
	if (encrypted != s->encrypt)
		return false;
	if (!encrypted)
		return true;
	return old &&
	       (old->passfile ? s->passfile && !strcmp(old->passfile, s->passfile)
			      : !s->passfile) &&
	       same_strings(old->excludes, old->nexcludes, s->excludes, s->nexcludes);
}

/* ---- exports ---- */

static void export_close(struct export *ex)
{
	/*
	 * Objects cached for it go too, even when an export with its id
	 * carries on: they were proven against this one's fanotify epoch.
	 */
	oc_forget_export(ex->id);
	ex->ops->shutdown(ex);
	free(ex->path);
	free(ex->name);
	free(ex);
}

static void export_unref(struct export *ex)
{
	if (ex && --ex->refs == 0)
		export_close(ex);
}

/* The export spec describes (canonical path); NULL with a message in err. */
static struct export *export_open(const struct xc_export *spec, char *err, size_t errlen)
{
	struct export *ex = calloc(1, sizeof(*ex));
	char *path = strdup(spec->path), *name = strdup(spec_name(spec));
	if (!ex || !path || !name) {
		snprintf(err, errlen, "out of memory");
		free(ex);
		free(path);
		free(name);
		return NULL;
	}
	ex->refs = 1;
	ex->path = path;
	ex->name = name;
	ex->id = spec_id(spec);
	ex->fsid = fsid_of(ex->id);
	ex->crossmnt = spec->crossmnt;
	int rc = backend_open(ex, spec, err, errlen);
	if (rc < 0) {
		free(name);
		free(path);
		free(ex);
		return NULL;
	}
	return ex;
}

/* The export of old that spec describes unchanged, if any. */
static struct export *export_reusable(const struct export_table *old, const struct xc_export *spec)
{
	if (!old)
		return NULL;
	struct export *ex = export_table_by_id(old, spec_id(spec));
	if (!ex || ex->id == 0 || strcmp(ex->path, spec->path) != 0 ||
	    strcmp(ex->name, spec_name(spec)) != 0 || ex->crossmnt != spec->crossmnt)
		return NULL;
	/* Its spec: a table's exports are in the order of its entries. */
	const struct xc_export *was = NULL;
	for (unsigned i = 0; i < old->n && i < old->conf.n; i++)
		if (old->ex[i] == ex)
			was = &old->conf.ex[i];
	return same_view(ex, was, spec) ? ex : NULL;
}

/* ---- tables ---- */

static void table_free(void *p)
{
	struct export_table *t = p;
	if (!t)
		return;
	if (t->root) {
		t->root->ops->shutdown(t->root);
		free(t->root->path);
		free(t->root->name);
		free(t->root);
	}
	for (unsigned i = 0; i < t->n; i++)
		export_unref(t->ex[i]);
	xc_free(&t->conf);
	free(t);
}

static int check_unique(const struct export_table *t, char *err, size_t errlen)
{
	for (unsigned i = 0; i < t->n; i++) {
		for (unsigned j = i + 1; j < t->n; j++) {
			const struct export *a = t->ex[i], *b = t->ex[j];
			if (strcmp(a->path, b->path) == 0 && a->ops == b->ops) {
				snprintf(err, errlen, "%s is given twice", a->path);
				return -1;
			}
			if (strcmp(a->name, b->name) == 0) {
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

static int build_root(struct export_table *t, char *err, size_t errlen)
{
	if (t->n < 2)
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
	root->refs = 1;
	root->id = 0;
	root->path = path;
	root->name = name;
	root->fsid = fsid_of(0);
	root->ops = &pseudo_ops;
	int rc = pseudo_export_open(root, t->ex, t->n);
	if (rc < 0) {
		snprintf(err, errlen, "cannot build the root: %s", strerror(-rc));
		free(path);
		free(name);
		free(root);
		return -1;
	}
	t->root = root;
	return 0;
}

/* Make t the table in force; the old one goes once no request holds it. */
static void table_publish(struct export_table *t)
{
	t->gen = next_gen++;
	t->needs_names = xc_needs_names(&t->conf);
	struct export_table *old = atomic_exchange(&current, t);
	if (!old)
		return;
	/* Objects of exports that are gone or replaced stop being found at once. */
	for (unsigned i = 0; i < old->n; i++)
		if (export_table_by_id(t, old->ex[i]->id) != old->ex[i])
			oc_forget_export(old->ex[i]->id);
	ebr_retire(old, table_free);
}

/* ---- the command line ---- */

static struct export_table *table_new(void)
{
	struct export_table *t = calloc(1, sizeof(*t));
	if (t)
		t->conf.ex = calloc(EXPORT_MAX, sizeof(*t->conf.ex));
	if (t && !t->conf.ex) {
		free(t);
		return NULL;
	}
	return t;
}

static bool local_client(struct xc_client *c, const char *text, int family,
			 const struct export_opts *opts)
{
	c->kind = XC_NET;
	c->text = strdup(text);
	c->addrs = calloc(1, sizeof(*c->addrs));
	if (!c->text || !c->addrs)
		return false;
	c->naddrs = 1;
	c->addrs[0].family = family;
	if (family == AF_INET) {
		c->addrs[0].b[0] = 127;
		c->prefix = 8;
	} else {
		c->addrs[0].b[15] = 1;
		c->prefix = 128;
	}
	c->opts = *opts;
	return true;
}

/* The encrypted view's part of a spec: a copy of the patterns. */
static bool spec_set_view(struct xc_export *s, bool encrypt, char *const *excludes, unsigned n)
{
	s->encrypt = encrypt;
	if (n == 0)
		return true;
	s->excludes = calloc(n, sizeof(*s->excludes));
	if (!s->excludes)
		return false;
	for (; s->nexcludes < n; s->nexcludes++)
		if (!(s->excludes[s->nexcludes] = strdup(excludes[s->nexcludes])))
			return false;
	return true;
}

/* The command line's export of path: to the loopback addresses only. */
static bool local_spec(struct xc_export *s, const char *path, const struct export_opts *opts)
{
	s->path = strdup(path);
	s->clients = calloc(2, sizeof(*s->clients));
	if (!s->path || !s->clients)
		return false;
	s->nclients = 2;
	return local_client(&s->clients[0], "127.0.0.0/8", AF_INET, opts) &&
	       local_client(&s->clients[1], "::1", AF_INET6, opts);
}

static void local_spec_clear(struct xc_export *s)
{
	for (unsigned i = 0; s->clients && i < 2; i++) {
		free(s->clients[i].text);
		free(s->clients[i].addrs);
	}
	free(s->clients);
	free(s->path);
	for (unsigned i = 0; i < s->nexcludes; i++)
		free(s->excludes[i]);
	free(s->excludes);
	memset(s, 0, sizeof(*s));
}

/*
 * After export_finish, more export_add calls extend the table in force (a
 * copy of it, sharing its exports), as the command line would have.
 */
static struct export_table *table_extend_current(void)
{
	const struct export_table *cur = atomic_load(&current);
	struct export_table *t = table_new();
	if (!t || !cur || cur->from_file)
		return t;
	for (unsigned i = 0; i < cur->n; i++) {
		const struct xc_export *s = &cur->conf.ex[i];
		if (!local_spec(&t->conf.ex[i], s->path, &s->clients[0].opts) ||
		    !spec_set_view(&t->conf.ex[i], s->encrypt, s->excludes, s->nexcludes)) {
			local_spec_clear(&t->conf.ex[i]);
			table_free(t);
			return NULL;
		}
		t->conf.n++;
		t->ex[t->n++] = cur->ex[i];
		cur->ex[i]->refs++;
	}
	return t;
}

static struct export *add_local(const char *dir, const struct export_opts *opts, bool encrypt,
				char *const *excludes, unsigned nexcludes, char *err, size_t errlen)
{
	if (!building && !(building = table_extend_current())) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct export_table *t = building;
	if (t->n >= EXPORT_MAX) {
		snprintf(err, errlen, "too many exports (at most %d)", EXPORT_MAX);
		return NULL;
	}
	char *real = realpath(dir, NULL);
	if (!real) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	struct xc_export *s = &t->conf.ex[t->conf.n];
	bool ok = local_spec(s, real, opts) && spec_set_view(s, encrypt, excludes, nexcludes);
	free(real);
	struct export *ex = ok ? export_open(s, err, errlen) : NULL;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	if (!ex) {
		local_spec_clear(s);
		return NULL;
	}
	t->conf.n++;
	t->ex[t->n++] = ex;
	return ex;
}

struct export *export_add(const char *dir, const struct export_opts *opts, char *err, size_t errlen)
{
	return add_local(dir, opts, false, NULL, 0, err, errlen);
}

struct export *export_add_reverse(const char *dir, const struct export_opts *opts,
				  char *const *excludes, unsigned nexcludes, char *err,
				  size_t errlen)
{
	struct export_opts ro = *opts;
	ro.ro = true;
	return add_local(dir, &ro, true, excludes, nexcludes, err, errlen);
}

int export_finish(char *err, size_t errlen)
{
	struct export_table *t = building;
	if (!t && !(t = table_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Refused: the exports stay where export_get finds them, until export_free_all. */
	if (check_unique(t, err, errlen) != 0 || build_root(t, err, errlen) != 0) {
		building = t;
		return -1;
	}
	building = NULL;
	table_publish(t);
	return 0;
}

/* ---- the exports file ---- */

int export_load_file(const char *file, char *err, size_t errlen)
{
	struct export_table *t = table_new();
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(t->conf.ex);
	t->conf.ex = NULL;
	if (xc_parse_file(file, &t->conf, err, errlen) != 0) {
		free(t);
		return -1;
	}
	t->from_file = true;
	const struct export_table *old = atomic_load(&current);
	for (unsigned i = 0; i < t->conf.n; i++) {
		const struct xc_export *s = &t->conf.ex[i];
		struct export *ex = export_reusable(old, s);
		if (ex) {
			ex->refs++;
		} else {
			char why[PATH_MAX + 64];
			ex = export_open(s, why, sizeof(why));
			if (!ex) {
				snprintf(err, errlen, "%s:%u: cannot export %s", file, s->line,
					 why);
				table_free(t);
				return -1;
			}
		}
		t->ex[t->n++] = ex;
	}
	char why[2 * PATH_MAX + 128];
	if (check_unique(t, why, sizeof(why)) != 0 || build_root(t, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", file, why);
		table_free(t);
		return -1;
	}
	table_publish(t);
	return 0;
}

const struct xc_file *export_config(void)
{
	const struct export_table *t = atomic_load(&current);
	return t && t->from_file ? &t->conf : NULL;
}

/* ---- lookups in a table ---- */

const struct export_table *export_table_current(void)
{
	return atomic_load(&current);
}

uint64_t export_table_gen(const struct export_table *t)
{
	return t ? t->gen : 0;
}

unsigned export_table_count(const struct export_table *t)
{
	return t ? t->n : 0;
}

struct export *export_table_get(const struct export_table *t, unsigned idx)
{
	return t && idx < t->n ? t->ex[idx] : NULL;
}

const struct xc_export *export_table_spec(const struct export_table *t, unsigned idx)
{
	return t && idx < t->n ? &t->conf.ex[idx] : NULL;
}

struct export *export_table_by_id(const struct export_table *t, uint32_t id)
{
	if (!t)
		return NULL;
	if (t->root && id == t->root->id)
		return t->root;
	for (unsigned i = 0; i < t->n; i++)
		if (t->ex[i]->id == id)
			return t->ex[i];
	return NULL;
}

struct export *export_table_root(const struct export_table *t)
{
	return t ? t->root : NULL;
}

bool export_table_needs_names(const struct export_table *t)
{
	return t && t->needs_names;
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
static struct export *find_by_path(const struct export_table *t, const char *mntpath,
				   const char **subpath)
{
	struct export *best = NULL;
	size_t bestlen = 0;
	for (unsigned i = 0; i < t->n; i++) {
		const char *rest = path_below(mntpath, t->ex[i]->path);
		size_t len = strlen(t->ex[i]->path);
		if (rest && len >= bestlen) {
			best = t->ex[i];
			bestlen = len;
			*subpath = rest;
		}
	}
	return best;
}

/* "/NAME" or "/NAME/sub": the export shown as NAME under the root. */
static struct export *find_by_name(const struct export_table *t, const char *mntpath,
				   const char **subpath)
{
	const char *p = skip_slashes(mntpath);
	size_t n = strcspn(p, "/");
	for (unsigned i = 0; i < t->n; i++) {
		if (strlen(t->ex[i]->name) == n && strncmp(p, t->ex[i]->name, n) == 0) {
			*subpath = p + n;
			return t->ex[i];
		}
	}
	return NULL;
}

struct export *export_table_find(const struct export_table *t, const char *mntpath,
				 const char **subpath)
{
	if (!t || !mntpath || t->n == 0)
		return NULL;
	/* Some clients (libnfs URLs naming a file in the root) ask for "". */
	if (mntpath[0] == '\0')
		mntpath = "/";
	if (mntpath[0] != '/')
		return NULL;
	struct export *ex;
	if (t->n == 1) {
		/* "/" is the one export's root (what `mount server:/ MNT` asks for). */
		ex = t->ex[0];
		const char *rest = path_below(mntpath, ex->path);
		*subpath = rest ? rest : mntpath + 1;
	} else if (*skip_slashes(mntpath) == '\0') {
		*subpath = "";
		return t->root;
	} else if (!(ex = find_by_path(t, mntpath, subpath)) &&
		   !(ex = find_by_name(t, mntpath, subpath))) {
		return NULL;
	}
	*subpath = skip_slashes(*subpath);
	return ex;
}

/* ---- the table in force (start-up, shutdown, tests: no request runs beside them) ---- */

static const struct export_table *in_force(void)
{
	return building ? building : atomic_load(&current);
}

struct export *export_get(unsigned idx)
{
	return export_table_get(in_force(), idx);
}

unsigned export_count(void)
{
	return export_table_count(in_force());
}

struct export *export_by_id(uint32_t id)
{
	return export_table_by_id(in_force(), id);
}

struct export *export_pseudo_root(void)
{
	return export_table_root(in_force());
}

struct export *export_find(const char *mntpath, const char **subpath)
{
	return export_table_find(in_force(), mntpath, subpath);
}

void export_free_all(void)
{
	struct export_table *t = atomic_exchange(&current, NULL);
	if (building) {
		table_free(building);
		building = NULL;
	}
	/* Retired tables first: they may share exports with t. */
	ebr_reclaim();
	table_free(t);
}
