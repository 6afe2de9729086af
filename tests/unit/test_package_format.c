/*
 * Unit tests for src/lib/package_format.c, the package format's
 * vocabulary: each code means what otapkg.h (and otatool-package(5)) says,
 * in both directions, and unknown codes are refused.
 */
#include <criterion/criterion.h>

#include "otapkg.h"
#include "otatool/error.h"
#include "otatool/package.h"

#include <string.h>

/* The codes as the format description lists them, written out here. */
static const struct {
	enum ota_sig_alg alg;
	uint16_t code;
} sigs[] = {
	{ OTA_SIG_ECDSA_P256_SHA256, 1 }, { OTA_SIG_ECDSA_P384_SHA384, 2 },
	{ OTA_SIG_RSA_PSS_SHA256, 3 },    { OTA_SIG_RSA_PKCS1_SHA256, 4 },
	{ OTA_SIG_ED25519, 5 },
};

static const struct {
	enum ota_digest_alg alg;
	uint8_t code;
} digests[] = {
	{ OTA_DIGEST_SHA256, 1 },
	{ OTA_DIGEST_SHA384, 2 },
	{ OTA_DIGEST_SHA512, 3 },
};

static const struct {
	const char *name;
	uint8_t code;
} kinds[] = {
	{ "bootloader", 1 },
	{ "application", 2 },
	{ "config", 3 },
	{ "factory-reset", 4 },
};

Test(package_format, signature_codes_both_ways)
{
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		enum ota_sig_alg alg;

		cr_assert_eq(ota_package_sig_code(sigs[i].alg), sigs[i].code);
		cr_assert_eq(ota_package_sig_alg(&alg, sigs[i].code), 0);
		cr_assert_eq(alg, sigs[i].alg);
	}
}

Test(package_format, digest_codes_both_ways)
{
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		enum ota_digest_alg alg;

		cr_assert_eq(ota_package_digest_code(digests[i].alg),
			     digests[i].code);
		cr_assert_eq(ota_package_digest_alg(&alg, digests[i].code), 0);
		cr_assert_eq(alg, digests[i].alg);
	}
}

/* Unknown codes: refused, the output untouched, no message clobbered. */
Test(package_format, unknown_codes_refused_quietly)
{
	enum ota_sig_alg sa = OTA_SIG_ED25519;
	enum ota_digest_alg da = OTA_DIGEST_SHA512;
	static const uint16_t bad_sig[] = { 0, 6, 0x100, 0xffff };
	static const uint8_t bad_digest[] = { 0, 4, 0xff };

	ota_error(OTA_EINPUT, "the message to keep");
	for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
		cr_assert_eq(ota_package_sig_alg(&sa, bad_sig[i]), OTA_EVERIFY);
	for (size_t i = 0; i < sizeof(bad_digest); i++)
		cr_assert_eq(ota_package_digest_alg(&da, bad_digest[i]),
			     OTA_EVERIFY);
	cr_assert_eq(sa, OTA_SIG_ED25519);
	cr_assert_eq(da, OTA_DIGEST_SHA512);
	cr_assert_str_eq(ota_error_message(), "the message to keep");
}

Test(package_format, image_kinds_both_ways)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		cr_assert_eq(ota_package_kind_code(kinds[i].name),
			     kinds[i].code);
		cr_assert_str_eq(ota_package_kind_name(kinds[i].code),
				 kinds[i].name);
	}
	/* Any other name is custom: its text goes into the package. */
	cr_assert_eq(ota_package_kind_code("modem-firmware"),
		     OTAPKG_KIND_CUSTOM);
	cr_assert_eq(ota_package_kind_code("Bootloader"), OTAPKG_KIND_CUSTOM);
	cr_assert_eq(ota_package_kind_code(""), OTAPKG_KIND_CUSTOM);
	cr_assert_null(ota_package_kind_name(OTAPKG_KIND_CUSTOM));
	cr_assert_null(ota_package_kind_name(0));
	cr_assert_null(ota_package_kind_name(5));
}

Test(package_format, magic)
{
	cr_assert(ota_package_is_package((const uint8_t *)"OTAP\1", 5));
	cr_assert(ota_package_is_package((const uint8_t *)"OTAP", 4));
	cr_assert_not(ota_package_is_package((const uint8_t *)"OTA", 3));
	cr_assert_not(ota_package_is_package((const uint8_t *)"OTAQ", 4));
}
