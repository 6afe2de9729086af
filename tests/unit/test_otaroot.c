/*
 * Unit tests for src/device/otaroot.c, the device side of root records,
 * with host callbacks (OpenSSL) in place of a device's crypto: records
 * made by the library read by the device parser (whole and a byte at a
 * time), TUF's cases again on the device, a device catching up over three
 * rotations from what packages carry and then verifying a package with a
 * threshold of release keys, the key generation rule, every bit of a
 * record flipped, and the RAM that otatool-root(5) states.
 */
#include <criterion/criterion.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key_priv.h"
#include "otapatch.h"
#include "otaroot.h"
#include "otatool/error.h"
#include "otatool/hex.h"
#include "otatool/key.h"
#include "otatool/root.h"
#include "otatool/signer.h"
#include "pkgbuild.h"
#include "tmpdir.h"

#define N_KEYS 8

static char dir[256];
static struct ota_key *keys[N_KEYS];
/* 0..3 root keys; 4..7 release keys (4, 5 P-256; 6 Ed25519; 7 P-256) */
static const char *types[N_KEYS] = {
	"ecdsa-p256", "ed25519",    "ecdsa-p384", "ecdsa-p256",
	"ecdsa-p256", "ecdsa-p256", "ed25519",    "ecdsa-p256",
};

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "otaroot");
	memset(keys, 0, sizeof(keys));
}

static void teardown(void)
{
	for (size_t i = 0; i < N_KEYS; i++)
		ota_key_free(keys[i]);
	tmpdir_remove(dir);
}

TestSuite(otaroot, .init = setup, .fini = teardown, .timeout = 120);

static struct ota_key *key(size_t i)
{
	char priv[320], pub[320], id[OTA_KEY_ID_LEN + 1];
	struct ota_key_opts o = { 0 };

	if (!keys[i]) {
		snprintf(priv, sizeof(priv), "%s/k%zu.pem", dir, i);
		snprintf(pub, sizeof(pub), "%s/k%zu.pub.pem", dir, i);
		cr_assert_eq(ota_key_generate_file(id, types[i], priv, pub), 0);
		cr_assert_eq(ota_key_open(&keys[i], priv, &o), 0);
	}
	return keys[i];
}

/* ---- host crypto for the device code -------------------------------- */

static EVP_MD_CTX *md;

static int h_init(void *ctx)
{
	(void)ctx;
	return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int h_update(void *ctx, const uint8_t *d, size_t n)
{
	(void)ctx;
	return EVP_DigestUpdate(md, d, n) == 1 ? 0 : -1;
}

static int h_final(void *ctx, uint8_t out[32])
{
	(void)ctx;
	return EVP_DigestFinal_ex(md, out, NULL) == 1 ? 0 : -1;
}

/* The stored key forms of otatool-root(5), read with OpenSSL. */
static EVP_PKEY *decode(uint16_t alg, const uint8_t *pub, size_t len)
{
	EVP_PKEY *k = NULL;

	if (alg == OTAPKG_SIG_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						   len);
	if (alg == OTAPKG_SIG_ECDSA_P256 || alg == OTAPKG_SIG_ECDSA_P384) {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		OSSL_PARAM p[] = {
			OSSL_PARAM_utf8_string(
			    "group",
			    alg == OTAPKG_SIG_ECDSA_P256 ? "P-256" : "P-384",
			    0),
			OSSL_PARAM_octet_string("pub", (void *)pub, len),
			OSSL_PARAM_END,
		};

		EVP_PKEY_fromdata_init(c);
		EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p);
		EVP_PKEY_CTX_free(c);
	}
	return k;
}

static unsigned n_verify;

static int h_verify(void *ctx, uint16_t alg, const uint8_t *pub, size_t pub_len,
		    const uint8_t *d, size_t dl, const uint8_t *sig, size_t sl)
{
	EVP_PKEY *k = decode(alg, pub, pub_len);
	int ok = 0;

	(void)ctx;
	n_verify++;
	if (!k)
		return -1;
	if (alg == OTAPKG_SIG_ED25519) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		ok = EVP_DigestVerifyInit_ex(m, NULL, NULL, NULL, NULL, k,
					     NULL) == 1 &&
		     EVP_DigestVerify(m, sig, sl, d, dl) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);

		ok = EVP_PKEY_verify_init(c) == 1 &&
		     EVP_PKEY_CTX_set_signature_md(
			 c, dl == 48 ? EVP_sha384() : EVP_sha256()) == 1 &&
		     EVP_PKEY_verify(c, sig, sl, d, dl) == 1;
		EVP_PKEY_CTX_free(c);
	}
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

