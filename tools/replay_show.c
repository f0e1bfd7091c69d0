/* replay_show: the state of a stopped fuzz case (replay_show.h). */
#include "replay_show.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "agg-1" for task t. */
static void task_name(const sim_run *r, int t, char *buf, size_t cap) {
    sim_task_view v;
    sim_run_task_get(r, t, &v);
    snprintf(buf, cap, "%s-%u", v.uid, v.subtask);
}

static const char *ordinal_suffix(uint64_t n) {
    if (n % 100 >= 11 && n % 100 <= 13) return "th";
    return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

/* The source's parallelism: split s is read by source subtask s % p. */
static uint32_t source_parallelism(const sim_run *r) {
    uint32_t p = 0;
    for (int t = 0; t < sim_run_task_count(r); t++) {
        sim_task_view w;
        sim_run_task_get(r, t, &w);
        p += w.source != 0;
    }
    return p;
}

/* ---- JSON ---- */

/* The same members whatever stopped the case: until_ms, next_event_ms and
 * event are null when they do not apply, and so are an event's line, t
 * and trace when the case ended before it. */
static json_t *stop_json(const replay_show_ctx *c, const drv_fuzz_stop_at *at) {
    json_t *o = json_pack("{s:s, s:I, s:i, s:I, s:s}", "why", at->why, "case_ms", (json_int_t)at->case_ms, "job",
                          at->job, "job_ms", (json_int_t)at->job_ms, "action", at->action);
    json_object_set_new(o, "until_ms", c->has_until ? json_integer((json_int_t)c->until_ms) : json_null());
    int next = strcmp(at->why, "time") == 0 && at->next_ms != UINT64_MAX;
    json_object_set_new(o, "next_event_ms", next ? json_integer((json_int_t)at->next_ms) : json_null());
    json_t *ev = json_null();
    if (c->event) {
        ev = json_pack("{s:s, s:I, s:n, s:n, s:n}", "name", c->event, "nth", (json_int_t)(c->nth ? c->nth : 1), "line",
                       "t", "trace");
        if (at->line) {
            json_object_set_new(ev, "line", json_integer((json_int_t)at->line));
            json_object_set_new(ev, "t", json_integer((json_int_t)at->event_ms));
            json_t *parsed = json_loads(at->text, 0, NULL);
            json_object_set_new(ev, "trace", parsed ? parsed : json_string(at->text));
        }
    }
    json_object_set_new(o, "event", ev);
    return o;
}

static json_t *coordinator_json(const sim_run *r) {
    json_t *pend = json_array(), *ret = json_array();
    for (int i = 0; i < sim_run_pending_count(r); i++) {
        sim_pending_view p;
        sim_run_pending_get(r, i, &p);
        json_t *acked = json_array();
        for (int t = 0; t < sim_run_task_count(r); t++) {
            char n[96];
            task_name(r, t, n, sizeof n);
            if (sim_run_pending_acked(r, i, t)) json_array_append_new(acked, json_string(n));
        }
        json_array_append_new(pend, json_pack("{s:I, s:s, s:b, s:b, s:I, s:i, s:i, s:o, s:b, s:s}", "id",
                                              (json_int_t)p.id, "kind", sim_kind_name(p.kind), "savepoint",
                                              p.savepoint, "unaligned", p.unaligned, "triggered_ms",
                                              (json_int_t)p.triggered_at, "acks", p.acks, "tasks", p.tasks,
                                              "acked", acked, "failed", p.failed, "dir", p.dir));
    }
    for (int i = 0; i < sim_run_retained_count(r); i++) {
        sim_retained_view v;
        sim_run_retained_get(r, i, &v);
        json_array_append_new(ret, json_pack("{s:I, s:s, s:b, s:b, s:b, s:I, s:I}", "id", (json_int_t)v.id, "dir",
                                             v.dir, "savepoint", v.savepoint, "owned", v.owned, "unclaimed",
                                             v.unclaimed, "files", (json_int_t)v.files, "shared",
                                             (json_int_t)v.shared));
    }
    const char *latest = sim_run_latest_checkpoint(r);
    return json_pack("{s:o, s:o, s:o}", "latest", latest[0] ? json_string(latest) : json_null(), "pending", pend,
                     "retained", ret);
}

static json_t *registry_json(const sim_run *r) {
    json_t *a = json_array();
    for (int i = 0; i < sim_run_registry_count(r); i++) {
        const sim_registry_entry *x = sim_run_registry_get(r, i);
        json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:b}", "key", x->key, "path", x->path,
                                           "created_by", (json_int_t)x->created_by, "last_used",
                                           (json_int_t)x->last_used, "confirmed", x->confirmed));
    }
    return json_pack("{s:I, s:o}", "not_claimed_up_to", (json_int_t)sim_run_registry_not_claimed(r), "entries", a);
}

