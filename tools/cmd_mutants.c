/* cmd_mutants: runs the whole matrix, the shipped-bug scenarios
 * (scenarios/shipped/: one per bug that reached Flink's users, each
 * checking that bug's symptom) and a fuzz budget under each built-in
 * mutant, and reports what killed it: a matrix result whose outcome
 * differs from the unmutated run (or, none differing, one that costs more
 * than 10% more bytes), a shipped-bug scenario that no longer
 * works, or the first fuzz seed whose invariants break (and so how many
 * seeds it took). A surviving mutant is a mechanism nothing checks: exit 1.
 * With --out DIR the same goes into DIR/mutants.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "commands.h"
#include "runner.h"
#include "drv_fuzz.h"

#define MUTANT_FUZZ_SEEDS 60
#define MUTANT_FUZZ_SEEDS_MAX 100000

/* The first fuzz seed (of the budget) whose invariants the mutant breaks,
 * or 0. It runs in a child process: RocksDB starts background threads, and
 * a process that forks matrix workers afterwards must not have any (a
 * forked copy of a held RocksDB mutex deadlocks the workers). */
static uint64_t fuzz_kills(sim_mutant m, uint64_t seeds, const char *work, rt_error *e, rt_err *rc) {
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
        for (uint64_t s = 1; s <= seeds && found == 0; s++) {
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

/* Matrix and shipped-bug runs, with their unmutated outcomes. */
typedef struct suite {
    runner r;
    mx_result *base, *mut;
    int loaded;
} suite;

static rt_err suite_load(suite *s, const char *dir, int optional, rt_error *e) {
    memset(s, 0, sizeof *s);
    if (optional && access(dir, F_OK) != 0) return RT_OK; /* no shipped-bug scenarios here */
    rt_err rc = runner_load_dir(&s->r, dir, e);
    if (rc == RT_OK) rc = runner_expand(&s->r, NULL, NULL, 0, 1, e);
    if (rc != RT_OK) return rc;
    s->base = calloc((size_t)s->r.n_combos + 1, sizeof *s->base);
    s->mut = calloc((size_t)s->r.n_combos + 1, sizeof *s->mut);
    if (s->base == NULL || s->mut == NULL) return RT_FAIL(e, RT_ENOMEM, "mutants: out of memory");
    s->loaded = 1;
    return RT_OK;
}

static void suite_free(suite *s) {
    free(s->base);
    free(s->mut);
    if (s->loaded || s->r.n_scns) runner_free(&s->r);
    memset(s, 0, sizeof *s);
}

/* Whether the mutated result differs from the unmutated one: its outcome,
 * or (a cost regression as `matrix diff` flags it) more than 10% more bytes. */
static int outcome_moved(const mx_result *base, const mx_result *mut) {
    return strcmp(base->outcome, mut->outcome) != 0;
}
static int cost_grew(const mx_result *base, const mx_result *mut) { return mut->bytes * 10 > base->bytes * 11; }

/* How many results `moved`; first gets the index of the first one. */
static int count_moved(const suite *s, int (*moved)(const mx_result *, const mx_result *), int *first) {
    int n = 0;
    *first = -1;
    for (int i = 0; s->loaded && i < s->r.n_combos; i++)
        if (moved(&s->base[i], &s->mut[i])) {
            if (*first < 0) *first = i;
            n++;
        }
    return n;
}

/* What killed one mutant, in words (one line, also a table cell). */
typedef struct verdict {
    int killed;
    char matrix[256], shipped[320], fuzz[96];
} verdict;

static void describe(const suite *mx, const suite *sh, uint64_t seed, uint64_t seeds, verdict *v) {
    int first, n = count_moved(mx, outcome_moved, &first);
    memset(v, 0, sizeof *v);
    if (n)
        snprintf(v->matrix, sizeof v->matrix, "%d result(s) changed, e.g. %s/%s %s %s: %s -> %s", n,
                 mx->mut[first].guarantee, mx->mut[first].kind, mx->mut[first].backend, mx->mut[first].versions,
                 mx->base[first].outcome, mx->mut[first].outcome);
    int cf, cn = n ? 0 : count_moved(mx, cost_grew, &cf);
    if (cn)
        snprintf(v->matrix, sizeof v->matrix,
                 "no outcome changed; %d result(s) cost more than 10%% more bytes, e.g. %s/%s %s %s: %llu -> %llu bytes",
                 cn, mx->mut[cf].guarantee, mx->mut[cf].kind, mx->mut[cf].backend, mx->mut[cf].versions,
                 (unsigned long long)mx->base[cf].bytes, (unsigned long long)mx->mut[cf].bytes);
    else if (n == 0)
        snprintf(v->matrix, sizeof v->matrix, "no change");
    int sf, sn = count_moved(sh, outcome_moved, &sf);
    if (sn)
        snprintf(v->shipped, sizeof v->shipped, "scenarios/shipped/%s.json (%s %s): %s -> %s", sh->mut[sf].scenario,
                 sh->mut[sf].kind, sh->mut[sf].backend, sh->base[sf].outcome, sh->mut[sf].outcome);
    else
        snprintf(v->shipped, sizeof v->shipped, "%s", sh->loaded ? "no change" : "none run");
    if (seed)
        snprintf(v->fuzz, sizeof v->fuzz, "seed %llu (%llu seed%s)", (unsigned long long)seed,
                 (unsigned long long)seed, seed == 1 ? "" : "s");
    else
        snprintf(v->fuzz, sizeof v->fuzz, "no violation in %llu seeds", (unsigned long long)seeds);
    v->killed = n > 0 || cn > 0 || sn > 0 || seed > 0;
}

/* An unmutated shipped-bug scenario that does not work is a bug of the
 * model itself: nothing a mutant changes can be read from it. */
static rt_err check_baseline(const suite *sh, rt_error *e) {
    for (int i = 0; sh->loaded && i < sh->r.n_combos; i++)
        if (strcmp(sh->base[i].outcome, "works") != 0)
            return RT_FAIL(e, RT_EINTERNAL, "mutants: shipped-bug scenario %s (%s %s) is %s without a mutant: %.300s",
                           sh->base[i].scenario, sh->base[i].kind, sh->base[i].backend, sh->base[i].outcome,
                           sh->base[i].reason);
    return RT_OK;
}

static FILE *open_md(const char *out, rt_error *e) {
    char path[1024];
    snprintf(path, sizeof path, "%s/mutants.md", out);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        RT_FAIL(e, RT_EIO, "mutants: cannot write %s", path);
        return NULL;
    }
    fprintf(f, "# Mutants\n\n"
               "Each built-in mutant breaks one mechanism on purpose; those named by a FLINK id put back a\n"
               "bug that reached Flink's users, in the class where Flink had it. A mutant is killed when a\n"
               "matrix result changes outcome, a shipped-bug scenario (`scenarios/shipped/`, each checking\n"
               "one bug's symptom) stops working, or a fuzz seed breaks an invariant (the first such seed:\n"
               "seeds run from 1, so it is also how many seeds it took). Written by `snapsim mutants`.\n\n"
               "| mutant | what it breaks | matrix | shipped-bug scenario | fuzz | verdict |\n"
               "|---|---|---|---|---|---|\n");
    return f;
}

static void md_row(FILE *f, sim_mutant m, const verdict *v) {
    if (f == NULL) return;
    fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", sim_mutant_name(m), sim_mutant_what(m), v->matrix, v->shipped,
            v->fuzz, v->killed ? "killed" : "**survived**");
}

