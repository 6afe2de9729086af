/*
 * The host side of package reading (src/lib/package_check.c): what it adds
 * to the device verifier. Packages come from the test builder, signed by
 * keys the builder makes, so hostile-but-signed content can be tried.
 */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/trust.h"
#include "pkgbuild.h"
#include "trusted.h"

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
	cr_assert_eq(trust_pkey(&e->trust, e->key, "test key"), 0);
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

/* ---- SIGNING_TIME: signed first, then used for the chain ------------- */

/* Only the hierarchy is used here, not every helper of the fixtures. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "chain_fixtures.h"

#include <openssl/pem.h>

#define HOSTILE_TIME UINT64_C(17593982636503)

struct chain_env {
	struct env e;
	struct fx_pki p;
	uint8_t *der[2];
	int der_len[2];
	size_t time_off; /* of SIGNING_TIME's value */
	struct pkgb_pkg pkg;
};

/* A package signed through signer -> intermediate, with SIGNING_TIME t. */
static void chain_pkg(struct chain_env *c, uint64_t t)
{
	struct pkgb_desc d = { 0 };
	uint8_t tv[8];
	char root[128];
	FILE *f;

	pkgb_put64(tv, t);
	d.n_images = 1;
	d.images[0].data = content;
	d.images[0].len = sizeof(content);
	d.n_extra = 1;
	d.extra[0].type = OTAPKG_TLV_SIGNING_TIME;
	d.extra[0].value = tv;
	d.extra[0].len = 8;
	d.n_signers = 1;
	d.signers[0].key = c->p.signer_key;
	d.signers[0].n_certs = 2;
	for (int i = 0; i < 2; i++) {
		d.signers[0].certs[i] = c->der[i];
		d.signers[0].cert_lens[i] = (size_t)c->der_len[i];
	}
	pkgb_free(&c->pkg);
	pkgb_build(&c->pkg, &d);
	c->time_off = 0;
	for (unsigned i = 0; i < c->pkg.n_tlvs; i++)
		if (c->pkg.tlv_type[i] == OTAPKG_TLV_SIGNING_TIME)
			c->time_off = c->pkg.tlv_off[i] + 4;
	cr_assert_neq(c->time_off, 0);
	f = fopen(c->e.pkg, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(c->pkg.data, 1, c->pkg.len, f), c->pkg.len);
	cr_assert_eq(fclose(f), 0);
	snprintf(root, sizeof(root), "%s/root.pem", c->e.dir);
	if (access(root, F_OK) != 0) {
		f = fopen(root, "w");
		cr_assert_not_null(f);
		cr_assert(PEM_write_X509(f, c->p.root));
		cr_assert_eq(fclose(f), 0);
		cr_assert_eq(ota_trust_add_anchors(&c->e.trust, root), 0, "%s",
			     ota_error_message());
	}
}

static void chain_env_init(struct chain_env *c)
{
	memset(c, 0, sizeof(*c));
	env_init(&c->e);
	/* Trust by the chain only: the builder's own key is not the signer. */
	ota_trust_clear(&c->e.trust);
	ota_trust_init(&c->e.trust);
	fx_pki(&c->p);
	c->der_len[0] = i2d_X509(c->p.signer, &c->der[0]);
	c->der_len[1] = i2d_X509(c->p.inter, &c->der[1]);
	cr_assert(c->der_len[0] > 0 && c->der_len[1] > 0);
}

static void chain_env_free(struct chain_env *c)
{
	OPENSSL_free(c->der[0]);
	OPENSSL_free(c->der[1]);
	pkgb_free(&c->pkg);
	env_free(&c->e);
	fx_release();
}

/* Rewrites the SIGNING_TIME of the file after signing: a forgery. */
static void forge_time(struct chain_env *c, uint64_t t)
{
	FILE *f = fopen(c->e.pkg, "r+b");
	uint8_t tv[8];

	pkgb_put64(tv, t);
	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, (long)c->time_off, SEEK_SET), 0);
	cr_assert_eq(fwrite(tv, 1, 8, f), 8);
	cr_assert_eq(fclose(f), 0);
}

static int check_chain_pkg(struct chain_env *c, struct ota_package_report *r)
{
	struct ota_package_check_opts o = { .trust = &c->e.trust };

	return ota_package_check(r, c->e.pkg, &o);
}

