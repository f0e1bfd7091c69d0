/* sim_coordinator: the CheckpointCoordinator. Triggers periodic checkpoints
 * (up to max_concurrent at once, as CheckpointRequestDecider allows, with a
 * minimum pause after the last completion and a timeout), collects every
 * task's acknowledgement and registers its shared files as it arrives,
 * finalises a completed checkpoint by writing its _metadata, keeps
 * `retained` checkpoints and subsumes older ones, deleting only what the
 * job owns and nothing still references. Savepoints go through the same
 * path but are never added to the completed-checkpoint store and share
 * nothing. */
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
    free(c->held);
    memset(c, 0, sizeof *c);
}

sim_pending *sim_coord_pending(sim_run *r, int64_t id) {
    for (int i = 0; i < r->n_pend; i++)
        if (r->pend[i].id == id) return &r->pend[i];
    return NULL;
}

int sim_coord_max_concurrent(const sim_run *r) { return r->cfg.max_concurrent > 1 ? r->cfg.max_concurrent : 1; }

/* The acknowledgement events' tag: the checkpoint and the task (or
 * ABORT_TASK: abort it now). */
#define ABORT_TASK 0xffffu
static uint64_t ack_tag(int64_t id, unsigned task) { return ((uint64_t)id << 16) | task; }

static void on_ack(rt_loop *loop, void *arg, uint64_t tag);

void sim_coord_abort_soon(sim_run *r, sim_pending *p) {
    assert(p->active);
    assert(p->failed);
    rt_loop_at(&r->loop, 0, on_ack, r, ack_tag(p->id, ABORT_TASK));
}

static void on_timeout(rt_loop *loop, void *arg, uint64_t tag) {
    (void)loop;
    sim_run *r = arg;
    sim_pending *p = sim_coord_pending(r, (int64_t)tag);
    if (p == NULL || p->failed) return;
    p->failed = 1;
    RT_FAIL(&p->err, RT_ETIMEOUT, "checkpoint %" PRId64 " expired before completing", p->id);
    sim_coord_abort_soon(r, p);
}

/* CheckpointRequestDecider: a periodic request runs while fewer than
 * maxConcurrentCheckpointAttempts are in progress and the minimum pause
 * since the last completion has passed. */
static int may_trigger(const sim_run *r, uint64_t now) {
    return r->n_pend < sim_coord_max_concurrent(r) && now >= r->last_complete_at + r->cfg.min_pause_ms;
}

static void on_periodic(rt_loop *loop, void *arg, uint64_t tag) {
    sim_run *r = arg;
    if (!r->periodic_on || tag != r->periodic_gen) return; /* a cancelled chain */
    uint64_t now = rt_loop_now(loop);
    if (may_trigger(r, now)) {
        rt_error e;
        rt_error_clear(&e);
        sim_kind k = r->cfg.unaligned ? SIM_KIND_UNALIGNED : SIM_KIND_ALIGNED;
        if (sim_coord_trigger(r, k, 0, 0, NULL, NULL, &e) != RT_OK) sim_fail_async(r, &e);
    }
    rt_loop_at(loop, r->cfg.interval_ms, on_periodic, r, tag);
}

/* A fresh directory name: an existing savepoint is never written into;
 * 64 names taken in a row is an error, never a reuse. */
static rt_err savepoint_dir(sim_run *r, const char *target, char *out, size_t cap, rt_error *e) {
    for (int tries = 0; tries < 64; tries++) {
        uint64_t x = rt_prng_next(&r->ids) & 0xffffffffffffULL;
        if (target && target[0])
            snprintf(out, cap, "%s/savepoint-%.6s-%012" PRIx64, target, r->job_id, x);
        else
            snprintf(out, cap, "savepoint-%.6s-%012" PRIx64, r->job_id, x);
        if (!sim_store_has_dir(r->cfg.store, out)) return RT_OK;
    }
    return RT_FAIL(e, RT_EINTERNAL, "no free savepoint directory name under '%s' after 64 tries",
                   target && target[0] ? target : ".");
}

/* CheckpointRequestDecider: room for one more checkpoint in progress. */
static rt_err pending_room(const sim_run *r, rt_error *e) {
    if (r->n_pend >= sim_coord_max_concurrent(r) || r->n_pend == SIM_MAX_PENDING)
        return RT_FAIL(e, RT_EDECLINED, "a checkpoint is already in progress");
    return RT_OK;
}

