/* mx_render_md: guarantees.md, the documentation's table as observed:
 * each cell links to its evidence, cells that disagree with the docs
 * expectation carry ⚠N, then a section per expectation source and the
 * evidence (every result, with the command that replays it). A cell that
 * works where the docs say "!" carries "(!)" beside its symbol: the
 * observation and the caveat stay two marks, never one. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mx_ownership.h"
#include "mx_report.h"
#include "mx_text.h"

static void md_header(const mx_report *rep, FILE *f) {
    const mx_run_info *run = &rep->run;
    fputs("# Savepoint and checkpoint guarantees, observed\n\n", f);
    fprintf(f, "Run %" PRId64 " · revision ", run->id);
    mx_put_md(f, run->revision[0] ? run->revision : "unknown");
    fputs(" · started ", f);
    mx_put_md(f, run->started);
    fprintf(f, " · %" PRId64 " results: %" PRId64 " works, %" PRId64 " rejected, %" PRId64
               " corrupted, %" PRId64 " crashed\n\n",
            mx_counts_total(&run->counts), run->counts.works, run->counts.rejected,
            run->counts.corrupted, run->counts.crashed);
    if (run->options[0]) {
        fputs("Options: ", f);
        mx_put_md(f, run->options);
        fputs("\n\n", f);
    }
}

static void md_cell_label(const mx_report *rep, const mx_cell *c, FILE *f) {
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fputc('[', f);
    mx_put_md(f, rep->rows[c->row].title);
    fprintf(f, " / %s](#%s)", mx_kind_titles[c->kind], anchor);
}

/* The symbol (and split) linked to the cell's evidence. */
static void md_cell_symbol(const mx_report *rep, const mx_cell *c, FILE *f) {
    if (mx_counts_total(&c->counts) == 0) {
        fputs(c->symbol, f);
        return;
    }
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fprintf(f, "[%s", c->symbol);
    if (c->split[0]) {
        fputc(' ', f);
        mx_put_md(f, c->split);
    }
    fprintf(f, "](#%s)", anchor);
}

static int docs_disagrees(const mx_report *rep, const mx_cell *c) {
    return rep->docs >= 0 && mx_verdict_disagrees(c->verdict[rep->docs]);
}

static int docs_caveat(const mx_report *rep, const mx_cell *c) {
    return rep->docs >= 0 && mx_caveat_not_guaranteed(c->expect[rep->docs], &c->counts);
}

