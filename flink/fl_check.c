/* fl_check: the restore check of a real snapshot (see the header). Every
 * rule that rejects is a function the model's restore calls too; this file
 * only gathers the snapshot's facts and hands them over. */
#include "fl_check.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim_handle.h"

const char *fl_verdict_name(fl_verdict v) {
    switch (v) {
    case FL_RESTORES: return "restores";
    case FL_REJECTED: return "rejected";
    default: return "unknown";
    }
}

static void add_reason(fl_check *c, fl_verdict v, const char *rule, const char *text) {
    assert(v != FL_RESTORES);
    for (int i = 0; i < c->n_reasons; i++)
        if (strcmp(c->reasons[i].rule, rule) == 0 && strcmp(c->reasons[i].text, text) == 0) return;
    if (c->n_reasons >= FL_CHECK_REASONS_MAX) {
        c->more_reasons++;
    } else {
        fl_reason *r = &c->reasons[c->n_reasons++];
        r->verdict = v;
        r->rule = rule;
        fl_printable(text, r->text, sizeof r->text); /* paths come from _metadata: one line */
    }
    if (v == FL_REJECTED || c->verdict == FL_RESTORES) c->verdict = v;
}

static void add_error(fl_check *c, const char *rule, const rt_error *err) {
    add_reason(c, FL_REJECTED, rule, err->msg);
}

static int line_of(const sim_version *v) { return v->major * 1000 + v->minor; }

/* The modelled releases that write this _metadata version (or `from`). */
static void find_writers(fl_check *c, const fl_snapshot *s, const sim_version *from) {
    const sim_version *first = NULL, *last = NULL;
    c->n_writers = 0;
    for (int i = 0; i < sim_version_count; i++) {
        const sim_version *v = &sim_versions[i];
        if (from ? v != from : v->metadata_write != s->meta.version) continue;
        if (first == NULL) first = v;
        last = v;
        c->n_writers++;
    }
    if (first == NULL) snprintf(c->writers, sizeof c->writers, "a release the model does not know");
    else if (first == last) snprintf(c->writers, sizeof c->writers, "%s", first->name);
    else snprintf(c->writers, sizeof c->writers, "%s..%s", first->name, last->name);
}

static void check_metadata(fl_check *c, const fl_snapshot *s) {
    rt_error err;
    rt_error_clear(&err);
    if (sim_version_check_metadata(c->target, s->meta.version, c->writers, &err) != RT_OK)
        add_error(c, "metadata-version", &err);
}

/* The model's name of a keyed handle's format, and of its writer. */
static const char *format_of(int type, const char **writer) {
    switch (type) {
    case FL_H_SAVEPOINT_KEY_GROUPS: *writer = "any"; return SIM_FORMAT_CANONICAL;
    case FL_H_KEY_GROUPS:
    case FL_H_KEY_GROUPS_V2: *writer = "heap or rocksdb"; return SIM_FORMAT_KEY_GROUPS;
    case FL_H_INCREMENTAL:
    case FL_H_INCREMENTAL_V2: *writer = "rocksdb"; return SIM_FORMAT_ROCKSDB_NATIVE;
    default: *writer = "changelog"; return NULL;
    }
}

typedef struct keyed_ctx {
    fl_check *c;
    const char *kg_writer; /* the backend that wrote key-group streams, or NULL: either */
} keyed_ctx;

/* Who wrote a key-group stream (KeyGroupsStateHandle) of a checkpoint or
 * native savepoint: a release whose RocksDB snapshots its own SST files
 * even without incremental checkpoints (sim_version.full_snapshot:
 * RocksNativeFullSnapshotStrategy, 1.16 on) writes them only from the heap
 * backend; before, RocksDB's full snapshots were key-group streams too. */
static const char *key_groups_writer(const fl_snapshot *s, const sim_version *from) {
    int any = 0;
    for (int i = 0; i < sim_version_count; i++) {
        const sim_version *v = &sim_versions[i];
        if (from ? v != from : v->metadata_write != s->meta.version) continue;
        if (v->full_snapshot != SIM_FULL_NATIVE_SST) return NULL;
        any = 1;
    }
    return any ? "heap" : NULL;
}

/* The model reads a key-group stream with the restoring backend's own
 * reader and the bytes decide (HeapRestoreOperation,
 * RocksDBFullRestoreOperation: the backends' formats differ); this check
 * does not parse Flink's streams, so only the writer's own backend is
 * known to read them. */
