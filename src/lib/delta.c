/*
 * The patch encoder (otatool-patch(5)): bsdiff's match search over a
 * suffix array of the base (libdivsufsort), records cut at block
 * boundaries, each block's records packed as one raw LZMA stream
 * (liblzma) with the small window and literal context a device decodes.
 */
#include "otatool/delta.h"
#include "otapatch.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/output.h"

#include <divsufsort.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The suffix array is saidx_t (32-bit): the base stays below 2 GiB. */
#define MAX_BASE ((uint64_t)INT32_MAX - 1)

/*
 * The match search compares at most this many bytes. On images made of
 * long repeated runs (several copies of one library), the suffixes next to
 * each other share prefixes of hundreds of KiB, and each of the scan's
 * steps then cost that much times log n: a 16 MiB such pair took 170 s.
 * Capped, a longer match is found as consecutive pieces at the same
 * offset, which the scan joins (same records, same patch on every pair
 * measured), and that pair takes 13 s.
 */
#define MATCH_CAP 4096

void ota_delta_params_default(struct ota_delta_params *p)
{
	p->block_size = 64u << 10;
	p->dict_size = 4096;
	p->lc = 0;
	p->lp = 0;
	p->pb = 0;
}

/* ---- mapped inputs */

struct mapped {
	const uint8_t *data;
	uint64_t size;
	void *map;
};

static int map_file(struct mapped *m, const char *path)
{
	int fd, rc;

	memset(m, 0, sizeof(*m));
	if ((rc = ota_file_open_regular(&fd, &m->size, path)))
		return rc;
	if (m->size > SIZE_MAX / 2) {
		close(fd);
		return ota_error(OTA_EINPUT, "%s: too large to map", path);
	}
	if (m->size > 0) {
		m->map =
		    mmap(NULL, (size_t)m->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			rc = ota_error(OTA_EINPUT, "%s: cannot map: %s", path,
				       strerror(errno));
			close(fd);
			return rc;
		}
		m->data = m->map;
	}
	close(fd);
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->map)
		munmap(m->map, (size_t)m->size);
	m->map = NULL;
}

/* ---- blocks: records collected, then packed with LZMA */

struct builder {
	const struct ota_delta_params *prm;
	const uint8_t *base, *target;
	uint64_t target_size;
	ota_delta_write_fn write;
	void *ctx;
	struct ota_delta_stats *st;
	lzma_options_lzma lz;
	/* the current block */
	uint64_t block_start, block_end;
	uint64_t base_cursor; /* base position after the last diff */
	uint8_t *payload;
	size_t len, cap;
	uint8_t *packed;
	size_t packed_cap;
	/* the record being collected */
	int active;
	int64_t seek;
	uint64_t diff_base, diff_target, diff_len, extra_len;
};

static int put_bytes(struct builder *b, const uint8_t *data, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap - b->len < n)
			cap *= 2;
		if (!(p = realloc(b->payload, cap)))
			return ota_error(OTA_EINTERNAL, "out of memory");
		b->payload = p;
		b->cap = cap;
	}
	memcpy(b->payload + b->len, data, n);
	b->len += n;
	return 0;
}

static int put_varint(struct builder *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = (uint8_t)(v & 0x7fu);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80u;
		n++;
	} while (v);
	return put_bytes(b, tmp, n);
}

/* Writes the collected record into the block's payload. */
static int record_flush(struct builder *b)
{
	uint64_t zig, i;
	int rc;

	if (!b->active)
		return 0;
	b->active = 0;
	zig = b->seek < 0 ? ((uint64_t)(-(b->seek + 1)) << 1) | 1u
			  : (uint64_t)b->seek << 1;
	if ((rc = put_varint(b, zig)) || (rc = put_varint(b, b->diff_len)) ||
	    (rc = put_varint(b, b->extra_len)))
		return rc;
	for (i = 0; i < b->diff_len; i++) {
		uint8_t d = (uint8_t)(b->target[b->diff_target + i] -
				      b->base[b->diff_base + i]);

		if ((rc = put_bytes(b, &d, 1)))
			return rc;
	}
	if (b->extra_len &&
	    (rc = put_bytes(b, b->target + b->diff_target + b->diff_len,
			    (size_t)b->extra_len)))
		return rc;
	b->st->records++;
	b->st->diff_bytes += b->diff_len;
	b->st->extra_bytes += b->extra_len;
	return 0;
}

