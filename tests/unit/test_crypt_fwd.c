/*
 * The forward view (server/crypt/forward.c): a plaintext tree is encrypted
 * with the reverse view's own functions (as encrypt-tree writes it), then
 * listed, looked up, read and readlink'ed back through crypt_fwd_* and
 * compared with the plaintext; damaged and hostile ciphertext must be
 * errors, never other bytes or names.
 */
#define _GNU_SOURCE
#include "unit.h"

#include "crypt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char master_hex[] = "093e6b7df5b6498ae93ce8be9577b86ab65591875f169b66a8e9c98408d4b7f8";

#define BIG_SIZE (3u * 1024 * 1024 + 5)

static const struct {
	const char *name;
	size_t size;
} files[] = {
	{ "empty", 0 },
	{ "one", 1 },
	{ "s4095", 4095 },
	{ "s4096", 4096 },
	{ "s4097", 4097 },
	{ "big", BIG_SIZE },
	{ "h\xc3\xa9llo w\xc3\xb6rld", 7 },
	{ "gocryptfs.diriv", 3 },
	{ "-dash and  spaces ", 5 },
};
#define NFILES (sizeof(files) / sizeof(files[0]))

struct fixture {
	struct crypt_keys *k;
	char *plain, *cipher;
	int pfd, cfd;
	char long200[201], long255[256];
};

/* ------------------------------------------------------------ the trees */

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (uint8_t)seed;
	}
}

static void write_at(int dirfd, const char *name, const void *p, size_t n)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void make_plain(int pfd, struct fixture *fx)
{
	for (size_t i = 0; i < NFILES; i++) {
		uint8_t *p = malloc(files[i].size + 1);
		fill(p, files[i].size, (uint32_t)i + 1);
		write_at(pfd, files[i].name, p, files[i].size);
		free(p);
	}
	write_at(pfd, fx->long200, "long", 4);
	write_at(pfd, fx->long255, "longer", 6);
	write_at(pfd, CRYPT_CONF_NAME, "{}\n", 3);
	assert_int_equal(symlinkat("target/of the link", pfd, "l"), 0);
	assert_int_equal(mkdirat(pfd, "d", 0755), 0);
	int d = openat(pfd, "d", O_RDONLY | O_DIRECTORY);
	write_at(d, "inner", "inner", 5);
	close(d);
}

/* What encrypt-tree writes for the plaintext directory pfd at cpath, into cfd. */
struct mat {
	const struct crypt_keys *k;
	int pfd, cfd;
	const char *cpath;
};

static void materialize(const struct crypt_keys *k, int pfd, int cfd, const char *cpath);

static void mat_file(struct mat *m, const struct crypt_ventry *e, const char *cp, off_t size)
{
	struct crypt_file_ivs ivs;
	uint64_t csize = crypt_cipher_size((uint64_t)size);
	uint8_t *buf = malloc(csize + 1);
	int fd = openat(m->pfd, e->plain_name, O_RDONLY);
	crypt_file_ivs(cp, &ivs);
	assert_int_equal(crypt_read_view(m->k, &ivs, fd, 0, csize, buf), (ssize_t)csize);
	write_at(m->cfd, e->vname, buf, csize);
	close(fd);
	free(buf);
}

