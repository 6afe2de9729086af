/*
 * Whom a content key is wrapped for and who unwraps it: recipients (public
 * keys, or a shared AES-KW key) and device keys (private key files, token
 * keys, or the same AES-KW key), the scheme each implies, wrapping and
 * unwrapping dispatched to the scheme, and generating device key files.
 */
#include "cipher_priv.h"
#include "key_priv.h"
#include "pkcs11_priv.h"

#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/key.h"
#include "otatool/output.h"
#include "otatool/pkcs11.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

/* An AES-KW key file is a line of base64; anything longer is not one. */
#define KEK_FILE_MAX 256
#define KEY_FILE_MAX (64u << 10)

static const struct {
	enum ota_wrap_scheme s;
	const char *name, *key_type;
} schemes[] = {
	{ OTA_WRAP_RSA_OAEP, "rsa-oaep", "an RSA private key (2048 bits)" },
	{ OTA_WRAP_AES_KW, "aes-kw", "the shared AES-KW key file" },
	{ OTA_WRAP_ECIES_P256, "ecies-p256", "a P-256 private key" },
	{ OTA_WRAP_ECIES_X25519, "ecies-x25519", "an X25519 private key" },
	{ OTA_WRAP_ECIES_X25519_SHA512, "ecies-x25519-sha512",
	  "an X25519 private key" },
};
#define N_SCHEMES (sizeof(schemes) / sizeof(schemes[0]))

const char *ota_wrap_scheme_name(unsigned tlv_type)
{
	for (size_t i = 0; i < N_SCHEMES; i++)
		if ((unsigned)schemes[i].s == tlv_type)
			return schemes[i].name;
	return NULL;
}

int ota_wrap_scheme_of_tlv(enum ota_wrap_scheme *out, unsigned tlv_type)
{
	for (size_t i = 0; i < N_SCHEMES; i++)
		if ((unsigned)schemes[i].s == tlv_type) {
			*out = schemes[i].s;
			return 0;
		}
	return ota_error(OTA_EINPUT,
			 "TLV type 0x%02x is not one of MCUboot's key TLVs "
			 "(0x30 to 0x34)",
			 tlv_type);
}

const char *ota_wrap_scheme_key_type(enum ota_wrap_scheme s)
{
	for (size_t i = 0; i < N_SCHEMES; i++)
		if (schemes[i].s == s)
			return schemes[i].key_type;
	return "an unknown key";
}

size_t ota_wrap_len(enum ota_wrap_scheme s, size_t keylen, unsigned rsa_bits)
{
	if (keylen != 16 && keylen != 32)
		return 0;
	switch (s) {
	case OTA_WRAP_RSA_OAEP:
		return rsa_bits >= 2048 && rsa_bits <= 4096 && rsa_bits % 8 == 0
			   ? rsa_bits / 8
			   : 0;
	case OTA_WRAP_AES_KW:
		return keylen + 8;
	case OTA_WRAP_ECIES_P256:
		return 65 + 32 + keylen;
	case OTA_WRAP_ECIES_X25519:
		return 32 + 32 + keylen;
	case OTA_WRAP_ECIES_X25519_SHA512:
		return 32 + 64 + keylen;
	}
	return 0;
}

/* ---- Key kinds --------------------------------------------------------- */

enum kind { KIND_P256, KIND_X25519, KIND_RSA, KIND_KEK };

/* What a public or private key is good for here, or why it is not. */
static int classify(enum kind *kind, unsigned *rsa_bits, EVP_PKEY *pk,
		    const char *name)
{
	char group[64] = "";
	int bits = EVP_PKEY_get_bits(pk);

	*rsa_bits = 0;
	if (EVP_PKEY_is_a(pk, "X25519")) {
		*kind = KIND_X25519;
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		if (bits < 2048 || bits > 4096)
			return ota_error(OTA_EKEY,
					 "%s: RSA key of %d bits: RSA-OAEP "
					 "takes 2048 to 4096 bits (MCUboot: "
					 "2048)",
					 name, bits);
		*kind = KIND_RSA;
		*rsa_bits = (unsigned)bits;
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "EC")) {
		EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
					       group, sizeof(group), NULL);
		if (strcmp(group, "prime256v1") == 0) {
			*kind = KIND_P256;
			return 0;
		}
		return ota_error(OTA_EKEY,
				 "%s: an EC key on %s: ECIES needs P-256 (or "
				 "an X25519 key)",
				 name, *group ? group : "an unnamed curve");
	}
	if (EVP_PKEY_is_a(pk, "ED25519"))
		return ota_error(OTA_EKEY,
				 "%s: an Ed25519 key only signs; encryption "
				 "takes an X25519 key (otatool keys generate "
				 "--type x25519)",
				 name);
	ERR_clear_error();
	return ota_error(OTA_EKEY,
			 "%s: a %s key cannot wrap firmware keys (P-256, "
			 "X25519 or RSA can)",
			 name,
			 EVP_PKEY_get0_type_name(pk)
			     ? EVP_PKEY_get0_type_name(pk)
			     : "unknown");
}