static int emit(struct builder *b, const uint8_t *data, size_t len)
{
	int rc = b->write(b->ctx, data, len);

	if (rc == 0)
		b->st->patch_size += len;
	return rc;
}

/* Packs payload[0, len) into packed[]: 0, or 1 if it does not fit max. */
static int pack(struct builder *b, size_t *out, uint32_t max)
{
	lzma_filter filters[2] = {
		{ .id = LZMA_FILTER_LZMA1, .options = &b->lz },
		{ .id = LZMA_VLI_UNKNOWN, .options = NULL },
	};
	size_t need = b->len + b->len / 2 + 1024, pos = 0;
	lzma_ret ret;

	if (b->packed_cap < need) {
		uint8_t *p = realloc(b->packed, need);

		if (!p)
			return ota_error(OTA_EINTERNAL, "out of memory");
		b->packed = p;
		b->packed_cap = need;
	}
	ret = lzma_raw_buffer_encode(filters, NULL, b->payload, b->len,
				     b->packed, &pos, b->packed_cap);
	if (ret == LZMA_BUF_ERROR)
		return 1;
	if (ret != LZMA_OK)
		return ota_error(OTA_EINTERNAL, "LZMA encoder failed (%d)",
				 (int)ret);
	*out = pos;
	return pos > max ? 1 : 0;
}

/* The block is complete: pack it and write its length and bytes. */
static int block_flush(struct builder *b)
{
	uint32_t max = OTAP_MAX_PACKED(b->prm->block_size);
	uint8_t len4[4];
	size_t n = 0;
	int rc;

	if ((rc = record_flush(b)))
		return rc;
	if ((rc = pack(b, &n, max)) < 0)
		return rc;
	if (rc == 1) {
		/*
		 * Never seen in practice: records so fragmented that they
		 * pack larger than the bound. The block as one extra record
		 * always fits.
		 */
		b->len = 0;
		b->active = 1;
		b->seek = 0;
		b->diff_len = 0;
		b->diff_target = b->block_start;
		b->extra_len = b->block_end - b->block_start;
		if ((rc = record_flush(b)) || (rc = pack(b, &n, max)) < 0)
			return rc;
		if (rc == 1)
			return ota_error(OTA_EINTERNAL,
					 "block at %llu does not pack",
					 (unsigned long long)b->block_start);
	}
	len4[0] = (uint8_t)n;
	len4[1] = (uint8_t)(n >> 8);
	len4[2] = (uint8_t)(n >> 16);
	len4[3] = (uint8_t)(n >> 24);
	if ((rc = emit(b, len4, 4)) || (rc = emit(b, b->packed, n)))
		return rc;
	b->st->blocks++;
	b->len = 0;
	b->base_cursor = 0;
	b->block_start = b->block_end;
	b->block_end = b->block_start + b->prm->block_size;
	if (b->block_end > b->target_size)
		b->block_end = b->target_size;
	return 0;
}

/* Target [tpos, tpos + len) = base [bpos, ...) + diff bytes. */
static int add_diff(struct builder *b, uint64_t tpos, uint64_t bpos,
		    uint64_t len)
{
	int rc;

	while (len > 0) {
		uint64_t n = b->block_end - tpos;

		if (n > len)
			n = len;
		if (!b->active || b->extra_len > 0 ||
		    b->diff_base + b->diff_len != bpos) {
			if ((rc = record_flush(b)))
				return rc;
			b->active = 1;
			b->seek = (int64_t)bpos - (int64_t)b->base_cursor;
			b->diff_base = bpos;
			b->diff_target = tpos;
			b->diff_len = 0;
			b->extra_len = 0;
		}
		b->diff_len += n;
		b->base_cursor = bpos + n;
		tpos += n;
		bpos += n;
		len -= n;
		if (tpos == b->block_end && (rc = block_flush(b)))
			return rc;
	}
	return 0;
}