/* A new pending checkpoint in pendingCheckpoints, which stays ordered by
 * id (ids only grow, so it goes last). */
static sim_pending *add_pending(sim_run *r, rt_error *e) {
    if (pending_room(r, e) != RT_OK) return NULL;
    sim_task_snap *snaps = calloc((size_t)r->n_tasks + 1, sizeof *snaps);
    if (snaps == NULL) {
        RT_FAIL(e, RT_ENOMEM, "coordinator: out of memory");
        return NULL;
    }
    sim_pending *p = &r->pend[r->n_pend++];
    memset(p, 0, sizeof *p);
    p->snaps = snaps;
    p->active = 1;
    p->id = r->next_cp++;
    assert(r->n_pend == 1 || r->pend[r->n_pend - 2].id < p->id);
    return p;
}

rt_err sim_coord_trigger(sim_run *r, sim_kind kind, int savepoint, int terminate, const char *target_dir,
                         int64_t *id_out, rt_error *e) {
    /* A savepoint's directory is chosen before anything is in progress:
     * without a free name nothing was triggered. */
    char sp_dir[SIM_PATH_MAX];
    rt_err rc = pending_room(r, e);
    if (rc == RT_OK && savepoint) rc = savepoint_dir(r, target_dir, sp_dir, sizeof sp_dir, e);
    if (rc != RT_OK) return rc;
    sim_pending *p = add_pending(r, e);
    if (p == NULL) return e->code;
    p->kind = kind;
    p->savepoint = savepoint;
    p->terminate = terminate;
    p->unaligned = kind == SIM_KIND_UNALIGNED;
    p->canonical = kind == SIM_KIND_CANONICAL;
    p->triggered_at = rt_loop_now(&r->loop);
    if (savepoint) {
        p->sharing = SIM_SHARE_NO_SHARING;
        snprintf(p->dir, sizeof p->dir, "%s", sp_dir);
    } else {
        p->sharing = r->force_full ? SIM_SHARE_FORWARD : SIM_SHARE_FORWARD_BACKWARD;
        snprintf(p->dir, sizeof p->dir, "%s/chk-%" PRId64, r->job_id, p->id);
    }
    if (id_out) *id_out = p->id;
    int64_t id = p->id;
    int unaligned = p->unaligned;
    sim_trace(r, "trigger", "\"chk\":%" PRId64 ",\"kind\":\"%s\",\"sharing\":\"%s\"", id, sim_kind_name(kind),
              sim_sharing_name(p->sharing));
    if (r->cfg.timeout_ms) rt_loop_at(&r->loop, r->cfg.timeout_ms, on_timeout, r, (uint64_t)id);
    /* The sources snapshot right away; p may move in the array meanwhile
     * (a source's acknowledgement cannot end it: that runs as an event). */
    for (int i = 0; i < r->n_tasks; i++)
        if (r->job.ops[r->tasks[i].op].kind == SIM_OP_SOURCE) sim_source_trigger(r, &r->tasks[i], id, unaligned);
    return RT_OK;
}

static void keyed_snapshot(sim_run *r, sim_pending *p, sim_task *t) {
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
    p->sst_bytes_uploaded += ctx.sst_bytes_uploaded;
    p->sst_bytes_new += ctx.sst_bytes_new;
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
    sim_pending *p = sim_coord_pending(r, t->cp);
    if (p == NULL) return; /* a stale barrier */
    if (t->backend) keyed_snapshot(r, p, t);
    t->snap.sink_count = t->sink_count;
    t->snap.sink_hash = t->sink_hash;
    if (r->job.ops[t->op].kind == SIM_OP_SOURCE) {
        memcpy(t->snap.offsets, r->offset, sizeof t->snap.offsets);
        t->snap.offsets_valid = 1;
    }
}

/* ---- acknowledgements ---- */

/* The task is done with its part: channel state (unaligned) is written,
 * the part moves into the pending checkpoint, and its acknowledgement
 * arrives after the slow storage calls it waited on. */
