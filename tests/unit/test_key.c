/*
 * Unit tests for src/lib/key.c: algorithms, key ids, opening key files in
 * every form other tools write them, signing and verifying (checked
 * independently through OpenSSL's EVP API with the parameters the header
 * promises), signature decoding, certificates and key generation. Every key
 * and certificate is made at test time.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "key_priv.h"
#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/secret.h"
#include "owned.h"

#define PASS_ENV "OTATOOL_KEY_PASSPHRASE"

static char dir[512];

/* String literals as the byte strings the API takes. */
#define U8(s) ((const uint8_t *)(s))

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/otatool-key-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	unsetenv(PASS_ENV);
	umask(022);
}

static void teardown(void)
{
	struct dirent *e;
	DIR *d;

	release_owned();
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[1024];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* RSA key generation is slow under the sanitizers. */
TestSuite(key, .init = setup, .fini = teardown, .timeout = 300);

/* Helpers ---------------------------------------------------------------- */

static const char *tpath(const char *name)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return own(strdup(buf), release_mem);
}

static const char *write_bytes(const char *name, const void *data, size_t len)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (len)
		cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = own(malloc((size_t)n + 1), release_mem);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void must_contain(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "\"%s\" not in: \"%s\"", needle,
			   hay);
}

/* "P-256", "P-384", "P-521", "secp256k1", "ED25519", "X25519", "RSA-n". */
static EVP_PKEY *gen(const char *type)
{
	EVP_PKEY *k;

	if (strncmp(type, "RSA-", 4) == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
				      (size_t)strtoul(type + 4, NULL, 10));
	else if (strcmp(type, "ED25519") == 0 || strcmp(type, "X25519") == 0 ||
		 strcmp(type, "ED448") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, type);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
	cr_assert_not_null(k, "cannot generate a %s key", type);
	return own(k, release_pkey);
}

/* A fixed Ed25519 key: PKCS#8 DER around the seed 01 02 ... 20. */
static const uint8_t fixed_ed25519_der[] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
	0x04, 0x22, 0x04, 0x20, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
	0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};
/* openssl pkey -pubout -outform DER | sha256sum */
#define FIXED_ED25519_ID                                                       \
	"646d6be49d9f0048f94f67749eca35156eed4f7a7be18e4fc4a94bfd44e300b0"
/* openssl pkeyutl -sign -rawin over "otatool" */
static const uint8_t fixed_ed25519_sig[64] = {
	0xd3, 0x7c, 0xeb, 0x9e, 0x0e, 0x92, 0x24, 0xdf, 0xd4, 0x78, 0x35,
	0x00, 0xab, 0x56, 0x97, 0xdd, 0x0e, 0x68, 0x7f, 0x84, 0x27, 0x30,
	0x41, 0x35, 0xf6, 0x8b, 0x29, 0x86, 0xae, 0x6d, 0x38, 0xcb, 0x7d,
	0xc1, 0x4e, 0x30, 0x81, 0x5f, 0xc0, 0x9f, 0x2a, 0x2d, 0xc4, 0x5d,
	0x38, 0x6d, 0xfc, 0x9c, 0x3d, 0xd2, 0x0c, 0x2c, 0x39, 0xf5, 0x13,
	0xd8, 0x24, 0xc9, 0xbc, 0xf9, 0xf0, 0x83, 0x09, 0x0a,
};

static EVP_PKEY *fixed_ed25519(void)
{
	const unsigned char *p = fixed_ed25519_der;
	EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, sizeof(fixed_ed25519_der));

	cr_assert_not_null(k);
	return own(k, release_pkey);
}

/* The public half alone, as a verifier would hold it. */
static EVP_PKEY *public_half(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub;
	int n = i2d_PUBKEY(k, &der);

	cr_assert_gt(n, 0);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	cr_assert_not_null(pub);
	return own(pub, release_pkey);
}

enum form {
	PKCS8_PEM,
	PKCS8_DER,
	TRAD_PEM, /* SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" */
	TRAD_DER,
	PUB_PEM,
	PUB_DER,
};

static const char *write_key(EVP_PKEY *k, enum form f, const char *name)
{
	const char *path = tpath(name);
	BIO *b = BIO_new_file(path, "wb");
	int ok = 0;

	cr_assert_not_null(b, "%s", path);
	switch (f) {
	case PKCS8_PEM:
		ok = PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case PKCS8_DER:
		ok = i2d_PKCS8PrivateKey_bio(b, k, NULL, NULL, 0, NULL, NULL);
		break;
	case TRAD_PEM:
		ok = PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0,
							  NULL, NULL);
		break;
	case TRAD_DER:
		ok = i2d_PrivateKey_bio(b, k);
		break;
	case PUB_PEM:
		ok = PEM_write_bio_PUBKEY(b, k);
		break;
	case PUB_DER:
		ok = i2d_PUBKEY_bio(b, k);
		break;
	}
	BIO_free(b);
	cr_assert(ok, "cannot write %s", path);
	return path;
}

/* Encrypted PEM: PKCS#8 "ENCRYPTED PRIVATE KEY" or traditional. */
static const char *write_encrypted(EVP_PKEY *k, bool traditional,
				   const char *pass, const char *name)
{
	const char *path = tpath(name);
	BIO *b = BIO_new_file(path, "wb");
	int ok;

	cr_assert_not_null(b);
	if (traditional)
		ok = PEM_write_bio_PrivateKey_traditional(
		    b, k, EVP_aes_256_cbc(), (const unsigned char *)pass,
		    (int)strlen(pass), NULL, NULL);
	else
		ok = PEM_write_bio_PrivateKey(b, k, EVP_aes_256_cbc(),
					      (const unsigned char *)pass,
					      (int)strlen(pass), NULL, NULL);
	BIO_free(b);
	cr_assert(ok);
	return path;
}

/*
 * The tag after the version INTEGER of a DER private key: 0x30 for PKCS#8
 * (AlgorithmIdentifier), 0x04 for SEC1 (privateKey), 0x02 for PKCS#1
 * (modulus). Proves which structure a file holds.
 */
static int der_second_tag(const char *path)
{
	size_t len = 0, i = 1;
	const uint8_t *d = (const uint8_t *)read_text(path, &len);

	cr_assert_gt(len, 8);
	cr_assert_eq(d[0], 0x30);
	if (d[i] & 0x80)
		i += d[i] & 0x7f;
	i++;
	cr_assert_eq(d[i], 0x02, "version INTEGER expected");
	return d[i + 2 + d[i + 1]];
}

/* A self-signed certificate for k. */
static X509 *make_cert(EVP_PKEY *k, const char *cn)
{
	static long serial = 1;
	X509 *x = own(X509_new(), release_x509);
	X509_NAME *name;

	cr_assert_not_null(x);
	cr_assert_eq(X509_set_version(x, X509_VERSION_3), 1);
	cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	cr_assert_not_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L));
	cr_assert_eq(X509_set_pubkey(x, k), 1);
	name = X509_get_subject_name(x);
	cr_assert_eq(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						(const unsigned char *)cn, -1,
						-1, 0),
		     1);
	cr_assert_eq(X509_set_issuer_name(x, name), 1);
	cr_assert_gt(
	    X509_sign(x, k, EVP_PKEY_is_a(k, "ED25519") ? NULL : EVP_sha256()),
	    0);
	return x;
}

static const char *write_cert(X509 *x, bool pem, const char *name)
{
	const char *path = tpath(name);
	BIO *b = BIO_new_file(path, "wb");
	int ok;

	cr_assert_not_null(b);
	ok = pem ? PEM_write_bio_X509(b, x) : i2d_X509_bio(b, x);
	BIO_free(b);
	cr_assert(ok);
	return path;
}

static uint8_t *cert_der(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	cr_assert_gt(n, 0);
	*len = (size_t)n;
	return own(der, release_ossl);
}

static struct ota_key *open_ok(const char *path,
			       const struct ota_key_opts *opts)
{
	struct ota_key *k = NULL;
	int rc = ota_key_open(&k, path, opts);

	cr_assert_eq(rc, 0, "%s: rc %d: %s", path, rc, ota_error_message());
	cr_assert_not_null(k);
	return own(k, release_key);
}

/* Opening fails with code and a message naming the path and saying why. */
static void open_fails(const char *path, const struct ota_key_opts *opts,
		       int code, const char *why)
{
	struct ota_key *k = (struct ota_key *)1;
	int rc = ota_key_open(&k, path, opts);

	if (rc == 0)
		own(k, release_key);
	cr_assert_eq(rc, code, "%s: rc %d, expected %d: %s", path, rc, code,
		     ota_error_message());
	cr_assert_null(k, "%s: *out must be NULL on failure", path);
	must_contain(ota_error_message(), path);
	if (why)
		must_contain(ota_error_message(), why);
}

static struct ota_key *open_public_ok(const char *path,
				      const struct ota_key_opts *opts,
				      const enum ota_sig_alg *alg)
{
	struct ota_key *k = NULL;
	int rc = ota_key_open_public(&k, path, opts, alg);

	cr_assert_eq(rc, 0, "%s: rc %d: %s", path, rc, ota_error_message());
	cr_assert_not_null(k);
	return own(k, release_key);
}

static bool is_lower_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/*
 * Verifies with the parameters key.h documents, set up here rather than
 * taken from key.c: ECDSA over SHA-256/384 of msg, PSS with MGF1-SHA-256
 * and a 32-byte salt, PKCS#1 v1.5 with SHA-256, pure Ed25519.
 */
