/* drv_fuzz_judge: what the fuzzer holds against the engine after every
 * action (see drv_fuzz.c for the case itself).
 *
 * A failure nobody injected is a bug. Every rejection must be explained: a
 * fault that fired during the action names the file (or directory) the
 * error names, or the file is damaged (a torn, flipped or lost write, or
 * the fuzzer's own damage), or a slow fault preceded a timeout; for a
 * restore of a savepoint also a file that a CLAIM restore handed to a job,
 * which may have deleted it since. Anything else, a task failover or a
 * coordinator failover rejected with "...sst is missing" included, is a
 * violation. An action that succeeds after the engine read damaged bytes
 * is one too: damage must end in a named rejection.
 *
 * Invariants, checked with the faults suspended (the harness's own reads
 * neither meet faults nor move their counters):
 *  - every file of a retained checkpoint exists, unless damaged; also at
 *    the end of every subsumption, inside the job's own steps;
 *  - no savepoint file is ever deleted, unless a CLAIM restore took a
 *    snapshot referencing it;
 *  - after a NO_CLAIM restore no checkpoint references the restored files;
 *  - the persisted completed-checkpoint store (what a recovering
 *    coordinator reads) lists exactly the checkpoints the coordinator
 *    retains, each _metadata loads and names exactly the files the
 *    coordinator holds for it, all of which exist (Flink's
 *    DefaultCompletedCheckpointStore keeps its list "in parallel to the
 *    state in the state handle store"); a fault on the store's own file
 *    excuses a stale store until it matches again, since the coordinator
 *    discards nothing it could not unlist (CheckpointsCleaner only cleans
 *    what the store released);
 *  - costs: an incremental checkpoint uploads only the files its base (the
 *    snapshot its backend builds on) did not hold; an SST the base already
 *    uploaded, uploaded again, is a cost violation (Flink's
 *    RocksIncrementalSnapshotStrategy reuses every confirmed SST of the
 *    last completed checkpoint). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_fuzz_case.h"
#include "drv_scenario.h"

#define FUZZ_STORE_ENTRIES_MAX 64

const char *const drv_fuzz_action_names[A_KIND_COUNT] = {"run",     "savepoint", "failover", "coordinator-failover",
                                                         "restore", "stop",      "damage"};

static int listed(const rt_strlist *l, const char *path) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], path) == 0) return 1;
    return 0;
}

static void push_once(rt_strlist *l, const char *path) {
    if (!listed(l, path)) rt_strlist_push(l, path);
}

static int is_store_file(const char *path) {
    const char *s = strrchr(path, '/');
    return s != NULL && strcmp(s + 1, "completed-checkpoints") == 0;
}

/* Damaged for good: the fuzzer saw it happen, or the storage still holds
 * the damage (also what it did during the current action). */
static int damaged(const fuzz_case *fc, const char *path) {
    return listed(&fc->damaged, path) || rt_store_is_damaged(fc->store, path);
}

uint64_t fuzz_engine_damaged_reads(const fuzz_case *fc) {
    return rt_store_get_stats(fc->store)->damaged_reads - fc->harness_damaged_reads;
}

rt_err fuzz_harness_load(fuzz_case *fc, sim_meta *m, const char *dir, rt_error *e) {
    uint64_t before = rt_store_get_stats(fc->store)->damaged_reads;
    int was = rt_store_suspend_faults(fc->store, 1);
    rt_err rc = sim_meta_load_in(fc->cfg.meta_cache, m, fc->store, dir, NULL, NULL, e);
    rt_store_suspend_faults(fc->store, was);
    fc->harness_damaged_reads += rt_store_get_stats(fc->store)->damaged_reads - before;
    return rc;
}

void fuzz_note_faults(fuzz_case *fc) {
    rt_fault_event ev[64];
    size_t n;
    while ((n = rt_store_drain_fault_events(fc->store, ev, 64)) > 0)
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind == RT_FAULT_SLOW) {
                fc->slow_fired = 1;
                continue;
            }
            int wrong_write = ev[i].op == RT_OP_PUT &&
                              (ev[i].kind == RT_FAULT_TORN || ev[i].kind == RT_FAULT_BITFLIP || ev[i].kind == RT_FAULT_LOST);
            push_once(wrong_write ? &fc->damaged : &fc->faulted, ev[i].path);
            if (is_store_file(ev[i].path)) fc->store_stale = 1;
        }
    uint64_t dropped = rt_store_get_stats(fc->store)->fault_events_dropped;
    if (dropped != fc->dropped_seen) fc->events_lost = 1;
    fc->dropped_seen = dropped;
}