void sim_coord_task_done(sim_run *r, sim_task *t) {
    sim_pending *p = sim_coord_pending(r, t->cp);
    if (p == NULL || p->snaps[t->id].taken) return; /* gone, or its part is in already */
    uint64_t delay = 1;
    if (t->unaligned && !p->failed) {
        rt_error e;
        rt_error_clear(&e);
        if (sim_cs_write(r, t, p->dir, &e) != RT_OK) {
            p->failed = 1;
            p->err = e;
        }
    }
    /* Slow storage calls since the last acknowledgement delay this one. */
    const rt_store_stats *st = rt_store_get_stats(r->cfg.store);
    delay += st->slow_ms - r->slow_ms_seen;
    r->slow_ms_seen = st->slow_ms;
    sim_task_snap *s = &p->snaps[t->id];
    sim_task_snap_reset(s);
    *s = t->snap; /* the task's part, moved */
    memset(&t->snap, 0, sizeof t->snap);
    t->snap.cp = t->cp;
    t->snap.taken = 1;
    rt_loop_at(&r->loop, delay, on_ack, r, ack_tag(p->id, (unsigned)t->id));
}

static rt_err finalize(sim_run *r, sim_pending *p, rt_error *e);
static void abort_pending(sim_run *r, sim_pending *p);
static void delete_quietly(sim_run *r, const char *path);
static void deleting(sim_run *r, int64_t after, const char *cause);

/* IncrementalRemoteKeyedStateHandle's SharedStateRegistryKey for a shared
 * file of subtask sub of operator uid: its PhysicalStateHandleID, the
 * path (FLINK-29913's fix). Before the fix it was made of the backend's
 * identity and the file's local name, so two checkpoints in progress at
 * once that both uploaded one SST met under one key. */
void sim_coord_shared_key(const sim_run *r, const char *uid, uint32_t sub, const sim_file_ref *f, char *out,
                          size_t cap) {
    if (r->cfg.mutant == SIM_MUT_FLINK_29913 && f->local_name[0])
        snprintf(out, cap, "%s-%u-%s", uid, sub, f->local_name);
    else
        snprintf(out, cap, "%s", f->path);
}

/* CheckpointCoordinator.receiveAcknowledgeMessage: a task's shared state
 * is registered when its acknowledgement arrives (never a savepoint's),
 * each handle becoming the one the registry holds (since FLINK-24611). */
static rt_err register_ack(sim_run *r, sim_pending *p, const sim_task *t, rt_error *e) {
    if (p->savepoint) return RT_OK;
    sim_task_snap *s = &p->snaps[t->id];
    const char *uid = r->job.ops[t->op].uid;
    for (int i = 0; i < s->keyed.n_files; i++) {
        sim_file_ref *f = &s->keyed.files[i];
        if (!f->shared) continue;
        char key[SIM_PATH_MAX + 96], discard[SIM_PATH_MAX];
        sim_coord_shared_key(r, uid, t->idx, f, key, sizeof key);
        rt_err rc = sim_registry_register_ref(&r->registry, key, f, p->id, NULL, discard, sizeof discard, e);
        if (rc != RT_OK) return rc;
        if (discard[0]) {
            deleting(r, p->id, "replaced");
            delete_quietly(r, discard);
        }
    }
    return RT_OK;
}

/* One task's acknowledgement (PendingCheckpoint.acknowledgeTask). */
static void acknowledge(sim_run *r, sim_pending *p, unsigned task) {
    if (task >= (unsigned)r->n_tasks) return;
    sim_task_snap *s = &p->snaps[task];
    if (!s->taken || s->acked) return;
    s->acked = 1;
    p->acks++;
    r->tasks[task].last_acked = p->id;
    assert(p->acks <= r->n_tasks);
    if (p->failed) return;
    rt_error e;
    rt_error_clear(&e);
    if (register_ack(r, p, &r->tasks[task], &e) != RT_OK) {
        p->failed = 1;
        p->err = e;
        return;
    }
    s->registered = !p->savepoint;
}

