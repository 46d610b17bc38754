/*
 * The plaintext view of a ciphertext copy (gocryptfs's forward mode, read
 * only): one directory or one file range at a time, for a backend that
 * serves the copy decrypted. Names come from each directory's stored
 * gocryptfs.diriv, longnames from their .name file; contents are read and
 * authenticated only for the blocks a range covers, so a changed block is
 * an error, never other bytes. Nothing here writes.
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

#include <openssl/crypto.h>

#define READ_BATCH 32 /* cipher blocks read with one pread (129 KiB) */

/* A small whole file: its length, -EBADMSG if longer than cap or not a regular file. */
static ssize_t read_small(int dirfd, const char *name, void *buf, size_t cap)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno; /* a symlink there is not ours */
	ssize_t n = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EBADMSG : 0;
	uint8_t more;
	if (n == 0)
		n = crypt_pread_full(fd, buf, cap, 0);
	if (n >= 0 && (size_t)n == cap && crypt_pread_full(fd, &more, 1, cap) > 0)
		n = -EBADMSG;
	close(fd);
	return n;
}

int crypt_fwd_diriv(int cdirfd, uint8_t iv[CRYPT_IV_LEN])
{
	ssize_t n = read_small(cdirfd, CRYPT_DIRIV_NAME, iv, CRYPT_IV_LEN);
	if (n < 0)
		return (int)n;
	return n == CRYPT_IV_LEN ? 0 : -EBADMSG;
}

int crypt_fwd_longname(int cdirfd, const char *hashed, char cname[CRYPT_CNAME_MAX + 1])
{
	char nf[CRYPT_NAME_MAX + sizeof(CRYPT_LONGNAME_SUFFIX)], hash[CRYPT_NAME_MAX + 1];
	if (snprintf(nf, sizeof(nf), "%s%s", hashed, CRYPT_LONGNAME_SUFFIX) >= (int)sizeof(nf))
		return -ENAMETOOLONG;
	ssize_t n = read_small(cdirfd, nf, cname, CRYPT_CNAME_MAX);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -EBADMSG;
	cname[n] = '\0';
	crypt_longname_hash(cname, (size_t)n, hash);
	return strcmp(hash, hashed) == 0 ? 0 : -EBADMSG; /* a .name that is not this file's */
}

/* ------------------------------------------------------------ names */

/* The cipher directory's own files, which stand for no plaintext entry. */
static bool is_virtual(const char *cname, bool root)
{
	return strcmp(cname, ".") == 0 || strcmp(cname, "..") == 0 ||
	       strcmp(cname, CRYPT_DIRIV_NAME) == 0 || crypt_is_longname_file(cname) ||
	       (root && strcmp(cname, CRYPT_CONF_VIEW_NAME) == 0);
}

/* One listed entry's plaintext name into e->plain; e->err says why not. */
static void decrypt_entry(const struct crypt_keys *k, int cdirfd, const uint8_t diriv[16],
			  struct crypt_fwd_entry *e)
{
	char full[CRYPT_CNAME_MAX + 1];
	const char *cname = e->cname;
	e->plain[0] = '\0';
	e->err = 0;
	if (crypt_is_longname(cname)) {
		e->err = crypt_fwd_longname(cdirfd, cname, full);
		cname = full;
	}
	if (e->err == 0) {
		ssize_t n = crypt_name_decrypt(k, diriv, cname, strlen(cname), e->plain);
		e->err = n < 0 ? -EBADMSG : 0;
	}
}

static DIR *open_dir_copy(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d && fd >= 0)
		close(fd);
	return d;
}

