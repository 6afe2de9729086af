/* otatool manifest: release description + overrides -> canonical JSON. */
#include "cli.h"

#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/output.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool manifest [OPTIONS] [RELEASE.yaml]\n"
		 "\n"
		 "Describe a firmware release as a canonical JSON manifest: "
		 "version, git\n"
		 "commit, build time and machine, hardware variants, minimum "
		 "bootloader,\n"
		 "security counter, dependencies, and every image's size and "
		 "digest.\n"
		 "Options override the release file; list options replace its "
		 "list.\n"
		 "\n"
		 "Output:\n"),
	CLI_VALUE("output", 'o', "FILE", CLI_FILE_OUT,
		  "write the manifest to FILE (default stdout)"),
	CLI_FLAG("quiet", 'q', "no progress or summary on stderr"),
	CLI_TEXT("\nRelease fields:\n"),
	CLI_VALUE("name", 0, "NAME", CLI_FILE_NONE, "component name"),
	CLI_VALUE("release-version", 0, "VER", CLI_FILE_NONE,
		  "semantic version of the release"),
	CLI_LIST("hardware", 0, "ID", CLI_FILE_NONE, 0,
		 "compatible hardware variant (repeatable)"),
	CLI_VALUE("bootloader-min", 0, "VER", CLI_FILE_NONE,
		  "minimum bootloader version"),
	CLI_VALUE("security-counter", 0, "N", CLI_FILE_NONE,
		  "anti-rollback counter (0..4294967295)"),
	CLI_LIST("dependency", 0, "NAME:RANGE", CLI_FILE_NONE, 0,
		 "required component version (repeatable)"),
	CLI_LIST("image", 0, "NAME:KIND:FILE[:LOAD_ADDRESS]", CLI_FILE_NONE, 0,
		 "an image (repeatable)"),
	CLI_VALUE("digest", 0, "ALG", CLI_FILE_NONE,
		  "sha256 (default), sha384 or sha512"),
	CLI_TEXT("\nBuild and source:\n"),
	CLI_VALUE("build-id", 0, "ID", CLI_FILE_NONE,
		  "build machine or CI job id"),
	CLI_VALUE("build-time", 0, "TIME", CLI_FILE_NONE,
		  "RFC 3339 build time (default: SOURCE_DATE_EPOCH\n"
		  "or now)"),
	CLI_VALUE("git-dir", 0, "DIR", CLI_FILE_IN,
		  "repository to read (default: current directory)"),
	CLI_VALUE("git-commit", 0, "HASH", CLI_FILE_NONE,
		  "record this commit instead of reading git"),
	CLI_VALUE("git-branch", 0, "NAME", CLI_FILE_NONE,
		  "with --git-commit: the branch"),
	CLI_VALUE("git-tag", 0, "NAME", CLI_FILE_NONE,
		  "with --git-commit: the nearest tag"),
	CLI_FLAG("allow-dirty", 0, "record a dirty tree instead of refusing"),
	CLI_FLAG("allow-outside", 0,
		 "read release-file images outside its directory"),
	CLI_TEXT("\nPolicy:\n"),
	CLI_VALUE("previous", 0, "FILE", CLI_FILE_IN,
		  "previous release's manifest: refuse a version\n"
		  "not higher or a lower security counter"),
	CLI_TEXT("\n"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-manifest(1) and otatool-manifest(5).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "manifest", opts, CLI_FILE_IN, 0 };

/* Option -> manifest field, for the options that only set a field. */
static const struct {
	const char *opt, *field;
} field_opts[] = {
	{ "name", "name" },
	{ "release-version", "version" },
	{ "hardware", "hardware" },
	{ "bootloader-min", "bootloader-min" },
	{ "security-counter", "security-counter" },
	{ "dependency", "dependency" },
	{ "image", "image" },
	{ "digest", "digest" },
	{ "build-id", "build-id" },
	{ "build-time", "build-time" },
	{ "git-commit", "git-commit" },
	{ "git-branch", "git-branch" },
	{ "git-tag", "git-tag" },
};

/*
 * Applies the field options in command-line order, after the release file
 * is loaded, so they override it; the first use of a list option empties
 * the list the file gave.
 */
