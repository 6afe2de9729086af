/*
 * Intel HEX (record types 00 data, 01 end of file, 02 extended segment
 * address, 03 start segment address, 04 extended linear address, 05 start
 * linear address): a streaming reader that checks every record and names
 * the line of the first fault, a converter into a flat binary with its
 * load address, and a streaming writer.
 */
#ifndef OTATOOL_IHEX_H
#define OTATOOL_IHEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest record: ':', 255 data bytes and 5 bytes around them. */
#define OTA_IHEX_LINE_MAX (1 + 2 * (255 + 5))
/* A converted image spans at most this many bytes (MCUboot slots are
 * far smaller; a stray record at 0xfffffff0 must not make a 4 GiB file). */
#define OTA_IHEX_MAX_SPAN (256u << 20)
/* Separate runs of data a converted file may have. */
#define OTA_IHEX_MAX_RUNS 1024

/*
 * True when head, the first len bytes of a file, starts with one complete,
 * well-formed record (checksum included): detection by content, so that
 * a .bin that is really HEX text is not signed as text, and a binary that
 * happens to begin with ':' is not taken for HEX.
 */
bool ota_ihex_detect(const uint8_t *head, size_t len);

/*
 * Whether the file path starts as ota_ihex_detect() says HEX does (an
 * unreadable file is the error of ota_file_open_regular()).
 */
int ota_ihex_sniff(bool *is_hex, const char *path);

/* One data record at its 32-bit address; non-zero stops the parse. */
typedef int (*ota_ihex_data_fn)(void *ctx, uint32_t addr, const uint8_t *data,
				size_t len, unsigned long line);

struct ota_ihex_parser {
	const char *what; /* names the input in messages */
	ota_ihex_data_fn data;
	void *ctx;
	unsigned long line; /* 1-based, of the line being read */
	uint32_t upper;     /* from records 02/04 */
	bool upper_is_segment;
	bool eof;       /* record 01 seen */
	bool has_start; /* record 03 or 05 seen */
	uint32_t start; /* 05: EIP; 03: CS << 16 | IP */
	size_t len;     /* bytes in buf */
	bool overlong;
	char buf[OTA_IHEX_LINE_MAX + 1];
};

void ota_ihex_parser_init(struct ota_ihex_parser *p, const char *what,
			  ota_ihex_data_fn data, void *ctx);

/*
 * Feeds the next len bytes of text. A fault is OTA_EINPUT "WHAT: line N:
 * ..." (bad character, odd length, count that disagrees with the line,
 * checksum, unknown type, a data record that runs past 4 GiB, anything
 * but blank lines after the end-of-file record).
 */
int ota_ihex_parser_feed(struct ota_ihex_parser *p, const void *text,
			 size_t len);

/* The end of the text: a last line without newline, no EOF record. */
int ota_ihex_parser_finish(struct ota_ihex_parser *p);

/* What ota_ihex_to_binary() found. */
struct ota_ihex_image {
	uint32_t base;  /* lowest address with data */
	uint64_t size;  /* highest address + 1 - base */
	size_t n_runs;  /* contiguous runs; gaps between are 0xff */
	bool has_start; /* a start address record */
	uint32_t start;
};

/*
 * Converts the HEX file path into an anonymous temporary file (*fd, open
 * for reading at offset 0, gone when closed): its bytes from the lowest
 * to the highest address, gaps filled with 0xff (as objcopy -O binary
 * --gap-fill 0xff and Python's intelhex do). Overlapping records, a file
 * without data, a span over OTA_IHEX_MAX_SPAN and more than
 * OTA_IHEX_MAX_RUNS runs are OTA_EINPUT naming the line.
 */
int ota_ihex_to_binary(int *fd, struct ota_ihex_image *img, const char *path);

/* Writes text; returns 0 or a negative OTA_E* code. */
typedef int (*ota_ihex_write_fn)(void *ctx, const void *text, size_t len);

/*
 * Writes data records of up to 16 bytes, a record 04 before the first
 * record of each 64 KiB segment above the first, and "\n" line ends, in
 * the layout Python's intelhex writes (so imgtool's and otatool's HEX
 * output compare byte for byte).
 */
struct ota_ihex_writer {
	ota_ihex_write_fn write;
	void *ctx;
	uint32_t upper; /* the segment of the last 04 record */
	uint64_t next;  /* address after the last byte put */
	uint32_t rec_addr;
	uint8_t rec[16];
	size_t rec_len;
};

void ota_ihex_writer_init(struct ota_ihex_writer *w, ota_ihex_write_fn write,
			  void *ctx);

/* Data at addr, which is not below the end of the data put before. */
int ota_ihex_writer_put(struct ota_ihex_writer *w, uint64_t addr,
			const void *data, size_t len);

/* The last record and the end-of-file record. */
int ota_ihex_writer_finish(struct ota_ihex_writer *w);

#ifdef __cplusplus
}
#endif
#endif
