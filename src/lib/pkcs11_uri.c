/*
 * RFC 7512 PKCS#11 URIs: parsing a request (pin-value refused on argv and
 * wiped, query attributes told apart from path ones) and formatting the
 * URI of a token or object found.
 */
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

bool ota_pkcs11_is_uri(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

void pkcs11_req_free(struct req *r)
{
	p11_kit_uri_free(r->uri);
	free(r->shown);
	ota_secret_wipe(&r->pin);
	memset(r, 0, sizeof(*r));
}

/* Whether text holds "pin-value", so that it must not be echoed. */
static bool has_pin_value(const char *text)
{
	static const char needle[] = "pin-value";
	const char *t;

	for (t = text; t != NULL && *t != '\0'; t++)
		if (strncasecmp(t, needle, sizeof(needle) - 1) == 0)
			return true;
	return false;
}

/* "pkcs11:token=x;module-path=/m.so": the query attribute in the path. */
static bool query_attr_in_path(const char *s)
{
	const char *q = strchr(s, '?');
	size_t path_len = q ? (size_t)(q - s) : strlen(s);
	static const char *const names[] = { "module-path=", "module-name=",
					     "pin-source=", "pin-value=" };

	for (size_t i = 0; i < 4; i++) {
		const char *hit = strstr(s, names[i]);

		if (hit && (size_t)(hit - s) < path_len)
			return true;
	}
	return false;
}

/*
 * Parses a URI and takes its pin-value out of it, so that nothing formatted
 * from it afterwards can show the PIN.
 */
int pkcs11_req_parse(struct req *r, struct ota_pkcs11 *p, const char *s)
{
	const char *pin;
	/* s as messages show it: never with a PIN in it. */
	const char *given = has_pin_value(s) ? "(URI with pin-value not shown)"
			    : s != NULL      ? s
					     : "(null)";
	int rc;

	memset(r, 0, sizeof(*r));
	if (!ota_pkcs11_is_uri(s))
		return ota_error(OTA_EUSAGE,
				 "%s: not a PKCS#11 URI (\"pkcs11:...\")",
				 given);
	r->uri = p11_kit_uri_new();
	if (r->uri == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, r->uri);
	if (rc != P11_KIT_URI_OK) {
		rc = ota_error(OTA_EUSAGE, "%s: invalid PKCS#11 URI: %s", given,
			       p11_kit_uri_message(rc));
		goto out;
	}
	pin = p11_kit_uri_get_pin_value(r->uri);
	if (pin != NULL) {
		size_t len = strlen(pin);

		if (p->uri_from_argv)
			rc = ota_error(OTA_EUSAGE,
				       "refusing pin-value in a PKCS#11 URI "
				       "given on the command line (it shows "
				       "in ps and in shell history); use "
				       "pin-source=FILE in the URI or set "
				       "%s",
				       PIN_ENV);
		else if (len > OTA_SECRET_MAX)
			rc = ota_error(OTA_EUSAGE,
				       "pin-value in a PKCS#11 URI is longer "
				       "than %d bytes",
				       OTA_SECRET_MAX);
		if (rc == 0) {
			memcpy(r->pin.value, pin, len + 1);
			r->pin.len = len;
			r->has_pin = true;
		}
		/* The string is p11-kit's heap copy; wipe it before free. */
		OPENSSL_cleanse((char *)pin, len);
		p11_kit_uri_set_pin_value(r->uri, NULL);
		if (rc < 0)
			goto out;
	}
	if (p11_kit_uri_any_unrecognized(r->uri)) {
		rc = ota_error(OTA_EUSAGE,
			       "%s: unknown attribute in PKCS#11 URI (RFC "
			       "7512 knows token, manufacturer, model, "
			       "serial, object, id, type, ...%s)",
			       given,
			       query_attr_in_path(s)
				   ? "; module-path, module-name and "
				     "pin-source are query attributes: "
				     "put them after '?'"
				   : "");
		goto out;
	}
	if (p11_kit_uri_format(r->uri, P11_KIT_URI_FOR_ANY, &r->shown) !=
	    P11_KIT_URI_OK) {
		rc = ota_error(OTA_EINTERNAL, "cannot format a PKCS#11 URI");
		goto out;
	}
out:
	if (rc < 0)
		pkcs11_req_free(r);
	return rc;
}

/*
 * The URI of an object (or of the token when label and id are absent),
 * with the module-path and module-name of from when it is given.
 */
char *pkcs11_object_uri(const CK_TOKEN_INFO *info, const void *label,
			size_t label_len, const void *id, size_t id_len,
			CK_OBJECT_CLASS cls, bool with_class, P11KitUri *from)
{
	P11KitUri *u = p11_kit_uri_new();
	CK_ATTRIBUTE a;
	char *s = NULL;

	if (u == NULL)
		return NULL;
	memcpy(p11_kit_uri_get_token_info(u), info, sizeof(*info));
	if (from != NULL) {
		p11_kit_uri_set_module_path(u,
					    p11_kit_uri_get_module_path(from));
		p11_kit_uri_set_module_name(u,
					    p11_kit_uri_get_module_name(from));
	}
	if (label != NULL) {
		a.type = CKA_LABEL;
		a.pValue = (void *)label;
		a.ulValueLen = label_len;
		p11_kit_uri_set_attribute(u, &a);
	}
	if (id != NULL && id_len > 0) {
		a.type = CKA_ID;
		a.pValue = (void *)id;
		a.ulValueLen = id_len;
		p11_kit_uri_set_attribute(u, &a);
	}
	if (with_class) {
		a.type = CKA_CLASS;
		a.pValue = &cls;
		a.ulValueLen = sizeof(cls);
		p11_kit_uri_set_attribute(u, &a);
	}
	if (p11_kit_uri_format(u, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &s) !=
	    P11_KIT_URI_OK)
		s = NULL;
	p11_kit_uri_free(u);
	return s;
}
