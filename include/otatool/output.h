/* Atomic output files: written to a temporary file, renamed into place. */
#ifndef OTATOOL_OUTPUT_H
#define OTATOOL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ota_output;

/* Flags of ota_output_open(). */
enum {
	/* An existing path is refused instead of replaced. */
	OTA_OUTPUT_EXCLUSIVE = 1,
	/*
	 * The output is an update of one of the inputs (a signature added to
	 * a signed manifest in place): it may replace it.
	 */
	OTA_OUTPUT_UPDATE = 2,
};

/*
 * Opens an output. path NULL or "-" means standard output (written through,
 * nothing to rename). Otherwise a temporary file ".NAME.XXXXXX" is created
 * next to path, so that the final rename stays on one file system; mode is
 * the final file's permission bits before the umask (0644 or 0600 for keys).
 * A file replaced keeps its permission bits, but never wider than mode,
 * and its group where the caller may set it (else without group bits).
 * With exclusive set, an existing path is refused instead of replaced.
 * flags: OTA_OUTPUT_* above (0 or 1 for "exclusive" as before). An empty
 * path, or a path that is one of this process's inputs (fileio.h:
 * ota_input_note) without OTA_OUTPUT_UPDATE, is OTA_EUSAGE and nothing is
 * created.
 */
int ota_output_open(struct ota_output **out, const char *path, mode_t mode,
		    int flags);

/*
 * A whole output at once: ota_output_open(), one write, commit; nothing
 * is left behind on failure.
 */
int ota_output_write_file(const char *path, const void *data, size_t len,
			  mode_t mode, int flags);

/* Appends bytes; OTA_EOUTPUT naming the path on failure. */
int ota_output_write(struct ota_output *o, const void *data, size_t len);

/*
 * Writes at an absolute offset (the package writer fills its header after
 * the payloads). Standard output cannot seek: OTA_EOUTPUT.
 */
int ota_output_pwrite(struct ota_output *o, const void *data, size_t len,
		      uint64_t offset);

/* Sets the file's length (zero-filled when it grows). */
int ota_output_truncate(struct ota_output *o, uint64_t size);

/* The displayed name: the final path, or "<stdout>". */
const char *ota_output_name(const struct ota_output *o);

/*
 * fsyncs the temporary file, renames it onto the final path, fsyncs the
 * directory, and frees o. A path that became one of this process's inputs
 * since ota_output_open() is refused (OTA_EUSAGE), the file left as it is. On
 * failure the temporary file is removed and nothing is left at path.
 */
int ota_output_commit(struct ota_output *o);

/* Removes the temporary file and frees o. Accepts NULL. */
void ota_output_abort(struct ota_output *o);

/*
 * Async-signal-safe: unlinks every temporary file still open. The CLI calls
 * it from its SIGINT/SIGTERM handler so an interrupted run leaves nothing.
 */
void ota_output_unlink_pending(void);

#ifdef __cplusplus
}
#endif
#endif
