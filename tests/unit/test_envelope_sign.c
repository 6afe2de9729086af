/*
 * Unit tests for src/lib/envelope_sign.c: signing a manifest with every
 * signer, the two-step export and import, the default output name and the
 * write in place. Signatures are checked by OpenSSL directly, not by the
 * code under test.
 */
#include <criterion/criterion.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "key_priv.h"
#include "otatool/digest.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/key.h"
#include "otatool/signer.h"
#include "tmpdir.h"

static char dir[256], p256[320], ed[320], path[320];

/* A manifest in canonical form (otatool-manifest(5)), of version v. */
static char *manifest_text(const char *v)
{
	static const char fmt[] =
	    "{\n"
	    "  \"format\": \"otatool-manifest/1\",\n"
	    "  \"name\": \"fw\",\n"
	    "  \"version\": \"%s\",\n"
	    "  \"git\": {\n"
	    "    \"commit\": \"0123456789abcdef0123456789abcdef01234567\",\n"
	    "    \"short\": \"0123456\",\n"
	    "    \"branch\": null,\n"
	    "    \"tag\": null,\n"
	    "    \"describe\": null,\n"
	    "    \"dirty\": false\n"
	    "  },\n"
	    "  \"build\": {\n"
	    "    \"time\": \"2025-11-24T16:00:00Z\",\n"
	    "    \"machine\": \"b\",\n"
	    "    \"otatool\": \"0.1.0\"\n"
	    "  },\n"
	    "  \"hardware\": [\n"
	    "    \"b\"\n"
	    "  ],\n"
	    "  \"bootloader_min\": null,\n"
	    "  \"security_counter\": 0,\n"
	    "  \"dependencies\": [],\n"
	    "  \"images\": [\n"
	    "    {\n"
	    "      \"name\": \"a\",\n"
	    "      \"kind\": \"application\",\n"
	    "      \"file\": \"app.bin\",\n"
	    "      \"size\": 4,\n"
	    "      \"digest\": {\n"
	    "        \"algorithm\": \"sha256\",\n"
	    "        \"value\": \"5f3d3ea3e2a3cfe2ed5d3d54d6ba4f3ec0aa1e1c2a6"
	    "d6fa6ab5f1e2c7a11b7a8\"\n"
	    "      },\n"
	    "      \"load_address\": null\n"
	    "    }\n"
	    "  ]\n"
	    "}\n";
	static char buf[1024];

	snprintf(buf, sizeof(buf), fmt, v);
	return buf;
}

static void setup(void)
{
	char id[OTA_KEY_ID_LEN + 1], pub[320];

	tmpdir_make(dir, sizeof(dir), "envelope-sign");
	snprintf(p256, sizeof(p256), "%s/p256.pem", dir);
	snprintf(pub, sizeof(pub), "%s/p256.pub.pem", dir);
	cr_assert_eq(ota_key_generate_file(id, "ecdsa-p256", p256, pub), 0,
		     "%s", ota_error_message());
	snprintf(ed, sizeof(ed), "%s/ed.pem", dir);
	snprintf(pub, sizeof(pub), "%s/ed.pub.pem", dir);
	cr_assert_eq(ota_key_generate_file(id, "ed25519", ed, pub), 0, "%s",
		     ota_error_message());
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(envelope_sign, .init = setup, .fini = teardown, .timeout = 60);

static struct ota_envelope *bare(void)
{
	struct ota_envelope *e = NULL;
	const char *m = manifest_text("1.0.0");

	cr_assert_eq(ota_envelope_parse(&e, m, strlen(m), "m"), 0, "%s",
		     ota_error_message());
	return e;
}

static struct ota_signers *open_signers(const char *const *keys, size_t n,
					bool public_only)
{
	struct ota_signers_opts o = { .keys = keys,
				      .n_keys = n,
				      .public_only = public_only };
	struct ota_signers *s = NULL;

	cr_assert_eq(ota_signers_open(&s, &o), 0, "%s", ota_error_message());
	return s;
}

/* OpenSSL's own verdict on signature i of e over its PAE. */
static bool openssl_verifies(const struct ota_envelope *e, size_t i,
			     const struct ota_key *k)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *pub = ota_key_pkey(k);
	const EVP_MD *md =
	    EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	uint8_t *pae = NULL;
	size_t pae_len = 0;
	bool ok;

	cr_assert_eq(ota_envelope_pae(&pae, &pae_len, e), 0);
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, e->sigs[i].sig, e->sigs[i].siglen, pae,
			      pae_len) == 1;
	EVP_MD_CTX_free(ctx);
	free(pae);
	return ok;
}

