/*
 * The reference device-side verifier for otatool packages (otapkg.h): a
 * push parser that is fed the package in chunks of any size and checks
 * every byte of it once, in order, with a fixed state (struct otav), no
 * heap, no recursion and only memcpy/memcmp/memset from libc.
 *
 * Its shape: a few items are buffered whole (the header, a TLV header or
 * value, a signature entry, a certificate length) and handled when the
 * last byte arrives; everything else (padding, certificate bytes, image
 * bytes) is streamed through. Every length is checked against what
 * remains of its enclosing region before anything is read, in u64 where a
 * sum could overflow. Policy refusals found in the protected region are
 * only recorded there and reported after the signature block, so that an
 * unsigned package learns nothing about the device.
 */
#include "otaverify.h"
#include "otaroot.h"

#include <string.h>

enum state {
	/* buffered: need bytes into buf, then handled whole */
	ST_HEADER,
	ST_TLV_HDR,
	ST_TLV_VALUE,
	ST_SIG_HDR,
	ST_SIG_ENTRY,
	ST_SIG_VALUE,
	ST_CERT_HDR,
	ST_REGION_HDR, /* 8 bytes: a TLV header and 4 value bytes, or the
			  footer */
	/* streamed: left bytes handled as they come */
	ST_PAD,
	ST_CERT_DATA,
	ST_IMAGE_DATA,
	ST_REGION_DATA,
	/* at the total size: the end, or an unprotected region follows */
	ST_DONE,
	/* past the region's footer: any byte is an error */
	ST_END,
};

/* What a run of zero padding follows, for messages and what comes next. */
enum pad_kind {
	PAD_TLV,
	PAD_SIG,
	PAD_CERT,
	PAD_SIGBLOCK, /* after the last signature entry */
	PAD_IMAGE,
	PAD_REGION, /* after an unprotected region TLV */
};

/*
 * Policy refusals, recorded while parsing, reported after the signatures
 * (the hardware check needs the whole list: hw_match).
 */
#define POLICY_ROLLBACK   1u
#define POLICY_BOOTLOADER 2u

static const struct otav_policy no_policy;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint64_t align4(uint64_t n)
{
	return (n + 3u) & ~(uint64_t)3u;
}

static unsigned digest_size(uint8_t alg)
{
	switch (alg) {
	case OTAPKG_DIGEST_SHA256:
		return 32;
	case OTAPKG_DIGEST_SHA384:
		return 48;
	case OTAPKG_DIGEST_SHA512:
		return 64;
	default:
		return 0;
	}
}

static int fail(struct otav *v, enum otav_status st, uint64_t off,
		const char *what)
{
	if (v->status == OTAV_OK) {
		v->status = st;
		v->err_offset = off;
		v->err_what = what;
		/* The port wipes the key of an image being decrypted. */
		if (v->cipher_open && v->crypto->cipher_end != NULL)
			v->crypto->cipher_end(v->crypto->ctx, v->image_index);
		v->cipher_open = 0;
	}
	return -1;
}

/*
 * fail() with numbers: fmt takes up to three u64 arguments, "%u" prints
 * one in decimal and "%x" as 0x and at least four hex digits. Formatted
 * into v->msg, as there is no snprintf on a device; decimal digits by
 * subtraction, as a 32-bit device may have no 64-bit division.
 */
static int failf(struct otav *v, enum otav_status st, uint64_t off,
		 const char *fmt, uint64_t a, uint64_t b, uint64_t c)
{
	static const char hex[] = "0123456789abcdef";
	static const uint64_t pow10[20] = {
		10000000000000000000u,
		1000000000000000000u,
		100000000000000000u,
		10000000000000000u,
		1000000000000000u,
		100000000000000u,
		10000000000000u,
		1000000000000u,
		100000000000u,
		10000000000u,
		1000000000u,
		100000000u,
		10000000u,
		1000000u,
		100000u,
		10000u,
		1000u,
		100u,
		10u,
		1u,
	};
	const uint64_t args[3] = { a, b, c };
	const size_t cap = sizeof(v->msg) - 1;
	unsigned next = 0;
	size_t pos = 0;

	if (v->status != OTAV_OK)
		return -1;
	for (; *fmt != '\0' && pos < cap; fmt++) {
		char tmp[24]; /* the digits, most significant first */
		size_t n = 0, i;
		unsigned p = 0;
		uint64_t x;

		if (fmt[0] != '%' || (fmt[1] != 'u' && fmt[1] != 'x')) {
			v->msg[pos++] = *fmt;
			continue;
		}
		x = next < 3 ? args[next++] : 0;
		if (fmt[1] == 'u') {
			while (p < 19 && x < pow10[p])
				p++;
			for (; p < 20; p++) {
				tmp[n] = '0';
				while (x >= pow10[p]) {
					x -= pow10[p];
					tmp[n]++;
				}
				n++;
			}
		} else {
			tmp[n++] = '0';
			tmp[n++] = 'x';
			for (p = 64; p > 16 && (x >> (p - 4)) == 0;)
				p -= 4;
			while (p > 0) {
				p -= 4;
				tmp[n++] = hex[(x >> p) & 15u];
			}
		}
		for (i = 0; i < n && pos < cap; i++)
			v->msg[pos++] = tmp[i];
		fmt++;
	}
	v->msg[pos] = '\0';
	return fail(v, st, off, v->msg);
}

/* Next: a buffered item of need bytes (0 is fine: handled at once). */
static int want(struct otav *v, enum state st, uint32_t need)
{
	v->state = (int)st;
	v->need = need;
	v->have = 0;
	v->item_off = v->offset;
	return 0;
}

/* Next: n bytes that must be zero. */
static int pad(struct otav *v, enum pad_kind kind, uint64_t n)
{
	v->state = ST_PAD;
	v->pad_kind = (int)kind;
	v->left = n;
	return 0;
}

static int is_buffered(int st)
{
	return st <= ST_REGION_HDR;
}

static int aborted(struct otav *v, const char *what)
{
	return fail(v, OTAV_E_ABORTED, v->offset, what);
}

/* Text fields: bytes that print, no NUL and no control characters. */
static int text_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20u || p[i] == 0x7fu)
			return 0;
	return 1;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_char(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '-';
}

/*
 * Dot-separated SemVer identifiers from *i: non-empty, [0-9A-Za-z-];
 * numeric ones without leading zeros when pre-release.
 */
static int semver_idents(const uint8_t *s, size_t n, size_t *i, int pre)
{
	for (;;) {
		size_t start = *i;
		int numeric = 1;

		while (*i < n && is_ident_char(s[*i])) {
			if (!is_digit(s[*i]))
				numeric = 0;
			(*i)++;
		}
		if (*i == start)
			return 0;
		if (pre && numeric && s[start] == '0' && *i - start > 1)
			return 0;
		if (*i >= n || s[*i] != '.')
			return 1;
		(*i)++;
	}
}

/* SemVer 2.0.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]. */
static int semver_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 3; part++) {
		size_t start = i;

		while (i < n && is_digit(s[i]))
			i++;
		if (i == start || (s[start] == '0' && i - start > 1))
			return 0;
		if (part < 2) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && s[i] == '-') {
		i++;
		if (!semver_idents(s, n, &i, 1))
			return 0;
	}
	if (i < n && s[i] == '+') {
		i++;
		if (!semver_idents(s, n, &i, 0))
			return 0;
	}
	return i == n;
}

void otav_init(struct otav *v, const struct otav_crypto *crypto,
	       const struct otav_policy *policy,
	       const struct otav_events *events)
{
	memset(v, 0, sizeof(*v));
	v->crypto = crypto;
	v->policy = policy != NULL ? policy : &no_policy;
	v->events = events;
	v->info.trusted_sig = ~0u;
	want(v, ST_HEADER, OTAPKG_HEADER_SIZE);
	if (crypto == NULL || crypto->hash_init == NULL ||
	    crypto->hash_update == NULL || crypto->hash_final == NULL) {
		fail(v, OTAV_E_CRYPTO, 0, "no hash functions were given");
		return;
	}
	v->decrypting =
	    (uint8_t)(crypto->unwrap != NULL && crypto->cipher_init != NULL &&
		      crypto->cipher_update != NULL);
	if (!v->decrypting &&
	    (crypto->unwrap != NULL || crypto->cipher_init != NULL ||
	     crypto->cipher_update != NULL))
		fail(v, OTAV_E_CRYPTO, 0,
		     "unwrap, cipher_init and cipher_update go together");
}

