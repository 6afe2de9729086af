/*
 * Keys in tokens: finding the one private key a URI names, building its
 * public half, and signing with it (mechanisms, ECDSA r||s to DER, and a
 * check of every signature against the public half).
 */
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* The largest signature otatool asks for: RSA-4096. */
#define SIG_MAX 512

/* ---- Public keys ------------------------------------------------------- */

/*
 * Names the curve of a CKA_EC_PARAMS value (a DER OID, or for Edwards
 * curves possibly a PrintableString). *c is CURVE_NONE when otatool does
 * not support it; name describes it either way.
 */
void pkcs11_curve_of(enum curve *c, char *name, size_t size,
		     const unsigned char *der, size_t len)
{
	const unsigned char *q = der;
	ASN1_OBJECT *obj;
	int nid;

	*c = CURVE_NONE;
	snprintf(name, size, "unknown curve parameters");
	if (len >= 2 && der[0] == 0x13 && der[1] == len - 2) {
		/* PKCS#11 3.0 lets Edwards curves be named by string. */
		snprintf(name, size, "%.*s", (int)(len - 2),
			 (const char *)der + 2);
		if (strcmp(name, "edwards25519") == 0) {
			*c = CURVE_ED25519;
			snprintf(name, size, "Ed25519");
		}
		return;
	}
	if (len < 2 || der[0] != 0x06 || len > LONG_MAX)
		return;
	obj = d2i_ASN1_OBJECT(NULL, &q, (long)len);
	if (obj == NULL || q != der + len) {
		ASN1_OBJECT_free(obj);
		return;
	}
	nid = OBJ_obj2nid(obj);
	switch (nid) {
	case NID_X9_62_prime256v1:
		*c = CURVE_P256;
		snprintf(name, size, "P-256");
		break;
	case NID_secp384r1:
		*c = CURVE_P384;
		snprintf(name, size, "P-384");
		break;
	case NID_secp521r1:
		snprintf(name, size, "P-521");
		break;
	case NID_ED25519:
		*c = CURVE_ED25519;
		snprintf(name, size, "Ed25519");
		break;
	case NID_ED448:
		snprintf(name, size, "Ed448");
		break;
	default:
		OBJ_obj2txt(name, (int)size, obj, 1);
		if (nid != NID_undef)
			snprintf(name + strlen(name), size - strlen(name),
				 " (%s)", OBJ_nid2sn(nid));
		break;
	}
	ASN1_OBJECT_free(obj);
}

static size_t curve_point_len(enum curve c)
{
	switch (c) {
	case CURVE_P256:
		return 65;
	case CURVE_P384:
		return 97;
	case CURVE_ED25519:
		return 32;
	default:
		return 0;
	}
}

/*
 * CKA_EC_POINT is a DER OCTET STRING around the point; some tokens give
 * the raw point. The lengths never collide (65/97/32 raw, +2 wrapped).
 */
static bool unwrap_point(const unsigned char **pt, const unsigned char *v,
			 size_t len, size_t want)
{
	if (len == want && (want == 32 || v[0] == 0x04)) {
		*pt = v;
		return true;
	}
	if (len == want + 2 && v[0] == 0x04 && v[1] == want) {
		*pt = v + 2;
		return true;
	}
	return false;
}

static EVP_PKEY *pkey_fromdata(const char *alg, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *pk = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static EVP_PKEY *ec_pkey(enum curve c, const unsigned char *pt, size_t len)
{
	static char p256[] = "prime256v1", p384[] = "secp384r1";
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, c == CURVE_P256 ? p256 : p384, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)pt, len);
	params[2] = OSSL_PARAM_construct_end();
	return pkey_fromdata("EC", params);
}

