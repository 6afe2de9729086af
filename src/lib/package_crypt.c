/*
 * Encrypted package images (format version 3, otatool-package(5)): the
 * writer's fresh content key per image, wrapped for every recipient with
 * MCUboot's schemes (cipher.h) into IMAGE_KEY TLVs, AES-CTR over the
 * stored bytes and the digest of the cipher text; and the reader's side
 * of the device verifier's unwrap and cipher callbacks with a host key.
 */
#include "package_priv.h"

#include "hasher.h"

#include "otatool/error.h"
#include "otatool/hex.h"
#include "otatool/package.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

struct crypt_image {
	struct ota_ctr *ctr;
	EVP_MD_CTX *md;
	uint8_t wrapped[OTA_PACKAGE_MAX_RECIPIENTS][OTA_WRAP_MAX];
	size_t wrapped_len[OTA_PACKAGE_MAX_RECIPIENTS];
};

struct ota_package_crypt {
	size_t n_images, n_recipients;
	uint8_t key_len;
	uint8_t scheme[OTA_PACKAGE_MAX_RECIPIENTS];
	uint8_t keyid[OTA_PACKAGE_MAX_RECIPIENTS][32];
	const EVP_MD *md;
	struct crypt_image *images;
};

void ota_package_crypt_free(struct ota_package_crypt *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->images && i < c->n_images; i++) {
		ota_ctr_free(c->images[i].ctr);
		EVP_MD_CTX_free(c->images[i].md);
	}
	free(c->images);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* What a recipient can be: a scheme a device checks the length of. */
static int check_recipient(const struct ota_recipient *r)
{
	unsigned bits = ota_recipient_rsa_bits(r);

	if (ota_recipient_scheme(r) == OTA_WRAP_RSA_OAEP && bits != 2048 &&
	    bits != 3072 && bits != 4096)
		return ota_error(OTA_EKEY,
				 "%s: an RSA key of %u bits: packages wrap "
				 "keys for RSA-2048, 3072 or 4096",
				 ota_recipient_name(r), bits);
	return 0;
}

static int crypt_image_new(struct ota_package_crypt *c, size_t i,
			   const struct ota_recipient *const *recipients,
			   unsigned bits)
{
	struct crypt_image *im = &c->images[i];
	struct ota_content_key k;
	int rc;

	if ((rc = ota_content_key_generate(&k, bits)))
		return rc;
	for (size_t r = 0; rc == 0 && r < c->n_recipients; r++)
		rc = ota_recipient_wrap(im->wrapped[r], &im->wrapped_len[r],
					recipients[r], &k);
	if (rc == 0)
		rc = ota_ctr_new(&im->ctr, &k);
	ota_content_key_wipe(&k);
	if (rc)
		return rc;
	im->md = EVP_MD_CTX_new();
	if (!im->md || !EVP_DigestInit_ex(im->md, c->md, NULL))
		return ota_error(OTA_EINTERNAL, "digest failed");
	return 0;
}

int ota_package_crypt_new(struct ota_package_crypt **out,
			  const struct ota_recipient *const *recipients,
			  size_t n_recipients, unsigned bits, size_t n_images,
			  enum ota_digest_alg alg)
{
	struct ota_package_crypt *c;
	int rc = 0;