static const struct otaroot_crypto crypto = {
	NULL, h_init, h_update, h_final, h_verify,
};

/* ---- records made by the library ------------------------------------ */

struct rec {
	uint8_t *data;
	size_t len;
};

static void sign_with(struct ota_root *r, const size_t *idx, size_t n)
{
	struct ota_key *ks[8];
	struct ota_signers *s = NULL;

	for (size_t i = 0; i < n; i++)
		ks[i] = key(idx[i]);
	cr_assert_eq(ota_signers_wrap(&s, ks, n), 0);
	cr_assert_eq(ota_root_sign(r, s), 0, "%s", ota_error_message());
	ota_signers_free(s);
}

static struct rec encode(const struct ota_root *r)
{
	struct rec out;

	cr_assert_eq(ota_root_encode(&out.data, &out.len, r), 0);
	return out;
}

/*
 * v1: roots 0,1 (threshold 2), release 4 (generation 1).
 * v2: adds release 5 (generation 2).
 * v3: roots 1,2 (generation 3); release 4 revoked; adds release 6
 *     (generation 3).
 * v4: roots 2,3; release 5 dropped; adds release 7 (generation 4),
 *     release threshold 2.
 * At most 4 keys each: the device build's default limit.
 * Each signed by every root key of its own and of the one before.
 */
static void chain(struct rec out[4], struct ota_root *v[4])
{
	struct ota_root_change c[4];
	const struct ota_public_key *r01[] = { ota_key_public(key(0)),
					       ota_key_public(key(1)) };
	const struct ota_public_key *rel4[] = { ota_key_public(key(4)) };
	const struct ota_public_key *rel5[] = { ota_key_public(key(5)) };
	const struct ota_public_key *r2[] = { ota_key_public(key(2)) };
	const struct ota_public_key *r3[] = { ota_key_public(key(3)) };
	const struct ota_public_key *rel6[] = { ota_key_public(key(6)) };
	const struct ota_public_key *rel7[] = { ota_key_public(key(7)) };
	const char *rm0[] = { ota_key_id(key(0)) };
	const char *rm15[] = { ota_key_id(key(1)), ota_key_id(key(5)) };
	const char *rv4[] = { ota_key_id(key(4)) };
	size_t s1[] = { 0, 1 }, s2[] = { 0, 1 }, s3[] = { 0, 1, 2 },
	       s4[] = { 1, 2, 3 };

	memset(c, 0, sizeof(c));
	c[0] = (struct ota_root_change){ .root_keys = r01,
					 .n_root_keys = 2,
					 .release_keys = rel4,
					 .n_release_keys = 1,
					 .root_threshold = 2 };
	c[1] = (struct ota_root_change){ .release_keys = rel5,
					 .n_release_keys = 1 };
	c[2] = (struct ota_root_change){ .root_keys = r2,
					 .n_root_keys = 1,
					 .release_keys = rel6,
					 .n_release_keys = 1,
					 .remove = rm0,
					 .n_remove = 1,
					 .revoke = rv4,
					 .n_revoke = 1,
					 .generation = 3 };
	c[3] = (struct ota_root_change){ .root_keys = r3,
					 .n_root_keys = 1,
					 .remove = rm15,
					 .n_remove = 2,
					 .release_keys = rel7,
					 .n_release_keys = 1,
					 .release_threshold = 2,
					 .generation = 4 };
	cr_assert_eq(ota_root_new(&v[0]), 0);
	cr_assert_eq(ota_root_apply(v[0], &c[0], true), 0, "%s",
		     ota_error_message());
	sign_with(v[0], s1, 2);
	for (int i = 1; i < 4; i++) {
		cr_assert_eq(ota_root_next(&v[i], v[i - 1]), 0);
		cr_assert_eq(ota_root_apply(v[i], &c[i], false), 0, "v%d: %s",
			     i + 1, ota_error_message());
	}
	sign_with(v[1], s2, 2);
	sign_with(v[2], s3, 3);
	sign_with(v[3], s4, 3);
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			cr_assert_eq(ota_root_check_next(v[i - 1], v[i], "v"),
				     0, "v%d: %s", i + 1, ota_error_message());
		out[i] = encode(v[i]);
	}
}

