/* cmd_matrix: `snapsim matrix` runs every scenario, records the results
 * in the SQLite matrix and renders the reports; `diff` and `merge`. */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "runner.h"

static int parse_shard(const char *s, int *i, int *n) {
    char extra;
    if (sscanf(s, "%d/%d%c", i, n, &extra) != 2 || *n < 1 || *i < 0 || *i >= *n) return -1;
    return 0;
}

/* The code revision, for the runs table (outside the simulation). */
static void revision(char *buf, size_t cap) {
    snprintf(buf, cap, "unknown");
    FILE *p = popen("git rev-parse --short HEAD 2>/dev/null", "r");
    if (p == NULL) return;
    if (fgets(buf, (int)cap, p)) buf[strcspn(buf, "\n")] = '\0';
    if (pclose(p) != 0 || buf[0] == '\0') snprintf(buf, cap, "unknown");
}

static int valid_impl(const char *s) { return strcmp(s, "model") == 0 || strcmp(s, "flink") == 0; }

/* matrix diff OLD.db NEW.db [--impls OLD_IMPL,NEW_IMPL] */
static int matrix_diff(int argc, char **argv) {
    const char *paths[2];
    int n_paths = 0;
    char impls[32] = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--impls") == 0) {
            if (i + 1 == argc) return cli_usage_error("matrix diff: --impls needs OLD_IMPL,NEW_IMPL");
            if (snprintf(impls, sizeof impls, "%s", argv[++i]) >= (int)sizeof impls)
                return cli_usage_error("matrix diff: --impls is model,flink or flink,model");
        } else if (strncmp(argv[i], "--", 2) == 0) {
            return cli_usage_error("matrix diff: unknown option '%s'", argv[i]);
        } else if (n_paths == 2) {
            return cli_usage_error("matrix diff: expected OLD.db NEW.db, got a third path '%s'", argv[i]);
        } else {
            paths[n_paths++] = argv[i];
        }
    }
    if (n_paths != 2) return cli_usage_error("matrix diff: expected OLD.db NEW.db");
    rt_error e;
    rt_error_clear(&e);
    int differ = 0, cost_regressions = 0;
    /* Like diff(1): 1 means the runs differ by a regression of an outcome
     * or of a cost (or the two implementations disagree), 2 that the comparison could not be made (a
     * missing or non-SQLite database). */
    if (impls[0] != '\0') {
        char *comma = strchr(impls, ',');
        if (comma == NULL) return cli_usage_error("matrix diff: --impls is OLD_IMPL,NEW_IMPL, e.g. model,flink");
        *comma = '\0';
        if (!valid_impl(impls) || !valid_impl(comma + 1))
            return cli_usage_error("matrix diff: --impls names model or flink, not '%s,%s'", impls, comma + 1);
        if (mx_diff_impls(paths[0], impls, paths[1], comma + 1, stdout, &differ, &e) != RT_OK)
            return cli_usage_error("matrix diff: %s", e.msg);
    } else if (mx_diff(paths[0], paths[1], stdout, &differ, &cost_regressions, &e) != RT_OK) {
        return cli_usage_error("matrix diff: %s", e.msg);
    }
    return differ || cost_regressions ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

static int matrix_merge(int argc, char **argv) {
    if (argc < 3) return cli_usage_error("matrix merge: expected OUT.db IN.db...");
    rt_error e;
    rt_error_clear(&e);
    if (mx_merge(argv[1], (const char *const *)argv + 2, argc - 2, &e) != RT_OK) return cli_report_error(&e);
    return CLI_EXIT_OK;
}

typedef struct matrix_opts {
    const char *db, *out, *scenarios, *expect, *started;
    int jobs, shard_i, shard_n;
    uint64_t seed;
    const char *observed;     /* folder of real-Flink results to show beside the model's */
    const char *observed_out; /* flink: write this run's results there as data */
    int flink;
    drv_flink_opts fo;
    const char *kind, *backend; /* filters */
} matrix_opts;

