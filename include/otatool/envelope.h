/*
 * Signed manifests (otatool-signature(5)): a DSSE envelope whose payload is
 * the manifest's exact bytes, signed over DSSE's pre-authentication
 * encoding, so that any DSSE verifier, or openssl with the PAE bytes, can
 * check otatool's signatures.
 */
#ifndef OTATOOL_ENVELOPE_H
#define OTATOOL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/key.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_PAYLOAD_TYPE       "application/vnd.otatool.manifest+json"
#define OTA_ENVELOPE_MAX_SIGS  16
#define OTA_ENVELOPE_MAX_CERTS 8 /* signer and intermediates */
#define OTA_ENVELOPE_MAX_FILE  (4u << 20)

struct ota_envelope_sig {
	char keyid[OTA_KEY_ID_LEN + 1];
	enum ota_sig_alg alg;
	uint8_t *sig;
	size_t siglen;
	size_t n_certs; /* DER certificates, signer first */
	uint8_t *certs[OTA_ENVELOPE_MAX_CERTS];
	size_t cert_lens[OTA_ENVELOPE_MAX_CERTS];
};

struct ota_envelope {
	char *payload; /* the manifest bytes, NUL-terminated for convenience */
	size_t payload_len;
	size_t n_sigs;
	struct ota_envelope_sig sigs[OTA_ENVELOPE_MAX_SIGS];
};

void ota_envelope_free(struct ota_envelope *e);

/*
 * Reads either a signed manifest (an envelope: signatures are parsed but
 * not verified here) or a bare manifest, which becomes an envelope without
 * signatures. The payload must be a valid manifest in canonical form
 * (byte-identical to what otatool manifest writes), so that what is signed
 * is exactly what every reader sees. name labels messages.
 */
int ota_envelope_parse(struct ota_envelope **out, const char *data, size_t len,
		       const char *name);
int ota_envelope_load(struct ota_envelope **out, const char *path);

/*
 * The bytes a signature covers: DSSE PAE,
 * "DSSEv1" SP len(type) SP type SP len(payload) SP payload.
 */
int ota_envelope_pae(uint8_t **out, size_t *len, const struct ota_envelope *e);

/*
 * Adds a signature (copied). A second signature by the same key id is
 * refused (OTA_EINPUT): a key signs a manifest once.
 */
int ota_envelope_add(struct ota_envelope *e, const char *keyid,
		     enum ota_sig_alg alg, const uint8_t *sig, size_t siglen);

/* Attaches DER certificates (signer first) to signature i. */
int ota_envelope_add_cert(struct ota_envelope *e, size_t i, const uint8_t *der,
			  size_t len);

/*
 * Judges every signature against the trust (results[i] for signature i,
 * message = the PAE). *trusted is the first valid one, -1 if none. Chains
 * are checked at when unless the trust fixes a time. Returns 0 when one
 * signature is valid; else OTA_EVERIFY (a bad signature, or no trusted
 * key) or OTA_EUNTRUSTED (a chain was refused), with the reason recorded.
 */
struct ota_trust;
struct ota_trust_result;
int ota_envelope_verify(struct ota_trust_result *results, int *trusted,
			const struct ota_envelope *e,
			const struct ota_trust *trust, int64_t when);

/* Loading a manifest file for use ----------------------------------------- */

struct ota_manifest;

struct ota_envelope_load_opts {
	/*
	 * Where the image files are: a directory laid out as the manifest
	 * says, or flat (ota_manifest_locate_images); NULL: the manifest
	 * file's own directory.
	 */
	const char *images_dir;
	/* Signatures must verify against this trust; NULL: not judged. */
	const struct ota_trust *trust;
	/* With trust: a manifest without signatures is returned unjudged. */
	bool unsigned_ok;
	/*
	 * With trust, optional: the verdict on each signature
	 * (OTA_ENVELOPE_MAX_SIGS entries) and the first valid one, -1 if none.
	 */
	struct ota_trust_result *results;
	int *trusted;
};

/*
 * Loads path (a signed manifest, or a bare manifest) as the envelope and
 * its payload parsed as a manifest, image files resolved against path's
 * directory (or opts->images_dir). opts may be NULL. With opts->trust the
 * signatures are judged as by ota_envelope_verify(), chains at the current
 * time unless the trust fixes one; when they do not verify, the error
 * (OTA_EVERIFY, OTA_EUNTRUSTED) names path and *e and *m are still returned
 * so that a report can say why. On any other error both are NULL.
 */
int ota_envelope_load_manifest(struct ota_envelope **e, struct ota_manifest **m,
			       const char *path,
			       const struct ota_envelope_load_opts *opts);

/*
 * What a package is made from (otatool package INPUT): a release file
 * (.yaml or .yml: loaded and resolved with ro, ro->source set to path),
 * or a manifest, bare or signed. A signed manifest must verify against
 * trust; an empty trust means the signers' own keys (what they package,
 * they must have signed), and trust is filled with them. A bare manifest
 * is taken as is. *m is the caller's to free.
 */
struct ota_resolve_opts;
struct ota_signers;
int ota_manifest_load_input(struct ota_manifest **m, const char *path,
			    const struct ota_resolve_opts *ro,
			    struct ota_trust *trust,
			    const struct ota_signers *signers);

/* Canonical JSON: payloadType, payload, signatures; 2-space indent. */
int ota_envelope_to_json(char **out, size_t *len, const struct ota_envelope *e);

/* Signing (otatool sign) ----------------------------------------------- */

struct ota_signers;

/*
 * Adds every signer's signature over the PAE, each with the certificates
 * attached to its key (signer first, then its chain).
 */
int ota_envelope_sign(struct ota_envelope *e, const struct ota_signers *s);

/*
 * The two-step form, for a signer that otatool cannot reach: writes what
 * an alg signature covers, as its digest (digest_path: the hash of the
 * PAE, for algorithms that sign a digest; OTA_EUSAGE for Ed25519) and/or
 * the PAE itself (payload_path); either may be NULL.
 */
int ota_envelope_export_to_sign(const struct ota_envelope *e,
				enum ota_sig_alg alg, const char *digest_path,
				const char *payload_path);

/*
 * The second step: reads the signature made over the PAE from sig_path
 * (raw, DER or base64: ota_signature_decode), checks it with key's public
 * half and adds it with key's certificates. OTA_EVERIFY if it is not a
 * valid alg signature by key (then e is unchanged).
 */
int ota_envelope_import_signature(struct ota_envelope *e,
				  const struct ota_key *key,
				  enum ota_sig_alg alg, const char *sig_path);

/*
 * Where a signed manifest goes by default: NAME.json -> NAME.signed.json;
 * a signed manifest (NAME.signed.json) is updated in place. Malloc'd; NULL
 * when out of memory.
 */
char *ota_envelope_default_output(const char *input);

/*
 * Writes e to path atomically. When path is input itself (same file) the
 * signed manifest replaces it (an update in place); any other input of the
 * command is never replaced (output.h).
 */
int ota_envelope_write(const struct ota_envelope *e, const char *path,
		       const char *input);

#ifdef __cplusplus
}
#endif
#endif
