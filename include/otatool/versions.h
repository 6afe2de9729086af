/*
 * Which otatool this is and which libraries it runs with: what
 * `otatool --version` prints, so that a bug report or a CI log says which
 * OpenSSL, libgit2 and p11-kit signed a release.
 */
#ifndef OTATOOL_VERSIONS_H
#define OTATOOL_VERSIONS_H

#include <stdbool.h>
#include <stddef.h>

#define OTA_LIBRARY_VERSIONS_MAX 10

struct ota_library_version {
	const char *name; /* "OpenSSL", "libgit2", "p11-kit", ... */
	char version[64]; /* as the library spells it, e.g. "3.0.15" */
	/*
	 * true: asked of the library loaded at run time; false: the version
	 * otatool was built against, for a library that cannot be asked
	 * (p11-kit has no version call).
	 */
	bool runtime;
};

/* otatool's own version, "0.1.0". */
const char *ota_version(void);

/*
 * Fills out[0..max) with the libraries otatool runs with, in a fixed
 * order (OpenSSL, libgit2, p11-kit, libyaml, jansson, zlib, liblzma,
 * libdivsufsort), and returns how many it wrote (at most max).
 */
size_t ota_library_versions(struct ota_library_version *out, size_t max);

/*
 * The same as JSON text: {"otatool": VERSION, "libraries": [{"name",
 * "version", "runtime"}, ...]}. *out is malloc'ed, with a final newline.
 */
int ota_versions_to_json(char **out, size_t *len);

#endif
