/*
 * Canonical JSON for manifests (otatool-manifest(5)): keys in a fixed order,
 * 2-space indent, UTF-8, final newline, so equal manifests are equal bytes.
 */
#include "json_priv.h"
#include "manifest_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/hex.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* jansson refuses invalid UTF-8 in json_string(): say so by field. */
static int put_str(json_t *obj, const char *key, const char *value)
{
	json_t *s;

	if (!value || !*value)
		return json_object_set_new(obj, key, json_null()) ? -1 : 0;
	s = json_string(value);
	if (!s)
		return ota_error(OTA_EINPUT, "field \"%s\": not valid UTF-8",
				 key);
	return json_object_set_new(obj, key, s) ? -1 : 0;
}

static int put_semver(json_t *obj, const char *key, bool has,
		      const struct ota_semver *v)
{
	char buf[OTA_SEMVER_MAX * 2 + 3];

	if (!has)
		return json_object_set_new(obj, key, json_null()) ? -1 : 0;
	if (ota_semver_format(buf, sizeof(buf), v))
		return -1;
	return put_str(obj, key, buf);
}

static json_t *git_json(const struct ota_git_info *g)
{
	json_t *o = json_object();

	if (!o || put_str(o, "commit", g->commit) ||
	    put_str(o, "short", g->short_id) ||
	    put_str(o, "branch", g->branch) || put_str(o, "tag", g->tag) ||
	    put_str(o, "describe", g->describe) ||
	    json_object_set_new(o, "dirty", json_boolean(g->dirty))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *image_json(const struct ota_image *img)
{
	char hex[OTA_DIGEST_MAX * 2 + 1], addr[19];
	json_t *o = json_object(), *d = json_object();

	ota_hex_encode(hex, img->digest.bytes, img->digest.len);
	snprintf(addr, sizeof(addr), "0x%08llx",
		 (unsigned long long)img->load_address);
	if (!o || !d || put_str(o, "name", img->name) ||
	    put_str(o, "kind", img->kind) || put_str(o, "file", img->file) ||
	    json_object_set_new(o, "size",
				json_integer((json_int_t)img->size)) ||
	    put_str(d, "algorithm", ota_digest_alg_name(img->digest.alg)) ||
	    put_str(d, "value", hex) || json_object_set(o, "digest", d) ||
	    put_str(o, "load_address", img->has_load_address ? addr : NULL)) {
		json_decref(o);
		json_decref(d);
		return NULL;
	}
	json_decref(d);
	return o;
}

static json_t *manifest_json(const struct ota_manifest *m)
{
	json_t *root = json_object(), *build = json_object();
	json_t *hw = json_array(), *deps = json_array(), *imgs = json_array();
	json_t *git = NULL;
	size_t i;

	if (!root || !build || !hw || !deps || !imgs)
		goto fail;
	for (i = 0; i < m->n_hardware; i++)
		if (json_array_append_new(hw, json_string(m->hardware[i])))
			goto fail;
	for (i = 0; i < m->n_dependencies; i++) {
		json_t *d = json_object();

		if (!d || put_str(d, "name", m->dependencies[i].name) ||
		    put_str(d, "range", m->dependencies[i].range) ||
		    json_array_append_new(deps, d)) {
			json_decref(d);
			goto fail;
		}
	}
	for (i = 0; i < m->n_images; i++) {
		json_t *img = image_json(&m->images[i]);

		if (!img || json_array_append_new(imgs, img))
			goto fail;
	}
	git = git_json(&m->git);
	if (!git || put_str(build, "time", m->build_time) ||
	    put_str(build, "machine", m->build_machine) ||
	    put_str(build, "otatool", m->tool_version))
		goto fail;
	if (put_str(root, "format", OTA_MANIFEST_FORMAT) ||
	    put_str(root, "name", m->name) ||
	    put_semver(root, "version", m->has_version, &m->version) ||
	    json_object_set(root, "git", git) ||
	    json_object_set(root, "build", build) ||
	    json_object_set(root, "hardware", hw) ||
	    put_semver(root, "bootloader_min", m->has_bootloader_min,
		       &m->bootloader_min) ||
	    json_object_set_new(root, "security_counter",
				json_integer(m->security_counter)) ||
	    json_object_set(root, "dependencies", deps) ||
	    json_object_set(root, "images", imgs))
		goto fail;
	json_decref(git);
	json_decref(build);
	json_decref(hw);
	json_decref(deps);
	json_decref(imgs);
	return root;
fail:
	json_decref(git);
	json_decref(build);
	json_decref(hw);
	json_decref(deps);
	json_decref(imgs);
	json_decref(root);
	return NULL;
}

int ota_manifest_to_json(char **out, size_t *len, const struct ota_manifest *m)
{
	json_t *root;
	int rc;

	ota_error_clear();
	root = manifest_json(m);
	if (!root)
		return ota_error_code()
			   ? ota_error_code()
			   : ota_error(OTA_EINTERNAL, "out of memory");
	rc = ota_json_canonical(out, len, root);
	json_decref(root);
	return rc;
}

/* Reading back ------------------------------------------------------------ */

struct reader {
	const char *file;
	char origin[512];
};

static const char *at(struct reader *r, const char *field)
{
	snprintf(r->origin, sizeof(r->origin), "%s: %s", r->file,
		 *field ? field : "(top level)");
	return r->origin;
}

static int get_str(struct reader *r, json_t *obj, const char *key,
		   const char *field, bool nullable, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return ota_error(OTA_EINPUT, "%s: missing", at(r, field));
	if (json_is_null(v) && nullable)
		return 0;
	if (!json_is_string(v))
		return ota_error(OTA_EINPUT, "%s: expected a string%s",
				 at(r, field), nullable ? " or null" : "");
	*out = json_string_value(v);
	return 0;
}

static int get_uint(struct reader *r, json_t *obj, const char *key,
		    const char *field, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return ota_error(OTA_EINPUT,
				 "%s: expected an integer from 0 to %llu",
				 at(r, field), (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Only the keys otatool writes: a signed manifest has no room for extras. */
static int only_keys(struct reader *r, json_t *obj, const char *field,
		     const char *const *keys, size_t n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return ota_error(OTA_EINPUT, "%s: expected an object",
				 at(r, field));
	json_object_foreach(obj, key, v)
	{
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == n)
			return ota_error(OTA_EINPUT, "%s%s%s: unknown key",
					 at(r, field), *field ? "." : "", key);
	}
	return 0;
}

static int read_git(struct reader *r, struct ota_manifest *m, json_t *git)
{
	static const char *const keys[] = { "commit", "short",    "branch",
					    "tag",    "describe", "dirty" };
	const char *s;
	json_t *dirty;
	int rc;

	if ((rc = only_keys(r, git, "git", keys, 6)) ||
	    (rc = get_str(r, git, "commit", "git.commit", false, &s)) ||
	    (rc = manifest_set_git(m, "commit", s, at(r, "git.commit"))))
		return rc;
	if ((rc = get_str(r, git, "short", "git.short", false, &s)))
		return rc;
	if (strlen(s) < 4 || strncmp(s, m->git.commit, strlen(s)) != 0)
		return ota_error(OTA_EINPUT, "%s: not a prefix of git.commit",
				 at(r, "git.short"));
	memcpy(m->git.short_id, s, strlen(s) + 1);
	for (size_t i = 2; i < 5; i++) {
		char field[32];

		snprintf(field, sizeof(field), "git.%s", keys[i]);
		if ((rc = get_str(r, git, keys[i], field, true, &s)))
			return rc;
		if (s && (rc = manifest_set_git(m, keys[i], s, at(r, field))))
			return rc;
	}
	dirty = json_object_get(git, "dirty");
	if (!json_is_boolean(dirty))
		return ota_error(OTA_EINPUT, "%s: expected true or false",
				 at(r, "git.dirty"));
	m->git.dirty = json_is_true(dirty);
	return 0;
}

static int read_build(struct reader *r, struct ota_manifest *m, json_t *build)
{
	static const char *const keys[] = { "time", "machine", "otatool" };
	const char *t, *mach, *tool;
	int rc;

	if ((rc = only_keys(r, build, "build", keys, 3)) ||
	    (rc = get_str(r, build, "time", "build.time", false, &t)) ||
	    (rc =
		 get_str(r, build, "machine", "build.machine", false, &mach)) ||
	    (rc =
		 get_str(r, build, "otatool", "build.otatool", false, &tool)) ||
	    (rc = ota_manifest_set(m, "build-time", t, at(r, "build.time"))) ||
	    (rc =
		 ota_manifest_set(m, "build-id", mach, at(r, "build.machine"))))
		return rc;
	m->tool_version = strdup(tool);
	return m->tool_version ? 0 : ota_error(OTA_EINTERNAL, "out of memory");
}

static int hex_decode(uint8_t *out, size_t len, const char *hex)
{
	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdef", hex[2 * i]) ||
		    !strchr("0123456789abcdef", hex[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int read_image(struct reader *r, struct ota_manifest *m, json_t *img,
		      size_t idx, const char *dir)
{
	static const char *const keys[] = { "name", "kind",   "file",
					    "size", "digest", "load_address" };
	static const char *const dkeys[] = { "algorithm", "value" };
	const char *name, *kind, *file, *load, *alg, *value;
	char field[64], sub[96], *path;
	struct ota_image *dst;
	uint64_t size, addr = 0;
	json_t *digest;
	int rc;

	snprintf(field, sizeof(field), "images[%zu]", idx);
#define F(key) (snprintf(sub, sizeof(sub), "%s.%s", field, key), sub)
	if ((rc = only_keys(r, img, field, keys, 6)) ||
	    (rc = get_str(r, img, "name", F("name"), false, &name)) ||
	    (rc = get_str(r, img, "kind", F("kind"), false, &kind)) ||
	    (rc = get_str(r, img, "file", F("file"), false, &file)) ||
	    (rc = get_uint(r, img, "size", F("size"), INT64_MAX, &size)) ||
	    (rc = get_str(r, img, "load_address", F("load_address"), true,
			  &load)))
		return rc;
	if (load && (rc = ota_parse_uint(&addr, load, UINT64_MAX,
					 at(r, F("load_address")))))
		return rc;
	digest = json_object_get(img, "digest");
	if ((rc = only_keys(r, digest, F("digest"), dkeys, 2)) ||
	    (rc = get_str(r, digest, "algorithm", F("digest.algorithm"), false,
			  &alg)) ||
	    (rc =
		 get_str(r, digest, "value", F("digest.value"), false, &value)))
		return rc;
#undef F
	path = manifest_join_path(dir, file);
	if (!path)
		return ota_error(OTA_EINTERNAL, "out of memory");
	rc = manifest_add_image(m, name, kind, file, path, load != NULL, addr,
				at(r, field));
	free(path);
	if (rc)
		return rc;
	dst = &m->images[m->n_images - 1];
	dst->size = size;
	if ((rc = ota_digest_alg_parse(&dst->digest.alg, alg)))
		return ota_error_wrap(rc, "%s.digest.algorithm", at(r, field));
	dst->digest.len = ota_digest_alg_size(dst->digest.alg);
	if (hex_decode(dst->digest.bytes, dst->digest.len, value))
		return ota_error(OTA_EINPUT,
				 "%s.digest.value: expected %zu lower-case hex "
				 "digits",
				 at(r, field), 2 * dst->digest.len);
	return 0;
}

static int read_root(struct reader *r, struct ota_manifest *m, json_t *root,
		     const char *dir)
{
	static const char *const keys[] = {
		"format",         "name",
		"version",        "git",
		"build",          "hardware",
		"bootloader_min", "security_counter",
		"dependencies",   "images"
	};
	const char *s;
	uint64_t n;
	json_t *list, *v;
	size_t i;
	int rc;

	if ((rc = only_keys(r, root, "", keys, 10)) ||
	    (rc = get_str(r, root, "format", "format", false, &s)))
		return rc;
	if (strcmp(s, OTA_MANIFEST_FORMAT) != 0)
		return ota_error(OTA_EINPUT,
				 "%s: \"%s\" is not a format this otatool "
				 "reads (%s)",
				 at(r, "format"), s, OTA_MANIFEST_FORMAT);
	if ((rc = get_str(r, root, "name", "name", false, &s)) ||
	    (rc = ota_manifest_set(m, "name", s, at(r, "name"))) ||
	    (rc = get_str(r, root, "version", "version", false, &s)) ||
	    (rc = ota_manifest_set(m, "version", s, at(r, "version"))) ||
	    (rc = read_git(r, m, json_object_get(root, "git"))) ||
	    (rc = read_build(r, m, json_object_get(root, "build"))) ||
	    (rc = get_str(r, root, "bootloader_min", "bootloader_min", true,
			  &s)) ||
	    (s && (rc = ota_manifest_set(m, "bootloader-min", s,
					 at(r, "bootloader_min")))) ||
	    (rc = get_uint(r, root, "security_counter", "security_counter",
			   UINT32_MAX, &n)))
		return rc;
	m->security_counter = (uint32_t)n;

	list = json_object_get(root, "hardware");
	if (!json_is_array(list) || json_array_size(list) == 0)
		return ota_error(OTA_EINPUT, "%s: expected a non-empty list",
				 at(r, "hardware"));
	json_array_foreach(list, i, v)
	{
		if (!json_is_string(v))
			return ota_error(OTA_EINPUT,
					 "%s[%zu]: expected a string",
					 at(r, "hardware"), i);
		if ((rc = ota_manifest_set(m, "hardware", json_string_value(v),
					   at(r, "hardware"))))
			return rc;
	}
	list = json_object_get(root, "dependencies");
	if (!json_is_array(list))
		return ota_error(OTA_EINPUT, "%s: expected a list",
				 at(r, "dependencies"));
	json_array_foreach(list, i, v)
	{
		static const char *const dkeys[] = { "name", "range" };
		const char *name, *range;
		char field[64];

		snprintf(field, sizeof(field), "dependencies[%zu]", i);
		if ((rc = only_keys(r, v, field, dkeys, 2)) ||
		    (rc = get_str(r, v, "name", field, false, &name)) ||
		    (rc = get_str(r, v, "range", field, false, &range)) ||
		    (rc =
			 manifest_add_dependency(m, name, range, at(r, field))))
			return rc;
	}
	list = json_object_get(root, "images");
	if (!json_is_array(list) || json_array_size(list) == 0)
		return ota_error(OTA_EINPUT, "%s: expected a non-empty list",
				 at(r, "images"));
	json_array_foreach(list, i, v)
	{
		if ((rc = read_image(r, m, v, i, dir)))
			return rc;
		/* All images share the manifest's algorithm. */
		if (i == 0)
			m->digest_alg = m->images[0].digest.alg;
		else if (m->images[i].digest.alg != m->digest_alg)
			return ota_error(OTA_EINPUT,
					 "%s[%zu].digest.algorithm: differs "
					 "from images[0]",
					 at(r, "images"), i);
	}
	return 0;
}

int ota_manifest_parse_json(struct ota_manifest *m, const void *data,
			    size_t len, const char *name, const char *base_dir)
{
	struct reader r = { .file = name };
	json_error_t jerr;
	json_t *root;
	int rc;

	if (len > OTA_MANIFEST_MAX_FILE)
		return ota_error(OTA_EINPUT,
				 "%s: larger than the %u-byte manifest limit",
				 name, OTA_MANIFEST_MAX_FILE);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ota_error(OTA_EINPUT, "%s:%d:%d: invalid JSON: %s", name,
				 jerr.line, jerr.column, jerr.text);
	rc = read_root(&r, m, root, base_dir);
	json_decref(root);
	return rc;
}

int ota_manifest_load_json(struct ota_manifest *m, const char *path)
{
	char *data = NULL, *dircopy = NULL, *slash;
	size_t len = 0;
	int rc;

	if ((rc =
		 ota_file_read_small(&data, &len, path, OTA_MANIFEST_MAX_FILE)))
		return rc;
	dircopy = strdup(path);
	if (!dircopy) {
		free(data);
		return ota_error(OTA_EINTERNAL, "out of memory");
	}
	slash = strrchr(dircopy, '/');
	if (slash)
		*slash = '\0';
	rc =
	    ota_manifest_parse_json(m, data, len, path, slash ? dircopy : NULL);
	free(dircopy);
	free(data);
	return rc;
}
