/* Nearest-name suggestions by optimal string alignment distance. */
#include "otatool/suggest.h"

#include <string.h>

#define SUGGEST_MAX 64 /* longer words are never typos worth fixing */

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;

			d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1,
				       d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	}
	return d[la][lb];
}

const char *ota_suggest(const char *word, const char *const *candidates,
			size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t len = strlen(word);
	/* Allow about one edit per three characters, at least one, at most 3.
	 */
	size_t limit = len / 3 < 1 ? 1 : (len / 3 > 3 ? 3 : len / 3);

	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, candidates[i]);

		/* A prefix is a good guess too: "--out" for "--output". */
		if (d > limit && len >= 3 &&
		    strncmp(word, candidates[i], len) == 0)
			d = limit;
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
