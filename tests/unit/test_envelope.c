/*
 * Unit tests for src/lib/envelope.c: DSSE envelopes around canonical
 * manifests. Parsing (bare manifests and envelopes, and everything either
 * must refuse), the exact PAE bytes, serialization and round trips, and
 * signatures made with real keys that still verify after a round trip.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "key_priv.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/manifest.h"
#include "otatool/trust.h"
#include "owned.h"
#include "trusted.h"

#define COMMIT   "0123456789abcdef0123456789abcdef01234567"
#define PAE_HEAD "DSSEv1 37 application/vnd.otatool.manifest+json "

static char tmpdir[512];
static char saved_cwd[4096];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/otatool-envelope-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	cr_assert_not_null(getcwd(saved_cwd, sizeof(saved_cwd)));
	cr_assert_eq(chdir(tmpdir), 0);
	unsetenv("SOURCE_DATE_EPOCH");
}

static void teardown(void)
{
	struct dirent *e;
	DIR *d;

	release_owned();
	if (saved_cwd[0] && chdir(saved_cwd) != 0)
		cr_log_warn("cannot return to %s", saved_cwd);
	d = opendir(tmpdir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[1024];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

TestSuite(envelope, .init = setup, .fini = teardown, .timeout = 120);

/* Helpers ---------------------------------------------------------------- */

static void must_contain(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "\"%s\" not in: \"%s\"", needle,
			   hay);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (len)
		cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* The canonical manifest of a small release, as otatool manifest writes. */
static char *manifest_json(size_t *len)
{
	static const struct ota_resolve_opts no_repo = {
		.git_dir = "/nonexistent/otatool-no-repo",
	};
	static const char *const fields[][2] = {
		{ "name", "fw" },
		{ "version", "1.2.3" },
		{ "hardware", "board-a" },
		{ "image", "app:application:app.bin:0x8000" },
		{ "git-commit", COMMIT },
		{ "build-time", "2026-11-24T09:00:00Z" },
		{ "build-id", "builder" },
	};
	struct ota_manifest *m = NULL;
	char *json = NULL;

	write_file("app.bin", "hello\n", 6);
	cr_assert_eq(ota_manifest_new(&m), 0);
	own(m, release_manifest);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert_eq(
		    ota_manifest_set(m, fields[i][0], fields[i][1], "--test"),
		    0, "%s: %s", fields[i][0], ota_error_message());
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_manifest_to_json(&json, len, m), 0, "%s",
		     ota_error_message());
	cr_assert_eq(*len, strlen(json));
	must_contain(json, "\"name\": \"fw\"");
	return own(json, release_mem);
}

