/* rt_prng: splitmix64 and xoshiro256** (Blackman and Vigna), written from
 * the published algorithm descriptions. */
#include "rt_prng.h"

#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

uint64_t rt_splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rt_prng_seed(rt_prng *p, uint64_t seed) {
    assert(p != NULL);
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) p->s[i] = rt_splitmix64(&sm);
    /* xoshiro must not start from all zeros; splitmix64 cannot produce four
     * zeros in a row, but the invariant is cheap to state. */
    assert(p->s[0] | p->s[1] | p->s[2] | p->s[3]);
    p->draws = 0;
    p->tape = NULL;
}

void rt_prng_stream(rt_prng *out, uint64_t seed, uint64_t stream_id) {
    uint64_t sm = seed ^ 0x5eed5eed5eed5eedULL;
    uint64_t a = rt_splitmix64(&sm);
    sm = stream_id * 0xd1342543de82ef95ULL + a;
    rt_prng_seed(out, rt_splitmix64(&sm) ^ a);
}

static inline uint64_t rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

uint64_t rt_prng_next(rt_prng *p) {
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    p->draws++;
    return result;
}

static uint64_t below_raw(rt_prng *p, uint64_t bound) {
    /* Rejection sampling: discard the top partial range. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t x;
    do {
        x = rt_prng_next(p);
    } while (x >= limit);
    return x % bound;
}

static void tape_note(rt_tape *t, uint64_t v, uint64_t bound) {
    if (t->oom) return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        uint64_t *nv = realloc(t->v, cap * sizeof *nv);
        if (nv) t->v = nv;
        uint64_t *nb = nv ? realloc(t->bound, cap * sizeof *nb) : NULL;
        if (nb == NULL) {
            t->oom = 1;
            return;
        }
        t->bound = nb;
        t->cap = cap;
    }
    t->v[t->n] = v;
    t->bound[t->n++] = bound;
}

uint64_t rt_prng_below(rt_prng *p, uint64_t bound) {
    assert(bound > 0);
    rt_tape *t = p->tape;
    if (t == NULL) return below_raw(p, bound);
    uint64_t v;
    if (!t->replay) {
        v = below_raw(p, bound);
    } else {
        size_t i = t->used;
        v = i < t->in_n ? t->in[i] : 0;
        if (v >= bound) v = bound - 1;
    }
    t->used++;
    tape_note(t, v, bound);
    return v;
}

void rt_tape_free(rt_tape *t) {
    free(t->v);
    free(t->bound);
    t->v = t->bound = NULL;
    t->n = t->cap = t->used = 0;
    t->oom = 0;
}

int64_t rt_prng_range(rt_prng *p, int64_t lo, int64_t hi) {
    assert(lo <= hi);
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) return (int64_t)rt_prng_next(p); /* full 64-bit range */
    return (int64_t)((uint64_t)lo + rt_prng_below(p, span));
}

int rt_prng_chance(rt_prng *p, uint32_t num, uint32_t den) {
    assert(den > 0);
    if (num == 0) return 0;
    return rt_prng_below(p, den) < num;
}

uint64_t rt_mix3(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t st = seed ^ (a * 0x9e3779b97f4a7c15ULL);
    uint64_t x = rt_splitmix64(&st);
    st = x ^ (b * 0xc2b2ae3d27d4eb4fULL);
    return rt_splitmix64(&st);
}
