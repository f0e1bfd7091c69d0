/* bench_size: the large-state part of `snapsim bench`. A RocksDB run of
 * the payload job (sim_job_payload: 100 random bytes a record, a key each)
 * loaded to a target size takes each kind of snapshot and restores each,
 * and the same run measures the physical floor beside them: a plain copy
 * of its SST bytes, and opening a copy of its RocksDB directory. Each size
 * and each memory point runs in a child process of its own, so its peak
 * RSS (getrusage of the child) is its own. */
#ifndef BENCH_SIZE_H
#define BENCH_SIZE_H

#include <stdint.h>

#include "bench_report.h"
#include "rt_err.h"
#include "sim_engine.h"

#define BENCH_SIZES_MAX 6
#define BENCH_MEM_POINTS_MAX 12

typedef struct bench_size_point {
    uint64_t mib;                 /* the target */
    uint64_t records;             /* loaded to reach it */
    uint64_t sst_bytes, sst_files; /* the live SSTs after loading (every subtask) */
    double load_wall_ms, load_cpu_ms;
    /* Snapshots: one each (the first checkpoint of the incremental run
     * uploads every SST: the full one; the incremental one follows a change
     * of change_records records). */
    bench_sample sp_canonical, sp_native, cp_full, cp_incr;
    bench_sample rs_canonical, rs_native, rs_full, rs_incr;
    /* The floor: copying the SST bytes; copying the RocksDB directories
     * and opening them. A savepoint's floor is the copy, a restore's the
     * copy and the open. */
    bench_sample floor_copy, floor_open;
    uint64_t change_records, incr_sst_new, incr_sst_uploaded;
    long peak_rss_kb;
    int verified; /* restores checked against the oracle */
} bench_size_point;

/* Memory of one configuration: a payload run of `mib` with `parallelism`
 * keyed subtasks and `retained` retained checkpoints, loaded with periodic
 * incremental checkpoints, then a native savepoint. */
typedef struct bench_mem_point {
    const char *axis; /* "parallelism" or "retained" */
    uint64_t mib, parallelism, retained, records;
    long peak_rss_kb;
    double wall_ms;
} bench_mem_point;

typedef struct bench_sizes {
    uint64_t seed;
    int n;
    bench_size_point p[BENCH_SIZES_MAX];
    int n_mem;
    bench_mem_point mem[BENCH_MEM_POINTS_MAX];
} bench_sizes;

/* Restores dir into a fresh run of cfg whose work directory is work,
 * timing sim_run_restore into out's wall_ms/cpu_ms; with verify, the run
 * is then checked against the oracle (not timed) and *verified counts it.
 * Both benches' restores (cmd_bench.c and this one). */
rt_err bench_restore_timed(const sim_config *cfg, const char *work, const char *dir, int verify, bench_sample *out,
                           int *verified, rt_error *e);

/* Records of the payload job that make about mib MiB of SST bytes. */
uint64_t bench_size_records(uint64_t mib);
/* Measures one size in a child process under root. */
rt_err bench_size_measure(const char *root, uint64_t seed, uint64_t mib, bench_size_point *p, rt_error *e);
/* Measures one memory point in a child process under root. */
rt_err bench_mem_measure(const char *root, uint64_t seed, bench_mem_point *m, rt_error *e);

/* The report: a section appended to bench.md, a "sizes" member of
 * bench.json, and two plots (time against state size per kind, with the
 * floor; peak RSS against state size, parallelism and retained
 * checkpoints). */
rt_err bench_sizes_append_md(const char *path, const bench_sizes *s, const char *time_svg, const char *mem_svg,
                             rt_error *e);
rt_err bench_sizes_add_json(const char *path, const bench_sizes *s, rt_error *e);
rt_err bench_write_sizes_svg(const char *path, const bench_sizes *s, rt_error *e);
rt_err bench_write_memory_svg(const char *path, const bench_sizes *s, rt_error *e);

#endif
