/* sim_coordinator: the CheckpointCoordinator. Triggers periodic checkpoints
 * (one at a time, with a minimum pause and a timeout), collects every
 * task's acknowledgement, finalises a completed checkpoint by writing its
 * _metadata, registers shared files, keeps `retained` checkpoints and
 * subsumes older ones, deleting only what the job owns and nothing still
 * references. Savepoints go through the same path but are never added to
 * the completed-checkpoint store and share nothing. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_canonical.h"
#include "sim_internal.h"

static void on_periodic(rt_loop *loop, void *arg, uint64_t tag);

/* The periodic trigger (CheckpointCoordinator's ScheduledTrigger): one
 * chain at a time. Starting it again begins a new generation; a firing of
 * an older generation ends that chain, as a cancelled ScheduledFuture would,
 * so the configured interval is what runs however often the job was
 * quiesced and resumed. */
void sim_coord_start(sim_run *r) {
    r->periodic_on = 1;
    r->periodic_gen++;
    if (r->cfg.interval_ms) rt_loop_at(&r->loop, r->cfg.interval_ms, on_periodic, r, r->periodic_gen);
}

void sim_coord_stop(sim_run *r) {
    r->periodic_on = 0;
    r->periodic_gen++;
}

/* Queued periodic triggers, live or cancelled-but-not-yet-fired (tests). */
int sim_coord_periodic_chains(const sim_run *r) {
    int n = 0;
    for (size_t i = 0; i < r->loop.len; i++) n += r->loop.heap[i].fn == on_periodic;
    return n;
}

void sim_completed_free(sim_completed *c) {
    rt_strlist_free(&c->files);
    rt_strlist_free(&c->shared);
    free(c->shared_refs);
    memset(c, 0, sizeof *c);
}

static void on_timeout(rt_loop *loop, void *arg, uint64_t tag) {
    (void)loop;
    sim_run *r = arg;
    if (!r->pend.active || r->pend.id != (int64_t)tag || r->pend.failed) return;
    r->pend.failed = 1;
    RT_FAIL(&r->pend.err, RT_ETIMEOUT, "checkpoint %" PRId64 " expired before completing", r->pend.id);
    sim_coord_task_done(r, NULL);
}

static void on_periodic(rt_loop *loop, void *arg, uint64_t tag) {
    sim_run *r = arg;
    if (!r->periodic_on || tag != r->periodic_gen) return; /* a cancelled chain */
    uint64_t now = rt_loop_now(loop);
    if (!r->pend.active && now >= r->last_complete_at + r->cfg.min_pause_ms) {
        rt_error e;
        rt_error_clear(&e);
        sim_kind k = r->cfg.unaligned ? SIM_KIND_UNALIGNED : SIM_KIND_ALIGNED;
        if (sim_coord_trigger(r, k, 0, NULL, &e) != RT_OK) sim_fail_async(r, &e);
    }
    rt_loop_at(loop, r->cfg.interval_ms, on_periodic, r, tag);
}

/* A fresh directory name: an existing savepoint is never written into. */
static void savepoint_dir(sim_run *r, const char *target, char *out, size_t cap) {
    for (int tries = 0; tries < 64; tries++) {
        uint64_t x = rt_prng_next(&r->ids) & 0xffffffffffffULL;
        if (target && target[0])
            snprintf(out, cap, "%s/savepoint-%.6s-%012" PRIx64, target, r->job_id, x);
        else
            snprintf(out, cap, "savepoint-%.6s-%012" PRIx64, r->job_id, x);
        if (!sim_store_has_dir(r->cfg.store, out)) return;
    }
}