static EVP_PKEY *rsa_pkey(const unsigned char *n, size_t nlen,
			  const unsigned char *e, size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *be = BN_bin2bn(e, (int)elen, NULL);
	EVP_PKEY *pk = NULL;

	if (bld == NULL || bn == NULL || be == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (params != NULL)
		pk = pkey_fromdata("RSA", params);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* Builds the EVP_PKEY of a public-key object from its attributes. */
static int pub_from_object(EVP_PKEY **out, struct session *s,
			   CK_OBJECT_HANDLE o, enum ota_pkcs11_key_type type,
			   enum curve c, const char *uri)
{
	unsigned char *a = NULL, *b = NULL;
	const unsigned char *pt;
	size_t alen, blen;
	CK_RV rv;
	int rc = 0;

	*out = NULL;
	if (type == OTA_PKCS11_KEY_RSA) {
		rv = pkcs11_get_attr(&a, &alen, s, o, CKA_MODULUS);
		if (rv == CKR_OK)
			rv = pkcs11_get_attr(&b, &blen, s, o,
					     CKA_PUBLIC_EXPONENT);
		if (rv != CKR_OK) {
			rc = ota_error(OTA_EKEY,
				       "%s: public key: reading CKA_MODULUS "
				       "and CKA_PUBLIC_EXPONENT: %s",
				       uri, ota_pkcs11_rv_name(rv));
			goto out;
		}
		*out = rsa_pkey(a, alen, b, blen);
	} else {
		rv = pkcs11_get_attr(&a, &alen, s, o, CKA_EC_POINT);
		if (rv != CKR_OK) {
			rc = ota_error(OTA_EKEY,
				       "%s: public key: reading CKA_EC_POINT: "
				       "%s",
				       uri, ota_pkcs11_rv_name(rv));
			goto out;
		}
		if (!unwrap_point(&pt, a, alen, curve_point_len(c))) {
			rc = ota_error(OTA_EKEY,
				       "%s: public key: CKA_EC_POINT of %zu "
				       "bytes is not an uncompressed point "
				       "for this curve",
				       uri, alen);
			goto out;
		}
		if (type == OTA_PKCS11_KEY_ED25519)
			*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
							   NULL, pt, 32);
		else
			*out = ec_pkey(c, pt, curve_point_len(c));
	}
	if (*out == NULL)
		rc = ota_error(OTA_EKEY,
			       "%s: public key: OpenSSL rejects the token's "
			       "key material",
			       uri);
out:
	free(a);
	free(b);
	return rc;
}

/*
 * The public half: the public-key object with the same CKA_ID (or label),
 * else CKA_PUBLIC_KEY_INFO, else a certificate with the same CKA_ID.
 */
int pkcs11_load_public(EVP_PKEY **out, struct session *s, CK_OBJECT_HANDLE priv,
		       enum ota_pkcs11_key_type type, enum curve c,
		       const char *uri)
{
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY,
			cert_class = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE *objs = NULL;
	unsigned char *id = NULL, *label = NULL, *der = NULL;
	const unsigned char *q;
	size_t id_len = 0, label_len = 0, der_len, nobjs = 0;
	X509 *x = NULL;
	int rc = 0;

	*out = NULL;
	pkcs11_get_attr(&id, &id_len, s, priv, CKA_ID);
	pkcs11_get_attr(&label, &label_len, s, priv, CKA_LABEL);
	tmpl[0].type = CKA_CLASS;
	tmpl[0].pValue = &pub_class;
	tmpl[0].ulValueLen = sizeof(pub_class);
	if (id_len > 0) {
		tmpl[1].type = CKA_ID;
		tmpl[1].pValue = id;
		tmpl[1].ulValueLen = id_len;
	} else {
		tmpl[1].type = CKA_LABEL;
		tmpl[1].pValue = label;
		tmpl[1].ulValueLen = label_len;
	}
	if (id_len > 0 || label_len > 0) {
		rc = pkcs11_find_objects(&objs, &nobjs, s, tmpl, 2);
		if (rc < 0)
			goto out;
	}
	if (nobjs > 1 && id_len > 0 && label_len > 0) {
		/* Ids shared between pairs: the label tells them apart. */
		CK_ATTRIBUTE both[3] = { tmpl[0],
					 tmpl[1],
					 { CKA_LABEL, label, label_len } };
		size_t shared = nobjs;

		free(objs);
		objs = NULL;
		rc = pkcs11_find_objects(&objs, &nobjs, s, both, 3);
		if (rc < 0)
			goto out;
		if (nobjs != 1)
			nobjs = shared;
	}
	if (nobjs > 1) {
		rc = ota_error(OTA_EKEY,
			       "%s: %zu public-key objects share its %s; "
			       "cannot tell which is its public half",
			       uri, nobjs, id_len > 0 ? "CKA_ID" : "label");
		goto out;
	}
	if (nobjs == 1) {
		rc = pub_from_object(out, s, objs[0], type, c, uri);
		goto out;
	}

	if (pkcs11_get_attr(&der, &der_len, s, priv, CKA_PUBLIC_KEY_INFO) ==
		CKR_OK &&
	    der_len > 0 && der_len <= LONG_MAX) {
		q = der;
		*out = d2i_PUBKEY(NULL, &q, (long)der_len);
		if (*out == NULL)
			rc = ota_error(OTA_EKEY,
				       "%s: CKA_PUBLIC_KEY_INFO is not a DER "
				       "SubjectPublicKeyInfo",
				       uri);
		goto out;
	}

	if (id_len > 0) {
		free(objs);
		objs = NULL;
		tmpl[0].pValue = &cert_class;
		rc = pkcs11_find_objects(&objs, &nobjs, s, tmpl, 2);
		if (rc < 0)
			goto out;
		if (nobjs > 0) {
			free(der);
			der = NULL;
			if (pkcs11_get_attr(&der, &der_len, s, objs[0],
					    CKA_VALUE) == CKR_OK &&
			    der_len <= LONG_MAX) {
				q = der;
				x = d2i_X509(NULL, &q, (long)der_len);
			}
			if (x != NULL)
				*out = X509_get_pubkey(x);
			if (*out == NULL)
				rc = ota_error(OTA_EKEY,
					       "%s: the certificate with the "
					       "same CKA_ID cannot be read",
					       uri);
			goto out;
		}
	}
	rc = ota_error(OTA_EKEY,
		       "%s: no public key: no public-key object with the same "
		       "%s, no CKA_PUBLIC_KEY_INFO and no certificate with the "
		       "same CKA_ID",
		       uri, id_len > 0 ? "CKA_ID" : "label");
out:
	X509_free(x);
	free(objs);
	free(id);
	free(label);
	free(der);
	return rc;
}

/* The public key must be of the private key's kind and a supported size. */
static int check_public(EVP_PKEY *pk, enum ota_pkcs11_key_type type,
			enum curve c, const char *uri)
{
	int bits = EVP_PKEY_get_bits(pk);

	switch (type) {
	case OTA_PKCS11_KEY_RSA:
		if (!EVP_PKEY_is_a(pk, "RSA"))
			break;
		if (bits < 2048 || bits > 4096)
			return ota_error(OTA_EKEY,
					 "%s: unsupported RSA key size %d bits "
					 "(otatool signs with 2048 to 4096)",
					 uri, bits);
		return 0;
	case OTA_PKCS11_KEY_EC:
		if (!EVP_PKEY_is_a(pk, "EC") ||
		    bits != (c == CURVE_P256 ? 256 : 384))
			break;
		return 0;
	case OTA_PKCS11_KEY_ED25519:
		if (!EVP_PKEY_is_a(pk, "ED25519"))
			break;
		return 0;
	}
	return ota_error(OTA_EKEY,
			 "%s: the public key found for it is a different kind "
			 "of key (%s, %d bits)",
			 uri, EVP_PKEY_get0_type_name(pk), bits);
}

/* ---- Finding keys ------------------------------------------------------ */

void pkcs11_key_free(struct ota_pkcs11_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pub);
	free(k->uri);
	free(k);
}

