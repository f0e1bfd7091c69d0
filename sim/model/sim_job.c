/* sim_job: the built-in job, JSON job graphs, record generation. */
#include "sim_job.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "rt_prng.h"

static const char *const op_kinds[] = {"source", "map", "keyed", "sink"};
static const char *const edge_kinds[] = {"forward", "hash", "rebalance"};

const char *sim_op_kind_name(sim_op_kind k) { return (unsigned)k < 4 ? op_kinds[k] : "?"; }
const char *sim_edge_kind_name(sim_edge_kind k) { return (unsigned)k < 3 ? edge_kinds[k] : "?"; }

sim_record sim_record_make(uint64_t source_seed, const sim_job *job, uint32_t split,
                           uint64_t offset) {
    sim_record r;
    r.id = SIM_RECORD_ID(split, offset);
    r.key = job->key_per_record ? offset * job->splits + split : rt_mix3(source_seed, split, offset) % job->keys;
    r.value = (int64_t)(rt_mix3(source_seed ^ 0x76616c7565ULL, split, offset) % 1000003);
    return r;
}

void sim_op_process(int code_version, sim_value *v, const sim_state_desc *d, int64_t value) {
    assert(code_version >= 1);
    assert(code_version <= SIM_CODE_VERSION_MAX);
    for (int i = 0; i < code_version; i++) sim_value_apply(v, d, value);
}

static void state(sim_state_desc *d, const char *name, sim_state_kind kind) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->kind = kind;
    d->schema_version = 1;
}

void sim_job_default(sim_job *job) {
    memset(job, 0, sizeof *job);
    strcpy(job->name, "default");
    job->splits = 4;
    job->keys = 256;
    job->n_ops = 3;
    sim_op *src = &job->ops[0], *agg = &job->ops[1], *sink = &job->ops[2];
    strcpy(src->uid, "src");
    src->kind = SIM_OP_SOURCE;
    src->parallelism = 2;
    src->cost_ms = 1;
    strcpy(agg->uid, "agg");
    agg->kind = SIM_OP_KEYED;
    agg->parallelism = 2;
    agg->cost_ms = 3;
    agg->in_edge = SIM_EDGE_HASH;
    strcpy(agg->in_type, "Event(id,key,value)");
    agg->n_states = 3;
    state(&agg->states[0], "stats", SIM_STATE_VALUE);
    agg->states[0].n_fields = 3;
    agg->states[0].fields[0] = SIM_F_COUNT;
    agg->states[0].fields[1] = SIM_F_SUM;
    agg->states[0].fields[2] = SIM_F_XOR;
    state(&agg->states[1], "top", SIM_STATE_LIST);
    state(&agg->states[2], "buckets", SIM_STATE_MAP);
    strcpy(sink->uid, "sink");
    sink->kind = SIM_OP_SINK;
    sink->parallelism = 1;
    sink->cost_ms = 1;
    sink->in_edge = SIM_EDGE_REBALANCE;
    strcpy(sink->in_type, "Result(id,key,value)");
    for (int i = 0; i < job->n_ops; i++) {
        job->ops[i].max_parallelism = 128;
        job->ops[i].code_version = 1;
    }
}

void sim_job_payload(sim_job *job) {
    sim_job_default(job);
    strcpy(job->name, "payload");
    job->keys = SIM_PAYLOAD_KEYS;
    job->key_per_record = 1;
    sim_op *store = &job->ops[1];
    strcpy(store->uid, "store");
    store->n_states = 1;
    state(&store->states[0], "payload", SIM_STATE_PAYLOAD);
    memset(&store->states[1], 0, sizeof store->states[1] * (SIM_MAX_STATES - 1));
}

int sim_job_builtin(sim_job *job, const char *name) {
    if (strcmp(name, "default") == 0) sim_job_default(job);
    else if (strcmp(name, "payload") == 0) sim_job_payload(job);
    else return -1;
    return 0;
}

int sim_job_find(const sim_job *job, const char *uid) {
    for (int i = 0; i < job->n_ops; i++)
        if (strcmp(job->ops[i].uid, uid) == 0) return i;
    return -1;
}

