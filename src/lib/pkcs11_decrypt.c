/*
 * Device keys in tokens: finding a key that may decrypt (ECDH derive or
 * RSA decrypt), ECDH with CKM_ECDH1_DERIVE, and RSA-OAEP-SHA-256 with
 * CKM_RSA_PKCS_OAEP or, where the token has OAEP only with SHA-1, raw
 * CKM_RSA_X_509 inside the token and the OAEP decoding (RFC 8017, 7.1.2)
 * here.
 */
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#define RSA_MAX_BYTES 512 /* RSA-4096 */
#define SHA256_LEN    32

#ifndef CKK_EC_MONTGOMERY
#define CKK_EC_MONTGOMERY 0x41UL
#endif

static const CK_BBOOL ck_true = CK_TRUE;
static const CK_BBOOL ck_false = CK_FALSE;

/* Checks a located key for decryption and fills in its type and size. */
static int describe_decrypt_key(struct ota_pkcs11_key *k)
{
	struct session *s = k->s;
	unsigned char *v = NULL;
	size_t vlen = 0, i;
	char curve_name[96];
	enum curve c = CURVE_NONE;
	CK_KEY_TYPE kt;
	CK_BBOOL flag;
	CK_RV rv;

	if (pkcs11_get_bool(&flag, s, k->obj, CKA_ALWAYS_AUTHENTICATE) ==
		CKR_OK &&
	    flag)
		return ota_error(OTA_EKEY,
				 "%s: CKA_ALWAYS_AUTHENTICATE is set (a PIN "
				 "for every operation): not supported",
				 k->uri);
	rv = pkcs11_get_ulong(&kt, s, k->obj, CKA_KEY_TYPE);
	if (rv != CKR_OK)
		return ota_error(OTA_EKEY, "%s: reading CKA_KEY_TYPE: %s",
				 k->uri, ota_pkcs11_rv_name(rv));
	switch (kt) {
	case CKK_EC:
		rv = pkcs11_get_attr(&v, &vlen, s, k->obj, CKA_EC_PARAMS);
		if (rv != CKR_OK)
			return ota_error(OTA_EKEY,
					 "%s: reading CKA_EC_PARAMS: %s",
					 k->uri, ota_pkcs11_rv_name(rv));
		pkcs11_curve_of(&c, curve_name, sizeof(curve_name), v, vlen);
		free(v);
		if (c != CURVE_P256)
			return ota_error(OTA_EKEY,
					 "%s: an EC key on %s cannot decrypt "
					 "MCUboot keys: ECIES-P256 needs a "
					 "P-256 key",
					 k->uri, curve_name);
		if (pkcs11_get_bool(&flag, s, k->obj, CKA_DERIVE) == CKR_OK &&
		    !flag)
			return ota_error(OTA_EKEY,
					 "%s: CKA_DERIVE is false: the token "
					 "does not allow ECDH with this key",
					 k->uri);
		k->type = OTA_PKCS11_KEY_EC;
		k->field_len = 32;
		break;
	case CKK_RSA:
		rv = pkcs11_get_attr(&v, &vlen, s, k->obj, CKA_MODULUS);
		if (rv != CKR_OK)
			return ota_error(OTA_EKEY,
					 "%s: reading CKA_MODULUS: %s", k->uri,
					 ota_pkcs11_rv_name(rv));
		for (i = 0; i < vlen && v[i] == 0; i++)
			;
		free(v);
		vlen -= i;
		if (vlen < 256 || vlen > RSA_MAX_BYTES)
			return ota_error(OTA_EKEY,
					 "%s: RSA key of %zu bits: RSA-OAEP "
					 "decryption takes 2048 to 4096 bits",
					 k->uri, vlen * 8);
		if (pkcs11_get_bool(&flag, s, k->obj, CKA_DECRYPT) == CKR_OK &&
		    !flag)
			return ota_error(OTA_EKEY,
					 "%s: CKA_DECRYPT is false: the token "
					 "does not allow this key to decrypt",
					 k->uri);
		k->type = OTA_PKCS11_KEY_RSA;
		k->field_len = vlen; /* modulus bytes */
		break;
	case CKK_EC_EDWARDS:
		return ota_error(OTA_EKEY,
				 "%s: an Ed25519 key (CKK_EC_EDWARDS) only "
				 "signs; ECIES-X25519 needs an X25519 key",
				 k->uri);
	case CKK_EC_MONTGOMERY:
		return ota_error(
		    OTA_EKEY,
		    "%s: an X25519 key (CKK_EC_MONTGOMERY): otatool "
		    "does not derive with X25519 keys inside "
		    "tokens; keep the X25519 device key in a file, "
		    "or use a P-256 key (ECIES-P256) in the token",
		    k->uri);
	default:
		return ota_error(OTA_EKEY,
				 "%s: key type CKA_KEY_TYPE 0x%lx cannot "
				 "decrypt (P-256 or RSA keys can)",
				 k->uri, (unsigned long)kt);
	}
	/* The public half is optional here: only export-public needs it. */
	if (pkcs11_load_public(&k->pub, s, k->obj, k->type, c, k->uri) < 0) {
		k->pub = NULL;
		ota_error_clear();
	}
	return 0;
}

