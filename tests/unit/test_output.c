/* Unit tests for src/lib/output.c: atomic files, modes, cleanup. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "otatool/error.h"
#include "otatool/fileio.h"
#include "otatool/output.h"

#include "tmpdir.h"

static char tmpdir[64];

static void setup(void)
{
	tmpdir_make(tmpdir, sizeof(tmpdir), "output");
}

static void teardown(void)
{
	ota_output_unlink_pending();
	ota_input_forget_all();
	if (tmpdir[0])
		tmpdir_remove(tmpdir);
}

TestSuite(output, .init = setup, .fini = teardown);

static void in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Entries of dir other than "." and "..", and how many start with prefix. */
static int count_entries(const char *dir, const char *prefix, int *matching)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
	*matching = 0;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			(*matching)++;
	}
	closedir(d);
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static void expect_content(const char *path, const char *want)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_assert_eq(n, strlen(want), "%s: %zu bytes", path, n);
	cr_assert_str_eq(buf, want, "%s", path);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static void write_and_commit(const char *path, mode_t mode, const char *text)
{
	struct ota_output *o = NULL;
	int rc;

	rc = ota_output_open(&o, path, mode, 0);
	cr_assert_eq(rc, 0, "%s", ota_error_message());
	cr_assert_not_null(o);
	cr_assert_eq(ota_output_write(o, text, strlen(text)), 0);
	rc = ota_output_commit(o);
	cr_assert_eq(rc, 0, "%s", ota_error_message());
}

Test(output, commit_creates_file_with_content)
{
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "manifest.json");
	write_and_commit(path, 0644, "{\n  \"name\": \"fw\"\n}\n");
	expect_content(path, "{\n  \"name\": \"fw\"\n}\n");
	cr_assert_eq(count_entries(tmpdir, ".manifest.json.", &temps), 1);
	cr_assert_eq(temps, 0);
}

Test(output, several_writes_append)
{
	struct ota_output *o;
	char path[128];

	in_tmp(path, sizeof(path), "out.bin");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	cr_assert_str_eq(ota_output_name(o), path);
	cr_assert_eq(ota_output_write(o, "abc", 3), 0);
	cr_assert_eq(ota_output_write(o, "", 0), 0);
	cr_assert_eq(ota_output_write(o, "def\n", 4), 0);
	/* Nothing is visible at the final path before the commit. */
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(ota_output_commit(o), 0);
	expect_content(path, "abcdef\n");
}

Test(output, mode_follows_umask)
{
	char path[128];

	umask(022);
	in_tmp(path, sizeof(path), "a.json");
	write_and_commit(path, 0644, "a");
	cr_assert_eq(mode_of(path), 0644, "mode %o", mode_of(path));

	umask(077);
	in_tmp(path, sizeof(path), "b.json");
	write_and_commit(path, 0644, "b");
	cr_assert_eq(mode_of(path), 0600, "mode %o", mode_of(path));

	umask(0);
	in_tmp(path, sizeof(path), "c.json");
	write_and_commit(path, 0664, "c");
	cr_assert_eq(mode_of(path), 0664, "mode %o", mode_of(path));
}

Test(output, key_mode_0600)
{
	char path[128];

	umask(022);
	in_tmp(path, sizeof(path), "signing.key");
	write_and_commit(path, 0600, "secret");
	cr_assert_eq(mode_of(path), 0600, "mode %o", mode_of(path));
	expect_content(path, "secret");
}

Test(output, umask_is_left_as_it_was)
{
	struct ota_output *o;
	char path[128];
	mode_t before;

	umask(027);
	in_tmp(path, sizeof(path), "x");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	ota_output_abort(o);
	before = umask(0);
	cr_assert_eq(before, 027, "umask %o", before);
}

Test(output, commit_replaces_existing_file)
{
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "manifest.json");
	write_file(path, "old contents\n");
	write_and_commit(path, 0644, "new\n");
	expect_content(path, "new\n");
	cr_assert_eq(count_entries(tmpdir, ".manifest.json.", &temps), 1);
	cr_assert_eq(temps, 0);
}

