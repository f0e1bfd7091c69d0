/* cmd_fuzz: `snapsim fuzz` sweeps seeds through drv_fuzz_one and
 * `snapsim replay` runs one seed again, exactly, with its trace. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_progress.h"
#include "commands.h"
#include "mx.h"
#include "drv_fuzz.h"
#include "replay_show.h"
#include "runner.h"

typedef struct fuzz_opts {
    uint64_t seeds, from;
    cli_shard shard;
    int json;
    const char *db, *trace;
    sim_mutant mutant;
    int have_seed;
    uint64_t until;
    int have_until;
    const char *brk;
    uint64_t minimize;
    int have_minimize;
    const char *choices; /* replay --case */
    cli_progress progress;
} fuzz_opts;

/* fuzz sweeps seeds; replay runs one with its trace: neither takes the other's options. */
const cli_opt fuzz_options[] = {
    CLI_U64(fuzz_opts, seeds, "seeds", "N", 1, UINT64_MAX, "how many seeds (required)"),
    CLI_U64(fuzz_opts, from, "from", "S", 0, UINT64_MAX, "the first seed (default 1)"),
    CLI_CALL(fuzz_opts, shard, cli_shard, "shard", "I/N", cli_opt_shard, "I/N with 0 <= I < N",
             "take every N-th seed, from the I-th (parallel processes)"),
    CLI_STRING(fuzz_opts, db, "db", "FILE", "record every seed in the results table of FILE"),
    CLI_FLAG(fuzz_opts, json, "json", "one JSON object per seed"),
    CLI_U64_SEEN(fuzz_opts, minimize, have_minimize, "minimize", "SEED", 0, UINT64_MAX,
                 "shrink the failing case of SEED to a 1-minimal one that breaks the\n"
                 "same invariant and print its replay command (instead of a sweep)"),
    CLI_INCLUDE(fuzz_opts, mutant, sim_mutant, runner_mutant_option),
    CLI_INCLUDE(fuzz_opts, progress, cli_progress, cli_progress_options),
    CLI_END,
};
const cli_opt replay_options[] = {
    CLI_U64_SEEN(fuzz_opts, from, have_seed, "seed", "N", 0, UINT64_MAX, "the seed to replay (required)"),
    CLI_STRING(fuzz_opts, trace, "trace", "FILE", "write the seed's JSONL trace to FILE"),
    CLI_STRING(fuzz_opts, choices, "case", "C",
               "replay the case of these choices (hex joined by '.', as\n"
               "a minimized fuzz case prints them) instead of the seed's own draws"),
    CLI_FLAG(fuzz_opts, json, "json", "print the case as one JSON object"),
    CLI_U64_SEEN(fuzz_opts, until, have_until, "until", "T", 0, UINT64_MAX,
                 "stop before the first event after case time T ms and print the\n"
                 "coordinator, registry and task state there"),
    CLI_STRING(fuzz_opts, brk, "break", "EVENT[:N]",
               "stop after the step that wrote the (N-th) trace event EVENT and\n"
               "print the state there"),
    CLI_INCLUDE(fuzz_opts, mutant, sim_mutant, runner_mutant_option),
    CLI_END,
};

static int parse(fuzz_opts *o, int argc, char **argv, const char *cmd) {
    memset(o, 0, sizeof *o);
    o->from = 1;
    o->shard.n = 1;
    int first = 0;
    int rc = cli_parse(strcmp(cmd, "fuzz") == 0 ? fuzz_options : replay_options, o, argc, argv, cmd, &first);
    if (rc) return rc;
    if (first < argc) return cli_usage_error("%s: unexpected argument '%s'", cmd, argv[first]);
    return 0;
}

static json_t *sequences_json(unsigned seqs) {
    json_t *a = json_array();
    for (int q = 0; q < DRV_SEQ_COUNT; q++)
        if (seqs & (1u << q)) json_array_append_new(a, json_string(drv_fuzz_seq_name((drv_fuzz_seq)q)));
    return a;
}

/* A list the text output joins with sep ("none": empty), as a JSON array. */
static json_t *split_json(const char *text, const char *sep) {
    json_t *a = json_array();
    if (strcmp(text, "none") == 0) return a;
    size_t n = strlen(sep);
    for (const char *p = text; *p;) {
        const char *end = strstr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) json_array_append_new(a, json_stringn(p, len));
        p += len + (end ? n : 0);
    }
    return a;
}

static json_t *str_or_null(const char *s) { return s[0] ? json_string(s) : json_null(); }

