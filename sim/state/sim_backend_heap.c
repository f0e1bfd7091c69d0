/* sim_backend_heap: keyed state in memory (Flink's HashMapStateBackend), one
 * sorted table per state, and its own native dump format:
 *   "SNAPHEAP" u32 version, u32 kg_lo, u32 kg_hi, u32 n_states, schemas,
 *   per state: u32 n, then n x (u32 kg, u64 key, u32 len, bytes),
 *   u64 xxh3 of everything before.
 * The dump is readable only by this backend; it carries the schemas so a
 * restore can migrate values in place. Heap snapshots are always full. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_backend.h"
#include "sim_buf.h"

#define HEAP_MAGIC "SNAPHEAP"
#define HEAP_VERSION 1

typedef struct heap_entry {
    uint32_t kg;
    uint64_t key;
    uint32_t len;
    uint8_t val[SIM_VALUE_BYTES_MAX];
} heap_entry;

typedef struct heap_table {
    heap_entry *e;
    size_t n, cap;
} heap_table;

typedef struct heap_backend {
    sim_backend base; /* first: the interface casts between the two */
    heap_table t[SIM_MAX_STATES];
} heap_backend;

static int entry_cmp(uint32_t kg, uint64_t key, const heap_entry *x) {
    if (kg != x->kg) return kg < x->kg ? -1 : 1;
    if (key != x->key) return key < x->key ? -1 : 1;
    return 0;
}

static size_t find(const heap_table *t, uint32_t kg, uint64_t key, int *found) {
    size_t lo = 0, hi = t->n;
    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp(kg, key, &t->e[mid]);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static rt_err heap_get(sim_backend *b, int state, uint32_t kg, uint64_t key, uint8_t *val,
                       size_t cap, size_t *len, int *found, rt_error *e) {
    heap_backend *h = (heap_backend *)b;
    assert(state >= 0);
    assert(state < b->n_states);
    size_t i = find(&h->t[state], kg, key, found);
    if (!*found) return RT_OK;
    const heap_entry *en = &h->t[state].e[i];
    if (en->len > cap) return RT_FAIL(e, RT_EINTERNAL, "heap: value larger than buffer");
    memcpy(val, en->val, en->len);
    *len = en->len;
    return RT_OK;
}

static rt_err heap_put(sim_backend *b, int state, uint32_t kg, uint64_t key, const uint8_t *val,
                       size_t len, rt_error *e) {
    heap_backend *h = (heap_backend *)b;
    assert(state >= 0);
    assert(state < b->n_states);
    if (kg < b->kg_lo || kg > b->kg_hi)
        return RT_FAIL(e, RT_EINTERNAL, "heap: key group %u outside [%u,%u]", kg, b->kg_lo, b->kg_hi);
    if (len > SIM_VALUE_BYTES_MAX) return RT_FAIL(e, RT_EINTERNAL, "heap: value too large");
    heap_table *t = &h->t[state];
    int found;
    size_t i = find(t, kg, key, &found);
    if (!found) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 64;
            heap_entry *ne = realloc(t->e, cap * sizeof *ne);
            if (ne == NULL) return RT_FAIL(e, RT_ENOMEM, "heap: out of memory");
            t->e = ne;
            t->cap = cap;
        }
        memmove(&t->e[i + 1], &t->e[i], (t->n - i) * sizeof t->e[0]);
        t->n++;
        t->e[i].kg = kg;
        t->e[i].key = key;
    }
    t->e[i].len = (uint32_t)len;
    memcpy(t->e[i].val, val, len);
    return RT_OK;
}

static rt_err heap_scan(sim_backend *b, int state, sim_scan_fn fn, void *ctx, rt_error *e) {
    (void)e;
    heap_backend *h = (heap_backend *)b;
    const heap_table *t = &h->t[state];
    for (size_t i = 0; i < t->n; i++)
        if (fn(ctx, state, t->e[i].kg, t->e[i].key, t->e[i].val, t->e[i].len)) break;
    return RT_OK;
}

static void dump(const heap_backend *h, sim_buf *out) {
    const sim_backend *b = &h->base;
    sim_buf_bytes(out, HEAP_MAGIC, strlen(HEAP_MAGIC));
    sim_buf_u32(out, HEAP_VERSION);
    sim_buf_u32(out, b->kg_lo);
    sim_buf_u32(out, b->kg_hi);
    sim_buf_u32(out, (uint32_t)b->n_states);
    for (int s = 0; s < b->n_states; s++) sim_buf_schema(out, &b->states[s]);
    for (int s = 0; s < b->n_states; s++) {
        sim_buf_u32(out, (uint32_t)h->t[s].n);
        for (size_t i = 0; i < h->t[s].n; i++) {
            const heap_entry *en = &h->t[s].e[i];
            sim_buf_u32(out, en->kg);
            sim_buf_u64(out, en->key);
            sim_buf_u32(out, en->len);
            sim_buf_bytes(out, en->val, en->len);
        }
    }
    sim_buf_seal(out);
}

