/*
 * libFuzzer target for the signed-manifest reader (src/lib/envelope.c) and,
 * through it, the manifest reader (src/lib/manifest_json.c, with jansson
 * underneath): every input is what otatool sign, package or verify would
 * load as a manifest, either a DSSE envelope (otatool-signature(5)) or a
 * bare manifest (otatool-manifest(5)), parsed with ota_envelope_parse().
 * Signatures are parsed, not verified: no key is trusted here.
 *
 * Invariants, beyond no crash, leak, hang or sanitizer report:
 * - the only failure is OTA_EINPUT, with a message that starts with the
 *   input's name;
 * - an accepted input holds at most OTA_ENVELOPE_MAX_SIGS signatures of at
 *   most OTA_ENVELOPE_MAX_CERTS certificates, no key id twice, and a
 *   payload that is a manifest in canonical form (read and written again,
 *   byte for byte the same);
 * - its envelope, written with ota_envelope_to_json(), reads back, and
 *   writes again byte for byte the same, with the same payload (so the
 *   bytes a signature covers, the PAE, do not change on the way).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otatool/envelope.h"
#include "otatool/error.h"
#include "otatool/manifest.h"

#define NAME "fuzz.json"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_envelope: %s: %s\n", what, ota_error_message());
	abort();
}

static void check_payload(const struct ota_envelope *e)
{
	struct ota_manifest *m = NULL;
	char *canon = NULL;
	size_t len = 0;

	if (ota_manifest_new(&m))
		abort();
	if (ota_manifest_parse_json(m, e->payload, e->payload_len, NAME,
				    NULL) ||
	    ota_manifest_to_json(&canon, &len, m))
		fail("the payload of an accepted envelope is not a manifest");
	if (len != e->payload_len || memcmp(canon, e->payload, len) != 0)
		fail("the payload of an accepted envelope is not canonical");
	free(canon);
	ota_manifest_free(m);
}

static void check_accepted(const struct ota_envelope *e)
{
	struct ota_envelope *back = NULL;
	char *json = NULL, *again = NULL;
	uint8_t *pae = NULL, *pae2 = NULL;
	size_t len = 0, len2 = 0, pae_len = 0, pae2_len = 0;

	if (e->n_sigs > OTA_ENVELOPE_MAX_SIGS)
		fail("too many signatures");
	for (size_t i = 0; i < e->n_sigs; i++) {
		if (e->sigs[i].n_certs > OTA_ENVELOPE_MAX_CERTS ||
		    strlen(e->sigs[i].keyid) != OTA_KEY_ID_LEN)
			fail("a signature out of bounds");
		for (size_t j = 0; j < i; j++)
			if (strcmp(e->sigs[i].keyid, e->sigs[j].keyid) == 0)
				fail("a key id twice");
	}
	check_payload(e);
	if (ota_envelope_to_json(&json, &len, e))
		fail("writing the envelope");
	if (ota_envelope_parse(&back, json, len, NAME)) {
		fprintf(stderr, "%s", json);
		fail("an envelope written does not read back");
	}
	if (ota_envelope_to_json(&again, &len2, back))
		fail("writing the envelope again");
	if (len != len2 || memcmp(json, again, len) != 0 ||
	    back->n_sigs != e->n_sigs)
		fail("the envelope changed on the way back");
	if (ota_envelope_pae(&pae, &pae_len, e) ||
	    ota_envelope_pae(&pae2, &pae2_len, back))
		fail("the PAE");
	if (pae_len != pae2_len || memcmp(pae, pae2, pae_len) != 0)
		fail("the signed bytes changed on the way back");
	free(pae);
	free(pae2);
	free(again);
	free(json);
	ota_envelope_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ota_envelope *e = NULL;
	int rc = ota_envelope_parse(&e, (const char *)data, size, NAME);

	if (rc == 0)
		check_accepted(e);
	else if (rc != OTA_EINPUT || e != NULL ||
		 strncmp(ota_error_message(), NAME, strlen(NAME)) != 0)
		fail("unexpected error");
	ota_envelope_free(e);
	return 0;
}
