/* sim_restore: from a completed checkpoint or savepoint into a run, matching
 * operators by uid and redistributing key groups, in CLAIM, NO_CLAIM or
 * LEGACY mode. All-or-nothing, like Redis loading an RDB: the metadata is
 * checked, every file's size and checksum verified and the channel state
 * parsed before any state is used; a failure after that discards the
 * partly filled backends and leaves the run empty. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_canonical.h"
#include "sim_internal.h"

/* Where restore reads a handle from: the storage for files, the parsed
 * _metadata for inlined bytes. */
typedef struct fetch_src {
    rt_store *store;
    const sim_bytes_pool *pool;
} fetch_src;

typedef struct restore_job {
    sim_run *r;
    sim_meta m;
    fetch_src src;
    const char *dir;
    sim_restore_mode mode;
    int allow;
    int failover;
    sim_cs_list cs;
    rt_error *e;
} restore_job;

static rt_err fetch_inlined(const fetch_src *src, const sim_file_ref *f, uint8_t **data, size_t *len,
                            rt_error *e) {
    const sim_bytes_entry *b = src->pool ? sim_bytes_get(src->pool, f->path) : NULL;
    if (b == NULL) return RT_FAIL(e, RT_EFORMAT, "inlined state %s is not in _metadata", f->path);
    *data = malloc(b->len ? b->len : 1);
    if (*data == NULL) return RT_FAIL(e, RT_ENOMEM, "restore: out of memory");
    memcpy(*data, b->data, b->len);
    *len = b->len;
    return RT_OK;
}

/* Reads one handle and checks it against what the metadata recorded. */
static rt_err fetch_verified(void *ctx, const sim_file_ref *f, uint8_t **data, size_t *len,
                             rt_error *e) {
    const fetch_src *src = ctx;
    char abs[1024];
    rt_err rc;
    if (f->type == SIM_HANDLE_BYTES) {
        snprintf(abs, sizeof abs, "inlined state %s", f->path);
        rc = fetch_inlined(src, f, data, len, e);
    } else {
        rt_store_absolute(src->store, f->path, abs, sizeof abs);
        rc = rt_store_get(src->store, f->path, data, len, e);
        if (rc == RT_ENOENT) return RT_FAIL(e, RT_ENOENT, "snapshot file %s is missing", abs);
    }
    if (rc != RT_OK) return rc;
    if (*len != f->size || sim_checksum(*data, *len) != f->xxh3) {
        free(*data);
        *data = NULL;
        if (*len != f->size)
            return RT_FAIL(e, RT_ECHECKSUM, "snapshot file %s has %zu bytes, metadata says %" PRIu64,
                           abs, *len, f->size);
        return RT_FAIL(e, RT_ECHECKSUM, "snapshot file %s: checksum mismatch (damaged)", abs);
    }
    return RT_OK;
}

static int verify_one(void *ctx, const char *op, uint32_t sub, const sim_file_ref *f) {
    (void)op;
    (void)sub;
    restore_job *rj = ctx;
    uint8_t *data = NULL;
    size_t len = 0;
    if (fetch_verified(&rj->src, f, &data, &len, rj->e) != RT_OK) return 1;
    free(data);
    return 0;
}

static rt_err check_version(restore_job *rj) {
    const sim_version *v = rj->r->cfg.engine;
    if (rj->m.version < v->metadata_read_min || rj->m.version > v->metadata_read_max)
        return RT_FAIL(rj->e, RT_EVERSION,
                       "_metadata version %d (written by engine %s) cannot be read by engine %s "
                       "(reads versions %d..%d)",
                       rj->m.version, rj->m.engine, v->name, v->metadata_read_min, v->metadata_read_max);
    return RT_OK;
}

static int meta_op_has_state(const sim_meta_op *op) {
    for (int s = 0; s < op->n_sub; s++)
        if (op->sub[s].has_keyed || op->sub[s].n_offsets || op->sub[s].has_sink || op->sub[s].has_cs)
            return 1;
    return 0;
}