	*out = NULL;
	if (!bits)
		bits = 128;
	if (bits != 128 && bits != 256)
		return ota_error(OTA_EUSAGE,
				 "AES-%u: packages encrypt with AES-128 or "
				 "AES-256",
				 bits);
	if (n_recipients < 1 || n_recipients > OTA_PACKAGE_MAX_RECIPIENTS)
		return ota_error(OTA_EUSAGE,
				 "an encrypted package has 1 to %d "
				 "recipients, not %zu",
				 OTA_PACKAGE_MAX_RECIPIENTS, n_recipients);
	for (size_t r = 0; r < n_recipients; r++)
		if ((rc = check_recipient(recipients[r])))
			return rc;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->images =
			calloc(n_images ? n_images : 1, sizeof(*c->images)))) {
		free(c);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	c->n_images = n_images;
	c->n_recipients = n_recipients;
	c->key_len = (uint8_t)(bits / 8);
	c->md = ota_digest_md(alg);
	for (size_t r = 0; rc == 0 && r < n_recipients; r++) {
		c->scheme[r] = (uint8_t)ota_recipient_scheme(recipients[r]);
		rc = ota_recipient_key_id(c->keyid[r], recipients[r]);
	}
	for (size_t i = 0; rc == 0 && i < n_images; i++)
		rc = crypt_image_new(c, i, recipients, bits);
	if (rc) {
		ota_package_crypt_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

size_t ota_package_crypt_recipients(const struct ota_package_crypt *c)
{
	return c->n_recipients;
}

size_t ota_package_crypt_image_key(uint8_t *v,
				   const struct ota_package_crypt *c, size_t i,
				   size_t k)
{
	size_t n = c->images[i].wrapped_len[k];

	v[0] = (uint8_t)i;
	v[1] = c->scheme[k];
	v[2] = c->key_len;
	v[3] = 0;
	memcpy(v + 4, c->keyid[k], 32);
	memcpy(v + OTAPKG_IMAGE_KEY_FIXED, c->images[i].wrapped[k], n);
	return OTAPKG_IMAGE_KEY_FIXED + n;
}

int ota_package_crypt_update(struct ota_package_crypt *c, size_t i,
			     uint8_t *out, const uint8_t *in, size_t len)
{
	struct crypt_image *im = &c->images[i];
	int rc;

	if (!im->ctr)
		return ota_error(OTA_EINTERNAL, "image %zu encrypted twice", i);
	if ((rc = ota_ctr_update(im->ctr, out, in, len)))
		return rc;
	if (EVP_DigestUpdate(im->md, out, len) != 1)
		return ota_error(OTA_EINTERNAL, "digest failed");
	return 0;
}

int ota_package_crypt_final(struct ota_package_crypt *c, size_t i,
			    struct ota_digest *stored)
{
	struct crypt_image *im = &c->images[i];
	unsigned int n = 0;

	ota_ctr_free(im->ctr);
	im->ctr = NULL;
	if (EVP_DigestFinal_ex(im->md, stored->bytes, &n) != 1)
		return ota_error(OTA_EINTERNAL, "digest failed");
	stored->len = n;
	return 0;
}

/* ---- Reading ------------------------------------------------------------ */

int ota_package_decrypt_init(struct ota_package_decrypt *d,
			     struct ota_decrypt_key *key)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->key = key;
	rc = ota_decrypt_key_id(d->id, key);
	if (rc < 0)
		return rc;
	d->has_id = rc == 0;
	return 0;
}

void ota_package_decrypt_clear(struct ota_package_decrypt *d)
{
	ota_ctr_free(d->ctr);
	OPENSSL_cleanse(d, sizeof(*d));
}

int ota_package_decrypt_unwrap(struct ota_package_decrypt *d, unsigned image,
			       const struct otav_image_key *k)
{
	enum ota_wrap_scheme s;
	int rc;

	if (image >= OTAPKG_MAX_IMAGES ||
	    ota_wrap_scheme_of_tlv(&s, k->scheme) ||
	    !ota_decrypt_key_accepts(d->key, s))
		return 1;
	if (d->has_id && memcmp(d->id, k->keyid, 32) != 0)
		return 1;
	rc = ota_unwrap(&d->keys[image], d->key, s, k->wrapped, k->wrapped_len,
			k->key_len);
	if (rc == OTA_EVERIFY || rc == OTA_EINPUT || rc == OTA_EKEY) {
		d->tried |= 1u << image;
		return -1;
	}
	if (rc) {
		d->err = rc; /* the token or OpenSSL failed */
		return -1;
	}
	d->keyed |= 1u << image;
	return 0;
}

int ota_package_decrypt_begin(struct ota_package_decrypt *d, unsigned image)
{
	int rc;

	if (image >= OTAPKG_MAX_IMAGES || !(d->keyed & 1u << image))
		return -1;
	ota_ctr_free(d->ctr);
	d->ctr = NULL;
	if ((rc = ota_ctr_new(&d->ctr, &d->keys[image]))) {
		d->err = rc;
		return -1;
	}
	return 0;
}

int ota_package_decrypt_update(struct ota_package_decrypt *d, const uint8_t *in,
			       uint8_t *out, size_t len)
{
	int rc;

	if (!d->ctr)
		return -1;
	if ((rc = ota_ctr_update(d->ctr, out, in, len))) {
		d->err = rc;
		return -1;
	}
	return 0;
}

void ota_package_decrypt_end(struct ota_package_decrypt *d, unsigned image)
{
	ota_ctr_free(d->ctr);
	d->ctr = NULL;
	if (image < OTAPKG_MAX_IMAGES)
		ota_content_key_wipe(&d->keys[image]);
}
