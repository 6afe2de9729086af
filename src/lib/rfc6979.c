/*
 * Deterministic ECDSA (RFC 6979): k derived from the private key and the
 * digest, so that a rebuild signs the same bytes and no signature depends on
 * the random number generator of the machine that made it.
 *
 * OpenSSL 3.2 added this as the signature parameter "nonce-type" = 1; the
 * OpenSSL 3.0 that Debian 12 ships ignores that parameter without an error
 * (its settable parameters do not list it) and signs with a random k. So the
 * library asks the running OpenSSL which parameters it takes, lets OpenSSL
 * sign when it can, and otherwise signs here with the public BIGNUM,
 * EC_GROUP and EC_POINT APIs (EC_KEY is deprecated and not used). Both give
 * the same (r, s): RFC 6979's, with s not normalised to the lower half, as
 * neither OpenSSL nor any verifier of ours requires. When every supported
 * OpenSSL has "nonce-type", everything below ota_rfc6979_native() goes.
 */
#include "rfc6979_priv.h"

#include "otatool/error.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL 3.2's OSSL_SIGNATURE_PARAM_NONCE_TYPE, spelled out for 3.0. */
#ifdef OSSL_SIGNATURE_PARAM_NONCE_TYPE
#define NONCE_TYPE OSSL_SIGNATURE_PARAM_NONCE_TYPE
#else
#define NONCE_TYPE "nonce-type"
#endif

/*
 * r = 0 or s = 0 makes RFC 6979 derive the next k (section 3.4); for the
 * curves otatool signs with that happens with probability about 2^-256 per
 * try, so a limit only stops a broken group from looping.
 */
#define MAX_TRIES 16

static const char *md_name(enum ota_digest_alg alg)
{
	return alg == OTA_DIGEST_SHA384   ? "SHA384"
	       : alg == OTA_DIGEST_SHA512 ? "SHA512"
					  : "SHA256";
}

/* ------------------------------------------------- OpenSSL 3.2 and later */

static EVP_PKEY_CTX *sign_ctx(EVP_PKEY *pkey, const struct ota_digest *d)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

	if (!pctx || EVP_PKEY_sign_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(
		pctx, EVP_get_digestbyname(md_name(d->alg))) <= 0) {
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	return pctx;
}

/*
 * A provider takes parameters it does not know silently, so the question
 * is whether it lists "nonce-type" among those it can set, not whether
 * setting it succeeds.
 */
static bool offers_nonce_type(EVP_PKEY_CTX *pctx)
{
	return OSSL_PARAM_locate_const(EVP_PKEY_CTX_settable_params(pctx),
				       NONCE_TYPE) != NULL;
}

bool ota_rfc6979_native(EVP_PKEY *pkey)
{
	struct ota_digest d = { .alg = OTA_DIGEST_SHA256 };
	EVP_PKEY_CTX *pctx = sign_ctx(pkey, &d);
	bool yes = pctx && offers_nonce_type(pctx);

	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return yes;
}

/* 1: this OpenSSL does not offer it; 0: signed; negative: an error. */
static int sign_native(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
		       const struct ota_digest *d)
{
	EVP_PKEY_CTX *pctx = sign_ctx(pkey, d);
	unsigned int deterministic = 1;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_uint(NONCE_TYPE, &deterministic),
		OSSL_PARAM_construct_end(),
	};
	size_t len = 0;
	int rc = 1;

	*sig = NULL;
	if (!pctx) {
		rc = ota_error(OTA_EKEY, "cannot set up ECDSA signing");
		goto out;
	}
	if (!offers_nonce_type(pctx))
		goto out;
	if (EVP_PKEY_CTX_set_params(pctx, params) != 1 ||
	    EVP_PKEY_sign(pctx, NULL, &len, d->bytes, d->len) != 1 ||
	    !(*sig = malloc(len)) ||
	    EVP_PKEY_sign(pctx, *sig, &len, d->bytes, d->len) != 1) {
		free(*sig);
		*sig = NULL;
		rc = ota_error(OTA_EKEY, "deterministic ECDSA signing failed");
		goto out;
	}
	*siglen = len;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
	return rc;
}

/* ------------------------------------------- RFC 6979 section 3.2 here */

/*
 * The HMAC-DRBG of section 3.2 (steps b to h): K and V are secret (they
 * derive every k), hlen the hash's size; q the group order of qlen bits,
 * rlen bytes.
 */
