/* sim_channel_state: the persisted in-flight records of an unaligned
 * checkpoint, as Flink writes them (ChannelStateCheckpointWriter with
 * ChannelStateSerializerImpl): one file per subtask, starting with the one
 * serialization version there is (SERIALIZATION_VERSION = 0, unchanged in
 * every release modelled), then one handle per input channel that had
 * records in flight, keyed by its index only (Flink's InputChannelInfo:
 * gate index, channel index); a channel with nothing in flight has no
 * handle, a subtask with nothing in flight no file. A handle's data is the
 * network buffer as it was: each record its 4-byte length and then its
 * bytes, serialized with the type of its edge. No record type and no
 * operator name is stored: the reader deserializes the bytes with the
 * type of the edge in its own job, as Flink's recovered input channels do.
 *   "SNAPCHAN" u32 version, u32 n_handles, per handle: u32 gate, u32 channel,
 *   u32 n_bytes, the buffer; u64 xxh3 of everything before.
 *
 * What a changed job does to these bytes is not decided here: a reader
 * that runs past the end of a buffer fails as Flink's NonSpanningWrapper
 * does ("Serializer consumed more bytes than the record had"), a gate the
 * new job lacks is a topology error, and records read with another type
 * come out as whatever the bytes say (the oracle then sees corruption).
 *
 * The simulator's channel is a credit-bounded FIFO: a sender only sends
 * what the receiver has credit for, so every record an unaligned barrier
 * overtakes sits in the receiver's buffers and is input-channel state;
 * result-subpartition state (the sender's backlog) never arises here. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_buf.h"
#include "sim_internal.h"

#define CS_MAGIC "SNAPCHAN"
#define CS_GATE 0                  /* every operator of a sim job has one input gate */
#define CS_PARTITION 0             /* and one result partition */
#define CS_FIELDS_MAX 8

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

/* One record, length-prefixed as the network stack frames it. */
static void write_record(sim_buf *b, char names[][16], int n, const sim_record *rec) {
    sim_buf body;
    sim_buf_init(&body);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "id") == 0) sim_buf_u64(&body, rec->id);
        else if (strcmp(names[i], "key") == 0) sim_buf_u64(&body, rec->key);
        else if (strcmp(names[i], "value") == 0) sim_buf_u64(&body, (uint64_t)rec->value);
        else {
            char tag[24];
            snprintf(tag, sizeof tag, "t%" PRIu64, rec->id % 97);
            sim_buf_str(&body, tag);
        }
    }
    if (body.oom) b->oom = 1;
    sim_buf_u32(b, (uint32_t)body.len);
    sim_buf_bytes(b, body.data, body.len);
    sim_buf_free(&body);
}

/* Deserializes with the reader's type. Like Flink's NonSpanningWrapper it
 * does not stop at the record's length: a type that reads more or less
 * than was written goes on into the next record's bytes. */
static void read_record(sim_reader *rd, char names[][16], int n, sim_record *rec) {
    memset(rec, 0, sizeof *rec);
    (void)sim_read_u32(rd); /* the length: what the writer's type produced */
    for (int i = 0; i < n && !rd->bad; i++) {
        if (strcmp(names[i], "id") == 0) rec->id = sim_read_u64(rd);
        else if (strcmp(names[i], "key") == 0) rec->key = sim_read_u64(rd);
        else if (strcmp(names[i], "value") == 0) rec->value = (int64_t)sim_read_u64(rd);
        else (void)sim_read_bytes(rd, sim_read_u32(rd)); /* a string field */
    }
}

static int same_channel(const sim_cs_rec *x, const sim_chan *c) {
    return x->to_op == c->to_op && x->from_idx == c->from_idx && x->to_idx == c->to_idx;
}

