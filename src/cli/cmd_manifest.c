/* otatool manifest: release description + overrides -> canonical JSON. */
#include "cli.h"

#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/output.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: otatool manifest [OPTIONS] [RELEASE.yaml]\n"
    "\n"
    "Describe a firmware release as a canonical JSON manifest: version, git\n"
    "commit, build time and machine, hardware variants, minimum bootloader,\n"
    "security counter, dependencies, and every image's size and digest.\n"
    "Options override the release file; list options replace its list.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE          write the manifest to FILE (default stdout)\n"
    "  -q, --quiet                no progress or summary on stderr\n"
    "\n"
    "Release fields:\n"
    "      --name NAME            component name\n"
    "      --release-version VER  semantic version of the release\n"
    "      --hardware ID          compatible hardware variant (repeatable)\n"
    "      --bootloader-min VER   minimum bootloader version\n"
    "      --security-counter N   anti-rollback counter (0..4294967295)\n"
    "      --dependency NAME:RANGE  required component version (repeatable)\n"
    "      --image NAME:KIND:FILE[:LOAD_ADDRESS]  an image (repeatable)\n"
    "      --digest ALG           sha256 (default), sha384 or sha512\n"
    "\n"
    "Build and source:\n"
    "      --build-id ID          build machine or CI job id\n"
    "      --build-time TIME      RFC 3339 build time (default: "
    "SOURCE_DATE_EPOCH\n"
    "                             or now)\n"
    "      --git-dir DIR          repository to read (default: current "
    "directory)\n"
    "      --git-commit HASH      record this commit instead of reading git\n"
    "      --git-branch NAME      with --git-commit: the branch\n"
    "      --git-tag NAME         with --git-commit: the nearest tag\n"
    "      --allow-dirty          record a dirty tree instead of refusing\n"
    "      --allow-outside        read release-file images outside its "
    "directory\n"
    "\n"
    "Policy:\n"
    "      --previous FILE        previous release's manifest: refuse a "
    "version\n"
    "                             not higher or a lower security counter\n"
    "\n"
    "  -h, --help                 show this help\n"
    "\n"
    "See otatool-manifest(1) and otatool-manifest(5).\n";

enum {
	OPT_NAME = 256,
	OPT_VERSION,
	OPT_HARDWARE,
	OPT_BOOTLOADER_MIN,
	OPT_COUNTER,
	OPT_DEPENDENCY,
	OPT_IMAGE,
	OPT_DIGEST,
	OPT_BUILD_ID,
	OPT_BUILD_TIME,
	OPT_GIT_DIR,
	OPT_GIT_COMMIT,
	OPT_GIT_BRANCH,
	OPT_GIT_TAG,
	OPT_ALLOW_DIRTY,
	OPT_ALLOW_OUTSIDE,
	OPT_PREVIOUS,
};

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "release-version", required_argument, NULL, OPT_VERSION },
	{ "hardware", required_argument, NULL, OPT_HARDWARE },
	{ "bootloader-min", required_argument, NULL, OPT_BOOTLOADER_MIN },
	{ "security-counter", required_argument, NULL, OPT_COUNTER },
	{ "dependency", required_argument, NULL, OPT_DEPENDENCY },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "digest", required_argument, NULL, OPT_DIGEST },
	{ "build-id", required_argument, NULL, OPT_BUILD_ID },
	{ "build-time", required_argument, NULL, OPT_BUILD_TIME },
	{ "git-dir", required_argument, NULL, OPT_GIT_DIR },
	{ "git-commit", required_argument, NULL, OPT_GIT_COMMIT },
	{ "git-branch", required_argument, NULL, OPT_GIT_BRANCH },
	{ "git-tag", required_argument, NULL, OPT_GIT_TAG },
	{ "allow-dirty", no_argument, NULL, OPT_ALLOW_DIRTY },
	{ "allow-outside", no_argument, NULL, OPT_ALLOW_OUTSIDE },
	{ "previous", required_argument, NULL, OPT_PREVIOUS },
	{ NULL, 0, NULL, 0 },
};

/* Option -> manifest field, for the options that only set a field. */
static const struct {
	int opt;
	const char *field;
} field_opts[] = {
	{ OPT_NAME, "name" },
	{ OPT_VERSION, "version" },
	{ OPT_HARDWARE, "hardware" },
	{ OPT_BOOTLOADER_MIN, "bootloader-min" },
	{ OPT_COUNTER, "security-counter" },
	{ OPT_DEPENDENCY, "dependency" },
	{ OPT_IMAGE, "image" },
	{ OPT_DIGEST, "digest" },
	{ OPT_BUILD_ID, "build-id" },
	{ OPT_BUILD_TIME, "build-time" },
	{ OPT_GIT_COMMIT, "git-commit" },
	{ OPT_GIT_BRANCH, "git-branch" },
	{ OPT_GIT_TAG, "git-tag" },
};

static const char *option_name(int opt)
{
	for (const struct option *o = longopts; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

/*
 * Applies the field options in command-line order, after the release file
 * is loaded, so they override it; the first use of a list option empties
 * the list the file gave.
 */
static int apply_overrides(struct ota_manifest *m, int argc, char **argv)
{
	bool cleared[3] = { false, false, false };
	static const char *const lists[3] = { "hardware", "dependency",
					      "image" };
	char origin[64];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		for (size_t i = 0;
		     i < sizeof(field_opts) / sizeof(field_opts[0]); i++) {
			if (field_opts[i].opt != c)
				continue;
			for (size_t k = 0; k < 3; k++) {
				if (strcmp(field_opts[i].field, lists[k]) !=
					0 ||
				    cleared[k])
					continue;
				ota_manifest_clear_list(m, lists[k]);
				cleared[k] = true;
			}
			snprintf(origin, sizeof(origin), "--%s",
				 option_name(c));
			rc = ota_manifest_set(m, field_opts[i].field, optarg,
					      origin);
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
	struct ota_output *out = NULL;
	struct cli_progress progress;
	const char *output = NULL, *previous = NULL, *release = NULL;
	bool quiet = false;
	char *json = NULL;
	size_t len = 0;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_GIT_DIR:
			ropts.git_dir = optarg;
			break;
		case OPT_ALLOW_DIRTY:
			ropts.allow_dirty = true;
			break;
		case OPT_ALLOW_OUTSIDE:
			ropts.allow_outside = true;
			break;
		case OPT_PREVIOUS:
			previous = optarg;
			break;
		case '?':
		case ':':
			return cli_bad_option("manifest", longopts, c, argv);
		default:
			break; /* field options: applied after the file */
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("manifest",
				       "expected at most one release file, got "
				       "'%s' and '%s'",
				       argv[optind], argv[optind + 1]);
	if (optind < argc)
		release = argv[optind];

	if ((rc = ota_manifest_new(&m)))
		goto out;
	if (release && (rc = ota_manifest_load_yaml(m, release)))
		goto out;
	if ((rc = apply_overrides(m, argc, argv)))
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
	    (rc = ota_output_open(&out, output, 0644, 0)) ||
	    (rc = ota_output_write(out, json, len)))
		goto out;
	rc = ota_output_commit(out);
	out = NULL;
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
	ota_output_abort(out);
	free(json);
	ota_manifest_free(prev);
	ota_manifest_free(m);
	return rc ? cli_fail("manifest", rc) : 0;
}
