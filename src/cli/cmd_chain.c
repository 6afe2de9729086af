/* otatool chain check: a signer certificate's chain, strictly, as a tree. */
#include "cli.h"
#include "report.h"

#include "otatool/chain.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/pkcs11.h"
#include "otatool/signer.h"
#include "otatool/timestamp.h"
#include "otatool/trust.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool chain check --cert SIGNER --trust CA "
		 "[OPTIONS]\n"
		 "\n"
		 "Build and check the chain signer -> intermediates -> trust "
		 "anchor the\n"
		 "way a careful verifier does: validity of every certificate "
		 "at the check\n"
		 "time, keyUsage digitalSignature and extendedKeyUsage "
		 "codeSigning on the\n"
		 "signer, CA:TRUE and keyCertSign on every issuer, "
		 "pathLenConstraint,\n"
		 "revocation, and no weak algorithms. Prints the chain as a "
		 "tree with the\n"
		 "verdict; a refusal names the certificate that caused it.\n"
		 "\n"),
	CLI_VALUE("cert", 0, "FILE", CLI_FILE_IN,
		  "the signer certificate (PEM or DER)"),
	CLI_LIST("chain", 0, "FILE", CLI_FILE_IN, 0,
		 "intermediates (PEM bundle or DER); repeatable"),
	CLI_GROUP(cli_trust_opts),
	CLI_VALUE("key", 0, "KEY", CLI_FILE_IN,
		  "the signing key (key file, public key or\n"
		  "pkcs11: URI): must be the signer's"),
	CLI_VALUE("pkcs11-module", 0, "PATH", CLI_FILE_IN,
		  "PKCS#11 module when the URI names none"),
	CLI_FLAG("json", 0, "the report as JSON on stdout"),
	CLI_FLAG("quiet", 'q', "no report; the exit status says it all"),
	CLI_HELP_OPT,
	CLI_TEXT(
	    "\nExit status 0 trusted, 6 refused (see otatool-chain(1)).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "chain", opts, CLI_FILE_NONE, 0 };

static void print_tree(const struct ota_chain_report *r, const char *cert,
		       int64_t at)
{
	char ts[OTA_TIMESTAMP_LEN] = "";

	ota_timestamp_format(ts, at);
	printf("chain of %s, checked at %s\n", cert, ts);
	for (size_t i = 0; i < r->n_certs; i++) {
		const struct ota_chain_cert *c = &r->certs[i];
		bool culprit =
		    r->reason != OTA_CHAIN_OK && r->fail_depth == (int)i;
		int ind = (int)(2 * i);

		printf("%*s%s[%zu] %s%s%s\n", ind, "", i ? "└─ " : "", i,
		       c->subject, c->trusted ? "  (trust anchor)" : "",
		       culprit ? "  <-- refused here" : "");
		ind += i ? 3 : 0;
		printf("%*s    issuer      %s\n", ind, "", c->issuer);
		printf("%*s    serial      %s\n", ind, "", c->serial);
		printf("%*s    valid       %s .. %s\n", ind, "", c->not_before,
		       c->not_after);
		printf("%*s    key         %s\n", ind, "", c->key);
		printf("%*s    sha256      %s\n", ind, "", c->fingerprint);
	}
	if (r->reason == OTA_CHAIN_OK)
		printf("verdict: TRUSTED\n");
	else
		printf("verdict: REFUSED (%s): %s\n",
		       ota_chain_reason_name(r->reason), r->message);
}

static int chain_check(int argc, char **argv)
{
	struct ota_cert_list *leaf = NULL, *intermediates = NULL;
	struct ota_chain_report report;
	struct ota_pkcs11 *p11 = NULL;
	struct ota_key *key = NULL;
	struct ota_public_key *pub = NULL;
	const struct ota_public_key *signing_key = NULL;
	struct ota_trust trust;
	const char *cert, *key_ref, *module;
	int64_t at;
	struct cli_args p;
	bool json, quiet;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&trust);
	memset(&report, 0, sizeof(report));
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	cert = cli_value(&p, "cert");
	key_ref = cli_value(&p, "key");
	module = cli_value(&p, "pkcs11-module");
	json = cli_flag(&p, "json");
	quiet = cli_flag(&p, "quiet");
	if ((rc = cli_trust_load(&trust, &p)))
		goto out;
	for (size_t i = 0; i < cli_count(&p, "chain"); i++)
		if ((rc = ota_cert_list_read(&intermediates,
					     cli_nth(&p, "chain", i))))
			goto out;
	if (trust.n_keys > 0) {
		rc = cli_usage_error("chain",
				     "--trust-key does not apply: a chain "
				     "ends at a --trust anchor");
		goto out;
	}
	if (p.n_operands || !cert || !ota_trust_has_anchors(&trust)) {
		rc = cli_usage_error("chain",
				     p.n_operands ? "unexpected argument '%s'"
				     : !cert      ? "no --cert given%s"
						  : "no --trust given%s",
				     p.n_operands ? p.operands[0] : "");
		goto out;
	}
	if ((rc = ota_cert_list_read(&leaf, cert)))
		goto out;
	if (ota_cert_list_count(leaf) != 1) {
		rc = ota_error(OTA_EINPUT,
			       "%s: holds %zu certificates; give the signer's "
			       "alone (intermediates with --chain)",
			       cert, ota_cert_list_count(leaf));
		goto out;
	}
	if (key_ref) {
		struct ota_key_opts ko = { .allow_prompt =
					       ota_signers_can_prompt() };

		if (ota_pkcs11_is_uri(key_ref) &&
		    (rc = ota_signers_pkcs11(&p11, module)))
			goto out;
		ko.pkcs11 = p11;
		/* Only a match is asked for: any key the certificate may hold.
		 */
		if (ota_pkcs11_is_uri(key_ref)) {
			if ((rc =
				 ota_key_open_public(&key, key_ref, &ko, NULL)))
				goto out;
			signing_key = ota_key_public(key);
		} else if ((rc = ota_public_key_load(&pub, key_ref))) {
			goto out;
		} else {
			signing_key = pub;
		}
	}
	at = trust.has_at ? trust.at : (int64_t)time(NULL);
	rc = ota_trust_check_cert(&report, &trust, leaf, intermediates,
				  signing_key, at);
	if (rc != 0 && rc != OTA_EUNTRUSTED)
		goto out;
	if (json) {
		char ts[OTA_TIMESTAMP_LEN] = "";
		json_t *j = NULL;
		char *text;
		size_t len;

		if (ota_chain_report_to_json(&text, &len, &report) == 0)
			j = cli_json_parse(text);
		ota_timestamp_format(ts, at);
		json_object_set_new(j, "checked_at", json_string(ts));
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(j);
	} else if (!quiet) {
		print_tree(&report, cert, at);
	}
out:
	ota_trust_clear(&trust);
	ota_cert_list_free(leaf);
	ota_cert_list_free(intermediates);
	ota_key_free(key);
	ota_public_key_free(pub);
	ota_pkcs11_free(p11);
	cli_args_free(&p);
	return rc;
}

int cmd_chain(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return chain_check(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		cli_help(&spec);
		return 0;
	}
	return cli_usage_error("chain", "expected 'check' (otatool chain "
					"check --cert SIGNER --trust CA)");
}