struct drbg {
	EVP_MAC_CTX *mac;
	size_t hlen;
	uint8_t K[OTA_DIGEST_MAX];
	uint8_t V[OTA_DIGEST_MAX];
	const BIGNUM *q;
	int qlen;
	size_t rlen;
	bool started;
};

/* out = HMAC_K(V || sep || a), sep < 0 for none and a NULL for none. */
static int hmac(struct drbg *g, uint8_t *out, int sep, const uint8_t *a,
		size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t sep_byte = (uint8_t)sep;
	size_t n = 0;

	if (EVP_MAC_init(g->mac, g->K, g->hlen, NULL) != 1 ||
	    EVP_MAC_update(g->mac, g->V, g->hlen) != 1 ||
	    (sep >= 0 && EVP_MAC_update(g->mac, &sep_byte, 1) != 1) ||
	    (a && EVP_MAC_update(g->mac, a, alen) != 1) ||
	    (b && EVP_MAC_update(g->mac, b, blen) != 1) ||
	    EVP_MAC_final(g->mac, out, &n, g->hlen) != 1 || n != g->hlen)
		return -1;
	return 0;
}

/* bits2int (section 2.3.2): the leftmost qlen bits of in, as an integer. */
static int bits2int(BIGNUM *out, const uint8_t *in, size_t len, int qlen)
{
	if (!BN_bin2bn(in, (int)len, out))
		return -1;
	if (len * 8 > (size_t)qlen && !BN_rshift(out, out, (int)len * 8 - qlen))
		return -1;
	return 0;
}

/* Steps b to g, keyed by int2octets(x) and bits2octets(h1). */
static int drbg_start(struct drbg *g, const BIGNUM *x, const uint8_t *h1,
		      size_t h1len, BN_CTX *bn)
{
	uint8_t xo[OTA_RFC6979_QBYTES_MAX], ho[OTA_RFC6979_QBYTES_MAX];
	BIGNUM *z = BN_CTX_get(bn);
	int rc = -1;

	/* bits2octets: bits2int(h1) mod q, where bits2int(h1) < 2q. */
	if (!z || bits2int(z, h1, h1len, g->qlen) ||
	    (BN_cmp(z, g->q) >= 0 && !BN_sub(z, z, g->q)) ||
	    BN_bn2binpad(z, ho, (int)g->rlen) < 0 ||
	    BN_bn2binpad(x, xo, (int)g->rlen) < 0)
		goto out;
	memset(g->V, 0x01, g->hlen);
	memset(g->K, 0x00, g->hlen);
	if (hmac(g, g->K, 0x00, xo, g->rlen, ho, g->rlen) ||
	    hmac(g, g->V, -1, NULL, 0, NULL, 0) ||
	    hmac(g, g->K, 0x01, xo, g->rlen, ho, g->rlen) ||
	    hmac(g, g->V, -1, NULL, 0, NULL, 0))
		goto out;
	rc = 0;
out:
	OPENSSL_cleanse(xo, sizeof(xo));
	return rc;
}

/*
 * Step h: the next k in [1, q-1]. After the first, each call first moves
 * the state on as a rejected candidate does (what section 3.4 asks when a
 * k gives r = 0 or s = 0).
 */
static int drbg_next(struct drbg *g, BIGNUM *k)
{
	uint8_t t[OTA_RFC6979_QBYTES_MAX + OTA_DIGEST_MAX];
	int rc = -1;

	for (int tries = 0; tries < MAX_TRIES; tries++) {
		size_t tlen = 0;

		if (g->started && (hmac(g, g->K, 0x00, NULL, 0, NULL, 0) ||
				   hmac(g, g->V, -1, NULL, 0, NULL, 0)))
			goto out;
		g->started = true;
		while (tlen * 8 < (size_t)g->qlen) {
			if (hmac(g, g->V, -1, NULL, 0, NULL, 0))
				goto out;
			memcpy(t + tlen, g->V, g->hlen);
			tlen += g->hlen;
		}
		if (bits2int(k, t, tlen, g->qlen))
			goto out;
		if (!BN_is_zero(k) && BN_cmp(k, g->q) < 0) {
			rc = 0;
			goto out;
		}
	}
out:
	OPENSSL_cleanse(t, sizeof(t));
	return rc;
}

/* The group and private scalar of an EC key, for the code below. */
struct ec_priv {
	EC_GROUP *group;
	BIGNUM *x;
};

