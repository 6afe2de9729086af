/*
 * otatool package: a release file (manifest, sign, package in one go) or a
 * manifest, signed or not, into an otatool package or an MCUboot image.
 */
#include "cli.h"

#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/parse.h"
#include "otatool/signer.h"
#include "otatool/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COMPRESS 32

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool package [OPTIONS] --key KEY -o OUTPUT INPUT\n"
		 "\n"
		 "INPUT is a release file (RELEASE.yaml: manifest, sign and "
		 "package in one\n"
		 "go, reading every image once) or a manifest written by "
		 "'otatool manifest',\n"
		 "signed or not (the two-step flow: a signed manifest's "
		 "signatures must\n"
		 "verify first). The package is signed with every --key.\n"
		 "\n"
		 "Output:\n"),
	CLI_VALUE("output", 'o', "FILE", CLI_FILE_OUT,
		  "the package (required)"),
	CLI_VALUE("format", 0, "FMT", CLI_FILE_NONE,
		  "otatool (default) or mcuboot"),
	CLI_FLAG("quiet", 'q', "no progress or summary on stderr"),
	CLI_TEXT("\nKeys:\n"),
	CLI_GROUP(cli_key_opts),
	CLI_TEXT("\notatool format:\n"),
	CLI_VALUE("alignment", 0, "BYTES", CLI_FILE_NONE,
		  "payload alignment, a power of two from 16 to\n"
		  "1048576 (flash page size; default 4096)"),
	CLI_FLAG("compress", 0, "store every image zlib-compressed"),
	CLI_LIST("compress-image", 0, "NAME", CLI_FILE_NONE, MAX_COMPRESS,
		 "store this image compressed (repeatable)"),
	CLI_TEXT("\nMCUboot format (one image, one key):\n"),
	CLI_VALUE("image", 0, "NAME", CLI_FILE_NONE,
		  "the manifest's image to sign (default: the only\n"
		  "one, else the application image)"),
	CLI_VALUE("header-size", 0, "N", CLI_FILE_NONE,
		  "header area incl. padding (default 0x200)"),
	CLI_VALUE("slot-size", 0, "N", CLI_FILE_NONE,
		  "refuse an image that does not fit the slot"),
	CLI_VALUE("write-align", 0, "N", CLI_FILE_NONE,
		  "flash write alignment 1..32 (default 8)"),
	CLI_VALUE("erased-value", 0, "V", CLI_FILE_NONE, "0xff (default) or 0"),
	CLI_FLAG("rom-fixed", 0, "the load address is a fixed flash address"),
	CLI_FLAG("public-key-tlv", 0, "embed the public key, not its hash"),
	CLI_LIST("mcuboot-dependency", 0, "ID:VERSION", CLI_FILE_NONE,
		 OTA_MCUBOOT_MAX_DEPS, "required image version (repeatable)"),
	CLI_VALUE("build-number", 0, "N", CLI_FILE_NONE,
		  "the version's build number"),
	CLI_TEXT("\nRelease file input:\n"),
	CLI_VALUE("git-dir", 0, "DIR", CLI_FILE_IN,
		  "repository to read (default: current directory)"),
	CLI_FLAG("allow-dirty", 0, "record a dirty tree instead of refusing"),
	CLI_FLAG("allow-outside", 0,
		 "read release-file images outside its directory"),
	CLI_TEXT("\nTrust: a signed manifest input must verify against it "
		 "(default: the\n"
		 "--key keys themselves); with --trust, every --key's chain "
		 "(--cert,\n"
		 "--chain) must verify before anything is signed:\n"),
	CLI_GROUP(cli_trust_opts),
	CLI_TEXT("\n"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-package(1), otatool-package(5).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "package", opts, CLI_FILE_IN, 0 };

/* Options that belong to one format, to refuse them with the other. */
static const char *const otatool_only[] = { "alignment", "compress",
					    "compress-image" };
static const char *const mcuboot_only[] = {
	"image",          "header-size",        "slot-size",
	"write-align",    "erased-value",       "rom-fixed",
	"public-key-tlv", "mcuboot-dependency", "build-number",
};