static bool evp_verify(EVP_PKEY *pub, enum ota_sig_alg alg, const void *msg,
		       size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const char *md = alg == OTA_SIG_ECDSA_P384_SHA384 ? "SHA384"
			 : alg == OTA_SIG_ED25519         ? NULL
							  : "SHA256";
	bool ok = ctx && EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL,
						 pub, NULL) == 1;

	if (ok && alg == OTA_SIG_RSA_PSS_SHA256)
		ok =
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) >
			0 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) > 0;
	else if (ok && alg == OTA_SIG_RSA_PKCS1_SHA256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	ok = ok && EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/*
 * A signature of a digest: ECDSA and RSA through EVP_PKEY_verify with the
 * digest's md (PSS salt = digest length, MGF1 with the same hash); Ed25519
 * over the digest bytes as its message.
 */
static bool evp_verify_digest(EVP_PKEY *pub, enum ota_sig_alg alg,
			      const struct ota_digest *d, const uint8_t *sig,
			      size_t siglen)
{
	const EVP_MD *md = d->alg == OTA_DIGEST_SHA384   ? EVP_sha384()
			   : d->alg == OTA_DIGEST_SHA512 ? EVP_sha512()
							 : EVP_sha256();
	EVP_PKEY_CTX *pctx;
	bool ok;

	if (alg == OTA_SIG_ED25519)
		return evp_verify(pub, alg, d->bytes, d->len, sig, siglen);
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	ok = pctx && EVP_PKEY_verify_init(pctx) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(pctx, md) > 0;
	if (ok && alg == OTA_SIG_RSA_PSS_SHA256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) >
			 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)d->len) > 0 &&
		     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
	else if (ok && alg == OTA_SIG_RSA_PKCS1_SHA256)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	ok = ok && EVP_PKEY_verify(pctx, sig, siglen, d->bytes, d->len) == 1;
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return ok;
}

/* The digest of msg, computed by OpenSSL directly. */
static struct ota_digest evp_digest(enum ota_digest_alg alg, const void *msg,
				    size_t len)
{
	struct ota_digest d = { .alg = alg };
	const EVP_MD *md = alg == OTA_DIGEST_SHA384   ? EVP_sha384()
			   : alg == OTA_DIGEST_SHA512 ? EVP_sha512()
						      : EVP_sha256();
	unsigned int n = 0;

	cr_assert_eq(EVP_Digest(msg, len, d.bytes, &n, md, NULL), 1);
	d.len = n;
	return d;
}

/* The five algorithms, each with a key type that makes it. */
static const struct sig_case {
	const char *type;
	bool pkcs1;
	enum ota_sig_alg alg;
} sig_cases[] = {
	{ "P-256", false, OTA_SIG_ECDSA_P256_SHA256 },
	{ "P-384", false, OTA_SIG_ECDSA_P384_SHA384 },
	{ "RSA-2048", false, OTA_SIG_RSA_PSS_SHA256 },
	{ "RSA-2048", true, OTA_SIG_RSA_PKCS1_SHA256 },
	{ "ED25519", false, OTA_SIG_ED25519 },
};
#define N_CASES (sizeof(sig_cases) / sizeof(sig_cases[0]))

/* Opens a freshly made key for case i; *pkey gets the key itself. */
static struct ota_key *case_key(size_t i, EVP_PKEY **pkey)
{
	struct ota_key_opts opts = { .rsa_pkcs1 = sig_cases[i].pkcs1 };
	char name[32];
	struct ota_key *k;

	*pkey = gen(sig_cases[i].type);
	snprintf(name, sizeof(name), "case%zu.pem", i);
	k = open_ok(write_key(*pkey, PKCS8_PEM, name), &opts);
	cr_assert_eq(ota_key_alg(k), sig_cases[i].alg, "%s",
		     ota_sig_alg_name(sig_cases[i].alg));
	return k;
}

static uint8_t *sign_ok(struct ota_key *k, const void *msg, size_t len,
			size_t *siglen)
{
	uint8_t *sig = NULL;
	int rc = ota_key_sign(&sig, siglen, k, msg, len);

	cr_assert_eq(rc, 0, "%s: %s", ota_sig_alg_name(ota_key_alg(k)),
		     ota_error_message());
	cr_assert_not_null(sig);
	return own(sig, release_mem);
}

static uint8_t *sign_digest_ok(struct ota_key *k, const struct ota_digest *d,
			       size_t *siglen)
{
	uint8_t *sig = NULL;
	int rc = ota_key_sign_digest(&sig, siglen, k, d);

	cr_assert_eq(rc, 0, "%s over %s: %s", ota_sig_alg_name(ota_key_alg(k)),
		     ota_digest_alg_name(d->alg), ota_error_message());
	cr_assert_not_null(sig);
	return own(sig, release_mem);
}

/* Algorithms -------------------------------------------------------------- */

Test(key, alg_names_and_parse_round_trip)
{
	static const struct {
		enum ota_sig_alg alg;
		const char *name;
	} want[] = {
		{ OTA_SIG_ECDSA_P256_SHA256, "ecdsa-p256-sha256" },
		{ OTA_SIG_ECDSA_P384_SHA384, "ecdsa-p384-sha384" },
		{ OTA_SIG_RSA_PSS_SHA256, "rsa-pss-sha256" },
		{ OTA_SIG_RSA_PKCS1_SHA256, "rsa-pkcs1-sha256" },
		{ OTA_SIG_ED25519, "ed25519" },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		enum ota_sig_alg got = (enum ota_sig_alg)99;

		cr_assert_str_eq(ota_sig_alg_name(want[i].alg), want[i].name);
		cr_assert_eq(ota_sig_alg_parse(&got, want[i].name), 0, "%s",
			     want[i].name);
		cr_assert_eq(got, want[i].alg, "%s", want[i].name);
	}
	cr_assert_str_eq(ota_sig_alg_name((enum ota_sig_alg)42), "unknown");
}

Test(key, alg_parse_refuses_unknown_names)
{
	static const char *const bad[] = {
		"",
		"ED25519",
		"ecdsa-p521-sha512",
		"rsa-pss-sha384",
		"ecdsa-p256-sha256 ",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum ota_sig_alg got = OTA_SIG_ED25519;

		cr_assert_eq(ota_sig_alg_parse(&got, bad[i]), OTA_EINPUT,
			     "\"%s\"", bad[i]);
		cr_assert_eq(got, OTA_SIG_ED25519, "*out changed");
		must_contain(ota_error_message(),
			     "unknown signature algorithm");
		must_contain(ota_error_message(), "rsa-pkcs1-sha256");
	}
}

Test(key, alg_digest)
{
	enum ota_digest_alg d = OTA_DIGEST_SHA512;

	cr_assert(ota_sig_alg_digest(OTA_SIG_ECDSA_P256_SHA256, &d));
	cr_assert_eq(d, OTA_DIGEST_SHA256);
	d = OTA_DIGEST_SHA512;
	cr_assert(ota_sig_alg_digest(OTA_SIG_ECDSA_P384_SHA384, &d));
	cr_assert_eq(d, OTA_DIGEST_SHA384);
	d = OTA_DIGEST_SHA512;
	cr_assert(ota_sig_alg_digest(OTA_SIG_RSA_PSS_SHA256, &d));
	cr_assert_eq(d, OTA_DIGEST_SHA256);
	d = OTA_DIGEST_SHA512;
	cr_assert(ota_sig_alg_digest(OTA_SIG_RSA_PKCS1_SHA256, &d));
	cr_assert_eq(d, OTA_DIGEST_SHA256);
	cr_assert_not(ota_sig_alg_digest(OTA_SIG_ED25519, &d),
		      "Ed25519 signs the message, not a digest");
}

Test(key, alg_for_key_supported)
{
	EVP_PKEY *rsa = gen("RSA-2048");
	enum ota_sig_alg a = (enum ota_sig_alg)99;

	cr_assert_eq(ota_sig_alg_for_key(&a, gen("P-256"), false), 0);
	cr_assert_eq(a, OTA_SIG_ECDSA_P256_SHA256);
	cr_assert_eq(ota_sig_alg_for_key(&a, gen("P-384"), true), 0);
	cr_assert_eq(a, OTA_SIG_ECDSA_P384_SHA384);
	cr_assert_eq(ota_sig_alg_for_key(&a, rsa, false), 0);
	cr_assert_eq(a, OTA_SIG_RSA_PSS_SHA256);
	cr_assert_eq(ota_sig_alg_for_key(&a, rsa, true), 0);
	cr_assert_eq(a, OTA_SIG_RSA_PKCS1_SHA256);
	cr_assert_eq(ota_sig_alg_for_key(&a, public_half(rsa), false), 0);
	cr_assert_eq(a, OTA_SIG_RSA_PSS_SHA256);
	cr_assert_eq(ota_sig_alg_for_key(&a, gen("ED25519"), true), 0);
	cr_assert_eq(a, OTA_SIG_ED25519);
}