rt_err sim_coord_trigger(sim_run *r, sim_kind kind, int savepoint, const char *target_dir,
                         rt_error *e) {
    if (r->pend.active) return RT_FAIL(e, RT_EDECLINED, "a checkpoint is already in progress");
    sim_pending *p = &r->pend;
    memset(p, 0, sizeof *p);
    p->active = 1;
    p->id = r->next_cp++;
    p->kind = kind;
    p->savepoint = savepoint;
    p->unaligned = kind == SIM_KIND_UNALIGNED;
    p->canonical = kind == SIM_KIND_CANONICAL;
    p->triggered_at = rt_loop_now(&r->loop);
    if (savepoint) {
        p->sharing = SIM_SHARE_NO_SHARING;
        savepoint_dir(r, target_dir, p->dir, sizeof p->dir);
    } else {
        p->sharing = r->force_full ? SIM_SHARE_FORWARD : SIM_SHARE_FORWARD_BACKWARD;
        snprintf(p->dir, sizeof p->dir, "%s/chk-%" PRId64, r->job_id, p->id);
    }
    sim_trace(r, "trigger", "\"chk\":%" PRId64 ",\"kind\":\"%s\",\"sharing\":\"%s\"", p->id,
              sim_kind_name(kind), sim_sharing_name(p->sharing));
    if (r->cfg.timeout_ms) rt_loop_at(&r->loop, r->cfg.timeout_ms, on_timeout, r, (uint64_t)p->id);
    for (int i = 0; i < r->n_tasks; i++)
        if (r->job.ops[r->tasks[i].op].kind == SIM_OP_SOURCE)
            sim_source_trigger(r, &r->tasks[i], p->id, p->unaligned);
    return RT_OK;
}

/* sim_snap_ctx.confirmed: the backend asks the registry through this. */
static int registry_confirmed(const void *registry, const char *path) {
    return sim_registry_is_confirmed(registry, path);
}

/* The registry-confirms-nothing mutant's answer. */
static int confirmed_never(const void *registry, const char *path) {
    (void)registry;
    (void)path;
    return 0;
}

static void keyed_snapshot(sim_run *r, sim_task *t) {
    sim_pending *p = &r->pend;
    const sim_op *op = &r->job.ops[t->op];
    char shared[SIM_PATH_MAX], prefix[64];
    snprintf(shared, sizeof shared, "%s/shared", r->job_id);
    snprintf(prefix, sizeof prefix, "%s-%u", op->uid, t->idx);
    sim_snap_ctx ctx = {.store = r->cfg.store,
                        .dir = p->dir,
                        .shared_dir = p->savepoint ? NULL : shared,
                        .file_prefix = prefix,
                        .sharing = p->sharing,
                        .checkpoint_id = p->id,
                        .engine = r->cfg.engine,
                        .confirmed = r->cfg.mutant == SIM_MUT_CONFIRM_NOTHING ? confirmed_never : registry_confirmed,
                        .registry = &r->registry,
                        .trace = r->cfg.trace,
                        .now_ms = rt_loop_now(&r->loop),
                        .memory_threshold = r->cfg.memory_threshold,
                        .inline_pool = &r->inline_pool};
    rt_error e;
    rt_error_clear(&e);
    rt_err rc = p->canonical ? sim_canonical_write(t->backend, &ctx, &t->snap.keyed, &e)
                             : t->backend->ops->snapshot_native(t->backend, &ctx, &t->snap.keyed, &e);
    r->stats.files_written += ctx.files_written;
    r->stats.bytes_written += ctx.bytes_written;
    if (rc == RT_OK) {
        t->snap.has_keyed = 1;
        return;
    }
    t->snap.failed = 1;
    if (!p->failed) {
        p->failed = 1;
        p->err = e;
        rt_error_prefix(&p->err, "checkpoint %" PRId64 ", task %s#%u: ", p->id, op->uid, t->idx);
    }
}

void sim_coord_task_snapshot(sim_run *r, sim_task *t) {
    assert(!t->snap.taken);
    t->snap.taken = 1;
    if (!r->pend.active || r->pend.id != t->cp) return; /* a stale barrier */
    if (t->backend) keyed_snapshot(r, t);
    t->snap.sink_count = t->sink_count;
    t->snap.sink_hash = t->sink_hash;
    if (r->job.ops[t->op].kind == SIM_OP_SOURCE) {
        memcpy(t->snap.offsets, r->offset, sizeof t->snap.offsets);
        t->snap.offsets_valid = 1;
    }
}

/* ---- channel state files ---- */

