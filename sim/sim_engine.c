/* sim_engine: the public face of a running job (sim_engine.h): creation, running
 * records, snapshots, stop-with-savepoint, failover, drain, verify. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_canonical.h"
#include "sim_internal.h"

static const char *const kind_names[] = {"canonical", "native", "aligned", "unaligned"};

const char *sim_kind_name(sim_kind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }

int sim_kind_parse(const char *s, sim_kind *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (sim_kind)i;
            return 0;
        }
    return -1;
}

const char *sim_mode_name(sim_restore_mode m) {
    return m == SIM_MODE_CLAIM ? "claim" : m == SIM_MODE_LEGACY ? "legacy" : "no-claim";
}

int sim_mode_parse(const char *s, sim_restore_mode *out) {
    char low[16];
    size_t n = strlen(s);
    if (n >= sizeof low) return -1;
    for (size_t i = 0; i <= n; i++) low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    if (strcmp(low, "claim") == 0) *out = SIM_MODE_CLAIM;
    else if (strcmp(low, "no-claim") == 0 || strcmp(low, "no_claim") == 0) *out = SIM_MODE_NO_CLAIM;
    else if (strcmp(low, "legacy") == 0) *out = SIM_MODE_LEGACY;
    else return -1;
    return 0;
}

void sim_config_defaults(sim_config *c) {
    memset(c, 0, sizeof *c);
    c->seed = 1;
    c->source_seed = 1;
    sim_job_default(&c->job);
    c->backend = "heap";
    c->engine = sim_version_default();
    c->interval_ms = 100;
    c->timeout_ms = 20000;
    c->min_pause_ms = 10;
    c->max_concurrent = 1;
    c->retained = 2;
    c->memory_threshold = SIM_MEMORY_THRESHOLD_DEFAULT;
    c->events_max = 50000000;
}

void sim_epoch_free(sim_epoch *ep) {
    free(ep->inflight_id);
    free(ep->inflight_op);
    ep->inflight_id = NULL;
    ep->inflight_op = NULL;
    ep->n_inflight = 0;
}

rt_err sim_epoch_begin(sim_run *r, const uint64_t *start, uint64_t *inflight_id, int *inflight_op,
                       size_t n, const int *fresh, rt_error *e) {
    if (r->n_epochs == SIM_META_MAX_EPOCHS) {
        free(inflight_id);
        free(inflight_op);
        return RT_FAIL(e, RT_EINPUT, "too many restores in one lineage (at most %d)", SIM_META_MAX_EPOCHS);
    }
    sim_epoch *ep = &r->epochs[r->n_epochs++];
    memset(ep, 0, sizeof *ep);
    ep->job = r->job;
    memcpy(ep->start, start, sizeof ep->start);
    ep->inflight_id = inflight_id;
    ep->inflight_op = inflight_op;
    ep->n_inflight = n;
    memcpy(ep->fresh, fresh, sizeof ep->fresh);
    return RT_OK;
}

rt_err sim_run_create(sim_run **out, const sim_config *cfg, rt_error *e) {
    assert(cfg->store != NULL);
    assert(cfg->engine != NULL);
    if (cfg->memory_threshold > SIM_MEMORY_THRESHOLD_MAX)
        return RT_FAIL(e, RT_EUSAGE, "memory threshold %u bytes is larger than the maximum of %u",
                       cfg->memory_threshold, SIM_MEMORY_THRESHOLD_MAX);
    if (cfg->max_concurrent < 0 || cfg->max_concurrent > SIM_MAX_PENDING)
        return RT_FAIL(e, RT_EUSAGE, "max concurrent checkpoints %d is outside 1..%d", cfg->max_concurrent,
                       SIM_MAX_PENDING);
    /* CheckpointConfig: unaligned checkpoints (and the timeout that turns an
     * aligned one unaligned) need max-concurrent-checkpoints 1. */
    if (cfg->max_concurrent > 1 && (cfg->unaligned || cfg->aligned_timeout_ms))
        return RT_FAIL(e, RT_EUSAGE, "unaligned checkpoints need max concurrent checkpoints 1 (it is %d)",
                       cfg->max_concurrent);
    rt_err rc = sim_job_validate(&cfg->job, "job", e);
    if (rc != RT_OK) return rc;
    sim_run *r = calloc(1, sizeof *r);
    if (r == NULL) return RT_FAIL(e, RT_ENOMEM, "run: out of memory");
    r->cfg = *cfg;
    r->job = cfg->job;
    rt_loop_init(&r->loop, cfg->events_max);
    rt_prng_stream(&r->net, cfg->seed, RT_STREAM_NETWORK);
    rt_prng_stream(&r->ids, cfg->seed, RT_STREAM_IDS);
    rt_prng_stream(&r->coord, cfg->seed, RT_STREAM_COORD);
    /* A job never writes into another job's checkpoint directory. */
    int tries = 0;
    do {
        snprintf(r->job_id, sizeof r->job_id, "%016" PRIx64 "%016" PRIx64, rt_prng_next(&r->ids),
                 rt_prng_next(&r->ids));
    } while (sim_store_has_dir(cfg->store, r->job_id) && ++tries < 64);
    if (tries == 64) {
        rt_loop_free(&r->loop);
        free(r);
        return RT_FAIL(e, RT_EINTERNAL, "no free job id after 64 tries");
    }
    r->next_cp = 1;
    r->slow_ms_seen = rt_store_get_stats(cfg->store)->slow_ms;
    sim_registry_init(&r->registry);
    rc = sim_build_tasks(r, e);
    uint64_t zero[SIM_MAX_SPLITS] = {0};
    int fresh[SIM_MAX_OPS];
    for (int i = 0; i < SIM_MAX_OPS; i++) fresh[i] = 1;
    if (rc == RT_OK) rc = sim_epoch_begin(r, zero, NULL, NULL, 0, fresh, e);
    if (rc != RT_OK) {
        sim_run_destroy(r);
        return rc;
    }
    sim_trace(r, "job", "\"job\":\"%s\",\"backend\":\"%s\",\"engine\":\"%s\",\"tasks\":%d,\"channels\":%d",
              r->job.name, cfg->backend, cfg->engine->name, r->n_tasks, r->n_chans);
    *out = r;
    return RT_OK;
}

