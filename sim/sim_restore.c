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
    sim_version reader; /* the engine as the backends see it (a mutant may change it) */
    rt_error *e;
} restore_job;

/* The engine the backends restore with. The SST-footer mutant gives them
 * a RocksDB that claims to read every format_version. */
static const sim_version *backend_engine(restore_job *rj) {
    rj->reader = *rj->r->cfg.engine;
    if (rj->r->cfg.mutant == SIM_MUT_IGNORE_SST_FOOTER) rj->reader.sst_format_read_max = 1 << 30;
    return &rj->reader;
}

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

/* Checkpoints.loadCheckpointMetadata; the rule is sim_version_check_metadata,
 * shared with `snapsim check` on real snapshots. */
static rt_err check_version(restore_job *rj) {
    if (rj->r->cfg.mutant == SIM_MUT_IGNORE_METADATA_VERSION) return RT_OK;
    return sim_version_check_metadata(rj->r->cfg.engine, rj->m.version, rj->m.engine, rj->e);
}

static int meta_op_has_state(const sim_meta_op *op) {
    for (int s = 0; s < op->n_sub; s++)
        if (op->sub[s].has_keyed || op->sub[s].n_offsets || op->sub[s].has_sink || op->sub[s].has_cs)
            return 1;
    return 0;
}

/* What registering the job's descriptor for a restored state gives, as
 * StateSerializerProvider.setPreviousSerializerSnapshotForRestoredState
 * answers it: Flink's compatibility and the serializer the backend then
 * uses. The one call site of two mutants: incompatible changes let through
 * as migrations, and a reconfigured serializer replaced by the job's own. */
static rt_err resolve_state(const restore_job *rj, const sim_state_desc *prior, const sim_state_desc *next,
                            sim_compat *compat, sim_state_desc *ser) {
    sim_mutant m = rj->r->cfg.mutant;
    rt_err rc = sim_state_resolve(prior, next, compat, ser, rj->e);
    if (rc == RT_ESCHEMA && m == SIM_MUT_SCHEMA_UNCHECKED && prior->kind == next->kind) {
        *compat = SIM_COMPAT_AFTER_MIGRATION;
        *ser = *next;
        rt_error_clear(rj->e);
        return RT_OK;
    }
    if (rc == RT_OK && *compat == SIM_COMPAT_RECONFIGURED && m == SIM_MUT_RECONFIGURE_AS_IS) *ser = *next;
    return rc;
}

/* Keys never evolve (RocksDB compares serialized key bytes): the restore
 * operations check the key serializer when they read the snapshot's
 * KeyedBackendSerializationProxy, before any state, and fail unless it is
 * compatible as is. */
static rt_err check_key(const restore_job *rj, const sim_keyed_handle *h, const sim_op *op) {
    if (h->key_type == op->key_type || rj->r->cfg.mutant == SIM_MUT_SCHEMA_UNCHECKED) return RT_OK;
    return RT_FAIL(rj->e, RT_ESCHEMA,
                   "StateMigrationException: the new key serializer (%s) must be compatible with the "
                   "previous key serializer (%s); keys never evolve",
                   sim_ftype_name(op->key_type), sim_ftype_name(h->key_type));
}

/* The key and every restored state of one keyed handle against the job's
 * descriptors. */
static rt_err check_keyed(const restore_job *rj, const char *uid, const sim_keyed_handle *h, const sim_op *op) {
    rt_err rc = check_key(rj, h, op);
    for (int k = 0; rc == RT_OK && k < h->n_states; k++)
        for (int j = 0; rc == RT_OK && j < op->n_states; j++) {
            if (strcmp(h->states[k].name, op->states[j].name) != 0) continue;
            sim_compat compat;
            sim_state_desc ser;
            rc = resolve_state(rj, &h->states[k], &op->states[j], &compat, &ser);
        }
    if (rc != RT_OK) rt_error_prefix(rj->e, "operator '%s': ", uid);
    return rc;
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
            if (!mo->sub[s].has_keyed) continue;
            if (op->kind != SIM_OP_KEYED)
                return RT_FAIL(rj->e, RT_ESCHEMA, "operator '%s' had keyed state and is now a %s operator",
                               mo->uid, sim_op_kind_name(op->kind));
            rt_err rc = check_keyed(rj, mo->uid, &mo->sub[s].keyed, op);
            if (rc != RT_OK) return rc;
        }
    }
    return RT_OK;
}

