/*
 * EME, "A Parallelizable Enciphering Mode" (Halevi and Rogaway, 2003): a
 * tweakable wide-block cipher built from two ECB passes around a mixing
 * step, so every ciphertext bit depends on every plaintext bit. gocryptfs
 * encrypts file names with it (rfjakob/eme); this follows the paper and
 * that implementation's conventions: blocks of 16 bytes, doubling in
 * GF(2^128) with byte 0 the least significant (x^128 = x^7+x^2+x+1, 0x87),
 * and decryption the same steps with the block cipher inverted (L is
 * always derived by encryption).
 */
#include "crypt_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#define EME_BS 16
#define EME_MAX_BLOCKS 128 /* the paper's limit: m <= n for n-bit blocks */

/* out = 2 * in in GF(2^128), little-endian bytes. */
static void gf_double(uint8_t out[EME_BS], const uint8_t in[EME_BS])
{
	uint8_t carry = in[EME_BS - 1] >> 7;
	for (int j = EME_BS - 1; j > 0; j--)
		out[j] = (uint8_t)(in[j] << 1 | in[j - 1] >> 7);
	out[0] = (uint8_t)(in[0] << 1) ^ (carry ? 0x87 : 0);
}

static void xor_block(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < EME_BS; i++)
		out[i] = a[i] ^ b[i];
}

/* ECB over len bytes with a private copy of the keyed context. */
static int ecb(const EVP_CIPHER_CTX *tmpl, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl, r = -EIO;
	if (!ctx)
		return -ENOMEM;
	if (EVP_CIPHER_CTX_copy(ctx, tmpl) == 1 &&
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len)
		r = 0;
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

/* buf[j] ^= 2^j * L0 for every block j (the masks of the first and last pass). */
static void mask_blocks(uint8_t *buf, size_t m, const uint8_t l0[EME_BS])
{
	uint8_t l[EME_BS];
	memcpy(l, l0, EME_BS);
	for (size_t j = 0; j < m; j++) {
		xor_block(buf + j * EME_BS, buf + j * EME_BS, l);
		gf_double(l, l);
	}
}

/*
 * The middle: MP = T ^ xor of all PPP, MC = E(MP), M = MP ^ MC; block j >= 1
 * gets 2^j * M, block 0 the xor of the others and T and MC.
 */
static int mix(const EVP_CIPHER_CTX *bc, const uint8_t tweak[EME_BS], uint8_t *buf, size_t m)
{
	uint8_t mp[EME_BS], mc[EME_BS], mm[EME_BS];
	memcpy(mp, tweak, EME_BS);
	for (size_t j = 0; j < m; j++)
		xor_block(mp, mp, buf + j * EME_BS);
	int r = ecb(bc, mp, EME_BS, mc);
	if (r < 0)
		return r;
	xor_block(mm, mp, mc);
	uint8_t *c0 = buf;
	xor_block(c0, mc, tweak);
	for (size_t j = 1; j < m; j++) {
		gf_double(mm, mm);
		xor_block(buf + j * EME_BS, buf + j * EME_BS, mm);
		xor_block(c0, c0, buf + j * EME_BS);
	}
	OPENSSL_cleanse(mp, sizeof(mp));
	OPENSSL_cleanse(mc, sizeof(mc));
	OPENSSL_cleanse(mm, sizeof(mm));
	return 0;
}

int crypt_eme(const struct crypt_cipher *c, const uint8_t tweak[16], const uint8_t *in, size_t len,
	      uint8_t *out, bool encrypt)
{
	size_t m = len / EME_BS;
	if (len % EME_BS || m == 0 || m > EME_MAX_BLOCKS)
		return -EINVAL;
	const EVP_CIPHER_CTX *bc = encrypt ? c->enc : c->dec;
	uint8_t zero[EME_BS] = { 0 }, l[EME_BS];
	/* L = 2 * E(K, 0), by encryption in both directions. */
	int r = ecb(c->enc, zero, EME_BS, l);
	if (r < 0)
		return r;
	gf_double(l, l);
	uint8_t buf[EME_MAX_BLOCKS * EME_BS];
	memcpy(buf, in, len);
	mask_blocks(buf, m, l);	    /* PP_j = P_j ^ 2^(j-1) L */
	r = ecb(bc, buf, len, buf); /* PPP_j */
	if (r == 0)
		r = mix(bc, tweak, buf, m); /* CCC_j */
	if (r == 0)
		r = ecb(bc, buf, len, buf); /* CC_j */
	if (r == 0) {
		mask_blocks(buf, m, l); /* C_j = CC_j ^ 2^(j-1) L */
		memcpy(out, buf, len);
	}
	OPENSSL_cleanse(buf, len);
	OPENSSL_cleanse(l, sizeof(l));
	return r;
}
