/* Unit tests for src/lib/timestamp.c: RFC 3339 and SOURCE_DATE_EPOCH. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otatool/error.h"
#include "otatool/timestamp.h"

#define T_2026_11_24_0900 INT64_C(1795510800) /* checked with date -u */
#define T_2024_02_29      INT64_C(1709164800)
#define T_2000_02_29      INT64_C(951782400)
#define T_YEAR_0          INT64_C(-62167219200)
#define T_MAX             INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static void parse_ok(const char *s, int64_t want)
{
	int64_t got = -12345;
	int rc = ota_timestamp_parse(&got, s);

	cr_assert_eq(rc, 0, "\"%s\": rc %d: %s", s, rc, ota_error_message());
	cr_assert_eq(got, want, "\"%s\": got %lld, want %lld", s,
		     (long long)got, (long long)want);
}

static void parse_bad(const char *s, const char *msg_part)
{
	int64_t got = 0;
	int rc = ota_timestamp_parse(&got, s);

	cr_assert_eq(rc, OTA_EINPUT, "\"%s\": rc %d", s, rc);
	cr_assert_not_null(strstr(ota_error_message(), s),
			   "\"%s\": message does not quote it: %s", s,
			   ota_error_message());
	cr_assert_not_null(strstr(ota_error_message(), msg_part),
			   "\"%s\": message lacks \"%s\": %s", s, msg_part,
			   ota_error_message());
}

Test(timestamp, parse_utc)
{
	parse_ok("2026-11-24T09:00:00Z", T_2026_11_24_0900);
	parse_ok("1970-01-01T00:00:00Z", 0);
	parse_ok("1970-01-01T00:00:01Z", 1);
	parse_ok("1969-12-31T23:59:59Z", -1);
	parse_ok("9999-12-31T23:59:59Z", T_MAX);
	parse_ok("0000-01-01T00:00:00Z", T_YEAR_0);
}

Test(timestamp, parse_offsets)
{
	parse_ok("2026-11-24T10:00:00+01:00", T_2026_11_24_0900);
	parse_ok("2026-11-24T04:30:00-04:30", T_2026_11_24_0900);
	parse_ok("2026-11-24T09:00:00+00:00", T_2026_11_24_0900);
	parse_ok("2026-11-24T09:00:00-00:00", T_2026_11_24_0900);
	/* Across a date line: still the same instant. */
	parse_ok("2026-11-25T08:59:00+23:59", T_2026_11_24_0900);
	parse_ok("2026-11-23T09:01:00-23:59", T_2026_11_24_0900);
}

Test(timestamp, parse_fraction_dropped)
{
	parse_ok("2026-11-24T09:00:00.5Z", T_2026_11_24_0900);
	parse_ok("2026-11-24T09:00:00.999999999Z", T_2026_11_24_0900);
	parse_ok("2026-11-24T10:00:00.123+01:00", T_2026_11_24_0900);
}

Test(timestamp, parse_lower_case_t_and_z)
{
	parse_ok("2026-11-24t09:00:00z", T_2026_11_24_0900);
	parse_ok("2026-11-24t09:00:00Z", T_2026_11_24_0900);
	parse_ok("2026-11-24T09:00:00z", T_2026_11_24_0900);
}

Test(timestamp, leap_days)
{
	parse_ok("2024-02-29T00:00:00Z", T_2024_02_29);
	parse_ok("2000-02-29T00:00:00Z", T_2000_02_29);
	parse_bad("2023-02-29T00:00:00Z", "out of range");
	parse_bad("1900-02-29T00:00:00Z", "out of range");
	parse_bad("2024-02-30T00:00:00Z", "out of range");
}

Test(timestamp, leap_second_stays_in_its_minute)
{
	parse_ok("2016-12-31T23:59:60Z", INT64_C(1483228799));
}

Test(timestamp, out_of_range_fields)
{
	parse_bad("2026-13-01T00:00:00Z", "out of range");
	parse_bad("2026-00-01T00:00:00Z", "out of range");
	parse_bad("2026-01-00T00:00:00Z", "out of range");
	parse_bad("2026-04-31T00:00:00Z", "out of range");
	parse_bad("2026-01-32T00:00:00Z", "out of range");
	parse_bad("2026-11-24T24:00:00Z", "out of range");
	parse_bad("2026-11-24T23:60:00Z", "out of range");
	parse_bad("2026-11-24T23:59:61Z", "out of range");
}

Test(timestamp, garbage_names_offset)
{
	parse_bad("", "at offset 0");
	parse_bad("yesterday", "at offset 0");
	parse_bad("2026-11-24X09:00:00Z", "at offset 10");
	parse_bad("2026/11/24T09:00:00Z", "at offset 4");
	parse_bad("2026-11-24T09:00:00", "at offset 19");
	parse_bad("2026-11-24T09:00:00Zjunk", "at offset 20");
	parse_bad("2026-11-24T09:00:00.Z", "at offset 20");
	parse_bad("2026-11-24T09:00:00+0100", "at offset 22");
	parse_bad("2026-11-24T09:00:00+24:00", "at offset");
	parse_bad("2026-11-24T09:00:00+01:60", "at offset");
	parse_bad("2026-11-24T9:00:00Z", "at offset 12");
	parse_bad("26-11-24T09:00:00Z", "at offset 2");
}

