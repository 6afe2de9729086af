/*
 * Unit tests for src/device/otaverify.c, the device-side package verifier:
 * packages built by pkgbuild.c and signed with OpenSSL, fed whole, byte by
 * byte and in random chunks; every policy, signature and digest refusal;
 * every bit flip and every truncation of a small package; hostile length
 * fields; events. Also writes (OTAV_WRITE_SEEDS=DIR) and checks the fuzz
 * seeds in fuzz/corpus/package.
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otaverify.h"
#include "pkgbuild.h"

/* The fuzz target's stand-in crypto and policy: the seeds must match it. */
#define FUZZ_PACKAGE_NO_MAIN
#include "../../fuzz/fuzz_package.c"

/* ---- fixture: a small package with two images and one P-256 signature */

static uint8_t content0[37], content1[80];

/* The policy a device that the standard package fits would have. */
static const struct otav_policy good_policy = {
	.hardware = "board-b",
	.check_counter = 1,
	.counter = 7,
	.check_bootloader = 1,
	.bootloader = { 1, 2, 0 },
};

struct fx {
	EVP_PKEY *key;
	struct pkgb_crypto c;
	struct pkgb_desc d;
	struct pkgb_pkg pkg;
	struct otav v;
	struct otav_policy pol;
};

static void std_desc(struct pkgb_desc *d, EVP_PKEY *key)
{
	size_t i;

	for (i = 0; i < sizeof(content0); i++)
		content0[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(content1); i++)
		content1[i] = (uint8_t)(255 - i);
	memset(d, 0, sizeof(*d));
	d->counter = 7;
	d->has_bootloader_min = 1;
	d->bootloader_min[0] = 1;
	d->bootloader_min[1] = 2;
	d->n_hardware = 2;
	d->hardware[0] = "board-a";
	d->hardware[1] = "board-b";
	d->n_images = 2;
	d->images[0].kind = OTAPKG_KIND_BOOTLOADER;
	d->images[0].name = "boot";
	d->images[0].data = content0;
	d->images[0].len = sizeof(content0);
	d->images[1].name = "app";
	d->images[1].data = content1;
	d->images[1].len = sizeof(content1);
	d->n_signers = 1;
	d->signers[0].key = key;
}

/* A fixture with a trusted P-256 key and the standard description. */
static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	cr_assert_not_null(f);
	f->key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	pkgb_crypto_init(&f->c);
	pkgb_crypto_trust(&f->c, f->key);
	std_desc(&f->d, f->key);
	f->pol = good_policy;
	return f;
}

static void fx_free(struct fx *f)
{
	pkgb_free(&f->pkg);
	pkgb_crypto_free(&f->c);
	EVP_PKEY_free(f->key);
	free(f);
}

static struct fx *fx_built(void)
{
	struct fx *f = fx_new();

	pkgb_build(&f->pkg, &f->d);
	return f;
}

/* Feeds p[0..n) in chunks of chunk bytes (0: all at once), then finishes. */
static enum otav_status run(struct otav *v, const struct otav_crypto *c,
			    const struct otav_policy *pol,
			    const struct otav_events *ev, const uint8_t *p,
			    size_t n, size_t chunk)
{
	size_t i, m;

	otav_init(v, c, pol, ev);
	if (chunk == 0)
		chunk = n > 0 ? n : 1;
	for (i = 0; i < n; i += m) {
		m = n - i < chunk ? n - i : chunk;
		otav_feed(v, p + i, m);
	}
	return otav_finish(v);
}

static enum otav_status fx_run(struct fx *f, size_t chunk)
{
	return run(&f->v, &f->c.ops, &f->pol, NULL, f->pkg.data, f->pkg.len,
		   chunk);
}

/*
 * Runs the fixture's (modified) package whole and byte by byte and checks
 * both give status st at offset off, with what_part in the message.
 */
static void expect(struct fx *f, enum otav_status st, uint64_t off,
		   const char *what_part)
{
	static struct otav bytewise;
	enum otav_status got = fx_run(f, 0);

	cr_assert_eq(got, st, "got %s (%s at %" PRIu64 "), want %s",
		     otav_status_name(got), f->v.err_what ? f->v.err_what : "-",
		     f->v.err_offset, otav_status_name(st));
	cr_assert_eq(f->v.err_offset, off,
		     "%s: error at %" PRIu64 ", want %" PRIu64 " (%s)",
		     otav_status_name(st), f->v.err_offset, off, f->v.err_what);
	if (what_part != NULL)
		cr_assert(strstr(f->v.err_what, what_part) != NULL,
			  "message \"%s\" lacks \"%s\"", f->v.err_what,
			  what_part);
	cr_assert_eq(run(&bytewise, &f->c.ops, &f->pol, NULL, f->pkg.data,
			 f->pkg.len, 1),
		     st, "byte by byte differs: %s",
		     otav_status_name(bytewise.status));
	cr_assert_eq(bytewise.err_offset, off);
	if (st != OTAV_OK)
		cr_assert_str_eq(bytewise.err_what, f->v.err_what);
}

static size_t tlv_of(const struct pkgb_pkg *pkg, uint16_t type, unsigned nth)
{
	unsigned i;

	for (i = 0; i < pkg->n_tlvs; i++)
		if (pkg->tlv_type[i] == type && nth-- == 0)
			return pkg->tlv_off[i];
	cr_assert_fail("no TLV 0x%04x", type);
	return 0;
}

/* ---- streaming ---- */

Test(otav_stream, whole_package)
{
	struct fx *f = fx_built();
	const struct otav_info *in = &f->v.info;

	cr_assert_eq(f->pkg.len, 608, "fixture size changed: %zu", f->pkg.len);
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.offset, f->pkg.len);
	cr_assert_eq(in->total_size, f->pkg.len);
	cr_assert_eq(in->digest_alg, OTAPKG_DIGEST_SHA256);
	cr_assert_eq(in->image_count, 2);
	cr_assert_eq(in->alignment, 16);
	cr_assert_eq(in->protected_size, f->pkg.region_end - 64);
	cr_assert_eq(in->sigblock_size, f->pkg.sig_end - f->pkg.region_end);
	cr_assert_eq(in->security_counter, 7);
	cr_assert(in->has_bootloader_min);
	cr_assert_eq(in->bootloader_min[0], 1);
	cr_assert_eq(in->bootloader_min[1], 2);
	cr_assert_eq(in->bootloader_min[2], 0);
	cr_assert_eq(in->n_hardware, 2);
	cr_assert_eq(in->n_sigs, 1);
	cr_assert_eq(in->trusted_sig, 0);
	cr_assert_arr_eq(in->region_digest, f->pkg.region_digest, 32);
	cr_assert_eq(in->images[0].kind, OTAPKG_KIND_BOOTLOADER);
	cr_assert_str_eq(in->images[0].name, "boot");
	cr_assert_str_eq(in->images[1].name, "app");
	cr_assert_eq(in->images[0].offset, f->pkg.image_off[0]);
	cr_assert_eq(in->images[1].offset, f->pkg.image_off[1]);
	cr_assert_eq(in->images[1].stored_size, sizeof(content1));
	cr_assert_eq(in->images[1].size, sizeof(content1));
	cr_assert_eq(f->c.n_verify, 2, "one verify per run, two runs");
	fx_free(f);
}

Test(otav_stream, byte_at_a_time_matches_whole)
{
	struct fx *f = fx_built();
	static struct otav whole;

	cr_assert_eq(
	    run(&whole, &f->c.ops, &f->pol, NULL, f->pkg.data, f->pkg.len, 0),
	    OTAV_OK);
	cr_assert_eq(fx_run(f, 1), OTAV_OK, "%s", f->v.err_what);
	cr_assert_eq(memcmp(&whole.info, &f->v.info, sizeof(whole.info)), 0);
	fx_free(f);
}

Test(otav_stream, random_chunks_match_whole)
{
	struct fx *f = fx_built();
	static struct otav whole;
	unsigned seed = 12345, round;

	cr_assert_eq(
	    run(&whole, &f->c.ops, &f->pol, NULL, f->pkg.data, f->pkg.len, 0),
	    OTAV_OK);
	for (round = 0; round < 200; round++) {
		size_t i = 0, m;

		otav_init(&f->v, &f->c.ops, &f->pol, NULL);
		while (i < f->pkg.len) {
			seed = seed * 1103515245u + 12345u;
			m = 1 + (seed >> 16) % (round % 3 == 0 ? 5 : 150);
			if (m > f->pkg.len - i)
				m = f->pkg.len - i;
			cr_assert_eq(otav_feed(&f->v, f->pkg.data + i, m),
				     OTAV_OK, "round %u at %zu: %s", round, i,
				     f->v.err_what);
			i += m;
		}
		cr_assert_eq(otav_finish(&f->v), OTAV_OK);
		cr_assert_eq(
		    memcmp(&whole.info, &f->v.info, sizeof(whole.info)), 0,
		    "round %u", round);
	}
	fx_free(f);
}

