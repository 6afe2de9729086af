/*
 * otatool timestamp: RFC 3161 timestamps for the signatures of a package
 * that is already signed, from a TSA, or in two steps through files.
 */
#include "cli.h"

#include "otatool/detect.h"
#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/trust.h"

#include <stdio.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool timestamp [OPTIONS] PACKAGE\n"
		 "\n"
		 "Add RFC 3161 timestamps to the signatures of a signed "
		 "otatool package, in\n"
		 "place: a time-stamping authority (TSA) signs the time at "
		 "which each\n"
		 "signature existed, so that verify --tsa-trust can check "
		 "the signer's\n"
		 "certificates at that time. The signed bytes are not "
		 "changed; a signature's\n"
		 "earlier timestamp is replaced. One of:\n"
		 "\n"),
	CLI_VALUE("tsa", 0, "URL", CLI_FILE_NONE,
		  "ask the TSA at this http URL, for every signature"),
	CLI_VALUE("tsa-request", 0, "OUT", CLI_FILE_OUT,
		  "write the query of every signature (OUT, or OUT.N\n"
		  "of several) for a TSA reached otherwise"),
	CLI_VALUE("tsa-reply", 0, "IN", CLI_FILE_IN,
		  "add the TSA's reply to one of those queries"),
	CLI_TEXT("\nChecks of a reply (status, imprint and the TSA's "
		 "signature always):\n"),
	CLI_VALUE("tsa-query", 0, "FILE", CLI_FILE_IN,
		  "with --tsa-reply: the query it answers (its\n"
		  "nonce is checked)"),
	CLI_LIST("tsa-trust", 0, "FILE|DIR", CLI_FILE_IN, 0,
		 "the TSA's chain must reach these roots"),
	CLI_FLAG("quiet", 'q', "nothing on stdout"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-timestamp(1), otatool-package(5).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "timestamp", opts, CLI_FILE_UPDATE, 0 };

int cmd_timestamp(int argc, char **argv)
{
	struct ota_trust trust;
	enum ota_artifact kind;
	const char *tsa, *request, *reply, *query, *path;
	struct cli_args p;
	int rc, modes;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&trust);
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	if ((rc = cli_trust_load(&trust, &p)))
		goto out;
	tsa = cli_value(&p, "tsa");
	request = cli_value(&p, "tsa-request");
	reply = cli_value(&p, "tsa-reply");
	query = cli_value(&p, "tsa-query");
	modes = (tsa != NULL) + (request != NULL) + (reply != NULL);
	if (p.n_operands != 1) {
		rc = cli_usage_error("timestamp", "expected one PACKAGE");
		goto out;
	}
	if (modes != 1) {
		rc = cli_usage_error("timestamp",
				     "give one of --tsa, --tsa-request and "
				     "--tsa-reply");
		goto out;
	}
	if (query && !reply) {
		rc = cli_usage_error("timestamp",
				     "--tsa-query goes with --tsa-reply");
		goto out;
	}
	path = p.operands[0];
	if ((rc = ota_detect_artifact(&kind, path)))
		goto out;
	if (kind != OTA_ARTIFACT_PACKAGE) {
		rc = cli_usage_error("timestamp",
				     "%s is not an otatool package", path);
		goto out;
	}
	if (tsa)
		rc = ota_package_timestamp_fetch(path, tsa, trust.tsa_anchors);
	else if (request)
		rc = ota_package_timestamp_requests(path, request);
	else
		rc = ota_package_timestamp_add(path, reply, query,
					       trust.tsa_anchors);
	if (rc == 0 && !cli_flag(&p, "quiet"))
		printf("%s: %s\n", path,
		       request ? "timestamp queries written" : "timestamped");
out:
	ota_trust_clear(&trust);
	cli_args_free(&p);
	return rc;
}
