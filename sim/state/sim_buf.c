/* sim_buf: binary writer and bounds-checked reader. */
#include "sim_buf.h"

#include <assert.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sim_backend.h"

void sim_buf_init(sim_buf *b) { memset(b, 0, sizeof *b); }

void sim_buf_free(sim_buf *b) {
    free(b->data);
    sim_buf_init(b);
}

void sim_buf_reserve(sim_buf *b, size_t cap) {
    if (b->oom || cap <= b->cap) return;
    uint8_t *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = 1;
        return;
    }
    b->data = d;
    b->cap = cap;
}

void sim_buf_bytes(sim_buf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        sim_buf_reserve(b, cap);
        if (b->oom) return;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

void sim_buf_u8(sim_buf *b, uint8_t x) { sim_buf_bytes(b, &x, 1); }

void sim_buf_u32(sim_buf *b, uint32_t x) {
    uint8_t t[4];
    for (int i = 0; i < 4; i++) t[i] = (uint8_t)(x >> (8 * i));
    sim_buf_bytes(b, t, 4);
}

void sim_buf_u64(sim_buf *b, uint64_t x) {
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(x >> (8 * i));
    sim_buf_bytes(b, t, 8);
}

void sim_buf_str(sim_buf *b, const char *s) {
    size_t n = strlen(s);
    assert(n < 65536);
    sim_buf_u32(b, (uint32_t)n);
    sim_buf_bytes(b, s, n);
}

/* A field byte holds the field in its low nibble and the declared type in
 * its high one; a map state whose key enum is not the default B0..B7 sets
 * SCHEMA_HAS_ENUM in its field count and follows it with u8 n and the n
 * constants. A default schema is written as before types and enums existed. */
#define SCHEMA_HAS_ENUM 0x80

void sim_buf_schema(sim_buf *b, const sim_state_desc *d) {
    int has_enum = !sim_state_consts_default(d);
    sim_buf_str(b, d->name);
    sim_buf_u8(b, (uint8_t)d->kind);
    sim_buf_u32(b, (uint32_t)d->schema_version);
    sim_buf_u8(b, (uint8_t)(d->n_fields | (has_enum ? SCHEMA_HAS_ENUM : 0)));
    for (int i = 0; i < d->n_fields; i++) sim_buf_u8(b, (uint8_t)(d->fields[i] | (d->types[i] << 4)));
    if (!has_enum) return;
    sim_buf_u8(b, (uint8_t)d->n_consts);
    for (int i = 0; i < d->n_consts; i++) sim_buf_u8(b, d->consts[i]);
}

void sim_buf_seal(sim_buf *b) { sim_buf_u64(b, sim_checksum(b->data, b->len)); }

rt_err sim_reader_open(sim_reader *r, const uint8_t *p, size_t len, const char *magic,
                       const char *what, rt_error *e) {
    size_t mlen = strlen(magic);
    memset(r, 0, sizeof *r);
    r->what = what;
    if (len < mlen + 8)
        return RT_FAIL(e, RT_EFORMAT, "%s: %zu bytes is too short to be a snapshot file", what, len);
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++) stored |= (uint64_t)p[len - 8 + (size_t)i] << (8 * i);
    if (memcmp(p, magic, mlen) != 0)
        return RT_FAIL(e, RT_EFORMAT, "%s: not a %s file (bad magic)", what, magic);
    if (stored != sim_checksum(p, len - 8))
        return RT_FAIL(e, RT_ECHECKSUM, "%s: trailing checksum mismatch", what);
    r->p = p;
    r->len = len - 8;
    r->at = mlen;
    return RT_OK;
}

const uint8_t *sim_read_bytes(sim_reader *r, size_t n) {
    if (r->bad || n > r->len - r->at) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->at;
    r->at += n;
    return q;
}

uint8_t sim_read_u8(sim_reader *r) {
    const uint8_t *q = sim_read_bytes(r, 1);
    return q ? q[0] : 0;
}

