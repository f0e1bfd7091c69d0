/* mx_merge: copies the runs and results of several matrix databases into
 * one. Inputs are opened read-only. Runs with the same (started, revision,
 * options, uid) are the shards of one run and become one run (runs made
 * without a shared uid each have a random one, so two runs that began in the
 * same second stay two), so the rendered
 * latest run holds every shard's results; an identical result is copied
 * once, so merging a shard twice changes nothing. Expectations are copied
 * once per (source, row, kind). All or nothing. */
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mx_internal.h"
#include "mx_ownership.h"

/* For every row of `sel` on src (with ?1 = src_key if src_key != 0), binds
 * its columns to `ins` on dst (after ?1 = dst_key if dst_key != 0). */
static rt_err copy_rows(mx_db *src, const char *sel, int64_t src_key, mx_db *dst,
                        const char *ins, int64_t dst_key, rt_error *e) {
    sqlite3_stmt *s = NULL, *d = NULL;
    rt_err rc = mx_prepare(src, sel, &s, e);
    if (rc == RT_OK) rc = mx_prepare(dst, ins, &d, e);
    if (rc == RT_OK && src_key) sqlite3_bind_int64(s, 1, src_key);
    int shift = dst_key ? 1 : 0;
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        if (dst_key) sqlite3_bind_int64(d, 1, dst_key);
        for (int i = 0; i < sqlite3_column_count(s); i++)
            sqlite3_bind_value(d, i + 1 + shift, sqlite3_column_value(s, i));
        if (sqlite3_step(d) != SQLITE_DONE) rc = MX_SQL_FAIL(dst, e, "cannot copy a row");
        sqlite3_reset(d);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(src, e, "cannot read rows");
    sqlite3_finalize(s);
    sqlite3_finalize(d);
    return rc;
}

/* The run of out with this identity, inserted if there is none yet. */
static rt_err target_run(mx_db *out, sqlite3_stmt *run, int64_t *id, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(out, "SELECT id FROM runs WHERE started = ?1 AND revision = ?2"
                                " AND options = ?3 AND uid = ?4 ORDER BY id LIMIT 1", &st, e);
    if (rc != RT_OK) return rc;
    for (int i = 1; i <= 4; i++) sqlite3_bind_value(st, i, sqlite3_column_value(run, i));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = MX_SQL_FAIL(out, e, "cannot look up a run");
    sqlite3_finalize(st);
    if (rc != RT_OK || step == SQLITE_ROW) return rc;
    rc = mx_prepare(out, "INSERT INTO runs(started, revision, options, uid) VALUES (?1, ?2, ?3, ?4)", &st, e);
    if (rc != RT_OK) return rc;
    for (int i = 1; i <= 4; i++) sqlite3_bind_value(st, i, sqlite3_column_value(run, i));
    if (sqlite3_step(st) != SQLITE_DONE) rc = MX_SQL_FAIL(out, e, "cannot insert a run");
    else *id = sqlite3_last_insert_rowid(out->sql);
    sqlite3_finalize(st);
    return rc;
}

static const char select_results[] =
    "SELECT id, scenario, guarantee, kind, backend, versions, outcome, reason, seed, digest,"
    " virtual_ms, files, bytes, impl FROM results WHERE run_id = ?1 ORDER BY id";
static const char insert_results[] =
    "INSERT INTO results(run_id, scenario, guarantee, kind, backend, versions, outcome,"
    " reason, seed, digest, virtual_ms, files, bytes, impl)"
    " SELECT ?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14 WHERE NOT EXISTS"
    " (SELECT 1 FROM results WHERE run_id = ?1 AND scenario = ?2 AND guarantee = ?3"
    "  AND kind = ?4 AND backend = ?5 AND versions = ?6 AND outcome = ?7 AND seed = ?9"
    "  AND digest = ?10 AND impl = ?14)";

/* The results of one run, each with its ownership rows when it is new to
 * out (an identical result already there is not copied again). */
