/* "Did you mean" for unknown names: commands, options, YAML keys. */
#ifndef OTATOOL_SUGGEST_H
#define OTATOOL_SUGGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The candidate closest to word by edit distance (transpositions count as
 * one), or NULL when none is close enough to be a plausible typo.
 */
const char *ota_suggest(const char *word, const char *const *candidates,
			size_t n);

#ifdef __cplusplus
}
#endif
#endif