Test(otav_stream, every_truncation_is_truncated)
{
	struct fx *f = fx_built();
	size_t n;

	for (n = 0; n < f->pkg.len; n++) {
		enum otav_status st =
		    run(&f->v, &f->c.ops, &f->pol, NULL, f->pkg.data, n, 0);

		cr_assert_eq(st, OTAV_E_TRUNCATED, "length %zu: %s (%s)", n,
			     otav_status_name(st), f->v.err_what);
		cr_assert_eq(f->v.err_offset, n);
	}
	fx_free(f);
}

Test(otav_stream, one_extra_byte_is_trailing)
{
	struct fx *f = fx_built();
	uint8_t *p = malloc(f->pkg.len + 1);
	static const uint8_t zero;

	cr_assert_not_null(p);
	memcpy(p, f->pkg.data, f->pkg.len);
	p[f->pkg.len] = 0;
	cr_assert_eq(run(&f->v, &f->c.ops, &f->pol, NULL, p, f->pkg.len + 1, 0),
		     OTAV_E_TRAILING);
	cr_assert_eq(f->v.err_offset, f->pkg.len);
	/* Also when the extra byte comes in a later call. */
	cr_assert_eq(fx_run(f, 0), OTAV_OK);
	cr_assert_eq(otav_feed(&f->v, &zero, 1), OTAV_E_TRAILING);
	cr_assert_eq(f->v.err_offset, f->pkg.len);
	cr_assert_eq(otav_finish(&f->v), OTAV_E_TRAILING);
	free(p);
	fx_free(f);
}

Test(otav_stream, every_bit_flip_is_rejected)
{
	struct fx *f = fx_built();
	uint8_t *p = malloc(f->pkg.len);
	unsigned counts[OTAV_E_ABORTED + 1] = { 0 };
	size_t i;
	int bit;

	cr_assert_not_null(p);
	for (i = 0; i < f->pkg.len; i++)
		for (bit = 0; bit < 8; bit++) {
			enum otav_status st;

			memcpy(p, f->pkg.data, f->pkg.len);
			p[i] ^= (uint8_t)(1u << bit);
			st = run(&f->v, &f->c.ops, &f->pol, NULL, p, f->pkg.len,
				 0);
			cr_assert_neq(
			    st, OTAV_OK,
			    "flipping bit %d of byte %zu was accepted", bit, i);
			counts[st]++;
		}
	/* Sanity: the flips exercise the main refusals. */
	cr_assert_gt(counts[OTAV_E_SIGNATURE], 0);
	cr_assert_gt(counts[OTAV_E_DIGEST], 0);
	cr_assert_gt(counts[OTAV_E_PADDING], 0);
	cr_assert_gt(counts[OTAV_E_HEADER], 0);
	cr_assert_gt(counts[OTAV_E_TLV], 0);
	cr_assert_gt(counts[OTAV_E_SIGBLOCK], 0);
	free(p);
	fx_free(f);
}

Test(otav_stream, errors_are_sticky)
{
	struct fx *f = fx_built();

	f->pkg.data[0] = 'X';
	otav_init(&f->v, &f->c.ops, &f->pol, NULL);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data, 10), OTAV_OK);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data + 10, 100), OTAV_E_MAGIC);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data + 110, 100), OTAV_E_MAGIC);
	cr_assert_eq(otav_finish(&f->v), OTAV_E_MAGIC);
	cr_assert_eq(f->v.err_offset, 0);
	cr_assert_eq(f->v.offset, 64, "nothing consumed after the error");
	fx_free(f);
}

Test(otav_stream, status_names)
{
	static const char *const names[] = {
		"ok",       "truncated",  "trailing-data", "magic",
		"version",  "header",     "tlv",           "signature-block",
		"padding",  "signature",  "digest",        "hardware",
		"rollback", "bootloader", "crypto",        "aborted",
	};
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_str_eq(otav_status_name((enum otav_status)i),
				 names[i]);
}

/* ---- policy ---- */

Test(otav_policy, hardware_not_listed)
{
	struct fx *f = fx_built();

	f->pol.hardware = "board-z";
	expect(f, OTAV_E_HARDWARE, tlv_of(&f->pkg, OTAPKG_TLV_HARDWARE, 0),
	       "hardware");
	f->pol.hardware = "board-a";
	expect(f, OTAV_OK, 0, NULL);
	f->pol.hardware = "board-";
	expect(f, OTAV_E_HARDWARE, tlv_of(&f->pkg, OTAPKG_TLV_HARDWARE, 0),
	       NULL);
	f->pol.hardware = NULL;
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_policy, rollback)
{
	struct fx *f = fx_built();
	size_t counter = tlv_of(&f->pkg, OTAPKG_TLV_SECURITY_COUNTER, 0) + 4;

	f->pol.counter = 8;
	expect(f, OTAV_E_ROLLBACK, counter, "security counter 7");
	f->pol.check_counter = 0;
	expect(f, OTAV_OK, 0, NULL);
	f->pol.check_counter = 1;
	f->pol.counter = 7;
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_policy, bootloader)
{
	static const uint32_t older[][3] = { { 1, 1, 9 },
					     { 0, 9, 9 },
					     { 1, 1, 0xffffffff } };
	static const uint32_t fine[][3] = { { 1, 2, 0 },
					    { 1, 2, 1 },
					    { 2, 0, 0 } };
	struct fx *f = fx_built();
	size_t boot = tlv_of(&f->pkg, OTAPKG_TLV_BOOTLOADER_MIN, 0) + 4;
	unsigned i;

	for (i = 0; i < 3; i++) {
		memcpy(f->pol.bootloader, older[i], sizeof(older[i]));
		expect(f, OTAV_E_BOOTLOADER, boot, "bootloader");
		memcpy(f->pol.bootloader, fine[i], sizeof(fine[i]));
		expect(f, OTAV_OK, 0, NULL);
	}
	memcpy(f->pol.bootloader, older[0], sizeof(older[0]));
	f->pol.check_bootloader = 0;
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_policy, no_bootloader_min_means_no_check)
{
	struct fx *f = fx_new();

	f->d.has_bootloader_min = 0;
	pkgb_build(&f->pkg, &f->d);
	f->pol.bootloader[0] = 0;
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.has_bootloader_min, 0);
	fx_free(f);
}

Test(otav_policy, reported_only_after_the_signature_block)
{
	struct fx *f = fx_built();

	f->pol.hardware = "board-z";
	otav_init(&f->v, &f->c.ops, &f->pol, NULL);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data, f->pkg.sig_end - 1), OTAV_OK,
		     "%s", f->v.err_what);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data + f->pkg.sig_end - 1, 1),
		     OTAV_E_HARDWARE);
	fx_free(f);
}

Test(otav_policy, bad_signature_hides_policy_failures)
{
	struct fx *f = fx_new();

	f->d.signers[0].corrupt = 1;
	pkgb_build(&f->pkg, &f->d);
	f->pol.hardware = "board-z";
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	f->pol.counter = 100;
	f->pol.bootloader[0] = 0;
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	/* An untrusted key hides them too. */
	f->c.n_trusted = 0;
	f->d.signers[0].corrupt = 0;
	pkgb_free(&f->pkg);
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	fx_free(f);
}

Test(otav_policy, failures_in_order_hardware_rollback_bootloader)
{
	struct fx *f = fx_built();

	f->pol.hardware = "board-z";
	f->pol.counter = 100;
	f->pol.bootloader[0] = 0;
	expect(f, OTAV_E_HARDWARE, tlv_of(&f->pkg, OTAPKG_TLV_HARDWARE, 0),
	       NULL);
	f->pol.hardware = "board-a";
	expect(f, OTAV_E_ROLLBACK,
	       tlv_of(&f->pkg, OTAPKG_TLV_SECURITY_COUNTER, 0) + 4, NULL);
	f->pol.counter = 0;
	expect(f, OTAV_E_BOOTLOADER,
	       tlv_of(&f->pkg, OTAPKG_TLV_BOOTLOADER_MIN, 0) + 4, NULL);
	fx_free(f);
}

/* ---- signatures ---- */

Test(otav_sig, untrusted_key)
{
	struct fx *f = fx_built();

	f->c.n_trusted = 0;
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, "trusted");
	cr_assert_eq(f->v.info.trusted_sig, ~0u);
	fx_free(f);
}

Test(otav_sig, second_of_two_trusted)
{
	struct fx *f = fx_new();
	EVP_PKEY *other = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	EVP_PKEY *trusted = pkgb_key(OTAPKG_SIG_ED25519);

	f->c.n_trusted = 0;
	pkgb_crypto_trust(&f->c, trusted);
	f->d.n_signers = 2;
	f->d.signers[0].key = other;
	f->d.signers[1].key = trusted;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.n_sigs, 2);
	cr_assert_eq(f->v.info.trusted_sig, 1);
	/* Both trusted: the first is reported. */
	pkgb_crypto_trust(&f->c, other);
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.trusted_sig, 0);
	f->c.n_trusted = 1;
	/* A corrupt trusted signature next to an untrusted one fails. */
	f->d.signers[1].corrupt = 1;
	pkgb_free(&f->pkg);
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	EVP_PKEY_free(other);
	EVP_PKEY_free(trusted);
	fx_free(f);
}