/* Operators are matched by uid; state nobody takes needs explicit consent. */
static rt_err check_operators(restore_job *rj) {
    const sim_job *job = &rj->r->job;
    for (int i = 0; i < rj->m.n_ops; i++) {
        const sim_meta_op *mo = &rj->m.ops[i];
        int o = sim_job_find(job, mo->uid);
        if (o < 0) {
            if (meta_op_has_state(mo) && !rj->allow)
                return RT_FAIL(rj->e, RT_ENONRESTORED,
                               "snapshot holds state of operator '%s', which the job does not have "
                               "(allow it to be dropped with --allow-non-restored-state)", mo->uid);
            continue;
        }
        const sim_op *op = &job->ops[o];
        if (op->kind == SIM_OP_KEYED && mo->max_parallelism != op->max_parallelism && meta_op_has_state(mo))
            return RT_FAIL(rj->e, RT_ETOPOLOGY,
                           "operator '%s': max parallelism changed from %u to %u; key groups cannot be remapped",
                           mo->uid, mo->max_parallelism, op->max_parallelism);
        for (int s = 0; s < mo->n_sub; s++) {
            const sim_keyed_handle *h = &mo->sub[s].keyed;
            if (!mo->sub[s].has_keyed) continue;
            if (op->kind != SIM_OP_KEYED)
                return RT_FAIL(rj->e, RT_ESCHEMA, "operator '%s' had keyed state and is now a %s operator",
                               mo->uid, sim_op_kind_name(op->kind));
            for (int k = 0; k < h->n_states; k++)
                for (int j = 0; j < op->n_states; j++)
                    if (strcmp(h->states[k].name, op->states[j].name) == 0) {
                        rt_err rc = sim_state_compatible(&h->states[k], &op->states[j], rj->e);
                        if (rc != RT_OK) return rc;
                    }
        }
    }
    return RT_OK;
}

static rt_err load_channel_state(restore_job *rj) {
    for (int i = 0; i < rj->m.n_ops; i++)
        for (int s = 0; s < rj->m.ops[i].n_sub; s++) {
            const sim_meta_subtask *st = &rj->m.ops[i].sub[s];
            if (!st->has_cs) continue;
            uint8_t *data = NULL;
            size_t len = 0;
            rt_err rc = fetch_verified(&rj->src, &st->cs_file, &data, &len, rj->e);
            if (rc == RT_OK)
                rc = sim_cs_read(data, len, st->cs_file.path, rj->r->cfg.engine, rj->r->cfg.mutant, &rj->r->job,
                                 &rj->cs, rj->e);
            free(data);
            if (rc != RT_OK) return rc;
        }
    return RT_OK;
}

/* Native restore, then migration in place of any state whose schema the
 * new job changed. */
static rt_err restore_native(restore_job *rj, sim_backend *b, const sim_keyed_handle *h) {
    sim_restore_ctx ctx = {fetch_verified, &rj->src, rj->r->cfg.engine, rj->r->cfg.trace,
                           rt_loop_now(&rj->r->loop)};
    rt_err rc = b->ops->restore_native(b, &ctx, h, rj->e);
    for (int s = 0; rc == RT_OK && s < b->n_states && rj->r->cfg.mutant != SIM_MUT_NO_NATIVE_MIGRATION; s++)
        for (int k = 0; k < h->n_states; k++) {
            const sim_state_desc *from = &h->states[k];
            if (strcmp(from->name, b->states[s].name) != 0) continue;
            if (from->schema_version == b->states[s].schema_version && from->n_fields == b->states[s].n_fields &&
                memcmp(from->fields, b->states[s].fields, sizeof from->fields) == 0)
                continue;
            rc = sim_migrate_in_place(b, s, from, rj->e);
        }
    return rc;
}

static rt_err restore_keyed_task(restore_job *rj, sim_task *t, const sim_meta_op *mo) {
    sim_backend *b = t->backend;
    sim_restore_ctx ctx = {fetch_verified, &rj->src, rj->r->cfg.engine, rj->r->cfg.trace,
                           rt_loop_now(&rj->r->loop)};
    for (int s = 0; s < mo->n_sub; s++) {
        const sim_keyed_handle *h = &mo->sub[s].keyed;
        if (!mo->sub[s].has_keyed || h->kg_hi < b->kg_lo || h->kg_lo > b->kg_hi) continue;
        rt_err rc = strcmp(h->format, "canonical") == 0 ? sim_canonical_read(b, &ctx, h, rj->e)
                                                        : restore_native(rj, b, h);
        if (rc != RT_OK) {
            rt_error_prefix(rj->e, "restoring '%s' subtask %u: ", mo->uid, t->idx);
            return rc;
        }
    }
    return RT_OK;
}

