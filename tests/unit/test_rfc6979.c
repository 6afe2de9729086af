/*
 * Unit tests for src/lib/rfc6979.c: deterministic ECDSA. The known answers
 * are RFC 6979's own (appendix A.2.5, P-256, and A.2.6, P-384): the exact k
 * and (r, s) for its keys and the messages "sample" and "test"; every
 * signature is also verified with OpenSSL's EVP API, and signing through
 * key.c (ota_key_sign, ota_key_sign_digest) is checked to give the same
 * bytes, run after run.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "key_priv.h"
#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "owned.h"
#include "rfc6979_priv.h"

static char dir[512];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/otatool-rfc6979-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
	char path[600];

	release_owned();
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	unlink(path);
	rmdir(dir);
}

TestSuite(rfc6979, .init = setup, .fini = teardown);

/* RFC 6979 A.2.5: the P-256 key. */
#define P256_X                                                                 \
	"C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
#define P256_UX                                                                \
	"60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
#define P256_UY                                                                \
	"7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
/* RFC 6979 A.2.6: the P-384 key. */
#define P384_X                                                                 \
	"6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8"     \
	"96D5724E4C70A825F872C9EA60D2EDF5"
#define P384_UX                                                                \
	"EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64"     \
	"DEF8F0EA9055866064A254515480BC13"
#define P384_UY                                                                \
	"8015D9B72D7D57244EA8EF9AC0C621896708A59367F9DFB9F54CA84B3F1C9DB1"     \
	"288B231C3AE0D4FE7344FD2533264720"

struct kat {
	const char *curve, *x, *ux, *uy;
	enum ota_digest_alg hash;
	const char *msg, *k, *r, *s;
};

static const struct kat kats[] = {
	/* A.2.5, SHA-256 */
	{ "P-256", P256_X, P256_UX, P256_UY, OTA_DIGEST_SHA256, "sample",
	  "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60",
	  "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
	  "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8" },
	{ "P-256", P256_X, P256_UX, P256_UY, OTA_DIGEST_SHA256, "test",
	  "D16B6AE827F17175E040871A1C7EC3500192C4C92677336EC2537ACAEE0008E0",
	  "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
	  "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083" },
	/* A.2.5, SHA-512: a digest longer than the order (bits2int cuts). */
	{ "P-256", P256_X, P256_UX, P256_UY, OTA_DIGEST_SHA512, "sample",
	  "5FA81C63109BADB88C1F367B47DA606DA28CAD69AA22C4FE6AD7DF73A7173AA5",
	  "8496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00",
	  "2362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE" },
	/* A.2.6, SHA-384 */
	{ "P-384", P384_X, P384_UX, P384_UY, OTA_DIGEST_SHA384, "sample",
	  "94ED910D1A099DAD3254E9242AE85ABDE4BA15168EAF0CA87A555FD56D10FBCA"
	  "2907E3E83BA95368623B8C4686915CF9",
	  "94EDBB92A5ECB8AAD4736E56C691916B3F88140666CE9FA73D64C4EA95AD133C"
	  "81A648152E44ACF96E36DD1E80FABE46",
	  "99EF4AEB15F178CEA1FE40DB2603138F130E740A19624526203B6351D0A3A94F"
	  "A329C145786E679E7B82C71A38628AC8" },
	{ "P-384", P384_X, P384_UX, P384_UY, OTA_DIGEST_SHA384, "test",
	  "015EE46A5BF88773ED9123A5AB0807962D193719503C527B031B4C2D225092AD"
	  "A71F4A459BC0DA98ADB95837DB8312EA",
	  "8203B63D3C853E8D77227FB377BCF7B7B772E97892A80F36AB775D509D7A5FEB"
	  "0542A7F0812998DA8F1DD3CA3CF023DB",
	  "DDD0760448D42D8A43AF45AF836FCE4DE8BE06B485E9B61B827C2F13173923E0"
	  "6A739F040649A667BF3B828246BAA5A5" },
	/* A.2.6, SHA-256: a digest shorter than the order (two HMAC blocks). */
	{ "P-384", P384_X, P384_UX, P384_UY, OTA_DIGEST_SHA256, "sample",
	  "180AE9F9AEC5438A44BC159A1FCB277C7BE54FA20E7CF404B490650A8ACC414E"
	  "375572342863C899F9F2EDF9747A9B60",
	  "21B13D1E013C7FA1392D03C5F99AF8B30C570C6F98D4EA8E354B63A21D3DAA33"
	  "BDE1E888E63355D92FA2B3C36D8FB2CD",
	  "F3AA443FB107745BF4BD77CB3891674632068A10CA67E3D45DB2266FA7D1FEEB"
	  "EFDC63ECCD1AC42EC0CB8668A4FA0AB0" },
};
#define N_KATS (sizeof(kats) / sizeof(kats[0]))

