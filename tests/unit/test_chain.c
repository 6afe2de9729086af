/*
 * Unit tests for src/lib/chain.c: hierarchies generated at test time, each
 * refusal checked for its reason, culprit and message; the report and its
 * JSON; the readers; and agreement with `openssl verify` on the same files.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "chain_priv.h"
#include "otatool/chain.h"
#include "otatool/error.h"
#include "otatool/trust.h"

#include "chain_fixtures.h"
#include "key_priv.h"
#include "tmpdir.h"

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "chain");
	ota_error_clear();
}

static void teardown(void)
{
	fx_release();
	if (tmpdir[0])
		tmpdir_remove(tmpdir);
}

TestSuite(chain, .init = setup, .fini = teardown);
TestSuite(chain_read, .init = setup, .fini = teardown);
TestSuite(chain_openssl, .init = setup, .fini = teardown);

/* ---- Helpers ---------------------------------------------------------- */

static struct ota_chain_input input(X509 *signer, cert_stack *inter,
				    cert_stack *anchors)
{
	struct ota_chain_input in;

	memset(&in, 0, sizeof(in));
	in.signer = signer;
	in.intermediates = inter;
	in.anchors = anchors;
	in.at = T_CHECK;
	return in;
}

/* signer + intermediate, anchored at the root. */
static struct ota_chain_input pki_input(const struct fx_pki *p)
{
	return input(p->signer, fx_stack(p->inter, NULL),
		     fx_stack(p->root, NULL));
}

static void expect_trusted(struct ota_chain_report *r,
			   const struct ota_chain_input *in, size_t n_certs)
{
	int rc = ota_chain_check(r, in);

	cr_assert_eq(rc, 0, "rc %d (%s): %s", rc,
		     ota_chain_reason_name(r->reason), r->message);
	cr_assert_eq(r->reason, OTA_CHAIN_OK);
	cr_assert_eq(r->fail_depth, -1);
	cr_assert_str_eq(r->message, "");
	cr_assert_eq(r->n_certs, n_certs, "%zu certificates, want %zu",
		     r->n_certs, n_certs);
	cr_assert(r->certs[n_certs - 1].trusted, "the last is not trusted");
}

static void expect_refused(struct ota_chain_report *r,
			   const struct ota_chain_input *in,
			   enum ota_chain_reason reason, int depth,
			   const char *fragment)
{
	int rc = ota_chain_check(r, in);

	cr_assert_eq(rc, OTA_EUNTRUSTED, "rc %d (%s): %s", rc,
		     ota_error_message(), r->message);
	cr_assert_eq(r->reason, reason, "reason %s, want %s: %s",
		     ota_chain_reason_name(r->reason),
		     ota_chain_reason_name(reason), r->message);
	cr_assert_eq(r->fail_depth, depth, "fail_depth %d, want %d: %s",
		     r->fail_depth, depth, r->message);
	cr_assert_lt((size_t)depth, r->n_certs,
		     "the culprit (depth %d) is not in the report (%zu)", depth,
		     r->n_certs);
	cr_assert_not_null(strstr(r->message, fragment),
			   "message lacks \"%s\": %s", fragment, r->message);
	/* The same message is the recorded error, exactly once. */
	cr_assert_str_eq(ota_error_message(), r->message);
	cr_assert_eq(ota_error_code(), OTA_EUNTRUSTED);
}

/* SHA-256 of the DER, computed here without the library. */
static void fingerprint(char out[65], X509 *x)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len = i2d_X509(x, &der);

	cr_assert_gt(len, 0);
	cr_assert(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL));
	cr_assert_eq(mdlen, 32);
	OPENSSL_free(der);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void write_pem(const char *path, const char *preamble,
		      X509 *const *certs, size_t n)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (preamble)
		fputs(preamble, f);
	for (size_t i = 0; i < n; i++)
		cr_assert(PEM_write_X509(f, certs[i]));
	cr_assert_eq(fclose(f), 0);
}

static void write_der(const char *path, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);

	cr_assert_gt(len, 0);
	write_bytes(path, der, (size_t)len);
	OPENSSL_free(der);
}

static void write_crl_pem(const char *path, X509_CRL *crl)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert(PEM_write_X509_CRL(f, crl));
	cr_assert_eq(fclose(f), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_not_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void expect_input_error(int rc, const char *path, const char *fragment)
{
	cr_assert_eq(rc, OTA_EINPUT, "rc %d: %s", rc, ota_error_message());
	cr_assert_not_null(strstr(ota_error_message(), path),
			   "message does not name %s: %s", path,
			   ota_error_message());
	cr_assert_not_null(strstr(ota_error_message(), fragment),
			   "message lacks \"%s\": %s", fragment,
			   ota_error_message());
}

/* ---- Valid chains and the report -------------------------------------- */

Test(chain, valid_two_level_chain)
{
	struct ota_chain_report r;
	struct fx_pki p;
	char fp[65];

	fx_pki(&p);
	struct ota_chain_input in = pki_input(&p);
	expect_trusted(&r, &in, 3);

	X509 *want[3] = { p.signer, p.inter, p.root };
	for (size_t i = 0; i < 3; i++) {
		fingerprint(fp, want[i]);
		cr_assert_str_eq(r.certs[i].fingerprint, fp, "certificate %zu",
				 i);
	}
	cr_assert_str_eq(r.certs[0].subject, "CN=fw-signer");
	cr_assert_str_eq(r.certs[0].issuer, "CN=Acme Intermediate");
	cr_assert_str_eq(r.certs[1].subject, "CN=Acme Intermediate");
	cr_assert_str_eq(r.certs[2].subject, "CN=Acme Root CA");
	cr_assert_str_eq(r.certs[2].issuer, "CN=Acme Root CA");
	cr_assert_str_eq(r.certs[0].serial, "1A");
	cr_assert_str_eq(r.certs[0].not_before, "2026-01-01T00:00:00Z");
	cr_assert_str_eq(r.certs[0].not_after, "2027-01-01T00:00:00Z");
	cr_assert_str_eq(r.certs[2].not_after, "2040-01-01T00:00:00Z");
	cr_assert_str_eq(r.certs[0].key, "EC P-256");
	cr_assert(!r.certs[0].trusted);
	cr_assert(!r.certs[1].trusted);
	cr_assert(r.certs[2].trusted);
}

Test(chain, valid_three_level_chain_intermediates_in_any_order)
{
	struct ota_chain_report r;
	EVP_PKEY *rk = fx_key("P-384"), *pk = fx_key("P-256"),
		 *ik = fx_key("P-256"), *sk = fx_key("P-256");
	X509 *root = fx_cert(&FX_ROOT, rk, NULL, NULL);
	X509 *policy = fx_cert(&FX_POLICY_CA, pk, root, rk);
	X509 *inter = fx_cert(&FX_INTER, ik, policy, pk);
	X509 *signer = fx_cert(&FX_SIGNER, sk, inter, ik);
	char fp[65];

	/* Given top-down: the builder must sort them out. */
	struct ota_chain_input in =
	    input(signer, fx_stack(policy, inter, NULL), fx_stack(root, NULL));
	expect_trusted(&r, &in, 4);
	X509 *want[4] = { signer, inter, policy, root };
	for (size_t i = 0; i < 4; i++) {
		fingerprint(fp, want[i]);
		cr_assert_str_eq(r.certs[i].fingerprint, fp, "certificate %zu",
				 i);
	}
	cr_assert_str_eq(r.certs[2].subject, "CN=Acme Policy CA");
	cr_assert_str_eq(r.certs[3].key, "EC P-384");
	cr_assert(r.certs[3].trusted && !r.certs[2].trusted);
}

Test(chain, intermediate_as_the_only_anchor)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	struct ota_chain_input in =
	    input(p.signer, NULL, fx_stack(p.inter, NULL));
	expect_trusted(&r, &in, 2);
	cr_assert_str_eq(r.certs[1].subject, "CN=Acme Intermediate");
	cr_assert(!r.certs[0].trusted);
}

