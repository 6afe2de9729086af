/* otatool sign: sign manifests with file or token keys, or in two steps. */
#include "cli.h"

#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/key.h"
#include "otatool/manifest.h"
#include "otatool/output.h"
#include "otatool/signer.h"
#include "otatool/trust.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool sign [OPTIONS] --key KEY MANIFEST...\n"
		 "       otatool sign --key PUBKEY --export-digest FILE "
		 "MANIFEST\n"
		 "       otatool sign --key PUBKEY --import-signature SIG "
		 "MANIFEST\n"
		 "\n"
		 "Sign manifests written by 'otatool manifest' (or add "
		 "signatures to\n"
		 "signed ones). Every --key signs every manifest; the "
		 "algorithm follows\n"
		 "the key. Images are re-hashed and must match the manifest.\n"
		 "\n"
		 "Keys:\n"),
	CLI_GROUP(cli_key_opts),
	CLI_TEXT("\nChain check before signing (with --cert and --chain):\n"),
	CLI_GROUP(cli_trust_opts),
	CLI_TEXT("\nOutput:\n"),
	CLI_VALUE("output", 'o', "FILE", CLI_FILE_UPDATE,
		  "signed manifest (one MANIFEST only; default\n"
		  "NAME.signed.json beside NAME.json)"),
	CLI_FLAG("no-image-check", 0, "do not re-hash the images"),
	CLI_FLAG("json", 0, "print what was signed as JSON on stdout"),
	CLI_FLAG("quiet", 'q', "no progress or summary on stderr"),
	CLI_TEXT("\nTwo-step signing (HSMs and services otatool cannot "
		 "reach):\n"),
	CLI_VALUE("export-digest", 0, "FILE", CLI_FILE_OUT,
		  "write the digest to sign (raw bytes)"),
	CLI_VALUE("export-payload", 0, "FILE", CLI_FILE_OUT,
		  "write the exact message to sign (Ed25519,\n"
		  "or signers that hash themselves)"),
	CLI_VALUE("import-signature", 0, "FILE", CLI_FILE_IN,
		  "add a signature made elsewhere (DER or\n"
		  "raw r||s, binary or base64); it is verified\n"
		  "against --key before anything is written"),
	CLI_VALUE("algorithm", 0, "ALG", CLI_FILE_NONE,
		  "with --export-*: the algorithm, when no --key"),
	CLI_TEXT("\n"),
	CLI_HELP_OPT,
	CLI_TEXT("\nEnvironment: OTATOOL_PKCS11_MODULE, OTATOOL_PKCS11_PIN,\n"
		 "OTATOOL_KEY_PASSPHRASE. See otatool-sign(1), "
		 "otatool-signature(5).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "sign", opts, CLI_FILE_IN, 0 };

struct sign_args {
	struct cli_signers names;
	struct ota_signers *signers;
	struct ota_trust trust;
	const char *output;
	const char *export_digest, *export_payload, *import_sig, *algorithm;
	bool no_image_check, json, quiet;
	char **inputs;
	size_t n_inputs;
};

/* Loads a manifest to sign; its images must still match it unless told. */
static int load_manifest(struct ota_envelope **e, const struct sign_args *a,
			 const char *input)
{
	struct ota_manifest *m = NULL;
	struct cli_progress progress;
	int rc;

	if ((rc = ota_envelope_load_manifest(e, &m, input, NULL)))
		return rc;
	cli_progress_init(&progress, a->quiet);
	progress.label = "checking images";
	if (!a->no_image_check)
		rc = ota_manifest_check_images(m, cli_progress_cb, &progress);
	ota_manifest_free(m);
	return rc;
}

/* NAME.json -> NAME.signed.json; a signed manifest is updated in place. */
static char *default_output(const char *input)
{
	size_t len = strlen(input);
	const char *suffix = ".signed.json";
	char *out;

	if (len >= strlen(suffix) &&
	    strcmp(input + len - strlen(suffix), suffix) == 0)
		return strdup(input);
	if (len >= 5 && strcmp(input + len - 5, ".json") == 0)
		len -= 5;
	out = malloc(len + strlen(suffix) + 1);
	if (out) {
		memcpy(out, input, len);
		strcpy(out + len, suffix);
	}
	return out;
}

/* Whether a and b name one existing file. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The signed manifest; it may replace the manifest it signs (in place). */
static int write_envelope(const struct ota_envelope *e, const char *path,
			  const char *input)
{
	int flags = same_file(path, input) ? OTA_OUTPUT_UPDATE : 0;
	struct ota_output *out = NULL;
	char *json = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ota_envelope_to_json(&json, &len, e)) ||
	    (rc = ota_output_open(&out, path, 0644, flags)) ||
	    (rc = ota_output_write(out, json, len)))
		goto out;
	rc = ota_output_commit(out);
	out = NULL;
