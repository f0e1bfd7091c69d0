/* drv_fuzz: the fault-injection case of one seed (see drv_fuzz.h).
 *
 * Invariants, checked after every action:
 *  - every file of a retained checkpoint exists (unless a fault destroyed
 *    it on its way: the storage lied, which restore must then reject);
 *  - no savepoint file is ever deleted, unless a CLAIM restore took a
 *    snapshot referencing it (after a LEGACY restore, a later checkpoint
 *    may reference a savepoint's files: claiming it claims them, FLIP-193's
 *    known LEGACY hazard);
 *  - after a NO_CLAIM restore no checkpoint references the restored files;
 *  - every failure is a named error: rejected or corrupted, never an
 *    internal error;
 * and at the end: a checkpoint completes within a bound once the faults
 * stop (liveness), and state and sink output match the oracle. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_prng.h"
#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_engine.h"
#include "drv_fuzz.h"
#include "sim_metadata.h"

#define FUZZ_MAX_ACTIONS 10
#define FUZZ_MAX_SAVEPOINTS 8
#define FUZZ_LIVENESS_RECORDS 400
#define FUZZ_LIVENESS_BOUND_MS 10000 /* two checkpoint timeouts */

typedef enum { A_RUN, A_SAVEPOINT, A_FAILOVER, A_COORD_FAILOVER, A_RESTORE, A_STOP, A_KIND_COUNT } fuzz_action;
static const char *const action_names[] = {"run", "savepoint", "failover", "coordinator-failover", "restore", "stop"};

typedef struct fuzz_savepoint {
    char dir[256];
    rt_strlist files;
} fuzz_savepoint;

typedef struct fuzz_case {
    uint64_t seed;
    rt_prng prng;
    sim_config cfg;
    rt_store *store;
    rt_trace trace;
    sim_run *run;
    int runs;
    uint64_t unseed;
    fuzz_savepoint sp[FUZZ_MAX_SAVEPOINTS];
    int n_sp;
    rt_strlist damaged; /* paths a fault wrote wrongly or lost */
    rt_strlist claimed; /* files of every snapshot restored in CLAIM mode */
    rt_strlist unowned; /* files of the snapshot restored in NO_CLAIM mode */
    int64_t unowned_id; /* its checkpoint id */
    char offender[320];
    drv_fuzz_result *res;
    uint64_t files, bytes, virtual_ms;
} fuzz_case;

/* The current job's virtual time, for the driver's own trace events. */
static uint64_t now_of(fuzz_case *fc) { return fc->run ? sim_run_stats(fc->run)->virtual_ms : 0; }

static void append(char *buf, size_t cap, const char *fmt, const char *s) {
    size_t n = strlen(buf);
    if (n < cap) snprintf(buf + n, cap - n, fmt, s);
}

/* The job and its settings, drawn from the seed. */
static void draw_config(fuzz_case *fc, const char *work_dir, sim_mutant m) {
    sim_config *c = &fc->cfg;
    sim_config_defaults(c);
    c->seed = fc->seed;
    c->source_seed = rt_mix3(fc->seed, 0x64617461, 0);
    c->backend = rt_prng_chance(&fc->prng, 1, 2) ? "rocksdb" : "heap";
    c->incremental = strcmp(c->backend, "rocksdb") == 0 && rt_prng_chance(&fc->prng, 2, 3);
    uint64_t align = rt_prng_below(&fc->prng, 3);
    c->unaligned = align == 0;
    c->aligned_timeout_ms = align == 1 ? (uint64_t)rt_prng_range(&fc->prng, 2, 30) : 0;
    uint32_t p = (uint32_t)rt_prng_range(&fc->prng, 1, 3);
    for (int i = 0; i < c->job.n_ops; i++)
        if (c->job.ops[i].kind == SIM_OP_KEYED) c->job.ops[i].parallelism = p;
    c->retained = (int)rt_prng_range(&fc->prng, 1, 3);
    c->interval_ms = (uint64_t)rt_prng_range(&fc->prng, 40, 200);
    /* Every piece of state a file, or only the smallest inlined (channel
     * state, RocksDB's CURRENT): the file-ownership invariants need files,
     * and Flink's default threshold would inline most of this job's little
     * state (the matrix runs with it). Mixed from the seed, not drawn, so
     * the other draws of a seed stay what they were. */
    c->memory_threshold = rt_mix3(fc->seed, 0x696e6c696e65, 0) & 1 ? 1024 : 0;
    /* execution.checkpointing.max-concurrent-checkpoints: 2 or 3 for a
     * quarter of the seeds whose checkpoints are aligned without a timeout
     * (Flink allows more than one only then). Mixed from the seed, not
     * drawn, like the threshold. */
    uint64_t conc = rt_mix3(fc->seed, 0x636f6e63, 0);
    c->max_concurrent = align == 2 && conc % 4 == 0 ? 2 + (int)((conc >> 8) % 2) : 1;
    c->timeout_ms = 5000;
    c->work_dir = work_dir;
    c->mutant = m;
    c->events_max = 5000000;
    snprintf(fc->res->backend, sizeof fc->res->backend, "%s", c->backend);
    snprintf(fc->res->kind, sizeof fc->res->kind, "%s", c->unaligned ? "unaligned" : "aligned");
}

