/* The integer syntax of release files, manifests and options. */
#ifndef OTATOOL_PARSE_H
#define OTATOOL_PARSE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Decimal without leading zeros or 0x hex, a single '_' allowed between
 * two digits, at most max. OTA_EINPUT naming origin.
 */
int ota_parse_uint(uint64_t *out, const char *s, uint64_t max,
		   const char *origin);

#ifdef __cplusplus
}
#endif
#endif