Test(otav_sig, skip_signature_parses_untrusted)
{
	struct fx *f = fx_built();

	f->c.n_trusted = 0;
	f->pol.skip_signature = 1;
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.trusted_sig, ~0u);
	/* Policy is still checked. */
	f->pol.hardware = "board-z";
	expect(f, OTAV_E_HARDWARE, tlv_of(&f->pkg, OTAPKG_TLV_HARDWARE, 0),
	       NULL);
	/* And a fake signature without verify at all. */
	f->pol.hardware = NULL;
	f->c.ops.verify = NULL;
	expect(f, OTAV_OK, 0, NULL);
	f->pol.skip_signature = 0;
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	fx_free(f);
}

/* Each algorithm: valid, then corrupted. */
static void check_alg(uint16_t alg, uint8_t region_digest)
{
	struct fx *f = fx_new();
	EVP_PKEY *key = pkgb_key(alg);

	f->c.n_trusted = 0;
	pkgb_crypto_trust(&f->c, key);
	f->d.digest_alg = region_digest;
	f->d.signers[0].key = key;
	f->d.signers[0].alg = alg;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.digest_alg, region_digest);
	f->d.signers[0].corrupt = 1;
	pkgb_free(&f->pkg);
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	EVP_PKEY_free(key);
	fx_free(f);
}

Test(otav_sig, ecdsa_p256_sha384)
{
	check_alg(OTAPKG_SIG_ECDSA_P256, OTAPKG_DIGEST_SHA384);
}

Test(otav_sig, ecdsa_p384_sha384)
{
	check_alg(OTAPKG_SIG_ECDSA_P384, OTAPKG_DIGEST_SHA384);
}

Test(otav_sig, ed25519)
{
	check_alg(OTAPKG_SIG_ED25519, OTAPKG_DIGEST_SHA256);
}

Test(otav_sig, rsa_pss)
{
	check_alg(OTAPKG_SIG_RSA_PSS, OTAPKG_DIGEST_SHA256);
}

Test(otav_sig, rsa_pss_sha384)
{
	check_alg(OTAPKG_SIG_RSA_PSS, OTAPKG_DIGEST_SHA384);
}

Test(otav_sig, rsa_pkcs1)
{
	check_alg(OTAPKG_SIG_RSA_PKCS1, OTAPKG_DIGEST_SHA256);
}

Test(otav_sig, algorithm_must_fit_key)
{
	struct fx *f = fx_built();

	/* A P-256 signature labelled Ed25519 or RSA: the key refuses it. */
	pkgb_put16(f->pkg.data + f->pkg.sig_entry[0], OTAPKG_SIG_ED25519);
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	pkgb_put16(f->pkg.data + f->pkg.sig_entry[0], OTAPKG_SIG_RSA_PSS);
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	pkgb_put16(f->pkg.data + f->pkg.sig_entry[0], OTAPKG_SIG_ECDSA_P256);
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

static int verify_says_7(void *ctx, const struct otav_sig *sig,
			 const uint8_t *digest, size_t digest_len)
{
	(void)ctx;
	(void)sig;
	(void)digest;
	(void)digest_len;
	return 7;
}

static int hash_fails(void *ctx, uint8_t alg)
{
	(void)ctx;
	(void)alg;
	return 1;
}

Test(otav_sig, crypto_failures)
{
	struct fx *f = fx_built();
	struct otav_crypto broken = f->c.ops;

	broken.verify = verify_says_7;
	cr_assert_eq(
	    run(&f->v, &broken, &f->pol, NULL, f->pkg.data, f->pkg.len, 0),
	    OTAV_E_CRYPTO);
	cr_assert_eq(f->v.err_offset, f->pkg.sig_end);
	broken = f->c.ops;
	broken.hash_init = hash_fails;
	cr_assert_eq(
	    run(&f->v, &broken, &f->pol, NULL, f->pkg.data, f->pkg.len, 0),
	    OTAV_E_CRYPTO);
	cr_assert_eq(f->v.err_offset, 0);
	broken.hash_init = NULL;
	otav_init(&f->v, &broken, &f->pol, NULL);
	cr_assert_eq(otav_feed(&f->v, f->pkg.data, f->pkg.len), OTAV_E_CRYPTO);
	otav_init(&f->v, NULL, NULL, NULL);
	cr_assert_eq(otav_finish(&f->v), OTAV_E_CRYPTO);
	fx_free(f);
}

/* ---- image digests ---- */

Test(otav_digest, tampered_image_byte)
{
	struct fx *f = fx_built();
	unsigned i;

	for (i = 0; i < 2; i++) {
		size_t off = f->pkg.image_off[i];
		size_t at = off + f->pkg.stored_len[i] - 1 - i * 5;

		f->pkg.data[at] ^= 0x80;
		expect(f, OTAV_E_DIGEST, off,
		       i == 0 ? "image 0 digest mismatch"
			      : "image 1 digest mismatch");
		cr_assert(f->v.err_offset <= at &&
			  at < off + f->pkg.stored_len[i]);
		f->pkg.data[at] ^= 0x80;
	}
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_digest, compressed_and_sha512_images)
{
	struct fx *f = fx_new();
	static uint8_t big[5000];
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i / 100);
	f->d.images[1].data = big;
	f->d.images[1].len = sizeof(big);
	f->d.images[1].compress = 1;
	f->d.images[0].digest_alg = OTAPKG_DIGEST_SHA512;
	f->d.images[0].kind = OTAPKG_KIND_CUSTOM;
	f->d.images[0].custom_kind = "fpga-bitstream";
	f->d.images[0].has_load = 1;
	f->d.images[0].load_address = 0x08004000;
	pkgb_build(&f->pkg, &f->d);
	cr_assert_lt(f->pkg.stored_len[1], sizeof(big));
	expect(f, OTAV_OK, 0, NULL);
	cr_assert_eq(f->v.info.images[1].compression, OTAPKG_COMP_ZLIB);
	cr_assert_eq(f->v.info.images[1].size, sizeof(big));
	cr_assert_eq(f->v.info.images[1].stored_size, f->pkg.stored_len[1]);
	cr_assert_eq(f->v.info.images[0].digest_alg, OTAPKG_DIGEST_SHA512);
	cr_assert_str_eq(f->v.info.images[0].custom_kind, "fpga-bitstream");
	cr_assert_eq(f->v.info.images[0].load_address, 0x08004000);
	f->pkg.data[f->pkg.image_off[1] + 3] ^= 1;
	expect(f, OTAV_E_DIGEST, f->pkg.image_off[1], NULL);
	f->pkg.data[f->pkg.image_off[1] + 3] ^= 1;
	f->pkg.data[f->pkg.image_off[0] + 3] ^= 1;
	expect(f, OTAV_E_DIGEST, f->pkg.image_off[0], NULL);
	fx_free(f);
}

/* ---- hostile header fields ---- */

static void poke32(struct fx *f, size_t off, uint32_t x)
{
	pkgb_put32(f->pkg.data + off, x);
}

static void poke64(struct fx *f, size_t off, uint64_t x)
{
	pkgb_put64(f->pkg.data + off, x);
}

/* Sets a header u32, expects st at that field, restores it. */
static void header32(struct fx *f, size_t off, uint32_t x, enum otav_status st,
		     uint64_t at, const char *what)
{
	uint8_t saved[4];

	memcpy(saved, f->pkg.data + off, 4);
	poke32(f, off, x);
	expect(f, st, at, what);
	memcpy(f->pkg.data + off, saved, 4);
}

Test(otav_hostile, magic_version_header_size)
{
	struct fx *f = fx_built();

	f->pkg.data[2] = 'X';
	expect(f, OTAV_E_MAGIC, 2, "magic");
	f->pkg.data[2] = 'A';
	pkgb_put16(f->pkg.data + 4, 3);
	expect(f, OTAV_E_VERSION, 4, "version 3");
	pkgb_put16(f->pkg.data + 4, 0);
	expect(f, OTAV_E_VERSION, 4, "version 0");
	/* version 2 is for packages with a patch, and this one has none */
	pkgb_put16(f->pkg.data + 4, 2);
	expect(f, OTAV_E_TLV, f->pkg.region_end, "no image is a patch");
	pkgb_put16(f->pkg.data + 4, 1);
	pkgb_put16(f->pkg.data + 6, 65);
	expect(f, OTAV_E_HEADER, 6, "header size 65");
	pkgb_put16(f->pkg.data + 6, 64);
	f->pkg.data[8] = OTAPKG_DIGEST_SHA512;
	expect(f, OTAV_E_HEADER, 8, "digest algorithm 3");
	f->pkg.data[8] = 0;
	expect(f, OTAV_E_HEADER, 8, NULL);
	f->pkg.data[8] = 1;
	f->pkg.data[9] = 1;
	expect(f, OTAV_E_PADDING, 9, NULL);
	f->pkg.data[9] = 0;
	pkgb_put16(f->pkg.data + 10, 0);
	expect(f, OTAV_E_HEADER, 10, "image count 0");
	pkgb_put16(f->pkg.data + 10, 33);
	expect(f, OTAV_E_HEADER, 10, "image count 33");
	pkgb_put16(f->pkg.data + 10, 2);
	header32(f, 12, 0x100, OTAV_E_HEADER, 12, "flags");
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_hostile, protected_size)
{
	struct fx *f = fx_built();
	uint32_t p = (uint32_t)(f->pkg.region_end - 64);

	header32(f, 16, 0, OTAV_E_HEADER, 16, "not in 8..65536");
	header32(f, 16, 4, OTAV_E_HEADER, 16, "not in 8..65536");
	header32(f, 16, p + 2, OTAV_E_HEADER, 16,
		 "protected region size is not a multiple of 4");
	header32(f, 16, 0xfffffffc, OTAV_E_HEADER, 16, "4294967292");
	header32(f, 16, 65540, OTAV_E_HEADER, 16, NULL);
	/* Too small: the last IMAGE TLV no longer fits. */
	header32(f, 16, p - 4, OTAV_E_TLV, tlv_of(&f->pkg, 0x10, 1) + 2,
		 "runs past the end of the protected region");
	/* Too large: the signature block is read as TLVs. */
	header32(f, 16, p + 4, OTAV_E_TLV, f->pkg.region_end,
		 "must not decrease");
	fx_free(f);
}

