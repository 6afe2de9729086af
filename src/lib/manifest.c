/* The manifest model: validated setters, completion from git and files. */
#include "manifest_priv.h"
#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/timestamp.h"
#include "otatool/version.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ota_known_kinds[] = { "bootloader", "application", "config",
					"factory-reset", NULL };

int ota_manifest_new(struct ota_manifest **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return ota_error(OTA_EINTERNAL, "out of memory");
	(*out)->digest_alg = OTA_DIGEST_SHA256;
	return 0;
}

static void free_images(struct ota_manifest *m)
{
	for (size_t i = 0; i < m->n_images; i++) {
		free(m->images[i].name);
		free(m->images[i].kind);
		free(m->images[i].file);
		free(m->images[i].path);
		free(m->images[i].root);
	}
	memset(m->images, 0, sizeof(m->images));
	m->n_images = 0;
}

static void free_dependencies(struct ota_manifest *m)
{
	for (size_t i = 0; i < m->n_dependencies; i++) {
		free(m->dependencies[i].name);
		free(m->dependencies[i].range);
	}
	memset(m->dependencies, 0, sizeof(m->dependencies));
	m->n_dependencies = 0;
}

static void free_hardware(struct ota_manifest *m)
{
	for (size_t i = 0; i < m->n_hardware; i++)
		free(m->hardware[i]);
	m->n_hardware = 0;
}

void ota_manifest_free(struct ota_manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->build_time);
	free(m->build_machine);
	free(m->tool_version);
	free_hardware(m);
	free_dependencies(m);
	free_images(m);
	free(m);
}

/* Replaces *slot with a copy of value. */
static int set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return ota_error(OTA_EINTERNAL, "out of memory");
	free(*slot);
	*slot = copy;
	return 0;
}

/*
 * Names, hardware ids and kinds end up in file names, URLs and bootloader
 * TLVs: keep them to a portable character set and a bounded length.
 */
int manifest_check_id(const char *s, const char *what, const char *origin)
{
	size_t len = strlen(s);

	if (len == 0)
		return ota_error(OTA_EINPUT, "%s: empty %s", origin, what);
	if (len > OTA_ID_MAX)
		return ota_error(OTA_EINPUT,
				 "%s: %s \"%.20s...\" is longer than %d "
				 "characters",
				 origin, what, s, OTA_ID_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || (i > 0 && strchr("._-", c)))
			continue;
		return ota_error(OTA_EINPUT,
				 "%s: %s \"%s\" has an invalid character at "
				 "offset %zu (allowed: letters, digits, and "
				 "'.', '_', '-' after the first)",
				 origin, what, s, i);
	}
	return 0;
}

static int parse_semver_field(struct ota_semver *out, const char *value,
			      const char *origin)
{
	int rc = ota_semver_parse(out, value);

	return rc ? ota_error_wrap(rc, "%s", origin) : 0;
}

char *manifest_join_path(const char *dir, const char *file)
{
	size_t need;
	char *p;

	if (!dir || file[0] == '/')
		return strdup(file);
	need = strlen(dir) + strlen(file) + 2;
	p = malloc(need);
	if (p)
		snprintf(p, need, "%s/%s", dir, file);
	return p;
}

static int check_kind(const char *kind, const char *origin)
{
	for (size_t i = 0; ota_known_kinds[i]; i++)
		if (strcmp(kind, ota_known_kinds[i]) == 0)
			return 0;
	/* A custom kind: lower case, so kinds compare without surprises. */
	for (const char *p = kind; *p; p++)
		if (isupper((unsigned char)*p) ||
		    !(isalnum((unsigned char)*p) || *p == '-'))
			return ota_error(OTA_EINPUT,
					 "%s: image kind \"%s\" is neither a "
					 "known kind (bootloader, application, "
					 "config, factory-reset) nor a custom "
					 "kind of lower-case letters, digits "
					 "and '-'",
					 origin, kind);
	return manifest_check_id(kind, "image kind", origin);
}

