/* sim_engine: one running job on the virtual clock: tasks and channels with
 * bounded buffers, aligned and unaligned barriers, the checkpoint
 * coordinator with its completed-checkpoint store and SharedStateRegistry,
 * savepoints and stop-with-savepoint, failover, restore, and the final
 * check against the exactly-once oracle. */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdint.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_job.h"
#include "sim_metadata.h"
#include "sim_mutant.h"
#include "sim_registry.h"
#include "sim_version.h"

typedef enum { SIM_KIND_CANONICAL, SIM_KIND_NATIVE, SIM_KIND_ALIGNED, SIM_KIND_UNALIGNED } sim_kind;
typedef enum { SIM_MODE_NO_CLAIM, SIM_MODE_CLAIM, SIM_MODE_LEGACY } sim_restore_mode;

const char *sim_kind_name(sim_kind k);
int sim_kind_parse(const char *s, sim_kind *out);
const char *sim_mode_name(sim_restore_mode m);
/* Accepts claim|no-claim|no_claim|legacy (any case). */
int sim_mode_parse(const char *s, sim_restore_mode *out);

typedef struct sim_run sim_run;

/* A harness's view of the job's own steps: called at the end of every
 * completed checkpoint or savepoint `id` (in directory dir), after the
 * completed-checkpoint store was written and older checkpoints were
 * subsumed and discarded. It must not change the run. */
typedef void (*sim_completed_fn)(void *ctx, const sim_run *r, int64_t id, const char *dir, int savepoint);

/* A file the engine deleted from the snapshot storage: FLIP-193 ownership
 * as it happened (CompletedCheckpoint.discardOnSubsume, the registry's
 * unregisterUnusedState and its scheduled deletions, an abort's cleanup). */
typedef struct sim_deletion {
    const char *path;         /* store-relative */
    uint64_t virtual_ms;
    int64_t after_checkpoint; /* the completed checkpoint that made it go; -1: an abort */
    const char *cause;        /* "subsumed" (a subsumed checkpoint's own file), "unused"
                               * (a shared file no retained checkpoint uses), "replaced"
                               * (another handle under its registry key), "aborted" */
} sim_deletion;
typedef void (*sim_deletion_fn)(void *ctx, const sim_deletion *d);

/* A driver's stop between two events (replay --until, --break): called
 * before each event the run's loop would run, with that event's virtual
 * time (the run's own clock). Non-zero halts the run there: the event does
 * not run, and this and every later call that would run events fails with
 * RT_EHALTED (no event runs any more). It must not change the run. */
typedef int (*sim_halt_fn)(void *ctx, const sim_run *r, uint64_t next_at_ms);

typedef struct sim_config {
    uint64_t seed;               /* this run's randomness (delays, ids, faults) */
    uint64_t source_seed;        /* the data: kept across restores */
    sim_job job;
    const char *backend;         /* "heap" | "rocksdb" */
    const sim_version *engine;
    int incremental;             /* state.backend.incremental */
    int unaligned;               /* checkpoints are unaligned */
    uint64_t aligned_timeout_ms; /* aligned -> unaligned after this; 0 never */
    uint64_t interval_ms;        /* periodic checkpoint interval; 0 none */
    uint64_t timeout_ms;         /* checkpoint timeout */
    uint64_t min_pause_ms;
    /* execution.checkpointing.max-concurrent-checkpoints: checkpoints in
     * progress at once (Flink's default 1; unaligned checkpoints and the
     * aligned-checkpoint timeout need 1, as in Flink). */
    int max_concurrent;
    int retained;                /* completed checkpoints kept */
    /* state.storage.fs.memory-threshold (FsCheckpointStreamFactory): state
     * of at most this many bytes is inlined in _metadata instead of being a
     * file; Flink's default is 20 KiB, its maximum 1 MiB; 0 inlines nothing. */
    uint32_t memory_threshold;
    rt_store *store;             /* the checkpoint/savepoint storage */
    /* Parses of _metadata kept by their bytes (sim_metadata.h), for the
     * run's writes, restores and recoveries; NULL: every read is parsed. */
    struct sim_meta_cache *meta_cache;
    const char *work_dir;        /* local directory for RocksDB instances */
    rt_trace *trace;
    uint64_t events_max;         /* bound on events: beyond it the run is stuck */
    sim_mutant mutant;           /* SIM_MUT_NONE except under `snapsim mutants` */
    sim_completed_fn on_completed; /* NULL: nobody watches */
    void *observer;              /* on_completed's ctx */
    sim_deletion_fn on_delete;   /* told of every file deleted (may be NULL) */
    void *on_delete_ctx;
    sim_halt_fn halt;            /* NULL: the run never halts early */
    void *halt_ctx;
} sim_config;

