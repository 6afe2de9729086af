/*
 * Signing keys and signatures: a private key in a file or a PKCS#11 token
 * behind one interface, the algorithm that follows from it, key ids, and
 * signature verification.
 */
#ifndef OTATOOL_KEY_H
#define OTATOOL_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"
#include "otatool/pkcs11.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ota_sig_alg {
	OTA_SIG_ECDSA_P256_SHA256,
	OTA_SIG_ECDSA_P384_SHA384,
	OTA_SIG_RSA_PSS_SHA256,   /* MGF1-SHA-256, salt length 32 */
	OTA_SIG_RSA_PKCS1_SHA256, /* RSASSA-PKCS1-v1_5 */
	OTA_SIG_ED25519,          /* pure Ed25519 over the whole message */
};

/* "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256", ... */
const char *ota_sig_alg_name(enum ota_sig_alg alg);
int ota_sig_alg_parse(enum ota_sig_alg *out, const char *name);

/*
 * The digest an algorithm signs over. Returns false for Ed25519, which
 * signs the message itself (no pre-hash).
 */
bool ota_sig_alg_digest(enum ota_sig_alg alg, enum ota_digest_alg *out);

#define OTA_KEY_ID_LEN 64 /* hex digits of SHA-256 */

/*
 * A public key of any type (RSA, EC, Ed25519, X25519, ...), with its key
 * id: what a verifier trusts, what `keys export-public` writes.
 */
struct ota_public_key;

/*
 * Loads a public key from a PEM or DER file holding a public key, an X.509
 * certificate or a private key (its public half). OTA_EINPUT naming path.
 */
int ota_public_key_load(struct ota_public_key **out, const char *path);
void ota_public_key_free(struct ota_public_key *k); /* accepts NULL */

/* Key id: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. */
const char *ota_public_key_id(const struct ota_public_key *k);

/* The public key as PEM or DER SubjectPublicKeyInfo, malloc'ed. */
int ota_public_key_encode(uint8_t **out, size_t *len,
			  const struct ota_public_key *k, bool pem);

/* OTA_EVERIFY when sig is not alg's signature of msg by k. */
int ota_public_key_verify(const struct ota_public_key *k, enum ota_sig_alg alg,
			  const uint8_t *msg, size_t msglen, const uint8_t *sig,
			  size_t siglen);

struct ota_key_opts {
	struct ota_pkcs11 *pkcs11;   /* for pkcs11: URIs; NULL refuses them */
	const char *passphrase_file; /* encrypted PEM keys */
	bool allow_prompt;           /* passphrase prompt on the terminal */
	bool rsa_pkcs1;              /* RSA keys sign PKCS#1 v1.5, not PSS */
};

struct ota_key;

/*
 * Opens a private key: an RFC 7512 "pkcs11:" URI (through opts->pkcs11),
 * or a PEM or DER file (PKCS#8, SEC1 or PKCS#1; encrypted PEM with the
 * passphrase from --passphrase-file, OTATOOL_KEY_PASSPHRASE or a prompt).
 * A public key or certificate where a private key is needed, a missing
 * passphrase, a wrong one, a truncated file, an unsupported curve: each is
 * OTA_EKEY with a message naming ref.
 */
int ota_key_open(struct ota_key **out, const char *ref,
		 const struct ota_key_opts *opts);
void ota_key_free(struct ota_key *k);

/*
 * A key for the two-step modes, where only the public half is at hand: a
 * public key, certificate or private key file, or a token key's URI.
 * Signing with it is OTA_EKEY; everything else works as for ota_key_open.
 * When alg is not NULL it overrides the algorithm the key implies (it must
 * fit the key).
 */
int ota_key_open_public(struct ota_key **out, const char *ref,
			const struct ota_key_opts *opts,
			const enum ota_sig_alg *alg);

enum ota_sig_alg ota_key_alg(const struct ota_key *k);
/* The public half, borrowed: valid while k lives. */
const struct ota_public_key *ota_key_public(const struct ota_key *k);
const char *ota_key_id(const struct ota_key *k);
const char *ota_key_ref(const struct ota_key *k); /* as given, for messages */

/*
 * Attaches the key's certificate (PEM or DER): it must hold this key, else
 * OTA_EKEY and the caller must not sign. Replaces an earlier one.
 */
int ota_key_set_certificate(struct ota_key *k, const char *path);

/* Appends a DER certificate after the key's own (an intermediate). */
int ota_key_add_chain_der(struct ota_key *k, const uint8_t *der, size_t len);

/*
 * The certificates to embed with this key's signatures, signer first:
 * n (0 when none) DER blobs, borrowed.
 */
size_t ota_key_certs(const struct ota_key *k, const uint8_t *const **der,
		     const size_t **lens);

/*
 * Signs msg: hashes it here (only the digest reaches a token) unless the
 * algorithm is Ed25519. ECDSA signatures come out DER-encoded. *sig is
 * malloc'ed. Every signature is checked against the public key before it is
 * returned, so a faulty token cannot slip a bad one into a release.
 */
int ota_key_sign(uint8_t **sig, size_t *siglen, struct ota_key *k,
		 const uint8_t *msg, size_t msglen);

/*
 * Signs a digest computed elsewhere (packages and MCUboot images sign the
 * digest of a region that was hashed while streaming). ECDSA and RSA sign
 * it as the digest of its own algorithm (SHA-256 or SHA-384; RSA-PSS salt
 * = digest length); Ed25519 signs the digest bytes as its message, as
 * MCUboot does. The key's SHA-256/SHA-384 pairing is not imposed here: the
 * format decides which digest it signs. Checked like ota_key_sign().
 */
int ota_key_sign_digest(uint8_t **sig, size_t *siglen, struct ota_key *k,
			const struct ota_digest *digest);

/* The key types `otatool keys generate` makes. */
#define OTA_KEY_TYPES                                                          \
	"ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, ed25519, "      \
	"x25519 (an encryption key, files only)"

/*
 * Generates a key pair into files: the private key as unencrypted PKCS#8
 * PEM, mode 0600, and the public key as PEM SubjectPublicKeyInfo; neither
 * file may exist (OTA_EOUTPUT). Writes the key id. "x25519" makes a
 * recipient key for encrypted images (ota_encrypt_key_generate_file).
 */
int ota_key_generate_file(char id[OTA_KEY_ID_LEN + 1], const char *type,
			  const char *private_path, const char *public_path);

/*
 * Accepts a signature made elsewhere in the forms other tools write:
 * binary or base64 text; for ECDSA, DER or raw r||s (P1363). Writes the
 * canonical binary form (DER for ECDSA). OTA_EINPUT if it is none of them.
 */
int ota_signature_decode(uint8_t **out, size_t *outlen, enum ota_sig_alg alg,
			 const uint8_t *in, size_t inlen);

#ifdef __cplusplus
}
#endif
#endif
