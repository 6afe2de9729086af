/*
 * Unit tests for the manifest module (src/lib/manifest*.c): release
 * descriptions in YAML, field setters, resolution, canonical JSON and the
 * anti-rollback check.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "otatool/error.h"
#include "otatool/hex.h"
#include "otatool/manifest.h"
#include "otatool/version.h"

#include "tmpdir.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define HELLO_SHA256                                                           \
	"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static char tmpdir[64];
static char saved_cwd[4096];

/* CI variables ota_manifest_resolve() reads for the build machine. */
static const char *const ci_vars[] = {
	"GITHUB_RUN_ID",          "CI_JOB_ID",          "BUILDKITE_JOB_ID",
	"CIRCLE_WORKFLOW_JOB_ID", "BUILD_TAG",          "TF_BUILD_BUILDID",
	"BUILD_BUILDID",          "DRONE_BUILD_NUMBER",
};

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "manifest");
	cr_assert_not_null(getcwd(saved_cwd, sizeof(saved_cwd)));
	/* The tests decide the build time and machine themselves. */
	unsetenv("SOURCE_DATE_EPOCH");
	for (size_t i = 0; i < sizeof(ci_vars) / sizeof(ci_vars[0]); i++)
		unsetenv(ci_vars[i]);
}

/*
 * What a test allocates is registered here and released in .fini, so a
 * failed assertion (which skips the rest of the test) leaks nothing under
 * LeakSanitizer.
 */
#define LIVE_MAX 32
static struct ota_manifest *live_manifests[LIVE_MAX];
static void *live_buffers[LIVE_MAX];

static void *track(void **slots, void *p)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if (!slots[i]) {
			slots[i] = p;
			return p;
		}
	}
	cr_assert_fail("more than %d live allocations", LIVE_MAX);
	return p;
}

static int untrack(void **slots, void *p)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if (p && slots[i] == p) {
			slots[i] = NULL;
			return 1;
		}
	}
	return 0;
}

/* Frees a manifest from new_manifest() now rather than in .fini. */
static void drop_manifest(struct ota_manifest *m)
{
	cr_assert(untrack((void **)live_manifests, m), "untracked manifest");
	ota_manifest_free(m);
}

/* Frees a buffer from read_file(), to_json() or edit(). */
static void drop(void *p)
{
	cr_assert(untrack(live_buffers, p), "untracked buffer");
	free(p);
}

static void teardown(void)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		ota_manifest_free(live_manifests[i]);
		live_manifests[i] = NULL;
		free(live_buffers[i]);
		live_buffers[i] = NULL;
	}
	if (saved_cwd[0] && chdir(saved_cwd) != 0)
		cr_log_warn("cannot return to %s", saved_cwd);
	if (tmpdir[0])
		tmpdir_remove(tmpdir);
}

TestSuite(manifest, .init = setup, .fini = teardown);
TestSuite(manifest_hostile, .init = setup, .fini = teardown, .timeout = 60);

/* Helpers ---------------------------------------------------------------- */

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	if (*text)
		cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return track(live_buffers, buf);
}

static struct ota_manifest *new_manifest(void)
{
	struct ota_manifest *m = NULL;

	cr_assert_eq(ota_manifest_new(&m), 0);
	cr_assert_not_null(m);
	return track((void **)live_manifests, m);
}

static void must_contain(const char *hay, const char *needle)
{
	cr_assert_not_null(strstr(hay, needle), "\"%s\" not in: %s", needle,
			   hay);
}

static void set_ok(struct ota_manifest *m, const char *field, const char *value)
{
	int rc = ota_manifest_set(m, field, value, "--test");

	cr_assert_eq(rc, 0, "%s=%s: %s", field, value, ota_error_message());
}

/* A bad value: OTA_EINPUT, and the message says where it came from. */
static void set_bad(struct ota_manifest *m, const char *field,
		    const char *value, const char *why)
{
	int rc = ota_manifest_set(m, field, value, "--origin-opt");

	cr_assert_eq(rc, OTA_EINPUT, "%s=\"%s\": rc %d", field, value, rc);
	cr_assert_eq(strncmp(ota_error_message(), "--origin-opt: ", 14), 0,
		     "%s=\"%s\": message does not start with the origin: %s",
		     field, value, ota_error_message());
	if (why)
		must_contain(ota_error_message(), why);
}

/* YAML loading ----------------------------------------------------------- */

static const char good_yaml[] =
    "# a release description\n"
    "name: acme-fw\n"
    "version: 2.4.1-rc.1+build.7\n"
    "hardware:\n"
    "  - rev-b\n"
    "  - rev-c\n"
    "bootloader_min: 1.2.0\n"
    "security_counter: 4294967295\n"
    "digest: sha384\n"
    "dependencies:\n"
    "  - name: radio-fw\n"
    "    range: \">=2.1.0 <3.0.0\"\n"
    "  - name: modem\n"
    "    range: ^1.4.0\n"
    "images:\n"
    "  - name: boot\n"
    "    kind: bootloader\n"
    "    file: images/boot.bin\n"
    "    load_address: 0x0800_0000\n"
    "  - name: app\n"
    "    file: app.bin\n"
    "  - name: extra\n"
    "    kind: dsp-firmware\n"
    "    file: /opt/fw/dsp.bin\n"
    "    load_address: 4096\n"
    "git:\n"
    "  commit: 0123456789ABCDEF0123456789abcdef01234567\n"
    "  branch: main\n"
    "  tag: v2.4.1-rc.1\n"
    "  describe: v2.4.1-rc.1-3-g0123456\n"
    "  dirty: true\n"
    "build:\n"
    "  time: 2026-11-24T10:00:00+01:00\n"
    "  id: builder-3\n";

Test(manifest, yaml_fields_land_in_struct)
{
	struct ota_manifest *m = new_manifest();
	char path[128], want[160];

	tmp_path(path, sizeof(path), "release.yaml");
	write_file(path, good_yaml);
	cr_assert_eq(ota_manifest_load_yaml(m, path), 0, "%s",
		     ota_error_message());

	cr_assert_str_eq(m->name, "acme-fw");
	cr_assert(m->has_version);
	cr_assert_eq(m->version.major, 2);
	cr_assert_eq(m->version.minor, 4);
	cr_assert_eq(m->version.patch, 1);
	cr_assert_str_eq(m->version.pre, "rc.1");
	cr_assert_str_eq(m->version.build, "build.7");
	cr_assert_eq(m->n_hardware, 2);
	cr_assert_str_eq(m->hardware[0], "rev-b");
	cr_assert_str_eq(m->hardware[1], "rev-c");
	cr_assert(m->has_bootloader_min);
	cr_assert_eq(m->bootloader_min.major, 1);
	cr_assert_eq(m->bootloader_min.minor, 2);
	cr_assert_eq(m->bootloader_min.patch, 0);
	cr_assert_eq(m->security_counter, UINT32_MAX);
	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA384);

	cr_assert_eq(m->n_dependencies, 2);
	cr_assert_str_eq(m->dependencies[0].name, "radio-fw");
	cr_assert_str_eq(m->dependencies[0].range, ">=2.1.0 <3.0.0");
	cr_assert_str_eq(m->dependencies[1].name, "modem");
	cr_assert_str_eq(m->dependencies[1].range, "^1.4.0");

	cr_assert_eq(m->n_images, 3);
	cr_assert_str_eq(m->images[0].name, "boot");
	cr_assert_str_eq(m->images[0].kind, "bootloader");
	cr_assert_str_eq(m->images[0].file, "images/boot.bin");
	snprintf(want, sizeof(want), "%s/images/boot.bin", tmpdir);
	cr_assert_str_eq(m->images[0].path, want);
	cr_assert(m->images[0].has_load_address);
	cr_assert_eq(m->images[0].load_address, 0x08000000);

	cr_assert_str_eq(m->images[1].name, "app");
	cr_assert_str_eq(m->images[1].kind, "application");
	cr_assert_str_eq(m->images[1].file, "app.bin");
	snprintf(want, sizeof(want), "%s/app.bin", tmpdir);
	cr_assert_str_eq(m->images[1].path, want);
	cr_assert_not(m->images[1].has_load_address);

	cr_assert_str_eq(m->images[2].kind, "dsp-firmware");
	cr_assert_str_eq(m->images[2].file, "/opt/fw/dsp.bin");
	cr_assert_str_eq(m->images[2].path, "/opt/fw/dsp.bin");
	cr_assert_eq(m->images[2].load_address, 4096);

	cr_assert(m->has_git);
	cr_assert_str_eq(m->git.commit, COMMIT);
	cr_assert_str_eq(m->git.short_id, "0123456");
	cr_assert_str_eq(m->git.branch, "main");
	cr_assert_str_eq(m->git.tag, "v2.4.1-rc.1");
	cr_assert_str_eq(m->git.describe, "v2.4.1-rc.1-3-g0123456");
	cr_assert(m->git.dirty);
	cr_assert_str_eq(m->build_time, "2026-11-24T09:00:00Z");
	cr_assert_str_eq(m->build_machine, "builder-3");
	drop_manifest(m);
}