/* FsCheckpointStreamFactory: the default of state.storage.fs.memory-threshold
 * (20 KiB) and its largest allowed value (MAX_FILE_STATE_THRESHOLD, 1 MiB). */
#define SIM_MEMORY_THRESHOLD_DEFAULT (20u * 1024u)
#define SIM_MEMORY_THRESHOLD_MAX (1024u * 1024u)
/* The most checkpoints in progress at once a run may be configured for. */
#define SIM_MAX_CONCURRENT 8

void sim_config_defaults(sim_config *c);

typedef struct sim_stats {
    uint64_t virtual_ms;
    uint64_t files_written, bytes_written;
    uint64_t checkpoints_completed, checkpoints_failed;
    uint64_t records_emitted;
    uint64_t watermarks_forwarded;
    /* The last completed checkpoint: its id, the SST bytes its subtasks
     * uploaded, and the bytes of the SSTs RocksDB created since each
     * subtask's previous checkpoint (an incremental checkpoint should
     * upload no more than those: FLINK-23949). */
    int64_t last_checkpoint_id;
    uint64_t last_sst_bytes_uploaded, last_sst_bytes_new;
    /* The same two, summed over every completed checkpoint. */
    uint64_t sst_bytes_uploaded, sst_bytes_new;
} sim_stats;

rt_err sim_run_create(sim_run **out, const sim_config *cfg, rt_error *e);
void sim_run_destroy(sim_run *r);

/* Restores from the snapshot whose _metadata is in dir (store-relative),
 * before the job starts. All-or-nothing: on error nothing was restored. */
rt_err sim_run_restore(sim_run *r, const char *dir, sim_restore_mode mode,
                       int allow_non_restored, rt_error *e);
/* Lets the sources emit n more records (checkpoints keep running). */
rt_err sim_run_records(sim_run *r, uint64_t n, rt_error *e);
/* Takes one snapshot of a kind now and waits for it. Checkpoint kinds use
 * the run's own checkpoint settings for alignment; `kind` aligned/unaligned
 * forces it. `dir_out` receives the store-relative snapshot directory. */
rt_err sim_run_snapshot(sim_run *r, sim_kind kind, const char *target_dir, char *dir_out,
                        size_t cap, rt_error *e);
/* Stop-with-savepoint: with drain, sources end first and all in-flight data
 * is processed; if the savepoint fails the job keeps running. */
rt_err sim_run_stop_with_savepoint(sim_run *r, sim_kind kind, int drain, const char *target_dir,
                                   char *dir_out, size_t cap, rt_error *e);
/* Keeps the job running until one more checkpoint completes, or fails
 * with RT_ETIMEOUT after bound_ms of virtual time: the liveness check. */
rt_err sim_run_await_checkpoint(sim_run *r, uint64_t bound_ms, rt_error *e);
/* A task failure: the job restarts from the latest completed checkpoint. */
rt_err sim_run_failover(sim_run *r, rt_error *e);
/* The coordinator process dies and comes back: it reloads the completed
 * checkpoint store from storage. */
rt_err sim_run_coordinator_failover(sim_run *r, rt_error *e);
/* Ends the sources at their current offsets and processes everything. */
rt_err sim_run_drain(sim_run *r, rt_error *e);
/* Compares every keyed state and the sink output with the oracle:
 * RT_ECORRUPT with the first difference. */
rt_err sim_run_verify(sim_run *r, rt_error *e);
const sim_stats *sim_run_stats(sim_run *r);
const char *sim_run_job_id(const sim_run *r);
/* Store-relative directory of the latest completed checkpoint ("" if none). */
const char *sim_run_latest_checkpoint(const sim_run *r);
int64_t sim_run_checkpoint_count(const sim_run *r);
/* The newest checkpoint still in progress (0: none). */
int64_t sim_run_newest_pending(const sim_run *r);
/* FoundationDB's unseed: the next draws of the run's streams, without
 * consuming them. Equal for two runs of one seed, or they diverged. */
uint64_t sim_run_unseed(const sim_run *r);
/* Every file of every retained completed checkpoint: id, store path. */
typedef int (*sim_retained_fn)(void *ctx, int64_t id, const char *path);
int sim_run_each_retained_file(const sim_run *r, sim_retained_fn fn, void *ctx);

