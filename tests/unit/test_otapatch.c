/*
 * Unit tests for src/device/otapatch.c, the device-side patch applier:
 * patches assembled here record by record and packed with liblzma (an
 * independent LZMA encoder), applied to a simulated flash with NOR
 * semantics (erase to 0xff, write only erased bytes, a write counter and
 * a power switch). Header, limit, record and framing refusals; every
 * truncation and every bit flip of a small patch; a power cut at every
 * write with restart and resume; and the RAM figures of otatool-patch(5).
 */
#include <criterion/criterion.h>

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "otapatch.h"

/* ---- building patches */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap - b->len < n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		cr_assert_not_null(b->p);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_le(struct buf *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		put_u8(b, (uint8_t)(v >> (8 * i)));
}

static void put_leb(struct buf *b, uint64_t v)
{
	do {
		uint8_t c = (uint8_t)(v & 0x7f);

		v >>= 7;
		put_u8(b, (uint8_t)(c | (v ? 0x80 : 0)));
	} while (v);
}

struct hdr {
	uint8_t lc, lp, pb;
	uint32_t dict, block, blocks;
	uint64_t base_size, target_size;
};

static struct hdr hdr_for(uint64_t base_size, uint64_t target_size,
			  uint32_t block)
{
	struct hdr h = { 0, 0, 0, 4096, block, 0, base_size, target_size };

	h.blocks = (uint32_t)((target_size + block - 1) / block);
	return h;
}

static void put_header(struct buf *b, const struct hdr *h)
{
	put(b, "OTDL", 4);
	put_le(b, OTAP_VERSION, 2);
	put_le(b, OTAP_HEADER_SIZE, 2);
	put_u8(b, OTAP_CODER_LZMA);
	put_u8(b, h->lc);
	put_u8(b, h->lp);
	put_u8(b, h->pb);
	put_le(b, h->dict, 4);
	put_le(b, h->block, 4);
	put_le(b, h->blocks, 4);
	put_le(b, h->base_size, 8);
	put_le(b, h->target_size, 8);
}

/* One record: diff bytes are target - base over the run given. */
static void put_record(struct buf *r, int64_t seek, uint64_t diff_len,
		       uint64_t extra_len, const uint8_t *base,
		       const uint8_t *target)
{
	uint64_t z = seek < 0 ? ((uint64_t)(-(seek + 1)) << 1) | 1u
			      : (uint64_t)seek << 1;

	put_leb(r, z);
	put_leb(r, diff_len);
	put_leb(r, extra_len);
	for (uint64_t i = 0; i < diff_len; i++)
		put_u8(r, (uint8_t)(target[i] - base[i]));
	put(r, target + diff_len, (size_t)extra_len);
}

/* Packs records as one block (raw LZMA with end marker, as liblzma). */
static void put_block(struct buf *b, const struct hdr *h, const struct buf *r)
{
	lzma_options_lzma lz;
	lzma_filter f[2] = { { LZMA_FILTER_LZMA1, &lz },
			     { LZMA_VLI_UNKNOWN, NULL } };
	size_t cap = r->len + r->len / 2 + 1024, pos = 0;
	uint8_t *out = malloc(cap);

	cr_assert_not_null(out);
	cr_assert_eq(lzma_lzma_preset(&lz, 6), 0);
	lz.dict_size = h->dict;
	lz.lc = h->lc;
	lz.lp = h->lp;
	lz.pb = h->pb;
	cr_assert_eq(
	    lzma_raw_buffer_encode(f, NULL, r->p, r->len, out, &pos, cap),
	    LZMA_OK);
	put_le(b, pos, 4);
	put(b, out, pos);
	free(out);
}

/* ---- a simulated flash: base slot, target slot */

#define SECTOR 4096u

struct flash {
	uint8_t *base, *base_copy;
	size_t base_size;
	uint8_t *target;
	size_t target_size;  /* the slot's size */
	uint64_t image_size; /* the header's target size */
	uint8_t *erased;     /* per sector: erased since its last write? */
	unsigned writes, erases, reads;
	unsigned power_at; /* the write that fails (power cut); 0 never */
	int cut;
	uint8_t *hashed; /* what the hash callback saw, in order */
	size_t hashed_len;
	uint64_t expect_base_size;
	int refuse_header;
	unsigned blocks_done;
	uint32_t last_index;
	uint64_t last_next;
	uint64_t next_write; /* writes are strictly sequential */
};

