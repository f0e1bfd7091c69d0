/* session: shared set-up of the run-based commands. */
#include "session.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mx.h"

int session_open(session *s, const char *trace_file, rt_error *e) {
    memset(s, 0, sizeof *s);
    int rc = trace_file ? rt_trace_open_file(&s->trace, trace_file) : rt_trace_init(&s->trace, NULL);
    if (rc != 0) return RT_FAIL(e, RT_EUSAGE, "cannot write trace file %s", trace_file ? trace_file : "");
    s->have_trace = 1;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->work_dir, sizeof s->work_dir, "%s/snapsim-work-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(s->work_dir) == NULL) {
        rt_trace_free(&s->trace);
        return RT_FAIL(e, RT_EIO, "cannot make a work directory under %s", tmp && *tmp ? tmp : "/tmp");
    }
    return RT_OK;
}

void session_close(session *s) {
    if (s->have_trace) rt_trace_free(&s->trace);
    if (s->work_dir[0]) {
        rt_store *w = NULL;
        rt_error e;
        /* The work dir is ours alone: remove it through the sandbox. */
        if (rt_store_open_dir(&w, s->work_dir, 0, &e) == RT_OK) {
            rt_store_delete_tree(w, "", &e);
            rt_store_close(w);
        }
        rmdir(s->work_dir);
    }
    if (s->store) rt_store_close(s->store);
    memset(s, 0, sizeof *s);
}

const char *outcome_of(rt_err code) {
    switch (rt_err_class_of(code)) {
    case RT_CLASS_OK: return "works";
    case RT_CLASS_REJECT: return "rejected";
    case RT_CLASS_CORRUPT: return "corrupted";
    default: return "crashed";
    }
}

/* The same members on every outcome (a member with nothing to say is
 * null): what works and what is rejected parse into one shape. */
void session_print_json(session *s, sim_run *r, const rt_error *e, json_t *extra) {
    const sim_stats *st = r ? sim_run_stats(r) : NULL;
    char digest[17];
    rt_trace_digest_hex(&s->trace, digest);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "outcome", outcome_of(e->code), "digest", digest,
                          "virtual_ms", (json_int_t)(st ? st->virtual_ms : 0), "files",
                          (json_int_t)(st ? st->files_written : 0), "bytes",
                          (json_int_t)(st ? st->bytes_written : 0));
    json_object_set_new(o, "reason", e->code != RT_OK ? mx_json_text(e->msg) : json_null());
    json_object_set_new(o, "checkpoints", st ? json_integer((json_int_t)st->checkpoints_completed) : json_null());
    if (extra) json_object_update(o, extra);
    json_decref(extra);
    char *text = json_dumps(o, JSON_COMPACT);
    if (text) puts(text);
    free(text);
    json_decref(o);
}

const cli_opt job_options[] = {
    CLI_STRING(job_opts, backend, "backend", "heap|rocksdb", "state backend (required; hashmap, Flink's name, is heap)"),
    CLI_STRING(job_opts, engine, "engine", "V", "simulated engine version (default 1.15.0)"),
    CLI_U64(job_opts, seed, "seed", "N", 0, UINT64_MAX, "seed of the run (default 1)"),
    CLI_U64(job_opts, records, "records", "N", 0, 10000000, "records the sources emit (default 2000)"),
    CLI_U64_SEEN(job_opts, parallelism, have_parallelism, "parallelism", "N", 1, 16,
                 "parallelism of the keyed operators (default 2)"),
    CLI_STRING(job_opts, job_file, "job", "FILE", "JSON job graph, or a built-in job: default, payload\n(100 random bytes a record, a key each: a large state)"),
    CLI_STRING(job_opts, trace_file, "trace", "FILE", "write the JSONL trace of the run to FILE"),
    CLI_FLAG(job_opts, json, "json", "print one JSON object with the result"),
    {.kind = CLI_OPT_U64, .name = "memory-threshold", .arg = "B", .off = CLI_OFF(job_opts, memory_threshold, uint64_t),
     .min = 0, .max = SIM_MEMORY_THRESHOLD_MAX, .unit = "bytes",
     .help = "state of at most B bytes is inlined in _metadata\n(state.storage.fs.memory-threshold; default 20480)"},
    CLI_U64(job_opts, max_concurrent, "max-concurrent-checkpoints", "N", 1, SIM_MAX_CONCURRENT,
            "checkpoints in progress at once, 1..8 (default 1;\nunaligned checkpoints need 1, as in Flink)"),
    {.kind = CLI_OPT_U64, .name = "interval", .arg = "MS", .off = CLI_OFF(job_opts, interval_ms, uint64_t), .min = 0,
     .max = 3600000, .unit = "ms", .has_seen = 1, .seen_off = CLI_OFF(job_opts, have_interval, int),
     .help = "periodic checkpoint interval in virtual ms, 0..3600000 (0:\nnone; default 100, raised so that a run "
             "of N records takes\nabout 8 periodic checkpoints at most)"},
    CLI_END,
};

