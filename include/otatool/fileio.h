/* Reading small whole files (keys, manifests, signatures) with a size bound. */
#ifndef OTATOOL_FILEIO_H
#define OTATOOL_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads a regular file of at most max bytes into a malloc'ed buffer (with a
 * NUL after the data, not counted in *len). A missing file, a directory or
 * a larger file is OTA_EINPUT naming path. Images never come through here:
 * they are streamed (digest.h).
 */
int ota_file_read_small(char **out, size_t *len, const char *path, size_t max);

/*
 * Opens a regular file for reading and gives its size. A FIFO or device is
 * refused at once (opened non-blocking, so nothing waits for a writer); a
 * directory, a missing file: OTA_EINPUT naming path.
 */
int ota_file_open_regular(int *fd, uint64_t *size, const char *path);

/* Size of a regular file; OTA_EINPUT naming path for anything else. */
int ota_file_size(uint64_t *size, const char *path);

#ifdef __cplusplus
}
#endif
#endif