Test(key, alg_for_key_refuses_other_curves_sizes_and_types)
{
	static const struct {
		const char *type, *why;
	} bad[] = {
		{ "P-521", "unsupported curve secp521r1" },
		{ "secp256k1", "unsupported curve secp256k1" },
		{ "P-224", "unsupported curve secp224r1" },
		{ "RSA-1024", "1024 bits" },
		{ "X25519", "unsupported key type" },
		{ "ED448", "unsupported key type" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum ota_sig_alg a = (enum ota_sig_alg)99;

		cr_assert_eq(ota_sig_alg_for_key(&a, gen(bad[i].type), false),
			     OTA_EKEY, "%s", bad[i].type);
		must_contain(ota_error_message(), bad[i].why);
	}
}

Test(key, alg_check_matrix)
{
	EVP_PKEY *p256 = gen("P-256"), *p384 = gen("P-384");
	EVP_PKEY *rsa = gen("RSA-2048"), *ed = gen("ED25519");
	EVP_PKEY *keys[] = { p256, p384, rsa, ed };
	/* fits[key][alg] */
	static const bool fits[4][5] = {
		{ true, false, false, false, false },
		{ false, true, false, false, false },
		{ false, false, true, true, false },
		{ false, false, false, false, true },
	};

	for (size_t k = 0; k < 4; k++) {
		for (size_t a = 0; a < 5; a++) {
			int rc =
			    ota_sig_alg_check((enum ota_sig_alg)a, keys[k]);

			if (fits[k][a]) {
				cr_assert_eq(rc, 0, "key %zu alg %s: %s", k,
					     ota_sig_alg_name(a),
					     ota_error_message());
			} else {
				cr_assert_eq(rc, OTA_EKEY, "key %zu alg %s", k,
					     ota_sig_alg_name(a));
				must_contain(ota_error_message(),
					     ota_sig_alg_name(a));
			}
		}
	}
	cr_assert_eq(ota_sig_alg_check(OTA_SIG_ED25519, gen("RSA-1024")),
		     OTA_EKEY);
}

/* Key ids ----------------------------------------------------------------- */

Test(key, id_known_vector)
{
	EVP_PKEY *k = fixed_ed25519();
	char id[OTA_KEY_ID_LEN + 1];

	memset(id, 'x', sizeof(id));
	cr_assert_eq(ota_key_id_of(id, k), 0, "%s", ota_error_message());
	cr_assert_str_eq(id, FIXED_ED25519_ID);
	/* The public half alone has the same id. */
	memset(id, 'x', sizeof(id));
	cr_assert_eq(ota_key_id_of(id, public_half(k)), 0);
	cr_assert_str_eq(id, FIXED_ED25519_ID);
}

Test(key, id_is_sha256_of_spki)
{
	const char *types[] = { "P-256", "P-384", "RSA-2048" };

	for (size_t i = 0; i < 3; i++) {
		EVP_PKEY *k = gen(types[i]);
		unsigned char *der = NULL, md[32];
		char id[OTA_KEY_ID_LEN + 1], want[OTA_KEY_ID_LEN + 1];
		unsigned int mdlen = 0;
		int n = i2d_PUBKEY(k, &der);

		cr_assert_gt(n, 0);
		cr_assert_eq(
		    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL),
		    1);
		OPENSSL_free(der);
		for (size_t b = 0; b < 32; b++)
			snprintf(want + 2 * b, 3, "%02x", md[b]);
		cr_assert_eq(ota_key_id_of(id, k), 0);
		cr_assert(is_lower_hex(id, OTA_KEY_ID_LEN), "%s", id);
		cr_assert_str_eq(id, want, "%s", types[i]);
	}
}

/* Opening key files ------------------------------------------------------- */

Test(key, open_pkcs8_pem_every_type)
{
	for (size_t i = 0; i < N_CASES; i++) {
		struct ota_key_opts o = { .rsa_pkcs1 = sig_cases[i].pkcs1 };
		EVP_PKEY *pk = gen(sig_cases[i].type);
		const char *path = write_key(pk, PKCS8_PEM, "k.pem");
		struct ota_key *k = open_ok(path, &o);
		char id[OTA_KEY_ID_LEN + 1];

		must_contain(read_text(path, NULL),
			     "-----BEGIN PRIVATE KEY-----");
		cr_assert_eq(ota_key_alg(k), sig_cases[i].alg, "%s",
			     sig_cases[i].type);
		cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(k), pk), 1);
		cr_assert_eq(ota_key_id_of(id, pk), 0);
		cr_assert_str_eq(ota_key_id(k), id);
		cr_assert_str_eq(ota_key_ref(k), path);
	}
}

Test(key, open_pkcs8_der)
{
	const struct ota_key_opts opts = { 0 };
	const char *types[] = { "P-256", "P-384", "RSA-2048", "ED25519" };
	const enum ota_sig_alg algs[] = { OTA_SIG_ECDSA_P256_SHA256,
					  OTA_SIG_ECDSA_P384_SHA384,
					  OTA_SIG_RSA_PSS_SHA256,
					  OTA_SIG_ED25519 };

	for (size_t i = 0; i < 4; i++) {
		EVP_PKEY *pk = gen(types[i]);
		const char *path = write_key(pk, PKCS8_DER, "k.der");
		struct ota_key *k;

		cr_assert_eq(der_second_tag(path), 0x30, "%s: not PKCS#8",
			     types[i]);
		k = open_ok(path, &opts);
		cr_assert_eq(ota_key_alg(k), algs[i]);
		cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(k), pk), 1);
	}
}

Test(key, open_sec1_pem_and_der)
{
	const struct ota_key_opts opts = { 0 };
	const char *types[] = { "P-256", "P-384" };

	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *pk = gen(types[i]);
		const char *pem = write_key(pk, TRAD_PEM, "sec1.pem");
		const char *der = write_key(pk, TRAD_DER, "sec1.der");

		must_contain(read_text(pem, NULL),
			     "-----BEGIN EC PRIVATE KEY-----");
		cr_assert_eq(der_second_tag(der), 0x04, "%s: not SEC1",
			     types[i]);
		cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(pem, &opts)), pk),
			     1);
		cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(der, &opts)), pk),
			     1);
	}
}

Test(key, open_pkcs1_pem_and_der)
{
	const struct ota_key_opts opts = { 0 }, pkcs1 = { .rsa_pkcs1 = true };
	EVP_PKEY *pk = gen("RSA-2048");
	const char *pem = write_key(pk, TRAD_PEM, "rsa.pem");
	const char *der = write_key(pk, TRAD_DER, "rsa.der");
	struct ota_key *k;

	must_contain(read_text(pem, NULL), "-----BEGIN RSA PRIVATE KEY-----");
	cr_assert_eq(der_second_tag(der), 0x02, "not PKCS#1");
	k = open_ok(pem, &opts);
	cr_assert_eq(ota_key_alg(k), OTA_SIG_RSA_PSS_SHA256);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(k), pk), 1);
	k = open_ok(der, &pkcs1);
	cr_assert_eq(ota_key_alg(k), OTA_SIG_RSA_PKCS1_SHA256);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(k), pk), 1);
}

Test(key, open_encrypted_with_passphrase_file)
{
	EVP_PKEY *pk = gen("P-256");
	const char *pass = write_bytes("pass", "correct horse\n", 14);
	const struct ota_key_opts opts = { .passphrase_file = pass };
	const char *p8 = write_encrypted(pk, false, "correct horse", "e8.pem");
	const char *trad = write_encrypted(pk, true, "correct horse", "et.pem");

	must_contain(read_text(p8, NULL), "BEGIN ENCRYPTED PRIVATE KEY");
	must_contain(read_text(trad, NULL), "Proc-Type: 4,ENCRYPTED");
	/* The file wins over a wrong environment value. */
	cr_assert_eq(setenv(PASS_ENV, "wrong", 1), 0);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(p8, &opts)), pk), 1);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(trad, &opts)), pk), 1);
}

Test(key, open_encrypted_with_environment)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *rsa = gen("RSA-2048"), *ed = gen("ED25519");
	const char *a = write_encrypted(rsa, true, "s3cret pass", "rsa.pem");
	const char *b = write_encrypted(ed, false, "s3cret pass", "ed.pem");

	cr_assert_eq(setenv(PASS_ENV, "s3cret pass", 1), 0);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(a, &opts)), rsa), 1);
	cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(open_ok(b, &opts)), ed), 1);
}

Test(key, open_encrypted_without_passphrase)
{
	const struct ota_key_opts opts = { .allow_prompt = false };
	EVP_PKEY *pk = gen("P-384");

	open_fails(write_encrypted(pk, false, "pw", "e8.pem"), &opts, OTA_EKEY,
		   "encrypted");
	open_fails(write_encrypted(pk, true, "pw", "et.pem"), &opts, OTA_EKEY,
		   "no passphrase");
}

/*
 * A --passphrase-file that cannot be read, is empty or too long: an input
 * error (exit status 3, as otatool-sign(1) documents), not a key error; the
 * message names the key and says what went wrong with the passphrase file,
 * not merely that none was given.
 */
Test(key, open_encrypted_unreadable_passphrase_file)
{
	char big[OTA_SECRET_MAX + 8];
	const char *missing = tpath("no-such-passphrase-file");
	const char *empty = write_bytes("empty-pass", "", 0);
	const char *newline = write_bytes("newline-pass", "\n", 1);
	const char *key = write_encrypted(gen("P-256"), false, "pw", "e.pem");
	const char *files[3];
	const char *huge;

	memset(big, 'p', sizeof(big));
	huge = write_bytes("huge-pass", big, sizeof(big));
	files[0] = missing;
	files[1] = empty;
	files[2] = huge;
	for (size_t i = 0; i < 3; i++) {
		const struct ota_key_opts opts = { .passphrase_file =
						       files[i] };

		open_fails(key, &opts, OTA_EINPUT, "encrypted");
		must_contain(ota_error_message(), files[i]);
	}
	{
		const struct ota_key_opts opts = { .passphrase_file = newline };

		open_fails(key, &opts, OTA_EINPUT, "empty");
	}
	/* The limit is the passphrase's 256 bytes, not the file's 258. */
	{
		const struct ota_key_opts opts = { .passphrase_file = huge };

		open_fails(key, &opts, OTA_EINPUT, "256 bytes");
		cr_assert_null(strstr(ota_error_message(), "258"), "%s",
			       ota_error_message());
	}
}