out:
	ota_output_abort(out);
	free(json);
	return rc;
}

static int write_file(const char *path, const void *data, size_t len)
{
	struct ota_output *out = NULL;
	int rc;

	if ((rc = ota_output_open(&out, path, 0644, 0)) ||
	    (rc = ota_output_write(out, data, len))) {
		ota_output_abort(out);
		return rc;
	}
	return ota_output_commit(out);
}

static json_t *report_entry(const char *input, const char *output,
			    const struct ota_envelope *e)
{
	json_t *o = json_object(), *sigs = json_array();

	for (size_t i = 0; i < e->n_sigs; i++) {
		json_t *s = json_object();

		json_object_set_new(s, "keyid", json_string(e->sigs[i].keyid));
		json_object_set_new(
		    s, "algorithm",
		    json_string(ota_sig_alg_name(e->sigs[i].alg)));
		json_array_append_new(sigs, s);
	}
	json_object_set_new(o, "input", json_string(input));
	json_object_set_new(o, "output",
			    output ? json_string(output) : json_null());
	json_object_set_new(o, "signatures", sigs);
	return o;
}

static int add_signature(struct ota_envelope *e, struct ota_key *key,
			 const uint8_t *sig, size_t sig_len)
{
	const uint8_t *const *der;
	const size_t *lens;
	size_t n = ota_key_certs(key, &der, &lens);
	int rc = ota_envelope_add(e, ota_key_id(key), ota_key_alg(key), sig,
				  sig_len);

	for (size_t c = 0; rc == 0 && c < n; c++)
		rc = ota_envelope_add_cert(e, e->n_sigs - 1, der[c], lens[c]);
	return rc;
}

/* Adds each key's signature, with its certificates, to one manifest. */
static int sign_one(const struct sign_args *a, const char *input,
		    json_t *report)
{
	struct ota_envelope *e = NULL;
	uint8_t *pae = NULL, *sig = NULL;
	size_t pae_len = 0, sig_len = 0;
	char *output = NULL;
	int rc;

	if ((rc = load_manifest(&e, a, input)) ||
	    (rc = ota_envelope_pae(&pae, &pae_len, e)))
		goto out;
	for (size_t k = 0; k < ota_signers_count(a->signers); k++) {
		struct ota_key *key = ota_signers_key(a->signers, k);

		if ((rc = ota_key_sign(&sig, &sig_len, key, pae, pae_len)) ||
		    (rc = add_signature(e, key, sig, sig_len))) {
			rc = ota_error_wrap(rc, "%s", input);
			goto out;
		}
		free(sig);
		sig = NULL;
	}
	output = a->output ? strdup(a->output) : default_output(input);
	if (!output) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = write_envelope(e, output, input)))
		goto out;
	if (report)
		json_array_append_new(report, report_entry(input, output, e));
	if (!a->quiet && !a->json)
		fprintf(stderr, "otatool: sign: %s -> %s (%zu signature%s)\n",
			input, output, e->n_sigs, e->n_sigs == 1 ? "" : "s");
out:
	free(output);
	free(sig);
	free(pae);
	ota_envelope_free(e);
	return rc;
}

