/* Loads a release description (YAML) into a manifest, validating as it goes. */
#include "manifest_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/suggest.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

struct loader {
	const char *file;
	char *dir; /* image paths are relative to the description */
	yaml_document_t doc;
	struct ota_manifest *m;
	char origin[512];
};

/* "FILE:LINE:COLUMN: field", the prefix of every message about a node. */
static const char *origin(struct loader *l, const yaml_node_t *node,
			  const char *field)
{
	/* The document root has no field name: "FILE:LINE:COL: (top level)". */
	snprintf(l->origin, sizeof(l->origin), "%s:%zu:%zu: %s", l->file,
		 node->start_mark.line + 1, node->start_mark.column + 1,
		 *field ? field : "(top level)");
	return l->origin;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

static yaml_node_t *node_at(struct loader *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

static int want_scalar(struct loader *l, const yaml_node_t *n,
		       const char *field, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return ota_error(OTA_EINPUT, "%s: expected a value, found %s",
				 origin(l, n, field), node_kind(n));
	if (n->data.scalar.length != strlen((char *)n->data.scalar.value))
		return ota_error(OTA_EINPUT, "%s: value contains a NUL byte",
				 origin(l, n, field));
	if (n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return ota_error(OTA_EINPUT, "%s: empty value",
				 origin(l, n, field));
	*out = (const char *)n->data.scalar.value;
	return 0;
}

/* Integers must be plain scalars: "7" in quotes is a string, not a count. */
static int want_integer(struct loader *l, const yaml_node_t *n,
			const char *field, uint64_t max, uint64_t *out)
{
	const char *s;
	int rc;

	if ((rc = want_scalar(l, n, field, &s)))
		return rc;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return ota_error(OTA_EINPUT,
				 "%s: expected an integer, found a quoted "
				 "string",
				 origin(l, n, field));
	return manifest_parse_u64(out, s, max, origin(l, n, field));
}

static int want_bool(struct loader *l, const yaml_node_t *n, const char *field,
		     bool *out)
{
	const char *s;
	int rc;

	if ((rc = want_scalar(l, n, field, &s)))
		return rc;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
		*out = s[0] == 't';
		return 0;
	}
	return ota_error(OTA_EINPUT, "%s: expected true or false, found \"%s\"",
			 origin(l, n, field), s);
}

typedef int (*field_fn)(struct loader *l, yaml_node_t *value, const char *field,
			void *ctx);

/*
 * Walks a mapping whose keys must come from keys[]; refuses unknown and
 * repeated keys, with a suggestion for a likely typo.
 */
static int walk_mapping(struct loader *l, yaml_node_t *map, const char *field,
			const char *const *keys, size_t n_keys, field_fn fn,
			void *ctx)
{
	unsigned long seen = 0; /* n_keys stays far below the bit count */
	yaml_node_pair_t *pair;
	int rc;

	if (map->type != YAML_MAPPING_NODE)
		return ota_error(OTA_EINPUT, "%s: expected a mapping, found %s",
				 origin(l, map, field), node_kind(map));
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node_at(l, pair->key);
		yaml_node_t *v = node_at(l, pair->value);
		const char *key;
		char path[256];
		size_t i;

		if (!k || !v)
			return ota_error(OTA_EINPUT, "%s: malformed mapping",
					 l->file);
		if (k->type != YAML_SCALAR_NODE)
			return ota_error(OTA_EINPUT,
					 "%s: keys must be plain names, found "
					 "%s",
					 origin(l, k, field), node_kind(k));
		key = (const char *)k->data.scalar.value;
		for (i = 0; i < n_keys; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == n_keys) {
			const char *near = ota_suggest(key, keys, n_keys);

			snprintf(path, sizeof(path), "%s%s%s", field,
				 *field ? "." : "", key);
			if (near)
				return ota_error(OTA_EINPUT,
						 "%s: unknown key (did you "
						 "mean \"%s\"?)",
						 origin(l, k, path), near);
			return ota_error(OTA_EINPUT, "%s: unknown key",
					 origin(l, k, path));
		}
		snprintf(path, sizeof(path), "%s%s%s", field, *field ? "." : "",
			 key);
		if (seen & (1ul << i))
			return ota_error(OTA_EINPUT, "%s: key given twice",
					 origin(l, k, path));
		seen |= 1ul << i;
		if ((rc = fn(l, v, path, ctx)))
			return rc;
	}
	return 0;
}

/* Calls add for every scalar of a list. */
static int walk_list(struct loader *l, yaml_node_t *seq, const char *field,
		     int (*each)(struct loader *l, yaml_node_t *item,
				 const char *path, void *ctx),
		     void *ctx)
{
	yaml_node_item_t *it;
	char path[256];
	size_t idx = 0;
	int rc;

	if (seq->type != YAML_SEQUENCE_NODE)
		return ota_error(OTA_EINPUT, "%s: expected a list, found %s",
				 origin(l, seq, field), node_kind(seq));
	for (it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, idx++) {
		yaml_node_t *item = node_at(l, *it);

		if (!item)
			return ota_error(OTA_EINPUT, "%s: malformed list",
					 l->file);
		snprintf(path, sizeof(path), "%s[%zu]", field, idx);
		if ((rc = each(l, item, path, ctx)))
			return rc;
	}
	return 0;
}

static int hardware_item(struct loader *l, yaml_node_t *item, const char *path,
			 void *ctx)
{
	const char *s;
	int rc;

	(void)ctx;
	if ((rc = want_scalar(l, item, path, &s)))
		return rc;
	return ota_manifest_set(l->m, "hardware", s, origin(l, item, path));
}

static const char *const git_keys[] = { "commit", "branch", "tag", "describe",
					"dirty" };

static int git_field(struct loader *l, yaml_node_t *v, const char *field,
		     void *ctx)
{
	const char *key = strchr(field, '.') + 1;
	const char *s;
	int rc;

	(void)ctx;
	if (strcmp(key, "dirty") == 0)
		return want_bool(l, v, field, &l->m->git.dirty);
	if ((rc = want_scalar(l, v, field, &s)))
		return rc;
	return manifest_set_git(l->m, key, s, origin(l, v, field));
}

static const char *const build_keys[] = { "time", "id" };

static int build_field(struct loader *l, yaml_node_t *v, const char *field,
		       void *ctx)
{
	const char *key = strchr(field, '.') + 1;
	const char *s;
	int rc;

	(void)ctx;
	if ((rc = want_scalar(l, v, field, &s)))
		return rc;
	return ota_manifest_set(
	    l->m, strcmp(key, "time") == 0 ? "build-time" : "build-id", s,
	    origin(l, v, field));
}

struct entry {
	const char *name, *kind, *file, *range;
	bool has_load;
	uint64_t load;
};

static const char *const dep_keys[] = { "name", "range" };
static const char *const image_keys[] = { "name", "kind", "file",
					  "load_address" };

static int entry_field(struct loader *l, yaml_node_t *v, const char *field,
		       void *ctx)
{
	struct entry *e = ctx;
	const char *key = strrchr(field, '.') + 1;

	if (strcmp(key, "load_address") == 0) {
		e->has_load = true;
		return want_integer(l, v, field, UINT64_MAX, &e->load);
	}
	if (strcmp(key, "name") == 0)
		return want_scalar(l, v, field, &e->name);
	if (strcmp(key, "kind") == 0)
		return want_scalar(l, v, field, &e->kind);
	if (strcmp(key, "file") == 0)
		return want_scalar(l, v, field, &e->file);
	return want_scalar(l, v, field, &e->range);
}

static int require(struct loader *l, yaml_node_t *n, const char *path,
		   const char *value, const char *key)
{
	if (value)
		return 0;
	return ota_error(OTA_EINPUT, "%s: missing required key \"%s\"",
			 origin(l, n, path), key);
}

static int dependency_item(struct loader *l, yaml_node_t *item,
			   const char *path, void *ctx)
{
	struct entry e = { 0 };
	int rc;

	(void)ctx;
	if ((rc = walk_mapping(l, item, path, dep_keys, 2, entry_field, &e)) ||
	    (rc = require(l, item, path, e.name, "name")) ||
	    (rc = require(l, item, path, e.range, "range")))
		return rc;
	return manifest_add_dependency(l->m, e.name, e.range,
				       origin(l, item, path));
}

static int image_item(struct loader *l, yaml_node_t *item, const char *path,
		      void *ctx)
{
	struct entry e = { 0 };
	char *resolved;
	int rc;

	(void)ctx;
	if ((rc =
		 walk_mapping(l, item, path, image_keys, 4, entry_field, &e)) ||
	    (rc = require(l, item, path, e.name, "name")) ||
	    (rc = require(l, item, path, e.file, "file")))
		return rc;
	resolved = manifest_join_path(l->dir, e.file);
	if (!resolved)
		return ota_error(OTA_EINTERNAL, "out of memory");
	/* Kind defaults to application, by far the commonest image. */
	rc = manifest_add_image(l->m, e.name, e.kind ? e.kind : "application",
				e.file, resolved, e.has_load, e.load,
				origin(l, item, path));
	free(resolved);
	return rc;
}

static const char *const top_keys[] = {
	"name",   "version", "hardware", "bootloader_min", "security_counter",
	"digest", "git",     "build",    "dependencies",   "images",
};

static int top_field(struct loader *l, yaml_node_t *v, const char *field,
		     void *ctx)
{
	const char *s;
	uint64_t n;
	int rc;

	(void)ctx;
	if (strcmp(field, "hardware") == 0) {
		if (v->type == YAML_SEQUENCE_NODE &&
		    v->data.sequence.items.start == v->data.sequence.items.top)
			return ota_error(OTA_EINPUT,
					 "%s: must list at least one hardware "
					 "variant",
					 origin(l, v, field));
		return walk_list(l, v, field, hardware_item, NULL);
	}
	if (strcmp(field, "dependencies") == 0)
		return walk_list(l, v, field, dependency_item, NULL);
	if (strcmp(field, "images") == 0)
		return walk_list(l, v, field, image_item, NULL);
	if (strcmp(field, "git") == 0)
		return walk_mapping(l, v, field, git_keys, 5, git_field, NULL);
	if (strcmp(field, "build") == 0)
		return walk_mapping(l, v, field, build_keys, 2, build_field,
				    NULL);
	if (strcmp(field, "security_counter") == 0) {
		if ((rc = want_integer(l, v, field, UINT32_MAX, &n)))
			return rc;
		l->m->security_counter = (uint32_t)n;
		return 0;
	}
	if ((rc = want_scalar(l, v, field, &s)))
		return rc;
	if (strcmp(field, "bootloader_min") == 0)
		return ota_manifest_set(l->m, "bootloader-min", s,
					origin(l, v, field));
	return ota_manifest_set(l->m, field, s, origin(l, v, field));
}

int ota_manifest_load_yaml(struct ota_manifest *m, const char *path)
{
	struct loader l = { .file = path, .m = m };
	yaml_parser_t parser;
	yaml_node_t *root;
	char *dircopy = NULL, *text = NULL;
	size_t len = 0;
	int rc, have_doc = 0;

	/* Through fileio: a FIFO or a directory is refused before any read. */
	if ((rc =
		 ota_file_read_small(&text, &len, path, OTA_MANIFEST_MAX_FILE)))
		return rc;
	if (!yaml_parser_initialize(&parser)) {
		free(text);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = ota_error(OTA_EINPUT, "%s:%zu:%zu: invalid YAML: %s%s%s",
			       path, parser.problem_mark.line + 1,
			       parser.problem_mark.column + 1,
			       parser.problem ? parser.problem : "error",
			       parser.context ? " " : "",
			       parser.context ? parser.context : "");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&l.doc);
	if (!root) {
		rc = ota_error(OTA_EINPUT, "%s: empty release description",
			       path);
		goto out;
	}
	dircopy = strdup(path);
	if (!dircopy) {
		rc = ota_error(OTA_EINTERNAL, "out of memory");
		goto out;
	}
	l.dir = dirname(dircopy);
	rc = walk_mapping(&l, root, "", top_keys,
			  sizeof(top_keys) / sizeof(top_keys[0]), top_field,
			  NULL);
	if (rc == 0) {
		/* A second document would be ignored: refuse it instead. */
		yaml_document_t next;

		if (!yaml_parser_load(&parser, &next)) {
			rc = ota_error(
			    OTA_EINPUT, "%s:%zu:%zu: invalid YAML: %s", path,
			    parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "error");
		} else {
			yaml_node_t *extra = yaml_document_get_root_node(&next);

			if (extra)
				rc = ota_error(OTA_EINPUT,
					       "%s:%zu:%zu: a second YAML "
					       "document; a release file holds "
					       "one",
					       path, extra->start_mark.line + 1,
					       extra->start_mark.column + 1);
			yaml_document_delete(&next);
		}
	}
out:
	if (have_doc)
		yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
	free(text);
	free(dircopy);
	return rc;
}