/* The URI of an object found on s, for messages and results. */
static char *handle_uri(struct session *s, CK_OBJECT_HANDLE o,
			CK_OBJECT_CLASS cls)
{
	unsigned char *label = NULL, *id = NULL;
	size_t label_len = 0, id_len = 0;
	char *u;

	pkcs11_get_attr(&label, &label_len, s, o, CKA_LABEL);
	pkcs11_get_attr(&id, &id_len, s, o, CKA_ID);
	u = pkcs11_object_uri(&s->info, label, label_len, id, id_len, cls, true,
			      NULL);
	free(label);
	free(id);
	return u;
}

/* Checks the private key and fills in its type, curve and public half. */
static int describe_key(struct ota_pkcs11_key *k, const char *uri)
{
	struct session *s = k->s;
	unsigned char *params = NULL;
	size_t params_len;
	char curve_name[96];
	CK_KEY_TYPE kt;
	CK_BBOOL flag;
	enum curve c = CURVE_NONE;
	CK_RV rv;
	int rc;

	if (pkcs11_get_bool(&flag, s, k->obj, CKA_SIGN) == CKR_OK && !flag)
		return ota_error(OTA_EKEY,
				 "%s: CKA_SIGN is false: the token does not "
				 "allow this key to sign",
				 uri);
	if (pkcs11_get_bool(&flag, s, k->obj, CKA_ALWAYS_AUTHENTICATE) ==
		CKR_OK &&
	    flag)
		return ota_error(OTA_EKEY,
				 "%s: CKA_ALWAYS_AUTHENTICATE is set (a PIN "
				 "for every signature): not supported",
				 uri);
	rv = pkcs11_get_ulong(&kt, s, k->obj, CKA_KEY_TYPE);
	if (rv != CKR_OK)
		return ota_error(OTA_EKEY, "%s: reading CKA_KEY_TYPE: %s", uri,
				 ota_pkcs11_rv_name(rv));
	if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		rv = pkcs11_get_attr(&params, &params_len, s, k->obj,
				     CKA_EC_PARAMS);
		if (rv != CKR_OK)
			return ota_error(OTA_EKEY,
					 "%s: reading CKA_EC_PARAMS: %s", uri,
					 ota_pkcs11_rv_name(rv));
		pkcs11_curve_of(&c, curve_name, sizeof(curve_name), params,
				params_len);
		free(params);
		if (c == CURVE_NONE || (kt == CKK_EC) != (c != CURVE_ED25519))
			return ota_error(OTA_EKEY,
					 "%s: unsupported curve %s (otatool "
					 "signs with P-256, P-384 and Ed25519)",
					 uri, curve_name);
		k->type = c == CURVE_ED25519 ? OTA_PKCS11_KEY_ED25519
					     : OTA_PKCS11_KEY_EC;
		k->field_len = c == CURVE_P256 ? 32 : 48;
	} else if (kt == CKK_RSA) {
		k->type = OTA_PKCS11_KEY_RSA;
	} else {
		return ota_error(OTA_EKEY,
				 "%s: unsupported key type (CKA_KEY_TYPE "
				 "0x%lx; otatool signs with RSA, EC and "
				 "Ed25519 keys)",
				 uri, (unsigned long)kt);
	}
	rc = pkcs11_load_public(&k->pub, s, k->obj, k->type, c, uri);
	if (rc == 0)
		rc = check_public(k->pub, k->type, c, uri);
	return rc;
}

