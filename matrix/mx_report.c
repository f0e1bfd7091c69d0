/* mx_report: reads the latest run into the model every renderer walks:
 * run, rows, expectation sources, and per cell its counts, symbol, split
 * and a verdict per source. Every query has an explicit ORDER BY. */
#include "mx_report.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static rt_err load_run(mx_db *db, mx_run_info *run, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT r.id, r.started, r.revision, r.options,"
                               " total(x.outcome = 'works'), total(x.outcome = 'rejected'),"
                               " total(x.outcome = 'corrupted'), total(x.outcome = 'crashed')"
                               " FROM latest_run r LEFT JOIN results x ON x.run_id = r.id AND x.impl = 'model'"
                               " GROUP BY r.id", &st, e);
    if (rc != RT_OK) return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        run->id = sqlite3_column_int64(st, 0);
        mx_copy(run->started, sizeof run->started, mx_col_text(st, 1));
        mx_copy(run->revision, sizeof run->revision, mx_col_text(st, 2));
        mx_copy(run->options, sizeof run->options, mx_col_text(st, 3));
        run->counts.works = sqlite3_column_int64(st, 4);
        run->counts.rejected = sqlite3_column_int64(st, 5);
        run->counts.corrupted = sqlite3_column_int64(st, 6);
        run->counts.crashed = sqlite3_column_int64(st, 7);
    } else if (step == SQLITE_DONE) {
        rc = RT_FAIL(e, RT_ENOENT, "%s: no run recorded yet", db->path);
    } else {
        rc = MX_SQL_FAIL(db, e, "cannot read the latest run");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The docs source first (the table's marks refer to it), then by id. */
static rt_err load_sources(mx_db *db, mx_report *rep, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT source, title FROM sources"
                               " ORDER BY source <> '" MX_SOURCE_DOCS "', source", &st, e);
    if (rc != RT_OK) return rc;
    rep->n_sources = 0;
    rep->docs = -1;
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (rep->n_sources == MX_SOURCES_MAX) {
            rc = RT_FAIL(e, RT_EINPUT, "%s: more than %d expectation sources", db->path,
                         MX_SOURCES_MAX);
            break;
        }
        mx_source *s = &rep->sources[rep->n_sources];
        mx_copy(s->id, sizeof s->id, mx_col_text(st, 0));
        mx_copy(s->title, sizeof s->title, mx_col_text(st, 1));
        if (strcmp(s->id, MX_SOURCE_DOCS) == 0) rep->docs = rep->n_sources;
        rep->n_sources++;
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read the sources");
    sqlite3_finalize(st);
    return rc;
}

static void add_row(mx_report *rep, const char *id, const char *title) {
    assert(rep->n_rows < MX_ROWS_CAP);
    mx_copy(rep->rows[rep->n_rows].id, sizeof rep->rows[0].id, id);
    mx_copy(rep->rows[rep->n_rows].title, sizeof rep->rows[0].title, title);
    rep->n_rows++;
}

/* mx_rows, then any row the results name that mx_rows does not know, so no
 * result is left out of the reports. */
static rt_err load_rows(mx_db *db, mx_report *rep, rt_error *e) {
    assert(mx_row_count <= MX_KNOWN_ROWS_MAX);
    rep->n_rows = 0;
    for (int i = 0; i < mx_row_count; i++) add_row(rep, mx_rows[i].id, mx_rows[i].title);
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT DISTINCT guarantee FROM results WHERE run_id = ?1"
                               " ORDER BY guarantee", &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_int64(st, 1, rep->run.id);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = mx_col_text(st, 0);
        if (mx_row_index(id) >= 0) continue;
        if (rep->n_rows == MX_ROWS_CAP)
            rc = RT_FAIL(e, RT_EINPUT, "%s: more than %d rows unknown to mx_rows", db->path,
                         MX_EXTRA_ROWS_MAX);
        else add_row(rep, id, id);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read the rows");
    sqlite3_finalize(st);
    return rc;
}


/* The first Flink issue id ("FLINK-" and digits) in a reason, into
 * out[16]; out unchanged if there is none. */
static void bug_named(const char *reason, char out[16]) {
    for (const char *p = strstr(reason, "FLINK-"); p; p = strstr(p + 1, "FLINK-")) {
        size_t d = 0;
        while (d < 8 && isdigit((unsigned char)p[6 + d])) d++;
        if (d >= 4) {
            snprintf(out, 16, "FLINK-%.*s", (int)d, p + 6);
            return;
        }
    }
}

static rt_err build_cell(mx_db *db, mx_report *rep, mx_cell *c, rt_error *e) {
    mx_result *r = NULL;
    size_t n = 0;
    rt_err rc = mx_cell_results(db, rep->run.id, rep->rows[c->row].id, mx_kinds[c->kind], &r,
                                &n, e);
    if (rc != RT_OK) return rc;
    memset(&c->counts, 0, sizeof c->counts);
    c->flink_bug[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        mx_counts_add(&c->counts, r[i].outcome);
        if (c->flink_bug[0] == '\0' && strcmp(r[i].outcome, "works") != 0) bug_named(r[i].reason, c->flink_bug);
    }
    assert(mx_counts_total(&c->counts) == (int64_t)n);
    mx_copy(c->symbol, sizeof c->symbol, mx_symbol(&c->counts));
    c->split[0] = '\0';
    if (mx_symbol_needs_split(&c->counts)) mx_split(r, n, c->split, sizeof c->split);
    free(r);
    r = NULL;
    rc = mx_cell_results_of(db, rep->run.id, "flink", rep->rows[c->row].id, mx_kinds[c->kind], &r, &n, e);
    if (rc != RT_OK) return rc;
    memset(&c->flink, 0, sizeof c->flink);
    for (size_t i = 0; i < n; i++) mx_counts_add(&c->flink, r[i].outcome);
    mx_copy(c->flink_symbol, sizeof c->flink_symbol, mx_symbol(&c->flink));
    free(r);
    return RT_OK;
}

static int source_index(const mx_report *rep, const char *id) {
    for (int i = 0; i < rep->n_sources; i++)
        if (strcmp(rep->sources[i].id, id) == 0) return i;
    return -1;
}

static int row_of(const mx_report *rep, const char *id) {
    for (int i = 0; i < rep->n_rows; i++)
        if (strcmp(rep->rows[i].id, id) == 0) return i;
    return -1;
}

/* Every cell starts unknown for every source; stated cells overwrite. */
static rt_err load_expectations(mx_db *db, mx_report *rep, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT source, row, kind, expect FROM expectations"
                               " ORDER BY source, row, kind", &st, e);
    if (rc != RT_OK) return rc;
    int step = SQLITE_DONE;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int s = source_index(rep, mx_col_text(st, 0));
        int row = row_of(rep, mx_col_text(st, 1));
        int kind = mx_kind_index(mx_col_text(st, 2));
        int x = mx_expect_parse(mx_col_text(st, 3));
        if (s < 0 || row < 0 || kind < 0 || x < 0) continue;
        rep->cells[row * MX_KIND_COUNT + kind].expect[s] = (mx_expect)x;
    }
    if (step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read the expectations");
    sqlite3_finalize(st);
    return rc;
}

