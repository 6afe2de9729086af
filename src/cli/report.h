/*
 * The checklist that verify prints: one line per check, ok / FAIL / skip;
 * and the library's reports (JSON text) as objects the CLI adds to.
 */
#ifndef OTATOOL_CLI_REPORT_H
#define OTATOOL_CLI_REPORT_H

#include <jansson.h>
#include <stdbool.h>

enum cli_check { CLI_OK, CLI_FAIL, CLI_SKIP };

struct cli_report {
	json_t *checks; /* [{"check":..., "result":..., "detail":...}] */
	bool json;
};

void cli_report_init(struct cli_report *r, bool json);
void cli_report_add(struct cli_report *r, enum cli_check result,
		    const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints the lines (human) or adds "checks" to obj (JSON) and frees. */
void cli_report_finish(struct cli_report *r, json_t *obj, int rc);

/*
 * A report's JSON text, as a library *_to_json() wrote it, as an object to
 * add fields to or print from; frees text. NULL when text is NULL.
 */
json_t *cli_json_parse(char *text);

#endif
