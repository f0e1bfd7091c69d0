/* drv_scenario: loading and interpreting scenario scripts (see drv_scenario.h).
 * The interpreter only sequences engine operations; every outcome comes
 * from the engine, the formats and the oracle, never from the script. */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_engine.h"
#include "sim_metadata.h"
#include "drv_internal.h"
#include "drv_scenario.h"
#include "drv_spa.h"

#define SCN_MAX_NAMES 8

struct drv_scn {
    char path[512];
    char base_dir[512]; /* job files are relative to the scenario's folder */
    char name[64];
    char row[48];
    json_t *root;
    json_t *steps;
    json_t *variants; /* array of {"from","to"} or NULL */
    json_t *backends; /* array of names or NULL */
    json_t *kinds;    /* array of snapshot kinds or NULL (all four) */
};

static rt_err step_error(const drv_scn *s, size_t i, rt_error *e, const char *msg) {
    return RT_FAIL(e, RT_EINPUT, "%s: step %zu: %s", s->path, i + 1, msg);
}

/* The fields each op takes: name, type ('s' string, 'b' true/false,
 * 'i' integer, 'o' object, 'a' array, 'j' a file name or an object) and
 * whether it is required. Every step may also carry "may_fail" and a
 * "comment". Checked when the file is loaded, before anything runs. */
typedef struct op_field {
    const char *name;
    char type;
    int required;
} op_field;
#define CONFIG_FIELDS                                                                                   \
    {"engine", 's', 0}, {"rocksdb", 's', 0}, {"job", 'j', 0}, {"parallelism", 'i', 0},                 \
        {"incremental", 'b', 0}, {"memory_threshold", 'i', 0}, {"max_concurrent_checkpoints", 'i', 0}, \
        {"checkpoint_interval", 'i', 0}, {"retained", 'i', 0}
static const struct op_fields {
    const char *op;
    op_field fields[20]; /* ends with a NULL name */
} op_fields[] = {
    {"start", {{"backend", 's', 1}, CONFIG_FIELDS, {NULL, 0, 0}}},
    {"run", {{"records", 'i', 1}, {NULL, 0, 0}}},
    {"snapshot", {{"kind", 's', 0}, {"name", 's', 0}, {NULL, 0, 0}}},
    {"savepoint", {{"request", 'o', 0}, {"name", 's', 0}, {NULL, 0, 0}}},
    {"stop", {{"request", 'o', 0}, {"name", 's', 0}, {NULL, 0, 0}}},
    {"relocate", {{"snapshot", 's', 0}, {"to", 's', 0}, {"remove_original", 'b', 0}, {NULL, 0, 0}}},
    {"restore",
     {{"snapshot", 's', 0}, {"mode", 's', 0}, {"allow_non_restored_state", 'b', 0}, {"backend", 's', 0},
      CONFIG_FIELDS, {NULL, 0, 0}}},
    {"failover", {{NULL, 0, 0}}},
    {"coordinator_failover", {{NULL, 0, 0}}},
    {"spa_read", {{"snapshot", 's', 0}, {NULL, 0, 0}}},
    {"spa_write",
     {{"snapshot", 's', 0}, {"name", 's', 0}, {"format", 's', 0}, {"operators", 'a', 0}, {NULL, 0, 0}}},
    {"corrupt", {{"snapshot", 's', 0}, {"how", 's', 0}, {NULL, 0, 0}}},
    {"fault", {{"plan", 'a', 1}, {NULL, 0, 0}}},
    {"check", {{"ownership", 'b', 0}, {"upload_cost", 'b', 0}, {NULL, 0, 0}}},
};

static int type_ok(char t, const json_t *v) {
    switch (t) {
    case 's': return json_is_string(v);
    case 'b': return json_is_boolean(v);
    case 'i': return json_is_integer(v);
    case 'o': return json_is_object(v);
    case 'a': return json_is_array(v);
    default: return json_is_string(v) || json_is_object(v);
    }
}

static const char *type_words(char t) {
    switch (t) {
    case 's': return "a string";
    case 'b': return "true or false";
    case 'i': return "an integer";
    case 'o': return "an object";
    case 'a': return "an array";
    default: return "a file name or an object";
    }
}

/* Field `key` of op f, or NULL. */
static const op_field *field_of(const struct op_fields *f, const char *key) {
    for (const op_field *d = f->fields; d->name; d++)
        if (strcmp(d->name, key) == 0) return d;
    return NULL;
}

static rt_err check_fields(const drv_scn *s, size_t i, json_t *step, const struct op_fields *f, rt_error *e) {
    char m[400];
    const char *key;
    json_t *v;
    json_object_foreach(step, key, v) {
        if (strcmp(key, "op") == 0 || strcmp(key, "may_fail") == 0 || strcmp(key, "comment") == 0) continue;
        const op_field *d = field_of(f, key);
        if (d == NULL) {
            size_t n = (size_t)snprintf(m, sizeof m, "\"%s\" takes no field \"%.60s\" (", f->op, key);
            for (const op_field *k = f->fields; k->name && n < sizeof m; k++)
                n += (size_t)snprintf(m + n, sizeof m - n, "%s%s", k == f->fields ? "" : ", ", k->name);
            if (n < sizeof m) snprintf(m + n, sizeof m - n, "%s)", f->fields[0].name ? "" : "none");
            return step_error(s, i, e, m);
        }
        if (!type_ok(d->type, v)) {
            snprintf(m, sizeof m, "\"%s\" must be %s", key, type_words(d->type));
            return step_error(s, i, e, m);
        }
    }
    for (const op_field *d = f->fields; d->name; d++)
        if (d->required && json_object_get(step, d->name) == NULL) {
            snprintf(m, sizeof m, "\"%s\" needs \"%s\"", f->op, d->name);
            return step_error(s, i, e, m);
        }
    return RT_OK;
}