/* The cells real Flink ran, the ones where the model disagrees first (both
 * renderers list them in this order). */
static rt_err order_flink_cells(mx_report *rep, rt_error *e) {
    if (rep->flink_cells == 0) return RT_OK;
    rep->flink_order = malloc((size_t)rep->flink_cells * sizeof *rep->flink_order);
    if (rep->flink_order == NULL) return RT_FAIL(e, RT_ENOMEM, "no memory for the real-Flink cells");
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < rep->n_cells; i++) {
            const mx_cell *c = &rep->cells[i];
            if (mx_counts_total(&c->flink) > 0 && mx_cell_flink_disagrees(c) == (pass == 0)) rep->flink_order[n++] = i;
        }
    assert(n == rep->flink_cells);
    return RT_OK;
}

rt_err mx_report_load(mx_db *db, mx_report *rep, rt_error *e) {
    assert(db != NULL);
    assert(rep != NULL);
    memset(rep, 0, sizeof *rep);
    rt_err rc = load_run(db, &rep->run, e);
    if (rc == RT_OK) rc = load_sources(db, rep, e);
    if (rc == RT_OK) rc = load_rows(db, rep, e);
    if (rc != RT_OK) return rc;
    rep->n_cells = rep->n_rows * MX_KIND_COUNT;
    rep->cells = calloc((size_t)rep->n_cells, sizeof *rep->cells);
    if (rep->cells == NULL) return RT_FAIL(e, RT_ENOMEM, "%s: no memory for cells", db->path);
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++) {
        rep->cells[i].row = i / MX_KIND_COUNT;
        rep->cells[i].kind = i % MX_KIND_COUNT;
        rc = build_cell(db, rep, &rep->cells[i], e);
        rep->flink_cells += mx_counts_total(&rep->cells[i].flink) > 0;
        rep->flink_differ += mx_cell_flink_disagrees(&rep->cells[i]);
    }
    if (rc == RT_OK) rc = order_flink_cells(rep, e);
    if (rc == RT_OK) rc = load_expectations(db, rep, e);
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++)
        for (int s = 0; s < rep->n_sources; s++)
            rep->cells[i].verdict[s] = mx_compare(rep->cells[i].expect[s], &rep->cells[i].counts);
    if (rc != RT_OK) mx_report_free(rep);
    return rc;
}

int mx_cell_flink_disagrees(const mx_cell *c) {
    return mx_counts_total(&c->flink) > 0 && mx_counts_total(&c->counts) > 0 && strcmp(c->symbol, c->flink_symbol) != 0;
}

