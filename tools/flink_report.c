/* flink_report: text and JSON of a real Flink snapshot and of a check
 * against a release (see the header). Rendering only: every fact comes
 * from flink/. */
#include "flink_report.h"

#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mx.h"

static const char *channel_class(const fl_channel *ch) {
    if (ch->merged) return ch->input ? "MergedInputChannelStateHandle" : "MergedResultSubpartitionStateHandle";
    return ch->input ? "InputChannelStateHandle" : "ResultSubpartitionStateHandle";
}

static const char *mode_name(int mode) {
    static const char *const names[] = {"SPLIT_DISTRIBUTE", "UNION", "BROADCAST"};
    return mode >= 0 && mode < 3 ? names[mode] : "?";
}

static void count(json_t *classes, const char *name) {
    if (name == NULL) name = "(unknown)";
    json_t *n = json_object_get(classes, name);
    json_object_set_new(classes, name, json_integer(n ? json_integer_value(n) + 1 : 1));
}

static void count_keyed(json_t *classes, const fl_keyed *k, int depth) {
    if (k == NULL || depth > FL_NEST_MAX + 1) return;
    count(classes, fl_handle_class(k->type));
    for (uint32_t i = 0; i < k->n_base; i++) count_keyed(classes, k->base[i], depth + 1);
    for (uint32_t i = 0; i < k->n_delta; i++) count_keyed(classes, k->delta[i], depth + 1);
}

/* Every state handle object by class, as the runner's `inspect` counts
 * them (wrappers such as HandleAndLocalPath aside). */
static json_t *handle_classes(const fl_meta *m) {
    json_t *classes = json_object();
    for (const fl_stream *h = m->streams; h; h = h->next) count(classes, fl_handle_class(h->type));
    for (uint32_t o = 0; o < m->n_ops; o++)
        for (uint32_t s = 0; s < m->ops[o].n_subtasks; s++) {
            const fl_subtask *st = &m->ops[o].subtasks[s];
            if (st->managed_op) count(classes, fl_handle_class(st->managed_op->type));
            if (st->raw_op) count(classes, fl_handle_class(st->raw_op->type));
            count_keyed(classes, st->managed_keyed, 0);
            count_keyed(classes, st->raw_keyed, 0);
            for (uint32_t i = 0; i < st->n_input; i++) count(classes, channel_class(&st->input[i]));
            for (uint32_t i = 0; i < st->n_output; i++) count(classes, channel_class(&st->output[i]));
        }
    return classes;
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *tri(int v) { return v < 0 ? json_null() : json_boolean(v); }

static json_t *props_json(const fl_props *p) {
    if (!p->present) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "class", str_or_null(p->snapshot_class));
    json_object_set_new(o, "is_savepoint", json_boolean(p->savepoint));
    json_object_set_new(o, "name", str_or_null(p->type_name));
    json_object_set_new(o, "format_type", str_or_null(p->format_type));
    json_object_set_new(o, "post_checkpoint_action", str_or_null(p->post_action));
    json_object_set_new(o, "sharing_files_strategy", str_or_null(p->sharing));
    json_object_set_new(o, "forced", tri(p->forced));
    json_object_set_new(o, "discard_subsumed", tri(p->discard_subsumed));
    json_object_set_new(o, "discard_finished", tri(p->discard_finished));
    json_object_set_new(o, "discard_cancelled", tri(p->discard_cancelled));
    json_object_set_new(o, "discard_failed", tri(p->discard_failed));
    json_object_set_new(o, "discard_suspended", tri(p->discard_suspended));
    json_object_set_new(o, "unclaimed", tri(p->unclaimed));
    return o;
}

static json_t *stream_json(const fl_stream *h) {
    if (h == NULL) return json_null();
    json_t *o = json_pack("{s:s, s:s, s:I}", "class", fl_handle_class(h->type), "kind", fl_path_kind_name(h->kind),
                          "size", (json_int_t)h->size);
    json_object_set_new(o, "path", str_or_null(h->path));
    json_object_set_new(o, "local_path", str_or_null(h->local_path));
    return o;
}

static json_t *local_list(const fl_local_handle *l, uint32_t n) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++) json_array_append_new(a, stream_json(l[i].handle));
    return a;
}

