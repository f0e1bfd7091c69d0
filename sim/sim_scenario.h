/* sim_scenario: the scenario language (scenarios/ *.json, data only) and
 * its interpreter. A scenario is a list of steps (start, run, snapshot,
 * savepoint and stop with Flink's REST bodies, relocate, restore, failover,
 * State Processor API read and write, corrupt, fault, check) with the
 * placeholders $KIND, $BACKEND, $OTHER_BACKEND, $FROM and $TO, run once per
 * (kind, backend, variant). Errors in a file name the file, the step and
 * the problem. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "rt_err.h"
#include "sim_engine.h"

typedef struct sim_scn sim_scn;

typedef struct sim_scn_result {
    char outcome[16];  /* works|rejected|corrupted|crashed */
    rt_error err;      /* why, when not works */
    char backend[32];  /* "heap" or "heap->rocksdb" */
    char versions[48]; /* "1.15.0" or "1.15.0->1.16.0" */
    char digest[17];
    uint64_t virtual_ms, files, bytes;
} sim_scn_result;

/* Loads and validates a scenario file (every step's fields checked). */
rt_err sim_scn_load(sim_scn **out, const char *path, rt_error *e);
void sim_scn_free(sim_scn *s);
const char *sim_scn_name(const sim_scn *s);
const char *sim_scn_row(const sim_scn *s);
int sim_scn_variant_count(const sim_scn *s);
/* Whether the scenario runs for this backend (its "backends" list). */
int sim_scn_has_backend(const sim_scn *s, const char *backend);

typedef struct sim_scn_env {
    const char *out_dir;  /* a directory store there; NULL: in memory */
    const char *work_dir; /* local directory for RocksDB instances */
    FILE *trace_out;      /* JSONL trace, or NULL */
    sim_mutant mutant;    /* SIM_MUT_NONE unless testing the tests */
} sim_scn_env;

/* Runs one combination. Returns RT_OK when the scenario ran (whatever its
 * outcome, which is in *res), or an error when it could not be run at all
 * (a usage error in the scenario, the environment). */
rt_err sim_scn_run(const sim_scn *s, sim_kind kind, const char *backend, int variant, uint64_t seed,
                   const sim_scn_env *env, sim_scn_result *res, rt_error *e);

#endif
