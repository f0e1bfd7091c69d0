/* drv_fuzz_minimize: shrinks a failing seed's case to a 1-minimal one
 * that fails the same way (see drv_fuzz.h), after Hypothesis's shrinker
 * ("internal reduction"): the case is the sequence of choices it read, a
 * candidate is a shorter or smaller sequence, replayed through an rt_tape
 * (past its end the case reads zeros), kept when it still breaks the same
 * invariant. Passes delete spans of 8, 4, 2 and 1 choices, then lower each
 * choice to 0 or, by bisection, to the smallest value that still fails,
 * until a whole round keeps nothing. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_fuzz.h"

const char *drv_fuzz_failure(const drv_fuzz_result *r) {
    if (!r->violated) return "";
    return r->violation[0] ? r->violation : r->why.msg; /* a crash: its cause */
}

/* ---- the case string: the choices in hex, joined by '.' ------------------ */

char *drv_fuzz_choices_format(const uint64_t *v, size_t n) {
    size_t cap = n * 17 + 2;
    char *s = malloc(cap);
    if (s == NULL) return NULL;
    size_t at = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(s + at, cap - at, "%s%" PRIx64, i ? "." : "", v[i]);
        at += (size_t)w;
    }
    if (n == 0) snprintf(s, cap, "0"); /* no choices: every one is 0 */
    return s;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

rt_err drv_fuzz_choices_parse(const char *s, uint64_t **out, size_t *n_out, rt_error *e) {
    *out = NULL;
    *n_out = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == '.';
    uint64_t *v = malloc(cap * sizeof *v);
    if (v == NULL) return RT_FAIL(e, RT_ENOMEM, "case: out of memory");
    size_t n = 0;
    const char *p = s;
    for (;;) {
        uint64_t x = 0;
        int digits = 0;
        for (; hex_digit(*p) >= 0; p++, digits++) {
            if (digits == 16) break;
            x = x << 4 | (uint64_t)hex_digit(*p);
        }
        if (digits == 0 || digits > 16 || (*p != '.' && *p != '\0')) {
            free(v);
            return RT_FAIL(e, RT_EINPUT,
                           "case '%.80s': not hex choices joined by '.' (at character %d; `fuzz --minimize` prints one)",
                           s, (int)(p - s) + 1);
        }
        v[n++] = x;
        if (*p++ == '\0') break;
    }
    *out = v;
    *n_out = n;
    return RT_OK;
}

/* ---- the shrinker -------------------------------------------------------- */

typedef struct shrink {
    uint64_t seed;
    const char *work_dir;
    sim_mutant mutant;
    char failure[sizeof(((drv_fuzz_result *)0)->violation) + RT_ERROR_MSG_MAX];
    uint64_t *cur; /* the smallest failing sequence so far */
    size_t n;
    drv_fuzz_result best;
    uint64_t runs;
} shrink;

/* The sequence a run really read, without the zeros at its end (the case
 * reads those past the end anyway). */
static size_t trimmed(const rt_tape *t) {
    size_t n = t->n;
    while (n > 0 && t->v[n - 1] == 0) n--;
    return n;
}

/* Runs the case of choices v (n of them); *fails: it broke the original's
 * invariant (not a known bug, not another one). A failing candidate
 * becomes the current sequence, as the run read it. */
static rt_err attempt(shrink *s, const uint64_t *v, size_t n, int *fails, rt_error *e) {
    rt_tape t;
    memset(&t, 0, sizeof t);
    t.replay = 1;
    t.in = v;
    t.in_n = n;
    drv_fuzz_result r;
    rt_err rc = drv_fuzz_case(s->seed, s->work_dir, NULL, s->mutant, NULL, &t, &r, e);
    s->runs++;
    if (rc == RT_OK && t.oom) rc = RT_FAIL(e, RT_ENOMEM, "minimize: out of memory noting the choices");
    *fails = rc == RT_OK && !r.known_bug[0] && strcmp(drv_fuzz_failure(&r), s->failure) == 0;
    if (*fails) {
        /* Past its end the run read zeros and a value past its bound
         * counts as bound - 1: what it read, trimmed, is never longer than
         * v nor above it anywhere, so it fits in cur and is smaller. */
        size_t m = trimmed(&t);
        assert(m <= n);
        memcpy(s->cur, t.v, m * sizeof *t.v);
        s->n = m;
        s->best = r;
    }
    rt_tape_free(&t);
    return rc;
}

