/* Unit tests for src/lib/semver.c: SemVer 2.0.0 grammar, precedence, ranges. */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/semver.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct ota_semver must_parse(const char *s)
{
	struct ota_semver v;
	int rc = ota_semver_parse(&v, s);

	cr_assert_eq(rc, 0, "parsing \"%s\" failed: %s", s,
		     ota_error_message());
	return v;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static int cmp(const char *a, const char *b)
{
	struct ota_semver va = must_parse(a), vb = must_parse(b);

	return sign(ota_semver_compare(&va, &vb));
}

/* Checks that every pair of an ascending list compares the right way. */
static void assert_ascending(const char *const *list, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int want = (i > j) - (i < j);

			cr_expect_eq(cmp(list[i], list[j]), want,
				     "compare(%s, %s) should be %d", list[i],
				     list[j], want);
		}
}

/* Section 11 of the spec, in the order the spec lists them. */
Test(semver, spec_prerelease_chain)
{
	static const char *const chain[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
		"1.0.0-rc.1",  "1.0.0",
	};

	assert_ascending(chain, NELEM(chain));
}

Test(semver, spec_core_chain)
{
	static const char *const chain[] = { "1.0.0", "2.0.0", "2.1.0",
					     "2.1.1" };

	assert_ascending(chain, NELEM(chain));
}

/* Numeric fields compare as numbers, not text ("10" > "9"). */
Test(semver, numeric_not_lexical)
{
	static const char *const chain[] = {
		"0.0.0",  "0.0.9",  "0.0.10",
		"0.9.0",  "0.10.0", "9.0.0",
		"10.0.0", "10.0.1", "18446744073709551615.0.0",
	};

	assert_ascending(chain, NELEM(chain));
}

/*
 * Pre-release numbers have no size limit and are compared by length and
 * then text; numeric identifiers sort before alphanumeric ones, and "-" and
 * upper case sort by ASCII.
 */
Test(semver, prerelease_identifiers)
{
	static const char *const chain[] = {
		"1.0.0-0",
		"1.0.0-9",
		"1.0.0-10",
		"1.0.0-18446744073709551615",
		"1.0.0-18446744073709551616",
		"1.0.0-99999999999999999999998",
		"1.0.0-99999999999999999999999",
		"1.0.0-100000000000000000000000",
		"1.0.0--",
		"1.0.0-0a",
		"1.0.0-A",
		"1.0.0-Z",
		"1.0.0-a",
		"1.0.0-a.0",
		"1.0.0-a.0.0",
		"1.0.0-a.1",
		"1.0.0-a.a",
		"1.0.0-aa",
		"1.0.0-b",
		"1.0.0",
	};

	assert_ascending(chain, NELEM(chain));
}

Test(semver, build_metadata_ignored)
{
	cr_assert_eq(cmp("1.0.0+a", "1.0.0+b"), 0);
	cr_assert_eq(cmp("1.0.0+20130313144700", "1.0.0"), 0);
	cr_assert_eq(cmp("1.0.0-alpha+001", "1.0.0-alpha"), 0);
	cr_assert_eq(cmp("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta"), 0);
	cr_assert_eq(cmp("1.0.0+21AF26D3----117B344092BD", "1.0.0+zzz"), 0);
	cr_assert_eq(cmp("1.0.0-alpha+zzz", "1.0.0-alpha.1+aaa"), -1);
	cr_assert_eq(cmp("1.0.0+zzz", "1.0.1+aaa"), -1);
}

struct parsed {
	const char *s;
	uint64_t major, minor, patch;
	const char *pre, *build;
};

/* Every example version in items 9 and 10 of the spec. */
Test(semver, spec_examples)
{
	static const struct parsed rows[] = {
		{ "1.0.0-alpha", 1, 0, 0, "alpha", "" },
		{ "1.0.0-alpha.1", 1, 0, 0, "alpha.1", "" },
		{ "1.0.0-0.3.7", 1, 0, 0, "0.3.7", "" },
		{ "1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92", "" },
		{ "1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", "" },
		{ "1.0.0-alpha+001", 1, 0, 0, "alpha", "001" },
		{ "1.0.0+20130313144700", 1, 0, 0, "", "20130313144700" },
		{ "1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta",
		  "exp.sha.5114f85" },
		{ "1.0.0+21AF26D3----117B344092BD", 1, 0, 0, "",
		  "21AF26D3----117B344092BD" },
		{ "10.20.30", 10, 20, 30, "", "" },
		{ "18446744073709551615.18446744073709551615."
		  "18446744073709551615",
		  UINT64_MAX, UINT64_MAX, UINT64_MAX, "", "" },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct ota_semver v = must_parse(rows[i].s);

		cr_expect_eq(v.major, rows[i].major, "%s major", rows[i].s);
		cr_expect_eq(v.minor, rows[i].minor, "%s minor", rows[i].s);
		cr_expect_eq(v.patch, rows[i].patch, "%s patch", rows[i].s);
		cr_expect_str_eq(v.pre, rows[i].pre, "%s pre", rows[i].s);
		cr_expect_str_eq(v.build, rows[i].build, "%s build", rows[i].s);
	}
}

