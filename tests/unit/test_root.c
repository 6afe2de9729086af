/*
 * Unit tests for src/lib/root.c: root records written and read back, and
 * TUF's cases for rotations: duplicate signatures, a key in both versions,
 * a threshold met by the old or the new keys only, a skipped version, a
 * rollback, an expired record, two records of one version; revocation of
 * a release key; a walk over three rotations; every bit of a record
 * flipped, never accepted.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/root.h"
#include "otatool/signer.h"
#include "otatool/trust.h"
#include "tmpdir.h"

#define N_KEYS 10

static char dir[256];
static struct ota_key *keys[N_KEYS];
static const char *types[N_KEYS] = {
	"ecdsa-p256", "ecdsa-p256", "ecdsa-p256", "ed25519",    "ecdsa-p256",
	"ecdsa-p384", "ed25519",    "ecdsa-p256", "ecdsa-p256", "rsa-2048",
};

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "root");
	memset(keys, 0, sizeof(keys));
}

static void teardown(void)
{
	for (size_t i = 0; i < N_KEYS; i++)
		ota_key_free(keys[i]);
	tmpdir_remove(dir);
}

TestSuite(root, .init = setup, .fini = teardown, .timeout = 120);

/* Key i, generated on first use. */
static struct ota_key *key(size_t i)
{
	char priv[320], pub[320], id[OTA_KEY_ID_LEN + 1];
	struct ota_key_opts o = { 0 };

	if (keys[i])
		return keys[i];
	snprintf(priv, sizeof(priv), "%s/k%zu.pem", dir, i);
	snprintf(pub, sizeof(pub), "%s/k%zu.pub.pem", dir, i);
	cr_assert_eq(ota_key_generate_file(id, types[i], priv, pub), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_key_open(&keys[i], priv, &o), 0, "%s",
		     ota_error_message());
	return keys[i];
}

static const struct ota_public_key *pub(size_t i)
{
	return ota_key_public(key(i));
}

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

/* A record: root keys, release keys (indexes), root threshold. */
static struct ota_root *make(const struct ota_root *prev, const size_t *roots,
			     size_t n_roots, const size_t *rels, size_t n_rels,
			     unsigned threshold)
{
	struct ota_root *r = NULL;

	if (prev) {
		cr_assert_eq(ota_root_next(&r, prev), 0);
		/* a fresh key set: drop everything prev had */
		while (r->n_keys)
			cr_assert_eq(ota_root_remove_key(r, r->keys[0].id), 0);
	} else {
		cr_assert_eq(ota_root_new(&r), 0);
	}
	for (size_t i = 0; i < n_roots; i++)
		cr_assert_eq(ota_root_add_key(r, pub(roots[i]),
					      OTA_ROOT_ROLE_ROOT, 1, false),
			     0, "%s", ota_error_message());
	for (size_t i = 0; i < n_rels; i++)
		cr_assert_eq(ota_root_add_key(r, pub(rels[i]),
					      OTA_ROOT_ROLE_RELEASE, 1, false),
			     0, "%s", ota_error_message());
	r->root_threshold = threshold;
	return r;
}

/* Encoded and parsed again, as a verifier would get it. */
static struct ota_root *reread(const struct ota_root *r)
{
	struct ota_root *out = NULL;
	uint8_t *b = NULL;
	size_t n = 0;

	cr_assert_eq(ota_root_encode(&b, &n, r), 0, "%s", ota_error_message());
	cr_assert_eq(ota_root_parse(&out, b, n, "record"), 0, "%s",
		     ota_error_message());
	free(b);
	return out;
}

Test(root, round_trip_every_algorithm)
{
	size_t roots[] = { 0, 5 }, rels[] = { 3, 6, 9 }, signers[] = { 0, 5 };
	struct ota_root *r = make(NULL, roots, 2, rels, 3, 2), *back;
	uint8_t *a = NULL, *b = NULL;
	size_t na, nb;

	r->expires = 4102444800u; /* 2100-01-01 */
	r->release_threshold = 2;
	cr_assert_eq(ota_root_revoke(r, "00112233445566778899aabbccddeeff"
					"00112233445566778899AABBCCDDEEFF"),
		     0);
	sign_with(r, signers, 2);
	back = reread(r);
	cr_assert_eq(back->version, 1);
	cr_assert_eq(back->expires, 4102444800u);
	cr_assert_eq(back->root_threshold, 2);
	cr_assert_eq(back->release_threshold, 2);
	cr_assert_eq(back->n_keys, 5);
	cr_assert_eq(back->n_revoked, 1);
	cr_assert_str_eq(back->revoked[0], "00112233445566778899aabbccddeeff"
					   "00112233445566778899aabbccddeeff");
	for (size_t i = 0; i < back->n_keys; i++) {
		cr_assert_str_eq(back->keys[i].id, r->keys[i].id);
		cr_assert_str_eq(back->keys[i].id,
				 ota_public_key_id(back->keys[i].pub));
		cr_assert_eq(back->keys[i].alg, r->keys[i].alg);
		cr_assert_eq(back->keys[i].role, r->keys[i].role);
	}
	cr_assert_eq(ota_root_check_self(back, "record"), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_root_encode(&a, &na, r), 0);
	cr_assert_eq(ota_root_encode(&b, &nb, back), 0);
	cr_assert_eq(na, nb);
	cr_assert_eq(memcmp(a, b, na), 0, "written again byte for byte");
	free(a);
	free(b);
	ota_root_free(back);
	ota_root_free(r);
}

