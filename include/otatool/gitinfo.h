/* What a release records of its source: commit, branch, nearest tag, dirt. */
#ifndef OTATOOL_GITINFO_H
#define OTATOOL_GITINFO_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTA_GIT_ID_MAX   64 /* hex digits of the longest object id */
#define OTA_GIT_NAME_MAX 255

struct ota_git_info {
	char commit[OTA_GIT_ID_MAX + 1];   /* full hex commit id */
	char short_id[OTA_GIT_ID_MAX + 1]; /* core.abbrev-aware short id */
	char branch[OTA_GIT_NAME_MAX + 1]; /* "" when HEAD is detached */
	char tag[OTA_GIT_NAME_MAX + 1];    /* nearest tag, "" when none */
	char describe[OTA_GIT_NAME_MAX +
		      1]; /* "v1.2-3-gabc1234", "" if no tag */
	bool dirty; /* tracked files modified or staged (untracked ignored) */
};

/*
 * Reads HEAD of the repository containing path (searching parent
 * directories, as git does). Not a repository, an unborn HEAD or a libgit2
 * failure is OTA_EINPUT naming path. The dirty flag follows
 * `git describe --dirty`: untracked files do not count.
 */
int ota_git_read(struct ota_git_info *out, const char *path);

#ifdef __cplusplus
}
#endif
#endif
