/* RFC 3339 parsing and formatting without the locale or the TZ variable. */
#include "otatool/timestamp.h"
#include "otatool/error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at s[*pos]. */
static int digits(const char *s, size_t *pos, int n, int64_t *out)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[*pos]))
			return -1;
		v = v * 10 + (s[*pos] - '0');
		(*pos)++;
	}
	*out = v;
	return 0;
}

static int expect(const char *s, size_t *pos, const char *set)
{
	if (s[*pos] == '\0' || !strchr(set, s[*pos]))
		return -1;
	(*pos)++;
	return 0;
}

int ota_timestamp_parse(int64_t *out, const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int64_t y, mo, d, h, mi, sec, oh = 0, om = 0;
	size_t pos = 0;
	int sign = 0;

	if (digits(s, &pos, 4, &y) || expect(s, &pos, "-") ||
	    digits(s, &pos, 2, &mo) || expect(s, &pos, "-") ||
	    digits(s, &pos, 2, &d) || expect(s, &pos, "Tt ") ||
	    digits(s, &pos, 2, &h) || expect(s, &pos, ":") ||
	    digits(s, &pos, 2, &mi) || expect(s, &pos, ":") ||
	    digits(s, &pos, 2, &sec))
		goto bad;
	if (s[pos] == '.') {
		pos++;
		if (!isdigit((unsigned char)s[pos]))
			goto bad;
		while (isdigit((unsigned char)s[pos]))
			pos++;
	}
	if (s[pos] == 'Z' || s[pos] == 'z') {
		pos++;
	} else if (s[pos] == '+' || s[pos] == '-') {
		sign = s[pos] == '-' ? -1 : 1;
		pos++;
		if (digits(s, &pos, 2, &oh) || expect(s, &pos, ":") ||
		    digits(s, &pos, 2, &om) || oh > 23 || om > 59)
			goto bad;
	} else {
		goto bad;
	}
	if (s[pos] != '\0')
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && is_leap(y)) || h > 23 || mi > 59 ||
	    sec > 60)
		return ota_error(
		    OTA_EINPUT,
		    "invalid timestamp \"%s\": date or time out of "
		    "range",
		    s);
	if (sec == 60)
		sec = 59; /* a leap second: keep it inside its minute */
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return ota_error(OTA_EINPUT,
			 "invalid timestamp \"%s\" at offset %zu: expected RFC "
			 "3339, e.g. 2026-11-24T09:00:00Z",
			 s, pos);
}

int ota_timestamp_format(char buf[OTA_TIMESTAMP_LEN], int64_t t)
{
	int64_t days = t / 86400, rem = t % 86400, y, m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return ota_error(OTA_EINPUT,
				 "time %lld is outside years 0000-9999",
				 (long long)t);
	snprintf(buf, OTA_TIMESTAMP_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 (int)y, (int)m, (int)d, (int)(rem / 3600),
		 (int)(rem / 60 % 60), (int)(rem % 60));
	return 0;
}

bool ota_timestamp_describe(char buf[OTA_TIMESTAMP_TEXT_LEN], uint64_t t)
{
	if (t <= (uint64_t)OTA_TIMESTAMP_MAX &&
	    ota_timestamp_format(buf, (int64_t)t) == 0)
		return true;
	snprintf(buf, OTA_TIMESTAMP_TEXT_LEN,
		 "%llu (out of range: after year 9999)", (unsigned long long)t);
	return false;
}

int ota_timestamp_build(int64_t *out)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end = NULL;
	long long v;

	if (!sde) {
		*out = (int64_t)time(NULL);
		return 0;
	}
	/* reproducible-builds.org: a decimal integer; anything else is fatal.
	 */
	errno = 0;
	v = strtoll(sde, &end, 10);
	if (errno || *end || v < 0 || !isdigit((unsigned char)sde[0]) ||
	    v > OTA_TIMESTAMP_MAX)
		return ota_error(OTA_EINPUT,
				 "SOURCE_DATE_EPOCH=\"%s\" is not a number of "
				 "seconds between 0 and 253402300799",
				 sde);
	*out = v;
	return 0;
}