static int mat_entry(void *arg, const struct crypt_ventry *e)
{
	struct mat *m = arg;
	char target[CRYPT_SYMLINK_MAX + 1];
	struct stat st;
	if (e->kind == CRYPT_V_DIRIV || e->kind == CRYPT_V_NAME_FILE) {
		write_at(m->cfd, e->vname, e->content, e->content_len);
		return 0;
	}
	if (e->kind == CRYPT_V_CONF) {
		write_at(m->cfd, e->vname, "{}\n", 3);
		return 0;
	}
	char *cp = crypt_path_join(m->cpath, e->vname);
	assert_int_equal(fstatat(m->pfd, e->plain_name, &st, AT_SYMLINK_NOFOLLOW), 0);
	if (S_ISREG(st.st_mode)) {
		mat_file(m, e, cp, st.st_size);
	} else if (S_ISLNK(st.st_mode)) {
		assert_true(crypt_view_readlink(m->k, m->pfd, e->plain_name, cp, target) > 0);
		assert_int_equal(symlinkat(target, m->cfd, e->vname), 0);
	} else {
		assert_int_equal(mkdirat(m->cfd, e->vname, 0755), 0);
		int p = openat(m->pfd, e->plain_name, O_RDONLY | O_DIRECTORY);
		int c = openat(m->cfd, e->vname, O_RDONLY | O_DIRECTORY);
		materialize(m->k, p, c, cp);
		close(p);
		close(c);
	}
	free(cp);
	return 0;
}

static void materialize(const struct crypt_keys *k, int pfd, int cfd, const char *cpath)
{
	struct mat m = { .k = k, .pfd = pfd, .cfd = cfd, .cpath = cpath };
	assert_int_equal(crypt_view_list(k, pfd, cpath, mat_entry, &m), 0);
}

static int setup(void **state)
{
	static struct fixture fx;
	uint8_t master[32];
	assert_int_equal(ut_unhex(master_hex, master, sizeof(master)), 32);
	assert_int_equal(crypt_keys_new(master, &fx.k), 0);
	memset(fx.long200, 'x', 200);
	memset(fx.long255, 'y', 255);
	fx.plain = ut_mkdtemp("fwdplain");
	fx.cipher = ut_mkdtemp("fwdcipher");
	fx.pfd = open(fx.plain, O_RDONLY | O_DIRECTORY);
	fx.cfd = open(fx.cipher, O_RDONLY | O_DIRECTORY);
	make_plain(fx.pfd, &fx);
	materialize(fx.k, fx.pfd, fx.cfd, "");
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	close(fx->pfd);
	close(fx->cfd);
	ut_rm_rf(fx->plain);
	ut_rm_rf(fx->cipher);
	free(fx->plain);
	free(fx->cipher);
	crypt_keys_free(fx->k);
	return 0;
}

/* ------------------------------------------------------------ listing */

#define MAX_SEEN 32

struct seen {
	char plain[MAX_SEEN][CRYPT_NAME_MAX + 1];
	char cname[MAX_SEEN][CRYPT_NAME_MAX + 1];
	int err[MAX_SEEN];
	size_t n;
};

static int collect(void *arg, const struct crypt_fwd_entry *e)
{
	struct seen *s = arg;
	assert_true(s->n < MAX_SEEN);
	snprintf(s->plain[s->n], sizeof(s->plain[0]), "%s", e->plain);
	snprintf(s->cname[s->n], sizeof(s->cname[0]), "%s", e->cname);
	s->err[s->n++] = e->err;
	return 0;
}

static ssize_t find(const struct seen *s, const char *plain)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->err[i] == 0 && strcmp(s->plain[i], plain) == 0)
			return (ssize_t)i;
	return -1;
}

static void test_list_root(void **state)
{
	struct fixture *fx = *state;
	struct seen s = { 0 };
	assert_int_equal(crypt_fwd_list(fx->k, fx->cfd, true, collect, &s), 0);
	/* Every file, both longnames, the link and the directory; no config, no virtual file. */
	assert_int_equal(s.n, NFILES + 4);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.err[i], 0);
	for (size_t i = 0; i < NFILES; i++)
		assert_true(find(&s, files[i].name) >= 0);
	assert_true(find(&s, fx->long200) >= 0);
	assert_true(find(&s, fx->long255) >= 0);
	assert_true(find(&s, "l") >= 0);
	assert_true(find(&s, "d") >= 0);
	assert_true(crypt_is_longname(s.cname[find(&s, fx->long200)]));
	assert_int_equal(find(&s, CRYPT_CONF_NAME), -1);
}