/* The first nonzero byte of p[0..n), as an offset from p; n if none. */
static size_t first_nonzero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] == 0; i++)
		;
	return i;
}

static int parse_header(struct otav *v)
{
	static const uint8_t magic[4] = { OTAPKG_MAGIC0, OTAPKG_MAGIC1,
					  OTAPKG_MAGIC2, OTAPKG_MAGIC3 };
	const uint8_t *h = v->buf;
	uint32_t p = le32(h + OTAPKG_OFF_PROTECTED);
	uint32_t s = le32(h + OTAPKG_OFF_SIGBLOCK);
	uint32_t a = le32(h + OTAPKG_OFF_ALIGN);
	uint16_t count = le16(h + OTAPKG_OFF_IMAGE_COUNT);
	uint64_t total = le64(h + OTAPKG_OFF_TOTAL);
	uint64_t first;
	size_t i;

	for (i = 0; i < 4; i++)
		if (h[i] != magic[i])
			return fail(v, OTAV_E_MAGIC, i,
				    "bad magic: not an otatool package");
	if (le16(h + OTAPKG_OFF_VERSION) < OTAPKG_VERSION ||
	    le16(h + OTAPKG_OFF_VERSION) > OTAPKG_VERSION_CRYPT)
		return failf(v, OTAV_E_VERSION, OTAPKG_OFF_VERSION,
			     "format version %u is not supported (only 1 to "
			     "3)",
			     le16(h + OTAPKG_OFF_VERSION), 0, 0);
	if (le16(h + OTAPKG_OFF_HEADER_SIZE) != OTAPKG_HEADER_SIZE)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_HEADER_SIZE,
			     "header size %u is not 64",
			     le16(h + OTAPKG_OFF_HEADER_SIZE), 0, 0);
	if (h[OTAPKG_OFF_DIGEST] != OTAPKG_DIGEST_SHA256 &&
	    h[OTAPKG_OFF_DIGEST] != OTAPKG_DIGEST_SHA384)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_DIGEST,
			     "signed region digest algorithm %u is not sha256 "
			     "(1) or sha384 (2)",
			     h[OTAPKG_OFF_DIGEST], 0, 0);
	if (h[9] != 0)
		return fail(v, OTAV_E_PADDING, 9,
			    "reserved header byte 9 is not zero");
	if (count < 1 || count > OTAPKG_MAX_IMAGES)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_IMAGE_COUNT,
			     "image count %u is not in 1..32", count, 0, 0);
	if (le32(h + OTAPKG_OFF_FLAGS) != 0)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_FLAGS,
			     "header flags %x are not zero",
			     le32(h + OTAPKG_OFF_FLAGS), 0, 0);
	if (p % 4u != 0)
		return fail(v, OTAV_E_HEADER, OTAPKG_OFF_PROTECTED,
			    "protected region size is not a multiple of 4");
	if (p < 8 || p > OTAPKG_MAX_PROTECTED)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_PROTECTED,
			     "protected region size %u is not in 8..65536", p,
			     0, 0);
	if (s % 4u != 0)
		return fail(v, OTAV_E_HEADER, OTAPKG_OFF_SIGBLOCK,
			    "signature block size is not a multiple of 4");
	if (s < 4 || s > OTAPKG_MAX_SIGBLOCK)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_SIGBLOCK,
			     "signature block size %u is not in 4..262144", s,
			     0, 0);
	if (a < OTAPKG_MIN_ALIGN || a > OTAPKG_MAX_ALIGN || (a & (a - 1)) != 0)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_ALIGN,
			     "alignment %u is not a power of two in "
			     "16..1048576",
			     a, 0, 0);
	i = first_nonzero(h + 28, 4);
	if (i < 4)
		return fail(v, OTAV_E_PADDING, 28 + i,
			    "reserved header field at 28 is not zero");
	/* All bounded above, so no overflow: at most 2^20 + 2^19. */
	first =
	    ((uint64_t)OTAPKG_HEADER_SIZE + p + s + a - 1) & ~((uint64_t)a - 1);
	if (total <= first)
		return failf(v, OTAV_E_HEADER, OTAPKG_OFF_TOTAL,
			     "total size %u leaves no room for images, which "
			     "start at %u",
			     total, first, 0);
	i = first_nonzero(h + 40, 24);
	if (i < 24)
		return fail(v, OTAV_E_PADDING, 40 + i,
			    "reserved header bytes 40..63 are not zero");

	v->info.format_version = le16(h + OTAPKG_OFF_VERSION);
	v->info.digest_alg = h[OTAPKG_OFF_DIGEST];
	v->info.image_count = count;
	v->info.protected_size = p;
	v->info.sigblock_size = s;
	v->info.alignment = a;
	v->info.total_size = total;
	v->region_end = OTAPKG_HEADER_SIZE + (uint64_t)p;
	v->region_left = p;
	v->next_image = first;
	if (v->crypto->hash_init(v->crypto->ctx, v->info.digest_alg) != 0 ||
	    v->crypto->hash_update(v->crypto->ctx, h, OTAPKG_HEADER_SIZE) != 0)
		return fail(v, OTAV_E_CRYPTO, 0,
			    "hashing the signed region failed");
	if (v->events != NULL && v->events->header != NULL &&
	    v->events->header(v->events->ctx, h) != 0)
		return aborted(v, "the header event asked to stop");
	return want(v, ST_TLV_HDR, 4);
}

/* Length bounds of a TLV type's value; 0 for unknown critical types. */
static int tlv_limits(uint16_t type, uint16_t *min, uint16_t *max)
{
	switch (type) {
	case OTAPKG_TLV_NAME:
	case OTAPKG_TLV_HARDWARE:
		*min = 1;
		*max = 64;
		return 1;
	case OTAPKG_TLV_VERSION:
		*min = 1;
		*max = 255;
		return 1;
	case OTAPKG_TLV_SECURITY_COUNTER:
		*min = *max = 4;
		return 1;
	case OTAPKG_TLV_BOOTLOADER_MIN:
		*min = *max = 12;
		return 1;
	case OTAPKG_TLV_GIT_COMMIT:
		*min = 20;
		*max = 32;
		return 1;
	case OTAPKG_TLV_BUILD_TIME:
	case OTAPKG_TLV_SIGNING_TIME:
		*min = *max = 8;
		return 1;
	case OTAPKG_TLV_CERTS_DIGEST:
		*min = *max = 64;
		return 1;
	case OTAPKG_TLV_DEPENDENCY:
		*min = 3; /* name length, a name, a range */
		*max = OTAPKG_MAX_TLV_VALUE;
		return 1;
	case OTAPKG_TLV_IMAGE:
		*min = OTAPKG_IMAGE_FIXED;
		*max = OTAPKG_IMAGE_FIXED + 2 * 64 + 64 + 64;
		return 1;
	case OTAPKG_TLV_IMAGE_BASE:
		*min = OTAPKG_IMAGE_BASE_FIXED + 32;
		*max = OTAPKG_IMAGE_BASE_FIXED + 64;
		return 1;
	case OTAPKG_TLV_IMAGE_KEY: /* AES-KW-128 .. RSA-4096 */
		*min = OTAPKG_IMAGE_KEY_FIXED + 24;
		*max = OTAPKG_IMAGE_KEY_FIXED + 512;
		return 1;
	default:
		*min = 0;
		*max = OTAPKG_MAX_TLV_VALUE;
		return type >= 0x8000u;
	}
}

/*
 * Types that may appear once. BOOTLOADER_MIN and BUILD_TIME are not
 * marked "once" in otapkg.h, but two of them could only disagree.
 */
static int tlv_once(uint16_t type)
{
	return type == OTAPKG_TLV_NAME || type == OTAPKG_TLV_VERSION ||
	       type == OTAPKG_TLV_SECURITY_COUNTER ||
	       type == OTAPKG_TLV_BOOTLOADER_MIN ||
	       type == OTAPKG_TLV_GIT_COMMIT || type == OTAPKG_TLV_BUILD_TIME ||
	       type == OTAPKG_TLV_SIGNING_TIME;
}