/*
 * A replaced file keeps its permission bits, never wider than the mode
 * asked for, whatever the umask: overwriting a 0600 file once gave 0644.
 */
Test(output, replace_keeps_mode_never_wider)
{
	static const struct {
		mode_t old, asked, want;
	} cases[] = {
		{ 0600, 0644, 0600 },  { 0640, 0644, 0640 },
		{ 0400, 0644, 0400 },  { 0755, 0644, 0644 },
		{ 0666, 0644, 0644 },  { 0644, 0600, 0600 },
		{ 04755, 0644, 0644 },
	};
	char path[128];

	umask(0);
	in_tmp(path, sizeof(path), "out.json");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, "old\n");
		cr_assert_eq(chmod(path, cases[i].old), 0);
		write_and_commit(path, cases[i].asked, "new\n");
		expect_content(path, "new\n");
		cr_assert_eq(mode_of(path), cases[i].want,
			     "%o over %o: mode %o, want %o", cases[i].asked,
			     cases[i].old, mode_of(path), cases[i].want);
	}
	/* A new file still gets the mode less the umask. */
	umask(022);
	in_tmp(path, sizeof(path), "new.json");
	write_and_commit(path, 0664, "n");
	cr_assert_eq(mode_of(path), 0644, "mode %o", mode_of(path));
}

static gid_t group_of(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s: %s", path, strerror(errno));
	return st.st_gid;
}

/* A group-readable file keeps its group, where we may set it. */
Test(output, replace_keeps_group)
{
	gid_t other = 4242, groups[64];
	int n = getgroups(64, groups);
	char path[128];

	if (geteuid() != 0) {
		other = getegid();
		for (int i = 0; i < n; i++)
			if (groups[i] != getegid())
				other = groups[i];
		if (other == getegid())
			cr_skip_test("needs root or a second group");
	}
	in_tmp(path, sizeof(path), "shared.json");
	write_file(path, "old\n");
	cr_assert_eq(chown(path, (uid_t)-1, other), 0, "%s", strerror(errno));
	cr_assert_eq(chmod(path, 0640), 0);
	write_and_commit(path, 0644, "new\n");
	cr_assert_eq(group_of(path), other, "group %u",
		     (unsigned)group_of(path));
	cr_assert_eq(mode_of(path), 0640, "mode %o", mode_of(path));
}

/*
 * Where the group cannot be kept, its bits are dropped: they would
 * otherwise pass to whatever group the new file gets. Run as root, the
 * test takes the identity of nobody for the write.
 */
Test(output, replace_drops_group_bits_it_cannot_keep)
{
	const uid_t nobody = 65534;
	char dir[128], path[160];
	struct ota_output *o = NULL;
	int rc_open, rc_commit = -1;
	gid_t gid;
	mode_t mode;

	if (geteuid() != 0)
		cr_skip_test("needs root, to write as another user");
	in_tmp(dir, sizeof(dir), "open");
	cr_assert_eq(mkdir(dir, 0777), 0);
	cr_assert_eq(chmod(dir, 0777), 0);
	cr_assert_eq(chmod(tmpdir, 0711), 0);
	snprintf(path, sizeof(path), "%s/shared.json", dir);
	write_file(path, "old\n");
	cr_assert_eq(chown(path, nobody, 0), 0, "%s", strerror(errno));
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(setgroups(0, NULL), 0);
	cr_assert_eq(setegid(nobody), 0);
	cr_assert_eq(seteuid(nobody), 0);
	rc_open = ota_output_open(&o, path, 0644, 0);
	if (rc_open == 0 && ota_output_write(o, "new\n", 4) == 0)
		rc_commit = ota_output_commit(o);
	else
		ota_output_abort(o);
	cr_assert_eq(seteuid(0), 0);
	cr_assert_eq(setegid(0), 0);
	cr_assert_eq(rc_open, 0, "%s", ota_error_message());
	cr_assert_eq(rc_commit, 0, "%s", ota_error_message());
	gid = group_of(path);
	mode = mode_of(path);
	cr_assert_eq(gid, nobody, "group %u", (unsigned)gid);
	cr_assert_eq(mode, 0600, "mode %o", mode);
	expect_content(path, "new\n");
}