static char *b64(const void *data, size_t len)
{
	char *out = own(malloc(4 * ((len + 2) / 3) + 1), release_mem);

	cr_assert_not_null(out);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* A JSON envelope from its parts; sigs is the inside of the list. */
static char *envelope_text(const char *type, const char *payload,
			   const char *sigs)
{
	size_t cap = strlen(type) + strlen(payload) + strlen(sigs) + 128;
	char *out = own(malloc(cap), release_mem);

	cr_assert_not_null(out);
	snprintf(out, cap,
		 "{\"payloadType\": \"%s\", \"payload\": \"%s\", "
		 "\"signatures\": [%s]}",
		 type, payload, sigs);
	return out;
}

/* One signature object for envelope_text(). */
static char *sig_text(const char *keyid, const char *alg, const char *sig,
		      const char *extra)
{
	size_t cap =
	    strlen(keyid) + strlen(alg) + strlen(sig) + strlen(extra) + 96;
	char *out = own(malloc(cap), release_mem);

	cr_assert_not_null(out);
	snprintf(out, cap,
		 "{\"keyid\": \"%s\", \"sig\": \"%s\", \"algorithm\": "
		 "\"%s\"%s}",
		 keyid, sig, alg, extra);
	return out;
}

/* Key id number i: 64 lower-case hex digits. */
static const char *keyid_n(unsigned i)
{
	char *id = own(malloc(OTA_KEY_ID_LEN + 1), release_mem);

	cr_assert_not_null(id);
	memset(id, 'a', OTA_KEY_ID_LEN);
	snprintf(id + OTA_KEY_ID_LEN - 8, 9, "%08x", i);
	return id;
}

/* len SIZE_MAX: the text is NUL-terminated. */
static struct ota_envelope *parse_ok(const char *text, size_t len)
{
	struct ota_envelope *e = NULL;
	int rc = ota_envelope_parse(
	    &e, text, len == SIZE_MAX ? strlen(text) : len, "test.json");

	cr_assert_eq(rc, 0, "rc %d: %s", rc, ota_error_message());
	cr_assert_not_null(e);
	return own(e, release_env);
}

static void parse_fails(const char *text, size_t len, const char *why)
{
	struct ota_envelope *e = (struct ota_envelope *)1;
	int rc = ota_envelope_parse(
	    &e, text, len == SIZE_MAX ? strlen(text) : len, "test.json");

	if (rc == 0)
		own(e, release_env);
	cr_assert_eq(rc, OTA_EINPUT, "rc %d for: %.300s", rc, text);
	cr_assert_null(e);
	must_contain(ota_error_message(), "test.json");
	if (why)
		must_contain(ota_error_message(), why);
}

static char *to_json(const struct ota_envelope *e, size_t *len)
{
	char *out = NULL;

	cr_assert_eq(ota_envelope_to_json(&out, len, e), 0, "%s",
		     ota_error_message());
	cr_assert_not_null(out);
	cr_assert_eq(*len, strlen(out));
	return own(out, release_mem);
}

static uint8_t *pae_of(const struct ota_envelope *e, size_t *len)
{
	uint8_t *out = NULL;

	cr_assert_eq(ota_envelope_pae(&out, len, e), 0, "%s",
		     ota_error_message());
	cr_assert_not_null(out);
	return own(out, release_mem);
}

/* The PAE bytes built here from the DSSE specification. */
static uint8_t *expected_pae(const char *payload, size_t len, size_t *outlen)
{
	char head[128];
	int n = snprintf(head, sizeof(head), PAE_HEAD "%zu ", len);
	uint8_t *out = own(malloc((size_t)n + len + 1), release_mem);

	cr_assert_not_null(out);
	memcpy(out, head, (size_t)n);
	memcpy(out + n, payload, len);
	*outlen = (size_t)n + len;
	return out;
}

/* "P-256", "RSA-2048", "ED25519": a key file opened with ota_key_open. */
static struct ota_key *new_key(const char *type, EVP_PKEY **pkey)
{
	static const struct ota_key_opts opts = { 0 };
	EVP_PKEY *k;
	struct ota_key *key = NULL;
	char path[1024];
	BIO *b;

	if (strcmp(type, "RSA-2048") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "ED25519") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
	cr_assert_not_null(k);
	own(k, release_pkey);
	snprintf(path, sizeof(path), "%s/%s.pem", tmpdir, type);
	b = BIO_new_file(path, "wb");
	cr_assert_not_null(b);
	cr_assert_eq(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL),
		     1);
	BIO_free(b);
	cr_assert_eq(ota_key_open(&key, path, &opts), 0, "%s",
		     ota_error_message());
	if (pkey)
		*pkey = k;
	return own(key, release_key);
}

/* A self-signed certificate's DER. */
static uint8_t *cert_der(EVP_PKEY *k, const char *cn, size_t *len)
{
	X509 *x = own(X509_new(), release_x509);
	unsigned char *der = NULL;
	X509_NAME *name;
	int n;

	cr_assert_not_null(x);
	cr_assert_eq(X509_set_version(x, X509_VERSION_3), 1);
	cr_assert_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
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
	n = i2d_X509(x, &der);
	cr_assert_gt(n, 0);
	*len = (size_t)n;
	return own(der, release_ossl);
}

static void envelopes_equal(const struct ota_envelope *a,
			    const struct ota_envelope *b)
{
	cr_assert_eq(a->payload_len, b->payload_len);
	cr_assert_arr_eq(a->payload, b->payload, a->payload_len);
	cr_assert_eq(a->n_sigs, b->n_sigs);
	for (size_t i = 0; i < a->n_sigs; i++) {
		const struct ota_envelope_sig *x = &a->sigs[i],
					      *y = &b->sigs[i];

		cr_assert_str_eq(x->keyid, y->keyid, "signature %zu", i);
		cr_assert_eq(x->alg, y->alg, "signature %zu", i);
		cr_assert_eq(x->siglen, y->siglen, "signature %zu", i);
		cr_assert_arr_eq(x->sig, y->sig, x->siglen);
		cr_assert_eq(x->n_certs, y->n_certs, "signature %zu", i);
		for (size_t c = 0; c < x->n_certs; c++) {
			cr_assert_eq(x->cert_lens[c], y->cert_lens[c]);
			cr_assert_arr_eq(x->certs[c], y->certs[c],
					 x->cert_lens[c]);
		}
	}
}

/* Bare manifests ----------------------------------------------------------- */

Test(envelope, parse_bare_manifest)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len);

	cr_assert_eq(e->n_sigs, 0);
	cr_assert_eq(e->payload_len, len);
	cr_assert_arr_eq(e->payload, json, len);
	cr_assert_eq(e->payload[len], '\0');
}

