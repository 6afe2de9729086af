/*
 * The unprotected region of packages: the device verifier's walk
 * (otaverify.c) over regions built here byte by byte from otatool-package(5),
 * every refusal it states, and the host side (src/lib/package_region.c and
 * package_check.c): entries kept in order, encoded, written behind the
 * unchanged signed bytes, and read back.
 */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/package.h"
#include "otaverify.h"
#include "pkgbuild.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t content[60];
static const uint8_t cert_a[5] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
static const uint8_t cert_b[3] = { 0x30, 0x01, 0x00 };

struct fx {
	EVP_PKEY *key;
	struct pkgb_crypto c;
	struct pkgb_pkg pkg;
	uint8_t *file; /* the package and a region */
	size_t len;
	struct otav v;
};

/* A package signed twice: entry 0 with two certificates, entry 1 none. */
static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pkgb_desc d = { 0 };

	cr_assert_not_null(f);
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 5 + 3);
	f->key = pkgb_key(OTAPKG_SIG_ED25519);
	pkgb_crypto_init(&f->c);
	pkgb_crypto_trust(&f->c, f->key);
	d.n_images = 1;
	d.images[0].data = content;
	d.images[0].len = sizeof(content);
	d.n_signers = 2;
	d.signers[0].key = f->key;
	d.signers[0].n_certs = 2;
	d.signers[0].certs[0] = cert_a;
	d.signers[0].cert_lens[0] = sizeof(cert_a);
	d.signers[0].certs[1] = cert_b;
	d.signers[0].cert_lens[1] = sizeof(cert_b);
	d.signers[1].fake_keyid = 0x11;
	d.signers[1].fake_len = 64;
	d.signers[1].alg = OTAPKG_SIG_ED25519;
	pkgb_build(&f->pkg, &d);
	return f;
}

static void fx_free(struct fx *f)
{
	pkgb_free(&f->pkg);
	pkgb_crypto_free(&f->c);
	EVP_PKEY_free(f->key);
	free(f->file);
	free(f);
}

/* The package followed by the raw region bytes r[0..n). */
static void with_region(struct fx *f, const uint8_t *r, size_t n)
{
	free(f->file);
	f->len = f->pkg.len + n;
	f->file = malloc(f->len + 1);
	cr_assert_not_null(f->file);
	memcpy(f->file, f->pkg.data, f->pkg.len);
	memcpy(f->file + f->pkg.len, r, n);
}

static enum otav_status feed(struct fx *f, size_t chunk)
{
	otav_init(&f->v, &f->c.ops, NULL, NULL);
	for (size_t i = 0; i < f->len; i += chunk)
		otav_feed(&f->v, f->file + i,
			  f->len - i < chunk ? f->len - i : chunk);
	return otav_finish(&f->v);
}

/* Whole and byte by byte: the same status at the same offset. */
static void expect(struct fx *f, enum otav_status st, uint64_t off,
		   const char *what)
{
	enum otav_status got = feed(f, f->len);
	uint64_t got_off = f->v.err_offset;

	cr_assert_eq(got, st, "got %s (%s at %llu), want %s",
		     otav_status_name(got), f->v.err_what ? f->v.err_what : "",
		     (unsigned long long)got_off, otav_status_name(st));
	if (st != OTAV_OK) {
		cr_assert_eq(got_off, off, "%s at %llu, want %llu",
			     f->v.err_what, (unsigned long long)got_off,
			     (unsigned long long)off);
		cr_assert(strstr(f->v.err_what, what) != NULL,
			  "\"%s\" lacks \"%s\"", f->v.err_what, what);
	}
	cr_assert_eq(feed(f, 1), st, "byte by byte: %s",
		     otav_status_name(f->v.status));
	cr_assert_eq(f->v.err_offset, got_off);
}

/* A region written by hand: TLVs appended, then the footer. */
struct rb {
	uint8_t b[4096];
	size_t n;
};

