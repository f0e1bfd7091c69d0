/* test_fuzz: the fault sweep itself: a budget of seeds holds every
 * invariant, the swarm really varies the faults, a seed replays exactly
 * (digest and unseed), and a broken mechanism is caught. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv_fuzz.h"
#include "drv_fuzz_case.h"
#include "sim_backend.h"
#include "test_util.h"

static char work[512];

/* RocksDB fsyncs every flush: on tmpfs the sweep is several times faster. */
static int init(void) {
    if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK) == 0) {
        snprintf(work, sizeof work, "/dev/shm/snapsim-test-fuzz-XXXXXX");
        return mkdtemp(work) ? 0 : -1;
    }
    return tu_mkdtemp(work, sizeof work, "fuzz");
}
static int cleanup(void) { return tu_rmtree(work); }

#define BUDGET 20

static void test_budget_holds(void) {
    int rejected = 0, empty_plans = 0, rocks = 0;
    for (uint64_t s = 1; s <= BUDGET; s++) {
        drv_fuzz_result r;
        rt_error e;
        CU_ASSERT_FATAL(drv_fuzz_one(s, work, NULL, SIM_MUT_NONE, &r, &e) == RT_OK);
        if (r.violated) fprintf(stderr, "\n  seed %llu: %s\n", (unsigned long long)s, r.why.msg);
        CU_ASSERT_FALSE(r.violated);
        rejected += strcmp(r.outcome, "rejected") == 0;
        empty_plans += strcmp(r.plan, "none") == 0;
        rocks += strcmp(r.backend, "rocksdb") == 0;
    }
    /* The sweep exercises both backends and both ends of the swarm. */
    CU_ASSERT(rocks > 0 && rocks < BUDGET);
    CU_ASSERT(empty_plans < BUDGET);
    (void)rejected;
}

static void test_replay_is_exact(void) {
    drv_fuzz_result a, b;
    rt_error e;
    CU_ASSERT_FATAL(drv_fuzz_one(7, work, NULL, SIM_MUT_NONE, &a, &e) == RT_OK);
    CU_ASSERT_FATAL(drv_fuzz_one(7, work, NULL, SIM_MUT_NONE, &b, &e) == RT_OK);
    CU_ASSERT_STRING_EQUAL(a.digest, b.digest);
    CU_ASSERT_EQUAL(a.unseed, b.unseed);
    CU_ASSERT_STRING_EQUAL(a.actions, b.actions);
    drv_fuzz_result c;
    CU_ASSERT_FATAL(drv_fuzz_one(8, work, NULL, SIM_MUT_NONE, &c, &e) == RT_OK);
    CU_ASSERT_STRING_NOT_EQUAL(a.digest, c.digest);
}

/* Mechanisms the sweep guards: dropping channel state and a registry that
 * deletes files the job does not own must each break some seed. */
static void caught(sim_mutant m) {
    int violations = 0;
    for (uint64_t s = 1; s <= 60 && violations == 0; s++) {
        drv_fuzz_result r;
        rt_error e;
        CU_ASSERT_FATAL(drv_fuzz_one(s, work, NULL, m, &r, &e) == RT_OK);
        violations += r.violated;
    }
    if (!violations) fprintf(stderr, "\n  mutant %s survived 60 seeds\n", sim_mutant_name(m));
    CU_ASSERT(violations > 0);
}

static void test_catches_dropped_channel_state(void) { caught(SIM_MUT_DROP_CHANNEL_STATE); }
/* A discard that deletes shared files later checkpoints still use: the
 * check after each subsumption sees it. Reuploading every SST: the cost
 * check. */
static void test_catches_discarded_shared(void) { caught(SIM_MUT_DISCARD_SHARED); }
static void test_catches_reuploads(void) { caught(SIM_MUT_CONFIRM_NOTHING); }
static void test_catches_registry_ownership(void) { caught(SIM_MUT_FLINK_26985); }
static void test_catches_no_claim_reuse(void) { caught(SIM_MUT_NO_CLAIM_INCREMENTAL); }