/*
 * The "valid" list of the semver project's regex tests (issue #232), each
 * also formatted back to check the canonical form is the input itself.
 */
Test(semver, valid_table_and_round_trip)
{
	static const char *const valid[] = {
		"0.0.4",
		"1.2.3",
		"10.20.30",
		"1.1.2-prerelease+meta",
		"1.1.2+meta",
		"1.1.2+meta-valid",
		"1.0.0-alpha",
		"1.0.0-beta",
		"1.0.0-alpha.beta",
		"1.0.0-alpha.beta.1",
		"1.0.0-alpha.1",
		"1.0.0-alpha0.valid",
		"1.0.0-alpha.0valid",
		"1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
		"1.0.0-rc.1+build.1",
		"2.0.0-rc.1+build.123",
		"1.2.3-beta",
		"10.2.3-DEV-SNAPSHOT",
		"1.2.3-SNAPSHOT-123",
		"1.0.0",
		"2.0.0",
		"1.1.7",
		"2.0.0+build.1848",
		"2.0.1-alpha.1227",
		"1.0.0-alpha+beta",
		"1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
		"1.2.3----R-S.12.9.1--.12+meta",
		"1.2.3----RC-SNAPSHOT.12.9.1--.12",
		"1.0.0+0.build.1-rc.10000aaa-kk-0.1",
		"1.0.0-0A.is.legal",
		/* Not in #232 but legal: zeros in build, "0" alone. */
		"0.0.0",
		"1.0.0+000.0001",
		"1.0.0-0.0.0",
		"1.0.0-00a",
	};
	char buf[OTA_SEMVER_MAX + 1];
	size_t i;

	for (i = 0; i < NELEM(valid); i++) {
		struct ota_semver v = must_parse(valid[i]);

		cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0,
			     "formatting %s: %s", valid[i],
			     ota_error_message());
		cr_expect_str_eq(buf, valid[i]);
	}
}

struct bad {
	const char *s;
	size_t off;
	const char *why;
};

/*
 * The "invalid" list of issue #232 plus our own limits. Each row names the
 * offset and reason the message must give, so a version rejected for the
 * wrong reason fails too.
 */
