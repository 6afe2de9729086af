/*
 * Unit tests for src/lib/ihex.c: every record type, every fault named by
 * its line, chunked input, the conversion with gaps and overlaps, and the
 * writer against the text Python's intelhex 2.3 writes for the same data
 * (taken from a run of it, written out below).
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "otatool/error.h"
#include "otatool/ihex.h"
#include "tmpdir.h"

/* What the data callback saw: up to 8 records, bytes concatenated. */
struct seen {
	size_t n;
	uint32_t addr[8];
	size_t len[8];
	uint8_t bytes[256];
	size_t total;
};

static int collect(void *ctx, uint32_t addr, const uint8_t *data, size_t len,
		   unsigned long line)
{
	struct seen *s = ctx;

	(void)line;
	cr_assert_lt(s->n, 8);
	cr_assert_leq(s->total + len, sizeof(s->bytes));
	s->addr[s->n] = addr;
	s->len[s->n++] = len;
	memcpy(s->bytes + s->total, data, len);
	s->total += len;
	return 0;
}

/* Parses text in chunks of chunk bytes; returns the code. */
static int parse(struct seen *s, const char *text, size_t chunk,
		 struct ota_ihex_parser *out)
{
	struct ota_ihex_parser p;
	size_t len = strlen(text);
	int rc = 0;

	memset(s, 0, sizeof(*s));
	ota_ihex_parser_init(&p, "t.hex", collect, s);
	for (size_t off = 0; off < len && rc == 0; off += chunk)
		rc = ota_ihex_parser_feed(
		    &p, text + off, len - off < chunk ? len - off : chunk);
	if (rc == 0)
		rc = ota_ihex_parser_finish(&p);
	if (out)
		*out = p;
	return rc;
}

/* Parsing must fail with OTA_EINPUT and a message holding want. */
static void refused(const char *text, const char *want)
{
	struct seen s;

	cr_assert_eq(parse(&s, text, 4096, NULL), OTA_EINPUT, "accepted: %s",
		     text);
	cr_assert(strstr(ota_error_message(), want), "message '%s' lacks '%s'",
		  ota_error_message(), want);
}

static const char records[] =
    ":020000040800F2\n"     /* upper 0x0800 */
    ":0400100001020304E2\n" /* 4 bytes at 0x08000010 */
    ":020000021000EC\r\n"   /* segment 0x1000: base 0x10000 */
    ":02000800aabb91\n"     /* lower case, at 0x10008 */
    ":0400000508000131BD\n" /* start linear 0x08000131 */
    "\n"                    /* blank line */
    ":00000001FF\n";

Test(ihex, every_record_type)
{
	struct ota_ihex_parser p;
	struct seen s;

	cr_assert_eq(parse(&s, records, 4096, &p), 0, "%s",
		     ota_error_message());
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.addr[0], 0x08000010u);
	cr_assert_eq(s.len[0], 4);
	cr_assert_eq(s.addr[1], 0x10008u);
	cr_assert_eq(s.len[1], 2);
	cr_assert_eq(memcmp(s.bytes, "\x01\x02\x03\x04\xaa\xbb", 6), 0);
	cr_assert(p.has_start);
	cr_assert_eq(p.start, 0x08000131u);
	cr_assert(p.eof);
}

Test(ihex, chunked_input_is_the_same)
{
	struct seen whole, bytewise;

	cr_assert_eq(parse(&whole, records, 4096, NULL), 0);
	for (size_t chunk = 1; chunk < 20; chunk++) {
		cr_assert_eq(parse(&bytewise, records, chunk, NULL), 0);
		cr_assert_eq(bytewise.total, whole.total);
		cr_assert_eq(
		    memcmp(bytewise.addr, whole.addr, sizeof(whole.addr)), 0);
	}
}

Test(ihex, last_line_without_newline)
{
	struct seen s;

	cr_assert_eq(parse(&s, ":0100000041BE\n:00000001FF", 4096, NULL), 0);
	cr_assert_eq(s.total, 1);
}

