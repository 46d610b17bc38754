/*
 * encrypt-tree: write the whole encrypted view of a plaintext directory,
 * exactly what gocryptfs -reverse shows for it and what the NFS backend
 * will serve. Every name, size and byte comes from the core's per-object
 * calls (crypt_view_list, crypt_read_view, crypt_view_readlink); this file
 * only walks and writes. Hard links are written once per path, each with
 * its own path's IVs (gocryptfs uses whichever path was opened first).
 */
#define _GNU_SOURCE
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20) /* view bytes per crypt_read_view call, like a large NFS READ */

struct ewalk {
	const struct crypt_keys *k;
	int src, out;	   /* the plaintext directory and its output */
	const char *cpath; /* the directory's cipher-relative path */
	const char *ppath; /* and its plaintext one, for messages */
	int failed;
};

static int walk_dir(const struct crypt_keys *k, int src, int out, const char *cpath,
		    const char *ppath);

static int write_virtual(int out, const char *name, const uint8_t *p, size_t len, mode_t mode)
{
	int fd = openat(out, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = tool_write_all(fd, p, len);
	if (fchmod(fd, mode) < 0 && r == 0)
		r = -errno;
	close(fd);
	return r;
}

/* The view's bytes of one plaintext file, a chunk at a time, as READs would fetch them. */
static int copy_view(const struct crypt_keys *k, int pfd, int ofd, const char *cpath)
{
	struct crypt_file_ivs ivs;
	struct stat st;
	uint8_t *buf = malloc(CHUNK);
	int r = buf ? 0 : -ENOMEM;
	if (r == 0 && fstat(pfd, &st) < 0)
		r = -errno;
	if (r == 0)
		crypt_file_ivs_of(cpath, &st, &ivs);
	for (uint64_t off = 0; r == 0;) {
		ssize_t n = crypt_read_view(k, &ivs, pfd, off, CHUNK, buf);
		if (n < 0)
			r = (int)n;
		if (n > 0)
			r = tool_write_all(ofd, buf, (size_t)n);
		if (n < (ssize_t)CHUNK)
			break;
		off += (uint64_t)n;
	}
	free(buf);
	return r;
}

static int put_file(struct ewalk *w, const struct crypt_ventry *e, const char *cpath)
{
	int pfd = openat(w->src, e->plain_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	int ofd = openat(w->out, e->vname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), r = 0;
	if (ofd < 0)
		r = -errno;
	else
		r = copy_view(w->k, pfd, ofd, cpath);
	if (ofd >= 0)
		close(ofd);
	close(pfd);
	return r;
}

static int put_symlink(struct ewalk *w, const struct crypt_ventry *e, const char *cpath)
{
	char ctarget[CRYPT_SYMLINK_MAX + 1];
	ssize_t n = crypt_view_readlink(w->k, w->src, e->plain_name, cpath, ctarget);
	if (n < 0)
		return (int)n;
	return symlinkat(ctarget, w->out, e->vname) < 0 ? -errno : 0;
}

static int put_dir(struct ewalk *w, const struct crypt_ventry *e, const char *cpath,
		   const char *ppath)
{
	if (mkdirat(w->out, e->vname, 0700) < 0)
		return -errno;
	int sfd = openat(w->src, e->plain_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int ofd = openat(w->out, e->vname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = sfd < 0 || ofd < 0 ? -errno : 0;
	if (r == 0)
		w->failed += walk_dir(w->k, sfd, ofd, cpath, ppath);
	if (sfd >= 0)
		close(sfd);
	if (ofd >= 0)
		close(ofd);
	return r;
}

static int put_real(struct ewalk *w, const struct crypt_ventry *e)
{
	struct stat st;
	if (fstatat(w->src, e->plain_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	char *cpath = tool_join(w->cpath, e->vname), *ppath = tool_join(w->ppath, e->plain_name);
	int r;
	if (S_ISDIR(st.st_mode))
		r = put_dir(w, e, cpath, ppath);
	else if (S_ISREG(st.st_mode))
		r = put_file(w, e, cpath);
	else if (S_ISLNK(st.st_mode))
		r = put_symlink(w, e, cpath);
	else /* FIFOs, sockets and devices show as they are */
		r = tool_make_special(w->out, e->vname, &st);
	if (r == 0)
		tool_copy_meta(w->out, e->vname, &st);
	free(cpath);
	free(ppath);
	return r;
}

/* The root's config as it is: gocryptfs passes .gocryptfs.reverse.conf through. */
static int put_conf(struct ewalk *w, const struct crypt_ventry *e)
{
	struct stat st;
	int pfd = openat(w->src, e->plain_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &st) < 0) {
		int r = -errno;
		if (pfd >= 0)
			close(pfd);
		return r;
	}
	char buf[65536];
	ssize_t n = read(pfd, buf, sizeof(buf));
	close(pfd);
	if (n < 0)
		return -errno;
	int r = write_virtual(w->out, e->vname, (uint8_t *)buf, (size_t)n, st.st_mode & 07777);
	if (r == 0)
		tool_copy_meta(w->out, e->vname, &st);
	return r;
}

static int put_entry(void *arg, const struct crypt_ventry *e)
{
	struct ewalk *w = arg;
	int r;
	switch (e->kind) {
	case CRYPT_V_DIRIV:
	case CRYPT_V_NAME_FILE:
		r = write_virtual(w->out, e->vname, e->content, e->content_len, CRYPT_VIRTUAL_MODE);
		break;
	case CRYPT_V_CONF:
		r = put_conf(w, e);
		break;
	default:
		r = put_real(w, e);
	}
	if (r < 0) {
		tool_err("encrypt-tree: %s%s%s: %s", w->ppath, *w->ppath ? "/" : "",
			 e->kind == CRYPT_V_REAL ? e->plain_name : e->vname, strerror(-r));
		w->failed++;
	}
	return 0; /* go on with the other entries */
}

static int walk_dir(const struct crypt_keys *k, int src, int out, const char *cpath,
		    const char *ppath)
{
	struct ewalk w = { .k = k, .src = src, .out = out, .cpath = cpath, .ppath = ppath };
	int r = crypt_view_list(k, src, cpath, put_entry, &w);
	if (r < 0) {
		tool_err("encrypt-tree: %s: %s", *ppath ? ppath : ".", strerror(-r));
		w.failed++;
	}
	return w.failed;
}

int encrypt_tree(const struct crypt_keys *k, const char *dir, const char *outdir)
{
	struct stat st;
	int src = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0) {
		tool_err("%s: %s", dir, strerror(errno));
		return 1;
	}
	int out = tool_open_outdir(outdir);
	if (out < 0) {
		close(src);
		return 1;
	}
	int failed = walk_dir(k, src, out, "", "");
	tool_copy_meta(out, ".", &st);
	close(out);
	close(src);
	return failed;
}
