/*
 * Names: PKCS#7 padding to 16 bytes, EME under the directory IV, unpadded
 * base64url (internal/nametransform/). An encrypted name over 255 bytes is
 * shown as gocryptfs.longname.<base64url(sha256(name))>, with the full name
 * in a companion .name file.
 */
#include "crypt_int.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#define PAD_BS 16
#define PADDED_MAX (CRYPT_NAME_MAX + 1) /* 255 bytes always take a full 16-byte pad block */

/* What gocryptfs accepts as a name (nametransform.IsValidName). */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > CRYPT_NAME_MAX)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	return memchr(s, '/', len) == NULL && memchr(s, '\0', len) == NULL;
}

ssize_t crypt_name_encrypt(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN],
			   const char *plain, size_t plainlen, char out[CRYPT_CNAME_MAX + 1])
{
	if (plainlen > CRYPT_NAME_MAX)
		return -ENAMETOOLONG;
	if (!name_valid(plain, plainlen))
		return -EINVAL;
	uint8_t buf[PADDED_MAX];
	size_t pad = PAD_BS - plainlen % PAD_BS; /* 1..16: there is always padding */
	memcpy(buf, plain, plainlen);
	memset(buf + plainlen, (int)pad, pad);
	int r = crypt_eme(&k->ecb, diriv, buf, plainlen + pad, buf, true);
	if (r < 0)
		return r;
	return (ssize_t)crypt_b64_encode(buf, plainlen + pad, out, true);
}

/* Check and strip PKCS#7 padding: the length of what is left, or -EBADMSG. */
static ssize_t unpad(const uint8_t *buf, size_t len)
{
	uint8_t pad = buf[len - 1];
	if (pad == 0 || pad > PAD_BS || pad > len)
		return -EBADMSG;
	for (size_t i = len - pad; i < len; i++)
		if (buf[i] != pad)
			return -EBADMSG;
	return (ssize_t)(len - pad);
}

ssize_t crypt_name_decrypt(const struct crypt_keys *k, const uint8_t diriv[CRYPT_IV_LEN],
			   const char *cname, size_t cnamelen, char plain[CRYPT_NAME_MAX + 1])
{
	uint8_t buf[CRYPT_CNAME_MAX];
	if (cnamelen > CRYPT_CNAME_MAX)
		return -ENAMETOOLONG;
	ssize_t n = crypt_b64_decode(cname, cnamelen, buf, sizeof(buf), true);
	if (n <= 0 || n % PAD_BS)
		return -EBADMSG; /* not base64url, or not whole EME blocks */
	if (n > PADDED_MAX)
		return -ENAMETOOLONG;
	int r = crypt_eme(&k->ecb, diriv, buf, (size_t)n, buf, false);
	if (r < 0)
		return r;
	ssize_t len = unpad(buf, (size_t)n);
	if (len >= 0 && !name_valid((const char *)buf, (size_t)len))
		len = -EBADMSG;
	if (len >= 0) {
		memcpy(plain, buf, (size_t)len);
		plain[len] = '\0';
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return len;
}

void crypt_longname_hash(const char *cname, size_t cnamelen, char out[CRYPT_NAME_MAX + 1])
{
	uint8_t hash[32];
	size_t plen = strlen(CRYPT_LONGNAME_PREFIX);
	crypt_sha256(cname, cnamelen, hash);
	memcpy(out, CRYPT_LONGNAME_PREFIX, plen);
	crypt_b64_encode(hash, sizeof(hash), out + plen, true);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* As gocryptfs's NameType: the prefix decides, then the suffix. */
bool crypt_is_longname(const char *vname)
{
	return has_prefix(vname, CRYPT_LONGNAME_PREFIX) &&
	       !has_suffix(vname, CRYPT_LONGNAME_SUFFIX);
}

bool crypt_is_longname_file(const char *vname)
{
	return has_prefix(vname, CRYPT_LONGNAME_PREFIX) && has_suffix(vname, CRYPT_LONGNAME_SUFFIX);
}
