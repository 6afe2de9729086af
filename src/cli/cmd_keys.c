/* otatool keys: generate key pairs, list token keys, export public keys. */
#include "cli.h"
#include "report.h"

#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/output.h"
#include "otatool/pkcs11.h"
#include "otatool/signer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool keys generate --type TYPE --key "
		 "FILE|pkcs11:URI [--public FILE]\n"
		 "       otatool keys list [pkcs11:URI] [--json]\n"
		 "       otatool keys export-public KEY [-o FILE] [--format "
		 "pem|der]\n"
		 "\n"
		 "generate       make a key pair: in a file (private key mode "
		 "0600, never\n"
		 "               overwritten; public key beside it) or inside "
		 "a token\n"
		 "               (non-extractable, public object with the "
		 "same CKA_ID)\n"
		 "list           tokens, slots and key objects (label, id, "
		 "type, size, URI)\n"
		 "export-public  the public key of a key file, certificate or "
		 "token key,\n"
		 "               and its key id (SHA-256 of the DER "
		 "SubjectPublicKeyInfo)\n"
		 "\n"
		 "Options:\n"),
	CLI_VALUE("type", 't', "TYPE", CLI_FILE_NONE, OTA_KEY_TYPES),
	CLI_VALUE("key", 'k', "KEY", CLI_FILE_IN, "key file or pkcs11: URI"),
	CLI_VALUE("public", 0, "FILE", CLI_FILE_OUT,
		  "generate: public key file (default: KEY with\n"
		  ".pem replaced by .pub.pem)"),
	CLI_VALUE("output", 'o', "FILE", CLI_FILE_OUT,
		  "export-public: write here (default stdout)"),
	CLI_VALUE("format", 0, "FMT", CLI_FILE_NONE,
		  "export-public: pem (default) or der"),
	CLI_VALUE("pkcs11-module", 0, "PATH", CLI_FILE_IN,
		  "PKCS#11 module when the URI names none"),
	CLI_FLAG("json", 0, "machine-readable output on stdout"),
	CLI_FLAG("quiet", 'q', "no summary on stderr"),
	CLI_HELP_OPT,
	CLI_TEXT("\nEnvironment: OTATOOL_PKCS11_MODULE, OTATOOL_PKCS11_PIN.\n"
		 "See otatool-keys(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "keys", opts, CLI_FILE_IN, 27 };

struct keys_args {
	const char *type, *key, *public_path, *output, *module;
	bool der, json, quiet;
	char **rest;
	int n_rest;
};

/* Same module and PIN rules as every command that signs. */
static int open_pkcs11(struct ota_pkcs11 **p11, const struct keys_args *a)
{
	return ota_signers_pkcs11(p11, a->module);
}

static void print_json(json_t *j)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		printf("%s\n", text);
	free(text);
}

static char *default_public_path(const char *key)
{
	size_t len = strlen(key);
	char *out = malloc(len + 10);

	if (!out)
		return NULL;
	if (len > 4 && strcmp(key + len - 4, ".pem") == 0)
		len -= 4;
	memcpy(out, key, len);
	strcpy(out + len, ".pub.pem");
	return out;
}

static int keys_generate(const struct keys_args *a)
{
	struct ota_pkcs11 *p11 = NULL;
	struct ota_key *key = NULL;
	char id[OTA_KEY_ID_LEN + 1] = "", *pub_path = NULL, *uri = NULL;
	json_t *j;
	int rc;

	if (!a->type || !a->key)
		return ota_error(OTA_EUSAGE, "generate needs --type and --key");
	if (ota_pkcs11_is_uri(a->key)) {
		struct ota_key_opts ko = { 0 };

		if ((rc = open_pkcs11(&p11, a)) ||
		    (rc = ota_pkcs11_generate(p11, a->key, a->type, &uri)))
			goto out;
		/* The key id comes from the token's public half. */
		ko.pkcs11 = p11;
		if ((rc = ota_key_open(&key, uri, &ko)))
			goto out;
		snprintf(id, sizeof(id), "%s", ota_key_id(key));
	} else {
		pub_path = a->public_path ? strdup(a->public_path)
					  : default_public_path(a->key);
		if (!pub_path) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			goto out;
		}
		if ((rc = ota_key_generate_file(id, a->type, a->key, pub_path)))
			goto out;
	}
	if (a->json) {
		j = json_pack("{s:s, s:s, s:s, s:s?}", "type", a->type, "key",
			      uri ? uri : a->key, "keyid", id, "public",
			      pub_path);
		print_json(j);
		json_decref(j);
	} else {
		/* The key id is the result: printed even with --quiet. */
		if (!a->quiet) {
			fprintf(stderr, "otatool: keys: generated %s key %s\n",
				a->type, uri ? uri : a->key);
			if (pub_path)
				fprintf(stderr,
					"otatool: keys: public key %s\n",
					pub_path);
		}
		printf("%s\n", id);
	}
out:
	ota_key_free(key);
	free(uri);
	free(pub_path);
	ota_pkcs11_free(p11);
	return rc;
}

static const char *str_or_dash(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : "-";
}

