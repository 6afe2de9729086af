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
#include "otatool/key.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

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

/* ---- X25519 (RFC 7748, section 6.1) ------------------------------------ */

Test(cipher, x25519_rfc7748_6_1)
{
	uint8_t a[32], b[32], apub[32], bpub[32], k[32], s1[32], s2[32];
	uint8_t got[32];
	size_t len = 32;
	EVP_PKEY *ka, *kb, *pa, *pb;

	unhex(
	    a, 32,
	    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(
	    apub, 32,
	    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex(
	    b, 32,
	    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(
	    bpub, 32,
	    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex(
	    k, 32,
	    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	ka = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, a, 32);
	kb = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, b, 32);
	cr_assert(ka && kb);
	cr_assert_eq(EVP_PKEY_get_raw_public_key(ka, got, &len), 1);
	assert_bytes(got, apub, 32);
	/* The peer keys as ECIES payloads carry them: 32 raw bytes. */
	cr_assert_eq(cipher_ecies_peer(&pa, OTA_WRAP_ECIES_X25519, apub, 32),
		     0);
	cr_assert_eq(cipher_ecies_peer(&pb, OTA_WRAP_ECIES_X25519, bpub, 32),
		     0);
	cr_assert_eq(cipher_ecdh(s1, ka, pb), 0, "%s", ota_error_message());
	cr_assert_eq(cipher_ecdh(s2, kb, pa), 0);
	assert_bytes(s1, k, 32);
	assert_bytes(s2, k, 32);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(pa);
	EVP_PKEY_free(pb);
}

/* ---- Wrapping and unwrapping ------------------------------------------- */

static char dir[256];

static void tmp_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/otatool-cipher-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir));
	unsetenv("OTATOOL_KEY_PASSPHRASE");
}

static void tmp_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(wrap, .init = tmp_setup, .fini = tmp_teardown, .timeout = 600);