static int tlv_header(struct otav *v)
{
	uint16_t type = le16(v->buf), len = le16(v->buf + 2);
	uint64_t off = v->item_off;
	uint16_t min, max;

	if (!tlv_limits(type, &min, &max))
		return failf(v, OTAV_E_TLV, off, "unknown critical TLV %x",
			     type, 0, 0);
	if (type < v->last_type)
		return failf(v, OTAV_E_TLV, off,
			     "TLV %x follows TLV %x: types must not decrease",
			     type, v->last_type, 0);
	if (type < 32 && tlv_once(type) && (v->seen & 1u << type) != 0)
		return failf(v, OTAV_E_TLV, off, "TLV %x appears twice", type,
			     0, 0);
	if (type == OTAPKG_TLV_HARDWARE && v->info.n_hardware == 64)
		return fail(v, OTAV_E_TLV, off, "more than 64 HARDWARE TLVs");
	if (type == OTAPKG_TLV_IMAGE && v->image_index == v->info.image_count)
		return failf(v, OTAV_E_TLV, off,
			     "more IMAGE TLVs than the image count %u",
			     v->info.image_count, 0, 0);
	if (len > max)
		return failf(v, OTAV_E_TLV, off + 2,
			     "TLV %x length %u exceeds %u", type, len, max);
	if (len < min)
		return failf(v, OTAV_E_TLV, off + 2,
			     "TLV %x length %u is too short", type, len, 0);
	if (type == OTAPKG_TLV_GIT_COMMIT && len != 20 && len != 32)
		return failf(v, OTAV_E_TLV, off + 2,
			     "TLV 0x0006 length %u is not 20 or 32", len, 0, 0);
	/* region_left is a nonzero multiple of 4 here, so >= 4. */
	v->region_left -= 4;
	if (align4(len) > v->region_left)
		return failf(v, OTAV_E_TLV, off + 2,
			     "TLV %x length %u runs past the end of the "
			     "protected region",
			     type, len, 0);
	v->region_left -= align4(len);
	v->last_type = type;
	if (type < 32)
		v->seen |= 1u << type;
	return want(v, ST_TLV_VALUE, len);
}

static int is_known_kind(uint8_t kind)
{
	return (kind >= OTAPKG_KIND_BOOTLOADER &&
		kind <= OTAPKG_KIND_FACTORY_RESET) ||
	       kind == OTAPKG_KIND_CUSTOM;
}

/* An IMAGE TLV value p[0..len), at off; its type field is at off - 4. */
static int tlv_image(struct otav *v, const uint8_t *p, uint16_t len,
		     uint64_t off)
{
	unsigned idx = v->image_index;
	struct otav_image *img = &v->info.images[idx];
	uint64_t a = v->info.alignment, total = v->info.total_size;
	uint64_t offset = le64(p + 8), stored = le64(p + 16);
	uint64_t size = le64(p + 24), load = le64(p + 32);
	uint64_t end;
	unsigned d = digest_size(p[2]), name_len = p[4], kind_len = p[5];
	int last = idx + 1u == v->info.image_count;

	if (!is_known_kind(p[0]))
		return failf(v, OTAV_E_TLV, off, "image %u kind %u is unknown",
			     idx, p[0], 0);
	if (p[1] != OTAPKG_COMP_NONE && p[1] != OTAPKG_COMP_ZLIB &&
	    p[1] != OTAPKG_COMP_PATCH)
		return failf(v, OTAV_E_TLV, off + 1,
			     "image %u compression %u is unknown", idx, p[1],
			     0);
	/* One encoding per content: a patch is what makes version 2. */
	if (p[1] == OTAPKG_COMP_PATCH &&
	    v->info.format_version < OTAPKG_VERSION_DELTA)
		return failf(v, OTAV_E_TLV, off + 1,
			     "image %u is a patch (compression 2), which needs "
			     "format version 2 or 3",
			     idx, 0, 0);
	if (d == 0)
		return failf(v, OTAV_E_TLV, off + 2,
			     "image %u digest algorithm %u is unknown", idx,
			     p[2], 0);
	if ((p[3] & ~(OTAPKG_IMAGE_LOAD | OTAPKG_IMAGE_ENCRYPTED)) != 0)
		return failf(v, OTAV_E_TLV, off + 3,
			     "image %u flags %x have unknown bits", idx, p[3],
			     0);
	/* Encryption is what makes version 3: old readers refuse it. */
	if ((p[3] & OTAPKG_IMAGE_ENCRYPTED) != 0 &&
	    v->info.format_version != OTAPKG_VERSION_CRYPT)
		return failf(v, OTAV_E_TLV, off + 3,
			     "image %u is encrypted (flag bit 1), which needs "
			     "format version 3",
			     idx, 0, 0);
	if (name_len < 1 || name_len > 64)
		return failf(v, OTAV_E_TLV, off + 4,
			     "image %u name length %u is not in 1..64", idx,
			     name_len, 0);
	if (p[0] == OTAPKG_KIND_CUSTOM ? kind_len < 1 || kind_len > 64
				       : kind_len != 0)
		return failf(v, OTAV_E_TLV, off + 5,
			     "image %u custom kind length %u does not fit its "
			     "kind %u",
			     idx, kind_len, p[0]);
	if (p[6] != 0 || p[7] != 0)
		return failf(v, OTAV_E_PADDING, off + 6 + (p[6] == 0),
			     "image %u reserved field is not zero", idx, 0, 0);
	if (len != OTAPKG_IMAGE_FIXED + 2 * d + name_len + kind_len)
		return failf(
		    v, OTAV_E_TLV, off - 2,
		    "IMAGE TLV length %u does not match its contents "
		    "(%u bytes)",
		    len, OTAPKG_IMAGE_FIXED + 2 * d + name_len + kind_len, 0);
	if (offset >= total)
		return failf(
		    v, OTAV_E_TLV, off + 8,
		    "image %u offset %u is past the end of the package "
		    "(%u bytes)",
		    idx, offset, total);
	if (offset != v->next_image) {
		if ((offset & (a - 1)) != 0)
			return failf(v, OTAV_E_TLV, off + 8,
				     "image %u offset is not aligned to the "
				     "package alignment",
				     idx, 0, 0);
		return failf(v, OTAV_E_TLV, off + 8,
			     offset < v->next_image
				 ? "image %u offset %u overlaps earlier "
				   "data: expected %u"
				 : "image %u offset %u leaves a gap: "
				   "expected %u",
			     idx, offset, v->next_image);
	}
	if (stored == 0)
		return failf(v, OTAV_E_TLV, off + 16,
			     "image %u stored size is zero", idx, 0, 0);
	if (size == 0)
		return failf(v, OTAV_E_TLV, off + 24, "image %u size is zero",
			     idx, 0, 0);
	if (stored > total - offset)
		return failf(v, OTAV_E_TLV, off + 16,
			     "image %u stored size %u runs past the end of the "
			     "package",
			     idx, stored, 0);
	end = offset + stored;
	if (last && end != total)
		return failf(v, OTAV_E_TLV, off + 16,
			     "image %u ends at %u, not at the total size %u",
			     idx, end, total);
	if (!last) {
		/* end < total here, so end + padding cannot overflow. */
		uint64_t padding = (a - (end & (a - 1))) & (a - 1);

		if (padding >= total - end)
			return failf(v, OTAV_E_TLV, off + 16,
				     "image %u leaves no room for the next "
				     "image before the total size %u",
				     idx, total, 0);
		v->next_image = end + padding;
	}
	if ((p[3] & 1u) == 0 && load != 0)
		return failf(v, OTAV_E_TLV, off + 32,
			     "image %u has a load address but flag bit 0 is "
			     "clear",
			     idx, 0, 0);
	if (p[1] == OTAPKG_COMP_NONE && stored != size)
		return failf(v, OTAV_E_TLV, off + 24,
			     "image %u is uncompressed, but its size %u is not "
			     "its stored size %u",
			     idx, size, stored);
	if (p[1] == OTAPKG_COMP_NONE && (p[3] & OTAPKG_IMAGE_ENCRYPTED) == 0 &&
	    memcmp(p + 40, p + 40 + d, d) != 0)
		return failf(v, OTAV_E_TLV, off + 40 + d,
			     "image %u is uncompressed, but its two digests "
			     "differ",
			     idx, 0, 0);
	if (!text_ok(p + 40 + 2 * d, name_len))
		return failf(v, OTAV_E_TLV, off + 40 + 2 * d,
			     "image %u name is not text", idx, 0, 0);
	if (!text_ok(p + 40 + 2 * d + name_len, kind_len))
		return failf(v, OTAV_E_TLV, off + 40 + 2 * d + name_len,
			     "image %u custom kind is not text", idx, 0, 0);

	img->kind = p[0];
	img->compression = p[1];
	img->digest_alg = p[2];
	img->flags = p[3];
	img->name_len = (uint8_t)name_len;
	img->kind_len = (uint8_t)kind_len;
	img->offset = offset;
	img->stored_size = stored;
	img->size = size;
	img->load_address = load;
	memcpy(img->digest, p + 40, d);
	memcpy(img->stored_digest, p + 40 + d, d);
	memcpy(img->name, p + 40 + 2 * d, name_len);
	img->name[name_len] = '\0';
	memcpy(img->custom_kind, p + 40 + 2 * d + name_len, kind_len);
	img->custom_kind[kind_len] = '\0';
	v->image_index++;
	if (v->events != NULL && v->events->image != NULL &&
	    v->events->image(v->events->ctx, idx, img) != 0)
		return aborted(v, "the image event asked to stop");
	return 0;
}

