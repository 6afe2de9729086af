/*
 * Tokens and their key and certificate objects as JSON (keys list),
 * logging in only where a PIN is at hand and only on one token.
 */
#include "json_priv.h"
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static json_t *token_flags(CK_FLAGS f)
{
	static const struct {
		CK_FLAGS flag;
		const char *name;
	} names[] = {
		{ CKF_TOKEN_INITIALIZED, "token-initialized" },
		{ CKF_LOGIN_REQUIRED, "login-required" },
		{ CKF_USER_PIN_INITIALIZED, "user-pin-initialized" },
		{ CKF_PROTECTED_AUTHENTICATION_PATH, "protected-auth-path" },
		{ CKF_WRITE_PROTECTED, "write-protected" },
		{ CKF_RNG, "rng" },
		{ CKF_USER_PIN_COUNT_LOW, "user-pin-count-low" },
		{ CKF_USER_PIN_FINAL_TRY, "user-pin-final-try" },
		{ CKF_USER_PIN_LOCKED, "user-pin-locked" },
		{ CKF_USER_PIN_TO_BE_CHANGED, "user-pin-to-be-changed" },
		{ CKF_SO_PIN_LOCKED, "so-pin-locked" },
	};
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if ((f & names[i].flag) &&
		    json_array_append_new(a, json_string(names[i].name)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Adds a string member, turning bytes that are not UTF-8 into '?'. */
static int set_str(json_t *o, const char *key, const char *val, size_t len)
{
	json_t *v = json_stringn(val, len);
	char *copy;
	size_t i;

	if (v == NULL) {
		copy = malloc(len + 1);
		if (copy == NULL)
			return -1;
		for (i = 0; i < len; i++)
			copy[i] = (unsigned char)val[i] < 0x80 && val[i] != 0
				      ? val[i]
				      : '?';
		v = json_stringn(copy, len);
		free(copy);
	}
	return json_object_set_new(o, key, v);
}

static json_t *object_json(struct session *s, CK_OBJECT_HANDLE o,
			   CK_OBJECT_CLASS cls)
{
	json_t *j = json_object();
	unsigned char *label = NULL, *id = NULL, *params = NULL;
	size_t label_len = 0, id_len = 0, params_len = 0, nlen;
	char *idhex = NULL, *u = NULL, curve[96];
	unsigned char *n = NULL;
	CK_KEY_TYPE kt;
	CK_ULONG bits;
	enum curve c;
	bool ok = j != NULL;

	pkcs11_get_attr(&label, &label_len, s, o, CKA_LABEL);
	pkcs11_get_attr(&id, &id_len, s, o, CKA_ID);
	ok = ok && set_str(j, "class", pkcs11_class_name(cls),
			   strlen(pkcs11_class_name(cls))) == 0;
	if (ok && label != NULL)
		ok = set_str(j, "label", (char *)label, label_len) == 0;
	idhex = malloc(2 * id_len + 1);
	ok = ok && idhex != NULL;
	if (ok) {
		pkcs11_hex(idhex, id != NULL ? id : (unsigned char *)"",
			   id_len);
		ok = set_str(j, "id", idhex, strlen(idhex)) == 0;
	}
	if (ok && cls != CKO_CERTIFICATE &&
	    pkcs11_get_ulong(&kt, s, o, CKA_KEY_TYPE) == CKR_OK) {
		if (kt == CKK_RSA) {
			ok = set_str(j, "key_type", "rsa", 3) == 0;
			if (pkcs11_get_ulong(&bits, s, o, CKA_MODULUS_BITS) !=
			    CKR_OK)
				bits = pkcs11_get_attr(&n, &nlen, s, o,
						       CKA_MODULUS) == CKR_OK
					   ? 8 * nlen
					   : 0;
			if (ok && bits > 0)
				ok = json_object_set_new(
					 j, "bits",
					 json_integer((json_int_t)bits)) == 0;
		} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
			ok = set_str(j, "key_type",
				     kt == CKK_EC ? "ec" : "ec-edwards",
				     kt == CKK_EC ? 2 : 10) == 0;
			if (ok && pkcs11_get_attr(&params, &params_len, s, o,
						  CKA_EC_PARAMS) == CKR_OK) {
				pkcs11_curve_of(&c, curve, sizeof(curve),
						params, params_len);
				ok = set_str(j, "curve", curve,
					     strlen(curve)) == 0;
			}
		} else if (kt == CKK_AES) {
			ok = set_str(j, "key_type", "aes", 3) == 0;
		} else {
			char other[32];

			snprintf(other, sizeof(other), "0x%lx",
				 (unsigned long)kt);
			ok = set_str(j, "key_type", other, strlen(other)) == 0;
		}
	}
	u = pkcs11_object_uri(&s->info, label, label_len, id, id_len, cls, true,
			      NULL);
	ok = ok && u != NULL && set_str(j, "uri", u, strlen(u)) == 0;
	free(u);
	free(idhex);
	free(label);
	free(id);
	free(params);
	free(n);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int list_token(json_t *tokens, struct ota_pkcs11 *p, struct req *r,
		      const struct token *t, bool may_login)
{
	char buf[sizeof(t->info.manufacturerID) + 1], *u = NULL;
	CK_OBJECT_HANDLE *objs = NULL;
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs;
	struct session *s;
	json_t *j, *objects = NULL, *oj;
	size_t nobjs, i;
	bool logged_in, bad = false;
	int rc;

	j = json_object();
	if (j == NULL || json_array_append_new(tokens, j) < 0)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = pkcs11_open_session(&s, p, t);
	if (rc < 0)
		goto out;
	if (may_login && (t->info.flags & CKF_LOGIN_REQUIRED) &&
	    (pkcs11_pin_given(r) || p->allow_prompt)) {
		rc = pkcs11_login(p, s, r);
		if (rc < 0)
			goto out;
	}
	logged_in = s->logged_in || !(t->info.flags & CKF_LOGIN_REQUIRED);
	u = pkcs11_object_uri(&t->info, NULL, 0, NULL, 0, 0, false, NULL);
	if (u == NULL) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	bad |= json_object_set_new(j, "slot",
				   json_integer((json_int_t)t->slot)) < 0;
	pkcs11_padded(buf, t->info.label, sizeof(t->info.label));
	bad |= set_str(j, "label", buf, strlen(buf)) < 0;
	pkcs11_padded(buf, t->info.manufacturerID,
		      sizeof(t->info.manufacturerID));
	bad |= set_str(j, "manufacturer", buf, strlen(buf)) < 0;
	pkcs11_padded(buf, t->info.model, sizeof(t->info.model));
	bad |= set_str(j, "model", buf, strlen(buf)) < 0;
	pkcs11_padded(buf, t->info.serialNumber, sizeof(t->info.serialNumber));
	bad |= set_str(j, "serial", buf, strlen(buf)) < 0;
	bad |= json_object_set_new(j, "flags", token_flags(t->info.flags)) < 0;
	bad |= set_str(j, "module", t->mod->name, strlen(t->mod->name)) < 0;
	bad |= set_str(j, "uri", u, strlen(u)) < 0;
	bad |= json_object_set_new(j, "login", json_boolean(logged_in)) < 0;
	objects = json_array();
	bad |= json_object_set_new(j, "objects", objects) < 0;
	if (bad) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}

	attrs = p11_kit_uri_get_attributes(r->uri, &nattrs);
	rc = pkcs11_find_objects(&objs, &nobjs, s, attrs, nattrs);
	if (rc < 0)
		goto out;
	for (i = 0; i < nobjs; i++) {
		if (pkcs11_get_ulong(&cls, s, objs[i], CKA_CLASS) != CKR_OK)
			continue;
		if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY &&
		    cls != CKO_SECRET_KEY && cls != CKO_CERTIFICATE)
			continue;
		oj = object_json(s, objs[i], cls);
		if (oj == NULL || json_array_append_new(objects, oj) < 0) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
	}
out:
	free(objs);
	free(u);
	return rc;
}

int ota_pkcs11_list(char **out, size_t *len, struct ota_pkcs11 *p,
		    const char *uri)
{
	struct module **mods = NULL;
	struct token *toks = NULL;
	json_t *root = NULL, *tokens;
	size_t nmods, ntoks = 0, i;
	struct req r;
	int rc;

	*out = NULL;
	*len = 0;
	rc = pkcs11_req_parse(&r, p, uri != NULL ? uri : "pkcs11:");
	if (rc < 0)
		return rc;
	rc = pkcs11_uri_modules(&mods, &nmods, p, r.uri);
	if (rc == 0)
		rc = pkcs11_find_tokens(&toks, &ntoks, mods, nmods, r.uri, NULL,
					0);
	if (rc < 0)
		goto out;
	root = json_object();
	tokens = json_array();
	if (root == NULL || tokens == NULL ||
	    json_object_set_new(root, "tokens", tokens) < 0) {
		if (root == NULL)
			json_decref(tokens);
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	/*
	 * A PIN is tried on one token only: trying it on every token a loose
	 * URI matches would spend other tokens' retry counters.
	 */
	for (i = 0; i < ntoks; i++) {
		rc = list_token(tokens, p, &r, &toks[i], ntoks == 1);
		if (rc < 0)
			goto out;
	}
	rc = ota_json_canonical(out, len, root);
out:
	json_decref(root);
	free(toks);
	free(mods);
	pkcs11_req_free(&r);
	return rc;
}
