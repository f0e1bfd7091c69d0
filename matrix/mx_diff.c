/* mx_diff: the latest run of OLD against the latest run of NEW, per
 * (scenario, row, kind, backend, versions). Several seeds of one key fold
 * into their worst outcome and the sum of their costs. A regression is a key
 * that worked and no longer does, plus every corrupted or crashed key in
 * NEW. Costs are compared apart from outcomes: every key whose files or
 * bytes written changed is listed, and one that uploads more than
 * MX_COST_SLACK_PCT percent more bytes than before is a cost regression.
 * Both files are opened read-only.
 *
 * mx_diff_impls compares two implementations instead (the model's results
 * with real Flink's, from one database or two): a key whose outcomes differ
 * is a disagreement. A result on one release keys without its version (the
 * model runs its own default engine, the lane the release it was given);
 * a release pair keys with it, so the model's 1.19.3->1.20.3 meets Flink's.
 * Keys only one side ran are counted, not listed: the lane covers part of
 * the matrix.
 *
 * Each prints as text or, for --json, into one object (mx.h: mx_diff_json):
 * every change and cost change as an array element with the same members,
 * the counts under "summary". */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mx_internal.h"

#define MX_DIFF_KEYS_MAX 1000000
#define MX_COST_SLACK_PCT 10 /* more bytes than this (percent) is a cost regression */

typedef struct diff_entry {
    char scenario[64];
    char guarantee[48];
    char kind[16];
    char backend[32];
    char versions[32];
    int worst; /* index into severity[] */
    char reason[512];
    size_t ord; /* load order: the fold keeps the first reason of the worst */
    uint64_t files, bytes; /* written, summed over the key's results */
} diff_entry;

typedef struct diff_side {
    const char *impl;
    int drop_single_version;
    mx_db *db;
    int64_t run;
    char started[64];
    diff_entry *v;
    size_t n, cap;
} diff_side;

typedef struct diff_counts {
    int regressions, changed, added, gone, unchanged;
    int cost_regressions, cost_changed;
} diff_counts;

/* Where a diff goes: text to a FILE, or (text NULL) array elements. */
typedef struct diff_out {
    FILE *text;
    json_t *changes, *costs;
} diff_out;

/* Outcomes from harmless to worst. */
static const char *const severity[] = {"works", "rejected", "corrupted", "crashed"};

static int severity_of(const char *outcome) {
    for (int i = 0; i < 4; i++)
        if (strcmp(outcome, severity[i]) == 0) return i;
    assert(0 && "outcome outside the schema's CHECK");
    return 3;
}

static int is_bug(int sev) { return sev >= 2; }

static int key_cmp(const diff_entry *a, const diff_entry *b) {
    int c = strcmp(a->scenario, b->scenario);
    if (c == 0) c = strcmp(a->guarantee, b->guarantee);
    if (c == 0) c = strcmp(a->kind, b->kind);
    if (c == 0) c = strcmp(a->backend, b->backend);
    if (c == 0) c = strcmp(a->versions, b->versions);
    return c;
}

static rt_err push(diff_side *s, const diff_entry *d, rt_error *e) {
    if (s->n == s->cap) {
        if (s->cap == MX_DIFF_KEYS_MAX)
            return RT_FAIL(e, RT_EINPUT, "%s: more than %d results to compare", s->db->path,
                           MX_DIFF_KEYS_MAX);
        size_t next = s->cap ? s->cap * 2 : 64;
        if (next > MX_DIFF_KEYS_MAX) next = MX_DIFF_KEYS_MAX;
        diff_entry *p = realloc(s->v, next * sizeof *p);
        if (p == NULL) return RT_FAIL(e, RT_ENOMEM, "%s: no memory for the diff", s->db->path);
        s->v = p;
        s->cap = next;
    }
    s->v[s->n++] = *d;
    return RT_OK;
}

/* Folds result d into into, its key's entry: the costs add up, the worst
 * outcome stays with its first reason. */
static void fold_into(diff_entry *into, const diff_entry *d) {
    assert(key_cmp(into, d) == 0);
    into->files += d->files;
    into->bytes += d->bytes;
    if (d->worst > into->worst) {
        into->worst = d->worst;
        mx_copy(into->reason, sizeof into->reason, d->reason);
    }
}

/* Folds one result into the previous key if it is the same key (the query
 * orders by key), keeping the worst outcome and its first reason. */
