/*
 * Base images for delta packages: a directory of NAME.bin files, or an
 * earlier package verified and extracted into a private temporary
 * directory (streamed to disk, never held in memory), removed again when
 * the bases are freed.
 */
#include "otatool/error.h"
#include "otatool/package.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ota_package_bases {
	char *origin;
	char *dir;
	bool temporary; /* dir is ours: remove its files and itself */
	size_t n_files;
	char names[OTA_PACKAGE_MAX_IMAGES][65];
};

/* What otatool writes as an image name, so that it is a file name. */
static bool file_name_ok(const char *name)
{
	return name[0] && name[0] != '.' && strlen(name) <= 64 &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
		      "Z0123456789._-") == strlen(name);
}

static void remove_temporary(struct ota_package_bases *b)
{
	char path[4096];

	for (size_t i = 0; i < b->n_files; i++) {
		snprintf(path, sizeof(path), "%s/%s.bin", b->dir, b->names[i]);
		unlink(path);
	}
	rmdir(b->dir);
}

static int open_package(struct ota_package_bases *b, const char *path,
			const struct ota_trust *trust)
{
	struct ota_package_check_opts o = { 0 };
	struct ota_package_report r;
	const char *tmp = getenv("TMPDIR");
	char dir[4096];
	int rc;

	snprintf(dir, sizeof(dir), "%s/otatool-base-XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return ota_error(OTA_EOUTPUT,
				 "%s: cannot create a temporary directory for "
				 "its images: %s",
				 dir, strerror(errno));
	if (!(b->dir = strdup(dir))) {
		rmdir(dir);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	b->temporary = true;
	o.trust = trust;
	o.extract_dir = dir;
	rc = ota_package_check(&r, path, &o);
	for (size_t i = 0; rc == 0 && i < r.n_images; i++)
		snprintf(b->names[b->n_files++], 65, "%s", r.images[i].name);
	ota_package_report_clear(&r);
	if (rc)
		return ota_error_wrap(rc, "%s, as the base release", path);
	return 0;
}

int ota_package_bases_open(struct ota_package_bases **out, const char *path,
			   const struct ota_trust *trust)
{
	struct ota_package_bases *b;
	struct stat st;
	int rc = 0;

	*out = NULL;
	if (stat(path, &st) != 0)
		return ota_error(OTA_EINPUT, "%s: %s", path, strerror(errno));
	if (!(b = calloc(1, sizeof(*b))) || !(b->origin = strdup(path))) {
		free(b);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	if (S_ISDIR(st.st_mode)) {
		if (!(b->dir = strdup(path)))
			rc = ota_error(OTA_EINTERNAL, "out of memory");
	} else if (S_ISREG(st.st_mode)) {
		rc = open_package(b, path, trust);
	} else {
		rc = ota_error(OTA_EINPUT,
			       "%s: neither a package nor a directory of "
			       "images",
			       path);
	}
	if (rc) {
		ota_package_bases_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int ota_package_bases_find(const struct ota_package_bases *b, const char *name,
			   char *out, size_t cap)
{
	struct stat st;
	int n;

	if (!file_name_ok(name))
		return 1;
	n = snprintf(out, cap, "%s/%s.bin", b->dir, name);
	if (n < 0 || (size_t)n >= cap)
		return 1;
	return stat(out, &st) == 0 && S_ISREG(st.st_mode) ? 0 : 1;
}

const char *ota_package_bases_origin(const struct ota_package_bases *b)
{
	return b->origin;
}

void ota_package_bases_free(struct ota_package_bases *b)
{
	if (!b)
		return;
	if (b->temporary && b->dir)
		remove_temporary(b);
	free(b->dir);
	free(b->origin);
	free(b);
}