Test(chain, whole_bundle_as_intermediates_and_duplicate_anchors)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	/* What `--chain bundle.pem` often holds: signer, CA and root. */
	struct ota_chain_input in =
	    input(p.signer, fx_stack(p.signer, p.root, p.inter, NULL),
		  fx_stack(p.root, p.root, NULL));
	expect_trusted(&r, &in, 3);
	cr_assert_str_eq(r.certs[2].subject, "CN=Acme Root CA");
}

/* root, then n CAs each issued by the one before, then the signer. */
static struct ota_chain_input deep_chain(int n)
{
	struct fx_spec ca = FX_INTER;
	EVP_PKEY *key = fx_key("P-256"), *next;
	X509 *issuer = fx_cert(&FX_ROOT, key, NULL, NULL), *x;
	cert_stack *inter = fx_stack(NULL);
	cert_stack *anchors = fx_stack(issuer, NULL);
	char cn[32];

	ca.bc = "critical,CA:TRUE";
	for (int i = 0; i < n; i++) {
		snprintf(cn, sizeof(cn), "Acme CA %d", i + 1);
		ca.cn = cn;
		ca.serial = 100 + i;
		next = fx_key("P-256");
		x = fx_cert(&ca, next, issuer, key);
		cr_assert(sk_X509_push(inter, x));
		issuer = x;
		key = next;
	}
	x = fx_cert(&FX_SIGNER, fx_key("P-256"), issuer, key);
	return input(x, inter, anchors);
}

Test(chain, depth_is_bounded)
{
	struct ota_chain_report r;
	struct ota_chain_input in = deep_chain(OTA_CHAIN_MAX_DEPTH);

	expect_trusted(&r, &in, OTA_CHAIN_MAX_DEPTH + 2);
	cr_assert_str_eq(r.certs[1].subject, "CN=Acme CA 8");

	in = deep_chain(OTA_CHAIN_MAX_DEPTH + 1);
	expect_refused(&r, &in, OTA_CHAIN_INVALID, OTA_CHAIN_MAX_DEPTH + 1,
		       "is longer than 8 intermediates");
}

/* The public JSON text, read back as a document to look into. */
static json_t *report_doc(const struct ota_chain_report *r)
{
	char *text = NULL;
	size_t len = 0;
	json_t *j;

	cr_assert_eq(ota_chain_report_to_json(&text, &len, r), 0, "%s",
		     ota_error_message());
	cr_assert_eq(strlen(text), len);
	cr_assert_eq(text[len - 1], '\n', "canonical text ends a line");
	j = json_loads(text, 0, NULL);
	free(text);
	return j;
}

Test(chain, report_json)
{
	struct ota_chain_report r;
	struct fx_pki p;
	char fp[65];
	json_t *js, *certs, *c;

	fx_pki(&p);
	struct ota_chain_input in = pki_input(&p);
	expect_trusted(&r, &in, 3);
	js = report_doc(&r);
	cr_assert_not_null(js);
	cr_assert(json_is_true(json_object_get(js, "trusted")));
	cr_assert_str_eq(json_string_value(json_object_get(js, "reason")),
			 "ok");
	cr_assert(json_is_null(json_object_get(js, "fail_depth")));
	certs = json_object_get(js, "certificates");
	cr_assert_eq(json_array_size(certs), 3);
	c = json_array_get(certs, 0);
	cr_assert_str_eq(json_string_value(json_object_get(c, "subject")),
			 "CN=fw-signer");
	cr_assert_str_eq(json_string_value(json_object_get(c, "serial")), "1A");
	cr_assert_str_eq(json_string_value(json_object_get(c, "not_after")),
			 "2027-01-01T00:00:00Z");
	cr_assert_str_eq(json_string_value(json_object_get(c, "key")),
			 "EC P-256");
	fingerprint(fp, p.signer);
	cr_assert_str_eq(json_string_value(json_object_get(c, "sha256")), fp);
	cr_assert(json_is_false(json_object_get(c, "trusted")));
	c = json_array_get(certs, 2);
	cr_assert(json_is_true(json_object_get(c, "trusted")));
	cr_assert_eq(json_integer_value(json_object_get(c, "depth")), 2);
	json_decref(js);

	/* A refusal: trusted false, with its reason, culprit and message. */
	in.at = T_2027 + 86400; /* only the signer has expired */
	cr_assert_eq(ota_chain_check(&r, &in), OTA_EUNTRUSTED);
	js = report_doc(&r);
	cr_assert_not_null(js);
	cr_assert(json_is_false(json_object_get(js, "trusted")));
	cr_assert_str_eq(json_string_value(json_object_get(js, "reason")),
			 "expired");
	cr_assert_eq(json_integer_value(json_object_get(js, "fail_depth")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(js, "message")),
			 r.message);
	json_decref(js);
}