static const char *mutant_flag(sim_mutant m) { return m ? " --mutant " : ""; }
static const char *mutant_arg(sim_mutant m) { return m ? sim_mutant_name(m) : ""; }

/* One seed's result; the same members whatever it ended with (reason,
 * known_bug and replay are null when they have nothing to say). */
static void print_json(const drv_fuzz_result *r, sim_mutant mutant, const char *choices) {
    char unseed[24], replay[4096] = "";
    snprintf(unseed, sizeof unseed, "%016" PRIx64, r->unseed);
    if (r->violated)
        snprintf(replay, sizeof replay, "snapsim replay --seed %" PRIu64 "%s%s%s%s --trace seed-%" PRIu64 ".jsonl",
                 r->seed, mutant_flag(mutant), mutant_arg(mutant), choices ? " --case " : "", choices ? choices : "",
                 r->seed);
    json_t *o = json_pack("{s:I, s:s, s:b, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:o}", "seed",
                          (json_int_t)r->seed, "outcome", r->outcome, "violated", r->violated, "known_bug",
                          str_or_null(r->known_bug), "reason", str_or_null(r->why.msg), "backend", r->backend, "kind",
                          r->kind, "digest", r->digest, "unseed", unseed, "plan", split_json(r->plan, "; "), "actions",
                          split_json(r->actions, " "), "virtual_ms", (json_int_t)r->virtual_ms, "files",
                          (json_int_t)r->files, "bytes", (json_int_t)r->bytes, "sequences",
                          sequences_json(r->sequences), "replay", str_or_null(replay));
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

static void to_mx(const drv_fuzz_result *f, mx_result *m) {
    memset(m, 0, sizeof *m);
    snprintf(m->scenario, sizeof m->scenario, "fuzz");
    snprintf(m->guarantee, sizeof m->guarantee, "fuzz");
    snprintf(m->kind, sizeof m->kind, "%s", f->kind);
    snprintf(m->backend, sizeof m->backend, "%s", f->backend);
    snprintf(m->outcome, sizeof m->outcome, "%s", f->outcome);
    snprintf(m->reason, sizeof m->reason, "%s", f->why.msg);
    m->seed = f->seed;
    snprintf(m->digest, sizeof m->digest, "%s", f->digest);
    m->virtual_ms = f->virtual_ms;
    m->files = f->files;
    m->bytes = f->bytes;
}

/* fuzz --minimize SEED: exit 0 with the replay command of the minimized
 * case; 2 when the seed's case does not fail. */
static int minimize(const fuzz_opts *o) {
    if (o->seeds || o->db || o->shard.n != 1 || o->json)
        return cli_usage_error("fuzz: --minimize SEED takes no --seeds, --from, --shard, --db or --json");
    char work[512];
    if (cli_work_dir(work, sizeof work, "fuzz") != 0) return cli_usage_error("fuzz: cannot make a work directory");
    drv_fuzz_minimized m;
    rt_error e;
    rt_error_clear(&e);
    rt_err err = drv_fuzz_minimize(o->minimize, work, o->mutant, &m, &e);
    cli_remove_tree(work);
    if (err != RT_OK) return cli_report_error(&e);
    char *c = drv_fuzz_choices_format(m.choices, m.n);
    if (c == NULL) {
        drv_fuzz_minimized_free(&m);
        return cli_usage_error("fuzz: out of memory");
    }
    printf("MINIMIZED seed %" PRIu64 " (%s): %zu choices of %zu, after %" PRIu64 " runs\n  fails: %s\n"
           "  actions: %s\n  faults: %s\n  replay: snapsim replay --seed %" PRIu64 "%s%s --case %s --trace seed-%" PRIu64
           "-min.jsonl\n", o->minimize, m.result.backend, m.n, m.original_n, m.runs, m.result.why.msg,
           m.result.actions, m.result.plan, o->minimize, mutant_flag(o->mutant), mutant_arg(o->mutant), c, o->minimize);
    free(c);
    drv_fuzz_minimized_free(&m);
    return CLI_EXIT_OK;
}

/* --db: the seeds recorded so far are committed every so many seeds (a
 * few seconds of a sweep), so a killed sweep keeps all but its last few
 * and a matrix run into the same database waits at most that long. */
#define FUZZ_COMMIT_SEEDS 32

/* A sweep's tally and where its results go (drv_fuzz_sink). */
typedef struct sweep_state {
    const fuzz_opts *o;
    mx_db *db;
    int64_t run;
    uint64_t done, violations, known, seq[DRV_SEQ_COUNT];
    rt_error *e;
    int rc; /* a recording error's exit status, which stopped the sweep */
    int closed; /* stdout's reader went away (head): the sweep stopped */
} sweep_state;

/* One seed's result, as it comes: printed, counted, recorded. */
static int sweep_result(void *ctx, const drv_fuzz_result *r) {
    sweep_state *st = ctx;
    const fuzz_opts *o = st->o;
    st->done++;
    for (int q = 0; q < DRV_SEQ_COUNT; q++) st->seq[q] += (r->sequences >> q) & 1u;
    /* With --json, stdout is one JSON object a line; the lines for humans
     * go to stderr (the object has their replay command), unless --quiet. */
    FILE *human = !o->json ? stdout : o->progress.quiet ? NULL : stderr;
    if (o->json) print_json(r, o->mutant, NULL);
    if (r->violated) {
        st->violations++;
        if (human) {
            fprintf(human, "VIOLATION seed %" PRIu64 " (%s): %s\n  replay: snapsim replay --seed %" PRIu64 "%s%s --trace seed-%" PRIu64
                    ".jsonl\n", r->seed, r->backend, r->why.msg, r->seed, mutant_flag(o->mutant), mutant_arg(o->mutant),
                    r->seed);
            fflush(human);
        }
    }
    if (r->known_bug[0]) {
        st->known++;
        if (human) {
            fprintf(human, "KNOWN     seed %" PRIu64 " (%s): %s\n", r->seed, r->backend, r->why.msg);
            fflush(human);
        }
    }
    if (st->db) {
        mx_result m;
        to_mx(r, &m);
        if (mx_record(st->db, st->run, &m, st->e) != RT_OK ||
            (st->done % FUZZ_COMMIT_SEEDS == 0 && mx_run_commit(st->db, st->run, st->e) != RT_OK)) {
            st->rc = cli_report_error(st->e);
            return 1;
        }
    }
    /* Piped into head: once the reader has gone, no more seeds. */
    if (cli_stdout_gone()) {
        st->closed = 1;
        return 1;
    }
    if (st->done % 10 == 0 && cli_progress_lines(&o->progress))
        fprintf(stderr, "fuzz: %" PRIu64 " seeds, %" PRIu64 " violations\n", st->done, st->violations);
    return 0;
}

/* A child died in the work directory: what it left goes first. */
static int sweep_fresh(void *ctx, const char *work) {
    (void)ctx;
    return cli_fresh_dir(work);
}

int cmd_fuzz(int argc, char **argv) {
    fuzz_opts o;
    int rc = parse(&o, argc, argv, "fuzz");
    if (rc) return rc;
    if (o.have_minimize) return minimize(&o);
    if (o.seeds == 0) return cli_usage_error("fuzz: --seeds N is required");
    rt_error e;
    rt_error_clear(&e);
    mx_db *db = NULL;
    int64_t run = 0;
    if (o.db && (mx_open(&db, o.db, &e) != RT_OK ||
                 mx_run_begin(db, "fuzz", "", o.mutant ? sim_mutant_name(o.mutant) : "fuzz", NULL, &run, &e) != RT_OK)) {
        mx_close(db);
        return cli_report_error(&e);
    }
    char work[512];
    if (cli_work_dir(work, sizeof work, "fuzz") != 0) return cli_usage_error("fuzz: cannot make a work directory");
    sweep_state st = {&o, db, run, 0, 0, 0, {0}, &e, 0, 0};
    drv_fuzz_seeds seeds = {o.from + (uint64_t)o.shard.i, (uint64_t)o.shard.n, 0};
    if (o.seeds > (uint64_t)o.shard.i) seeds.count = (o.seeds - (uint64_t)o.shard.i - 1) / (uint64_t)o.shard.n + 1;
    drv_fuzz_sink sink = {sweep_result, sweep_fresh, &st};
    if (drv_fuzz_sweep(drv_fuzz_one, &seeds, work, o.mutant, &sink, &e) != RT_OK) {
        if (st.closed) rc = 0; /* what was asked for was read: ends as below */
        else if (st.rc) rc = st.rc; /* the results table refused a seed: reported */
        else if (strstr(e.msg, "cannot clean the work directory")) rc = cli_usage_error("%s", e.msg);
        else rc = cli_report_error(&e);
    }
    uint64_t done = st.done, violations = st.violations, known = st.known, *seq = st.seq;
    cli_remove_tree(work);
    if (db && rc == 0 && mx_run_end(db, run, &e) != RT_OK) rc = cli_report_error(&e);
    mx_close(db);
    if (rc) return rc;
    if (st.closed || !cli_progress_summary(&o.progress)) return violations ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
    fprintf(stderr, "fuzz: %" PRIu64 " seeds from %" PRIu64 ", %" PRIu64 " violations, %" PRIu64
                    " ended by a known Flink bug (not violations)\n", done, o.from, violations, known);
    for (int q = 0; q < DRV_SEQ_COUNT && done > 0; q++)
        fprintf(stderr, "fuzz: %-32s %6" PRIu64 " seeds (%.1f%%)\n", drv_fuzz_seq_name((drv_fuzz_seq)q), seq[q],
                100.0 * (double)seq[q] / (double)done);
    return violations ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

/* --break EVENT or EVENT:N (N >= 1) into event and *nth. */
static int parse_break(const char *v, char *event, size_t cap, uint64_t *nth) {
    const char *colon = strchr(v, ':');
    size_t len = colon ? (size_t)(colon - v) : strlen(v);
    *nth = 1;
    if (colon && (cli_parse_u64(colon + 1, nth) != 0 || *nth == 0))
        return cli_usage_error("replay: --break wants EVENT or EVENT:N with N >= 1, not '%s'", v);
    if (len < cap) {
        memcpy(event, v, len);
        event[len] = '\0';
    }
    if (len == 0 || len >= cap || !drv_trace_event_known(event)) {
        fprintf(stderr, "error: replay: --break: no trace event is named '%.*s'; the events are:", (int)len, v);
        for (int i = 0; drv_trace_events[i]; i++) fprintf(stderr, " %s", drv_trace_events[i]);
        fprintf(stderr, "\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cmd_replay(int argc, char **argv) {
    fuzz_opts o;
    int rc = parse(&o, argc, argv, "replay");
    if (rc) return rc;
    if (!o.have_seed) return cli_usage_error("replay: --seed N is required");
    replay_show_ctx show = {.seed = o.from, .json = o.json, .has_until = o.have_until, .until_ms = o.until};
    char event[64];
    if (o.brk && (rc = parse_break(o.brk, event, sizeof event, &show.nth)) != 0) return rc;
    if (o.brk) show.event = event;
    int stopping = o.brk || o.have_until;
    drv_fuzz_stop stop = {.has_until = o.have_until, .until_ms = o.until, .event = show.event, .nth = show.nth,
                          .show = replay_show, .ctx = &show};
    rt_error e;
    rt_error_clear(&e);
    rt_tape tape; /* --case: the case's choices come from it */
    memset(&tape, 0, sizeof tape);
    tape.replay = 1;
    uint64_t *choices = NULL;
    if (o.choices && drv_fuzz_choices_parse(o.choices, &choices, &tape.in_n, &e) != RT_OK) return cli_report_error(&e);
    tape.in = choices;
    char work[512];
    FILE *trace = NULL;
    if (cli_work_dir(work, sizeof work, "fuzz") != 0) {
        free(choices);
        return cli_usage_error("replay: cannot make a work directory");
    }
    if (o.trace && (trace = fopen(o.trace, "w")) == NULL) {
        cli_remove_tree(work);
        free(choices);
        return cli_usage_error("replay: cannot write %s", o.trace);
    }
    drv_fuzz_result r;
    rt_err err =
        drv_fuzz_case(o.from, work, trace, o.mutant, stopping ? &stop : NULL, o.choices ? &tape : NULL, &r, &e);
    rt_tape_free(&tape);
    free(choices);
    cli_remove_tree(work);
    if (trace) fclose(trace);
    if (err != RT_OK) return cli_report_error(&e);
    if (show.shown) return show.reached ? CLI_EXIT_OK : CLI_EXIT_REJECTED;
    if (o.json) {
        print_json(&r, o.mutant, o.choices);
    } else {
        printf("seed      %" PRIu64 "\nbackend   %s (%s checkpoints)\nfaults    %s\nactions   %s\noutcome   %s%s%s\n"
               "digest    %s\nunseed    %016" PRIx64 "\n", r.seed, r.backend, r.kind, r.plan, r.actions, r.outcome,
               r.why.msg[0] ? ": " : "", r.why.msg, r.digest, r.unseed);
        printf("sequences");
        for (int q = 0; q < DRV_SEQ_COUNT; q++)
            if (r.sequences & (1u << q)) printf(" %s", drv_fuzz_seq_name((drv_fuzz_seq)q));
        printf("%s\n", r.sequences ? "" : " none");
    }
    return r.violated ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}
