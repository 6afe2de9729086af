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

int cli_bad_option(const char *cmd, const struct option *longopts, int c,
		   char **argv)
{
	const char *arg = argv[optind - 1];
	const char *names[64], *eq, *near;
	char buf[64][40], word[128];
	size_t n = 0;

	if (c == ':')
		return optopt
			   ? cli_usage_error(cmd, "option '-%c' needs a value",
					     optopt)
			   : cli_usage_error(cmd, "option '%s' needs a value",
					     arg);
	if (optopt)
		return cli_usage_error(cmd, "unknown option '-%c'", optopt);
	for (const struct option *o = longopts; o->name && n < 64; o++, n++) {
		snprintf(buf[n], sizeof(buf[n]), "--%s", o->name);
		names[n] = buf[n];
	}
	eq = strchr(arg, '=');
	snprintf(word, sizeof(word), "%.*s",
		 (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
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