static int apply_overrides(struct ota_manifest *m, const struct cli_args *a)
{
	bool cleared[3] = { false, false, false };
	static const char *const lists[3] = { "hardware", "dependency",
					      "image" };
	char origin[64];
	int rc;

	for (size_t f = 0; f < a->n_found; f++) {
		const char *name = a->found[f].opt->name;

		for (size_t i = 0;
		     i < sizeof(field_opts) / sizeof(field_opts[0]); i++) {
			if (strcmp(field_opts[i].opt, name) != 0)
				continue;
			for (size_t k = 0; k < 3; k++) {
				if (strcmp(field_opts[i].field, lists[k]) !=
					0 ||
				    cleared[k])
					continue;
				ota_manifest_clear_list(m, lists[k]);
				cleared[k] = true;
			}
			snprintf(origin, sizeof(origin), "--%s", name);
			rc = ota_manifest_set(m, field_opts[i].field,
					      a->found[f].value, origin);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* Image paths are recorded relative to where the manifest will lie. */
static int rebase(struct ota_manifest *m, const char *output)
{
	char *copy;
	int rc;

	if (!output || strcmp(output, "-") == 0)
		return ota_manifest_rebase_files(m, ".");
	copy = strdup(output);
	if (!copy)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = ota_manifest_rebase_files(m, dirname(copy));
	free(copy);
	return rc ? ota_error_wrap(rc, "%s", output) : 0;
}

int cmd_manifest(int argc, char **argv)
{
	struct ota_manifest *m = NULL, *prev = NULL;
	struct ota_resolve_opts ropts = { 0 };
	struct cli_progress progress;
	const char *output = NULL, *previous = NULL, *release = NULL;
	bool quiet = false;
	char *json = NULL;
	size_t len = 0;
	struct cli_args a;
	int rc;

	if ((rc = cli_parse(&a, &spec, argc, argv)))
		return rc;
	if (a.help) {
		cli_help(&spec);
		goto out;
	}
	output = cli_value(&a, "output");
	quiet = cli_flag(&a, "quiet");
	ropts.git_dir = cli_value(&a, "git-dir");
	ropts.allow_dirty = cli_flag(&a, "allow-dirty");
	ropts.allow_outside = cli_flag(&a, "allow-outside");
	previous = cli_value(&a, "previous");
	if (a.n_operands > 1) {
		rc = cli_usage_error("manifest",
				     "expected at most one release file, got "
				     "'%s' and '%s'",
				     a.operands[0], a.operands[1]);
		goto out;
	}
	if (a.n_operands)
		release = a.operands[0];

	if ((rc = ota_manifest_new(&m)))
		goto out;
	if (release && (rc = ota_manifest_load_yaml(m, release)))
		goto out;
	if ((rc = apply_overrides(m, &a)))
		goto out;
	if (previous) {
		if ((rc = ota_manifest_new(&prev)) ||
		    (rc = ota_manifest_load_json(prev, previous)))
			goto out;
	}
	ropts.source = release;
	cli_progress_init(&progress, quiet);
	progress.label = "hashing images";
	ropts.progress = cli_progress_cb;
	ropts.progress_ctx = &progress;
	if ((rc = ota_manifest_resolve(m, &ropts)))
		goto out;
	if (prev && (rc = ota_manifest_check_previous(m, prev, previous)))
		goto out;
	if ((rc = rebase(m, output)))
		goto out;
	if ((rc = ota_manifest_to_json(&json, &len, m)) ||
	    (rc = ota_output_write_file(output, json, len, 0644, 0)))
		goto out;
	if (rc == 0 && !quiet && output && strcmp(output, "-") != 0) {
		uint64_t total = 0;

		for (size_t i = 0; i < m->n_images; i++)
			total += m->images[i].size;
		fprintf(stderr,
			"otatool: manifest: wrote %s (%zu image%s, "
			"%llu bytes hashed)\n",
			output, m->n_images, m->n_images == 1 ? "" : "s",
			(unsigned long long)total);
	}
out:
	free(json);
	ota_manifest_free(prev);
	ota_manifest_free(m);
	cli_args_free(&a);
	return rc;
}
