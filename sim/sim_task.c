/* sim_task: tasks, channels and barriers on the event loop.
 *
 * Every subtask is a task; the edge into an operator is a set of bounded
 * FIFO channels (credit-based: at most SIM_CHANNEL_CREDITS records each).
 * A task is woken by events and does one thing per wake-up: emit a record
 * (source), or take the head of one ready input channel. Records carry a
 * virtual processing cost, so a slow keyed operator backpressures the
 * sources and channels fill up: that is the in-flight data an unaligned
 * checkpoint must persist.
 *
 * Barriers: aligned barriers travel in FIFO order and block their channel
 * until every input has delivered one; unaligned barriers are put at the
 * front of a channel, and the records they overtake are persisted as
 * channel state (by the upstream for its output channels, by the downstream
 * for inputs whose barrier has not arrived yet). */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

void sim_trace(sim_run *r, const char *ev, const char *fmt, ...) {
    if (r->cfg.trace == NULL) return;
    char fields[1536];
    fields[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fields, sizeof fields, fmt, ap);
        va_end(ap);
    }
    rt_trace_event(r->cfg.trace, rt_loop_now(&r->loop), ev, "%s", fields);
}

void sim_fail_async(sim_run *r, const rt_error *e) {
    if (r->async_err.code == RT_OK) r->async_err = *e;
    rt_loop_stop(&r->loop);
}

static void on_tick(rt_loop *loop, void *arg, uint64_t tag);

void sim_task_wake(sim_run *r, int task, uint64_t at) {
    uint64_t now = rt_loop_now(&r->loop);
    if (at < now) at = now;
    rt_loop_at(&r->loop, at - now, on_tick, r, (uint64_t)task);
}

static uint64_t net_delay(sim_run *r) { return 1 + rt_prng_below(&r->net, 3); }

void sim_chan_push(sim_run *r, sim_chan *c, const sim_item *it, int front) {
    assert(c->len < c->cap);
    sim_item x = *it;
    uint64_t now = rt_loop_now(&r->loop);
    if (front) {
        /* An overtaking barrier skips the queue and the network backlog. */
        x.ready_at = now + 1;
        c->head = (c->head + c->cap - 1) % c->cap;
        c->q[c->head] = x;
    } else {
        x.ready_at = now + net_delay(r);
        if (x.ready_at < c->last_ready) x.ready_at = c->last_ready;
        c->last_ready = x.ready_at;
        c->q[(c->head + c->len) % c->cap] = x;
    }
    c->len++;
    if (x.type == IT_REC) c->recs++;
    assert(x.type != IT_REC || c->recs <= SIM_CHANNEL_CREDITS);
    sim_task_wake(r, c->to_task, x.ready_at);
}

static sim_item chan_pop(sim_run *r, sim_chan *c) {
    assert(c->len > 0);
    sim_item x = c->q[c->head];
    c->head = (c->head + 1) % c->cap;
    c->len--;
    if (x.type == IT_REC) c->recs--;
    sim_task_wake(r, c->from_task, rt_loop_now(&r->loop)); /* credit returned */
    return x;
}

rt_err sim_cs_push(sim_cs_list *l, const sim_chan *c, const sim_record *rec) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        sim_cs_rec *nr = realloc(l->r, cap * sizeof *nr);
        if (nr == NULL) return RT_ENOMEM;
        l->r = nr;
        l->cap = cap;
    }
    l->r[l->n++] = (sim_cs_rec){c->to_op, c->from_idx, c->to_idx, *rec};
    return RT_OK;
}

void sim_task_snap_reset(sim_task_snap *s) {
    sim_handle_free(&s->keyed);
    free(s->cs.r);
    memset(s, 0, sizeof *s);
}

/* ---- building the task graph ---- */