int ota_pkcs11_find_decrypt_key(struct ota_pkcs11_key **out,
				struct ota_pkcs11 *p, const char *uri)
{
	struct ota_pkcs11_key *k;
	int rc;

	*out = NULL;
	rc = pkcs11_locate_key(&k, p, uri);
	if (rc < 0)
		return rc;
	rc = describe_decrypt_key(k);
	if (rc < 0) {
		pkcs11_key_free(k);
		return rc;
	}
	k->next = p->keys;
	p->keys = k;
	*out = k;
	return 0;
}

/* ---- ECDH -------------------------------------------------------------- */

static CK_RV derive(CK_OBJECT_HANDLE *h, struct ota_pkcs11_key *k,
		    const uint8_t *pub, size_t len)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ULONG vlen = 32;
	CK_ECDH1_DERIVE_PARAMS params = { CKD_NULL, 0, NULL, len,
					  (CK_BYTE *)pub };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &params, sizeof(params) };
	/* Sensitive off and extractable: the secret must come out. */
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, (void *)&ck_false, sizeof(CK_BBOOL) },
		{ CKA_PRIVATE, (void *)&ck_true, sizeof(CK_BBOOL) },
		{ CKA_SENSITIVE, (void *)&ck_false, sizeof(CK_BBOOL) },
		{ CKA_EXTRACTABLE, (void *)&ck_true, sizeof(CK_BBOOL) },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
	};

	return k->s->mod->fl->C_DeriveKey(k->s->h, &m, k->obj, tmpl,
					  sizeof(tmpl) / sizeof(tmpl[0]), h);
}

int ota_pkcs11_ecdh(uint8_t secret[32], struct ota_pkcs11_key *k,
		    const uint8_t *peer, size_t peer_len)
{
	CK_FUNCTION_LIST *fl = k->s->mod->fl;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	uint8_t wrapped[2 + 65];
	CK_ATTRIBUTE a = { CKA_VALUE, secret, 32 };
	CK_RV rv;
	int rc = 0;

	if (k->type != OTA_PKCS11_KEY_EC || k->field_len != 32)
		return ota_error(OTA_EKEY, "%s: not a P-256 key: no ECDH",
				 k->uri);
	if (peer_len != 65 || peer[0] != 0x04)
		return ota_error(OTA_EINPUT,
				 "ECDH peer key: not an uncompressed P-256 "
				 "point");
	rv = derive(&h, k, peer, peer_len);
	if (rv == CKR_ARGUMENTS_BAD || rv == CKR_MECHANISM_PARAM_INVALID ||
	    rv == CKR_DOMAIN_PARAMS_INVALID) {
		/* Some tokens want the point DER-wrapped, as CKA_EC_POINT. */
		wrapped[0] = 0x04;
		wrapped[1] = 65;
		memcpy(wrapped + 2, peer, 65);
		rv = derive(&h, k, wrapped, sizeof(wrapped));
	}
	if (rv != CKR_OK)
		return ota_error(rv == CKR_KEY_TYPE_INCONSISTENT ||
					 rv == CKR_KEY_FUNCTION_NOT_PERMITTED ||
					 rv == CKR_MECHANISM_INVALID
				     ? OTA_EKEY
				     : OTA_EVERIFY,
				 "%s: C_DeriveKey (CKM_ECDH1_DERIVE): %s",
				 k->uri, ota_pkcs11_rv_name(rv));
	rv = fl->C_GetAttributeValue(k->s->h, h, &a, 1);
	if (rv != CKR_OK || a.ulValueLen != 32)
		rc = ota_error(OTA_EKEY,
			       "%s: the ECDH secret cannot be read from the "
			       "token (%s): it must allow an extractable, "
			       "non-sensitive derived secret",
			       k->uri,
			       rv != CKR_OK ? ota_pkcs11_rv_name(rv)
					    : "wrong length");
	fl->C_DestroyObject(k->s->h, h);
	if (rc < 0)
		OPENSSL_cleanse(secret, 32);
	return rc;
}

