/* test_scenario: the scenario interpreter (driver/drv_scenario.c) on
 * scenario files that are wrong: each mistake is a usage error naming the
 * file, the step and the problem, once; and what it checks on its own:
 * every retained file after each subsumption, steps allowed to fail, the
 * kinds a scenario runs for. */
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

static void write_text(const char *name, const char *text, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", work, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* One run of a scenario file (path) for a cell, under a mutant. */
static void run_cell(const char *path, sim_kind kind, const char *backend, sim_mutant m, drv_scn_result *res) {
    rt_error e;
    rt_error_clear(&e);
    drv_scn *s = NULL;
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&s, path, &e), RT_OK);
    drv_scn_env env = {NULL, work, NULL, m, NULL};
    CU_ASSERT_EQUAL_FATAL(drv_scn_run(s, kind, backend, 0, 1, &env, res, &e), RT_OK);
    drv_scn_free(s);
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

/* A discard that deletes shared files later checkpoints still use is seen
 * at the step whose checkpoints subsumed them (a run), not only at the
 * next check or failover; without the mutant the cell works. */
static void test_subsumption_checked(void) {
    drv_scn_result res;
    run_cell("scenarios/restore_claim_reuse.json", SIM_KIND_NATIVE, "rocksdb", SIM_MUT_NONE, &res);
    CU_ASSERT_STRING_EQUAL(res.outcome, "works");
    run_cell("scenarios/restore_claim_reuse.json", SIM_KIND_NATIVE, "rocksdb", SIM_MUT_DISCARD_SHARED, &res);
    CU_ASSERT_STRING_EQUAL(res.outcome, "corrupted");
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "(run): after checkpoint"));
    if (strstr(res.err.msg, "(run): after checkpoint") == NULL) fprintf(stderr, "\n  reason: %s\n", res.err.msg);
}

static const char *const stop_text =
    "{\"name\":\"stop\",\"row\":\"stop-under-faults\",\"kinds\":[\"canonical\"],\"steps\":["
    "{\"op\":\"start\",\"backend\":\"heap\"},{\"op\":\"run\",\"records\":300},"
    "{\"op\":\"fault\",\"plan\":[{\"on\":\"put\",\"nth\":1,\"kind\":\"eio\",\"path\":\"savepoints/\"}]},"
    "{\"op\":\"stop\",\"request\":{\"targetDirectory\":\"savepoints\",\"formatType\":\"CANONICAL\"}%s},"
    "{\"op\":\"fault\",\"plan\":[]},{\"op\":\"run\",\"records\":200},{\"op\":\"check\"}]}";

/* A step allowed to fail: the failed stop leaves the job running, and the
 * run goes on to its check; without may_fail the stop ends it rejected. */
static void test_may_fail(void) {
    char text[1200], path[600];
    drv_scn_result res;
    snprintf(text, sizeof text, stop_text, ",\"may_fail\":true");
    write_text("stop-may-fail.json", text, path, sizeof path);
    run_cell(path, SIM_KIND_CANONICAL, "heap", SIM_MUT_NONE, &res);
    CU_ASSERT_STRING_EQUAL(res.outcome, "works");
    snprintf(text, sizeof text, stop_text, "");
    write_text("stop-must-work.json", text, path, sizeof path);
    run_cell(path, SIM_KIND_CANONICAL, "heap", SIM_MUT_NONE, &res);
    CU_ASSERT_STRING_EQUAL(res.outcome, "rejected");
    CU_ASSERT_PTR_NOT_NULL(strstr(res.err.msg, "injected"));
    rt_error e;
    CU_ASSERT_EQUAL(rt_err_class_of(run_text("bad-may.json",
                                             "{\"name\":\"b\",\"row\":\"stop-under-faults\",\"steps\":["
                                             "{\"op\":\"start\",\"may_fail\":1}]}", &e)),
                    RT_CLASS_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "may_fail"));
}

/* "kinds" restricts the snapshot kinds; an unknown one is a usage error. */
static void test_kinds(void) {
    char text[1200], path[600];
    snprintf(text, sizeof text, stop_text, "");
    write_text("kinds.json", text, path, sizeof path);
    rt_error e;
    drv_scn *s = NULL;
    CU_ASSERT_EQUAL_FATAL(drv_scn_load(&s, path, &e), RT_OK);
    CU_ASSERT(drv_scn_has_kind(s, SIM_KIND_CANONICAL));
    CU_ASSERT_FALSE(drv_scn_has_kind(s, SIM_KIND_NATIVE));
    CU_ASSERT_FALSE(drv_scn_has_kind(s, SIM_KIND_UNALIGNED));
    drv_scn_free(s);
    CU_ASSERT_EQUAL(rt_err_class_of(run_text("bad-kinds.json",
                                             "{\"name\":\"b\",\"row\":\"stop-under-faults\",\"kinds\":[\"sideways\"],"
                                             "\"steps\":[{\"op\":\"start\"}]}", &e)),
                    RT_CLASS_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "kinds"));
}

int suite_scenario(void) {
    CU_pSuite s = CU_add_suite("scenario", setup, teardown);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "unknown RocksDB release names file and step once", test_unknown_rocksdb_release) ||
        !CU_add_test(s, "unknown engine names file and step once", test_unknown_engine) ||
        !CU_add_test(s, "every line of a run's trace parses", test_trace_every_line_parses) ||
        !CU_add_test(s, "retained files are checked after each subsumption", test_subsumption_checked) ||
        !CU_add_test(s, "a step may be allowed to fail by name", test_may_fail) ||
        !CU_add_test(s, "a scenario may name its kinds", test_kinds))
        return -1;
    return 0;
}
