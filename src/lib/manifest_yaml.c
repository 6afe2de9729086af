/* Loads a release description (YAML) into a manifest, validating as it goes. */
#include "manifest_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/suggest.h"

#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/*
 * Bounds on what libyaml is given to do (otatool-manifest(5), Limits).
 * libyaml's scanner keeps one entry per open flow collection and walks
 * them all for every token, so "[[[[..." costs time quadratic in the
 * depth; its document loader builds everything before the first check.
 * The events are therefore composed here, and composing stops at the
 * first collection deeper than YAML_DEPTH_MAX or the node past
 * YAML_NODES_MAX: libyaml's look-ahead is at most 1024 characters past
 * that point, so a hostile file costs little whatever its size. A valid
 * release file nests three levels and has about a thousand nodes.
 */
#define YAML_DEPTH_MAX 64
#define YAML_NODES_MAX 4096

/* What the composer saw of a node that a release file may not use. */
enum {
	NODE_TAGGED = 1,   /* an explicit tag: !!str, !!binary, !x, ! */
	NODE_ANCHORED = 2, /* &name */
	NODE_ALIAS = 4,    /* *name, kept as a scalar holding the name */
};

struct loader {
	const char *file;
	char *dir; /* image paths are relative to the description */
	yaml_document_t doc;
	struct ota_manifest *m;
	size_t n_nodes;
	unsigned char flags[YAML_NODES_MAX + 1]; /* by node id, from 1 */
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

/* "!!str" for libyaml's "tag:yaml.org,2002:str", other tags as they are. */
static void short_tag(char *buf, size_t len, const yaml_char_t *tag)
{
	static const char core[] = "tag:yaml.org,2002:";
	const char *t = tag ? (const char *)tag : "!";

	if (strncmp(t, core, sizeof(core) - 1) == 0)
		snprintf(buf, len, "!!%.60s", t + sizeof(core) - 1);
	else
		snprintf(buf, len, "%.60s", t);
}

/*
 * Tags, anchors and aliases are refused wherever they appear: a tag
 * could make a value mean something else than it reads (!!str 7 is not
 * the integer 7, !!binary YWJj is not the text YWJj), and an alias makes
 * one value stand in several places that each have their own rules.
 */
static int check_plain(struct loader *l, const yaml_node_t *n,
		       const char *field)
{
	unsigned char f = l->flags[n - l->doc.nodes.start + 1];
	char tag[72];

	if (f & NODE_ALIAS)
		return ota_error(OTA_EINPUT,
				 "%s: YAML aliases (*%.60s) are not allowed in "
				 "a release file; write the value out",
				 origin(l, n, field), n->data.scalar.value);
	if (f & NODE_TAGGED) {
		short_tag(tag, sizeof(tag), n->tag);
		return ota_error(OTA_EINPUT,
				 "%s: YAML tags (%s) are not allowed in a "
				 "release file; write the value plainly",
				 origin(l, n, field), tag);
	}
	if (f & NODE_ANCHORED)
		return ota_error(OTA_EINPUT,
				 "%s: YAML anchors (&) are not allowed in a "
				 "release file",
				 origin(l, n, field));
	return 0;
}

static int want_scalar(struct loader *l, const yaml_node_t *n,
		       const char *field, const char **out)
{
	int rc;

	if ((rc = check_plain(l, n, field)))
		return rc;
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
	return ota_parse_uint(out, s, max, origin(l, n, field));
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

	if ((rc = check_plain(l, map, field)))
		return rc;
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
		if ((rc = check_plain(l, k, field)))
			return rc;
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

	if ((rc = check_plain(l, seq, field)))
		return rc;
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
	if (rc)
		return rc;
	/* Confined to the release file's tree (ota_manifest_resolve). */
	l->m->images[l->m->n_images - 1].root = strdup(l->dir);
	if (!l->m->images[l->m->n_images - 1].root)
		return ota_error(OTA_EINTERNAL, "out of memory");
	return 0;
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

static int yaml_problem(struct loader *l, const yaml_parser_t *p)
{
	return ota_error(OTA_EINPUT, "%s:%zu:%zu: invalid YAML: %s%s%s",
			 l->file, p->problem_mark.line + 1,
			 p->problem_mark.column + 1,
			 p->problem ? p->problem : "error",
			 p->context ? " " : "", p->context ? p->context : "");
}

/* One open list or mapping, and a mapping's key waiting for its value. */
struct frame {
	int id;
	int key;
};

/* Adds node id to the open collection (the first node is the root). */
static int attach(struct loader *l, struct frame *top, int id)
{
	yaml_node_t *parent;

	if (!top)
		return 1;
	parent = node_at(l, top->id);
	if (parent->type == YAML_SEQUENCE_NODE)
		return yaml_document_append_sequence_item(&l->doc, top->id, id);
	if (!top->key) {
		top->key = id;
		return 1;
	}
	id = yaml_document_append_mapping_pair(&l->doc, top->id, top->key, id);
	top->key = 0;
	return id;
}

/*
 * Composes the first document of the stream from libyaml's events into
 * l->doc, within YAML_DEPTH_MAX and YAML_NODES_MAX; *got is false for a
 * stream without a document.
 */
static int compose(struct loader *l, yaml_parser_t *p, bool *got)
{
	struct frame stack[YAML_DEPTH_MAX];
	size_t depth = 0;
	yaml_event_t ev;
	int rc = 0;

	*got = false;
	for (;;) {
		const yaml_char_t *tag = NULL, *anchor = NULL;
		int id = 0;

		if (!yaml_parser_parse(p, &ev))
			return yaml_problem(l, p);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (!yaml_document_initialize(&l->doc, NULL, NULL, NULL,
						      1, 1))
				rc = ota_error(OTA_EINTERNAL, "out of memory");
			*got = rc == 0;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (l->n_nodes == YAML_NODES_MAX) {
				rc = ota_error(
				    OTA_EINPUT,
				    "%s:%zu:%zu: more than %d YAML nodes "
				    "(values, lists and mappings); a release "
				    "file needs far fewer",
				    l->file, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, YAML_NODES_MAX);
				break;
			}
			if (ev.type == YAML_ALIAS_EVENT) {
				anchor = ev.data.alias.anchor;
				id = yaml_document_add_scalar(
				    &l->doc, NULL, anchor, -1,
				    YAML_PLAIN_SCALAR_STYLE);
			} else if (ev.type == YAML_SCALAR_EVENT) {
				tag = ev.data.scalar.tag;
				anchor = ev.data.scalar.anchor;
				id = yaml_document_add_scalar(
				    &l->doc, tag, ev.data.scalar.value,
				    (int)ev.data.scalar.length,
				    ev.data.scalar.style);
			} else if (depth == YAML_DEPTH_MAX) {
				rc = ota_error(
				    OTA_EINPUT,
				    "%s:%zu:%zu: lists and mappings nested "
				    "deeper than %d levels; a release file "
				    "needs three",
				    l->file, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, YAML_DEPTH_MAX);
				break;
			} else if (ev.type == YAML_SEQUENCE_START_EVENT) {
				tag = ev.data.sequence_start.tag;
				anchor = ev.data.sequence_start.anchor;
				id = yaml_document_add_sequence(
				    &l->doc, tag, ev.data.sequence_start.style);
			} else {
				tag = ev.data.mapping_start.tag;
				anchor = ev.data.mapping_start.anchor;
				id = yaml_document_add_mapping(
				    &l->doc, tag, ev.data.mapping_start.style);
			}
			if (!id ||
			    !attach(l, depth ? &stack[depth - 1] : NULL, id)) {
				rc = ota_error(OTA_EINTERNAL, "out of memory");
				break;
			}
			l->n_nodes++;
			node_at(l, id)->start_mark = ev.start_mark;
			node_at(l, id)->end_mark = ev.end_mark;
			l->flags[id] =
			    (unsigned char)((ev.type == YAML_ALIAS_EVENT
						 ? NODE_ALIAS
						 : 0) |
					    (tag ? NODE_TAGGED : 0) |
					    (anchor &&
						     ev.type != YAML_ALIAS_EVENT
						 ? NODE_ANCHORED
						 : 0));
			if (ev.type == YAML_SEQUENCE_START_EVENT ||
			    ev.type == YAML_MAPPING_START_EVENT) {
				stack[depth].id = id;
				stack[depth].key = 0;
				depth++;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (rc)
			return rc;
	}
}

int ota_manifest_load_yaml(struct ota_manifest *m, const char *path)
{
	struct loader *l;
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_node_t *root;
	char *dircopy = NULL, *text = NULL;
	size_t len = 0;
	bool have_doc = false;
	int rc;

	/* Through fileio: a FIFO or a directory is refused before any read. */
	if ((rc =
		 ota_file_read_small(&text, &len, path, OTA_MANIFEST_MAX_FILE)))
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l || !yaml_parser_initialize(&parser)) {
		free(l);
		free(text);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	l->file = path;
	l->m = m;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if ((rc = compose(l, &parser, &have_doc)))
		goto out;
	root = have_doc ? yaml_document_get_root_node(&l->doc) : NULL;
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
	l->dir = dirname(dircopy);
	rc = walk_mapping(l, root, "", top_keys,
			  sizeof(top_keys) / sizeof(top_keys[0]), top_field,
			  NULL);
	if (rc)
		goto out;
	/* A second document would be ignored: refuse it instead. */
	if (!yaml_parser_parse(&parser, &ev)) {
		rc = yaml_problem(l, &parser);
		goto out;
	}
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		rc = ota_error(OTA_EINPUT,
			       "%s:%zu:%zu: a second YAML document; a release "
			       "file holds one",
			       path, ev.start_mark.line + 1,
			       ev.start_mark.column + 1);
	yaml_event_delete(&ev);
out:
	if (have_doc)
		yaml_document_delete(&l->doc);
	yaml_parser_delete(&parser);
	free(l);
	free(text);
	free(dircopy);
	return rc;
}
