/* Unit tests for src/lib/suggest.c: "did you mean" for typos. */
#include <criterion/criterion.h>

#include <string.h>

#include "otatool/suggest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const keys[] = {
	"name",   "version", "hardware", "bootloader_min", "security_counter",
	"digest", "git",     "build",    "dependencies",   "images",
};

static const char *const options[] = { "--output", "--quiet", "--help",
				       "--name", "--hardware" };

/* ota_suggest must hand back one of the candidates, not a copy. */
static void expect(const char *word, const char *const *cands, size_t n,
		   const char *want)
{
	const char *got = ota_suggest(word, cands, n);

	if (!want) {
		cr_assert_null(got,
			       "\"%s\": expected no suggestion, got \"%s\"",
			       word, got);
		return;
	}
	cr_assert_not_null(got, "\"%s\": expected \"%s\", got nothing", word,
			   want);
	cr_assert_str_eq(got, want, "\"%s\"", word);
	for (size_t i = 0; i < n; i++)
		if (got == cands[i])
			return;
	cr_assert_fail("\"%s\": result is not a candidate pointer", word);
}

Test(suggest, exact_match)
{
	expect("digest", keys, N(keys), "digest");
}

Test(suggest, substitution)
{
	expect("digist", keys, N(keys), "digest");
	expect("imagez", keys, N(keys), "images");
}

Test(suggest, deletion_and_insertion)
{
	expect("hardwre", keys, N(keys), "hardware");
	expect("versionn", keys, N(keys), "version");
	expect("securitycounter", keys, N(keys), "security_counter");
}

Test(suggest, transposition_counts_as_one_edit)
{
	/* "nmae" is two substitutions but one transposition away. */
	expect("nmae", keys, N(keys), "name");
	expect("verison", keys, N(keys), "version");
	expect("gti", keys, N(keys), "git");
	expect("--ouptut", options, N(options), "--output");
}

Test(suggest, prefix)
{
	expect("--out", options, N(options), "--output");
	expect("--hard", options, N(options), "--hardware");
	expect("bootloader", keys, N(keys), "bootloader_min");
}

Test(suggest, prefix_needs_three_characters)
{
	static const char *const one[] = { "--output" };

	expect("--", one, N(one), NULL);
}

Test(suggest, closest_wins)
{
	static const char *const cands[] = { "software", "hardware",
					     "hardcore" };

	expect("hardwar", cands, N(cands), "hardware");
}

Test(suggest, nothing_close)
{
	expect("colour", keys, N(keys), NULL);
	expect("zzzzzzzz", keys, N(keys), NULL);
	expect("--verbose", options, N(options), NULL);
	/* Short words get one edit at most: two is not a typo of "git". */
	expect("xyt", keys, N(keys), NULL);
}

Test(suggest, no_candidates)
{
	cr_assert_null(ota_suggest("name", keys, 0));
}

Test(suggest, very_long_word)
{
	static char word[300];

	memset(word, 'n', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	expect(word, keys, N(keys), NULL);
}

Test(suggest, long_word_one_edit)
{
	/* Long words allow more edits, but never past three. */
	static const char *const cands[] = { "dependencies-extended" };

	expect("dependancies-extnded", cands, N(cands),
	       "dependencies-extended");
	expect("dpendancies-extnde", cands, N(cands), NULL);
}