static enum ota_wrap_scheme kind_scheme(enum kind k, unsigned hmac_bits)
{
	switch (k) {
	case KIND_P256:
		return OTA_WRAP_ECIES_P256;
	case KIND_X25519:
		return hmac_bits == 512 ? OTA_WRAP_ECIES_X25519_SHA512
					: OTA_WRAP_ECIES_X25519;
	case KIND_RSA:
		return OTA_WRAP_RSA_OAEP;
	case KIND_KEK:
		break;
	}
	return OTA_WRAP_AES_KW;
}

static bool kind_accepts(enum kind k, enum ota_wrap_scheme s)
{
	switch (s) {
	case OTA_WRAP_RSA_OAEP:
		return k == KIND_RSA;
	case OTA_WRAP_AES_KW:
		return k == KIND_KEK;
	case OTA_WRAP_ECIES_P256:
		return k == KIND_P256;
	case OTA_WRAP_ECIES_X25519:
	case OTA_WRAP_ECIES_X25519_SHA512:
		return k == KIND_X25519;
	}
	return false;
}

/*
 * An AES-KW key file: base64 text (newt's format, what
 * `dd if=/dev/urandom bs=16 count=1 | base64` writes) of exactly 16 or 32
 * bytes, blank space around it allowed. Returns 1 when data is one, with
 * the key in kek; 0 when it is not.
 */
static int parse_kek(uint8_t kek[32], size_t *keklen, const char *data,
		     size_t len)
{
	char text[KEK_FILE_MAX + 1];
	uint8_t raw[KEK_FILE_MAX];
	size_t n = 0, pad = 0;
	int got;

	*keklen = 0;
	if (len > KEK_FILE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (isspace(c))
			continue;
		if (!isalnum(c) && c != '+' && c != '/' && c != '=')
			return 0;
		text[n++] = (char)c;
	}
	if (n == 0 || n % 4 != 0)
		return 0;
	while (pad < 2 && text[n - 1 - pad] == '=')
		pad++;
	got = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n);
	OPENSSL_cleanse(text, sizeof(text));
	if (got < 0 || ((size_t)got - pad != 16 && (size_t)got - pad != 32)) {
		OPENSSL_cleanse(raw, sizeof(raw));
		ERR_clear_error();
		return 0;
	}
	*keklen = (size_t)got - pad;
	memcpy(kek, raw, *keklen);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 1;
}

/* Reads path and tells whether it is an AES-KW key file (1) or not (0). */
static int read_kek(uint8_t kek[32], size_t *keklen, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	uint64_t size = 0;
	int rc;

	*keklen = 0;
	if ((rc = ota_file_size(&size, path)))
		return rc;
	if (size > KEK_FILE_MAX)
		return 0;
	if ((rc = ota_file_read_small(&data, &len, path, KEK_FILE_MAX)))
		return rc;
	rc = parse_kek(kek, keklen, data, len);
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}

/* ---- Recipients -------------------------------------------------------- */

struct ota_recipient {
	char *name;
	enum ota_wrap_scheme scheme;
	EVP_PKEY *pub; /* NULL for AES-KW */
	uint8_t kek[32];
	size_t kek_len;
	unsigned rsa_bits;
};