/* The candidate buffer's capacity: the original length (no candidate is longer). */
static rt_err delete_spans(shrink *s, uint64_t *cand, int *changed, rt_error *e) {
    static const size_t spans[] = {8, 4, 2, 1};
    for (size_t k = 0; k < sizeof spans / sizeof spans[0]; k++) {
        size_t len = spans[k];
        for (size_t i = s->n >= len ? s->n - len + 1 : 0; i-- > 0;) {
            if (i + len > s->n) continue; /* the sequence shrank under us */
            memcpy(cand, s->cur, i * sizeof *cand);
            memcpy(cand + i, s->cur + i + len, (s->n - i - len) * sizeof *cand);
            int fails = 0;
            rt_err rc = attempt(s, cand, s->n - len, &fails, e);
            if (rc != RT_OK) return rc;
            *changed |= fails;
        }
    }
    return RT_OK;
}

/* Each choice to 0, else bisected between a value that passes (lo) and
 * one that fails (hi): it ends where hi - 1 passes. */
static rt_err lower_values(shrink *s, uint64_t *cand, int *changed, rt_error *e) {
    for (size_t i = 0; i < s->n; i++) {
        if (s->cur[i] == 0) continue;
        uint64_t lo = 0, hi = s->cur[i];
        memcpy(cand, s->cur, s->n * sizeof *cand);
        cand[i] = 0;
        int fails = 0;
        rt_err rc = attempt(s, cand, s->n, &fails, e);
        if (rc != RT_OK) return rc;
        *changed |= fails;
        while (!fails && hi > lo + 1 && i < s->n) {
            uint64_t mid = lo + (hi - lo) / 2;
            memcpy(cand, s->cur, s->n * sizeof *cand);
            cand[i] = mid;
            rc = attempt(s, cand, s->n, &fails, e);
            if (rc != RT_OK) return rc;
            *changed |= fails;
            if (fails) {
                hi = i < s->n ? s->cur[i] : 0; /* as the run read it: mid, or less */
                fails = 0;
            } else {
                lo = mid;
            }
        }
    }
    return RT_OK;
}

rt_err drv_fuzz_minimize(uint64_t seed, const char *work_dir, sim_mutant mutant, drv_fuzz_minimized *out,
                         rt_error *e) {
    memset(out, 0, sizeof *out);
    rt_tape t;
    memset(&t, 0, sizeof t);
    rt_err rc = drv_fuzz_case(seed, work_dir, NULL, mutant, NULL, &t, &out->original, e);
    if (rc == RT_OK && t.oom) rc = RT_FAIL(e, RT_ENOMEM, "minimize: out of memory noting the choices");
    const char *failure = drv_fuzz_failure(&out->original);
    if (rc == RT_OK && (!failure[0] || out->original.known_bug[0]))
        rc = RT_FAIL(e, RT_EINPUT, "minimize: seed %" PRIu64 " does not fail (%s%s%s): nothing to minimize", seed,
                     out->original.outcome, out->original.why.msg[0] ? ": " : "", out->original.why.msg);
    shrink s;
    memset(&s, 0, sizeof s);
    s.seed = seed;
    s.work_dir = work_dir;
    s.mutant = mutant;
    snprintf(s.failure, sizeof s.failure, "%s", failure);
    out->original_n = t.n;
    size_t cap = t.n ? t.n : 1;
    s.cur = rc == RT_OK ? malloc(cap * sizeof *s.cur) : NULL;
    uint64_t *cand = rc == RT_OK ? malloc(cap * sizeof *cand) : NULL;
    if (rc == RT_OK && (s.cur == NULL || cand == NULL)) rc = RT_FAIL(e, RT_ENOMEM, "minimize: out of memory");
    if (rc == RT_OK) {
        s.n = trimmed(&t);
        memcpy(s.cur, t.v, s.n * sizeof *s.cur);
        s.best = out->original;
    }
    rt_tape_free(&t);
    for (int changed = 1; rc == RT_OK && changed;) {
        changed = 0;
        rc = delete_spans(&s, cand, &changed, e);
        if (rc == RT_OK) rc = lower_values(&s, cand, &changed, e);
    }
    free(cand);
    if (rc != RT_OK) {
        free(s.cur);
        return rc;
    }
    out->result = s.best;
    out->choices = s.cur;
    out->n = s.n;
    out->runs = s.runs;
    return RT_OK;
}

void drv_fuzz_minimized_free(drv_fuzz_minimized *m) {
    free(m->choices);
    m->choices = NULL;
    m->n = 0;
}
