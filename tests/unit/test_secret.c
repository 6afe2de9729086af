/*
 * Unit tests for src/lib/secret.c: environment, file and file: URI sources,
 * bounds, wiping, and the no-echo prompt driven through a pseudo-terminal.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>

#include "otatool/error.h"
#include "otatool/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ENV "OTATOOL_TEST_SECRET"

static char dir[256];

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/otatool-secret-XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	unsetenv(ENV);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(secret, .init = setup, .fini = teardown, .timeout = 30);

/* Writes len bytes of data to dir/name and returns the path (static). */
static const char *write_file(const char *name, const char *data, size_t len)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void assert_wiped(const struct ota_secret *s)
{
	size_t i;

	cr_assert_eq(s->len, 0);
	for (i = 0; i < sizeof(s->value); i++)
		cr_assert_eq(s->value[i], 0, "byte %zu not wiped", i);
}

static void assert_secret(const struct ota_secret *s, const char *want)
{
	cr_assert_str_eq(s->value, want);
	cr_assert_eq(s->len, strlen(want));
}

Test(secret, from_env)
{
	struct ota_secret s;

	setenv(ENV, "hunter2", 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", NULL, ENV, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "hunter2");
	ota_secret_wipe(&s);
}

Test(secret, empty_env_is_no_source)
{
	struct ota_secret s;

	setenv(ENV, "", 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", NULL, ENV, NULL), OTA_EKEY);
	assert_wiped(&s);
}

Test(secret, from_file_strips_one_newline)
{
	static const struct {
		const char *data, *want;
	} cases[] = {
		{ "s3cret\n", "s3cret" },     { "s3cret\r\n", "s3cret" },
		{ "s3cret", "s3cret" },       { "first\nsecond\n", "first" },
		{ " spaced \n", " spaced " },
	};
	struct ota_secret s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path =
		    write_file("pin", cases[i].data, strlen(cases[i].data));

		cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL), 0,
			     "%s", ota_error_message());
		assert_secret(&s, cases[i].want);
	}
	ota_secret_wipe(&s);
}

Test(secret, file_wins_over_env)
{
	struct ota_secret s;
	const char *path = write_file("pin", "fromfile\n", 9);

	setenv(ENV, "fromenv", 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL), 0);
	assert_secret(&s, "fromfile");
	ota_secret_wipe(&s);
}

Test(secret, file_uri_forms)
{
	char uri[PATH_MAX + 32], spaced[PATH_MAX + 32];
	struct ota_secret s;
	const char *path = write_file("pin", "uri-pin\n", 8);

	snprintf(uri, sizeof(uri), "file://%s", path);
	cr_assert_eq(ota_secret_get(&s, "test PIN", uri, NULL, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "uri-pin");

	snprintf(uri, sizeof(uri), "file:%s", path);
	cr_assert_eq(ota_secret_get(&s, "test PIN", uri, NULL, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "uri-pin");

	snprintf(uri, sizeof(uri), "FILE://localhost%s", path);
	cr_assert_eq(ota_secret_get(&s, "test PIN", uri, NULL, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "uri-pin");

	/* Percent-encoding is decoded: "a b" is written a%20b. */
	write_file("a b", "spaced-pin\n", 11);
	snprintf(spaced, sizeof(spaced), "file://%s/a%%20b", dir);
	cr_assert_eq(ota_secret_get(&s, "test PIN", spaced, NULL, NULL), 0,
		     "%s", ota_error_message());
	assert_secret(&s, "spaced-pin");

	cr_assert_eq(ota_secret_get(&s, "test PIN", "file://example.com/pin",
				    NULL, NULL),
		     OTA_EINPUT);
	assert_wiped(&s);
}

Test(secret, largest_file_accepted)
{
	char data[OTA_SECRET_MAX + 2];
	struct ota_secret s;
	const char *path;

	memset(data, 'x', OTA_SECRET_MAX);
	data[OTA_SECRET_MAX] = '\r';
	data[OTA_SECRET_MAX + 1] = '\n';
	path = write_file("pin", data, sizeof(data));
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, NULL, NULL), 0, "%s",
		     ota_error_message());
	cr_assert_eq(s.len, OTA_SECRET_MAX);
	cr_assert_eq(s.value[OTA_SECRET_MAX], '\0');
	ota_secret_wipe(&s);
}

Test(secret, oversized_file_refused)
{
	char data[OTA_SECRET_MAX + 40];
	struct ota_secret s;
	const char *path;

	memset(data, 'x', sizeof(data));
	path = write_file("big", data, sizeof(data));
	memset(&s, 'A', sizeof(s));
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL),
		     OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), path) != NULL, "%s",
		  ota_error_message());
	/* The documented limit: the secret's bytes, not the file's. */
	cr_assert(strstr(ota_error_message(), "256 bytes") != NULL, "%s",
		  ota_error_message());
	cr_assert(strstr(ota_error_message(), "258") == NULL, "%s",
		  ota_error_message());
	assert_wiped(&s);

	/* A line too long is refused even when the file is small enough. */
	memset(data, 'x', OTA_SECRET_MAX + 1);
	path = write_file("long", data, OTA_SECRET_MAX + 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL),
		     OTA_EINPUT);
	assert_wiped(&s);
}