void ota_recipient_free(struct ota_recipient *r)
{
	if (!r)
		return;
	EVP_PKEY_free(r->pub);
	free(r->name);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

static int recipient_new(struct ota_recipient **out, const char *name)
{
	*out = calloc(1, sizeof(**out));
	if (!*out || !((*out)->name = strdup(name))) {
		free(*out);
		*out = NULL;
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	return 0;
}

static int check_hmac(unsigned hmac_bits, enum kind k, const char *name)
{
	if (hmac_bits != 0 && hmac_bits != 256 && hmac_bits != 512)
		return ota_error(OTA_EUSAGE,
				 "HMAC-SHA-%u: ECIES uses SHA-256 or SHA-512",
				 hmac_bits);
	if (hmac_bits == 512 && k != KIND_X25519)
		return ota_error(OTA_EUSAGE,
				 "%s: HMAC/HKDF with SHA-512 exists only for "
				 "ECIES-X25519 (MCUboot's TLV 0x34), not for "
				 "this %s key",
				 name,
				 k == KIND_P256  ? "P-256"
				 : k == KIND_RSA ? "RSA"
						 : "AES-KW");
	return 0;
}

/* Takes ownership of pub. */
static int recipient_from_pkey(struct ota_recipient **out, EVP_PKEY *pub,
			       unsigned hmac_bits, const char *name)
{
	struct ota_recipient *r = NULL;
	enum kind k;
	unsigned bits;
	int rc;

	*out = NULL;
	if ((rc = classify(&k, &bits, pub, name)) ||
	    (rc = check_hmac(hmac_bits, k, name)) ||
	    (rc = recipient_new(&r, name))) {
		EVP_PKEY_free(pub);
		return rc;
	}
	r->pub = pub;
	r->rsa_bits = bits;
	r->scheme = kind_scheme(k, hmac_bits);
	*out = r;
	return 0;
}

int ota_recipient_load(struct ota_recipient **out, const char *path,
		       unsigned hmac_bits)
{
	struct ota_recipient *r = NULL;
	EVP_PKEY *pub = NULL;
	uint8_t kek[32];
	size_t keklen = 0;
	int rc;

	*out = NULL;
	rc = read_kek(kek, &keklen, path);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if ((rc = check_hmac(hmac_bits, KIND_KEK, path)) == 0 &&
		    (rc = recipient_new(&r, path)) == 0) {
			memcpy(r->kek, kek, keklen);
			r->kek_len = keklen;
			r->scheme = OTA_WRAP_AES_KW;
			*out = r;
		}
		OPENSSL_cleanse(kek, sizeof(kek));
		return rc;
	}
	if (ota_public_key_load_pkey(&pub, path))
		return ota_error(OTA_EINPUT,
				 "%s: neither a public key (PEM or DER "
				 "SubjectPublicKeyInfo, a certificate or a "
				 "private key) nor an AES-KW key file (base64 "
				 "text of 16 or 32 bytes)",
				 path);
	return recipient_from_pkey(out, pub, hmac_bits, path);
}

int ota_recipient_from_der(struct ota_recipient **out, const uint8_t *der,
			   size_t len, unsigned hmac_bits, const char *name)
{
	const unsigned char *p = der;
	EVP_PKEY *pub;

	*out = NULL;
	pub = len <= KEY_FILE_MAX ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
	ERR_clear_error();
	if (!pub || p != der + len) {
		EVP_PKEY_free(pub);
		return ota_error(OTA_EINPUT,
				 "%s: not a DER SubjectPublicKeyInfo", name);
	}
	return recipient_from_pkey(out, pub, hmac_bits, name);
}

int ota_recipient_open(struct ota_recipient **out, const char *ref,
		       const struct ota_key_opts *opts, unsigned hmac_bits)
{
	struct ota_pkcs11_key *k = NULL;
	EVP_PKEY *pub;
	int rc;

	*out = NULL;
	if (!ota_pkcs11_is_uri(ref))
		return ota_recipient_load(out, ref, hmac_bits);
	if (!opts || !opts->pkcs11)
		return ota_error(
		    OTA_EKEY, "%s: PKCS#11 keys are not available here", ref);
	if ((rc = ota_pkcs11_find_decrypt_key(&k, opts->pkcs11, ref)))
		return rc;
	pub = ota_pkcs11_key_public(k);
	if (!pub)
		return ota_error(OTA_EKEY,
				 "%s: the token holds no public key for it: "
				 "export one (otatool keys export-public) and "
				 "give that file",
				 ref);
	if (!EVP_PKEY_up_ref(pub))
		return ota_error(OTA_EINTERNAL, "out of memory");
	return recipient_from_pkey(out, pub, hmac_bits, ref);
}

/* SHA-256 of the DER SubjectPublicKeyInfo, or of the AES-KW label + key. */
static int key_id_of(uint8_t out[32], EVP_PKEY *pub, const uint8_t *kek,
		     size_t kek_len)
{
	unsigned char *der = NULL;
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int len, ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);

	if (pub) {
		len = i2d_PUBKEY(pub, &der);
		ok = ok && len > 0 && EVP_DigestUpdate(md, der, (size_t)len);
		OPENSSL_free(der);
	} else {
		ok = ok &&
		     EVP_DigestUpdate(md, OTA_KEK_ID_LABEL,
				      strlen(OTA_KEK_ID_LABEL)) &&
		     EVP_DigestUpdate(md, kek, kek_len);
	}
	ok = ok && EVP_DigestFinal_ex(md, out, &n) && n == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : ota_error(OTA_EINTERNAL, "hashing a key id failed");
}

