/* Bounded reads of small files; large data is always streamed elsewhere. */
#include "otatool/fileio.h"
#include "otatool/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ota_file_open_regular(int *fd, uint64_t *size, const char *path)
{
	struct stat st;
	int flags;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return ota_error(OTA_EINPUT, "%s: cannot open: %s", path,
				 strerror(errno));
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int dir = S_ISDIR(st.st_mode);

		close(*fd);
		*fd = -1;
		return ota_error(OTA_EINPUT, "%s: not a regular file%s", path,
				 dir ? " (it is a directory)" : "");
	}
	flags = fcntl(*fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK);
	*size = (uint64_t)st.st_size;
	return 0;
}

int ota_file_read_small(char **out, size_t *len, const char *path, size_t max)
{
	uint64_t fsize = 0;
	size_t done = 0;
	char *buf = NULL;
	int fd, rc;

	*out = NULL;
	if ((rc = ota_file_open_regular(&fd, &fsize, path)))
		return rc;
	if (fsize > max) {
		rc = ota_error(OTA_EINPUT,
			       "%s: %llu bytes is over the %zu-byte limit",
			       path, (unsigned long long)fsize, max);
		goto out;
	}
	buf = malloc((size_t)fsize + 1);
	if (!buf) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	/* The file may shrink meanwhile; never read past what was allotted. */
	while (done < (size_t)fsize) {
		ssize_t n = read(fd, buf + done, (size_t)fsize - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s", path,
				       strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	buf[done] = '\0';
	*out = buf;
	*len = done;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

int ota_file_size(uint64_t *size, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return ota_error(OTA_EINPUT, "%s: cannot open: %s", path,
				 strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ota_error(OTA_EINPUT, "%s: not a regular file%s", path,
				 S_ISDIR(st.st_mode) ? " (it is a directory)"
						     : "");
	*size = (uint64_t)st.st_size;
	return 0;
}
