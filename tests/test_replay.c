/* test_replay: `replay --until/--break` (drv_fuzz_one_stop): a case stops
 * exactly where asked, the state it shows agrees with the trace written up
 * to the stop, and that trace is a prefix of the full run's. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drv_fuzz.h"
#include "test_util.h"

static char work[512];
static int init(void) { return tu_mkdtemp(work, sizeof work, "replay"); }
static int cleanup(void) { return tu_rmtree(work); }

#define SEED 7
#define MAX_IDS 64
#define MAX_TASKS 48

/* What the show callback saw. */
typedef struct seen {
    int calls;
    char why[8];
    int job;
    uint64_t job_ms, next_ms, line;
    char text[2048];
    int64_t pending[MAX_IDS], retained[MAX_IDS];
    int n_pending, n_retained, registry;
    char task[MAX_TASKS][96];
    sim_task_view tasks[MAX_TASKS];
    int n_tasks;
} seen;

static void capture(void *ctx, const sim_run *r, const drv_fuzz_stop_at *at) {
    seen *s = ctx;
    s->calls++;
    snprintf(s->why, sizeof s->why, "%s", at->why);
    s->job = at->job;
    s->job_ms = at->job_ms;
    s->next_ms = at->next_ms;
    s->line = at->line;
    snprintf(s->text, sizeof s->text, "%s", at->text);
    s->n_pending = sim_run_pending_count(r);
    for (int i = 0; i < s->n_pending && i < MAX_IDS; i++) {
        sim_pending_view p;
        sim_run_pending_get(r, i, &p);
        s->pending[i] = p.id;
    }
    s->n_retained = sim_run_retained_count(r);
    for (int i = 0; i < s->n_retained && i < MAX_IDS; i++) {
        sim_retained_view v;
        sim_run_retained_get(r, i, &v);
        s->retained[i] = v.id;
    }
    s->registry = sim_run_registry_count(r);
    s->n_tasks = sim_run_task_count(r);
    for (int t = 0; t < s->n_tasks && t < MAX_TASKS; t++) {
        sim_run_task_get(r, t, &s->tasks[t]);
        snprintf(s->task[t], sizeof s->task[t], "%s-%u", s->tasks[t].uid, s->tasks[t].subtask);
    }
}

/* Runs the seed (stop NULL: to its end) with its trace into *text. */
static void run(const drv_fuzz_stop *stop, char **text, drv_fuzz_result *res) {
    size_t len = 0;
    FILE *f = open_memstream(text, &len);
    CU_ASSERT_FATAL(f != NULL);
    rt_error e;
    CU_ASSERT_FATAL(drv_fuzz_one_stop(SEED, work, f, SIM_MUT_NONE, stop, res, &e) == RT_OK);
    fclose(f);
}

/* The trace's lines, as parsed JSON (every line must parse). */
static size_t lines_of(const char *text, json_t **out, size_t cap) {
    size_t n = 0;
    for (const char *p = text; *p && n < cap;) {
        const char *nl = strchr(p, '\n');
        CU_ASSERT_FATAL(nl != NULL); /* a stop never leaves half a line */
        out[n] = json_loadb(p, (size_t)(nl - p), 0, NULL);
        CU_ASSERT_FATAL(out[n] != NULL);
        n++;
        p = nl + 1;
    }
    return n;
}

static void free_lines(json_t **l, size_t n) {
    for (size_t i = 0; i < n; i++) json_decref(l[i]);
}

static const char *ev_of(json_t *l) { return json_string_value(json_object_get(l, "ev")); }
static int64_t int_of(json_t *l, const char *k) { return (int64_t)json_integer_value(json_object_get(l, k)); }

/* Whether "ev" with "chk" chk is among lines [0, n). */
static int has_event(json_t **l, size_t n, const char *ev, int64_t chk) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(ev_of(l[i]), ev) == 0 && int_of(l[i], "chk") == chk) return 1;
    return 0;
}