static void note_faults(fuzz_case *fc) {
    rt_fault_event ev[64];
    size_t n = rt_store_drain_fault_events(fc->store, ev, 64);
    for (size_t i = 0; i < n; i++)
        if (ev[i].op == RT_OP_PUT && ev[i].kind != RT_FAULT_SLOW && ev[i].kind != RT_FAULT_EIO &&
            ev[i].kind != RT_FAULT_NOSPACE)
            rt_strlist_push(&fc->damaged, ev[i].path);
}

static int listed(const rt_strlist *l, const char *path) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], path) == 0) return 1;
    return 0;
}

static int damaged(const fuzz_case *fc, const char *path) { return listed(&fc->damaged, path); }

static int missing_retained(void *ctx, int64_t id, const char *path) {
    (void)id;
    fuzz_case *fc = ctx;
    return !rt_store_exists(fc->store, path) && !damaged(fc, path);
}

static rt_err violation(fuzz_case *fc, rt_error *e, const char *what, const char *detail) {
    char copy[RT_ERROR_MSG_MAX]; /* detail may be e's own message */
    snprintf(copy, sizeof copy, "%s", detail ? detail : "");
    fc->res->violated = 1;
    return RT_FAIL(e, RT_EINTERNAL, "invariant: %s%s%.400s", what, detail ? ": " : "", copy);
}

static int uses_unowned(void *ctx, int64_t id, const char *path) {
    fuzz_case *fc = ctx;
    if (id <= fc->unowned_id) return 0;
    for (size_t i = 0; i < fc->unowned.len; i++)
        if (strcmp(fc->unowned.items[i], path) == 0) {
            snprintf(fc->offender, sizeof fc->offender, "checkpoint %" PRId64 " uses %s", id, path);
            return 1;
        }
    return 0;
}

static rt_err check_invariants(fuzz_case *fc, rt_error *e) {
    note_faults(fc);
    if (sim_run_each_retained_file(fc->run, missing_retained, fc))
        return violation(fc, e, "a retained checkpoint references a file that is gone", NULL);
    if (sim_run_each_retained_file(fc->run, uses_unowned, fc))
        return violation(fc, e, "a checkpoint after a NO_CLAIM restore references the restored snapshot",
                         fc->offender);
    for (int i = 0; i < fc->n_sp; i++)
        for (size_t k = 0; k < fc->sp[i].files.len; k++) {
            const char *f = fc->sp[i].files.items[k];
            if (!rt_store_exists(fc->store, f) && !damaged(fc, f) && !listed(&fc->claimed, f))
                return violation(fc, e, "a savepoint file was deleted", f);
        }
    return RT_OK;
}

static void remember_savepoint(fuzz_case *fc, const char *dir) {
    if (fc->n_sp == FUZZ_MAX_SAVEPOINTS) return;
    fuzz_savepoint *sp = &fc->sp[fc->n_sp++];
    memset(sp, 0, sizeof *sp);
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    sim_meta m;
    rt_error e;
    if (sim_meta_load(&m, fc->store, dir, &e) == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, &sp->files);
        sim_meta_free(&m);
    }
}

static void account(fuzz_case *fc) {
    const sim_stats *st = sim_run_stats(fc->run);
    fc->files += st->files_written;
    fc->bytes += st->bytes_written;
    fc->virtual_ms += st->virtual_ms;
    fc->unseed ^= sim_run_unseed(fc->run) + (uint64_t)fc->runs;
}

