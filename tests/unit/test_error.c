/* Unit tests for src/lib/error.c: codes, recorded messages, wrapping, names. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "otatool/error.h"

#define ERROR_MAX 1024 /* the message buffer in error.c, NUL included */

static int call_verror(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int call_verror(int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = ota_verror(code, fmt, ap);
	va_end(ap);
	return rc;
}

Test(error, returns_code_and_records_message)
{
	int rc = ota_error(OTA_EINPUT, "%s:%d: bad %s", "release.yaml", 7,
			   "version");

	cr_assert_eq(rc, OTA_EINPUT);
	cr_assert_eq(ota_error_code(), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(), "release.yaml:7: bad version");
}

Test(error, verror_formats_like_error)
{
	int rc = call_verror(OTA_EKEY, "slot %u: %s", 3u, "no token");

	cr_assert_eq(rc, OTA_EKEY);
	cr_assert_eq(ota_error_code(), OTA_EKEY);
	cr_assert_str_eq(ota_error_message(), "slot 3: no token");
}

Test(error, later_error_replaces_earlier)
{
	ota_error(OTA_EINPUT, "first");
	ota_error(OTA_EOUTPUT, "second");
	cr_assert_eq(ota_error_code(), OTA_EOUTPUT);
	cr_assert_str_eq(ota_error_message(), "second");
}

Test(error, clear_resets_message_and_code)
{
	ota_error(OTA_EVERIFY, "digest mismatch");
	ota_error_clear();
	cr_assert_eq(ota_error_code(), 0);
	cr_assert_str_eq(ota_error_message(), "");
}

Test(error, wrap_prefixes_context)
{
	int rc;

	ota_error(OTA_EINPUT, "invalid version \"1.2\"");
	rc = ota_error_wrap(OTA_EINPUT, "%s:%d", "release.yaml", 3);
	cr_assert_eq(rc, OTA_EINPUT);
	cr_assert_eq(ota_error_code(), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "release.yaml:3: invalid version \"1.2\"");
}

Test(error, wrap_twice_nests_outermost_first)
{
	ota_error(OTA_EINPUT, "cannot open: No such file or directory");
	ota_error_wrap(OTA_EINPUT, "app.bin");
	ota_error_wrap(OTA_EINPUT, "image \"app\"");
	cr_assert_str_eq(ota_error_message(),
			 "image \"app\": app.bin: cannot open: No such file or "
			 "directory");
}

Test(error, wrap_may_change_the_code)
{
	int rc;

	ota_error(OTA_EINPUT, "bad digest");
	rc = ota_error_wrap(OTA_EVERIFY, "package");
	cr_assert_eq(rc, OTA_EVERIFY);
	cr_assert_eq(ota_error_code(), OTA_EVERIFY);
	cr_assert_str_eq(ota_error_message(), "package: bad digest");
}

Test(error, long_message_is_truncated)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(ota_error(OTA_EINPUT, "start %s", big), OTA_EINPUT);
	cr_assert_eq(strlen(ota_error_message()), ERROR_MAX - 1);
	cr_assert_eq(strncmp(ota_error_message(), "start xxxx", 10), 0);
	cr_assert_eq(ota_error_code(), OTA_EINPUT);
}

Test(error, wrap_of_long_message_keeps_prefix)
{
	static char big[3000];
	const char *msg;

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ota_error(OTA_EINPUT, "%s", big);
	ota_error_wrap(OTA_EINPUT, "context");
	msg = ota_error_message();
	cr_assert_eq(strlen(msg), ERROR_MAX - 1);
	cr_assert_eq(strncmp(msg, "context: mmm", 12), 0);
	for (size_t i = strlen("context: "); i < ERROR_MAX - 1; i++)
		cr_assert_eq(msg[i], 'm', "byte %zu is 0x%02x", i,
			     (unsigned char)msg[i]);
}