static void chain_free(struct rec r[4], struct ota_root *v[4])
{
	for (int i = 0; i < 4; i++) {
		free(r[i].data);
		ota_root_free(v[i]);
	}
}

static void init_md(void)
{
	md = EVP_MD_CTX_new();
	cr_assert_not_null(md);
}

Test(otaroot, reads_what_the_library_writes)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state s, t;
	struct otaroot_parser p;

	init_md();
	chain(r, v);
	cr_assert_eq(otaroot_read(&crypto, NULL, &s, r[0].data, r[0].len),
		     OTAROOT_OK);
	cr_assert_eq(s.version, 1);
	cr_assert_eq(s.n_keys, 3);
	cr_assert_eq(s.root_threshold, 2);
	for (unsigned i = 0; i < s.n_keys; i++) {
		char id[65];

		ota_hex_encode(id, s.keys[i].id, 32);
		cr_assert_str_eq(id, v[0]->keys[i].id);
		cr_assert_eq(s.keys[i].generation, v[0]->keys[i].generation);
	}
	/* a byte at a time: the same state */
	otaroot_begin(&p, &crypto, NULL, &t, (uint32_t)r[0].len);
	for (size_t i = 0; i < r[0].len; i++)
		cr_assert_eq(otaroot_feed(&p, r[0].data + i, 1), OTAROOT_OK,
			     "byte %zu: %s", i, p.err_what);
	cr_assert_eq(otaroot_end(&p), OTAROOT_OK);
	cr_assert_eq(memcmp(&s, &t, sizeof(s)), 0);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

Test(otaroot, tuf_rules_on_the_device)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state s1, s2, s3, x;

	init_md();
	chain(r, v);
	cr_assert_eq(otaroot_read(&crypto, NULL, &s1, r[0].data, r[0].len), 0);
	cr_assert_eq(otaroot_read(&crypto, &s1, &s2, r[1].data, r[1].len), 0);
	/* skipped version, rollback, the same record again */
	cr_assert_eq(otaroot_read(&crypto, &s1, &x, r[2].data, r[2].len),
		     OTAROOT_E_SKIPPED);
	cr_assert_eq(otaroot_read(&crypto, &s2, &x, r[0].data, r[0].len),
		     OTAROOT_E_ROLLBACK);
	cr_assert_eq(otaroot_read(&crypto, &s2, &x, r[1].data, r[1].len),
		     OTAROOT_E_ROLLBACK);
	cr_assert_eq(otaroot_read(&crypto, &s2, &s3, r[2].data, r[2].len), 0);

	/* v3 signed by its own keys only (1, 2): v2's threshold unmet */
	{
		size_t own[] = { 1, 2 }, old[] = { 0, 1 };
		struct ota_root *u = NULL;
		struct rec e;

		cr_assert_eq(ota_root_parse(&u, r[2].data, r[2].len, "v3"), 0);
		ota_root_unsign(u);
		/* the signed part is encoded again: the same bytes */
		sign_with(u, own, 2);
		e = encode(u);
		cr_assert_eq(otaroot_read(&crypto, &s2, &x, e.data, e.len),
			     OTAROOT_E_SIGNATURE);
		free(e.data);
		ota_root_unsign(u);
		sign_with(u, old, 2); /* v2's keys only: v3's unmet */
		e = encode(u);
		cr_assert_eq(otaroot_read(&crypto, &s2, &x, e.data, e.len),
			     OTAROOT_E_SIGNATURE);
		free(e.data);
		/* key 1 twice and key 0: still one of v3's own */
		ota_root_unsign(u);
		sign_with(u, old, 2);
		u->sigs[2] = u->sigs[1];
		u->n_sigs = 3;
		e = encode(u);
		cr_assert_eq(otaroot_read(&crypto, &s2, &x, e.data, e.len),
			     OTAROOT_E_SIGNATURE);
		free(e.data);
		/* a fork: another v2, properly signed */
		ota_root_free(u);
		cr_assert_eq(ota_root_next(&u, v[0]), 0);
		u->expires = 4102444800u;
		sign_with(u, old, 2);
		e = encode(u);
		cr_assert_eq(otaroot_read(&crypto, &s2, &x, e.data, e.len),
			     OTAROOT_E_FORK);
		free(e.data);
		ota_root_free(u);
	}
	/* expiry only with a trusted time */
	cr_assert_eq(otaroot_check_time(&s3, 4000000000u), OTAROOT_OK);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

