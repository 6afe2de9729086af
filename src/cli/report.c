/* Checklist output for verify: what was checked, one line each. */
#include "report.h"

#include "otatool/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cli_report_init(struct cli_report *r, bool json)
{
	r->checks = json_array();
	r->json = json;
}

void cli_report_add(struct cli_report *r, enum cli_check result,
		    const char *check, const char *fmt, ...)
{
	static const char *const names[] = { "ok", "fail", "skipped" };
	char detail[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(
	    r->checks, json_pack("{s:s, s:s, s:s}", "check", check, "result",
				 names[result], "detail", detail));
}

void cli_report_finish(struct cli_report *r, json_t *obj, int rc)
{
	static const char *const marks[] = { "  ok  ", " FAIL ", " skip " };
	json_t *c;
	size_t i;

	if (r->json) {
		json_object_set_new(obj, "checks", r->checks);
		json_object_set_new(obj, "verdict",
				    json_string(rc ? "refused" : "valid"));
		json_object_set_new(obj, "exit_status", json_integer(-rc));
		json_object_set_new(obj, "reason",
				    rc ? json_string(ota_error_name(rc))
				       : json_null());
		char *text =
		    json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		return;
	}
	json_array_foreach(r->checks, i, c)
	{
		const char *res =
		    json_string_value(json_object_get(c, "result"));
		int k = res[0] == 'o' ? 0 : res[0] == 'f' ? 1 : 2;

		printf("[%s] %-22s %s\n", marks[k],
		       json_string_value(json_object_get(c, "check")),
		       json_string_value(json_object_get(c, "detail")));
	}
	printf("verdict: %s\n", rc ? "REFUSED" : "VALID");
	json_decref(r->checks);
}

json_t *cli_json_parse(char *text)
{
	/* Token labels may hold NUL bytes: the library writes them as \u0000.
	 */
	json_t *j = text ? json_loads(text, JSON_ALLOW_NUL, NULL) : NULL;

	free(text);
	return j;
}
