/* cmd_matrix: `snapsim matrix` runs every scenario, records the results
 * in the SQLite matrix and renders the reports; `diff` and `merge`. */
#include <getopt.h>
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

static int matrix_diff(int argc, char **argv) {
    if (argc != 3) return cli_usage_error("matrix diff: expected OLD.db NEW.db");
    int regressions = 0;
    rt_error e;
    rt_error_clear(&e);
    if (mx_diff(argv[1], argv[2], stdout, &regressions, &e) != RT_OK) return cli_report_error(&e);
    return regressions ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
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
} matrix_opts;

static int parse(matrix_opts *o, int argc, char **argv) {
    static const struct option longs[] = {{"db", required_argument, 0, 'd'},       {"out", required_argument, 0, 'o'},
                                          {"jobs", required_argument, 0, 'j'},     {"shard", required_argument, 0, 's'},
                                          {"scenarios", required_argument, 0, 'c'}, {"seed", required_argument, 0, 'S'},
                                          {"expect", required_argument, 0, 'e'},   {"started", required_argument, 0, 't'},
                                          {0, 0, 0, 0}};
    *o = (matrix_opts){"reports/matrix.db", "reports", "scenarios", "matrix/expect", NULL, 2, 0, 1, 1};
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
    return 0;
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
    for (int i = 0; rc == RT_OK && i < n; i++) rc = mx_record(db, run, &res[i], e);
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
        runner_expand(&r, NULL, NULL, o.shard_i, o.shard_n, &e) != RT_OK) {
        runner_free(&r);
        return cli_report_error(&e);
    }
    r.seed = o.seed;
    mx_result *res = calloc((size_t)r.n_combos + 1, sizeof *res);
    fprintf(stderr, "matrix: %d scenarios, %d runs, %d jobs\n", r.n_scns, r.n_combos, o.jobs);
    if (res == NULL) rc = cli_usage_error("out of memory");
    else if (runner_run(&r, o.jobs, 1, NULL, res, &e) != RT_OK || record_all(&o, res, r.n_combos, &e) != RT_OK)
        rc = cli_report_error(&e);
    else {
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
