/*
 * otatool packages (otatool-package(5)): the device-relevant part of a
 * manifest as protected TLVs, signatures over the header and that region,
 * then the images, each aligned to the flash page size. Written by
 * package_write.c, checked by package_check.c (through the device
 * verifier), in the vocabulary of package_format.c.
 */
#ifndef OTATOOL_PACKAGE_H
#define OTATOOL_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"
#include "otatool/key.h"
#include "otatool/manifest.h"
#include "otatool/policy.h"
#include "otatool/progress.h"
#include "otatool/trust.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_PACKAGE_DEFAULT_ALIGN 4096u
#define OTA_PACKAGE_MAX_SIGNERS   8
/* Recipients of an encrypted package: IMAGE_KEY TLVs per image. */
#define OTA_PACKAGE_MAX_RECIPIENTS 8

struct ota_signers; /* signer.h: keys with the certificates to embed */
struct ota_package_bases;
struct ota_recipient;   /* cipher.h */
struct ota_decrypt_key; /* cipher.h */

/* How one image was stored, for the summary a writer reports. */
enum ota_package_stored {
	OTA_PACKAGE_STORED_WHOLE,
	OTA_PACKAGE_STORED_ZLIB,
	OTA_PACKAGE_STORED_PATCH,
};

struct ota_package_summary {
	size_t n_images;
	struct {
		char name[65];
		enum ota_package_stored stored;
		uint64_t size;        /* the image's bytes */
		uint64_t stored_size; /* its bytes in the package */
		/*
		 * With a base of that name: the patch's size, and what the
		 * image would have taken without it (its size, or its zlib
		 * size with compression); 0 when there was no base.
		 */
		uint64_t patch_size, full_size;
		uint64_t base_size;
		bool encrypted;
	} images[32];
};

struct ota_package_opts {
	uint32_t alignment; /* power of two, 16..1 MiB; 0: 4096 */
	/*
	 * Images to store zlib-compressed: every image when compress_all,
	 * else those named in compress (unknown names are OTA_EUSAGE).
	 */
	bool compress_all;
	const char *const *compress;
	size_t n_compress;
	int zlib_level; /* 0: 9 */
	/*
	 * Delta: each image with a base of its name here is stored as a
	 * patch against it (format version 2) when the patch is smaller than
	 * what the image would take otherwise; NULL: no patches.
	 */
	const struct ota_package_bases *delta_from;
	/*
	 * Encryption (format version 3, otatool-encryption(7)): with
	 * n_recipients (1..OTA_PACKAGE_MAX_RECIPIENTS), every image is
	 * encrypted, after compression or patching, with AES-CTR under a
	 * fresh content key of encrypt_bits (128, or 0 for 128; or 256),
	 * wrapped for each recipient into an IMAGE_KEY TLV.
	 */
	const struct ota_recipient *const *recipients;
	size_t n_recipients;
	unsigned encrypt_bits;
	/* How each image was stored; NULL: not reported. */
	struct ota_package_summary *summary;
	ota_progress_fn progress;
	void *progress_ctx;
};

/*
 * Writes a package for m to out_path. Images are read once: copied (or
 * compressed) into place while hashed; with opts->delta_from, an image
 * with a base is also encoded as a patch, and a patch that is stored is
 * first applied to its base by the device code and checked against the
 * image's digest. When the manifest already carries an
 * image's digest (a signed manifest), the file must still match it, else
 * OTA_EVERIFY and nothing is written; when it does not (one-shot from a
 * release file: resolve with skip_digests), the digest and size computed
 * here are stored into m. Then the protected region is built, signed by
 * every signer (with its certificates) over its digest (SHA-256, or SHA-384
 * when a P-384 key signs), and the header written. Atomic: a failure leaves
 * nothing.
 */
int ota_package_write(const char *out_path, struct ota_manifest *m,
		      const struct ota_signers *signers,
		      const struct ota_package_opts *opts);

/* Reading ---------------------------------------------------------------- */