rt_err fuzz_violation(fuzz_case *fc, rt_error *e, const char *what, const char *detail) {
    char copy[RT_ERROR_MSG_MAX]; /* detail may be e's own message */
    snprintf(copy, sizeof copy, "%s", detail ? detail : "");
    fc->res->violated = 1;
    snprintf(fc->res->violation, sizeof fc->res->violation, "%.127s", what);
    return RT_FAIL(e, RT_EINTERNAL, "invariant: %s%s%.400s", what, detail ? ": " : "", copy);
}

/* ---- explaining a rejection -------------------------------------------- */

static int path_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '/';
}

/* msg names path s (of length n) as a whole: nothing path-like follows it,
 * and before it there is a separator (a store's root ends in '/'). */
static int names_n(const char *msg, const char *s, size_t n) {
    if (n == 0) return 0;
    for (const char *p = strstr(msg, s); p != NULL; p = strstr(p + 1, s)) {
        int start_ok = p == msg || !path_char(p[-1]) || p[-1] == '/';
        if (start_ok && !path_char(p[n])) return 1;
    }
    return 0;
}

/* The error names path, or names the directory of a path/_metadata the
 * way a missing _metadata is reported ("<dir>: no _metadata"). */
static int names(const char *msg, const char *path) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    if (names_n(msg, buf, strlen(buf))) return 1;
    if (strcmp(path, "") == 0) return strstr(msg, "(root)") != NULL;
    size_t n = strlen(buf);
    const char *meta = "/_metadata";
    if (n > strlen(meta) && strcmp(buf + n - strlen(meta), meta) == 0) {
        buf[n - strlen(meta)] = '\0';
        char dir_colon[520];
        snprintf(dir_colon, sizeof dir_colon, "%s:", buf);
        return strstr(msg, dir_colon) != NULL;
    }
    return 0;
}

static int names_any(const char *msg, const rt_strlist *l) {
    for (size_t i = 0; i < l->len; i++)
        if (names(msg, l->items[i])) return 1;
    return 0;
}

/* Why a rejection is fine, or NULL when nothing the fuzzer did explains it. */
static const char *explanation(const fuzz_case *fc, const rt_error *e, int own_recovery) {
    if (fc->events_lost) return "fault events were lost";
    if (e->code == RT_ETIMEOUT && fc->slow_fired) return "a slow fault";
    if (names_any(e->msg, &fc->faulted)) return "a fault fired on it";
    if (names_any(e->msg, &fc->damaged)) return "it is damaged";
    if (!own_recovery && names_any(e->msg, &fc->claimed)) return "a CLAIM restore gave it away";
    return NULL;
}

/* ---- invariants ----------------------------------------------------------- */

static int missing_retained(void *ctx, int64_t id, const char *path) {
    fuzz_case *fc = ctx;
    if (rt_store_exists(fc->store, path) || damaged(fc, path)) return 0;
    snprintf(fc->offender, sizeof fc->offender, "checkpoint %" PRId64 ": %s", id, path);
    return 1;
}

static int uses_unowned(void *ctx, int64_t id, const char *path) {
    fuzz_case *fc = ctx;
    if (id <= fc->unowned_id || !listed(&fc->unowned, path)) return 0;
    snprintf(fc->offender, sizeof fc->offender, "checkpoint %" PRId64 " uses %s", id, path);
    return 1;
}

/* The files the coordinator holds for each retained checkpoint. */
typedef struct held {
    int64_t id[FUZZ_STORE_ENTRIES_MAX];
    rt_strlist files[FUZZ_STORE_ENTRIES_MAX];
    int n;
} held;

static int collect_held(void *ctx, int64_t id, const char *path) {
    held *h = ctx;
    if (h->n == 0 || h->id[h->n - 1] != id) {
        if (h->n == FUZZ_STORE_ENTRIES_MAX) return 1;
        h->id[h->n++] = id;
    }
    rt_strlist_push(&h->files[h->n - 1], path);
    return 0;
}

static void free_held(held *h) {
    for (int i = 0; i < h->n; i++) rt_strlist_free(&h->files[i]);
    h->n = 0;
}