static rt_err restore_tasks(restore_job *rj, int *fresh) {
    sim_run *r = rj->r;
    for (int o = 0; o < r->job.n_ops; o++) fresh[o] = 1;
    memset(r->offset, 0, sizeof r->offset);
    for (int i = 0; i < rj->m.n_ops; i++) {
        const sim_meta_op *mo = &rj->m.ops[i];
        int o = sim_job_find(&r->job, mo->uid);
        if (o < 0 || !meta_op_has_state(mo)) continue;
        fresh[o] = 0;
        const sim_op *op = &r->job.ops[o];
        for (uint32_t k = 0; k < op->parallelism; k++) {
            sim_task *t = &r->tasks[r->op_first_task[o] + (int)k];
            if (t->backend) {
                rt_err rc = restore_keyed_task(rj, t, mo);
                if (rc != RT_OK) return rc;
            }
        }
        for (int s = 0; s < mo->n_sub; s++) {
            const sim_meta_subtask *st = &mo->sub[s];
            for (int k = 0; k < st->n_offsets; k++)
                if (st->split[k] < r->job.splits) r->offset[st->split[k]] = st->offset[k];
            if (st->has_sink) {
                /* Sink state is redistributed as a union list: all to subtask 0. */
                sim_task *t0 = &r->tasks[r->op_first_task[o]];
                t0->sink_count += st->sink_count;
                t0->sink_hash += st->sink_hash;
            }
        }
    }
    for (size_t i = 0; i < rj->cs.n && r->cfg.mutant != SIM_MUT_DROP_CHANNEL_STATE; i++) {
        rt_err rc = sim_chan_restore(r, &rj->cs.r[i], rj->e);
        if (rc != RT_OK) return rc;
    }
    for (uint32_t s = 0; s < r->job.splits; s++) r->end[s] = r->offset[s];
    return RT_OK;
}