Test(semver, invalid_table)
{
	static const struct bad rows[] = {
		{ "1", 1, "missing minor version" },
		{ "1.2", 3, "missing patch version" },
		{ "1.2.", 4, "missing patch version" },
		{ "1.2.3-0123", 6,
		  "leading zero in numeric pre-release identifier" },
		{ "1.2.3-0123.0123", 6,
		  "leading zero in numeric pre-release identifier" },
		{ "1.1.2+.123", 6, "empty build metadata identifier" },
		{ "+invalid", 0, "expected a digit for major version" },
		{ "-invalid", 0, "expected a digit for major version" },
		{ "-invalid+invalid", 0, "expected a digit for major version" },
		{ "-invalid.01", 0, "expected a digit for major version" },
		{ "alpha", 0, "expected a digit for major version, found 'a'" },
		{ "alpha.beta", 0, "expected a digit for major version" },
		{ "alpha.beta.1", 0, "expected a digit for major version" },
		{ "alpha.1", 0, "expected a digit for major version" },
		{ "alpha+beta", 0, "expected a digit for major version" },
		{ "alpha_beta", 0, "expected a digit for major version" },
		{ "alpha.", 0, "expected a digit for major version" },
		{ "alpha..", 0, "expected a digit for major version" },
		{ "beta", 0, "expected a digit for major version" },
		{ "1.0.0-alpha_beta", 11,
		  "invalid character '_' in pre-release" },
		{ "-alpha.", 0, "expected a digit for major version" },
		{ "1.0.0-alpha..", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha..1", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha...1", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha....1", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha.....1", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha......1", 12, "empty pre-release identifier" },
		{ "1.0.0-alpha.......1", 12, "empty pre-release identifier" },
		{ "01.1.1", 0, "leading zero in major version" },
		{ "1.01.1", 2, "leading zero in minor version" },
		{ "1.1.01", 4, "leading zero in patch version" },
		{ "1.2.3.DEV", 5, "after patch version, found '.'" },
		{ "1.2-SNAPSHOT", 3,
		  "expected \".\" after minor version, found '-'" },
		{ "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788", 6,
		  "after patch version, found '.'" },
		{ "1.2-RC-SNAPSHOT", 3, "expected \".\" after minor version" },
		{ "-1.0.3-gamma+b7718", 0,
		  "expected a digit for major version" },
		{ "+justmeta", 0, "expected a digit for major version" },
		{ "9.8.7+meta+meta", 10,
		  "invalid character '+' in build metadata" },
		{ "9.8.7-whatever+meta+meta", 19,
		  "invalid character '+' in build metadata" },
		{ "99999999999999999999999.999999999.99999999", 0,
		  "major version does not fit in 64 bits" },
		{ "99999999999999999999999.999999999.99999999----RC-SNAPSHOT."
		  "12.09.1--------------------------------..12",
		  0, "major version does not fit in 64 bits" },
		{ "1.2.3-beta.01", 11,
		  "leading zero in numeric pre-release identifier" },
		/* Our own: prefixes, whitespace, empties, wildcards. */
		{ "", 0, "empty version" },
		{ "v1.2.3", 0, "leading \"v\" is not allowed" },
		{ "V1.2.3", 0, "leading \"V\" is not allowed" },
		{ " 1.2.3", 0, "found a space" },
		{ "1.2.3 ", 5, "found a space" },
		{ "1.2.3\n", 5, "found whitespace (0x0a)" },
		{ "1. 2.3", 2, "expected a digit for minor version" },
		{ "1.2.3-", 6, "empty pre-release identifier" },
		{ "1.2.3+", 6, "empty build metadata identifier" },
		{ "1.2.3-+b", 6, "empty pre-release identifier" },
		{ "1.2.3-a.", 8, "empty pre-release identifier" },
		{ "1.2.3+b.", 8, "empty build metadata identifier" },
		{ "1.2.3-00", 6, "leading zero in numeric pre-release" },
		{ "1.2.3-a\xc3\xa9", 7, "invalid character byte 0xc3" },
		{ "1..3", 2, "expected a digit for minor version, found '.'" },
		{ "1.2.x", 4, "wildcard 'x' in patch version" },
		{ "1.*.0", 2, "wildcard '*' in minor version" },
		{ "=1.2.3", 0, "expected a digit for major version" },
		{ "1.2.3-_", 6, "invalid character '_' in pre-release" },
		{ "1.2.3-a.\"q\"", 8, "invalid character '\"' in pre-release" },
		{ "1.2.3+a/b", 7, "invalid character '/' in build metadata" },
		{ "1.2.3-a+b c", 9, "invalid character a space in build" },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct ota_semver v;
		const char *msg;
		char off[32];

		memset(&v, 0x5a, sizeof(v));
		cr_expect_eq(ota_semver_parse(&v, rows[i].s), OTA_EINPUT,
			     "\"%s\" should be rejected", rows[i].s);
		cr_expect_eq(ota_error_code(), OTA_EINPUT);
		msg = ota_error_message();
		snprintf(off, sizeof(off), " at offset %zu", rows[i].off);
		cr_expect(strncmp(msg, "invalid version \"", 17) == 0,
			  "\"%s\": message \"%s\" does not start right",
			  rows[i].s, msg);
		cr_expect(strstr(msg, rows[i].why) != NULL,
			  "\"%s\": message \"%s\" lacks \"%s\"", rows[i].s, msg,
			  rows[i].why);
		cr_expect(strstr(msg, off) != NULL,
			  "\"%s\": message \"%s\" lacks \"%s\"", rows[i].s, msg,
			  off);
		/* The output is only written on success. */
		cr_expect_eq(v.major, 0x5a5a5a5a5a5a5a5aULL);
	}
}

Test(semver, error_message_exact)
{
	struct ota_semver v;

	cr_assert_eq(ota_semver_parse(&v, "1.02.3"), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "invalid version \"1.02.3\": leading zero in minor "
			 "version at offset 2");
	cr_assert_eq(ota_semver_parse(&v, "1.2"), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "invalid version \"1.2\": missing patch version at "
			 "offset 3; a full MAJOR.MINOR.PATCH version is "
			 "required");
	/* Quotes in the input do not end the quoted echo of it. */
	cr_assert_eq(ota_semver_parse(&v, "1.0.0-\"q\""), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "invalid version \"1.0.0-\\\"q\\\"\": invalid "
			 "character '\"' in pre-release at offset 6");
	/* Control characters never reach the terminal raw. */
	cr_assert_eq(ota_semver_parse(&v, "1.2.3\x1b[2J"), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "invalid version \"1.2.3\\x1b[2J\": expected \"-\", "
			 "\"+\" or the end after patch version, found byte "
			 "0x1b at offset 5");
}

/* The boundary is exact: UINT64_MAX parses, UINT64_MAX + 1 does not. */
Test(semver, overflow_boundary)
{
	static const struct bad rows[] = {
		{ "18446744073709551616.0.0", 0,
		  "major version does not fit in 64 bits" },
		{ "0.18446744073709551616.0", 2,
		  "minor version does not fit in 64 bits" },
		{ "0.0.18446744073709551616", 4,
		  "patch version does not fit in 64 bits" },
		{ "18446744073709551620.0.0", 0,
		  "major version does not fit in 64 bits" },
		{ "184467440737095516150.0.0", 0,
		  "major version does not fit in 64 bits" },
		{ "99999999999999999999.0.0", 0,
		  "major version does not fit in 64 bits" },
	};
	struct ota_semver v = must_parse("18446744073709551615.0.0");
	char off[32];
	size_t i;

	cr_assert_eq(v.major, UINT64_MAX);
	v = must_parse("1.18446744073709551614.0");
	cr_assert_eq(v.minor, UINT64_MAX - 1);
	for (i = 0; i < NELEM(rows); i++) {
		cr_expect_eq(ota_semver_parse(&v, rows[i].s), OTA_EINPUT,
			     "\"%s\" should overflow", rows[i].s);
		snprintf(off, sizeof(off), "%s at offset %zu", rows[i].why,
			 rows[i].off);
		cr_expect(strstr(ota_error_message(), off) != NULL,
			  "\"%s\": \"%s\" lacks \"%s\"", rows[i].s,
			  ota_error_message(), off);
	}
}

Test(semver, length_limit)
{
	char s[OTA_SEMVER_MAX + 2], buf[OTA_SEMVER_MAX + 1];
	struct ota_semver v;

	/* "1.0.0-" plus 249 letters is exactly OTA_SEMVER_MAX characters. */
	memcpy(s, "1.0.0-", 6);
	memset(s + 6, 'a', OTA_SEMVER_MAX - 6);
	s[OTA_SEMVER_MAX] = '\0';
	v = must_parse(s);
	cr_assert_eq(strlen(v.pre), OTA_SEMVER_MAX - 6);
	cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0);
	cr_assert_str_eq(buf, s);
	/* One byte short for the terminator. */
	cr_assert_eq(ota_semver_format(buf, OTA_SEMVER_MAX, &v), OTA_EINTERNAL);
	cr_assert_str_eq(buf, "");

	s[OTA_SEMVER_MAX] = 'a';
	s[OTA_SEMVER_MAX + 1] = '\0';
	cr_assert_eq(ota_semver_parse(&v, s), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "longer than 255 characters") !=
		      NULL,
		  "%s", ota_error_message());
	/* The echoed input is cut short rather than flooding the message. */
	cr_assert(strstr(ota_error_message(), "aaa...\"") != NULL, "%s",
		  ota_error_message());
	cr_assert_lt(strlen(ota_error_message()), 200);

	/* Same length limit when the excess is build metadata. */
	memcpy(s, "1.0.0+", 6);
	cr_assert_eq(ota_semver_parse(&v, s), OTA_EINPUT);
}