Test(otav_hostile, sigblock_size_and_alignment)
{
	struct fx *f = fx_built();
	uint32_t s = (uint32_t)(f->pkg.sig_end - f->pkg.region_end);

	header32(f, 20, 0, OTAV_E_HEADER, 20, "4..262144");
	header32(f, 20, 6, OTAV_E_HEADER, 20, "not a multiple of 4");
	header32(f, 20, 0xfffffffc, OTAV_E_HEADER, 20, NULL);
	header32(f, 20, 262148, OTAV_E_HEADER, 20, NULL);
	/* The first image must move: its offset no longer agrees. */
	header32(f, 20, s + 16, OTAV_E_TLV, f->pkg.image_tlv[0] + 8,
		 "overlaps");
	header32(f, 24, 0, OTAV_E_HEADER, 24, "power of two");
	header32(f, 24, 8, OTAV_E_HEADER, 24, NULL);
	header32(f, 24, 24, OTAV_E_HEADER, 24, NULL);
	header32(f, 24, 1u << 21, OTAV_E_HEADER, 24, NULL);
	header32(f, 24, 0x80000000u, OTAV_E_HEADER, 24, NULL);
	header32(f, 24, 32, OTAV_E_TLV, f->pkg.image_tlv[1] + 8,
		 "image 1 offset is not aligned to the package alignment");
	header32(f, 28, 0x01000000, OTAV_E_PADDING, 31, NULL);
	f->pkg.data[50] = 4;
	expect(f, OTAV_E_PADDING, 50, NULL);
	fx_free(f);
}

Test(otav_hostile, total_size)
{
	struct fx *f = fx_built();
	uint64_t total = f->pkg.len, last = f->pkg.image_tlv[1] + 16;

	poke64(f, 32, 0);
	expect(f, OTAV_E_HEADER, 32, "leaves no room");
	poke64(f, 32, f->pkg.image_off[0]);
	expect(f, OTAV_E_HEADER, 32, NULL);
	poke64(f, 32, 0xfffffffffffffff0u);
	expect(f, OTAV_E_TLV, last, "image 1 ends at 608");
	poke64(f, 32, UINT64_MAX);
	expect(f, OTAV_E_TLV, last, "total size 18446744073709551615");
	poke64(f, 32, total - 1);
	expect(f, OTAV_E_TLV, last, NULL);
	poke64(f, 32, total + 1);
	expect(f, OTAV_E_TLV, last, NULL);
	poke64(f, 32, total);
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_hostile, image_offsets)
{
	struct fx *f = fx_built();
	size_t b1 = f->pkg.image_tlv[1], b0 = f->pkg.image_tlv[0];
	uint64_t off1 = f->pkg.image_off[1];

	poke64(f, b1 + 8, 0);
	expect(f, OTAV_E_TLV, b1 + 8, "overlaps");
	poke64(f, b1 + 8, f->pkg.image_off[0]);
	expect(f, OTAV_E_TLV, b1 + 8, "image 1 offset 480 overlaps");
	poke64(f, b1 + 8, 0xfffffffffffffff0u);
	expect(f, OTAV_E_TLV, b1 + 8, "past the end");
	poke64(f, b1 + 8, f->pkg.len);
	expect(f, OTAV_E_TLV, b1 + 8, "past the end");
	poke64(f, b1 + 8, off1 + 1);
	expect(f, OTAV_E_TLV, b1 + 8, "not aligned");
	poke64(f, b1 + 8, off1 + 16);
	expect(f, OTAV_E_TLV, b1 + 8, "gap");
	poke64(f, b1 + 8, off1);
	poke64(f, b0 + 8, 0);
	expect(f, OTAV_E_TLV, b0 + 8, "image 0 offset 0");
	poke64(f, b0 + 8, f->pkg.image_off[0]);
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_hostile, image_sizes)
{
	struct fx *f = fx_built();
	size_t b1 = f->pkg.image_tlv[1], b0 = f->pkg.image_tlv[0];

	poke64(f, b1 + 16, 0);
	expect(f, OTAV_E_TLV, b1 + 16, "stored size is zero");
	poke64(f, b1 + 16, 0xfffffffffffffff0u);
	expect(f, OTAV_E_TLV, b1 + 16, "runs past the end");
	poke64(f, b1 + 16, UINT64_MAX);
	expect(f, OTAV_E_TLV, b1 + 16, "runs past the end");
	poke64(f, b1 + 16, sizeof(content1) + 1);
	expect(f, OTAV_E_TLV, b1 + 16, "runs past the end");
	poke64(f, b1 + 16, sizeof(content1) - 1);
	expect(f, OTAV_E_TLV, b1 + 16, "ends at");
	poke64(f, b1 + 16, sizeof(content1));
	poke64(f, b1 + 24, 0);
	expect(f, OTAV_E_TLV, b1 + 24, "size is zero");
	poke64(f, b1 + 24, sizeof(content1) + 1);
	expect(f, OTAV_E_TLV, b1 + 24, "uncompressed");
	poke64(f, b1 + 24, sizeof(content1));
	/* Image 0 grown over image 1: overlapping images. */
	poke64(f, b0 + 16, 100);
	poke64(f, b0 + 24, 100);
	expect(f, OTAV_E_TLV, b1 + 8, "overlaps");
	/* Image 0 grown to the end: no room left for image 1. */
	poke64(f, b0 + 16, f->pkg.len - f->pkg.image_off[0] - 8);
	poke64(f, b0 + 24, f->pkg.len - f->pkg.image_off[0] - 8);
	expect(f, OTAV_E_TLV, b0 + 16, "no room");
	fx_free(f);
}

Test(otav_hostile, image_fields)
{
	struct fx *f = fx_built();
	size_t b = f->pkg.image_tlv[1];
	struct {
		size_t at;
		uint8_t value;
		enum otav_status st;
		size_t err;
	} cases[] = {
		{ 0, 9, OTAV_E_TLV, 0 },
		{ 0, 0, OTAV_E_TLV, 0 },
		{ 1, 2, OTAV_E_TLV, 1 },
		{ 2, 4, OTAV_E_TLV, 2 },
		{ 2, 0, OTAV_E_TLV, 2 },
		{ 3, 2, OTAV_E_TLV, 3 },
		{ 4, 0, OTAV_E_TLV, 4 },
		{ 4, 65, OTAV_E_TLV, 4 },
		{ 4, 4, OTAV_E_TLV, (size_t)-2 }, /* length mismatch */
		{ 5, 1, OTAV_E_TLV, 5 },
		{ 6, 1, OTAV_E_PADDING, 6 },
		{ 7, 1, OTAV_E_PADDING, 7 },
		{ 32, 1, OTAV_E_TLV, 32 },
		{ 40, 0xee, OTAV_E_TLV, 72 },
		{ 104, 0x07, OTAV_E_TLV, 104 },
		{ 2, 2, OTAV_E_TLV, (size_t)-2 }, /* sha384: length mismatch */
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t saved = f->pkg.data[b + cases[i].at];

		f->pkg.data[b + cases[i].at] = cases[i].value;
		expect(f, cases[i].st, b + cases[i].err, NULL);
		f->pkg.data[b + cases[i].at] = saved;
	}
	/* Load address with its flag set: only the signature breaks. */
	f->pkg.data[b + 3] = 1;
	f->pkg.data[b + 32] = 1;
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	fx_free(f);
}