static rt_err check_step(const drv_scn *s, size_t i, json_t *step, rt_error *e) {
    const char *op = json_string_value(json_object_get(step, "op"));
    if (!json_is_object(step) || op == NULL) return step_error(s, i, e, "each step needs an \"op\"");
    const struct op_fields *f = NULL;
    for (size_t k = 0; k < sizeof op_fields / sizeof op_fields[0]; k++)
        if (strcmp(op, op_fields[k].op) == 0) f = &op_fields[k];
    if (f == NULL) {
        char m[400];
        size_t n = (size_t)snprintf(m, sizeof m, "unknown op '%.60s' (known:", op);
        for (size_t k = 0; k < sizeof op_fields / sizeof op_fields[0] && n < sizeof m; k++)
            n += (size_t)snprintf(m + n, sizeof m - n, " %s", op_fields[k].op);
        if (n < sizeof m) snprintf(m + n, sizeof m - n, ")");
        return step_error(s, i, e, m);
    }
    if (i == 0 && strcmp(op, "start") != 0) return step_error(s, i, e, "the first step must be \"start\"");
    json_t *may = json_object_get(step, "may_fail");
    if (may && !json_is_boolean(may)) return step_error(s, i, e, "\"may_fail\" must be true or false");
    rt_err rc = check_fields(s, i, step, f, e);
    if (rc != RT_OK) return rc;
    json_t *rec = json_object_get(step, "records");
    if (rec && (!json_is_integer(rec) || json_integer_value(rec) < 0 || json_integer_value(rec) > 1000000))
        return step_error(s, i, e, "\"records\" must be an integer in 0..1000000");
    return RT_OK;
}

rt_err drv_scn_load(drv_scn **out, const char *path, rt_error *e) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) {
        if (je.line < 0) return RT_FAIL(e, RT_EINPUT, "%s: cannot read the scenario file", path);
        return RT_FAIL(e, RT_EINPUT, "%s: line %d: %s", path, je.line, je.text);
    }
    drv_scn *s = calloc(1, sizeof *s);
    if (s == NULL) {
        json_decref(root);
        return RT_FAIL(e, RT_ENOMEM, "scenario: out of memory");
    }
    s->root = root;
    snprintf(s->path, sizeof s->path, "%s", path);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(s->base_dir, sizeof s->base_dir, "%s", dirname(tmp));
    const char *name = NULL, *row = NULL, *desc = NULL;
    if (json_unpack_ex(root, &je, JSON_STRICT, "{s:s, s:s, s?:s, s?:o, s?:o, s?:o, s:o}", "name", &name, "row",
                       &row, "description", &desc, "variants", &s->variants, "backends", &s->backends, "kinds",
                       &s->kinds, "steps", &s->steps) != 0) {
        if (strstr(je.text, "left unpacked") != NULL)
            RT_FAIL(e, RT_EINPUT, "%s: unknown top-level field (%s; known: name, row, description, variants, backends, "
                                  "kinds, steps)", path, je.text);
        else
            RT_FAIL(e, RT_EINPUT, "%s: %s", path, je.text);
        drv_scn_free(s);
        return RT_EINPUT;
    }
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->row, sizeof s->row, "%s", row);
    rt_err rc = RT_OK;
    if (!json_is_array(s->steps) || json_array_size(s->steps) == 0 || json_array_size(s->steps) > 64)
        rc = RT_FAIL(e, RT_EINPUT, "%s: \"steps\" must be an array of 1..64 steps", path);
    if (rc == RT_OK && s->variants && (!json_is_array(s->variants) || json_array_size(s->variants) == 0))
        rc = RT_FAIL(e, RT_EINPUT, "%s: \"variants\" must be a non-empty array", path);
    for (size_t i = 0; rc == RT_OK && s->kinds && i < json_array_size(s->kinds); i++) {
        sim_kind k;
        const char *name_k = json_string_value(json_array_get(s->kinds, i));
        if (name_k == NULL || sim_kind_parse(name_k, &k) != 0)
            rc = RT_FAIL(e, RT_EINPUT, "%s: \"kinds\" lists snapshot kinds: canonical, native, aligned, unaligned", path);
    }
    if (rc == RT_OK && s->kinds && (!json_is_array(s->kinds) || json_array_size(s->kinds) == 0))
        rc = RT_FAIL(e, RT_EINPUT, "%s: \"kinds\" must be a non-empty array", path);
    for (size_t i = 0; rc == RT_OK && i < json_array_size(s->steps); i++)
        rc = check_step(s, i, json_array_get(s->steps, i), e);
    if (rc != RT_OK) {
        drv_scn_free(s);
        return rc;
    }
    *out = s;
    return RT_OK;
}

void drv_scn_free(drv_scn *s) {
    if (s == NULL) return;
    json_decref(s->root);
    free(s);
}

const char *drv_scn_name(const drv_scn *s) { return s->name; }
const char *drv_scn_path(const drv_scn *s) { return s->path; }
json_t *drv_scn_steps(const drv_scn *s) { return s->steps; }
const char *drv_scn_base_dir(const drv_scn *s) { return s->base_dir; }

rt_err drv_scn_variant(const drv_scn *s, int variant, const char **from, const char **to, rt_error *e) {
    *from = *to = NULL;
    if (s->variants == NULL) return RT_OK;
    json_t *v = json_array_get(s->variants, (size_t)variant);
    *from = json_string_value(json_object_get(v, "from"));
    *to = json_string_value(json_object_get(v, "to"));
    if (*from == NULL || *to == NULL)
        return RT_FAIL(e, RT_EINPUT, "%s: variant %d needs \"from\" and \"to\"", s->path, variant + 1);
    return RT_OK;
}
const char *drv_scn_row(const drv_scn *s) { return s->row; }
int drv_scn_variant_count(const drv_scn *s) { return s->variants ? (int)json_array_size(s->variants) : 1; }
int drv_scn_step_count(const drv_scn *s) { return (int)json_array_size(s->steps); }

int drv_scn_uses_incremental(const drv_scn *s) {
    size_t k;
    json_t *step;
    json_array_foreach(s->steps, k, step) if (json_is_true(json_object_get(step, "incremental"))) return 1;
    return 0;
}

int drv_scn_has_kind(const drv_scn *s, sim_kind kind) {
    if (s->kinds == NULL) return 1;
    for (size_t i = 0; i < json_array_size(s->kinds); i++) {
        const char *k = json_string_value(json_array_get(s->kinds, i));
        if (k && strcmp(k, sim_kind_name(kind)) == 0) return 1;
    }
    return 0;
}

int drv_scn_has_backend(const drv_scn *s, const char *backend) {
    if (s->backends == NULL) return 1;
    for (size_t i = 0; i < json_array_size(s->backends); i++) {
        const char *b = json_string_value(json_array_get(s->backends, i));
        if (b && strcmp(b, backend) == 0) return 1;
    }
    return 0;
}

/* ---- interpretation ---- */

typedef struct named_snap {
    char name[32];
    char dir[SIM_PATH_MAX];
} named_snap;