static struct flash *flash_new(const uint8_t *base, size_t base_size,
			       size_t slot)
{
	struct flash *f = calloc(1, sizeof(*f));

	cr_assert_not_null(f);
	f->base = malloc(base_size + 1);
	f->base_copy = malloc(base_size + 1);
	f->target = malloc(slot + 1);
	f->hashed = malloc(slot + 1);
	f->erased = calloc(slot / SECTOR + 2, 1);
	cr_assert(f->base && f->base_copy && f->target && f->hashed &&
		  f->erased);
	if (base_size) {
		memcpy(f->base, base, base_size);
		memcpy(f->base_copy, base, base_size);
	}
	f->base_size = base_size;
	f->expect_base_size = base_size;
	f->target_size = slot;
	memset(f->target, 0x5a, slot + 1);
	return f;
}

static void flash_free(struct flash *f)
{
	free(f->base);
	free(f->base_copy);
	free(f->target);
	free(f->hashed);
	free(f->erased);
	free(f);
}

static int fl_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct flash *f = ctx;

	cr_assert(len > 0 && len <= OTAP_BASE_BUF, "read of %zu bytes", len);
	cr_assert(off < f->base_size && len <= f->base_size - off,
		  "read [%llu, +%zu) outside a base of %zu bytes",
		  (unsigned long long)off, len, f->base_size);
	f->reads++;
	memcpy(buf, f->base + off, len);
	return 0;
}

static int fl_erase(void *ctx, uint64_t off, uint32_t len)
{
	struct flash *f = ctx;

	cr_assert_eq(off % SECTOR, 0);
	cr_assert(off < f->target_size && len <= f->target_size - off,
		  "erase outside the target slot");
	memset(f->target + off, 0xff, len);
	for (uint64_t s = off / SECTOR; s * SECTOR < off + len; s++)
		f->erased[s] = 1;
	f->erases++;
	return 0;
}

static int fl_write(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
	struct flash *f = ctx;

	cr_assert(!f->cut, "write after the power was cut");
	cr_assert_eq(off, f->next_write, "write at %llu, expected %llu",
		     (unsigned long long)off,
		     (unsigned long long)f->next_write);
	cr_assert(off < f->image_size && len <= f->image_size - off,
		  "write [%llu, +%zu) past a target of %llu bytes",
		  (unsigned long long)off, len,
		  (unsigned long long)f->image_size);
	cr_assert_eq(off % OTAP_WRITE_SIZE, 0);
	cr_assert(len == OTAP_WRITE_SIZE || off + len == f->image_size,
		  "short write of %zu bytes not at the end", len);
	for (size_t i = 0; i < len; i++) {
		cr_assert(f->erased[(off + i) / SECTOR],
			  "write into a sector not erased");
		cr_assert_eq(f->target[off + i], 0xff, "write over data");
	}
	if (++f->writes == f->power_at) {
		/* power lost in the middle of this write: half of it lands */
		memcpy(f->target + off, data, len / 2);
		f->cut = 1;
		return -1;
	}
	memcpy(f->target + off, data, len);
	f->next_write = off + len;
	return 0;
}

static int fl_hash(void *ctx, const uint8_t *data, size_t len)
{
	struct flash *f = ctx;

	cr_assert(f->hashed_len + len <= f->target_size, "hash past target");
	memcpy(f->hashed + f->hashed_len, data, len);
	f->hashed_len += len;
	return 0;
}

static int fl_header(void *ctx, const struct otap_header *h)
{
	struct flash *f = ctx;

	if (f->refuse_header || h->base_size != f->expect_base_size ||
	    h->target_size > f->target_size)
		return 1;
	f->image_size = h->target_size;
	return 0;
}

static int fl_block_done(void *ctx, uint32_t index, uint64_t next)
{
	struct flash *f = ctx;

	cr_assert_eq(index, f->blocks_done ? f->last_index + 1 : index);
	f->blocks_done++;
	f->last_index = index;
	f->last_next = next;
	return 0;
}

static const struct otap_io io_template = {
	NULL, fl_read, fl_erase, fl_write, fl_hash, fl_header, fl_block_done,
};

/* Applies a patch fed in pieces of chunk bytes (0: all at once). */
static enum otap_status apply(struct otap *p, struct otap_io *io,
			      struct flash *f, const uint8_t *patch, size_t len,
			      size_t chunk)
{
	enum otap_status st = OTAP_OK;

	*io = io_template;
	io->ctx = f;
	otap_init(p, io);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && st == OTAP_OK; i += chunk)
		st = otap_feed(p, patch + i, len - i < chunk ? len - i : chunk);
	if (st == OTAP_OK)
		st = otap_finish(p);
	return st;
}

static void assert_base_intact(const struct flash *f)
{
	cr_assert(f->base_size == 0 ||
		      memcmp(f->base, f->base_copy, f->base_size) == 0,
		  "base slot changed");
}

/* ---- fixture: a 3-block patch using every kind of record */

static uint8_t *fx_base, *fx_target;
#define FX_BASE   10000u
#define FX_TARGET 10000u
#define FX_BLOCK  4096u

