/* sim_metadata: writing and parsing _metadata. */
#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "sim_metadata.h"

/* _metadata seals itself: its last member is "checksum", the xxh3 of the
 * whole text with those 16 digits as zeros. A flipped byte anywhere (a
 * digit of an offset, a path) is then a named error, not a wrong restore. */
#define SUM_KEY "\"checksum\": \""
#define ZERO_SUM "0000000000000000"

/* The last SUM_KEY with room for its 16 digits and quote after it
 * (searched from the end: it is the last member). */
static char *find_sum(char *text, size_t len) {
    size_t klen = strlen(SUM_KEY);
    if (len < klen + 17) return NULL;
    char *last = NULL;
    for (char *p = text + len - klen - 17;; p--) {
        if (memcmp(p, SUM_KEY, klen) == 0) {
            last = p + klen;
            break;
        }
        if (p == text) break;
    }
    if (last == NULL || last[16] != '"') return NULL;
    return last;
}

int sim_meta_seal(char *text, size_t len) {
    char *sum = find_sum(text, len);
    if (sum == NULL) return -1;
    memcpy(sum, ZERO_SUM, 16);
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, sim_checksum(text, len));
    memcpy(sum, hex, 16);
    return 0;
}

static rt_err check_seal(const char *text, size_t len, const char *what, rt_error *e) {
    char *copy = malloc(len + 1);
    if (copy == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *sum = find_sum(copy, len);
    char stored[17] = "";
    if (sum) memcpy(stored, sum, 16);
    int ok = sum != NULL && sim_meta_seal(copy, len) == 0 && memcmp(stored, sum, 16) == 0;
    free(copy);
    if (sum == NULL) return RT_FAIL(e, RT_EFORMAT, "%s: not a sealed _metadata (no checksum at its end)", what);
    if (!ok) return RT_FAIL(e, RT_ECHECKSUM, "%s: _metadata checksum mismatch (damaged)", what);
    return RT_OK;
}

static json_t *hex64(uint64_t x) {
    char b[24];
    snprintf(b, sizeof b, "%016" PRIx64, x);
    return json_string(b);
}

static int parse_hex64(json_t *j, uint64_t *out) {
    const char *s = json_string_value(j);
    if (s == NULL || strlen(s) != 16) return -1;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
        if (d < 0) return -1;
        x = x << 4 | (uint64_t)d;
    }
    *out = x;
    return 0;
}

/* Writes len bytes as lowercase hex at dst; returns the end. */
static char *put_hex(char *dst, const uint8_t *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        *dst++ = digits[data[i] >> 4];
        *dst++ = digits[data[i] & 15];
    }
    return dst;
}