void sim_run_destroy(sim_run *r) {
    if (r == NULL) return;
    sim_coord_free_pending(r); /* before the tasks: each holds a part per task */
    sim_free_tasks(r);
    for (int i = 0; i < r->n_done; i++) sim_completed_free(&r->done[i]);
    free(r->done);
    sim_coord_forget_subsumed(r);
    for (int i = 0; i < r->n_epochs; i++) sim_epoch_free(&r->epochs[i]);
    sim_registry_free(&r->registry);
    sim_bytes_free(&r->inline_pool);
    rt_loop_free(&r->loop);
    free(r);
}

static void start(sim_run *r) {
    if (r->started) return;
    r->started = 1;
    sim_start_sources(r);
    sim_coord_start(r);
}

static void set_ends(sim_run *r, uint64_t n) {
    for (uint32_t s = 0; s < r->job.splits; s++) {
        uint64_t share = n / r->job.splits + (s < n % r->job.splits ? 1 : 0);
        r->end[s] = r->offset[s] + share;
    }
    sim_start_sources(r);
}

static void stop_sources(sim_run *r) {
    for (uint32_t s = 0; s < r->job.splits; s++) r->end[s] = r->offset[s];
}

static void unbounded_sources(sim_run *r) {
    for (uint32_t s = 0; s < r->job.splits; s++) r->end[s] = UINT64_MAX;
    sim_start_sources(r);
}

static int sources_done(const sim_run *r) {
    for (uint32_t s = 0; s < r->job.splits; s++)
        if (r->offset[s] < r->end[s]) return 0;
    return 1;
}

int sim_step(sim_run *r) {
    if (!r->halted && r->cfg.halt && r->cfg.halt(r->cfg.halt_ctx, r, rt_loop_next_at(&r->loop))) r->halted = 1;
    if (r->halted) return -1;
    return rt_loop_step(&r->loop);
}

static rt_err halted(sim_run *r, rt_error *e) {
    return RT_FAIL(e, RT_EHALTED, "the run was halted at %" PRIu64 " ms", rt_loop_now(&r->loop));
}

/* Steps events until pred holds; an internal error, the event bound or a
 * halt ends it with an error. */
static rt_err run_until(sim_run *r, int (*pred)(const sim_run *), rt_error *e) {
    while (!pred(r)) {
        if (r->loop.events_run >= r->loop.events_max)
            return RT_FAIL(e, RT_ETIMEOUT, "the run exceeded its bound of %" PRIu64 " events (stuck)",
                           r->loop.events_max);
        int ran = sim_step(r);
        if (ran < 0) return halted(r, e);
        if (ran == 0)
            return RT_FAIL(e, RT_EINTERNAL, "the job stalled: no events left before the goal");
        if (r->async_err.code != RT_OK) {
            *e = r->async_err;
            return e->code;
        }
    }
    return RT_OK;
}