static int same_sets(rt_strlist *a, rt_strlist *b, const char **extra) {
    rt_strlist_sort(a);
    rt_strlist_sort(b);
    size_t i = 0, j = 0;
    while (i < a->len || j < b->len) {
        int c = i == a->len ? 1 : j == b->len ? -1 : strcmp(a->items[i], b->items[j]);
        if (c != 0) {
            *extra = c < 0 ? a->items[i] : b->items[j];
            return 0;
        }
        i++;
        j++;
    }
    return 1;
}

/* One persisted checkpoint against the coordinator's copy: 0 if they
 * agree, else a description in why. A _metadata that does not load is a
 * violation unless damage explains it (then *unverified). */
static int compare_entry(fuzz_case *fc, const sim_store_entry *en, held *h, char *why, size_t cap,
                         int *unverified, rt_error *e) {
    sim_meta m;
    rt_error le;
    if (fuzz_harness_load(fc, &m, en->dir, &le) != RT_OK) {
        if (names_any(le.msg, &fc->damaged) || explanation(fc, &le, 1) != NULL) {
            *unverified = 1;
            return 0;
        }
        fuzz_violation(fc, e, "a checkpoint the persisted store lists does not load", le.msg);
        return -1;
    }
    rt_strlist files = {0};
    char meta[SIM_PATH_MAX + 16];
    snprintf(meta, sizeof meta, "%s/_metadata", en->dir);
    sim_meta_each_file(&m, sim_meta_push_path, &files);
    rt_strlist_push(&files, meta);
    sim_meta_free(&m);
    int at = -1;
    for (int i = 0; i < h->n; i++)
        if (h->id[i] == en->id) at = i;
    const char *extra = NULL;
    int differ = 0;
    if (at < 0) {
        snprintf(why, cap, "the store lists checkpoint %" PRId64 ", which the coordinator does not retain", en->id);
        differ = 1;
    } else if (!same_sets(&files, &h->files[at], &extra)) {
        snprintf(why, cap, "checkpoint %" PRId64 ": %.300s is in one of the store and the coordinator only", en->id,
                 extra);
        differ = 1;
    }
    for (size_t i = 0; !differ && i < files.len; i++)
        if (!rt_store_exists(fc->store, files.items[i]) && !damaged(fc, files.items[i])) {
            snprintf(why, cap, "persisted checkpoint %" PRId64 " names %.300s, which is gone", en->id, files.items[i]);
            differ = 1;
        }
    rt_strlist_free(&files);
    return differ;
}

/* CompletedCheckpointStore as a recovering coordinator would read it, with
 * the faults suspended, against the coordinator's retained checkpoints. */
static rt_err check_persisted_store(fuzz_case *fc, rt_error *e) {
    sim_store_entry en[FUZZ_STORE_ENTRIES_MAX];
    int n = 0;
    rt_error le;
    char store[SIM_PATH_MAX + 32];
    snprintf(store, sizeof store, "%s/completed-checkpoints", sim_run_job_id(fc->run));
    uint64_t before = rt_store_get_stats(fc->store)->damaged_reads;
    rt_err rc = sim_run_read_store(fc->run, en, FUZZ_STORE_ENTRIES_MAX, &n, &le);
    fc->harness_damaged_reads += rt_store_get_stats(fc->store)->damaged_reads - before;
    if (rc != RT_OK)
        return damaged(fc, store) ? RT_OK : fuzz_violation(fc, e, "the persisted completed-checkpoint store does not load", le.msg);
    held h;
    memset(&h, 0, sizeof h);
    sim_run_each_retained_file(fc->run, collect_held, &h);
    char why[512] = "";
    int differ = n != h.n, unverified = 0;
    if (differ) snprintf(why, sizeof why, "the store lists %d checkpoints, the coordinator retains %d", n, h.n);
    for (int i = 0; i < n && !differ; i++) {
        differ = compare_entry(fc, &en[i], &h, why, sizeof why, &unverified, e);
        if (differ < 0) break;
    }
    free_held(&h);
    if (differ < 0) return RT_EINTERNAL;
    if (!differ && !unverified) fc->store_stale = 0;
    if (differ && !fc->store_stale)
        return fuzz_violation(fc, e, "the persisted completed-checkpoint store and the coordinator disagree", why);
    return RT_OK;
}

