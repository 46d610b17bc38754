/*
 * A master key's subkeys (HKDF-SHA256, gocryptfs's info strings) and the
 * IVs reverse mode derives from cipher-relative paths, since a view
 * computed on every read has nowhere to keep random ones.
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

/* internal/cryptocore/hkdf.go */
#define HKDF_INFO_EME "EME filename encryption"
#define HKDF_INFO_SIV "AES-SIV file content encryption"

int crypt_keys_new(const uint8_t master[CRYPT_MASTERKEY_LEN], struct crypt_keys **out)
{
	uint8_t siv[CRYPT_SIV_KEY_LEN], eme[CRYPT_EME_KEY_LEN];
	struct crypt_keys *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	int r = crypt_hkdf_sha256(master, CRYPT_MASTERKEY_LEN, HKDF_INFO_SIV, siv, sizeof(siv));
	if (r == 0)
		r = crypt_hkdf_sha256(master, CRYPT_MASTERKEY_LEN, HKDF_INFO_EME, eme, sizeof(eme));
	if (r == 0)
		r = crypt_cipher_init(&k->siv, "AES-256-SIV", siv, sizeof(siv));
	if (r == 0)
		r = crypt_cipher_init(&k->ecb, "AES-256-ECB", eme, sizeof(eme));
	OPENSSL_cleanse(siv, sizeof(siv));
	OPENSSL_cleanse(eme, sizeof(eme));
	if (r < 0) {
		crypt_keys_free(k);
		return r;
	}
	*out = k;
	return 0;
}

void crypt_keys_free(struct crypt_keys *k)
{
	if (!k)
		return;
	crypt_cipher_free(&k->siv);
	crypt_cipher_free(&k->ecb);
	free(k);
}

/* internal/pathiv/pathiv.go */
static const char *const purpose_names[] = {
	[CRYPT_PURPOSE_DIRIV] = "DIRIV",
	[CRYPT_PURPOSE_FILEID] = "FILEID",
	[CRYPT_PURPOSE_SYMLINKIV] = "SYMLINKIV",
	[CRYPT_PURPOSE_BLOCK0IV] = "BLOCK0IV",
};

void crypt_path_iv(const char *cpath, enum crypt_purpose purpose, uint8_t iv[CRYPT_IV_LEN])
{
	/* The NUL separator cannot occur in a path, so no two inputs collide. */
	size_t plen = strlen(cpath), ulen = strlen(purpose_names[purpose]);
	uint8_t hash[32];
	char *buf = malloc(plen + 1 + ulen);
	if (!buf)
		abort(); /* a few bytes more than a path: nothing sensible is left to do */
	memcpy(buf, cpath, plen);
	buf[plen] = '\0';
	memcpy(buf + plen + 1, purpose_names[purpose], ulen);
	crypt_sha256(buf, plen + 1 + ulen, hash);
	free(buf);
	memcpy(iv, hash, CRYPT_IV_LEN);
}

void crypt_file_ivs(const char *cpath, struct crypt_file_ivs *ivs)
{
	crypt_path_iv(cpath, CRYPT_PURPOSE_FILEID, ivs->file_id);
	crypt_path_iv(cpath, CRYPT_PURPOSE_BLOCK0IV, ivs->block0_iv);
}

void crypt_file_ivs_of(const char *cpath, const struct stat *st, struct crypt_file_ivs *ivs)
{
	if (st->st_nlink <= 1) {
		crypt_file_ivs(cpath, ivs);
		return;
	}
	/* No path of its own: the inode stands for every name (NFS handles name inodes). */
	char iv_path[48];
	snprintf(iv_path, sizeof(iv_path), "\x01loopnfs-hardlink/%llu",
		 (unsigned long long)st->st_ino);
	crypt_file_ivs(iv_path, ivs);
}

char *crypt_path_join(const char *dir_cpath, const char *cname)
{
	char *p;
	if (!*dir_cpath)
		return strdup(cname);
	if (asprintf(&p, "%s/%s", dir_cpath, cname) < 0)
		return NULL;
	return p;
}