/*
 * An IMAGE_BASE TLV value p[0..len), at off: the base of a patched image
 * parsed before it (IMAGE TLVs come first), one per patch, in image order.
 */
static int tlv_image_base(struct otav *v, const uint8_t *p, uint16_t len,
			  uint64_t off)
{
	unsigned idx = p[0];
	struct otav_image *img;
	unsigned d;
	size_t i;

	if (v->info.format_version < OTAPKG_VERSION_DELTA)
		return fail(v, OTAV_E_TLV, off - 4,
			    "an IMAGE_BASE TLV needs format version 2 or 3");
	if (idx >= v->image_index)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_BASE names image %u, but there are %u "
			     "IMAGE TLVs",
			     idx, v->image_index, 0);
	if (idx < v->next_base)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_BASE for image %u is out of order or "
			     "repeated",
			     idx, 0, 0);
	img = &v->info.images[idx];
	if (img->compression != OTAPKG_COMP_PATCH)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_BASE names image %u, which is not a patch",
			     idx, 0, 0);
	i = first_nonzero(p + 1, 3);
	if (i < 3)
		return failf(v, OTAV_E_PADDING, off + 1 + i,
			     "IMAGE_BASE for image %u: reserved byte is not "
			     "zero",
			     idx, 0, 0);
	d = digest_size(img->digest_alg);
	if (len != OTAPKG_IMAGE_BASE_FIXED + d)
		return failf(v, OTAV_E_TLV, off - 2,
			     "IMAGE_BASE TLV length %u does not match image "
			     "%u's digest (%u bytes)",
			     len, idx, d);
	img->has_base = 1;
	img->base_size = le64(p + 4);
	memcpy(img->base_digest, p + OTAPKG_IMAGE_BASE_FIXED, d);
	v->next_base = idx + 1u;
	return 0;
}

/* The wrapped key's length for scheme and key length; 0: no such scheme. */
static unsigned wrapped_len(uint8_t scheme, unsigned key_len, unsigned len)
{
	switch (scheme) {
	case OTAPKG_WRAP_RSA_OAEP: /* the modulus: 2048, 3072, 4096 bits */
		return len == 256 || len == 384 || len == 512 ? len : 1;
	case OTAPKG_WRAP_AES_KW:
		return key_len + 8;
	case OTAPKG_WRAP_ECIES_P256:
		return 65 + 32 + key_len;
	case OTAPKG_WRAP_ECIES_X25519:
		return 32 + 32 + key_len;
	case OTAPKG_WRAP_ECIES_X25519_SHA512:
		return 32 + 64 + key_len;
	default:
		return 0;
	}
}

/*
 * An IMAGE_KEY TLV value p[0..len), at off: a content key of an encrypted
 * image parsed before it, wrapped for one recipient. Handed to the port's
 * unwrap callback until one unwraps, and counted.
 */
static int tlv_image_key(struct otav *v, const uint8_t *p, uint16_t len,
			 uint64_t off)
{
	const struct otav_crypto *c = v->crypto;
	struct otav_image_key k;
	struct otav_image *img;
	unsigned idx = p[0], want;
	int rc;

	if (v->info.format_version != OTAPKG_VERSION_CRYPT)
		return fail(v, OTAV_E_TLV, off - 4,
			    "an IMAGE_KEY TLV needs format version 3");
	if (idx >= v->image_index)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_KEY names image %u, but there are %u "
			     "IMAGE TLVs",
			     idx, v->image_index, 0);
	if (idx < v->next_key)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_KEY for image %u is out of image order",
			     idx, 0, 0);
	img = &v->info.images[idx];
	if ((img->flags & OTAPKG_IMAGE_ENCRYPTED) == 0)
		return failf(v, OTAV_E_TLV, off,
			     "IMAGE_KEY names image %u, which is not encrypted",
			     idx, 0, 0);
	if (p[2] != 16 && p[2] != 32)
		return failf(v, OTAV_E_TLV, off + 2,
			     "IMAGE_KEY for image %u: key length %u is not 16 "
			     "or 32",
			     idx, p[2], 0);
	if (img->n_keys > 0 && p[2] != img->key_len)
		return failf(v, OTAV_E_TLV, off + 2,
			     "IMAGE_KEY for image %u: key length %u, an "
			     "earlier one said %u",
			     idx, p[2], img->key_len);
	if (p[3] != 0)
		return failf(v, OTAV_E_PADDING, off + 3,
			     "IMAGE_KEY for image %u: reserved byte is not "
			     "zero",
			     idx, 0, 0);
	want = wrapped_len(p[1], p[2], len - OTAPKG_IMAGE_KEY_FIXED);
	if (want == 0)
		return failf(v, OTAV_E_TLV, off + 1,
			     "IMAGE_KEY for image %u: wrap scheme %x is "
			     "unknown",
			     idx, p[1], 0);
	if (want != (unsigned)len - OTAPKG_IMAGE_KEY_FIXED)
		return failf(v, OTAV_E_TLV, off - 2,
			     "IMAGE_KEY for image %u: %u wrapped bytes, the "
			     "scheme and key length need %u",
			     idx, len - OTAPKG_IMAGE_KEY_FIXED,
			     p[1] == OTAPKG_WRAP_RSA_OAEP ? 256 : want);
	img->key_len = p[2];
	if (img->n_keys < 255)
		img->n_keys++;
	v->next_key = (uint8_t)idx;
	if (!v->decrypting || (v->keyed & 1u << idx) != 0)
		return 0;
	k.image = (uint8_t)idx;
	k.scheme = p[1];
	k.key_len = p[2];
	memcpy(k.keyid, p + 4, 32);
	k.wrapped = p + OTAPKG_IMAGE_KEY_FIXED;
	k.wrapped_len = (uint16_t)(len - OTAPKG_IMAGE_KEY_FIXED);
	rc = c->unwrap(c->ctx, idx, &k);
	if (rc == 0)
		v->keyed |= 1u << idx;
	else if (rc < 0)
		v->unwrap_failed |= 1u << idx;
	return 0;
}

/* Whether the HARDWARE value p[0..len) is the device's own id. */
static int hardware_is(const struct otav_policy *pol, const uint8_t *p,
		       uint16_t len)
{
	const char *hw = pol->hardware;
	size_t n = 0;

	while (n <= 64 && hw[n] != '\0')
		n++;
	return n == len && memcmp(hw, p, len) == 0;
}

