/* test_util: temporary directories for tests. */
#define _XOPEN_SOURCE 700
#include "test_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *tmp_base(void) {
    const char *t = getenv("TMPDIR");
    return (t && *t) ? t : "/tmp";
}

int tu_mkdtemp(char *buf, unsigned long cap, const char *tag) {
    snprintf(buf, cap, "%s/snapsim-test-%s-XXXXXX", tmp_base(), tag);
    return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

int tu_rmtree(const char *path) {
    if (strstr(path, "/snapsim-test-") == NULL) return -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *more = realloc(buf, (cap *= 2) + 1);
            if (more == NULL) free(buf);
            buf = more;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = n;
    return buf;
}
