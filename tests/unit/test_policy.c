/*
 * Unit tests for src/lib/policy.c, the host's device policy, and the pin
 * between it and the device verifier's own freestanding copy
 * (src/device/otaverify.c): one table of cases, each row driven through
 * ota_policy_judge, through ota_package_check on a package file, and
 * through otav on the same package's bytes. The three must agree.
 */
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/policy.h"
#include "otatool/trust.h"
#include "otaverify.h"
#include "owned.h"
#include "pkgbuild.h"
#include "trusted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX32 0xffffffffu

/* Which checks of a row fail on their own (the first one is the verdict). */
enum { F_HW = 1, F_CNT = 2, F_BOOT = 4 };

struct row {
	const char *what;
	/* the device */
	const char *hardware; /* NULL: not checked */
	int check_counter;
	uint32_t counter;
	int check_bootloader;
	uint32_t bootloader[3];
	/* the release */
	unsigned n_hardware; /* 0: an empty list, which no package holds */
	const char *release_hw[3];
	uint32_t release_counter;
	int has_min;
	uint32_t min[3];
	/* the expected result */
	unsigned fails;
};

/* The release most rows start from: two variants, counter 7, min 1.2.3. */
#define REL2                                                                   \
	2, { "board-a", "board-b" }, 7, 1,                                     \
	{                                                                      \
		1, 2, 3                                                        \
	}

