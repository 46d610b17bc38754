/*
 * Names, contents, symlinks and the per-object view against what gocryptfs
 * 2.3 showed for the same tree. The expected values were made once by
 *   gocryptfs -init -reverse -scryptn 10 -passfile PW p   (run under
 *   script(1), which prints the master key below), then in p: a = "hello\n",
 *   l -> a, d/f = "f", 200 x's = "long\n", big = bytes i % 251 for i < 4097,
 *   "héllo wörld" empty; gocryptfs -reverse -passfile PW p m; ls, xxd and
 *   sha256sum of m. They depend on nothing else (no randomness in the view).
 */
#define _GNU_SOURCE
#include "unit.h"

#include "crypt.h"
#include "crypt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char master_hex[] = "093e6b7df5b6498ae93ce8be9577b86ab65591875f169b66a8e9c98408d4b7f8";
static const char long_cname[] =
	"TVIMqf6tzQdhjKOOJxWb9FYyHvOlMxpsLR2AYGaypbrb1G-1y6KSE9I53TOQXPhlsQltFsVJpFeVG69CBJXyTF_"
	"XmWz6cyNRDKsjNB43BsW8dFT7xNojrGisHiIYIu8V26VklC2eduJtW8h2GyHkido6cfvRW7RUn_Cqbu0vbFWti0d"
	"7a9GW09DPECteQ0Y9HATQ7iG6g8FxFzA77g6GRqYwbOYGTIcrYYdu-604uSAk4DcAqylfUim4E4XH2Cn0NgF_"
	"LYlxnUf0Er6oOazLNw";
static const char long_vname[] = "gocryptfs.longname.4GOuKZ6K7LgbA121niL1IAWnz1tN7FzttqYYwtHD5-s";

static struct crypt_keys *K;

static int setup(void **state)
{
	uint8_t master[32];
	assert_int_equal(ut_unhex(master_hex, master, sizeof(master)), 32);
	return crypt_keys_new(master, &K);
}

static int teardown(void **state)
{
	crypt_keys_free(K);
	return 0;
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *got = malloc(2 * n + 1);
	ut_hex(p, n, got);
	assert_string_equal(got, want);
	free(got);
}

static char *long_plain(void)
{
	static char x[201];
	memset(x, 'x', 200);
	return x;
}

static void name_both_ways(const uint8_t diriv[16], const char *plain, const char *cname)
{
	char c[CRYPT_CNAME_MAX + 1], p[CRYPT_NAME_MAX + 1];
	assert_int_equal(crypt_name_encrypt(K, diriv, plain, strlen(plain), c), strlen(cname));
	assert_string_equal(c, cname);
	assert_int_equal(crypt_name_decrypt(K, diriv, cname, strlen(cname), p), strlen(plain));
	assert_string_equal(p, plain);
}

static void test_names_as_gocryptfs(void **state)
{
	uint8_t root[16], d[16];
	char h[CRYPT_NAME_MAX + 1], p[CRYPT_NAME_MAX + 1];
	crypt_path_iv("", CRYPT_PURPOSE_DIRIV, root);
	crypt_path_iv("s6gUckzgwIMmeGplXHIpvQ", CRYPT_PURPOSE_DIRIV, d);
	name_both_ways(root, "a", "k73138ihrD2LfsMUwSLaNQ");
	name_both_ways(root, "l", "5N5uX74gUkf-043Ce5dD6Q");
	name_both_ways(root, "big", "5zN4pM9TLHfb2iRPcR9fMQ");
	name_both_ways(root, "d", "s6gUckzgwIMmeGplXHIpvQ");
	name_both_ways(root, "h\xc3\xa9llo w\xc3\xb6rld", "FyReXNJHxG47TjM_MD7utA");
	name_both_ways(d, "f", "JqNWoehcmeyrz1NbZXlKLw");
	name_both_ways(root, long_plain(), long_cname);
	crypt_longname_hash(long_cname, strlen(long_cname), h);
	assert_string_equal(h, long_vname);
	assert_true(crypt_is_longname(long_vname));
	assert_false(crypt_is_longname_file(long_vname));
	/* Not ours: other base64, not whole blocks, a wrong directory IV (bad padding). */
	assert_int_equal(crypt_name_decrypt(K, root, ".Trash", 6, p), -EBADMSG);
	assert_int_equal(crypt_name_decrypt(K, root, "AAAA", 4, p), -EBADMSG);
	assert_int_equal(crypt_name_decrypt(K, d, "k73138ihrD2LfsMUwSLaNQ", 22, p), -EBADMSG);
}