Test(envelope_sign, every_signer_signs_the_pae)
{
	const char *keys[] = { p256, ed };
	struct ota_signers *s = open_signers(keys, 2, false);
	struct ota_envelope *e = bare();

	cr_assert_eq(ota_envelope_sign(e, s), 0, "%s", ota_error_message());
	cr_assert_eq(e->n_sigs, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_str_eq(e->sigs[i].keyid,
				 ota_key_id(ota_signers_key(s, i)));
		cr_assert(openssl_verifies(e, i, ota_signers_key(s, i)));
	}
	/* A key signs a manifest once. */
	cr_assert_eq(ota_envelope_sign(e, s), OTA_EINPUT);
	ota_envelope_free(e);
	ota_signers_free(s);
}

Test(envelope_sign, two_steps_export_then_import)
{
	const char *keys[] = { p256 };
	struct ota_signers *priv = open_signers(keys, 1, false);
	struct ota_signers *pub = open_signers(keys, 1, true);
	struct ota_key *k = ota_signers_key(priv, 0);
	struct ota_envelope *e = bare();
	char digest_path[320], sig_path[320], *got = NULL;
	uint8_t *pae = NULL, *sig = NULL;
	size_t pae_len = 0, got_len = 0, sig_len = 0;
	struct ota_digest want;
	FILE *f;

	snprintf(digest_path, sizeof(digest_path), "%s/digest.bin", dir);
	snprintf(sig_path, sizeof(sig_path), "%s/sig.der", dir);
	cr_assert_eq(
	    ota_envelope_export_to_sign(e, ota_key_alg(k), digest_path, NULL),
	    0, "%s", ota_error_message());
	cr_assert_eq(ota_envelope_pae(&pae, &pae_len, e), 0);
	cr_assert_eq(ota_digest_buffer(&want, OTA_DIGEST_SHA256, pae, pae_len),
		     0);
	cr_assert_eq(ota_file_read_small(&got, &got_len, digest_path, 64), 0);
	cr_assert_eq(got_len, want.len);
	cr_assert_arr_eq(got, want.bytes, want.len);
	free(got);

	/* The offline signer: here the same key, over the PAE. */
	cr_assert_eq(ota_key_sign(&sig, &sig_len, k, pae, pae_len), 0);
	f = fopen(sig_path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(sig, 1, sig_len, f), sig_len);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(ota_envelope_import_signature(e, ota_signers_key(pub, 0),
						   ota_key_alg(k), sig_path),
		     0, "%s", ota_error_message());
	cr_assert_eq(e->n_sigs, 1);
	cr_assert(openssl_verifies(e, 0, k));

	/* Another manifest's signature is refused, and nothing is added. */
	struct ota_envelope *other = NULL;
	const char *m2 = manifest_text("2.0.0");

	cr_assert_eq(ota_envelope_parse(&other, m2, strlen(m2), "m2"), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_envelope_import_signature(other,
						   ota_signers_key(pub, 0),
						   ota_key_alg(k), sig_path),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "not a valid"), "%s",
		  ota_error_message());
	cr_assert_eq(other->n_sigs, 0);
	ota_envelope_free(other);
	free(sig);
	free(pae);
	ota_envelope_free(e);
	ota_signers_free(pub);
	ota_signers_free(priv);
}

Test(envelope_sign, ed25519_exports_no_digest)
{
	struct ota_envelope *e = bare();
	char p[320];
	struct stat st;

	snprintf(p, sizeof(p), "%s/digest.bin", dir);
	cr_assert_eq(ota_envelope_export_to_sign(e, OTA_SIG_ED25519, p, NULL),
		     OTA_EUSAGE);
	cr_assert_neq(stat(p, &st), 0, "nothing written");
	ota_envelope_free(e);
}

Test(envelope_sign, default_output_names)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "m.json", "m.signed.json" },
		{ "dir/m.signed.json", "dir/m.signed.json" },
		{ "manifest", "manifest.signed.json" },
		{ ".json", ".signed.json" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = ota_envelope_default_output(cases[i].in);

		cr_assert_str_eq(o, cases[i].out);
		free(o);
	}
}

Test(envelope_sign, write_updates_its_input_in_place_only)
{
	const char *keys[] = { ed };
	struct ota_signers *s = open_signers(keys, 1, false);
	struct ota_envelope *e = bare(), *back = NULL;

	snprintf(path, sizeof(path), "%s/m.signed.json", dir);
	cr_assert_eq(ota_envelope_sign(e, s), 0);
	cr_assert_eq(ota_envelope_write(e, path, NULL), 0, "%s",
		     ota_error_message());
	/* The file is now an input: replaced only as the update of itself. */
	ota_input_forget_all();
	cr_assert_eq(ota_envelope_load(&back, path), 0);
	cr_assert_eq(ota_envelope_write(e, path, path), 0, "%s",
		     ota_error_message());
	/* Read again (the update is a new file): any other write is refused. */
	ota_envelope_free(back);
	cr_assert_eq(ota_envelope_load(&back, path), 0);
	cr_assert_eq(ota_envelope_write(e, path, p256), OTA_EUSAGE);
	ota_envelope_free(back);
	ota_envelope_free(e);
	ota_signers_free(s);
}
