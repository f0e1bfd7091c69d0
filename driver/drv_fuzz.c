/* drv_fuzz: the fault-injection case of one seed (see drv_fuzz.h). The seed
 * draws the job, the fault plan (swarm testing) and a list of actions; some
 * seeds also draw a motif, a short script of actions that leads into one of
 * the risky sequences of drv_fuzz_seq, placed among the random ones, so
 * that each sequence reaches a fair share of the seeds. Every action is
 * judged by drv_fuzz_judge.c; at the end a checkpoint must complete within
 * a bound once the faults stop (liveness), and state and sink output must
 * match the oracle. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_fuzz_case.h"

#define FUZZ_LIVENESS_RECORDS 400
#define FUZZ_LIVENESS_BOUND_MS 10000 /* two checkpoint timeouts */
#define FUZZ_MOTIF_RECORDS 500       /* a run long enough for a few checkpoints */
#define FUZZ_MOTIF_MAX 5

/* Motifs: none, or a script leading into one risky sequence. */
typedef enum { M_NONE, M_CLAIM, M_NO_CLAIM, M_LEGACY, M_SP_BETWEEN, M_STOP_FAULTS, M_COUNT } fuzz_motif;

/* One action, with what a motif forces (forced 0: everything drawn). */
typedef struct fuzz_step {
    fuzz_action a;
    int forced;
    int native;          /* savepoint: native format */
    int restore_sp;      /* restore: the latest savepoint, not the latest checkpoint */
    sim_restore_mode mode;
    uint64_t records;
} fuzz_step;

static const char *const seq_names[DRV_SEQ_COUNT] = {"claim-reuse-failover", "no-claim-reuse-failover",
                                                     "legacy-reuse-failover", "savepoint-between-incrementals",
                                                     "stop-under-faults"};

const char *drv_fuzz_seq_name(drv_fuzz_seq s) { return (unsigned)s < DRV_SEQ_COUNT ? seq_names[s] : "?"; }

/* The current job's virtual time, for the driver's own trace events. */
static uint64_t now_of(fuzz_case *fc) { return fc->run ? sim_run_stats(fc->run)->virtual_ms : 0; }

/* Kept by hand; tests/cli.sh checks it against every event name the
 * sources write. */
const char *const drv_trace_events[] = {
    "abort", "alignment_timeout", "channel_state", "complete", "coordinator_failover", "delete", "discard",
    "drained", "failover", "fault_plan", "fuzz_action", "fuzz_case", "fuzz_concurrency", "fuzz_end",
    "fuzz_rejected", "job", "oracle", "relocate", "restore", "rocksdb_restore", "rocksdb_snapshot", "scenario",
    "spa_write_operator", "state_registered", "step_rejected", "stop_failed", "stopped", "store_recovered",
    "store_write_failed", "subsume", "trigger", NULL};

int drv_trace_event_known(const char *name) {
    for (int i = 0; drv_trace_events[i]; i++)
        if (strcmp(drv_trace_events[i], name) == 0) return 1;
    return 0;
}

/* ---- stopping the case (drv_fuzz_stop) ---- */

/* The trace's watcher: remembers the stop's event when it is written. */
static void stop_watch(void *ctx, uint64_t line, uint64_t t_ms, const char *ev, const char *text) {
    fuzz_case *fc = ctx;
    if (fc->stop_line || fc->halted || strcmp(ev, fc->stop->event) != 0) return;
    if (++fc->stop_seen < (fc->stop->nth ? fc->stop->nth : 1)) return;
    fc->stop_line = line;
    fc->stop_event_ms = t_ms;
    snprintf(fc->stop_text, sizeof fc->stop_text, "%s", text);
}

/* Shows the run where the case stops; after a real stop the trace gets
 * nothing more (what the driver does while unwinding is no step of the
 * case). */
static void show_stop(fuzz_case *fc, const sim_run *r, const char *why, uint64_t next_at) {
    drv_fuzz_stop_at at;
    memset(&at, 0, sizeof at);
    at.why = why;
    at.job = fc->runs + 1;
    at.job_ms = sim_run_now(r);
    at.case_ms = strcmp(why, "time") == 0 ? fc->stop->until_ms : fc->virtual_ms + at.job_ms;
    at.next_ms = next_at;
    at.line = fc->stop_line;
    at.event_ms = fc->stop_event_ms;
    at.text = fc->stop_text;
    at.action = fc->action ? fc->action : "start";
    if (strcmp(why, "end") != 0) {
        fc->halted = 1;
        if (fc->trace.out) fflush(fc->trace.out);
        fc->trace.out = NULL;
    }
    fc->stop->show(fc->stop->ctx, r, &at);
}

