/* drv_flink: scenarios on real Flink through the conformance runner (see
 * drv_flink.h and conformance/README.md for the runner's command line).
 *
 * A scenario's steps map onto runner commands:
 *   start, run...        remembered; the job runs inside the next `take`
 *   snapshot/savepoint/stop
 *                        `take` on the start step's release: the job emits
 *                        the records so far, takes that kind of snapshot and
 *                        is cancelled (stop: stop-with-savepoint); snapshot
 *                        steps with only runs between them are one take
 *                        with a cut per snapshot (`--records 250,280,310`)
 *   relocate             the snapshot directory moves inside the run's
 *                        sandbox; remove_original deletes the job's
 *                        checkpoint storage
 *   restore, run...      remembered; the restored job runs inside `check`,
 *                        or inside the next snapshot step: `take --from` the
 *                        restored snapshot (rescaling 2 -> 3 -> 1, chains of
 *                        restores in one mode)
 *   check                `restore` on the restore step's release: runs every
 *                        split to the total offset, the runner's oracle
 *                        compares each key's state with the fold of all
 *                        records (exactly-once). "ownership": the restored
 *                        job, held at the end of its input, checkpoints
 *                        (`--ownership true`) and the runner reports which
 *                        files it reuses and which are gone; judged here by
 *                        the model's rules (check_ownership in
 *                        drv_scenario.c). A later check of the same job
 *                        restores the same snapshot again and runs it to
 *                        the new total (the lane's jobs end at a check)
 * Records: the model counts records over all splits; the runner counts
 * offsets per split, so N model records are N / splits per split.
 *
 * This is the one part of the driver that reads a clock (the JVM's time
 * bound): the real lane is not deterministic, and nothing it does feeds a
 * digest. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drv_internal.h"
#include "rt_storage.h"


#define FL_SPLITS 4          /* the runner's --splits default, as the model's default job */
#define FL_MAX_ARGS 48
#define FL_OUT_MAX (1u << 20) /* a runner answer is one JSON line; more is a broken runner */
#define FL_GRACE_S 30        /* beyond the runner's own bound, before the kill */
#define FL_MAX_HOLDS 8       /* checkpoints a restored job holds for (checks and failovers) */
#define FL_TASK_FAILOVER 1   /* a task fails: the job restarts from its latest checkpoint */
#define FL_JM_FAILOVER 2     /* the JobManager fails: a new one recovers the job from the HA store */

void drv_flink_defaults(drv_flink_opts *o) {
    o->runners_dir = "conformance/target";
    o->default_release = "1.20.3";
    o->java = "java";
    o->timeout_s = 180;
}

rt_err drv_flink_runner(const drv_flink_opts *o, const char *release, char *jar, size_t cap,
                        rt_error *e) {
    int n = snprintf(jar, cap, "%s/runner-%s.jar", o->runners_dir, release);
    if (n < 0 || (size_t)n >= cap) return RT_FAIL(e, RT_EUSAGE, "runner path too long for %s", release);
    if (access(jar, R_OK) == 0) return RT_OK;
    char failed[600];
    snprintf(failed, sizeof failed, "%s/runner-%s.FAILED", o->runners_dir, release);
    if (access(failed, R_OK) == 0)
        return RT_FAIL(e, RT_EVERSION, "no runner for Flink %s: its build failed (see %s)", release, failed);
    return RT_FAIL(e, RT_ENOENT, "no runner for Flink %s: build it with conformance/build.sh %s", release,
                   release);
}

/* ---- one scenario run ---- */

typedef struct fl_job {
    char release[24];
    char backend[16];  /* the runner's names: hashmap|rocksdb */
    int incremental;
    int parallelism;   /* 0: the runner's default */
    char variant[32];  /* the runner's job variant */
    long memory_threshold; /* state.storage.fs.memory-threshold; -1: the release's default */
    long retained;     /* retained checkpoints; 0: the release's default */
} fl_job;

typedef struct fl_snap {
    char name[32];
    char path[1024];     /* sandbox-relative directory holding _metadata */
    char take_info[1024]; /* absolute path of the take's take.json */
    char take_dir[32];    /* sandbox-relative work directory of the take ("take-N") */
    uint64_t offset;      /* per split: records the job had emitted at the snapshot step */
} fl_snap;

typedef struct fl_ctx {
    const drv_scn *s;
    const drv_scn_env *env;
    const drv_flink_opts *o;
    sim_kind kind;
    const char *backend;
    const char *from, *to;
    uint64_t seed;
    char root[400];   /* this run's directory (absolute) */
    rt_store *box;    /* the same directory as a sandboxed store */
    size_t step;
    int jvm_steps;
    fl_job job;       /* the job started (or restored) last */
    uint64_t offset;  /* per split: records emitted so far by the job's lineage */
    int taken;        /* the started job took its snapshot (and was cancelled) */
    int restoring;    /* a restore step is pending its check */
    int checked;      /* the restored job was checked: a later check restores it again */
    uint64_t failovers[FL_MAX_HOLDS]; /* offsets of the restored job's failovers before its check */
    int failover_kind[FL_MAX_HOLDS];  /* FL_TASK_FAILOVER or FL_JM_FAILOVER */
    int n_failovers;
    fl_snap snaps[8];
    int n_snaps;
    fl_snap *restore_from;
    char mode[16];
    int allow_non_restored;
    char first_backend[16], first_release[24];
    drv_scn_result *res;
} fl_ctx;

static rt_err fl_usage(fl_ctx *c, rt_error *e, const char *msg) {
    return RT_FAIL(e, RT_EINPUT, "%s: step %zu: %s", drv_scn_path(c->s), c->step + 1, msg);
}

/* The lane cannot perform this step: the whole scenario is skipped. */
static rt_err fl_skip(fl_ctx *c, rt_error *e, const char *what) {
    c->res->skipped = 1;
    return RT_FAIL(e, RT_ENOTIMPL, "step %zu: %s is not something the real-Flink lane can do", c->step + 1,
                   what);
}

/* How far a run step moves each split: the model counts records over all
 * splits, the runner offsets per split. */
static uint64_t fl_run_offsets(json_t *run) {
    return (uint64_t)json_integer_value(json_object_get(run, "records")) / FL_SPLITS;
}

