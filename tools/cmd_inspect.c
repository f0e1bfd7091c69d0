/* cmd_inspect: what a snapshot holds, the model's own (JSON _metadata) or
 * a real Flink one (binary _metadata: tools/flink_report.c). Read-only: it
 * never opens the snapshot for writing and never follows a path outside
 * the snapshot's storage. */
#include <assert.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "mx.h"
#include "flink_report.h"
#include "rt_storage.h"
#include "sim_backend.h"
#include "sim_metadata.h"

typedef struct inspect_ctx {
    const sim_meta *m;
    const char *dir; /* real path of the snapshot directory */
    json_t *files;
    int missing, foreign, damaged;
    uint64_t bytes;
} inspect_ctx;

/* Where a handle written in the metadata lies, and whether it may be read:
 * a relative path within the snapshot's directory, an absolute one within
 * the storage the metadata names. */
static const char *locate(const inspect_ctx *c, const sim_file_ref *f, char *buf, size_t cap) {
    if (f->type == SIM_HANDLE_RELATIVE) {
        if (rt_store_check_path(f->path, NULL) != RT_OK) return "outside";
        snprintf(buf, cap, "%s/%s", c->dir, f->path);
        return NULL;
    }
    size_t n = strlen(c->m->storage_root);
    if (n == 0 || strncmp(f->path, c->m->storage_root, n) != 0 || f->path[n] != '/' ||
        rt_store_check_path(f->path + n + 1, NULL) != RT_OK)
        return "outside";
    snprintf(buf, cap, "%s", f->path);
    return NULL;
}

static int intact(const sim_file_ref *f, const uint8_t *data, size_t len) {
    return len == f->size && sim_checksum(data, len) == f->xxh3;
}

static const char *status_of(inspect_ctx *c, const sim_file_ref *f, char *where, size_t cap) {
    if (f->type == SIM_HANDLE_BYTES) {
        const sim_bytes_entry *b = sim_bytes_get(&c->m->inline_pool, f->path);
        snprintf(where, cap, "%s", f->path);
        if (b != NULL && intact(f, b->data, b->len)) return "ok";
        c->damaged++;
        return "checksum-mismatch";
    }
    const char *bad = locate(c, f, where, cap);
    if (bad) {
        c->foreign++;
        return bad;
    }
    struct stat st;
    if (stat(where, &st) != 0) {
        c->missing++;
        return "missing";
    }
    if ((uint64_t)st.st_size != f->size) {
        c->damaged++;
        return "size-mismatch";
    }
    FILE *in = fopen(where, "rb");
    uint8_t *data = malloc(f->size + 1);
    size_t got = in && data ? fread(data, 1, f->size, in) : 0;
    if (in) fclose(in);
    int ok = intact(f, data, got);
    free(data);
    if (!ok) {
        c->damaged++;
        return "checksum-mismatch";
    }
    return "ok";
}

static int add_file(void *ctx, const char *op, uint32_t sub, const sim_file_ref *f) {
    inspect_ctx *c = ctx;
    char where[PATH_MAX + 256];
    const char *status = status_of(c, f, where, sizeof where);
    c->bytes += f->size;
    json_array_append_new(c->files, json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s}", "operator", op, "subtask",
                                              (int)sub, "path", f->path, "handle",
                                              sim_handle_type_name((sim_handle_type)f->type), "size",
                                              (json_int_t)f->size, "sharing", f->shared ? "shared" : "private",
                                              "status", status));
    return 0;
}

/* Self-contained and relocatable when no handle is absolute: relative
 * ones follow the directory, inlined ones are in _metadata. */
static void print_handles(const sim_meta *m) {
    printf("handles    %d absolute, %d relative, %d inlined: ", m->n_handles[SIM_HANDLE_FILE],
           m->n_handles[SIM_HANDLE_RELATIVE], m->n_handles[SIM_HANDLE_BYTES]);
    if (sim_meta_self_contained(m)) printf("self-contained and relocatable\n");
    else printf("not relocatable (absolute paths into %s)\n", m->storage_root);
}