/* The key of the two-step modes (a->signers): its public half is enough. */
static int two_step_key(struct ota_key **key, enum ota_sig_alg *alg,
			struct sign_args *a)
{
	struct ota_signers_opts o = a->names.opts;
	enum ota_sig_alg forced;
	int rc;

	*key = NULL;
	if (o.n_keys > 1)
		return ota_error(OTA_EUSAGE,
				 "two-step signing takes one --key");
	if (a->algorithm && (rc = ota_sig_alg_parse(&forced, a->algorithm)))
		return ota_error_wrap(OTA_EUSAGE, "--algorithm");
	if (o.n_keys == 0) {
		if (!a->algorithm)
			return ota_error(OTA_EUSAGE,
					 "give --key (public key, certificate "
					 "or pkcs11: URI) or --algorithm");
		*alg = forced;
		return 0;
	}
	o.public_only = true;
	o.forced_alg = a->algorithm ? &forced : NULL;
	if ((rc = ota_signers_open(&a->signers, &o)))
		return rc;
	*key = ota_signers_key(a->signers, 0);
	*alg = ota_key_alg(*key);
	return 0;
}

static int export_to_sign(struct sign_args *a, json_t **report)
{
	struct ota_envelope *e = NULL;
	struct ota_key *key = NULL;
	enum ota_sig_alg alg;
	enum ota_digest_alg d;
	struct ota_digest dg;
	uint8_t *pae = NULL;
	size_t pae_len = 0;
	int rc;

	if ((rc = two_step_key(&key, &alg, a)) ||
	    (rc = load_manifest(&e, a, a->inputs[0])) ||
	    (rc = ota_envelope_pae(&pae, &pae_len, e)))
		goto out;
	if (a->export_digest) {
		if (!ota_sig_alg_digest(alg, &d)) {
			rc = ota_error(OTA_EUSAGE,
				       "%s signs the whole message, not a "
				       "digest: use --export-payload",
				       ota_sig_alg_name(alg));
			goto out;
		}
		if ((rc = ota_digest_buffer(&dg, d, pae, pae_len)) ||
		    (rc = write_file(a->export_digest, dg.bytes, dg.len)))
			goto out;
	}
	if (a->export_payload &&
	    (rc = write_file(a->export_payload, pae, pae_len)))
		goto out;
	if (a->json) {
		json_decref(*report);
		*report =
		    json_pack("{s:s, s:s, s:s?, s:s?}", "input", a->inputs[0],
			      "algorithm", ota_sig_alg_name(alg), "digest",
			      a->export_digest, "payload", a->export_payload);
	} else if (!a->quiet)
		fprintf(stderr,
			"otatool: sign: sign %s with %s, then run otatool sign "
			"--import-signature SIG --key KEY %s\n",
			a->export_digest ? a->export_digest : a->export_payload,
			ota_sig_alg_name(alg), a->inputs[0]);
out:
	free(pae);
	ota_envelope_free(e);
	return rc;
}

static int import_signature(struct sign_args *a, json_t *report)
{
	struct ota_envelope *e = NULL;
	struct ota_key *key = NULL;
	enum ota_sig_alg alg;
	char *raw = NULL, *output = NULL;
	uint8_t *pae = NULL, *sig = NULL;
	size_t pae_len = 0, raw_len = 0, sig_len = 0;
	int rc;

	if (a->names.opts.n_keys == 0) {
		rc = ota_error(OTA_EUSAGE,
			       "--import-signature needs --key with the "
			       "signer's public key, certificate or pkcs11: "
			       "URI");
		goto out;
	}
	if ((rc = two_step_key(&key, &alg, a)) ||
	    (rc = ota_envelope_load(&e, a->inputs[0])) ||
	    (rc = ota_envelope_pae(&pae, &pae_len, e)) ||
	    (rc =
		 ota_file_read_small(&raw, &raw_len, a->import_sig, 64u << 10)))
		goto out;
	if ((rc = ota_signature_decode(&sig, &sig_len, alg,
				       (const uint8_t *)raw, raw_len))) {
		rc = ota_error_wrap(rc, "%s", a->import_sig);
		goto out;
	}
	if (ota_public_key_verify(ota_key_public(key), alg, pae, pae_len, sig,
				  sig_len)) {
		rc = ota_error(OTA_EVERIFY,
			       "%s: not a valid %s signature of %s by %s; "
			       "nothing written",
			       a->import_sig, ota_sig_alg_name(alg),
			       a->inputs[0], a->names.keys[0]);
		goto out;
	}
	if ((rc = add_signature(e, key, sig, sig_len))) {
		rc = ota_error_wrap(rc, "%s", a->inputs[0]);
		goto out;
	}
	output = a->output ? strdup(a->output) : default_output(a->inputs[0]);
	if (!output) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = write_envelope(e, output, a->inputs[0])))
		goto out;
	if (report)
		json_array_append_new(report,
				      report_entry(a->inputs[0], output, e));
	if (!a->quiet && !a->json)
		fprintf(stderr,
			"otatool: sign: %s -> %s (signature verified)\n",
			a->import_sig, output);
