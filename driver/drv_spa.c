/* drv_spa: the State Processor API reader and writer (see drv_spa.h). Both go
 * through the engine's own restore, snapshot and _metadata code: no second
 * parser, no second format. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "drv_spa.h"
#include "sim_backend.h"
#include "sim_engine.h"
#include "sim_metadata.h"

/* The backend a native handle needs (SavepointReader.read is given one; a
 * canonical handle reads into any). */
static const char *reader_backend(const sim_meta *m, sim_mutant mutant) {
    if (mutant == SIM_MUT_SPA_READER_DEFAULT_BACKEND) return "heap";
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++) {
            const sim_meta_subtask *st = &m->ops[o].sub[s];
            if (st->has_keyed && strcmp(st->keyed.format, "canonical") != 0 &&
                strcmp(st->keyed.backend, "rocksdb") == 0)
                return "rocksdb";
        }
    return "heap";
}

/* A run of the snapshot's job restored from it, never started. */
static rt_err open_reader(rt_store *store, const char *dir, const drv_spa_opts *o, uint32_t threshold,
                          sim_run **out, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load_in(o->meta_cache, &m, store, dir, NULL, NULL, e);
    if (rc != RT_OK) return rc;
    sim_config cfg;
    sim_config_defaults(&cfg);
    cfg.job = m.job;
    cfg.backend = reader_backend(&m, o->mutant);
    cfg.engine = o->engine;
    cfg.store = store;
    cfg.meta_cache = o->meta_cache;
    cfg.mutant = o->mutant;
    cfg.memory_threshold = threshold;
    /* Its own RocksDB directories: the job that wrote the snapshot may still
     * hold its instances open under the same names. */
    char reader_dir[600];
    snprintf(reader_dir, sizeof reader_dir, "%s/spa-reader", o->work_dir ? o->work_dir : "/tmp");
    mkdir(reader_dir, 0700);
    cfg.work_dir = reader_dir;
    cfg.interval_ms = 0;
    sim_meta_free(&m);
    rc = sim_run_create(out, &cfg, e);
    if (rc == RT_OK) rc = sim_run_restore(*out, dir, SIM_MODE_NO_CLAIM, 0, e);
    if (rc != RT_OK && *out) {
        sim_run_destroy(*out);
        *out = NULL;
    }
    return rc;
}

typedef struct dump_ctx {
    FILE *out;
    rt_error *e;
    rt_err rc;
} dump_ctx;

static int dump_one(void *ctx, const char *uid, const sim_state_desc *d, uint32_t kg, uint64_t key,
                    const uint8_t *val, size_t len) {
    dump_ctx *x = ctx;
    sim_value v;
    x->rc = sim_value_decode(&v, d, val, len, x->e);
    if (x->rc != RT_OK) return 1;
    char text[512];
    sim_value_format(&v, d, text, sizeof text);
    fprintf(x->out, "{\"uid\":\"%s\",\"key_group\":%u,\"key\":%" PRIu64 ",\"state\":\"%s\",\"value\":%s}\n",
            uid, kg, key, d->name, text);
    return 0;
}

static rt_err dump(sim_run *r, FILE *out, rt_error *e) {
    dump_ctx d = {out, e, RT_OK};
    rt_err rc = sim_run_each_keyed(r, dump_one, &d, e);
    return rc != RT_OK ? rc : d.rc;
}

rt_err drv_spa_read(rt_store *store, const char *dir, const drv_spa_opts *o, FILE *out, rt_error *e) {
    sim_run *r = NULL;
    rt_err rc = open_reader(store, dir, o, SIM_MEMORY_THRESHOLD_DEFAULT, &r, e);
    if (rc == RT_OK) rc = sim_run_verify_cut(r, e);
    if (rc == RT_OK && out) rc = dump(r, out, e);
    sim_run_destroy(r);
    return rc;
}

/* ---- the writer ---- */

