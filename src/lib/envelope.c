/* DSSE envelopes around canonical manifests: parse, PAE, add, serialize. */
#include "otatool/envelope.h"
#include "json_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/manifest.h"
#include "otatool/signer.h"
#include "otatool/trust.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ota_envelope_free(struct ota_envelope *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_sigs; i++) {
		free(e->sigs[i].sig);
		for (size_t c = 0; c < e->sigs[i].n_certs; c++)
			free(e->sigs[i].certs[c]);
	}
	free(e->payload);
	free(e);
}

static char *b64_encode(const uint8_t *data, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/*
 * Strict standard base64 without line breaks, as DSSE writes it; returns
 * -1 for anything else. EVP_DecodeBlock leaves padding bytes in its count.
 */
static int b64_decode(uint8_t **out, size_t *outlen, const char *s)
{
	size_t len = strlen(s), pad = 0;
	uint8_t *buf;
	int n;

	if (len == 0 || len % 4 != 0 || len > OTA_ENVELOPE_MAX_FILE)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' ||
			     s[i] == '/'))
			return -1;
	}
	buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return 0;
}

/* The payload must be a manifest exactly as otatool writes it. */
static int check_payload(const char *data, size_t len, const char *name)
{
	struct ota_manifest *m = NULL;
	char *canon = NULL;
	size_t clen = 0;
	int rc;

	if ((rc = ota_manifest_new(&m)) ||
	    (rc = ota_manifest_parse_json(m, data, len, name, NULL)) ||
	    (rc = ota_manifest_to_json(&canon, &clen, m)))
		goto out;
	if (clen != len || memcmp(canon, data, len) != 0)
		rc = ota_error(OTA_EINPUT,
			       "%s: manifest is not in canonical form (edited "
			       "by hand?); write it again with otatool "
			       "manifest",
			       name);
out:
	free(canon);
	ota_manifest_free(m);
	return rc;
}

static int set_payload(struct ota_envelope *e, const char *data, size_t len)
{
	e->payload = malloc(len + 1);
	if (!e->payload)
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(e->payload, data, len);
	e->payload[len] = '\0';
	e->payload_len = len;
	return 0;
}

static int parse_sig(struct ota_envelope *e, json_t *js, size_t i,
		     const char *name)
{
	struct ota_envelope_sig *s = &e->sigs[i];
	const char *keyid, *sig, *alg, *key;
	json_t *certs, *v;
	size_t c;
	int rc;

	json_object_foreach(js, key, v)
	{
		if (strcmp(key, "keyid") && strcmp(key, "sig") &&
		    strcmp(key, "algorithm") && strcmp(key, "certificates"))
			return ota_error(OTA_EINPUT,
					 "%s: signatures[%zu].%s: unknown key",
					 name, i, key);
	}
	keyid = json_string_value(json_object_get(js, "keyid"));
	sig = json_string_value(json_object_get(js, "sig"));
	alg = json_string_value(json_object_get(js, "algorithm"));
	if (!keyid || strlen(keyid) != OTA_KEY_ID_LEN ||
	    strspn(keyid, "0123456789abcdef") != OTA_KEY_ID_LEN)
		return ota_error(OTA_EINPUT,
				 "%s: signatures[%zu].keyid: expected 64 "
				 "lower-case hex digits",
				 name, i);
	if (!alg)
		return ota_error(OTA_EINPUT,
				 "%s: signatures[%zu].algorithm: missing", name,
				 i);
	if ((rc = ota_sig_alg_parse(&s->alg, alg)))
		return ota_error_wrap(rc, "%s: signatures[%zu].algorithm", name,
				      i);
	memcpy(s->keyid, keyid, OTA_KEY_ID_LEN + 1);
	if (!sig || b64_decode(&s->sig, &s->siglen, sig) != 0)
		return ota_error(OTA_EINPUT,
				 "%s: signatures[%zu].sig: expected base64",
				 name, i);
	certs = json_object_get(js, "certificates");
	if (!certs)
		return 0;
	if (!json_is_array(certs) || json_array_size(certs) == 0 ||
	    json_array_size(certs) > OTA_ENVELOPE_MAX_CERTS)
		return ota_error(OTA_EINPUT,
				 "%s: signatures[%zu].certificates: expected 1 "
				 "to %d base64 DER certificates",
				 name, i, OTA_ENVELOPE_MAX_CERTS);
	json_array_foreach(certs, c, v)
	{
		const char *b = json_string_value(v);

		if (!b || b64_decode(&s->certs[c], &s->cert_lens[c], b) != 0)
			return ota_error(
			    OTA_EINPUT,
			    "%s: signatures[%zu].certificates[%zu]:"
			    " expected base64",
			    name, i, c);
		s->n_certs++;
	}
	return 0;
}