static int tlv_value(struct otav *v)
{
	const struct otav_policy *pol = v->policy;
	const uint8_t *p = v->buf;
	uint16_t type = v->last_type, len = (uint16_t)v->need;
	uint64_t off = v->item_off;

	switch (type) {
	case OTAPKG_TLV_NAME:
	case OTAPKG_TLV_HARDWARE:
		if (!text_ok(p, len))
			return failf(v, OTAV_E_TLV, off, "TLV %x is not text",
				     type, 0, 0);
		if (type != OTAPKG_TLV_HARDWARE)
			break;
		if (v->info.n_hardware++ == 0)
			v->hw_off = off - 4;
		if (pol->hardware != NULL && hardware_is(pol, p, len))
			v->hw_match = 1;
		break;
	case OTAPKG_TLV_VERSION:
		if (!semver_ok(p, len))
			return fail(v, OTAV_E_TLV, off,
				    "the VERSION TLV is not a SemVer version");
		break;
	case OTAPKG_TLV_SECURITY_COUNTER:
		v->info.security_counter = le32(p);
		v->counter_off = off;
		if (pol->check_counter && le32(p) < pol->counter)
			v->policy_fail |= POLICY_ROLLBACK;
		break;
	case OTAPKG_TLV_BOOTLOADER_MIN: {
		uint32_t min[3];
		unsigned i;

		for (i = 0; i < 3; i++)
			min[i] = v->info.bootloader_min[i] = le32(p + 4 * i);
		v->info.has_bootloader_min = 1;
		v->boot_off = off;
		for (i = 0; pol->check_bootloader && i < 3; i++) {
			if (pol->bootloader[i] > min[i])
				break;
			if (pol->bootloader[i] < min[i]) {
				v->policy_fail |= POLICY_BOOTLOADER;
				break;
			}
		}
		break;
	}
	case OTAPKG_TLV_DEPENDENCY:
		/* u8 name length, the name, then a non-empty range. */
		if (p[0] < 1 || p[0] > len - 2u)
			return failf(v, OTAV_E_TLV, off,
				     "dependency name length %u does not fit "
				     "its TLV",
				     p[0], 0, 0);
		if (!text_ok(p + 1, len - 1u))
			return fail(v, OTAV_E_TLV, off + 1,
				    "a DEPENDENCY TLV is not text");
		break;
	case OTAPKG_TLV_IMAGE:
		if (tlv_image(v, p, len, off) != 0)
			return -1;
		break;
	case OTAPKG_TLV_IMAGE_BASE:
		if (tlv_image_base(v, p, len, off) != 0)
			return -1;
		break;
	case OTAPKG_TLV_IMAGE_KEY:
		if (tlv_image_key(v, p, len, off) != 0)
			return -1;
		break;
	case OTAPKG_TLV_SIGNING_TIME:
		v->info.has_signing_time = 1;
		v->info.signing_time = le64(p);
		break;
	case OTAPKG_TLV_CERTS_DIGEST: {
		unsigned i;

		for (i = 0; i < v->n_certs_digests; i++)
			if (memcmp(v->certs_digests[i], p, 32) == 0)
				return fail(v, OTAV_E_TLV, off,
					    "two CERTS_DIGEST TLVs for one "
					    "key id");
		if (v->n_certs_digests == OTAPKG_MAX_SIGS)
			return fail(v, OTAV_E_TLV, off,
				    "more than 8 CERTS_DIGEST TLVs");
		memcpy(v->certs_digests[v->n_certs_digests++], p, 64);
		break;
	}
	default: /* GIT_COMMIT and BUILD_TIME: any bytes; unknown: skipped */
		break;
	}
	if (v->events != NULL && v->events->tlv != NULL &&
	    v->events->tlv(v->events->ctx, off - 4, type, p, len) != 0)
		return aborted(v, "the TLV event asked to stop");
	return pad(v, PAD_TLV, align4(len) - len);
}

static int region_done(struct otav *v)
{
	uint64_t off = v->region_end;
	unsigned i, patches = 0, encrypted = 0;

	if ((v->seen & 1u << OTAPKG_TLV_NAME) == 0)
		return fail(v, OTAV_E_TLV, off,
			    "the protected region has no NAME TLV");
	if ((v->seen & 1u << OTAPKG_TLV_VERSION) == 0)
		return fail(v, OTAV_E_TLV, off,
			    "the protected region has no VERSION TLV");
	if ((v->seen & 1u << OTAPKG_TLV_SECURITY_COUNTER) == 0)
		return fail(v, OTAV_E_TLV, off,
			    "the protected region has no SECURITY_COUNTER "
			    "TLV");
	if (v->info.n_hardware == 0)
		return fail(v, OTAV_E_TLV, off,
			    "the protected region has no HARDWARE TLV");
	if (v->image_index != v->info.image_count)
		return failf(v, OTAV_E_TLV, off,
			     "the protected region has %u IMAGE TLVs, the "
			     "header says %u",
			     v->image_index, v->info.image_count, 0);
	for (i = 0; i < v->info.image_count; i++) {
		const struct otav_image *img = &v->info.images[i];

		if ((img->flags & OTAPKG_IMAGE_ENCRYPTED) != 0)
			encrypted++;
		if ((img->flags & OTAPKG_IMAGE_ENCRYPTED) != 0 &&
		    img->n_keys == 0)
			return failf(v, OTAV_E_TLV, off,
				     "image %u is encrypted without an "
				     "IMAGE_KEY TLV",
				     i, 0, 0);
		if (v->info.images[i].compression == OTAPKG_COMP_PATCH)
			patches++;
		if (v->info.images[i].compression == OTAPKG_COMP_PATCH &&
		    !v->info.images[i].has_base)
			return failf(
			    v, OTAV_E_TLV, off,
			    "image %u is a patch without an IMAGE_BASE "
			    "TLV",
			    i, 0, 0);
	}
	if (v->info.format_version == OTAPKG_VERSION_DELTA && patches == 0)
		return fail(v, OTAV_E_TLV, off,
			    "format version 2, but no image is a patch");
	if (v->info.format_version == OTAPKG_VERSION_CRYPT && encrypted == 0)
		return fail(v, OTAV_E_TLV, off,
			    "format version 3, but no image is encrypted");
	if (v->crypto->hash_final(v->crypto->ctx, v->info.region_digest) != 0)
		return fail(v, OTAV_E_CRYPTO, off,
			    "hashing the signed region failed");
	v->sig_left = v->info.sigblock_size;
	return want(v, ST_SIG_HDR, 4);
}

static int next_sig(struct otav *v)
{
	if (v->sig_left < OTAPKG_SIG_FIXED)
		return failf(v, OTAV_E_SIGBLOCK, v->offset,
			     "signature %u does not fit in the signature block "
			     "(%u bytes left)",
			     v->sig_index, v->sig_left, 0);
	return want(v, ST_SIG_ENTRY, OTAPKG_SIG_FIXED);
}

static int sig_header(struct otav *v)
{
	uint16_t count = le16(v->buf);

	if (count < 1 || count > OTAPKG_MAX_SIGS)
		return failf(v, OTAV_E_SIGBLOCK, v->item_off,
			     "signature count %u is not in 1..8", count, 0, 0);
	if (le16(v->buf + 2) != 0)
		return fail(v, OTAV_E_PADDING, v->item_off + 2,
			    "the signature block's reserved field is not zero");
	v->info.n_sigs = count;
	v->sig_left -= 4;
	return next_sig(v);
}

static int sig_entry(struct otav *v)
{
	const uint8_t *p = v->buf;
	uint16_t alg = le16(p), len = le16(p + 2);
	uint32_t certs = le32(p + 4);
	uint64_t off = v->item_off, sig_part = OTAPKG_SIG_FIXED + align4(len);
	unsigned idx = v->sig_index;

	if (alg < OTAPKG_SIG_ECDSA_P256 || alg > OTAPKG_SIG_ED25519)
		return failf(v, OTAV_E_SIGBLOCK, off,
			     "signature %u algorithm %u is unknown", idx, alg,
			     0);
	if (len < 1 || len > OTAPKG_MAX_SIG_LEN)
		return failf(v, OTAV_E_SIGBLOCK, off + 2,
			     "signature %u length %u is not in 1..512", idx,
			     len, 0);
	if (certs % 4u != 0)
		return failf(v, OTAV_E_SIGBLOCK, off + 4,
			     "signature %u certificates length %u is not a "
			     "multiple of 4",
			     idx, certs, 0);
	if (certs > OTAPKG_MAX_CERTS_LEN)
		return failf(v, OTAV_E_SIGBLOCK, off + 4,
			     "signature %u certificates length %u exceeds "
			     "65536",
			     idx, certs, 0);
	if (sig_part > v->sig_left)
		return failf(v, OTAV_E_SIGBLOCK, off + 2,
			     "signature %u length %u overruns the signature "
			     "block",
			     idx, len, 0);
	if (certs > v->sig_left - sig_part)
		return failf(v, OTAV_E_SIGBLOCK, off + 4,
			     "signature %u certificates length %u overruns the "
			     "signature block",
			     idx, certs, 0);
	v->sig_left -= sig_part + certs;
	memset(&v->sig, 0, sizeof(v->sig));
	v->sig.alg = alg;
	v->sig.len = len;
	v->sig.certs_len = certs;
	memcpy(v->sig.keyid, p + 8, sizeof(v->sig.keyid));
	v->certs_left = certs;
	v->cert_index = 0;
	/* The certificates area is hashed as it passes (otav_feed). */
	v->certs_start = off + sig_part;
	v->certs_end = v->certs_start + certs;
	if (certs > 0 &&
	    v->crypto->hash_init(v->crypto->ctx, OTAPKG_DIGEST_SHA256) != 0)
		return fail(v, OTAV_E_CRYPTO, off,
			    "hashing certificates failed");
	return want(v, ST_SIG_VALUE, len);
}