Test(secret, oversized_env_refused)
{
	char data[OTA_SECRET_MAX + 2];
	struct ota_secret s;

	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	setenv(ENV, data, 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", NULL, ENV, NULL),
		     OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), ENV) != NULL);
	assert_wiped(&s);
}

Test(secret, missing_file)
{
	char path[PATH_MAX + 16];
	struct ota_secret s;

	snprintf(path, sizeof(path), "%s/nope", dir);
	setenv(ENV, "would-be-used", 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL),
		     OTA_EINPUT);
	cr_assert(strstr(ota_error_message(), path) != NULL, "%s",
		  ota_error_message());
	assert_wiped(&s);
}

Test(secret, empty_file_and_directory_refused)
{
	struct ota_secret s;
	const char *path = write_file("empty", "", 0);

	cr_assert_eq(ota_secret_get(&s, "test PIN", path, NULL, NULL),
		     OTA_EINPUT);
	path = write_file("newline", "\n", 1);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, NULL, NULL),
		     OTA_EINPUT);
	cr_assert_eq(ota_secret_get(&s, "test PIN", dir, NULL, NULL),
		     OTA_EINPUT);
	assert_wiped(&s);
}

Test(secret, no_source)
{
	struct ota_secret s;

	memset(&s, 'A', sizeof(s));
	cr_assert_eq(ota_secret_get(&s, "PIN for token 'x'", NULL, ENV, NULL),
		     OTA_EKEY);
	cr_assert(strstr(ota_error_message(), "PIN for token 'x'") != NULL,
		  "%s", ota_error_message());
	cr_assert(strstr(ota_error_message(), ENV) != NULL, "%s",
		  ota_error_message());
	assert_wiped(&s);

	cr_assert_eq(ota_secret_get(&s, "PIN", NULL, NULL, NULL), OTA_EKEY);
	assert_wiped(&s);
}

Test(secret, wipe_zeroes_everything)
{
	struct ota_secret s;

	memset(&s, 'A', sizeof(s));
	ota_secret_wipe(&s);
	assert_wiped(&s);
	ota_secret_wipe(NULL);
}

/* ---- Pipes and FIFOs ------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A child that waits delay_ms, then writes data to path and exits. */
static pid_t late_writer(const char *path, const char *data, int delay_ms)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int fd;

		usleep((useconds_t)delay_ms * 1000);
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, data, strlen(data)) < 0)
			_exit(1);
		_exit(0);
	}
	return pid;
}

/*
 * A FIFO that no process writes to: refused (an input error naming it)
 * after the documented wait for a writer, never waited on for ever.
 */
Test(secret, fifo_without_writer_refused)
{
	char path[PATH_MAX];
	struct ota_secret s;
	double t0, waited;

	snprintf(path, sizeof(path), "%s/pin.fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	t0 = now_seconds();
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL),
		     OTA_EINPUT);
	waited = now_seconds() - t0;
	cr_assert(strstr(ota_error_message(), path) != NULL, "%s",
		  ota_error_message());
	cr_assert(strstr(ota_error_message(), "no process writes") != NULL,
		  "%s", ota_error_message());
	cr_assert(waited > 4.5 && waited < 10, "waited %.1f s", waited);
	assert_wiped(&s);
}

/* A writer that comes a little after the open is waited for. */
Test(secret, fifo_with_late_writer)
{
	char path[PATH_MAX];
	struct ota_secret s;
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/pin.fifo", dir);
	cr_assert_eq(mkfifo(path, 0600), 0);
	pid = late_writer(path, "late-pin\n", 1000);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "late-pin");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	ota_secret_wipe(&s);
}

/*
 * A pipe as a shell's process substitution gives it (/dev/fd/N): read
 * whether its writer is still busy or already gone.
 */
Test(secret, pipe_as_process_substitution)
{
	char path[64];
	struct ota_secret s;
	int fds[2], status;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		usleep(300 * 1000);
		_exit(write(fds[1], "busy-pin\n", 9) == 9 ? 0 : 1);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "busy-pin");
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(fds[0]);

	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(write(fds[1], "done-pin\n", 9), 9);
	close(fds[1]);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	cr_assert_eq(ota_secret_get(&s, "test PIN", path, ENV, NULL), 0, "%s",
		     ota_error_message());
	assert_secret(&s, "done-pin");
	close(fds[0]);
	ota_secret_wipe(&s);
}

/* Devices are neither files nor pipes: refused at once, not read. */
Test(secret, devices_refused)
{
	static const char *const devices[] = { "/dev/null", "/dev/zero" };
	struct ota_secret s;

	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(
		    ota_secret_get(&s, "test PIN", devices[i], ENV, NULL),
		    OTA_EINPUT);
		cr_assert(strstr(ota_error_message(), "not a regular file") !=
			      NULL,
			  "%s", ota_error_message());
		assert_wiped(&s);
	}
}

