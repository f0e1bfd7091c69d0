/* drv_spa: the State Processor API reader and writer (see drv_spa.h). Both go
 * through the engine's own restore and snapshot code: no second parser. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "drv_spa.h"
#include "sim_engine.h"
#include "sim_metadata.h"

/* A run of the snapshot's job on the snapshot's backend, restored. */
static rt_err open_reader(rt_store *store, const char *dir, const sim_version *engine,
                          const char *work_dir, sim_run **out, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load(&m, store, dir, e);
    if (rc != RT_OK) return rc;
    int inflight = 0;
    rc = sim_meta_has_inflight(store, &m, engine, &inflight, e);
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

rt_err drv_spa_read(rt_store *store, const char *dir, const sim_version *engine, const char *work_dir,
                    FILE *out, rt_error *e) {
    sim_run *r = NULL;
    rt_err rc = open_reader(store, dir, engine, work_dir, &r, e);
    if (rc == RT_OK) rc = sim_run_verify_cut(r, e);
    if (rc == RT_OK && out) rc = dump(r, out, e);
    sim_run_destroy(r);
    return rc;
}

rt_err drv_spa_write(rt_store *store, const char *dir, const char *target, const sim_version *engine,
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
    if (rc == RT_OK) rc = sim_run_verify_cut(r, e);
    /* The sources stay at the restored offsets: the savepoint holds exactly
     * what was read. */
    if (rc == RT_OK) rc = sim_run_savepoint_at_cut(r, SIM_KIND_CANONICAL, target, new_dir, cap, e);
    sim_run_destroy(r);
    return rc;
}