static json_t *offsets_json(const sim_run *r, const sim_task_view *v) {
    json_t *a = json_array();
    uint32_t p = source_parallelism(r);
    for (uint32_t s = 0; v->source && p && s < sim_run_split_count(r); s++)
        if (s % p == v->subtask)
            json_array_append_new(a, json_pack("{s:i, s:I}", "split", (int)s, "offset",
                                               (json_int_t)sim_run_split_offset(r, s)));
    return a;
}

static json_t *tasks_json(const sim_run *r) {
    json_t *a = json_array();
    for (int t = 0; t < sim_run_task_count(r); t++) {
        sim_task_view v;
        sim_run_task_get(r, t, &v);
        json_t *o = json_pack("{s:s, s:i, s:s, s:I, s:i, s:i, s:I}", "op", v.uid, "subtask", (int)v.subtask, "state",
                              sim_task_state_name(v.state), "checkpoint", (json_int_t)v.checkpoint, "barriers",
                              v.barriers, "inputs", v.inputs, "last_acked", (json_int_t)v.last_acked);
        json_object_set_new(o, "offsets", offsets_json(r, &v)); /* empty but for a source */
        json_array_append_new(a, o);
    }
    return a;
}

static void show_json(const replay_show_ctx *c, const sim_run *r, const drv_fuzz_stop_at *at) {
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o}", "seed", (json_int_t)c->seed, "stop", stop_json(c, at),
                          "coordinator", coordinator_json(r), "registry", registry_json(r), "tasks", tasks_json(r));
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

/* ---- text ---- */

static void stop_text(const replay_show_ctx *c, const drv_fuzz_stop_at *at) {
    if (strcmp(at->why, "time") == 0) {
        printf("stopped   at case time %" PRIu64 " ms, in job %d (its clock %" PRIu64 " ms", at->case_ms, at->job,
               at->job_ms);
        if (at->next_ms != UINT64_MAX) printf("; its next event at %" PRIu64 " ms did not run", at->next_ms);
        printf("), action %s\n", at->action);
        return;
    }
    if (strcmp(at->why, "event") == 0) {
        uint64_t n = c->nth ? c->nth : 1;
        printf("stopped   at the %" PRIu64 "%s '%s' event, trace line %" PRIu64 ", t %" PRIu64
               " ms of job %d (case time %" PRIu64 " ms), action %s; the state after the step that wrote it\n",
               n, ordinal_suffix(n), c->event, at->line, at->event_ms, at->job, at->case_ms, at->action);
        printf("event     %s\n", at->text);
        return;
    }
    printf("ended     the case ended before ");
    if (c->event) printf("its %" PRIu64 "%s '%s' event%s", c->nth ? c->nth : 1, ordinal_suffix(c->nth ? c->nth : 1),
                         c->event, c->has_until ? " and before " : "");
    if (c->has_until) printf("case time %" PRIu64 " ms", c->until_ms);
    printf(" (at case time %" PRIu64 " ms, job %d's clock %" PRIu64 " ms): the final state\n", at->case_ms, at->job,
           at->job_ms);
}