rt_err sim_job_validate(const sim_job *job, const char *what, rt_error *e) {
    if (job->n_ops < 2) return RT_FAIL(e, RT_EINPUT, "%s: a job needs a source and a sink", what);
    if (job->ops[0].kind != SIM_OP_SOURCE)
        return RT_FAIL(e, RT_EINPUT, "%s: the first operator must be a source", what);
    if (job->ops[job->n_ops - 1].kind != SIM_OP_SINK)
        return RT_FAIL(e, RT_EINPUT, "%s: the last operator must be a sink", what);
    if (job->splits == 0 || job->splits > SIM_MAX_SPLITS || job->keys == 0)
        return RT_FAIL(e, RT_EINPUT, "%s: splits must be 1..%d and keys > 0", what, SIM_MAX_SPLITS);
    for (int i = 0; i < job->n_ops; i++) {
        const sim_op *op = &job->ops[i];
        if (op->parallelism == 0 || op->parallelism > op->max_parallelism || op->parallelism > 16)
            return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': parallelism %u not in 1..min(16, %u)",
                           what, op->uid, op->parallelism, op->max_parallelism);
        for (int j = 0; j < i; j++)
            if (strcmp(job->ops[j].uid, op->uid) == 0)
                return RT_FAIL(e, RT_EINPUT, "%s: duplicate operator uid '%s'", what, op->uid);
        if (i > 0 && (op->kind == SIM_OP_SOURCE || (op->kind == SIM_OP_SINK && i != job->n_ops - 1)))
            return RT_FAIL(e, RT_EINPUT, "%s: operator '%s' (%s) is out of place", what, op->uid,
                           sim_op_kind_name(op->kind));
        if (i > 0 && op->in_edge == SIM_EDGE_FORWARD &&
            job->ops[i - 1].parallelism != op->parallelism)
            return RT_FAIL(e, RT_EINPUT, "%s: forward edge into '%s' joins parallelism %u and %u",
                           what, op->uid, job->ops[i - 1].parallelism, op->parallelism);
        if (op->kind == SIM_OP_KEYED && op->in_edge != SIM_EDGE_HASH)
            return RT_FAIL(e, RT_EINPUT, "%s: keyed operator '%s' needs a hash edge", what, op->uid);
        if (op->kind != SIM_OP_KEYED && op->n_states != 0)
            return RT_FAIL(e, RT_EINPUT, "%s: only keyed operators hold keyed state ('%s')", what,
                           op->uid);
    }
    return RT_OK;
}

json_t *sim_schema_to_json(const sim_state_desc *d) {
    json_t *s = json_pack("{s:s, s:s, s:i}", "name", d->name, "kind",
                          sim_state_kind_name(d->kind), "schema_version", d->schema_version);
    if (d->kind == SIM_STATE_VALUE) {
        json_t *f = json_array();
        for (int i = 0; i < d->n_fields; i++)
            json_array_append_new(f, d->types[i] == SIM_T_LONG
                                         ? json_string(sim_field_name(d->fields[i]))
                                         : json_pack("{s:s, s:s}", "name", sim_field_name(d->fields[i]),
                                                     "type", sim_ftype_name(d->types[i])));
        json_object_set_new(s, "fields", f);
    }
    if (!sim_state_consts_default(d)) {
        json_t *c = json_array();
        for (int i = 0; i < d->n_consts; i++) json_array_append_new(c, json_sprintf("B%d", d->consts[i]));
        json_object_set_new(s, "key_enum", c);
    }
    return s;
}

/* A field: "sum" (a long) or {"name": "sum", "type": "string"}. */
static rt_err field_from_json(sim_state_desc *d, json_t *j, const char *what, rt_error *e) {
    const char *fname = json_string_value(j), *tname = "long";
    json_error_t je;
    if (json_is_object(j) &&
        json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s?:s}", "name", &fname, "type", &tname) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': field: %s", what, d->name, je.text);
    int i = d->n_fields;
    if (fname == NULL || sim_field_parse(fname, &d->fields[i]) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': unknown field '%s' (count, sum, xor, max, min)",
                       what, d->name, fname ? fname : "?");
    if (sim_ftype_parse(tname, &d->types[i]) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': field '%s': unknown type '%s' (long, string)",
                       what, d->name, fname, tname);
    for (int k = 0; k < i; k++)
        if (d->fields[k] == d->fields[i])
            return RT_FAIL(e, RT_EINPUT, "%s: state '%s': field '%s' twice", what, d->name, fname);
    d->n_fields++;
    return RT_OK;
}

/* A map state's key enum: its constants in declaration order, each "B0".."B15"
 * at most once, every bucket's constant B0..B7 among them. */
