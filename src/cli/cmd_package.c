/*
 * otatool package: a release file (manifest, sign, package in one go) or a
 * manifest, signed or not, into an otatool package or an MCUboot image.
 */
#include "cli.h"
#include "keyopts.h"
#include "trustopts.h"

#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: otatool package [OPTIONS] --key KEY -o OUTPUT INPUT\n"
    "\n"
    "INPUT is a release file (RELEASE.yaml: manifest, sign and package in "
    "one\n"
    "go, reading every image once) or a manifest written by 'otatool "
    "manifest',\n"
    "signed or not (the two-step flow: a signed manifest's signatures must\n"
    "verify first). The package is signed with every --key.\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE          the package (required)\n"
    "      --format FMT           otatool (default) or mcuboot\n"
    "  -q, --quiet                no progress or summary on stderr\n"
    "\n"
    "Keys:\n" CLI_KEY_HELP "\n"
    "otatool format:\n"
    "      --alignment BYTES      payload alignment, a power of two from 16 "
    "to\n"
    "                             1048576 (flash page size; default 4096)\n"
    "      --compress             store every image zlib-compressed\n"
    "      --compress-image NAME  store this image compressed (repeatable)\n"
    "\n"
    "MCUboot format (one image, one key):\n"
    "      --image NAME           the manifest's image to sign (default: "
    "the only\n"
    "                             one, else the application image)\n"
    "      --header-size N        header area incl. padding (default "
    "0x200)\n"
    "      --slot-size N          refuse an image that does not fit the "
    "slot\n"
    "      --write-align N        flash write alignment 1..32 (default 8)\n"
    "      --erased-value V       0xff (default) or 0\n"
    "      --rom-fixed            the load address is a fixed flash "
    "address\n"
    "      --public-key-tlv       embed the public key, not its hash\n"
    "      --mcuboot-dependency ID:VERSION  required image version "
    "(repeatable)\n"
    "      --build-number N       the version's build number\n"
    "\n"
    "Release file input:\n"
    "      --git-dir DIR          repository to read (default: current "
    "directory)\n"
    "      --allow-dirty          record a dirty tree instead of refusing\n"
    "\n"
    "Trust: a signed manifest input must verify against it (default: the\n"
    "--key keys themselves); with --trust, every --key's chain (--cert,\n"
    "--chain) must verify before anything is signed:\n" CLI_TRUST_HELP "\n"
    "  -h, --help                 show this help\n"
    "\n"
    "See otatool-package(1), otatool-package(5).\n";

enum {
	OPT_FORMAT = 256,
	OPT_ALIGNMENT,
	OPT_COMPRESS,
	OPT_COMPRESS_IMAGE,
	OPT_IMAGE,
	OPT_HEADER_SIZE,
	OPT_SLOT_SIZE,
	OPT_WRITE_ALIGN,
	OPT_ERASED,
	OPT_ROM_FIXED,
	OPT_PUBKEY_TLV,
	OPT_MCUBOOT_DEP,
	OPT_BUILD_NUMBER,
	OPT_GIT_DIR,
	OPT_ALLOW_DIRTY,
};

