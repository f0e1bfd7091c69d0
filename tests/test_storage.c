/* test_storage: runtime/rt_storage.c. Every behavioural test runs against
 * both implementations (a directory store in a temporary directory and an
 * in-memory store); the sandbox's symlink rules only against the first. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_storage.h"
#include "test_util.h"

/* ---- fixture ------------------------------------------------------------ */

#define TEST_TMP_CAP 512 /* temporary directories: short, so joins fit PATH_MAX */

static char g_tmp[TEST_TMP_CAP];   /* the dir store's temporary directory */
static char g_root[PATH_MAX]; /* g_tmp/root: the dir store's root */

static rt_store *open_store(int mem) {
    rt_store *s = NULL;
    rt_error e;
    rt_error_clear(&e);
    if (mem) {
        g_tmp[0] = '\0';
        CU_ASSERT_EQUAL(rt_store_open_mem(&s, "test", &e), RT_OK);
        return s;
    }
    if (tu_mkdtemp(g_tmp, sizeof g_tmp, "storage") != 0) return NULL;
    snprintf(g_root, sizeof g_root, "%s/root", g_tmp);
    CU_ASSERT_EQUAL(rt_store_open_dir(&s, g_root, 1, &e), RT_OK);
    return s;
}

static void close_store(rt_store *s) {
    rt_store_close(s);
    if (g_tmp[0] != '\0') CU_ASSERT_EQUAL(tu_rmtree(g_tmp), 0);
    g_tmp[0] = '\0';
}

static void run_on(int mem, void (*fn)(rt_store *)) {
    rt_store *s = open_store(mem);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rt_store_is_mem(s), mem);
    fn(s);
    close_store(s);
}

/* One behavioural test, registered once per implementation. */
#define BOTH(fn)                                 \
    static void fn##_dir(void) { run_on(0, fn); } \
    static void fn##_mem(void) { run_on(1, fn); }

static rt_err put_str(rt_store *s, const char *path, const char *text) {
    rt_error e;
    rt_error_clear(&e);
    return rt_store_put(s, path, text, strlen(text), &e);
}

static rt_err get_rc(rt_store *s, const char *path) {
    rt_error e;
    rt_error_clear(&e);
    uint8_t *data = NULL;
    size_t len = 0;
    rt_err rc = rt_store_get(s, path, &data, &len, &e);
    free(data);
    return rc;
}

/* 1 if path holds exactly want[0, len). */
static int holds(rt_store *s, const char *path, const void *want, size_t len) {
    rt_error e;
    rt_error_clear(&e);
    uint8_t *data = NULL;
    size_t got = 0;
    if (rt_store_get(s, path, &data, &got, &e) != RT_OK) return 0;
    int same = got == len && (len == 0 || memcmp(data, want, len) == 0);
    free(data);
    return same;
}

static int holds_str(rt_store *s, const char *path, const char *text) {
    return holds(s, path, text, strlen(text));
}

/* 1 if listing dir gives exactly want[0..n), in this order. */
static int lists(rt_store *s, const char *dir, const char *const *want, size_t n) {
    rt_error e;
    rt_error_clear(&e);
    rt_strlist l = {0};
    int ok = rt_store_list(s, dir, &l, &e) == RT_OK && l.len == n;
    for (size_t i = 0; ok && i < n; i++) ok = strcmp(l.items[i], want[i]) == 0;
    if (!ok)
        for (size_t i = 0; i < l.len; i++) fprintf(stderr, "  listed %s: %s\n", dir, l.items[i]);
    rt_strlist_free(&l);
    return ok;
}

static void plan1(rt_fault_plan *p, rt_store_op op, uint64_t nth, rt_fault_kind kind, int persistent,
                  uint64_t arg) {
    memset(p, 0, sizeof *p);
    p->faults[0] = (rt_fault){.op = op, .nth = nth, .kind = kind, .persistent = persistent, .arg = arg};
    p->n = 1;
}

/* ---- basic operations --------------------------------------------------- */

static void t_roundtrip(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    const uint8_t bin[] = {0, 1, 2, 0xff, 0, 42};
    CU_ASSERT_EQUAL(rt_store_put(s, "job/shared/a.sst", bin, sizeof bin, &e), RT_OK);
    CU_ASSERT(holds(s, "job/shared/a.sst", bin, sizeof bin));
    CU_ASSERT(rt_store_exists(s, "job/shared/a.sst"));
    CU_ASSERT(!rt_store_exists(s, "job/shared"));
    CU_ASSERT(!rt_store_exists(s, "job/shared/b.sst"));
    uint64_t size = 0;
    CU_ASSERT_EQUAL(rt_store_size(s, "job/shared/a.sst", &size, &e), RT_OK);
    CU_ASSERT_EQUAL(size, sizeof bin);
    CU_ASSERT_EQUAL(rt_store_size(s, "job/nope", &size, &e), RT_ENOENT);
    CU_ASSERT_EQUAL(put_str(s, "job/shared/a.sst", "replaced"), RT_OK);
    CU_ASSERT(holds_str(s, "job/shared/a.sst", "replaced"));
    CU_ASSERT_EQUAL(rt_store_put(s, "empty", NULL, 0, &e), RT_OK);
    CU_ASSERT(holds(s, "empty", "", 0));
    CU_ASSERT(rt_store_exists(s, "empty"));
    CU_ASSERT_EQUAL(get_rc(s, "missing"), RT_ENOENT);
    CU_ASSERT_EQUAL(get_rc(s, "job"), RT_ENOENT); /* a directory is not a file */
    const rt_store_stats *st = rt_store_get_stats(s);
    CU_ASSERT_EQUAL(st->files_written, 3);
    CU_ASSERT_EQUAL(st->bytes_written, sizeof bin + strlen("replaced"));
    CU_ASSERT_EQUAL(st->ops[RT_OP_PUT], 3);
    CU_ASSERT_EQUAL(st->ops[RT_OP_GET], 5); /* exists and size are not counted */
}
BOTH(t_roundtrip)

static void t_list_sorted_recursive(rt_store *s) {
    /* Put in scrambled order; bytewise order puts "a.txt" ('.') before
     * "a/..." ('/') before "ab/..." ('b'). */
    const char *puts[] = {"b", "a/z", "ab/x", "a/b/c", "a.txt", "a/b/a", "a-/q"};
    for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) CU_ASSERT_EQUAL(put_str(s, puts[i], puts[i]), RT_OK);
    const char *all[] = {"a-/q", "a.txt", "a/b/a", "a/b/c", "a/z", "ab/x", "b"};
    CU_ASSERT(lists(s, "", all, 7));
    const char *under_a[] = {"a/b/a", "a/b/c", "a/z"};
    CU_ASSERT(lists(s, "a", under_a, 3));
    CU_ASSERT(lists(s, "a/b", under_a, 2));
    CU_ASSERT(lists(s, "missing", NULL, 0));
    CU_ASSERT(lists(s, "b", NULL, 0)); /* a file is not a directory */
    /* The list replaces what the output held. */
    rt_strlist l = {0};
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(rt_strlist_push(&l, "stale"), 0);
    CU_ASSERT_EQUAL(rt_store_list(s, "ab", &l, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(l.len, 1);
    CU_ASSERT_STRING_EQUAL(l.items[0], "ab/x");
    rt_strlist_free(&l);
}
BOTH(t_list_sorted_recursive)

static void t_delete(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "d/one", "1"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "d/two", "2"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_delete(s, "d/one", &e), RT_OK);
    CU_ASSERT(!rt_store_exists(s, "d/one"));
    CU_ASSERT_EQUAL(get_rc(s, "d/one"), RT_ENOENT);
    CU_ASSERT_EQUAL(rt_store_delete(s, "d/one", &e), RT_ENOENT);
    CU_ASSERT_EQUAL(rt_store_delete(s, "d", &e), RT_ENOENT); /* not a file */
    const char *left[] = {"d/two"};
    CU_ASSERT(lists(s, "", left, 1));
    /* Deleting the last file leaves no directory behind in either store:
     * a file can be put where the directory was. */
    CU_ASSERT_EQUAL(rt_store_delete(s, "d/two", &e), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "d", "now a file"), RT_OK);
    CU_ASSERT(holds_str(s, "d", "now a file"));
}
BOTH(t_delete)

