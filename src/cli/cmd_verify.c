/*
 * otatool verify: a package, an MCUboot image or a signed manifest,
 * checked as the device would, reported as a checklist.
 */
#include "cli.h"
#include "report.h"

#include "otatool/cipher.h"
#include "otatool/detect.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/parse.h"
#include "otatool/policy.h"
#include "otatool/root.h"
#include "otatool/timestamp.h"
#include "otatool/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool verify [OPTIONS] FILE\n"
		 "\n"
		 "Verify an otatool package, an MCUboot image or a signed "
		 "manifest exactly\n"
		 "as a device would: structure and every length, a signature "
		 "by a trusted\n"
		 "key or through a trusted chain, every image digest, and the "
		 "device's\n"
		 "policy. Prints what was checked, one line each.\n"
		 "\n"
		 "Trust (at least one of --trust-key or --trust):\n"),
	CLI_GROUP(cli_trust_opts),
	CLI_TEXT("\nTimestamps (RFC 3161, otatool-timestamp(1)):\n"),
	CLI_LIST("tsa-trust", 0, "FILE|DIR", CLI_FILE_IN, 0,
		 "roots of the time-stamping authorities: a\n"
		 "signature's valid timestamp is then checked and\n"
		 "its chain judged at the timestamp's time"),
	CLI_FLAG("require-timestamp", 0,
		 "refuse signatures without a valid timestamp\n"
		 "(needs --tsa-trust)"),
	CLI_VALUE("threshold", 0, "N", CLI_FILE_NONE,
		  "at least N distinct trusted keys must have\n"
		  "signed (a key signing twice counts once)"),
	CLI_LIST("root", 0, "RECORD", CLI_FILE_IN, OTA_ROOT_MAX_WALK + 1,
		 "trust root records instead of --trust-key: the\n"
		 "first is the device's, later ones and those the\n"
		 "package carries are walked forward; the release\n"
		 "keys of the one in force must sign, its release\n"
		 "threshold of them"),
	CLI_TEXT("\nDevice policy:\n"),
	CLI_VALUE("hardware", 0, "ID", CLI_FILE_NONE,
		  "the device's hardware variant must be listed"),
	CLI_VALUE("counter", 0, "N", CLI_FILE_NONE,
		  "the device's anti-rollback counter: the\n"
		  "release's must not be lower"),
	CLI_VALUE("bootloader-version", 0, "V", CLI_FILE_NONE,
		  "the device's bootloader: must meet the\n"
		  "release's minimum"),
	CLI_TEXT(
	    "\nEncrypted MCUboot images (the hash covers the plaintext):\n"),
	CLI_GROUP(cli_decrypt_opts),
	CLI_TEXT("\nDelta packages:\n"),
	CLI_VALUE("base", 0, "OLD", CLI_FILE_IN,
		  "rebuild patched images from this release: a\n"
		  "package (verified with the same trust) or a\n"
		  "directory of NAME.bin files; without it they are\n"
		  "checked as stored and reported not rebuilt"),
	CLI_TEXT("\nOther:\n"),
	CLI_VALUE("images", 0, "DIR", CLI_FILE_IN,
		  "signed manifests: where the image files are: DIR\n"
		  "laid out as the manifest says, or flat (by file\n"
		  "name); default: the manifest's directory"),
	CLI_FLAG("json", 0, "the report as JSON on stdout"),
	CLI_FLAG("quiet", 'q', "no report; the exit status says it all"),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-verify(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "verify", opts, CLI_FILE_IN, 0 };

struct verify_args {
	struct ota_trust trust;
	const char *hardware, *images, *path, *base;
	bool check_counter, has_bootloader, json, quiet;
	uint32_t counter;
	struct ota_semver bootloader;
	struct cli_decrypt decrypt;
	const char *decrypt_ref;
	const char *roots[OTA_ROOT_MAX_WALK + 1];
	size_t n_roots;
};

/*
 * --root: the device's record, the records walked from it, the expiry of
 * the one in force; its release keys become the trust.
 */
