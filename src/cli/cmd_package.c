/*
 * otatool package: a release file (manifest, sign, package in one go) or a
 * manifest, signed or not, into an otatool package or an MCUboot image.
 */
#include "cli.h"

#include "otatool/cipher.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/parse.h"
#include "otatool/pkcs11.h"
#include "otatool/root.h"
#include "otatool/signer.h"
#include "otatool/timestamp.h"
#include "otatool/trust.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

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
	CLI_VALUE("delta-from", 0, "OLD", CLI_FILE_IN,
		  "a delta release: store each image that OLD has\n"
		  "(a package, verified with the trust below, or a\n"
		  "directory of NAME.bin files) as a patch against\n"
		  "it, where that is smaller"),
	CLI_TEXT("\nEncryption (both formats; otatool-encryption(7)):\n"),
	CLI_LIST("encrypt-key", 0, "KEY", CLI_FILE_IN,
		 OTA_PACKAGE_MAX_RECIPIENTS,
		 "encrypt for this recipient: a public key (P-256,\n"
		 "X25519, RSA), an AES-KW key file or a pkcs11:\n"
		 "URI of a token key; repeatable in the otatool\n"
		 "format (each recipient can decrypt)"),
	CLI_VALUE("encrypt-keylen", 0, "BITS", CLI_FILE_NONE,
		  "AES content key: 128 (default) or 256"),
	CLI_VALUE("hmac-sha", 0, "BITS", CLI_FILE_NONE,
		  "ECIES-X25519 HKDF/HMAC hash: 256 (default) or\n"
		  "512 (key TLV 0x34)"),
	CLI_VALUE("tsa", 0, "URL", CLI_FILE_NONE,
		  "an RFC 3161 timestamp of every signature from\n"
		  "the time-stamping authority at this http URL"),
	CLI_VALUE("tsa-request", 0, "OUT", CLI_FILE_OUT,
		  "write the timestamp query of every signature\n"
		  "(OUT, or OUT.N of several) for otatool timestamp"),
	CLI_LIST("tsa-trust", 0, "FILE|DIR", CLI_FILE_IN, 0,
		 "with --tsa: the TSA's chain must reach these roots"),
	CLI_LIST("root-record", 0, "FILE", CLI_FILE_IN, OTA_ROOT_MAX_WALK,
		 "carry this trust root record in the unprotected\n"
		 "region, for devices to walk (repeatable)"),
	CLI_TEXT("\nMCUboot format (one image, one key):\n"),
	CLI_VALUE("image", 0, "NAME", CLI_FILE_NONE,
		  "the manifest's image to sign (default: the only\n"
		  "one, else the application image)"),
	CLI_VALUE("header-size", 0, "N", CLI_FILE_NONE,
		  "header area incl. padding (default 0x200)"),
	CLI_FLAG("pad-header", 0,
		 "always prepend the header (default: into the\n"
		 "image's first N bytes when they are all zero)"),
	CLI_FLAG("no-pad-header", 0,
		 "the image reserves the header: refuse it when\n"
		 "its first N bytes are not all zero"),
	CLI_VALUE("slot-size", 0, "N", CLI_FILE_NONE,
		  "refuse an image that does not fit the slot"),
	CLI_VALUE("write-align", 0, "N", CLI_FILE_NONE,
		  "flash write alignment 1..32 (default 8)"),
	CLI_FLAG("pad", 0,
		 "pad to --slot-size, boot magic at the end (a\n"
		 "test upgrade)"),
	CLI_FLAG("confirm", 0, "pad and set image_ok (a permanent upgrade)"),
	CLI_FLAG("test", 0, "pad, image_ok left erased (a test upgrade)"),
	CLI_FLAG("overwrite-only", 0,
		 "MCUboot built for overwrite-only upgrades: its\n"
		 "smaller trailer"),
	CLI_VALUE("max-sectors", 0, "N", CLI_FILE_NONE,
		  "sectors in the swap status (default 128)"),
	CLI_VALUE("max-align", 0, "N", CLI_FILE_NONE,
		  "BOOT_MAX_ALIGN: 8, 16 or 32 (default: the larger\n"
		  "of 8 and --write-align)"),
	CLI_VALUE("output-format", 0, "FMT", CLI_FILE_NONE,
		  "bin, or hex for Intel HEX (default: hex when\n"
		  "OUTPUT ends in .hex)"),
	CLI_VALUE("hex-addr", 0, "ADDR", CLI_FILE_NONE,
		  "address of the HEX output (default: the HEX\n"
		  "input's, less a prepended header)"),
	CLI_VALUE("erased-value", 0, "V", CLI_FILE_NONE, "0xff (default) or 0"),
	CLI_FLAG("rom-fixed", 0, "the load address is a fixed flash address"),
	CLI_FLAG("public-key-tlv", 0, "embed the public key, not its hash"),
	CLI_LIST("mcuboot-dependency", 0, "ID:VERSION", CLI_FILE_NONE,
		 OTA_MCUBOOT_MAX_DEPS, "required image version (repeatable)"),
	CLI_VALUE("build-number", 0, "N", CLI_FILE_NONE,
		  "the version's build number"),
	CLI_FLAG("clear", 0,
		 "key TLV and flag, but the payload in the clear\n"
		 "(a factory image)"),
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
static const char *const otatool_only[] = {
	"alignment", "compress",    "compress-image", "delta-from",
	"tsa",       "tsa-request", "root-record",
};
static const char *const mcuboot_only[] = {
	"image",        "header-size", "slot-size",      "write-align",
	"erased-value", "rom-fixed",   "public-key-tlv", "mcuboot-dependency",
	"build-number", "clear",       "pad-header",     "no-pad-header",
	"pad",          "confirm",     "test",           "overwrite-only",
	"max-sectors",  "max-align",   "output-format",  "hex-addr",
};