static void fx_data(void)
{
	uint32_t x = 12345;

	fx_base = malloc(FX_BASE);
	fx_target = malloc(FX_TARGET);
	cr_assert(fx_base && fx_target);
	for (size_t i = 0; i < FX_BASE; i++) {
		x = x * 1103515245u + 12345u;
		/* code-like: repeated instruction words, some noise */
		fx_base[i] =
		    (i % 4 == 3) ? (uint8_t)(x >> 24) : (uint8_t)(i % 61);
	}
	/* target: base shifted by 100, a changed middle, a new tail */
	memcpy(fx_target, fx_base + 100, 5000);
	for (size_t i = 5000; i < 7000; i++)
		fx_target[i] = (uint8_t)(fx_base[i - 3000] + (i % 7 == 0));
	for (size_t i = 7000; i < FX_TARGET; i++)
		fx_target[i] = (uint8_t)(i * 13);
}

/*
 * Records per block, cursor-relative seeks; a record never crosses a
 * block. Block 0: diff from base 100 (4096). Block 1 [4096, 8192):
 * diff from base 4196 (904 bytes, to target 5000), seek back to base
 * 2000 (2000 diff), then 1192 extra. Block 2 [8192, 10000): 1808 extra
 * split in two records, the second with a negative seek and 0 diff.
 */
static struct buf fx_patch(void)
{
	struct hdr h = hdr_for(FX_BASE, FX_TARGET, FX_BLOCK);
	struct buf b = { 0 }, r = { 0 };

	put_header(&b, &h);
	put_record(&r, 100, 4096, 0, fx_base + 100, fx_target);
	put_block(&b, &h, &r);
	r.len = 0;
	/* cursor starts at 0 in every block */
	put_record(&r, 4196, 904, 0, fx_base + 4196, fx_target + 4096);
	put_record(&r, 2000 - 5100, 2000, 1192, fx_base + 2000,
		   fx_target + 5000);
	put_block(&b, &h, &r);
	r.len = 0;
	put_record(&r, 0, 0, 1000, fx_base, fx_target + 8192);
	put_record(&r, 0, 0, 808, fx_base, fx_target + 9192);
	put_block(&b, &h, &r);
	free(r.p);
	return b;
}

TestSuite(otapatch, .init = fx_data);

Test(otapatch, applies_in_any_chunks)
{
	struct buf b = fx_patch();
	static const size_t chunks[] = { 0, 1, 2, 3, 7, 63, 64, 65, 1000 };

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
		struct otap p;
		struct otap_io io;
		enum otap_status st = apply(&p, &io, f, b.p, b.len, chunks[c]);

		cr_assert_eq(st, OTAP_OK, "chunk %zu: %s at %llu: %s",
			     chunks[c], otap_status_name(st),
			     (unsigned long long)p.err_offset,
			     p.err_what ? p.err_what : "");
		cr_assert_eq(memcmp(f->target, fx_target, FX_TARGET), 0);
		cr_assert_eq(f->hashed_len, FX_TARGET);
		cr_assert_eq(memcmp(f->hashed, fx_target, FX_TARGET), 0);
		cr_assert_eq(f->erases, 3);
		cr_assert_eq(f->blocks_done, 3);
		cr_assert_eq(f->last_next, b.len);
		cr_assert_eq(p.hdr.blocks, 3);
		assert_base_intact(f);
		flash_free(f);
	}
	free(b.p);
}

Test(otapatch, empty_target_and_base)
{
	static const uint8_t one = 7;
	struct hdr h;
	struct buf b = { 0 };
	struct flash *f;
	struct otap p;
	struct otap_io io;

	/* both empty: the header alone */
	h = hdr_for(0, 0, FX_BLOCK);
	put_header(&b, &h);
	f = flash_new(NULL, 0, 0);
	cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_OK);
	cr_assert_eq(f->writes + f->erases + f->reads, 0);
	flash_free(f);
	/* empty target, some base */
	b.len = 0;
	h = hdr_for(FX_BASE, 0, FX_BLOCK);
	put_header(&b, &h);
	f = flash_new(fx_base, FX_BASE, 0);
	cr_assert_eq(apply(&p, &io, f, b.p, b.len, 1), OTAP_OK);
	cr_assert_eq(f->writes + f->erases + f->reads, 0);
	flash_free(f);
	/* empty base: one extra byte */
	b.len = 0;
	h = hdr_for(0, 1, FX_BLOCK);
	put_header(&b, &h);
	{
		struct buf r = { 0 };

		put_record(&r, 0, 0, 1, NULL, &one);
		put_block(&b, &h, &r);
		free(r.p);
	}
	f = flash_new(NULL, 0, 1);
	cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_OK);
	cr_assert_eq(f->target[0], 7);
	cr_assert_eq(f->writes, 1);
	flash_free(f);
	free(b.p);
}

