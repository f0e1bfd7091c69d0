/* test_matrix: the matrix module (matrix/): schema, recording, rendering,
 * comparison with the expectation sources, diff, merge, and refusing files
 * that are not ours. Cells are picked by what the loaded expectation files
 * say, so no cell's answer is written here. Run from the repository root
 * (the expectation files are read from matrix/expect). */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mx_text.h"

#include "mx.h"
#include "mx_cells.h"
#include "mx_expect.h"
#include "mx_report.h"
#include "test_util.h"

#define EXPECT_DIR "matrix/expect"
#define WHEN "2024-05-01T12:00:00Z"

static char dir[512];

static void path_in(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
}

static void setup_dir(void) { CU_ASSERT_FATAL(tu_mkdtemp(dir, sizeof dir, "matrix") == 0); }
static void teardown_dir(void) { CU_ASSERT(tu_rmtree(dir) == 0); }


static int contains(const char *path, const char *needle) {
    char *text = tu_read_file(path, NULL);
    int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

static int count_of(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static mx_result result(const char *row, const char *kind, const char *backend,
                        const char *versions, const char *outcome, uint64_t seed) {
    mx_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.scenario, sizeof r.scenario, "sc_%s", row);
    snprintf(r.guarantee, sizeof r.guarantee, "%s", row);
    snprintf(r.kind, sizeof r.kind, "%s", kind);
    snprintf(r.backend, sizeof r.backend, "%s", backend);
    snprintf(r.versions, sizeof r.versions, "%s", versions);
    snprintf(r.outcome, sizeof r.outcome, "%s", outcome);
    if (strcmp(outcome, "works") != 0)
        snprintf(r.reason, sizeof r.reason, "%s: <named> \"reason\" | a,b", outcome);
    r.seed = seed;
    snprintf(r.digest, sizeof r.digest, "%016llx", (unsigned long long)(seed * 0x9e3779b9u));
    r.virtual_ms = 100 + seed;
    r.files = 3;
    r.bytes = 4096;
    return r;
}

static mx_db *open_db(const char *name, int load_expect) {
    char path[600];
    path_in(path, sizeof path, name);
    mx_db *db = NULL;
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(mx_open(&db, path, &e), RT_OK);
    if (db && load_expect) CU_ASSERT_EQUAL(mx_load_expectations(db, EXPECT_DIR, &e), RT_OK);
    if (e.code != RT_OK) fprintf(stderr, "\n%s\n", e.msg);
    return db;
}

/* The first (row, kind) the docs source gives the expectation x. */
static int pick_cell(mx_db *db, mx_expect x, int skip, const char **row, const char **kind) {
    for (int r = 0; r < mx_row_count; r++)
        for (int k = 0; k < MX_KIND_COUNT; k++) {
            mx_expect got;
            rt_error e;
            if (mx_expect_lookup(db, MX_SOURCE_DOCS, mx_rows[r].id, mx_kinds[k], &got, &e) != RT_OK)
                return -1;
            if (got == x && skip-- == 0) {
                *row = mx_rows[r].id;
                *kind = mx_kinds[k];
                return 0;
            }
        }
    return -1;
}

static void record_all(mx_db *db, const mx_result *rs, int n, const char *when) {
    rt_error e;
    int64_t run = 0;
    /* uid "": runs of one date are the shards of one run (test_merge_shards) */
    CU_ASSERT_EQUAL_FATAL(mx_run_begin(db, when, "rev-1", "{\"jobs\":1}", "", &run, &e), RT_OK);
    for (int i = 0; i < n; i++) CU_ASSERT_EQUAL(mx_record(db, run, &rs[i], &e), RT_OK);
    CU_ASSERT_EQUAL(mx_run_end(db, run, &e), RT_OK);
}

static void render(mx_db *db) {
    rt_error e;
    rt_error_clear(&e);
    char out[600];
    path_in(out, sizeof out, "reports");
    CU_ASSERT_EQUAL(mx_render_all(db, out, &e), RT_OK);
    if (e.code != RT_OK) fprintf(stderr, "\n%s\n", e.msg);
}

static void report_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/reports/%s", dir, name);
}

static mx_verdict docs_verdict(mx_db *db, const char *row, const char *kind) {
    mx_report rep;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(mx_report_load(db, &rep, &e), RT_OK);
    const mx_cell *c = mx_report_find(&rep, row, kind);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_FATAL(rep.docs >= 0);
    mx_verdict v = c->verdict[rep.docs];
    mx_report_free(&rep);
    return v;
}

static void test_schema_reopen(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    mx_result r = result(mx_rows[0].id, "canonical", "heap", "", "works", 1);
    record_all(db, &r, 1, WHEN);
    mx_close(db);
    db = open_db("m.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    mx_close(db);
    char path[600];
    path_in(path, sizeof path, "m.db");
    sqlite3 *s;
    CU_ASSERT_FATAL(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *st;
    const char *q = "SELECT (SELECT count(*) FROM sqlite_master WHERE name IN ('runs','results',"
                    "'expectations','latest_cells')), (SELECT count(*) FROM latest_results),"
                    " (SELECT user_version FROM pragma_user_version)";
    CU_ASSERT_FATAL(sqlite3_prepare_v2(s, q, -1, &st, NULL) == SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_step(st), SQLITE_ROW);
    CU_ASSERT_EQUAL(sqlite3_column_int(st, 0), 4);
    CU_ASSERT_EQUAL(sqlite3_column_int(st, 1), 1);
    CU_ASSERT(sqlite3_column_int(st, 2) > 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    teardown_dir();
}

/* A ✓-expected cell fed with works renders ✓, a ✗-expected one fed with
 * rejected renders ✗; every output file is written and consistent. */
static void test_render_symbols(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    const char *yr, *yk, *nr, *nk;
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_YES, 0, &yr, &yk) == 0);
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_NO, 0, &nr, &nk) == 0);
    mx_result rs[] = {result(yr, yk, "heap", "1.15.0->1.16.0", "works", 7),
                      result(yr, yk, "rocksdb", "1.15.0->1.16.0", "works", 7),
                      result(nr, nk, "heap", "", "rejected", 8),
                      result(nr, nk, "rocksdb", "", "rejected", 8)};
    record_all(db, rs, 4, WHEN);
    render(db);
    char md[700], html[700], csv[700], json[700], junit[700], want[300], ya[160], na[160];
    report_path(md, sizeof md, "guarantees.md");
    report_path(html, sizeof html, "index.html");
    report_path(csv, sizeof csv, "results.csv");
    report_path(json, sizeof json, "results.json");
    report_path(junit, sizeof junit, "junit.xml");
    mx_anchor(yr, yk, ya, sizeof ya);
    mx_anchor(nr, nk, na, sizeof na);
    snprintf(want, sizeof want, "[✓](#%s)", ya);
    CU_ASSERT(contains(md, want));
    snprintf(want, sizeof want, "[✗](#%s)", na);
    CU_ASSERT(contains(md, want));
    snprintf(want, sizeof want, "<a id=\"%s\"></a>", ya);
    CU_ASSERT(contains(md, want));
    snprintf(want, sizeof want, "`snapsim scenario run scenarios/sc_%s.json --kind %s --backend "
                                "rocksdb --seed 7 --versions '1.15.0->1.16.0'`", yr, yk);
    CU_ASSERT(contains(md, want));
    CU_ASSERT(contains(md, WHEN));
    CU_ASSERT(contains(md, "4 results: 2 works, 2 rejected, 0 corrupted, 0 crashed"));
    CU_ASSERT(contains(md, "\\<named\\> \"reason\" \\| a,b"));
    snprintf(want, sizeof want, "<details id=\"%s\">", ya);
    CU_ASSERT(contains(html, want));
    CU_ASSERT(contains(html, "&lt;named&gt; &quot;reason&quot;"));
    CU_ASSERT(!contains(html, "<named>"));
    char *text = tu_read_file(csv, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(count_of(text, "\r\n"), 5);
    CU_ASSERT(strstr(text, ",\"rejected: <named> \"\"reason\"\" | a,b\",") != NULL);
    free(text);
    text = tu_read_file(json, NULL);
    CU_ASSERT_EQUAL(text ? count_of(text, "\"outcome\"") : 0, 4);
    free(text);
    text = tu_read_file(junit, NULL);
    CU_ASSERT_EQUAL(text ? count_of(text, "<testcase ") : 0, 4);
    CU_ASSERT(text && strstr(text, "failures=\"0\"") != NULL);
    free(text);
    mx_close(db);
    teardown_dir();
}

