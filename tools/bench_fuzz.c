/* bench_fuzz: seeds of the default swarm and the RocksDB floor under them
 * (bench_fuzz.h). */
#include "bench_fuzz.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_fuzz.h"
#include "rt_prng.h"
#include "rt_storage.h"
#include "sim_handle.h"
#include "sim_version.h"

#define FUZZ_UNIT_KEYS 256    /* the default job's keys */
#define FUZZ_UNIT_CHANGED 64  /* keys written per state between two snapshots */
#define FUZZ_UNIT_GETS 20000  /* point reads averaged into one */
#define FUZZ_UNIT_MAX_PAR 128 /* the default job's max_parallelism */
#define FUZZ_UNIT_VALUE 40    /* bytes of a value, about an aggregate's */

/* The default job's keyed operator (scenarios/jobs/default.json): a value,
 * a list and a map state, one subtask holding every key group. */
static const sim_state_desc unit_states[3] = {
    {.name = "stats", .kind = SIM_STATE_VALUE, .schema_version = 1, .n_fields = 3,
     .fields = {SIM_F_COUNT, SIM_F_SUM, SIM_F_XOR}},
    {.name = "top", .kind = SIM_STATE_LIST, .schema_version = 1},
    {.name = "buckets", .kind = SIM_STATE_MAP, .schema_version = 1},
};

static rt_err unit_backend(const char *root, unsigned n, sim_backend **out, rt_error *e) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/unit-%u", root, n);
    sim_backend_config cfg = {.kind = "rocksdb", .kg_lo = 0, .kg_hi = FUZZ_UNIT_MAX_PAR - 1,
                              .max_parallelism = FUZZ_UNIT_MAX_PAR, .n_states = 3, .states = unit_states,
                              .incremental = 1, .engine = sim_version_find("1.18.1"), .work_dir = dir};
    if (cfg.engine == NULL) return RT_FAIL(e, RT_EINTERNAL, "bench: no engine 1.18.1");
    return sim_backend_create(out, &cfg, e);
}

