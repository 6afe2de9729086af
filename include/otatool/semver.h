/* Semantic Versioning 2.0.0 versions and the range syntax used by dependencies.
 */
#ifndef OTATOOL_SEMVER_H
#define OTATOOL_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest accepted version string, pre-release and build metadata included. */
#define OTA_SEMVER_MAX 255

struct ota_semver {
	uint64_t major, minor, patch;
	char pre[OTA_SEMVER_MAX + 1];   /* "" when there is no pre-release */
	char build[OTA_SEMVER_MAX + 1]; /* "" when there is no build metadata */
};

/*
 * Parses a full SemVer 2.0.0 version ("1.0.0-rc.1+build.5"). No leading "v",
 * no leading zeros in numeric parts, no empty identifiers, numbers must fit in
 * uint64_t. On error returns OTA_EINPUT with a message that names the offending
 * character offset and reason (the caller adds the file and field), and
 * leaves *out untouched.
 */
int ota_semver_parse(struct ota_semver *out, const char *s);

/*
 * Writes the canonical text form; returns OTA_EINTERNAL if it does not fit.
 * It does not validate: format only what ota_semver_parse() produced.
 */
int ota_semver_format(char *buf, size_t len, const struct ota_semver *v);

/* Precedence per SemVer 2.0.0 section 11: <0, 0, >0. Build metadata ignored. */
int ota_semver_compare(const struct ota_semver *a, const struct ota_semver *b);

/*
 * A range: comparator sets joined by "||"; a set is comparators separated by
 * whitespace, all of which must hold. A comparator is an operator (one of
 * >=, <=, >, <, =, ^, ~, or none meaning =) followed by a full version, or
 * "*" for any version. Caret and tilde follow node-semver: ^1.2.3 is
 * >=1.2.3 <2.0.0 (^0.2.3 is >=0.2.3 <0.3.0, ^0.0.3 is >=0.0.3 <0.0.4);
 * ~1.2.3 is >=1.2.3 <1.3.0. A pre-release version satisfies a set only if
 * some comparator in that set names a pre-release of the same
 * major.minor.patch (node-semver's rule), so ">=1.0.0" is not met by
 * "2.0.0-beta", and "*" matches no pre-release. Whitespace may follow an
 * operator (">= 1.2.3"). At most 64 comparators in all; on error *out is
 * NULL. (Unlike current node-semver, ^1.2.3's upper bound is 2.0.0, not
 * 2.0.0-0: it matters only when a set also names a 2.0.0 pre-release.)
 */
struct ota_semver_range;

int ota_semver_range_parse(struct ota_semver_range **out, const char *s);
bool ota_semver_range_match(const struct ota_semver_range *r,
			    const struct ota_semver *v);
void ota_semver_range_free(struct ota_semver_range *r);

#ifdef __cplusplus
}
#endif
#endif
