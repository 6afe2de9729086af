/*
 * The PKCS#11 context: modules loaded through p11-kit (by path, by name or
 * every configured one), the token a URI names, one session and one login
 * per token with the PIN from its source, and the object and attribute
 * reads the other pkcs11_*.c files share. Everything past p11-kit's
 * loading and URI parsing is plain Cryptoki C_* calls.
 */
#include "pkcs11_priv.h"

#include "otatool/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

const char *ota_pkcs11_rv_name(unsigned long rv)
{
	static _Thread_local char unknown[32];
	static const struct {
		unsigned long rv;
		const char *name;
	} names[] = {
#define RV(x) { x, #x }
		RV(CKR_OK),
		RV(CKR_CANCEL),
		RV(CKR_HOST_MEMORY),
		RV(CKR_SLOT_ID_INVALID),
		RV(CKR_GENERAL_ERROR),
		RV(CKR_FUNCTION_FAILED),
		RV(CKR_ARGUMENTS_BAD),
		RV(CKR_NO_EVENT),
		RV(CKR_NEED_TO_CREATE_THREADS),
		RV(CKR_CANT_LOCK),
		RV(CKR_ATTRIBUTE_READ_ONLY),
		RV(CKR_ATTRIBUTE_SENSITIVE),
		RV(CKR_ATTRIBUTE_TYPE_INVALID),
		RV(CKR_ATTRIBUTE_VALUE_INVALID),
		RV(CKR_ACTION_PROHIBITED),
		RV(CKR_DATA_INVALID),
		RV(CKR_DATA_LEN_RANGE),
		RV(CKR_DEVICE_ERROR),
		RV(CKR_DEVICE_MEMORY),
		RV(CKR_DEVICE_REMOVED),
		RV(CKR_ENCRYPTED_DATA_INVALID),
		RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
		RV(CKR_FUNCTION_CANCELED),
		RV(CKR_FUNCTION_NOT_PARALLEL),
		RV(CKR_FUNCTION_NOT_SUPPORTED),
		RV(CKR_KEY_HANDLE_INVALID),
		RV(CKR_KEY_SIZE_RANGE),
		RV(CKR_KEY_TYPE_INCONSISTENT),
		RV(CKR_KEY_NOT_NEEDED),
		RV(CKR_KEY_CHANGED),
		RV(CKR_KEY_NEEDED),
		RV(CKR_KEY_INDIGESTIBLE),
		RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
		RV(CKR_KEY_NOT_WRAPPABLE),
		RV(CKR_KEY_UNEXTRACTABLE),
		RV(CKR_MECHANISM_INVALID),
		RV(CKR_MECHANISM_PARAM_INVALID),
		RV(CKR_OBJECT_HANDLE_INVALID),
		RV(CKR_OPERATION_ACTIVE),
		RV(CKR_OPERATION_NOT_INITIALIZED),
		RV(CKR_PIN_INCORRECT),
		RV(CKR_PIN_INVALID),
		RV(CKR_PIN_LEN_RANGE),
		RV(CKR_PIN_EXPIRED),
		RV(CKR_PIN_LOCKED),
		RV(CKR_SESSION_CLOSED),
		RV(CKR_SESSION_COUNT),
		RV(CKR_SESSION_HANDLE_INVALID),
		RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
		RV(CKR_SESSION_READ_ONLY),
		RV(CKR_SESSION_EXISTS),
		RV(CKR_SESSION_READ_ONLY_EXISTS),
		RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
		RV(CKR_SIGNATURE_INVALID),
		RV(CKR_SIGNATURE_LEN_RANGE),
		RV(CKR_TEMPLATE_INCOMPLETE),
		RV(CKR_TEMPLATE_INCONSISTENT),
		RV(CKR_TOKEN_NOT_PRESENT),
		RV(CKR_TOKEN_NOT_RECOGNIZED),
		RV(CKR_TOKEN_WRITE_PROTECTED),
		RV(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
		RV(CKR_UNWRAPPING_KEY_SIZE_RANGE),
		RV(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
		RV(CKR_USER_ALREADY_LOGGED_IN),
		RV(CKR_USER_NOT_LOGGED_IN),
		RV(CKR_USER_PIN_NOT_INITIALIZED),
		RV(CKR_USER_TYPE_INVALID),
		RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
		RV(CKR_USER_TOO_MANY_TYPES),
		RV(CKR_WRAPPED_KEY_INVALID),
		RV(CKR_WRAPPED_KEY_LEN_RANGE),
		RV(CKR_WRAPPING_KEY_HANDLE_INVALID),
		RV(CKR_WRAPPING_KEY_SIZE_RANGE),
		RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
		RV(CKR_RANDOM_SEED_NOT_SUPPORTED),
		RV(CKR_RANDOM_NO_RNG),
		RV(CKR_DOMAIN_PARAMS_INVALID),
		RV(CKR_CURVE_NOT_SUPPORTED),
		RV(CKR_BUFFER_TOO_SMALL),
		RV(CKR_SAVED_STATE_INVALID),
		RV(CKR_INFORMATION_SENSITIVE),
		RV(CKR_STATE_UNSAVEABLE),
		RV(CKR_CRYPTOKI_NOT_INITIALIZED),
		RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
		RV(CKR_MUTEX_BAD),
		RV(CKR_MUTEX_NOT_LOCKED),
		RV(CKR_FUNCTION_REJECTED),
		RV(CKR_VENDOR_DEFINED),
#undef RV
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	snprintf(unknown, sizeof(unknown), "CKR_0x%08lx", rv);
	return unknown;
}

/* Copies a blank-padded CK_UTF8CHAR field, trailing blanks dropped. */
void pkcs11_padded(char *dst, const unsigned char *src, size_t n)
{
	size_t len = 0;

	while (len < n && src[len] != '\0')
		len++;
	while (len > 0 && src[len - 1] == ' ')
		len--;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void pkcs11_hex(char *dst, const unsigned char *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

/* ---- Modules ----------------------------------------------------------- */

static int add_module(struct module **out, struct ota_pkcs11 *p,
		      CK_FUNCTION_LIST *fl, const char *name, bool own)
{
	struct module **mods, *m;

	*out = NULL;
	mods = realloc(p->mods, (p->nmods + 1) * sizeof(*mods));
	if (mods == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	p->mods = mods;
	m = calloc(1, sizeof(*m));
	if (m == NULL || (m->name = strdup(name)) == NULL) {
		free(m);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	m->fl = fl;
	m->own = own;
	p->mods[p->nmods++] = m;
	*out = m;
	return 0;
}

static int module_init(struct module *m)
{
	CK_RV rv;

	if (m->init)
		return 0;
	rv = p11_kit_module_initialize(m->fl);
	if (rv != CKR_OK) {
		m->failed = true;
		return ota_error(OTA_EKEY, "%s: C_Initialize: %s", m->name,
				 ota_pkcs11_rv_name(rv));
	}
	m->init = true;
	return 0;
}

/*
 * Loads a module by file name. p11-kit takes a relative path as relative to
 * its own module directory; a path with a slash means the file system.
 */
static int module_by_path(struct module **out, struct ota_pkcs11 *p,
			  const char *path)
{
	CK_FUNCTION_LIST *fl;
	char *abs = NULL;
	const char *load = path, *why;
	struct stat st;
	size_t i;
	int rc;

	*out = NULL;
	for (i = 0; i < p->nmods; i++)
		if (p->mods[i]->own && strcmp(p->mods[i]->name, path) == 0) {
			*out = p->mods[i];
			return p->mods[i]->init ? 0 : module_init(p->mods[i]);
		}
	if (strchr(path, '/') != NULL) {
		if (stat(path, &st) < 0)
			return ota_error(OTA_EKEY,
					 "%s: cannot load PKCS#11 module: %s",
					 path, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return ota_error(OTA_EKEY,
					 "%s: not a PKCS#11 module: not a "
					 "regular file",
					 path);
		if (path[0] != '/') {
			abs = realpath(path, NULL);
			if (abs == NULL)
				return ota_error(OTA_EKEY, "%s: %s", path,
						 strerror(errno));
			load = abs;
		}
	}
	fl = p11_kit_module_load(load, 0);
	free(abs);
	if (fl == NULL) {
		why = p11_kit_message();
		if (why == NULL || why[0] == '\0')
			why = "p11-kit cannot load it";
		/* A bare name that p11-kit did not find in its directory. */
		if (strstr(why, "No such file") != NULL)
			return ota_error(OTA_EKEY,
					 "%s: cannot load PKCS#11 module: %s",
					 path, why);
		if (strstr(why, "C_GetFunctionList") != NULL)
			why = "the library has no C_GetFunctionList";
		return ota_error(OTA_EKEY, "%s: not a PKCS#11 module: %s", path,
				 why);
	}
	rc = add_module(out, p, fl, path, true);
	if (rc < 0) {
		p11_kit_module_release(fl);
		return rc;
	}
	return module_init(*out);
}

/* The modules p11-kit is configured with, loaded once, not initialized. */
static int config_modules(struct ota_pkcs11 *p)
{
	struct module *m;
	char *name;
	size_t i;
	int rc;

	if (p->config_loaded)
		return 0;
	p->config = p11_kit_modules_load(NULL, 0);
	if (p->config == NULL)
		return ota_error(OTA_EKEY,
				 "cannot load the configured PKCS#11 modules: "
				 "%s",
				 p11_kit_message() != NULL ? p11_kit_message()
							   : "p11-kit failed");
	p->config_loaded = true;
	for (i = 0; p->config[i] != NULL; i++) {
		name = p11_kit_module_get_name(p->config[i]);
		if (name == NULL)
			name = p11_kit_module_get_filename(p->config[i]);
		rc = add_module(&m, p, p->config[i],
				name != NULL ? name : "(unnamed)", false);
		free(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * The modules a URI asks to search: its module-path, its module-name, the
 * context's module, or every configured one (those that fail to initialize
 * are skipped). *out is malloc'ed; the modules belong to the context.
 */
int pkcs11_uri_modules(struct module ***out, size_t *n, struct ota_pkcs11 *p,
		       P11KitUri *uri)
{
	const char *path = p11_kit_uri_get_module_path(uri);
	const char *name = p11_kit_uri_get_module_name(uri);
	struct module **list, *m = NULL;
	size_t i, k = 0;
	char *mname;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (path == NULL && name == NULL)
		path = p->module;
	if (path != NULL) {
		rc = module_by_path(&m, p, path);
	} else if (name != NULL) {
		rc = config_modules(p);
		for (i = 0; rc == 0 && i < p->nmods && m == NULL; i++) {
			if (p->mods[i]->own)
				continue;
			mname = p11_kit_module_get_name(p->mods[i]->fl);
			if (mname != NULL && strcmp(mname, name) == 0)
				m = p->mods[i];
			free(mname);
		}
		if (rc == 0 && m == NULL)
			rc = ota_error(OTA_EKEY,
				       "no configured PKCS#11 module is named "
				       "'%s' (see p11-kit list-modules)",
				       name);
		if (rc == 0)
			rc = module_init(m);
	}
	if (rc < 0)
		return rc;
	if (m != NULL) {
		list = malloc(sizeof(*list));
		if (list == NULL)
			return ota_error(OTA_EINTERNAL, "out of memory");
		list[0] = m;
		*out = list;
		*n = 1;
		return 0;
	}

	rc = config_modules(p);
	if (rc < 0)
		return rc;
	list = calloc(p->nmods + 1, sizeof(*list));
	if (list == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (i = 0; i < p->nmods; i++) {
		if (p->mods[i]->own || p->mods[i]->failed)
			continue;
		if (module_init(p->mods[i]) == 0)
			list[k++] = p->mods[i];
	}
	ota_error_clear();
	if (k == 0) {
		free(list);
		return ota_error(OTA_EKEY,
				 "no usable PKCS#11 module: none is configured "
				 "in p11-kit or all failed to initialize; "
				 "name one with --pkcs11-module or "
				 "module-path= in the URI");
	}
	*out = list;
	*n = k;
	return 0;
}

/* ---- Tokens and sessions ----------------------------------------------- */

int pkcs11_append_text(char *buf, size_t size, const char *sep,
		       const char *text)
{
	size_t used = strlen(buf);

	if (used + strlen(sep) + strlen(text) + 4 >= size) {
		if (used + 4 < size &&
		    strcmp(buf + (used > 3 ? used - 3 : 0), "...") != 0)
			strcat(buf, "...");
		return -1;
	}
	if (used > 0)
		strcat(buf, sep);
	strcat(buf, text);
	return 0;
}

/*
 * Every initialized token in mods whose module, slot and token match uri.
 * seen collects the labels of all tokens looked at, for "no token" errors.
 */
int pkcs11_find_tokens(struct token **out, size_t *n, struct module **mods,
		       size_t nmods, P11KitUri *uri, char *seen,
		       size_t seen_size)
{
	struct token *list = NULL, *grown;
	CK_SLOT_ID *slots = NULL, want = p11_kit_uri_get_slot_id(uri);
	CK_ULONG nslots, j;
	CK_SLOT_INFO si;
	CK_INFO mi;
	CK_TOKEN_INFO ti;
	char label[sizeof(ti.label) + 3];
	size_t i, k = 0;
	CK_RV rv;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nmods; i++) {
		CK_FUNCTION_LIST *fl = mods[i]->fl;

		if (fl->C_GetInfo(&mi) != CKR_OK ||
		    !p11_kit_uri_match_module_info(uri, &mi))
			continue;
		/* Asked twice: how many slots, then which. */
		rv = fl->C_GetSlotList(CK_TRUE, NULL, &nslots);
		if (rv == CKR_OK) {
			free(slots);
			slots = calloc(nslots + 1, sizeof(*slots));
			if (slots == NULL) {
				rc = ota_error(OTA_EINTERNAL, "out of memory");
				goto out;
			}
			rv = fl->C_GetSlotList(CK_TRUE, slots, &nslots);
		}
		if (rv != CKR_OK) {
			rc = ota_error(OTA_EKEY, "%s: C_GetSlotList: %s",
				       mods[i]->name, ota_pkcs11_rv_name(rv));
			goto out;
		}
		for (j = 0; j < nslots; j++) {
			if (want != (CK_SLOT_ID)-1 && want != slots[j])
				continue;
			if (fl->C_GetSlotInfo(slots[j], &si) != CKR_OK ||
			    !p11_kit_uri_match_slot_info(uri, &si))
				continue;
			if (fl->C_GetTokenInfo(slots[j], &ti) != CKR_OK ||
			    !(ti.flags & CKF_TOKEN_INITIALIZED))
				continue;
			label[0] = '\'';
			pkcs11_padded(label + 1, ti.label, sizeof(ti.label));
			strcat(label, "'");
			if (seen != NULL)
				pkcs11_append_text(seen, seen_size, ", ",
						   label);
			if (!p11_kit_uri_match_token_info(uri, &ti))
				continue;
			grown = realloc(list, (k + 1) * sizeof(*list));
			if (grown == NULL) {
				rc = ota_error(OTA_EINTERNAL, "out of memory");
				goto out;
			}
			list = grown;
			list[k].mod = mods[i];
			list[k].slot = slots[j];
			list[k].info = ti;
			k++;
		}
	}
out:
	free(slots);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*out = list;
	*n = k;
	return 0;
}

int pkcs11_open_session(struct session **out, struct ota_pkcs11 *p,
			const struct token *t)
{
	CK_FUNCTION_LIST *fl = t->mod->fl;
	struct session *s;
	CK_RV rv;
	int rc;

	*out = NULL;
	for (s = p->sessions; s != NULL; s = s->next)
		if (s->mod == t->mod && s->slot == t->slot) {
			*out = s;
			return 0;
		}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	s->mod = t->mod;
	s->slot = t->slot;
	s->info = t->info;
	pkcs11_padded(s->label, t->info.label, sizeof(t->info.label));
	rv = fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
			       NULL, NULL, &s->h);
	if (rv == CKR_TOKEN_WRITE_PROTECTED)
		rv = fl->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL,
				       &s->h);
	if (rv != CKR_OK) {
		rc = ota_error(OTA_EKEY, "token '%s' (%s): C_OpenSession: %s",
			       s->label, t->mod->name, ota_pkcs11_rv_name(rv));
		free(s);
		return rc;
	}
	s->next = p->sessions;
	p->sessions = s;
	*out = s;
	return 0;
}

int pkcs11_find_objects(CK_OBJECT_HANDLE **out, size_t *n, struct session *s,
			CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl)
{
	CK_FUNCTION_LIST *fl = s->mod->fl;
	CK_OBJECT_HANDLE chunk[64], *list = NULL, *grown;
	CK_ULONG got;
	size_t k = 0;
	CK_RV rv;
	int rc = 0;

	*out = NULL;
	*n = 0;
	rv = fl->C_FindObjectsInit(s->h, tmpl, ntmpl);
	if (rv != CKR_OK)
		return ota_error(OTA_EKEY, "token '%s': C_FindObjectsInit: %s",
				 s->label, ota_pkcs11_rv_name(rv));
	for (;;) {
		rv = fl->C_FindObjects(s->h, chunk, 64, &got);
		if (rv != CKR_OK) {
			rc =
			    ota_error(OTA_EKEY, "token '%s': C_FindObjects: %s",
				      s->label, ota_pkcs11_rv_name(rv));
			goto out;
		}
		if (got == 0)
			break;
		grown = realloc(list, (k + got) * sizeof(*list));
		if (grown == NULL) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		list = grown;
		memcpy(list + k, chunk, got * sizeof(*list));
		k += got;
	}
out:
	fl->C_FindObjectsFinal(s->h);
	if (rc < 0) {
		free(list);
		return rc;
	}
	*out = list;
	*n = k;
	return 0;
}

/*
 * Reads one attribute into a malloc'ed buffer (NUL-terminated for labels).
 * Returns the PKCS#11 value; absent or unavailable attributes are
 * CKR_ATTRIBUTE_TYPE_INVALID.
 */
CK_RV pkcs11_get_attr(unsigned char **val, size_t *len, struct session *s,
		      CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = s->mod->fl->C_GetAttributeValue(s->h, o, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > 1 << 20)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	a.pValue = calloc(1, a.ulValueLen + 1);
	if (a.pValue == NULL)
		return CKR_HOST_MEMORY;
	rv = s->mod->fl->C_GetAttributeValue(s->h, o, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

CK_RV pkcs11_get_ulong(CK_ULONG *v, struct session *s, CK_OBJECT_HANDLE o,
		       CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE a = { type, v, sizeof(*v) };

	return s->mod->fl->C_GetAttributeValue(s->h, o, &a, 1);
}

CK_RV pkcs11_get_bool(CK_BBOOL *v, struct session *s, CK_OBJECT_HANDLE o,
		      CK_ATTRIBUTE_TYPE type)
{
	CK_ATTRIBUTE a = { type, v, sizeof(*v) };

	return s->mod->fl->C_GetAttributeValue(s->h, o, &a, 1);
}

const char *pkcs11_class_name(CK_OBJECT_CLASS cls)
{
	switch (cls) {
	case CKO_PRIVATE_KEY:
		return "private-key";
	case CKO_PUBLIC_KEY:
		return "public-key";
	case CKO_SECRET_KEY:
		return "secret-key";
	case CKO_CERTIFICATE:
		return "certificate";
	case CKO_DATA:
		return "data";
	default:
		return "other";
	}
}

/*
 * The one token a request is about. When several match and narrow is set,
 * tokens holding no object that the URI names (visible without login) are
 * dropped; more than one left is an error listing them.
 */
int pkcs11_pick_token(struct session **out, struct ota_pkcs11 *p, struct req *r,
		      bool narrow)
{
	struct module **mods = NULL;
	struct token *toks = NULL;
	struct session *s, *found = NULL;
	CK_OBJECT_HANDLE *objs;
	CK_ATTRIBUTE *attrs;
	CK_ULONG nattrs;
	size_t nmods, ntoks, nobjs, i, hits = 0;
	char seen[512] = "", names[640] = "", *u;
	int rc;

	*out = NULL;
	rc = pkcs11_uri_modules(&mods, &nmods, p, r->uri);
	if (rc < 0)
		return rc;
	rc = pkcs11_find_tokens(&toks, &ntoks, mods, nmods, r->uri, seen,
				sizeof(seen));
	if (rc < 0)
		goto out;
	if (ntoks == 0) {
		for (i = 0; i < nmods; i++)
			pkcs11_append_text(names, sizeof(names), ", ",
					   mods[i]->name);
		rc = ota_error(OTA_EKEY,
			       "%s: no token matches (searched module%s %s; "
			       "tokens present: %s)",
			       r->shown, nmods > 1 ? "s" : "", names,
			       seen[0] != '\0' ? seen : "none");
		goto out;
	}
	if (ntoks == 1) {
		rc = pkcs11_open_session(out, p, &toks[0]);
		goto out;
	}
	attrs = p11_kit_uri_get_attributes(r->uri, &nattrs);
	for (i = 0; narrow && nattrs > 0 && i < ntoks; i++) {
		rc = pkcs11_open_session(&s, p, &toks[i]);
		if (rc < 0)
			goto out;
		rc = pkcs11_find_objects(&objs, &nobjs, s, attrs, nattrs);
		free(objs);
		if (rc < 0)
			goto out;
		if (nobjs > 0) {
			found = s;
			hits++;
		}
	}
	if (hits == 1) {
		*out = found;
		goto out;
	}
	for (i = 0; i < ntoks; i++) {
		u = pkcs11_object_uri(&toks[i].info, NULL, 0, NULL, 0, 0, false,
				      NULL);
		pkcs11_append_text(names, sizeof(names), ", ",
				   u != NULL ? u : "(token)");
		free(u);
	}
	rc = ota_error(OTA_EKEY,
		       "%s: %zu tokens match (%s); name one with token= or "
		       "serial= in the URI",
		       r->shown, ntoks, names);
out:
	free(toks);
	free(mods);
	return rc;
}

/* ---- Login ------------------------------------------------------------- */

static int login_error(struct session *s, CK_RV rv)
{
	CK_FUNCTION_LIST *fl = s->mod->fl;
	CK_TOKEN_INFO ti;
	const char *hint = "";

	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
		if (fl->C_GetTokenInfo(s->slot, &ti) == CKR_OK) {
			if (ti.flags & CKF_USER_PIN_FINAL_TRY)
				hint = "; one more wrong PIN locks the token";
			else if (ti.flags & CKF_USER_PIN_COUNT_LOW)
				hint = "; few tries are left";
		}
		return ota_error(OTA_EKEY,
				 "token '%s': C_Login: %s: wrong PIN%s",
				 s->label, ota_pkcs11_rv_name(rv), hint);
	case CKR_PIN_LOCKED:
		return ota_error(OTA_EKEY,
				 "token '%s': C_Login: CKR_PIN_LOCKED: the "
				 "user PIN is locked; unlock it with the SO "
				 "PIN",
				 s->label);
	case CKR_PIN_LEN_RANGE:
		return ota_error(OTA_EKEY,
				 "token '%s': C_Login: CKR_PIN_LEN_RANGE: the "
				 "PIN must be %lu to %lu characters",
				 s->label, (unsigned long)s->info.ulMinPinLen,
				 (unsigned long)s->info.ulMaxPinLen);
	case CKR_USER_PIN_NOT_INITIALIZED:
		return ota_error(OTA_EKEY,
				 "token '%s': C_Login: "
				 "CKR_USER_PIN_NOT_INITIALIZED: the user PIN "
				 "was never set; initialize it with the SO PIN",
				 s->label);
	default:
		return ota_error(OTA_EKEY, "token '%s': C_Login: %s", s->label,
				 ota_pkcs11_rv_name(rv));
	}
}

/*
 * Whether r gives a PIN without asking anyone: the URI's pin-value or
 * pin-source, or OTATOOL_PKCS11_PIN set and not empty.
 */
bool pkcs11_pin_given(const struct req *r)
{
	const char *env = getenv(PIN_ENV);

	return r->has_pin || p11_kit_uri_get_pin_source(r->uri) != NULL ||
	       (env != NULL && env[0] != '\0');
}

/*
 * Logs the session's token in once. The PIN comes from the URI (pin-value
 * when allowed, pin-source), OTATOOL_PKCS11_PIN or a prompt, and is wiped
 * as soon as C_Login returns.
 */
int pkcs11_login(struct ota_pkcs11 *p, struct session *s, struct req *r)
{
	CK_FUNCTION_LIST *fl = s->mod->fl;
	const char *source = p11_kit_uri_get_pin_source(r->uri);
	struct ota_secret pin;
	char what[96], prompt[96];
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int rc = 0;

	memset(&pin, 0, sizeof(pin));
	if (s->logged_in)
		return 0;
	/* A batch of signatures must not spend the token's PIN retries. */
	if (s->refused)
		return ota_error(OTA_EKEY,
				 "token '%s': not logging in again after a "
				 "failed login",
				 s->label);
	rv = fl->C_GetTokenInfo(s->slot, &ti);
	if (rv != CKR_OK)
		return ota_error(OTA_EKEY, "token '%s': C_GetTokenInfo: %s",
				 s->label, ota_pkcs11_rv_name(rv));
	s->info = ti;
	if (!(ti.flags & CKF_LOGIN_REQUIRED)) {
		s->logged_in = true;
		return 0;
	}
	if (ti.flags & CKF_USER_PIN_LOCKED)
		return ota_error(OTA_EKEY,
				 "token '%s': the user PIN is locked "
				 "(CKF_USER_PIN_LOCKED); not trying to log "
				 "in; unlock it with the SO PIN",
				 s->label);
	if (!(ti.flags & CKF_USER_PIN_INITIALIZED))
		return ota_error(OTA_EKEY,
				 "token '%s': the user PIN was never set "
				 "(CKF_USER_PIN_INITIALIZED is off); "
				 "initialize it with the SO PIN",
				 s->label);

	if ((ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) &&
	    !pkcs11_pin_given(r)) {
		/* PIN pad or biometrics: the token asks for itself. */
		rv = fl->C_Login(s->h, CKU_USER, NULL, 0);
	} else {
		if (r->has_pin) {
			/* One login per request: the URI's copy goes now. */
			pin = r->pin;
			ota_secret_wipe(&r->pin);
		} else {
			snprintf(what, sizeof(what), "PIN for token '%s'",
				 s->label);
			snprintf(prompt, sizeof(prompt),
				 "PIN for token '%s': ", s->label);
			rc = ota_secret_get(&pin, what, source, PIN_ENV,
					    p->allow_prompt ? prompt : NULL);
			if (rc < 0)
				goto out;
		}
		rv = fl->C_Login(s->h, CKU_USER, (CK_UTF8CHAR *)pin.value,
				 pin.len);
		ota_secret_wipe(&pin);
	}
	if (rv == CKR_OK) {
		s->our_login = true;
	} else if (rv != CKR_USER_ALREADY_LOGGED_IN) {
		s->refused = true;
		rc = login_error(s, rv);
		goto out;
	}
	s->logged_in = true;
out:
	ota_secret_wipe(&pin);
	return rc;
}

/* ---- Context ----------------------------------------------------------- */

int ota_pkcs11_new(struct ota_pkcs11 **out, const struct ota_pkcs11_opts *o)
{
	struct ota_pkcs11 *p;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	if (o != NULL) {
		p->allow_prompt = o->allow_prompt;
		p->uri_from_argv = o->uri_from_argv;
		if (o->module != NULL && o->module[0] != '\0') {
			p->module = strdup(o->module);
			if (p->module == NULL) {
				free(p);
				return ota_error(OTA_EINTERNAL,
						 "out of memory");
			}
		}
	}
	*out = p;
	return 0;
}

void ota_pkcs11_free(struct ota_pkcs11 *p)
{
	struct ota_pkcs11_key *k, *kn;
	struct session *s, *sn;
	size_t i;

	if (p == NULL)
		return;
	for (k = p->keys; k != NULL; k = kn) {
		kn = k->next;
		pkcs11_key_free(k);
	}
	for (s = p->sessions; s != NULL; s = sn) {
		sn = s->next;
		if (s->our_login)
			s->mod->fl->C_Logout(s->h);
		s->mod->fl->C_CloseSession(s->h);
		free(s);
	}
	for (i = 0; i < p->nmods; i++) {
		if (p->mods[i]->init)
			p11_kit_module_finalize(p->mods[i]->fl);
		if (p->mods[i]->own)
			p11_kit_module_release(p->mods[i]->fl);
		free(p->mods[i]->name);
		free(p->mods[i]);
	}
	if (p->config != NULL)
		p11_kit_modules_release(p->config);
	free(p->mods);
	free(p->module);
	free(p);
}