/* sim_config.halt: before each event of the current job. */
static int stop_halt(void *ctx, const sim_run *r, uint64_t next_at) {
    fuzz_case *fc = ctx;
    if (fc->halted) return 1;
    int late = fc->stop->has_until && next_at != UINT64_MAX && fc->virtual_ms + next_at > fc->stop->until_ms;
    if (!late && !fc->stop_line) return 0;
    show_stop(fc, r, fc->stop_line ? "event" : "time", next_at);
    return 1;
}

/* Between two actions: the stop's event came outside the loop's events
 * (a restore, the driver's own). True when the case stopped. */
static int stopped_between(fuzz_case *fc) {
    if (fc->stop && !fc->halted && fc->stop_line) show_stop(fc, fc->run, "event", UINT64_MAX);
    return fc->halted;
}

static void append(char *buf, size_t cap, const char *fmt, const char *s) {
    size_t n = strlen(buf);
    if (n < cap) snprintf(buf + n, cap - n, fmt, s);
}

static void set_parallelism(sim_config *c, uint32_t p) {
    for (int i = 0; i < c->job.n_ops; i++)
        if (c->job.ops[i].kind == SIM_OP_KEYED) c->job.ops[i].parallelism = p;
}

static uint32_t parallelism_of(const sim_config *c) {
    for (int i = 0; i < c->job.n_ops; i++)
        if (c->job.ops[i].kind == SIM_OP_KEYED) return c->job.ops[i].parallelism;
    return 1;
}

/* The job and its settings, drawn from the seed. Motifs about reuse need
 * an incremental RocksDB job. */
static void draw_config(fuzz_case *fc, const char *work_dir, sim_mutant m, fuzz_motif motif) {
    sim_config *c = &fc->cfg;
    sim_config_defaults(c);
    c->seed = fc->seed;
    c->source_seed = rt_mix3(fc->seed, 0x64617461, 0);
    c->backend = rt_prng_chance(&fc->prng, 1, 2) ? "rocksdb" : "heap";
    c->incremental = strcmp(c->backend, "rocksdb") == 0 && rt_prng_chance(&fc->prng, 2, 3);
    if (motif != M_NONE && motif != M_STOP_FAULTS) {
        c->backend = "rocksdb";
        c->incremental = 1;
    }
    uint64_t align = rt_prng_below(&fc->prng, 3);
    c->unaligned = align == 0;
    c->aligned_timeout_ms = align == 1 ? (uint64_t)rt_prng_range(&fc->prng, 2, 30) : 0;
    set_parallelism(c, (uint32_t)rt_prng_range(&fc->prng, 1, 3));
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
    c->on_completed = fuzz_on_completed;
    c->observer = fc;
    snprintf(fc->res->backend, sizeof fc->res->backend, "%s", c->backend);
    snprintf(fc->res->kind, sizeof fc->res->kind, "%s", c->unaligned ? "unaligned" : "aligned");
}

/* A third of the seeds run no motif; the rest one of the five. */
static fuzz_motif draw_motif(rt_prng *p) {
    uint64_t x = rt_prng_below(p, 15);
    return x < 5 ? M_NONE : (fuzz_motif)(1 + (x - 5) / 2);
}

static fuzz_step forced(fuzz_action a) {
    fuzz_step s;
    memset(&s, 0, sizeof s);
    s.a = a;
    s.forced = 1;
    return s;
}

/* The motif's script into out; returns its length. */
static int motif_steps(fuzz_case *fc, fuzz_motif m, fuzz_step *out) {
    int n = 0;
    if (m == M_NONE) return 0;
    out[n] = forced(A_RUN);
    out[n++].records = FUZZ_MOTIF_RECORDS;
    if (m == M_STOP_FAULTS) {
        out[n++] = forced(A_STOP);
        return n;
    }
    if (m == M_SP_BETWEEN) {
        out[n] = forced(A_SAVEPOINT);
        out[n++].native = rt_prng_chance(&fc->prng, 1, 2);
        out[n] = forced(A_RUN);
        out[n++].records = FUZZ_MOTIF_RECORDS;
        return n;
    }
    /* CLAIM and NO_CLAIM restore a native savepoint or the job's own
     * latest checkpoint; LEGACY a native savepoint. */
    int from_sp = m == M_LEGACY || rt_prng_chance(&fc->prng, 1, 2);
    if (from_sp) {
        out[n] = forced(A_SAVEPOINT);
        out[n++].native = 1;
    }
    out[n] = forced(A_RESTORE);
    out[n].restore_sp = from_sp;
    out[n++].mode = m == M_CLAIM ? SIM_MODE_CLAIM : m == M_NO_CLAIM ? SIM_MODE_NO_CLAIM : SIM_MODE_LEGACY;
    out[n] = forced(A_RUN);
    out[n++].records = FUZZ_MOTIF_RECORDS;
    out[n++] = forced(rt_prng_chance(&fc->prng, 1, 2) ? A_FAILOVER : A_COORD_FAILOVER);
    return n;
}

