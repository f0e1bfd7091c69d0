/* mx_ownership: the restores and deletions tables (FLIP-193 ownership as
 * it happened in each result's scenario): recording them with a result,
 * copying them in a merge, and the "ownership timeline" section of
 * guarantees.md and index.html, per restore mode, with what users of each
 * mode keep getting wrong. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mx_ownership.h"
#include "mx_text.h"

static const char *const modes[] = {"claim", "no-claim", "legacy"};
static const char *const causes[] = {"subsumed", "unused", "replaced", "aborted"};

static int listed(const char *s, size_t cap, const char *const *names, int n) {
    if (strnlen(s, cap) == cap) return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return 1;
    return 0;
}

rt_err mx_ownership_check(const mx_db *db, const mx_result *r, rt_error *e) {
    if (r->n_restores < 0 || r->n_restores > MX_OWN_RESTORES_MAX || r->n_events < 0 || r->n_events > MX_OWN_EVENTS_MAX)
        return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': %d restores, %d deletions (at most %d, %d)",
                       db->path, r->scenario, r->n_restores, r->n_events, MX_OWN_RESTORES_MAX, MX_OWN_EVENTS_MAX);
    for (int k = 0; k < r->n_restores; k++) {
        const mx_own_restore *o = &r->restores[k];
        int snap = strcmp(o->snapshot, "savepoint") == 0 || strcmp(o->snapshot, "checkpoint") == 0;
        if (!listed(o->mode, sizeof o->mode, modes, 3) || !snap || o->gone > o->files || o->referenced > o->files)
            return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': bad restore %d (mode '%.12s', snapshot '%.12s')",
                           db->path, r->scenario, k + 1, o->mode, o->snapshot);
    }
    for (int k = 0; k < r->n_events; k++) {
        const mx_own_event *d = &r->events[k];
        if (d->restore < 0 || d->restore >= r->n_restores || !listed(d->cause, sizeof d->cause, causes, 4))
            return RT_FAIL(e, RT_EINPUT, "%s: result of scenario '%.64s': bad deletion %d (restore %d, cause '%.12s')",
                           db->path, r->scenario, k + 1, d->restore + 1, d->cause);
    }
    return RT_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap) {
    sqlite3_bind_text(st, i, s, (int)strnlen(s, cap), SQLITE_TRANSIENT);
}

static rt_err step_done(mx_db *db, sqlite3_stmt *st, const char *what, rt_error *e) {
    rt_err rc = sqlite3_step(st) == SQLITE_DONE ? RT_OK : MX_SQL_FAIL(db, e, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

rt_err mx_ownership_record(mx_db *db, int64_t result_id, const mx_result *r, rt_error *e) {
    if (r->n_restores == 0) return RT_OK;
    sqlite3_stmt *rs = NULL, *ds = NULL;
    rt_err rc = mx_prepare(db, "INSERT INTO restores(result_id, restore, mode, snapshot, snapshot_id, files, gone,"
                               " referenced) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", &rs, e);
    if (rc == RT_OK)
        rc = mx_prepare(db, "INSERT INTO deletions(result_id, restore, seq, after_checkpoint, virtual_ms, files,"
                            " cause, example) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", &ds, e);
    for (int k = 0; rc == RT_OK && k < r->n_restores; k++) {
        const mx_own_restore *o = &r->restores[k];
        sqlite3_bind_int64(rs, 1, result_id);
        sqlite3_bind_int(rs, 2, k + 1);
        bind_text(rs, 3, o->mode, sizeof o->mode);
        bind_text(rs, 4, o->snapshot, sizeof o->snapshot);
        sqlite3_bind_int64(rs, 5, o->snapshot_id);
        sqlite3_bind_int64(rs, 6, o->files);
        sqlite3_bind_int64(rs, 7, o->gone);
        sqlite3_bind_int64(rs, 8, o->referenced);
        rc = step_done(db, rs, "cannot record a restore", e);
    }
    for (int k = 0; rc == RT_OK && k < r->n_events; k++) {
        const mx_own_event *d = &r->events[k];
        sqlite3_bind_int64(ds, 1, result_id);
        sqlite3_bind_int(ds, 2, d->restore + 1);
        sqlite3_bind_int(ds, 3, k + 1);
        sqlite3_bind_int64(ds, 4, d->after_checkpoint);
        sqlite3_bind_int64(ds, 5, (int64_t)d->virtual_ms);
        sqlite3_bind_int64(ds, 6, d->files);
        bind_text(ds, 7, d->cause, sizeof d->cause);
        bind_text(ds, 8, d->example, sizeof d->example);
        rc = step_done(db, ds, "cannot record a deletion", e);
    }
    sqlite3_finalize(rs);
    sqlite3_finalize(ds);
    return rc;
}

/* Copies every row of `sel` (?1 = from) into `ins` (?1 = to, then the
 * selected columns). */