struct package_args {
	const char *otatool_opt, *mcuboot_opt; /* one given, for errors */
	const char *root_records[OTA_ROOT_MAX_WALK];
	size_t n_root_records;
	struct cli_signers names;
	struct ota_signers *signers;
	struct ota_trust trust;
	const char *output, *input, *image, *git_dir, *delta_from;
	const char *tsa, *tsa_request;
	bool mcuboot, quiet, allow_dirty, allow_outside;
	struct ota_package_opts popts;
	struct ota_package_summary summary;
	const char *compress[MAX_COMPRESS];
	struct ota_mcuboot_opts mopts;
	int64_t build_number;
	const char *encrypt_key; /* the first --encrypt-key */
	size_t n_recipients;
	const char *encrypt_keys[OTA_PACKAGE_MAX_RECIPIENTS];
	unsigned hmac_bits;
	struct ota_recipient *recipient; /* the first recipient */
	struct ota_recipient *recipients[OTA_PACKAGE_MAX_RECIPIENTS];
	struct ota_pkcs11 *pkcs11; /* for pkcs11: recipients */
	const char *pkcs11_module;
	struct ota_mcuboot_result result;
};

/* Every --encrypt-key: public key files, AES-KW files, token keys. */
static int open_recipients(struct package_args *a)
{
	struct ota_key_opts ko = { 0 };
	int rc;

	for (size_t i = 0; i < a->n_recipients; i++) {
		if (ota_pkcs11_is_uri(a->encrypt_keys[i]) && !a->pkcs11 &&
		    (rc = ota_signers_pkcs11(&a->pkcs11, a->pkcs11_module)))
			return rc;
		ko.pkcs11 = a->pkcs11;
		if ((rc = ota_recipient_open(&a->recipients[i],
					     a->encrypt_keys[i], &ko,
					     a->hmac_bits)))
			return ota_error_wrap(rc, "--encrypt-key");
	}
	a->recipient = a->recipients[0];
	return 0;
}

/* The manifest: resolved from a release file, or read from a manifest. */
static int load_manifest(struct ota_manifest **m, struct package_args *a)
{
	struct ota_resolve_opts ro = {
		.git_dir = a->git_dir,
		.allow_dirty = a->allow_dirty,
		.allow_outside = a->allow_outside,
		/* Hashed once, while they are copied in. */
		.skip_digests = true,
	};

	return ota_manifest_load_input(m, a->input, &ro, &a->trust, a->signers);
}

