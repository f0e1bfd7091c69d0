/* sim_canonical: writer and reader of the canonical format, which is also
 * the key-group stream of a RocksDB full snapshot: Flink writes both with
 * FullSnapshotAsyncWriter, a canonical savepoint into a
 * KeyGroupsSavepointStateHandle (SavepointKeyedStateHandle), a
 * RocksFullSnapshotStrategy checkpoint into a plain KeyGroupsStateHandle. */
#include "sim_canonical.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_buf.h"

#define CANON_MAGIC "SNAPCANO"

/* All entries of one state, collected by a scan in (kg, key) order. */
typedef struct canon_entry {
    uint32_t kg;
    uint64_t key;
    uint32_t len;
    uint8_t val[SIM_VALUE_BYTES_MAX];
} canon_entry;

typedef struct canon_list {
    canon_entry *e;
    size_t n, cap;
    int oom;
} canon_list;

static int collect(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    (void)state;
    canon_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        canon_entry *ne = realloc(l->e, cap * sizeof *ne);
        if (ne == NULL) {
            l->oom = 1;
            return 1;
        }
        l->e = ne;
        l->cap = cap;
    }
    assert(len <= SIM_VALUE_BYTES_MAX);
    canon_entry *en = &l->e[l->n++];
    en->kg = kg;
    en->key = key;
    en->len = (uint32_t)len;
    memcpy(en->val, val, len);
    return 0;
}

/* One state's entries as a scan delivers them, in (kg, key) order: already
 * in the stream's entry layout (key, length, value) in body, with the count
 * and bytes of each key group of the backend's range, so that the stream is
 * written with two copies of the bytes, whatever the number of entries or
 * key groups. */
typedef struct canon_state {
    sim_buf body;
    uint32_t *count;  /* per key group of [kg_lo, kg_hi] */
    uint64_t *bytes;  /* per key group: bytes of its entries in body */
    uint32_t kg_lo, n_kg, last_kg;
    int unsorted;     /* a scan went back in key-group order */
} canon_state;

static int collect_body(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    (void)state;
    canon_state *c = ctx;
    assert(len <= SIM_VALUE_BYTES_MAX);
    if (kg < c->kg_lo || kg - c->kg_lo >= c->n_kg || kg < c->last_kg) {
        c->unsorted = 1;
        return 1;
    }
    c->last_kg = kg;
    size_t at = c->body.len;
    sim_buf_u64(&c->body, key);
    sim_buf_u32(&c->body, (uint32_t)len);
    sim_buf_bytes(&c->body, val, len);
    c->count[kg - c->kg_lo]++;
    c->bytes[kg - c->kg_lo] += c->body.len - at;
    return c->body.oom;
}

static void free_states(canon_state *c, int n) {
    for (int i = 0; i < n; i++) {
        sim_buf_free(&c[i].body);
        free(c[i].count);
        free(c[i].bytes);
    }
}

static rt_err scan_state(sim_backend *b, int s, canon_state *c, rt_error *e) {
    memset(c, 0, sizeof *c);
    c->kg_lo = b->kg_lo;
    c->last_kg = b->kg_lo;
    c->n_kg = b->kg_hi - b->kg_lo + 1;
    c->count = calloc(c->n_kg, sizeof *c->count);
    c->bytes = calloc(c->n_kg, sizeof *c->bytes);
    if (c->count == NULL || c->bytes == NULL) return RT_FAIL(e, RT_ENOMEM, "canonical: out of memory");
    rt_err rc = b->ops->scan(b, s, collect_body, c, e);
    if (rc == RT_OK && c->body.oom) rc = RT_FAIL(e, RT_ENOMEM, "canonical: out of memory");
    if (rc == RT_OK && c->unsorted)
        rc = RT_FAIL(e, RT_EINTERNAL, "canonical: state %s scanned out of key-group order or range",
                     b->states[s].name);
    return rc;
}

/* The groups: their number, then for each key group with an entry in any
 * state its id and, per state, the count and the entries. */
static void write_groups(const sim_backend *b, const canon_state *c, sim_buf *out) {
    uint32_t n_groups = 0;
    uint64_t total = 4;
    for (uint32_t r = 0; r < c[0].n_kg; r++) {
        int any = 0;
        for (int s = 0; s < b->n_states; s++) {
            any |= c[s].count[r] > 0;
            total += c[s].bytes[r];
        }
        n_groups += (uint32_t)any;
    }
    total += (uint64_t)n_groups * (4 + 4 * (uint64_t)b->n_states);
    sim_buf_reserve(out, out->len + (size_t)total + 8 /* the seal */);
    sim_buf_u32(out, n_groups);
    size_t pos[SIM_MAX_STATES] = {0};
    for (uint32_t r = 0; r < c[0].n_kg; r++) {
        int any = 0;
        for (int s = 0; s < b->n_states; s++) any |= c[s].count[r] > 0;
        if (!any) continue;
        sim_buf_u32(out, b->kg_lo + r);
        for (int s = 0; s < b->n_states; s++) {
            sim_buf_u32(out, c[s].count[r]);
            sim_buf_bytes(out, c[s].body.data + pos[s], (size_t)c[s].bytes[r]);
            pos[s] += (size_t)c[s].bytes[r];
        }
    }
}