Test(output, abort_leaves_nothing)
{
	struct ota_output *o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "manifest.json");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	cr_assert_eq(ota_output_write(o, "partial", 7), 0);
	/* The temporary file sits next to the target while writing. */
	cr_assert_eq(count_entries(tmpdir, ".manifest.json.", &temps), 1);
	cr_assert_eq(temps, 1);
	ota_output_abort(o);
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
}

Test(output, abort_keeps_previous_file)
{
	struct ota_output *o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "manifest.json");
	write_file(path, "previous\n");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	cr_assert_eq(ota_output_write(o, "partial", 7), 0);
	ota_output_abort(o);
	expect_content(path, "previous\n");
	cr_assert_eq(count_entries(tmpdir, ".manifest.json.", &temps), 1);
	cr_assert_eq(temps, 0);
}

Test(output, abort_accepts_null)
{
	ota_output_abort(NULL);
}

Test(output, exclusive_refuses_existing_file)
{
	struct ota_output *o = (struct ota_output *)&o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "signing.key");
	write_file(path, "precious key\n");
	cr_assert_eq(ota_output_open(&o, path, 0600, 1), OTA_EOUTPUT);
	cr_assert_null(o);
	cr_assert_not_null(strstr(ota_error_message(), path), "%s",
			   ota_error_message());
	cr_assert_not_null(strstr(ota_error_message(), "already exists"), "%s",
			   ota_error_message());
	expect_content(path, "precious key\n");
	cr_assert_eq(count_entries(tmpdir, ".signing.key.", &temps), 1);
	cr_assert_eq(temps, 0);
}

Test(output, exclusive_creates_new_file)
{
	struct ota_output *o;
	char path[128];
	int temps;

	umask(022);
	in_tmp(path, sizeof(path), "signing.key");
	cr_assert_eq(ota_output_open(&o, path, 0600, 1), 0);
	cr_assert_eq(ota_output_write(o, "key\n", 4), 0);
	cr_assert_eq(ota_output_commit(o), 0, "%s", ota_error_message());
	expect_content(path, "key\n");
	cr_assert_eq(mode_of(path), 0600);
	cr_assert_eq(count_entries(tmpdir, ".signing.key.", &temps), 1);
	cr_assert_eq(temps, 0);
}

/* A file that appears between open and commit is not clobbered either. */
Test(output, exclusive_refuses_file_created_meanwhile)
{
	struct ota_output *o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "signing.key");
	cr_assert_eq(ota_output_open(&o, path, 0600, 1), 0);
	cr_assert_eq(ota_output_write(o, "mine\n", 5), 0);
	write_file(path, "theirs\n");
	cr_assert_eq(ota_output_commit(o), OTA_EOUTPUT);
	cr_assert_not_null(strstr(ota_error_message(), path), "%s",
			   ota_error_message());
	expect_content(path, "theirs\n");
	cr_assert_eq(count_entries(tmpdir, ".signing.key.", &temps), 1);
	cr_assert_eq(temps, 0);
}

Test(output, directory_refused)
{
	struct ota_output *o = (struct ota_output *)&o;
	int temps;

	cr_assert_eq(ota_output_open(&o, tmpdir, 0644, 0), OTA_EOUTPUT);
	cr_assert_null(o);
	cr_assert_not_null(strstr(ota_error_message(), tmpdir), "%s",
			   ota_error_message());
	cr_assert_not_null(strstr(ota_error_message(), "directory"), "%s",
			   ota_error_message());
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
}