static const char *path_of(const char *name)
{
	static char buf[8][400];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, 400, "%.256s/%.100s", dir, name);
	return p;
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* name.pem (private, PKCS#8) and name.pub.pem of a new key of type. */
static void keypair(const char *type, const char *name)
{
	EVP_PKEY *pk;
	char file[64];
	FILE *f;

	if (strcmp(type, "p256") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "p384") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "x25519") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	else if (strcmp(type, "ed25519") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
				       (size_t)atoi(type + 3));
	cr_assert_not_null(pk, "keygen %s", type);
	snprintf(file, sizeof(file), "%s.pem", name);
	f = fopen(path_of(file), "w");
	cr_assert(f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	snprintf(file, sizeof(file), "%s.pub.pem", name);
	f = fopen(path_of(file), "w");
	cr_assert(f && PEM_write_PUBKEY(f, pk));
	fclose(f);
	EVP_PKEY_free(pk);
}

static const struct ota_key_opts no_opts;

static struct ota_recipient *recipient(const char *file, unsigned hmac)
{
	struct ota_recipient *r;

	cr_assert_eq(ota_recipient_load(&r, path_of(file), hmac), 0, "%s: %s",
		     file, ota_error_message());
	return r;
}

static struct ota_decrypt_key *device(const char *file)
{
	struct ota_decrypt_key *k;

	cr_assert_eq(ota_decrypt_key_open(&k, path_of(file), &no_opts), 0,
		     "%s: %s", file, ota_error_message());
	return k;
}

struct case_ {
	const char *type; /* keypair() type, or "kek16"/"kek32" */
	unsigned hmac;
	enum ota_wrap_scheme scheme;
	const char *kind;
};

static const struct case_ cases[] = {
	{ "p256", 0, OTA_WRAP_ECIES_P256, "P-256" },
	{ "x25519", 256, OTA_WRAP_ECIES_X25519, "X25519" },
	{ "x25519", 512, OTA_WRAP_ECIES_X25519_SHA512, "X25519" },
	{ "rsa2048", 0, OTA_WRAP_RSA_OAEP, "RSA-2048" },
	{ "rsa3072", 0, OTA_WRAP_RSA_OAEP, "RSA-3072" },
	{ "kek16", 0, OTA_WRAP_AES_KW, "AES-KW-128" },
	{ "kek32", 0, OTA_WRAP_AES_KW, "AES-KW-256" },
};

/* Files "a" and "b", two keys of the case's type; a's file names out. */
static void make_keys(const struct case_ *c, const char **pub,
		      const char **priv)
{
	if (strncmp(c->type, "kek", 3) == 0) {
		bool big = strcmp(c->type, "kek32") == 0;

		write_text(
		    "a.kek",
		    big ? "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
			: "AAECAwQFBgcICQoLDA0ODw==\n");
		write_text(
		    "b.kek",
		    big ? "HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
			: "DwECAwQFBgcICQoLDA0ODw==\n");
		*pub = *priv = "a.kek";
		return;
	}
	keypair(c->type, "a");
	keypair(c->type, "b");
	*pub = "a.pub.pem";
	*priv = "a.pem";
}

static const char *other_of(const char *priv)
{
	return strcmp(priv, "a.kek") == 0 ? "b.kek" : "b.pem";
}

static void round_trip(const struct case_ *c, size_t keylen)
{
	struct ota_content_key k, got;
	struct ota_recipient *r;
	struct ota_decrypt_key *dk, *wrong;
	uint8_t w[OTA_WRAP_MAX];
	size_t wl = 0;
	const char *pub, *priv;

	make_keys(c, &pub, &priv);
	r = recipient(pub, c->hmac);
	dk = device(priv);
	wrong = device(other_of(priv));
	cr_assert_eq(ota_recipient_scheme(r), c->scheme);
	cr_assert_str_eq(ota_decrypt_key_kind(dk), c->kind);
	cr_assert(ota_decrypt_key_accepts(dk, c->scheme));
	cr_assert_eq(ota_content_key_generate(&k, (unsigned)keylen * 8), 0);
	cr_assert_eq(ota_recipient_wrap(w, &wl, r, &k), 0, "%s",
		     ota_error_message());
	cr_assert_eq(
	    wl, ota_wrap_len(c->scheme, keylen, ota_recipient_rsa_bits(r)));
	cr_assert_eq(ota_unwrap(&got, dk, c->scheme, w, wl, keylen), 0,
		     "%s %zu: %s", c->type, keylen, ota_error_message());
	cr_assert_eq(got.len, keylen);
	assert_bytes(got.bytes, k.bytes, keylen);
	/* Another key of the same type: refused, and nothing comes out. */
	cr_assert_eq(ota_unwrap(&got, wrong, c->scheme, w, wl, keylen),
		     OTA_EVERIFY, "%s: %s", c->type, ota_error_message());
	cr_assert_eq(got.len, 0);
	/* The other key length: the payload's length says no. */
	cr_assert_eq(ota_unwrap(&got, dk, c->scheme, w, wl, 48 - keylen),
		     c->scheme == OTA_WRAP_RSA_OAEP ? OTA_EVERIFY : OTA_EINPUT,
		     "%s", ota_error_message());
	/* Truncated and extended payloads. */
	for (size_t n = 0; n < wl; n++)
		cr_assert_eq(ota_unwrap(&got, dk, c->scheme, w, n, keylen),
			     OTA_EINPUT, "%s: %zu of %zu bytes", c->type, n,
			     wl);
	cr_assert_eq(ota_unwrap(&got, dk, c->scheme, w, wl + 1, keylen),
		     OTA_EINPUT);
	/*
	 * Every bit of the payload is protected, but for the top bit of an
	 * X25519 key, which RFC 7748 (section 5) says to ignore: the device
	 * computes the same secret with it flipped, and so do we.
	 */
	for (size_t bit = 0; bit < wl * 8; bit++) {
		int rc;

		if (cipher_ecies_pub_len(c->scheme) == 32 && bit == 255 &&
		    c->scheme != OTA_WRAP_AES_KW &&
		    c->scheme != OTA_WRAP_RSA_OAEP) {
			w[31] ^= 0x80;
			cr_assert_eq(
			    ota_unwrap(&got, dk, c->scheme, w, wl, keylen), 0);
			w[31] ^= 0x80;
			continue;
		}

		w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = ota_unwrap(&got, dk, c->scheme, w, wl, keylen);
		cr_assert_eq(rc, OTA_EVERIFY, "%s: bit %zu: %d %s", c->type,
			     bit, rc, ota_error_message());
		cr_assert_eq(got.len, 0);
		w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert_eq(ota_unwrap(&got, dk, c->scheme, w, wl, keylen), 0);
	/* Two wraps of one key differ (ephemeral keys, OAEP's seed). */
	if (c->scheme != OTA_WRAP_AES_KW) {
		uint8_t w2[OTA_WRAP_MAX];
		size_t wl2;

		cr_assert_eq(ota_recipient_wrap(w2, &wl2, r, &k), 0);
		cr_assert(wl2 == wl && memcmp(w, w2, wl) != 0);
	}
	ota_content_key_wipe(&k);
	ota_content_key_wipe(&got);
	ota_recipient_free(r);
	ota_decrypt_key_free(dk);
	ota_decrypt_key_free(wrong);
}

Test(wrap, ecies_p256)
{
	round_trip(&cases[0], 16);
	round_trip(&cases[0], 32);
}

Test(wrap, ecies_x25519_sha256)
{
	round_trip(&cases[1], 16);
	round_trip(&cases[1], 32);
}

Test(wrap, ecies_x25519_sha512)
{
	round_trip(&cases[2], 16);
	round_trip(&cases[2], 32);
}

Test(wrap, rsa_oaep_2048)
{
	round_trip(&cases[3], 16);
	round_trip(&cases[3], 32);
}

Test(wrap, rsa_oaep_3072)
{
	round_trip(&cases[4], 16);
}

Test(wrap, aes_kw_128)
{
	round_trip(&cases[5], 16);
	round_trip(&cases[5], 32);
}

Test(wrap, aes_kw_256)
{
	round_trip(&cases[6], 16);
	round_trip(&cases[6], 32);
}

Test(wrap, payload_lengths_as_mcuboot_documents)
{
	/* docs: P-256 113/129, X25519 80/96, X25519-SHA-512 112/128. */
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_P256, 16, 0), 113);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_P256, 32, 0), 129);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_X25519, 16, 0), 80);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_X25519, 32, 0), 96);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_X25519_SHA512, 16, 0), 112);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_X25519_SHA512, 32, 0), 128);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_AES_KW, 16, 0), 24);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_AES_KW, 32, 0), 40);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_RSA_OAEP, 16, 2048), 256);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_RSA_OAEP, 16, 1024), 0);
	cr_assert_eq(ota_wrap_len(OTA_WRAP_ECIES_P256, 24, 0), 0);
}