Test(envelope, load_bare_manifest_and_missing_file)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = NULL;

	write_file("release.json", json, len);
	cr_assert_eq(ota_envelope_load(&e, "release.json"), 0, "%s",
		     ota_error_message());
	own(e, release_env);
	cr_assert_eq(e->payload_len, len);
	cr_assert_arr_eq(e->payload, json, len);
	e = (struct ota_envelope *)1;
	cr_assert_eq(ota_envelope_load(&e, "absent.json"), OTA_EINPUT);
	cr_assert_null(e);
	must_contain(ota_error_message(), "absent.json");
}

/* Any byte that differs from otatool's own output is refused. */
Test(envelope, bare_manifest_must_be_canonical)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *edit = own(malloc(len + 2), release_mem);

	cr_assert_not_null(edit);
	/* A space after the opening brace: still valid JSON. */
	edit[0] = '{';
	edit[1] = ' ';
	memcpy(edit + 2, json + 1, len - 1);
	parse_fails(edit, len + 1, "canonical");
	/* Without the final newline. */
	parse_fails(json, len - 1, "canonical");
	/* A space before the final newline. */
	memcpy(edit, json, len - 1);
	edit[len - 1] = ' ';
	edit[len] = '\n';
	parse_fails(edit, len + 1, "canonical");
}

Test(envelope, refuses_what_is_not_a_manifest)
{
	parse_fails("{", 1, "invalid JSON");
	parse_fails("[1, 2]", 6, "JSON object");
	parse_fails("\"text\"", 6, NULL);
	parse_fails("{\"name\": \"fw\"}\n", 15, NULL);
	parse_fails("", 0, NULL);
}

/* Envelopes: what must be refused ------------------------------------------ */

Test(envelope, refuses_non_canonical_payload)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *edit = own(malloc(len + 2), release_mem);

	cr_assert_not_null(edit);
	edit[0] = '{';
	edit[1] = ' ';
	memcpy(edit + 2, json + 1, len - 1);
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, b64(edit, len + 1), ""),
		    SIZE_MAX, NULL);
}

Test(envelope, refuses_invalid_base64)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *good = b64(json, len);
	char *nl = own(malloc(strlen(good) + 4), release_mem);
	const char *kid = keyid_n(1);
	static const char *const bad_payloads[] = {
		"!!!!", "YWJ", "YW=j", "YWJj====", "-_-_", "YWJj YWJj", "",
	};

	/* The payload with a JSON-escaped line break inside. */
	cr_assert_not_null(nl);
	memcpy(nl, good, 8);
	memcpy(nl + 8, "\\n", 2);
	strcpy(nl + 10, good + 8);
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, nl, ""), SIZE_MAX,
		    "payload");
	for (size_t i = 0; i < sizeof(bad_payloads) / sizeof(bad_payloads[0]);
	     i++)
		parse_fails(
		    envelope_text(OTA_PAYLOAD_TYPE, bad_payloads[i], ""),
		    SIZE_MAX, "payload");
	/* A good envelope, then the same with a bad sig or certificate. */
	parse_ok(envelope_text(OTA_PAYLOAD_TYPE, good,
			       sig_text(kid, "ed25519", "AQID", "")),
		 SIZE_MAX);
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, good,
				  sig_text(kid, "ed25519", "AQ*D", "")),
		    SIZE_MAX, "sig");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, good,
				  sig_text(kid, "ed25519", "", "")),
		    SIZE_MAX, "sig");
	parse_fails(
	    envelope_text(OTA_PAYLOAD_TYPE, good,
			  sig_text(kid, "ed25519", "AQID",
				   ", \"certificates\": [\"AQID\", \"A\"]")),
	    SIZE_MAX, "certificates[1]");
}

Test(envelope, refuses_unknown_keys)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *payload = b64(json, len);
	char *text = envelope_text(OTA_PAYLOAD_TYPE, payload, "");
	char *extra = own(malloc(strlen(text) + 32), release_mem);

	cr_assert_not_null(extra);
	parse_ok(text, strlen(text));
	/* {"payloadType": ... ], "colour": "blue"} */
	memcpy(extra, text, strlen(text) - 1);
	strcpy(extra + strlen(text) - 1, ", \"colour\": \"blue\"}");
	parse_fails(extra, strlen(extra), "colour");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(keyid_n(1), "ed25519", "AQID",
					   ", \"public_key\": \"AQID\"")),
		    SIZE_MAX, "public_key");
}

Test(envelope, refuses_wrong_payload_type)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *payload = b64(json, len);
	static const char *const types[] = {
		"application/json",
		"application/vnd.otatool.manifest+JSON",
		"application/vnd.in-toto+json",
		"",
	};
	char text[4096];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		parse_fails(envelope_text(types[i], payload, ""), SIZE_MAX,
			    "payloadType");
	snprintf(text, sizeof(text),
		 "{\"payloadType\": 1, \"payload\": \"%s\", "
		 "\"signatures\": []}",
		 payload);
	parse_fails(text, strlen(text), "payloadType");
}