static void rb_tlv(struct rb *r, uint16_t type, const uint8_t *v, uint16_t len)
{
	pkgb_put16(r->b + r->n, type);
	pkgb_put16(r->b + r->n + 2, len);
	memcpy(r->b + r->n + 4, v, len);
	r->n += 4 + len;
	while (r->n % 4)
		r->b[r->n++] = 0;
}

/* TIMESTAMP or OCSP: the index bytes and a fake DER of dlen bytes. */
static void rb_entry(struct rb *r, uint16_t type, uint8_t sig, uint8_t cert,
		     uint16_t dlen)
{
	uint8_t v[256] = { sig, cert, 0, 0 };

	for (unsigned i = 0; i < dlen; i++)
		v[4 + i] = (uint8_t)(0x30 + i);
	rb_tlv(r, type, v, (uint16_t)(4 + dlen));
}

static void rb_footer(struct rb *r)
{
	pkgb_put32(r->b + r->n, (uint32_t)r->n);
	memcpy(r->b + r->n + 4, "OTAU", 4);
	r->n += 8;
}

static void region(struct fx *f, struct rb *r)
{
	with_region(f, r->b, r->n);
}

Test(region_device, accepted_and_counted)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	uint8_t root[9] = "OTARroot";

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 1, 0, 8);
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 0, 7);
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 1, 7);
	rb_entry(&r, OTAPKG_REGION_OCSP, 1, 0, 1); /* no certs: refused */
	r.n -= 12;
	rb_tlv(&r, OTAPKG_REGION_ROOT_RECORD, root, sizeof(root));
	rb_tlv(&r, OTAPKG_REGION_ROOT_RECORD, root, 4);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_OK, 0, "");
	cr_assert_eq(f->v.info.region_size, r.n - 8);
	cr_assert_eq(f->v.info.n_timestamps, 2);
	cr_assert_eq(f->v.info.n_ocsp, 2);
	cr_assert_eq(f->v.info.n_root_records, 2);
	cr_assert_eq(f->v.info.trusted_sig, 0);
	/* without a region: nothing counted */
	with_region(f, r.b, 0);
	expect(f, OTAV_OK, 0, "");
	cr_assert_eq(f->v.info.region_size, 0);
	fx_free(f);
}

Test(region_device, stopping_at_the_total_size_is_fine)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_footer(&r);
	region(f, &r);
	/* a device that feeds only total bytes never sees the region */
	otav_init(&f->v, &f->c.ops, NULL, NULL);
	otav_feed(&f->v, f->file, f->pkg.len);
	cr_assert_eq(otav_finish(&f->v), OTAV_OK);
	fx_free(f);
}

Test(region_device, not_a_region_is_trailing_data)
{
	struct fx *f = fx_new();
	static const uint8_t ff[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					0xff, 0xff, 0xff, 0xff };
	static const uint8_t low[2] = { 0x01, 0x00 }; /* type 0x0001 */

	with_region(f, ff, sizeof(ff));
	expect(f, OTAV_E_TRAILING, f->pkg.len, "total size");
	with_region(f, low, sizeof(low));
	expect(f, OTAV_E_TRAILING, f->pkg.len, "total size");
	fx_free(f);
}

Test(region_device, footer)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	size_t at = f->pkg.len;

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_footer(&r);
	/* wrong size */
	pkgb_put32(r.b + r.n - 8, 4);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + r.n - 8, "footer says 4 bytes");
	pkgb_put32(r.b + r.n - 8, (uint32_t)(r.n - 8));
	/* no footer: the region just ends */
	with_region(f, r.b, r.n - 8);
	expect(f, OTAV_E_TRUNCATED, at + r.n - 8, "unprotected region");
	/* half a footer: truncated where the input ends */
	with_region(f, r.b, r.n - 3);
	expect(f, OTAV_E_TRUNCATED, at + r.n - 3, "unprotected region");
	/* a byte after the footer */
	r.b[r.n++] = 0;
	region(f, &r);
	expect(f, OTAV_E_TRAILING, at + r.n - 1, "footer");
	/* an empty region is no region: a footer alone is refused */
	memset(&r, 0, sizeof(r));
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TRAILING, at, "total size");
	fx_free(f);
}