static const struct row rows[] = {
	{ "nothing asked", NULL, 0, 0, 0, { 0 }, REL2, 0 },
	/* hardware */
	{ "hardware listed first", "board-a", 0, 0, 0, { 0 }, REL2, 0 },
	{ "hardware listed second", "board-b", 0, 0, 0, { 0 }, REL2, 0 },
	{ "hardware unlisted", "board-z", 0, 0, 0, { 0 }, REL2, F_HW },
	{ "hardware a prefix of a listed one",
	  "board-",
	  0,
	  0,
	  0,
	  { 0 },
	  REL2,
	  F_HW },
	{ "hardware a listed one plus more",
	  "board-aa",
	  0,
	  0,
	  0,
	  { 0 },
	  REL2,
	  F_HW },
	{ "hardware empty id", "", 0, 0, 0, { 0 }, REL2, F_HW },
	{ "hardware, empty list",
	  "board-a",
	  0,
	  0,
	  0,
	  { 0 },
	  0,
	  { 0 },
	  7,
	  1,
	  { 1, 2, 3 },
	  F_HW },
	{ "no hardware asked, empty list",
	  NULL,
	  0,
	  0,
	  0,
	  { 0 },
	  0,
	  { 0 },
	  7,
	  1,
	  { 1, 2, 3 },
	  0 },
	/* anti-rollback counter */
	{ "counter equal", NULL, 1, 7, 0, { 0 }, REL2, 0 },
	{ "counter: release lower", NULL, 1, 8, 0, { 0 }, REL2, F_CNT },
	{ "counter: release higher", NULL, 1, 6, 0, { 0 }, REL2, 0 },
	{ "counter both 0",
	  NULL,
	  1,
	  0,
	  0,
	  { 0 },
	  1,
	  { "board-a" },
	  0,
	  0,
	  { 0 },
	  0 },
	{ "counter: release 0, device 1",
	  NULL,
	  1,
	  1,
	  0,
	  { 0 },
	  1,
	  { "board-a" },
	  0,
	  0,
	  { 0 },
	  F_CNT },
	{ "counter both max",
	  NULL,
	  1,
	  MAX32,
	  0,
	  { 0 },
	  1,
	  { "board-a" },
	  MAX32,
	  0,
	  { 0 },
	  0 },
	{ "counter: release max - 1, device max",
	  NULL,
	  1,
	  MAX32,
	  0,
	  { 0 },
	  1,
	  { "board-a" },
	  MAX32 - 1,
	  0,
	  { 0 },
	  F_CNT },
	{ "counter: release max, device 0",
	  NULL,
	  1,
	  0,
	  0,
	  { 0 },
	  1,
	  { "board-a" },
	  MAX32,
	  0,
	  { 0 },
	  0 },
	/* bootloader minimum, by each component */
	{ "bootloader equal", NULL, 0, 0, 1, { 1, 2, 3 }, REL2, 0 },
	{ "bootloader older by major",
	  NULL,
	  0,
	  0,
	  1,
	  { 0, 9, 9 },
	  REL2,
	  F_BOOT },
	{ "bootloader older by minor",
	  NULL,
	  0,
	  0,
	  1,
	  { 1, 1, 9 },
	  REL2,
	  F_BOOT },
	{ "bootloader older by patch",
	  NULL,
	  0,
	  0,
	  1,
	  { 1, 2, 2 },
	  REL2,
	  F_BOOT },
	{ "bootloader newer by major", NULL, 0, 0, 1, { 2, 0, 0 }, REL2, 0 },
	{ "bootloader newer by minor", NULL, 0, 0, 1, { 1, 3, 0 }, REL2, 0 },
	{ "bootloader newer by patch", NULL, 0, 0, 1, { 1, 2, 4 }, REL2, 0 },
	{ "bootloader older, patch max",
	  NULL,
	  0,
	  0,
	  1,
	  { 1, 1, MAX32 },
	  REL2,
	  F_BOOT },
	{ "bootloader, minimum max",
	  NULL,
	  0,
	  0,
	  1,
	  { MAX32, MAX32, MAX32 - 1 },
	  1,
	  { "board-a" },
	  7,
	  1,
	  { MAX32, MAX32, MAX32 },
	  F_BOOT },
	{ "bootloader, no minimum",
	  NULL,
	  0,
	  0,
	  1,
	  { 0, 0, 0 },
	  1,
	  { "board-a" },
	  7,
	  0,
	  { 0 },
	  0 },
	/* several at once: hardware, then counter, then bootloader */
	{ "all three fail",
	  "board-z",
	  1,
	  8,
	  1,
	  { 0, 0, 0 },
	  REL2,
	  F_HW | F_CNT | F_BOOT },
	{ "counter and bootloader fail",
	  "board-a",
	  1,
	  8,
	  1,
	  { 0, 0, 0 },
	  REL2,
	  F_CNT | F_BOOT },
	{ "hardware and bootloader fail",
	  "board-z",
	  1,
	  7,
	  1,
	  { 1, 2, 2 },
	  REL2,
	  F_HW | F_BOOT },
	{ "all three pass", "board-b", 1, 7, 1, { 1, 2, 3 }, REL2, 0 },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static int code_of(unsigned fails)
{
	return (fails & F_HW)    ? OTA_EHARDWARE
	       : (fails & F_CNT) ? OTA_EROLLBACK
	       : fails           ? OTA_EBOOTLOADER
				 : 0;
}

static enum otav_status status_of(unsigned fails)
{
	return (fails & F_HW)    ? OTAV_E_HARDWARE
	       : (fails & F_CNT) ? OTAV_E_ROLLBACK
	       : fails           ? OTAV_E_BOOTLOADER
				 : OTAV_OK;
}

static void device_of(struct ota_device_facts *d, const struct row *r)
{
	memset(d, 0, sizeof(*d));
	d->hardware = r->hardware;
	d->check_counter = r->check_counter;
	d->counter = r->counter;
	d->check_bootloader = r->check_bootloader;
	for (int i = 0; i < 3; i++)
		d->bootloader[i] = r->bootloader[i];
}

static void release_of(struct ota_release_facts *f, const struct row *r)
{
	memset(f, 0, sizeof(*f));
	f->n_hardware = r->n_hardware;
	for (unsigned i = 0; i < r->n_hardware; i++)
		f->hardware[i] = r->release_hw[i];
	f->has_counter = true;
	f->counter = r->release_counter;
	f->has_bootloader_min = r->has_min;
	for (int i = 0; i < 3; i++)
		f->bootloader_min[i] = r->min[i];
}

/* The lines: one per fact the device gave, in order, failing as the row. */
static void expect_lines(const struct ota_policy_report *p, const struct row *r)
{
	static const char *const names[] = { "hardware", "security counter",
					     "bootloader" };
	const int asked[] = { r->hardware != NULL, r->check_counter,
			      r->check_bootloader };
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		if (!asked[i])
			continue;
		cr_assert_lt(n, p->n_checks, "%s: no line %s", r->what,
			     names[i]);
		cr_assert_str_eq(p->checks[n].name, names[i], "%s", r->what);
		cr_assert_eq(
		    p->checks[n].status,
		    (r->fails & (1u << i)) ? OTA_CHECK_FAIL : OTA_CHECK_OK,
		    "%s: %s: %s", r->what, names[i], p->checks[n].detail);
		cr_assert_neq(p->checks[n].detail[0], '\0');
		n++;
	}
	cr_assert_eq(p->n_checks, n, "%s", r->what);
}