typedef struct mutant_opts {
    const char *dir, *shipped, *out;
    uint64_t jobs, seeds;
    struct mutant_list {
        int only[SIM_MUT_COUNT], n_only;
    } sel;
    cli_progress progress;
} mutant_opts;

/* --mutant NAME, again for more: a real mutant, each at most once listed. */
static int parse_only(void *target, const char *value) {
    struct mutant_list *l = target;
    sim_mutant m;
    if (sim_mutant_parse(value, &m) != 0 || m == SIM_MUT_NONE || l->n_only >= SIM_MUT_COUNT) return -1;
    l->only[l->n_only++] = (int)m;
    return 0;
}

const cli_opt mutants_options[] = {
    CLI_U64(mutant_opts, jobs, "jobs", "N", 1, 64, "worker processes (default 2)"),
    CLI_STRING(mutant_opts, dir, "scenarios", "DIR", "the matrix's scenarios (default scenarios)"),
    CLI_STRING(mutant_opts, shipped, "shipped", "DIR", "the shipped-bug scenarios (default scenarios/shipped)"),
    CLI_U64(mutant_opts, seeds, "seeds", "N", 0, MUTANT_FUZZ_SEEDS_MAX, "the fuzz budget per mutant (default 60; 0 skips it)"),
    CLI_CALL(mutant_opts, sel, struct mutant_list, "mutant", "NAME", parse_only, "a mutant's name (see snapsim mutants --help)",
             "only this mutant (again for more)"),
    CLI_STRING(mutant_opts, out, "out", "DIR", "write the table to DIR/mutants.md too"),
    CLI_INCLUDE(mutant_opts, progress, cli_progress, cli_progress_options),
    CLI_END,
};

