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

/*
 * How long ota_file_read_stream() waits on a pipe or FIFO: for a process
 * to open it for writing when none has, and for the end of the data once
 * one has (otatool-sign(1), Secret files).
 */
#define OTA_FILE_WRITER_WAIT_MS 5000
#define OTA_FILE_PIPE_WAIT_MS   30000

/*
 * Reads up to cap bytes of a small input that may also be a pipe or FIFO
 * (a secret given as <(...) or /dev/stdin) into buf, adding no NUL; *n is
 * how many. A regular file is read from its start; a pipe or FIFO to its
 * end, opened without waiting: if no process has it open for writing,
 * OTA_FILE_WRITER_WAIT_MS are allowed for one to come, and the end of
 * the data must come within OTA_FILE_PIPE_WAIT_MS of the open; past either,
 * OTA_EINPUT. Directories, devices and sockets are refused at once
 * (OTA_EINPUT naming path). *n == cap means there may be more: the caller
 * reads one byte past its own limit to tell. Nothing is copied anywhere
 * but buf, so a caller can wipe a secret completely.
 */
int ota_file_read_stream(void *buf, size_t cap, size_t *n, const char *path);

/* Size of a regular file; OTA_EINPUT naming path for anything else. */
int ota_file_size(uint64_t *size, const char *path);

/*
 * The inputs of this process. Every file the functions above open is noted
 * (device and inode), and so is every path given to ota_input_note() by
 * readers that open files themselves (key files, secrets). ota_output_open()
 * and ota_output_commit() refuse to replace a noted file, so that no command
 * can overwrite one of its own inputs. One process-wide list: the CLI is
 * single-threaded.
 */

/* Notes path as an input; a path that cannot be stat()ed is skipped. */
int ota_input_note(const char *path);

/* Notes the open file fd as an input (path names it in errors). */
int ota_input_note_fd(int fd, const char *path);

/* Whether the file on device dev with inode ino was noted as an input. */
int ota_input_is_noted(uint64_t dev, uint64_t ino);

/* Forgets every noted input (tests; a long-lived caller between jobs). */
void ota_input_forget_all(void);

#ifdef __cplusplus
}
#endif
#endif