/* ---- packages ------------------------------------------------------- */

struct dev {
	struct pkgb_crypto pc; /* its hashing */
	const struct otaroot_state *root;
	struct otav_crypto ops;
};

static int d_hash_init(void *ctx, uint8_t alg)
{
	struct dev *d = ctx;

	return d->pc.ops.hash_init(d->pc.ops.ctx, alg);
}

static int d_hash_update(void *ctx, const uint8_t *p, size_t n)
{
	struct dev *d = ctx;

	return d->pc.ops.hash_update(d->pc.ops.ctx, p, n);
}

static int d_hash_final(void *ctx, uint8_t *out)
{
	struct dev *d = ctx;

	return d->pc.ops.hash_final(d->pc.ops.ctx, out);
}

/* What a device's verify callback is: the root state decides. */
static int d_verify(void *ctx, const struct otav_sig *sig,
		    const uint8_t *digest, size_t len)
{
	struct dev *d = ctx;

	return otaroot_verify_package_sig(d->root, &crypto, sig, digest, len);
}

static EVP_PKEY *pkey_of(size_t i)
{
	return ota_key_pkey(key(i));
}

/*
 * A package signed by signers, carrying records in its unprotected
 * region (otatool-package(5)); with walk, fed once with the walk attached
 * and signatures skipped (the device's first pass), else verified against
 * root.
 */
static enum otav_status install_region(const struct otaroot_state *root,
				       const size_t *signers, size_t n,
				       const struct rec *recs, size_t n_recs,
				       struct otaroot_walk *walk);

static enum otav_status install(const struct otaroot_state *root,
				const size_t *signers, size_t n)
{
	return install_region(root, signers, n, NULL, 0, NULL);
}

static enum otav_status install_region(const struct otaroot_state *root,
				       const size_t *signers, size_t n,
				       const struct rec *recs, size_t n_recs,
				       struct otaroot_walk *walk)
{
	uint8_t *file;
	size_t len, u = 0;
	struct pkgb_desc desc = { 0 };
	struct pkgb_pkg pkg;
	struct dev d;
	struct otav *v = malloc(sizeof(*v));
	struct otav_policy pol = { 0 };
	static const uint8_t img[100] = { 1, 2, 3 };
	enum otav_status st;

	desc.n_images = 1;
	desc.images[0].data = img;
	desc.images[0].len = sizeof(img);
	desc.n_signers = (unsigned)n;
	for (size_t i = 0; i < n; i++)
		desc.signers[i].key = pkey_of(signers[i]);
	pkgb_build(&pkg, &desc);
	pkgb_crypto_init(&d.pc);
	d.root = root;
	d.ops = (struct otav_crypto){ .ctx = &d,
				      .hash_init = d_hash_init,
				      .hash_update = d_hash_update,
				      .hash_final = d_hash_final,
				      .verify = d_verify };
	pol.threshold = root->release_threshold;
	pol.roots = walk;
	pol.skip_signature = walk != NULL;
	/* [package][TLV 0x8010 record]...[u32 U]["OTAU"] */
	for (size_t i = 0; i < n_recs; i++)
		u += 4 + recs[i].len; /* records are multiples of 4 long */
	file = malloc(pkg.len + u + 8);
	memcpy(file, pkg.data, pkg.len);
	len = pkg.len;
	for (size_t i = 0; i < n_recs; i++) {
		pkgb_put16(file + len, OTAPKG_REGION_ROOT_RECORD);
		pkgb_put16(file + len + 2, (uint16_t)recs[i].len);
		memcpy(file + len + 4, recs[i].data, recs[i].len);
		len += 4 + recs[i].len;
	}
	if (n_recs) {
		pkgb_put32(file + len, (uint32_t)u);
		memcpy(file + len + 4, "OTAU", 4);
		len += 8;
	}
	otav_init(v, &d.ops, &pol, NULL);
	st = otav_feed(v, file, len);
	if (st == OTAV_OK)
		st = otav_finish(v);
	free(file);
	free(v);
	pkgb_crypto_free(&d.pc);
	pkgb_free(&pkg);
	return st;
}