static rt_err check_all(fuzz_case *fc, rt_error *e) {
    if (sim_run_each_retained_file(fc->run, missing_retained, fc))
        return fuzz_violation(fc, e, "a retained checkpoint references a file that is gone", fc->offender);
    if (sim_run_each_retained_file(fc->run, uses_unowned, fc))
        return fuzz_violation(fc, e, "a checkpoint after a NO_CLAIM restore references the restored snapshot",
                              fc->offender);
    for (int i = 0; i < fc->n_sp; i++)
        for (size_t k = 0; k < fc->sp[i].files.len; k++) {
            const char *f = fc->sp[i].files.items[k];
            if (!rt_store_exists(fc->store, f) && !damaged(fc, f) && !listed(&fc->claimed, f))
                return fuzz_violation(fc, e, "a savepoint file was deleted", f);
        }
    return check_persisted_store(fc, e);
}

rt_err fuzz_check_invariants(fuzz_case *fc, rt_error *e) {
    fuzz_note_faults(fc);
    int was = rt_store_suspend_faults(fc->store, 1);
    rt_err rc = check_all(fc, e);
    rt_store_suspend_faults(fc->store, was);
    return rc;
}

rt_err fuzz_judge(fuzz_case *fc, rt_err rc, fuzz_action a, int own_recovery, uint64_t damaged_reads_before,
                  rt_error *e) {
    fuzz_note_faults(fc);
    if (fc->hook_known[0]) {
        snprintf(fc->res->known_bug, sizeof fc->res->known_bug, "FLINK-39964");
        return RT_FAIL(e, RT_ENOENT, "%s", fc->hook_known);
    }
    if (fc->hook_violation[0]) {
        rt_err v = fuzz_violation(fc, e, fc->hook_violation, NULL);
        snprintf(fc->res->violation, sizeof fc->res->violation, "%.127s",
                 fc->hook_class ? fc->hook_class : fc->hook_violation); /* without its ids */
        return v;
    }
    const rt_store_stats *st = rt_store_get_stats(fc->store);
    uint64_t engine_reads = fuzz_engine_damaged_reads(fc) - damaged_reads_before;
    if (rc == RT_OK && engine_reads > 0) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s read %.300s", drv_fuzz_action_names[a], st->last_damaged_read);
        return fuzz_violation(fc, e, "it worked after reading damaged bytes", detail);
    }
    if (rc == RT_OK) return fuzz_check_invariants(fc, e);
    rt_err_class cls = rt_err_class_of(rc);
    char detail[RT_ERROR_MSG_MAX];
    snprintf(detail, sizeof detail, "%s: %.480s", drv_fuzz_action_names[a], e->msg);
    if (cls != RT_CLASS_REJECT)
        return fuzz_violation(fc, e, cls == RT_CLASS_CORRUPT ? "the oracle disagrees" : "an unnamed failure", detail);
    const char *why = explanation(fc, e, own_recovery);
    rt_trace_event(&fc->trace, sim_run_stats(fc->run)->virtual_ms, "fuzz_rejected", "\"action\":\"%s\",\"error\":\"%s\",\"explained\":\"%s\"",
                   drv_fuzz_action_names[a], rt_err_name(rc), why ? why : "no");
    if (why == NULL) return fuzz_violation(fc, e, "a rejection no fault explains", detail);
    /* A job whose own recovery failed cannot go on: that ends the case. */
    if (a == A_FAILOVER || a == A_COORD_FAILOVER) return rc;
    rt_error_clear(e);
    return fuzz_check_invariants(fc, e);
}

/* ---- the job's own steps: subsumption, costs, sequences ------------------- */

void fuzz_free_base(fuzz_case *fc) {
    for (int i = 0; i < fc->n_base; i++) {
        rt_strlist_free(&fc->base[i].paths);
        rt_strlist_free(&fc->base[i].sst_names);
    }
    fc->n_base = 0;
}

static int is_sst(const sim_file_ref *f) {
    size_t n = strlen(f->local_name);
    return f->shared && n > 4 && strcmp(f->local_name + n - 4, ".sst") == 0;
}

static void sst_key(const sim_file_ref *f, char *buf, size_t cap) {
    snprintf(buf, cap, "%s %" PRIu64, f->local_name, f->size);
}

static int incremental_handle(const sim_keyed_handle *h) {
    return strcmp(h->format, "rocksdb-native") == 0 && h->incremental;
}

