/* mx_render_html: index.html, the same report as guarantees.md for a
 * browser: self-contained (inline CSS, a three-line script that opens the
 * <details> a link points at), every database string HTML-escaped. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mx_ownership.h"
#include "mx_report.h"
#include "mx_text.h"

static const char css[] =
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#202124}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #dadce0;padding:.3em .6em;vertical-align:top}"
    "table.matrix td{text-align:center;min-width:7em}"
    "table.matrix th[scope=row]{text-align:left;font-weight:normal}"
    "a{color:inherit}"
    ".obs-works{background:#e6f4ea}.obs-rejected{background:#f1f3f4}"
    ".obs-mixed{background:#fff4e5}.obs-bug{background:#fce8e6;font-weight:bold}"
    ".obs-none{color:#9aa0a6}"
    ".disagree{outline:2px solid #d93025;outline-offset:-2px}"
    ".mark{color:#d93025;font-weight:bold}.caveat{color:#b06000;font-weight:bold}"
    "details{margin:.4em 0}summary{cursor:pointer}"
    "table.evidence{font-size:90%}code{font-size:90%}"
    "tr.differs td{outline:2px solid #d93025;outline-offset:-2px}"
    ".scroll{overflow-x:auto;max-width:100%}.pairs{white-space:nowrap;letter-spacing:.1em}"
    "nav{margin:.5em 0}"
    "@media(max-width:40em){body{margin:.6em}h1{font-size:1.4em}table.matrix td{min-width:4em}}";

static const char script[] =
    "function openTarget(){var d=document.getElementById(location.hash.slice(1));"
    "if(d&&d.tagName==='DETAILS')d.open=true;}"
    "window.addEventListener('hashchange',openTarget);openTarget();";

static const char *obs_class(const mx_counts *c) {
    if (c->corrupted > 0 || c->crashed > 0) return "obs-bug";
    if (c->works > 0 && c->rejected > 0) return "obs-mixed";
    if (c->works > 0) return "obs-works";
    if (c->rejected > 0) return "obs-rejected";
    return "obs-none";
}

static void html_header(const mx_report *rep, FILE *f) {
    const mx_run_info *run = &rep->run;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
               "<title>snapsim: savepoint and checkpoint guarantees</title>\n"
               "<style>%s</style>\n</head>\n<body>\n"
               "<h1>Savepoint and checkpoint guarantees, observed</h1>\n<p>Run %" PRId64
               " · revision <code>", css, run->id);
    mx_put_xml(f, run->revision[0] ? run->revision : "unknown");
    fputs("</code> · started ", f);
    mx_put_xml(f, run->started);
    fprintf(f, " · %" PRId64 " results: %" PRId64 " works, %" PRId64 " rejected, %" PRId64
               " corrupted, %" PRId64 " crashed</p>\n",
            mx_counts_total(&run->counts), run->counts.works, run->counts.rejected,
            run->counts.corrupted, run->counts.crashed);
    if (run->options[0]) {
        fputs("<p>Options: <code>", f);
        mx_put_xml(f, run->options);
        fputs("</code></p>\n", f);
    }
    fputs("<nav>Other outputs of this run: <a href=\"guarantees.md\">guarantees.md</a> · "
          "<a href=\"results.csv\">results.csv</a> · <a href=\"results.json\">results.json</a> · "
          "<a href=\"junit.xml\">junit.xml</a>", f);
    if (rep->has_bench) fputs(" · <a href=\"bench.md\">bench.md</a>", f);
    if (rep->has_restore_map)
        fputs(" · <a href=\"coverage/restore-map.md\">coverage/restore-map.md</a>", f);
    fputs("</nav>\n", f);
}

/* The per-pair split ("heap 1.15->1.16 ✓ / heap 1.16->1.17 ✗ / rocksdb ...")
 * as one line per backend with a mark per pair; the pairs themselves are
 * in the title and in the cell's evidence. */