static void t_delete_tree(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    const char *puts[] = {"t/x", "t/b/y", "t/b/c/z", "tt/keep", "t.keep"};
    for (size_t i = 0; i < 5; i++) CU_ASSERT_EQUAL(put_str(s, puts[i], "v"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "t", &e), RT_OK);
    const char *left[] = {"t.keep", "tt/keep"};
    CU_ASSERT(lists(s, "", left, 2));
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "t", &e), RT_OK); /* missing: nothing to do */
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "t.keep", &e), RT_EINPUT);
    CU_ASSERT(rt_store_exists(s, "t.keep"));
    CU_ASSERT_EQUAL(put_str(s, "t", "file where the tree was"), RT_OK);
    if (!rt_store_is_mem(s)) { /* the directories are gone too */
        char abs[PATH_MAX];
        struct stat st;
        snprintf(abs, sizeof abs, "%s/t", rt_store_root(s));
        CU_ASSERT(lstat(abs, &st) == 0 && S_ISREG(st.st_mode));
    }
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "", &e), RT_OK);
    CU_ASSERT(lists(s, "", NULL, 0));
    CU_ASSERT_EQUAL(put_str(s, "again", "the root survived"), RT_OK);
}
BOTH(t_delete_tree)

static void t_rename_file_and_dir(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "f", "file"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_rename(s, "f", "deep/er/g", &e), RT_OK);
    CU_ASSERT(!rt_store_exists(s, "f"));
    CU_ASSERT(holds_str(s, "deep/er/g", "file"));
    const char *puts[] = {"sp/_metadata", "sp/shared/1.sst", "sp/shared/2.sst", "sp2/x", "sp.x"};
    for (size_t i = 0; i < 5; i++) CU_ASSERT_EQUAL(put_str(s, puts[i], puts[i]), RT_OK);
    CU_ASSERT_EQUAL(rt_store_rename(s, "sp", "moved/sp", &e), RT_OK);
    const char *all[] = {"deep/er/g", "moved/sp/_metadata", "moved/sp/shared/1.sst",
                         "moved/sp/shared/2.sst", "sp.x", "sp2/x"};
    CU_ASSERT(lists(s, "", all, 6));
    CU_ASSERT(holds_str(s, "moved/sp/shared/2.sst", "sp/shared/2.sst"));
    CU_ASSERT_EQUAL(rt_store_rename(s, "nope", "other", &e), RT_ENOENT);
    CU_ASSERT_EQUAL(rt_store_rename(s, "moved", "moved/inside", &e), RT_EINPUT);
    CU_ASSERT_EQUAL(rt_store_rename(s, "moved/sp", "sp", &e), RT_OK); /* and back */
    CU_ASSERT(holds_str(s, "sp/_metadata", "sp/_metadata"));
    CU_ASSERT(lists(s, "moved", NULL, 0));
}
BOTH(t_rename_file_and_dir)

static void t_rename_onto_existing(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "a", "A"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "b", "B"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "d1/x", "X"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "d2/y", "Y"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "b", &e), RT_EEXIST);
    CU_ASSERT(strstr(e.msg, "a") != NULL && strstr(e.msg, "b") != NULL);
    CU_ASSERT(holds_str(s, "a", "A"));
    CU_ASSERT(holds_str(s, "b", "B"));
    CU_ASSERT_EQUAL(rt_store_rename(s, "d1", "d2", &e), RT_EEXIST);
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "d2", &e), RT_EEXIST);
    CU_ASSERT_EQUAL(rt_store_rename(s, "d1", "b", &e), RT_EEXIST);
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "b/under", &e), RT_EEXIST); /* below a file */
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "a", &e), RT_EEXIST);
    const char *all[] = {"a", "b", "d1/x", "d2/y"};
    CU_ASSERT(lists(s, "", all, 4));
}
BOTH(t_rename_onto_existing)

static void t_put_shape_conflicts(rt_store *s) {
    CU_ASSERT_EQUAL(put_str(s, "dir/x", "x"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "dir", "onto a directory"), RT_EEXIST);
    CU_ASSERT_EQUAL(put_str(s, "dir/x/y", "below a file"), RT_EEXIST);
    const char *all[] = {"dir/x"};
    CU_ASSERT(lists(s, "", all, 1));
    CU_ASSERT(holds_str(s, "dir/x", "x"));
}
BOTH(t_put_shape_conflicts)

/* ---- the sandbox ------------------------------------------------------- */

static const char *const escapes[] = {
    "../x", "/etc/passwd", "a/../../b", "a//b", "./a", "", "a/", "a/.", "..", "a\\..\\b",
};
#define ESCAPES_LEN (sizeof escapes / sizeof escapes[0])

