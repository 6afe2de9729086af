/*
 * Key pairs generated inside a token (keys generate): a signing-only,
 * non-extractable private key and its public half, linked by CKA_ID,
 * never over an object that already has the label or id.
 */
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* Bytes of a generated CKA_ID when the URI gives none. */
#define GEN_ID_LEN 16

static const CK_BBOOL ck_true = CK_TRUE;
static const CK_BBOOL ck_false = CK_FALSE;

/* DER OIDs and the PKCS#11 3.0 name for Ed25519's CKA_EC_PARAMS. */
static const unsigned char oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
					  0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x06, 0x05, 0x2b, 0x81,
					  0x04, 0x00, 0x22 };
static const unsigned char oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const unsigned char str_ed25519[] = { 0x13, 0x0c, 'e', 'd', 'w',
					     'a',  'r',  'd', 's', '2',
					     '5',  '5',  '1', '9' };

static const struct gen_type {
	const char *name;
	CK_MECHANISM_TYPE mech;
	CK_ULONG bits;
	const unsigned char *params;
	size_t params_len;
} gen_types[] = {
	{ "ecdsa-p256", CKM_EC_KEY_PAIR_GEN, 0, oid_p256, sizeof(oid_p256) },
	{ "ecdsa-p384", CKM_EC_KEY_PAIR_GEN, 0, oid_p384, sizeof(oid_p384) },
	{ "rsa-2048", CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, NULL, 0 },
	{ "rsa-3072", CKM_RSA_PKCS_KEY_PAIR_GEN, 3072, NULL, 0 },
	{ "rsa-4096", CKM_RSA_PKCS_KEY_PAIR_GEN, 4096, NULL, 0 },
	{ "ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, 0, oid_ed25519,
	  sizeof(oid_ed25519) },
};

static int refuse_existing(struct session *s, CK_ATTRIBUTE_TYPE type,
			   const void *v, size_t len, const char *uri)
{
	CK_ATTRIBUTE a = { type, (void *)v, len };
	CK_OBJECT_HANDLE *objs;
	char idhex[2 * 64 + 4];
	size_t n;
	int rc;

	rc = pkcs11_find_objects(&objs, &n, s, &a, 1);
	free(objs);
	if (rc < 0 || n == 0)
		return rc;
	if (type == CKA_LABEL)
		return ota_error(OTA_EKEY,
				 "%s: token '%s' already has %zu object%s "
				 "labelled '%.*s'; not overwriting",
				 uri, s->label, n, n > 1 ? "s" : "", (int)len,
				 (const char *)v);
	pkcs11_hex(idhex, v, len > 64 ? 64 : len);
	return ota_error(OTA_EKEY,
			 "%s: token '%s' already has %zu object%s with id "
			 "%s; not overwriting",
			 uri, s->label, n, n > 1 ? "s" : "", idhex);
}