static void html_pairs(const char *split, FILE *f) {
    const char *p = split, *prev_backend = NULL;
    size_t prev_len = 0;
    fputs("<br><small class=\"pairs\">", f);
    while (*p) {
        const char *end = strstr(p, " / ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *sp = memchr(p, ' ', len), *last = p + len;
        while (last > p && last[-1] != ' ') last--;
        size_t blen = sp ? (size_t)(sp - p) : len;
        if (prev_backend == NULL || blen != prev_len || strncmp(p, prev_backend, blen) != 0) {
            if (prev_backend != NULL) fputs("<br>", f);
            fprintf(f, "%.*s ", (int)blen, p);
            prev_backend = p;
            prev_len = blen;
        }
        fprintf(f, "%.*s", (int)(p + len - last), last);
        p = end ? end + 3 : p + len;
    }
    fputs("</small>", f);
}

static void html_cell(const mx_report *rep, const mx_cell *c, int *note, FILE *f) {
    int disagrees = rep->docs >= 0 && mx_verdict_disagrees(c->verdict[rep->docs]);
    fprintf(f, "<td class=\"%s%s\">", obs_class(&c->counts), disagrees ? " disagree" : "");
    if (mx_counts_total(&c->counts) == 0) {
        fprintf(f, "%s</td>", c->symbol);
        return;
    }
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fprintf(f, "<a href=\"#%s\"", anchor);
    if (c->split[0]) {
        fputs(" title=\"", f);
        mx_put_xml(f, c->split);
        fputc('"', f);
    }
    fprintf(f, ">%s", c->symbol);
    if (c->split[0]) html_pairs(c->split, f);
    fputs("</a>", f);
    if (rep->docs >= 0 && mx_caveat_not_guaranteed(c->expect[rep->docs], &c->counts))
        fprintf(f, " <span class=\"caveat\" title=\"works today, not guaranteed (%s)\">(!)</span>",
                MX_SOURCE_DOCS);
    if (disagrees)
        fprintf(f, " <span class=\"mark\" title=\"%s against %s\">⚠%d</span>",
                mx_verdict_name(c->verdict[rep->docs]), MX_SOURCE_DOCS, ++*note);
    fputs("</td>", f);
}

static void html_table(const mx_report *rep, FILE *f) {
    fputs("<div class=\"scroll\"><table class=\"matrix\">\n<thead><tr><th>operation</th>", f);
    for (int k = 0; k < MX_KIND_COUNT; k++) fprintf(f, "<th>%s</th>", mx_kind_titles[k]);
    fputs("</tr></thead>\n<tbody>\n", f);
    int note = 0;
    for (int r = 0; r < rep->n_rows; r++) {
        fputs("<tr><th scope=\"row\">", f);
        mx_put_xml(f, rep->rows[r].title);
        fputs("</th>", f);
        for (int k = 0; k < MX_KIND_COUNT; k++) html_cell(rep, mx_report_cell(rep, r, k), &note, f);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n", f);
}

static void html_cell_label(const mx_report *rep, const mx_cell *c, FILE *f) {
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fprintf(f, "<a href=\"#%s\">", anchor);
    mx_put_xml(f, rep->rows[c->row].title);
    fprintf(f, " / %s</a>", mx_kind_titles[c->kind]);
}

static void html_notes(const mx_report *rep, FILE *f) {
    if (rep->docs < 0) {
        fputs("<p>No <code>" MX_SOURCE_DOCS "</code> expectation is loaded, so no cell is "
              "marked.</p>\n", f);
        return;
    }
    int note = 0;
    for (int i = 0; i < rep->n_cells; i++) {
        const mx_cell *c = &rep->cells[i];
        if (!mx_verdict_disagrees(c->verdict[rep->docs])) continue;
        fputs(note++ == 0 ? "<p>Disagreements with the documentation:</p>\n<ol>\n" : "", f);
        fputs("<li>", f);
        html_cell_label(rep, c, f);
        fprintf(f, ": expected %s, observed %s: <strong>%s</strong>", mx_expect_symbol(c->expect[rep->docs]),
                c->symbol, mx_verdict_name(c->verdict[rep->docs]));
        if (c->flink_bug[0]) fprintf(f, " (%s)", c->flink_bug);
        fputs("</li>\n", f);
    }
    fputs(note ? "</ol>\n" : "<p>Every observed cell agrees with the documentation.</p>\n", f);
}

static void html_legend(FILE *f) {
    fputs("<p class=\"legend\"><small>Legend: ✓ every result works · ✗ every result rejected "
          "with a named error · ◐ works for some combinations, rejected for others (under it a "
          "line per backend, one mark per version pair, in the order the cell's evidence lists "
          "them; hover for the pairs) · CORRUPTED / CRASHED a bug, flagged in any cell "
          "(red background) · — no result · (!) works, and the documentation marks it ! "
          "(works today, not guaranteed) · ⚠N disagrees with the documentation (red outline). "
          "Expectations: ✓ yes · ✗ no · ! works today, not guaranteed · ? not stated."
          "</small></p>\n", f);
}

static void html_source(const mx_report *rep, int s, FILE *f) {
    static const mx_verdict listed[] = {MX_VERDICT_BUG, MX_VERDICT_REGRESSION,
                                        MX_VERDICT_UNDOCUMENTED_PASS, MX_VERDICT_ANSWERED,
                                        MX_VERDICT_NOT_GUARANTEED};
    fputs("<section>\n<h3>", f);
    mx_put_xml(f, rep->sources[s].id);
    fputs(": ", f);
    mx_put_xml(f, rep->sources[s].title);
    fputs("</h3>\n", f);
    for (size_t v = 0; v < sizeof listed / sizeof listed[0]; v++) {
        int n = 0;
        for (int i = 0; i < rep->n_cells; i++) {
            const mx_cell *c = &rep->cells[i];
            if (c->verdict[s] != listed[v]) continue;
            if (n++ == 0) fprintf(f, "<h4>%s</h4>\n<ul>\n", mx_verdict_name(listed[v]));
            fputs("<li>", f);
            html_cell_label(rep, c, f);
            fprintf(f, ": expected %s, observed %s</li>\n", mx_expect_symbol(c->expect[s]),
                    c->symbol);
        }
        if (n) fputs("</ul>\n", f);
    }
    fputs("</section>\n", f);
}

static void html_result_row(const mx_result *r, FILE *f) {
    char replay[512], plain[sizeof r->reason];
    mx_replay_command(r, replay, sizeof replay);
    mx_plain_ids(r->reason, plain, sizeof plain);
    const char *fields[] = {r->backend, r->versions[0] ? r->versions : "—", r->outcome, plain};
    fputs("<tr>", f);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        fputs("<td>", f);
        mx_put_xml(f, fields[i]);
        fputs("</td>", f);
    }
    fprintf(f, "<td>%" PRIu64 "</td><td><code>", r->seed);
    mx_put_xml(f, r->digest);
    fprintf(f, "</code></td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td><code>", r->files,
            r->bytes);
    mx_put_xml(f, replay);
    fputs("</code></td></tr>\n", f);
}

static rt_err html_evidence(mx_db *db, const mx_report *rep, const mx_cell *c, FILE *f,
                            rt_error *e) {
    mx_result *r;
    size_t n;
    rt_err rc = mx_cell_results(db, rep->run.id, rep->rows[c->row].id, mx_kinds[c->kind], &r, &n,
                                e);
    if (rc != RT_OK) return rc;
    assert((int64_t)n == mx_counts_total(&c->counts));
    char anchor[160];
    mx_anchor(rep->rows[c->row].id, mx_kinds[c->kind], anchor, sizeof anchor);
    fprintf(f, "<details id=\"%s\"><summary>", anchor);
    mx_put_xml(f, rep->rows[c->row].title);
    fprintf(f, " / %s: %s", mx_kind_titles[c->kind], c->symbol);
    if (c->split[0]) {
        fputc(' ', f);
        mx_put_xml(f, c->split);
    }
    fprintf(f, " (%zu results)</summary>\n<p>Expected:", n);
    for (int s = 0; s < rep->n_sources; s++) {
        fputs(s ? " ·" : "", f);
        fputc(' ', f);
        mx_put_xml(f, rep->sources[s].id);
        fprintf(f, " %s (%s)", mx_expect_symbol(c->expect[s]), mx_verdict_name(c->verdict[s]));
    }
    fputs("</p>\n<div class=\"scroll\"><table class=\"evidence\"><thead><tr><th>backend</th><th>versions</th>"
          "<th>outcome</th><th>reason</th><th>seed</th><th>digest</th><th>files</th>"
          "<th>bytes</th><th>replay</th></tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < n; i++) html_result_row(&r[i], f);
    fputs("</tbody></table></div>\n</details>\n", f);
    free(r);
    return RT_OK;
}

/* Docs, model and real Flink per cell that real Flink ran (from
 * matrix/observed/), disagreements first, then each Flink result. */
static rt_err html_flink(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    fputs("<h2>The model and real Flink</h2>\n", f);
    if (rep->flink_cells == 0) {
        fputs("<p>No real-Flink results in this run (<code>make conformance</code> writes matrix/observed/).</p>\n", f);
        return RT_OK;
    }
    fprintf(f, "<p>%d cells ran on real Flink; the model disagrees with it in %d.</p>\n", rep->flink_cells,
            rep->flink_differ);
    fputs("<div class=\"scroll\"><table><tr><th>cell</th><th>docs</th><th>model</th><th>real Flink</th></tr>\n", f);
    for (int k = 0; k < rep->flink_cells; k++) {
        const mx_cell *c = &rep->cells[rep->flink_order[k]];
        fputs(mx_cell_flink_disagrees(c) ? "<tr class=\"differs\"><td>" : "<tr><td>", f);
        html_cell_label(rep, c, f);
        fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                rep->docs >= 0 ? mx_expect_symbol(c->expect[rep->docs]) : "?",
                mx_counts_total(&c->counts) ? c->symbol : "—", c->flink_symbol);
    }
    fputs("</table></div>\n<ul>\n", f);
    rt_err rc = RT_OK;
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++) {
        const mx_cell *c = &rep->cells[i];
        if (mx_counts_total(&c->flink) == 0) continue;
        mx_result *r = NULL;
        size_t k = 0;
        rc = mx_cell_results_of(db, rep->run.id, "flink", rep->rows[c->row].id, mx_kinds[c->kind], &r, &k, e);
        for (size_t j = 0; rc == RT_OK && j < k; j++) {
            fputs("<li>", f);
            html_cell_label(rep, c, f);
            fprintf(f, ": %s, ", r[j].outcome);
            mx_put_xml(f, r[j].backend);
            fputs(" on Flink ", f);
            mx_put_xml(f, r[j].versions);
            if (r[j].reason[0]) {
                char plain[sizeof r[j].reason];
                mx_plain_ids(r[j].reason, plain, sizeof plain);
                fputs(": ", f);
                mx_put_xml(f, plain);
            }
            fputs("</li>\n", f);
        }
        free(r);
    }
    fputs("</ul>\n", f);
    return rc;
}

