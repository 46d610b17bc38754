/*
 * File contents and symlink targets (internal/contentenc/, reverse mode's
 * file.go): an 18-byte header, then each 4096-byte plaintext block as
 * nonce || SIV tag || ciphertext with AD = block number || file ID and the
 * nonce as S2V's last item (siv_aead.go). Offsets map linearly, so a READ
 * at any offset encrypts only the blocks it touches and sizes are exact.
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define READ_BATCH 32 /* plaintext blocks read with one pread (128 KiB) */

uint64_t crypt_cipher_size(uint64_t plain_size)
{
	if (plain_size == 0)
		return 0; /* an empty file stays empty: no header */
	uint64_t blocks = (plain_size + CRYPT_PLAIN_BS - 1) / CRYPT_PLAIN_BS;
	return CRYPT_HEADER_LEN + plain_size + blocks * CRYPT_BLOCK_OVERHEAD;
}

int crypt_plain_size(uint64_t cipher_size, uint64_t *plain_size)
{
	if (cipher_size == 0) {
		*plain_size = 0;
		return 0;
	}
	if (cipher_size <= CRYPT_HEADER_LEN)
		return -EINVAL;
	uint64_t body = cipher_size - CRYPT_HEADER_LEN;
	uint64_t blocks = (body + CRYPT_CIPHER_BS - 1) / CRYPT_CIPHER_BS;
	uint64_t last = body - (blocks - 1) * CRYPT_CIPHER_BS;
	if (last <= CRYPT_BLOCK_OVERHEAD)
		return -EINVAL; /* a block holds at least one byte */
	*plain_size = body - blocks * CRYPT_BLOCK_OVERHEAD;
	return 0;
}

void crypt_header_pack(const uint8_t file_id[CRYPT_IV_LEN], uint8_t out[CRYPT_HEADER_LEN])
{
	out[0] = 0;
	out[1] = CRYPT_HEADER_VERSION;
	memcpy(out + 2, file_id, CRYPT_IV_LEN);
}

int crypt_header_parse(const uint8_t in[CRYPT_HEADER_LEN], uint8_t file_id[CRYPT_IV_LEN])
{
	static const uint8_t zero[CRYPT_IV_LEN];
	if (in[0] != 0 || in[1] != CRYPT_HEADER_VERSION)
		return -EBADMSG;
	if (memcmp(in + 2, zero, CRYPT_IV_LEN) == 0)
		return -EBADMSG; /* gocryptfs refuses it too: a zeroed (torn) header */
	memcpy(file_id, in + 2, CRYPT_IV_LEN);
	return 0;
}

/* AD = block number (big-endian) || file ID; returns its length. */
static size_t block_ad(uint64_t blockno, const uint8_t *file_id, uint8_t ad[8 + CRYPT_IV_LEN])
{
	for (int i = 0; i < 8; i++)
		ad[i] = (uint8_t)(blockno >> (56 - 8 * i));
	if (!file_id)
		return 8;
	memcpy(ad + 8, file_id, CRYPT_IV_LEN);
	return 8 + CRYPT_IV_LEN;
}

int crypt_block_encrypt(const struct crypt_keys *k, uint64_t blockno, const uint8_t *file_id,
			const uint8_t nonce[CRYPT_IV_LEN], const uint8_t *plain, size_t len,
			uint8_t *out)
{
	if (len == 0 || len > CRYPT_PLAIN_BS)
		return -EINVAL;
	uint8_t ad[8 + CRYPT_IV_LEN];
	struct crypt_ad v[2] = {
		{ ad, block_ad(blockno, file_id, ad) },
		{ nonce, CRYPT_IV_LEN },
	};
	memcpy(out, nonce, CRYPT_IV_LEN);
	return crypt_siv_seal(&k->siv, v, 2, plain, len, out + CRYPT_IV_LEN);
}