static int rewritten(const drv_spa_write_req *req, const char *uid) {
    for (int i = 0; i < req->n_rewrite; i++)
        if (strcmp(req->rewrite[i], uid) == 0) return 1;
    return 0;
}

/* A fresh directory under target, named after the snapshot it came from. */
static rt_err fresh_dir(rt_store *store, const char *dir, const char *target, char *out, size_t cap,
                        rt_error *e) {
    uint64_t x = sim_checksum(dir, strlen(dir));
    for (int tries = 0; tries < 64; tries++, x = sim_checksum(&x, sizeof x)) {
        if ((size_t)snprintf(out, cap, "%s/savepoint-spa-%012" PRIx64, target, (uint64_t)(x & 0xffffffffffffULL)) >= cap)
            return RT_FAIL(e, RT_EINPUT, "spa: target directory name too long: %s", target);
        rt_strlist l = {0};
        rt_error ig;
        int used = rt_store_list(store, out, &l, &ig) == RT_OK && l.len > 0;
        rt_strlist_free(&l);
        if (!used) return RT_OK;
    }
    return RT_FAIL(e, RT_EEXIST, "spa: no fresh savepoint directory under %s", target);
}

/* FileCopyFunction: a key-group handle's file is copied by its name into
 * the new savepoint. A relative handle then resolves to the copy; an
 * absolute one still names the original (the copy is unused, as in Flink). */
static rt_err copy_file(rt_store *store, const char *new_dir, sim_file_ref *f, rt_error *e) {
    char to[SIM_PATH_MAX + 64];
    if ((size_t)snprintf(to, sizeof to, "%s/%s", new_dir, sim_file_ref_name(f)) >= SIM_PATH_MAX)
        return RT_FAIL(e, RT_EINPUT, "spa: path too long under %s", new_dir);
    if (rt_store_exists(store, to)) return RT_FAIL(e, RT_EEXIST, "spa: %s exists already", to);
    uint8_t *data = NULL;
    size_t len = 0;
    rt_err rc = rt_store_get(store, f->path, &data, &len, e);
    if (rc == RT_ENOENT) rc = RT_FAIL(e, RT_ENOENT, "spa: file %s of the original snapshot is missing", f->path);
    if (rc == RT_OK) rc = rt_store_put(store, to, data, len, e);
    free(data);
    if (rc == RT_OK && f->type == SIM_HANDLE_RELATIVE) memcpy(f->path, to, strlen(to) + 1); /* fits: checked */
    return rc;
}

/* An operator the writer leaves alone: its OperatorState as it was. The
 * writer ships it to the job that writes the new _metadata as a record
 * (SavepointWriter.getFinalOperatorStates: fromData(existingOperators), a
 * generic type, so Kryo). Channel state does not survive that trip: Kryo's
 * CollectionSerializer rebuilds an InputChannelStateHandle's or
 * ResultSubpartitionStateHandle's offsets by adding to the unmodifiable
 * list the handle holds, and fails (UnsupportedOperationException; seen by
 * the real-Flink lane on 1.20.0 and 2.0.0, matrix/observed/flink-spa.json). */
static rt_err carry_over(rt_store *store, const char *new_dir, sim_meta_op *op, sim_mutant mutant, rt_error *e) {
    for (int s = 0; s < op->n_sub; s++) {
        sim_meta_subtask *st = &op->sub[s];
        if (mutant == SIM_MUT_SPA_DROPS_CHANNEL_STATE) st->has_cs = 0;
        if (st->has_cs)
            return RT_FAIL(e, RT_ECHANNEL,
                           "spa: operator '%s' subtask %d carries channel state, which the writer cannot ship as "
                           "an OperatorState record (Kryo: UnsupportedOperationException on its offsets)",
                           op->uid, s);
        /* StatePathExtractor: only key-group handles' files are copied;
         * an incremental handle keeps naming the original's files. */
        if (!st->has_keyed || !sim_handle_is_one_stream(&st->keyed)) continue;
        for (int i = 0; i < st->keyed.n_files; i++) {
            if (st->keyed.files[i].type == SIM_HANDLE_BYTES) continue; /* in _metadata */
            rt_err rc = copy_file(store, new_dir, &st->keyed.files[i], e);
            if (rc != RT_OK) return rc;
        }
    }
    return RT_OK;
}

