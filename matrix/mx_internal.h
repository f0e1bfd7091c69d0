/* mx_internal: what the matrix's own files share (the database handle, SQL
 * helpers, the snapshot kinds) and nothing outside matrix/ needs. */
#ifndef MX_INTERNAL_H
#define MX_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "mx.h"

/* PRAGMA application_id of a matrix database ("snap"): a SQLite file without
 * it is somebody else's and is never modified. */
#define MX_APP_ID 0x736e6170
/* PRAGMA user_version: the schema this build writes and reads. */
#define MX_SCHEMA_VERSION 4 /* 2: results.impl; 3: restores, deletions (ownership); 4: runs.uid */
/* The oldest schema opened whole: a version 3 file is upgraded in place
 * when opened for writing (runs.uid added, '' for its runs) and read as
 * one with every run's uid '' (merge). */
#define MX_SCHEMA_WHOLE_SINCE 3
/* The oldest schema whose results table reads as this one's (matrix diff
 * compares a database of an older build with a new one). */
#define MX_SCHEMA_RESULTS_SINCE 2
#define MX_PATH_MAX 4096
/* How long a connection waits for another process's write transaction
 * (sqlite3_busy_timeout) before it gives up with "busy". */
#define MX_BUSY_MS 30000

/* The four snapshot kinds in the documentation's column order. */
#define MX_KIND_COUNT 4
extern const char *const mx_kinds[MX_KIND_COUNT];         /* "canonical" ... */
extern const char *const mx_kind_titles[MX_KIND_COUNT];   /* "canonical sp" ... */
/* Index of kind in mx_kinds, or -1. */
int mx_kind_index(const char *kind);
/* Index of id in mx_rows, or -1. */
int mx_row_index(const char *id);

struct mx_db {
    sqlite3 *sql;
    char path[MX_PATH_MAX];
    int read_only;
    int64_t version; /* PRAGMA user_version as opened (before an upgrade) */
    /* The run between mx_run_begin and mx_run_end, 0 if none. Its results
     * are written inside one SAVEPOINT, so a run that never ends leaves
     * nothing behind and a finished run is one commit. */
    int64_t open_run;
    sqlite3_stmt *insert_result; /* prepared on first mx_record */
};

/* Opens an existing matrix database with SQLITE_OPEN_READONLY: a missing
 * file is RT_ENOENT, anything but a snapsim matrix is RT_ESQL. */
rt_err mx_open_read_only(mx_db **out, const char *path, rt_error *e);
/* The same, also of an older schema from MX_SCHEMA_RESULTS_SINCE on: for
 * reading the results table only (matrix diff). */
rt_err mx_open_results(mx_db **out, const char *path, rt_error *e);

/* Fills e with RT_ESQL: "<db file>: <what>: <sqlite message>". */
rt_err mx_sql_fail_at(const mx_db *db, rt_error *e, const char *file, int line,
                      const char *what);
#define MX_SQL_FAIL(db, e, what) mx_sql_fail_at((db), (e), __FILE__, __LINE__, (what))

rt_err mx_exec(mx_db *db, const char *sql, rt_error *e);
rt_err mx_prepare(mx_db *db, const char *sql, sqlite3_stmt **st, rt_error *e);

/* Inside the caller's write transaction: creates every table and view (IF
 * NOT EXISTS), upgrading a file of an older schema (from_version, 0 for a
 * fresh file) first; a fresh file gets its application_id and user_version. */
rt_err mx_schema_create(mx_db *db, int64_t from_version, rt_error *e);

/* The latest run: greatest `started`, then greatest id; 0 if there is none. */
rt_err mx_latest_run(mx_db *db, int64_t *run_id, rt_error *e);

/* Column i as text, "" for NULL. */
const char *mx_col_text(sqlite3_stmt *st, int i);
/* Bounded copy that always terminates dst (truncates). */
void mx_copy(char *dst, size_t cap, const char *src);

#endif