static void test_undocumented_pass(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    const char *row, *kind;
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_NO, 0, &row, &kind) == 0);
    mx_result rs[] = {result(row, kind, "heap", "", "works", 1),
                      result(row, kind, "rocksdb", "", "works", 1)};
    record_all(db, rs, 2, WHEN);
    CU_ASSERT_EQUAL(docs_verdict(db, row, kind), MX_VERDICT_UNDOCUMENTED_PASS);
    render(db);
    char md[700], want[300], anchor[160];
    report_path(md, sizeof md, "guarantees.md");
    mx_anchor(row, kind, anchor, sizeof anchor);
    snprintf(want, sizeof want, "[✓](#%s) ⚠1", anchor);
    CU_ASSERT(contains(md, want));
    CU_ASSERT(contains(md, "expected ✗, observed ✓: **undocumented pass**"));
    mx_close(db);
    teardown_dir();
}

static void test_regression(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    const char *row, *kind;
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_YES, 0, &row, &kind) == 0);
    mx_result rs[] = {result(row, kind, "heap", "", "works", 1),
                      result(row, kind, "rocksdb", "", "rejected", 1)};
    record_all(db, rs, 2, WHEN);
    CU_ASSERT_EQUAL(docs_verdict(db, row, kind), MX_VERDICT_REGRESSION);
    render(db);
    char md[700], junit[700];
    report_path(md, sizeof md, "guarantees.md");
    report_path(junit, sizeof junit, "junit.xml");
    CU_ASSERT(contains(md, "◐ heap ✓ / rocksdb ✗"));
    CU_ASSERT(contains(md, "**regression**"));
    CU_ASSERT(contains(junit, "failures=\"1\""));
    CU_ASSERT(contains(junit, "<failure type=\"regression\""));
    mx_close(db);
    teardown_dir();
}

/* One corrupted result names the cell CORRUPTED and is a bug against every
 * source, whatever the cell's expectation. */
static void test_corrupted_flagged(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    const char *row, *kind;
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_NO, 0, &row, &kind) == 0);
    mx_result rs[] = {result(row, kind, "heap", "", "rejected", 1),
                      result(row, kind, "rocksdb", "", "corrupted", 1)};
    /* A reason naming a Flink issue (not "FLINK-" alone) names the cell's bug. */
    snprintf(rs[1].reason, sizeof rs[1].reason, "see FLINK-: no; names x, which does not exist (FLINK-39964, open)");
    record_all(db, rs, 2, WHEN);
    mx_report rep;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(mx_report_load(db, &rep, &e), RT_OK);
    const mx_cell *c = mx_report_find(&rep, row, kind);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->symbol, "CORRUPTED");
    CU_ASSERT_STRING_EQUAL(c->flink_bug, "FLINK-39964");
    CU_ASSERT(rep.n_sources >= 1);
    for (int s = 0; s < rep.n_sources; s++) CU_ASSERT_EQUAL(c->verdict[s], MX_VERDICT_BUG);
    mx_report_free(&rep);
    render(db);
    char md[700], junit[700];
    report_path(md, sizeof md, "guarantees.md");
    report_path(junit, sizeof junit, "junit.xml");
    CU_ASSERT(contains(md, "[CORRUPTED heap ✗ / rocksdb CORRUPTED]"));
    CU_ASSERT(contains(md, "**bug** (FLINK-39964)"));
    CU_ASSERT(contains(junit, "<failure type=\"corrupted\""));
    mx_close(db);
    teardown_dir();
}

static void test_compare(void) {
    mx_counts none = {0, 0, 0, 0}, works = {3, 0, 0, 0}, rejected = {0, 2, 0, 0};
    mx_counts mixed = {1, 1, 0, 0}, crashed = {5, 0, 0, 1};
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_YES, &works), MX_VERDICT_AGREES);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_YES, &rejected), MX_VERDICT_REGRESSION);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_YES, &mixed), MX_VERDICT_REGRESSION);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_NO, &works), MX_VERDICT_UNDOCUMENTED_PASS);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_NO, &rejected), MX_VERDICT_AGREES);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_MAYBE, &works), MX_VERDICT_NOT_GUARANTEED);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_UNKNOWN, &rejected), MX_VERDICT_ANSWERED);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_UNKNOWN, &crashed), MX_VERDICT_BUG);
    CU_ASSERT_EQUAL(mx_compare(MX_EXPECT_YES, &none), MX_VERDICT_NO_DATA);
    CU_ASSERT_STRING_EQUAL(mx_symbol(&crashed), "CRASHED");
    CU_ASSERT_STRING_EQUAL(mx_symbol(&none), "—");
    CU_ASSERT(mx_verdict_disagrees(MX_VERDICT_BUG));
    CU_ASSERT(!mx_verdict_disagrees(MX_VERDICT_ANSWERED));
    CU_ASSERT(mx_caveat_not_guaranteed(MX_EXPECT_MAYBE, &works));
    CU_ASSERT(mx_caveat_not_guaranteed(MX_EXPECT_MAYBE, &mixed));
    CU_ASSERT(!mx_caveat_not_guaranteed(MX_EXPECT_MAYBE, &rejected));
    CU_ASSERT(!mx_caveat_not_guaranteed(MX_EXPECT_MAYBE, &crashed));
    CU_ASSERT(!mx_caveat_not_guaranteed(MX_EXPECT_YES, &works));
    CU_ASSERT(!mx_caveat_not_guaranteed(MX_EXPECT_UNKNOWN, &works));
}

/* A cell the docs mark "!" that works renders ✓ with "(!)" beside it in
 * guarantees.md and index.html, the observation and the caveat as two
 * marks; a "!" cell that is rejected and a ✓ cell that works carry none. */
