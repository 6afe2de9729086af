/* otatool chain check: a signer certificate's chain, strictly, as a tree. */
#include "cli.h"
#include "keyopts.h"
#include "trustopts.h"

#include "otatool/chain.h"
#include "otatool/error.h"
#include "otatool/key.h"
#include "otatool/timestamp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: otatool chain check --cert SIGNER --trust CA [OPTIONS]\n"
    "\n"
    "Build and check the chain signer -> intermediates -> trust anchor the\n"
    "way a careful verifier does: validity of every certificate at the "
    "check\n"
    "time, keyUsage digitalSignature and extendedKeyUsage codeSigning on "
    "the\n"
    "signer, CA:TRUE and keyCertSign on every issuer, pathLenConstraint,\n"
    "revocation, and no weak algorithms. Prints the chain as a tree with "
    "the\n"
    "verdict; a refusal names the certificate that caused it.\n"
    "\n"
    "      --cert FILE            the signer certificate (PEM or DER)\n"
    "      --chain FILE           intermediates (PEM bundle or DER); "
    "repeatable\n" CLI_TRUST_HELP
    "      --key KEY              the signing key (key file, public key or\n"
    "                             pkcs11: URI): must be the signer's\n"
    "      --pkcs11-module PATH   PKCS#11 module when the URI names none\n"
    "      --json                 the report as JSON on stdout\n"
    "  -q, --quiet                no report; the exit status says it all\n"
    "  -h, --help                 show this help\n"
    "\n"
    "Exit status 0 trusted, 6 refused (see otatool-chain(1)).\n";

enum { OPT_CERT = 256, OPT_CHAIN, OPT_KEY, OPT_MODULE, OPT_JSON };

static const struct option longopts[] = {
	CLI_TRUST_LONGOPTS,
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "chain", required_argument, NULL, OPT_CHAIN },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "pkcs11-module", required_argument, NULL, OPT_MODULE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

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
	struct ota_chain_input in = { 0 };
	struct ota_chain_report report;
	struct ota_pkcs11 *p11 = NULL;
	struct ota_key *key = NULL;
	EVP_PKEY *pub = NULL;
	struct ota_trust trust;
	STACK_OF(X509) *leaf = NULL;
	const char *cert = NULL, *key_ref = NULL, *module = NULL;
	bool json = false, quiet = false;
	int c, t, rc = 0, usage = 0; /* usage: an exit status already printed */

	ota_trust_init(&trust);
	memset(&report, 0, sizeof(report));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", longopts, NULL)) != -1) {
		if ((t = cli_trust_option(&trust, c, optarg)) < 0) {
			rc = t;
			goto out;
		}
		if (t)
			continue;
		switch (c) {
		case OPT_CERT:
			cert = optarg;
			break;
		case OPT_CHAIN:
			if ((rc = ota_chain_read_certs(&in.intermediates,
						       optarg)))
				goto out;
			break;
		case OPT_KEY:
			key_ref = optarg;
			break;
		case OPT_MODULE:
			module = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			goto out;
		default:
			usage = cli_bad_option("chain", longopts, c, argv);
			goto out;
		}
	}
	if (trust.n_keys > 0) {
		usage = cli_usage_error("chain",
					"--trust-key does not apply: a chain "
					"ends at a --trust anchor");
		goto out;
	}
	if (optind != argc || !cert || sk_X509_num(trust.anchors) <= 0) {
		usage =
		    cli_usage_error("chain",
				    optind != argc ? "unexpected argument '%s'"
				    : !cert        ? "no --cert given%s"
						   : "no --trust given%s",
				    optind != argc ? argv[optind] : "");
		goto out;
	}
	if ((rc = ota_chain_read_certs(&leaf, cert)))
		goto out;
	if (sk_X509_num(leaf) != 1) {
		rc = ota_error(OTA_EINPUT,
			       "%s: holds %d certificates; give the signer's "
			       "alone (intermediates with --chain)",
			       cert, sk_X509_num(leaf));
		goto out;
	}
	if (key_ref) {
		struct ota_pkcs11_opts po = {
			.module =
			    module ? module : getenv("OTATOOL_PKCS11_MODULE"),
			.allow_prompt = cli_can_prompt(),
			.uri_from_argv = true,
		};
		struct ota_key_opts ko = { .allow_prompt = cli_can_prompt() };

		if (ota_pkcs11_is_uri(key_ref) &&
		    (rc = ota_pkcs11_new(&p11, &po)))
			goto out;
		ko.pkcs11 = p11;
		/* Only a match is asked for: any key the certificate may hold.
		 */
		if (ota_pkcs11_is_uri(key_ref)) {
			if ((rc =
				 ota_key_open_public(&key, key_ref, &ko, NULL)))
				goto out;
			in.signing_key = ota_key_public(key);
		} else if ((rc = ota_public_key_load(&pub, key_ref))) {
			goto out;
		} else {
			in.signing_key = pub;
		}
	}
	in.signer = sk_X509_value(leaf, 0);
	in.anchors = trust.anchors;
	in.crls = trust.crls;
	in.crl_required = trust.crl_required;
	in.allow_weak = trust.allow_weak;
	in.at = trust.has_at ? trust.at : (int64_t)time(NULL);
	rc = ota_chain_check(&report, &in);
	if (rc != 0 && rc != OTA_EUNTRUSTED)
		goto out;
	if (json) {
		json_t *j = ota_chain_report_json(&report);
		char ts[OTA_TIMESTAMP_LEN] = "";
		char *text;

		ota_timestamp_format(ts, in.at);
		json_object_set_new(j, "checked_at", json_string(ts));
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "{}");
		free(text);
		json_decref(j);
	} else if (!quiet) {
		print_tree(&report, cert, in.at);
	}
out:
	ota_trust_clear(&trust);
	sk_X509_pop_free(leaf, X509_free);
	sk_X509_pop_free(in.intermediates, X509_free);
	ota_key_free(key);
	EVP_PKEY_free(pub);
	ota_pkcs11_free(p11);
	if (usage)
		return usage;
	return rc ? cli_fail("chain", rc) : 0;
}

int cmd_chain(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return chain_check(argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	return cli_usage_error("chain", "expected 'check' (otatool chain "
					"check --cert SIGNER --trust CA)");
}