struct package_args {
	const char *otatool_opt, *mcuboot_opt; /* one given, for errors */
	struct cli_signers names;
	struct ota_signers *signers;
	struct ota_trust trust;
	const char *output, *input, *image, *git_dir;
	bool mcuboot, quiet, allow_dirty, allow_outside;
	struct ota_package_opts popts;
	const char *compress[MAX_COMPRESS];
	struct ota_mcuboot_opts mopts;
	int64_t build_number;
};

static bool is_yaml(const char *path)
{
	size_t n = strlen(path);

	return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

/* The manifest: resolved from a release file, or read from a manifest. */
static int load_manifest(struct ota_manifest **m, struct package_args *a)
{
	struct ota_envelope_load_opts lo = { .trust = &a->trust,
					     .unsigned_ok = true };
	struct ota_envelope *e = NULL;
	int rc = 0;

	if (is_yaml(a->input)) {
		struct ota_resolve_opts ro = {
			.source = a->input,
			.git_dir = a->git_dir,
			.allow_dirty = a->allow_dirty,
			.allow_outside = a->allow_outside,
			/* Hashed once, while they are copied in. */
			.skip_digests = true,
		};

		if ((rc = ota_manifest_new(m)) ||
		    (rc = ota_manifest_load_yaml(*m, a->input)))
			return rc;
		return ota_manifest_resolve(*m, &ro);
	}
	/* Without explicit trust, the packaging keys must have signed. */
	if (ota_trust_empty(&a->trust))
		rc = ota_signers_trust(&a->trust, a->signers);
	if (rc == 0)
		rc = ota_envelope_load_manifest(&e, m, a->input, &lo);
	ota_envelope_free(e);
	return rc;
}

static int package_otatool(struct package_args *a, struct ota_manifest *m)
{
	return ota_package_write(a->output, m, a->signers, &a->popts);
}

static int package_mcuboot(struct package_args *a, struct ota_manifest *m,
			   struct cli_progress *progress)
{
	const struct ota_image *img = NULL;
	size_t i;
	int rc;

	if (ota_signers_count(a->signers) != 1)
		return ota_error(OTA_EUSAGE,
				 "an MCUboot image carries one signature: give "
				 "one --key");
	for (i = 0; i < m->n_images; i++) {
		const struct ota_image *c = &m->images[i];

		if (a->image ? strcmp(c->name, a->image) == 0
			     : (m->n_images == 1 ||
				strcmp(c->kind, "application") == 0)) {
			img = c;
			break;
		}
	}
	if (!img)
		return ota_error(OTA_EUSAGE,
				 a->image ? "--image %s: no image of that name"
					  : "%s: several images and none of "
					    "kind application: choose one with "
					    "--image",
				 a->image ? a->image : a->input);
	if ((rc = ota_mcuboot_version_from_semver(
		 &a->mopts.version, &m->version, a->build_number)))
		return ota_error_wrap(rc, "%s: version", a->input);
	if (img->has_load_address) {
		if (img->load_address > UINT32_MAX)
			return ota_error(OTA_EINPUT,
					 "image %s: load address 0x%llx does "
					 "not fit MCUboot's 32 bits",
					 img->name,
					 (unsigned long long)img->load_address);
		a->mopts.has_load_address = true;
		a->mopts.load_address = (uint32_t)img->load_address;
	}
	a->mopts.has_security_counter = true;
	a->mopts.security_counter = m->security_counter;
	/* The manifest's digest of this image must still hold. */
	if (img->digest.len &&
	    (rc = ota_manifest_check_image(m, i, cli_progress_cb, progress)))
		return rc;
	return ota_mcuboot_write(a->output, img->path, a->signers, &a->mopts,
				 cli_progress_cb, progress);
}

/* A bad option value is a usage error (exit 2), naming the option. */
static int parse_number(uint64_t *out, const char *arg, uint64_t max,
			const char *opt)
{
	int rc = ota_parse_uint(out, arg, max, opt);

	return rc ? ota_error_wrap(OTA_EUSAGE, "bad value") : 0;
}

/* The first option of names[] given, or NULL. */
static const char *given(const struct cli_args *p, const char *const *names,
			 size_t n)
{
	for (size_t f = 0; f < p->n_found; f++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(p->found[f].opt->name, names[i]) == 0)
				return names[i];
	return NULL;
}

static int parse_mcuboot_dep(struct package_args *a, const char *arg)
{
	struct ota_mcuboot_dep *d = &a->mopts.deps[a->mopts.n_deps];
	const char *colon = strchr(arg, ':');
	struct ota_semver v;
	char id[16];
	uint64_t n;

	if (!colon)
		return cli_usage_error("package",
				       "--mcuboot-dependency: '%s' is not "
				       "ID:VERSION",
				       arg);
	snprintf(id, sizeof(id), "%.*s", (int)(colon - arg), arg);
	/* Any fault in the value is a usage error, named once. */
	if (ota_parse_uint(&n, id, 255, "image id") ||
	    ota_semver_parse(&v, colon + 1) ||
	    ota_mcuboot_version_from_semver(&d->min_version, &v, -1))
		return ota_error_wrap(OTA_EUSAGE, "--mcuboot-dependency");
	d->image_id = (uint8_t)n;
	a->mopts.n_deps++;
	return 0;
}

/* The otatool format's options. */
static int parse_otatool_opts(struct package_args *a, const struct cli_args *p)
{
	const char *v = cli_value(p, "alignment");
	uint64_t n;
	int rc;

	if (v) {
		if ((rc = parse_number(&n, v, UINT32_MAX, "--alignment")))
			return rc;
		if (n < 16 || n > (1u << 20) || (n & (n - 1)))
			return cli_usage_error("package",
					       "--alignment %s: not a power of "
					       "two from 16 to 1048576",
					       v);
		a->popts.alignment = (uint32_t)n;
	}
	a->popts.compress_all = cli_flag(p, "compress");
	a->popts.n_compress = cli_count(p, "compress-image");
	for (size_t i = 0; i < a->popts.n_compress; i++)
		a->compress[i] = cli_nth(p, "compress-image", i);
	return 0;
}

/* The MCUboot format's options. */
static int parse_mcuboot_opts(struct package_args *a, const struct cli_args *p)
{
	const char *v;
	uint64_t n;
	int rc;

	a->image = cli_value(p, "image");
	if ((v = cli_value(p, "header-size"))) {
		if ((rc = parse_number(&n, v, UINT16_MAX, "--header-size")))
			return rc;
		if (n < 32)
			return cli_usage_error(
			    "package",
			    "--header-size %s: MCUboot needs "
			    "32 to 65535 bytes",
			    v);
		a->mopts.header_size = (uint16_t)n;
	}
	if ((v = cli_value(p, "slot-size"))) {
		if ((rc = parse_number(&n, v, UINT32_MAX, "--slot-size")))
			return rc;
		a->mopts.slot_size = (uint32_t)n;
	}
	if ((v = cli_value(p, "write-align"))) {
		if ((rc = parse_number(&n, v, 32, "--write-align")))
			return rc;
		if (n == 0 || (n & (n - 1)))
			return cli_usage_error("package",
					       "--write-align %s: 1, 2, 4, 8, "
					       "16 or 32",
					       v);
		a->mopts.align = (uint32_t)n;
	}
	if ((v = cli_value(p, "erased-value"))) {
		if ((rc = parse_number(&n, v, 0xff, "--erased-value")))
			return rc;
		if (n != 0 && n != 0xff)
			return cli_usage_error("package",
					       "--erased-value: 0xff or 0");
		a->mopts.erased_value = (uint8_t)n;
	}
	a->mopts.rom_fixed = cli_flag(p, "rom-fixed");
	a->mopts.public_key_tlv = cli_flag(p, "public-key-tlv");
	for (size_t i = 0; i < cli_count(p, "mcuboot-dependency"); i++)
		if ((rc = parse_mcuboot_dep(
			 a, cli_nth(p, "mcuboot-dependency", i))))
			return rc;
	if ((v = cli_value(p, "build-number"))) {
		if ((rc = parse_number(&n, v, UINT32_MAX, "--build-number")))
			return rc;
		a->build_number = (int64_t)n;
	}
	return 0;
}

static int parse_args(struct package_args *a, const struct cli_args *p)
{
	const char *fmt = cli_value(p, "format");
	int rc;

	if ((rc = cli_signers_from_args(&a->names, "package", p)) ||
	    (rc = cli_trust_load(&a->trust, p)))
		return rc;
	a->output = cli_value(p, "output");
	a->quiet = cli_flag(p, "quiet");
	a->git_dir = cli_value(p, "git-dir");
	a->allow_dirty = cli_flag(p, "allow-dirty");
	a->allow_outside = cli_flag(p, "allow-outside");
	if (fmt && strcmp(fmt, "otatool") && strcmp(fmt, "mcuboot"))
		return cli_usage_error("package",
				       "--format: '%s' is not otatool or "
				       "mcuboot",
				       fmt);
	a->mcuboot = fmt && strcmp(fmt, "mcuboot") == 0;
	if ((rc = parse_otatool_opts(a, p)) || (rc = parse_mcuboot_opts(a, p)))
		return rc;
	if (p->n_operands != 1)
		return cli_usage_error("package", "expected one INPUT");
	a->input = p->operands[0];
	if (!a->output)
		return cli_usage_error("package", "no --output given");
	a->otatool_opt = given(p, otatool_only, 3);
	a->mcuboot_opt = given(p, mcuboot_only,
			       sizeof(mcuboot_only) / sizeof(*mcuboot_only));
	if (a->mcuboot && a->otatool_opt)
		return cli_usage_error("package",
				       "--%s is for the otatool format, not "
				       "--format mcuboot",
				       a->otatool_opt);
	if (!a->mcuboot && a->mcuboot_opt)
		return cli_usage_error(
		    "package", "--%s is for --format mcuboot", a->mcuboot_opt);
	if (a->names.opts.n_keys == 0)
		return cli_usage_error("package", "no --key given");
	return 0;
}

int cmd_package(int argc, char **argv)
{
	struct package_args a = { 0 };
	struct ota_manifest *m = NULL;
	struct cli_progress progress;
	struct cli_args p;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&a.trust);
	a.build_number = -1;
	a.mopts.header_size = 0x200;
	a.mopts.erased_value = 0xff;
	a.mopts.align = 8;
	a.popts.compress = a.compress;
	if (p.help)
		cli_help(&spec);
	if (p.help || (rc = parse_args(&a, &p)))
		goto out;
	cli_progress_init(&progress, a.quiet);
	progress.label = "packaging";
	a.popts.progress = cli_progress_cb;
	a.popts.progress_ctx = &progress;
	if ((rc = ota_signers_open(&a.signers, &a.names.opts)) ||
	    (rc = ota_signers_check_chains(a.signers, &a.trust,
					   (int64_t)time(NULL))) ||
	    (rc = load_manifest(&m, &a)))
		goto out;
	rc = a.mcuboot ? package_mcuboot(&a, m, &progress)
		       : package_otatool(&a, m);
	if (rc == 0 && !a.quiet)
		fprintf(stderr,
			"otatool: package: wrote %s (%s, %zu image%s, "
			"%zu signature%s)\n",
			a.output, a.mcuboot ? "MCUboot" : "otatool package",
			a.mcuboot ? (size_t)1 : m->n_images,
			!a.mcuboot && m->n_images != 1 ? "s" : "",
			ota_signers_count(a.signers),
			ota_signers_count(a.signers) == 1 ? "" : "s");
out:
	ota_manifest_free(m);
	ota_signers_free(a.signers);
	ota_trust_clear(&a.trust);
	cli_args_free(&p);
	return rc;
}
