/*
 * Test-only scratch directories: one fresh directory per test, made in
 * .init and removed with everything under it in .fini.
 */
#ifndef OTATOOL_TEST_TMPDIR_H
#define OTATOOL_TEST_TMPDIR_H

#include <stddef.h>

/*
 * Makes a new directory "$TMPDIR/otatool-NAME-XXXXXX" ("/tmp" when TMPDIR
 * is unset or empty) and writes its path into buf; a failure fails the
 * test.
 */
void tmpdir_make(char *buf, size_t size, const char *name);

/*
 * Removes path and everything under it. Symbolic links are removed, never
 * followed; a missing path is not an error.
 */
void tmpdir_remove(const char *path);

#endif
