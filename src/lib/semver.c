/* SemVer 2.0.0 parsing, precedence and the node-semver-style range syntax. */
#include "otatool/semver.h"

#include "otatool/error.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A range is parsed into at most this many comparators. Ranges come from
 * manifests and command lines; a real one has a handful, so the cap only
 * keeps a hostile input from making us allocate without bound.
 */
#define RANGE_MAX_COMPARATORS 64

/*
 * Quoted input in messages is cut to this many bytes of source text: enough
 * for any realistic version or comparator, short enough that the reason and
 * offset after it always survive the error buffer.
 */
#define QUOTE_MAX 64
#define QUOTE_BUF (QUOTE_MAX * 4 + 8)

/*
 * Where and why a version failed to parse. The range parser shares the
 * version grammar but reports offsets in the range string, so the reason is
 * kept apart from the offset instead of being formatted straight away.
 */
struct perr {
	size_t off;
	char why[160];
	const char *hint; /* after the offset, "" if none */
};

enum cmp_op { OP_ANY, OP_EQ, OP_GT, OP_GE, OP_LT, OP_LE, OP_SPAN };

/*
 * OP_SPAN is what ^ and ~ expand to: lo <= v < hi. hi never has a
 * pre-release, so three numbers are enough; has_hi is false when the
 * increment would pass UINT64_MAX, where "no upper bound" is exact because
 * no larger version can be written.
 */
struct comparator {
	enum cmp_op op;
	bool last_in_set;
	bool has_hi;
	uint64_t hi[3];
	struct ota_semver v;
};

struct ota_semver_range {
	size_t n;
	struct comparator c[];
};