Test(otav_hostile, tlv_lengths)
{
	struct fx *f = fx_built();
	size_t hw = tlv_of(&f->pkg, OTAPKG_TLV_HARDWARE, 0);
	size_t last = tlv_of(&f->pkg, OTAPKG_TLV_IMAGE, 1);
	size_t name = tlv_of(&f->pkg, OTAPKG_TLV_NAME, 0);
	size_t version = tlv_of(&f->pkg, OTAPKG_TLV_VERSION, 0);
	uint16_t last_len = (uint16_t)(f->pkg.region_end - last - 4);

	pkgb_put16(f->pkg.data + hw + 2, 70);
	expect(f, OTAV_E_TLV, hw + 2, NULL);
	cr_assert_str_eq(f->v.err_what, "TLV 0x0005 length 70 exceeds 64");
	pkgb_put16(f->pkg.data + hw + 2, 0);
	expect(f, OTAV_E_TLV, hw + 2, "too short");
	pkgb_put16(f->pkg.data + hw + 2, 7);
	pkgb_put16(f->pkg.data + last + 2, 0xffff);
	expect(f, OTAV_E_TLV, last + 2, "TLV 0x0010 length 65535 exceeds 296");
	pkgb_put16(f->pkg.data + last + 2, (uint16_t)(last_len + 8));
	expect(f, OTAV_E_TLV, last + 2,
	       "runs past the end of the protected region");
	pkgb_put16(f->pkg.data + last + 2, last_len);
	/* "1" is no version; if it were, ".2." would be bad padding. */
	pkgb_put16(f->pkg.data + version + 2, 1);
	expect(f, OTAV_E_TLV, version + 4, "SemVer");
	pkgb_put16(f->pkg.data + version + 2, 5);
	f->pkg.data[name + 4 + 2] = 1; /* "fw" + 2 padding bytes */
	expect(f, OTAV_E_PADDING, name + 6, "TLV 0x0001 padding");
	fx_free(f);
}

/* ---- hostile signature blocks ---- */

static const uint8_t cert_a[5] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
static const uint8_t cert_b[3] = { 0x30, 0x01, 0x00 };

/* A signer with two certificates, 5 and 3 bytes. */
static struct fx *fx_with_certs(void)
{
	struct fx *f = fx_new();

	f->d.signers[0].n_certs = 2;
	f->d.signers[0].certs[0] = cert_a;
	f->d.signers[0].cert_lens[0] = sizeof(cert_a);
	f->d.signers[0].certs[1] = cert_b;
	f->d.signers[0].cert_lens[1] = sizeof(cert_b);
	pkgb_build(&f->pkg, &f->d);
	return f;
}

Test(otav_hostile, signature_block_header)
{
	struct fx *f = fx_built();
	size_t s = f->pkg.region_end;

	pkgb_put16(f->pkg.data + s, 0);
	expect(f, OTAV_E_SIGBLOCK, s, "count 0");
	pkgb_put16(f->pkg.data + s, 9);
	expect(f, OTAV_E_SIGBLOCK, s, "count 9");
	pkgb_put16(f->pkg.data + s, 2);
	expect(f, OTAV_E_SIGBLOCK, f->pkg.sig_end, "signature 1 does not fit");
	pkgb_put16(f->pkg.data + s, 1);
	f->pkg.data[s + 3] = 0x80;
	expect(f, OTAV_E_PADDING, s + 2, NULL);
	fx_free(f);
}

Test(otav_hostile, signature_entry)
{
	struct fx *f = fx_built();
	size_t e = f->pkg.sig_entry[0];
	uint16_t len = (uint16_t)(f->pkg.data[e + 2] | f->pkg.data[e + 3] << 8);

	pkgb_put16(f->pkg.data + e, 0);
	expect(f, OTAV_E_SIGBLOCK, e, "algorithm 0");
	pkgb_put16(f->pkg.data + e, 6);
	expect(f, OTAV_E_SIGBLOCK, e, "algorithm 6");
	pkgb_put16(f->pkg.data + e, 1);
	pkgb_put16(f->pkg.data + e + 2, 0);
	expect(f, OTAV_E_SIGBLOCK, e + 2, "1..512");
	pkgb_put16(f->pkg.data + e + 2, 513);
	expect(f, OTAV_E_SIGBLOCK, e + 2, "1..512");
	pkgb_put16(f->pkg.data + e + 2, (uint16_t)(len + 8));
	expect(f, OTAV_E_SIGBLOCK, e + 2, "overruns");
	pkgb_put16(f->pkg.data + e + 2, len);
	poke32(f, e + 4, 4);
	expect(f, OTAV_E_SIGBLOCK, e + 4, "overruns the signature block");
	poke32(f, e + 4, 3);
	expect(f, OTAV_E_SIGBLOCK, e + 4, "multiple of 4");
	poke32(f, e + 4, 65540);
	expect(f, OTAV_E_SIGBLOCK, e + 4, "exceeds 65536");
	poke32(f, e + 4, 0xfffffffc);
	expect(f, OTAV_E_SIGBLOCK, e + 4, NULL);
	poke32(f, e + 4, 0);
	expect(f, OTAV_OK, 0, NULL);
	fx_free(f);
}

Test(otav_hostile, certificates_must_fill_their_space)
{
	struct fx *f = fx_with_certs();
	size_t e = f->pkg.sig_entry[0], c = f->pkg.sig_certs[0];

	expect(f, OTAV_OK, 0, NULL);
	/* C = 20: 4 + 8 for cert_a, 4 + 4 for cert_b. */
	poke32(f, e + 4, 24);
	expect(f, OTAV_E_SIGBLOCK, e + 4, "overruns the signature block");
	/* C too small for the second certificate. */
	poke32(f, e + 4, 16);
	expect(f, OTAV_E_SIGBLOCK, c + 12, "certificate 1 of signature 0");
	/* C ends after the first: the area no longer matches its digest. */
	poke32(f, e + 4, 12);
	expect(f, OTAV_E_SIGBLOCK, c, "do not match their CERTS_DIGEST");
	poke32(f, e + 4, 20);
	poke32(f, c, 0);
	expect(f, OTAV_E_SIGBLOCK, c, "empty");
	poke32(f, c, 17);
	expect(f, OTAV_E_SIGBLOCK, c, "overruns the certificates");
	poke32(f, c, 0xffffffff);
	expect(f, OTAV_E_SIGBLOCK, c, "overruns the certificates");
	/* 1 instead of 5: the next three bytes become nonzero padding. */
	poke32(f, c, 1);
	expect(f, OTAV_E_PADDING, c + 5, "certificate 0 of signature 0");
	poke32(f, c, 5);
	f->pkg.data[c + 10] = 1;
	expect(f, OTAV_E_PADDING, c + 10, "padding");
	fx_free(f);
}

/* Room reserved for longer signatures: zeros are fine, nothing else. */
Test(otav_hostile, slack_after_the_last_signature)
{
	struct fx *f = fx_new();

	f->d.sig_slack = 8;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_OK, 0, NULL);
	f->pkg.data[f->pkg.sig_end - 3] = 0x01;
	expect(f, OTAV_E_PADDING, f->pkg.sig_end - 3,
	       "padding after the last signature");
	fx_free(f);
}

/* Certificates are bound into the signed region by CERTS_DIGEST. */
Test(otav_hostile, certificates_are_bound)
{
	struct fx *f = fx_with_certs();
	size_t c = f->pkg.sig_certs[0];

	expect(f, OTAV_OK, 0, NULL);
	f->pkg.data[c + 6] ^= 0x40; /* a bit inside the first certificate */
	expect(f, OTAV_E_SIGBLOCK, c, "do not match their CERTS_DIGEST");
	fx_free(f);
	f = fx_with_certs();
	f->d.omit |= 1u << OTAPKG_TLV_CERTS_DIGEST;
	pkgb_build(&f->pkg, &f->d);
	expect(f, OTAV_E_SIGBLOCK, f->pkg.sig_certs[0], "have no CERTS_DIGEST");
	fx_free(f);
}

Test(otav_hostile, signature_padding)
{
	struct fx *f = fx_new();
	size_t e;

	f->d.signers[0].key = NULL;
	f->d.signers[0].fake_len = 5;
	f->d.signers[0].fake_keyid = 0x11;
	pkgb_build(&f->pkg, &f->d);
	e = f->pkg.sig_entry[0];
	expect(f, OTAV_E_SIGNATURE, f->pkg.region_end, NULL);
	f->pkg.data[e + 40 + 6] = 2;
	expect(f, OTAV_E_PADDING, e + 46, "signature 0 padding");
	fx_free(f);
}

Test(otav_hostile, image_padding)
{
	struct fx *f = fx_built();

	cr_assert_lt(f->pkg.sig_end + 3, f->pkg.image_off[0]);
	f->pkg.data[f->pkg.sig_end + 3] = 1;
	expect(f, OTAV_E_PADDING, f->pkg.sig_end + 3, "padding before image 0");
	f->pkg.data[f->pkg.sig_end + 3] = 0;
	f->pkg.data[f->pkg.image_off[1] - 1] = 0x40;
	expect(f, OTAV_E_PADDING, f->pkg.image_off[1] - 1,
	       "padding before image 1");
	fx_free(f);
}

/* ---- TLV rules ---- */

