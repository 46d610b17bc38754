/*
 * The config file, DIR/.gocryptfs.reverse.conf, in gocryptfs's JSON
 * (internal/configfile/): the master key wrapped as one content block
 * (block 0, no file ID) with AES-256-GCM and a 128-bit nonce, under
 * HKDF(scrypt(passphrase), "AES-GCM file content encryption").
 */
#define _GNU_SOURCE
#include "crypt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#define HKDF_INFO_GCM "AES-GCM file content encryption"
#define CONF_VERSION 2
#define SALT_LEN 32
#define SCRYPT_R 8
#define SCRYPT_P 1

/* The flags gocryptfs -init -reverse writes, in its order; all of them are required. */
static const char *const needed_flags[] = {
	"HKDF", "GCMIV128", "DirIV", "EMENames", "LongNames", "Raw64", "AESSIV",
};
#define NFLAGS (sizeof(needed_flags) / sizeof(needed_flags[0]))

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static int get_b64(json_t *obj, const char *key, uint8_t *out, size_t cap, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s)
		return -EINVAL;
	ssize_t n = crypt_b64_decode(s, strlen(s), out, cap, false);
	if (n < 0)
		return -EINVAL;
	*len = (size_t)n;
	return 0;
}

static bool get_uint(json_t *obj, const char *key, json_int_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* gocryptfs's lower limits (scrypt.go), and upper ones so a hostile file cannot exhaust memory. */
static int parse_scrypt(json_t *so, struct crypt_scrypt_params *sp, const char *path, char *err,
			size_t errlen)
{
	uint64_t r, p, keylen;
	if (!json_is_object(so) || get_b64(so, "Salt", sp->salt, sizeof(sp->salt), &sp->saltlen) ||
	    !get_uint(so, "N", 1 << 28, &sp->n) || !get_uint(so, "R", 64, &r) ||
	    !get_uint(so, "P", 16, &p) || !get_uint(so, "KeyLen", 1024, &keylen))
		return fail(err, errlen, -EINVAL, "%s: ScryptObject is missing or malformed", path);
	sp->r = (uint32_t)r;
	sp->p = (uint32_t)p;
	sp->keylen = (uint32_t)keylen;
	if (sp->n < 1024 || (sp->n & (sp->n - 1)) || sp->r < SCRYPT_R || sp->p < SCRYPT_P ||
	    sp->saltlen < SALT_LEN || sp->keylen != CRYPT_MASTERKEY_LEN)
		return fail(
			err, errlen, -EINVAL,
			"%s: scrypt parameters out of range (N=%llu R=%u P=%u KeyLen=%u, salt %zu "
			"bytes)",
			path, (unsigned long long)sp->n, sp->r, sp->p, sp->keylen, sp->saltlen);
	return 0;
}

static int check_flags(json_t *flags, const char *path, char *err, size_t errlen)
{
	bool seen[NFLAGS] = { false };
	size_t i, j;
	json_t *v;
	if (!json_is_array(flags))
		return fail(err, errlen, -EINVAL, "%s: FeatureFlags is missing", path);
	json_array_foreach(flags, i, v)
	{
		const char *f = json_string_value(v);
		for (j = 0; f && j < NFLAGS && strcmp(f, needed_flags[j]) != 0; j++)
			;
		if (!f || j == NFLAGS)
			return fail(err, errlen, -ENOTSUP,
				    "%s: feature flag \"%s\" is not implemented (loopnfs reads "
				    "gocryptfs -reverse configs: %s)",
				    path, f ? f : "?",
				    "HKDF GCMIV128 DirIV EMENames LongNames Raw64 AESSIV");
		seen[j] = true;
	}
	for (j = 0; j < NFLAGS; j++)
		if (!seen[j])
			return fail(err, errlen, -ENOTSUP,
				    "%s: feature flag \"%s\" is missing: only gocryptfs -reverse "
				    "configs with HKDF and AESSIV are implemented",
				    path, needed_flags[j]);
	return 0;
}

static int parse_config(json_t *root, struct crypt_config *cf, const char *path, char *err,
			size_t errlen)
{
	size_t klen;
	uint64_t version;
	const char *creator = json_string_value(json_object_get(root, "Creator"));
	if (!json_is_object(root))
		return fail(err, errlen, -EINVAL, "%s: not a JSON object", path);
	if (!get_uint(root, "Version", 65535, &version) || version != CONF_VERSION)
		return fail(err, errlen, -ENOTSUP, "%s: on-disk format Version must be %d", path,
			    CONF_VERSION);
	int r = check_flags(json_object_get(root, "FeatureFlags"), path, err, errlen);
	if (r == 0)
		r = parse_scrypt(json_object_get(root, "ScryptObject"), &cf->scrypt, path, err,
				 errlen);
	if (r < 0)
		return r;
	if (get_b64(root, "EncryptedKey", cf->encrypted_key, sizeof(cf->encrypted_key), &klen) ||
	    klen != sizeof(cf->encrypted_key))
		return fail(err, errlen, -EINVAL, "%s: EncryptedKey is missing or not %zu bytes",
			    path, sizeof(cf->encrypted_key));
	snprintf(cf->creator, sizeof(cf->creator), "%s", creator ? creator : "");
	return 0;
}

int crypt_config_load(const char *path, struct crypt_config *cf, char *err, size_t errlen)
{
	json_error_t jerr;
	memset(cf, 0, sizeof(*cf));
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (access(path, R_OK) < 0)
			return fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
		return fail(err, errlen, -EINVAL, "%s:%d: %s", path, jerr.line, jerr.text);
	}
	int r = parse_config(root, cf, path, err, errlen);
	json_decref(root);
	return r;
}