static void test_list_subdir(void **state)
{
	struct fixture *fx = *state;
	struct seen s = { 0 };
	char cname[CRYPT_NAME_MAX + 1];
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, "d", cname), 0);
	int d = openat(fx->cfd, cname, O_RDONLY | O_DIRECTORY);
	assert_true(d >= 0);
	assert_int_equal(crypt_fwd_list(fx->k, d, false, collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.plain[0], "inner");
	close(d);
}

static int stop_at_two(void *arg, const struct crypt_fwd_entry *e)
{
	(void)e;
	return ++*(int *)arg == 2 ? 42 : 0;
}

static void test_list_stops(void **state)
{
	struct fixture *fx = *state;
	int n = 0;
	assert_int_equal(crypt_fwd_list(fx->k, fx->cfd, true, stop_at_two, &n), 42);
	assert_int_equal(n, 2);
}

/* ------------------------------------------------------------ lookup */

static void test_lookup(void **state)
{
	struct fixture *fx = *state;
	struct seen s = { 0 };
	char cname[CRYPT_NAME_MAX + 1], over[257];
	uint8_t diriv[CRYPT_IV_LEN];
	assert_int_equal(crypt_fwd_list(fx->k, fx->cfd, true, collect, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, s.plain[i], cname), 0);
		assert_string_equal(cname, s.cname[i]);
	}
	assert_int_equal(crypt_fwd_diriv(fx->cfd, diriv), 0);
	assert_int_equal(crypt_fwd_lookup_iv(fx->k, fx->cfd, diriv, fx->long255, cname), 0);
	assert_true(crypt_is_longname(cname));
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, "nope", cname), -ENOENT);
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, CRYPT_CONF_NAME, cname), -ENOENT);
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, ".", cname), -ENOENT);
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, "a/b", cname), -ENOENT);
	memset(over, 'z', 256);
	over[256] = '\0';
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, over, cname), -ENAMETOOLONG);
}

static void test_readlink(void **state)
{
	struct fixture *fx = *state;
	char cname[CRYPT_NAME_MAX + 1], target[CRYPT_SYMLINK_MAX + 1];
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, "l", cname), 0);
	assert_int_equal(crypt_fwd_readlink(fx->k, fx->cfd, cname, target), 18);
	assert_string_equal(target, "target/of the link");
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, "one", cname), 0);
	assert_int_equal(crypt_fwd_readlink(fx->k, fx->cfd, cname, target), -EINVAL);
}

/* ------------------------------------------------------------ contents */

static int open_cipher(struct fixture *fx, const char *plain)
{
	char cname[CRYPT_NAME_MAX + 1];
	assert_int_equal(crypt_fwd_lookup(fx->k, fx->cfd, plain, cname), 0);
	int fd = openat(fx->cfd, cname, O_RDONLY);
	assert_true(fd >= 0);
	return fd;
}

/* One range through both entry points, against the plaintext's own bytes. */
static void check_range(struct fixture *fx, int cfd, const uint8_t id[16], const uint8_t *plain,
			size_t size, uint64_t off, size_t len)
{
	uint8_t *got = malloc(len + 1);
	size_t want = off >= size ? 0 : size - off < len ? size - off : len;
	ssize_t n = crypt_fwd_read_id(fx->k, id, cfd, off, len, got);
	if (n != (ssize_t)want)
		fail_msg("off %llu len %zu: got %zd, want %zu", (unsigned long long)off, len, n,
			 want);
	if (want)
		assert_memory_equal(got, plain + off, want);
	assert_int_equal(crypt_fwd_read(fx->k, cfd, off, len, got), (ssize_t)want);
	if (want)
		assert_memory_equal(got, plain + off, want);
	free(got);
}

