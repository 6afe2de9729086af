/*
 * The package format's vocabulary (otatool-package(5)): what the codes of
 * signature algorithms, digests and image kinds mean. One table each, read
 * both ways, by the writer (package_write.c) and the reader
 * (package_check.c) alike.
 */
#include "otapkg.h"
#include "otatool/error.h"
#include "otatool/package.h"

#include <string.h>

/* A word of the format: its code in a file, and what it means here. */
struct term {
	unsigned code;
	int meaning;      /* enum ota_sig_alg or ota_digest_alg */
	const char *name; /* image kinds: the manifest's name */
};

static const struct term sig_terms[] = {
	{ OTAPKG_SIG_ECDSA_P256, OTA_SIG_ECDSA_P256_SHA256, NULL },
	{ OTAPKG_SIG_ECDSA_P384, OTA_SIG_ECDSA_P384_SHA384, NULL },
	{ OTAPKG_SIG_RSA_PSS, OTA_SIG_RSA_PSS_SHA256, NULL },
	{ OTAPKG_SIG_RSA_PKCS1, OTA_SIG_RSA_PKCS1_SHA256, NULL },
	{ OTAPKG_SIG_ED25519, OTA_SIG_ED25519, NULL },
};

static const struct term digest_terms[] = {
	{ OTAPKG_DIGEST_SHA256, OTA_DIGEST_SHA256, NULL },
	{ OTAPKG_DIGEST_SHA384, OTA_DIGEST_SHA384, NULL },
	{ OTAPKG_DIGEST_SHA512, OTA_DIGEST_SHA512, NULL },
};

/* OTAPKG_KIND_CUSTOM is not here: its name is text in the package. */
static const struct term kind_terms[] = {
	{ OTAPKG_KIND_BOOTLOADER, 0, "bootloader" },
	{ OTAPKG_KIND_APPLICATION, 0, "application" },
	{ OTAPKG_KIND_CONFIG, 0, "config" },
	{ OTAPKG_KIND_FACTORY_RESET, 0, "factory-reset" },
};

static const struct term compression_terms[] = {
	{ OTAPKG_COMP_NONE, 0, "none" },
	{ OTAPKG_COMP_ZLIB, 0, "zlib" },
	{ OTAPKG_COMP_PATCH, 0, "patch" },
};

#define N(t) (sizeof(t) / sizeof((t)[0]))

enum column { BY_CODE, BY_MEANING, BY_NAME };

/* The term of t whose column `by` equals key's; NULL if none. */
static const struct term *find(const struct term *t, size_t n, enum column by,
			       const struct term *key)
{
	for (size_t i = 0; i < n; i++)
		if ((by == BY_CODE && t[i].code == key->code) ||
		    (by == BY_MEANING && t[i].meaning == key->meaning) ||
		    (by == BY_NAME && strcmp(t[i].name, key->name) == 0))
			return &t[i];
	return NULL;
}

uint16_t ota_package_sig_code(enum ota_sig_alg alg)
{
	const struct term *t = find(sig_terms, N(sig_terms), BY_MEANING,
				    &(struct term){ .meaning = (int)alg });

	return t ? (uint16_t)t->code : 0;
}

int ota_package_sig_alg(enum ota_sig_alg *out, uint16_t code)
{
	const struct term *t = find(sig_terms, N(sig_terms), BY_CODE,
				    &(struct term){ .code = code });

	if (!t)
		return OTA_EVERIFY;
	*out = (enum ota_sig_alg)t->meaning;
	return 0;
}

uint8_t ota_package_digest_code(enum ota_digest_alg alg)
{
	const struct term *t = find(digest_terms, N(digest_terms), BY_MEANING,
				    &(struct term){ .meaning = (int)alg });

	return t ? (uint8_t)t->code : 0;
}

int ota_package_digest_alg(enum ota_digest_alg *out, uint8_t code)
{
	const struct term *t = find(digest_terms, N(digest_terms), BY_CODE,
				    &(struct term){ .code = code });

	if (!t)
		return OTA_EVERIFY;
	*out = (enum ota_digest_alg)t->meaning;
	return 0;
}

uint8_t ota_package_kind_code(const char *name)
{
	const struct term *t = find(kind_terms, N(kind_terms), BY_NAME,
				    &(struct term){ .name = name });

	return t ? (uint8_t)t->code : OTAPKG_KIND_CUSTOM;
}

const char *ota_package_kind_name(uint8_t code)
{
	const struct term *t = find(kind_terms, N(kind_terms), BY_CODE,
				    &(struct term){ .code = code });

	return t ? t->name : NULL;
}

const char *ota_package_compression_name(uint8_t code)
{
	const struct term *t = find(compression_terms, N(compression_terms),
				    BY_CODE, &(struct term){ .code = code });

	return t ? t->name : NULL;
}

bool ota_package_is_package(const uint8_t *head, size_t len)
{
	static const uint8_t magic[4] = { OTAPKG_MAGIC0, OTAPKG_MAGIC1,
					  OTAPKG_MAGIC2, OTAPKG_MAGIC3 };

	return len >= 4 && memcmp(head, magic, 4) == 0;
}