typedef struct scn_ctx {
    const drv_scn *s;
    sim_kind kind;
    const char *backend;
    const char *from, *to;
    uint64_t seed;
    const drv_scn_env *env;
    rt_store *store;
    sim_meta_cache *meta_cache; /* every _metadata of the run parsed once */
    rt_trace trace;
    sim_run *run;
    sim_config cfg;
    sim_version engine; /* the current engine, with any RocksDB override */
    named_snap snaps[SCN_MAX_NAMES];
    int n_snaps;
    char first_backend[16], first_engine[40];
    int backend_changed, engine_changed;
    /* the last restore, for the ownership check */
    int restored;
    sim_restore_mode mode;
    rt_strlist restored_files;
    int64_t restored_id;
    /* the ownership timeline: every restore, the files of the latest one
     * (its _metadata too), and the deletions among them */
    rt_strlist own_files;
    drv_scn_result own; /* only its restores and events */
    uint64_t files, bytes, virtual_ms;
    size_t step;
    /* The check after every subsumption: what the scenario itself moved or
     * removed is no engine's loss; the first file found gone otherwise. */
    rt_strlist moved; /* directories a relocate step moved away or removed */
    char lost[RT_ERROR_MSG_MAX];
} scn_ctx;

const char *drv_scn_expand(const char *v, sim_kind kind, const char *backend, const char *from, const char *to) {
    if (v == NULL || v[0] != '$') return v;
    if (strcmp(v, "$KIND") == 0) return sim_kind_name(kind);
    if (strcmp(v, "$BACKEND") == 0) return backend;
    if (strcmp(v, "$OTHER_BACKEND") == 0) return strcmp(backend, "heap") == 0 ? "rocksdb" : "heap";
    if (strcmp(v, "$FROM") == 0) return from;
    if (strcmp(v, "$TO") == 0) return to;
    return v;
}

static const char *expand(scn_ctx *c, const char *v) { return drv_scn_expand(v, c->kind, c->backend, c->from, c->to); }

static const char *field(scn_ctx *c, json_t *step, const char *key) {
    return expand(c, json_string_value(json_object_get(step, key)));
}

static rt_err fail_step(scn_ctx *c, rt_error *e, rt_err code, const char *msg) {
    return RT_FAIL(e, code, "%s: step %zu: %s", c->s->path, c->step + 1, msg);
}

static named_snap *find_snap(scn_ctx *c, const char *name) {
    for (int i = 0; i < c->n_snaps; i++)
        if (strcmp(c->snaps[i].name, name) == 0) return &c->snaps[i];
    return NULL;
}

static rt_err remember(scn_ctx *c, json_t *step, const char *dir, rt_error *e) {
    const char *name = json_string_value(json_object_get(step, "name"));
    if (name == NULL) name = "last";
    named_snap *n = find_snap(c, name);
    if (n == NULL) {
        if (c->n_snaps == SCN_MAX_NAMES) return fail_step(c, e, RT_EINPUT, "too many named snapshots");
        n = &c->snaps[c->n_snaps++];
    }
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->dir, sizeof n->dir, "%s", dir);
    return RT_OK;
}

static rt_err snap_of(scn_ctx *c, json_t *step, named_snap **out, rt_error *e) {
    const char *name = json_string_value(json_object_get(step, "snapshot"));
    *out = find_snap(c, name ? name : "last");
    if (*out == NULL) return fail_step(c, e, RT_EINPUT, "no snapshot of that name was taken before");
    return RT_OK;
}

static rt_err load_job(scn_ctx *c, json_t *step, sim_job *job, rt_error *e) {
    json_t *j = json_object_get(step, "job");
    if (j == NULL) return RT_OK;
    if (json_is_object(j)) return sim_job_from_json(job, j, c->s->path, e);
    if (!json_is_string(j)) return fail_step(c, e, RT_EINPUT, "\"job\" must be a file name or an object");
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", c->s->base_dir, json_string_value(j));
    return sim_job_load(job, path, e);
}

/* The engine, backend, job and parallelism a start or restore step asks for. */
static rt_err step_config(scn_ctx *c, json_t *step, sim_config *cfg, rt_error *e) {
    const char *backend = field(c, step, "backend");
    const char *engine = field(c, step, "engine");
    const char *rocks = field(c, step, "rocksdb");
    if (backend) {
        if (strcmp(backend, "heap") != 0 && strcmp(backend, "rocksdb") != 0)
            return fail_step(c, e, RT_EINPUT, "backend must be heap or rocksdb");
        cfg->backend = backend;
    }
    if (engine || rocks) {
        const sim_version *v = engine ? sim_version_lookup(engine, e) : cfg->engine;
        if (v == NULL) return e->code; /* the run loop names the file and step */
        if (rocks) {
            rt_err rc = sim_version_with_rocksdb(v, rocks, &c->engine, e);
            if (rc != RT_OK) return rc;
        } else {
            c->engine = *v;
        }
        cfg->engine = &c->engine;
    }
    rt_err rc = load_job(c, step, &cfg->job, e);
    if (rc != RT_OK) return rc;
    json_t *par = json_object_get(step, "parallelism");
    if (par) {
        json_int_t p = json_integer_value(par);
        if (p < 1 || p > 16) return fail_step(c, e, RT_EINPUT, "parallelism must be 1..16");
        for (int i = 0; i < cfg->job.n_ops; i++)
            if (cfg->job.ops[i].kind == SIM_OP_KEYED) cfg->job.ops[i].parallelism = (uint32_t)p;
    }
    json_t *inc = json_object_get(step, "incremental");
    if (inc) cfg->incremental = json_is_true(inc);
    /* state.storage.fs.memory-threshold, in bytes (Flink: at most 1 MiB). */
    json_t *thr = json_object_get(step, "memory_threshold");
    if (thr) {
        json_int_t n = json_integer_value(thr);
        if (!json_is_integer(thr) || n < 0 || n > (json_int_t)SIM_MEMORY_THRESHOLD_MAX)
            return fail_step(c, e, RT_EINPUT, "memory_threshold must be 0..1048576 bytes");
        cfg->memory_threshold = (uint32_t)n;
    }
    /* execution.checkpointing.max-concurrent-checkpoints and .interval. */
    json_t *mc = json_object_get(step, "max_concurrent_checkpoints");
    if (mc) {
        json_int_t n = json_integer_value(mc);
        if (!json_is_integer(mc) || n < 1 || n > SIM_MAX_CONCURRENT)
            return fail_step(c, e, RT_EINPUT, "max_concurrent_checkpoints must be 1..8");
        cfg->max_concurrent = (int)n;
    }
    json_t *iv = json_object_get(step, "checkpoint_interval");
    if (iv) {
        json_int_t n = json_integer_value(iv);
        if (!json_is_integer(iv) || n < 0 || n > 3600000)
            return fail_step(c, e, RT_EINPUT, "checkpoint_interval must be 0..3600000 ms (0: no periodic checkpoints)");
        cfg->interval_ms = (uint64_t)n;
    }
    json_t *ret = json_object_get(step, "retained");
    if (ret) {
        json_int_t n = json_integer_value(ret);
        if (n < 1 || n > 32) return fail_step(c, e, RT_EINPUT, "retained must be 1..32");
        cfg->retained = (int)n;
    }
    return sim_job_validate(&cfg->job, c->s->path, e);
}

