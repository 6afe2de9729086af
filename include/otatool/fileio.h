/* Reading small whole files (keys, manifests, signatures) with a size bound. */
#ifndef OTATOOL_FILEIO_H
#define OTATOOL_FILEIO_H

#include <stddef.h>

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

#ifdef __cplusplus
}
#endif
#endif