static void print_text(const sim_meta *m, const inspect_ctx *c, const char *path) {
    printf("snapshot   %s\n", path);
    printf("type       %s (%s), format %s, backend %s%s\n", m->savepoint ? "savepoint" : "checkpoint",
           m->snapshot_kind, m->format, m->backend, m->incremental ? ", incremental" : "");
    printf("metadata   version %d, engine %s, checkpoint id %lld, job %s\n", m->version, m->engine,
           (long long)m->checkpoint_id, m->job_id);
    print_handles(m);
    for (int o = 0; o < m->n_ops; o++) {
        const sim_meta_op *op = &m->ops[o];
        printf("operator   %s  parallelism %u  max parallelism %u\n", op->uid, op->parallelism, op->max_parallelism);
        for (int s = 0; s < op->n_sub; s++) {
            const sim_meta_subtask *st = &op->sub[s];
            if (st->has_keyed)
                printf("  #%u keyed %s, key groups %u..%u, %d file(s)\n", st->index, st->keyed.format,
                       st->keyed.kg_lo, st->keyed.kg_hi, st->keyed.n_files);
            if (st->n_offsets) printf("  #%u source offsets: %d split(s)\n", st->index, st->n_offsets);
            if (st->has_sink) printf("  #%u sink: %llu records committed\n", st->index, (unsigned long long)st->sink_count);
            if (st->has_cs) printf("  #%u channel state: %llu bytes\n", st->index, (unsigned long long)st->cs_file.size);
        }
    }
    printf("files      %zu, %llu bytes", json_array_size(c->files), (unsigned long long)c->bytes);
    printf("; missing %d, outside the storage %d, damaged %d\n", c->missing, c->foreign, c->damaged);
    size_t i;
    json_t *f;
    json_array_foreach(c->files, i, f) {
        const char *st = json_string_value(json_object_get(f, "status"));
        printf("  %-8s %-8s %-18s %10lld  %s\n", json_string_value(json_object_get(f, "sharing")),
               json_string_value(json_object_get(f, "handle")), st,
               (long long)json_integer_value(json_object_get(f, "size")),
               json_string_value(json_object_get(f, "path")));
    }
}

/* ---- JSON: every member the text shows, the same members on every
 * outcome (a snapshot that is whole, one with missing or damaged files,
 * one whose _metadata cannot be read: then all but path and reason are
 * null or empty). ---- */

static const char *const inspect_keys[] = {
    "path", "type", "kind", "format", "backend", "incremental", "metadata_version", "engine", "checkpoint_id", "job",
    "handles", "relocatable", "storage_root", "operators", "files", "bytes", "missing", "outside", "damaged", "reason",
    NULL,
};

static json_t *subtask_json(const sim_meta_subtask *st) {
    json_t *keyed = json_null(), *offsets = json_array();
    if (st->has_keyed)
        keyed = json_pack("{s:s, s:i, s:i, s:i}", "format", st->keyed.format, "key_group_start", (int)st->keyed.kg_lo,
                          "key_group_end", (int)st->keyed.kg_hi, "files", st->keyed.n_files);
    for (int i = 0; i < st->n_offsets; i++)
        json_array_append_new(offsets, json_pack("{s:i, s:I}", "split", (int)st->split[i], "offset",
                                                 (json_int_t)st->offset[i]));
    return json_pack("{s:i, s:o, s:o, s:o, s:o}", "subtask", (int)st->index, "keyed", keyed, "source_offsets", offsets,
                     "sink_records", st->has_sink ? json_integer((json_int_t)st->sink_count) : json_null(),
                     "channel_state_bytes", st->has_cs ? json_integer((json_int_t)st->cs_file.size) : json_null());
}

static json_t *operators_json(const sim_meta *m) {
    json_t *ops = json_array();
    for (int o = 0; o < m->n_ops; o++) {
        json_t *subs = json_array();
        for (int s = 0; s < m->ops[o].n_sub; s++) json_array_append_new(subs, subtask_json(&m->ops[o].sub[s]));
        json_array_append_new(ops, json_pack("{s:s, s:i, s:i, s:o}", "uid", m->ops[o].uid, "parallelism",
                                             (int)m->ops[o].parallelism, "max_parallelism",
                                             (int)m->ops[o].max_parallelism, "subtasks", subs));
    }
    return ops;
}

/* The object of a snapshot inspect could not read: path and reason. */
static json_t *unread_json(const char *path, const char *reason) {
    json_t *o = json_object();
    for (int i = 0; inspect_keys[i]; i++) json_object_set_new(o, inspect_keys[i], json_null());
    json_object_set_new(o, "path", mx_json_text(path));
    json_object_set_new(o, "operators", json_array());
    json_object_set_new(o, "files", json_array());
    json_object_set_new(o, "reason", mx_json_text(reason));
    return o;
}