static void on_ack(rt_loop *loop, void *arg, uint64_t tag) {
    (void)loop;
    sim_run *r = arg;
    sim_pending *p = sim_coord_pending(r, (int64_t)(tag >> 16));
    if (p == NULL) return;
    unsigned task = (unsigned)(tag & 0xffffu);
    if (task != ABORT_TASK) {
        acknowledge(r, p, task);
        if (p->acks < r->n_tasks && !p->failed) return;
    }
    if (p->failed) {
        abort_pending(r, p);
        return;
    }
    rt_error e;
    rt_error_clear(&e);
    int64_t id = p->id;
    if (finalize(r, p, &e) != RT_OK && (p = sim_coord_pending(r, id)) != NULL) {
        p->failed = 1;
        p->err = e;
        abort_pending(r, p);
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
    if (rt_store_delete(r->cfg.store, path, &e) != RT_OK) return;
    sim_trace(r, "delete", "\"path\":\"%s%s\"", own ? "job/" : "", own ? path + n + 1 : path);
    if (r->cfg.on_delete == NULL) return;
    sim_deletion d = {path, rt_loop_now(&r->loop), r->deleting_after,
                      r->deleting_cause ? r->deleting_cause : "subsumed"};
    r->cfg.on_delete(r->cfg.on_delete_ctx, &d);
}

/* What the deletions from now on are for (see sim_deletion). */
static void deleting(sim_run *r, int64_t after, const char *cause) {
    r->deleting_after = after;
    r->deleting_cause = cause;
}

/* The part of task i in checkpoint p: acknowledged (or on its way), or
 * still being taken; NULL if the task has none. */
static const sim_task_snap *part_of(const sim_run *r, const sim_pending *p, int i) {
    if (p->snaps[i].taken) return &p->snaps[i];
    return r->tasks[i].cp == p->id ? &r->tasks[i].snap : NULL;
}

/* pendingCheckpoints.remove: what the caller that triggered it reads. */
static void end_pending(sim_run *r, sim_pending *p) {
    r->last_end.id = p->id;
    r->last_end.failed = p->failed;
    r->last_end.err = p->err;
    snprintf(r->last_end.dir, sizeof r->last_end.dir, "%s", p->dir);
    for (int i = 0; i < r->n_tasks; i++) sim_task_snap_reset(&p->snaps[i]);
    free(p->snaps);
    int at = (int)(p - r->pend);
    assert(at >= 0);
    assert(at < r->n_pend);
    memmove(&r->pend[at], &r->pend[at + 1], (size_t)(r->n_pend - at - 1) * sizeof r->pend[0]);
    r->n_pend--;
    memset(&r->pend[r->n_pend], 0, sizeof r->pend[0]);
}

/* PendingCheckpoint.abort. On the coordinator, the shared state of an
 * acknowledged part is registered and left to the registry, discarded on
 * subsumption once no retained checkpoint uses it (IncrementalRemoteKeyed-
 * StateHandle.discardState: "on JM, shared state is removed on
 * subsumption", FLINK-24611). A part never registered (not acknowledged,
 * or a savepoint's) the task's own cleanup removes: what this attempt
 * uploaded (AsyncCheckpointRunnable's cleanup, which asks no registry).
 * FLINK-24611's mutant discards the attempt's shared state with it: files
 * a reused handle names belong to completed checkpoints. */
static void abort_pending(sim_run *r, sim_pending *p) {
    rt_error e;
    sim_trace(r, "abort", "\"chk\":%" PRId64 ",\"reason\":\"%s\"", p->id, rt_err_name(p->err.code));
    int discard_shared = r->cfg.mutant == SIM_MUT_FLINK_24611;
    deleting(r, -1, "aborted");
    for (int i = 0; i < r->n_tasks; i++) {
        const sim_task_snap *s = part_of(r, p, i);
        if (s == NULL) continue;
        for (int f = 0; f < s->keyed.n_files; f++) {
            const sim_file_ref *fr = &s->keyed.files[f];
            int own = !s->registered && fr->created_by == p->id;
            if (fr->shared && (discard_shared || own)) delete_quietly(r, fr->path);
        }
        sim_task *t = &r->tasks[i];
        if (t->backend) t->backend->ops->notify_abort(t->backend, p->id);
    }
    rt_store_delete_tree(r->cfg.store, p->dir, &e);
    sim_bytes_drop_under(&r->inline_pool, p->dir);
    r->stats.checkpoints_failed++;
    r->last_complete_at = rt_loop_now(&r->loop);
    end_pending(r, p);
}

/* Aborts every checkpoint in progress (a failover); the aborts run as
 * events, as a decline would. */
void sim_coord_abort_all(sim_run *r, rt_err code, const char *why) {
    for (int i = 0; i < r->n_pend; i++) {
        sim_pending *p = &r->pend[i];
        p->failed = 1; /* whatever failed it first, this is why it ends now */
        RT_FAIL(&p->err, code, "checkpoint %" PRId64 " aborted: %s", p->id, why);
        sim_coord_abort_soon(r, p);
    }
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
    deleting(r, r->deleting_after, "subsumed");
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

/* CheckpointSubsumeHelper.canSubsume: never the latest; a savepoint
 * always (its state is not discarded); a checkpoint unless it is the latest
 * one that is not a savepoint, which later incremental checkpoints may
 * still reference (FLINK-21351), unless the latest is a stop-with-savepoint
 * and no checkpoint follows. FLINK-21351's mutant subsumes the oldest. */
static int can_subsume(const sim_run *r, int i, int latest_checkpoint) {
    const sim_completed *c = &r->done[i], *latest = &r->done[r->n_done - 1];
    if (i == r->n_done - 1) return 0;
    if (c->savepoint || latest->synchronous || r->cfg.mutant == SIM_MUT_FLINK_21351) return 1;
    return latest_checkpoint >= 0 && latest_checkpoint != i;
}

/* Which retained checkpoints go (CheckpointSubsumeHelper.subsume): from
 * the oldest, while more than `retained` are kept, every one that may be
 * subsumed (savepoints count: with them in the store, an engine before
 * 1.15). Moves them into old (cap n_done) and returns how many. */
static int pick_subsumed(sim_run *r, sim_completed *old) {
    int latest_checkpoint = -1;
    for (int i = r->n_done - 1; i >= 0 && latest_checkpoint < 0; i--)
        if (!r->done[i].savepoint) latest_checkpoint = i;
    int n_old = 0, w = 0, kept = r->n_done;
    for (int i = 0; i < r->n_done; i++) {
        if (kept > r->cfg.retained && can_subsume(r, i, latest_checkpoint)) {
            old[n_old++] = r->done[i];
            kept--;
            continue;
        }
        r->done[w++] = r->done[i];
    }
    r->n_done = w;
    return n_old;
}

/* Drops retained checkpoints beyond `retained`, as Flink does: first out
 * of the (persisted) store, then the registry forgets (and deletes) the
 * shared files nothing retained uses, then the subsumed checkpoints are
 * discarded unless still in use. If the store cannot be written, nothing
 * is deleted: a leak, never a store naming deleted files for the next
 * coordinator. */
static void subsume(sim_run *r) {
    if (r->n_done <= r->cfg.retained) return; /* the store was written with the new checkpoint */
    sim_completed *old = calloc((size_t)r->n_done, sizeof *old);
    if (old == NULL) return; /* keep them all: retry on the next completion */
    int n_old = pick_subsumed(r, old);
    if (n_old == 0) {
        free(old);
        return;
    }
    rt_error e;
    int persisted = sim_coord_save_store(r, &e) == RT_OK;
    if (!persisted) sim_trace(r, "store_write_failed", "\"error\":\"%s\"", rt_err_name(e.code));
    for (int k = 0; k < n_old; k++) {
        sim_trace(r, "subsume", "\"chk\":%" PRId64 ",\"owned\":%d", old[k].id, old[k].owned);
        /* Only what the job owns is ever discarded. */
        if (!(persisted && old[k].owned) || park_subsumed(r, &old[k]) != 0) sim_completed_free(&old[k]);
    }
    free(old);
    /* The newest completed checkpoint is never subsumed. */
    assert(r->n_done >= 1);
    assert(strcmp(r->latest, r->done[r->n_done - 1].dir) == 0);
    rt_strlist gone = {0};
    int64_t lowest = r->n_done ? r->done[0].id : r->next_cp;
    deleting(r, r->deleting_after, "unused");
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

/* CheckpointCoordinator.dropSubsumedCheckpoints: a completed checkpoint
 * aborts the checkpoints in progress that it makes obsolete (older ones;
 * never a savepoint). */
static void drop_subsumed_pending(sim_run *r, int64_t id) {
    for (int i = 0; i < r->n_pend;) {
        sim_pending *p = &r->pend[i];
        if (p->id >= id || p->savepoint) {
            i++;
            continue;
        }
        p->failed = 1;
        RT_FAIL(&p->err, RT_EDECLINED, "checkpoint %" PRId64 " subsumed by checkpoint %" PRId64, p->id, id);
        abort_pending(r, p); /* removes it: i now names the next one */
    }
}

static void notify_complete(sim_run *r, int64_t id) {
    for (int i = 0; i < r->n_tasks; i++)
        if (r->tasks[i].backend) r->tasks[i].backend->ops->notify_complete(r->tasks[i].backend, id);
}

/* A checkpoint is complete once its _metadata is written and the store
 * that lists it is persisted; its shared files (registered as the
 * acknowledgements came) are then confirmed (checkpointCompleted) and
 * older checkpoints subsumed. Any failure before that aborts it. */
static rt_err finalize(sim_run *r, sim_pending *p, rt_error *e) {
    assert(p->active);
    assert(!p->failed);
    assert(p->acks == r->n_tasks);
    sim_completed c;
    memset(&c, 0, sizeof c);
    c.id = p->id;
    c.savepoint = p->savepoint;
    c.owned = !p->savepoint;
    snprintf(c.dir, sizeof c.dir, "%s", p->dir);
    c.synchronous = p->terminate;
    /* Savepoints go into the store too on an engine before 1.15 (FLINK-10354). */
    int stored = !p->savepoint || r->cfg.engine->savepoints_in_store;
    rt_err rc = sim_metadata_write(r, p, &c, e);
    if (rc == RT_OK && stored) {
        rc = sim_coord_add_completed(r, &c, e);
        if (rc == RT_OK && (rc = sim_coord_save_store(r, e)) != RT_OK) {
            sim_completed_free(&r->done[--r->n_done]); /* never listed, never completed */
            snprintf(r->latest, sizeof r->latest, "%s", r->n_done ? r->done[r->n_done - 1].dir : "");
        }
        if (rc == RT_OK && !p->savepoint) sim_registry_confirm(&r->registry, p->id); /* c moved into the store */
    }
    if (rc != RT_OK) {
        sim_completed_free(&c);
        return rc;
    }
    int64_t id = p->id;
    int savepoint = p->savepoint, terminate = p->terminate;
    char dir[SIM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", p->dir);
    sim_trace(r, "complete", "\"chk\":%" PRId64 ",\"kind\":\"%s\"", id, sim_kind_name(p->kind));
    if (!savepoint) {
        r->stats.last_checkpoint_id = id;
        r->stats.last_sst_bytes_uploaded = p->sst_bytes_uploaded;
        r->stats.last_sst_bytes_new = p->sst_bytes_new;
        r->stats.sst_bytes_uploaded += p->sst_bytes_uploaded;
        r->stats.sst_bytes_new += p->sst_bytes_new;
    }
    end_pending(r, p);
    r->last_complete_at = rt_loop_now(&r->loop);
    r->stats.checkpoints_completed++;
    if (savepoint && !stored) {
        /* Its _metadata holds its inlined state now; nothing reuses it. */
        sim_bytes_drop_under(&r->inline_pool, dir);
        sim_completed_free(&c);
        /* notifyCheckpointComplete goes to the tasks for checkpoints and
         * for a synchronous savepoint (stop-with-savepoint), not for an
         * intermediate one (cleanupAfterCompletedCheckpoint). */
        if (terminate) notify_complete(r, id);
    } else if (savepoint) {
        /* In the store, notified to the tasks, counted in num-retained. */
        notify_complete(r, id);
        deleting(r, id, "subsumed");
        subsume(r);
    } else {
        r->force_full = 0;
        drop_subsumed_pending(r, id);
        notify_complete(r, id);
        deleting(r, id, "subsumed");
        subsume(r);
    }
    if (r->cfg.on_completed) r->cfg.on_completed(r->cfg.observer, r, id, dir, savepoint);
    return RT_OK;
}

rt_err sim_coord_wait(sim_run *r, rt_error *e) {
    while (r->n_pend > 0) {
        if (rt_loop_run_until(&r->loop, rt_loop_now(&r->loop) + 1) != 0)
            return RT_FAIL(e, RT_ETIMEOUT, "the run exceeded its event budget (stuck)");
        if (r->async_err.code != RT_OK) {
            *e = r->async_err;
            return e->code;
        }
        if (rt_loop_pending(&r->loop) == 0 && r->n_pend > 0)
            return RT_FAIL(e, RT_EINTERNAL, "checkpoint %" PRId64 " can never complete: no events left",
                           r->pend[0].id);
    }
    return RT_OK;
}

void sim_coord_free_pending(sim_run *r) {
    for (int k = 0; k < r->n_pend; k++) {
        for (int i = 0; i < r->n_tasks; i++) sim_task_snap_reset(&r->pend[k].snaps[i]);
        free(r->pend[k].snaps);
    }
    memset(r->pend, 0, sizeof r->pend);
    r->n_pend = 0;
}