/* A case's draws through a tape: recording changes nothing a seed draws
 * (case, digest, unseed), replaying the recorded choices is the same case,
 * and the tape is what the case reads (other choices, another case). */
static void test_tape_keeps_seeds(void) {
    static const uint64_t seeds[] = {7, 44, 53, 406};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        drv_fuzz_result a, b, c;
        rt_error e;
        rt_tape t;
        memset(&t, 0, sizeof t);
        CU_ASSERT_FATAL(drv_fuzz_one(seeds[i], work, NULL, SIM_MUT_NONE, &a, &e) == RT_OK);
        CU_ASSERT_FATAL(drv_fuzz_case(seeds[i], work, NULL, SIM_MUT_NONE, NULL, &t, &b, &e) == RT_OK);
        CU_ASSERT_STRING_EQUAL(a.digest, b.digest);
        CU_ASSERT_EQUAL(a.unseed, b.unseed);
        CU_ASSERT_STRING_EQUAL(a.actions, b.actions);
        CU_ASSERT_STRING_EQUAL(a.plan, b.plan);
        CU_ASSERT(t.n > 10);
        rt_tape r;
        memset(&r, 0, sizeof r);
        r.replay = 1;
        r.in = t.v;
        r.in_n = t.n;
        CU_ASSERT_FATAL(drv_fuzz_case(seeds[i], work, NULL, SIM_MUT_NONE, NULL, &r, &c, &e) == RT_OK);
        CU_ASSERT_STRING_EQUAL(a.digest, c.digest);
        CU_ASSERT_STRING_EQUAL(a.actions, c.actions);
        CU_ASSERT_STRING_EQUAL(a.plan, c.plan);
        CU_ASSERT_EQUAL(r.n, t.n);
        CU_ASSERT(memcmp(r.v, t.v, t.n * sizeof *t.v) == 0);
        rt_tape_free(&r);
        memset(&r, 0, sizeof r);
        r.replay = 1; /* no choices: every one 0 */
        CU_ASSERT_FATAL(drv_fuzz_case(seeds[i], work, NULL, SIM_MUT_NONE, NULL, &r, &c, &e) == RT_OK);
        CU_ASSERT_STRING_NOT_EQUAL(a.digest, c.digest);
        CU_ASSERT_STRING_EQUAL(c.plan, "none");
        rt_tape_free(&r);
        rt_tape_free(&t);
    }
}