static rt_err add_chan(sim_run *r, int to_op, sim_task *from, sim_task *to, rt_error *e) {
    if (r->n_chans == SIM_MAX_CHANS || from->n_out == SIM_MAX_TASK_CH || to->n_in == SIM_MAX_TASK_CH)
        return RT_FAIL(e, RT_EINPUT, "job too wide: at most %d channels", SIM_MAX_CHANS);
    sim_chan *c = &r->chans[r->n_chans];
    memset(c, 0, sizeof *c);
    c->to_op = to_op;
    c->from_idx = from->idx;
    c->to_idx = to->idx;
    c->from_task = from->id;
    c->to_task = to->id;
    c->cap = SIM_CHANNEL_CREDITS + 8; /* barriers, watermarks, end-of-stream need no credit */
    c->watermark = -1;
    c->q = calloc(c->cap, sizeof *c->q);
    if (c->q == NULL) return RT_FAIL(e, RT_ENOMEM, "channels: out of memory");
    from->out[from->n_out++] = r->n_chans;
    to->in[to->n_in++] = r->n_chans;
    r->n_chans++;
    return RT_OK;
}

static rt_err make_backend(sim_run *r, sim_task *t, rt_error *e) {
    const sim_op *op = &r->job.ops[t->op];
    sim_backend_config bc;
    char dir[512];
    memset(&bc, 0, sizeof bc);
    bc.kind = r->cfg.backend;
    sim_key_group_range(op->max_parallelism, op->parallelism, t->idx, &bc.kg_lo, &bc.kg_hi);
    bc.max_parallelism = op->max_parallelism;
    bc.n_states = op->n_states;
    bc.states = op->states;
    bc.key_type = op->key_type;
    bc.incremental = r->cfg.incremental;
    bc.engine = r->cfg.engine;
    if (r->cfg.mutant == SIM_MUT_FLINK_25395) bc.bugs |= SIM_BACKEND_BUG_REUSE_UNCONFIRMED;
    if (r->cfg.mutant == SIM_MUT_FLINK_23949) bc.bugs |= SIM_BACKEND_BUG_SAVEPOINT_IS_BASE;
    if (r->cfg.mutant == SIM_MUT_CONFIRM_NOTHING) bc.bugs |= SIM_BACKEND_BUG_CONFIRM_NOTHING;
    snprintf(dir, sizeof dir, "%s/%s-r%d-%s-%u", r->cfg.work_dir ? r->cfg.work_dir : "/tmp",
             r->job_id, r->restores, op->uid, t->idx);
    bc.work_dir = dir;
    return sim_backend_create(&t->backend, &bc, e);
}

rt_err sim_build_tasks(sim_run *r, rt_error *e) {
    r->n_tasks = 0;
    r->n_chans = 0;
    for (int o = 0; o < r->job.n_ops; o++) {
        const sim_op *op = &r->job.ops[o];
        r->op_first_task[o] = r->n_tasks;
        for (uint32_t i = 0; i < op->parallelism; i++) {
            if (r->n_tasks == SIM_MAX_TASKS)
                return RT_FAIL(e, RT_EINPUT, "job too large: at most %d subtasks", SIM_MAX_TASKS);
            sim_task *t = &r->tasks[r->n_tasks];
            memset(t, 0, sizeof *t);
            t->id = r->n_tasks++;
            t->op = o;
            t->idx = i;
            t->watermark = -1;
            if (op->kind == SIM_OP_KEYED) {
                rt_err rc = make_backend(r, t, e);
                if (rc != RT_OK) return rc;
            }
        }
        if (o == 0) continue;
        const sim_op *prev = &r->job.ops[o - 1];
        for (uint32_t a = 0; a < prev->parallelism; a++)
            for (uint32_t b = 0; b < op->parallelism; b++) {
                if (op->in_edge == SIM_EDGE_FORWARD && a != b) continue;
                rt_err rc = add_chan(r, o, &r->tasks[r->op_first_task[o - 1] + (int)a],
                                     &r->tasks[r->op_first_task[o] + (int)b], e);
                if (rc != RT_OK) return rc;
            }
    }
    return RT_OK;
}

void sim_free_tasks(sim_run *r) {
    for (int i = 0; i < r->n_tasks; i++) {
        sim_backend_destroy(r->tasks[i].backend);
        r->tasks[i].backend = NULL;
        sim_task_snap_reset(&r->tasks[i].snap);
    }
    for (int i = 0; i < r->n_chans; i++) free(r->chans[i].q);
    r->n_tasks = r->n_chans = 0;
}

/* ---- the data path ---- */