Test(ihex, faults_name_the_line)
{
	refused(":0100000041BE\n:0100010042BC\n:00000001FE\n",
		"line 3: checksum 0xfe wrong (0xff expected)");
	refused(":0100000041BE\n0100000041BE\n", "line 2: a record starts");
	refused(":01000000G1BE\n", "line 1: column 10: not a hex digit");
	refused(":0100000041B\n", "line 1: odd number");
	refused(":0200000041BD\n", "line 1: byte count 2, but the line holds "
				   "1 data bytes");
	refused(":0000\n", "shorter than its 5 fixed bytes");
	refused(":00000006FA\n", "line 1: record type 0x06");
	refused(":00000001FF\n:0100000041BE\n",
		"line 2: text after the end-of-file record");
	refused(":0100000041BE\n", "no end-of-file record");
	refused(":020000040000FA\n:00000001FF\nx\n", "line 3:");
	refused(":03000004000000F9\n", "address record needs 2 bytes");
	refused(":020000040000FA\n:0100000141BD\n:00000001FF\n",
		"end-of-file record with data");
	/* 0xffff0000 + 0xffff + 2 bytes runs past 4 GiB. */
	refused(":02000004FFFFFC\n:02FFFF0041427D\n:00000001FF\n",
		"line 2: data runs past the 4 GiB");
}

Test(ihex, nul_byte)
{
	struct ota_ihex_parser p;

	ota_ihex_parser_init(&p, "t.hex", NULL, NULL);
	cr_assert_eq(ota_ihex_parser_feed(&p, ":0100\0", 6), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "t.hex: line 1: NUL byte"));
}

Test(ihex, overlong_line)
{
	char text[700];

	text[0] = ':';
	memset(text + 1, '0', 600);
	strcpy(text + 601, "\n:00000001FF\n");
	refused(text, "line 1: line longer than the longest record");
}

Test(ihex, detect_by_content)
{
	static const char hex[] = ":0100000041BE\r\n";
	static const uint8_t binary[] = { ':', 0x12, 0x34, 0x00, '\n' };

	cr_assert(ota_ihex_detect((const uint8_t *)hex, strlen(hex)));
	/* The first line must be whole and a valid record. */
	cr_assert_not(ota_ihex_detect((const uint8_t *)hex, 8));
	cr_assert_not(ota_ihex_detect(binary, sizeof(binary)));
	cr_assert_not(ota_ihex_detect((const uint8_t *)":0100000041BF\n", 14));
	cr_assert_not(ota_ihex_detect((const uint8_t *)"", 0));
	cr_assert_eq(ota_error_code(), 0, "detection leaves no error");
}

static char dir[4096];

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "ihex");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

static void write_text(char *path, size_t size, const char *name,
		       const char *text)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* Out of order, with a 3-byte gap: 0x08000000..0x0800000a. */
Test(ihex, to_binary_fills_gaps, .init = setup, .fini = teardown)
{
	static const uint8_t want[] = { 'A',  'B', 'C', 'D', 0xff, 0xff,
					0xff, 'E', 'F', 'G', 'H' };
	struct ota_ihex_image img;
	uint8_t got[32];
	char path[4200];
	int fd;

	write_text(path, sizeof(path), "a.hex",
		   ":020000040800F2\n"
		   ":0400070045464748DB\n"
		   ":0400000041424344F2\n"
		   ":00000001FF\n");
	cr_assert_eq(ota_ihex_to_binary(&fd, &img, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(img.base, 0x08000000u);
	cr_assert_eq(img.size, sizeof(want));
	cr_assert_eq(img.n_runs, 2);
	cr_assert_eq(read(fd, got, sizeof(got)), (ssize_t)sizeof(want));
	cr_assert_eq(memcmp(got, want, sizeof(want)), 0);
	close(fd);
}

Test(ihex, to_binary_refusals, .init = setup, .fini = teardown)
{
	struct ota_ihex_image img;
	char path[4200];
	int fd;

	write_text(path, sizeof(path), "overlap.hex",
		   ":0400000041424344F2\n"
		   ":0100030045B7\n"
		   ":00000001FF\n");
	cr_assert_eq(ota_ihex_to_binary(&fd, &img, path), OTA_EINPUT);
	cr_assert(
	    strstr(ota_error_message(), "line 2: data at 0x00000003 overlaps"),
	    "%s", ota_error_message());
	cr_assert_eq(fd, -1);

	write_text(path, sizeof(path), "empty.hex", ":00000001FF\n");
	cr_assert_eq(ota_ihex_to_binary(&fd, &img, path), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "without data"));

	/* 0 and 0x10000000: 256 MiB + 1 byte. */
	write_text(path, sizeof(path), "span.hex",
		   ":0100000041BE\n"
		   ":020000041000EA\n"
		   ":0100000041BE\n"
		   ":00000001FF\n");
	cr_assert_eq(ota_ihex_to_binary(&fd, &img, path), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "line 3:") &&
		      strstr(ota_error_message(), "spans more than 256 MiB"),
		  "%s", ota_error_message());
}

