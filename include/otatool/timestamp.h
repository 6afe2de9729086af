/* RFC 3339 timestamps and reproducible build times (SOURCE_DATE_EPOCH). */
#ifndef OTATOOL_TIMESTAMP_H
#define OTATOOL_TIMESTAMP_H

#include <stdbool.h>
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

/* 9999-12-31T23:59:59Z: the last second ota_timestamp_format can write. */
#define OTA_TIMESTAMP_MAX 253402300799LL

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" (years 0000..9999). */
int ota_timestamp_format(char buf[OTA_TIMESTAMP_LEN], int64_t t);

/*
 * A time a file records as an unsigned count of seconds since the epoch
 * (a package's BUILD_TIME, SIGNING_TIME), for people and reports: its RFC
 * 3339 form, or, past OTA_TIMESTAMP_MAX, the raw count and that it is out
 * of range ("18446744073709551615 (out of range: after year 9999)").
 * True if t is in range. Records no error: it only describes, and is used
 * while a failure's message is still to be printed.
 */
#define OTA_TIMESTAMP_TEXT_LEN 64
bool ota_timestamp_describe(char buf[OTA_TIMESTAMP_TEXT_LEN], uint64_t t);

/*
 * The build time: SOURCE_DATE_EPOCH when set (a decimal count of seconds,
 * validated), else the current time. OTA_EINPUT for a malformed variable.
 */
int ota_timestamp_build(int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