static rt_err copy_keyed(mx_db *src, const char *sel, int64_t from, mx_db *dst, const char *ins, int64_t to,
                         rt_error *e) {
    sqlite3_stmt *s = NULL, *d = NULL;
    rt_err rc = mx_prepare(src, sel, &s, e);
    if (rc == RT_OK) rc = mx_prepare(dst, ins, &d, e);
    if (rc == RT_OK) sqlite3_bind_int64(s, 1, from);
    int step = SQLITE_DONE;
    while (rc == RT_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_bind_int64(d, 1, to);
        for (int i = 0; i < sqlite3_column_count(s); i++) sqlite3_bind_value(d, i + 2, sqlite3_column_value(s, i));
        rc = step_done(dst, d, "cannot copy an ownership row", e);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(src, e, "cannot read ownership rows");
    sqlite3_finalize(s);
    sqlite3_finalize(d);
    return rc;
}

rt_err mx_ownership_copy(mx_db *src, int64_t from, mx_db *dst, int64_t to, rt_error *e) {
    rt_err rc = copy_keyed(src, "SELECT restore, mode, snapshot, snapshot_id, files, gone, referenced FROM restores"
                                " WHERE result_id = ?1 ORDER BY restore", from, dst,
                           "INSERT INTO restores(result_id, restore, mode, snapshot, snapshot_id, files, gone,"
                           " referenced) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", to, e);
    if (rc == RT_OK)
        rc = copy_keyed(src, "SELECT restore, seq, after_checkpoint, virtual_ms, files, cause, example FROM deletions"
                             " WHERE result_id = ?1 ORDER BY restore, seq", from, dst,
                        "INSERT INTO deletions(result_id, restore, seq, after_checkpoint, virtual_ms, files, cause,"
                        " example) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)", to, e);
    return rc;
}

/* ---- the report section ---- */

/* One restore of one result of the latest run, with its deletions; after
 * grouping, every restore of the same mode, kind and backend whose files
 * went the same way (same timeline), with the scenarios it happened in. */
#define OWN_TIMELINE_MAX 1024
typedef struct own_line {
    char scenario[64], kind[16], backend[32];
    mx_own_restore r;
    int n;
    mx_own_event ev[MX_OWN_EVENTS_MAX];
    char timeline[OWN_TIMELINE_MAX]; /* the deletions, in words */
    int restores;                     /* how many restores this line stands for */
    char scenarios[256];              /* where ("a, b and 3 more") */
    char last[64];                    /* the last scenario added */
    int n_scenarios;
} own_line;

typedef struct own_lines {
    own_line *l;
    size_t n, cap;
} own_lines;

static rt_err push_line(own_lines *ls, rt_error *e) {
    if (ls->n == MX_CELL_RESULTS_MAX) return RT_FAIL(e, RT_EINPUT, "ownership: more than %d restores", MX_CELL_RESULTS_MAX);
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 64;
        own_line *nl = realloc(ls->l, cap * sizeof *nl);
        if (nl == NULL) return RT_FAIL(e, RT_ENOMEM, "ownership: out of memory");
        ls->l = nl;
        ls->cap = cap;
    }
    memset(&ls->l[ls->n++], 0, sizeof ls->l[0]);
    return RT_OK;
}

