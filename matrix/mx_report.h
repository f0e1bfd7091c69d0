/* mx_report: the latest run of a database read into one model (run, rows,
 * expectation sources, cells with a verdict per source) that every renderer
 * walks in the same order, so all reports agree. */
#ifndef MX_REPORT_H
#define MX_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "mx.h"
#include "mx_cells.h"
#include "mx_expect.h"
#include "mx_internal.h"

#define MX_SOURCES_MAX 16
#define MX_EXTRA_ROWS_MAX 64
#define MX_KNOWN_ROWS_MAX 32 /* bound on mx_row_count */
#define MX_ROWS_CAP (MX_KNOWN_ROWS_MAX + MX_EXTRA_ROWS_MAX)
#define MX_CELL_RESULTS_MAX 100000

typedef struct mx_run_info {
    int64_t id;
    char started[64];
    char revision[128];
    char options[1024];
    mx_counts counts;
} mx_run_info;

typedef struct mx_source {
    char id[64];
    char title[256];
} mx_source;

/* A row of the table: one of mx_rows, or a guarantee the results name that
 * mx_rows does not know (shown after them, titled by its id). */
typedef struct mx_report_row {
    char id[48];
    char title[96];
} mx_report_row;

typedef struct mx_cell {
    int row;  /* index into mx_report.rows */
    int kind; /* index into mx_kinds */
    mx_counts counts;
    char symbol[16];
    char split[MX_SPLIT_MAX]; /* "" unless mx_symbol_needs_split */
    mx_expect expect[MX_SOURCES_MAX];
    mx_verdict verdict[MX_SOURCES_MAX];
    char flink_bug[16];       /* the first FLINK-NNNNN a failed result's reason names, or "" */
    mx_counts flink;          /* what real Flink did (the conformance lane); all 0: not run */
    char flink_symbol[16];
} mx_cell;

typedef struct mx_report {
    mx_run_info run;
    mx_source sources[MX_SOURCES_MAX];
    int n_sources;
    int docs; /* index of MX_SOURCE_DOCS in sources, -1 if not loaded */
    mx_report_row rows[MX_ROWS_CAP];
    int n_rows;
    mx_cell *cells; /* n_rows * MX_KIND_COUNT, row-major */
    int n_cells;
    int flink_cells;  /* cells real Flink ran */
    int flink_differ; /* of those, where the model's symbol differs */
    int *flink_order; /* the flink_cells indices into cells, disagreements first */
    int has_bench;       /* the report directory holds bench.md (make bench) */
    int has_restore_map; /* ... and coverage/restore-map.md (make coverage) */
} mx_report;

/* Reads the latest run; RT_ENOENT if the database holds no run. */
rt_err mx_report_load(mx_db *db, mx_report *rep, rt_error *e);
void mx_report_free(mx_report *rep);
const mx_cell *mx_report_cell(const mx_report *rep, int row, int kind);
/* The cell for (row id, kind name), or NULL. */
const mx_cell *mx_report_find(const mx_report *rep, const char *row, const char *kind);

/* Every result of the cell in the run, sorted by backend, versions,
 * scenario, seed; *out is malloc'd (NULL when *n is 0). */
rt_err mx_cell_results(mx_db *db, int64_t run_id, const char *row, const char *kind,
                       mx_result **out, size_t *n, rt_error *e);

/* Both the model and real Flink ran the cell and their symbols differ. */
int mx_cell_flink_disagrees(const mx_cell *c);

/* The same for one implementation's results ("model" or "flink"). */
rt_err mx_cell_results_of(mx_db *db, int64_t run_id, const char *impl, const char *row,
                          const char *kind, mx_result **out, size_t *n, rt_error *e);

/* "snapsim scenario run scenarios/<scenario>.json --kind K --backend B --seed N";
 * B is the backend the scenario starts on (before any "->"); a result of a
 * version pair adds "--versions 'A->B'", the variant that produced it. */
void mx_replay_command(const mx_result *r, char *buf, size_t cap);
/* "backend-change-canonical": an anchor made of [a-z0-9-] only. */
void mx_anchor(const char *row, const char *kind, char *buf, size_t cap);

/* The renderers, each writing one file of mx_render_all to f. */
rt_err mx_render_md(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);
rt_err mx_render_html(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);
rt_err mx_export_csv(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);
rt_err mx_export_json(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);
rt_err mx_export_junit(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);

#endif