/* Target [tpos, tpos + len) stored as it is. */
static int add_extra(struct builder *b, uint64_t tpos, uint64_t len)
{
	int rc;

	while (len > 0) {
		uint64_t n = b->block_end - tpos;

		if (n > len)
			n = len;
		if (!b->active) {
			b->active = 1;
			b->seek = 0;
			b->diff_base = b->base_cursor;
			b->diff_target = tpos;
			b->diff_len = 0;
			b->extra_len = 0;
		}
		b->extra_len += n;
		tpos += n;
		len -= n;
		if (tpos == b->block_end && (rc = block_flush(b)))
			return rc;
	}
	return 0;
}

/* ---- bsdiff's match search */

static int64_t common_len(const uint8_t *a, int64_t an, const uint8_t *b,
			  int64_t bn)
{
	int64_t i, n = an < bn ? an : bn;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	return i;
}

/*
 * The longest match of t[0, tn) in the base, by binary search over the
 * suffix array: its length, and its base position in *pos.
 */
static int64_t longest_match(const saidx_t *sa, const uint8_t *base, int64_t bn,
			     const uint8_t *t, int64_t tn, int64_t *pos)
{
	int64_t lo = 0, hi = bn - 1, x, y;

	if (bn == 0) {
		*pos = 0;
		return 0;
	}
	while (hi - lo >= 2) {
		int64_t mid = lo + (hi - lo) / 2;
		int64_t s = sa[mid], n = bn - s < tn ? bn - s : tn;

		if (memcmp(base + s, t, (size_t)n) < 0)
			lo = mid;
		else
			hi = mid;
	}
	x = common_len(base + sa[lo], bn - sa[lo], t, tn);
	y = common_len(base + sa[hi], bn - sa[hi], t, tn);
	if (x >= y) {
		*pos = sa[lo];
		return x;
	}
	*pos = sa[hi];
	return y;
}

/*
 * bsdiff 4's scan: walk the target looking for exact matches in the base
 * that the current alignment (last offset) does not already explain by
 * more than 8 bytes; between two such matches, extend the previous one
 * forward and the next one backward as approximate matches (where more
 * than half the bytes agree), the rest being extra bytes.
 */
static int scan(struct builder *b, const saidx_t *sa, int64_t bn, int64_t tn)
{
	const uint8_t *base = b->base, *t = b->target;
	int64_t pos = 0, len = 0, sc = 0, lastscan = 0, lastpos = 0;
	int64_t lastoffset = 0;
	int rc;

	while (sc < tn) {
		int64_t oldscore = 0, scsc;

		for (scsc = sc += len; sc < tn; sc++) {
			len = longest_match(
			    sa, base, bn, t + sc,
			    tn - sc < MATCH_CAP ? tn - sc : MATCH_CAP, &pos);
			for (; scsc < sc + len; scsc++)
				if (scsc + lastoffset < bn &&
				    base[scsc + lastoffset] == t[scsc])
					oldscore++;
			if ((len == oldscore && len != 0) || len > oldscore + 8)
				break;
			if (sc + lastoffset < bn &&
			    base[sc + lastoffset] == t[sc])
				oldscore--;
		}
		if (len != oldscore || sc == tn) {
			int64_t s = 0, sf = 0, lenf = 0, lenb = 0, i;

			for (i = 0; lastscan + i < sc && lastpos + i < bn;) {
				if (base[lastpos + i] == t[lastscan + i])
					s++;
				i++;
				if (s * 2 - i > sf * 2 - lenf) {
					sf = s;
					lenf = i;
				}
			}
			if (sc < tn) {
				int64_t sb = 0;

				s = 0;
				for (i = 1; sc >= lastscan + i && pos >= i;
				     i++) {
					if (base[pos - i] == t[sc - i])
						s++;
					if (s * 2 - i > sb * 2 - lenb) {
						sb = s;
						lenb = i;
					}
				}
			}
			if (lastscan + lenf > sc - lenb) {
				int64_t overlap = lastscan + lenf - (sc - lenb);
				int64_t ss = 0, lens = 0;

				s = 0;
				for (i = 0; i < overlap; i++) {
					if (t[lastscan + lenf - overlap + i] ==
					    base[lastpos + lenf - overlap + i])
						s++;
					if (t[sc - lenb + i] ==
					    base[pos - lenb + i])
						s--;
					if (s > ss) {
						ss = s;
						lens = i + 1;
					}
				}
				lenf += lens - overlap;
				lenb -= lens;
			}
			if (lenf > 0 &&
			    (rc = add_diff(b, (uint64_t)lastscan,
					   (uint64_t)lastpos, (uint64_t)lenf)))
				return rc;
			if (sc - lenb > lastscan + lenf &&
			    (rc = add_extra(
				 b, (uint64_t)(lastscan + lenf),
				 (uint64_t)(sc - lenb - (lastscan + lenf)))))
				return rc;
			lastscan = sc - lenb;
			lastpos = pos - lenb;
			lastoffset = pos - sc;
		}
	}
	return 0;
}

