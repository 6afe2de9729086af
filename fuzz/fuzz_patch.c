/*
 * libFuzzer target for the device-side patch applier (src/device/otapatch.c,
 * otatool-patch(5)). The first input byte chooses how the rest, the patch,
 * is cut into chunks; the applier runs on the whole patch and on the chunks
 * against a fixed base (fuzz_patch_base(), 8 KiB of code-like bytes) and
 * must give the same answer both ways: status, error offset and the target
 * bytes. Every callback checks the applier's promises: reads inside the
 * declared base, erases once per block before its writes, writes in order,
 * aligned and never past the declared target, the hash seeing exactly the
 * bytes written; an accepted patch wrote exactly target_size bytes. When a
 * patch with several blocks is accepted, it is applied once more resumed
 * at its last block, which must rebuild the same bytes there. The header
 * callback refuses a base size other than the fixed base's and targets over
 * 256 KiB, as a device refuses a patch for another image.
 * tests/unit/test_delta.c includes this file (FUZZ_PATCH_NO_MAIN) to write
 * and check the seeds in fuzz/corpus/patch against this same base.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/device \
 *     src/device/otapatch.c fuzz/fuzz_patch.c -o /tmp/fuzz_patch
 *   /tmp/fuzz_patch fuzz/corpus/patch
 */
#include "otapatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BASE_SIZE  8192u
#define FUZZ_TARGET_MAX (256u << 10)
#define FUZZ_BLOCKS_MAX 64u

/* The fixed base: Thumb-like 16-bit words from a small vocabulary. */
static void fuzz_patch_base(uint8_t *out)
{
	static const uint16_t ops[] = { 0xb580, 0x4770, 0x2000, 0x6800,
					0xf7ff, 0xbd80, 0x4618, 0x2101 };
	uint32_t x = 0x1234567u;
	unsigned i;

	for (i = 0; i < FUZZ_BASE_SIZE; i += 2) {
		uint16_t w;

		x = x * 1103515245u + 12345u;
		w = (x >> 28) < 12 ? ops[(x >> 16) % 8] : (uint16_t)(x >> 8);
		out[i] = (uint8_t)w;
		out[i + 1] = (uint8_t)(w >> 8);
	}
}

#ifndef FUZZ_PATCH_NO_MAIN

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	uint64_t base_size, target_size;
	uint32_t block_size;
	uint8_t *target;      /* FUZZ_TARGET_MAX bytes */
	uint64_t next_write;  /* the next target byte to be written */
	uint64_t erased_upto; /* end of the last erased block */
	uint64_t hashed;      /* the next target byte to be hashed */
	uint32_t blocks_done, last_index;
	uint64_t last_next, prev_next; /* block_done's last two offsets */
	uint32_t resume_block;
	int header_seen;
};

static uint8_t base_bytes[FUZZ_BASE_SIZE];
static uint8_t target_a[FUZZ_TARGET_MAX], target_b[FUZZ_TARGET_MAX];
static uint8_t hash_buf[FUZZ_TARGET_MAX]; /* by target offset */

static int f_header(void *ctx, const struct otap_header *h)
{
	struct run *r = ctx;

	if (r->header_seen)
		abort();
	r->header_seen = 1;
	if (h->base_size != FUZZ_BASE_SIZE || h->target_size > FUZZ_TARGET_MAX)
		return 1;
	r->base_size = h->base_size;
	r->target_size = h->target_size;
	r->block_size = h->block_size;
	/* a resume starts writing and hashing at its block */
	r->next_write = r->hashed = (uint64_t)r->resume_block * h->block_size;
	return 0;
}

static int f_read(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	struct run *r = ctx;

	if (!r->base_size || len == 0 || len > OTAP_BASE_BUF ||
	    off >= r->base_size || len > r->base_size - off)
		abort();
	memcpy(buf, base_bytes + off, len);
	return 0;
}

static int f_erase(void *ctx, uint64_t off, uint32_t len)
{
	struct run *r = ctx;
	uint64_t want;

	/* once per block, in order, before its writes */
	if (!r->target_size || off != r->next_write ||
	    off % r->block_size != 0 || off >= r->target_size)
		abort();
	want = r->target_size - off < r->block_size ? r->target_size - off
						    : r->block_size;
	if (len != want)
		abort();
	memset(r->target + off, 0xff, len);
	r->erased_upto = off + len;
	return 0;
}