out:
	free(output);
	free(sig);
	free(raw);
	free(pae);
	ota_envelope_free(e);
	return rc;
}

static int parse_args(struct sign_args *a, const struct cli_args *p)
{
	int rc;

	if ((rc = cli_signers_from_args(&a->names, "sign", p)) ||
	    (rc = cli_trust_load(&a->trust, p)))
		return rc;
	a->output = cli_value(p, "output");
	a->no_image_check = cli_flag(p, "no-image-check");
	a->json = cli_flag(p, "json");
	a->quiet = cli_flag(p, "quiet");
	a->export_digest = cli_value(p, "export-digest");
	a->export_payload = cli_value(p, "export-payload");
	a->import_sig = cli_value(p, "import-signature");
	a->algorithm = cli_value(p, "algorithm");
	a->inputs = p->operands;
	a->n_inputs = p->n_operands;
	if (a->n_inputs == 0)
		return cli_usage_error("sign", "no manifest given");
	if (a->output && a->n_inputs > 1)
		return cli_usage_error("sign",
				       "--output takes one manifest; %zu given",
				       a->n_inputs);
	if ((a->export_digest || a->export_payload) && a->import_sig)
		return cli_usage_error("sign",
				       "--export-* and --import-signature are "
				       "separate steps");
	if ((a->export_digest || a->export_payload || a->import_sig) &&
	    a->n_inputs > 1)
		return cli_usage_error("sign",
				       "two-step signing takes one manifest");
	if (a->algorithm &&
	    !(a->export_digest || a->export_payload || a->import_sig))
		return cli_usage_error("sign",
				       "--algorithm is for two-step signing; "
				       "otherwise the key decides");
	if (!(a->export_digest || a->export_payload || a->import_sig) &&
	    a->names.opts.n_keys == 0)
		return cli_usage_error("sign", "no --key given");
	return 0;
}

int cmd_sign(int argc, char **argv)
{
	struct sign_args a = { 0 };
	struct cli_args p;
	json_t *report = NULL;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&a.trust);
	if (p.help)
		cli_help(&spec);
	if (p.help || (rc = parse_args(&a, &p)))
		goto out;
	if (a.json)
		report = json_array();
	if (a.export_digest || a.export_payload)
		rc = export_to_sign(&a, &report);
	else if (a.import_sig)
		rc = import_signature(&a, report);
	else if ((rc = ota_signers_open(&a.signers, &a.names.opts)) == 0 &&
		 (rc = ota_signers_check_chains(a.signers, &a.trust,
						(int64_t)time(NULL))) == 0)
		for (size_t i = 0; rc == 0 && i < a.n_inputs; i++)
			rc = sign_one(&a, a.inputs[i], report);
	if (rc == 0 && report) {
		char *text =
		    json_dumps(report, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		if (text)
			printf("%s\n", text);
		free(text);
	}
out:
	json_decref(report);
	ota_signers_free(a.signers);
	ota_trust_clear(&a.trust);
	cli_args_free(&p);
	return rc;
}
