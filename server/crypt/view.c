/*
 * The encrypted view of a plaintext directory, one object at a time, as
 * gocryptfs -reverse shows it (fusefrontend_reverse/): what a plaintext
 * entry is called in the view, what a view name stands for, a directory's
 * listing with its virtual files, and the sizes and symlink targets
 * GETATTR and READLINK report. encrypt-tree and the NFS backend both call
 * these; nothing here writes anything.
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Plaintext names up to this long never need a longname (padded and
 * encoded they stay within 255 bytes): a longname lookup encrypts only the
 * longer ones (root_node.go's shortNameMax).
 */
#define SHORT_NAME_MAX 175

static void set_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

void crypt_view_diriv_entry(const char *dir_cpath, struct crypt_ventry *e)
{
	memset(e, 0, sizeof(*e));
	e->kind = CRYPT_V_DIRIV;
	set_str(e->vname, sizeof(e->vname), CRYPT_DIRIV_NAME);
	crypt_path_iv(dir_cpath, CRYPT_PURPOSE_DIRIV, e->content);
	e->content_len = CRYPT_IV_LEN;
}

static void name_file_entry(const struct crypt_ventry *real, const char *cname, size_t clen,
			    struct crypt_ventry *nf)
{
	memset(nf, 0, sizeof(*nf));
	nf->kind = CRYPT_V_NAME_FILE;
	/* real->vname is a longname (62 bytes): the suffix always fits. */
	size_t n = strlen(real->vname);
	memcpy(nf->vname, real->vname, n);
	memcpy(nf->vname + n, CRYPT_LONGNAME_SUFFIX, sizeof(CRYPT_LONGNAME_SUFFIX));
	set_str(nf->plain_name, sizeof(nf->plain_name), real->plain_name);
	memcpy(nf->content, cname, clen);
	nf->content_len = clen;
}

int crypt_view_entry(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN], bool root,
		     const char *plain, struct crypt_ventry *e, struct crypt_ventry *name_file,
		     bool *has_name_file)
{
	char cname[CRYPT_CNAME_MAX + 1];
	memset(e, 0, sizeof(*e));
	*has_name_file = false;
	if (strlen(plain) > CRYPT_NAME_MAX)
		return -ENAMETOOLONG;
	set_str(e->plain_name, sizeof(e->plain_name), plain);
	/* The root's config shows under the name a forward mount looks for. */
	if (root && strcmp(plain, CRYPT_CONF_NAME) == 0) {
		e->kind = CRYPT_V_CONF;
		set_str(e->vname, sizeof(e->vname), CRYPT_CONF_VIEW_NAME);
		return 0;
	}
	ssize_t n = crypt_name_encrypt(k, diriv, plain, strlen(plain), cname);
	if (n < 0)
		return (int)n;
	e->kind = CRYPT_V_REAL;
	if (n <= CRYPT_NAME_MAX) {
		memcpy(e->vname, cname, (size_t)n + 1);
		return 0;
	}
	crypt_longname_hash(cname, (size_t)n, e->vname);
	name_file_entry(e, cname, (size_t)n, name_file);
	*has_name_file = true;
	return 0;
}

/* A directory stream of its own over dirfd, from the start. */
static DIR *open_dir_copy(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

static bool is_dot(const char *n)
{
	return strcmp(n, ".") == 0 || strcmp(n, "..") == 0;
}

int crypt_view_name_files(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
			  crypt_list_fn fn, void *arg)
{
	bool root = dir_cpath[0] == '\0';
	uint8_t diriv[CRYPT_IV_LEN];
	struct crypt_ventry e, nf;
	DIR *d = open_dir_copy(dirfd);
	if (!d)
		return -errno;
	crypt_path_iv(dir_cpath, CRYPT_PURPOSE_DIRIV, diriv);
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		bool has_nf;
		if (strlen(de->d_name) <= SHORT_NAME_MAX)
			continue;
		if (crypt_view_entry(k, diriv, root, de->d_name, &e, &nf, &has_nf) == 0 && has_nf)
			r = fn(arg, &nf);
	}
	closedir(d);
	return r;
}