static BIGNUM *bn_hex(const char *hex)
{
	BIGNUM *b = NULL;

	cr_assert_gt(BN_hex2bn(&b, hex), 0);
	return own(b, (void (*)(void *))BN_free);
}

static size_t unhex(uint8_t *out, size_t max, const char *hex)
{
	size_t n = strlen(hex) / 2;

	cr_assert_leq(n, max);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1);
	return n;
}

/* The RFC's key from its private scalar and public point. */
static EVP_PKEY *rfc_key(const struct kat *t)
{
	uint8_t pub[1 + 2 * 48];
	size_t half = unhex(pub + 1, 48, t->ux);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM *params;
	EVP_PKEY *k = NULL;

	pub[0] = 0x04;
	cr_assert_eq(unhex(pub + 1 + half, 48, t->uy), half);
	cr_assert(bld && ctx);
	cr_assert(OSSL_PARAM_BLD_push_utf8_string(
	    bld, OSSL_PKEY_PARAM_GROUP_NAME, t->curve, 0));
	cr_assert(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY,
					 bn_hex(t->x)));
	cr_assert(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
						   pub, 1 + 2 * half));
	params = OSSL_PARAM_BLD_to_param(bld);
	cr_assert_not_null(params);
	cr_assert_eq(EVP_PKEY_fromdata_init(ctx), 1);
	cr_assert_eq(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return own(k, release_pkey);
}

static struct ota_digest hash_of(enum ota_digest_alg alg, const char *msg)
{
	struct ota_digest d;

	cr_assert_eq(ota_digest_buffer(&d, alg, msg, strlen(msg)), 0);
	return d;
}

/* Checks that der is exactly the ECDSA-Sig-Value (r, s). */
static void assert_rs(const uint8_t *der, size_t len, const char *r,
		      const char *s, const char *what)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);

	cr_assert_not_null(sig, "%s: not DER ECDSA-Sig-Value", what);
	cr_assert_eq(p, der + len, "%s: bytes after the signature", what);
	cr_assert_eq(BN_cmp(ECDSA_SIG_get0_r(sig), bn_hex(r)), 0,
		     "%s: r differs", what);
	cr_assert_eq(BN_cmp(ECDSA_SIG_get0_s(sig), bn_hex(s)), 0,
		     "%s: s differs", what);
	ECDSA_SIG_free(sig);
}

/* OpenSSL's own verification of a prehashed ECDSA signature. */
static bool evp_verifies(EVP_PKEY *pub, const struct ota_digest *d,
			 const uint8_t *sig, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	bool ok = ctx && EVP_PKEY_verify_init(ctx) == 1 &&
		  EVP_PKEY_verify(ctx, sig, len, d->bytes, d->len) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static EVP_PKEY *public_half(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = i2d_PUBKEY(k, &der);
	EVP_PKEY *pub;

	cr_assert_gt(n, 0);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	cr_assert_not_null(pub);
	return own(pub, release_pkey);
}

static const char *kat_name(const struct kat *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s \"%s\"", t->curve,
		 ota_digest_alg_name(t->hash), t->msg);
	return buf;
}