Test(policy, the_host_judges_each_row)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		struct ota_device_facts d;
		struct ota_release_facts f;
		struct ota_policy_report p;
		int rc;

		device_of(&d, r);
		release_of(&f, r);
		rc = ota_policy_judge(&p, &d, &f, true);
		cr_assert_eq(rc, code_of(r->fails), "%s: rc %d (%s)", r->what,
			     rc, p.message);
		cr_assert_eq(p.rc, rc);
		cr_assert_eq(p.message[0] != '\0', rc != 0, "%s: \"%s\"",
			     r->what, p.message);
		expect_lines(&p, r);
	}
}

/* Without a trusted signature nothing is judged: every line skipped. */
Test(policy, nothing_judged_without_a_trusted_signature)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		struct ota_device_facts d;
		struct ota_release_facts f;
		struct ota_policy_report p;

		device_of(&d, r);
		release_of(&f, r);
		cr_assert_eq(ota_policy_judge(&p, &d, &f, false), 0, "%s",
			     r->what);
		cr_assert_eq(p.rc, 0);
		cr_assert_str_eq(p.message, "");
		cr_assert_eq(p.n_checks,
			     (size_t)((r->hardware != NULL) + r->check_counter +
				      r->check_bootloader));
		for (size_t k = 0; k < p.n_checks; k++) {
			cr_assert_eq(p.checks[k].status, OTA_CHECK_SKIPPED);
			cr_assert_str_eq(p.checks[k].detail,
					 "not checked (no trusted signature)");
		}
	}
}

Test(policy, messages_name_both_sides)
{
	struct ota_device_facts d = { .hardware = "board-z",
				      .check_counter = true,
				      .counter = 9,
				      .check_bootloader = true,
				      .bootloader = { 1, 0, 0 } };
	struct ota_release_facts f = { .n_hardware = 1,
				       .hardware = { "board-a" },
				       .has_counter = true,
				       .counter = 4,
				       .has_bootloader_min = true,
				       .bootloader_min = { 2, 5, 1 } };
	struct ota_policy_report p;

	cr_assert_eq(ota_policy_judge(&p, &d, &f, true), OTA_EHARDWARE);
	cr_assert(strstr(p.message, "\"board-z\""), "%s", p.message);
	d.hardware = NULL;
	cr_assert_eq(ota_policy_judge(&p, &d, &f, true), OTA_EROLLBACK);
	cr_assert(strstr(p.message, "4") && strstr(p.message, "9"), "%s",
		  p.message);
	f.has_counter = false; /* MCUboot without SEC_CNT: counts as 0 */
	f.counter = 0;
	cr_assert_eq(ota_policy_judge(&p, &d, &f, true), OTA_EROLLBACK);
	cr_assert(strstr(p.message, "no security counter"), "%s", p.message);
	d.check_counter = false;
	cr_assert_eq(ota_policy_judge(&p, &d, &f, true), OTA_EBOOTLOADER);
	cr_assert(strstr(p.message, "1.0.0") && strstr(p.message, "2.5.1"),
		  "%s", p.message);
	cr_assert(strstr(p.checks[0].detail, "older than the minimum"), "%s",
		  p.checks[0].detail);
}

/* ---- the same rows through a package: host reader and device verifier */

static uint8_t content[64];

/* The row's release as a package signed by key; n_hardware 0 is omitted. */
static void build(struct pkgb_pkg *pkg, const struct row *r, EVP_PKEY *key)
{
	struct pkgb_desc d = { 0 };

	d.counter = r->release_counter;
	d.has_bootloader_min = r->has_min;
	memcpy(d.bootloader_min, r->min, sizeof(d.bootloader_min));
	d.n_hardware = r->n_hardware;
	for (unsigned i = 0; i < r->n_hardware; i++)
		d.hardware[i] = r->release_hw[i];
	if (r->n_hardware == 0)
		d.omit = 1u << OTAPKG_TLV_HARDWARE;
	d.n_images = 1;
	d.images[0].data = content;
	d.images[0].len = sizeof(content);
	d.n_signers = 1;
	d.signers[0].key = key;
	pkgb_build(pkg, &d);
}

static enum otav_status device_verdict(const struct pkgb_pkg *pkg,
				       const struct row *r,
				       struct pkgb_crypto *c)
{
	static struct otav v;
	struct otav_policy pol = { 0 };

	pol.hardware = r->hardware;
	pol.check_counter = r->check_counter;
	pol.counter = r->counter;
	pol.check_bootloader = r->check_bootloader;
	memcpy(pol.bootloader, r->bootloader, sizeof(pol.bootloader));
	otav_init(&v, &c->ops, &pol, NULL);
	otav_feed(&v, pkg->data, pkg->len);
	return otav_finish(&v);
}