Test(manifest, yaml_minimal_defaults)
{
	struct ota_manifest *m = new_manifest();
	char path[128];

	tmp_path(path, sizeof(path), "min.yaml");
	write_file(path, "name: fw\n"
			 "version: 1.0.0\n"
			 "hardware: [board]\n"
			 "images:\n"
			 "  - {name: app, file: app.bin}\n");
	cr_assert_eq(ota_manifest_load_yaml(m, path), 0, "%s",
		     ota_error_message());
	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA256);
	cr_assert_eq(m->security_counter, 0);
	cr_assert_not(m->has_bootloader_min);
	cr_assert_not(m->has_git);
	cr_assert_null(m->build_time);
	cr_assert_null(m->build_machine);
	cr_assert_eq(m->n_dependencies, 0);
	cr_assert_eq(m->n_images, 1);
	cr_assert_str_eq(m->images[0].kind, "application");
	drop_manifest(m);
}

/* A description named by a relative path: images are beside it, not in cwd. */
Test(manifest, yaml_relative_description_path)
{
	struct ota_manifest *m = new_manifest();
	char dir[128], path[160];

	tmp_path(dir, sizeof(dir), "release");
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/r.yaml", dir);
	write_file(path, "name: fw\nversion: 1.0.0\nhardware: [b]\n"
			 "images:\n  - {name: app, file: bin/app.bin}\n");
	cr_assert_eq(chdir(tmpdir), 0);
	cr_assert_eq(ota_manifest_load_yaml(m, "release/r.yaml"), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->images[0].file, "bin/app.bin");
	cr_assert_str_eq(m->images[0].path, "release/bin/app.bin");
	drop_manifest(m);
}

/*
 * Loads text as a description and checks the error: OTA_EINPUT, and a
 * message that starts with "FILE:LINE:COL: " and names the field.
 */
static void yaml_bad(const char *text, const char *line_col, const char *field,
		     const char *why)
{
	struct ota_manifest *m = new_manifest();
	char path[128], prefix[192];
	int rc;

	tmp_path(path, sizeof(path), "bad.yaml");
	write_file(path, text);
	rc = ota_manifest_load_yaml(m, path);
	cr_assert_eq(rc, OTA_EINPUT, "rc %d for:\n%s", rc, text);
	snprintf(prefix, sizeof(prefix), "%s:%s: ", path, line_col);
	cr_assert_eq(strncmp(ota_error_message(), prefix, strlen(prefix)), 0,
		     "message does not start with \"%s\": %s", prefix,
		     ota_error_message());
	if (field)
		must_contain(ota_error_message(), field);
	if (why)
		must_contain(ota_error_message(), why);
	drop_manifest(m);
}

Test(manifest, yaml_unknown_key_suggests)
{
	yaml_bad("name: fw\nverison: 1.0.0\n", "2:1", "verison",
		 "unknown key (did you mean \"version\"?)");
	yaml_bad("name: fw\ncolour: blue\n", "2:1", "colour", "unknown key");
	yaml_bad("images:\n  - name: app\n    knd: config\n    file: a\n",
		 "3:5", "images[0].knd", "did you mean \"kind\"?");
	yaml_bad("git:\n  comit: " COMMIT "\n", "2:3", "git.comit",
		 "did you mean \"commit\"?");
}

Test(manifest, yaml_quoted_integer)
{
	yaml_bad("name: fw\nsecurity_counter: \"7\"\n", "2:19",
		 "security_counter", "quoted");
	yaml_bad("images:\n  - name: app\n    file: a\n"
		 "    load_address: '0x100'\n",
		 "4:19", "images[0].load_address", "quoted");
}

Test(manifest, yaml_counter_over_u32)
{
	yaml_bad("security_counter: 4294967296\n", "1:19", "security_counter",
		 "out of range");
	yaml_bad("security_counter: -1\n", "1:19", "security_counter", NULL);
	yaml_bad("security_counter: 12abc\n", "1:19", "security_counter", NULL);
}

Test(manifest, yaml_bad_version)
{
	yaml_bad("name: fw\nversion: 1.0\n", "2:10", "version",
		 "invalid version");
	yaml_bad("bootloader_min: v1.0.0\n", "1:17", "bootloader_min",
		 "invalid version");
}

Test(manifest, yaml_bad_range)
{
	yaml_bad("dependencies:\n"
		 "  - name: radio-fw\n"
		 "    range: \">=2.1\"\n",
		 "2:5", "dependencies[0]", "invalid range");
}

Test(manifest, yaml_duplicate_key)
{
	yaml_bad("name: fw\nversion: 1.0.0\nname: other\n", "3:1", "name",
		 "given twice");
	yaml_bad("images:\n  - name: a\n    file: x\n    file: y\n", "4:5",
		 "images[0].file", "given twice");
}

Test(manifest, yaml_hardware_as_mapping)
{
	yaml_bad("name: fw\nhardware:\n  rev-b: yes\n", "3:3", "hardware",
		 "expected a list, found a mapping");
	yaml_bad("hardware: []\n", "1:11", "hardware", "at least one");
	yaml_bad("hardware:\n  - [a, b]\n", "2:5", "hardware[0]",
		 "found a list");
	yaml_bad("hardware:\n  - rev b\n", "2:5", "hardware[0]",
		 "invalid character");
}

Test(manifest, yaml_image_errors)
{
	yaml_bad("images:\n  - name: app\n", "2:5", "images[0]",
		 "missing required key \"file\"");
	yaml_bad("images:\n  - name: app\n    kind: Firmware\n    file: a\n",
		 "2:5", "images[0]", "image kind");
	yaml_bad("images:\n  - {name: a, file: x}\n  - {name: a, file: y}\n",
		 "3:5", "images[1]", "duplicate image name");
	yaml_bad("images: app.bin\n", "1:9", "images", "expected a list");
}

Test(manifest, yaml_other_value_errors)
{
	yaml_bad("digest: md5\n", "1:9", "digest", "md5");
	yaml_bad("name:\n", "1:6", "name", "empty value");
	yaml_bad("git:\n  dirty: yes\n", "2:10", "git.dirty", "true or false");
	yaml_bad("git:\n  commit: abc\n", "2:11", "git.commit", "hex");
	yaml_bad("build:\n  time: tomorrow\n", "2:9", "build.time",
		 "invalid timestamp");
}

/*
 * YAML features that change what a value means, or let one value stand
 * in several places, are refused where they appear, naming the field.
 */
Test(manifest, yaml_tags_anchors_aliases)
{
	yaml_bad("name: fw\nsecurity_counter: !!str 7\n", "2:19",
		 "security_counter", "YAML tags (!!str)");
	yaml_bad("name: !!binary YWJj\n", "1:7", "name",
		 "YAML tags (!!binary)");
	yaml_bad("name: !custom fw\n", "1:7", "name", "YAML tags (!custom)");
	yaml_bad("name: ! fw\n", "1:7", "name", "YAML tags (!)");
	yaml_bad("!!str name: fw\n", "1:1", "", "YAML tags (!!str)");
	yaml_bad("hardware: !!seq [a]\n", "1:11", "hardware", "YAML tags");
	yaml_bad("images:\n  - !!map {name: a, file: x}\n", "2:5", "images[0]",
		 "YAML tags (!!map)");
	yaml_bad("name: &n fw\n", "1:7", "name", "anchors");
	yaml_bad("hardware: [a, *h]\n", "1:15", "hardware[1]", "aliases (*h)");
	yaml_bad("!!map\nname: fw\n", "1:1", "(top level)", "YAML tags");
}