static void account(scn_ctx *c) {
    if (c->run == NULL) return;
    const sim_stats *st = sim_run_stats(c->run);
    c->files += st->files_written;
    c->bytes += st->bytes_written;
    c->virtual_ms += st->virtual_ms;
}

static rt_err new_run(scn_ctx *c, rt_error *e) {
    account(c);
    sim_run_destroy(c->run);
    c->run = NULL;
    c->cfg.seed = c->seed + c->step; /* each job of the scenario its own stream */
    return sim_run_create(&c->run, &c->cfg, e);
}

/* "1.18.1", or "1.18.1+r8.10.0" when the RocksDB release was swapped. */
static void engine_label(const sim_version *v, char *buf, size_t cap) {
    const sim_version *std = sim_version_find(v->name);
    if (std && strcmp(std->rocksdb_release, v->rocksdb_release) != 0)
        snprintf(buf, cap, "%s+r%s", v->name, v->rocksdb_release);
    else
        snprintf(buf, cap, "%s", v->name);
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int under_moved(const scn_ctx *c, const char *path) {
    for (size_t i = 0; i < c->moved.len; i++) {
        size_t n = strlen(c->moved.items[i]);
        if (strncmp(path, c->moved.items[i], n) == 0 && path[n] == '/') return 1;
    }
    return 0;
}

static int gone_after_subsume(void *ctx, int64_t id, const char *path) {
    scn_ctx *c = ctx;
    if (rt_store_exists(c->store, path) || rt_store_is_damaged(c->store, path) || under_moved(c, path)) return 0;
    snprintf(c->lost, sizeof c->lost, "checkpoint %" PRId64 " references %.300s, which no longer exists", id, path);
    return 1;
}

/* sim_completed_fn: after every checkpoint and the subsumption it caused,
 * every file of every retained checkpoint must still exist (the
 * CheckpointsCleaner deletes only what nothing retained uses). */
static void on_completed(void *ctx, const sim_run *r, int64_t id, const char *dir, int savepoint) {
    scn_ctx *c = ctx;
    (void)dir;
    if (savepoint || c->lost[0]) return;
    if (sim_run_each_retained_file(r, gone_after_subsume, c)) {
        char what[RT_ERROR_MSG_MAX];
        snprintf(what, sizeof what, "%s", c->lost);
        snprintf(c->lost, sizeof c->lost, "after checkpoint %" PRId64 " and its subsumptions, %.400s", id, what);
        return;
    }
    /* What a restore of it would read: its _metadata as the reader
     * resolves it (the lane's ownership check does the same on real Flink). */
    sim_meta m;
    rt_error le;
    int was = rt_store_suspend_faults(c->store, 1);
    if (sim_meta_load_in(c->meta_cache, &m, c->store, dir, NULL, NULL, &le) == RT_OK) {
        /* Only this kind of missing file: a lost write of its own is left
         * to the restore that meets it, as before. */
        drv_scn_flink_39964(&m, c->store, &c->restored_files, c->lost, sizeof c->lost);
        sim_meta_free(&m);
    }
    rt_store_suspend_faults(c->store, was);
}

typedef struct reanchor_ctx {
    rt_store *store;
    int64_t id;
    const rt_strlist *restored;
    const sim_file_ref *found;
} reanchor_ctx;

/* sim_meta_file_fn: a relative handle the checkpoint reused (not its own
 * upload), missing where the reader resolved it, named like a file of the
 * restored snapshot that lies elsewhere. */
static int reanchored_missing(void *ctx, const char *op, uint32_t subtask, const sim_file_ref *f) {
    reanchor_ctx *rc = ctx;
    (void)op;
    (void)subtask;
    if (f->type != SIM_HANDLE_RELATIVE || f->created_by == rc->id || rt_store_exists(rc->store, f->path)) return 0;
    const char *name = base_name(f->path);
    for (size_t i = 0; i < rc->restored->len; i++)
        if (strcmp(base_name(rc->restored->items[i]), name) == 0 && strcmp(rc->restored->items[i], f->path) != 0) {
            rc->found = f;
            return 1;
        }
    return 0;
}

int drv_scn_flink_39964(const sim_meta *m, rt_store *store, const rt_strlist *restored, char *msg, size_t cap) {
    reanchor_ctx rc = {store, m->checkpoint_id, restored, NULL};
    if (!sim_meta_each_file(m, reanchored_missing, &rc)) return 0;
    snprintf(msg, cap,
             "checkpoint %" PRId64 "'s _metadata names %.300s, which does not exist (a restored savepoint's relative "
             "handle, re-anchored to the checkpoint's own directory: FLINK-39964, open in every release)",
             m->checkpoint_id, rc.found->path);
    return 1;
}

/* ---- the ownership timeline ---- */

/* sim_config.on_delete: a deletion of a file of the latest restored
 * snapshot joins its group (same restore, checkpoint and cause) or opens
 * the next. */
static void on_delete(void *ctx, const sim_deletion *d) {
    scn_ctx *c = ctx;
    drv_scn_result *o = &c->own;
    int r = o->n_restores - 1;
    if (r < 0) return;
    size_t i = 0;
    while (i < c->own_files.len && strcmp(c->own_files.items[i], d->path) != 0) i++;
    if (i == c->own_files.len) return; /* not the restored snapshot's */
    o->restores[r].gone++;
    drv_own_event *last = o->n_events ? &o->events[o->n_events - 1] : NULL;
    if (last && last->restore == r && last->after_checkpoint == d->after_checkpoint &&
        strcmp(last->cause, d->cause) == 0) {
        last->files++;
        return;
    }
    if (o->n_events == DRV_OWN_EVENTS_MAX) {
        o->events_dropped++;
        return;
    }
    drv_own_event *ev = &o->events[o->n_events++];
    ev->restore = r;
    ev->after_checkpoint = d->after_checkpoint;
    ev->virtual_ms = d->virtual_ms;
    ev->files = 1;
    snprintf(ev->cause, sizeof ev->cause, "%s", d->cause);
    snprintf(ev->example, sizeof ev->example, "%s", base_name(d->path));
}

typedef struct own_use {
    scn_ctx *c;
    int64_t after;
    rt_strlist seen;
} own_use;

static int own_uses(void *ctx, int64_t id, const char *path) {
    own_use *u = ctx;
    if (id <= u->after) return 0; /* the restored snapshot itself is retained at first */
    for (size_t i = 0; i < u->c->own_files.len; i++)
        if (strcmp(u->c->own_files.items[i], path) == 0) {
            size_t k = 0;
            while (k < u->seen.len && strcmp(u->seen.items[k], path) != 0) k++;
            if (k == u->seen.len) rt_strlist_push(&u->seen, path);
        }
    return 0;
}

/* The latest restore's job ends (another restore follows, or the
 * scenario): how many of the restored files its retained checkpoints
 * still use (LEGACY's hazard, and CLAIM's until they are subsumed). */
static void own_close(scn_ctx *c) {
    drv_scn_result *o = &c->own;
    if (o->n_restores == 0 || c->run == NULL || c->own_files.len == 0) return;
    drv_own_restore *r = &o->restores[o->n_restores - 1];
    own_use u = {c, r->snapshot_id, {0}};
    sim_run_each_retained_file(c->run, own_uses, &u);
    r->referenced = (uint32_t)u.seen.len;
    rt_strlist_free(&u.seen);
}

/* A restore opens the next timeline: what the snapshot holds. */
static void own_restore(scn_ctx *c, const sim_meta *m, const char *dir, sim_restore_mode mode) {
    drv_scn_result *o = &c->own;
    own_close(c);
    rt_strlist_free(&c->own_files);
    if (o->n_restores == DRV_OWN_RESTORES_MAX) return;
    sim_meta_each_file(m, sim_meta_push_path, &c->own_files);
    char meta[SIM_PATH_MAX + 16];
    snprintf(meta, sizeof meta, "%s/_metadata", dir);
    rt_strlist_push(&c->own_files, meta);
    drv_own_restore *r = &o->restores[o->n_restores++];
    snprintf(r->mode, sizeof r->mode, "%s", sim_mode_name(mode));
    snprintf(r->snapshot, sizeof r->snapshot, "%s", m->savepoint ? "savepoint" : "checkpoint");
    r->snapshot_id = m->checkpoint_id;
    r->files = (uint32_t)c->own_files.len;
}

static rt_err do_start(scn_ctx *c, json_t *step, rt_error *e) {
    sim_config_defaults(&c->cfg);
    c->cfg.on_delete = on_delete;
    c->cfg.on_delete_ctx = c;
    c->cfg.source_seed = c->seed;
    c->cfg.store = c->store;
    c->cfg.meta_cache = c->meta_cache;
    c->cfg.trace = &c->trace;
    c->cfg.work_dir = c->env->work_dir;
    c->cfg.mutant = c->env->mutant;
    c->cfg.on_completed = on_completed;
    c->cfg.observer = c;
    c->cfg.backend = c->backend;
    c->engine = *sim_version_default();
    c->cfg.engine = &c->engine;
    /* Periodic checkpoints follow the kind under test. */
    c->cfg.unaligned = c->kind == SIM_KIND_UNALIGNED;
    rt_err rc = step_config(c, step, &c->cfg, e);
    if (rc != RT_OK) return rc;
    snprintf(c->first_backend, sizeof c->first_backend, "%s", c->cfg.backend);
    engine_label(c->cfg.engine, c->first_engine, sizeof c->first_engine);
    return new_run(c, e);
}

static rt_err do_restore(scn_ctx *c, json_t *step, rt_error *e) {
    named_snap *n;
    rt_err rc = snap_of(c, step, &n, e);
    if (rc == RT_OK) rc = step_config(c, step, &c->cfg, e);
    if (rc != RT_OK) return rc;
    const char *mode_s = field(c, step, "mode");
    sim_restore_mode mode = SIM_MODE_NO_CLAIM;
    if (mode_s && sim_mode_parse(mode_s, &mode) != 0)
        return fail_step(c, e, RT_EINPUT, "mode must be claim, no-claim or legacy");
    int allow = json_is_true(json_object_get(step, "allow_non_restored_state"));
    c->backend_changed |= strcmp(c->cfg.backend, c->first_backend) != 0;
    char label[40];
    engine_label(c->cfg.engine, label, sizeof label);
    c->engine_changed |= strcmp(label, c->first_engine) != 0;
    /* What the restored snapshot holds, before anything may delete it. */
    rt_strlist_free(&c->restored_files);
    sim_meta m;
    int was = rt_store_suspend_faults(c->store, 1); /* the harness's own read */
    if (sim_meta_load_in(c->meta_cache, &m, c->store, n->dir, NULL, NULL, e) == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, &c->restored_files);
        c->restored_id = m.checkpoint_id;
        own_restore(c, &m, n->dir, mode);
        sim_meta_free(&m);
    }
    rt_store_suspend_faults(c->store, was);
    rt_error_clear(e);
    c->restored = 1;
    c->mode = mode;
    rc = new_run(c, e);
    if (rc == RT_OK) rc = sim_run_restore(c->run, n->dir, mode, allow, e);
    return rc;
}

