/* runner: scenario combinations, run in-process or by forked workers that
 * take the next combination from a shared queue (longest expected first)
 * and write fixed-size result records into a pipe, so the parent records
 * them in combination order whatever the running and finishing order. */
#include "runner.h"

#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_impl(void *target, const char *value) {
    int *flink = target;
    if (strcmp(value, "flink") == 0) *flink = 1;
    else if (strcmp(value, "model") == 0) *flink = 0;
    else return -1;
    return 0;
}

const cli_opt runner_lane_options[] = {
    CLI_CALL(runner_lane, flink, int, "impl", "model|flink", parse_impl, "model or flink",
             "run on the model (default) or on real Apache Flink"),
    CLI_STRING(runner_lane, fo.default_release, "release", "R", "Flink release of the steps that name no engine\n(default 1.20.3)"),
    CLI_STRING(runner_lane, fo.runners_dir, "runners", "DIR", "where runner-<release>.jar are (default\nconformance/target)"),
    CLI_FLAG(runner_lane, fo.jvm_per_step, "jvm-per-step",
             "a fresh JVM for every runner command (default: one\nserving JVM per release, each command on its own\nMiniCluster)"),
    CLI_END,
};

void runner_lane_defaults(runner_lane *l) {
    memset(l, 0, sizeof *l);
    drv_flink_defaults(&l->fo);
}

/* The option's target is a sim_mutant itself (included at its offset). */
typedef struct sim_mutant_box {
    sim_mutant m;
} sim_mutant_box;

static int parse_mutant(void *target, const char *value) { return sim_mutant_parse(value, target); }

const cli_opt runner_mutant_option[] = {
    CLI_CALL(sim_mutant_box, m, sim_mutant, "mutant", "NAME", parse_mutant, "a mutant's name (see snapsim mutants --help)",
             "run with one mechanism broken (see snapsim mutants --help)"),
    CLI_END,
};

rt_err runner_load(runner *r, const char *const *paths, int n, rt_error *e) {
    memset(r, 0, sizeof *r);
    r->seed = 1;
    r->paths = calloc((size_t)n + 1, sizeof *r->paths);
    r->scns = calloc((size_t)n + 1, sizeof *r->scns);
    if (r->paths == NULL || r->scns == NULL) return RT_FAIL(e, RT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        r->paths[i] = strdup(paths[i]);
        rt_err rc = drv_scn_load(&r->scns[i], paths[i], e);
        r->n_scns++;
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

rt_err runner_load_dir(runner *r, const char *dir, rt_error *e) {
    memset(r, 0, sizeof *r); /* runner_free is safe whatever fails */
    DIR *d = opendir(dir);
    if (d == NULL) return RT_FAIL(e, RT_EINPUT, "%s: cannot open the scenario directory", dir);
    rt_strlist l = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        rt_strlist_push(&l, path);
    }
    closedir(d);
    qsort(l.items, l.len, sizeof l.items[0], cmp_str); /* readdir order is not ours to keep */
    if (l.len == 0) {
        rt_strlist_free(&l);
        return RT_FAIL(e, RT_EINPUT, "%s: no scenario files (*.json)", dir);
    }
    rt_err rc = runner_load(r, (const char *const *)l.items, (int)l.len, e);
    rt_strlist_free(&l);
    return rc;
}

void runner_free(runner *r) {
    for (int i = 0; i < r->n_scns; i++) {
        drv_scn_free(r->scns[i]);
        free(r->paths[i]);
    }
    free(r->scns);
    free(r->paths);
    free(r->combos);
    memset(r, 0, sizeof *r);
}

static const char *const backends[] = {"heap", "rocksdb"};

rt_err runner_expand(runner *r, const char *kind, const char *backend, int shard_i, int shard_n,
                     rt_error *e) {
    int cap = r->n_scns * 4 * 2 * 8 + 1, idx = 0;
    r->combos = calloc((size_t)cap, sizeof *r->combos);
    if (r->combos == NULL) return RT_FAIL(e, RT_ENOMEM, "out of memory");
    for (int s = 0; s < r->n_scns; s++)
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < 2; b++)
                for (int v = 0; v < drv_scn_variant_count(r->scns[s]) && v < 8; v++) {
                    if (kind && strcmp(kind, sim_kind_name((sim_kind)k)) != 0) continue;
                    if (backend && strcmp(backend, backends[b]) != 0) continue;
                    if (!drv_scn_has_backend(r->scns[s], backends[b])) continue;
                    if (!drv_scn_has_kind(r->scns[s], (sim_kind)k)) continue;
                    if (idx++ % shard_n != shard_i) continue;
                    runner_combo *c = &r->combos[r->n_combos++];
                    c->scenario = s;
                    c->kind = (sim_kind)k;
                    snprintf(c->backend, sizeof c->backend, "%s", backends[b]);
                    c->variant = v;
                }
    return RT_OK;
}