static void coordinator_text(const sim_run *r) {
    const char *latest = sim_run_latest_checkpoint(r);
    printf("coordinator\n  latest    %s\n", latest[0] ? latest : "none");
    if (sim_run_pending_count(r) == 0) printf("  pending   none\n");
    for (int i = 0; i < sim_run_pending_count(r); i++) {
        sim_pending_view p;
        sim_run_pending_get(r, i, &p);
        printf("  pending   chk %" PRId64 " %s%s, triggered at %" PRIu64 " ms, acks %d/%d%s:", p.id,
               sim_kind_name(p.kind), p.savepoint ? " savepoint" : "", p.triggered_at, p.acks, p.tasks,
               p.failed ? ", failed" : "");
        for (int t = 0; t < sim_run_task_count(r); t++) {
            char n[96];
            task_name(r, t, n, sizeof n);
            if (sim_run_pending_acked(r, i, t)) printf(" %s", n);
        }
        printf("%s\n", p.acks ? "" : " none");
    }
    if (sim_run_retained_count(r) == 0) printf("  retained  none\n");
    for (int i = 0; i < sim_run_retained_count(r); i++) {
        sim_retained_view v;
        sim_run_retained_get(r, i, &v);
        printf("  retained  chk %" PRId64 " %s %s%s, %zu files, %zu shared\n", v.id, v.dir,
               v.savepoint ? "savepoint " : "", v.unclaimed ? "unclaimed" : v.owned ? "owned" : "not owned", v.files,
               v.shared);
    }
}

static void registry_text(const sim_run *r) {
    int n = sim_run_registry_count(r);
    int64_t nc = sim_run_registry_not_claimed(r);
    printf("registry  %d entr%s", n, n == 1 ? "y" : "ies");
    if (nc > 0) printf(", never deleting what checkpoints up to chk %" PRId64 " registered (not claimed)", nc);
    printf("\n");
    for (int i = 0; i < n; i++) {
        const sim_registry_entry *x = sim_run_registry_get(r, i);
        printf("  %s", x->path);
        if (strcmp(x->key, x->path) != 0) printf(" (key %s)", x->key);
        printf(": created by chk %" PRId64 ", last used by chk %" PRId64 "%s\n", x->created_by, x->last_used,
               x->confirmed ? ", confirmed" : "");
    }
}

static void tasks_text(const sim_run *r) {
    printf("tasks\n");
    uint32_t p = source_parallelism(r);
    for (int t = 0; t < sim_run_task_count(r); t++) {
        sim_task_view v;
        sim_run_task_get(r, t, &v);
        char n[96];
        task_name(r, t, n, sizeof n);
        printf("  %-10s %s", n, sim_task_state_name(v.state));
        if (v.checkpoint && v.inputs) printf(", barrier of chk %" PRId64 " from %d of %d inputs", v.checkpoint, v.barriers, v.inputs);
        else if (v.checkpoint) printf(", barrier of chk %" PRId64, v.checkpoint);
        printf(", acked chk %" PRId64, v.last_acked);
        for (uint32_t s = 0; v.source && p && s < sim_run_split_count(r); s++)
            if (s % p == v.subtask) printf(", split %u at %" PRIu64, s, sim_run_split_offset(r, s));
        printf("\n");
    }
}

void replay_show(void *ctx, const sim_run *r, const drv_fuzz_stop_at *at) {
    replay_show_ctx *c = ctx;
    c->shown = 1;
    c->reached = strcmp(at->why, "end") != 0;
    if (c->json) {
        show_json(c, r, at);
    } else {
        printf("seed      %" PRIu64 "\n", c->seed);
        stop_text(c, at);
        coordinator_text(r);
        registry_text(r);
        tasks_text(r);
    }
    fflush(stdout);
}