Test(semver, format)
{
	struct ota_semver v;
	char buf[64], tiny[6];

	memset(&v, 0, sizeof(v));
	v.major = 1;
	v.minor = 22;
	v.patch = 333;
	cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0);
	cr_assert_str_eq(buf, "1.22.333");
	strcpy(v.build, "b.7");
	cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0);
	cr_assert_str_eq(buf, "1.22.333+b.7");
	strcpy(v.pre, "rc.1");
	cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0);
	cr_assert_str_eq(buf, "1.22.333-rc.1+b.7");
	v.build[0] = '\0';
	cr_assert_eq(ota_semver_format(buf, sizeof(buf), &v), 0);
	cr_assert_str_eq(buf, "1.22.333-rc.1");

	v = must_parse("1.0.0");
	cr_assert_eq(ota_semver_format(tiny, sizeof(tiny), &v), 0);
	cr_assert_str_eq(tiny, "1.0.0");
	v.patch = 10;
	cr_assert_eq(ota_semver_format(tiny, sizeof(tiny), &v), OTA_EINTERNAL);
	cr_assert_eq(ota_error_code(), OTA_EINTERNAL);
}

static struct ota_semver_range *must_range(const char *s)
{
	struct ota_semver_range *r = NULL;
	int rc = ota_semver_range_parse(&r, s);