static const char lines_sql[] =
    "SELECT r.scenario, r.kind, r.backend, o.mode, o.snapshot, o.snapshot_id, o.files, o.gone,"
    "       d.after_checkpoint, d.virtual_ms, d.files, d.cause, d.example, r.id, o.restore, o.referenced"
    "  FROM results r JOIN restores o ON o.result_id = r.id"
    "  LEFT JOIN deletions d ON d.result_id = o.result_id AND d.restore = o.restore"
    " WHERE r.run_id = ?1 AND r.impl = 'model'"
    " ORDER BY CASE o.mode WHEN 'claim' THEN 0 WHEN 'no-claim' THEN 1 ELSE 2 END, r.scenario,"
    "          CASE r.kind WHEN 'canonical' THEN 0 WHEN 'native' THEN 1 WHEN 'aligned' THEN 2 ELSE 3 END,"
    "          r.backend, r.id, o.restore, d.seq";

static void fill_line(own_line *l, sqlite3_stmt *st) {
    mx_copy(l->scenario, sizeof l->scenario, mx_col_text(st, 0));
    mx_copy(l->kind, sizeof l->kind, mx_col_text(st, 1));
    mx_copy(l->backend, sizeof l->backend, mx_col_text(st, 2));
    mx_copy(l->r.mode, sizeof l->r.mode, mx_col_text(st, 3));
    mx_copy(l->r.snapshot, sizeof l->r.snapshot, mx_col_text(st, 4));
    l->r.snapshot_id = sqlite3_column_int64(st, 5);
    l->r.files = (uint32_t)sqlite3_column_int64(st, 6);
    l->r.gone = (uint32_t)sqlite3_column_int64(st, 7);
    l->r.referenced = (uint32_t)sqlite3_column_int64(st, 15);
}

static void add_event(own_line *l, sqlite3_stmt *st) {
    if (sqlite3_column_type(st, 8) == SQLITE_NULL || l->n == MX_OWN_EVENTS_MAX) return;
    mx_own_event *d = &l->ev[l->n++];
    d->after_checkpoint = sqlite3_column_int64(st, 8);
    d->virtual_ms = (uint64_t)sqlite3_column_int64(st, 9);
    d->files = (uint32_t)sqlite3_column_int64(st, 10);
    mx_copy(d->cause, sizeof d->cause, mx_col_text(st, 11));
    mx_copy(d->example, sizeof d->example, mx_col_text(st, 12));
}

/* The latest run's restores, one line each (a new line whenever the
 * (result, restore) pair changes in the ordered rows). */
static rt_err load_lines(mx_db *db, int64_t run, own_lines *ls, rt_error *e) {
    sqlite3_stmt *st;
    rt_err rc = mx_prepare(db, lines_sql, &st, e);
    if (rc != RT_OK) return rc;
    sqlite3_bind_int64(st, 1, run);
    int step;
    char key[160] = "", prev[160] = "";
    while (rc == RT_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        snprintf(key, sizeof key, "%lld|%lld", (long long)sqlite3_column_int64(st, 13),
                 (long long)sqlite3_column_int64(st, 14));
        if (ls->n == 0 || strcmp(key, prev) != 0) {
            rc = push_line(ls, e);
            if (rc == RT_OK) fill_line(&ls->l[ls->n - 1], st);
            snprintf(prev, sizeof prev, "%s", key);
        }
        if (rc == RT_OK) add_event(&ls->l[ls->n - 1], st);
    }
    if (rc == RT_OK && step != SQLITE_DONE) rc = MX_SQL_FAIL(db, e, "cannot read the ownership timeline");
    sqlite3_finalize(st);
    return rc;
}