static const char *fl_expand(fl_ctx *c, const char *v) { return drv_scn_expand(v, c->kind, c->backend, c->from, c->to); }

static const char *fl_field(fl_ctx *c, json_t *step, const char *key) {
    return fl_expand(c, json_string_value(json_object_get(step, key)));
}

/* The model's job graphs by name, and the runner's variant that has the
 * same semantics (conformance/README.md, "job variants"). */
static const char *runner_variant(const char *job_name) {
    static const char *const map[][2] = {
        {"default", "default"},        {"new-code", "new-code"},
        {"reshaped", "reshaped"},      {"schema-v2", "pojo-field-added"},
        {"types-changed", "types-changed"}, {"key-type-changed", "key-changed"},
        {"schema-type-changed", "incompatible"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], job_name) == 0) return map[i][1];
    return NULL;
}

/* Applies a start or restore step's fields to job. */
static rt_err fl_job_fields(fl_ctx *c, json_t *step, fl_job *job, rt_error *e) {
    const char *backend = fl_field(c, step, "backend");
    if (backend) {
        if (strcmp(backend, "heap") == 0) snprintf(job->backend, sizeof job->backend, "hashmap");
        else if (strcmp(backend, "rocksdb") == 0) snprintf(job->backend, sizeof job->backend, "rocksdb");
        else return fl_usage(c, e, "backend must be heap or rocksdb");
    }
    const char *engine = fl_field(c, step, "engine");
    if (engine) snprintf(job->release, sizeof job->release, "%s", engine);
    if (json_object_get(step, "rocksdb")) return fl_skip(c, e, "swapping the bundled RocksDB");
    json_t *inc = json_object_get(step, "incremental");
    if (inc) job->incremental = json_is_true(inc);
    json_t *par = json_object_get(step, "parallelism");
    if (par) job->parallelism = (int)json_integer_value(par);
    json_t *thr = json_object_get(step, "memory_threshold");
    if (thr) job->memory_threshold = (long)json_integer_value(thr);
    json_t *ret = json_object_get(step, "retained");
    if (ret) job->retained = (long)json_integer_value(ret);
    json_t *j = json_object_get(step, "job");
    if (j) {
        sim_job graph;
        rt_err rc;
        if (json_is_object(j)) {
            rc = sim_job_from_json(&graph, j, drv_scn_path(c->s), e);
        } else {
            char path[1100];
            snprintf(path, sizeof path, "%s/%s", drv_scn_base_dir(c->s), json_string_value(j));
            rc = sim_job_load(&graph, path, e);
        }
        if (rc != RT_OK) return rc;
        const char *v = runner_variant(graph.name);
        if (v == NULL) {
            char what[96];
            snprintf(what, sizeof what, "the job '%.40s' (no runner variant)", graph.name);
            return fl_skip(c, e, what);
        }
        snprintf(job->variant, sizeof job->variant, "%s", v);
    }
    return RT_OK;
}

/* ---- the JVM ---- */