Test(region_device, types_and_lengths)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	size_t at = f->pkg.len;
	uint8_t v[8] = { 0 };

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_tlv(&r, 0x8003, v, 8);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 16, "TLV 0x8003 is unknown");

	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 0, 5);
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 16, "must not decrease");

	/* a TIMESTAMP without a token */
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 0);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 2, "too short");

	/* a length that runs past 1 MiB */
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_footer(&r);
	region(f, &r);
	{
		size_t big = 17u * 65536u;
		uint8_t *p = calloc(1, big);
		uint8_t *file;
		size_t n = 0;

		cr_assert_not_null(p);
		/* 17 root records of 65532 bytes: the 17th passes 1 MiB */
		for (int i = 0; i < 17; i++) {
			pkgb_put16(p + n, OTAPKG_REGION_ROOT_RECORD);
			pkgb_put16(p + n + 2, 65532);
			p[n + 4] = 'R';
			n += 4 + 65532;
		}
		file = malloc(f->pkg.len + n);
		cr_assert_not_null(file);
		memcpy(file, f->pkg.data, f->pkg.len);
		memcpy(file + f->pkg.len, p, n);
		otav_init(&f->v, &f->c.ops, NULL, NULL);
		otav_feed(&f->v, file, f->pkg.len + n);
		cr_assert_eq(f->v.status, OTAV_E_TLV, "%s",
			     otav_status_name(f->v.status));
		cr_assert_eq(f->v.err_offset, f->pkg.len + 16 * 65536 + 2);
		cr_assert(strstr(f->v.err_what, "limit of 1048576") != NULL);
		free(file);
		free(p);
	}
	fx_free(f);
}

Test(region_device, indexes_order_and_reserved_bytes)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	size_t at = f->pkg.len;

	/* a signature the package does not have */
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 2, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 4, "names signature 2, the package has 2");

	/* two for one signature, or out of order */
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 1, 0, 5);
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 1, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 16, "out of order or repeated");
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 1, 0, 5);
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 16, "out of order or repeated");

	/* TIMESTAMP: bytes 1..3 reserved; OCSP: 2..3 */
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 1, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_PADDING, at + 5, "reserved byte 1");
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 0, 5);
	r.b[7] = 1;
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_PADDING, at + 7, "reserved byte 3");

	/* OCSP: a certificate the entry has not got */
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 2, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 5, "certificate 2 of signature 0");
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_OCSP, 1, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 5, "which has 0");
	memset(&r, 0, sizeof(r));
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 1, 5);
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 0, 5);
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_TLV, at + 16, "out of order or repeated");
	fx_free(f);
}

Test(region_device, padding)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5); /* 3 padding bytes */
	r.b[14] = 9;
	rb_footer(&r);
	region(f, &r);
	expect(f, OTAV_E_PADDING, f->pkg.len + 14, "padding is not zero");
	fx_free(f);
}

Test(region_device, every_truncation_and_bit_flip)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	size_t full;

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 1, 6);
	rb_footer(&r);
	region(f, &r);
	full = f->len;
	for (size_t n = f->pkg.len + 1; n < full; n++) {
		f->len = n;
		cr_assert_neq(feed(f, full), OTAV_OK, "length %zu", n);
	}
	f->len = full;
	/*
	 * Every bit outside the DER bytes matters, but for a length that
	 * still rounds up to the same size: its padding then becomes DER,
	 * which the host parses (the device does not read tokens).
	 */
	for (size_t i = f->pkg.len; i < full; i++) {
		size_t in_region = i - f->pkg.len;
		/* an index still in range names another entry: the host's
		 * check of the token or response catches that */
		int der = (in_region >= 8 && in_region < 13) ||
			  (in_region >= 24 && in_region < 30) ||
			  in_region == 4 || in_region == 20 || in_region == 21;

		for (int bit = 0; bit < 8 && !der; bit++) {
			unsigned was = f->file[i], now = was ^ (1u << bit);
			int len = in_region == 2 || in_region == 18;

			f->file[i] = (uint8_t)now;
			if (!len || now < was || (now + 3) / 4 != (was + 3) / 4)
				cr_assert_neq(feed(f, full), OTAV_OK,
					      "byte %zu bit %d", in_region,
					      bit);
			else
				cr_assert_eq(feed(f, full), OTAV_OK);
			f->file[i] = (uint8_t)was;
		}
	}
	cr_assert_eq(feed(f, full), OTAV_OK);
	fx_free(f);
}