static rt_err add_result(diff_side *s, sqlite3_stmt *st, rt_error *e) {
    diff_entry d;
    mx_copy(d.scenario, sizeof d.scenario, mx_col_text(st, 0));
    mx_copy(d.guarantee, sizeof d.guarantee, mx_col_text(st, 1));
    mx_copy(d.kind, sizeof d.kind, mx_col_text(st, 2));
    mx_copy(d.backend, sizeof d.backend, mx_col_text(st, 3));
    mx_copy(d.versions, sizeof d.versions, mx_col_text(st, 4));
    d.worst = severity_of(mx_col_text(st, 5));
    mx_copy(d.reason, sizeof d.reason, mx_col_text(st, 6));
    d.files = (uint64_t)sqlite3_column_int64(st, 8);
    d.bytes = (uint64_t)sqlite3_column_int64(st, 9);
    d.ord = s->n;
    if (s->drop_single_version) {
        if (strstr(d.versions, "->") == NULL) d.versions[0] = '\0';
        return push(s, &d, e); /* keys no longer arrive in order: fold_sorted() */
    }
    diff_entry *last = s->n ? &s->v[s->n - 1] : NULL;
    if (last == NULL || key_cmp(last, &d) != 0) return push(s, &d, e);
    fold_into(last, &d);
    return RT_OK;
}

static int entry_cmp(const void *a, const void *b) {
    const diff_entry *x = a, *y = b;
    int c = key_cmp(x, y);
    return c ? c : (x->ord > y->ord) - (x->ord < y->ord);
}

/* Sorts by key and folds each key's results into its worst. */
static void fold_sorted(diff_side *s) {
    if (s->n == 0) return;
    qsort(s->v, s->n, sizeof *s->v, entry_cmp);
    size_t w = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (key_cmp(&s->v[w], &s->v[i]) != 0) s->v[++w] = s->v[i];
        else fold_into(&s->v[w], &s->v[i]);
    }
    s->n = w + 1;
}