static json_t *keyed_json(const fl_keyed *k, int depth) {
    if (k == NULL || depth > FL_NEST_MAX + 1) return json_null();
    json_t *o = json_pack("{s:s, s:i, s:i, s:i}", "class", fl_handle_class(k->type), "key_group_start",
                          (int)k->kg_start, "key_group_count", (int)k->kg_count, "key_group_end",
                          (int)(k->kg_start + k->kg_count - 1)); /* the text's range, start..end */
    /* Every class has every member: what a class does not carry is null
     * (or an empty list), so one parser reads them all. */
    int incremental = k->type == FL_H_INCREMENTAL || k->type == FL_H_INCREMENTAL_V2;
    json_object_set_new(o, "delegate", stream_json(k->delegate));
    json_object_set_new(o, "state_handle_id", str_or_null(k->state_handle_id));
    json_object_set_new(o, "checkpoint_id", incremental ? json_integer(k->checkpoint_id) : json_null());
    json_object_set_new(o, "backend_id", incremental ? str_or_null(k->backend_id) : json_null());
    json_object_set_new(o, "meta", incremental ? stream_json(k->meta) : json_null());
    json_object_set_new(o, "shared", incremental ? local_list(k->shared, k->n_shared) : json_array());
    json_object_set_new(o, "private", incremental ? local_list(k->private_state, k->n_private) : json_array());
    json_t *base = json_array(), *delta = json_array();
    for (uint32_t i = 0; i < k->n_base; i++) json_array_append_new(base, keyed_json(k->base[i], depth + 1));
    for (uint32_t i = 0; i < k->n_delta; i++) json_array_append_new(delta, keyed_json(k->delta[i], depth + 1));
    json_object_set_new(o, "materialized", base);
    json_object_set_new(o, "non_materialized", delta);
    return o;
}

static json_t *op_state_json(const fl_op_state *os) {
    if (os == NULL) return json_null();
    json_t *states = json_array();
    for (uint32_t i = 0; i < os->n_states; i++)
        json_array_append_new(states, json_pack("{s:s, s:s, s:i}", "name", os->states[i].name, "mode",
                                                mode_name(os->states[i].mode), "offsets",
                                                (int)os->states[i].n_offsets));
    return json_pack("{s:s, s:o, s:o}", "class", fl_handle_class(os->type), "states", states, "delegate",
                     stream_json(os->delegate));
}

static json_t *channels_json(const fl_channel *ch, uint32_t n) {
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:I, s:o}", "class", channel_class(&ch[i]), "subtask",
                                           (int)ch[i].subtask, "size", (json_int_t)ch[i].size, "delegate",
                                           stream_json(ch[i].delegate)));
    return a;
}

static json_t *operator_json(const fl_operator *op) {
    json_t *subtasks = json_array();
    for (uint32_t s = 0; s < op->n_subtasks; s++) {
        const fl_subtask *st = &op->subtasks[s];
        json_array_append_new(subtasks,
                              json_pack("{s:i, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "subtask", (int)st->index,
                                        "finished", st->finished, "managed_operator", op_state_json(st->managed_op),
                                        "raw_operator", op_state_json(st->raw_op), "managed_keyed",
                                        keyed_json(st->managed_keyed, 0), "raw_keyed", keyed_json(st->raw_keyed, 0),
                                        "input_channels", channels_json(st->input, st->n_input),
                                        "output_channels", channels_json(st->output, st->n_output)));
    }
    return json_pack("{s:s, s:o, s:o, s:i, s:i, s:b, s:o, s:o}", "id", op->id, "uid", str_or_null(op->uid), "name",
                     str_or_null(op->name), "parallelism", (int)op->parallelism, "max_parallelism",
                     (int)op->max_parallelism, "fully_finished", op->fully_finished, "coordinator",
                     stream_json(op->coordinator), "subtasks", subtasks);
}

static json_t *problems_of(int bits) {
    json_t *a = json_array();
    for (int b = 0; b < FL_PROB_KINDS; b++)
        if (bits & (1 << b)) json_array_append_new(a, json_string(fl_problem_name(b)));
    return a;
}

/* The status word of the text's file list. */
static const char *file_status(const fl_file *f) {
    if (f->problems & FL_PROB_SIZE) return "size-mismatch";
    return f->exists < 0 ? "unchecked" : f->exists ? "ok" : "missing";
}