struct ota_package_check_opts {
	/* NULL: inspect only (structure and digests, signatures not judged) */
	const struct ota_trust *trust;
	/* The device policy (ota_policy_judge); NULL: nothing checked. */
	const struct ota_device_facts *device;
	/* Write verified images here (NAME.bin), only if all checks pass. */
	const char *extract_dir;
	/*
	 * The base images patched images are rebuilt from; NULL: patched
	 * images are checked as stored but not rebuilt, and extracting a
	 * package with one is OTA_EUSAGE (nothing is written).
	 */
	const struct ota_package_bases *bases;
	/*
	 * Decrypts encrypted images (the IMAGE_KEY for this key, by key
	 * id, or every one of a scheme it accepts when its id is not
	 * known), and checks their plaintext digests; NULL: encrypted
	 * images are checked as stored, and extracting a package with one
	 * is OTA_EUSAGE (nothing is written).
	 */
	struct ota_decrypt_key *decrypt_key;
	ota_progress_fn progress;
	void *progress_ctx;
};

#define OTA_PACKAGE_MAX_SIGS   8
#define OTA_PACKAGE_MAX_IMAGES 32
#define OTA_PACKAGE_MAX_HW     64
#define OTA_PACKAGE_MAX_DEPS   64

/* Where reading stopped: the part of a package that a failure is in. */
enum ota_package_stop {
	OTA_PACKAGE_STOP_NONE,      /* read to the end: everything valid */
	OTA_PACKAGE_STOP_STRUCTURE, /* a header, TLV, signature block or
				       padding field is malformed */
	OTA_PACKAGE_STOP_SIGNATURE, /* no trusted signature, or a bad one */
	OTA_PACKAGE_STOP_POLICY,    /* the device policy refused */
	OTA_PACKAGE_STOP_IMAGE,     /* an image's bytes: digest, inflating,
				       extracting */
	OTA_PACKAGE_STOP_END,       /* truncated, or bytes after the end */
	OTA_PACKAGE_STOP_OTHER,     /* reading the file or hashing failed */
};

struct ota_package_sig_info {
	uint16_t alg_code;
	char keyid[OTA_KEY_ID_LEN + 1];
	size_t siglen, n_certs;
	uint8_t sig[512]; /* the signature bytes (siglen of them) */
	/* Certificates in the entry; n_certs counts those kept (up to 8). */
	size_t n_certs_in_entry;
	bool judged;
	struct ota_trust_result *trust; /* NULL until judged */
};

/*
 * The unprotected region (otatool-package(5), UNPROTECTED REGION): entries
 * appended after the signed package, not covered by its signatures, each
 * with its own proof. Types are OTAPKG_REGION_* of otapkg.h.
 */
enum ota_region_type {
	OTA_REGION_TIMESTAMP = 0x8001,   /* RFC 3161 token over a signature */
	OTA_REGION_OCSP = 0x8002,        /* OCSP response for a certificate */
	OTA_REGION_ROOT_RECORD = 0x8010, /* a signed root record */
};
#define OTA_REGION_MAX (1u << 20) /* U: the TLVs' bytes, footer excluded */

struct ota_region_entry {
	uint16_t type;
	uint8_t sig_index;  /* TIMESTAMP, OCSP: the signature entry */
	uint8_t cert_index; /* OCSP: its certificate, 0 = the signer's */
	uint64_t offset;    /* of its type field in the file; 0 if new */
	/* TIMESTAMP, OCSP: the DER after the 4 index bytes; ROOT_RECORD:
	 * the whole value. malloc'ed, owned by the region. */
	uint8_t *data;
	size_t len;
};

struct ota_package_region {
	uint32_t size; /* U as read; 0 when there is none */
	size_t n;
	struct ota_region_entry *entries; /* in file order */
};

/*
 * Adds an entry (a copy of data) in its place: TIMESTAMP and OCSP entries
 * replace the one for the same signature (and certificate); a ROOT_RECORD
 * goes after the others. OTA_EINPUT when the value could not be stored
 * (too long for a TLV, or the region would pass OTA_REGION_MAX).
 */
int ota_package_region_set(struct ota_package_region *reg, uint16_t type,
			   uint8_t sig_index, uint8_t cert_index,
			   const uint8_t *data, size_t len);

/* The entry of that type for the signature (and certificate), or NULL. */
const struct ota_region_entry *
ota_package_region_find(const struct ota_package_region *reg, uint16_t type,
			uint8_t sig_index, uint8_t cert_index);

/*
 * The region's bytes as a package carries them, footer included; *out is
 * malloc'ed; an empty region is no bytes at all (*out NULL, *len 0).
 */
int ota_package_region_encode(uint8_t **out, size_t *len,
			      const struct ota_package_region *reg);

