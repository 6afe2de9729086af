/* otatool's one error model: negative OTA_E* codes plus one recorded message.
 */
#ifndef OTATOOL_ERROR_H
#define OTATOOL_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every library function returns 0 or one of these negative codes. The CLI
 * turns a code into the process exit status by negating it, so the values are
 * the documented exit statuses (otatool(1), EXIT STATUS) and must never be
 * renumbered.
 */
enum ota_err {
	OTA_OK = 0,
	OTA_EINTERNAL = -1,  /* out of memory, unexpected library failure */
	OTA_EUSAGE = -2,     /* bad command line */
	OTA_EINPUT = -3,     /* unreadable or invalid input file or field */
	OTA_EOUTPUT = -4,    /* output could not be written */
	OTA_EVERIFY = -5,    /* signature, digest or structure check failed */
	OTA_EUNTRUSTED = -6, /* certificate chain not trusted */
	OTA_EKEY = -7,       /* key, PIN, token or PKCS#11 module problem */
	OTA_EPOLICY = -8,    /* refused by policy (dirty tree, ...) */
	OTA_EDOWNGRADE = -9, /* version not higher than the previous one */
	OTA_EROLLBACK = -10, /* security counter lower than the previous one */
	OTA_EHARDWARE = -11, /* hardware variant not listed */
	OTA_EBOOTLOADER = -12, /* bootloader older than the required minimum */
	OTA_EDIFFERENT = -13   /* otatool diff: the signed content differs */
};

/*
 * Records a message for the calling thread and returns code, so that a failing
 * path reads `return ota_error(OTA_EINPUT, "%s: ...", path);`. The message
 * names the file, field or byte offset; it never contains a secret.
 */
int ota_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int ota_verror(int code, const char *fmt, va_list ap);

/* Prefixes the recorded message with "prefix: " (adds context on the way up).
 */
int ota_error_wrap(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last recorded message, "" if none. Valid until the next ota_error(). */
const char *ota_error_message(void);
int ota_error_code(void);
void ota_error_clear(void);

/* A short stable name for a code ("input", "policy", ...), for JSON output. */
const char *ota_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