int pkcs11_locate_key(struct ota_pkcs11_key **out, struct ota_pkcs11 *p,
		      const char *uri)
{
	struct req r;
	struct session *s = NULL;
	struct ota_pkcs11_key *k = NULL;
	CK_OBJECT_HANDLE *objs = NULL, priv = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE other = CK_INVALID_HANDLE;
	CK_OBJECT_CLASS cls, other_class = 0;
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs;
	size_t nobjs, i, nprivs = 0;
	char list[768] = "", *u;
	int rc;

	*out = NULL;
	rc = pkcs11_req_parse(&r, p, uri);
	if (rc < 0)
		return rc;
	rc = pkcs11_pick_token(&s, p, &r, true);
	if (rc < 0)
		goto out;
	rc = pkcs11_login(p, s, &r);
	if (rc < 0)
		goto out;
	attrs = p11_kit_uri_get_attributes(r.uri, &nattrs);
	rc = pkcs11_find_objects(&objs, &nobjs, s, attrs, nattrs);
	if (rc < 0)
		goto out;
	for (i = 0; i < nobjs; i++) {
		if (pkcs11_get_ulong(&cls, s, objs[i], CKA_CLASS) != CKR_OK)
			continue;
		if (cls != CKO_PRIVATE_KEY) {
			if (other == CK_INVALID_HANDLE ||
			    other_class != CKO_PUBLIC_KEY) {
				other = objs[i];
				other_class = cls;
			}
			continue;
		}
		priv = objs[i];
		nprivs++;
		u = handle_uri(s, objs[i], cls);
		pkcs11_append_text(list, sizeof(list), ", ",
				   u != NULL ? u : "(object)");
		free(u);
	}
	if (nprivs > 1) {
		rc = ota_error(OTA_EKEY,
			       "%s: %zu private keys match on token '%s': %s; "
			       "add object= or id= to pick one",
			       r.shown, nprivs, s->label, list);
		goto out;
	}
	if (nprivs == 0 && other != CK_INVALID_HANDLE) {
		u = handle_uri(s, other, other_class);
		rc = ota_error(OTA_EKEY, "%s: %s is a %s, not a private key",
			       r.shown, u != NULL ? u : "the object",
			       other_class == CKO_PUBLIC_KEY ? "public key"
			       : other_class == CKO_CERTIFICATE
				   ? "certificate"
				   : pkcs11_class_name(other_class));
		free(u);
		goto out;
	}
	if (nprivs == 0) {
		rc = ota_error(OTA_EKEY,
			       "%s: no object matches on token '%s' (searched "
			       "by the URI's object, id and type)",
			       r.shown, s->label);
		goto out;
	}

	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	k->s = s;
	k->obj = priv;
	k->uri = handle_uri(s, priv, CKO_PRIVATE_KEY);
	if (k->uri == NULL) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	*out = k;
	k = NULL;
out:
	pkcs11_key_free(k);
	free(objs);
	pkcs11_req_free(&r);
	return rc;
}