Test(rfc6979, nonce_known_answers)
{
	for (size_t i = 0; i < N_KATS; i++) {
		const struct kat *t = &kats[i];
		struct ota_digest d = hash_of(t->hash, t->msg);
		uint8_t k[OTA_RFC6979_QBYTES_MAX], want[OTA_RFC6979_QBYTES_MAX];
		size_t klen = 0, wlen = unhex(want, sizeof(want), t->k);
		char name[80];

		cr_assert_eq(ota_rfc6979_nonce(k, &klen, rfc_key(t), &d), 0,
			     "%s: %s", kat_name(t, name, sizeof(name)),
			     ota_error_message());
		cr_assert_eq(klen, wlen, "%s: k of %zu bytes", name, klen);
		cr_assert_arr_eq(k, want, wlen, "%s: k differs", name);
	}
}

Test(rfc6979, signature_known_answers_verify_with_openssl)
{
	for (size_t i = 0; i < N_KATS; i++) {
		const struct kat *t = &kats[i];
		struct ota_digest d = hash_of(t->hash, t->msg);
		EVP_PKEY *k = rfc_key(t);
		uint8_t *sig = NULL;
		size_t len = 0;
		char name[80];

		kat_name(t, name, sizeof(name));
		cr_assert_eq(ota_rfc6979_sign(&sig, &len, k, &d), 0, "%s: %s",
			     name, ota_error_message());
		own(sig, release_mem);
		assert_rs(sig, len, t->r, t->s, name);
		cr_assert(evp_verifies(public_half(k), &d, sig, len),
			  "%s: OpenSSL does not verify it", name);
	}
}

/*
 * The signature the library uses is OpenSSL's own where OpenSSL makes
 * deterministic ones (3.2 and later), otatool's otherwise: the bytes must
 * be the same either way, and the library must see which OpenSSL runs.
 */
Test(rfc6979, library_path_equals_own_and_native_is_detected)
{
	bool has = OpenSSL_version_num() >= 0x30200000L;

	for (size_t i = 0; i < N_KATS; i++) {
		const struct kat *t = &kats[i];
		struct ota_digest d = hash_of(t->hash, t->msg);
		EVP_PKEY *k = rfc_key(t);
		uint8_t *a = NULL, *b = NULL;
		size_t alen = 0, blen = 0;

		cr_assert_eq(ota_rfc6979_native(k), has, "%s: native %d",
			     OpenSSL_version(OPENSSL_VERSION), has);
		cr_assert_eq(ota_ecdsa_sign_deterministic(&a, &alen, k, &d), 0);
		own(a, release_mem);
		cr_assert_eq(ota_rfc6979_sign(&b, &blen, k, &d), 0);
		own(b, release_mem);
		cr_assert_eq(alen, blen);
		cr_assert_arr_eq(a, b, alen);
	}
}

