/*
 * The otatool patch encoding, version 1, and its reference device-side
 * applier: C99, no malloc, no recursion, a fixed state (sizeof(struct
 * otap)), streaming: it is fed the patch in chunks of any size (as the
 * verifier's image_data events deliver it), reads the base image through
 * a callback at the offsets the patch names, and writes the target image
 * strictly front to back through another. All integers little-endian.
 * The byte-by-byte specification is otatool-patch(5).
 *
 *   [header 40 B][block 0][block 1]...[block N-1]
 *   block i: u32 L, then L bytes of raw LZMA (one stream per block) that
 *            decode to the records building target bytes
 *            [i * block_size, min((i + 1) * block_size, target_size))
 */
#ifndef OTAPATCH_H
#define OTAPATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTAP_MAGIC0      'O'
#define OTAP_MAGIC1      'T'
#define OTAP_MAGIC2      'D'
#define OTAP_MAGIC3      'L'
#define OTAP_VERSION     1
#define OTAP_HEADER_SIZE 40

/*
 * Header, offsets in bytes:
 *   0  u8[4] magic "OTDL"
 *   4  u16   encoding version (1)
 *   6  u16   header size (40)
 *   8  u8    coder (OTAP_CODER_LZMA)
 *   9  u8    lc: literal context bits (0..8)
 *  10  u8    lp: literal position bits (0..4)
 *  11  u8    pb: position bits (0..4)
 *  12  u32   dict_size: the coder's window, a power of two 4096..2^24
 *  16  u32   block_size: target bytes per block, a power of two
 *            4096..2^24 (a multiple of any flash sector up to 4 KiB)
 *  20  u32   block count: ceil(target_size / block_size)
 *  24  u64   base size: the base image's bytes (reads stay below)
 *  32  u64   target size: the target image's bytes (writes stay below)
 * Then block count blocks: u32 L (5..OTAP_MAX_PACKED), L bytes.
 */
#define OTAP_OFF_VERSION     4
#define OTAP_OFF_HEADER_SIZE 6
#define OTAP_OFF_CODER       8
#define OTAP_OFF_LC          9
#define OTAP_OFF_LP          10
#define OTAP_OFF_PB          11
#define OTAP_OFF_DICT        12
#define OTAP_OFF_BLOCK_SIZE  16
#define OTAP_OFF_BLOCKS      20
#define OTAP_OFF_BASE_SIZE   24
#define OTAP_OFF_TARGET_SIZE 32

#define OTAP_CODER_LZMA 1

#define OTAP_MIN_DICT       4096u
#define OTAP_MAX_DICT_FMT   (1u << 24)
#define OTAP_MIN_BLOCK      4096u
#define OTAP_MAX_BLOCK      (1u << 24)
#define OTAP_BLOCK_LEN_SIZE 4
#define OTAP_MIN_PACKED     5u /* the range coder's first five bytes */
/*
 * A block's packed length is at most OTAP_MAX_PACKED(block_size): a block
 * that does not compress is still only slightly larger than its target.
 */
#define OTAP_MAX_PACKED(bs) ((uint32_t)(bs) + (uint32_t)(bs) / 2u + 1024u)

/*
 * What this build of the applier can decode; a patch that needs more is
 * refused (OTAP_E_LIMITS) before anything is written. The window is the
 * LZMA dictionary; the probability table holds 1846 + 0x300 << (lc + lp)
 * 16-bit counters. A device may lower or raise both (powers of two for the
 * window), and must agree with the encoder's settings (otatool-patch(5)).
 */
#ifndef OTAP_MAX_DICT
#define OTAP_MAX_DICT 4096u
#endif
#ifndef OTAP_MAX_LCLP
#define OTAP_MAX_LCLP 0u
#endif
/*
 * Target bytes are buffered and written in pieces of OTAP_WRITE_SIZE (a
 * power of two, at most 4096, so it divides every block): every write is
 * exactly that long and at a multiple of it, except the last one of the
 * target, which is shorter when the target size is not a multiple.
 */
#ifndef OTAP_WRITE_SIZE
#define OTAP_WRITE_SIZE 256u
#endif
/* Base bytes are read in pieces of at most this many. */
#ifndef OTAP_BASE_BUF
#define OTAP_BASE_BUF 64u
#endif

#define OTAP_LZMA_PROBS(lclp) (1846u + (0x300u << (lclp)))
/* Input bytes one LZMA symbol can consume at most (48), with room. */
#define OTAP_IN_NEED 64u

enum otap_status {
	OTAP_OK = 0,
	OTAP_E_TRUNCATED, /* otap_finish() before the last block ended */
	OTAP_E_TRAILING,  /* bytes after the last block */
	OTAP_E_MAGIC,
	OTAP_E_VERSION, /* unknown encoding version or coder */
	OTAP_E_HEADER,  /* a header field out of range or inconsistent */
	OTAP_E_LIMITS,  /* needs a larger window or lc + lp than built in */
	OTAP_E_BLOCK,   /* a block length out of range, or not its end */
	OTAP_E_DATA,    /* the LZMA data of a block is corrupt */
	OTAP_E_RECORD,  /* a record reaches outside the base or the block */
	OTAP_E_RESUME,  /* the resume point does not fit this patch */
	OTAP_E_IO,      /* a read, erase, write or hash callback failed */
	OTAP_E_ABORTED, /* the header or block_done callback said stop */
};

