/*
 * Restoring a copy of the view: a ciphertext file back to its plaintext,
 * every block authenticated under its number and the header's file ID, so
 * a changed, swapped or zeroed block is an error, never different bytes.
 * (Truncation at a block boundary leaves valid blocks: the format cannot
 * tell, and neither can gocryptfs.)
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define DEC_BATCH 32 /* cipher blocks per pread */

static int write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Decrypt the cipher blocks in buf (clen bytes, starting at block first) into plain. */
static int decrypt_batch(const struct crypt_keys *k, const uint8_t file_id[CRYPT_IV_LEN],
			 uint64_t first, const uint8_t *buf, size_t clen, uint8_t *plain,
			 size_t *plen, uint64_t *bad_block)
{
	*plen = 0;
	for (size_t at = 0; at < clen; at += CRYPT_CIPHER_BS) {
		size_t n = clen - at < CRYPT_CIPHER_BS ? clen - at : CRYPT_CIPHER_BS;
		uint64_t b = first + at / CRYPT_CIPHER_BS;
		ssize_t got = crypt_block_decrypt(k, b, file_id, buf + at, n, plain + *plen);
		if (got < 0) {
			*bad_block = b;
			return (int)got;
		}
		*plen += (size_t)got;
	}
	return 0;
}

static int decrypt_blocks(const struct crypt_keys *k, int cfd, int pfd, uint64_t csize,
			  const uint8_t file_id[CRYPT_IV_LEN], uint64_t *bad_block)
{
	uint8_t *buf = malloc(DEC_BATCH * CRYPT_CIPHER_BS),
		*plain = malloc(DEC_BATCH * CRYPT_PLAIN_BS);
	int r = buf && plain ? 0 : -ENOMEM;
	for (uint64_t b = 0, off = CRYPT_HEADER_LEN; r == 0 && off < csize; b += DEC_BATCH) {
		size_t want = csize - off < DEC_BATCH * CRYPT_CIPHER_BS
				      ? (size_t)(csize - off)
				      : DEC_BATCH * CRYPT_CIPHER_BS;
		size_t plen = 0;
		ssize_t n = crypt_pread_full(cfd, buf, want, off);
		if (n >= 0 && (size_t)n != want)
			n = -EIO; /* the file shrank while being read */
		r = n < 0 ? (int)n
			  : decrypt_batch(k, file_id, b, buf, want, plain, &plen, bad_block);
		if (r == 0)
			r = write_full(pfd, plain, plen);
		off += want;
	}
	if (plain)
		OPENSSL_cleanse(plain, DEC_BATCH * CRYPT_PLAIN_BS);
	free(buf);
	free(plain);
	return r;
}

int crypt_decrypt_file(const struct crypt_keys *k, int cfd, int pfd, uint64_t *bad_block)
{
	struct stat st;
	uint64_t psize;
	uint8_t hdr[CRYPT_HEADER_LEN], file_id[CRYPT_IV_LEN];
	*bad_block = UINT64_MAX;
	if (fstat(cfd, &st) < 0)
		return -errno;
	if (crypt_plain_size((uint64_t)st.st_size, &psize) < 0)
		return -EINVAL;
	if (st.st_size == 0)
		return 0;
	ssize_t n = crypt_pread_full(cfd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return (int)n;
	if (n != CRYPT_HEADER_LEN || crypt_header_parse(hdr, file_id) < 0)
		return -EBADMSG;
	return decrypt_blocks(k, cfd, pfd, (uint64_t)st.st_size, file_id, bad_block);
}