/* One handle: the index pair, then the channel's records as one buffer. */
static void write_handle(const sim_run *r, const sim_task *t, const sim_chan *c, uint32_t first,
                         uint32_t second, sim_buf *b) {
    const sim_cs_list *l = &t->snap.cs;
    char names[CS_FIELDS_MAX][16];
    int nf = type_fields(r->job.ops[c->to_op].in_type, names, CS_FIELDS_MAX);
    sim_buf data;
    sim_buf_init(&data);
    for (size_t k = 0; k < l->n; k++)
        if (same_channel(&l->r[k], c)) write_record(&data, names, nf < 0 ? 0 : nf, &l->r[k].rec);
    if (data.oom) b->oom = 1;
    sim_buf_u32(b, first);
    sim_buf_u32(b, second);
    sim_buf_u32(b, (uint32_t)data.len);
    sim_buf_bytes(b, data.data, data.len);
    sim_buf_free(&data);
}

static int channel_has_records(const sim_cs_list *l, const sim_chan *c) {
    for (size_t k = 0; k < l->n; k++)
        if (same_channel(&l->r[k], c)) return 1;
    return 0;
}

/* The input channels (InputChannelStateHandle: gate, channel = the sender's
 * subtask) and then the result subpartitions (ResultSubpartitionStateHandle:
 * partition, subpartition = the receiver's subtask) that hold records. */
static void write_handles(const sim_run *r, const sim_task *t, sim_buf *b) {
    const sim_cs_list *l = &t->snap.cs;
    size_t written = 0;
    for (int side = 0; side < 2; side++) {
        const int *chans = side == 0 ? t->in : t->out;
        int n_chans = side == 0 ? t->n_in : t->n_out;
        uint32_t n = 0;
        for (int i = 0; i < n_chans; i++) n += (uint32_t)channel_has_records(l, &r->chans[chans[i]]);
        sim_buf_u32(b, n);
        for (int i = 0; i < n_chans; i++) {
            const sim_chan *c = &r->chans[chans[i]];
            if (!channel_has_records(l, c)) continue;
            for (size_t k = 0; k < l->n; k++) written += (size_t)same_channel(&l->r[k], c);
            if (side == 0) write_handle(r, t, c, CS_GATE, c->from_idx, b);
            else write_handle(r, t, c, CS_PARTITION, c->to_idx, b);
        }
    }
    assert(written == l->n); /* every record was on one of the task's channels */
}

/* The serialization version this run writes and reads. */
static uint32_t cs_version(const sim_version *engine, sim_mutant m) {
    if (m == SIM_MUT_CS_FORMAT_PER_PATCH) return (uint32_t)engine->patch;
    return sim_version_channel_state_serialization(engine);
}

