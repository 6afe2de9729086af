/*
 * otatool diff: do two packages or two MCUboot images carry the same
 * signed content? Each is read as inspect reads it; then the fields of
 * what the signatures cover are compared one by one, and the signed bytes
 * themselves, so that nothing signed can differ unseen.
 */
#include "otatool/diff.h"
#include "otatool/detect.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/timestamp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add(struct ota_diff *d, const char *field, const char *a,
		const char *b)
{
	struct ota_diff_line *l;

	if (d->n == OTA_DIFF_MAX_LINES) {
		d->n_more++;
		return;
	}
	l = &d->lines[d->n++];
	snprintf(l->field, sizeof(l->field), "%s", field);
	snprintf(l->a, sizeof(l->a), "%s", a);
	snprintf(l->b, sizeof(l->b), "%s", b);
}

static void cmp_str(struct ota_diff *d, const char *field, const char *a,
		    const char *b)
{
	if (strcmp(a, b) != 0)
		add(d, field, a, b);
}

static void cmp_u64(struct ota_diff *d, const char *field, uint64_t a,
		    uint64_t b)
{
	char x[24], y[24];

	if (a == b)
		return;
	snprintf(x, sizeof(x), "%" PRIu64, a);
	snprintf(y, sizeof(y), "%" PRIu64, b);
	add(d, field, x, y);
}

static void hex(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < cap; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * i] = '\0';
}

static void cmp_bytes(struct ota_diff *d, const char *field, const uint8_t *a,
		      size_t na, const uint8_t *b, size_t nb)
{
	char x[200], y[200];

	if (na == nb && memcmp(a, b, na) == 0)
		return;
	hex(x, sizeof(x), a, na);
	hex(y, sizeof(y), b, nb);
	add(d, field, x, y);
}

static void time_text(char out[OTA_TIMESTAMP_TEXT_LEN], bool has, uint64_t t)
{
	if (!has)
		snprintf(out, OTA_TIMESTAMP_TEXT_LEN, "(none)");
	else
		ota_timestamp_describe(out, t);
}

static void cmp_time(struct ota_diff *d, const char *field, bool ha, uint64_t a,
		     bool hb, uint64_t b)
{
	char x[OTA_TIMESTAMP_TEXT_LEN], y[OTA_TIMESTAMP_TEXT_LEN];

	if (ha == hb && (!ha || a == b))
		return;
	time_text(x, ha, a);
	time_text(y, hb, b);
	add(d, field, x, y);
}

/* A list as one line of text, items separated by spaces. */
static void join(char *out, size_t cap, const char (*items)[65], size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					i ? " " : "", items[i]);
	if (!n)
		snprintf(out, cap, "(none)");
}

/*
 * The first byte at which a and b differ in [0, len), or len. Streams
 * both files; OTA_EINPUT naming the file on a read error.
 */