static void base_from(fuzz_case *fc, const sim_meta *m) {
    fuzz_free_base(fc);
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub && fc->n_base < FUZZ_MAX_BASE; s++) {
            const sim_meta_subtask *st = &m->ops[o].sub[s];
            if (!st->has_keyed || !incremental_handle(&st->keyed)) continue;
            fuzz_base *b = &fc->base[fc->n_base++];
            memset(b, 0, sizeof *b);
            snprintf(b->uid, sizeof b->uid, "%s", m->ops[o].uid);
            b->kg_lo = st->keyed.kg_lo;
            b->kg_hi = st->keyed.kg_hi;
            b->id = m->checkpoint_id;
            for (int f = 0; f < st->keyed.n_files; f++) {
                const sim_file_ref *fr = &st->keyed.files[f];
                char key[128];
                rt_strlist_push(&b->paths, fr->path);
                sst_key(fr, key, sizeof key);
                if (is_sst(fr)) rt_strlist_push(&b->sst_names, key);
            }
        }
}

void fuzz_set_base(fuzz_case *fc, const char *dir) {
    fuzz_free_base(fc);
    fc->overlap_until = 0; /* a restored job: nothing of it in progress yet */
    sim_meta m;
    rt_error e;
    if (dir == NULL || dir[0] == '\0' || fuzz_harness_load(fc, &m, dir, &e) != RT_OK) return;
    base_from(fc, &m);
    sim_meta_free(&m);
}

static const fuzz_base *base_of(const fuzz_case *fc, const char *uid, const sim_keyed_handle *h) {
    for (int i = 0; i < fc->n_base; i++)
        if (strcmp(fc->base[i].uid, uid) == 0 && fc->base[i].kg_lo == h->kg_lo && fc->base[i].kg_hi == h->kg_hi)
            return &fc->base[i];
    return NULL;
}

/* One subtask's incremental upload against its base: every byte it
 * uploaded must have been needed. */
static void check_upload(fuzz_case *fc, const sim_meta *m, const char *uid, const sim_keyed_handle *h) {
    const fuzz_base *b = base_of(fc, uid, h);
    if (b == NULL) return;
    uint64_t uploaded = 0, wasted = 0;
    const char *again = NULL;
    for (int f = 0; f < h->n_files; f++) {
        const sim_file_ref *fr = &h->files[f];
        char key[128];
        if (listed(&b->paths, fr->path)) continue; /* reused by reference */
        if (fr->type != SIM_HANDLE_BYTES && !rt_store_exists(fc->store, fr->path) && !damaged(fc, fr->path)) {
            if (!fc->hook_violation[0]) {
                fc->hook_class = "an incremental checkpoint references a file it neither uploaded nor found in its base";
                snprintf(fc->hook_violation, sizeof fc->hook_violation,
                         "checkpoint %" PRId64 " (%s, key groups %u-%u) references %.300s, which it neither "
                         "uploaded nor found in checkpoint %" PRId64, m->checkpoint_id, uid, h->kg_lo, h->kg_hi,
                         fr->path, b->id);
            }
            return;
        }
        uploaded += fr->size;
        sst_key(fr, key, sizeof key);
        if (is_sst(fr) && listed(&b->sst_names, key)) {
            wasted += fr->size;
            again = fr->local_name;
        }
    }
    if (wasted == 0 || fc->hook_violation[0]) return;
    fc->hook_class = "cost: an incremental checkpoint uploaded an SST its base had uploaded";
    snprintf(fc->hook_violation, sizeof fc->hook_violation,
             "cost: incremental checkpoint %" PRId64 " (%s, key groups %u-%u) uploaded %" PRIu64 " bytes where %" PRIu64
             " were needed: %s was already uploaded by checkpoint %" PRId64,
             m->checkpoint_id, uid, h->kg_lo, h->kg_hi, uploaded, uploaded - wasted, again, b->id);
}

static void check_costs(fuzz_case *fc, const sim_meta *m) {
    if (strcmp(m->sharing, "FORWARD_BACKWARD") != 0 || m->checkpoint_id <= fc->overlap_until) return;
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++) {
            const sim_meta_subtask *st = &m->ops[o].sub[s];
            if (st->has_keyed && incremental_handle(&st->keyed)) check_upload(fc, m, m->ops[o].uid, &st->keyed);
        }
}