/* The output channel a record goes to, by the edge's partitioning. */
static sim_chan *route(sim_run *r, sim_task *t, const sim_record *rec) {
    assert(t->n_out > 0);
    const sim_op *next = &r->job.ops[t->op + 1];
    if (next->in_edge == SIM_EDGE_HASH) {
        uint32_t kg = sim_key_group(rec->key, next->max_parallelism);
        uint32_t owner = sim_key_group_owner(kg, next->max_parallelism, next->parallelism);
        for (int i = 0; i < t->n_out; i++)
            if (r->chans[t->out[i]].to_idx == owner) return &r->chans[t->out[i]];
        assert(0);
    }
    if (next->in_edge == SIM_EDGE_FORWARD) return &r->chans[t->out[0]];
    return &r->chans[t->out[t->rr_out % (uint32_t)t->n_out]];
}

static int source_next_split(sim_run *r, sim_task *t) {
    uint32_t p = r->job.ops[0].parallelism;
    for (uint32_t k = 0; k < r->job.splits; k++) {
        uint32_t s = (r->split_rr[t->id] + k) % r->job.splits;
        if (s % p != t->idx || r->offset[s] >= r->end[s]) continue;
        return (int)s;
    }
    return -1;
}

/* Sends watermark wm on every output; a full channel skips it: a later,
 * higher watermark supersedes it, and room stays for barriers. */
static void emit_watermark(sim_run *r, sim_task *t, int64_t wm) {
    if (wm <= t->watermark) return;
    t->watermark = wm;
    sim_item it = {IT_WATERMARK, 0, wm, {0, 0, 0}, 0, 0};
    for (int i = 0; i < t->n_out; i++) {
        sim_chan *c = &r->chans[t->out[i]];
        if (c->len + 4 < c->cap) sim_chan_push(r, c, &it, 0);
    }
    r->stats.watermarks_forwarded++;
}

/* A source's event time: the lowest next offset among its splits. */
static int64_t source_watermark(const sim_run *r, const sim_task *t) {
    uint64_t p = r->job.ops[0].parallelism, low = UINT64_MAX;
    for (uint32_t s = t->idx; s < r->job.splits; s += (uint32_t)p)
        if (r->offset[s] < low) low = r->offset[s];
    return low == UINT64_MAX ? -1 : (int64_t)low - 1;
}

static void source_step(sim_run *r, sim_task *t) {
    int s = source_next_split(r, t);
    if (s < 0) return;
    sim_record rec = sim_record_make(r->cfg.source_seed, &r->job, (uint32_t)s, r->offset[s]);
    sim_chan *c = route(r, t, &rec);
    if (c->recs >= SIM_CHANNEL_CREDITS) return; /* backpressure: woken on credit */
    sim_item it = {IT_REC, 0, 0, rec, 0, 0};
    sim_chan_push(r, c, &it, 0);
    t->rr_out++;
    r->offset[s]++;
    r->split_rr[t->id] = (uint32_t)s + 1;
    r->stats.records_emitted++;
    if (++t->emitted % SIM_WATERMARK_EVERY == 0) emit_watermark(r, t, source_watermark(r, t));
    t->busy_until = rt_loop_now(&r->loop) + r->job.ops[0].cost_ms;
    sim_task_wake(r, t->id, t->busy_until);
}

/* The code version that processes a record: the job's; two mutants run
 * old code (on every record, or on records restored from channel state,
 * with the code of the job that took the checkpoint). */
static int code_version(const sim_run *r, const sim_op *op, const sim_item *it) {
    if (r->cfg.mutant == SIM_MUT_CODE_IGNORED) return 1;
    if (r->cfg.mutant == SIM_MUT_RECOVERED_OLD_CODE && it->recovered && r->n_epochs >= 2) {
        const sim_job *old = &r->epochs[r->n_epochs - 2].job;
        int o = sim_job_find(old, op->uid);
        if (o >= 0) return old->ops[o].code_version;
    }
    return op->code_version;
}

/* Reads, updates and writes each state with the serializer the backend
 * registered for it (after a restore: the job's, or a reconfigured one). */