Test(chain, reason_names_are_stable)
{
	static const char *const names[] = {
		[OTA_CHAIN_OK] = "ok",
		[OTA_CHAIN_EXPIRED] = "expired",
		[OTA_CHAIN_NOT_YET_VALID] = "not-yet-valid",
		[OTA_CHAIN_NO_CODE_SIGNING] = "no-code-signing",
		[OTA_CHAIN_NO_DIGITAL_SIGNATURE] = "no-digital-signature",
		[OTA_CHAIN_NOT_CA] = "not-ca",
		[OTA_CHAIN_NO_KEY_CERT_SIGN] = "no-key-cert-sign",
		[OTA_CHAIN_PATH_LENGTH] = "path-length",
		[OTA_CHAIN_UNKNOWN_ISSUER] = "unknown-issuer",
		[OTA_CHAIN_UNTRUSTED_ROOT] = "untrusted-root",
		[OTA_CHAIN_REVOKED] = "revoked",
		[OTA_CHAIN_CRL_MISSING] = "crl-missing",
		[OTA_CHAIN_CRL_INVALID] = "crl-invalid",
		[OTA_CHAIN_WEAK_ALGORITHM] = "weak-algorithm",
		[OTA_CHAIN_SELF_SIGNED_LEAF] = "self-signed-leaf",
		[OTA_CHAIN_KEY_MISMATCH] = "key-mismatch",
		[OTA_CHAIN_BAD_SIGNATURE] = "bad-signature",
		[OTA_CHAIN_INVALID] = "invalid",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_str_eq(
		    ota_chain_reason_name((enum ota_chain_reason)i), names[i]);
}

Test(chain, no_signer_is_an_input_error_never_trusted)
{
	struct ota_chain_report r;
	struct ota_chain_input in = input(NULL, NULL, NULL);

	cr_assert_eq(ota_chain_check(&r, &in), OTA_EINPUT);
	cr_assert_neq(r.reason, OTA_CHAIN_OK);
	cr_assert_str_eq(r.message, ota_error_message());
}

/* ---- Validity periods ------------------------------------------------- */

Test(chain, expired_signer)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.not_before = T_2021;
	s.not_after = T_2026;
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_EXPIRED, 0,
		       "certificate \"CN=fw-signer\" (depth 0) expired at "
		       "2026-01-01T00:00:00Z (checked at "
		       "2026-11-24T09:00:00Z)");
	cr_assert_eq(r.n_certs, 3, "the report holds the whole chain");

	/* The same chain at a time when the signer was still valid. */
	in.at = T_2025_06;
	expect_trusted(&r, &in, 3);
}

Test(chain, not_yet_valid_signer)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.not_before = T_2027;
	s.not_after = T_2035;
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NOT_YET_VALID, 0,
		       "certificate \"CN=fw-signer\" (depth 0) is not valid "
		       "before 2027-01-01T00:00:00Z (checked at "
		       "2026-11-24T09:00:00Z)");
}

Test(chain, expired_intermediate)
{
	struct fx_spec i = FX_INTER;
	struct ota_chain_report r;
	struct fx_pki p;

	i.not_after = T_2026_10;
	fx_pki_with(&p, &i, &FX_SIGNER);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_EXPIRED, 1,
		       "certificate \"CN=Acme Intermediate\" (depth 1) expired "
		       "at 2026-10-01T00:00:00Z");
	in.at = T_2026_10 - 86400;
	expect_trusted(&r, &in, 3);
}

/* ---- Key usages ------------------------------------------------------- */

Test(chain, signer_without_extended_key_usage)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.eku = NULL;
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_CODE_SIGNING, 0,
		       "certificate \"CN=fw-signer\" (depth 0) has no "
		       "extendedKeyUsage extension");
}

Test(chain, signer_with_only_server_auth)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.eku = "serverAuth";
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_CODE_SIGNING, 0,
		       "extendedKeyUsage (serverAuth) lacks codeSigning");
}

Test(chain, signer_without_digital_signature)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.ku = "critical,keyEncipherment";
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_DIGITAL_SIGNATURE, 0,
		       "certificate \"CN=fw-signer\" (depth 0) keyUsage "
		       "(keyEncipherment) lacks digitalSignature");
}

Test(chain, signer_without_key_usage)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.ku = NULL;
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_DIGITAL_SIGNATURE, 0,
		       "has no keyUsage extension");
}

Test(chain, intermediate_with_ca_false)
{
	struct fx_spec i = FX_INTER;
	struct ota_chain_report r;
	struct fx_pki p;

	i.bc = "critical,CA:FALSE";
	i.ku = "critical,digitalSignature";
	fx_pki_with(&p, &i, &FX_SIGNER);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NOT_CA, 1,
		       "certificate \"CN=Acme Intermediate\" (depth 1) is not "
		       "a CA (basicConstraints CA:FALSE)");
}

Test(chain, intermediate_without_key_cert_sign)
{
	struct fx_spec i = FX_INTER;
	struct ota_chain_report r;
	struct fx_pki p;

	i.bc = "critical,CA:TRUE";
	i.ku = "critical,digitalSignature,cRLSign";
	fx_pki_with(&p, &i, &FX_SIGNER);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_KEY_CERT_SIGN, 1,
		       "certificate \"CN=Acme Intermediate\" (depth 1) may not "
		       "sign certificates: its keyUsage (digitalSignature, "
		       "cRLSign) lacks keyCertSign");
}

Test(chain, intermediate_eku_must_allow_code_signing)
{
	struct fx_spec i = FX_INTER;
	struct ota_chain_report r;
	struct fx_pki p;

	i.eku = "serverAuth,clientAuth";
	fx_pki_with(&p, &i, &FX_SIGNER);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_NO_CODE_SIGNING, 1,
		       "CA certificate \"CN=Acme Intermediate\" (depth 1) "
		       "restricts extendedKeyUsage to serverAuth, clientAuth");
}

Test(chain, intermediate_eku_with_code_signing_or_any_is_fine)
{
	const char *ekus[] = { "codeSigning", "anyExtendedKeyUsage" };

	for (size_t k = 0; k < 2; k++) {
		struct fx_spec i = FX_INTER;
		struct ota_chain_report r;
		struct fx_pki p;

		i.eku = ekus[k];
		fx_pki_with(&p, &i, &FX_SIGNER);
		struct ota_chain_input in = pki_input(&p);
		expect_trusted(&r, &in, 3);
	}
}

/* ---- Path length ------------------------------------------------------ */

Test(chain, root_path_length_exceeded)
{
	struct fx_spec root = FX_ROOT;
	struct ota_chain_report r;
	EVP_PKEY *rk = fx_key("P-256"), *pk = fx_key("P-256"),
		 *ik = fx_key("P-256"), *sk = fx_key("P-256");

	root.bc = "critical,CA:TRUE,pathlen:0";
	X509 *rc = fx_cert(&root, rk, NULL, NULL);
	X509 *policy = fx_cert(&FX_POLICY_CA, pk, rc, rk);
	X509 *inter = fx_cert(&FX_INTER, ik, policy, pk);
	X509 *signer = fx_cert(&FX_SIGNER, sk, inter, ik);

	struct ota_chain_input in =
	    input(signer, fx_stack(inter, policy, NULL), fx_stack(rc, NULL));
	expect_refused(&r, &in, OTA_CHAIN_PATH_LENGTH, 3,
		       "certificate \"CN=Acme Root CA\" (depth 3) allows at "
		       "most 0 intermediate CA(s) below it (pathLenConstraint "
		       "0), but the chain has 2");
	cr_assert_eq(r.n_certs, 4);
}

