/*
 * Unit tests for src/lib/diff.c (otatool diff): packages from the test
 * builder that differ in one field each, or in an extra signed TLV that no
 * field shows, or only in their signatures.
 */
#include <criterion/criterion.h>

#include "otatool/diff.h"
#include "otatool/error.h"
#include "pkgbuild.h"
#include "tmpdir.h"

#include <stdio.h>
#include <string.h>

static char dir[256], pa[300], pb[300];
static uint8_t data[64];
static EVP_PKEY *key;

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "diff");
	snprintf(pa, sizeof(pa), "%s/a.otapkg", dir);
	snprintf(pb, sizeof(pb), "%s/b.otapkg", dir);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
}

static void teardown(void)
{
	EVP_PKEY_free(key);
	tmpdir_remove(dir);
}

TestSuite(diff, .init = setup, .fini = teardown, .timeout = 60);

static struct pkgb_desc base(void)
{
	struct pkgb_desc d = { 0 };

	d.n_images = 1;
	d.images[0].name = "app";
	d.images[0].data = data;
	d.images[0].len = sizeof(data);
	d.n_signers = 1;
	d.signers[0].key = key;
	return d;
}

static void write_pkg(const char *path, const struct pkgb_desc *d)
{
	struct pkgb_pkg pkg = { 0 };
	FILE *f;

	pkgb_build(&pkg, d);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(pkg.data, 1, pkg.len, f), pkg.len);
	cr_assert_eq(fclose(f), 0);
	pkgb_free(&pkg);
}

Test(diff, only_the_signatures_differ)
{
	struct pkgb_desc d = base();
	struct ota_diff r;

	/* ECDSA: a new signature each time, over the same signed region. */
	write_pkg(pa, &d);
	write_pkg(pb, &d);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), 0, "%s",
		     ota_error_message());
	cr_assert_eq(r.n, 0);
	cr_assert_str_eq(r.kind, "otatool package");
}

Test(diff, a_field_is_named_with_both_values)
{
	struct pkgb_desc d = base();
	struct ota_diff r;

	write_pkg(pa, &d);
	d.version = "1.2.4";
	d.counter = 5;
	write_pkg(pb, &d);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), OTA_EDIFFERENT);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.lines[0].field, "version");
	cr_assert_str_eq(r.lines[0].a, "1.2.3");
	cr_assert_str_eq(r.lines[0].b, "1.2.4");
	cr_assert_str_eq(r.lines[1].field, "security counter");
	cr_assert(strstr(ota_error_message(), "differ in 2 fields"), "%s",
		  ota_error_message());
}

Test(diff, a_signed_tlv_no_field_shows)
{
	static const uint8_t v[4] = { 1, 2, 3, 4 };
	struct pkgb_desc d = base();
	struct ota_diff r;

	write_pkg(pa, &d);
	d.n_extra = 1;
	d.extra[0] = (struct pkgb_tlv){ 0x8001, v, sizeof(v) };
	write_pkg(pb, &d);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), OTA_EDIFFERENT);
	cr_assert_eq(r.n, 1);
	cr_assert(strncmp(r.lines[0].field, "signed region, from byte ", 25) ==
		      0,
		  "%s", r.lines[0].field);
}

Test(diff, image_bytes)
{
	struct pkgb_desc d = base();
	struct ota_diff r;

	write_pkg(pa, &d);
	data[10] ^= 1;
	write_pkg(pb, &d);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), OTA_EDIFFERENT);
	cr_assert_str_eq(r.lines[0].field, "image app: digest");
	cr_assert_eq(strlen(r.lines[0].a), 64);
	cr_assert_str_neq(r.lines[0].a, r.lines[0].b);
}

Test(diff, damaged_or_mixed_inputs)
{
	struct pkgb_desc d = base();
	struct ota_diff r;
	FILE *f;

	write_pkg(pa, &d);
	f = fopen(pb, "wb");
	cr_assert_not_null(f);
	fputs("{\"not\": \"a package\"}\n", f);
	fclose(f);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), OTA_EUSAGE);
	write_pkg(pb, &d);
	f = fopen(pb, "r+b");
	cr_assert_not_null(f);
	fseek(f, 70, SEEK_SET);
	fputc(0xff, f);
	fclose(f);
	cr_assert_eq(ota_diff_artifacts(&r, pa, pb), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), pb), "%s", ota_error_message());
}
