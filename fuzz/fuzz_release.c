/*
 * libFuzzer target for the release-file reader (src/lib/manifest_yaml.c,
 * with libyaml underneath): every input is a release file, written to an
 * anonymous memory file (memfile.h) and loaded with ota_manifest_load_yaml()
 * through the same bounded file reading as a real one.
 *
 * Invariants, beyond no crash, leak, hang or sanitizer report:
 * - the only failure is OTA_EINPUT, with a message that starts with the
 *   file's name (every error names the file, and the line where it can);
 * - a release file that loads, completed as ota_manifest_resolve() would
 *   complete it (git commit, build time and machine, digests: stand-ins
 *   here, since nothing is read from git or disk), must be written as a
 *   manifest that the manifest reader (manifest_json.c) accepts, and that
 *   it writes again byte for byte: whatever the YAML reader lets through,
 *   the JSON reader takes back unchanged.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otatool/digest.h"
#include "otatool/error.h"
#include "otatool/manifest.h"

#include "memfile.h"

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_release: %s: %s\n", what, ota_error_message());
	abort();
}

/* What ota_manifest_resolve() adds, without git, clock or image files. */
static int complete(struct ota_manifest *m)
{
	const struct ota_git_info *g = &m->git;

	/* resolve refuses these; so does the target. */
	if (!m->name || !m->has_version || m->n_hardware == 0 ||
	    m->n_images == 0 ||
	    (!m->has_git &&
	     (g->branch[0] || g->tag[0] || g->describe[0] || g->dirty)))
		return -1;
	if (!m->has_git &&
	    ota_manifest_set(m, "git-commit",
			     "0123456789abcdef0123456789abcdef01234567",
			     "fuzz"))
		fail("git-commit");
	if (!m->build_time &&
	    ota_manifest_set(m, "build-time", "2026-11-24T09:00:00Z", "fuzz"))
		fail("build-time");
	if (!m->build_machine &&
	    ota_manifest_set(m, "build-id", "fuzz", "fuzz"))
		fail("build-id");
	m->tool_version = strdup("0.0.0-fuzz");
	if (!m->tool_version)
		abort();
	for (size_t i = 0; i < m->n_images; i++) {
		struct ota_image *img = &m->images[i];

		img->digest.alg = m->digest_alg;
		img->digest.len = ota_digest_alg_size(m->digest_alg);
		memset(img->digest.bytes, 0xa5, img->digest.len);
		img->size = i;
	}
	return 0;
}

static void round_trip(struct ota_manifest *m)
{
	struct ota_manifest *back = NULL;
	char *json = NULL, *again = NULL;
	size_t len = 0, len2 = 0;

	if (complete(m))
		return;
	if (ota_manifest_to_json(&json, &len, m))
		fail("writing the manifest");
	if (ota_manifest_new(&back))
		abort();
	if (ota_manifest_parse_json(back, json, len, "fuzz.json", NULL)) {
		fprintf(stderr, "%s", json);
		fail(
		    "the manifest reader refused what the release reader took");
	}
	if (ota_manifest_to_json(&again, &len2, back))
		fail("writing the manifest again");
	if (len != len2 || memcmp(json, again, len) != 0) {
		fprintf(stderr, "%s---\n%s", json, again);
		fail("the manifest changed on the way back");
	}
	free(again);
	free(json);
	ota_manifest_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = memfile_path(data, size);
	struct ota_manifest *m = NULL;
	int rc;

	if (ota_manifest_new(&m))
		abort();
	rc = ota_manifest_load_yaml(m, path);
	if (rc == 0)
		round_trip(m);
	else if (rc != OTA_EINPUT ||
		 strncmp(ota_error_message(), path, strlen(path)) != 0)
		fail("unexpected error");
	ota_manifest_free(m);
	return 0;
}
