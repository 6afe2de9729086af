/*
 * Intel HEX (the format: man/otatool-mcuboot.5, "INTEL HEX"): a line
 * parser fed in chunks, so a file is read through a fixed buffer; a
 * converter that writes the bytes into an unlinked temporary file in two
 * passes (bounds first, then data) with a bounded list of runs to refuse
 * overlaps; and a writer.
 */
#include "otatool/ihex.h"
#include "otatool/error.h"
#include "otatool/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC_DATA        0x00
#define REC_EOF         0x01
#define REC_EXT_SEGMENT 0x02
#define REC_START_SEG   0x03
#define REC_EXT_LINEAR  0x04
#define REC_START_LIN   0x05

#define READ_BUFSIZE (64u * 1024)

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes the n (even) hex digits after ':' into bytes; the first bad
 * character's column (1-based, ':' is 1) in *col, else 0.
 */
static size_t decode(uint8_t *out, const char *s, size_t n, size_t *col)
{
	*col = 0;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0) {
			*col = (hi < 0 ? i : i + 1) + 2;
			return 0;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return n / 2;
}

static int perr(const struct ota_ihex_parser *p, const char *msg)
{
	return ota_error(OTA_EINPUT, "%s: line %lu: %s", p->what, p->line, msg);
}

/* One line without its line end. */
static int parse_line(struct ota_ihex_parser *p, const char *s, size_t n)
{
	uint8_t rec[OTA_IHEX_LINE_MAX / 2];
	uint8_t sum = 0, count, type;
	uint16_t off;
	size_t col, nb;
	uint64_t addr;
	char msg[96];

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return 0;
	if (p->eof)
		return perr(p, "text after the end-of-file record");
	if (s[0] != ':')
		return perr(p, "a record starts with ':'");
	if ((n - 1) % 2)
		return perr(p, "odd number of hex digits");
	nb = decode(rec, s + 1, n - 1, &col);
	if (col) {
		snprintf(msg, sizeof(msg), "column %zu: not a hex digit", col);
		return perr(p, msg);
	}
	if (nb < 5)
		return perr(p, "record shorter than its 5 fixed bytes");
	count = rec[0];
	if (nb != (size_t)count + 5) {
		snprintf(msg, sizeof(msg),
			 "byte count %u, but the line holds %zu data bytes",
			 count, nb - 5);
		return perr(p, msg);
	}
	for (size_t i = 0; i < nb; i++)
		sum = (uint8_t)(sum + rec[i]);
	if (sum) {
		snprintf(msg, sizeof(msg),
			 "checksum 0x%02x wrong (0x%02x expected)", rec[nb - 1],
			 (uint8_t)(rec[nb - 1] - sum));
		return perr(p, msg);
	}
	off = (uint16_t)(rec[1] << 8 | rec[2]);
	type = rec[3];
	switch (type) {
	case REC_DATA:
		addr = p->upper_is_segment ? (uint64_t)p->upper + off
					   : ((uint64_t)p->upper | off);
		if (addr + count > (uint64_t)UINT32_MAX + 1)
			return perr(p,
				    "data runs past the 4 GiB address space");
		return count && p->data ? p->data(p->ctx, (uint32_t)addr,
						  rec + 4, count, p->line)
					: 0;
	case REC_EOF:
		if (count != 0 || off != 0)
			return perr(p, "end-of-file record with data");
		p->eof = true;
		return 0;
	case REC_EXT_SEGMENT:
	case REC_EXT_LINEAR:
		if (count != 2 || off != 0)
			return perr(p, "address record needs 2 bytes at offset "
				       "0");
		p->upper_is_segment = type == REC_EXT_SEGMENT;
		p->upper = type == REC_EXT_SEGMENT
			       ? (uint32_t)(rec[4] << 8 | rec[5]) << 4
			       : (uint32_t)(rec[4] << 8 | rec[5]) << 16;
		return 0;
	case REC_START_SEG:
	case REC_START_LIN:
		if (count != 4 || off != 0)
			return perr(p, "start address record needs 4 bytes at "
				       "offset 0");
		p->has_start = true;
		p->start = (uint32_t)rec[4] << 24 | (uint32_t)rec[5] << 16 |
			   (uint32_t)rec[6] << 8 | rec[7];
		return 0;
	default:
		snprintf(msg, sizeof(msg),
			 "record type 0x%02x (Intel HEX has 00 to 05)", type);
		return perr(p, msg);
	}
}

