/* test_upgrade: job upgrades matched by uid: state nobody takes needs
 * allow-non-restored-state, max parallelism and state kinds must not
 * change, a new operator starts empty, a stateless operator in between is
 * fine for savepoints; new operator code (a non-arbitrary upgrade) changes
 * what is computed from the restore on, and the oracle follows it. */
#include <CUnit/CUnit.h>
#include <jansson.h>
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

/* Every keyed value of a run folded into one number. */
static int fold_one(void *ctx, const char *uid, const sim_state_desc *d, uint32_t kg, uint64_t key,
                    const uint8_t *val, size_t len) {
    (void)uid;
    (void)d;
    uint64_t *h = ctx;
    *h = *h * 1099511628211ULL ^ (kg * 31ULL + key);
    for (size_t i = 0; i < len; i++) *h = (*h ^ val[i]) * 1099511628211ULL;
    return 0;
}

static uint64_t state_hash(sim_run *r) {
    uint64_t h = 14695981039346656037ULL;
    SF_OK(sim_run_each_keyed(r, fold_one, &h, &sf_err));
    return h;
}

/* A restore with code version 2 computes other state than one with
 * version 1 from the same snapshot and records, and the oracle agrees
 * with both: it follows each epoch's code, in-flight records included. */
static void test_new_code_changes_state(void) {
    const sim_kind kinds[] = {SIM_KIND_ALIGNED, SIM_KIND_UNALIGNED};
    for (int k = 0; k < 2; k++) {
        char dir[256];
        rt_store *s = snapshot_of_default("heap", kinds[k], dir, sizeof dir);
        uint64_t h[2];
        for (int v = 1; v <= 2; v++) {
            sim_config c;
            sf_config(&c, s, "heap", 27);
            c.job.ops[1].code_version = v;
            sim_run *r = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
            sf_records(r, 400);
            sf_verify(r);
            h[v - 1] = state_hash(r);
            sim_run_destroy(r);
        }
        CU_ASSERT_NOT_EQUAL(h[0], h[1]);
        rt_store_close(s);
    }
}

static rt_err job_text(const char *text, rt_error *e) {
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    sim_job j;
    rt_err rc = sim_job_from_json(&j, root, "test.json", e);
    json_decref(root);
    return rc;
}

/* The job file names only code versions the operators have, key types on
 * keyed operators, field types that exist and key enums every bucket can
 * use; each mistake is a named error. */
static void test_job_file_checks(void) {
    const char *head = "{\"operators\": [{\"uid\": \"src\", \"kind\": \"source\"%s},"
                       " {\"uid\": \"agg\", \"kind\": \"keyed\", \"input\": {\"edge\": \"hash\", \"type\": \"E\"},"
                       " \"states\": [%s]%s}, {\"uid\": \"sink\", \"kind\": \"sink\"}]}";
    static const struct {
        const char *src, *states, *agg, *names;
    } bad[] = {
        {"", "", ", \"code_version\": 3", "code_version 3"},
        {", \"key_type\": \"string\"", "", "", "key_type 'string'"},
        {"", "", ", \"key_type\": \"uuid\"", "key_type 'uuid'"},
        {"", "{\"name\": \"s\", \"kind\": \"value\", \"fields\": [{\"name\": \"sum\", \"type\": \"int\"}]}", "",
         "unknown type 'int'"},
        {"", "{\"name\": \"s\", \"kind\": \"value\", \"fields\": [\"sum\", \"sum\"]}", "", "'sum' twice"},
        {"", "{\"name\": \"m\", \"kind\": \"map\", \"key_enum\": [\"B0\",\"B1\",\"B2\",\"B3\",\"B4\",\"B5\",\"B6\",\"B9\"]}",
         "", "lacks B7"},
        {"", "{\"name\": \"m\", \"kind\": \"map\", \"key_enum\": [\"B0\",\"B1\",\"B2\",\"B3\",\"B4\",\"B5\",\"B6\",\"B7\",\"B7\"]}",
         "", "listed twice"},
        {"", "{\"name\": \"l\", \"kind\": \"list\", \"key_enum\": [\"B0\"]}", "", "only map states"},
    };
    char text[1024];
    rt_error e;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, head, bad[i].src, bad[i].states, bad[i].agg);
        CU_ASSERT_EQUAL(job_text(text, &e), RT_EINPUT);
        if (strstr(e.msg, bad[i].names) == NULL) fprintf(stderr, "\n  case %zu: %s\n", i, e.msg);
        CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, bad[i].names));
    }
    snprintf(text, sizeof text, head, "", "{\"name\": \"m\", \"kind\": \"map\", \"key_enum\": "
             "[\"B9\",\"B7\",\"B6\",\"B5\",\"B4\",\"B3\",\"B2\",\"B1\",\"B0\"]}", ", \"code_version\": 2, \"key_type\": \"string\"");
    CU_ASSERT_EQUAL(job_text(text, &e), RT_OK);
}

int suite_upgrade(void) {
    CU_pSuite s = CU_add_suite("upgrade", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "a removed operator's state needs consent", test_removed_operator_needs_consent) ||
        !CU_add_test(s, "max parallelism cannot change", test_max_parallelism_is_fixed) ||
        !CU_add_test(s, "a state's kind cannot change", test_state_kind_is_fixed) ||
        !CU_add_test(s, "an inserted stateless operator", test_inserted_operator) ||
        !CU_add_test(s, "a new keyed operator starts empty", test_new_keyed_operator_starts_empty) ||
        !CU_add_test(s, "new operator code changes the state, the oracle follows", test_new_code_changes_state) ||
        !CU_add_test(s, "job files: code versions, key types, field types, key enums", test_job_file_checks))
        return -1;
    return 0;
}