static void test_render_caveat(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    const char *mr, *mk, *rr, *rk, *yr, *yk;
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_MAYBE, 0, &mr, &mk) == 0);
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_MAYBE, 1, &rr, &rk) == 0);
    CU_ASSERT_FATAL(pick_cell(db, MX_EXPECT_YES, 0, &yr, &yk) == 0);
    mx_result rs[] = {result(mr, mk, "heap", "", "works", 1), result(mr, mk, "rocksdb", "", "works", 1),
                      result(rr, rk, "heap", "", "rejected", 2), result(yr, yk, "heap", "", "works", 3)};
    record_all(db, rs, 4, WHEN);
    CU_ASSERT_EQUAL(docs_verdict(db, mr, mk), MX_VERDICT_NOT_GUARANTEED);
    render(db);
    char md[700], html[700], want[400], ma[160], ra[160], ya[160];
    report_path(md, sizeof md, "guarantees.md");
    report_path(html, sizeof html, "index.html");
    mx_anchor(mr, mk, ma, sizeof ma);
    mx_anchor(rr, rk, ra, sizeof ra);
    mx_anchor(yr, yk, ya, sizeof ya);
    snprintf(want, sizeof want, "[✓](#%s) (!) |", ma);
    CU_ASSERT(contains(md, want));
    snprintf(want, sizeof want, "[✗](#%s) |", ra);
    CU_ASSERT(contains(md, want));
    snprintf(want, sizeof want, "[✓](#%s) |", ya);
    CU_ASSERT(contains(md, want));
    CU_ASSERT(contains(md, ": ✓ (!)\n")); /* the evidence heading too */
    CU_ASSERT(contains(md, "(!) works, and the documentation marks it !"));
    snprintf(want, sizeof want, "<a href=\"#%s\">✓</a> <span class=\"caveat\"", ma);
    CU_ASSERT(contains(html, want));
    snprintf(want, sizeof want, "<a href=\"#%s\">✓</a></td>", ya);
    CU_ASSERT(contains(html, want));
    snprintf(want, sizeof want, "<a href=\"#%s\">✗</a></td>", ra);
    CU_ASSERT(contains(html, want));
    mx_close(db);
    teardown_dir();
}

/* A backend mixed across version pairs is split by version pair. */
static void test_split_by_versions(void) {
    mx_result rs[] = {result("minor-upgrade", "native", "heap", "1.14.0->1.15.0", "works", 1),
                      result("minor-upgrade", "native", "rocksdb", "1.14.0->1.15.0", "works", 1),
                      result("minor-upgrade", "native", "rocksdb", "1.17.0->1.18.0", "rejected",
                             1)};
    char buf[MX_SPLIT_MAX];
    mx_split(rs, 3, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf,
                           "heap ✓ / rocksdb 1.14.0->1.15.0 ✓ / rocksdb 1.17.0->1.18.0 ✗");
}

static char *diff_text(const char *a, const char *b, int *regressions, rt_err *rc) {
    char old_p[600], new_p[600];
    path_in(old_p, sizeof old_p, a);
    path_in(new_p, sizeof new_p, b);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_error e;
    rt_error_clear(&e);
    *rc = mx_diff(old_p, new_p, out, regressions, NULL, &e);
    fclose(out);
    return text;
}

/* The diff tests' two runs of one row: canonical works -> rejected (a
 * regression), native rejected -> works (changed), aligned gone, unaligned
 * new; native's bytes times new_bytes_factor (a cost change when not 1). */
