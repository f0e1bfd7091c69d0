/* cmd_matrix: `snapsim matrix` runs every scenario, records the results
 * in the SQLite matrix and renders the reports; `diff` and `merge`. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "commands.h"
#include "runner.h"

/* The code revision, for the runs table (outside the simulation). */
static void revision(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *p = popen("git rev-parse --short HEAD 2>/dev/null", "r");
    if (p == NULL) return;
    if (fgets(buf, (int)cap, p)) buf[strcspn(buf, "\n")] = '\0';
    if (pclose(p) != 0 || buf[0] == '\0') snprintf(buf, cap, "unknown");
}

static int valid_impl(const char *s) { return strcmp(s, "model") == 0 || strcmp(s, "flink") == 0; }

typedef struct diff_opts {
    const char *impls;
    int json;
} diff_opts;

const cli_opt matrix_diff_options[] = {
    CLI_STRING(diff_opts, impls, "impls", "OLD_IMPL,NEW_IMPL",
               "compare OLD.db's results of one implementation with NEW.db's\nof the other (model,flink or flink,model)"),
    CLI_FLAG(diff_opts, json, "json", "print the diff as one JSON object (the same exit status)"),
    CLI_END,
};
const cli_opt matrix_no_options[] = {CLI_END};

/* matrix diff OLD.db NEW.db [--impls OLD_IMPL,NEW_IMPL] */
static int matrix_diff(int argc, char **argv) {
    diff_opts d = {NULL, 0};
    int first = 0;
    int rc = cli_parse(matrix_diff_options, &d, argc, argv, "matrix diff", &first);
    if (rc) return rc;
    if (argc - first > 2) return cli_usage_error("matrix diff: expected OLD.db NEW.db, got a third path '%s'", argv[first + 2]);
    if (argc - first != 2) return cli_usage_error("matrix diff: expected OLD.db NEW.db");
    const char *paths[2] = {argv[first], argv[first + 1]};
    char impls[32] = "";
    if (d.impls && snprintf(impls, sizeof impls, "%s", d.impls) >= (int)sizeof impls)
        return cli_usage_error("matrix diff: --impls is model,flink or flink,model");
    rt_error e;
    rt_error_clear(&e);
    int differ = 0, cost_regressions = 0;
    /* Like diff(1): 1 means the runs differ by a regression of an outcome
     * or of a cost (or the two implementations disagree), 2 that the comparison could not be made (a
     * missing or non-SQLite database). */
    const char *old_impl = NULL, *new_impl = NULL;
    if (impls[0] != '\0') {
        char *comma = strchr(impls, ',');
        if (comma == NULL) return cli_usage_error("matrix diff: --impls is OLD_IMPL,NEW_IMPL, e.g. model,flink");
        *comma = '\0';
        if (!valid_impl(impls) || !valid_impl(comma + 1))
            return cli_usage_error("matrix diff: --impls names model or flink, not '%s,%s'", impls, comma + 1);
        old_impl = impls;
        new_impl = comma + 1;
    }
    if (d.json) {
        json_t *j = NULL;
        if (mx_diff_json(paths[0], old_impl, paths[1], new_impl, &j, &differ, &cost_regressions, &e) != RT_OK)
            return cli_usage_error("matrix diff: %s", e.msg);
        char *t = json_dumps(j, JSON_COMPACT);
        if (t) puts(t);
        free(t);
        json_decref(j);
    } else if (old_impl) {
        if (mx_diff_impls(paths[0], old_impl, paths[1], new_impl, stdout, &differ, &e) != RT_OK)
            return cli_usage_error("matrix diff: %s", e.msg);
    } else if (mx_diff(paths[0], paths[1], stdout, &differ, &cost_regressions, &e) != RT_OK) {
        return cli_usage_error("matrix diff: %s", e.msg);
    }
    return differ || cost_regressions ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

static int matrix_merge(int argc, char **argv) {
    int first = 0;
    int rc = cli_parse(matrix_no_options, NULL, argc, argv, "matrix merge", &first);
    if (rc) return rc;
    if (argc - first < 2) return cli_usage_error("matrix merge: expected OUT.db IN.db...");
    rt_error e;
    rt_error_clear(&e);
    if (mx_merge(argv[first], (const char *const *)argv + first + 1, argc - first - 1, &e) != RT_OK)
        return cli_report_error(&e);
    return CLI_EXIT_OK;
}

typedef struct matrix_opts {
    const char *db, *out, *scenarios, *expect, *started;
    uint64_t jobs, seed;
    cli_shard shard;
    const char *observed;     /* folder of real-Flink results to show beside the model's */
    const char *observed_out; /* flink: write this run's results there as data */
    runner_lane lane;
    const char *kind, *backend; /* filters */
    const char *keep_runs;
    cli_progress progress;
} matrix_opts;

static int parse_started(void *target, const char *value) {
    if (strlen(value) >= 32) return -1;
    *(const char **)target = value;
    return 0;
}

const cli_opt matrix_options[] = {
    CLI_STRING(matrix_opts, db, "db", "FILE", "the SQLite database (default reports/matrix.db)"),
    CLI_STRING(matrix_opts, out, "out", "DIR", "where the reports go (default reports)"),
    CLI_U64(matrix_opts, jobs, "jobs", "N", 1, 64, "worker processes (default 2)"),
    CLI_CALL(matrix_opts, shard, cli_shard, "shard", "I/N", cli_opt_shard, "I/N with 0 <= I < N",
             "run every N-th combination, from the I-th"),
    CLI_U64(matrix_opts, seed, "seed", "N", 0, UINT64_MAX, "seed of the runs (default 1)"),
    CLI_STRING(matrix_opts, scenarios, "scenarios", "DIR", "the scenarios (default scenarios)"),
    CLI_STRING(matrix_opts, expect, "expect", "DIR", "the expectation sources (default matrix/expect)"),
    CLI_CALL(matrix_opts, started, const char *, "started", "ISO-TIME", parse_started, "an ISO-8601 time",
             "the run's date (shards of one run share it)"),
    CLI_STRING(matrix_opts, kind, "kind", "K", "only this snapshot kind"),
    CLI_STRING(matrix_opts, backend, "backend", "B", "only this backend, heap or rocksdb"),
    CLI_STRING(matrix_opts, observed, "observed", "DIR", "real-Flink results shown beside the model's\n(default matrix/observed)"),
    CLI_INCLUDE(matrix_opts, lane, runner_lane, runner_lane_options),
    CLI_STRING(matrix_opts, observed_out, "observed-out", "FILE", "with --impl flink: write the results there as data"),
    CLI_STRING(matrix_opts, keep_runs, "keep-runs", "DIR",
               "run under DIR and keep the run directory (snapshots,\nJVM logs) of every result neither works nor skipped"),
    CLI_INCLUDE(matrix_opts, progress, cli_progress, cli_progress_options),
    CLI_END,
};

static int parse(matrix_opts *o, int argc, char **argv) {
    *o = (matrix_opts){"reports/matrix.db", "reports", "scenarios", "matrix/expect", NULL, 2, 1, {0, 1},
                       "matrix/observed", NULL, {0}, NULL, NULL, NULL, {0, 0}};
    runner_lane_defaults(&o->lane);
    int first = 0;
    int rc = cli_parse(matrix_options, o, argc, argv, "matrix", &first);
    if (rc) return rc;
    if (first < argc) return cli_usage_error("matrix: unexpected argument '%s'", argv[first]);
    sim_kind k;
    if (o->kind && sim_kind_parse(o->kind, &k) != 0)
        return cli_usage_error("matrix: unknown kind '%s' (canonical, native, aligned, unaligned)", o->kind);
    if (o->backend && strcmp(o->backend, "heap") != 0 && strcmp(o->backend, "rocksdb") != 0)
        return cli_usage_error("matrix: unknown backend '%s' (heap, rocksdb)", o->backend);
    if (o->observed_out && !o->lane.flink) return cli_usage_error("matrix: --observed-out needs --impl flink");
    return 0;
}

/* One real-Flink result from an observed file (the fields of mx_result). */
static rt_err observed_result(json_t *j, const char *file, mx_result *r, rt_error *e) {
    const char *sc, *g, *k, *b, *v, *out, *reason = "";
    json_error_t je;
    memset(r, 0, sizeof *r);
    if (json_unpack_ex(j, &je, 0, "{s:s, s:s, s:s, s:s, s:s, s:s, s?:s}", "scenario", &sc, "guarantee", &g, "kind",
                       &k, "backend", &b, "versions", &v, "outcome", &out, "reason", &reason) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: a result: %s", file, je.text);
    snprintf(r->scenario, sizeof r->scenario, "%s", sc);
    snprintf(r->guarantee, sizeof r->guarantee, "%s", g);
    snprintf(r->kind, sizeof r->kind, "%s", k);
    snprintf(r->backend, sizeof r->backend, "%s", b);
    snprintf(r->versions, sizeof r->versions, "%s", v);
    snprintf(r->outcome, sizeof r->outcome, "%s", out);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    snprintf(r->impl, sizeof r->impl, "flink");
    return RT_OK;
}

static int json_name(const struct dirent *d) {
    size_t n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

/* Records every result of dir/ *.json (written by `matrix --impl flink
 * --observed-out`) into the run as impl "flink". A missing folder is no
 * real-Flink data; a malformed file is an input error naming it. */
static rt_err import_observed(mx_db *db, int64_t run, const char *dir, int *imported, rt_error *e) {
    *imported = 0;
    struct dirent **names = NULL;
    int n = scandir(dir, &names, json_name, alphasort);
    if (n < 0) return RT_OK;
    rt_err rc = RT_OK;
    for (int i = 0; i < n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        json_error_t je;
        json_t *root = rc == RT_OK ? json_load_file(path, 0, &je) : NULL;
        json_t *results = json_object_get(root, "results");
        if (rc == RT_OK && !json_is_array(results))
            rc = RT_FAIL(e, RT_EINPUT, "%s: %s", path, root ? "no \"results\" array" : je.text);
        for (size_t k = 0; rc == RT_OK && k < json_array_size(results); k++) {
            mx_result r;
            rc = observed_result(json_array_get(results, k), path, &r, e);
            if (rc == RT_OK) rc = mx_record(db, run, &r, e);
            if (rc == RT_OK) (*imported)++;
        }
        json_decref(root);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* The lane's results as data (matrix/observed/), with what made them. */
static rt_err write_observed(const matrix_opts *o, const char *when, const mx_result *res, int n, double secs,
                             rt_error *e) {
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        if (strcmp(res[i].outcome, "skipped") == 0) continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "scenario", res[i].scenario,
                                             "guarantee", res[i].guarantee, "kind", res[i].kind, "backend",
                                             res[i].backend, "versions", res[i].versions, "outcome", res[i].outcome,
                                             "reason", res[i].reason));
    }
    char cmd[900];
    int scen = strcmp(o->scenarios, "scenarios") != 0;
    snprintf(cmd, sizeof cmd, "snapsim matrix --impl flink --release %s%s%s%s%s%s%.300s --observed-out %s",
             o->lane.fo.default_release, o->kind ? " --kind " : "", o->kind ? o->kind : "", o->backend ? " --backend " : "",
             o->backend ? o->backend : "", scen ? " --scenarios " : "", scen ? o->scenarios : "", o->observed_out);
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:f, s:o}", "source", "real-flink", "date", when, "command", cmd,
                             "default_release", o->lane.fo.default_release, "seconds", secs, "results", arr);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", o->observed_out);
    int bad = root == NULL || json_dump_file(root, tmp, JSON_INDENT(1) | JSON_SORT_KEYS) != 0 ||
              rename(tmp, o->observed_out) != 0;
    json_decref(root);
    if (bad) return RT_FAIL(e, RT_EIO, "cannot write %s", o->observed_out);
    return RT_OK;
}