int ota_recipient_key_id(uint8_t out[32], const struct ota_recipient *r)
{
	return key_id_of(out, r->pub, r->kek, r->kek_len);
}

enum ota_wrap_scheme ota_recipient_scheme(const struct ota_recipient *r)
{
	return r->scheme;
}

unsigned ota_recipient_rsa_bits(const struct ota_recipient *r)
{
	return r->rsa_bits;
}

const char *ota_recipient_name(const struct ota_recipient *r)
{
	return r->name;
}

int ota_recipient_wrap(uint8_t out[OTA_WRAP_MAX], size_t *outlen,
		       const struct ota_recipient *r,
		       const struct ota_content_key *k)
{
	int rc;

	*outlen = 0;
	if (k->len != 16 && k->len != 32)
		return ota_error(OTA_EUSAGE, "content key of %zu bytes",
				 k->len);
	switch (r->scheme) {
	case OTA_WRAP_AES_KW:
		rc = cipher_kw_wrap(out, r->kek, r->kek_len, k->bytes, k->len);
		if (rc == 0)
			*outlen = k->len + 8;
		break;
	case OTA_WRAP_RSA_OAEP:
		rc = cipher_rsa_wrap(out, outlen, r->pub, k);
		break;
	default:
		rc = cipher_ecies_seal(out, outlen, r->scheme, r->pub, NULL, k);
		break;
	}
	if (rc)
		return ota_error_wrap(rc, "%s", r->name);
	return 0;
}

/* ---- Device keys ------------------------------------------------------- */

struct ota_decrypt_key {
	char *ref;
	enum kind kind;
	EVP_PKEY *pkey;             /* file keys */
	struct ota_pkcs11_key *p11; /* token keys, owned by the context */
	uint8_t kek[32];
	size_t kek_len;
	unsigned rsa_bits;
	char kind_name[16];
};

void ota_decrypt_key_free(struct ota_decrypt_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->ref);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

static int open_token_key(struct ota_decrypt_key *k,
			  const struct ota_key_opts *opts)
{
	int rc;

	if (!opts || !opts->pkcs11)
		return ota_error(OTA_EKEY,
				 "%s: PKCS#11 keys are not available here",
				 k->ref);
	if ((rc = ota_pkcs11_find_decrypt_key(&k->p11, opts->pkcs11, k->ref)))
		return rc;
	if (ota_pkcs11_key_type(k->p11) == OTA_PKCS11_KEY_EC) {
		k->kind = KIND_P256;
	} else {
		EVP_PKEY *pub = ota_pkcs11_key_public(k->p11);

		k->kind = KIND_RSA;
		/* Without a public half the modulus size is what CKM gives. */
		k->rsa_bits = pub ? (unsigned)EVP_PKEY_get_bits(pub) : 0;
	}
	return 0;
}