Test(envelope, refuses_duplicate_key_ids)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *payload = b64(json, len);
	const char *a = keyid_n(1), *b = keyid_n(2);
	char sigs[1024];
	struct ota_envelope *e;
	static const uint8_t sig[] = { 1, 2, 3 };

	snprintf(sigs, sizeof(sigs), "%s, %s, %s",
		 sig_text(a, "ed25519", "AQID", ""),
		 sig_text(b, "ed25519", "AQID", ""),
		 sig_text(a, "ecdsa-p256-sha256", "BAUG", ""));
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload, sigs), SIZE_MAX,
		    "signatures[2]");

	e = parse_ok(json, len);
	cr_assert_eq(ota_envelope_add(e, a, OTA_SIG_ED25519, sig, 3), 0);
	cr_assert_eq(ota_envelope_add(e, a, OTA_SIG_ECDSA_P256_SHA256, sig, 3),
		     OTA_EINPUT);
	must_contain(ota_error_message(), a);
	cr_assert_eq(e->n_sigs, 1);
	cr_assert_eq(e->sigs[0].alg, OTA_SIG_ED25519);
}

Test(envelope, at_most_sixteen_signatures)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *payload = b64(json, len);
	char *sigs = own(calloc(1, 17 * 256), release_mem);
	struct ota_envelope *e;
	static const uint8_t sig[] = { 9, 9, 9 };

	cr_assert_not_null(sigs);
	for (unsigned i = 0; i < 16; i++) {
		if (i)
			strcat(sigs, ", ");
		strcat(sigs, sig_text(keyid_n(i), "ed25519", "AQID", ""));
	}
	e = parse_ok(envelope_text(OTA_PAYLOAD_TYPE, payload, sigs), SIZE_MAX);
	cr_assert_eq(e->n_sigs, 16);
	cr_assert_str_eq(e->sigs[15].keyid, keyid_n(15));
	cr_assert_eq(ota_envelope_add(e, keyid_n(16), OTA_SIG_ED25519, sig, 3),
		     OTA_EINPUT);
	cr_assert_eq(e->n_sigs, 16);

	strcat(sigs, ", ");
	strcat(sigs, sig_text(keyid_n(16), "ed25519", "AQID", ""));
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload, sigs), SIZE_MAX,
		    "more than 16");
}

Test(envelope, refuses_malformed_signature_entries)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	char *payload = b64(json, len);
	const char *kid = keyid_n(3);
	char upper[OTA_KEY_ID_LEN + 1], nine[2048] = ", \"certificates\": [";
	char text[8192];

	for (int i = 0; i < 9; i++)
		strcat(nine, i ? ", \"AQID\"" : "\"AQID\"");
	strcat(nine, "]");
	strcpy(upper, kid);
	upper[0] = 'A';
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(upper, "ed25519", "AQID", "")),
		    SIZE_MAX, "keyid");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(kid + 1, "ed25519", "AQID", "")),
		    SIZE_MAX, "keyid");
	parse_fails(
	    envelope_text(OTA_PAYLOAD_TYPE, payload,
			  sig_text(kid, "ecdsa-p521-sha512", "AQID", "")),
	    SIZE_MAX, "algorithm");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(kid, "ed25519", "AQID",
					   ", \"certificates\": []")),
		    SIZE_MAX, "certificates");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(kid, "ed25519", "AQID", nine)),
		    SIZE_MAX, "certificates");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload,
				  sig_text(kid, "ed25519", "AQID",
					   ", \"certificates\": [1]")),
		    SIZE_MAX, "certificates[0]");
	parse_fails(envelope_text(OTA_PAYLOAD_TYPE, payload, "\"AQID\""),
		    SIZE_MAX, "signatures[0]");
	snprintf(text, sizeof(text),
		 "{\"payloadType\": \"%s\", \"payload\": \"%s\", "
		 "\"signatures\": {}}",
		 OTA_PAYLOAD_TYPE, payload);
	parse_fails(text, strlen(text), "signatures");
	snprintf(text, sizeof(text),
		 "{\"payloadType\": \"%s\", \"payload\": \"%s\"}",
		 OTA_PAYLOAD_TYPE, payload);
	parse_fails(text, strlen(text), "signatures");
	/* A key given twice in one object is ambiguous. */
	snprintf(text, sizeof(text),
		 "{\"payloadType\": \"%s\", \"payload\": \"%s\", "
		 "\"payload\": \"%s\", \"signatures\": []}",
		 OTA_PAYLOAD_TYPE, payload, payload);
	parse_fails(text, strlen(text), NULL);
}

/* PAE ---------------------------------------------------------------------- */

