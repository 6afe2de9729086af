/* Bounded reads of small files; large data is always streamed elsewhere. */
#include "otatool/fileio.h"
#include "otatool/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ota_file_open_regular(int *fd, uint64_t *size, const char *path)
{
	struct stat st;
	int flags, rc;

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
	if ((rc = ota_input_note_fd(*fd, path))) {
		close(*fd);
		*fd = -1;
		return rc;
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

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * A pipe opened non-blocking tells its state on every read(): data, 0 when
 * no process has it open for writing (the end, once a writer was there or
 * data was read), EAGAIN while a writer is there with nothing to say yet.
 * poll() waits for a change in between, never past the deadline that state
 * allows.
 */
static int read_pipe(unsigned char *buf, size_t cap, size_t *n, int fd,
		     const char *path)
{
	int64_t start = now_ms(), left;
	bool hangup = false;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	*n = 0;
	while (*n < cap) {
		ssize_t r = read(fd, buf + *n, cap - *n);

		if (r > 0) {
			*n += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return ota_error(OTA_EINPUT, "%s: read error: %s", path,
					 strerror(errno));
		if (r == 0 && (*n > 0 || hangup))
			break;
		if (r == 0) {
			left = start + OTA_FILE_WRITER_WAIT_MS - now_ms();
			if (left <= 0)
				return ota_error(
				    OTA_EINPUT,
				    "%s: no process writes to this FIFO or "
				    "pipe (waited %d seconds for one)",
				    path, OTA_FILE_WRITER_WAIT_MS / 1000);
		} else {
			left = start + OTA_FILE_PIPE_WAIT_MS - now_ms();
			if (left <= 0)
				return ota_error(
				    OTA_EINPUT,
				    "%s: the process writing to it did not "
				    "finish within %d seconds",
				    path, OTA_FILE_PIPE_WAIT_MS / 1000);
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return ota_error(OTA_EINPUT, "%s: %s", path,
					 strerror(errno));
		/* A writer came and went: what is left is all there is. */
		if (p.revents & POLLHUP)
			hangup = true;
	}
	return 0;
}

int ota_file_read_stream(void *buf, size_t cap, size_t *n, const char *path)
{
	struct stat st;
	int fd, rc = 0;

	*n = 0;
	/* Non-blocking: opening a FIFO must not wait for its writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ota_error(OTA_EINPUT, "%s: cannot open: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = ota_error(OTA_EINPUT, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((rc = ota_input_note_fd(fd, path)))
		goto out;
	if (S_ISFIFO(st.st_mode)) {
		rc = read_pipe(buf, cap, n, fd, path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ota_error(
		    OTA_EINPUT, "%s: not a regular file or a pipe%s", path,
		    S_ISDIR(st.st_mode) ? " (it is a directory)" : "");
		goto out;
	}
	while (*n < cap) {
		ssize_t r = read(fd, (unsigned char *)buf + *n, cap - *n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ota_error(OTA_EINPUT, "%s: read error: %s", path,
				       strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		*n += (size_t)r;
	}
out:
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
	return ota_input_note(path);
}

/* Files opened for reading, so that no output replaces one of them. */
struct input_id {
	uint64_t dev, ino;
};
static struct input_id *inputs;
static size_t n_inputs, cap_inputs;

static int note(uint64_t dev, uint64_t ino)
{
	struct input_id *grown;

	if (ota_input_is_noted(dev, ino))
		return 0;
	if (n_inputs == cap_inputs) {
		size_t cap = cap_inputs ? 2 * cap_inputs : 32;

		grown = realloc(inputs, cap * sizeof(*inputs));
		if (!grown)
			return ota_error(OTA_EINTERNAL, "out of memory");
		inputs = grown;
		cap_inputs = cap;
	}
	inputs[n_inputs].dev = dev;
	inputs[n_inputs].ino = ino;
	n_inputs++;
	return 0;
}

int ota_input_note(const char *path)
{
	struct stat st;

	if (!path || stat(path, &st) != 0)
		return 0; /* the reader reports a missing file itself */
	return note((uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

int ota_input_note_fd(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ota_error(OTA_EINPUT, "%s: cannot stat: %s", path,
				 strerror(errno));
	return note((uint64_t)st.st_dev, (uint64_t)st.st_ino);
}

int ota_input_is_noted(uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < n_inputs; i++)
		if (inputs[i].dev == dev && inputs[i].ino == ino)
			return 1;
	return 0;
}

void ota_input_forget_all(void)
{
	free(inputs);
	inputs = NULL;
	n_inputs = cap_inputs = 0;
}