/* One state: the scan writes the groups straight into the stream, each
 * group's count (and the number of groups) filled in once known. */
typedef struct canon_direct {
    sim_buf *out;
    size_t groups_at, count_at;
    uint32_t n_groups, count, kg, kg_lo, kg_hi;
    int unsorted;
} canon_direct;

static void buf_patch_u32(sim_buf *b, size_t at, uint32_t x) {
    if (b->oom) return;
    assert(at + 4 <= b->len);
    for (int i = 0; i < 4; i++) b->data[at + (size_t)i] = (uint8_t)(x >> (8 * i));
}

static int collect_direct(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    (void)state;
    canon_direct *d = ctx;
    assert(len <= SIM_VALUE_BYTES_MAX);
    if (kg < d->kg_lo || kg > d->kg_hi || (d->n_groups > 0 && kg < d->kg)) {
        d->unsorted = 1;
        return 1;
    }
    if (d->n_groups == 0 || kg != d->kg) {
        if (d->n_groups > 0) buf_patch_u32(d->out, d->count_at, d->count);
        sim_buf_u32(d->out, kg);
        d->count_at = d->out->len;
        sim_buf_u32(d->out, 0);
        d->kg = kg;
        d->count = 0;
        d->n_groups++;
    }
    sim_buf_u64(d->out, key);
    sim_buf_u32(d->out, (uint32_t)len);
    sim_buf_bytes(d->out, val, len);
    d->count++;
    return d->out->oom;
}

static rt_err write_direct(sim_backend *b, sim_buf *out, rt_error *e) {
    canon_direct d = {.out = out, .groups_at = out->len, .kg_lo = b->kg_lo, .kg_hi = b->kg_hi};
    sim_buf_u32(out, 0);
    rt_err rc = b->ops->scan(b, 0, collect_direct, &d, e);
    if (rc == RT_OK && d.unsorted)
        rc = RT_FAIL(e, RT_EINTERNAL, "canonical: state %s scanned out of key-group order or range",
                     b->states[0].name);
    if (rc != RT_OK) return rc;
    if (d.n_groups > 0) buf_patch_u32(out, d.count_at, d.count);
    buf_patch_u32(out, d.groups_at, d.n_groups);
    return RT_OK;
}

/* Several states: each scanned into its own body first (a group holds
 * every state's entries of its key group). */
static rt_err write_states(sim_backend *b, sim_buf *out, rt_error *e) {
    canon_state c[SIM_MAX_STATES];
    memset(c, 0, sizeof c);
    rt_err rc = RT_OK;
    for (int s = 0; s < b->n_states && rc == RT_OK; s++) rc = scan_state(b, s, &c[s], e);
    if (rc == RT_OK) write_groups(b, c, out);
    free_states(c, b->n_states);
    return rc;
}

static rt_err write_stream(sim_backend *b, sim_snap_ctx *ctx, const char *format, const char *suffix,
                           sim_keyed_handle *out, rt_error *e) {
    sim_buf buf;
    sim_buf_init(&buf);
    sim_buf_bytes(&buf, CANON_MAGIC, strlen(CANON_MAGIC));
    sim_buf_u32(&buf, SIM_CANONICAL_VERSION);
    sim_buf_u32(&buf, b->kg_lo);
    sim_buf_u32(&buf, b->kg_hi);
    sim_buf_u32(&buf, (uint32_t)b->n_states);
    for (int s = 0; s < b->n_states; s++) sim_buf_schema(&buf, &b->states[s]);
    rt_err rc = RT_OK;
    if (b->n_states == 1) rc = write_direct(b, &buf, e);
    else if (b->n_states > 1) rc = write_states(b, &buf, e);
    else sim_buf_u32(&buf, 0);
    if (rc != RT_OK) {
        sim_buf_free(&buf);
        return rc;
    }
    sim_buf_seal(&buf);
    rc = sim_upload_buffer(ctx, b, &buf, format, suffix, out, e);
    sim_buf_free(&buf);
    return rc;
}

rt_err sim_canonical_write(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out, rt_error *e) {
    return write_stream(b, ctx, "canonical", "canonical", out, e);
}

