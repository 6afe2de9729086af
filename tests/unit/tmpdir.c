/* The scratch directories of tmpdir.h. */
#include "tmpdir.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tmpdir_make(char *buf, size_t size, const char *name)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(buf, size, "%s/otatool-%s-XXXXXX",
		     tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);
	cr_assert(n > 0 && (size_t)n < size, "tmpdir: path too long");
	cr_assert_not_null(mkdtemp(buf), "mkdtemp %s: %s", buf,
			   strerror(errno));
}

void tmpdir_remove(const char *path)
{
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	/* A test may have taken the owner's permissions away. */
	(void)chmod(path, 0700);
	d = opendir(path);
	if (d) {
		while ((e = readdir(d))) {
			char sub[4096];

			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			tmpdir_remove(sub);
		}
		closedir(d);
	}
	rmdir(path);
}
