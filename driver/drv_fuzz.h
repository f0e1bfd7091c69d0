/* drv_fuzz: one fault-injection case per seed. The seed draws the job
 * (backend, alignment, parallelism, retention, checkpoints in progress at
 * once), which fault kinds are on and at what points (swarm testing), and
 * a sequence of actions (records,
 * savepoints, task and coordinator failovers, restores in any mode and
 * parallelism, stop-with-savepoint). Invariants are checked after every
 * action; after the faults stop, a liveness phase must complete a
 * checkpoint within a bound, and the final state must match the oracle. */
#ifndef DRV_FUZZ_H
#define DRV_FUZZ_H

#include <stdint.h>
#include <stdio.h>

#include "rt_err.h"
#include "sim_mutant.h"

typedef struct drv_fuzz_result {
    uint64_t seed;
    int violated;        /* an invariant broke: a bug */
    char outcome[16];    /* works|rejected|corrupted|crashed */
    rt_error why;        /* the violation, or the named error that ended the case */
    char backend[16];
    char kind[16];       /* the snapshot kind the case exercised most */
    char digest[17];
    uint64_t unseed;     /* the next draw after the run: equal on replay */
    char plan[512];      /* the fault plan, as rt_fault_plan_describe says it */
    char actions[512];   /* the actions, for humans */
    uint64_t virtual_ms, files, bytes;
} drv_fuzz_result;

/* Runs the case of one seed. Returns RT_OK when the case ran (violated or
 * not), an error when it could not run at all. */
rt_err drv_fuzz_one(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                    drv_fuzz_result *out, rt_error *e);

#endif
