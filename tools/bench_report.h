/* bench_report: what `snapsim bench` measured and how it is written down.
 * A comparison has two sides measured interleaved (A B A B ...) in one
 * run; the report gives each side's min/median/max and the ratio B/A both
 * as a ratio of medians and as the spread of the per-round ratios, which
 * is what says whether a number is noise. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stdint.h>

#include "rt_err.h"

#define BENCH_REPS_MAX 32

/* One timed operation. bytes/files: what it wrote to the snapshot storage
 * (sim_run_stats deltas), or for a restore what it read. */
typedef struct bench_sample {
    double wall_ms, cpu_ms;
    uint64_t bytes, files;
    uint64_t records; /* records the sources emitted while it ran */
} bench_sample;

/* A wall and CPU clock started before an operation; bench_watch_stop
 * fills out's wall_ms and cpu_ms with what passed since. */
typedef struct bench_watch {
    double wall, cpu;
} bench_watch;
bench_watch bench_watch_start(void);
void bench_watch_stop(const bench_watch *w, bench_sample *out);

/* Removes a bench's scratch tree through the sandboxed store (as
 * session_close does). */
void bench_remove_tree(const char *dir);

typedef struct bench_side {
    char label[64];
    int n;
    bench_sample s[BENCH_REPS_MAX];
} bench_side;

typedef struct bench_cmp {
    char id[16];
    char title[128];
    char what[512];       /* what exactly is timed */
    char ratio_name[64];  /* e.g. "native / canonical" (B / A) */
    char flag[512];       /* a measured fact that looks wrong, or "" */
    bench_side a, b;
} bench_cmp;

typedef struct bench_summary {
    double min, p25, median, p75, max; /* quartiles interpolated linearly */
} bench_summary;

/* Spread of the per-round ratios above which a ratio is called noisy: the
 * middle half (p75 - p25) relative to the median. min and max are always
 * reported too; a single slow round (RocksDB's synchronous L0 compaction
 * every few flushes) shows there without making the ratio noisy. */
#define BENCH_NOISY_SPREAD 0.25

typedef enum { BENCH_WALL, BENCH_CPU, BENCH_BYTES, BENCH_FILES, BENCH_RECORDS } bench_metric;

bench_summary bench_side_summary(const bench_side *s, bench_metric m);
/* Per-round ratios B_i / A_i of a metric (rounds where A_i is 0 skipped). */
bench_summary bench_ratio_summary(const bench_cmp *c, bench_metric m);
/* median(B) / median(A), or 0 when median(A) is 0. */
double bench_ratio_of_medians(const bench_cmp *c, bench_metric m);
int bench_ratio_noisy(const bench_cmp *c, bench_metric m);

/* Facts about the machine and the configuration, printed as given. */
typedef struct bench_facts {
    int nproc;
    char rocksdb_version[3 * 11 + 3]; /* "major.minor.patch" (three ints) from rocksdb/version.h, or "unknown" */
    char rocksdb_header[128];
    char kernel[256];
    char compiler[128];
    char tmp_dir[512];
    char tmp_fs[32];
    char started_utc[32];
    double total_s;
    int quick;
    uint64_t seed, keys, records, small_change, reps, warmup;
    uint32_t splits, parallelism, max_parallelism;
    uint64_t rocks_local_bytes;  /* local RocksDB dirs of one run after loading */
    int all_verified;            /* every run (and restored run) agreed with the oracle */
    int n_verified;
} bench_facts;

/* The scale sweep: one `take` run per record count at one fixed checkpoint
 * interval (what `snapsim take --records N --interval MS` does), measured
 * whole: cost per record should stay flat as records grow. */
#define BENCH_SCALE_POINTS_MAX 8

typedef struct bench_scale_point {
    uint64_t records, checkpoints;
    double wall_ms, cpu_ms;
    uint64_t bytes_written, files_written;
    uint64_t bytes_kept, files_kept; /* the store after the run: what a user keeps */
    uint64_t sst_bytes_uploaded, sst_bytes_new; /* summed over completed checkpoints */
} bench_scale_point;

typedef struct bench_scale {
    uint64_t interval_ms, keys;
    const char *backend, *kind; /* "rocksdb", the final snapshot's kind */
    int n;
    bench_scale_point p[BENCH_SCALE_POINTS_MAX];
} bench_scale;

rt_err bench_write_md(const char *path, const bench_facts *f, const bench_cmp *c, int n,
                      const bench_scale *sc, const char *svg_name, rt_error *e);
rt_err bench_write_json(const char *path, const bench_facts *f, const bench_cmp *c, int n,
                        const bench_scale *sc, rt_error *e);
/* An SVG (hand-written, no dependency) of the sweep: three log-log panels,
 * records against time, bytes written and bytes kept, each with the line
 * a cost linear in records would follow from the smallest run. */
rt_err bench_write_scale_svg(const char *path, const bench_scale *sc, rt_error *e);

#endif
