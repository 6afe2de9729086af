/*
 * One option spec per command: a table that names every option once (long
 * and short name, value name, help text, kind, and whether its value is an
 * input or an output file) and drives both the parser and the --help
 * screen. Shared groups (the signing-key and trust options) are tables
 * that several commands include.
 */
#ifndef OTATOOL_CLI_OPT_H
#define OTATOOL_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>

enum cli_opt_kind {
	CLI_OPT_END = 0, /* ends a table */
	CLI_OPT_TEXT,    /* help text only, printed as it is */
	CLI_OPT_GROUP,   /* the options of another table, here */
	CLI_OPT_FLAG,    /* no value */
	CLI_OPT_VALUE,   /* one value; the last one given counts */
	CLI_OPT_LIST,    /* repeatable; every value kept, at most .max */
};

/* What an option's value (or a command's operands) names on disk. */
enum cli_opt_file {
	CLI_FILE_NONE = 0,
	CLI_FILE_IN,     /* read: never to be replaced by an output */
	CLI_FILE_OUT,    /* written: must not be empty nor one of the inputs */
	CLI_FILE_UPDATE, /* written, and may be an operand: updated in place */
};

struct cli_opt_spec {
	enum cli_opt_kind kind;
	const char *name;       /* long name without "--"; TEXT: the text */
	char alias;             /* short name, 0 if none */
	const char *value_name; /* in --help: "FILE", "N" */
	const char *help;       /* lines after the first start with '\n' */
	enum cli_opt_file file;
	unsigned max;                     /* LIST: at most this many */
	const struct cli_opt_spec *group; /* GROUP: the table included */
};

/* Help text between options, and the end of a table. */
#define CLI_TEXT(t)                                                            \
	{                                                                      \
		CLI_OPT_TEXT, t, 0, NULL, NULL, CLI_FILE_NONE, 0, NULL         \
	}
#define CLI_END                                                                \
	{                                                                      \
		CLI_OPT_END, NULL, 0, NULL, NULL, CLI_FILE_NONE, 0, NULL       \
	}
/* Options: long name, short name (0: none), value name, file kind, help. */
#define CLI_FLAG(name, alias, help)                                            \
	{                                                                      \
		CLI_OPT_FLAG, name, alias, NULL, help, CLI_FILE_NONE, 0, NULL  \
	}
#define CLI_VALUE(name, alias, value, file, help)                              \
	{                                                                      \
		CLI_OPT_VALUE, name, alias, value, help, file, 0, NULL         \
	}
#define CLI_LIST(name, alias, value, file, max, help)                          \
	{                                                                      \
		CLI_OPT_LIST, name, alias, value, help, file, max, NULL        \
	}
#define CLI_HELP_OPT CLI_FLAG("help", 'h', "show this help")
#define CLI_GROUP(g)                                                           \
	{                                                                      \
		CLI_OPT_GROUP, NULL, 0, NULL, NULL, CLI_FILE_NONE, 0, g        \
	}

/* A command's spec: its name in messages, options and operands. */
struct cli_spec {
	const char *cmd;
	const struct cli_opt_spec *opts;
	enum cli_opt_file operands;
	int help_column; /* where help text starts; 0: 29 */
};

/* One option as given, in command-line order. */
struct cli_found {
	const struct cli_opt_spec *opt;
	const char *value; /* NULL for a flag */
};

/* What the command line said: data the command reads. */
struct cli_args {
	const struct cli_spec *spec;
	struct cli_found *found;
	size_t n_found;
	char **operands;
	size_t n_operands;
	bool help; /* -h/--help: the command prints cli_help() and stops */
};

/*
 * Parses argv[1..argc-1] (options and operands in any order, "--" ends
 * the options; unique abbreviations of long names are accepted). Refuses
 * an unknown option (naming the nearest), an ambiguous abbreviation, a
 * missing value, a value given to a flag, a repeated option past its
 * .max, an empty output path, and an output that is the same file as any
 * input of the command line: OTA_EUSAGE, recorded by cli_usage_error().
 * On success *a holds the result (cli_args_free() it), even with --help.
 */
int cli_parse(struct cli_args *a, const struct cli_spec *spec, int argc,
	      char **argv);

void cli_args_free(struct cli_args *a);

/* Prints the --help screen the spec describes on stdout. */
void cli_help(const struct cli_spec *spec);

/*
 * Reading the result by long name; a name the spec does not hold is a
 * programming error (the process aborts).
 */
bool cli_flag(const struct cli_args *a, const char *name);
const char *cli_value(const struct cli_args *a, const char *name);
size_t cli_count(const struct cli_args *a, const char *name);
const char *cli_nth(const struct cli_args *a, const char *name, size_t i);

#endif
