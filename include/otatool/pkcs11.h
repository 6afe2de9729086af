/*
 * Keys inside PKCS#11 tokens, named by RFC 7512 URIs and reached through
 * Cryptoki directly (p11-kit loads the module): find, sign, generate, list.
 */
#ifndef OTATOOL_PKCS11_H
#define OTATOOL_PKCS11_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 7512 says "pkcs11:"; the scheme is case-insensitive. */
bool ota_pkcs11_is_uri(const char *s);

struct ota_pkcs11_opts {
	/*
	 * Module to load when the URI names none (module-path / module-name):
	 * --pkcs11-module, else OTATOOL_PKCS11_MODULE; NULL means every module
	 * p11-kit is configured with, searched for the URI's token.
	 */
	const char *module;
	/*
	 * Whether a PIN prompt on the terminal is allowed (interactive use);
	 * PINs otherwise come from the URI's pin-source or OTATOOL_PKCS11_PIN.
	 */
	bool allow_prompt;
	/*
	 * Whether the URI came from the command line: then pin-value in it is
	 * refused (it would show in ps and shell history).
	 */
	bool uri_from_argv;
};

/*
 * One context per invocation: modules loaded once, one session and one
 * login per token however many keys and signatures use it.
 */
struct ota_pkcs11;
int ota_pkcs11_new(struct ota_pkcs11 **out, const struct ota_pkcs11_opts *o);
/* Logs out, closes sessions, finalizes modules, wipes PINs. Accepts NULL. */
void ota_pkcs11_free(struct ota_pkcs11 *p);

enum ota_pkcs11_key_type {
	OTA_PKCS11_KEY_RSA,
	OTA_PKCS11_KEY_EC, /* P-256 or P-384 */
	OTA_PKCS11_KEY_ED25519,
};

/* A private key in a token and its public half (owned by the context). */
struct ota_pkcs11_key;

/*
 * Finds exactly one private key matching uri (token by label, manufacturer,
 * model or serial; object by label "object=" and/or id "id=").
 * Logs in to its token with the PIN (pin-source, OTATOOL_PKCS11_PIN, or a
 * prompt). Errors are OTA_EKEY with the PKCS#11 return value by name
 * ("CKR_PIN_INCORRECT"), and say what was searched: no token matches; no
 * object matches; several match (listing their URIs); the object is a
 * public key or certificate, not a private key; CKA_SIGN is false; the key
 * type or curve is not supported (P-256, P-384, RSA 2048..4096, Ed25519).
 * The public key comes from the public-key object with the same CKA_ID (or
 * label), else from CKA_PUBLIC_KEY_INFO, else from a certificate object
 * with the same CKA_ID; none of them is OTA_EKEY.
 */
int ota_pkcs11_find_key(struct ota_pkcs11_key **out, struct ota_pkcs11 *p,
			const char *uri);

enum ota_pkcs11_key_type ota_pkcs11_key_type(const struct ota_pkcs11_key *k);
/* The key's canonical URI (token and object identified), for messages. */
const char *ota_pkcs11_key_uri(const struct ota_pkcs11_key *k);

/*
 * Generates a key pair inside the token named by uri (its object= label
 * names the pair; id= or a random 16-byte CKA_ID links the halves):
 * private key non-extractable, sensitive, CKA_SIGN; public key CKA_VERIFY.
 * type is one of "ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072",
 * "rsa-4096", "ed25519". Refuses (OTA_EKEY) if an object with that label or
 * id already exists. Writes the new private key's URI.
 */
int ota_pkcs11_generate(struct ota_pkcs11 *p, const char *uri, const char *type,
			char **key_uri);

/*
 * Lists tokens (slot id, label, manufacturer, model, serial, flags) and the
 * key and certificate objects on those matching uri (class, label, id in
 * hex, key type, size in bits or curve name, URI) as JSON text in the
 * canonical form (2-space indent, final newline), malloc'ed:
 * {"tokens": [{"slot":..., "label":..., ..., "objects": [...]}]}.
 * Objects need a login only for private keys: without a PIN source the
 * list shows public objects and says "login": false.
 */
int ota_pkcs11_list(char **out, size_t *len, struct ota_pkcs11 *p,
		    const char *uri);

/* ---- Decryption inside the token (pkcs11_decrypt.c) ---- */

/*
 * Finds the one private key uri names for decrypting firmware keys, as
 * ota_pkcs11_find_key() finds signing keys (same search, login and
 * messages), but it must be an EC P-256 key with CKA_DERIVE (ECDH) or an
 * RSA key of 2048 to 4096 bits with CKA_DECRYPT; CKA_SIGN does not
 * matter. Ed25519 and X25519 (CKK_EC_MONTGOMERY) keys are refused naming
 * the key type. The token need not hold a public half for it (decryption
 * does not need one).
 */
int ota_pkcs11_find_decrypt_key(struct ota_pkcs11_key **out,
				struct ota_pkcs11 *p, const char *uri);

/*
 * ECDH inside the token (CKM_ECDH1_DERIVE, no KDF) between the P-256 key
 * and peer, an uncompressed point (65 bytes). The shared secret comes out
 * of the token as the value of a session-only generic secret that is
 * destroyed at once; the private key does not.
 */
int ota_pkcs11_ecdh(uint8_t secret[32], struct ota_pkcs11_key *k,
		    const uint8_t *peer, size_t peer_len);

/*
 * RSA-OAEP decryption (SHA-256, MGF1-SHA-256, empty label) with the token
 * key. A token that has CKM_RSA_PKCS_OAEP only with SHA-1 (SoftHSM 2.6)
 * decrypts with CKM_RSA_X_509 inside it and the OAEP decoding happens
 * here, in constant time. in is exactly the modulus size (else
 * OTA_EINPUT); a ciphertext that does not decrypt is OTA_EVERIFY. Writes
 * at most outsize bytes.
 */
int ota_pkcs11_rsa_oaep_decrypt(uint8_t *out, size_t *outlen, size_t outsize,
				struct ota_pkcs11_key *k, const uint8_t *in,
				size_t inlen);

/* "CKR_PIN_INCORRECT" for 0xa0; "CKR_0x%08lx" for unknown values. */
const char *ota_pkcs11_rv_name(unsigned long rv);

#ifdef __cplusplus
}
#endif
#endif