/* Every pb, and LZMA data with long matches, repeats and far distances. */
Test(otapatch, lzma_models)
{
	enum { N = 3 * 65536 + 17 };
	uint8_t *t = malloc(N);
	uint32_t x = 99;

	cr_assert_not_null(t);
	for (size_t i = 0; i < N; i++) {
		x = x * 1664525u + 1013904223u;
		if (i >= 4095 && (x >> 28) < 10)
			t[i] = t[i - 4095 + (x >> 20) % 8]; /* far matches */
		else if ((x >> 28) < 13)
			t[i] = i ? t[i - 1] : 0; /* runs: repeats */
		else
			t[i] = (uint8_t)(x >> 8);
	}
	for (unsigned pb = 0; pb <= 4; pb++) {
		struct hdr h = hdr_for(0, N, 65536);
		struct buf b = { 0 }, r = { 0 };
		struct flash *f = flash_new(NULL, 0, N);
		struct otap p;
		struct otap_io io;
		enum otap_status st;

		h.pb = (uint8_t)pb;
		put_header(&b, &h);
		for (size_t off = 0; off < N; off += 65536) {
			size_t n = N - off < 65536 ? N - off : 65536;

			r.len = 0;
			put_record(&r, 0, 0, n, NULL, t + off);
			put_block(&b, &h, &r);
		}
		st = apply(&p, &io, f, b.p, b.len, 4093);
		cr_assert_eq(st, OTAP_OK, "pb %u: %s at %llu: %s", pb,
			     otap_status_name(st),
			     (unsigned long long)p.err_offset,
			     p.err_what ? p.err_what : "");
		cr_assert_eq(memcmp(f->target, t, N), 0, "pb %u", pb);
		cr_assert_eq(f->erases, 4);
		flash_free(f);
		free(b.p);
		free(r.p);
	}
	free(t);
}

/* A patch refused at the header: status, offset, nothing touched. */
static void refused_at_header(const struct buf *b, enum otap_status want,
			      uint64_t off, const char *what)
{
	struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
	struct otap p;
	struct otap_io io;
	enum otap_status st = apply(&p, &io, f, b->p, b->len, 0);

	cr_assert_eq(st, want, "%s: %s, not %s", what, otap_status_name(st),
		     otap_status_name(want));
	cr_assert_eq(p.err_offset, off, "%s: offset %llu", what,
		     (unsigned long long)p.err_offset);
	cr_assert_not_null(p.err_what);
	cr_assert_eq(f->reads + f->erases + f->writes + f->hashed_len, 0,
		     "%s: touched the flash", what);
	/* sticky */
	cr_assert_eq(otap_feed(&p, b->p, 1), want);
	flash_free(f);
}

static struct buf with_byte(const struct buf *b, size_t at, uint8_t v)
{
	struct buf c = { 0 };

	put(&c, b->p, b->len);
	c.p[at] = v;
	return c;
}

Test(otapatch, header_refusals)
{
	struct buf b = fx_patch(), c;
	struct {
		size_t at;
		unsigned width;
		uint64_t v;
		enum otap_status st;
		uint64_t off;
	} cases[] = {
		{ 0, 1, 'X', OTAP_E_MAGIC, 0 },
		{ 3, 1, 'M', OTAP_E_MAGIC, 0 },
		{ 4, 2, 2, OTAP_E_VERSION, 4 },
		{ 4, 2, 0x101, OTAP_E_VERSION, 4 },
		{ 6, 2, 41, OTAP_E_HEADER, 6 },
		{ 8, 1, 2, OTAP_E_VERSION, 8 },
		{ 9, 1, 9, OTAP_E_HEADER, 9 },
		{ 10, 1, 5, OTAP_E_HEADER, 9 },
		{ 11, 1, 5, OTAP_E_HEADER, 9 },
		{ 9, 1, 1, OTAP_E_LIMITS, 9 }, /* lc + lp above this build */
		{ 10, 1, 1, OTAP_E_LIMITS, 9 },
		{ 12, 4, 4097, OTAP_E_HEADER, 12 }, /* window not pow2 */
		{ 12, 4, 6144, OTAP_E_HEADER, 12 },
		{ 12, 4, 2048, OTAP_E_HEADER, 12 }, /* too small */
		{ 12, 4, 0, OTAP_E_HEADER, 12 },
		{ 12, 4, 8192, OTAP_E_LIMITS, 12 }, /* > built in */
		{ 12, 4, 1u << 24, OTAP_E_LIMITS, 12 },
		{ 12, 4, 1u << 25, OTAP_E_HEADER, 12 }, /* > format */
		{ 16, 4, 6144, OTAP_E_HEADER, 16 },     /* block not pow2 */
		{ 16, 4, 2048, OTAP_E_HEADER, 16 },
		{ 16, 4, 1u << 25, OTAP_E_HEADER, 16 },
		{ 16, 4, 8192, OTAP_E_HEADER, 20 }, /* blocks now wrong */
		{ 20, 4, 4, OTAP_E_HEADER, 20 },
		{ 20, 4, 2, OTAP_E_HEADER, 20 },
		{ 32, 8, 12289, OTAP_E_HEADER, 20 }, /* target vs blocks */
		{ 32, 8, UINT64_MAX, OTAP_E_HEADER, 20 },
		{ 24, 8, FX_BASE + 1, OTAP_E_ABORTED, 0 }, /* device: no */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "bytes %zu.. = %llu", cases[i].at,
			 (unsigned long long)cases[i].v);
		c = with_byte(&b, cases[i].at, (uint8_t)cases[i].v);
		for (unsigned k = 1; k < cases[i].width; k++)
			c.p[cases[i].at + k] = (uint8_t)(cases[i].v >> (8 * k));
		refused_at_header(&c, cases[i].st, cases[i].off, what);
		free(c.p);
	}
	free(b.p);
}

