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
 * the matrix. */
#include <assert.h>
#include <inttypes.h>
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

/* More than MX_COST_SLACK_PCT percent more bytes (any bytes after none). */
static int cost_regressed(uint64_t old_bytes, uint64_t new_bytes) {
    return new_bytes > old_bytes && (old_bytes == 0 || (new_bytes - old_bytes) * 100 > old_bytes * MX_COST_SLACK_PCT);
}

/* Files and bytes written, compared on their own: every change is shown. */
static void diff_cost(FILE *out, const diff_entry *o, const diff_entry *n, diff_counts *k) {
    if (o->files == n->files && o->bytes == n->bytes) return;
    int regression = cost_regressed(o->bytes, n->bytes);
    if (regression) k->cost_regressions++;
    else k->cost_changed++;
    print_key(out, regression ? "COST-REGRESSION" : "COST", n);
    fprintf(out, "files %" PRIu64 " -> %" PRIu64 ", bytes %" PRIu64 " -> %" PRIu64, o->files, n->files, o->bytes,
            n->bytes);
    if (o->bytes > 0) {
        double pct = 100.0 * ((double)n->bytes - (double)o->bytes) / (double)o->bytes;
        fprintf(out, " (%+.1f%%)", pct);
    }
    fputc('\n', out);
}

static void diff_pair(FILE *out, const diff_entry *o, const diff_entry *n, diff_counts *k) {
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
    print_key(out, regression ? "REGRESSION" : "CHANGED", n);
    fprintf(out, "%s -> %s", severity[o->worst], severity[n->worst]);
    print_reason(out, n);
}

static void diff_added(FILE *out, const diff_entry *n, diff_counts *k) {
    int regression = is_bug(n->worst);
    if (regression) k->regressions++;
    else k->added++;
    print_key(out, regression ? "REGRESSION" : "NEW", n);
    fprintf(out, "%s%s", regression ? "(new) -> " : "", severity[n->worst]);
    print_reason(out, n);
}

static void diff_gone(FILE *out, const diff_entry *o, diff_counts *k) {
    k->gone++;
    print_key(out, "GONE", o);
    fprintf(out, "was %s\n", severity[o->worst]);
}

/* Both sides are sorted by key: one merge pass. */
static void diff_sides(FILE *out, const diff_side *a, const diff_side *b, diff_counts *k) {
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

static void print_side(FILE *out, const char *label, const char *path, const diff_side *s) {
    if (s->run == 0) fprintf(out, "%s %s: no run\n", label, path);
    else fprintf(out, "%s %s: run %" PRId64 " started %s, %zu keys\n", label, path, s->run,
                 s->started, s->n);
}

rt_err mx_diff(const char *old_path, const char *new_path, FILE *out, int *regressions, int *cost_regressions,
               rt_error *e) {
    assert(out != NULL);
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
        print_side(out, "old", old_path, &a);
        print_side(out, "new", new_path, &b);
        diff_sides(out, &a, &b, &k);
        fprintf(out, "%d regression%s, %d changed, %d new, %d gone, %d unchanged\n",
                k.regressions, k.regressions == 1 ? "" : "s", k.changed, k.added, k.gone,
                k.unchanged);
        fprintf(out, "costs: %d cost regression%s (more than %d%% more bytes written), %d other cost change%s\n",
                k.cost_regressions, k.cost_regressions == 1 ? "" : "s", MX_COST_SLACK_PCT, k.cost_changed,
                k.cost_changed == 1 ? "" : "s");
        *regressions = k.regressions;
        if (cost_regressions) *cost_regressions = k.cost_regressions;
    }
    free_side(&a);
    free_side(&b);
    return rc;
}

/* ---- one implementation against another ---- */

static void print_impl_side(FILE *out, const char *path, const diff_side *s) {
    if (s->run == 0) fprintf(out, "%s %s: no run\n", s->impl, path);
    else fprintf(out, "%s %s: run %" PRId64 " started %s, %zu keys\n", s->impl, path, s->run, s->started, s->n);
}

static void impls_pair(FILE *out, const diff_side *a, const diff_side *b, const diff_entry *o, const diff_entry *n,
                       int *agree, int *differ) {
    if (o->worst == n->worst) {
        (*agree)++;
        return;
    }
    (*differ)++;
    print_key(out, "DIFFERS", n);
    fprintf(out, "%s %s, %s %s", a->impl, severity[o->worst], b->impl, severity[n->worst]);
    if (o->reason[0] && o->worst != 0) fprintf(out, " (%s: %s)", a->impl, o->reason);
    if (n->reason[0] && n->worst != 0) fprintf(out, " (%s: %s)", b->impl, n->reason);
    fputc('\n', out);
}

rt_err mx_diff_impls(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                     FILE *out, int *disagreements, rt_error *e) {
    assert(out != NULL);
    assert(disagreements != NULL);
    *disagreements = 0;
    if (old_path == NULL || new_path == NULL || old_impl == NULL || new_impl == NULL)
        return RT_FAIL(e, RT_EUSAGE, "matrix diff needs OLD.db, NEW.db and two implementations");
    diff_side a, b;
    memset(&b, 0, sizeof b);
    rt_err rc = load_side(&a, old_path, old_impl, 1, e);
    if (rc == RT_OK) rc = load_side(&b, new_path, new_impl, 1, e);
    if (rc == RT_OK) {
        print_impl_side(out, old_path, &a);
        print_impl_side(out, new_path, &b);
        int agree = 0, differ = 0, only_a = 0, only_b = 0;
        size_t i = 0, j = 0;
        while (i < a.n || j < b.n) {
            int c = i == a.n ? 1 : j == b.n ? -1 : key_cmp(&a.v[i], &b.v[j]);
            if (c < 0) i++, only_a++;
            else if (c > 0) j++, only_b++;
            else impls_pair(out, &a, &b, &a.v[i++], &b.v[j++], &agree, &differ);
        }
        fprintf(out, "%d disagreement%s, %d agree, %d only %s, %d only %s\n", differ, differ == 1 ? "" : "s", agree,
                only_a, a.impl, only_b, b.impl);
        *disagreements = differ;
    }
    free_side(&a);
    free_side(&b);
    return rc;
}