static void check_refused(rt_store *s, const char *bad) {
    rt_error e;
    rt_error_clear(&e);
    uint8_t *data = NULL;
    size_t len = 0;
    uint64_t size = 0;
    CU_ASSERT_EQUAL(rt_store_check_path(bad, &e), RT_ESANDBOX);
    if (bad[0] != '\0' && strlen(bad) < 300) CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad));
    CU_ASSERT_EQUAL(rt_store_put(s, bad, "evil", 4, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_get(s, bad, &data, &len, &e), RT_ESANDBOX);
    CU_ASSERT_PTR_NULL(data);
    CU_ASSERT_EQUAL(rt_store_size(s, bad, &size, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_delete(s, bad, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_rename(s, "ok", bad, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_rename(s, bad, "ok2", &e), RT_ESANDBOX);
    CU_ASSERT(!rt_store_exists(s, bad));
    if (bad[0] == '\0') return; /* "" is the root for list and delete_tree */
    rt_strlist l = {0};
    CU_ASSERT_EQUAL(rt_store_list(s, bad, &l, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, bad, &e), RT_ESANDBOX);
}

static void t_sandbox_escapes(rt_store *s) {
    CU_ASSERT_EQUAL(put_str(s, "ok", "fine"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "a/b", "fine"), RT_OK);
    const rt_store_stats *st = rt_store_get_stats(s);
    uint64_t puts = st->ops[RT_OP_PUT];
    for (size_t i = 0; i < ESCAPES_LEN; i++) check_refused(s, escapes[i]);
    char longp[1100];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    check_refused(s, longp);
    longp[1023] = '\0'; /* exactly 1023 characters is allowed */
    CU_ASSERT_EQUAL(rt_store_check_path(longp, NULL), RT_OK);
    longp[1023] = 'a';
    longp[1024] = '\0';
    CU_ASSERT_EQUAL(rt_store_check_path(longp, NULL), RT_ESANDBOX);
    /* Refused calls never reached the storage. */
    CU_ASSERT_EQUAL(st->ops[RT_OP_PUT], puts);
    for (int op = RT_OP_GET; op < RT_OP_COUNT; op++) CU_ASSERT_EQUAL(st->ops[op], 0);
    const char *all[] = {"a/b", "ok"};
    CU_ASSERT(lists(s, "", all, 2));
    if (!rt_store_is_mem(s)) { /* nothing landed beside the root */
        DIR *d = opendir(g_tmp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        int entries = 0;
        for (struct dirent *de = readdir(d); de != NULL; de = readdir(d))
            entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        CU_ASSERT_EQUAL(entries, 1); /* just root/ */
    }
}
BOTH(t_sandbox_escapes)

static void test_check_path_allows(void) {
    const char *good[] = {"a", "a/b.c", "..a", "a..", ".hidden/x", "chk-1/_metadata", "a b/c"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CU_ASSERT_EQUAL(rt_store_check_path(good[i], NULL), RT_OK);
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(rt_store_check_path("x/../y", &e), RT_ESANDBOX);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "x/../y"));
    CU_ASSERT_EQUAL(e.code, RT_ESANDBOX);
    CU_ASSERT_PTR_NOT_NULL(e.file);
}

static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (d == NULL) return 0;
    int entries = 0;
    for (struct dirent *de = readdir(d); de != NULL; de = readdir(d))
        entries += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return entries == 0;
}

/* Symlinks only exist in the directory store. */
static void t_symlinks_refused(rt_store *s, const char *outside) {
    rt_error e;
    rt_error_clear(&e);
    char link[PATH_MAX], secret[PATH_MAX];
    snprintf(link, sizeof link, "%s/link", rt_store_root(s));
    CU_ASSERT_EQUAL_FATAL(symlink(outside, link), 0);
    CU_ASSERT_EQUAL(put_str(s, "link/x", "escaped"), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_put(s, "link/sub/x", "e", 1, &e), RT_ESANDBOX);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "link"));
    CU_ASSERT_EQUAL(get_rc(s, "link/x"), RT_ESANDBOX);
    CU_ASSERT(dir_is_empty(outside)); /* nothing was written outside */
    snprintf(secret, sizeof secret, "%s/secret", outside);
    FILE *f = fopen(secret, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("secret", f);
    fclose(f);
    CU_ASSERT_EQUAL(get_rc(s, "link/secret"), RT_ESANDBOX);
    CU_ASSERT(!rt_store_exists(s, "link/secret"));
    rt_strlist l = {0};
    CU_ASSERT_EQUAL(rt_store_list(s, "link", &l, &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_list(s, "", &l, &e), RT_OK);
    CU_ASSERT_EQUAL(l.len, 0); /* the link is not followed, nor listed */
    rt_strlist_free(&l);
    CU_ASSERT_EQUAL(rt_store_delete(s, "link/secret", &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "link", &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(rt_store_rename(s, "link", "elsewhere", &e), RT_ESANDBOX);
    CU_ASSERT_EQUAL(put_str(s, "real/f", "f"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_rename(s, "real/f", "link/f", &e), RT_ESANDBOX);
}

/* A symlink as the final component, to a file outside. */
static void t_symlink_final_component(rt_store *s, const char *outside) {
    rt_error e;
    rt_error_clear(&e);
    char secret[PATH_MAX], flink[PATH_MAX];
    snprintf(secret, sizeof secret, "%s/secret", outside);
    snprintf(flink, sizeof flink, "%s/sub/flink", rt_store_root(s));
    CU_ASSERT_EQUAL(put_str(s, "sub/real", "r"), RT_OK);
    CU_ASSERT_EQUAL_FATAL(symlink(secret, flink), 0);
    CU_ASSERT_EQUAL(get_rc(s, "sub/flink"), RT_ESANDBOX);
    CU_ASSERT_EQUAL(put_str(s, "sub/flink", "overwrite"), RT_ESANDBOX);
    uint64_t size;
    CU_ASSERT_EQUAL(rt_store_size(s, "sub/flink", &size, &e), RT_ESANDBOX);
    CU_ASSERT(!rt_store_exists(s, "sub/flink"));
    const char *all[] = {"real/f", "sub/real"}; /* the links are not listed */
    CU_ASSERT(lists(s, "", all, 2));
    FILE *f = fopen(secret, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[32] = "";
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "secret");
    /* delete_tree of the parent removes the link itself, not its target. */
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "sub", &e), RT_OK);
    struct stat st;
    CU_ASSERT_EQUAL(stat(secret, &st), 0);
}

static void test_symlinks_dir(void) {
    char outside[TEST_TMP_CAP];
    CU_ASSERT_EQUAL_FATAL(tu_mkdtemp(outside, sizeof outside, "outside"), 0);
    rt_store *s = open_store(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    t_symlinks_refused(s, outside);
    t_symlink_final_component(s, outside);
    close_store(s);
    CU_ASSERT_EQUAL(tu_rmtree(outside), 0);
}

static void test_open_dir_root(void) {
    char tmp[TEST_TMP_CAP], path[PATH_MAX], canon[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(tu_mkdtemp(tmp, sizeof tmp, "open"), 0);
    rt_store *s = NULL;
    rt_error e;
    rt_error_clear(&e);
    snprintf(path, sizeof path, "%s/missing", tmp);
    CU_ASSERT_EQUAL(rt_store_open_dir(&s, path, 0, &e), RT_ENOENT);
    CU_ASSERT_PTR_NULL(s);
    snprintf(path, sizeof path, "%s/x/../made/./deeper", tmp);
    CU_ASSERT_EQUAL_FATAL(rt_store_open_dir(&s, path, 1, &e), RT_OK); /* mkdir -p */
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(path, canon));
    CU_ASSERT_STRING_EQUAL(rt_store_root(s), canon);
    CU_ASSERT_PTR_NULL(strstr(rt_store_root(s), ".."));
    CU_ASSERT_EQUAL(put_str(s, "f", "in the root"), RT_OK);
    rt_store_close(s);
    snprintf(path, sizeof path, "%s/made/../made/./deeper/", tmp);
    CU_ASSERT_EQUAL_FATAL(rt_store_open_dir(&s, path, 0, &e), RT_OK);
    CU_ASSERT_STRING_EQUAL(rt_store_root(s), canon);
    CU_ASSERT(holds_str(s, "f", "in the root"));
    rt_store_close(s);
    snprintf(path, sizeof path, "%s/made/deeper/f", tmp);
    CU_ASSERT_EQUAL(rt_store_open_dir(&s, path, 0, &e), RT_EINPUT); /* a file */
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

static void t_relativize(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    char abs[PATH_MAX], rel[64], bad[PATH_MAX];
    const char *root = rt_store_root(s);
    if (rt_store_is_mem(s)) CU_ASSERT_STRING_EQUAL(root, "mem://test");
    rt_store_absolute(s, "chk-3/_metadata", abs, sizeof abs);
    snprintf(bad, sizeof bad, "%s/chk-3/_metadata", root);
    CU_ASSERT_STRING_EQUAL(abs, bad);
    CU_ASSERT_EQUAL(rt_store_relativize(s, abs, rel, sizeof rel, &e), RT_OK);
    CU_ASSERT_STRING_EQUAL(rel, "chk-3/_metadata");
    const char *fmts[] = {"%s/../x", "%sx/a", "%s", "%s/", "%s//a", "/elsewhere%s/a"};
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        snprintf(bad, sizeof bad, fmts[i], root);
        rt_error_clear(&e);
        CU_ASSERT_EQUAL(rt_store_relativize(s, bad, rel, sizeof rel, &e), RT_ESANDBOX);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad));
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg + strlen(bad), root));
    }
    rt_store_absolute(s, "", abs, sizeof abs);
    CU_ASSERT_STRING_EQUAL(abs, root);
}
BOTH(t_relativize)