/* The scenario's ownership timeline into the matrix's result. */
static void copy_ownership(const drv_scn_result *sr, mx_result *res) {
    _Static_assert(MX_OWN_RESTORES_MAX == DRV_OWN_RESTORES_MAX && MX_OWN_EVENTS_MAX == DRV_OWN_EVENTS_MAX,
                   "one bound on both sides");
    res->n_restores = sr->n_restores;
    for (int k = 0; k < sr->n_restores; k++) {
        const drv_own_restore *a = &sr->restores[k];
        mx_own_restore *b = &res->restores[k];
        snprintf(b->mode, sizeof b->mode, "%s", a->mode);
        snprintf(b->snapshot, sizeof b->snapshot, "%s", a->snapshot);
        b->snapshot_id = a->snapshot_id;
        b->files = a->files;
        b->gone = a->gone;
        b->referenced = a->referenced;
    }
    res->n_events = sr->n_events;
    for (int k = 0; k < sr->n_events; k++) {
        const drv_own_event *a = &sr->events[k];
        mx_own_event *b = &res->events[k];
        b->restore = a->restore;
        b->after_checkpoint = a->after_checkpoint;
        b->virtual_ms = a->virtual_ms;
        b->files = a->files;
        snprintf(b->cause, sizeof b->cause, "%s", a->cause);
        snprintf(b->example, sizeof b->example, "%s", a->example);
    }
}

/* Where combination i runs under --keep-runs (its name holds "snapsim-",
 * which cli_remove_tree asks of what it removes). */
static void kept_path(const runner *r, int i, char *buf, size_t cap) {
    const runner_combo *c = &r->combos[i];
    snprintf(buf, cap, "%s/snapsim-%s-%s-%s-v%d", r->keep_runs, drv_scn_name(r->scns[c->scenario]),
             sim_kind_name(c->kind), c->backend, c->variant);
}

static int kept(const mx_result *res) {
    return strcmp(res->outcome, "works") != 0 && strcmp(res->outcome, "skipped") != 0;
}

static void run_one(runner *r, int i, const char *out_dir, mx_result *res) {
    const runner_combo *c = &r->combos[i];
    const drv_scn *s = r->scns[c->scenario];
    char work[512], sub[1200];
    memset(res, 0, sizeof *res);
    snprintf(res->scenario, sizeof res->scenario, "%s", drv_scn_name(s));
    snprintf(res->guarantee, sizeof res->guarantee, "%s", drv_scn_row(s));
    snprintf(res->kind, sizeof res->kind, "%s", sim_kind_name(c->kind));
    res->seed = r->seed;
    if (r->keep_runs) kept_path(r, i, work, sizeof work);
    if (r->keep_runs ? cli_fresh_dir(work) != 0 : cli_work_dir(work, sizeof work, "matrix") != 0) {
        snprintf(res->outcome, sizeof res->outcome, "crashed");
        snprintf(res->reason, sizeof res->reason, "cannot make a work directory: %s", strerror(errno));
        return;
    }
    if (out_dir) snprintf(sub, sizeof sub, "%s/%s-%s-%s-%d", out_dir, drv_scn_name(s), sim_kind_name(c->kind), c->backend, c->variant);
    /* The real lane keeps its snapshots and the JVMs' logs under --out. */
    drv_scn_env env = {out_dir ? sub : NULL, r->flink && out_dir ? out_dir : work, r->trace, r->mutant, r->flink};
    snprintf(res->impl, sizeof res->impl, "%s", r->flink ? "flink" : "model");
    drv_scn_result sr;
    rt_error e;
    rt_error_clear(&e);
    if (drv_scn_run(s, c->kind, c->backend, c->variant, r->seed, &env, &sr, &e) != RT_OK) {
        snprintf(res->outcome, sizeof res->outcome, "crashed");
        snprintf(res->reason, sizeof res->reason, "scenario error: %.480s", e.msg);
    } else {
        snprintf(res->outcome, sizeof res->outcome, "%s", sr.outcome);
        snprintf(res->impl, sizeof res->impl, "%s", sr.impl);
        snprintf(res->reason, sizeof res->reason, "%s", sr.err.msg);
        snprintf(res->backend, sizeof res->backend, "%s", sr.backend);
        snprintf(res->versions, sizeof res->versions, "%.31s", sr.versions);
        snprintf(res->digest, sizeof res->digest, "%s", sr.digest);
        res->virtual_ms = sr.virtual_ms;
        res->files = sr.files;
        res->bytes = sr.bytes;
        copy_ownership(&sr, res);
    }
    if (res->backend[0] == '\0') snprintf(res->backend, sizeof res->backend, "%s", c->backend);
    if (r->keep_runs == NULL || !kept(res)) cli_remove_tree(work);
    else rmdir(work); /* an empty one (the model's) is no evidence */
}