rt_err sim_run_records(sim_run *r, uint64_t n, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    set_ends(r, n);
    return run_until(r, sources_done, e);
}

static int no_pending(const sim_run *r) { return r->n_pend == 0; }

static rt_err quiesce_coordinator(sim_run *r, rt_error *e) {
    sim_coord_stop(r);
    return run_until(r, no_pending, e);
}

static void resume_periodic(sim_run *r) {
    if (!r->periodic_on) sim_coord_start(r);
}

static rt_err snapshot_now(sim_run *r, sim_kind kind, int terminate, const char *target, char *dir_out,
                           size_t cap, rt_error *e) {
    int savepoint = kind == SIM_KIND_CANONICAL || kind == SIM_KIND_NATIVE;
    int64_t id = 0;
    rt_err rc = sim_coord_trigger(r, kind, savepoint, terminate, target, &id, e);
    if (rc == RT_OK) rc = run_until(r, no_pending, e);
    if (rc != RT_OK) return rc;
    assert(r->last_end.id == id); /* the only one: the coordinator was quiesced */
    if (r->last_end.failed) {
        *e = r->last_end.err;
        return e->code;
    }
    snprintf(dir_out, cap, "%s", r->last_end.dir);
    return RT_OK;
}

rt_err sim_run_snapshot(sim_run *r, sim_kind kind, const char *target_dir, char *dir_out,
                        size_t cap, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    /* Keep data flowing while the snapshot is taken, so in-flight data
     * exists exactly as it would in a running job. */
    unbounded_sources(r);
    rt_err rc = quiesce_coordinator(r, e);
    if (rc == RT_OK) rc = snapshot_now(r, kind, 0, target_dir, dir_out, cap, e);
    stop_sources(r);
    resume_periodic(r);
    return rc;
}

/* Nothing in flight and no task still working on a record. */
static int drained(const sim_run *r) {
    if (r->n_pend > 0 || !sim_idle(r)) return 0;
    for (int i = 0; i < r->n_tasks; i++)
        if (r->tasks[i].busy_until > rt_loop_now(&r->loop)) return 0;
    return 1;
}

rt_err sim_run_await_checkpoint(sim_run *r, uint64_t bound_ms, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    resume_periodic(r);
    unbounded_sources(r);
    uint64_t want = r->stats.checkpoints_completed + 1;
    uint64_t deadline = rt_loop_now(&r->loop) + bound_ms;
    rt_err rc = RT_OK;
    int ran;
    while (rc == RT_OK && r->stats.checkpoints_completed < want) {
        if (rt_loop_now(&r->loop) > deadline)
            rc = RT_FAIL(e, RT_ETIMEOUT, "no checkpoint completed within %" PRIu64 " ms", bound_ms);
        else if (r->loop.events_run >= r->loop.events_max)
            rc = RT_FAIL(e, RT_ETIMEOUT, "the run exceeded its bound of %" PRIu64 " events (stuck)", r->loop.events_max);
        else if ((ran = sim_step(r)) < 0)
            rc = halted(r, e);
        else if (ran == 0)
            rc = RT_FAIL(e, RT_ETIMEOUT, "no checkpoint can complete: no events left");
        else if (r->async_err.code != RT_OK) {
            *e = r->async_err;
            rc = e->code;
        }
    }
    stop_sources(r);
    return rc;
}

/* Drains with the periodic checkpoints stopped, and leaves them so. */
static rt_err drain_quiesced(sim_run *r, rt_error *e) {
    rt_err rc = quiesce_coordinator(r, e);
    if (rc != RT_OK) return rc;
    stop_sources(r);
    rc = run_until(r, drained, e);
    if (rc == RT_OK) sim_trace(r, "drained", NULL);
    return rc;
}

rt_err sim_run_drain(sim_run *r, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    rt_err rc = drain_quiesced(r, e);
    resume_periodic(r); /* the job goes on when more records come */
    return rc;
}

/* The checkpoint scheduler stays stopped until the synchronous savepoint
 * ends (SchedulerBase.stopWithSavepoint stops it first): with more than
 * one checkpoint allowed at once, a periodic one would otherwise run
 * beside the savepoint. */
rt_err sim_run_stop_with_savepoint(sim_run *r, sim_kind kind, int drain, const char *target_dir,
                                   char *dir_out, size_t cap, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    rt_err rc = drain ? drain_quiesced(r, e) : quiesce_coordinator(r, e);
    if (rc != RT_OK && drain) resume_periodic(r);
    if (rc != RT_OK) return rc;
    if (!drain) unbounded_sources(r);
    rc = snapshot_now(r, kind, 1, target_dir, dir_out, cap, e);
    stop_sources(r);
    if (rc != RT_OK) {
        /* The savepoint failed: the job keeps running, as Flink does. */
        sim_trace(r, "stop_failed", "\"reason\":\"%s\"", rt_err_name(e->code));
        resume_periodic(r);
        return rc;
    }
    sim_trace(r, "stopped", "\"drain\":%d", drain);
    return RT_OK;
}

