/*
 * Listing a directory of the encrypted view: passthrough's own listing
 * (its kept streams and cookies), each name encrypted as it goes by, and
 * after its end the virtual files gocryptfs lists last: gocryptfs.diriv,
 * then a .name file per longname. Their cookies have the top bit set,
 * which no directory offset of the filesystems served has (ext4's hash
 * cookies and EOF mark stay below 2^63, others are small counters).
 */
#define _GNU_SOURCE
#include "cr_int.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#define TAIL_COOKIE (UINT64_C(1) << 63)

struct cr_list {
	struct vfs_obj *dir;
	vfs_dirent_fn fn;
	void *ctx;
	uint8_t diriv[CRYPT_IV_LEN];
	bool root;
	int err;
	bool stopped;
	/* The entry being shown: what its attrs callback needs. */
	const struct vfs_dirent *lower_de;
	enum cr_kind kind;
	const struct crypt_ventry *virt;
	/* The tail: entries to skip, and the index of the next one. */
	uint64_t skip, index;
};

static const struct cr_obj *dir_obj(const struct cr_list *l)
{
	return cr_obj(l->dir);
}

static int real_attrs(const struct vfs_dirent *de, struct vfs_new *out)
{
	const struct cr_list *l = de->priv;
	struct vfs_new lnew;
	int rc = l->lower_de->attrs(l->lower_de, &lnew);
	if (rc < 0)
		return rc;
	out->ex = l->dir->ex;
	cr_make_fh(l->dir->ex, l->kind, NULL, &lnew.fh, &lnew.st, &out->fh);
	cr_view_stat_of(l->kind, NULL, 0, &lnew.st, &out->st);
	return 0;
}

static int virtual_attrs(const struct vfs_dirent *de, struct vfs_new *out)
{
	const struct cr_list *l = de->priv;
	cr_make_virtual(l->dir->ex, dir_obj(l), l->virt, out);
	return 0;
}

/* Is the plaintext entry name of the listed directory left out of the view? */
static bool entry_excluded(const struct cr_list *l, const char *name)
{
	return cr_excluded_child(l->dir->ex, dir_obj(l)->plain_rel, name);
}

static bool show_lower(void *ctxp, const struct vfs_dirent *lde)
{
	struct cr_list *l = ctxp;
	struct crypt_ventry e, nf;
	bool has_nf;
	struct vfs_dirent de = *lde;
	de.attrs = real_attrs;
	de.priv = l;
	l->lower_de = lde;
	l->kind = CR_REAL;
	if (!vfs_is_dot_or_dotdot(lde->name, lde->namelen)) {
		if (entry_excluded(l, lde->name))
			return true;
		/* A name that cannot be encrypted (none on Linux) is left out. */
		if (crypt_view_entry(cr_export(l->dir->ex)->keys, l->diriv, l->root, lde->name, &e,
				     &nf, &has_nf) < 0)
			return true;
		l->kind = e.kind == CRYPT_V_CONF ? CR_CONF : CR_REAL;
		de.name = e.vname;
		de.namelen = strlen(e.vname);
	}
	bool more = l->fn(l->ctx, &de);
	l->stopped = !more;
	return more;
}

/* One virtual entry of the tail, unless a previous call showed it already. */
static int show_virtual(struct cr_list *l, const struct crypt_ventry *e)
{
	uint64_t index = l->index++;
	if (index < l->skip)
		return 0;
	struct vfs_dirent de = {
		.name = e->vname,
		.namelen = strlen(e->vname),
		.cookie = TAIL_COOKIE | (index + 1),
		.attrs = virtual_attrs,
		.priv = l,
	};
	struct stat st;
	l->virt = e;
	cr_view_stat_of(cr_virtual_kind(e), cr_name_prefix(e), e->content_len,
			&dir_obj(l)->lower.st, &st);
	de.fileid = (uint64_t)st.st_ino;
	if (!l->fn(l->ctx, &de)) {
		l->stopped = true;
		return 1;
	}
	return 0;
}

static int show_name_file(void *arg, const struct crypt_ventry *nf)
{
	struct cr_list *l = arg;
	/* The .name file of an excluded entry is excluded with it. */
	if (entry_excluded(l, nf->plain_name)) {
		l->index++;
		return 0;
	}
	return show_virtual(l, nf);
}

static int list_tail(struct cr_list *l)
{
	const struct cr_obj *d = dir_obj(l);
	struct crypt_ventry diriv;
	crypt_view_diriv_entry(d->cpath, &diriv);
	int rc = show_virtual(l, &diriv);
	if (rc == 0)
		rc = crypt_view_name_files(cr_export(l->dir->ex)->keys, d->lower.be.pt.fd, d->cpath,
					   show_name_file, l);
	return rc < 0 ? rc : 0;
}

int cr_readdir(struct vfs_obj *dir, uint64_t cookie, size_t want, bool plus, vfs_dirent_fn fn,
	       void *ctx, bool *eof)
{
	struct cr_obj *d = cr_obj(dir);
	if (d->kind != CR_REAL || !S_ISDIR(d->lower.st.st_mode))
		return -ENOTDIR;
	int rc = cr_paths(dir->ex, d);
	if (rc < 0)
		return rc;
	struct cr_list l = { .dir = dir, .fn = fn, .ctx = ctx, .root = d->cpath[0] == '\0' };
	crypt_path_iv(d->cpath, CRYPT_PURPOSE_DIRIV, l.diriv);
	*eof = false;
	if (!(cookie & TAIL_COOKIE)) {
		bool lower_eof = false;
		rc = passthrough_ops.readdir(&d->lower, cookie, want, plus, show_lower, &l,
					     &lower_eof);
		if (rc < 0 || !lower_eof || l.stopped)
			return rc;
	} else {
		l.skip = cookie & ~TAIL_COOKIE;
	}
	rc = list_tail(&l);
	if (rc == 0 && !l.stopped)
		*eof = true;
	return rc;
}
