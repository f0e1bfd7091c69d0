/* cmd_inspect: what a snapshot holds, the model's own (JSON _metadata) or
 * a real Flink one (binary _metadata: tools/flink_report.c). Read-only: it
 * never opens the snapshot for writing and never follows a path outside
 * the snapshot's storage. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
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
    if (in == NULL) {
        /* The same answer as restore gives for it: a snapshot that is not there. */
        rt_error ne;
        RT_FAIL(&ne, RT_ENOENT, "%s: no _metadata: not a snapshot directory", path);
        return cli_report_error(&ne);
    }
    char *text = malloc(1 << 22);
    size_t len = text ? fread(text, 1, (1 << 22) - 1, in) : 0;
    fclose(in);
    rt_error e;
    rt_error_clear(&e);
    sim_meta m;
    if (text == NULL || sim_meta_parse(&m, text, len, NULL, "", meta_path, &e) != RT_OK) {
        free(text);
        if (e.code == RT_OK) RT_FAIL(&e, RT_ENOMEM, "out of memory");
        return cli_report_error(&e);
    }
    free(text);
    inspect_ctx c = {&m, real, json_array(), 0, 0, 0, 0};
    sim_meta_each_file(&m, add_file, &c);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:I, s:{s:i, s:i, s:i}, s:b, s:b, s:o, s:i, s:i, "
                              "s:i}",
                              "path", real, "type", m.savepoint ? "savepoint" : "checkpoint", "kind",
                              m.snapshot_kind, "format", m.format, "backend", m.backend, "metadata_version",
                              m.version, "engine", m.engine, "checkpoint_id", (json_int_t)m.checkpoint_id,
                              "handles", "absolute", m.n_handles[SIM_HANDLE_FILE], "relative",
                              m.n_handles[SIM_HANDLE_RELATIVE], "inlined", m.n_handles[SIM_HANDLE_BYTES],
                              "relocatable", sim_meta_self_contained(&m), "incremental", m.incremental, "files",
                              c.files, "missing", c.missing, "outside", c.foreign, "damaged", c.damaged);
        char *t = json_dumps(o, JSON_COMPACT);
        if (t) puts(t);
        free(t);
        json_decref(o);
    } else {
        print_text(&m, &c, real);
        json_decref(c.files);
    }
    sim_meta_free(&m);
    /* A snapshot with missing, damaged or foreign files would not restore:
     * the report is printed, and the status says so (1, as restore's). */
    if (c.missing || c.damaged || c.foreign) {
        fprintf(stderr, "rejected: %s: %d missing, %d damaged, %d outside the storage\n", path, c.missing, c.damaged,
                c.foreign);
        return CLI_EXIT_REJECTED;
    }
    return CLI_EXIT_OK;
}