/* A stop under faults: a fault on the savepoint target, early in its
 * uploads, of a kind drawn from all (a slow one too). */
static void motif_fault(rt_fault_plan *plan, rt_prng *faults) {
    if (plan->n == RT_FAULT_PLAN_MAX) return;
    rt_fault *f = &plan->faults[plan->n++];
    memset(f, 0, sizeof *f);
    f->op = RT_OP_PUT;
    f->kind = (rt_fault_kind)rt_prng_range(faults, RT_FAULT_EIO, RT_FAULT_KIND_COUNT - 1);
    f->nth = (uint64_t)rt_prng_range(faults, 1, 6);
    f->arg = f->kind == RT_FAULT_SLOW ? (uint64_t)rt_prng_range(faults, 1, 5000) : rt_prng_below(faults, 1u << 30);
    snprintf(f->path_prefix, sizeof f->path_prefix, "savepoints/");
}

static void remember_savepoint(fuzz_case *fc, const char *dir) {
    if (fc->n_sp == FUZZ_MAX_SAVEPOINTS) return;
    fuzz_savepoint *sp = &fc->sp[fc->n_sp++];
    memset(sp, 0, sizeof *sp);
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    sim_meta m;
    rt_error e;
    if (fuzz_harness_load(fc, &m, dir, &e) == RT_OK) {
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
static rt_err restore_into_new(fuzz_case *fc, const char *dir, int claimable, const fuzz_step *st, rt_error *e) {
    sim_config c = fc->cfg;
    c.seed = fc->seed + (uint64_t)++fc->runs;
    sim_restore_mode mode = (sim_restore_mode)rt_prng_below(&fc->prng, claimable ? 3 : 2);
    uint32_t p = (uint32_t)rt_prng_range(&fc->prng, 1, 3);
    if (st->forced && st->a == A_RESTORE) { /* the motif keeps the parallelism: reuse needs it */
        mode = st->mode;
        p = parallelism_of(&fc->cfg);
    }
    set_parallelism(&c, p);
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
    set_parallelism(&fc->cfg, p);
    /* The restored checkpoint itself is retained, not produced: only later
     * checkpoints must stay off its files. */
    rt_strlist_free(&fc->unowned);
    sim_meta m;
    rt_error ig;
    if (mode != SIM_MODE_LEGACY && fuzz_harness_load(fc, &m, dir, &ig) == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, mode == SIM_MODE_CLAIM ? &fc->claimed : &fc->unowned);
        if (mode == SIM_MODE_NO_CLAIM) fc->unowned_id = m.checkpoint_id;
        sim_meta_free(&m);
    }
    if (mode == SIM_MODE_CLAIM) { /* its _metadata is the job's to discard too */
        char meta[SIM_PATH_MAX + 16];
        snprintf(meta, sizeof meta, "%s/_metadata", dir);
        rt_strlist_push(&fc->claimed, meta);
    }
    fuzz_note_restore(fc, dir, mode);
    return RT_OK;
}

/* ---- the fuzzer's own damage: a bit flip, a cut or a loss after the fact */

static int collect(void *ctx, int64_t id, const char *path) {
    (void)id;
    rt_strlist_push(ctx, path);
    return 0;
}

static rt_err damage_one(fuzz_case *fc, const char *victim, uint64_t how) {
    rt_error e;
    if (how == 2) {
        if (rt_store_delete(fc->store, victim, &e) != RT_OK) return RT_OK;
        fuzz_note_damage(fc, victim);
        return RT_OK;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    uint64_t before = rt_store_get_stats(fc->store)->damaged_reads;
    rt_err rc = rt_store_get(fc->store, victim, &data, &len, &e);
    fc->harness_damaged_reads += rt_store_get_stats(fc->store)->damaged_reads - before;
    if (rc != RT_OK || len == 0) {
        free(data);
        return RT_OK;
    }
    uint64_t at = rt_prng_below(&fc->prng, len);
    if (how == 0) data[at] ^= (uint8_t)(1u << rt_prng_below(&fc->prng, 8));
    rc = rt_store_put(fc->store, victim, data, how == 0 ? len : at, &e);
    free(data);
    if (rc == RT_OK) fuzz_note_damage(fc, victim);
    return RT_OK;
}

/* Damages one file of a savepoint, of a retained checkpoint, or the
 * completed-checkpoint store itself (never deleted: losing the HA store is
 * another failure), with the faults suspended. */
static rt_err damage(fuzz_case *fc) {
    rt_strlist files = {0};
    for (int i = 0; i < fc->n_sp; i++)
        for (size_t k = 0; k < fc->sp[i].files.len; k++) rt_strlist_push(&files, fc->sp[i].files.items[k]);
    sim_run_each_retained_file(fc->run, collect, &files);
    char store[SIM_PATH_MAX + 32];
    snprintf(store, sizeof store, "%s/completed-checkpoints", sim_run_job_id(fc->run));
    int was = rt_store_suspend_faults(fc->store, 1);
    if (rt_store_exists(fc->store, store)) rt_strlist_push(&files, store);
    if (files.len > 0) {
        const char *victim = files.items[rt_prng_below(&fc->prng, files.len)];
        uint64_t how = rt_prng_below(&fc->prng, strcmp(victim, store) == 0 ? 2 : 3);
        damage_one(fc, victim, how);
    }
    rt_store_suspend_faults(fc->store, was);
    rt_strlist_free(&files);
    return RT_OK;
}

/* ---- actions -------------------------------------------------------------- */

static rt_err stop(fuzz_case *fc, sim_kind k, const fuzz_step *st, rt_error *e) {
    char dir[256];
    int drain = rt_prng_chance(&fc->prng, 1, 2);
    uint64_t fired = rt_store_get_stats(fc->store)->faults_fired;
    rt_err rc = sim_run_stop_with_savepoint(fc->run, k, drain, "savepoints", dir, sizeof dir, e);
    if (rt_store_get_stats(fc->store)->faults_fired != fired) fc->res->sequences |= 1u << DRV_SEQ_STOP_FAULTS;
    if (rc != RT_OK) return rc; /* the job keeps running */
    remember_savepoint(fc, dir);
    return restore_into_new(fc, dir, 1, st, e);
}

static rt_err restore(fuzz_case *fc, const fuzz_step *st, int *own, rt_error *e) {
    char dir[256];
    int pick = fc->n_sp ? (int)rt_prng_below(&fc->prng, (uint64_t)fc->n_sp + 1) : fc->n_sp;
    if (st->forced) pick = st->restore_sp && fc->n_sp ? fc->n_sp - 1 : fc->n_sp;
    if (pick < fc->n_sp) return restore_into_new(fc, fc->sp[pick].dir, 1, st, e);
    *own = 1; /* the job's own retained checkpoint */
    snprintf(dir, sizeof dir, "%s", sim_run_latest_checkpoint(fc->run));
    return dir[0] ? restore_into_new(fc, dir, 0, st, e) : RT_OK;
}

static rt_err recover(fuzz_case *fc, fuzz_action a, rt_error *e) {
    fuzz_note_failover(fc);
    rt_err rc = a == A_FAILOVER ? sim_run_failover(fc->run, e) : sim_run_coordinator_failover(fc->run, e);
    if (rc == RT_OK) fuzz_set_base(fc, sim_run_latest_checkpoint(fc->run));
    return rc;
}

static rt_err do_action(fuzz_case *fc, const fuzz_step *st, int *own, rt_error *e) {
    char dir[256];
    sim_kind k = rt_prng_chance(&fc->prng, 1, 2) ? SIM_KIND_NATIVE : SIM_KIND_CANONICAL;
    if (st->forced && st->a == A_SAVEPOINT) k = st->native ? SIM_KIND_NATIVE : SIM_KIND_CANONICAL;
    switch (st->a) {
    case A_RUN: {
        uint64_t n = (uint64_t)rt_prng_range(&fc->prng, 100, 600);
        return sim_run_records(fc->run, st->forced ? st->records : n, e);
    }
    case A_SAVEPOINT: {
        rt_err rc = sim_run_snapshot(fc->run, k, "savepoints", dir, sizeof dir, e);
        if (rc == RT_OK) remember_savepoint(fc, dir);
        return rc;
    }
    case A_FAILOVER:
    case A_COORD_FAILOVER: *own = 1; return recover(fc, st->a, e);
    case A_RESTORE: return restore(fc, st, own, e);
    case A_STOP: return stop(fc, k, st, e);
    case A_DAMAGE: return damage(fc);
    case A_KIND_COUNT: break;
    }
    return RT_OK;
}

static rt_err run_step(fuzz_case *fc, int i, const fuzz_step *st, rt_error *e) {
    if (stopped_between(fc)) return RT_FAIL(e, RT_EHALTED, "the case was stopped");
    fc->action = drv_fuzz_action_names[st->a];
    append(fc->res->actions, sizeof fc->res->actions, "%s ", drv_fuzz_action_names[st->a]);
    rt_trace_event(&fc->trace, now_of(fc), "fuzz_action", "\"i\":%d,\"action\":\"%s\"", i,
                   drv_fuzz_action_names[st->a]);
    fuzz_note_faults(fc);
    rt_strlist_free(&fc->faulted); /* a refused call explains only its own action */
    uint64_t reads = fuzz_engine_damaged_reads(fc);
    int own = 0;
    rt_err rc = do_action(fc, st, &own, e);
    if (fc->halted) return RT_FAIL(e, RT_EHALTED, "the case was stopped");
    return fuzz_judge(fc, rc, st->a, own, reads, e);
}

static rt_err fault_phase(fuzz_case *fc, fuzz_motif motif, rt_error *e) {
    fuzz_step script[FUZZ_MOTIF_MAX];
    int n_script = motif_steps(fc, motif, script);
    int lo = motif == M_NONE ? 3 : 1;
    int n = (int)rt_prng_range(&fc->prng, lo, FUZZ_MAX_ACTIONS - n_script);
    int at = (int)rt_prng_below(&fc->prng, (uint64_t)n + 1); /* where the script goes */
    uint64_t enabled = rt_prng_below(&fc->prng, 1u << A_KIND_COUNT) | 1u; /* swarm: run is always on */
    for (int i = 0; i < n + n_script; i++) {
        fuzz_step st;
        if (i >= at && i < at + n_script) {
            st = script[i - at];
        } else {
            memset(&st, 0, sizeof st);
            st.a = (fuzz_action)rt_prng_below(&fc->prng, A_KIND_COUNT);
            if (!(enabled & (1u << st.a))) st.a = A_RUN;
        }
        rt_err rc = run_step(fc, i, &st, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

/* The faults stop; a checkpoint must complete within the bound, and the
 * result must match the oracle. */
static rt_err liveness_phase(fuzz_case *fc, rt_error *e) {
    if (stopped_between(fc)) return RT_FAIL(e, RT_EHALTED, "the case was stopped");
    fc->action = "liveness";
    rt_store_set_faults(fc->store, NULL);
    rt_strlist_free(&fc->faulted);
    uint64_t reads = fuzz_engine_damaged_reads(fc);
    rt_err rc = sim_run_records(fc->run, FUZZ_LIVENESS_RECORDS, e);
    if (fc->halted) return rc;
    if (rc != RT_OK) return fuzz_judge(fc, rc, A_RUN, 0, reads, e);
    rc = sim_run_await_checkpoint(fc->run, FUZZ_LIVENESS_BOUND_MS, e);
    if (fc->halted) return rc;
    if (rc != RT_OK) return fuzz_violation(fc, e, "stuck after the faults stopped", e->msg);
    rc = sim_run_verify(fc->run, e);
    if (fc->halted) return rc;
    return fuzz_judge(fc, rc, A_RUN, 0, reads, e);
}

static void finish(fuzz_case *fc, rt_err rc, const rt_error *why) {
    drv_fuzz_result *res = fc->res;
    if (fc->run) account(fc);
    const char *o = rc == RT_OK ? "works" : res->violated || res->known_bug[0] ? "corrupted" : "rejected";
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

static void free_case(fuzz_case *fc) {
    sim_run_destroy(fc->run);
    for (int i = 0; i < fc->n_sp; i++) rt_strlist_free(&fc->sp[i].files);
    rt_strlist_free(&fc->damaged);
    rt_strlist_free(&fc->faulted);
    rt_strlist_free(&fc->claimed);
    rt_strlist_free(&fc->unowned);
    rt_strlist_free(&fc->restored);
    fuzz_free_base(fc);
    rt_trace_free(&fc->trace);
    rt_store_close(fc->store);
    sim_meta_cache_free(fc->cfg.meta_cache);
}

/* A stopped case: what it knows so far, no judgement. */
static void finish_stopped(fuzz_case *fc) {
    drv_fuzz_result *res = fc->res;
    res->stopped = 1;
    snprintf(res->outcome, sizeof res->outcome, "stopped");
    rt_trace_digest_hex(&fc->trace, res->digest);
    res->virtual_ms = fc->virtual_ms + (fc->run ? sim_run_now(fc->run) : 0);
    res->files = fc->files;
    res->bytes = fc->bytes;
}

rt_err drv_fuzz_one(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                    drv_fuzz_result *out, rt_error *e) {
    return drv_fuzz_one_stop(seed, work_dir, trace, mutant, NULL, out, e);
}

rt_err drv_fuzz_one_stop(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                         const drv_fuzz_stop *stop, drv_fuzz_result *out, rt_error *e) {
    return drv_fuzz_case(seed, work_dir, trace, mutant, stop, NULL, out, e);
}

rt_err drv_fuzz_case(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant, const drv_fuzz_stop *stop,
                     rt_tape *tape, drv_fuzz_result *out, rt_error *e) {
    fuzz_case *fc = calloc(1, sizeof *fc);
    if (fc == NULL) return RT_FAIL(e, RT_ENOMEM, "fuzz: out of memory");
    memset(out, 0, sizeof *out);
    fc->seed = out->seed = seed;
    fc->res = out;
    fc->restore_mode = -1;
    rt_prng_stream(&fc->prng, seed, RT_STREAM_SCENARIO);
    fc->prng.tape = tape; /* the case's choices: the scenario's draws and the fault plan's, in order */
    char name[64];
    snprintf(name, sizeof name, "fuzz-%" PRIu64, seed);
    rt_err rc = rt_store_open_mem(&fc->store, name, e);
    if (rc == RT_OK && rt_trace_init(&fc->trace, trace) != 0) {
        rt_store_close(fc->store);
        rc = RT_FAIL(e, RT_ENOMEM, "trace: out of memory");
    }
    if (rc != RT_OK) {
        free(fc);
        return rc;
    }
    fuzz_motif motif = draw_motif(&fc->prng);
    draw_config(fc, work_dir, mutant, motif);
    if (stop) {
        fc->stop = stop;
        fc->cfg.halt = stop_halt;
        fc->cfg.halt_ctx = fc;
        if (stop->event) rt_trace_watch(&fc->trace, stop_watch, fc);
    }
    rt_fault_plan plan;
    rt_prng faults;
    rt_prng_stream(&faults, seed, RT_STREAM_FAULTS);
    faults.tape = tape;
    rt_fault_plan_draw(&plan, &faults, 6, 80);
    if (motif == M_STOP_FAULTS) motif_fault(&plan, &faults);
    rt_fault_plan_describe(&plan, out->plan, sizeof out->plan);
    rt_trace_event(&fc->trace, 0, "fuzz_case",
                   "\"seed\":%" PRIu64 ",\"backend\":\"%s\",\"memory_threshold\":%u,\"plan\":\"%s\"", seed,
                   fc->cfg.backend, fc->cfg.memory_threshold, out->plan);
    if (fc->cfg.max_concurrent > 1) /* only then: the digests of other seeds stay */
        rt_trace_event(&fc->trace, 0, "fuzz_concurrency", "\"max_concurrent\":%d", fc->cfg.max_concurrent);
    fc->cfg.store = fc->store;
    fc->cfg.trace = &fc->trace;
    rt_error why;
    rt_error_clear(&why);
    /* The case's parses of _metadata, shared by its runs and its judge. */
    rc = sim_meta_cache_create(&fc->cfg.meta_cache, &why);
    if (rc == RT_OK) rc = sim_run_create(&fc->run, &fc->cfg, &why);
    if (rc == RT_OK) {
        rt_store_set_faults(fc->store, &plan);
        rc = fault_phase(fc, motif, &why);
        if (rc == RT_OK) rc = liveness_phase(fc, &why);
    }
    if (fc->halted) {
        finish_stopped(fc);
    } else {
        finish(fc, rc, &why);
        if (stop && fc->run) show_stop(fc, fc->run, fc->stop_line ? "event" : "end", UINT64_MAX);
    }
    free_case(fc);
    free(fc);
    return RT_OK;
}