ssize_t crypt_block_decrypt(const struct crypt_keys *k, uint64_t blockno, const uint8_t *file_id,
			    const uint8_t *cblock, size_t clen, uint8_t *out)
{
	static const uint8_t zero[CRYPT_IV_LEN];
	if (clen <= CRYPT_BLOCK_OVERHEAD || clen > CRYPT_CIPHER_BS)
		return -EBADMSG;
	/* An all-zero nonce is what a zeroed block (a hole, a torn write) has: never ours. */
	if (memcmp(cblock, zero, CRYPT_IV_LEN) == 0)
		return -EBADMSG;
	uint8_t ad[8 + CRYPT_IV_LEN];
	struct crypt_ad v[2] = {
		{ ad, block_ad(blockno, file_id, ad) },
		{ cblock, CRYPT_IV_LEN },
	};
	int r = crypt_siv_open(&k->siv, v, 2, cblock + CRYPT_IV_LEN, clen - CRYPT_IV_LEN, out);
	return r < 0 ? r : (ssize_t)(clen - CRYPT_BLOCK_OVERHEAD);
}

/* Block n's nonce: block 0's plus n in its low 64 bits (pathiv.BlockIV). */
static void block_nonce(const uint8_t block0[CRYPT_IV_LEN], uint64_t n, uint8_t out[CRYPT_IV_LEN])
{
	uint64_t low = 0;
	memcpy(out, block0, CRYPT_IV_LEN);
	for (int i = 8; i < 16; i++)
		low = low << 8 | block0[i];
	low += n;
	for (int i = 15; i >= 8; i--, low >>= 8)
		out[i] = (uint8_t)low;
}

ssize_t crypt_pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* A view range: [off, end) of the cipher file, filled into out as blocks arrive. */
struct vrange {
	uint64_t off, end;
	uint8_t *out;
	size_t done; /* bytes of out written, always a prefix */
};

/* Copy the part of cipher bytes [at, at + n) that falls in the range. */
static void vrange_put(struct vrange *v, uint64_t at, const uint8_t *src, size_t n)
{
	uint64_t lo = at > v->off ? at : v->off, hi = at + n < v->end ? at + n : v->end;
	if (lo >= hi)
		return;
	memcpy(v->out + (lo - v->off), src + (lo - at), hi - lo);
	if (hi - v->off > v->done) /* the header comes last, below what the blocks filled */
		v->done = hi - v->off;
}

/* Encrypt plaintext blocks [first, first + nb) (the last may be short) into the range. */
static int put_blocks(const struct crypt_keys *k, const struct crypt_file_ivs *ivs,
		      struct vrange *v, uint64_t first, const uint8_t *plain, size_t plen)
{
	uint8_t cblock[CRYPT_CIPHER_BS], nonce[CRYPT_IV_LEN];
	for (size_t i = 0; i * CRYPT_PLAIN_BS < plen; i++) {
		uint64_t b = first + i;
		size_t n = plen - i * CRYPT_PLAIN_BS;
		n = n < CRYPT_PLAIN_BS ? n : CRYPT_PLAIN_BS;
		uint64_t at = CRYPT_HEADER_LEN + b * CRYPT_CIPHER_BS;
		/* A block wholly inside the range is encrypted in place, else through cblock. */
		bool whole = at >= v->off && at + n + CRYPT_BLOCK_OVERHEAD <= v->end;
		/* cblock is only written through dst (cppcheck takes the choice for a read). */
		// cppcheck-suppress legacyUninitvar
		uint8_t *dst = whole ? v->out + (at - v->off) : cblock;
		block_nonce(ivs->block0_iv, b, nonce);
		int r = crypt_block_encrypt(k, b, ivs->file_id, nonce, plain + i * CRYPT_PLAIN_BS,
					    n, dst);
		if (r < 0)
			return r;
		vrange_put(v, at, dst, n + CRYPT_BLOCK_OVERHEAD);
	}
	return 0;
}