uint32_t sim_read_u32(sim_reader *r) {
    const uint8_t *q = sim_read_bytes(r, 4);
    uint32_t x = 0;
    if (q)
        for (int i = 0; i < 4; i++) x |= (uint32_t)q[i] << (8 * i);
    return x;
}

uint64_t sim_read_u64(sim_reader *r) {
    const uint8_t *q = sim_read_bytes(r, 8);
    uint64_t x = 0;
    if (q)
        for (int i = 0; i < 8; i++) x |= (uint64_t)q[i] << (8 * i);
    return x;
}

void sim_read_str(sim_reader *r, char *out, size_t cap) {
    uint32_t n = sim_read_u32(r);
    const uint8_t *q = sim_read_bytes(r, n);
    if (q == NULL || n >= cap) {
        r->bad = 1;
        out[0] = '\0';
        return;
    }
    memcpy(out, q, n);
    out[n] = '\0';
}

void sim_read_schema(sim_reader *r, sim_state_desc *d) {
    memset(d, 0, sizeof *d);
    sim_read_str(r, d->name, sizeof d->name);
    d->kind = (sim_state_kind)sim_read_u8(r);
    d->schema_version = (int)sim_read_u32(r);
    uint8_t n = sim_read_u8(r);
    d->n_fields = n & ~SCHEMA_HAS_ENUM;
    if (d->kind > SIM_STATE_PAYLOAD || d->n_fields > SIM_MAX_FIELDS) {
        r->bad = 1;
        return;
    }
    for (int i = 0; i < d->n_fields; i++) {
        uint8_t f = sim_read_u8(r);
        d->fields[i] = (sim_field)(f & 0x0f);
        d->types[i] = (sim_ftype)(f >> 4);
        if (d->fields[i] >= SIM_F_KIND_COUNT || d->types[i] >= SIM_T_COUNT) r->bad = 1;
    }
    if (!(n & SCHEMA_HAS_ENUM)) return;
    d->n_consts = sim_read_u8(r);
    if (d->kind != SIM_STATE_MAP || d->n_consts < SIM_BUCKETS || d->n_consts > SIM_ENUM_MAX) {
        r->bad = 1;
        return;
    }
    int seen[SIM_ENUM_MAX] = {0};
    for (int i = 0; i < d->n_consts; i++) {
        d->consts[i] = sim_read_u8(r);
        if (d->consts[i] >= SIM_ENUM_MAX || seen[d->consts[i]]++) r->bad = 1;
    }
    for (int b = 0; b < SIM_BUCKETS; b++)
        if (!seen[b]) r->bad = 1; /* every bucket needs its constant */
}

rt_err sim_reader_check(const sim_reader *r, rt_error *e) {
    if (r->bad) return RT_FAIL(e, RT_EFORMAT, "%s: truncated or malformed content", r->what);
    return RT_OK;
}

rt_err sim_upload_buffer(sim_snap_ctx *ctx, const sim_backend *b, const sim_buf *buf, const char *format,
                         const char *suffix, sim_keyed_handle *out, rt_error *e) {
    if (buf->oom) return RT_FAIL(e, RT_ENOMEM, "%s snapshot: out of memory", format);
    char path[SIM_PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s.%s", ctx->dir, ctx->file_prefix, suffix);
    sim_file_ref f;
    rt_err rc = sim_upload(ctx, path, buf->data, buf->len, &f, e);
    if (rc != RT_OK) return rc;
    snprintf(f.local_name, sizeof f.local_name, "%s.%s", ctx->file_prefix, suffix);
    sim_handle_init(out);
    snprintf(out->format, sizeof out->format, "%s", format);
    snprintf(out->backend, sizeof out->backend, "%s", b->ops->name);
    out->kg_lo = b->kg_lo;
    out->kg_hi = b->kg_hi;
    out->checkpoint_id = ctx->checkpoint_id;
    out->n_states = b->n_states;
    memcpy(out->states, b->states, sizeof out->states);
    out->key_type = b->key_type;
    return sim_handle_add_file(out, &f, e);
}
