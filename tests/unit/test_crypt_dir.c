/*
 * A directory's view (server/crypt/view.c) against the listing gocryptfs
 * 2.3 showed for the same tree; how the names were made is told in
 * test_crypt_view.c (same master key, same tree).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char master_hex[] = "093e6b7df5b6498ae93ce8be9577b86ab65591875f169b66a8e9c98408d4b7f8";
static const char long_vname[] = "gocryptfs.longname.4GOuKZ6K7LgbA121niL1IAWnz1tN7FzttqYYwtHD5-s";

/* `ls -a` of the gocryptfs -reverse mount, sorted. */
static const char *const listing[] = {
	"5N5uX74gUkf-043Ce5dD6Q",
	"5zN4pM9TLHfb2iRPcR9fMQ",
	"FyReXNJHxG47TjM_MD7utA",
	"gocryptfs.conf",
	"gocryptfs.diriv",
	"gocryptfs.longname.4GOuKZ6K7LgbA121niL1IAWnz1tN7FzttqYYwtHD5-s",
	"gocryptfs.longname.4GOuKZ6K7LgbA121niL1IAWnz1tN7FzttqYYwtHD5-s.name",
	"k73138ihrD2LfsMUwSLaNQ",
	"s6gUckzgwIMmeGplXHIpvQ",
};
#define NLISTING (sizeof(listing) / sizeof(listing[0]))

struct fixture {
	struct crypt_keys *k;
	char *dir;
	int dfd;
};

