/* mx_db: the matrix database: the rows, opening (and refusing what is not
 * ours), runs and the recording of results. */
#include "mx_internal.h"
#include "mx_ownership.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const mx_row mx_rows[] = {
    {"backend-change", "State backend change"},
    {"spa-write", "State Processor API (writing)"},
    {"spa-read", "State Processor API (reading)"},
    {"relocatable", "Self-contained and relocatable"},
    {"schema-evolution", "Schema evolution"},
    {"arbitrary-upgrade", "Arbitrary job upgrade"},
    {"non-arbitrary-upgrade", "Non-arbitrary job upgrade"},
    {"minor-upgrade", "Flink minor version upgrade"},
    {"patch-upgrade", "Flink bug/patch version upgrade"},
    {"rescaling", "Rescaling"},
    {"rocksdb-bump", "RocksDB version bump"},
    /* Beyond the documented table. */
    {"schema-incompatible", "Incompatible schema change"},
    {"downgrade", "Flink version downgrade"},
    {"major-upgrade", "Flink major version upgrade (1.x to 2.x)"},
    {"restore-claim", "Restore mode CLAIM"},
    {"restore-no-claim", "Restore mode NO_CLAIM"},
    {"restore-legacy", "Restore mode LEGACY"},
    {"savepoint-between-incrementals", "Savepoint between incremental checkpoints"},
    {"stop-under-faults", "Stop-with-savepoint under storage faults"},
};
const int mx_row_count = (int)(sizeof mx_rows / sizeof mx_rows[0]);

const char *const mx_kinds[MX_KIND_COUNT] = {"canonical", "native", "aligned", "unaligned"};
const char *const mx_kind_titles[MX_KIND_COUNT] = {"canonical sp", "native sp", "aligned cp",
                                                   "unaligned cp"};

static const char *const outcomes[] = {"works", "rejected", "corrupted", "crashed"};

int mx_kind_index(const char *kind) {
    assert(kind != NULL);
    for (int i = 0; i < MX_KIND_COUNT; i++)
        if (strcmp(kind, mx_kinds[i]) == 0) return i;
    return -1;
}

int mx_row_index(const char *id) {
    assert(id != NULL);
    for (int i = 0; i < mx_row_count; i++)
        if (strcmp(id, mx_rows[i].id) == 0) return i;
    return -1;
}

static int outcome_valid(const char *s) {
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (strcmp(s, outcomes[i]) == 0) return 1;
    return 0;
}

void mx_copy(char *dst, size_t cap, const char *src) {
    assert(dst != NULL);
    assert(cap > 0);
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = cap - 1;
    if (n > 0) memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *mx_col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

rt_err mx_sql_fail_at(const mx_db *db, rt_error *e, const char *file, int line,
                      const char *what) {
    assert(db != NULL);
    const char *msg = db->sql ? sqlite3_errmsg(db->sql) : "no connection";
    if (db->sql && (sqlite3_errcode(db->sql) & 0xff) == SQLITE_BUSY) /* not damage: somebody else's turn */
        return rt_error_set(e, RT_ESQL, file, line,
                            "%s: %s: busy: another process kept the database locked for writing for %d s", db->path,
                            what, MX_BUSY_MS / 1000);
    return rt_error_set(e, RT_ESQL, file, line, "%s: %s: %s", db->path, what, msg);
}

rt_err mx_exec(mx_db *db, const char *sql, rt_error *e) {
    assert(db != NULL);
    assert(db->sql != NULL);
    if (sqlite3_exec(db->sql, sql, NULL, NULL, NULL) != SQLITE_OK)
        return MX_SQL_FAIL(db, e, sql);
    return RT_OK;
}

rt_err mx_prepare(mx_db *db, const char *sql, sqlite3_stmt **st, rt_error *e) {
    assert(db != NULL);
    assert(db->sql != NULL);
    assert(st != NULL);
    if (sqlite3_prepare_v2(db->sql, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return MX_SQL_FAIL(db, e, "cannot prepare a query");
    }
    return RT_OK;
}

/* One integer from a one-row query (a PRAGMA or a count). */
static rt_err query_int(mx_db *db, const char *sql, int64_t *out, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, sql, &st, e);
    if (rc != RT_OK) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else rc = MX_SQL_FAIL(db, e, sql);
    sqlite3_finalize(st);
    return rc;
}

rt_err mx_latest_run(mx_db *db, int64_t *run_id, rt_error *e) {
    *run_id = 0;
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT id FROM latest_run", &st, e);
    if (rc != RT_OK) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) *run_id = sqlite3_column_int64(st, 0);
    else if (step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read the latest run");
    sqlite3_finalize(st);
    return rc;
}

/* Looks at the first bytes before SQLite does, so a file that is not a
 * database is never handed to SQLite (which could write to it). *exists is
 * 0 for a missing file; an empty file is a database without tables. */
static rt_err check_header(const char *path, int must_exist, int *exists, rt_error *e) {
    static const char magic[16] = "SQLite format 3";
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *exists = 0;
        if (errno == ENOENT && !must_exist) return RT_OK;
        if (errno == ENOENT) return RT_FAIL(e, RT_ENOENT, "%s: no such database file", path);
        return RT_FAIL(e, RT_ESQL, "%s: cannot read: %s", path, strerror(errno));
    }
    char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    *exists = 1;
    if (n == 0) return RT_OK;
    if (n < sizeof head || memcmp(head, magic, sizeof head) != 0)
        return RT_FAIL(e, RT_ESQL, "%s: not a SQLite database (no \"SQLite format 3\" header); "
                                   "left untouched", path);
    return RT_OK;
}

