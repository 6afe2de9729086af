/*
 * Internal to the pkcs11 module: the context, module, session, key and
 * request structs its files share, and the calls one file makes into another;
 * and, for the key and cipher modules, a token key's OpenSSL public half and
 * signing with it.
 */
#ifndef OTATOOL_PKCS11_PRIV_H
#define OTATOOL_PKCS11_PRIV_H

#include "otatool/pkcs11.h"
#include "otatool/secret.h"

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

/* ---- What the key and cipher modules use of a token key --------------- */

/* Borrowed public key, valid while the context lives. */
EVP_PKEY *ota_pkcs11_key_public(const struct ota_pkcs11_key *k);

enum ota_pkcs11_mech {
	OTA_PKCS11_ECDSA,     /* in: digest; out: DER ECDSA-Sig-Value */
	OTA_PKCS11_RSA_PKCS1, /* in: digest; DigestInfo added here */
	OTA_PKCS11_RSA_PSS,   /* in: digest; MGF1 same hash, salt = len */
	OTA_PKCS11_EDDSA,     /* in: the whole message (pure Ed25519) */
};

/*
 * Signs in with the key. For the digest mechanisms, hash_nid names the
 * digest (NID_sha256 or NID_sha384) and in is that digest. CKM_ECDSA's raw
 * r||s is returned DER-encoded, so every ECDSA signature otatool handles is
 * DER. *sig is malloc'ed, freed by the caller.
 */
int ota_pkcs11_sign(struct ota_pkcs11_key *k, enum ota_pkcs11_mech mech,
		    int hash_nid, const uint8_t *in, size_t inlen,
		    uint8_t **sig, size_t *siglen);

#define PIN_ENV "OTATOOL_PKCS11_PIN"

struct module {
	CK_FUNCTION_LIST *fl;
	char *name;  /* path or p11-kit name, for messages */
	bool own;    /* loaded by path: finalized and released alone */
	bool init;   /* C_Initialize succeeded */
	bool failed; /* C_Initialize failed: skip when searching all */
};

struct session {
	struct module *mod;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE h;
	CK_TOKEN_INFO info;
	char label[sizeof(((CK_TOKEN_INFO *)0)->label) + 1];
	bool logged_in; /* the session may use private objects */
	bool our_login; /* C_Logout on free */
	bool refused;   /* C_Login failed: never retried in this context */
	struct session *next;
};

struct ota_pkcs11_key {
	struct session *s;
	CK_OBJECT_HANDLE obj;
	enum ota_pkcs11_key_type type;
	size_t field_len; /* EC: bytes of r and of s */
	EVP_PKEY *pub;
	char *uri;
	struct ota_pkcs11_key *next;
};

struct ota_pkcs11 {
	char *module;
	bool allow_prompt;
	bool uri_from_argv;
	struct module **mods; /* every module loaded, by path or config */
	size_t nmods;
	CK_FUNCTION_LIST **config; /* p11_kit_modules_load(), once */
	bool config_loaded;
	struct session *sessions;
	struct ota_pkcs11_key *keys;
};

/* A parsed URI request: the URI without its pin-value, and that PIN. */
struct req {
	P11KitUri *uri;
	char *shown;
	struct ota_secret pin;
	bool has_pin;
};

struct token {
	struct module *mod;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO info;
};

enum curve { CURVE_NONE, CURVE_P256, CURVE_P384, CURVE_ED25519 };

/* ---- Tokens, sessions, login (pkcs11.c) -------------------------------- */

/* A blank-padded CK_UTF8CHAR field as a string, trailing blanks dropped. */
void pkcs11_padded(char *dst, const unsigned char *src, size_t n);
/* n bytes as 2n lower-case hex digits and a NUL. */
void pkcs11_hex(char *dst, const unsigned char *src, size_t n);
/*
 * The modules a URI asks to search (its module-path or module-name, the
 * context's module, or every configured one); *out is malloc'ed.
 */
int pkcs11_uri_modules(struct module ***out, size_t *n, struct ota_pkcs11 *p,
		       P11KitUri *uri);
