/*
 * Unit tests for src/lib/pkcs11.c against a fresh SoftHSM2 token per test:
 * generate, find, sign (checked with OpenSSL), list, and the refusals.
 */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/pkcs11.h"
#include "pkcs11_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TOKEN  "otatool-test"
#define PIN    "1234"
#define TOK    "pkcs11:token=" TOKEN

static char dir[256];
static struct ota_pkcs11 *ctx;

/*
 * SoftHSM 2.6.1 leaks an ASN1_STRING in every CKM_EDDSA C_SignInit, and
 * Criterion 2.4.1's runner leaks 48 bytes when it runs several suites with
 * --jobs 2. These hooks, read only by LeakSanitizer, suppress leaks
 * allocated inside those two libraries; the slow unwinder is needed
 * because libcrypto has no frame pointers, so the fast one never sees
 * SoftHSM's frames.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libsofthsm2.so\n"
	       "leak:libcriterion.so\n";
}

__attribute__((used)) const char *__lsan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

/* Runs a shell command built from fmt; output shows only on failure. */
__attribute__((format(printf, 1, 2))) static void run(const char *fmt, ...)
{
	char cmd[2048], full[2700];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full),
		 "(%s) >'%s/log' 2>&1 || { cat '%s/log'; "
		 "exit 1; }",
		 cmd, dir, dir);
	rc = system(full);
	cr_assert_eq(rc, 0, "command failed: %s", cmd);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char conf[PATH_MAX + 16];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/otatool-p11-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(conf, sizeof(conf), "%s/tokens", dir);
	cr_assert_eq(mkdir(conf, 0700), 0);
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", dir);
	f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"directories.tokendir = %s/tokens\n"
		"objectstore.backend = file\n"
		"log.level = ERROR\n",
		dir);
	cr_assert_eq(fclose(f), 0);
	setenv("SOFTHSM2_CONF", conf, 1);
	unsetenv("OTATOOL_PKCS11_PIN");
	run("softhsm2-util --init-token --free --label " TOKEN " --pin " PIN
	    " --so-pin 5678");
	ctx = NULL;
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	ota_pkcs11_free(ctx);
	ctx = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

/* RSA-4096 generation in SoftHSM takes a while on a slow machine. */
TestSuite(pkcs11, .init = setup, .fini = teardown, .timeout = 300);

static struct ota_pkcs11 *new_ctx(const char *module, bool from_argv)
{
	struct ota_pkcs11_opts o = { .module = module,
				     .allow_prompt = false,
				     .uri_from_argv = from_argv };
	struct ota_pkcs11 *p;

	cr_assert_eq(ota_pkcs11_new(&p, &o), 0, "%s", ota_error_message());
	return p;
}