/* ---- the whole patch */

static void header_bytes(uint8_t h[OTAP_HEADER_SIZE],
			 const struct ota_delta_params *p, uint64_t base_size,
			 uint64_t target_size, uint32_t blocks)
{
	memset(h, 0, OTAP_HEADER_SIZE);
	h[0] = OTAP_MAGIC0;
	h[1] = OTAP_MAGIC1;
	h[2] = OTAP_MAGIC2;
	h[3] = OTAP_MAGIC3;
	h[OTAP_OFF_VERSION] = OTAP_VERSION;
	h[OTAP_OFF_HEADER_SIZE] = OTAP_HEADER_SIZE;
	h[OTAP_OFF_CODER] = OTAP_CODER_LZMA;
	h[OTAP_OFF_LC] = p->lc;
	h[OTAP_OFF_LP] = p->lp;
	h[OTAP_OFF_PB] = p->pb;
	for (unsigned i = 0; i < 4; i++) {
		h[OTAP_OFF_DICT + i] = (uint8_t)(p->dict_size >> (8 * i));
		h[OTAP_OFF_BLOCK_SIZE + i] =
		    (uint8_t)(p->block_size >> (8 * i));
		h[OTAP_OFF_BLOCKS + i] = (uint8_t)(blocks >> (8 * i));
	}
	for (unsigned i = 0; i < 8; i++) {
		h[OTAP_OFF_BASE_SIZE + i] = (uint8_t)(base_size >> (8 * i));
		h[OTAP_OFF_TARGET_SIZE + i] = (uint8_t)(target_size >> (8 * i));
	}
}

static int check_params(const struct ota_delta_params *p)
{
	uint32_t bs = p->block_size, ds = p->dict_size;

	if (bs < OTAP_MIN_BLOCK || bs > OTAP_MAX_BLOCK || (bs & (bs - 1)))
		return ota_error(OTA_EUSAGE,
				 "patch block size %u is not a power of two "
				 "4096..16777216",
				 bs);
	if (ds < OTAP_MIN_DICT || ds > OTAP_MAX_DICT_FMT || (ds & (ds - 1)))
		return ota_error(OTA_EUSAGE,
				 "patch window %u is not a power of two "
				 "4096..16777216",
				 ds);
	if (p->lc > 8 || p->lp > 4 || p->pb > 4 || p->lc + p->lp > 4)
		return ota_error(OTA_EUSAGE,
				 "patch lc %u, lp %u, pb %u out of range "
				 "(lc 0..8, lp 0..4, pb 0..4, lc + lp <= 4)",
				 p->lc, p->lp, p->pb);
	/* Every patch otatool writes is one its own applier can check. */
	if (ds > OTAP_MAX_DICT || (unsigned)p->lc + p->lp > OTAP_MAX_LCLP)
		return ota_error(
		    OTA_EUSAGE,
		    "patch window %u or lc + lp %u exceeds what the "
		    "applier is built with (window %u, lc + lp %u)",
		    ds, (unsigned)p->lc + p->lp, (unsigned)OTAP_MAX_DICT,
		    (unsigned)OTAP_MAX_LCLP);
	return 0;
}