/* ---- faults on the nth call --------------------------------------------- */

static void t_fault_eio_nth(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "p3", "old"), RT_OK);
    rt_fault_plan plan;
    plan1(&plan, RT_OP_PUT, 3, RT_FAULT_EIO, 0, 0);
    rt_store_set_faults(s, &plan); /* counting restarts here */
    CU_ASSERT_EQUAL(put_str(s, "p1", "1"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "p2", "2"), RT_OK);
    CU_ASSERT_EQUAL(rt_store_put(s, "p3", "new", 3, &e), RT_EIO);
    CU_ASSERT_STRING_EQUAL(e.msg, "put p3: injected I/O error");
    CU_ASSERT(holds_str(s, "p3", "old")); /* nothing changed */
    CU_ASSERT_EQUAL(put_str(s, "p4", "4"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "p3", "new"), RT_OK);
    CU_ASSERT(holds_str(s, "p3", "new"));
    const rt_store_stats *st = rt_store_get_stats(s);
    CU_ASSERT_EQUAL(st->faults_fired, 1);
    CU_ASSERT_EQUAL(st->files_written, 5); /* the failed put is not counted */
    rt_fault_event ev[4];
    CU_ASSERT_EQUAL_FATAL(rt_store_drain_fault_events(s, ev, 4), 1);
    CU_ASSERT_EQUAL(ev[0].op, RT_OP_PUT);
    CU_ASSERT_EQUAL(ev[0].kind, RT_FAULT_EIO);
    CU_ASSERT_STRING_EQUAL(ev[0].path, "p3");
}
BOTH(t_fault_eio_nth)

static void t_fault_persistent(rt_store *s) {
    rt_fault_plan plan;
    plan1(&plan, RT_OP_PUT, 3, RT_FAULT_EIO, 1, 0);
    rt_store_set_faults(s, &plan);
    const rt_err want[] = {RT_OK, RT_OK, RT_EIO, RT_EIO, RT_EIO};
    for (int i = 0; i < 5; i++) {
        char path[16];
        snprintf(path, sizeof path, "p%d", i + 1);
        CU_ASSERT_EQUAL(put_str(s, path, "x"), want[i]);
    }
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, 3);
    rt_store_set_faults(s, NULL); /* cleared: puts work again */
    CU_ASSERT_EQUAL(put_str(s, "p6", "x"), RT_OK);
    const char *all[] = {"p1", "p2", "p6"};
    CU_ASSERT(lists(s, "", all, 3));
}
BOTH(t_fault_persistent)

static void t_fault_other_ops(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "a", "A"), RT_OK);
    rt_fault_plan plan = {0};
    rt_store_op ops[] = {RT_OP_GET, RT_OP_LIST, RT_OP_DELETE, RT_OP_RENAME};
    for (int i = 0; i < 4; i++) plan.faults[i] = (rt_fault){.op = ops[i], .nth = 2, .kind = RT_FAULT_EIO};
    plan.n = 4;
    rt_store_set_faults(s, &plan);
    rt_strlist l = {0};
    CU_ASSERT_EQUAL(get_rc(s, "a"), RT_OK);
    CU_ASSERT_EQUAL(get_rc(s, "missing"), RT_EIO); /* the fault decides first */
    CU_ASSERT_EQUAL(rt_store_list(s, "", &l, &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_list(s, "", &l, &e), RT_EIO);
    CU_ASSERT_EQUAL(l.len, 0);
    CU_ASSERT_STRING_EQUAL(e.msg, "list (root): injected I/O error");
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "b", &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_rename(s, "b", "c", &e), RT_EIO);
    CU_ASSERT(holds_str(s, "b", "A"));
    CU_ASSERT_EQUAL(rt_store_delete(s, "missing", &e), RT_ENOENT);
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "b", &e), RT_EIO); /* delete call #2 */
    CU_ASSERT(rt_store_exists(s, "b"));
    CU_ASSERT_EQUAL(rt_store_delete(s, "b", &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, 4);
    rt_strlist_free(&l);
}
BOTH(t_fault_other_ops)

static void t_fault_prefix(rt_store *s) {
    rt_fault_plan plan;
    plan1(&plan, RT_OP_PUT, 2, RT_FAULT_EIO, 0, 0);
    snprintf(plan.faults[0].path_prefix, sizeof plan.faults[0].path_prefix, "job/");
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(put_str(s, "other/a", "x"), RT_OK); /* not counted */
    CU_ASSERT_EQUAL(put_str(s, "job/a", "x"), RT_OK);   /* 1 */
    CU_ASSERT_EQUAL(put_str(s, "other/b", "x"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "jobs/x", "x"), RT_OK);  /* "jobs/" is not "job/" */
    CU_ASSERT_EQUAL(put_str(s, "job/b", "x"), RT_EIO);  /* 2 */
    CU_ASSERT_EQUAL(put_str(s, "job/c", "x"), RT_OK);
    CU_ASSERT(!rt_store_exists(s, "job/b"));
}
BOTH(t_fault_prefix)

static void t_fault_nospace(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_NOSPACE};
    plan.faults[1] = (rt_fault){.op = RT_OP_GET, .nth = 1, .kind = RT_FAULT_NOSPACE};
    plan.n = 2;
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(rt_store_put(s, "full", "data", 4, &e), RT_ENOSPC);
    CU_ASSERT_STRING_EQUAL(e.msg, "put full: injected no space left");
    CU_ASSERT(!rt_store_exists(s, "full"));
    CU_ASSERT_EQUAL(put_str(s, "full", "data"), RT_OK);
    CU_ASSERT_EQUAL(get_rc(s, "full"), RT_EIO); /* nospace on get reads as an I/O error */
    CU_ASSERT(holds_str(s, "full", "data"));
}
BOTH(t_fault_nospace)

static void t_fault_torn(rt_store *s) {
    const char data[] = "0123456789abcdef"; /* 16 bytes */
    rt_error e;
    rt_error_clear(&e);
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 2, .kind = RT_FAULT_TORN, .arg = 21};
    plan.faults[1] = (rt_fault){.op = RT_OP_PUT, .nth = 3, .kind = RT_FAULT_TORN, .arg = 7};
    plan.n = 2;
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(rt_store_put(s, "whole", data, 16, &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_put(s, "torn", data, 16, &e), RT_OK); /* reports success */
    CU_ASSERT_EQUAL(rt_store_put(s, "empty", data, 0, &e), RT_OK);
    CU_ASSERT(holds(s, "whole", data, 16));
    CU_ASSERT(holds(s, "torn", data, 21 % 16)); /* the first 5 bytes */
    CU_ASSERT(holds(s, "empty", "", 0));
    uint64_t size = 0;
    CU_ASSERT_EQUAL(rt_store_size(s, "torn", &size, &e), RT_OK);
    CU_ASSERT_EQUAL(size, 5);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->bytes_written, 32); /* what was asked */
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, 2);
}
BOTH(t_fault_torn)

