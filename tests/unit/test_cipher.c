/*
 * Unit tests for the cipher module (src/lib/cipher_*.c): known answers from
 * the standards (NIST SP 800-38A F.5, RFC 3394 section 4, RFC 5869
 * appendix A, RFC 7748 section 6.1), MCUboot's AES-CTR convention checked
 * against AES-ECB of the counter blocks, round trips of every key-wrap
 * scheme and key size, and refusals: wrong keys, every bit flip of a
 * wrapped key, truncated and hostile payloads.
 */
#include <criterion/criterion.h>

#include "cipher_priv.h"

#include "otatool/cipher.h"
#include "otatool/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* Decodes hex (spaces allowed) into out; returns the byte count. */
static size_t unhex(uint8_t *out, size_t size, const char *hex)
{
	size_t n = 0;

	while (*hex) {
		unsigned v;

		if (isspace((unsigned char)*hex)) {
			hex++;
			continue;
		}
		cr_assert(n < size, "hex longer than %zu bytes", size);
		cr_assert_eq(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

#define assert_bytes(got, want, len)                                           \
	cr_assert(memcmp((got), (want), (len)) == 0, "bytes differ")

/* ---- AES-CTR ----------------------------------------------------------- */

static const char sp800_38a_plain[] =
    "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";
static const char sp800_38a_ctr[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static void ctr_kat(const char *key_hex, const char *cipher_hex)
{
	uint8_t key[32], iv[16], pt[64], ct[64], out[64];
	size_t klen = unhex(key, sizeof(key), key_hex);

	unhex(iv, sizeof(iv), sp800_38a_ctr);
	unhex(pt, sizeof(pt), sp800_38a_plain);
	unhex(ct, sizeof(ct), cipher_hex);
	cr_assert_eq(cipher_ctr_once(out, key, klen, iv, pt, 64), 0);
	assert_bytes(out, ct, 64);
	cr_assert_eq(cipher_ctr_once(out, key, klen, iv, ct, 64), 0);
	assert_bytes(out, pt, 64);
}

Test(cipher, ctr_sp800_38a_f5_1_aes128)
{
	ctr_kat(
	    "2b7e151628aed2a6abf7158809cf4f3c",
	    "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff"
	    "5ae4df3edbd5d35e5b4f09020db03eab "
	    "1e031dda2fbe03d1792170a0f3009cee");
}

Test(cipher, ctr_sp800_38a_f5_5_aes256)
{
	ctr_kat(
	    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	    "601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5"
	    "2b0930daa23de94ce87017ba2d84988d "
	    "dfc9c58db67aada613c2dd08457941a6");
}

/*
 * MCUboot's convention computed independently: key stream block i is
 * AES-ECB of the 16-byte big-endian number i.
 */
static void ecb_keystream(uint8_t *ks, size_t len,
			  const struct ota_content_key *k)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t block[16];
	int n;

	cr_assert_not_null(ctx);
	cr_assert_eq(EVP_EncryptInit_ex(ctx,
					k->len == 32 ? EVP_aes_256_ecb()
						     : EVP_aes_128_ecb(),
					NULL, k->bytes, NULL),
		     1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	for (size_t i = 0; i * 16 < len; i++) {
		memset(block, 0, sizeof(block));
		for (int b = 0; b < 8; b++)
			block[15 - b] = (uint8_t)((uint64_t)i >> (8 * b));
		cr_assert_eq(EVP_EncryptUpdate(ctx, block, &n, block, 16), 1);
		memcpy(ks + i * 16, block,
		       len - i * 16 < 16 ? len - i * 16 : 16);
	}
	EVP_CIPHER_CTX_free(ctx);
}

#define BODY 5000

static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

static void ctr_chunks(unsigned bits)
{
	static const size_t chunks[] = { 1, 3, 15, 16, 17, 64, 1000, BODY };
	struct ota_content_key k;
	struct ota_ctr *c;
	uint8_t *pt = malloc(BODY), *ks = malloc(BODY), *ct = malloc(BODY);

	cr_assert(pt && ks && ct);
	fill(pt, BODY, bits);
	cr_assert_eq(ota_content_key_generate(&k, bits), 0);
	cr_assert_eq(k.len, bits / 8);
	ecb_keystream(ks, BODY, &k);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		cr_assert_eq(ota_ctr_new(&c, &k), 0, "%s", ota_error_message());
		for (size_t off = 0; off < BODY; off += chunks[i]) {
			size_t n =
			    BODY - off < chunks[i] ? BODY - off : chunks[i];

			cr_assert_eq(ota_ctr_update(c, ct + off, pt + off, n),
				     0);
		}
		for (size_t j = 0; j < BODY; j++)
			cr_assert_eq(ct[j], pt[j] ^ ks[j],
				     "chunk %zu: byte %zu", chunks[i], j);
		/* In place, back to the plaintext, after a seek to 0. */
		cr_assert_eq(ota_ctr_seek(c, 0), 0);
		cr_assert_eq(ota_ctr_update(c, ct, ct, BODY), 0);
		assert_bytes(ct, pt, BODY);
		ota_ctr_free(c);
	}
	ota_content_key_wipe(&k);
	free(pt);
	free(ks);
	free(ct);
}

Test(cipher, ctr_mcuboot_counter_any_chunk_aes128)
{
	ctr_chunks(128);
}

Test(cipher, ctr_mcuboot_counter_any_chunk_aes256)
{
	ctr_chunks(256);
}

Test(cipher, ctr_seek_anywhere)
{
	static const uint64_t offsets[] = { 0, 1, 15, 16, 17, 4095, 4999 };
	struct ota_content_key k;
	struct ota_ctr *c;
	uint8_t ks[BODY], out[BODY], zero[BODY] = { 0 };

	cr_assert_eq(ota_content_key_generate(&k, 256), 0);
	ecb_keystream(ks, BODY, &k);
	cr_assert_eq(ota_ctr_new(&c, &k), 0);
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		size_t off = (size_t)offsets[i];

		cr_assert_eq(ota_ctr_seek(c, off), 0);
		cr_assert_eq(ota_ctr_update(c, out, zero, BODY - off), 0);
		assert_bytes(out, ks + off, BODY - off);
	}
	ota_ctr_free(c);
}

Test(cipher, content_key_lengths)
{
	struct ota_content_key k;
	struct ota_ctr *c = NULL;
	uint8_t raw[32] = { 1 };

	cr_assert_eq(ota_content_key_generate(&k, 192), OTA_EUSAGE);
	cr_assert_eq(k.len, 0);
	cr_assert_eq(ota_content_key_set(&k, raw, 24), OTA_EUSAGE);
	cr_assert_eq(ota_content_key_set(&k, raw, 16), 0);
	cr_assert_eq(k.len, 16);
	k.len = 24; /* a corrupted struct must not reach OpenSSL */
	cr_assert_eq(ota_ctr_new(&c, &k), OTA_EUSAGE);
	cr_assert_null(c);
	ota_content_key_wipe(&k);
	for (size_t i = 0; i < sizeof(k.bytes); i++)
		cr_assert_eq(k.bytes[i], 0);
	ota_ctr_free(NULL);
	ota_content_key_wipe(NULL);
}

/* ---- AES-KW (RFC 3394, section 4) -------------------------------------- */

static void kw_kat(const char *kek_hex, const char *data_hex,
		   const char *cipher_hex)
{
	uint8_t kek[32], data[32], ct[40], out[40];
	size_t kl = unhex(kek, sizeof(kek), kek_hex);
	size_t dl = unhex(data, sizeof(data), data_hex);
	size_t cl = unhex(ct, sizeof(ct), cipher_hex);

	cr_assert_eq(cl, dl + 8);
	cr_assert_eq(cipher_kw_wrap(out, kek, kl, data, dl), 0, "%s",
		     ota_error_message());
	assert_bytes(out, ct, cl);
	cr_assert_eq(cipher_kw_unwrap(out, kek, kl, ct, cl), 0, "%s",
		     ota_error_message());
	assert_bytes(out, data, dl);
	/* Every bit of the wrapped key is covered by the integrity check. */
	for (size_t bit = 0; bit < cl * 8; bit++) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(cipher_kw_unwrap(out, kek, kl, ct, cl),
			     OTA_EVERIFY, "bit %zu", bit);
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

#define KEK128 "000102030405060708090A0B0C0D0E0F"
#define KEK256                                                                 \
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

Test(cipher, kw_rfc3394_4_1_128_data_128_kek)
{
	kw_kat(KEK128, "00112233445566778899AABBCCDDEEFF",
	       "1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5");
}

Test(cipher, kw_rfc3394_4_3_128_data_256_kek)
{
	kw_kat(KEK256, "00112233445566778899AABBCCDDEEFF",
	       "64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7");
}

Test(cipher, kw_rfc3394_4_5_192_data_256_kek)
{
	kw_kat(KEK256, "00112233445566778899AABBCCDDEEFF0001020304050607",
	       "A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895"
	       "8CD5D17D6B254DA1");
}

Test(cipher, kw_rfc3394_4_6_256_data_256_kek)
{
	kw_kat(
	    KEK256,
	    "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
	    "28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326"
	    "CBC7F0E71A99F43B FB988B9B7A02DD21");
}

Test(cipher, kw_refuses_bad_lengths)
{
	uint8_t kek[32] = { 0 }, in[48] = { 0 }, out[56];

	cr_assert_eq(cipher_kw_wrap(out, kek, 24, in, 16), OTA_EUSAGE);
	cr_assert_eq(cipher_kw_wrap(out, kek, 16, in, 8), OTA_EINPUT);
	cr_assert_eq(cipher_kw_wrap(out, kek, 16, in, 17), OTA_EINPUT);
	cr_assert_eq(cipher_kw_unwrap(out, kek, 16, in, 16), OTA_EINPUT);
	cr_assert_eq(cipher_kw_unwrap(out, kek, 16, in, 0), OTA_EINPUT);
	cr_assert_eq(cipher_kw_unwrap(out, kek, 16, in, 25), OTA_EINPUT);
	cr_assert_eq(cipher_kw_unwrap(out, kek, 16, in, 24), OTA_EVERIFY);
}

/* ---- HKDF (RFC 5869, appendix A) --------------------------------------- */

static void hkdf_kat(const char *ikm_hex, const char *salt_hex,
		     const char *info_hex, const char *okm_hex)
{
	uint8_t ikm[80], salt[80], info[80], okm[82], out[82];
	size_t il = unhex(ikm, sizeof(ikm), ikm_hex);
	size_t sl = unhex(salt, sizeof(salt), salt_hex);
	size_t nl = unhex(info, sizeof(info), info_hex);
	size_t ol = unhex(okm, sizeof(okm), okm_hex);

	cr_assert_eq(
	    cipher_hkdf(out, ol, "SHA256", ikm, il, salt, sl, info, nl), 0,
	    "%s", ota_error_message());
	assert_bytes(out, okm, ol);
	if (sl == 0) {
		/* No salt at all, as ECIES uses it: the same as empty. */
		memset(out, 0, sizeof(out));
		cr_assert_eq(
		    cipher_hkdf(out, ol, "SHA256", ikm, il, NULL, 0, info, nl),
		    0);
		assert_bytes(out, okm, ol);
	}
}

Test(cipher, hkdf_rfc5869_a1)
{
	hkdf_kat(
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
	    "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865");
}

Test(cipher, hkdf_rfc5869_a2)
{
	char ikm[161], salt[161], info[161];

	for (int i = 0; i < 80; i++) {
		snprintf(ikm + 2 * i, 3, "%02x", i);
		snprintf(salt + 2 * i, 3, "%02x", 0x60 + i);
		snprintf(info + 2 * i, 3, "%02x", 0xb0 + i);
	}
	hkdf_kat(
	    ikm, salt, info,
	    "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	    "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	    "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

Test(cipher, hkdf_rfc5869_a3)
{
	hkdf_kat(
	    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
	    "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	    "9d201395faa4b61a96c8");
}