Test(chain, intermediate_path_length_exceeded)
{
	struct fx_spec sub = FX_INTER;
	struct ota_chain_report r;
	struct fx_pki p;
	EVP_PKEY *subk = fx_key("P-256"), *sk = fx_key("P-256");

	fx_pki_cas(&p); /* the intermediate has pathlen:0 */
	sub.cn = "Acme Sub CA";
	sub.bc = "critical,CA:TRUE";
	sub.serial = 7;
	X509 *subca = fx_cert(&sub, subk, p.inter, p.inter_key);
	X509 *signer = fx_cert(&FX_SIGNER, sk, subca, subk);

	struct ota_chain_input in = input(
	    signer, fx_stack(subca, p.inter, NULL), fx_stack(p.root, NULL));
	expect_refused(&r, &in, OTA_CHAIN_PATH_LENGTH, 2,
		       "certificate \"CN=Acme Intermediate\" (depth 2) allows "
		       "at most 0 intermediate CA(s) below it "
		       "(pathLenConstraint 0), but the chain has 1");
}

/* ---- Finding issuers and anchors -------------------------------------- */

Test(chain, unknown_root)
{
	struct fx_spec other = FX_ROOT;
	struct ota_chain_report r;
	struct fx_pki p;
	EVP_PKEY *ok = fx_key("P-256");

	fx_pki(&p);
	other.cn = "Other Root CA";
	X509 *other_root = fx_cert(&other, ok, NULL, NULL);
	X509 *foreign = fx_cert(&FX_INTER, p.inter_key, other_root, ok);
	X509 *signer = fx_cert(&FX_SIGNER, p.signer_key, foreign, p.inter_key);

	struct ota_chain_input in =
	    input(signer, fx_stack(foreign, NULL), fx_stack(p.root, NULL));
	expect_refused(&r, &in, OTA_CHAIN_UNKNOWN_ISSUER, 1,
		       "no issuer \"CN=Other Root CA\" found for certificate "
		       "\"CN=Acme Intermediate\" (depth 1)");
	cr_assert_eq(r.n_certs, 2, "the chain as far as it got");
	cr_assert(!r.certs[1].trusted);

	/* The foreign root handed over as an intermediate is not trust. */
	in.intermediates = fx_stack(foreign, other_root, NULL);
	expect_refused(&r, &in, OTA_CHAIN_UNTRUSTED_ROOT, 2,
		       "chain ends at root \"CN=Other Root CA\" (depth 2), "
		       "which is not a trust anchor");
}

Test(chain, missing_intermediate)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	struct ota_chain_input in =
	    input(p.signer, NULL, fx_stack(p.root, NULL));
	expect_refused(&r, &in, OTA_CHAIN_UNKNOWN_ISSUER, 0,
		       "no issuer \"CN=Acme Intermediate\" found for "
		       "certificate \"CN=fw-signer\" (depth 0)");
	cr_assert_eq(r.n_certs, 1);
	cr_assert_str_eq(r.certs[0].subject, "CN=fw-signer");
}

Test(chain, no_anchors_at_all)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	struct ota_chain_input in =
	    input(p.signer, fx_stack(p.inter, NULL), NULL);
	expect_refused(&r, &in, OTA_CHAIN_UNKNOWN_ISSUER, 1,
		       "(no trust anchors were given)");
}

Test(chain, issuer_subject_name_mismatch)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki_cas(&p);
	s.issuer_cn = "Acme Intermediate 2";
	fx_pki_signer(&p, &s, "P-256");
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_UNKNOWN_ISSUER, 0,
		       "no issuer \"CN=Acme Intermediate 2\" found for "
		       "certificate \"CN=fw-signer\" (depth 0)");
}

Test(chain, bad_signature)
{
	struct ota_chain_report r;
	struct fx_pki p;
	EVP_PKEY *forger = fx_key("P-256");

	fx_pki_cas(&p);
	p.signer_key = fx_key("P-256");
	/* Names and key identifiers say "Acme Intermediate"; the key does
	 * not. */
	p.signer = fx_cert(&FX_SIGNER, p.signer_key, p.inter, forger);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_BAD_SIGNATURE, 0,
		       "certificate \"CN=fw-signer\" (depth 0) has an invalid "
		       "signature");
}

Test(chain, self_signed_signer)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki_cas(&p);
	s.cn = "fw-selfsigned";
	p.signer_key = fx_key("P-256");
	X509 *self = fx_cert(&s, p.signer_key, NULL, NULL);

	/* Even when it is itself a trust anchor. */
	struct ota_chain_input in = input(self, NULL, fx_stack(self, NULL));
	expect_refused(&r, &in, OTA_CHAIN_SELF_SIGNED_LEAF, 0,
		       "certificate \"CN=fw-selfsigned\" (depth 0) is "
		       "self-signed");
	in = input(self, fx_stack(p.inter, NULL), fx_stack(p.root, NULL));
	expect_refused(&r, &in, OTA_CHAIN_SELF_SIGNED_LEAF, 0, "self-signed");
}

Test(chain, signing_key_must_match)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	struct ota_chain_input in = pki_input(&p);
	in.signing_key = p.signer_key;
	expect_trusted(&r, &in, 3);

	in.signing_key = fx_key("P-256");
	expect_refused(&r, &in, OTA_CHAIN_KEY_MISMATCH, 0,
		       "the signing key does not match certificate "
		       "\"CN=fw-signer\" (depth 0): both are EC P-256");
	in.signing_key = fx_key("P-384");
	expect_refused(&r, &in, OTA_CHAIN_KEY_MISMATCH, 0,
		       "the signing key (EC P-384) does not match certificate "
		       "\"CN=fw-signer\" (depth 0), whose key is EC P-256");
}

/* ---- Revocation ------------------------------------------------------- */

static const long SIGNER_SERIAL[] = { 0x1A };
static const long INTER_SERIAL[] = { 2 };

Test(chain, revoked_signer)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	X509_CRL *crl = fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12,
			       SIGNER_SERIAL, 1);
	struct ota_chain_input in = pki_input(&p);
	in.crls = fx_crls(crl, NULL);
	expect_refused(&r, &in, OTA_CHAIN_REVOKED, 0,
		       "certificate \"CN=fw-signer\" (depth 0) is revoked by "
		       "the CRL of \"CN=Acme Intermediate\" (serial 1A, since "
		       "2026-01-01T00:00:00Z)");
	cr_assert_eq(r.n_certs, 3);
}

