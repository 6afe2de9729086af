/* otatool's canonical JSON text, one form for manifests and reports. */
#include "json_priv.h"

#include "otatool/error.h"

#include <stdlib.h>
#include <string.h>

int ota_json_canonical(char **out, size_t *len, json_t *root)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n;

	if (!text)
		return ota_error(OTA_EINTERNAL, "out of memory");
	n = strlen(text);
	/* A copy rather than realloc: one newline more, and no aliasing. */
	*out = malloc(n + 2);
	if (*out) {
		memcpy(*out, text, n);
		(*out)[n] = '\n';
		(*out)[n + 1] = '\0';
	}
	free(text);
	if (!*out)
		return ota_error(OTA_EINTERNAL, "out of memory");
	*len = n + 1;
	return 0;
}

int ota_json_text(char **out, size_t *len, json_t *root)
{
	int rc;

	*out = NULL;
	*len = 0;
	if (!root)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = ota_json_canonical(out, len, root);
	json_decref(root);
	return rc;
}