static void progress_line(const runner *r, int i, int done, const mx_result *res) {
    char where[600] = "";
    char dir[540];
    if (r->keep_runs && kept(res)) {
        kept_path(r, i, dir, sizeof dir);
        if (access(dir, F_OK) == 0) snprintf(where, sizeof where, "  (run kept in %s)", dir);
    }
    fprintf(stderr, "[%d/%d] %-22s %-9s %-14s %-18s %s%s\n", done, r->n_combos, res->scenario, res->kind,
            res->backend, res->versions, res->outcome, where);
}

/* The lane keeps a serving JVM per release for the process's steps (unless
 * --jvm-per-step): each process makes its own pool after it forked, so no
 * JVM is shared across processes. */
static void lane_pool_begin(runner *r, drv_flink_opts *fo) {
    if (r->flink == NULL || r->flink->jvm_per_step || r->flink->pool) return;
    *fo = *r->flink;
    fo->pool = drv_flink_pool_new(); /* NULL (out of memory): a JVM per step */
    r->flink = fo;
}

static void lane_pool_end(runner *r, drv_flink_opts *fo) {
    if (r->flink != fo) return;
    drv_flink_pool_free(fo->pool);
    fo->pool = NULL;
}

/* One result per write, whole: a write of at most PIPE_BUF bytes is never
 * interleaved with another worker's. */
typedef struct { int i; mx_result res; } worker_msg;
_Static_assert(sizeof(worker_msg) <= PIPE_BUF, "a result must fit one atomic pipe write");

/* ---- the queue of combinations ------------------------------------- */

/* What a RocksDB combination costs against a heap one, and an incremental
 * one against a full one (measured: `matrix --jobs 1`, seconds per
 * combination: heap 0.15, rocksdb 0.98; the incremental version scenarios
 * 1.4-1.7 on RocksDB). Only the order of the queue depends on them. */
#define COST_ROCKSDB 6
#define COST_INCREMENTAL 2

/* A deterministic estimate of combination i's CPU time, in no unit. */
static long combo_cost(const runner *r, int i) {
    const runner_combo *c = &r->combos[i];
    const drv_scn *s = r->scns[c->scenario];
    long cost = drv_scn_step_count(s) > 0 ? drv_scn_step_count(s) : 1;
    if (strstr(c->backend, "rocksdb") != NULL) cost *= COST_ROCKSDB;
    if (drv_scn_uses_incremental(s)) cost *= COST_INCREMENTAL;
    return cost;
}

typedef struct { long cost; int i; } queued;

static int cmp_queued(const void *a, const void *b) {
    const queued *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1; /* longest first */
    return (x->i > y->i) - (x->i < y->i);                       /* then in order */
}

/* Every combination index, longest expected first (longest processing time
 * first: the workers then finish within about one short combination of
 * each other, instead of one of them running the long ones last). */
rt_err runner_queue_order(const runner *r, int *order, rt_error *e) {
    queued *q = calloc((size_t)r->n_combos + 1, sizeof *q);
    if (q == NULL) return RT_FAIL(e, RT_ENOMEM, "out of memory");
    for (int i = 0; i < r->n_combos; i++) q[i] = (queued){combo_cost(r, i), i};
    qsort(q, (size_t)r->n_combos, sizeof *q, cmp_queued);
    for (int i = 0; i < r->n_combos; i++) order[i] = q[i].i;
    free(q);
    return RT_OK;
}

