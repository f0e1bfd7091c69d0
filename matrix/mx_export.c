/* mx_export: the latest run's results as results.csv (RFC 4180),
 * results.json (an array of result objects) and junit.xml (one testcase per
 * result; corrupted, crashed and regressions against the docs fail), all in
 * the table's order. */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mx_report.h"
#include "mx_text.h"

typedef rt_err (*result_fn)(const mx_report *rep, const mx_cell *c, const mx_result *r,
                            void *ctx, rt_error *e);

/* Calls fn for every result of the run, cell by cell in table order. */
static rt_err each_result(mx_db *db, const mx_report *rep, result_fn fn, void *ctx,
                          rt_error *e) {
    rt_err rc = RT_OK;
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++) {
        const mx_cell *c = &rep->cells[i];
        if (mx_counts_total(&c->counts) == 0) continue;
        mx_result *r;
        size_t n;
        rc = mx_cell_results(db, rep->run.id, rep->rows[c->row].id, mx_kinds[c->kind], &r, &n, e);
        for (size_t j = 0; j < n && rc == RT_OK; j++) rc = fn(rep, c, &r[j], ctx, e);
        if (n > 0) free(r);
    }
    return rc;
}

/* ---- results.csv ---- */

static rt_err csv_line(const mx_report *rep, const mx_cell *c, const mx_result *r, void *ctx,
                       rt_error *e) {
    (void)c;
    (void)e;
    FILE *f = ctx;
    const char *text[] = {r->scenario, r->guarantee, r->kind, r->backend, r->versions,
                          r->outcome, r->reason};
    fprintf(f, "%" PRId64, rep->run.id);
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        fputc(',', f);
        mx_put_csv(f, text[i]);
    }
    fprintf(f, ",%" PRIu64 ",", r->seed);
    mx_put_csv(f, r->digest);
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\r\n", r->virtual_ms, r->files, r->bytes);
    return RT_OK;
}

rt_err mx_export_csv(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    assert(f != NULL);
    fputs("run_id,scenario,guarantee,kind,backend,versions,outcome,reason,seed,digest,"
          "virtual_ms,files,bytes\r\n", f);
    return each_result(db, rep, csv_line, f, e);
}

/* ---- results.json ---- */

json_t *mx_json_text(const char *s) {
    if (s == NULL) return json_null();
    json_t *j = json_string(s);
    if (j != NULL) return j;
    char clean[1024];
    mx_copy(clean, sizeof clean, s);
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    return json_string(clean);
}