int manifest_add_image(struct ota_manifest *m, const char *name,
		       const char *kind, const char *file, const char *path,
		       bool has_load, uint64_t load, const char *origin)
{
	struct ota_image *img;
	int rc;

	if ((rc = manifest_check_id(name, "image name", origin)) ||
	    (rc = check_kind(kind, origin)))
		return rc;
	if (!*file)
		return ota_error(OTA_EINPUT,
				 "%s: image \"%s\" has an empty file", origin,
				 name);
	for (size_t i = 0; i < m->n_images; i++)
		if (strcmp(m->images[i].name, name) == 0)
			return ota_error(OTA_EINPUT,
					 "%s: duplicate image name \"%s\"",
					 origin, name);
	if (m->n_images == OTA_MANIFEST_MAX_ITEMS)
		return ota_error(OTA_EINPUT, "%s: more than %d images", origin,
				 OTA_MANIFEST_MAX_ITEMS);
	img = &m->images[m->n_images];
	img->name = strdup(name);
	img->kind = strdup(kind);
	img->file = strdup(file);
	img->path = strdup(path);
	img->has_load_address = has_load;
	img->load_address = load;
	m->n_images++;
	if (!img->name || !img->kind || !img->file || !img->path)
		return ota_error(OTA_EINTERNAL, "out of memory");
	return 0;
}

int manifest_add_dependency(struct ota_manifest *m, const char *name,
			    const char *range, const char *origin)
{
	struct ota_semver_range *r = NULL;
	struct ota_dependency *dep;
	int rc;

	if ((rc = manifest_check_id(name, "dependency name", origin)))
		return rc;
	rc = ota_semver_range_parse(&r, range);
	ota_semver_range_free(r);
	if (rc)
		return ota_error_wrap(rc, "%s: dependency \"%s\"", origin,
				      name);
	for (size_t i = 0; i < m->n_dependencies; i++)
		if (strcmp(m->dependencies[i].name, name) == 0)
			return ota_error(OTA_EINPUT,
					 "%s: duplicate dependency \"%s\"",
					 origin, name);
	if (m->n_dependencies == OTA_MANIFEST_MAX_ITEMS)
		return ota_error(OTA_EINPUT, "%s: more than %d dependencies",
				 origin, OTA_MANIFEST_MAX_ITEMS);
	dep = &m->dependencies[m->n_dependencies++];
	dep->name = strdup(name);
	dep->range = strdup(range);
	if (!dep->name || !dep->range)
		return ota_error(OTA_EINTERNAL, "out of memory");
	return 0;
}

static int add_hardware(struct ota_manifest *m, const char *id,
			const char *origin)
{
	int rc;

	if ((rc = manifest_check_id(id, "hardware id", origin)))
		return rc;
	for (size_t i = 0; i < m->n_hardware; i++)
		if (strcmp(m->hardware[i], id) == 0)
			return ota_error(OTA_EINPUT,
					 "%s: duplicate hardware id \"%s\"",
					 origin, id);
	if (m->n_hardware == OTA_MANIFEST_MAX_ITEMS)
		return ota_error(OTA_EINPUT, "%s: more than %d hardware ids",
				 origin, OTA_MANIFEST_MAX_ITEMS);
	m->hardware[m->n_hardware] = strdup(id);
	if (!m->hardware[m->n_hardware])
		return ota_error(OTA_EINTERNAL, "out of memory");
	m->n_hardware++;
	return 0;
}