/*
 * The initialized tokens in mods matching uri; seen (may be NULL) collects
 * the labels of every token looked at. *out is malloc'ed.
 */
int pkcs11_find_tokens(struct token **out, size_t *n, struct module **mods,
		       size_t nmods, P11KitUri *uri, char *seen,
		       size_t seen_size);
/* The context's one session on t's token, opened on first use. */
int pkcs11_open_session(struct session **out, struct ota_pkcs11 *p,
			const struct token *t);
/*
 * Appends sep and text to the string in buf; when they do not fit, ends buf
 * with "..." and returns -1.
 */
int pkcs11_append_text(char *buf, size_t size, const char *sep,
		       const char *text);
/* The objects on s matching tmpl; *out is malloc'ed. */
int pkcs11_find_objects(CK_OBJECT_HANDLE **out, size_t *n, struct session *s,
			CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl);
/*
 * Reads one attribute into a malloc'ed buffer (NUL-terminated for labels).
 * Returns the PKCS#11 value; absent or unavailable attributes are
 * CKR_ATTRIBUTE_TYPE_INVALID.
 */
CK_RV pkcs11_get_attr(unsigned char **val, size_t *len, struct session *s,
		      CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type);
CK_RV pkcs11_get_ulong(CK_ULONG *v, struct session *s, CK_OBJECT_HANDLE o,
		       CK_ATTRIBUTE_TYPE type);
CK_RV pkcs11_get_bool(CK_BBOOL *v, struct session *s, CK_OBJECT_HANDLE o,
		      CK_ATTRIBUTE_TYPE type);
/* "private-key", "public-key", "certificate", ... */
const char *pkcs11_class_name(CK_OBJECT_CLASS cls);
/*
 * The session on the one token a request is about; narrow drops tokens
 * that hold no object the URI names when several match.
 */
int pkcs11_pick_token(struct session **out, struct ota_pkcs11 *p, struct req *r,
		      bool narrow);
/* A PIN in r, its pin-source or the environment: no prompt needed. */
bool pkcs11_pin_given(const struct req *r);
/* Logs s's token in once, with the PIN from r, the environment or a prompt. */
int pkcs11_login(struct ota_pkcs11 *p, struct session *s, struct req *r);

/* ---- URIs (pkcs11_uri.c) ----------------------------------------------- */

/* r without its pin-value, which goes into r->pin; freed by req_free. */
int pkcs11_req_parse(struct req *r, struct ota_pkcs11 *p, const char *s);
void pkcs11_req_free(struct req *r);
/* malloc'ed; NULL when out of memory. */
char *pkcs11_object_uri(const CK_TOKEN_INFO *info, const void *label,
			size_t label_len, const void *id, size_t id_len,
			CK_OBJECT_CLASS cls, bool with_class, P11KitUri *from);

/* ---- Keys and signing (pkcs11_key.c) ----------------------------------- */

/*
 * Names the curve of a CKA_EC_PARAMS value in name; *c is CURVE_NONE when
 * otatool does not support it.
 */
void pkcs11_curve_of(enum curve *c, char *name, size_t size,
		     const unsigned char *der, size_t len);
/* Frees a key and its public half, not its session. Accepts NULL. */
void pkcs11_key_free(struct ota_pkcs11_key *k);
/*
 * The one private key uri names, logged in: session, handle and URI set,
 * nothing else; not yet the context's (the caller checks it for its use,
 * then links it into p->keys or frees it).
 */
int pkcs11_locate_key(struct ota_pkcs11_key **out, struct ota_pkcs11 *p,
		      const char *uri);
/*
 * The public half of private key priv: the public-key object with the same
 * CKA_ID (or label), else CKA_PUBLIC_KEY_INFO, else a certificate with the
 * same CKA_ID.
 */
int pkcs11_load_public(EVP_PKEY **out, struct session *s, CK_OBJECT_HANDLE priv,
		       enum ota_pkcs11_key_type type, enum curve c,
		       const char *uri);

#endif
