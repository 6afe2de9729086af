/*
 * Content keys and AES-CTR over an image body with MCUboot's nonce
 * convention: the counter block is zero at byte 0 of the body and is one
 * 128-bit big-endian number counting 16-byte blocks.
 */
#include "cipher_priv.h"

#include "otatool/error.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#define AES_BLOCK 16

/* Chunks handed to OpenSSL at most this large: its lengths are int. */
#define CTR_STEP (1u << 30)

struct ota_ctr {
	EVP_CIPHER_CTX *ctx;
	struct ota_content_key key;
};

int ota_content_key_set(struct ota_content_key *k, const uint8_t *bytes,
			size_t len)
{
	ota_content_key_wipe(k);
	if (len != 16 && len != 32)
		return ota_error(OTA_EUSAGE,
				 "an AES content key is 16 or 32 bytes, not "
				 "%zu",
				 len);
	memcpy(k->bytes, bytes, len);
	k->len = len;
	return 0;
}

int ota_content_key_generate(struct ota_content_key *k, unsigned bits)
{
	ota_content_key_wipe(k);
	if (bits != 128 && bits != 256)
		return ota_error(OTA_EUSAGE,
				 "AES key length %u: MCUboot encrypts with 128 "
				 "or 256 bits",
				 bits);
	/* RAND_priv_bytes: the generator OpenSSL keeps for secrets. */
	if (RAND_priv_bytes(k->bytes, (int)(bits / 8)) != 1) {
		ERR_clear_error();
		ota_content_key_wipe(k);
		return ota_error(OTA_EINTERNAL,
				 "no random bytes for a content key");
	}
	k->len = bits / 8;
	return 0;
}

void ota_content_key_wipe(struct ota_content_key *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}

static const char *ctr_name(size_t keylen)
{
	return keylen == 32 ? "AES-256-CTR" : "AES-128-CTR";
}

/* (Re)starts ctx at counter block iv. */
static int ctr_start(EVP_CIPHER_CTX *ctx, const uint8_t *key, size_t keylen,
		     const uint8_t iv[AES_BLOCK])
{
	EVP_CIPHER *c;
	int ok;

	if (keylen != 16 && keylen != 32)
		return ota_error(OTA_EUSAGE,
				 "an AES content key is 16 or 32 bytes, not "
				 "%zu",
				 keylen);
	c = EVP_CIPHER_fetch(NULL, ctr_name(keylen), NULL);
	ok = c && EVP_EncryptInit_ex2(ctx, c, key, iv, NULL) == 1;
	EVP_CIPHER_free(c);
	if (!ok) {
		ERR_clear_error();
		return ota_error(OTA_EINTERNAL, "cannot set up %s",
				 ctr_name(keylen));
	}
	return 0;
}

/* Runs len bytes through ctx, in steps that fit OpenSSL's int lengths. */
static int ctr_run(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in,
		   size_t len)
{
	while (len > 0) {
		size_t step = len > CTR_STEP ? CTR_STEP : len;
		int n = 0;

		if (EVP_EncryptUpdate(ctx, out, &n, in, (int)step) != 1 ||
		    (size_t)n != step) {
			ERR_clear_error();
			return ota_error(OTA_EINTERNAL, "AES-CTR failed");
		}
		out += step;
		in += step;
		len -= step;
	}
	return 0;
}

int ota_ctr_new(struct ota_ctr **out, const struct ota_content_key *k)
{
	struct ota_ctr *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->ctx = EVP_CIPHER_CTX_new())) {
		free(c);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	if ((rc = ota_content_key_set(&c->key, k->bytes, k->len)) ||
	    (rc = ota_ctr_seek(c, 0))) {
		ota_ctr_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int ota_ctr_update(struct ota_ctr *c, uint8_t *out, const uint8_t *in,
		   size_t len)
{
	return ctr_run(c->ctx, out, in, len);
}

int ota_ctr_seek(struct ota_ctr *c, uint64_t offset)
{
	uint8_t iv[AES_BLOCK] = { 0 }, skip[AES_BLOCK] = { 0 };
	uint64_t block = offset / AES_BLOCK;
	int rc;

	for (int i = 0; i < 8; i++)
		iv[AES_BLOCK - 1 - i] = (uint8_t)(block >> (8 * i));
	if ((rc = ctr_start(c->ctx, c->key.bytes, c->key.len, iv)))
		return rc;
	/* Into the block: spend the key stream bytes before offset. */
	rc = ctr_run(c->ctx, skip, skip, offset % AES_BLOCK);
	OPENSSL_cleanse(skip, sizeof(skip));
	return rc;
}

void ota_ctr_free(struct ota_ctr *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->ctx); /* cleanses the key schedule */
	ota_content_key_wipe(&c->key);
	free(c);
}

int cipher_ctr_once(uint8_t *out, const uint8_t *key, size_t keylen,
		    const uint8_t *iv, const uint8_t *in, size_t len)
{
	static const uint8_t zero[AES_BLOCK];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int rc;

	if (!ctx)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = ctr_start(ctx, key, keylen, iv ? iv : zero);
	if (rc == 0)
		rc = ctr_run(ctx, out, in, len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