static int hex_digit(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ---- writing ---- */

/* How each handle is written, MetadataV2V3SerializerBase's
 * serializeStreamStateHandle by handle type: a ByteStreamStateHandle with
 * its bytes, a FileStateHandle with its absolute path, a
 * RelativeFileStateHandle with its path relative to the directory the
 * _metadata is written to. */
typedef struct handle_writer {
    const rt_store *store;
    const char *dir;          /* the snapshot's directory */
    const sim_bytes_pool *pool;
    sim_mutant mutant;
    int savepoint;
    int foreign_relative; /* another directory's relative handle stays relative */
    int n_absolute;
    int n_foreign; /* foreign relative handles written relative */
    int held;      /* the coordinator's copy: each of those also names its file */
    rt_err rc;
    rt_error *e;
    /* The inlined handles in the order they are written: the document holds
     * INLINE_MARK for their data, their hex goes into the text (splice). */
    const sim_bytes_entry **inl;
    int n_inl, cap_inl;
} handle_writer;

static void write_failed(handle_writer *w, rt_err code, const char *what, const char *path) {
    if (w->rc == RT_OK) w->rc = RT_FAIL(w->e, code, "metadata: %s: %s", what, path);
}

/* An inlined handle's "data" in the document until the text is dumped: a
 * string no handle writes (one control character, dumped as \u0001), so
 * the tree is not built from, nor escaped over, hundreds of KB of hex. */
#define INLINE_MARK "\x01"
#define INLINE_MARK_DUMPED "\"data\": \"\\u0001\""

static void note_inlined(handle_writer *w, const sim_bytes_entry *b, const char *path) {
    if (w->n_inl == w->cap_inl) {
        int cap = w->cap_inl ? 2 * w->cap_inl : 16;
        const sim_bytes_entry **n = realloc(w->inl, (size_t)cap * sizeof *n);
        if (n == NULL) {
            write_failed(w, RT_ENOMEM, "out of memory", path);
            return;
        }
        w->inl = n;
        w->cap_inl = cap;
    }
    w->inl[w->n_inl++] = b;
}

/* A relative handle of another directory: a native savepoint's SST that an
 * incremental checkpoint after a CLAIM or LEGACY restore reuses. Flink's
 * MetadataV2V3SerializerBase writes a RelativeFileStateHandle by its
 * relative path whatever directory it came from, and the reader re-anchors
 * it to the directory of the _metadata it reads: the checkpoint names
 * chk-N/<file>, which does not exist (FLINK-39964; seen on real Flink
 * 1.20.0, 1.20.3, 2.1.1 and 2.3.0: no release has a fix). The checkpoint path
 * does the same (foreign_relative). The State Processor API's writer keeps
 * such a handle absolute: on real Flink 1.20.0 its savepoints held every
 * file they need (conformance/STATUS.md), which a relative handle into the
 * original would not give. The foreign-relative-absolute mutant writes the
 * checkpoint's absolute too, the fix no release has. */
static const char *relative_location(handle_writer *w, const sim_file_ref *f, char *loc, size_t cap,
                                     sim_handle_type *as) {
    *as = SIM_HANDLE_RELATIVE;
    if (sim_path_under(f->path, w->dir)) {
        /* Entropy injection writes exclusive state absolute; so does the mutant. */
        if (!(w->savepoint && w->mutant == SIM_MUT_SAVEPOINT_ABSOLUTE))
            return f->path + strlen(w->dir) + 1;
    } else if (w->foreign_relative && w->mutant != SIM_MUT_FOREIGN_ABSOLUTE) {
        w->n_foreign++;
        return sim_file_ref_name(f);
    }
    *as = SIM_HANDLE_FILE;
    rt_store_absolute(w->store, f->path, loc, cap);
    return loc;
}

static json_t *handle_json(handle_writer *w, const sim_file_ref *f) {
    json_t *j = json_pack("{s:I, s:o, s:b, s:s, s:I}", "size", (json_int_t)f->size, "xxh3", hex64(f->xxh3), "shared",
                          f->shared, "local", f->local_name, "created_by", (json_int_t)f->created_by);
    if (j == NULL) {
        write_failed(w, RT_ENOMEM, "out of memory", f->path);
        return NULL;
    }
    char loc[1024];
    sim_handle_type as = (sim_handle_type)f->type;
    const char *where = loc;
    if (as == SIM_HANDLE_BYTES) {
        const sim_bytes_entry *b = w->pool ? sim_bytes_get(w->pool, f->path) : NULL;
        if (b == NULL || b->len != f->size) write_failed(w, RT_EINTERNAL, "no bytes for inlined state", f->path);
        json_object_set_new(j, "name", json_string(f->path));
        if (b != NULL) {
            json_object_set_new(j, "data", json_string(INLINE_MARK));
            note_inlined(w, b, f->path);
        }
    } else if (as == SIM_HANDLE_RELATIVE) {
        where = relative_location(w, f, loc, sizeof loc, &as);
    } else {
        rt_store_absolute(w->store, f->path, loc, sizeof loc);
    }
    if (as != SIM_HANDLE_BYTES) json_object_set_new(j, "path", json_string(where));
    /* In memory a RelativeFileStateHandle keeps the file it was loaded
     * from; only its serialized form loses it. */
    if (w->held && as == SIM_HANDLE_RELATIVE && !sim_path_under(f->path, w->dir))
        json_object_set_new(j, "resolved", json_string(f->path));
    if (as == SIM_HANDLE_FILE) w->n_absolute++;
    json_object_set_new(j, "type", json_string(sim_handle_type_name(as)));
    return j;
}

static json_t *keyed_json(handle_writer *w, const sim_keyed_handle *h) {
    json_t *files = json_array(), *states = json_array();
    for (int i = 0; i < h->n_files; i++) json_array_append_new(files, handle_json(w, &h->files[i]));
    for (int i = 0; i < h->n_states; i++) json_array_append_new(states, sim_schema_to_json(&h->states[i]));
    json_t *k = json_pack("{s:s, s:s, s:[i,i], s:b, s:i, s:I, s:o, s:o}", "format", h->format, "backend",
                          h->backend, "key_groups", (int)h->kg_lo, (int)h->kg_hi, "incremental",
                          h->incremental, "sst_format_version", h->sst_format_version, "checkpoint_id",
                          (json_int_t)h->checkpoint_id, "states", states, "files", files);
    if (k && h->key_type != SIM_T_LONG) /* absent: a long key, as before keys had a type */
        json_object_set_new(k, "key_type", json_string(sim_ftype_name(h->key_type)));
    return k;
}

static json_t *epoch_json(const sim_epoch *ep, uint32_t splits) {
    json_t *start = json_array(), *inflight = json_array(), *fresh = json_array();
    for (uint32_t s = 0; s < splits; s++) json_array_append_new(start, json_integer((json_int_t)ep->start[s]));
    for (size_t i = 0; i < ep->n_inflight; i++)
        json_array_append_new(inflight, json_pack("[i,o]", ep->inflight_op[i], hex64(ep->inflight_id[i])));
    for (int o = 0; o < ep->job.n_ops; o++)
        if (ep->fresh[o]) json_array_append_new(fresh, json_string(ep->job.ops[o].uid));
    return json_pack("{s:o, s:o, s:o, s:o}", "job", sim_job_to_json(&ep->job), "start", start,
                     "inflight", inflight, "fresh", fresh);
}

/* What every _metadata says about itself, before its operators. */
typedef struct meta_header {
    int version;
    const char *engine, *job_id;
    int64_t checkpoint_id;
    int savepoint;
    const char *kind, *format, *backend, *sharing;
    int incremental;
    uint64_t source_seed;
    const sim_job *job;
} meta_header;

/* Assembles the document; the checksum comes last, sealed after dumping.
 * The storage root is named when a handle is absolute (for tools that
 * must find the storage from the snapshot alone). */
static json_t *document(const meta_header *h, handle_writer *w, json_t *lineage, json_t *ops) {
    json_t *m = json_pack("{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:s}", "magic",
                          SIM_METADATA_MAGIC, "version", h->version, "engine", h->engine, "job_id", h->job_id,
                          "checkpoint_id", (json_int_t)h->checkpoint_id, "type",
                          h->savepoint ? "savepoint" : "checkpoint", "snapshot_kind", h->kind, "format", h->format,
                          "backend", h->backend, "incremental", h->incremental, "sharing", h->sharing);
    if (m == NULL) return NULL;
    if (w->n_absolute) json_object_set_new(m, "storage_root", json_string(rt_store_root(w->store)));
    json_object_set_new(m, "source_seed", hex64(h->source_seed));
    json_object_set_new(m, "job", sim_job_to_json(h->job));
    json_object_set_new(m, "lineage", lineage);
    json_object_set_new(m, "operators", ops);
    json_object_set_new(m, "checksum", json_string(ZERO_SUM));
    return m;
}

/* The dumped text with each INLINE_MARK replaced by its handle's bytes in
 * hex, in the order they were written (hex needs no escaping: the text is
 * what dumping the hex strings gives). *out is dumped itself when nothing
 * is inlined; else a new text (dumped stays the caller's). */
static rt_err splice_inlined(char *dumped, size_t dlen, const handle_writer *w, char **out, size_t *out_len,
                             rt_error *e) {
    if (w->n_inl == 0) {
        *out = dumped;
        *out_len = dlen;
        return RT_OK;
    }
    const size_t mlen = strlen(INLINE_MARK_DUMPED), vlen = strlen("\"data\": \""), dumped_value = mlen - vlen - 1;
    size_t total = dlen;
    for (int i = 0; i < w->n_inl; i++) total += 2 * w->inl[i]->len - dumped_value;
    char *text = malloc(total + 1), *dst = text;
    if (text == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: out of memory");
    const char *src = dumped;
    for (int i = 0; i < w->n_inl; i++) {
        const char *at = strstr(src, INLINE_MARK_DUMPED);
        if (at == NULL) break;
        at += vlen;
        memcpy(dst, src, (size_t)(at - src));
        dst = put_hex(dst + (at - src), w->inl[i]->data, w->inl[i]->len);
        src = at + dumped_value;
    }
    size_t rest = dlen - (size_t)(src - dumped);
    if (strstr(src, INLINE_MARK_DUMPED) != NULL || (size_t)(dst - text) + rest != total) {
        free(text);
        return RT_FAIL(e, RT_EINTERNAL, "metadata: inlined state marks do not match the handles written");
    }
    memcpy(dst, src, rest + 1);
    *out = text;
    *out_len = total;
    return RT_OK;
}

/* Dumps and seals the document m (not taken), written by w, into *text (the
 * caller frees it). */
static rt_err seal_document(json_t *m, const handle_writer *w, char **text_out, size_t *len_out, rt_error *e) {
    if (m == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: cannot build JSON");
    char *dumped = json_dumps(m, JSON_INDENT(1));
    if (dumped == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: cannot serialize");
    char *text = NULL;
    size_t len = 0;
    rt_err rc = splice_inlined(dumped, strlen(dumped), w, &text, &len, e);
    if (text != dumped) free(dumped);
    if (rc != RT_OK) return rc;
    int sealed = sim_meta_seal(text, len);
    assert(sealed == 0);
    (void)sealed;
    *text_out = text;
    *len_out = len;
    return RT_OK;
}

static rt_err parse_tree(sim_meta *m, json_t *root, const rt_store *store, const char *dir, const char *what,
                         int held, const sim_bytes_pool *inline_src, rt_error *e);

/* The cache's entry for the bytes just stored, made without parsing them:
 * the parser's own walk (parse_tree) over the document they were dumped
 * from, resolved as a load of dir resolves it. That the text parses back to
 * the same is tests/test_restore.c's check (writer and reader agree), not
 * every write's; the document the writer built must still be readable. */
static void keep_written(sim_meta_cache *cache, const rt_store *store, const char *dir, const char *path, json_t *m,
                         const handle_writer *w, const char *text, size_t len) {
    sim_meta back;
    rt_error pe;
    rt_error_clear(&pe);
    if (cache && parse_tree(&back, m, store, dir, path, 0, w->pool, &pe) == RT_OK) {
        sim_meta_cache_keep(cache, text, len, store, dir, &back);
        sim_meta_free(&back);
        return;
    }
#ifndef NDEBUG
    rt_err parsed = parse_tree(&back, m, NULL, dir, path, 0, w->pool, &pe);
    assert(parsed == RT_OK);
    if (parsed == RT_OK) sim_meta_free(&back);
#endif
}

/* Dumps, seals and stores dir/_metadata from the document m (taken); *kept
 * (unless NULL) receives the stored text (the caller frees it). */
static rt_err store_document(rt_store *store, const char *dir, json_t *m, const handle_writer *w, size_t *len_out,
                             char **kept, sim_meta_cache *cache, rt_error *e) {
    char *text;
    size_t len;
    rt_err rc0 = seal_document(m, w, &text, &len, e);
    if (rc0 != RT_OK) {
        json_decref(m);
        return rc0;
    }
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    rt_err rc = rt_store_put(store, path, text, len, e);
    if (rc == RT_OK) keep_written(cache, store, dir, path, m, w, text, len);
    json_decref(m);
    if (kept && rc == RT_OK) *kept = text;
    else free(text);
    *len_out = len;
    return rc;
}

/* The _metadata of a checkpoint or savepoint the run completes. */
typedef struct meta_writer {
    sim_run *r;
    const sim_pending *p;
    sim_completed *c;
    handle_writer hw;
} meta_writer;

/* A handle of the snapshot, remembered for deletion too. */
static json_t *file_json(meta_writer *w, const sim_file_ref *f) {
    if (sim_completed_add_file(w->c, f) != 0) write_failed(&w->hw, RT_ENOMEM, "out of memory", f->path);
    return handle_json(&w->hw, f);
}

/* Subtask t's part of the checkpoint, as it acknowledged it. */
static json_t *subtask_json(meta_writer *w, const sim_task *t, const sim_task_snap *snap) {
    sim_run *r = w->r;
    const sim_op *op = &r->job.ops[t->op];
    json_t *s = json_pack("{s:i}", "index", (int)t->idx);
    if (snap->has_keyed) {
        for (int i = 0; i < snap->keyed.n_files; i++)
            if (sim_completed_add_file(w->c, &snap->keyed.files[i]) != 0)
                write_failed(&w->hw, RT_ENOMEM, "out of memory", snap->keyed.files[i].path);
        json_object_set_new(s, "keyed", keyed_json(&w->hw, &snap->keyed));
    }
    if (op->kind == SIM_OP_SOURCE) {
        json_t *offs = json_array();
        for (uint32_t sp = 0; sp < r->job.splits; sp++)
            if (sp % op->parallelism == t->idx && snap->offsets_valid)
                json_array_append_new(offs, json_pack("[i,I]", (int)sp, (json_int_t)snap->offsets[sp]));
        json_object_set_new(s, "offsets", offs);
    }
    if (op->kind == SIM_OP_SINK)
        json_object_set_new(s, "sink", json_pack("{s:I, s:o}", "count", (json_int_t)snap->sink_count,
                                                 "hash", hex64(snap->sink_hash)));
    if (snap->has_cs) json_object_set_new(s, "channel_state", file_json(w, &snap->cs_file));
    return s;
}

static json_t *build(meta_writer *w) {
    sim_run *r = w->r;
    const sim_pending *p = w->p;
    json_t *ops = json_array(), *lineage = json_array();
    for (int o = 0; o < r->job.n_ops; o++) {
        const sim_op *op = &r->job.ops[o];
        json_t *subs = json_array();
        for (uint32_t i = 0; i < op->parallelism; i++) {
            int t = r->op_first_task[o] + (int)i;
            json_array_append_new(subs, subtask_json(w, &r->tasks[t], &p->snaps[t]));
        }
        json_array_append_new(ops, json_pack("{s:s, s:i, s:i, s:o}", "uid", op->uid, "parallelism",
                                             (int)op->parallelism, "max_parallelism",
                                             (int)op->max_parallelism, "subtasks", subs));
    }
    for (int i = 0; i < r->n_epochs; i++) json_array_append_new(lineage, epoch_json(&r->epochs[i], r->job.splits));
    meta_header h = {r->cfg.engine->metadata_write, r->cfg.engine->name, r->job_id, p->id, p->savepoint,
                     sim_kind_name(p->kind), p->canonical ? "canonical" : "native", r->cfg.backend,
                     sim_sharing_name(p->sharing), r->cfg.incremental, r->cfg.source_seed, &r->job};
    return document(&h, &w->hw, lineage, ops);
}

/* The checkpoint as the coordinator holds it (c->held): the same document,
 * with each foreign relative handle also naming the file it was loaded
 * from, as Flink's in-memory handle does; built on a scratch entry so that
 * c's file lists are not counted twice. */
static rt_err hold_in_memory(sim_run *r, const sim_pending *p, sim_completed *c, rt_error *e) {
    sim_completed scratch;
    memset(&scratch, 0, sizeof scratch);
    meta_writer w = {r, p, &scratch, {r->cfg.store, p->dir, &r->inline_pool, r->cfg.mutant, p->savepoint, 1, 0, 0, 1,
                                      RT_OK, e, NULL, 0, 0}};
    json_t *m = build(&w);
    sim_completed_free(&scratch);
    rt_err rc = w.hw.rc;
    assert(rc != RT_OK || w.hw.n_foreign > 0);
    if (rc == RT_OK) rc = seal_document(m, &w.hw, &c->held, &c->held_len, e);
    json_decref(m);
    free(w.hw.inl);
    return rc;
}

rt_err sim_metadata_write(sim_run *r, const sim_pending *p, sim_completed *c, rt_error *e) {
    meta_writer w = {r, p, c, {r->cfg.store, p->dir, &r->inline_pool, r->cfg.mutant, p->savepoint, 1, 0, 0, 0, RT_OK,
                               e, NULL, 0, 0}};
    json_t *m = build(&w);
    size_t len = 0;
    rt_err rc = w.hw.rc;
    if (rc == RT_OK && w.hw.n_foreign > 0) rc = hold_in_memory(r, p, c, e);
    if (rc != RT_OK) {
        json_decref(m);
        free(w.hw.inl);
        return rc;
    }
    /* Without a foreign handle the coordinator's copy is the stored text. */
    int same = c->held == NULL;
    rc = store_document(r->cfg.store, p->dir, m, &w.hw, &len, same ? &c->held : NULL, r->cfg.meta_cache, e);
    free(w.hw.inl);
    if (rc != RT_OK) return rc;
    if (same) c->held_len = len;
    r->stats.files_written++;
    r->stats.bytes_written += len;
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", p->dir);
    if (rt_strlist_push(&c->files, path) != 0) return RT_FAIL(e, RT_ENOMEM, "metadata: out of memory");
    return RT_OK;
}

/* ---- writing a composed snapshot (the State Processor API) ---- */

static json_t *meta_subtask_json(handle_writer *w, const sim_meta_subtask *st) {
    json_t *s = json_pack("{s:i}", "index", (int)st->index);
    if (st->has_keyed) json_object_set_new(s, "keyed", keyed_json(w, &st->keyed));
    if (st->n_offsets) {
        json_t *offs = json_array();
        for (int k = 0; k < st->n_offsets; k++)
            json_array_append_new(offs, json_pack("[i,I]", (int)st->split[k], (json_int_t)st->offset[k]));
        json_object_set_new(s, "offsets", offs);
    }
    if (st->has_sink)
        json_object_set_new(s, "sink", json_pack("{s:I, s:o}", "count", (json_int_t)st->sink_count, "hash",
                                                 hex64(st->sink_hash)));
    if (st->has_cs) json_object_set_new(s, "channel_state", handle_json(w, &st->cs_file));
    return s;
}

rt_err sim_meta_write(rt_store *store, const char *dir, const sim_meta *m, sim_mutant mutant, rt_error *e) {
    handle_writer w = {store, dir, &m->inline_pool, mutant, m->savepoint, 0, 0, 0, 0, RT_OK, e, NULL, 0, 0};
    json_t *ops = json_array(), *lineage = json_array();
    for (int o = 0; o < m->n_ops; o++) {
        const sim_meta_op *op = &m->ops[o];
        json_t *subs = json_array();
        for (int i = 0; i < op->n_sub; i++) json_array_append_new(subs, meta_subtask_json(&w, &op->sub[i]));
        json_array_append_new(ops, json_pack("{s:s, s:i, s:i, s:o}", "uid", op->uid, "parallelism",
                                             (int)op->parallelism, "max_parallelism", (int)op->max_parallelism,
                                             "subtasks", subs));
    }
    for (int i = 0; i < m->n_epochs; i++) json_array_append_new(lineage, epoch_json(&m->epochs[i], m->job.splits));
    meta_header h = {m->version, m->engine, m->job_id, m->checkpoint_id, m->savepoint, m->snapshot_kind, m->format,
                     m->backend, m->sharing, m->incremental, m->source_seed, &m->job};
    json_t *doc = document(&h, &w, lineage, ops);
    size_t len = 0;
    rt_err rc = w.rc;
    if (rc != RT_OK) json_decref(doc);
    else rc = store_document(store, dir, doc, &w, &len, NULL, NULL, e);
    free(w.inl);
    return rc;
}

/* ---- parsing ---- */

typedef struct meta_parser {
    sim_meta *m;
    const rt_store *store;
    const char *dir;
    const char *what;
    int held; /* the coordinator's in-memory copy: "resolved" paths count */
    /* The writer's own document: INLINE_MARK data are these bytes. */
    const sim_bytes_pool *inline_src;
    rt_error *e;
} meta_parser;

static rt_err bad(meta_parser *ps, const char *field) {
    return RT_FAIL(ps->e, RT_EFORMAT, "%s: malformed _metadata: %s", ps->what, field);
}

/* A relative path is re-anchored to the directory _metadata is read from
 * (MetadataV2V3SerializerBase's DeserializationContext); an absolute one
 * must lie in the storage. */
static rt_err resolve_path(meta_parser *ps, sim_handle_type type, const char *written, char *out, size_t cap) {
    if (ps->store == NULL) {
        snprintf(out, cap, "%s", written);
        return RT_OK;
    }
    if (type == SIM_HANDLE_RELATIVE) {
        rt_err rc = rt_store_check_path(written, ps->e);
        if (rc != RT_OK) return rc;
        if ((size_t)snprintf(out, cap, "%s/%s", ps->dir, written) >= cap)
            return RT_FAIL(ps->e, RT_EFORMAT, "%s: path too long: %s", ps->what, written);
        return RT_OK;
    }
    rt_err rc = rt_store_relativize(ps->store, written, out, cap, ps->e);
    if (rc != RT_OK)
        rt_error_prefix(ps->e, "%s: snapshot references a file outside its storage: ", ps->what);
    return rc;
}

/* An inlined handle's bytes go to the snapshot's pool, by name. */
/* An inlined handle's bytes (NULL: none, or not hex) into the parse's pool
 * under name, which the handle then names; refused unless they are its size. */
static rt_err keep_inline(meta_parser *ps, const char *name, const uint8_t *bytes, size_t len, sim_file_ref *f) {
    if (bytes == NULL || strlen(name) == 0 || strlen(name) >= sizeof f->path || len != f->size)
        return bad(ps, "inlined state");
    rt_err rc = sim_bytes_put(&ps->m->inline_pool, name, bytes, len, ps->e);
    if (rc == RT_OK) snprintf(f->path, sizeof f->path, "%s", name);
    return rc;
}

static rt_err inline_from_json(meta_parser *ps, const char *name, const char *data, sim_file_ref *f) {
    size_t n = strlen(data);
    if (n % 2 != 0) return bad(ps, "inlined state");
    uint8_t *bytes = malloc(n / 2 + 1);
    if (bytes == NULL) return RT_FAIL(ps->e, RT_ENOMEM, "metadata: out of memory");
    int ok = 1;
    for (size_t i = 0; i < n / 2 && ok; i++) {
        int hi = hex_digit(data[2 * i]), lo = hex_digit(data[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        bytes[i] = (uint8_t)(hi << 4 | (lo & 15));
    }
    rt_err rc = keep_inline(ps, name, ok ? bytes : NULL, n / 2, f);
    free(bytes);
    return rc;
}

/* The same from the writer's pool, for its document before splicing. */
static rt_err inline_from_pool(meta_parser *ps, const char *name, sim_file_ref *f) {
    const sim_bytes_entry *b = sim_bytes_get(ps->inline_src, name);
    return keep_inline(ps, name, b ? b->data : NULL, b ? b->len : 0, f);
}

static rt_err file_from_json(meta_parser *ps, json_t *j, sim_file_ref *f) {
    const char *type_s, *path = NULL, *name = NULL, *data = NULL, *local = "", *resolved = NULL;
    json_int_t size = 0, created = 0;
    json_t *x = NULL;
    int shared = 0;
    sim_handle_type type;
    memset(f, 0, sizeof *f);
    if (json_unpack(j, "{s:s, s?:s, s?:s, s?:s, s:I, s:o, s:b, s?:s, s?:I, s?:s}", "type", &type_s, "path", &path,
                    "name", &name, "data", &data, "size", &size, "xxh3", &x, "shared", &shared, "local", &local,
                    "created_by", &created, "resolved", &resolved) != 0 ||
        size < 0 || created < 0 || parse_hex64(x, &f->xxh3) != 0 || sim_handle_type_parse(type_s, &type) != 0)
        return bad(ps, "file entry");
    f->type = (uint8_t)type;
    f->created_by = created;
    f->size = (uint64_t)size;
    f->shared = shared;
    snprintf(f->local_name, sizeof f->local_name, "%s", local);
    ps->m->n_handles[type]++;
    if (type == SIM_HANDLE_BYTES) {
        if (name == NULL || data == NULL) return bad(ps, "inlined state");
        return ps->inline_src && strcmp(data, INLINE_MARK) == 0 ? inline_from_pool(ps, name, f)
                                                               : inline_from_json(ps, name, data, f);
    }
    if (path == NULL) return bad(ps, "file entry without a path");
    if (resolved == NULL || !ps->held || type != SIM_HANDLE_RELATIVE)
        return resolve_path(ps, type, path, f->path, sizeof f->path);
    rt_err rc = rt_store_check_path(resolved, ps->e);
    if (rc == RT_OK && strlen(resolved) >= sizeof f->path) rc = bad(ps, "resolved path too long");
    if (rc == RT_OK) snprintf(f->path, sizeof f->path, "%s", resolved);
    return rc;
}

static rt_err keyed_from_json(meta_parser *ps, json_t *j, sim_keyed_handle *h) {
    const char *format, *backend;
    int lo, hi, inc, sstv;
    json_int_t cid;
    json_t *states, *files;
    sim_handle_init(h);
    if (json_unpack(j, "{s:s, s:s, s:[i,i], s:b, s:i, s:I, s:o, s:o}", "format", &format, "backend",
                    &backend, "key_groups", &lo, &hi, "incremental", &inc, "sst_format_version",
                    &sstv, "checkpoint_id", &cid, "states", &states, "files", &files) != 0 ||
        lo < 0 || hi < lo || !json_is_array(states) || !json_is_array(files) ||
        json_array_size(states) > SIM_MAX_STATES)
        return bad(ps, "keyed state handle");
    snprintf(h->format, sizeof h->format, "%s", format);
    snprintf(h->backend, sizeof h->backend, "%s", backend);
    h->kg_lo = (uint32_t)lo;
    h->kg_hi = (uint32_t)hi;
    h->incremental = inc;
    h->sst_format_version = sstv;
    h->checkpoint_id = cid;
    json_t *kt = json_object_get(j, "key_type");
    if (kt && (!json_is_string(kt) || sim_ftype_parse(json_string_value(kt), &h->key_type) != 0))
        return bad(ps, "keyed state handle (key_type)");
    for (size_t i = 0; i < json_array_size(states); i++) {
        rt_err rc = sim_schema_from_json(&h->states[i], json_array_get(states, i), ps->what, ps->e);
        if (rc != RT_OK) return rc;
        h->n_states++;
    }
    for (size_t i = 0; i < json_array_size(files); i++) {
        sim_file_ref f;
        rt_err rc = file_from_json(ps, json_array_get(files, i), &f);
        if (rc == RT_OK) rc = sim_handle_add_file(h, &f, ps->e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

static rt_err subtask_from_json(meta_parser *ps, json_t *j, sim_meta_subtask *s) {
    int index;
    json_t *keyed = NULL, *offsets = NULL, *sink = NULL, *cs = NULL;
    memset(s, 0, sizeof *s);
    if (json_unpack(j, "{s:i, s?:o, s?:o, s?:o, s?:o}", "index", &index, "keyed", &keyed, "offsets",
                    &offsets, "sink", &sink, "channel_state", &cs) != 0 || index < 0)
        return bad(ps, "subtask");
    s->index = (uint32_t)index;
    rt_err rc = RT_OK;
    if (keyed) {
        s->has_keyed = 1;
        rc = keyed_from_json(ps, keyed, &s->keyed);
    }
    if (rc == RT_OK && cs) {
        s->has_cs = 1;
        rc = file_from_json(ps, cs, &s->cs_file);
    }
    if (rc == RT_OK && sink) {
        json_int_t cnt;
        json_t *h;
        if (json_unpack(sink, "{s:I, s:o}", "count", &cnt, "hash", &h) != 0 || parse_hex64(h, &s->sink_hash))
            return bad(ps, "sink state");
        s->has_sink = 1;
        s->sink_count = (uint64_t)cnt;
    }
    for (size_t i = 0; rc == RT_OK && offsets && i < json_array_size(offsets); i++) {
        int split;
        json_int_t off;
        if (json_unpack(json_array_get(offsets, i), "[i,I]", &split, &off) != 0 || split < 0 ||
            split >= SIM_MAX_SPLITS || off < 0 || s->n_offsets == SIM_MAX_SPLITS)
            return bad(ps, "source offsets");
        s->split[s->n_offsets] = (uint32_t)split;
        s->offset[s->n_offsets++] = (uint64_t)off;
    }
    return rc;
}

static rt_err op_from_json(meta_parser *ps, json_t *j, sim_meta_op *op) {
    const char *uid;
    int p, maxp;
    json_t *subs;
    if (json_unpack(j, "{s:s, s:i, s:i, s:o}", "uid", &uid, "parallelism", &p, "max_parallelism",
                    &maxp, "subtasks", &subs) != 0 || !json_is_array(subs) || p < 1 || maxp < p ||
        json_array_size(subs) != (size_t)p || strlen(uid) >= sizeof op->uid)
        return bad(ps, "operator");
    strcpy(op->uid, uid);
    op->parallelism = (uint32_t)p;
    op->max_parallelism = (uint32_t)maxp;
    op->sub = calloc((size_t)p, sizeof *op->sub);
    if (op->sub == NULL) return RT_FAIL(ps->e, RT_ENOMEM, "metadata: out of memory");
    for (int i = 0; i < p; i++) {
        op->n_sub++;
        rt_err rc = subtask_from_json(ps, json_array_get(subs, (size_t)i), &op->sub[i]);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

static rt_err epoch_from_json(meta_parser *ps, json_t *j, sim_meta_epoch *ep) {
    json_t *job, *start, *inflight, *fresh;
    memset(ep, 0, sizeof *ep);
    if (json_unpack(j, "{s:o, s:o, s:o, s:o}", "job", &job, "start", &start, "inflight", &inflight,
                    "fresh", &fresh) != 0 || !json_is_array(start) || !json_is_array(inflight) ||
        !json_is_array(fresh) || json_array_size(start) > SIM_MAX_SPLITS)
        return bad(ps, "lineage");
    rt_err rc = sim_job_from_json(&ep->job, job, ps->what, ps->e);
    if (rc != RT_OK) return rc;
    for (size_t i = 0; i < json_array_size(start); i++)
        ep->start[i] = (uint64_t)json_integer_value(json_array_get(start, i));
    size_t n = json_array_size(inflight);
    ep->inflight_id = calloc(n + 1, sizeof *ep->inflight_id);
    ep->inflight_op = calloc(n + 1, sizeof *ep->inflight_op);
    if (!ep->inflight_id || !ep->inflight_op) return RT_FAIL(ps->e, RT_ENOMEM, "metadata: out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *id;
        if (json_unpack(json_array_get(inflight, i), "[i,o]", &ep->inflight_op[i], &id) != 0 ||
            parse_hex64(id, &ep->inflight_id[i]) != 0)
            return bad(ps, "lineage in-flight records");
        ep->n_inflight++;
    }
    for (size_t i = 0; i < json_array_size(fresh); i++) {
        int o = sim_job_find(&ep->job, json_string_value(json_array_get(fresh, i)) ? json_string_value(json_array_get(fresh, i)) : "");
        if (o >= 0) ep->fresh[o] = 1;
    }
    return RT_OK;
}

static rt_err header_from_json(meta_parser *ps, json_t *root) {
    sim_meta *m = ps->m;
    const char *magic, *engine, *job_id, *type, *kind, *format, *backend, *sharing;
    const char *root_dir = "";
    json_int_t cid;
    json_t *seed;
    if (json_unpack(root, "{s:s, s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:b, s:s, s?:s, s:o}",
                    "magic", &magic, "version", &m->version, "engine", &engine, "job_id", &job_id,
                    "checkpoint_id", &cid, "type", &type, "snapshot_kind", &kind, "format", &format,
                    "backend", &backend, "incremental", &m->incremental, "sharing", &sharing,
                    "storage_root", &root_dir, "source_seed", &seed) != 0 || cid < 0)
        return bad(ps, "header fields");
    if (strcmp(magic, SIM_METADATA_MAGIC) != 0) return bad(ps, "magic");
    if (parse_hex64(seed, &m->source_seed) != 0) return bad(ps, "source_seed");
    snprintf(m->engine, sizeof m->engine, "%s", engine);
    snprintf(m->job_id, sizeof m->job_id, "%s", job_id);
    snprintf(m->snapshot_kind, sizeof m->snapshot_kind, "%s", kind);
    snprintf(m->format, sizeof m->format, "%s", format);
    snprintf(m->backend, sizeof m->backend, "%s", backend);
    snprintf(m->sharing, sizeof m->sharing, "%s", sharing);
    snprintf(m->storage_root, sizeof m->storage_root, "%s", root_dir);
    m->checkpoint_id = cid;
    m->savepoint = strcmp(type, "savepoint") == 0;
    return RT_OK;
}

static rt_err parse_root(meta_parser *ps, json_t *root) {
    sim_meta *m = ps->m;
    rt_err rc = header_from_json(ps, root);
    if (rc != RT_OK) return rc;
    json_t *job = json_object_get(root, "job"), *ops = json_object_get(root, "operators");
    json_t *lineage = json_object_get(root, "lineage");
    if (!json_is_array(ops) || !json_is_array(lineage) || json_array_size(ops) > SIM_MAX_OPS ||
        json_array_size(lineage) > SIM_META_MAX_EPOCHS)
        return bad(ps, "operators or lineage");
    rc = sim_job_from_json(&m->job, job, ps->what, ps->e);
    for (size_t i = 0; rc == RT_OK && i < json_array_size(lineage); i++) {
        m->n_epochs++;
        rc = epoch_from_json(ps, json_array_get(lineage, i), &m->epochs[i]);
    }
    for (size_t i = 0; rc == RT_OK && i < json_array_size(ops); i++) {
        m->n_ops++;
        rc = op_from_json(ps, json_array_get(ops, i), &m->ops[i]);
    }
    return rc;
}

/* A parsed document (its seal already checked, or the writer's own). */
static rt_err parse_tree(sim_meta *m, json_t *root, const rt_store *store, const char *dir, const char *what,
                         int held, const sim_bytes_pool *inline_src, rt_error *e) {
    memset(m, 0, sizeof *m);
    meta_parser ps = {m, store, dir, what, held, inline_src, e};
    rt_err rc = parse_root(&ps, root);
    /* The job and schema readers call a bad field input; in _metadata it is damage. */
    if (rt_err_class_of(rc) == RT_CLASS_USAGE) rc = e->code = RT_EFORMAT;
    if (rc != RT_OK) sim_meta_free(m);
    return rc;
}

static rt_err parse_text(sim_meta *m, const char *text, size_t len, const rt_store *store, const char *dir,
                         const char *what, int held, rt_error *e) {
    memset(m, 0, sizeof *m);
    rt_err sealed = check_seal(text, len, what, e);
    if (sealed != RT_OK) return sealed;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (root == NULL)
        return RT_FAIL(e, RT_EFORMAT, "%s: _metadata is not valid JSON (line %d: %s)", what, je.line, je.text);
    rt_err rc = parse_tree(m, root, store, dir, what, held, NULL, e);
    json_decref(root);
    return rc;
}

rt_err sim_meta_parse(sim_meta *m, const char *text, size_t len, const rt_store *store, const char *dir,
                      const char *what, rt_error *e) {
    return parse_text(m, text, len, store, dir, what, 0, e);
}

rt_err sim_meta_parse_held(sim_meta *m, const char *text, size_t len, const rt_store *store, const char *dir,
                           const char *what, rt_error *e) {
    return parse_text(m, text, len, store, dir, what, 1, e);
}

static rt_err copy_parts(sim_meta *dst, const sim_meta *src, rt_error *e) {
    for (int i = 0; i < src->n_epochs; i++) {
        const sim_meta_epoch *s = &src->epochs[i];
        sim_meta_epoch *d = &dst->epochs[i];
        d->inflight_id = calloc(s->n_inflight + 1, sizeof *d->inflight_id);
        d->inflight_op = calloc(s->n_inflight + 1, sizeof *d->inflight_op);
        dst->n_epochs++;
        if (d->inflight_id == NULL || d->inflight_op == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: out of memory");
        if (s->n_inflight == 0) continue;
        memcpy(d->inflight_id, s->inflight_id, s->n_inflight * sizeof *d->inflight_id);
        memcpy(d->inflight_op, s->inflight_op, s->n_inflight * sizeof *d->inflight_op);
    }
    for (int o = 0; o < src->n_ops; o++) {
        const sim_meta_op *s = &src->ops[o];
        sim_meta_op *d = &dst->ops[o];
        d->sub = calloc((size_t)s->n_sub + 1, sizeof *d->sub);
        dst->n_ops++;
        if (d->sub == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata: out of memory");
        for (int i = 0; i < s->n_sub; i++) {
            d->sub[i] = s->sub[i];
            sim_handle_init(&d->sub[i].keyed);
            d->n_sub++;
            rt_err rc = sim_handle_copy(&d->sub[i].keyed, &s->sub[i].keyed, e);
            if (rc != RT_OK) {
                sim_handle_init(&d->sub[i].keyed);
                return rc;
            }
        }
    }
    return sim_bytes_merge(&dst->inline_pool, &src->inline_pool, e);
}

rt_err sim_meta_copy(sim_meta *dst, const sim_meta *src, rt_error *e) {
    assert(dst != src);
    *dst = *src;
    dst->n_epochs = dst->n_ops = 0; /* counted up as each part is copied: free frees what was */
    for (int i = 0; i < src->n_epochs; i++) dst->epochs[i].inflight_id = NULL, dst->epochs[i].inflight_op = NULL;
    for (int o = 0; o < src->n_ops; o++) dst->ops[o].sub = NULL, dst->ops[o].n_sub = 0;
    sim_bytes_init(&dst->inline_pool);
    rt_err rc = copy_parts(dst, src, e);
    if (rc != RT_OK) sim_meta_free(dst);
    assert(rc != RT_OK || (dst->n_ops == src->n_ops && dst->n_epochs == src->n_epochs));
    return rc;
}

void sim_meta_free(sim_meta *m) {
    for (int i = 0; i < m->n_ops; i++) {
        for (int s = 0; s < m->ops[i].n_sub; s++) sim_handle_free(&m->ops[i].sub[s].keyed);
        free(m->ops[i].sub);
    }
    for (int i = 0; i < m->n_epochs; i++) {
        free(m->epochs[i].inflight_id);
        free(m->epochs[i].inflight_op);
    }
    sim_bytes_free(&m->inline_pool);
    memset(m, 0, sizeof *m);
}

rt_err sim_meta_load(sim_meta *m, rt_store *store, const char *dir, rt_error *e) {
    return sim_meta_load_kept(m, store, dir, NULL, NULL, e);
}

rt_err sim_meta_load_kept(sim_meta *m, rt_store *store, const char *dir, char **text, size_t *text_len,
                          rt_error *e) {
    return sim_meta_load_in(NULL, m, store, dir, text, text_len, e);
}

rt_err sim_meta_load_in(sim_meta_cache *c, sim_meta *m, rt_store *store, const char *dir, char **text,
                        size_t *text_len, rt_error *e) {
    if (text) *text = NULL;
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    rt_err rc = rt_store_get(store, path, &data, &len, e);
    if (rc != RT_OK) {
        memset(m, 0, sizeof *m);
        char abs[1024];
        rt_store_absolute(store, dir, abs, sizeof abs);
        if (rc == RT_ENOENT) RT_FAIL(e, RT_ENOENT, "%s: no _metadata: not a snapshot directory", abs);
        return rc;
    }
    rc = sim_meta_parse_in(c, m, (const char *)data, len, store, dir, path, 0, e);
    if (rc == RT_OK && text) {
        *text = (char *)data;
        *text_len = len;
    } else {
        free(data);
    }
    return rc;
}

int sim_meta_each_file(const sim_meta *m, sim_meta_file_fn fn, void *ctx) {
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++) {
            const sim_meta_subtask *st = &m->ops[o].sub[s];
            for (int f = 0; st->has_keyed && f < st->keyed.n_files; f++)
                if (fn(ctx, m->ops[o].uid, st->index, &st->keyed.files[f])) return 1;
            if (st->has_cs && fn(ctx, m->ops[o].uid, st->index, &st->cs_file)) return 1;
        }
    return 0;
}

int sim_meta_push_path(void *strlist, const char *op, uint32_t subtask, const sim_file_ref *f) {
    (void)op;
    (void)subtask;
    if (f->type == SIM_HANDLE_BYTES) return 0; /* in _metadata, not a file */
    return rt_strlist_push(strlist, f->path) != 0;
}

int sim_meta_self_contained(const sim_meta *m) { return m->n_handles[SIM_HANDLE_FILE] == 0; }