static void keygen(const char *spec, const char *label, const char *id)
{
	run("pkcs11-tool --module " MODULE " --login --pin " PIN
	    " --keypairgen --key-type %s --label %s --id %s",
	    spec, label, id);
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

#define assert_msg_has(s)                                                      \
	cr_assert(contains(ota_error_message(), (s)),                          \
		  "message lacks \"%s\": %s", (s), ota_error_message())

/*
 * Signs msg (or its digest) with the token and verifies the result with
 * OpenSSL over the message itself: EVP_DigestVerify with the matching
 * padding, independent of how the library verified it.
 */
static void sign_and_verify(struct ota_pkcs11_key *k, enum ota_pkcs11_mech mech,
			    int nid)
{
	static const uint8_t msg[] = "firmware image 1.2.3 for board rev B";
	EVP_PKEY *pub = ota_pkcs11_key_public(k);
	const EVP_MD *md = nid == NID_sha384 ? EVP_sha384() : EVP_sha256();
	uint8_t digest[EVP_MAX_MD_SIZE], *sig = NULL;
	unsigned int dlen = 0;
	size_t siglen = 0;
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx = NULL;
	int rc;

	if (mech == OTA_PKCS11_EDDSA) {
		rc = ota_pkcs11_sign(k, mech, 0, msg, sizeof(msg), &sig,
				     &siglen);
	} else {
		cr_assert_eq(
		    EVP_Digest(msg, sizeof(msg), digest, &dlen, md, NULL), 1);
		rc = ota_pkcs11_sign(k, mech, nid, digest, dlen, &sig, &siglen);
	}
	cr_assert_eq(rc, 0, "sign (mech %d, %s): %s", mech, OBJ_nid2sn(nid),
		     ota_error_message());
	cr_assert_not_null(sig);
	cr_assert_gt(siglen, 0);

	mctx = EVP_MD_CTX_new();
	cr_assert_not_null(mctx);
	cr_assert_eq(EVP_DigestVerifyInit(mctx, &pctx,
					  mech == OTA_PKCS11_EDDSA ? NULL : md,
					  NULL, pub),
		     1);
	if (mech == OTA_PKCS11_RSA_PKCS1)
		cr_assert_gt(
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 0);
	if (mech == OTA_PKCS11_RSA_PSS) {
		cr_assert_gt(
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING),
		    0);
		cr_assert_gt(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)dlen),
			     0);
		cr_assert_gt(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md), 0);
	}
	cr_assert_eq(EVP_DigestVerify(mctx, sig, siglen, msg, sizeof(msg)), 1,
		     "signature (mech %d, %s) does not verify", mech,
		     OBJ_nid2sn(nid));
	EVP_MD_CTX_free(mctx);

	/* ECDSA comes back DER-encoded, not as raw r||s. */
	if (mech == OTA_PKCS11_ECDSA)
		cr_assert_eq(sig[0], 0x30);
	free(sig);
}

static void sign_all(struct ota_pkcs11_key *k)
{
	switch (ota_pkcs11_key_type(k)) {
	case OTA_PKCS11_KEY_EC:
		sign_and_verify(k, OTA_PKCS11_ECDSA, NID_sha256);
		sign_and_verify(k, OTA_PKCS11_ECDSA, NID_sha384);
		break;
	case OTA_PKCS11_KEY_RSA:
		sign_and_verify(k, OTA_PKCS11_RSA_PKCS1, NID_sha256);
		sign_and_verify(k, OTA_PKCS11_RSA_PKCS1, NID_sha384);
		sign_and_verify(k, OTA_PKCS11_RSA_PSS, NID_sha256);
		sign_and_verify(k, OTA_PKCS11_RSA_PSS, NID_sha384);
		break;
	case OTA_PKCS11_KEY_ED25519:
		sign_and_verify(k, OTA_PKCS11_EDDSA, 0);
		break;
	}
}

static void generate_and_use(const char *type, enum ota_pkcs11_key_type kt,
			     const char *openssl_type, int bits)
{
	char uri[256], *key_uri = NULL;
	struct ota_pkcs11_key *k;
	EVP_PKEY *pub;

	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	snprintf(uri, sizeof(uri), TOK ";object=gen-%s", type);
	cr_assert_eq(ota_pkcs11_generate(ctx, uri, type, &key_uri), 0, "%s",
		     ota_error_message());
	cr_assert_not_null(key_uri);
	cr_assert(contains(key_uri, "token=" TOKEN), "%s", key_uri);
	cr_assert(contains(key_uri, "object=gen-"), "%s", key_uri);
	cr_assert(contains(key_uri, "id=%"), "%s", key_uri);
	cr_assert(contains(key_uri, "type=private"), "%s", key_uri);

	/* A fresh context finds it by the URI generate returned. */
	ota_pkcs11_free(ctx);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, key_uri), 0, "%s: %s",
		     key_uri, ota_error_message());
	cr_assert_eq(ota_pkcs11_key_type(k), kt);
	pub = ota_pkcs11_key_public(k);
	cr_assert_not_null(pub);
	cr_assert(EVP_PKEY_is_a(pub, openssl_type), "%s is a %s", type,
		  EVP_PKEY_get0_type_name(pub));
	cr_assert_eq(EVP_PKEY_get_bits(pub), bits);
	cr_assert(contains(ota_pkcs11_key_uri(k), "type=private"));
	sign_all(k);
	free(key_uri);
}