static void check_key_groups(keyed_ctx *kc, const fl_operator *op, const fl_subtask *st) {
    fl_check *c = kc->c;
    if (c->backend == NULL || (kc->kg_writer && strcmp(kc->kg_writer, c->backend) == 0)) return;
    char text[RT_ERROR_MSG_MAX];
    snprintf(text, sizeof text,
             "operator %s subtask %d: a key-group stream (KeyGroupsStateHandle) written by the %s backend, read by "
             "the %s backend's own reader: the model decides by the stream's bytes, which this check does not "
             "parse",
             op->id, (int)st->index, kc->kg_writer ? kc->kg_writer : "heap or the rocksdb", c->backend);
    add_reason(c, FL_UNKNOWN, "backend", text);
}

static int check_keyed(void *ctx, const fl_operator *op, const fl_subtask *st, const fl_keyed *k) {
    keyed_ctx *kc = ctx;
    fl_check *c = kc->c;
    const char *writer = NULL;
    const char *format = format_of(k->type, &writer);
    char text[RT_ERROR_MSG_MAX];
    if (format == NULL) {
        snprintf(text, sizeof text, "operator %s subtask %d holds a %s: the model has no changelog state backend",
                 op->id, (int)st->index, fl_handle_class(k->type));
        add_reason(c, FL_UNKNOWN, "backend", text);
        return 0;
    }
    rt_error err;
    rt_error_clear(&err);
    if (sim_format_is_key_groups(format) && kc->kg_writer) writer = kc->kg_writer;
    if (c->backend && sim_handle_check_reader(c->backend, format, writer, &err) != RT_OK) add_error(c, "backend", &err);
    else if (sim_format_is_key_groups(format)) check_key_groups(kc, op, st);
    return 0;
}

static void check_sst(fl_check *c, const fl_snapshot *s) {
    if (c->backend && strcmp(c->backend, "rocksdb") != 0) return; /* the backend rule decides */
    for (size_t i = 0; i < s->n_files; i++) {
        const fl_file *f = &s->files[i];
        if (!f->sst || f->exists != 1) continue;
        const char *name = f->where[0] ? f->where : f->h->path;
        rt_error err;
        rt_error_clear(&err);
        if (f->sst_format < 0) {
            snprintf(err.msg, sizeof err.msg, "SST file %.240s: %.200s", name, f->sst_error);
            add_error(c, "sst-format", &err);
        } else if (sim_version_check_sst(c->target, (uint32_t)f->sst_format, name, &err) != RT_OK) {
            add_error(c, "sst-format", &err);
        }
    }
}

static void check_files(fl_check *c, const fl_snapshot *s) {
    char text[RT_ERROR_MSG_MAX];
    for (size_t i = 0; i < s->n_files; i++) {
        const fl_file *f = &s->files[i];
        if (!f->first) continue;
        if (f->problems & FL_PROB_MISSING) {
            snprintf(text, sizeof text, "snapshot file %.200s is missing%s", f->where,
                     f->h->kind == FL_PATH_ABSOLUTE && !s->self_contained
                         ? " (the snapshot is not self-contained: it holds absolute paths, so it cannot be "
                           "relocated)"
                         : "");
            add_reason(c, FL_REJECTED, f->h->kind == FL_PATH_ABSOLUTE ? "relocation" : "files", text);
        } else if (f->problems & FL_PROB_SIZE) {
            snprintf(text, sizeof text, "snapshot file %.200s has %" PRId64 " bytes, metadata says %" PRId64, f->where,
                     f->actual_size, f->h->size);
            add_reason(c, FL_REJECTED, "files", text);
        } else if (f->problems & FL_PROB_UNCHECKED) {
            snprintf(text, sizeof text, "file %.200s is on a file system this tool cannot check", f->h->path);
            add_reason(c, FL_UNKNOWN, "files", text);
        }
    }
}

static int parse_line(const char *release) {
    int major = 0, minor = 0;
    return sscanf(release, "%d.%d", &major, &minor) == 2 ? major * 1000 + minor : -1;
}

/* The channel-state files' serialization version, and whether the writer
 * may be older than every modelled release. */
