/* test_upgrade: job upgrades matched by uid: state nobody takes needs
 * allow-non-restored-state, max parallelism and state kinds must not
 * change, a new operator starts empty, a stateless operator in between is
 * fine for savepoints. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim_fixture.h"

static int init(void) { return sf_suite_init("upgrade"); }

/* A snapshot of the default job, taken on a fresh store. */
static rt_store *snapshot_of_default(const char *backend, sim_kind kind, char *dir, size_t cap) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 21);
    sim_run *r = sf_run(&c);
    sf_records(r, 800);
    sf_snapshot(r, kind, dir, cap);
    sim_run_destroy(r);
    return s;
}

/* The default job without its keyed operator: src -> sink. */
static void job_without_agg(sim_job *j) {
    sim_job_default(j);
    j->ops[1] = j->ops[2];
    j->n_ops = 2;
    strcpy(j->ops[1].in_type, "Event(id,key,value)");
}

static void test_removed_operator_needs_consent(void) {
    char dir[256];
    rt_store *s = snapshot_of_default("heap", SIM_KIND_CANONICAL, dir, sizeof dir);
    sim_config c;
    sf_config(&c, s, "heap", 22);
    job_without_agg(&c.job);
    sim_run *r = sf_run(&c);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ENONRESTORED);
    CU_ASSERT_PTR_NOT_NULL(strstr(sf_err.msg, "agg"));
    sim_run_destroy(r);
    r = sf_run(&c);
    SF_OK(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 1, &sf_err)));
    sf_records(r, 400);
    sf_verify(r); /* the sink's exactly-once output survives the dropped state */
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_max_parallelism_is_fixed(void) {
    char dir[256];
    rt_store *s = snapshot_of_default("rocksdb", SIM_KIND_NATIVE, dir, sizeof dir);
    sim_config c;
    sf_config(&c, s, "rocksdb", 23);
    c.job.ops[1].max_parallelism = 256;
    sim_run *r = sf_run(&c);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ETOPOLOGY);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_state_kind_is_fixed(void) {
    char dir[256];
    rt_store *s = snapshot_of_default("heap", SIM_KIND_CANONICAL, dir, sizeof dir);
    sim_config c;
    sf_config(&c, s, "heap", 24);
    c.job.ops[1].states[1].kind = SIM_STATE_MAP; /* "top" was a list */
    sim_run *r = sf_run(&c);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ESCHEMA);
    CU_ASSERT_PTR_NOT_NULL(strstr(sf_err.msg, "top"));
    sim_run_destroy(r);
    rt_store_close(s);
}

/* A stateless operator inserted before the keyed one, with a new record
 * type on its edge: savepoints carry no channel state, so they restore. */
static void test_inserted_operator(void) {
    char dir[256];
    rt_store *s = snapshot_of_default("rocksdb", SIM_KIND_NATIVE, dir, sizeof dir);
    sim_config c;
    sf_config(&c, s, "rocksdb", 25);
    rt_error e;
    CU_ASSERT_FATAL(sim_job_load(&c.job, "scenarios/jobs/reshaped.json", &e) == RT_OK);
    sim_run *r = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    sf_records(r, 400);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* A keyed operator new in the job starts empty: the oracle expects only
 * what it processed since the restore. */
static void test_new_keyed_operator_starts_empty(void) {
    char dir[256];
    rt_store *s = snapshot_of_default("heap", SIM_KIND_CANONICAL, dir, sizeof dir);
    sim_config c;
    sf_config(&c, s, "heap", 26);
    strcpy(c.job.ops[1].uid, "agg2"); /* a new uid: the old state is not its */
    sim_run *r = sf_run(&c);
    SF_OK(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 1, &sf_err)));
    sf_records(r, 400);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

int suite_upgrade(void) {
    CU_pSuite s = CU_add_suite("upgrade", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "a removed operator's state needs consent", test_removed_operator_needs_consent) ||
        !CU_add_test(s, "max parallelism cannot change", test_max_parallelism_is_fixed) ||
        !CU_add_test(s, "a state's kind cannot change", test_state_kind_is_fixed) ||
        !CU_add_test(s, "an inserted stateless operator", test_inserted_operator) ||
        !CU_add_test(s, "a new keyed operator starts empty", test_new_keyed_operator_starts_empty))
        return -1;
    return 0;
}