struct longname_find {
	const char *hashed; /* the longname without .name */
	struct crypt_ventry *nf;
};

static int longname_match(void *arg, const struct crypt_ventry *nf)
{
	struct longname_find *f = arg;
	size_t n = strlen(f->hashed);
	if (strncmp(nf->vname, f->hashed, n) != 0 || strcmp(nf->vname + n, CRYPT_LONGNAME_SUFFIX))
		return 0;
	*f->nf = *nf;
	return 1;
}

/* The .name entry of the long plaintext name in dirfd whose longname is hashed. */
static int find_longname(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
			 const char *hashed, struct crypt_ventry *nf)
{
	struct longname_find f = { hashed, nf };
	int r = crypt_view_name_files(k, dirfd, dir_cpath, longname_match, &f);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

static int lookup_longname(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
			   const char *vname, struct crypt_ventry *e)
{
	char hashed[CRYPT_NAME_MAX + 1];
	struct crypt_ventry nf;
	bool name_file = crypt_is_longname_file(vname);
	set_str(hashed, sizeof(hashed), vname);
	if (name_file)
		hashed[strlen(hashed) - strlen(CRYPT_LONGNAME_SUFFIX)] = '\0';
	int r = find_longname(k, dirfd, dir_cpath, hashed, &nf);
	if (r != 0)
		return r;
	if (name_file) {
		*e = nf;
		return 0;
	}
	/* The entry itself: its view name is the .name file's without the suffix. */
	memset(e, 0, sizeof(*e));
	e->kind = CRYPT_V_REAL;
	set_str(e->vname, sizeof(e->vname), hashed);
	set_str(e->plain_name, sizeof(e->plain_name), nf.plain_name);
	return 0;
}

static int lookup_plain(const struct crypt_keys *k, int dirfd, const uint8_t diriv[16], bool root,
			const char *vname, struct crypt_ventry *e)
{
	char plain[CRYPT_NAME_MAX + 1];
	struct stat st;
	ssize_t n = crypt_name_decrypt(k, diriv, vname, strlen(vname), plain);
	if (n < 0)
		return -ENOENT; /* not a name of ours (".Trash", a longname's target...) */
	/* The root's config is only reachable as gocryptfs.conf, as the listing shows it. */
	if (root && strcmp(plain, CRYPT_CONF_NAME) == 0)
		return -ENOENT;
	if (fstatat(dirfd, plain, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	memset(e, 0, sizeof(*e));
	e->kind = CRYPT_V_REAL;
	set_str(e->vname, sizeof(e->vname), vname);
	memcpy(e->plain_name, plain, (size_t)n + 1);
	return 0;
}

int crypt_view_lookup(const struct crypt_keys *k, int dirfd, const char *dir_cpath,
		      const char *vname, struct crypt_ventry *e)
{
	bool root = dir_cpath[0] == '\0';
	uint8_t diriv[CRYPT_IV_LEN];
	struct stat st;
	if (strlen(vname) > CRYPT_NAME_MAX)
		return -ENAMETOOLONG;
	if (strcmp(vname, CRYPT_DIRIV_NAME) == 0) {
		crypt_view_diriv_entry(dir_cpath, e);
		return 0;
	}
	if (root && strcmp(vname, CRYPT_CONF_VIEW_NAME) == 0) {
		if (fstatat(dirfd, CRYPT_CONF_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		memset(e, 0, sizeof(*e));
		e->kind = CRYPT_V_CONF;
		set_str(e->vname, sizeof(e->vname), vname);
		set_str(e->plain_name, sizeof(e->plain_name), CRYPT_CONF_NAME);
		return 0;
	}
	crypt_path_iv(dir_cpath, CRYPT_PURPOSE_DIRIV, diriv);
	if (crypt_is_longname(vname) || crypt_is_longname_file(vname))
		return lookup_longname(k, dirfd, dir_cpath, vname, e);
	return lookup_plain(k, dirfd, diriv, root, vname, e);
}

/* The .name files found while listing, emitted after the real entries. */
struct nf_list {
	struct crypt_ventry *v;
	size_t n, cap;
};

static int nf_push(struct nf_list *l, const struct crypt_ventry *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct crypt_ventry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

static int list_real(const struct crypt_keys *k, DIR *d, const char *dir_cpath, crypt_list_fn fn,
		     void *arg, struct nf_list *nfs)
{
	bool root = dir_cpath[0] == '\0';
	uint8_t diriv[CRYPT_IV_LEN];
	struct crypt_ventry e, nf;
	struct dirent *de;
	crypt_path_iv(dir_cpath, CRYPT_PURPOSE_DIRIV, diriv);
	errno = 0;
	while ((de = readdir(d))) {
		bool has_nf;
		if (is_dot(de->d_name))
			continue;
		/* A name that cannot be encrypted (none on Linux) is left out, as gocryptfs marks it. */
		if (crypt_view_entry(k, diriv, root, de->d_name, &e, &nf, &has_nf) < 0)
			continue;
		int r = fn(arg, &e);
		if (r == 0 && has_nf)
			r = nf_push(nfs, &nf);
		if (r)
			return r;
		errno = 0;
	}
	return errno ? -errno : 0;
}

int crypt_view_list(const struct crypt_keys *k, int dirfd, const char *dir_cpath, crypt_list_fn fn,
		    void *arg)
{
	struct nf_list nfs = { 0 };
	struct crypt_ventry diriv;
	DIR *d = open_dir_copy(dirfd);
	if (!d)
		return -errno;
	int r = list_real(k, d, dir_cpath, fn, arg, &nfs);
	closedir(d);
	crypt_view_diriv_entry(dir_cpath, &diriv);
	if (r == 0)
		r = fn(arg, &diriv);
	for (size_t i = 0; r == 0 && i < nfs.n; i++)
		r = fn(arg, &nfs.v[i]);
	free(nfs.v);
	return r;
}

ssize_t crypt_view_readlink(const struct crypt_keys *k, int dirfd, const char *plain_name,
			    const char *link_cpath, char out[CRYPT_SYMLINK_MAX + 1])
{
	char target[CRYPT_PLAIN_BS + 1];
	ssize_t n = readlinkat(dirfd, plain_name, target, sizeof(target));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(target))
		return -ENAMETOOLONG;
	/*
	 * gocryptfs 2.3's READLINK runs on the link's own node and joins its
	 * path with its name once more (node_helpers.go readlink:
	 * Join(n.Path(), cName)), so the nonce comes from "dir/link/link".
	 * Copied: the bytes must be what a gocryptfs mount shows.
	 */
	const char *base = strrchr(link_cpath, '/');
	char *iv_path = crypt_path_join(link_cpath, base ? base + 1 : link_cpath);
	if (!iv_path)
		return -ENOMEM;
	ssize_t r = crypt_symlink_encrypt(k, iv_path, target, (size_t)n, out);
	free(iv_path);
	return r;
}

int crypt_view_size(const struct crypt_keys *k, int dirfd, const char *plain_name,
		    const char *cpath, const struct stat *st, uint64_t *size)
{
	char ctarget[CRYPT_SYMLINK_MAX + 1];
	if (S_ISREG(st->st_mode)) {
		*size = crypt_cipher_size((uint64_t)st->st_size);
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = crypt_view_readlink(k, dirfd, plain_name, cpath, ctarget);
		if (n < 0)
			return (int)n;
		*size = (uint64_t)n;
	} else {
		*size = (uint64_t)st->st_size;
	}
	return 0;
}