static int root_lines(struct verify_args *a, struct cli_report *rep,
		      const char *package)
{
	struct ota_root_chain_report *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = ota_root_establish(&a->trust, r, a->roots, a->n_roots, package);
	cli_report_add(rep, r->trusted_ok ? CLI_OK : CLI_FAIL, "root record",
		       "%s: %s", a->roots[0],
		       r->trusted_message[0] ? r->trusted_message
					     : ota_error_message());
	if (rc && r->trusted_ok && r->n_steps == 0 && !r->expiry_checked)
		cli_report_add(rep, CLI_FAIL, "root rotation", "%s",
			       ota_error_message());
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct ota_root_step *s = &r->steps[i];

		cli_report_add(rep,
			       s->result == OTA_ROOT_STEP_APPLIED ? CLI_OK
			       : s->result == OTA_ROOT_STEP_KNOWN ? CLI_SKIP
								  : CLI_FAIL,
			       "root rotation", "%s", s->message);
	}
	if (r->expiry_checked)
		cli_report_add(rep, rc ? CLI_FAIL : CLI_OK, "root expiry", "%s",
			       r->expiry_message);
	if (!rc)
		cli_report_add(rep, CLI_OK, "release keys",
			       "%zu of root record version %u, %zu revoked; "
			       "threshold %u",
			       a->trust.n_keys, r->version, a->trust.n_revoked,
			       a->trust.threshold);
	free(r);
	return rc;
}

/* The device's facts as the options gave them. */
static void device_facts(struct ota_device_facts *d,
			 const struct verify_args *a)
{
	memset(d, 0, sizeof(*d));
	d->hardware = a->hardware;
	d->check_counter = a->check_counter;
	d->counter = a->counter;
	d->check_bootloader = a->has_bootloader;
	d->bootloader[0] = a->bootloader.major;
	d->bootloader[1] = a->bootloader.minor;
	d->bootloader[2] = a->bootloader.patch;
}

/* The library's policy lines, one per check the device asked for. */
static void policy_lines(struct cli_report *rep,
			 const struct ota_policy_report *p)
{
	for (size_t i = 0; i < p->n_checks; i++) {
		const struct ota_check *c = &p->checks[i];

		cli_report_add(rep,
			       c->status == OTA_CHECK_OK     ? CLI_OK
			       : c->status == OTA_CHECK_FAIL ? CLI_FAIL
							     : CLI_SKIP,
			       c->name, "%s", c->detail);
	}
}

