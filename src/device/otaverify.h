/*
 * The reference device-side verifier for otatool packages: C99, no malloc,
 * no libc beyond memcpy/memcmp/memset, a bounded state (sizeof(struct
 * otav)), streaming: it is fed the package in chunks of any size, as a
 * bootloader reads flash. Crypto sits behind struct otav_crypto. otatool's
 * own verify and inspect run this same code, so host and device read the
 * format through one parser. Porting notes: otatool-package(5), PORTING.
 */
#ifndef OTAVERIFY_H
#define OTAVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "otapkg.h"

#ifdef __cplusplus
extern "C" {
#endif

enum otav_status {
	OTAV_OK = 0,
	OTAV_E_TRUNCATED, /* otav_finish() before the declared end */
	OTAV_E_TRAILING,  /* bytes after the declared total size */
	OTAV_E_MAGIC,
	OTAV_E_VERSION,    /* unknown format version */
	OTAV_E_HEADER,     /* a header field out of range or inconsistent */
	OTAV_E_TLV,        /* malformed, unknown, misordered or missing TLV */
	OTAV_E_SIGBLOCK,   /* malformed signature block */
	OTAV_E_PADDING,    /* a padding or reserved byte is not zero */
	OTAV_E_SIGNATURE,  /* no signature by a trusted key verifies */
	OTAV_E_DIGEST,     /* an image's stored bytes do not match */
	OTAV_E_HARDWARE,   /* policy: hardware id not listed */
	OTAV_E_ROLLBACK,   /* policy: security counter below the device's */
	OTAV_E_BOOTLOADER, /* policy: bootloader older than required */
	OTAV_E_CRYPTO,     /* a crypto callback failed */
	OTAV_E_ABORTED,    /* an event callback asked to stop */
	OTAV_E_KEY,        /* decrypting: no IMAGE_KEY unwrapped for an
			      encrypted image */
};

/*
 * A parsed image entry, as the IMAGE TLV says; for a patch
 * (compression OTAPKG_COMP_PATCH), the base its IMAGE_BASE TLV names,
 * known once the protected region is parsed (the authentic event, or
 * v.info after otav_finish()).
 */
struct otav_image {
	uint8_t kind, compression, digest_alg, flags;
	uint8_t name_len, kind_len;
	uint8_t has_base; /* the IMAGE_BASE TLV was parsed */
	uint64_t offset, stored_size, size, load_address;
	uint64_t base_size;        /* patch: bytes of the base image */
	uint8_t digest[64];        /* of the flashed bytes */
	uint8_t stored_digest[64]; /* of the stored bytes */
	uint8_t base_digest[64];   /* patch: of the base image */
	char name[65];             /* NUL-terminated */
	char custom_kind[65];
	/* Encrypted (flag bit 1): in the tail padding, no RAM added. */
	uint8_t key_len; /* content key bytes (16 or 32) */
	uint8_t n_keys;  /* IMAGE_KEY TLVs (255: 255 or more) */
};

/*
 * An IMAGE_KEY TLV, as the unwrap callback receives it: wrapped points
 * into the verifier's buffer and is valid during the call only.
 */
struct otav_image_key {
	uint8_t image;   /* index of the encrypted image */
	uint8_t scheme;  /* OTAPKG_WRAP_* */
	uint8_t key_len; /* 16 or 32 */
	uint8_t keyid[32];
	const uint8_t *wrapped;
	uint16_t wrapped_len; /* checked against scheme and key_len */
};

/* A signature entry; certificates arrive separately through events. */
struct otav_sig {
	uint16_t alg; /* OTAPKG_SIG_* */
	uint16_t len;
	uint32_t certs_len;
	uint8_t keyid[32];
	uint8_t sig[OTAPKG_MAX_SIG_LEN];
};

struct otav_crypto {
	void *ctx;
	/*
	 * One digest at a time (the verifier never interleaves two): alg is
	 * OTAPKG_DIGEST_*, out receives 32, 48 or 64 bytes. Non-zero = fail.
	 */
	int (*hash_init)(void *ctx, uint8_t alg);
	int (*hash_update)(void *ctx, const uint8_t *data, size_t len);
	int (*hash_final)(void *ctx, uint8_t *out);
	/*
	 * Called once per signature entry, after its certificates were
	 * delivered: 0 = valid signature by a trusted key, 1 = key not
	 * trusted (skip this entry), -1 = invalid signature. The verifier
	 * accepts the package if entries by at least policy->threshold
	 * distinct key ids (at least one) return 0.
	 */
	int (*verify)(void *ctx, const struct otav_sig *sig,
		      const uint8_t *digest, size_t digest_len);
	/*
	 * Encrypted images (format version 3; otatool-package(5)). All
	 * three NULL: encrypted images are checked as stored (their
	 * digest over the encrypted bytes) and never decrypted.
	 *
	 * unwrap: each IMAGE_KEY TLV, while the protected region is parsed
	 * (the verifier keeps no wrapped key: RAM), until one for that
	 * image returned 0. The port decides whether it is addressed to
	 * the device (key id, scheme) and unwraps it with its key (ECDH,
	 * HKDF, HMAC and AES, or RSA-OAEP, or AES-KW: MCUboot's schemes),
	 * keeping the content key for that image inside the port (a key
	 * slot of the crypto engine). 0 = unwrapped, 1 = not for this
	 * device, -1 = it did not unwrap (a wrong key or an altered TLV:
	 * the port must not say which). Nothing is decided on it before
	 * the signature verified: the key is used only afterwards.
	 *
	 * cipher_init: start AES-CTR for image with the key the port holds
	 * for it, counter block 0 (16 bytes, big-endian, all of it the
	 * counter) at the image's first stored byte. cipher_update: the
	 * next len bytes of the key stream XORed into in, written to out
	 * (len is at most OTAPKG_MAX_TLV_VALUE + 8; chunks continue the
	 * stream at any byte offset). cipher_end (may be NULL): the image
	 * is done or the package refused; the port wipes the key.
	 * Non-zero = fail.
	 */
	int (*unwrap)(void *ctx, unsigned image,
		      const struct otav_image_key *key);
	int (*cipher_init)(void *ctx, unsigned image);
	int (*cipher_update)(void *ctx, const uint8_t *in, uint8_t *out,
			     size_t len);
	void (*cipher_end)(void *ctx, unsigned image);
};

/* What the device knows about itself; checks that are off are skipped. */
struct otav_policy {
	const char *hardware; /* NULL: not checked */
	int check_counter;
	uint32_t counter; /* the package's counter must be >= this */
	int check_bootloader;
	uint32_t bootloader[3]; /* must be >= the package's minimum */
	int skip_signature;     /* inspect: parse only (never on a device) */
	/*
	 * Distinct trusted keys that must have signed (a root record's
	 * release threshold); 0 means 1. Key ids are told apart by their
	 * first 8 bytes: two keys alike there count once (never more).
	 */
	unsigned threshold;
	/*
	 * Where the ROOT_RECORD entries of the unprotected region go
	 * (otaroot.h): walked forward from the state in force into a
	 * candidate. NULL: counted, not read.
	 */
	struct otaroot_walk *roots;
};

struct otav_info;
struct otaroot_walk;

/*
 * Optional events for hosts (inspect, extract, chain checks); any may be
 * NULL. A non-zero return stops with OTAV_E_ABORTED.
 */
struct otav_events {
	void *ctx;
	int (*header)(void *ctx, const uint8_t header[OTAPKG_HEADER_SIZE]);
	/* Every protected TLV, raw, as it is parsed (IMAGE included). */
	int (*tlv)(void *ctx, uint64_t offset, uint16_t type,
		   const uint8_t *value, uint16_t len);
	int (*image)(void *ctx, unsigned index, const struct otav_image *img);
	/* Certificate bytes of signature sig_index, in order, in chunks. */
	int (*cert_data)(void *ctx, unsigned sig_index, unsigned cert_index,
			 uint32_t cert_len, const uint8_t *data, size_t len);
	/* Result of each signature entry (the verify callback's answer). */
	int (*signature)(void *ctx, unsigned index, const struct otav_sig *sig,
			 int result);
	/* Stored bytes of image index, in order, in chunks. */
	int (*image_data)(void *ctx, unsigned index, const uint8_t *data,
			  size_t len);
	/*
	 * Decrypting (the cipher callbacks given): the decrypted stored
	 * bytes of an encrypted image, in order, in chunks, right after
	 * image_data gave the same bytes encrypted. Not yet verified: the
	 * stored digest is known at image_done, as for image_data.
	 */
	int (*image_clear)(void *ctx, unsigned index, const uint8_t *data,
			   size_t len);
	/* An image's stored digest matched. */
	int (*image_done)(void *ctx, unsigned index);
	/*
	 * The signature block is done and a signature by a trusted key
	 * verified (or skip_signature): the protected region is the
	 * signer's. Called before struct otav_policy is checked, for a host
	 * that judges the device policy itself at this same point.
	 */
	int (*authentic)(void *ctx, const struct otav_info *info);
	/*
	 * The unprotected region after the total size (otapkg.h): each TLV
	 * as it starts (offset of its type field, its type and value
	 * length), then its value in chunks. Not covered by the signatures:
	 * each entry must be judged on its own proof.
	 */
	int (*region_tlv)(void *ctx, uint64_t offset, uint16_t type,
			  uint16_t len);
	int (*region_data)(void *ctx, const uint8_t *data, size_t len);
};

/* Everything the protected region said, for the caller's use. */
struct otav_info {
	uint16_t format_version; /* 1; 2: a patch; 3: an encrypted image */
	uint8_t digest_alg;
	uint16_t image_count;
	uint32_t protected_size, sigblock_size, alignment;
	uint64_t total_size;
	uint32_t security_counter;
	int has_bootloader_min;
	uint32_t bootloader_min[3];
	int has_signing_time;
	uint64_t signing_time; /* seconds since the epoch */
	uint8_t region_digest[64];
	unsigned n_hardware, n_sigs;
	unsigned trusted_sig; /* index of the first trusted entry, ~0u: none */
	struct otav_image images[OTAPKG_MAX_IMAGES];
	/* The unprotected region's size U, 0 when there is none. */
	uint32_t region_size;
	unsigned n_timestamps, n_ocsp, n_root_records;
};

/* The verifier's whole state: no heap, sizeof() is its memory use. */
struct otav {
	const struct otav_crypto *crypto;
	const struct otav_policy *policy;
	const struct otav_events *events;
	struct otav_info info;
	enum otav_status status;
	uint64_t offset;     /* bytes consumed so far */
	uint64_t err_offset; /* where the error was found */
	/* A description of the error: static, or in msg below (lives as v). */
	const char *err_what;
	/* parser state */
	int state, pad_kind;
	uint32_t need, have; /* buffered item: bytes wanted, bytes held */
	uint64_t item_off;   /* where the buffered item started */
	uint64_t left;       /* streamed item: bytes still to come */
	uint8_t buf[OTAPKG_MAX_TLV_VALUE + 8];
	uint16_t last_type;
	unsigned seen, hw_match, policy_fail;
	unsigned sig_index, cert_index, image_index;
	uint32_t certs_left, cert_len;
	uint64_t region_end, region_left, sig_left, next_image;
	uint64_t hw_off, counter_off, boot_off; /* for policy errors */
	unsigned next_base;     /* IMAGE_BASE: the lowest index it may name */
	uint32_t keyed;         /* images whose key the port unwrapped */
	uint32_t unwrap_failed; /* images where an unwrap returned -1 */
	uint8_t next_key;       /* IMAGE_KEY: the lowest index it may name */
	uint8_t decrypting;     /* the cipher callbacks were given */
	uint8_t cipher_open;    /* cipher_init called, cipher_end not yet */
	/* CERTS_DIGEST TLVs: key id + SHA-256, and the area being hashed */
	unsigned n_certs_digests;
	uint8_t certs_digests[OTAPKG_MAX_SIGS][64];
	uint64_t certs_start, certs_end;
	struct otav_sig sig;
	int any_trusted;
	unsigned n_trusted_ids; /* distinct key ids that verified */
	uint8_t trusted_ids[OTAPKG_MAX_SIGS][8];
	/* unprotected region: certificates per entry (for OCSP indexes,
	 * capped at 255), the order key of the last TLV, its type */
	uint8_t n_certs[OTAPKG_MAX_SIGS];
	uint32_t region_key;
	uint16_t region_type, region_len;
	char msg[96];
};

void otav_init(struct otav *v, const struct otav_crypto *crypto,
	       const struct otav_policy *policy,
	       const struct otav_events *events);

/*
 * Feeds the next bytes. Returns OTAV_OK or the first error (sticky: later
 * calls return it again). Policy refusals are reported only once a
 * signature has verified, so that an unsigned package learns nothing.
 */
enum otav_status otav_feed(struct otav *v, const uint8_t *data, size_t len);

/*
 * After the last byte: OTAV_E_TRUNCATED if the package is incomplete. A
 * caller may stop at the total size (header bytes 32..39), or feed the
 * unprotected region and its footer too.
 */
enum otav_status otav_finish(struct otav *v);

/* Short stable description of a status ("signature", "truncated", ...). */
const char *otav_status_name(enum otav_status s);

#ifdef __cplusplus
}
#endif
#endif
