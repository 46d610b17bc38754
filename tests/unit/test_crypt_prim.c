/*
 * The crypto core's primitives against published answers: AES-SIV
 * (RFC 5297 appendix A, through the vector-AD wrapper), EME (rfjakob/eme's
 * vectors), HKDF-SHA256 (RFC 5869), base64 and the path IVs.
 */
#include "unit.h"

#include "crypt_int.h"
#include "crypt_vectors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	int n = ut_unhex(s, out, cap);
	assert_true(n >= 0);
	return (size_t)n;
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *got = malloc(2 * n + 1);
	assert_non_null(got);
	ut_hex(p, n, got);
	assert_string_equal(got, want);
	free(got);
}

/* RFC 5297 A.1: deterministic authenticated encryption, one AD item, no nonce. */
static void test_siv_rfc5297_a1(void **state)
{
	uint8_t key[32], ad[24], pt[14], out[30], back[14];
	struct crypt_cipher c;
	unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", key, 32);
	unhex("101112131415161718191a1b1c1d1e1f2021222324252627", ad, 24);
	unhex("112233445566778899aabbccddee", pt, 14);
	assert_int_equal(crypt_cipher_init(&c, "AES-128-SIV", key, sizeof(key)), 0);
	struct crypt_ad v[1] = { { ad, sizeof(ad) } };
	assert_int_equal(crypt_siv_seal(&c, v, 1, pt, sizeof(pt), out), 0);
	assert_hex(out, sizeof(out),
		   "85632d07c6e8f37f950acd320a2ecc93"
		   "40c02b9690c4dc04daef7f6afe5c");
	assert_int_equal(crypt_siv_open(&c, v, 1, out, sizeof(out), back), 0);
	assert_memory_equal(back, pt, sizeof(pt));
	/* The templates are reusable: a second message under the same key gives the same bytes. */
	assert_int_equal(crypt_siv_seal(&c, v, 1, pt, sizeof(pt), out), 0);
	assert_hex(out, 16, "85632d07c6e8f37f950acd320a2ecc93");
	crypt_cipher_free(&c);
}

/* RFC 5297 A.2: nonce-based, two AD items and the nonce as the last one (gocryptfs's use). */
static void test_siv_rfc5297_a2(void **state)
{
	uint8_t key[32], ad1[40], ad2[10], nonce[16], pt[47], out[63], back[47];
	struct crypt_cipher c;
	unhex("7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f", key, 32);
	unhex("00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100",
	      ad1, 40);
	unhex("102030405060708090a0", ad2, 10);
	unhex("09f911029d74e35bd84156c5635688c0", nonce, 16);
	unhex("7468697320697320736f6d6520706c61696e7465787420746f20656e6372797074207573696e"
	      "67205349562d414553",
	      pt, 47);
	assert_int_equal(crypt_cipher_init(&c, "AES-128-SIV", key, sizeof(key)), 0);
	struct crypt_ad v[3] = { { ad1, 40 }, { ad2, 10 }, { nonce, 16 } };
	assert_int_equal(crypt_siv_seal(&c, v, 3, pt, sizeof(pt), out), 0);
	assert_hex(out, sizeof(out),
		   "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094f"
		   "a663b7a3f748ba8af829ea64ad544a272e9c485b62a3fd5c0d");
	assert_int_equal(crypt_siv_open(&c, v, 3, out, sizeof(out), back), 0);
	assert_memory_equal(back, pt, sizeof(pt));
	/* Any changed bit, in the tag, the ciphertext or an AD item, fails and wipes the output. */
	out[20] ^= 1;
	assert_int_equal(crypt_siv_open(&c, v, 3, out, sizeof(out), back), -EBADMSG);
	out[20] ^= 1;
	nonce[0] ^= 0x80;
	assert_int_equal(crypt_siv_open(&c, v, 3, out, sizeof(out), back), -EBADMSG);
	nonce[0] ^= 0x80;
	assert_int_equal(crypt_siv_open(&c, v, 2, out, sizeof(out), back), -EBADMSG);
	crypt_cipher_free(&c);
}

/* Never an empty AD item (CVE-2023-2975): the wrapper refuses it in both directions. */
static void test_siv_refuses_empty_ad_item(void **state)
{
	uint8_t key[64] = { 1 }, pt[4] = "abcd", out[20], back[4];
	struct crypt_cipher c;
	assert_int_equal(crypt_cipher_init(&c, "AES-256-SIV", key, sizeof(key)), 0);
	struct crypt_ad v[2] = { { pt, 4 }, { pt, 0 } };
	assert_int_equal(crypt_siv_seal(&c, v, 2, pt, sizeof(pt), out), -EINVAL);
	v[1].len = 4;
	assert_int_equal(crypt_siv_seal(&c, v, 2, pt, sizeof(pt), out), 0);
	v[1].len = 0;
	assert_int_equal(crypt_siv_open(&c, v, 2, out, sizeof(out), back), -EINVAL);
	crypt_cipher_free(&c);
	/* And a 48-byte key is not AES-256-SIV's. */
	assert_int_equal(crypt_cipher_init(&c, "AES-256-SIV", key, 48), -EINVAL);
}

static void eme_vector(size_t len, const char *want_hex, bool encrypt)
{
	uint8_t key[32] = { 0 }, tweak[16] = { 0 };
	uint8_t *in = calloc(1, len), *out = malloc(len), *want = malloc(len), *back = malloc(len);
	struct crypt_cipher c;
	assert_int_equal(unhex(want_hex, want, len), len);
	assert_int_equal(crypt_cipher_init(&c, "AES-256-ECB", key, sizeof(key)), 0);
	assert_int_equal(crypt_eme(&c, tweak, in, len, out, encrypt), 0);
	assert_memory_equal(out, want, len);
	assert_int_equal(crypt_eme(&c, tweak, out, len, back, !encrypt), 0);
	assert_memory_equal(back, in, len);
	crypt_cipher_free(&c);
	free(in);
	free(out);
	free(want);
	free(back);
}