/* Exactly one bit differs: bit arg%8 of byte (arg/8)%len. */
static void check_one_flip(rt_store *s, const char *path, const uint8_t *orig, size_t len, uint64_t arg) {
    rt_error e;
    rt_error_clear(&e);
    uint8_t *got = NULL;
    size_t got_len = 0;
    CU_ASSERT_EQUAL_FATAL(rt_store_get(s, path, &got, &got_len, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(got_len, len);
    for (size_t i = 0; i < len; i++) {
        unsigned diff = (unsigned)(got[i] ^ orig[i]);
        CU_ASSERT_EQUAL(diff, i == (arg / 8) % len ? 1u << (arg % 8) : 0u);
    }
    free(got);
}

static void t_fault_bitflip(rt_store *s) {
    uint8_t data[10];
    for (int i = 0; i < 10; i++) data[i] = (uint8_t)(0x55 + i);
    rt_error e;
    rt_error_clear(&e);
    const uint64_t args[] = {30, 8 * 13 + 2, 0};
    rt_fault_plan plan = {0};
    for (int i = 0; i < 3; i++)
        plan.faults[i] = (rt_fault){.op = RT_OP_PUT, .nth = (uint64_t)i + 1, .kind = RT_FAULT_BITFLIP, .arg = args[i]};
    plan.n = 3;
    rt_store_set_faults(s, &plan);
    const char *paths[] = {"f30", "f106", "f0"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(rt_store_put(s, paths[i], data, sizeof data, &e), RT_OK);
        check_one_flip(s, paths[i], data, sizeof data, args[i]);
    }
    CU_ASSERT(!holds(s, "f30", data, sizeof data));
    /* byte 3 bit 6 for arg 30: checked by value too */
    uint8_t *got = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(rt_store_get(s, "f30", &got, &len, &e), RT_OK);
    CU_ASSERT_EQUAL(got[3], data[3] ^ 0x40);
    free(got);
    CU_ASSERT_EQUAL(rt_store_put(s, "after", data, sizeof data, &e), RT_OK);
    CU_ASSERT(holds(s, "after", data, sizeof data));
}
BOTH(t_fault_bitflip)

static void t_fault_lost(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "dir/old", "old content"), RT_OK);
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_LOST};
    plan.faults[1] = (rt_fault){.op = RT_OP_PUT, .nth = 2, .kind = RT_FAULT_LOST};
    plan.n = 2;
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(put_str(s, "dir/old", "new content"), RT_OK); /* reports success */
    CU_ASSERT(!rt_store_exists(s, "dir/old"));                    /* the old one is gone too */
    CU_ASSERT_EQUAL(get_rc(s, "dir/old"), RT_ENOENT);
    CU_ASSERT_EQUAL(put_str(s, "fresh", "x"), RT_OK);
    CU_ASSERT(!rt_store_exists(s, "fresh"));
    CU_ASSERT(lists(s, "", NULL, 0));
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->files_written, 3);
    rt_fault_event ev[4];
    CU_ASSERT_EQUAL(rt_store_drain_fault_events(s, ev, 4), 2);
    CU_ASSERT_EQUAL(ev[1].kind, RT_FAULT_LOST);
    CU_ASSERT_STRING_EQUAL(ev[1].path, "fresh");
}
BOTH(t_fault_lost)

static void t_fault_slow(rt_store *s) {
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 2, .kind = RT_FAULT_SLOW, .arg = 250};
    plan.faults[1] = (rt_fault){.op = RT_OP_GET, .nth = 1, .kind = RT_FAULT_SLOW, .persistent = 1, .arg = 10};
    plan.n = 2;
    rt_store_set_faults(s, &plan);
    const rt_store_stats *st = rt_store_get_stats(s);
    CU_ASSERT_EQUAL(put_str(s, "a", "a"), RT_OK);
    CU_ASSERT_EQUAL(st->slow_ms, 0);
    CU_ASSERT_EQUAL(put_str(s, "b", "b"), RT_OK);
    CU_ASSERT_EQUAL(st->slow_ms, 250);
    CU_ASSERT_EQUAL(put_str(s, "c", "c"), RT_OK);
    CU_ASSERT_EQUAL(st->slow_ms, 250);
    for (int i = 0; i < 3; i++) CU_ASSERT(holds_str(s, "b", "b"));
    CU_ASSERT_EQUAL(st->slow_ms, 280);
    CU_ASSERT_EQUAL(st->faults_fired, 4);
}
BOTH(t_fault_slow)

/* Kinds that only mean something on put: get fails, others are inert. */
static void t_fault_put_kinds_elsewhere(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "a", "A"), RT_OK);
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_GET, .nth = 1, .kind = RT_FAULT_TORN};
    plan.faults[1] = (rt_fault){.op = RT_OP_DELETE, .nth = 1, .kind = RT_FAULT_LOST};
    plan.faults[2] = (rt_fault){.op = RT_OP_RENAME, .nth = 1, .kind = RT_FAULT_BITFLIP};
    plan.n = 3;
    rt_store_set_faults(s, &plan);
    uint8_t *data = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL(rt_store_get(s, "a", &data, &len, &e), RT_EIO);
    CU_ASSERT_STRING_EQUAL(e.msg, "get a: injected I/O error (torn fault)");
    CU_ASSERT_EQUAL(rt_store_rename(s, "a", "b", &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_delete(s, "b", &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, 1);
}
BOTH(t_fault_put_kinds_elsewhere)

/* Two faults on one call: the slow one adds, the other decides. */
static void t_fault_two_on_one_call(rt_store *s) {
    rt_fault_plan plan = {0};
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_SLOW, .arg = 5};
    plan.faults[1] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_EIO};
    plan.faults[2] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_LOST};
    plan.n = 3;
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(put_str(s, "a", "A"), RT_EIO);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->slow_ms, 5);
    rt_fault_event ev[4];
    CU_ASSERT_EQUAL_FATAL(rt_store_drain_fault_events(s, ev, 4), 2);
    CU_ASSERT_EQUAL(ev[0].kind, RT_FAULT_SLOW);
    CU_ASSERT_EQUAL(ev[1].kind, RT_FAULT_EIO);
}
BOTH(t_fault_two_on_one_call)

static void t_fault_counters_reset(rt_store *s) {
    rt_fault_plan plan;
    plan1(&plan, RT_OP_PUT, 2, RT_FAULT_EIO, 0, 0);
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(put_str(s, "a", "A"), RT_OK);
    rt_store_set_faults(s, &plan); /* installed again: counting restarts */
    CU_ASSERT_EQUAL(put_str(s, "b", "B"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "c", "C"), RT_EIO);
    plan.faults[0].nth = 0; /* never fires */
    rt_store_set_faults(s, &plan);
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(put_str(s, "d", "D"), RT_OK);
}
BOTH(t_fault_counters_reset)

