/* rt_prng: the only source of randomness. splitmix64 seeds xoshiro256**;
 * a sub-stream is a new generator seeded from (seed, stream id), so adding
 * draws to one part of the simulation never shifts another part's draws. */
#ifndef RT_PRNG_H
#define RT_PRNG_H

#include <stddef.h>
#include <stdint.h>

/* A choice tape (Hypothesis's "choice sequence"): every value a generator
 * with a tape draws below a bound (rt_prng_below, so range and chance too)
 * is one choice. Recording, the generator draws as it would without a tape
 * and the tape notes each value and its bound; replaying, the values come
 * from in[] instead (one past its bound counts as bound - 1, past its end
 * as 0) and the tape notes what was handed out: after a replay, v[] is the
 * sequence the case really read. Several generators may share one tape:
 * their draws interleave in the order they are made. */
typedef struct rt_tape {
    int replay;
    const uint64_t *in; /* replay: the choices to hand out */
    size_t in_n;
    uint64_t *v, *bound; /* the choices drawn (or handed out) and their bounds */
    size_t n, cap;
    size_t used; /* how many choices were asked for */
    int oom; /* a choice could not be noted: v[] is incomplete */
} rt_tape;

typedef struct rt_prng {
    uint64_t s[4];
    uint64_t draws; /* how many values were drawn: part of the unseed check */
    rt_tape *tape;  /* NULL: none (rt_prng_seed clears it) */
} rt_prng;

/* Well-known stream ids, so each part of the simulation draws from its own. */
enum {
    RT_STREAM_SOURCE = 1,   /* record keys and values */
    RT_STREAM_NETWORK = 2,  /* channel delays */
    RT_STREAM_FAULTS = 3,   /* fault plan */
    RT_STREAM_COORD = 4,    /* coordinator jitter */
    RT_STREAM_SCENARIO = 5, /* scenario-level choices */
    RT_STREAM_IDS = 6       /* job ids, savepoint directory names */
};

uint64_t rt_splitmix64(uint64_t *state);
void rt_prng_seed(rt_prng *p, uint64_t seed);
/* A generator independent of p's own sequence, derived from seed and id. */
void rt_prng_stream(rt_prng *out, uint64_t seed, uint64_t stream_id);
uint64_t rt_prng_next(rt_prng *p);
/* Uniform in [0, bound), bound > 0, without modulo bias (from the tape, if
 * p has one in replay). */
uint64_t rt_prng_below(rt_prng *p, uint64_t bound);
/* Uniform in [lo, hi], lo <= hi. */
int64_t rt_prng_range(rt_prng *p, int64_t lo, int64_t hi);
/* True with probability num/den. */
int rt_prng_chance(rt_prng *p, uint32_t num, uint32_t den);

/* Frees what the tape noted (not in[]) and clears it. */
void rt_tape_free(rt_tape *t);

/* A stateless hash of (seed, a, b): records are a pure function of the
 * seed and their offset, so the oracle can recompute any of them. */
uint64_t rt_mix3(uint64_t seed, uint64_t a, uint64_t b);

#endif
