/* Bytes as lower-case hexadecimal text: digests, key ids, fingerprints. */
#ifndef OTATOOL_HEX_H
#define OTATOOL_HEX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Lower-case hex into buf (needs 2 * len + 1 bytes). */
void ota_hex_encode(char *buf, const uint8_t *data, size_t len);

/*
 * Exactly 2 * len hex digits (either case) into len bytes: 0, or -1 (and
 * no error recorded) for any other text.
 */
int ota_hex_decode(uint8_t *out, const char *hex, size_t len);

#ifdef __cplusplus
}
#endif
#endif