static int verify_package(const struct verify_args *a, struct cli_report *rep,
			  json_t **obj)
{
	struct ota_device_facts dev;
	struct ota_package_check_opts o = {
		.trust = &a->trust,
		.device = &dev,
		.decrypt_key = a->decrypt.key,
	};
	struct ota_package_report r;
	struct ota_package_bases *bases = NULL;
	bool structural, past_sigs;
	char *text;
	size_t len;
	int rc;

	/* BOOTLOADER_MIN holds three 32-bit numbers, as devices report. */
	if (a->has_bootloader && (a->bootloader.major > UINT32_MAX ||
				  a->bootloader.minor > UINT32_MAX ||
				  a->bootloader.patch > UINT32_MAX))
		return ota_error(OTA_EUSAGE, "--bootloader-version: parts must "
					     "fit 32 bits");
	device_facts(&dev, a);
	if (a->base &&
	    (rc = ota_package_bases_open(&bases, a->base, &a->trust)))
		return ota_error_wrap(rc, "--base");
	o.bases = bases;
	rc = ota_package_check(&r, a->path, &o);
	ota_package_bases_free(bases);
	structural = r.stopped == OTA_PACKAGE_STOP_STRUCTURE;
	past_sigs = r.trusted_sig >= 0;
	cli_report_add(rep, structural ? CLI_FAIL : CLI_OK, "structure", "%s",
		       structural ? r.error
				  : "header, protected region and signature "
				    "block parsed, every length checked");
	for (size_t i = 0; i < r.n_sigs; i++) {
		const struct ota_package_sig_info *s = &r.sigs[i];
		char name[32];

		snprintf(name, sizeof(name), "signature %zu", i);
		cli_report_add(
		    rep,
		    s->trust && s->trust->verdict == OTA_TRUST_VALID ? CLI_OK
								     : CLI_FAIL,
		    name, "%s", s->trust ? s->trust->message : "not judged");
	}
	if (r.n_sigs == 0)
		cli_report_add(rep, CLI_SKIP, "signatures", "not reached");
	if (a->trust.threshold > 1 || a->n_roots) {
		if (r.threshold)
			cli_report_add(
			    rep,
			    r.distinct_signers >= r.threshold ? CLI_OK
							      : CLI_FAIL,
			    "threshold",
			    "%u distinct trusted key%s signed; %u required",
			    r.distinct_signers,
			    r.distinct_signers == 1 ? "" : "s", r.threshold);
		else
			cli_report_add(rep, CLI_SKIP, "threshold",
				       "not reached");
	}
	policy_lines(rep, &r.policy);
	/* Images stream only after the signature and the policy passed. */
	bool failed_shown = false;
	for (size_t i = 0; i < r.n_images; i++) {
		enum cli_check res = CLI_SKIP;
		const char *what = "not reached";
		char name[96];

		const char *comp =
		    ota_package_compression_name(r.images[i].compression);
		char how[160] = "", sealed[800];

		if (r.images[i].rebuilt) {
			res = CLI_OK;
			what = r.images[i].decrypted
				   ? "decrypted, rebuilt from its base, digest "
				     "matches"
				   : "rebuilt from its base, digest matches";
		} else if (r.images[i].flashed_ok) {
			res = CLI_OK;
			what = r.images[i].decrypted
				   ? "decrypted, digest matches"
				   : "digest matches";
		} else if (past_sigs && r.stopped == OTA_PACKAGE_STOP_IMAGE &&
			   !failed_shown && r.images[i].failed) {
			res = CLI_FAIL;
			what = r.error;
			failed_shown = true;
		} else if (r.images[i].encrypted && r.images[i].stored_ok &&
			   !a->decrypt.key) {
			/* authentic and intact as stored, but sealed */
			char who[600];

			ota_package_describe_recipients(who, sizeof(who), &r,
							i);
			snprintf(sealed, sizeof(sealed),
				 "stored digest matches, plaintext not "
				 "checked (no --decrypt-key; it decrypts with "
				 "%s)",
				 who);
			what = sealed;
		} else if (r.images[i].has_base && r.images[i].stored_ok) {
			/* authentic and intact as stored: a SKIP, not a FAIL */
			what = "patch verified as stored, image not rebuilt "
			       "(no --base)";
		}
		if (r.images[i].has_base)
			snprintf(how, sizeof(how),
				 " (patch of %llu bytes against a base of "
				 "%llu)",
				 (unsigned long long)r.images[i].stored_size,
				 (unsigned long long)r.images[i].base_size);
		else if (r.images[i].compression)
			snprintf(how, sizeof(how), " (%s)", comp ? comp : "?");
		if (r.images[i].encrypted)
			snprintf(how + strlen(how), sizeof(how) - strlen(how),
				 " (encrypted, AES-%u)",
				 r.images[i].key_len * 8u);
		snprintf(name, sizeof(name), "image %s", r.images[i].name);
		cli_report_add(rep, res, name, "%s, %llu bytes%s: %s",
			       r.images[i].kind,
			       (unsigned long long)r.images[i].size, how, what);
	}
	bool at_end = r.stopped == OTA_PACKAGE_STOP_END;
	cli_report_add(rep,
		       rc == 0  ? CLI_OK
		       : at_end ? CLI_FAIL
				: CLI_SKIP,
		       "end of package", "%s",
		       rc == 0  ? "no missing or extra bytes"
		       : at_end ? r.error
				: "not reached");
	if (ota_package_report_to_json(&text, &len, &r) == 0)
		*obj = cli_json_parse(text);
	ota_package_report_clear(&r);
	return rc;
}