static void ec_priv_free(struct ec_priv *p)
{
	EC_GROUP_free(p->group);
	BN_clear_free(p->x);
}

static int ec_priv_get(struct ec_priv *p, EVP_PKEY *pkey)
{
	char name[80];
	int nid;

	p->group = NULL;
	p->x = NULL;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
					   name, sizeof(name), NULL) != 1)
		return ota_error(OTA_EKEY, "not an EC key on a named curve");
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(name);
	p->group = nid == NID_undef
		       ? NULL
		       : EC_GROUP_new_by_curve_name_ex(NULL, NULL, nid);
	if (!p->group || BN_num_bytes(EC_GROUP_get0_order(p->group)) >
			     OTA_RFC6979_QBYTES_MAX)
		return ota_error(OTA_EKEY, "unsupported curve %s", name);
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &p->x) != 1)
		return ota_error(OTA_EKEY, "the key has no private scalar");
	BN_set_flags(p->x, BN_FLG_CONSTTIME);
	if (BN_is_zero(p->x) ||
	    BN_cmp(p->x, EC_GROUP_get0_order(p->group)) >= 0)
		return ota_error(OTA_EKEY,
				 "the private scalar is not below the order");
	return 0;
}

static int drbg_init(struct drbg *g, const struct ec_priv *p,
		     const struct ota_digest *d, BN_CTX *bn)
{
	EVP_MAC *hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)md_name(d->alg), 0),
		OSSL_PARAM_construct_end(),
	};

	memset(g, 0, sizeof(*g));
	g->mac = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
	EVP_MAC_free(hmac_alg);
	g->hlen = ota_digest_alg_size(d->alg);
	g->q = EC_GROUP_get0_order(p->group);
	g->qlen = BN_num_bits(g->q);
	g->rlen = (size_t)(g->qlen + 7) / 8;
	if (!g->mac || EVP_MAC_CTX_set_params(g->mac, params) != 1 ||
	    g->hlen != d->len || g->hlen > OTA_DIGEST_MAX)
		return ota_error(OTA_EINTERNAL, "cannot set up HMAC-%s",
				 md_name(d->alg));
	if (drbg_start(g, p->x, d->bytes, d->len, bn))
		return ota_error(OTA_EINTERNAL, "RFC 6979 nonce failed");
	return 0;
}

static void drbg_free(struct drbg *g)
{
	EVP_MAC_CTX_free(g->mac);
	OPENSSL_cleanse(g, sizeof(*g));
}

int ota_rfc6979_nonce(uint8_t k[OTA_RFC6979_QBYTES_MAX], size_t *klen,
		      EVP_PKEY *pkey, const struct ota_digest *digest)
{
	struct ec_priv p = { 0 };
	struct drbg g = { 0 };
	BN_CTX *bn = BN_CTX_secure_new();
	BIGNUM *kb = NULL;
	int rc;

	if (!bn)
		return ota_error(OTA_EINTERNAL, "out of memory");
	BN_CTX_start(bn);
	if ((rc = ec_priv_get(&p, pkey)) ||
	    (rc = drbg_init(&g, &p, digest, bn)))
		goto out;
	kb = BN_CTX_get(bn);
	if (!kb || drbg_next(&g, kb) || BN_bn2binpad(kb, k, (int)g.rlen) < 0) {
		rc = ota_error(OTA_EINTERNAL, "RFC 6979 nonce failed");
		goto out;
	}
	*klen = g.rlen;
out:
	drbg_free(&g);
	BN_CTX_end(bn);
	BN_CTX_free(bn);
	ec_priv_free(&p);
	ERR_clear_error();
	return rc;
}

static int der_encode(uint8_t **sig, size_t *siglen, const BIGNUM *r,
		      const BIGNUM *s)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r2 = BN_dup(r), *s2 = BN_dup(s);
	unsigned char *der = NULL;
	int len;

	if (!es || !r2 || !s2 || !ECDSA_SIG_set0(es, r2, s2)) {
		BN_free(r2);
		BN_free(s2);
		ECDSA_SIG_free(es);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	len = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (len <= 0 || !(*sig = malloc((size_t)len))) {
		OPENSSL_free(der);
		return ota_error(OTA_EINTERNAL, "cannot encode the signature");
	}
	memcpy(*sig, der, (size_t)len);
	OPENSSL_free(der);
	*siglen = (size_t)len;
	return 0;
}

