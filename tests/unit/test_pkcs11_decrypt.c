/*
 * Unit tests for src/lib/pkcs11_decrypt.c against a fresh SoftHSM2 token
 * per test: content keys wrapped for a token key (ECIES-P256, RSA-OAEP)
 * and unwrapped with ECDH and RSA decryption inside the token, every bit
 * flip refused, and the keys that cannot decrypt refused by name.
 * (SoftHSM 2.6.1 has no X25519 keys and OAEP only with SHA-1: the RSA
 * tests run the CKM_RSA_X_509 path.)
 */
#include <criterion/criterion.h>

#include "otatool/cipher.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/pkcs11.h"
#include "pkcs11_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN  "otatool-dec"
#define PIN    "1234"
#define TOK    "pkcs11:token=" TOKEN

static char dir[256];
static struct ota_pkcs11 *ctx;
static struct ota_key_opts opts;

__attribute__((format(printf, 1, 2))) static void run(const char *fmt, ...)
{
	char cmd[2048], full[2700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full),
		 "(%s) >'%s/log' 2>&1 || { cat '%s/log'; exit 1; }", cmd, dir,
		 dir);
	cr_assert_eq(system(full), 0, "command failed: %s", cmd);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	struct ota_pkcs11_opts po = { .module = MODULE };
	char conf[PATH_MAX + 16];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/otatool-p11dec-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(conf, sizeof(conf), "%s/tokens", dir);
	cr_assert_eq(mkdir(conf, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"directories.tokendir = %s/tokens\n"
		"objectstore.backend = file\nlog.level = ERROR\n",
		dir);
	cr_assert_eq(fclose(f), 0);
	setenv("SOFTHSM2_CONF", conf, 1);
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	run("softhsm2-util --init-token --free --label " TOKEN " --pin " PIN
	    " --so-pin 5678");
	cr_assert_eq(ota_pkcs11_new(&ctx, &po), 0, "%s", ota_error_message());
	memset(&opts, 0, sizeof(opts));
	opts.pkcs11 = ctx;
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ota_pkcs11_free(ctx);
	ctx = NULL;
	unsetenv("OTATOOL_PKCS11_PIN");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(pkcs11_decrypt, .init = setup, .fini = teardown, .timeout = 300);

static void keygen(const char *spec, const char *label, const char *id,
		   const char *usage)
{
	run("pkcs11-tool --module " MODULE " --login --pin " PIN
	    " --keypairgen --key-type %s --label %s --id %s %s",
	    spec, label, id, usage);
}

#define assert_msg_has(s)                                                      \
	cr_assert(strstr(ota_error_message(), (s)),                            \
		  "message lacks \"%s\": %s", (s), ota_error_message())

static struct ota_decrypt_key *token_key(const char *label)
{
	struct ota_decrypt_key *k;
	char uri[128];

	snprintf(uri, sizeof(uri), TOK ";object=%s", label);
	cr_assert_eq(ota_decrypt_key_open(&k, uri, &opts), 0, "%s: %s", uri,
		     ota_error_message());
	return k;
}

/* The recipient for a token key: its public half, exported as DER. */
static struct ota_recipient *token_recipient(const char *label)
{
	struct ota_pkcs11_key *k;
	struct ota_recipient *r;
	unsigned char *der = NULL;
	char uri[128];
	int len;

	snprintf(uri, sizeof(uri), TOK ";object=%s", label);
	cr_assert_eq(ota_pkcs11_find_decrypt_key(&k, ctx, uri), 0, "%s",
		     ota_error_message());
	cr_assert_not_null(ota_pkcs11_key_public(k));
	len = i2d_PUBKEY(ota_pkcs11_key_public(k), &der);
	cr_assert_gt(len, 0);
	cr_assert_eq(ota_recipient_from_der(&r, der, (size_t)len, 0, label), 0,
		     "%s", ota_error_message());
	OPENSSL_free(der);
	return r;
}

static void unwrap_all_bits(struct ota_decrypt_key *dk,
			    struct ota_decrypt_key *wrong,
			    struct ota_recipient *r, enum ota_wrap_scheme s,
			    size_t keylen, size_t step)
{
	struct ota_content_key ck, got;
	uint8_t w[OTA_WRAP_MAX];
	size_t wl;

	cr_assert_eq(ota_recipient_scheme(r), s);
	cr_assert_eq(ota_content_key_generate(&ck, (unsigned)keylen * 8), 0);
	cr_assert_eq(ota_recipient_wrap(w, &wl, r, &ck), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_unwrap(&got, dk, s, w, wl, keylen), 0, "%s",
		     ota_error_message());
	cr_assert_eq(got.len, keylen);
	cr_assert(memcmp(got.bytes, ck.bytes, keylen) == 0);
	cr_assert_eq(ota_unwrap(&got, wrong, s, w, wl, keylen), OTA_EVERIFY,
		     "%s", ota_error_message());
	for (size_t bit = 0; bit < wl * 8; bit += step) {
		w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(ota_unwrap(&got, dk, s, w, wl, keylen),
			     OTA_EVERIFY, "bit %zu: %s", bit,
			     ota_error_message());
		cr_assert_eq(got.len, 0);
		w[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert_eq(ota_unwrap(&got, dk, s, w, wl - 1, keylen), OTA_EINPUT);
	ota_content_key_wipe(&ck);
	ota_content_key_wipe(&got);
}

Test(pkcs11_decrypt, ecdh_p256_in_the_token)
{
	struct ota_decrypt_key *dk, *wrong;
	struct ota_recipient *r;

	keygen("EC:prime256v1", "dev-ec", "01", "--usage-derive");
	keygen("EC:prime256v1", "other-ec", "02", "--usage-derive");
	r = token_recipient("dev-ec");
	dk = token_key("dev-ec");
	wrong = token_key("other-ec");
	cr_assert_str_eq(ota_decrypt_key_kind(dk), "P-256");
	unwrap_all_bits(dk, wrong, r, OTA_WRAP_ECIES_P256, 16, 1);
	unwrap_all_bits(dk, wrong, r, OTA_WRAP_ECIES_P256, 32, 1);
	ota_recipient_free(r);
	ota_decrypt_key_free(dk);
	ota_decrypt_key_free(wrong);
}

/*
 * ECDH in the token against OpenSSL's ECDH with the public half: the same
 * secret, independent of the ECIES layer.
 */
Test(pkcs11_decrypt, ecdh_secret_matches_openssl)
{
	struct ota_pkcs11_key *k;
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY_CTX *pc;
	uint8_t point[65], want[32], got[32];
	size_t plen = 0, wlen = 32;

	keygen("EC:prime256v1", "dev-ec", "01", "--usage-derive");
	cr_assert_eq(ota_pkcs11_find_decrypt_key(&k, ctx, TOK ";object=dev-ec"),
		     0, "%s", ota_error_message());
	cr_assert_not_null(eph);
	cr_assert_eq(EVP_PKEY_get_octet_string_param(
			 eph, "encoded-pub-key", point, sizeof(point), &plen),
		     1);
	pc = EVP_PKEY_CTX_new(eph, NULL);
	cr_assert(pc && EVP_PKEY_derive_init(pc) == 1 &&
		  EVP_PKEY_derive_set_peer(pc, ota_pkcs11_key_public(k)) == 1 &&
		  EVP_PKEY_derive(pc, want, &wlen) == 1);
	cr_assert_eq(ota_pkcs11_ecdh(got, k, point, plen), 0, "%s",
		     ota_error_message());
	cr_assert(memcmp(got, want, 32) == 0);
	point[0] = 0x02;
	cr_assert_eq(ota_pkcs11_ecdh(got, k, point, plen), OTA_EINPUT);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(eph);
}

Test(pkcs11_decrypt, rsa_oaep_in_the_token)
{
	struct ota_decrypt_key *dk, *wrong;
	struct ota_recipient *r;

	keygen("rsa:2048", "dev-rsa", "03", "--usage-decrypt");
	keygen("rsa:2048", "other-rsa", "04", "--usage-decrypt");
	r = token_recipient("dev-rsa");
	dk = token_key("dev-rsa");
	wrong = token_key("other-rsa");
	cr_assert_str_eq(ota_decrypt_key_kind(dk), "RSA-2048");
	/* Every 7th bit: each try is an RSA decryption in the token. */
	unwrap_all_bits(dk, wrong, r, OTA_WRAP_RSA_OAEP, 16, 7);
	unwrap_all_bits(dk, wrong, r, OTA_WRAP_RSA_OAEP, 32, 7);
	ota_recipient_free(r);
	ota_decrypt_key_free(dk);
	ota_decrypt_key_free(wrong);
}

/*
 * OAEP-SHA-256 made by OpenSSL alone (not through the library) decrypts in
 * the token, also for a message too long to be a content key.
 */
Test(pkcs11_decrypt, rsa_oaep_matches_openssl)
{
	struct ota_pkcs11_key *k;
	EVP_PKEY_CTX *pc;
	uint8_t msg[190], ct[256], out[256];
	size_t ctlen = sizeof(ct), outlen = 0;

	keygen("rsa:2048", "dev-rsa", "03", "--usage-decrypt");
	cr_assert_eq(
	    ota_pkcs11_find_decrypt_key(&k, ctx, TOK ";object=dev-rsa"), 0,
	    "%s", ota_error_message());
	for (size_t len = 0; len <= sizeof(msg); len += 19) {
		for (size_t i = 0; i < len; i++)
			msg[i] = (uint8_t)(i * 7 + len);
		pc = EVP_PKEY_CTX_new(ota_pkcs11_key_public(k), NULL);
		ctlen = sizeof(ct);
		cr_assert(pc && EVP_PKEY_encrypt_init(pc) == 1 &&
			  EVP_PKEY_CTX_set_rsa_padding(
			      pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
			  EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1 &&
			  EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1 &&
			  EVP_PKEY_encrypt(pc, ct, &ctlen, msg, len) == 1);
		EVP_PKEY_CTX_free(pc);
		cr_assert_eq(ota_pkcs11_rsa_oaep_decrypt(
				 out, &outlen, sizeof(out), k, ct, ctlen),
			     0, "%zu bytes: %s", len, ota_error_message());
		cr_assert_eq(outlen, len);
		cr_assert(memcmp(out, msg, len) == 0);
		/* Too small an output buffer is a refusal, not an overflow. */
		if (len > 16)
			cr_assert_eq(ota_pkcs11_rsa_oaep_decrypt(
					 out, &outlen, 16, k, ct, ctlen),
				     OTA_EVERIFY);
	}
	cr_assert_eq(ota_pkcs11_rsa_oaep_decrypt(out, &outlen, sizeof(out), k,
						 ct, ctlen - 1),
		     OTA_EINPUT);
}

Test(pkcs11_decrypt, keys_that_cannot_decrypt)
{
	struct ota_decrypt_key *k = NULL;
	struct ota_content_key got;
	uint8_t w[OTA_WRAP_MAX] = { 0 };
	char *uri = NULL;

	/* otatool's own signing keys: CKA_DERIVE and CKA_DECRYPT false. */
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=sign-ec", "ecdsa-p256", &uri),
	    0, "%s", ota_error_message());
	free(uri);
	cr_assert_eq(ota_decrypt_key_open(&k, TOK ";object=sign-ec", &opts),
		     OTA_EKEY);
	assert_msg_has("CKA_DERIVE is false");
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=sign-rsa", "rsa-2048", &uri),
	    0, "%s", ota_error_message());
	free(uri);
	cr_assert_eq(ota_decrypt_key_open(&k, TOK ";object=sign-rsa", &opts),
		     OTA_EKEY);
	assert_msg_has("CKA_DECRYPT is false");
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=sign-ed", "ed25519", &uri), 0,
	    "%s", ota_error_message());
	free(uri);
	cr_assert_eq(ota_decrypt_key_open(&k, TOK ";object=sign-ed", &opts),
		     OTA_EKEY);
	assert_msg_has("Ed25519");
	keygen("EC:secp384r1", "p384", "05", "--usage-derive");
	cr_assert_eq(ota_decrypt_key_open(&k, TOK ";object=p384", &opts),
		     OTA_EKEY);
	assert_msg_has("P-384");
	cr_assert_eq(ota_decrypt_key_open(&k, TOK ";object=absent", &opts),
		     OTA_EKEY);
	assert_msg_has("no object matches");
	cr_assert_null(k);
	/* An X25519 payload for a P-256 token key: the message says why. */
	keygen("EC:prime256v1", "dev-ec", "01", "--usage-derive");
	k = token_key("dev-ec");
	cr_assert_eq(ota_unwrap(&got, k, OTA_WRAP_ECIES_X25519, w, 80, 16),
		     OTA_EKEY);
	assert_msg_has("an X25519 private key");
	ota_decrypt_key_free(k);
}

/* SoftHSM 2.6.1 cannot hold X25519 keys: what otatool's docs say. */
Test(pkcs11_decrypt, softhsm_has_no_x25519)
{
	char cmd[PATH_MAX + 160];

	snprintf(cmd, sizeof(cmd),
		 "pkcs11-tool --module " MODULE " -M 2>/dev/null | "
		 "grep -qi montgomery");
	cr_assert_neq(system(cmd), 0,
		      "this SoftHSM has EC-MONTGOMERY mechanisms: otatool-"
		      "encryption(7) and the X25519 token refusal need review");
}