static rt_err heap_snapshot(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out,
                            rt_error *e) {
    heap_backend *h = (heap_backend *)b;
    sim_buf buf;
    sim_buf_init(&buf);
    dump(h, &buf);
    rt_err rc = sim_upload_buffer(ctx, b, &buf, "heap-native", "heap", out, e);
    sim_buf_free(&buf);
    return rc;
}

/* Finds the backend's state index for a state name, or -1. */
static int state_index(const sim_backend *b, const char *name) {
    for (int s = 0; s < b->n_states; s++)
        if (strcmp(b->states[s].name, name) == 0) return s;
    return -1;
}

static rt_err load_dump(heap_backend *h, sim_reader *r, rt_error *e) {
    sim_backend *b = &h->base;
    if (sim_read_u32(r) != HEAP_VERSION)
        return RT_FAIL(e, RT_EVERSION, "%s: unsupported heap dump version", r->what);
    (void)sim_read_u32(r); /* kg range of the writer: entries carry their own kg */
    (void)sim_read_u32(r);
    uint32_t n_states = sim_read_u32(r);
    if (n_states > SIM_MAX_STATES) return RT_FAIL(e, RT_EFORMAT, "%s: %u states", r->what, n_states);
    sim_state_desc st[SIM_MAX_STATES];
    for (uint32_t s = 0; s < n_states; s++) sim_read_schema(r, &st[s]);
    for (uint32_t s = 0; s < n_states && !r->bad; s++) {
        int dst = state_index(b, st[s].name);
        uint32_t n = sim_read_u32(r);
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            uint32_t kg = sim_read_u32(r);
            uint64_t key = sim_read_u64(r);
            uint32_t len = sim_read_u32(r);
            const uint8_t *val = sim_read_bytes(r, len);
            if (val == NULL || dst < 0 || kg < b->kg_lo || kg > b->kg_hi) continue;
            rt_err rc = heap_put(b, dst, kg, key, val, len, e);
            if (rc != RT_OK) return rc;
        }
    }
    return sim_reader_check(r, e);
}

static rt_err heap_restore(sim_backend *b, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                           rt_error *e) {
    /* HeapRestoreOperation takes any KeyGroupsStateHandle, a RocksDB full
     * snapshot's key-group stream included, and reads it as its own: the
     * bytes then decide. Any other handle is the wrong class (the rule:
     * sim_handle_check_native_reader, shared with `snapsim check`). */
    rt_err rc0 = sim_handle_check_native_reader("heap", h->format, h->backend, e);
    if (rc0 != RT_OK) return rc0;
    assert(sim_handle_is_key_groups(h));
    for (int i = 0; i < h->n_files; i++) {
        uint8_t *data = NULL;
        size_t len = 0;
        rt_err rc = ctx->fetch(ctx->fetch_ctx, &h->files[i], &data, &len, e);
        if (rc != RT_OK) return rc;
        sim_reader r;
        rc = sim_reader_open(&r, data, len, HEAP_MAGIC, h->files[i].path, e);
        if (rc == RT_OK) rc = load_dump((heap_backend *)b, &r, e);
        free(data);
        if (rc != RT_OK && strcmp(h->format, "heap-native") != 0)
            rt_error_prefix(e, "the %s backend's key-group stream (KeyGroupsStateHandle) read by "
                            "HeapRestoreOperation: ", h->backend);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}

static void heap_notify(sim_backend *b, int64_t id) { (void)b; (void)id; }

static void heap_destroy(sim_backend *b) {
    heap_backend *h = (heap_backend *)b;
    for (int s = 0; s < SIM_MAX_STATES; s++) free(h->t[s].e);
    free(h);
}

static const sim_backend_ops heap_ops = {
    "heap", heap_get, heap_put, heap_scan, heap_snapshot, heap_restore,
    heap_notify, heap_notify, heap_destroy,
};

rt_err sim_backend_heap_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e) {
    assert(cfg->n_states <= SIM_MAX_STATES);
    heap_backend *h = calloc(1, sizeof *h);
    if (h == NULL) return RT_FAIL(e, RT_ENOMEM, "heap: out of memory");
    h->base.ops = &heap_ops;
    h->base.kg_lo = cfg->kg_lo;
    h->base.kg_hi = cfg->kg_hi;
    h->base.max_parallelism = cfg->max_parallelism;
    h->base.n_states = cfg->n_states;
    memcpy(h->base.states, cfg->states, (size_t)cfg->n_states * sizeof cfg->states[0]);
    h->base.incremental = 0; /* the heap backend has no incremental snapshots */
    h->base.engine = cfg->engine;
    *out = &h->base;
    return RT_OK;
}
