/* replay_show: what `snapsim replay --until/--break` prints where the case
 * stopped: the coordinator, the SharedStateRegistry and the tasks, read
 * through sim_engine.h's views; text, or one JSON object. */
#ifndef REPLAY_SHOW_H
#define REPLAY_SHOW_H

#include <stdint.h>

#include "drv_fuzz.h"

typedef struct replay_show_ctx {
    uint64_t seed;
    int json;
    const char *event; /* --break's event, or NULL */
    uint64_t nth;
    int has_until;
    uint64_t until_ms;
    int shown;         /* set once show ran */
    int reached;       /* it stopped where asked (not "end") */
} replay_show_ctx;

/* A drv_fuzz_stop.show: prints the run at the stop on stdout. */
void replay_show(void *ctx, const sim_run *r, const drv_fuzz_stop_at *at);

#endif
