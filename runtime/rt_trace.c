/* rt_trace: JSONL event lines and their running XXH3-64 digest. */
#include "rt_trace.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int rt_trace_init(rt_trace *tr, FILE *out) {
    assert(tr != NULL);
    XXH3_state_t *st = XXH3_createState();
    if (st == NULL) return -1;
    XXH3_64bits_reset(st);
    tr->xxh_state = st;
    tr->out = out;
    tr->events = 0;
    tr->owns_out = 0;
    tr->watch = NULL;
    tr->watch_ctx = NULL;
    return 0;
}

int rt_trace_open_file(rt_trace *tr, const char *path) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return -1;
    if (rt_trace_init(tr, f) != 0) {
        fclose(f);
        return -1;
    }
    tr->owns_out = 1;
    return 0;
}

void rt_trace_free(rt_trace *tr) {
    if (tr->xxh_state) XXH3_freeState(tr->xxh_state);
    tr->xxh_state = NULL;
    if (tr->owns_out && tr->out) fclose(tr->out);
    tr->out = NULL;
}

void rt_trace_event(rt_trace *tr, uint64_t t_ms, const char *ev, const char *fields_fmt, ...) {
    assert(tr->xxh_state != NULL);
    char line[2048];
    int n = snprintf(line, sizeof line, "{\"t\":%" PRIu64 ",\"ev\":\"%s\"", t_ms, ev);
    assert(n > 0);
    assert((size_t)n < sizeof line);
    if (fields_fmt != NULL && fields_fmt[0] != '\0') {
        line[n++] = ',';
        va_list ap;
        va_start(ap, fields_fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n - 3, fields_fmt, ap);
        va_end(ap);
        assert(m >= 0);
        if (m == 0) n--; /* the fields came out empty: no comma (valid JSON) */
        /* A truncated event would still be deterministic, but say so. */
        else n += m < (int)(sizeof line - (size_t)n - 3) ? m : (int)(sizeof line - (size_t)n - 4);
    }
    line[n++] = '}';
    line[n++] = '\n';
    line[n] = '\0';
    XXH3_64bits_update(tr->xxh_state, line, (size_t)n);
    tr->events++;
    if (tr->out) fputs(line, tr->out);
    if (tr->watch) {
        line[n - 1] = '\0';
        tr->watch(tr->watch_ctx, tr->events, t_ms, ev, line);
    }
}

void rt_trace_watch(rt_trace *tr, rt_trace_watch_fn fn, void *ctx) {
    tr->watch = fn;
    tr->watch_ctx = ctx;
}

uint64_t rt_trace_digest(const rt_trace *tr) {
    return XXH3_64bits_digest(tr->xxh_state);
}

void rt_trace_digest_hex(const rt_trace *tr, char buf[17]) {
    snprintf(buf, 17, "%016" PRIx64, rt_trace_digest(tr));
}