/*
 * Integers mean one thing: no YAML 1.1 octal (07 would be 7, but 010 is 8
 * in YAML 1.1 and 10 here), '_' only between two digits (1__0 is not 10).
 */
Test(manifest, yaml_integer_syntax_strict)
{
	yaml_bad("security_counter: 07\n", "1:19", "security_counter",
		 "leading zero");
	yaml_bad("security_counter: 010\n", "1:19", "security_counter",
		 "leading zero");
	yaml_bad("security_counter: 00\n", "1:19", "security_counter",
		 "leading zero");
	yaml_bad("security_counter: 1__0\n", "1:19", "security_counter",
		 "between two digits");
	yaml_bad("security_counter: 1_\n", "1:19", "security_counter", NULL);
	yaml_bad("images:\n  - name: app\n    file: a\n"
		 "    load_address: 0x_0800\n",
		 "4:19", "images[0].load_address", "between two digits");
	yaml_bad("images:\n  - name: app\n    file: a\n"
		 "    load_address: 0x0800__0000\n",
		 "4:19", "images[0].load_address", "between two digits");
}

/* 23:59:60 cannot be recorded to the second: refused, not moved back. */
Test(manifest, yaml_leap_second_refused)
{
	yaml_bad("build:\n  time: 2016-12-31T23:59:60Z\n", "2:9", "build.time",
		 "leap second");
}

/* path holding text of n bytes: c repeated after prefix. */
static void write_repeated(const char *path, const char *prefix,
			   const char *unit, size_t size)
{
	size_t plen = strlen(prefix), ulen = strlen(unit), n = plen;
	char *text = malloc(size + 1);

	cr_assert_not_null(text);
	memcpy(text, prefix, plen);
	while (n + ulen <= size) {
		memcpy(text + n, unit, ulen);
		n += ulen;
	}
	memset(text + n, '\n', size - n);
	text[size] = '\0';
	write_file(path, text);
	free(text);
}

static double cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * A release file of the largest size allowed, nested or wide as only a
 * hostile one is: refused quickly (libyaml alone takes quadratic time on
 * flow nesting), naming the position. The suite's timeout catches the
 * 20-minute runs this used to take.
 */
Test(manifest_hostile, huge_nesting_refused_quickly)
{
	static const struct {
		const char *prefix, *unit, *line_col, *why;
	} cases[] = {
		{ "name: ", "[", "1:70", "nested deeper than 64 levels" },
		{ "name: ", "{a: ", "1:259", "nested deeper than 64 levels" },
		{ "hardware: [", "[a, ", "1:260", "nested deeper than 64" },
		{ "name: [\n", " [\n", "64:2", "nested deeper than 64" },
		{ "hardware: [", "a, ", "1:12291",
		  "more than 4096 YAML nodes" },
		{ "dependencies:\n", "- {name: a, range: '*'}\n", "820:13",
		  "more than 4096 YAML nodes" },
	};
	char path[128], prefix[192];

	tmp_path(path, sizeof(path), "hostile.yaml");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ota_manifest *m = new_manifest();
		double t0, cpu;
		int rc;

		write_repeated(path, cases[i].prefix, cases[i].unit,
			       OTA_MANIFEST_MAX_FILE);
		t0 = cpu_seconds();
		rc = ota_manifest_load_yaml(m, path);
		cpu = cpu_seconds() - t0;
		cr_assert_eq(rc, OTA_EINPUT, "case %zu: rc %d", i, rc);
		snprintf(prefix, sizeof(prefix), "%s:%s: ", path,
			 cases[i].line_col);
		cr_assert_eq(
		    strncmp(ota_error_message(), prefix, strlen(prefix)), 0,
		    "case %zu: not \"%s\": %s", i, prefix, ota_error_message());
		must_contain(ota_error_message(), cases[i].why);
		cr_assert_lt(cpu, 0.5, "case %zu: %.2f s of CPU", i, cpu);
		drop_manifest(m);
	}
}

/* The bounds themselves: 64 levels and 4096 nodes are still read. */
Test(manifest_hostile, limits_are_exact)
{
	static char text[16384];
	size_t n;

	/* The top mapping and 63 lists: 64 levels, a schema error. */
	n = (size_t)snprintf(text, sizeof(text), "name: ");
	for (int i = 0; i < 63; i++)
		text[n++] = '[';
	for (int i = 0; i < 63; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	yaml_bad(text, "1:7", "name", "expected a value, found a list");
	/* One more list: over the limit, at its bracket. */
	n = (size_t)snprintf(text, sizeof(text), "name: ");
	for (int i = 0; i < 64; i++)
		text[n++] = '[';
	for (int i = 0; i < 64; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	yaml_bad(text, "1:70", NULL, "nested deeper than 64 levels");

	/* 1 mapping + key + list + 4093 items = 4096 nodes: read. */
	n = (size_t)snprintf(text, sizeof(text), "hardware: [");
	for (int i = 0; i < 4093; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
				      i ? ",a" : "a");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "]\n");
	cr_assert_lt(n, sizeof(text));
	yaml_bad(text, "1:14", "hardware[1]", "duplicate hardware id");
	/* One item more: the 4097th node is refused where it starts. */
	n = (size_t)snprintf(text, sizeof(text), "hardware: [");
	for (int i = 0; i < 4094; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
				      i ? ",a" : "a");
	n += (size_t)snprintf(text + n, sizeof(text) - n, "]\n");
	yaml_bad(text, "1:8198", NULL, "more than 4096 YAML nodes");
}

/* A syntax error carries the parser's position. */
Test(manifest, yaml_syntax_error_has_position)
{
	yaml_bad("name: fw\nhardware: [a, b\n", "3:1", NULL, "invalid YAML");
}

Test(manifest, yaml_non_mapping_root)
{
	yaml_bad("- name: fw\n- version: 1.0.0\n", "1:1", NULL,
		 "expected a mapping, found a list");
	yaml_bad("just text\n", "1:1", NULL,
		 "expected a mapping, found a "
		 "scalar");
}

/*
 * At the top level there is no field to name: the message must not carry
 * an empty one ("FILE:1:1: : expected ...").
 */
Test(manifest, yaml_root_message_has_no_empty_field)
{
	struct ota_manifest *m = new_manifest();
	char path[128];

	tmp_path(path, sizeof(path), "list.yaml");
	write_file(path, "- a\n- b\n");
	cr_assert_eq(ota_manifest_load_yaml(m, path), OTA_EINPUT);
	cr_assert_null(strstr(ota_error_message(), ": :"),
		       "empty field name in: %s", ota_error_message());
	drop_manifest(m);
}

Test(manifest, yaml_empty_file)
{
	struct ota_manifest *m = new_manifest();
	char path[128];

	tmp_path(path, sizeof(path), "empty.yaml");
	write_file(path, "");
	cr_assert_eq(ota_manifest_load_yaml(m, path), OTA_EINPUT);
	must_contain(ota_error_message(), path);
	must_contain(ota_error_message(), "empty");

	write_file(path, "# only a comment\n");
	cr_assert_eq(ota_manifest_load_yaml(m, path), OTA_EINPUT);
	must_contain(ota_error_message(), path);
	must_contain(ota_error_message(), "empty");
	drop_manifest(m);
}

Test(manifest, yaml_missing_file_and_directory)
{
	struct ota_manifest *m = new_manifest();
	char path[128];

	tmp_path(path, sizeof(path), "nope.yaml");
	cr_assert_eq(ota_manifest_load_yaml(m, path), OTA_EINPUT);
	must_contain(ota_error_message(), path);
	cr_assert_eq(ota_manifest_load_yaml(m, tmpdir), OTA_EINPUT);
	must_contain(ota_error_message(), tmpdir);
	drop_manifest(m);
}

/* ota_manifest_set ------------------------------------------------------- */

Test(manifest, set_name)
{
	struct ota_manifest *m = new_manifest();
	char long_id[OTA_ID_MAX + 2];

	set_ok(m, "name", "acme_fw-2.x");
	cr_assert_str_eq(m->name, "acme_fw-2.x");
	memset(long_id, 'n', OTA_ID_MAX);
	long_id[OTA_ID_MAX] = '\0';
	set_ok(m, "name", long_id);
	cr_assert_str_eq(m->name, long_id);

	set_ok(m, "name", "fw");
	set_bad(m, "name", "", "empty name");
	set_bad(m, "name", "-fw", "invalid character at offset 0");
	set_bad(m, "name", "my fw", "invalid character at offset 2");
	set_bad(m, "name", "fw/../x", "invalid character");
	long_id[OTA_ID_MAX] = 'n';
	long_id[OTA_ID_MAX + 1] = '\0';
	set_bad(m, "name", long_id, "longer than 64");
	/* A refused value leaves the previous one. */
	cr_assert_str_eq(m->name, "fw");
	drop_manifest(m);
}

Test(manifest, set_version_and_bootloader_min)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "version", "1.2.3-rc.1+b.5");
	cr_assert(m->has_version);
	cr_assert_eq(m->version.major, 1);
	cr_assert_eq(m->version.minor, 2);
	cr_assert_eq(m->version.patch, 3);
	cr_assert_str_eq(m->version.pre, "rc.1");
	cr_assert_str_eq(m->version.build, "b.5");
	set_bad(m, "version", "1.2", "invalid version");
	set_bad(m, "version", "v1.2.3", "invalid version");
	set_bad(m, "version", "01.2.3", "invalid version");
	cr_assert_eq(m->version.major, 1);
	cr_assert_eq(m->version.patch, 3);

	cr_assert_not(m->has_bootloader_min);
	set_ok(m, "bootloader-min", "0.9.12");
	cr_assert(m->has_bootloader_min);
	cr_assert_eq(m->bootloader_min.minor, 9);
	cr_assert_eq(m->bootloader_min.patch, 12);
	set_bad(m, "bootloader-min", "1", "invalid version");
	drop_manifest(m);
}

