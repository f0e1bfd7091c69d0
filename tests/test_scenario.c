/* test_scenario: the scenario interpreter (driver/drv_scenario.c) on
 * scenario files that are wrong: each mistake is a usage error naming the
 * file, the step and the problem, once. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_scenario.h"
#include "test_util.h"

static char work[512];

static int setup(void) { return tu_mkdtemp(work, sizeof work, "scenario"); }
static int teardown(void) { return tu_rmtree(work); }

/* Writes text to work/name and runs it once (canonical, heap). */
static rt_err run_text(const char *name, const char *text, rt_error *e) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", work, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    rt_error_clear(e);
    drv_scn *s = NULL;
    rt_err rc = drv_scn_load(&s, path, e);
    if (rc != RT_OK) return rc;
    drv_scn_env env = {NULL, work, NULL, SIM_MUT_NONE, NULL};
    drv_scn_result res;
    rc = drv_scn_run(s, SIM_KIND_CANONICAL, "heap", 0, 1, &env, &res, e);
    drv_scn_free(s);
    return rc;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) n++;
    return n;
}

/* An unknown RocksDB release in a start step: the file and the step are
 * named once, and the list of known releases is intact. */
static void test_unknown_rocksdb_release(void) {
    rt_error e;
    rt_err rc = run_text("bad-rocks.json",
                         "{\"name\":\"bad\",\"row\":\"rocksdb-bump\",\"steps\":["
                         "{\"op\":\"start\",\"backend\":\"heap\",\"rocksdb\":\"1\"},"
                         "{\"op\":\"run\",\"records\":10},{\"op\":\"check\"}]}",
                         &e);
    CU_ASSERT_EQUAL(rt_err_class_of(rc), RT_CLASS_USAGE);
    CU_ASSERT_EQUAL(count(e.msg, "bad-rocks.json"), 1);
    CU_ASSERT_EQUAL(count(e.msg, "step 1"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "unknown RocksDB release '1' (known: "));
    if (count(e.msg, "step 1") != 1) fprintf(stderr, "\n  message: %s\n", e.msg);
}

/* An unknown engine version: the same shape. */
static void test_unknown_engine(void) {
    rt_error e;
    rt_err rc = run_text("bad-engine.json",
                         "{\"name\":\"bad\",\"row\":\"rocksdb-bump\",\"steps\":["
                         "{\"op\":\"start\",\"backend\":\"heap\",\"engine\":\"0.9\"},"
                         "{\"op\":\"check\"}]}",
                         &e);
    CU_ASSERT_EQUAL(rt_err_class_of(rc), RT_CLASS_USAGE);
    CU_ASSERT_EQUAL(count(e.msg, "bad-engine.json"), 1);
    CU_ASSERT_EQUAL(count(e.msg, "step 1"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "unknown engine version '0.9'"));
}

/* A whole run's trace is JSONL: every line parses as a JSON object with
 * "t" and "ev" (jq . trace.jsonl works). The relocation scenario drains,
 * restores and checks, so it writes most kinds of events. */
static void test_trace_every_line_parses(void) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    rt_error e;
    rt_error_clear(&e);
    drv_scn *s = NULL;
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&s, "scenarios/relocatable.json", &e), RT_OK);
    drv_scn_env env = {NULL, work, f, SIM_MUT_NONE, NULL};
    drv_scn_result res;
    CU_ASSERT_EQUAL(drv_scn_run(s, SIM_KIND_UNALIGNED, "rocksdb", 0, 3, &env, &res, &e), RT_OK);
    drv_scn_free(s);
    fclose(f);
    int lines = 0, bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *obj = json_loads(line, 0, &jerr);
        int ok = obj != NULL && json_is_object(obj) && json_is_integer(json_object_get(obj, "t")) &&
                 json_is_string(json_object_get(obj, "ev"));
        if (!ok && bad++ == 0) fprintf(stderr, "\n  trace line %d does not parse: %s\n", lines + 1, line);
        json_decref(obj);
        lines++;
    }
    CU_ASSERT(lines > 50);
    CU_ASSERT_EQUAL(bad, 0);
    free(text);
}

/* The checkpointing fields of a start step are checked; "kinds" names
 * snapshot kinds, and a scenario runs for exactly the kinds it lists. */
static void test_checkpoint_fields(void) {
    rt_error e;
    rt_err rc = run_text("bad-conc.json",
                         "{\"name\":\"bad\",\"row\":\"x\",\"steps\":["
                         "{\"op\":\"start\",\"backend\":\"heap\",\"max_concurrent_checkpoints\":9}]}",
                         &e);
    CU_ASSERT_EQUAL(rt_err_class_of(rc), RT_CLASS_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "max_concurrent_checkpoints must be 1..8"));
    rc = run_text("bad-interval.json",
                  "{\"name\":\"bad\",\"row\":\"x\",\"steps\":["
                  "{\"op\":\"start\",\"backend\":\"heap\",\"checkpoint_interval\":-1}]}",
                  &e);
    CU_ASSERT_EQUAL(rt_err_class_of(rc), RT_CLASS_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "checkpoint_interval"));
    rc = run_text("bad-kinds.json", "{\"name\":\"bad\",\"row\":\"x\",\"kinds\":[\"full\"],\"steps\":["
                                    "{\"op\":\"start\",\"backend\":\"heap\"}]}",
                  &e);
    CU_ASSERT_EQUAL(rt_err_class_of(rc), RT_CLASS_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "\"kinds\""));
    drv_scn *sc = NULL;
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&sc, "scenarios/shipped/flink_29913.json", &e), RT_OK);
    CU_ASSERT(drv_scn_has_kind(sc, SIM_KIND_ALIGNED));
    CU_ASSERT(!drv_scn_has_kind(sc, SIM_KIND_UNALIGNED));
    drv_scn_free(sc);
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&sc, "scenarios/relocatable.json", &e), RT_OK);
    CU_ASSERT(drv_scn_has_kind(sc, SIM_KIND_UNALIGNED)); /* no list: every kind */
    drv_scn_free(sc);
}