/*
 * Packages are checked at their signing time; a CRL issued after it is
 * still applied (a later revocation counts), and a clean one passes.
 */
Test(chain, crl_newer_than_the_check_time)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	X509_CRL *revoking =
	    fx_crl(p.inter, p.inter_key, T_2026_12, T_2027, SIGNER_SERIAL, 1);
	X509_CRL *clean =
	    fx_crl(p.inter, p.inter_key, T_2026_12, T_2027, NULL, 0);
	struct ota_chain_input in = pki_input(&p);

	in.at = T_2026_11; /* signed before both CRLs were issued */
	in.crls = fx_crls(clean, NULL);
	expect_trusted(&r, &in, 3);
	in.crls = fx_crls(revoking, NULL);
	expect_refused(&r, &in, OTA_CHAIN_REVOKED, 0, "is revoked");
}

Test(chain, revoked_intermediate)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	X509_CRL *root_crl =
	    fx_crl(p.root, p.root_key, T_2026_11, T_2026_12, INTER_SERIAL, 1);
	X509_CRL *inter_crl =
	    fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12, NULL, 0);
	struct ota_chain_input in = pki_input(&p);
	in.crls = fx_crls(inter_crl, root_crl, NULL);
	expect_refused(&r, &in, OTA_CHAIN_REVOKED, 1,
		       "certificate \"CN=Acme Intermediate\" (depth 1) is "
		       "revoked by the CRL of \"CN=Acme Root CA\" (serial 02");
}

Test(chain, crls_not_required_tolerate_a_missing_one)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	/* Only the intermediate's CRL: the root's is not demanded. */
	X509_CRL *inter_crl =
	    fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12, NULL, 0);
	struct ota_chain_input in = pki_input(&p);
	in.crls = fx_crls(inter_crl, NULL);
	expect_trusted(&r, &in, 3);
}

Test(chain, crl_required_and_missing)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	X509_CRL *root_crl =
	    fx_crl(p.root, p.root_key, T_2026_11, T_2026_12, NULL, 0);
	X509_CRL *inter_crl =
	    fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12, NULL, 0);
	struct ota_chain_input in = pki_input(&p);
	in.crl_required = true;
	in.crls = fx_crls(root_crl, NULL);
	expect_refused(&r, &in, OTA_CHAIN_CRL_MISSING, 0,
		       "no CRL from \"CN=Acme Intermediate\" for certificate "
		       "\"CN=fw-signer\" (depth 0), and CRLs are required");

	in.crls = NULL;
	expect_refused(&r, &in, OTA_CHAIN_CRL_MISSING, 0,
		       "no CRL from \"CN=Acme Intermediate\"");

	in.crls = fx_crls(inter_crl, NULL);
	expect_refused(&r, &in, OTA_CHAIN_CRL_MISSING, 1,
		       "no CRL from \"CN=Acme Root CA\" for certificate "
		       "\"CN=Acme Intermediate\" (depth 1)");

	/* Both CRLs: the root itself needs none. */
	in.crls = fx_crls(inter_crl, root_crl, NULL);
	expect_trusted(&r, &in, 3);
}

Test(chain, expired_crl)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki(&p);
	X509_CRL *stale =
	    fx_crl(p.inter, p.inter_key, T_2026_10, T_2026_11, NULL, 0);
	struct ota_chain_input in = pki_input(&p);
	in.crls = fx_crls(stale, NULL);
	expect_refused(&r, &in, OTA_CHAIN_CRL_INVALID, 0,
		       "the CRL of \"CN=Acme Intermediate\", which covers "
		       "certificate \"CN=fw-signer\" (depth 0), expired at "
		       "2026-11-01T00:00:00Z");
}

/* ---- Algorithms ------------------------------------------------------- */

Test(chain, sha1_signed_signer)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;

	s.sha1 = true;
	fx_pki_with(&p, &FX_INTER, &s);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_WEAK_ALGORITHM, 0,
		       "certificate \"CN=fw-signer\" (depth 0) is signed with "
		       "ecdsa-with-SHA1: MD5 and SHA-1 signatures are refused");
	in.allow_weak = true;
	expect_trusted(&r, &in, 3);
}

Test(chain, rsa_1024_signer)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki_cas(&p);
	fx_pki_signer(&p, &FX_SIGNER, "RSA-1024");
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_WEAK_ALGORITHM, 0,
		       "certificate \"CN=fw-signer\" (depth 0) has an RSA 1024 "
		       "key: RSA keys need at least 2048 bits");
	in.allow_weak = true;
	expect_trusted(&r, &in, 3);
	cr_assert_str_eq(r.certs[0].key, "RSA 1024");
}

Test(chain, weak_curve_signer)
{
	struct ota_chain_report r;
	struct fx_pki p;

	fx_pki_cas(&p);
	fx_pki_signer(&p, &FX_SIGNER, "P-224");
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_WEAK_ALGORITHM, 0,
		       "has an EC P-224 key: only the curves P-256, P-384 and "
		       "P-521 are accepted");
	in.allow_weak = true;
	expect_trusted(&r, &in, 3);
}

Test(chain, strong_signer_keys_accepted)
{
	static const struct {
		const char *type, *desc;
	} keys[] = {
		{ "P-256", "EC P-256" },
		{ "P-384", "EC P-384" },
		{ "ED25519", "Ed25519" },
		{ "RSA-2048", "RSA 2048" },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct ota_chain_report r;
		struct fx_pki p;

		fx_pki_cas(&p);
		fx_pki_signer(&p, &FX_SIGNER, keys[i].type);
		struct ota_chain_input in = pki_input(&p);
		in.signing_key = p.signer_key;
		expect_trusted(&r, &in, 3);
		cr_assert_str_eq(r.certs[0].key, keys[i].desc);
	}
}

Test(chain, ed25519_hierarchy)
{
	struct ota_chain_report r;
	EVP_PKEY *rk = fx_key("ED25519"), *ik = fx_key("ED25519"),
		 *sk = fx_key("ED25519");
	X509 *root = fx_cert(&FX_ROOT, rk, NULL, NULL);
	X509 *inter = fx_cert(&FX_INTER, ik, root, rk);
	X509 *signer = fx_cert(&FX_SIGNER, sk, inter, ik);

	struct ota_chain_input in =
	    input(signer, fx_stack(inter, NULL), fx_stack(root, NULL));
	expect_trusted(&r, &in, 3);
	cr_assert_str_eq(r.certs[2].key, "Ed25519");
}

/* ---- Through the public API: files, lists and a trust --------------- */

