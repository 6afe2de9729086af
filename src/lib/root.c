/*
 * Trust root records (otatool-root(5)): the reader, the writer and signer,
 * and TUF's rules for rotations, thresholds, rollbacks and expiry, judged
 * here once for every command.
 */
#include "otatool/root.h"
#include "json_priv.h"
#include "key_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"
#include "otatool/output.h"
#include "otatool/package.h"
#include "otatool/signer.h"
#include "otatool/timestamp.h"
#include "otatool/trust.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROOT_VERSION   1
#define ROOT_HEADER    32
#define ROOT_KEY_FIXED 44
#define ROOT_SIG_FIXED 36
#define ROOT_MAX_SIGNED                                                        \
	(ROOT_HEADER +                                                         \
	 OTA_ROOT_MAX_KEYS * (ROOT_KEY_FIXED + OTA_ROOT_MAX_PUBLIC) +          \
	 OTA_ROOT_MAX_REVOKED * 32)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

const char *ota_root_role_name(enum ota_root_role role)
{
	return role == OTA_ROOT_ROLE_ROOT      ? "root"
	       : role == OTA_ROOT_ROLE_RELEASE ? "release"
					       : NULL;
}

void ota_root_free(struct ota_root *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_keys; i++)
		ota_public_key_free(r->keys[i].pub);
	free(r->signed_part);
	free(r);
}

int ota_root_new(struct ota_root **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return ota_error(OTA_EINTERNAL, "out of memory");
	(*out)->version = 1;
	(*out)->root_threshold = 1;
	(*out)->release_threshold = 1;
	return 0;
}

/* Public keys as the format stores them ------------------------------- */

/*
 * The stored form of a key (otatool-root(5)): the uncompressed point for
 * ECDSA, the 32 raw bytes for Ed25519, the SubjectPublicKeyInfo DER for
 * RSA (a device takes the modulus from it).
 */
static int pub_encode(uint8_t *out, size_t *len, EVP_PKEY *pkey,
		      enum ota_sig_alg alg)
{
	size_t n = OTA_ROOT_MAX_PUBLIC;
	unsigned char *der = NULL;
	int dl;

	switch (alg) {
	case OTA_SIG_ECDSA_P256_SHA256:
	case OTA_SIG_ECDSA_P384_SHA384:
		if (EVP_PKEY_get_octet_string_param(
			pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, n, &n) !=
		    1)
			break;
		*len = n;
		return 0;
	case OTA_SIG_ED25519:
		if (EVP_PKEY_get_raw_public_key(pkey, out, &n) != 1)
			break;
		*len = n;
		return 0;
	default:
		dl = i2d_PUBKEY(pkey, &der);
		if (dl <= 0 || (size_t)dl > OTA_ROOT_MAX_PUBLIC) {
			OPENSSL_free(der);
			break;
		}
		memcpy(out, der, (size_t)dl);
		*len = (size_t)dl;
		OPENSSL_free(der);
		return 0;
	}
	ERR_clear_error();
	return ota_error(OTA_EINPUT, "cannot encode a %s public key",
			 ota_sig_alg_name(alg));
}

static int pub_decode(EVP_PKEY **out, const uint8_t *in, size_t len,
		      enum ota_sig_alg alg)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	const unsigned char *p = in;
	char group[16];

	*out = NULL;
	switch (alg) {
	case OTA_SIG_ECDSA_P256_SHA256:
	case OTA_SIG_ECDSA_P384_SHA384:
		if (len != (alg == OTA_SIG_ECDSA_P256_SHA256 ? 65u : 97u) ||
		    in[0] != 4)
			return -1;
		snprintf(group, sizeof(group), "%s",
			 alg == OTA_SIG_ECDSA_P256_SHA256 ? "P-256" : "P-384");
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, (void *)in, len);
		params[2] = OSSL_PARAM_construct_end();
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) !=
			1)
			*out = NULL;
		EVP_PKEY_CTX_free(ctx);
		/* a point off the curve is refused when it is checked */
		if (*out) {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(*out, NULL);

			if (!c || EVP_PKEY_public_check(c) != 1) {
				EVP_PKEY_free(*out);
				*out = NULL;
			}
			EVP_PKEY_CTX_free(c);
		}
		break;
	case OTA_SIG_ED25519:
		if (len == 32)
			*out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519",
							      NULL, in, len);
		break;
	default:
		*out = d2i_PUBKEY(NULL, &p, (long)len);
		if (*out && (p != in + len ||
			     EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA)) {
			EVP_PKEY_free(*out);
			*out = NULL;
		}
		break;
	}
	ERR_clear_error();
	return *out ? 0 : -1;
}