Test(otapatch, header_callback_refuses_before_anything)
{
	struct buf b = fx_patch();
	struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
	struct otap p;
	struct otap_io io;

	f->refuse_header = 1;
	cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_E_ABORTED);
	cr_assert_eq(f->reads + f->erases + f->writes + f->hashed_len, 0);
	flash_free(f);
	free(b.p);
}

/* A one-block patch of the given records over the fixture's base. */
static enum otap_status one_block(const struct buf *r, uint64_t target_size,
				  struct flash **fout, struct otap *p)
{
	struct hdr h = hdr_for(FX_BASE, target_size, FX_BLOCK);
	struct buf b = { 0 };
	struct otap_io io;
	struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
	enum otap_status st;

	put_header(&b, &h);
	put_block(&b, &h, r);
	st = apply(p, &io, f, b.p, b.len, 5);
	assert_base_intact(f);
	free(b.p);
	if (fout)
		*fout = f;
	else
		flash_free(f);
	return st;
}

Test(otapatch, record_refusals)
{
	uint8_t zeros[300] = { 0 };
	struct otap p;
	struct flash *f;
	struct buf r = { 0 };
	enum otap_status st;

	/* seek before the start of the base */
	put_record(&r, -1, 10, 0, fx_base, zeros);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	cr_assert_str_eq(p.err_what, "record seeks before the base start");
	/* seek past the end */
	r.len = 0;
	put_record(&r, FX_BASE + 1, 0, 10, fx_base, zeros);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	/* diff bytes past the base end */
	r.len = 0;
	put_record(&r, FX_BASE - 5, 10, 0, fx_base + FX_BASE - 10, zeros);
	cr_assert_eq(one_block(&r, 10, &f, &p), OTAP_E_RECORD);
	cr_assert_eq(f->reads + f->writes, 0);
	flash_free(f);
	/* a record that builds nothing */
	r.len = 0;
	put_record(&r, 0, 0, 0, fx_base, zeros);
	put_record(&r, 0, 0, 10, fx_base, zeros);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	/* output overrun: records build past the block (= target) */
	r.len = 0;
	put_record(&r, 0, 5, 6, fx_base, zeros);
	cr_assert_eq(one_block(&r, 10, &f, &p), OTAP_E_RECORD);
	cr_assert_str_eq(p.err_what, "record builds past the end of its block");
	cr_assert_eq(f->writes, 0);
	flash_free(f);
	r.len = 0;
	put_record(&r, 0, 300, 0, fx_base, zeros);
	cr_assert_eq(one_block(&r, 299, NULL, &p), OTAP_E_RECORD);
	/* bytes after the last record (the LZMA data goes on) */
	r.len = 0;
	put_record(&r, 0, 0, 10, fx_base, zeros);
	put_u8(&r, 0);
	cr_assert_eq(one_block(&r, 10, &f, &p), OTAP_E_RECORD);
	cr_assert_str_eq(p.err_what,
			 "records go on after the block's target bytes");
	cr_assert_leq(f->next_write, 10);
	flash_free(f);
	/* the block ends before its target bytes */
	r.len = 0;
	put_record(&r, 0, 0, 10, fx_base, zeros);
	cr_assert_eq(one_block(&r, 11, NULL, &p), OTAP_E_RECORD);
	r.len = 0;
	put_u8(&r, 0);
	put_u8(&r, 0);
	cr_assert_eq(one_block(&r, 11, NULL, &p), OTAP_E_RECORD);
	/* not minimal LEB128, over 64 bits */
	r.len = 0;
	put_u8(&r, 0x80);
	put_u8(&r, 0x00);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	cr_assert_str_eq(p.err_what, "record field not minimally encoded");
	r.len = 0;
	for (int i = 0; i < 9; i++)
		put_u8(&r, 0xff);
	put_u8(&r, 0x02);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	cr_assert_str_eq(p.err_what, "record field over 64 bits");
	r.len = 0;
	for (int i = 0; i < 10; i++)
		put_u8(&r, 0x80);
	put_u8(&r, 0x01);
	cr_assert_eq(one_block(&r, 10, NULL, &p), OTAP_E_RECORD);
	/* the largest seeks are refused, not overflowed */
	r.len = 0;
	put_leb(&r, UINT64_MAX); /* zigzag: INT64_MIN */
	put_leb(&r, 1);
	put_leb(&r, 0);
	put_u8(&r, 0);
	cr_assert_eq(one_block(&r, 1, NULL, &p), OTAP_E_RECORD);
	r.len = 0;
	put_leb(&r, UINT64_MAX - 1); /* INT64_MAX */
	put_leb(&r, 1);
	put_leb(&r, 0);
	put_u8(&r, 0);
	cr_assert_eq(one_block(&r, 1, NULL, &p), OTAP_E_RECORD);
	/* a good one of the same shape passes */
	r.len = 0;
	put_record(&r, 9, 1, 0, fx_base + 9, zeros);
	st = one_block(&r, 1, &f, &p);
	cr_assert_eq(st, OTAP_OK, "%s", otap_status_name(st));
	cr_assert_eq(f->target[0], 0);
	flash_free(f);
	free(r.p);
}