static int sig_value(struct otav *v)
{
	memcpy(v->sig.sig, v->buf, v->sig.len);
	return pad(v, PAD_SIG, align4(v->sig.len) - v->sig.len);
}

static int image_pad(struct otav *v)
{
	return pad(v, PAD_IMAGE,
		   v->info.images[v->image_index].offset - v->offset);
}

static int sigblock_done(struct otav *v)
{
	const struct otav_policy *pol = v->policy;
	unsigned i;

	if (!v->any_trusted && !pol->skip_signature)
		return fail(v, OTAV_E_SIGNATURE, v->region_end,
			    "no signature by a trusted key verifies");
	if (!pol->skip_signature && pol->threshold > v->n_trusted_ids)
		return failf(v, OTAV_E_SIGNATURE, v->region_end,
			     "signed by %u distinct trusted keys; %u required",
			     v->n_trusted_ids, pol->threshold, 0);
	if (v->events != NULL && v->events->authentic != NULL &&
	    v->events->authentic(v->events->ctx, &v->info) != 0)
		return aborted(v, "the authentic event asked to stop");
	if (pol->hardware != NULL && !v->hw_match)
		return fail(v, OTAV_E_HARDWARE, v->hw_off,
			    "the device's hardware id is not listed");
	if ((v->policy_fail & POLICY_ROLLBACK) != 0)
		return failf(v, OTAV_E_ROLLBACK, v->counter_off,
			     "security counter %u is below the device's %u",
			     v->info.security_counter, pol->counter, 0);
	if ((v->policy_fail & POLICY_BOOTLOADER) != 0)
		return fail(v, OTAV_E_BOOTLOADER, v->boot_off,
			    "the device's bootloader is older than the "
			    "package's minimum");
	/* Decrypting: every encrypted image's key, before any payload. */
	for (i = 0; v->decrypting && i < v->info.image_count; i++) {
		if ((v->info.images[i].flags & OTAPKG_IMAGE_ENCRYPTED) == 0 ||
		    (v->keyed & 1u << i) != 0)
			continue;
		return failf(v, OTAV_E_KEY, v->region_end,
			     (v->unwrap_failed & 1u << i) != 0
				 ? "image %u is encrypted: an IMAGE_KEY for "
				   "the device's key did not unwrap"
				 : "image %u is encrypted, but none of its %u "
				   "IMAGE_KEY TLVs is for the device's key",
			     i, v->info.images[i].n_keys, 0);
	}
	v->image_index = 0;
	return image_pad(v);
}

/* After the last certificate of an entry: its signature is checked. */
/* An entry's certificates must match its key id's CERTS_DIGEST TLV. */
static int certs_bound(struct otav *v)
{
	uint8_t d[32];
	unsigned i;

	if (v->sig.certs_len == 0)
		return 0;
	if (v->crypto->hash_final(v->crypto->ctx, d) != 0)
		return fail(v, OTAV_E_CRYPTO, v->offset,
			    "hashing certificates failed");
	for (i = 0; i < v->n_certs_digests; i++) {
		if (memcmp(v->certs_digests[i], v->sig.keyid, 32) != 0)
			continue;
		if (memcmp(v->certs_digests[i] + 32, d, 32) == 0)
			return 0;
		return failf(v, OTAV_E_SIGBLOCK, v->certs_start,
			     "the certificates of signature %u do not match "
			     "their CERTS_DIGEST",
			     v->sig_index, 0, 0);
	}
	return failf(v, OTAV_E_SIGBLOCK, v->certs_start,
		     "the certificates of signature %u have no CERTS_DIGEST "
		     "TLV",
		     v->sig_index, 0, 0);
}

static int sig_done(struct otav *v)
{
	const struct otav_crypto *c = v->crypto;
	unsigned idx = v->sig_index;
	int result = 1;

	if (certs_bound(v) != 0)
		return -1;
	v->n_certs[idx] =
	    (uint8_t)(v->cert_index < 255u ? v->cert_index : 255u);
	if (c->verify != NULL)
		result = c->verify(c->ctx, &v->sig, v->info.region_digest,
				   digest_size(v->info.digest_alg));
	if (result < -1 || result > 1)
		return failf(v, OTAV_E_CRYPTO, v->offset,
			     "verifying signature %u failed", idx, 0, 0);
	if (result == 0 && !v->any_trusted) {
		v->any_trusted = 1;
		v->info.trusted_sig = idx;
	}
	if (result == 0) {
		unsigned i;

		for (i = 0; i < v->n_trusted_ids; i++)
			if (memcmp(v->trusted_ids[i], v->sig.keyid, 8) == 0)
				break;
		if (i == v->n_trusted_ids && i < OTAPKG_MAX_SIGS)
			memcpy(v->trusted_ids[v->n_trusted_ids++], v->sig.keyid,
			       8);
	}
	if (v->events != NULL && v->events->signature != NULL &&
	    v->events->signature(v->events->ctx, idx, &v->sig, result) != 0)
		return aborted(v, "the signature event asked to stop");
	v->sig_index++;
	if (v->sig_index < v->info.n_sigs)
		return next_sig(v);
	/* A writer reserves room for the longest signatures: zeros. */
	return pad(v, PAD_SIGBLOCK, v->sig_left);
}

static int next_cert(struct otav *v)
{
	if (v->certs_left > 0)
		return want(v, ST_CERT_HDR, 4);
	return sig_done(v);
}

static int cert_header(struct otav *v)
{
	uint32_t len = le32(v->buf);

	if (len == 0)
		return failf(v, OTAV_E_SIGBLOCK, v->item_off,
			     "certificate %u of signature %u is empty",
			     v->cert_index, v->sig_index, 0);
	/* certs_left is a nonzero multiple of 4 here, so >= 4. */
	v->certs_left -= 4;
	if (align4(len) > v->certs_left)
		return failf(v, OTAV_E_SIGBLOCK, v->item_off,
			     "certificate %u of signature %u length %u "
			     "overruns the certificates",
			     v->cert_index, v->sig_index, len);
	v->certs_left -= (uint32_t)align4(len);
	v->cert_len = len;
	v->state = ST_CERT_DATA;
	v->left = len;
	return 0;
}

/*
 * ROOT_RECORD entries (otatool-root(5)) are handed to the root-record
 * code as they stream by (otaroot.h: begin with the value's length, the
 * value in chunks, end), when the policy names a walk. A record the walk
 * refuses does not stop the package: it carries its own proof and is
 * judged on it alone; the walk keeps the last valid candidate.
 */
static int root_record_begin(struct otav *v, uint16_t len)
{
	if (v->policy->roots != NULL)
		otaroot_walk_begin(v->policy->roots, len);
	return 0;
}

static int root_record_data(struct otav *v, const uint8_t *p, size_t n)
{
	if (v->policy->roots != NULL)
		otaroot_walk_feed(v->policy->roots, p, n);
	return 0;
}

static int root_record_end(struct otav *v)
{
	if (v->policy->roots != NULL)
		otaroot_walk_end(v->policy->roots);
	v->info.n_root_records++;
	return 0;
}

static int is_region_type(uint16_t type)
{
	return type == OTAPKG_REGION_TIMESTAMP || type == OTAPKG_REGION_OCSP ||
	       type == OTAPKG_REGION_ROOT_RECORD;
}

/*
 * The first bytes after the total size: a region starts with the type of
 * one of its TLVs, anything else (erased flash, a slot fed whole) is
 * trailing data, said at the first byte that shows it.
 */