/* Reading ------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t len;
	const char *name;
};

static int bad(const struct rd *d, size_t off, const char *what)
{
	return ota_error(OTA_EINPUT, "%s: offset %zu: %s", d->name, off, what);
}

static int parse_key(struct ota_root *r, const struct rd *d, size_t *off,
		     size_t end)
{
	struct ota_root_key *k = &r->keys[r->n_keys];
	const uint8_t *e = d->p + *off;
	enum ota_sig_alg alg;
	EVP_PKEY *pkey = NULL;
	size_t n, o = *off;
	int rc;

	if (end - o < ROOT_KEY_FIXED)
		return bad(d, o, "key entry past the signed part");
	n = get16(e + 40);
	if (e[32] != OTA_ROOT_ROLE_ROOT && e[32] != OTA_ROOT_ROLE_RELEASE)
		return bad(d, o + 32,
			   "key role is not 1 (root) or 2 (release)");
	if (e[33] || get16(e + 42))
		return bad(d, o + 33, "reserved byte is not zero");
	if (ota_package_sig_alg(&alg, get16(e + 34)))
		return bad(d, o + 34, "unknown key algorithm");
	if (n == 0 || n > OTA_ROOT_MAX_PUBLIC ||
	    end - o - ROOT_KEY_FIXED < align4(n))
		return bad(d, o + 40, "public key length out of range");
	if (!all_zero(e + ROOT_KEY_FIXED + n, align4(n) - n))
		return bad(d, o + ROOT_KEY_FIXED + n, "padding is not zero");
	if (pub_decode(&pkey, e + ROOT_KEY_FIXED, n, alg))
		return bad(d, o + ROOT_KEY_FIXED,
			   "public key is not a valid key of its algorithm");
	rc = ota_sig_alg_check(alg, pkey);
	if (!rc)
		rc = ota_public_key_from_pkey(&k->pub, pkey);
	EVP_PKEY_free(pkey);
	if (rc) {
		ota_error_clear();
		return bad(d, o, "key does not fit its algorithm");
	}
	ota_hex_encode(k->id, e, 32);
	k->role = (enum ota_root_role)e[32];
	k->alg = alg;
	k->generation = get32(e + 36);
	r->n_keys++;
	if (strcmp(k->id, k->pub->id) != 0)
		return bad(d, o,
			   "key id is not the SHA-256 of the key's "
			   "SubjectPublicKeyInfo");
	if (r->n_keys > 1 && strcmp(r->keys[r->n_keys - 2].id, k->id) >= 0)
		return bad(d, o,
			   "key ids are not in increasing order (or a "
			   "key is listed twice)");
	*off = o + ROOT_KEY_FIXED + align4(n);
	return 0;
}

static unsigned count_role(const struct ota_root *r, enum ota_root_role role)
{
	unsigned n = 0;

	for (size_t i = 0; i < r->n_keys; i++)
		n += r->keys[i].role == role;
	return n;
}

static int parse_sigs(struct ota_root *r, const struct rd *d, size_t off)
{
	size_t n;

	if (d->len - off < 4)
		return bad(d, off, "no signature block");
	n = get16(d->p + off);
	if (n == 0 || n > OTA_ROOT_MAX_SIGS)
		return bad(d, off, "signature count is not 1..16");
	if (get16(d->p + off + 2))
		return bad(d, off + 2, "reserved field is not zero");
	off += 4;
	for (size_t i = 0; i < n; i++) {
		struct ota_root_sig *s = &r->sigs[i];
		const uint8_t *e = d->p + off;
		size_t len;

		if (d->len - off < ROOT_SIG_FIXED)
			return bad(d, off, "signature entry past the end");
		len = get16(e + 34);
		if (ota_package_sig_alg(&s->alg, get16(e + 32)))
			return bad(d, off + 32, "unknown signature algorithm");
		if (len == 0 || len > OTA_ROOT_MAX_SIG ||
		    d->len - off - ROOT_SIG_FIXED < align4(len))
			return bad(d, off + 34,
				   "signature length out of range");
		if (!all_zero(e + ROOT_SIG_FIXED + len, align4(len) - len))
			return bad(d, off + ROOT_SIG_FIXED + len,
				   "padding is not zero");
		ota_hex_encode(s->keyid, e, 32);
		memcpy(s->sig, e + ROOT_SIG_FIXED, len);
		s->len = len;
		r->n_sigs++;
		off += ROOT_SIG_FIXED + align4(len);
	}
	if (off != d->len)
		return bad(d, off, "bytes after the last signature");
	return 0;
}

static int parse(struct ota_root *r, const struct rd *d)
{
	const uint8_t *h = d->p;
	size_t signed_len, off = ROOT_HEADER;
	unsigned n_keys, n_revoked;
	int rc;

	if (d->len < ROOT_HEADER || memcmp(h, "OTAR", 4) != 0)
		return bad(d, 0, "not a root record (no \"OTAR\" magic)");
	if (get16(h + 4) != ROOT_VERSION)
		return bad(d, 4, "unknown format version");
	if (get16(h + 6) != ROOT_HEADER)
		return bad(d, 6, "header size is not 32");
	signed_len = get32(h + 8);
	if (signed_len < ROOT_HEADER || signed_len % 4 ||
	    signed_len > ROOT_MAX_SIGNED || signed_len > d->len)
		return bad(d, 8, "signed part size out of range");
	r->version = get32(h + 12);
	if (r->version == 0)
		return bad(d, 12, "record version is 0");
	r->expires = get64(h + 16);
	r->root_threshold = h[24];
	r->release_threshold = h[25];
	n_keys = h[26];
	n_revoked = h[27];
	if (get32(h + 28))
		return bad(d, 28, "reserved field is not zero");
	if (n_keys < 2 || n_keys > OTA_ROOT_MAX_KEYS)
		return bad(d, 26, "key count is not 2..16");
	if (n_revoked > OTA_ROOT_MAX_REVOKED)
		return bad(d, 27, "revoked count is over 32");
	for (unsigned i = 0; i < n_keys; i++)
		if ((rc = parse_key(r, d, &off, signed_len)))
			return rc;
	if (signed_len - off != 32u * n_revoked)
		return bad(d, off, "revoked ids do not fill the signed part");
	for (unsigned i = 0; i < n_revoked; i++, off += 32) {
		ota_hex_encode(r->revoked[i], d->p + off, 32);
		r->n_revoked++;
		if (i > 0 && strcmp(r->revoked[i - 1], r->revoked[i]) >= 0)
			return bad(d, off,
				   "revoked ids are not in increasing "
				   "order");
		for (size_t k = 0; k < r->n_keys; k++)
			if (strcmp(r->keys[k].id, r->revoked[i]) == 0)
				return bad(d, off, "a listed key is revoked");
	}
	if (r->root_threshold < 1 ||
	    r->root_threshold > count_role(r, OTA_ROOT_ROLE_ROOT))
		return bad(d, 24,
			   "root threshold is not 1..number of root "
			   "keys");
	if (r->release_threshold < 1 ||
	    r->release_threshold > count_role(r, OTA_ROOT_ROLE_RELEASE))
		return bad(d, 25,
			   "release threshold is not 1..number of "
			   "release keys");
	if ((rc = parse_sigs(r, d, signed_len)))
		return rc;
	if (!(r->signed_part = malloc(signed_len)))
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(r->signed_part, d->p, signed_len);
	r->signed_len = signed_len;
	return 0;
}

int ota_root_parse(struct ota_root **out, const uint8_t *data, size_t len,
		   const char *name)
{
	struct rd d = { data, len, name };
	struct ota_root *r;
	int rc;

	*out = NULL;
	if (len > OTA_ROOT_MAX_SIZE)
		return bad(&d, 0, "larger than a root record can be (32 KiB)");
	if (!(r = calloc(1, sizeof(*r))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	if ((rc = parse(r, &d))) {
		ota_root_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int ota_root_load(struct ota_root **out, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = ota_file_read_small(&data, &len, path, OTA_ROOT_MAX_SIZE)))
		return rc;
	rc = ota_root_parse(out, (const uint8_t *)data, len, path);
	free(data);
	return rc;
}

/* Building ------------------------------------------------------------ */

