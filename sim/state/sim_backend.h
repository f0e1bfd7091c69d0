/* sim_backend: the keyed state backend interface. One backend instance per
 * keyed subtask, holding the key groups [kg_lo, kg_hi] and n_states named
 * states. Values are opaque bytes here (sim_state encodes them). A backend
 * writes and reads its own native format; the canonical format is written
 * and read through scan/put by sim/state/sim_canonical.c, backend-independent.
 *
 * Implementations: sim/state/sim_backend_heap.c, sim/state/sim_backend_rocksdb.c. */
#ifndef SIM_BACKEND_H
#define SIM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_handle.h"
#include "sim_state.h"
#include "sim_version.h"

/* FLIP-193 sharing strategies. */
typedef enum {
    SIM_SHARE_FORWARD_BACKWARD, /* checkpoint: may reuse and be reused */
    SIM_SHARE_FORWARD,          /* full checkpoint: uploads all, may be reused */
    SIM_SHARE_NO_SHARING        /* savepoint: uploads all into its own dir */
} sim_sharing;

const char *sim_sharing_name(sim_sharing s);

typedef struct sim_backend sim_backend;

/* Everything a native snapshot needs to know about where it goes. The
 * checkpoint's shared-state registry is the engine's (sim_registry.h): a
 * backend knows of confirmed uploads only what notify_complete told it, as
 * a Flink task does. */
typedef struct sim_snap_ctx {
    rt_store *store;
    const char *dir;         /* private files: "<job>/chk-N" or "savepoint-..." */
    const char *shared_dir;  /* "<job>/shared"; NULL for savepoints */
    const char *file_prefix; /* "<uid>-<subtask>", unique within dir */
    sim_sharing sharing;
    int64_t checkpoint_id;
    const sim_version *engine;
    rt_trace *trace;
    uint64_t now_ms;
    uint64_t files_written, bytes_written; /* accumulated by the backend */
    /* RocksDB: SST bytes this snapshot uploaded, and the bytes of the SSTs
     * in it that were not in the backend's previous checkpoint (what an
     * incremental checkpoint has to upload at least). */
    uint64_t sst_bytes_uploaded, sst_bytes_new;
    /* FsCheckpointStreamFactory's state.storage.fs.memory-threshold: state
     * of at most this many bytes is not uploaded but inlined in _metadata
     * (its bytes go to inline_pool). 0 or no pool: always a file. */
    uint32_t memory_threshold;
    sim_bytes_pool *inline_pool;
} sim_snap_ctx;

/* Where restore reads files from: already verified (size, checksum) by the
 * caller, who hands the bytes over one file at a time. */
typedef rt_err (*sim_fetch_fn)(void *ctx, const sim_file_ref *f, uint8_t **data, size_t *len,
                               rt_error *e);

typedef struct sim_restore_ctx {
    sim_fetch_fn fetch;
    void *fetch_ctx;
    const sim_version *engine;
    rt_trace *trace;
    uint64_t now_ms;
} sim_restore_ctx;

typedef int (*sim_scan_fn)(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val,
                           size_t len);

typedef struct sim_backend_ops {
    const char *name; /* "heap", "rocksdb" */
    rt_err (*get)(sim_backend *b, int state, uint32_t kg, uint64_t key, uint8_t *val,
                  size_t cap, size_t *len, int *found, rt_error *e);
    rt_err (*put)(sim_backend *b, int state, uint32_t kg, uint64_t key, const uint8_t *val,
                  size_t len, rt_error *e);
    /* Every entry of one state in (kg, key) order; fn returning non-zero
     * stops the scan. */
    rt_err (*scan)(sim_backend *b, int state, sim_scan_fn fn, void *ctx, rt_error *e);
    rt_err (*snapshot_native)(sim_backend *b, sim_snap_ctx *ctx, sim_keyed_handle *out,
                              rt_error *e);
    /* Adds the entries of a native handle that fall in [kg_lo, kg_hi];
     * called once per handle (several when rescaling). Must reject a handle
     * of another format, and leave the backend unusable (not half-filled)
     * on failure: the caller then discards it. */
    rt_err (*restore_native)(sim_backend *b, const sim_restore_ctx *ctx,
                             const sim_keyed_handle *h, rt_error *e);
    /* A checkpoint completed or was subsumed/aborted (incremental bookkeeping). */
    void (*notify_complete)(sim_backend *b, int64_t checkpoint_id);
    void (*notify_abort)(sim_backend *b, int64_t checkpoint_id);
    void (*destroy)(sim_backend *b);
} sim_backend_ops;

/* Shipped bugs a backend can be told to have again (the engine's mutants
 * that live in a backend; never set by default). */
#define SIM_BACKEND_BUG_REUSE_UNCONFIRMED 1u /* FLINK-25395: reuse uploads not confirmed yet */
#define SIM_BACKEND_BUG_SAVEPOINT_IS_BASE 2u /* FLINK-23949: a savepoint's completion resets the base */
#define SIM_BACKEND_BUG_CONFIRM_NOTHING 4u   /* no upload is ever taken as confirmed: nothing is reused */

struct sim_backend {
    const sim_backend_ops *ops;
    unsigned bugs; /* SIM_BACKEND_BUG_* */
    uint32_t kg_lo, kg_hi;
    uint32_t max_parallelism;
    int n_states;
    /* Each state's registered serializer: what its stored bytes are written
     * with (after a restore: the job's, or a reconfigured one). */
    sim_state_desc states[SIM_MAX_STATES];
    sim_ftype key_type; /* the key serializer, written into every handle */
    int incremental;
    const sim_version *engine;
};

typedef struct sim_backend_config {
    const char *kind;    /* "heap" or "rocksdb" */
    uint32_t kg_lo, kg_hi, max_parallelism;
    int n_states;
    const sim_state_desc *states;
    sim_ftype key_type;
    int incremental;
    const sim_version *engine;
    const char *work_dir; /* local directory for rocksdb (unique per subtask) */
    unsigned bugs;        /* SIM_BACKEND_BUG_*: 0 */
} sim_backend_config;

/* Creates a backend of cfg->kind; RT_EUSAGE for an unknown kind. */
rt_err sim_backend_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e);
rt_err sim_backend_heap_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e);
rt_err sim_backend_rocksdb_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e);
void sim_backend_destroy(sim_backend *b);

/* What the RocksDB backends of this process have asked of RocksDB so far,
 * counted where each call is made: process-wide, only ever growing, read
 * by bench (the RocksDB floor of a fuzz seed), never by the engine. */
typedef struct sim_rocks_counts {
    uint64_t opens;       /* DBs opened: new, restored, a restore's source */
    uint64_t flushes;     /* column-family flushes (an empty memtable's too) */
    uint64_t checkpoints; /* local RocksDB checkpoints: one per native snapshot */
    uint64_t gets;        /* point reads */
    uint64_t writes;      /* write batches written */
} sim_rocks_counts;
sim_rocks_counts sim_backend_rocksdb_counts(void);

/* The one way snapshot state is uploaded (FsCheckpointStateOutputStream's
 * closeAndGetHandle): at most ctx->memory_threshold bytes are inlined,
 * anything larger is written to path in the store, as an absolute handle
 * in the shared directory and a relative one in the snapshot's own. Fills
 * f (path, size, xxh3, type) and adds files to ctx's counters. */
rt_err sim_upload(sim_snap_ctx *ctx, const char *path, const void *data, size_t len,
                  sim_file_ref *f, rt_error *e);
uint64_t sim_checksum(const void *data, size_t len);

#endif
