/*
 * nfs_mirror URL OUTDIR: copy a whole NFS export into OUTDIR through
 * libnfs (an NFS client independent of the server's code), as a backup
 * tool reading the encrypted view would: directories, files (read in
 * chunks of a size given by $MIRROR_CHUNK, default 128 KiB, so READs start
 * at offsets inside blocks), symlinks (their targets as READLINK gives
 * them) and FIFOs. For each object it prints one line on stdout:
 *   TYPE SIZE PATH
 * where SIZE is what the server's attributes said (READDIRPLUS for the
 * listing, GETATTR of the opened file), so the caller can check them
 * against the bytes read. A file whose bytes read differ in length from
 * its attributes' size is an error (exit 1), as is any failed call.
 *
 * URL: nfs://127.0.0.1/?nfsport=N&mountport=N&version=3
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <nfsc/libnfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct nfs_context *nfs;
static size_t chunk = 128 * 1024;

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "nfs_mirror: %s %s: %s\n", what, path, nfs_get_error(nfs));
	return -1;
}

static int copy_file(const char *rpath, const char *lpath, uint64_t attr_size)
{
	struct nfsfh *fh;
	if (nfs_open(nfs, rpath, O_RDONLY, &fh) < 0)
		return fail("open", rpath);
	struct nfs_stat_64 st;
	if (nfs_fstat64(nfs, fh, &st) < 0 || st.nfs_size != attr_size) {
		nfs_close(nfs, fh);
		fprintf(stderr, "nfs_mirror: %s: GETATTR size %" PRIu64 ", listing %" PRIu64 "\n",
			rpath, (uint64_t)st.nfs_size, attr_size);
		return -1;
	}
	int out = open(lpath, O_WRONLY | O_CREAT | O_EXCL, 0600);
	char *buf = malloc(chunk);
	uint64_t total = 0;
	int rc = out >= 0 && buf ? 0 : -1;
	while (rc == 0) {
		int n = nfs_pread(nfs, fh, total, chunk, buf);
		if (n < 0)
			rc = fail("read", rpath);
		else if (n == 0)
			break;
		else if (write(out, buf, (size_t)n) != n)
			rc = -1;
		else
			total += (uint64_t)n;
	}
	free(buf);
	if (out >= 0)
		close(out);
	nfs_close(nfs, fh);
	if (rc == 0 && total != attr_size) {
		fprintf(stderr, "nfs_mirror: %s: read %" PRIu64 " bytes, size says %" PRIu64 "\n",
			rpath, total, attr_size);
		rc = -1;
	}
	return rc;
}

static int mirror_dir(const char *rpath, const char *lpath);

static int mirror_entry(const char *rpath, const char *lpath, const struct nfsdirent *de)
{
	char target[PATH_MAX + 1];
	switch (de->mode & S_IFMT) {
	case S_IFDIR:
		printf("d %" PRIu64 " %s\n", (uint64_t)de->size, rpath);
		if (mkdir(lpath, 0700) < 0)
			return -1;
		return mirror_dir(rpath, lpath);
	case S_IFREG:
		printf("f %" PRIu64 " %s\n", (uint64_t)de->size, rpath);
		return copy_file(rpath, lpath, de->size);
	case S_IFLNK:
		memset(target, 0, sizeof(target));
		if (nfs_readlink(nfs, rpath, target, sizeof(target) - 1) < 0)
			return fail("readlink", rpath);
		printf("l %" PRIu64 " %s\n", (uint64_t)de->size, rpath);
		if (strlen(target) != de->size) {
			fprintf(stderr,
				"nfs_mirror: %s: target of %zu bytes, size says %" PRIu64 "\n",
				rpath, strlen(target), (uint64_t)de->size);
			return -1;
		}
		return symlink(target, lpath);
	case S_IFIFO:
		printf("p %" PRIu64 " %s\n", (uint64_t)de->size, rpath);
		return mkfifo(lpath, 0600);
	default:
		printf("? %" PRIu64 " %s\n", (uint64_t)de->size, rpath);
		return 0;
	}
}

static int mirror_dir(const char *rpath, const char *lpath)
{
	struct nfsdir *dir;
	if (nfs_opendir(nfs, rpath, &dir) < 0)
		return fail("opendir", rpath);
	int rc = 0;
	struct nfsdirent *de;
	while (rc == 0 && (de = nfs_readdir(nfs, dir))) {
		if (!strcmp(de->name, ".") || !strcmp(de->name, ".."))
			continue;
		char *r, *l;
		if (asprintf(&r, "%s/%s", strcmp(rpath, "/") ? rpath : "", de->name) < 0)
			rc = -1;
		else if (asprintf(&l, "%s/%s", lpath, de->name) < 0) {
			free(r);
			rc = -1;
		} else {
			rc = mirror_entry(r, l, de);
			if (rc < 0)
				fprintf(stderr, "nfs_mirror: %s: failed (%s)\n", r,
					strerror(errno));
			free(r);
			free(l);
		}
	}
	nfs_closedir(nfs, dir);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: nfs_mirror URL OUTDIR\n");
		return 2;
	}
	const char *c = getenv("MIRROR_CHUNK");
	if (c && atol(c) > 0)
		chunk = (size_t)atol(c);
	nfs = nfs_init_context();
	struct nfs_url *url = nfs ? nfs_parse_url_dir(nfs, argv[1]) : NULL;
	if (!url) {
		fprintf(stderr, "nfs_mirror: bad URL %s: %s\n", argv[1],
			nfs ? nfs_get_error(nfs) : "no memory");
		return 2;
	}
	if (nfs_mount(nfs, url->server, url->path) < 0) {
		fprintf(stderr, "nfs_mirror: mount %s: %s\n", argv[1], nfs_get_error(nfs));
		return 2;
	}
	int rc = mirror_dir("/", argv[2]);
	nfs_destroy_url(url);
	nfs_destroy_context(nfs);
	return rc == 0 ? 0 : 1;
}
