/*
 * The reference device-side patch applier (otapatch.h, otatool-patch(5)):
 * a push parser fed the patch in chunks of any size, with one fixed state
 * (struct otap), no heap, no recursion and only memcpy/memset from libc.
 *
 * Three layers, each driving the next byte by byte:
 *   framing  the header and each block's length field are buffered whole;
 *            a block's packed bytes go through in[], a small window that
 *            always holds enough input for one whole LZMA symbol, so the
 *            decoder never stops inside a symbol and needs no state for it;
 *   LZMA     a raw LZMA decoder (range coder, literal/match/rep models)
 *            written from the format's published description; its output
 *            goes into win[], the dictionary, and on to the records;
 *   records  (seek, diff length, extra length) then that many diff bytes,
 *            each added to the base byte it lines up with, then extra
 *            bytes copied; target bytes leave through wbuf[] in pieces of
 *            OTAP_WRITE_SIZE.
 * Every length and position is checked before use against the header's
 * base size, target size and block bounds, so no input makes it read or
 * write outside them, or run for longer than its output requires.
 */
#include "otapatch.h"

#include <string.h>

enum state {
	ST_HEADER, /* buffering the header */
	ST_LEN,    /* buffering a block's length field */
	ST_PACKED, /* decoding a block's packed bytes */
	ST_SKIP,   /* passing over a block before the resume point */
	ST_DONE,   /* after the last block: any byte is trailing */
};

enum rec_state {
	REC_SEEK,
	REC_DIFF_LEN,
	REC_EXTRA_LEN,
	REC_DIFF,
	REC_EXTRA,
	REC_END, /* the block's target is complete: only the end marker */
};

/* LZMA's model sizes and offsets into probs[] (1846 + literals). */
#define LZ_STATES       12u
#define LZ_POS_MAX      16u /* 1 << pb for pb <= 4 */
#define LZ_IS_MATCH     0u
#define LZ_IS_REP       (LZ_IS_MATCH + LZ_STATES * LZ_POS_MAX)
#define LZ_IS_REP_G0    (LZ_IS_REP + LZ_STATES)
#define LZ_IS_REP_G1    (LZ_IS_REP_G0 + LZ_STATES)
#define LZ_IS_REP_G2    (LZ_IS_REP_G1 + LZ_STATES)
#define LZ_IS_REP0_LONG (LZ_IS_REP_G2 + LZ_STATES)
#define LZ_POS_SLOT     (LZ_IS_REP0_LONG + LZ_STATES * LZ_POS_MAX)
#define LZ_SPEC_POS     (LZ_POS_SLOT + 4u * 64u)
#define LZ_ALIGN        (LZ_SPEC_POS + 114u)
#define LZ_LEN          (LZ_ALIGN + 16u)
#define LZ_REP_LEN      (LZ_LEN + 514u)
#define LZ_LITERAL      (LZ_REP_LEN + 514u)
/* Within a length coder: two choice bits, low and mid trees per posState,
 * one high tree. */
#define LEN_CHOICE  0u
#define LEN_CHOICE2 1u
#define LEN_LOW     2u
#define LEN_MID     (LEN_LOW + LZ_POS_MAX * 8u)
#define LEN_HIGH    (LEN_MID + LZ_POS_MAX * 8u)

#define RC_TOP       (1u << 24)
#define PROB_BITS    11u
#define PROB_INIT    (1u << (PROB_BITS - 1))
#define PROB_SHIFT   5u
#define END_DISTANCE 0xffffffffu

#if (OTAP_MAX_DICT & (OTAP_MAX_DICT - 1u)) != 0 || OTAP_MAX_DICT < 4096u
#error "OTAP_MAX_DICT must be a power of two, at least 4096"
#endif
#if (OTAP_WRITE_SIZE & (OTAP_WRITE_SIZE - 1u)) != 0 ||                         \
    OTAP_WRITE_SIZE > 4096u || OTAP_WRITE_SIZE < 1u