/* Ours, empty (*fresh), or refused: a SQLite file with tables but without
 * our application_id is somebody else's database; one of another schema
 * version is refused too, unless it is one the caller reads (oldest_ok:
 * the oldest version accepted). Read inside the caller's transaction, so
 * the three answers are of one state of the file: another process creating
 * the schema meanwhile cannot make an empty file look like a foreign one. */
static rt_err check_identity(mx_db *db, int *fresh, int64_t oldest_ok, rt_error *e) {
    int64_t app, version, objects;
    rt_err rc = query_int(db, "PRAGMA application_id", &app, e);
    if (rc == RT_OK) rc = query_int(db, "PRAGMA user_version", &version, e);
    if (rc == RT_OK) rc = query_int(db, "SELECT count(*) FROM sqlite_master", &objects, e);
    if (rc != RT_OK) return rc;
    *fresh = app == 0 && version == 0 && objects == 0;
    db->version = *fresh ? 0 : version;
    if (*fresh) return RT_OK;
    if (app != MX_APP_ID)
        return RT_FAIL(e, RT_ESQL, "%s: a SQLite database but not a snapsim matrix "
                       "(application_id 0x%llx, %lld schema objects); left untouched",
                       db->path, (unsigned long long)app, (long long)objects);
    if (version != MX_SCHEMA_VERSION && !(version >= oldest_ok && version < MX_SCHEMA_VERSION))
        return RT_FAIL(e, RT_ESQL, "%s: matrix schema version %lld, this snapsim reads version "
                       "%d; left untouched", db->path, (long long)version, MX_SCHEMA_VERSION);
    return RT_OK;
}

/* Identity and schema in one transaction: a writer's BEGIN IMMEDIATE waits
 * (busy timeout) for any other writer, so two processes opening one fresh
 * file create its schema once, one after the other; a reader's is one
 * consistent read. */
static rt_err settle_schema(mx_db *db, int64_t oldest_ok, rt_error *e) {
    int fresh = 0;
    rt_err rc = mx_exec(db, db->read_only ? "BEGIN" : "BEGIN IMMEDIATE", e);
    if (rc != RT_OK) return rc;
    rc = check_identity(db, &fresh, oldest_ok, e);
    if (rc == RT_OK && db->read_only && fresh)
        rc = RT_FAIL(e, RT_ESQL, "%s: holds no snapsim matrix (empty database)", db->path);
    if (rc == RT_OK && !db->read_only) rc = mx_schema_create(db, db->version, e);
    if (rc == RT_OK) rc = mx_exec(db, "COMMIT", e);
    if (rc != RT_OK) sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Write-ahead logging, so readers (render, diff, merge) and a writer do not
 * block each other; writers still take turns. Set only on a file known to
 * be ours; a file system without WAL keeps its rollback journal. */
static rt_err use_wal(mx_db *db, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "PRAGMA journal_mode = WAL", &st, e);
    if (rc != RT_OK) return rc;
    if (sqlite3_step(st) != SQLITE_ROW) rc = MX_SQL_FAIL(db, e, "cannot switch to write-ahead logging");
    sqlite3_finalize(st);
    return rc;
}