static const struct option longopts[] = {
	CLI_KEY_LONGOPTS,
	CLI_TRUST_LONGOPTS,
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "alignment", required_argument, NULL, OPT_ALIGNMENT },
	{ "compress", no_argument, NULL, OPT_COMPRESS },
	{ "compress-image", required_argument, NULL, OPT_COMPRESS_IMAGE },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "header-size", required_argument, NULL, OPT_HEADER_SIZE },
	{ "slot-size", required_argument, NULL, OPT_SLOT_SIZE },
	{ "write-align", required_argument, NULL, OPT_WRITE_ALIGN },
	{ "erased-value", required_argument, NULL, OPT_ERASED },
	{ "rom-fixed", no_argument, NULL, OPT_ROM_FIXED },
	{ "public-key-tlv", no_argument, NULL, OPT_PUBKEY_TLV },
	{ "mcuboot-dependency", required_argument, NULL, OPT_MCUBOOT_DEP },
	{ "build-number", required_argument, NULL, OPT_BUILD_NUMBER },
	{ "git-dir", required_argument, NULL, OPT_GIT_DIR },
	{ "allow-dirty", no_argument, NULL, OPT_ALLOW_DIRTY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_COMPRESS 32

struct package_args {
	const char *otatool_opt, *mcuboot_opt; /* one given, for errors */
	struct cli_keys keys;
	struct ota_trust trust;
	const char *output, *input, *image, *git_dir;
	bool mcuboot, quiet, allow_dirty;
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
		for (size_t i = 0; rc == 0 && i < a->keys.n; i++)
			rc = ota_trust_add_pkey(&a->trust,
						ota_key_public(a->keys.keys[i]),
						a->keys.refs[i]);
	if (rc == 0)
		rc = ota_envelope_load_manifest(&e, m, a->input, &lo);
	ota_envelope_free(e);
	return rc;
}

static int package_otatool(struct package_args *a, struct ota_manifest *m)
{
	struct ota_package_signer signers[CLI_MAX_KEYS];

	for (size_t i = 0; i < a->keys.n; i++) {
		signers[i].key = a->keys.keys[i];
		signers[i].n_certs = ota_key_certs(
		    a->keys.keys[i], &signers[i].certs, &signers[i].cert_lens);
	}
	return ota_package_write(a->output, m, signers, a->keys.n, &a->popts);
}

static int package_mcuboot(struct package_args *a, struct ota_manifest *m,
			   struct cli_progress *progress)
{
	const struct ota_image *img = NULL;
	size_t i;
	int rc;

	if (a->keys.n != 1)
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
	return ota_mcuboot_write(a->output, img->path, a->keys.keys[0],
				 &a->mopts, cli_progress_cb, progress);
}

/* A bad option value is a usage error (exit 2), naming the option. */
static int parse_number(uint64_t *out, const char *arg, uint64_t max,
			const char *opt)
{
	int rc = ota_parse_uint(out, arg, max, opt);

	return rc ? ota_error_wrap(OTA_EUSAGE, "bad value") : 0;
}

/* Options that belong to one format: remembered to refuse the other. */
static void note_format_option(struct package_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_ALIGNMENT:
	case OPT_COMPRESS:
	case OPT_COMPRESS_IMAGE:
		a->otatool_opt = arg;
		break;
	case OPT_IMAGE:
	case OPT_HEADER_SIZE:
	case OPT_SLOT_SIZE:
	case OPT_WRITE_ALIGN:
	case OPT_ERASED:
	case OPT_ROM_FIXED:
	case OPT_PUBKEY_TLV:
	case OPT_MCUBOOT_DEP:
	case OPT_BUILD_NUMBER:
		a->mcuboot_opt = arg;
		break;
	default:
		break;
	}
}