#error "OTAP_WRITE_SIZE must be a power of two, 1..4096"
#endif
#if OTAP_MAX_LCLP > 12u
#error "OTAP_MAX_LCLP must be at most 12 (lc <= 8, lp <= 4)"
#endif
#if OTAP_BASE_BUF < 1u
#error "OTAP_BASE_BUF must be at least 1"
#endif

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1u)) == 0;
}

static int fail(struct otap *p, enum otap_status st, uint64_t off,
		const char *what)
{
	if (p->status == OTAP_OK) {
		p->status = st;
		p->err_offset = off;
		p->err_what = what;
	}
	return -1;
}

void otap_init(struct otap *p, const struct otap_io *io)
{
	memset(p, 0, sizeof(*p));
	p->io = io;
	p->state = ST_HEADER;
}

enum otap_status otap_resume(struct otap *p, uint32_t index, uint64_t offset)
{
	if (p->status != OTAP_OK)
		return p->status;
	if (p->offset != 0 || p->state != ST_HEADER) {
		fail(p, OTAP_E_RESUME, p->offset,
		     "otap_resume() after the first byte was fed");
		return p->status;
	}
	p->resume_block = index;
	p->resume_offset = offset;
	return OTAP_OK;
}

/* ---- header */

static int parse_header(struct otap *p)
{
	const uint8_t *b = p->buf;
	struct otap_header *h = &p->hdr;
	uint64_t blocks;

	if (b[0] != OTAP_MAGIC0 || b[1] != OTAP_MAGIC1 || b[2] != OTAP_MAGIC2 ||
	    b[3] != OTAP_MAGIC3)
		return fail(p, OTAP_E_MAGIC, 0, "not an otatool patch (magic)");
	h->version = (uint16_t)(b[4] | (unsigned)b[5] << 8);
	if (h->version != OTAP_VERSION)
		return fail(p, OTAP_E_VERSION, OTAP_OFF_VERSION,
			    "unknown patch encoding version");
	if ((b[6] | (unsigned)b[7] << 8) != OTAP_HEADER_SIZE)
		return fail(p, OTAP_E_HEADER, OTAP_OFF_HEADER_SIZE,
			    "header size is not 40");
	h->coder = b[OTAP_OFF_CODER];
	if (h->coder != OTAP_CODER_LZMA)
		return fail(p, OTAP_E_VERSION, OTAP_OFF_CODER,
			    "unknown coder (not 1, LZMA)");
	h->lc = b[OTAP_OFF_LC];
	h->lp = b[OTAP_OFF_LP];
	h->pb = b[OTAP_OFF_PB];
	if (h->lc > 8 || h->lp > 4 || h->pb > 4)
		return fail(p, OTAP_E_HEADER, OTAP_OFF_LC,
			    "lc, lp or pb out of range (lc 0..8, lp, pb 0..4)");
	h->dict_size = le32(b + OTAP_OFF_DICT);
	if (!is_pow2(h->dict_size) || h->dict_size < OTAP_MIN_DICT ||
	    h->dict_size > OTAP_MAX_DICT_FMT)
		return fail(p, OTAP_E_HEADER, OTAP_OFF_DICT,
			    "window size is not a power of two 4096..2^24");
	h->block_size = le32(b + OTAP_OFF_BLOCK_SIZE);
	if (!is_pow2(h->block_size) || h->block_size < OTAP_MIN_BLOCK ||
	    h->block_size > OTAP_MAX_BLOCK)
		return fail(p, OTAP_E_HEADER, OTAP_OFF_BLOCK_SIZE,
			    "block size is not a power of two 4096..2^24");
	h->blocks = le32(b + OTAP_OFF_BLOCKS);
	h->base_size = le64(b + OTAP_OFF_BASE_SIZE);
	h->target_size = le64(b + OTAP_OFF_TARGET_SIZE);
	/* ceil(target / block) without overflow: block_size >= 2^12 */
	blocks = h->target_size / h->block_size +
		 (h->target_size % h->block_size != 0 ? 1u : 0u);
	if (blocks != h->blocks)
		return fail(p, OTAP_E_HEADER, OTAP_OFF_BLOCKS,
			    "block count is not ceil(target size / block "
			    "size)");
	/* Limits of this build, before anything is touched. */
	if (h->dict_size > OTAP_MAX_DICT)
		return fail(p, OTAP_E_LIMITS, OTAP_OFF_DICT,
			    "the patch needs a larger window than this applier "
			    "has");
	if ((unsigned)h->lc + h->lp > OTAP_MAX_LCLP)
		return fail(p, OTAP_E_LIMITS, OTAP_OFF_LC,
			    "the patch needs more literal context (lc + lp) "
			    "than this applier has");
	if (p->resume_block > h->blocks)
		return fail(p, OTAP_E_RESUME, OTAP_OFF_BLOCKS,
			    "resume block is past the last block");
	if (p->io->header && p->io->header(p->io->ctx, h) != 0)
		return fail(p, OTAP_E_ABORTED, 0,
			    "the header callback refused the patch");
	return 0;
}

