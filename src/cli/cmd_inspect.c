/* otatool inspect: every field of a package, MCUboot image or manifest. */
#include "cli.h"
#include "report.h"

#include "otatool/cipher.h"
#include "otatool/detect.h"
#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"
#include "otatool/timestamp.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_opt_spec opts[] = {
	CLI_TEXT("usage: otatool inspect [--json] [--decrypt-key KEY] FILE\n"
		 "\n"
		 "Show every field of an otatool package, an MCUboot image or "
		 "a (signed)\n"
		 "manifest. Packages and MCUboot images are checked with the "
		 "parser the\n"
		 "device runs: structure, every length and every digest. A "
		 "manifest's\n"
		 "images are not read. Signatures are listed, not judged "
		 "(that is\n"
		 "otatool verify's job, with a trust).\n"
		 "\n"),
	CLI_FLAG("json", 0, "machine-readable output on stdout"),
	CLI_GROUP(cli_decrypt_opts),
	CLI_HELP_OPT,
	CLI_TEXT("\nSee otatool-inspect(1).\n"),
	CLI_END,
};

static const struct cli_spec spec = { "inspect", opts, CLI_FILE_IN, 0 };

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static void print_package(const char *path, const struct ota_package_report *r)
{
	char ts[OTA_TIMESTAMP_TEXT_LEN] = "-";
	enum ota_digest_alg region;

	if (ota_package_digest_alg(&region, r->region_digest_alg))
		region = OTA_DIGEST_SHA256; /* the verifier accepted it */
	printf("%s: otatool package, format %u, %llu bytes\n", path,
	       r->format_version, (unsigned long long)r->file_size);
	printf("  header:        region digest %s, protected region %u B, "
	       "signature block %u B,\n"
	       "                 alignment %u B, total %llu B\n",
	       ota_digest_alg_name(region), r->protected_size, r->sigblock_size,
	       r->alignment, (unsigned long long)r->total_size);
	printf("  name:          %s\n", r->name);
	printf("  version:       %s\n", r->version);
	printf("  counter:       %u\n", r->security_counter);
	if (r->has_bootloader_min)
		printf("  bootloader:    >= %u.%u.%u\n", r->bootloader_min[0],
		       r->bootloader_min[1], r->bootloader_min[2]);
	printf("  hardware:     ");
	for (size_t i = 0; i < r->n_hardware; i++)
		printf(" %s", r->hardware[i]);
	printf("\n");
	if (r->git_commit[0])
		printf("  git commit:    %s\n", r->git_commit);
	/* Recorded times are shown as recorded, even out of range. */
	if (r->has_build_time)
		ota_timestamp_describe(ts, r->build_time);
	printf("  build time:    %s\n", ts);
	if (r->has_signing_time) {
		ota_timestamp_describe(ts, r->signing_time);
		printf("  signed at:     %s\n", ts);
	}
	for (size_t i = 0; i < r->n_deps; i++)
		printf("  depends on:    %s %s\n", r->dep_names[i],
		       r->dep_ranges[i]);
	printf("  images:\n");
	for (size_t i = 0; i < r->n_images; i++) {
		printf(
		    "    %zu %-14s %-13s offset %-8llu %llu B stored, %llu B "
		    "flashed%s%s%s\n",
		    i, r->images[i].name, r->images[i].kind,
		    (unsigned long long)r->images[i].offset,
		    (unsigned long long)r->images[i].stored_size,
		    (unsigned long long)r->images[i].size,
		    r->images[i].compression ? " (" : "",
		    r->images[i].compression
			? ota_package_compression_name(r->images[i].compression)
			: "",
		    r->images[i].compression ? ")" : "");
		if (r->images[i].has_load_address)
			printf("      load address 0x%08llx\n",
			       (unsigned long long)r->images[i].load_address);
		if (r->images[i].has_base) {
			printf("      patch of %.1f%% of the image, against a "
			       "base of %llu B\n"
			       "      base digest ",
			       100.0 * (double)r->images[i].stored_size /
				   (double)r->images[i].size,
			       (unsigned long long)r->images[i].base_size);
			print_hex(r->images[i].base_digest,
				  r->images[i].digest_len);
			printf("\n");
		}
		if (r->images[i].encrypted) {
			printf(
			    "      encrypted, AES-%u-CTR, %zu recipient%s:\n",
			    r->images[i].key_len * 8u, r->images[i].n_keys,
			    r->images[i].n_keys == 1 ? "" : "s");
			for (size_t k = 0; k < r->images[i].n_keys &&
					   k < OTA_PACKAGE_MAX_RECIPIENTS;
			     k++) {
				const char *sn = ota_wrap_scheme_name(
				    r->images[i].keys[k].scheme);

				printf("        %-19s key id %s\n",
				       sn ? sn : "unknown",
				       r->images[i].keys[k].keyid);
			}
		}
		printf("      digest ");
		print_hex(r->images[i].digest, r->images[i].digest_len);
		printf(" %s\n", r->images[i].flashed_ok ? "(checked)"
				: r->images[i].has_base
				    ? "(not rebuilt: no base)"
				: r->images[i].encrypted
				    ? "(not checked: no --decrypt-key)"
				    : "(not checked)");
	}
	printf("  signatures:\n");
	for (size_t i = 0; i < r->n_sigs; i++) {
		enum ota_sig_alg alg;

		printf("    %zu %s key %s, %zu certificate%s\n", i,
		       ota_package_sig_alg(&alg, r->sigs[i].alg_code)
			   ? "unknown"
			   : ota_sig_alg_name(alg),
		       r->sigs[i].keyid, r->sigs[i].n_certs,
		       r->sigs[i].n_certs == 1 ? "" : "s");
	}
	if (r->region.n == 0)
		return;
	printf("  unprotected region: %u bytes (not signed: each entry has "
	       "its own proof)\n",
	       r->region.size);
	for (size_t i = 0; i < r->region.n; i++) {
		const struct ota_region_entry *e = &r->region.entries[i];

		if (e->type == OTA_REGION_TIMESTAMP)
			printf("    timestamp of signature %u, %zu bytes at "
			       "%llu\n",
			       e->sig_index, e->len,
			       (unsigned long long)e->offset);
		else if (e->type == OTA_REGION_OCSP)
			printf("    OCSP response for certificate %u of "
			       "signature %u, %zu bytes at %llu\n",
			       e->cert_index, e->sig_index, e->len,
			       (unsigned long long)e->offset);
		else
			printf("    root record, %zu bytes at %llu\n", e->len,
			       (unsigned long long)e->offset);
	}
}

