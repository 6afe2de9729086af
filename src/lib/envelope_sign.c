/*
 * Signing a manifest (otatool sign): every signer's signature over the
 * PAE with its certificates, the two-step form (what an offline signer
 * signs, and its signature brought back and checked), and the signed
 * manifest written atomically, in place when it updates its input.
 */
#include "otatool/digest.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/output.h"
#include "otatool/signer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest signature file --import-signature reads (base64 RSA-4096 fits). */
#define SIGNATURE_FILE_MAX (64u << 10)

/* Adds sig, made by key, with the key's certificates. */
static int add_signature(struct ota_envelope *e, const struct ota_key *key,
			 const uint8_t *sig, size_t sig_len)
{
	const uint8_t *const *der;
	const size_t *lens;
	size_t n = ota_key_certs(key, &der, &lens);
	int rc = ota_envelope_add(e, ota_key_id(key), ota_key_alg(key), sig,
				  sig_len);

	for (size_t c = 0; rc == 0 && c < n; c++)
		rc = ota_envelope_add_cert(e, e->n_sigs - 1, der[c], lens[c]);
	return rc;
}

int ota_envelope_sign(struct ota_envelope *e, const struct ota_signers *s)
{
	uint8_t *pae = NULL, *sig = NULL;
	size_t pae_len = 0, sig_len = 0;
	int rc;

	if ((rc = ota_envelope_pae(&pae, &pae_len, e)))
		return rc;
	for (size_t k = 0; rc == 0 && k < ota_signers_count(s); k++) {
		struct ota_key *key = ota_signers_key(s, k);

		if ((rc = ota_key_sign(&sig, &sig_len, key, pae, pae_len)) == 0)
			rc = add_signature(e, key, sig, sig_len);
		free(sig);
		sig = NULL;
	}
	free(pae);
	return rc;
}

int ota_envelope_export_to_sign(const struct ota_envelope *e,
				enum ota_sig_alg alg, const char *digest_path,
				const char *payload_path)
{
	enum ota_digest_alg d;
	struct ota_digest dg;
	uint8_t *pae = NULL;
	size_t pae_len = 0;
	int rc;

	if (digest_path && !ota_sig_alg_digest(alg, &d))
		return ota_error(OTA_EUSAGE,
				 "%s signs the whole message, not a digest: "
				 "use --export-payload",
				 ota_sig_alg_name(alg));
	if ((rc = ota_envelope_pae(&pae, &pae_len, e)))
		return rc;
	if (digest_path && ((rc = ota_digest_buffer(&dg, d, pae, pae_len)) ||
			    (rc = ota_output_write_file(digest_path, dg.bytes,
							dg.len, 0644, 0))))
		goto out;
	if (payload_path)
		rc = ota_output_write_file(payload_path, pae, pae_len, 0644, 0);
out:
	free(pae);
	return rc;
}

int ota_envelope_import_signature(struct ota_envelope *e,
				  const struct ota_key *key,
				  enum ota_sig_alg alg, const char *sig_path)
{
	uint8_t *pae = NULL, *sig = NULL;
	size_t pae_len = 0, raw_len = 0, sig_len = 0;
	char *raw = NULL;
	int rc;

	if ((rc = ota_envelope_pae(&pae, &pae_len, e)) ||
	    (rc = ota_file_read_small(&raw, &raw_len, sig_path,
				      SIGNATURE_FILE_MAX)))
		goto out;
	if ((rc = ota_signature_decode(&sig, &sig_len, alg,
				       (const uint8_t *)raw, raw_len))) {
		rc = ota_error_wrap(rc, "%s", sig_path);
		goto out;
	}
	if (ota_public_key_verify(ota_key_public(key), alg, pae, pae_len, sig,
				  sig_len)) {
		rc = ota_error(OTA_EVERIFY,
			       "%s: not a valid %s signature by %s; nothing "
			       "written",
			       sig_path, ota_sig_alg_name(alg),
			       ota_key_ref(key));
		goto out;
	}
	rc = add_signature(e, key, sig, sig_len);
out:
	free(sig);
	free(raw);
	free(pae);
	return rc;
}

char *ota_envelope_default_output(const char *input)
{
	static const char suffix[] = ".signed.json";
	size_t len = strlen(input), slen = sizeof(suffix) - 1;
	char *out;

	if (len >= slen && strcmp(input + len - slen, suffix) == 0)
		return strdup(input);
	if (len >= 5 && strcmp(input + len - 5, ".json") == 0)
		len -= 5;
	out = malloc(len + slen + 1);
	if (out) {
		memcpy(out, input, len);
		memcpy(out + len, suffix, slen + 1);
	}
	return out;
}

/* Whether a and b name one existing file. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int ota_envelope_write(const struct ota_envelope *e, const char *path,
		       const char *input)
{
	int flags = input && same_file(path, input) ? OTA_OUTPUT_UPDATE : 0;
	char *json = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ota_envelope_to_json(&json, &len, e)) == 0)
		rc = ota_output_write_file(path, json, len, 0644, flags);
	free(json);
	return rc;
}