#define MAX_LINES 20000

static void test_until_stops_at_time(void) {
    char *full = NULL, *part = NULL;
    drv_fuzz_result a, b;
    run(NULL, &full, &a);
    CU_ASSERT_FALSE(a.stopped);
    const uint64_t T = 600;
    seen s;
    memset(&s, 0, sizeof s);
    drv_fuzz_stop stop = {.has_until = 1, .until_ms = T, .show = capture, .ctx = &s};
    run(&stop, &part, &b);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_STRING_EQUAL(s.why, "time");
    CU_ASSERT(b.stopped);
    CU_ASSERT_STRING_EQUAL(b.outcome, "stopped");
    CU_ASSERT(b.virtual_ms <= T); /* no event ran after the stop */
    /* The same run up to the stop. */
    size_t plen = strlen(part);
    CU_ASSERT(plen > 0 && plen < strlen(full));
    CU_ASSERT(strncmp(full, part, plen) == 0);
    static json_t *fl[MAX_LINES];
    size_t nf = lines_of(full, fl, MAX_LINES), np = 0;
    for (const char *p = part; *p; p++) np += *p == '\n';
    /* Stopped at T exactly: everything up to T ran, nothing after it. The
     * seed's first job lasts past T (its clock is the case's). */
    CU_ASSERT_EQUAL(s.job, 1);
    CU_ASSERT(s.job_ms <= T && s.next_ms > T);
    for (size_t i = 0; i < np; i++) CU_ASSERT(int_of(fl[i], "t") <= (int64_t)T);
    CU_ASSERT_FATAL(np < nf);
    CU_ASSERT(int_of(fl[np], "t") > (int64_t)T);
    /* The coordinator it shows is the one the trace prefix tells of: the
     * pending checkpoints are those triggered and neither completed nor
     * aborted yet; the retained ones completed and were not subsumed. */
    int pending_expected = 0;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(ev_of(fl[i]), "trigger") != 0) continue;
        int64_t id = int_of(fl[i], "chk");
        if (has_event(fl, np, "complete", id) || has_event(fl, np, "abort", id)) continue;
        pending_expected++;
        int found = 0;
        for (int k = 0; k < s.n_pending; k++) found |= s.pending[k] == id;
        CU_ASSERT(found);
    }
    CU_ASSERT_EQUAL(s.n_pending, pending_expected);
    CU_ASSERT(s.n_pending > 0); /* T was chosen inside a checkpoint */
    CU_ASSERT(s.n_retained > 0);
    for (int k = 0; k < s.n_retained; k++) {
        CU_ASSERT(has_event(fl, np, "complete", s.retained[k]));
        CU_ASSERT_FALSE(has_event(fl, np, "subsume", s.retained[k]));
    }
    /* ...and the first retained checkpoint left after T is subsumed later. */
    CU_ASSERT(has_event(fl, nf, "subsume", s.retained[0]));
    CU_ASSERT(s.registry > 0);
    free_lines(fl, nf);
    free(full);
    free(part);
}