Test(package_read, chain_judged_at_the_signing_time)
{
	struct ota_package_report r;
	struct chain_env c;

	chain_env_init(&c);
	chain_pkg(&c, (uint64_t)T_CHECK);
	cr_assert_eq(check_chain_pkg(&c, &r), 0, "%s", r.error);
	cr_assert_eq(r.sigs[0].trust->verdict, OTA_TRUST_VALID);
	ota_package_report_clear(&r);
	/* Signed when the signer had expired: the chain is refused. */
	chain_pkg(&c, (uint64_t)T_2035);
	cr_assert_eq(check_chain_pkg(&c, &r), OTA_EUNTRUSTED, "%s", r.error);
	ota_package_report_clear(&r);
	chain_env_free(&c);
}

/* A signer that did sign an impossible time: a refused chain, saying so. */
Test(package_read, signed_time_out_of_range_refuses_the_chain)
{
	struct ota_package_report r;
	struct chain_env c;
	char want[96];

	chain_env_init(&c);
	chain_pkg(&c, HOSTILE_TIME);
	cr_assert_eq(check_chain_pkg(&c, &r), OTA_EUNTRUSTED, "%s", r.error);
	snprintf(want, sizeof(want), "SIGNING_TIME at offset %zu is %llu",
		 c.time_off, (unsigned long long)HOSTILE_TIME);
	cr_assert(strstr(r.error, want), "%s lacks %s", r.error, want);
	cr_assert(strstr(r.error, "out of range"), "%s", r.error);
	cr_assert(strstr(r.error, c.e.pkg), "%s", r.error);
	cr_assert_eq(r.sigs[0].trust->verdict, OTA_TRUST_CHAIN_FAIL);
	cr_assert(strstr(r.sigs[0].trust->message, want), "%s",
		  r.sigs[0].trust->message);
	cr_assert_eq(r.stopped, OTA_PACKAGE_STOP_SIGNATURE);
	ota_package_report_clear(&r);
	/* --at gives the time instead: then the chain can be judged. */
	c.e.trust.has_at = true;
	c.e.trust.at = T_CHECK;
	cr_assert_eq(check_chain_pkg(&c, &r), 0, "%s", r.error);
	ota_package_report_clear(&r);
	chain_env_free(&c);
}

/* A forged SIGNING_TIME is a bad signature (5), whatever its value. */
Test(package_read, forged_signing_time_is_a_bad_signature)
{
	static const uint64_t forged[] = { HOSTILE_TIME, UINT64_MAX,
					   (uint64_t)T_2035, (uint64_t)T_2020,
					   (uint64_t)T_CHECK + 1 };
	struct ota_package_report r;
	struct chain_env c;

	chain_env_init(&c);
	chain_pkg(&c, (uint64_t)T_CHECK);
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		forge_time(&c, forged[i]);
		cr_assert_eq(check_chain_pkg(&c, &r), OTA_EVERIFY,
			     "time %llu: %s", (unsigned long long)forged[i],
			     r.error);
		cr_assert_eq(r.sigs[0].trust->verdict, OTA_TRUST_BAD_SIG);
		cr_assert(strstr(r.error, "signature 0: "), "%s", r.error);
		cr_assert(strstr(r.error, "does not verify"), "%s", r.error);
		cr_assert_eq(r.stopped, OTA_PACKAGE_STOP_SIGNATURE);
		ota_package_report_clear(&r);
	}
	chain_env_free(&c);
}

/*
 * A trusted key's bad signature beside a good one is tampering: refused,
 * and the report says it stopped at the signatures, not that it read a
 * valid package (found by fuzz/fuzz_package_check.c).
 */
Test(package_read, bad_trusted_signature_beside_a_good_one)
{
	struct pkgb_desc d = { 0 };
	struct pkgb_pkg pkg = { 0 };
	struct ota_package_report r;
	struct env e;
	EVP_PKEY *k2 = pkgb_key(OTAPKG_SIG_ED25519);
	FILE *f;

	env_init(&e);
	cr_assert_eq(trust_pkey(&e.trust, k2, "second key"), 0);
	d.n_images = 1;
	d.images[0].name = "app";
	d.images[0].data = content;
	d.images[0].len = sizeof(content);
	d.n_signers = 2;
	d.signers[0].key = e.key;
	d.signers[1].key = k2;
	d.signers[1].corrupt = 1;
	pkgb_build(&pkg, &d);
	f = fopen(e.pkg, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(pkg.data, 1, pkg.len, f), pkg.len);
	cr_assert_eq(fclose(f), 0);
	pkgb_free(&pkg);
	cr_assert_eq(extract(&e, &r), OTA_EVERIFY);
	cr_assert(strstr(r.error, "signature 1: "), "%s", r.error);
	cr_assert_eq(r.stopped, OTA_PACKAGE_STOP_SIGNATURE);
	cr_assert_eq(entries(e.out), 0, "nothing extracted");
	ota_package_report_clear(&r);
	EVP_PKEY_free(k2);
	env_free(&e);
}