int ota_pkcs11_find_key(struct ota_pkcs11_key **out, struct ota_pkcs11 *p,
			const char *uri)
{
	struct ota_pkcs11_key *k;
	int rc;

	*out = NULL;
	rc = pkcs11_locate_key(&k, p, uri);
	if (rc < 0)
		return rc;
	rc = describe_key(k, k->uri);
	if (rc < 0) {
		pkcs11_key_free(k);
		return rc;
	}
	k->next = p->keys;
	p->keys = k;
	*out = k;
	return 0;
}

enum ota_pkcs11_key_type ota_pkcs11_key_type(const struct ota_pkcs11_key *k)
{
	return k->type;
}

EVP_PKEY *ota_pkcs11_key_public(const struct ota_pkcs11_key *k)
{
	return k->pub;
}

const char *ota_pkcs11_key_uri(const struct ota_pkcs11_key *k)
{
	return k->uri;
}

/* ---- Signing ----------------------------------------------------------- */

/* DER of DigestInfo up to the digest (RFC 8017, section 9.2, note 1). */
static const unsigned char digest_info_sha256[] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20
};

static const unsigned char digest_info_sha384[] = {
	0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30
};

static const char *mech_name(enum ota_pkcs11_mech mech)
{
	switch (mech) {
	case OTA_PKCS11_ECDSA:
		return "CKM_ECDSA";
	case OTA_PKCS11_RSA_PKCS1:
		return "CKM_RSA_PKCS";
	case OTA_PKCS11_RSA_PSS:
		return "CKM_RSA_PKCS_PSS";
	case OTA_PKCS11_EDDSA:
		return "CKM_EDDSA";
	}
	return "unknown mechanism";
}