static void format_ok(int64_t t, const char *want)
{
	char buf[OTA_TIMESTAMP_LEN];
	int rc;

	memset(buf, 'x', sizeof(buf));
	rc = ota_timestamp_format(buf, t);
	cr_assert_eq(rc, 0, "%lld: rc %d: %s", (long long)t, rc,
		     ota_error_message());
	cr_assert_str_eq(buf, want, "%lld", (long long)t);
}

Test(timestamp, format_known_values)
{
	format_ok(0, "1970-01-01T00:00:00Z");
	format_ok(-1, "1969-12-31T23:59:59Z");
	format_ok(T_2026_11_24_0900, "2026-11-24T09:00:00Z");
	format_ok(T_2024_02_29 + 86399, "2024-02-29T23:59:59Z");
	format_ok(T_2000_02_29, "2000-02-29T00:00:00Z");
	format_ok(T_MAX, "9999-12-31T23:59:59Z");
	format_ok(T_YEAR_0, "0000-01-01T00:00:00Z");
}

Test(timestamp, format_refuses_years_outside_0000_9999)
{
	char buf[OTA_TIMESTAMP_LEN];

	cr_assert_eq(ota_timestamp_format(buf, T_MAX + 1), OTA_EINPUT);
	cr_assert_not_null(strstr(ota_error_message(), "253402300800"), "%s",
			   ota_error_message());
	cr_assert_eq(ota_timestamp_format(buf, T_YEAR_0 - 1), OTA_EINPUT);
	cr_assert_eq(ota_timestamp_format(buf, INT64_MAX), OTA_EINPUT);
	cr_assert_eq(ota_timestamp_format(buf, INT64_MIN), OTA_EINPUT);
}

Test(timestamp, format_parse_round_trip)
{
	static const int64_t values[] = {
		0,
		1,
		-1,
		86399,
		86400,
		T_2000_02_29,
		T_2024_02_29,
		T_2026_11_24_0900,
		INT64_C(4102444800), /* 2100-01-01, not a leap year */
		INT64_C(951868799),  /* 2000-02-29T23:59:59Z */
		T_MAX,
		T_YEAR_0,
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char buf[OTA_TIMESTAMP_LEN];
		int64_t back = 0;

		cr_assert_eq(ota_timestamp_format(buf, values[i]), 0);
		cr_assert_eq(strlen(buf), OTA_TIMESTAMP_LEN - 1);
		cr_assert_eq(ota_timestamp_parse(&back, buf), 0, "%s", buf);
		cr_assert_eq(back, values[i], "%s: %lld != %lld", buf,
			     (long long)back, (long long)values[i]);
	}
}

Test(timestamp, build_uses_source_date_epoch)
{
	int64_t t = -1;

	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "1764000000", 1), 0);
	cr_assert_eq(ota_timestamp_build(&t), 0, "%s", ota_error_message());
	cr_assert_eq(t, INT64_C(1764000000));

	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "0", 1), 0);
	cr_assert_eq(ota_timestamp_build(&t), 0);
	cr_assert_eq(t, 0);

	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "253402300799", 1), 0);
	cr_assert_eq(ota_timestamp_build(&t), 0);
	cr_assert_eq(t, T_MAX);
}

Test(timestamp, build_without_source_date_epoch_is_now)
{
	int64_t t = -1, before, after;

	cr_assert_eq(unsetenv("SOURCE_DATE_EPOCH"), 0);
	before = (int64_t)time(NULL);
	cr_assert_eq(ota_timestamp_build(&t), 0, "%s", ota_error_message());
	after = (int64_t)time(NULL);
	cr_assert(t >= before && t <= after, "%lld not in [%lld, %lld]",
		  (long long)t, (long long)before, (long long)after);
}

static void build_bad(const char *value)
{
	int64_t t = 42;
	int rc;

	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", value, 1), 0);
	rc = ota_timestamp_build(&t);
	cr_assert_eq(rc, OTA_EINPUT, "SOURCE_DATE_EPOCH=\"%s\": rc %d, t %lld",
		     value, rc, (long long)t);
	cr_assert_not_null(strstr(ota_error_message(), "SOURCE_DATE_EPOCH"),
			   "%s", ota_error_message());
}

Test(timestamp, build_refuses_malformed_source_date_epoch)
{
	build_bad("abc");
	build_bad("-1");
	build_bad("1e9");
	build_bad(" 5");
	build_bad("+5");
	build_bad("5 ");
	build_bad("0x10");
	build_bad("253402300800");
	build_bad("99999999999999999999999");
}

/*
 * reproducible-builds.org: a malformed value is an error, and an empty
 * string is not a decimal integer. Silently falling back to the current
 * time would make a "reproducible" build irreproducible without a word.
 */
Test(timestamp, build_refuses_empty_source_date_epoch)
{
	build_bad("");
}