Test(otapatch, framing_refusals)
{
	struct buf b = fx_patch(), c = { 0 };
	size_t first = OTAP_HEADER_SIZE;
	uint32_t l0 = (uint32_t)b.p[first] | (uint32_t)b.p[first + 1] << 8;
	struct flash *f;
	struct otap p;
	struct otap_io io;

	/* trailing bytes */
	put(&c, b.p, b.len);
	put_u8(&c, 0);
	f = flash_new(fx_base, FX_BASE, FX_TARGET);
	cr_assert_eq(apply(&p, &io, f, c.p, c.len, 0), OTAP_E_TRAILING);
	cr_assert_eq(p.err_offset, b.len);
	flash_free(f);
	free(c.p);
	/* block lengths out of range, and not where the LZMA data ends */
	{
		uint32_t bad[] = { 0, 4, OTAP_MAX_PACKED(FX_BLOCK) + 1,
				   0xffffffffu };

		for (size_t i = 0; i < 4; i++) {
			c = with_byte(&b, first, (uint8_t)bad[i]);
			c.p[first + 1] = (uint8_t)(bad[i] >> 8);
			c.p[first + 2] = (uint8_t)(bad[i] >> 16);
			c.p[first + 3] = (uint8_t)(bad[i] >> 24);
			f = flash_new(fx_base, FX_BASE, FX_TARGET);
			cr_assert_eq(apply(&p, &io, f, c.p, c.len, 0),
				     OTAP_E_BLOCK);
			cr_assert_eq(p.err_offset, first);
			cr_assert_eq(f->erases + f->writes, 0);
			flash_free(f);
			free(c.p);
		}
	}
	c = with_byte(&b, first, (uint8_t)(l0 + 1));
	f = flash_new(fx_base, FX_BASE, FX_TARGET);
	cr_assert_neq(apply(&p, &io, f, c.p, c.len, 0), OTAP_OK);
	flash_free(f);
	free(c.p);
	c = with_byte(&b, first, (uint8_t)(l0 - 1));
	f = flash_new(fx_base, FX_BASE, FX_TARGET);
	cr_assert_neq(apply(&p, &io, f, c.p, c.len, 0), OTAP_OK);
	flash_free(f);
	free(c.p);
	/* LZMA data that does not start with 0 */
	c = with_byte(&b, first + 4, 1);
	f = flash_new(fx_base, FX_BASE, FX_TARGET);
	cr_assert_eq(apply(&p, &io, f, c.p, c.len, 0), OTAP_E_DATA);
	flash_free(f);
	free(c.p);
	free(b.p);
}

Test(otapatch, every_truncation)
{
	struct buf b = fx_patch();

	for (size_t n = 0; n < b.len; n++) {
		struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
		struct otap p;
		struct otap_io io;
		enum otap_status st = apply(&p, &io, f, b.p, n, 0);

		cr_assert_neq(st, OTAP_OK, "cut at %zu accepted", n);
		cr_assert(st == OTAP_E_TRUNCATED || st == OTAP_E_DATA,
			  "cut at %zu: %s", n, otap_status_name(st));
		cr_assert_leq(p.err_offset, n);
		assert_base_intact(f);
		flash_free(f);
	}
	free(b.p);
}

/*
 * Every bit of a small patch flipped: a clean refusal, or a target of
 * exactly the declared size that the target digest then refuses (the
 * flash simulation asserts every read, erase and write is in bounds).
 */
