/*
 * Internal to the cipher module: the primitives its files share (HKDF,
 * HMAC, one-shot AES-CTR, AES-KW, ECDH, ECIES sealing and opening), kept
 * out of the public header so that no OpenSSL type shows there. The unit
 * tests reach them for their known-answer vectors.
 */
#ifndef OTATOOL_CIPHER_PRIV_H
#define OTATOOL_CIPHER_PRIV_H

#include "otatool/cipher.h"

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* MCUboot's HKDF info string (no salt is used). */
#define CIPHER_ECIES_INFO "MCUBoot_ECIES_v1"

/* Largest HMAC tag and HKDF output the schemes use (SHA-512). */
#define CIPHER_MAC_MAX 64

/*
 * HKDF (RFC 5869) with md "SHA256" or "SHA512"; salt NULL means none (the
 * RFC's string of zeros). OTA_EINTERNAL when OpenSSL fails.
 */
int cipher_hkdf(uint8_t *out, size_t outlen, const char *md, const uint8_t *ikm,
		size_t ikmlen, const uint8_t *salt, size_t saltlen,
		const uint8_t *info, size_t infolen);

/* HMAC with md over msg; *outlen is the digest size (<= CIPHER_MAC_MAX). */
int cipher_hmac(uint8_t out[CIPHER_MAC_MAX], size_t *outlen, const char *md,
		const uint8_t *key, size_t keylen, const uint8_t *msg,
		size_t msglen);

/*
 * AES-CTR over len bytes, one shot, from counter block iv (16 bytes; NULL
 * is MCUboot's zero block).
 */
int cipher_ctr_once(uint8_t *out, const uint8_t *key, size_t keylen,
		    const uint8_t *iv, const uint8_t *in, size_t len);

/*
 * RFC 3394 key wrap with its default IV, kek of 16 or 32 bytes; in is a
 * multiple of 8 bytes, at least 16. Wrap writes inlen + 8 bytes; unwrap
 * writes inlen - 8 and is OTA_EVERIFY when the integrity check fails.
 */
int cipher_kw_wrap(uint8_t *out, const uint8_t *kek, size_t keklen,
		   const uint8_t *in, size_t inlen);
int cipher_kw_unwrap(uint8_t *out, const uint8_t *kek, size_t keklen,
		     const uint8_t *in, size_t inlen);

/*
 * ECDH (P-256 or X25519) between priv and peer: the shared secret, 32
 * bytes for both curves. OTA_EVERIFY when OpenSSL refuses the peer key.
 */
int cipher_ecdh(uint8_t secret[32], EVP_PKEY *priv, EVP_PKEY *peer);

/* The ephemeral public key's bytes in an ECIES payload: 65 or 32. */
size_t cipher_ecies_pub_len(enum ota_wrap_scheme s);

/*
 * ECIES as MCUboot defines it, for s one of the three ECIES schemes:
 * ephemeral public key || HMAC tag || AES-CTR(content key). seal makes the
 * ephemeral key itself when ephemeral is NULL (the tests pass one to check
 * a known answer). open takes the ECDH secret, computed by whoever holds
 * the device key (a file key or a token), checks the tag in constant time
 * and only then decrypts.
 */
int cipher_ecies_seal(uint8_t *out, size_t *outlen, enum ota_wrap_scheme s,
		      EVP_PKEY *recipient, EVP_PKEY *ephemeral,
		      const struct ota_content_key *k);
int cipher_ecies_open(struct ota_content_key *out, enum ota_wrap_scheme s,
		      const uint8_t secret[32], const uint8_t *payload,
		      size_t len, size_t keylen);

/*
 * The peer public key of an ECIES payload as an EVP_PKEY: P-256 from the
 * uncompressed point (checked on the curve), X25519 from 32 bytes.
 */
int cipher_ecies_peer(EVP_PKEY **out, enum ota_wrap_scheme s,
		      const uint8_t *pub, size_t len);

/*
 * RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) of a content key; out holds
 * OTA_WRAP_MAX bytes. unwrap is OTA_EVERIFY when it does not decrypt or
 * gives more than outsize bytes.
 */
int cipher_rsa_wrap(uint8_t *out, size_t *outlen, EVP_PKEY *pub,
		    const struct ota_content_key *k);
int cipher_rsa_unwrap(uint8_t *out, size_t *outlen, size_t outsize,
		      EVP_PKEY *priv, const uint8_t *in, size_t inlen);

#endif