static void on_ack(rt_loop *loop, void *arg, uint64_t tag);

void sim_coord_task_done(sim_run *r, sim_task *t) {
    sim_pending *p = &r->pend;
    if (!p->active) return;
    if (t != NULL) {
        if (t->cp != p->id) return;
        uint64_t delay = 1;
        if (t->unaligned && !p->failed) {
            rt_error e;
            rt_error_clear(&e);
            if (sim_cs_write(r, t, &e) != RT_OK) {
                p->failed = 1;
                p->err = e;
            }
        }
        /* Slow storage calls since the last acknowledgement delay this one. */
        const rt_store_stats *st = rt_store_get_stats(r->cfg.store);
        delay += st->slow_ms - r->slow_ms_seen;
        r->slow_ms_seen = st->slow_ms;
        rt_loop_at(&r->loop, delay, on_ack, r, (uint64_t)t->id);
        return;
    }
    /* Failure or timeout: abort right away. */
    rt_loop_at(&r->loop, 0, on_ack, r, UINT64_MAX);
}

static rt_err finalize(sim_run *r, rt_error *e);
static void abort_pending(sim_run *r);

static void on_ack(rt_loop *loop, void *arg, uint64_t tag) {
    (void)loop;
    sim_run *r = arg;
    sim_pending *p = &r->pend;
    if (!p->active) return;
    if (tag != UINT64_MAX) {
        sim_task *t = &r->tasks[tag];
        if (t->cp != p->id || t->snap.acked) return;
        t->snap.acked = 1;
        p->acks++;
        if (p->acks < r->n_tasks && !p->failed) return;
    }
    if (p->failed) {
        abort_pending(r);
        return;
    }
    rt_error e;
    rt_error_clear(&e);
    if (finalize(r, &e) != RT_OK) {
        p->failed = 1;
        p->err = e;
        abort_pending(r);
    }
}

/* The job's own id is drawn until it names a fresh directory, so it
 * depends on what the storage already holds: traces say "job/" instead,
 * and a replay into a used storage gives the same digest. */
static void delete_quietly(sim_run *r, const char *path) {
    /* Inlined state is gone with the last _metadata that held it
     * (ByteStreamStateHandle.discardState deletes nothing). */
    if (sim_bytes_drop(&r->inline_pool, path)) return;
    rt_error e;
    size_t n = strlen(r->job_id);
    int own = strncmp(path, r->job_id, n) == 0 && path[n] == '/';
    if (rt_store_delete(r->cfg.store, path, &e) == RT_OK)
        sim_trace(r, "delete", "\"path\":\"%s%s\"", own ? "job/" : "", own ? path + n + 1 : path);
}

static void abort_pending(sim_run *r) {
    sim_pending *p = &r->pend;
    rt_error e;
    sim_trace(r, "abort", "\"chk\":%" PRId64 ",\"reason\":\"%s\"", p->id, rt_err_name(p->err.code));
    /* Newly uploaded shared files of this attempt are nobody's: remove them.
     * Reused ones are registered (and confirmed) and stay. */
    for (int i = 0; i < r->n_tasks; i++) {
        sim_task *t = &r->tasks[i];
        if (t->cp != p->id) continue;
        for (int f = 0; f < t->snap.keyed.n_files; f++) {
            const sim_file_ref *fr = &t->snap.keyed.files[f];
            if (fr->shared && sim_registry_find(&r->registry, fr->path) == NULL)
                delete_quietly(r, fr->path);
        }
        if (t->backend) t->backend->ops->notify_abort(t->backend, p->id);
    }
    rt_store_delete_tree(r->cfg.store, p->dir, &e);
    sim_bytes_drop_under(&r->inline_pool, p->dir);
    r->stats.checkpoints_failed++;
    p->active = 0;
    p->done = 1;
    r->last_complete_at = rt_loop_now(&r->loop);
}

static void remove_if_empty(sim_run *r, const char *dir) {
    rt_strlist left = {0};
    rt_error e;
    if (rt_store_list(r->cfg.store, dir, &left, &e) == RT_OK && left.len == 0)
        rt_store_delete_tree(r->cfg.store, dir, &e);
    rt_strlist_free(&left);
}

