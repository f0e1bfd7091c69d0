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

/* The dense oracle holds a value per key and state. */
#define SIM_ORACLE_DENSE_KEYS_MAX (1u << 22)

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

/* ---- payload operators: a digest instead of a copy ----------------------
 * An operator whose states are all payload states holds about a key per
 * record (sim_job_payload has 2^31 keys), too many for the dense table
 * above. Its oracle collects the (key, record value) pairs that count for
 * each state, sorted by key, draws each key's payload, and compares the
 * count and an order-free digest (sum of xxh3 of key and payload) of that
 * set with those of every entry the backends scan; a scanned entry must
 * also sit in a key group its subtask owns. */

typedef struct payload_kv {
    uint64_t key;
    int64_t value;
} payload_kv;

typedef struct payload_digest {
    uint64_t entries, sum;
} payload_digest;

static int payload_only(const sim_op *op) {
    for (int s = 0; s < op->n_states; s++)
        if (op->states[s].kind != SIM_STATE_PAYLOAD) return 0;
    return op->n_states > 0;
}

/* 1 if the job's operator uid holds a payload state called name. */
static int holds_payload(const sim_job *job, const char *uid, const char *name) {
    int o = sim_job_find(job, uid);
    if (o < 0) return 0;
    for (int s = 0; s < job->ops[o].n_states; s++)
        if (strcmp(job->ops[o].states[s].name, name) == 0) return job->ops[o].states[s].kind == SIM_STATE_PAYLOAD;
    return 0;
}

/* The last epoch that started state name of uid afresh (as enter_epoch
 * does): the operator new or fresh there, or the state absent. */
static int payload_first_epoch(const sim_run *r, const char *uid, const char *name) {
    int first = 0;
    for (int k = 0; k < r->n_epochs; k++) {
        int o = sim_job_find(&r->epochs[k].job, uid);
        if (o < 0 || r->epochs[k].fresh[o] || !holds_payload(&r->epochs[k].job, uid, name)) first = k;
    }
    return first;
}

static int kv_cmp(const void *pa, const void *pb) {
    const payload_kv *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->value < b->value ? -1 : a->value > b->value;
}

static uint64_t payload_hash(uint64_t key, const uint8_t *payload) {
    uint8_t b[8 + SIM_PAYLOAD_BYTES];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(key >> (8 * i));
    memcpy(b + 8, payload, SIM_PAYLOAD_BYTES);
    return sim_checksum(b, sizeof b);
}

/* Folds sorted pairs into the digest: one entry a key, its largest payload. */
static void payload_fold(const payload_kv *a, size_t n, payload_digest *d) {
    uint8_t best[SIM_PAYLOAD_BYTES], drawn[SIM_PAYLOAD_BYTES];
    for (size_t i = 0; i < n; i++) {
        sim_payload_draw(a[i].value, drawn);
        if (i == 0 || a[i].key != a[i - 1].key) memcpy(best, drawn, sizeof best);
        else if (memcmp(drawn, best, sizeof best) > 0) memcpy(best, drawn, sizeof best);
        if (i + 1 == n || a[i + 1].key != a[i].key) {
            d->entries++;
            d->sum += payload_hash(a[i].key, best);
        }
    }
}

static rt_err payload_expected(const sim_run *r, const char *uid, const char *name, int cut,
                               payload_digest *d, rt_error *e) {
    uint64_t total = 0;
    for (uint32_t s = 0; s < r->job.splits; s++) total += r->offset[s];
    payload_kv *a = malloc((size_t)(total ? total : 1) * sizeof *a);
    if (a == NULL) return RT_FAIL(e, RT_ENOMEM, "oracle: out of memory for %" PRIu64 " records", total);
    int first = payload_first_epoch(r, uid, name), last = cut ? r->n_epochs - 2 : r->n_epochs - 1;
    size_t n = 0;
    for (uint32_t s = 0; s < r->job.splits; s++)
        for (uint64_t o = 0; o < r->offset[s]; o++) {
            int k = epoch_of(r, s, o, uid);
            if (k < first || k > last || !holds_payload(&r->epochs[k].job, uid, name)) continue;
            sim_record rec = sim_record_make(r->cfg.source_seed, &r->job, s, o);
            a[n].key = rec.key;
            a[n++].value = rec.value;
        }
    assert(n <= total);
    qsort(a, n, sizeof *a, kv_cmp);
    memset(d, 0, sizeof *d);
    payload_fold(a, n, d);
    free(a);
    return RT_OK;
}

typedef struct payload_scan {
    const sim_backend *b;
    const sim_op *op;
    payload_digest d;
    rt_err rc;
    rt_error *e;
} payload_scan;

static int payload_entry(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    payload_scan *c = ctx;
    if (kg != sim_key_group(key, c->op->max_parallelism) || kg < c->b->kg_lo || kg > c->b->kg_hi) {
        c->rc = RT_FAIL(c->e, RT_ECORRUPT, "operator '%s' state '%s': key %" PRIu64 " of key group %u "
                        "found in a subtask of key groups %u..%u", c->op->uid, c->op->states[state].name,
                        key, kg, c->b->kg_lo, c->b->kg_hi);
        return 1;
    }
    sim_value v;
    c->rc = sim_value_decode(&v, &c->b->states[state], val, len, c->e);
    if (c->rc != RT_OK) return 1;
    c->d.entries++;
    c->d.sum += payload_hash(key, v.payload);
    return 0;
}

static rt_err compare_payload_op(sim_run *r, int o, int cut, rt_error *e) {
    const sim_op *op = &r->job.ops[o];
    for (int s = 0; s < op->n_states; s++) {
        payload_digest want;
        rt_err rc = payload_expected(r, op->uid, op->states[s].name, cut, &want, e);
        if (rc != RT_OK) return rc;
        payload_scan c = {.op = op, .rc = RT_OK, .e = e};
        for (uint32_t i = 0; i < op->parallelism && c.rc == RT_OK; i++) {
            c.b = r->tasks[r->op_first_task[o] + (int)i].backend;
            rc = c.b->ops->scan((sim_backend *)c.b, s, payload_entry, &c, e);
            if (rc != RT_OK) return rc;
        }
        if (c.rc != RT_OK) return c.rc;
        if (c.d.entries != want.entries || c.d.sum != want.sum)
            return RT_FAIL(e, RT_ECORRUPT, "operator '%s' state '%s': %" PRIu64 " entries (digest %016" PRIx64
                           ") found, the oracle expects %" PRIu64 " (digest %016" PRIx64 ")", op->uid,
                           op->states[s].name, c.d.entries, c.d.sum, want.entries, want.sum);
    }
    return RT_OK;
}

static rt_err verify_keyed(sim_run *r, int cut, rt_error *e) {
    for (int o = 0; o < r->job.n_ops; o++) {
        if (r->job.ops[o].kind != SIM_OP_KEYED) continue;
        if (payload_only(&r->job.ops[o])) {
            rt_err rc = compare_payload_op(r, o, cut, e);
            if (rc != RT_OK) return rc;
            continue;
        }
        if (r->job.keys > SIM_ORACLE_DENSE_KEYS_MAX)
            return RT_FAIL(e, RT_EUSAGE, "oracle: operator '%s' has %u keys; beyond %u keys only payload "
                           "states are checked (by digest)", r->job.ops[o].uid, r->job.keys,
                           SIM_ORACLE_DENSE_KEYS_MAX);
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