static int parse_envelope(struct ota_envelope *e, json_t *root,
			  const char *name)
{
	const char *type, *payload, *key;
	uint8_t *bytes = NULL;
	size_t len = 0, i;
	json_t *sigs, *v;
	int rc;

	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "payloadType") && strcmp(key, "payload") &&
		    strcmp(key, "signatures"))
			return ota_error(OTA_EINPUT, "%s: %s: unknown key",
					 name, key);
	}
	type = json_string_value(json_object_get(root, "payloadType"));
	if (!type || strcmp(type, OTA_PAYLOAD_TYPE) != 0)
		return ota_error(OTA_EINPUT, "%s: payloadType: expected \"%s\"",
				 name, OTA_PAYLOAD_TYPE);
	payload = json_string_value(json_object_get(root, "payload"));
	if (!payload || b64_decode(&bytes, &len, payload) != 0)
		return ota_error(OTA_EINPUT, "%s: payload: expected base64",
				 name);
	rc = set_payload(e, (const char *)bytes, len);
	free(bytes);
	if (rc || (rc = check_payload(e->payload, e->payload_len, name)))
		return rc;
	sigs = json_object_get(root, "signatures");
	if (!json_is_array(sigs))
		return ota_error(OTA_EINPUT, "%s: signatures: expected a list",
				 name);
	if (json_array_size(sigs) > OTA_ENVELOPE_MAX_SIGS)
		return ota_error(OTA_EINPUT, "%s: signatures: more than %d",
				 name, OTA_ENVELOPE_MAX_SIGS);
	json_array_foreach(sigs, i, v)
	{
		if (!json_is_object(v))
			return ota_error(OTA_EINPUT,
					 "%s: signatures[%zu]: expected an "
					 "object",
					 name, i);
		e->n_sigs = i + 1;
		if ((rc = parse_sig(e, v, i, name)))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->sigs[j].keyid, e->sigs[i].keyid) == 0)
				return ota_error(
				    OTA_EINPUT,
				    "%s: signatures[%zu]: key %.16s"
				    "... signs twice",
				    name, i, e->sigs[i].keyid);
	}
	return 0;
}

int ota_envelope_parse(struct ota_envelope **out, const char *data, size_t len,
		       const char *name)
{
	struct ota_envelope *e;
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return ota_error(OTA_EINTERNAL, "out of memory");
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = ota_error(OTA_EINPUT, "%s:%d:%d: invalid JSON: %s", name,
			       jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = ota_error(OTA_EINPUT, "%s: expected a JSON object", name);
		goto out;
	}
	if (json_object_get(root, "payloadType"))
		rc = parse_envelope(e, root, name);
	else if ((rc = check_payload(data, len, name)) == 0)
		rc = set_payload(e, data, len);
out:
	json_decref(root);
	if (rc) {
		ota_envelope_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

int ota_envelope_load(struct ota_envelope **out, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc =
		 ota_file_read_small(&data, &len, path, OTA_ENVELOPE_MAX_FILE)))
		return rc;
	rc = ota_envelope_parse(out, data, len, path);
	free(data);
	return rc;
}

int ota_envelope_pae(uint8_t **out, size_t *len, const struct ota_envelope *e)
{
	char head[128];
	int n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ",
			 strlen(OTA_PAYLOAD_TYPE), OTA_PAYLOAD_TYPE,
			 e->payload_len);

	*out = malloc((size_t)n + e->payload_len);
	if (!*out)
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, e->payload, e->payload_len);
	*len = (size_t)n + e->payload_len;
	return 0;
}

int ota_envelope_add(struct ota_envelope *e, const char *keyid,
		     enum ota_sig_alg alg, const uint8_t *sig, size_t siglen)
{
	struct ota_envelope_sig *s;

	for (size_t i = 0; i < e->n_sigs; i++)
		if (strcmp(e->sigs[i].keyid, keyid) == 0)
			return ota_error(OTA_EINPUT, "already signed by key %s",
					 keyid);
	if (e->n_sigs == OTA_ENVELOPE_MAX_SIGS)
		return ota_error(OTA_EINPUT, "more than %d signatures",
				 OTA_ENVELOPE_MAX_SIGS);
	s = &e->sigs[e->n_sigs];
	memset(s, 0, sizeof(*s));
	s->sig = malloc(siglen);
	if (!s->sig)
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(s->sig, sig, siglen);
	s->siglen = siglen;
	s->alg = alg;
	snprintf(s->keyid, sizeof(s->keyid), "%s", keyid);
	e->n_sigs++;
	return 0;
}

