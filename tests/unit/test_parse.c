/* Unit tests for src/lib/parse.c: the one integer syntax. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "otatool/error.h"
#include "otatool/parse.h"

Test(parse, accepts_decimal_hex_and_separators)
{
	static const struct {
		const char *text;
		uint64_t max, want;
	} ok[] = {
		{ "0", 10, 0 },
		{ "42", 42, 42 },
		{ "0x0802_0000", UINT32_MAX, 0x08020000 },
		{ "0XfF", 255, 255 },
		{ "1_000_000", UINT64_MAX, 1000000 },
		{ "18446744073709551615", UINT64_MAX, UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX, UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 7;

		cr_assert_eq(ota_parse_uint(&v, ok[i].text, ok[i].max, "f"), 0,
			     "%s: %s", ok[i].text, ota_error_message());
		cr_assert_eq(v, ok[i].want, "%s", ok[i].text);
	}
}

Test(parse, refuses_naming_origin_and_reason)
{
	static const struct {
		const char *text;
		uint64_t max;
		const char *why;
	} bad[] = {
		{ "", 10, "not a non-negative integer" },
		{ "07", 10, "leading zero" },
		{ "0x", 10, "not a non-negative integer" },
		{ "-1", 10, "not a non-negative integer" },
		{ "1 ", 10, "not a non-negative integer" },
		{ "12a", 1000, "not a non-negative integer" },
		{ "_1", 10, "'_' may only stand between two digits" },
		{ "1_", 10, "'_' may only stand between two digits" },
		{ "1__0", 100, "'_' may only stand between two digits" },
		{ "256", 255, "out of range (maximum 255)" },
		{ "18446744073709551616", UINT64_MAX, "out of range" },
		{ "0x1_0000_0000", UINT32_MAX, "out of range" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 7;

		cr_assert_eq(
		    ota_parse_uint(&v, bad[i].text, bad[i].max, "--counter"),
		    OTA_EINPUT, "\"%s\" accepted", bad[i].text);
		cr_assert_eq(v, 7, "\"%s\" wrote the output", bad[i].text);
		cr_assert(strncmp(ota_error_message(), "--counter: ", 11) == 0,
			  "%s", ota_error_message());
		cr_assert(strstr(ota_error_message(), bad[i].why), "%s: %s",
			  bad[i].text, ota_error_message());
	}
}