/* A subsumed checkpoint's discard (CompletedCheckpoint.discardOnSubsume):
 * its private files and its directory. Its shared files go when the
 * registry says nothing uses them any more. */
static void discard(sim_run *r, sim_completed *c) {
    for (size_t i = 0; i < c->files.len; i++) delete_quietly(r, c->files.items[i]);
    for (size_t i = 0; r->cfg.mutant == SIM_MUT_DISCARD_SHARED && i < c->shared.len; i++)
        delete_quietly(r, c->shared.items[i]);
    remove_if_empty(r, c->dir);
    sim_trace(r, "discard", "\"chk\":%" PRId64, c->id);
}

static int park_subsumed(sim_run *r, sim_completed *c) {
    if (r->n_subsumed == r->cap_subsumed) {
        int cap = r->cap_subsumed ? r->cap_subsumed * 2 : 4;
        sim_completed *ns = realloc(r->subsumed, (size_t)cap * sizeof *ns);
        if (ns == NULL) return 1;
        r->subsumed = ns;
        r->cap_subsumed = cap;
    }
    r->subsumed[r->n_subsumed++] = *c;
    memset(c, 0, sizeof *c);
    return 0;
}

/* CheckpointsCleaner.cleanSubsumedCheckpoints: every parked checkpoint the
 * registry no longer holds in use is discarded now; a restored NO_SHARING
 * snapshot (a claimed native savepoint) keeps its whole directory while
 * later checkpoints still use the shared files inside it. */
static void clean_subsumed(sim_run *r) {
    int w = 0;
    for (int i = 0; i < r->n_subsumed; i++) {
        sim_completed *c = &r->subsumed[i];
        if (sim_registry_in_use(&r->registry, c->id)) {
            r->subsumed[w++] = *c;
            continue;
        }
        discard(r, c);
        sim_completed_free(c);
    }
    r->n_subsumed = w;
}

void sim_coord_forget_subsumed(sim_run *r) {
    for (int i = 0; i < r->n_subsumed; i++) sim_completed_free(&r->subsumed[i]);
    free(r->subsumed);
    r->subsumed = NULL;
    r->n_subsumed = r->cap_subsumed = 0;
}

/* Drops the oldest retained checkpoints beyond `retained`, as Flink does:
 * first out of the (persisted) store, then the registry forgets (and
 * deletes) the shared files nothing retained uses, then the subsumed
 * checkpoints are discarded unless still in use. If the store cannot be
 * written, nothing is deleted: a leak, never a store naming deleted files
 * for the next coordinator. */
static void subsume(sim_run *r) {
    int n_old = r->n_done > r->cfg.retained ? r->n_done - r->cfg.retained : 0;
    if (n_old == 0) return; /* the store was written with the new checkpoint */
    sim_completed *old = calloc((size_t)n_old, sizeof *old);
    if (old == NULL) return; /* keep them all: retry on the next completion */
    memcpy(old, r->done, (size_t)n_old * sizeof *old);
    memmove(&r->done[0], &r->done[n_old], (size_t)(r->n_done - n_old) * sizeof r->done[0]);
    r->n_done -= n_old;
    rt_error e;
    int persisted = sim_coord_save_store(r, &e) == RT_OK;
    if (!persisted) sim_trace(r, "store_write_failed", "\"error\":\"%s\"", rt_err_name(e.code));
    for (int k = 0; k < n_old; k++) {
        sim_trace(r, "subsume", "\"chk\":%" PRId64 ",\"owned\":%d", old[k].id, old[k].owned);
        /* Only what the job owns is ever discarded. */
        if (!(persisted && old[k].owned) || park_subsumed(r, &old[k]) != 0) sim_completed_free(&old[k]);
    }
    free(old);
    rt_strlist gone = {0};
    int64_t lowest = r->n_done ? r->done[0].id : r->next_cp;
    if (sim_registry_unregister_unused(&r->registry, lowest, &gone, &e) == RT_OK && persisted)
        for (size_t i = 0; i < gone.len; i++) delete_quietly(r, gone.items[i]);
    rt_strlist_free(&gone);
    if (persisted) clean_subsumed(r);
}