static rt_err enum_from_json(sim_state_desc *d, json_t *j, const char *what, rt_error *e) {
    if (!json_is_array(j) || json_array_size(j) < SIM_BUCKETS || json_array_size(j) > SIM_ENUM_MAX)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': key_enum must list %d..%d constants", what,
                       d->name, SIM_BUCKETS, SIM_ENUM_MAX);
    int seen[SIM_ENUM_MAX] = {0};
    for (size_t i = 0; i < json_array_size(j); i++) {
        const char *c = json_string_value(json_array_get(j, i));
        int n = -1, used = 0;
        if (c == NULL || sscanf(c, "B%d%n", &n, &used) != 1 || c[used] != '\0' || n < 0 ||
            n >= SIM_ENUM_MAX || seen[n]++)
            return RT_FAIL(e, RT_EINPUT, "%s: state '%s': key_enum constant '%s' is not one of "
                           "B0..B%d, or is listed twice", what, d->name, c ? c : "?", SIM_ENUM_MAX - 1);
        d->consts[d->n_consts++] = (uint8_t)n;
    }
    for (int b = 0; b < SIM_BUCKETS; b++)
        if (!seen[b])
            return RT_FAIL(e, RT_EINPUT, "%s: state '%s': key_enum lacks B%d, which bucket %d needs",
                           what, d->name, b, b);
    return RT_OK;
}