int ota_decrypt_key_open(struct ota_decrypt_key **out, const char *ref,
			 const struct ota_key_opts *opts)
{
	static const struct ota_key_opts none;
	struct ota_decrypt_key *k;
	int rc;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k || !(k->ref = strdup(ref))) {
		free(k);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	if (ota_pkcs11_is_uri(ref)) {
		rc = open_token_key(k, opts);
	} else if ((rc = read_kek(k->kek, &k->kek_len, ref)) == 1) {
		k->kind = KIND_KEK;
		rc = 0;
	} else if (rc == 0) {
		rc = ota_private_key_load(&k->pkey, ref, opts ? opts : &none,
					  "decryption");
		if (rc == 0)
			rc = classify(&k->kind, &k->rsa_bits, k->pkey, ref);
	} else {
		rc = ota_error_wrap(OTA_EKEY, "decryption key");
	}
	if (rc) {
		ota_decrypt_key_free(k);
		return rc;
	}
	switch (k->kind) {
	case KIND_P256:
		snprintf(k->kind_name, sizeof(k->kind_name), "P-256");
		break;
	case KIND_X25519:
		snprintf(k->kind_name, sizeof(k->kind_name), "X25519");
		break;
	case KIND_RSA:
		snprintf(k->kind_name, sizeof(k->kind_name), "RSA-%u",
			 k->rsa_bits);
		break;
	case KIND_KEK:
		snprintf(k->kind_name, sizeof(k->kind_name), "AES-KW-%zu",
			 k->kek_len * 8);
		break;
	}
	*out = k;
	return 0;
}

const char *ota_decrypt_key_kind(const struct ota_decrypt_key *k)
{
	return k->kind_name;
}

int ota_decrypt_key_id(uint8_t out[32], const struct ota_decrypt_key *k)
{
	EVP_PKEY *pub = k->pkey;

	if (k->kind == KIND_KEK)
		return key_id_of(out, NULL, k->kek, k->kek_len);
	if (!pub && k->p11)
		pub = ota_pkcs11_key_public(k->p11);
	if (!pub)
		return 1;
	return key_id_of(out, pub, NULL, 0);
}

bool ota_decrypt_key_accepts(const struct ota_decrypt_key *k,
			     enum ota_wrap_scheme s)
{
	return kind_accepts(k->kind, s);
}

static int unwrap_rsa(uint8_t key[32], size_t *got, struct ota_decrypt_key *k,
		      const uint8_t *payload, size_t len)
{
	if (k->p11)
		return ota_pkcs11_rsa_oaep_decrypt(key, got, 32, k->p11,
						   payload, len);
	return cipher_rsa_unwrap(key, got, 32, k->pkey, payload, len);
}

static int unwrap_ecies(struct ota_content_key *out, struct ota_decrypt_key *k,
			enum ota_wrap_scheme s, const uint8_t *payload,
			size_t len, size_t keylen)
{
	size_t publen = cipher_ecies_pub_len(s);
	EVP_PKEY *peer = NULL;
	uint8_t secret[32];
	int rc;

	/*
	 * The point is checked here for token keys too: a token that does not
	 * check it would leak its key to an invalid-curve attack.
	 */
	if ((rc = cipher_ecies_peer(&peer, s, payload, publen)) == 0) {
		rc = k->p11 ? ota_pkcs11_ecdh(secret, k->p11, payload, publen)
			    : cipher_ecdh(secret, k->pkey, peer);
		EVP_PKEY_free(peer);
	}
	if (rc == 0)
		rc = cipher_ecies_open(out, s, secret, payload, len, keylen);
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

int ota_unwrap(struct ota_content_key *out, struct ota_decrypt_key *k,
	       enum ota_wrap_scheme s, const uint8_t *payload, size_t len,
	       size_t keylen)
{
	const char *name = ota_wrap_scheme_name((unsigned)s);
	uint8_t key[32];
	size_t want, got = 0;
	int rc;

	ota_content_key_wipe(out);
	if (!name)
		return ota_error(OTA_EINPUT, "unknown key-wrap scheme 0x%02x",
				 (unsigned)s);
	if (keylen != 16 && keylen != 32)
		return ota_error(OTA_EUSAGE,
				 "an AES content key is 16 or 32 bytes, not "
				 "%zu",
				 keylen);
	if (!kind_accepts(k->kind, s))
		return ota_error(OTA_EKEY,
				 "%s: the key is wrapped with %s (TLV 0x%02x), "
				 "which needs %s; this is a %s key",
				 k->ref, name, (unsigned)s,
				 ota_wrap_scheme_key_type(s), k->kind_name);
	want = ota_wrap_len(s, keylen, k->rsa_bits);
	if (s == OTA_WRAP_RSA_OAEP && k->rsa_bits == 0)
		want = len; /* a token key without a public half: it checks */
	if (len != want)
		return ota_error(OTA_EINPUT,
				 "%s payload (TLV 0x%02x) of %zu bytes: with "
				 "an AES-%zu key and this %s key it is %zu",
				 name, (unsigned)s, len, keylen * 8,
				 k->kind_name, want);
	switch (s) {
	case OTA_WRAP_AES_KW:
		rc = cipher_kw_unwrap(key, k->kek, k->kek_len, payload, len);
		got = len - 8;
		break;
	case OTA_WRAP_RSA_OAEP:
		rc = unwrap_rsa(key, &got, k, payload, len);
		if (rc == 0 && got != keylen)
			rc = ota_error(OTA_EVERIFY,
				       "RSA-OAEP gave a %zu-byte key; the "
				       "image says AES-%zu",
				       got, keylen * 8);
		break;
	default:
		rc = unwrap_ecies(out, k, s, payload, len, keylen);
		return rc ? ota_error_wrap(rc, "%s", k->ref) : 0;
	}
	if (rc == 0)
		rc = ota_content_key_set(out, key, got);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc) {
		ota_content_key_wipe(out);
		return ota_error_wrap(rc, "%s", k->ref);
	}
	return 0;
}