static rt_err unit_put(sim_backend *b, int state, uint64_t i, uint64_t version, rt_error *e) {
    uint64_t key = rt_mix3(1, i, 1);
    uint8_t v[FUZZ_UNIT_VALUE];
    for (size_t j = 0; j < sizeof v; j++) v[j] = (uint8_t)rt_mix3(key, version, j);
    return b->ops->put(b, state, (uint32_t)(key % FUZZ_UNIT_MAX_PAR), key, v, sizeof v, e);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void median_of(const bench_sample *rounds, int n, bench_sample *out) {
    assert(n > 0 && n <= BENCH_REPS_MAX);
    double wall[BENCH_REPS_MAX] = {0}, cpu[BENCH_REPS_MAX] = {0};
    for (int i = 0; i < n; i++) {
        wall[i] = rounds[i].wall_ms;
        cpu[i] = rounds[i].cpu_ms;
    }
    qsort(wall, (size_t)n, sizeof wall[0], cmp_double);
    qsort(cpu, (size_t)n, sizeof cpu[0], cmp_double);
    memset(out, 0, sizeof *out);
    out->wall_ms = wall[n / 2];
    out->cpu_ms = cpu[n / 2];
}

/* A new DB opened (its first put) and closed (destroyed with its backend);
 * one warm-up round first (it makes the process's empty DB). */
static rt_err unit_open(const char *root, int rounds, bench_sample *out, rt_error *e) {
    bench_sample s[BENCH_REPS_MAX] = {{0}};
    for (int r = -1; r < rounds; r++) {
        bench_watch w = bench_watch_start();
        sim_backend *b = NULL;
        rt_err rc = unit_backend(root, (unsigned)(r + 1), &b, e);
        if (rc == RT_OK) rc = unit_put(b, 0, 0, 0, e);
        if (b != NULL) sim_backend_destroy(b);
        if (rc != RT_OK) return rc;
        if (r >= 0) bench_watch_stop(&w, &s[r]);
    }
    median_of(s, rounds, out);
    return RT_OK;
}

/* Incremental checkpoints of one backend, FUZZ_UNIT_CHANGED keys of each
 * state written before each; then FUZZ_UNIT_GETS reads of its keys. */
static rt_err unit_snapshots(const char *root, int rounds, bench_sample *out, double *get_us, rt_error *e) {
    rt_store *store = NULL;
    rt_err rc = rt_store_open_mem(&store, "bench-fuzz-unit", e);
    if (rc != RT_OK) return rc;
    sim_backend *b = NULL;
    rc = unit_backend(root, 1000, &b, e);
    for (uint64_t i = 0; rc == RT_OK && i < FUZZ_UNIT_KEYS; i++)
        for (int st = 0; rc == RT_OK && st < 3; st++) rc = unit_put(b, st, i, 0, e);
    bench_sample s[BENCH_REPS_MAX] = {{0}};
    for (int r = -1; rc == RT_OK && r < rounds; r++) {
        for (uint64_t i = 0; rc == RT_OK && i < FUZZ_UNIT_CHANGED; i++)
            for (int st = 0; rc == RT_OK && st < 3; st++)
                rc = unit_put(b, st, (i * 7 + (uint64_t)(r + 1) * 13) % FUZZ_UNIT_KEYS, (uint64_t)(r + 2), e);
        if (rc != RT_OK) break;
        char dir[64];
        int64_t id = r + 2;
        snprintf(dir, sizeof dir, "job/chk-%" PRId64, id);
        sim_snap_ctx ctx = {.store = store, .dir = dir, .shared_dir = "job/shared", .file_prefix = "agg-0",
                            .sharing = SIM_SHARE_FORWARD_BACKWARD, .checkpoint_id = id, .engine = b->engine};
        sim_keyed_handle h;
        bench_watch w = bench_watch_start();
        rc = b->ops->snapshot_native(b, &ctx, &h, e);
        if (rc != RT_OK) break;
        b->ops->notify_complete(b, id);
        if (r >= 0) bench_watch_stop(&w, &s[r]);
        sim_handle_free(&h);
    }
    if (rc == RT_OK) {
        bench_watch w = bench_watch_start();
        uint8_t v[256];
        for (int i = 0; rc == RT_OK && i < FUZZ_UNIT_GETS; i++) {
            uint64_t key = rt_mix3(1, (uint64_t)i % FUZZ_UNIT_KEYS, 1);
            size_t len = 0;
            int found = 0;
            rc = b->ops->get(b, i % 3, (uint32_t)(key % FUZZ_UNIT_MAX_PAR), key, v, sizeof v, &len, &found, e);
            if (rc == RT_OK && !found) rc = RT_FAIL(e, RT_EINTERNAL, "bench: a key written is not read back");
        }
        bench_sample g;
        bench_watch_stop(&w, &g);
        *get_us = g.cpu_ms * 1e3 / FUZZ_UNIT_GETS;
    }
    if (b != NULL) sim_backend_destroy(b);
    rt_store_close(store);
    if (rc == RT_OK) median_of(s, rounds, out);
    return rc;
}

rt_err bench_fuzz_measure(const char *root, uint64_t first, uint64_t seeds, int unit_rounds, bench_fuzz *out,
                          rt_error *e) {
    assert(unit_rounds > 0 && unit_rounds <= BENCH_REPS_MAX);
    memset(out, 0, sizeof *out);
    out->first = first;
    out->seeds = seeds;
    out->unit_rounds = unit_rounds;
    char work[600];
    snprintf(work, sizeof work, "%s/seeds", root);
    bench_watch all = bench_watch_start();
    for (uint64_t s = first; s < first + seeds; s++) {
        sim_rocks_counts before = sim_backend_rocksdb_counts();
        bench_watch w = bench_watch_start();
        drv_fuzz_result r;
        rt_err rc = drv_fuzz_one(s, work, NULL, SIM_MUT_NONE, &r, e);
        if (rc != RT_OK) return rc;
        if (r.violated) return RT_FAIL(e, RT_EINTERNAL, "bench: fuzz seed %" PRIu64 " violated an invariant: %s", s, r.why.msg);
        bench_sample t;
        bench_watch_stop(&w, &t);
        sim_rocks_counts after = sim_backend_rocksdb_counts();
        if (strcmp(r.backend, "rocksdb") == 0) {
            out->n_rocks++;
            out->cpu_rocks_ms += t.cpu_ms;
            out->rocks.opens += after.opens - before.opens;
            out->rocks.flushes += after.flushes - before.flushes;
            out->rocks.checkpoints += after.checkpoints - before.checkpoints;
            out->rocks.gets += after.gets - before.gets;
            out->rocks.writes += after.writes - before.writes;
        } else {
            out->n_heap++;
            out->cpu_heap_ms += t.cpu_ms;
        }
    }
    bench_sample t;
    bench_watch_stop(&all, &t);
    out->wall_ms = t.wall_ms;
    rt_err rc = unit_open(root, unit_rounds, &out->open, e);
    if (rc == RT_OK) rc = unit_snapshots(root, unit_rounds, &out->snapshot, &out->get_us, e);
    return rc;
}

double bench_fuzz_floor_ms(const bench_fuzz *f) {
    if (f->n_rocks == 0) return 0;
    double ms = (double)f->rocks.opens * f->open.cpu_ms + (double)f->rocks.checkpoints * f->snapshot.cpu_ms +
                (double)f->rocks.gets * f->get_us / 1e3;
    return ms / (double)f->n_rocks;
}

static double per(double total, uint64_t n) { return n ? total / (double)n : 0; }

rt_err bench_fuzz_append_md(const char *path, const bench_fuzz *f, rt_error *e) {
    FILE *o = fopen(path, "a");
    if (o == NULL) return RT_FAIL(e, RT_EIO, "bench: cannot append to %s", path);
    double n = (double)f->seeds, cpu = f->cpu_heap_ms + f->cpu_rocks_ms;
    double rocks_ms = per(f->cpu_rocks_ms, f->n_rocks), floor_ms = bench_fuzz_floor_ms(f);
    double ceiling = floor_ms > 0 ? 1e3 * n / (f->cpu_heap_ms + (double)f->n_rocks * floor_ms) : 0;
    fprintf(o, "\n## Fuzz: seeds per CPU-second, and the RocksDB floor of a seed\n\n"
               "Seeds %" PRIu64 "..%" PRIu64 " of the default swarm, one after another in this process (as a sweep's "
               "child runs them), each timed in CPU (RocksDB's threads included): %.1f seeds per CPU-second "
               "(%.1f s of wall time).\n\n"
               "| backend | seeds | CPU ms per seed | seeds per CPU-s |\n|---|---:|---:|---:|\n"
               "| heap | %" PRIu64 " | %.1f | %.1f |\n| rocksdb | %" PRIu64 " | %.1f | %.1f |\n\n",
            f->first, f->first + f->seeds - 1, cpu > 0 ? 1e3 * n / cpu : 0, f->wall_ms / 1e3, f->n_heap,
            per(f->cpu_heap_ms, f->n_heap), f->cpu_heap_ms > 0 ? 1e3 * (double)f->n_heap / f->cpu_heap_ms : 0,
            f->n_rocks, rocks_ms, f->cpu_rocks_ms > 0 ? 1e3 * (double)f->n_rocks / f->cpu_rocks_ms : 0);
    fprintf(o, "What a RocksDB seed asked of RocksDB, on average, and what each call costs alone (the same backend "
               "code, measured after the seeds: a median of %d rounds; a read averaged over %d):\n\n"
               "| call | per seed | CPU each | CPU per seed |\n|---|---:|---:|---:|\n"
               "| new DB opened and closed | %.1f | %.2f ms | %.1f ms |\n"
               "| native snapshot (flush of 3 states, checkpoint, upload) | %.1f | %.2f ms | %.1f ms |\n"
               "| point read | %.0f | %.2f us | %.1f ms |\n"
               "| (column-family flushes, in the snapshots above) | %.1f | | |\n"
               "| (write batches) | %.1f | | |\n\n",
            f->unit_rounds, FUZZ_UNIT_GETS, per((double)f->rocks.opens, f->n_rocks), f->open.cpu_ms,
            per((double)f->rocks.opens, f->n_rocks) * f->open.cpu_ms, per((double)f->rocks.checkpoints, f->n_rocks),
            f->snapshot.cpu_ms, per((double)f->rocks.checkpoints, f->n_rocks) * f->snapshot.cpu_ms,
            per((double)f->rocks.gets, f->n_rocks), f->get_us,
            per((double)f->rocks.gets, f->n_rocks) * f->get_us / 1e3, per((double)f->rocks.flushes, f->n_rocks),
            per((double)f->rocks.writes, f->n_rocks));
    fprintf(o, "The RocksDB floor of a RocksDB seed is %.1f ms of the %.1f ms it took (%.0f%%): with the rest of the "
               "engine free, the swarm would run at most %.1f seeds per CPU-second. A snapshot's cost here is that "
               "of the default job's three states all written; a seed's snapshots flush fewer of them when fewer "
               "changed, and its opens include the restores' (an existing DB), so the floor is an estimate, not a "
               "bound.\n",
            floor_ms, rocks_ms, rocks_ms > 0 ? 100 * floor_ms / rocks_ms : 0, ceiling);
    int bad = ferror(o);
    if (fclose(o) != 0 || bad) return RT_FAIL(e, RT_EIO, "bench: cannot write %s", path);
    return RT_OK;
}

rt_err bench_fuzz_add_json(const char *path, const bench_fuzz *f, rt_error *e) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) return RT_FAIL(e, RT_EIO, "bench: cannot read back %s: %s", path, je.text);
    json_t *calls = json_pack("{s:I, s:I, s:I, s:I, s:I}", "opens", (json_int_t)f->rocks.opens, "flushes",
                              (json_int_t)f->rocks.flushes, "checkpoints", (json_int_t)f->rocks.checkpoints, "gets",
                              (json_int_t)f->rocks.gets, "writes", (json_int_t)f->rocks.writes);
    json_t *unit = json_pack("{s:f, s:f, s:f, s:i}", "open_cpu_ms", f->open.cpu_ms, "snapshot_cpu_ms",
                             f->snapshot.cpu_ms, "get_cpu_us", f->get_us, "rounds", f->unit_rounds);
    json_object_set_new(root, "fuzz",
                        json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:o, s:o, s:f}", "first", (json_int_t)f->first,
                                  "seeds", (json_int_t)f->seeds, "heap_seeds", (json_int_t)f->n_heap,
                                  "rocksdb_seeds", (json_int_t)f->n_rocks, "heap_cpu_ms", f->cpu_heap_ms,
                                  "rocksdb_cpu_ms", f->cpu_rocks_ms, "wall_ms", f->wall_ms, "rocksdb_calls", calls,
                                  "unit", unit, "rocksdb_floor_ms_per_seed", bench_fuzz_floor_ms(f)));
    int rc = json_dump_file(root, path, JSON_INDENT(2));
    json_decref(root);
    return rc == 0 ? RT_OK : RT_FAIL(e, RT_EIO, "bench: cannot write %s", path);
}