static const char *stored_name(enum ota_package_stored s)
{
	return s == OTA_PACKAGE_STORED_PATCH  ? "patch"
	       : s == OTA_PACKAGE_STORED_ZLIB ? "zlib"
					      : "full";
}

/* One line per image: how it was stored, and what a patch saved. */
static void print_summary(const struct package_args *a)
{
	const struct ota_package_summary *s = &a->summary;

	for (size_t i = 0; i < s->n_images; i++) {
		const __typeof__(s->images[0]) *im = &s->images[i];

		fprintf(stderr,
			"otatool: package: image %s: %s%s, %llu of %llu "
			"bytes",
			im->name, stored_name(im->stored),
			im->encrypted ? ", encrypted" : "",
			(unsigned long long)im->stored_size,
			(unsigned long long)im->size);
		if (im->stored == OTA_PACKAGE_STORED_PATCH)
			fprintf(stderr,
				" (%.1f%%; against a base of %llu bytes, "
				"instead of %llu)\n",
				100.0 * (double)im->stored_size /
				    (double)im->size,
				(unsigned long long)im->base_size,
				(unsigned long long)im->full_size);
		else if (a->delta_from && im->patch_size)
			fprintf(stderr, " (a patch would take %llu)\n",
				(unsigned long long)im->patch_size);
		else if (a->delta_from)
			fprintf(stderr, " (no base of that name)\n");
		else
			fprintf(stderr, "\n");
	}
}

static int package_otatool(struct package_args *a, struct ota_manifest *m)
{
	struct ota_package_bases *bases = NULL;
	int rc;

	if (a->delta_from &&
	    (rc = ota_package_bases_open(&bases, a->delta_from, &a->trust)))
		return ota_error_wrap(rc, "--delta-from");
	a->popts.delta_from = bases;
	a->popts.summary = &a->summary;
	a->popts.recipients =
	    (const struct ota_recipient *const *)a->recipients;
	a->popts.n_recipients = a->n_recipients;
	rc = ota_package_write(a->output, m, a->signers, &a->popts);
	ota_package_bases_free(bases);
	/* Timestamps are over the signatures: after they exist. */
	if (rc == 0 && a->tsa)
		rc = ota_package_timestamp_fetch(a->output, a->tsa,
						 a->trust.tsa_anchors);
	else if (rc == 0 && a->tsa_request)
		rc = ota_package_timestamp_requests(a->output, a->tsa_request);
	if (rc && (a->tsa || a->tsa_request))
		unlink(a->output); /* no package without what was asked */
	/* records carry their own signatures: added after the package's */
	if (rc == 0 && a->n_root_records &&
	    (rc = ota_root_add_to_package(a->output, a->root_records,
					  a->n_root_records)))
		unlink(a->output);
	if (rc == 0 && !a->quiet)
		print_summary(a);
	return rc;
}

/* Where the header went, what was read and written: one note each. */
static void print_layout(const struct package_args *a)
{
	const struct ota_mcuboot_result *r = &a->result;
	const struct ota_mcuboot_opts *o = &a->mopts;

	if (r->input_hex)
		fprintf(stderr,
			"otatool: package: input: Intel HEX, %" PRIu32
			" bytes from 0x%08" PRIx32 "\n",
			r->img_size + (r->header_reserved ? o->header_size : 0),
			r->input_base);
	fprintf(stderr,
		r->header_reserved
		    ? "otatool: package: header: into the image's reserved "
		      "%u zero bytes (imgtool without --pad-header)\n"
		    : "otatool: package: header: %u bytes prepended "
		      "(imgtool --pad-header)\n",
		(unsigned)o->header_size);
	if (r->trailer_size)
		fprintf(
		    stderr,
		    "otatool: package: trailer: padded to the %" PRIu32
		    "-byte slot, boot magic%s (%s; %" PRIu32 "-byte trailer)\n",
		    o->slot_size,
		    o->confirm && !o->overwrite_only ? ", image_ok set" : "",
		    o->overwrite_only ? "an overwrite-only upgrade"
		    : o->confirm      ? "a permanent upgrade"
				      : "a test upgrade",
		    r->trailer_size);
	if (r->output_hex)
		fprintf(stderr,
			"otatool: package: output: Intel HEX from "
			"0x%08" PRIx32 "\n",
			r->output_base);
}