/* Aborts the checkpoints in progress, if any, and removes what they wrote. */
static rt_err abort_in_flight(sim_run *r, const char *why, rt_error *e) {
    if (r->n_pend == 0) return RT_OK;
    sim_coord_abort_all(r, RT_EDECLINED, why);
    return run_until(r, no_pending, e);
}

rt_err sim_run_failover(sim_run *r, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    sim_trace(r, "failover", "\"latest\":\"%s\"", r->latest[0] ? "checkpoint" : "none");
    rt_err rc = abort_in_flight(r, "a task failed", e);
    return rc == RT_OK ? sim_restore_into(r, r->latest, SIM_MODE_CLAIM, 0, 1, e) : rc;
}

rt_err sim_run_restore(sim_run *r, const char *dir, sim_restore_mode mode, int allow_non_restored,
                       rt_error *e) {
    if (r->halted) return halted(r, e);
    if (r->started) return RT_FAIL(e, RT_EUSAGE, "restore must come before the job starts");
    return sim_restore_into(r, dir, mode, allow_non_restored, 0, e);
}

rt_err sim_run_verify(sim_run *r, rt_error *e) {
    rt_err rc = sim_run_drain(r, e);
    if (rc == RT_OK) rc = sim_oracle_verify(r, e);
    r->stats.virtual_ms = rt_loop_now(&r->loop);
    return rc;
}

const sim_stats *sim_run_stats(sim_run *r) {
    r->stats.virtual_ms = rt_loop_now(&r->loop);
    return &r->stats;
}

const char *sim_run_job_id(const sim_run *r) { return r->job_id; }
const char *sim_run_latest_checkpoint(const sim_run *r) { return r->latest; }
int64_t sim_run_checkpoint_count(const sim_run *r) { return (int64_t)r->stats.checkpoints_completed; }

int64_t sim_run_newest_pending(const sim_run *r) { return r->n_pend ? r->pend[r->n_pend - 1].id : 0; }

/* The coordinator process dies with everything it held in memory: the
 * pending checkpoint, the retained list, the registry. A new one reads the
 * completed-checkpoint store back and restarts the tasks from the latest
 * checkpoint (a global failover, as Flink's JobManager failover does). */
rt_err sim_run_coordinator_failover(sim_run *r, rt_error *e) {
    if (r->halted) return halted(r, e);
    start(r);
    sim_trace(r, "coordinator_failover", "\"retained\":%d", r->n_done);
    rt_err rc = abort_in_flight(r, "the coordinator failed", e);
    if (rc != RT_OK) return rc;
    /* Everything the coordinator held in memory is gone. */
    for (int i = 0; i < r->n_done; i++) sim_completed_free(&r->done[i]);
    r->n_done = 0;
    sim_coord_forget_subsumed(r);
    r->latest[0] = '\0';
    r->force_full = 0;
    sim_registry_free(&r->registry);
    sim_registry_init(&r->registry);
    sim_bytes_free(&r->inline_pool); /* read back from each retained _metadata */
    rc = sim_coord_load_store(r, e);
    if (rc != RT_OK) return rc;
    sim_trace(r, "store_recovered", "\"retained\":%d,\"latest\":\"%s\"", r->n_done,
              r->n_done ? "checkpoint" : "none");
    return sim_restore_into(r, r->latest, SIM_MODE_CLAIM, 0, 1, e);
}

int sim_run_each_retained_file(const sim_run *r, sim_retained_fn fn, void *ctx) {
    for (int i = 0; i < r->n_done; i++) {
        const sim_completed *c = &r->done[i];
        /* Files only: inlined state lives in the _metadata. */
        for (size_t k = 0; k < c->files.len; k++)
            if (!sim_bytes_get(&r->inline_pool, c->files.items[k]) && fn(ctx, c->id, c->files.items[k])) return 1;
        for (size_t k = 0; k < c->shared.len; k++)
            if (!sim_bytes_get(&r->inline_pool, c->shared.items[k]) && fn(ctx, c->id, c->shared.items[k]))
                return 1;
    }
    return 0;
}