Test(chain_read, cert_lists_read_count_and_append)
{
	struct ota_cert_list *list = NULL;
	char path[128];
	struct fx_pki p;

	cr_assert_eq(ota_cert_list_count(NULL), 0);
	fx_pki(&p);
	X509 *two[2] = { p.signer, p.inter };
	tmp_path(path, sizeof(path), "two.pem");
	write_pem(path, NULL, two, 2);
	cr_assert_eq(ota_cert_list_read(&list, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_cert_list_count(list), 2);
	cr_assert_eq(ota_cert_list_read(&list, path), 0);
	cr_assert_eq(ota_cert_list_count(list), 4, "a second read appends");
	cr_assert_eq(
	    X509_cmp(sk_X509_value(ota_cert_list_stack(list), 3), p.inter), 0);
	ota_cert_list_free(list);
	ota_cert_list_free(NULL);

	list = NULL;
	tmp_path(path, sizeof(path), "junk.pem");
	write_bytes(path, "junk\n", 5);
	expect_input_error(ota_cert_list_read(&list, path), path,
			   "not a PEM or DER certificate");
	cr_assert_eq(ota_cert_list_count(list), 0);
	ota_cert_list_free(list);
}

/* What `otatool chain check` does: files in, one call, a report out. */
Test(chain, trust_check_cert_from_files)
{
	struct ota_cert_list *leaf = NULL, *inter = NULL;
	struct ota_public_key *key = NULL, *other = NULL;
	char signer_pem[128], inter_pem[128], root_pem[128];
	struct ota_chain_report r;
	struct ota_trust t;
	struct fx_pki p;

	fx_pki(&p);
	tmp_path(signer_pem, sizeof(signer_pem), "signer.pem");
	tmp_path(inter_pem, sizeof(inter_pem), "inter.pem");
	tmp_path(root_pem, sizeof(root_pem), "root.pem");
	write_pem(signer_pem, NULL, &p.signer, 1);
	write_pem(inter_pem, NULL, &p.inter, 1);
	write_pem(root_pem, NULL, &p.root, 1);
	ota_trust_init(&t);
	cr_assert(!ota_trust_has_anchors(&t));
	cr_assert_eq(ota_trust_add_anchors(&t, root_pem), 0, "%s",
		     ota_error_message());
	cr_assert(ota_trust_has_anchors(&t));
	cr_assert_eq(ota_cert_list_read(&leaf, signer_pem), 0);
	cr_assert_eq(ota_cert_list_read(&inter, inter_pem), 0);

	cr_assert_eq(ota_trust_check_cert(&r, &t, leaf, inter, NULL, T_CHECK),
		     0, "%s", r.message);
	cr_assert_eq(r.n_certs, 3);
	cr_assert(r.certs[2].trusted);

	/* The signing key must be the certificate's. */
	cr_assert_eq(ota_public_key_from_pkey(&key, p.signer_key), 0);
	cr_assert_eq(ota_public_key_from_pkey(&other, fx_key("P-256")), 0);
	cr_assert_eq(ota_trust_check_cert(&r, &t, leaf, inter, key, T_CHECK), 0,
		     "%s", r.message);
	cr_assert_eq(ota_trust_check_cert(&r, &t, leaf, inter, other, T_CHECK),
		     OTA_EUNTRUSTED);
	cr_assert_eq(r.reason, OTA_CHAIN_KEY_MISMATCH);

	/* Without the intermediate, at the trust's time, without a signer. */
	cr_assert_eq(ota_trust_check_cert(&r, &t, leaf, NULL, NULL, T_CHECK),
		     OTA_EUNTRUSTED);
	cr_assert_eq(r.reason, OTA_CHAIN_UNKNOWN_ISSUER);
	cr_assert_eq(
	    ota_trust_check_cert(&r, &t, leaf, inter, NULL, T_2027 + 86400),
	    OTA_EUNTRUSTED);
	cr_assert_eq(r.reason, OTA_CHAIN_EXPIRED);
	cr_assert_eq(ota_trust_check_cert(&r, &t, NULL, inter, NULL, T_CHECK),
		     OTA_EUSAGE);

	ota_public_key_free(key);
	ota_public_key_free(other);
	ota_cert_list_free(leaf);
	ota_cert_list_free(inter);
	ota_trust_clear(&t);
}

/* ---- Readers ---------------------------------------------------------- */

Test(chain_read, pem_bundle_of_three)
{
	char path[128];
	struct fx_pki p;
	STACK_OF(X509) *certs = NULL;

	fx_pki(&p);
	X509 *all[3] = { p.signer, p.inter, p.root };
	tmp_path(path, sizeof(path), "bundle.pem");
	write_pem(path, "Bag Attributes: text before the first block\n", all,
		  3);
	cr_assert_eq(ota_chain_read_certs(&certs, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(sk_X509_num(certs), 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(X509_cmp(sk_X509_value(certs, i), all[i]), 0,
			     "certificate %d", i + 1);

	/* A second read appends. */
	cr_assert_eq(ota_chain_read_certs(&certs, path), 0);
	cr_assert_eq(sk_X509_num(certs), 6);
	sk_X509_pop_free(certs, X509_free);
}

Test(chain_read, der_file)
{
	char path[128];
	struct fx_pki p;
	STACK_OF(X509) *certs = NULL;

	fx_pki(&p);
	tmp_path(path, sizeof(path), "signer.der");
	write_der(path, p.signer);
	cr_assert_eq(ota_chain_read_certs(&certs, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(sk_X509_num(certs), 1);
	cr_assert_eq(X509_cmp(sk_X509_value(certs, 0), p.signer), 0);
	sk_X509_pop_free(certs, X509_free);

	/* A DER anchor file too. */
	certs = NULL;
	cr_assert_eq(ota_chain_read_trust(&certs, path), 0);
	cr_assert_eq(sk_X509_num(certs), 1);
	sk_X509_pop_free(certs, X509_free);
}

Test(chain_read, directory_of_anchors)
{
	char dir[128], path[192];
	struct ota_chain_report r;
	struct fx_pki p;
	STACK_OF(X509) *anchors = NULL;
	EVP_PKEY *ok = fx_key("P-256");
	struct fx_spec other = FX_ROOT;

	fx_pki(&p);
	other.cn = "Other Root CA";
	X509 *other_root = fx_cert(&other, ok, NULL, NULL);
	tmp_path(dir, sizeof(dir), "anchors");
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/root.pem", dir);
	write_pem(path, NULL, &p.root, 1);
	snprintf(path, sizeof(path), "%s/other.DER", dir);
	write_der(path, other_root);
	snprintf(path, sizeof(path), "%s/README.txt", dir);
	write_bytes(path, "not a certificate\n", 18);
	snprintf(path, sizeof(path), "%s/.hidden.pem", dir);
	write_bytes(path, "garbage\n", 8);
	/* Not recursive: a subdirectory, even named *.pem, is skipped. */
	snprintf(path, sizeof(path), "%s/nested.pem", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/nested.pem/inter.pem", dir);
	write_pem(path, NULL, &p.inter, 1);

	cr_assert_eq(ota_chain_read_trust(&anchors, dir), 0, "%s",
		     ota_error_message());
	cr_assert_eq(sk_X509_num(anchors), 2);
	/* Sorted by file name: other.DER, root.pem. */
	cr_assert_eq(X509_cmp(sk_X509_value(anchors, 0), other_root), 0);
	cr_assert_eq(X509_cmp(sk_X509_value(anchors, 1), p.root), 0);

	struct ota_chain_input in =
	    input(p.signer, fx_stack(p.inter, NULL), anchors);
	expect_trusted(&r, &in, 3);
	sk_X509_pop_free(anchors, X509_free);

	/* A bad file in the directory is named. */
	snprintf(path, sizeof(path), "%s/broken.crt", dir);
	write_bytes(path, "-----BEGIN CERTIFICATE-----\nAAAA\n", 33);
	anchors = NULL;
	expect_input_error(ota_chain_read_trust(&anchors, dir), "broken.crt",
			   "certificate 1 of the bundle is truncated");
	cr_assert_null(anchors);
}

Test(chain_read, empty_directory)
{
	char dir[128];
	STACK_OF(X509) *anchors = NULL;

	tmp_path(dir, sizeof(dir), "empty");
	cr_assert_eq(mkdir(dir, 0755), 0);
	expect_input_error(ota_chain_read_trust(&anchors, dir), dir,
			   "no certificate files");
	cr_assert_null(anchors);
}

Test(chain_read, garbage_file)
{
	char path[128];
	STACK_OF(X509) *certs = NULL;

	tmp_path(path, sizeof(path), "garbage.pem");
	write_bytes(path, "hello, not a certificate\n", 25);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "not a PEM or DER certificate");
	cr_assert_null(certs);
	expect_input_error(ota_chain_read_trust(&certs, path), path,
			   "not a PEM or DER certificate");

	/* Binary garbage that starts like DER. */
	write_bytes(path, "\x30\x03\x02\x01\x05", 5);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "garbled DER certificate");
	cr_assert_null(certs);
}

Test(chain_read, empty_and_missing_files)
{
	char path[128];
	STACK_OF(X509) *certs = NULL;

	tmp_path(path, sizeof(path), "empty.pem");
	write_bytes(path, "", 0);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "empty file");
	tmp_path(path, sizeof(path), "missing.pem");
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "cannot open");
	expect_input_error(ota_chain_read_trust(&certs, path), path,
			   "cannot open");
	cr_assert_null(certs);
}

Test(chain_read, pem_without_certificate)
{
	char path[128];
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *k = fx_key("P-256");
	FILE *f;

	tmp_path(path, sizeof(path), "key.pem");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert(PEM_write_PUBKEY(f, k));
	fclose(f);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "no PEM certificate in the file");
	cr_assert_null(certs);
}

Test(chain_read, truncated_pem)
{
	char path[128];
	struct fx_pki p;
	STACK_OF(X509) *certs = NULL;
	size_t len;
	char *text, *second;

	fx_pki(&p);
	X509 *two[2] = { p.signer, p.inter };
	tmp_path(path, sizeof(path), "bundle.pem");
	write_pem(path, NULL, two, 2);
	text = slurp(path, &len);
	second = strstr(text + 1, "-----BEGIN CERTIFICATE-----");
	cr_assert_not_null(second);

	/* Cut in the middle of the second certificate's base64. */
	write_bytes(path, text, (size_t)(second - text) + 28 + 100);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "certificate 2 of the bundle is truncated or "
			   "garbled");
	cr_assert_null(certs, "nothing is appended on error");

	/* And in the first one. */
	write_bytes(path, text, 28 + 100);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "certificate 1 of the bundle is truncated or "
			   "garbled");

	/* Garbled base64 with intact BEGIN/END lines. */
	memset(second + 28 + 40, '!', 8);
	write_bytes(path, text, len);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "certificate 2 of the bundle");
	cr_assert_null(certs);
	free(text);
}