static rt_err open_common(mx_db **out, const char *path, int read_only, int64_t oldest_ok, rt_error *e) {
    assert(out != NULL);
    *out = NULL;
    if (path == NULL || path[0] == '\0') return RT_FAIL(e, RT_EUSAGE, "no database path given");
    if (strlen(path) >= MX_PATH_MAX) return RT_FAIL(e, RT_EINPUT, "database path too long");
    int exists;
    rt_err rc = check_header(path, read_only, &exists, e);
    if (rc != RT_OK) return rc;
    mx_db *db = calloc(1, sizeof *db);
    if (db == NULL) return RT_FAIL(e, RT_ENOMEM, "%s: no memory for the handle", path);
    mx_copy(db->path, sizeof db->path, path);
    db->read_only = read_only;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &db->sql, flags, NULL) != SQLITE_OK)
        rc = MX_SQL_FAIL(db, e, "cannot open");
    if (rc == RT_OK) sqlite3_busy_timeout(db->sql, MX_BUSY_MS);
    if (rc == RT_OK) rc = mx_exec(db, "PRAGMA foreign_keys = ON", e); /* a no-op inside a transaction */
    if (rc == RT_OK) rc = settle_schema(db, oldest_ok, e);
    if (rc == RT_OK && !read_only) rc = use_wal(db, e);
    if (rc != RT_OK) {
        mx_close(db);
        return rc;
    }
    *out = db;
    return RT_OK;
}

rt_err mx_open(mx_db **out, const char *path, rt_error *e) {
    return open_common(out, path, 0, MX_SCHEMA_WHOLE_SINCE, e);
}

rt_err mx_open_read_only(mx_db **out, const char *path, rt_error *e) {
    return open_common(out, path, 1, MX_SCHEMA_WHOLE_SINCE, e);
}

rt_err mx_open_results(mx_db **out, const char *path, rt_error *e) {
    return open_common(out, path, 1, MX_SCHEMA_RESULTS_SINCE, e);
}

void mx_close(mx_db *db) {
    if (db == NULL) return;
    /* A run that never reached mx_run_end is discarded, not half-kept. */
    if (db->open_run != 0)
        sqlite3_exec(db->sql, "ROLLBACK TO mx_run; RELEASE mx_run", NULL, NULL, NULL);
    sqlite3_finalize(db->insert_result);
    sqlite3_close(db->sql);
    free(db);
}

/* A fresh run uid: 128 bits from the kernel's random source, in hex.
 * Bookkeeping like the run's date: it tells runs apart across databases and
 * never reaches a simulation (whose randomness is its seed's alone). */
static rt_err fresh_uid(const mx_db *db, char *out, size_t cap, rt_error *e) {
    uint8_t bits[16];
    assert(cap >= 2 * sizeof bits + 1);
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(bits, 1, sizeof bits, f) : 0;
    if (f) fclose(f);
    if (got != sizeof bits) return RT_FAIL(e, RT_EIO, "%s: cannot read /dev/urandom for a run id", db->path);
    for (size_t i = 0; i < sizeof bits; i++) snprintf(out + 2 * i, cap - 2 * i, "%02x", bits[i]);
    return RT_OK;
}