/* The blocks [first, last] of fd, READ_BATCH at a time; stops at the end of the file. */
static int fill_blocks(const struct crypt_keys *k, const struct crypt_file_ivs *ivs, int fd,
		       struct vrange *v, uint64_t first, uint64_t last, bool *any)
{
	size_t batch = last - first + 1 < READ_BATCH ? (size_t)(last - first + 1) : READ_BATCH;
	uint8_t *plain = malloc(batch * CRYPT_PLAIN_BS);
	int r = plain ? 0 : -ENOMEM;
	for (uint64_t b = first; r == 0 && b <= last; b += batch) {
		size_t want =
			(last - b + 1 < batch ? (size_t)(last - b + 1) : batch) * CRYPT_PLAIN_BS;
		ssize_t n = crypt_pread_full(fd, plain, want, b * CRYPT_PLAIN_BS);
		if (n < 0)
			r = (int)n;
		if (n > 0) {
			*any = true;
			r = put_blocks(k, ivs, v, b, plain, (size_t)n);
		}
		if (n < (ssize_t)want)
			break;
	}
	if (plain)
		OPENSSL_cleanse(plain, batch * CRYPT_PLAIN_BS);
	free(plain);
	return r;
}

ssize_t crypt_read_view(const struct crypt_keys *k, const struct crypt_file_ivs *ivs, int fd,
			uint64_t off, size_t len, uint8_t *out)
{
	if (len == 0)
		return 0;
	struct vrange v = { .off = off, .end = off + len, .out = out };
	bool any = false;
	int r = 0;
	if (v.end > CRYPT_HEADER_LEN) {
		uint64_t from = off > CRYPT_HEADER_LEN ? off : CRYPT_HEADER_LEN;
		uint64_t first = (from - CRYPT_HEADER_LEN) / CRYPT_CIPHER_BS;
		uint64_t last = (v.end - 1 - CRYPT_HEADER_LEN) / CRYPT_CIPHER_BS;
		r = fill_blocks(k, ivs, fd, &v, first, last, &any);
	} else {
		/* Only header bytes asked for: they exist only if the file is not empty. */
		uint8_t one;
		ssize_t n = crypt_pread_full(fd, &one, 1, 0);
		r = n < 0 ? (int)n : 0;
		any = n > 0;
	}
	if (r < 0)
		return r;
	if (!any && off < CRYPT_HEADER_LEN)
		return 0; /* an empty file has no header either */
	if (off < CRYPT_HEADER_LEN) {
		uint8_t hdr[CRYPT_HEADER_LEN];
		crypt_header_pack(ivs->file_id, hdr);
		vrange_put(&v, 0, hdr, CRYPT_HEADER_LEN);
	}
	return (ssize_t)v.done;
}

ssize_t crypt_symlink_encrypt(const struct crypt_keys *k, const char *iv_path, const char *target,
			      size_t len, char out[CRYPT_SYMLINK_MAX + 1])
{
	if (len == 0 || len > CRYPT_PLAIN_BS)
		return len == 0 ? -EINVAL : -ENAMETOOLONG;
	uint8_t nonce[CRYPT_IV_LEN], block[CRYPT_CIPHER_BS];
	crypt_path_iv(iv_path, CRYPT_PURPOSE_SYMLINKIV, nonce);
	int r = crypt_block_encrypt(k, 0, NULL, nonce, (const uint8_t *)target, len, block);
	if (r < 0)
		return r;
	char enc[CRYPT_B64_LEN(CRYPT_CIPHER_BS) + 1];
	size_t n = crypt_b64_encode(block, len + CRYPT_BLOCK_OVERHEAD, enc, true);
	if (n > CRYPT_SYMLINK_MAX)
		return -ENAMETOOLONG; /* the kernel would refuse it: gocryptfs says so itself */
	memcpy(out, enc, n + 1);
	return (ssize_t)n;
}

ssize_t crypt_symlink_decrypt(const struct crypt_keys *k, const char *ctarget, size_t len,
			      char out[CRYPT_SYMLINK_MAX + 1])
{
	uint8_t block[CRYPT_CIPHER_BS];
	ssize_t n = crypt_b64_decode(ctarget, len, block, sizeof(block), true);
	if (n < 0)
		return -EBADMSG;
	ssize_t plen = crypt_block_decrypt(k, 0, NULL, block, (size_t)n, (uint8_t *)out);
	if (plen < 0)
		return plen;
	if (memchr(out, '\0', (size_t)plen)) {
		OPENSSL_cleanse(out, (size_t)plen);
		return -EBADMSG;
	}
	out[plen] = '\0';
	return plen;
}