/* The key that wraps the master key: HKDF over scrypt's output. */
static int wrapping_key(const struct crypt_scrypt_params *sp, const char *pass, size_t passlen,
			uint8_t key[32])
{
	uint8_t hash[CRYPT_MASTERKEY_LEN];
	int r = crypt_scrypt(pass, passlen, sp, hash);
	if (r == 0)
		r = crypt_hkdf_sha256(hash, sizeof(hash), HKDF_INFO_GCM, key, 32);
	OPENSSL_cleanse(hash, sizeof(hash));
	return r;
}

/* AD of block 0 without a file ID: the block number, 8 zero bytes. */
static const uint8_t key_ad[8];

int crypt_config_unlock(const struct crypt_config *cf, const char *pass, size_t passlen,
			uint8_t master[CRYPT_MASTERKEY_LEN], char *err, size_t errlen)
{
	uint8_t key[32];
	int r = wrapping_key(&cf->scrypt, pass, passlen, key);
	if (r < 0)
		return fail(err, errlen, r, "scrypt failed (N=%llu needs %llu MiB)",
			    (unsigned long long)cf->scrypt.n,
			    (unsigned long long)(128ull * cf->scrypt.r * cf->scrypt.n >> 20));
	r = crypt_gcm_open(key, CRYPT_IV_LEN, key_ad, sizeof(key_ad), cf->encrypted_key,
			   sizeof(cf->encrypted_key), master);
	OPENSSL_cleanse(key, sizeof(key));
	if (r < 0)
		return fail(err, errlen, -EACCES,
			    "wrong passphrase (the master key does not open)");
	return 0;
}

int crypt_open_config(const char *path, const char *pass, size_t passlen, struct crypt_keys **out,
		      char *err, size_t errlen)
{
	struct crypt_config cf;
	uint8_t master[CRYPT_MASTERKEY_LEN];
	int r = crypt_config_load(path, &cf, err, errlen);
	if (r == 0)
		r = crypt_config_unlock(&cf, pass, passlen, master, err, errlen);
	if (r == 0 && (r = crypt_keys_new(master, out)) < 0)
		fail(err, errlen, r, "cannot set up the ciphers: %s", strerror(-r));
	OPENSSL_cleanse(master, sizeof(master));
	return r;
}

static json_t *b64_json(const uint8_t *p, size_t len)
{
	char s[CRYPT_B64_LEN(128) + 1];
	crypt_b64_encode(p, len, s, false);
	return json_string(s);
}

