/* sim_oracle: the exactly-once oracle. From the source seed and the final
 * source offsets it recomputes every key's expected state and the expected
 * sink output, without any backend: each record is a pure function of
 * (seed, split, offset), each state update is commutative, and the lineage
 * says under which job (schema and operator code) each record was
 * processed: a record in flight in the restored snapshot belongs to the
 * epoch that restored it, so the new code counts it. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

static int in_flight(const sim_epoch *ep, uint64_t id, int upto_op) {
    size_t lo = 0, hi = ep->n_inflight;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ep->inflight_id[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < ep->n_inflight && ep->inflight_id[i] == id; i++)
        if (ep->inflight_op[i] <= upto_op) return 1;
    return 0;
}

/* The epoch that processed record (split, offset) at operator uid. */
static int epoch_of(const sim_run *r, uint32_t split, uint64_t offset, const char *uid) {
    int k = 0;
    for (int i = 1; i < r->n_epochs; i++)
        if (offset >= r->epochs[i].start[split]) k = i;
    uint64_t id = SIM_RECORD_ID(split, offset);
    while (k + 1 < r->n_epochs) {
        int op = sim_job_find(&r->epochs[k + 1].job, uid);
        if (op < 0 || !in_flight(&r->epochs[k + 1], id, op)) break;
        k++;
    }
    return k;
}

typedef struct expect_op {
    const char *uid;
    uint32_t keys;
    sim_value *v; /* keys x SIM_MAX_STATES */
    sim_state_desc states[SIM_MAX_STATES];
    int n_states;
    int code_version; /* of the epoch being replayed */
} expect_op;

static sim_value *val(expect_op *x, uint64_t key, int s) { return &x->v[key * SIM_MAX_STATES + (uint64_t)s]; }

/* Moves the expected values from the previous epoch's schemas to this one's. */
static rt_err enter_epoch(expect_op *x, const sim_epoch *ep, rt_error *e) {
    int o = sim_job_find(&ep->job, x->uid);
    const sim_op *op = o >= 0 ? &ep->job.ops[o] : NULL;
    x->code_version = op ? op->code_version : 1;
    if (op == NULL || ep->fresh[o]) {
        memset(x->v, 0, (size_t)x->keys * SIM_MAX_STATES * sizeof *x->v);
        x->n_states = op ? op->n_states : 0;
        if (op) memcpy(x->states, op->states, sizeof x->states);
        return RT_OK;
    }
    sim_value nv[SIM_MAX_STATES];
    for (uint64_t k = 0; k < x->keys; k++) {
        for (int s = 0; s < op->n_states; s++) {
            memset(&nv[s], 0, sizeof nv[s]);
            for (int j = 0; j < x->n_states; j++) {
                if (strcmp(x->states[j].name, op->states[s].name) != 0 || !val(x, k, j)->present) continue;
                nv[s] = *val(x, k, j);
                rt_err rc = sim_value_migrate(&nv[s], &x->states[j], &op->states[s], e);
                if (rc != RT_OK) return rc;
            }
        }
        for (int s = 0; s < op->n_states; s++) *val(x, k, s) = nv[s];
    }
    x->n_states = op->n_states;
    memcpy(x->states, op->states, sizeof x->states);
    return RT_OK;
}

static void apply(expect_op *x, const sim_record *rec) {
    for (int s = 0; s < x->n_states; s++) {
        sim_value *v = val(x, rec->key, s);
        if (!v->present) sim_value_init(v, &x->states[s]);
        sim_op_process(x->code_version, v, &x->states[s], rec->value);
    }
}

static rt_err expected_state(const sim_run *r, expect_op *x, int cut, rt_error *e) {
    for (int k = 0; k < r->n_epochs; k++) {
        rt_err rc = enter_epoch(x, &r->epochs[k], e);
        if (rc != RT_OK) return rc;
        if (sim_job_find(&r->epochs[k].job, x->uid) < 0 || (cut && k == r->n_epochs - 1)) continue;
        for (uint32_t s = 0; s < r->job.splits; s++)
            for (uint64_t o = 0; o < r->offset[s]; o++)
                if (epoch_of(r, s, o, x->uid) == k) {
                    sim_record rec = sim_record_make(r->cfg.source_seed, &r->job, s, o);
                    apply(x, &rec);
                }
    }
    return RT_OK;
}

