/* Atomic output files: temporary file beside the target, fsync, rename. */
#define _GNU_SOURCE /* sync_file_range */
#include "otatool/output.h"
#include "otatool/error.h"
#include "otatool/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ota_output {
	int fd;
	int is_stdout;
	int exclusive;
	int update; /* OTA_OUTPUT_UPDATE: may replace an input */
	mode_t mode;
	char *path;
	char *tmp;
	int slot;           /* index in pending[], -1 if none */
	int created;        /* the temporary file exists and must be removed */
	uint64_t writeback; /* bytes handed to writeback so far */
};

/*
 * Temporary paths the signal handler must remove. Fixed-size and written
 * before the file exists, so the handler only reads plain memory; one
 * invocation rarely has more than a couple of outputs open.
 */
#define PENDING_MAX  8
#define PENDING_PATH 4096
static char pending[PENDING_MAX][PENDING_PATH];
static volatile sig_atomic_t pending_used[PENDING_MAX];

void ota_output_unlink_pending(void)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending_used[i])
			unlink(pending[i]);
}

static int pending_add(const char *path)
{
	size_t len = strlen(path);

	if (len >= PENDING_PATH)
		return -1;
	for (int i = 0; i < PENDING_MAX; i++) {
		if (!pending_used[i]) {
			memcpy(pending[i], path, len + 1);
			pending_used[i] = 1;
			return i;
		}
	}
	return -1;
}

static void pending_remove(int slot)
{
	if (slot >= 0)
		pending_used[slot] = 0;
}

static void output_free(struct ota_output *o)
{
	if (!o)
		return;
	pending_remove(o->slot);
	free(o->path);
	free(o->tmp);
	free(o);
}

/*
 * The final file's permissions. A new file gets mode less the umask. A
 * replaced file keeps its own, but never wider than mode: a 0600 manifest
 * stays 0600, and a key written over a 0644 file is still 0600. Its group
 * is kept too where we may set it; else its group bits are dropped, so
 * that they do not pass to the group the new file happens to get.
 */
static int set_mode(struct ota_output *o, mode_t mode, const struct stat *old)
{
	struct stat now;
	mode_t mask;

	if (old) {
		mode &= old->st_mode & 0777;
		if (fstat(o->fd, &now) != 0)
			return ota_error(OTA_EOUTPUT, "%s: %s", o->tmp,
					 strerror(errno));
		if (now.st_gid != old->st_gid &&
		    fchown(o->fd, (uid_t)-1, old->st_gid) != 0)
			mode &= ~(mode_t)070;
	} else {
		mask = umask(0);
		umask(mask);
		mode &= ~mask;
	}
	if (fchmod(o->fd, mode) != 0)
		return ota_error(OTA_EOUTPUT, "%s: chmod: %s", o->tmp,
				 strerror(errno));
	return 0;
}

/*
 * An output must not replace one of the command's own inputs (a key, an
 * image, the release file): checked when the output is opened and again
 * before the rename, for inputs opened in between (images named inside a
 * manifest).
 */
static int refuse_input(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 ||
	    !ota_input_is_noted((uint64_t)st.st_dev, (uint64_t)st.st_ino))
		return 0;
	return ota_error(OTA_EUSAGE,
			 "%s: is also an input of this command (refusing to "
			 "overwrite it)",
			 path);
}

int ota_output_open(struct ota_output **out, const char *path, mode_t mode,
		    int flags)
{
	struct ota_output *o;
	char *dircopy = NULL, *basecopy = NULL;
	struct stat st;
	int have = 0, rc;

	*out = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return ota_error(OTA_EINTERNAL, "out of memory");
	o->fd = -1;
	o->slot = -1;
	o->mode = mode;
	o->exclusive = (flags & OTA_OUTPUT_EXCLUSIVE) != 0;
	o->update = (flags & OTA_OUTPUT_UPDATE) != 0;
	if (!path || strcmp(path, "-") == 0) {
		o->is_stdout = 1;
		o->fd = STDOUT_FILENO;
		*out = o;
		return 0;
	}
	if (!*path) {
		rc = ota_error(OTA_EUSAGE, "empty output path");
		goto fail;
	}
	if (!o->update && (rc = refuse_input(path)))
		goto fail;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = ota_error(OTA_EOUTPUT, "%s: is a directory", path);
			goto fail;
		}
		/* Renaming over a device or FIFO would replace it. */
		if (!S_ISREG(st.st_mode)) {
			rc = ota_error(OTA_EOUTPUT,
				       "%s: not a regular file (refusing to "
				       "replace it; use - for standard output)",
				       path);
			goto fail;
		}
		if (o->exclusive) {
			rc = ota_error(OTA_EOUTPUT,
				       "%s: already exists (refusing to "
				       "overwrite)",
				       path);
			goto fail;
		}
		have = 1;
	}
	o->path = strdup(path);
	dircopy = strdup(path);
	basecopy = strdup(path);
	if (!o->path || !dircopy || !basecopy) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto fail;
	}
	const char *dir = dirname(dircopy);
	const char *base = basename(basecopy);
	size_t need = strlen(dir) + strlen(base) + 10;
	o->tmp = malloc(need);
	if (!o->tmp) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto fail;
	}
	snprintf(o->tmp, need, "%s/.%s.XXXXXX", dir, base);
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0) {
		rc = ota_error(OTA_EOUTPUT, "%s: cannot create file in %s: %s",
			       path, dir, strerror(errno));
		goto fail;
	}
	o->created = 1;
	o->slot = pending_add(o->tmp);
	if (o->slot < 0) {
		rc = ota_error(OTA_EOUTPUT,
			       "%s: more than %d outputs open at once", path,
			       PENDING_MAX);
		goto fail;
	}
	if ((rc = set_mode(o, mode, have ? &st : NULL)))
		goto fail;
	free(dircopy);
	free(basecopy);
	*out = o;
	return 0;