Test(pkcs11, generate_ecdsa_p256)
{
	generate_and_use("ecdsa-p256", OTA_PKCS11_KEY_EC, "EC", 256);
}

Test(pkcs11, generate_ecdsa_p384)
{
	generate_and_use("ecdsa-p384", OTA_PKCS11_KEY_EC, "EC", 384);
}

Test(pkcs11, generate_rsa_2048)
{
	generate_and_use("rsa-2048", OTA_PKCS11_KEY_RSA, "RSA", 2048);
}

Test(pkcs11, generate_rsa_3072)
{
	generate_and_use("rsa-3072", OTA_PKCS11_KEY_RSA, "RSA", 3072);
}

Test(pkcs11, generate_rsa_4096)
{
	generate_and_use("rsa-4096", OTA_PKCS11_KEY_RSA, "RSA", 4096);
}

Test(pkcs11, generate_ed25519)
{
	generate_and_use("ed25519", OTA_PKCS11_KEY_ED25519, "ED25519", 256);
}

Test(pkcs11, generate_with_given_id)
{
	char *key_uri = NULL;
	struct ota_pkcs11_key *k;

	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_generate(ctx, TOK ";object=withid;id=%ab%cd",
					 "ecdsa-p256", &key_uri),
		     0, "%s", ota_error_message());
	/* p11-kit writes percent-escapes in upper case. */
	cr_assert(contains(key_uri, "id=%AB%CD"), "%s", key_uri);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, "pkcs11:id=%ab%cd"), 0, "%s",
		     ota_error_message());
	free(key_uri);
}

Test(pkcs11, generate_refuses_existing_label_and_id)
{
	char *key_uri = NULL;

	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_generate(ctx, TOK ";object=dup;id=%01",
					 "ecdsa-p256", &key_uri),
		     0, "%s", ota_error_message());
	free(key_uri);
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=dup", "ed25519", &key_uri),
	    OTA_EKEY);
	cr_assert_null(key_uri);
	assert_msg_has("labelled 'dup'");
	cr_assert_eq(ota_pkcs11_generate(ctx, TOK ";object=other;id=%01",
					 "ecdsa-p256", &key_uri),
		     OTA_EKEY);
	assert_msg_has("id 01");
}

Test(pkcs11, generate_needs_label_and_known_type)
{
	char *key_uri = NULL;

	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_generate(ctx, TOK, "ecdsa-p256", &key_uri),
		     OTA_EUSAGE);
	assert_msg_has("object=");
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=x", "ecdsa-p521", &key_uri),
	    OTA_EUSAGE);
	assert_msg_has("ecdsa-p521");
}

/* Extracts the public key with pkcs11-tool and compares it with ours. */
static void assert_same_public(EVP_PKEY *pub, const char *id)
{
	char path[PATH_MAX];
	unsigned char der[4096];
	const unsigned char *q = der;
	EVP_PKEY *theirs;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/pub.der", dir);
	run("pkcs11-tool --module " MODULE " --read-object --type pubkey "
	    "--id %s -o '%s'",
	    id, path);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	n = fread(der, 1, sizeof(der), f);
	fclose(f);
	theirs = d2i_PUBKEY(NULL, &q, (long)n);
	cr_assert_not_null(theirs, "pkcs11-tool wrote no SPKI");
	cr_assert_eq(EVP_PKEY_eq(pub, theirs), 1, "public keys differ");
	EVP_PKEY_free(theirs);
}

Test(pkcs11, pkcs11_tool_key_found_and_used)
{
	struct ota_pkcs11_key *k, *k2;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_pkcs11_key_type(k), OTA_PKCS11_KEY_EC);
	assert_same_public(ota_pkcs11_key_public(k), "01");
	sign_all(k);

	/*
	 * The same token through the same context: one session, one login,
	 * so the second key needs no PIN source any more.
	 */
	unsetenv("OTATOOL_PKCS11_PIN");
	cr_assert_eq(
	    ota_pkcs11_find_key(&k2, ctx, "pkcs11:id=%01;type=private"), 0,
	    "%s", ota_error_message());
	sign_all(k2);
}

