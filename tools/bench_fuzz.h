/* bench_fuzz: the fuzz part of `snapsim bench`. Seeds of the default swarm
 * run one after another in this process (drv_fuzz_one, as a sweep's child
 * runs them): CPU time per seed by backend, and for the RocksDB seeds the
 * calls they made into RocksDB (sim_backend_rocksdb_counts). Beside them,
 * on the same backend code, what one such call costs alone: a new DB
 * opened and closed, one native snapshot of the default job's three states
 * (their flushes, the RocksDB checkpoint, the upload), one point read. The
 * calls times their cost is the RocksDB floor of a seed: what it costs at
 * least while it makes those calls, whatever the rest of the engine does. */
#ifndef BENCH_FUZZ_H
#define BENCH_FUZZ_H

#include <stdint.h>

#include "bench_report.h"
#include "rt_err.h"
#include "sim_backend.h"

typedef struct bench_fuzz {
    uint64_t first, seeds;
    uint64_t n_heap, n_rocks;
    double cpu_heap_ms, cpu_rocks_ms, wall_ms;
    sim_rocks_counts rocks; /* summed over the RocksDB seeds */
    int unit_rounds;
    bench_sample open, snapshot; /* medians of the rounds, per call */
    double get_us;               /* one point read, averaged over many */
} bench_fuzz;

/* Runs seeds first..first+seeds-1 and the unit costs, under root. */
rt_err bench_fuzz_measure(const char *root, uint64_t first, uint64_t seeds, int unit_rounds, bench_fuzz *out,
                          rt_error *e);
/* CPU ms of RocksDB calls per RocksDB seed: the calls times their cost. */
double bench_fuzz_floor_ms(const bench_fuzz *f);

/* A section appended to bench.md; a "fuzz" member of bench.json. */
rt_err bench_fuzz_append_md(const char *path, const bench_fuzz *f, rt_error *e);
rt_err bench_fuzz_add_json(const char *path, const bench_fuzz *f, rt_error *e);

#endif
