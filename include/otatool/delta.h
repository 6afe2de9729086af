/*
 * Delta updates: patches that rebuild a target image from the base image
 * a device already runs, in the encoding of otatool-patch(5). The encoder
 * is bsdiff's algorithm (a suffix array of the base, approximate matches
 * as diff bytes, the rest as extra bytes) in independent blocks, each
 * packed with raw LZMA sized for a small device's decoder; the applier is
 * the device code (src/device/otapatch.c) run on files.
 */
#ifndef OTATOOL_DELTA_H
#define OTATOOL_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Receives output bytes in order; 0, or a negative OTA_E* code. */
typedef int (*ota_delta_write_fn)(void *ctx, const uint8_t *data, size_t len);

/*
 * How a patch is encoded. ota_delta_params_default() gives what otatool
 * writes: 64 KiB blocks, a 4 KiB window, lc 0, lp 0, pb 0 (why: the
 * measurements in otatool-patch(5)). A device's applier must be built with
 * a window and lc + lp at least these.
 */
struct ota_delta_params {
	uint32_t block_size; /* power of two, 4096..2^24 */
	uint32_t dict_size;  /* power of two, 4096..2^24 */
	uint8_t lc, lp, pb;  /* lc 0..8, lp 0..4, pb 0..4 */
};

void ota_delta_params_default(struct ota_delta_params *p);

/* What an encoding produced. */
struct ota_delta_stats {
	uint64_t base_size, target_size, patch_size;
	uint32_t blocks;
	uint64_t records;     /* (seek, diff, extra) records in all blocks */
	uint64_t diff_bytes;  /* target bytes built from base + diff */
	uint64_t extra_bytes; /* target bytes stored as they are */
};

/*
 * Encodes the patch that turns base_path into target_path and writes it
 * through write. Both files are mapped, never read into the heap; the
 * heap holds the base's suffix array (4 bytes per base byte) and one
 * block's records. The base must be under 2 GiB. The output depends only
 * on the two files and params (reproducible). stats may be NULL.
 */
int ota_delta_encode(const struct ota_delta_params *params,
		     const char *base_path, const char *target_path,
		     ota_delta_write_fn write, void *ctx,
		     struct ota_delta_stats *stats);

/* The same into a file, written atomically (output.h). */
int ota_delta_encode_file(const struct ota_delta_params *params,
			  const char *base_path, const char *target_path,
			  const char *patch_path,
			  struct ota_delta_stats *stats);

/* What applying a patch checks and reports. */
struct ota_delta_apply_opts {
	enum ota_digest_alg digest_alg;         /* for both digests below */
	const struct ota_digest *base_digest;   /* NULL: not checked */
	const struct ota_digest *target_digest; /* NULL: not checked */
	/*
	 * The size the target must have: a patch whose header says another
	 * is refused before anything is written. NULL: not checked.
	 */
	const uint64_t *target_size;
	/*
	 * Names for messages: the patch's origin (a file, or "app in
	 * D.otapkg") and the base's; NULL: "patch" and the base path.
	 */
	const char *patch_name;
};

struct ota_delta_result {
	uint64_t base_size, target_size;
	uint32_t block_size, blocks, dict_size;
	uint8_t lc, lp, pb;
	struct ota_digest base_digest;   /* of the whole base, in digest_alg */
	struct ota_digest target_digest; /* of the bytes written */
};

/*
 * A host applier: the device applier fed by the caller (from a file, or
 * from a package's image_data events), reading the base file and writing
 * the target through write. ota_delta_apply_new() hashes the whole base
 * first and refuses a base whose digest is not base_digest (OTA_EVERIFY
 * naming both digests) before anything is written; the header's base size
 * must be the base file's size. Every refusal of the patch is OTA_EVERIFY
 * with its byte offset in the patch.
 */
struct ota_delta_apply;

int ota_delta_apply_new(struct ota_delta_apply **out, const char *base_path,
			const struct ota_delta_apply_opts *opts,
			ota_delta_write_fn write, void *ctx);
int ota_delta_apply_feed(struct ota_delta_apply *a, const uint8_t *data,
			 size_t len);
/*
 * After the last byte: the patch must be complete, and the target's
 * digest target_digest when given. res may be NULL.
 */
int ota_delta_apply_finish(struct ota_delta_apply *a,
			   struct ota_delta_result *res);
void ota_delta_apply_free(struct ota_delta_apply *a);

/*
 * Applies patch_path to base_path, writing target_path atomically, or
 * only checking when target_path is NULL. res may be NULL.
 */
int ota_delta_apply_file(const char *base_path, const char *patch_path,
			 const char *target_path,
			 const struct ota_delta_apply_opts *opts,
			 struct ota_delta_result *res);

#ifdef __cplusplus
}
#endif
#endif