	cr_assert_eq(rc, 0, "range \"%s\" failed: %s", s, ota_error_message());
	cr_assert_not_null(r);
	return r;
}

struct match {
	const char *range, *version;
	bool want;
};

Test(semver_range, match_table)
{
	static const struct match rows[] = {
		/* No operator and "=" are both exact; build is ignored. */
		{ "1.2.3", "1.2.3", true },
		{ "1.2.3", "1.2.3+build.9", true },
		{ "1.2.3", "1.2.4", false },
		{ "1.2.3", "1.2.2", false },
		{ "1.2.3", "1.2.3-beta", false },
		{ "=1.2.3", "1.2.3", true },
		{ "=1.2.3", "1.2.4", false },
		{ "=1.2.3+meta", "1.2.3", true },
		{ "1.2.3-beta.2", "1.2.3-beta.2", true },
		{ "1.2.3-beta.2", "1.2.3-beta.3", false },
		{ ">1.2.3", "1.2.4", true },
		{ ">1.2.3", "2.0.0", true },
		{ ">1.2.3", "1.2.3", false },
		{ ">1.2.3", "1.2.2", false },
		{ ">=1.2.3", "1.2.3", true },
		{ ">=1.2.3", "1.3.0", true },
		{ ">=1.2.3", "1.2.2", false },
		{ "<1.2.3", "1.2.2", true },
		{ "<1.2.3", "0.0.0", true },
		{ "<1.2.3", "1.2.3", false },
		{ "<1.2.3", "1.2.3-beta", false },
		{ "<=1.2.3", "1.2.3", true },
		{ "<=1.2.3", "1.2.4", false },
		{ "<=1.2.3", "0.9.0", true },
		/* Caret: leftmost non-zero part is fixed. */
		{ "^1.2.3", "1.2.3", true },
		{ "^1.2.3", "1.9.9", true },
		{ "^1.2.3", "1.2.2", false },
		{ "^1.2.3", "2.0.0", false },
		{ "^1.2.3", "2.0.0-0", false },
		{ "^1.2.3", "1.3.0-beta", false },
		{ "^1.0.0", "1.99.99", true },
		{ "^1.0.0", "0.9.9", false },
		{ "^0.2.3", "0.2.3", true },
		{ "^0.2.3", "0.2.99", true },
		{ "^0.2.3", "0.3.0", false },
		{ "^0.2.3", "0.2.2", false },
		{ "^0.2.3", "1.0.0", false },
		{ "^0.0.3", "0.0.3", true },
		{ "^0.0.3", "0.0.4", false },
		{ "^0.0.3", "0.0.2", false },
		{ "^0.0.3", "0.1.0", false },
		{ "^0.0.0", "0.0.0", true },
		{ "^0.0.0", "0.0.1", false },
		{ "^1.2.3-beta.2", "1.2.3-beta.4", true },
		{ "^1.2.3-beta.2", "1.2.3-beta.1", false },
		{ "^1.2.3-beta.2", "1.2.3", true },
		{ "^1.2.3-beta.2", "1.9.0", true },
		{ "^1.2.3-beta.2", "1.2.4-beta.2", false },
		{ "^1.2.3-beta.2", "2.0.0", false },
		/* Tilde: major and minor fixed, also for 0.x. */
		{ "~1.2.3", "1.2.3", true },
		{ "~1.2.3", "1.2.9", true },
		{ "~1.2.3", "1.3.0", false },
		{ "~1.2.3", "1.2.2", false },
		{ "~0.2.3", "0.2.99", true },
		{ "~0.2.3", "0.3.0", false },
		{ "~0.0.3", "0.0.9", true },
		{ "~0.0.3", "0.1.0", false },
		{ "~0.0.3", "0.0.2", false },
		{ "~1.2.3-beta.2", "1.2.3-beta.4", true },
		{ "~1.2.3-beta.2", "1.2.4", true },
		{ "~1.2.3-beta.2", "1.2.4-beta.2", false },
		{ "~1.2.3-beta.2", "1.3.0", false },
		/* Bumping a part at UINT64_MAX carries into the next one. */
		{ "^18446744073709551615.0.0", "18446744073709551615.9.9",
		  true },
		{ "^18446744073709551615.0.0", "18446744073709551614.9.9",
		  false },
		{ "~1.18446744073709551615.0", "1.18446744073709551615.7",
		  true },
		{ "~1.18446744073709551615.0", "2.0.0", false },
		{ "^0.18446744073709551615.0", "0.18446744073709551615.5",
		  true },
		{ "^0.18446744073709551615.0", "1.0.0", false },
		{ "^0.0.18446744073709551615", "0.0.18446744073709551615",
		  true },
		{ "^0.0.18446744073709551615", "0.1.0", false },
		{ "~18446744073709551615.18446744073709551615.0",
		  "18446744073709551615.18446744073709551615."
		  "18446744073709551615",
		  true },
		/* Any. */
		{ "*", "0.0.0", true },
		{ "*", "18446744073709551615.0.0", true },
		{ "*", "1.0.0-beta", false },
		{ "* <2.0.0", "1.5.0", true },
		{ "* <2.0.0", "2.5.0", false },
		/* Sets: comparators AND, "||" OR. */
		{ ">=1.2.7 <1.3.0", "1.2.7", true },
		{ ">=1.2.7 <1.3.0", "1.2.99", true },
		{ ">=1.2.7 <1.3.0", "1.2.6", false },
		{ ">=1.2.7 <1.3.0", "1.3.0", false },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.7", true },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.9", true },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.4.6", true },
		{ "1.2.7 || >=1.2.9 <2.0.0", "2.0.0", false },
		{ "1.0.0||2.0.0", "2.0.0", true },
		{ "1.0.0||2.0.0", "1.5.0", false },
		{ "<1.0.0 || >2.0.0 || =1.5.0", "1.5.0", true },
		{ "<1.0.0 || >2.0.0 || =1.5.0", "1.6.0", false },
		{ ">=2.0.0 <1.0.0", "1.5.0", false },
		/* Whitespace around and after operators. */
		{ ">= 1.2.3", "1.2.3", true },
		{ ">= 1.2.3", "1.2.2", false },
		{ "  >=\t1.2.3   <  2.0.0  ", "1.9.0", true },
		{ "  >=\t1.2.3   <  2.0.0  ", "2.0.0", false },
		{ "^ 1.2.3", "1.5.0", true },
		{ "~ 1.2.3", "1.3.0", false },
		{ "= 1.2.3", "1.2.3", true },
		/* Pre-release rule. */
		{ ">=1.0.0", "2.0.0-beta", false },
		{ ">=1.0.0", "1.0.0-beta", false },
		{ ">=1.0.0-beta <2.0.0", "1.0.0-beta.2", true },
		{ ">=1.0.0-beta <2.0.0", "1.0.0-beta", true },
		{ ">=1.0.0-beta <2.0.0", "1.0.0-alpha", false },
		{ ">=1.0.0-beta <2.0.0", "1.5.0-alpha", false },
		{ ">=1.0.0-beta <2.0.0", "1.5.0", true },
		{ ">=1.0.0-beta <2.0.0", "2.0.0-beta", false },
		{ ">1.2.3-alpha.3", "1.2.3-alpha.7", true },
		{ ">1.2.3-alpha.3", "3.4.5-alpha.9", false },
		{ ">1.2.3-alpha.3", "3.4.5", true },
		{ "<2.0.0-beta", "2.0.0-alpha", true },
		{ "<2.0.0-beta", "1.9.0", true },
		{ "<2.0.0-beta", "1.9.0-alpha", false },
		{ "* 1.0.0-rc.1", "1.0.0-rc.1", true },
		/* The opt-in applies per set, not across "||". */
		{ ">=1.0.0-beta <1.0.1 || >=2.0.0", "2.1.0-rc.1", false },
		{ ">=1.0.0-beta <1.0.1 || >=2.0.0", "1.0.0-rc.1", true },
		{ ">=2.0.0 || >=2.1.0-rc.0", "2.1.0-rc.1", true },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct ota_semver_range *r = must_range(rows[i].range);
		struct ota_semver v = must_parse(rows[i].version);

		cr_expect_eq(ota_semver_range_match(r, &v), rows[i].want,
			     "\"%s\" against \"%s\": want %s", rows[i].version,
			     rows[i].range,
			     rows[i].want ? "match" : "no match");
		ota_semver_range_free(r);
	}
}