static int first_difference(uint64_t *at, const char *pa, const char *pb,
			    uint64_t len)
{
	uint8_t ba[16384], bb[16384];
	uint64_t sa, sb, off = 0;
	int fa = -1, fb = -1, rc;

	*at = len;
	if ((rc = ota_file_open_regular(&fa, &sa, pa)) ||
	    (rc = ota_file_open_regular(&fb, &sb, pb)))
		goto out;
	while (off < len) {
		size_t want =
		    len - off < sizeof(ba) ? (size_t)(len - off) : sizeof(ba);
		ssize_t na = pread(fa, ba, want, (off_t)off);
		ssize_t nb = pread(fb, bb, want, (off_t)off);

		if (na < 0 || nb < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s",
				       na < 0 ? pa : pb, strerror(errno));
			goto out;
		}
		for (ssize_t i = 0; i < na && i < nb; i++)
			if (ba[i] != bb[i]) {
				*at = off + (uint64_t)i;
				goto out;
			}
		if (na != nb || na == 0) {
			*at = off + (uint64_t)(na < nb ? na : nb);
			goto out;
		}
		off += (uint64_t)na;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

/* ---- otatool packages --------------------------------------------------- */

static void bootloader_text(char *out, size_t cap,
			    const struct ota_package_report *r)
{
	if (!r->has_bootloader_min)
		snprintf(out, cap, "(none)");
	else
		snprintf(out, cap, "%u.%u.%u", r->bootloader_min[0],
			 r->bootloader_min[1], r->bootloader_min[2]);
}

static void diff_package_images(struct ota_diff *d,
				const struct ota_package_report *a,
				const struct ota_package_report *b)
{
	char f[96], x[40], y[40];
	size_t n = a->n_images < b->n_images ? a->n_images : b->n_images;

	cmp_u64(d, "image count", a->n_images, b->n_images);
	for (size_t i = 0; i < n; i++) {
		const __typeof__(a->images[0]) *p = &a->images[i];
		const __typeof__(b->images[0]) *q = &b->images[i];

		snprintf(f, sizeof(f), "image %zu: name", i);
		cmp_str(d, f, p->name, q->name);
		snprintf(f, sizeof(f), "image %s: kind", p->name);
		cmp_str(d, f, p->kind, q->kind);
		snprintf(f, sizeof(f), "image %s: size", p->name);
		cmp_u64(d, f, p->size, q->size);
		snprintf(f, sizeof(f), "image %s: digest", p->name);
		cmp_bytes(d, f, p->digest, p->digest_len, q->digest,
			  q->digest_len);
		snprintf(f, sizeof(f), "image %s: stored as", p->name);
		cmp_u64(d, f, p->compression, q->compression);
		snprintf(f, sizeof(f), "image %s: stored size", p->name);
		cmp_u64(d, f, p->stored_size, q->stored_size);
		snprintf(f, sizeof(f), "image %s: stored digest", p->name);
		cmp_bytes(d, f, p->stored_digest, p->digest_len,
			  q->stored_digest, q->digest_len);
		snprintf(f, sizeof(f), "image %s: base size", p->name);
		if (p->has_base || q->has_base)
			cmp_u64(d, f, p->has_base ? p->base_size : 0,
				q->has_base ? q->base_size : 0);
		snprintf(f, sizeof(f), "image %s: base digest", p->name);
		cmp_bytes(d, f, p->base_digest, p->has_base ? p->digest_len : 0,
			  q->base_digest, q->has_base ? q->digest_len : 0);
		if (p->has_load_address != q->has_load_address ||
		    p->load_address != q->load_address) {
			snprintf(x, sizeof(x), "0x%" PRIx64, p->load_address);
			snprintf(y, sizeof(y), "0x%" PRIx64, q->load_address);
			snprintf(f, sizeof(f), "image %s: load address",
				 p->name);
			add(d, f, p->has_load_address ? x : "(none)",
			    q->has_load_address ? y : "(none)");
		}
	}
}

static void diff_package_fields(struct ota_diff *d,
				const struct ota_package_report *a,
				const struct ota_package_report *b)
{
	char x[600], y[600];

	cmp_u64(d, "format version", a->format_version, b->format_version);
	cmp_u64(d, "region digest", a->region_digest_alg, b->region_digest_alg);
	cmp_u64(d, "alignment", a->alignment, b->alignment);
	cmp_str(d, "name", a->name, b->name);
	cmp_str(d, "version", a->version, b->version);
	cmp_u64(d, "security counter", a->security_counter,
		b->security_counter);
	bootloader_text(x, sizeof(x), a);
	bootloader_text(y, sizeof(y), b);
	cmp_str(d, "bootloader minimum", x, y);
	join(x, sizeof(x), a->hardware, a->n_hardware);
	join(y, sizeof(y), b->hardware, b->n_hardware);
	cmp_str(d, "hardware", x, y);
	cmp_str(d, "git commit", a->git_commit, b->git_commit);
	cmp_time(d, "build time", a->has_build_time, a->build_time,
		 b->has_build_time, b->build_time);
	cmp_time(d, "signing time", a->has_signing_time, a->signing_time,
		 b->has_signing_time, b->signing_time);
	cmp_u64(d, "dependency count", a->n_deps, b->n_deps);
	for (size_t i = 0; i < a->n_deps && i < b->n_deps; i++) {
		char f[96];

		snprintf(x, sizeof(x), "%s %s", a->dep_names[i],
			 a->dep_ranges[i]);
		snprintf(y, sizeof(y), "%s %s", b->dep_names[i],
			 b->dep_ranges[i]);
		snprintf(f, sizeof(f), "dependency %zu", i);
		cmp_str(d, f, x, y);
	}
	diff_package_images(d, a, b);
}

static int read_package(struct ota_package_report *r, const char *path)
{
	struct ota_package_check_opts o = { 0 };

	return ota_package_check(r, path, &o);
}

static int diff_packages(struct ota_diff *d, const char *pa, const char *pb)
{
	struct ota_package_report *a = calloc(1, sizeof(*a));
	struct ota_package_report *b = calloc(1, sizeof(*b));
	uint64_t la, lb, at;
	int rc;

	if (!a || !b) {
		free(a);
		free(b);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	d->kind = "otatool package";
	if ((rc = read_package(a, pa)))
		goto out;
	if ((rc = read_package(b, pb)))
		goto out;
	diff_package_fields(d, a, b);
	/* The signed region: the 64-byte header and the protected TLVs. */
	la = 64 + (uint64_t)a->protected_size;
	lb = 64 + (uint64_t)b->protected_size;
	if (d->n == 0 && d->n_more == 0) {
		char x[64], y[64];

		if ((rc = first_difference(&at, pa, pb, la < lb ? la : lb)))
			goto out;
		if (at < la || la != lb) {
			snprintf(x, sizeof(x), "%" PRIu64 " bytes", la);
			snprintf(y, sizeof(y), "%" PRIu64 " bytes", lb);
			char f[96];

			snprintf(f, sizeof(f),
				 "signed region, from byte %" PRIu64, at);
			add(d, f, x, y);
		}
	}
out:
	ota_package_report_clear(a);
	ota_package_report_clear(b);
	free(a);
	free(b);
	return rc;
}

/* ---- MCUboot images ----------------------------------------------------- */

static void version_text(char *out, size_t cap,
			 const struct ota_mcuboot_version *v)
{
	snprintf(out, cap, "%u.%u.%u+%" PRIu32, v->major, v->minor, v->revision,
		 v->build);
}

static void diff_mcuboot_fields(struct ota_diff *d,
				const struct ota_mcuboot_info *a,
				const struct ota_mcuboot_info *b)
{
	char x[64], y[64];

	cmp_u64(d, "header size", a->header_size, b->header_size);
	if (a->load_address != b->load_address) {
		snprintf(x, sizeof(x), "0x%08" PRIx32, a->load_address);
		snprintf(y, sizeof(y), "0x%08" PRIx32, b->load_address);
		add(d, "load address", x, y);
	}
	if (a->flags != b->flags) {
		snprintf(x, sizeof(x), "0x%08" PRIx32, a->flags);
		snprintf(y, sizeof(y), "0x%08" PRIx32, b->flags);
		add(d, "flags", x, y);
	}
	cmp_u64(d, "image size", a->image_size, b->image_size);
	version_text(x, sizeof(x), &a->version);
	version_text(y, sizeof(y), &b->version);
	cmp_str(d, "version", x, y);
	cmp_u64(d, "protected TLV size", a->protect_tlv_size,
		b->protect_tlv_size);
	if (a->has_security_counter != b->has_security_counter ||
	    a->security_counter != b->security_counter) {
		snprintf(x, sizeof(x), "%" PRIu32, a->security_counter);
		snprintf(y, sizeof(y), "%" PRIu32, b->security_counter);
		add(d, "security counter",
		    a->has_security_counter ? x : "(none)",
		    b->has_security_counter ? y : "(none)");
	}
	cmp_u64(d, "dependency count", a->n_deps, b->n_deps);
	for (size_t i = 0; i < a->n_deps && i < b->n_deps; i++) {
		char f[64], vx[48], vy[48];

		version_text(vx, sizeof(vx), &a->deps[i].min_version);
		version_text(vy, sizeof(vy), &b->deps[i].min_version);
		snprintf(x, sizeof(x), "image %u >= %s", a->deps[i].image_id,
			 vx);
		snprintf(y, sizeof(y), "image %u >= %s", b->deps[i].image_id,
			 vy);
		snprintf(f, sizeof(f), "dependency %zu", i);
		cmp_str(d, f, x, y);
	}
}

static int diff_mcuboot(struct ota_diff *d, const char *pa, const char *pb)
{
	struct ota_mcuboot_policy none = { 0 };
	struct ota_mcuboot_info a, b;
	uint64_t at;
	int rc;

	d->kind = "MCUboot image";
	if ((rc = ota_mcuboot_verify(&a, pa, &none, NULL, NULL)) ||
	    (rc = ota_mcuboot_verify(&b, pb, &none, NULL, NULL)))
		return rc;
	diff_mcuboot_fields(d, &a, &b);
	if (a.hash_alg != b.hash_alg)
		add(d, "hash algorithm", ota_digest_alg_name(a.hash_alg),
		    ota_digest_alg_name(b.hash_alg));
	else if (memcmp(a.hash, b.hash, ota_digest_alg_size(a.hash_alg)))
		cmp_bytes(d, "image hash", a.hash,
			  ota_digest_alg_size(a.hash_alg), b.hash,
			  ota_digest_alg_size(b.hash_alg));
	/* The hash covers header, payload and protected TLVs: if only it
	 * differs, say where the payload does. */
	if (d->n == 1 && strcmp(d->lines[0].field, "image hash") == 0) {
		uint64_t end = (uint64_t)a.header_size + a.image_size;
		char f[96];

		if ((rc = first_difference(&at, pa, pb, end)))
			return rc;
		snprintf(f, sizeof(f), "payload, from byte %" PRIu64, at);
		add(d, f, "", "");
	}
	return 0;
}

int ota_diff_artifacts(struct ota_diff *d, const char *a, const char *b)
{
	enum ota_artifact ka, kb;
	int rc;

	memset(d, 0, sizeof(*d));
	if ((rc = ota_detect_artifact(&ka, a)) ||
	    (rc = ota_detect_artifact(&kb, b)))
		return rc;
	if (ka != kb)
		return ota_error(OTA_EUSAGE,
				 "%s and %s are two kinds of artifact: diff "
				 "compares two packages or two MCUboot images",
				 a, b);
	if (ka == OTA_ARTIFACT_PACKAGE)
		rc = diff_packages(d, a, b);
	else if (ka == OTA_ARTIFACT_MCUBOOT)
		rc = diff_mcuboot(d, a, b);
	else
		return ota_error(OTA_EUSAGE,
				 "%s: a manifest: diff compares packages and "
				 "MCUboot images (compare manifests with "
				 "cmp: they are canonical)",
				 a);
	if (rc)
		return rc;
	if (d->n == 0)
		return 0;
	return ota_error(OTA_EDIFFERENT,
			 "%s and %s differ in %zu field%s of their signed "
			 "content, first: %s",
			 a, b, d->n + d->n_more,
			 d->n + d->n_more == 1 ? "" : "s", d->lines[0].field);
}