/* Builds f->d (with extras) and expects st at the TLV of type, nth. */
static void expect_tlv(struct fx *f, enum otav_status st, uint16_t type,
		       unsigned nth, size_t delta, const char *what)
{
	pkgb_free(&f->pkg);
	pkgb_build(&f->pkg, &f->d);
	if (st == OTAV_OK)
		expect(f, st, 0, what);
	else
		expect(f, st, tlv_of(&f->pkg, type, nth) + delta, what);
}

static void extra(struct fx *f, uint16_t type, const void *value, uint16_t len)
{
	f->d.n_extra = 1;
	f->d.extra[0].type = type;
	f->d.extra[0].value = value;
	f->d.extra[0].len = len;
}

Test(otav_tlv, unknown_critical_rejected)
{
	struct fx *f = fx_new();

	extra(f, 0x000b, "x", 1);
	expect_tlv(f, OTAV_E_TLV, 0x000b, 0, 0, "unknown critical TLV 0x000b");
	extra(f, 0x7fff, "", 0);
	expect_tlv(f, OTAV_E_TLV, 0x7fff, 0, 0, "0x7fff");
	extra(f, 0x0000, "", 0);
	expect_tlv(f, OTAV_E_TLV, 0x0000, 0, 0, NULL);
	fx_free(f);
}

static unsigned n_tlv_events, n_optional_events;

static int count_tlv(void *ctx, uint64_t offset, uint16_t type,
		     const uint8_t *value, uint16_t len)
{
	const struct pkgb_pkg *pkg = ctx;

	cr_assert_eq(pkg->tlv_off[n_tlv_events], offset);
	cr_assert_eq(pkg->tlv_type[n_tlv_events], type);
	cr_assert_eq(memcmp(pkg->data + offset + 4, value, len), 0);
	n_tlv_events++;
	if (type >= 0x8000)
		n_optional_events++;
	return 0;
}

Test(otav_tlv, unknown_optional_skipped)
{
	struct fx *f = fx_new();
	static uint8_t big[1025];
	struct otav_events ev = { .tlv = count_tlv };

	extra(f, 0x8001, "hello", 5);
	expect_tlv(f, OTAV_OK, 0x8001, 0, 0, NULL);
	ev.ctx = &f->pkg;
	cr_assert_eq(
	    run(&f->v, &f->c.ops, &f->pol, &ev, f->pkg.data, f->pkg.len, 3),
	    OTAV_OK);
	cr_assert_eq(n_tlv_events, f->pkg.n_tlvs);
	cr_assert_eq(n_optional_events, 1);
	extra(f, 0xffff, "", 0);
	expect_tlv(f, OTAV_OK, 0xffff, 0, 0, NULL);
	extra(f, 0x8000, big, 1024);
	expect_tlv(f, OTAV_OK, 0x8000, 0, 0, NULL);
	extra(f, 0x8000, big, 1025);
	expect_tlv(f, OTAV_E_TLV, 0x8000, 0, 2, "length 1025 exceeds 1024");
	fx_free(f);
}

Test(otav_tlv, order_and_repetition)
{
	struct fx *f = fx_new();

	/* A HARDWARE TLV after the IMAGE TLVs. */
	f->d.extra_last = 1;
	extra(f, OTAPKG_TLV_HARDWARE, "board-z", 7);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_HARDWARE, 2, 0,
		   "TLV 0x0005 follows TLV 0x0010");
	f->d.extra_last = 0;
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	cr_assert_eq(f->v.info.n_hardware, 3);
	extra(f, OTAPKG_TLV_NAME, "again", 5);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_NAME, 1, 0, "appears twice");
	extra(f, OTAPKG_TLV_VERSION, "1.0.0", 5);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_VERSION, 1, 0, NULL);
	extra(f, OTAPKG_TLV_SECURITY_COUNTER, "\x09\0\0\0", 4);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_SECURITY_COUNTER, 1, 0, NULL);
	extra(f, OTAPKG_TLV_BOOTLOADER_MIN, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_BOOTLOADER_MIN, 1, 0, NULL);
	fx_free(f);
}

Test(otav_tlv, required_present)
{
	static const uint16_t types[] = { OTAPKG_TLV_NAME, OTAPKG_TLV_VERSION,
					  OTAPKG_TLV_SECURITY_COUNTER,
					  OTAPKG_TLV_HARDWARE,
					  OTAPKG_TLV_IMAGE };
	static const char *const names[] = { "NAME", "VERSION",
					     "SECURITY_COUNTER", "HARDWARE",
					     "IMAGE" };
	struct fx *f = fx_new();
	unsigned i;

	for (i = 0; i < 5; i++) {
		f->d.omit = 1u << types[i];
		pkgb_free(&f->pkg);
		pkgb_build(&f->pkg, &f->d);
		expect(f, OTAV_E_TLV, f->pkg.region_end, names[i]);
	}
	fx_free(f);
}

Test(otav_tlv, image_count_must_match)
{
	struct fx *f = fx_built();
	size_t img1 = tlv_of(&f->pkg, OTAPKG_TLV_IMAGE, 1);

	/* One image declared, ending where image 0 ends: a second IMAGE. */
	pkgb_put16(f->pkg.data + 10, 1);
	poke64(f, 32, f->pkg.image_off[0] + sizeof(content0));
	expect(f, OTAV_E_TLV, img1, "more IMAGE TLVs than the image count 1");
	pkgb_put16(f->pkg.data + 10, 3);
	poke64(f, 32, f->pkg.len);
	expect(f, OTAV_E_TLV, f->pkg.image_tlv[1] + 16, "no room");
	fx_free(f);
}

Test(otav_tlv, value_formats)
{
	static const char *const bad_versions[] = {
		"1.02.3",   "1.2",    "v1.2.3",      "1.2.3-",
		"1.2.3-01", "1.2.3+", "1.2.3-a..b",  "1..3",
		"1.2.3 ",   "01.2.3", "1.2.3-a+b+c",
	};
	static const char *const good_versions[] = {
		"0.0.0",
		"1.2.3-rc.1+build.05",
		"10.20.30-alpha-1.0a",
		"1.0.0+0.build.1-rc.10000aaa-kk-0.1",
		"1.2.3-0",
	};
	struct fx *f = fx_new();
	unsigned i;

	for (i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		f->d.version = bad_versions[i];
		expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_VERSION, 0, 4, "SemVer");
	}
	for (i = 0; i < sizeof(good_versions) / sizeof(good_versions[0]); i++) {
		f->d.version = good_versions[i];
		expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	}
	f->d.version = NULL;
	f->d.name = "fw\n";
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_NAME, 0, 4, "not text");
	f->d.name = "0123456789012345678901234567890123456789012345678901234567"
		    "8901234";
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_NAME, 0, 2, "length 65 exceeds");
	f->d.name = NULL;
	f->d.hardware[1] = "bo\x7f";
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_HARDWARE, 1, 4, "not text");
	f->d.hardware[1] = "board-b";
	f->d.images[0].name = "bo\tot";
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_IMAGE, 0, 4 + 40 + 64,
		   "image 0 name");
	f->d.images[0].name = "boot";
	f->d.images[0].kind = OTAPKG_KIND_CUSTOM;
	f->d.images[0].custom_kind = "x\x01";
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_IMAGE, 0, 4 + 40 + 64 + 4,
		   "custom kind");
	f->d.images[0].kind = OTAPKG_KIND_BOOTLOADER;
	fx_free(f);
}

Test(otav_tlv, fixed_lengths)
{
	static const uint8_t bytes[40];
	struct fx *f = fx_new();

	extra(f, OTAPKG_TLV_GIT_COMMIT, bytes, 20);
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	extra(f, OTAPKG_TLV_GIT_COMMIT, bytes, 32);
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	extra(f, OTAPKG_TLV_GIT_COMMIT, bytes, 21);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_GIT_COMMIT, 0, 2, "length 21");
	extra(f, OTAPKG_TLV_BUILD_TIME, bytes, 8);
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	extra(f, OTAPKG_TLV_BUILD_TIME, bytes, 4);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_BUILD_TIME, 0, 2, NULL);
	f->d.omit = 1u << OTAPKG_TLV_SECURITY_COUNTER;
	extra(f, OTAPKG_TLV_SECURITY_COUNTER, bytes, 5);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_SECURITY_COUNTER, 0, 2,
		   "length 5");
	f->d.omit = 1u << OTAPKG_TLV_BOOTLOADER_MIN;
	extra(f, OTAPKG_TLV_BOOTLOADER_MIN, bytes, 8);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_BOOTLOADER_MIN, 0, 2, NULL);
	fx_free(f);
}

Test(otav_tlv, dependency)
{
	struct fx *f = fx_new();

	extra(f, OTAPKG_TLV_DEPENDENCY, "\x04libc>=1.2.0", 11);
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	extra(f, OTAPKG_TLV_DEPENDENCY, "\x00libc>=1.2.0", 11);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_DEPENDENCY, 0, 4, "name length");
	extra(f, OTAPKG_TLV_DEPENDENCY, "\x0alibc>=1.2.0", 11);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_DEPENDENCY, 0, 4, NULL);
	extra(f, OTAPKG_TLV_DEPENDENCY, "\x09libc>=1.2.0", 11);
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	extra(f, OTAPKG_TLV_DEPENDENCY, "\x04lib\n>=1.2.0", 11);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_DEPENDENCY, 0, 5, "not text");
	extra(f, OTAPKG_TLV_DEPENDENCY, "\x01x", 2);
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_DEPENDENCY, 0, 2, "too short");
	fx_free(f);
}