Test(root, duplicate_signatures_count_once)
{
	size_t roots[] = { 0, 1 }, rels[] = { 4 }, one[] = { 0 };
	struct ota_root *r = make(NULL, roots, 2, rels, 1, 2), *back;

	sign_with(r, one, 1);
	/* the same key's signature twice: still one key */
	r->sigs[1] = r->sigs[0];
	r->n_sigs = 2;
	back = reread(r);
	cr_assert_eq(back->n_sigs, 2);
	cr_assert_eq(ota_root_count_signers(back, OTA_ROOT_ROLE_ROOT, back), 1);
	cr_assert_eq(ota_root_check_self(back, "record"), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "signed by 1 of its own"));
	ota_root_free(back);
	ota_root_free(r);
}

Test(root, key_in_both_versions_counts_for_both)
{
	size_t r1[] = { 0, 1 }, r2[] = { 1, 2 }, rels[] = { 4 };
	size_t all[] = { 0, 1, 2 }, old_only[] = { 0, 1 },
	       new_only[] = { 1, 2 };
	struct ota_root *v1 = make(NULL, r1, 2, rels, 1, 2);
	struct ota_root *v2;

	sign_with(v1, old_only, 2);
	v2 = make(v1, r2, 2, rels, 1, 2);
	sign_with(v2, all, 3);
	cr_assert_eq(ota_root_check_next(v1, v2, "v2"), 0, "%s",
		     ota_error_message());
	/* key 1 in both: with key 0 it meets v1's, with key 2 v2's */
	cr_assert_eq(ota_root_count_signers(v1, OTA_ROOT_ROLE_ROOT, v2), 2);
	cr_assert_eq(ota_root_count_signers(v2, OTA_ROOT_ROLE_ROOT, v2), 2);

	/* threshold met by the old keys only */
	ota_root_unsign(v2);
	sign_with(v2, old_only, 2);
	cr_assert_eq(ota_root_check_next(v1, v2, "v2"), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "of its own root keys"), "%s",
		  ota_error_message());

	/* threshold met by the new keys only */
	ota_root_unsign(v2);
	sign_with(v2, new_only, 2);
	cr_assert_eq(ota_root_check_next(v1, v2, "v2"), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "of version 1"), "%s",
		  ota_error_message());
	ota_root_free(v1);
	ota_root_free(v2);
}

Test(root, release_keys_do_not_sign_records)
{
	size_t roots[] = { 0 }, rels[] = { 4 }, rel[] = { 4 }, root[] = { 0 };
	struct ota_root *r = make(NULL, roots, 1, rels, 1, 1);

	sign_with(r, rel, 1);
	cr_assert_eq(ota_root_check_self(r, "r"), OTA_EVERIFY);
	sign_with(r, root, 1);
	cr_assert_eq(ota_root_check_self(r, "r"), 0);
	ota_root_free(r);
}

/* v1..v4, each rotating every root key: 0,1 -> 1,2 -> 2,7 -> 7,8. */
static void chain(struct ota_root *v[4])
{
	size_t sets[4][2] = { { 0, 1 }, { 1, 2 }, { 2, 7 }, { 7, 8 } };
	size_t rels[4][1] = { { 4 }, { 4 }, { 3 }, { 3 } };

	v[0] = make(NULL, sets[0], 2, rels[0], 1, 2);
	sign_with(v[0], sets[0], 2);
	for (int i = 1; i < 4; i++) {
		size_t both[4] = { sets[i - 1][0], sets[i - 1][1], sets[i][0],
				   sets[i][1] };

		v[i] = make(v[i - 1], sets[i], 2, rels[i], 1, 2);
		sign_with(v[i], both, 4);
	}
}