/* Compares one backend's content for every key it owns with x, decoding
 * with the serializer the backend registered. */
static rt_err compare_op(sim_run *r, int o, expect_op *x, rt_error *e) {
    const sim_op *op = &r->job.ops[o];
    for (uint64_t key = 0; key < x->keys; key++) {
        uint32_t kg = sim_key_group(key, op->max_parallelism);
        uint32_t owner = sim_key_group_owner(kg, op->max_parallelism, op->parallelism);
        sim_backend *b = r->tasks[r->op_first_task[o] + (int)owner].backend;
        for (int s = 0; s < op->n_states; s++) {
            uint8_t buf[SIM_VALUE_BYTES_MAX];
            size_t len = 0;
            int found = 0;
            sim_value got;
            memset(&got, 0, sizeof got);
            rt_err rc = b->ops->get(b, s, kg, key, buf, sizeof buf, &len, &found, e);
            if (rc == RT_OK && found) rc = sim_value_decode(&got, &b->states[s], buf, len, e);
            if (rc != RT_OK) return rc;
            const sim_value *want = val(x, key, s);
            if (sim_value_equal(&got, want, &op->states[s])) continue;
            char a[256], bb[256];
            sim_value_format(want, &op->states[s], a, sizeof a);
            sim_value_format(&got, &op->states[s], bb, sizeof bb);
            return RT_FAIL(e, RT_ECORRUPT, "operator '%s' key %" PRIu64 " state '%s': expected %s, found %s",
                           op->uid, key, op->states[s].name, want->present ? a : "(none)",
                           got.present ? bb : "(none)");
        }
    }
    return RT_OK;
}

static rt_err verify_sink(sim_run *r, rt_error *e) {
    uint64_t want_n = 0, want_h = 0, got_n = 0, got_h = 0;
    for (uint32_t s = 0; s < r->job.splits; s++)
        for (uint64_t o = 0; o < r->offset[s]; o++) {
            sim_record rec = sim_record_make(r->cfg.source_seed, &r->job, s, o);
            want_n++;
            want_h += sim_sink_hash(&rec);
        }
    int o = r->job.n_ops - 1;
    for (uint32_t i = 0; i < r->job.ops[o].parallelism; i++) {
        got_n += r->tasks[r->op_first_task[o] + (int)i].sink_count;
        got_h += r->tasks[r->op_first_task[o] + (int)i].sink_hash;
    }
    if (got_n != want_n)
        return RT_FAIL(e, RT_ECORRUPT, "sink received %" PRIu64 " records, exactly-once expects %" PRIu64
                       " (%s)", got_n, want_n, got_n > want_n ? "duplicates" : "records lost");
    if (got_h != want_h)
        return RT_FAIL(e, RT_ECORRUPT, "sink output differs from the expected records (same count %" PRIu64 ")",
                       got_n);
    return RT_OK;
}

static rt_err verify_keyed(sim_run *r, int cut, rt_error *e) {
    for (int o = 0; o < r->job.n_ops; o++) {
        if (r->job.ops[o].kind != SIM_OP_KEYED) continue;
        expect_op x;
        memset(&x, 0, sizeof x);
        x.uid = r->job.ops[o].uid;
        x.keys = r->job.keys;
        x.v = calloc((size_t)x.keys * SIM_MAX_STATES, sizeof *x.v);
        if (x.v == NULL) return RT_FAIL(e, RT_ENOMEM, "oracle: out of memory");
        rt_err rc = expected_state(r, &x, cut, e);
        if (rc == RT_OK) rc = compare_op(r, o, &x, e);
        free(x.v);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

rt_err sim_oracle_verify_cut(sim_run *r, rt_error *e) { return verify_keyed(r, 1, e); }

rt_err sim_oracle_verify(sim_run *r, rt_error *e) {
    assert(sim_idle(r));
    rt_err rc = verify_keyed(r, 0, e);
    if (rc == RT_OK) rc = verify_sink(r, e);
    if (rc == RT_OK) {
        uint64_t total = 0;
        for (uint32_t s = 0; s < r->job.splits; s++) total += r->offset[s];
        sim_trace(r, "oracle", "\"records\":%" PRIu64 ",\"verdict\":\"agrees\"", total);
    }
    return rc;
}