static rt_err load_channel_state(restore_job *rj) {
    for (int i = 0; i < rj->m.n_ops; i++)
        for (int s = 0; s < rj->m.ops[i].n_sub; s++) {
            const sim_meta_subtask *st = &rj->m.ops[i].sub[s];
            /* A removed operator's in-flight data goes with its state
             * (allow-non-restored-state was checked before). */
            if (!st->has_cs || sim_job_find(&rj->r->job, rj->m.ops[i].uid) < 0) continue;
            uint8_t *data = NULL;
            size_t len = 0;
            rt_err rc = fetch_verified(&rj->src, &st->cs_file, &data, &len, rj->e);
            if (rc == RT_OK)
                rc = sim_cs_read(data, len, st->cs_file.path, rj->r->cfg.engine, rj->r->cfg.mutant, &rj->r->job,
                                 rj->m.ops[i].uid, st->index, &rj->cs, NULL, rj->e);
            free(data);
            if (rc != RT_OK) return rc;
        }
    return RT_OK;
}

/* One state of a backend being restored: the schema its stored bytes were
 * written with, and what registering the job's descriptor made of it. */
typedef struct restored_state {
    int present;
    sim_state_desc prior;
    sim_compat compat;
} restored_state;

static int same_schema(const sim_state_desc *a, const sim_state_desc *b) {
    uint8_t ca[SIM_ENUM_MAX], cb[SIM_ENUM_MAX];
    int na = a->kind == SIM_STATE_MAP ? sim_state_consts(a, ca) : 0;
    int nb = b->kind == SIM_STATE_MAP ? sim_state_consts(b, cb) : 0;
    return strcmp(a->name, b->name) == 0 && a->kind == b->kind && a->n_fields == b->n_fields &&
           memcmp(a->fields, b->fields, (size_t)a->n_fields * sizeof a->fields[0]) == 0 &&
           memcmp(a->types, b->types, (size_t)a->n_fields * sizeof a->types[0]) == 0 && na == nb &&
           memcmp(ca, cb, (size_t)na) == 0;
}

/* The states a handle holds get the serializer their registration resolves
 * (RegisteredKeyValueStateBackendMetaInfo.updateStateSerializer): the
 * canonical reader then writes every entry with it, a native restore keeps
 * the handle's bytes. All handles of one backend carry the same schemas. */
static rt_err register_states(restore_job *rj, sim_backend *b, const sim_op *op, const sim_keyed_handle *h,
                              restored_state *rs) {
    assert(b->n_states == op->n_states);
    for (int s = 0; s < b->n_states; s++)
        for (int k = 0; k < h->n_states; k++) {
            if (strcmp(h->states[k].name, op->states[s].name) != 0) continue;
            if (rs[s].present) {
                if (!same_schema(&rs[s].prior, &h->states[k]))
                    return RT_FAIL(rj->e, RT_EFORMAT, "state '%s': the subtasks' snapshots disagree on its schema",
                                   op->states[s].name);
                continue;
            }
            sim_state_desc ser;
            rt_err rc = resolve_state(rj, &h->states[k], &op->states[s], &rs[s].compat, &ser);
            if (rc != RT_OK) return rc;
            b->states[s] = ser;
            rs[s].prior = h->states[k];
            rs[s].present = 1;
        }
    return RT_OK;
}

/* A native restore keeps the bytes as they were written; a state that is
 * compatible after migration is then read with its old serializer and
 * written with the new one, all of it, before any record uses it
 * (RocksDBKeyedStateBackend.migrateStateValues on registration; Flink's
 * heap backend gets the same by reading with the old serializer at
 * restore). A reconfigured serializer reads the old bytes as they are. */
static rt_err migrate_native(restore_job *rj, sim_backend *b, const restored_state *rs) {
    if (rj->r->cfg.mutant == SIM_MUT_NO_NATIVE_MIGRATION) return RT_OK;
    for (int s = 0; s < b->n_states; s++)
        if (rs[s].present && rs[s].compat == SIM_COMPAT_AFTER_MIGRATION) {
            rt_err rc = sim_migrate_in_place(b, s, &rs[s].prior, rj->e);
            if (rc != RT_OK) return rc;
        }
    return RT_OK;
}

