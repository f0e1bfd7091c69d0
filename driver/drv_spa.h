/* drv_spa: the State Processor API, offline, as Flink's
 * flink-state-processor-api. The reader (SavepointReader) loads a
 * snapshot's keyed state through the restore code into scratch backends of
 * the kind that wrote it, checks it against the oracle at the snapshot's
 * cut and dumps it per uid as JSONL. The writer (SavepointWriter
 * .fromExistingSavepoint, removeOperator + withOperator, write) rewrites
 * only the operators it is asked to change, bootstrapped from what the
 * reader read, in the format requested; every other operator is carried
 * over as it was, its handles pointing into the original snapshot (the
 * files of key-group handles copied by name into the new savepoint, as
 * FileCopyFunction does): the new savepoint then depends on the old one's
 * files. Neither refuses a snapshot for its kind: what they cannot do fails
 * in the format code. */
#ifndef DRV_SPA_H
#define DRV_SPA_H

#include <stdio.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "sim_engine.h"
#include "sim_version.h"

typedef struct drv_spa_opts {
    const sim_version *engine; /* the engine the tool runs as */
    const char *work_dir;      /* local directory for RocksDB instances */
    sim_mutant mutant;         /* SIM_MUT_NONE unless testing the tests */
    struct sim_meta_cache *meta_cache; /* parsed _metadata to reuse (NULL: none) */
} drv_spa_opts;

/* Reads dir's keyed state; out (may be NULL) receives one JSON line per
 * (uid, key, state). An unaligned checkpoint's in-flight records are not
 * keyed state: Flink's reader reads the keyed state alone, and so does this. */
rt_err drv_spa_read(rt_store *store, const char *dir, const drv_spa_opts *o, FILE *out, rt_error *e);

#define DRV_SPA_MAX_REWRITE 8

/* What the writer changes. No Flink release up to 2.2 lets a SavepointWriter
 * choose the format: every bootstrapped operator is written with
 * SavepointFormatType.DEFAULT (canonical); SnapshotUtils.snapshot takes a
 * format type internally, which `format` models. */
typedef struct drv_spa_write_req {
    sim_kind format;                           /* SIM_KIND_CANONICAL or SIM_KIND_NATIVE */
    const char *rewrite[DRV_SPA_MAX_REWRITE];  /* uids of keyed operators to rewrite */
    int n_rewrite;
    uint32_t memory_threshold;                 /* the writer's state.storage.fs.memory-threshold */
    const char *target;                        /* the new savepoint goes in a fresh directory under it */
} drv_spa_write_req;

/* Writes a new savepoint from the snapshot in dir; new_dir receives its
 * directory. All-or-nothing: on failure nothing of it remains. */
rt_err drv_spa_write(rt_store *store, const char *dir, const drv_spa_write_req *req, const drv_spa_opts *o,
                     char *new_dir, size_t cap, rt_error *e);

#endif