Test(wrap, scheme_names_and_tlvs)
{
	enum ota_wrap_scheme s;

	cr_assert_str_eq(ota_wrap_scheme_name(0x30), "rsa-oaep");
	cr_assert_str_eq(ota_wrap_scheme_name(0x34), "ecies-x25519-sha512");
	cr_assert_null(ota_wrap_scheme_name(0x35));
	cr_assert_eq(ota_wrap_scheme_of_tlv(&s, 0x33), 0);
	cr_assert_eq(s, OTA_WRAP_ECIES_X25519);
	cr_assert_eq(ota_wrap_scheme_of_tlv(&s, 0x2f), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "0x2f"));
}

#define assert_msg_has(s)                                                      \
	cr_assert(strstr(ota_error_message(), (s)),                            \
		  "message lacks \"%s\": %s", (s), ota_error_message())

Test(wrap, key_does_not_fit_scheme)
{
	struct ota_decrypt_key *p256, *x;
	struct ota_content_key got;
	uint8_t w[OTA_WRAP_MAX] = { 0x04 };

	keypair("p256", "p");
	keypair("x25519", "x");
	p256 = device("p.pem");
	x = device("x.pem");
	cr_assert_eq(ota_unwrap(&got, p256, OTA_WRAP_ECIES_X25519, w, 80, 16),
		     OTA_EKEY);
	assert_msg_has("an X25519 private key");
	assert_msg_has("P-256");
	cr_assert_eq(ota_unwrap(&got, x, OTA_WRAP_ECIES_P256, w, 113, 16),
		     OTA_EKEY);
	cr_assert_eq(ota_unwrap(&got, x, OTA_WRAP_RSA_OAEP, w, 256, 16),
		     OTA_EKEY);
	cr_assert_eq(ota_unwrap(&got, x, OTA_WRAP_AES_KW, w, 24, 16), OTA_EKEY);
	cr_assert_eq(ota_unwrap(&got, x, OTA_WRAP_ECIES_X25519, w, 80, 24),
		     OTA_EUSAGE);
	cr_assert_eq(ota_unwrap(&got, x, (enum ota_wrap_scheme)0x40, w, 80, 16),
		     OTA_EINPUT);
	/* A hostile length never reaches the parser. */
	cr_assert_eq(
	    ota_unwrap(&got, x, OTA_WRAP_ECIES_X25519, w, SIZE_MAX, 16),
	    OTA_EINPUT);
	/* All-zero X25519 ephemeral key: the shared secret would be zero. */
	memset(w, 0, sizeof(w));
	cr_assert_eq(ota_unwrap(&got, x, OTA_WRAP_ECIES_X25519, w, 80, 16),
		     OTA_EVERIFY);
	/* A P-256 point off the curve. */
	w[0] = 0x04;
	w[1] = 1;
	cr_assert_eq(ota_unwrap(&got, p256, OTA_WRAP_ECIES_P256, w, 113, 16),
		     OTA_EVERIFY);
	/* A compressed point is not MCUboot's encoding. */
	w[0] = 0x02;
	cr_assert_eq(ota_unwrap(&got, p256, OTA_WRAP_ECIES_P256, w, 113, 16),
		     OTA_EVERIFY);
	assert_msg_has("uncompressed");
	ota_decrypt_key_free(p256);
	ota_decrypt_key_free(x);
}