static void test_case_strings(void) {
    static const uint64_t v[] = {0, 1, 0x1f, UINT64_MAX, 0};
    char *s = drv_fuzz_choices_format(v, 5);
    CU_ASSERT_STRING_EQUAL(s, "0.1.1f.ffffffffffffffff.0");
    uint64_t *back = NULL;
    size_t n = 0;
    rt_error e;
    CU_ASSERT_EQUAL(drv_fuzz_choices_parse(s, &back, &n, &e), RT_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT(back && memcmp(back, v, sizeof v) == 0);
    free(back);
    free(s);
    s = drv_fuzz_choices_format(NULL, 0);
    CU_ASSERT_STRING_EQUAL(s, "0");
    free(s);
    static const char *const bad[] = {"", "1..2", "1.", "g", "1,2", "10000000000000000", "-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(drv_fuzz_choices_parse(bad[i], &back, &n, &e), RT_EINPUT);
        CU_ASSERT_PTR_NULL(back);
    }
}

/* Replays choices v (n of them, one left out at skip unless skip >= n). */
static void replay_choices(uint64_t seed, sim_mutant m, const uint64_t *v, size_t n, size_t skip,
                           drv_fuzz_result *r) {
    uint64_t *c = malloc((n + 1) * sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (i != skip) c[k++] = v[i];
    rt_tape t;
    memset(&t, 0, sizeof t);
    t.replay = 1;
    t.in = c;
    t.in_n = k;
    rt_error e;
    CU_ASSERT_FATAL(drv_fuzz_case(seed, work, NULL, m, NULL, &t, r, &e) == RT_OK);
    rt_tape_free(&t);
    free(c);
}

static int same_failure(const drv_fuzz_result *r, const char *failure) {
    return !r->known_bug[0] && strcmp(drv_fuzz_failure(r), failure) == 0;
}

/* fuzz --minimize: seed 20 loses its channel state under the mutant after
 * a restore; the minimized case fails the same way, is no longer, and is
 * 1-minimal: each choice deleted, lowered to 0 or by one, it no longer
 * fails so. */
static void test_minimize_mutant_seed(void) {
    const uint64_t seed = 20;
    const sim_mutant m = SIM_MUT_DROP_CHANNEL_STATE;
    drv_fuzz_minimized min;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(drv_fuzz_minimize(seed, work, m, &min, &e), RT_OK);
    const char *failure = drv_fuzz_failure(&min.original);
    CU_ASSERT_STRING_EQUAL(failure, "the oracle disagrees");
    CU_ASSERT(min.n < min.original_n);
    drv_fuzz_result r;
    replay_choices(seed, m, min.choices, min.n, SIZE_MAX, &r);
    CU_ASSERT(same_failure(&r, failure));
    CU_ASSERT_STRING_EQUAL(r.digest, min.result.digest);
    for (size_t i = 0; i < min.n; i++) {
        replay_choices(seed, m, min.choices, min.n, i, &r);
        if (same_failure(&r, failure)) fprintf(stderr, "\n  deleting choice %zu keeps the failure\n", i);
        CU_ASSERT_FALSE(same_failure(&r, failure));
        if (min.choices[i] == 0) continue;
        uint64_t keep = min.choices[i];
        for (int lower = 0; lower < 2; lower++) { /* to 0, and by one */
            min.choices[i] = lower ? keep - 1 : 0;
            replay_choices(seed, m, min.choices, min.n, SIZE_MAX, &r);
            CU_ASSERT_FALSE(same_failure(&r, failure));
        }
        min.choices[i] = keep;
    }
    drv_fuzz_minimized_free(&min);
    /* A seed that does not fail is bad input. */
    CU_ASSERT_EQUAL(drv_fuzz_minimize(seed, work, SIM_MUT_NONE, &min, &e), RT_EINPUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "does not fail"));
}

/* FLINK-39964 is open in every release: a seed whose checkpoint names a
 * restored savepoint's file re-anchored into it ends as a known bug, not a
 * violation; with the fix (the mutant) the same seed goes on. */
static void test_known_flink_39964(void) {
    uint64_t hit = 0;
    for (uint64_t s = 1; s <= 400 && hit == 0; s++) {
        drv_fuzz_result r;
        rt_error e;
        CU_ASSERT_FATAL(drv_fuzz_one(s, work, NULL, SIM_MUT_NONE, &r, &e) == RT_OK);
        if (r.known_bug[0] == '\0') continue;
        hit = s;
        CU_ASSERT_STRING_EQUAL(r.known_bug, "FLINK-39964");
        CU_ASSERT_FALSE(r.violated);
        CU_ASSERT_STRING_EQUAL(r.outcome, "corrupted");
        CU_ASSERT_PTR_NOT_NULL(strstr(r.why.msg, "re-anchored"));
        CU_ASSERT_EQUAL_FATAL(drv_fuzz_one(s, work, NULL, SIM_MUT_FOREIGN_ABSOLUTE, &r, &e), RT_OK);
        CU_ASSERT_STRING_EQUAL(r.known_bug, "");
        CU_ASSERT_FALSE(r.violated);
    }
    CU_ASSERT(hit > 0);
}

/* A case that aborts, as the engine's own assertion did on seed 406. */
static rt_err aborting_case(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                            drv_fuzz_result *out, rt_error *e) {
    (void)seed;
    (void)work_dir;
    (void)trace;
    (void)mutant;
    (void)out;
    (void)e;
    abort();
}

/* A case that answers without the engine (this test process has RocksDB
 * threads, which a forked child would not have: the real sweep forks
 * from a process that never opened RocksDB; tests/cli.sh compares its
 * seeds with in-process replays). */
static rt_err answering_case(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant,
                             drv_fuzz_result *out, rt_error *e) {
    (void)work_dir;
    (void)trace;
    (void)mutant;
    memset(out, 0, sizeof *out);
    out->seed = seed;
    out->unseed = seed * 31;
    snprintf(out->outcome, sizeof out->outcome, "works");
    snprintf(out->digest, sizeof out->digest, "0123456789abcdef");
    return seed == 9 ? RT_FAIL(e, RT_EUSAGE, "seed 9: cannot run") : RT_OK;
}

/* The one result a one-seed sweep delivers, whole. */
typedef struct one_result {
    drv_fuzz_result r;
    int n;
} one_result;

static int keep_result(void *ctx, const drv_fuzz_result *r) {
    one_result *o = ctx;
    o->r = *r;
    o->n++;
    return 0;
}

static rt_err sweep_one(drv_fuzz_fn fn, uint64_t seed, one_result *o, rt_error *e) {
    memset(o, 0, sizeof *o);
    drv_fuzz_sink sink = {keep_result, NULL, o};
    drv_fuzz_seeds one = {seed, 1, 1};
    return drv_fuzz_sweep(fn, &one, work, SIM_MUT_NONE, &sink, e);
}

/* A sweep runs each seed in a child: an aborting engine ends that seed as
 * a crashed violation naming the signal, and the parent goes on; a case
 * that answers comes back whole, and so does a case's own error. */
static void test_isolated_seed(void) {
    one_result o;
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(sweep_one(aborting_case, 7, &o, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, 1);
    CU_ASSERT_EQUAL(o.r.seed, 7);
    CU_ASSERT(o.r.violated);
    CU_ASSERT_STRING_EQUAL(o.r.outcome, "crashed");
    CU_ASSERT_PTR_NOT_NULL(strstr(o.r.why.msg, "signal 6"));
    CU_ASSERT_EQUAL_FATAL(sweep_one(answering_case, 8, &o, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, 1);
    CU_ASSERT_FALSE(o.r.violated);
    CU_ASSERT_STRING_EQUAL(o.r.outcome, "works");
    CU_ASSERT_STRING_EQUAL(o.r.digest, "0123456789abcdef");
    CU_ASSERT_EQUAL(o.r.unseed, 8 * 31);
    CU_ASSERT_EQUAL(sweep_one(answering_case, 9, &o, &e), RT_EUSAGE);
    CU_ASSERT_EQUAL(o.n, 0);
    CU_ASSERT_STRING_EQUAL(e.msg, "seed 9: cannot run");
}

/* A process that ran seed 12 is broken for every later seed (a case that
 * corrupts its process without failing itself); seed 16 aborts on its
 * own; seed 19 cannot run. */
static int sweep_poisoned;
static rt_err batch_case(uint64_t seed, const char *work_dir, FILE *trace, sim_mutant mutant, drv_fuzz_result *out,
                         rt_error *e) {
    if (sweep_poisoned || seed == 16) abort();
    if (seed == 12) sweep_poisoned = 1;
    return answering_case(seed == 19 ? 9 : seed, work_dir, trace, mutant, out, e);
}

typedef struct sweep_seen {
    uint64_t seed[64];
    char outcome[64][16];
    int n, fresh;
} sweep_seen;

static int seen_result(void *ctx, const drv_fuzz_result *r) {
    sweep_seen *s = ctx;
    CU_ASSERT_FATAL(s->n < 64);
    s->seed[s->n] = r->seed;
    snprintf(s->outcome[s->n], sizeof s->outcome[0], "%s", r->outcome);
    s->n++;
    return 0;
}

static int seen_fresh(void *ctx, const char *dir) {
    (void)dir;
    ((sweep_seen *)ctx)->fresh++;
    return 0;
}

/* Several seeds per child: every seed answered once, in order; a crash is
 * the result of the seed whose own run crashed (16, also where it runs
 * first), not of one a broken process crashed (13, after 12 ran in the
 * same child: run again where it comes first, it works); a case's error
 * stops the sweep after the seeds before it. */
static void test_sweep_batches(void) {
    sweep_seen seen;
    memset(&seen, 0, sizeof seen);
    drv_fuzz_sink sink = {seen_result, seen_fresh, &seen};
    drv_fuzz_seeds seeds = {10, 1, 8}; /* 10..17 */
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(drv_fuzz_sweep(batch_case, &seeds, work, SIM_MUT_NONE, &sink, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(seen.n, 8);
    for (int i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(seen.seed[i], 10 + (uint64_t)i);
        CU_ASSERT_STRING_EQUAL(seen.outcome[i], i == 6 ? "crashed" : "works");
    }
    CU_ASSERT_EQUAL(seen.fresh, 3); /* after each death: 13's (poisoned), 16's twice */
    CU_ASSERT_EQUAL(sweep_poisoned, 0); /* the parent ran no case */

    memset(&seen, 0, sizeof seen);
    drv_fuzz_seeds odd = {15, 2, 4}; /* 15, 17, 19, 21 */
    CU_ASSERT_EQUAL(drv_fuzz_sweep(batch_case, &odd, work, SIM_MUT_NONE, &sink, &e), RT_EUSAGE);
    CU_ASSERT_STRING_EQUAL(e.msg, "seed 9: cannot run");
    CU_ASSERT_EQUAL(seen.n, 2);
}

/* Seeds that once broke an invariant, each for a bug since fixed: they
 * stay in the suite so the bug cannot come back unnoticed. */
static void test_regression_seeds(void) {
    static const struct {
        uint64_t seed;
        const char *bug;
    } corpus[] = {
        {44, "a newer barrier left an abandoned alignment's channels blocked"},
        {53, "NO_CLAIM: backends were notified with checkpoint id 0"},
        {155, "a failed store write deleted a retained checkpoint"},
        {203, "slow-storage delay accumulated forever"},
        {1015, "a bit flip in _metadata was an unnamed failure"},
        {2728, "coordinator recovery forgot a LEGACY restore's files"},
        {406, "stop-with-savepoint after a drain ran beside periodic checkpoints (3 at once)"},
        {830, "the cost check held a checkpoint triggered before its base completed against that base"},
    };
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        drv_fuzz_result r;
        rt_error e;
        CU_ASSERT_FATAL(drv_fuzz_one(corpus[i].seed, work, NULL, SIM_MUT_NONE, &r, &e) == RT_OK);
        if (r.violated)
            fprintf(stderr, "\n  seed %llu (%s): %s\n", (unsigned long long)corpus[i].seed, corpus[i].bug, r.why.msg);
        CU_ASSERT_FALSE(r.violated);
    }
}

/* The draw leads into every risky sequence; these seeds went through one
 * each when the motifs were written. Seed 18's LEGACY restore is of a
 * native RocksDB savepoint, whose reused SSTs meet FLINK-39964 (open in
 * every release) before the failover: it goes through with the fix. */
static void test_sequences_reached(void) {
    static const struct {
        uint64_t seed;
        drv_fuzz_seq seq;
        sim_mutant m;
    } want[] = {{28, DRV_SEQ_CLAIM, SIM_MUT_NONE},
                {26, DRV_SEQ_NO_CLAIM, SIM_MUT_NONE},
                {18, DRV_SEQ_LEGACY, SIM_MUT_FOREIGN_ABSOLUTE},
                {5, DRV_SEQ_SP_BETWEEN, SIM_MUT_NONE},
                {8, DRV_SEQ_STOP_FAULTS, SIM_MUT_NONE}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        drv_fuzz_result r;
        rt_error e;
        CU_ASSERT_FATAL(drv_fuzz_one(want[i].seed, work, NULL, want[i].m, &r, &e) == RT_OK);
        if (!(r.sequences & (1u << want[i].seq)))
            fprintf(stderr, "\n  seed %llu did not go through %s\n", (unsigned long long)want[i].seed,
                    drv_fuzz_seq_name(want[i].seq));
        CU_ASSERT(r.sequences & (1u << want[i].seq));
        CU_ASSERT_FALSE(r.violated);
    }
}

/* ---- the judge on a case built by hand ---------------------------------- */

typedef struct judge_fixture {
    fuzz_case fc;
    drv_fuzz_result res;
} judge_fixture;

static void judge_open(judge_fixture *j, const char *backend) {
    memset(j, 0, sizeof *j);
    fuzz_case *fc = &j->fc;
    rt_error e;
    fc->res = &j->res;
    fc->restore_mode = -1;
    CU_ASSERT_FATAL(rt_store_open_mem(&fc->store, "judge", &e) == RT_OK);
    CU_ASSERT_FATAL(rt_trace_init(&fc->trace, NULL) == 0);
    sim_config_defaults(&fc->cfg);
    fc->cfg.store = fc->store;
    fc->cfg.work_dir = work;
    fc->cfg.backend = backend;
    fc->cfg.incremental = strcmp(backend, "rocksdb") == 0;
    fc->cfg.memory_threshold = 0;
    fc->cfg.retained = 2;
    fc->cfg.on_completed = fuzz_on_completed;
    fc->cfg.observer = fc;
    CU_ASSERT_FATAL(sim_run_create(&fc->run, &fc->cfg, &e) == RT_OK);
}

static void judge_close(judge_fixture *j) {
    sim_run_destroy(j->fc.run);
    rt_strlist_free(&j->fc.damaged);
    rt_strlist_free(&j->fc.faulted);
    fuzz_free_base(&j->fc);
    rt_trace_free(&j->fc.trace);
    rt_store_close(j->fc.store);
}

static rt_err judge_rejection(judge_fixture *j, rt_err code, const char *msg, int own) {
    rt_error e;
    RT_FAIL(&e, code, "%s", msg);
    return fuzz_judge(&j->fc, code, A_FAILOVER, own, fuzz_engine_damaged_reads(&j->fc), &e);
}

/* A failover rejected for a missing file is a bug unless a fault named
 * that very file (a fault on another file explains nothing). */
static void test_judge_explains_rejections(void) {
    judge_fixture j;
    judge_open(&j, "heap");
    const char *msg = "restoring 'agg' subtask 0: snapshot file mem://judge/job/chk-3/a.sst is missing";
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 1), RT_EINTERNAL);
    CU_ASSERT(j.res.violated);
    j.res.violated = 0;
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){.op = RT_OP_GET, .nth = 1, .kind = RT_FAULT_EIO};
    rt_store_set_faults(j.fc.store, &plan);
    uint8_t *d = NULL;
    size_t n = 0;
    rt_error e;
    CU_ASSERT_EQUAL(rt_store_get(j.fc.store, "job/chk-3/a.sst.other", &d, &n, &e), RT_EIO);
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 1), RT_EINTERNAL); /* another file */
    CU_ASSERT(j.res.violated);
    j.res.violated = 0;
    rt_store_set_faults(j.fc.store, &plan);
    CU_ASSERT_EQUAL(rt_store_get(j.fc.store, "job/chk-3/a.sst", &d, &n, &e), RT_EIO);
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 1), RT_ENOENT); /* explained; the case ends */
    CU_ASSERT_FALSE(j.res.violated);
    /* A damaged file explains it for good; a file a CLAIM restore gave
     * away only for a savepoint's restore. */
    rt_strlist_free(&j.fc.faulted);
    rt_strlist_push(&j.fc.claimed, "job/chk-3/a.sst");
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 1), RT_EINTERNAL);
    j.res.violated = 0;
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 0), RT_ENOENT);
    CU_ASSERT_FALSE(j.res.violated);
    rt_strlist_free(&j.fc.claimed);
    rt_strlist_push(&j.fc.damaged, "job/chk-3/a.sst");
    CU_ASSERT_EQUAL(judge_rejection(&j, RT_ENOENT, msg, 1), RT_ENOENT);
    CU_ASSERT_FALSE(j.res.violated);
    judge_close(&j);
}