static rt_err record_all(const matrix_opts *o, const mx_result *res, int n, rt_error *e) {
    mx_db *db = NULL;
    rt_err rc = mx_open(&db, o->db, e);
    if (rc != RT_OK) return rc;
    char when[32], rev[64], options[128];
    time_t now = time(NULL); /* the run's date: bookkeeping, not simulation */
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (o->started) snprintf(when, sizeof when, "%s", o->started); /* shards of one run share it */
    revision(rev, sizeof rev);
    snprintf(options, sizeof options, "{\"seed\":%llu}", (unsigned long long)o->seed);
    int64_t run = 0;
    rc = mx_load_expectations(db, o->expect, e);
    /* Shards given one --started are one run and merge as one; any other
     * run gets a uid of its own (two runs of one second stay two). */
    if (rc == RT_OK) rc = mx_run_begin(db, when, rev, options, o->started ? "" : NULL, &run, e);
    for (int i = 0; rc == RT_OK && i < n; i++)
        if (strcmp(res[i].outcome, "skipped") != 0) rc = mx_record(db, run, &res[i], e);
    int imported = 0;
    if (rc == RT_OK && !o->lane.flink && o->observed) rc = import_observed(db, run, o->observed, &imported, e);
    if (rc == RT_OK && imported && cli_progress_summary(&o->progress))
        fprintf(stderr, "matrix: %d real-Flink results from %s/\n", imported, o->observed);
    if (rc == RT_OK) rc = mx_run_end(db, run, e);
    if (rc == RT_OK) rc = mx_render_all(db, o->out, e);
    mx_close(db);
    return rc;
}