Test(key, open_encrypted_wrong_passphrase)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	const char *p8 = write_encrypted(pk, false, "right-one", "e8.pem");
	const char *trad = write_encrypted(pk, true, "right-one", "et.pem");

	cr_assert_eq(setenv(PASS_ENV, "Wrong-0ne", 1), 0);
	open_fails(p8, &opts, OTA_EKEY, "wrong passphrase");
	cr_assert_null(strstr(ota_error_message(), "Wrong-0ne"),
		       "message leaks the passphrase: %s", ota_error_message());
	open_fails(trad, &opts, OTA_EKEY, "wrong passphrase");
	cr_assert_null(strstr(ota_error_message(), "Wrong-0ne"));
}

Test(key, open_refuses_public_key_files)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256"), *rsa = gen("RSA-2048");

	open_fails(write_key(pk, PUB_PEM, "pub.pem"), &opts, OTA_EKEY,
		   "is a public key");
	open_fails(write_key(pk, PUB_DER, "pub.der"), &opts, OTA_EKEY,
		   "is a public key");
	open_fails(write_key(rsa, PUB_PEM, "rsapub.pem"), &opts, OTA_EKEY,
		   "is a public key");
}

Test(key, open_refuses_certificates)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	X509 *x = make_cert(pk, "signer");

	open_fails(write_cert(x, true, "cert.pem"), &opts, OTA_EKEY,
		   "is a certificate");
	open_fails(write_cert(x, false, "cert.der"), &opts, OTA_EKEY,
		   "is a certificate");
}

Test(key, open_refuses_truncated_garbage_empty_missing)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	size_t len = 0;
	const char *pem = write_key(pk, PKCS8_PEM, "full.pem");
	char *text = read_text(pem, &len);
	const char *der = write_key(pk, PKCS8_DER, "full.der");
	size_t dlen = 0;
	char *dtext = read_text(der, &dlen);

	open_fails(write_bytes("half.pem", text, len / 2), &opts, OTA_EKEY,
		   "truncated");
	open_fails(write_bytes("half.der", dtext, dlen - 10), &opts, OTA_EKEY,
		   "not a valid private key");
	open_fails(write_bytes("junk", "hello, world\n", 13), &opts, OTA_EKEY,
		   "not a valid private key");
	open_fails(write_bytes("empty", "", 0), &opts, OTA_EKEY, NULL);
	open_fails(tpath("does-not-exist.pem"), &opts, OTA_EKEY, NULL);
	/* Not a file at all: an input error, as for every other input. */
	open_fails(dir, &opts, OTA_EINPUT, "not a regular file");
}

Test(key, open_refuses_oversized_files)
{
	const struct ota_key_opts opts = { 0 };
	size_t big = 70u << 10;
	char *data = own(malloc(big), release_mem);

	cr_assert_not_null(data);
	memset(data, 'A', big);
	open_fails(write_bytes("huge.pem", data, big), &opts, OTA_EKEY,
		   "too large");
}

Test(key, open_refuses_unsupported_curves)
{
	const struct ota_key_opts opts = { 0 };

	open_fails(write_key(gen("P-521"), PKCS8_PEM, "p521.pem"), &opts,
		   OTA_EKEY, "unsupported curve");
	open_fails(write_key(gen("secp256k1"), PKCS8_PEM, "k1.pem"), &opts,
		   OTA_EKEY, "unsupported curve");
	open_fails(write_key(gen("secp256k1"), TRAD_PEM, "k1sec1.pem"), &opts,
		   OTA_EKEY, "secp256k1");
}

Test(key, open_rsa_sizes)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *big = gen("RSA-4096");
	struct ota_key *k;
	size_t siglen = 0;
	uint8_t *sig;

	open_fails(write_key(gen("RSA-1024"), PKCS8_PEM, "small.pem"), &opts,
		   OTA_EKEY, "1024 bits");
	k = open_ok(write_key(big, PKCS8_PEM, "big.pem"), &opts);
	cr_assert_eq(ota_key_alg(k), OTA_SIG_RSA_PSS_SHA256);
	sig = sign_ok(k, "m", 1, &siglen);
	cr_assert_eq(siglen, 512);
	cr_assert(evp_verify(big, OTA_SIG_RSA_PSS_SHA256, "m", 1, sig, siglen));
}

Test(key, open_pkcs11_uri_without_context)
{
	const struct ota_key_opts opts = { .pkcs11 = NULL };
	struct ota_key *k = (struct ota_key *)1;
	const char *uri = "pkcs11:token=release;object=fw";

	cr_assert_eq(ota_key_open(&k, uri, &opts), OTA_EKEY);
	cr_assert_null(k);
	must_contain(ota_error_message(), uri);
}

/* Public-only keys ------------------------------------------------------- */

Test(key, open_public_from_every_file_kind)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-384");
	X509 *x = make_cert(pk, "p384");
	char id[OTA_KEY_ID_LEN + 1];
	const char *paths[] = {
		write_key(pk, PUB_PEM, "pub.pem"),
		write_key(pk, PUB_DER, "pub.der"),
		write_cert(x, true, "cert.pem"),
		write_cert(x, false, "cert.der"),
		write_key(pk, PKCS8_PEM, "priv.pem"),
		write_key(pk, TRAD_PEM, "sec1.pem"),
	};

	cr_assert_eq(ota_key_id_of(id, pk), 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ota_key *k = open_public_ok(paths[i], &opts, NULL);

		cr_assert_eq(ota_key_alg(k), OTA_SIG_ECDSA_P384_SHA384, "%s",
			     paths[i]);
		cr_assert_str_eq(ota_key_id(k), id, "%s", paths[i]);
		cr_assert_eq(EVP_PKEY_eq(ota_key_pkey(k), pk), 1, "%s",
			     paths[i]);
		cr_assert_str_eq(ota_key_ref(k), paths[i]);
	}
}

Test(key, open_public_algorithm_override)
{
	const struct ota_key_opts opts = { 0 }, pkcs1 = { .rsa_pkcs1 = true };
	const char *rsa = write_key(gen("RSA-2048"), PUB_PEM, "rsa.pem");
	const char *ec = write_key(gen("P-256"), PUB_PEM, "ec.pem");
	const char *ed = write_key(gen("ED25519"), PUB_PEM, "ed.pem");
	const enum ota_sig_alg a_pkcs1 = OTA_SIG_RSA_PKCS1_SHA256;
	const enum ota_sig_alg a_pss = OTA_SIG_RSA_PSS_SHA256;
	const enum ota_sig_alg a_p256 = OTA_SIG_ECDSA_P256_SHA256;
	const enum ota_sig_alg a_p384 = OTA_SIG_ECDSA_P384_SHA384;
	struct ota_key *k;

	cr_assert_eq(ota_key_alg(open_public_ok(rsa, &opts, NULL)), a_pss);
	cr_assert_eq(ota_key_alg(open_public_ok(rsa, &pkcs1, NULL)), a_pkcs1);
	cr_assert_eq(ota_key_alg(open_public_ok(rsa, &opts, &a_pkcs1)),
		     a_pkcs1);
	cr_assert_eq(ota_key_alg(open_public_ok(rsa, &pkcs1, &a_pss)), a_pss);
	cr_assert_eq(ota_key_alg(open_public_ok(ec, &opts, &a_p256)), a_p256);

	k = (struct ota_key *)1;
	cr_assert_eq(ota_key_open_public(&k, ec, &opts, &a_pss), OTA_EKEY);
	cr_assert_null(k);
	must_contain(ota_error_message(), ec);
	must_contain(ota_error_message(), "rsa-pss-sha256");
	k = (struct ota_key *)1;
	cr_assert_eq(ota_key_open_public(&k, ec, &opts, &a_p384), OTA_EKEY);
	cr_assert_null(k);
	k = (struct ota_key *)1;
	cr_assert_eq(ota_key_open_public(&k, ed, &opts, &a_p256), OTA_EKEY);
	cr_assert_null(k);
	must_contain(ota_error_message(), ed);
}

Test(key, open_public_refuses_garbage)
{
	const struct ota_key_opts opts = { 0 };
	const char *junk = write_bytes("junk", "not a key\n", 10);
	struct ota_key *k = (struct ota_key *)1;

	cr_assert_neq(ota_key_open_public(&k, junk, &opts, NULL), 0);
	cr_assert_null(k);
	must_contain(ota_error_message(), junk);
}

Test(key, public_only_key_cannot_sign)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("ED25519");
	struct ota_key *k =
	    open_public_ok(write_key(pk, PKCS8_PEM, "p.pem"), &opts, NULL);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, "x", 1);
	uint8_t *sig = NULL;
	size_t len = 0;

	cr_assert_eq(ota_key_sign(&sig, &len, k, U8("x"), 1), OTA_EKEY);
	cr_assert_null(sig);
	must_contain(ota_error_message(), "public key cannot sign");
	sig = NULL;
	cr_assert_eq(ota_key_sign_digest(&sig, &len, k, &d), OTA_EKEY);
	cr_assert_null(sig);
}

/* Signing ------------------------------------------------------------------ */

