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
#include "rt_prng.h"
#include "sim_engine.h"
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
    char violation[128]; /* a violation's class: the invariant broken, without ids ("" if none or crashed) */
    char backend[16];
    char kind[16];       /* the snapshot kind the case exercised most */
    char digest[17];
    uint64_t unseed;     /* the next draw after the run: equal on replay */
    char plan[512];      /* the fault plan, as rt_fault_plan_describe says it */
    char actions[512];   /* the actions, for humans */
    uint64_t virtual_ms, files, bytes;
    unsigned sequences;  /* bit (1u << drv_fuzz_seq) per sequence gone through */
    int stopped;         /* a drv_fuzz_stop halted the case before its end (outcome "stopped") */
} drv_fuzz_result;

/* Runs the case of one seed. Returns RT_OK when the case ran (violated or
 * not), an error when it could not run at all. */
rt_err drv_fuzz_one(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                    drv_fuzz_result *out, rt_error *e);

typedef rt_err (*drv_fuzz_fn)(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                              drv_fuzz_result *out, rt_error *e);
/* A sweep's seeds: count seeds first, first + step, first + 2 step, ... */
typedef struct drv_fuzz_seeds {
    uint64_t first, step, count;
} drv_fuzz_seeds;

/* Seeds per child process in drv_fuzz_sweep. */
#define DRV_FUZZ_BATCH 16

/* What a sweep does with each seed's result, in seed order, in the
 * parent: result returns nonzero to stop the sweep; fresh (may be NULL)
 * cleans the work directory after a child died in it, before the next
 * child starts, and returns nonzero when it cannot. */
typedef struct drv_fuzz_sink {
    int (*result)(void *ctx, const drv_fuzz_result *r);
    int (*fresh)(void *ctx, const char *work_dir);
    void *ctx;
} drv_fuzz_sink;

/* fn on every seed, several seeds (up to DRV_FUZZ_BATCH) per child
 * process, without a trace, each answered through the pipe as it ends: a
 * child forks once per batch, not once per seed. A child that dies before
 * it answers its first seed (an assertion, a sanitizer, a signal) makes
 * that a crashed seed, violated, with the cause in why; the work directory
 * may then hold its leftovers (sink->fresh cleans it). A child that dies
 * during a seed that was not its first is not blamed on it yet; that seed and the rest of the
 * batch run again in a new child where it comes first, so a crashed result
 * always names the seed whose own run crashed (a seed that damaged the
 * process for a later one cannot shift the blame) and no seed is lost.
 * Errors: fork and pipe, fn's own for a seed (the sweep stops there), or
 * RT_EINTERNAL when the sink stops it or cannot clean the work dir. Call
 * it from a process that has not opened RocksDB: the threads of RocksDB's
 * default environment do not survive fork, and a child would wait on them
 * for ever. */
rt_err drv_fuzz_sweep(drv_fuzz_fn fn, const drv_fuzz_seeds *seeds, const char *work_dir, sim_mutant mutant,
                      const drv_fuzz_sink *sink, rt_error *e);

/* Where a stopped case stopped (replay --until, --break). A case's time
 * runs on over its jobs (a restore starts a new job whose clock, the "t"
 * of its trace events, starts at 0): case_ms is every earlier job's time
 * plus the current job's clock. */
typedef struct drv_fuzz_stop_at {
    const char *why;   /* "time": before the first event after until_ms;
                        * "event": after the step that wrote the matching event;
                        * "end": the case ended first (the final state) */
    uint64_t case_ms;  /* the case's virtual time of the stop */
    int job;           /* which job of the case (1: the first) */
    uint64_t job_ms;   /* the job's own clock */
    uint64_t next_ms;  /* "time": the job clock of the event that did not run */
    uint64_t line;     /* "event": the matching line's number in the trace (1-based) */
    uint64_t event_ms; /* "event": its "t" */
    const char *text;  /* "event": the line itself */
    const char *action; /* the case's action in progress ("liveness": its last phase) */
} drv_fuzz_stop_at;

/* Stops a case at a virtual time, or at the nth trace event named event,
 * whichever comes first; show is called once, with the run as it is there
 * (between two events; read it with sim_engine.h's views), or at the end of
 * the case if it never stopped. A stop changes nothing the case computed
 * before it: its trace up to the stop is a prefix of the full one. */
typedef struct drv_fuzz_stop {
    int has_until;
    uint64_t until_ms;  /* case time */
    const char *event;  /* a name of drv_trace_events, or NULL */
    uint64_t nth;       /* the event's nth occurrence (0 counts as 1) */
    void (*show)(void *ctx, const sim_run *run, const drv_fuzz_stop_at *at);
    void *ctx;
} drv_fuzz_stop;

/* drv_fuzz_one that stops where stop says (stop NULL: runs to the end). */
rt_err drv_fuzz_one_stop(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                         const drv_fuzz_stop *stop, drv_fuzz_result *out, rt_error *e);

/* drv_fuzz_one_stop whose choices go through tape (NULL: none): every
 * value the case draws itself (its job, fault plan and actions; not the
 * engine's own streams, which stay the seed's) is a choice. A recording
 * tape draws what the seed draws (the same case and digest) and notes the
 * choices; a replaying one hands out its in[] instead, so (seed, choices)
 * names a case: `replay --seed N --case C`, `fuzz --minimize`. */
rt_err drv_fuzz_case(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant, const drv_fuzz_stop *stop,
                     rt_tape *tape, drv_fuzz_result *out, rt_error *e);

/* The class of failure a result shows, "" if none: the invariant it broke
 * (drv_fuzz_result.violation), or for a crashed case its cause. A case a
 * known Flink bug ended is no failure. */
const char *drv_fuzz_failure(const drv_fuzz_result *r);

/* A case string: the choices in hex joined by '.' ("0" for none), as
 * `replay --case` takes it. format returns a malloc'd string (NULL: out of
 * memory); parse a malloc'd array, or RT_EINPUT naming what is wrong. */
char *drv_fuzz_choices_format(const uint64_t *v, size_t n);
rt_err drv_fuzz_choices_parse(const char *s, uint64_t **v, size_t *n, rt_error *e);

/* fuzz --minimize: the seed's case shrunk, as Hypothesis shrinks (spans of
 * choices deleted, values lowered toward 0), to choices that still fail
 * with the original's failure (drv_fuzz_failure) and are 1-minimal: no
 * single choice deleted, set to 0 or lowered by one keeps that failure. */
typedef struct drv_fuzz_minimized {
    drv_fuzz_result original; /* the seed's own case */
    drv_fuzz_result result;   /* the minimized case's */
    uint64_t *choices;        /* the minimized choices (drv_fuzz_minimized_free) */
    size_t n;
    size_t original_n;        /* how many choices the seed's case read */
    uint64_t runs;            /* candidate cases run */
} drv_fuzz_minimized;

/* Runs in this process. Errors: RT_EINPUT when the seed's case does not
 * fail (it works, is rejected as explained, or meets a known Flink bug),
 * or what stopped a case from running at all. */
rt_err drv_fuzz_minimize(uint64_t seed, const char *work_dir, sim_mutant mutant, drv_fuzz_minimized *out,
                         rt_error *e);
void drv_fuzz_minimized_free(drv_fuzz_minimized *m);

/* Every event name ("ev") the engine and its drivers write into a trace,
 * NULL-terminated; known: whether name is one. */
extern const char *const drv_trace_events[];
int drv_trace_event_known(const char *name);

#endif