static json_t *file_json(const fl_snapshot *s, const fl_file *f) {
    const fl_stream *h = f->h;
    json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "operator",
                          h->op >= 0 ? s->meta.ops[h->op].id : "", "subtask", h->subtask, "role", h->role, "class",
                          fl_handle_class(h->type), "kind", fl_path_kind_name(h->kind), "path", h->path ? h->path : "",
                          "size", (json_int_t)h->size, "location", fl_location_name(f->location), "status",
                          file_status(f));
    json_object_set_new(o, "resolved", f->where[0] ? json_string(f->where) : json_null());
    json_object_set_new(o, "exists", tri(f->exists));
    json_object_set_new(o, "actual_size", f->actual_size < 0 ? json_null() : json_integer(f->actual_size));
    json_object_set_new(o, "local_path", str_or_null(h->local_path));
    json_object_set_new(o, "sst", json_boolean(f->sst));
    json_object_set_new(o, "sst_format_version", f->sst && f->sst_format >= 0 ? json_integer(f->sst_format) : json_null());
    json_object_set_new(o, "sst_error", f->sst && f->sst_format < 0 ? json_string(f->sst_error) : json_null());
    json_object_set_new(o, "other_snapshot", f->other[0] ? json_string(f->other) : json_null());
    json_object_set_new(o, "kryo", json_boolean(f->kryo));
    json_object_set_new(o, "problems", problems_of(f->problems));
    return o;
}

json_t *flink_snapshot_json(const fl_snapshot *s) {
    const fl_meta *m = &s->meta;
    const fl_version_info *vi = fl_meta_version(m->version);
    json_t *masters = json_array(), *ops = json_array(), *files = json_array(), *problems = json_object();
    for (uint32_t i = 0; i < m->n_masters; i++)
        json_array_append_new(masters, json_pack("{s:s, s:i, s:i}", "name", m->masters[i].name, "version",
                                                 (int)m->masters[i].version, "bytes", (int)m->masters[i].n_bytes));
    for (uint32_t i = 0; i < m->n_ops; i++) json_array_append_new(ops, operator_json(&m->ops[i]));
    uint64_t bytes = 0;
    for (size_t i = 0; i < s->n_files; i++) {
        json_array_append_new(files, file_json(s, &s->files[i]));
        if (s->files[i].first && s->files[i].h->size > 0) bytes += (uint64_t)s->files[i].h->size;
    }
    for (int b = 0; b < FL_PROB_KINDS; b++)
        json_object_set_new(problems, fl_problem_name(b), json_integer((json_int_t)s->n_problem[b]));
    json_t *o = json_pack("{s:o, s:s, s:i, s:s, s:I, s:I}", "path", mx_json_text(s->dir), "snapshot_format", "flink",
                          "metadata_version", (int)m->version, "serializer", vi ? vi->serializer : "?",
                          "metadata_bytes", (json_int_t)m->file_bytes, "checkpoint_id", (json_int_t)m->checkpoint_id);
    json_object_set_new(o, "type", json_string(s->savepoint < 0 ? "unknown" : s->savepoint ? "savepoint" : "checkpoint"));
    json_object_set_new(o, "type_from", json_string(s->kind_from));
    json_object_set_new(o, "format", json_string(s->format));
    json_object_set_new(o, "backend", json_string(s->backend));
    json_object_set_new(o, "incremental", json_boolean(s->incremental));
    json_object_set_new(o, "self_contained", json_boolean(s->self_contained));
    json_object_set_new(o, "relocatable", json_boolean(s->self_contained && s->n_problem[2] == 0 && s->n_problem[4] == 0));
    json_object_set_new(o, "properties", props_json(&m->props));
    json_object_set_new(o, "master_states", masters);
    json_object_set_new(o, "operators", ops);
    json_object_set_new(o, "handles", json_pack("{s:I, s:I, s:I}", "absolute", (json_int_t)s->n_kind[FL_PATH_ABSOLUTE],
                                                "relative", (json_int_t)s->n_kind[FL_PATH_RELATIVE], "inlined",
                                                (json_int_t)s->n_kind[FL_PATH_INLINED]));
    json_object_set_new(o, "handle_classes", handle_classes(m));
    json_object_set_new(o, "channel_state_handles", json_integer((json_int_t)m->n_channel_handles));
    json_object_set_new(o, "sst_files", json_integer((json_int_t)s->n_sst));
    json_object_set_new(o, "files", files);
    json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
    json_object_set_new(o, "problems", problems);
    json_object_set_new(o, "trailing_bytes", json_integer((json_int_t)m->trailing_bytes));
    return o;
}

/* Strings from _metadata, printed one line each. */
#define SHOW(s, buf) fl_printable((s), (buf), sizeof(buf))

