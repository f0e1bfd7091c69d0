/* rt_loop: the virtual clock and the event queue. Events are ordered by
 * (virtual time, sequence number); the sequence number is taken from the
 * loop when the event is scheduled, so ties run in scheduling order and the
 * order never depends on addresses. */
#ifndef RT_LOOP_H
#define RT_LOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_loop rt_loop;
typedef void (*rt_event_fn)(rt_loop *loop, void *arg, uint64_t tag);

typedef struct rt_event {
    uint64_t at_ms;
    uint64_t seq;
    rt_event_fn fn;
    void *arg;
    uint64_t tag;
} rt_event;

/* Pending events at most. Fixed, so scheduling cannot fail: a job has at
 * most 48 tasks and 128 bounded channels, and the busiest run measured
 * (matrix, 300 fuzz seeds, a 20,000-record unaligned RocksDB take) had 227
 * pending; exceeding this is a bug (an event chain that multiplies) and is
 * asserted. */
#define RT_LOOP_CAPACITY 4096

struct rt_loop {
    uint64_t now_ms;
    uint64_t next_seq;
    uint64_t events_run;
    uint64_t events_max; /* bound: a run that exceeds it is stuck */
    size_t len, peak;    /* pending now; the most ever pending */
    int stopped;
    rt_event heap[RT_LOOP_CAPACITY];
};

void rt_loop_init(rt_loop *loop, uint64_t events_max);
void rt_loop_free(rt_loop *loop);
uint64_t rt_loop_now(const rt_loop *loop);
/* Schedules fn(arg, tag) at now + delay_ms. Cannot fail (asserts the
 * capacity). A timer is cancelled by its owner: give it a generation in the
 * tag and ignore a firing whose generation is no longer current. */
void rt_loop_at(rt_loop *loop, uint64_t delay_ms, rt_event_fn fn, void *arg, uint64_t tag);
/* Runs the single earliest event; returns 0 when the queue is empty. */
int rt_loop_step(rt_loop *loop);
/* Runs events while their time is <= until_ms (or until stopped / empty /
 * events_max). Afterwards now = until_ms unless stopped or stuck. Returns
 * 1 when the events_max bound was hit, else 0. */
int rt_loop_run_until(rt_loop *loop, uint64_t until_ms);
/* Runs until the queue is empty, stop is called or the bound is hit (1). */
int rt_loop_run(rt_loop *loop);
void rt_loop_stop(rt_loop *loop);
size_t rt_loop_pending(const rt_loop *loop);
/* The virtual time of the earliest pending event; UINT64_MAX if none. */
uint64_t rt_loop_next_at(const rt_loop *loop);

#endif
