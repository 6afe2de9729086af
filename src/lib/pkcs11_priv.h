/*
 * Internal to the pkcs11 module: the context, module, session, key and
 * request structs its files share, and the calls one file makes into another.
 */
#ifndef OTATOOL_PKCS11_PRIV_H
#define OTATOOL_PKCS11_PRIV_H

#include "otatool/pkcs11.h"
#include "otatool/secret.h"

#include <stdbool.h>
#include <stddef.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

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

/* ---- URIs (pkcs11_uri.c) ----------------------------------------------- */

/* r without its pin-value, which goes into r->pin; freed by req_free. */
int pkcs11_req_parse(struct req *r, struct ota_pkcs11 *p, const char *s);
void pkcs11_req_free(struct req *r);
/* malloc'ed; NULL when out of memory. */
char *pkcs11_object_uri(const CK_TOKEN_INFO *info, const void *label,
			size_t label_len, const void *id, size_t id_len,
			CK_OBJECT_CLASS cls, bool with_class, P11KitUri *from);

#endif