static void print_token_table(json_t *list)
{
	json_t *tokens = json_object_get(list, "tokens"), *t, *o;
	size_t i, k;

	json_array_foreach(tokens, i, t)
	{
		json_t *objs = json_object_get(t, "objects");

		printf(
		    "token '%s' (slot %lld, %s %s, serial %s)\n",
		    str_or_dash(t, "label"),
		    (long long)json_integer_value(json_object_get(t, "slot")),
		    str_or_dash(t, "manufacturer"), str_or_dash(t, "model"),
		    str_or_dash(t, "serial"));
		if (json_array_size(objs) == 0)
			printf("  (no key objects%s)\n",
			       json_is_false(json_object_get(t, "login"))
				   ? " visible without login"
				   : "");
		json_array_foreach(objs, k, o)
		{
			json_t *bits = json_object_get(o, "bits");
			char sz[32];

			if (json_is_integer(bits))
				snprintf(sz, sizeof(sz), "%lld bits",
					 (long long)json_integer_value(bits));
			else
				snprintf(sz, sizeof(sz), "%s",
					 str_or_dash(o, "curve"));
			printf("  %-11s %-24s %-4s %-10s id %s\n    %s\n",
			       str_or_dash(o, "class"), str_or_dash(o, "label"),
			       str_or_dash(o, "key_type"), sz,
			       str_or_dash(o, "id"), str_or_dash(o, "uri"));
		}
	}
}

static int keys_list(const struct keys_args *a)
{
	struct ota_pkcs11 *p11 = NULL;
	const char *uri = a->n_rest > 0 ? a->rest[0] : "pkcs11:";
	json_t *list = NULL;
	char *text = NULL;
	size_t len;
	int rc;

	if (a->n_rest > 1)
		return ota_error(OTA_EUSAGE, "list takes one pkcs11: URI");
	if (!ota_pkcs11_is_uri(uri))
		return ota_error(OTA_EUSAGE, "list: '%s' is not a pkcs11: URI",
				 uri);
	if ((rc = open_pkcs11(&p11, a)) ||
	    (rc = ota_pkcs11_list(&text, &len, p11, uri)))
		goto out;
	if (a->json) {
		fputs(text, stdout);
	} else {
		list = cli_json_parse(text);
		text = NULL;
		print_token_table(list);
	}
out:
	free(text);
	json_decref(list);
	ota_pkcs11_free(p11);
	return rc;
}

static int keys_export_public(const struct keys_args *a)
{
	struct ota_pkcs11 *p11 = NULL;
	struct ota_key *k = NULL;
	const char *ref = a->key ? a->key : (a->n_rest ? a->rest[0] : NULL);
	struct ota_public_key *loaded = NULL;
	const struct ota_public_key *pub;
	const char *id;
	uint8_t *enc = NULL;
	size_t len = 0;
	int rc;

	if (!ref || a->n_rest > (a->key ? 0 : 1))
		return ota_error(OTA_EUSAGE, "export-public takes one KEY");
	if (ota_pkcs11_is_uri(ref)) {
		struct ota_key_opts ko = { 0 };

		if ((rc = open_pkcs11(&p11, a)))
			goto out;
		ko.pkcs11 = p11;
		if ((rc = ota_key_open(&k, ref, &ko)))
			goto out;
		pub = ota_key_public(k);
	} else if ((rc = ota_public_key_load(&loaded, ref))) {
		goto out;
	} else {
		pub = loaded;
	}
	id = ota_public_key_id(pub);
	if ((rc = ota_public_key_encode(&enc, &len, pub, !a->der)))
		goto out;
	if (a->json) {
		json_t *j = json_pack("{s:s, s:s, s:s?}", "key", ref, "keyid",
				      id, "output", a->output);

		print_json(j);
		json_decref(j);
		if (!a->output)
			goto out;
	}
	if ((rc = ota_output_write_file(a->output, enc, len, 0644, 0)))
		goto out;
	if (!a->quiet && !a->json)
		fprintf(stderr, "otatool: keys: key id %s\n", id);
out:
	free(enc);
	ota_public_key_free(loaded);
	ota_key_free(k);
	ota_pkcs11_free(p11);
	return rc;
}

int cmd_keys(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct keys_args *a);
	} subs[] = {
		{ "generate", keys_generate },
		{ "list", keys_list },
		{ "export-public", keys_export_public },
	};
	struct keys_args a = { 0 };
	struct cli_args p;
	/* Options after the action name belong to the action. */
	bool action = argc > 1 && argv[1][0] != '-';
	const char *format;
	int rc;

	if ((rc = action ? cli_parse(&p, &spec, argc - 1, argv + 1)
			 : cli_parse(&p, &spec, argc, argv)))
		return rc;
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	a.type = cli_value(&p, "type");
	a.key = cli_value(&p, "key");
	a.public_path = cli_value(&p, "public");
	a.output = cli_value(&p, "output");
	a.module = cli_value(&p, "pkcs11-module");
	a.json = cli_flag(&p, "json");
	a.quiet = cli_flag(&p, "quiet");
	format = cli_value(&p, "format");
	if (format && strcmp(format, "pem") && strcmp(format, "der")) {
		rc = cli_usage_error("keys", "--format: '%s' is not pem or der",
				     format);
		goto out;
	}
	a.der = format && strcmp(format, "der") == 0;
	if (!action) {
		rc = cli_usage_error("keys",
				     "expected an action: generate, list or "
				     "export-public");
		goto out;
	}
	a.rest = p.operands;
	a.n_rest = (int)p.n_operands;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			rc = subs[i].fn(&a);
			goto out;
		}
	rc = cli_usage_error("keys",
			     "unknown action '%s' (generate, list or "
			     "export-public)",
			     argv[1]);
out:
	cli_args_free(&p);
	return rc;
}