/* ---- target output */

static int flush(struct otap *p)
{
	uint64_t off = p->target_pos - p->wlen;

	if (p->wlen == 0)
		return 0;
	if (p->io->hash && p->io->hash(p->io->ctx, p->wbuf, p->wlen) != 0)
		return fail(p, OTAP_E_IO, p->offset, "hash callback failed");
	if (p->io->write(p->io->ctx, off, p->wbuf, p->wlen) != 0)
		return fail(p, OTAP_E_IO, p->offset, "write callback failed");
	p->wlen = 0;
	return 0;
}

static int emit(struct otap *p, uint8_t byte)
{
	p->wbuf[p->wlen++] = byte;
	p->target_pos++;
	if (p->wlen == OTAP_WRITE_SIZE)
		return flush(p);
	return 0;
}

/* The base byte at base_pos, through cache[]; within the diff run. */
static int base_byte(struct otap *p, uint8_t *out)
{
	uint64_t at = p->base_pos;

	if (at < p->cache_off || at - p->cache_off >= p->cache_len) {
		/* diff_left counts this byte: never read past the run */
		uint32_t n = p->diff_left < OTAP_BASE_BUF
				 ? (uint32_t)p->diff_left
				 : OTAP_BASE_BUF;

		if (p->io->read_base(p->io->ctx, at, p->cache, n) != 0)
			return fail(p, OTAP_E_IO, p->offset,
				    "read_base callback failed");
		p->cache_off = at;
		p->cache_len = n;
	}
	*out = p->cache[at - p->cache_off];
	return 0;
}

/* ---- records: each payload byte the LZMA decoder produces */

static int record_fields(struct otap *p)
{
	uint64_t left = p->block_end - p->target_pos;
	uint64_t pos;

	if (p->seek < 0) {
		uint64_t back = (uint64_t)(-(p->seek + 1)) + 1u;

		if (back > p->base_pos)
			return fail(p, OTAP_E_RECORD, p->offset,
				    "record seeks before the base start");
		pos = p->base_pos - back;
	} else {
		if ((uint64_t)p->seek > p->hdr.base_size - p->base_pos)
			return fail(p, OTAP_E_RECORD, p->offset,
				    "record seeks past the base end");
		pos = p->base_pos + (uint64_t)p->seek;
	}
	if (p->diff_left > p->hdr.base_size - pos)
		return fail(p, OTAP_E_RECORD, p->offset,
			    "record's diff bytes reach past the base end");
	if (p->diff_left == 0 && p->extra_left == 0)
		return fail(p, OTAP_E_RECORD, p->offset,
			    "record builds no target bytes");
	if (p->diff_left > left || p->extra_left > left - p->diff_left)
		return fail(p, OTAP_E_RECORD, p->offset,
			    "record builds past the end of its block");
	p->base_pos = pos;
	p->rec_state = p->diff_left > 0 ? REC_DIFF : REC_EXTRA;
	return 0;
}

/* After a record's bytes: the next record, or the block's end. */
static void record_next(struct otap *p)
{
	p->rec_state = p->target_pos == p->block_end ? REC_END : REC_SEEK;
	p->var = 0;
	p->var_shift = 0;
}

