/* Internal to the manifest module: shared by its YAML, JSON and core files. */
#ifndef OTATOOL_MANIFEST_PRIV_H
#define OTATOOL_MANIFEST_PRIV_H

#include "otatool/manifest.h"
#include "otatool/parse.h"

/* Image kinds otatool knows; any other lower-case id is a custom kind. */
extern const char *const ota_known_kinds[];

int manifest_add_image(struct ota_manifest *m, const char *name,
		       const char *kind, const char *file, const char *path,
		       bool has_load, uint64_t load, const char *origin);
int manifest_add_dependency(struct ota_manifest *m, const char *name,
			    const char *range, const char *origin);
int manifest_check_id(const char *s, const char *what, const char *origin);
int manifest_set_git(struct ota_manifest *m, const char *field,
		     const char *value, const char *origin);
char *manifest_join_path(const char *dir, const char *file);

#endif