Test(manifest, set_security_counter)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "security-counter", "0");
	cr_assert_eq(m->security_counter, 0);
	set_ok(m, "security-counter", "4294967295");
	cr_assert_eq(m->security_counter, UINT32_MAX);
	set_ok(m, "security-counter", "0x10");
	cr_assert_eq(m->security_counter, 16);
	set_ok(m, "security-counter", "1_000");
	cr_assert_eq(m->security_counter, 1000);
	set_bad(m, "security-counter", "4294967296", "out of range");
	set_bad(m, "security-counter", "0x100000000", "out of range");
	set_bad(m, "security-counter", "99999999999999999999999",
		"out of range");
	set_bad(m, "security-counter", "-1", "not a non-negative integer");
	set_bad(m, "security-counter", "", "not a non-negative integer");
	set_bad(m, "security-counter", "0x", "not a non-negative integer");
	set_bad(m, "security-counter", "7 ", "not a non-negative integer");
	set_bad(m, "security-counter", "1_", "not a non-negative integer");
	set_bad(m, "security-counter", "seven", "not a non-negative integer");
	/* One syntax with the release file: no doubled or stray '_'. */
	set_bad(m, "security-counter", "1__0", "between two digits");
	set_bad(m, "security-counter", "_10", "not a non-negative integer");
	set_bad(m, "security-counter", "0x_10", "between two digits");
	set_bad(m, "security-counter", "07", "leading zero");
	set_ok(m, "security-counter", "0x07");
	cr_assert_eq(m->security_counter, 7);
	set_ok(m, "security-counter", "1_000");
	cr_assert_eq(m->security_counter, 1000);
	drop_manifest(m);
}

Test(manifest, set_digest)
{
	struct ota_manifest *m = new_manifest();

	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA256);
	set_ok(m, "digest", "sha512");
	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA512);
	set_ok(m, "digest", "sha384");
	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA384);
	set_bad(m, "digest", "md5", "unknown digest \"md5\"");
	cr_assert_eq(m->digest_alg, OTA_DIGEST_SHA384);
	drop_manifest(m);
}

Test(manifest, set_build_time_normalises_to_utc)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "build-time", "2026-11-24T10:00:00.250+01:00");
	cr_assert_str_eq(m->build_time, "2026-11-24T09:00:00Z");
	set_ok(m, "build-time", "2024-02-29t23:59:59z");
	cr_assert_str_eq(m->build_time, "2024-02-29T23:59:59Z");
	set_bad(m, "build-time", "2026-13-01T00:00:00Z", "invalid timestamp");
	set_bad(m, "build-time", "yesterday", "invalid timestamp");
	set_bad(m, "build-time", "9999-12-31T23:59:59-01:00", NULL);
	/* A leap second would be recorded as the second before it. */
	set_bad(m, "build-time", "2016-12-31T23:59:60Z", "leap second");
	set_bad(m, "build-time", "2017-01-01T00:59:60+01:00", "leap second");
	cr_assert_str_eq(m->build_time, "2024-02-29T23:59:59Z");
	drop_manifest(m);
}

Test(manifest, set_build_id)
{
	struct ota_manifest *m = new_manifest();
	char id[258];

	set_ok(m, "build-id", "gitlab:12345");
	cr_assert_str_eq(m->build_machine, "gitlab:12345");
	memset(id, 'i', 255);
	id[255] = '\0';
	set_ok(m, "build-id", id);
	cr_assert_str_eq(m->build_machine, id);
	id[255] = 'i';
	id[256] = '\0';
	set_bad(m, "build-id", id, "1 to 255");
	set_bad(m, "build-id", "", "1 to 255");
	drop_manifest(m);
}

Test(manifest, set_git_fields)
{
	struct ota_manifest *m = new_manifest();
	char sha256[65], name[258];

	cr_assert_not(m->has_git);
	set_ok(m, "git-commit", "0123456789ABCDEF0123456789ABCDEF01234567");
	cr_assert(m->has_git);
	cr_assert_str_eq(m->git.commit, COMMIT);
	cr_assert_str_eq(m->git.short_id, "0123456");
	memset(sha256, 'e', 64);
	sha256[64] = '\0';
	set_ok(m, "git-commit", sha256);
	cr_assert_str_eq(m->git.commit, sha256);
	cr_assert_str_eq(m->git.short_id, "eeeeeee");
	set_bad(m, "git-commit", "0123456789abcdef0123456789abcdef0123456",
		"40 (SHA-1) or 64 (SHA-256)");
	set_bad(m, "git-commit", "0123456789abcdef0123456789abcdef0123456g",
		"non-hex character at offset 39");
	set_bad(m, "git-commit", "", "40 (SHA-1) or 64 (SHA-256)");

	set_ok(m, "git-branch", "feature/ota");
	cr_assert_str_eq(m->git.branch, "feature/ota");
	set_ok(m, "git-tag", "v1.0.0");
	cr_assert_str_eq(m->git.tag, "v1.0.0");
	memset(name, 'b', 255);
	name[255] = '\0';
	set_ok(m, "git-branch", name);
	cr_assert_str_eq(m->git.branch, name);
	name[255] = 'b';
	name[256] = '\0';
	set_bad(m, "git-branch", name, "longer than 255");
	set_bad(m, "git-tag", name, "longer than 255");
	cr_assert_str_eq(m->git.tag, "v1.0.0");
	drop_manifest(m);
}

Test(manifest, set_hardware_appends)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "hardware", "rev-b");
	set_ok(m, "hardware", "rev-c");
	cr_assert_eq(m->n_hardware, 2);
	cr_assert_str_eq(m->hardware[0], "rev-b");
	cr_assert_str_eq(m->hardware[1], "rev-c");
	set_bad(m, "hardware", "rev-b", "duplicate hardware id \"rev-b\"");
	set_bad(m, "hardware", "rev b", "invalid character");
	set_bad(m, "hardware", "", "empty hardware id");
	cr_assert_eq(m->n_hardware, 2);
	drop_manifest(m);
}

Test(manifest, set_hardware_limit)
{
	struct ota_manifest *m = new_manifest();

	for (int i = 0; i < OTA_MANIFEST_MAX_ITEMS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "hw%d", i);
		set_ok(m, "hardware", id);
	}
	set_bad(m, "hardware", "one-more", "more than 64");
	cr_assert_eq(m->n_hardware, OTA_MANIFEST_MAX_ITEMS);
	drop_manifest(m);
}

