/* Shared CLI plumbing: error printing, option errors, progress display. */
#include "cli.h"

#include "otatool/error.h"
#include "otatool/suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_fail(const char *cmd, int rc)
{
	const char *msg = ota_error_message();

	if (rc >= 0)
		return 0;
	fprintf(stderr, "otatool: %s: %s\n", cmd, *msg ? msg : "failed");
	return -rc;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "otatool: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'otatool %s --help'.\n", cmd);
	return -OTA_EUSAGE;
}

/* The long option named by arg ("--name" or "--name=value"), if any. */
static const struct option *find_long(const struct option *longopts,
				      const char *arg)
{
	size_t len;

	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	arg += 2;
	len = strcspn(arg, "=");
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
			return o;
	return NULL;
}

int cli_bad_option(const char *cmd, const struct option *longopts, int c,
		   char **argv)
{
	const char *arg = argv[optind - 1];
	const struct option *known = find_long(longopts, arg);
	const char *names[64], *near;
	char buf[64][40], word[128];
	size_t n = 0;

	if (known)
		return c == ':'
			   ? cli_usage_error(cmd, "option '--%s' needs a value",
					     known->name)
			   : cli_usage_error(cmd,
					     "option '--%s' takes no value",
					     known->name);
	if (strncmp(arg, "--", 2) != 0 && optopt > 0 && optopt < 128)
		return c == ':' ? cli_usage_error(
				      cmd, "option '-%c' needs a value", optopt)
				: cli_usage_error(cmd, "unknown option '-%c'",
						  optopt);
	for (const struct option *o = longopts; o->name && n < 64; o++, n++) {
		snprintf(buf[n], sizeof(buf[n]), "--%s", o->name);
		names[n] = buf[n];
	}
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg, "="), arg);
	/* getopt accepts unique abbreviations; say why this one is not. */
	if (strncmp(word, "--", 2) == 0 && word[2]) {
		char list[512] = "";
		size_t hits = 0, used = 0;

		for (size_t i = 0; i < n; i++) {
			if (strncmp(names[i], word, strlen(word)) != 0)
				continue;
			hits++;
			used += (size_t)snprintf(
			    list + used,
			    used < sizeof(list) ? sizeof(list) - used : 0,
			    "%s%s", hits > 1 ? ", " : "", names[i]);
			if (used >= sizeof(list))
				used = sizeof(list) - 1;
		}
		if (hits > 1)
			return cli_usage_error(cmd,
					       "ambiguous option '%s' (could "
					       "be %s)",
					       word, list);
	}
	near = ota_suggest(word, names, n);
	if (near)
		return cli_usage_error(cmd,
				       "unknown option '%s' (did you mean "
				       "'%s'?)",
				       word, near);
	return cli_usage_error(cmd, "unknown option '%s'", word);
}

void cli_progress_init(struct cli_progress *p, bool quiet)
{
	p->label = "";
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->last_percent = -1;
}

void cli_progress_cb(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	int percent;

	/* Small files finish before anyone could read a progress line. */
	if (!p->enabled || total < (64u << 20))
		return;
	percent = (int)(done * 100 / total);
	if (percent == p->last_percent)
		return;
	p->last_percent = percent;
	fprintf(stderr, "\r%s: %3d%% (%llu of %llu MiB)", p->label, percent,
		(unsigned long long)(done >> 20),
		(unsigned long long)(total >> 20));
	if (done == total)
		fputc('\n', stderr);
}

void cli_progress_end(struct cli_progress *p)
{
	p->last_percent = -1;
}