Test(pkcs11, pkcs11_tool_rsa_and_ed25519_keys)
{
	struct ota_pkcs11_key *k;

	keygen("rsa:2048", "R", "02");
	keygen("EC:edwards25519", "E", "03");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=R"), 0, "%s",
		     ota_error_message());
	assert_same_public(ota_pkcs11_key_public(k), "02");
	sign_all(k);
	/* pkcs11-tool names the curve "edwards25519" (PrintableString). */
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=E"), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_pkcs11_key_type(k), OTA_PKCS11_KEY_ED25519);
	sign_all(k);
}

Test(pkcs11, wrong_pin)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", "98765", 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), OTA_EKEY);
	assert_msg_has("CKR_PIN_INCORRECT");
	assert_msg_has(TOKEN);
	cr_assert(!contains(ota_error_message(), "98765"), "PIN leaked: %s",
		  ota_error_message());

	/* The context does not try the same wrong PIN again. */
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), OTA_EKEY);
	assert_msg_has("not logging in again");
}

Test(pkcs11, no_pin_source)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), OTA_EKEY);
	assert_msg_has("OTATOOL_PKCS11_PIN");
}

Test(pkcs11, pin_source_file)
{
	char path[PATH_MAX], uri[PATH_MAX + 64];
	struct ota_pkcs11_key *k;
	FILE *f;

	keygen("EC:prime256v1", "X", "01");
	snprintf(path, sizeof(path), "%s/pin.txt", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(PIN "\n", f);
	fclose(f);

	ctx = new_ctx(MODULE, true);
	snprintf(uri, sizeof(uri), TOK ";object=X?pin-source=%s", path);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, uri), 0, "%s",
		     ota_error_message());
	sign_all(k);
	ota_pkcs11_free(ctx);

	ctx = new_ctx(MODULE, true);
	snprintf(uri, sizeof(uri), TOK ";object=X?pin-source=file://%s", path);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, uri), 0, "%s",
		     ota_error_message());
	ota_pkcs11_free(ctx);

	/* A pin-source that does not exist is an error, not a fallback. */
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	snprintf(uri, sizeof(uri), TOK ";object=X?pin-source=%s.nope", path);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, uri), OTA_EINPUT);
	assert_msg_has("pin.txt.nope");
}

Test(pkcs11, pin_value_from_argv_refused)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=X?pin-value=" PIN),
	    OTA_EUSAGE);
	assert_msg_has("pin-source");
	assert_msg_has("OTATOOL_PKCS11_PIN");
	cr_assert(!contains(ota_error_message(), "=" PIN), "%s",
		  ota_error_message());
	ota_pkcs11_free(ctx);

	/* From a file (not argv) pin-value is allowed. */
	ctx = new_ctx(MODULE, false);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=X?pin-value=" PIN), 0,
	    "%s", ota_error_message());
	cr_assert(!contains(ota_pkcs11_key_uri(k), "pin"), "%s",
		  ota_pkcs11_key_uri(k));
}

Test(pkcs11, wrong_pin_value_not_in_message)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	ctx = new_ctx(MODULE, false);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=nope?pin-value=98765"),
	    OTA_EKEY);
	cr_assert(!contains(ota_error_message(), "98765"), "%s",
		  ota_error_message());
}

Test(pkcs11, unknown_token)
{
	struct ota_pkcs11_key *k;

	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, "pkcs11:token=no-such-token;object=X"),
	    OTA_EKEY);
	assert_msg_has("no token matches");
	assert_msg_has("no-such-token");
	assert_msg_has("'" TOKEN "'");
}

Test(pkcs11, unknown_object)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=Y"), OTA_EKEY);
	assert_msg_has("no object matches");
	assert_msg_has("object=Y");
}

Test(pkcs11, ambiguous_object)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "same", "01");
	keygen("EC:prime256v1", "same", "02");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=same"),
		     OTA_EKEY);
	assert_msg_has("2 private keys match");
	assert_msg_has("id=%01");
	assert_msg_has("id=%02");
	/* id= makes it unique. */
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=same;id=%02"), 0,
		     "%s", ota_error_message());
}