Test(manifest, set_dependency)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "dependency", "radio-fw:>=2.1.0 <3.0.0");
	set_ok(m, "dependency", "modem:^1.4.0 || 2.0.0");
	cr_assert_eq(m->n_dependencies, 2);
	cr_assert_str_eq(m->dependencies[0].name, "radio-fw");
	cr_assert_str_eq(m->dependencies[0].range, ">=2.1.0 <3.0.0");
	cr_assert_str_eq(m->dependencies[1].name, "modem");
	cr_assert_str_eq(m->dependencies[1].range, "^1.4.0 || 2.0.0");
	set_bad(m, "dependency", "radio-fw", "NAME:RANGE");
	set_bad(m, "dependency", "gps:>=2.1", "invalid range");
	set_bad(m, "dependency", "gps:", "range");
	set_bad(m, "dependency", ":1.0.0", "empty dependency name");
	set_bad(m, "dependency", "radio-fw:1.0.0", "duplicate dependency");
	cr_assert_eq(m->n_dependencies, 2);
	drop_manifest(m);
}

Test(manifest, set_image)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "image", "app:application:/srv/fw/app.bin:0x08020000");
	set_ok(m, "image", "cfg:config:cfg.bin");
	cr_assert_eq(m->n_images, 2);
	cr_assert_str_eq(m->images[0].name, "app");
	cr_assert_str_eq(m->images[0].kind, "application");
	cr_assert_str_eq(m->images[0].file, "/srv/fw/app.bin");
	cr_assert_str_eq(m->images[0].path, "/srv/fw/app.bin");
	cr_assert(m->images[0].has_load_address);
	cr_assert_eq(m->images[0].load_address, 0x08020000);
	cr_assert_str_eq(m->images[1].file, "cfg.bin");
	cr_assert_str_eq(m->images[1].path, "cfg.bin");
	cr_assert_not(m->images[1].has_load_address);

	set_bad(m, "image", "app:application", "NAME:KIND:FILE");
	set_bad(m, "image", "a:b:c:0x1:extra", "NAME:KIND:FILE");
	set_bad(m, "image", "x:Firmware:x.bin", "image kind");
	set_bad(m, "image", "x:my_kind:x.bin", "image kind");
	set_bad(m, "image", "x:application:x.bin:zz",
		"not a non-negative integer");
	set_bad(m, "image", "app:config:other.bin", "duplicate image name");
	cr_assert_eq(m->n_images, 2);
	drop_manifest(m);
}

/*
 * An empty field is an error, not a reason to shift the others left:
 * "x:application::0x1000" must not become an image whose file is "0x1000".
 */
Test(manifest, set_image_empty_field_refused)
{
	struct ota_manifest *m = new_manifest();

	set_bad(m, "image", "x:application::0x1000", NULL);
	set_bad(m, "image", "x::x.bin", NULL);
	cr_assert_eq(m->n_images, 0);
	drop_manifest(m);
}

Test(manifest, set_unknown_field_is_internal)
{
	struct ota_manifest *m = new_manifest();

	cr_assert_eq(ota_manifest_set(m, "colour", "blue", "--colour"),
		     OTA_EINTERNAL);
	must_contain(ota_error_message(), "colour");
	cr_assert_eq(ota_manifest_set(m, "git-colour", "blue", "--x"),
		     OTA_EINTERNAL);
	drop_manifest(m);
}

Test(manifest, clear_list)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "hardware", "a");
	set_ok(m, "hardware", "b");
	set_ok(m, "dependency", "d:1.0.0");
	set_ok(m, "image", "i:config:i.bin");
	set_ok(m, "name", "kept");

	cr_assert_eq(ota_manifest_clear_list(m, "hardware"), 0);
	cr_assert_eq(m->n_hardware, 0);
	cr_assert_eq(m->n_dependencies, 1);
	/* What was cleared can be given again without a duplicate error. */
	set_ok(m, "hardware", "a");
	cr_assert_eq(m->n_hardware, 1);
	cr_assert_str_eq(m->hardware[0], "a");

	cr_assert_eq(ota_manifest_clear_list(m, "dependency"), 0);
	cr_assert_eq(m->n_dependencies, 0);
	set_ok(m, "dependency", "d:2.0.0");
	cr_assert_str_eq(m->dependencies[0].range, "2.0.0");

	cr_assert_eq(ota_manifest_clear_list(m, "image"), 0);
	cr_assert_eq(m->n_images, 0);
	set_ok(m, "image", "i:application:j.bin");
	cr_assert_str_eq(m->images[0].file, "j.bin");

	cr_assert_eq(ota_manifest_clear_list(m, "name"), OTA_EINTERNAL);
	cr_assert_str_eq(m->name, "kept");
	drop_manifest(m);
}

Test(manifest, free_accepts_null)
{
	ota_manifest_free(NULL);
}

/* ota_manifest_resolve --------------------------------------------------- */

/* A complete description in the temporary directory, git given. */
static struct ota_manifest *resolvable(void)
{
	struct ota_manifest *m = new_manifest();
	char path[128], spec[192];

	tmp_path(path, sizeof(path), "app.bin");
	write_file(path, "hello\n");
	snprintf(spec, sizeof(spec), "app:application:%s:0x8000", path);
	set_ok(m, "name", "fw");
	set_ok(m, "version", "1.0.0");
	set_ok(m, "hardware", "board-a");
	set_ok(m, "image", spec);
	set_ok(m, "git-commit", COMMIT);
	return m;
}

/* git_dir points nowhere: with a commit given, git must not be read. */
static const struct ota_resolve_opts no_repo = {
	.git_dir = "/nonexistent/otatool-no-repo",
};

Test(manifest, resolve_with_explicit_commit)
{
	struct ota_manifest *m = resolvable();
	char hex[2 * OTA_DIGEST_MAX + 1];

	set_ok(m, "build-id", "builder-7");
	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "1764000000", 1), 0);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->git.commit, COMMIT);
	cr_assert_str_eq(m->git.short_id, "0123456");
	cr_assert_not(m->git.dirty);
	cr_assert_str_eq(m->build_time, "2025-11-24T16:00:00Z");
	cr_assert_str_eq(m->build_machine, "builder-7");
	cr_assert_str_eq(m->tool_version, OTATOOL_VERSION);
	cr_assert_eq(m->images[0].size, 6);
	cr_assert_eq(m->images[0].digest.alg, OTA_DIGEST_SHA256);
	cr_assert_eq(m->images[0].digest.len, 32);
	ota_hex_encode(hex, m->images[0].digest.bytes, m->images[0].digest.len);
	cr_assert_str_eq(hex, HELLO_SHA256);
	drop_manifest(m);
}

Test(manifest, resolve_uses_manifest_digest)
{
	struct ota_manifest *m = resolvable();

	set_ok(m, "digest", "sha512");
	set_ok(m, "build-id", "b");
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_eq(m->images[0].digest.alg, OTA_DIGEST_SHA512);
	cr_assert_eq(m->images[0].digest.len, 64);
	drop_manifest(m);
}

Test(manifest, resolve_keeps_given_build_time)
{
	struct ota_manifest *m = resolvable();

	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	set_ok(m, "build-id", "b");
	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "1764000000", 1), 0);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->build_time, "2026-11-24T09:00:00Z");
	drop_manifest(m);
}

Test(manifest, resolve_refuses_bad_source_date_epoch)
{
	struct ota_manifest *m = resolvable();

	set_ok(m, "build-id", "b");
	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "1e9", 1), 0);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "SOURCE_DATE_EPOCH");
	drop_manifest(m);
}

Test(manifest, resolve_build_machine_from_ci)
{
	struct ota_manifest *m = resolvable();

	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "0", 1), 0);
	cr_assert_eq(setenv("CI_JOB_ID", "4242", 1), 0);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->build_machine, "gitlab:4242");
	cr_assert_str_eq(m->build_time, "1970-01-01T00:00:00Z");
	drop_manifest(m);
}