static int record_byte(struct otap *p, uint8_t b)
{
	uint8_t base;

	switch (p->rec_state) {
	case REC_SEEK:
	case REC_DIFF_LEN:
	case REC_EXTRA_LEN:
		/* LEB128, minimal, at most 64 bits */
		if (p->var_shift == 63 && (b & 0x7eu) != 0)
			return fail(p, OTAP_E_RECORD, p->offset,
				    "record field over 64 bits");
		p->var |= (uint64_t)(b & 0x7fu) << p->var_shift;
		if (b & 0x80u) {
			p->var_shift += 7;
			if (p->var_shift > 63)
				return fail(p, OTAP_E_RECORD, p->offset,
					    "record field over 64 bits");
			return 0;
		}
		if (b == 0 && p->var_shift > 0)
			return fail(p, OTAP_E_RECORD, p->offset,
				    "record field not minimally encoded");
		if (p->rec_state == REC_SEEK) {
			/* zigzag: 0, -1, 1, -2, ... */
			p->seek = (p->var & 1u) ? -(int64_t)(p->var >> 1) - 1
						: (int64_t)(p->var >> 1);
			p->rec_state = REC_DIFF_LEN;
		} else if (p->rec_state == REC_DIFF_LEN) {
			p->diff_left = p->var;
			p->rec_state = REC_EXTRA_LEN;
		} else {
			p->extra_left = p->var;
			if (record_fields(p))
				return -1;
		}
		p->var = 0;
		p->var_shift = 0;
		return 0;
	case REC_DIFF:
		if (base_byte(p, &base))
			return -1;
		p->base_pos++;
		p->diff_left--;
		if (emit(p, (uint8_t)(b + base)))
			return -1;
		if (p->diff_left == 0) {
			if (p->extra_left > 0)
				p->rec_state = REC_EXTRA;
			else
				record_next(p);
		}
		return 0;
	case REC_EXTRA:
		p->extra_left--;
		if (emit(p, b))
			return -1;
		if (p->extra_left == 0)
			record_next(p);
		return 0;
	default:
		return fail(p, OTAP_E_RECORD, p->offset,
			    "records go on after the block's target bytes");
	}
}

/* ---- LZMA: range decoder over in[] */

/*
 * Input for one symbol is always there (ST_PACKED guarantees it), except
 * at the block's end, where running out means the data is corrupt.
 */
static int rc_normalize(struct otap *p)
{
	if (p->range < RC_TOP) {
		if (p->in_pos == p->in_len)
			return fail(p, OTAP_E_DATA, p->offset,
				    "LZMA data runs past its block");
		p->range <<= 8;
		p->code = p->code << 8 | p->in[p->in_pos++];
	}
	return 0;
}

/* One bit with an adaptive probability; -1 on error. */
static int rc_bit(struct otap *p, uint16_t *prob)
{
	uint32_t bound = (p->range >> PROB_BITS) * *prob;
	int bit;

	if (p->code < bound) {
		p->range = bound;
		*prob = (uint16_t)(*prob +
				   (((1u << PROB_BITS) - *prob) >> PROB_SHIFT));
		bit = 0;
	} else {
		p->range -= bound;
		p->code -= bound;
		*prob = (uint16_t)(*prob - (*prob >> PROB_SHIFT));
		bit = 1;
	}
	if (rc_normalize(p))
		return -1;
	return bit;
}

/* n bits with probability one half, most significant first. */
static int rc_direct(struct otap *p, unsigned n, uint32_t *out)
{
	uint32_t v = 0;

	while (n-- > 0) {
		p->range >>= 1;
		if (p->code >= p->range) {
			p->code -= p->range;
			v = v << 1 | 1u;
		} else {
			v <<= 1;
		}
		if (rc_normalize(p))
			return -1;
	}
	/* the code stays below the range in a well-formed stream */
	if (p->code >= p->range)
		return fail(p, OTAP_E_DATA, p->offset, "LZMA data is corrupt");
	*out = v;
	return 0;
}