/* Two pairs sharing a CKA_ID: each key still gets its own public half. */
Test(pkcs11, shared_id_resolved_by_label)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	keygen("EC:prime256v1", "Y", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), 0, "%s",
		     ota_error_message());
	sign_all(k);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=Y"), 0, "%s",
		     ota_error_message());
	sign_all(k);
}

Test(pkcs11, public_key_uri_refused)
{
	struct ota_pkcs11_key *k;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X;type=public"),
		     OTA_EKEY);
	assert_msg_has("public key, not a private key");
}

Test(pkcs11, bad_uris)
{
	struct ota_pkcs11_key *k;

	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, "file:/tmp/key.pem"),
		     OTA_EUSAGE);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, "pkcs11:object=%zz"),
		     OTA_EUSAGE);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, "pkcs11:color=blue"),
		     OTA_EUSAGE);
	assert_msg_has("unknown attribute");
}

/* A key pair whose private half has CKA_SIGN false, made directly. */
static void make_nosign_key(void)
{
	static const unsigned char p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
					      0xce, 0x3d, 0x03, 0x01, 0x07 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BYTE id[] = { 0x09 };
	char label[] = "nosign";
	CK_ATTRIBUTE pub[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
		{ CKA_LABEL, label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_DERIVE, &yes, sizeof(yes) },
		{ CKA_LABEL, label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_FUNCTION_LIST *fl = p11_kit_module_load(MODULE, 0);
	CK_SLOT_ID slots[8];
	CK_ULONG nslots = 8;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE hpub, hpriv;

	cr_assert_not_null(fl);
	cr_assert_eq(p11_kit_module_initialize(fl), CKR_OK);
	cr_assert_eq(fl->C_GetSlotList(CK_TRUE, slots, &nslots), CKR_OK);
	cr_assert_geq(nslots, 1);
	cr_assert_eq(fl->C_OpenSession(slots[0],
				       CKF_SERIAL_SESSION | CKF_RW_SESSION,
				       NULL, NULL, &h),
		     CKR_OK);
	cr_assert_eq(fl->C_Login(h, CKU_USER, (CK_UTF8CHAR *)PIN, 4), CKR_OK);
	cr_assert_eq(
	    fl->C_GenerateKeyPair(h, &mech, pub, 5, priv, 6, &hpub, &hpriv),
	    CKR_OK);
	fl->C_Logout(h);
	fl->C_CloseSession(h);
	p11_kit_module_finalize(fl);
	p11_kit_module_release(fl);
}

Test(pkcs11, key_without_cka_sign_refused)
{
	struct ota_pkcs11_key *k;

	make_nosign_key();
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=nosign"),
		     OTA_EKEY);
	assert_msg_has("CKA_SIGN is false");
}

Test(pkcs11, p521_refused)
{
	struct ota_pkcs11_key *k;

	keygen("EC:secp521r1", "big", "05");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=big"), OTA_EKEY);
	assert_msg_has("unsupported curve");
	assert_msg_has("P-521");
}

Test(pkcs11, small_rsa_refused)
{
	struct ota_pkcs11_key *k;

	keygen("rsa:1024", "small", "06");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=small"),
		     OTA_EKEY);
	assert_msg_has("1024");
}

Test(pkcs11, mechanism_and_digest_checked)
{
	static const uint8_t digest[32] = { 1 };
	struct ota_pkcs11_key *k;
	uint8_t *sig = NULL;
	size_t siglen = 0;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), 0);
	cr_assert_eq(ota_pkcs11_sign(k, OTA_PKCS11_RSA_PSS, NID_sha256, digest,
				     32, &sig, &siglen),
		     OTA_EKEY);
	assert_msg_has("CKM_RSA_PKCS_PSS");
	cr_assert_eq(ota_pkcs11_sign(k, OTA_PKCS11_ECDSA, NID_sha384, digest,
				     32, &sig, &siglen),
		     OTA_EUSAGE);
	cr_assert_eq(ota_pkcs11_sign(k, OTA_PKCS11_ECDSA, NID_sha1, digest, 20,
				     &sig, &siglen),
		     OTA_EUSAGE);
	cr_assert_null(sig);
	cr_assert_eq(siglen, 0);
	/* The session is still usable after the refusals. */
	sign_all(k);
}