static void test_read_ranges(void **state)
{
	struct fixture *fx = *state;
	static const size_t lens[] = { 0, 1, 100, 4095, 4096, 4097, 8192, 65536, 200000 };
	for (size_t f = 0; f < NFILES; f++) {
		size_t size = files[f].size;
		uint8_t *plain = malloc(size + 1), id[CRYPT_IV_LEN];
		fill(plain, size, (uint32_t)f + 1);
		int cfd = open_cipher(fx, files[f].name);
		int r = crypt_fwd_header(cfd, id);
		assert_int_equal(r, size ? 0 : -ENODATA);
		const uint64_t offs[] = {
			0,    1,	4095,	     4096,     4097,
			8191, 8192,	12300,	     size / 2, size ? size - 1 : 0,
			size, size + 1, size + 5000, 1u << 20, 131072 - 7
		};
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++)
			for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
				check_range(fx, cfd, id, plain, size, offs[o], lens[l]);
		close(cfd);
		free(plain);
	}
}

/* A copy of big's ciphertext as a new file of the cipher tree. */
static int copy_big(struct fixture *fx, const char *as)
{
	int src = open_cipher(fx, "big");
	uint64_t csize = crypt_cipher_size(BIG_SIZE);
	uint8_t *buf = malloc(csize);
	assert_int_equal(crypt_pread_full(src, buf, csize, 0), (ssize_t)csize);
	write_at(fx->cfd, as, buf, csize);
	free(buf);
	close(src);
	int fd = openat(fx->cfd, as, O_RDWR);
	assert_true(fd >= 0);
	return fd;
}

static void test_flipped_byte(void **state)
{
	struct fixture *fx = *state;
	uint8_t *plain = malloc(BIG_SIZE), *got = malloc(3 * CRYPT_PLAIN_BS), b, id[16];
	uint64_t bad;
	fill(plain, BIG_SIZE, 6); /* "big" is files[5] */
	int fd = copy_big(fx, "flipped");
	/* Flip one ciphertext byte of block 2. */
	off_t at = CRYPT_HEADER_LEN + 2 * CRYPT_CIPHER_BS + 100;
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	assert_int_equal(crypt_fwd_header(fd, id), 0);
	/* Reads that cover block 2 fail, whatever else they cover. */
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, 2 * CRYPT_PLAIN_BS, 1, got), -EBADMSG);
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, 3 * CRYPT_PLAIN_BS - 1, 2, got),
			 -EBADMSG);
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, 0, 3 * CRYPT_PLAIN_BS, got), -EBADMSG);
	assert_int_equal(crypt_fwd_read_blocks(fx->k, id, fd, 4096, 8192, got, &bad), -EBADMSG);
	assert_int_equal(bad, 2);
	/* The others still read, and right. */
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, 0, 2 * CRYPT_PLAIN_BS, got),
			 2 * CRYPT_PLAIN_BS);
	assert_memory_equal(got, plain, 2 * CRYPT_PLAIN_BS);
	assert_int_equal(
		crypt_fwd_read_id(fx->k, id, fd, 3 * CRYPT_PLAIN_BS, 3 * CRYPT_PLAIN_BS, got),
		3 * CRYPT_PLAIN_BS);
	assert_memory_equal(got, plain + 3 * CRYPT_PLAIN_BS, 3 * CRYPT_PLAIN_BS);
	close(fd);
	unlinkat(fx->cfd, "flipped", 0);
	free(plain);
	free(got);
}