Test(chain_read, truncated_der)
{
	char path[128];
	struct fx_pki p;
	STACK_OF(X509) *certs = NULL;
	unsigned char *der = NULL;
	int len;
	char want[64];

	fx_pki(&p);
	len = i2d_X509(p.signer, &der);
	cr_assert_gt(len, 100);
	tmp_path(path, sizeof(path), "signer.der");
	write_bytes(path, der, (size_t)len - 10);
	snprintf(want, sizeof(want), "truncated DER certificate (%d of %d",
		 len - 10, len);
	expect_input_error(ota_chain_read_certs(&certs, path), path, want);
	cr_assert_null(certs);

	/* Trailing bytes after a whole certificate are refused too. */
	unsigned char *longer = malloc((size_t)len + 4);
	cr_assert_not_null(longer);
	memcpy(longer, der, (size_t)len);
	memcpy(longer + len, "junk", 4);
	write_bytes(path, longer, (size_t)len + 4);
	expect_input_error(ota_chain_read_certs(&certs, path), path,
			   "4 bytes of garbage after the DER certificate");
	free(longer);
	OPENSSL_free(der);
}

Test(chain_read, cert_from_der)
{
	struct fx_pki p;
	unsigned char *der = NULL;
	X509 *x = NULL;
	int len;

	fx_pki(&p);
	len = i2d_X509(p.signer, &der);
	cr_assert_gt(len, 0);
	cr_assert_eq(
	    ota_chain_cert_from_der(&x, der, (size_t)len, "signature 1"), 0);
	cr_assert_eq(X509_cmp(x, p.signer), 0);
	X509_free(x);

	x = NULL;
	expect_input_error(
	    ota_chain_cert_from_der(&x, der, (size_t)len - 1, "signature 1"),
	    "signature 1", "truncated DER certificate");
	cr_assert_null(x);
	expect_input_error(ota_chain_cert_from_der(&x, der, 0, "signature 2"),
			   "signature 2", "implausible");
	OPENSSL_free(der);
}