/* The JSON gocryptfs writes: its field order, tabs (Go's MarshalIndent), a final newline. */
static char *config_json(const struct crypt_config *cf)
{
	const struct crypt_scrypt_params *sp = &cf->scrypt;
	json_t *flags = json_array(), *so = json_object(), *root = json_object();
	for (size_t i = 0; i < NFLAGS; i++)
		json_array_append_new(flags, json_string(needed_flags[i]));
	json_object_set_new(so, "Salt", b64_json(sp->salt, sp->saltlen));
	json_object_set_new(so, "N", json_integer((json_int_t)sp->n));
	json_object_set_new(so, "R", json_integer(sp->r));
	json_object_set_new(so, "P", json_integer(sp->p));
	json_object_set_new(so, "KeyLen", json_integer(sp->keylen));
	json_object_set_new(root, "Creator", json_string(cf->creator));
	json_object_set_new(root, "EncryptedKey",
			    b64_json(cf->encrypted_key, sizeof(cf->encrypted_key)));
	json_object_set_new(root, "ScryptObject", so);
	json_object_set_new(root, "Version", json_integer(CONF_VERSION));
	json_object_set_new(root, "FeatureFlags", flags);
	char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return NULL;
	/* One space per level becomes one tab: JSON strings hold no raw newline, so it is indentation. */
	char *t = malloc(strlen(s) + 2), *o = t;
	for (const char *p = s; t && *p;) {
		for (; *p == ' '; p++) /* at the start of a line */
			*o++ = '\t';
		while (*p && *p != '\n')
			*o++ = *p++;
		if (*p)
			*o++ = *p++;
	}
	if (t) {
		*o++ = '\n';
		*o = '\0';
	}
	free(s);
	return t;
}

/* Write text to a temporary file beside path, then link it: never replaces what is there. */
static int write_new_file(const char *path, const char *text)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400), r = 0;
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	free(tmp);
	return r;
}

static int wrap_master(struct crypt_config *cf, const char *pass, size_t passlen,
		       const uint8_t master[CRYPT_MASTERKEY_LEN])
{
	uint8_t key[32], nonce[CRYPT_IV_LEN];
	int r = crypt_random(cf->scrypt.salt, SALT_LEN);
	if (r == 0)
		r = crypt_random(nonce, sizeof(nonce));
	if (r == 0)
		r = wrapping_key(&cf->scrypt, pass, passlen, key);
	if (r == 0)
		r = crypt_gcm_seal(key, nonce, sizeof(nonce), key_ad, sizeof(key_ad), master,
				   CRYPT_MASTERKEY_LEN, cf->encrypted_key);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int crypt_config_create(const char *path, const char *pass, size_t passlen, unsigned logn,
			uint8_t master[CRYPT_MASTERKEY_LEN], char *err, size_t errlen)
{
	struct crypt_config cf = {
		.scrypt = { .saltlen = SALT_LEN,
			    .n = 1ull << logn,
			    .r = SCRYPT_R,
			    .p = SCRYPT_P,
			    .keylen = CRYPT_MASTERKEY_LEN },
	};
	if (logn < 10 || logn > 28)
		return fail(err, errlen, -EINVAL, "scrypt logN must be 10..28 (got %u)", logn);
	if (access(path, F_OK) == 0)
		return fail(err, errlen, -EEXIST, "%s exists: refusing to overwrite it", path);
	snprintf(cf.creator, sizeof(cf.creator), "loopnfs-crypt");
	int r = crypt_random(master, CRYPT_MASTERKEY_LEN);
	if (r == 0)
		r = wrap_master(&cf, pass, passlen, master);
	if (r < 0) {
		OPENSSL_cleanse(master, CRYPT_MASTERKEY_LEN);
		return fail(err, errlen, r, "cannot wrap the master key: %s", strerror(-r));
	}
	char *text = config_json(&cf);
	r = text ? write_new_file(path, text) : -ENOMEM;
	free(text);
	if (r < 0) {
		OPENSSL_cleanse(master, CRYPT_MASTERKEY_LEN);
		return fail(err, errlen, r, "%s: %s", path,
			    r == -EEXIST ? "exists: refusing to overwrite it" : strerror(-r));
	}
	return 0;
}

void crypt_masterkey_format(const uint8_t master[CRYPT_MASTERKEY_LEN],
			    char out[CRYPT_MASTERKEY_HEX_MAX])
{
	char *o = out;
	for (int i = 0; i < CRYPT_MASTERKEY_LEN; i++) {
		if (i && i % 4 == 0)
			*o++ = '-';
		o += sprintf(o, "%02x", master[i]);
	}
}