/* Flink's REST bodies: savepoints take "target-directory", "cancel-job",
 * "formatType"; stop takes "targetDirectory", "drain", "formatType". */
static rt_err do_savepoint(scn_ctx *c, json_t *step, int stop, rt_error *e) {
    json_t *req = json_object_get(step, "request");
    if (!json_is_object(req)) return fail_step(c, e, RT_EINPUT, "\"request\" must be the REST body");
    const char *target = NULL, *format = NULL;
    int cancel = 0, drain = 0;
    json_error_t je;
    int bad = stop ? json_unpack_ex(req, &je, JSON_STRICT, "{s?:s, s?:b, s?:s}", "targetDirectory", &target,
                                    "drain", &drain, "formatType", &format)
                   : json_unpack_ex(req, &je, JSON_STRICT, "{s?:s, s?:b, s?:s}", "target-directory", &target,
                                    "cancel-job", &cancel, "formatType", &format);
    if (bad) {
        char m[300];
        snprintf(m, sizeof m, "request body: %s", je.text);
        return fail_step(c, e, RT_EINPUT, m);
    }
    format = expand(c, format);
    sim_kind kind;
    if (format == NULL) format = c->cfg.engine->default_savepoint_format;
    if (strcmp(format, "CANONICAL") == 0 || strcmp(format, "canonical") == 0) kind = SIM_KIND_CANONICAL;
    else if (strcmp(format, "NATIVE") == 0 || strcmp(format, "native") == 0) kind = SIM_KIND_NATIVE;
    else return fail_step(c, e, RT_EINPUT, "formatType must be CANONICAL or NATIVE");
    char dir[SIM_PATH_MAX];
    rt_err rc = stop || cancel
                    ? sim_run_stop_with_savepoint(c->run, kind, drain, target, dir, sizeof dir, e)
                    : sim_run_snapshot(c->run, kind, target, dir, sizeof dir, e);
    return rc == RT_OK ? remember(c, step, dir, e) : rc;
}