/* The public half a key hands out: its id, and it verifies what k signs. */
Test(key, key_public_verifies_and_has_the_key_id)
{
	static const uint8_t msg[] = "firmware manifest bytes\n";

	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		const struct ota_public_key *pub = ota_key_public(k);
		const char *name = ota_sig_alg_name(sig_cases[i].alg);
		size_t siglen = 0;
		uint8_t *sig = sign_ok(k, msg, sizeof(msg) - 1, &siglen);

		cr_assert_str_eq(ota_public_key_id(pub), ota_key_id(k), "%s",
				 name);
		cr_assert_eq(EVP_PKEY_eq(pub->pkey, pk), 1, "%s", name);
		cr_assert_eq(ota_public_key_verify(pub, sig_cases[i].alg, msg,
						   sizeof(msg) - 1, sig,
						   siglen),
			     0, "%s: %s", name, ota_error_message());
		cr_assert_eq(
		    ota_public_key_verify(pub, sig_cases[i].alg, msg,
					  sizeof(msg) - 2, sig, siglen),
		    OTA_EVERIFY, "%s: a shorter message verifies", name);
	}
}

Test(key, sign_every_algorithm_verifies_independently)
{
	static const uint8_t msg[] = "firmware manifest bytes\n";

	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		const char *name = ota_sig_alg_name(sig_cases[i].alg);
		size_t siglen = 0;
		uint8_t *sig = sign_ok(k, msg, sizeof(msg) - 1, &siglen);

		cr_assert(evp_verify(public_half(pk), sig_cases[i].alg, msg,
				     sizeof(msg) - 1, sig, siglen),
			  "%s: EVP does not verify the signature", name);
		cr_assert_eq(ota_signature_verify(public_half(pk),
						  sig_cases[i].alg, msg,
						  sizeof(msg) - 1, sig, siglen),
			     0, "%s: %s", name, ota_error_message());
		switch (sig_cases[i].alg) {
		case OTA_SIG_ECDSA_P256_SHA256:
		case OTA_SIG_ECDSA_P384_SHA384: {
			const unsigned char *p = sig;
			ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)siglen);

			cr_assert_not_null(s, "%s: not DER", name);
			ECDSA_SIG_free(s);
			cr_assert_eq(p, sig + siglen, "%s: trailing bytes",
				     name);
			break;
		}
		case OTA_SIG_ED25519:
			cr_assert_eq(siglen, 64);
			break;
		default:
			cr_assert_eq(siglen, 256, "%s", name);
			break;
		}
	}
}

Test(key, sign_empty_and_large_messages)
{
	size_t big = 3u << 20;
	uint8_t *msg = own(malloc(big), release_mem);

	cr_assert_not_null(msg);
	for (size_t i = 0; i < big; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		size_t l1 = 0, l2 = 0;
		uint8_t *s1 = sign_ok(k, "", 0, &l1);
		uint8_t *s2 = sign_ok(k, msg, big, &l2);

		cr_assert(evp_verify(pk, sig_cases[i].alg, "", 0, s1, l1), "%s",
			  ota_sig_alg_name(sig_cases[i].alg));
		cr_assert(evp_verify(pk, sig_cases[i].alg, msg, big, s2, l2),
			  "%s", ota_sig_alg_name(sig_cases[i].alg));
	}
}

Test(key, sign_ed25519_known_answer)
{
	const struct ota_key_opts opts = { 0 };
	const char *path =
	    write_bytes("ed.der", fixed_ed25519_der, sizeof(fixed_ed25519_der));
	struct ota_key *k = open_ok(path, &opts);
	size_t siglen = 0;
	uint8_t *sig = sign_ok(k, "otatool", 7, &siglen);

	cr_assert_str_eq(ota_key_id(k), FIXED_ED25519_ID);
	cr_assert_eq(siglen, 64);
	cr_assert_arr_eq(sig, fixed_ed25519_sig, 64);
}

/* PKCS#1 v1.5 is deterministic: the bytes must equal OpenSSL's own. */
Test(key, sign_pkcs1_matches_openssl)
{
	const struct ota_key_opts opts = { .rsa_pkcs1 = true };
	EVP_PKEY *pk = gen("RSA-2048");
	struct ota_key *k = open_ok(write_key(pk, PKCS8_PEM, "r.pem"), &opts);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t want[256];
	size_t wlen = sizeof(want), siglen = 0;
	uint8_t *sig = sign_ok(k, "abc", 3, &siglen);

	cr_assert_not_null(ctx);
	cr_assert_eq(
	    EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, pk, NULL),
	    1);
	cr_assert_gt(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 0);
	cr_assert_eq(
	    EVP_DigestSign(ctx, want, &wlen, (const uint8_t *)"abc", 3), 1);
	EVP_MD_CTX_free(ctx);
	cr_assert_eq(siglen, wlen);
	cr_assert_arr_eq(sig, want, wlen);
}

Test(key, sign_digest_every_algorithm_verifies_independently)
{
	static const uint8_t msg[] = "region hashed while streaming";

	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		EVP_PKEY *pub = public_half(pk);
		enum ota_digest_alg own_alg;
		const char *name = ota_sig_alg_name(sig_cases[i].alg);

		if (!ota_sig_alg_digest(sig_cases[i].alg, &own_alg))
			own_alg = OTA_DIGEST_SHA256;
		/* Its own digest, and the other one (no pairing imposed). */
		for (int j = 0; j < 2; j++) {
			enum ota_digest_alg da = j == 0 ? own_alg
						 : own_alg == OTA_DIGEST_SHA256
						     ? OTA_DIGEST_SHA384
						     : OTA_DIGEST_SHA256;
			struct ota_digest d = evp_digest(da, msg, sizeof(msg));
			size_t siglen = 0;
			uint8_t *sig = sign_digest_ok(k, &d, &siglen);

			cr_assert(evp_verify_digest(pub, sig_cases[i].alg, &d,
						    sig, siglen),
				  "%s over %s: EVP does not verify", name,
				  ota_digest_alg_name(da));
			cr_assert_eq(
			    ota_signature_verify_digest(pub, sig_cases[i].alg,
							&d, sig, siglen),
			    0, "%s over %s: %s", name, ota_digest_alg_name(da),
			    ota_error_message());
		}
	}
}

/*
 * Signing a message and signing its digest are the same signature where
 * the scheme is deterministic (PKCS#1 v1.5), so the two paths agree.
 */
Test(key, sign_digest_pkcs1_equals_sign_message)
{
	const struct ota_key_opts opts = { .rsa_pkcs1 = true };
	EVP_PKEY *pk = gen("RSA-2048");
	struct ota_key *k = open_ok(write_key(pk, PKCS8_PEM, "r.pem"), &opts);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, "payload", 7);
	size_t l1 = 0, l2 = 0;
	uint8_t *s1 = sign_ok(k, "payload", 7, &l1);
	uint8_t *s2 = sign_digest_ok(k, &d, &l2);

	cr_assert_eq(l1, l2);
	cr_assert_arr_eq(s1, s2, l1);
}

/* A digest signature is not a signature of the message, and vice versa. */
Test(key, sign_digest_is_not_sign_message_for_ed25519)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = fixed_ed25519();
	struct ota_key *k = open_ok(
	    write_bytes("ed.der", fixed_ed25519_der, sizeof(fixed_ed25519_der)),
	    &opts);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, "otatool", 7);
	size_t len = 0;
	uint8_t *sig = sign_digest_ok(k, &d, &len);

	cr_assert(evp_verify(pk, OTA_SIG_ED25519, d.bytes, d.len, sig, len));
	cr_assert_not(evp_verify(pk, OTA_SIG_ED25519, "otatool", 7, sig, len));
	cr_assert_eq(
	    ota_signature_verify(pk, OTA_SIG_ED25519, d.bytes, d.len, sig, len),
	    0);
}

/* Verification failures ---------------------------------------------------- */

Test(key, verify_rejects_flipped_bits_and_other_messages)
{
	static const uint8_t msg[] = "release 1.2.3";

	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		enum ota_sig_alg a = sig_cases[i].alg;
		size_t siglen = 0;
		uint8_t *sig = sign_ok(k, msg, sizeof(msg) - 1, &siglen);
		uint8_t *bad = own(malloc(siglen), release_mem);

		for (size_t bit = 0; bit < siglen * 8; bit += siglen * 8 / 5) {
			memcpy(bad, sig, siglen);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			cr_assert_eq(ota_signature_verify(pk, a, msg,
							  sizeof(msg) - 1, bad,
							  siglen),
				     OTA_EVERIFY, "%s: bit %zu",
				     ota_sig_alg_name(a), bit);
		}
		cr_assert_eq(ota_signature_verify(pk, a, U8("release 1.2.4"),
						  sizeof(msg) - 1, sig, siglen),
			     OTA_EVERIFY, "%s", ota_sig_alg_name(a));
		cr_assert_eq(ota_signature_verify(pk, a, msg, sizeof(msg) - 1,
						  sig, siglen - 1),
			     OTA_EVERIFY, "%s: truncated", ota_sig_alg_name(a));
		cr_assert_eq(
		    ota_signature_verify(pk, a, msg, sizeof(msg) - 1, sig, 0),
		    OTA_EVERIFY, "%s: empty", ota_sig_alg_name(a));
		must_contain(ota_error_message(), ota_sig_alg_name(a));
	}
}

Test(key, verify_rejects_another_key_of_the_same_type)
{
	static const uint8_t msg[] = "release";

	for (size_t i = 0; i < N_CASES; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		EVP_PKEY *other = gen(sig_cases[i].type);
		size_t siglen = 0;
		uint8_t *sig = sign_ok(k, msg, 7, &siglen);
		struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, msg, 7);
		size_t dlen = 0;
		uint8_t *dsig = sign_digest_ok(k, &d, &dlen);

		cr_assert_eq(ota_signature_verify(other, sig_cases[i].alg, msg,
						  7, sig, siglen),
			     OTA_EVERIFY, "%s",
			     ota_sig_alg_name(sig_cases[i].alg));
		cr_assert_eq(ota_signature_verify_digest(
				 other, sig_cases[i].alg, &d, dsig, dlen),
			     OTA_EVERIFY, "%s",
			     ota_sig_alg_name(sig_cases[i].alg));
	}
}