/* One runner command in a fresh JVM: its stdout until it closes. */
static drv_fl_call one_shot(fl_ctx *c, const char *jar, const char *const *cmd, double deadline, const char *err_log,
                            char *buf, size_t cap, size_t *len, int *status, char *why, size_t why_cap) {
    const char *args[FL_MAX_ARGS + 4];
    int n = 0;
    args[n++] = c->o->java;
    args[n++] = "-jar";
    args[n++] = jar;
    for (int i = 0; cmd[i] != NULL; i++) args[n++] = cmd[i];
    args[n] = NULL;
    pid_t pid;
    int fd;
    if (drv_fl_spawn(c->o->java, args, err_log, &pid, NULL, &fd, why, why_cap) != 0) return DRV_FL_ERROR;
    int timed_out = drv_fl_read(fd, buf, cap, len, deadline, 0) != 0;
    close(fd);
    if (timed_out) kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
    buf[*len] = '\0';
    if (timed_out) return DRV_FL_TIMEOUT;
    if (WIFSIGNALED(*status)) return DRV_FL_DIED;
    /* The answer is the last line of stdout. */
    while (*len > 0 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r')) buf[--*len] = '\0';
    char *line = strrchr(buf, '\n');
    if (line != NULL) {
        *len = strlen(line + 1);
        memmove(buf, line + 1, *len + 1);
    }
    return DRV_FL_ANSWER;
}

/* Runs a runner command on release (a fresh JVM, or the pool's serving
 * JVM); *out receives its JSON answer (or NULL with *why filled: no
 * runner, killed, died, no JSON). */
static void run_jvm(fl_ctx *c, const char *release, const char *const *argv, json_t **out, char *why,
                    size_t why_cap) {
    *out = NULL;
    rt_error e;
    rt_error_clear(&e);
    char jar[1100];
    rt_err rc0 = drv_flink_runner(c->o, release, jar, sizeof jar, &e);
    if (rc0 != RT_OK) {
        /* Never built: the lane does not cover that release (skipped). A
         * build that failed (not served, does not compile): crashed. */
        if (rc0 == RT_ENOENT) c->res->skipped = 1;
        snprintf(why, why_cap, "%s", e.msg);
        return;
    }
    char timeout[16], log[1200], err_log[1200];
    snprintf(timeout, sizeof timeout, "%u", c->o->timeout_s);
    snprintf(log, sizeof log, "%s/step-%zu-%s.log", c->root, c->step + 1, argv[0]);
    snprintf(err_log, sizeof err_log, "%s/step-%zu-%s.stderr", c->root, c->step + 1, argv[0]);
    const char *cmd[FL_MAX_ARGS];
    int n = 0;
    for (int i = 0; argv[i] != NULL && n < FL_MAX_ARGS - 5; i++) cmd[n++] = argv[i];
    cmd[n++] = "--timeout-s";
    cmd[n++] = timeout;
    cmd[n++] = "--log";
    cmd[n++] = log;
    cmd[n] = NULL;
    char *buf = malloc(FL_OUT_MAX);
    if (buf == NULL) {
        snprintf(why, why_cap, "out of memory reading the runner");
        return;
    }
    size_t len = 0;
    int status = 0;
    double deadline = drv_fl_now() + c->o->timeout_s + FL_GRACE_S;
    char died_log[1200];
    snprintf(died_log, sizeof died_log, "%s", err_log);
    drv_fl_call r = c->o->pool ? drv_flink_pool_call(c->o->pool, c->o->java, jar, cmd, deadline, err_log, buf,
                                                     FL_OUT_MAX, &len, &status, died_log, sizeof died_log)
                               : one_shot(c, jar, cmd, deadline, err_log, buf, FL_OUT_MAX, &len, &status, died_log,
                                          sizeof died_log);
    c->jvm_steps++;
    if (r == DRV_FL_ERROR) {
        snprintf(why, why_cap, "%s", died_log);
    } else if (r == DRV_FL_TIMEOUT) {
        snprintf(why, why_cap, "Flink %s: the runner did not finish within %u s and was killed (log: %s)", release,
                 c->o->timeout_s + FL_GRACE_S, log);
    } else if (r == DRV_FL_DIED && WIFSIGNALED(status)) {
        snprintf(why, why_cap, "Flink %s: the JVM died of signal %d (log: %.500s)", release, WTERMSIG(status), log);
    } else {
        json_error_t je;
        *out = r == DRV_FL_ANSWER ? json_loads(buf, 0, &je) : NULL;
        if (*out == NULL || !json_is_object(*out) || !json_is_string(json_object_get(*out, "outcome"))) {
            json_decref(*out);
            *out = NULL;
            snprintf(why, why_cap, "Flink %s: the runner exited %d without a JSON answer (see %.500s)", release,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, died_log);
        } else {
            /* the answer beside the step's logs: the evidence of its result */
            char answer[1200];
            snprintf(answer, sizeof answer, "%s/step-%zu-%s.json", c->root, c->step + 1, argv[0]);
            if (json_dump_file(*out, answer, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
                fprintf(stderr, "snapsim: warning: cannot write %s\n", answer);
        }
    }
    /* a failed command never shares its JVM with the next one */
    const char *o = *out ? json_string_value(json_object_get(*out, "outcome")) : NULL;
    if (c->o->pool && (o == NULL || strcmp(o, "works") != 0)) drv_flink_pool_drop(c->o->pool, jar);
    free(buf);
}

/* A runner answer that is not `works` ends the scenario with it. */
static rt_err judge(fl_ctx *c, const char *release, json_t *ans, const char *why, rt_error *e) {
    if (ans == NULL && c->res->skipped) return RT_FAIL(e, RT_ENOTIMPL, "%s", why);
    if (ans == NULL) {
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
        return RT_FAIL(e, RT_EINTERNAL, "%s", why);
    }
    const char *o = json_string_value(json_object_get(ans, "outcome"));
    if (strcmp(o, "works") == 0) return RT_OK;
    const char *ex = json_string_value(json_object_get(ans, "exception"));
    const char *msg = json_string_value(json_object_get(ans, "message"));
    const char *reason = json_string_value(json_object_get(ans, "reason"));
    if (strcmp(o, "usage") == 0) {
        /* We drove the runner wrong: a bug of this executor, not a result. */
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
        return RT_FAIL(e, RT_EINTERNAL, "Flink %s runner refused its arguments: %s", release, reason ? reason : "?");
    }
    if (strcmp(o, "rejected") == 0 || strcmp(o, "corrupted") == 0 || strcmp(o, "crashed") == 0)
        snprintf(c->res->outcome, sizeof c->res->outcome, "%s", o);
    else
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
    if (ex || msg)
        return RT_FAIL(e, strcmp(o, "rejected") == 0 ? RT_EVERSION : RT_EINTERNAL, "Flink %s: %s: %s", release,
                       ex ? ex : "error", msg ? msg : (reason ? reason : ""));
    return RT_FAIL(e, RT_EINTERNAL, "Flink %s: %s", release, reason ? reason : o);
}

/* ---- steps ---- */

static fl_snap *fl_find(fl_ctx *c, const char *name) {
    for (int i = 0; i < c->n_snaps; i++)
        if (strcmp(c->snaps[i].name, name) == 0) return &c->snaps[i];
    return NULL;
}

/* The snapshot a step names ("snapshot", default "last"). */
static rt_err fl_named(fl_ctx *c, json_t *step, fl_snap **sn, rt_error *e) {
    const char *name = json_string_value(json_object_get(step, "snapshot"));
    *sn = fl_find(c, name ? name : "last");
    return *sn ? RT_OK : fl_usage(c, e, "no snapshot of that name was taken before");
}

/* One runner command on the job's release, judged; *ans (the caller
 * frees it) is its answer or NULL. */
static rt_err fl_ask(fl_ctx *c, const char *const *argv, json_t **ans, rt_error *e) {
    char why[1400];
    run_jvm(c, c->job.release, argv, ans, why, sizeof why);
    return judge(c, c->job.release, *ans, why, e);
}

static rt_err fl_start(fl_ctx *c, json_t *step, rt_error *e) {
    memset(&c->job, 0, sizeof c->job);
    snprintf(c->job.release, sizeof c->job.release, "%s", c->o->default_release);
    snprintf(c->job.variant, sizeof c->job.variant, "default");
    c->job.memory_threshold = -1;
    rt_err rc = fl_job_fields(c, step, &c->job, e);
    if (rc != RT_OK) return rc;
    if (c->job.backend[0] == '\0') return fl_usage(c, e, "start needs a backend");
    snprintf(c->first_backend, sizeof c->first_backend, "%s", c->job.backend);
    snprintf(c->first_release, sizeof c->first_release, "%s", c->job.release);
    c->offset = 0;
    c->taken = 0;
    return RT_OK;
}

#define FL_MAX_CUTS 8

/* One snapshot of a take: the step that asked for it, the job's offset per
 * split then, and its name. */
typedef struct fl_cut {
    size_t step;
    uint64_t offset;
    const char *name;
} fl_cut;

/* Checks that a take answered a snapshot directory inside the run's root
 * and records it as snapshot sn (path relative to the root). */
static rt_err fl_add_snap(fl_ctx *c, const fl_cut *cut, const char *path, const char *work, const char *info,
                          const char *take_dir, rt_error *e) {
    size_t rl = strlen(c->root);
    if (path == NULL || strncmp(path, c->root, rl) != 0 || path[rl] != '/') {
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
        return RT_FAIL(e, RT_EINTERNAL, "Flink %s: take answered no snapshot path inside %s", c->job.release, c->root);
    }
    if (c->n_snaps == (int)(sizeof c->snaps / sizeof c->snaps[0])) return fl_usage(c, e, "too many snapshots");
    fl_snap *sn = &c->snaps[c->n_snaps++];
    memset(sn, 0, sizeof *sn);
    snprintf(sn->name, sizeof sn->name, "%s", cut->name ? cut->name : "last");
    snprintf(sn->take_dir, sizeof sn->take_dir, "%s", take_dir);
    snprintf(sn->path, sizeof sn->path, "%s", path + rl + 1);
    snprintf(sn->take_info, sizeof sn->take_info, "%.980s/%.30s", work, info);
    sn->offset = cut->offset;
    return RT_OK;
}

/* Appends "--key value" to a NULL-terminated argv of capacity cap. */
static void fl_arg(const char **argv, int cap, const char *key, const char *value) {
    int n = 0;
    while (argv[n] != NULL) n++;
    assert(n + 2 < cap);
    argv[n++] = key;
    argv[n++] = value;
    argv[n] = NULL;
}

/* One `take`: the job (fresh, or the restored one: --from) emits up to each
 * cut and snapshots there; then it is cancelled (stop: stopped with the
 * last savepoint). */
static rt_err fl_take(fl_ctx *c, const char *kind, int stop, const fl_cut *cuts, int n_cuts, rt_error *e) {
    assert(n_cuts >= 1);
    assert(n_cuts <= FL_MAX_CUTS);
    if (c->taken) return fl_skip(c, e, "a second snapshot of one job after a run");
    if (c->restoring && c->n_failovers > 0) return fl_skip(c, e, "a failover before a restored job's snapshot");
    char take_dir[32];
    snprintf(take_dir, sizeof take_dir, "take-%zu", cuts[0].step + 1);
    char work[1100], records[FL_MAX_CUTS * 24], seed[24], par[16], thr[24], ret[24];
    snprintf(work, sizeof work, "%s/%s", c->root, take_dir);
    size_t used = 0;
    for (int i = 0; i < n_cuts; i++)
        used += (size_t)snprintf(records + used, sizeof records - used, "%s%" PRIu64, i ? "," : "", cuts[i].offset);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(par, sizeof par, "%d", c->job.parallelism ? c->job.parallelism : 2);
    snprintf(thr, sizeof thr, "%ld", c->job.memory_threshold);
    snprintf(ret, sizeof ret, "%ld", c->job.retained);
    char from[1100];
    const char *argv[40] = {"take", "--backend", c->job.backend, "--incremental", c->job.incremental ? "true" : "false",
                            "--kind", kind, "--records", records, "--seed", seed, "--work", work,
                            "--job", c->job.variant, "--parallelism", par, "--stop", stop ? "true" : "false", NULL};
    if (c->job.memory_threshold >= 0) fl_arg(argv, 40, "--inline-threshold", thr);
    if (c->job.retained > 0) fl_arg(argv, 40, "--retained", ret);
    if (c->restoring) {
        /* The restored job runs until its own snapshot (take --from). */
        snprintf(from, sizeof from, "%s/%.600s", c->root, c->restore_from->path);
        fl_arg(argv, 40, "--from", from);
        fl_arg(argv, 40, "--mode", c->mode);
        fl_arg(argv, 40, "--allow-non-restored-state", c->allow_non_restored ? "true" : "false");
        c->restoring = 0;
    }
    json_t *ans;
    rt_err rc = fl_ask(c, argv, &ans, e);
    json_t *snaps = ans ? json_object_get(ans, "snapshots") : NULL;
    if (rc == RT_OK && n_cuts > 1 && json_array_size(snaps) != (size_t)n_cuts) {
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
        rc = RT_FAIL(e, RT_EINTERNAL, "Flink %s: take answered %zu snapshots for %d cuts", c->job.release,
                     json_array_size(snaps), n_cuts);
    }
    for (int i = 0; rc == RT_OK && i < n_cuts; i++) {
        json_t *one = n_cuts > 1 ? json_array_get(snaps, (size_t)i) : ans;
        char info[32];
        if (n_cuts > 1) snprintf(info, sizeof info, "take-%d.json", i + 1);
        else snprintf(info, sizeof info, "take.json");
        rc = fl_add_snap(c, &cuts[i], json_string_value(json_object_get(one, "path")), work, info, take_dir, e);
    }
    if (rc == RT_OK) {
        c->taken = 1;
        c->step = cuts[n_cuts - 1].step;
        c->offset = cuts[n_cuts - 1].offset;
    }
    json_decref(ans);
    return rc;
}

static int fl_step_kind(fl_ctx *c, json_t *step, sim_kind *kind) {
    const char *k = fl_field(c, step, "kind");
    *kind = c->kind;
    return k && sim_kind_parse(k, kind) != 0 ? -1 : 0;
}

/* A snapshot step and the snapshot steps of the same kind that follow it
 * with only runs between them: one take with a cut each. */
static rt_err fl_snapshot(fl_ctx *c, json_t *step, rt_error *e) {
    sim_kind kind;
    if (fl_step_kind(c, step, &kind) != 0) return fl_usage(c, e, "unknown snapshot kind");
    fl_cut cuts[FL_MAX_CUTS];
    int n = 0;
    cuts[n++] = (fl_cut){c->step, c->offset, json_string_value(json_object_get(step, "name"))};
    json_t *steps = drv_scn_steps(c->s);
    uint64_t offset = c->offset;
    for (size_t i = c->step + 1; i < json_array_size(steps) && n < FL_MAX_CUTS; i++) {
        json_t *next = json_array_get(steps, i);
        const char *op = json_string_value(json_object_get(next, "op"));
        if (strcmp(op, "run") == 0) {
            offset += fl_run_offsets(next);
            continue;
        }
        sim_kind k2;
        if (strcmp(op, "snapshot") != 0 || fl_step_kind(c, next, &k2) != 0 || k2 != kind) break;
        if (offset == cuts[n - 1].offset) break; /* no records between: the runner's cuts ascend */
        cuts[n++] = (fl_cut){i, offset, json_string_value(json_object_get(next, "name"))};
    }
    return fl_take(c, sim_kind_name(kind), 0, cuts, n, e);
}

static rt_err fl_savepoint(fl_ctx *c, json_t *step, int stop, rt_error *e) {
    json_t *req = json_object_get(step, "request");
    const char *format = fl_expand(c, json_string_value(json_object_get(req, "formatType")));
    int cancel = json_is_true(json_object_get(req, stop ? "drain" : "cancel-job"));
    if (stop && cancel) return fl_skip(c, e, "stop with drain");
    const char *kind = "canonical"; /* SavepointFormatType.DEFAULT in every release */
    if (format && (strcmp(format, "NATIVE") == 0 || strcmp(format, "native") == 0)) kind = "native";
    fl_cut cut = {c->step, c->offset, json_string_value(json_object_get(step, "name"))};
    return fl_take(c, kind, stop || cancel, &cut, 1, e);
}

static rt_err fl_relocate(fl_ctx *c, json_t *step, rt_error *e) {
    fl_snap *sn;
    rt_err rc = fl_named(c, step, &sn, e);
    if (rc != RT_OK) return rc;
    const char *to = fl_field(c, step, "to");
    const char *base = strrchr(sn->path, '/');
    char dst[1100];
    snprintf(dst, sizeof dst, "%s/%s", to ? to : "relocated", base ? base + 1 : sn->path);
    rc = rt_store_rename(c->box, sn->path, dst, e);
    if (rc != RT_OK) return rc;
    snprintf(sn->path, sizeof sn->path, "%.1000s", dst);
    if (json_is_true(json_object_get(step, "remove_original"))) {
        char storage[1100];
        snprintf(storage, sizeof storage, "%s/checkpoints", sn->take_dir);
        rc = rt_store_delete_tree(c->box, storage, e);
    }
    return rc;
}

static rt_err fl_restore(fl_ctx *c, json_t *step, rt_error *e) {
    if (c->restoring) return fl_skip(c, e, "a second restore before a check");
    rt_err rc = fl_named(c, step, &c->restore_from, e);
    if (rc == RT_OK) rc = fl_job_fields(c, step, &c->job, e);
    if (rc != RT_OK) return rc;
    const char *mode = fl_field(c, step, "mode");
    if (mode == NULL || strcmp(mode, "no-claim") == 0 || strcmp(mode, "no_claim") == 0)
        snprintf(c->mode, sizeof c->mode, "no_claim");
    else if (strcmp(mode, "claim") == 0 || strcmp(mode, "legacy") == 0)
        snprintf(c->mode, sizeof c->mode, "%s", mode);
    else
        return fl_usage(c, e, "mode must be claim, no-claim or legacy");
    c->allow_non_restored = json_is_true(json_object_get(step, "allow_non_restored_state"));
    c->restoring = 1;
    c->checked = 0;
    c->n_failovers = 0;
    c->offset = c->restore_from->offset; /* the restored sources go on from the snapshot */
    c->taken = 0; /* a new job: it may take its own snapshot */
    return RT_OK;
}

/* FLIP-193's promises on what the runner saw at one of the restored job's
 * own checkpoints, by the model's rules (check_ownership in drv_scenario.c):
 * every file of that checkpoint exists; a NO_CLAIM or LEGACY restore
 * deleted no file of the snapshot; a NO_CLAIM job's checkpoint shares no
 * file with it. NULL when the facts keep them; else what broke, with the
 * file in *file. */
static const char *fl_broken_promise(const fl_ctx *c, json_t *facts, const char **file) {
    json_t *missing = json_object_get(facts, "checkpoint_missing");
    json_t *gone = json_object_get(facts, "restored_missing");
    json_t *reused = json_object_get(facts, "checkpoint_reuses_restored");
    const char *why = NULL;
    json_t *which = NULL;
    if (json_array_size(missing) > 0) {
        why = "a retained checkpoint references a file that no longer exists";
        which = missing;
    } else if (strcmp(c->mode, "claim") != 0 && json_array_size(gone) > 0) {
        why = "the restore deleted a file of the snapshot it does not own";
        which = gone;
    } else if (strcmp(c->mode, "no_claim") == 0 && json_array_size(reused) > 0) {
        why = "a checkpoint after a no-claim restore references a file of the restored snapshot";
        which = reused;
    }
    *file = which ? json_string_value(json_array_get(which, 0)) : NULL;
    return why;
}

static int fl_has_facts(json_t *facts) {
    return json_is_array(json_object_get(facts, "checkpoint_missing")) &&
           json_is_array(json_object_get(facts, "restored_missing")) &&
           json_is_array(json_object_get(facts, "checkpoint_reuses_restored"));
}

/* The held checkpoints in order (n_holds asked): the first broken promise
 * makes the restore corrupted, whatever the job did after it (a restart
 * from that checkpoint failing is its consequence, named after it). A job
 * that ended before a hold answers fewer holds: its own outcome follows. */
static rt_err fl_judge_holds(fl_ctx *c, json_t *ans, int n_holds, rt_error *e) {
    json_t *holds = json_object_get(ans, "holds");
    const char *o = json_string_value(json_object_get(ans, "outcome"));
    int works = o != NULL && strcmp(o, "works") == 0;
    if (!json_is_array(holds) || (works && (int)json_array_size(holds) != n_holds)) {
        snprintf(c->res->outcome, sizeof c->res->outcome, "crashed");
        return RT_FAIL(e, RT_EINTERNAL, "Flink %s: the restore answered no ownership facts", c->job.release);
    }
    for (size_t i = 0; i < json_array_size(holds); i++) {
        json_t *h = json_array_get(holds, i);
        if (!fl_has_facts(h)) break; /* the job ended before this hold */
        const char *file = NULL;
        const char *why = fl_broken_promise(c, h, &file);
        if (why == NULL) continue;
        const char *ex = json_string_value(json_object_get(ans, "exception"));
        const char *msg = json_string_value(json_object_get(ans, "message"));
        char then[400] = "";
        if (!works && ex)
            snprintf(then, sizeof then, "; the job then failed: %.100s: %.240s", ex, msg ? msg : "");
        snprintf(c->res->outcome, sizeof c->res->outcome, "corrupted");
        return RT_FAIL(e, RT_ECORRUPT, "Flink %s, %s restore, checkpoint %zu of %d%s: %s (%s)%s", c->job.release,
                       c->mode, i + 1, n_holds, json_is_true(json_object_get(h, "jm_failover"))   ? " (then a JobManager failover)"
                       : json_is_true(json_object_get(h, "failover")) ? " (then a failover)"
                                                                      : "",
                       why, file ? file : "?", then);
    }
    return RT_OK;
}

/* What the restored job does until its last check: the held checkpoints
 * (a check with "ownership" and every failover), the failovers after them,
 * and the offset it runs to. */
typedef struct fl_plan {
    uint64_t hold[FL_MAX_HOLDS];
    int failover[FL_MAX_HOLDS];
    int n;
    uint64_t until;
    size_t last_step; /* the last check this one job covers */
} fl_plan;

static rt_err fl_plan_hold(fl_ctx *c, fl_plan *p, uint64_t at, int failover, rt_error *e) {
    if (p->n > 0 && p->hold[p->n - 1] == at) {
        /* no record between: one checkpoint serves both (a failover after a
         * check at the same offset; a check right after a failover looks at
         * the checkpoint the job restarted from) */
        p->failover[p->n - 1] |= failover;
        return RT_OK;
    }
    if (p->n == FL_MAX_HOLDS) return fl_usage(c, e, "more checks and failovers of one restored job than the lane holds");
    if (at == 0) return fl_usage(c, e, "a failover or ownership check before the restored job ran any record");
    p->hold[p->n] = at;
    p->failover[p->n++] = failover;
    return RT_OK;
}

/* The check at step c->step of a restored job, and the run/check/failover
 * steps after it up to its last check: one restored job in one JVM, as the
 * model runs it (a failover restarts it from its latest checkpoint). */
static rt_err fl_plan_job(fl_ctx *c, json_t *step, fl_plan *p, rt_error *e) {
    memset(p, 0, sizeof *p);
    rt_err rc = RT_OK;
    for (int i = 0; rc == RT_OK && i < c->n_failovers; i++)
        rc = fl_plan_hold(c, p, c->failovers[i], c->failover_kind[i], e);
    if (rc == RT_OK && json_is_true(json_object_get(step, "ownership"))) rc = fl_plan_hold(c, p, c->offset, 0, e);
    p->until = c->offset;
    p->last_step = c->step;
    if (!c->restoring) return rc; /* a check of a checked job: as it was */
    json_t *steps = drv_scn_steps(c->s);
    uint64_t off = c->offset;
    fl_plan upto = *p;
    for (size_t j = c->step + 1; rc == RT_OK && j < json_array_size(steps); j++) {
        json_t *st = json_array_get(steps, j);
        const char *op = json_string_value(json_object_get(st, "op"));
        if (strcmp(op, "run") == 0) {
            off += fl_run_offsets(st);
        } else if (strcmp(op, "failover") == 0) {
            rc = fl_plan_hold(c, p, off, FL_TASK_FAILOVER, e);
        } else if (strcmp(op, "coordinator_failover") == 0) {
            rc = fl_plan_hold(c, p, off, FL_JM_FAILOVER, e);
        } else if (strcmp(op, "check") == 0) {
            if (json_is_true(json_object_get(st, "ownership"))) rc = fl_plan_hold(c, p, off, 0, e);
            p->until = off;
            p->last_step = j;
            upto = *p;
        } else {
            break;
        }
    }
    if (rc == RT_OK) *p = upto; /* what comes after the last check is not this job's */
    return rc;
}

/* Appends "a,b,c" of the plan's hold offsets (kind 0) or of the numbers
 * (from 1) of the holds after which a failover of that kind comes, to buf;
 * 0 when there is none. */
static int fl_plan_list(const fl_plan *p, int failovers, char *buf, size_t cap) {
    size_t used = 0;
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n; i++) {
        if (failovers && !(p->failover[i] & failovers)) continue;
        uint64_t v = failovers ? (uint64_t)i + 1 : p->hold[i];
        int w = snprintf(buf + used, cap - used, "%s%" PRIu64, n ? "," : "", v);
        assert(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
        n++;
    }
    return n;
}

static rt_err fl_check(fl_ctx *c, json_t *step, rt_error *e) {
    if (!c->restoring && !c->checked) return fl_skip(c, e, "a check of a job that was not restored");
    fl_plan plan;
    rt_err rc = fl_plan_job(c, step, &plan, e);
    if (rc != RT_OK) return rc;
    char path[1100], work[1100], until[24], seed[24], par[16], thr[24], holds[FL_MAX_HOLDS * 24], fails[64];
    snprintf(path, sizeof path, "%s/%.600s", c->root, c->restore_from->path);
    snprintf(work, sizeof work, "%s/restore-%zu", c->root, c->step + 1);
    snprintf(until, sizeof until, "%" PRIu64, plan.until);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    snprintf(par, sizeof par, "%d", c->job.parallelism ? c->job.parallelism : 2);
    snprintf(thr, sizeof thr, "%ld", c->job.memory_threshold);
    const char *argv[40] = {"restore", "--path", path, "--backend", c->job.backend, "--incremental",
                            c->job.incremental ? "true" : "false", "--mode", c->mode, "--records-until", until,
                            "--seed", seed, "--work", work, "--job", c->job.variant, "--parallelism", par,
                            "--allow-non-restored-state", c->allow_non_restored ? "true" : "false", NULL};
    /* A savepoint the State Processor API wrote has no take frontier. */
    if (c->restore_from->take_info[0] != '\0') fl_arg(argv, 40, "--take-info", c->restore_from->take_info);
    if (c->job.memory_threshold >= 0) fl_arg(argv, 40, "--inline-threshold", thr);
    if (fl_plan_list(&plan, 0, holds, sizeof holds) > 0) fl_arg(argv, 40, "--holds", holds);
    if (fl_plan_list(&plan, FL_TASK_FAILOVER, fails, sizeof fails) > 0) fl_arg(argv, 40, "--failover-after", fails);
    char jm_fails[200];
    if (fl_plan_list(&plan, FL_JM_FAILOVER, jm_fails, sizeof jm_fails) > 0)
        fl_arg(argv, 40, "--jm-failover-after", jm_fails);
    json_t *ans;
    char why[1400];
    run_jvm(c, c->job.release, argv, &ans, why, sizeof why);
    rc = ans != NULL && plan.n > 0 ? fl_judge_holds(c, ans, plan.n, e) : RT_OK;
    if (rc == RT_OK) rc = judge(c, c->job.release, ans, why, e);
    json_decref(ans);
    c->restoring = 0;
    c->checked = 1;
    c->n_failovers = 0;
    c->offset = plan.until;
    c->step = plan.last_step;
    return rc;
}

/* A failover of the restored job before its check: a checkpoint, then a
 * task failure, performed in the check's JVM (fl_plan_job). Elsewhere the
 * lane has no running job to fail. */
static rt_err fl_failover(fl_ctx *c, int kind, rt_error *e) {
    if (!c->restoring)
        return fl_skip(c, e, kind == FL_JM_FAILOVER ? "a JobManager failover of a job that is not a restored one"
                                                    : "a failover of a job that is not a restored one");
    if (c->n_failovers == FL_MAX_HOLDS) return fl_usage(c, e, "too many failovers before a check");
    c->failover_kind[c->n_failovers] = kind;
    c->failovers[c->n_failovers++] = c->offset;
    return RT_OK;
}

/* The State Processor API runs on the job's release; a release Maven
 * Central serves without flink-state-processor-api (its runner was built
 * with a .NOSPA marker) cannot run the step: skipped, not rejected. */
static rt_err fl_spa_available(fl_ctx *c, rt_error *e) {
    char nospa[600];
    snprintf(nospa, sizeof nospa, "%s/runner-%s.NOSPA", c->o->runners_dir, c->job.release);
    if (access(nospa, R_OK) != 0) return RT_OK;
    char what[96];
    snprintf(what, sizeof what, "the State Processor API on Flink %.24s (not on Maven Central)", c->job.release);
    return fl_skip(c, e, what);
}

/* spa_read: SavepointReader over the snapshot; the runner's oracle checks
 * agg's state against the fold at the snapshot's source offsets (the take's
 * frontier for an unaligned checkpoint, whose in-flight records the reader
 * does not see). */
static rt_err fl_spa_read(fl_ctx *c, json_t *step, rt_error *e) {
    fl_snap *sn;
    rt_err rc = fl_named(c, step, &sn, e);
    if (rc == RT_OK) rc = fl_spa_available(c, e);
    if (rc != RT_OK) return rc;
    char path[1100], work[1100], seed[24];
    snprintf(path, sizeof path, "%s/%.600s", c->root, sn->path);
    snprintf(work, sizeof work, "%s/spa-read-%zu", c->root, c->step + 1);
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    const char *argv[16] = {"spa-read", "--path", path, "--seed", seed, "--work", work, "--backend", c->job.backend,
                            NULL};
    if (sn->take_info[0] != '\0') fl_arg(argv, 16, "--take-info", sn->take_info);
    json_t *ans;
    rc = fl_ask(c, argv, &ans, e);
    json_decref(ans);
    return rc;
}

/* spa_write: SavepointWriter.fromExistingSavepoint; "operators": ["agg"]
 * rewrites agg from what a reader read (removeOperator + withOperator),
 * none copies every operator. The new savepoint is a snapshot of the run,
 * named by "name", without a take's frontier (a restore's oracle reads the
 * offsets from it). */
static rt_err fl_spa_write(fl_ctx *c, json_t *step, rt_error *e) {
    fl_snap *sn;
    rt_err rc = fl_named(c, step, &sn, e);
    if (rc != RT_OK) return rc;
    if (c->n_snaps == (int)(sizeof c->snaps / sizeof c->snaps[0])) return fl_usage(c, e, "too many snapshots");
    json_t *ops = json_object_get(step, "operators");
    const char *op = "copy";
    for (size_t i = 0; i < json_array_size(ops); i++) {
        const char *uid = json_string_value(json_array_get(ops, i));
        if (uid == NULL || strcmp(uid, "agg") != 0) return fl_skip(c, e, "rewriting an operator other than agg");
        op = "rewrite-agg";
    }
    const char *format = fl_field(c, step, "format");
    if (format == NULL || strcmp(format, "CANONICAL") == 0) format = "canonical";
    else if (strcmp(format, "NATIVE") == 0) format = "native";
    rc = fl_spa_available(c, e);
    if (rc != RT_OK) return rc;
    fl_snap *out = &c->snaps[c->n_snaps];
    memset(out, 0, sizeof *out);
    const char *new_name = json_string_value(json_object_get(step, "name"));
    snprintf(out->name, sizeof out->name, "%s", new_name ? new_name : "last");
    snprintf(out->take_dir, sizeof out->take_dir, "spa-write-%zu", c->step + 1);
    snprintf(out->path, sizeof out->path, "spa-write-%zu/savepoint", c->step + 1);
    out->offset = sn->offset; /* it carries the source's offsets over from sn */
    char path[1100], dst[1100], work[1100];
    snprintf(path, sizeof path, "%s/%.600s", c->root, sn->path);
    snprintf(dst, sizeof dst, "%s/%.600s", c->root, out->path);
    snprintf(work, sizeof work, "%s/%s/work", c->root, out->take_dir);
    const char *argv[] = {"spa-write", "--path", path, "--out", dst, "--work", work, "--op", op,
                          "--format", format, "--backend", c->job.backend, NULL};
    json_t *ans;
    rc = fl_ask(c, argv, &ans, e);
    json_decref(ans);
    if (rc == RT_OK) c->n_snaps++;
    return rc;
}

static rt_err fl_step(fl_ctx *c, json_t *step, rt_error *e) {
    const char *op = json_string_value(json_object_get(step, "op"));
    if (strcmp(op, "start") == 0) return fl_start(c, step, e);
    if (strcmp(op, "run") == 0) {
        c->offset += fl_run_offsets(step);
        return RT_OK;
    }
    if (strcmp(op, "snapshot") == 0) return fl_snapshot(c, step, e);
    if (strcmp(op, "savepoint") == 0) return fl_savepoint(c, step, 0, e);
    if (strcmp(op, "stop") == 0) return fl_savepoint(c, step, 1, e);
    if (strcmp(op, "relocate") == 0) return fl_relocate(c, step, e);
    if (strcmp(op, "restore") == 0) return fl_restore(c, step, e);
    if (strcmp(op, "check") == 0) return fl_check(c, step, e);
    if (strcmp(op, "spa_read") == 0) return fl_spa_read(c, step, e);
    if (strcmp(op, "spa_write") == 0) return fl_spa_write(c, step, e);
    if (strcmp(op, "failover") == 0) return fl_failover(c, FL_TASK_FAILOVER, e);
    /* the model's coordinator failover (the coordinator's memory lost, the
     * store read back) is a JobManager failover under ZooKeeper HA here */
    if (strcmp(op, "coordinator_failover") == 0) return fl_failover(c, FL_JM_FAILOVER, e);
    return fl_skip(c, e, op); /* faults, damage */
}

/* Before any JVM starts: a step the lane cannot perform at all skips the
 * scenario at once (a failover, faults, a RocksDB swap, a job without a
 * runner variant, stop with drain), instead of after minutes of runs. */
static rt_err fl_prescan(fl_ctx *c, rt_error *e) {
    static const char *const ops[] = {"start",   "run",     "snapshot", "savepoint", "stop",
                                      "relocate", "restore", "check",    "spa_read",  "spa_write", "failover",
                                      "coordinator_failover"};
    json_t *steps = drv_scn_steps(c->s);
    for (c->step = 0; c->step < json_array_size(steps); c->step++) {
        json_t *step = json_array_get(steps, c->step);
        const char *op = json_string_value(json_object_get(step, "op"));
        int known = 0;
        for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++) known |= strcmp(op, ops[i]) == 0;
        if (!known) return fl_skip(c, e, op ? op : "a step without op");
        if (strcmp(op, "start") == 0 || strcmp(op, "restore") == 0) {
            fl_job scratch;
            memset(&scratch, 0, sizeof scratch);
            rt_err rc = fl_job_fields(c, step, &scratch, e);
            if (rc != RT_OK) return rc;
        }
        if (strcmp(op, "stop") == 0 && json_is_true(json_object_get(json_object_get(step, "request"), "drain")))
            return fl_skip(c, e, "stop with drain");
    }
    c->step = 0;
    return RT_OK;
}

static void fl_result_labels(fl_ctx *c) {
    drv_scn_result *res = c->res;
    snprintf(res->impl, sizeof res->impl, "flink");
    const char *first = strcmp(c->first_backend, "hashmap") == 0 ? "heap" : c->first_backend;
    const char *last = strcmp(c->job.backend, "hashmap") == 0 ? "heap" : c->job.backend;
    if (strcmp(first, last) != 0) snprintf(res->backend, sizeof res->backend, "%.14s->%.14s", first, last);
    else snprintf(res->backend, sizeof res->backend, "%s", first);
    if (strcmp(c->first_release, c->job.release) != 0)
        snprintf(res->versions, sizeof res->versions, "%.19s->%.19s", c->first_release, c->job.release);
    else
        snprintf(res->versions, sizeof res->versions, "%s", c->first_release);
}

rt_err drv_flink_run(const drv_scn *s, sim_kind kind, const char *backend, int variant, uint64_t seed,
                     const drv_scn_env *env, drv_scn_result *res, rt_error *e) {
    fl_ctx c;
    memset(&c, 0, sizeof c);
    memset(res, 0, sizeof *res);
    c.s = s;
    c.env = env;
    c.o = env->flink;
    c.kind = kind;
    c.backend = backend;
    c.seed = seed;
    c.res = res;
    rt_err rc = drv_scn_variant(s, variant, &c.from, &c.to, e);
    if (rc != RT_OK) return rc;
    int n = snprintf(c.root, sizeof c.root, "%s/flink-%s-%s-%s-v%d-%" PRIu64, env->work_dir ? env->work_dir : "/tmp",
                     drv_scn_name(s), sim_kind_name(kind), backend, variant, seed);
    if (n < 0 || (size_t)n >= sizeof c.root) return RT_FAIL(e, RT_EUSAGE, "work directory path too long");
    rc = rt_store_open_dir(&c.box, c.root, 1, e);
    if (rc != RT_OK) return rc;
    /* The runner answers absolute paths: compare them with an absolute root
     * (a relative --out would never match). */
    char real[PATH_MAX];
    if (realpath(c.root, real) == NULL || strlen(real) >= sizeof c.root) {
        rt_store_close(c.box);
        return RT_FAIL(e, RT_EUSAGE, "%s: cannot resolve the run directory", c.root);
    }
    memcpy(c.root, real, strlen(real) + 1); /* fits: checked above */
    snprintf(res->outcome, sizeof res->outcome, "works");
    rt_error err;
    rt_error_clear(&err);
    json_t *steps = drv_scn_steps(s);
    rc = fl_prescan(&c, &err);
    for (c.step = 0; rc == RT_OK && c.step < json_array_size(steps); c.step++)
        rc = fl_step(&c, json_array_get(steps, c.step), &err);
    if (rc == RT_OK && c.restoring) {
        /* A restore the scenario never checks: its verdict is the restore. */
        json_t *none = json_object();
        c.step--;
        rc = none ? fl_check(&c, none, &err) : RT_FAIL(&err, RT_ENOMEM, "out of memory");
        json_decref(none);
    }
    fl_result_labels(&c);
    rt_store_close(c.box);
    if (rc != RT_OK && rt_err_class_of(rc) == RT_CLASS_USAGE && !res->skipped) {
        *e = err; /* the scenario itself is wrong */
        return rc;
    }
    if (rc != RT_OK) {
        if (res->skipped) snprintf(res->outcome, sizeof res->outcome, "skipped");
        res->err = err;
    }
    return RT_OK;
}
