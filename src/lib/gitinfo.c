/* Reads a release's source identity from git with libgit2. */
#include "otatool/gitinfo.h"
#include "otatool/error.h"

#include <git2.h>
#include <stdio.h>
#include <string.h>

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Nearest tag of HEAD, lightweight tags included (CI often makes those). */
static int read_describe(struct ota_git_info *out, git_repository *repo,
			 git_object *head)
{
	git_describe_options dopts;
	git_describe_format_options fopts;
	git_describe_result *res = NULL;
	git_strarray tags = { 0 };
	git_buf buf = { 0 };
	int rc;

	/*
	 * Without any tag libgit2 fails with a generic error rather than
	 * GIT_ENOTFOUND; a repository without tags is normal, so ask first.
	 */
	if (git_tag_list(&tags, repo) < 0)
		return -1;
	rc = tags.count == 0;
	git_strarray_dispose(&tags);
	if (rc)
		return 0;

	git_describe_options_init(&dopts, GIT_DESCRIBE_OPTIONS_VERSION);
	dopts.describe_strategy = GIT_DESCRIBE_TAGS;
	git_describe_format_options_init(&fopts,
					 GIT_DESCRIBE_FORMAT_OPTIONS_VERSION);
	rc = git_describe_commit(&res, head, &dopts);
	if (rc == GIT_ENOTFOUND) {
		git_error_clear();
		return 0; /* no tag reachable: describe stays "" */
	}
	if (rc < 0)
		return -1;
	if (git_describe_format(&buf, res, &fopts) < 0)
		goto fail;
	copy_str(out->describe, sizeof(out->describe), buf.ptr);
	git_buf_dispose(&buf);
	/* abbreviated_size 0 prints the tag alone, as `--abbrev=0` does. */
	fopts.abbreviated_size = 0;
	if (git_describe_format(&buf, res, &fopts) < 0)
		goto fail;
	copy_str(out->tag, sizeof(out->tag), buf.ptr);
	git_buf_dispose(&buf);
	git_describe_result_free(res);
	return 0;
fail:
	git_buf_dispose(&buf);
	git_describe_result_free(res);
	return -1;
}

static int read_dirty(struct ota_git_info *out, git_repository *repo)
{
	git_status_options sopts;
	git_status_list *list = NULL;

	git_status_options_init(&sopts, GIT_STATUS_OPTIONS_VERSION);
	sopts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	sopts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &sopts) < 0)
		return -1;
	out->dirty = git_status_list_entrycount(list) > 0;
	git_status_list_free(list);
	return 0;
}

int ota_git_read(struct ota_git_info *out, const char *path)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_object *commit = NULL;
	git_buf shortbuf = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	git_libgit2_init();
	rc = git_repository_open_ext(&repo, path, 0, NULL);
	if (rc == GIT_ENOTFOUND) {
		rc =
		    ota_error(OTA_EINPUT,
			      "%s: not a git repository (nor any parent); "
			      "give the commit explicitly with --git-commit or "
			      "git.commit",
			      path);
		goto out;
	}
	if (rc < 0) {
		rc = ota_error(OTA_EINPUT, "%s: cannot open git repository: %s",
			       path, git_msg());
		goto out;
	}
	rc = git_repository_head(&head, repo);
	if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) {
		rc = ota_error(OTA_EINPUT, "%s: git repository has no commits",
			       path);
		goto out;
	}
	if (rc < 0 || git_reference_peel(&commit, head, GIT_OBJECT_COMMIT) < 0)
		goto giterr;

	git_oid_tostr(out->commit, sizeof(out->commit), git_object_id(commit));
	if (git_object_short_id(&shortbuf, commit) < 0)
		goto giterr;
	copy_str(out->short_id, sizeof(out->short_id), shortbuf.ptr);
	if (!git_repository_head_detached(repo))
		copy_str(out->branch, sizeof(out->branch),
			 git_reference_shorthand(head));
	if (read_describe(out, repo, commit) < 0 || read_dirty(out, repo) < 0)
		goto giterr;
	rc = 0;
	goto out;
giterr:
	rc = ota_error(OTA_EINPUT, "%s: git: %s", path, git_msg());
out:
	git_buf_dispose(&shortbuf);
	git_object_free(commit);
	git_reference_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
