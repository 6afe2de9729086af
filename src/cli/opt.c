/* The option parser and --help printer that every command's spec drives. */
#include "opt.h"

#include "cli.h"
#include "otatool/error.h"
#include "otatool/suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every option of a spec, groups flattened, in table order. */
#define MAX_OPTS 96

struct flat {
	const struct cli_opt_spec *o[MAX_OPTS];
	size_t n;
};

static void flatten(struct flat *f, const struct cli_opt_spec *opts)
{
	for (const struct cli_opt_spec *o = opts; o->kind != CLI_OPT_END; o++) {
		if (o->kind == CLI_OPT_GROUP)
			flatten(f, o->group);
		else if (o->kind != CLI_OPT_TEXT && f->n < MAX_OPTS)
			f->o[f->n++] = o;
	}
}

static const struct cli_opt_spec *find_short(const struct flat *f, char c)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->o[i]->alias == c)
			return f->o[i];
	return NULL;
}

/*
 * The option that name (len bytes, no "--") means: an exact match, else
 * the one option it abbreviates. Otherwise NULL, with *hits the number of
 * options it abbreviates (more than one: ambiguous).
 */
static const struct cli_opt_spec *
find_long(const struct flat *f, const char *name, size_t len, size_t *hits)
{
	const struct cli_opt_spec *prefix = NULL;

	*hits = 0;
	for (size_t i = 0; i < f->n; i++) {
		const char *n = f->o[i]->name;

		if (strlen(n) == len && strncmp(n, name, len) == 0)
			return f->o[i];
		if (len && strncmp(n, name, len) == 0) {
			prefix = f->o[i];
			(*hits)++;
		}
	}
	return *hits == 1 ? prefix : NULL;
}

static int unknown_long(const char *cmd, const struct flat *f, const char *arg,
			size_t hits)
{
	const char *names[MAX_OPTS], *near;
	char buf[MAX_OPTS][40], word[128], list[512] = "";
	size_t len = strcspn(arg, "="), used = 0, listed = 0;

	snprintf(word, sizeof(word), "%.*s", (int)len, arg);
	for (size_t i = 0; i < f->n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "--%s", f->o[i]->name);
		names[i] = buf[i];
		if (hits > 1 && strncmp(f->o[i]->name, arg + 2, len - 2) == 0) {
			used += (size_t)snprintf(
			    list + used,
			    used < sizeof(list) ? sizeof(list) - used : 0,
			    "%s%s", listed++ ? ", " : "", buf[i]);
			if (used >= sizeof(list))
				used = sizeof(list) - 1;
		}
	}
	if (hits > 1)
		return cli_usage_error(
		    cmd, "ambiguous option '%s' (could be %s)", word, list);
	near = ota_suggest(word, names, f->n);
	if (near)
		return cli_usage_error(cmd,
				       "unknown option '%s' (did you mean "
				       "'%s'?)",
				       word, near);
	return cli_usage_error(cmd, "unknown option '%s'", word);
}

static int take(struct cli_args *a, const struct cli_opt_spec *o,
		const char *value)
{
	size_t n = 0;

	if (o->kind == CLI_OPT_LIST && o->max) {
		for (size_t i = 0; i < a->n_found; i++)
			n += a->found[i].opt == o;
		if (n == o->max)
			return cli_usage_error(a->spec->cmd, "at most %u --%s",
					       o->max, o->name);
	}
	a->found[a->n_found].opt = o;
	a->found[a->n_found].value = value;
	a->n_found++;
	if (strcmp(o->name, "help") == 0)
		a->help = true;
	return 0;
}

/* "-kVALUE", "-k VALUE", "-qk VALUE": a cluster of short options. */
static int parse_short(struct cli_args *a, const struct flat *f, int argc,
		       char **argv, int *i)
{
	const char *arg = argv[*i];

	for (size_t j = 1; arg[j] && !a->help; j++) {
		const struct cli_opt_spec *o = find_short(f, arg[j]);

		if (!o)
			return cli_usage_error(a->spec->cmd,
					       "unknown option '-%c'", arg[j]);
		if (o->kind == CLI_OPT_FLAG) {
			int rc = take(a, o, NULL);

			if (rc)
				return rc;
			continue;
		}
		if (arg[j + 1])
			return take(a, o, arg + j + 1);
		if (*i + 1 >= argc)
			return cli_usage_error(
			    a->spec->cmd, "option '-%c' needs a value", arg[j]);
		return take(a, o, argv[++*i]);
	}
	return 0;
}

static int parse_long(struct cli_args *a, const struct flat *f, int argc,
		      char **argv, int *i)
{
	const char *arg = argv[*i], *name = arg + 2;
	size_t len = strcspn(name, "="), hits;
	const struct cli_opt_spec *o = find_long(f, name, len, &hits);

	if (!o)
		return unknown_long(a->spec->cmd, f, arg, hits);
	if (o->kind == CLI_OPT_FLAG)
		return name[len] ? cli_usage_error(a->spec->cmd,
						   "option '--%s' takes no "
						   "value",
						   o->name)
				 : take(a, o, NULL);
	if (name[len])
		return take(a, o, name + len + 1);
	if (*i + 1 >= argc)
		return cli_usage_error(a->spec->cmd,
				       "option '--%s' needs a value", o->name);
	return take(a, o, argv[++*i]);
}

