/* mx_diff: the latest run of OLD against the latest run of NEW, per
 * (scenario, row, kind, backend, versions). Several seeds of one key fold
 * into their worst outcome. A regression is a key that worked and no longer
 * does, plus every corrupted or crashed key in NEW. Both files are opened
 * read-only. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mx_internal.h"

#define MX_DIFF_KEYS_MAX 1000000

typedef struct diff_entry {
    char scenario[64];
    char guarantee[48];
    char kind[16];
    char backend[32];
    char versions[32];
    int worst; /* index into severity[] */
    char reason[512];
} diff_entry;

typedef struct diff_side {
    mx_db *db;
    int64_t run;
    char started[64];
    diff_entry *v;
    size_t n, cap;
} diff_side;

typedef struct diff_counts {
    int regressions, changed, added, gone, unchanged;
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
    diff_entry *last = s->n ? &s->v[s->n - 1] : NULL;
    if (last == NULL || key_cmp(last, &d) != 0) return push(s, &d, e);
    assert(key_cmp(last, &d) == 0);
    if (d.worst > last->worst) {
        last->worst = d.worst;
        mx_copy(last->reason, sizeof last->reason, d.reason);
    }
    return RT_OK;
}

static rt_err load_side(diff_side *s, const char *path, rt_error *e) {
    memset(s, 0, sizeof *s);
    rt_err rc = mx_open_results(&s->db, path, e); /* an older build's database too */
    if (rc == RT_OK) rc = mx_latest_run(s->db, &s->run, e);
    sqlite3_stmt *st = NULL;
    if (rc == RT_OK)
        rc = mx_prepare(s->db, "SELECT scenario, guarantee, kind, backend, versions, outcome,"
                               " reason, (SELECT started FROM runs WHERE id = ?1) FROM results"
                               " WHERE run_id = ?1 AND impl = 'model'"
                               " ORDER BY scenario, guarantee, kind, backend, versions, seed, id",
                        &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_int64(st, 1, s->run);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        mx_copy(s->started, sizeof s->started, mx_col_text(st, 7));
        rc = add_result(s, st, e);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(s->db, e, "cannot read results");
    sqlite3_finalize(st);
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

static void diff_pair(FILE *out, const diff_entry *o, const diff_entry *n, diff_counts *k) {
    int regression = is_bug(n->worst) || (o->worst == 0 && n->worst != 0);
    if (!regression && o->worst == n->worst) {
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
    assert(i == a->n && j == b->n);
}

static void print_side(FILE *out, const char *label, const char *path, const diff_side *s) {
    if (s->run == 0) fprintf(out, "%s %s: no run\n", label, path);
    else fprintf(out, "%s %s: run %" PRId64 " started %s, %zu keys\n", label, path, s->run,
                 s->started, s->n);
}

rt_err mx_diff(const char *old_path, const char *new_path, FILE *out, int *regressions,
               rt_error *e) {
    assert(out != NULL);
    assert(regressions != NULL);
    *regressions = 0;
    if (old_path == NULL || new_path == NULL)
        return RT_FAIL(e, RT_EUSAGE, "matrix diff needs OLD.db and NEW.db");
    diff_side a, b;
    memset(&b, 0, sizeof b);
    rt_err rc = load_side(&a, old_path, e);
    if (rc == RT_OK) rc = load_side(&b, new_path, e);
    if (rc == RT_OK) {
        diff_counts k = {0, 0, 0, 0, 0};
        print_side(out, "old", old_path, &a);
        print_side(out, "new", new_path, &b);
        diff_sides(out, &a, &b, &k);
        fprintf(out, "%d regression%s, %d changed, %d new, %d gone, %d unchanged\n",
                k.regressions, k.regressions == 1 ? "" : "s", k.changed, k.added, k.gone,
                k.unchanged);
        *regressions = k.regressions;
    }
    free_side(&a);
    free_side(&b);
    return rc;
}