Test(otapatch, every_bit_flip)
{
	struct buf b = fx_patch();
	unsigned refused = 0, wrong = 0;

	for (size_t bit = 0; bit < b.len * 8; bit++) {
		struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
		struct otap p;
		struct otap_io io;
		enum otap_status st;

		b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		st = apply(&p, &io, f, b.p, b.len, 0);
		b.p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_base_intact(f);
		if (st != OTAP_OK) {
			cr_assert_not_null(p.err_what);
			cr_assert_leq(p.err_offset, b.len);
			refused++;
		} else {
			cr_assert_eq(f->hashed_len, FX_TARGET);
			if (memcmp(f->hashed, fx_target, FX_TARGET) != 0)
				wrong++;
		}
		flash_free(f);
	}
	/* almost every flip is refused by the applier itself */
	cr_assert_gt(refused, b.len * 8 * 9 / 10, "%u of %zu refused", refused,
		     b.len * 8);
	cr_log_info("bit flips: %u refused, %u rebuilt a wrong target, of %zu",
		    refused, wrong, b.len * 8);
	free(b.p);
}

/* ---- power loss */

static enum otap_status resume(struct otap *p, struct otap_io *io,
			       struct flash *f, const struct buf *b,
			       uint32_t index, uint64_t off)
{
	enum otap_status st;

	*io = io_template;
	io->ctx = f;
	f->hashed_len = 0;
	f->blocks_done = 0;
	otap_init(p, io);
	if ((st = otap_resume(p, index, off)) != OTAP_OK)
		return st;
	if ((st = otap_feed(p, b->p, b->len)) != OTAP_OK)
		return st;
	return otap_finish(p);
}

Test(otapatch, power_cut_at_every_write)
{
	struct buf b = fx_patch();
	unsigned total;

	{
		struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
		struct otap p;
		struct otap_io io;

		cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_OK);
		total = f->writes;
		flash_free(f);
	}
	cr_assert_eq(total,
		     (FX_TARGET + OTAP_WRITE_SIZE - 1) / OTAP_WRITE_SIZE);
	for (unsigned cut = 1; cut <= total; cut++) {
		struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
		struct otap p;
		struct otap_io io;
		uint32_t index;
		uint64_t next;
		size_t before;

		f->power_at = cut;
		cr_assert_eq(apply(&p, &io, f, b.p, b.len, 777), OTAP_E_IO);
		assert_base_intact(f);
		index = f->blocks_done ? f->last_index + 1 : 0;
		next = f->blocks_done ? f->last_next : 0;
		/* reboot: resume from the last finished block */
		f->cut = 0;
		f->power_at = 0;
		f->hashed_len = 0;
		f->next_write = (uint64_t)index * FX_BLOCK;
		before = (size_t)f->next_write;
		cr_assert_eq(resume(&p, &io, f, &b, index, next), OTAP_OK,
			     "cut %u: resume at %u: %s", cut, index,
			     otap_status_name(p.status));
		cr_assert_eq(memcmp(f->target, fx_target, FX_TARGET), 0,
			     "cut %u: resumed image differs", cut);
		/* the hash saw exactly the bytes from the resume point */
		cr_assert_eq(f->hashed_len, FX_TARGET - before);
		cr_assert_eq(
		    memcmp(f->hashed, fx_target + before, f->hashed_len), 0);
		assert_base_intact(f);
		/* and starting over from scratch gives the image too */
		f->hashed_len = 0;
		f->next_write = 0;
		f->blocks_done = 0;
		cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_OK);
		cr_assert_eq(memcmp(f->target, fx_target, FX_TARGET), 0);
		assert_base_intact(f);
		flash_free(f);
	}
	free(b.p);
}

Test(otapatch, resume_refusals)
{
	struct buf b = fx_patch();
	struct flash *f = flash_new(fx_base, FX_BASE, FX_TARGET);
	struct otap p;
	struct otap_io io;
	uint64_t second;

	cr_assert_eq(apply(&p, &io, f, b.p, b.len, 0), OTAP_OK);
	second = OTAP_HEADER_SIZE + 4u +
		 ((uint32_t)b.p[40] | (uint32_t)b.p[41] << 8 |
		  (uint32_t)b.p[42] << 16);
	/* wrong offset for block 1 */
	cr_assert_eq(resume(&p, &io, f, &b, 1, second + 1), OTAP_E_RESUME);
	cr_assert_eq(p.err_offset, second);
	/* past the last block */
	cr_assert_eq(resume(&p, &io, f, &b, 4, 0), OTAP_E_RESUME);
	/* resume at the very end: nothing left to do, offset checked */
	f->writes = 0;
	cr_assert_eq(resume(&p, &io, f, &b, 3, b.len), OTAP_OK);
	cr_assert_eq(f->writes, 0);
	cr_assert_eq(resume(&p, &io, f, &b, 3, b.len - 1), OTAP_E_RESUME);
	/* the right offset */
	f->next_write = FX_BLOCK;
	cr_assert_eq(resume(&p, &io, f, &b, 1, second), OTAP_OK);
	/* not after the first byte */
	otap_init(&p, &io);
	cr_assert_eq(otap_feed(&p, b.p, 1), OTAP_OK);
	cr_assert_eq(otap_resume(&p, 1, second), OTAP_E_RESUME);
	flash_free(f);
	free(b.p);
}