/* What became of an encrypted image's payload, one line. */
static void payload_line(struct cli_report *rep,
			 const struct ota_mcuboot_info *info,
			 const struct verify_args *a, int rc)
{
	const char *scheme = ota_wrap_scheme_name(info->enc_tlv);
	char what[96];

	snprintf(what, sizeof(what), "AES-%u, key TLV 0x%02x (%s)",
		 info->enc_bits, info->enc_tlv, scheme ? scheme : "none");
	switch (info->body) {
	case OTA_MCUBOOT_BODY_DECRYPTED:
		cli_report_add(
		    rep, CLI_OK, "decryption", "%s: unwrapped with %s key %s",
		    what, ota_decrypt_key_kind(a->decrypt.key), a->decrypt_ref);
		break;
	case OTA_MCUBOOT_BODY_CLEAR:
		cli_report_add(rep, CLI_OK, "decryption",
			       "%s, but the payload is stored in the clear (a "
			       "--clear factory image): checked as stored",
			       what);
		break;
	case OTA_MCUBOOT_BODY_SEALED:
		cli_report_add(rep, CLI_FAIL, "decryption",
			       "%s: no --decrypt-key; it needs %s", what,
			       ota_wrap_scheme_key_type(
				   (enum ota_wrap_scheme)info->enc_tlv));
		break;
	case OTA_MCUBOOT_BODY_PLAIN:
		/* Stopped before the payload was judged. */
		cli_report_add(rep, rc && a->decrypt.key ? CLI_FAIL : CLI_SKIP,
			       "decryption", "%s: %s", what,
			       rc && a->decrypt.key ? ota_error_message()
						    : "not reached");
		break;
	}
}

static int verify_mcuboot(const struct verify_args *a, struct cli_report *rep,
			  json_t **obj)
{
	struct ota_mcuboot_policy pol = {
		.trusted = a->trust.keys,
		.n_trusted = a->trust.n_keys,
		.check_counter = a->check_counter,
		.counter = a->counter,
	};
	struct ota_mcuboot_info info;
	char *text;
	size_t len;
	int rc;

	pol.decrypt_key = a->decrypt.key;
	if (a->base)
		return ota_error(OTA_EUSAGE,
				 "--base is for delta packages, not MCUboot "
				 "images");
	if (a->trust.threshold > 1)
		return ota_error(OTA_EUSAGE,
				 "an MCUboot image carries one signature: a "
				 "threshold above 1 cannot be met");
	if (a->trust.n_keys == 0)
		return ota_error(OTA_EUSAGE,
				 "MCUboot images are checked against raw keys: "
				 "give --trust-key (MCUboot has no "
				 "certificates)");
	if (a->hardware || a->has_bootloader)
		return ota_error(OTA_EUSAGE,
				 "MCUboot images carry no hardware list or "
				 "bootloader minimum; --hardware and "
				 "--bootloader-version do not apply");
	memset(&info, 0, sizeof(info));
	rc = ota_mcuboot_verify(&info, a->path, &pol, NULL, NULL);
	cli_report_add(rep, info.image_size || !rc ? CLI_OK : CLI_FAIL,
		       "structure", "%s",
		       rc && !info.image_size ? ota_error_message()
					      : "header, protected and "
						"unprotected TLV areas");
	bool sealed = info.body == OTA_MCUBOOT_BODY_SEALED;
	/* A payload that could not be decrypted stops everything after. */
	bool stopped = info.enc_bits && info.body == OTA_MCUBOOT_BODY_PLAIN;
	if (info.enc_bits)
		payload_line(rep, &info, a, rc);
	if (stopped) {
		cli_report_add(rep, CLI_SKIP, "image hash", "not reached");
		cli_report_add(rep, CLI_SKIP, "signature", "not reached");
	} else if (sealed)
		cli_report_add(rep, CLI_SKIP, "image hash",
			       "%s over the plaintext: not checked",
			       ota_digest_alg_name(info.hash_alg));
	else
		cli_report_add(
		    rep, info.hash_ok ? CLI_OK : CLI_FAIL, "image hash",
		    "%s over header, %spayload and protected TLVs",
		    ota_digest_alg_name(info.hash_alg),
		    info.body == OTA_MCUBOOT_BODY_DECRYPTED ? "decrypted "
							    : "");
	if (!stopped) {
		cli_report_add(rep, info.trusted_key >= 0 ? CLI_OK : CLI_FAIL,
			       info.has_pubkey ? "PUBKEY" : "KEYHASH", "%s",
			       info.trusted_key >= 0
				   ? a->trust.key_names[info.trusted_key]
				   : "matches no trusted key");
		cli_report_add(rep,
			       info.signature_ok ? CLI_OK
			       : sealed          ? CLI_SKIP
						 : CLI_FAIL,
			       "signature", "TLV 0x%02x%s", info.sig_type,
			       sealed ? " over the plaintext: not checked"
				      : "");
	}
	policy_lines(rep, &info.policy);
	if (ota_mcuboot_info_to_json(&text, &len, &info) == 0)
		*obj = cli_json_parse(text);
	return rc;
}