int crypt_fwd_list(const struct crypt_keys *k, int cdirfd, bool root, crypt_fwd_list_fn fn,
		   void *arg)
{
	uint8_t diriv[CRYPT_IV_LEN];
	int r = crypt_fwd_diriv(cdirfd, diriv);
	if (r < 0)
		return r;
	DIR *d = open_dir_copy(cdirfd);
	if (!d)
		return -errno;
	struct dirent *de;
	errno = 0;
	while (r == 0 && (de = readdir(d))) {
		if (is_virtual(de->d_name, root))
			continue;
		struct crypt_fwd_entry e = { .cname = de->d_name, .d_type = de->d_type };
		decrypt_entry(k, cdirfd, diriv, &e);
		r = fn(arg, &e);
		OPENSSL_cleanse(e.plain, sizeof(e.plain));
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int crypt_fwd_lookup_iv(const struct crypt_keys *k, int cdirfd, const uint8_t diriv[CRYPT_IV_LEN],
			const char *plain, char cname[CRYPT_NAME_MAX + 1])
{
	char full[CRYPT_CNAME_MAX + 1];
	struct stat st;
	ssize_t n = crypt_name_encrypt(k, diriv, plain, strlen(plain), full);
	if (n < 0)
		return n == -ENAMETOOLONG ? -ENAMETOOLONG : -ENOENT; /* ".", "a/b": no such entry */
	if (n > CRYPT_NAME_MAX)
		crypt_longname_hash(full, (size_t)n, cname);
	else
		memcpy(cname, full, (size_t)n + 1);
	return fstatat(cdirfd, cname, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

int crypt_fwd_lookup(const struct crypt_keys *k, int cdirfd, const char *plain,
		     char cname[CRYPT_NAME_MAX + 1])
{
	uint8_t diriv[CRYPT_IV_LEN];
	int r = crypt_fwd_diriv(cdirfd, diriv);
	return r < 0 ? r : crypt_fwd_lookup_iv(k, cdirfd, diriv, plain, cname);
}

ssize_t crypt_fwd_readlink(const struct crypt_keys *k, int cdirfd, const char *cname,
			   char out[CRYPT_SYMLINK_MAX + 1])
{
	char ctarget[CRYPT_SYMLINK_MAX + 1];
	ssize_t n = readlinkat(cdirfd, cname, ctarget, sizeof(ctarget));
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(ctarget))
		return -EBADMSG; /* longer than any target gocryptfs writes */
	return crypt_symlink_decrypt(k, ctarget, (size_t)n, out);
}

/* ------------------------------------------------------------ contents */

int crypt_fwd_header(int cfd, uint8_t file_id[CRYPT_IV_LEN])
{
	uint8_t hdr[CRYPT_HEADER_LEN];
	ssize_t n = crypt_pread_full(cfd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENODATA; /* an empty file: no header, and an empty plaintext */
	if (n != CRYPT_HEADER_LEN)
		return -EBADMSG;
	return crypt_header_parse(hdr, file_id);
}

/* A plaintext range [off, end), filled into out block by block. */
struct prange {
	uint64_t off, end;
	uint8_t *out;
	size_t done;
};

/* Decrypt cipher block b (clen bytes) and copy what falls in the range. */
static int put_block(const struct crypt_keys *k, const uint8_t *file_id, struct prange *p,
		     uint64_t b, const uint8_t *cblock, size_t clen, uint64_t *bad_block)
{
	uint8_t plain[CRYPT_PLAIN_BS];
	uint64_t at = b * CRYPT_PLAIN_BS;
	/* A whole block inside the range goes straight to out, else through plain. */
	bool whole = at >= p->off && at + CRYPT_PLAIN_BS <= p->end;
	// cppcheck-suppress legacyUninitvar
	uint8_t *dst = whole ? p->out + (at - p->off) : plain;
	ssize_t n = crypt_block_decrypt(k, b, file_id, cblock, clen, dst);
	if (n < 0) {
		*bad_block = b;
		return (int)n;
	}
	uint64_t lo = at > p->off ? at : p->off, hi = at + (uint64_t)n;
	hi = hi < p->end ? hi : p->end;
	if (lo < hi && !whole)
		memcpy(p->out + (lo - p->off), plain + (lo - at), hi - lo);
	if (lo < hi)
		p->done = hi - p->off;
	if (!whole)
		OPENSSL_cleanse(plain, sizeof(plain));
	return 0;
}

/* Blocks [first, last] READ_BATCH at a time; stops at the end of the file. */
static int fill_range(const struct crypt_keys *k, const uint8_t *file_id, int cfd, struct prange *p,
		      uint64_t first, uint64_t last, uint64_t *bad_block)
{
	size_t batch = last - first + 1 < READ_BATCH ? (size_t)(last - first + 1) : READ_BATCH;
	uint8_t *buf = malloc(batch * CRYPT_CIPHER_BS);
	int r = buf ? 0 : -ENOMEM;
	for (uint64_t b = first; r == 0 && b <= last; b += batch) {
		size_t nb = last - b + 1 < batch ? (size_t)(last - b + 1) : batch;
		ssize_t n = crypt_pread_full(cfd, buf, nb * CRYPT_CIPHER_BS,
					     CRYPT_HEADER_LEN + b * CRYPT_CIPHER_BS);
		if (n < 0)
			r = (int)n;
		for (size_t at = 0; r == 0 && n > 0 && at < (size_t)n; at += CRYPT_CIPHER_BS) {
			size_t clen =
				(size_t)n - at < CRYPT_CIPHER_BS ? (size_t)n - at : CRYPT_CIPHER_BS;
			r = put_block(k, file_id, p, b + at / CRYPT_CIPHER_BS, buf + at, clen,
				      bad_block);
		}
		if (n < (ssize_t)(nb * CRYPT_CIPHER_BS))
			break;
	}
	free(buf);
	return r;
}

ssize_t crypt_fwd_read_blocks(const struct crypt_keys *k, const uint8_t file_id[CRYPT_IV_LEN],
			      int cfd, uint64_t off, size_t len, uint8_t *out, uint64_t *bad_block)
{
	struct prange p = { .off = off, .end = off + len, .out = out };
	*bad_block = UINT64_MAX;
	if (len == 0)
		return 0;
	if (p.end < off)
		return -EINVAL;
	int r = fill_range(k, file_id, cfd, &p, off / CRYPT_PLAIN_BS, (p.end - 1) / CRYPT_PLAIN_BS,
			   bad_block);
	return r < 0 ? r : (ssize_t)p.done;
}

ssize_t crypt_fwd_read_id(const struct crypt_keys *k, const uint8_t file_id[CRYPT_IV_LEN], int cfd,
			  uint64_t off, size_t len, uint8_t *out)
{
	uint64_t bad;
	return crypt_fwd_read_blocks(k, file_id, cfd, off, len, out, &bad);
}

ssize_t crypt_fwd_read(const struct crypt_keys *k, int cfd, uint64_t off, size_t len, uint8_t *out)
{
	uint8_t file_id[CRYPT_IV_LEN];
	int r = crypt_fwd_header(cfd, file_id);
	if (r == -ENODATA)
		return 0;
	return r < 0 ? r : crypt_fwd_read_id(k, file_id, cfd, off, len, out);
}
