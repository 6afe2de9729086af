/*
 * AES key wrap (RFC 3394, default IV A6A6A6A6A6A6A6A6) with a key shared
 * between the signer and the device: MCUboot's TLV 0x31.
 */
#include "cipher_priv.h"

#include "otatool/error.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

static int kw_run(uint8_t *out, const uint8_t *kek, size_t keklen,
		  const uint8_t *in, size_t inlen, int enc)
{
	EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx;
	size_t outlen = enc ? inlen + 8 : inlen - 8;
	int n = 0, fin = 0, ok;

	if (keklen != 16 && keklen != 32)
		return ota_error(OTA_EUSAGE,
				 "an AES-KW key is 16 or 32 bytes, not %zu",
				 keklen);
	if (inlen % 8 != 0 || inlen < (enc ? 16u : 24u) || inlen > 4096)
		return ota_error(OTA_EINPUT,
				 "AES-KW %s %zu bytes: RFC 3394 needs a "
				 "multiple of 8, at least %d",
				 enc ? "cannot wrap" : "cannot unwrap", inlen,
				 enc ? 16 : 24);
	c = EVP_CIPHER_fetch(
	    NULL, keklen == 32 ? "AES-256-WRAP" : "AES-128-WRAP", NULL);
	ctx = EVP_CIPHER_CTX_new();
	ok = c && ctx &&
	     EVP_CipherInit_ex2(ctx, c, kek, NULL, enc, NULL) == 1 &&
	     EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) == 1 &&
	     EVP_CipherFinal_ex(ctx, out + n, &fin) == 1 &&
	     (size_t)(n + fin) == outlen;
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	ERR_clear_error();
	if (!ok) {
		OPENSSL_cleanse(out, outlen);
		if (!enc)
			return ota_error(OTA_EVERIFY,
					 "AES-KW integrity check failed: wrong "
					 "key, or the wrapped key was altered");
		return ota_error(OTA_EINTERNAL, "AES-KW wrap failed");
	}
	return 0;
}

int cipher_kw_wrap(uint8_t *out, const uint8_t *kek, size_t keklen,
		   const uint8_t *in, size_t inlen)
{
	return kw_run(out, kek, keklen, in, inlen, 1);
}

int cipher_kw_unwrap(uint8_t *out, const uint8_t *kek, size_t keklen,
		     const uint8_t *in, size_t inlen)
{
	return kw_run(out, kek, keklen, in, inlen, 0);
}