static void test_name_limits(void **state)
{
	uint8_t iv[16] = { 0 };
	char c[CRYPT_CNAME_MAX + 1], p[CRYPT_NAME_MAX + 1], n[257];
	memset(n, 'y', sizeof(n));
	/* 255 bytes: the longest name, 342 characters encrypted; 256 does not exist. */
	assert_int_equal(crypt_name_encrypt(K, iv, n, 255, c), 342);
	assert_int_equal(crypt_name_decrypt(K, iv, c, 342, p), 255);
	assert_int_equal(crypt_name_encrypt(K, iv, n, 256, c), -ENAMETOOLONG);
	assert_int_equal(crypt_name_encrypt(K, iv, ".", 1, c), -EINVAL);
	assert_int_equal(crypt_name_encrypt(K, iv, "..", 2, c), -EINVAL);
	assert_int_equal(crypt_name_encrypt(K, iv, "a/b", 3, c), -EINVAL);
	assert_int_equal(crypt_name_encrypt(K, iv, "", 0, c), -EINVAL);
	/* A 16-byte-aligned name still gets a full block of padding, so 175 bytes stay short. */
	assert_int_equal(crypt_name_encrypt(K, iv, n, 175, c), 235);
	assert_int_equal(crypt_name_encrypt(K, iv, n, 176, c), 256);
	/* Too long even as a full encrypted name: more than 256 bytes once decoded. */
	char big[400];
	memset(big, 'A', sizeof(big));
	assert_int_equal(crypt_name_decrypt(K, iv, big, 363, p), -ENAMETOOLONG);
	assert_int_equal(crypt_name_decrypt(K, iv, big, 344, p), -EBADMSG); /* 258 bytes */
}

static void test_sizes(void **state)
{
	uint64_t p;
	const uint64_t plain[] = { 0, 1, 4095, 4096, 4097, 8192, 3u << 20 };
	const uint64_t cipher[] = { 0, 51, 4145, 4146, 4179, 8274, 18 + (3u << 20) + 768 * 32 };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_int_equal(crypt_cipher_size(plain[i]), cipher[i]);
		assert_int_equal(crypt_plain_size(cipher[i], &p), 0);
		assert_int_equal(p, plain[i]);
	}
	const uint64_t impossible[] = { 1, 18, 50, 4146 + 1, 4146 + 32 };
	for (size_t i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++)
		assert_int_equal(crypt_plain_size(impossible[i], &p), -EINVAL);
}