/* Something that works after the engine read damaged bytes is a bug; the
 * harness's own reads of them do not count. */
static void test_judge_damaged_reads(void) {
    judge_fixture j;
    judge_open(&j, "heap");
    rt_error e;
    CU_ASSERT_EQUAL(rt_store_put(j.fc.store, "x/f", "abc", 3, &e), RT_OK);
    rt_store_mark_damaged(j.fc.store, "x/f");
    uint64_t before = fuzz_engine_damaged_reads(&j.fc);
    sim_meta m;
    CU_ASSERT_NOT_EQUAL(fuzz_harness_load(&j.fc, &m, "x", &e), RT_OK); /* not a snapshot: nothing read */
    uint8_t *d = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(rt_store_get(j.fc.store, "x/f", &d, &n, &e), RT_OK); /* the engine's read */
    free(d);
    CU_ASSERT_EQUAL(fuzz_engine_damaged_reads(&j.fc), before + 1);
    CU_ASSERT_EQUAL(fuzz_judge(&j.fc, RT_OK, A_RESTORE, 1, before, &e), RT_EINTERNAL);
    CU_ASSERT(j.res.violated);
    CU_ASSERT(strstr(e.msg, "damaged bytes") != NULL);
    judge_close(&j);
}

/* The harness reads _metadata with the faults suspended: a persistent get
 * fault neither stops it nor moves the plan (seed 1274 once lost the files
 * of a claimed snapshot that way and then flagged their legitimate
 * deletion). */