/* Each row gives fragments the message must contain, offsets included. */
struct bad_range {
	const char *s;
	const char *why1, *why2;
};

Test(semver_range, invalid_table)
{
	static const struct bad_range rows[] = {
		{ "", "empty range", NULL },
		{ "  \t ", "empty range", NULL },
		{ ">=", "comparator \">=\" at offset 0",
		  "operator \">=\" is not followed by a version at offset 2" },
		{ ">= ", "comparator \">=\" at offset 0",
		  "not followed by a version at offset 3" },
		{ "1.0.0 >=", "comparator \">=\" at offset 6",
		  "not followed by a version at offset 8" },
		{ ">= || 1.0.0", "comparator \">=\" at offset 0",
		  "not followed by a version at offset 3" },
		{ ">=1.2", "comparator \">=1.2\" at offset 0",
		  "missing patch version at offset 5; a full MAJOR.MINOR.PATCH "
		  "version is required" },
		{ ">=1.0.0 <2.0", "comparator \"<2.0\" at offset 8",
		  "missing patch version at offset 12; a full" },
		{ "1.2", "comparator \"1.2\" at offset 0",
		  "a full MAJOR.MINOR.PATCH version is required" },
		{ "1", "comparator \"1\" at offset 0",
		  "missing minor version" },
		{ "1.0.0 ||", "empty comparator set after \"||\" at offset 6",
		  NULL },
		{ "1.0.0 ||   ",
		  "empty comparator set after \"||\" at offset 6", NULL },
		{ "|| 1.0.0", "empty comparator set before \"||\" at offset 0",
		  NULL },
		{ "1.0.0 || || 2.0.0",
		  "empty comparator set before \"||\" at offset 9", NULL },
		{ "1.0.0 | 2.0.0", "single \"|\" at offset 6", NULL },
		{ "1.0.0|", "single \"|\" at offset 5", NULL },
		{ "1.0.0 |||", "single \"|\" at offset 8", NULL },
		{ ">>1.0.0", "comparator \">>1.0.0\" at offset 0",
		  "unknown operator \">>\" at offset 0" },
		{ "=>1.0.0", "comparator \"=>1.0.0\" at offset 0",
		  "unknown operator \"=>\"" },
		{ "~>1.0.0", "unknown operator \"~>\"", NULL },
		{ "<>1.0.0", "unknown operator \"<>\"", NULL },
		{ "1.0.0 ==1.0.0", "comparator \"==1.0.0\" at offset 6",
		  "unknown operator \"==\" at offset 6" },
		{ "garbage", "comparator \"garbage\" at offset 0",
		  "expected a digit for major version, found 'g' at offset 0" },
		{ ">=1.0.0 garbage", "comparator \"garbage\" at offset 8",
		  "found 'g' at offset 8" },
		{ ">=01.0.0", "leading zero in major version at offset 2",
		  NULL },
		{ "^1.2.x", "wildcard 'x' in patch version at offset 5", NULL },
		{ "x", "wildcard 'x' in major version at offset 0", NULL },
		{ ">=*", "wildcard '*' in major version at offset 2", NULL },
		{ "*1", "comparator \"*1\" at offset 0",
		  "unexpected '1' after \"*\" at offset 1" },
		{ "v1.2.3", "leading \"v\" is not allowed at offset 0", NULL },
		{ ">=v1.2.3", "leading \"v\" is not allowed at offset 2",
		  NULL },
		{ "1.0.0 - 2.0.0", "comparator \"-\" at offset 6",
		  "expected a digit for major version, found '-' at offset 6" },
		{ "1.0.0-beta..1", "empty pre-release identifier at offset 11",
		  NULL },
		{ "1.0.0,2.0.0", "found ','", NULL },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct ota_semver_range *r = (struct ota_semver_range *)1;
		const char *msg;

		cr_expect_eq(ota_semver_range_parse(&r, rows[i].s), OTA_EINPUT,
			     "\"%s\" should be rejected", rows[i].s);
		cr_expect_null(r, "\"%s\": out not cleared", rows[i].s);
		msg = ota_error_message();
		cr_expect(strstr(msg, rows[i].why1) != NULL,
			  "\"%s\": message \"%s\" lacks \"%s\"", rows[i].s, msg,
			  rows[i].why1);
		cr_expect(!rows[i].why2 || strstr(msg, rows[i].why2) != NULL,
			  "\"%s\": message \"%s\" lacks \"%s\"", rows[i].s, msg,
			  rows[i].why2);
	}
}