static int region_prefix(struct otav *v)
{
	const uint8_t *p = v->buf;

	if ((p[0] != (OTAPKG_REGION_TIMESTAMP & 0xffu) &&
	     p[0] != (OTAPKG_REGION_OCSP & 0xffu) &&
	     p[0] != (OTAPKG_REGION_ROOT_RECORD & 0xffu)) ||
	    (v->have > 1 && p[1] != 0x80u))
		return fail(v, OTAV_E_TRAILING, v->item_off,
			    "data after the package's total size");
	return 0;
}

/* The footer: u32 U, "OTAU", after exactly U bytes of TLVs. */
static int region_footer(struct otav *v, uint64_t used)
{
	uint64_t off = v->item_off;

	if (le32(v->buf) != used)
		return failf(v, OTAV_E_TLV, off,
			     "the unprotected region's footer says %u bytes, "
			     "its TLVs take %u",
			     le32(v->buf), used, 0);
	v->info.region_size = (uint32_t)used;
	v->state = ST_END;
	return 0;
}

/* The indexes and reserved bytes of a TIMESTAMP or OCSP value's start. */
static int region_indexes(struct otav *v, uint16_t type, uint32_t *key)
{
	const uint8_t *p = v->buf + 4;
	uint64_t off = v->item_off + 4;
	unsigned reserved = type == OTAPKG_REGION_TIMESTAMP ? 1u : 2u, i;

	if (p[0] >= v->info.n_sigs)
		return failf(v, OTAV_E_TLV, off,
			     "unprotected region TLV %x names signature %u, "
			     "the package has %u",
			     type, p[0], v->info.n_sigs);
	if (type == OTAPKG_REGION_OCSP && p[1] >= v->n_certs[p[0]])
		return failf(v, OTAV_E_TLV, off + 1,
			     "OCSP response for certificate %u of signature "
			     "%u, which has %u",
			     p[1], p[0], v->n_certs[p[0]]);
	for (i = reserved; i < 4; i++)
		if (p[i] != 0)
			return failf(v, OTAV_E_PADDING, off + i,
				     "unprotected region TLV %x reserved byte "
				     "%u is not zero",
				     type, i, 0);
	*key = type == OTAPKG_REGION_TIMESTAMP
		   ? 1u + p[0]
		   : 1u + ((uint32_t)p[0] << 8 | p[1]);
	if (type == v->region_type && *key <= v->region_key)
		return failf(v, OTAV_E_TLV, v->item_off,
			     "unprotected region TLV %x for signature %u is "
			     "out of order or repeated",
			     type, p[0], 0);
	return 0;
}

/* A TLV header and its value's first 4 bytes, or the footer. */
static int region_header(struct otav *v)
{
	const uint8_t *p = v->buf;
	uint64_t off = v->item_off, used = off - v->info.total_size;
	uint16_t type = le16(p), len = le16(p + 2);
	const struct otav_events *ev = v->events;
	uint32_t key = 0;

	if (p[4] == OTAPKG_REGION_MAGIC0 && p[5] == OTAPKG_REGION_MAGIC1 &&
	    p[6] == OTAPKG_REGION_MAGIC2 && p[7] == OTAPKG_REGION_MAGIC3 &&
	    used > 0)
		return region_footer(v, used);
	if (!is_region_type(type))
		return failf(v, OTAV_E_TLV, off,
			     "unprotected region TLV %x is unknown", type, 0,
			     0);
	if (type < v->region_type)
		return failf(v, OTAV_E_TLV, off,
			     "unprotected region TLV %x follows TLV %x: types "
			     "must not decrease",
			     type, v->region_type, 0);
	if (len <= OTAPKG_REGION_FIXED &&
	    (type != OTAPKG_REGION_ROOT_RECORD || len < OTAPKG_REGION_FIXED))
		return failf(v, OTAV_E_TLV, off + 2,
			     "unprotected region TLV %x length %u is too short",
			     type, len, 0);
	if (used + 4u + align4(len) > OTAPKG_MAX_REGION)
		return failf(v, OTAV_E_TLV, off + 2,
			     "unprotected region TLV %x length %u runs past "
			     "the region's limit of %u bytes",
			     type, len, OTAPKG_MAX_REGION);
	if (type != OTAPKG_REGION_ROOT_RECORD &&
	    region_indexes(v, type, &key) != 0)
		return -1;
	v->region_type = type;
	v->region_key = key;
	v->region_len = len;
	if (type == OTAPKG_REGION_TIMESTAMP)
		v->info.n_timestamps++;
	else if (type == OTAPKG_REGION_OCSP)
		v->info.n_ocsp++;
	if (ev != NULL && ev->region_tlv != NULL &&
	    ev->region_tlv(ev->ctx, off, type, len) != 0)
		return aborted(v, "the region_tlv event asked to stop");
	if (ev != NULL && ev->region_data != NULL &&
	    ev->region_data(ev->ctx, p + 4, OTAPKG_REGION_FIXED) != 0)
		return aborted(v, "the region_data event asked to stop");
	if (type == OTAPKG_REGION_ROOT_RECORD &&
	    (root_record_begin(v, len) != 0 ||
	     root_record_data(v, p + 4, OTAPKG_REGION_FIXED) != 0))
		return -1;
	v->state = ST_REGION_DATA;
	v->left = len - OTAPKG_REGION_FIXED;
	return 0;
}

static int complete(struct otav *v)
{
	switch (v->state) {
	case ST_HEADER:
		return parse_header(v);
	case ST_TLV_HDR:
		return tlv_header(v);
	case ST_TLV_VALUE:
		return tlv_value(v);
	case ST_SIG_HDR:
		return sig_header(v);
	case ST_SIG_ENTRY:
		return sig_entry(v);
	case ST_SIG_VALUE:
		return sig_value(v);
	case ST_REGION_HDR:
		return region_header(v);
	default: /* ST_CERT_HDR */
		return cert_header(v);
	}
}

static int image_done(struct otav *v)
{
	const struct otav_image *img = &v->info.images[v->image_index];
	unsigned idx = v->image_index;

	if (v->crypto->hash_final(v->crypto->ctx, v->buf) != 0)
		return fail(v, OTAV_E_CRYPTO, v->offset,
			    "hashing an image failed");
	if (memcmp(v->buf, img->stored_digest, digest_size(img->digest_alg)) !=
	    0)
		return failf(v, OTAV_E_DIGEST, img->offset,
			     "image %u digest mismatch", idx, 0, 0);
	if (v->cipher_open) {
		v->cipher_open = 0;
		if (v->crypto->cipher_end != NULL)
			v->crypto->cipher_end(v->crypto->ctx, idx);
	}
	if (v->events != NULL && v->events->image_done != NULL &&
	    v->events->image_done(v->events->ctx, idx) != 0)
		return aborted(v, "the image_done event asked to stop");
	v->image_index++;
	if (v->image_index < v->info.image_count)
		return image_pad(v);
	v->state = ST_DONE; /* at total_size: the last image ends it */
	return 0;
}

/* The end of a streamed item. */
static int stream_end(struct otav *v)
{
	const struct otav_image *img;

	if (v->state == ST_CERT_DATA) {
		v->cert_index++;
		return pad(v, PAD_CERT, align4(v->cert_len) - v->cert_len);
	}
	if (v->state == ST_IMAGE_DATA)
		return image_done(v);
	if (v->state == ST_REGION_DATA) {
		if (v->region_type == OTAPKG_REGION_ROOT_RECORD &&
		    root_record_end(v) != 0)
			return -1;
		return pad(v, PAD_REGION,
			   align4(v->region_len) - v->region_len);
	}
	switch (v->pad_kind) {
	case PAD_TLV:
		if (v->region_left > 0)
			return want(v, ST_TLV_HDR, 4);
		return region_done(v);
	case PAD_SIG:
	case PAD_CERT:
		return next_cert(v);
	case PAD_SIGBLOCK:
		v->sig_left = 0;
		return sigblock_done(v);
	case PAD_REGION:
		return want(v, ST_REGION_HDR, 8);
	default: /* PAD_IMAGE */
		img = &v->info.images[v->image_index];
		if (v->crypto->hash_init(v->crypto->ctx, img->digest_alg) != 0)
			return fail(v, OTAV_E_CRYPTO, v->offset,
				    "hashing an image failed");
		if (v->decrypting && (img->flags & OTAPKG_IMAGE_ENCRYPTED)) {
			if (v->crypto->cipher_init(v->crypto->ctx,
						   v->image_index) != 0)
				return failf(v, OTAV_E_CRYPTO, v->offset,
					     "starting to decrypt image %u "
					     "failed",
					     v->image_index, 0, 0);
			v->cipher_open = 1;
		}
		v->state = ST_IMAGE_DATA;
		v->left = img->stored_size;
		return 0;
	}
}