Test(otaroot, device_catches_up_over_three_rotations)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state persisted, a, b, *old, *next;
	size_t by4[] = { 4 }, by5[] = { 5 }, by67[] = { 6, 7 },
	       by66[] = { 6, 6 }, by56[] = { 5, 6 }, by4_6[] = { 4, 6 };
	uint8_t id6[32], id7[32];
	uint32_t gen;

	init_md();
	chain(r, v);
	/* provisioned with v1; release key 4 signs */
	cr_assert_eq(
	    otaroot_read(&crypto, NULL, &persisted, r[0].data, r[0].len), 0);
	cr_assert_eq(install(&persisted, by4, 1), OTAV_OK);
	cr_assert_eq(install(&persisted, by5, 1), OTAV_E_SIGNATURE,
		     "key 5 is not in v1");

	/*
	 * A package signed by 6 and 7 carries v1..v4 (oldest first, as the
	 * region orders them): the walk skips v1, applies v2, v3, v4 into a
	 * candidate, ping-pong between two states.
	 */
	old = &persisted;
	next = &a;
	for (int i = 0; i < 4; i++) {
		enum otaroot_status st =
		    otaroot_read(&crypto, old, next, r[i].data, r[i].len);

		if (i == 0) {
			cr_assert_eq(st, OTAROOT_E_ROLLBACK);
			continue;
		}
		cr_assert_eq(st, OTAROOT_OK, "v%d: %s", i + 1,
			     otaroot_status_name(st));
		old = next;
		next = next == &a ? &b : &a;
	}
	cr_assert_eq(old->version, 4);
	cr_assert_eq(persisted.version, 1, "persisted only after confirm");
	cr_assert_eq(install(old, by67, 2), OTAV_OK);
	/* threshold 2: one key twice is one, a revoked key is none */
	cr_assert_eq(install(old, by66, 2), OTAV_E_SIGNATURE);
	cr_assert_eq(install(old, by4_6, 2), OTAV_E_SIGNATURE);
	cr_assert_eq(install(old, by4, 1), OTAV_E_SIGNATURE);
	cr_assert_eq(install(old, by56, 2), OTAV_E_SIGNATURE, "5 dropped");

	/*
	 * The image signed by 6 and 7 booted and was confirmed: the
	 * candidate is persisted, the minimum generation raised to the
	 * lowest of its signers' (6: generation 3, 7: 4).
	 */
	pkgb_keyid(pkey_of(6), id6);
	pkgb_keyid(pkey_of(7), id7);
	gen = otaroot_key_generation(old, id6);
	if (otaroot_key_generation(old, id7) < gen)
		gen = otaroot_key_generation(old, id7);
	cr_assert_eq(gen, 3);
	otaroot_commit(&persisted, old, gen);
	cr_assert_eq(persisted.version, 4);
	cr_assert_eq(persisted.min_generation, 3);
	cr_assert_eq(install(&persisted, by67, 2), OTAV_OK);
	/* never down */
	otaroot_commit(&persisted, &persisted, 1);
	cr_assert_eq(persisted.min_generation, 3);
	cr_assert_eq(persisted.version, 4);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

Test(otaroot, device_walks_the_records_a_package_carries)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state persisted;
	struct otaroot_walk *w = malloc(sizeof(*w));
	size_t by67[] = { 6, 7 };

	init_md();
	chain(r, v);
	cr_assert_eq(
	    otaroot_read(&crypto, NULL, &persisted, r[0].data, r[0].len), 0);
	cr_assert_eq(install(&persisted, by67, 2), OTAV_E_SIGNATURE,
		     "v1 does not know keys 6 and 7");
	/* first pass: the region's records, v1 (known) to v4 */
	otaroot_walk_init(w, &crypto, &persisted);
	cr_assert_eq(install_region(&persisted, by67, 2, r, 4, w), OTAV_OK);
	cr_assert_eq(w->applied, 3);
	cr_assert_eq(w->skipped, 1);
	cr_assert_eq(w->refused, OTAROOT_OK);
	cr_assert_eq(otaroot_walk_result(w)->version, 4);
	/* second pass: the package against the candidate */
	cr_assert_eq(
	    install_region(otaroot_walk_result(w), by67, 2, r, 4, NULL),
	    OTAV_OK);
	cr_assert_eq(persisted.version, 1);

	/* a skipped version in the region: the walk stops at v2 */
	struct rec gap[3] = { r[0], r[1], r[3] };
	otaroot_walk_init(w, &crypto, &persisted);
	cr_assert_eq(install_region(&persisted, by67, 2, gap, 3, w), OTAV_OK);
	cr_assert_eq(otaroot_walk_result(w)->version, 2);
	cr_assert_eq(w->refused, OTAROOT_E_SKIPPED);
	free(w);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

