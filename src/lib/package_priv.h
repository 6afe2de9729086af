/*
 * Internal to the package module: encryption of package images (format
 * version 3, package_crypt.c) as the writer and the checker use it.
 */
#ifndef OTATOOL_PACKAGE_PRIV_H
#define OTATOOL_PACKAGE_PRIV_H

#include "otatool/cipher.h"
#include "otatool/digest.h"
#include "otaverify.h"

#include <stddef.h>
#include <stdint.h>

/* ---- Writing ------------------------------------------------------------ */

struct ota_package_crypt;

/*
 * A fresh content key of bits (0: 128) for each of n_images images,
 * wrapped at once for every recipient (RSA: 2048, 3072 or 4096 bits, the
 * sizes a device checks), and a cipher and a digest (alg) of the cipher
 * text per image. The keys themselves are kept only inside the ciphers.
 */
int ota_package_crypt_new(struct ota_package_crypt **out,
			  const struct ota_recipient *const *recipients,
			  size_t n_recipients, unsigned bits, size_t n_images,
			  enum ota_digest_alg alg);
void ota_package_crypt_free(struct ota_package_crypt *c);
size_t ota_package_crypt_recipients(const struct ota_package_crypt *c);
/*
 * The IMAGE_KEY value of image i for recipient k into v (at most
 * OTAPKG_IMAGE_KEY_FIXED + OTA_WRAP_MAX bytes); returns its length.
 */
size_t ota_package_crypt_image_key(uint8_t *v,
				   const struct ota_package_crypt *c, size_t i,
				   size_t k);
/* Encrypts the next len bytes of image i (out may be in) and hashes them. */
int ota_package_crypt_update(struct ota_package_crypt *c, size_t i,
			     uint8_t *out, const uint8_t *in, size_t len);
/* The cipher text's digest; wipes that image's key. */
int ota_package_crypt_final(struct ota_package_crypt *c, size_t i,
			    struct ota_digest *stored);

/* ---- Reading ------------------------------------------------------------ */

/* The device verifier's cipher callbacks with a host decryption key. */
struct ota_package_decrypt {
	struct ota_decrypt_key *key;
	bool has_id;
	uint8_t id[32];
	uint32_t keyed;
	uint32_t tried; /* images with an IMAGE_KEY for this key that failed */
	struct ota_content_key keys[OTAPKG_MAX_IMAGES];
	struct ota_ctr *ctr;
	int err; /* a host-side failure (not a wrong key) */
};

/* Starts with key (not owned); 0, or an error of the library's. */
int ota_package_decrypt_init(struct ota_package_decrypt *d,
			     struct ota_decrypt_key *key);
/* Wipes every key. */
void ota_package_decrypt_clear(struct ota_package_decrypt *d);
/* The otav_crypto callbacks, with d as their context. */
int ota_package_decrypt_unwrap(struct ota_package_decrypt *d, unsigned image,
			       const struct otav_image_key *k);
int ota_package_decrypt_begin(struct ota_package_decrypt *d, unsigned image);
int ota_package_decrypt_update(struct ota_package_decrypt *d, const uint8_t *in,
			       uint8_t *out, size_t len);
void ota_package_decrypt_end(struct ota_package_decrypt *d, unsigned image);

#endif
