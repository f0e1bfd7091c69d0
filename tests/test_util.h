/* test_util: helpers shared by the test files (temporary directories). */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

/* Makes a fresh directory under $TMPDIR (or /tmp) and returns its path in
 * buf; the test removes it with tu_rmtree. */
int tu_mkdtemp(char *buf, unsigned long cap, const char *tag);
/* rm -rf path (refuses anything outside the temporary directory). */
int tu_rmtree(const char *path);

#endif
