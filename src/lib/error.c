/* The per-thread last-error record behind ota_error(). */
#include "otatool/error.h"

#include <stdio.h>
#include <string.h>

#define OTA_ERROR_MAX 1024

static _Thread_local char last_msg[OTA_ERROR_MAX];
static _Thread_local int last_code;

int ota_verror(int code, const char *fmt, va_list ap)
{
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	last_code = code;
	return code;
}

int ota_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ota_verror(code, fmt, ap);
	va_end(ap);
	return code;
}

int ota_error_wrap(int code, const char *fmt, ...)
{
	char msg[OTA_ERROR_MAX];
	size_t used, rest;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Long messages are cut at the end: the context in front matters. */
	used = strlen(msg);
	rest = strlen(last_msg);
	if (used + 2 + rest >= sizeof(msg))
		rest = sizeof(msg) - 1 -
		       (used + 2 < sizeof(msg) ? used + 2 : sizeof(msg) - 1);
	if (used + 2 < sizeof(msg)) {
		memcpy(msg + used, ": ", 2);
		memcpy(msg + used + 2, last_msg, rest);
		msg[used + 2 + rest] = '\0';
	}
	memcpy(last_msg, msg, sizeof(msg));
	last_code = code;
	return code;
}

const char *ota_error_message(void)
{
	return last_msg;
}

int ota_error_code(void)
{
	return last_code;
}

void ota_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}

const char *ota_error_name(int code)
{
	switch (code) {
	case OTA_OK:
		return "ok";
	case OTA_EUSAGE:
		return "usage";
	case OTA_EINPUT:
		return "input";
	case OTA_EOUTPUT:
		return "output";
	case OTA_EVERIFY:
		return "verification";
	case OTA_EUNTRUSTED:
		return "untrusted";
	case OTA_EKEY:
		return "key";
	case OTA_EPOLICY:
		return "policy";
	case OTA_EDOWNGRADE:
		return "downgrade";
	case OTA_EROLLBACK:
		return "rollback";
	case OTA_EHARDWARE:
		return "hardware";
	case OTA_EBOOTLOADER:
		return "bootloader";
	case OTA_EDIFFERENT:
		return "different";
	default:
		return "internal";
	}
}