const cli_opt snapshot_options[] = {
    CLI_FLAG(job_opts, incremental, "incremental", "incremental checkpoints (state.backend.incremental)"),
    CLI_STRING(job_opts, out, "out", "DIR", "snapshot storage directory (required)"),
    CLI_END,
};

void job_opts_defaults(job_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->records = 2000;
    o->memory_threshold = SIM_MEMORY_THRESHOLD_DEFAULT;
    o->max_concurrent = 1;
}

rt_err job_opts_config(const job_opts *o, sim_config *cfg, rt_error *e) {
    sim_config_defaults(cfg);
    cfg->seed = o->seed;
    cfg->source_seed = o->seed;
    if (o->backend == NULL) return RT_FAIL(e, RT_EUSAGE, "--backend heap|rocksdb is required");
    /* state.backend.type: Flink calls the heap backend "hashmap". */
    const char *backend = strcmp(o->backend, "hashmap") == 0 ? "heap" : o->backend;
    if (strcmp(backend, "heap") != 0 && strcmp(backend, "rocksdb") != 0)
        return RT_FAIL(e, RT_EUSAGE, "unknown backend '%s' (heap, hashmap or rocksdb)", o->backend);
    cfg->backend = backend;
    if (o->engine) {
        cfg->engine = sim_version_lookup(o->engine, e);
        if (cfg->engine == NULL) return e->code;
    }
    cfg->incremental = o->incremental;
    cfg->memory_threshold = (uint32_t)o->memory_threshold;
    cfg->max_concurrent = o->max_concurrent ? (int)o->max_concurrent : 1;
    if (o->job_file && sim_job_builtin(&cfg->job, o->job_file) != 0) {
        rt_err rc = sim_job_load(&cfg->job, o->job_file, e);
        if (rc != RT_OK) return rc;
    }
    if (o->have_parallelism)
        for (int i = 0; i < cfg->job.n_ops; i++)
            if (cfg->job.ops[i].kind == SIM_OP_KEYED) cfg->job.ops[i].parallelism = (uint32_t)o->parallelism;
    rt_err rc = sim_job_validate(&cfg->job, o->job_file ? o->job_file : "job", e);
    if (rc != RT_OK) return rc;
    /* Flink has no default interval; real jobs checkpoint every seconds to
     * minutes with many thousands of records between. Here the default keeps
     * a run's periodic checkpoints to JOB_OPTS_CHECKPOINTS_PER_RUN whatever
     * the records: each incremental checkpoint of a growing RocksDB state
     * uploads what its compactions rewrote, so a fixed 100 ms would make a
     * large take spend its time (and bytes, quadratically) on checkpoints.
     * Eight, as bench_size builds its states with: a full (non-incremental)
     * RocksDB checkpoint rewrites the whole state, so a take's periodic
     * checkpoints write about half that many states' worth of bytes. */
    if (o->have_interval) {
        cfg->interval_ms = o->interval_ms;
    } else {
        uint64_t run_ms = sim_job_run_ms(&cfg->job, o->records);
        uint64_t bounded = (run_ms + JOB_OPTS_CHECKPOINTS_PER_RUN - 1) / JOB_OPTS_CHECKPOINTS_PER_RUN;
        if (bounded > cfg->interval_ms) cfg->interval_ms = bounded;
    }
    return RT_OK;
}
