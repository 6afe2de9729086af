/*
 * PINs and passphrases: read from a file, the environment or a no-echo
 * prompt on the controlling terminal, bounded, and wiped on every path.
 */
#include "otatool/secret.h"

#include "otatool/error.h"
#include "otatool/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

/*
 * A file may hold the secret plus one line ending ("\r\n"); anything longer
 * is refused rather than silently cut.
 */
#define SECRET_FILE_MAX (OTA_SECRET_MAX + 2)

void ota_secret_wipe(struct ota_secret *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, sizeof(*s));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * RFC 7512 pin-source is a file name or a "file:" URI (RFC 8089): file:/p,
 * file:///p or file://localhost/p, percent-encoded. Anything else is taken
 * as a path as it is.
 */
static int file_uri_path(char **out, const char *what, const char *src)
{
	const char *p = src;
	char *path, *w;

	*out = NULL;
	if (strncasecmp(src, "file:", 5) != 0) {
		path = strdup(src);
		if (path == NULL)
			return ota_error(OTA_EINTERNAL, "out of memory");
		*out = path;
		return 0;
	}
	p = src + 5;
	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		if (strncasecmp(p, "localhost/", 10) == 0)
			p += 9;
		else if (*p != '/')
			return ota_error(OTA_EINPUT,
					 "%s: %s: only local file: URIs "
					 "are supported",
					 what, src);
	}
	if (*p == '\0')
		return ota_error(OTA_EINPUT, "%s: %s: no path in file: URI",
				 what, src);
	path = malloc(strlen(p) + 1);
	if (path == NULL)
		return ota_error(OTA_EINTERNAL, "out of memory");
	for (w = path; *p != '\0'; p++) {
		if (*p == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(path);
				return ota_error(OTA_EINPUT,
						 "%s: %s: bad percent-encoding "
						 "in file: URI",
						 what, src);
			}
			*w++ = (char)(hi << 4 | lo);
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	*out = path;
	return 0;
}

/* Copies the first line of buf (without its line ending) into s. */
static int take_line(struct ota_secret *s, const char *what, const char *name,
		     const char *buf, size_t n)
{
	const char *nl = memchr(buf, '\n', n);
	size_t len = nl != NULL ? (size_t)(nl - buf) : n;

	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > OTA_SECRET_MAX)
		return ota_error(OTA_EINPUT, "%s: %s is longer than %d bytes",
				 name, what, OTA_SECRET_MAX);
	if (memchr(buf, '\0', len) != NULL)
		return ota_error(OTA_EINPUT, "%s: %s contains a NUL byte", name,
				 what);
	if (len == 0)
		return ota_error(OTA_EINPUT, "%s: %s is empty", name, what);
	memcpy(s->value, buf, len);
	s->value[len] = '\0';
	s->len = len;
	return 0;
}