static int inspect_package(const char *path, bool json,
			   struct ota_decrypt_key *key)
{
	struct ota_package_check_opts o = { .decrypt_key = key };
	struct ota_package_report r;
	int rc = ota_package_check(&r, path, &o);

	if (json) {
		char *text = NULL;
		size_t len;

		fputs(ota_package_report_to_json(&text, &len, &r) ? "{}\n"
								  : text,
		      stdout);
		free(text);
	} else {
		print_package(path, &r);
		printf("  structure:     %s\n",
		       rc ? r.error : "valid; every length and digest checked");
	}
	ota_package_report_clear(&r);
	return rc;
}

/* One "name: value" line per field; nested values on one line as JSON. */
static void print_fields(json_t *j)
{
	const char *key;
	json_t *v;

	json_object_foreach(j, key, v)
	{
		char *text =
		    json_is_string(v)
			? strdup(json_string_value(v))
			: json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		printf("  %-20s %s\n", key, text ? text : "?");
		free(text);
	}
}

static int inspect_mcuboot(const char *path, bool json,
			   struct ota_decrypt_key *key)
{
	struct ota_mcuboot_policy pol = { .decrypt_key = key };
	struct ota_mcuboot_info info;
	json_t *j = NULL;
	char *text;
	size_t len;
	int rc;

	memset(&info, 0, sizeof(info));
	rc = ota_mcuboot_verify(&info, path, &pol, NULL, NULL);
	if (ota_mcuboot_info_to_json(&text, &len, &info) == 0)
		j = cli_json_parse(text);
	/* Inspect judges no key: leave the verdict to otatool verify. */
	json_object_del(j, "trusted_key");
	json_object_del(j, "signature_ok");
	json_object_set_new(
	    j, "structure",
	    json_string(rc ? ota_error_message()
			: info.body == OTA_MCUBOOT_BODY_SEALED
			    ? "valid; every length checked; the hash covers "
			      "the encrypted payload's plaintext: not checked "
			      "without --decrypt-key"
			    : "valid; every length and the hash checked"));
	if (json) {
		text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		printf("%s: MCUboot image (signature listed, not judged: "
		       "see otatool verify)\n",
		       path);
		print_fields(j);
	}
	json_decref(j);
	return rc;
}