static rt_err copy_results(mx_db *in, int64_t from, mx_db *out, int64_t to, rt_error *e) {
    sqlite3_stmt *s = NULL, *d = NULL;
    rt_err rc = mx_prepare(in, select_results, &s, e);
    if (rc == RT_OK) rc = mx_prepare(out, insert_results, &d, e);
    if (rc == RT_OK) sqlite3_bind_int64(s, 1, from);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_bind_int64(d, 1, to);
        for (int i = 1; i < sqlite3_column_count(s); i++) sqlite3_bind_value(d, i + 1, sqlite3_column_value(s, i));
        if (sqlite3_step(d) != SQLITE_DONE) rc = MX_SQL_FAIL(out, e, "cannot copy a row");
        else if (sqlite3_changes(out->sql) > 0)
            rc = mx_ownership_copy(in, sqlite3_column_int64(s, 0), out, sqlite3_last_insert_rowid(out->sql), e);
        sqlite3_reset(d);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(in, e, "cannot read rows");
    sqlite3_finalize(s);
    sqlite3_finalize(d);
    return rc;
}

static rt_err merge_runs(mx_db *out, mx_db *in, rt_error *e) {
    sqlite3_stmt *runs;
    /* A schema 3 input has no uid: its runs merge as they did. */
    rt_err rc = mx_prepare(in, in->version >= 4 ? "SELECT id, started, revision, options, uid FROM runs ORDER BY id"
                                                : "SELECT id, started, revision, options, '' FROM runs ORDER BY id",
                           &runs, e);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(runs)) == SQLITE_ROW) {
        int64_t to = 0;
        rc = target_run(out, runs, &to, e);
        if (rc == RT_OK) {
            assert(to > 0);
            rc = copy_results(in, sqlite3_column_int64(runs, 0), out, to, e);
        }
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(in, e, "cannot read runs");
    sqlite3_finalize(runs);
    return rc;
}

static rt_err merge_one(mx_db *out, const char *path, rt_error *e) {
    mx_db *in;
    rt_err rc = mx_open_read_only(&in, path, e);
    if (rc != RT_OK) return rc;
    rc = copy_rows(in, "SELECT source, title, file FROM sources ORDER BY source", 0, out,
                   "INSERT OR IGNORE INTO sources(source, title, file) VALUES (?1, ?2, ?3)", 0, e);
    if (rc == RT_OK)
        rc = copy_rows(in, "SELECT source, row, kind, expect FROM expectations"
                           " ORDER BY source, row, kind", 0, out,
                       "INSERT OR IGNORE INTO expectations(source, row, kind, expect)"
                       " VALUES (?1, ?2, ?3, ?4)", 0, e);
    if (rc == RT_OK) rc = merge_runs(out, in, e);
    mx_close(in);
    return rc;
}

/* Merging a file into itself would read what it writes. */
static int same_file(const char *a, const char *b) {
    char ra[PATH_MAX], rb[PATH_MAX];
    if (realpath(a, ra) == NULL || realpath(b, rb) == NULL) return 0;
    return strcmp(ra, rb) == 0;
}

rt_err mx_merge(const char *out_path, const char *const *in_paths, int n_in, rt_error *e) {
    if (out_path == NULL || in_paths == NULL || n_in < 1)
        return RT_FAIL(e, RT_EUSAGE, "matrix merge needs OUT.db and at least one IN.db");
    for (int i = 0; i < n_in; i++)
        if (same_file(out_path, in_paths[i]))
            return RT_FAIL(e, RT_EUSAGE, "%s: output is also an input", out_path);
    mx_db *out;
    rt_err rc = mx_open(&out, out_path, e);
    if (rc != RT_OK) return rc;
    rc = mx_exec(out, "SAVEPOINT mx_merge", e);
    for (int i = 0; i < n_in && rc == RT_OK; i++) {
        rc = merge_one(out, in_paths[i], e);
        if (rc != RT_OK) rt_error_prefix(e, "merge %s into %s: ", in_paths[i], out_path);
    }
    if (rc == RT_OK) rc = mx_exec(out, "RELEASE mx_merge", e);
    else sqlite3_exec(out->sql, "ROLLBACK TO mx_merge; RELEASE mx_merge", NULL, NULL, NULL);
    mx_close(out);
    return rc;
}