/* One checkpoint the persisted completed-checkpoint store lists. */
typedef struct sim_store_entry {
    int64_t id;
    int owned;     /* the job may discard it once subsumed */
    int unclaimed; /* restored in NO_CLAIM or LEGACY */
    char dir[SIM_PATH_MAX];
} sim_store_entry;
/* The completed-checkpoint store as persisted, what a recovering
 * coordinator reads (DefaultCompletedCheckpointStoreUtils.
 * retrieveCompletedCheckpoints): its checkpoints in order into out (at most
 * cap), *n = 0 when nothing was ever persisted. Reads through the store:
 * a harness suspends the faults first. A damaged store is RT_ECHECKSUM. */
rt_err sim_run_read_store(const sim_run *r, sim_store_entry *out, int cap, int *n, rt_error *e);

/* ---- Read-only views of a run between two events (what `replay --until`
 * and `--break` print). Each index runs from 0 below its count. */
/* The run's own clock (the "t" of its trace events). */
uint64_t sim_run_now(const sim_run *r);
/* A checkpoint in progress (PendingCheckpoint). */
typedef struct sim_pending_view {
    int64_t id;
    sim_kind kind;
    int savepoint, terminate, unaligned;
    uint64_t triggered_at;
    int acks, tasks; /* acknowledged subtasks of all */
    int failed;
    const char *dir; /* store-relative */
} sim_pending_view;
int sim_run_pending_count(const sim_run *r);
void sim_run_pending_get(const sim_run *r, int i, sim_pending_view *out);
/* Whether task t acknowledged pending checkpoint i. */
int sim_run_pending_acked(const sim_run *r, int i, int t);
/* A retained completed checkpoint or savepoint, oldest first. */
typedef struct sim_retained_view {
    int64_t id;
    const char *dir;
    int savepoint, owned, unclaimed;
    size_t files, shared; /* its private and its registered shared files */
} sim_retained_view;
int sim_run_retained_count(const sim_run *r);
void sim_run_retained_get(const sim_run *r, int i, sim_retained_view *out);
/* The SharedStateRegistry's entries, by key; and its highest checkpoint
 * the job does not own (files up to it are never deleted; 0: none). */
int sim_run_registry_count(const sim_run *r);
const sim_registry_entry *sim_run_registry_get(const sim_run *r, int i);
int64_t sim_run_registry_not_claimed(const sim_run *r);
/* One subtask: what it does now. */
typedef enum { SIM_TASK_RUNNING, SIM_TASK_ALIGNING, SIM_TASK_FINISHED } sim_task_state;
const char *sim_task_state_name(sim_task_state s);
typedef struct sim_task_view {
    const char *uid;
    uint32_t subtask;
    int source;
    sim_task_state state; /* ALIGNING: an input is blocked on an aligned barrier */
    int64_t checkpoint;   /* the newest checkpoint whose barrier reached it (0: none) */
    int barriers, inputs; /* the inputs that delivered that barrier, of all its inputs */
    int64_t last_acked;   /* the last checkpoint the coordinator got its ack for (0: none) */
} sim_task_view;
int sim_run_task_count(const sim_run *r);
void sim_run_task_get(const sim_run *r, int t, sim_task_view *out);
/* The source splits and their next offsets (split s is read by source
 * subtask s % parallelism). */
uint32_t sim_run_split_count(const sim_run *r);
uint64_t sim_run_split_offset(const sim_run *r, uint32_t s);

/* Appends an event to the run's trace (drivers name their own steps). */
void sim_trace(sim_run *r, const char *ev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* For offline tools (the State Processor API), on a run that was restored
 * and never started: */
/* Keyed state only, as of the restored snapshot's cut, against the oracle. */
rt_err sim_run_verify_cut(sim_run *r, rt_error *e);
/* Every keyed-state entry of every subtask, in subtask order, each state in
 * key order; fn returns non-zero to stop (then RT_OK is returned). */
typedef int (*sim_keyed_fn)(void *ctx, const char *uid, const sim_state_desc *d, uint32_t kg,
                            uint64_t key, const uint8_t *val, size_t len);
rt_err sim_run_each_keyed(sim_run *r, sim_keyed_fn fn, void *ctx, rt_error *e);
/* The State Processor API's bootstrap of keyed operator uid (Flink's
 * SnapshotUtils.snapshot): its restored state, as of the snapshot's cut,
 * written into dir in format SIM_KIND_CANONICAL or SIM_KIND_NATIVE,
 * sharing nothing, with the run's memory threshold. out receives the
 * operator with one keyed handle per subtask (and nothing else: a
 * bootstrapped operator has no channel state); pool the bytes of any
 * inlined handle. */
rt_err sim_run_write_keyed(sim_run *r, const char *uid, sim_kind format, const char *dir, sim_meta_op *out,
                           sim_bytes_pool *pool, rt_error *e);

#endif