int ota_pkcs11_generate(struct ota_pkcs11 *p, const char *uri, const char *type,
			char **key_uri)
{
	static const CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	const struct gen_type *g = NULL;
	struct req r;
	struct session *s = NULL;
	CK_ATTRIBUTE *label, *ida, pub[10], priv[12];
	CK_ULONG npub = 0, npriv = 0, bits;
	CK_MECHANISM m = { 0, NULL, 0 };
	CK_OBJECT_HANDLE hpub, hpriv;
	unsigned char idbuf[GEN_ID_LEN];
	const void *id;
	size_t id_len, i;
	CK_RV rv;
	int rc;

	*key_uri = NULL;
	/*
	 * X25519 in a token needs CKM_EC_MONTGOMERY_KEY_PAIR_GEN (PKCS#11
	 * 3.0), which SoftHSM 2.6 does not implement: said plainly rather
	 * than as an unknown type.
	 */
	if (type != NULL && strcmp(type, "x25519") == 0)
		return ota_error(OTA_EKEY,
				 "%s: X25519 keys are not made in tokens: "
				 "SoftHSM 2.6 (and many tokens) have no "
				 "CKK_EC_MONTGOMERY key generation; keep an "
				 "X25519 device key in a file, or give the "
				 "token a P-256 key with CKA_DERIVE "
				 "(ECIES-P256)",
				 uri);
	for (i = 0; type != NULL && i < sizeof(gen_types) / sizeof(*g); i++)
		if (strcmp(type, gen_types[i].name) == 0)
			g = &gen_types[i];
	if (g == NULL)
		return ota_error(OTA_EUSAGE,
				 "unknown key type '%s' (ecdsa-p256, "
				 "ecdsa-p384, rsa-2048, rsa-3072, rsa-4096, "
				 "ed25519)",
				 type != NULL ? type : "(null)");
	rc = pkcs11_req_parse(&r, p, uri);
	if (rc < 0)
		return rc;
	label = p11_kit_uri_get_attribute(r.uri, CKA_LABEL);
	if (label == NULL || label->ulValueLen == 0) {
		rc = ota_error(OTA_EUSAGE,
			       "%s: the URI needs object=LABEL to name the "
			       "new key",
			       r.shown);
		goto out;
	}
	ida = p11_kit_uri_get_attribute(r.uri, CKA_ID);
	if (ida != NULL && ida->ulValueLen > 0) {
		id = ida->pValue;
		id_len = ida->ulValueLen;
	} else {
		if (RAND_bytes(idbuf, sizeof(idbuf)) != 1) {
			rc = ota_error(OTA_EINTERNAL,
				       "no random bytes for a CKA_ID");
			goto out;
		}
		id = idbuf;
		id_len = sizeof(idbuf);
	}
	rc = pkcs11_pick_token(&s, p, &r, false);
	if (rc < 0)
		goto out;
	rc = pkcs11_login(p, s, &r);
	if (rc < 0)
		goto out;
	rc = refuse_existing(s, CKA_LABEL, label->pValue, label->ulValueLen,
			     r.shown);
	if (rc == 0)
		rc = refuse_existing(s, CKA_ID, id, id_len, r.shown);
	if (rc < 0)
		goto out;

#define ATTR(arr, n, t, v, l)                                                  \
	do {                                                                   \
		(arr)[(n)].type = (t);                                         \
		(arr)[(n)].pValue = (void *)(v);                               \
		(arr)[(n)].ulValueLen = (l);                                   \
		(n)++;                                                         \
	} while (0)
	ATTR(pub, npub, CKA_TOKEN, &ck_true, sizeof(CK_BBOOL));
	ATTR(pub, npub, CKA_PRIVATE, &ck_false, sizeof(CK_BBOOL));
	ATTR(pub, npub, CKA_VERIFY, &ck_true, sizeof(CK_BBOOL));
	/* A firmware signing key signs and does nothing else. */
	ATTR(pub, npub, CKA_ENCRYPT, &ck_false, sizeof(CK_BBOOL));
	ATTR(pub, npub, CKA_WRAP, &ck_false, sizeof(CK_BBOOL));
	ATTR(pub, npub, CKA_LABEL, label->pValue, label->ulValueLen);
	ATTR(pub, npub, CKA_ID, id, id_len);
	if (g->bits > 0) {
		bits = g->bits;
		ATTR(pub, npub, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ATTR(pub, npub, CKA_PUBLIC_EXPONENT, exponent,
		     sizeof(exponent));
	} else {
		ATTR(pub, npub, CKA_EC_PARAMS, g->params, g->params_len);
	}
	ATTR(priv, npriv, CKA_TOKEN, &ck_true, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_PRIVATE, &ck_true, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_SENSITIVE, &ck_true, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_EXTRACTABLE, &ck_false, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_SIGN, &ck_true, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_DECRYPT, &ck_false, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_UNWRAP, &ck_false, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_DERIVE, &ck_false, sizeof(CK_BBOOL));
	ATTR(priv, npriv, CKA_LABEL, label->pValue, label->ulValueLen);
	ATTR(priv, npriv, CKA_ID, id, id_len);
#undef ATTR

	m.mechanism = g->mech;
	rv = s->mod->fl->C_GenerateKeyPair(s->h, &m, pub, npub, priv, npriv,
					   &hpub, &hpriv);
	if (g->mech == CKM_EC_EDWARDS_KEY_PAIR_GEN &&
	    (rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	     rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_CURVE_NOT_SUPPORTED ||
	     rv == CKR_TEMPLATE_INCONSISTENT)) {
		/* Some tokens know Ed25519 only by its PKCS#11 3.0 name. */
		pub[npub - 1].pValue = (void *)str_ed25519;
		pub[npub - 1].ulValueLen = sizeof(str_ed25519);
		rv = s->mod->fl->C_GenerateKeyPair(s->h, &m, pub, npub, priv,
						   npriv, &hpub, &hpriv);
	}
	if (rv != CKR_OK) {
		rc = ota_error(
		    OTA_EKEY, "%s: token '%s': C_GenerateKeyPair (%s): %s",
		    r.shown, s->label, g->name, ota_pkcs11_rv_name(rv));
		goto out;
	}
	/* Module named in the request: the new URI must reach it too. */
	*key_uri = pkcs11_object_uri(&s->info, label->pValue, label->ulValueLen,
				     id, id_len, CKO_PRIVATE_KEY, true, r.uri);
	if (*key_uri == NULL)
		rc = ota_error(OTA_EINTERNAL, "out of memory");
out:
	pkcs11_req_free(&r);
	return rc;
}