static unsigned n_region_tlv;
static size_t region_bytes;

static int count_tlv(void *ctx, uint64_t offset, uint16_t type, uint16_t len)
{
	(void)ctx;
	(void)offset;
	(void)type;
	(void)len;
	n_region_tlv++;
	return 0;
}

static int count_data(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	region_bytes += len;
	return 0;
}

static int stop_data(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 1;
}

Test(region_device, events)
{
	struct fx *f = fx_new();
	struct rb r = { 0 };
	struct otav_events ev = { 0 };

	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 0, 0, 5);
	rb_entry(&r, OTAPKG_REGION_OCSP, 0, 1, 6);
	rb_footer(&r);
	region(f, &r);
	ev.region_tlv = count_tlv;
	ev.region_data = count_data;
	otav_init(&f->v, &f->c.ops, NULL, &ev);
	for (size_t i = 0; i < f->len; i++)
		otav_feed(&f->v, f->file + i, 1);
	cr_assert_eq(otav_finish(&f->v), OTAV_OK);
	cr_assert_eq(n_region_tlv, 2);
	cr_assert_eq(region_bytes, 9 + 10);
	ev.region_data = stop_data;
	otav_init(&f->v, &f->c.ops, NULL, &ev);
	otav_feed(&f->v, f->file, f->len);
	cr_assert_eq(f->v.status, OTAV_E_ABORTED);
	fx_free(f);
}

/* ---- the host side ---- */

struct host {
	char dir[64], pkg[96], out[96];
};

static void host_init(struct host *h, const struct fx *f)
{
	FILE *fp;

	snprintf(h->dir, sizeof(h->dir), "/tmp/ota-region.XXXXXX");
	cr_assert_not_null(mkdtemp(h->dir));
	snprintf(h->pkg, sizeof(h->pkg), "%s/p.otapkg", h->dir);
	snprintf(h->out, sizeof(h->out), "%s/q.otapkg", h->dir);
	fp = fopen(h->pkg, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(f->pkg.data, 1, f->pkg.len, fp), f->pkg.len);
	cr_assert_eq(fclose(fp), 0);
}

static void host_free(struct host *h)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	cr_assert_eq(system(cmd), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p = malloc(1 << 21);
	size_t n;

	cr_assert_not_null(fp);
	cr_assert_not_null(p);
	n = fread(p, 1, 1 << 21, fp);
	fclose(fp);
	*len = n;
	return p;
}

