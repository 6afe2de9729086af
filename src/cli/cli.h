/* What every subcommand shares: the command table, errors, option parsing. */
#ifndef OTATOOL_CLI_H
#define OTATOOL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

extern const struct cli_command cli_commands[];

int cmd_manifest(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_chain(int argc, char **argv);

/*
 * Prints "otatool: CMD: <last library message>" once on stderr and returns
 * the exit status for rc. The only place a code becomes an exit status.
 */
int cli_fail(const char *cmd, int rc);

/* A usage error: the message, a pointer to --help, exit status 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Reports what getopt_long() (optstring starting with ':', so that it prints
 * nothing itself) returned as c == '?' or ':': an unknown option, with the
 * nearest valid name, or a missing value. Returns exit status 2.
 */
int cli_bad_option(const char *cmd, const struct option *longopts, int c,
		   char **argv);

/* Progress on stderr for hashing big images, only on a terminal. */
struct cli_progress {
	const char *label;
	bool enabled;
	int last_percent;
};
void cli_progress_init(struct cli_progress *p, bool quiet);
void cli_progress_cb(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p);

#endif
