/* rt_trace: the run's logical event log. Each event is one JSON line
 * {"t":<virtual ms>,"ev":"<type>",...}; every line is folded into a running
 * 64-bit XXH3 digest, so two runs agree exactly when their logical events do.
 * Never put raw SST bytes, addresses or wall-clock values in an event. */
#ifndef RT_TRACE_H
#define RT_TRACE_H

#include <stdint.h>
#include <stdio.h>

typedef struct rt_trace {
    void *xxh_state; /* XXH3_state_t*, hidden to keep xxhash.h out of users */
    FILE *out;       /* optional JSONL sink; NULL keeps only the digest */
    uint64_t events;
    int owns_out;
    /* optional: told of every event after it is digested (and written) */
    void (*watch)(void *ctx, uint64_t line, uint64_t t_ms, const char *ev, const char *text);
    void *watch_ctx;
} rt_trace;

int rt_trace_init(rt_trace *tr, FILE *out);
/* Opens path for writing (truncating); returns 0 or -1 with errno set. */
int rt_trace_open_file(rt_trace *tr, const char *path);
void rt_trace_free(rt_trace *tr);
/* fields_fmt is a printf format producing the JSON members after "ev",
 * without a leading comma, e.g. "\"chk\":%d,\"bytes\":%zu"; may be NULL. */
void rt_trace_event(rt_trace *tr, uint64_t t_ms, const char *ev, const char *fields_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Calls fn(ctx, line, t_ms, ev, text) after every later event: line is its
 * 1-based number in the trace, text the JSON line without its newline.
 * fn must not add events. NULL stops watching. */
typedef void (*rt_trace_watch_fn)(void *ctx, uint64_t line, uint64_t t_ms, const char *ev, const char *text);
void rt_trace_watch(rt_trace *tr, rt_trace_watch_fn fn, void *ctx);
uint64_t rt_trace_digest(const rt_trace *tr);
/* The digest as 16 lowercase hex digits into buf[17]. */
void rt_trace_digest_hex(const rt_trace *tr, char buf[17]);

#endif