/* A plaintext file with these bytes, open for reading; the temp dir in *dir. */
static int plain_file(char **dir, const char *name, const void *p, size_t len)
{
	*dir = ut_mkdtemp("crypt");
	char *path = ut_join(*dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	free(path);
	return fd;
}

static void test_content_as_gocryptfs(void **state)
{
	struct crypt_file_ivs ivs;
	uint8_t out[64];
	char *dir;
	int fd = plain_file(&dir, "a", "hello\n", 6);
	crypt_file_ivs("k73138ihrD2LfsMUwSLaNQ", &ivs);
	assert_int_equal(crypt_read_view(K, &ivs, fd, 0, sizeof(out), out), 56);
	assert_hex(out, 56,
		   "0002c2af2178f75c9c9baab28ca1a09756402e36b130ce84816806e7d74648c6985d4600cd"
		   "22c7052e5b69045e121e2e3f4105cf9b2597a2");
	close(fd);
	ut_rm_rf(dir);
	free(dir);
	/* A longname's IVs come from its hashed name, the path component the view shows. */
	fd = plain_file(&dir, "x", "long\n", 5);
	crypt_file_ivs(long_vname, &ivs);
	assert_int_equal(crypt_read_view(K, &ivs, fd, 0, sizeof(out), out), 55);
	assert_hex(out, 55,
		   "0002bfdcca687d8ae29c3b1a5ea7831ee20c21e792faddbc45c1c1495a1d391128cf10ba0e"
		   "e00a5579c0347ff83de746d9f8d45630864f");
	close(fd);
	ut_rm_rf(dir);
	free(dir);
}

/* big (4097 bytes, two blocks): the whole view's SHA-256, and every range READ could ask for. */
static void test_reads_at_any_offset(void **state)
{
	uint8_t plain[4097], whole[4179 + 10], part[4200], hash[32];
	struct crypt_file_ivs ivs;
	char *dir;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 251);
	int fd = plain_file(&dir, "big", plain, sizeof(plain));
	crypt_file_ivs("5zN4pM9TLHfb2iRPcR9fMQ", &ivs);
	assert_int_equal(crypt_read_view(K, &ivs, fd, 0, sizeof(whole), whole), 4179);
	crypt_sha256(whole, 4179, hash);
	assert_hex(hash, 32, "b95b2bd65b1799fe88a33661a9dedd6a4471f8022c50c2820f1cf7ab7c05ea79");
	const uint64_t offs[] = { 0, 1, 17, 18, 19, 33, 34, 4113, 4114, 4145, 4146, 4147, 4178 };
	const size_t lens[] = { 1, 2, 16, 17, 18, 31, 4096, 4128, 4200 };
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			size_t want = offs[i] + lens[j] > 4179 ? 4179 - offs[i] : lens[j];
			ssize_t n = crypt_read_view(K, &ivs, fd, offs[i], lens[j], part);
			assert_int_equal(n, (ssize_t)want);
			assert_memory_equal(part, whole + offs[i], want);
		}
	assert_int_equal(crypt_read_view(K, &ivs, fd, 4179, 100, part), 0);
	assert_int_equal(crypt_read_view(K, &ivs, fd, 1u << 30, 100, part), 0);
	/* An empty file has no header: nothing at offset 0 either. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(crypt_read_view(K, &ivs, fd, 0, 10, part), 0);
	close(fd);
	ut_rm_rf(dir);
	free(dir);
}

static void test_block_tamper_and_decrypt_file(void **state)
{
	uint8_t plain[4097], view[4179], back[4097];
	struct crypt_file_ivs ivs;
	uint64_t bad;
	char *dir, *dir2;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 251);
	int pfd = plain_file(&dir, "p", plain, sizeof(plain));
	crypt_file_ivs("x", &ivs);
	assert_int_equal(crypt_read_view(K, &ivs, pfd, 0, sizeof(view), view), 4179);
	int cfd = plain_file(&dir2, "c", view, sizeof(view));
	assert_int_equal(ftruncate(pfd, 0), 0);
	assert_int_equal(lseek(pfd, 0, SEEK_SET), 0);
	assert_int_equal(crypt_decrypt_file(K, cfd, pfd, &bad), 0);
	assert_int_equal(pread(pfd, back, sizeof(back), 0), 4097);
	assert_memory_equal(back, plain, sizeof(plain));
	/* One changed byte in block 1: that block is named, block 0 was still restored. */
	view[4146 + 20] ^= 0x01;
	assert_int_equal(pwrite(cfd, view, sizeof(view), 0), 4179);
	assert_int_equal(crypt_decrypt_file(K, cfd, pfd, &bad), -EBADMSG);
	assert_int_equal(bad, 1);
	view[4146 + 20] ^= 0x01;
	/* The header's file ID is in every block's AD. */
	view[5] ^= 0x40;
	assert_int_equal(pwrite(cfd, view, sizeof(view), 0), 4179);
	assert_int_equal(crypt_decrypt_file(K, cfd, pfd, &bad), -EBADMSG);
	assert_int_equal(bad, 0);
	view[5] ^= 0x40;
	/* A block moved to another position fails: its number is in its AD. */
	assert_int_equal(crypt_block_decrypt(K, 1, view + 2, view + 18, 4128, back), -EBADMSG);
	assert_int_equal(crypt_block_decrypt(K, 0, view + 2, view + 18, 4128, back), 4096);
	/* A size no plaintext has, and a zeroed block (what a hole would be). */
	assert_int_equal(ftruncate(cfd, 4146 + 20), 0);
	assert_int_equal(crypt_decrypt_file(K, cfd, pfd, &bad), -EINVAL);
	memset(view + 18, 0, 4128);
	assert_int_equal(crypt_block_decrypt(K, 0, view + 2, view + 18, 4128, back), -EBADMSG);
	close(pfd);
	close(cfd);
	ut_rm_rf(dir);
	ut_rm_rf(dir2);
	free(dir);
	free(dir2);
}

static void test_symlink_as_gocryptfs(void **state)
{
	char *dir = ut_mkdtemp("crypt"), *l = ut_join(dir, "l"), out[CRYPT_SYMLINK_MAX + 1];
	char back[CRYPT_SYMLINK_MAX + 1];
	assert_int_equal(symlink("a", l), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ssize_t n = crypt_view_readlink(K, dfd, "l", "5N5uX74gUkf-043Ce5dD6Q", out);
	assert_int_equal(n, 44);
	assert_string_equal(out, "fF7SfjClmMRbY0I38V6-apVB1LjLKgpgh8qNdIYudWVq");
	assert_int_equal(crypt_symlink_decrypt(K, out, (size_t)n, back), 1);
	assert_string_equal(back, "a");
	out[30] = out[30] == 'A' ? 'B' : 'A';
	assert_int_equal(crypt_symlink_decrypt(K, out, (size_t)n, back), -EBADMSG);
	/* The longest target whose encryption stays within PATH_MAX, and one byte more. */
	char t[3100];
	memset(t, 't', sizeof(t));
	assert_int_equal(crypt_symlink_encrypt(K, "x", t, 3040, out), 4096);
	assert_int_equal(crypt_symlink_encrypt(K, "x", t, 3041, out), -ENAMETOOLONG);
	close(dfd);
	ut_rm_rf(dir);
	free(l);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_as_gocryptfs),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_content_as_gocryptfs),
		cmocka_unit_test(test_reads_at_any_offset),
		cmocka_unit_test(test_block_tamper_and_decrypt_file),
		cmocka_unit_test(test_symlink_as_gocryptfs),
	};
	return cmocka_run_group_tests_name("crypt_view", tests, setup, teardown);
}