Test(region_host, set_keeps_the_order_and_replaces)
{
	struct ota_package_region reg = { 0 };
	static const uint8_t a[3] = { 1, 2, 3 }, b[2] = { 4, 5 };
	uint8_t *enc;
	size_t n;

	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_ROOT_RECORD, 0, 0,
					    (const uint8_t *)"R1xx", 4),
		     0);
	cr_assert_eq(
	    ota_package_region_set(&reg, OTA_REGION_OCSP, 1, 0, a, sizeof(a)),
	    0);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_TIMESTAMP, 1, 9, a,
					    sizeof(a)),
		     0);
	cr_assert_eq(
	    ota_package_region_set(&reg, OTA_REGION_OCSP, 0, 3, a, sizeof(a)),
	    0);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_TIMESTAMP, 0, 0, a,
					    sizeof(a)),
		     0);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_ROOT_RECORD, 0, 0,
					    (const uint8_t *)"R2xx", 4),
		     0);
	/* replaces the timestamp of signature 1 */
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_TIMESTAMP, 1, 0, b,
					    sizeof(b)),
		     0);
	cr_assert_eq(reg.n, 6);
	cr_assert_eq(reg.entries[0].type, OTA_REGION_TIMESTAMP);
	cr_assert_eq(reg.entries[0].sig_index, 0);
	cr_assert_eq(reg.entries[1].sig_index, 1);
	cr_assert_eq(reg.entries[1].cert_index, 0);
	cr_assert_eq(reg.entries[1].len, 2);
	cr_assert_eq(reg.entries[2].type, OTA_REGION_OCSP);
	cr_assert_eq(reg.entries[2].cert_index, 3);
	cr_assert_eq(reg.entries[3].sig_index, 1);
	cr_assert_eq(memcmp(reg.entries[4].data, "R1", 2), 0);
	cr_assert_eq(memcmp(reg.entries[5].data, "R2", 2), 0);
	cr_assert_not_null(
	    ota_package_region_find(&reg, OTA_REGION_OCSP, 0, 3));
	cr_assert_null(ota_package_region_find(&reg, OTA_REGION_OCSP, 0, 0));
	cr_assert_eq(ota_package_region_encode(&enc, &n, &reg), 0);
	/* 2 x (4+4+4) + 2 x 12 + 2 x 8, then the footer */
	cr_assert_eq(n, 12 + 12 + 12 + 12 + 8 + 8 + 8);
	cr_assert_eq(enc[0], 0x01);
	cr_assert_eq(enc[1], 0x80);
	cr_assert_eq(enc[2], 7); /* 4 + 3 */
	cr_assert_eq(enc[12 + 4], 1);
	cr_assert_eq(memcmp(enc + n - 4, "OTAU", 4), 0);
	cr_assert_eq(enc[n - 8], 64);
	free(enc);
	/* refusals */
	cr_assert_eq(
	    ota_package_region_set(&reg, OTA_REGION_TIMESTAMP, 2, 0, a, 0),
	    OTA_EINPUT);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_ROOT_RECORD, 0, 0,
					    (const uint8_t *)"OTAUxx", 6),
		     OTA_EINPUT);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_ROOT_RECORD, 0, 0,
					    (const uint8_t *)"R", 1),
		     OTA_EINPUT);
	ota_package_region_free(&reg);
	cr_assert_eq(reg.n, 0);
	ota_package_region_free(NULL);
}

Test(region_host, limit_of_one_mebibyte)
{
	struct ota_package_region reg = { 0 };
	uint8_t *big = calloc(1, 65531);
	int i, rc = 0;

	cr_assert_not_null(big);
	for (i = 0; i < 20 && rc == 0; i++)
		rc = ota_package_region_set(&reg, OTA_REGION_OCSP, 0,
					    (uint8_t)i, big, 65531);
	cr_assert_eq(rc, OTA_EINPUT);
	cr_assert_eq(i, 16, "the 16th entry of 64 KiB passes 1 MiB");
	cr_assert(strstr(ota_error_message(), "1048576") != NULL);
	cr_assert_eq(
	    ota_package_region_set(&reg, OTA_REGION_OCSP, 0, 0, big, 65532),
	    OTA_EINPUT, "a TLV holds 65535 bytes");
	ota_package_region_free(&reg);
	free(big);
}

