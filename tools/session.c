/* session: shared set-up of the run-based commands. */
#include "session.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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

void session_print_json(session *s, sim_run *r, const rt_error *e, const char *extra) {
    const sim_stats *st = r ? sim_run_stats(r) : NULL;
    char digest[17];
    rt_trace_digest_hex(&s->trace, digest);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I}", "outcome", outcome_of(e->code), "digest", digest,
                          "virtual_ms", (json_int_t)(st ? st->virtual_ms : 0), "files",
                          (json_int_t)(st ? st->files_written : 0), "bytes",
                          (json_int_t)(st ? st->bytes_written : 0));
    if (e->code != RT_OK) json_object_set_new(o, "reason", json_string(e->msg));
    if (st) json_object_set_new(o, "checkpoints", json_integer((json_int_t)st->checkpoints_completed));
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        if (x) json_object_update(o, x);
        json_decref(x);
    }
    char *text = json_dumps(o, JSON_COMPACT);
    if (text) puts(text);
    free(text);
    json_decref(o);
}

enum { OPT_KIND = 256, OPT_BACKEND, OPT_ENGINE, OPT_OUT, OPT_JOB, OPT_TRACE, OPT_SEED, OPT_RECORDS,
       OPT_PAR, OPT_INCR, OPT_JSON, OPT_TYPE, OPT_DRAIN, OPT_THRESHOLD, OPT_CONCURRENT, OPT_INTERVAL };

int job_opts_threshold(job_opts *o, const char *arg) {
    return cli_parse_u64(arg, &o->memory_threshold) || o->memory_threshold > SIM_MEMORY_THRESHOLD_MAX;
}

int job_opts_interval(job_opts *o, const char *arg) {
    o->have_interval = 1;
    return cli_parse_u64(arg, &o->interval_ms) || o->interval_ms > 3600000;
}

int job_opts_concurrent(job_opts *o, const char *arg) {
    return cli_parse_u64(arg, &o->max_concurrent) || o->max_concurrent < 1 || o->max_concurrent > SIM_MAX_CONCURRENT;
}

int job_opts_parse(job_opts *o, int argc, char **argv, const char *cmd,
                   int (*extra)(void *ctx, const char *name, const char *val), void *ctx) {
    static const struct option longs[] = {
        {"kind", required_argument, 0, OPT_KIND},       {"type", required_argument, 0, OPT_TYPE},
        {"backend", required_argument, 0, OPT_BACKEND}, {"engine", required_argument, 0, OPT_ENGINE},
        {"out", required_argument, 0, OPT_OUT},         {"job", required_argument, 0, OPT_JOB},
        {"trace", required_argument, 0, OPT_TRACE},     {"seed", required_argument, 0, OPT_SEED},
        {"records", required_argument, 0, OPT_RECORDS}, {"parallelism", required_argument, 0, OPT_PAR},
        {"incremental", no_argument, 0, OPT_INCR},      {"json", no_argument, 0, OPT_JSON},
        {"drain", no_argument, 0, OPT_DRAIN},
        {"memory-threshold", required_argument, 0, OPT_THRESHOLD},
        {"max-concurrent-checkpoints", required_argument, 0, OPT_CONCURRENT},
        {"interval", required_argument, 0, OPT_INTERVAL}, {0, 0, 0, 0}};
    int positional_out = o->positional_out;
    memset(o, 0, sizeof *o);
    o->positional_out = positional_out;
    o->seed = 1;
    o->records = 2000;
    o->memory_threshold = SIM_MEMORY_THRESHOLD_DEFAULT;
    o->max_concurrent = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        const char *name = c == OPT_TYPE ? "type" : c == OPT_DRAIN ? "drain" : NULL;
        switch (c) {
        case OPT_KIND: o->kind = optarg; break;
        case OPT_BACKEND: o->backend = optarg; break;
        case OPT_ENGINE: o->engine = optarg; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_JOB: o->job_file = optarg; break;
        case OPT_TRACE: o->trace_file = optarg; break;
        case OPT_INCR: o->incremental = 1; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_SEED:
            if (cli_parse_u64(optarg, &o->seed)) return cli_usage_error("%s: --seed wants a number, not '%s'", cmd, optarg);
            o->have_seed = 1;
            break;
        case OPT_RECORDS:
            if (cli_parse_u64(optarg, &o->records) || o->records > 10000000)
                return cli_usage_error("%s: --records wants a number up to 10000000, not '%s'", cmd, optarg);
            break;
        case OPT_PAR:
            if (cli_parse_u64(optarg, &o->parallelism) || o->parallelism < 1 || o->parallelism > 16)
                return cli_usage_error("%s: --parallelism wants 1..16, not '%s'", cmd, optarg);
            o->have_parallelism = 1;
            break;
        case OPT_THRESHOLD:
            if (job_opts_threshold(o, optarg)) return cli_usage_error("%s: --memory-threshold wants 0..%u bytes, not '%s'",
                                                                      cmd, SIM_MEMORY_THRESHOLD_MAX, optarg);
            break;
        case OPT_CONCURRENT:
            if (job_opts_concurrent(o, optarg))
                return cli_usage_error("%s: --max-concurrent-checkpoints wants 1..%d, not '%s'", cmd, SIM_MAX_CONCURRENT,
                                       optarg);
            break;
        case OPT_INTERVAL:
            if (job_opts_interval(o, optarg))
                return cli_usage_error("%s: --interval wants 0..3600000 ms, not '%s'", cmd, optarg);
            break;
        case OPT_TYPE:
        case OPT_DRAIN:
            if (extra && extra(ctx, name, optarg)) break;
            return cli_usage_error("%s: unknown option '--%s'", cmd, name);
        default:
            return cli_usage_error("%s: unknown or incomplete option '%s' (see snapsim %s --help)", cmd,
                                   argv[optind - 1], cmd);
        }
    }
    /* `flink savepoint :jobId [:targetDirectory]`: the directory may come
     * as the one argument, for the commands that take --out positionally. */
    if (optind < argc && o->out == NULL && o->positional_out) o->out = argv[optind++];
    if (optind < argc) return cli_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
    return 0;
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
    if (o->job_file) {
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
     * large take spend its time (and bytes, quadratically) on checkpoints. */
    if (o->have_interval) {
        cfg->interval_ms = o->interval_ms;
    } else {
        uint64_t run_ms = sim_job_run_ms(&cfg->job, o->records);
        uint64_t bounded = (run_ms + JOB_OPTS_CHECKPOINTS_PER_RUN - 1) / JOB_OPTS_CHECKPOINTS_PER_RUN;
        if (bounded > cfg->interval_ms) cfg->interval_ms = bounded;
    }
    return RT_OK;
}