static void test_harness_reads_skip_faults(void) {
    judge_fixture j;
    judge_open(&j, "heap");
    rt_error e;
    CU_ASSERT_EQUAL(sim_run_records(j.fc.run, 300, &e), RT_OK);
    char dir[256];
    CU_ASSERT_EQUAL_FATAL(sim_run_snapshot(j.fc.run, SIM_KIND_CANONICAL, "savepoints", dir, sizeof dir, &e), RT_OK);
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){.op = RT_OP_GET, .nth = 1, .kind = RT_FAULT_EIO, .persistent = 1};
    rt_store_set_faults(j.fc.store, &plan);
    sim_meta m;
    CU_ASSERT_EQUAL_FATAL(fuzz_harness_load(&j.fc, &m, dir, &e), RT_OK);
    sim_meta_free(&m);
    CU_ASSERT_EQUAL(rt_store_get_stats(j.fc.store)->faults_fired, 0);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_OK);
    CU_ASSERT_EQUAL(rt_store_get_stats(j.fc.store)->faults_fired, 0);
    CU_ASSERT_EQUAL(sim_meta_load(&m, j.fc.store, dir, &e), RT_EIO); /* the job's own read meets it */
    judge_close(&j);
}

/* The persisted completed-checkpoint store must list what the coordinator
 * retains: a store written back from an earlier moment (valid, but stale)
 * is a violation. When a fault refused the store's own write, the
 * coordinator keeps the unlisted checkpoint's files and the stale store is
 * no violation until it is written again. */
