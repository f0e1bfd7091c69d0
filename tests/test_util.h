/* test_util: helpers shared by the test files (temporary directories). */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stddef.h>

/* Makes a fresh directory under $TMPDIR (or /tmp) and returns its path in
 * buf; the test removes it with tu_rmtree. */
int tu_mkdtemp(char *buf, unsigned long cap, const char *tag);
/* rm -rf path (refuses anything outside the temporary directory). */
int tu_rmtree(const char *path);
/* The whole file, NUL-terminated (free it); NULL when it cannot be read. */
char *tu_read_file(const char *path, size_t *len);

#endif