static rt_err restore_handle(restore_job *rj, sim_backend *b, const sim_keyed_handle *h) {
    sim_restore_ctx ctx = {fetch_verified, &rj->src, backend_engine(rj), rj->r->cfg.trace,
                           rt_loop_now(&rj->r->loop)};
    if (strcmp(h->format, "canonical") != 0) return b->ops->restore_native(b, &ctx, h, rj->e);
    if (rj->r->cfg.mutant == SIM_MUT_CANONICAL_BACKEND_BOUND && strcmp(h->backend, b->ops->name) != 0)
        return RT_FAIL(rj->e, RT_EBACKEND, "canonical state written by the %s backend is read by the %s "
                       "backend only if it wrote it", h->backend, b->ops->name);
    return sim_canonical_read(b, &ctx, h, rj->e);
}

static rt_err restore_keyed_task(restore_job *rj, sim_task *t, const sim_meta_op *mo) {
    sim_backend *b = t->backend;
    const sim_op *op = &rj->r->job.ops[t->op];
    restored_state rs[SIM_MAX_STATES];
    memset(rs, 0, sizeof rs);
    int native = 0;
    rt_err rc = RT_OK;
    for (int s = 0; s < mo->n_sub && rc == RT_OK; s++) {
        const sim_keyed_handle *h = &mo->sub[s].keyed;
        if (!mo->sub[s].has_keyed || h->kg_hi < b->kg_lo || h->kg_lo > b->kg_hi) continue;
        native |= strcmp(h->format, "canonical") != 0;
        rc = register_states(rj, b, op, h, rs);
        if (rc == RT_OK) rc = restore_handle(rj, b, h);
    }
    if (rc == RT_OK && native) rc = migrate_native(rj, b, rs);
    if (rc != RT_OK) {
        rt_error_prefix(rj->e, "restoring '%s' subtask %u: ", mo->uid, t->idx);
        return rc;
    }
    for (int s = 0; s < b->n_states; s++)
        if (rs[s].present && rs[s].compat != SIM_COMPAT_AS_IS)
            sim_trace(rj->r, "state_registered", "\"op\":\"%s\",\"subtask\":%u,\"state\":\"%s\",\"compat\":\"%s\"",
                      mo->uid, t->idx, b->states[s].name, sim_compat_name(rs[s].compat));
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
    if (rj->failover) { /* already in the completed store */
        if (m->checkpoint_id + 1 > r->next_cp) r->next_cp = m->checkpoint_id + 1;
        return RT_OK;
    }
    int force_full = rj->mode == SIM_MODE_NO_CLAIM && r->cfg.mutant != SIM_MUT_NO_CLAIM_INCREMENTAL;
    return sim_coord_adopt_restored(r, m, rj->dir, rj->mode == SIM_MODE_CLAIM, rj->mode != SIM_MODE_CLAIM,
                                    force_full, rj->e);
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

/* A task failover restores the latest completed checkpoint the
 * coordinator holds (CheckpointCoordinator.restoreLatestCheckpointedState:
 * the CompletedCheckpoint object in its store, not its _metadata read
 * back): c->held, which the coordinator kept when it wrote or loaded the
 * checkpoint, so a damaged or unreadable _metadata does not fail a task
 * failover. On real Flink 1.20.3 a failover after a CLAIM restore of a
 * native RocksDB savepoint restarted from a checkpoint whose _metadata
 * names a missing file (FLINK-39964), and went on (matrix/observed). */
static rt_err load_latest(sim_run *r, const char *dir, sim_meta *m, rt_error *e) {
    const sim_completed *c = NULL;
    for (int i = 0; i < r->n_done && c == NULL; i++)
        if (strcmp(r->done[i].dir, dir) == 0) c = &r->done[i];
    if (c == NULL || c->held == NULL) return sim_meta_load_in(r->cfg.meta_cache, m, r->cfg.store, dir, NULL, NULL, e);
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    return sim_meta_parse_in(r->cfg.meta_cache, m, c->held, c->held_len, r->cfg.store, dir, path, 1, e);
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
    char *text = NULL; /* a restored snapshot's _metadata, kept by the coordinator */
    size_t text_len = 0;
    rt_err rc = failover ? load_latest(r, dir, &rj.m, e)
                         : sim_meta_load_in(r->cfg.meta_cache, &rj.m, r->cfg.store, dir, &text, &text_len, e);
    if (rc == RT_OK) rc = restore_checked(&rj);
    if (rc == RT_OK) sim_coord_hold(r, dir, text, text_len);
    else free(text);
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
