/* test_fuzz: the fault sweep itself: a budget of seeds holds every
 * invariant, the swarm really varies the faults, a seed replays exactly
 * (digest and unseed), and a broken mechanism is caught. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv_fuzz.h"
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
static void test_catches_registry_ownership(void) { caught(SIM_MUT_FLINK_26985); }
static void test_catches_no_claim_reuse(void) { caught(SIM_MUT_NO_CLAIM_INCREMENTAL); }

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

int suite_fuzz(void) {
    CU_pSuite s = CU_add_suite("fuzz", init, cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "a budget of seeds holds every invariant", test_budget_holds) ||
        !CU_add_test(s, "a seed replays exactly", test_replay_is_exact) ||
        !CU_add_test(s, "seeds that once failed hold", test_regression_seeds) ||
        !CU_add_test(s, "catches dropped channel state", test_catches_dropped_channel_state) ||
        !CU_add_test(s, "catches a registry ignoring ownership", test_catches_registry_ownership) ||
        !CU_add_test(s, "catches reuse after NO_CLAIM", test_catches_no_claim_reuse))
        return -1;
    return 0;
}
