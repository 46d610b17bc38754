/* The export table. */
#define _GNU_SOURCE
#include "export.h"

#include "fs_watch.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct export *table[EXPORT_MAX];
static unsigned nexports;

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
	int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", real, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(real);
		return NULL;
	}
	struct export *ex = calloc(1, sizeof(*ex));
	if (!ex) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		free(real);
		return NULL;
	}
	ex->idx = nexports;
	ex->path = real;
	ex->root_fd = fd;
	ex->mount_fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ex->dev = st.st_dev;
	ex->root_ino = st.st_ino;
	ex->fsid = (uint64_t)st.st_dev;
	ex->opts = *opts;
	ex->watch = ex->mount_fd >= 0 ? fs_watch_open(ex->mount_fd) : NULL; /* fanotify refuses O_PATH */
	table[nexports++] = ex;
	return ex;
}

struct export *export_get(unsigned idx)
{
	return idx < nexports ? table[idx] : NULL;
}

unsigned export_count(void)
{
	return nexports;
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

struct export *export_find(const char *mntpath, const char **subpath)
{
	if (!mntpath || nexports == 0)
		return NULL;
	/* Some clients (libnfs URLs naming a file in the root) ask for "". */
	if (mntpath[0] == '\0')
		mntpath = "/";
	if (mntpath[0] != '/')
		return NULL;
	/* With one export, "/" is its root (what `mount server:/ MNT` asks for). */
	if (nexports == 1) {
		const char *rest = path_below(mntpath, table[0]->path);
		if (!rest)
			rest = path_below(mntpath, "/");
		while (*rest == '/')
			rest++;
		*subpath = rest;
		return table[0];
	}
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
	if (best)
		while (**subpath == '/')
			(*subpath)++;
	return best;
}

void export_free_all(void)
{
	for (unsigned i = 0; i < nexports; i++) {
		close(table[i]->root_fd);
		if (table[i]->mount_fd >= 0)
			close(table[i]->mount_fd);
		fs_watch_close(table[i]->watch);
		free(table[i]->path);
		free(table[i]);
		table[i] = NULL;
	}
	nexports = 0;
}