/* ---- RSA-OAEP ---------------------------------------------------------- */

/* Constant-time helpers: all-ones when the condition holds, else zero. */
static unsigned ct_is_zero(unsigned x)
{
	return 0u - (((x | (0u - x)) >> (sizeof(x) * 8 - 1)) ^ 1u);
}

static unsigned ct_eq(unsigned a, unsigned b)
{
	return ct_is_zero(a ^ b);
}

/* MGF1 with SHA-256 (RFC 8017, B.2.1), XORed into out. */
static int mgf1_xor(uint8_t *out, size_t len, const uint8_t *seed,
		    size_t seedlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t counter[4], block[SHA256_LEN];
	size_t done = 0, n;
	uint32_t c;
	int ok = ctx != NULL;

	for (c = 0; ok && done < len; c++) {
		counter[0] = (uint8_t)(c >> 24);
		counter[1] = (uint8_t)(c >> 16);
		counter[2] = (uint8_t)(c >> 8);
		counter[3] = (uint8_t)c;
		ok = EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) == 1 &&
		     EVP_DigestUpdate(ctx, seed, seedlen) == 1 &&
		     EVP_DigestUpdate(ctx, counter, 4) == 1 &&
		     EVP_DigestFinal_ex(ctx, block, NULL) == 1;
		n = len - done < SHA256_LEN ? len - done : SHA256_LEN;
		for (size_t i = 0; ok && i < n; i++)
			out[done + i] ^= block[i];
		done += n;
	}
	EVP_MD_CTX_free(ctx);
	OPENSSL_cleanse(block, sizeof(block));
	return ok ? 0 : -1;
}

/*
 * EME-OAEP decoding of em (k bytes) with SHA-256 and an empty label. The
 * checks run over every byte whatever they find, and fail together, so
 * that timing does not tell which one failed (Manger's attack).
 */
static int oaep_decode(uint8_t *out, size_t *outlen, size_t outsize,
		       uint8_t *em, size_t k)
{
	static const uint8_t empty_hash[SHA256_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
		0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
		0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
	};
	uint8_t *seed = em + 1, *db = em + 1 + SHA256_LEN;
	size_t dblen = k - 1 - SHA256_LEN;
	unsigned good, found = 0, index = 0, mlen;

	if (k < 2 * SHA256_LEN + 2 || mgf1_xor(seed, SHA256_LEN, db, dblen) ||
	    mgf1_xor(db, dblen, seed, SHA256_LEN))
		return ota_error(OTA_EINTERNAL, "OAEP decoding failed");
	good = ct_is_zero(em[0]);
	for (size_t i = 0; i < SHA256_LEN; i++)
		good &= ct_eq(db[i], empty_hash[i]);
	for (size_t i = SHA256_LEN; i < dblen; i++) {
		unsigned one = ct_eq(db[i], 1), zero = ct_is_zero(db[i]);

		index |= ~found & one & (unsigned)i;
		/* Before the 0x01 only zeros may appear. */
		good &= found | zero | one;
		found |= one;
	}
	good &= found;
	mlen = (unsigned)dblen - index - 1;
	if (!good || mlen > outsize) {
		OPENSSL_cleanse(em, k);
		return ota_error(OTA_EVERIFY,
				 "RSA-OAEP decryption failed: the wrong device "
				 "key, or the wrapped key was altered");
	}
	memcpy(out, db + index + 1, mlen);
	*outlen = mlen;
	OPENSSL_cleanse(em, k);
	return 0;
}