Test(manifest, resolve_build_machine_from_host_name)
{
	struct ota_manifest *m = resolvable();
	char host[256] = "";

	cr_assert_eq(gethostname(host, sizeof(host) - 1), 0);
	cr_assert_eq(setenv("SOURCE_DATE_EPOCH", "0", 1), 0);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->build_machine, host);
	drop_manifest(m);
}

Test(manifest, resolve_requires_fields)
{
	struct ota_manifest *m = new_manifest();

	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "\"name\"");
	set_ok(m, "name", "fw");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "\"version\"");
	set_ok(m, "version", "1.0.0");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "\"hardware\"");
	set_ok(m, "hardware", "b");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "\"images\"");
	drop_manifest(m);
}

Test(manifest, resolve_missing_image_names_it)
{
	struct ota_manifest *m = new_manifest();
	char path[128], spec[192];

	tmp_path(path, sizeof(path), "gone.bin");
	snprintf(spec, sizeof(spec), "gone:application:%s", path);
	set_ok(m, "name", "fw");
	set_ok(m, "version", "1.0.0");
	set_ok(m, "hardware", "b");
	set_ok(m, "image", spec);
	set_ok(m, "git-commit", COMMIT);
	set_ok(m, "build-id", "b");
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), OTA_EINPUT);
	must_contain(ota_error_message(), "image \"gone\"");
	must_contain(ota_error_message(), path);
	drop_manifest(m);
}

/*
 * A release in tmpdir/rel whose only image is file; outside.bin lies in
 * tmpdir, beside rel, and rel/in/app.bin inside. Returns the loaded manifest.
 */
static struct ota_manifest *release_naming(const char *file)
{
	struct ota_manifest *m = new_manifest();
	char path[256], text[512];

	tmp_path(path, sizeof(path), "rel");
	mkdir(path, 0755);
	tmp_path(path, sizeof(path), "rel/in");
	mkdir(path, 0755);
	tmp_path(path, sizeof(path), "rel/in/app.bin");
	write_file(path, "hello\n");
	tmp_path(path, sizeof(path), "outside.bin");
	write_file(path, "secret\n");
	snprintf(text, sizeof(text),
		 "name: fw\nversion: 1.0.0\nhardware: [b]\n"
		 "git: {commit: \"%s\"}\n"
		 "build: {time: 2026-11-24T09:00:00Z, id: b}\n"
		 "images:\n  - {name: app, file: \"%s\"}\n",
		 COMMIT, file);
	tmp_path(path, sizeof(path), "rel/r.yaml");
	write_file(path, text);
	cr_assert_eq(ota_manifest_load_yaml(m, path), 0, "%s",
		     ota_error_message());
	return m;
}

/* Refused naming the image and where it resolves; read with allow_outside. */
static void outside_refused(const char *file)
{
	struct ota_manifest *m = release_naming(file);
	struct ota_resolve_opts opts = no_repo;
	char *real, want[512];

	tmp_path(want, sizeof(want), "outside.bin");
	real = realpath(want, NULL);
	cr_assert_not_null(real);
	opts.source = "r.yaml";
	cr_assert_eq(ota_manifest_resolve(m, &opts), OTA_EINPUT, "%s", file);
	snprintf(want, sizeof(want),
		 "r.yaml: image \"app\" (%s) resolves to %s, outside", file,
		 real);
	must_contain(ota_error_message(), want);
	must_contain(ota_error_message(), "--allow-outside");
	cr_assert_eq(m->images[0].size, 0, "refused before it was read");
	free(real);
	opts.allow_outside = true;
	cr_assert_eq(ota_manifest_resolve(m, &opts), 0, "%s",
		     ota_error_message());
	cr_assert_eq(m->images[0].size, 7);
	drop_manifest(m);
}

Test(manifest, resolve_refuses_images_outside_the_release)
{
	char target[256], link[256];

	outside_refused("../outside.bin");
	outside_refused("in/../../outside.bin");
	/* A symbolic link inside the tree, pointing out of it. */
	tmp_path(target, sizeof(target), "outside.bin");
	tmp_path(link, sizeof(link), "rel/link.bin");
	cr_assert_eq(symlink(target, link), 0, "%s", strerror(errno));
	outside_refused("link.bin");
	/* An absolute path is held to the same tree. */
	outside_refused(target);
}

Test(manifest, resolve_accepts_images_inside_the_release)
{
	static const char *const inside[] = { "in/app.bin", "in/../in/app.bin",
					      "inlink.bin" };
	char target[256], link[256];

	tmp_path(target, sizeof(target), "rel/in/app.bin");
	tmp_path(link, sizeof(link), "rel/inlink.bin");
	release_naming("in/app.bin");
	cr_assert_eq(symlink("in/app.bin", link), 0, "%s", strerror(errno));
	for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		struct ota_manifest *m = release_naming(inside[i]);

		cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s: %s",
			     inside[i], ota_error_message());
		cr_assert_eq(m->images[0].size, 6);
		drop_manifest(m);
	}
	{
		struct ota_manifest *m = release_naming(target);

		cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
			     ota_error_message());
		drop_manifest(m);
	}
}

/* An image given on the command line is the caller's choice: not confined. */
Test(manifest, resolve_command_line_image_may_lie_anywhere)
{
	struct ota_manifest *m = release_naming("in/app.bin");
	char path[256], spec[320];

	tmp_path(path, sizeof(path), "outside.bin");
	snprintf(spec, sizeof(spec), "app:application:%s", path);
	cr_assert_eq(ota_manifest_clear_list(m, "image"), 0);
	set_ok(m, "image", spec);
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_eq(m->images[0].size, 7);
	drop_manifest(m);
}

struct progress {
	int calls;
	uint64_t done, total;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	p->calls++;
	p->done = done;
	p->total = total;
}

Test(manifest, resolve_reports_progress)
{
	struct ota_manifest *m = resolvable();
	struct progress p = { 0 };
	struct ota_resolve_opts opts = no_repo;

	opts.progress = on_progress;
	opts.progress_ctx = &p;
	set_ok(m, "build-id", "b");
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	cr_assert_eq(ota_manifest_resolve(m, &opts), 0, "%s",
		     ota_error_message());
	cr_assert_eq(p.calls, 1);
	cr_assert_eq(p.done, 6);
	cr_assert_eq(p.total, 6);
	drop_manifest(m);
}

/* ota_manifest_check_image(s) ------------------------------------------ */

/* Each image on its own: a changed file is named, the others still pass. */
Test(manifest, check_image_one_at_a_time)
{
	struct ota_manifest *m = resolvable();
	struct progress p = { 0 };
	char path[128], spec[192];

	tmp_path(path, sizeof(path), "boot.bin");
	write_file(path, "boot\n");
	snprintf(spec, sizeof(spec), "boot:bootloader:%s", path);
	set_ok(m, "image", spec);
	set_ok(m, "build-id", "b");
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_manifest_check_image(m, 0, NULL, NULL), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_manifest_check_image(m, 1, on_progress, &p), 0, "%s",
		     ota_error_message());
	cr_assert_eq(p.calls, 1, "progress covers the one image checked");
	cr_assert_eq(p.total, 5);

	write_file(path, "BOOT\n"); /* same size, other digest */
	cr_assert_eq(ota_manifest_check_image(m, 0, NULL, NULL), 0, "%s",
		     ota_error_message());
	cr_assert_eq(ota_manifest_check_image(m, 1, NULL, NULL), OTA_EVERIFY);
	must_contain(ota_error_message(), "image \"boot\"");
	must_contain(ota_error_message(), "digest differs");
	cr_assert_eq(ota_manifest_check_images(m, NULL, NULL), OTA_EVERIFY);
	must_contain(ota_error_message(), "image \"boot\"");

	write_file(path, "longer boot\n");
	cr_assert_eq(ota_manifest_check_image(m, 1, NULL, NULL), OTA_EVERIFY);
	must_contain(ota_error_message(), "size differs");

	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(ota_manifest_check_image(m, 1, NULL, NULL), OTA_EINPUT);
	must_contain(ota_error_message(), "image \"boot\"");

	cr_assert_eq(ota_manifest_check_image(m, 2, NULL, NULL), OTA_EINTERNAL,
		     "an index past the images");
	drop_manifest(m);
}

/* Canonical JSON ---------------------------------------------------------- */