Test(envelope, pae_exact_bytes)
{
	size_t len = 0, plen = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len);
	uint8_t *pae = pae_of(e, &plen);
	char head[96];
	int n = snprintf(head, sizeof(head),
			 "DSSEv1 37 application/vnd.otatool.manifest+json "
			 "%zu ",
			 len);

	cr_assert_eq(strlen(OTA_PAYLOAD_TYPE), 37);
	cr_assert_eq(plen, (size_t)n + len);
	cr_assert_arr_eq(pae, head, (size_t)n);
	cr_assert_arr_eq(pae + n, json, len);
}

/* The PAE of a hand-made envelope: no manifest needed to encode it. */
Test(envelope, pae_small_payloads)
{
	struct ota_envelope *e = own(calloc(1, sizeof(*e)), release_env);
	static const char want_empty[] = PAE_HEAD "0 ";
	static const char want_hello[] = PAE_HEAD "11 hello\nworld";
	size_t len = 0;
	uint8_t *pae;

	cr_assert_not_null(e);
	e->payload = strdup("");
	cr_assert_not_null(e->payload);
	pae = pae_of(e, &len);
	cr_assert_eq(len, sizeof(want_empty) - 1);
	cr_assert_arr_eq(pae, want_empty, len);

	free(e->payload);
	e->payload = strdup("hello\nworld");
	cr_assert_not_null(e->payload);
	e->payload_len = 11;
	pae = pae_of(e, &len);
	cr_assert_eq(len, sizeof(want_hello) - 1);
	cr_assert_arr_eq(pae, want_hello, len);
}

/* Serialization and round trips ------------------------------------------- */

Test(envelope, to_json_exact_text)
{
	size_t len = 0, tlen = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len);
	static const uint8_t sig[] = { 1, 2, 3 };
	static const uint8_t cert[] = { 0xde, 0xad, 0xbe, 0xef };
	char *want = own(malloc(len * 2 + 1024), release_mem);
	char *text;

	cr_assert_not_null(want);
	text = to_json(e, &tlen);
	sprintf(
	    want,
	    "{\n"
	    "  \"payloadType\": \"application/vnd.otatool.manifest+json\",\n"
	    "  \"payload\": \"%s\",\n"
	    "  \"signatures\": []\n"
	    "}\n",
	    b64(json, len));
	cr_assert_str_eq(text, want);

	cr_assert_eq(
	    ota_envelope_add(e, keyid_n(0xabc), OTA_SIG_ED25519, sig, 3), 0);
	cr_assert_eq(ota_envelope_add_cert(e, 0, cert, 4), 0);
	text = to_json(e, &tlen);
	sprintf(
	    want,
	    "{\n"
	    "  \"payloadType\": \"application/vnd.otatool.manifest+json\",\n"
	    "  \"payload\": \"%s\",\n"
	    "  \"signatures\": [\n"
	    "    {\n"
	    "      \"keyid\": \"%s\",\n"
	    "      \"sig\": \"AQID\",\n"
	    "      \"algorithm\": \"ed25519\",\n"
	    "      \"certificates\": [\n"
	    "        \"3q2+7w==\"\n"
	    "      ]\n"
	    "    }\n"
	    "  ]\n"
	    "}\n",
	    b64(json, len), keyid_n(0xabc));
	cr_assert_str_eq(text, want);
}

Test(envelope, add_copies_its_inputs)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len);
	uint8_t sig[4] = { 1, 2, 3, 4 }, cert[3] = { 7, 8, 9 };
	char kid[OTA_KEY_ID_LEN + 1];

	strcpy(kid, keyid_n(5));
	cr_assert_eq(ota_envelope_add(e, kid, OTA_SIG_RSA_PSS_SHA256, sig, 4),
		     0);
	cr_assert_eq(ota_envelope_add_cert(e, 0, cert, 3), 0);
	memset(sig, 0, sizeof(sig));
	memset(cert, 0, sizeof(cert));
	memset(kid, 'f', OTA_KEY_ID_LEN);
	cr_assert_str_eq(e->sigs[0].keyid, keyid_n(5));
	cr_assert_eq(e->sigs[0].alg, OTA_SIG_RSA_PSS_SHA256);
	cr_assert_eq(e->sigs[0].siglen, 4);
	cr_assert_arr_eq(e->sigs[0].sig, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	cr_assert_eq(e->sigs[0].n_certs, 1);
	cr_assert_eq(e->sigs[0].cert_lens[0], 3);
	cr_assert_arr_eq(e->sigs[0].certs[0], ((uint8_t[]){ 7, 8, 9 }), 3);
}