static rt_err keyed_update(sim_run *r, sim_task *t, const sim_item *it, rt_error *e) {
    const sim_op *op = &r->job.ops[t->op];
    const sim_backend *b = t->backend;
    const sim_record *rec = &it->rec;
    int code = code_version(r, op, it);
    uint32_t kg = sim_key_group(rec->key, op->max_parallelism);
    assert(kg >= b->kg_lo);
    assert(kg <= b->kg_hi);
    assert(b->n_states == op->n_states);
    for (int s = 0; s < op->n_states; s++) {
        uint8_t buf[SIM_VALUE_BYTES_MAX];
        size_t len = 0;
        int found = 0;
        sim_value v;
        /* A payload state of a key-per-record job is written blindly, as
         * Flink's ValueState.update: its key has no earlier value (a replay
         * rewrites the same bytes), so there is nothing to read. */
        int blind = r->job.key_per_record && b->states[s].kind == SIM_STATE_PAYLOAD;
        rt_err rc = blind ? RT_OK : t->backend->ops->get(t->backend, s, kg, rec->key, buf, sizeof buf, &len, &found, e);
        if (rc != RT_OK) return rc;
        if (found) rc = sim_value_decode(&v, &b->states[s], buf, len, e);
        else sim_value_init(&v, &b->states[s]);
        if (rc != RT_OK) return rc;
        sim_op_process(code, &v, &b->states[s], rec->value);
        len = sim_value_encode(&v, &b->states[s], buf, sizeof buf);
        rc = t->backend->ops->put(t->backend, s, kg, rec->key, buf, len, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

uint64_t sim_sink_hash(const sim_record *rec) { return rt_mix3(0x73696e6b, rec->id, rec->key ^ (uint64_t)rec->value); }

static rt_err process(sim_run *r, sim_task *t, const sim_item *it, rt_error *e) {
    const sim_op *op = &r->job.ops[t->op];
    if (op->kind == SIM_OP_KEYED) return keyed_update(r, t, it, e);
    if (op->kind == SIM_OP_SINK) {
        t->sink_count++;
        t->sink_hash += sim_sink_hash(&it->rec);
    }
    return RT_OK;
}

static void on_barrier(sim_run *r, sim_task *t, sim_chan *c, const sim_item *it);

/* A task's event time is the lowest watermark over its inputs. */
static void on_watermark(sim_run *r, sim_task *t, sim_chan *c, int64_t wm) {
    assert(wm > c->watermark); /* per channel, event time only advances */
    c->watermark = wm;
    int64_t low = INT64_MAX;
    for (int i = 0; i < t->n_in; i++)
        if (r->chans[t->in[i]].watermark < low) low = r->chans[t->in[i]].watermark;
    if (t->n_out > 0) emit_watermark(r, t, low);
    else if (low > t->watermark) t->watermark = low;
}

/* The next input channel with a ready head, round-robin; sets *next_at to
 * the earliest future head when none is ready. */
static sim_chan *pick_input(sim_run *r, sim_task *t, uint64_t *next_at) {
    uint64_t now = rt_loop_now(&r->loop);
    *next_at = UINT64_MAX;
    for (int k = 0; k < t->n_in; k++) {
        sim_chan *c = &r->chans[t->in[(t->rr_in + (uint32_t)k) % (uint32_t)t->n_in]];
        if (c->blocked || c->len == 0) continue;
        uint64_t at = c->q[c->head].ready_at;
        if (at <= now) {
            t->rr_in += (uint32_t)k + 1;
            return c;
        }
        if (at < *next_at) *next_at = at;
    }
    return NULL;
}

static void forward_eos(sim_run *r, sim_task *t) {
    sim_item it = {IT_EOS, 0, 0, {0, 0, 0}, 0, 0};
    for (int i = 0; i < t->n_out; i++) sim_chan_push(r, &r->chans[t->out[i]], &it, 0);
    t->finished = 1;
}

static void task_step(sim_run *r, sim_task *t) {
    uint64_t next_at;
    sim_chan *c = pick_input(r, t, &next_at);
    if (c == NULL) {
        if (next_at != UINT64_MAX) sim_task_wake(r, t->id, next_at);
        return;
    }
    sim_item *head = &c->q[c->head];
    if (head->type == IT_REC && t->n_out > 0 && route(r, t, &head->rec)->recs >= SIM_CHANNEL_CREDITS)
        return; /* output full: woken when downstream takes a record */
    sim_item it = chan_pop(r, c);
    uint64_t now = rt_loop_now(&r->loop);
    if (it.type == IT_BARRIER) {
        on_barrier(r, t, c, &it);
        sim_task_wake(r, t->id, now);
        return;
    }
    if (it.type == IT_EOS) {
        if (++t->eos_in == t->n_in) forward_eos(r, t);
        sim_task_wake(r, t->id, now);
        return;
    }
    if (it.type == IT_WATERMARK) {
        on_watermark(r, t, c, it.cp);
        sim_task_wake(r, t->id, now);
        return;
    }
    rt_error e;
    rt_error_clear(&e);
    if (c->recording && sim_cs_push(&t->snap.cs, c, &it.rec) != RT_OK) {
        RT_FAIL(&e, RT_ENOMEM, "channel state: out of memory");
        sim_fail_async(r, &e);
        return;
    }
    if (process(r, t, &it, &e) != RT_OK) {
        rt_error_prefix(&e, "task %s#%u: ", r->job.ops[t->op].uid, t->idx);
        sim_fail_async(r, &e);
        return;
    }
    if (t->n_out > 0) {
        sim_item out = {IT_REC, 0, 0, it.rec, 0, 0};
        sim_chan_push(r, route(r, t, &it.rec), &out, 0);
        t->rr_out++;
    }
    t->busy_until = now + r->job.ops[t->op].cost_ms;
    sim_task_wake(r, t->id, t->busy_until);
}

static void on_tick(rt_loop *loop, void *arg, uint64_t tag) {
    sim_run *r = arg;
    sim_task *t = &r->tasks[tag];
    if (t->busy_until > rt_loop_now(loop) || t->finished) return;
    if (r->job.ops[t->op].kind == SIM_OP_SOURCE) source_step(r, t);
    else task_step(r, t);
}

/* ---- barriers ---- */

/* Sends barrier cp on every output; unaligned ones overtake the queue and
 * the overtaken records become this task's output channel state. */
static void forward_barrier(sim_run *r, sim_task *t, int64_t cp, int unaligned) {
    sim_item b = {IT_BARRIER, (uint8_t)unaligned, cp, {0, 0, 0}, 0, 0};
    for (int i = 0; i < t->n_out; i++) {
        sim_chan *c = &r->chans[t->out[i]];
        if (unaligned) {
            for (uint32_t k = 0; k < c->len; k++) {
                const sim_item *x = &c->q[(c->head + k) % c->cap];
                if (x->type == IT_REC && sim_cs_push(&t->snap.cs, c, &x->rec) != RT_OK) {
                    rt_error e;
                    RT_FAIL(&e, RT_ENOMEM, "channel state: out of memory");
                    sim_fail_async(r, &e);
                }
            }
        }
        sim_chan_push(r, c, &b, unaligned);
    }
}

static void begin_checkpoint(sim_task *t, int64_t cp, int unaligned) {
    sim_task_snap_reset(&t->snap);
    t->snap.cp = cp;
    t->cp = cp;
    t->barriers = 0;
    t->unaligned = unaligned;
}

/* Snapshot now and let the barrier overtake: used on the first unaligned
 * barrier and when an aligned checkpoint times out into an unaligned one. */
static void snapshot_unaligned(sim_run *r, sim_task *t) {
    sim_coord_task_snapshot(r, t);
    forward_barrier(r, t, t->cp, 1);
    for (int i = 0; i < t->n_in; i++) {
        sim_chan *c = &r->chans[t->in[i]];
        if (c->barrier_cp < t->cp) c->recording = 1;
        c->blocked = 0;
    }
}

static void on_alignment_timeout(rt_loop *loop, void *arg, uint64_t tag) {
    (void)loop;
    sim_run *r = arg;
    sim_task *t = &r->tasks[tag & 0xffff];
    int64_t cp = (int64_t)(tag >> 16);
    if (t->cp != cp || t->snap.taken || t->barriers == t->n_in || sim_coord_pending(r, cp) == NULL) return;
    sim_trace(r, "alignment_timeout", "\"task\":%d,\"chk\":%" PRId64, t->id, cp);
    t->unaligned = 1;
    snapshot_unaligned(r, t);
}

/* A newer checkpoint's barrier ends the alignment of an older one (which
 * was aborted or timed out): its blocked channels must flow again, or they
 * stay blocked for good. */
static void abandon_checkpoint(sim_run *r, sim_task *t) {
    for (int i = 0; i < t->n_in; i++) {
        r->chans[t->in[i]].blocked = 0;
        r->chans[t->in[i]].recording = 0;
    }
}

static void on_barrier(sim_run *r, sim_task *t, sim_chan *c, const sim_item *it) {
    if (it->cp < t->cp) return; /* a barrier of an abandoned checkpoint */
    if (it->cp > t->cp) {
        abandon_checkpoint(r, t);
        begin_checkpoint(t, it->cp, it->unaligned);
        const sim_pending *p = sim_coord_pending(r, it->cp);
        if (!it->unaligned && r->cfg.aligned_timeout_ms && !(p != NULL && p->savepoint) && t->n_in > 1)
            rt_loop_at(&r->loop, r->cfg.aligned_timeout_ms, on_alignment_timeout, r,
                       ((uint64_t)it->cp << 16) | (uint64_t)t->id);
    }
    t->barriers++;
    c->barrier_cp = it->cp;
    c->recording = 0;
    if (t->unaligned && !t->snap.taken) snapshot_unaligned(r, t);
    else if (!t->unaligned) c->blocked = 1;
    if (t->barriers < t->n_in) return;
    if (!t->snap.taken) {
        sim_coord_task_snapshot(r, t);
        forward_barrier(r, t, t->cp, 0);
    }
    for (int i = 0; i < t->n_in; i++) r->chans[t->in[i]].blocked = 0;
    sim_coord_task_done(r, t);
}

void sim_source_trigger(sim_run *r, sim_task *t, int64_t cp, int unaligned) {
    begin_checkpoint(t, cp, unaligned);
    sim_coord_task_snapshot(r, t);
    forward_barrier(r, t, cp, unaligned);
    sim_coord_task_done(r, t);
}

void sim_start_sources(sim_run *r) {
    for (int i = 0; i < r->n_tasks; i++)
        if (r->job.ops[r->tasks[i].op].kind == SIM_OP_SOURCE) sim_task_wake(r, i, rt_loop_now(&r->loop));
}

int sim_idle(const sim_run *r) {
    for (int i = 0; i < r->n_chans; i++)
        if (r->chans[i].len) return 0;
    return 1;
}

/* Puts a restored in-flight record at the front of the channel of its
 * edge that leads to the subtask now owning it. */
rt_err sim_chan_restore(sim_run *r, const sim_cs_rec *rec, rt_error *e) {
    const sim_op *op = &r->job.ops[rec->to_op];
    const sim_op *prev = &r->job.ops[rec->to_op - 1];
    uint32_t to = rec->to_idx % op->parallelism;
    if (op->in_edge == SIM_EDGE_HASH)
        to = sim_key_group_owner(sim_key_group(rec->rec.key, op->max_parallelism), op->max_parallelism,
                                 op->parallelism);
    uint32_t from = op->in_edge == SIM_EDGE_FORWARD ? to : rec->from_idx % prev->parallelism;
    for (int i = 0; i < r->n_chans; i++) {
        sim_chan *c = &r->chans[i];
        if (c->to_op != rec->to_op || c->to_idx != to || c->from_idx != from) continue;
        /* Restored records wait in an unbounded recovered buffer in Flink;
         * here they may exceed the credits only by what was persisted. */
        if (c->len + 8 >= c->cap) {
            uint32_t cap = c->cap * 2;
            sim_item *q = calloc(cap, sizeof *q);
            if (q == NULL) return RT_FAIL(e, RT_ENOMEM, "channels: out of memory");
            for (uint32_t k = 0; k < c->len; k++) q[k] = c->q[(c->head + k) % c->cap];
            free(c->q);
            c->q = q;
            c->cap = cap;
            c->head = 0;
        }
        sim_item it = {IT_REC, 0, 0, rec->rec, rt_loop_now(&r->loop), 1};
        c->q[(c->head + c->len) % c->cap] = it;
        c->len++;
        c->recs++;
        /* Its consumer must come for it: nothing else wakes it when the
         * restored records already use up the credit the source waits on. */
        sim_task_wake(r, c->to_task, rt_loop_now(&r->loop));
        return RT_OK;
    }
    return RT_FAIL(e, RT_ECHANNEL, "no channel %u->%u into '%s' for restored in-flight data", from,
                   to, op->uid);
}