Test(root, walk_catches_up_over_three_rotations)
{
	struct ota_root *v[4];
	struct ota_root_step steps[3];
	struct ota_trust t;
	const struct ota_root *cur;

	chain(v);
	/* in any order: the walk takes them by version */
	const struct ota_root *cand[3] = { v[3], v[1], v[2] };
	cur = v[0];
	cr_assert_eq(ota_root_walk(&cur, cand, 3, steps, (int64_t)time(NULL)),
		     0, "%s", ota_error_message());
	cr_assert_eq(cur, v[3]);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(steps[i].result, OTA_ROOT_STEP_APPLIED);
		cr_assert_eq(steps[i].version, (uint32_t)i + 2);
	}
	/* v1's keys are all gone by v4: its release key is key 3 */
	ota_trust_init(&t);
	cr_assert_eq(ota_root_trust(&t, cur), 0);
	cr_assert_eq(t.n_keys, 1);
	cr_assert_str_eq(ota_public_key_id(t.keys[0]), ota_key_id(key(3)));
	ota_trust_clear(&t);
	for (int i = 0; i < 4; i++)
		ota_root_free(v[i]);
}

Test(root, skipped_version_is_refused)
{
	struct ota_root *v[4];
	struct ota_root_step steps[2];
	const struct ota_root *cur;

	chain(v);
	cr_assert_eq(ota_root_check_next(v[0], v[2], "v3"), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "skips version 2"), "%s",
		  ota_error_message());
	/* a walk without v2 cannot reach v3 */
	const struct ota_root *cand[2] = { v[2], v[3] };
	cur = v[0];
	cr_assert_eq(ota_root_walk(&cur, cand, 2, steps, -1), OTA_EVERIFY);
	cr_assert_eq(cur, v[0]);
	cr_assert_eq(steps[0].result, OTA_ROOT_STEP_REFUSED);
	for (int i = 0; i < 4; i++)
		ota_root_free(v[i]);
}

Test(root, rollback_is_refused)
{
	struct ota_root *v[4];
	struct ota_root_step steps[2];
	const struct ota_root *cur;

	chain(v);
	cr_assert_eq(ota_root_check_next(v[2], v[1], "v2"), OTA_EDOWNGRADE);
	cr_assert_eq(ota_root_check_next(v[2], v[2], "v3"), OTA_EDOWNGRADE);
	/* older records in a walk are ignored: the version never goes down */
	const struct ota_root *cand[2] = { v[0], v[1] };
	cur = v[2];
	cr_assert_eq(ota_root_walk(&cur, cand, 2, steps, -1), 0);
	cr_assert_eq(cur, v[2]);
	cr_assert_eq(steps[0].result, OTA_ROOT_STEP_KNOWN);
	cr_assert_eq(steps[1].result, OTA_ROOT_STEP_KNOWN);
	for (int i = 0; i < 4; i++)
		ota_root_free(v[i]);
}

Test(root, two_records_of_one_version_are_refused)
{
	struct ota_root *v[4], *fork;
	struct ota_root_step steps[1];
	size_t signers[] = { 0, 1, 2 };
	const struct ota_root *cur;

	chain(v);
	/* the same version 2, signed by the same keys, other content */
	cr_assert_eq(ota_root_next(&fork, v[0]), 0);
	cr_assert_eq(
	    ota_root_add_key(fork, pub(2), OTA_ROOT_ROLE_ROOT, 2, false), 0);
	sign_with(fork, signers, 3);
	cr_assert_eq(ota_root_check_next(v[0], fork, "fork"), 0);
	const struct ota_root *cand[1] = { fork };
	cur = v[1];
	cr_assert_eq(ota_root_walk(&cur, cand, 1, steps, -1), OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "two histories"));
	cr_assert_eq(cur, v[1]);
	ota_root_free(fork);
	for (int i = 0; i < 4; i++)
		ota_root_free(v[i]);
}

Test(root, expired_root_is_refused)
{
	struct ota_root *v[4];
	struct ota_root_step steps[1];
	size_t signers[] = { 0, 1, 2 };
	const struct ota_root *cur;

	chain(v);
	v[1]->expires = 1000000000; /* 2001 */
	ota_root_unsign(v[1]);
	sign_with(v[1], signers, 3);
	const struct ota_root *cand[1] = { v[1] };
	cur = v[0];
	cr_assert_eq(ota_root_walk(&cur, cand, 1, steps, (int64_t)time(NULL)),
		     OTA_EVERIFY);
	cr_assert(strstr(ota_error_message(), "expired"), "%s",
		  ota_error_message());
	/* before the expiry (verify --at), it is in force */
	cur = v[0];
	cr_assert_eq(ota_root_walk(&cur, cand, 1, steps, 999999999), 0);
	/* an expired record on the way to a newer one does not matter */
	cr_assert_eq(ota_root_check_next(v[1], v[2], "v3"), 0);
	for (int i = 0; i < 4; i++)
		ota_root_free(v[i]);
}

