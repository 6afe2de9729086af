/* The integer syntax of release files, manifests and options. */
#include "otatool/parse.h"
#include "otatool/error.h"

#include <ctype.h>

/*
 * One integer syntax for release files, manifests and options, chosen so
 * that a number means only one thing: decimal without leading zeros (YAML
 * 1.1 reads 010 as octal 8), or 0x and hexadecimal digits, with single
 * '_' between two digits (0x0802_0000).
 */
int ota_parse_uint(uint64_t *out, const char *s, uint64_t max,
		   const char *origin)
{
	uint64_t v = 0;
	unsigned base = 10;
	const char *p = s, *digits;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	digits = p;
	if (!*p)
		goto bad;
	if (base == 10 && p[0] == '0' && p[1])
		return ota_error(
		    OTA_EINPUT,
		    "%s: \"%s\" has a leading zero (YAML 1.1 would "
		    "read it as octal); write it without, or as "
		    "0x hex",
		    origin, s);
	for (; *p; p++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = (unsigned)(*p - '0');
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
		else if (*p == '_' && p > digits && p[-1] != '_' && p[1] &&
			 p[1] != '_')
			continue;
		else if (*p == '_')
			return ota_error(OTA_EINPUT,
					 "%s: \"%s\" is not a non-negative "
					 "integer: '_' may only stand between "
					 "two digits",
					 origin, s);
		else
			goto bad;
		if (v > (max - d) / base)
			return ota_error(OTA_EINPUT,
					 "%s: %s is out of range (maximum "
					 "%llu)",
					 origin, s, (unsigned long long)max);
		v = v * base + d;
	}
	*out = v;
	return 0;
bad:
	return ota_error(OTA_EINPUT,
			 "%s: \"%s\" is not a non-negative integer (decimal or "
			 "0x hex)",
			 origin, s);
}
