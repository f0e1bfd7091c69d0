/* rt_loop: a binary min-heap of events keyed by (time, sequence), in a
 * fixed array. */
#include "rt_loop.h"

#include <assert.h>

void rt_loop_init(rt_loop *loop, uint64_t events_max) {
    assert(loop != NULL);
    loop->now_ms = 0;
    loop->next_seq = 0;
    loop->events_run = 0;
    loop->events_max = events_max ? events_max : UINT64_MAX;
    loop->len = 0;
    loop->peak = 0;
    loop->stopped = 0;
}

void rt_loop_free(rt_loop *loop) { loop->len = 0; }

uint64_t rt_loop_now(const rt_loop *loop) { return loop->now_ms; }
size_t rt_loop_pending(const rt_loop *loop) { return loop->len; }
void rt_loop_stop(rt_loop *loop) { loop->stopped = 1; }
uint64_t rt_loop_next_at(const rt_loop *loop) { return loop->len ? loop->heap[0].at_ms : UINT64_MAX; }

static int ev_less(const rt_event *a, const rt_event *b) {
    if (a->at_ms != b->at_ms) return a->at_ms < b->at_ms;
    return a->seq < b->seq;
}

static void ev_swap(rt_event *a, rt_event *b) {
    rt_event t = *a;
    *a = *b;
    *b = t;
}

void rt_loop_at(rt_loop *loop, uint64_t delay_ms, rt_event_fn fn, void *arg, uint64_t tag) {
    assert(fn != NULL);
    assert(loop->len < RT_LOOP_CAPACITY);
    assert(delay_ms <= UINT64_MAX - loop->now_ms);
    size_t i = loop->len++;
    if (loop->len > loop->peak) loop->peak = loop->len;
    loop->heap[i] = (rt_event){loop->now_ms + delay_ms, loop->next_seq++, fn, arg, tag};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_less(&loop->heap[i], &loop->heap[parent])) break;
        ev_swap(&loop->heap[i], &loop->heap[parent]);
        i = parent;
    }
}

static rt_event pop_min(rt_loop *loop) {
    assert(loop->len > 0);
    rt_event top = loop->heap[0];
    loop->heap[0] = loop->heap[--loop->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->len && ev_less(&loop->heap[l], &loop->heap[m])) m = l;
        if (r < loop->len && ev_less(&loop->heap[r], &loop->heap[m])) m = r;
        if (m == i) break;
        ev_swap(&loop->heap[i], &loop->heap[m]);
        i = m;
    }
    return top;
}

int rt_loop_step(rt_loop *loop) {
    if (loop->len == 0) return 0;
    rt_event ev = pop_min(loop);
    assert(ev.at_ms >= loop->now_ms); /* time never runs backwards */
    loop->now_ms = ev.at_ms;
    loop->events_run++;
    ev.fn(loop, ev.arg, ev.tag);
    return 1;
}

int rt_loop_run_until(rt_loop *loop, uint64_t until_ms) {
    loop->stopped = 0;
    while (!loop->stopped && loop->len > 0 && loop->heap[0].at_ms <= until_ms) {
        if (loop->events_run >= loop->events_max) return 1;
        rt_loop_step(loop);
    }
    if (!loop->stopped && until_ms > loop->now_ms) loop->now_ms = until_ms;
    return 0;
}

int rt_loop_run(rt_loop *loop) {
    loop->stopped = 0;
    while (!loop->stopped && loop->len > 0) {
        if (loop->events_run >= loop->events_max) return 1;
        rt_loop_step(loop);
    }
    return 0;
}
