/*
 * The device policy, judged on the host: may this device install this
 * release? Three checks, always in this order: the device's hardware
 * variant is listed, the release's anti-rollback counter is not below the
 * device's, the device's bootloader meets the release's minimum. The same
 * rules as the device verifier's own freestanding copy (otaverify.c); the
 * two are pinned to one table of cases in tests/unit/test_policy.c.
 */
#ifndef OTATOOL_POLICY_H
#define OTATOOL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_POLICY_MAX_HARDWARE 64 /* what packages and manifests hold */
#define OTA_POLICY_MAX_CHECKS   3

/* What the device says about itself; each check is made only when given. */
struct ota_device_facts {
	const char *hardware; /* NULL: not checked */
	bool check_counter;
	uint32_t counter; /* the release's counter must not be below it */
	bool check_bootloader;
	uint64_t bootloader[3]; /* major, minor, patch */
};

/* What a release says, from a package, an MCUboot image or a manifest. */
struct ota_release_facts {
	size_t n_hardware;
	const char *hardware[OTA_POLICY_MAX_HARDWARE]; /* borrowed */
	bool has_counter; /* false: none recorded, which counts as 0 */
	uint32_t counter;
	bool has_bootloader_min; /* false: any bootloader will do */
	uint64_t bootloader_min[3];
};

struct ota_package_report;
struct ota_mcuboot_info;
struct ota_manifest;

/* The facts of a package, MCUboot image or manifest (pointers into it). */
void ota_release_facts_of_package(struct ota_release_facts *out,
				  const struct ota_package_report *r);
void ota_release_facts_of_mcuboot(struct ota_release_facts *out,
				  const struct ota_mcuboot_info *info);
void ota_release_facts_of_manifest(struct ota_release_facts *out,
				   const struct ota_manifest *m);

enum ota_check_status { OTA_CHECK_OK, OTA_CHECK_FAIL, OTA_CHECK_SKIPPED };

/* One line of a verification report. */
struct ota_check {
	const char *name; /* "hardware", "security counter", "bootloader" */
	enum ota_check_status status;
	char detail[160];
};

/* The checks the device asked for, in order, and the verdict. */
struct ota_policy_report {
	size_t n_checks;
	struct ota_check checks[OTA_POLICY_MAX_CHECKS];
	/* 0, or the first failure's OTA_EHARDWARE, _EROLLBACK, _EBOOTLOADER */
	int rc;
	char message[256]; /* the first failure as a sentence; "" if none */
};

/*
 * Fills out with one check per fact the device gave. Nothing is judged
 * unless authentic (a signature by a trusted key verified, so that the
 * facts are the signer's and an untrusted release learns nothing about the
 * device): every check is then skipped and the result is 0. Otherwise
 * returns out->rc. Records no error message: the caller does, with
 * out->message and what it knows (the file, for packages the offset).
 */
int ota_policy_judge(struct ota_policy_report *out,
		     const struct ota_device_facts *device,
		     const struct ota_release_facts *release, bool authentic);

#ifdef __cplusplus
}
#endif
#endif