fail:
	free(dircopy);
	free(basecopy);
	ota_output_abort(o);
	return rc;
}

const char *ota_output_name(const struct ota_output *o)
{
	return o->is_stdout ? "<stdout>" : o->path;
}

int ota_output_write(struct ota_output *o, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(o->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ota_error(OTA_EOUTPUT, "%s: write failed: %s",
					 ota_output_name(o), strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Large outputs: start writing back every 8 MiB as it is produced, so that
 * the fsync at commit finds little left to flush instead of the whole file.
 */
#define WRITEBACK_STEP (8u << 20)

static void start_writeback(struct ota_output *o, uint64_t end)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (end >= o->writeback + WRITEBACK_STEP) {
		(void)sync_file_range(o->fd, (off_t)o->writeback,
				      (off_t)(end - o->writeback),
				      SYNC_FILE_RANGE_WRITE);
		o->writeback = end;
	}
#else
	(void)o;
	(void)end;
#endif
}

int ota_output_pwrite(struct ota_output *o, const void *data, size_t len,
		      uint64_t offset)
{
	const unsigned char *p = data;

	if (o->is_stdout)
		return ota_error(OTA_EOUTPUT,
				 "this output cannot go to standard output "
				 "(give a file with -o)");
	while (len > 0) {
		ssize_t n = pwrite(o->fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ota_error(OTA_EOUTPUT,
					 "%s: write at offset %llu failed: %s",
					 o->path, (unsigned long long)offset,
					 strerror(errno));
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	start_writeback(o, offset);
	return 0;
}

int ota_output_truncate(struct ota_output *o, uint64_t size)
{
	if (o->is_stdout)
		return ota_error(OTA_EOUTPUT,
				 "this output cannot go to standard output");
	if (ftruncate(o->fd, (off_t)size) != 0)
		return ota_error(OTA_EOUTPUT, "%s: cannot set size: %s",
				 o->path, strerror(errno));
	return 0;
}

static void fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(copy);
}

int ota_output_commit(struct ota_output *o)
{
	int rc = 0;

	if (o->is_stdout) {
		output_free(o);
		return 0;
	}
	if (fsync(o->fd) != 0) {
		rc = ota_error(OTA_EOUTPUT, "%s: fsync failed: %s", o->path,
			       strerror(errno));
		goto fail;
	}
	if (close(o->fd) != 0) {
		o->fd = -1;
		rc = ota_error(OTA_EOUTPUT, "%s: close failed: %s", o->path,
			       strerror(errno));
		goto fail;
	}
	o->fd = -1;
	if (!o->update && (rc = refuse_input(o->path)))
		goto fail;
	if (o->exclusive) {
		/* link() fails if the target appeared meanwhile: no clobber. */
		if (link(o->tmp, o->path) != 0) {
			rc = ota_error(OTA_EOUTPUT, "%s: %s", o->path,
				       errno == EEXIST
					   ? "already exists (refusing "
					     "to overwrite)"
					   : strerror(errno));
			goto fail;
		}
		unlink(o->tmp);
		o->created = 0;
	} else if (rename(o->tmp, o->path) != 0) {
		rc = ota_error(OTA_EOUTPUT, "%s: rename failed: %s", o->path,
			       strerror(errno));
		goto fail;
	}
	o->created = 0;
	fsync_dir(o->path);
	output_free(o);
	return 0;
fail:
	ota_output_abort(o);
	return rc;
}

void ota_output_abort(struct ota_output *o)
{
	if (!o)
		return;
	if (!o->is_stdout) {
		if (o->fd >= 0)
			close(o->fd);
		if (o->created)
			unlink(o->tmp);
	}
	output_free(o);
}

int ota_output_write_file(const char *path, const void *data, size_t len,
			  mode_t mode, int flags)
{
	struct ota_output *o = NULL;
	int rc;

	if ((rc = ota_output_open(&o, path, mode, flags)) ||
	    (rc = ota_output_write(o, data, len))) {
		ota_output_abort(o);
		return rc;
	}
	return ota_output_commit(o);
}