int ota_envelope_add_cert(struct ota_envelope *e, size_t i, const uint8_t *der,
			  size_t len)
{
	struct ota_envelope_sig *s = &e->sigs[i];

	if (s->n_certs == OTA_ENVELOPE_MAX_CERTS)
		return ota_error(OTA_EINPUT, "more than %d certificates",
				 OTA_ENVELOPE_MAX_CERTS);
	s->certs[s->n_certs] = malloc(len);
	if (!s->certs[s->n_certs])
		return ota_error(OTA_EINTERNAL, "out of memory");
	memcpy(s->certs[s->n_certs], der, len);
	s->cert_lens[s->n_certs++] = len;
	return 0;
}

static json_t *b64_json(const uint8_t *data, size_t len)
{
	char *b = b64_encode(data, len);
	json_t *s = b ? json_string(b) : NULL;

	free(b);
	return s;
}

static json_t *sig_json(const struct ota_envelope_sig *s)
{
	json_t *o = json_object(), *certs = NULL;

	if (!o || json_object_set_new(o, "keyid", json_string(s->keyid)) ||
	    json_object_set_new(o, "sig", b64_json(s->sig, s->siglen)) ||
	    json_object_set_new(o, "algorithm",
				json_string(ota_sig_alg_name(s->alg))))
		goto fail;
	if (s->n_certs) {
		certs = json_array();
		for (size_t c = 0; certs && c < s->n_certs; c++)
			if (json_array_append_new(
				certs, b64_json(s->certs[c], s->cert_lens[c])))
				goto fail;
		if (json_object_set_new(o, "certificates", certs)) {
			certs = NULL;
			goto fail;
		}
	}
	return o;
fail:
	json_decref(certs);
	json_decref(o);
	return NULL;
}

int ota_envelope_to_json(char **out, size_t *len, const struct ota_envelope *e)
{
	json_t *root = json_object(), *sigs = json_array();
	int rc;

	if (!root || !sigs ||
	    json_object_set_new(root, "payloadType",
				json_string(OTA_PAYLOAD_TYPE)) ||
	    json_object_set_new(
		root, "payload",
		b64_json((const uint8_t *)e->payload, e->payload_len)))
		goto fail;
	for (size_t i = 0; i < e->n_sigs; i++)
		if (json_array_append_new(sigs, sig_json(&e->sigs[i])))
			goto fail;
	if (json_object_set(root, "signatures", sigs))
		goto fail;
	rc = ota_json_canonical(out, len, root);
	json_decref(sigs);
	json_decref(root);
	return rc;
fail:
	json_decref(sigs);
	json_decref(root);
	return ota_error(OTA_EINTERNAL, "out of memory");
}

int ota_envelope_verify(struct ota_trust_result *results, int *trusted,
			const struct ota_envelope *e,
			const struct ota_trust *trust, int64_t when)
{
	uint8_t *pae = NULL;
	size_t pae_len = 0;
	int rc, bad = -1, chain = -1;

	*trusted = -1;
	if (e->n_sigs == 0)
		return ota_error(OTA_EVERIFY, "the manifest is not signed");
	if ((rc = ota_envelope_pae(&pae, &pae_len, e)))
		return rc;
	for (size_t i = 0; i < e->n_sigs; i++) {
		const struct ota_envelope_sig *s = &e->sigs[i];
		struct ota_trust_sig ts = {
			.keyid = s->keyid,
			.alg = s->alg,
			.sig = s->sig,
			.siglen = s->siglen,
			.n_certs = s->n_certs,
			.certs = (const uint8_t *const *)s->certs,
			.cert_lens = s->cert_lens,
			.msg = pae,
			.msglen = pae_len,
			.when = when,
		};

		if ((rc = ota_trust_judge(&results[i], trust, &ts)))
			goto out;
		if (results[i].verdict == OTA_TRUST_VALID && *trusted < 0)
			*trusted = (int)i;
		if (results[i].verdict == OTA_TRUST_BAD_SIG && bad < 0)
			bad = (int)i;
		if (results[i].verdict == OTA_TRUST_CHAIN_FAIL && chain < 0)
			chain = (int)i;
	}
	/* A bad signature by a trusted key is tampering, even beside a good
	 * one. */
	if (bad >= 0)
		rc = ota_error(OTA_EVERIFY, "signature %d: %s", bad,
			       results[bad].message);
	else if (*trusted >= 0) {
		const struct ota_trust_result *res[OTA_ENVELOPE_MAX_SIGS];
		const char *ids[OTA_ENVELOPE_MAX_SIGS];
		unsigned distinct;

		for (size_t i = 0; i < e->n_sigs; i++) {
			res[i] = &results[i];
			ids[i] = e->sigs[i].keyid;
		}
		rc = 0;
		if (!ota_trust_threshold_met(trust, res, ids, e->n_sigs,
					     &distinct))
			rc = ota_error(OTA_EVERIFY,
				       "signed by %u distinct trusted key%s; "
				       "%u required",
				       distinct, distinct == 1 ? "" : "s",
				       trust->threshold);
	} else if (chain >= 0)
		rc = ota_error(OTA_EUNTRUSTED, "signature %d: %s", chain,
			       results[chain].message);
	else
		rc = ota_error(OTA_EVERIFY,
			       "no signature is by a trusted key (%s)",
			       results[0].message);
out:
	free(pae);
	return rc;
}

