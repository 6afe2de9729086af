/* Unit tests for src/lib/versions.c. */
#include <criterion/criterion.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "otatool/version.h"
#include "otatool/versions.h"

Test(versions, runtime_libraries)
{
	struct ota_library_version v[OTA_LIBRARY_VERSIONS_MAX];
	size_t n = ota_library_versions(v, OTA_LIBRARY_VERSIONS_MAX);

	cr_assert_str_eq(ota_version(), OTATOOL_VERSION);
	cr_assert_eq(n, 8);
	cr_assert_str_eq(v[0].name, "OpenSSL");
	cr_assert_str_eq(v[0].version, OpenSSL_version(OPENSSL_VERSION_STRING));
	cr_assert(v[0].runtime);
	cr_assert_str_eq(v[2].name, "p11-kit");
	cr_assert_not(v[2].runtime, "p11-kit has no version call");
	cr_assert_neq(strcmp(v[2].version, "unknown"), 0);
	cr_assert_str_eq(v[5].name, "zlib");
	cr_assert_str_eq(v[5].version, zlibVersion());
	for (size_t i = 0; i < n; i++)
		cr_assert(v[i].version[0] >= '0' && v[i].version[0] <= '9',
			  "%s: '%s'", v[i].name, v[i].version);
}

Test(versions, truncated_list)
{
	struct ota_library_version v[3];

	memset(v, 0, sizeof(v));
	cr_assert_eq(ota_library_versions(v, 2), 2);
	cr_assert_str_eq(v[1].name, "libgit2");
	cr_assert_null(v[2].name, "nothing written past max");
	cr_assert_eq(ota_library_versions(v, 0), 0);
}

Test(versions, json)
{
	char *text = NULL;
	size_t len = 0;
	json_t *root, *libs;

	cr_assert_eq(ota_versions_to_json(&text, &len), 0);
	cr_assert_eq(text[len - 1], '\n');
	root = json_loadb(text, len, 0, NULL);
	cr_assert_not_null(root);
	cr_assert_str_eq(json_string_value(json_object_get(root, "otatool")),
			 OTATOOL_VERSION);
	libs = json_object_get(root, "libraries");
	cr_assert_eq(json_array_size(libs), 8);
	cr_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(libs, 0), "version")),
			 OpenSSL_version(OPENSSL_VERSION_STRING));
	cr_assert(
	    json_is_false(json_object_get(json_array_get(libs, 2), "runtime")));
	json_decref(root);
	free(text);
}
