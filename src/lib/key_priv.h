/*
 * Internal to the library: keys at the level of OpenSSL's EVP_PKEY, for
 * the modules that check signatures, certificates and key wraps (trust,
 * chain, signer, mcuboot, package, cipher) and for the key tests. The
 * public key.h speaks of struct ota_key and struct ota_public_key only.
 */
#ifndef OTATOOL_KEY_PRIV_H
#define OTATOOL_KEY_PRIV_H

#include "otatool/key.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/*
 * A public key and its key id. One from ota_public_key_load() or
 * ota_public_key_from_pkey() holds a reference to pkey; the one inside a
 * struct ota_key (ota_key_public()) borrows the key's own.
 */
struct ota_public_key {
	EVP_PKEY *pkey;
	char id[OTA_KEY_ID_LEN + 1];
};

/* A public key for pkey (a reference is taken), its id computed. */
int ota_public_key_from_pkey(struct ota_public_key **out, EVP_PKEY *pkey);

/* The key's public half (a token key's too), borrowed. */
EVP_PKEY *ota_key_pkey(const struct ota_key *k);

/*
 * The algorithm a public key implies: P-256 -> ECDSA-SHA-256, P-384 ->
 * ECDSA-SHA-384, RSA 2048..4096 bits -> PSS (PKCS#1 v1.5 when rsa_pkcs1),
 * Ed25519. Other curves and sizes are OTA_EKEY naming what was found.
 */
int ota_sig_alg_for_key(enum ota_sig_alg *out, EVP_PKEY *pub, bool rsa_pkcs1);

/* Whether alg can be used with pub (an ECDSA P-256 key cannot do PSS). */
int ota_sig_alg_check(enum ota_sig_alg alg, EVP_PKEY *pub);

/* Key id: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo. */
int ota_key_id_of(char id[OTA_KEY_ID_LEN + 1], EVP_PKEY *pub);

/* OTA_EVERIFY when sig is not alg's signature of msg by pub. */
int ota_signature_verify(EVP_PKEY *pub, enum ota_sig_alg alg,
			 const uint8_t *msg, size_t msglen, const uint8_t *sig,
			 size_t siglen);

/*
 * OTA_EVERIFY when sig is not a signature of digest by pub, made as
 * ota_key_sign_digest() makes them.
 */
int ota_signature_verify_digest(EVP_PKEY *pub, enum ota_sig_alg alg,
				const struct ota_digest *digest,
				const uint8_t *sig, size_t siglen);

/*
 * Loads a private key file as ota_key_open() does (PEM or DER, encrypted
 * PEM with the passphrase from opts), of any type: the caller checks it.
 * purpose ("signing", "decryption") words the message for a public key or
 * certificate given instead. OTA_EKEY naming path.
 */
int ota_private_key_load(EVP_PKEY **out, const char *path,
			 const struct ota_key_opts *opts, const char *purpose);

/* ota_public_key_load() as an EVP_PKEY: any key type, the caller checks. */
int ota_public_key_load_pkey(EVP_PKEY **out, const char *path);

/*
 * Reads an X.509 certificate (PEM or DER) as DER, with its public key.
 * OTA_EINPUT naming path if it is not one.
 */
int ota_certificate_load(uint8_t **der, size_t *der_len, EVP_PKEY **pub,
			 const char *path);

#endif
