/*
 * MCUboot signed images (layout: otatool-mcuboot(5), as of imgtool 2.4.0):
 * written in one streaming pass, signed with any otatool key (files or
 * PKCS#11), and read back with the checks imgtool forgets.
 */
#ifndef OTATOOL_MCUBOOT_H
#define OTATOOL_MCUBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"
#include "otatool/key.h"
#include "otatool/policy.h"
#include "otatool/progress.h"
#include "otatool/semver.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_MCUBOOT_MAGIC    0x96f3b83du
#define OTA_MCUBOOT_MAX_DEPS 8

struct ota_mcuboot_version {
	uint8_t major, minor;
	uint16_t revision;
	uint32_t build;
};

/*
 * From SemVer: major and minor must fit a byte and patch 16 bits, else
 * OTA_EINPUT saying which field overflows (imgtool crashes instead). The
 * build number is build_number when >= 0, else the build metadata when it
 * is a plain decimal u32 ("1.2.3+42"), else 0. A pre-release cannot be
 * expressed and is refused.
 */
int ota_mcuboot_version_from_semver(struct ota_mcuboot_version *out,
				    const struct ota_semver *v,
				    int64_t build_number);

struct ota_recipient;   /* otatool/cipher.h */
struct ota_decrypt_key; /* otatool/cipher.h */

struct ota_mcuboot_dep {
	uint8_t image_id;
	struct ota_mcuboot_version min_version;
};

/* Where the header goes (otatool-mcuboot(5), "RESERVED HEADER"). */
enum ota_mcuboot_header_mode {
	/* Into the image's first header_size bytes when they are all zero
	 * (a Zephyr build that reserves it), else prepended. */
	OTA_MCUBOOT_HEADER_AUTO,
	OTA_MCUBOOT_HEADER_PREPEND,  /* always prepended (imgtool --pad-header)
				      */
	OTA_MCUBOOT_HEADER_RESERVED, /* always into the image; refused when
				      * its first bytes are not all zero */
};

/* What ota_mcuboot_write() did, for the CLI's note and --json. */
struct ota_mcuboot_result {
	bool header_reserved; /* the header went into the image's zeros */
	bool input_hex;       /* the input was Intel HEX */
	uint32_t input_base;  /* its lowest address */
	bool output_hex;
	uint32_t output_base;  /* the HEX output's first address */
	uint32_t img_size;     /* the header's img_size */
	uint64_t size;         /* the image, with its padding to the slot */
	uint32_t trailer_size; /* 0 unless padded */
};

struct ota_mcuboot_opts {
	struct ota_mcuboot_version version;
	uint16_t header_size; /* default 0x200; at least 32 */
	enum ota_mcuboot_header_mode header_mode;
	uint32_t slot_size;    /* 0: no check; else image + trailer fit */
	uint8_t erased_value;  /* header padding: 0xff or 0, as given (MCUboot
				* usually 0xff: set it, a zeroed struct is 0) */
	uint32_t align;        /* flash write alignment 1..32 (fit check);
				* 0 means 1 */
	bool has_load_address; /* sets RAM_LOAD */
	uint32_t load_address;
	bool rom_fixed; /* ROM_FIXED instead of RAM_LOAD */
	bool has_security_counter;
	uint32_t security_counter;
	size_t n_deps;
	struct ota_mcuboot_dep deps[OTA_MCUBOOT_MAX_DEPS];
	/* PUBKEY instead of KEYHASH. The image hash is not an option:
	 * SHA-256, or SHA-384 when the key is P-384 (MCUboot pairs them so). */
	bool public_key_tlv;
	/*
	 * Encryption (otatool-encryption(7)): with encrypt_to, a fresh
	 * content key of encrypt_bits (128, or 0 for 128; or 256) is
	 * wrapped for it into its key TLV, the header says ENC_AES128 or
	 * ENC_AES256, the payload is zero-padded to a multiple of 16 bytes
	 * (as imgtool pads it) and encrypted with AES-CTR, unless
	 * encrypt_clear keeps it in the clear (a factory image, imgtool
	 * --clear). The hash and the signature cover the plaintext.
	 */
	const struct ota_recipient *encrypt_to;
	unsigned encrypt_bits;
	bool encrypt_clear;
	/*
	 * The image trailer (otatool/mcuboot_trailer.h), for the slot-size
	 * check and padding: BOOT_MAX_ALIGN (0: max(8, align)), sectors (0:
	 * 128), overwrite-only. pad fills the slot (needs slot_size) with
	 * the erased value and the boot magic at its end (a test upgrade);
	 * confirm also sets image_ok (not in overwrite-only, as imgtool);
	 * test writes image_ok's erased field into HEX output (imgtool's
	 * --test). confirm and test imply pad.
	 */
	uint32_t max_align;
	uint32_t max_sectors;
	bool overwrite_only;
	bool pad, confirm, test;
	/*
	 * Intel HEX: an input is recognised by content and its bytes signed
	 * (otatool/ihex.h). hex_output writes the image as HEX at hex_addr
	 * when has_hex_addr, else at the input HEX's address (less the
	 * header when it was prepended); a raw input needs hex_addr.
	 */
	bool hex_output;
	bool has_hex_addr;
	uint32_t hex_addr;
	struct ota_mcuboot_result *result; /* optional, filled on success */
};

/*
 * Reads image_path once: hashes header, payload and protected TLVs while
 * copying them to out_path (atomic output), signs the digest with the
 * key of the one signer (more or fewer: OTA_EUSAGE; ota_key_sign_digest:
 * only the digest reaches a token), then writes the
 * unprotected TLVs. Keys MCUboot cannot use (RSA other than 2048/3072,
 * RSA PKCS#1 v1.5) are OTA_EKEY. Constant memory.
 */
