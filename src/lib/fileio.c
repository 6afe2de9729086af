/* Bounded reads of small files; large data is always streamed elsewhere. */
#include "otatool/fileio.h"
#include "otatool/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ota_file_read_small(char **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	size_t done = 0;
	char *buf = NULL;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ota_error(OTA_EINPUT, "%s: cannot open: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = ota_error(OTA_EINPUT, "%s: not a regular file%s", path,
			       S_ISDIR(st.st_mode) ? " (it is a directory)"
						   : "");
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = ota_error(OTA_EINPUT,
			       "%s: %lld bytes is over the %zu-byte limit",
			       path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	/* The file may shrink meanwhile; never read past what was allotted. */
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

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