static void test_break_stops_at_event(void) {
    char *full = NULL, *part = NULL;
    drv_fuzz_result a, b;
    run(NULL, &full, &a);
    static json_t *fl[MAX_LINES];
    size_t nf = lines_of(full, fl, MAX_LINES);
    size_t third = 0;
    int n = 0;
    for (size_t i = 0; i < nf && !third; i++)
        if (strcmp(ev_of(fl[i]), "subsume") == 0 && ++n == 3) third = i + 1;
    CU_ASSERT_FATAL(third > 0);
    seen s;
    memset(&s, 0, sizeof s);
    drv_fuzz_stop stop = {.event = "subsume", .nth = 3, .show = capture, .ctx = &s};
    run(&stop, &part, &b);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_STRING_EQUAL(s.why, "event");
    CU_ASSERT(b.stopped);
    CU_ASSERT_EQUAL(s.line, third);
    char *want = json_dumps(fl[third - 1], JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_t *got = json_loads(s.text, 0, NULL);
    CU_ASSERT_FATAL(got != NULL);
    CU_ASSERT(json_equal(got, fl[third - 1]));
    size_t plen = strlen(part), np = 0;
    for (const char *p = part; *p; p++) np += *p == '\n';
    CU_ASSERT(strncmp(full, part, plen) == 0);
    CU_ASSERT(np >= third && np < nf);
    /* The checkpoint it subsumed is gone from the retained ones shown. */
    int64_t gone = int_of(fl[third - 1], "chk");
    for (int k = 0; k < s.n_retained; k++) CU_ASSERT(s.retained[k] != gone);
    CU_ASSERT(s.n_retained > 0);
    json_decref(got);
    free(want);
    free_lines(fl, nf);
    free(full);
    free(part);
}

/* A stop never reached changes nothing: the same digest, the final state. */
static void test_stop_not_reached(void) {
    char *full = NULL, *part = NULL;
    drv_fuzz_result a, b;
    run(NULL, &full, &a);
    seen s;
    memset(&s, 0, sizeof s);
    drv_fuzz_stop stop = {.has_until = 1, .until_ms = 1u << 30, .event = "scenario", .show = capture, .ctx = &s};
    run(&stop, &part, &b);
    CU_ASSERT_EQUAL(s.calls, 1);
    CU_ASSERT_STRING_EQUAL(s.why, "end");
    CU_ASSERT_FALSE(b.stopped);
    CU_ASSERT_STRING_EQUAL(a.digest, b.digest);
    CU_ASSERT_EQUAL(a.unseed, b.unseed);
    CU_ASSERT_STRING_EQUAL(full, part);
    free(full);
    free(part);
}

/* A task shown aligning has its barrier from some inputs only and has not
 * snapshotted that checkpoint yet; it does later. */
static void test_aligning_task(void) {
    char *full = NULL;
    drv_fuzz_result a;
    run(NULL, &full, &a);
    static json_t *fl[MAX_LINES];
    size_t nf = lines_of(full, fl, MAX_LINES);
    int found = 0;
    for (uint64_t T = 60; T < 400 && !found; T++) {
        seen s;
        memset(&s, 0, sizeof s);
        char *part = NULL;
        drv_fuzz_result b;
        drv_fuzz_stop stop = {.has_until = 1, .until_ms = T, .show = capture, .ctx = &s};
        run(&stop, &part, &b);
        size_t np = 0;
        for (const char *p = part; *p; p++) np += *p == '\n';
        for (int t = 0; t < s.n_tasks; t++) {
            const sim_task_view *v = &s.tasks[t];
            if (v->state != SIM_TASK_ALIGNING) continue;
            found = 1;
            CU_ASSERT(v->barriers > 0 && v->barriers < v->inputs);
            int before = 0, after = 0;
            for (size_t i = 0; i < nf; i++) {
                if (strcmp(ev_of(fl[i]), "rocksdb_snapshot") != 0 || int_of(fl[i], "chk") != v->checkpoint) continue;
                if (strcmp(json_string_value(json_object_get(fl[i], "prefix")), s.task[t]) != 0) continue;
                if (i < np) before = 1;
                else after = 1;
            }
            CU_ASSERT_FALSE(before);
            CU_ASSERT(after);
        }
        free(part);
    }
    CU_ASSERT(found); /* seed 7 is a RocksDB job with aligned checkpoints */
    free_lines(fl, nf);
    free(full);
}

int suite_replay(void) {
    CU_pSuite s = CU_add_suite("replay", init, cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "--until stops before the first event after T", test_until_stops_at_time) ||
        !CU_add_test(s, "--break stops at the N-th matching trace event", test_break_stops_at_event) ||
        !CU_add_test(s, "a stop never reached changes nothing", test_stop_not_reached) ||
        !CU_add_test(s, "a task shown aligning has not snapshotted yet", test_aligning_task))
        return -1;
    return 0;
}