/* ---- Generating key files ---------------------------------------------- */

static int generate_kek(const char *path, size_t len)
{
	uint8_t raw[32];
	char text[64];
	int n, rc;

	if (RAND_priv_bytes(raw, (int)len) != 1) {
		ERR_clear_error();
		return ota_error(OTA_EINTERNAL, "no random bytes for a key");
	}
	n = EVP_EncodeBlock((unsigned char *)text, raw, (int)len);
	text[n++] = '\n';
	rc = ota_output_write_file(path, text, (size_t)n, 0600,
				   OTA_OUTPUT_EXCLUSIVE);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

static int generate_x25519(char id[65], const char *private_path,
			   const char *public_path)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	BIO *priv = BIO_new(BIO_s_secmem()), *pub = BIO_new(BIO_s_mem());
	char *pdata = NULL, *udata = NULL;
	long plen, ulen;
	int rc;

	if (!pk || !priv || !pub ||
	    !PEM_write_bio_PrivateKey(priv, pk, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_PUBKEY(pub, pk)) {
		rc = ota_error(OTA_EINTERNAL, "cannot make an X25519 key");
		goto out;
	}
	plen = BIO_get_mem_data(priv, &pdata);
	ulen = BIO_get_mem_data(pub, &udata);
	if ((rc = ota_key_id_of(id, pk)) ||
	    (rc = ota_output_write_file(public_path, udata, (size_t)ulen, 0644,
					OTA_OUTPUT_EXCLUSIVE)))
		goto out;
	if ((rc = ota_output_write_file(private_path, pdata, (size_t)plen, 0600,
					OTA_OUTPUT_EXCLUSIVE)))
		unlink(public_path);
out:
	ERR_clear_error();
	BIO_free(priv); /* secure memory: cleansed on free */
	BIO_free(pub);
	EVP_PKEY_free(pk);
	return rc;
}

int ota_encrypt_key_generate_file(char id[65], const char *type,
				  const char *private_path,
				  const char *public_path)
{
	struct stat st;
	size_t kek = 0;

	id[0] = '\0';
	if (strcmp(type, "aes-kw-128") == 0)
		kek = 16;
	else if (strcmp(type, "aes-kw-256") == 0)
		kek = 32;
	else if (strcmp(type, "x25519") != 0)
		return ota_error(OTA_EUSAGE, "unknown key type \"%s\" (%s)",
				 type, OTA_ENCRYPT_KEY_TYPES);
	if (kek && public_path)
		return ota_error(OTA_EUSAGE,
				 "%s: an AES-KW key is one shared secret file, "
				 "it has no public half",
				 type);
	if (!kek && !public_path)
		return ota_error(OTA_EUSAGE,
				 "an X25519 key needs a public key file too");
	/* Check both first: never leave a private key without its public. */
	if (stat(private_path, &st) == 0 ||
	    (public_path && stat(public_path, &st) == 0))
		return ota_error(OTA_EOUTPUT,
				 "%s: already exists (refusing to overwrite a "
				 "key)",
				 stat(private_path, &st) == 0 ? private_path
							      : public_path);
	if (kek)
		return generate_kek(private_path, kek);
	return generate_x25519(id, private_path, public_path);
}