static int parse(mutant_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->dir = "scenarios";
    o->shipped = "scenarios/shipped";
    o->jobs = 2;
    o->seeds = MUTANT_FUZZ_SEEDS;
    int first = 0;
    int rc = cli_parse(mutants_options, o, argc, argv, "mutants", &first);
    if (rc) return rc;
    if (first < argc) return cli_usage_error("mutants: unexpected argument '%s'", argv[first]);
    return 0;
}

static int selected(const mutant_opts *o, int m) {
    if (o->sel.n_only == 0) return 1;
    for (int i = 0; i < o->sel.n_only; i++)
        if (o->sel.only[i] == m) return 1;
    return 0;
}

/* One mutant: matrix, shipped-bug scenarios, fuzz budget. */
static rt_err judge(const mutant_opts *o, suite *mx, suite *sh, sim_mutant m, verdict *v, rt_error *e) {
    rt_err rc = run_all(&mx->r, m, (int)o->jobs, mx->mut, e);
    if (rc == RT_OK && sh->loaded) rc = run_all(&sh->r, m, (int)o->jobs, sh->mut, e);
    if (rc != RT_OK) return rc;
    char work[512];
    rt_err frc = RT_OK;
    uint64_t seed = 0;
    if (o->seeds > 0 && cli_work_dir(work, sizeof work, "mutants") == 0) {
        seed = fuzz_kills(m, o->seeds, work, e, &frc);
        cli_remove_tree(work);
    }
    if (frc != RT_OK) return frc;
    describe(mx, sh, seed, o->seeds, v);
    return RT_OK;
}

int cmd_mutants(int argc, char **argv) {
    mutant_opts o;
    int prc = parse(&o, argc, argv);
    if (prc != 0) return prc;
    suite mx, sh;
    memset(&sh, 0, sizeof sh);
    rt_error e;
    rt_error_clear(&e);
    int rc = CLI_EXIT_OK, survivors = 0, judged = 0;
    FILE *md = NULL;
    rt_err r = suite_load(&mx, o.dir, 0, &e);
    if (r == RT_OK) r = suite_load(&sh, o.shipped, 1, &e);
    int lines = cli_progress_lines(&o.progress);
    if (r == RT_OK) {
        if (lines)
            fprintf(stderr, "mutants: %d matrix runs and %d shipped-bug runs per mutant, %d fuzz seeds\n", mx.r.n_combos,
                sh.loaded ? sh.r.n_combos : 0, (int)o.seeds);
        r = run_all(&mx.r, SIM_MUT_NONE, (int)o.jobs, mx.base, &e);
    }
    if (r == RT_OK && sh.loaded) r = run_all(&sh.r, SIM_MUT_NONE, (int)o.jobs, sh.base, &e);
    if (r == RT_OK) r = check_baseline(&sh, &e);
    if (r == RT_OK && o.out && (md = open_md(o.out, &e)) == NULL) r = e.code;
    for (int m = 1; r == RT_OK && m < SIM_MUT_COUNT; m++) {
        if (!selected(&o, m)) continue;
        if (lines) fprintf(stderr, "mutants: judging %s (%d judged)\n", sim_mutant_name((sim_mutant)m), judged);
        verdict v;
        r = judge(&o, &mx, &sh, (sim_mutant)m, &v, &e);
        if (r != RT_OK) break;
        judged++;
        survivors += !v.killed;
        if (v.killed)
            printf("killed    %-28s matrix: %s; shipped: %s; fuzz: %s\n", sim_mutant_name((sim_mutant)m), v.matrix,
                   v.shipped, v.fuzz);
        else
            printf("SURVIVED  %-28s %s\n", sim_mutant_name((sim_mutant)m), sim_mutant_what((sim_mutant)m));
        md_row(md, (sim_mutant)m, &v);
        if (cli_stdout_gone()) break; /* piped into head, which has gone */
    }
    if (r != RT_OK) {
        rc = e.code ? cli_report_error(&e) : cli_usage_error("out of memory");
    } else {
        printf("%d of %d mutants survived the matrix, the shipped-bug scenarios and %d fuzz seeds\n", survivors,
               judged, (int)o.seeds);
        if (md) fprintf(md, "\n%d of %d mutants survived.\n", survivors, judged);
        rc = survivors ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
    }
    if (md) fclose(md);
    suite_free(&mx);
    suite_free(&sh);
    return rc;
}
