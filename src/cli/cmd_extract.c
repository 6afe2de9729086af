/* otatool extract: write a package's images out, after verifying it all. */
#include "cli.h"
#include "trustopts.h"

#include "otatool/error.h"
#include "otatool/package.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: otatool extract --trust-key KEY|--trust CA -o DIR PACKAGE\n"
    "\n"
    "Verify a package like otatool verify does, then write each image to\n"
    "DIR/NAME.bin as it will be flashed (compressed images inflated). "
    "Nothing\n"
    "is written unless everything verified.\n"
    "\n"
    "  -o, --output DIR           where to write the images (created if "
    "missing)\n" CLI_TRUST_HELP
    "  -q, --quiet                no summary on stderr\n"
    "  -h, --help                 show this help\n"
    "\n"
    "See otatool-extract(1).\n";

static const struct option longopts[] = {
	CLI_TRUST_LONGOPTS,
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_extract(int argc, char **argv)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report r;
	struct ota_trust trust;
	const char *dir = NULL;
	bool quiet = false, created = false;
	int c, t, rc = 0;

	ota_trust_init(&trust);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		if ((t = cli_trust_option(&trust, c, optarg)) < 0) {
			rc = t;
			goto out;
		}
		if (t)
			continue;
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			goto out;
		default:
			ota_trust_clear(&trust);
			return cli_bad_option("extract", longopts, c, argv);
		}
	}
	if (argc - optind != 1 || !dir || ota_trust_empty(&trust)) {
		ota_trust_clear(&trust);
		return cli_usage_error(
		    "extract", argc - optind != 1 ? "expected one PACKAGE"
			       : !dir ? "no --output directory given"
				      : "nothing to trust: give "
					"--trust-key or --trust");
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
	rc = ota_package_check(&r, argv[optind], &o);
	/* Nothing written unless everything verified: not even the folder. */
	if (rc && created)
		rmdir(dir);
	if (rc == 0 && !quiet)
		for (size_t i = 0; i < r.n_images; i++)
			fprintf(stderr,
				"otatool: extract: %s/%s.bin (%llu bytes, "
				"verified)\n",
				dir, r.images[i].name,
				(unsigned long long)r.images[i].size);
	ota_package_report_clear(&r);
out:
	ota_trust_clear(&trust);
	return rc ? cli_fail("extract", rc) : 0;
}
