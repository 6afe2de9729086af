/* PINs and passphrases: from the environment, a file or a no-echo prompt. */
#ifndef OTATOOL_SECRET_H
#define OTATOOL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_SECRET_MAX 256

struct ota_secret {
	char value[OTA_SECRET_MAX + 1]; /* NUL-terminated */
	size_t len;
};

/*
 * Fills s from, in this order: the file named by file (first line, the
 * newline dropped; "file:" URIs as in RFC 7512 pin-source accepted), the
 * environment variable env, or a prompt on the controlling terminal with
 * echo off (only when prompt is not NULL and a terminal exists). what names
 * the secret in messages ("PIN for token release"), never its value.
 * OTA_EKEY when none of the sources gives one; OTA_EINPUT for an unreadable
 * or oversized file. s is wiped on every error path.
 */
int ota_secret_get(struct ota_secret *s, const char *what, const char *file,
		   const char *env, const char *prompt);

/* OPENSSL_cleanse over the whole buffer. Accepts NULL. */
void ota_secret_wipe(struct ota_secret *s);

#ifdef __cplusplus
}
#endif
#endif