Test(output, nonexistent_directory_refused)
{
	struct ota_output *o = (struct ota_output *)&o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "missing/manifest.json");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), OTA_EOUTPUT);
	cr_assert_null(o);
	cr_assert_not_null(strstr(ota_error_message(), path), "%s",
			   ota_error_message());
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
}

Test(output, stdout_needs_no_file)
{
	struct ota_output *o;

	cr_assert_eq(ota_output_open(&o, NULL, 0644, 0), 0);
	cr_assert_str_eq(ota_output_name(o), "<stdout>");
	cr_assert_eq(ota_output_commit(o), 0);

	cr_assert_eq(ota_output_open(&o, "-", 0644, 1), 0);
	cr_assert_str_eq(ota_output_name(o), "<stdout>");
	ota_output_abort(o);
}

Test(output, relative_path_uses_current_directory)
{
	char cwd[4096];
	int temps;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(tmpdir), 0);
	write_and_commit("plain.txt", 0644, "here\n");
	expect_content("plain.txt", "here\n");
	cr_assert_eq(count_entries(".", ".plain.txt.", &temps), 1);
	cr_assert_eq(temps, 0);
	cr_assert_eq(chdir(cwd), 0);
}

Test(output, unlink_pending_removes_open_temporary)
{
	struct ota_output *o;
	char path[128];
	int temps;

	in_tmp(path, sizeof(path), "package.bin");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	cr_assert_eq(ota_output_write(o, "half", 4), 0);
	cr_assert_eq(count_entries(tmpdir, ".package.bin.", &temps), 1);
	cr_assert_eq(temps, 1);

	ota_output_unlink_pending();
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
	cr_assert_neq(access(path, F_OK), 0);
	ota_output_abort(o);
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
}

Test(output, unlink_pending_spares_committed_files)
{
	struct ota_output *o;
	char done[128], open_path[128];
	int temps;

	in_tmp(done, sizeof(done), "done.json");
	in_tmp(open_path, sizeof(open_path), "open.json");
	write_and_commit(done, 0644, "done\n");
	cr_assert_eq(ota_output_open(&o, open_path, 0644, 0), 0);
	ota_output_unlink_pending();
	expect_content(done, "done\n");
	cr_assert_eq(count_entries(tmpdir, ".open.json.", &temps), 1);
	cr_assert_eq(temps, 0);
	ota_output_abort(o);
}

/* Finished outputs give their place back: the twentieth is still covered. */
Test(output, unlink_pending_after_many_commits)
{
	struct ota_output *o;
	char path[128];
	int temps;

	for (int i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "%s/done-%02d.json", tmpdir, i);
		write_and_commit(path, 0644, "x");
		snprintf(path, sizeof(path), "%s/gone-%02d.json", tmpdir, i);
		cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
		ota_output_abort(o);
	}
	in_tmp(path, sizeof(path), "last.json");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	ota_output_unlink_pending();
	count_entries(tmpdir, ".last.json.", &temps);
	ota_output_abort(o);
	cr_assert_eq(temps, 0, "the open output's temporary file survived");
	cr_assert_eq(count_entries(tmpdir, "done-", &temps), 20);
	cr_assert_eq(temps, 20);
}

/*
 * "Unlinks every temporary file still open": with more outputs open than
 * the handler's table holds, either opening must fail or the handler must
 * still find them all.
 */
Test(output, unlink_pending_covers_many_outputs)
{
	enum { MANY = 12 };
	struct ota_output *o[MANY] = { 0 };
	int opened = 0, temps;

	for (int i = 0; i < MANY; i++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/out-%02d.bin", tmpdir, i);
		if (ota_output_open(&o[i], path, 0644, 0) == 0)
			opened++;
	}
	ota_output_unlink_pending();
	count_entries(tmpdir, ".out-", &temps);
	for (int i = 0; i < MANY; i++)
		ota_output_abort(o[i]);
	cr_assert_gt(opened, 0);
	cr_assert_eq(temps, 0, "%d of %d temporary files left behind", temps,
		     opened);
}

/* Inputs are never outputs --------------------------------------------------
 */

