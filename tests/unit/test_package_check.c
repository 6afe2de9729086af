/*
 * The host side of package reading (src/lib/package_read.c): what it adds
 * to the device verifier. Packages come from the test builder, signed by
 * keys the builder makes, so hostile-but-signed content can be tried.
 */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/trust.h"
#include "pkgbuild.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t content[100];

struct env {
	char dir[64], pkg[96], out[96];
	EVP_PKEY *key;
	struct ota_trust trust;
};

static void env_init(struct env *e)
{
	snprintf(e->dir, sizeof(e->dir), "/tmp/ota-pkgread.XXXXXX");
	cr_assert_not_null(mkdtemp(e->dir));
	snprintf(e->pkg, sizeof(e->pkg), "%s/p.otapkg", e->dir);
	snprintf(e->out, sizeof(e->out), "%s/out", e->dir);
	cr_assert_eq(mkdir(e->out, 0755), 0);
	e->key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	ota_trust_init(&e->trust);
	cr_assert_eq(ota_trust_add_pkey(&e->trust, e->key, "test key"), 0);
}

static void env_free(struct env *e)
{
	char cmd[128];

	ota_trust_clear(&e->trust);
	EVP_PKEY_free(e->key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	cr_assert_eq(system(cmd), 0);
}

/* A signed package with two images named a and b, written to e->pkg. */
static void write_pkg(struct env *e, const char *a, const char *b)
{
	struct pkgb_desc d = { 0 };
	struct pkgb_pkg pkg = { 0 };
	FILE *f;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 3 + 1);
	d.n_images = 2;
	d.images[0].name = a;
	d.images[0].data = content;
	d.images[0].len = sizeof(content);
	d.images[1].name = b;
	d.images[1].data = content;
	d.images[1].len = sizeof(content);
	d.n_signers = 1;
	d.signers[0].key = e->key;
	pkgb_build(&pkg, &d);
	f = fopen(e->pkg, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(pkg.data, 1, pkg.len, f), pkg.len);
	cr_assert_eq(fclose(f), 0);
	pkgb_free(&pkg);
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' ||
		     (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	return n;
}

static int extract(struct env *e, struct ota_package_report *r)
{
	struct ota_package_check_opts o = { .trust = &e->trust,
					    .extract_dir = e->out };

	return ota_package_check(r, e->pkg, &o);
}

Test(package_read, extracts_a_signed_package)
{
	struct ota_package_report r;
	struct env e;
	char path[160];
	struct stat st;

	env_init(&e);
	write_pkg(&e, "boot", "app");
	cr_assert_eq(extract(&e, &r), 0, "%s", r.error);
	snprintf(path, sizeof(path), "%s/app.bin", e.out);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, (off_t)sizeof(content));
	cr_assert_eq(entries(e.out), 2);
	ota_package_report_clear(&r);
	env_free(&e);
}

/* Signed names are data, not paths: nothing may land outside out/. */
Test(package_read, signed_names_cannot_escape_the_directory)
{
	static const char *const bad[] = { "../escape", "a/b", ".hidden", "..",
					   "sp ace" };
	struct ota_package_report r;
	struct env e;
	char path[160];

	env_init(&e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_pkg(&e, "boot", bad[i]);
		cr_assert_eq(extract(&e, &r), OTA_EVERIFY, "name %s", bad[i]);
		cr_assert(strstr(r.error, "cannot be a file name"), "%s",
			  r.error);
		ota_package_report_clear(&r);
		cr_assert_eq(entries(e.out), 0, "name %s left files", bad[i]);
	}
	snprintf(path, sizeof(path), "%s/escape.bin", e.dir);
	cr_assert_neq(access(path, F_OK), 0);
	env_free(&e);
}

Test(package_read, duplicate_names_refused)
{
	struct ota_package_report r;
	struct env e;

	env_init(&e);
	write_pkg(&e, "app", "app");
	cr_assert_eq(extract(&e, &r), OTA_EVERIFY);
	cr_assert(strstr(r.error, "used twice"), "%s", r.error);
	cr_assert_eq(entries(e.out), 0);
	ota_package_report_clear(&r);
	env_free(&e);
}