rt_err sim_key_groups_write(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out, rt_error *e) {
    return write_stream(b, ctx, SIM_FORMAT_KEY_GROUPS, "keygroups", out, e);
}

static int find_state(const sim_backend *b, const char *name) {
    for (int s = 0; s < b->n_states; s++)
        if (strcmp(b->states[s].name, name) == 0) return s;
    return -1;
}

/* Decodes with the writer's schema, migrates to the backend's, stores. */
static rt_err put_migrated(sim_backend *b, int dst, const sim_state_desc *from, uint32_t kg,
                           uint64_t key, const uint8_t *val, size_t len, rt_error *e) {
    sim_value v;
    rt_err rc = sim_value_decode(&v, from, val, len, e);
    if (rc == RT_OK) rc = sim_value_migrate(&v, from, &b->states[dst], e);
    if (rc != RT_OK) return rc;
    uint8_t enc[SIM_VALUE_BYTES_MAX];
    size_t n = sim_value_encode(&v, &b->states[dst], enc, sizeof enc);
    return b->ops->put(b, dst, kg, key, enc, n, e);
}

static rt_err read_groups(sim_backend *b, sim_reader *r, const sim_state_desc *st, int n_states,
                          int migrate, rt_error *e) {
    int map[SIM_MAX_STATES];
    for (int s = 0; s < n_states; s++) map[s] = find_state(b, st[s].name);
    uint32_t n_groups = sim_read_u32(r);
    for (uint32_t g = 0; g < n_groups && !r->bad; g++) {
        uint32_t kg = sim_read_u32(r);
        int mine = kg >= b->kg_lo && kg <= b->kg_hi;
        for (int s = 0; s < n_states && !r->bad; s++) {
            uint32_t n = sim_read_u32(r);
            for (uint32_t i = 0; i < n && !r->bad; i++) {
                uint64_t key = sim_read_u64(r);
                uint32_t len = sim_read_u32(r);
                const uint8_t *val = sim_read_bytes(r, len);
                if (val == NULL || !mine || map[s] < 0) continue;
                rt_err rc = migrate ? put_migrated(b, map[s], &st[s], kg, key, val, len, e)
                                    : b->ops->put(b, map[s], kg, key, val, len, e);
                if (rc != RT_OK) return rc;
            }
        }
    }
    return sim_reader_check(r, e);
}

static rt_err read_one(sim_backend *b, const uint8_t *data, size_t len, const char *what, int migrate,
                       rt_error *e) {
    sim_reader r;
    rt_err rc = sim_reader_open(&r, data, len, CANON_MAGIC, what, e);
    if (rc != RT_OK) return rc;
    uint32_t version = sim_read_u32(&r);
    if (version != SIM_CANONICAL_VERSION)
        return RT_FAIL(e, RT_EVERSION, "%s: canonical format version %u (reads %d)", what,
                       version, SIM_CANONICAL_VERSION);
    (void)sim_read_u32(&r);
    (void)sim_read_u32(&r);
    uint32_t n_states = sim_read_u32(&r);
    if (n_states > SIM_MAX_STATES) return RT_FAIL(e, RT_EFORMAT, "%s: %u states", what, n_states);
    sim_state_desc st[SIM_MAX_STATES];
    for (uint32_t s = 0; s < n_states; s++) sim_read_schema(&r, &st[s]);
    rc = sim_reader_check(&r, e);
    if (rc != RT_OK) return rc;
    return read_groups(b, &r, st, (int)n_states, migrate, e);
}

static rt_err read_files(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h, int migrate,
                         rt_error *e) {
    for (int i = 0; i < h->n_files; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        rt_err rc = ctx->fetch(ctx->fetch_ctx, &h->files[i], &data, &len, e);
        if (rc != RT_OK) return rc;
        rc = read_one(b, data, len, h->files[i].path, migrate, e);
        free(data);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

rt_err sim_canonical_read(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                          rt_error *e) {
    assert(strcmp(h->format, "canonical") == 0);
    return read_files(b, ctx, h, 1, e);
}

rt_err sim_key_groups_read(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                           rt_error *e) {
    assert(sim_handle_is_key_groups(h));
    return read_files(b, ctx, h, 0, e);
}

rt_err sim_migrate_in_place(sim_backend *b, int s, const sim_state_desc *from, rt_error *e) {
    canon_list l;
    memset(&l, 0, sizeof l);
    rt_err rc = b->ops->scan(b, s, collect, &l, e);
    if (rc == RT_OK && l.oom) rc = RT_FAIL(e, RT_ENOMEM, "migration: out of memory");
    for (size_t i = 0; i < l.n && rc == RT_OK; i++)
        rc = put_migrated(b, s, from, l.e[i].kg, l.e[i].key, l.e[i].val, l.e[i].len, e);
    free(l.e);
    return rc;
}
