/* runner: runs scenario combinations (scenario x kind x backend x variant)
 * for `scenario run` and `matrix`, optionally in parallel worker processes,
 * and hands back their results in a fixed order. */
#ifndef RUNNER_H
#define RUNNER_H

#include <stdint.h>

#include "cli_opt.h"
#include "mx.h"
#include "rt_err.h"
#include "drv_flink.h"
#include "drv_scenario.h"

typedef struct runner_combo {
    int scenario; /* index into the loaded scenarios */
    sim_kind kind;
    char backend[16];
    int variant;
} runner_combo;

typedef struct runner {
    char **paths;
    drv_scn **scns;
    int n_scns;
    runner_combo *combos;
    int n_combos;
    uint64_t seed;
    sim_mutant mutant;
    FILE *trace; /* JSONL trace of every combination (in-process runs only) */
    const drv_flink_opts *flink; /* non-NULL: the real-Flink lane instead of the model */
    const char *keep_runs; /* non-NULL: runs go under it, and those neither works nor skipped stay */
} runner;

/* Which implementation runs the scenarios: --impl model|flink, --release,
 * --runners (scenario run and matrix). */
typedef struct runner_lane {
    int flink;
    drv_flink_opts fo;
} runner_lane;
extern const cli_opt runner_lane_options[];
void runner_lane_defaults(runner_lane *l);
/* --mutant NAME into a sim_mutant (scenario run, fuzz, replay). */
extern const cli_opt runner_mutant_option[];

/* Loads scenario files (a directory: every *.json in it, sorted). */
rt_err runner_load(runner *r, const char *const *paths, int n, rt_error *e);
rt_err runner_load_dir(runner *r, const char *dir, rt_error *e);
/* Expands the combinations, filtered by kind/backend (NULL = all) and by
 * shard (index % shard_n == shard_i). */
rt_err runner_expand(runner *r, const char *kind, const char *backend, int shard_i, int shard_n,
                     rt_error *e);
void runner_free(runner *r);

/* The order in which worker processes take the combinations from their
 * shared queue: every index once, longest expected first (a deterministic
 * estimate from the scenario's steps, backend and incremental
 * checkpoints), ties in index order. order holds n_combos ints. */
rt_err runner_queue_order(const runner *r, int *order, rt_error *e);

/* Runs every combination with `jobs` worker processes; results[i] is the
 * result of combos[i]. Progress goes to stderr when `progress`. */
rt_err runner_run(runner *r, int jobs, int progress, const char *out_dir, mx_result *results,
                  rt_error *e);

#endif