/* JSON integers are signed 64-bit: a larger value is written as a string. */
static json_t *json_u64(uint64_t v) {
    if (v <= (uint64_t)INT64_MAX) return json_integer((json_int_t)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

static rt_err json_add(const mx_report *rep, const mx_cell *c, const mx_result *r, void *ctx,
                       rt_error *e) {
    (void)c;
    json_t *o = json_object();
    int bad = o == NULL;
    bad |= json_object_set_new(o, "run_id", json_integer(rep->run.id));
    bad |= json_object_set_new(o, "scenario", mx_json_text(r->scenario));
    bad |= json_object_set_new(o, "guarantee", mx_json_text(r->guarantee));
    bad |= json_object_set_new(o, "kind", mx_json_text(r->kind));
    bad |= json_object_set_new(o, "backend", mx_json_text(r->backend));
    bad |= json_object_set_new(o, "versions", mx_json_text(r->versions));
    bad |= json_object_set_new(o, "outcome", mx_json_text(r->outcome));
    bad |= json_object_set_new(o, "reason", mx_json_text(r->reason));
    bad |= json_object_set_new(o, "seed", json_u64(r->seed));
    bad |= json_object_set_new(o, "digest", mx_json_text(r->digest));
    bad |= json_object_set_new(o, "virtual_ms", json_u64(r->virtual_ms));
    bad |= json_object_set_new(o, "files", json_u64(r->files));
    bad |= json_object_set_new(o, "bytes", json_u64(r->bytes));
    bad |= json_array_append_new(ctx, o);
    if (bad) return RT_FAIL(e, RT_ENOMEM, "cannot build the JSON of a result");
    return RT_OK;
}

rt_err mx_export_json(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    assert(f != NULL);
    json_t *all = json_array();
    if (all == NULL) return RT_FAIL(e, RT_ENOMEM, "cannot build results.json");
    rt_err rc = each_result(db, rep, json_add, all, e);
    if (rc == RT_OK && json_dumpf(all, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        rc = RT_FAIL(e, RT_EIO, "cannot write results.json");
    if (rc == RT_OK) fputc('\n', f);
    json_decref(all);
    return rc;
}

/* ---- junit.xml ---- */

static int docs_expects_yes(const mx_report *rep, const mx_cell *c) {
    return rep->docs >= 0 && c->expect[rep->docs] == MX_EXPECT_YES;
}

/* A result fails when it is a bug, or a rejection the docs guarantee against. */
static const char *failure_of(const mx_report *rep, const mx_cell *c, const mx_result *r) {
    if (strcmp(r->outcome, "corrupted") == 0 || strcmp(r->outcome, "crashed") == 0)
        return r->outcome;
    if (strcmp(r->outcome, "rejected") == 0 && docs_expects_yes(rep, c)) return "regression";
    return NULL;
}

static int64_t failures_total(const mx_report *rep) {
    int64_t n = 0;
    for (int i = 0; i < rep->n_cells; i++) {
        const mx_cell *c = &rep->cells[i];
        n += c->counts.corrupted + c->counts.crashed;
        if (docs_expects_yes(rep, c)) n += c->counts.rejected;
    }
    return n;
}

static rt_err junit_case(const mx_report *rep, const mx_cell *c, const mx_result *r, void *ctx,
                         rt_error *e) {
    (void)e;
    FILE *f = ctx;
    char replay[512];
    mx_replay_command(r, replay, sizeof replay);
    fputs("    <testcase classname=\"matrix.", f);
    mx_put_xml(f, r->guarantee);
    fputs("\" name=\"", f);
    mx_put_xml(f, r->guarantee);
    fprintf(f, "/%s/", r->kind);
    mx_put_xml(f, r->backend);
    fputc('/', f);
    mx_put_xml(f, r->versions[0] ? r->versions : "-");
    fprintf(f, " seed %" PRIu64 "\">\n", r->seed);
    const char *failure = failure_of(rep, c, r);
    if (failure != NULL) {
        fprintf(f, "      <failure type=\"%s\" message=\"%s: ", failure, failure);
        mx_put_xml(f, r->reason);
        fputs("\">replay: ", f);
        mx_put_xml(f, replay);
        fputs("</failure>\n", f);
    }
    fprintf(f, "      <system-out>outcome: %s; reason: ", r->outcome);
    mx_put_xml(f, r->reason);
    fputs("; digest: ", f);
    mx_put_xml(f, r->digest);
    fputs("; replay: ", f);
    mx_put_xml(f, replay);
    fputs("</system-out>\n    </testcase>\n", f);
    return RT_OK;
}

rt_err mx_export_junit(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    assert(f != NULL);
    int64_t tests = mx_counts_total(&rep->run.counts);
    int64_t failures = failures_total(rep);
    assert(failures <= tests);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"snapsim matrix\" tests=\"%" PRId64 "\" failures=\"%" PRId64
               "\">\n  <testsuite name=\"snapsim matrix run %" PRId64 "\" tests=\"%" PRId64
               "\" failures=\"%" PRId64 "\" errors=\"0\">\n",
            tests, failures, rep->run.id, tests, failures);
    rt_err rc = each_result(db, rep, junit_case, f, e);
    fputs("  </testsuite>\n</testsuites>\n", f);
    return rc;
}