static void print_operator(const fl_operator *op) {
    char a[512];
    printf("operator   %s", op->id);
    if (op->uid) printf("  uid %s", SHOW(op->uid, a));
    if (op->name) printf("  name \"%s\"", SHOW(op->name, a));
    printf("  parallelism %d  max parallelism %d%s\n", (int)op->parallelism, (int)op->max_parallelism,
           op->fully_finished ? "  (fully finished)" : "");
    if (op->coordinator) printf("  coordinator state: %" PRId64 " bytes inlined\n", op->coordinator->size);
    for (uint32_t s = 0; s < op->n_subtasks; s++) {
        const fl_subtask *st = &op->subtasks[s];
        if (st->finished) printf("  #%d finished\n", (int)st->index);
        const fl_op_state *ops[2] = {st->managed_op, st->raw_op};
        for (int k = 0; k < 2; k++)
            if (ops[k]) {
                printf("  #%d %s operator %s:", (int)st->index, k ? "raw" : "managed", fl_handle_class(ops[k]->type));
                for (uint32_t i = 0; i < ops[k]->n_states; i++)
                    printf(" %s (%s)", SHOW(ops[k]->states[i].name, a), mode_name(ops[k]->states[i].mode));
                printf("\n");
            }
        const fl_keyed *ks[2] = {st->managed_keyed, st->raw_keyed};
        for (int k = 0; k < 2; k++)
            if (ks[k]) {
                printf("  #%d %s keyed %s, key groups %d..%d", (int)st->index, k ? "raw" : "managed",
                       fl_handle_class(ks[k]->type), (int)ks[k]->kg_start, (int)(ks[k]->kg_start + ks[k]->kg_count - 1));
                if (ks[k]->type == FL_H_INCREMENTAL || ks[k]->type == FL_H_INCREMENTAL_V2)
                    printf(", checkpoint %" PRId64 ", %u shared and %u private file(s)", ks[k]->checkpoint_id,
                           ks[k]->n_shared, ks[k]->n_private);
                printf("\n");
            }
        if (st->n_input || st->n_output)
            printf("  #%d channel state: %u input, %u output handle(s)\n", (int)st->index, st->n_input, st->n_output);
    }
}

static void print_files(const fl_snapshot *s) {
    for (size_t i = 0; i < s->n_files; i++) {
        const fl_file *f = &s->files[i];
        char sst[24] = "";
        if (f->sst) snprintf(sst, sizeof sst, f->sst_format < 0 ? "sst ?" : "sst v%d", f->sst_format);
        const char *status = file_status(f);
        char a[PATH_MAX], name[512];
        printf("  %-8s %-7s %-13s %9" PRId64 " %-6s %s", fl_path_kind_name(f->h->kind), fl_location_name(f->location),
               status, f->h->size, sst, SHOW(f->where[0] ? f->where : f->h->path ? f->h->path : "", a));
        printf("  (%s%s%s)\n", f->h->role, f->h->local_path ? " " : "", f->h->local_path ? SHOW(f->h->local_path, name) : "");
        for (int b = 2; b < FL_PROB_KINDS; b++)
            if (f->problems & (1 << b))
                printf("           problem: %s%s%s\n", fl_problem_name(b), f->other[0] && b == 4 ? " " : "",
                       f->other[0] && b == 4 ? SHOW(f->other, a) : "");
    }
}

static void print_text(const fl_snapshot *s) {
    const fl_meta *m = &s->meta;
    char a[512];
    const fl_version_info *vi = fl_meta_version(m->version);
    printf("snapshot   %s\n", s->dir);
    printf("flink      _metadata version %d (%s), %zu bytes, checkpoint id %" PRId64 "\n", (int)m->version,
           vi ? vi->serializer : "?", m->file_bytes, m->checkpoint_id);
    printf("type       %s (from the %s)", s->savepoint < 0 ? "unknown" : s->savepoint ? "savepoint" : "checkpoint",
           s->kind_from);
    if (m->props.type_name) printf(", \"%s\"", SHOW(m->props.type_name, a));
    printf(", format %s%s\n", s->format, s->incremental ? ", incremental" : "");
    if (m->props.sharing) printf("sharing    %s\n", SHOW(m->props.sharing, a));
    printf("backend    %s\n", s->backend);
    printf("handles    %zu absolute, %zu relative, %zu inlined: ", s->n_kind[FL_PATH_ABSOLUTE],
           s->n_kind[FL_PATH_RELATIVE], s->n_kind[FL_PATH_INLINED]);
    if (s->self_contained) printf("self-contained and relocatable\n");
    else printf("not self-contained (absolute paths): it cannot be relocated\n");
    for (uint32_t i = 0; i < m->n_masters; i++)
        printf("master     %s (version %d, %u bytes)\n", SHOW(m->masters[i].name, a), (int)m->masters[i].version,
               m->masters[i].n_bytes);
    for (uint32_t i = 0; i < m->n_ops; i++) print_operator(&m->ops[i]);
    printf("files      %zu handle(s), %zu SST; missing %zu, size mismatch %zu, outside %zu, absolute in a "
           "savepoint %zu, other snapshot %zu, unchecked %zu\n",
           s->n_files, s->n_sst, s->n_problem[0], s->n_problem[1], s->n_problem[2], s->n_problem[3], s->n_problem[4],
           s->n_problem[5]);
    print_files(s);
}

