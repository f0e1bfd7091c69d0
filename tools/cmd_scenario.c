/* cmd_scenario: `snapsim scenario run FILE`: one scenario, every selected
 * combination, one line (or JSON object) per result. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_progress.h"
#include "commands.h"
#include "runner.h"

static int exit_for_outcome(const char *o) {
    if (strcmp(o, "works") == 0) return CLI_EXIT_OK;
    if (strcmp(o, "rejected") == 0) return CLI_EXIT_REJECTED;
    if (strcmp(o, "corrupted") == 0) return CLI_EXIT_CORRUPT;
    return CLI_EXIT_CRASH;
}

static void print_result(const mx_result *r, int json) {
    if (!json) {
        printf("%-9s %-22s %-9s %-14s %-18s %s%s%s\n", r->outcome, r->guarantee, r->kind, r->backend,
               r->versions, r->digest, r->reason[0] ? "  " : "", r->reason);
        return;
    }
    /* The same members on every outcome: reason is null when there is none. */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:I, s:I, s:I}", "outcome",
                          r->outcome, "impl", r->impl, "scenario", r->scenario, "guarantee", r->guarantee, "kind", r->kind,
                          "backend", r->backend, "versions", r->versions, "reason",
                          r->reason[0] ? json_string(r->reason) : json_null(), "seed",
                          (json_int_t)r->seed, "digest", r->digest, "virtual_ms", (json_int_t)r->virtual_ms,
                          "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes);
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

typedef struct scenario_opts {
    const char *kind, *backend, *out, *trace;
    sim_mutant mutant;
    uint64_t seed;
    int json;
    const char *versions;
    runner_lane lane;
    cli_progress progress;
} scenario_opts;

const cli_opt scenario_run_options[] = {
    CLI_STRING(scenario_opts, kind, "kind", "K", "only this snapshot kind (default: every kind)"),
    CLI_STRING(scenario_opts, backend, "backend", "B", "only this backend, heap or rocksdb (default: both)"),
    CLI_U64(scenario_opts, seed, "seed", "N", 0, UINT64_MAX, "seed of the runs (default 1)"),
    CLI_FLAG(scenario_opts, json, "json", "one JSON object per result"),
    CLI_STRING(scenario_opts, versions, "versions", "V",
               "only the results of the version pair V, as the matrix's versions column spells it "
               "(e.g. 1.15.4->1.16.3); every variant still runs"),
    CLI_STRING(scenario_opts, out, "out", "DIR", "keep the snapshot storage under DIR (default: in memory)"),
    CLI_STRING(scenario_opts, trace, "trace", "FILE", "write the JSONL trace to FILE"),
    CLI_INCLUDE(scenario_opts, mutant, sim_mutant, runner_mutant_option),
    CLI_INCLUDE(scenario_opts, lane, runner_lane, runner_lane_options),
    CLI_INCLUDE(scenario_opts, progress, cli_progress, cli_progress_options),
    CLI_END,
};

int cmd_scenario(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return cli_usage_error("scenario: expected 'scenario run FILE' (see snapsim scenario --help)");
    scenario_opts so;
    memset(&so, 0, sizeof so);
    so.seed = 1;
    runner_lane_defaults(&so.lane);
    int first = 0;
    argc--;
    argv++;
    int rc = cli_parse(scenario_run_options, &so, argc, argv, "scenario", &first);
    if (rc) return rc;
    const char *kind = so.kind, *backend = so.backend, *out = so.out, *trace = so.trace;
    sim_mutant mutant = so.mutant;
    uint64_t seed = so.seed;
    int json = so.json, flink = so.lane.flink;
    drv_flink_opts fo = so.lane.fo;
    sim_kind k;
    if (kind && sim_kind_parse(kind, &k) != 0)
        return cli_usage_error("scenario: unknown kind '%s' (canonical, native, aligned, unaligned)", kind);
    if (backend && strcmp(backend, "heap") != 0 && strcmp(backend, "rocksdb") != 0)
        return cli_usage_error("scenario: unknown backend '%s' (heap, rocksdb)", backend);
    if (first != argc - 1) return cli_usage_error("scenario run: exactly one scenario FILE is required");
    runner r;
    rt_error e;
    rt_error_clear(&e);
    const char *path = argv[first];
    if (runner_load(&r, &path, 1, &e) != RT_OK || runner_expand(&r, kind, backend, 0, 1, &e) != RT_OK) {
        runner_free(&r);
        return cli_report_error(&e);
    }
    r.seed = seed;
    r.mutant = mutant;
    if (flink) {
        if (mutant != SIM_MUT_NONE || trace) {
            runner_free(&r);
            return cli_usage_error("scenario: --mutant and --trace are the model's; the real-Flink lane has neither");
        }
        r.flink = &fo;
    }
    if (trace && (r.trace = fopen(trace, "w")) == NULL) {
        runner_free(&r);
        return cli_usage_error("scenario: cannot write trace file %s", trace);
    }
    mx_result *res = calloc((size_t)r.n_combos + 1, sizeof *res);
    int worst = CLI_EXIT_OK, shown = 0;
    /* The lane's runs take minutes: a line per combination as it ends. */
    if (res && runner_run(&r, 1, cli_progress_lines(&so.progress), out, res, &e) == RT_OK) {
        for (int i = 0; i < r.n_combos; i++) {
            if (so.versions && strcmp(res[i].versions, so.versions) != 0 &&
                strncmp(res[i].reason, "scenario error: ", 16) != 0)
                continue;
            shown++;
            /* A mistake in the scenario itself is the user's input error. */
            if (strncmp(res[i].reason, "scenario error: ", 16) == 0) {
                worst = cli_usage_error("%s", res[i].reason + 16);
                break;
            }
            print_result(&res[i], json);
            if (strcmp(res[i].outcome, "skipped") == 0) continue; /* not a result */
            int x = exit_for_outcome(res[i].outcome);
            if (x > worst) worst = x;
        }
    } else {
        worst = cli_report_error(&e);
    }
    if (r.n_combos == 0 || (so.versions && shown == 0 && worst == CLI_EXIT_OK))
        worst = cli_usage_error("scenario: no combination matches the filters");
    free(res);
    if (r.trace) fclose(r.trace);
    runner_free(&r);
    return worst;
}