int manifest_set_git(struct ota_manifest *m, const char *field,
		     const char *value, const char *origin)
{
	struct ota_git_info *g = &m->git;

	if (strcmp(field, "commit") == 0) {
		size_t len = strlen(value);

		if (len != 40 && len != 64)
			return ota_error(OTA_EINPUT,
					 "%s: commit \"%s\" must be 40 (SHA-1) "
					 "or 64 (SHA-256) hex digits",
					 origin, value);
		for (size_t i = 0; i < len; i++) {
			if (!isxdigit((unsigned char)value[i]))
				return ota_error(OTA_EINPUT,
						 "%s: commit \"%s\" has a "
						 "non-hex character at offset "
						 "%zu",
						 origin, value, i);
			g->commit[i] = (char)tolower((unsigned char)value[i]);
		}
		g->commit[len] = '\0';
		/* Seven digits, as git's default abbreviation. */
		snprintf(g->short_id, sizeof(g->short_id), "%.7s", g->commit);
		m->has_git = true;
		return 0;
	}
	char *dst;
	size_t cap;
	if (strcmp(field, "branch") == 0) {
		dst = g->branch;
		cap = sizeof(g->branch);
	} else if (strcmp(field, "tag") == 0) {
		dst = g->tag;
		cap = sizeof(g->tag);
	} else if (strcmp(field, "describe") == 0) {
		dst = g->describe;
		cap = sizeof(g->describe);
	} else {
		return ota_error(OTA_EINTERNAL, "%s: unknown git field %s",
				 origin, field);
	}
	if (strlen(value) >= cap)
		return ota_error(OTA_EINPUT, "%s: longer than %zu characters",
				 origin, cap - 1);
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* "NAME:KIND:FILE[:LOAD_ADDRESS]"; FILE may not contain ':' here. */
static int set_image_spec(struct ota_manifest *m, const char *spec,
			  const char *origin)
{
	char *copy = strdup(spec), *parts[4] = { 0 }, *p;
	size_t n = 0;
	uint64_t load = 0;
	int rc;

	if (!copy)
		return ota_error(OTA_EINTERNAL, "out of memory");
	/* Split by hand: strtok would swallow empty fields ("a::f"). */
	for (p = copy; n < 4; n++) {
		parts[n] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n < 2 || n > 3 || p || !*parts[0] || !*parts[1] || !*parts[2] ||
	    (n == 3 && !*parts[3])) {
		rc = ota_error(OTA_EINPUT,
			       "%s: \"%s\" is not NAME:KIND:FILE or "
			       "NAME:KIND:FILE:LOAD_ADDRESS",
			       origin, spec);
		goto out;
	}
	if (n == 3 &&
	    (rc = ota_parse_uint(&load, parts[3], UINT64_MAX, origin)))
		goto out;
	rc = manifest_add_image(m, parts[0], parts[1], parts[2], parts[2],
				n == 3, load, origin);
out:
	free(copy);
	return rc;
}

static int set_dependency_spec(struct ota_manifest *m, const char *spec,
			       const char *origin)
{
	const char *colon = strchr(spec, ':');
	char name[OTA_ID_MAX + 2];
	size_t len;

	if (!colon)
		return ota_error(OTA_EINPUT, "%s: \"%s\" is not NAME:RANGE",
				 origin, spec);
	len = (size_t)(colon - spec);
	if (len > OTA_ID_MAX)
		len = OTA_ID_MAX + 1; /* manifest_check_id reports it */
	memcpy(name, spec, len);
	name[len] = '\0';
	return manifest_add_dependency(m, name, colon + 1, origin);
}

int ota_manifest_set(struct ota_manifest *m, const char *field,
		     const char *value, const char *origin)
{
	int64_t t;
	uint64_t v;
	int rc;

	if (strcmp(field, "name") == 0) {
		if ((rc = manifest_check_id(value, "name", origin)))
			return rc;
		return set_string(&m->name, value);
	}
	if (strcmp(field, "version") == 0) {
		if ((rc = parse_semver_field(&m->version, value, origin)))
			return rc;
		m->has_version = true;
		return 0;
	}
	if (strcmp(field, "bootloader-min") == 0) {
		if ((rc =
			 parse_semver_field(&m->bootloader_min, value, origin)))
			return rc;
		m->has_bootloader_min = true;
		return 0;
	}
	if (strcmp(field, "security-counter") == 0) {
		if ((rc = ota_parse_uint(&v, value, UINT32_MAX, origin)))
			return rc;
		m->security_counter = (uint32_t)v;
		return 0;
	}
	if (strcmp(field, "digest") == 0) {
		if ((rc = ota_digest_alg_parse(&m->digest_alg, value)))
			return ota_error_wrap(rc, "%s", origin);
		return 0;
	}
	if (strcmp(field, "build-time") == 0) {
		char buf[OTA_TIMESTAMP_LEN];

		if ((rc = ota_timestamp_parse(&t, value)) ||
		    (rc = ota_timestamp_format(buf, t)))
			return ota_error_wrap(rc, "%s", origin);
		/*
		 * Parsed, so the seconds are at offset 17. A leap second
		 * has no time_t of its own: recorded, it would become the
		 * second before it.
		 */
		if (value[17] == '6' && value[18] == '0')
			return ota_error(OTA_EINPUT,
					 "%s: \"%s\" is a leap second, which "
					 "a manifest cannot record; give "
					 "the second before or after it",
					 origin, value);
		return set_string(&m->build_time, buf);
	}
	if (strcmp(field, "build-id") == 0) {
		if (!*value || strlen(value) > 255)
			return ota_error(OTA_EINPUT,
					 "%s: build id must be 1 to 255 "
					 "characters",
					 origin);
		return set_string(&m->build_machine, value);
	}
	if (strncmp(field, "git-", 4) == 0)
		return manifest_set_git(m, field + 4, value, origin);
	if (strcmp(field, "hardware") == 0)
		return add_hardware(m, value, origin);
	if (strcmp(field, "dependency") == 0)
		return set_dependency_spec(m, value, origin);
	if (strcmp(field, "image") == 0)
		return set_image_spec(m, value, origin);
	return ota_error(OTA_EINTERNAL, "unknown manifest field \"%s\"", field);
}

int ota_manifest_clear_list(struct ota_manifest *m, const char *field)
{
	if (strcmp(field, "hardware") == 0)
		free_hardware(m);
	else if (strcmp(field, "dependency") == 0)
		free_dependencies(m);
	else if (strcmp(field, "image") == 0)
		free_images(m);
	else
		return ota_error(OTA_EINTERNAL, "not a list field: %s", field);
	return 0;
}

/* A CI system's job id, so a manifest says which job built it. */
static int ci_build_id(char *buf, size_t len)
{
	static const struct {
		const char *var, *label;
	} ci[] = {
		{ "GITHUB_RUN_ID", "github" },
		{ "CI_JOB_ID", "gitlab" },
		{ "BUILDKITE_JOB_ID", "buildkite" },
		{ "CIRCLE_WORKFLOW_JOB_ID", "circleci" },
		{ "BUILD_TAG", "jenkins" },
		{ "TF_BUILD_BUILDID", "azure" },
		{ "BUILD_BUILDID", "azure" },
		{ "DRONE_BUILD_NUMBER", "drone" },
	};

	for (size_t i = 0; i < sizeof(ci) / sizeof(ci[0]); i++) {
		const char *v = getenv(ci[i].var);

		if (v && *v) {
			snprintf(buf, len, "%s:%s", ci[i].label, v);
			return 1;
		}
	}
	return 0;
}

static int resolve_build(struct ota_manifest *m)
{
	char buf[256];
	int64_t t;
	int rc;

	if (!m->build_time) {
		char ts[OTA_TIMESTAMP_LEN];

		if ((rc = ota_timestamp_build(&t)) ||
		    (rc = ota_timestamp_format(ts, t)))
			return rc;
		if ((rc = set_string(&m->build_time, ts)))
			return rc;
	}
	if (!m->build_machine) {
		if (!ci_build_id(buf, sizeof(buf))) {
			if (gethostname(buf, sizeof(buf)) != 0)
				snprintf(buf, sizeof(buf), "unknown");
			buf[sizeof(buf) - 1] = '\0';
		}
		if ((rc = set_string(&m->build_machine, buf)))
			return rc;
	}
	return set_string(&m->tool_version, OTATOOL_VERSION);
}

/*
 * A release file may only name images inside its own directory tree:
 * otherwise a hostile one has otatool hash, record and package any file
 * the user can read (a symlink to /etc/shadow, or ../../). The check is on
 * real paths, symbolic links followed; a file that does not exist is left
 * to the read, which names it.
 */
static int check_inside_root(const struct ota_image *img, const char *src)
{
	char *root = NULL, *abs = NULL;
	size_t n;
	int rc = 0;

	if (!img->root)
		return 0;
	if (!(root = realpath(img->root, NULL)))
		return ota_error(OTA_EINPUT, "%s: %s", img->root,
				 strerror(errno));
	abs = realpath(img->path, NULL);
	n = strlen(root);
	/* "/" holds everything; else root must be followed by a '/'. */
	if (abs && strcmp(root, "/") != 0 &&
	    (strncmp(abs, root, n) != 0 || abs[n] != '/'))
		rc = ota_error(OTA_EINPUT,
			       "%s: image \"%s\" (%s) resolves to %s, outside "
			       "the release file's directory %s; pass "
			       "--allow-outside to read it anyway",
			       src, img->name, img->file, abs, root);
	free(abs);
	free(root);
	return rc;
}

int ota_manifest_resolve(struct ota_manifest *m,
			 const struct ota_resolve_opts *opts)
{
	const char *git_dir = opts && opts->git_dir ? opts->git_dir : ".";
	const char *src = opts && opts->source ? opts->source : "command line";
	const struct ota_git_info *g = &m->git;
	int rc;

	if (!m->name)
		return ota_error(OTA_EINPUT,
				 "%s: missing required field \"name\" (in the "
				 "release file, or --name)",
				 src);
	if (!m->has_version)
		return ota_error(OTA_EINPUT,
				 "%s: missing required field \"version\" (in "
				 "the release file, or --release-version)",
				 src);
	if (m->n_hardware == 0)
		return ota_error(
		    OTA_EINPUT,
		    "%s: field \"hardware\" must list at least "
		    "one hardware variant (in the release file, or "
		    "--hardware)",
		    src);
	if (m->n_images == 0)
		return ota_error(OTA_EINPUT,
				 "%s: field \"images\" must list at least one "
				 "image (in the release file, or --image)",
				 src);
	for (size_t i = 0; i < m->n_images && !(opts && opts->allow_outside);
	     i++)
		if ((rc = check_inside_root(&m->images[i], src)))
			return rc;
	/* Half a git record would be silently replaced by the repository's. */
	if (!m->has_git &&
	    (g->branch[0] || g->tag[0] || g->describe[0] || g->dirty))
		return ota_error(OTA_EINPUT,
				 "%s: git branch, tag, describe or dirty given "
				 "without the commit (git.commit or "
				 "--git-commit)",
				 src);
	if (!m->has_git) {
		if ((rc = ota_git_read(&m->git, git_dir)))
			return rc;
		m->has_git = true;
		if (m->git.dirty && !(opts && opts->allow_dirty))
			return ota_error(
			    OTA_EPOLICY,
			    "%s: working tree has uncommitted "
			    "changes to tracked files; commit "
			    "them, or pass --allow-dirty to record "
			    "\"dirty\": true",
			    git_dir);
	}
	if ((rc = resolve_build(m)))
		return rc;
	for (size_t i = 0; i < m->n_images; i++) {
		struct ota_image *img = &m->images[i];

		if (opts && opts->skip_digests) {
			/* The package writer hashes while it copies. */
			if ((rc = ota_file_size(&img->size, img->path)))
				return ota_error_wrap(rc, "image \"%s\"",
						      img->name);
			img->digest.alg = m->digest_alg;
			img->digest.len = 0;
			continue;
		}
		rc = ota_digest_file(&img->digest, &img->size, m->digest_alg,
				     img->path, opts ? opts->progress : NULL,
				     opts ? opts->progress_ctx : NULL);
		if (rc)
			return ota_error_wrap(rc, "image \"%s\"", img->name);
	}
	return 0;
}

/*
 * Relative path from directory "from" to file "to", both absolute and
 * clean (realpath): drop the leading components they share, then climb
 * one ".." per component left in "from".
 */
static char *relative_path(const char *from, const char *to)
{
	const char *f = from, *t = to;
	size_t ups = 0, fl, tl;
	char *out;

	for (;;) {
		f += strspn(f, "/");
		t += strspn(t, "/");
		fl = strcspn(f, "/");
		tl = strcspn(t, "/");
		/* The file name itself is never a shared directory. */
		if (fl == 0 || fl != tl || strncmp(f, t, fl) != 0 || !t[tl])
			break;
		f += fl;
		t += tl;
	}
	for (const char *p = f + strspn(f, "/"); *p; p += strspn(p, "/")) {
		ups++;
		p += strcspn(p, "/");
	}
	out = malloc(3 * ups + strlen(t) + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < ups; i++)
		memcpy(out + 3 * i, "../", 3);
	strcpy(out + 3 * ups, t);
	return out;
}

int ota_manifest_rebase_files(struct ota_manifest *m, const char *dir)
{
	char *base = realpath(dir, NULL);
	int rc = 0;

	if (!base)
		return ota_error(OTA_EOUTPUT, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < m->n_images && rc == 0; i++) {
		char *abs = realpath(m->images[i].path, NULL), *rel;

		if (!abs) {
			rc = ota_error(OTA_EINPUT, "%s: %s", m->images[i].path,
				       strerror(errno));
			break;
		}
		rel = relative_path(base, abs);
		free(abs);
		if (!rel) {
			rc = ota_error(OTA_EINTERNAL, "out of memory");
			break;
		}
		free(m->images[i].file);
		m->images[i].file = rel;
	}
	free(base);
	return rc;
}

int ota_manifest_locate_images(struct ota_manifest *m, const char *dir)
{
	for (size_t i = 0; i < m->n_images; i++) {
		struct ota_image *img = &m->images[i];
		const char *slash = strrchr(img->file, '/');
		char *tree = manifest_join_path(dir, img->file);
		char *flat =
		    manifest_join_path(dir, slash ? slash + 1 : img->file);
		struct stat st;

		if (!tree || !flat) {
			free(tree);
			free(flat);
			return ota_error(OTA_EINTERNAL, "out of memory");
		}
		free(img->path);
		if (stat(tree, &st) != 0 && stat(flat, &st) == 0) {
			img->path = flat;
			free(tree);
		} else {
			img->path = tree;
			free(flat);
		}
	}
	return 0;
}

int ota_manifest_check_image(const struct ota_manifest *m, size_t index,
			     ota_progress_fn progress, void *progress_ctx)
{
	const struct ota_image *img;
	struct ota_digest d;
	uint64_t size = 0;
	int rc;

	if (index >= m->n_images)
		return ota_error(OTA_EINTERNAL,
				 "image %zu: the manifest has %zu images",
				 index, m->n_images);
	img = &m->images[index];
	rc = ota_digest_file(&d, &size, img->digest.alg, img->path, progress,
			     progress_ctx);
	if (rc)
		return ota_error_wrap(rc, "image \"%s\"", img->name);
	if (size != img->size || d.len != img->digest.len ||
	    memcmp(d.bytes, img->digest.bytes, d.len) != 0)
		return ota_error(OTA_EVERIFY,
				 "image \"%s\" (%s): %s differs from the "
				 "manifest; the file changed after the "
				 "manifest was made",
				 img->name, img->path,
				 size != img->size ? "size" : "digest");
	return 0;
}

int ota_manifest_check_images(const struct ota_manifest *m,
			      ota_progress_fn progress, void *progress_ctx)
{
	for (size_t i = 0; i < m->n_images; i++) {
		int rc = ota_manifest_check_image(m, i, progress, progress_ctx);

		if (rc)
			return rc;
	}
	return 0;
}

int ota_manifest_check_previous(const struct ota_manifest *m,
				const struct ota_manifest *prev,
				const char *prev_name)
{
	char a[OTA_SEMVER_MAX * 2 + 3], b[OTA_SEMVER_MAX * 2 + 3];

	if (m->security_counter < prev->security_counter)
		return ota_error(OTA_EROLLBACK,
				 "security_counter %u is lower than %u in %s "
				 "(anti-rollback counters never go down)",
				 m->security_counter, prev->security_counter,
				 prev_name);
	if (ota_semver_compare(&m->version, &prev->version) <= 0) {
		ota_semver_format(a, sizeof(a), &m->version);
		ota_semver_format(b, sizeof(b), &prev->version);
		return ota_error(OTA_EDOWNGRADE,
				 "version %s is not higher than %s in %s", a, b,
				 prev_name);
	}
	return 0;
}