Test(otav_tlv, hardware_count)
{
	static char ids[65][8];
	struct fx *f = fx_new();
	unsigned i;

	for (i = 0; i < 65; i++) {
		snprintf(ids[i], sizeof(ids[i]), "hw%u", i);
		f->d.hardware[i] = ids[i];
	}
	f->d.n_hardware = 64;
	f->pol.hardware = "hw63";
	expect_tlv(f, OTAV_OK, 0, 0, 0, NULL);
	cr_assert_eq(f->v.info.n_hardware, 64);
	f->d.n_hardware = 65;
	expect_tlv(f, OTAV_E_TLV, OTAPKG_TLV_HARDWARE, 64, 0, "more than 64");
	fx_free(f);
}

/* ---- events ---- */

struct rec {
	uint8_t header[64];
	uint8_t image[2][8192];
	size_t image_len[2];
	unsigned images_done, image_events;
	uint8_t cert[2][2][2048];
	size_t cert_len[2][2];
	unsigned sig_results[2], n_sigs, verify_calls;
	int abort_at; /* which event stops: 0 none */
	struct pkgb_crypto *c;
	const struct pkgb_desc *d;
};

static struct rec rec;

static int ev_header(void *ctx, const uint8_t header[64])
{
	(void)ctx;
	memcpy(rec.header, header, 64);
	return rec.abort_at == 1;
}

static int ev_image(void *ctx, unsigned index, const struct otav_image *img)
{
	(void)ctx;
	cr_assert_eq(index, rec.image_events);
	cr_assert_str_eq(img->name, rec.d->images[index].name);
	rec.image_events++;
	return rec.abort_at == 2;
}

static int ev_cert(void *ctx, unsigned sig_index, unsigned cert_index,
		   uint32_t cert_len, const uint8_t *data, size_t len)
{
	size_t *have = &rec.cert_len[sig_index][cert_index];

	(void)ctx;
	cr_assert_lt(sig_index, 2);
	cr_assert_lt(cert_index, 2);
	cr_assert_eq(cert_len, rec.d->signers[sig_index].cert_lens[cert_index]);
	cr_assert_leq(*have + len, cert_len);
	memcpy(rec.cert[sig_index][cert_index] + *have, data, len);
	*have += len;
	return rec.abort_at == 3;
}

static int ev_signature(void *ctx, unsigned index, const struct otav_sig *sig,
			int result)
{
	(void)ctx;
	cr_assert_eq(index, rec.n_sigs);
	cr_assert_eq(sig->certs_len, index == 0 ? 4 + 8 + 4 + 300 : 4 + 1000);
	rec.sig_results[index] = (unsigned)(result + 1);
	rec.n_sigs++;
	return rec.abort_at == 4;
}

static int ev_image_data(void *ctx, unsigned index, const uint8_t *data,
			 size_t len)
{
	(void)ctx;
	cr_assert_lt(index, 2);
	cr_assert_leq(rec.image_len[index] + len, sizeof(rec.image[index]));
	memcpy(rec.image[index] + rec.image_len[index], data, len);
	rec.image_len[index] += len;
	return rec.abort_at == 5;
}

static int ev_image_done(void *ctx, unsigned index)
{
	(void)ctx;
	cr_assert_eq(index, rec.images_done);
	cr_assert_gt(rec.image_len[index], 0);
	rec.images_done++;
	return rec.abort_at == 6;
}

/* verify must come after all of its entry's certificates. */
static int verify_after_certs(void *ctx, const struct otav_sig *sig,
			      const uint8_t *digest, size_t digest_len)
{
	unsigned idx = rec.verify_calls++, k;
	const struct pkgb_signer *s = &rec.d->signers[idx];

	for (k = 0; k < s->n_certs; k++)
		cr_assert_eq(rec.cert_len[idx][k], s->cert_lens[k],
			     "verify %u before certificate %u was whole", idx,
			     k);
	return rec.c->ops.verify(ctx, sig, digest, digest_len);
}

static const struct otav_events all_events = {
	.header = ev_header,
	.image = ev_image,
	.cert_data = ev_cert,
	.signature = ev_signature,
	.image_data = ev_image_data,
	.image_done = ev_image_done,
};

Test(otav_events, delivered_in_order_and_whole)
{
	static uint8_t der_a[300], der_b[1000], big[3000];
	struct fx *f = fx_new();
	EVP_PKEY *ed = pkgb_key(OTAPKG_SIG_ED25519);
	struct otav_crypto c;
	size_t chunks[] = { 0, 1, 7, 64, 1000 };
	unsigned i, k;

	for (i = 0; i < sizeof(der_b); i++)
		der_b[i] = (uint8_t)(i * 13);
	for (i = 0; i < sizeof(der_a); i++)
		der_a[i] = (uint8_t)(i ^ 0x55);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i % 7);
	/* Signer 0 untrusted with certificates of 5 and 300 bytes; signer 1
	 * trusted (Ed25519) with one of 1000. */
	f->d.n_signers = 2;
	f->d.signers[0].key = pkgb_key(OTAPKG_SIG_ECDSA_P256);
	f->d.signers[0].n_certs = 2;
	f->d.signers[0].certs[0] = cert_a;
	f->d.signers[0].cert_lens[0] = sizeof(cert_a);
	f->d.signers[0].certs[1] = der_a;
	f->d.signers[0].cert_lens[1] = sizeof(der_a);
	f->d.signers[1].key = ed;
	f->d.signers[1].n_certs = 1;
	f->d.signers[1].certs[0] = der_b;
	f->d.signers[1].cert_lens[0] = sizeof(der_b);
	f->d.images[1].data = big;
	f->d.images[1].len = sizeof(big);
	f->d.images[1].compress = 1;
	f->c.n_trusted = 0;
	pkgb_crypto_trust(&f->c, ed);
	pkgb_build(&f->pkg, &f->d);
	c = f->c.ops;
	c.verify = verify_after_certs;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		memset(&rec, 0, sizeof(rec));
		rec.c = &f->c;
		rec.d = &f->d;
		cr_assert_eq(run(&f->v, &c, &f->pol, &all_events, f->pkg.data,
				 f->pkg.len, chunks[i]),
			     OTAV_OK, "chunk %zu: %s", chunks[i],
			     f->v.err_what);
		cr_assert_arr_eq(rec.header, f->pkg.data, 64);
		cr_assert_eq(rec.image_events, 2);
		cr_assert_eq(rec.images_done, 2);
		for (k = 0; k < 2; k++) {
			cr_assert_eq(rec.image_len[k], f->pkg.stored_len[k]);
			cr_assert_arr_eq(rec.image[k], f->pkg.stored[k],
					 f->pkg.stored_len[k]);
		}
		cr_assert_arr_eq(rec.cert[0][0], cert_a, sizeof(cert_a));
		cr_assert_arr_eq(rec.cert[0][1], der_a, sizeof(der_a));
		cr_assert_arr_eq(rec.cert[1][0], der_b, sizeof(der_b));
		cr_assert_eq(rec.cert_len[1][1], 0);
		cr_assert_eq(rec.verify_calls, 2);
		cr_assert_eq(rec.n_sigs, 2);
		cr_assert_eq(rec.sig_results[0], 2, "untrusted: 1");
		cr_assert_eq(rec.sig_results[1], 1, "trusted: 0");
		cr_assert_eq(f->v.info.trusted_sig, 1);
	}

	/* Each event can stop the verifier. */
	for (i = 1; i <= 6; i++) {
		memset(&rec, 0, sizeof(rec));
		rec.c = &f->c;
		rec.d = &f->d;
		rec.abort_at = (int)i;
		cr_assert_eq(run(&f->v, &c, &f->pol, &all_events, f->pkg.data,
				 f->pkg.len, 5),
			     OTAV_E_ABORTED, "event %u", i);
		memset(&rec, 0, sizeof(rec));
		rec.c = &f->c;
		rec.d = &f->d;
		rec.abort_at = (int)i;
		cr_assert_eq(run(&f->v, &c, &f->pol, &all_events, f->pkg.data,
				 f->pkg.len, 0),
			     OTAV_E_ABORTED, "event %u", i);
	}
	EVP_PKEY_free(f->d.signers[0].key);
	EVP_PKEY_free(ed);
	fx_free(f);
}

/* ---- fuzz seeds ---- */

struct seed {
	const char *file;
	uint8_t chunking; /* the fuzz target's first byte */
	int region;       /* an unprotected region follows the package */
};

static const struct seed seeds[] = {
	{ "basic", 0x00, 0 },   { "full", 0x85, 0 },  { "minimal", 0xff, 0 },
	{ "align64", 0x07, 0 }, { "delta", 0x21, 0 }, { "region", 0x13, 1 },
};