static rt_err insert_run(mx_db *db, const char *when, const char *revision,
                         const char *options, const char *uid, int64_t *run_id, rt_error *e) {
    char fresh[33] = "";
    rt_err rc = uid ? RT_OK : fresh_uid(db, fresh, sizeof fresh, e);
    if (rc != RT_OK) return rc;
    sqlite3_stmt *st;
    rc = mx_prepare(db, "INSERT INTO runs(started, revision, options, uid) VALUES (?1, ?2, ?3, ?4)", &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_text(st, 1, when, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, revision ? revision : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, options ? options : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, uid ? uid : fresh, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot insert the run");
    else *run_id = sqlite3_last_insert_rowid(db->sql);
    sqlite3_finalize(st);
    return rc;
}

rt_err mx_run_begin(mx_db *db, const char *when, const char *revision, const char *options,
                    const char *uid, int64_t *run_id, rt_error *e) {
    assert(db != NULL);
    assert(run_id != NULL);
    if (db->read_only) return RT_FAIL(e, RT_EUSAGE, "%s: opened read-only", db->path);
    if (db->open_run != 0)
        return RT_FAIL(e, RT_EUSAGE, "%s: run %lld is still open", db->path,
                       (long long)db->open_run);
    if (when == NULL || when[0] == '\0')
        return RT_FAIL(e, RT_EUSAGE, "%s: a run needs its start date", db->path);
    rt_err rc = mx_exec(db, "SAVEPOINT mx_run", e);
    if (rc != RT_OK) return rc;
    rc = insert_run(db, when, revision, options, uid, run_id, e);
    if (rc != RT_OK) {
        sqlite3_exec(db->sql, "ROLLBACK TO mx_run; RELEASE mx_run", NULL, NULL, NULL);
        return rc;
    }
    assert(*run_id > 0);
    db->open_run = *run_id;
    return RT_OK;
}

static rt_err check_open_run(const mx_db *db, int64_t run_id, rt_error *e) {
    assert(db != NULL);
    if (db->open_run == 0 || run_id != db->open_run)
        return RT_FAIL(e, RT_EUSAGE, "%s: run %lld is not the open run", db->path,
                       (long long)run_id);
    return RT_OK;
}

rt_err mx_run_commit(mx_db *db, int64_t run_id, rt_error *e) {
    rt_err rc = check_open_run(db, run_id, e);
    /* mx_run is the outermost savepoint: its release commits. */
    if (rc == RT_OK) rc = mx_exec(db, "RELEASE mx_run", e);
    if (rc != RT_OK) return rc;
    rc = mx_exec(db, "SAVEPOINT mx_run", e);
    if (rc != RT_OK) db->open_run = 0; /* committed, but no longer open */
    return rc;
}

rt_err mx_run_end(mx_db *db, int64_t run_id, rt_error *e) {
    rt_err rc = check_open_run(db, run_id, e);
    if (rc == RT_OK) rc = mx_exec(db, "RELEASE mx_run", e);
    if (rc == RT_OK) db->open_run = 0;
    return rc;
}

/* Fixed-size fields are bound by their bounded length, so an unterminated
 * field cannot be read past its end. */
static void bind_field(sqlite3_stmt *st, int i, const char *s, size_t cap) {
    sqlite3_bind_text(st, i, s, (int)strnlen(s, cap), SQLITE_TRANSIENT);
}

static rt_err check_result(const mx_db *db, const mx_result *r, rt_error *e) {
    if (strnlen(r->guarantee, sizeof r->guarantee) == 0)
        return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s' names no row", db->path,
                       r->scenario);
    if (strnlen(r->kind, sizeof r->kind) == sizeof r->kind || mx_kind_index(r->kind) < 0)
        return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': unknown kind '%.16s'",
                       db->path, r->scenario, r->kind);
    if (strnlen(r->outcome, sizeof r->outcome) == sizeof r->outcome || !outcome_valid(r->outcome))
        return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': unknown outcome '%.16s'",
                       db->path, r->scenario, r->outcome);
    if (r->impl[0] != '\0' && strcmp(r->impl, "model") != 0 && strcmp(r->impl, "flink") != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': unknown impl '%.8s'", db->path,
                       r->scenario, r->impl);
    return RT_OK;
}

rt_err mx_record(mx_db *db, int64_t run_id, const mx_result *r, rt_error *e) {
    assert(db != NULL);
    assert(r != NULL);
    if (db->read_only) return RT_FAIL(e, RT_EUSAGE, "%s: opened read-only", db->path);
    rt_err rc = check_result(db, r, e);
    if (rc == RT_OK) rc = mx_ownership_check(db, r, e);
    if (rc == RT_OK && db->insert_result == NULL)
        rc = mx_prepare(db,
                        "INSERT INTO results(run_id, scenario, guarantee, kind, backend, versions,"
                        " outcome, reason, seed, digest, virtual_ms, files, bytes, impl)"
                        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
                        &db->insert_result, e);
    if (rc != RT_OK) return rc;
    sqlite3_stmt *st = db->insert_result;
    sqlite3_bind_int64(st, 1, run_id);
    bind_field(st, 2, r->scenario, sizeof r->scenario);
    bind_field(st, 3, r->guarantee, sizeof r->guarantee);
    bind_field(st, 4, r->kind, sizeof r->kind);
    bind_field(st, 5, r->backend, sizeof r->backend);
    bind_field(st, 6, r->versions, sizeof r->versions);
    bind_field(st, 7, r->outcome, sizeof r->outcome);
    bind_field(st, 8, r->reason, sizeof r->reason);
    /* SQLite integers are signed: a seed keeps its 64 bits, read back as uint64. */
    sqlite3_bind_int64(st, 9, (int64_t)r->seed);
    bind_field(st, 10, r->digest, sizeof r->digest);
    sqlite3_bind_int64(st, 11, (int64_t)r->virtual_ms);
    sqlite3_bind_int64(st, 12, (int64_t)r->files);
    sqlite3_bind_int64(st, 13, (int64_t)r->bytes);
    sqlite3_bind_text(st, 14, r->impl[0] ? r->impl : "model", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = MX_SQL_FAIL(db, e, "cannot record the result (does the run exist?)");
        rt_error_prefix(e, "run %lld, %.48s/%.16s: ", (long long)run_id, r->guarantee, r->kind);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == RT_OK) rc = mx_ownership_record(db, sqlite3_last_insert_rowid(db->sql), r, e);
    return rc;
}
