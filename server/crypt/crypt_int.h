/*
 * Private declarations of the crypto core (server/crypt/): the primitives
 * over OpenSSL, EME, base64 and the keys' layout. Nothing outside
 * server/crypt/ and its unit tests includes this.
 */
#ifndef LOOPNFS_CRYPT_INT_H
#define LOOPNFS_CRYPT_INT_H

#include "crypt.h"

#include <openssl/evp.h>

#define CRYPT_SIV_KEY_LEN 64 /* AES-256-SIV: half for S2V (CMAC), half for CTR */
#define CRYPT_EME_KEY_LEN 32

/*
 * A key prepared once: OpenSSL contexts initialised with it, copied for
 * each operation (a context is not shareable between threads; a copy is
 * cheaper than a new key schedule).
 */
struct crypt_cipher {
	EVP_CIPHER_CTX *enc, *dec;
};

struct crypt_keys {
	struct crypt_cipher siv; /* content, symlinks */
	struct crypt_cipher ecb; /* the block cipher under EME (names) */
};

/* name: "AES-256-SIV", "AES-128-SIV", "AES-256-ECB"...; ECB gets no padding. */
int crypt_cipher_init(struct crypt_cipher *c, const char *name, const uint8_t *key, size_t keylen);
void crypt_cipher_free(struct crypt_cipher *c);

/* One associated-data item of AES-SIV's vector (RFC 5297: S2V's strings). */
struct crypt_ad {
	const uint8_t *p;
	size_t len;
};

/*
 * AES-SIV: out = V (16) || C. Every AD item must be non-empty (-EINVAL):
 * OpenSSL before 3.0.10 ignored empty ones (CVE-2023-2975), and gocryptfs
 * never passes one.
 */
int crypt_siv_seal(const struct crypt_cipher *c, const struct crypt_ad *ad, size_t nad,
		   const uint8_t *plain, size_t len, uint8_t *out);
/* in = V || C (len >= 16); -EBADMSG if V does not verify (out is wiped then). */
int crypt_siv_open(const struct crypt_cipher *c, const struct crypt_ad *ad, size_t nad,
		   const uint8_t *in, size_t len, uint8_t *out);

/* AES-256-GCM, Go's layout: out = nonce || C || tag. */
int crypt_gcm_seal(const uint8_t key[32], const uint8_t *nonce, size_t noncelen, const uint8_t *ad,
		   size_t adlen, const uint8_t *plain, size_t len, uint8_t *out);
int crypt_gcm_open(const uint8_t key[32], size_t noncelen, const uint8_t *ad, size_t adlen,
		   const uint8_t *in, size_t len, uint8_t *out);

/* HKDF-SHA256 (RFC 5869) without salt, as gocryptfs derives its subkeys. */
int crypt_hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const char *info, uint8_t *out,
		      size_t outlen);
int crypt_scrypt(const char *pass, size_t passlen, const struct crypt_scrypt_params *sp,
		 uint8_t *out);
void crypt_sha256(const void *p, size_t len, uint8_t out[32]);
int crypt_random(uint8_t *p, size_t len);

/*
 * EME (Halevi-Rogaway, as rfjakob/eme) over the 16-byte block cipher in c:
 * len a multiple of 16, 16..2048 bytes; in and out may be the same.
 */
int crypt_eme(const struct crypt_cipher *c, const uint8_t tweak[16], const uint8_t *in, size_t len,
	      uint8_t *out, bool encrypt);

/* base64: url = RFC 4648 section 5 without padding (names), else the standard padded form. */
size_t crypt_b64_encode(const uint8_t *p, size_t len, char *out, bool url);
/* Returns the decoded length, or -EINVAL for a character or length the form does not allow. */
ssize_t crypt_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, bool url);
#define CRYPT_B64_LEN(n) (((n) + 2) / 3 * 4)

/* pread until len bytes or the end of the file: the count read, or -errno. */
ssize_t crypt_pread_full(int fd, uint8_t *buf, size_t len, uint64_t off);

/* crypt_fwd_read_id, and the number of the block that did not authenticate (else UINT64_MAX). */
ssize_t crypt_fwd_read_blocks(const struct crypt_keys *k, const uint8_t file_id[CRYPT_IV_LEN],
			      int cfd, uint64_t off, size_t len, uint8_t *out, uint64_t *bad_block);

#endif
