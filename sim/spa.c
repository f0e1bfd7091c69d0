/* spa: the State Processor API reader and writer (see sim_spa.h). Both go
 * through the engine's own restore and snapshot code: no second parser. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format_canonical.h"
#include "sim_internal.h"
#include "sim_spa.h"

/* True when any channel-state file of the snapshot holds records. */
static rt_err has_inflight(rt_store *store, const sim_meta *m, const sim_version *engine, int *yes,
                           rt_error *e) {
    *yes = 0;
    for (int o = 0; o < m->n_ops && !*yes; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++) {
            const sim_file_ref *f = &m->ops[o].sub[s].cs_file;
            if (!m->ops[o].sub[s].has_cs) continue;
            uint8_t *data = NULL;
            size_t len = 0;
            rt_err rc = rt_store_get(store, f->path, &data, &len, e);
            if (rc != RT_OK) return rc;
            sim_cs_list l = {0};
            rc = sim_cs_read(data, len, f->path, engine, SIM_MUT_NONE, &m->job, &l, e);
            free(data);
            free(l.r);
            if (rc != RT_OK) return rc;
            if (l.n) *yes = 1;
        }
    return RT_OK;
}

/* A run of the snapshot's job on the snapshot's backend, restored. */
static rt_err open_reader(rt_store *store, const char *dir, const sim_version *engine,
                          const char *work_dir, sim_run **out, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load(&m, store, dir, e);
    if (rc != RT_OK) return rc;
    int inflight = 0;
    rc = has_inflight(store, &m, engine, &inflight, e);
    if (rc == RT_OK && inflight)
        rc = RT_FAIL(e, RT_ECHANNEL,
                     "%s holds in-flight channel state; the State Processor API reads keyed state "
                     "only, which alone is not a consistent view of this snapshot", dir);
    sim_config cfg;
    sim_config_defaults(&cfg);
    cfg.job = m.job;
    /* The reader needs the writer's backend for a native format. */
    cfg.backend = strcmp(m.format, "canonical") == 0 || strcmp(m.backend, "rocksdb") != 0 ? "heap" : "rocksdb";
    cfg.engine = engine;
    cfg.store = store;
    /* Its own RocksDB directories: the job that wrote the snapshot may still
     * hold its instances open under the same names. */
    char reader_dir[600];
    snprintf(reader_dir, sizeof reader_dir, "%s/spa-reader", work_dir ? work_dir : "/tmp");
    mkdir(reader_dir, 0700);
    cfg.work_dir = reader_dir;
    cfg.interval_ms = 0;
    sim_meta_free(&m);
    if (rc == RT_OK) rc = sim_run_create(out, &cfg, e);
    if (rc == RT_OK) rc = sim_restore_into(*out, dir, SIM_MODE_NO_CLAIM, 0, 0, e);
    if (rc != RT_OK && *out) {
        sim_run_destroy(*out);
        *out = NULL;
    }
    return rc;
}

typedef struct dump_ctx {
    FILE *out;
    const char *uid;
    const sim_state_desc *states;
    rt_error *e;
    rt_err rc;
} dump_ctx;

static int dump_one(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    dump_ctx *d = ctx;
    sim_value v;
    d->rc = sim_value_decode(&v, &d->states[state], val, len, d->e);
    if (d->rc != RT_OK) return 1;
    char text[512];
    sim_value_format(&v, &d->states[state], text, sizeof text);
    fprintf(d->out, "{\"uid\":\"%s\",\"key_group\":%u,\"key\":%" PRIu64 ",\"state\":\"%s\",\"value\":%s}\n",
            d->uid, kg, key, d->states[state].name, text);
    return 0;
}

static rt_err dump(sim_run *r, FILE *out, rt_error *e) {
    for (int t = 0; t < r->n_tasks; t++) {
        sim_backend *b = r->tasks[t].backend;
        if (b == NULL) continue;
        dump_ctx d = {out, r->job.ops[r->tasks[t].op].uid, b->states, e, RT_OK};
        for (int s = 0; s < b->n_states && d.rc == RT_OK; s++) {
            rt_err rc = b->ops->scan(b, s, dump_one, &d, e);
            if (rc != RT_OK) return rc;
        }
        if (d.rc != RT_OK) return d.rc;
    }
    return RT_OK;
}

rt_err sim_spa_read(rt_store *store, const char *dir, const sim_version *engine, const char *work_dir,
                    FILE *out, rt_error *e) {
    sim_run *r = NULL;
    rt_err rc = open_reader(store, dir, engine, work_dir, &r, e);
    if (rc == RT_OK) rc = sim_oracle_verify_cut(r, e);
    if (rc == RT_OK && out) rc = dump(r, out, e);
    sim_run_destroy(r);
    return rc;
}

rt_err sim_spa_write(rt_store *store, const char *dir, const char *target, const sim_version *engine,
                     const char *work_dir, char *new_dir, size_t cap, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load(&m, store, dir, e);
    if (rc != RT_OK) return rc;
    int canonical = strcmp(m.format, "canonical") == 0;
    char kind[16];
    snprintf(kind, sizeof kind, "%s", m.snapshot_kind);
    sim_meta_free(&m);
    if (!canonical)
        return RT_FAIL(e, RT_EFORMAT,
                       "the State Processor API writer produces canonical savepoints only; it cannot "
                       "write a snapshot of kind '%s'", kind);
    sim_run *r = NULL;
    rc = open_reader(store, dir, engine, work_dir, &r, e);
    if (rc == RT_OK) rc = sim_oracle_verify_cut(r, e);
    /* The sources stay at the restored offsets: the savepoint holds exactly
     * what was read. */
    if (rc == RT_OK) rc = sim_coord_trigger(r, SIM_KIND_CANONICAL, 1, target, e);
    if (rc == RT_OK) {
        sim_coord_start(r);
        sim_start_sources(r);
        rc = sim_coord_wait(r, e);
    }
    if (rc == RT_OK && r->pend.failed) {
        *e = r->pend.err;
        rc = e->code;
    }
    if (rc == RT_OK) snprintf(new_dir, cap, "%s", r->pend.dir);
    sim_run_destroy(r);
    return rc;
}