static void test_bad_headers_and_tails(void **state)
{
	struct fixture *fx = *state;
	uint8_t id[16], other[16], got[64], zero[CRYPT_HEADER_LEN] = { 0 };
	int fd = copy_big(fx, "damaged");
	assert_int_equal(crypt_fwd_header(fd, id), 0);
	/* Another file's ID: every block fails (the AD holds the ID). */
	memcpy(other, id, 16);
	other[0] ^= 1;
	assert_int_equal(crypt_fwd_read_id(fx->k, other, fd, 0, 10, got), -EBADMSG);
	/* A cut inside the last block: that block fails, the ones before still read. */
	uint64_t csize = crypt_cipher_size(BIG_SIZE);
	assert_int_equal(ftruncate(fd, (off_t)csize - 3), 0);
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, BIG_SIZE - 2, 2, got), -EBADMSG);
	assert_int_equal(crypt_fwd_read_id(fx->k, id, fd, 0, 10, got), 10);
	/* A header of zeros (a hole), a short one, none. */
	assert_int_equal(pwrite(fd, zero, sizeof(zero), 0), (ssize_t)sizeof(zero));
	assert_int_equal(crypt_fwd_header(fd, id), -EBADMSG);
	assert_int_equal(crypt_fwd_read(fx->k, fd, 0, 10, got), -EBADMSG);
	assert_int_equal(ftruncate(fd, 10), 0);
	assert_int_equal(crypt_fwd_header(fd, id), -EBADMSG);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(crypt_fwd_header(fd, id), -ENODATA);
	assert_int_equal(crypt_fwd_read(fx->k, fd, 0, 10, got), 0);
	close(fd);
	unlinkat(fx->cfd, "damaged", 0);
}

/* ------------------------------------------------------------ hostile directories */

static void test_diriv_errors(void **state)
{
	struct fixture *fx = *state;
	uint8_t iv[CRYPT_IV_LEN], buf[17] = { 1 };
	struct seen s = { 0 };
	char *dir = ut_mkdtemp("fwddiriv");
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(crypt_fwd_diriv(d, iv), -ENOENT);
	assert_int_equal(crypt_fwd_list(fx->k, d, false, collect, &s), -ENOENT);
	write_at(d, CRYPT_DIRIV_NAME, buf, 15);
	assert_int_equal(crypt_fwd_diriv(d, iv), -EBADMSG);
	assert_int_equal(crypt_fwd_list(fx->k, d, false, collect, &s), -EBADMSG);
	write_at(d, CRYPT_DIRIV_NAME, buf, 17);
	assert_int_equal(crypt_fwd_diriv(d, iv), -EBADMSG);
	write_at(d, CRYPT_DIRIV_NAME, buf, 0);
	assert_int_equal(crypt_fwd_diriv(d, iv), -EBADMSG);
	unlinkat(d, CRYPT_DIRIV_NAME, 0);
	assert_int_equal(mkdirat(d, CRYPT_DIRIV_NAME, 0755), 0);
	assert_int_equal(crypt_fwd_diriv(d, iv), -EBADMSG);
	unlinkat(d, CRYPT_DIRIV_NAME, AT_REMOVEDIR);
	assert_int_equal(symlinkat("elsewhere", d, CRYPT_DIRIV_NAME), 0);
	assert_int_equal(crypt_fwd_diriv(d, iv), -EBADMSG);
	unlinkat(d, CRYPT_DIRIV_NAME, 0);
	write_at(d, CRYPT_DIRIV_NAME, buf, 16);
	assert_int_equal(crypt_fwd_diriv(d, iv), 0);
	assert_memory_equal(iv, buf, 16);
	assert_int_equal(crypt_fwd_list(fx->k, d, false, collect, &s), 0);
	assert_int_equal(s.n, 0);
	close(d);
	ut_rm_rf(dir);
	free(dir);
}

/* A longname entry X with X.name holding content (len bytes). */
static void put_longname(int d, const char *hashed, const char *content, size_t len)
{
	char nf[CRYPT_NAME_MAX + 8];
	write_at(d, hashed, "", 0);
	snprintf(nf, sizeof(nf), "%s%s", hashed, CRYPT_LONGNAME_SUFFIX);
	write_at(d, nf, content, len);
}

static int err_of(const struct seen *s, const char *cname)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->cname[i], cname) == 0)
			return s->err[i];
	fail_msg("%s was not listed", cname);
	return 0;
}