static void test_persisted_store_checked(void) {
    judge_fixture j;
    judge_open(&j, "rocksdb");
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(sim_run_records(j.fc.run, 400, &e), RT_OK);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_OK);
    CU_ASSERT_FALSE(j.res.violated);
    char path[128];
    snprintf(path, sizeof path, "%s/completed-checkpoints", sim_run_job_id(j.fc.run));
    uint8_t *old = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(rt_store_get(j.fc.store, path, &old, &len, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(sim_run_records(j.fc.run, 600, &e), RT_OK);
    CU_ASSERT_FALSE(j.fc.hook_violation[0]);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_OK);
    uint8_t *now = NULL;
    size_t now_len = 0;
    CU_ASSERT_EQUAL_FATAL(rt_store_get(j.fc.store, path, &now, &now_len, &e), RT_OK);
    CU_ASSERT_EQUAL_FATAL(rt_store_put(j.fc.store, path, old, len, &e), RT_OK);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_EINTERNAL);
    CU_ASSERT(j.res.violated);
    CU_ASSERT(strstr(e.msg, "persisted") != NULL);
    j.res.violated = 0;
    /* A store that drops the oldest retained checkpoint, sealed afresh:
     * every listed _metadata loads, yet the lists differ. */
    char text[4096];
    CU_ASSERT_FATAL(now_len < sizeof text);
    memcpy(text, now, now_len);
    text[now_len] = '\0';
    char *first = strchr(text, '\n') + 1, *second = strchr(first, '\n') + 1;
    memmove(first, second, strlen(second) + 1);
    char *sum = strstr(text, "sum ");
    CU_ASSERT_FATAL(sum != NULL);
    snprintf(sum, sizeof text - (size_t)(sum - text), "sum %016llx\n",
             (unsigned long long)sim_checksum(text, (size_t)(sum - text)));
    CU_ASSERT_EQUAL_FATAL(rt_store_put(j.fc.store, path, text, strlen(text), &e), RT_OK);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_EINTERNAL);
    CU_ASSERT(j.res.violated);
    CU_ASSERT(strstr(e.msg, "disagree") != NULL);
    CU_ASSERT_EQUAL_FATAL(rt_store_put(j.fc.store, path, now, now_len, &e), RT_OK);
    j.res.violated = 0;
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_OK);
    /* The next completion writes the store twice: listing the new
     * checkpoint (allowed), then without the subsumed one (refused). */
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){.op = RT_OP_PUT, .nth = 2, .kind = RT_FAULT_EIO};
    CU_ASSERT_FATAL(strlen(path) < sizeof plan.faults[0].path_prefix);
    memcpy(plan.faults[0].path_prefix, path, strlen(path) + 1);
    rt_store_set_faults(j.fc.store, &plan);
    int64_t done = sim_run_checkpoint_count(j.fc.run);
    while (sim_run_checkpoint_count(j.fc.run) == done) CU_ASSERT_EQUAL_FATAL(sim_run_records(j.fc.run, 50, &e), RT_OK);
    rt_store_set_faults(j.fc.store, NULL);
    CU_ASSERT_EQUAL(rt_store_get_stats(j.fc.store)->faults_fired, 1);
    CU_ASSERT_EQUAL(fuzz_check_invariants(&j.fc, &e), RT_OK);
    CU_ASSERT_FALSE(j.res.violated);
    CU_ASSERT(j.fc.store_stale); /* it did differ, and the fault excused it */
    free(old);
    free(now);
    judge_close(&j);
}