/* The directory image files are resolved against: path's own, or NULL. */
static int base_dir(char **out, const char *path)
{
	const char *slash = strrchr(path, '/');

	*out = NULL;
	if (!slash)
		return 0;
	*out = strndup(path, (size_t)(slash - path));
	return *out ? 0 : ota_error(OTA_EINTERNAL, "out of memory");
}

static int judge(const struct ota_envelope *e, const char *path,
		 const struct ota_envelope_load_opts *o)
{
	struct ota_trust_result *results = o->results;
	int trusted = -1, rc;

	if (!results &&
	    !(results = calloc(OTA_ENVELOPE_MAX_SIGS, sizeof(*results))))
		return ota_error(OTA_EINTERNAL, "out of memory");
	/*
	 * A signed manifest records no signing time (the build time comes
	 * before the signing certificate may exist): chains are checked now,
	 * unless the trust fixes a time.
	 */
	rc = ota_envelope_verify(results, &trusted, e, o->trust,
				 (int64_t)time(NULL));
	if (rc)
		rc = ota_error_wrap(rc, "%s", path);
	if (o->trusted)
		*o->trusted = trusted;
	if (results != o->results)
		free(results);
	return rc;
}

int ota_envelope_load_manifest(struct ota_envelope **e, struct ota_manifest **m,
			       const char *path,
			       const struct ota_envelope_load_opts *opts)
{
	const struct ota_envelope_load_opts none = { 0 };
	const struct ota_envelope_load_opts *o = opts ? opts : &none;
	char *dir = NULL;
	int rc;

	*m = NULL;
	if (o->trusted)
		*o->trusted = -1;
	if ((rc = ota_envelope_load(e, path)))
		return rc;
	if ((rc = base_dir(&dir, path)) || (rc = ota_manifest_new(m)) ||
	    (rc = ota_manifest_parse_json(*m, (*e)->payload, (*e)->payload_len,
					  path, dir)) ||
	    (o->images_dir &&
	     (rc = ota_manifest_locate_images(*m, o->images_dir))))
		goto fail;
	free(dir);
	if (o->trust && !(o->unsigned_ok && (*e)->n_sigs == 0))
		return judge(*e, path, o);
	return 0;
fail:
	free(dir);
	ota_manifest_free(*m);
	ota_envelope_free(*e);
	*m = NULL;
	*e = NULL;
	return rc;
}

static bool is_release_file(const char *path)
{
	size_t n = strlen(path);

	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

int ota_manifest_load_input(struct ota_manifest **m, const char *path,
			    const struct ota_resolve_opts *ro,
			    struct ota_trust *trust,
			    const struct ota_signers *signers)
{
	struct ota_envelope_load_opts lo = { .trust = trust,
					     .unsigned_ok = true };
	struct ota_envelope *e = NULL;
	int rc = 0;

	*m = NULL;
	if (is_release_file(path)) {
		struct ota_resolve_opts r = *ro;

		r.source = path;
		if ((rc = ota_manifest_new(m)) ||
		    (rc = ota_manifest_load_yaml(*m, path)) ||
		    (rc = ota_manifest_resolve(*m, &r))) {
			ota_manifest_free(*m);
			*m = NULL;
		}
		return rc;
	}
	if (ota_trust_empty(trust))
		rc = ota_signers_trust(trust, signers);
	if (rc == 0)
		rc = ota_envelope_load_manifest(&e, m, path, &lo);
	ota_envelope_free(e);
	if (rc) {
		ota_manifest_free(*m);
		*m = NULL;
	}
	return rc;
}