static void test_hostile_names(void **state)
{
	struct fixture *fx = *state;
	uint8_t iv[CRYPT_IV_LEN];
	char c1[CRYPT_CNAME_MAX + 1], c2[CRYPT_CNAME_MAX + 1], h1[CRYPT_NAME_MAX + 1],
		h2[CRYPT_NAME_MAX + 1], hover[CRYPT_NAME_MAX + 1], hmissing[CRYPT_NAME_MAX + 1],
		over[400], good[CRYPT_CNAME_MAX + 1], cname[CRYPT_NAME_MAX + 1];
	struct seen s = { 0 };
	char *dir = ut_mkdtemp("fwdhostile");
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	crypt_path_iv("hostile", CRYPT_PURPOSE_DIRIV, iv);
	write_at(d, CRYPT_DIRIV_NAME, iv, sizeof(iv));
	ssize_t n1 = crypt_name_encrypt(fx->k, iv, fx->long200, 200, c1);
	ssize_t n2 = crypt_name_encrypt(fx->k, iv, fx->long255, 255, c2);
	ssize_t ng = crypt_name_encrypt(fx->k, iv, "good", 4, good);
	assert_true(n1 > CRYPT_NAME_MAX && n2 > CRYPT_NAME_MAX && ng > 0);
	crypt_longname_hash(c1, (size_t)n1, h1);
	crypt_longname_hash(c2, (size_t)n2, h2);
	write_at(d, good, "", 0);
	put_longname(d, h1, c1, (size_t)n1); /* a good longname */
	put_longname(d, h2, c1, (size_t)n1); /* X.name holding another file's name */
	memset(over, 'A', sizeof(over));
	crypt_longname_hash(over, sizeof(over), hover);
	put_longname(d, hover, over, sizeof(over)); /* longer than any name, hash and all */
	crypt_longname_hash("missing", 7, hmissing);
	write_at(d, hmissing, "", 0); /* no .name at all */
	write_at(d, "not base64!", "", 0);
	write_at(d, "AAAAAAAAAAAAAAAAAAAAAA", "", 0); /* base64 of 16 bytes that do not unpad */
	write_at(d, CRYPT_CONF_VIEW_NAME, "", 0);     /* only the root's is the config */
	assert_int_equal(crypt_fwd_list(fx->k, d, false, collect, &s), 0);
	assert_int_equal(s.n, 8);
	assert_int_equal(err_of(&s, good), 0);
	assert_int_equal(err_of(&s, h1), 0);
	assert_string_equal(s.plain[find(&s, fx->long200)], fx->long200);
	assert_int_equal(err_of(&s, h2), -EBADMSG);
	assert_int_equal(err_of(&s, hover), -EBADMSG);
	assert_int_equal(err_of(&s, hmissing), -ENOENT);
	assert_int_equal(err_of(&s, "not base64!"), -EBADMSG);
	assert_int_equal(err_of(&s, "AAAAAAAAAAAAAAAAAAAAAA"), -EBADMSG);
	assert_int_equal(err_of(&s, CRYPT_CONF_VIEW_NAME), -EBADMSG);
	for (size_t i = 0; i < s.n; i++)
		if (s.err[i])
			assert_string_equal(s.plain[i], "");
	/* LOOKUP finds the good ones only. */
	assert_int_equal(crypt_fwd_lookup(fx->k, d, fx->long200, cname), 0);
	assert_string_equal(cname, h1);
	assert_int_equal(crypt_fwd_lookup(fx->k, d, "good", cname), 0);
	assert_int_equal(crypt_fwd_lookup(fx->k, d, "bad", cname), -ENOENT);
	close(d);
	ut_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_root),    cmocka_unit_test(test_list_subdir),
		cmocka_unit_test(test_list_stops),   cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_readlink),     cmocka_unit_test(test_read_ranges),
		cmocka_unit_test(test_flipped_byte), cmocka_unit_test(test_bad_headers_and_tails),
		cmocka_unit_test(test_diriv_errors), cmocka_unit_test(test_hostile_names),
	};
	return cmocka_run_group_tests_name("crypt_fwd", tests, setup, teardown);
}