void ota_ihex_parser_init(struct ota_ihex_parser *p, const char *what,
			  ota_ihex_data_fn data, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->what = what ? what : "Intel HEX";
	p->data = data;
	p->ctx = ctx;
	p->line = 1;
}

/* The line in buf is complete (a newline or the end of the text). */
static int end_line(struct ota_ihex_parser *p)
{
	size_t n = p->len;
	int rc;

	if (p->overlong)
		return perr(p, "line longer than the longest record (521 "
			       "characters)");
	if (n && p->buf[n - 1] == '\r')
		n--;
	rc = parse_line(p, p->buf, n);
	p->len = 0;
	return rc;
}

int ota_ihex_parser_feed(struct ota_ihex_parser *p, const void *text,
			 size_t len)
{
	const char *s = text;
	int rc;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			if ((rc = end_line(p)))
				return rc;
			p->line++;
			continue;
		}
		if (s[i] == '\0')
			return perr(p, "NUL byte: not a text file");
		if (p->len < sizeof(p->buf) - 1)
			p->buf[p->len++] = s[i];
		else
			p->overlong = true;
	}
	return 0;
}

int ota_ihex_parser_finish(struct ota_ihex_parser *p)
{
	int rc;

	if (p->len && (rc = end_line(p)))
		return rc;
	if (!p->eof)
		return ota_error(OTA_EINPUT,
				 "%s: no end-of-file record (:00000001FF): "
				 "truncated?",
				 p->what);
	return 0;
}

bool ota_ihex_detect(const uint8_t *head, size_t len)
{
	struct ota_ihex_parser p;
	size_t n = 0;

	if (len == 0 || head[0] != ':')
		return false;
	while (n < len && head[n] != '\n' && head[n] != '\r')
		n++;
	if (n == len)
		return false; /* no complete first line */
	ota_ihex_parser_init(&p, NULL, NULL, NULL);
	if (parse_line(&p, (const char *)head, n)) {
		ota_error_clear();
		return false;
	}
	return true;
}

