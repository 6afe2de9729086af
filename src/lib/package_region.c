/*
 * The unprotected region of otatool packages (otapkg.h, otatool-package(5)):
 * entries that are added after a package is signed, each with its own
 * proof. Reading is the device verifier's (otaverify.c walks the region,
 * package_check.c keeps its entries); this file keeps entries in their
 * canonical order, encodes them, and writes a package with a new region
 * behind its signed bytes, which it copies unchanged.
 */
#include "otapkg.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/output.h"
#include "otatool/package.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_CHUNK (256u << 10)

static void put16(uint8_t *p, uint16_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
}

static void put32(uint8_t *p, uint32_t x)
{
	put16(p, (uint16_t)x);
	put16(p + 2, (uint16_t)(x >> 16));
}

static size_t align4(size_t n)
{
	return (n + 3u) & ~(size_t)3u;
}

/* The value's length in the TLV: the index bytes come first but one type. */
static size_t value_len(const struct ota_region_entry *e)
{
	return e->type == OTA_REGION_ROOT_RECORD ? e->len
						 : OTAPKG_REGION_FIXED + e->len;
}

/* The order of entries: by type, then signature, then certificate. */
static int entry_cmp(const struct ota_region_entry *a,
		     const struct ota_region_entry *b)
{
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (a->type == OTA_REGION_ROOT_RECORD)
		return -1; /* root records stay in the order they came */
	if (a->sig_index != b->sig_index)
		return a->sig_index < b->sig_index ? -1 : 1;
	if (a->type == OTA_REGION_OCSP && a->cert_index != b->cert_index)
		return a->cert_index < b->cert_index ? -1 : 1;
	return 0;
}

static size_t encoded_size(const struct ota_package_region *reg)
{
	size_t n = 0;

	for (size_t i = 0; i < reg->n; i++)
		n += 4 + align4(value_len(&reg->entries[i]));
	return n;
}

const struct ota_region_entry *
ota_package_region_find(const struct ota_package_region *reg, uint16_t type,
			uint8_t sig_index, uint8_t cert_index)
{
	struct ota_region_entry key = { .type = type,
					.sig_index = sig_index,
					.cert_index = cert_index };

	if (type == OTA_REGION_ROOT_RECORD)
		return NULL;
	for (size_t i = 0; i < reg->n; i++)
		if (entry_cmp(&reg->entries[i], &key) == 0)
			return &reg->entries[i];
	return NULL;
}