Test(output, empty_path_is_a_usage_error)
{
	struct ota_output *o = NULL;
	int temps;

	cr_assert_eq(chdir(tmpdir), 0);
	cr_assert_eq(ota_output_open(&o, "", 0644, 0), OTA_EUSAGE);
	cr_assert_null(o);
	cr_assert_str_eq(ota_error_message(), "empty output path");
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 0);
}

Test(output, refuses_a_file_read_as_input)
{
	struct ota_output *o = NULL;
	char path[128], link[128], *data = NULL;
	size_t len = 0;
	int temps;

	in_tmp(path, sizeof(path), "key.pem");
	in_tmp(link, sizeof(link), "alias.pem");
	write_file(path, "secret\n");
	cr_assert_eq(chmod(path, 0600), 0);
	cr_assert_eq(symlink("key.pem", link), 0);
	/* Not yet an input: may be replaced. */
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	ota_output_abort(o);
	cr_assert_eq(ota_file_read_small(&data, &len, path, 64), 0);
	free(data);
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), OTA_EUSAGE);
	cr_assert_null(o);
	cr_assert(strstr(ota_error_message(), "key.pem: is also an input"),
		  "%s", ota_error_message());
	/* The same file by another name. */
	cr_assert_eq(ota_output_open(&o, link, 0644, 0), OTA_EUSAGE);
	expect_content(path, "secret\n");
	cr_assert_eq(mode_of(path), 0600);
	cr_assert_eq(count_entries(tmpdir, ".", &temps), 2);
	cr_assert_eq(temps, 0, "no temporary file left");
}

Test(output, commit_refuses_a_file_read_after_open)
{
	struct ota_output *o = NULL;
	char path[128];
	uint64_t size = 0;
	int temps;

	in_tmp(path, sizeof(path), "app.bin");
	write_file(path, "image\n");
	cr_assert_eq(ota_output_open(&o, path, 0644, 0), 0);
	cr_assert_eq(ota_output_write(o, "package", 7), 0);
	/* An image named inside the manifest, read while writing. */
	cr_assert_eq(ota_file_size(&size, path), 0);
	cr_assert_eq(ota_output_commit(o), OTA_EUSAGE);
	expect_content(path, "image\n");
	cr_assert_eq(count_entries(tmpdir, NULL, &temps), 1);
}

Test(output, inputs_noted_by_path_and_by_descriptor)
{
	struct ota_output *o = NULL;
	char a[128], b[128], c[128];
	int fd;

	in_tmp(a, sizeof(a), "a");
	in_tmp(b, sizeof(b), "b");
	in_tmp(c, sizeof(c), "c");
	write_file(a, "a");
	write_file(b, "b");
	cr_assert_eq(ota_input_note(a), 0);
	cr_assert_eq(ota_input_note(c), 0, "a missing file is skipped");
	fd = open(b, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ota_input_note_fd(fd, b), 0);
	close(fd);
	cr_assert_eq(ota_output_open(&o, a, 0644, 0), OTA_EUSAGE);
	cr_assert_eq(ota_output_open(&o, b, 0644, 0), OTA_EUSAGE);
	cr_assert_eq(ota_output_open(&o, c, 0644, 0), 0);
	ota_output_abort(o);
	ota_input_forget_all();
	cr_assert_eq(ota_output_open(&o, a, 0644, 0), 0);
	ota_output_abort(o);
}

Test(output, update_may_replace_an_input)
{
	struct ota_output *o = NULL;
	char path[128];

	in_tmp(path, sizeof(path), "m.signed.json");
	write_file(path, "one signature\n");
	cr_assert_eq(ota_input_note(path), 0);
	cr_assert_eq(ota_output_open(&o, path, 0644, OTA_OUTPUT_UPDATE), 0,
		     "%s", ota_error_message());
	cr_assert_eq(ota_output_write(o, "two\n", 4), 0);
	cr_assert_eq(ota_output_commit(o), 0, "%s", ota_error_message());
	expect_content(path, "two\n");
}