static void md_table(const mx_report *rep, FILE *f) {
    fputs("| operation |", f);
    for (int k = 0; k < MX_KIND_COUNT; k++) fprintf(f, " %s |", mx_kind_titles[k]);
    fputs("\n|---|:-:|:-:|:-:|:-:|\n", f);
    int note = 0;
    for (int r = 0; r < rep->n_rows; r++) {
        fputs("| ", f);
        mx_put_md(f, rep->rows[r].title);
        fputs(" |", f);
        for (int k = 0; k < MX_KIND_COUNT; k++) {
            const mx_cell *c = mx_report_cell(rep, r, k);
            fputc(' ', f);
            md_cell_symbol(rep, c, f);
            if (docs_caveat(rep, c)) fputs(" (!)", f);
            if (docs_disagrees(rep, c)) fprintf(f, " ⚠%d", ++note);
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

/* The numbered notes of the ⚠ marks, in table order. */
static void md_notes(const mx_report *rep, FILE *f) {
    if (rep->docs < 0) {
        fputs("No `" MX_SOURCE_DOCS "` expectation is loaded, so no cell is marked.\n\n", f);
        return;
    }
    int note = 0;
    for (int i = 0; i < rep->n_cells; i++) {
        const mx_cell *c = &rep->cells[i];
        if (!docs_disagrees(rep, c)) continue;
        if (note == 0) fputs("Disagreements with the documentation (`" MX_SOURCE_DOCS "`):\n\n", f);
        fprintf(f, "%d. ", ++note);
        md_cell_label(rep, c, f);
        fprintf(f, ": expected %s, observed %s: **%s**", mx_expect_symbol(c->expect[rep->docs]),
                c->symbol, mx_verdict_name(c->verdict[rep->docs]));
        if (c->flink_bug[0]) fprintf(f, " (%s)", c->flink_bug);
        fputc('\n', f);
    }
    if (note == 0) fputs("Every observed cell agrees with the documentation (`" MX_SOURCE_DOCS
                         "`).\n", f);
    fputc('\n', f);
}

static void md_legend(FILE *f) {
    fputs("Legend: ✓ every result works · ✗ every result rejected with a named error · "
          "◐ works for some combinations, rejected for others (the split says which) · "
          "CORRUPTED / CRASHED a bug, flagged in any cell · — no result · "
          "(!) works, and the documentation marks it ! (works today, not guaranteed) · "
          "⚠N disagrees with the documentation (note N). "
          "Each symbol links to its evidence.\n\n"
          "Expectations: ✓ yes, guaranteed · ✗ no · ! works today, not guaranteed · "
          "? not stated or left open.\n\n", f);
}

/* Lists the cells of one source whose verdict is v. */
static void md_source_list(const mx_report *rep, int s, mx_verdict v, FILE *f) {
    int listed = 0;
    for (int i = 0; i < rep->n_cells; i++) {
        const mx_cell *c = &rep->cells[i];
        if (c->verdict[s] != v) continue;
        if (listed++ == 0) fprintf(f, "%s:\n\n", mx_verdict_name(v));
        fputs("- ", f);
        md_cell_label(rep, c, f);
        fprintf(f, ": expected %s, observed %s", mx_expect_symbol(c->expect[s]), c->symbol);
        if (c->split[0]) {
            fputs(" (", f);
            mx_put_md(f, c->split);
            fputc(')', f);
        }
        fputc('\n', f);
    }
    if (listed) fputc('\n', f);
}

static void md_sources(const mx_report *rep, FILE *f) {
    static const mx_verdict listed[] = {MX_VERDICT_BUG, MX_VERDICT_REGRESSION,
                                        MX_VERDICT_UNDOCUMENTED_PASS, MX_VERDICT_ANSWERED,
                                        MX_VERDICT_NOT_GUARANTEED};
    fputs("## Observed against each expectation source\n\n", f);
    if (rep->n_sources == 0) fputs("No expectation source is loaded.\n\n", f);
    for (int s = 0; s < rep->n_sources; s++) {
        fputs("### ", f);
        mx_put_md(f, rep->sources[s].id);
        fputs(": ", f);
        mx_put_md(f, rep->sources[s].title);
        fputs("\n\n", f);
        int counts[MX_VERDICT_BUG + 1] = {0};
        for (int i = 0; i < rep->n_cells; i++) counts[rep->cells[i].verdict[s]]++;
        for (int v = 0; v <= MX_VERDICT_BUG; v++)
            fprintf(f, "%s%s %d", v ? " · " : "", mx_verdict_name((mx_verdict)v), counts[v]);
        fputs("\n\n", f);
        for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++)
            md_source_list(rep, s, listed[i], f);
    }
}

static void md_result_line(const mx_result *r, FILE *f) {
    char replay[512];
    mx_replay_command(r, replay, sizeof replay);
    fputs("| ", f);
    mx_put_md(f, r->backend);
    fputs(" | ", f);
    mx_put_md(f, r->versions[0] ? r->versions : "—");
    fprintf(f, " | %s | ", r->outcome);
    char plain[sizeof r->reason];
    mx_plain_ids(r->reason, plain, sizeof plain);
    mx_put_md(f, plain);
    fputs(" | ", f);
    fprintf(f, "%" PRIu64 " | ", r->seed);
    mx_put_md(f, r->digest);
    fprintf(f, " | %" PRIu64 " | %" PRIu64 " | `", r->files, r->bytes);
    mx_put_md_code(f, replay);
    fputs("` |\n", f);
}

static void md_cell_expectations(const mx_report *rep, const mx_cell *c, FILE *f) {
    if (rep->n_sources == 0) return;
    fputs("Expected: ", f);
    for (int s = 0; s < rep->n_sources; s++) {
        fputs(s ? " · " : "", f);
        mx_put_md(f, rep->sources[s].id);
        fprintf(f, " %s (%s)", mx_expect_symbol(c->expect[s]), mx_verdict_name(c->verdict[s]));
    }
    fputs("\n\n", f);
}

static rt_err md_cell_evidence(mx_db *db, const mx_report *rep, const mx_cell *c, FILE *f,
                               rt_error *e) {
    mx_result *r;
    size_t n;
    rt_err rc = mx_cell_results(db, rep->run.id, rep->rows[c->row].id, mx_kinds[c->kind], &r, &n,
                                e);
    if (rc != RT_OK) return rc;
    assert((int64_t)n == mx_counts_total(&c->counts));
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fprintf(f, "<a id=\"%s\"></a>\n\n### ", anchor);
    mx_put_md(f, rep->rows[c->row].title);
    fprintf(f, " / %s: %s", mx_kind_titles[c->kind], c->symbol);
    if (c->split[0]) {
        fputc(' ', f);
        mx_put_md(f, c->split);
    }
    if (docs_caveat(rep, c)) fputs(" (!)", f);
    fputs("\n\n", f);
    md_cell_expectations(rep, c, f);
    fputs("| backend | versions | outcome | reason | seed | digest | files | bytes | replay |\n"
          "|---|---|---|---|--:|---|--:|--:|---|\n", f);
    for (size_t i = 0; i < n; i++) md_result_line(&r[i], f);
    fputc('\n', f);
    free(r);
    return RT_OK;
}

static void md_flink_line(const mx_report *rep, const mx_cell *c, FILE *f) {
    fputs("| ", f);
    md_cell_label(rep, c, f);
    fprintf(f, " | %s | %s | %s |\n", rep->docs >= 0 ? mx_expect_symbol(c->expect[rep->docs]) : "?",
            mx_counts_total(&c->counts) ? c->symbol : "—", c->flink_symbol);
}

/* Docs, model and real Flink per cell that real Flink ran, disagreements
 * between the model and Flink first. The real column comes from
 * matrix/observed/ (the conformance lane's committed results). */
static rt_err md_flink(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    fputs("## The model and real Flink\n\n", f);
    if (rep->flink_cells == 0) {
        fputs("No real-Flink results in this run (`make conformance` writes matrix/observed/).\n\n", f);
        return RT_OK;
    }
    fprintf(f, "%d cells ran on real Flink; the model disagrees with it in %d.\n\n", rep->flink_cells,
            rep->flink_differ);
    fputs("| cell | docs | model | real Flink |\n|---|:-:|:-:|:-:|\n", f);
    for (int k = 0; k < rep->flink_cells; k++) md_flink_line(rep, &rep->cells[rep->flink_order[k]], f);
    fputc('\n', f);
    rt_err rc = RT_OK;
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++) {
        const mx_cell *c = &rep->cells[i];
        if (mx_counts_total(&c->flink) == 0) continue;
        mx_result *r = NULL;
        size_t k = 0;
        rc = mx_cell_results_of(db, rep->run.id, "flink", rep->rows[c->row].id, mx_kinds[c->kind], &r, &k, e);
        for (size_t j = 0; rc == RT_OK && j < k; j++) {
            fputs("- real Flink, ", f);
            md_cell_label(rep, c, f);
            fprintf(f, ": %s, %s on %s", r[j].outcome, r[j].backend, r[j].versions);
            if (r[j].reason[0]) {
                char plain[sizeof r[j].reason];
                mx_plain_ids(r[j].reason, plain, sizeof plain);
                fputs(": ", f);
                mx_put_md(f, plain);
            }
            /* The replay starts where the scenario started: the first backend and release. */
            int bl = (int)strcspn(r[j].backend, "-"), vl = (int)strcspn(r[j].versions, "-");
            fprintf(f, " (`snapsim scenario run scenarios/%s.json --kind %s --backend %.*s --impl flink --release "
                       "%.*s`)\n", r[j].scenario, r[j].kind, bl, r[j].backend, vl, r[j].versions);
        }
        free(r);
    }
    fputc('\n', f);
    return rc;
}

rt_err mx_render_md(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    assert(db != NULL);
    assert(rep != NULL);
    assert(f != NULL);
    md_header(rep, f);
    md_table(rep, f);
    md_notes(rep, f);
    rt_err rc = md_flink(db, rep, f, e);
    if (rc == RT_OK) rc = mx_ownership_md(db, rep, f, e);
    if (rc != RT_OK) return rc;
    md_legend(f);
    md_sources(rep, f);
    fputs("## Evidence\n\n", f);
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++)
        if (mx_counts_total(&rep->cells[i].counts) > 0)
            rc = md_cell_evidence(db, rep, &rep->cells[i], f, e);
    return rc;
}
