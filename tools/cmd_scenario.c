/* cmd_scenario: `snapsim scenario run FILE`: one scenario, every selected
 * combination, one line (or JSON object) per result. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "outcome",
                          r->outcome, "impl", r->impl, "scenario", r->scenario, "guarantee", r->guarantee, "kind", r->kind,
                          "backend", r->backend, "versions", r->versions, "reason", r->reason, "seed",
                          (json_int_t)r->seed, "digest", r->digest, "virtual_ms", (json_int_t)r->virtual_ms,
                          "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes);
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

int cmd_scenario(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        return cli_usage_error("scenario: expected 'scenario run FILE' (see snapsim scenario --help)");
    static const struct option longs[] = {{"kind", required_argument, 0, 'k'}, {"backend", required_argument, 0, 'b'},
                                          {"seed", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
                                          {"out", required_argument, 0, 'o'},  {"mutant", required_argument, 0, 'm'},
                                          {"trace", required_argument, 0, 't'},
                                          {"impl", required_argument, 0, 'i'}, {"release", required_argument, 0, 'r'},
                                          {"runners", required_argument, 0, 'R'},
                                          {0, 0, 0, 0}};
    const char *kind = NULL, *backend = NULL, *out = NULL, *trace = NULL;
    sim_mutant mutant = SIM_MUT_NONE;
    uint64_t seed = 1;
    int json = 0, c, flink = 0;
    drv_flink_opts fo;
    drv_flink_defaults(&fo);
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'k': kind = optarg; break;
        case 'b': backend = optarg; break;
        case 'j': json = 1; break;
        case 'o': out = optarg; break;
        case 't': trace = optarg; break;
        case 'i':
            if (strcmp(optarg, "flink") == 0) flink = 1;
            else if (strcmp(optarg, "model") != 0) return cli_usage_error("scenario: --impl is model or flink, not '%s'", optarg);
            break;
        case 'r': fo.default_release = optarg; break;
        case 'R': fo.runners_dir = optarg; break;
        case 'm':
            if (sim_mutant_parse(optarg, &mutant) != 0) return cli_usage_error("scenario: unknown mutant '%s' (see snapsim mutants --help)", optarg);
            break;
        case 's':
            if (cli_parse_u64(optarg, &seed)) return cli_usage_error("scenario: --seed wants a number, not '%s'", optarg);
            break;
        default: return cli_usage_error("scenario: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    sim_kind k;
    if (kind && sim_kind_parse(kind, &k) != 0)
        return cli_usage_error("scenario: unknown kind '%s' (canonical, native, aligned, unaligned)", kind);
    if (backend && strcmp(backend, "heap") != 0 && strcmp(backend, "rocksdb") != 0)
        return cli_usage_error("scenario: unknown backend '%s' (heap, rocksdb)", backend);
    if (optind != argc - 1) return cli_usage_error("scenario run: exactly one scenario FILE is required");
    runner r;
    rt_error e;
    rt_error_clear(&e);
    const char *path = argv[optind];
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
    int worst = CLI_EXIT_OK;
    if (res && runner_run(&r, 1, 0, out, res, &e) == RT_OK) {
        for (int i = 0; i < r.n_combos; i++) {
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
    if (r.n_combos == 0) worst = cli_usage_error("scenario: no combination matches the filters");
    free(res);
    if (r.trace) fclose(r.trace);
    runner_free(&r);
    return worst;
}