static int parse_args(struct package_args *a, int argc, char **argv)
{
	uint64_t n;
	int c, t, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":k:o:qh", longopts, NULL)) != -1) {
		if ((t = cli_keys_option(&a->keys, "package", c, optarg)) > 1)
			return t;
		if (t)
			continue;
		if ((t = cli_trust_option(&a->trust, c, optarg)) < 0)
			return cli_fail("package", t);
		if (t)
			continue;
		rc = 0;
		note_format_option(a, c, argv[optind - 1]);
		switch (c) {
		case 'o':
			a->output = optarg;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "otatool") &&
			    strcmp(optarg, "mcuboot"))
				return cli_usage_error(
				    "package",
				    "--format: '%s' is not otatool or "
				    "mcuboot",
				    optarg);
			a->mcuboot = strcmp(optarg, "mcuboot") == 0;
			break;
		case OPT_ALIGNMENT:
			rc =
			    parse_number(&n, optarg, UINT32_MAX, "--alignment");
			if (!rc && (n < 16 || n > (1u << 20) || (n & (n - 1))))
				return cli_usage_error(
				    "package",
				    "--alignment %s: not a power of two "
				    "from 16 to 1048576",
				    optarg);
			a->popts.alignment = (uint32_t)n;
			break;
		case OPT_COMPRESS:
			a->popts.compress_all = true;
			break;
		case OPT_COMPRESS_IMAGE:
			if (a->popts.n_compress == MAX_COMPRESS)
				return cli_usage_error("package",
						       "too many "
						       "--compress-image");
			a->compress[a->popts.n_compress++] = optarg;
			break;
		case OPT_IMAGE:
			a->image = optarg;
			break;
		case OPT_HEADER_SIZE:
			rc = parse_number(&n, optarg, UINT16_MAX,
					  "--header-size");
			if (!rc && n < 32)
				return cli_usage_error(
				    "package",
				    "--header-size %s: MCUboot needs 32 to "
				    "65535 bytes",
				    optarg);
			a->mopts.header_size = (uint16_t)n;
			break;
		case OPT_SLOT_SIZE:
			rc =
			    parse_number(&n, optarg, UINT32_MAX, "--slot-size");
			a->mopts.slot_size = (uint32_t)n;
			break;
		case OPT_WRITE_ALIGN:
			rc = parse_number(&n, optarg, 32, "--write-align");
			if (!rc && (n == 0 || (n & (n - 1))))
				return cli_usage_error(
				    "package",
				    "--write-align %s: 1, 2, 4, 8, 16 or 32",
				    optarg);
			a->mopts.align = (uint32_t)n;
			break;
		case OPT_ERASED:
			rc = parse_number(&n, optarg, 0xff, "--erased-value");
			if (!rc && n != 0 && n != 0xff)
				return cli_usage_error(
				    "package", "--erased-value: 0xff or 0");
			a->mopts.erased_value = (uint8_t)n;
			break;
		case OPT_ROM_FIXED:
			a->mopts.rom_fixed = true;
			break;
		case OPT_PUBKEY_TLV:
			a->mopts.public_key_tlv = true;
			break;
		case OPT_MCUBOOT_DEP: {
			struct ota_mcuboot_dep *d;
			struct ota_semver v;
			const char *colon = strchr(optarg, ':');

			if (a->mopts.n_deps == OTA_MCUBOOT_MAX_DEPS)
				return cli_usage_error(
				    "package", "at most %d dependencies",
				    OTA_MCUBOOT_MAX_DEPS);
			if (!colon)
				return cli_usage_error(
				    "package",
				    "--mcuboot-dependency: '%s' is not "
				    "ID:VERSION",
				    optarg);
			d = &a->mopts.deps[a->mopts.n_deps];
			char id[16];
			snprintf(id, sizeof(id), "%.*s", (int)(colon - optarg),
				 optarg);
			/* Any fault in the value is a usage error, named once.
			 */
			if (ota_parse_uint(&n, id, 255, "image id") ||
			    ota_semver_parse(&v, colon + 1) ||
			    ota_mcuboot_version_from_semver(&d->min_version, &v,
							    -1)) {
				rc = ota_error_wrap(OTA_EUSAGE,
						    "--mcuboot-dependency");
				break;
			}
			d->image_id = (uint8_t)n;
			a->mopts.n_deps++;
			break;
		}
		case OPT_BUILD_NUMBER:
			rc = parse_number(&n, optarg, UINT32_MAX,
					  "--build-number");
			a->build_number = (int64_t)n;
			break;
		case OPT_GIT_DIR:
			a->git_dir = optarg;
			break;
		case OPT_ALLOW_DIRTY:
			a->allow_dirty = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return cli_bad_option("package", longopts, c, argv);
		}
		if (rc)
			return cli_fail("package", rc);
	}
	if (argc - optind != 1)
		return cli_usage_error("package", "expected one INPUT");
	a->input = argv[optind];
	if (!a->output)
		return cli_usage_error("package", "no --output given");
	if (a->mcuboot && a->otatool_opt)
		return cli_usage_error("package",
				       "%s is for the otatool format, not "
				       "--format mcuboot",
				       a->otatool_opt);
	if (!a->mcuboot && a->mcuboot_opt)
		return cli_usage_error("package", "%s is for --format mcuboot",
				       a->mcuboot_opt);
	if (a->keys.n == 0)
		return cli_usage_error("package", "no --key given");
	return 0;
}

int cmd_package(int argc, char **argv)
{
	struct package_args a = { 0 };
	struct ota_manifest *m = NULL;
	struct cli_progress progress;
	int rc;

	ota_trust_init(&a.trust);
	a.build_number = -1;
	a.mopts.header_size = 0x200;
	a.mopts.erased_value = 0xff;
	a.mopts.align = 8;
	a.popts.compress = a.compress;
	rc = parse_args(&a, argc, argv);
	if (rc) {
		ota_trust_clear(&a.trust);
		return rc < 0 ? 0 : rc;
	}
	cli_progress_init(&progress, a.quiet);
	progress.label = "packaging";
	a.popts.progress = cli_progress_cb;
	a.popts.progress_ctx = &progress;
	if ((rc = cli_keys_open(&a.keys)) ||
	    (rc = cli_keys_check_chains(&a.keys, &a.trust)) ||
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
			!a.mcuboot && m->n_images != 1 ? "s" : "", a.keys.n,
			a.keys.n == 1 ? "" : "s");
out:
	ota_manifest_free(m);
	cli_keys_close(&a.keys);
	ota_trust_clear(&a.trust);
	return rc ? cli_fail("package", rc) : 0;
}