static void test_eme_published_vectors(void **state)
{
	eme_vector(16, eme_enc16_hex, true);
	eme_vector(512, eme_enc512_hex, true);
	eme_vector(512, eme_dec512_hex, false);
	eme_vector(2048, eme_enc2048_hex, true);
}

static void test_eme_round_trip_and_limits(void **state)
{
	uint8_t key[32], tweak[16], in[2064], out[2064], back[2064];
	struct crypt_cipher c;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 3);
	memset(key, 0x42, sizeof(key));
	memset(tweak, 0x17, sizeof(tweak));
	assert_int_equal(crypt_cipher_init(&c, "AES-256-ECB", key, sizeof(key)), 0);
	for (size_t len = 16; len <= 2048; len += 16) {
		assert_int_equal(crypt_eme(&c, tweak, in, len, out, true), 0);
		assert_int_equal(crypt_eme(&c, tweak, out, len, back, false), 0);
		assert_memory_equal(back, in, len);
	}
	/* A wide block: one changed input bit changes every output block. */
	assert_int_equal(crypt_eme(&c, tweak, in, 256, out, true), 0);
	in[255] ^= 1;
	assert_int_equal(crypt_eme(&c, tweak, in, 256, back, true), 0);
	for (int b = 0; b < 16; b++)
		assert_memory_not_equal(out + 16 * b, back + 16 * b, 16);
	assert_int_equal(crypt_eme(&c, tweak, in, 0, out, true), -EINVAL);
	assert_int_equal(crypt_eme(&c, tweak, in, 17, out, true), -EINVAL);
	assert_int_equal(crypt_eme(&c, tweak, in, 2064, out, true), -EINVAL);
	crypt_cipher_free(&c);
}

/* RFC 5869 test case 3: no salt, no info, as gocryptfs calls it but for the info string. */
static void test_hkdf_rfc5869_case3(void **state)
{
	uint8_t ikm[22], okm[42];
	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(crypt_hkdf_sha256(ikm, sizeof(ikm), "", okm, sizeof(okm)), 0);
	assert_hex(okm, sizeof(okm),
		   "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395fa"
		   "a4b61a96c8");
}

static void test_base64_forms(void **state)
{
	char s[64];
	uint8_t b[64];
	const uint8_t in[] = { 0xfb, 0xff, 0xbf, 0x01 };
	assert_int_equal(crypt_b64_encode(in, 4, s, true), 6);
	assert_string_equal(s, "-_-_AQ");
	assert_int_equal(crypt_b64_encode(in, 4, s, false), 8);
	assert_string_equal(s, "+/+/AQ==");
	assert_int_equal(crypt_b64_decode("-_-_AQ", 6, b, sizeof(b), true), 4);
	assert_memory_equal(b, in, 4);
	assert_int_equal(crypt_b64_decode("+/+/AQ==", 8, b, sizeof(b), false), 4);
	assert_memory_equal(b, in, 4);
	/* Each form refuses the other's alphabet and padding, and impossible lengths. */
	assert_int_equal(crypt_b64_decode("+/+/AQ", 6, b, sizeof(b), true), -EINVAL);
	assert_int_equal(crypt_b64_decode("-_-_AQ==", 8, b, sizeof(b), true), -EINVAL);
	assert_int_equal(crypt_b64_decode("+/+/AQ", 6, b, sizeof(b), false), -EINVAL);
	assert_int_equal(crypt_b64_decode("AAAAA", 5, b, sizeof(b), true), -EINVAL);
	assert_int_equal(crypt_b64_decode("AAAA", 4, b, 2, true), -EINVAL);
	for (size_t n = 0; n < 40; n++) {
		uint8_t p[40];
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(i * 37);
		size_t l = crypt_b64_encode(p, n, s, true);
		assert_int_equal(crypt_b64_decode(s, l, b, sizeof(b), true), n);
		assert_memory_equal(b, p, n);
	}
}

/*
 * Path IVs as gocryptfs 2.3 shows them: the root's gocryptfs.diriv, and the
 * diriv of the directory it names s6gUckzgwIMmeGplXHIpvQ (read from a
 * `gocryptfs -reverse` mount; they depend on the path only, not the key).
 */
static void test_path_ivs(void **state)
{
	uint8_t iv[16];
	crypt_path_iv("", CRYPT_PURPOSE_DIRIV, iv);
	assert_hex(iv, 16, "a8f7bac432ddc1cb3dc74e684d6ae48b");
	crypt_path_iv("s6gUckzgwIMmeGplXHIpvQ", CRYPT_PURPOSE_DIRIV, iv);
	assert_hex(iv, 16, "21182de5daea31498c1adb16768d24e8");
	char *p = crypt_path_join("", "x");
	assert_string_equal(p, "x");
	free(p);
	p = crypt_path_join("a/b", "x");
	assert_string_equal(p, "a/b/x");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siv_rfc5297_a1),
		cmocka_unit_test(test_siv_rfc5297_a2),
		cmocka_unit_test(test_siv_refuses_empty_ad_item),
		cmocka_unit_test(test_eme_published_vectors),
		cmocka_unit_test(test_eme_round_trip_and_limits),
		cmocka_unit_test(test_hkdf_rfc5869_case3),
		cmocka_unit_test(test_base64_forms),
		cmocka_unit_test(test_path_ivs),
	};
	return cmocka_run_group_tests_name("crypt_prim", tests, NULL, NULL);
}