static rt_err load_side(diff_side *s, const char *path, const char *impl, int drop_single_version, rt_error *e) {
    memset(s, 0, sizeof *s);
    s->impl = impl;
    s->drop_single_version = drop_single_version;
    rt_err rc = mx_open_results(&s->db, path, e); /* an older build's database too */
    if (rc == RT_OK) rc = mx_latest_run(s->db, &s->run, e);
    sqlite3_stmt *st = NULL;
    if (rc == RT_OK)
        rc = mx_prepare(s->db, "SELECT scenario, guarantee, kind, backend, versions, outcome,"
                               " reason, (SELECT started FROM runs WHERE id = ?1), files, bytes FROM results"
                               " WHERE run_id = ?1 AND impl = ?2"
                               " ORDER BY scenario, guarantee, kind, backend, versions, seed, id",
                        &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_int64(st, 1, s->run);
    sqlite3_bind_text(st, 2, impl, -1, SQLITE_STATIC);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        mx_copy(s->started, sizeof s->started, mx_col_text(st, 7));
        rc = add_result(s, st, e);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(s->db, e, "cannot read results");
    sqlite3_finalize(st);
    if (rc == RT_OK && drop_single_version) fold_sorted(s);
    return rc;
}

static void free_side(diff_side *s) {
    mx_close(s->db);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static void print_key(FILE *out, const char *tag, const diff_entry *d) {
    fprintf(out, "%s %s/%s %s", tag, d->guarantee, d->kind, d->backend);
    if (d->versions[0]) fprintf(out, " %s", d->versions);
    fprintf(out, " [%s]: ", d->scenario);
}

static void print_reason(FILE *out, const diff_entry *d) {
    if (d->reason[0] && d->worst != 0) fprintf(out, " (%s)", d->reason);
    fputc('\n', out);
}

/* ---- the JSON form: one element per line of the text ---- */

/* A string, or null when empty (mx_json_text). */
static json_t *text_or_null(const char *s) {
    return s == NULL || s[0] == '\0' ? json_null() : mx_json_text(s);
}

/* The key of d (one side may be NULL, not both) and the change's name. */
static json_t *key_json(const char *change, const diff_entry *o, const diff_entry *n) {
    const diff_entry *d = n ? n : o;
    assert(d != NULL);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "change", change, "scenario", text_or_null(d->scenario),
                     "guarantee", text_or_null(d->guarantee), "kind", text_or_null(d->kind), "backend",
                     text_or_null(d->backend), "versions", text_or_null(d->versions));
}

/* What a side says of a key: its outcome, and its reason unless it works. */
static json_t *outcome_json(const diff_entry *d) { return d ? json_string(severity[d->worst]) : json_null(); }
static json_t *reason_json(const diff_entry *d) {
    return d && d->worst != 0 ? text_or_null(d->reason) : json_null();
}

static void add_change(diff_out *out, const char *change, const diff_entry *o, const diff_entry *n) {
    json_t *c = key_json(change, o, n);
    json_object_set_new(c, "old_outcome", outcome_json(o));
    json_object_set_new(c, "new_outcome", outcome_json(n));
    json_object_set_new(c, "old_reason", reason_json(o));
    json_object_set_new(c, "new_reason", reason_json(n));
    json_array_append_new(out->changes, c);
}

static void add_cost(diff_out *out, const char *change, const diff_entry *o, const diff_entry *n) {
    json_t *c = key_json(change, o, n);
    json_object_set_new(c, "old_files", json_integer((json_int_t)o->files));
    json_object_set_new(c, "new_files", json_integer((json_int_t)n->files));
    json_object_set_new(c, "old_bytes", json_integer((json_int_t)o->bytes));
    json_object_set_new(c, "new_bytes", json_integer((json_int_t)n->bytes));
    double pct = o->bytes ? 100.0 * ((double)n->bytes - (double)o->bytes) / (double)o->bytes : 0;
    json_object_set_new(c, "bytes_change_pct", o->bytes ? json_real(pct) : json_null());
    json_array_append_new(out->costs, c);
}

/* More than MX_COST_SLACK_PCT percent more bytes (any bytes after none). */
static int cost_regressed(uint64_t old_bytes, uint64_t new_bytes) {
    return new_bytes > old_bytes && (old_bytes == 0 || (new_bytes - old_bytes) * 100 > old_bytes * MX_COST_SLACK_PCT);
}

/* Files and bytes written, compared on their own: every change is shown. */
static void diff_cost(diff_out *out, const diff_entry *o, const diff_entry *n, diff_counts *k) {
    if (o->files == n->files && o->bytes == n->bytes) return;
    int regression = cost_regressed(o->bytes, n->bytes);
    if (regression) k->cost_regressions++;
    else k->cost_changed++;
    if (out->text == NULL) {
        add_cost(out, regression ? "cost-regression" : "cost", o, n);
        return;
    }
    print_key(out->text, regression ? "COST-REGRESSION" : "COST", n);
    fprintf(out->text, "files %" PRIu64 " -> %" PRIu64 ", bytes %" PRIu64 " -> %" PRIu64, o->files, n->files,
            o->bytes, n->bytes);
    if (o->bytes > 0) {
        double pct = 100.0 * ((double)n->bytes - (double)o->bytes) / (double)o->bytes;
        fprintf(out->text, " (%+.1f%%)", pct);
    }
    fputc('\n', out->text);
}

static void diff_pair(diff_out *out, const diff_entry *o, const diff_entry *n, diff_counts *k) {
    diff_cost(out, o, n, k);
    /* A cell as it was is no regression, even a bug in both (a known
     * upstream bug the model reproduces): `diff A A` is quiet. */
    int regression = o->worst != n->worst && (is_bug(n->worst) || o->worst == 0);
    if (o->worst == n->worst) {
        k->unchanged++;
        return;
    }
    if (regression) k->regressions++;
    else k->changed++;
    if (out->text == NULL) {
        add_change(out, regression ? "regression" : "changed", o, n);
        return;
    }
    print_key(out->text, regression ? "REGRESSION" : "CHANGED", n);
    fprintf(out->text, "%s -> %s", severity[o->worst], severity[n->worst]);
    print_reason(out->text, n);
}

static void diff_added(diff_out *out, const diff_entry *n, diff_counts *k) {
    int regression = is_bug(n->worst);
    if (regression) k->regressions++;
    else k->added++;
    if (out->text == NULL) {
        add_change(out, regression ? "regression" : "new", NULL, n);
        return;
    }
    print_key(out->text, regression ? "REGRESSION" : "NEW", n);
    fprintf(out->text, "%s%s", regression ? "(new) -> " : "", severity[n->worst]);
    print_reason(out->text, n);
}

static void diff_gone(diff_out *out, const diff_entry *o, diff_counts *k) {
    k->gone++;
    if (out->text == NULL) {
        add_change(out, "gone", o, NULL);
        return;
    }
    print_key(out->text, "GONE", o);
    fprintf(out->text, "was %s\n", severity[o->worst]);
}

/* Both sides are sorted by key: one merge pass. */
static void diff_sides(diff_out *out, const diff_side *a, const diff_side *b, diff_counts *k) {
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i == a->n ? 1 : j == b->n ? -1 : key_cmp(&a->v[i], &b->v[j]);
        if (c < 0) diff_gone(out, &a->v[i++], k);
        else if (c > 0) diff_added(out, &b->v[j++], k);
        else diff_pair(out, &a->v[i++], &b->v[j++], k);
    }
    assert(i == a->n);
    assert(j == b->n);
}

