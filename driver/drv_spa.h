/* drv_spa: the State Processor API, offline. The reader loads a snapshot's
 * keyed state through the restore code into scratch backends of the
 * snapshot's own backend kind, checks it against the oracle at the
 * snapshot's cut and dumps it per uid as JSONL; the writer produces a new
 * savepoint from what the reader loaded. */
#ifndef DRV_SPA_H
#define DRV_SPA_H

#include <stdio.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "sim_version.h"

/* Reads dir's keyed state; out (may be NULL) receives one JSON line per
 * (uid, key, state). Rejects snapshots holding in-flight channel state:
 * their keyed state alone is not a consistent view. */
rt_err drv_spa_read(rt_store *store, const char *dir, const sim_version *engine, const char *work_dir,
                    FILE *out, rt_error *e);
/* Writes a new savepoint of the same format as dir under target; the
 * writer has only the canonical format. new_dir receives its directory. */
rt_err drv_spa_write(rt_store *store, const char *dir, const char *target, const sim_version *engine,
                     const char *work_dir, char *new_dir, size_t cap, rt_error *e);

#endif