/* Takes c->files. reason: the rejection, or NULL. */
static json_t *snapshot_json(const sim_meta *m, inspect_ctx *c, const char *reason) {
    int relocatable = sim_meta_self_contained(m);
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:b, s:i, s:s, s:I, s:s, s:{s:i, s:i, s:i}, s:b, s:o}", "path",
                          mx_json_text(c->dir), "type", m->savepoint ? "savepoint" : "checkpoint", "kind", m->snapshot_kind, "format",
                          m->format, "backend", m->backend, "incremental", m->incremental, "metadata_version",
                          m->version, "engine", m->engine, "checkpoint_id", (json_int_t)m->checkpoint_id, "job",
                          m->job_id, "handles", "absolute", m->n_handles[SIM_HANDLE_FILE], "relative",
                          m->n_handles[SIM_HANDLE_RELATIVE], "inlined", m->n_handles[SIM_HANDLE_BYTES],
                          "relocatable", relocatable, "storage_root",
                          relocatable ? json_null() : json_string(m->storage_root));
    json_object_set_new(o, "operators", operators_json(m));
    json_object_set_new(o, "files", c->files);
    json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes));
    json_object_set_new(o, "missing", json_integer(c->missing));
    json_object_set_new(o, "outside", json_integer(c->foreign));
    json_object_set_new(o, "damaged", json_integer(c->damaged));
    json_object_set_new(o, "reason", mx_json_text(reason));
    c->files = NULL;
    size_t n = 0;
    for (; inspect_keys[n]; n++) assert(json_object_get(o, inspect_keys[n]) != NULL);
    assert(json_object_size(o) == n); /* no member the unread object lacks */
    (void)n;
    return o;
}

static void print_json(json_t *o) {
    char *t = json_dumps(o, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(o);
}

typedef struct inspect_opts {
    int json;
} inspect_opts;

const cli_opt inspect_options[] = {
    CLI_FLAG(inspect_opts, json, "json", "print one JSON object with everything the text shows"),
    CLI_END,
};

int cmd_inspect(int argc, char **argv) {
    inspect_opts io = {0};
    int first = 0;
    int rc = cli_parse(inspect_options, &io, argc, argv, "inspect", &first);
    if (rc) return rc;
    int json = io.json;
    if (first == argc) return cli_usage_error("inspect: PATH (a snapshot directory) is required");
    if (first + 1 < argc) return cli_usage_error("inspect: unexpected argument '%s'", argv[first + 1]);
    const char *path = argv[first];
    char real[PATH_MAX], meta_path[PATH_MAX + 16];
    if (realpath(path, real) == NULL) return cli_usage_error("inspect: %s: no such snapshot directory", path);
    snprintf(meta_path, sizeof meta_path, "%s/_metadata", real);
    if (fl_snapshot_is_flink(real)) return flink_inspect(real, json); /* a real Flink snapshot */
    FILE *in = fopen(meta_path, "rb");
    rt_error e;
    rt_error_clear(&e);
    if (in == NULL) {
        /* The same answer as restore gives for it: a snapshot that is not there. */
        RT_FAIL(&e, RT_ENOENT, "%s: no _metadata: not a snapshot directory", path);
        if (json) print_json(unread_json(real, e.msg));
        return cli_report_error(&e);
    }
    char *text = malloc(1 << 22);
    size_t len = text ? fread(text, 1, (1 << 22) - 1, in) : 0;
    fclose(in);
    sim_meta m;
    if (text == NULL || sim_meta_parse(&m, text, len, NULL, "", meta_path, &e) != RT_OK) {
        free(text);
        if (e.code == RT_OK) RT_FAIL(&e, RT_ENOMEM, "out of memory");
        if (json) print_json(unread_json(real, e.msg));
        return cli_report_error(&e);
    }
    free(text);
    inspect_ctx c = {&m, real, json_array(), 0, 0, 0, 0};
    sim_meta_each_file(&m, add_file, &c);
    /* A snapshot with missing, damaged or foreign files would not restore:
     * the report is printed, and the status says so (1, as restore's). */
    int bad = c.missing || c.damaged || c.foreign;
    char reason[PATH_MAX + 128] = "";
    if (bad)
        snprintf(reason, sizeof reason, "%s: %d missing, %d damaged, %d outside the storage", path, c.missing,
                 c.damaged, c.foreign);
    if (json) {
        print_json(snapshot_json(&m, &c, bad ? reason : NULL));
    } else {
        print_text(&m, &c, real);
        json_decref(c.files);
    }
    sim_meta_free(&m);
    if (bad) {
        fprintf(stderr, "rejected: %s\n", reason);
        return CLI_EXIT_REJECTED;
    }
    return CLI_EXIT_OK;
}
