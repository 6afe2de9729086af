/*
 * RSA-OAEP key wrapping as MCUboot's TLV 0x30 holds it: OAEP with SHA-256,
 * MGF1-SHA-256 and an empty label; the payload is the RSA ciphertext, the
 * modulus size (256 bytes for MCUboot's RSA-2048).
 */
#include "cipher_priv.h"

#include "otatool/error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include <string.h>

static int oaep_setup(EVP_PKEY_CTX *ctx)
{
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx, "SHA256", NULL) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx, "SHA256", NULL) > 0;
}

int cipher_rsa_wrap(uint8_t *out, size_t *outlen, EVP_PKEY *pub,
		    const struct ota_content_key *k)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	size_t len = OTA_WRAP_MAX;
	int ok;

	ok = ctx && EVP_PKEY_encrypt_init(ctx) == 1 && oaep_setup(ctx) &&
	     EVP_PKEY_encrypt(ctx, out, &len, k->bytes, k->len) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (!ok)
		return ota_error(OTA_EINTERNAL, "RSA-OAEP encryption failed");
	*outlen = len;
	return 0;
}

int cipher_rsa_unwrap(uint8_t *out, size_t *outlen, size_t outsize,
		      EVP_PKEY *priv, const uint8_t *in, size_t inlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	uint8_t buf[OTA_WRAP_MAX];
	size_t len = sizeof(buf);
	int ok;

	*outlen = 0;
	ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1 && oaep_setup(ctx) &&
	     EVP_PKEY_decrypt(ctx, buf, &len, in, inlen) == 1 && len <= outsize;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	if (ok) {
		memcpy(out, buf, len);
		*outlen = len;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return ok ? 0
		  : ota_error(OTA_EVERIFY,
			      "RSA-OAEP decryption failed: the wrong device "
			      "key, or the wrapped key was altered");
}