/* FLIP-193: who owns the restored snapshot's files from now on. */
static rt_err take_ownership(restore_job *rj) {
    sim_run *r = rj->r;
    const sim_meta *m = &rj->m;
    if (m->checkpoint_id + 1 > r->next_cp) r->next_cp = m->checkpoint_id + 1;
    if (rj->failover) return RT_OK; /* already in the completed store */
    r->force_full = rj->mode == SIM_MODE_NO_CLAIM && r->cfg.mutant != SIM_MUT_NO_CLAIM_INCREMENTAL;
    rt_err rc = sim_coord_adopt(r, m, rj->dir, rj->mode == SIM_MODE_CLAIM, rj->mode != SIM_MODE_CLAIM, rj->e);
    if (rc == RT_OK) rc = sim_coord_save_store(r, rj->e);
    return rc;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The new epoch: in-flight records of the snapshot belong to it. */
static rt_err begin_epoch(restore_job *rj, const int *fresh) {
    sim_run *r = rj->r;
    size_t n = rj->cs.n;
    uint64_t *ids = calloc(n + 1, sizeof *ids);
    int *ops = calloc(n + 1, sizeof *ops);
    if (!ids || !ops) {
        free(ids);
        free(ops);
        return RT_FAIL(rj->e, RT_ENOMEM, "restore: out of memory");
    }
    /* Sort by id, carrying the operator index along. */
    uint64_t *pairs = calloc(2 * n + 1, sizeof *pairs);
    if (pairs == NULL) {
        free(ids);
        free(ops);
        return RT_FAIL(rj->e, RT_ENOMEM, "restore: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        pairs[2 * i] = rj->cs.r[i].rec.id;
        pairs[2 * i + 1] = (uint64_t)rj->cs.r[i].to_op;
    }
    qsort(pairs, n, 2 * sizeof *pairs, cmp_u64);
    for (size_t i = 0; i < n; i++) {
        ids[i] = pairs[2 * i];
        ops[i] = (int)pairs[2 * i + 1];
    }
    free(pairs);
    return sim_epoch_begin(r, r->offset, ids, ops, n, fresh, rj->e);
}

static rt_err adopt_lineage(restore_job *rj) {
    sim_run *r = rj->r;
    if (rj->failover) return RT_OK;
    for (int i = 0; i < r->n_epochs; i++) sim_epoch_free(&r->epochs[i]);
    r->n_epochs = 0;
    for (int i = 0; i < rj->m.n_epochs; i++) {
        r->epochs[i] = rj->m.epochs[i];
        rj->m.epochs[i].inflight_id = NULL;
        rj->m.epochs[i].inflight_op = NULL;
        r->n_epochs++;
    }
    r->cfg.source_seed = rj->m.source_seed;
    return RT_OK;
}

static rt_err rebuild_empty(sim_run *r, rt_error *e) {
    sim_free_tasks(r);
    r->restores++;
    return sim_build_tasks(r, e);
}

static rt_err restore_checked(restore_job *rj) {
    int epochs = rj->failover ? rj->r->n_epochs : rj->m.n_epochs;
    if (epochs + 1 > SIM_META_MAX_EPOCHS) /* checked before anything changes */
        return RT_FAIL(rj->e, RT_EFORMAT, "the snapshot's lineage already holds %d restores (at most %d)", epochs,
                       SIM_META_MAX_EPOCHS - 1);
    rt_err rc = check_version(rj);
    if (rc == RT_OK) rc = check_operators(rj);
    if (rc == RT_OK && sim_meta_each_file(&rj->m, verify_one, rj)) rc = rj->e->code;
    if (rc == RT_OK) rc = load_channel_state(rj);
    if (rc != RT_OK) return rc;
    int fresh[SIM_MAX_OPS];
    rc = rebuild_empty(rj->r, rj->e);
    if (rc == RT_OK) rc = restore_tasks(rj, fresh);
    if (rc == RT_OK) rc = take_ownership(rj);
    if (rc == RT_OK) rc = adopt_lineage(rj);
    if (rc == RT_OK) rc = begin_epoch(rj, fresh);
    return rc;
}

rt_err sim_restore_into(sim_run *r, const char *dir, sim_restore_mode mode, int allow, int failover,
                        rt_error *e) {
    restore_job rj;
    memset(&rj, 0, sizeof rj);
    rj.r = r;
    rj.dir = dir;
    rj.mode = mode;
    rj.allow = allow;
    rj.failover = failover;
    rj.e = e;
    if (failover && dir[0] == '\0') {
        /* No checkpoint yet: start over from the beginning of the sources. */
        rt_err rc = rebuild_empty(r, e);
        int fresh[SIM_MAX_OPS];
        for (int i = 0; i < SIM_MAX_OPS; i++) fresh[i] = 1;
        memset(r->offset, 0, sizeof r->offset);
        memset(r->end, 0, sizeof r->end);
        if (rc == RT_OK) rc = sim_epoch_begin(r, r->offset, NULL, NULL, 0, fresh, e);
        return rc;
    }
    rj.src.store = r->cfg.store;
    rj.src.pool = &rj.m.inline_pool;
    rt_err rc = sim_meta_load(&rj.m, r->cfg.store, dir, e);
    if (rc == RT_OK) rc = restore_checked(&rj);
    if (rc != RT_OK) {
        rt_error ignored;
        rebuild_empty(r, &ignored); /* nothing half-restored stays in use */
        /* Source offsets too: restore_tasks may have set them before a
         * later operator's state failed. */
        memset(r->offset, 0, sizeof r->offset);
        memset(r->end, 0, sizeof r->end);
    } else {
        sim_trace(r, "restore", "\"dir\":\"%s\",\"mode\":\"%s\",\"chk\":%" PRId64 ",\"inflight\":%zu",
                  failover ? "latest" : "snapshot", sim_mode_name(mode), rj.m.checkpoint_id, rj.cs.n);
        if (r->started) {
            sim_start_sources(r);
            for (int i = 0; i < r->n_tasks; i++) sim_task_wake(r, i, rt_loop_now(&r->loop));
        }
    }
    free(rj.cs.r);
    sim_meta_free(&rj.m);
    return rc;
}
