/*
 * A digest computed on a worker thread, so that a copy loop overlaps its
 * hashing with its own reads and writes (two cores: both at full speed).
 * Private to the library.
 */
#ifndef OTATOOL_HASHER_H
#define OTATOOL_HASHER_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"

/* OpenSSL's digest for alg (here: public headers show no OpenSSL type). */
const EVP_MD *ota_digest_md(enum ota_digest_alg alg);

struct ota_hasher;

int ota_hasher_start(struct ota_hasher **out, const EVP_MD *md);

/*
 * Hands buf to the worker and returns at once, after the worker is done
 * with the previous buffer: the caller may keep reading buf (to write it
 * out) but must not change it before its next feed or finish. So two
 * buffers, used in turn, keep the worker busy.
 */
int ota_hasher_feed(struct ota_hasher *h, const uint8_t *buf, size_t len);

/* Waits for the last buffer, writes the digest, frees h. */
int ota_hasher_finish(struct ota_hasher *h, uint8_t *out, unsigned int *len);

/* Stops without a digest (error paths). Accepts NULL. */
void ota_hasher_abort(struct ota_hasher *h);

#endif