static int matrix_render(int argc, char **argv) {
    int first = 0;
    int bad = cli_parse(matrix_no_options, NULL, argc, argv, "matrix render", &first);
    if (bad) return bad;
    if (argc - first != 2) return cli_usage_error("matrix render: expected DB OUT-DIR");
    mx_db *db = NULL;
    rt_error e;
    rt_error_clear(&e);
    mkdir(argv[first + 1], 0755);
    if (mx_open(&db, argv[first], &e) != RT_OK) return cli_report_error(&e);
    rt_err rc = mx_render_all(db, argv[first + 1], &e);
    mx_close(db);
    return rc == RT_OK ? CLI_EXIT_OK : cli_report_error(&e);
}

int cmd_matrix(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "render") == 0) return matrix_render(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "diff") == 0) return matrix_diff(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "merge") == 0) return matrix_merge(argc - 1, argv + 1);
    matrix_opts o;
    int rc = parse(&o, argc, argv);
    if (rc) return rc;
    mkdir(o.out, 0755);
    runner r;
    rt_error e;
    rt_error_clear(&e);
    /* A database we cannot use is found before minutes of running. */
    /* A new one is only created when results are recorded, so a run that
     * fails first leaves no empty database (and concurrent runs into one
     * new database never see it disappear). */
    if (access(o.db, F_OK) == 0) {
        mx_db *probe = NULL;
        if (mx_open(&probe, o.db, &e) != RT_OK) return cli_report_error(&e);
        mx_close(probe);
    } else {
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", o.db);
        const char *dir = dirname(copy); /* POSIX: may write into copy */
        if (access(dir, W_OK | X_OK) != 0)
            return cli_usage_error("matrix: cannot create the database %s: %s", o.db, strerror(errno));
    }
    if (o.keep_runs && mkdir(o.keep_runs, 0755) != 0 && errno != EEXIST)
        return cli_usage_error("matrix: cannot make --keep-runs %s: %s", o.keep_runs, strerror(errno));
    if (runner_load_dir(&r, o.scenarios, &e) != RT_OK ||
        runner_expand(&r, o.kind, o.backend, o.shard.i, o.shard.n, &e) != RT_OK) {
        runner_free(&r);
        return cli_report_error(&e);
    }
    r.seed = o.seed;
    r.keep_runs = o.keep_runs;
    if (o.lane.flink) r.flink = &o.lane.fo;
    mx_result *res = calloc((size_t)r.n_combos + 1, sizeof *res);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int lines = cli_progress_lines(&o.progress);
    if (lines) fprintf(stderr, "matrix: %d scenarios, %d runs, %d jobs\n", r.n_scns, r.n_combos, (int)o.jobs);
    if (res == NULL) rc = cli_usage_error("out of memory");
    else if (runner_run(&r, (int)o.jobs, lines, NULL, res, &e) != RT_OK)
        rc = cli_report_error(&e);
    else {
        /* The lane's results are written first: a database or report that
         * cannot be written must not lose half an hour of real Flink. */
        if (o.observed_out) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            char when[32];
            time_t now = time(NULL);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
            if (write_observed(&o, when, res, r.n_combos,
                               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, &e) != RT_OK)
                rc = cli_report_error(&e);
        }
        if (rc == 0 && record_all(&o, res, r.n_combos, &e) != RT_OK) rc = cli_report_error(&e);
    }
    if (rc == 0 && res != NULL && cli_progress_summary(&o.progress)) {
        int bugs = 0;
        for (int i = 0; i < r.n_combos; i++)
            bugs += strcmp(res[i].outcome, "corrupted") == 0 || strcmp(res[i].outcome, "crashed") == 0;
        fprintf(stderr, "matrix: %d results in %s; reports in %s/ (guarantees.md, index.html)%s\n", r.n_combos,
                o.db, o.out, bugs ? "; CORRUPTED/CRASHED results found" : "");
    }
    free(res);
    runner_free(&r);
    return rc;
}
