/* Progress of a long streaming operation: hashing, packaging, verifying. */
#ifndef OTATOOL_PROGRESS_H
#define OTATOOL_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Called after every chunk with the bytes hashed so far and the file size
 * (0 when unknown). Keep it cheap: it runs once per buffer.
 */
typedef void (*ota_progress_fn)(void *ctx, uint64_t done, uint64_t total);

#ifdef __cplusplus
}
#endif
#endif
