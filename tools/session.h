/* session: what a CLI command sets up around one simulated run: the
 * storage, a private work directory for RocksDB, the trace, and the JSON
 * result line of the contract. */
#ifndef SESSION_H
#define SESSION_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_engine.h"

typedef struct job_opts {
    const char *backend;
    const char *engine;
    const char *out;
    const char *job_file;
    const char *trace_file;
    uint64_t seed, records, parallelism;
    uint64_t memory_threshold;
    uint64_t max_concurrent; /* execution.checkpointing.max-concurrent-checkpoints */
    uint64_t interval_ms;    /* execution.checkpointing.interval, when have_interval */
    int incremental, json, have_parallelism, have_interval;
} job_opts;

/* The job options of take, savepoint, stop and restore (targets in job_opts). */
extern const cli_opt job_options[];
/* --incremental and --out: the options of the commands that take a snapshot. */
extern const cli_opt snapshot_options[];
/* The defaults of the job options (seed 1, 2000 records, ...). */
void job_opts_defaults(job_opts *o);

/* About this many periodic checkpoints at most in a run of --records
 * records when no --interval is given (the interval grows with the
 * records, from the engine's 100 ms up; the run's length is estimated
 * from its slowest operator, sim_job_run_ms). */
#define JOB_OPTS_CHECKPOINTS_PER_RUN 8

typedef struct session {
    rt_store *store;
    rt_trace trace;
    char work_dir[512];
    int have_trace;
} session;

/* Opens the trace (to a file if given) and makes a private work dir. */
int session_open(session *s, const char *trace_file, rt_error *e);
void session_close(session *s);

/* Fills cfg from the options (job file, engine, backend...). */
rt_err job_opts_config(const job_opts *o, sim_config *cfg, rt_error *e);

/* Prints the contract's JSON object (outcome, digest, virtual_ms, files,
 * bytes, reason, checkpoints: every member on every outcome, null when it
 * has nothing to say) plus the members of extra (may be NULL; taken). */
void session_print_json(session *s, sim_run *r, const rt_error *e, json_t *extra);
const char *outcome_of(rt_err code);

#endif