static json_t *side_json(const char *path, const diff_side *s) {
    return json_pack("{s:o, s:s, s:o, s:o, s:I}", "path", text_or_null(path), "impl", s->impl, "run",
                     s->run ? json_integer((json_int_t)s->run) : json_null(), "started",
                     s->run ? text_or_null(s->started) : json_null(), "keys", (json_int_t)s->n);
}

/* The whole JSON form; the counts of the other kind of diff are null. */
static json_t *diff_json(const char *old_path, const diff_side *a, const char *new_path, const diff_side *b,
                         diff_out *out, json_t *summary) {
    static const char *const counts[] = {"regressions", "changed", "new", "gone", "unchanged", "cost_regressions",
                                         "cost_changed", "disagreements", "agree", "only_old", "only_new", NULL};
    for (int i = 0; counts[i]; i++)
        if (json_object_get(summary, counts[i]) == NULL) json_object_set_new(summary, counts[i], json_null());
    assert(json_object_size(summary) == 11); /* no count outside the list */
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "mode", a->drop_single_version ? "impls" : "runs", "old",
                     side_json(old_path, a), "new", side_json(new_path, b), "changes", out->changes, "costs",
                     out->costs, "summary", summary);
}

static void print_side(FILE *out, const char *label, const char *path, const diff_side *s) {
    if (s->run == 0) fprintf(out, "%s %s: no run\n", label, path);
    else fprintf(out, "%s %s: run %" PRId64 " started %s, %zu keys\n", label, path, s->run,
                 s->started, s->n);
}

static rt_err diff_runs(const char *old_path, const char *new_path, diff_out *out, json_t **json, int *regressions,
                        int *cost_regressions, rt_error *e) {
    assert(regressions != NULL);
    *regressions = 0;
    if (cost_regressions) *cost_regressions = 0;
    if (old_path == NULL || new_path == NULL)
        return RT_FAIL(e, RT_EUSAGE, "matrix diff needs OLD.db and NEW.db");
    diff_side a, b;
    memset(&b, 0, sizeof b);
    rt_err rc = load_side(&a, old_path, "model", 0, e);
    if (rc == RT_OK) rc = load_side(&b, new_path, "model", 0, e);
    if (rc == RT_OK) {
        diff_counts k = {0, 0, 0, 0, 0, 0, 0};
        if (out->text) print_side(out->text, "old", old_path, &a);
        if (out->text) print_side(out->text, "new", new_path, &b);
        diff_sides(out, &a, &b, &k);
        if (out->text) {
            fprintf(out->text, "%d regression%s, %d changed, %d new, %d gone, %d unchanged\n", k.regressions,
                    k.regressions == 1 ? "" : "s", k.changed, k.added, k.gone, k.unchanged);
            fprintf(out->text,
                    "costs: %d cost regression%s (more than %d%% more bytes written), %d other cost change%s\n",
                    k.cost_regressions, k.cost_regressions == 1 ? "" : "s", MX_COST_SLACK_PCT, k.cost_changed,
                    k.cost_changed == 1 ? "" : "s");
        } else {
            json_t *sum = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "regressions", k.regressions, "changed",
                                    k.changed, "new", k.added, "gone", k.gone, "unchanged", k.unchanged,
                                    "cost_regressions", k.cost_regressions, "cost_changed", k.cost_changed);
            *json = diff_json(old_path, &a, new_path, &b, out, sum);
            out->changes = out->costs = NULL;
        }
        *regressions = k.regressions;
        if (cost_regressions) *cost_regressions = k.cost_regressions;
    }
    free_side(&a);
    free_side(&b);
    return rc;
}

