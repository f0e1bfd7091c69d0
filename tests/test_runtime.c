/* test_runtime: the event loop, the PRNG, the trace digest and the error
 * table (runtime/rt_loop.h, rt_prng.h, rt_trace.h, rt_err.h). */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_err.h"
#include "rt_loop.h"
#include "rt_prng.h"
#include "rt_trace.h"

/* ---- rt_loop ------------------------------------------------------------ */

#define LOG_MAX 64

typedef struct run_log {
    uint64_t tags[LOG_MAX];
    uint64_t times[LOG_MAX];
    int len;
} run_log;

static void log_event(rt_loop *loop, void *arg, uint64_t tag) {
    run_log *log = arg;
    CU_ASSERT_FATAL(log->len < LOG_MAX);
    log->tags[log->len] = tag;
    log->times[log->len] = rt_loop_now(loop);
    log->len++;
}

static void test_loop_time_order(void) {
    rt_loop loop;
    run_log log = {{0}, {0}, 0};
    rt_loop_init(&loop, 0);
    rt_loop_at(&loop, 30, log_event, &log, 3);
    rt_loop_at(&loop, 10, log_event, &log, 1);
    rt_loop_at(&loop, 20, log_event, &log, 2);
    CU_ASSERT_EQUAL(rt_loop_pending(&loop), 3);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 0);
    CU_ASSERT_EQUAL(log.len, 3);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(log.tags[i], (uint64_t)i + 1);
        CU_ASSERT_EQUAL(log.times[i], 10 * ((uint64_t)i + 1));
    }
    CU_ASSERT_EQUAL(rt_loop_now(&loop), 30);
    rt_loop_free(&loop);
}

static void test_loop_ties_in_scheduling_order(void) {
    rt_loop loop;
    run_log log = {{0}, {0}, 0};
    rt_loop_init(&loop, 0);
    /* Enough same-time events that a heap without the sequence key would
     * reorder some of them. */
    for (uint64_t i = 0; i < 40; i++) rt_loop_at(&loop, 5, log_event, &log, i);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 0);
    CU_ASSERT_EQUAL(log.len, 40);
    for (int i = 0; i < log.len; i++) CU_ASSERT_EQUAL(log.tags[i], (uint64_t)i);
    rt_loop_free(&loop);
}

/* Tag 100 schedules tag 101 at delay 0: it must run after tags 1 and 2,
 * which were queued at the same time before it. */
static void chain_event(rt_loop *loop, void *arg, uint64_t tag) {
    log_event(loop, arg, tag);
    if (tag == 100) rt_loop_at(loop, 0, chain_event, arg, 101);
}

static void test_loop_delay_zero_runs_after_queued(void) {
    rt_loop loop;
    run_log log = {{0}, {0}, 0};
    rt_loop_init(&loop, 0);
    rt_loop_at(&loop, 7, chain_event, &log, 100);
    rt_loop_at(&loop, 7, chain_event, &log, 1);
    rt_loop_at(&loop, 7, chain_event, &log, 2);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 0);
    CU_ASSERT_EQUAL_FATAL(log.len, 4);
    CU_ASSERT_EQUAL(log.tags[0], 100);
    CU_ASSERT_EQUAL(log.tags[1], 1);
    CU_ASSERT_EQUAL(log.tags[2], 2);
    CU_ASSERT_EQUAL(log.tags[3], 101);
    CU_ASSERT_EQUAL(log.times[3], 7);
    rt_loop_free(&loop);
}

static void test_loop_run_until_advances_now(void) {
    rt_loop loop;
    run_log log = {{0}, {0}, 0};
    rt_loop_init(&loop, 0);
    rt_loop_at(&loop, 10, log_event, &log, 1);
    rt_loop_at(&loop, 50, log_event, &log, 2);
    CU_ASSERT_EQUAL(rt_loop_run_until(&loop, 30), 0);
    CU_ASSERT_EQUAL(log.len, 1);
    CU_ASSERT_EQUAL(rt_loop_now(&loop), 30);
    CU_ASSERT_EQUAL(rt_loop_pending(&loop), 1);
    /* An event exactly at until_ms runs. */
    CU_ASSERT_EQUAL(rt_loop_run_until(&loop, 50), 0);
    CU_ASSERT_EQUAL(log.len, 2);
    CU_ASSERT_EQUAL(rt_loop_now(&loop), 50);
    /* An empty queue still moves the clock. */
    CU_ASSERT_EQUAL(rt_loop_run_until(&loop, 80), 0);
    CU_ASSERT_EQUAL(rt_loop_now(&loop), 80);
    CU_ASSERT_EQUAL(rt_loop_step(&loop), 0);
    rt_loop_free(&loop);
}