/* ---- RAM: sizeof and measured stack, as otatool-patch(5) states */

#define STACK_BYTES   (64u * 1024u)
#define STACK_PATTERN 0xa5
/* The stack otatool-patch(5) promises on x86-64, callbacks included. */
#define STACK_MAX 512u

static ucontext_t main_ctx, run_ctx;
static struct buf stack_patch;
static enum otap_status stack_status;
static struct flash *stack_flash;

/*
 * Callbacks as lean as a device's (a memcpy to or from flash, a running
 * checksum for the hash), so that the figure is the applier's own.
 */
struct lean {
	const uint8_t *base;
	uint8_t *target;
	uint32_t sum;
};

static int lean_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	memcpy(buf, ((struct lean *)ctx)->base + off, len);
	return 0;
}

static int lean_erase(void *ctx, uint64_t off, uint32_t len)
{
	memset(((struct lean *)ctx)->target + off, 0xff, len);
	return 0;
}

static int lean_write(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
	memcpy(((struct lean *)ctx)->target + off, data, len);
	return 0;
}

static int lean_hash(void *ctx, const uint8_t *data, size_t len)
{
	struct lean *l = ctx;

	while (len--)
		l->sum = l->sum * 31u + *data++;
	return 0;
}

static void stack_run(void)
{
	static struct otap p;
	static struct lean l;
	static const struct otap_io io = {
		&l, lean_read, lean_erase, lean_write, lean_hash, NULL, NULL,
	};

	l.base = fx_base;
	l.target = stack_flash->target;
	otap_init(&p, &io);
	stack_status = otap_feed(&p, stack_patch.p, stack_patch.len);
	if (stack_status == OTAP_OK)
		stack_status = otap_finish(&p);
}

static int man_says(const char *needle)
{
	FILE *fp = fopen(OTA_SOURCE_DIR "/man/otatool-patch.5", "r");
	char line[512];
	int found = 0;

	cr_assert_not_null(fp, "man/otatool-patch.5");
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

Test(otapatch, ram_as_documented)
{
	uint8_t *stack;
	volatile size_t used = 0;

	/* the reference configuration's state, as the man page says */
	cr_assert_eq(OTAP_MAX_DICT, 4096);
	cr_assert_eq(OTAP_MAX_LCLP, 0);
	cr_assert_eq(OTAP_WRITE_SIZE, 256);
	cr_assert_eq(OTAP_BASE_BUF, 64);
	cr_assert_eq(sizeof(struct otap), 10072);
	cr_assert(man_says("10,072 bytes on 32\\-bit ARM and on x86\\-64"));
	cr_assert(man_says("under 512 bytes"));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
	cr_skip_test("stack use is not representative under sanitizers");
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
	cr_skip_test("stack use is not representative under sanitizers");
#endif
#endif
	stack = malloc(STACK_BYTES);
	cr_assert_not_null(stack);
	memset(stack, STACK_PATTERN, STACK_BYTES);
	stack_patch = fx_patch();
	stack_flash = flash_new(fx_base, FX_BASE, FX_TARGET);
	/*
	 * Once on the normal stack first: the dynamic linker's lazy binding
	 * of memcpy and memset saves vector registers on the stack (kilobytes)
	 * at the first call, which a device does not have.
	 */
	stack_run();
	cr_assert_eq(stack_status, OTAP_OK);
	cr_assert_eq(getcontext(&run_ctx), 0);
	run_ctx.uc_stack.ss_sp = stack;
	run_ctx.uc_stack.ss_size = STACK_BYTES;
	run_ctx.uc_link = &main_ctx;
	makecontext(&run_ctx, stack_run, 0);
	cr_assert_eq(swapcontext(&main_ctx, &run_ctx), 0);
	cr_assert_eq(stack_status, OTAP_OK);
	cr_assert_eq(memcmp(stack_flash->target, fx_target, FX_TARGET), 0);
	/* the stack grows down: the deepest byte touched */
	for (size_t i = 0; i < STACK_BYTES; i++) {
		if (stack[i] != STACK_PATTERN) {
			used = STACK_BYTES - i;
			break;
		}
	}
	cr_log_info("stack: %zu bytes for a whole application", (size_t)used);
	cr_assert_gt(used, 0);
	cr_assert_lt(used, STACK_MAX, "stack %zu bytes", (size_t)used);
	flash_free(stack_flash);
	free(stack_patch.p);
	free(stack);
}