/*
 * s = k^-1 (e + x r) mod q. k is inverted by Fermat (k^(q-2), a
 * constant-time exponentiation) and the products with secrets are
 * Montgomery multiplications, whose time does not depend on the values;
 * R = kG is EC_POINT_mul with the generator, which OpenSSL computes with a
 * constant-time ladder (or a constant-time table for P-256). The additions
 * and the comparisons that reject a k (never seen in practice) are plain
 * BIGNUM operations: OpenSSL's public API offers no fixed-time form.
 */
int ota_rfc6979_sign(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
		     const struct ota_digest *digest)
{
	struct ec_priv p = { 0 };
	struct drbg g = { 0 };
	BN_CTX *bn = BN_CTX_secure_new();
	BN_MONT_CTX *mont = NULL;
	EC_POINT *R = NULL;
	BIGNUM *k = NULL, *kinv = NULL, *e, *r, *s, *t = NULL, *qm2, *rx;
	const BIGNUM *q;
	int rc, tries;

	*sig = NULL;
	if (!bn)
		return ota_error(OTA_EINTERNAL, "out of memory");
	BN_CTX_start(bn);
	if ((rc = ec_priv_get(&p, pkey)) ||
	    (rc = drbg_init(&g, &p, digest, bn)))
		goto out;
	rc = 1; /* until signed: 1 is a failure without a message yet */
	q = g.q;
	k = BN_CTX_get(bn);
	kinv = BN_CTX_get(bn);
	e = BN_CTX_get(bn);
	r = BN_CTX_get(bn);
	s = BN_CTX_get(bn);
	t = BN_CTX_get(bn);
	qm2 = BN_CTX_get(bn);
	rx = BN_CTX_get(bn);
	R = EC_POINT_new(p.group);
	mont = BN_MONT_CTX_new();
	if (!rx || !R || !mont || !BN_MONT_CTX_set(mont, q, bn) ||
	    !BN_copy(qm2, q) || !BN_sub_word(qm2, 2))
		goto out;
	BN_set_flags(k, BN_FLG_CONSTTIME);
	BN_set_flags(kinv, BN_FLG_CONSTTIME);
	BN_set_flags(t, BN_FLG_CONSTTIME);
	BN_set_flags(s, BN_FLG_CONSTTIME);
	/* e: the digest's leftmost qlen bits, reduced (e < 2q). */
	if (bits2int(e, digest->bytes, digest->len, g.qlen) ||
	    (BN_cmp(e, q) >= 0 && !BN_sub(e, e, q)))
		goto out;
	for (tries = 0; tries < MAX_TRIES; tries++) {
		if (drbg_next(&g, k) ||
		    !EC_POINT_mul(p.group, R, k, NULL, NULL, bn) ||
		    !EC_POINT_get_affine_coordinates(p.group, R, rx, NULL,
						     bn) ||
		    !BN_nnmod(r, rx, q, bn))
			goto out;
		if (BN_is_zero(r))
			continue;
		if (!BN_mod_exp_mont_consttime(kinv, k, qm2, q, bn, mont) ||
		    !BN_to_montgomery(t, p.x, mont, bn) ||
		    !BN_mod_mul_montgomery(t, t, r, mont, bn) ||
		    !BN_mod_add_quick(t, t, e, q) ||
		    !BN_to_montgomery(s, kinv, mont, bn) ||
		    !BN_mod_mul_montgomery(s, s, t, mont, bn))
			goto out;
		if (!BN_is_zero(s))
			break;
	}
	if (tries == MAX_TRIES)
		goto out;
	rc = der_encode(sig, siglen, r, s);
out:
	if (rc == 1)
		rc = ota_error(OTA_EINTERNAL,
			       "deterministic ECDSA signing failed");
	if (k)
		BN_clear(k);
	if (kinv)
		BN_clear(kinv);
	if (t)
		BN_clear(t);
	drbg_free(&g);
	EC_POINT_free(R);
	BN_MONT_CTX_free(mont);
	BN_CTX_end(bn);
	BN_CTX_free(bn);
	ec_priv_free(&p);
	ERR_clear_error();
	return rc;
}

int ota_ecdsa_sign_deterministic(uint8_t **sig, size_t *siglen, EVP_PKEY *pkey,
				 const struct ota_digest *digest)
{
	int rc = sign_native(sig, siglen, pkey, digest);

	return rc == 1 ? ota_rfc6979_sign(sig, siglen, pkey, digest) : rc;
}