/* What each mode promises (FLIP-193, the savepoints page of Flink's docs)
 * and what its users get wrong; what actually happened is the table under
 * it. FLINK-28647: CLAIM deletes a claimed native savepoint, but only once
 * no checkpoint reuses its files; FLINK-39964: the checkpoints that reuse a
 * native savepoint's files name them relative to themselves, where they are
 * not (every release, seen on real Flink). */
static const char *const mode_notes[] = {
    "CLAIM: the job owns the restored snapshot and may delete its files once they are subsumed. Its own files go "
    "when it is subsumed; its shared files, and with them a claimed native RocksDB savepoint, only once no retained "
    "checkpoint uses them any more, which may be many checkpoints later (FLINK-28647: the folder *is* deleted, with "
    "a delay). The checkpoints that reuse a native RocksDB savepoint's files name them by their path relative to "
    "the savepoint, which the reader re-anchors to the checkpoint's own directory, where they are not: such a "
    "checkpoint cannot be restored (FLINK-39964, open in every release; seen on real Flink 1.20.0, 1.20.3, "
    "2.1.1 and 2.3.0; LEGACY has the same). With its fix they would be absolute, neither self-contained nor relocatable "
    "(FLINK-40254). What users get wrong: trusting the first incremental checkpoints after restoring a native "
    "savepoint in CLAIM or LEGACY mode (restore such a savepoint in NO_CLAIM mode, whose first checkpoint is full), "
    "deleting or moving the savepoint after the first checkpoint, or expecting it gone right after it.",
    "NO_CLAIM (the default): the job promises never to delete the restored snapshot, and takes its first checkpoint "
    "in full so that nothing later depends on it. What users get wrong: expecting Flink to clean up (deleting it is "
    "their job), or deleting it before that first checkpoint completed (a failover before it restores from the "
    "snapshot).",
    "LEGACY: the job promises never to delete the restored snapshot, yet its later incremental checkpoints may reuse "
    "the snapshot's files. What users get wrong: deleting the snapshot by hand, which breaks the checkpoints that "
    "still reference it; and nothing ever says when it becomes safe to delete.",
};

static int mode_index(const char *mode) {
    for (int i = 0; i < 3; i++)
        if (strcmp(mode, modes[i]) == 0) return i;
    return -1;
}

static void describe_event(const mx_own_event *d, char *buf, size_t cap) {
    if (d->after_checkpoint < 0)
        snprintf(buf, cap, "on an abort at %" PRIu64 " ms: %u (%s, e.g. %s)", d->virtual_ms, d->files, d->cause,
                 d->example);
    else
        snprintf(buf, cap, "after checkpoint %" PRId64 " at %" PRIu64 " ms: %u (%s, e.g. %s)", d->after_checkpoint,
                 d->virtual_ms, d->files, d->cause, d->example);
}

static int kind_rank(const char *k) {
    static const char *const kinds[] = {"canonical", "native", "aligned", "unaligned"};
    for (int i = 0; i < 4; i++)
        if (strcmp(k, kinds[i]) == 0) return i;
    return 4;
}

static int line_cmp(const void *pa, const void *pb) {
    const own_line *a = pa, *b = pb;
    int c = mode_index(a->r.mode) - mode_index(b->r.mode);
    if (c == 0) c = kind_rank(a->kind) - kind_rank(b->kind);
    if (c == 0) c = strcmp(a->backend, b->backend);
    if (c == 0) c = strcmp(a->timeline, b->timeline);
    if (c == 0) c = strcmp(a->scenario, b->scenario);
    return c;
}

/* The line's deletions in words, with what was restored: two restores
 * with the same text went the same way. */
