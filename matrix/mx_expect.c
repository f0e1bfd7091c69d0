/* mx_expect: loading the expectation sources (matrix/expect/ *.json) into
 * the database and looking them up. The files are the only place a
 * published table appears; this code validates their vocabulary only. */
#include "mx_expect.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mx_internal.h"

#define MX_EXPECT_FILES_MAX 16
#define MX_NAME_MAX 256

static const char *const expect_names[] = {"unknown", "yes", "no", "maybe"};
static const char *const expect_symbols[] = {"?", "✓", "✗", "!"};

int mx_expect_parse(const char *s) {
    assert(s != NULL);
    for (int i = 0; i < 4; i++)
        if (strcmp(s, expect_names[i]) == 0) return i;
    return -1;
}

const char *mx_expect_name(mx_expect x) {
    assert((unsigned)x < 4);
    return expect_names[x];
}

const char *mx_expect_symbol(mx_expect x) {
    assert((unsigned)x < 4);
    return expect_symbols[x];
}

rt_err mx_expect_lookup(mx_db *db, const char *source, const char *row, const char *kind,
                        mx_expect *out, rt_error *e) {
    assert(db != NULL);
    assert(out != NULL);
    *out = MX_EXPECT_UNKNOWN;
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT expect FROM expectations"
                               " WHERE source = ?1 AND row = ?2 AND kind = ?3", &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, row, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        int x = mx_expect_parse(mx_col_text(st, 0));
        assert(x >= 0); /* the CHECK constraint keeps the vocabulary */
        *out = (mx_expect)x;
    } else if (step != SQLITE_DONE) {
        rc = MX_SQL_FAIL(db, e, "cannot read an expectation");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks one file's shape before anything is written: a known row id, a
 * known kind, a known value, for every cell. */
static rt_err validate_cells(json_t *cells, const char *path, rt_error *e) {
    const char *row;
    json_t *kinds;
    json_object_foreach(cells, row, kinds) {
        if (mx_row_index(row) < 0)
            return RT_FAIL(e, RT_EINPUT, "%s: unknown row '%s' (not one of mx_rows)", path, row);
        if (!json_is_object(kinds))
            return RT_FAIL(e, RT_EINPUT, "%s: row '%s' is not an object of kinds", path, row);
        const char *kind;
        json_t *v;
        json_object_foreach(kinds, kind, v) {
            if (mx_kind_index(kind) < 0)
                return RT_FAIL(e, RT_EINPUT, "%s: row '%s': unknown kind '%s'", path, row, kind);
            if (!json_is_string(v) || mx_expect_parse(json_string_value(v)) < 0)
                return RT_FAIL(e, RT_EINPUT, "%s: row '%s', kind '%s': expected one of "
                               "yes|no|maybe|unknown", path, row, kind);
        }
    }
    return RT_OK;
}

static rt_err validate_file(json_t *root, const char *path, rt_error *e) {
    if (!json_is_object(root)) return RT_FAIL(e, RT_EINPUT, "%s: not a JSON object", path);
    json_t *source = json_object_get(root, "source");
    json_t *title = json_object_get(root, "title");
    json_t *cells = json_object_get(root, "cells");
    if (!json_is_string(source) || json_string_length(source) == 0 ||
        json_string_length(source) >= 64)
        return RT_FAIL(e, RT_EINPUT, "%s: \"source\" must be a short non-empty string", path);
    if (!json_is_string(title))
        return RT_FAIL(e, RT_EINPUT, "%s: \"title\" must be a string", path);
    if (!json_is_object(cells))
        return RT_FAIL(e, RT_EINPUT, "%s: \"cells\" must be an object of rows", path);
    return validate_cells(cells, path, e);
}

static rt_err insert_source(mx_db *db, const char *source, const char *title, const char *file,
                            rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "INSERT INTO sources(source, title, file) VALUES (?1, ?2, ?3)",
                           &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = MX_SQL_FAIL(db, e, "cannot insert the source (loaded twice?)");
    sqlite3_finalize(st);
    return rc;
}

static rt_err insert_cells(mx_db *db, const char *source, json_t *cells, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "INSERT INTO expectations(source, row, kind, expect)"
                               " VALUES (?1, ?2, ?3, ?4)", &st, e);
    const char *row, *kind;
    json_t *kinds, *v;
    json_object_foreach(cells, row, kinds) {
        json_object_foreach(kinds, kind, v) {
            if (rc != RT_OK) break;
            sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, row, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, json_string_value(v), -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = MX_SQL_FAIL(db, e, "cannot insert an expectation");
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

rt_err mx_load_expectation_file(mx_db *db, const char *path, rt_error *e) {
    assert(db != NULL);
    assert(path != NULL);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        return RT_FAIL(e, RT_EINPUT, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    rt_err rc = validate_file(root, path, e);
    const char *source = json_string_value(json_object_get(root, "source"));
    const char *slash = strrchr(path, '/');
    if (rc == RT_OK)
        rc = insert_source(db, source, json_string_value(json_object_get(root, "title")),
                           slash ? slash + 1 : path, e);
    if (rc == RT_OK) rc = insert_cells(db, source, json_object_get(root, "cells"), e);
    if (rc != RT_OK) rt_error_prefix(e, "expectations %s: ", path);
    json_decref(root);
    return rc;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* The *.json names of dir, sorted, so sources load in a stable order. */
static rt_err list_files(const char *dir, char names[][MX_NAME_MAX], int *n, rt_error *e) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return RT_FAIL(e, errno == ENOENT ? RT_ENOENT : RT_EIO,
                       "expectation directory %s: %s", dir, strerror(errno));
    *n = 0;
    rt_err rc = RT_OK;
    struct dirent *de;
    while (rc == RT_OK && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (*n == MX_EXPECT_FILES_MAX || len >= MX_NAME_MAX)
            rc = RT_FAIL(e, RT_EINPUT, "%s: more than %d expectation files, or a name too long",
                         dir, MX_EXPECT_FILES_MAX);
        else mx_copy(names[(*n)++], MX_NAME_MAX, de->d_name);
    }
    closedir(d);
    if (rc == RT_OK && *n == 0)
        rc = RT_FAIL(e, RT_ENOENT, "expectation directory %s holds no *.json file", dir);
    qsort(names, (size_t)*n, MX_NAME_MAX, cmp_names);
    return rc;
}

/* The directory is the truth: its files replace every source loaded before,
 * all or nothing. */
rt_err mx_load_expectations(mx_db *db, const char *dir, rt_error *e) {
    assert(db != NULL);
    assert(dir != NULL);
    if (db->read_only) return RT_FAIL(e, RT_EUSAGE, "%s: opened read-only", db->path);
    char names[MX_EXPECT_FILES_MAX][MX_NAME_MAX];
    int n = 0;
    rt_err rc = list_files(dir, names, &n, e);
    if (rc == RT_OK) rc = mx_exec(db, "SAVEPOINT mx_expect", e);
    if (rc != RT_OK) return rc;
    rc = mx_exec(db, "DELETE FROM expectations; DELETE FROM sources;", e);
    for (int i = 0; i < n && rc == RT_OK; i++) {
        char path[MX_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path)
            rc = RT_FAIL(e, RT_EINPUT, "%s/%s: path too long", dir, names[i]);
        else rc = mx_load_expectation_file(db, path, e);
    }
    if (rc != RT_OK) {
        sqlite3_exec(db->sql, "ROLLBACK TO mx_expect; RELEASE mx_expect", NULL, NULL, NULL);
        return rc;
    }
    return mx_exec(db, "RELEASE mx_expect", e);
}