Test(root, revoked_release_key_is_refused)
{
	size_t roots[] = { 0 }, rels[] = { 4, 3 }, signer[] = { 0 };
	struct ota_root *v1 = make(NULL, roots, 1, rels, 2, 1), *v2 = NULL;
	struct ota_trust t;
	struct ota_trust_result res;
	struct ota_digest d = { .alg = OTA_DIGEST_SHA256, .len = 32 };
	uint8_t *sig = NULL;
	size_t siglen = 0;

	sign_with(v1, signer, 1);
	cr_assert_eq(ota_root_next(&v2, v1), 0);
	cr_assert_eq(ota_root_revoke(v2, ota_key_id(key(4))), 0);
	cr_assert_eq(v2->n_keys, 2, "revoked key removed");
	/* a revoked key cannot come back */
	cr_assert_eq(
	    ota_root_add_key(v2, pub(4), OTA_ROOT_ROLE_RELEASE, 3, false),
	    OTA_EUSAGE);
	sign_with(v2, signer, 1);
	cr_assert_eq(ota_root_check_next(v1, v2, "v2"), 0);

	ota_trust_init(&t);
	cr_assert_eq(ota_root_trust(&t, v2), 0);
	cr_assert_eq(t.n_keys, 1);
	cr_assert_eq(t.n_revoked, 1);
	/* even handed in some other way, the revoked key is refused */
	cr_assert_eq(ota_trust_add_public_key(&t, pub(4), "k4"), 0);
	cr_assert_eq(ota_key_sign_digest(&sig, &siglen, key(4), &d), 0);
	struct ota_trust_sig ts = { .keyid = ota_key_id(key(4)),
				    .alg = ota_key_alg(key(4)),
				    .sig = sig,
				    .siglen = siglen,
				    .digest = &d };
	cr_assert_eq(ota_trust_judge(&res, &t, &ts), 0);
	cr_assert_eq(res.verdict, OTA_TRUST_REVOKED);
	free(sig);
	ota_trust_clear(&t);
	ota_root_free(v1);
	ota_root_free(v2);
}

Test(root, shape_is_checked)
{
	size_t roots[] = { 0 }, rels[] = { 4 };
	struct ota_root *r = make(NULL, roots, 1, rels, 1, 1);
	struct ota_root_change c = { .root_threshold = 2 };

	cr_assert_eq(ota_root_apply(r, &c, true), OTA_EUSAGE);
	c.root_threshold = 0;
	c.release_threshold = 1;
	const char *gone[] = { ota_key_id(key(4)) };
	c.remove = gone;
	c.n_remove = 1;
	cr_assert_eq(ota_root_apply(r, &c, true), OTA_EUSAGE,
		     "no release key left");
	cr_assert_eq(ota_root_remove_key(r, ota_key_id(key(4))), OTA_EUSAGE);
	cr_assert_eq(
	    ota_root_add_key(r, pub(0), OTA_ROOT_ROLE_RELEASE, 1, false),
	    OTA_EUSAGE, "a key listed twice");
	ota_root_free(r);
}

/* The record that the flips start from: every signature needed. */
static uint8_t *flip_base(size_t *n)
{
	size_t roots[] = { 0, 3 }, rels[] = { 4, 6 }, signers[] = { 0, 3 };
	struct ota_root *r = make(NULL, roots, 2, rels, 2, 2);
	uint8_t *b = NULL;

	r->expires = 4102444800u;
	cr_assert_eq(ota_root_revoke(r, ota_key_id(key(1))), 0);
	sign_with(r, signers, 2);
	cr_assert_eq(ota_root_encode(&b, n, r), 0);
	ota_root_free(r);
	return b;
}

Test(root, bit_flips_are_never_accepted)
{
	size_t n;
	uint8_t *b = flip_base(&n);
	unsigned parsed = 0;

	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			struct ota_root *r = NULL;

			b[i] ^= (uint8_t)(1u << bit);
			if (ota_root_parse(&r, b, n, "flipped") == 0) {
				parsed++;
				cr_assert_neq(ota_root_check_self(r, "f"), 0,
					      "byte %zu bit %d accepted", i,
					      bit);
			}
			ota_root_free(r);
			b[i] ^= (uint8_t)(1u << bit);
		}
	/* most flips land in keys and signatures: parsed, then refused */
	cr_log_info("%u of %zu flips parsed, all refused", parsed, n * 8);
	cr_assert_gt(parsed, 0);
	free(b);
}

Test(root, truncations_are_refused)
{
	size_t n;
	uint8_t *b = flip_base(&n);

	for (size_t len = 0; len < n; len++) {
		struct ota_root *r = NULL;

		cr_assert_eq(ota_root_parse(&r, b, len, "short"), OTA_EINPUT,
			     "%zu bytes", len);
		cr_assert_null(r);
		cr_assert(strstr(ota_error_message(), "short: offset "));
	}
	free(b);
}