Test(pkcs11, missing_module)
{
	struct ota_pkcs11_key *k;

	ctx = new_ctx("/nonexistent/libnope-pkcs11.so", true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), OTA_EKEY);
	assert_msg_has("/nonexistent/libnope-pkcs11.so");
	assert_msg_has("No such file");
}

/* The list as a document to look into. */
static int list_json(json_t **j, struct ota_pkcs11 *p11, const char *uri)
{
	char *text = NULL;
	size_t len = 0;
	int rc = ota_pkcs11_list(&text, &len, p11, uri);

	*j = NULL;
	if (rc == 0) {
		cr_assert_eq(strlen(text), len);
		cr_assert_eq(text[len - 1], '\n', "canonical text ends a line");
		*j = json_loads(text, 0, NULL);
		cr_assert_not_null(*j, "%s", text);
	} else {
		cr_assert_null(text);
	}
	free(text);
	return rc;
}

Test(pkcs11, not_a_pkcs11_module)
{
	struct ota_pkcs11_key *k;
	json_t *j = NULL;

	ctx = new_ctx("/lib/x86_64-linux-gnu/libz.so.1", true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), OTA_EKEY);
	assert_msg_has("libz.so.1: not a PKCS#11 module");
	cr_assert_eq(list_json(&j, ctx, NULL), OTA_EKEY);
	cr_assert_null(j);
	ota_pkcs11_free(ctx);

	/* module-path in the URI takes precedence over the context's. */
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx,
					 TOK ";object=X?module-path="
					     "/lib/x86_64-linux-gnu/libz.so.1"),
		     OTA_EKEY);
	assert_msg_has("not a PKCS#11 module");
}

Test(pkcs11, module_from_uri_and_from_p11kit_config)
{
	struct ota_pkcs11_key *k;
	char *key_uri = NULL;

	keygen("EC:prime256v1", "X", "01");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(NULL, true);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=X?module-path=" MODULE),
	    0, "%s", ota_error_message());
	sign_all(k);
	ota_pkcs11_free(ctx);

	/* A key generated through module-path keeps it in its URI. */
	ctx = new_ctx(NULL, true);
	cr_assert_eq(ota_pkcs11_generate(ctx,
					 TOK ";object=G?module-path=" MODULE,
					 "ecdsa-p256", &key_uri),
		     0, "%s", ota_error_message());
	cr_assert(contains(key_uri, "module-path="), "%s", key_uri);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, key_uri), 0, "%s",
		     ota_error_message());
	free(key_uri);
	ota_pkcs11_free(ctx);

	/* p11-kit's configuration names SoftHSM's module "softhsm2". */
	ctx = new_ctx(NULL, true);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=X?module-name=softhsm2"),
	    0, "%s", ota_error_message());
	sign_all(k);
	cr_assert_eq(
	    ota_pkcs11_find_key(&k, ctx, TOK ";object=X?module-name=nope"),
	    OTA_EKEY);
	assert_msg_has("nope");
	ota_pkcs11_free(ctx);

	/* No module at all: every configured module is searched. */
	ctx = new_ctx(NULL, true);
	cr_assert_eq(ota_pkcs11_find_key(&k, ctx, TOK ";object=X"), 0, "%s",
		     ota_error_message());
	sign_all(k);
}

static json_t *find_object(json_t *objects, const char *cls, const char *label)
{
	size_t i;
	json_t *o;

	json_array_foreach(objects, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "class")),
			   cls) == 0 &&
		    json_object_get(o, "label") != NULL &&
		    strcmp(json_string_value(json_object_get(o, "label")),
			   label) == 0)
			return o;
	}
	return NULL;
}