/* Reschedules itself forever: only the bound stops it. */
static void forever_event(rt_loop *loop, void *arg, uint64_t tag) {
    (*(int *)arg)++;
    rt_loop_at(loop, 1, forever_event, arg, tag);
}

static void test_loop_events_max_bound(void) {
    rt_loop loop;
    int runs = 0;
    rt_loop_init(&loop, 25);
    rt_loop_at(&loop, 0, forever_event, &runs, 0);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 1);
    CU_ASSERT_EQUAL(runs, 25);
    CU_ASSERT_EQUAL(rt_loop_run_until(&loop, 1000), 1);
    CU_ASSERT_EQUAL(runs, 25);
    CU_ASSERT(rt_loop_now(&loop) < 1000); /* stuck: the clock did not jump */
    rt_loop_free(&loop);
}

static void stop_event(rt_loop *loop, void *arg, uint64_t tag) {
    log_event(loop, arg, tag);
    rt_loop_stop(loop);
}

static void test_loop_stop(void) {
    rt_loop loop;
    run_log log = {{0}, {0}, 0};
    rt_loop_init(&loop, 0);
    rt_loop_at(&loop, 1, stop_event, &log, 1);
    rt_loop_at(&loop, 2, log_event, &log, 2);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 0);
    CU_ASSERT_EQUAL(log.len, 1);
    CU_ASSERT_EQUAL(rt_loop_pending(&loop), 1);
    CU_ASSERT_EQUAL(rt_loop_run(&loop), 0);
    CU_ASSERT_EQUAL(log.len, 2);
    rt_loop_free(&loop);
}

/* ---- rt_prng ------------------------------------------------------------ */

static void test_prng_same_seed_same_sequence(void) {
    rt_prng a, b, c;
    rt_prng_seed(&a, 42);
    rt_prng_seed(&b, 42);
    rt_prng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rt_prng_next(&a);
        CU_ASSERT_EQUAL(x, rt_prng_next(&b));
        differs |= x != rt_prng_next(&c);
    }
    CU_ASSERT(differs);
    CU_ASSERT_EQUAL(a.draws, 1000);
}

/* Recorded once from this implementation (it is also the published first
 * output of xoshiro256** seeded through splitmix64 from 0). If this changes,
 * every recorded seed in the project replays differently. */
static void test_prng_known_first_value(void) {
    rt_prng p;
    rt_prng_seed(&p, 0);
    CU_ASSERT_EQUAL(rt_prng_next(&p), 0x99ec5f36cb75f2b4ULL);
    rt_prng_stream(&p, 0, RT_STREAM_FAULTS);
    CU_ASSERT_EQUAL(rt_prng_next(&p), 0xed60f480a7b2bc88ULL);
}

static void test_prng_streams_independent(void) {
    rt_prng a, b, a_alone;
    rt_prng_stream(&a, 7, RT_STREAM_SOURCE);
    rt_prng_stream(&b, 7, RT_STREAM_NETWORK);
    rt_prng_stream(&a_alone, 7, RT_STREAM_SOURCE);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = rt_prng_next(&a);
        /* Drawing from b in between does not move a. */
        for (int j = 0; j < i % 3; j++) (void)rt_prng_next(&b);
        same += x == rt_prng_next(&b);
        CU_ASSERT_EQUAL(x, rt_prng_next(&a_alone));
    }
    CU_ASSERT_EQUAL(same, 0);
    /* A stream differs from the plain seed's sequence too. */
    rt_prng plain;
    rt_prng_seed(&plain, 7);
    rt_prng_stream(&a, 7, RT_STREAM_SOURCE);
    CU_ASSERT_NOT_EQUAL(rt_prng_next(&plain), rt_prng_next(&a));
}

static void test_prng_below_in_range_hits_all(void) {
    rt_prng p;
    rt_prng_seed(&p, 1234);
    int hits[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t x = rt_prng_below(&p, 7);
        CU_ASSERT_FATAL(x < 7);
        hits[x]++;
    }
    for (int v = 0; v < 7; v++) CU_ASSERT(hits[v] > 700); /* expected 1000 each */
    for (int i = 0; i < 1000; i++) {
        int64_t r = rt_prng_range(&p, -3, 3);
        CU_ASSERT(r >= -3 && r <= 3);
        CU_ASSERT_EQUAL(rt_prng_below(&p, 1), 0);
    }
    CU_ASSERT_EQUAL(rt_prng_chance(&p, 0, 5), 0);
    CU_ASSERT_EQUAL(rt_prng_chance(&p, 5, 5), 1);
}

