/* otatool's entry point: global options and the table of subcommands. */
#include "cli.h"

#include "otatool/error.h"
#include "otatool/output.h"
#include "otatool/suggest.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

static int cmd_help(int argc, char **argv);

/* The one list of subcommands; man pages and completions mirror it. */
const struct cli_command cli_commands[] = {
	{ "manifest", cmd_manifest,
	  "describe a release as a canonical JSON manifest" },
	{ "sign", cmd_sign, "sign manifests with key files or PKCS#11 tokens" },
	{ "keys", cmd_keys, "generate, list and export signing keys" },
	{ "chain", cmd_chain, "check a signer certificate's chain to a root" },
	{ "package", cmd_package,
	  "build an otatool package or an MCUboot image" },
	{ "verify", cmd_verify,
	  "verify a package, MCUboot image or signed manifest" },
	{ "inspect", cmd_inspect,
	  "show every field of a package, MCUboot image or manifest" },
	{ "extract", cmd_extract, "write a verified package's images out" },
	{ "diff", cmd_diff,
	  "whether two packages or MCUboot images sign the same content" },
	{ "timestamp", cmd_timestamp,
	  "add RFC 3161 timestamps to a signed package's signatures" },
	{ "trust", cmd_trust,
	  "make, rotate, revoke and show trust root records" },
	{ "help", cmd_help, "show help for otatool or one of its commands" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: otatool [--version] [--help] COMMAND [ARGS]\n\n"
		   "Firmware release manifests, signing and packages.\n\n"
		   "Commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'otatool COMMAND --help' for a command's options; "
		   "see otatool(1)\nfor exit statuses and the environment.\n");
}

static const struct cli_command *find_command(const char *name)
{
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[32];
	size_t n = 0;
	const char *near;

	for (const struct cli_command *c = cli_commands; c->name && n < 32; c++)
		names[n++] = c->name;
	near = ota_suggest(name, names, n);
	if (near)
		return cli_global_error(
		    "'%s' is not a command (did you mean '%s'?)", name, near);
	return cli_global_error("'%s' is not a command", name);
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_command *c;
	char *help_argv[] = { NULL, "--help", NULL };

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2)
		return cli_global_error("help: expected one command name");
	c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	if (c->run == cmd_help) {
		usage(stdout);
		return 0;
	}
	help_argv[0] = argv[1];
	return c->run(2, help_argv);
}

/* Remove half-written outputs, then die of the same signal. */
static void on_signal(int sig)
{
	ota_output_unlink_pending();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	const struct cli_command *c;
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	if (argc < 2) {
		usage(stderr);
		return -OTA_EUSAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		rc = cli_version(argc - 1, argv + 1);
		return rc ? cli_fail("--version", rc) : 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (argv[1][0] == '-') {
		const char *names[] = { "--version", "--help" };
		const char *near = ota_suggest(argv[1], names, 2);

		fprintf(stderr,
			"otatool: unknown option '%s'%s%s%s\n"
			"Try 'otatool --help'.\n",
			argv[1], near ? " (did you mean '" : "",
			near ? near : "", near ? "'?)" : "");
		return -OTA_EUSAGE;
	}
	c = find_command(argv[1]);
	if (!c)
		return cli_fail("otatool", unknown_command(argv[1]));
	/* The one place a command's code becomes the exit status. */
	rc = c->run(argc - 1, argv + 1);
	return rc ? cli_fail(c->name, rc) : 0;
}