/* The header, parsed. */
struct otap_header {
	uint16_t version;
	uint8_t coder, lc, lp, pb;
	uint32_t dict_size, block_size, blocks;
	uint64_t base_size, target_size;
};

/*
 * The device's side. Every callback returns 0, or non-zero to fail
 * (OTAP_E_IO, or OTAP_E_ABORTED for header and block_done); hash, header
 * and block_done may be NULL.
 */
struct otap_io {
	void *ctx;
	/* Reads base bytes [off, off + len); never outside base_size. */
	int (*read_base)(void *ctx, uint64_t off, uint8_t *buf, size_t len);
	/*
	 * Erases target bytes [off, off + len) before the first write into
	 * them: once per block, off = index * block_size, len = that block's
	 * target bytes (block_size, or less for the last block).
	 */
	int (*erase)(void *ctx, uint64_t off, uint32_t len);
	/* Writes target bytes at off, in order, never past target_size. */
	int (*write)(void *ctx, uint64_t off, const uint8_t *data, size_t len);
	/* Every target byte written, in order, just before it is written. */
	int (*hash)(void *ctx, const uint8_t *data, size_t len);
	/*
	 * After the header was checked and before anything is read, erased
	 * or written: check base_size against the installed image and its
	 * digest against the signed one here.
	 */
	int (*header)(void *ctx, const struct otap_header *h);
	/*
	 * Block index is written and complete; the next block starts at
	 * patch offset next. A device records (index + 1, next) to resume
	 * after a power cut (otap_resume()).
	 */
	int (*block_done)(void *ctx, uint32_t index, uint64_t next);
};

/* The applier's whole state: no heap, sizeof() is its memory use. */
struct otap {
	const struct otap_io *io;
	struct otap_header hdr;
	enum otap_status status;
	uint64_t offset;     /* patch bytes consumed so far */
	uint64_t err_offset; /* patch offset of the error */
	const char *err_what;
	int state;
	/* resume point: blocks before it are skipped, not decoded */
	uint32_t resume_block;
	uint64_t resume_offset;
	/* the block being decoded */
	uint32_t block;
	uint32_t packed_left; /* packed bytes of the block still to come */
	uint64_t block_start; /* patch offset of its length field */
	uint64_t target_pos;  /* next target byte's offset */
	uint64_t block_end;   /* target offset where the block ends */
	/* records */
	int rec_state;
	unsigned var_shift;
	uint64_t var;
	int64_t seek;
	uint64_t diff_left, extra_left;
	uint64_t base_pos;
	/* buffers */
	uint32_t have; /* bytes held in buf (header, length field) */
	uint8_t buf[OTAP_HEADER_SIZE];
	uint32_t in_pos, in_len; /* packed bytes held in in[] */
	uint8_t in[2u * OTAP_IN_NEED];
	uint64_t cache_off; /* base bytes held in cache[] */
	uint32_t cache_len;
	uint8_t cache[OTAP_BASE_BUF];
	uint32_t wlen; /* target bytes held in wbuf[] */
	uint8_t wbuf[OTAP_WRITE_SIZE];
	/* LZMA decoder */
	uint32_t range, code;
	uint32_t rep[4];
	unsigned lz_state;
	int lz_init;       /* the range coder's first bytes were read */
	int lz_end;        /* the end marker was decoded */
	uint32_t lz_pos;   /* bytes decoded in this block (mod 2^32) */
	uint32_t lz_total; /* same, saturating: for distance checks */
	uint32_t win_pos;
	uint8_t win[OTAP_MAX_DICT];
	uint16_t probs[OTAP_LZMA_PROBS(OTAP_MAX_LCLP)];
};

void otap_init(struct otap *p, const struct otap_io *io);

/*
 * Before the first otap_feed(): resume at block index, whose length field
 * is at patch offset (from block_done). The caller still feeds the whole
 * patch from byte 0: the header is checked again, the blocks before are
 * skipped without a read, erase or write, and the hash callback sees only
 * target bytes from index * block_size on (hash the earlier ones from the
 * target slot first). OTAP_E_RESUME at the header or at that offset if
 * the point does not fit the patch.
 */
enum otap_status otap_resume(struct otap *p, uint32_t index, uint64_t offset);

/*
 * Feeds the next patch bytes. Returns OTAP_OK or the first error (sticky:
 * later calls return it again); err_offset and err_what say where and why.
 */
enum otap_status otap_feed(struct otap *p, const uint8_t *data, size_t len);

/* After the last byte: OTAP_E_TRUNCATED unless the last block ended. */
enum otap_status otap_finish(struct otap *p);

/* Short stable description of a status ("truncated", "data", ...). */
const char *otap_status_name(enum otap_status s);

#ifdef __cplusplus
}
#endif
#endif