/* The feeder: writes every index into the queue and exits; it blocks while
 * the pipe is full, and the workers drain it whatever the parent does (so
 * a queue longer than the pipe holds cannot deadlock against the results). */
static _Noreturn void feed_queue(int fd, const int *order, int n) {
    for (int k = 0; k < n; k++)
        if (write(fd, &order[k], sizeof order[k]) != (ssize_t)sizeof order[k]) _exit(2);
    _exit(0);
}

/* The next index from the queue, -1 once it is empty. Every write into
 * it is one int, and so is every read: a read never splits an index. */
static int next_index(int fd) {
    int i;
    ssize_t n;
    do n = read(fd, &i, sizeof i);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof i ? i : -1;
}

static _Noreturn void worker_main(runner *r, int queue, int results, const char *out_dir) {
    drv_flink_opts fo;
    lane_pool_begin(r, &fo);
    for (int i; (i = next_index(queue)) >= 0;) {
        if (i >= r->n_combos) _exit(2);
        worker_msg msg;
        msg.i = i;
        run_one(r, i, out_dir, &msg.res);
        if (write(results, &msg, sizeof msg) != (ssize_t)sizeof msg) _exit(2);
    }
    lane_pool_end(r, &fo);
    _exit(0);
}

/* Forks the feeder and the workers; the parent keeps neither end of the
 * queue (with SIGPIPE ignored, the feeder meets EPIPE, not a hang, once
 * every worker is gone). res[0] and res[1]: the results pipe. */
static rt_err start_children(runner *r, int jobs, const char *out_dir, const int res[2],
                             const int *order, rt_error *e) {
    int q[2];
    if (pipe(q) != 0) return RT_FAIL(e, RT_EIO, "pipe: %s", strerror(errno));
    fflush(NULL);
    rt_err rc = RT_OK;
    for (int w = -1; w < jobs && rc == RT_OK; w++) { /* -1: the feeder */
        pid_t pid = fork();
        if (pid < 0) rc = RT_FAIL(e, RT_EIO, "fork: %s", strerror(errno));
        if (pid != 0) continue;
        close(res[0]);
        if (w < 0) {
            close(q[0]);
            close(res[1]);
            feed_queue(q[1], order, r->n_combos);
        }
        close(q[1]);
        worker_main(r, q[0], res[1], out_dir);
    }
    close(q[0]);
    close(q[1]);
    return rc;
}

static rt_err run_workers(runner *r, int jobs, int progress, const char *out_dir, mx_result *results,
                          rt_error *e) {
    int *order = calloc((size_t)r->n_combos, sizeof *order);
    if (order == NULL) return RT_FAIL(e, RT_ENOMEM, "out of memory");
    rt_err rc = runner_queue_order(r, order, e);
    int fds[2];
    if (rc == RT_OK && pipe(fds) != 0) rc = RT_FAIL(e, RT_EIO, "pipe: %s", strerror(errno));
    if (rc == RT_OK) {
        rc = start_children(r, jobs, out_dir, fds, order, e);
        close(fds[1]);
        if (rc != RT_OK) close(fds[0]);
    }
    free(order);
    if (rc != RT_OK) return rc;
    int got = 0;
    worker_msg msg;
    FILE *in = fdopen(fds[0], "r");
    while (in && fread(&msg, sizeof msg, 1, in) == 1) {
        if (msg.i < 0 || msg.i >= r->n_combos) break;
        results[msg.i] = msg.res;
        got++;
        if (progress) progress_line(r, msg.i, got, &msg.res);
    }
    if (in) fclose(in);
    int status, failed = 0;
    while (wait(&status) > 0)
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
    if (got != r->n_combos || failed)
        return RT_FAIL(e, RT_EINTERNAL, "workers returned %d of %d results", got, r->n_combos);
    return RT_OK;
}

rt_err runner_run(runner *r, int jobs, int progress, const char *out_dir, mx_result *results,
                  rt_error *e) {
    if (jobs > 1 && r->n_combos > 1) return run_workers(r, jobs, progress, out_dir, results, e);
    const drv_flink_opts *given = r->flink;
    drv_flink_opts fo;
    lane_pool_begin(r, &fo);
    for (int i = 0; i < r->n_combos; i++) {
        run_one(r, i, out_dir, &results[i]);
        if (progress) progress_line(r, i, i + 1, &results[i]);
    }
    lane_pool_end(r, &fo);
    r->flink = given;
    return RT_OK;
}
