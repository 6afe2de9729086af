/*
 * Test-only: builds otatool packages (src/device/otapkg.h) in memory from a
 * small description, signed with OpenSSL, and supplies OpenSSL crypto
 * callbacks for the device verifier. Written from the format description,
 * independently of the verifier, so that the two check each other.
 */
#ifndef PKGBUILD_H
#define PKGBUILD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "otaverify.h"

#define PKGB_MAX    8
#define PKGB_MAX_HW 80

struct pkgb_image {
	uint8_t kind;            /* 0: OTAPKG_KIND_APPLICATION */
	const char *name;        /* NULL: "img<index>" */
	const char *custom_kind; /* with OTAPKG_KIND_CUSTOM */
	const uint8_t *data;     /* the flashed bytes */
	size_t len;
	int compress;       /* store zlib bytes made with compress2() */
	uint8_t digest_alg; /* 0: sha256 */
	int has_load;
	uint64_t load_address;
	/*
	 * A patch (OTAPKG_COMP_PATCH): patch is stored instead of data,
	 * which stays the rebuilt image; an IMAGE_BASE TLV names base.
	 */
	const uint8_t *patch;
	size_t patch_len;
	const uint8_t *base;
	size_t base_len;
	/*
	 * IMAGE flag bit 1 (format version 3; give IMAGE_KEY TLVs as
	 * extras): the stored bytes stay what they would be, the verifier
	 * treats them as opaque cipher text.
	 */
	int encrypted;
};

/* A TLV added as is: type order unless the description says otherwise. */
struct pkgb_tlv {
	uint16_t type;
	const void *value;
	uint16_t len;
};

struct pkgb_signer {
	EVP_PKEY *key;      /* NULL: a fake signature of fake_len bytes 0x5a */
	uint16_t alg;       /* OTAPKG_SIG_*; 0: the natural one for the key */
	int keyid_zero;     /* key id all zero (the fuzz target trusts it) */
	uint8_t fake_keyid; /* without a key: every key id byte */
	int corrupt;        /* flip a bit of the signature after signing */
	uint16_t fake_len;
	unsigned n_certs;
	const uint8_t *certs[4];
	size_t cert_lens[4];
};

struct pkgb_desc {
	uint8_t digest_alg;  /* of the signed region; 0: sha256 */
	uint16_t format;     /* 0: 1, or 2 when an image is a patch */
	uint32_t align;      /* 0: 16 */
	const char *name;    /* NULL: "fw" */
	const char *version; /* NULL: "1.2.3" */
	uint32_t counter;
	int has_bootloader_min;
	uint32_t bootloader_min[3];
	unsigned n_hardware; /* 0: one, "board-a" */
	const char *hardware[PKGB_MAX_HW];
	unsigned n_images;
	struct pkgb_image images[PKGB_MAX];
	unsigned n_extra;
	struct pkgb_tlv extra[PKGB_MAX];
	int extra_last;     /* extras after everything, out of order */
	unsigned omit;      /* bit (1 << type): leave that standard TLV out */
	uint32_t sig_slack; /* zero bytes after the last signature entry */
	unsigned n_signers;
	struct pkgb_signer signers[PKGB_MAX];
	/* Digests through these callbacks (NULL: OpenSSL's). */
	const struct otav_crypto *hash;
};

/* The package and where its parts are, for tests that poke at them. */
struct pkgb_pkg {
	uint8_t *data;
	size_t len;
	size_t region_end; /* 64 + P */
	size_t sig_end;    /* 64 + P + S */
	unsigned n_tlvs;
	size_t tlv_off[PKGB_MAX_HW + 4 * PKGB_MAX + 8]; /* type fields */
	uint16_t tlv_type[PKGB_MAX_HW + 4 * PKGB_MAX + 8];
	size_t image_tlv[PKGB_MAX]; /* each IMAGE TLV's value */
	size_t sig_entry[PKGB_MAX]; /* each signature entry */
	size_t sig_certs[PKGB_MAX]; /* where its certificates start */
	size_t image_off[PKGB_MAX];
	uint8_t *stored[PKGB_MAX]; /* the stored bytes of each image */
	size_t stored_len[PKGB_MAX];
	uint8_t region_digest[64];
};

/* Builds d into out; a failure fails the running test. */
void pkgb_build(struct pkgb_pkg *out, const struct pkgb_desc *d);
void pkgb_free(struct pkgb_pkg *pkg);

/* A new key for an OTAPKG_SIG_* algorithm (RSA: 2048 bits). */
EVP_PKEY *pkgb_key(uint16_t alg);
/* SHA-256 of the key's DER SubjectPublicKeyInfo. */
void pkgb_keyid(EVP_PKEY *key, uint8_t out[32]);

/* Verifier crypto with OpenSSL; verify trusts the keys given to trust. */
struct pkgb_crypto {
	struct otav_crypto ops; /* ops.ctx points at this struct */
	EVP_MD_CTX *md;
	unsigned n_trusted;
	EVP_PKEY *trusted[PKGB_MAX];
	uint8_t keyids[PKGB_MAX][32];
	unsigned n_verify; /* calls to verify */
};

void pkgb_crypto_init(struct pkgb_crypto *c);
void pkgb_crypto_trust(struct pkgb_crypto *c, EVP_PKEY *key);
void pkgb_crypto_free(struct pkgb_crypto *c);

/* Little-endian stores, for tests that rewrite fields. */
void pkgb_put16(uint8_t *p, uint16_t x);
void pkgb_put32(uint8_t *p, uint32_t x);
void pkgb_put64(uint8_t *p, uint64_t x);

#endif
