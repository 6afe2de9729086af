/* otatool --version [--json]: otatool's version and its libraries'. */
#include "cli.h"

#include "otatool/versions.h"

#include <stdio.h>
#include <stdlib.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool --version [--json]\n\n"
		 "Print otatool's version and the versions of the libraries "
		 "it runs with.\n\n"),
	CLI_FLAG("json", 0, "machine-readable output on stdout"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "--version", opts, CLI_FILE_NONE, 0 };

int cli_version(int argc, char **argv)
{
	struct ota_library_version libs[OTA_LIBRARY_VERSIONS_MAX];
	struct cli_args a;
	char *json = NULL;
	size_t n, len;
	int rc;

	if ((rc = cli_parse(&a, &spec, argc, argv)))
		return rc;
	if (a.help) {
		cli_help(&spec);
	} else if (cli_flag(&a, "json")) {
		if (!(rc = ota_versions_to_json(&json, &len)))
			fwrite(json, 1, len, stdout);
		free(json);
	} else {
		/* First line: "otatool VERSION", which scripts cut. */
		printf("otatool %s\n", ota_version());
		n = ota_library_versions(libs, OTA_LIBRARY_VERSIONS_MAX);
		for (size_t i = 0; i < n; i++)
			printf("  %-14s %s%s\n", libs[i].name, libs[i].version,
			       libs[i].runtime ? "" : " (built with)");
	}
	cli_args_free(&a);
	return rc;
}
