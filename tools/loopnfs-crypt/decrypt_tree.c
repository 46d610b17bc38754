/*
 * decrypt: restore a copy of an encrypted view (as gocryptfs -reverse or
 * encrypt-tree wrote it, gocryptfs.conf at its root) without FUSE, through
 * the forward view's functions (crypt_fwd_*, as loopnfsd --decrypt): names
 * with each directory's gocryptfs.diriv, longnames through their .name
 * file (whose hash must match), contents block by block. An
 * object that does not decrypt is reported with its path, its partial
 * output removed, and the walk goes on; the exit status says it failed.
 */
#define _GNU_SOURCE
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dwalk {
	const struct crypt_keys *k;
	int src, out;	   /* the cipher directory and its restored plaintext */
	const char *cpath; /* the cipher directory's path, for messages */
	const char *ppath; /* its plaintext path, for messages */
	int failed;
};

static int walk_dir(const struct crypt_keys *k, int src, int out, const char *cpath,
		    const char *ppath, bool root);

/* Names the object by its path in the copy and, once known, its plaintext path. */
static void fail_obj(struct dwalk *w, const char *cname, const char *plain, const char *what)
{
	const char *sep = *w->cpath ? "/" : "", *psep = *w->ppath ? "/" : "";
	if (plain)
		tool_err("decrypt: %s%s%s (%s%s%s): %s", w->cpath, sep, cname, w->ppath, psep,
			 plain, what);
	else
		tool_err("decrypt: %s%s%s: %s", w->cpath, sep, cname, what);
	w->failed++;
}

static int restore_file(struct dwalk *w, const char *vname, const char *plain)
{
	char msg[128];
	uint64_t bad;
	int cfd = openat(w->src, vname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return -errno;
	int ofd = openat(w->out, plain, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r = ofd < 0 ? -errno : crypt_decrypt_file(w->k, cfd, ofd, &bad);
	close(cfd);
	if (ofd >= 0)
		close(ofd);
	if (r < 0 && ofd >= 0)
		unlinkat(w->out, plain, 0); /* never leave wrong or partial data behind */
	if (r == -EBADMSG) {
		if (bad == UINT64_MAX)
			snprintf(msg, sizeof(msg),
				 "bad file header: not a gocryptfs v2 file (all zeros if "
				 "a sparse-aware copy made it a hole)");
		else
			snprintf(msg, sizeof(msg),
				 "block %llu does not authenticate: tampered or corrupt",
				 (unsigned long long)bad);
		fail_obj(w, vname, plain, msg);
		return 1;
	}
	if (r == -EINVAL) {
		fail_obj(w, vname, plain,
			 "size is not that of any encrypted file: truncated or corrupt");
		return 1;
	}
	return r;
}

static int restore_symlink(struct dwalk *w, const char *vname, const char *plain)
{
	char ctarget[CRYPT_SYMLINK_MAX + 1], target[CRYPT_SYMLINK_MAX + 1];
	ssize_t n = readlinkat(w->src, vname, ctarget, sizeof(ctarget) - 1);
	if (n < 0)
		return -errno;
	ctarget[n] = '\0';
	n = crypt_symlink_decrypt(w->k, ctarget, (size_t)n, target);
	if (n < 0)
		return (int)n;
	return symlinkat(target, w->out, plain) < 0 ? -errno : 0;
}

static int restore_dir(struct dwalk *w, const char *vname, const char *plain)
{
	if (mkdirat(w->out, plain, 0700) < 0)
		return -errno;
	int sfd = openat(w->src, vname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int ofd = openat(w->out, plain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = sfd < 0 || ofd < 0 ? -errno : 0;
	char *cpath = tool_join(w->cpath, vname), *ppath = tool_join(w->ppath, plain);
	if (r == 0)
		w->failed += walk_dir(w->k, sfd, ofd, cpath, ppath, false);
	free(cpath);
	free(ppath);
	if (sfd >= 0)
		close(sfd);
	if (ofd >= 0)
		close(ofd);
	return r;
}

/* Returns 0, 1 (already reported) or -errno (reported by the caller). */
static int restore_entry(struct dwalk *w, const char *vname, const char *plain)
{
	struct stat st;
	int r = fstatat(w->src, vname, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	if (r < 0)
		return r;
	if (S_ISDIR(st.st_mode))
		r = restore_dir(w, vname, plain);
	else if (S_ISREG(st.st_mode))
		r = restore_file(w, vname, plain);
	else if (S_ISLNK(st.st_mode))
		r = restore_symlink(w, vname, plain);
	else
		r = tool_make_special(w->out, plain, &st);
	if (r == 0)
		tool_copy_meta(w->out, plain, &st);
	return r;
}

/* One entry of the copy (its own files left out by crypt_fwd_list): every failure reported. */
static int restore_listed(void *arg, const struct crypt_fwd_entry *e)
{
	struct dwalk *w = arg;
	int r = e->err;
	if (r == -EBADMSG) {
		fail_obj(w, e->cname, NULL,
			 "the name does not decrypt: tampered, or not of this config");
		return 0;
	}
	if (r == 0)
		r = restore_entry(w, e->cname, e->plain);
	if (r < 0)
		fail_obj(w, e->cname, NULL, strerror(-r));
	return 0;
}

static int walk_dir(const struct crypt_keys *k, int src, int out, const char *cpath,
		    const char *ppath, bool root)
{
	struct dwalk w = { .k = k, .src = src, .out = out, .cpath = cpath, .ppath = ppath };
	uint8_t diriv[CRYPT_IV_LEN];
	/* Read here too, for the message: without it no name in the directory decrypts. */
	int r = crypt_fwd_diriv(src, diriv);
	if (r < 0) {
		tool_err("decrypt: %s/%s: %s", *cpath ? cpath : ".", CRYPT_DIRIV_NAME,
			 r == -EBADMSG ? "not a file of 16 bytes" : strerror(-r));
		return 1;
	}
	r = crypt_fwd_list(k, src, root, restore_listed, &w);
	if (r < 0) {
		tool_err("decrypt: %s: %s", *cpath ? cpath : ".", strerror(-r));
		w.failed++;
	}
	return w.failed;
}

int decrypt_tree(const struct crypt_keys *k, const char *cipherdir, const char *outdir)
{
	struct stat st;
	int src = open(cipherdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) < 0) {
		tool_err("%s: %s", cipherdir, strerror(errno));
		return 1;
	}
	int out = tool_open_outdir(outdir);
	if (out < 0) {
		close(src);
		return 1;
	}
	int failed = walk_dir(k, src, out, "", "", true);
	tool_copy_meta(out, ".", &st);
	close(out);
	close(src);
	return failed;
}
