/* RFC 3339 timestamps and reproducible build times (SOURCE_DATE_EPOCH). */
#ifndef OTATOOL_TIMESTAMP_H
#define OTATOOL_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_TIMESTAMP_LEN 21 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL */

/*
 * Parses an RFC 3339 date-time ("2026-11-24T09:00:00Z", "...+01:00",
 * fractional seconds accepted and dropped) into seconds since the epoch.
 * OTA_EINPUT with the offending offset otherwise.
 */
int ota_timestamp_parse(int64_t *out, const char *s);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" (years 0000..9999). */
int ota_timestamp_format(char buf[OTA_TIMESTAMP_LEN], int64_t t);

/*
 * The build time: SOURCE_DATE_EPOCH when set (a decimal count of seconds,
 * validated), else the current time. OTA_EINPUT for a malformed variable.
 */
int ota_timestamp_build(int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
