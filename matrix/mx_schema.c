/* mx_schema: the tables and views of a matrix database, embedded as SQL.
 * Everything is IF NOT EXISTS, so opening an existing matrix changes nothing. */
#include "mx_internal.h"

#include <assert.h>
#include <stdio.h>

static const char schema_sql[] =
    /* One invocation of the matrix (or a fuzz sweep). `started` is the date
     * string the caller passes; nothing here reads a clock. */
    "CREATE TABLE IF NOT EXISTS runs ("
    "  id       INTEGER PRIMARY KEY,"
    "  started  TEXT NOT NULL,"
    "  revision TEXT NOT NULL DEFAULT '',"
    "  options  TEXT NOT NULL DEFAULT '',"
    /* Names the invocation across databases, so `matrix merge` keeps apart
     * two runs that began in the same second with the same options. 128
     * random bits for an invocation of its own; '' for the shards of one run,
     * which share their start date (--started) and merge into one run. */
    "  uid      TEXT NOT NULL DEFAULT ''"
    ");"
    /* One scenario run for one (row, kind, backend, versions, seed). */
    "CREATE TABLE IF NOT EXISTS results ("
    "  id         INTEGER PRIMARY KEY,"
    "  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  scenario   TEXT NOT NULL,"
    "  guarantee  TEXT NOT NULL,"
    "  kind       TEXT NOT NULL"
    "             CHECK (kind IN ('canonical','native','aligned','unaligned')),"
    "  backend    TEXT NOT NULL DEFAULT '',"
    "  versions   TEXT NOT NULL DEFAULT '',"
    "  outcome    TEXT NOT NULL"
    "             CHECK (outcome IN ('works','rejected','corrupted','crashed')),"
    "  reason     TEXT NOT NULL DEFAULT '',"
    "  seed       INTEGER NOT NULL,"
    "  digest     TEXT NOT NULL DEFAULT '',"
    "  virtual_ms INTEGER NOT NULL DEFAULT 0,"
    "  files      INTEGER NOT NULL DEFAULT 0,"
    "  bytes      INTEGER NOT NULL DEFAULT 0,"
    /* Who observed it: the simulator, or real Flink (the conformance lane,
     * imported from matrix/observed/). Cells and diffs are per impl. */
    "  impl       TEXT NOT NULL DEFAULT 'model' CHECK (impl IN ('model','flink'))"
    ");"
    "CREATE INDEX IF NOT EXISTS results_by_cell ON results(run_id, guarantee, kind);"
    /* FLIP-193 ownership as it happened (schema 3): each restore of a
     * result's scenario, and the job's deletions of that restored
     * snapshot's files, grouped by the checkpoint whose completion deleted
     * them (-1: an abort's cleanup) and by cause. */
    "CREATE TABLE IF NOT EXISTS restores ("
    "  result_id   INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,"
    "  restore     INTEGER NOT NULL," /* 1: the scenario's first restore */
    "  mode        TEXT NOT NULL CHECK (mode IN ('claim','no-claim','legacy')),"
    "  snapshot    TEXT NOT NULL CHECK (snapshot IN ('savepoint','checkpoint')),"
    "  snapshot_id INTEGER NOT NULL,"
    "  files       INTEGER NOT NULL," /* the restored snapshot's files, its _metadata too */
    "  gone        INTEGER NOT NULL," /* how many of them the job deleted */
    "  referenced  INTEGER NOT NULL," /* how many the job's later checkpoints still used at its end */
    "  PRIMARY KEY (result_id, restore)"
    ");"
    "CREATE TABLE IF NOT EXISTS deletions ("
    "  result_id        INTEGER NOT NULL,"
    "  restore          INTEGER NOT NULL,"
    "  seq              INTEGER NOT NULL,"
    "  after_checkpoint INTEGER NOT NULL,"
    "  virtual_ms       INTEGER NOT NULL,"
    "  files            INTEGER NOT NULL,"
    "  cause            TEXT NOT NULL CHECK (cause IN ('subsumed','unused','replaced','aborted')),"
    "  example          TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (result_id, restore, seq),"
    "  FOREIGN KEY (result_id, restore) REFERENCES restores(result_id, restore) ON DELETE CASCADE"
    ");"
    /* One published table per source (matrix/expect/<file>.json). */
    "CREATE TABLE IF NOT EXISTS sources ("
    "  source TEXT PRIMARY KEY,"
    "  title  TEXT NOT NULL,"
    "  file   TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE TABLE IF NOT EXISTS expectations ("
    "  source TEXT NOT NULL REFERENCES sources(source) ON DELETE CASCADE,"
    "  row    TEXT NOT NULL,"
    "  kind   TEXT NOT NULL"
    "         CHECK (kind IN ('canonical','native','aligned','unaligned')),"
    "  expect TEXT NOT NULL CHECK (expect IN ('yes','no','maybe','unknown')),"
    "  PRIMARY KEY (source, row, kind)"
    ");"
    /* The run the reports show: latest start date, then latest id (a merged
     * older database does not hide a newer run). */
    "CREATE VIEW IF NOT EXISTS latest_run AS"
    "  SELECT * FROM runs ORDER BY started DESC, id DESC LIMIT 1;"
    "CREATE VIEW IF NOT EXISTS latest_results AS"
    "  SELECT * FROM results WHERE run_id = (SELECT id FROM latest_run) AND impl = 'model';"
    /* The matrix: one line per observed cell of the latest run. */
    "CREATE VIEW IF NOT EXISTS latest_cells AS"
    "  SELECT guarantee, kind, count(*) AS results,"
    "         sum(outcome = 'works') AS works, sum(outcome = 'rejected') AS rejected,"
    "         sum(outcome = 'corrupted') AS corrupted, sum(outcome = 'crashed') AS crashed"
    "  FROM latest_results GROUP BY guarantee, kind;"
    /* Each observed cell beside each source's expectation ('unknown' when
     * the source does not state the cell). */
    "CREATE VIEW IF NOT EXISTS latest_cells_vs_expect AS"
    "  SELECT s.source, c.guarantee, c.kind, coalesce(x.expect, 'unknown') AS expect,"
    "         c.results, c.works, c.rejected, c.corrupted, c.crashed"
    "  FROM sources s CROSS JOIN latest_cells c"
    "  LEFT JOIN expectations x"
    "    ON x.source = s.source AND x.row = c.guarantee AND x.kind = c.kind;";

rt_err mx_schema_create(mx_db *db, int64_t from_version, rt_error *e) {
    assert(db != NULL);
    assert(!db->read_only);
    assert(from_version == 0 || from_version >= MX_SCHEMA_WHOLE_SINCE);
    char stamp[128];
    snprintf(stamp, sizeof stamp, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             MX_APP_ID, MX_SCHEMA_VERSION);
    rt_err rc = RT_OK;
    if (from_version == 3) rc = mx_exec(db, "ALTER TABLE runs ADD COLUMN uid TEXT NOT NULL DEFAULT ''", e);
    if (rc == RT_OK) rc = mx_exec(db, schema_sql, e);
    /* Stamped in the caller's transaction: a file is either a complete
     * matrix with its identity or unchanged. Only a fresh or upgraded file
     * is stamped, so opening a current matrix writes nothing. */
    if (rc == RT_OK && from_version != MX_SCHEMA_VERSION) rc = mx_exec(db, stamp, e);
    return rc;
}