/* A new job restored from dir replaces the current one, if it restores. */
static rt_err restore_into_new(fuzz_case *fc, const char *dir, int claimable, rt_error *e) {
    sim_config c = fc->cfg;
    c.seed = fc->seed + (uint64_t)++fc->runs;
    sim_restore_mode mode = (sim_restore_mode)rt_prng_below(&fc->prng, claimable ? 3 : 2);
    uint32_t p = (uint32_t)rt_prng_range(&fc->prng, 1, 3);
    for (int i = 0; i < c.job.n_ops; i++)
        if (c.job.ops[i].kind == SIM_OP_KEYED) c.job.ops[i].parallelism = p;
    sim_run *next = NULL;
    rt_err rc = sim_run_create(&next, &c, e);
    if (rc == RT_OK) rc = sim_run_restore(next, dir, mode, 0, e);
    if (rc != RT_OK) {
        sim_run_destroy(next);
        return rc;
    }
    account(fc);
    sim_run_destroy(fc->run);
    fc->run = next;
    /* The restored checkpoint itself is retained, not produced: only later
     * checkpoints must stay off its files. */
    rt_strlist_free(&fc->unowned);
    sim_meta m;
    rt_error ig;
    if (mode != SIM_MODE_LEGACY && sim_meta_load(&m, fc->store, dir, &ig) == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, mode == SIM_MODE_CLAIM ? &fc->claimed : &fc->unowned);
        if (mode == SIM_MODE_NO_CLAIM) fc->unowned_id = m.checkpoint_id;
        sim_meta_free(&m);
    }
    return RT_OK;
}

static rt_err do_action(fuzz_case *fc, fuzz_action a, rt_error *e) {
    char dir[256];
    sim_kind k = rt_prng_chance(&fc->prng, 1, 2) ? SIM_KIND_NATIVE : SIM_KIND_CANONICAL;
    switch (a) {
    case A_RUN: return sim_run_records(fc->run, (uint64_t)rt_prng_range(&fc->prng, 100, 600), e);
    case A_SAVEPOINT: {
        rt_err rc = sim_run_snapshot(fc->run, k, "savepoints", dir, sizeof dir, e);
        if (rc == RT_OK) remember_savepoint(fc, dir);
        return rc;
    }
    case A_FAILOVER: return sim_run_failover(fc->run, e);
    case A_COORD_FAILOVER: return sim_run_coordinator_failover(fc->run, e);
    case A_RESTORE: {
        int pick = fc->n_sp ? (int)rt_prng_below(&fc->prng, (uint64_t)fc->n_sp + 1) : fc->n_sp;
        if (pick < fc->n_sp) return restore_into_new(fc, fc->sp[pick].dir, 1, e);
        snprintf(dir, sizeof dir, "%s", sim_run_latest_checkpoint(fc->run));
        return dir[0] ? restore_into_new(fc, dir, 0, e) : RT_OK;
    }
    case A_STOP: {
        int drain = rt_prng_chance(&fc->prng, 1, 2);
        rt_err rc = sim_run_stop_with_savepoint(fc->run, k, drain, "savepoints", dir, sizeof dir, e);
        if (rc != RT_OK) return rc; /* the job keeps running */
        remember_savepoint(fc, dir);
        return restore_into_new(fc, dir, 1, e);
    }
    case A_KIND_COUNT: break;
    }
    return RT_OK;
}

/* A failure is fine when it is named; it must not be internal. */
static rt_err judge(fuzz_case *fc, rt_err rc, fuzz_action a, rt_error *e) {
    if (rc == RT_OK) return check_invariants(fc, e);
    rt_err_class cls = rt_err_class_of(rc);
    if (cls == RT_CLASS_REJECT) {
        rt_trace_event(&fc->trace, now_of(fc), "fuzz_rejected", "\"action\":\"%s\",\"error\":\"%s\"", action_names[a],
                       rt_err_name(rc));
        /* A job whose own recovery failed cannot go on: that ends the case. */
        if (a == A_FAILOVER || a == A_COORD_FAILOVER) return rc;
        rt_error_clear(e);
        return check_invariants(fc, e);
    }
    char detail[RT_ERROR_MSG_MAX];
    snprintf(detail, sizeof detail, "%s: %.480s", action_names[a], e->msg);
    return violation(fc, e, cls == RT_CLASS_CORRUPT ? "the oracle disagrees" : "an unnamed failure", detail);
}