rt_err sim_schema_from_json(sim_state_desc *d, json_t *j, const char *what, rt_error *e) {
    memset(d, 0, sizeof *d);
    const char *name = NULL, *kind = NULL;
    json_t *fields = NULL, *consts = NULL;
    json_error_t je;
    d->schema_version = 1;
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:s, s?:i, s?:o, s?:o}", "name", &name, "kind",
                       &kind, "schema_version", &d->schema_version, "fields", &fields, "key_enum",
                       &consts) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: state: %s", what, je.text);
    if (strlen(name) == 0 || strlen(name) >= sizeof d->name)
        return RT_FAIL(e, RT_EINPUT, "%s: state name '%s' must be 1..%zu characters", what, name,
                       sizeof d->name - 1);
    strcpy(d->name, name);
    if (sim_state_kind_parse(kind, &d->kind) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': kind '%s' is not value, list or map", what,
                       name, kind);
    if (consts && d->kind != SIM_STATE_MAP)
        return RT_FAIL(e, RT_EINPUT, "%s: state '%s': only map states have a key_enum", what, name);
    if (consts) return enum_from_json(d, consts, what, e);
    if (d->kind != SIM_STATE_VALUE) {
        if (fields) return RT_FAIL(e, RT_EINPUT, "%s: state '%s': only value states have fields", what, name);
        return RT_OK;
    }
    if (!json_is_array(fields) || json_array_size(fields) == 0 ||
        json_array_size(fields) > SIM_MAX_FIELDS)
        return RT_FAIL(e, RT_EINPUT, "%s: value state '%s' needs 1..%d fields", what, name,
                       SIM_MAX_FIELDS);
    for (size_t i = 0; i < json_array_size(fields); i++) {
        rt_err rc = field_from_json(d, json_array_get(fields, i), what, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

static int parse_enum(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

static rt_err op_from_json(sim_op *op, json_t *j, const char *what, rt_error *e) {
    const char *uid = NULL, *kind = NULL, *edge = "forward", *type = "", *key_type = NULL;
    json_t *input = NULL, *states = NULL;
    int par = 1, maxp = 128, code = 1, cost = 1;
    json_error_t je;
    memset(op, 0, sizeof *op);
    if (json_unpack_ex(j, &je, JSON_STRICT, "{s:s, s:s, s?:i, s?:i, s?:i, s?:i, s?:o, s?:o, s?:s}",
                       "uid", &uid, "kind", &kind, "parallelism", &par, "max_parallelism", &maxp,
                       "code_version", &code, "cost_ms", &cost, "input", &input, "states",
                       &states, "key_type", &key_type) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: operator: %s", what, je.text);
    if (input && json_unpack_ex(input, &je, JSON_STRICT, "{s:s, s:s}", "edge", &edge, "type", &type) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': input: %s", what, uid, je.text);
    int k = parse_enum(kind, op_kinds, 4), ek = parse_enum(edge, edge_kinds, 3);
    if (k < 0) return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': unknown kind '%s'", what, uid, kind);
    if (ek < 0) return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': unknown edge '%s'", what, uid, edge);
    if (strlen(uid) == 0 || strlen(uid) >= sizeof op->uid || strlen(type) >= sizeof op->in_type)
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': uid or type too long or empty", what, uid);
    if (par < 1 || maxp < 1 || maxp > 32768 || cost < 0 || cost > 1000)
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': parallelism/max_parallelism/cost out of range", what, uid);
    if (code < 1 || code > SIM_CODE_VERSION_MAX)
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': code_version %d (the operators have code "
                       "versions 1..%d)", what, uid, code, SIM_CODE_VERSION_MAX);
    if (key_type && (k != SIM_OP_KEYED || sim_ftype_parse(key_type, &op->key_type) != 0))
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': key_type '%s' (keyed operators only: long, "
                       "string)", what, uid, key_type);
    strcpy(op->uid, uid);
    strcpy(op->in_type, type);
    op->kind = (sim_op_kind)k;
    op->in_edge = (sim_edge_kind)ek;
    op->parallelism = (uint32_t)par;
    op->max_parallelism = (uint32_t)maxp;
    op->code_version = code;
    op->cost_ms = (uint32_t)cost;
    if (states == NULL) return RT_OK;
    if (!json_is_array(states) || json_array_size(states) > SIM_MAX_STATES)
        return RT_FAIL(e, RT_EINPUT, "%s: operator '%s': states must be an array of at most %d",
                       what, uid, SIM_MAX_STATES);
    for (size_t i = 0; i < json_array_size(states); i++) {
        rt_err rc = sim_schema_from_json(&op->states[i], json_array_get(states, i), what, e);
        if (rc != RT_OK) return rc;
        op->n_states++;
    }
    return RT_OK;
}

rt_err sim_job_from_json(sim_job *job, json_t *root, const char *what, rt_error *e) {
    const char *name = "job";
    json_t *ops = NULL;
    int splits = 4, keys = 256, per_record = 0;
    json_error_t je;
    memset(job, 0, sizeof *job);
    if (json_unpack_ex(root, &je, JSON_STRICT, "{s?:s, s?:i, s?:i, s?:b, s:o}", "name", &name, "splits",
                       &splits, "keys", &keys, "key_per_record", &per_record, "operators", &ops) != 0)
        return RT_FAIL(e, RT_EINPUT, "%s: job: %s", what, je.text);
    if (!json_is_array(ops) || json_array_size(ops) > SIM_MAX_OPS)
        return RT_FAIL(e, RT_EINPUT, "%s: operators must be an array of at most %d", what, SIM_MAX_OPS);
    if (splits < 1 || keys < 1) return RT_FAIL(e, RT_EINPUT, "%s: splits and keys must be positive", what);
    snprintf(job->name, sizeof job->name, "%s", name);
    job->splits = (uint32_t)splits;
    job->keys = (uint32_t)keys;
    job->key_per_record = per_record;
    for (size_t i = 0; i < json_array_size(ops); i++) {
        rt_err rc = op_from_json(&job->ops[i], json_array_get(ops, i), what, e);
        if (rc != RT_OK) return rc;
        job->n_ops++;
    }
    return sim_job_validate(job, what, e);
}

rt_err sim_job_load(sim_job *job, const char *path, rt_error *e) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL)
        return RT_FAIL(e, RT_EINPUT, "%s: line %d: %s", path, je.line, je.text);
    rt_err rc = sim_job_from_json(job, root, path, e);
    json_decref(root);
    return rc;
}

json_t *sim_job_to_json(const sim_job *job) {
    json_t *ops = json_array();
    for (int i = 0; i < job->n_ops; i++) {
        const sim_op *op = &job->ops[i];
        json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i}", "uid", op->uid, "kind",
                              sim_op_kind_name(op->kind), "parallelism", (int)op->parallelism,
                              "max_parallelism", (int)op->max_parallelism, "code_version",
                              op->code_version, "cost_ms", (int)op->cost_ms);
        if (i > 0)
            json_object_set_new(o, "input", json_pack("{s:s, s:s}", "edge",
                                                      sim_edge_kind_name(op->in_edge), "type", op->in_type));
        if (op->key_type != SIM_T_LONG) json_object_set_new(o, "key_type", json_string(sim_ftype_name(op->key_type)));
        if (op->n_states) {
            json_t *st = json_array();
            for (int s = 0; s < op->n_states; s++) json_array_append_new(st, sim_schema_to_json(&op->states[s]));
            json_object_set_new(o, "states", st);
        }
        json_array_append_new(ops, o);
    }
    json_t *j = json_pack("{s:s, s:i, s:i, s:o}", "name", job->name, "splits", (int)job->splits, "keys",
                          (int)job->keys, "operators", ops);
    if (job->key_per_record) json_object_set_new(j, "key_per_record", json_true());
    return j;
}

uint64_t sim_job_run_ms(const sim_job *job, uint64_t records) {
    uint64_t slowest = 0;
    for (int i = 0; i < job->n_ops; i++) {
        const sim_op *op = &job->ops[i];
        uint64_t par = op->parallelism ? op->parallelism : 1;
        uint64_t ms = (records * op->cost_ms + par - 1) / par;
        if (ms > slowest) slowest = ms;
    }
    return slowest;
}