/* PSS and PKCS#1 v1.5 with the same RSA key are not interchangeable. */
Test(key, verify_rejects_the_other_rsa_padding)
{
	const struct ota_key_opts pss = { 0 }, pkcs1 = { .rsa_pkcs1 = true };
	EVP_PKEY *pk = gen("RSA-2048");
	const char *path = write_key(pk, PKCS8_PEM, "r.pem");
	struct ota_key *kp = open_ok(path, &pss), *k1 = open_ok(path, &pkcs1);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, "m", 1);
	size_t lp = 0, l1 = 0, dp = 0, d1 = 0;
	uint8_t *sp = sign_ok(kp, "m", 1, &lp), *s1 = sign_ok(k1, "m", 1, &l1);
	uint8_t *dsp = sign_digest_ok(kp, &d, &dp);
	uint8_t *ds1 = sign_digest_ok(k1, &d, &d1);

	cr_assert_eq(ota_signature_verify(pk, OTA_SIG_RSA_PKCS1_SHA256, U8("m"),
					  1, sp, lp),
		     OTA_EVERIFY);
	cr_assert_eq(ota_signature_verify(pk, OTA_SIG_RSA_PSS_SHA256, U8("m"),
					  1, s1, l1),
		     OTA_EVERIFY);
	cr_assert_eq(ota_signature_verify_digest(pk, OTA_SIG_RSA_PKCS1_SHA256,
						 &d, dsp, dp),
		     OTA_EVERIFY);
	cr_assert_eq(ota_signature_verify_digest(pk, OTA_SIG_RSA_PSS_SHA256, &d,
						 ds1, d1),
		     OTA_EVERIFY);
}

/* A digest signature does not verify as one of a different digest. */
Test(key, verify_digest_rejects_other_digest_algorithm)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	struct ota_key *k = open_ok(write_key(pk, PKCS8_PEM, "k.pem"), &opts);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, "m", 1);
	struct ota_digest other = evp_digest(OTA_DIGEST_SHA256, "n", 1);
	size_t len = 0;
	uint8_t *sig = sign_digest_ok(k, &d, &len);

	cr_assert_eq(ota_signature_verify_digest(pk, OTA_SIG_ECDSA_P256_SHA256,
						 &other, sig, len),
		     OTA_EVERIFY);
	d.bytes[31] ^= 1;
	cr_assert_eq(ota_signature_verify_digest(pk, OTA_SIG_ECDSA_P256_SHA256,
						 &d, sig, len),
		     OTA_EVERIFY);
}

/*
 * An algorithm the key cannot make (a signature entry claiming ed25519 for
 * a P-256 key): key.h says OTA_EVERIFY when sig is not alg's signature of
 * msg by pub, and an envelope's algorithm field is untrusted input.
 */
Test(key, verify_rejects_an_algorithm_the_key_cannot_make)
{
	static const uint8_t msg[] = "release";
	EVP_PKEY *pk;
	struct ota_key *k = case_key(0, &pk);
	struct ota_digest d = evp_digest(OTA_DIGEST_SHA256, msg, 7);
	size_t siglen = 0, dlen = 0;
	uint8_t *sig = sign_ok(k, msg, 7, &siglen);
	uint8_t *dsig = sign_digest_ok(k, &d, &dlen);

	cr_assert_eq(
	    ota_signature_verify(pk, OTA_SIG_ED25519, msg, 7, sig, siglen),
	    OTA_EVERIFY, "got %d: %s",
	    ota_signature_verify(pk, OTA_SIG_ED25519, msg, 7, sig, siglen),
	    ota_error_message());
	cr_assert_eq(ota_signature_verify(pk, OTA_SIG_ECDSA_P384_SHA384, msg, 7,
					  sig, siglen),
		     OTA_EVERIFY);
	cr_assert_eq(ota_signature_verify_digest(pk, OTA_SIG_RSA_PSS_SHA256, &d,
						 dsig, dlen),
		     OTA_EVERIFY);
}

/* Signature decoding ------------------------------------------------------ */

/* DER ECDSA-Sig-Value into raw r||s of 2 * half bytes. */
static void der_to_raw(uint8_t *raw, size_t half, const uint8_t *der,
		       size_t len)
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r = NULL, *sv = NULL;

	cr_assert_not_null(s);
	ECDSA_SIG_get0(s, &r, &sv);
	cr_assert_eq(BN_bn2binpad(r, raw, (int)half), (int)half);
	cr_assert_eq(BN_bn2binpad(sv, raw + half, (int)half), (int)half);
	ECDSA_SIG_free(s);
}

/* Base64 in lines of 64 characters, each ended by eol. */
static char *b64_lines(const uint8_t *data, size_t len, const char *eol)
{
	size_t flat_len = 4 * ((len + 2) / 3);
	char *flat = own(malloc(flat_len + 1), release_mem);
	char *out = own(malloc(flat_len * 2 + 16), release_mem);
	size_t o = 0;

	cr_assert(flat && out);
	cr_assert_eq(EVP_EncodeBlock((unsigned char *)flat, data, (int)len),
		     (int)flat_len);
	for (size_t i = 0; i < flat_len; i += 64) {
		size_t n = flat_len - i < 64 ? flat_len - i : 64;

		memcpy(out + o, flat + i, n);
		o += n;
		memcpy(out + o, eol, strlen(eol));
		o += strlen(eol);
	}
	out[o] = '\0';
	return out;
}

static uint8_t *decode_ok(enum ota_sig_alg alg, const void *in, size_t len,
			  size_t *outlen)
{
	uint8_t *out = NULL;
	int rc = ota_signature_decode(&out, outlen, alg, in, len);

	cr_assert_eq(rc, 0, "%s, %zu bytes: %s", ota_sig_alg_name(alg), len,
		     ota_error_message());
	cr_assert_not_null(out);
	return own(out, release_mem);
}

static void decode_fails(enum ota_sig_alg alg, const void *in, size_t len)
{
	uint8_t *out = (uint8_t *)"sentinel";
	size_t outlen = 0;
	int rc = ota_signature_decode(&out, &outlen, alg, in, len);

	if (rc == 0)
		own(out, release_mem);
	cr_assert_eq(rc, OTA_EINPUT, "%s, %zu bytes: rc %d",
		     ota_sig_alg_name(alg), len, rc);
	cr_assert_null(out);
	must_contain(ota_error_message(), ota_sig_alg_name(alg));
}

Test(key, decode_ecdsa_der_raw_and_base64)
{
	static const uint8_t msg[] = "decode me";

	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *pk;
		struct ota_key *k = case_key(i, &pk);
		enum ota_sig_alg a = sig_cases[i].alg;
		size_t half = a == OTA_SIG_ECDSA_P384_SHA384 ? 48 : 32;

		/* Several signatures: r and s vary in length and top bit. */
		for (int n = 0; n < 12; n++) {
			size_t len = 0, outlen = 0;
			uint8_t *der = sign_ok(k, msg, sizeof(msg), &len);
			uint8_t raw[96];
			uint8_t *out;
			char *text;

			out = decode_ok(a, der, len, &outlen);
			cr_assert_eq(outlen, len);
			cr_assert_arr_eq(out, der, len);

			der_to_raw(raw, half, der, len);
			out = decode_ok(a, raw, 2 * half, &outlen);
			cr_assert_eq(outlen, len, "%s: raw -> %zu bytes",
				     ota_sig_alg_name(a), outlen);
			cr_assert_arr_eq(out, der, len);
			cr_assert(
			    evp_verify(pk, a, msg, sizeof(msg), out, outlen));

			text = b64_lines(der, len, "\n");
			out = decode_ok(a, text, strlen(text), &outlen);
			cr_assert_eq(outlen, len);
			cr_assert_arr_eq(out, der, len);

			text = b64_lines(raw, 2 * half, "\r\n");
			out = decode_ok(a, text, strlen(text), &outlen);
			cr_assert_eq(outlen, len);
			cr_assert_arr_eq(out, der, len);
		}
	}
}

/* Binary passes through; base64 in lines is decoded. */
static void decode_round(size_t i)
{
	static const uint8_t msg[] = "decode me";
	EVP_PKEY *pk;
	struct ota_key *k = case_key(i, &pk);
	enum ota_sig_alg a = sig_cases[i].alg;
	size_t len = 0, outlen = 0;
	uint8_t *sig = sign_ok(k, msg, sizeof(msg), &len);
	uint8_t *out = decode_ok(a, sig, len, &outlen);
	char *text;

	cr_assert_eq(outlen, len);
	cr_assert_arr_eq(out, sig, len);
	text = b64_lines(sig, len, "\n");
	out = decode_ok(a, text, strlen(text), &outlen);
	cr_assert_eq(outlen, len, "%s: base64 of %zu bytes gave %zu",
		     ota_sig_alg_name(a), len, outlen);
	cr_assert_arr_eq(out, sig, len);
	cr_assert(evp_verify(pk, a, msg, sizeof(msg), out, outlen));
}

Test(key, decode_ed25519)
{
	decode_round(4);
}

/* 2048-bit signatures: 256 bytes, 350 characters of base64 in lines. */
Test(key, decode_rsa_pss)
{
	decode_round(2);
}

Test(key, decode_rsa_pkcs1)
{
	decode_round(3);
}

