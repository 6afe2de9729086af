/* otatool's version and the versions of the libraries it runs with. */
#include "otatool/versions.h"

#include "json_priv.h"
#include "otatool/error.h"
#include "otatool/version.h"

#include <divsufsort.h>
#include <git2.h>
#include <jansson.h>
#include <lzma.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include <zlib.h>

/*
 * p11-kit exposes no version call; CMake passes the version of the p11-kit
 * otatool was built against (pkg-config's p11-kit-1).
 */
#ifndef OTA_P11KIT_BUILD_VERSION
#define OTA_P11KIT_BUILD_VERSION "unknown"
#endif

const char *ota_version(void)
{
	return OTATOOL_VERSION;
}

static void set(struct ota_library_version *v, const char *name,
		const char *version, bool runtime)
{
	v->name = name;
	snprintf(v->version, sizeof(v->version), "%s",
		 version ? version : "unknown");
	v->runtime = runtime;
}

size_t ota_library_versions(struct ota_library_version *out, size_t max)
{
	struct ota_library_version all[OTA_LIBRARY_VERSIONS_MAX];
	char git[32];
	int major = 0, minor = 0, rev = 0;
	size_t n = 0;

	/* OpenSSL's own spelling, "3.0.15", of the libcrypto loaded now. */
	set(&all[n++], "OpenSSL", OpenSSL_version(OPENSSL_VERSION_STRING),
	    true);
	git_libgit2_version(&major, &minor, &rev);
	snprintf(git, sizeof(git), "%d.%d.%d", major, minor, rev);
	set(&all[n++], "libgit2", git, true);
	set(&all[n++], "p11-kit", OTA_P11KIT_BUILD_VERSION, false);
	set(&all[n++], "libyaml", yaml_get_version_string(), true);
	set(&all[n++], "jansson", jansson_version_str(), true);
	set(&all[n++], "zlib", zlibVersion(), true);
	set(&all[n++], "liblzma", lzma_version_string(), true);
	set(&all[n++], "libdivsufsort", divsufsort_version(), true);
	if (n > max)
		n = max;
	if (n)
		memcpy(out, all, n * sizeof(*out));
	return n;
}

int ota_versions_to_json(char **out, size_t *len)
{
	struct ota_library_version libs[OTA_LIBRARY_VERSIONS_MAX];
	size_t n = ota_library_versions(libs, OTA_LIBRARY_VERSIONS_MAX);
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++) {
		if (json_array_append_new(
			list, json_pack("{s:s, s:s, s:b}", "name", libs[i].name,
					"version", libs[i].version, "runtime",
					libs[i].runtime))) {
			json_decref(list);
			list = NULL;
		}
	}
	/* ota_json_text() takes NULL (a builder out of memory) too. */
	return ota_json_text(out, len,
			     list
				 ? json_pack("{s:s, s:o}", "otatool",
					     OTATOOL_VERSION, "libraries", list)
				 : NULL);
}