Test(wrap, refused_recipients)
{
	struct ota_recipient *r = NULL;

	keypair("ed25519", "ed");
	cr_assert_eq(ota_recipient_load(&r, path_of("ed.pub.pem"), 0),
		     OTA_EKEY);
	assert_msg_has("x25519");
	keypair("p384", "p384");
	cr_assert_eq(ota_recipient_load(&r, path_of("p384.pub.pem"), 0),
		     OTA_EKEY);
	assert_msg_has("secp384r1");
	keypair("rsa1024", "small");
	cr_assert_eq(ota_recipient_load(&r, path_of("small.pub.pem"), 0),
		     OTA_EKEY);
	assert_msg_has("1024 bits");
	keypair("p256", "p");
	cr_assert_eq(ota_recipient_load(&r, path_of("p.pub.pem"), 512),
		     OTA_EUSAGE);
	assert_msg_has("SHA-512");
	cr_assert_eq(ota_recipient_load(&r, path_of("p.pub.pem"), 384),
		     OTA_EUSAGE);
	/* A hex key is not newt's format, and 24 bytes is no AES key. */
	write_text("hex.kek", "000102030405060708090a0b0c0d0e0f\n");
	cr_assert_eq(ota_recipient_load(&r, path_of("hex.kek"), 0), OTA_EINPUT);
	assert_msg_has("base64");
	write_text("k24.kek", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\n");
	cr_assert_eq(ota_recipient_load(&r, path_of("k24.kek"), 0), OTA_EINPUT);
	cr_assert_eq(ota_recipient_load(&r, path_of("missing"), 0), OTA_EINPUT);
	assert_msg_has("missing");
	cr_assert_null(r);
}

Test(wrap, refused_device_keys)
{
	struct ota_decrypt_key *k = NULL;

	keypair("p256", "p");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("p.pub.pem"), &no_opts),
		     OTA_EKEY);
	assert_msg_has("decryption needs the private key");
	keypair("ed25519", "ed");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("ed.pem"), &no_opts),
		     OTA_EKEY);
	assert_msg_has("Ed25519");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("none"), &no_opts),
		     OTA_EKEY);
	cr_assert_eq(ota_decrypt_key_open(&k, "pkcs11:token=x", &no_opts),
		     OTA_EKEY);
	assert_msg_has("PKCS#11");
	cr_assert_null(k);
}