/*
 * Why a decryption failed: the key or token (OTA_EKEY), or, past those,
 * the ciphertext (OTA_EVERIFY: SoftHSM says CKR_GENERAL_ERROR for a
 * ciphertext not below the modulus).
 */
static int decrypt_code(CK_RV rv)
{
	switch (rv) {
	case CKR_KEY_FUNCTION_NOT_PERMITTED:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_KEY_HANDLE_INVALID:
	case CKR_MECHANISM_INVALID:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		return OTA_EKEY;
	default:
		return OTA_EVERIFY;
	}
}

static CK_RV decrypt(struct ota_pkcs11_key *k, CK_MECHANISM *m,
		     const uint8_t *in, size_t inlen, uint8_t *out,
		     CK_ULONG *outlen)
{
	CK_FUNCTION_LIST *fl = k->s->mod->fl;
	CK_RV rv = fl->C_DecryptInit(k->s->h, m, k->obj);

	if (rv != CKR_OK)
		return rv;
	return fl->C_Decrypt(k->s->h, (CK_BYTE *)in, inlen, out, outlen);
}

int ota_pkcs11_rsa_oaep_decrypt(uint8_t *out, size_t *outlen, size_t outsize,
				struct ota_pkcs11_key *k, const uint8_t *in,
				size_t inlen)
{
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256,
					 CKZ_DATA_SPECIFIED, NULL, 0 };
	CK_MECHANISM m = { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) };
	uint8_t buf[RSA_MAX_BYTES], em[RSA_MAX_BYTES];
	CK_ULONG n = sizeof(buf);
	CK_RV rv;
	int rc;

	*outlen = 0;
	if (k->type != OTA_PKCS11_KEY_RSA)
		return ota_error(OTA_EKEY, "%s: not an RSA key", k->uri);
	if (inlen != k->field_len)
		return ota_error(OTA_EINPUT,
				 "RSA-OAEP ciphertext of %zu bytes; the "
				 "%zu-bit key %s takes %zu",
				 inlen, k->field_len * 8, k->uri, k->field_len);
	rv = decrypt(k, &m, in, inlen, buf, &n);
	if (rv == CKR_OK) {
		if (n > outsize) {
			OPENSSL_cleanse(buf, sizeof(buf));
			return ota_error(OTA_EVERIFY,
					 "RSA-OAEP: %lu bytes decrypted, more "
					 "than the %zu a key can be",
					 (unsigned long)n, outsize);
		}
		memcpy(out, buf, n);
		*outlen = n;
		OPENSSL_cleanse(buf, sizeof(buf));
		return 0;
	}
	if (rv != CKR_MECHANISM_INVALID && rv != CKR_MECHANISM_PARAM_INVALID &&
	    rv != CKR_ARGUMENTS_BAD)
		return ota_error(decrypt_code(rv),
				 "%s: C_Decrypt (CKM_RSA_PKCS_OAEP): %s: the "
				 "wrong device key, or the wrapped key was "
				 "altered",
				 k->uri, ota_pkcs11_rv_name(rv));
	/* OAEP with SHA-256 not offered: raw RSA in the token, decode here. */
	m.mechanism = CKM_RSA_X_509;
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	n = sizeof(buf);
	rv = decrypt(k, &m, in, inlen, buf, &n);
	if (rv != CKR_OK || n > k->field_len) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return ota_error(
		    rv == CKR_OK ? OTA_EVERIFY : decrypt_code(rv),
		    "%s: C_Decrypt (CKM_RSA_X_509, the token has "
		    "no OAEP with SHA-256): %s",
		    k->uri, rv != CKR_OK ? ota_pkcs11_rv_name(rv) : "too long");
	}
	/* Left-pad to the modulus size: some tokens drop leading zeros. */
	memset(em, 0, k->field_len - n);
	memcpy(em + k->field_len - n, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	rc = oaep_decode(out, outlen, outsize, em, k->field_len);
	OPENSSL_cleanse(em, sizeof(em));
	return rc;
}