static void check_channel_state(fl_check *c, const fl_snapshot *s, const sim_version *from) {
    if (s->meta.n_channel_handles == 0) return;
    for (size_t i = 0; i < s->n_files; i++) {
        const fl_file *f = &s->files[i];
        if (!f->first || strncmp(f->h->role, "channel", 7) != 0 || f->exists != 1) continue;
        uint8_t head[4];
        size_t n = 0;
        if (f->h->kind == FL_PATH_INLINED) {
            n = f->h->n_bytes < 4 ? f->h->n_bytes : 4;
            memcpy(head, f->h->bytes, n);
        } else {
            FILE *in = fopen(f->where, "rb");
            if (in) {
                n = fread(head, 1, 4, in);
                fclose(in);
            }
        }
        rt_error err;
        rt_error_clear(&err);
        if (n < 4) {
            snprintf(err.msg, sizeof err.msg, "channel state file %.200s has no header", f->where);
            add_error(c, "channel-state", &err);
            continue;
        }
        uint32_t found = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
        uint32_t reads = sim_version_channel_state_serialization(c->target);
        if (sim_version_check_channel_state(c->target, found, reads, f->where[0] ? f->where : f->h->path, &err) != RT_OK)
            add_error(c, "channel-state", &err);
    }
    const fl_version_info *vi = fl_meta_version(s->meta.version);
    int earliest = -1;
    for (int i = 0; i < sim_version_count; i++)
        if (sim_versions[i].metadata_write == s->meta.version && (earliest < 0 || line_of(&sim_versions[i]) < earliest))
            earliest = line_of(&sim_versions[i]);
    if (from == NULL && vi != NULL && earliest >= 0 && parse_line(vi->introduced) < earliest) {
        char text[RT_ERROR_MSG_MAX];
        snprintf(text, sizeof text,
                 "channel state in _metadata V%d, which Flink writes from %s on; the model's first release "
                 "writing it is %d.%d, and channel state of older releases (before 1.13 made it rescalable, "
                 "FLINK-17979) is not modelled: name the writer with --from",
                 s->meta.version, vi->introduced, earliest / 1000, earliest % 1000);
        add_reason(c, FL_UNKNOWN, "channel-state", text);
    }
}

/* Kryo generations: the table records them, no model mechanism decides
 * Kryo-serialized state; so a change of generation is unknown. */
static void check_kryo(fl_check *c, const fl_snapshot *s, const sim_version *from) {
    if (s->n_kryo == 0) return;
    int kryo = -1;
    for (int i = 0; i < sim_version_count; i++) {
        const sim_version *v = &sim_versions[i];
        if (from ? v != from : v->metadata_write != s->meta.version) continue;
        if (kryo < 0) kryo = v->kryo_major;
        else if (kryo != v->kryo_major) kryo = 0;
    }
    if (kryo == c->target->kryo_major) return;
    char text[RT_ERROR_MSG_MAX];
    char gen[32] = "an unknown Kryo";
    if (kryo > 0) snprintf(gen, sizeof gen, "Kryo %d", kryo);
    snprintf(text, sizeof text,
             "state serialized with Kryo (a KryoSerializer snapshot in %zu handle(s)), written with %s and "
             "read by %s with Kryo %d: the model does not decide Kryo-serialized state",
             s->n_kryo, gen, c->target->name, c->target->kryo_major);
    add_reason(c, FL_UNKNOWN, "kryo", text);
}

rt_err fl_check_run(const fl_snapshot *s, const sim_version *target, const char *backend, const sim_version *from,
                    fl_check *out, rt_error *e) {
    assert(s != NULL);
    assert(target != NULL);
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    out->target = target;
    out->verdict = FL_RESTORES;
    if (backend != NULL) {
        if (strcmp(backend, "hashmap") == 0 || strcmp(backend, "heap") == 0) out->backend = "heap";
        else if (strcmp(backend, "rocksdb") == 0) out->backend = "rocksdb";
        else return RT_FAIL(e, RT_EUSAGE, "unknown backend '%s' (heap, hashmap or rocksdb)", backend);
    }
    if (from != NULL && from->metadata_write != s->meta.version)
        return RT_FAIL(e, RT_EUSAGE, "--from %s: that release writes _metadata version %d, this snapshot has %d",
                       from->name, from->metadata_write, (int)s->meta.version);
    find_writers(out, s, from);
    check_metadata(out, s);
    keyed_ctx kc = {out, key_groups_writer(s, from)};
    fl_meta_each_keyed(&s->meta, check_keyed, &kc);
    check_sst(out, s);
    check_files(out, s);
    check_channel_state(out, s, from);
    check_kryo(out, s, from);
    assert(out->verdict != FL_RESTORES || out->n_reasons == 0);
    return RT_OK;
}
