/*
 * base64 in the two forms gocryptfs uses: unpadded base64url for names,
 * longname hashes and symlink targets (Raw64), the standard padded form
 * for the config's byte strings (Go's encoding/json). Decoding is strict
 * about the alphabet and the length, so a name that is not one of ours is
 * simply not found.
 */
#include "crypt_int.h"

#include <errno.h>

static const char std_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t crypt_b64_encode(const uint8_t *p, size_t len, char *out, bool url)
{
	const char *abc = url ? url_abc : std_abc;
	size_t o = 0, i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = abc[v >> 6 & 63];
		out[o++] = abc[v & 63];
	}
	size_t rest = len - i;
	if (rest) {
		uint32_t v = (uint32_t)p[i] << 16 | (rest == 2 ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		if (rest == 2)
			out[o++] = abc[v >> 6 & 63];
		else if (!url)
			out[o++] = '=';
		if (!url)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char ch, bool url)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == (url ? '-' : '+'))
		return 62;
	if (ch == (url ? '_' : '/'))
		return 63;
	return -1;
}

/* Strip the padding of the standard form: exactly what makes the length a multiple of 4. */
static int strip_padding(const char *s, size_t *len)
{
	if (*len % 4)
		return -EINVAL;
	for (int k = 0; k < 2 && *len && s[*len - 1] == '='; k++)
		(*len)--;
	return 0;
}

ssize_t crypt_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, bool url)
{
	if (!url && strip_padding(s, &len) < 0)
		return -EINVAL;
	if (len % 4 == 1)
		return -EINVAL;
	size_t need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (need > cap)
		return -EINVAL;
	uint32_t acc = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i], url);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	if (len % 4 == 2)
		out[o++] = (uint8_t)(acc >> 4);
	else if (len % 4 == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	return (ssize_t)o;
}
