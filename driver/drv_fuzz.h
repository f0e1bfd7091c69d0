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

/* The risky sequences a case may go through (counted by `snapsim fuzz`;
 * the draw is biased so that each reaches a share of the seeds):
 *   claim|no-claim|legacy-reuse-failover: a restore in that mode, then a
 *     checkpoint that builds on files it did not upload (the restored ones
 *     after CLAIM or LEGACY, the first full checkpoint's after NO_CLAIM),
 *     then a task or coordinator failover;
 *   savepoint-between-incrementals: an incremental checkpoint, a savepoint,
 *     another incremental checkpoint of the same job;
 *   stop-under-faults: a stop-with-savepoint during which a fault fired. */
typedef enum {
    DRV_SEQ_CLAIM,
    DRV_SEQ_NO_CLAIM,
    DRV_SEQ_LEGACY,
    DRV_SEQ_SP_BETWEEN,
    DRV_SEQ_STOP_FAULTS,
    DRV_SEQ_COUNT
} drv_fuzz_seq;

const char *drv_fuzz_seq_name(drv_fuzz_seq s);

typedef struct drv_fuzz_result {
    uint64_t seed;
    int violated;        /* an invariant broke: a bug */
    char known_bug[16];  /* a Flink bug open in every release ended the case ("FLINK-39964"), or "" */
    char outcome[16];    /* works|rejected|corrupted|crashed */
    rt_error why;        /* the violation, or the named error that ended the case */
    char backend[16];
    char kind[16];       /* the snapshot kind the case exercised most */
    char digest[17];
    uint64_t unseed;     /* the next draw after the run: equal on replay */
    char plan[512];      /* the fault plan, as rt_fault_plan_describe says it */
    char actions[512];   /* the actions, for humans */
    uint64_t virtual_ms, files, bytes;
    unsigned sequences;  /* bit (1u << drv_fuzz_seq) per sequence gone through */
} drv_fuzz_result;

/* Runs the case of one seed. Returns RT_OK when the case ran (violated or
 * not), an error when it could not run at all. */
rt_err drv_fuzz_one(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                    drv_fuzz_result *out, rt_error *e);

typedef rt_err (*drv_fuzz_fn)(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                              drv_fuzz_result *out, rt_error *e);
/* fn (drv_fuzz_one) on one seed in a child process, without a trace: a
 * child that dies before it answers (an assertion, a sanitizer, a signal)
 * is a crashed seed, violated, with the cause in why; the work directory
 * may then hold its leftovers. Errors: fork and pipe, or fn's own. Call
 * it from a process that has not opened RocksDB: the threads of RocksDB's
 * default environment do not survive fork, and a child would wait on
 * them for ever. */
rt_err drv_fuzz_isolated(drv_fuzz_fn fn, uint64_t seed, const char *work_dir, sim_mutant mutant,
                         drv_fuzz_result *out, rt_error *e);

#endif