/* The members of inspect --json of a real snapshot, on every outcome. */
static const char *const flink_inspect_keys[] = {
    "path", "snapshot_format", "metadata_version", "serializer", "metadata_bytes", "checkpoint_id", "type",
    "type_from", "format", "backend", "incremental", "self_contained", "relocatable", "properties", "master_states",
    "operators", "handles", "handle_classes", "channel_state_handles", "sst_files", "files", "bytes", "problems",
    "trailing_bytes", "reason", NULL,
};

static void print_json(json_t *o) {
    size_t n = 0;
    for (; flink_inspect_keys[n]; n++) assert(json_object_get(o, flink_inspect_keys[n]) != NULL);
    assert(json_object_size(o) == n); /* every outcome prints these members, no other */
    (void)n;
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

/* The object of a snapshot whose _metadata could not be read: the path,
 * the reason, the lists empty and every other member null. */
static json_t *unread_json(const char *path, const char *reason) {
    json_t *o = json_object();
    for (int i = 0; flink_inspect_keys[i]; i++) json_object_set_new(o, flink_inspect_keys[i], json_null());
    json_object_set_new(o, "path", mx_json_text(path));
    json_object_set_new(o, "snapshot_format", json_string("flink"));
    json_object_set_new(o, "master_states", json_array());
    json_object_set_new(o, "operators", json_array());
    json_object_set_new(o, "files", json_array());
    json_object_set_new(o, "reason", mx_json_text(reason));
    return o;
}

int flink_inspect(const char *path, int json) {
    fl_snapshot s;
    rt_error e;
    rt_error_clear(&e);
    if (fl_snapshot_open(&s, path, &e) != RT_OK) {
        if (json) print_json(unread_json(path, e.msg));
        return cli_report_error(&e);
    }
    int bad = s.n_problem[0] || s.n_problem[1];
    char reason[PATH_MAX + 128] = "";
    if (bad)
        snprintf(reason, sizeof reason, "%s: %zu file(s) missing, %zu with another size than recorded", path,
                 s.n_problem[0], s.n_problem[1]);
    if (json) {
        json_t *o = flink_snapshot_json(&s);
        json_object_set_new(o, "reason", bad ? mx_json_text(reason) : json_null());
        print_json(o);
    } else {
        print_text(&s);
    }
    if (bad) fprintf(stderr, "rejected: %s\n", reason);
    fl_snapshot_close(&s);
    return bad ? CLI_EXIT_REJECTED : CLI_EXIT_OK;
}

/* check --json of a snapshot whose _metadata could not be read: rejected,
 * with the members of flink_check_json (what the snapshot would tell null). */
json_t *flink_check_unread_json(const char *path, const char *target, const char *backend, const char *reason) {
    if (backend && strcmp(backend, "hashmap") == 0) backend = "heap"; /* as fl_check_run names it */
    return json_pack("{s:o, s:s, s:s, s:o, s:n, s:n, s:n, s:n, s:[{s:s, s:s, s:o}], s:i}", "path", mx_json_text(path), "verdict",
                     fl_verdict_name(FL_REJECTED), "target", target, "backend", str_or_null(backend), "type",
                     "metadata_version", "written_by", "format", "reasons", "verdict", fl_verdict_name(FL_REJECTED),
                     "rule", "metadata", "reason", mx_json_text(reason), "more_reasons", 0);
}

json_t *flink_check_json(const fl_snapshot *s, const fl_check *c) {
    json_t *reasons = json_array();
    for (int i = 0; i < c->n_reasons; i++)
        json_array_append_new(reasons, json_pack("{s:s, s:s, s:s}", "verdict", fl_verdict_name(c->reasons[i].verdict),
                                                 "rule", c->reasons[i].rule, "reason", c->reasons[i].text));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:i, s:s, s:s, s:o, s:i}", "path", s->dir, "verdict",
                     fl_verdict_name(c->verdict), "target", c->target->name, "backend",
                     c->backend ? json_string(c->backend) : json_null(), "type",
                     s->savepoint < 0 ? "unknown" : s->savepoint ? "savepoint" : "checkpoint", "metadata_version",
                     (int)s->meta.version, "written_by", c->writers, "format", s->format, "reasons", reasons,
                     "more_reasons", c->more_reasons);
}