/* A bit tree of n bits, most significant first: value in 0..2^n-1. */
static int rc_tree(struct otap *p, uint16_t *probs, unsigned n, uint32_t *out)
{
	uint32_t m = 1;
	unsigned i;

	for (i = 0; i < n; i++) {
		int bit = rc_bit(p, &probs[m]);

		if (bit < 0)
			return -1;
		m = m << 1 | (uint32_t)bit;
	}
	*out = m - (1u << n);
	return 0;
}

/* The same, least significant bit first. */
static int rc_tree_rev(struct otap *p, uint16_t *probs, unsigned n,
		       uint32_t *out)
{
	uint32_t m = 1, v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		int bit = rc_bit(p, &probs[m]);

		if (bit < 0)
			return -1;
		m = m << 1 | (uint32_t)bit;
		v |= (uint32_t)bit << i;
	}
	*out = v;
	return 0;
}

/* ---- LZMA: models */

static void lz_block_start(struct otap *p)
{
	uint32_t n = OTAP_LZMA_PROBS((unsigned)p->hdr.lc + p->hdr.lp), i;

	for (i = 0; i < n; i++)
		p->probs[i] = (uint16_t)PROB_INIT;
	p->rep[0] = p->rep[1] = p->rep[2] = p->rep[3] = 0;
	p->lz_state = 0;
	p->lz_end = 0;
	p->lz_init = 0;
	p->lz_pos = 0;
	p->lz_total = 0;
	p->win_pos = 0;
	p->range = 0xffffffffu;
	p->code = 0;
	p->in_pos = p->in_len = 0;
	p->rec_state = REC_SEEK;
	p->var = 0;
	p->var_shift = 0;
	p->base_pos = 0;
	p->diff_left = p->extra_left = 0;
	p->cache_len = 0;
}

static uint8_t win_back(const struct otap *p, uint32_t dist)
{
	return p->win[(p->win_pos - dist) & (OTAP_MAX_DICT - 1u)];
}

/* One decoded byte: into the window, then to the records. */
static int lz_put(struct otap *p, uint8_t b)
{
	p->win[p->win_pos] = b;
	p->win_pos = (p->win_pos + 1u) & (OTAP_MAX_DICT - 1u);
	p->lz_pos++;
	if (p->lz_total < 0xffffffffu)
		p->lz_total++;
	return record_byte(p, b);
}

static int lz_len(struct otap *p, uint16_t *lc, unsigned pos_state,
		  uint32_t *len)
{
	uint32_t v;
	int bit = rc_bit(p, &lc[LEN_CHOICE]);

	if (bit < 0)
		return -1;
	if (bit == 0) {
		if (rc_tree(p, &lc[LEN_LOW + pos_state * 8u], 3, &v))
			return -1;
		*len = v;
		return 0;
	}
	if ((bit = rc_bit(p, &lc[LEN_CHOICE2])) < 0)
		return -1;
	if (bit == 0) {
		if (rc_tree(p, &lc[LEN_MID + pos_state * 8u], 3, &v))
			return -1;
		*len = 8u + v;
		return 0;
	}
	if (rc_tree(p, &lc[LEN_HIGH], 8, &v))
		return -1;
	*len = 16u + v;
	return 0;
}

/* The distance of a new match (0-based), len the 0-based match length. */
static int lz_distance(struct otap *p, uint32_t len, uint32_t *dist)
{
	uint32_t len_state = len < 3u ? len : 3u, slot, bits, d, v;

	if (rc_tree(p, &p->probs[LZ_POS_SLOT + len_state * 64u], 6, &slot))
		return -1;
	if (slot < 4u) {
		*dist = slot;
		return 0;
	}
	bits = (slot >> 1) - 1u;
	d = (2u | (slot & 1u)) << bits;
	if (slot < 14u) {
		/* reverse tree, indexed from 1 at d - slot: SPEC_POS - 1 */
		if (rc_tree_rev(p, &p->probs[LZ_SPEC_POS + d - slot - 1u], bits,
				&v))
			return -1;
		*dist = d + v;
		return 0;
	}
	if (rc_direct(p, bits - 4u, &v))
		return -1;
	d += v << 4;
	if (rc_tree_rev(p, &p->probs[LZ_ALIGN - 1u], 4, &v))
		return -1;
	*dist = d + v;
	return 0;
}

