/*
 * Opening an encrypted view (encrypt=reverse, --reverse-encrypt): the
 * directory's .gocryptfs.reverse.conf unlocked with the passphrase (a
 * wrong one refuses the export), the passthrough export of the same
 * directory that every object of the view stands on, and the exclusions.
 * Also the view's root and MOUNT's paths below it.
 */
#define _GNU_SOURCE
#include "cr_int.h"

#include "cred.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unlock(const char *dir, const struct crypt_pass_opts *po, struct crypt_keys **keys,
		  char *err, size_t errlen)
{
	char conf[PATH_MAX], why[512];
	int n = snprintf(conf, sizeof(conf), "%s/%s", strcmp(dir, "/") ? dir : "", CRYPT_CONF_NAME);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return -ENAMETOOLONG;
	if (access(conf, F_OK) != 0) {
		snprintf(err, errlen,
			 "%s has no %s: make one with `loopnfs-crypt init %s` "
			 "(or `gocryptfs -init -reverse %s`)",
			 dir, CRYPT_CONF_NAME, dir, dir);
		return -ENOENT;
	}
	char *pass = NULL;
	size_t passlen = 0;
	int rc = crypt_passphrase_get(po, &pass, &passlen, why, sizeof(why));
	if (rc == 0) {
		rc = crypt_open_config(conf, pass, passlen, keys, why, sizeof(why));
		crypt_passphrase_free(pass, passlen);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", conf, why);
	return rc;
}

static int open_lower(struct export *ex, struct cr_export *ce)
{
	struct export *lower = &ce->lower;
	lower->refs = 1;
	lower->id = ex->id; /* its cached objects are the view's, forgotten with it */
	lower->path = ex->path;
	lower->name = ex->name;
	lower->fsid = ex->fsid;
	lower->crossmnt = false; /* mount points show the directories they cover */
	lower->ops = &passthrough_ops;
	int rc = passthrough_export_open(lower);
	if (rc == 0)
		ex->dev = lower->dev;
	return rc;
}

int crypt_export_open(struct export *ex, const struct crypt_export_args *a, char *err,
		      size_t errlen)
{
	struct cr_export *ce = calloc(1, sizeof(*ce));
	if (!ce) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = unlock(ex->path, &a->pass, &ce->keys, err, errlen);
	if (rc == 0 && a->nexcludes) {
		ce->exclude = crypt_exclude_new((const char *const *)a->excludes, a->nexcludes, err,
						errlen);
		rc = ce->exclude ? 0 : -EINVAL;
	}
	if (rc == 0 && (rc = open_lower(ex, ce)) < 0)
		snprintf(err, errlen, "%s: %s", ex->path, strerror(-rc));
	if (rc < 0) {
		crypt_exclude_free(ce->exclude);
		crypt_keys_free(ce->keys);
		free(ce);
		return rc;
	}
	ex->be = ce;
	ex->crossmnt = false;
	return 0;
}

void cr_shutdown(struct export *ex)
{
	struct cr_export *ce = cr_export(ex);
	if (!ce)
		return;
	passthrough_ops.shutdown(&ce->lower);
	crypt_exclude_free(ce->exclude);
	crypt_keys_free(ce->keys);
	free(ce);
	ex->be = NULL;
}

int cr_root(struct export *ex, struct vfs_new *out)
{
	struct vfs_new lnew;
	int rc = passthrough_ops.root(&cr_export(ex)->lower, &lnew);
	if (rc < 0)
		return rc;
	out->ex = ex;
	cr_make_fh(ex, CR_REAL, NULL, &lnew.fh, &lnew.st, &out->fh);
	cr_view_stat_of(CR_REAL, NULL, 0, &lnew.st, &out->st);
	return 0;
}

/* One encrypted name below the object handle at names. */
static int walk_one(struct export *ex, struct vfs_new *at, const char *name)
{
	struct vfs_obj dir;
	int rc = cr_resolve(ex, at->fh.data + FH_HDR, at->fh.len - FH_HDR, false, &dir);
	if (rc < 0)
		return rc;
	dir.view = NULL;
	rc = crypt_reverse_ops.lookup(&dir, name, at);
	cr_release(&dir);
	return rc;
}

/* MOUNT of a path below the view's root: its encrypted names, one at a time, as the server. */
int cr_lookup_path(struct export *ex, const char *sub, struct vfs_new *out)
{
	char *copy = strdup(sub);
	if (!copy)
		return -ENOMEM;
	cred_escalate();
	int rc = cr_root(ex, out);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); rc == 0 && c; c = strtok_r(NULL, "/", &save))
		if (!vfs_is_dot_or_dotdot(c, strlen(c)))
			rc = walk_one(ex, out, c);
	cred_restore();
	free(copy);
	if (rc == 0 && !S_ISDIR(out->st.st_mode))
		rc = -ENOTDIR;
	return rc;
}