rt_err mx_render_html(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    assert(db != NULL);
    assert(rep != NULL);
    assert(f != NULL);
    html_header(rep, f);
    html_table(rep, f);
    html_legend(f);
    html_notes(rep, f);
    rt_err rc = html_flink(db, rep, f, e);
    if (rc == RT_OK) rc = mx_ownership_html(db, rep, f, e);
    if (rc != RT_OK) return rc;
    fputs("<h2>Observed against each expectation source</h2>\n", f);
    for (int s = 0; s < rep->n_sources; s++) html_source(rep, s, f);
    if (rep->has_bench)
        fputs("<h2>Benchmarks</h2>\n<p><code>make bench</code> wrote beside this page: <a href=\"bench.md\">bench.md</a> "
              "(<a href=\"bench.json\">json</a>); plots: <a href=\"bench-size-time.svg\">time against state size per "
              "kind</a>, <a href=\"bench-size-memory.svg\">memory against state size, parallelism and retained "
              "checkpoints</a>, <a href=\"bench-scale.svg\">cost against records</a>.</p>\n", f);
    else
        fputs("<h2>Benchmarks</h2>\n<p>None beside this page: <code>make bench</code> writes bench.md, bench.json "
              "and its plots here.</p>\n", f);
    fputs("<h2>Evidence</h2>\n", f);
    for (int i = 0; i < rep->n_cells && rc == RT_OK; i++)
        if (mx_counts_total(&rep->cells[i].counts) > 0)
            rc = html_evidence(db, rep, &rep->cells[i], f, e);
    fprintf(f, "<script>%s</script>\n</body>\n</html>\n", script);
    return rc;
}