static void t_fault_events_in_order(rt_store *s) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(put_str(s, "x", "X"), RT_OK);
    rt_fault_plan plan = {0};
    for (int op = 0; op < RT_OP_COUNT; op++)
        plan.faults[op] = (rt_fault){.op = (rt_store_op)op, .nth = 1, .kind = RT_FAULT_EIO};
    plan.n = RT_OP_COUNT;
    rt_store_set_faults(s, &plan);
    rt_strlist l = {0};
    CU_ASSERT_EQUAL(put_str(s, "p", "P"), RT_EIO);
    CU_ASSERT_EQUAL(rt_store_list(s, "dir", &l, &e), RT_EIO);
    CU_ASSERT_EQUAL(get_rc(s, "g"), RT_EIO);
    CU_ASSERT_EQUAL(rt_store_rename(s, "x", "y", &e), RT_EIO);
    CU_ASSERT_EQUAL(rt_store_delete(s, "x", &e), RT_EIO);
    const rt_store_op want_op[] = {RT_OP_PUT, RT_OP_LIST, RT_OP_GET, RT_OP_RENAME, RT_OP_DELETE};
    const char *want_path[] = {"p", "dir", "g", "x", "x"};
    rt_fault_event ev[8];
    CU_ASSERT_EQUAL_FATAL(rt_store_drain_fault_events(s, ev, 2), 2);
    CU_ASSERT_EQUAL_FATAL(rt_store_drain_fault_events(s, ev + 2, 8), 3);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(ev[i].op, want_op[i]);
        CU_ASSERT_STRING_EQUAL(ev[i].path, want_path[i]);
    }
    CU_ASSERT_EQUAL(rt_store_drain_fault_events(s, ev, 8), 0);
}
BOTH(t_fault_events_in_order)

static void t_fault_events_ring_drops_oldest(rt_store *s) {
    rt_fault_plan plan;
    plan1(&plan, RT_OP_PUT, 1, RT_FAULT_EIO, 1, 0);
    rt_store_set_faults(s, &plan);
    int calls = RT_FAULT_EVENTS_MAX + 6;
    for (int i = 0; i < calls; i++) {
        char path[16];
        snprintf(path, sizeof path, "p%04d", i);
        CU_ASSERT_EQUAL(put_str(s, path, "x"), RT_EIO);
    }
    static rt_fault_event ev[RT_FAULT_EVENTS_MAX + 16];
    CU_ASSERT_EQUAL_FATAL(rt_store_drain_fault_events(s, ev, RT_FAULT_EVENTS_MAX + 16), RT_FAULT_EVENTS_MAX);
    CU_ASSERT_STRING_EQUAL(ev[0].path, "p0006");
    char last[16];
    snprintf(last, sizeof last, "p%04d", calls - 1);
    CU_ASSERT_STRING_EQUAL(ev[RT_FAULT_EVENTS_MAX - 1].path, last);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, (uint64_t)calls);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->fault_events_dropped, 6);
}
BOTH(t_fault_events_ring_drops_oldest)

/* A harness's own calls, faults suspended: nothing fires, nothing counts,
 * and the plan meets the job's next call exactly where it was. */
static void t_fault_suspended(rt_store *s) {
    rt_fault_plan plan;
    plan1(&plan, RT_OP_GET, 1, RT_FAULT_EIO, 0, 0);
    CU_ASSERT_EQUAL(put_str(s, "f", "data"), RT_OK);
    rt_store_set_faults(s, &plan);
    uint64_t gets = rt_store_get_stats(s)->ops[RT_OP_GET];
    CU_ASSERT_EQUAL(rt_store_suspend_faults(s, 1), 0);
    uint8_t *d = NULL;
    size_t n = 0;
    rt_error e;
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(rt_store_get(s, "f", &d, &n, &e), RT_OK);
        free(d);
    }
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->ops[RT_OP_GET], gets);
    CU_ASSERT_EQUAL(rt_store_get_stats(s)->faults_fired, 0);
    CU_ASSERT_EQUAL(rt_store_suspend_faults(s, 0), 1);
    CU_ASSERT_EQUAL(rt_store_get(s, "f", &d, &n, &e), RT_EIO); /* the job's first get */
    CU_ASSERT_EQUAL(rt_store_get(s, "f", &d, &n, &e), RT_OK);
    free(d);
}
BOTH(t_fault_suspended)

static uint64_t damaged_reads(rt_store *s) { return rt_store_get_stats(s)->damaged_reads; }

static void read_back(rt_store *s, const char *path) {
    uint8_t *d = NULL;
    size_t n = 0;
    rt_error e;
    rt_store_get(s, path, &d, &n, &e);
    free(d);
}

/* The store knows which files hold other bytes than it acknowledged, and
 * counts every read of them; a clean write, a delete or a delete_tree ends
 * the damage, a rename carries it. */
static void t_damage_tracked(rt_store *s) {
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 1, .kind = RT_FAULT_TORN, .arg = 2};
    plan.faults[1] = (rt_fault){.op = RT_OP_PUT, .nth = 2, .kind = RT_FAULT_BITFLIP, .arg = 9};
    plan.faults[2] = (rt_fault){.op = RT_OP_PUT, .nth = 3, .kind = RT_FAULT_LOST};
    plan.n = 3;
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(put_str(s, "d/torn", "abcdef"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "d/flip", "abcdef"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "lost", "abcdef"), RT_OK);
    CU_ASSERT_EQUAL(put_str(s, "clean", "abcdef"), RT_OK);
    CU_ASSERT(rt_store_is_damaged(s, "d/torn"));
    CU_ASSERT(rt_store_is_damaged(s, "d/flip"));
    CU_ASSERT(rt_store_is_damaged(s, "lost"));
    CU_ASSERT(!rt_store_exists(s, "lost"));
    CU_ASSERT(!rt_store_is_damaged(s, "clean"));
    read_back(s, "clean");
    CU_ASSERT_EQUAL(damaged_reads(s), 0);
    rt_store_suspend_faults(s, 1); /* counted however the read comes */
    read_back(s, "d/torn");
    rt_store_suspend_faults(s, 0);
    CU_ASSERT_EQUAL(damaged_reads(s), 1);
    CU_ASSERT_STRING_EQUAL(rt_store_get_stats(s)->last_damaged_read, "d/torn");
    rt_error e;
    CU_ASSERT_EQUAL(rt_store_rename(s, "d", "moved", &e), RT_OK);
    CU_ASSERT(rt_store_is_damaged(s, "moved/flip"));
    CU_ASSERT(!rt_store_is_damaged(s, "d/flip"));
    CU_ASSERT_EQUAL(put_str(s, "moved/flip", "abcdef"), RT_OK); /* rewritten whole */
    CU_ASSERT(!rt_store_is_damaged(s, "moved/flip"));
    CU_ASSERT_EQUAL(rt_store_delete_tree(s, "moved", &e), RT_OK);
    CU_ASSERT(!rt_store_is_damaged(s, "moved/torn"));
    CU_ASSERT_EQUAL(rt_store_delete(s, "lost", &e), RT_ENOENT);
    CU_ASSERT(!rt_store_is_damaged(s, "lost"));
    CU_ASSERT_EQUAL(rt_store_mark_damaged(s, "clean"), 0);
    CU_ASSERT(rt_store_is_damaged(s, "clean"));
    read_back(s, "clean");
    CU_ASSERT_EQUAL(damaged_reads(s), 2);
    CU_ASSERT_EQUAL(rt_store_delete(s, "clean", &e), RT_OK);
    CU_ASSERT(!rt_store_is_damaged(s, "clean"));
}
BOTH(t_damage_tracked)

