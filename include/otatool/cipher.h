/*
 * Firmware encryption as MCUboot does it (otatool-encryption(7)): a fresh
 * AES content key per image, AES-CTR over the image body, and that key
 * wrapped for the device in one of MCUboot's key-TLV schemes (RSA-OAEP,
 * AES-KW, ECIES-P256, ECIES-X25519).
 */
#ifndef OTATOOL_CIPHER_H
#define OTATOOL_CIPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Content keys and AES-CTR ------------------------------------------ */

#define OTA_CONTENT_KEY_MAX 32

/* An AES-128 or AES-256 content key; wipe it when done. */
struct ota_content_key {
	uint8_t bytes[OTA_CONTENT_KEY_MAX];
	size_t len; /* 16 or 32 */
};

/* A fresh random key of bits 128 or 256 (else OTA_EUSAGE). */
int ota_content_key_generate(struct ota_content_key *k, unsigned bits);
/* A key from len (16 or 32) bytes: known-answer tests, unwrapped keys. */
int ota_content_key_set(struct ota_content_key *k, const uint8_t *bytes,
			size_t len);
/* OPENSSL_cleanse over the whole struct. Accepts NULL. */
void ota_content_key_wipe(struct ota_content_key *k);

/*
 * AES-CTR with MCUboot's nonce convention: the counter block starts at zero
 * at byte 0 of the body and counts 16-byte blocks (big-endian, the whole
 * block). Encryption and decryption are the same operation. Chunks may be
 * of any size, the stream continues where the last one ended.
 */
struct ota_ctr;

/* The key is copied; the caller may wipe its own copy at once. */
int ota_ctr_new(struct ota_ctr **out, const struct ota_content_key *k);
/* out and in may be the same buffer; len may be 0. */
int ota_ctr_update(struct ota_ctr *c, uint8_t *out, const uint8_t *in,
		   size_t len);
/* Continues the stream from byte offset of the body (random access). */
int ota_ctr_seek(struct ota_ctr *c, uint64_t offset);
/* Wipes the key schedule. Accepts NULL. */
void ota_ctr_free(struct ota_ctr *c);

#ifdef __cplusplus
}
#endif
#endif
