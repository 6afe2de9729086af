/*
 * Whether two artifacts carry the same signed content (otatool diff): for
 * rebuild checks, where two builds of one release must differ only in
 * their signatures.
 */
#ifndef OTATOOL_DIFF_H
#define OTATOOL_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_DIFF_MAX_LINES 64

/* One difference: what differs, and its value on each side. */
struct ota_diff_line {
	char field[96]; /* "version", "image app: digest", "signed region" */
	char a[200], b[200];
};

struct ota_diff {
	const char *kind; /* "otatool package", "MCUboot image" */
	size_t n;         /* lines recorded (at most OTA_DIFF_MAX_LINES) */
	size_t n_more;    /* differences past the last line recorded */
	struct ota_diff_line lines[OTA_DIFF_MAX_LINES];
};

/*
 * Compares a and b, two otatool packages or two MCUboot images, by what
 * their signatures cover: every field of the signed region (for a package
 * its header and protected TLVs: names, versions, counter, hardware,
 * times, dependencies, every image's sizes and digests; for an MCUboot
 * image its header, protected TLVs and image hash), and, when no field
 * explains a difference, the first differing byte of the signed bytes.
 * Signatures, certificates outside the signed region and padding are not
 * compared. Both must be well formed (each is checked as inspect checks
 * it: structure and digests, no trust): else that file's error. Returns
 * 0 when the signed content is the same, OTA_EDIFFERENT (message: how many
 * fields differ and the first) with the lines in d, or OTA_EUSAGE for two
 * kinds of artifact or another kind (a manifest).
 */
int ota_diff_artifacts(struct ota_diff *d, const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