static void timeline_of(own_line *l) {
    size_t n = (size_t)snprintf(l->timeline, sizeof l->timeline, "%s, %u files, %u used at the end: ", l->r.snapshot,
                                l->r.files, l->r.referenced);
    if (l->n == 0 && n < sizeof l->timeline) n += (size_t)snprintf(l->timeline + n, sizeof l->timeline - n, "none");
    for (int k = 0; k < l->n && n < sizeof l->timeline; k++) {
        char buf[256];
        describe_event(&l->ev[k], buf, sizeof buf);
        n += (size_t)snprintf(l->timeline + n, sizeof l->timeline - n, "%s%s", k ? "; " : "", buf);
    }
}

/* Sorted by scenario within a group, so a repeated one is the last one. */
static void add_scenario(own_line *into, const char *scenario) {
    if (into->n_scenarios > 0 && strcmp(into->last, scenario) == 0) return;
    snprintf(into->last, sizeof into->last, "%s", scenario);
    size_t n = strlen(into->scenarios);
    if (into->n_scenarios < 4)
        snprintf(into->scenarios + n, sizeof into->scenarios - n, "%s%s", n ? ", " : "", scenario);
    into->n_scenarios++;
}

/* Sorts by (mode, kind, backend, timeline) and folds equal neighbours. */
static void group_lines(own_lines *ls) {
    for (size_t i = 0; i < ls->n; i++) {
        timeline_of(&ls->l[i]);
        ls->l[i].restores = 1;
    }
    if (ls->n > 1) qsort(ls->l, ls->n, sizeof ls->l[0], line_cmp);
    size_t w = 0;
    for (size_t i = 0; i < ls->n; i++) {
        own_line *cur = &ls->l[i];
        own_line *prev = w ? &ls->l[w - 1] : NULL;
        if (prev && strcmp(prev->r.mode, cur->r.mode) == 0 && strcmp(prev->kind, cur->kind) == 0 &&
            strcmp(prev->backend, cur->backend) == 0 && strcmp(prev->timeline, cur->timeline) == 0) {
            prev->restores++;
            add_scenario(prev, cur->scenario);
            continue;
        }
        if (w != i) ls->l[w] = *cur;
        ls->l[w].scenarios[0] = '\0';
        ls->l[w].n_scenarios = 0;
        ls->l[w].last[0] = '\0';
        add_scenario(&ls->l[w], ls->l[w].scenario);
        w++;
    }
    ls->n = w;
}

/* "restore_claim" or "a, b, c, d and 2 more". */
static void where_of(const own_line *l, char *buf, size_t cap) {
    if (l->n_scenarios > 4) snprintf(buf, cap, "%s and %d more", l->scenarios, l->n_scenarios - 4);
    else snprintf(buf, cap, "%s", l->scenarios);
}

/* One line of a mode's table, in Markdown or HTML. */
typedef struct line_fmt {
    const char *open, *sep, *close, *event_sep;
    void (*put)(FILE *f, const char *s); /* escapes for the format */
} line_fmt;

static const line_fmt md_fmt = {"| ", " | ", " |\n", "; ", mx_put_md};
static const line_fmt html_fmt = {"<tr><td>", "</td><td>", "</td></tr>\n", "<br>", mx_put_xml};

static void put_line(const own_line *l, const line_fmt *t, FILE *f) {
    char where[320];
    where_of(l, where, sizeof where);
    fputs(t->open, f);
    const char *text[] = {l->kind, l->backend, where};
    for (int k = 0; k < 3; k++) {
        t->put(f, text[k]);
        fputs(t->sep, f);
    }
    fprintf(f, "%d%s%s %" PRId64 "%s%u%s", l->restores, t->sep, l->r.snapshot, l->r.snapshot_id, t->sep, l->r.files,
            t->sep);
    if (l->n == 0) fputs("none", f);
    for (int k = 0; k < l->n; k++) {
        char buf[256];
        describe_event(&l->ev[k], buf, sizeof buf);
        fputs(k ? t->event_sep : "", f);
        t->put(f, buf);
    }
    fprintf(f, "%s%u%s%u%s", t->sep, l->r.files - l->r.gone, t->sep, l->r.referenced, t->close);
}