/* A prompt without a controlling terminal is "no source", not a hang. */
Test(secret, prompt_without_terminal)
{
	int status;
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ota_secret s;

		if (setsid() < 0)
			_exit(2);
		_exit(ota_secret_get(&s, "test PIN", NULL, NULL, "PIN: ") ==
			      OTA_EKEY
			  ? 0
			  : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * Runs the prompt in a child whose controlling terminal is a fresh pty.
 * The child exits 0 when it read "1234" and the terminal echoes again.
 */
static pid_t spawn_prompt(int *master, int *slave_keep)
{
	char *slave_name;
	pid_t pid;

	*master = posix_openpt(O_RDWR | O_NOCTTY);
	cr_assert_geq(*master, 0, "posix_openpt: %s", strerror(errno));
	cr_assert_eq(grantpt(*master), 0);
	cr_assert_eq(unlockpt(*master), 0);
	slave_name = ptsname(*master);
	cr_assert_not_null(slave_name);
	*slave_keep = open(slave_name, O_RDWR | O_NOCTTY);
	cr_assert_geq(*slave_keep, 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ota_secret s;
		struct termios t;
		int fd, rc;

		close(*master);
		if (setsid() < 0)
			_exit(10);
		/* A session leader opening a tty makes it its terminal. */
		fd = open(slave_name, O_RDWR);
		if (fd < 0)
			_exit(11);
		rc = ota_secret_get(&s, "test PIN", NULL, NULL, "PIN: ");
		if (rc != 0)
			_exit(12);
		if (tcgetattr(fd, &t) < 0 || !(t.c_lflag & ECHO))
			_exit(13);
		_exit(strcmp(s.value, "1234") == 0 && s.len == 4 ? 0 : 14);
	}
	return pid;
}

/* Reads from the pty master until want shows up; returns what was read. */
static void read_until(int master, const char *want, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	while (strstr(buf, want) == NULL && n + 1 < size) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t r;

		cr_assert_gt(poll(&pfd, 1, 10000), 0, "no \"%s\" from prompt",
			     want);
		r = read(master, buf + n, size - 1 - n);
		cr_assert_gt(r, 0);
		n += (size_t)r;
		buf[n] = '\0';
	}
}

Test(secret, prompt_reads_without_echo)
{
	char out[512];
	int master, slave, status;
	pid_t pid = spawn_prompt(&master, &slave);

	read_until(master, "PIN: ", out, sizeof(out));
	/* Only write once echo is off, or the line would echo. */
	for (int i = 0; i < 100; i++) {
		struct termios t;

		cr_assert_eq(tcgetattr(slave, &t), 0);
		if (!(t.c_lflag & ECHO))
			break;
		usleep(10000);
	}
	cr_assert_eq(write(master, "1234\n", 5), 5);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child killed by signal %d",
		  WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
	/* Drain what the child wrote after the prompt: no PIN in it. */
	{
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t r;

		out[0] = '\0';
		if (poll(&pfd, 1, 200) > 0 &&
		    (r = read(master, out, sizeof(out) - 1)) > 0)
			out[r] = '\0';
		cr_assert(strstr(out, "1234") == NULL, "PIN echoed: %s", out);
	}
	close(slave);
	close(master);
}

Test(secret, prompt_interrupted_restores_echo)
{
	struct termios t;
	char out[512];
	int master, slave, status, i;
	pid_t pid = spawn_prompt(&master, &slave);

	read_until(master, "PIN: ", out, sizeof(out));
	for (i = 0; i < 100; i++) {
		cr_assert_eq(tcgetattr(slave, &t), 0);
		if (!(t.c_lflag & ECHO))
			break;
		usleep(10000);
	}
	cr_assert(!(t.c_lflag & ECHO), "echo never turned off");
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	/* The signal is delivered again once the terminal is restored. */
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
		  "status 0x%x", status);
	cr_assert_eq(tcgetattr(slave, &t), 0);
	cr_assert(t.c_lflag & ECHO, "echo left off after SIGTERM");
	close(slave);
	close(master);
}

/* Ctrl-Z at the prompt: once continued, the prompt simply starts over. */
Test(secret, prompt_repeats_after_stop_signal)
{
	char out[512];
	int master, slave, status, i;
	struct termios t;
	pid_t pid = spawn_prompt(&master, &slave);

	read_until(master, "PIN: ", out, sizeof(out));
	for (i = 0; i < 100; i++) {
		cr_assert_eq(tcgetattr(slave, &t), 0);
		if (!(t.c_lflag & ECHO))
			break;
		usleep(10000);
	}
	/*
	 * The child leads its own session, an orphaned process group, so
	 * the kernel discards the re-raised SIGTSTP instead of stopping it.
	 */
	cr_assert_eq(kill(pid, SIGTSTP), 0);
	read_until(master, "PIN: ", out, sizeof(out));
	for (i = 0; i < 100; i++) {
		cr_assert_eq(tcgetattr(slave, &t), 0);
		if (!(t.c_lflag & ECHO))
			break;
		usleep(10000);
	}
	cr_assert_eq(write(master, "1234\n", 5), 5);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x",
		  status);
	close(slave);
	close(master);
}