int ota_ihex_sniff(bool *is_hex, const char *path)
{
	char head[OTA_IHEX_LINE_MAX + 2];
	uint64_t size;
	ssize_t n;
	int fd, rc;

	*is_hex = false;
	if ((rc = ota_file_open_regular(&fd, &size, path)))
		return rc;
	do
		n = pread(fd, head, sizeof(head), 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return ota_error(OTA_EINPUT, "%s: read error: %s", path,
				 strerror(errno));
	*is_hex = ota_ihex_detect((const uint8_t *)head, (size_t)n);
	return 0;
}

/* ---- into a binary ---------------------------------------------------- */

struct run {
	uint32_t start;
	uint64_t end;
};

struct convert {
	const char *path;
	struct run *runs;
	size_t n_runs;
	uint64_t lo, hi; /* pass 1 */
	int fd;          /* pass 2: the temporary file */
	uint32_t base;
};

/* Pass 1: the sorted, merged runs; an overlap is refused at its line. */
static int add_run(void *ctx, uint32_t addr, const uint8_t *data, size_t len,
		   unsigned long line)
{
	struct convert *c = ctx;
	uint64_t end = (uint64_t)addr + len;
	size_t lo = 0, hi = c->n_runs, i;

	(void)data;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->runs[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo; /* runs[i - 1].start < addr <= runs[i].start */
	if ((i > 0 && c->runs[i - 1].end > addr) ||
	    (i < c->n_runs && c->runs[i].start < end))
		return ota_error(OTA_EINPUT,
				 "%s: line %lu: data at 0x%08" PRIx32
				 " overlaps data given before",
				 c->path, line, addr);
	if (i > 0 && c->runs[i - 1].end == addr) {
		c->runs[i - 1].end = end;
		if (i < c->n_runs && c->runs[i].start == end) {
			c->runs[i - 1].end = c->runs[i].end;
			memmove(c->runs + i, c->runs + i + 1,
				(c->n_runs - i - 1) * sizeof(*c->runs));
			c->n_runs--;
		}
	} else if (i < c->n_runs && c->runs[i].start == end) {
		c->runs[i].start = addr;
	} else {
		if (c->n_runs == OTA_IHEX_MAX_RUNS)
			return ota_error(OTA_EINPUT,
					 "%s: line %lu: more than %d separate "
					 "runs of data",
					 c->path, line, OTA_IHEX_MAX_RUNS);
		memmove(c->runs + i + 1, c->runs + i,
			(c->n_runs - i) * sizeof(*c->runs));
		c->runs[i].start = addr;
		c->runs[i].end = end;
		c->n_runs++;
	}
	if (c->runs[c->n_runs - 1].end - c->runs[0].start > OTA_IHEX_MAX_SPAN)
		return ota_error(OTA_EINPUT,
				 "%s: line %lu: data from 0x%08" PRIx32
				 " to 0x%08" PRIx64 " spans more than %u MiB",
				 c->path, line, c->runs[0].start,
				 c->runs[c->n_runs - 1].end - 1,
				 OTA_IHEX_MAX_SPAN >> 20);
	return 0;
}

static int put_data(void *ctx, uint32_t addr, const uint8_t *data, size_t len,
		    unsigned long line)
{
	const struct convert *c = ctx;
	size_t done = 0;

	(void)line;
	while (done < len) {
		ssize_t n = pwrite(c->fd, data + done, len - done,
				   (off_t)(addr - c->base) + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ota_error(OTA_EOUTPUT, "%s: temporary file: %s",
					 c->path, strerror(errno));
		done += (size_t)n;
	}
	return 0;
}

/* One pass over the file through the parser. */
static int parse_file(const char *path, ota_ihex_data_fn fn, void *ctx,
		      struct ota_ihex_parser *p, uint8_t *buf)
{
	uint64_t size;
	ssize_t n;
	int fd, rc;

	if ((rc = ota_file_open_regular(&fd, &size, path)))
		return rc;
	ota_ihex_parser_init(p, path, fn, ctx);
	for (;;) {
		n = read(fd, buf, READ_BUFSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s", path,
				       strerror(errno));
			break;
		}
		if (n == 0) {
			rc = ota_ihex_parser_finish(p);
			break;
		}
		if ((rc = ota_ihex_parser_feed(p, buf, (size_t)n)))
			break;
	}
	close(fd);
	return rc;
}

static int temp_file(int *fd, const char *path)
{
	const char *dir = getenv("TMPDIR");
	char name[4096];

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(name, sizeof(name), "%s/otatool-hex-XXXXXX",
			     dir) >= sizeof(name))
		return ota_error(OTA_EOUTPUT, "TMPDIR too long");
	*fd = mkstemp(name);
	if (*fd < 0)
		return ota_error(OTA_EOUTPUT,
				 "%s: cannot create a temporary file in %s: %s",
				 path, dir, strerror(errno));
	/* Unlinked at once: the bytes go when the descriptor is closed. */
	unlink(name);
	return 0;
}

/* The gaps between runs, and after pass 2 nothing else, are 0xff. */
static int fill_gaps(const struct convert *c, uint8_t *buf)
{
	memset(buf, 0xff, READ_BUFSIZE);
	for (size_t i = 0; i + 1 < c->n_runs; i++) {
		uint64_t off = c->runs[i].end - c->base;
		uint64_t end = c->runs[i + 1].start - c->base;

		while (off < end) {
			size_t want = end - off < READ_BUFSIZE
					  ? (size_t)(end - off)
					  : READ_BUFSIZE;
			ssize_t n = pwrite(c->fd, buf, want, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return ota_error(OTA_EOUTPUT,
						 "%s: temporary file: %s",
						 c->path, strerror(errno));
			off += (uint64_t)n;
		}
	}
	return 0;
}

int ota_ihex_to_binary(int *fd, struct ota_ihex_image *img, const char *path)
{
	struct convert c = { .path = path, .fd = -1 };
	struct ota_ihex_parser *p = malloc(sizeof(*p));
	uint8_t *buf = malloc(READ_BUFSIZE);
	int rc;

	*fd = -1;
	memset(img, 0, sizeof(*img));
	c.runs = malloc(OTA_IHEX_MAX_RUNS * sizeof(*c.runs));
	if (!p || !buf || !c.runs) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = parse_file(path, add_run, &c, p, buf)))
		goto out;
	if (c.n_runs == 0) {
		rc = ota_error(OTA_EINPUT, "%s: Intel HEX file without data",
			       path);
		goto out;
	}
	c.base = c.runs[0].start;
	img->base = c.base;
	img->size = c.runs[c.n_runs - 1].end - c.base;
	img->n_runs = c.n_runs;
	img->has_start = p->has_start;
	img->start = p->start;
	if ((rc = temp_file(&c.fd, path)) || (rc = fill_gaps(&c, buf)) ||
	    (rc = parse_file(path, put_data, &c, p, buf)))
		goto out;
	if (lseek(c.fd, 0, SEEK_SET) != 0) {
		rc = ota_error(OTA_EOUTPUT, "%s: temporary file: %s", path,
			       strerror(errno));
		goto out;
	}
	*fd = c.fd;
	c.fd = -1;
out:
	if (c.fd >= 0)
		close(c.fd);
	free(c.runs);
	free(buf);
	free(p);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

static const char hexdig[] = "0123456789ABCDEF";

static int write_record(struct ota_ihex_writer *w, uint8_t type, uint16_t off,
			const uint8_t *data, size_t n)
{
	char line[1 + 2 * (16 + 5) + 1];
	uint8_t sum,
	    head[4] = { (uint8_t)n, (uint8_t)(off >> 8), (uint8_t)off, type };
	size_t k = 0;

	line[k++] = ':';
	sum = 0;
	for (size_t i = 0; i < 4 + n; i++) {
		uint8_t b = i < 4 ? head[i] : data[i - 4];

		sum = (uint8_t)(sum + b);
		line[k++] = hexdig[b >> 4];
		line[k++] = hexdig[b & 15];
	}
	sum = (uint8_t)-sum;
	line[k++] = hexdig[sum >> 4];
	line[k++] = hexdig[sum & 15];
	line[k++] = '\n';
	return w->write(w->ctx, line, k);
}

void ota_ihex_writer_init(struct ota_ihex_writer *w, ota_ihex_write_fn write,
			  void *ctx)
{
	memset(w, 0, sizeof(*w));
	w->write = write;
	w->ctx = ctx;
}

static int flush(struct ota_ihex_writer *w)
{
	int rc;

	if (w->rec_len == 0)
		return 0;
	if ((w->rec_addr >> 16) != w->upper) {
		uint8_t seg[2] = { (uint8_t)(w->rec_addr >> 24),
				   (uint8_t)(w->rec_addr >> 16) };

		w->upper = w->rec_addr >> 16;
		if ((rc = write_record(w, REC_EXT_LINEAR, 0, seg, 2)))
			return rc;
	}
	rc = write_record(w, REC_DATA, (uint16_t)w->rec_addr, w->rec,
			  w->rec_len);
	w->rec_len = 0;
	return rc;
}

int ota_ihex_writer_put(struct ota_ihex_writer *w, uint64_t addr,
			const void *data, size_t len)
{
	const uint8_t *d = data;
	int rc;

	if (addr < w->next || addr + len > (uint64_t)UINT32_MAX + 1)
		return ota_error(OTA_EINTERNAL,
				 "Intel HEX: data at 0x%" PRIx64
				 " out of order or past 4 GiB",
				 addr);
	for (size_t i = 0; i < len; i++, addr++) {
		/* A record never spans a gap or a 64 KiB segment. */
		if (w->rec_len &&
		    (w->rec_len == sizeof(w->rec) ||
		     addr != w->rec_addr + w->rec_len || (addr & 0xffff) == 0))
			if ((rc = flush(w)))
				return rc;
		if (w->rec_len == 0)
			w->rec_addr = (uint32_t)addr;
		w->rec[w->rec_len++] = d[i];
	}
	w->next = addr;
	return 0;
}

int ota_ihex_writer_finish(struct ota_ihex_writer *w)
{
	int rc;

	if ((rc = flush(w)))
		return rc;
	return write_record(w, REC_EOF, 0, NULL, 0);
}
