/*
 * For fuzz targets whose library entry point wants a path: the input goes
 * to one anonymous memory file (memfd_create), rewritten for every input,
 * so the library reads it through its real file path without touching the
 * disk. Included by one target each, hence static.
 */
#ifndef OTATOOL_FUZZ_MEMFILE_H
#define OTATOOL_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Writes data to the memory file and returns its /proc/self/fd path. */
static const char *memfile_path(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	size_t done = 0;

	if (fd < 0) {
		fd = memfd_create("otatool-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0)
		abort();
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	return path;
}

#endif
