/* session: what a CLI command sets up around one simulated run: the
 * storage, a private work directory for RocksDB, the trace, and the JSON
 * result line of the contract. */
#ifndef SESSION_H
#define SESSION_H

#include <stdint.h>
#include <stdio.h>

#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_engine.h"

typedef struct job_opts {
    const char *kind;
    const char *backend;
    const char *engine;
    const char *out;
    const char *job_file;
    const char *trace_file;
    uint64_t seed, records, parallelism;
    uint64_t memory_threshold;
    uint64_t max_concurrent; /* execution.checkpointing.max-concurrent-checkpoints */
    uint64_t interval_ms;    /* execution.checkpointing.interval, when have_interval */
    int incremental, json, have_seed, have_parallelism, have_interval;
    int positional_out; /* set before parsing: one argument may stand for --out */
} job_opts;

/* About this many periodic checkpoints at most in a run of --records
 * records when no --interval is given (the interval grows with the
 * records, from the engine's 100 ms up; the run's length is estimated
 * from its slowest operator, sim_job_run_ms). */
#define JOB_OPTS_CHECKPOINTS_PER_RUN 64

typedef struct session {
    rt_store *store;
    rt_trace trace;
    char work_dir[512];
    int have_trace;
} session;

/* Opens the trace (to a file if given) and makes a private work dir. */
int session_open(session *s, const char *trace_file, rt_error *e);
void session_close(session *s);

/* Parses the job options shared by take, savepoint and stop. Returns 0,
 * or a CLI exit code after printing the error. `extra` handles the
 * command's own options (returns 1 if it took the option). */
int job_opts_parse(job_opts *o, int argc, char **argv, const char *cmd,
                   int (*extra)(void *ctx, const char *name, const char *val), void *ctx);
/* Fills cfg from the options (job file, engine, backend...). */
rt_err job_opts_config(const job_opts *o, sim_config *cfg, rt_error *e);
/* --memory-threshold BYTES into o; non-zero if it is not 0..1 MiB. */
int job_opts_threshold(job_opts *o, const char *arg);
/* --max-concurrent-checkpoints N into o; non-zero if it is not 1..8. */
int job_opts_concurrent(job_opts *o, const char *arg);
/* Parses --interval MS (0..3600000, 0: no periodic checkpoints): nonzero on a bad value. */
int job_opts_interval(job_opts *o, const char *arg);

/* Prints the contract's JSON object (outcome, digest, virtual_ms, files,
 * bytes) plus the extra members given as a JSON fragment (may be NULL). */
void session_print_json(session *s, sim_run *r, const rt_error *e, const char *extra);
const char *outcome_of(rt_err code);

#endif