/* ---- delta packages: bases, rebuilding, refusals before any write ---- */

#include "otatool/delta.h"

static uint8_t d_base[6000], d_target[6500];

struct blob {
	uint8_t *p;
	size_t len;
};

static int blob_write(void *ctx, const uint8_t *data, size_t len)
{
	struct blob *b = ctx;

	b->p = realloc(b->p, b->len + len);
	cr_assert_not_null(b->p);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
}

static int same_file(const char *path, const uint8_t *p, size_t n)
{
	static uint8_t buf[8192];
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return 0;
	got = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return got == n && memcmp(buf, p, n) == 0;
}

/*
 * e->dir/base/app.bin holds the base; e->pkg a package whose image "app"
 * is the patch to d_target (its declared size target_len), "cfg" whole.
 */
static void write_delta_pkg(struct env *e, size_t target_len)
{
	char b[128], t[128];
	struct ota_delta_params params;
	struct blob patch = { 0 };
	struct pkgb_desc d = { 0 };
	struct pkgb_pkg pkg = { 0 };

	for (size_t i = 0; i < sizeof(d_base); i++)
		d_base[i] = (uint8_t)((i % 4 == 3) ? i * 31 : i % 41);
	memcpy(d_target, d_base, 3000);
	memcpy(d_target + 3000, "a new function", 14);
	memcpy(d_target + 3014, d_base + 3000, sizeof(d_base) - 3000);
	for (size_t i = 3014 + sizeof(d_base) - 3000; i < sizeof(d_target); i++)
		d_target[i] = (uint8_t)(i * 13); /* a new tail */
	snprintf(b, sizeof(b), "%s/base", e->dir);
	mkdir(b, 0755);
	snprintf(b, sizeof(b), "%s/base/app.bin", e->dir);
	snprintf(t, sizeof(t), "%s/target.bin", e->dir);
	put_file(b, d_base, sizeof(d_base));
	put_file(t, d_target, sizeof(d_target));
	ota_delta_params_default(&params);
	cr_assert_eq(ota_delta_encode(&params, b, t, blob_write, &patch, NULL),
		     0);
	d.n_images = 2;
	d.images[0].name = "app";
	d.images[0].data = d_target;
	d.images[0].len = target_len;
	d.images[0].patch = patch.p;
	d.images[0].patch_len = patch.len;
	d.images[0].base = d_base;
	d.images[0].base_len = sizeof(d_base);
	d.images[1].name = "cfg";
	d.images[1].data = content;
	d.images[1].len = sizeof(content);
	d.n_signers = 1;
	d.signers[0].key = e->key;
	pkgb_build(&pkg, &d);
	put_file(e->pkg, pkg.data, pkg.len);
	pkgb_free(&pkg);
	free(patch.p);
}

static int check_with(struct env *e, struct ota_package_report *r,
		      const char *bases_path, bool extract)
{
	struct ota_package_check_opts o = { .trust = &e->trust };
	struct ota_package_bases *b = NULL;
	int rc;

	if (bases_path)
		cr_assert_eq(ota_package_bases_open(&b, bases_path, &e->trust),
			     0, "%s", ota_error_message());
	o.bases = b;
	o.extract_dir = extract ? e->out : NULL;
	rc = ota_package_check(r, e->pkg, &o);
	ota_package_bases_free(b);
	return rc;
}

Test(package_delta, rebuilds_from_a_base_directory)
{
	struct env e;
	struct ota_package_report r;
	char base[128], path[160];

	env_init(&e);
	write_delta_pkg(&e, sizeof(d_target));
	snprintf(base, sizeof(base), "%s/base", e.dir);
	cr_assert_eq(check_with(&e, &r, base, true), 0, "%s",
		     ota_error_message());
	cr_assert(r.images[0].rebuilt && r.images[0].flashed_ok);
	cr_assert(r.images[0].has_base);
	cr_assert_eq(r.images[0].base_size, sizeof(d_base));
	cr_assert_eq(r.format_version, 2);
	cr_assert(ota_package_report_has_patch(&r));
	snprintf(path, sizeof(path), "%s/app.bin", e.out);
	cr_assert(same_file(path, d_target, sizeof(d_target)));
	snprintf(path, sizeof(path), "%s/cfg.bin", e.out);
	cr_assert(same_file(path, content, sizeof(content)));
	ota_package_report_clear(&r);
	env_free(&e);
}