static const char *write_pem(EVP_PKEY *k)
{
	static char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* A key file signs through key.c with the RFC's (r, s). */
Test(rfc6979, key_sign_and_sign_digest_give_the_known_answers)
{
	const struct ota_key_opts opts = { 0 };

	for (size_t i = 0; i < N_KATS; i++) {
		const struct kat *t = &kats[i];
		struct ota_digest d = hash_of(t->hash, t->msg);
		struct ota_key *key = NULL;
		enum ota_digest_alg own_hash;
		uint8_t *sig = NULL;
		size_t len = 0;
		char name[80];

		kat_name(t, name, sizeof(name));
		cr_assert_eq(ota_key_open(&key, write_pem(rfc_key(t)), &opts),
			     0, "%s", ota_error_message());
		own(key, release_key);
		cr_assert_eq(ota_key_sign_digest(&sig, &len, key, &d), 0,
			     "%s: %s", name, ota_error_message());
		own(sig, release_mem);
		assert_rs(sig, len, t->r, t->s, name);
		/* The message path hashes with the algorithm's own hash. */
		ota_sig_alg_digest(ota_key_alg(key), &own_hash);
		if (own_hash != t->hash)
			continue;
		cr_assert_eq(ota_key_sign(&sig, &len, key,
					  (const uint8_t *)t->msg,
					  strlen(t->msg)),
			     0, "%s: %s", name, ota_error_message());
		own(sig, release_mem);
		assert_rs(sig, len, t->r, t->s, name);
	}
}

/*
 * Fresh keys: the same key and message give the same bytes every time,
 * which verify; another message or another key gives another r (another k).
 */
Test(rfc6979, deterministic_per_key_and_message)
{
	static const char *const curves[] = { "P-256", "P-384" };

	for (size_t c = 0; c < 2; c++) {
		EVP_PKEY *k1 =
		    own(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c]),
			release_pkey);
		EVP_PKEY *k2 =
		    own(EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c]),
			release_pkey);
		enum ota_digest_alg h =
		    c == 0 ? OTA_DIGEST_SHA256 : OTA_DIGEST_SHA384;
		uint8_t *first = NULL;
		size_t first_len = 0;

		cr_assert(k1 && k2);
		for (int m = 0; m < 20; m++) {
			char msg[32];
			struct ota_digest d;
			uint8_t *a, *b, *o;
			size_t alen, blen, olen;
			uint8_t ka[OTA_RFC6979_QBYTES_MAX],
			    kb[OTA_RFC6979_QBYTES_MAX];
			size_t kalen, kblen;

			snprintf(msg, sizeof(msg), "message %d", m);
			d = hash_of(h, msg);
			cr_assert_eq(
			    ota_ecdsa_sign_deterministic(&a, &alen, k1, &d), 0);
			own(a, release_mem);
			cr_assert_eq(
			    ota_ecdsa_sign_deterministic(&b, &blen, k1, &d), 0);
			own(b, release_mem);
			cr_assert_eq(alen, blen, "%s: lengths differ", msg);
			cr_assert_arr_eq(a, b, alen, "%s: not deterministic",
					 msg);
			cr_assert(evp_verifies(public_half(k1), &d, a, alen),
				  "%s %s: does not verify", curves[c], msg);
			cr_assert_not(
			    evp_verifies(public_half(k2), &d, a, alen));
			/* Another key: another k. */
			cr_assert_eq(ota_rfc6979_nonce(ka, &kalen, k1, &d), 0);
			cr_assert_eq(ota_rfc6979_nonce(kb, &kblen, k2, &d), 0);
			cr_assert_eq(kalen, kblen);
			cr_assert_arr_neq(ka, kb, kalen);
			cr_assert_eq(
			    ota_ecdsa_sign_deterministic(&o, &olen, k2, &d), 0);
			own(o, release_mem);
			cr_assert(olen != alen || memcmp(o, a, alen) != 0);
			/* Another message: another signature. */
			if (first)
				cr_assert(first_len != alen ||
					      memcmp(first, a, alen) != 0,
					  "%s: same signature as message 0",
					  msg);
			else {
				first = a;
				first_len = alen;
			}
		}
	}
}

Test(rfc6979, refuses_keys_that_are_not_ec)
{
	EVP_PKEY *ed =
	    own(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), release_pkey);
	struct ota_digest d = hash_of(OTA_DIGEST_SHA256, "x");
	uint8_t k[OTA_RFC6979_QBYTES_MAX];
	uint8_t *sig = NULL;
	size_t len = 0;

	cr_assert_eq(ota_rfc6979_sign(&sig, &len, ed, &d), OTA_EKEY);
	cr_assert_null(sig);
	cr_assert_eq(ota_rfc6979_nonce(k, &len, ed, &d), OTA_EKEY);
	cr_assert_not_null(strstr(ota_error_message(), "not an EC key"));
}

/* A public key alone has no scalar to sign with. */
Test(rfc6979, refuses_public_keys)
{
	EVP_PKEY *pub = public_half(
	    own(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), release_pkey));
	struct ota_digest d = hash_of(OTA_DIGEST_SHA256, "x");
	uint8_t *sig = NULL;
	size_t len = 0;

	cr_assert_eq(ota_rfc6979_sign(&sig, &len, pub, &d), OTA_EKEY);
	cr_assert_null(sig);
	cr_assert_not_null(strstr(ota_error_message(), "no private scalar"));
}
