/*
 * Internal to the keys module: deterministic ECDSA (RFC 6979) for file
 * keys, so that two signatures of one digest by one key are the same bytes.
 * OpenSSL 3.2 and later make them itself ("nonce-type" = 1); Debian 12's
 * OpenSSL 3.0 does not, and rfc6979.c makes them with BIGNUM and EC_POINT.
 */
#ifndef OTATOOL_RFC6979_PRIV_H
#define OTATOOL_RFC6979_PRIV_H

#include "otatool/digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* The largest group order we take, in bytes (P-521's is 66). */
#define OTA_RFC6979_QBYTES_MAX 66

/*
 * The DER ECDSA-Sig-Value of digest by the EC private key pkey, with k
 * from RFC 6979 section 3.2 (HMAC-DRBG over the private key and the digest,
 * HMAC with the digest's own hash). The digest is used as OpenSSL uses it:
 * its leftmost bits, as many as the group order has. s is not normalised to
 * the lower half (RFC 6979's and OpenSSL's (r, s), byte for byte).
 * OpenSSL's own deterministic signing is used when the running library
 * offers it (ota_rfc6979_native()), ota_rfc6979_sign() otherwise. *sig is
 * malloc'd. OTA_EKEY, or OTA_EINTERNAL when out of memory.
 */
int ota_ecdsa_sign_deterministic(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
				 const struct ota_digest *digest);

/* Whether the OpenSSL otatool runs with signs with RFC 6979 itself (3.2+). */
bool ota_rfc6979_native(EVP_PKEY *pkey);

/* The signature above made by otatool's own code, whatever OpenSSL offers. */
int ota_rfc6979_sign(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
		     const struct ota_digest *digest);

/*
 * The first k RFC 6979 derives for pkey and digest, big-endian in as many
 * bytes as the group order has (written to *klen). For known-answer tests.
 */
int ota_rfc6979_nonce(uint8_t k[OTA_RFC6979_QBYTES_MAX], size_t *klen,
		      EVP_PKEY *pkey, const struct ota_digest *digest);

#endif