static void put(const char *dir, const char *name, const char *text)
{
	char *p = ut_join(dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static int setup(void **state)
{
	static struct fixture fx;
	uint8_t master[32];
	char x[201], *p;
	assert_int_equal(ut_unhex(master_hex, master, sizeof(master)), 32);
	assert_int_equal(crypt_keys_new(master, &fx.k), 0);
	fx.dir = ut_mkdtemp("cryptdir");
	memset(x, 'x', 200);
	x[200] = '\0';
	put(fx.dir, "a", "hello\n");
	put(fx.dir, x, "long\n");
	put(fx.dir, "big", "");
	put(fx.dir, "h\xc3\xa9llo w\xc3\xb6rld", "");
	put(fx.dir, CRYPT_CONF_NAME, "{}\n");
	p = ut_join(fx.dir, "l");
	assert_int_equal(symlink("a", p), 0);
	free(p);
	p = ut_join(fx.dir, "d");
	ut_mkdir(p);
	put(p, "f", "f");
	free(p);
	fx.dfd = open(fx.dir, O_RDONLY | O_DIRECTORY);
	*state = &fx;
	return fx.dfd < 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	close(fx->dfd);
	ut_rm_rf(fx->dir);
	free(fx->dir);
	crypt_keys_free(fx->k);
	return 0;
}

struct seen {
	char names[16][CRYPT_NAME_MAX + 1];
	struct crypt_ventry e[16];
	size_t n;
};

static int collect(void *arg, const struct crypt_ventry *e)
{
	struct seen *s = arg;
	assert_true(s->n < 16);
	s->e[s->n] = *e;
	snprintf(s->names[s->n++], CRYPT_NAME_MAX + 1, "%s", e->vname);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_listing_as_gocryptfs(void **state)
{
	struct fixture *fx = *state;
	struct seen s = { .n = 0 };
	assert_int_equal(crypt_view_list(fx->k, fx->dfd, "", collect, &s), 0);
	/* Virtual files come after the real entries: diriv, then the .name files. */
	assert_int_equal(s.e[s.n - 2].kind, CRYPT_V_DIRIV);
	assert_int_equal(s.e[s.n - 1].kind, CRYPT_V_NAME_FILE);
	assert_memory_equal(s.e[s.n - 1].content, "TVIMqf6tzQ", 10);
	assert_int_equal(s.e[s.n - 1].content_len, 278);
	qsort(s.names, s.n, sizeof(s.names[0]), by_name);
	assert_int_equal(s.n, NLISTING);
	for (size_t i = 0; i < NLISTING; i++)
		assert_string_equal(s.names[i], listing[i]);
	/* The subdirectory lists its own IV's names (and no config). */
	struct seen sub = { .n = 0 };
	int sfd = openat(fx->dfd, "d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(crypt_view_list(fx->k, sfd, "s6gUckzgwIMmeGplXHIpvQ", collect, &sub), 0);
	close(sfd);
	assert_int_equal(sub.n, 2);
	assert_string_equal(sub.names[0], "JqNWoehcmeyrz1NbZXlKLw");
	assert_string_equal(sub.names[1], CRYPT_DIRIV_NAME);
	/* d's gocryptfs.diriv in the mount: 21182de5daea31498c1adb16768d24e8 */
	static const uint8_t d_iv[16] = { 0x21, 0x18, 0x2d, 0xe5, 0xda, 0xea, 0x31, 0x49,
					  0x8c, 0x1a, 0xdb, 0x16, 0x76, 0x8d, 0x24, 0xe8 };
	assert_memory_equal(sub.e[1].content, d_iv, 16);
}

static void test_lookup_every_kind(void **state)
{
	struct fixture *fx = *state;
	struct crypt_ventry e;
	char name_file[CRYPT_NAME_MAX + 1];
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", "k73138ihrD2LfsMUwSLaNQ", &e), 0);
	assert_int_equal(e.kind, CRYPT_V_REAL);
	assert_string_equal(e.plain_name, "a");
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", "FyReXNJHxG47TjM_MD7utA", &e), 0);
	assert_string_equal(e.plain_name, "h\xc3\xa9llo w\xc3\xb6rld");
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", long_vname, &e), 0);
	assert_int_equal(e.kind, CRYPT_V_REAL);
	assert_int_equal(strlen(e.plain_name), 200);
	snprintf(name_file, sizeof(name_file), "%s.name", long_vname);
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", name_file, &e), 0);
	assert_int_equal(e.kind, CRYPT_V_NAME_FILE);
	assert_int_equal(e.content_len, 278);
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", "gocryptfs.diriv", &e), 0);
	assert_int_equal(e.kind, CRYPT_V_DIRIV);
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", "gocryptfs.conf", &e), 0);
	assert_int_equal(e.kind, CRYPT_V_CONF);
	assert_string_equal(e.plain_name, CRYPT_CONF_NAME);
	/* Names that stand for nothing. */
	const char *none[] = { ".Trash", "gocryptfs.longname.AAAA", "gocryptfs.longname.AAAA.name",
			       "AAAAAAAAAAAAAAAAAAAAAA" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", none[i], &e), -ENOENT);
	/* The config only under its view name; gocryptfs.conf only in the root. */
	uint8_t iv[16];
	char c[CRYPT_CNAME_MAX + 1];
	crypt_path_iv("", CRYPT_PURPOSE_DIRIV, iv);
	assert_true(crypt_name_encrypt(fx->k, iv, CRYPT_CONF_NAME, strlen(CRYPT_CONF_NAME), c) > 0);
	assert_int_equal(crypt_view_lookup(fx->k, fx->dfd, "", c, &e), -ENOENT);
	int sfd = openat(fx->dfd, "d", O_RDONLY | O_DIRECTORY);
	assert_int_equal(
		crypt_view_lookup(fx->k, sfd, "s6gUckzgwIMmeGplXHIpvQ", "gocryptfs.conf", &e),
		-ENOENT);
	close(sfd);
}

static void test_sizes_for_getattr(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	uint64_t size;
	assert_int_equal(fstatat(fx->dfd, "a", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(crypt_view_size(fx->k, fx->dfd, "a", "k73138ihrD2LfsMUwSLaNQ", &st, &size),
			 0);
	assert_int_equal(size, 56);
	assert_int_equal(fstatat(fx->dfd, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(crypt_view_size(fx->k, fx->dfd, "l", "5N5uX74gUkf-043Ce5dD6Q", &st, &size),
			 0);
	assert_int_equal(size, 44);
	assert_int_equal(fstatat(fx->dfd, "big", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(
		crypt_view_size(fx->k, fx->dfd, "big", "5zN4pM9TLHfb2iRPcR9fMQ", &st, &size), 0);
	assert_int_equal(size, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing_as_gocryptfs),
		cmocka_unit_test(test_lookup_every_kind),
		cmocka_unit_test(test_sizes_for_getattr),
	};
	return cmocka_run_group_tests_name("crypt_dir", tests, setup, teardown);
}