rt_err sim_cs_write(sim_run *r, sim_task *t, const char *dir, rt_error *e) {
    if (t->snap.cs.n == 0) return RT_OK; /* nothing in flight: no handle at all */
    sim_buf b;
    sim_buf_init(&b);
    sim_buf_bytes(&b, CS_MAGIC, strlen(CS_MAGIC));
    sim_buf_u32(&b, cs_version(r->cfg.engine, r->cfg.mutant));
    write_handles(r, t, &b);
    sim_buf_seal(&b);
    if (b.oom) {
        sim_buf_free(&b);
        return RT_FAIL(e, RT_ENOMEM, "channel state: out of memory");
    }
    char path[SIM_PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s-%u.channel", dir, r->job.ops[t->op].uid, t->idx);
    sim_snap_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.store = r->cfg.store;
    ctx.dir = dir; /* exclusive scope: ChannelStateCheckpointWriter */
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

static rt_err cs_append(sim_cs_list *out, const sim_cs_rec *cr, rt_error *e) {
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        sim_cs_rec *nr = realloc(out->r, cap * sizeof *nr);
        if (nr == NULL) return RT_FAIL(e, RT_ENOMEM, "channel state: out of memory");
        out->r = nr;
        out->cap = cap;
    }
    out->r[out->n++] = *cr;
    return RT_OK;
}

/* The records of one channel's buffer, read with the record type of the
 * edge into operator `to` of the reader's job. */
static rt_err read_buffer(const uint8_t *data, uint32_t n_bytes, const char *what, const sim_job *job,
                          int to, uint32_t from_idx, uint32_t to_idx, sim_cs_list *out, rt_error *e) {
    char names[CS_FIELDS_MAX][16];
    int nf = type_fields(job->ops[to].in_type, names, CS_FIELDS_MAX);
    if (nf < 0) return RT_FAIL(e, RT_EFORMAT, "%s: malformed record type '%s'", what, job->ops[to].in_type);
    sim_reader rd = {data, n_bytes, 0, what, 0};
    while (rd.at < rd.len) {
        if (rd.len - rd.at < 4)
            return RT_FAIL(e, RT_ECHANNEL, "%s: in-flight data into '%s' ends inside a record length",
                           what, job->ops[to].uid);
        sim_cs_rec cr = {to, from_idx, to_idx, {0, 0, 0}};
        read_record(&rd, names, nf, &cr.rec);
        if (rd.bad)
            return RT_FAIL(e, RT_ECHANNEL,
                           "%s: in-flight data into '%s' read as %s: Serializer consumed more bytes "
                           "than the record had",
                           what, job->ops[to].uid, job->ops[to].in_type);
        rt_err rc = cs_append(out, &cr, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

/* Where the owner's handle leads in the reader's job: an input channel is
 * an edge into the owner (o), a result subpartition one out of it (o + 1). */
static rt_err read_handle(sim_reader *rd, int output, const sim_job *job, int o, uint32_t owner_idx,
                          sim_cs_list *out, rt_error *e) {
    uint32_t first = sim_read_u32(rd), second = sim_read_u32(rd), n_bytes = sim_read_u32(rd);
    const uint8_t *data = sim_read_bytes(rd, n_bytes);
    rt_err rc = sim_reader_check(rd, e);
    if (rc != RT_OK || out == NULL) return rc; /* out NULL: only counting */
    assert(o >= 0);
    assert(o < job->n_ops);
    int to = output ? o + 1 : o;
    if (first != (output ? CS_PARTITION : CS_GATE) || (output ? to >= job->n_ops : o == 0))
        return RT_FAIL(e, RT_ETOPOLOGY,
                       "%s: in-flight data of %s %u, %s %u: operator '%s' of the new job has no such "
                       "%s",
                       rd->what, output ? "result partition" : "input gate", first,
                       output ? "subpartition" : "channel", second, job->ops[o].uid,
                       output ? "output" : "input");
    return output ? read_buffer(data, n_bytes, rd->what, job, to, owner_idx, second, out, e)
                  : read_buffer(data, n_bytes, rd->what, job, to, second, owner_idx, out, e);
}

rt_err sim_cs_read(const uint8_t *data, size_t len, const char *what, const sim_version *engine,
                   sim_mutant mutant, const sim_job *job, const char *owner_uid, uint32_t owner_idx,
                   sim_cs_list *out, size_t *n_handles, rt_error *e) {
    assert(out == NULL || job != NULL);
    sim_reader rd;
    rt_err rc = sim_reader_open(&rd, data, len, CS_MAGIC, what, e);
    if (rc != RT_OK) return rc;
    uint32_t version = sim_read_u32(&rd);
    uint32_t want = cs_version(engine, mutant);
    rc = sim_version_check_channel_state(engine, version, want, what, e); /* shared with `snapsim check` */
    if (rc != RT_OK) return rc;
    int o = job != NULL ? sim_job_find(job, owner_uid) : -1;
    if (out != NULL && o < 0)
        return RT_FAIL(e, RT_EINTERNAL, "%s: channel state of '%s', which the job lacks", what, owner_uid);
    size_t total = 0;
    for (int output = 0; output < 2 && rc == RT_OK; output++) {
        uint32_t handles = sim_read_u32(&rd);
        rc = sim_reader_check(&rd, e);
        total += handles;
        for (uint32_t h = 0; h < handles && rc == RT_OK; h++)
            rc = read_handle(&rd, output, job, o, owner_idx, out, e);
    }
    if (rc == RT_OK) rc = sim_reader_check(&rd, e);
    if (rc == RT_OK && n_handles) *n_handles = total;
    return rc;
}