Test(wrap, encrypted_device_key_with_passphrase_file)
{
	struct ota_key_opts opts = { .passphrase_file = NULL };
	struct ota_decrypt_key *k = NULL;
	char cmd[1024];

	keypair("x25519", "x");
	snprintf(cmd, sizeof(cmd),
		 "openssl pkcs8 -topk8 -v2 aes-256-cbc -in '%s' -out '%s' "
		 "-passout pass:sesame",
		 path_of("x.pem"), path_of("x.enc.pem"));
	cr_assert_eq(system(cmd), 0);
	write_text("pass", "sesame\n");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("x.enc.pem"), &opts),
		     OTA_EKEY);
	assert_msg_has("no passphrase");
	opts.passphrase_file = path_of("pass");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("x.enc.pem"), &opts), 0,
		     "%s", ota_error_message());
	cr_assert_str_eq(ota_decrypt_key_kind(k), "X25519");
	ota_decrypt_key_free(k);
	write_text("pass", "wrong\n");
	cr_assert_eq(ota_decrypt_key_open(&k, path_of("x.enc.pem"), &opts),
		     OTA_EKEY);
	assert_msg_has("wrong passphrase");
}

Test(wrap, generate_x25519_and_kek_files)
{
	struct ota_recipient *r;
	struct ota_decrypt_key *k;
	struct ota_content_key ck, got;
	uint8_t w[OTA_WRAP_MAX];
	size_t wl;
	char id[65];
	struct stat st;
	const char *types[] = { "x25519", "aes-kw-128", "aes-kw-256" };

	for (size_t i = 0; i < 3; i++) {
		bool kek = i > 0;
		const char *pub = kek ? NULL : path_of("g.pub.pem");

		cr_assert_eq(ota_encrypt_key_generate_file(
				 id, types[i], path_of("g.key"), pub),
			     0, "%s: %s", types[i], ota_error_message());
		cr_assert_eq(strlen(id), kek ? 0 : 64);
		cr_assert_eq(stat(path_of("g.key"), &st), 0);
		cr_assert_eq(st.st_mode & 0777, 0600);
		/* Never over an existing key. */
		cr_assert_eq(ota_encrypt_key_generate_file(
				 id, types[i], path_of("g.key"), pub),
			     OTA_EOUTPUT);
		r = recipient(kek ? "g.key" : "g.pub.pem", 0);
		k = device("g.key");
		cr_assert_eq(ota_content_key_generate(&ck, 128), 0);
		cr_assert_eq(ota_recipient_wrap(w, &wl, r, &ck), 0);
		cr_assert_eq(
		    ota_unwrap(&got, k, ota_recipient_scheme(r), w, wl, 16), 0,
		    "%s", ota_error_message());
		assert_bytes(got.bytes, ck.bytes, 16);
		ota_recipient_free(r);
		ota_decrypt_key_free(k);
		unlink(path_of("g.key"));
		unlink(path_of("g.pub.pem"));
	}
	cr_assert_eq(ota_encrypt_key_generate_file(
			 id, "ed25519", path_of("g.key"), path_of("g.pub.pem")),
		     OTA_EUSAGE);
	cr_assert_eq(ota_encrypt_key_generate_file(id, "aes-kw-128",
						   path_of("g.key"),
						   path_of("g.pub.pem")),
		     OTA_EUSAGE);
	cr_assert_eq(stat(path_of("g.key"), &st), -1);
}

/* ---- Against an independent implementation ----------------------------- */

/*
 * tests/e2e/mcuboot_crypt.py implements MCUboot's schemes from MCUboot's
 * document with python3-cryptography. Each scheme and key length goes
 * both ways: wrapped here and unwrapped there, wrapped there and
 * unwrapped here; a payload altered here is refused there. AES-CTR bodies
 * are compared byte for byte.
 */
#define MCUBOOT_CRYPT OTA_MCUBOOT_CRYPT

static void need_python(void)
{
	if (system("python3 -c 'import cryptography.hazmat.primitives.keywrap'"
		   " 2>/dev/null") != 0)
		cr_skip_test("python3-cryptography is not installed");
}