/* The operators of m, each rewritten (from the reader) or carried over. */
static rt_err compose(rt_store *store, sim_meta *m, sim_run *reader, const drv_spa_write_req *req,
                      const char *new_dir, sim_mutant mutant, rt_error *e) {
    for (int o = 0; o < m->n_ops; o++) {
        sim_meta_op *op = &m->ops[o];
        if (!rewritten(req, op->uid)) {
            rt_err rc = carry_over(store, new_dir, op, mutant, e);
            if (rc != RT_OK) return rc;
            continue;
        }
        /* removeOperator + withOperator: a new OperatorState, keyed state only. */
        sim_meta_op fresh;
        memset(&fresh, 0, sizeof fresh);
        rt_err rc = sim_run_write_keyed(reader, op->uid, req->format, new_dir, &fresh, &m->inline_pool, e);
        for (int s = 0; s < op->n_sub; s++) sim_handle_free(&op->sub[s].keyed);
        free(op->sub);
        *op = fresh;
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

static rt_err check_request(const sim_meta *m, const drv_spa_write_req *req, rt_error *e) {
    if (req->format != SIM_KIND_CANONICAL && req->format != SIM_KIND_NATIVE)
        return RT_FAIL(e, RT_EUSAGE, "spa: the writer writes a canonical or a native savepoint");
    for (int i = 0; i < req->n_rewrite; i++) {
        int found = 0;
        for (int o = 0; o < m->n_ops; o++) found |= strcmp(m->ops[o].uid, req->rewrite[i]) == 0;
        if (!found) return RT_FAIL(e, RT_EINPUT, "spa: the snapshot has no operator '%s'", req->rewrite[i]);
    }
    return RT_OK;
}

/* MergeOperatorStates: a savepoint of checkpoint id 0 (SnapshotUtils
 * .CHECKPOINT_ID) in the writer's engine's _metadata version; the job,
 * lineage and source data are the original's: its state is the cut's. */
static void as_new_savepoint(sim_meta *m, const drv_spa_write_req *req, const sim_version *engine) {
    m->version = engine->metadata_write;
    snprintf(m->engine, sizeof m->engine, "%s", engine->name);
    m->checkpoint_id = 0;
    m->savepoint = 1;
    snprintf(m->snapshot_kind, sizeof m->snapshot_kind, "%s", sim_kind_name(req->format));
    snprintf(m->format, sizeof m->format, "%s", sim_kind_name(req->format));
    snprintf(m->sharing, sizeof m->sharing, "NO_SHARING");
}

rt_err drv_spa_write(rt_store *store, const char *dir, const drv_spa_write_req *req, const drv_spa_opts *o,
                     char *new_dir, size_t cap, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load_in(o->meta_cache, &m, store, dir, NULL, NULL, e);
    if (rc != RT_OK) return rc;
    rc = check_request(&m, req, e);
    sim_run *reader = NULL;
    if (rc == RT_OK && req->n_rewrite > 0) {
        rc = open_reader(store, dir, o, req->memory_threshold, &reader, e);
        if (rc == RT_OK) rc = sim_run_verify_cut(reader, e);
    }
    if (rc == RT_OK) rc = fresh_dir(store, dir, req->target, new_dir, cap, e);
    int made = rc == RT_OK;
    if (rc == RT_OK) rc = compose(store, &m, reader, req, new_dir, o->mutant, e);
    as_new_savepoint(&m, req, o->engine);
    if (rc == RT_OK) rc = sim_meta_write(store, new_dir, &m, o->mutant, e);
    if (rc != RT_OK && made) {
        rt_error ig;
        rt_store_delete_tree(store, new_dir, &ig); /* nothing half-written stays */
    }
    sim_run_destroy(reader);
    sim_meta_free(&m);
    return rc;
}
