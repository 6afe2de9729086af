/* otatool diff: whether two packages or MCUboot images sign the same thing. */
#include "cli.h"

#include "otatool/diff.h"
#include "otatool/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool diff [OPTIONS] A B\n"
		 "\n"
		 "Say whether two otatool packages, or two MCUboot images, "
		 "carry the same\n"
		 "signed content (every field and byte their signatures "
		 "cover), and if\n"
		 "not, which fields or images differ: a rebuild check for "
		 "CI. Signatures\n"
		 "themselves are not compared. Exit status 0 when the same, "
		 "13 when not.\n"
		 "\n"),
	CLI_FLAG("json", 0, "the differences as JSON on stdout"),
	CLI_FLAG("quiet", 'q',
		 "no report on stdout; the exit status says it all"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-diff(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "diff", opts, CLI_FILE_IN, 0 };

static void print_json(const struct ota_diff *d, const char *a, const char *b)
{
	json_t *lines = json_array();
	json_t *o;
	char *text;

	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(
		    lines,
		    json_pack("{s:s, s:s, s:s}", "field", d->lines[i].field,
			      "a", d->lines[i].a, "b", d->lines[i].b));
	o = json_pack("{s:s, s:s, s:s, s:b, s:o, s:I}", "a", a, "b", b, "kind",
		      d->kind, "same", d->n == 0, "differences", lines, "more",
		      (json_int_t)d->n_more);
	text = json_dumps(o, JSON_INDENT(2));
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

static void print_text(const struct ota_diff *d, const char *a, const char *b)
{
	if (d->n == 0) {
		printf("%s and %s: the same signed content (%s)\n", a, b,
		       d->kind);
		return;
	}
	printf("%s and %s: the signed content differs (%s)\n", a, b, d->kind);
	for (size_t i = 0; i < d->n; i++) {
		if (!d->lines[i].a[0] && !d->lines[i].b[0])
			printf("  %s\n", d->lines[i].field);
		else
			printf("  %s:\n    - %s\n    + %s\n", d->lines[i].field,
			       d->lines[i].a, d->lines[i].b);
	}
	if (d->n_more)
		printf("  ... and %zu more\n", d->n_more);
}

int cmd_diff(int argc, char **argv)
{
	struct ota_diff *d = NULL;
	struct cli_args p;
	bool json, quiet;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	json = cli_flag(&p, "json");
	quiet = cli_flag(&p, "quiet");
	if (p.n_operands != 2) {
		rc = cli_usage_error("diff", "expected two files, A and B");
		goto out;
	}
	d = malloc(sizeof(*d));
	if (!d) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	rc = ota_diff_artifacts(d, p.operands[0], p.operands[1]);
	if (rc != 0 && rc != OTA_EDIFFERENT)
		goto out;
	if (json)
		print_json(d, p.operands[0], p.operands[1]);
	else if (!quiet)
		print_text(d, p.operands[0], p.operands[1]);
out:
	free(d);
	cli_args_free(&p);
	return rc;
}
