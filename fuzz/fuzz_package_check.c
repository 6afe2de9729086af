/*
 * libFuzzer target for the host package reader (src/lib/package_check.c),
 * what otatool inspect and verify run over an otatool package: the device
 * verifier fed in chunks, and around it everything the host adds: the
 * report (names, versions, hardware, dependencies, times), the signature
 * block decoded for OpenSSL (keys, DER certificates), the signatures judged
 * against a trusted key with real SHA-2 and Ed25519/ECDSA, the inflating
 * of compressed images, and the report written as JSON. Each input is
 * written to an anonymous memory file and read twice, as inspect reads it
 * (no trust) and as verify --trust-key reads it (two fixed keys, Ed25519
 * and P-256, which signed the seeds).
 *
 * Invariants, beyond no crash, leak, hang or sanitizer report:
 * - inspect fails only with OTA_EVERIFY, and verify only with OTA_EVERIFY
 *   or OTA_EUNTRUSTED, each with a message; the report says where reading
 *   stopped exactly when it failed, and its counts stay within bounds;
 * - a package that verifies also passes inspect, had a trusted signature
 *   checked, and every image's stored and flashed digests were checked;
 * - the report of either run, right or wrong, is written as JSON text
 *   that jansson reads back.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "memfile.h"
#include "otatool/error.h"
#include "otatool/package.h"
#include "otatool/trust.h"

/* The keys that signed fuzz/corpus/package_check/ (see fuzz/README.md). */
static const char ed25519_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEaHNgLC7JQdbR2H2nKqImmWFLgnksAYEPuXHcLqqhcJ\n"
    "-----END PRIVATE KEY-----\n";
static const char p256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3xGATc/nUPwWn+eI\n"
    "+M/HxdZrASR5/3uv06RZYqqQjl+hRANCAAQdIzMDOe6bh63gIS9bYXI44k8rawMD\n"
    "Oy28B6XUEo8S8trmff6M7hBK4OlU68GxRYzG+GXxCTUyVovTUHp6NzXS\n"
    "-----END PRIVATE KEY-----\n";

static struct ota_trust trust;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_package_check: %s: %s\n", what,
		ota_error_message());
	abort();
}

/* A key for the trust, through the library's own key-file reader. */
static void add_key(const char *pem)
{
	char path[64];
	int fd = memfd_create("otatool-fuzz-key", MFD_CLOEXEC);
	size_t len = strlen(pem);

	if (fd < 0 || write(fd, pem, len) != (ssize_t)len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ota_trust_add_key(&trust, path))
		fail("the fixed trust key");
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ota_trust_init(&trust);
	add_key(ed25519_pem);
	add_key(p256_pem);
	return 0;
}

static void check_report(const struct ota_package_report *r, int rc)
{
	json_t *j;
	char *text = NULL;
	size_t len = 0;

	if ((rc == 0) != (r->stopped == OTA_PACKAGE_STOP_NONE))
		fail("the report's stop does not match the result");
	if (rc && !ota_error_message()[0])
		fail("a failure without a message");
	if (r->n_images > OTA_PACKAGE_MAX_IMAGES ||
	    r->n_sigs > OTA_PACKAGE_MAX_SIGS ||
	    r->n_hardware > OTA_PACKAGE_MAX_HW ||
	    r->n_deps > OTA_PACKAGE_MAX_DEPS)
		fail("a count out of bounds");
	if (r->trusted_sig >= (int)r->n_sigs)
		fail("the trusted signature is not one of the package's");
	if (ota_package_report_to_json(&text, &len, r))
		fail("the report as JSON");
	j = json_loadb(text, len, 0, NULL);
	if (!j)
		fail("the report's JSON does not parse back");
	free(text);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = memfile_path(data, size);
	struct ota_package_check_opts inspect = { 0 };
	struct ota_package_check_opts verify = { .trust = &trust };
	struct ota_package_report r;
	int rc_inspect, rc;

	memset(&r, 0, sizeof(r));
	rc_inspect = ota_package_check(&r, path, &inspect);
	if (rc_inspect && rc_inspect != OTA_EVERIFY)
		fail("inspect: an error other than OTA_EVERIFY");
	check_report(&r, rc_inspect);
	ota_package_report_clear(&r);

	memset(&r, 0, sizeof(r));
	rc = ota_package_check(&r, path, &verify);
	if (rc && rc != OTA_EVERIFY && rc != OTA_EUNTRUSTED)
		fail("verify: an error other than OTA_EVERIFY/EUNTRUSTED");
	check_report(&r, rc);
	if (rc == 0) {
		if (rc_inspect)
			fail("a package that verifies fails inspect");
		if (!r.signature_checked || r.trusted_sig < 0)
			fail("accepted without a trusted signature");
		for (size_t i = 0; i < r.n_images; i++)
			/* without a key, an encrypted image's plaintext is
			 * not checked: its stored digest is */
			if (!r.images[i].stored_ok ||
			    (!r.images[i].flashed_ok &&
			     !r.images[i].encrypted) ||
			    (r.images[i].encrypted && r.images[i].n_keys == 0))
				fail("accepted with an image unchecked");
	}
	ota_package_report_clear(&r);
	return 0;
}