static int verify_manifest(const struct verify_args *a, struct cli_report *rep,
			   json_t **obj)
{
	struct ota_trust_result results[OTA_ENVELOPE_MAX_SIGS];
	struct ota_envelope *e = NULL;
	struct ota_manifest *m = NULL;
	struct ota_device_facts dev;
	struct ota_release_facts rel;
	struct ota_policy_report policy;
	int trusted = -1, rc, prc, img_rc = 0;
	struct ota_envelope_load_opts lo = { .images_dir = a->images,
					     .trust = &a->trust,
					     .results = results,
					     .trusted = &trusted };

	if (a->base)
		return ota_error(OTA_EUSAGE,
				 "--base is for delta packages, not signed "
				 "manifests");
	/* Signatures that do not verify still leave the manifest to report. */
	rc = ota_envelope_load_manifest(&e, &m, a->path, &lo);
	if (!m)
		return rc;
	cli_report_add(rep, CLI_OK, "structure",
		       "%s manifest, canonical payload, %zu signature%s",
		       e->n_sigs ? "signed" : "unsigned", e->n_sigs,
		       e->n_sigs == 1 ? "" : "s");
	for (size_t i = 0; i < e->n_sigs; i++) {
		char name[32];

		snprintf(name, sizeof(name), "signature %zu", i);
		cli_report_add(rep,
			       results[i].verdict == OTA_TRUST_VALID ? CLI_OK
								     : CLI_FAIL,
			       name, "%s", results[i].message);
	}
	device_facts(&dev, a);
	ota_release_facts_of_manifest(&rel, m);
	prc = ota_policy_judge(&policy, &dev, &rel, trusted >= 0);
	if (rc == 0 && prc)
		rc = ota_error(prc, "%s", policy.message);
	policy_lines(rep, &policy);
	for (size_t i = 0; i < m->n_images; i++) {
		char name[96];

		snprintf(name, sizeof(name), "image %s", m->images[i].name);
		if (rc || img_rc) {
			cli_report_add(rep, CLI_SKIP, name, "%s: not checked",
				       m->images[i].path);
			continue;
		}
		/* One image at a time, so each gets its own line. */
		img_rc = ota_manifest_check_image(m, i, NULL, NULL);
		cli_report_add(rep, img_rc ? CLI_FAIL : CLI_OK, name, "%s: %s",
			       m->images[i].path,
			       img_rc ? ota_error_message() : "digest matches");
	}
	if (!rc)
		rc = img_rc;
	*obj = json_pack("{s:s, s:s}", "format", "otatool-signed-manifest",
			 "file", a->path);
	ota_manifest_free(m);
	ota_envelope_free(e);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a = { 0 };
	struct cli_report rep;
	enum ota_artifact kind;
	json_t *obj = NULL;
	struct cli_args p;
	const char *v;
	uint64_t n;
	int rc = 0;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	ota_trust_init(&a.trust);
	if (p.help) {
		cli_help(&spec);
		goto out;
	}
	if ((rc = cli_trust_load(&a.trust, &p)))
		goto out;
	if ((v = cli_value(&p, "threshold"))) {
		if (ota_parse_uint(&n, v, OTA_TRUST_MAX_KEYS, "--threshold") ||
		    n == 0) {
			rc = cli_usage_error("verify",
					     "--threshold: '%s' is not 1..%d",
					     v, OTA_TRUST_MAX_KEYS);
			goto out;
		}
		a.trust.threshold = (unsigned)n;
	}
	a.n_roots = cli_count(&p, "root");
	if (a.n_roots && (a.trust.n_keys || ota_trust_has_anchors(&a.trust) ||
			  a.trust.threshold)) {
		rc = cli_usage_error("verify",
				     "--root names the trusted keys and the "
				     "threshold: not with --trust-key, --trust "
				     "or --threshold");
		goto out;
	}
	for (size_t i = 0; i < a.n_roots; i++)
		a.roots[i] = cli_nth(&p, "root", i);
	a.hardware = cli_value(&p, "hardware");
	if ((v = cli_value(&p, "counter"))) {
		if (ota_parse_uint(&n, v, UINT32_MAX, "--counter")) {
			rc = ota_error_wrap(OTA_EUSAGE, "bad value");
			goto out;
		}
		a.check_counter = true;
		a.counter = (uint32_t)n;
	}
	if ((v = cli_value(&p, "bootloader-version"))) {
		if (ota_semver_parse(&a.bootloader, v)) {
			rc = ota_error_wrap(OTA_EUSAGE, "--bootloader-version");
			goto out;
		}
		a.has_bootloader = true;
	}
	a.images = cli_value(&p, "images");
	a.base = cli_value(&p, "base");
	a.json = cli_flag(&p, "json");
	a.quiet = cli_flag(&p, "quiet");
	if (p.n_operands != 1) {
		rc = cli_usage_error("verify", "expected one FILE");
		goto out;
	}
	a.path = p.operands[0];
	if (a.trust.require_timestamp && !a.trust.tsa_anchors) {
		rc = cli_usage_error("verify", "--require-timestamp needs "
					       "--tsa-trust");
		goto out;
	}
	if (ota_trust_empty(&a.trust) && !a.n_roots) {
		rc = cli_usage_error("verify",
				     "nothing to trust: give --trust-key, "
				     "--trust or --root");
		goto out;
	}
	if ((rc = ota_detect_artifact(&kind, a.path)))
		goto out;
	a.decrypt_ref = cli_value(&p, "decrypt-key");
	if (a.decrypt_ref && kind != OTA_ARTIFACT_MCUBOOT &&
	    kind != OTA_ARTIFACT_PACKAGE) {
		rc = cli_usage_error("verify",
				     "--decrypt-key: %s is a manifest "
				     "(manifests are not encrypted)",
				     a.path);
		goto out;
	}
	if ((rc = cli_decrypt_open(&a.decrypt, &p)))
		goto out;
	cli_report_init(&rep, a.json);
	if (a.n_roots &&
	    (rc = root_lines(&a, &rep,
			     kind == OTA_ARTIFACT_PACKAGE ? a.path : NULL))) {
		obj = json_object();
		goto report;
	}
	rc = kind == OTA_ARTIFACT_PACKAGE   ? verify_package(&a, &rep, &obj)
	     : kind == OTA_ARTIFACT_MCUBOOT ? verify_mcuboot(&a, &rep, &obj)
					    : verify_manifest(&a, &rep, &obj);
	if (!obj)
		obj = json_object();
report:
	if (rc == OTA_EUSAGE) { /* a wrong question, not a refusal */
		json_decref(rep.checks);
	} else if (!a.quiet) {
		if (!a.json)
			printf("%s: %s\n", a.path,
			       kind == OTA_ARTIFACT_PACKAGE ? "otatool package"
			       : kind == OTA_ARTIFACT_MCUBOOT
				   ? "MCUboot image"
				   : "signed manifest");
		cli_report_finish(&rep, obj, rc);
	} else {
		json_decref(rep.checks);
	}
	json_decref(obj);
out:
	cli_decrypt_close(&a.decrypt);
	ota_trust_clear(&a.trust);
	cli_args_free(&p);
	return rc;
}