static int parse(matrix_opts *o, int argc, char **argv) {
    static const struct option longs[] = {{"db", required_argument, 0, 'd'},       {"out", required_argument, 0, 'o'},
                                          {"jobs", required_argument, 0, 'j'},     {"shard", required_argument, 0, 's'},
                                          {"scenarios", required_argument, 0, 'c'}, {"seed", required_argument, 0, 'S'},
                                          {"expect", required_argument, 0, 'e'},   {"started", required_argument, 0, 't'},
                                          {"impl", required_argument, 0, 'i'},     {"release", required_argument, 0, 'r'},
                                          {"runners", required_argument, 0, 'R'},  {"observed", required_argument, 0, 'O'},
                                          {"observed-out", required_argument, 0, 'W'},
                                          {"kind", required_argument, 0, 'k'},     {"backend", required_argument, 0, 'b'},
                                          {0, 0, 0, 0}};
    *o = (matrix_opts){"reports/matrix.db", "reports", "scenarios", "matrix/expect", NULL, 2, 0, 1, 1,
                       "matrix/observed", NULL, 0, {0}, NULL, NULL};
    drv_flink_defaults(&o->fo);
    optind = 1;
    opterr = 0;
    int c;
    uint64_t n;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'o': o->out = optarg; break;
        case 'c': o->scenarios = optarg; break;
        case 'e': o->expect = optarg; break;
        case 'i':
            if (strcmp(optarg, "flink") == 0) o->flink = 1;
            else if (strcmp(optarg, "model") != 0) return cli_usage_error("matrix: --impl is model or flink, not '%s'", optarg);
            break;
        case 'r': o->fo.default_release = optarg; break;
        case 'R': o->fo.runners_dir = optarg; break;
        case 'O': o->observed = optarg; break;
        case 'W': o->observed_out = optarg; break;
        case 'k': o->kind = optarg; break;
        case 'b': o->backend = optarg; break;
        case 't':
            if (strlen(optarg) >= 32) return cli_usage_error("matrix: --started wants an ISO-8601 time, not '%s'", optarg);
            o->started = optarg;
            break;
        case 'j':
            if (cli_parse_u64(optarg, &n) || n < 1 || n > 64) return cli_usage_error("matrix: --jobs wants 1..64, not '%s'", optarg);
            o->jobs = (int)n;
            break;
        case 's':
            if (parse_shard(optarg, &o->shard_i, &o->shard_n)) return cli_usage_error("matrix: --shard wants I/N with 0 <= I < N, not '%s'", optarg);
            break;
        case 'S':
            if (cli_parse_u64(optarg, &o->seed)) return cli_usage_error("matrix: --seed wants a number, not '%s'", optarg);
            break;
        default: return cli_usage_error("matrix: unknown or incomplete option '%s' (see snapsim matrix --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_usage_error("matrix: unexpected argument '%s'", argv[optind]);
    sim_kind k;
    if (o->kind && sim_kind_parse(o->kind, &k) != 0)
        return cli_usage_error("matrix: unknown kind '%s' (canonical, native, aligned, unaligned)", o->kind);
    if (o->backend && strcmp(o->backend, "heap") != 0 && strcmp(o->backend, "rocksdb") != 0)
        return cli_usage_error("matrix: unknown backend '%s' (heap, rocksdb)", o->backend);
    if (o->observed_out && !o->flink) return cli_usage_error("matrix: --observed-out needs --impl flink");
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
             o->fo.default_release, o->kind ? " --kind " : "", o->kind ? o->kind : "", o->backend ? " --backend " : "",
             o->backend ? o->backend : "", scen ? " --scenarios " : "", scen ? o->scenarios : "", o->observed_out);
    json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:f, s:o}", "source", "real-flink", "date", when, "command", cmd,
                             "default_release", o->fo.default_release, "seconds", secs, "results", arr);
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
    if (rc == RT_OK) rc = mx_run_begin(db, when, rev, options, &run, e);
    for (int i = 0; rc == RT_OK && i < n; i++)
        if (strcmp(res[i].outcome, "skipped") != 0) rc = mx_record(db, run, &res[i], e);
    int imported = 0;
    if (rc == RT_OK && !o->flink && o->observed) rc = import_observed(db, run, o->observed, &imported, e);
    if (rc == RT_OK && imported) fprintf(stderr, "matrix: %d real-Flink results from %s/\n", imported, o->observed);
    if (rc == RT_OK) rc = mx_run_end(db, run, e);
    if (rc == RT_OK) rc = mx_render_all(db, o->out, e);
    mx_close(db);
    return rc;
}

static int matrix_render(int argc, char **argv) {
    if (argc != 3) return cli_usage_error("matrix render: expected DB OUT-DIR");
    mx_db *db = NULL;
    rt_error e;
    rt_error_clear(&e);
    mkdir(argv[2], 0755);
    if (mx_open(&db, argv[1], &e) != RT_OK) return cli_report_error(&e);
    rt_err rc = mx_render_all(db, argv[2], &e);
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
    mx_db *probe = NULL;
    if (mx_open(&probe, o.db, &e) != RT_OK) return cli_report_error(&e);
    mx_close(probe);
    if (runner_load_dir(&r, o.scenarios, &e) != RT_OK ||
        runner_expand(&r, o.kind, o.backend, o.shard_i, o.shard_n, &e) != RT_OK) {
        runner_free(&r);
        return cli_report_error(&e);
    }
    r.seed = o.seed;
    if (o.flink) r.flink = &o.fo;
    mx_result *res = calloc((size_t)r.n_combos + 1, sizeof *res);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fprintf(stderr, "matrix: %d scenarios, %d runs, %d jobs\n", r.n_scns, r.n_combos, o.jobs);
    if (res == NULL) rc = cli_usage_error("out of memory");
    else if (runner_run(&r, o.jobs, 1, NULL, res, &e) != RT_OK)
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
    if (rc == 0 && res != NULL) {
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