Test(package_delta, without_bases_checked_as_stored)
{
	struct env e;
	struct ota_package_report r;

	env_init(&e);
	write_delta_pkg(&e, sizeof(d_target));
	cr_assert_eq(check_with(&e, &r, NULL, false), 0, "%s",
		     ota_error_message());
	cr_assert(r.images[0].stored_ok);
	cr_assert_not(r.images[0].rebuilt);
	cr_assert_not(r.images[0].flashed_ok);
	ota_package_report_clear(&r);
	/* but its images cannot be written out: nothing is */
	cr_assert_eq(check_with(&e, &r, NULL, true), OTA_EUSAGE);
	cr_assert(strstr(ota_error_message(), "--base"));
	cr_assert_eq(entries(e.out), 0);
	ota_package_report_clear(&r);
	env_free(&e);
}

Test(package_delta, wrong_or_missing_base_refused_before_any_write)
{
	struct env e;
	struct ota_package_report r;
	char base[128], path[160];

	env_init(&e);
	write_delta_pkg(&e, sizeof(d_target));
	snprintf(base, sizeof(base), "%s/base", e.dir);
	snprintf(path, sizeof(path), "%s/base/app.bin", e.dir);
	d_base[10] ^= 1;
	put_file(path, d_base, sizeof(d_base));
	cr_assert_eq(check_with(&e, &r, base, true), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "expected, "), "%s",
		  ota_error_message());
	cr_assert(r.images[0].failed);
	cr_assert_eq(entries(e.out), 0);
	ota_package_report_clear(&r);
	unlink(path);
	cr_assert_eq(check_with(&e, &r, base, true), OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), "no base image"));
	cr_assert_eq(entries(e.out), 0);
	ota_package_report_clear(&r);
	env_free(&e);
}

Test(package_delta, patch_building_another_size_refused)
{
	struct env e;
	struct ota_package_report r;
	char base[128];

	env_init(&e);
	/* signed as one byte shorter than the patch builds */
	write_delta_pkg(&e, sizeof(d_target) - 1);
	snprintf(base, sizeof(base), "%s/base", e.dir);
	cr_assert_eq(check_with(&e, &r, base, true), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "the patch builds 6500 bytes"),
		  "%s", ota_error_message());
	cr_assert_eq(entries(e.out), 0);
	ota_package_report_clear(&r);
	env_free(&e);
}

Test(package_delta, bases_from_a_package)
{
	struct env e;
	struct ota_package_bases *b = NULL;
	struct ota_trust other;
	EVP_PKEY *k2 = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	char tmp[128], path[4096], dir[4096];

	env_init(&e);
	snprintf(tmp, sizeof(tmp), "%s/tmp", e.dir);
	cr_assert_eq(mkdir(tmp, 0755), 0);
	setenv("TMPDIR", tmp, 1);
	write_pkg(&e, "one", "two");
	cr_assert_eq(ota_package_bases_open(&b, e.pkg, &e.trust), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(ota_package_bases_origin(b), e.pkg);
	cr_assert_eq(ota_package_bases_find(b, "one", path, sizeof(path)), 0);
	cr_assert(same_file(path, content, sizeof(content)));
	cr_assert_eq(ota_package_bases_find(b, "three", path, sizeof(path)), 1);
	cr_assert_eq(ota_package_bases_find(b, "../one", path, sizeof(path)),
		     1);
	cr_assert_eq(entries(tmp), 1);
	ota_package_bases_free(b);
	cr_assert_eq(entries(tmp), 0, "the temporary directory was left");
	/* a package that does not verify: nothing left behind either */
	ota_trust_init(&other);
	cr_assert_eq(trust_pkey(&other, k2, "other"), 0);
	cr_assert_eq(ota_package_bases_open(&b, e.pkg, &other), OTA_EVERIFY);
	cr_assert_null(b);
	cr_assert(strstr(ota_error_message(), "as the base release"));
	cr_assert_eq(entries(tmp), 0);
	/* neither a package nor a directory */
	snprintf(dir, sizeof(dir), "%s/nothing", e.dir);
	cr_assert_eq(ota_package_bases_open(&b, dir, &e.trust), OTA_EINPUT);
	ota_trust_clear(&other);
	EVP_PKEY_free(k2);
	unsetenv("TMPDIR");
	env_free(&e);
}