static const char *const field_name[3] = { "major", "minor", "patch" };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The identifier alphabet of SemVer 2.0.0; deliberately not locale-aware. */
static bool is_ident(char c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c == '-';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Names a byte so that whitespace and control characters are visible. */
static void describe(char *buf, size_t len, char c)
{
	unsigned char u = (unsigned char)c;

	if (c == ' ')
		snprintf(buf, len, "a space");
	else if (is_space(c))
		snprintf(buf, len, "whitespace (0x%02x)", u);
	else if (u > 0x20 && u < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", u);
}

/*
 * Copies up to QUOTE_MAX bytes of s into buf between double quotes, escaping
 * anything that could garble a terminal, and marks a cut with "...".
 */
static void quote(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; i < n && i < QUOTE_MAX; i++) {
		unsigned char u = (unsigned char)s[i];

		if (o + 8 >= len)
			break;
		if (u < 0x20 || u >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", u);
		else if (u == '"' || u == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", u);
		else
			buf[o++] = (char)u;
	}
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static int fail(struct perr *e, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct perr *e, size_t off, const char *fmt, ...)
{
	va_list ap;

	e->off = off;
	e->hint = "";
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Marks a failure as a partial version: "1.2" and "1.2.x" are valid
 * node-semver ranges, so the reader likely expects them to work here too.
 */
static int partial(int rc, struct perr *e)
{
	e->hint = "; a full MAJOR.MINOR.PATCH version is required";
	return rc;
}

/*
 * Reads MAJOR, MINOR or PATCH at s[*pos]: "0" or a digit string without a
 * leading zero that fits in uint64_t. Overflow is caught before the multiply
 * so that UINT64_MAX itself is accepted.
 */
static int parse_number(uint64_t *out, const char *s, size_t n, size_t *pos,
			int field, struct perr *e)
{
	const char *name = field_name[field];
	size_t p = *pos, start = p;
	uint64_t v = 0;
	char c[32];

	if (p == n)
		return partial(fail(e, p, "missing %s version", name), e);
	if (field == 0 && (s[p] == 'v' || s[p] == 'V'))
		return fail(e, p, "leading \"%c\" is not allowed", s[p]);
	if (s[p] == 'x' || s[p] == 'X' || s[p] == '*')
		return partial(
		    fail(e, p, "wildcard '%c' in %s version", s[p], name), e);
	if (!is_digit(s[p])) {
		describe(c, sizeof(c), s[p]);
		return fail(e, p, "expected a digit for %s version, found %s",
			    name, c);
	}
	if (s[p] == '0' && p + 1 < n && is_digit(s[p + 1]))
		return fail(e, p, "leading zero in %s version", name);
	for (; p < n && is_digit(s[p]); p++) {
		unsigned d = (unsigned)(s[p] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return fail(e, start,
				    "%s version does not fit in 64 bits", name);
		v = v * 10 + d;
	}
	*out = v;
	*pos = p;
	return 0;
}

/*
 * Reads the dot-separated identifiers of a pre-release or of build metadata
 * (named by what) up to stop or the end, copying them to dst. Only
 * pre-release numbers are checked for leading zeros: the spec allows "001"
 * in build metadata.
 */
static int parse_idents(char *dst, const char *s, size_t n, size_t *pos,
			char stop, bool numeric_rule, const char *what,
			struct perr *e)
{
	size_t p = *pos, start = p;
	char c[32];

	for (;;) {
		size_t id = p;
		bool numeric = true;

		while (p < n && is_ident(s[p])) {
			if (!is_digit(s[p]))
				numeric = false;
			p++;
		}
		/* A stray byte ends an identifier too: name it, not "empty". */
		if (p < n && s[p] != '.' && s[p] != stop) {
			describe(c, sizeof(c), s[p]);
			return fail(e, p, "invalid character %s in %s", c,
				    what);
		}
		if (p == id)
			return fail(e, p, "empty %s identifier", what);
		if (numeric_rule && numeric && s[id] == '0' && p - id > 1)
			return fail(e, id,
				    "leading zero in numeric %s identifier",
				    what);
		if (p == n || s[p] == stop)
			break;
		p++;
	}
	memcpy(dst, s + start, p - start);
	dst[p - start] = '\0';
	*pos = p;
	return 0;
}

/* The whole grammar, on a counted string so ranges can parse in place. */
static int parse_version(struct ota_semver *out, const char *s, size_t n,
			 struct perr *e)
{
	uint64_t *num[3] = { &out->major, &out->minor, &out->patch };
	size_t p = 0;
	char c[32];
	int i;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return fail(e, 0, "empty version");
	if (n > OTA_SEMVER_MAX)
		return fail(e, OTA_SEMVER_MAX, "longer than %d characters",
			    OTA_SEMVER_MAX);
	for (i = 0; i < 3; i++) {
		if (parse_number(num[i], s, n, &p, i, e) < 0)
			return -1;
		if (i == 2)
			break;
		if (p == n)
			return partial(
			    fail(e, p, "missing %s version", field_name[i + 1]),
			    e);
		if (s[p] != '.') {
			describe(c, sizeof(c), s[p]);
			return fail(e, p,
				    "expected \".\" after %s version, found %s",
				    field_name[i], c);
		}
		p++;
	}
	if (p < n && s[p] == '-') {
		p++;
		if (parse_idents(out->pre, s, n, &p, '+', true, "pre-release",
				 e) < 0)
			return -1;
	}
	if (p < n && s[p] == '+') {
		p++;
		if (parse_idents(out->build, s, n, &p, '\0', false,
				 "build metadata", e) < 0)
			return -1;
	}
	if (p < n) {
		describe(c, sizeof(c), s[p]);
		return fail(e, p,
			    "expected \"-\", \"+\" or the end after patch "
			    "version, found %s",
			    c);
	}
	return 0;
}

int ota_semver_parse(struct ota_semver *out, const char *s)
{
	struct ota_semver v;
	struct perr e;
	char q[QUOTE_BUF];
	size_t n;

	if (!out || !s)
		return ota_error(OTA_EINTERNAL,
				 "ota_semver_parse: NULL argument");
	/* Bounded: anything past the limit is rejected without reading it. */
	n = strnlen(s, OTA_SEMVER_MAX + 1);
	if (parse_version(&v, s, n, &e) < 0) {
		quote(q, sizeof(q), s, n);
		return ota_error(OTA_EINPUT,
				 "invalid version %s: %s at offset %zu%s", q,
				 e.why, e.off, e.hint);
	}
	*out = v;
	return 0;
}

int ota_semver_format(char *buf, size_t len, const struct ota_semver *v)
{
	int r;

	if (!buf || !v || len == 0)
		return ota_error(OTA_EINTERNAL, "ota_semver_format: no buffer");
	r = snprintf(buf, len, "%" PRIu64 ".%" PRIu64 ".%" PRIu64 "%s%s%s%s",
		     v->major, v->minor, v->patch, v->pre[0] ? "-" : "", v->pre,
		     v->build[0] ? "+" : "", v->build);
	if (r < 0 || (size_t)r >= len) {
		buf[0] = '\0';
		return ota_error(OTA_EINTERNAL,
				 "version does not fit in %zu bytes", len);
	}
	return 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_core(const struct ota_semver *a, const struct ota_semver *b)
{
	int r = cmp_u64(a->major, b->major);

	if (r == 0)
		r = cmp_u64(a->minor, b->minor);
	if (r == 0)
		r = cmp_u64(a->patch, b->patch);
	return r;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/*
 * Section 11.4 on two identifiers. Numeric ones have no leading zeros (the
 * parser saw to that) but may be longer than any integer type, so the
 * shorter digit string is the smaller number and equal lengths compare as
 * text.
 */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	bool anum = true, bnum = true;
	size_t i;
	int r;

	for (i = 0; i < an; i++)
		anum = anum && is_digit(a[i]);
	for (i = 0; i < bn; i++)
		bnum = bnum && is_digit(b[i]);
	if (anum != bnum)
		return anum ? -1 : 1;
	if (anum && an != bn)
		return an < bn ? -1 : 1;
	r = memcmp(a, b, an < bn ? an : bn);
	if (r != 0)
		return sign(r);
	return cmp_u64(an, bn);
}

static int cmp_pre(const char *a, const char *b)
{
	/* No pre-release ranks above any pre-release of the same core. */
	if (!a[0] || !b[0])
		return (!a[0]) - (!b[0]);
	for (;;) {
		size_t an = strcspn(a, "."), bn = strcspn(b, ".");
		int r = cmp_ident(a, an, b, bn);

		if (r != 0)
			return r;
		a += an;
		b += bn;
		/* A longer list of otherwise equal identifiers wins. */
		if (!*a || !*b)
			return (*a != '\0') - (*b != '\0');
		a++;
		b++;
	}
}

int ota_semver_compare(const struct ota_semver *a, const struct ota_semver *b)
{
	int r = cmp_core(a, b);

	return r != 0 ? r : cmp_pre(a->pre, b->pre);
}

/* Where a comparator's text ends: whitespace, "|" or the end. */
static size_t token_end(const char *s, size_t p)
{
	while (s[p] && !is_space(s[p]) && s[p] != '|')
		p++;
	return p;
}

static bool is_op_char(char c)
{
	return c == '<' || c == '>' || c == '=' || c == '^' || c == '~';
}

/*
 * Expands ^ and ~ into lo <= v < hi per node-semver: caret keeps the left-
 * most non-zero part fixed, tilde keeps major and minor fixed. A part at
 * UINT64_MAX cannot be bumped, so the bump carries into the part above it
 * (~1.MAX.0 is <2.0.0); with nothing left to carry into, no version above
 * the lower bound can be written and has_hi stays false.
 */
static void expand(struct comparator *c, char op)
{
	const struct ota_semver *v = &c->v;
	int bump, i;

	if (op == '~' || (v->major == 0 && v->minor != 0))
		bump = 1;
	else if (v->major != 0)
		bump = 0;
	else
		bump = 2;
	c->op = OP_SPAN;
	c->hi[0] = v->major;
	c->hi[1] = bump >= 1 ? v->minor : 0;
	c->hi[2] = bump == 2 ? v->patch : 0;
	for (i = bump; i >= 0; i--) {
		if (c->hi[i] < UINT64_MAX) {
			c->hi[i]++;
			c->has_hi = true;
			return;
		}
		c->hi[i] = 0;
	}
}

static int range_fail(const char *s, size_t start, size_t end, size_t off,
		      const char *why, const char *hint)
{
	char q[QUOTE_BUF];

	quote(q, sizeof(q), s + start, end - start);
	return ota_error(OTA_EINPUT,
			 "invalid range: comparator %s at offset %zu: %s at "
			 "offset %zu%s",
			 q, start, why, off, hint);
}

/*
 * Reads one comparator at s[*pos] into c (NULL on the counting pass).
 * Operators are read as a run of operator characters and matched whole, so
 * ">>" and "=>" are named as unknown operators rather than as odd versions.
 */
static int parse_comparator(struct comparator *c, const char *s, size_t *pos)
{
	static const struct {
		const char *text;
		enum cmp_op op;
	} ops[] = {
		{ ">=", OP_GE },  { "<=", OP_LE }, { ">", OP_GT },
		{ "<", OP_LT },   { "=", OP_EQ },  { "^", OP_SPAN },
		{ "~", OP_SPAN },
	};
	struct comparator tmp;
	size_t start = *pos, p = start, oplen, vstart, vend, i;
	struct perr e;
	char why[sizeof(e.why) + 64], ch[32];

	if (!c)
		c = &tmp;
	memset(c, 0, sizeof(*c));
	if (s[p] == '*') {
		p++;
		if (s[p] && !is_space(s[p]) && s[p] != '|') {
			describe(ch, sizeof(ch), s[p]);
			snprintf(why, sizeof(why), "unexpected %s after \"*\"",
				 ch);
			return range_fail(s, start, token_end(s, p), p, why,
					  "");
		}
		c->op = OP_ANY;
		*pos = p;
		return 0;
	}
	while (is_op_char(s[p]))
		p++;
	oplen = p - start;
	c->op = OP_EQ;
	if (oplen > 0) {
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strlen(ops[i].text) == oplen &&
			    memcmp(ops[i].text, s + start, oplen) == 0)
				break;
		if (i == sizeof(ops) / sizeof(ops[0])) {
			snprintf(why, sizeof(why), "unknown operator \"%.*s\"",
				 (int)oplen, s + start);
			return range_fail(s, start, token_end(s, p), start, why,
					  "");
		}
		c->op = ops[i].op;
		/* ">= 1.2.3" is common in hand-written ranges. */
		while (is_space(s[p]))
			p++;
	}
	vstart = p;
	vend = token_end(s, p);
	if (vend == vstart) {
		snprintf(why, sizeof(why),
			 "operator \"%.*s\" is not followed by a version",
			 (int)oplen, s + start);
		return range_fail(s, start, start + oplen, vstart, why, "");
	}
	if (parse_version(&c->v, s + vstart, vend - vstart, &e) < 0)
		return range_fail(s, start, vend, vstart + e.off, e.why,
				  e.hint);
	if (c->op == OP_SPAN)
		expand(c, s[start]);
	*pos = vend;
	return 0;
}

/*
 * One pass over the range. With r NULL it only validates and counts, so that
 * every syntax error is reported before anything is allocated and the second
 * pass can fill an array of exactly the right size.
 */
static int scan_range(struct ota_semver_range *r, size_t *count, const char *s)
{
	size_t p = 0, n = 0, in_set = 0, last_bar = 0;

	for (;;) {
		while (is_space(s[p]))
			p++;
		if (s[p] == '|') {
			if (s[p + 1] != '|')
				return ota_error(OTA_EINPUT,
						 "invalid range: single \"|\" "
						 "at offset %zu (sets are "
						 "separated by \"||\")",
						 p);
			if (in_set == 0)
				return ota_error(OTA_EINPUT,
						 "invalid range: empty "
						 "comparator set before "
						 "\"||\" at offset %zu",
						 p);
			if (r)
				r->c[n - 1].last_in_set = true;
			in_set = 0;
			last_bar = p;
			p += 2;
			continue;
		}
		if (!s[p]) {
			if (n == 0)
				return ota_error(OTA_EINPUT, "empty range");
			if (in_set == 0)
				return ota_error(OTA_EINPUT,
						 "invalid range: empty "
						 "comparator set after "
						 "\"||\" at offset %zu",
						 last_bar);
			if (r)
				r->c[n - 1].last_in_set = true;
			break;
		}
		if (n == RANGE_MAX_COMPARATORS)
			return ota_error(OTA_EINPUT,
					 "invalid range: more than %d "
					 "comparators (the next starts at "
					 "offset %zu)",
					 RANGE_MAX_COMPARATORS, p);
		if (parse_comparator(r ? &r->c[n] : NULL, s, &p) < 0)
			return OTA_EINPUT;
		n++;
		in_set++;
	}
	*count = n;
	return 0;
}

int ota_semver_range_parse(struct ota_semver_range **out, const char *s)
{
	struct ota_semver_range *r;
	size_t n;
	int err;

	if (!out || !s)
		return ota_error(OTA_EINTERNAL,
				 "ota_semver_range_parse: NULL argument");
	*out = NULL;
	err = scan_range(NULL, &n, s);
	if (err < 0)
		return err;
	/* n <= RANGE_MAX_COMPARATORS, so the size cannot overflow. */
	r = calloc(1, sizeof(*r) + n * sizeof(r->c[0]));
	if (!r)
		return ota_error(OTA_EINTERNAL, "out of memory");
	r->n = n;
	err = scan_range(r, &n, s);
	if (err < 0) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

/* v < hi where hi is a plain MAJOR.MINOR.PATCH without pre-release. */
static bool below(const struct ota_semver *v, const uint64_t hi[3])
{
	struct ota_semver h;

	memset(&h, 0, sizeof(h));
	h.major = hi[0];
	h.minor = hi[1];
	h.patch = hi[2];
	return ota_semver_compare(v, &h) < 0;
}

static bool holds(const struct comparator *c, const struct ota_semver *v)
{
	int r = ota_semver_compare(v, &c->v);

	switch (c->op) {
	case OP_ANY:
		return true;
	case OP_EQ:
		return r == 0;
	case OP_GT:
		return r > 0;
	case OP_GE:
		return r >= 0;
	case OP_LT:
		return r < 0;
	case OP_LE:
		return r <= 0;
	case OP_SPAN:
		return r >= 0 && (!c->has_hi || below(v, c->hi));
	}
	return false;
}

/*
 * A set of comparators c[0..n): all must hold, and a pre-release version is
 * only let in when the set names a pre-release of the same core, so that
 * opting into 1.0.0-beta does not also opt into every other unstable build.
 */
static bool set_match(const struct comparator *c, size_t n,
		      const struct ota_semver *v)
{
	bool pre_ok = v->pre[0] == '\0';
	size_t i;

	for (i = 0; i < n; i++) {
		if (!holds(&c[i], v))
			return false;
		if (c[i].op != OP_ANY && c[i].v.pre[0] &&
		    cmp_core(&c[i].v, v) == 0)
			pre_ok = true;
	}
	return pre_ok;
}

bool ota_semver_range_match(const struct ota_semver_range *r,
			    const struct ota_semver *v)
{
	size_t i, start = 0;

	if (!r || !v)
		return false;
	for (i = 0; i < r->n; i++) {
		if (!r->c[i].last_in_set)
			continue;
		if (set_match(r->c + start, i + 1 - start, v))
			return true;
		start = i + 1;
	}
	return false;
}

void ota_semver_range_free(struct ota_semver_range *r)
{
	free(r);
}