/*
 * The region of the "region" seed, for "full"'s two signatures (with 2
 * and 1 certificates): both kinds of index, every type, and padding.
 */
static size_t seed_region(uint8_t *out)
{
	static const uint8_t region[] = {
		0x01, 0x80, 0x09, 0x00, 0,    0,    0,    0,    0x30,
		0x03, 0x02, 0x01, 0x05, 0,    0,    0,    0x01, 0x80,
		0x06, 0x00, 1,    0,    0,    0,    0x30, 0x00, 0,
		0,    0x02, 0x80, 0x07, 0x00, 0,    1,    0,    0,
		0x30, 0x01, 0x00, 0,    0x02, 0x80, 0x05, 0x00, 1,
		0,    0,    0,    0x04, 0,    0,    0,    0x10, 0x80,
		0x06, 0x00, 'O',  'T',  'A',  'R',  1,    2,    0,
		0,    64,   0,    0,    0,    'O',  'T',  'A',  'U',
	};

	memcpy(out, region, sizeof(region));
	return sizeof(region);
}

/* The seeds: valid under fuzz_package.c's crypto and policy. */
static void seed_desc(struct pkgb_desc *d, unsigned which,
		      const struct otav_crypto *hash)
{
	static uint8_t a[100], b[700], c[33];
	static const uint8_t commit[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	static const uint8_t when[8] = { 0x80, 0x3d, 0x6e, 0x68 };
	size_t i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i / 50);
	for (i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)(0xa0 + i);
	memset(d, 0, sizeof(*d));
	d->hash = hash;
	d->counter = 3;
	d->has_bootloader_min = 1;
	d->bootloader_min[0] = 1;
	d->n_hardware = 1;
	d->hardware[0] = "fuzz-board";
	d->n_images = 1;
	d->images[0].data = a;
	d->images[0].len = sizeof(a);
	d->n_signers = 1;
	d->signers[0].fake_len = 64;
	if (which == 0) {
		d->n_images = 2;
		d->images[1].data = c;
		d->images[1].len = sizeof(c);
	} else if (which == 1) {
		d->digest_alg = OTAPKG_DIGEST_SHA384;
		d->version = "2.0.0-rc.1+g1234";
		d->counter = 9;
		d->n_hardware = 2;
		d->hardware[0] = "other-board";
		d->hardware[1] = "fuzz-board";
		d->n_images = 3;
		d->images[0].kind = OTAPKG_KIND_BOOTLOADER;
		d->images[1].data = b;
		d->images[1].len = sizeof(b);
		d->images[1].compress = 1;
		d->images[2].kind = OTAPKG_KIND_CUSTOM;
		d->images[2].custom_kind = "fpga";
		d->images[2].digest_alg = OTAPKG_DIGEST_SHA512;
		d->images[2].has_load = 1;
		d->images[2].load_address = 0x20000000;
		d->images[2].data = c;
		d->images[2].len = sizeof(c);
		d->n_extra = 4;
		d->extra[0] =
		    (struct pkgb_tlv){ OTAPKG_TLV_GIT_COMMIT, commit, 20 };
		d->extra[1] =
		    (struct pkgb_tlv){ OTAPKG_TLV_BUILD_TIME, when, 8 };
		d->extra[2] = (struct pkgb_tlv){ OTAPKG_TLV_DEPENDENCY,
						 "\x04libc^1.2", 9 };
		d->extra[3] = (struct pkgb_tlv){ 0x8001, "optional", 8 };
		d->n_signers = 2;
		d->signers[0].fake_keyid = 0x42; /* untrusted */
		d->signers[0].fake_len = 71;
		d->signers[0].n_certs = 2;
		d->signers[0].certs[0] = cert_a;
		d->signers[0].cert_lens[0] = sizeof(cert_a);
		d->signers[0].certs[1] = cert_b;
		d->signers[0].cert_lens[1] = sizeof(cert_b);
		d->signers[1].fake_len = 64;
		d->signers[1].alg = OTAPKG_SIG_ED25519;
		d->signers[1].n_certs = 1;
		d->signers[1].certs[0] = a;
		d->signers[1].cert_lens[0] = 50;
	} else if (which == 2) {
		d->has_bootloader_min = 0;
		d->images[0].len = 1;
	} else if (which == 3) {
		d->align = 64;
		d->n_images = 2;
		d->images[1].kind = OTAPKG_KIND_CONFIG;
		d->images[1].data = b;
		d->images[1].len = 130;
	} else {
		/* version 2: image 1 a patch (its bytes are opaque here) */
		static uint8_t patch[48] = { 'O', 'T', 'D', 'L', 1, 0, 40 };

		d->n_images = 2;
		d->images[1].data = b;
		d->images[1].len = 200;
		d->images[1].patch = patch;
		d->images[1].patch_len = sizeof(patch);
		d->images[1].base = c;
		d->images[1].base_len = sizeof(c);
	}
}

static void seed_path(char *out, size_t size, const char *dir,
		      const struct seed *s)
{
	int n = snprintf(out, size, "%s/%s", dir, s->file);

	cr_assert(n > 0 && (size_t)n < size, "path too long");
}

/* fuzz/corpus/package, found from tests/data (which need not exist). */
static void corpus_dir(char *out, size_t size)
{
	const char *data = OTA_TEST_DATA, *slash = strrchr(data, '/');
	int n;

	cr_assert_not_null(slash);
	n = snprintf(out, size, "%.*s/../fuzz/corpus/package",
		     (int)(slash - data), data);

	cr_assert(n > 0 && (size_t)n < size, "path too long");
}

/* OTAV_WRITE_SEEDS=fuzz/corpus/package regenerates the committed seeds. */
Test(otav_seeds, write_when_asked)
{
	const char *dir = getenv("OTAV_WRITE_SEEDS");
	struct fuzz_hash h;
	struct otav_crypto c;
	unsigned i;

	if (dir == NULL)
		cr_skip_test("set OTAV_WRITE_SEEDS=DIR to write the seeds");
	fuzz_crypto(&c, &h);
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct pkgb_desc d;
		struct pkgb_pkg pkg;
		char path[4096];
		FILE *fp;

		uint8_t region[256];
		size_t rn = 0;

		seed_desc(&d, seeds[i].region ? 1 : i, &c);
		pkgb_build(&pkg, &d);
		if (seeds[i].region)
			rn = seed_region(region);
		seed_path(path, sizeof(path), dir, &seeds[i]);
		fp = fopen(path, "wb");
		cr_assert_not_null(fp, "%s", path);
		cr_assert_eq(fputc(seeds[i].chunking, fp), seeds[i].chunking);
		cr_assert_eq(fwrite(pkg.data, 1, pkg.len, fp), pkg.len);
		cr_assert_eq(fwrite(region, 1, rn, fp), rn);
		cr_assert_eq(fclose(fp), 0);
		pkgb_free(&pkg);
	}
}

/* The committed seeds are what the builder makes, and they verify. */
Test(otav_seeds, committed_seeds_verify)
{
	static struct otav v;
	struct fuzz_hash h;
	struct otav_crypto c;
	char dir[4096];
	unsigned i;

	fuzz_crypto(&c, &h);
	corpus_dir(dir, sizeof(dir));
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct pkgb_desc d;
		struct pkgb_pkg pkg;
		char path[4096];
		static uint8_t file[65536];
		size_t n;
		FILE *fp;

		seed_path(path, sizeof(path), dir, &seeds[i]);
		fp = fopen(path, "rb");
		cr_assert_not_null(fp, "%s is missing", path);
		n = fread(file, 1, sizeof(file), fp);
		fclose(fp);
		uint8_t region[256];
		size_t rn = 0;

		seed_desc(&d, seeds[i].region ? 1 : i, &c);
		pkgb_build(&pkg, &d);
		if (seeds[i].region)
			rn = seed_region(region);
		cr_assert_eq(n, pkg.len + rn + 1, "%s is stale", path);
		cr_assert_eq(file[0], seeds[i].chunking);
		cr_assert_arr_eq(file + 1, pkg.data, pkg.len, "%s is stale",
				 path);
		cr_assert_arr_eq(file + 1 + pkg.len, region, rn, "%s is stale",
				 path);
		cr_assert_eq(
		    run(&v, &c, &fuzz_policy, NULL, file + 1, n - 1, 0),
		    OTAV_OK, "%s: %s", path, v.err_what);
		cr_assert_eq(
		    run(&v, &c, &fuzz_policy, NULL, file + 1, n - 1, 1),
		    OTAV_OK);
		if (i == 1)
			cr_assert_eq(v.info.trusted_sig, 1);
		if (seeds[i].region) {
			cr_assert_eq(v.info.region_size, rn - 8);
			cr_assert_eq(v.info.n_timestamps, 2);
			cr_assert_eq(v.info.n_ocsp, 2);
			cr_assert_eq(v.info.n_root_records, 1);
		}
		pkgb_free(&pkg);
	}
}