/*
 * Writes to out_path the signed package of in_path (its first total bytes,
 * as the header says: any region it had is dropped) followed by reg. The
 * input must be a package read with ota_package_check() (total is its
 * report's total_size). out_path may be in_path: the package is then
 * replaced atomically, the signed bytes copied unchanged.
 */
int ota_package_region_write(const char *out_path, const char *in_path,
			     uint64_t total,
			     const struct ota_package_region *reg);

void ota_package_region_free(struct ota_package_region *reg);

/*
 * RFC 3161 timestamps of a package's signatures (otatool-timestamp(1)),
 * each kept as the TIMESTAMP entry of its signature in the unprotected
 * region; the package at path is updated in place (its signed bytes
 * copied unchanged). A reply is checked before its token is kept
 * (ota_tsa_reply_check: status, imprint, nonce when the query is known,
 * the TSA's signature, and its chain to tsa_anchors when given).
 *
 * fetch: a query per signature, sent to the TSA at url.
 * requests: the queries only, written to out (one signature) or out.N
 * (signature N of several), for a TSA reached otherwise.
 * add: the reply in reply_path, for the signature its imprint names; the
 * query it answers (query_path, may be NULL) to check its nonce.
 * Returns 0, or OTA_EINPUT / OTA_EVERIFY / OTA_EUNTRUSTED naming the file
 * or URL; on failure the package is left as it was.
 */
int ota_package_timestamp_fetch(const char *path, const char *url,
				const struct ota_cert_list *tsa_anchors);
int ota_package_timestamp_requests(const char *path, const char *out);
int ota_package_timestamp_add(const char *path, const char *reply_path,
			      const char *query_path,
			      const struct ota_cert_list *tsa_anchors);

/* Everything read from a package, as far as reading got. */
struct ota_package_report {
	uint64_t file_size;
	uint8_t header[64];
	uint16_t format_version;
	uint8_t region_digest_alg; /* OTAPKG_DIGEST_* */
	uint32_t protected_size, sigblock_size, alignment;
	uint64_t total_size;
	char name[65], version[256];
	uint32_t security_counter;
	bool has_bootloader_min;
	uint32_t bootloader_min[3];
	size_t n_hardware;
	char hardware[OTA_PACKAGE_MAX_HW][65];
	char git_commit[65];
	/* Seconds since the epoch as recorded: any u64, in range or not. */
	bool has_build_time;
	uint64_t build_time;
	bool has_signing_time;
	uint64_t signing_time;
	uint64_t signing_time_offset; /* of the SIGNING_TIME TLV */
	size_t n_deps;
	char dep_names[OTA_PACKAGE_MAX_DEPS][65];
	char dep_ranges[OTA_PACKAGE_MAX_DEPS][256];
	size_t n_images;
	struct {
		char name[65], kind[65];
		uint8_t compression, digest_alg;
		bool has_load_address;
		uint64_t offset, stored_size, size, load_address;
		uint8_t digest[64], stored_digest[64];
		size_t digest_len;
		bool stored_ok, flashed_ok; /* checked while streaming */
		/* compression OTAPKG_COMP_PATCH: the base it is rebuilt from */
		bool has_base;
		uint64_t base_size;
		uint8_t base_digest[64];
		bool rebuilt; /* rebuilt from a base and matched its digest */
		/* IMAGE flag bit 1: its content key in IMAGE_KEY TLVs */
		bool encrypted;
		bool decrypted; /* decrypted, and its flashed digest matched */
		uint8_t key_len;
		size_t n_keys; /* IMAGE_KEY TLVs; the first few below */
		struct {
			uint8_t scheme; /* OTAPKG_WRAP_* (MCUboot's TLV type) */
			char keyid[OTA_KEY_ID_LEN + 1];
		} keys[OTA_PACKAGE_MAX_RECIPIENTS];
		bool failed; /* the failure recorded is about this image */
	} images[OTA_PACKAGE_MAX_IMAGES];
	size_t n_sigs;
	struct ota_package_sig_info sigs[OTA_PACKAGE_MAX_SIGS];
	int trusted_sig; /* -1 if none */
	bool signature_checked;
	/*
	 * The trust's threshold and how many distinct trusted keys signed,
	 * once judged (0 and 0 before).
	 */
	unsigned threshold, distinct_signers;
	/* The unprotected region after total_size, as read. */
	struct ota_package_region region;
	/* One line per fact of opts->device, judged once a signature is. */
	struct ota_policy_report policy;
	/* Where reading stopped, and the verifier's verdict: status name,
	 * byte offset, what. */
	enum ota_package_stop stopped;
	int status;
	const char *status_name;
	uint64_t error_offset;
	char error[512];
};