Test(semver_range, error_message_exact)
{
	struct ota_semver_range *r;

	cr_assert_eq(ota_semver_range_parse(&r, ">=1.0.0 <1.2"), OTA_EINPUT);
	cr_assert_str_eq(ota_error_message(),
			 "invalid range: comparator \"<1.2\" at offset 8: "
			 "missing patch version at offset 12; a full "
			 "MAJOR.MINOR.PATCH version is required");
}

/* Builds n copies of item joined by sep into buf. */
static void repeat(char *buf, size_t len, const char *item, const char *sep,
		   int n)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strncat(buf, sep, len - strlen(buf) - 1);
		strncat(buf, item, len - strlen(buf) - 1);
	}
}

Test(semver_range, comparator_limit)
{
	struct ota_semver_range *r;
	struct ota_semver in = must_parse("1.5.0"), out = must_parse("0.5.0");
	char buf[2048];

	/* 64 comparators in one set are fine and all of them apply. */
	repeat(buf, sizeof(buf), ">=1.0.0", " ", 63);
	strcat(buf, " <2.0.0");
	r = must_range(buf);
	cr_assert(ota_semver_range_match(r, &in));
	cr_assert_not(ota_semver_range_match(r, &out));
	ota_semver_range_free(r);

	repeat(buf, sizeof(buf), ">=1.0.0", " ", 65);
	r = (struct ota_semver_range *)1;
	cr_assert_eq(ota_semver_range_parse(&r, buf), OTA_EINPUT);
	cr_assert_null(r);
	cr_assert(strstr(ota_error_message(), "more than 64 comparators") !=
		      NULL,
		  "%s", ota_error_message());
	/* The 65th comparator starts at 64 * strlen(">=1.0.0 "). */
	cr_assert(strstr(ota_error_message(), "offset 512") != NULL, "%s",
		  ota_error_message());

	/* The limit is on the whole range, not on each set. */
	repeat(buf, sizeof(buf), "1.0.0", " || ", 64);
	r = must_range(buf);
	ota_semver_range_free(r);
	repeat(buf, sizeof(buf), "1.0.0", " || ", 65);
	cr_assert_eq(ota_semver_range_parse(&r, buf), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "more than 64 comparators") !=
		      NULL,
		  "%s", ota_error_message());
}

/* Sets are kept apart: the last comparator of one set ends it. */
Test(semver_range, sets_are_separate)
{
	struct ota_semver_range *r = must_range(">=1.0.0 <1.1.0 || "
						">=3.0.0 <3.1.0 || 5.0.0");
	static const char *const yes[] = { "1.0.0", "1.0.9", "3.0.5", "5.0.0" };
	static const char *const no[] = { "0.9.0", "1.1.0", "2.0.0",
					  "3.1.0", "4.0.0", "5.0.1" };
	size_t i;

	for (i = 0; i < NELEM(yes); i++) {
		struct ota_semver v = must_parse(yes[i]);

		cr_expect(ota_semver_range_match(r, &v), "%s", yes[i]);
	}
	for (i = 0; i < NELEM(no); i++) {
		struct ota_semver v = must_parse(no[i]);

		cr_expect_not(ota_semver_range_match(r, &v), "%s", no[i]);
	}
	ota_semver_range_free(r);
}

Test(semver_range, free_null)
{
	struct ota_semver v = must_parse("1.0.0");

	ota_semver_range_free(NULL);
	cr_assert_not(ota_semver_range_match(NULL, &v));
}