rt_err sim_coord_add_completed(sim_run *r, sim_completed *c, rt_error *e) {
    if (r->n_done == r->cap_done) {
        int cap = r->cap_done ? r->cap_done * 2 : 8;
        sim_completed *nd = realloc(r->done, (size_t)cap * sizeof *nd);
        if (nd == NULL) return RT_FAIL(e, RT_ENOMEM, "completed store: out of memory");
        r->done = nd;
        r->cap_done = cap;
    }
    r->done[r->n_done++] = *c;
    memset(c, 0, sizeof *c);
    snprintf(r->latest, sizeof r->latest, "%s", r->done[r->n_done - 1].dir);
    return RT_OK;
}

/* registerAll, then checkpointCompleted (the store lists it now). */
static rt_err register_shared(sim_run *r, const sim_completed *c, rt_error *e) {
    rt_err rc = RT_OK;
    for (size_t i = 0; i < c->shared.len && rc == RT_OK; i++)
        rc = sim_registry_register_ref(&r->registry, &c->shared_refs[i], c->id, NULL, e);
    if (rc == RT_OK) sim_registry_confirm(&r->registry, c->id);
    return rc;
}

/* A checkpoint is complete once its _metadata is written and the store
 * that lists it is persisted; only then are its shared files registered
 * and older checkpoints subsumed. Any failure before that aborts it. */
static rt_err finalize(sim_run *r, rt_error *e) {
    sim_pending *p = &r->pend;
    sim_completed c;
    memset(&c, 0, sizeof c);
    c.id = p->id;
    c.savepoint = p->savepoint;
    c.owned = !p->savepoint;
    snprintf(c.dir, sizeof c.dir, "%s", p->dir);
    rt_err rc = sim_metadata_write(r, p, &c, e);
    if (rc == RT_OK && !p->savepoint) {
        rc = sim_coord_add_completed(r, &c, e);
        if (rc == RT_OK && (rc = sim_coord_save_store(r, e)) != RT_OK) {
            sim_completed_free(&r->done[--r->n_done]); /* never listed, never completed */
            snprintf(r->latest, sizeof r->latest, "%s", r->n_done ? r->done[r->n_done - 1].dir : "");
        }
        if (rc == RT_OK) rc = register_shared(r, &r->done[r->n_done - 1], e);
    }
    if (rc != RT_OK) {
        sim_completed_free(&c);
        return rc;
    }
    sim_trace(r, "complete", "\"chk\":%" PRId64 ",\"kind\":\"%s\"", p->id, sim_kind_name(p->kind));
    p->active = 0;
    p->done = 1;
    r->last_complete_at = rt_loop_now(&r->loop);
    r->stats.checkpoints_completed++;
    if (p->savepoint) {
        /* Its _metadata holds its inlined state now; nothing reuses it. */
        sim_bytes_drop_under(&r->inline_pool, p->dir);
        sim_completed_free(&c);
    } else {
        r->force_full = 0;
        for (int i = 0; i < r->n_tasks; i++)
            if (r->tasks[i].backend) r->tasks[i].backend->ops->notify_complete(r->tasks[i].backend, p->id);
        subsume(r);
    }
    if (r->cfg.on_completed) r->cfg.on_completed(r->cfg.observer, r, p->id, p->dir, p->savepoint);
    return RT_OK;
}

rt_err sim_coord_wait(sim_run *r, rt_error *e) {
    while (r->pend.active) {
        if (rt_loop_run_until(&r->loop, rt_loop_now(&r->loop) + 1) != 0)
            return RT_FAIL(e, RT_ETIMEOUT, "the run exceeded its event budget (stuck)");
        if (r->async_err.code != RT_OK) {
            *e = r->async_err;
            return e->code;
        }
        if (rt_loop_pending(&r->loop) == 0 && r->pend.active)
            return RT_FAIL(e, RT_EINTERNAL, "checkpoint %" PRId64 " can never complete: no events left",
                           r->pend.id);
    }
    return RT_OK;
}