void ota_root_unsign(struct ota_root *r)
{
	free(r->signed_part);
	r->signed_part = NULL;
	r->signed_len = 0;
	r->n_sigs = 0;
}

static int copy_key(struct ota_root_key *dst, const struct ota_root_key *src)
{
	*dst = *src;
	return ota_public_key_from_pkey(&dst->pub, src->pub->pkey);
}

int ota_root_next(struct ota_root **out, const struct ota_root *prev)
{
	struct ota_root *r;
	int rc = 0;

	*out = NULL;
	if (prev->version == UINT32_MAX)
		return ota_error(OTA_EINPUT, "record version %u is the last",
				 prev->version);
	if (!(r = calloc(1, sizeof(*r))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	r->version = prev->version + 1;
	r->expires = prev->expires;
	r->root_threshold = prev->root_threshold;
	r->release_threshold = prev->release_threshold;
	for (size_t i = 0; rc == 0 && i < prev->n_keys; i++)
		if (!(rc = copy_key(&r->keys[i], &prev->keys[i])))
			r->n_keys++;
	memcpy(r->revoked, prev->revoked, sizeof(r->revoked));
	r->n_revoked = prev->n_revoked;
	if (rc) {
		ota_root_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int find_key(const struct ota_root *r, const char *id)
{
	for (size_t i = 0; i < r->n_keys; i++)
		if (strcmp(r->keys[i].id, id) == 0)
			return (int)i;
	return -1;
}

static bool is_revoked(const struct ota_root *r, const char *id)
{
	for (size_t i = 0; i < r->n_revoked; i++)
		if (strcmp(r->revoked[i], id) == 0)
			return true;
	return false;
}

int ota_root_add_key(struct ota_root *r, const struct ota_public_key *k,
		     enum ota_root_role role, uint32_t generation,
		     bool rsa_pkcs1)
{
	struct ota_root_key nk = { 0 };
	size_t at;
	int rc;

	if (find_key(r, k->id) >= 0)
		return ota_error(OTA_EUSAGE, "key %.16s... is listed twice",
				 k->id);
	if (is_revoked(r, k->id))
		return ota_error(OTA_EUSAGE,
				 "key %.16s... is revoked: it cannot come "
				 "back",
				 k->id);
	if (r->n_keys == OTA_ROOT_MAX_KEYS)
		return ota_error(OTA_EUSAGE, "more than %d keys",
				 OTA_ROOT_MAX_KEYS);
	if ((rc = ota_sig_alg_for_key(&nk.alg, k->pkey, rsa_pkcs1)))
		return rc;
	{
		uint8_t buf[OTA_ROOT_MAX_PUBLIC];
		size_t n;

		if ((rc = pub_encode(buf, &n, k->pkey, nk.alg)))
			return rc;
	}
	if ((rc = ota_public_key_from_pkey(&nk.pub, k->pkey)))
		return rc;
	snprintf(nk.id, sizeof(nk.id), "%s", k->id);
	nk.role = role;
	nk.generation = generation;
	/* kept sorted by id: the format's order */
	for (at = r->n_keys; at > 0 && strcmp(r->keys[at - 1].id, nk.id) > 0;
	     at--)
		r->keys[at] = r->keys[at - 1];
	r->keys[at] = nk;
	r->n_keys++;
	ota_root_unsign(r);
	return 0;
}

int ota_root_remove_key(struct ota_root *r, const char *id)
{
	int i = find_key(r, id);

	if (i < 0)
		return ota_error(OTA_EUSAGE, "record version %u has no key %s",
				 r->version, id);
	ota_public_key_free(r->keys[i].pub);
	memmove(&r->keys[i], &r->keys[i + 1],
		(r->n_keys - (size_t)i - 1) * sizeof(r->keys[0]));
	r->n_keys--;
	ota_root_unsign(r);
	return 0;
}

int ota_root_revoke(struct ota_root *r, const char *given)
{
	char id[OTA_KEY_ID_LEN + 1];
	uint8_t raw[32];
	size_t at;

	if (ota_hex_decode(raw, given, 32))
		return ota_error(OTA_EUSAGE,
				 "'%s' is not a key id (64 hex digits)", given);
	ota_hex_encode(id, raw, 32);
	if (is_revoked(r, id))
		return ota_error(OTA_EUSAGE, "key %.16s... is already revoked",
				 id);
	if (r->n_revoked == OTA_ROOT_MAX_REVOKED)
		return ota_error(OTA_EUSAGE, "more than %d revoked keys",
				 OTA_ROOT_MAX_REVOKED);
	if (find_key(r, id) >= 0)
		ota_root_remove_key(r, id);
	for (at = r->n_revoked; at > 0 && strcmp(r->revoked[at - 1], id) > 0;
	     at--)
		memcpy(r->revoked[at], r->revoked[at - 1], OTA_KEY_ID_LEN + 1);
	snprintf(r->revoked[at], OTA_KEY_ID_LEN + 1, "%s", id);
	r->n_revoked++;
	ota_root_unsign(r);
	return 0;
}

int ota_root_key_id_arg(char id[OTA_KEY_ID_LEN + 1], const char *arg)
{
	struct ota_public_key *k = NULL;
	uint8_t raw[32];
	int rc;

	if (ota_hex_decode(raw, arg, 32) == 0) {
		ota_hex_encode(id, raw, 32);
		return 0;
	}
	if ((rc = ota_public_key_load(&k, arg)))
		return ota_error_wrap(rc, "not a key id (64 hex digits) nor a "
					  "key file");
	snprintf(id, OTA_KEY_ID_LEN + 1, "%s", k->id);
	ota_public_key_free(k);
	return 0;
}

int ota_root_apply(struct ota_root *r, const struct ota_root_change *c,
		   bool first)
{
	char id[OTA_KEY_ID_LEN + 1];
	uint32_t gen = c->generation;
	int rc;

	if (gen == 0)
		gen = first ? 1 : ota_root_max_generation(r) + 1;
	if (!first && gen == 0)
		return ota_error(OTA_EUSAGE, "key generations are exhausted");
	for (size_t i = 0; i < c->n_remove; i++)
		if ((rc = ota_root_key_id_arg(id, c->remove[i])) ||
		    (rc = ota_root_remove_key(r, id)))
			return ota_error_wrap(rc, "--remove-key %s",
					      c->remove[i]);
	for (size_t i = 0; i < c->n_revoke; i++)
		if ((rc = ota_root_key_id_arg(id, c->revoke[i])) ||
		    (rc = ota_root_revoke(r, id)))
			return ota_error_wrap(rc, "--revoke-key %s",
					      c->revoke[i]);
	for (size_t i = 0; i < c->n_root_keys; i++)
		if ((rc = ota_root_add_key(r, c->root_keys[i],
					   OTA_ROOT_ROLE_ROOT, gen,
					   c->rsa_pkcs1)))
			return ota_error_wrap(rc, "--root-key");
	for (size_t i = 0; i < c->n_release_keys; i++)
		if ((rc = ota_root_add_key(r, c->release_keys[i],
					   OTA_ROOT_ROLE_RELEASE, gen,
					   c->rsa_pkcs1)))
			return ota_error_wrap(rc, "--release-key");
	if (c->root_threshold)
		r->root_threshold = c->root_threshold;
	if (c->release_threshold)
		r->release_threshold = c->release_threshold;
	if (c->set_expires)
		r->expires = c->expires;
	ota_root_unsign(r);
	return ota_root_check_shape(r);
}

uint32_t ota_root_max_generation(const struct ota_root *r)
{
	uint32_t g = 0;

	for (size_t i = 0; i < r->n_keys; i++)
		if (r->keys[i].generation > g)
			g = r->keys[i].generation;
	return g;
}

int ota_root_check_shape(const struct ota_root *r)
{
	unsigned nr = count_role(r, OTA_ROOT_ROLE_ROOT);
	unsigned nl = count_role(r, OTA_ROOT_ROLE_RELEASE);

	if (nr == 0 || nl == 0)
		return ota_error(OTA_EUSAGE,
				 "a root record needs at least one root key "
				 "and one release key (it has %u and %u)",
				 nr, nl);
	if (r->root_threshold < 1 || r->root_threshold > nr)
		return ota_error(OTA_EUSAGE,
				 "root threshold %u: must be 1..%u (the root "
				 "keys)",
				 r->root_threshold, nr);
	if (r->release_threshold < 1 || r->release_threshold > nl)
		return ota_error(OTA_EUSAGE,
				 "release threshold %u: must be 1..%u (the "
				 "release keys)",
				 r->release_threshold, nl);
	if (r->root_threshold > 255 || r->release_threshold > 255)
		return ota_error(OTA_EUSAGE, "thresholds fit in a byte");
	return 0;
}

static int encode_signed(struct ota_root *r)
{
	uint8_t *b = calloc(1, ROOT_MAX_SIGNED);
	size_t off = ROOT_HEADER;
	uint8_t raw[32];
	int rc;

	if (!b)
		return ota_error(OTA_EINTERNAL, "out of memory");
	if ((rc = ota_root_check_shape(r)))
		goto fail;
	memcpy(b, "OTAR", 4);
	put16(b + 4, ROOT_VERSION);
	put16(b + 6, ROOT_HEADER);
	put32(b + 12, r->version);
	put64(b + 16, r->expires);
	b[24] = (uint8_t)r->root_threshold;
	b[25] = (uint8_t)r->release_threshold;
	b[26] = (uint8_t)r->n_keys;
	b[27] = (uint8_t)r->n_revoked;
	for (size_t i = 0; i < r->n_keys; i++) {
		const struct ota_root_key *k = &r->keys[i];
		size_t n;

		ota_hex_decode(b + off, k->id, 32);
		b[off + 32] = (uint8_t)k->role;
		put16(b + off + 34, ota_package_sig_code(k->alg));
		put32(b + off + 36, k->generation);
		if ((rc = pub_encode(b + off + ROOT_KEY_FIXED, &n, k->pub->pkey,
				     k->alg)))
			goto fail;
		put16(b + off + 40, (uint16_t)n);
		off += ROOT_KEY_FIXED + align4(n);
	}
	for (size_t i = 0; i < r->n_revoked; i++, off += 32) {
		ota_hex_decode(raw, r->revoked[i], 32);
		memcpy(b + off, raw, 32);
	}
	put32(b + 8, (uint32_t)off);
	free(r->signed_part);
	r->signed_part = b;
	r->signed_len = off;
	return 0;
fail:
	free(b);
	return rc;
}

static int signed_digest(struct ota_digest *d, const struct ota_root *r)
{
	return ota_digest_buffer(d, OTA_DIGEST_SHA256, r->signed_part,
				 r->signed_len);
}

int ota_root_sign(struct ota_root *r, const struct ota_signers *signers)
{
	struct ota_digest d;
	int rc;

	if (!r->signed_part && (rc = encode_signed(r)))
		return rc;
	if ((rc = signed_digest(&d, r)))
		return rc;
	for (size_t i = 0; i < ota_signers_count(signers); i++) {
		struct ota_key *k = ota_signers_key(signers, i);
		struct ota_root_sig *s = NULL;
		uint8_t *sig = NULL;
		size_t len = 0;

		for (size_t j = 0; j < r->n_sigs && !s; j++)
			if (strcmp(r->sigs[j].keyid, ota_key_id(k)) == 0)
				s = &r->sigs[j];
		if (!s && r->n_sigs == OTA_ROOT_MAX_SIGS)
			return ota_error(OTA_EUSAGE, "more than %d signatures",
					 OTA_ROOT_MAX_SIGS);
		if ((rc = ota_key_sign_digest(&sig, &len, k, &d)))
			return rc;
		if (len > OTA_ROOT_MAX_SIG) {
			free(sig);
			return ota_error(OTA_EKEY,
					 "%s: a %zu-byte signature is more "
					 "than a root record holds",
					 ota_key_ref(k), len);
		}
		if (!s)
			s = &r->sigs[r->n_sigs++];
		snprintf(s->keyid, sizeof(s->keyid), "%s", ota_key_id(k));
		s->alg = ota_key_alg(k);
		s->len = len;
		memcpy(s->sig, sig, len);
		free(sig);
	}
	return 0;
}

int ota_root_encode(uint8_t **out, size_t *len, const struct ota_root *r)
{
	size_t n = r->signed_len + 4;
	uint8_t *b, *p;

	*out = NULL;
	if (!r->signed_part || r->n_sigs == 0)
		return ota_error(OTA_EUSAGE, "the root record is not signed");
	for (size_t i = 0; i < r->n_sigs; i++)
		n += ROOT_SIG_FIXED + align4(r->sigs[i].len);
	if (!(b = calloc(1, n)))
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(b, r->signed_part, r->signed_len);
	p = b + r->signed_len;
	put16(p, (uint16_t)r->n_sigs);
	p += 4;
	for (size_t i = 0; i < r->n_sigs; i++) {
		const struct ota_root_sig *s = &r->sigs[i];

		ota_hex_decode(p, s->keyid, 32);
		put16(p + 32, ota_package_sig_code(s->alg));
		put16(p + 34, (uint16_t)s->len);
		memcpy(p + ROOT_SIG_FIXED, s->sig, s->len);
		p += ROOT_SIG_FIXED + align4(s->len);
	}
	*out = b;
	*len = n;
	return 0;
}

int ota_root_write(const char *path, const struct ota_root *r)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int rc;

	if ((rc = ota_root_encode(&b, &n, r)))
		return rc;
	rc = ota_output_write_file(path, b, n, 0644, 0);
	free(b);
	return rc;
}

/* Judging ------------------------------------------------------------- */

unsigned ota_root_count_signers(const struct ota_root *keys,
				enum ota_root_role role,
				const struct ota_root *rec)
{
	bool counted[OTA_ROOT_MAX_KEYS] = { false };
	struct ota_digest d;
	unsigned n = 0;

	if (!rec->signed_part || signed_digest(&d, rec))
		return 0;
	for (size_t i = 0; i < rec->n_sigs; i++) {
		const struct ota_root_sig *s = &rec->sigs[i];
		int k = find_key(keys, s->keyid);

		if (k < 0 || counted[k] || keys->keys[k].role != role ||
		    is_revoked(keys, s->keyid) || s->alg != keys->keys[k].alg)
			continue;
		if (ota_signature_verify_digest(keys->keys[k].pub->pkey, s->alg,
						&d, s->sig, s->len) == 0) {
			counted[k] = true;
			n++;
		}
	}
	ota_error_clear();
	return n;
}

int ota_root_check_self(const struct ota_root *r, const char *name)
{
	unsigned n = ota_root_count_signers(r, OTA_ROOT_ROLE_ROOT, r);

	if (n < r->root_threshold)
		return ota_error(OTA_EVERIFY,
				 "%s: root record version %u is signed by %u "
				 "of its own root keys; its threshold is %u",
				 name, r->version, n, r->root_threshold);
	return 0;
}

int ota_root_check_next(const struct ota_root *prev,
			const struct ota_root *next, const char *name)
{
	unsigned old, own;

	if (next->version <= prev->version)
		return ota_error(OTA_EDOWNGRADE,
				 "%s: root record version %u is not newer "
				 "than the trusted version %u (rollback "
				 "refused)",
				 name, next->version, prev->version);
	if (next->version != prev->version + 1)
		return ota_error(OTA_EVERIFY,
				 "%s: root record version %u skips version%s "
				 "%u%s%u: each rotation must be walked in "
				 "turn",
				 name, next->version,
				 next->version - prev->version > 2 ? "s" : "",
				 prev->version + 1,
				 next->version - prev->version > 2 ? ".." : "",
				 next->version - 1);
	/* a revocation is for ever: dropping one would let the key back */
	for (size_t i = 0; i < prev->n_revoked; i++)
		if (!is_revoked(next, prev->revoked[i]))
			return ota_error(OTA_EVERIFY,
					 "%s: root record version %u no longer "
					 "revokes key %.16s..., which version "
					 "%u revoked",
					 name, next->version, prev->revoked[i],
					 prev->version);
	old = ota_root_count_signers(prev, OTA_ROOT_ROLE_ROOT, next);
	own = ota_root_count_signers(next, OTA_ROOT_ROLE_ROOT, next);
	if (old < prev->root_threshold)
		return ota_error(OTA_EVERIFY,
				 "%s: root record version %u is signed by %u "
				 "root key%s of version %u, which requires %u",
				 name, next->version, old, old == 1 ? "" : "s",
				 prev->version, prev->root_threshold);
	if (own < next->root_threshold)
		return ota_error(OTA_EVERIFY,
				 "%s: root record version %u is signed by %u "
				 "of its own root keys, and requires %u",
				 name, next->version, own,
				 next->root_threshold);
	return 0;
}

int ota_root_check_expiry(const struct ota_root *r, int64_t at,
			  const char *name)
{
	char t[OTA_TIMESTAMP_TEXT_LEN];

	if (r->expires == 0 || at < 0 || (uint64_t)at < r->expires)
		return 0;
	ota_timestamp_describe(t, r->expires);
	return ota_error(OTA_EVERIFY,
			 "%s: root record version %u expired at %s", name,
			 r->version, t);
}

static void step(struct ota_root_step *s, uint32_t version,
		 enum ota_root_step_result res, const char *msg)
{
	s->version = version;
	s->result = res;
	snprintf(s->message, sizeof(s->message), "%s", msg);
}

int ota_root_walk(const struct ota_root **current,
		  const struct ota_root *const *cand, size_t n,
		  struct ota_root_step *steps, int64_t at)
{
	bool taken[64] = { false };
	char msg[400];
	int rc = 0;

	if (n > 64)
		return ota_error(OTA_EUSAGE, "more than 64 root records");
	for (size_t s = 0; s < n; s++) {
		size_t best = n;

		/* the lowest version not yet taken */
		for (size_t i = 0; i < n; i++)
			if (!taken[i] && (best == n || cand[i]->version <
							   cand[best]->version))
				best = i;
		taken[best] = true;
		const struct ota_root *c = cand[best];
		const struct ota_root *cur = *current;

		if (c->version < cur->version) {
			snprintf(msg, sizeof(msg),
				 "version %u: older than version %u in force: "
				 "ignored",
				 c->version, cur->version);
			step(&steps[s], c->version, OTA_ROOT_STEP_KNOWN, msg);
			continue;
		}
		if (c->version == cur->version) {
			bool same = c->signed_len == cur->signed_len &&
				    memcmp(c->signed_part, cur->signed_part,
					   c->signed_len) == 0;

			if (same) {
				snprintf(msg, sizeof(msg),
					 "version %u: the version in force",
					 c->version);
				step(&steps[s], c->version, OTA_ROOT_STEP_KNOWN,
				     msg);
				continue;
			}
			rc = ota_error(OTA_EVERIFY,
				       "root record version %u differs from "
				       "the trusted record of the same "
				       "version: two histories are signed",
				       c->version);
		} else {
			rc = ota_root_check_next(cur, c, "root record");
		}
		if (rc) {
			step(&steps[s], c->version, OTA_ROOT_STEP_REFUSED,
			     ota_error_message());
			for (size_t k = s + 1; k < n; k++)
				step(&steps[k], 0, OTA_ROOT_STEP_REFUSED,
				     "not reached");
			return rc;
		}
		snprintf(msg, sizeof(msg),
			 "version %u: signed by %u of version %u's root keys "
			 "(threshold %u) and %u of its own (threshold %u)",
			 c->version,
			 ota_root_count_signers(cur, OTA_ROOT_ROLE_ROOT, c),
			 cur->version, cur->root_threshold,
			 ota_root_count_signers(c, OTA_ROOT_ROLE_ROOT, c),
			 c->root_threshold);
		step(&steps[s], c->version, OTA_ROOT_STEP_APPLIED, msg);
		*current = c;
	}
	return ota_root_check_expiry(*current, at, "root record");
}

int ota_root_from_package(struct ota_root **out, size_t *n, size_t cap,
			  const char *package)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report *r = calloc(1, sizeof(*r));
	char name[128];
	int rc;

	*n = 0;
	if (!r)
		return ota_error(OTA_EINTERNAL, "out of memory");
	if ((rc = ota_package_check(r, package, &o)))
		goto out;
	for (size_t i = 0; i < r->region.n; i++) {
		const struct ota_region_entry *e = &r->region.entries[i];

		if (e->type != OTA_REGION_ROOT_RECORD)
			continue;
		if (*n == cap) {
			rc = ota_error(OTA_EVERIFY,
				       "%s: more than %zu root records",
				       package, cap);
			goto out;
		}
		snprintf(name, sizeof(name), "ROOT_RECORD at offset %llu",
			 (unsigned long long)e->offset);
		if ((rc = ota_root_parse(&out[*n], e->data, e->len, name))) {
			rc = ota_error_wrap(OTA_EVERIFY, "%s", package);
			goto out;
		}
		(*n)++;
	}
out:
	if (rc) {
		for (size_t i = 0; i < *n; i++)
			ota_root_free(out[i]);
		*n = 0;
	}
	ota_package_report_clear(r);
	free(r);
	return rc;
}

int ota_root_add_to_package(const char *package, const char *const *records,
			    size_t n)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report *r = calloc(1, sizeof(*r));
	struct ota_package_region reg = { 0 };
	struct ota_root *recs[OTA_ROOT_MAX_WALK * 2] = { NULL };
	uint8_t *raw[OTA_ROOT_MAX_WALK * 2] = { NULL };
	size_t lens[OTA_ROOT_MAX_WALK * 2], m = 0;
	int rc;

	if (!r)
		return ota_error(OTA_EINTERNAL, "out of memory");
	if (n > OTA_ROOT_MAX_WALK) {
		rc = ota_error(OTA_EUSAGE, "more than %d root records",
			       OTA_ROOT_MAX_WALK);
		goto out;
	}
	if ((rc = ota_package_check(r, package, &o)))
		goto out;
	/* what the region had: other entries as they were, records aside */
	for (size_t i = 0; rc == 0 && i < r->region.n; i++) {
		const struct ota_region_entry *e = &r->region.entries[i];

		if (e->type != OTA_REGION_ROOT_RECORD) {
			rc = ota_package_region_set(&reg, e->type, e->sig_index,
						    e->cert_index, e->data,
						    e->len);
			continue;
		}
		if (m == OTA_ROOT_MAX_WALK) {
			rc = ota_error(OTA_EUSAGE,
				       "%s: more than %d root records", package,
				       OTA_ROOT_MAX_WALK);
			break;
		}
		if ((rc = ota_root_parse(&recs[m], e->data, e->len, package)))
			break;
		if (!(raw[m] = malloc(e->len))) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			break;
		}
		memcpy(raw[m], e->data, e->len);
		lens[m++] = e->len;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *data = NULL;

		if ((rc = ota_file_read_small(&data, &lens[m], records[i],
					      OTA_ROOT_MAX_SIZE)))
			break;
		raw[m] = (uint8_t *)data;
		if ((rc =
			 ota_root_parse(&recs[m], raw[m], lens[m], records[i])))
			break;
		m++;
	}
	if (rc)
		goto out;
	/* in increasing version, each version once */
	for (size_t i = 1; i < m; i++)
		for (size_t j = i;
		     j > 0 && recs[j - 1]->version > recs[j]->version; j--) {
			struct ota_root *tr = recs[j];
			uint8_t *tb = raw[j];
			size_t tl = lens[j];

			recs[j] = recs[j - 1];
			raw[j] = raw[j - 1];
			lens[j] = lens[j - 1];
			recs[j - 1] = tr;
			raw[j - 1] = tb;
			lens[j - 1] = tl;
		}
	for (size_t i = 0; rc == 0 && i < m; i++) {
		if (i > 0 && recs[i]->version == recs[i - 1]->version) {
			if (lens[i] == lens[i - 1] &&
			    memcmp(raw[i], raw[i - 1], lens[i]) == 0)
				continue;
			rc = ota_error(OTA_EUSAGE,
				       "two different root records of version "
				       "%u",
				       recs[i]->version);
			break;
		}
		rc = ota_package_region_set(&reg, OTA_REGION_ROOT_RECORD, 0, 0,
					    raw[i], lens[i]);
	}
	if (!rc)
		rc = ota_package_region_write(package, package, r->total_size,
					      &reg);
out:
	for (size_t i = 0; i < OTA_ROOT_MAX_WALK * 2; i++) {
		ota_root_free(recs[i]);
		free(raw[i]);
	}
	ota_package_region_free(&reg);
	ota_package_report_clear(r);
	free(r);
	return rc;
}