/*
 * Base64 without line breaks, as cloud KMS and openssl base64 -A write it:
 * 344 characters for RSA-2048, 512 for RSA-3072, both within the lengths
 * a binary RSA signature can have.
 */
Test(key, decode_rsa_base64_single_line)
{
	const struct ota_key_opts opts = { 0 };
	const char *types[] = { "RSA-2048", "RSA-3072" };
	const size_t sizes[] = { 256, 384 };

	for (size_t i = 0; i < 2; i++) {
		EVP_PKEY *pk = gen(types[i]);
		struct ota_key *k =
		    open_ok(write_key(pk, PKCS8_PEM, "r.pem"), &opts);
		size_t len = 0, outlen = 0, tlen = 4 * ((sizes[i] + 2) / 3);
		uint8_t *sig = sign_ok(k, "m", 1, &len);
		char text[600];
		uint8_t *out;

		cr_assert_eq(len, sizes[i]);
		cr_assert_eq(
		    EVP_EncodeBlock((unsigned char *)text, sig, (int)len),
		    (int)tlen);
		out = decode_ok(OTA_SIG_RSA_PSS_SHA256, text, tlen, &outlen);
		cr_assert_eq(outlen, len,
			     "%s: base64 text taken as %zu binary bytes",
			     types[i], outlen);
		cr_assert_arr_eq(out, sig, len);
	}
}

Test(key, decode_refuses_garbage)
{
	static const char text[] = "this is not a signature!";
	uint8_t junk[200];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 1);
	decode_fails(OTA_SIG_ECDSA_P256_SHA256, text, sizeof(text) - 1);
	decode_fails(OTA_SIG_ECDSA_P256_SHA256, junk, 63);
	decode_fails(OTA_SIG_ECDSA_P256_SHA256, junk, 96);
	decode_fails(OTA_SIG_ECDSA_P384_SHA384, junk, 64);
	decode_fails(OTA_SIG_ECDSA_P384_SHA384, junk, 0);
	decode_fails(OTA_SIG_ED25519, junk, 63);
	decode_fails(OTA_SIG_ED25519, junk, 65);
	decode_fails(OTA_SIG_ED25519, text, sizeof(text) - 1);
	decode_fails(OTA_SIG_RSA_PSS_SHA256, junk, 200);
	decode_fails(OTA_SIG_RSA_PKCS1_SHA256, "AAAA", 4);
	/* Base64 of the wrong size. */
	decode_fails(OTA_SIG_ED25519, "AAAA\n", 5);
	decode_fails(OTA_SIG_ECDSA_P256_SHA256, "QUJD\n", 5);
}

/*
 * Non-canonical DER (a superfluous leading zero in r, a long-form length, or
 * bytes after the signature) is not DER: the decoder either refuses it
 * (OTA_EINPUT) or writes the canonical DER; it never passes it on as is.
 */
Test(key, decode_non_canonical_der)
{
	EVP_PKEY *pk;
	struct ota_key *k = case_key(0, &pk);
	size_t len = 0;
	uint8_t *der = sign_ok(k, "x", 1, &len);
	uint8_t bad[3][80];
	size_t badlen[3];

	cr_assert_lt(len, 75);
	cr_assert_eq(der[0], 0x30);
	cr_assert_eq(der[2], 0x02);
	/* 30 L+1 02 rl+1 00 r... s */
	bad[0][0] = 0x30;
	bad[0][1] = (uint8_t)(der[1] + 1);
	bad[0][2] = 0x02;
	bad[0][3] = (uint8_t)(der[3] + 1);
	bad[0][4] = 0x00;
	memcpy(bad[0] + 5, der + 4, len - 4);
	badlen[0] = len + 1;
	/* 30 81 L ... */
	bad[1][0] = 0x30;
	bad[1][1] = 0x81;
	memcpy(bad[1] + 2, der + 1, len - 1);
	badlen[1] = len + 1;
	/* trailing zero byte */
	memcpy(bad[2], der, len);
	bad[2][len] = 0;
	badlen[2] = len + 1;

	for (int i = 0; i < 3; i++) {
		uint8_t *out = NULL;
		size_t outlen = 0;
		int rc = ota_signature_decode(&out, &outlen,
					      OTA_SIG_ECDSA_P256_SHA256, bad[i],
					      badlen[i]);

		if (rc == 0) {
			own(out, release_mem);
			cr_assert_eq(outlen, len, "variant %d passed through",
				     i);
			cr_assert_arr_eq(out, der, len, "variant %d", i);
		} else {
			cr_assert_eq(rc, OTA_EINPUT, "variant %d: rc %d", i,
				     rc);
			cr_assert_null(out);
		}
	}
}

/* Public keys and certificates ------------------------------------------- */

Test(key, public_key_load_every_kind)
{
	EVP_PKEY *pk = gen("P-256"), *rsa = gen("RSA-2048");
	X509 *x = make_cert(pk, "c");
	const char *paths[] = {
		write_key(pk, PUB_PEM, "pub.pem"),
		write_key(pk, PUB_DER, "pub.der"),
		write_cert(x, true, "c.pem"),
		write_cert(x, false, "c.der"),
		write_key(pk, PKCS8_PEM, "p8.pem"),
		write_key(pk, PKCS8_DER, "p8.der"),
		write_key(pk, TRAD_PEM, "sec1.pem"),
	};

	char id[OTA_KEY_ID_LEN + 1];

	cr_assert_eq(ota_key_id_of(id, pk), 0);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ota_public_key *got = NULL;

		cr_assert_eq(ota_public_key_load(&got, paths[i]), 0, "%s: %s",
			     paths[i], ota_error_message());
		own(got, release_public_key);
		cr_assert_eq(EVP_PKEY_eq(got->pkey, pk), 1, "%s", paths[i]);
		cr_assert_str_eq(ota_public_key_id(got), id, "%s", paths[i]);
	}
	{
		struct ota_public_key *got = NULL;
		const char *p = write_key(rsa, TRAD_PEM, "rsa.pem");

		cr_assert_eq(ota_public_key_load(&got, p), 0);
		own(got, release_public_key);
		cr_assert_eq(EVP_PKEY_eq(got->pkey, rsa), 1);
	}
}

Test(key, public_key_load_refuses)
{
	const char *paths[] = {
		write_bytes("junk", "junk\n", 5),
		write_bytes("empty", "", 0),
		tpath("missing.pem"),
		dir,
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ota_public_key *got = (struct ota_public_key *)1;
		int rc = ota_public_key_load(&got, paths[i]);

		if (rc == 0)
			own(got, release_public_key);
		cr_assert_eq(rc, OTA_EINPUT, "%s: rc %d", paths[i], rc);
		cr_assert_null(got);
		must_contain(ota_error_message(), paths[i]);
	}
}

Test(key, public_key_encode_pem_and_der)
{
	EVP_PKEY *pk = gen("ED25519");
	unsigned char *want = NULL;
	int wlen = i2d_PUBKEY(pk, &want);
	struct ota_public_key *k = NULL;
	uint8_t *out = NULL;
	size_t len = 0;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long plen;

	cr_assert_gt(wlen, 0);
	own(want, release_ossl);
	cr_assert_eq(ota_public_key_from_pkey(&k, pk), 0);
	own(k, release_public_key);
	cr_assert_eq(ota_public_key_encode(&out, &len, k, false), 0);
	own(out, release_mem);
	cr_assert_eq(len, (size_t)wlen);
	cr_assert_arr_eq(out, want, len);

	cr_assert_not_null(b);
	cr_assert_eq(PEM_write_bio_PUBKEY(b, pk), 1);
	plen = BIO_get_mem_data(b, &pem);
	out = NULL;
	cr_assert_eq(ota_public_key_encode(&out, &len, k, true), 0);
	own(out, release_mem);
	cr_assert_eq(len, (size_t)plen);
	cr_assert_arr_eq(out, pem, len);
	BIO_free(b);
}

Test(key, certificate_load_pem_and_der)
{
	EVP_PKEY *pk = gen("P-384");
	X509 *x = make_cert(pk, "signer");
	size_t wlen = 0;
	uint8_t *want = cert_der(x, &wlen);
	const char *paths[] = { write_cert(x, true, "c.pem"),
				write_cert(x, false, "c.der") };

	for (size_t i = 0; i < 2; i++) {
		uint8_t *der = NULL;
		size_t len = 0;
		EVP_PKEY *pub = NULL;

		cr_assert_eq(ota_certificate_load(&der, &len, &pub, paths[i]),
			     0, "%s: %s", paths[i], ota_error_message());
		own(der, release_mem);
		own(pub, release_pkey);
		cr_assert_eq(len, wlen);
		cr_assert_arr_eq(der, want, len);
		cr_assert_eq(EVP_PKEY_eq(pub, pk), 1);
	}
}

Test(key, certificate_load_refuses_non_certificates)
{
	EVP_PKEY *pk = gen("P-256");
	const char *paths[] = {
		write_bytes("junk", "-----BEGIN CERTIFICATE-----\nAAAA\n", 33),
		write_key(pk, PUB_PEM, "pub.pem"),
		write_key(pk, PKCS8_DER, "k.der"),
		write_bytes("empty", "", 0),
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		uint8_t *der = (uint8_t *)1;
		size_t len = 0;
		EVP_PKEY *pub = (EVP_PKEY *)1;
		int rc = ota_certificate_load(&der, &len, &pub, paths[i]);

		if (rc == 0) {
			own(der, release_mem);
			own(pub, release_pkey);
		}
		cr_assert_eq(rc, OTA_EINPUT, "%s: rc %d", paths[i], rc);
		cr_assert_null(der);
		cr_assert_null(pub);
		must_contain(ota_error_message(), paths[i]);
	}
}