static const char *type_name(enum ota_pkcs11_key_type t)
{
	switch (t) {
	case OTA_PKCS11_KEY_RSA:
		return "an RSA key";
	case OTA_PKCS11_KEY_EC:
		return "an ECDSA key";
	case OTA_PKCS11_KEY_ED25519:
		return "an Ed25519 key";
	}
	return "an unknown key";
}

/* CKM_ECDSA gives r||s, each the curve's size; otatool handles DER. */
static int ecdsa_der(uint8_t **out, size_t *outlen, const unsigned char *raw,
		     size_t len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, (int)(len / 2), NULL);
	BIGNUM *s = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL);
	unsigned char *der = NULL, *w;
	int n, rc = 0;

	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	r = s = NULL; /* owned by es now */
	n = i2d_ECDSA_SIG(es, NULL);
	if (n <= 0 || (der = malloc((size_t)n)) == NULL) {
		rc = ota_error(OTA_EINTERNAL, "cannot DER-encode a signature");
		goto out;
	}
	w = der;
	i2d_ECDSA_SIG(es, &w);
	*out = der;
	*outlen = (size_t)n;
out:
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return rc;
}

/*
 * Checks the token's signature with the public key we report, so that a
 * public object that does not belong to the private key is caught here
 * and not by whoever verifies the firmware.
 */