struct text {
	char buf[1024];
	size_t len;
};

static int append(void *ctx, const void *text, size_t len)
{
	struct text *t = ctx;

	cr_assert_leq(t->len + len, sizeof(t->buf) - 1);
	memcpy(t->buf + t->len, text, len);
	t->len += len;
	t->buf[t->len] = 0;
	return 0;
}

/*
 * Python's intelhex 2.3 for frombytes(bytes(range(40)), 0x0800fff8) and
 * puts(0x0801fffc, b"abcd"), write_hex_file(): records of 16 bytes from
 * where the data starts, split at a gap and at 64 KiB, record 04 when the
 * segment changes.
 */
Test(ihex, writer_layout)
{
	static const char want[] =
	    ":020000040800F2\n"
	    ":08FFF8000001020304050607E5\n"
	    ":020000040801F1\n"
	    ":1000000008090A0B0C0D0E0F1011121314151617F8\n"
	    ":1000100018191A1B1C1D1E1F2021222324252627E8\n"
	    ":04FFFC006162636477\n"
	    ":00000001FF\n";
	struct ota_ihex_writer w;
	struct text t = { { 0 }, 0 };
	uint8_t data[40];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	ota_ihex_writer_init(&w, append, &t);
	cr_assert_eq(ota_ihex_writer_put(&w, 0x0800fff8, data, 20), 0);
	cr_assert_eq(ota_ihex_writer_put(&w, 0x0800fff8 + 20, data + 20, 20),
		     0);
	cr_assert_eq(ota_ihex_writer_put(&w, 0x0801fffc, "abcd", 4), 0);
	cr_assert_eq(ota_ihex_writer_finish(&w), 0);
	cr_assert_str_eq(t.buf, want);
	/* Going back is a programming error. */
	cr_assert_eq(ota_ihex_writer_put(&w, 0x08000000, "x", 1),
		     OTA_EINTERNAL);
}

Test(ihex, writer_low_addresses_have_no_04)
{
	struct ota_ihex_writer w;
	struct text t = { { 0 }, 0 };

	ota_ihex_writer_init(&w, append, &t);
	cr_assert_eq(ota_ihex_writer_put(&w, 5, "xyz", 3), 0);
	cr_assert_eq(ota_ihex_writer_finish(&w), 0);
	cr_assert_str_eq(t.buf, ":0300050078797A8D\n:00000001FF\n");
}

Test(ihex, writer_output_parses_back)
{
	struct ota_ihex_writer w;
	struct text t = { { 0 }, 0 };
	uint8_t data[100];
	struct seen s;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	ota_ihex_writer_init(&w, append, &t);
	cr_assert_eq(ota_ihex_writer_put(&w, 0x2000fffe, data, 4), 0);
	cr_assert_eq(ota_ihex_writer_finish(&w), 0);
	cr_assert_eq(parse(&s, t.buf, 4096, NULL), 0, "%s",
		     ota_error_message());
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.addr[0], 0x2000fffeu);
	cr_assert_eq(s.addr[1], 0x20010000u);
	cr_assert_eq(memcmp(s.bytes, data, 4), 0);
}
