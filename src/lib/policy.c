/*
 * The device policy on the host: one judgement for packages, MCUboot
 * images and signed manifests, returned as report lines and an error code.
 */
#include "otatool/policy.h"
#include "otatool/error.h"
#include "otatool/manifest.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ota_release_facts_of_package(struct ota_release_facts *out,
				  const struct ota_package_report *r)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->n_hardware && i < OTA_POLICY_MAX_HARDWARE;
	     i++)
		out->hardware[out->n_hardware++] = r->hardware[i];
	out->has_counter = true;
	out->counter = r->security_counter;
	out->has_bootloader_min = r->has_bootloader_min;
	for (int i = 0; i < 3; i++)
		out->bootloader_min[i] = r->bootloader_min[i];
}

void ota_release_facts_of_mcuboot(struct ota_release_facts *out,
				  const struct ota_mcuboot_info *info)
{
	memset(out, 0, sizeof(*out));
	out->has_counter = info->has_security_counter;
	out->counter = info->has_security_counter ? info->security_counter : 0;
}

void ota_release_facts_of_manifest(struct ota_release_facts *out,
				   const struct ota_manifest *m)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < m->n_hardware && i < OTA_POLICY_MAX_HARDWARE;
	     i++)
		out->hardware[out->n_hardware++] = m->hardware[i];
	out->has_counter = true;
	out->counter = m->security_counter;
	/*
	 * Bootloaders report three numbers, and packages carry three: a
	 * pre-release or build tag does not take part, here as on devices.
	 */
	out->has_bootloader_min = m->has_bootloader_min;
	out->bootloader_min[0] = m->bootloader_min.major;
	out->bootloader_min[1] = m->bootloader_min.minor;
	out->bootloader_min[2] = m->bootloader_min.patch;
}

/* Major, then minor, then patch: the first that differs decides. */
static int version_cmp(const uint64_t a[3], const uint64_t b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static void add(struct ota_policy_report *out, const char *name, bool authentic,
		bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(struct ota_policy_report *out, const char *name, bool authentic,
		bool ok, const char *fmt, ...)
{
	struct ota_check *c = &out->checks[out->n_checks++];
	va_list ap;

	c->name = name;
	if (!authentic) {
		c->status = OTA_CHECK_SKIPPED;
		snprintf(c->detail, sizeof(c->detail), "%s",
			 "not checked (no trusted signature)");
		return;
	}
	c->status = ok ? OTA_CHECK_OK : OTA_CHECK_FAIL;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* The first failure is the verdict; later ones only get their line. */
static void refuse(struct ota_policy_report *out, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void refuse(struct ota_policy_report *out, int rc, const char *fmt, ...)
{
	va_list ap;

	if (out->rc)
		return;
	out->rc = rc;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

int ota_policy_judge(struct ota_policy_report *out,
		     const struct ota_device_facts *d,
		     const struct ota_release_facts *r, bool authentic)
{
	bool ok;

	memset(out, 0, sizeof(*out));
	if (d->hardware) {
		ok = false;
		for (size_t i = 0; i < r->n_hardware; i++)
			ok |= strcmp(r->hardware[i], d->hardware) == 0;
		add(out, "hardware", authentic, ok, "device hardware %s %s",
		    d->hardware, ok ? "is listed" : "is not listed");
		if (authentic && !ok)
			refuse(out, OTA_EHARDWARE,
			       "hardware \"%s\" is not among the release's %zu "
			       "compatible variants",
			       d->hardware, r->n_hardware);
	}
	if (d->check_counter) {
		ok = r->counter >= d->counter;
		add(out, "security counter", authentic, ok,
		    "release counter %u %s device counter %u", r->counter,
		    ok ? ">=" : "<", d->counter);
		if (authentic && !ok && r->has_counter)
			refuse(out, OTA_EROLLBACK,
			       "security counter %u is below the device's %u",
			       r->counter, d->counter);
		else if (authentic && !ok)
			refuse(out, OTA_EROLLBACK,
			       "no security counter, which counts as 0, but "
			       "the device's is %u",
			       d->counter);
	}
	if (d->check_bootloader) {
		const uint64_t *b = d->bootloader, *min = r->bootloader_min;

		ok = !r->has_bootloader_min || version_cmp(b, min) >= 0;
		add(out, "bootloader", authentic, ok,
		    "device bootloader %llu.%llu.%llu %s",
		    (unsigned long long)b[0], (unsigned long long)b[1],
		    (unsigned long long)b[2],
		    !r->has_bootloader_min ? "(no minimum required)"
		    : ok                   ? "meets the minimum"
					   : "is older than the minimum");
		if (authentic && !ok)
			refuse(out, OTA_EBOOTLOADER,
			       "bootloader %llu.%llu.%llu is older than the "
			       "required %llu.%llu.%llu",
			       (unsigned long long)b[0],
			       (unsigned long long)b[1],
			       (unsigned long long)b[2],
			       (unsigned long long)min[0],
			       (unsigned long long)min[1],
			       (unsigned long long)min[2]);
	}
	return out->rc;
}