static rt_err do_snapshot(scn_ctx *c, json_t *step, rt_error *e) {
    const char *k = field(c, step, "kind");
    sim_kind kind = c->kind;
    if (k && sim_kind_parse(k, &kind) != 0) return fail_step(c, e, RT_EINPUT, "unknown snapshot kind");
    char dir[SIM_PATH_MAX];
    rt_err rc = sim_run_snapshot(c->run, kind, "savepoints", dir, sizeof dir, e);
    return rc == RT_OK ? remember(c, step, dir, e) : rc;
}

/* Moves a snapshot directory elsewhere in the storage and, if asked,
 * removes the job's original checkpoint storage. */
static rt_err do_relocate(scn_ctx *c, json_t *step, rt_error *e) {
    named_snap *n;
    rt_err rc = snap_of(c, step, &n, e);
    if (rc != RT_OK) return rc;
    const char *to = field(c, step, "to");
    char dst[SIM_PATH_MAX * 2];
    const char *base = strrchr(n->dir, '/');
    snprintf(dst, sizeof dst, "%s/%s", to ? to : "relocated", base ? base + 1 : n->dir);
    if (strlen(dst) >= SIM_PATH_MAX) return fail_step(c, e, RT_EINPUT, "relocation target too long");
    rc = rt_store_rename(c->store, n->dir, dst, e);
    if (rc != RT_OK) return rc;
    rt_strlist_push(&c->moved, n->dir);
    if (json_is_true(json_object_get(step, "remove_original"))) {
        rc = rt_store_delete_tree(c->store, sim_run_job_id(c->run), e);
        if (rc != RT_OK) return rc;
        rt_strlist_push(&c->moved, sim_run_job_id(c->run));
    }
    sim_trace(c->run, "relocate", "\"to\":\"%s\"", to ? to : "relocated");
    snprintf(n->dir, sizeof n->dir, "%.*s", SIM_PATH_MAX - 1, dst); /* fits: checked above */
    return RT_OK;
}

/* Damages one file of a snapshot (data files only, never _metadata), with
 * the faults suspended (the scenario's own doing, not the job's calls); the
 * store remembers the file as damaged. */
static rt_err corrupt_victim(scn_ctx *c, const char *victim, const char *how, rt_error *e) {
    uint8_t *data = NULL;
    size_t len = 0;
    rt_err rc = rt_store_get(c->store, victim, &data, &len, e);
    if (rc == RT_OK && how && strcmp(how, "delete") == 0) rc = rt_store_delete(c->store, victim, e);
    else if (rc == RT_OK) {
        if (len) data[(len / 2)] ^= 0x10;
        rc = rt_store_put(c->store, victim, data, len, e);
    }
    free(data);
    if (rc == RT_OK && rt_store_mark_damaged(c->store, victim) != 0) rc = RT_FAIL(e, RT_ENOMEM, "corrupt: out of memory");
    return rc;
}

static rt_err do_corrupt(scn_ctx *c, json_t *step, rt_error *e) {
    named_snap *n;
    rt_err rc = snap_of(c, step, &n, e);
    if (rc != RT_OK) return rc;
    int was = rt_store_suspend_faults(c->store, 1);
    sim_meta m;
    rc = sim_meta_load_in(c->meta_cache, &m, c->store, n->dir, NULL, NULL, e);
    rt_strlist files = {0};
    if (rc == RT_OK) {
        sim_meta_each_file(&m, sim_meta_push_path, &files);
        sim_meta_free(&m);
    }
    if (rc == RT_OK && files.len == 0) rc = fail_step(c, e, RT_EINPUT, "the snapshot has no data file to corrupt");
    if (rc == RT_OK) rc = corrupt_victim(c, files.items[(c->seed * 7919) % files.len], field(c, step, "how"), e);
    rt_store_suspend_faults(c->store, was);
    rt_strlist_free(&files);
    return rc;
}

static int missing_file(void *ctx, int64_t id, const char *path) {
    (void)id;
    scn_ctx *c = ctx;
    return !rt_store_exists(c->store, path);
}

typedef struct overlap_ctx {
    scn_ctx *c;
    const char *found;
} overlap_ctx;

static int uses_restored(void *ctx, int64_t id, const char *path) {
    overlap_ctx *o = ctx;
    if (id <= o->c->restored_id) return 0;
    for (size_t i = 0; i < o->c->restored_files.len; i++)
        if (strcmp(o->c->restored_files.items[i], path) == 0) {
            o->found = o->c->restored_files.items[i];
            return 1;
        }
    return 0;
}

/* FLIP-193's promises, checked on the files themselves. */
static rt_err check_ownership(scn_ctx *c, rt_error *e) {
    if (sim_run_each_retained_file(c->run, missing_file, c))
        return RT_FAIL(e, RT_ECORRUPT, "a retained checkpoint references a file that no longer exists");
    if (!c->restored) return RT_OK;
    if (c->mode != SIM_MODE_CLAIM)
        for (size_t i = 0; i < c->restored_files.len; i++)
            if (!rt_store_exists(c->store, c->restored_files.items[i]))
                return RT_FAIL(e, RT_ECORRUPT, "%s restore deleted %s of the snapshot it does not own",
                               sim_mode_name(c->mode), c->restored_files.items[i]);
    overlap_ctx o = {c, NULL};
    if (c->mode == SIM_MODE_NO_CLAIM && sim_run_each_retained_file(c->run, uses_restored, &o))
        return RT_FAIL(e, RT_ECORRUPT, "a checkpoint after a no-claim restore references %s of the restored snapshot",
                       o.found);
    return RT_OK;
}

/* An incremental checkpoint uploads no more SST bytes than RocksDB created
 * since each subtask's previous checkpoint (the last completed checkpoint's
 * measurement; FLINK-23949 broke it right after a savepoint). */
static rt_err check_upload_cost(scn_ctx *c, rt_error *e) {
    const sim_stats *st = sim_run_stats(c->run);
    if (st->last_checkpoint_id <= 0)
        return fail_step(c, e, RT_EINPUT, "upload_cost: no checkpoint completed to measure");
    if (st->last_sst_bytes_uploaded <= st->last_sst_bytes_new) return RT_OK;
    return RT_FAIL(e, RT_EINTERNAL,
                   "invariant: checkpoint %" PRId64 " uploaded %" PRIu64 " bytes of SST files, but RocksDB created "
                   "only %" PRIu64 " bytes of new ones since the previous checkpoint",
                   st->last_checkpoint_id, st->last_sst_bytes_uploaded, st->last_sst_bytes_new);
}