Test(chain_read, crls_pem_and_der)
{
	char path[128];
	struct fx_pki p;
	STACK_OF(X509_CRL) *crls = NULL;
	unsigned char *der = NULL;
	FILE *f;
	int len;

	fx_pki(&p);
	X509_CRL *a = fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12,
			     SIGNER_SERIAL, 1);
	X509_CRL *b = fx_crl(p.root, p.root_key, T_2026_11, T_2026_12, NULL, 0);

	tmp_path(path, sizeof(path), "crls.pem");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert(PEM_write_X509_CRL(f, a));
	cr_assert(PEM_write_X509_CRL(f, b));
	fclose(f);
	cr_assert_eq(ota_chain_read_crls(&crls, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(sk_X509_CRL_num(crls), 2);
	cr_assert_eq(X509_CRL_cmp(sk_X509_CRL_value(crls, 0), a), 0);

	tmp_path(path, sizeof(path), "crl.der");
	len = i2d_X509_CRL(b, &der);
	cr_assert_gt(len, 0);
	write_bytes(path, der, (size_t)len);
	cr_assert_eq(ota_chain_read_crls(&crls, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(sk_X509_CRL_num(crls), 3);

	write_bytes(path, der, (size_t)len / 2);
	expect_input_error(ota_chain_read_crls(&crls, path), path,
			   "truncated DER CRL");
	cr_assert_eq(sk_X509_CRL_num(crls), 3, "unchanged on error");

	tmp_path(path, sizeof(path), "garbage.crl");
	write_bytes(path, "no CRL here\n", 12);
	expect_input_error(ota_chain_read_crls(&crls, path), path,
			   "not a PEM or DER CRL");
	OPENSSL_free(der);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
}

/* ---- Agreement with `openssl verify` ---------------------------------- */

/* Runs `openssl verify ARGS` in tmpdir; returns its exit status. */
static int openssl_verify(char *out, size_t size, const char *args)
{
	char cmd[1024], outpath[128], *text;
	int st;

	tmp_path(outpath, sizeof(outpath), "verify.out");
	snprintf(cmd, sizeof(cmd), "cd %s && openssl verify %s >%s 2>&1",
		 tmpdir, args, outpath);
	st = system(cmd);
	cr_assert(st != -1 && WIFEXITED(st), "cannot run: %s", cmd);
	cr_assert_neq(WEXITSTATUS(st), 127, "openssl is not installed");
	text = slurp(outpath, NULL);
	snprintf(out, size, "%s", text);
	free(text);
	return WEXITSTATUS(st);
}

static void write_pki(const struct fx_pki *p, X509 *anchor)
{
	char path[128];

	tmp_path(path, sizeof(path), "root.pem");
	write_pem(path, NULL, &anchor, 1);
	tmp_path(path, sizeof(path), "inter.pem");
	write_pem(path, NULL, &p->inter, 1);
	tmp_path(path, sizeof(path), "signer.pem");
	write_pem(path, NULL, &p->signer, 1);
}

Test(chain_openssl, valid_chain_agrees)
{
	struct ota_chain_report r;
	struct fx_pki p;
	char out[4096], args[256];

	fx_pki(&p);
	write_pki(&p, p.root);
	struct ota_chain_input in = pki_input(&p);
	expect_trusted(&r, &in, 3);
	snprintf(args, sizeof(args),
		 "-x509_strict -attime %lld -CAfile root.pem -untrusted "
		 "inter.pem signer.pem",
		 (long long)T_CHECK);
	cr_assert_eq(openssl_verify(out, sizeof(out), args), 0, "%s", out);
	cr_assert_not_null(strstr(out, "signer.pem: OK"), "%s", out);
}

Test(chain_openssl, expired_signer_agrees)
{
	struct fx_spec s = FX_SIGNER;
	struct ota_chain_report r;
	struct fx_pki p;
	char out[4096], args[256];

	s.not_before = T_2021;
	s.not_after = T_2026;
	fx_pki_with(&p, &FX_INTER, &s);
	write_pki(&p, p.root);
	struct ota_chain_input in = pki_input(&p);
	expect_refused(&r, &in, OTA_CHAIN_EXPIRED, 0, "expired at");
	snprintf(args, sizeof(args),
		 "-x509_strict -attime %lld -CAfile root.pem -untrusted "
		 "inter.pem signer.pem",
		 (long long)T_CHECK);
	cr_assert_neq(openssl_verify(out, sizeof(out), args), 0, "%s", out);
	cr_assert_not_null(strstr(out, "error 10 at 0 depth"), "%s", out);

	/* Both accept it at an earlier time. */
	in.at = T_2025_06;
	expect_trusted(&r, &in, 3);
	snprintf(args, sizeof(args),
		 "-x509_strict -attime %lld -CAfile root.pem -untrusted "
		 "inter.pem signer.pem",
		 (long long)T_2025_06);
	cr_assert_eq(openssl_verify(out, sizeof(out), args), 0, "%s", out);
}

Test(chain_openssl, revoked_signer_agrees)
{
	struct ota_chain_report r;
	struct fx_pki p;
	char out[4096], args[256], path[128];

	fx_pki(&p);
	X509_CRL *crl = fx_crl(p.inter, p.inter_key, T_2026_11, T_2026_12,
			       SIGNER_SERIAL, 1);
	write_pki(&p, p.root);
	tmp_path(path, sizeof(path), "crl.pem");
	write_crl_pem(path, crl);
	struct ota_chain_input in = pki_input(&p);
	in.crls = fx_crls(crl, NULL);
	expect_refused(&r, &in, OTA_CHAIN_REVOKED, 0, "is revoked by");
	snprintf(args, sizeof(args),
		 "-x509_strict -attime %lld -CAfile root.pem -untrusted "
		 "inter.pem -crl_check -CRLfile crl.pem signer.pem",
		 (long long)T_CHECK);
	cr_assert_neq(openssl_verify(out, sizeof(out), args), 0, "%s", out);
	cr_assert_not_null(strstr(out, "error 23 at 0 depth"), "%s", out);
}

Test(chain_openssl, unknown_root_agrees)
{
	struct fx_spec other = FX_ROOT;
	struct ota_chain_report r;
	struct fx_pki p;
	char out[4096], args[256];
	EVP_PKEY *ok = fx_key("P-256");

	fx_pki(&p);
	other.cn = "Other Root CA";
	X509 *other_root = fx_cert(&other, ok, NULL, NULL);
	write_pki(&p, other_root);
	struct ota_chain_input in = input(p.signer, fx_stack(p.inter, NULL),
					  fx_stack(other_root, NULL));
	expect_refused(&r, &in, OTA_CHAIN_UNKNOWN_ISSUER, 1,
		       "no issuer \"CN=Acme Root CA\"");
	snprintf(args, sizeof(args),
		 "-x509_strict -attime %lld -CAfile root.pem -untrusted "
		 "inter.pem signer.pem",
		 (long long)T_CHECK);
	cr_assert_neq(openssl_verify(out, sizeof(out), args), 0, "%s", out);
	cr_assert_not_null(strstr(out, "error 20 at 1 depth"), "%s", out);
}
