/*
 * The corpus's handles and mount paths, mapped to this run's.
 *
 * A passthrough handle names an object by its inode number and kernel
 * handle, and MOUNT paths by the export's place: neither survives a fresh
 * temporary export, let alone another machine. The corpus was made against
 * one such export (--make-corpus), which wrote down, for every fixed object,
 * the handle and mount path it had then (handles.txt). Each record is
 * rewritten before dispatch: wherever the XDR encoding (length + bytes) of
 * one of those appears, the same object's handle or path of this run
 * replaces it. Anything else, mutated handles included, goes through as it
 * is, so the seeds resolve while the fuzzer still mutates every byte.
 *
 * handles.txt, one entry a line (several per object: every corpus
 * generation's, as the inputs in regressions/ may use any): KIND REL HEX
 *   KIND  h (a handle) or p (a MOUNT path: the export's path, REL below it)
 *   REL   the object under the export, "." for the root
 *   HEX   the bytes it had when the corpus was made
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBST_MAX 512	     /* 13 entries per corpus generation */
#define VALUE_MAX (1024 + 8) /* MOUNT paths are at most MNTPATHLEN (1024) */

struct subst {
	char kind;
	char rel[64];
	/* XDR opaques without their padding: 4-byte length, then the bytes. */
	uint8_t old[4 + VALUE_MAX];
	size_t old_len;
	uint8_t cur[4 + VALUE_MAX];
	size_t cur_len;
};

static struct subst table[SUBST_MAX];
static unsigned ntable;

static size_t pad4(size_t n)
{
	return (4 - (n & 3)) & 3;
}

static size_t xdr_opaque(uint8_t *out, const void *p, size_t n)
{
	uint32_t be = htonl((uint32_t)n);
	memcpy(out, &be, 4);
	memcpy(out + 4, p, n);
	return 4 + n;
}

/* This run's value of an entry: the object's handle, or its mount path. */
static bool current_value(char kind, const char *rel, uint8_t *out, size_t *len)
{
	if (kind == 'h') {
		struct fh_buf fh;
		if (!fz_handle_of(rel, &fh))
			return false;
		*len = xdr_opaque(out, fh.data, fh.len);
		return true;
	}
	char path[VALUE_MAX];
	int n = strcmp(rel, ".") == 0
			? snprintf(path, sizeof(path), "%s", fz_export_path())
			: snprintf(path, sizeof(path), "%s/%s", fz_export_path(), rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	*len = xdr_opaque(out, path, (size_t)n);
	return true;
}

static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; s[0] && s[1] && s[0] != '\n'; s += 2) {
		unsigned v;
		if (n >= cap || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
	}
	return (int)n;
}

static bool parse_line(const char *line, struct subst *e)
{
	uint8_t raw[VALUE_MAX];
	int at = 0;
	if (sscanf(line, " %c %63s %n", &e->kind, e->rel, &at) != 2 || at == 0 ||
	    (e->kind != 'h' && e->kind != 'p'))
		return false;
	int n = unhex(line + at, raw, sizeof(raw));
	if (n <= 0)
		return false;
	e->old_len = xdr_opaque(e->old, raw, (size_t)n);
	return true;
}

void fz_subst_load(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "fuzz_rpc: no %s: the corpus's handles will be stale\n", path);
		return;
	}
	char line[2 * VALUE_MAX + 128];
	while (fgets(line, sizeof(line), f) && ntable < SUBST_MAX)
		if (line[0] != '#' && parse_line(line, &table[ntable]))
			ntable++;
	fclose(f);
	fz_subst_refresh();
}

void fz_subst_refresh(void)
{
	for (unsigned i = 0; i < ntable; i++) {
		struct subst *e = &table[i];
		if (!current_value(e->kind, e->rel, e->cur, &e->cur_len))
			e->cur_len = 0; /* gone: leave the old bytes, which will be stale */
	}
}

/* Replace every occurrence of e->old (and its padding) in buf; NULL if there is none. */
static uint8_t *replace_all(const uint8_t *buf, size_t len, const struct subst *e, size_t *out_len)
{
	size_t span = e->old_len + pad4(e->old_len), add = e->cur_len + pad4(e->cur_len);
	const uint8_t *hit = memmem(buf, len, e->old, e->old_len);
	if (!hit)
		return NULL;
	/* Each hit grows the record by at most add: count them first. */
	size_t hits = 0;
	for (const uint8_t *p = hit; p;) {
		size_t next = (size_t)(p - buf) + e->old_len;
		hits++;
		p = memmem(buf + next, len - next, e->old, e->old_len);
	}
	uint8_t *out = malloc(len + hits * add + 1);
	if (!out)
		abort();
	size_t o = 0, i = 0;
	while (hit) {
		size_t at = (size_t)(hit - buf);
		memcpy(out + o, buf + i, at - i);
		o += at - i;
		memcpy(out + o, e->cur, e->cur_len);
		memset(out + o + e->cur_len, 0, pad4(e->cur_len));
		o += add;
		i = at + (span < len - at ? span : len - at);
		hit = memmem(buf + i, len - i, e->old, e->old_len);
	}
	memcpy(out + o, buf + i, len - i);
	*out_len = o + len - i;
	return out;
}

uint8_t *fz_subst_apply(const uint8_t *rec, size_t len, size_t *out_len)
{
	uint8_t *cur = NULL;
	size_t cur_len = len;
	for (unsigned i = 0; i < ntable; i++) {
		const struct subst *e = &table[i];
		if (!e->cur_len ||
		    (e->cur_len == e->old_len && memcmp(e->cur, e->old, e->old_len) == 0))
			continue;
		size_t n;
		uint8_t *next = replace_all(cur ? cur : rec, cur_len, e, &n);
		if (next) {
			free(cur);
			cur = next;
			cur_len = n;
		}
	}
	*out_len = cur_len;
	return cur;
}

static void put_hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

int fz_subst_save(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -1;
	fprintf(f,
		"# The handles and MOUNT paths the corpus was made with (tests/fuzz/mkcorpus.sh).\n"
		"# KIND REL HEX: h handle, p mount path; the fuzz target maps each to its own.\n");
	for (unsigned k = 0; k < 2; k++) {
		char kind = k == 0 ? 'h' : 'p';
		for (unsigned i = 0; i < fz_nobjects; i++) {
			uint8_t v[4 + VALUE_MAX];
			size_t n;
			/* Mount paths: the root, a subdirectory, and a file (NOTDIR). */
			if (kind == 'p' && strcmp(fz_objects[i], ".") != 0 &&
			    strcmp(fz_objects[i], "dir") != 0 && strcmp(fz_objects[i], "file") != 0)
				continue;
			if (!current_value(kind, fz_objects[i], v, &n))
				continue;
			fprintf(f, "%c %s ", kind, fz_objects[i]);
			put_hex(f, v + 4, n - 4);
			fputc('\n', f);
		}
	}
	return fclose(f) == 0 ? 0 : -1;
}