struct ota_signers;
int ota_mcuboot_write(const char *out_path, const char *image_path,
		      const struct ota_signers *signer,
		      const struct ota_mcuboot_opts *opts,
		      ota_progress_fn progress, void *progress_ctx);

/*
 * One image of a release as an MCUboot image: the image named image (NULL:
 * the only one, else the one of kind application), its version from the
 * release's (build_number, or -1 for the prerelease's number, as
 * ota_mcuboot_version_from_semver), its load address (which must fit 32
 * bits) and the release's security counter set in opts, the manifest's
 * digest of the image checked again while it is read, then written as
 * ota_mcuboot_write. No image to choose, or more than one signer, is
 * OTA_EUSAGE; what names the release in messages.
 */
struct ota_manifest;
int ota_mcuboot_write_release(const char *out_path,
			      const struct ota_manifest *m, const char *what,
			      const char *image, int64_t build_number,
			      const struct ota_signers *signers,
			      struct ota_mcuboot_opts *opts,
			      ota_progress_fn progress, void *progress_ctx);

/* What a verification was asked to check. */
struct ota_mcuboot_policy {
	struct ota_public_key *const *trusted; /* keys it may be by */
	size_t n_trusted;
	bool check_counter;
	uint32_t counter; /* the image's security counter must be >= this */
	/* Decrypts an encrypted image's payload; NULL: not decrypted. */
	struct ota_decrypt_key *decrypt_key;
};

/* What the payload of an image turned out to be. */
enum ota_mcuboot_body {
	OTA_MCUBOOT_BODY_PLAIN,     /* not an encrypted image */
	OTA_MCUBOOT_BODY_DECRYPTED, /* decrypted with the device key */
	OTA_MCUBOOT_BODY_CLEAR,     /* ENC flag and key TLV, but stored in
				     * the clear (imgtool --clear) */
	OTA_MCUBOOT_BODY_SEALED,    /* encrypted, no key: hash unchecked */
};

/* Everything read from an image, for inspect and verify reports. */
struct ota_mcuboot_info {
	uint32_t load_address;
	uint16_t header_size, protect_tlv_size;
	uint32_t image_size, flags;
	struct ota_mcuboot_version version;
	bool has_security_counter;
	uint32_t security_counter;
	size_t n_deps;
	struct ota_mcuboot_dep deps[OTA_MCUBOOT_MAX_DEPS];
	enum ota_digest_alg hash_alg;
	uint8_t hash[OTA_DIGEST_MAX]; /* from the TLV */
	bool hash_ok;                 /* matches the computed one */
	bool has_keyhash, has_pubkey;
	uint8_t keyhash[OTA_DIGEST_MAX];
	int trusted_key;   /* index into policy->trusted, -1 */
	uint16_t sig_type; /* TLV type of the signature */
	/* Zero bytes after an ECDSA signature (imgtool --pad-sig). */
	size_t sig_padding;
	bool signature_ok;
	uint64_t file_size;
	/* Encryption: the flags' AES key bits (0: none), the key TLV. */
	unsigned enc_bits;
	uint16_t enc_tlv, enc_tlv_len; /* 0 when there is none */
	enum ota_mcuboot_body body;
	/* The policy's lines (ota_policy_judge), skipped if not reached. */
	struct ota_policy_report policy;
};

/*
 * Parses and checks an MCUboot image in one streaming pass: header fields,
 * protect_tlv_size against the real protected area, every TLV length
 * against what remains (byte offsets in messages), the hash, KEYHASH or
 * PUBKEY against the trusted keys, the signature, and the policy. Fills
 * info as far as it got. Structure errors are OTA_EVERIFY with the byte
 * offset; no trusted key or a bad signature OTA_EVERIFY; a counter below
 * the policy OTA_EROLLBACK. With n_trusted == 0, the signature is not
 * checked (inspect) and only the structure and hash are.
 *
 * An encrypted image's hash covers the plaintext: with
 * policy->decrypt_key its key TLV is unwrapped (a key of the wrong type
 * OTA_EKEY naming the type needed; a wrong key or an altered TLV
 * OTA_EVERIFY) and the payload decrypted while it is hashed. A payload
 * stored in the clear under the ENC flag (imgtool --clear) is recognised
 * by its hash and checked as stored, with or without a key. Without a key
 * an encrypted payload is OTA_MCUBOOT_BODY_SEALED: OTA_EVERIFY naming the key
 * type needed when a signature was to be checked, 0 for inspect.
 */
int ota_mcuboot_verify(struct ota_mcuboot_info *info, const char *path,
		       const struct ota_mcuboot_policy *policy,
		       ota_progress_fn progress, void *progress_ctx);

/*
 * ota_mcuboot_verify() with at least one trusted key, then the payload
 * (img_size bytes after the header; decrypted when it was encrypted, with
 * the zero padding encryption added) to out_path, read a second time and
 * hashed again, committed only when that hash matches too.
 */
int ota_mcuboot_extract(struct ota_mcuboot_info *info, const char *out_path,
			const char *path,
			const struct ota_mcuboot_policy *policy,
			ota_progress_fn progress, void *progress_ctx);

/*
 * The info as JSON text for inspect/verify --json, in the canonical form
 * (2-space indent, final newline). *out is malloc'ed. Records an error only
 * when it fails.
 */
int ota_mcuboot_info_to_json(char **out, size_t *len,
			     const struct ota_mcuboot_info *info);

/* True if the first 4 bytes are the MCUboot magic. */
bool ota_mcuboot_is_image(const uint8_t *head, size_t len);

#ifdef __cplusplus
}
#endif
#endif