static int lz_literal(struct otap *p)
{
	const struct otap_header *h = &p->hdr;
	uint32_t prev = p->lz_total > 0 ? win_back(p, 1) : 0;
	uint32_t ctx = ((p->lz_pos & ((1u << h->lp) - 1u)) << h->lc) +
		       (prev >> (8u - h->lc));
	uint16_t *probs = &p->probs[LZ_LITERAL + 0x300u * ctx];
	uint32_t sym = 1;
	int bit;

	if (p->lz_state >= 7u) {
		/* after a match: the byte at rep0 guides the first bits */
		uint32_t match = win_back(p, p->rep[0] + 1u);

		while (sym < 0x100u) {
			uint32_t mbit = (match >> 7) & 1u;

			match <<= 1;
			bit = rc_bit(p, &probs[((1u + mbit) << 8) + sym]);
			if (bit < 0)
				return -1;
			sym = sym << 1 | (uint32_t)bit;
			if ((uint32_t)bit != mbit)
				break;
		}
	}
	while (sym < 0x100u) {
		if ((bit = rc_bit(p, &probs[sym])) < 0)
			return -1;
		sym = sym << 1 | (uint32_t)bit;
	}
	p->lz_state = p->lz_state < 4u    ? 0u
		      : p->lz_state < 10u ? p->lz_state - 3u
					  : p->lz_state - 6u;
	return lz_put(p, (uint8_t)sym);
}

/* Copies len bytes from dist + 1 back. */
static int lz_copy(struct otap *p, uint32_t dist, uint32_t len)
{
	if (dist >= p->lz_total || dist >= p->hdr.dict_size)
		return fail(p, OTAP_E_DATA, p->offset,
			    "LZMA match reaches before its block or window");
	while (len-- > 0) {
		if (lz_put(p, win_back(p, dist + 1u)))
			return -1;
	}
	return 0;
}

/* Decodes one LZMA symbol and passes its bytes on. */
static int lz_symbol(struct otap *p)
{
	unsigned pos_state = p->lz_pos & ((1u << p->hdr.pb) - 1u);
	unsigned st = p->lz_state;
	uint32_t len, dist;
	int bit;

	bit = rc_bit(p, &p->probs[LZ_IS_MATCH + st * LZ_POS_MAX + pos_state]);
	if (bit <= 0)
		return bit < 0 ? -1 : lz_literal(p);
	if ((bit = rc_bit(p, &p->probs[LZ_IS_REP + st])) < 0)
		return -1;
	if (bit == 0) {
		if (lz_len(p, &p->probs[LZ_LEN], pos_state, &len))
			return -1;
		p->lz_state = st < 7u ? 7u : 10u;
		if (lz_distance(p, len, &dist))
			return -1;
		if (dist == END_DISTANCE) {
			p->lz_end = 1;
			return 0;
		}
		p->rep[3] = p->rep[2];
		p->rep[2] = p->rep[1];
		p->rep[1] = p->rep[0];
		p->rep[0] = dist;
		return lz_copy(p, dist, len + 2u);
	}
	if (p->lz_total == 0)
		return fail(p, OTAP_E_DATA, p->offset,
			    "LZMA repeat before any byte of its block");
	if ((bit = rc_bit(p, &p->probs[LZ_IS_REP_G0 + st])) < 0)
		return -1;
	if (bit == 0) {
		bit = rc_bit(
		    p,
		    &p->probs[LZ_IS_REP0_LONG + st * LZ_POS_MAX + pos_state]);
		if (bit < 0)
			return -1;
		if (bit == 0) {
			p->lz_state = st < 7u ? 9u : 11u;
			return lz_copy(p, p->rep[0], 1);
		}
	} else {
		if ((bit = rc_bit(p, &p->probs[LZ_IS_REP_G1 + st])) < 0)
			return -1;
		if (bit == 0) {
			dist = p->rep[1];
		} else {
			if ((bit = rc_bit(p, &p->probs[LZ_IS_REP_G2 + st])) < 0)
				return -1;
			if (bit == 0) {
				dist = p->rep[2];
			} else {
				dist = p->rep[3];
				p->rep[3] = p->rep[2];
			}
			p->rep[2] = p->rep[1];
		}
		p->rep[1] = p->rep[0];
		p->rep[0] = dist;
	}
	if (lz_len(p, &p->probs[LZ_REP_LEN], pos_state, &len))
		return -1;
	p->lz_state = st < 7u ? 8u : 11u;
	return lz_copy(p, p->rep[0], len + 2u);
}