Test(error, wrap_with_long_prefix_is_bounded)
{
	static char prefix[2000];
	const char *msg;

	memset(prefix, 'p', sizeof(prefix) - 1);
	prefix[sizeof(prefix) - 1] = '\0';
	ota_error(OTA_EINPUT, "the reason");
	ota_error_wrap(OTA_EOUTPUT, "%s", prefix);
	msg = ota_error_message();
	cr_assert_eq(ota_error_code(), OTA_EOUTPUT);
	cr_assert_eq(strlen(msg), ERROR_MAX - 1);
	for (size_t i = 0; i < ERROR_MAX - 1; i++)
		cr_assert_eq(msg[i], 'p', "byte %zu is 0x%02x", i,
			     (unsigned char)msg[i]);
}

/* Prefix lengths around the buffer size: every one must stay in bounds. */
Test(error, wrap_boundary_lengths)
{
	static char prefix[ERROR_MAX + 8];

	for (size_t len = ERROR_MAX - 6; len <= ERROR_MAX + 2; len++) {
		const char *msg;

		memset(prefix, 'p', len);
		prefix[len] = '\0';
		ota_error(OTA_EINPUT, "reason");
		ota_error_wrap(OTA_EINPUT, "%s", prefix);
		msg = ota_error_message();
		cr_assert_lt(strlen(msg), ERROR_MAX, "prefix length %zu", len);
		cr_assert_eq(strncmp(msg, prefix,
				     len < ERROR_MAX - 1 ? len : ERROR_MAX - 1),
			     0, "prefix length %zu", len);
		if (len + strlen(": reason") < ERROR_MAX)
			cr_assert_str_eq(msg + len, ": reason",
					 "prefix length %zu", len);
	}
}

Test(error, names_for_every_code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ OTA_OK, "ok" },
		{ OTA_EINTERNAL, "internal" },
		{ OTA_EUSAGE, "usage" },
		{ OTA_EINPUT, "input" },
		{ OTA_EOUTPUT, "output" },
		{ OTA_EVERIFY, "verification" },
		{ OTA_EUNTRUSTED, "untrusted" },
		{ OTA_EKEY, "key" },
		{ OTA_EPOLICY, "policy" },
		{ OTA_EDOWNGRADE, "downgrade" },
		{ OTA_EROLLBACK, "rollback" },
		{ OTA_EHARDWARE, "hardware" },
		{ OTA_EBOOTLOADER, "bootloader" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_str_eq(ota_error_name(names[i].code), names[i].name,
				 "code %d", names[i].code);
}

Test(error, unknown_code_is_internal)
{
	cr_assert_str_eq(ota_error_name(-99), "internal");
	cr_assert_str_eq(ota_error_name(1), "internal");
}

/* The exit statuses are documented: the numbers must never move. */
Test(error, codes_are_the_documented_exit_statuses)
{
	cr_assert_eq(OTA_EINTERNAL, -1);
	cr_assert_eq(OTA_EUSAGE, -2);
	cr_assert_eq(OTA_EINPUT, -3);
	cr_assert_eq(OTA_EOUTPUT, -4);
	cr_assert_eq(OTA_EVERIFY, -5);
	cr_assert_eq(OTA_EUNTRUSTED, -6);
	cr_assert_eq(OTA_EKEY, -7);
	cr_assert_eq(OTA_EPOLICY, -8);
	cr_assert_eq(OTA_EDOWNGRADE, -9);
	cr_assert_eq(OTA_EROLLBACK, -10);
	cr_assert_eq(OTA_EHARDWARE, -11);
	cr_assert_eq(OTA_EBOOTLOADER, -12);
}

static void *other_thread(void *arg)
{
	(void)arg;
	ota_error(OTA_EKEY, "from the other thread");
	return NULL;
}

Test(error, message_is_per_thread)
{
	pthread_t t;

	ota_error(OTA_EINPUT, "from the main thread");
	cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(ota_error_code(), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(), "from the main thread");
}
