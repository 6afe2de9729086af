/* Telling packages, MCUboot images and manifests apart by their magic. */
#include "otatool/detect.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/ihex.h"
#include "otatool/mcuboot.h"
#include "otatool/package.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

int ota_detect_artifact(enum ota_artifact *out, const char *path)
{
	uint8_t head[OTA_IHEX_LINE_MAX + 2]; /* a whole first HEX record */
	uint64_t size = 0;
	ssize_t n;
	size_t i = 0;
	int fd, rc;

	if ((rc = ota_file_open_regular(&fd, &size, path)))
		return rc;
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return ota_error(OTA_EINPUT, "%s: read error: %s", path,
				 strerror(errno));
	if (ota_package_is_package(head, (size_t)n)) {
		*out = OTA_ARTIFACT_PACKAGE;
		return 0;
	}
	if (ota_mcuboot_is_image(head, (size_t)n)) {
		*out = OTA_ARTIFACT_MCUBOOT;
		return 0;
	}
	while (i < (size_t)n && isspace(head[i]))
		i++;
	if (i < (size_t)n && head[i] == '{') {
		*out = OTA_ARTIFACT_MANIFEST;
		return 0;
	}
	if (ota_ihex_detect(head, (size_t)n))
		return ota_error(OTA_EINPUT,
				 "%s: Intel HEX text: verify, inspect and "
				 "extract read binary images; convert it "
				 "(objcopy -I ihex -O binary --gap-fill 0xff)",
				 path);
	return ota_error(OTA_EINPUT,
			 "%s: neither an otatool package, an MCUboot image nor "
			 "a manifest (%s)",
			 path, n < 4 ? "too short" : "unknown magic");
}