void mx_report_free(mx_report *rep) {
    if (rep == NULL) return;
    free(rep->cells);
    free(rep->flink_order);
    rep->cells = NULL;
    rep->flink_order = NULL;
    rep->n_cells = 0;
}

const mx_cell *mx_report_cell(const mx_report *rep, int row, int kind) {
    assert(row >= 0);
    assert(row < rep->n_rows);
    assert(kind >= 0);
    assert(kind < MX_KIND_COUNT);
    return &rep->cells[row * MX_KIND_COUNT + kind];
}

const mx_cell *mx_report_find(const mx_report *rep, const char *row, const char *kind) {
    int r = row_of(rep, row);
    int k = mx_kind_index(kind);
    if (r < 0 || k < 0) return NULL;
    return mx_report_cell(rep, r, k);
}

static void read_result(sqlite3_stmt *st, mx_result *r) {
    memset(r, 0, sizeof *r);
    mx_copy(r->scenario, sizeof r->scenario, mx_col_text(st, 0));
    mx_copy(r->guarantee, sizeof r->guarantee, mx_col_text(st, 1));
    mx_copy(r->kind, sizeof r->kind, mx_col_text(st, 2));
    mx_copy(r->backend, sizeof r->backend, mx_col_text(st, 3));
    mx_copy(r->versions, sizeof r->versions, mx_col_text(st, 4));
    mx_copy(r->outcome, sizeof r->outcome, mx_col_text(st, 5));
    mx_copy(r->reason, sizeof r->reason, mx_col_text(st, 6));
    r->seed = (uint64_t)sqlite3_column_int64(st, 7);
    mx_copy(r->digest, sizeof r->digest, mx_col_text(st, 8));
    r->virtual_ms = (uint64_t)sqlite3_column_int64(st, 9);
    r->files = (uint64_t)sqlite3_column_int64(st, 10);
    r->bytes = (uint64_t)sqlite3_column_int64(st, 11);
    mx_copy(r->impl, sizeof r->impl, mx_col_text(st, 12));
}

static rt_err grow(mx_result **arr, size_t *cap, const char *path, rt_error *e) {
    if (*cap == MX_CELL_RESULTS_MAX)
        return RT_FAIL(e, RT_EINPUT, "%s: more than %d results in one cell", path,
                       MX_CELL_RESULTS_MAX);
    size_t next = *cap ? *cap * 2 : 16;
    if (next > MX_CELL_RESULTS_MAX) next = MX_CELL_RESULTS_MAX;
    mx_result *p = realloc(*arr, next * sizeof *p);
    if (p == NULL) return RT_FAIL(e, RT_ENOMEM, "%s: no memory for a cell's results", path);
    *arr = p;
    *cap = next;
    return RT_OK;
}

rt_err mx_cell_results(mx_db *db, int64_t run_id, const char *row, const char *kind,
                       mx_result **out, size_t *n, rt_error *e) {
    return mx_cell_results_of(db, run_id, "model", row, kind, out, n, e);
}

rt_err mx_cell_results_of(mx_db *db, int64_t run_id, const char *impl, const char *row,
                          const char *kind, mx_result **out, size_t *n, rt_error *e) {
    assert(out != NULL);
    assert(n != NULL);
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, "SELECT scenario, guarantee, kind, backend, versions, outcome,"
                               " reason, seed, digest, virtual_ms, files, bytes, impl FROM results"
                               " WHERE run_id = ?1 AND guarantee = ?2 AND kind = ?3 AND impl = ?4"
                               " ORDER BY backend, versions, scenario, seed, id", &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_text(st, 2, row, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, impl, -1, SQLITE_STATIC);
    size_t cap = 0;
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) rc = grow(out, &cap, db->path, e);
        if (rc == RT_OK) read_result(st, &(*out)[(*n)++]);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read results");
    sqlite3_finalize(st);
    if (rc != RT_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

void mx_replay_command(const mx_result *r, char *buf, size_t cap) {
    assert(r != NULL);
    assert(buf != NULL);
    char backend[sizeof r->backend];
    mx_copy(backend, sizeof backend, r->backend);
    char *arrow = strstr(backend, "->");
    if (arrow != NULL) *arrow = '\0';
    int n = snprintf(buf, cap,
                     "snapsim scenario run scenarios/%s.json --kind %s --backend %s --seed %" PRIu64,
                     r->scenario, r->kind, backend, r->seed);
    /* A version pair names one variant of the scenario; quoted for "->". */
    if (strstr(r->versions, "->") != NULL && n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " --versions '%s'", r->versions);
}

void mx_anchor(const char *row, const char *kind, char *buf, size_t cap) {
    assert(cap > 0);
    snprintf(buf, cap, "%s-%s", row, kind);
    for (char *p = buf; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        else if (!ok) *p = '-';
    }
}
