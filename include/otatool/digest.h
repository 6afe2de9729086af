/* Streaming file digests: constant memory whatever the file size. */
#ifndef OTATOOL_DIGEST_H
#define OTATOOL_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "otatool/progress.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ota_digest_alg {
	OTA_DIGEST_SHA256 = 0,
	OTA_DIGEST_SHA384 = 1,
	OTA_DIGEST_SHA512 = 2,
};

#define OTA_DIGEST_MAX 64 /* bytes, SHA-512 */

struct ota_digest {
	enum ota_digest_alg alg;
	size_t len;
	uint8_t bytes[OTA_DIGEST_MAX];
};

/* "sha256" -> OTA_DIGEST_SHA256; OTA_EINPUT naming the valid choices otherwise.
 */
int ota_digest_alg_parse(enum ota_digest_alg *out, const char *name);
const char *ota_digest_alg_name(enum ota_digest_alg alg);
size_t ota_digest_alg_size(enum ota_digest_alg alg);

/*
 * Hashes a regular file through one fixed-size buffer (OTA_DIGEST_BUFSIZE).
 * Writes the digest and the number of bytes hashed. A directory, a missing or
 * unreadable file, or a read error is OTA_EINPUT naming the path.
 */
#define OTA_DIGEST_BUFSIZE (1u << 20)
int ota_digest_file(struct ota_digest *out, uint64_t *size,
		    enum ota_digest_alg alg, const char *path,
		    ota_progress_fn progress, void *progress_ctx);

/* Hashes a memory buffer (small data: manifests, headers). */
int ota_digest_buffer(struct ota_digest *out, enum ota_digest_alg alg,
		      const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