int ota_package_region_set(struct ota_package_region *reg, uint16_t type,
			   uint8_t sig_index, uint8_t cert_index,
			   const uint8_t *data, size_t len)
{
	struct ota_region_entry e = { .type = type,
				      .sig_index = sig_index,
				      .cert_index = type == OTA_REGION_OCSP
							? cert_index
							: 0 };
	struct ota_region_entry *grown;
	size_t at = 0, vlen;

	if (type != OTA_REGION_TIMESTAMP && type != OTA_REGION_OCSP &&
	    type != OTA_REGION_ROOT_RECORD)
		return ota_error(OTA_EINTERNAL,
				 "unprotected region type 0x%04x is unknown",
				 type);
	e.len = len;
	vlen = value_len(&e);
	if (len == 0 || vlen < OTAPKG_REGION_FIXED || vlen > 0xffff)
		return ota_error(OTA_EINPUT,
				 "an unprotected region entry of type 0x%04x "
				 "takes 1..%u bytes, not %zu",
				 type, 0xffffu - OTAPKG_REGION_FIXED, len);
	if (type == OTA_REGION_ROOT_RECORD && memcmp(data, "OTAU", 4) == 0)
		return ota_error(OTA_EINPUT, "a root record cannot start with "
					     "\"OTAU\" (the region's footer)");
	for (at = 0; at < reg->n; at++) {
		int c = entry_cmp(&e, &reg->entries[at]);

		if (c == 0) {
			/* replace: same signature (and certificate) */
			uint8_t *copy = malloc(len);

			if (!copy)
				return ota_error(OTA_EINTERNAL,
						 "out of memory");
			memcpy(copy, data, len);
			if (encoded_size(reg) - value_len(&reg->entries[at]) +
				vlen >
			    OTA_REGION_MAX) {
				free(copy);
				return ota_error(OTA_EINPUT,
						 "the unprotected region would "
						 "pass %u bytes",
						 OTA_REGION_MAX);
			}
			free(reg->entries[at].data);
			reg->entries[at].data = copy;
			reg->entries[at].len = len;
			reg->entries[at].offset = 0;
			return 0;
		}
		if (c < 0 && (type != OTA_REGION_ROOT_RECORD ||
			      reg->entries[at].type != type))
			break;
	}
	if (encoded_size(reg) + 4 + align4(vlen) > OTA_REGION_MAX)
		return ota_error(OTA_EINPUT,
				 "the unprotected region would pass %u bytes",
				 OTA_REGION_MAX);
	e.data = malloc(len);
	grown = realloc(reg->entries, (reg->n + 1) * sizeof(*grown));
	if (!e.data || !grown) {
		free(e.data);
		if (grown)
			reg->entries = grown;
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	memcpy(e.data, data, len);
	reg->entries = grown;
	memmove(&reg->entries[at + 1], &reg->entries[at],
		(reg->n - at) * sizeof(*grown));
	reg->entries[at] = e;
	reg->n++;
	return 0;
}

int ota_package_region_encode(uint8_t **out, size_t *len,
			      const struct ota_package_region *reg)
{
	size_t u = encoded_size(reg), pos = 0;
	uint8_t *p;

	*out = NULL;
	*len = 0;
	if (reg->n == 0)
		return 0;
	if (u > OTA_REGION_MAX)
		return ota_error(OTA_EINPUT,
				 "the unprotected region takes %zu bytes, more "
				 "than %u",
				 u, OTA_REGION_MAX);
	for (size_t i = 1; i < reg->n; i++)
		if (entry_cmp(&reg->entries[i - 1], &reg->entries[i]) >= 0 &&
		    !(reg->entries[i].type == OTA_REGION_ROOT_RECORD &&
		      reg->entries[i - 1].type == OTA_REGION_ROOT_RECORD))
			return ota_error(OTA_EINTERNAL,
					 "unprotected region entries %zu and "
					 "%zu are out of order",
					 i - 1, i);
	p = calloc(1, u + OTAPKG_REGION_FOOTER);
	if (!p)
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < reg->n; i++) {
		const struct ota_region_entry *e = &reg->entries[i];
		size_t vlen = value_len(e);

		put16(p + pos, e->type);
		put16(p + pos + 2, (uint16_t)vlen);
		pos += 4;
		if (e->type != OTA_REGION_ROOT_RECORD) {
			p[pos] = e->sig_index;
			p[pos + 1] =
			    e->type == OTA_REGION_OCSP ? e->cert_index : 0;
			pos += OTAPKG_REGION_FIXED;
		}
		memcpy(p + pos, e->data, e->len);
		pos += align4(e->len);
	}
	put32(p + pos, (uint32_t)u);
	memcpy(p + pos + 4, "OTAU", 4);
	*out = p;
	*len = u + OTAPKG_REGION_FOOTER;
	return 0;
}

int ota_package_region_write(const char *out_path, const char *in_path,
			     uint64_t total,
			     const struct ota_package_region *reg)
{
	struct ota_output *o = NULL;
	uint8_t *region = NULL, *buf = NULL;
	size_t region_len = 0;
	uint64_t size, left = total;
	int fd = -1, rc;

	if ((rc = ota_package_region_encode(&region, &region_len, reg)))
		return rc;
	if ((rc = ota_file_open_regular(&fd, &size, in_path)))
		goto out;
	if (size < total) {
		rc = ota_error(OTA_EINPUT,
			       "%s: %llu bytes, shorter than its total size "
			       "%llu",
			       in_path, (unsigned long long)size,
			       (unsigned long long)total);
		goto out;
	}
	buf = malloc(COPY_CHUNK);
	if (!buf) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = ota_output_open(&o, out_path, 0644, OTA_OUTPUT_UPDATE)))
		goto out;
	while (left > 0) {
		size_t want = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t got = read(fd, buf, want);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = ota_error(
			    OTA_EINPUT, "%s: read error: %s", in_path,
			    got < 0 ? strerror(errno) : "the file shrank");
			goto out;
		}
		if ((rc = ota_output_write(o, buf, (size_t)got)))
			goto out;
		left -= (uint64_t)got;
	}
	if (region_len > 0 && (rc = ota_output_write(o, region, region_len)))
		goto out;
	rc = ota_output_commit(o);
	o = NULL;
out:
	ota_output_abort(o);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(region);
	return rc;
}

void ota_package_region_free(struct ota_package_region *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++)
		free(reg->entries[i].data);
	free(reg->entries);
	memset(reg, 0, sizeof(*reg));
}
