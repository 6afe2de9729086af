/*
 * libFuzzer target for the Intel HEX reader (src/lib/ihex.c): every input
 * is a HEX file, parsed in chunks whose size the first byte picks (the
 * line buffer must not care where a read ends), then converted into a
 * binary as `package --format mcuboot` does. A converted image is written
 * back with the writer and parsed again: the same bytes at the same
 * addresses, or the writer or reader is wrong.
 *
 * Build and run: scripts/fuzz ihex (fuzz/README.md).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otatool/error.h"
#include "otatool/ihex.h"

#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The converted image, read back from its temporary file. */
struct image {
	uint32_t base;
	uint8_t *bytes;
	uint64_t size;
	uint64_t checked; /* bytes seen again by the re-parse */
};

static int count(void *ctx, uint32_t addr, const uint8_t *d, size_t len,
		 unsigned long line)
{
	(void)ctx;
	(void)addr;
	(void)d;
	(void)len;
	(void)line;
	return 0;
}

static int recheck(void *ctx, uint32_t addr, const uint8_t *d, size_t len,
		   unsigned long line)
{
	struct image *im = ctx;

	(void)line;
	if (addr < im->base || addr - im->base + len > im->size ||
	    memcmp(im->bytes + (addr - im->base), d, len) != 0)
		abort();
	im->checked += len;
	return 0;
}

struct text {
	char *buf;
	size_t len, cap;
};

static int append(void *ctx, const void *p, size_t n)
{
	struct text *t = ctx;

	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		if (!(t->buf = realloc(t->buf, t->cap)))
			abort();
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	return 0;
}

static void round_trip(struct image *im)
{
	struct ota_ihex_writer w;
	struct ota_ihex_parser p;
	struct text t = { 0 };

	ota_ihex_writer_init(&w, append, &t);
	if (ota_ihex_writer_put(&w, im->base, im->bytes, (size_t)im->size) ||
	    ota_ihex_writer_finish(&w))
		abort();
	ota_ihex_parser_init(&p, "round trip", recheck, im);
	if (ota_ihex_parser_feed(&p, t.buf, t.len) ||
	    ota_ihex_parser_finish(&p) || im->checked != im->size)
		abort();
	free(t.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ota_ihex_parser p;
	struct ota_ihex_image img;
	struct image im = { 0 };
	size_t chunk = size ? (size_t)data[0] % 64 + 1 : 1;
	int rc = 0, fd;

	ota_ihex_parser_init(&p, "fuzz", count, NULL);
	for (size_t off = 0; off < size && rc == 0; off += chunk)
		rc = ota_ihex_parser_feed(
		    &p, data + off, size - off < chunk ? size - off : chunk);
	if (rc == 0)
		rc = ota_ihex_parser_finish(&p);
	if (rc != 0 && rc != OTA_EINPUT)
		abort();
	(void)ota_ihex_detect(data, size);

	rc = ota_ihex_to_binary(&fd, &img, memfile_path(data, size));
	if (rc != 0) {
		if (rc != OTA_EINPUT || fd != -1)
			abort();
		return 0;
	}
	/* Keep the round trip cheap: large spans are the converter's job. */
	if (img.size <= (1u << 20)) {
		im.base = img.base;
		im.size = img.size;
		if (!(im.bytes = malloc((size_t)img.size)) ||
		    read(fd, im.bytes, (size_t)img.size) != (ssize_t)img.size)
			abort();
		round_trip(&im);
		free(im.bytes);
	}
	close(fd);
	return 0;
}
