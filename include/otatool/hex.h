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

#ifdef __cplusplus
}
#endif
#endif