/*
 * Encrypted image bytes p[0..n), at off: decrypted through the port's
 * cipher into buf (free while an image streams: nothing is buffered
 * then), a buffer at a time, and handed on as image_clear.
 */
static int decrypt(struct otav *v, const uint8_t *p, size_t n, uint64_t off)
{
	const struct otav_events *ev = v->events;

	while (n > 0) {
		size_t k = n < sizeof(v->buf) ? n : sizeof(v->buf);

		if (v->crypto->cipher_update(v->crypto->ctx, p, v->buf, k) != 0)
			return failf(v, OTAV_E_CRYPTO, off,
				     "decrypting image %u failed",
				     v->image_index, 0, 0);
		if (ev != NULL && ev->image_clear != NULL &&
		    ev->image_clear(ev->ctx, v->image_index, v->buf, k) != 0)
			return aborted(v,
				       "the image_clear event asked to stop");
		p += k;
		n -= k;
		off += k;
	}
	return 0;
}

/* n bytes of a streamed item, at off. */
static int stream(struct otav *v, const uint8_t *p, size_t n, uint64_t off)
{
	const struct otav_events *ev = v->events;
	size_t i;

	switch (v->state) {
	case ST_CERT_DATA:
		if (ev != NULL && ev->cert_data != NULL &&
		    ev->cert_data(ev->ctx, v->sig_index, v->cert_index,
				  v->cert_len, p, n) != 0)
			return aborted(v, "the cert_data event asked to stop");
		return 0;
	case ST_IMAGE_DATA:
		if (v->crypto->hash_update(v->crypto->ctx, p, n) != 0)
			return fail(v, OTAV_E_CRYPTO, off,
				    "hashing an image failed");
		if (ev != NULL && ev->image_data != NULL &&
		    ev->image_data(ev->ctx, v->image_index, p, n) != 0)
			return aborted(v, "the image_data event asked to stop");
		if (v->cipher_open)
			return decrypt(v, p, n, off);
		return 0;
	case ST_REGION_DATA:
		if (ev != NULL && ev->region_data != NULL &&
		    ev->region_data(ev->ctx, p, n) != 0)
			return aborted(v,
				       "the region_data event asked to stop");
		if (v->region_type == OTAPKG_REGION_ROOT_RECORD)
			return root_record_data(v, p, n);
		return 0;
	default: /* ST_PAD */
		i = first_nonzero(p, n);
		if (i == n)
			return 0;
		off += i;
		switch (v->pad_kind) {
		case PAD_TLV:
			return failf(v, OTAV_E_PADDING, off,
				     "TLV %x padding is not zero", v->last_type,
				     0, 0);
		case PAD_SIG:
			return failf(v, OTAV_E_PADDING, off,
				     "signature %u padding is not zero",
				     v->sig_index, 0, 0);
		case PAD_SIGBLOCK:
			return fail(v, OTAV_E_PADDING, off,
				    "the signature block's padding after the "
				    "last signature is not zero");
		case PAD_REGION:
			return failf(v, OTAV_E_PADDING, off,
				     "unprotected region TLV %x padding is not "
				     "zero",
				     v->region_type, 0, 0);
		case PAD_CERT:
			/* cert_index was already moved past it */
			return failf(
			    v, OTAV_E_PADDING, off,
			    "certificate %u of signature %u padding is "
			    "not zero",
			    v->cert_index - 1u, v->sig_index, 0);
		default:
			return failf(v, OTAV_E_PADDING, off,
				     "padding before image %u is not zero",
				     v->image_index, 0, 0);
		}
	}
}

enum otav_status otav_feed(struct otav *v, const uint8_t *data, size_t len)
{
	while (v->status == OTAV_OK) {
		int buffered = is_buffered(v->state);
		uint64_t off = v->offset;
		size_t n;

		/* Items of 0 bytes left are handled before waiting for data. */
		if (buffered && v->have == v->need) {
			complete(v);
			continue;
		}
		if (!buffered && v->state < ST_DONE && v->left == 0) {
			stream_end(v);
			continue;
		}
		if (len == 0)
			break;
		if (v->state == ST_DONE) {
			/* the last image ended at the total size */
			want(v, ST_REGION_HDR, 8);
			continue;
		}
		if (v->state == ST_END) {
			fail(v, OTAV_E_TRAILING, off,
			     "data after the unprotected region's footer");
			break;
		}
		if (buffered) {
			n = v->need - v->have;
			if (n > len)
				n = len;
			memcpy(v->buf + v->have, data, n);
			v->have += (uint32_t)n;
			if (v->state == ST_REGION_HDR &&
			    v->item_off == v->info.total_size &&
			    region_prefix(v) != 0)
				break;
		} else {
			n = v->left < len ? (size_t)v->left : len;
			v->left -= n;
		}
		/*
		 * Items never straddle the end of the signed region, nor the
		 * bounds of a certificates area: one digest at a time.
		 */
		if ((off < v->region_end ||
		     (off >= v->certs_start && off < v->certs_end)) &&
		    v->crypto->hash_update(v->crypto->ctx, data, n) != 0) {
			fail(v, OTAV_E_CRYPTO, off, "hashing failed");
			break;
		}
		v->offset += n;
		if (!buffered)
			stream(v, data, n, off);
		data += n;
		len -= n;
	}
	return v->status;
}

enum otav_status otav_finish(struct otav *v)
{
	static const char *const where[] = {
		[ST_HEADER] = "the package ends inside the header",
		[ST_TLV_HDR] = "the package ends inside the protected region",
		[ST_TLV_VALUE] = "the package ends inside the protected region",
		[ST_SIG_HDR] = "the package ends inside the signature block",
		[ST_SIG_ENTRY] = "the package ends inside the signature block",
		[ST_SIG_VALUE] = "the package ends inside the signature block",
		[ST_CERT_HDR] = "the package ends inside the signature block",
		[ST_PAD] = "the package ends inside padding",
		[ST_CERT_DATA] = "the package ends inside a certificate",
		[ST_IMAGE_DATA] = "the package ends inside an image",
		[ST_REGION_HDR] =
		    "the package ends inside the unprotected region",
		[ST_REGION_DATA] =
		    "the package ends inside the unprotected region",
	};

	/* Settle items of 0 bytes that may still be pending. */
	if (otav_feed(v, NULL, 0) != OTAV_OK)
		return v->status;
	if (v->state != ST_DONE && v->state != ST_END)
		fail(v, OTAV_E_TRUNCATED, v->offset,
		     v->state == ST_PAD && v->pad_kind == PAD_REGION
			 ? "the package ends inside the unprotected region"
			 : where[v->state]);
	return v->status;
}

const char *otav_status_name(enum otav_status s)
{
	switch (s) {
	case OTAV_OK:
		return "ok";
	case OTAV_E_TRUNCATED:
		return "truncated";
	case OTAV_E_TRAILING:
		return "trailing-data";
	case OTAV_E_MAGIC:
		return "magic";
	case OTAV_E_VERSION:
		return "version";
	case OTAV_E_HEADER:
		return "header";
	case OTAV_E_TLV:
		return "tlv";
	case OTAV_E_SIGBLOCK:
		return "signature-block";
	case OTAV_E_PADDING:
		return "padding";
	case OTAV_E_SIGNATURE:
		return "signature";
	case OTAV_E_DIGEST:
		return "digest";
	case OTAV_E_HARDWARE:
		return "hardware";
	case OTAV_E_ROLLBACK:
		return "rollback";
	case OTAV_E_BOOTLOADER:
		return "bootloader";
	case OTAV_E_CRYPTO:
		return "crypto";
	case OTAV_E_ABORTED:
		return "aborted";
	case OTAV_E_KEY:
		return "key";
	}
	return "unknown";
}