static void draw(rt_fault_plan *plan, uint64_t seed, int max_faults, uint64_t horizon);

/* ---- the two implementations agree ----------------------------------- */

/* A path over a tiny alphabet, so calls collide: files become directories,
 * renames hit existing targets, deletes empty whole subtrees. */
static void random_path(rt_prng *p, char *buf, size_t cap) {
    static const char *const parts[] = {"a", "b", "c"};
    int depth = 1 + (int)rt_prng_below(p, 3);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < depth && used + 3 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? "/" : "", parts[rt_prng_below(p, 3)]);
}

/* One random call on both stores: same code, same bytes, same list. */
static int diff_step(rt_store *d, rt_store *m, rt_prng *p, int step) {
    char x[32], y[32], text[32];
    random_path(p, x, sizeof x);
    random_path(p, y, sizeof y);
    snprintf(text, sizeof text, "step %d", step);
    rt_error ed, em;
    rt_error_clear(&ed);
    rt_error_clear(&em);
    int op = (int)rt_prng_below(p, 7), same = 1;
    rt_err rd = RT_OK, rm = RT_OK;
    if (op == 0 || op == 6) {
        rd = rt_store_put(d, x, text, strlen(text), &ed);
        rm = rt_store_put(m, x, text, strlen(text), &em);
    } else if (op == 1) {
        rd = get_rc(d, x);
        rm = get_rc(m, x);
    } else if (op == 2) {
        rd = rt_store_delete(d, x, &ed);
        rm = rt_store_delete(m, x, &em);
    } else if (op == 3) {
        rd = rt_store_delete_tree(d, step % 50 == 3 ? "" : x, &ed);
        rm = rt_store_delete_tree(m, step % 50 == 3 ? "" : x, &em);
    } else if (op == 4) {
        rd = rt_store_rename(d, x, y, &ed);
        rm = rt_store_rename(m, x, y, &em);
    } else {
        rt_strlist ld = {0}, lm = {0};
        rd = rt_store_list(d, x, &ld, &ed);
        rm = rt_store_list(m, x, &lm, &em);
        same = ld.len == lm.len;
        for (size_t i = 0; same && i < ld.len; i++) same = strcmp(ld.items[i], lm.items[i]) == 0;
        rt_strlist_free(&ld);
        rt_strlist_free(&lm);
    }
    if (rd != rm || !same)
        fprintf(stderr, "step %d op %d %s %s: dir %s (%s), mem %s (%s)\n", step, op, x, y,
                rt_err_name(rd), ed.msg, rt_err_name(rm), em.msg);
    return rd == rm && same;
}

/* Every file of d is in m with the same bytes, and nothing else. */
static int same_contents(rt_store *d, rt_store *m) {
    rt_error e;
    rt_error_clear(&e);
    rt_strlist ld = {0}, lm = {0};
    int same = rt_store_list(d, "", &ld, &e) == RT_OK && rt_store_list(m, "", &lm, &e) == RT_OK &&
               ld.len == lm.len;
    for (size_t i = 0; same && i < ld.len; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        same = strcmp(ld.items[i], lm.items[i]) == 0 &&
               rt_store_get(d, ld.items[i], &data, &len, &e) == RT_OK && holds(m, lm.items[i], data, len);
        free(data);
    }
    rt_strlist_free(&ld);
    rt_strlist_free(&lm);
    return same;
}

static int same_stats(rt_store *d, rt_store *m) {
    const rt_store_stats *sd = rt_store_get_stats(d), *sm = rt_store_get_stats(m);
    rt_fault_event ed[64], em[64];
    size_t nd = rt_store_drain_fault_events(d, ed, 64), nm = rt_store_drain_fault_events(m, em, 64);
    int same = memcmp(sd, sm, sizeof *sd) == 0 && nd == nm;
    for (size_t i = 0; same && i < nd; i++)
        same = ed[i].op == em[i].op && ed[i].kind == em[i].kind && strcmp(ed[i].path, em[i].path) == 0;
    return same;
}

static void test_dir_and_mem_agree(void) {
    for (uint64_t seed = 0; seed < 30; seed++) {
        rt_store *d = open_store(0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        char tmp[TEST_TMP_CAP];
        memcpy(tmp, g_tmp, sizeof tmp);
        rt_store *m = open_store(1); /* forgets g_tmp: tmp holds it */
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        rt_prng p;
        rt_prng_stream(&p, seed, RT_STREAM_SCENARIO);
        rt_fault_plan plan;
        draw(&plan, seed, seed % 2 ? 6 : 0, 60); /* half the seeds with faults */
        rt_store_set_faults(d, &plan);
        rt_store_set_faults(m, &plan);
        int agree = 1;
        for (int step = 0; step < 200 && agree; step++) agree = diff_step(d, m, &p, step);
        CU_ASSERT(agree);
        CU_ASSERT(same_contents(d, m));
        CU_ASSERT(same_stats(d, m));
        rt_store_close(m);
        rt_store_close(d);
        CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
    }
}

/* ---- fault plans (no store) -------------------------------------------- */

static void draw(rt_fault_plan *plan, uint64_t seed, int max_faults, uint64_t horizon) {
    rt_prng p;
    rt_prng_stream(&p, seed, RT_STREAM_FAULTS);
    rt_fault_plan_draw(plan, &p, max_faults, horizon);
}

static void test_plan_draw_deterministic(void) {
    char a[2048], b[2048], first[2048];
    int differ = 0;
    for (uint64_t seed = 0; seed < 100; seed++) {
        rt_fault_plan pa, pb;
        draw(&pa, seed, 8, 40);
        draw(&pb, seed, 8, 40);
        rt_fault_plan_describe(&pa, a, sizeof a);
        rt_fault_plan_describe(&pb, b, sizeof b);
        CU_ASSERT_STRING_EQUAL(a, b);
        CU_ASSERT_EQUAL(memcmp(&pa, &pb, sizeof pa), 0);
        if (seed == 0) snprintf(first, sizeof first, "%s", a);
        else differ += strcmp(first, a) != 0;
    }
    CU_ASSERT(differ > 50);
}

static void check_fault_bounds(const rt_fault *f, uint64_t horizon) {
    CU_ASSERT(f->kind > RT_FAULT_NONE && f->kind < RT_FAULT_KIND_COUNT);
    CU_ASSERT((unsigned)f->op < RT_OP_COUNT);
    CU_ASSERT(f->nth >= 1 && f->nth <= horizon);
    CU_ASSERT_EQUAL(f->path_prefix[0], '\0');
    int put_only = f->kind == RT_FAULT_TORN || f->kind == RT_FAULT_BITFLIP ||
                   f->kind == RT_FAULT_LOST || f->kind == RT_FAULT_NOSPACE;
    if (put_only) CU_ASSERT_EQUAL(f->op, RT_OP_PUT);
    if (f->kind == RT_FAULT_TORN || f->kind == RT_FAULT_BITFLIP || f->kind == RT_FAULT_LOST)
        CU_ASSERT_EQUAL(f->persistent, 0);
    if (f->kind == RT_FAULT_SLOW) CU_ASSERT(f->arg >= 1);
}

static void test_plan_draw_bounds(void) {
    int persistent = 0, ops_seen[RT_OP_COUNT] = {0}, max_seen = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        rt_fault_plan plan;
        int max_faults = (int)(seed % 12);
        uint64_t horizon = 1 + seed % 50;
        draw(&plan, seed, max_faults, horizon);
        CU_ASSERT(plan.n >= 0 && plan.n <= max_faults);
        if (plan.n > max_seen) max_seen = plan.n;
        for (int i = 0; i < plan.n; i++) {
            check_fault_bounds(&plan.faults[i], horizon);
            persistent += plan.faults[i].persistent;
            ops_seen[plan.faults[i].op]++;
        }
    }
    CU_ASSERT(persistent > 0);
    CU_ASSERT_EQUAL(max_seen, 11);
    for (int op = 0; op < RT_OP_COUNT; op++) CU_ASSERT(ops_seen[op] > 0);
    rt_fault_plan plan; /* a bound above the plan's capacity is clamped */
    draw(&plan, 1, 1000, 10);
    CU_ASSERT(plan.n <= RT_FAULT_PLAN_MAX);
}