Test(envelope, at_most_eight_certificates_per_signature)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len);
	static const uint8_t blob[] = { 0x30, 0x00 };

	cr_assert_eq(ota_envelope_add(e, keyid_n(1), OTA_SIG_ED25519, blob, 2),
		     0);
	for (int i = 0; i < OTA_ENVELOPE_MAX_CERTS; i++)
		cr_assert_eq(ota_envelope_add_cert(e, 0, blob, 2), 0);
	cr_assert_eq(ota_envelope_add_cert(e, 0, blob, 2), OTA_EINPUT);
	cr_assert_eq(e->sigs[0].n_certs, OTA_ENVELOPE_MAX_CERTS);
}

Test(envelope, round_trip_is_byte_identical)
{
	size_t len = 0, l1 = 0, l2 = 0, l0 = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len), *back;
	uint8_t sig[300];
	char *first, *second;

	/* No signatures: the envelope of a bare manifest parses back. */
	first = to_json(e, &l0);
	back = parse_ok(first, l0);
	envelopes_equal(e, back);
	second = to_json(back, &l2);
	cr_assert_eq(l2, l0);
	cr_assert_str_eq(second, first);

	/* Signature lengths that pad base64 with 0, 1 and 2 "=". */
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(i * 13 + 5);
	cr_assert_eq(ota_envelope_add(e, keyid_n(1), OTA_SIG_ED25519, sig, 64),
		     0);
	cr_assert_eq(ota_envelope_add(e, keyid_n(2), OTA_SIG_ECDSA_P256_SHA256,
				      sig + 1, 71),
		     0);
	cr_assert_eq(ota_envelope_add(e, keyid_n(3), OTA_SIG_RSA_PKCS1_SHA256,
				      sig + 2, 256),
		     0);
	cr_assert_eq(ota_envelope_add(e, keyid_n(4), OTA_SIG_ECDSA_P384_SHA384,
				      sig + 3, 104),
		     0);
	cr_assert_eq(
	    ota_envelope_add(e, keyid_n(5), OTA_SIG_RSA_PSS_SHA256, sig, 257),
	    0);
	first = to_json(e, &l1);
	back = parse_ok(first, l1);
	envelopes_equal(e, back);
	second = to_json(back, &l2);
	cr_assert_eq(l2, l1);
	cr_assert_str_eq(second, first);

	/* And through a file. */
	write_file("signed.json", first, l1);
	back = NULL;
	cr_assert_eq(ota_envelope_load(&back, "signed.json"), 0, "%s",
		     ota_error_message());
	own(back, release_env);
	envelopes_equal(e, back);
}

Test(envelope, certificates_round_trip)
{
	size_t len = 0, l1 = 0, l2 = 0, cl[3] = { 0 };
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len), *back;
	EVP_PKEY *pk[2];
	struct ota_key *k0 = new_key("P-256", &pk[0]);
	struct ota_key *k1 = new_key("ED25519", &pk[1]);
	uint8_t *certs[3];
	uint8_t *pae, *s0 = NULL, *s1 = NULL;
	size_t plen = 0, sl0 = 0, sl1 = 0;
	char *first, *second;

	certs[0] = cert_der(pk[0], "signer", &cl[0]);
	certs[1] = cert_der(pk[1], "intermediate", &cl[1]);
	certs[2] = cert_der(pk[1], "signer two", &cl[2]);
	pae = pae_of(e, &plen);
	cr_assert_eq(ota_key_sign(&s0, &sl0, k0, pae, plen), 0);
	own(s0, release_mem);
	cr_assert_eq(ota_key_sign(&s1, &sl1, k1, pae, plen), 0);
	own(s1, release_mem);
	cr_assert_eq(
	    ota_envelope_add(e, ota_key_id(k0), ota_key_alg(k0), s0, sl0), 0);
	cr_assert_eq(ota_envelope_add_cert(e, 0, certs[0], cl[0]), 0);
	cr_assert_eq(ota_envelope_add_cert(e, 0, certs[1], cl[1]), 0);
	cr_assert_eq(
	    ota_envelope_add(e, ota_key_id(k1), ota_key_alg(k1), s1, sl1), 0);
	cr_assert_eq(ota_envelope_add_cert(e, 1, certs[2], cl[2]), 0);

	first = to_json(e, &l1);
	back = parse_ok(first, l1);
	cr_assert_eq(back->n_sigs, 2);
	cr_assert_eq(back->sigs[0].n_certs, 2);
	cr_assert_eq(back->sigs[1].n_certs, 1);
	for (size_t c = 0; c < 2; c++) {
		cr_assert_eq(back->sigs[0].cert_lens[c], cl[c]);
		cr_assert_arr_eq(back->sigs[0].certs[c], certs[c], cl[c]);
	}
	cr_assert_eq(back->sigs[1].cert_lens[0], cl[2]);
	cr_assert_arr_eq(back->sigs[1].certs[0], certs[2], cl[2]);
	envelopes_equal(e, back);
	second = to_json(back, &l2);
	cr_assert_str_eq(second, first);
}