/* ---- framing */

static int block_begin(struct otap *p, uint32_t packed)
{
	const struct otap_header *h = &p->hdr;
	uint64_t start = (uint64_t)p->block * h->block_size;
	uint64_t n = h->target_size - start;

	if (packed < OTAP_MIN_PACKED || packed > OTAP_MAX_PACKED(h->block_size))
		return fail(p, OTAP_E_BLOCK, p->block_start,
			    "block length out of range");
	p->packed_left = packed;
	if (p->block < p->resume_block) {
		p->state = ST_SKIP;
		return 0;
	}
	if (p->block == p->resume_block && p->resume_block > 0 &&
	    p->block_start != p->resume_offset)
		return fail(p, OTAP_E_RESUME, p->block_start,
			    "resume offset is not where the block starts");
	if (n > h->block_size)
		n = h->block_size;
	p->target_pos = start;
	p->block_end = start + n;
	p->wlen = 0;
	lz_block_start(p);
	if (p->io->erase(p->io->ctx, start, (uint32_t)n) != 0)
		return fail(p, OTAP_E_IO, p->block_start,
			    "erase callback failed");
	p->state = ST_PACKED;
	return 0;
}

/* The block is over: the next one, or the end. */
static int block_end(struct otap *p)
{
	uint32_t done = p->block++;

	if (p->state == ST_PACKED && p->io->block_done &&
	    p->io->block_done(p->io->ctx, done, p->offset) != 0)
		return fail(p, OTAP_E_ABORTED, p->offset,
			    "the block_done callback said stop");
	p->block_start = p->offset;
	p->have = 0;
	p->state = p->block == p->hdr.blocks ? ST_DONE : ST_LEN;
	return 0;
}

/*
 * Decodes symbols while in[] holds enough for one, or holds the rest of
 * the block; at the block's end checks that its records, LZMA end marker
 * and packed bytes all end together.
 */
static int decode(struct otap *p)
{
	for (;;) {
		uint32_t avail = p->in_len - p->in_pos;

		if (p->lz_end) {
			/* only the range coder's last bytes may remain */
			if (avail != 0 || p->packed_left != 0)
				return fail(p, OTAP_E_BLOCK, p->offset,
					    "bytes after the block's LZMA end "
					    "marker");
			if (p->code != 0)
				return fail(p, OTAP_E_DATA, p->offset,
					    "LZMA data is corrupt at its end");
			if (p->rec_state != REC_END)
				return fail(p, OTAP_E_RECORD, p->offset,
					    "block ends before its target "
					    "bytes");
			if (flush(p))
				return -1;
			return block_end(p);
		}
		if (avail < OTAP_IN_NEED && p->packed_left != 0)
			return 0; /* wait for more input */
		if (!p->lz_init) {
			/* the range coder's first five bytes: 0, then the code
			 */
			if (avail < 5u)
				return fail(p, OTAP_E_DATA, p->offset,
					    "LZMA data too short");
			if (p->in[p->in_pos] != 0)
				return fail(p, OTAP_E_DATA, p->offset,
					    "LZMA data does not start with 0");
			p->code = (uint32_t)p->in[p->in_pos + 1u] << 24 |
				  (uint32_t)p->in[p->in_pos + 2u] << 16 |
				  (uint32_t)p->in[p->in_pos + 3u] << 8 |
				  p->in[p->in_pos + 4u];
			p->in_pos += 5u;
			if (p->code == 0xffffffffu)
				return fail(
				    p, OTAP_E_DATA, p->offset,
				    "LZMA data is corrupt at its start");
			p->lz_init = 1;
			continue;
		}
		if (lz_symbol(p))
			return -1;
	}
}

