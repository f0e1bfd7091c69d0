/* rt_prng: the only source of randomness. splitmix64 seeds xoshiro256**;
 * a sub-stream is a new generator seeded from (seed, stream id), so adding
 * draws to one part of the simulation never shifts another part's draws. */
#ifndef RT_PRNG_H
#define RT_PRNG_H

#include <stdint.h>

typedef struct rt_prng {
    uint64_t s[4];
    uint64_t draws; /* how many values were drawn: part of the unseed check */
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
/* Uniform in [0, bound), bound > 0, without modulo bias. */
uint64_t rt_prng_below(rt_prng *p, uint64_t bound);
/* Uniform in [lo, hi], lo <= hi. */
int64_t rt_prng_range(rt_prng *p, int64_t lo, int64_t hi);
/* True with probability num/den. */
int rt_prng_chance(rt_prng *p, uint32_t num, uint32_t den);

/* A stateless hash of (seed, a, b): records are a pure function of the
 * seed and their offset, so the oracle can recompute any of them. */
uint64_t rt_mix3(uint64_t seed, uint64_t a, uint64_t b);

#endif
