/* cmd_mutants: runs the whole matrix under each built-in mutant and
 * reports which ones the matrix notices (a result whose outcome differs
 * from the unmutated run). A surviving mutant is a mechanism no cell
 * depends on: exit 1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "runner.h"
#include "drv_fuzz.h"

#define MUTANT_FUZZ_SEEDS 60

/* The first fuzz seed (of the budget) whose invariants the mutant breaks,
 * or 0. It runs in a child process: RocksDB starts background threads, and
 * a process that forks matrix workers afterwards must not have any (a
 * forked copy of a held RocksDB mutex deadlocks the workers). */
static uint64_t fuzz_kills(sim_mutant m, const char *work, rt_error *e, rt_err *rc) {
    int fds[2];
    *rc = RT_OK;
    fflush(NULL);
    pid_t pid = pipe(fds) == 0 ? fork() : -1;
    if (pid < 0) {
        *rc = RT_FAIL(e, RT_EIO, "mutants: cannot fork the fuzz budget");
        return 0;
    }
    if (pid == 0) {
        close(fds[0]);
        uint64_t found = 0;
        for (uint64_t s = 1; s <= MUTANT_FUZZ_SEEDS && found == 0; s++) {
            drv_fuzz_result r;
            rt_error ce;
            if (drv_fuzz_one(s, work, NULL, m, &r, &ce) != RT_OK) _exit(2);
            if (r.violated) found = s;
        }
        _exit(write(fds[1], &found, sizeof found) == (ssize_t)sizeof found ? 0 : 2);
    }
    close(fds[1]);
    uint64_t found = 0;
    ssize_t got = read(fds[0], &found, sizeof found);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof found || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        *rc = RT_FAIL(e, RT_EINTERNAL, "mutants: the fuzz budget for %s did not finish", sim_mutant_name(m));
    return found;
}

static int run_all(runner *r, sim_mutant m, int jobs, mx_result *out, rt_error *e) {
    r->mutant = m;
    return runner_run(r, jobs, 0, NULL, out, e);
}

int cmd_mutants(int argc, char **argv) {
    static const struct option longs[] = {{"jobs", required_argument, 0, 'j'},
                                          {"scenarios", required_argument, 0, 's'}, {0, 0, 0, 0}};
    const char *dir = "scenarios";
    uint64_t jobs = 2;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'j' && cli_parse_u64(optarg, &jobs) == 0 && jobs >= 1 && jobs <= 64) continue;
        if (c == 's') {
            dir = optarg;
            continue;
        }
        return cli_usage_error("mutants: unknown or bad option '%s' (see snapsim mutants --help)", argv[optind - 1]);
    }
    if (optind < argc) return cli_usage_error("mutants: unexpected argument '%s'", argv[optind]);
    runner r;
    rt_error e;
    rt_error_clear(&e);
    if (runner_load_dir(&r, dir, &e) != RT_OK || runner_expand(&r, NULL, NULL, 0, 1, &e) != RT_OK) {
        runner_free(&r);
        return cli_report_error(&e);
    }
    mx_result *base = calloc((size_t)r.n_combos + 1, sizeof *base);
    mx_result *mut = calloc((size_t)r.n_combos + 1, sizeof *mut);
    int survivors = 0, rc = CLI_EXIT_OK;
    fprintf(stderr, "mutants: %d runs per mutant, %d mutants\n", r.n_combos, SIM_MUT_COUNT - 1);
    if (base == NULL || mut == NULL || run_all(&r, SIM_MUT_NONE, (int)jobs, base, &e) != RT_OK) {
        rc = e.code ? cli_report_error(&e) : cli_usage_error("out of memory");
        goto done;
    }
    for (int m = 1; m < SIM_MUT_COUNT; m++) {
        if (run_all(&r, (sim_mutant)m, (int)jobs, mut, &e) != RT_OK) {
            rc = cli_report_error(&e);
            goto done;
        }
        char work[512];
        rt_err frc = RT_OK;
        uint64_t seed = cli_work_dir(work, sizeof work, "mutants") == 0 ? fuzz_kills((sim_mutant)m, work, &e, &frc) : 0;
        cli_remove_tree(work);
        if (frc != RT_OK) {
            rc = cli_report_error(&e);
            goto done;
        }
        int changed = 0, first = -1, costlier = 0, first_cost = -1;
        for (int i = 0; i < r.n_combos; i++) {
            if (strcmp(base[i].outcome, mut[i].outcome) != 0) {
                changed++;
                if (first < 0) first = i;
            }
            /* A cost regression as `matrix diff` flags it: > 10% more bytes. */
            if (mut[i].bytes * 10 > base[i].bytes * 11) {
                costlier++;
                if (first_cost < 0) first_cost = i;
            }
        }
        char fuzz[64] = "fuzz: no violation";
        if (seed) snprintf(fuzz, sizeof fuzz, "fuzz: seed %llu", (unsigned long long)seed);
        if (changed)
            printf("killed    %-28s matrix: %d result(s) changed, e.g. %s/%s %s %s: %s -> %s; %s\n",
                   sim_mutant_name((sim_mutant)m), changed, mut[first].guarantee, mut[first].kind, mut[first].backend,
                   mut[first].versions, base[first].outcome, mut[first].outcome, fuzz);
        else if (costlier)
            printf("killed    %-28s matrix: no outcome changed, %d result(s) cost more than 10%% more bytes, e.g. "
                   "%s/%s %s %s: %llu -> %llu bytes; %s\n", sim_mutant_name((sim_mutant)m), costlier,
                   mut[first_cost].guarantee, mut[first_cost].kind, mut[first_cost].backend, mut[first_cost].versions,
                   (unsigned long long)base[first_cost].bytes, (unsigned long long)mut[first_cost].bytes, fuzz);
        else if (seed)
            printf("killed    %-28s matrix: no change; %s\n", sim_mutant_name((sim_mutant)m), fuzz);
        else
            printf("SURVIVED  %-28s %s\n", sim_mutant_name((sim_mutant)m), sim_mutant_what((sim_mutant)m));
        fflush(stdout);
        survivors += changed == 0 && costlier == 0 && seed == 0;
    }
    printf("%d of %d mutants survived the matrix and %d fuzz seeds\n", survivors, SIM_MUT_COUNT - 1,
           MUTANT_FUZZ_SEEDS);
    rc = survivors ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
done:
    free(base);
    free(mut);
    runner_free(&r);
    return rc;
}