Test(pkcs11, list_tokens_and_objects)
{
	json_t *j = NULL, *tok, *objs, *o;
	char *key_uri = NULL;

	keygen("EC:prime256v1", "X", "01");
	keygen("rsa:2048", "R", "02");
	setenv("OTATOOL_PKCS11_PIN", PIN, 1);
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(
	    ota_pkcs11_generate(ctx, TOK ";object=G", "ed25519", &key_uri), 0,
	    "%s", ota_error_message());
	free(key_uri);

	cr_assert_eq(list_json(&j, ctx, TOK), 0, "%s", ota_error_message());
	cr_assert_eq(json_array_size(json_object_get(j, "tokens")), 1);
	tok = json_array_get(json_object_get(j, "tokens"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(tok, "label")),
			 TOKEN);
	cr_assert_str_eq(
	    json_string_value(json_object_get(tok, "manufacturer")),
	    "SoftHSM project");
	cr_assert(json_is_integer(json_object_get(tok, "slot")));
	cr_assert(json_is_true(json_object_get(tok, "login")));
	cr_assert(contains(json_string_value(json_object_get(tok, "uri")),
			   "token=" TOKEN));
	objs = json_object_get(tok, "objects");
	cr_assert_eq(json_array_size(objs), 6, "%zu objects",
		     json_array_size(objs));

	o = find_object(objs, "private-key", "X");
	cr_assert_not_null(o);
	cr_assert_str_eq(json_string_value(json_object_get(o, "id")), "01");
	cr_assert_str_eq(json_string_value(json_object_get(o, "key_type")),
			 "ec");
	cr_assert_str_eq(json_string_value(json_object_get(o, "curve")),
			 "P-256");
	cr_assert(contains(json_string_value(json_object_get(o, "uri")),
			   "type=private"));
	o = find_object(objs, "public-key", "R");
	cr_assert_not_null(o);
	cr_assert_eq(json_integer_value(json_object_get(o, "bits")), 2048);
	o = find_object(objs, "private-key", "G");
	cr_assert_not_null(o);
	cr_assert_str_eq(json_string_value(json_object_get(o, "curve")),
			 "Ed25519");
	json_decref(j);
	ota_pkcs11_free(ctx);

	/* Without a PIN: only public objects, and "login": false. */
	unsetenv("OTATOOL_PKCS11_PIN");
	ctx = new_ctx(MODULE, true);
	cr_assert_eq(list_json(&j, ctx, NULL), 0, "%s", ota_error_message());
	tok = json_array_get(json_object_get(j, "tokens"), 0);
	cr_assert(json_is_false(json_object_get(tok, "login")));
	objs = json_object_get(tok, "objects");
	cr_assert_null(find_object(objs, "private-key", "X"));
	cr_assert_not_null(find_object(objs, "public-key", "X"));
	cr_assert_not_null(find_object(objs, "public-key", "G"));
	json_decref(j);

	/* A URI matching no token lists nothing. */
	cr_assert_eq(list_json(&j, ctx, "pkcs11:token=nope"), 0);
	cr_assert_eq(json_array_size(json_object_get(j, "tokens")), 0);
	json_decref(j);
}

Test(pkcs11, rv_names_and_uri_scheme)
{
	cr_assert_str_eq(ota_pkcs11_rv_name(0xa0), "CKR_PIN_INCORRECT");
	cr_assert_str_eq(ota_pkcs11_rv_name(CKR_PIN_LOCKED), "CKR_PIN_LOCKED");
	cr_assert_str_eq(ota_pkcs11_rv_name(CKR_USER_NOT_LOGGED_IN),
			 "CKR_USER_NOT_LOGGED_IN");
	cr_assert_str_eq(ota_pkcs11_rv_name(CKR_MECHANISM_INVALID),
			 "CKR_MECHANISM_INVALID");
	cr_assert_str_eq(ota_pkcs11_rv_name(0x12345678), "CKR_0x12345678");
	cr_assert(ota_pkcs11_is_uri("pkcs11:token=a"));
	cr_assert(ota_pkcs11_is_uri("PKCS11:"));
	cr_assert(!ota_pkcs11_is_uri("pkcs11"));
	cr_assert(!ota_pkcs11_is_uri("/path/key.pem"));
	cr_assert(!ota_pkcs11_is_uri(NULL));
	ota_pkcs11_free(NULL);
}