static void print_manifest(const char *path, const struct ota_envelope *e,
			   const struct ota_manifest *m)
{
	char v[2 * OTA_SEMVER_MAX + 3];

	printf("%s: %s manifest (signatures listed, not judged: see otatool "
	       "verify)\n",
	       path, e->n_sigs ? "signed" : "unsigned");
	ota_semver_format(v, sizeof(v), &m->version);
	printf("  name:          %s\n  version:       %s\n", m->name, v);
	printf("  git commit:    %s%s\n", m->git.commit,
	       m->git.dirty ? " (dirty)" : "");
	printf("  build:         %s on %s\n", m->build_time, m->build_machine);
	printf("  counter:       %u\n", m->security_counter);
	if (m->has_bootloader_min) {
		ota_semver_format(v, sizeof(v), &m->bootloader_min);
		printf("  bootloader:    >= %s\n", v);
	}
	printf("  hardware:     ");
	for (size_t i = 0; i < m->n_hardware; i++)
		printf(" %s", m->hardware[i]);
	printf("\n");
	for (size_t i = 0; i < m->n_dependencies; i++)
		printf("  depends on:    %s %s\n", m->dependencies[i].name,
		       m->dependencies[i].range);
	printf("  images:\n");
	for (size_t i = 0; i < m->n_images; i++) {
		printf("    %zu %-14s %-13s %llu B  %s\n      %s ", i,
		       m->images[i].name, m->images[i].kind,
		       (unsigned long long)m->images[i].size, m->images[i].file,
		       ota_digest_alg_name(m->images[i].digest.alg));
		print_hex(m->images[i].digest.bytes, m->images[i].digest.len);
		printf("\n");
	}
	printf("  signatures:\n");
	for (size_t i = 0; i < e->n_sigs; i++)
		printf("    %zu %s key %s, %zu certificate%s\n", i,
		       ota_sig_alg_name(e->sigs[i].alg), e->sigs[i].keyid,
		       e->sigs[i].n_certs, e->sigs[i].n_certs == 1 ? "" : "s");
}

static int inspect_manifest(const char *path, bool json)
{
	struct ota_envelope *e = NULL;
	struct ota_manifest *m = NULL;
	json_t *j, *sigs;
	char *text;
	int rc;

	if ((rc = ota_envelope_load(&e, path)) || (rc = ota_manifest_new(&m)) ||
	    (rc = ota_manifest_parse_json(m, e->payload, e->payload_len, path,
					  NULL)))
		goto out;
	if (!json) {
		print_manifest(path, e, m);
		goto out;
	}
	j = json_loadb(e->payload, e->payload_len, 0, NULL);
	sigs = json_array();
	for (size_t i = 0; i < e->n_sigs; i++)
		json_array_append_new(
		    sigs,
		    json_pack("{s:s, s:s, s:i}", "keyid", e->sigs[i].keyid,
			      "algorithm", ota_sig_alg_name(e->sigs[i].alg),
			      "certificates", (int)e->sigs[i].n_certs));
	json_object_set_new(j, "signatures", sigs);
	text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", text ? text : "{}");
	free(text);
	json_decref(j);
out:
	ota_manifest_free(m);
	ota_envelope_free(e);
	return rc;
}

int cmd_inspect(int argc, char **argv)
{
	struct cli_decrypt d = { 0 };
	enum ota_artifact kind;
	struct cli_args p;
	const char *path;
	bool json;
	int rc;

	if ((rc = cli_parse(&p, &spec, argc, argv)))
		return rc;
	json = cli_flag(&p, "json");
	if (p.help)
		cli_help(&spec);
	else if (p.n_operands != 1)
		rc = cli_usage_error("inspect", "expected one FILE");
	else if ((rc = ota_detect_artifact(&kind, (path = p.operands[0]))))
		;
	else if (kind != OTA_ARTIFACT_MCUBOOT && kind != OTA_ARTIFACT_PACKAGE &&
		 cli_value(&p, "decrypt-key"))
		rc = cli_usage_error("inspect",
				     "--decrypt-key: %s is a manifest "
				     "(manifests are not encrypted)",
				     path);
	else if (kind == OTA_ARTIFACT_MCUBOOT)
		rc = (rc = cli_decrypt_open(&d, &p))
			 ? rc
			 : inspect_mcuboot(path, json, d.key);
	else if (kind == OTA_ARTIFACT_PACKAGE)
		rc = (rc = cli_decrypt_open(&d, &p))
			 ? rc
			 : inspect_package(path, json, d.key);
	else
		rc = inspect_manifest(path, json);
	cli_decrypt_close(&d);
	cli_args_free(&p);
	return rc;
}
