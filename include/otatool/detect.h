/* Which of otatool's artifacts a file is, from its first bytes. */
#ifndef OTATOOL_DETECT_H
#define OTATOOL_DETECT_H

#ifdef __cplusplus
extern "C" {
#endif

enum ota_artifact {
	OTA_ARTIFACT_PACKAGE,  /* "OTAP": otatool-package(5) */
	OTA_ARTIFACT_MCUBOOT,  /* MCUboot image magic */
	OTA_ARTIFACT_MANIFEST, /* JSON: a manifest or a signed manifest */
};

/* OTA_EINPUT naming path when it is none of them (or unreadable). */
int ota_detect_artifact(enum ota_artifact *out, const char *path);

#ifdef __cplusplus
}
#endif
#endif