/*
 * A signature made with ota_key_sign over the PAE still verifies after the
 * envelope has been written and read back, with the library and with EVP
 * over PAE bytes built here.
 */
Test(envelope, signature_over_pae_verifies_after_round_trip)
{
	static const char *const types[] = { "P-256", "RSA-2048", "ED25519" };
	size_t len = 0, tlen = 0, plen = 0, wlen = 0, plen2 = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = parse_ok(json, len), *back;
	uint8_t *pae = pae_of(e, &plen), *pae2;
	uint8_t *want = expected_pae(json, len, &wlen);
	struct ota_key *keys[3];
	EVP_PKEY *pks[3];
	char *text;

	cr_assert_eq(plen, wlen);
	cr_assert_arr_eq(pae, want, plen);
	for (size_t i = 0; i < 3; i++) {
		uint8_t *sig = NULL;
		size_t siglen = 0;

		keys[i] = new_key(types[i], &pks[i]);
		cr_assert_eq(ota_key_sign(&sig, &siglen, keys[i], pae, plen), 0,
			     "%s", ota_error_message());
		own(sig, release_mem);
		cr_assert_eq(ota_envelope_add(e, ota_key_id(keys[i]),
					      ota_key_alg(keys[i]), sig,
					      siglen),
			     0);
	}
	text = to_json(e, &tlen);
	back = parse_ok(text, tlen);
	pae2 = pae_of(back, &plen2);
	cr_assert_eq(plen2, wlen);
	cr_assert_arr_eq(pae2, want, wlen);
	cr_assert_eq(back->n_sigs, 3);
	for (size_t i = 0; i < 3; i++) {
		struct ota_envelope_sig *s = &back->sigs[i];
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		const char *md = i == 2 ? NULL : "SHA256";
		int ok;

		cr_assert_str_eq(s->keyid, ota_key_id(keys[i]));
		cr_assert_eq(s->alg, ota_key_alg(keys[i]));
		cr_assert_eq(ota_signature_verify(pks[i], s->alg, pae2, plen2,
						  s->sig, s->siglen),
			     0, "%s: %s", types[i], ota_error_message());
		/* EVP with the documented parameters (PSS: salt 32). */
		cr_assert_not_null(ctx);
		ok = EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, pks[i],
					     NULL) == 1;
		if (ok && i == 1)
			ok = EVP_PKEY_CTX_set_rsa_padding(
				 pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
			     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0;
		ok = ok &&
		     EVP_DigestVerify(ctx, s->sig, s->siglen, want, wlen) == 1;
		EVP_MD_CTX_free(ctx);
		ERR_clear_error();
		cr_assert(ok, "%s: EVP does not verify", types[i]);
		/* Not a signature of the bare payload, nor a damaged one. */
		cr_assert_eq(ota_signature_verify(pks[i], s->alg,
						  (const uint8_t *)json, len,
						  s->sig, s->siglen),
			     OTA_EVERIFY, "%s", types[i]);
		s->sig[s->siglen / 2] ^= 0x10;
		cr_assert_eq(ota_signature_verify(pks[i], s->alg, pae2, plen2,
						  s->sig, s->siglen),
			     OTA_EVERIFY, "%s", types[i]);
	}
}

Test(envelope, load_refuses_oversized_files)
{
	size_t big = OTA_ENVELOPE_MAX_FILE + 1;
	char *data = own(malloc(big), release_mem);
	struct ota_envelope *e = (struct ota_envelope *)1;

	cr_assert_not_null(data);
	memset(data, ' ', big);
	data[0] = '{';
	data[big - 1] = '}';
	write_file("huge.json", data, big);
	cr_assert_eq(ota_envelope_load(&e, "huge.json"), OTA_EINPUT);
	cr_assert_null(e);
	must_contain(ota_error_message(), "huge.json");
	ota_envelope_free(NULL);
}

/* ota_envelope_load_manifest ---------------------------------------------- */

static void release_trust(void *p)
{
	ota_trust_clear(p);
	free(p);
}

/* A trust holding the one public key pub. */
static struct ota_trust *trust_of(EVP_PKEY *pub)
{
	struct ota_trust *t = own(malloc(sizeof(*t)), release_trust);

	cr_assert_not_null(t);
	ota_trust_init(t);
	cr_assert_eq(trust_pkey(t, pub, "test key"), 0);
	return t;
}

/* Loads path with opts; returns rc, the outputs owned by the test. */
static int load_manifest(struct ota_envelope **e, struct ota_manifest **m,
			 const char *path,
			 const struct ota_envelope_load_opts *opts)
{
	int rc = ota_envelope_load_manifest(e, m, path, opts);

	if (*e)
		own(*e, release_env);
	if (*m)
		own(*m, release_manifest);
	cr_assert_eq(!*e, !*m, "the envelope and the manifest go together");
	return rc;
}

