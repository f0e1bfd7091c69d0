/* sim_channel_state: the persisted in-flight records of an unaligned
 * checkpoint. Each record is serialized with the record type of its edge,
 * under the engine's channel-state format version:
 *   "SNAPCHAN" u32 format_version, u32 n_groups, per group: str from_uid,
 *   str to_uid, str record_type, u32 from_idx, u32 to_idx, u32 n, records;
 *   u64 xxh3 of everything before.
 * A reader understands only its own format version, and only edges that
 * still exist with the same record type: a new graph shape, new record
 * types or another channel-state format make the file unreadable. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_buf.h"
#include "sim_internal.h"

#define CS_MAGIC "SNAPCHAN"

/* The fields of a record type "Name(f1,f2,...)": id, key and value are
 * 64-bit, any other field a string. Returns the field count or -1. */
static int type_fields(const char *type, char names[][16], int max) {
    const char *p = strchr(type, '(');
    const char *end = strrchr(type, ')');
    if (p == NULL || end == NULL || end < p) return -1;
    int n = 0;
    for (p++; p < end && n < max; n++) {
        const char *q = p;
        while (q < end && *q != ',') q++;
        size_t len = (size_t)(q - p);
        if (len == 0 || len >= 16) return -1;
        memcpy(names[n], p, len);
        names[n][len] = '\0';
        p = q + 1;
    }
    return n;
}

static void write_record(sim_buf *b, char names[][16], int n, const sim_record *rec) {
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "id") == 0) sim_buf_u64(b, rec->id);
        else if (strcmp(names[i], "key") == 0) sim_buf_u64(b, rec->key);
        else if (strcmp(names[i], "value") == 0) sim_buf_u64(b, (uint64_t)rec->value);
        else {
            char tag[24];
            snprintf(tag, sizeof tag, "t%" PRIu64, rec->id % 97);
            sim_buf_str(b, tag);
        }
    }
}

static void read_record(sim_reader *rd, char names[][16], int n, sim_record *rec) {
    memset(rec, 0, sizeof *rec);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "id") == 0) rec->id = sim_read_u64(rd);
        else if (strcmp(names[i], "key") == 0) rec->key = sim_read_u64(rd);
        else if (strcmp(names[i], "value") == 0) rec->value = (int64_t)sim_read_u64(rd);
        else {
            char tag[64];
            sim_read_str(rd, tag, sizeof tag);
        }
    }
}

static int same_channel(const sim_cs_rec *a, const sim_cs_rec *b) {
    return a->to_op == b->to_op && a->from_idx == b->from_idx && a->to_idx == b->to_idx;
}

static void write_groups(const sim_run *r, const sim_cs_list *l, sim_buf *b) {
    uint32_t groups = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t j = 0;
        while (j < i && !same_channel(&l->r[j], &l->r[i])) j++;
        if (j == i) groups++;
    }
    sim_buf_u32(b, groups);
    for (size_t i = 0; i < l->n; i++) {
        size_t j = 0;
        while (j < i && !same_channel(&l->r[j], &l->r[i])) j++;
        if (j != i) continue; /* group already written */
        const sim_op *to = &r->job.ops[l->r[i].to_op];
        char names[8][16];
        int nf = type_fields(to->in_type, names, 8);
        uint32_t n = 0;
        for (size_t k = i; k < l->n; k++) n += same_channel(&l->r[k], &l->r[i]);
        sim_buf_str(b, r->job.ops[l->r[i].to_op - 1].uid);
        sim_buf_str(b, to->uid);
        sim_buf_str(b, to->in_type);
        sim_buf_u32(b, l->r[i].from_idx);
        sim_buf_u32(b, l->r[i].to_idx);
        sim_buf_u32(b, n);
        for (size_t k = i; k < l->n; k++)
            if (same_channel(&l->r[k], &l->r[i])) write_record(b, names, nf < 0 ? 0 : nf, &l->r[k].rec);
    }
}