/* A fault's path may start with $JOB/ (the running job's directory): with
 * its completed-checkpoint store unwritable, a checkpoint every task
 * acknowledged still fails, a named rejection. Without the expansion the
 * fault would never fire (no job id is known to the file). */
static void test_fault_in_job_dir(void) {
    rt_error e;
    char path[600];
    snprintf(path, sizeof path, "%s/job-fault.json", work);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("{\"name\":\"jf\",\"row\":\"x\",\"steps\":["
          "{\"op\":\"start\",\"backend\":\"heap\"},{\"op\":\"run\",\"records\":300},"
          "{\"op\":\"fault\",\"plan\":[{\"on\":\"put\",\"kind\":\"eio\",\"persistent\":true,\"path\":\"$JOB/completed-checkpoints\"}]},"
          "{\"op\":\"snapshot\",\"kind\":\"aligned\"}]}",
          f);
    fclose(f);
    drv_scn *s = NULL;
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&s, path, &e), RT_OK);
    drv_scn_env env = {NULL, work, NULL, SIM_MUT_NONE, NULL};
    drv_scn_result res;
    CU_ASSERT_EQUAL(drv_scn_run(s, SIM_KIND_ALIGNED, "heap", 0, 1, &env, &res, &e), RT_OK);
    CU_ASSERT_STRING_EQUAL(res.outcome, "rejected"); /* the checkpoint's store write failed */
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "completed-checkpoints"));
    drv_scn_free(s);
}

/* The ownership timeline of a run: a CLAIM restore of a native RocksDB
 * savepoint ends with its files deleted after later checkpoints, a
 * NO_CLAIM restore with none deleted or used, a LEGACY restore with none
 * deleted but some still used by the job's checkpoints. */
static void test_ownership_timeline(void) {
    const char *scn[] = {"scenarios/restore_claim.json", "scenarios/restore_no_claim.json",
                         "scenarios/restore_legacy.json"};
    const char *mode[] = {"claim", "no-claim", "legacy"};
    for (int i = 0; i < 3; i++) {
        rt_error e;
        drv_scn *s = NULL;
        CU_ASSERT_EQUAL_FATAL(drv_scn_load(&s, scn[i], &e), RT_OK);
        drv_scn_env env = {NULL, work, NULL, SIM_MUT_NONE, NULL};
        drv_scn_result res;
        CU_ASSERT_EQUAL_FATAL(drv_scn_run(s, SIM_KIND_NATIVE, "rocksdb", 0, 1, &env, &res, &e), RT_OK);
        CU_ASSERT_STRING_EQUAL(res.outcome, "works");
        CU_ASSERT(res.n_restores >= 1);
        CU_ASSERT_STRING_EQUAL(res.restores[0].mode, mode[i]);
        CU_ASSERT_STRING_EQUAL(res.restores[0].snapshot, "savepoint");
        CU_ASSERT(res.restores[0].files > 1);
        if (i == 0) {
            CU_ASSERT_EQUAL(res.restores[0].gone, res.restores[0].files);
            CU_ASSERT(res.n_events > 0);
            uint32_t sum = 0;
            for (int k = 0; k < res.n_events; k++) {
                sum += res.events[k].files;
                CU_ASSERT(res.events[k].after_checkpoint > res.restores[0].snapshot_id);
            }
            CU_ASSERT_EQUAL(sum + (uint32_t)res.events_dropped, res.restores[0].gone);
            CU_ASSERT_EQUAL(res.restores[0].referenced, 0);
        } else {
            uint32_t used = 0;
            for (int k = 0; k < res.n_restores; k++) {
                CU_ASSERT_EQUAL(res.restores[k].gone, 0);
                used += res.restores[k].referenced;
            }
            CU_ASSERT_EQUAL(res.n_events, 0);
            if (i == 1) CU_ASSERT_EQUAL(used, 0);
            if (i == 2) CU_ASSERT(used > 0);
        }
        drv_scn_free(s);
    }
}

int suite_scenario(void) {
    CU_pSuite s = CU_add_suite("scenario", setup, teardown);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "unknown RocksDB release names file and step once", test_unknown_rocksdb_release) ||
        !CU_add_test(s, "unknown engine names file and step once", test_unknown_engine) ||
        !CU_add_test(s, "every line of a run's trace parses", test_trace_every_line_parses) ||
        !CU_add_test(s, "checkpointing fields and kinds are checked", test_checkpoint_fields) ||
        !CU_add_test(s, "a fault path under $JOB/", test_fault_in_job_dir) ||
        !CU_add_test(s, "ownership timeline of CLAIM and NO_CLAIM restores", test_ownership_timeline))
        return -1;
    return 0;
}