static int host_verdict(struct ota_package_report *rep, const char *path,
			const struct pkgb_pkg *pkg, const struct row *r,
			const struct ota_trust *trust)
{
	struct ota_device_facts d;
	struct ota_package_check_opts o = { .trust = trust, .device = &d };
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(pkg->data, 1, pkg->len, f), pkg->len);
	cr_assert_eq(fclose(f), 0);
	device_of(&d, r);
	return ota_package_check(rep, path, &o);
}

Test(policy, host_and_device_agree_on_each_row, .fini = release_owned)
{
	char dir[] = "/tmp/ota-policy.XXXXXX", path[64];
	EVP_PKEY *key = own(pkgb_key(OTAPKG_SIG_ECDSA_P256), release_pkey);
	struct pkgb_crypto c;
	struct ota_trust trust;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.otapkg", dir);
	pkgb_crypto_init(&c);
	pkgb_crypto_trust(&c, key);
	ota_trust_init(&trust);
	cr_assert_eq(trust_pkey(&trust, key, "test key"), 0);
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct row *r = &rows[i];
		struct ota_package_report rep;
		struct pkgb_pkg pkg;
		enum otav_status dev;
		int host;

		build(&pkg, r, key);
		dev = device_verdict(&pkg, r, &c);
		host = host_verdict(&rep, path, &pkg, r, &trust);
		if (r->n_hardware == 0) {
			/* No package holds an empty list: both refuse it as
			 * structure, before any policy. */
			cr_assert_eq(dev, OTAV_E_TLV, "%s: device %s", r->what,
				     otav_status_name(dev));
			cr_assert_eq(host, OTA_EVERIFY, "%s: %s", r->what,
				     rep.error);
			cr_assert_eq(rep.stopped, OTA_PACKAGE_STOP_STRUCTURE);
		} else {
			cr_assert_eq(dev, status_of(r->fails),
				     "%s: device says %s", r->what,
				     otav_status_name(dev));
			cr_assert_eq(host, code_of(r->fails), "%s: host: %s",
				     r->what, rep.error);
			cr_assert_eq(rep.stopped,
				     r->fails ? OTA_PACKAGE_STOP_POLICY
					      : OTA_PACKAGE_STOP_NONE,
				     "%s", r->what);
			expect_lines(&rep.policy, r);
		}
		ota_package_report_clear(&rep);
		pkgb_free(&pkg);
	}
	ota_trust_clear(&trust);
	pkgb_crypto_free(&c);
	unlink(path);
	rmdir(dir);
}

/* A policy failure names the offset of the fact, as the device does. */
Test(policy, package_refusals_name_the_device_offset, .fini = release_owned)
{
	static const struct row r = {
		"counter", "board-a", 1, 8, 1, { 0 }, REL2, F_CNT | F_BOOT
	};
	char dir[] = "/tmp/ota-policy.XXXXXX", path[64], want[32];
	EVP_PKEY *key = own(pkgb_key(OTAPKG_SIG_ECDSA_P256), release_pkey);
	struct ota_package_report rep;
	struct pkgb_crypto c;
	struct ota_trust trust;
	struct pkgb_pkg pkg;
	static struct otav v;
	struct otav_policy pol = { .hardware = "board-a",
				   .check_counter = 1,
				   .counter = 8,
				   .check_bootloader = 1 };

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.otapkg", dir);
	pkgb_crypto_init(&c);
	pkgb_crypto_trust(&c, key);
	ota_trust_init(&trust);
	cr_assert_eq(trust_pkey(&trust, key, "test key"), 0);
	build(&pkg, &r, key);
	otav_init(&v, &c.ops, &pol, NULL);
	otav_feed(&v, pkg.data, pkg.len);
	cr_assert_eq(otav_finish(&v), OTAV_E_ROLLBACK);
	cr_assert_eq(host_verdict(&rep, path, &pkg, &r, &trust), OTA_EROLLBACK);
	cr_assert_eq(rep.error_offset, v.err_offset);
	snprintf(want, sizeof(want),
		 "offset %llu:", (unsigned long long)v.err_offset);
	cr_assert(strstr(rep.error, want), "%s lacks %s", rep.error, want);
	cr_assert(strstr(rep.error, "(rollback)"), "%s", rep.error);
	ota_package_report_clear(&rep);
	pkgb_free(&pkg);
	ota_trust_clear(&trust);
	pkgb_crypto_free(&c);
	unlink(path);
	rmdir(dir);
}
