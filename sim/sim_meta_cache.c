/* sim_meta_cache: each _metadata parsed once (see sim_metadata.h). The key
 * is everything a parse depends on: the store's root, the directory, the
 * held flag and the bytes; a lookup compares the bytes in full after their
 * length and xxh3, so two texts that differ anywhere never share a parse. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sim_backend.h"
#include "sim_internal.h"
#include "sim_metadata.h"

typedef struct cache_key {
    const char *root; /* "" for no store: paths kept as written */
    int has_store;
    const char *dir;
    int held;
    const char *text;
    size_t len;
    uint64_t xxh3;
} cache_key;

typedef struct cache_entry {
    int used;
    uint64_t last_use; /* the cache's counter at the last hit or store */
    char *root, *dir, *text;
    int has_store, held;
    size_t len;
    uint64_t xxh3;
    sim_meta meta;
} cache_entry;

struct sim_meta_cache {
    cache_entry e[SIM_META_CACHE_ENTRIES];
    uint64_t uses;
    sim_meta_cache_stats stats;
};

rt_err sim_meta_cache_create(sim_meta_cache **out, rt_error *e) {
    assert(out != NULL);
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return RT_FAIL(e, RT_ENOMEM, "metadata cache: out of memory");
    return RT_OK;
}

static void entry_free(cache_entry *x) {
    if (x->used) sim_meta_free(&x->meta);
    free(x->root);
    free(x->dir);
    free(x->text);
    memset(x, 0, sizeof *x);
}

void sim_meta_cache_free(sim_meta_cache *c) {
    if (c == NULL) return;
    for (int i = 0; i < SIM_META_CACHE_ENTRIES; i++) entry_free(&c->e[i]);
    free(c);
}

const sim_meta_cache_stats *sim_meta_cache_stats_of(const sim_meta_cache *c) {
    assert(c != NULL);
    return &c->stats;
}

static cache_key key_of(const char *text, size_t len, const rt_store *store, const char *dir, int held) {
    cache_key k = {store ? rt_store_root(store) : "", store != NULL, dir ? dir : "", held != 0, text, len,
                   sim_checksum(text, len)};
    return k;
}

/* The one place that decides whether an entry is the parse of k: the same
 * resolution context and the very same bytes. */
static int entry_matches(const cache_entry *x, const cache_key *k) {
    if (!x->used || x->len != k->len || x->xxh3 != k->xxh3) return 0;
    if (x->held != k->held || x->has_store != k->has_store) return 0;
    if (strcmp(x->dir, k->dir) != 0 || strcmp(x->root, k->root) != 0) return 0;
    return memcmp(x->text, k->text, k->len) == 0;
}

/* 1 and a copy in *m on a hit; 0 on a miss (or when the copy failed:
 * the caller parses instead). */
static int lookup(sim_meta_cache *c, const cache_key *k, sim_meta *m) {
    for (int i = 0; i < SIM_META_CACHE_ENTRIES; i++) {
        cache_entry *x = &c->e[i];
        if (!entry_matches(x, k)) continue;
        rt_error ignored;
        if (sim_meta_copy(m, &x->meta, &ignored) != RT_OK) break;
        x->last_use = ++c->uses;
        c->stats.hits++;
        return 1;
    }
    c->stats.misses++;
    return 0;
}

/* A free entry, else the least recently used one (the lowest counter:
 * deterministic, the counter never repeats). */
static cache_entry *victim(sim_meta_cache *c) {
    cache_entry *v = &c->e[0];
    for (int i = 0; i < SIM_META_CACHE_ENTRIES; i++) {
        if (!c->e[i].used) return &c->e[i];
        if (c->e[i].last_use < v->last_use) v = &c->e[i];
    }
    c->stats.evicted++;
    return v;
}

static char *dup_bytes(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (d == NULL) return NULL;
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

/* Keeps a copy of m, parsed from k; out of memory keeps nothing (a later
 * load parses again, which is only slower). */
static void keep(sim_meta_cache *c, const cache_key *k, const sim_meta *m) {
    cache_entry *x = victim(c);
    entry_free(x);
    x->root = dup_bytes(k->root, strlen(k->root));
    x->dir = dup_bytes(k->dir, strlen(k->dir));
    x->text = dup_bytes(k->text, k->len);
    rt_error ignored;
    if (x->root == NULL || x->dir == NULL || x->text == NULL || sim_meta_copy(&x->meta, m, &ignored) != RT_OK) {
        entry_free(x);
        return;
    }
    x->used = 1;
    x->has_store = k->has_store;
    x->held = k->held;
    x->len = k->len;
    x->xxh3 = k->xxh3;
    x->last_use = ++c->uses;
    c->stats.stored++;
}

rt_err sim_meta_parse_in(sim_meta_cache *c, sim_meta *m, const char *text, size_t len, const rt_store *store,
                         const char *dir, const char *what, int held, rt_error *e) {
    if (c == NULL)
        return held ? sim_meta_parse_held(m, text, len, store, dir, what, e)
                    : sim_meta_parse(m, text, len, store, dir, what, e);
    cache_key k = key_of(text, len, store, dir, held);
    if (lookup(c, &k, m)) return RT_OK;
    rt_err rc = held ? sim_meta_parse_held(m, text, len, store, dir, what, e)
                     : sim_meta_parse(m, text, len, store, dir, what, e);
    if (rc == RT_OK) keep(c, &k, m);
    return rc;
}

void sim_meta_cache_keep(sim_meta_cache *c, const char *text, size_t len, const rt_store *store, const char *dir,
                         const sim_meta *m) {
    if (c == NULL) return;
    cache_key k = key_of(text, len, store, dir, 0);
    for (int i = 0; i < SIM_META_CACHE_ENTRIES; i++)
        if (entry_matches(&c->e[i], &k)) return; /* the same bytes rewritten: kept already */
    keep(c, &k, m);
}
