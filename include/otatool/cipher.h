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

struct ota_key_opts; /* otatool/key.h */

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

/* ---- Key-wrap schemes -------------------------------------------------- */

/* Each scheme's value is its MCUboot TLV type. */
enum ota_wrap_scheme {
	OTA_WRAP_RSA_OAEP = 0x30,     /* RSA-OAEP, SHA-256, MGF1-SHA-256 */
	OTA_WRAP_AES_KW = 0x31,       /* RFC 3394 with a shared key */
	OTA_WRAP_ECIES_P256 = 0x32,   /* HKDF/HMAC-SHA-256 */
	OTA_WRAP_ECIES_X25519 = 0x33, /* HKDF/HMAC-SHA-256 */
	OTA_WRAP_ECIES_X25519_SHA512 = 0x34, /* HKDF/HMAC-SHA-512 */
};

/* The largest wrapped key: RSA-4096 OAEP. */
#define OTA_WRAP_MAX 512

/*
 * "rsa-oaep", "aes-kw", "ecies-p256", "ecies-x25519", "ecies-x25519-sha512";
 * NULL for a value that is none of them.
 */
const char *ota_wrap_scheme_name(unsigned tlv_type);
/* OTA_EINPUT when tlv_type is not one of MCUboot's key TLVs. */
int ota_wrap_scheme_of_tlv(enum ota_wrap_scheme *out, unsigned tlv_type);
/* The key a device needs for scheme, for messages ("an X25519 private key").
 */
const char *ota_wrap_scheme_key_type(enum ota_wrap_scheme s);

/*
 * Bytes of a wrapped key of keylen (16 or 32) bytes. RSA-OAEP is the
 * modulus size: for it rsa_bits names the key (MCUboot's TLV 0x30 is
 * RSA-2048: 256 bytes). 0 for a combination that does not exist.
 */
size_t ota_wrap_len(enum ota_wrap_scheme s, size_t keylen, unsigned rsa_bits);

/* ---- Recipients: whom a content key is wrapped for --------------------- */

struct ota_recipient;

/*
 * Loads a recipient from path: a public key (PEM or DER
 * SubjectPublicKeyInfo; a certificate or a private key file gives its
 * public half) of P-256 (ECIES-P256), X25519 (ECIES-X25519) or RSA 2048 to
 * 4096 bits (RSA-OAEP), or an AES-KW key file: base64 text of 16 or 32
 * bytes, the format newt reads. hmac_bits is 256 (or 0) or 512; 512 is
 * ECIES-X25519 with SHA-512 (TLV 0x34) and is refused for the other key
 * types (OTA_EUSAGE). Other key types and sizes are OTA_EKEY naming path
 * and what was found.
 */
int ota_recipient_load(struct ota_recipient **out, const char *path,
		       unsigned hmac_bits);
/*
 * The same from a DER SubjectPublicKeyInfo held in memory (a token's
 * public key); name is what messages call it.
 */
int ota_recipient_from_der(struct ota_recipient **out, const uint8_t *der,
			   size_t len, unsigned hmac_bits, const char *name);
/*
 * ota_recipient_load(), or with a "pkcs11:" URI the public half of a
 * decryption key in a token (opts->pkcs11: a P-256 key with CKA_DERIVE or
 * an RSA key with CKA_DECRYPT, whose public key object the token holds).
 */
int ota_recipient_open(struct ota_recipient **out, const char *ref,
		       const struct ota_key_opts *opts, unsigned hmac_bits);
void ota_recipient_free(struct ota_recipient *r);

/*
 * The key id an otatool package names a recipient by: SHA-256 of its DER
 * SubjectPublicKeyInfo, or for an AES-KW key SHA-256 of the ASCII text
 * "otatool AES-KW key id" followed by the key's bytes
 * (otatool-package(5)).
 */
#define OTA_KEK_ID_LABEL "otatool AES-KW key id"
int ota_recipient_key_id(uint8_t out[32], const struct ota_recipient *r);