static void test_plan_draw_swarm(void) {
    int empty = 0, one_kind = 0, many_kinds = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        rt_fault_plan plan;
        draw(&plan, seed, 8, 100);
        int kinds[RT_FAULT_KIND_COUNT] = {0}, distinct = 0;
        for (int i = 0; i < plan.n; i++) distinct += kinds[plan.faults[i].kind]++ == 0;
        empty += plan.n == 0;
        one_kind += plan.n >= 4 && distinct == 1; /* rare without swarm: 6/6^4 */
        many_kinds += distinct >= 3;
    }
    CU_ASSERT(empty > 0);
    CU_ASSERT(one_kind > 0);
    CU_ASSERT(many_kinds > 0);
}

static void test_plan_describe(void) {
    rt_fault_plan plan = {0};
    char buf[256];
    rt_fault_plan_describe(&plan, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "none");
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 3, .kind = RT_FAULT_BITFLIP, .arg = 17};
    plan.faults[1] = (rt_fault){.op = RT_OP_GET, .nth = 2, .kind = RT_FAULT_EIO};
    plan.faults[2] = (rt_fault){.op = RT_OP_LIST, .nth = 4, .kind = RT_FAULT_SLOW, .persistent = 1, .arg = 9};
    snprintf(plan.faults[2].path_prefix, sizeof plan.faults[2].path_prefix, "job/");
    plan.n = 3;
    rt_fault_plan_describe(&plan, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "put#3 bitflip arg=17; get#2 eio; list#4+ slow arg=9 prefix=job/");
    char small[10];
    memset(small, 'z', sizeof small);
    rt_fault_plan_describe(&plan, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "put#3 bit");
}

static void test_names(void) {
    for (int i = 0; i < RT_FAULT_KIND_COUNT; i++) {
        const char *n = rt_fault_kind_name((rt_fault_kind)i);
        for (const char *c = n; *c; c++) CU_ASSERT(*c >= 'a' && *c <= 'z');
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(n, rt_fault_kind_name((rt_fault_kind)j)) != 0);
    }
    for (int i = 0; i < RT_OP_COUNT; i++)
        for (int j = 0; j < i; j++)
            CU_ASSERT(strcmp(rt_store_op_name((rt_store_op)i), rt_store_op_name((rt_store_op)j)) != 0);
    CU_ASSERT_STRING_EQUAL(rt_fault_kind_name(RT_FAULT_BITFLIP), "bitflip");
    CU_ASSERT_STRING_EQUAL(rt_store_op_name(RT_OP_RENAME), "rename");
    CU_ASSERT_STRING_EQUAL(rt_store_op_name(RT_OP_COUNT), "unknown");
}

static void test_strlist(void) {
    rt_strlist l = {0};
    const char *in[] = {"b", "a/b", "a.b", "B", "a", "ab"};
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(rt_strlist_push(&l, in[i]), 0);
    rt_strlist_sort(&l);
    const char *want[] = {"B", "a", "a.b", "a/b", "ab", "b"};
    CU_ASSERT_EQUAL_FATAL(l.len, 6);
    for (int i = 0; i < 6; i++) CU_ASSERT_STRING_EQUAL(l.items[i], want[i]);
    rt_strlist_free(&l);
    CU_ASSERT_EQUAL(l.len, 0);
    CU_ASSERT_PTR_NULL(l.items);
}

/* ---- registration ------------------------------------------------------- */

#define PAIR(fn, what) {what " [dir]", fn##_dir}, {what " [mem]", fn##_mem}

int suite_storage(void) {
    CU_pSuite s = CU_add_suite("storage", NULL, NULL);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        PAIR(t_roundtrip, "put/get roundtrip"),
        PAIR(t_list_sorted_recursive, "list is sorted and recursive"),
        PAIR(t_delete, "delete"),
        PAIR(t_delete_tree, "delete_tree"),
        PAIR(t_rename_file_and_dir, "rename a file and a directory"),
        PAIR(t_rename_onto_existing, "rename onto an existing target is refused"),
        PAIR(t_put_shape_conflicts, "put onto a directory or below a file is refused"),
        PAIR(t_sandbox_escapes, "sandbox escapes are refused"),
        PAIR(t_relativize, "relativize and absolute"),
        PAIR(t_fault_eio_nth, "eio fires on the nth put only"),
        PAIR(t_fault_persistent, "a persistent fault fires from the nth on"),
        PAIR(t_fault_other_ops, "eio on get, list, rename, delete"),
        PAIR(t_fault_prefix, "path_prefix restricts a fault and its counting"),
        PAIR(t_fault_nospace, "nospace"),
        PAIR(t_fault_torn, "torn stores a prefix of the right length"),
        PAIR(t_fault_bitflip, "bitflip flips exactly one bit at the computed place"),
        PAIR(t_fault_lost, "lost leaves no file"),
        PAIR(t_fault_slow, "slow adds to slow_ms"),
        PAIR(t_fault_put_kinds_elsewhere, "put-only kinds on other ops"),
        PAIR(t_fault_two_on_one_call, "two faults on one call"),
        PAIR(t_fault_counters_reset, "set_faults restarts counting"),
        PAIR(t_fault_events_in_order, "fault events drain in order"),
        PAIR(t_fault_events_ring_drops_oldest, "fault event ring drops the oldest"),
        PAIR(t_fault_suspended, "suspended faults neither fire nor count"),
        PAIR(t_damage_tracked, "damaged files are tracked and their reads counted"),
        {"dir and mem stores agree on 30 random call sequences", test_dir_and_mem_agree},
        {"check_path allows ordinary names", test_check_path_allows},
        {"symlinks in a directory store are refused", test_symlinks_dir},
        {"open_dir: missing root, canonical root", test_open_dir_root},
        {"fault plan draw is deterministic per seed", test_plan_draw_deterministic},
        {"fault plan draw stays in bounds over 1000 seeds", test_plan_draw_bounds},
        {"swarm: empty and single-kind plans occur", test_plan_draw_swarm},
        {"fault plan describe", test_plan_describe},
        {"fault kind and op names", test_names},
        {"strlist push, sort, free", test_strlist},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