static bool same_file(const char *x, const char *y)
{
	struct stat sx, sy;

	return stat(x, &sx) == 0 && stat(y, &sy) == 0 &&
	       sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

/* Refuses out when it names an input: "--key K.pem" or "'rel.yaml'". */
static int clobbers(const struct cli_args *a, const char *opt, const char *out,
		    bool update)
{
	for (size_t i = 0; i < a->n_found; i++) {
		const struct cli_found *in = &a->found[i];

		if (in->opt->file == CLI_FILE_IN && in->value &&
		    same_file(out, in->value))
			return cli_usage_error(a->spec->cmd,
					       "--%s %s: is also an input "
					       "(--%s %s); refusing to "
					       "overwrite it",
					       opt, out, in->opt->name,
					       in->value);
	}
	for (size_t i = 0;
	     !update && a->spec->operands == CLI_FILE_IN && i < a->n_operands;
	     i++)
		if (same_file(out, a->operands[i]))
			return cli_usage_error(a->spec->cmd,
					       "--%s %s: is also an input "
					       "('%s'); refusing to "
					       "overwrite it",
					       opt, out, a->operands[i]);
	return 0;
}

/* Before any work: outputs named, none of them an input. */
static int check_outputs(const struct cli_args *a)
{
	int rc;

	for (size_t i = 0; i < a->n_found; i++) {
		const struct cli_found *o = &a->found[i];

		if ((o->opt->file != CLI_FILE_OUT &&
		     o->opt->file != CLI_FILE_UPDATE) ||
		    !o->value)
			continue;
		if (!*o->value)
			return cli_usage_error(a->spec->cmd,
					       "--%s: empty file name",
					       o->opt->name);
		if (strcmp(o->value, "-") != 0 &&
		    (rc = clobbers(a, o->opt->name, o->value,
				   o->opt->file == CLI_FILE_UPDATE)))
			return rc;
	}
	return 0;
}

int cli_parse(struct cli_args *a, const struct cli_spec *spec, int argc,
	      char **argv)
{
	struct flat f = { .n = 0 };
	bool operands_only = false;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	a->spec = spec;
	flatten(&f, spec->opts);
	a->found = calloc((size_t)argc + 1, sizeof(*a->found));
	a->operands = calloc((size_t)argc + 1, sizeof(*a->operands));
	if (!a->found || !a->operands) {
		cli_args_free(a);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	for (int i = 1; rc == 0 && i < argc && !a->help; i++) {
		const char *arg = argv[i];

		if (operands_only || arg[0] != '-' || !arg[1])
			a->operands[a->n_operands++] = argv[i];
		else if (strcmp(arg, "--") == 0)
			operands_only = true;
		else if (arg[1] == '-')
			rc = parse_long(a, &f, argc, argv, &i);
		else
			rc = parse_short(a, &f, argc, argv, &i);
	}
	if (rc == 0 && !a->help)
		rc = check_outputs(a);
	if (rc)
		cli_args_free(a);
	return rc;
}

void cli_args_free(struct cli_args *a)
{
	free(a->found);
	free(a->operands);
	a->found = NULL;
	a->operands = NULL;
	a->n_found = a->n_operands = 0;
}

static void help_lines(const struct cli_opt_spec *opts, int column)
{
	for (const struct cli_opt_spec *o = opts; o->kind != CLI_OPT_END; o++) {
		char left[96];
		int n;

		if (o->kind == CLI_OPT_TEXT) {
			fputs(o->name, stdout);
			continue;
		}
		if (o->kind == CLI_OPT_GROUP) {
			help_lines(o->group, column);
			continue;
		}
		if (o->alias)
			n = snprintf(left, sizeof(left), "  -%c, --%s%s%s",
				     o->alias, o->name,
				     o->value_name ? " " : "",
				     o->value_name ? o->value_name : "");
		else
			n = snprintf(left, sizeof(left), "      --%s%s%s",
				     o->name, o->value_name ? " " : "",
				     o->value_name ? o->value_name : "");
		/* A long left part pushes its text two spaces further. */
		printf("%s%*s", left, n < column ? column - n : 2, "");
		for (const char *h = o->help; *h;) {
			size_t len = strcspn(h, "\n");

			printf("%.*s\n", (int)len, h);
			h += len;
			if (*h == '\n' && *++h)
				printf("%*s", column, "");
		}
	}
}

void cli_help(const struct cli_spec *spec)
{
	help_lines(spec->opts, spec->help_column ? spec->help_column : 29);
}

static const struct cli_opt_spec *must_find(const struct cli_args *a,
					    const char *name)
{
	struct flat f = { .n = 0 };
	size_t hits;
	const struct cli_opt_spec *o;

	flatten(&f, a->spec->opts);
	o = find_long(&f, name, strlen(name), &hits);
	if (!o || strcmp(o->name, name) != 0) {
		fprintf(stderr, "otatool: %s: internal error: no option --%s\n",
			a->spec->cmd, name);
		abort();
	}
	return o;
}

size_t cli_count(const struct cli_args *a, const char *name)
{
	const struct cli_opt_spec *o = must_find(a, name);
	size_t n = 0;

	for (size_t i = 0; i < a->n_found; i++)
		n += a->found[i].opt == o;
	return n;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
	return cli_count(a, name) > 0;
}

const char *cli_nth(const struct cli_args *a, const char *name, size_t n)
{
	const struct cli_opt_spec *o = must_find(a, name);

	for (size_t i = 0; i < a->n_found; i++)
		if (a->found[i].opt == o && n-- == 0)
			return a->found[i].value;
	return NULL;
}

const char *cli_value(const struct cli_args *a, const char *name)
{
	size_t n = cli_count(a, name);

	return n ? cli_nth(a, name, n - 1) : NULL;
}