enum ota_wrap_scheme ota_recipient_scheme(const struct ota_recipient *r);
/* RSA modulus bits, 0 for the other schemes. */
unsigned ota_recipient_rsa_bits(const struct ota_recipient *r);
const char *ota_recipient_name(const struct ota_recipient *r);

/*
 * Wraps k for r into out (OTA_WRAP_MAX bytes), *outlen bytes written:
 * exactly the payload of r's MCUboot key TLV. ECIES makes a fresh
 * ephemeral key each call.
 */
int ota_recipient_wrap(uint8_t out[OTA_WRAP_MAX], size_t *outlen,
		       const struct ota_recipient *r,
		       const struct ota_content_key *k);

/* ---- Device keys: who unwraps ------------------------------------------ */

struct ota_decrypt_key;

/*
 * Opens the device's key: a "pkcs11:" URI (through opts->pkcs11: an EC
 * P-256 key with CKA_DERIVE, or an RSA key with CKA_DECRYPT; the private
 * key never leaves the token), a private key file (PEM or DER; encrypted
 * PEM with the passphrase from opts->passphrase_file,
 * OTATOOL_KEY_PASSPHRASE or a prompt, as for signing keys) of P-256,
 * X25519 or RSA 2048 to 4096 bits, or an AES-KW key file (base64 text of
 * 16 or 32 bytes). opts->rsa_pkcs1 is ignored. Errors are OTA_EKEY naming
 * ref.
 */
int ota_decrypt_key_open(struct ota_decrypt_key **out, const char *ref,
			 const struct ota_key_opts *opts);
/* Wipes the key. Accepts NULL. A token key stays with its context. */
void ota_decrypt_key_free(struct ota_decrypt_key *k);

/* What the key is, for messages: "P-256", "X25519", "RSA-2048", "AES-KW-128".
 */
const char *ota_decrypt_key_kind(const struct ota_decrypt_key *k);
/*
 * The key id of k as ota_recipient_key_id() computes it for its public
 * half: 0, or 1 when it is not known (a token key without a public key
 * object), when a reader tries every IMAGE_KEY of a fitting scheme.
 */
int ota_decrypt_key_id(uint8_t out[32], const struct ota_decrypt_key *k);
/* Whether k can unwrap keys wrapped with s. */
bool ota_decrypt_key_accepts(const struct ota_decrypt_key *k,
			     enum ota_wrap_scheme s);

/*
 * Unwraps a key TLV payload of scheme s that must hold a keylen (16 or 32)
 * byte content key (the MCUboot header flag says which). A key that does
 * not fit s is OTA_EKEY naming the key type needed; then the payload's
 * length is checked against s, keylen and the key (OTA_EINPUT, naming
 * both lengths) before any byte of it is used; ECIES checks the ephemeral
 * key and then its HMAC (in constant time) before it decrypts anything. A
 * wrong device key and an altered payload cannot be told apart: both are
 * OTA_EVERIFY. *out is wiped on every error.
 */
int ota_unwrap(struct ota_content_key *out, struct ota_decrypt_key *k,
	       enum ota_wrap_scheme s, const uint8_t *payload, size_t len,
	       size_t keylen);

/* ---- Key files --------------------------------------------------------- */

/* The types ota_encrypt_key_generate_file() makes. */
#define OTA_ENCRYPT_KEY_TYPES "x25519, aes-kw-128, aes-kw-256"

/*
 * Generates a device key into files, neither of which may exist
 * (OTA_EOUTPUT). "x25519": an unencrypted PKCS#8 PEM private key (mode
 * 0600) and its PEM SubjectPublicKeyInfo, with its key id (hex SHA-256 of
 * the SubjectPublicKeyInfo, 64 digits and a NUL) in id. "aes-kw-128",
 * "aes-kw-256": one shared key file, base64 text (mode 0600); public_path
 * must be NULL and id is set to "". Other types are OTA_EUSAGE.
 */
int ota_encrypt_key_generate_file(char id[65], const char *type,
				  const char *private_path,
				  const char *public_path);

#ifdef __cplusplus
}
#endif
#endif
