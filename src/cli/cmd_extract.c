/* otatool extract: write a package's images out, after verifying it all. */
#include "cli.h"

#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/trust.h"

#include <errno.h>
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
		 "\n"),
	CLI_VALUE("output", 'o', "DIR", CLI_FILE_OUT,
		  "where to write the images (created if missing)"),
	CLI_VALUE("base", 0, "OLD", CLI_FILE_IN,
		  "a delta package's base release: a package\n"
		  "(verified with the same trust) or a directory\n"
		  "of NAME.bin files"),
	CLI_GROUP(cli_trust_opts),
	CLI_FLAG("quiet", 'q', "no summary on stderr"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-extract(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "extract", opts, CLI_FILE_IN, 0 };

int cmd_extract(int argc, char **argv)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report r;
	struct ota_package_bases *bases = NULL;
	struct ota_trust trust;
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
	o.trust = &trust;
	o.extract_dir = dir;
	o.bases = bases;
	rc = ota_package_check(&r, p.operands[0], &o);
	/* Nothing written unless everything verified: not even the folder. */
	if (rc && created)
		rmdir(dir);
	if (rc == 0 && !quiet)
		for (size_t i = 0; i < r.n_images; i++)
			fprintf(stderr,
				"otatool: extract: %s/%s.bin (%llu bytes, "
				"%sverified)\n",
				dir, r.images[i].name,
				(unsigned long long)r.images[i].size,
				r.images[i].rebuilt ? "rebuilt from its base, "
						    : "");
	ota_package_report_clear(&r);
out:
	ota_package_bases_free(bases);
	ota_trust_clear(&trust);
	cli_args_free(&p);
	return rc;
}