Test(envelope, load_manifest_resolves_images_beside_the_file)
{
	size_t len = 0;
	char *json = manifest_json(&len);
	struct ota_envelope *e = NULL;
	struct ota_manifest *m = NULL;

	cr_assert_eq(mkdir("sub", 0755), 0);
	write_file("sub/m.json", json, len);
	cr_assert_eq(load_manifest(&e, &m, "sub/m.json", NULL), 0, "%s",
		     ota_error_message());
	cr_assert_eq(e->n_sigs, 0);
	cr_assert_eq(e->payload_len, len);
	cr_assert_str_eq(m->name, "fw");
	cr_assert_str_eq(m->images[0].file, "app.bin");
	cr_assert_str_eq(m->images[0].path, "sub/app.bin");

	/* A flat folder of downloaded images. */
	cr_assert_eq(mkdir("dl", 0755), 0);
	write_file("dl/app.bin", "hello\n", 6);
	cr_assert_eq(load_manifest(&e, &m, "sub/m.json",
				   &(struct ota_envelope_load_opts){
				       .images_dir = "dl" }),
		     0, "%s", ota_error_message());
	cr_assert_str_eq(m->images[0].path, "dl/app.bin");

	/* Beside a file named without a directory: the current one. */
	write_file("m.json", json, len);
	cr_assert_eq(load_manifest(&e, &m, "m.json", NULL), 0);
	cr_assert_str_eq(m->images[0].path, "app.bin");

	cr_assert_eq(load_manifest(&e, &m, "sub/none.json", NULL), OTA_EINPUT);
	must_contain(ota_error_message(), "sub/none.json");
	cr_assert_null(e);
	cr_assert_null(m);
	write_file("sub/bad.json", "{}", 2);
	cr_assert_eq(load_manifest(&e, &m, "sub/bad.json", NULL), OTA_EINPUT);
	cr_assert_null(m);
}

Test(envelope, load_manifest_judges_signatures)
{
	struct ota_trust_result results[OTA_ENVELOPE_MAX_SIGS];
	size_t len = 0, plen = 0, tlen = 0, siglen = 0;
	char *json = manifest_json(&len), *text;
	struct ota_envelope *e = parse_ok(json, len);
	struct ota_manifest *m = NULL;
	EVP_PKEY *pk = NULL, *other_pk = NULL;
	struct ota_key *key = new_key("P-256", &pk);
	uint8_t *pae = pae_of(e, &plen), *sig = NULL;
	int trusted = 7;
	struct ota_envelope_load_opts o = { .trust = trust_of(pk),
					    .results = results,
					    .trusted = &trusted };

	(void)new_key("P-384", &other_pk);
	/* Unsigned: refused when trust is asked for, unless unsigned_ok. */
	write_file("bare.json", json, len);
	cr_assert_eq(load_manifest(&e, &m, "bare.json", &o), OTA_EVERIFY);
	must_contain(ota_error_message(), "bare.json");
	must_contain(ota_error_message(), "not signed");
	cr_assert_not_null(m, "still returned, for the report");
	cr_assert_eq(trusted, -1);
	o.unsigned_ok = true;
	cr_assert_eq(load_manifest(&e, &m, "bare.json", &o), 0, "%s",
		     ota_error_message());

	/* Signed by the trusted key. */
	cr_assert_eq(ota_key_sign(&sig, &siglen, key, pae, plen), 0);
	own(sig, release_mem);
	e = parse_ok(json, len);
	cr_assert_eq(
	    ota_envelope_add(e, ota_key_id(key), ota_key_alg(key), sig, siglen),
	    0);
	text = to_json(e, &tlen);
	write_file("signed.json", text, tlen);
	cr_assert_eq(load_manifest(&e, &m, "signed.json", &o), 0, "%s",
		     ota_error_message());
	cr_assert_eq(e->n_sigs, 1);
	cr_assert_eq(trusted, 0);
	cr_assert_eq(results[0].verdict, OTA_TRUST_VALID);

	/* Signed, but by no key the trust holds. */
	o.trust = trust_of(other_pk);
	o.results = NULL;
	cr_assert_eq(load_manifest(&e, &m, "signed.json", &o), OTA_EVERIFY);
	must_contain(ota_error_message(), "signed.json: ");
	must_contain(ota_error_message(), "no signature is by a trusted key");
	cr_assert_not_null(m);
	cr_assert_str_eq(m->name, "fw");
	cr_assert_eq(trusted, -1);

	/* Without trust nothing is judged. */
	cr_assert_eq(load_manifest(&e, &m, "signed.json", NULL), 0);
}