static const char small_json[] = "{\n"
				 "  \"format\": \"otatool-manifest/1\",\n"
				 "  \"name\": \"fw\",\n"
				 "  \"version\": \"1.0.0\",\n"
				 "  \"git\": {\n"
				 "    \"commit\": \"" COMMIT "\",\n"
				 "    \"short\": \"0123456\",\n"
				 "    \"branch\": null,\n"
				 "    \"tag\": null,\n"
				 "    \"describe\": null,\n"
				 "    \"dirty\": false\n"
				 "  },\n"
				 "  \"build\": {\n"
				 "    \"time\": \"2026-11-24T09:00:00Z\",\n"
				 "    \"machine\": \"builder\",\n"
				 "    \"otatool\": \"" OTATOOL_VERSION "\"\n"
				 "  },\n"
				 "  \"hardware\": [\n"
				 "    \"board-a\"\n"
				 "  ],\n"
				 "  \"bootloader_min\": null,\n"
				 "  \"security_counter\": 3,\n"
				 "  \"dependencies\": [],\n"
				 "  \"images\": [\n"
				 "    {\n"
				 "      \"name\": \"app\",\n"
				 "      \"kind\": \"application\",\n"
				 "      \"file\": \"app.bin\",\n"
				 "      \"size\": 6,\n"
				 "      \"digest\": {\n"
				 "        \"algorithm\": \"sha256\",\n"
				 "        \"value\": \"" HELLO_SHA256 "\"\n"
				 "      },\n"
				 "      \"load_address\": \"0x00008000\"\n"
				 "    }\n"
				 "  ]\n"
				 "}\n";

/* The small manifest behind small_json, resolved in the temporary dir. */
static struct ota_manifest *small_manifest(void)
{
	struct ota_manifest *m = new_manifest();

	cr_assert_eq(chdir(tmpdir), 0);
	write_file("app.bin", "hello\n");
	set_ok(m, "name", "fw");
	set_ok(m, "version", "1.0.0");
	set_ok(m, "hardware", "board-a");
	set_ok(m, "security-counter", "3");
	set_ok(m, "image", "app:application:app.bin:0x8000");
	set_ok(m, "git-commit", COMMIT);
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	set_ok(m, "build-id", "builder");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	return m;
}

Test(manifest, json_canonical_text)
{
	struct ota_manifest *m = small_manifest();
	char *json = NULL;
	size_t len = 0;

	cr_assert_eq(ota_manifest_to_json(&json, &len, m), 0, "%s",
		     ota_error_message());
	track(live_buffers, json);
	cr_assert_str_eq(json, small_json);
	cr_assert_eq(len, strlen(small_json));
	drop(json);
	drop_manifest(m);
}

/* Everything optional filled in, several images, a non-default digest. */
static struct ota_manifest *rich_manifest(void)
{
	struct ota_manifest *m = new_manifest();

	cr_assert_eq(chdir(tmpdir), 0);
	cr_assert_eq(mkdir("img", 0755), 0);
	write_file("img/boot.bin", "boot loader bytes");
	write_file("img/app.bin", "application bytes, rather more of them");
	write_file("img/cfg.bin", "");
	set_ok(m, "name", "acme-fw");
	set_ok(m, "version", "2.4.1-rc.1+build.7");
	set_ok(m, "hardware", "rev-b");
	set_ok(m, "hardware", "rev-c");
	set_ok(m, "bootloader-min", "1.2.0");
	set_ok(m, "security-counter", "4294967295");
	set_ok(m, "digest", "sha384");
	set_ok(m, "dependency", "radio-fw:>=2.1.0 <3.0.0");
	set_ok(m, "dependency", "modem:^1.4.0 || ~2.0.1");
	set_ok(m, "image", "boot:bootloader:img/boot.bin:0x08000000");
	set_ok(m, "image", "app:application:img/app.bin:0x100000000");
	set_ok(m, "image", "cfg:config:img/cfg.bin");
	set_ok(m, "git-commit", COMMIT);
	set_ok(m, "git-branch", "main");
	set_ok(m, "git-tag", "v2.4.1-rc.1");
	/* No setter for describe: only git or a JSON manifest provide it. */
	snprintf(m->git.describe, sizeof(m->git.describe), "%s",
		 "v2.4.1-rc.1-3-g0123456");
	set_ok(m, "build-time", "2026-11-24T09:00:00Z");
	set_ok(m, "build-id", "github:123456");
	cr_assert_eq(ota_manifest_resolve(m, &no_repo), 0, "%s",
		     ota_error_message());
	m->git.dirty = true;
	return m;
}

static char *to_json(const struct ota_manifest *m)
{
	char *json = NULL;
	size_t len = 0;

	cr_assert_eq(ota_manifest_to_json(&json, &len, m), 0, "%s",
		     ota_error_message());
	cr_assert_not_null(json);
	cr_assert_eq(len, strlen(json));
	cr_assert_eq(json[len - 1], '\n');
	return track(live_buffers, json);
}

Test(manifest, json_round_trip_is_byte_identical)
{
	struct ota_manifest *m = rich_manifest(), *back = new_manifest();
	char *first = to_json(m), *second, *from_disk;

	write_file("manifest.json", first);
	from_disk = read_file("manifest.json");
	cr_assert_str_eq(from_disk, first);
	cr_assert_eq(ota_manifest_load_json(back, "manifest.json"), 0, "%s",
		     ota_error_message());
	second = to_json(back);
	cr_assert_str_eq(second, first);

	/* And the fields really came back, not just the text. */
	cr_assert_str_eq(back->name, "acme-fw");
	cr_assert_str_eq(back->version.pre, "rc.1");
	cr_assert_str_eq(back->version.build, "build.7");
	cr_assert(back->git.dirty);
	cr_assert_str_eq(back->git.describe, "v2.4.1-rc.1-3-g0123456");
	cr_assert_eq(back->security_counter, UINT32_MAX);
	cr_assert_eq(back->digest_alg, OTA_DIGEST_SHA384);
	cr_assert_eq(back->n_images, 3);
	cr_assert_eq(back->images[1].load_address, UINT64_C(0x100000000));
	cr_assert_not(back->images[2].has_load_address);
	cr_assert_eq(back->images[2].size, 0);
	cr_assert_eq(back->images[1].size, m->images[1].size);
	cr_assert_eq(
	    memcmp(back->images[1].digest.bytes, m->images[1].digest.bytes, 48),
	    0);
	cr_assert_str_eq(back->tool_version, OTATOOL_VERSION);
	drop(first);
	drop(second);
	drop(from_disk);
	drop_manifest(back);
	drop_manifest(m);
}

