/*
 * The key derivation and MAC under ECIES: HKDF (RFC 5869) and HMAC with
 * SHA-256 or SHA-512, through OpenSSL's EVP_KDF and EVP_MAC.
 */
#include "cipher_priv.h"

#include "otatool/error.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

int cipher_hkdf(uint8_t *out, size_t outlen, const char *md, const uint8_t *ikm,
		size_t ikmlen, const uint8_t *salt, size_t saltlen,
		const uint8_t *info, size_t infolen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int ok;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)md, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikmlen);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						 (void *)info, infolen);
	*p = OSSL_PARAM_construct_end();
	ok = ctx && EVP_KDF_derive(ctx, out, outlen, params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	if (!ok) {
		ERR_clear_error();
		OPENSSL_cleanse(out, outlen);
		return ota_error(OTA_EINTERNAL, "HKDF-%s failed", md);
	}
	return 0;
}

int cipher_hmac(uint8_t out[CIPHER_MAC_MAX], size_t *outlen, const char *md,
		const uint8_t *key, size_t keylen, const uint8_t *msg,
		size_t msglen)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)md, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_MAC_init(ctx, key, keylen, params) == 1 &&
	     EVP_MAC_update(ctx, msg, msglen) == 1 &&
	     EVP_MAC_final(ctx, out, outlen, CIPHER_MAC_MAX) == 1;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok) {
		ERR_clear_error();
		return ota_error(OTA_EINTERNAL, "HMAC-%s failed", md);
	}
	return 0;
}
