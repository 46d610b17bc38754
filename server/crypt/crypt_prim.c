/*
 * The primitives, every one of them OpenSSL 3.0's: AES-SIV with a vector
 * of associated data, AES-ECB as EME's block cipher, AES-256-GCM (the
 * wrapped master key), HKDF-SHA256, scrypt, SHA-256 and random bytes.
 */
#include "crypt_int.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

static EVP_CIPHER_CTX *keyed_ctx(EVP_CIPHER *cipher, const uint8_t *key, int enc, bool nopad)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex2(ctx, cipher, key, NULL, enc, NULL) != 1 ||
	    (nopad && EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int crypt_cipher_init(struct crypt_cipher *c, const char *name, const uint8_t *key, size_t keylen)
{
	memset(c, 0, sizeof(*c));
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!cipher)
		return -ENOSYS;
	if ((size_t)EVP_CIPHER_get_key_length(cipher) != keylen) {
		EVP_CIPHER_free(cipher);
		return -EINVAL;
	}
	bool ecb = EVP_CIPHER_get_mode(cipher) == EVP_CIPH_ECB_MODE;
	c->enc = keyed_ctx(cipher, key, 1, ecb);
	c->dec = keyed_ctx(cipher, key, 0, ecb);
	EVP_CIPHER_free(cipher); /* the contexts hold their own reference */
	if (!c->enc || !c->dec) {
		crypt_cipher_free(c);
		return -ENOMEM;
	}
	return 0;
}

void crypt_cipher_free(struct crypt_cipher *c)
{
	/* EVP_CIPHER_CTX_free cleanses the key schedules. */
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	c->enc = c->dec = NULL;
}

/* A private copy of a keyed template: what one operation on one thread uses. */
static EVP_CIPHER_CTX *ctx_copy(const EVP_CIPHER_CTX *tmpl)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx && EVP_CIPHER_CTX_copy(ctx, tmpl) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int siv_add_ad(EVP_CIPHER_CTX *ctx, const struct crypt_ad *ad, size_t nad, bool enc)
{
	for (size_t i = 0; i < nad; i++) {
		int outl;
		/* Each call is one item of S2V's vector; an empty one is refused (CVE-2023-2975). */
		if (ad[i].len == 0 || ad[i].len > INT_MAX)
			return -EINVAL;
		int ok = enc ? EVP_EncryptUpdate(ctx, NULL, &outl, ad[i].p, (int)ad[i].len)
			     : EVP_DecryptUpdate(ctx, NULL, &outl, ad[i].p, (int)ad[i].len);
		if (ok != 1)
			return -EIO;
	}
	return 0;
}

int crypt_siv_seal(const struct crypt_cipher *c, const struct crypt_ad *ad, size_t nad,
		   const uint8_t *plain, size_t len, uint8_t *out)
{
	if (len > INT_MAX)
		return -EINVAL;
	EVP_CIPHER_CTX *ctx = ctx_copy(c->enc);
	if (!ctx)
		return -ENOMEM;
	int outl, r = siv_add_ad(ctx, ad, nad, true);
	if (r == 0 && (EVP_EncryptUpdate(ctx, out + CRYPT_TAG_LEN, &outl, plain, (int)len) != 1 ||
		       EVP_EncryptFinal_ex(ctx, out + CRYPT_TAG_LEN + outl, &outl) != 1 ||
		       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, CRYPT_TAG_LEN, out) != 1))
		r = -EIO;
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypt_siv_open(const struct crypt_cipher *c, const struct crypt_ad *ad, size_t nad,
		   const uint8_t *in, size_t len, uint8_t *out)
{
	if (len < CRYPT_TAG_LEN || len > INT_MAX)
		return -EBADMSG;
	EVP_CIPHER_CTX *ctx = ctx_copy(c->dec);
	if (!ctx)
		return -ENOMEM;
	int outl, r = 0;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, CRYPT_TAG_LEN, (void *)in) != 1)
		r = -EIO;
	if (r == 0)
		r = siv_add_ad(ctx, ad, nad, false);
	/* The tag is checked in the update (one per message for SIV) and reported again by final. */
	if (r == 0 && (EVP_DecryptUpdate(ctx, out, &outl, in + CRYPT_TAG_LEN,
					 (int)(len - CRYPT_TAG_LEN)) != 1 ||
		       EVP_DecryptFinal_ex(ctx, out + outl, &outl) != 1)) {
		OPENSSL_cleanse(out, len - CRYPT_TAG_LEN);
		r = -EBADMSG;
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static EVP_CIPHER_CTX *gcm_ctx(const uint8_t key[32], const uint8_t *nonce, size_t noncelen,
			       int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)noncelen, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int crypt_gcm_seal(const uint8_t key[32], const uint8_t *nonce, size_t noncelen, const uint8_t *ad,
		   size_t adlen, const uint8_t *plain, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = gcm_ctx(key, nonce, noncelen, 1);
	if (!ctx)
		return -ENOMEM;
	int outl, r = 0;
	uint8_t *ct = out + noncelen;
	memcpy(out, nonce, noncelen);
	if (EVP_EncryptUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &outl, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_LEN, ct + len) != 1)
		r = -EIO;
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypt_gcm_open(const uint8_t key[32], size_t noncelen, const uint8_t *ad, size_t adlen,
		   const uint8_t *in, size_t len, uint8_t *out)
{
	if (len < noncelen + CRYPT_TAG_LEN)
		return -EBADMSG;
	size_t ctlen = len - noncelen - CRYPT_TAG_LEN;
	EVP_CIPHER_CTX *ctx = gcm_ctx(key, in, noncelen, 0);
	if (!ctx)
		return -ENOMEM;
	int outl, r = 0;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_LEN,
				(void *)(in + noncelen + ctlen)) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &outl, in + noncelen, (int)ctlen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + outl, &outl) != 1) {
		OPENSSL_cleanse(out, ctlen);
		r = -EBADMSG;
	}
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int crypt_hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const char *info, uint8_t *out,
		      size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!kctx)
		return -ENOSYS;
	/* No salt: RFC 5869 then uses HashLen zero bytes, as Go's hkdf.New(..., nil, info). */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
		OSSL_PARAM_construct_end(),
	};
	int r = EVP_KDF_derive(kctx, out, outlen, params) == 1 ? 0 : -EIO;
	EVP_KDF_CTX_free(kctx);
	return r;
}

int crypt_scrypt(const char *pass, size_t passlen, const struct crypt_scrypt_params *sp,
		 uint8_t *out)
{
	/* scrypt's own need (128 r N for V, 128 r p for B) and room for the rest. */
	uint64_t maxmem = 128ull * sp->r * (sp->n + sp->p + 2) + (1u << 20);
	if (EVP_PBE_scrypt(pass, passlen, sp->salt, sp->saltlen, sp->n, sp->r, sp->p, maxmem, out,
			   sp->keylen) != 1)
		return -ENOMEM;
	return 0;
}

void crypt_sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int outl = 32;
	EVP_Digest(p, len, out, &outl, EVP_sha256(), NULL);
}

int crypt_random(uint8_t *p, size_t len)
{
	return RAND_bytes(p, (int)len) == 1 ? 0 : -EIO;
}