Test(manifest, json_load_resolves_image_paths_beside_manifest)
{
	struct ota_manifest *m = small_manifest(), *back = new_manifest();
	char *json = to_json(m), path[128], want[160];

	tmp_path(path, sizeof(path), "m.json");
	write_file(path, json);
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(ota_manifest_load_json(back, path), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(back->images[0].file, "app.bin");
	snprintf(want, sizeof(want), "%s/app.bin", tmpdir);
	cr_assert_str_eq(back->images[0].path, want);
	drop(json);
	drop_manifest(back);
	drop_manifest(m);
}

/* Non-UTF-8 text cannot be written as JSON: say which field. */
Test(manifest, json_refuses_invalid_utf8)
{
	struct ota_manifest *m = small_manifest();
	char *json = NULL;
	size_t len = 0;

	set_ok(m, "build-id", "host\xff");
	cr_assert_eq(ota_manifest_to_json(&json, &len, m), OTA_EINPUT);
	must_contain(ota_error_message(), "machine");
	cr_assert_null(json);
	drop_manifest(m);
}

/* small_json with the first occurrence of from replaced by to. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(small_json, from);
	size_t n = strlen(small_json) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	cr_assert_not_null(at, "\"%s\" not in the canonical text", from);
	cr_assert_not_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - small_json), small_json, to,
		 at + strlen(from));
	return track(live_buffers, out);
}

/* Writes text as a manifest, loads it, and checks the refusal. */
static void json_bad_text(const char *text, const char *part1,
			  const char *part2)
{
	struct ota_manifest *m = new_manifest();
	char path[128];
	int rc;

	tmp_path(path, sizeof(path), "bad.json");
	write_file(path, text);
	rc = ota_manifest_load_json(m, path);
	cr_assert_eq(rc, OTA_EINPUT, "rc %d for:\n%s", rc, text);
	must_contain(ota_error_message(), path);
	if (part1)
		must_contain(ota_error_message(), part1);
	if (part2)
		must_contain(ota_error_message(), part2);
	drop_manifest(m);
}

static void json_bad(const char *from, const char *to, const char *part1,
		     const char *part2)
{
	char *text = edit(from, to);

	json_bad_text(text, part1, part2);
	drop(text);
}

Test(manifest, json_load_accepts_canonical_text)
{
	struct ota_manifest *m = new_manifest();
	char path[128];

	tmp_path(path, sizeof(path), "good.json");
	write_file(path, small_json);
	cr_assert_eq(ota_manifest_load_json(m, path), 0, "%s",
		     ota_error_message());
	cr_assert_str_eq(m->name, "fw");
	cr_assert_eq(m->security_counter, 3);
	cr_assert_str_eq(m->build_machine, "builder");
	cr_assert_eq(m->images[0].size, 6);
	cr_assert(m->images[0].has_load_address);
	cr_assert_eq(m->images[0].load_address, 0x8000);
	drop_manifest(m);
}

Test(manifest, json_rejects_unknown_keys)
{
	json_bad("  \"name\": \"fw\",\n", "  \"name\": \"fw\",\n  \"x\": 1,\n",
		 "x: unknown key", NULL);
	json_bad("    \"dirty\": false\n",
		 "    \"dirty\": false,\n    \"y\": 1\n", "git.y: unknown key",
		 NULL);
	json_bad("    \"otatool\"", "    \"sig\": null,\n    \"otatool\"",
		 "build.sig: unknown key", NULL);
	json_bad("      \"size\": 6,\n",
		 "      \"size\": 6,\n      \"z\": 0,\n",
		 "images[0].z: unknown key", NULL);
}

Test(manifest, json_rejects_wrong_format)
{
	json_bad("otatool-manifest/1", "otatool-manifest/2", "format",
		 "otatool-manifest/2");
	json_bad("  \"format\": \"otatool-manifest/1\",\n", "", "format",
		 "missing");
}

Test(manifest, json_rejects_bad_digest_hex)
{
	/* Upper case is not canonical. */
	json_bad("5891b5b5", "5891B5B5", "digest.value", "hex");
	json_bad("5891b5b5", "5891b5bg", "digest.value", "hex");
	json_bad(HELLO_SHA256, "5891b5b5", "digest.value", "hex");
	json_bad(HELLO_SHA256, HELLO_SHA256 "00", "digest.value", "hex");
	/* A SHA-256 value does not fit a SHA-384 label. */
	json_bad("\"sha256\"", "\"sha384\"", "digest.value", "96");
	json_bad("\"sha256\"", "\"md5\"", "digest.algorithm", "md5");
}

Test(manifest, json_rejects_wrong_types)
{
	json_bad("\"security_counter\": 3", "\"security_counter\": \"3\"",
		 "security_counter", "integer");
	json_bad("\"security_counter\": 3", "\"security_counter\": 4294967296",
		 "security_counter", "integer");
	json_bad("\"security_counter\": 3", "\"security_counter\": -1",
		 "security_counter", "integer");
	json_bad("\"version\": \"1.0.0\"", "\"version\": 1", "version",
		 "string");
	json_bad("\"version\": \"1.0.0\"", "\"version\": \"1.0\"", "version",
		 "invalid version");
	json_bad("\"dirty\": false", "\"dirty\": \"false\"", "git.dirty",
		 "true or false");
	json_bad("[\n    \"board-a\"\n  ]", "\"board-a\"", "hardware", "list");
	json_bad("[\n    \"board-a\"\n  ]", "[]", "hardware", "list");
	json_bad("[\n    \"board-a\"\n  ]", "[\n    7\n  ]", "hardware[0]",
		 "string");
	json_bad("\"dependencies\": []", "\"dependencies\": {}", "dependencies",
		 "list");
	json_bad("\"short\": \"0123456\"", "\"short\": \"1234567\"",
		 "git.short", "prefix");
	json_bad("\"time\": \"2026-11-24T09:00:00Z\"", "\"time\": 0",
		 "build.time", "string");
	json_bad("  \"git\": {\n"
		 "    \"commit\": \"" COMMIT "\",\n"
		 "    \"short\": \"0123456\",\n"
		 "    \"branch\": null,\n"
		 "    \"tag\": null,\n"
		 "    \"describe\": null,\n"
		 "    \"dirty\": false\n"
		 "  },\n",
		 "  \"git\": \"" COMMIT "\",\n", "git", "expected an object");
}

/* A type error inside an image names the key, not only the image. */
Test(manifest, json_image_errors_name_the_key)
{
	json_bad("\"kind\": \"application\"", "\"kind\": 5", "images[0].kind",
		 "string");
	json_bad("\"size\": 6", "\"size\": \"6\"", "images[0].size", "integer");
	json_bad("      \"file\": \"app.bin\",\n", "", "images[0].file",
		 "missing");
}

Test(manifest, json_rejects_duplicate_keys)
{
	json_bad("  \"name\": \"fw\",\n",
		 "  \"name\": \"fw\",\n  \"name\": \"fw\",\n", "duplicate",
		 NULL);
}

Test(manifest, json_rejects_non_json)
{
	json_bad_text("{\n  \"format\": \n", "invalid JSON", NULL);
	json_bad_text("", "invalid JSON", NULL);
	json_bad_text("[]\n", "expected an object", NULL);
}

/* ota_manifest_check_previous -------------------------------------------- */

static struct ota_manifest *release(const char *version, const char *counter)
{
	struct ota_manifest *m = new_manifest();

	set_ok(m, "version", version);
	set_ok(m, "security-counter", counter);
	return m;
}

static void check_prev(const char *version, const char *counter,
		       const char *prev_version, const char *prev_counter,
		       int want)
{
	struct ota_manifest *m = release(version, counter);
	struct ota_manifest *prev = release(prev_version, prev_counter);
	int rc = ota_manifest_check_previous(m, prev, "last.json");

	cr_assert_eq(rc, want, "%s (%s) after %s (%s): rc %d, want %d: %s",
		     version, counter, prev_version, prev_counter, rc, want,
		     ota_error_message());
	if (want) {
		must_contain(ota_error_message(), "last.json");
		if (want == OTA_EDOWNGRADE) {
			must_contain(ota_error_message(), version);
			must_contain(ota_error_message(), prev_version);
		} else {
			must_contain(ota_error_message(), counter);
			must_contain(ota_error_message(), prev_counter);
		}
	}
	drop_manifest(m);
	drop_manifest(prev);
}

Test(manifest, previous_equal_version_is_downgrade)
{
	check_prev("1.2.3", "5", "1.2.3", "5", OTA_EDOWNGRADE);
	/* Build metadata does not make a version higher. */
	check_prev("1.2.3+build.2", "5", "1.2.3+build.1", "5", OTA_EDOWNGRADE);
}

Test(manifest, previous_lower_version_is_downgrade)
{
	check_prev("1.2.2", "5", "1.2.3", "5", OTA_EDOWNGRADE);
	check_prev("0.9.9", "9", "1.0.0", "5", OTA_EDOWNGRADE);
	/* A pre-release comes before its release. */
	check_prev("1.0.0-rc.1", "5", "1.0.0", "5", OTA_EDOWNGRADE);
	check_prev("1.0.0-alpha", "5", "1.0.0-alpha.1", "5", OTA_EDOWNGRADE);
}

Test(manifest, previous_lower_counter_is_rollback)
{
	check_prev("2.0.0", "4", "1.0.0", "5", OTA_EROLLBACK);
	check_prev("1.0.1", "0", "1.0.0", "4294967295", OTA_EROLLBACK);
}

Test(manifest, previous_higher_version_is_accepted)
{
	check_prev("1.2.4", "5", "1.2.3", "5", 0);
	check_prev("1.0.0", "5", "1.0.0-rc.2", "5", 0);
	check_prev("1.0.0-rc.10", "5", "1.0.0-rc.2", "5", 0);
	check_prev("2.0.0", "6", "1.9.9", "5", 0);
}