static int package_mcuboot(struct package_args *a, struct ota_manifest *m,
			   struct cli_progress *progress)
{
	int rc;

	if (a->n_recipients > 1)
		return cli_usage_error("package",
				       "--format mcuboot: one --encrypt-key "
				       "(an MCUboot image has one key TLV)");
	a->mopts.encrypt_to = a->recipient;
	if ((rc = ota_mcuboot_write_release(
		 a->output, m, a->input, a->image, a->build_number, a->signers,
		 &a->mopts, cli_progress_cb, progress)))
		return rc;
	if (!a->quiet)
		print_layout(a);
	return 0;
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
	a->delta_from = cli_value(p, "delta-from");
	a->tsa = cli_value(p, "tsa");
	a->tsa_request = cli_value(p, "tsa-request");
	if (a->tsa && a->tsa_request)
		return cli_usage_error("package", "--tsa and --tsa-request: "
						  "give one");
	a->popts.compress_all = cli_flag(p, "compress");
	a->popts.n_compress = cli_count(p, "compress-image");
	for (size_t i = 0; i < a->popts.n_compress; i++)
		a->compress[i] = cli_nth(p, "compress-image", i);
	return 0;
}

/* Encryption of an MCUboot image (otatool-encryption(7)). */
static int parse_encrypt_opts(struct package_args *a, const struct cli_args *p)
{
	const char *bits = cli_value(p, "encrypt-keylen");
	const char *hmac = cli_value(p, "hmac-sha");

	a->n_recipients = cli_count(p, "encrypt-key");
	for (size_t i = 0; i < a->n_recipients; i++)
		a->encrypt_keys[i] = cli_nth(p, "encrypt-key", i);
	a->encrypt_key = a->n_recipients ? a->encrypt_keys[0] : NULL;
	a->pkcs11_module = cli_value(p, "pkcs11-module");
	if (!a->encrypt_key && (bits || hmac || cli_flag(p, "clear")))
		return cli_usage_error("package", "--%s needs --encrypt-key",
				       bits   ? "encrypt-keylen"
				       : hmac ? "hmac-sha"
					      : "clear");
	if (bits && strcmp(bits, "128") && strcmp(bits, "256"))
		return cli_usage_error("package",
				       "--encrypt-keylen: '%s' is not 128 or "
				       "256",
				       bits);
	if (hmac && strcmp(hmac, "256") && strcmp(hmac, "512"))
		return cli_usage_error(
		    "package", "--hmac-sha: '%s' is not 256 or 512", hmac);
	a->mopts.encrypt_bits = bits && strcmp(bits, "256") == 0 ? 256 : 128;
	a->popts.encrypt_bits = a->mopts.encrypt_bits;
	a->hmac_bits = hmac && strcmp(hmac, "512") == 0 ? 512 : 256;
	a->mopts.encrypt_clear = cli_flag(p, "clear");
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Header placement, the trailer and HEX output (otatool-mcuboot(5)). */
static int parse_layout_opts(struct package_args *a, const struct cli_args *p)
{
	const char *v, *out = cli_value(p, "output");
	uint64_t n;
	int rc;

	if (cli_flag(p, "pad-header") && cli_flag(p, "no-pad-header"))
		return cli_usage_error("package", "--pad-header and "
						  "--no-pad-header contradict");
	a->mopts.header_mode =
	    cli_flag(p, "pad-header")      ? OTA_MCUBOOT_HEADER_PREPEND
	    : cli_flag(p, "no-pad-header") ? OTA_MCUBOOT_HEADER_RESERVED
					   : OTA_MCUBOOT_HEADER_AUTO;
	a->mopts.pad = cli_flag(p, "pad");
	a->mopts.confirm = cli_flag(p, "confirm");
	a->mopts.test = cli_flag(p, "test");
	if (a->mopts.confirm && a->mopts.test)
		return cli_usage_error("package",
				       "--confirm and --test contradict");
	a->mopts.overwrite_only = cli_flag(p, "overwrite-only");
	if ((v = cli_value(p, "max-sectors"))) {
		if ((rc = parse_number(&n, v, 65536, "--max-sectors")))
			return rc;
		if (n == 0)
			return cli_usage_error("package",
					       "--max-sectors: at least 1");
		a->mopts.max_sectors = (uint32_t)n;
	}
	if ((v = cli_value(p, "max-align"))) {
		if (strcmp(v, "8") && strcmp(v, "16") && strcmp(v, "32"))
			return cli_usage_error(
			    "package", "--max-align %s: 8, 16 or 32", v);
		a->mopts.max_align = (uint32_t)strtoul(v, NULL, 10);
	}
	v = cli_value(p, "output-format");
	if (v && strcmp(v, "bin") && strcmp(v, "hex"))
		return cli_usage_error("package",
				       "--output-format: '%s' is not bin or "
				       "hex",
				       v);
	a->mopts.hex_output = v ? strcmp(v, "hex") == 0
				: a->mcuboot && out && ends_with(out, ".hex");
	if ((v = cli_value(p, "hex-addr"))) {
		if ((rc = parse_number(&n, v, UINT32_MAX, "--hex-addr")))
			return rc;
		if (!a->mopts.hex_output)
			return cli_usage_error("package",
					       "--hex-addr is for HEX output "
					       "(--output-format hex)");
		a->mopts.has_hex_addr = true;
		a->mopts.hex_addr = (uint32_t)n;
	}
	a->mopts.result = &a->result;
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
	if ((rc = parse_layout_opts(a, p)))
		return rc;
	return parse_encrypt_opts(a, p);
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
	for (; a->n_root_records < cli_count(p, "root-record");
	     a->n_root_records++) {
		struct ota_root *rec = NULL;
		const char *path = cli_nth(p, "root-record", a->n_root_records);

		/* a bad record is found before anything is written */
		if ((rc = ota_root_load(&rec, path)))
			return ota_error_wrap(rc, "--root-record");
		ota_root_free(rec);
		a->root_records[a->n_root_records] = path;
	}
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
	a->otatool_opt = given(p, otatool_only,
			       sizeof(otatool_only) / sizeof(*otatool_only));
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
	int64_t signed_at;
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
	/* Chains are judged when the package says it was signed. */
	signed_at = (int64_t)time(NULL);
	if ((!a.mcuboot && (rc = ota_timestamp_build(&signed_at))) ||
	    (rc = ota_signers_open(&a.signers, &a.names.opts)) ||
	    (rc = ota_signers_check_chains(a.signers, &a.trust, signed_at)))
		goto out;
	/*
	 * Inputs that must verify (a signed manifest, --delta-from) are
	 * trusted when the packaging keys themselves signed them, unless
	 * --trust or --trust-key say otherwise.
	 */
	if (ota_trust_empty(&a.trust) &&
	    (rc = ota_signers_trust(&a.trust, a.signers)))
		goto out;
	if ((rc = load_manifest(&m, &a)) || (rc = open_recipients(&a)))
		goto out;
	rc = a.mcuboot ? package_mcuboot(&a, m, &progress)
		       : package_otatool(&a, m);
	if (rc == 0 && !a.quiet)
		fprintf(stderr,
			"otatool: package: wrote %s (%s, %zu image%s, "
			"%zu signature%s)\n",
			a.output,
			!a.recipient
			    ? (a.mcuboot ? "MCUboot" : "otatool package")
			: !a.mcuboot            ? (a.popts.encrypt_bits == 256
						       ? "otatool package, AES-256"
						       : "otatool package, AES-128")
			: a.mopts.encrypt_clear ? "MCUboot, key TLV, payload "
						  "in the clear"
			: a.mopts.encrypt_bits == 256 ? "MCUboot, AES-256"
						      : "MCUboot, AES-128",
			a.mcuboot ? (size_t)1 : m->n_images,
			!a.mcuboot && m->n_images != 1 ? "s" : "",
			ota_signers_count(a.signers),
			ota_signers_count(a.signers) == 1 ? "" : "s");
out:
	ota_manifest_free(m);
	for (size_t i = 0; i < a.n_recipients; i++)
		ota_recipient_free(a.recipients[i]);
	ota_pkcs11_free(a.pkcs11);
	ota_signers_free(a.signers);
	ota_trust_clear(&a.trust);
	cli_args_free(&p);
	return rc;
}