rt_err mx_diff(const char *old_path, const char *new_path, FILE *out, int *regressions, int *cost_regressions,
               rt_error *e) {
    assert(out != NULL);
    diff_out o = {out, NULL, NULL};
    return diff_runs(old_path, new_path, &o, NULL, regressions, cost_regressions, e);
}

/* ---- one implementation against another ---- */

static void print_impl_side(FILE *out, const char *path, const diff_side *s) {
    if (s->run == 0) fprintf(out, "%s %s: no run\n", s->impl, path);
    else fprintf(out, "%s %s: run %" PRId64 " started %s, %zu keys\n", s->impl, path, s->run, s->started, s->n);
}

static void impls_pair(diff_out *out, const diff_side *a, const diff_side *b, const diff_entry *o,
                       const diff_entry *n, int *agree, int *differ) {
    if (o->worst == n->worst) {
        (*agree)++;
        return;
    }
    (*differ)++;
    if (out->text == NULL) {
        add_change(out, "differs", o, n);
        return;
    }
    print_key(out->text, "DIFFERS", n);
    fprintf(out->text, "%s %s, %s %s", a->impl, severity[o->worst], b->impl, severity[n->worst]);
    if (o->reason[0] && o->worst != 0) fprintf(out->text, " (%s: %s)", a->impl, o->reason);
    if (n->reason[0] && n->worst != 0) fprintf(out->text, " (%s: %s)", b->impl, n->reason);
    fputc('\n', out->text);
}

static rt_err diff_impls(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                         diff_out *out, json_t **json, int *disagreements, rt_error *e) {
    assert(disagreements != NULL);
    *disagreements = 0;
    if (old_path == NULL || new_path == NULL || old_impl == NULL || new_impl == NULL)
        return RT_FAIL(e, RT_EUSAGE, "matrix diff needs OLD.db, NEW.db and two implementations");
    diff_side a, b;
    memset(&b, 0, sizeof b);
    rt_err rc = load_side(&a, old_path, old_impl, 1, e);
    if (rc == RT_OK) rc = load_side(&b, new_path, new_impl, 1, e);
    if (rc == RT_OK) {
        if (out->text) print_impl_side(out->text, old_path, &a);
        if (out->text) print_impl_side(out->text, new_path, &b);
        int agree = 0, differ = 0, only_a = 0, only_b = 0;
        size_t i = 0, j = 0;
        while (i < a.n || j < b.n) {
            int c = i == a.n ? 1 : j == b.n ? -1 : key_cmp(&a.v[i], &b.v[j]);
            if (c < 0) i++, only_a++;
            else if (c > 0) j++, only_b++;
            else impls_pair(out, &a, &b, &a.v[i++], &b.v[j++], &agree, &differ);
        }
        if (out->text) {
            fprintf(out->text, "%d disagreement%s, %d agree, %d only %s, %d only %s\n", differ,
                    differ == 1 ? "" : "s", agree, only_a, a.impl, only_b, b.impl);
        } else {
            json_t *sum = json_pack("{s:i, s:i, s:i, s:i}", "disagreements", differ, "agree", agree, "only_old",
                                    only_a, "only_new", only_b);
            *json = diff_json(old_path, &a, new_path, &b, out, sum);
            out->changes = out->costs = NULL;
        }
        *disagreements = differ;
    }
    free_side(&a);
    free_side(&b);
    return rc;
}

rt_err mx_diff_impls(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                     FILE *out, int *disagreements, rt_error *e) {
    assert(out != NULL);
    diff_out o = {out, NULL, NULL};
    return diff_impls(old_path, old_impl, new_path, new_impl, &o, NULL, disagreements, e);
}

rt_err mx_diff_json(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                    json_t **out, int *differ, int *cost_regressions, rt_error *e) {
    assert(out != NULL);
    *out = NULL;
    diff_out o = {NULL, json_array(), json_array()};
    rt_err rc = old_impl ? diff_impls(old_path, old_impl, new_path, new_impl, &o, out, differ, e)
                         : diff_runs(old_path, new_path, &o, out, differ, cost_regressions, e);
    if (cost_regressions && old_impl) *cost_regressions = 0;
    json_decref(o.changes); /* NULL once *out took them */
    json_decref(o.costs);
    assert(rc != RT_OK || *out != NULL);
    return rc;
}