Test(region_host, written_checked_and_read_back)
{
	struct fx *f = fx_new();
	struct host h;
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report rep;
	struct ota_package_region reg = { 0 };
	static const uint8_t tok[5] = { 0x30, 0x03, 0x01, 0x01, 0xff };
	static const uint8_t ocsp[6] = { 0x30, 0x04, 0x0a, 0x01, 0x00, 0x00 };
	uint8_t *p;
	size_t n;

	host_init(&h, f);
	cr_assert_eq(ota_package_check(&rep, h.pkg, &o), 0, "%s",
		     ota_error_message());
	cr_assert_eq(rep.region.n, 0);
	cr_assert_eq(rep.n_sigs, 2);
	cr_assert_eq(rep.sigs[0].n_certs_in_entry, 2);
	cr_assert_eq(rep.sigs[0].siglen, 64);
	cr_assert_eq(
	    memcmp(rep.sigs[0].sig, f->pkg.data + f->pkg.sig_entry[0] + 40, 64),
	    0);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_OCSP, 0, 1, ocsp,
					    sizeof(ocsp)),
		     0);
	cr_assert_eq(ota_package_region_set(&reg, OTA_REGION_TIMESTAMP, 1, 0,
					    tok, sizeof(tok)),
		     0);
	cr_assert_eq(
	    ota_package_region_write(h.out, h.pkg, rep.total_size, &reg), 0,
	    "%s", ota_error_message());
	ota_package_report_clear(&rep);
	p = slurp(h.out, &n);
	cr_assert_eq(n, f->pkg.len + 16 + 16 + 8);
	cr_assert_eq(memcmp(p, f->pkg.data, f->pkg.len), 0,
		     "the signed bytes are copied unchanged");
	free(p);
	/* read back: the entries, where they are */
	cr_assert_eq(ota_package_check(&rep, h.out, &o), 0, "%s",
		     ota_error_message());
	cr_assert_eq(rep.region.size, 32);
	cr_assert_eq(rep.region.n, 2);
	cr_assert_eq(rep.region.entries[0].type, OTA_REGION_TIMESTAMP);
	cr_assert_eq(rep.region.entries[0].sig_index, 1);
	cr_assert_eq(rep.region.entries[0].offset, f->pkg.len);
	cr_assert_eq(rep.region.entries[0].len, sizeof(tok));
	cr_assert_eq(memcmp(rep.region.entries[0].data, tok, sizeof(tok)), 0);
	cr_assert_eq(rep.region.entries[1].type, OTA_REGION_OCSP);
	cr_assert_eq(rep.region.entries[1].sig_index, 0);
	cr_assert_eq(rep.region.entries[1].cert_index, 1);
	cr_assert_eq(rep.region.entries[1].offset, f->pkg.len + 16);
	cr_assert_eq(memcmp(rep.region.entries[1].data, ocsp, sizeof(ocsp)), 0);
	/* in place: replace one, the file is replaced atomically */
	cr_assert_eq(ota_package_region_set(&rep.region, OTA_REGION_TIMESTAMP,
					    1, 0, ocsp, sizeof(ocsp)),
		     0);
	cr_assert_eq(
	    ota_package_region_write(h.out, h.out, rep.total_size, &rep.region),
	    0, "%s", ota_error_message());
	ota_package_report_clear(&rep);
	cr_assert_eq(ota_package_check(&rep, h.out, &o), 0, "%s",
		     ota_error_message());
	cr_assert_eq(rep.region.entries[0].len, sizeof(ocsp));
	/* an empty region: back to the signed package, byte for byte */
	ota_package_region_free(&rep.region);
	cr_assert_eq(
	    ota_package_region_write(h.out, h.out, rep.total_size, &rep.region),
	    0);
	ota_package_report_clear(&rep);
	p = slurp(h.out, &n);
	cr_assert_eq(n, f->pkg.len);
	cr_assert_eq(memcmp(p, f->pkg.data, n), 0);
	free(p);
	ota_package_region_free(&reg);
	host_free(&h);
	fx_free(f);
}

Test(region_host, a_bad_region_is_refused_with_its_offset)
{
	struct fx *f = fx_new();
	struct host h;
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report rep;
	struct rb r = { 0 };
	FILE *fp;

	host_init(&h, f);
	rb_entry(&r, OTAPKG_REGION_TIMESTAMP, 5, 0, 5);
	rb_footer(&r);
	fp = fopen(h.pkg, "ab");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(r.b, 1, r.n, fp), r.n);
	fclose(fp);
	cr_assert_eq(ota_package_check(&rep, h.pkg, &o), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "names signature 5") != NULL,
		  "%s", ota_error_message());
	cr_assert_eq(rep.error_offset, f->pkg.len + 4);
	ota_package_report_clear(&rep);
	host_free(&h);
	fx_free(f);
}