Test(otaroot, minimum_generation_rises_after_confirm)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state s1, s2, s3;
	size_t by5[] = { 5 }, by6[] = { 6 };

	init_md();
	chain(r, v);
	cr_assert_eq(otaroot_read(&crypto, NULL, &s1, r[0].data, r[0].len), 0);
	cr_assert_eq(otaroot_read(&crypto, &s1, &s2, r[1].data, r[1].len), 0);
	cr_assert_eq(otaroot_read(&crypto, &s2, &s3, r[2].data, r[2].len), 0);
	/* v3 trusts 5 (generation 2) and 6 (generation 3), threshold 1 */
	cr_assert_eq(install(&s3, by5, 1), OTAV_OK);
	cr_assert_eq(install(&s3, by6, 1), OTAV_OK);
	/* confirmed an image by generation 2: nothing changes yet */
	otaroot_commit(&s1, &s3, 2);
	cr_assert_eq(install(&s1, by5, 1), OTAV_OK);
	/* then one by generation 3: generation 2 is refused from now on */
	otaroot_commit(&s1, &s1, 3);
	cr_assert_eq(install(&s1, by5, 1), OTAV_E_SIGNATURE);
	cr_assert_eq(install(&s1, by6, 1), OTAV_OK);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

Test(otaroot, bit_flips_are_never_accepted)
{
	struct rec r[4];
	struct ota_root *v[4];
	struct otaroot_state s1, x;
	unsigned parsed = 0;

	init_md();
	chain(r, v);
	cr_assert_eq(otaroot_read(&crypto, NULL, &s1, r[0].data, r[0].len), 0);
	/* v2: signed by exactly v1's threshold and its own, nothing spare */
	for (size_t i = 0; i < r[1].len; i++)
		for (int bit = 0; bit < 8; bit++) {
			enum otaroot_status st;

			r[1].data[i] ^= (uint8_t)(1u << bit);
			n_verify = 0;
			st =
			    otaroot_read(&crypto, &s1, &x, r[1].data, r[1].len);
			parsed += n_verify > 0;
			cr_assert_neq(st, OTAROOT_OK, "byte %zu bit %d", i,
				      bit);
			r[1].data[i] ^= (uint8_t)(1u << bit);
		}
	cr_log_info("%u flips reached a signature check", parsed);
	cr_assert_gt(parsed, 0);
	for (size_t len = 0; len < r[1].len; len++)
		cr_assert_neq(otaroot_read(&crypto, &s1, &x, r[1].data, len),
			      OTAROOT_OK, "%zu bytes", len);
	chain_free(r, v);
	EVP_MD_CTX_free(md);
}

static int man_says(const char *page, const char *needle)
{
	char path[512], line[512];
	FILE *fp;
	int found = 0;

	snprintf(path, sizeof(path), "%s/man/%s", OTA_SOURCE_DIR, page);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	while (!found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	fclose(fp);
	return found;
}

Test(otaroot, ram_as_documented)
{
	/* a device built for 4 images, as otatool-package(5) counts */
	size_t verifier = sizeof(struct otav) -
			  (OTAPKG_MAX_IMAGES - 4) * sizeof(struct otav_image);
	size_t root = sizeof(struct otaroot_walk);
	size_t all = verifier + sizeof(struct otap) + root;
	char text[64];

	cr_log_info("state %zu, parser %zu, with verifier and applier %zu",
		    sizeof(struct otaroot_state), sizeof(struct otaroot_parser),
		    all);
	cr_assert_eq(sizeof(struct otaroot_state), 872);
	cr_assert_leq(all, 16384u, "%zu bytes", all);
	snprintf(text, sizeof(text), "(%zu,%03zu on x86\\-64)", all / 1000,
		 all % 1000);
	cr_assert(man_says("otatool-package.5", text), "lacks \"%s\"", text);
	cr_assert(man_says("otatool-root.5", text), "lacks \"%s\"", text);
	cr_assert(man_says("otatool-root.5", "872 bytes"));
}
