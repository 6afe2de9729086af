/*
 * Test-only package builder and OpenSSL crypto for the device verifier's
 * tests (see pkgbuild.h). Plain and slow on purpose: it lays the package
 * out from otapkg.h's description in the most direct way.
 */
#include "pkgbuild.h"

#include <criterion/criterion.h>

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <zlib.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pkgb_put16(uint8_t *p, uint16_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
}

void pkgb_put32(uint8_t *p, uint32_t x)
{
	pkgb_put16(p, (uint16_t)x);
	pkgb_put16(p + 2, (uint16_t)(x >> 16));
}

void pkgb_put64(uint8_t *p, uint64_t x)
{
	pkgb_put32(p, (uint32_t)x);
	pkgb_put32(p + 4, (uint32_t)(x >> 32));
}

static size_t pad4(size_t n)
{
	return (n + 3) / 4 * 4;
}

static uint64_t align_to(uint64_t n, uint64_t a)
{
	return (n + a - 1) / a * a;
}

static const EVP_MD *md_for(uint8_t alg)
{
	switch (alg) {
	case OTAPKG_DIGEST_SHA256:
		return EVP_sha256();
	case OTAPKG_DIGEST_SHA384:
		return EVP_sha384();
	case OTAPKG_DIGEST_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

static size_t md_size(uint8_t alg)
{
	return alg == OTAPKG_DIGEST_SHA256   ? 32
	       : alg == OTAPKG_DIGEST_SHA384 ? 48
					     : 64;
}

/* ---- crypto callbacks ---- */

static int ossl_hash_init(void *ctx, uint8_t alg)
{
	struct pkgb_crypto *c = ctx;
	const EVP_MD *md = md_for(alg);

	return md != NULL && EVP_DigestInit_ex(c->md, md, NULL) == 1 ? 0 : 1;
}

static int ossl_hash_update(void *ctx, const uint8_t *data, size_t len)
{
	struct pkgb_crypto *c = ctx;

	return EVP_DigestUpdate(c->md, data, len) == 1 ? 0 : 1;
}

static int ossl_hash_final(void *ctx, uint8_t *out)
{
	struct pkgb_crypto *c = ctx;

	return EVP_DigestFinal_ex(c->md, out, NULL) == 1 ? 0 : 1;
}

/* Whether an OTAPKG_SIG_* algorithm is one the key can make. */
static int alg_fits_key(uint16_t alg, EVP_PKEY *key)
{
	char group[32] = "";

	switch (alg) {
	case OTAPKG_SIG_ECDSA_P256:
	case OTAPKG_SIG_ECDSA_P384:
		if (!EVP_PKEY_is_a(key, "EC") ||
		    !EVP_PKEY_get_utf8_string_param(key,
						    OSSL_PKEY_PARAM_GROUP_NAME,
						    group, sizeof(group), NULL))
			return 0;
		return strcmp(group, alg == OTAPKG_SIG_ECDSA_P256
					 ? "prime256v1"
					 : "secp384r1") == 0;
	case OTAPKG_SIG_RSA_PSS:
	case OTAPKG_SIG_RSA_PKCS1:
		return EVP_PKEY_is_a(key, "RSA");
	case OTAPKG_SIG_ED25519:
		return EVP_PKEY_is_a(key, "ED25519");
	default:
		return 0;
	}
}

/* Sets up ctx (already *_init-ed) for alg over a digest made with md. */
static int setup_pkey_ctx(EVP_PKEY_CTX *ctx, uint16_t alg, const EVP_MD *md)
{
	if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		return 0;
	if (alg == OTAPKG_SIG_RSA_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(
			   ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(
			   ctx, EVP_MD_get_size(md)) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) > 0;
	if (alg == OTAPKG_SIG_RSA_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0;
	return 1;
}

static int ossl_verify(void *ctx, const struct otav_sig *sig,
		       const uint8_t *digest, size_t digest_len)
{
	struct pkgb_crypto *c = ctx;
	const EVP_MD *md = digest_len == 32   ? EVP_sha256()
			   : digest_len == 48 ? EVP_sha384()
					      : NULL;
	EVP_PKEY *key = NULL;
	int ok = 0;
	unsigned i;

	c->n_verify++;
	for (i = 0; i < c->n_trusted; i++)
		if (memcmp(c->keyids[i], sig->keyid, 32) == 0)
			key = c->trusted[i];
	if (key == NULL)
		return 1;
	if (md == NULL || !alg_fits_key(sig->alg, key))
		return -1;
	if (sig->alg == OTAPKG_SIG_ED25519) {
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();

		ok = mctx != NULL &&
		     EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestVerify(mctx, sig->sig, sig->len, digest,
				      digest_len) == 1;
		EVP_MD_CTX_free(mctx);
	} else {
		EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(key, NULL);

		ok = pctx != NULL && EVP_PKEY_verify_init(pctx) == 1 &&
		     setup_pkey_ctx(pctx, sig->alg, md) &&
		     EVP_PKEY_verify(pctx, sig->sig, sig->len, digest,
				     digest_len) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	return ok ? 0 : -1;
}

void pkgb_crypto_init(struct pkgb_crypto *c)
{
	memset(c, 0, sizeof(*c));
	c->md = EVP_MD_CTX_new();
	cr_assert_not_null(c->md);
	c->ops.ctx = c;
	c->ops.hash_init = ossl_hash_init;
	c->ops.hash_update = ossl_hash_update;
	c->ops.hash_final = ossl_hash_final;
	c->ops.verify = ossl_verify;
}

void pkgb_crypto_trust(struct pkgb_crypto *c, EVP_PKEY *key)
{
	cr_assert_lt(c->n_trusted, PKGB_MAX);
	c->trusted[c->n_trusted] = key;
	pkgb_keyid(key, c->keyids[c->n_trusted]);
	c->n_trusted++;
}

void pkgb_crypto_free(struct pkgb_crypto *c)
{
	EVP_MD_CTX_free(c->md);
	c->md = NULL;
}

/* ---- keys ---- */

EVP_PKEY *pkgb_key(uint16_t alg)
{
	EVP_PKEY *key = NULL;

	switch (alg) {
	case OTAPKG_SIG_ECDSA_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case OTAPKG_SIG_ECDSA_P384:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case OTAPKG_SIG_RSA_PSS:
	case OTAPKG_SIG_RSA_PKCS1:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case OTAPKG_SIG_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	cr_assert_not_null(key, "key generation for algorithm %u failed", alg);
	return key;
}

void pkgb_keyid(EVP_PKEY *key, uint8_t out[32])
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(key, &der);

	cr_assert_gt(len, 0);
	cr_assert_eq(
	    EVP_Digest(der, (size_t)len, out, NULL, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
}

static uint16_t natural_alg(EVP_PKEY *key)
{
	char group[32] = "";

	if (EVP_PKEY_is_a(key, "RSA"))
		return OTAPKG_SIG_RSA_PSS;
	if (EVP_PKEY_is_a(key, "ED25519"))
		return OTAPKG_SIG_ED25519;
	EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
				       sizeof(group), NULL);
	return strcmp(group, "secp384r1") == 0 ? OTAPKG_SIG_ECDSA_P384
					       : OTAPKG_SIG_ECDSA_P256;
}

/* Signs digest with s->key as s says; returns the length. */
static size_t sign_digest(uint8_t *out, const struct pkgb_signer *s,
			  uint16_t alg, const uint8_t *digest, size_t dlen)
{
	const EVP_MD *md = dlen == 32 ? EVP_sha256() : EVP_sha384();
	size_t len = 1024;
	int ok;

	if (alg == OTAPKG_SIG_ED25519) {
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();

		ok = mctx != NULL &&
		     EVP_DigestSignInit(mctx, NULL, NULL, NULL, s->key) == 1 &&
		     EVP_DigestSign(mctx, out, &len, digest, dlen) == 1;
		EVP_MD_CTX_free(mctx);
	} else {
		EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(s->key, NULL);

		ok = pctx != NULL && EVP_PKEY_sign_init(pctx) == 1 &&
		     setup_pkey_ctx(pctx, alg, md) &&
		     EVP_PKEY_sign(pctx, out, &len, digest, dlen) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	cr_assert(ok, "signing with algorithm %u failed", alg);
	return len;
}

/* ---- the builder ---- */

struct item {
	uint16_t type;
	uint16_t len;
	const uint8_t *value; /* NULL for IMAGE: made once laid out */
	int image;            /* IMAGE: its index */
};

static void add_item(struct item *items, unsigned *n, uint16_t type,
		     const void *value, size_t len, int image)
{
	cr_assert_lt(*n, PKGB_MAX_HW + 4 * PKGB_MAX + 8);
	cr_assert_leq(len, 0xffff);
	items[*n].type = type;
	items[*n].len = (uint16_t)len;
	items[*n].value = value;
	items[*n].image = image;
	(*n)++;
}

/* Stable insertion sort by type. */
static void sort_items(struct item *items, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		struct item x = items[i];

		for (j = i; j > 0 && items[j - 1].type > x.type; j--)
			items[j] = items[j - 1];
		items[j] = x;
	}
}

static void hash_bytes(const struct otav_crypto *h, uint8_t alg,
		       const uint8_t *p, size_t n, uint8_t *out)
{
	cr_assert_eq(h->hash_init(h->ctx, alg), 0);
	cr_assert_eq(h->hash_update(h->ctx, p, n), 0);
	cr_assert_eq(h->hash_final(h->ctx, out), 0);
}

static size_t image_value_len(const struct pkgb_image *im, const char *name)
{
	return OTAPKG_IMAGE_FIXED + 2 * md_size(im->digest_alg) + strlen(name) +
	       (im->kind == OTAPKG_KIND_CUSTOM ? strlen(im->custom_kind) : 0);
}

static size_t expected_sig_len(const struct pkgb_signer *s)
{
	return s->key != NULL ? (size_t)EVP_PKEY_get_size(s->key) : s->fake_len;
}

void pkgb_build(struct pkgb_pkg *out, const struct pkgb_desc *desc)
{
	struct pkgb_desc d = *desc;
	struct pkgb_crypto own;
	const struct otav_crypto *h;
	struct item items[PKGB_MAX_HW + 4 * PKGB_MAX + 8];
	char names[PKGB_MAX][16];
	uint8_t counter[4], bootmin[12];
	uint8_t certs_digest[PKGB_MAX][64];
	uint8_t flashed_digest[PKGB_MAX][64], stored_digest[PKGB_MAX][64];
	uint8_t base_tlv[PKGB_MAX][OTAPKG_IMAGE_BASE_FIXED + 64];
	unsigned n_items = 0, i, k;
	size_t p_size = 0, s_size = 4, dlen, pos;
	uint64_t end, total;
	uint8_t *buf;

	memset(out, 0, sizeof(*out));
	if (d.digest_alg == 0)
		d.digest_alg = OTAPKG_DIGEST_SHA256;
	if (d.align == 0)
		d.align = 16;
	if (d.name == NULL)
		d.name = "fw";
	if (d.version == NULL)
		d.version = "1.2.3";
	if (d.n_hardware == 0) {
		d.n_hardware = 1;
		d.hardware[0] = "board-a";
	}
	pkgb_crypto_init(&own);
	h = d.hash != NULL ? d.hash : &own.ops;

	/* Images first: stored bytes and both digests. */
	for (i = 0; i < d.n_images; i++) {
		struct pkgb_image *im = &d.images[i];

		if (im->kind == 0)
			im->kind = OTAPKG_KIND_APPLICATION;
		if (im->digest_alg == 0)
			im->digest_alg = OTAPKG_DIGEST_SHA256;
		if (im->name == NULL) {
			snprintf(names[i], sizeof(names[i]), "img%u", i);
			im->name = names[i];
		}
		if (im->patch != NULL) {
			out->stored[i] = malloc(im->patch_len + 1);
			cr_assert_not_null(out->stored[i]);
			memcpy(out->stored[i], im->patch, im->patch_len);
			out->stored_len[i] = im->patch_len;
			d.format = d.format ? d.format : OTAPKG_VERSION_DELTA;
			base_tlv[i][0] = (uint8_t)i;
			memset(base_tlv[i] + 1, 0, 3);
			pkgb_put64(base_tlv[i] + 4, im->base_len);
			hash_bytes(h, im->digest_alg, im->base, im->base_len,
				   base_tlv[i] + OTAPKG_IMAGE_BASE_FIXED);
		} else if (im->compress) {
			uLongf zlen = compressBound((uLong)im->len);

			out->stored[i] = malloc(zlen);
			cr_assert_not_null(out->stored[i]);
			cr_assert_eq(compress2(out->stored[i], &zlen, im->data,
					       (uLong)im->len, 9),
				     Z_OK);
			out->stored_len[i] = zlen;
		} else {
			out->stored[i] = malloc(im->len + 1);
			cr_assert_not_null(out->stored[i]);
			memcpy(out->stored[i], im->data, im->len);
			out->stored_len[i] = im->len;
		}
		hash_bytes(h, im->digest_alg, im->data, im->len,
			   flashed_digest[i]);
		hash_bytes(h, im->digest_alg, out->stored[i],
			   out->stored_len[i], stored_digest[i]);
	}

	/* The protected TLVs, in type order. */
	pkgb_put32(counter, d.counter);
	for (i = 0; i < 3; i++)
		pkgb_put32(bootmin + 4 * i, d.bootloader_min[i]);
#define STD(type) ((d.omit & (1u << (type))) == 0)
	if (STD(OTAPKG_TLV_NAME))
		add_item(items, &n_items, OTAPKG_TLV_NAME, d.name,
			 strlen(d.name), -1);
	if (STD(OTAPKG_TLV_VERSION))
		add_item(items, &n_items, OTAPKG_TLV_VERSION, d.version,
			 strlen(d.version), -1);
	if (STD(OTAPKG_TLV_SECURITY_COUNTER))
		add_item(items, &n_items, OTAPKG_TLV_SECURITY_COUNTER, counter,
			 4, -1);
	if (d.has_bootloader_min && STD(OTAPKG_TLV_BOOTLOADER_MIN))
		add_item(items, &n_items, OTAPKG_TLV_BOOTLOADER_MIN, bootmin,
			 12, -1);
	for (i = 0; i < d.n_hardware && STD(OTAPKG_TLV_HARDWARE); i++)
		add_item(items, &n_items, OTAPKG_TLV_HARDWARE, d.hardware[i],
			 strlen(d.hardware[i]), -1);
	for (i = 0; i < d.n_images && STD(OTAPKG_TLV_IMAGE); i++)
		add_item(items, &n_items, OTAPKG_TLV_IMAGE, NULL,
			 image_value_len(&d.images[i], d.images[i].name),
			 (int)i);
	for (i = 0; i < d.n_images && STD(OTAPKG_TLV_IMAGE_BASE); i++)
		if (d.images[i].patch != NULL)
			add_item(items, &n_items, OTAPKG_TLV_IMAGE_BASE,
				 base_tlv[i],
				 OTAPKG_IMAGE_BASE_FIXED +
				     md_size(d.images[i].digest_alg),
				 -1);
	/* Every signer's certificates are bound by a CERTS_DIGEST TLV. */
	for (i = 0; i < d.n_signers && STD(OTAPKG_TLV_CERTS_DIGEST); i++) {
		const struct pkgb_signer *s = &d.signers[i];
		uint8_t area[4096];
		size_t alen = 0;

		if (s->n_certs == 0)
			continue;
		for (k = 0; k < s->n_certs; k++) {
			cr_assert_lt(alen + 4 + pad4(s->cert_lens[k]),
				     sizeof(area));
			memset(area + alen, 0, 4 + pad4(s->cert_lens[k]));
			pkgb_put32(area + alen, (uint32_t)s->cert_lens[k]);
			memcpy(area + alen + 4, s->certs[k], s->cert_lens[k]);
			alen += 4 + pad4(s->cert_lens[k]);
		}
		if (s->key != NULL && !s->keyid_zero)
			pkgb_keyid(s->key, certs_digest[i]);
		else
			memset(certs_digest[i],
			       s->keyid_zero ? 0 : s->fake_keyid, 32);
		hash_bytes(h, OTAPKG_DIGEST_SHA256, area, alen,
			   certs_digest[i] + 32);
		add_item(items, &n_items, OTAPKG_TLV_CERTS_DIGEST,
			 certs_digest[i], 64, -1);
	}
#undef STD
	if (d.extra_last) {
		sort_items(items, n_items);
		for (i = 0; i < d.n_extra; i++)
			add_item(items, &n_items, d.extra[i].type,
				 d.extra[i].value, d.extra[i].len, -1);
	} else {
		for (i = 0; i < d.n_extra; i++)
			add_item(items, &n_items, d.extra[i].type,
				 d.extra[i].value, d.extra[i].len, -1);
		sort_items(items, n_items);
	}
	for (i = 0; i < n_items; i++)
		p_size += 4 + pad4(items[i].len);

	/* The signature block's size, known before anything is signed. */
	for (i = 0; i < d.n_signers; i++) {
		s_size +=
		    OTAPKG_SIG_FIXED + pad4(expected_sig_len(&d.signers[i]));
		for (k = 0; k < d.signers[i].n_certs; k++)
			s_size += 4 + pad4(d.signers[i].cert_lens[k]);
	}
	s_size += d.sig_slack;

	/* Layout. */
	end = OTAPKG_HEADER_SIZE + p_size + s_size;
	for (i = 0; i < d.n_images; i++) {
		out->image_off[i] = align_to(end, d.align);
		end = out->image_off[i] + out->stored_len[i];
	}
	total = end;
	buf = calloc(1, total);
	cr_assert_not_null(buf);
	out->data = buf;
	out->len = total;
	out->region_end = OTAPKG_HEADER_SIZE + p_size;
	out->sig_end = out->region_end + s_size;

	memcpy(buf, "OTAP", 4);
	pkgb_put16(buf + 4, d.format ? d.format : OTAPKG_VERSION);
	pkgb_put16(buf + 6, OTAPKG_HEADER_SIZE);
	buf[8] = d.digest_alg;
	pkgb_put16(buf + 10, (uint16_t)d.n_images);
	pkgb_put32(buf + 16, (uint32_t)p_size);
	pkgb_put32(buf + 20, (uint32_t)s_size);
	pkgb_put32(buf + 24, d.align);
	pkgb_put64(buf + 32, total);

	pos = OTAPKG_HEADER_SIZE;
	for (i = 0; i < n_items; i++) {
		const struct item *it = &items[i];
		uint8_t *v = buf + pos + 4;

		out->tlv_off[out->n_tlvs] = pos;
		out->tlv_type[out->n_tlvs++] = it->type;
		pkgb_put16(buf + pos, it->type);
		pkgb_put16(buf + pos + 2, it->len);
		if (it->image >= 0) {
			const struct pkgb_image *im = &d.images[it->image];
			size_t dl = md_size(im->digest_alg);
			size_t nl = strlen(im->name);
			size_t kl = im->kind == OTAPKG_KIND_CUSTOM
					? strlen(im->custom_kind)
					: 0;

			out->image_tlv[it->image] = pos + 4;
			v[0] = im->kind;
			v[1] = im->patch != NULL ? OTAPKG_COMP_PATCH
			       : im->compress    ? OTAPKG_COMP_ZLIB
						 : OTAPKG_COMP_NONE;
			v[2] = im->digest_alg;
			v[3] =
			    (uint8_t)((im->has_load ? OTAPKG_IMAGE_LOAD : 0) |
				      (im->encrypted ? OTAPKG_IMAGE_ENCRYPTED
						     : 0));
			v[4] = (uint8_t)nl;
			v[5] = (uint8_t)kl;
			pkgb_put64(v + 8, out->image_off[it->image]);
			pkgb_put64(v + 16, out->stored_len[it->image]);
			pkgb_put64(v + 24, im->len);
			pkgb_put64(v + 32, im->load_address);
			memcpy(v + 40, flashed_digest[it->image], dl);
			memcpy(v + 40 + dl, stored_digest[it->image], dl);
			memcpy(v + 40 + 2 * dl, im->name, nl);
			if (kl != 0)
				memcpy(v + 40 + 2 * dl + nl, im->custom_kind,
				       kl);
		} else if (it->len != 0) {
			memcpy(v, it->value, it->len);
		}
		pos += 4 + pad4(it->len);
	}
	cr_assert_eq(pos, out->region_end);

	/* H, then the signatures over it. */
	dlen = md_size(d.digest_alg);
	hash_bytes(h, d.digest_alg, buf, out->region_end, out->region_digest);
	pkgb_put16(buf + pos, (uint16_t)d.n_signers);
	pos += 4;
	for (i = 0; i < d.n_signers; i++) {
		const struct pkgb_signer *s = &d.signers[i];
		size_t want = pad4(expected_sig_len(s)), len = 0;
		uint8_t sig[1024];
		uint16_t alg = s->alg;
		uint32_t certs = 0;
		int tries;

		if (s->key != NULL) {
			if (alg == 0)
				alg = natural_alg(s->key);
			/* ECDSA's DER varies: sign until it pads the same. */
			for (tries = 0; tries < 200; tries++) {
				len = sign_digest(sig, s, alg,
						  out->region_digest, dlen);
				if (pad4(len) == want)
					break;
			}
			cr_assert_eq(pad4(len), want);
		} else {
			len = s->fake_len;
			memset(sig, 0x5a, len);
			if (alg == 0)
				alg = OTAPKG_SIG_ECDSA_P256;
		}
		if (s->corrupt)
			sig[len / 2] ^= 0x10;
		for (k = 0; k < s->n_certs; k++)
			certs += (uint32_t)(4 + pad4(s->cert_lens[k]));
		out->sig_entry[i] = pos;
		pkgb_put16(buf + pos, alg);
		pkgb_put16(buf + pos + 2, (uint16_t)len);
		pkgb_put32(buf + pos + 4, certs);
		if (s->key != NULL && !s->keyid_zero)
			pkgb_keyid(s->key, buf + pos + 8);
		else if (s->key == NULL)
			memset(buf + pos + 8, s->fake_keyid, 32);
		memcpy(buf + pos + OTAPKG_SIG_FIXED, sig, len);
		pos += OTAPKG_SIG_FIXED + pad4(len);
		out->sig_certs[i] = pos;
		for (k = 0; k < s->n_certs; k++) {
			pkgb_put32(buf + pos, (uint32_t)s->cert_lens[k]);
			memcpy(buf + pos + 4, s->certs[k], s->cert_lens[k]);
			pos += 4 + pad4(s->cert_lens[k]);
		}
	}
	cr_assert_eq(pos + d.sig_slack, out->sig_end);

	for (i = 0; i < d.n_images; i++)
		memcpy(buf + out->image_off[i], out->stored[i],
		       out->stored_len[i]);
	pkgb_crypto_free(&own);
}

void pkgb_free(struct pkgb_pkg *pkg)
{
	unsigned i;

	free(pkg->data);
	for (i = 0; i < PKGB_MAX; i++)
		free(pkg->stored[i]);
	memset(pkg, 0, sizeof(*pkg));
}