int ota_root_establish(struct ota_trust *t, struct ota_root_chain_report *rep,
		       const char *const *paths, size_t n, const char *package)
{
	struct ota_root *recs[2 * OTA_ROOT_MAX_WALK + 1] = { NULL };
	size_t carried = 0;
	const struct ota_root *current;
	int64_t at = t->has_at ? t->at : (int64_t)time(NULL);
	char t_text[OTA_TIMESTAMP_TEXT_LEN];
	size_t loaded = 0;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (n == 0 || n > OTA_ROOT_MAX_WALK + 1)
		return ota_error(OTA_EUSAGE, "give 1..%d root records",
				 OTA_ROOT_MAX_WALK + 1);
	for (; loaded < n; loaded++) {
		char *data = NULL;
		size_t len = 0;
		bool is_record = false;

		if ((rc = ota_file_read_small(&data, &len, paths[loaded],
					      OTA_ROOT_MAX_SIZE)) == 0) {
			is_record = len >= 4 && memcmp(data, "OTAR", 4) == 0;
			rc =
			    ota_root_parse(&recs[loaded], (const uint8_t *)data,
					   len, paths[loaded]);
		}
		free(data);
		/*
		 * A record to walk that does not parse is refused as one that
		 * breaks a rule (what a package brought, not the device's
		 * own); a file without the magic is no record at all.
		 */
		if (rc == OTA_EINPUT && loaded > 0 && is_record)
			rc = ota_error_wrap(OTA_EVERIFY, "root record refused");
		if (rc) {
			if (loaded == 0)
				snprintf(rep->trusted_message,
					 sizeof(rep->trusted_message), "%s",
					 ota_error_message());
			goto out;
		}
	}
	if (package && (rc = ota_root_from_package(recs + n, &carried,
						   OTA_ROOT_MAX_WALK, package)))
		goto out;
	loaded += carried;
	rep->has_trusted = true;
	rep->trusted_version = recs[0]->version;
	if ((rc = ota_root_check_self(recs[0], paths[0]))) {
		snprintf(rep->trusted_message, sizeof(rep->trusted_message),
			 "%s", ota_error_message());
		goto out;
	}
	rep->trusted_ok = true;
	snprintf(rep->trusted_message, sizeof(rep->trusted_message),
		 "version %u, trusted as given: signed by %u of its root keys "
		 "(threshold %u)",
		 recs[0]->version,
		 ota_root_count_signers(recs[0], OTA_ROOT_ROLE_ROOT, recs[0]),
		 recs[0]->root_threshold);
	current = recs[0];
	if (loaded - 1 > OTA_ROOT_MAX_WALK) {
		rc = ota_error(OTA_EUSAGE, "more than %d root records to walk",
			       OTA_ROOT_MAX_WALK);
		goto out;
	}
	rep->n_steps = loaded - 1;
	rc = ota_root_walk(&current, (const struct ota_root *const *)recs + 1,
			   loaded - 1, rep->steps, -1);
	rep->version = current->version;
	if (rc)
		goto out;
	rep->expiry_checked = true;
	rc = ota_root_check_expiry(current, at, "root record");
	if (rc)
		snprintf(rep->expiry_message, sizeof(rep->expiry_message), "%s",
			 ota_error_message());
	else if (current->expires &&
		 ota_timestamp_describe(t_text, current->expires))
		snprintf(rep->expiry_message, sizeof(rep->expiry_message),
			 "version %u expires at %s", current->version, t_text);
	else
		snprintf(rep->expiry_message, sizeof(rep->expiry_message),
			 "version %u does not expire", current->version);
	if (!rc)
		rc = ota_root_trust(t, current);
out:
	for (size_t i = 0; i < loaded; i++)
		ota_root_free(recs[i]);
	return rc;
}