static void hex_of(char *out, const uint8_t *in, size_t len)
{
	for (size_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", in[i]);
}

/* Runs the script; its one line of output in out; returns its status. */
__attribute__((format(printf, 3, 4))) static int python(char *out, size_t size,
							const char *fmt, ...)
{
	char args[3000], cmd[3200];
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "python3 '%s' %s 2>/dev/null", MCUBOOT_CRYPT,
		 args);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	out[0] = '\0';
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cross_check(const struct case_ *c, size_t keylen)
{
	struct ota_content_key k, got;
	struct ota_recipient *r;
	struct ota_decrypt_key *dk;
	uint8_t w[OTA_WRAP_MAX], theirs[OTA_WRAP_MAX];
	char hex[2 * OTA_WRAP_MAX + 2], khex[65], out[2 * OTA_WRAP_MAX + 2];
	const char *name = ota_wrap_scheme_name(c->scheme), *pub, *priv;
	size_t wl, tl;

	need_python();
	make_keys(c, &pub, &priv);
	r = recipient(pub, c->hmac);
	dk = device(priv);
	cr_assert_eq(ota_content_key_generate(&k, (unsigned)keylen * 8), 0);
	hex_of(khex, k.bytes, keylen);

	/* Ours to theirs. */
	cr_assert_eq(ota_recipient_wrap(w, &wl, r, &k), 0);
	hex_of(hex, w, wl);
	cr_assert_eq(python(out, sizeof(out), "unwrap %s '%s' %s %zu", name,
			    path_of(priv), hex, keylen),
		     0, "%s %zu: python refuses our payload", name, keylen);
	cr_assert_str_eq(out, khex, "%s %zu", name, keylen);
	/* An altered payload is refused there too (no tautology here). */
	w[wl - 1] ^= 1;
	hex_of(hex, w, wl);
	cr_assert_eq(python(out, sizeof(out), "unwrap %s '%s' %s %zu", name,
			    path_of(priv), hex, keylen),
		     1);

	/* Theirs to ours. */
	cr_assert_eq(python(out, sizeof(out), "wrap %s '%s' %s", name,
			    path_of(pub), khex),
		     0, "%s: python wrap failed", name);
	tl = strlen(out) / 2;
	cr_assert_eq(tl, wl, "%s: python's payload is %zu bytes, ours %zu",
		     name, tl, wl);
	for (size_t i = 0; i < tl; i++) {
		unsigned v;

		cr_assert_eq(sscanf(out + 2 * i, "%2x", &v), 1);
		theirs[i] = (uint8_t)v;
	}
	cr_assert_eq(ota_unwrap(&got, dk, c->scheme, theirs, tl, keylen), 0,
		     "%s %zu: %s", name, keylen, ota_error_message());
	assert_bytes(got.bytes, k.bytes, keylen);
	ota_content_key_wipe(&k);
	ota_content_key_wipe(&got);
	ota_recipient_free(r);
	ota_decrypt_key_free(dk);
}

Test(wrap, python_agrees_every_scheme)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cross_check(&cases[i], 16);
		cross_check(&cases[i], 32);
	}
}

Test(wrap, python_agrees_on_ctr_bodies)
{
	struct ota_content_key k;
	struct ota_ctr *c;
	char khex[65], out[16];
	uint8_t *body = malloc(70001), *ours = malloc(70001), *theirs;
	FILE *f;
	size_t n;

	need_python();
	cr_assert(body && ours);
	fill(body, 70001, 7);
	for (unsigned bits = 128; bits <= 256; bits += 128) {
		cr_assert_eq(ota_content_key_generate(&k, bits), 0);
		hex_of(khex, k.bytes, k.len);
		f = fopen(path_of("body"), "wb");
		cr_assert(f && fwrite(body, 1, 70001, f) == 70001);
		fclose(f);
		cr_assert_eq(python(out, sizeof(out), "ctr %s '%s' '%s'", khex,
				    path_of("body"), path_of("enc")),
			     0);
		cr_assert_eq(ota_ctr_new(&c, &k), 0);
		for (size_t off = 0; off < 70001; off += 1000)
			cr_assert_eq(ota_ctr_update(c, ours + off, body + off,
						    70001 - off < 1000
							? 70001 - off
							: 1000),
				     0);
		ota_ctr_free(c);
		theirs = malloc(70002);
		f = fopen(path_of("enc"), "rb");
		cr_assert(f && theirs);
		n = fread(theirs, 1, 70002, f);
		fclose(f);
		cr_assert_eq(n, 70001);
		assert_bytes(ours, theirs, 70001);
		free(theirs);
		ota_content_key_wipe(&k);
	}
	free(body);
	free(ours);
}