Test(key, set_certificate_matching_and_replaced)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	struct ota_key *k = open_ok(write_key(pk, PKCS8_PEM, "k.pem"), &opts);
	X509 *c1 = make_cert(pk, "first"), *c2 = make_cert(pk, "second");
	size_t l1 = 0, l2 = 0;
	uint8_t *d1 = cert_der(c1, &l1), *d2 = cert_der(c2, &l2);
	const uint8_t *const *der = NULL;
	const size_t *lens = NULL;

	cr_assert_eq(ota_key_certs(k, &der, &lens), 0);
	cr_assert_eq(ota_key_set_certificate(k, write_cert(c1, true, "1.pem")),
		     0, "%s", ota_error_message());
	cr_assert_eq(ota_key_certs(k, &der, &lens), 1);
	cr_assert_eq(lens[0], l1);
	cr_assert_arr_eq(der[0], d1, l1);
	/* A second one replaces the first (DER this time). */
	cr_assert_eq(ota_key_set_certificate(k, write_cert(c2, false, "2.der")),
		     0, "%s", ota_error_message());
	cr_assert_eq(ota_key_certs(k, &der, &lens), 1);
	cr_assert_eq(lens[0], l2);
	cr_assert_arr_eq(der[0], d2, l2);
}

Test(key, set_certificate_refuses_other_keys)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("P-256");
	const char *kp = write_key(pk, PKCS8_PEM, "k.pem");
	struct ota_key *k = open_ok(kp, &opts);
	X509 *mine = make_cert(pk, "mine");
	X509 *other = make_cert(gen("P-256"), "other");
	X509 *ed = make_cert(gen("ED25519"), "ed");
	const char *op = write_cert(other, true, "other.pem");
	size_t l = 0;
	uint8_t *d = cert_der(mine, &l);
	const uint8_t *const *der = NULL;
	const size_t *lens = NULL;

	cr_assert_eq(ota_key_set_certificate(k, op), OTA_EKEY);
	must_contain(ota_error_message(), op);
	must_contain(ota_error_message(), "does not match");
	cr_assert_eq(ota_key_certs(k, &der, &lens), 0);
	cr_assert_eq(ota_key_set_certificate(k, write_cert(ed, false, "e.der")),
		     OTA_EKEY);
	cr_assert_eq(ota_key_certs(k, &der, &lens), 0);
	/* A refused certificate leaves an accepted one in place. */
	cr_assert_eq(
	    ota_key_set_certificate(k, write_cert(mine, true, "m.pem")), 0);
	cr_assert_eq(ota_key_set_certificate(k, op), OTA_EKEY);
	cr_assert_eq(ota_key_certs(k, &der, &lens), 1);
	cr_assert_eq(lens[0], l);
	cr_assert_arr_eq(der[0], d, l);
	/* Not a certificate at all. */
	cr_assert_eq(ota_key_set_certificate(k, kp), OTA_EINPUT);
}

Test(key, chain_needs_own_certificate_first)
{
	const struct ota_key_opts opts = { 0 };
	EVP_PKEY *pk = gen("ED25519");
	struct ota_key *k = open_ok(write_key(pk, PKCS8_PEM, "k.pem"), &opts);
	X509 *leaf = make_cert(pk, "leaf");
	X509 *ca = make_cert(gen("P-256"), "intermediate");
	size_t ll = 0, cl = 0;
	uint8_t *ld = cert_der(leaf, &ll), *cd = cert_der(ca, &cl);
	const uint8_t *const *der = NULL;
	const size_t *lens = NULL;
	int rc = ota_key_add_chain_der(k, cd, cl);

	cr_assert_lt(rc, 0, "intermediate accepted without --cert");
	must_contain(ota_error_message(), ota_key_ref(k));
	cr_assert_eq(ota_key_certs(k, &der, &lens), 0);

	cr_assert_eq(
	    ota_key_set_certificate(k, write_cert(leaf, true, "l.pem")), 0);
	cr_assert_eq(ota_key_add_chain_der(k, cd, cl), 0);
	cr_assert_eq(ota_key_certs(k, &der, &lens), 2);
	cr_assert_eq(lens[0], ll);
	cr_assert_arr_eq(der[0], ld, ll);
	cr_assert_eq(lens[1], cl);
	cr_assert_arr_eq(der[1], cd, cl);
}

/* Key generation ----------------------------------------------------------- */

static void generate_and_check(const char *type, enum ota_sig_alg alg, int bits)
{
	const struct ota_key_opts opts = { 0 };
	const char *priv = tpath("new.key"), *pub = tpath("new.pub");
	char id[OTA_KEY_ID_LEN + 1], pub_id[OTA_KEY_ID_LEN + 1];
	EVP_PKEY *loaded = NULL;
	struct ota_key *k;
	struct stat st;
	int rc;

	memset(id, 'x', sizeof(id));
	rc = ota_key_generate_file(id, type, priv, pub);
	cr_assert_eq(rc, 0, "%s: %s", type, ota_error_message());
	cr_assert(is_lower_hex(id, OTA_KEY_ID_LEN), "%s: id %s", type, id);

	cr_assert_eq(stat(priv, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "%s: private key mode %o", type,
		     (unsigned)(st.st_mode & 07777));
	cr_assert_eq(
	    strncmp(read_text(priv, NULL), "-----BEGIN PRIVATE KEY-----\n", 28),
	    0, "%s: not unencrypted PKCS#8 PEM", type);
	cr_assert_eq(
	    strncmp(read_text(pub, NULL), "-----BEGIN PUBLIC KEY-----\n", 27),
	    0, "%s: not PEM SubjectPublicKeyInfo", type);

	k = open_ok(priv, &opts);
	cr_assert_str_eq(ota_key_id(k), id, "%s", type);
	cr_assert_eq(ota_key_alg(k), alg, "%s", type);
	cr_assert_eq(EVP_PKEY_get_bits(ota_key_pkey(k)), bits, "%s: %d bits",
		     type, EVP_PKEY_get_bits(ota_key_pkey(k)));

	cr_assert_eq(ota_public_key_load_pkey(&loaded, pub), 0, "%s",
		     ota_error_message());
	own(loaded, release_pkey);
	cr_assert_eq(ota_key_id_of(pub_id, loaded), 0);
	cr_assert_str_eq(pub_id, id, "%s: public file holds another key", type);
	cr_assert_eq(EVP_PKEY_eq(loaded, ota_key_pkey(k)), 1);
}

Test(key, generate_ecdsa_p256)
{
	generate_and_check("ecdsa-p256", OTA_SIG_ECDSA_P256_SHA256, 256);
}

Test(key, generate_ecdsa_p384)
{
	generate_and_check("ecdsa-p384", OTA_SIG_ECDSA_P384_SHA384, 384);
}

Test(key, generate_ed25519)
{
	generate_and_check("ed25519", OTA_SIG_ED25519, 256);
}

Test(key, generate_rsa_2048)
{
	generate_and_check("rsa-2048", OTA_SIG_RSA_PSS_SHA256, 2048);
}

Test(key, generate_rsa_3072)
{
	generate_and_check("rsa-3072", OTA_SIG_RSA_PSS_SHA256, 3072);
}

Test(key, generate_rsa_4096)
{
	generate_and_check("rsa-4096", OTA_SIG_RSA_PSS_SHA256, 4096);
}

Test(key, generate_refuses_existing_files)
{
	const char *priv = tpath("k.key"), *pub = tpath("k.pub");
	char id[OTA_KEY_ID_LEN + 1];

	write_bytes("k.key", "precious\n", 9);
	cr_assert_eq(ota_key_generate_file(id, "ed25519", priv, pub),
		     OTA_EOUTPUT);
	must_contain(ota_error_message(), priv);
	cr_assert_str_eq(read_text(priv, NULL), "precious\n");
	cr_assert_eq(access(pub, F_OK), -1, "public key written anyway");

	cr_assert_eq(unlink(priv), 0);
	write_bytes("k.pub", "also precious\n", 14);
	cr_assert_eq(ota_key_generate_file(id, "ecdsa-p256", priv, pub),
		     OTA_EOUTPUT);
	must_contain(ota_error_message(), pub);
	cr_assert_str_eq(read_text(pub, NULL), "also precious\n");
	cr_assert_eq(access(priv, F_OK), -1, "private key written anyway");
}

/* When the private key cannot be written, no public key is left behind. */
Test(key, generate_leaves_nothing_on_failure)
{
	const char *priv = tpath("no-such-dir/k.key"), *pub = tpath("k.pub");
	char id[OTA_KEY_ID_LEN + 1];

	cr_assert_eq(ota_key_generate_file(id, "ecdsa-p256", priv, pub),
		     OTA_EOUTPUT, "%s", ota_error_message());
	cr_assert_eq(access(pub, F_OK), -1, "public key left behind");
	cr_assert_eq(access(priv, F_OK), -1);
}

Test(key, generate_refuses_unknown_types)
{
	static const char *const bad[] = { "rsa-1024", "ecdsa-p521", "",
					   "ED25519", "ecdsa" };
	const char *priv = tpath("k.key"), *pub = tpath("k.pub");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char id[OTA_KEY_ID_LEN + 1];

		cr_assert_eq(ota_key_generate_file(id, bad[i], priv, pub),
			     OTA_EUSAGE, "\"%s\"", bad[i]);
		must_contain(ota_error_message(), OTA_KEY_TYPES);
		cr_assert_eq(access(priv, F_OK), -1);
		cr_assert_eq(access(pub, F_OK), -1);
	}
}