static int from_file(struct ota_secret *s, const char *what, const char *file)
{
	char buf[SECRET_FILE_MAX + 1];
	char *path = NULL;
	size_t n = 0;
	struct stat st;
	int fd = -1, rc;

	rc = file_uri_path(&path, what, file);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = ota_error(OTA_EINPUT, "%s: cannot read %s: %s", path, what,
			       strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = ota_error(OTA_EINPUT, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = ota_error(OTA_EINPUT, "%s: is a directory, not a %s file",
			       path, what);
		goto out;
	}
	if ((rc = ota_input_note_fd(fd, path)))
		goto out;
	if (S_ISREG(st.st_mode) && st.st_size > SECRET_FILE_MAX) {
		rc =
		    ota_error(OTA_EINPUT, "%s: %s file is larger than %d bytes",
			      path, what, SECRET_FILE_MAX);
		goto out;
	}
	/* Pipes and devices have no size: read one byte past the bound. */
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ota_error(OTA_EINPUT, "%s: cannot read %s: %s",
				       path, what, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > SECRET_FILE_MAX) {
		rc =
		    ota_error(OTA_EINPUT, "%s: %s file is larger than %d bytes",
			      path, what, SECRET_FILE_MAX);
		goto out;
	}
	rc = take_line(s, what, path, buf, n);
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/*
 * Signals that would leave the terminal without echo if they killed us in
 * the middle of a prompt: caught, the terminal restored, then re-raised.
 */
static const int tty_signals[] = { SIGALRM, SIGHUP,  SIGINT,  SIGPIPE, SIGQUIT,
				   SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU };
#define NSIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	caught_signal = sig;
}

/* Stop signals: after the process is continued, the prompt starts over. */
static bool is_stop_signal(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Reads one line from the terminal with echo off. Returns 1 when there is
 * no terminal (the caller goes on to report that no source gave a secret),
 * 2 when a stop signal interrupted it and the prompt should be repeated.
 *
 * The signals are blocked except inside pselect(), so one arriving between
 * the prompt and the read cannot be lost and leave us blocked in read().
 */
static int from_tty(struct ota_secret *s, const char *what, const char *prompt)
{
	struct sigaction sa, saved[NSIGNALS];
	struct termios old, quiet;
	sigset_t block, orig;
	char buf[OTA_SECRET_MAX + 1];
	size_t n = 0, i;
	bool too_long = false, restore = false, got_eol = false;
	int fd, rc = 0, sig;
	fd_set rfds;
	ssize_t r;
	char c = 0;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 1;
	if (fd >= FD_SETSIZE || tcgetattr(fd, &old) < 0) {
		close(fd);
		return 1;
	}

	sigemptyset(&block);
	for (i = 0; i < NSIGNALS; i++)
		sigaddset(&block, tty_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	caught_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	for (i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &sa, &saved[i]);

	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		rc = ota_error(OTA_EKEY, "cannot turn terminal echo off: %s",
			       strerror(errno));
		goto out;
	}
	restore = true;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = ota_error(OTA_EKEY, "cannot write the %s prompt: %s", what,
			       strerror(errno));
		goto out;
	}
	for (;;) {
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		if (pselect(fd + 1, &rfds, NULL, NULL, NULL, &orig) < 0) {
			if (errno == EINTR && caught_signal == 0)
				continue;
			rc = ota_error(OTA_EKEY, "reading the %s: %s", what,
				       caught_signal != 0 ? "interrupted"
							  : strerror(errno));
			goto out;
		}
		r = read(fd, &c, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			rc = ota_error(OTA_EKEY, "reading the %s: %s", what,
				       strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (c == '\n' || c == '\r') {
			got_eol = true;
			break;
		}
		if (n < OTA_SECRET_MAX)
			buf[n++] = c;
		else
			too_long = true;
	}
	if (write(fd, "\n", 1) < 0) {
		/* Cosmetic only: the line was read. */
	}
	if (too_long) {
		rc = ota_error(OTA_EINPUT, "%s is longer than %d bytes", what,
			       OTA_SECRET_MAX);
		goto out;
	}
	if (n == 0) {
		rc = ota_error(OTA_EKEY, "no %s entered%s", what,
			       got_eol ? "" : " (end of input)");
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		rc = ota_error(OTA_EINPUT, "%s contains a NUL byte", what);
		goto out;
	}
	memcpy(s->value, buf, n);
	s->value[n] = '\0';
	s->len = n;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(&c, sizeof(c));
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	for (i = 0; i < NSIGNALS; i++)
		sigaction(tty_signals[i], &saved[i], NULL);
	sig = caught_signal;
	caught_signal = 0;
	/*
	 * Deliver what interrupted us now that the terminal is sane again:
	 * raised while blocked, it is taken by the original disposition as
	 * soon as the mask is restored.
	 */
	if (sig != 0)
		raise(sig);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (sig != 0 && is_stop_signal(sig) && rc < 0) {
		ota_secret_wipe(s);
		return 2;
	}
	return rc;
}

int ota_secret_get(struct ota_secret *s, const char *what, const char *file,
		   const char *env, const char *prompt)
{
	const char *val;
	int rc;

	ota_secret_wipe(s);
	if (file != NULL && file[0] != '\0') {
		rc = from_file(s, what, file);
		goto out;
	}
	val = env != NULL ? getenv(env) : NULL;
	if (val != NULL && val[0] != '\0') {
		rc = take_line(s, what, env, val, strlen(val));
		if (rc == 0 && s->len != strlen(val))
			rc = ota_error(OTA_EINPUT,
				       "%s: %s must be a single line", env,
				       what);
		goto out;
	}
	if (prompt != NULL) {
		do
			rc = from_tty(s, what, prompt);
		while (rc == 2);
		if (rc <= 0)
			goto out;
	}
	rc = ota_error(OTA_EKEY, "no %s: no file given, %s%s%s", what,
		       env != NULL ? env : "no environment variable",
		       env != NULL ? " is not set" : "",
		       prompt != NULL ? " and no terminal to prompt on"
				      : " and prompting is off");
out:
	if (rc < 0)
		ota_secret_wipe(s);
	return rc;
}