static void write_diff_pair(uint64_t new_bytes_factor) {
    const char *row = mx_rows[0].id;
    mx_result old_rs[] = {result(row, "canonical", "heap", "", "works", 1),
                          result(row, "native", "heap", "", "rejected", 1),
                          result(row, "aligned", "heap", "", "works", 1)};
    mx_result new_rs[] = {result(row, "canonical", "heap", "", "rejected", 1),
                          result(row, "native", "heap", "", "works", 1),
                          result(row, "unaligned", "heap", "", "works", 1)};
    new_rs[1].bytes *= new_bytes_factor;
    mx_db *db = open_db("old.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, old_rs, 3, WHEN);
    mx_close(db);
    db = open_db("new.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, new_rs, 3, WHEN);
    mx_close(db);
}

static void test_diff(void) {
    setup_dir();
    const char *row = mx_rows[0].id;
    write_diff_pair(1);
    mx_db *db;
    int regressions = -1;
    rt_err rc;
    char *text = diff_text("old.db", "new.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT_EQUAL(regressions, 1);
    char want[200];
    snprintf(want, sizeof want, "REGRESSION %s/canonical heap [sc_%s]: works -> rejected (", row,
             row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    CU_ASSERT(text && strstr(text, "CHANGED ") != NULL);
    CU_ASSERT(text && strstr(text, "NEW ") != NULL);
    CU_ASSERT(text && strstr(text, "GONE ") != NULL);
    CU_ASSERT(text && strstr(text, "1 regression, 1 changed, 1 new, 1 gone, 0 unchanged") != NULL);
    free(text);
    text = diff_text("new.db", "new.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT_EQUAL(regressions, 0);
    CU_ASSERT(text && strstr(text, "0 regressions, 0 changed, 0 new, 0 gone, 3 unchanged") != NULL);
    free(text);
    /* a corrupted cell in both (a known bug the model reproduces) is unchanged */
    mx_result bug = result(row, "native", "rocksdb", "", "corrupted", 1);
    db = open_db("bug.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, &bug, 1, WHEN);
    mx_close(db);
    text = diff_text("bug.db", "bug.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT_EQUAL(regressions, 0);
    CU_ASSERT(text && strstr(text, "0 regressions, 0 changed, 0 new, 0 gone, 1 unchanged") != NULL);
    free(text);
    text = diff_text("old.db", "missing.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_ENOENT);
    free(text);
    teardown_dir();
}

/* Costs are their own column of the diff: every change in files or bytes
 * is listed, more than 10% more bytes is a cost regression, and neither
 * is an outcome regression. */
static void test_diff_costs(void) {
    setup_dir();
    const char *row = mx_rows[0].id;
    mx_result old_rs[] = {result(row, "canonical", "heap", "", "works", 1),
                          result(row, "native", "heap", "", "works", 1),
                          result(row, "aligned", "heap", "", "works", 1),
                          result(row, "unaligned", "heap", "", "works", 1)};
    mx_result new_rs[4];
    memcpy(new_rs, old_rs, sizeof new_rs);
    new_rs[0].bytes = 4096 + 409; /* +9.99%: a change */
    new_rs[1].bytes = 4096 + 411; /* +10.03%: a regression */
    new_rs[2].files = 4;          /* one more file, same bytes: a change */
    new_rs[3].bytes = 1000;       /* cheaper: a change */
    mx_db *db = open_db("old.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, old_rs, 4, WHEN);
    mx_close(db);
    db = open_db("new.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, new_rs, 4, WHEN);
    mx_close(db);
    int regressions = -1, cost = -1;
    char old_p[600], new_p[600];
    path_in(old_p, sizeof old_p, "old.db");
    path_in(new_p, sizeof new_p, "new.db");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_error e;
    CU_ASSERT_EQUAL(mx_diff(old_p, new_p, out, &regressions, &cost, &e), RT_OK);
    fclose(out);
    CU_ASSERT_EQUAL(regressions, 0);
    CU_ASSERT_EQUAL(cost, 1);
    char want[200];
    snprintf(want, sizeof want, "COST-REGRESSION %s/native heap [sc_%s]: files 3 -> 3, bytes 4096 -> 4507 (+10.0%%)", row,
             row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    snprintf(want, sizeof want, "COST %s/canonical heap [sc_%s]: files 3 -> 3, bytes 4096 -> 4505", row, row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    snprintf(want, sizeof want, "COST %s/aligned heap [sc_%s]: files 3 -> 4, bytes 4096 -> 4096", row, row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    CU_ASSERT(text && strstr(text, "0 regressions, 0 changed, 0 new, 0 gone, 4 unchanged") != NULL);
    CU_ASSERT(text && strstr(text, "costs: 1 cost regression (more than 10% more bytes written), 3 other cost changes") != NULL);
    free(text);
    teardown_dir();
}

/* A crashed result in NEW is a regression even where OLD had none. */
static mx_result impl_result(const char *impl, const char *row, const char *kind, const char *versions,
                             const char *outcome) {
    mx_result r = result(row, kind, "heap", versions, outcome, 1);
    snprintf(r.impl, sizeof r.impl, "%s", impl);
    return r;
}

/* The model's results against real Flink's in one database: single
 * releases key without their version, release pairs with it. */
static void test_diff_impls(void) {
    setup_dir();
    const char *row = mx_rows[0].id;
    mx_result rs[] = {impl_result("model", row, "canonical", "1.15.0", "works"),
                      impl_result("model", row, "native", "1.15.0", "rejected"),
                      impl_result("model", row, "aligned", "1.19.3->1.20.3", "works"),
                      impl_result("model", row, "unaligned", "1.15.0", "works"),
                      impl_result("flink", row, "canonical", "1.20.3", "works"),
                      impl_result("flink", row, "native", "1.20.3", "works"),
                      impl_result("flink", row, "aligned", "1.19.3->1.20.3", "rejected"),
                      impl_result("flink", row, "aligned", "1.17.2->1.18.1", "works")};
    mx_db *db = open_db("both.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, rs, 8, WHEN);
    mx_close(db);
    char p[600];
    path_in(p, sizeof p, "both.db");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    rt_error e;
    rt_error_clear(&e);
    int differ = -1;
    CU_ASSERT_EQUAL(mx_diff_impls(p, "model", p, "flink", out, &differ, &e), RT_OK);
    fclose(out);
    CU_ASSERT_EQUAL(differ, 2);
    char want[200];
    snprintf(want, sizeof want, "DIFFERS %s/native heap [sc_%s]: model rejected, flink works", row, row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    snprintf(want, sizeof want, "DIFFERS %s/aligned heap 1.19.3->1.20.3 [sc_%s]: model works, flink rejected", row,
             row);
    CU_ASSERT(text && strstr(text, want) != NULL);
    CU_ASSERT(text && strstr(text, "2 disagreements, 1 agree, 1 only model, 1 only flink") != NULL);
    free(text);
    /* The plain diff of the file against itself sees the model only. */
    int regressions = -1;
    rt_err rc;
    text = diff_text("both.db", "both.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT(text && strstr(text, "0 regressions, 0 changed, 0 new, 0 gone, 4 unchanged") != NULL);
    free(text);
    teardown_dir();
}

/* The members of every element of a, sorted and joined: "" when they differ. */
static void members_of(json_t *o, char *buf, size_t cap) {
    buf[0] = '\0';
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        (void)v;
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s,", k);
    }
}

static int same_members(json_t *a) {
    char first[512], other[512];
    for (size_t i = 0; i < json_array_size(a); i++) {
        members_of(json_array_get(a, i), i ? other : first, sizeof first);
        if (i && strcmp(first, other) != 0) return 0;
    }
    return 1;
}

static const char *str_at(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* matrix diff --json: the text's diff as one object. Each change with its
 * old and new outcome (null for the side without the key), every element
 * with the same members, the counts of both forms (the other's null). */
static void test_diff_json(void) {
    setup_dir();
    write_diff_pair(2);
    char old_p[600], new_p[600];
    path_in(old_p, sizeof old_p, "old.db");
    path_in(new_p, sizeof new_p, "new.db");
    json_t *j = NULL;
    rt_error e;
    rt_error_clear(&e);
    int regressions = -1, cost = -1;
    CU_ASSERT_EQUAL_FATAL(mx_diff_json(old_p, NULL, new_p, NULL, &j, &regressions, &cost, &e), RT_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_EQUAL(regressions, 1);
    CU_ASSERT_EQUAL(cost, 1);
    json_t *changes = json_object_get(j, "changes"), *sum = json_object_get(j, "summary");
    CU_ASSERT_EQUAL(json_array_size(changes), 4);
    CU_ASSERT(same_members(changes));
    const char *want[][4] = {{"aligned", "gone", "works", NULL}, {"canonical", "regression", "works", "rejected"},
                             {"native", "changed", "rejected", "works"}, {"unaligned", "new", NULL, "works"}};
    for (size_t i = 0; i < 4 && i < json_array_size(changes); i++) {
        json_t *c = json_array_get(changes, i);
        CU_ASSERT_STRING_EQUAL(str_at(c, "kind"), want[i][0]);
        CU_ASSERT_STRING_EQUAL(str_at(c, "change"), want[i][1]);
        CU_ASSERT(want[i][2] ? str_at(c, "old_outcome") && strcmp(str_at(c, "old_outcome"), want[i][2]) == 0
                             : json_is_null(json_object_get(c, "old_outcome")));
        CU_ASSERT(want[i][3] ? str_at(c, "new_outcome") && strcmp(str_at(c, "new_outcome"), want[i][3]) == 0
                             : json_is_null(json_object_get(c, "new_outcome")));
        CU_ASSERT(json_is_null(json_object_get(c, "versions")));
    }
    json_t *costs = json_object_get(j, "costs");
    CU_ASSERT_EQUAL(json_array_size(costs), 1);
    CU_ASSERT_STRING_EQUAL(str_at(json_array_get(costs, 0), "change"), "cost-regression");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(sum, "regressions")), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(sum, "gone")), 1);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(sum, "cost_regressions")), 1);
    CU_ASSERT(json_is_null(json_object_get(sum, "disagreements")));
    char runs_members[512], impls_members[512];
    members_of(sum, runs_members, sizeof runs_members);
    json_decref(j);
    /* --impls: the same members; its counts, the runs' null */
    j = NULL;
    int differ = -1;
    CU_ASSERT_EQUAL_FATAL(mx_diff_json(old_p, "model", new_p, "model", &j, &differ, NULL, &e), RT_OK);
    CU_ASSERT_EQUAL(differ, 2);
    sum = json_object_get(j, "summary");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(sum, "disagreements")), 2);
    CU_ASSERT(json_is_null(json_object_get(sum, "regressions")));
    CU_ASSERT_STRING_EQUAL(str_at(j, "mode"), "impls");
    CU_ASSERT_EQUAL(json_object_size(sum), 11);
    members_of(sum, impls_members, sizeof impls_members);
    CU_ASSERT_EQUAL(strlen(runs_members), strlen(impls_members)); /* the same names, in another order */
    CU_ASSERT(same_members(json_object_get(j, "changes")));
    json_decref(j);
    /* a database that cannot be read: an error, no object */
    path_in(new_p, sizeof new_p, "missing.db");
    j = NULL;
    CU_ASSERT_EQUAL(mx_diff_json(old_p, NULL, new_p, NULL, &j, &regressions, NULL, &e), RT_ENOENT);
    CU_ASSERT_PTR_NULL(j);
    teardown_dir();
}

static void test_diff_bug_in_new(void) {
    setup_dir();
    mx_result old_r = result(mx_rows[1].id, "native", "heap", "", "rejected", 1);
    mx_result new_rs[] = {result(mx_rows[1].id, "native", "heap", "", "crashed", 1),
                          result(mx_rows[2].id, "native", "heap", "", "corrupted", 1)};
    mx_db *db = open_db("old.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, &old_r, 1, WHEN);
    mx_close(db);
    db = open_db("new.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, new_rs, 2, WHEN);
    mx_close(db);
    int regressions = -1;
    rt_err rc;
    char *text = diff_text("old.db", "new.db", &regressions, &rc);
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT_EQUAL(regressions, 2);
    free(text);
    teardown_dir();
}

static int64_t count_rows(const char *path, const char *sql) {
    sqlite3 *s;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(s);
    return n;
}

static void test_merge_shards(void) {
    setup_dir();
    mx_result a[] = {result(mx_rows[0].id, "canonical", "heap", "", "works", 1),
                     result(mx_rows[0].id, "native", "heap", "", "rejected", 1)};
    mx_result b[] = {result(mx_rows[3].id, "canonical", "rocksdb", "", "works", 2),
                     result(mx_rows[3].id, "aligned", "rocksdb", "", "rejected", 2),
                     result(mx_rows[4].id, "aligned", "heap", "", "works", 2)};
    mx_db *db = open_db("shard1.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, a, 2, WHEN);
    mx_close(db);
    db = open_db("shard2.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, b, 3, WHEN);
    mx_close(db);
    char s1[600], s2[600], out[600];
    path_in(s1, sizeof s1, "shard1.db");
    path_in(s2, sizeof s2, "shard2.db");
    path_in(out, sizeof out, "merged.db");
    size_t len_before;
    char *before = tu_read_file(s1, &len_before);
    const char *ins[] = {s1, s2};
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(mx_merge(out, ins, 2, &e), RT_OK);
    CU_ASSERT_EQUAL(count_rows(out, "SELECT count(*) FROM runs"), 1);
    CU_ASSERT_EQUAL(count_rows(out, "SELECT count(*) FROM latest_results"), 5);
    CU_ASSERT_EQUAL(count_rows(out, "SELECT count(DISTINCT source) FROM expectations"),
                    count_rows(s1, "SELECT count(DISTINCT source) FROM expectations"));
    CU_ASSERT_EQUAL(count_rows(out, "SELECT count(*) FROM expectations"),
                    count_rows(s1, "SELECT count(*) FROM expectations"));
    /* Merging the same shards again adds nothing. */
    CU_ASSERT_EQUAL(mx_merge(out, ins, 2, &e), RT_OK);
    CU_ASSERT_EQUAL(count_rows(out, "SELECT count(*) FROM results"), 5);
    size_t len_after;
    char *after = tu_read_file(s1, &len_after);
    CU_ASSERT(before && after && len_before == len_after && memcmp(before, after, len_after) == 0);
    free(before);
    free(after);
    /* The merged database renders one run holding both shards. */
    db = open_db("merged.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    mx_report rep;
    CU_ASSERT_EQUAL_FATAL(mx_report_load(db, &rep, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_counts_total(&rep.run.counts), 5);
    mx_report_free(&rep);
    mx_close(db);
    CU_ASSERT_EQUAL(mx_merge(out, (const char *const[]){out}, 1, &e), RT_EUSAGE);
    teardown_dir();
}

/* One writer process of test_concurrent_writers: waits at the barrier
 * (the pipe's end closing), then opens the shared file, fresh or not, and
 * records one run of n results, pausing between them so that the two
 * writers' transactions overlap. Exit 0, or 1 naming the error. */
static void concurrent_writer(const char *path, int barrier, int n) {
    char c;
    while (read(barrier, &c, 1) > 0) {
    }
    rt_error e;
    rt_error_clear(&e);
    mx_db *db = NULL;
    int64_t run = 0;
    rt_err rc = mx_open(&db, path, &e);
    if (rc == RT_OK) rc = mx_run_begin(db, WHEN, "rev", "{\"seed\":1}", NULL, &run, &e);
    for (int i = 0; rc == RT_OK && i < n; i++) {
        mx_result r = result(mx_rows[i % mx_row_count].id, mx_kinds[i % MX_KIND_COUNT], "heap", "", "works", 1);
        rc = mx_record(db, run, &r, &e);
        usleep(2000);
    }
    if (rc == RT_OK) rc = mx_run_end(db, run, &e);
    mx_close(db);
    if (rc != RT_OK) fprintf(stderr, "\nwriter %d: %s\n", (int)getpid(), e.msg);
    _exit(rc == RT_OK ? 0 : 1);
}

/* Two processes record a run each into one fresh file at once, with the
 * same date, revision and options (two `matrix` runs of one second). Both
 * succeed (busy timeout, WAL, the schema made once), both runs are there
 * with their own uid and results, and a merge keeps them two (it folded
 * runs of the same date, revision and options into one, and dropped the
 * second run's identical results). */
static void test_concurrent_writers(void) {
    enum { WRITERS = 2, RESULTS = 40 };
    setup_dir();
    char path[600], merged[600];
    path_in(path, sizeof path, "shared.db");
    path_in(merged, sizeof merged, "merged.db");
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    pid_t kids[WRITERS];
    for (int k = 0; k < WRITERS; k++) {
        kids[k] = fork();
        CU_ASSERT_FATAL(kids[k] >= 0);
        if (kids[k] == 0) {
            close(fds[1]);
            concurrent_writer(path, fds[0], RESULTS);
        }
    }
    close(fds[0]);
    close(fds[1]); /* the barrier opens for both */
    for (int k = 0; k < WRITERS; k++) {
        int status = 0;
        CU_ASSERT(waitpid(kids[k], &status, 0) == kids[k]);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM runs"), WRITERS);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(DISTINCT uid) FROM runs WHERE length(uid) = 32"), WRITERS);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(DISTINCT started || revision || options) FROM runs"), 1);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT min(n) FROM (SELECT count(*) AS n FROM results GROUP BY run_id)"),
                    RESULTS);
    const char *ins[] = {path};
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_OK); /* again: nothing new */
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM runs"), WRITERS);
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM results"), WRITERS * RESULTS);
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM runs r JOIN runs s ON r.uid = s.uid AND r.id < s.id"), 0);
    teardown_dir();
}

/* A schema 3 file (before runs.uid): merged as it was (its runs' uid ''),
 * and upgraded in place when opened for writing, its runs kept. */
static void test_schema3_upgraded(void) {
    setup_dir();
    char path[600], merged[600];
    path_in(path, sizeof path, "v3.db");
    path_in(merged, sizeof merged, "v3-merged.db");
    mx_db *db = open_db("v3.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    mx_result r = result(mx_rows[0].id, "native", "heap", "", "works", 1);
    record_all(db, &r, 1, WHEN);
    mx_close(db);
    sqlite3 *s;
    CU_ASSERT_FATAL(sqlite3_open(path, &s) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(s, "ALTER TABLE runs DROP COLUMN uid; PRAGMA user_version = 3;", NULL, NULL, NULL) ==
              SQLITE_OK);
    sqlite3_close(s);
    rt_error e;
    rt_error_clear(&e);
    const char *ins[] = {path};
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_OK);
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM runs WHERE uid = ''"), 1);
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM results"), 1);
    CU_ASSERT_EQUAL(count_rows(path, "PRAGMA user_version"), 3); /* a merge input is only read */
    db = open_db("v3.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    mx_close(db);
    CU_ASSERT_EQUAL(count_rows(path, "PRAGMA user_version"), MX_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM runs WHERE uid = ''"), 1);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM latest_results"), 1);
    teardown_dir();
}

static void expect_refused(const char *name) {
    char path[600];
    path_in(path, sizeof path, name);
    size_t len_before, len_after;
    char *before = tu_read_file(path, &len_before);
    mx_db *db = NULL;
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(mx_open(&db, path, &e), RT_ESQL);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT(strstr(e.msg, path) != NULL);
    char *after = tu_read_file(path, &len_after);
    CU_ASSERT(before && after && len_before == len_after && memcmp(before, after, len_after) == 0);
    free(before);
    free(after);
}

static void test_refuse_foreign(void) {
    setup_dir();
    char path[600];
    path_in(path, sizeof path, "junk.db");
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("this is not a database, it is a shopping list: eggs, milk, more eggs\n", f);
    fclose(f);
    expect_refused("junk.db");
    path_in(path, sizeof path, "other.db");
    sqlite3 *s;
    CU_ASSERT_FATAL(sqlite3_open(path, &s) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(s, "CREATE TABLE runs(x); INSERT INTO runs VALUES (1);", NULL, NULL,
                           NULL) == SQLITE_OK);
    sqlite3_close(s);
    expect_refused("other.db");
    /* Even with our schema version, a file without our application_id is foreign. */
    path_in(path, sizeof path, "versioned.db");
    CU_ASSERT_FATAL(sqlite3_open(path, &s) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(s, "CREATE TABLE notes(x); PRAGMA user_version = 1;", NULL, NULL,
                           NULL) == SQLITE_OK);
    sqlite3_close(s);
    expect_refused("versioned.db");
    int regressions;
    rt_err rc;
    free(diff_text("junk.db", "other.db", &regressions, &rc));
    CU_ASSERT_EQUAL(rc, RT_ESQL);
    teardown_dir();
}

/* A result of a restore scenario with its ownership timeline. */
static mx_result owned(const char *mode, int deleted) {
    mx_result r = result(mx_rows[0].id, "native", "rocksdb", "", "works", 7);
    r.n_restores = 1;
    snprintf(r.restores[0].mode, sizeof r.restores[0].mode, "%s", mode);
    snprintf(r.restores[0].snapshot, sizeof r.restores[0].snapshot, "savepoint");
    r.restores[0].snapshot_id = 4;
    r.restores[0].files = 9;
    r.restores[0].gone = deleted ? 9 : 0;
    if (deleted) {
        r.n_events = 2;
        r.events[0] = (mx_own_event){0, 9, 1200, 8, "unused", "agg-0-000012.sst"};
        r.events[1] = (mx_own_event){0, 11, 1450, 1, "subsumed", "_metadata"};
    }
    return r;
}

/* Schema 3: a result's restores and deletions are recorded with it, copied
 * by a merge, and rendered per restore mode into both reports; malformed
 * ones are refused; a database of schema 2 is refused by name, except by
 * matrix diff, which reads its results. */
static void test_ownership_timeline(void) {
    setup_dir();
    mx_result rs[] = {owned("claim", 1), owned("no-claim", 0)};
    snprintf(rs[1].kind, sizeof rs[1].kind, "aligned");
    mx_db *db = open_db("own.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    record_all(db, rs, 2, WHEN);
    render(db);
    mx_close(db);
    rt_error e;
    int64_t run = 0;
    mx_db *other = open_db("own-bad.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(other);
    CU_ASSERT_EQUAL(mx_run_begin(other, WHEN, "rev", "", NULL, &run, &e), RT_OK);
    mx_result bad = owned("claim", 1);
    bad.events[1].restore = 3; /* no such restore */
    CU_ASSERT_EQUAL(mx_record(other, run, &bad, &e), RT_EINPUT);
    bad = owned("sometimes", 0);
    CU_ASSERT_EQUAL(mx_record(other, run, &bad, &e), RT_EINPUT);
    mx_close(other);
    char path[600], merged[600], report[600];
    path_in(path, sizeof path, "own.db");
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM restores"), 2);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM deletions"), 2);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT after_checkpoint FROM deletions WHERE seq = 2"), 11);
    path_in(merged, sizeof merged, "own-merged.db");
    const char *ins[] = {path};
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_OK); /* once, not twice */
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT count(*) FROM deletions"), 2);
    CU_ASSERT_EQUAL(count_rows(merged, "SELECT sum(gone) FROM restores"), 9);
    report_path(report, sizeof report, "guarantees.md");
    size_t len;
    char *md = tu_read_file(report, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(md);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "Ownership timeline"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "after checkpoint 9 at 1200 ms: 8 (unused"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "FLINK-28647"));
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "FLINK-40254"));
    free(md);
    report_path(report, sizeof report, "index.html");
    char *html = tu_read_file(report, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "after checkpoint 11 at 1450 ms: 1 (subsumed"));
    free(html);
    /* An older database: refused by name, read by diff. */
    sqlite3 *s;
    CU_ASSERT_FATAL(sqlite3_open(path, &s) == SQLITE_OK);
    CU_ASSERT(sqlite3_exec(s, "PRAGMA user_version = 2;", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(s);
    expect_refused("own.db");
    CU_ASSERT_EQUAL(mx_merge(merged, ins, 1, &e), RT_ESQL);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "schema version 2"));
    int regressions;
    rt_err rc;
    free(diff_text("own.db", "own-merged.db", &regressions, &rc));
    CU_ASSERT_EQUAL(rc, RT_OK);
    CU_ASSERT_EQUAL(regressions, 0);
    teardown_dir();
}

/* The sources load, and the blog's table differs from the docs' exactly
 * where the blog dropped the "!" marks. The docs source also holds one row
 * from another page ("State Schema Evolution": incompatible changes), which
 * the blog's table does not have. */
static void test_expectations(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    char diffs[512] = "";
    int n_docs = 0;
    for (int r = 0; r < mx_row_count; r++)
        for (int k = 0; k < MX_KIND_COUNT; k++) {
            mx_expect d, b;
            rt_error e;
            CU_ASSERT_EQUAL(mx_expect_lookup(db, "docs", mx_rows[r].id, mx_kinds[k], &d, &e),
                            RT_OK);
            CU_ASSERT_EQUAL(mx_expect_lookup(db, "blog-1.15", mx_rows[r].id, mx_kinds[k], &b, &e),
                            RT_OK);
            n_docs += d != MX_EXPECT_UNKNOWN;
            if (strcmp(mx_rows[r].id, "schema-incompatible") == 0) {
                CU_ASSERT_EQUAL(d, MX_EXPECT_NO);
                CU_ASSERT_EQUAL(b, MX_EXPECT_UNKNOWN);
                continue;
            }
            if (d == b) continue;
            CU_ASSERT_EQUAL(d, MX_EXPECT_MAYBE);
            CU_ASSERT_EQUAL(b, MX_EXPECT_YES);
            size_t used = strlen(diffs);
            snprintf(diffs + used, sizeof diffs - used, "%s/%s ", mx_rows[r].id, mx_kinds[k]);
        }
    CU_ASSERT_STRING_EQUAL(diffs, "spa-read/native spa-read/aligned schema-evolution/native "
                                  "schema-evolution/aligned schema-evolution/unaligned ");
    CU_ASSERT_EQUAL(n_docs, 44); /* ten rows of the table and one of schema evolution x four kinds */
    rt_error e;
    for (int k = 0; k < MX_KIND_COUNT; k++) {
        mx_expect x = MX_EXPECT_YES;
        CU_ASSERT_EQUAL(mx_expect_lookup(db, "flip-203", "rocksdb-bump", mx_kinds[k], &x, &e),
                        RT_OK);
        CU_ASSERT_EQUAL(x, MX_EXPECT_UNKNOWN);
    }
    mx_close(db);
    teardown_dir();
}

/* A bad data file names itself and leaves the loaded sources untouched. */
static void test_bad_expectation_file(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    char bad_dir[600], bad[700];
    path_in(bad_dir, sizeof bad_dir, "expect");
    CU_ASSERT_FATAL(mkdir(bad_dir, 0777) == 0);
    snprintf(bad, sizeof bad, "%s/typo.json", bad_dir);
    FILE *f = fopen(bad, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"source\":\"typo\",\"title\":\"t\",\n"
          " \"cells\":{\"backend-chnage\":{\"native\":\"no\"}}}", f);
    fclose(f);
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(mx_load_expectations(db, bad_dir, &e), RT_EINPUT);
    CU_ASSERT(strstr(e.msg, "typo.json") != NULL);
    CU_ASSERT(strstr(e.msg, "backend-chnage") != NULL);
    mx_expect x = MX_EXPECT_UNKNOWN;
    CU_ASSERT_EQUAL(mx_expect_lookup(db, "docs", "rescaling", "canonical", &x, &e), RT_OK);
    CU_ASSERT_NOT_EQUAL(x, MX_EXPECT_UNKNOWN);
    mx_close(db);
    teardown_dir();
}

/* The committed real-Flink results (the JSON files of matrix/observed) still match the
 * scenario set: each names a scenario file that exists and whose row is the
 * result's row, a known kind and outcome, and says what made it. A renamed
 * scenario or a moved row makes the data stale: run make conformance. */
/* The plan line of conformance/lane.tsv for file (tab-separated: file,
 * release, filter, scenarios) into line (cap bytes); 0 when found. */
static int lane_line(const char *file, char *line, size_t cap) {
    FILE *f = fopen("conformance/lane.tsv", "r");
    if (f == NULL) return -1;
    size_t n = strlen(file);
    int found = -1;
    while (fgets(line, (int)cap, f))
        if (strncmp(line, file, n) == 0 && line[n] == '\t') {
            found = 0;
            break;
        }
    fclose(f);
    return found;
}

/* Whether word is one of the space-separated words of list. */
static int has_word(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
        if ((p == list || p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

static void test_observed_matches_scenarios(void) {
    DIR *d = opendir("matrix/observed");
    if (d == NULL) return; /* no real-Flink data committed */
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
        char path[600];
        snprintf(path, sizeof path, "matrix/observed/%s", de->d_name);
        json_error_t je;
        json_t *root = json_load_file(path, 0, &je);
        CU_ASSERT_PTR_NOT_NULL_FATAL(root);
        files++;
        CU_ASSERT(json_is_string(json_object_get(root, "date")));
        CU_ASSERT(json_is_string(json_object_get(root, "command")));
        json_t *results = json_object_get(root, "results");
        CU_ASSERT_FATAL(json_is_array(results));
        /* make conformance remakes it: its plan line names its release and scenarios */
        char plan[1024], release[40];
        int planned = lane_line(de->d_name, plan, sizeof plan) == 0;
        if (!planned) fprintf(stderr, "\n  %s: no line of conformance/lane.tsv makes it\n", path);
        CU_ASSERT_FATAL(planned);
        snprintf(release, sizeof release, "\t%s\t", json_string_value(json_object_get(root, "default_release")));
        CU_ASSERT_PTR_NOT_NULL(strstr(plan, release));
        for (size_t i = 0; i < json_array_size(results); i++) {
            json_t *r = json_array_get(results, i);
            const char *sc = json_string_value(json_object_get(r, "scenario"));
            CU_ASSERT(sc != NULL && has_word(strrchr(plan, '\t') + 1, sc));
            const char *row = json_string_value(json_object_get(r, "guarantee"));
            const char *kind = json_string_value(json_object_get(r, "kind"));
            const char *out = json_string_value(json_object_get(r, "outcome"));
            CU_ASSERT_FATAL(sc && row && kind && out);
            char spath[300];
            snprintf(spath, sizeof spath, "scenarios/%s.json", sc);
            json_t *s = json_load_file(spath, 0, &je);
            const char *srow = json_string_value(json_object_get(s, "row"));
            if (s == NULL || srow == NULL || strcmp(srow, row) != 0)
                fprintf(stderr, "\n  %s: result %zu names scenario %s (row %s), which %s\n", path, i, sc, row,
                        s == NULL ? "no longer exists" : "has another row now");
            CU_ASSERT(s != NULL && srow != NULL && strcmp(srow, row) == 0);
            CU_ASSERT(mx_kind_index(kind) >= 0);
            CU_ASSERT(strcmp(out, "works") == 0 || strcmp(out, "rejected") == 0 || strcmp(out, "corrupted") == 0 ||
                      strcmp(out, "crashed") == 0);
            json_decref(s);
        }
        json_decref(root);
    }
    closedir(d);
    CU_ASSERT(files > 0);
    /* and every line of the plan has its file */
    FILE *f = fopen("conformance/lane.tsv", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char path[600];
        snprintf(path, sizeof path, "matrix/observed/%.*s", (int)strcspn(line, "\t"), line);
        if (access(path, R_OK) != 0) fprintf(stderr, "\n  conformance/lane.tsv plans %s, which is missing\n", path);
        CU_ASSERT(access(path, R_OK) == 0);
    }
    fclose(f);
}

/* Real-Flink results sit beside the model's in one run: the model's cells
 * count only the model, the report counts Flink apart and lists the cell
 * where the two disagree first; an unknown impl is refused. */
/* Reasons lose Flink's random ids, and nothing else. */
static void test_plain_ids(void) {
    char out[256];
    mx_plain_ids("checkpoints/3b8323ccdc83a4e8180cc28bf6b730a7/chk-2/7a863166-5eb3-4f7b-9414-b54f1e5edfa8)",
                 out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "checkpoints/<job-id>/chk-2/<file-id>)");
    /* a digest (16 hex), a 33-hex run and a word ending in hex stay */
    const char *keep = "digest d49598f855a372ee x3b8323ccdc83a4e8180cc28bf6b730a7 "
                       "3b8323ccdc83a4e8180cc28bf6b730a7f";
    mx_plain_ids(keep, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, keep);
    mx_plain_ids("id 3b8323ccdc83a4e8180cc28bf6b730a7", out, 8);
    CU_ASSERT_STRING_EQUAL(out, "id ");
}

static void test_flink_beside_model(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    rt_error e;
    rt_error_clear(&e);
    int64_t run;
    CU_ASSERT_EQUAL_FATAL(mx_run_begin(db, WHEN, "r", "", NULL, &run, &e), RT_OK);
    mx_result m1 = result("relocatable", "aligned", "heap", "", "rejected", 1);
    mx_result f1 = result("relocatable", "aligned", "heap", "1.20.3", "works", 1);
    mx_result m2 = result("relocatable", "canonical", "heap", "", "works", 1);
    mx_result f2 = result("relocatable", "canonical", "heap", "1.20.3", "works", 1);
    snprintf(f1.impl, sizeof f1.impl, "flink");
    snprintf(f2.impl, sizeof f2.impl, "flink");
    CU_ASSERT_EQUAL(mx_record(db, run, &m1, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_record(db, run, &f1, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_record(db, run, &m2, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_record(db, run, &f2, &e), RT_OK);
    mx_result bad = result("relocatable", "native", "heap", "", "works", 1);
    snprintf(bad.impl, sizeof bad.impl, "jvm");
    CU_ASSERT_EQUAL(mx_record(db, run, &bad, &e), RT_EINPUT);
    CU_ASSERT_EQUAL_FATAL(mx_run_end(db, run, &e), RT_OK);
    mx_report rep;
    CU_ASSERT_EQUAL_FATAL(mx_report_load(db, &rep, &e), RT_OK);
    const mx_cell *a = mx_report_find(&rep, "relocatable", "aligned");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(mx_counts_total(&a->counts), 1);
    CU_ASSERT_EQUAL(a->counts.rejected, 1);
    CU_ASSERT_EQUAL(a->flink.works, 1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_EQUAL(mx_render_md(db, &rep, f, &e), RT_OK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2 cells ran on real Flink; the model disagrees with it in 1."));
    /* The disagreeing cell (aligned) comes before the agreeing one. */
    const char *sec = strstr(text, "## The model and real Flink");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
    const char *al = strstr(sec, "/ aligned cp"), *ca = strstr(sec, "/ canonical sp");
    if (al == NULL || ca == NULL) fprintf(stderr, "\n%s\n", sec);
    CU_ASSERT(al != NULL && ca != NULL && al < ca);
    free(text);
    text = NULL;
    f = open_memstream(&text, &size);
    CU_ASSERT_EQUAL(mx_render_html(db, &rep, f, &e), RT_OK);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<h2>The model and real Flink</h2>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "<tr class=\"differs\">"));
    free(text);
    mx_report_free(&rep);
    mx_close(db);
    teardown_dir();
}

/* A run that never ended is not kept; recording outside the vocabulary is
 * refused with the value in the message. */
static void test_run_lifecycle(void) {
    setup_dir();
    mx_db *db = open_db("m.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    rt_error e;
    int64_t run;
    CU_ASSERT_EQUAL_FATAL(mx_run_begin(db, WHEN, "r", "", NULL, &run, &e), RT_OK);
    mx_result r = result(mx_rows[0].id, "sideways", "heap", "", "works", 1);
    CU_ASSERT_EQUAL(mx_record(db, run, &r, &e), RT_EINPUT);
    CU_ASSERT(strstr(e.msg, "sideways") != NULL);
    r = result(mx_rows[0].id, "native", "heap", "", "works", 1);
    CU_ASSERT_EQUAL(mx_record(db, run, &r, &e), RT_OK);
    mx_close(db);
    char path[600];
    path_in(path, sizeof path, "m.db");
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM runs"), 0);
    db = open_db("m.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    char out[600];
    path_in(out, sizeof out, "reports");
    CU_ASSERT_EQUAL(mx_render_all(db, out, &e), RT_ENOENT);
    mx_close(db);
    teardown_dir();
}

/* mx_run_commit: what a run recorded before it is kept (and seen by other
 * readers at once) even when the run never ends; what came after is
 * discarded with the unfinished rest; it refuses a run that is not open. */
static void test_run_commit(void) {
    setup_dir();
    mx_db *db = open_db("c.db", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    rt_error e;
    int64_t run;
    CU_ASSERT_EQUAL_FATAL(mx_run_begin(db, WHEN, "r", "", NULL, &run, &e), RT_OK);
    mx_result r1 = result(mx_rows[0].id, "native", "heap", "", "works", 1);
    mx_result r2 = result(mx_rows[0].id, "native", "heap", "", "works", 2);
    mx_result r3 = result(mx_rows[0].id, "native", "heap", "", "works", 3);
    CU_ASSERT_EQUAL(mx_record(db, run, &r1, &e), RT_OK);
    CU_ASSERT_EQUAL(mx_record(db, run, &r2, &e), RT_OK);
    char path[600];
    path_in(path, sizeof path, "c.db");
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM results"), 0);
    CU_ASSERT_EQUAL(mx_run_commit(db, run + 1, &e), RT_EUSAGE);
    CU_ASSERT_EQUAL_FATAL(mx_run_commit(db, run, &e), RT_OK);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM results"), 2);
    CU_ASSERT_EQUAL(mx_record(db, run, &r3, &e), RT_OK);
    mx_close(db); /* never ended */
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM runs"), 1);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT count(*) FROM results"), 2);
    CU_ASSERT_EQUAL(count_rows(path, "SELECT max(seed) FROM results"), 2);
    teardown_dir();
}

int suite_matrix(void) {
    CU_pSuite s = CU_add_suite("matrix", NULL, NULL);
    if (s == NULL) return -1;
    struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"schema is created and reopenable", test_schema_reopen},
        {"render shows observed symbols and writes every file", test_render_symbols},
        {"works in a docs-no cell is an undocumented pass", test_undocumented_pass},
        {"rejected in a docs-yes cell is a regression", test_regression},
        {"corrupted is flagged in any cell", test_corrupted_flagged},
        {"verdicts and symbols", test_compare},
        {"a works cell the docs mark ! keeps the caveat", test_render_caveat},
        {"a mixed backend splits by version pair", test_split_by_versions},
        {"diff counts works->rejected; no change is 0", test_diff},
        {"diff counts bugs in NEW", test_diff_bug_in_new},
        {"diff --impls compares the model with real Flink", test_diff_impls},
        {"diff as JSON: the text's changes, one set of members", test_diff_json},
        {"diff lists cost changes and flags cost regressions apart", test_diff_costs},
        {"merge of shards yields one run", test_merge_shards},
        {"two writers at once: both runs kept, and apart on merge", test_concurrent_writers},
        {"a schema 3 file merges and is upgraded in place", test_schema3_upgraded},
        {"non-SQLite and foreign files are refused untouched", test_refuse_foreign},
        {"ownership timeline: recorded, merged, rendered; schema 2", test_ownership_timeline},
        {"expectation sources load; blog differs where documented", test_expectations},
        {"a bad expectation file is named and changes nothing", test_bad_expectation_file},
        {"an unfinished run is discarded; bad values refused", test_run_lifecycle},
        {"a run's commit keeps what came before it, even unended", test_run_commit},
        {"real-Flink results beside the model's", test_flink_beside_model},
        {"reasons shown without Flink's random ids", test_plain_ids},
        {"committed real-Flink results match the scenario set", test_observed_matches_scenarios},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