int sim_store_has_dir(rt_store *store, const char *dir) {
    rt_strlist l = {0};
    rt_error e;
    int has = rt_store_list(store, dir, &l, &e) == RT_OK && l.len > 0;
    rt_strlist_free(&l);
    return has;
}

uint64_t sim_run_unseed(const sim_run *r) {
    rt_prng net = r->net, ids = r->ids;
    return rt_prng_next(&net) ^ (rt_prng_next(&ids) * 31) ^ net.draws ^ (ids.draws << 32);
}

/* sim_run_each_keyed's scan callback: adds the subtask's uid and schema. */
typedef struct keyed_walk {
    sim_keyed_fn fn;
    void *ctx;
    const char *uid;
    const sim_state_desc *states;
    int stopped;
} keyed_walk;

static int keyed_one(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    keyed_walk *w = ctx;
    w->stopped = w->fn(w->ctx, w->uid, &w->states[state], kg, key, val, len) != 0;
    return w->stopped;
}

rt_err sim_run_verify_cut(sim_run *r, rt_error *e) { return sim_oracle_verify_cut(r, e); }

rt_err sim_run_each_keyed(sim_run *r, sim_keyed_fn fn, void *ctx, rt_error *e) {
    for (int t = 0; t < r->n_tasks; t++) {
        sim_backend *b = r->tasks[t].backend;
        if (b == NULL) continue;
        keyed_walk w = {fn, ctx, r->job.ops[r->tasks[t].op].uid, b->states, 0};
        for (int s = 0; s < b->n_states && !w.stopped; s++) {
            rt_err rc = b->ops->scan(b, s, keyed_one, &w, e);
            if (rc != RT_OK) return rc;
        }
        if (w.stopped) break;
    }
    return RT_OK;
}

/* The State Processor API's bootstrap of one operator: what
 * SnapshotUtils.snapshot does for each subtask of a StateBootstrapTransformation,
 * with a savepoint's CheckpointOptions (the requested format, sharing
 * nothing, checkpoint id SnapshotUtils.CHECKPOINT_ID = 0) and a stream
 * factory on the new savepoint's directory with the run's memory threshold. */
rt_err sim_run_write_keyed(sim_run *r, const char *uid, sim_kind format, const char *dir, sim_meta_op *out,
                           sim_bytes_pool *pool, rt_error *e) {
    assert(format == SIM_KIND_CANONICAL || format == SIM_KIND_NATIVE);
    if (r->started) return RT_FAIL(e, RT_EUSAGE, "the State Processor API writes from a job that has not run");
    int o = sim_job_find(&r->job, uid);
    if (o < 0 || r->job.ops[o].kind != SIM_OP_KEYED)
        return RT_FAIL(e, RT_EINPUT, "the snapshot has no keyed operator '%s' to rewrite", uid);
    const sim_op *op = &r->job.ops[o];
    memset(out, 0, sizeof *out);
    snprintf(out->uid, sizeof out->uid, "%s", op->uid);
    out->parallelism = op->parallelism;
    out->max_parallelism = op->max_parallelism;
    out->sub = calloc(op->parallelism, sizeof *out->sub);
    if (out->sub == NULL) return RT_FAIL(e, RT_ENOMEM, "spa: out of memory");
    rt_err rc = RT_OK;
    for (uint32_t i = 0; i < op->parallelism && rc == RT_OK; i++) {
        sim_task *t = &r->tasks[r->op_first_task[o] + (int)i];
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s-%u", op->uid, t->idx);
        sim_snap_ctx ctx = {.store = r->cfg.store,
                            .dir = dir,
                            .file_prefix = prefix,
                            .sharing = SIM_SHARE_NO_SHARING,
                            .checkpoint_id = 0,
                            .engine = r->cfg.engine,
                            .trace = r->cfg.trace,
                            .now_ms = rt_loop_now(&r->loop),
                            .memory_threshold = r->cfg.memory_threshold,
                            .inline_pool = pool};
        sim_meta_subtask *st = &out->sub[out->n_sub++];
        st->index = t->idx;
        st->has_keyed = 1;
        rc = format == SIM_KIND_CANONICAL ? sim_canonical_write(t->backend, &ctx, &st->keyed, e)
                                          : t->backend->ops->snapshot_native(t->backend, &ctx, &st->keyed, e);
        r->stats.files_written += ctx.files_written;
        r->stats.bytes_written += ctx.bytes_written;
    }
    if (rc == RT_OK)
        sim_trace(r, "spa_write_operator", "\"uid\":\"%s\",\"format\":\"%s\",\"subtasks\":%d", op->uid,
                  sim_kind_name(format), out->n_sub);
    return rc;
}