static rt_err do_check(scn_ctx *c, json_t *step, rt_error *e) {
    rt_err rc = sim_run_verify(c->run, e);
    if (rc == RT_OK && json_is_true(json_object_get(step, "ownership"))) rc = check_ownership(c, e);
    if (rc == RT_OK && json_is_true(json_object_get(step, "upload_cost"))) rc = check_upload_cost(c, e);
    return rc;
}

/* spa_write: "format" (canonical|native, Flink's CANONICAL|NATIVE too;
 * default canonical, SavepointFormatType.DEFAULT, the only one a Flink
 * SavepointWriter writes) and "operators", the uids it rewrites from what
 * it read (default none: the others are carried over untouched). */
static rt_err spa_request(scn_ctx *c, json_t *step, drv_spa_write_req *req, rt_error *e) {
    memset(req, 0, sizeof *req);
    const char *format = field(c, step, "format");
    req->format = SIM_KIND_CANONICAL;
    if (format && (strcmp(format, "native") == 0 || strcmp(format, "NATIVE") == 0)) req->format = SIM_KIND_NATIVE;
    else if (format && strcmp(format, "canonical") != 0 && strcmp(format, "CANONICAL") != 0)
        return fail_step(c, e, RT_EINPUT, "spa_write: format must be canonical or native");
    json_t *ops = json_object_get(step, "operators");
    if (ops && (!json_is_array(ops) || json_array_size(ops) > DRV_SPA_MAX_REWRITE))
        return fail_step(c, e, RT_EINPUT, "spa_write: \"operators\" must be an array of at most 8 uids");
    for (size_t i = 0; ops && i < json_array_size(ops); i++) {
        const char *uid = json_string_value(json_array_get(ops, i));
        if (uid == NULL) return fail_step(c, e, RT_EINPUT, "spa_write: each operator is a uid string");
        req->rewrite[req->n_rewrite++] = uid;
    }
    req->memory_threshold = c->cfg.memory_threshold;
    req->target = "spa";
    return RT_OK;
}

static rt_err do_spa(scn_ctx *c, json_t *step, int write, rt_error *e) {
    named_snap *n;
    rt_err rc = snap_of(c, step, &n, e);
    if (rc != RT_OK) return rc;
    drv_spa_opts o = {c->cfg.engine, c->env->work_dir, c->cfg.mutant, c->meta_cache};
    if (!write) return drv_spa_read(c->store, n->dir, &o, NULL, e);
    drv_spa_write_req req;
    rc = spa_request(c, step, &req, e);
    char dir[SIM_PATH_MAX];
    if (rc == RT_OK) rc = drv_spa_write(c->store, n->dir, &req, &o, dir, sizeof dir, e);
    return rc == RT_OK ? remember(c, step, dir, e) : rc;
}

/* Installs a storage fault plan: {"op":"fault","plan":[{"on":"put","nth":2,
 * "kind":"eio","persistent":false,"arg":0,"path":"prefix"}]}; an empty
 * plan clears it. Counting starts at this step. */
static rt_err parse_fault(scn_ctx *c, json_t *j, rt_fault *f, rt_error *e) {
    const char *on = NULL, *kind = NULL, *path = "";
    json_int_t nth = 1, arg = 0;
    int persistent = 0;
    json_error_t je;
    memset(f, 0, sizeof *f);
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:s, s?:I, s?:b, s?:I, s?:s}", "on", &on, "kind", &kind, "nth",
                       &nth, "persistent", &persistent, "arg", &arg, "path", &path) != 0 || nth < 1 || arg < 0 ||
        strlen(path) >= sizeof f->path_prefix) {
        char m[300];
        snprintf(m, sizeof m, "fault: %s", je.text[0] ? je.text : "nth >= 1, arg >= 0, path shorter than 64");
        return fail_step(c, e, RT_EINPUT, m);
    }
    int op = -1, k = -1;
    for (int i = 0; i < RT_OP_COUNT; i++)
        if (strcmp(on, rt_store_op_name((rt_store_op)i)) == 0) op = i;
    for (int i = 1; i < RT_FAULT_KIND_COUNT; i++)
        if (strcmp(kind, rt_fault_kind_name((rt_fault_kind)i)) == 0) k = i;
    if (op < 0 || k < 0) return fail_step(c, e, RT_EINPUT, "fault: unknown \"on\" operation or \"kind\"");
    f->op = (rt_store_op)op;
    f->kind = (rt_fault_kind)k;
    f->nth = (uint64_t)nth;
    f->persistent = persistent;
    f->arg = (uint64_t)arg;
    /* "$JOB/..." names a path under the running job's own directory (its
     * id is drawn from the seed, not known to the file). */
    if (strncmp(path, "$JOB/", 5) == 0) {
        if (strlen(sim_run_job_id(c->run)) + strlen(path + 4) >= sizeof f->path_prefix)
            return fail_step(c, e, RT_EINPUT, "fault: path too long after $JOB");
        snprintf(f->path_prefix, sizeof f->path_prefix, "%s%s", sim_run_job_id(c->run), path + 4);
    } else {
        snprintf(f->path_prefix, sizeof f->path_prefix, "%s", path);
    }
    return RT_OK;
}

static rt_err do_fault(scn_ctx *c, json_t *step, rt_error *e) {
    json_t *plan = json_object_get(step, "plan");
    if (!json_is_array(plan) || json_array_size(plan) > RT_FAULT_PLAN_MAX)
        return fail_step(c, e, RT_EINPUT, "fault: \"plan\" must be an array of at most 32 faults");
    rt_fault_plan p;
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < json_array_size(plan); i++) {
        rt_err rc = parse_fault(c, json_array_get(plan, i), &p.faults[p.n], e);
        if (rc != RT_OK) return rc;
        p.n++;
    }
    rt_store_set_faults(c->store, p.n ? &p : NULL);
    char desc[512];
    rt_fault_plan_describe(&p, desc, sizeof desc);
    sim_trace(c->run, "fault_plan", "\"plan\":\"%s\"", desc);
    return RT_OK;
}