/* A checkpoint after the current job's restore built on files it did not
 * upload itself: the restored ones (CLAIM, LEGACY), or after NO_CLAIM an
 * earlier checkpoint's of this job. */
static int builds_on_earlier(const fuzz_case *fc, const sim_meta *m) {
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++) {
            const sim_meta_subtask *st = &m->ops[o].sub[s];
            for (int f = 0; st->has_keyed && f < st->keyed.n_files; f++) {
                const sim_file_ref *fr = &st->keyed.files[f];
                if (fc->restore_mode == SIM_MODE_NO_CLAIM) {
                    if (fr->shared && fr->created_by != m->checkpoint_id && !listed(&fc->restored, fr->path)) return 1;
                } else if (listed(&fc->restored, fr->path)) {
                    return 1;
                }
            }
        }
    return 0;
}

static void note_checkpoint(fuzz_case *fc, const sim_meta *m) {
    int incremental = fc->cfg.incremental;
    if (fc->restore_mode >= 0 && m->checkpoint_id > fc->restored_id && builds_on_earlier(fc, m)) fc->reused = 1;
    if (incremental && fc->sp_state == 2) fc->res->sequences |= 1u << DRV_SEQ_SP_BETWEEN;
    if (incremental) fc->sp_state = 1;
    check_costs(fc, m);
    base_from(fc, m);
}

void fuzz_on_completed(void *ctx, const sim_run *r, int64_t id, const char *dir, int savepoint) {
    fuzz_case *fc = ctx;
    if (savepoint) {
        if (fc->sp_state == 1) fc->sp_state = 2;
        return;
    }
    if (!fc->hook_violation[0] && sim_run_each_retained_file(r, missing_retained, fc)) {
        fc->hook_class = "after a checkpoint completed, a retained checkpoint references a file that is gone";
        snprintf(fc->hook_violation, sizeof fc->hook_violation,
                 "after checkpoint %" PRId64 " completed and older ones were subsumed, a retained checkpoint "
                 "references a file that is gone (%.300s)", id, fc->offender);
    }
    sim_meta m;
    rt_error e;
    if (fuzz_harness_load(fc, &m, dir, &e) != RT_OK) {
        fuzz_free_base(fc); /* unknown: nothing to hold the next one against */
        return;
    }
    /* What a restore of it would read, as the reader resolves it. */
    /* What a restore of it would read, as the reader resolves it: a reused
     * handle re-anchored where the file is not is FLINK-39964 (a missing
     * file of its own, a lost write, is left to the restore that meets it). */
    if (!fc->hook_violation[0] && !fc->hook_known[0])
        drv_scn_flink_39964(&m, fc->store, &fc->restored, fc->hook_known, sizeof fc->hook_known);
    if (!fc->hook_known[0]) note_checkpoint(fc, &m); /* else its uploads are judged by re-anchored paths */
    /* A task reuses only what notifyCheckpointComplete told it: those in
     * progress now snapshotted (some of them) before this base existed. */
    fc->overlap_until = sim_run_newest_pending(r);
    sim_meta_free(&m);
}

void fuzz_note_restore(fuzz_case *fc, const char *dir, sim_restore_mode mode) {
    rt_strlist_free(&fc->restored);
    fc->restore_mode = (int)mode;
    fc->restored_id = 0;
    fc->reused = 0;
    fc->sp_state = 0;
    sim_meta m;
    rt_error e;
    if (fuzz_harness_load(fc, &m, dir, &e) == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, &fc->restored);
        fc->restored_id = m.checkpoint_id;
        sim_meta_free(&m);
    }
    fuzz_set_base(fc, dir);
}

void fuzz_note_failover(fuzz_case *fc) {
    if (fc->restore_mode < 0 || !fc->reused) return;
    drv_fuzz_seq s = fc->restore_mode == SIM_MODE_CLAIM      ? DRV_SEQ_CLAIM
                     : fc->restore_mode == SIM_MODE_NO_CLAIM ? DRV_SEQ_NO_CLAIM
                                                            : DRV_SEQ_LEGACY;
    fc->res->sequences |= 1u << s;
}

void fuzz_note_damage(fuzz_case *fc, const char *path) {
    push_once(&fc->damaged, path);
    rt_store_mark_damaged(fc->store, path);
    if (is_store_file(path)) fc->store_stale = 1;
}
