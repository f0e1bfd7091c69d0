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

int suite_scenario(void) {
    CU_pSuite s = CU_add_suite("scenario", setup, teardown);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "unknown RocksDB release names file and step once", test_unknown_rocksdb_release) ||
        !CU_add_test(s, "unknown engine names file and step once", test_unknown_engine) ||
        !CU_add_test(s, "every line of a run's trace parses", test_trace_every_line_parses))
        return -1;
    return 0;
}