static rt_err do_step(scn_ctx *c, json_t *step, rt_error *e) {
    const char *op = json_string_value(json_object_get(step, "op"));
    if (strcmp(op, "start") == 0) return do_start(c, step, e);
    if (c->run == NULL) return fail_step(c, e, RT_EINPUT, "no job is running");
    if (strcmp(op, "run") == 0)
        return sim_run_records(c->run, (uint64_t)json_integer_value(json_object_get(step, "records")), e);
    if (strcmp(op, "snapshot") == 0) return do_snapshot(c, step, e);
    if (strcmp(op, "savepoint") == 0) return do_savepoint(c, step, 0, e);
    if (strcmp(op, "stop") == 0) return do_savepoint(c, step, 1, e);
    if (strcmp(op, "relocate") == 0) return do_relocate(c, step, e);
    if (strcmp(op, "restore") == 0) return do_restore(c, step, e);
    if (strcmp(op, "failover") == 0) return sim_run_failover(c->run, e);
    if (strcmp(op, "coordinator_failover") == 0) return sim_run_coordinator_failover(c->run, e);
    if (strcmp(op, "spa_read") == 0) return do_spa(c, step, 0, e);
    if (strcmp(op, "spa_write") == 0) return do_spa(c, step, 1, e);
    if (strcmp(op, "corrupt") == 0) return do_corrupt(c, step, e);
    if (strcmp(op, "fault") == 0) return do_fault(c, step, e);
    if (strcmp(op, "check") == 0) return do_check(c, step, e);
    return fail_step(c, e, RT_EINPUT, "unknown op");
}

static void fill_result(scn_ctx *c, rt_err rc, const rt_error *err, drv_scn_result *res) {
    account(c);
    own_close(c);
    memset(res, 0, sizeof *res);
    snprintf(res->impl, sizeof res->impl, "model");
    const char *o = "works";
    switch (rt_err_class_of(rc)) {
    case RT_CLASS_OK: o = "works"; break;
    case RT_CLASS_REJECT: o = "rejected"; break;
    case RT_CLASS_CORRUPT: o = "corrupted"; break;
    default: o = "crashed"; break;
    }
    snprintf(res->outcome, sizeof res->outcome, "%s", o);
    if (rc != RT_OK) res->err = *err;
    if (c->backend_changed) snprintf(res->backend, sizeof res->backend, "%s->%s", c->first_backend, c->cfg.backend);
    else snprintf(res->backend, sizeof res->backend, "%s", c->first_backend);
    char label[40];
    engine_label(c->cfg.engine, label, sizeof label);
    if (c->engine_changed)
        snprintf(res->versions, sizeof res->versions, "%.19s->%.19s", c->first_engine, label);
    else snprintf(res->versions, sizeof res->versions, "%s", c->first_engine);
    rt_trace_digest_hex(&c->trace, res->digest);
    res->n_restores = c->own.n_restores;
    memcpy(res->restores, c->own.restores, sizeof res->restores);
    res->n_events = c->own.n_events;
    memcpy(res->events, c->own.events, sizeof res->events);
    res->events_dropped = c->own.events_dropped;
    res->virtual_ms = c->virtual_ms;
    res->files = c->files;
    res->bytes = c->bytes;
}

static rt_err open_store(scn_ctx *c, rt_error *e) {
    if (c->env->out_dir) return rt_store_open_dir(&c->store, c->env->out_dir, 1, e);
    char name[96];
    snprintf(name, sizeof name, "%s-%s-%s-%" PRIu64, c->s->name, sim_kind_name(c->kind), c->backend, c->seed);
    return rt_store_open_mem(&c->store, name, e);
}

rt_err drv_scn_run(const drv_scn *s, sim_kind kind, const char *backend, int variant, uint64_t seed,
                   const drv_scn_env *env, drv_scn_result *res, rt_error *e) {
    if (env->flink != NULL) return drv_flink_run(s, kind, backend, variant, seed, env, res, e);
    scn_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.kind = kind;
    c.backend = backend;
    c.seed = seed;
    c.env = env;
    rt_err rc = drv_scn_variant(s, variant, &c.from, &c.to, e);
    if (rc != RT_OK) return rc;
    rc = open_store(&c, e);
    if (rc != RT_OK) return rc;
    rc = sim_meta_cache_create(&c.meta_cache, e);
    if (rc != RT_OK) {
        rt_store_close(c.store);
        return rc;
    }
    if (rt_trace_init(&c.trace, env->trace_out) != 0) {
        sim_meta_cache_free(c.meta_cache);
        rt_store_close(c.store);
        return RT_FAIL(e, RT_ENOMEM, "trace: out of memory");
    }
    rt_trace_event(&c.trace, 0, "scenario", "\"name\":\"%s\",\"kind\":\"%s\",\"backend\":\"%s\",\"seed\":%" PRIu64,
                   s->name, sim_kind_name(kind), backend, seed);
    rt_error err;
    rt_error_clear(&err);
    rc = RT_OK;
    for (c.step = 0; rc == RT_OK && c.step < json_array_size(s->steps); c.step++) {
        json_t *step = json_array_get(s->steps, c.step);
        rc = do_step(&c, step, &err);
        if (rc == RT_OK && c.lost[0]) rc = RT_FAIL(&err, RT_ECORRUPT, "%s", c.lost);
        if (rt_err_class_of(rc) == RT_CLASS_REJECT && json_is_true(json_object_get(step, "may_fail"))) {
            /* A named rejection the scenario allows: the job goes on (a
             * stop-with-savepoint that fails keeps it running). */
            sim_trace(c.run, "step_rejected", "\"step\":%zu,\"error\":\"%s\"", c.step + 1, rt_err_name(rc));
            rt_error_clear(&err);
            rc = RT_OK;
        }
        if (rc != RT_OK) {
            const char *op = json_string_value(json_object_get(json_array_get(s->steps, c.step), "op"));
            /* A mistake in the scenario names the file too; fail_step did. */
            if (rt_err_class_of(rc) != RT_CLASS_USAGE) rt_error_prefix(&err, "step %zu (%s): ", c.step + 1, op);
            else if (strncmp(err.msg, s->path, strlen(s->path)) != 0)
                rt_error_prefix(&err, "%s: step %zu (%s): ", s->path, c.step + 1, op);
        }
    }
    if (rc != RT_OK && rt_err_class_of(rc) == RT_CLASS_USAGE) {
        *e = err; /* the scenario itself is wrong: not a result */
    } else {
        fill_result(&c, rc, &err, res);
        rc = RT_OK;
    }
    sim_run_destroy(c.run);
    rt_strlist_free(&c.restored_files);
    rt_strlist_free(&c.moved);
    rt_strlist_free(&c.own_files);
    rt_trace_free(&c.trace);
    sim_meta_cache_free(c.meta_cache);
    rt_store_close(c.store);
    return rc;
}
