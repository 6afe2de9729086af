/*
 * ECIES as MCUboot defines it for its key TLVs 0x32 (P-256), 0x33 and 0x34
 * (X25519): an ephemeral key pair, ECDH with the device's public key, HKDF
 * without salt and with info "MCUBoot_ECIES_v1" giving keylen bytes of AES
 * key and then a digest's length of HMAC key, AES-CTR (zero counter) of the
 * content key, and an HMAC over that ciphertext. The payload is the
 * ephemeral public key (65-byte uncompressed point, or 32 raw bytes), the
 * tag (32 or 64 bytes), then the ciphertext (16 or 32 bytes).
 */
#include "cipher_priv.h"

#include "otatool/error.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#define P256_POINT 65
#define X25519_LEN 32

static bool is_p256(enum ota_wrap_scheme s)
{
	return s == OTA_WRAP_ECIES_P256;
}

static const char *scheme_md(enum ota_wrap_scheme s, size_t *mdlen)
{
	*mdlen = s == OTA_WRAP_ECIES_X25519_SHA512 ? 64 : 32;
	return *mdlen == 64 ? "SHA512" : "SHA256";
}

size_t cipher_ecies_pub_len(enum ota_wrap_scheme s)
{
	return is_p256(s) ? P256_POINT : X25519_LEN;
}

int cipher_ecdh(uint8_t secret[32], EVP_PKEY *priv, EVP_PKEY *peer)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	size_t len = 32;
	int ok;

	/* validate: the peer key is checked (on the curve, not all-zero). */
	ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) == 1 &&
	     EVP_PKEY_derive(ctx, secret, &len) == 1 && len == 32;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		OPENSSL_cleanse(secret, 32);
		return ota_error(OTA_EVERIFY,
				 "ECDH failed: the ephemeral public key is "
				 "not a valid point");
	}
	return 0;
}

int cipher_ecies_peer(EVP_PKEY **out, enum ota_wrap_scheme s,
		      const uint8_t *pub, size_t len)
{
	static char group[] = "prime256v1";
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	int ok;

	*out = NULL;
	if (len != cipher_ecies_pub_len(s))
		return ota_error(OTA_EINPUT,
				 "ephemeral public key of %zu bytes, not %zu",
				 len, cipher_ecies_pub_len(s));
	if (!is_p256(s)) {
		*out = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pub,
						      len);
		ERR_clear_error();
		return *out ? 0
			    : ota_error(OTA_EINTERNAL,
					"cannot import an X25519 key");
	}
	if (pub[0] != 0x04)
		return ota_error(OTA_EVERIFY,
				 "ephemeral P-256 key is not an uncompressed "
				 "point (first byte 0x%02x, not 0x04)",
				 pub[0]);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)pub, len);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return ota_error(OTA_EVERIFY,
				 "ephemeral P-256 key is not a point on the "
				 "curve");
	}
	return 0;
}

/* The ephemeral public key as the payload holds it. */
static int pub_bytes(uint8_t *out, enum ota_wrap_scheme s, EVP_PKEY *eph)
{
	size_t len = cipher_ecies_pub_len(s), got = 0;
	int ok;

	if (is_p256(s))
		ok = EVP_PKEY_get_octet_string_param(
			 eph, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, len,
			 &got) == 1 &&
		     got == len && out[0] == 0x04;
	else
		ok = (got = len, EVP_PKEY_get_raw_public_key(eph, out, &got)) ==
			 1 &&
		     got == len;
	ERR_clear_error();
	return ok ? 0
		  : ota_error(OTA_EINTERNAL,
			      "cannot encode the ephemeral public key");
}

/* HKDF output: keylen bytes of AES key, then mdlen bytes of HMAC key. */
static int derive(uint8_t okm[32 + CIPHER_MAC_MAX], enum ota_wrap_scheme s,
		  const uint8_t secret[32], size_t keylen)
{
	size_t mdlen;
	const char *md = scheme_md(s, &mdlen);

	return cipher_hkdf(okm, keylen + mdlen, md, secret, 32, NULL, 0,
			   (const uint8_t *)CIPHER_ECIES_INFO,
			   strlen(CIPHER_ECIES_INFO));
}

int cipher_ecies_seal(uint8_t *out, size_t *outlen, enum ota_wrap_scheme s,
		      EVP_PKEY *recipient, EVP_PKEY *ephemeral,
		      const struct ota_content_key *k)
{
	uint8_t secret[32], okm[32 + CIPHER_MAC_MAX], tag[CIPHER_MAC_MAX];
	size_t publen = cipher_ecies_pub_len(s), mdlen, taglen = 0;
	const char *md = scheme_md(s, &mdlen);
	EVP_PKEY *eph = ephemeral;
	int rc;

	*outlen = 0;
	if (!eph) {
		eph = is_p256(s) ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
				 : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		if (!eph) {
			ERR_clear_error();
			return ota_error(OTA_EINTERNAL,
					 "cannot make an ephemeral key");
		}
	}
	if ((rc = pub_bytes(out, s, eph)) ||
	    (rc = cipher_ecdh(secret, eph, recipient)) ||
	    (rc = derive(okm, s, secret, k->len)) ||
	    (rc = cipher_ctr_once(out + publen + mdlen, okm, k->len, NULL,
				  k->bytes, k->len)) ||
	    (rc = cipher_hmac(tag, &taglen, md, okm + k->len, mdlen,
			      out + publen + mdlen, k->len)))
		goto out;
	memcpy(out + publen, tag, mdlen);
	*outlen = publen + mdlen + k->len;
out:
	if (rc == OTA_EVERIFY)
		rc = ota_error(OTA_EKEY, "the recipient's public key is not "
					 "usable for ECDH");
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(okm, sizeof(okm));
	if (eph != ephemeral)
		EVP_PKEY_free(eph);
	return rc;
}

int cipher_ecies_open(struct ota_content_key *out, enum ota_wrap_scheme s,
		      const uint8_t secret[32], const uint8_t *payload,
		      size_t len, size_t keylen)
{
	uint8_t okm[32 + CIPHER_MAC_MAX], tag[CIPHER_MAC_MAX], key[32];
	size_t publen = cipher_ecies_pub_len(s), mdlen, taglen = 0;
	const char *md = scheme_md(s, &mdlen);
	const uint8_t *ct = payload + publen + mdlen;
	int rc;

	ota_content_key_wipe(out);
	if ((keylen != 16 && keylen != 32) || len != publen + mdlen + keylen)
		return ota_error(OTA_EINPUT, "%s payload of %zu bytes, not %zu",
				 ota_wrap_scheme_name(s), len,
				 publen + mdlen + keylen);
	if ((rc = derive(okm, s, secret, keylen)) ||
	    (rc = cipher_hmac(tag, &taglen, md, okm + keylen, mdlen, ct,
			      keylen)))
		goto out;
	/* The tag first and in constant time: nothing is decrypted unchecked.
	 */
	if (CRYPTO_memcmp(tag, payload + publen, mdlen) != 0) {
		rc = ota_error(OTA_EVERIFY,
			       "%s: HMAC-SHA-%zu of the wrapped key does not "
			       "match: the wrong device key, or the TLV was "
			       "altered",
			       ota_wrap_scheme_name(s), mdlen * 8);
		goto out;
	}
	if ((rc = cipher_ctr_once(key, okm, keylen, NULL, ct, keylen)) == 0)
		rc = ota_content_key_set(out, key, keylen);
out:
	OPENSSL_cleanse(okm, sizeof(okm));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