static void test_prng_mix3_pure(void) {
    CU_ASSERT_EQUAL(rt_mix3(1, 2, 3), rt_mix3(1, 2, 3));
    CU_ASSERT_NOT_EQUAL(rt_mix3(1, 2, 3), rt_mix3(1, 2, 4));
    CU_ASSERT_NOT_EQUAL(rt_mix3(1, 2, 3), rt_mix3(1, 3, 2));
    CU_ASSERT_NOT_EQUAL(rt_mix3(1, 2, 3), rt_mix3(2, 2, 3));
}

/* ---- rt_trace ----------------------------------------------------------- */

static void emit_sample(rt_trace *tr, int chk, uint64_t bytes) {
    rt_trace_event(tr, 0, "start", NULL);
    rt_trace_event(tr, 100, "checkpoint", "\"chk\":%d,\"bytes\":%llu", chk, (unsigned long long)bytes);
    rt_trace_event(tr, 250, "restore", "\"path\":\"%s\"", "chk-1/_metadata");
    rt_trace_event(tr, 300, "drained", "%s", ""); /* fields that format to nothing */
}

static void test_trace_same_events_same_digest(void) {
    rt_trace a, b, c;
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&a, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&b, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&c, NULL), 0);
    emit_sample(&a, 1, 4096);
    emit_sample(&b, 1, 4096);
    emit_sample(&c, 1, 4097); /* one field differs */
    CU_ASSERT_EQUAL(rt_trace_digest(&a), rt_trace_digest(&b));
    CU_ASSERT_NOT_EQUAL(rt_trace_digest(&a), rt_trace_digest(&c));
    CU_ASSERT_EQUAL(a.events, 4);
    char ha[17], hb[17];
    rt_trace_digest_hex(&a, ha);
    rt_trace_digest_hex(&b, hb);
    CU_ASSERT_STRING_EQUAL(ha, hb);
    CU_ASSERT_EQUAL(strlen(ha), 16);
    rt_trace_free(&a);
    rt_trace_free(&b);
    rt_trace_free(&c);
}

static void test_trace_time_and_type_count(void) {
    rt_trace a, b;
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&a, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&b, NULL), 0);
    rt_trace_event(&a, 10, "tick", NULL);
    rt_trace_event(&b, 11, "tick", NULL);
    CU_ASSERT_NOT_EQUAL(rt_trace_digest(&a), rt_trace_digest(&b));
    rt_trace_free(&a);
    rt_trace_free(&b);
}

/* Every JSONL line parses, with "t" and "ev" first and the fields given. */
static void check_trace_line(const char *line, int index) {
    json_error_t jerr;
    json_t *obj = json_loads(line, 0, &jerr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT(json_is_object(obj));
    CU_ASSERT(json_is_integer(json_object_get(obj, "t")));
    CU_ASSERT(json_is_string(json_object_get(obj, "ev")));
    if (index == 1) {
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(obj, "chk")), 3);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(obj, "bytes")), 512);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(obj, "t")), 100);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(obj, "ev")), "checkpoint");
    }
    json_decref(obj);
}

static void test_trace_jsonl_parses(void) {
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    rt_trace tr;
    CU_ASSERT_EQUAL_FATAL(rt_trace_init(&tr, f), 0);
    emit_sample(&tr, 3, 512);
    rt_trace_free(&tr);
    fclose(f);
    CU_ASSERT_FATAL(size > 0 && text[size - 1] == '\n');
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        check_trace_line(line, lines++);
    CU_ASSERT_EQUAL(lines, 4);
    free(text);
}

/* ---- rt_err ------------------------------------------------------------- */

