/*
 * otatool extract: write a package's images, or an MCUboot image's
 * (decrypted) payload, out after verifying it all.
 */
#include "cli.h"

#include "otatool/detect.h"
#include "otatool/error.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/trust.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool extract --trust-key KEY|--trust CA -o DIR "
		 "[--base OLD] PACKAGE\n"
		 "\n"
		 "Verify a package like otatool verify does, then write each "
		 "image to\n"
		 "DIR/NAME.bin as it will be flashed (compressed images "
		 "inflated, patched\n"
		 "images rebuilt from their base). Nothing is written unless "
		 "everything\n"
		 "verified.\n"
		 "\n"
		 "Encrypted images are decrypted with --decrypt-key (a "
		 "recipient's key).\n"
		 "An MCUboot image's payload goes to DIR/payload.bin.\n"
		 "\n"),
	CLI_VALUE("output", 'o', "DIR", CLI_FILE_OUT,
		  "where to write the images (created if missing)"),
	CLI_VALUE("base", 0, "OLD", CLI_FILE_IN,
		  "a delta package's base release: a package\n"
		  "(verified with the same trust) or a directory\n"
		  "of NAME.bin files"),
	CLI_GROUP(cli_trust_opts),
	CLI_TEXT("\nEncrypted packages and MCUboot images:\n"),
	CLI_GROUP(cli_decrypt_opts),
	CLI_FLAG("quiet", 'q', "no summary on stderr"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-extract(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "extract", opts, CLI_FILE_IN, 0 };

/* The MCUboot payload, decrypted if need be, as DIR/payload.bin. */
static int extract_mcuboot(const char *dir, const char *path,
			   const struct ota_trust *trust,
			   const struct cli_args *p, bool quiet)
{
	struct ota_mcuboot_policy pol = { .trusted = trust->keys,
					  .n_trusted = trust->n_keys };
	struct ota_mcuboot_info info;
	struct cli_decrypt d;
	char out[4096];
	int rc;

	if (trust->n_keys == 0)
		return ota_error(OTA_EUSAGE,
				 "MCUboot images are checked against raw keys: "
				 "give --trust-key (MCUboot has no "
				 "certificates)");
	if ((size_t)snprintf(out, sizeof(out), "%s/payload.bin", dir) >=
	    sizeof(out))
		return ota_error(OTA_EUSAGE, "%s: path too long", dir);
	if ((rc = cli_decrypt_open(&d, p)))
		return rc;
	pol.decrypt_key = d.key;
	rc = ota_mcuboot_extract(&info, out, path, &pol, NULL, NULL);
	cli_decrypt_close(&d);
	if (rc == 0 && !quiet)
		fprintf(stderr,
			"otatool: extract: %s (%" PRIu32 " bytes, %s, "
			"verified)\n",
			out, info.image_size,
			info.body == OTA_MCUBOOT_BODY_DECRYPTED ? "decrypted"
			: info.body == OTA_MCUBOOT_BODY_CLEAR
			    ? "stored in the clear"
			    : "not encrypted");
	return rc;
}

int cmd_extract(int argc, char **argv)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report r;
	struct ota_package_bases *bases = NULL;
	struct cli_decrypt d = { 0 };
	struct ota_trust trust;
	enum ota_artifact kind;
	const char *base = NULL;
	const char *dir = NULL;
	bool quiet = false, created = false;
	struct cli_args p;
	int rc = 0;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&trust);
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	if ((rc = cli_trust_load(&trust, &p)))
		goto out;
	dir = cli_value(&p, "output");
	quiet = cli_flag(&p, "quiet");
	base = cli_value(&p, "base");
	if (p.n_operands != 1 || !dir || ota_trust_empty(&trust)) {
		rc = cli_usage_error("extract",
				     p.n_operands != 1 ? "expected one PACKAGE"
				     : !dir ? "no --output directory given"
					    : "nothing to trust: give "
					      "--trust-key or --trust");
		goto out;
	}
	if ((rc = ota_detect_artifact(&kind, p.operands[0])))
		goto out;
	if (kind != OTA_ARTIFACT_MCUBOOT && kind != OTA_ARTIFACT_PACKAGE &&
	    cli_value(&p, "decrypt-key")) {
		rc = cli_usage_error("extract",
				     "--decrypt-key: %s is neither an otatool "
				     "package nor an MCUboot image",
				     p.operands[0]);
		goto out;
	}
	if (kind != OTA_ARTIFACT_PACKAGE && base) {
		rc = cli_usage_error("extract",
				     "--base: %s is not an otatool package "
				     "(only packages hold patches)",
				     p.operands[0]);
		goto out;
	}
	if (base && (rc = ota_package_bases_open(&bases, base, &trust))) {
		rc = ota_error_wrap(rc, "--base");
		goto out;
	}
	if (mkdir(dir, 0755) == 0) {
		created = true;
	} else if (errno != EEXIST) {
		rc = ota_error(OTA_EOUTPUT, "%s: cannot create: %s", dir,
			       strerror(errno));
		goto out;
	}
	if (kind == OTA_ARTIFACT_MCUBOOT) {
		rc = extract_mcuboot(dir, p.operands[0], &trust, &p, quiet);
		if (rc && created)
			rmdir(dir);
		goto out;
	}
	if ((rc = cli_decrypt_open(&d, &p))) {
		if (created)
			rmdir(dir);
		goto out;
	}
	o.trust = &trust;
	o.extract_dir = dir;
	o.bases = bases;
	o.decrypt_key = d.key;
	rc = ota_package_check(&r, p.operands[0], &o);
	cli_decrypt_close(&d);
	/* Nothing written unless everything verified: not even the folder. */
	if (rc && created)
		rmdir(dir);
	if (rc == 0 && !quiet)
		for (size_t i = 0; i < r.n_images; i++)
			fprintf(stderr,
				"otatool: extract: %s/%s.bin (%llu bytes, "
				"%s%sverified)\n",
				dir, r.images[i].name,
				(unsigned long long)r.images[i].size,
				r.images[i].decrypted ? "decrypted, " : "",
				r.images[i].rebuilt ? "rebuilt from its base, "
						    : "");
	ota_package_report_clear(&r);
out:
	ota_package_bases_free(bases);
	ota_trust_clear(&trust);
	cli_args_free(&p);
	return rc;
}