/*
 * Reads and checks a package with the device verifier (otaverify.c), fed
 * in chunks: structure and every length, the signatures against trust
 * (each judged by ota_trust_judge: the signature over the signed region
 * first, then a chain at the package's SIGNING_TIME unless the trust says
 * otherwise), the device policy (ota_policy_judge, where the device would
 * judge it), every stored digest, and, for compressed images, the flashed
 * digest after inflating. Fills report as far as it got. Returns 0,
 * OTA_EVERIFY (structure, digest, signature; the message names the byte
 * offset), OTA_EUNTRUSTED (a chain was refused and nothing else was
 * trusted), OTA_EHARDWARE, OTA_EROLLBACK or OTA_EBOOTLOADER. The report
 * must be freed with ota_package_report_clear().
 */
int ota_package_check(struct ota_package_report *report, const char *path,
		      const struct ota_package_check_opts *opts);
void ota_package_report_clear(struct ota_package_report *report);

/* True when some image is a patch: it needs a base to be rebuilt. */
bool ota_package_report_has_patch(const struct ota_package_report *report);

/*
 * Who can decrypt image i, as text for messages: "ecies-p256 key id HEX,
 * rsa-oaep key id HEX" (the first OTA_PACKAGE_MAX_RECIPIENTS).
 */
void ota_package_describe_recipients(char *out, size_t cap,
				     const struct ota_package_report *report,
				     size_t i);

/* True when some image is encrypted: it needs a key to be decrypted. */
bool ota_package_report_has_encrypted(const struct ota_package_report *report);

/*
 * The report as JSON text for inspect/verify --json, in the canonical form
 * (2-space indent, final newline). *out is malloc'ed. Records an error only
 * when it fails.
 */
int ota_package_report_to_json(char **out, size_t *len,
			       const struct ota_package_report *report);

/* Base images for delta packages ---------------------------------------- */

/*
 * The images of an earlier release that patches are made against
 * (package --delta-from) or rebuilt from (extract and verify --base):
 * either a directory holding NAME.bin for each image name (what extract
 * writes, and how build directories name images), or a package, which
 * must verify against trust (as any package input) and whose images are
 * extracted into a private temporary directory that
 * ota_package_bases_free() removes. A package that is itself a delta
 * cannot serve (OTA_EUSAGE: extract it with its own base first).
 */
int ota_package_bases_open(struct ota_package_bases **out, const char *path,
			   const struct ota_trust *trust);

/*
 * The file of the base image called name into out (cap bytes): 0, or 1
 * when there is none (no regular file by that name).
 */
int ota_package_bases_find(const struct ota_package_bases *b, const char *name,
			   char *out, size_t cap);

/* The path it was opened from, for messages. */
const char *ota_package_bases_origin(const struct ota_package_bases *b);

void ota_package_bases_free(struct ota_package_bases *b);

/*
 * The format's vocabulary: one table each, read both ways. A code that is
 * not in the table is OTA_EVERIFY with no message recorded: these are
 * used while a report is shown, when the failure's message is still to
 * be printed.
 */

/* True if the first bytes are the package magic. */
bool ota_package_is_package(const uint8_t *head, size_t len);

/* OTAPKG_SIG_* for a signature algorithm, and back. */
uint16_t ota_package_sig_code(enum ota_sig_alg alg);
int ota_package_sig_alg(enum ota_sig_alg *out, uint16_t code);

/* OTAPKG_DIGEST_* for a digest algorithm, and back. */
uint8_t ota_package_digest_code(enum ota_digest_alg alg);
int ota_package_digest_alg(enum ota_digest_alg *out, uint8_t code);

/*
 * OTAPKG_KIND_* for an image kind's name, OTAPKG_KIND_CUSTOM for any other
 * name; and back: NULL for CUSTOM (the package holds the kind's text).
 */
uint8_t ota_package_kind_code(const char *name);
const char *ota_package_kind_name(uint8_t code);

/*
 * An image's compression code as a name: "none", "zlib" or "patch" (a
 * delta image, rebuilt from a base); NULL for a code not in the format.
 */
const char *ota_package_compression_name(uint8_t code);

#ifdef __cplusplus
}
#endif
#endif