static void test_err_names_distinct(void) {
    for (int i = 0; i < RT_ERR_COUNT; i++) {
        const char *name = rt_err_name((rt_err)i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(name);
        CU_ASSERT(name[0] != '\0');
        CU_ASSERT(rt_err_message((rt_err)i)[0] != '\0');
        for (int j = 0; j < i; j++) CU_ASSERT(strcmp(name, rt_err_name((rt_err)j)) != 0);
    }
    CU_ASSERT_STRING_EQUAL(rt_err_name(RT_OK), "ok");
    CU_ASSERT_STRING_EQUAL(rt_err_name(RT_ERR_COUNT), "unknown");
    CU_ASSERT_EQUAL(rt_err_class_of(RT_ECORRUPT), RT_CLASS_CORRUPT);
    CU_ASSERT_EQUAL(rt_err_class_of(RT_EUSAGE), RT_CLASS_USAGE);
    CU_ASSERT_EQUAL(rt_err_class_of(RT_ERR_COUNT), RT_CLASS_INTERNAL);
}

static void test_err_fail_records_where(void) {
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(e.code, RT_OK);
    int line = __LINE__ + 1;
    rt_err rc = RT_FAIL(&e, RT_ECHECKSUM, "file %s: want %d", "a.sst", 7);
    CU_ASSERT_EQUAL(rc, RT_ECHECKSUM);
    CU_ASSERT_EQUAL(e.code, RT_ECHECKSUM);
    CU_ASSERT_EQUAL(e.line, line);
    CU_ASSERT_STRING_EQUAL(e.file, __FILE__);
    CU_ASSERT_STRING_EQUAL(e.msg, "file a.sst: want 7");
    CU_ASSERT_EQUAL(RT_FAIL(NULL, RT_EIO, "no sink"), RT_EIO);
    rt_error_clear(&e);
    CU_ASSERT_EQUAL(e.code, RT_OK);
    CU_ASSERT_STRING_EQUAL(e.msg, "");
}

static void test_err_prefix(void) {
    rt_error e;
    rt_error_clear(&e);
    rt_error_prefix(&e, "ignored: "); /* no error, no prefix */
    CU_ASSERT_STRING_EQUAL(e.msg, "");
    RT_FAIL(&e, RT_ENOENT, "chk-3/_metadata is missing");
    rt_error_prefix(&e, "restore %s: ", "chk-3");
    CU_ASSERT_STRING_EQUAL(e.msg, "restore chk-3: chk-3/_metadata is missing");
    CU_ASSERT_EQUAL(e.code, RT_ENOENT);
    /* A prefix that does not fit leaves the message whole. */
    char big[RT_ERROR_MSG_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rt_error_prefix(&e, "%s", big);
    CU_ASSERT_STRING_EQUAL(e.msg, "restore chk-3: chk-3/_metadata is missing");
    rt_error_prefix(NULL, "nothing");
}

/* A caller rewording the error it holds passes e->msg back in: the setter
 * must format before it writes (the scenario step error once came out as
 * "step 1: ...: step 1: 1' (known: ...)"). */
static void test_err_set_from_own_message(void) {
    rt_error e;
    rt_error_clear(&e);
    RT_FAIL(&e, RT_EUSAGE, "unknown RocksDB release '%s' (known: %s)", "1", "5.17.2, 6.20.3");
    RT_FAIL(&e, RT_EINPUT, "f.json: step %d: %s", 1, e.msg);
    CU_ASSERT_STRING_EQUAL(e.msg, "f.json: step 1: unknown RocksDB release '1' (known: 5.17.2, 6.20.3)");
    CU_ASSERT_EQUAL(e.code, RT_EINPUT);
}

/* ---- registration ------------------------------------------------------- */

int suite_runtime(void) {
    CU_pSuite s = CU_add_suite("runtime", NULL, NULL);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"loop: events run in time order", test_loop_time_order},
        {"loop: ties run in scheduling order", test_loop_ties_in_scheduling_order},
        {"loop: delay 0 runs after queued same-time events", test_loop_delay_zero_runs_after_queued},
        {"loop: run_until advances now", test_loop_run_until_advances_now},
        {"loop: events_max bound returns 1", test_loop_events_max_bound},
        {"loop: stop", test_loop_stop},
        {"prng: same seed, same sequence", test_prng_same_seed_same_sequence},
        {"prng: known first value of seed 0", test_prng_known_first_value},
        {"prng: streams are independent", test_prng_streams_independent},
        {"prng: below stays in range and hits all", test_prng_below_in_range_hits_all},
        {"prng: mix3 is a pure function", test_prng_mix3_pure},
        {"trace: same events, same digest", test_trace_same_events_same_digest},
        {"trace: time is part of the digest", test_trace_time_and_type_count},
        {"trace: JSONL lines parse", test_trace_jsonl_parses},
        {"err: every code has a distinct name", test_err_names_distinct},
        {"err: RT_FAIL records file, line, message", test_err_fail_records_where},
        {"err: rt_error_prefix", test_err_prefix},
        {"err: the setter may be given its own message", test_err_set_from_own_message},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
