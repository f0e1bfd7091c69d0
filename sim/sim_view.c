/* sim_view: read-only views of a run between two events, for a driver
 * that stops a run and shows it (sim_engine.h: `replay --until/--break`).
 * Nothing here changes the run. */
#include <assert.h>
#include <string.h>

#include "sim_internal.h"

uint64_t sim_run_now(const sim_run *r) { return rt_loop_now(&r->loop); }

int sim_run_pending_count(const sim_run *r) { return r->n_pend; }

void sim_run_pending_get(const sim_run *r, int i, sim_pending_view *out) {
    assert(i >= 0 && i < r->n_pend);
    const sim_pending *p = &r->pend[i];
    memset(out, 0, sizeof *out);
    out->id = p->id;
    out->kind = p->kind;
    out->savepoint = p->savepoint;
    out->terminate = p->terminate;
    out->unaligned = p->unaligned;
    out->triggered_at = p->triggered_at;
    out->acks = p->acks;
    out->tasks = r->n_tasks;
    out->failed = p->failed;
    out->dir = p->dir;
}

int sim_run_pending_acked(const sim_run *r, int i, int t) {
    assert(i >= 0 && i < r->n_pend);
    assert(t >= 0 && t < r->n_tasks);
    return r->pend[i].snaps[t].acked;
}

int sim_run_retained_count(const sim_run *r) { return r->n_done; }

void sim_run_retained_get(const sim_run *r, int i, sim_retained_view *out) {
    assert(i >= 0 && i < r->n_done);
    const sim_completed *c = &r->done[i];
    memset(out, 0, sizeof *out);
    out->id = c->id;
    out->dir = c->dir;
    out->savepoint = c->savepoint;
    out->owned = c->owned;
    out->unclaimed = c->unclaimed;
    out->files = c->files.len;
    out->shared = c->shared.len;
}

int sim_run_registry_count(const sim_run *r) { return r->registry.n; }

const sim_registry_entry *sim_run_registry_get(const sim_run *r, int i) {
    assert(i >= 0 && i < r->registry.n);
    return &r->registry.e[i];
}

int64_t sim_run_registry_not_claimed(const sim_run *r) { return r->registry.highest_not_claimed; }

const char *sim_task_state_name(sim_task_state s) {
    return s == SIM_TASK_ALIGNING ? "aligning" : s == SIM_TASK_FINISHED ? "finished" : "running";
}

/* An aligned barrier holds one of its inputs (CheckpointBarrierHandler
 * blocks a channel once its barrier arrived, until the others' do). */
static int aligning(const sim_run *r, const sim_task *t) {
    for (int i = 0; i < t->n_in; i++)
        if (r->chans[t->in[i]].blocked) return 1;
    return 0;
}

int sim_run_task_count(const sim_run *r) { return r->n_tasks; }

void sim_run_task_get(const sim_run *r, int t, sim_task_view *out) {
    assert(t >= 0 && t < r->n_tasks);
    const sim_task *k = &r->tasks[t];
    memset(out, 0, sizeof *out);
    out->uid = r->job.ops[k->op].uid;
    out->subtask = k->idx;
    out->source = k->op == 0;
    out->state = k->finished ? SIM_TASK_FINISHED : aligning(r, k) ? SIM_TASK_ALIGNING : SIM_TASK_RUNNING;
    out->checkpoint = k->cp;
    out->barriers = k->barriers;
    out->inputs = k->n_in;
    out->last_acked = k->last_acked;
}

uint32_t sim_run_split_count(const sim_run *r) { return r->job.splits; }

uint64_t sim_run_split_offset(const sim_run *r, uint32_t s) {
    assert(s < r->job.splits);
    return r->offset[s];
}