rt_err sim_cs_write(sim_run *r, sim_task *t, rt_error *e) {
    sim_buf b;
    sim_buf_init(&b);
    sim_buf_bytes(&b, CS_MAGIC, strlen(CS_MAGIC));
    sim_buf_u32(&b, (uint32_t)sim_cs_format(r->cfg.engine, r->cfg.mutant));
    write_groups(r, &t->snap.cs, &b);
    sim_buf_seal(&b);
    if (b.oom) {
        sim_buf_free(&b);
        return RT_FAIL(e, RT_ENOMEM, "channel state: out of memory");
    }
    char path[SIM_PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s-%u.channel", r->pend.dir, r->job.ops[t->op].uid, t->idx);
    sim_snap_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.store = r->cfg.store;
    ctx.dir = r->pend.dir; /* exclusive scope: ChannelStateCheckpointWriter */
    ctx.memory_threshold = r->cfg.memory_threshold;
    ctx.inline_pool = &r->inline_pool;
    rt_err rc = sim_upload(&ctx, path, b.data, b.len, &t->snap.cs_file, e);
    sim_buf_free(&b);
    if (rc != RT_OK) return rc;
    r->stats.files_written += ctx.files_written;
    r->stats.bytes_written += ctx.bytes_written;
    t->snap.has_cs = 1;
    sim_trace(r, "channel_state", "\"task\":%d,\"chk\":%" PRId64 ",\"records\":%zu", t->id, t->cp,
              t->snap.cs.n);
    return RT_OK;
}

static rt_err read_group(sim_reader *rd, const sim_job *job, sim_cs_list *out, rt_error *e) {
    char from[SIM_NAME_MAX], to[SIM_NAME_MAX], type[SIM_TYPE_MAX];
    sim_read_str(rd, from, sizeof from);
    sim_read_str(rd, to, sizeof to);
    sim_read_str(rd, type, sizeof type);
    uint32_t from_idx = sim_read_u32(rd), to_idx = sim_read_u32(rd), n = sim_read_u32(rd);
    rt_err rc = sim_reader_check(rd, e);
    if (rc != RT_OK) return rc;
    int o = sim_job_find(job, to);
    if (o <= 0 || strcmp(job->ops[o - 1].uid, from) != 0)
        return RT_FAIL(e, RT_ETOPOLOGY,
                       "%s: in-flight data of edge %s->%s cannot be restored: the job has no such "
                       "edge (unaligned checkpoints need the same graph shape)",
                       rd->what, from, to);
    if (strcmp(job->ops[o].in_type, type) != 0)
        return RT_FAIL(e, RT_ECHANNEL,
                       "%s: in-flight records of edge %s->%s are of type %s, the job expects %s",
                       rd->what, from, to, type, job->ops[o].in_type);
    char names[8][16];
    int nf = type_fields(type, names, 8);
    if (nf < 0) return RT_FAIL(e, RT_EFORMAT, "%s: malformed record type '%s'", rd->what, type);
    for (uint32_t i = 0; i < n && !rd->bad; i++) {
        sim_cs_rec cr = {o, from_idx, to_idx, {0, 0, 0}};
        read_record(rd, names, nf, &cr.rec);
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            sim_cs_rec *nr = realloc(out->r, cap * sizeof *nr);
            if (nr == NULL) return RT_FAIL(e, RT_ENOMEM, "channel state: out of memory");
            out->r = nr;
            out->cap = cap;
        }
        out->r[out->n++] = cr;
    }
    return sim_reader_check(rd, e);
}

int sim_cs_format(const sim_version *engine, sim_mutant m) {
    if (m == SIM_MUT_CS_FORMAT_PER_PATCH) return engine->channel_state_format * 100 + engine->patch;
    return engine->channel_state_format;
}

rt_err sim_cs_read(const uint8_t *data, size_t len, const char *what, const sim_version *engine,
                   sim_mutant mutant, const sim_job *job, sim_cs_list *out, rt_error *e) {
    sim_reader rd;
    rt_err rc = sim_reader_open(&rd, data, len, CS_MAGIC, what, e);
    if (rc != RT_OK) return rc;
    uint32_t version = sim_read_u32(&rd);
    if ((int)version != sim_cs_format(engine, mutant))
        return RT_FAIL(e, RT_ECHANNEL,
                       "%s: channel state format %u cannot be read by engine %s (format %d)",
                       what, version, engine->name, sim_cs_format(engine, mutant));
    uint32_t groups = sim_read_u32(&rd);
    for (uint32_t g = 0; g < groups && rc == RT_OK; g++) rc = read_group(&rd, job, out, e);
    if (rc == RT_OK) rc = sim_reader_check(&rd, e);
    return rc;
}