static rt_err fault_phase(fuzz_case *fc, rt_error *e) {
    int n = (int)rt_prng_range(&fc->prng, 3, FUZZ_MAX_ACTIONS);
    uint64_t enabled = rt_prng_below(&fc->prng, 1u << A_KIND_COUNT) | 1u; /* swarm: run is always on */
    for (int i = 0; i < n; i++) {
        fuzz_action a = (fuzz_action)rt_prng_below(&fc->prng, A_KIND_COUNT);
        if (!(enabled & (1u << a))) a = A_RUN;
        append(fc->res->actions, sizeof fc->res->actions, "%s ", action_names[a]);
        rt_trace_event(&fc->trace, now_of(fc), "fuzz_action", "\"i\":%d,\"action\":\"%s\"", i, action_names[a]);
        rt_err rc = judge(fc, do_action(fc, a, e), a, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

/* The faults stop; a checkpoint must complete within the bound, and the
 * result must match the oracle. */
static rt_err liveness_phase(fuzz_case *fc, rt_error *e) {
    rt_store_set_faults(fc->store, NULL);
    rt_err rc = sim_run_records(fc->run, FUZZ_LIVENESS_RECORDS, e);
    if (rc != RT_OK) return judge(fc, rc, A_RUN, e);
    rc = sim_run_await_checkpoint(fc->run, FUZZ_LIVENESS_BOUND_MS, e);
    if (rc != RT_OK) return violation(fc, e, "stuck after the faults stopped", e->msg);
    rc = sim_run_verify(fc->run, e);
    if (rc != RT_OK) return judge(fc, rc, A_RUN, e);
    return check_invariants(fc, e);
}

static void finish(fuzz_case *fc, rt_err rc, const rt_error *why) {
    drv_fuzz_result *res = fc->res;
    if (fc->run) account(fc);
    const char *o = rc == RT_OK ? "works" : res->violated ? "corrupted" : "rejected";
    if (rc != RT_OK && res->violated && strstr(why->msg, "unnamed")) o = "crashed";
    snprintf(res->outcome, sizeof res->outcome, "%s", o);
    if (rc != RT_OK) res->why = *why;
    rt_trace_event(&fc->trace, now_of(fc), "fuzz_end", "\"outcome\":\"%s\",\"violated\":%d", o, res->violated);
    rt_trace_digest_hex(&fc->trace, res->digest);
    res->unseed = fc->unseed ^ rt_prng_next(&fc->prng);
    res->virtual_ms = fc->virtual_ms;
    res->files = fc->files;
    res->bytes = fc->bytes;
}

rt_err drv_fuzz_one(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                    drv_fuzz_result *out, rt_error *e) {
    fuzz_case fc;
    memset(&fc, 0, sizeof fc);
    memset(out, 0, sizeof *out);
    fc.seed = out->seed = seed;
    fc.res = out;
    rt_prng_stream(&fc.prng, seed, RT_STREAM_SCENARIO);
    char name[64];
    snprintf(name, sizeof name, "fuzz-%" PRIu64, seed);
    rt_err rc = rt_store_open_mem(&fc.store, name, e);
    if (rc != RT_OK) return rc;
    if (rt_trace_init(&fc.trace, trace) != 0) {
        rt_store_close(fc.store);
        return RT_FAIL(e, RT_ENOMEM, "trace: out of memory");
    }
    draw_config(&fc, work_dir, mutant);
    rt_fault_plan plan;
    rt_prng faults;
    rt_prng_stream(&faults, seed, RT_STREAM_FAULTS);
    rt_fault_plan_draw(&plan, &faults, 6, 80);
    rt_fault_plan_describe(&plan, out->plan, sizeof out->plan);
    rt_trace_event(&fc.trace, 0, "fuzz_case",
                   "\"seed\":%" PRIu64 ",\"backend\":\"%s\",\"memory_threshold\":%u,\"plan\":\"%s\"", seed,
                   fc.cfg.backend, fc.cfg.memory_threshold, out->plan);
    if (fc.cfg.max_concurrent > 1) /* only then: the digests of other seeds stay */
        rt_trace_event(&fc.trace, 0, "fuzz_concurrency", "\"max_concurrent\":%d", fc.cfg.max_concurrent);
    fc.cfg.store = fc.store;
    fc.cfg.trace = &fc.trace;
    rt_error why;
    rt_error_clear(&why);
    rc = sim_run_create(&fc.run, &fc.cfg, &why);
    if (rc == RT_OK) {
        rt_store_set_faults(fc.store, &plan);
        rc = fault_phase(&fc, &why);
        if (rc == RT_OK) rc = liveness_phase(&fc, &why);
    }
    finish(&fc, rc, &why);
    sim_run_destroy(fc.run);
    for (int i = 0; i < fc.n_sp; i++) rt_strlist_free(&fc.sp[i].files);
    rt_strlist_free(&fc.damaged);
    rt_strlist_free(&fc.claimed);
    rt_strlist_free(&fc.unowned);
    rt_trace_free(&fc.trace);
    rt_store_close(fc.store);
    return RT_OK;
}
