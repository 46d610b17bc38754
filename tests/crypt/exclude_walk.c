/*
 * What a view with these excludes shows: every plaintext path below DIR
 * (relative, one a line) that crypt_exclude_match_child leaves, walking
 * only into shown directories, as a backend's READDIR does.
 *   crypt_exclude_walk [-e PATH]... [-ew PATTERN]... DIR
 * -e lines come first, as gocryptfs orders them. Exit 2 for a refused
 * pattern (the message on stderr). exclude_compare.sh runs it.
 */
#define _GNU_SOURCE
#include "crypt.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void walk(const struct crypt_exclude *x, int dfd, const char *rel)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	if (!d) {
		perror(rel);
		exit(1);
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (crypt_exclude_match_child(x, rel, de->d_name))
			continue;
		char *p = crypt_path_join(rel, de->d_name);
		printf("%s\n", p);
		int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			walk(x, sub, p);
		free(p);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	const char **lines = calloc((size_t)argc, sizeof(*lines));
	char **owned = calloc((size_t)argc, sizeof(*owned)); /* the "/" PATH lines */
	size_t n = 0, nowned = 0;
	char err[512];
	int i;
	/* Two passes: every -e first, then every -ew, as gocryptfs does. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 1; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "-e") == 0 && pass == 0) {
				char *l;
				if (asprintf(&l, "/%s", argv[i + 1]) < 0)
					return 1;
				lines[n++] = owned[nowned++] = l;
			} else if (strcmp(argv[i], "-ew") == 0 && pass == 1) {
				lines[n++] = argv[i + 1];
			} else if (strcmp(argv[i], "-e") && strcmp(argv[i], "-ew")) {
				break;
			}
		}
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: crypt_exclude_walk [-e PATH]... [-ew PATTERN]... DIR\n");
		return 1;
	}
	struct crypt_exclude *x = crypt_exclude_new(lines, n, err, sizeof(err));
	while (nowned)
		free(owned[--nowned]);
	free(owned);
	free(lines);
	if (!x) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	int dfd = open(argv[argc - 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		perror(argv[argc - 1]);
		crypt_exclude_free(x);
		return 1;
	}
	walk(x, dfd, "");
	crypt_exclude_free(x);
	fflush(stdout);
	return 0;
}