/* The run's restores, one line per group of like ones. */
static rt_err load_grouped(mx_db *db, const mx_report *rep, own_lines *ls, rt_error *e) {
    memset(ls, 0, sizeof *ls);
    rt_err rc = load_lines(db, rep->run.id, ls, e);
    if (rc != RT_OK) {
        free(ls->l);
        return rc;
    }
    group_lines(ls);
    return RT_OK;
}

rt_err mx_ownership_md(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    own_lines ls;
    rt_err rc = load_grouped(db, rep, &ls, e);
    if (rc != RT_OK) return rc;
    fputs("## Ownership timeline: when a restored snapshot's files disappear\n\n"
          "Every restore of the scenarios, per restore mode: the files of the restored snapshot (its `_metadata` "
          "included) and when the job deleted them, after which of its checkpoints, at what virtual time, why "
          "(`subsumed`: the restored checkpoint was subsumed; `unused`: a shared file no retained checkpoint uses any "
          "more), read from the engine's own deletions; and how many of them the job's own retained checkpoints "
          "still used when it ended (those the user must not delete). Restores whose files went the same way are "
          "one line.\n\n",
          f);
    for (int m = 0; m < 3; m++) {
        fprintf(f, "### %s\n\n", m == 0 ? "CLAIM" : m == 1 ? "NO_CLAIM" : "LEGACY");
        fputs(mode_notes[m], f); /* our own text, Markdown as written */
        fputs("\n\n| kind | backend | scenarios | restores | restored (one of them) | files | deleted by the job |"
              " left | still used by its checkpoints |\n|---|---|---|--:|---|--:|---|--:|--:|\n", f);
        int any = 0;
        for (size_t i = 0; i < ls.n; i++)
            if (mode_index(ls.l[i].r.mode) == m) {
                put_line(&ls.l[i], &md_fmt, f);
                any = 1;
            }
        if (!any) fputs("| — | — | — | 0 | no restore in this mode | | | | |\n", f);
        fputc('\n', f);
    }
    free(ls.l);
    return RT_OK;
}

rt_err mx_ownership_html(mx_db *db, const mx_report *rep, FILE *f, rt_error *e) {
    own_lines ls;
    rt_err rc = load_grouped(db, rep, &ls, e);
    if (rc != RT_OK) return rc;
    fputs("<h2 id=\"ownership\">Ownership timeline: when a restored snapshot's files disappear</h2>\n"
          "<p>Every restore of the scenarios, per restore mode: the restored snapshot's files (its _metadata "
          "included) and when the job deleted them, after which of its checkpoints, at what virtual time and why, "
          "read from the engine's own deletions; and how many of them the job's own retained checkpoints still used "
          "when it ended. Restores whose files went the same way are one line.</p>\n",
          f);
    for (int m = 0; m < 3; m++) {
        fprintf(f, "<h3>%s</h3>\n<p>", m == 0 ? "CLAIM" : m == 1 ? "NO_CLAIM" : "LEGACY");
        mx_put_xml(f, mode_notes[m]); /* its *emphasis* shows as typed */
        fputs("</p>\n<table><tr><th>kind</th><th>backend</th><th>scenarios</th><th>restores</th>"
              "<th>restored (one of them)</th><th>files</th>"
              "<th>deleted by the job</th><th>left</th><th>still used by its checkpoints</th></tr>\n",
              f);
        for (size_t i = 0; i < ls.n; i++)
            if (mode_index(ls.l[i].r.mode) == m) put_line(&ls.l[i], &html_fmt, f);
        fputs("</table>\n", f);
    }
    free(ls.l);
    return RT_OK;
}