int ota_delta_encode(const struct ota_delta_params *params,
		     const char *base_path, const char *target_path,
		     ota_delta_write_fn write, void *ctx,
		     struct ota_delta_stats *stats)
{
	struct ota_delta_params def;
	struct ota_delta_stats st_local;
	struct mapped base, target;
	struct builder b;
	saidx_t *sa = NULL;
	uint8_t hdr[OTAP_HEADER_SIZE];
	uint64_t blocks;
	int rc;

	if (!params) {
		ota_delta_params_default(&def);
		params = &def;
	}
	if (!stats)
		stats = &st_local;
	memset(stats, 0, sizeof(*stats));
	memset(&b, 0, sizeof(b));
	memset(&target, 0, sizeof(target));
	if ((rc = check_params(params)))
		return rc;
	if ((rc = map_file(&base, base_path)))
		return rc;
	if ((rc = map_file(&target, target_path)))
		goto out;
	if (base.size > MAX_BASE) {
		rc = ota_error(OTA_EINPUT,
			       "%s: %llu bytes: a patch base must be under "
			       "2 GiB",
			       base_path, (unsigned long long)base.size);
		goto out;
	}
	blocks = (target.size + params->block_size - 1) / params->block_size;
	if (blocks > UINT32_MAX) {
		rc = ota_error(OTA_EINPUT, "%s: too large for one patch",
			       target_path);
		goto out;
	}
	if (lzma_lzma_preset(&b.lz, 9 | LZMA_PRESET_EXTREME)) {
		rc = ota_error(OTA_EINTERNAL, "liblzma has no preset 9e");
		goto out;
	}
	b.lz.dict_size = params->dict_size;
	b.lz.lc = params->lc;
	b.lz.lp = params->lp;
	b.lz.pb = params->pb;
	b.prm = params;
	b.base = base.data;
	b.target = target.data;
	b.target_size = target.size;
	b.write = write;
	b.ctx = ctx;
	b.st = stats;
	b.block_end =
	    params->block_size < target.size ? params->block_size : target.size;
	stats->base_size = base.size;
	stats->target_size = target.size;
	header_bytes(hdr, params, base.size, target.size, (uint32_t)blocks);
	if ((rc = emit(&b, hdr, sizeof(hdr))))
		goto out;
	if (target.size == 0)
		goto out;
	if (base.size > 0) {
		sa = malloc((size_t)base.size * sizeof(*sa));
		if (!sa) {
			rc = ota_error(
			    OTA_EINTERNAL,
			    "out of memory for the suffix array of "
			    "%s (%llu bytes)",
			    base_path,
			    (unsigned long long)(base.size * sizeof(*sa)));
			goto out;
		}
		if (divsufsort(base.data, sa, (saidx_t)base.size) != 0) {
			rc = ota_error(OTA_EINTERNAL, "%s: suffix sort failed",
				       base_path);
			goto out;
		}
	}
	rc = scan(&b, sa, (int64_t)base.size, (int64_t)target.size);
out:
	free(sa);
	free(b.payload);
	free(b.packed);
	unmap_file(&target);
	unmap_file(&base);
	return rc;
}

static int write_output(void *ctx, const uint8_t *data, size_t len)
{
	return ota_output_write(ctx, data, len);
}

int ota_delta_encode_file(const struct ota_delta_params *params,
			  const char *base_path, const char *target_path,
			  const char *patch_path, struct ota_delta_stats *stats)
{
	struct ota_output *o = NULL;
	int rc;

	if ((rc = ota_output_open(&o, patch_path, 0644, 0)))
		return rc;
	rc = ota_delta_encode(params, base_path, target_path, write_output, o,
			      stats);
	if (rc) {
		ota_output_abort(o);
		return rc;
	}
	return ota_output_commit(o);
}
