/*
 * A firmware release's manifest: loaded from a release description (YAML),
 * completed from git, the build environment and the image files, and
 * written as canonical JSON (otatool-manifest(5)).
 */
#ifndef OTATOOL_MANIFEST_H
#define OTATOOL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otatool/digest.h"
#include "otatool/gitinfo.h"
#include "otatool/progress.h"
#include "otatool/semver.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_MANIFEST_FORMAT    "otatool-manifest/1"
#define OTA_MANIFEST_MAX_ITEMS 64 /* hardware ids, images, dependencies */
#define OTA_MANIFEST_MAX_FILE  (1u << 20) /* YAML or JSON input, bytes */
#define OTA_ID_MAX             64         /* names, kinds, hardware ids */

struct ota_image {
	char *name;
	char *kind;
	char *file; /* as written in the description, recorded as is */
	char *path; /* where to read it: file resolved against the base dir */
	char *root; /* a release file's directory, which path must resolve
		       inside (see ota_manifest_resolve); NULL: anywhere */
	bool has_load_address;
	uint64_t load_address;
	uint64_t size;            /* set by ota_manifest_resolve() */
	struct ota_digest digest; /* set by ota_manifest_resolve() */
};

struct ota_dependency {
	char *name;
	char *range; /* validated by ota_semver_range_parse() */
};

struct ota_manifest {
	char *name;
	bool has_version;
	struct ota_semver version;
	bool has_git;
	struct ota_git_info git;
	char *build_time; /* RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	char *build_machine;
	char *tool_version; /* otatool's version that wrote it */
	size_t n_hardware;
	char *hardware[OTA_MANIFEST_MAX_ITEMS];
	bool has_bootloader_min;
	struct ota_semver bootloader_min;
	uint32_t security_counter;
	enum ota_digest_alg digest_alg;
	size_t n_dependencies;
	struct ota_dependency dependencies[OTA_MANIFEST_MAX_ITEMS];
	size_t n_images;
	struct ota_image images[OTA_MANIFEST_MAX_ITEMS];
};

int ota_manifest_new(struct ota_manifest **out);
void ota_manifest_free(struct ota_manifest *m);

/*
 * Loads a release description (otatool-manifest(5), RELEASE FILE). Every
 * value is validated as it is read; errors name "FILE:LINE:COLUMN: field".
 * Unknown keys are refused with the nearest known key. Image paths are
 * resolved against the description's directory.
 */
int ota_manifest_load_yaml(struct ota_manifest *m, const char *path);

/*
 * Sets one field from text, with the validation the YAML loader applies;
 * origin names where the value came from ("--security-counter") for the
 * error message. Fields: name, version, bootloader-min, security-counter,
 * digest, build-time, build-id, git-commit, git-branch, git-tag, and the
 * list fields hardware (appends), dependency (NAME:RANGE, appends) and
 * image (NAME:KIND:FILE[:LOAD_ADDRESS], appends; FILE relative to the
 * current directory). ota_manifest_clear_list() empties a list first, so a
 * command line can replace what the description said.
 */
int ota_manifest_set(struct ota_manifest *m, const char *field,
		     const char *value, const char *origin);
int ota_manifest_clear_list(struct ota_manifest *m, const char *field);

struct ota_resolve_opts {
	const char *source;       /* release file, for messages; NULL: none */
	const char *git_dir;      /* where to look for the repository; "." */
	bool allow_dirty;         /* record a dirty tree instead of refusing */
	bool allow_outside;       /* release-file images may resolve outside
				     the release file's directory */
	bool skip_digests;        /* sizes only: a package writer hashes */
	ota_progress_fn progress; /* per image chunk; NULL for none */
	void *progress_ctx;
};

/*
 * Completes a loaded description: checks required fields, reads git unless
 * a commit was given, fixes the build time (SOURCE_DATE_EPOCH, else now) and
 * machine (CI job id from the environment, else host name), and hashes every
 * image. A dirty tree without allow_dirty is OTA_EPOLICY. Without
 * allow_outside, an image with a root that resolves (symbolic links
 * followed) outside that directory is OTA_EINPUT, before anything is read.
 */
int ota_manifest_resolve(struct ota_manifest *m,
			 const struct ota_resolve_opts *opts);

/*
 * Makes every image's recorded file relative to dir, the directory the
 * manifest is written to ("." for standard output), so that whoever reads
 * the manifest where it lies finds the images. Images must exist.
 */
int ota_manifest_rebase_files(struct ota_manifest *m, const char *dir);

/*
 * Points every image at dir: dir/FILE when that exists, else
 * dir/basename(FILE), so that a flat folder of downloaded images works as
 * well as a copy of the release tree.
 */
int ota_manifest_locate_images(struct ota_manifest *m, const char *dir);

/* Canonical JSON (fixed key order, 2-space indent, final newline). */
int ota_manifest_to_json(char **out, size_t *len, const struct ota_manifest *m);

/*
 * Reads a manifest written by ota_manifest_to_json(), validating every field
 * as strictly as the YAML loader. Errors name the file and JSON field.
 */
int ota_manifest_load_json(struct ota_manifest *m, const char *path);

/*
 * The same from memory; name labels messages, base_dir resolves image files
 * (NULL: the current directory).
 */
int ota_manifest_parse_json(struct ota_manifest *m, const void *data,
			    size_t len, const char *name, const char *base_dir);

/*
 * Re-hashes every image file and compares size and digest with the
 * manifest: OTA_EVERIFY naming the image when a file changed since.
 */
int ota_manifest_check_images(const struct ota_manifest *m,
			      ota_progress_fn progress, void *progress_ctx);

/* The same for one image, m->images[index] (verify reports each on a line). */
int ota_manifest_check_image(const struct ota_manifest *m, size_t index,
			     ota_progress_fn progress, void *progress_ctx);

/*
 * Anti-rollback: the new release's version must be higher than the previous
 * one (OTA_EDOWNGRADE) and its security counter not lower (OTA_EROLLBACK).
 * prev_name names the previous manifest in messages.
 */
int ota_manifest_check_previous(const struct ota_manifest *m,
				const struct ota_manifest *prev,
				const char *prev_name);

#ifdef __cplusplus
}
#endif
#endif