static int f_hash(void *ctx, const uint8_t *data, size_t len)
{
	struct run *r = ctx;

	/* just before the same bytes are written */
	if (r->hashed != r->next_write || len > r->target_size - r->hashed)
		abort();
	memcpy(hash_buf + r->hashed, data, len);
	r->hashed += len;
	return 0;
}

static int f_write(void *ctx, uint64_t off, const uint8_t *data, size_t len)
{
	struct run *r = ctx;

	if (off != r->next_write || len == 0 || off >= r->target_size ||
	    len > r->target_size - off || off + len > r->erased_upto ||
	    off % OTAP_WRITE_SIZE != 0 ||
	    (len != OTAP_WRITE_SIZE && off + len != r->target_size))
		abort();
	if (r->hashed != off + len || memcmp(hash_buf + off, data, len) != 0)
		abort();
	memcpy(r->target + off, data, len);
	r->next_write = off + len;
	return 0;
}

static int f_block_done(void *ctx, uint32_t index, uint64_t next)
{
	struct run *r = ctx;

	if (index != r->blocks_done ||
	    r->next_write != (r->target_size - (uint64_t)index * r->block_size <
				      r->block_size
				  ? r->target_size
				  : ((uint64_t)index + 1) * r->block_size))
		abort();
	r->blocks_done++;
	r->last_index = index;
	r->prev_next = r->last_next;
	r->last_next = next;
	return 0;
}

/*
 * One application; the patch in chunks of the sizes the selector byte
 * gives (0: whole). From block resume_at (> 0) on, if asked.
 */
static enum otap_status run(struct otap *p, struct run *r, uint8_t *target,
			    const uint8_t *patch, size_t len, uint8_t sel,
			    uint32_t resume_at, uint64_t resume_off)
{
	const struct otap_io io = { r,      f_read,   f_erase,     f_write,
				    f_hash, f_header, f_block_done };
	enum otap_status st = OTAP_OK;
	size_t i = 0, n = 1;

	memset(r, 0, sizeof(*r));
	r->target = target;
	otap_init(p, &io);
	if (resume_at) {
		st = otap_resume(p, resume_at, resume_off);
		if (st != OTAP_OK)
			abort();
		r->blocks_done = resume_at;
		r->resume_block = resume_at;
	}
	while (i < len && st == OTAP_OK) {
		if (sel == 0) {
			n = len;
		} else {
			/* 1..16 bytes, or up to 4 KiB, from the selector */
			n = (sel & 0x80u) ? ((size_t)sel << 5)
					  : (sel & 15u) + 1u;
			sel = (uint8_t)(sel * 37u + 11u);
		}
		if (n > len - i)
			n = len - i;
		st = otap_feed(p, patch + i, n);
		i += n;
	}
	if (st == OTAP_OK)
		st = otap_finish(p);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct otap pa, pb;
	static int init;
	struct run ra, rb;
	enum otap_status sa, sb;

	if (!init) {
		fuzz_patch_base(base_bytes);
		init = 1;
	}
	if (size < 1)
		return 0;
	sa = run(&pa, &ra, target_a, data + 1, size - 1, 0, 0, 0);
	sb = run(&pb, &rb, target_b, data + 1, size - 1, data[0], 0, 0);
	if (sa != sb || pa.err_offset != pb.err_offset ||
	    ra.next_write != rb.next_write ||
	    memcmp(target_a, target_b, (size_t)ra.next_write) != 0)
		abort();
	if (sa != OTAP_OK) {
		if (pa.err_what == NULL || pa.err_offset > size - 1)
			abort();
		return 0;
	}
	if (ra.next_write != ra.target_size || ra.hashed != ra.target_size ||
	    ra.blocks_done != pa.hdr.blocks)
		abort();
	if (ra.blocks_done > 1) {
		/* resumed at the last block: the same bytes there */
		uint32_t last = ra.last_index;
		uint64_t at = (uint64_t)last * ra.block_size;

		memset(target_b, 0, sizeof(target_b));
		sb = run(&pb, &rb, target_b, data + 1, size - 1, data[0], last,
			 ra.prev_next);
		if (sb != OTAP_OK || rb.hashed != ra.target_size ||
		    memcmp(target_a + at, target_b + at,
			   (size_t)(ra.target_size - at)) != 0)
			abort();
	}
	return 0;
}
#endif
