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

#define DEC_CHUNK (32 * CRYPT_PLAIN_BS) /* plaintext bytes per read and write */

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

int crypt_decrypt_file(const struct crypt_keys *k, int cfd, int pfd, uint64_t *bad_block)
{
	struct stat st;
	uint64_t psize;
	uint8_t file_id[CRYPT_IV_LEN];
	*bad_block = UINT64_MAX;
	if (fstat(cfd, &st) < 0)
		return -errno;
	if (crypt_plain_size((uint64_t)st.st_size, &psize) < 0)
		return -EINVAL;
	if (st.st_size == 0)
		return 0;
	int r = crypt_fwd_header(cfd, file_id);
	if (r < 0)
		return r == -ENODATA ? -EBADMSG : r; /* emptied since the fstat: no header now */
	uint8_t *plain = malloc(DEC_CHUNK);
	r = plain ? 0 : -ENOMEM;
	for (uint64_t off = 0; r == 0 && off < psize; off += DEC_CHUNK) {
		size_t want = psize - off < DEC_CHUNK ? (size_t)(psize - off) : DEC_CHUNK;
		ssize_t n = crypt_fwd_read_blocks(k, file_id, cfd, off, want, plain, bad_block);
		if (n >= 0 && (size_t)n != want)
			n = -EIO; /* the file shrank while being read */
		r = n < 0 ? (int)n : write_full(pfd, plain, want);
	}
	if (plain)
		OPENSSL_cleanse(plain, DEC_CHUNK);
	free(plain);
	return r;
}