int ota_root_trust(struct ota_trust *t, const struct ota_root *r)
{
	char name[128];
	int rc;

	for (size_t i = 0; i < r->n_revoked; i++)
		if ((rc = ota_trust_add_revoked(t, r->revoked[i])))
			return rc;
	for (size_t i = 0; i < r->n_keys; i++) {
		const struct ota_root_key *k = &r->keys[i];

		if (k->role != OTA_ROOT_ROLE_RELEASE)
			continue;
		snprintf(name, sizeof(name),
			 "%.16s... (release key of root record v%u, "
			 "generation %u)",
			 k->id, r->version, k->generation);
		if ((rc = ota_trust_add_public_key(t, k->pub, name)))
			return rc;
	}
	t->threshold = r->release_threshold;
	return 0;
}

int ota_root_to_json(char **out, size_t *len, const struct ota_root *r)
{
	json_t *o = json_object(), *keys = json_array(), *rev = json_array();
	json_t *sigs = json_array();
	char t[OTA_TIMESTAMP_TEXT_LEN];

	for (size_t i = 0; i < r->n_keys; i++)
		json_array_append_new(
		    keys,
		    json_pack("{s:s, s:s, s:I, s:s}", "id", r->keys[i].id,
			      "role", ota_root_role_name(r->keys[i].role),
			      "generation", (json_int_t)r->keys[i].generation,
			      "algorithm", ota_sig_alg_name(r->keys[i].alg)));
	for (size_t i = 0; i < r->n_revoked; i++)
		json_array_append_new(rev, json_string(r->revoked[i]));
	for (size_t i = 0; i < r->n_sigs; i++)
		json_array_append_new(
		    sigs,
		    json_pack("{s:s, s:s}", "keyid", r->sigs[i].keyid,
			      "algorithm", ota_sig_alg_name(r->sigs[i].alg)));
	json_object_set_new(o, "format", json_string("otatool-root"));
	json_object_set_new(o, "version", json_integer(r->version));
	json_object_set_new(o, "expires",
			    r->expires && ota_timestamp_describe(t, r->expires)
				? json_string(t)
				: json_null());
	json_object_set_new(o, "root_threshold",
			    json_integer(r->root_threshold));
	json_object_set_new(o, "release_threshold",
			    json_integer(r->release_threshold));
	json_object_set_new(o, "keys", keys);
	json_object_set_new(o, "revoked", rev);
	json_object_set_new(o, "signatures", sigs);
	json_object_set_new(
	    o, "self_signed_threshold_met",
	    json_boolean(ota_root_count_signers(r, OTA_ROOT_ROLE_ROOT, r) >=
			 r->root_threshold));
	return ota_json_text(out, len, o);
}