static int feed_packed(struct otap *p, const uint8_t **data, size_t *len)
{
	uint32_t room, n;

	if (p->in_pos > 0 && p->in_len - p->in_pos < OTAP_IN_NEED) {
		memmove(p->in, p->in + p->in_pos, p->in_len - p->in_pos);
		p->in_len -= p->in_pos;
		p->in_pos = 0;
	}
	room = (uint32_t)sizeof(p->in) - p->in_len;
	n = p->packed_left < room ? p->packed_left : room;
	if (n > *len)
		n = (uint32_t)*len;
	memcpy(p->in + p->in_len, *data, n);
	p->in_len += n;
	p->packed_left -= n;
	p->offset += n;
	*data += n;
	*len -= n;
	return decode(p);
}

enum otap_status otap_feed(struct otap *p, const uint8_t *data, size_t len)
{
	while (len > 0 && p->status == OTAP_OK) {
		uint32_t n;

		switch (p->state) {
		case ST_HEADER:
		case ST_LEN: {
			uint32_t need = p->state == ST_HEADER
					    ? OTAP_HEADER_SIZE
					    : OTAP_BLOCK_LEN_SIZE;

			n = need - p->have;
			if (n > len)
				n = (uint32_t)len;
			memcpy(p->buf + p->have, data, n);
			p->have += n;
			p->offset += n;
			data += n;
			len -= n;
			if (p->have < need)
				break;
			p->have = 0;
			if (p->state == ST_HEADER) {
				if (parse_header(p))
					break;
				p->block = 0;
				p->block_start = p->offset;
				p->state =
				    p->hdr.blocks == 0 ? ST_DONE : ST_LEN;
				if (p->hdr.blocks == 0 && p->resume_block == 0)
					break;
				if (p->hdr.blocks == 0)
					fail(p, OTAP_E_RESUME, p->offset,
					     "resume block is past the last "
					     "block");
			} else {
				(void)block_begin(p, le32(p->buf));
			}
			break;
		}
		case ST_PACKED:
			(void)feed_packed(p, &data, &len);
			break;
		case ST_SKIP:
			n = p->packed_left;
			if (n > len)
				n = (uint32_t)len;
			p->packed_left -= n;
			p->offset += n;
			data += n;
			len -= n;
			if (p->packed_left == 0)
				(void)block_end(p);
			break;
		default:
			fail(p, OTAP_E_TRAILING, p->offset,
			     "bytes after the last block");
			break;
		}
	}
	return p->status;
}

enum otap_status otap_finish(struct otap *p)
{
	if (p->status != OTAP_OK)
		return p->status;
	if (p->state == ST_DONE) {
		if (p->resume_block == p->hdr.blocks && p->resume_block > 0 &&
		    p->block_start != p->resume_offset)
			fail(p, OTAP_E_RESUME, p->block_start,
			     "resume offset is not the patch's end");
		return p->status;
	}
	fail(p, OTAP_E_TRUNCATED, p->offset, "patch ends early");
	return p->status;
}

const char *otap_status_name(enum otap_status s)
{
	switch (s) {
	case OTAP_OK:
		return "ok";
	case OTAP_E_TRUNCATED:
		return "truncated";
	case OTAP_E_TRAILING:
		return "trailing-data";
	case OTAP_E_MAGIC:
		return "magic";
	case OTAP_E_VERSION:
		return "version";
	case OTAP_E_HEADER:
		return "header";
	case OTAP_E_LIMITS:
		return "limits";
	case OTAP_E_BLOCK:
		return "block";
	case OTAP_E_DATA:
		return "data";
	case OTAP_E_RECORD:
		return "record";
	case OTAP_E_RESUME:
		return "resume";
	case OTAP_E_IO:
		return "io";
	case OTAP_E_ABORTED:
		return "aborted";
	}
	return "unknown";
}