static bool sig_verifies(EVP_PKEY *pub, enum ota_pkcs11_mech mech,
			 const EVP_MD *md, const uint8_t *in, size_t inlen,
			 const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	bool ok = false;

	if (mech == OTA_PKCS11_EDDSA) {
		mctx = EVP_MD_CTX_new();
		ok = mctx != NULL &&
		     EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pub) == 1 &&
		     EVP_DigestVerify(mctx, sig, siglen, in, inlen) == 1;
		EVP_MD_CTX_free(mctx);
		return ok;
	}
	ctx = EVP_PKEY_CTX_new(pub, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
		goto out;
	if (mech == OTA_PKCS11_RSA_PKCS1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (mech == OTA_PKCS11_RSA_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <=
		 0 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0))
		goto out;
	ok = EVP_PKEY_verify(ctx, sig, siglen, in, inlen) == 1;
out:
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

int ota_pkcs11_sign(struct ota_pkcs11_key *k, enum ota_pkcs11_mech mech,
		    int hash_nid, const uint8_t *in, size_t inlen,
		    uint8_t **sig, size_t *siglen)
{
	CK_FUNCTION_LIST *fl = k->s->mod->fl;
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_MECHANISM m = { 0, NULL, 0 };
	unsigned char data[sizeof(digest_info_sha384) + 48], raw[SIG_MAX];
	const unsigned char *tbs = in;
	size_t tbs_len = inlen, hlen = 0;
	CK_ULONG rlen;
	enum ota_pkcs11_key_type want;
	const EVP_MD *md = NULL;
	CK_RV rv;
	int rc = 0;

	*sig = NULL;
	*siglen = 0;
	want = mech == OTA_PKCS11_ECDSA   ? OTA_PKCS11_KEY_EC
	       : mech == OTA_PKCS11_EDDSA ? OTA_PKCS11_KEY_ED25519
					  : OTA_PKCS11_KEY_RSA;
	if (k->type != want || mech > OTA_PKCS11_EDDSA)
		return ota_error(OTA_EKEY, "%s: %s cannot sign with %s", k->uri,
				 type_name(k->type), mech_name(mech));
	if (mech != OTA_PKCS11_EDDSA) {
		if (hash_nid == NID_sha256) {
			hlen = 32;
			md = EVP_sha256();
		} else if (hash_nid == NID_sha384) {
			hlen = 48;
			md = EVP_sha384();
		} else {
			return ota_error(OTA_EUSAGE,
					 "%s: %s needs SHA-256 or SHA-384, not "
					 "%s",
					 k->uri, mech_name(mech),
					 OBJ_nid2sn(hash_nid));
		}
		if (inlen != hlen)
			return ota_error(OTA_EUSAGE,
					 "%s: a %s digest is %zu bytes, not "
					 "%zu",
					 k->uri, OBJ_nid2sn(hash_nid), hlen,
					 inlen);
	}
	if (in == NULL && inlen > 0)
		return ota_error(OTA_EUSAGE, "%s: nothing to sign", k->uri);

	switch (mech) {
	case OTA_PKCS11_ECDSA:
		m.mechanism = CKM_ECDSA;
		break;
	case OTA_PKCS11_RSA_PKCS1:
		m.mechanism = CKM_RSA_PKCS;
		if (hlen == 32) {
			memcpy(data, digest_info_sha256,
			       sizeof(digest_info_sha256));
			tbs_len = sizeof(digest_info_sha256);
		} else {
			memcpy(data, digest_info_sha384,
			       sizeof(digest_info_sha384));
			tbs_len = sizeof(digest_info_sha384);
		}
		memcpy(data + tbs_len, in, inlen);
		tbs_len += inlen;
		tbs = data;
		break;
	case OTA_PKCS11_RSA_PSS:
		m.mechanism = CKM_RSA_PKCS_PSS;
		pss.hashAlg = hlen == 32 ? CKM_SHA256 : CKM_SHA384;
		pss.mgf = hlen == 32 ? CKG_MGF1_SHA256 : CKG_MGF1_SHA384;
		pss.sLen = hlen;
		m.pParameter = &pss;
		m.ulParameterLen = sizeof(pss);
		break;
	case OTA_PKCS11_EDDSA:
		m.mechanism = CKM_EDDSA;
		break;
	}

	rv = fl->C_SignInit(k->s->h, &m, k->obj);
	if (rv != CKR_OK)
		return ota_error(OTA_EKEY, "%s: C_SignInit (%s): %s", k->uri,
				 mech_name(mech), ota_pkcs11_rv_name(rv));
	rv = fl->C_Sign(k->s->h, (CK_BYTE *)tbs, tbs_len, NULL, &rlen);
	if (rv == CKR_OK && rlen > sizeof(raw)) {
		/* Cannot happen with the key sizes accepted: end the op. */
		rlen = 0;
		fl->C_Sign(k->s->h, (CK_BYTE *)tbs, tbs_len, raw, &rlen);
		rc = ota_error(OTA_EKEY,
			       "%s: C_Sign (%s) wants %lu bytes for the "
			       "signature",
			       k->uri, mech_name(mech), (unsigned long)rlen);
		goto out;
	}
	if (rv == CKR_OK) {
		rlen = sizeof(raw);
		rv = fl->C_Sign(k->s->h, (CK_BYTE *)tbs, tbs_len, raw, &rlen);
	}
	if (rv != CKR_OK) {
		rc = ota_error(OTA_EKEY, "%s: C_Sign (%s): %s", k->uri,
			       mech_name(mech), ota_pkcs11_rv_name(rv));
		goto out;
	}

	if (mech == OTA_PKCS11_ECDSA) {
		if (rlen != 2 * k->field_len) {
			rc = ota_error(OTA_EKEY,
				       "%s: CKM_ECDSA gave %lu bytes, not "
				       "r||s of %zu",
				       k->uri, (unsigned long)rlen,
				       2 * k->field_len);
			goto out;
		}
		rc = ecdsa_der(sig, siglen, raw, rlen);
		if (rc < 0)
			goto out;
	} else {
		*sig = malloc(rlen > 0 ? rlen : 1);
		if (*sig == NULL) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(*sig, raw, rlen);
		*siglen = rlen;
	}
	if (!sig_verifies(k->pub, mech, md, in, inlen, *sig, *siglen))
		rc = ota_error(OTA_EKEY,
			       "%s: the token's %s signature does not verify "
			       "with the key's public half (mismatched "
			       "public-key object?)",
			       k->uri, mech_name(mech));
out:
	OPENSSL_cleanse(data, sizeof(data));
	if (rc < 0) {
		free(*sig);
		*sig = NULL;
		*siglen = 0;
	}
	return rc;
}