int suite_fuzz(void) {
    CU_pSuite s = CU_add_suite("fuzz", init, cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "a budget of seeds holds every invariant", test_budget_holds) ||
        !CU_add_test(s, "a seed replays exactly", test_replay_is_exact) ||
        !CU_add_test(s, "a recording tape keeps every seed's case; its choices replay it", test_tape_keeps_seeds) ||
        !CU_add_test(s, "case strings round-trip; bad ones are named", test_case_strings) ||
        !CU_add_test(s, "--minimize shrinks a mutant's seed to a 1-minimal case failing the same way",
                     test_minimize_mutant_seed) ||
        !CU_add_test(s, "an aborting seed is a crashed seed, not the end of the sweep", test_isolated_seed) ||
        !CU_add_test(s, "several seeds per child: each crash blamed on its own seed", test_sweep_batches) ||
        !CU_add_test(s, "seeds that once failed hold", test_regression_seeds) ||
        !CU_add_test(s, "catches dropped channel state", test_catches_dropped_channel_state) ||
        !CU_add_test(s, "catches a registry ignoring ownership", test_catches_registry_ownership) ||
        !CU_add_test(s, "catches reuse after NO_CLAIM", test_catches_no_claim_reuse) ||
        !CU_add_test(s, "catches a discard of shared files in use", test_catches_discarded_shared) ||
        !CU_add_test(s, "catches incremental checkpoints that upload again", test_catches_reuploads) ||
        !CU_add_test(s, "FLINK-39964 ends a seed as a known bug, not a violation", test_known_flink_39964) ||
        !CU_add_test(s, "the draw reaches every risky sequence", test_sequences_reached) ||
        !CU_add_test(s, "a rejection must be explained by a fault on its file", test_judge_explains_rejections) ||
        !CU_add_test(s, "working after reading damaged bytes is a violation", test_judge_damaged_reads) ||
        !CU_add_test(s, "the harness reads with the faults suspended", test_harness_reads_skip_faults) ||
        !CU_add_test(s, "the persisted store must match the coordinator", test_persisted_store_checked))
        return -1;
    return 0;
}
