/* sim_internal: the structures shared by the engine's own files (the files in sim/:
 * sim_task.c, sim_coordinator.c, sim_metadata.c, sim_restore.c, sim_oracle.c,
 * ...). Private to sim/: the drivers (driver/) and the CLI use only the
 * public headers (sim_engine.h, sim_metadata.h, sim_mutant.h, model/, state/). */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "rt_loop.h"
#include "rt_prng.h"
#include "sim_backend.h"
#include "sim_engine.h"
#include "sim_metadata.h"
#include "sim_registry.h"

#define SIM_MAX_TASKS 48
#define SIM_MAX_CHANS 128
#define SIM_MAX_TASK_CH 16
#define SIM_CHANNEL_CREDITS 8
#define SIM_MAX_EPOCHS 16

/* Watermarks carry event time (a record's offset in its split) in `cp`. */
typedef enum { IT_REC, IT_BARRIER, IT_EOS, IT_WATERMARK } sim_item_type;
#define SIM_WATERMARK_EVERY 32 /* records a source emits between watermarks */

typedef struct sim_item {
    uint8_t type;
    uint8_t unaligned;
    int64_t cp;
    sim_record rec;
    uint64_t ready_at;
    uint8_t recovered; /* a record restored from channel state */
} sim_item;

/* A physical channel from one subtask to one subtask of the next operator:
 * the upstream output buffer, the network and the downstream input buffer
 * in one bounded FIFO. An unaligned barrier is put at its front. */
typedef struct sim_chan {
    int to_op;
    uint32_t from_idx, to_idx;
    int from_task, to_task;
    sim_item *q;
    uint32_t head, len, cap;
    uint32_t recs; /* records in the queue: bounded by the credits */
    int blocked;   /* aligned: the consumer waits for the other barriers */
    int recording; /* unaligned: popped records go into channel state */
    int64_t barrier_cp;
    int64_t watermark; /* the last one delivered on this channel */
    uint64_t last_ready;
} sim_chan;

/* One persisted in-flight record and the channel it was on. */
typedef struct sim_cs_rec {
    int to_op;
    uint32_t from_idx, to_idx;
    sim_record rec;
} sim_cs_rec;

typedef struct sim_cs_list {
    sim_cs_rec *r;
    size_t n, cap;
} sim_cs_list;

/* What one task contributes to one checkpoint. */
typedef struct sim_task_snap {
    int64_t cp;
    int taken, acked, failed;
    int registered; /* its shared files were registered on its acknowledgement */
    int has_keyed;
    sim_keyed_handle keyed;
    uint64_t sink_count, sink_hash;
    int offsets_valid;
    uint64_t offsets[SIM_MAX_SPLITS];
    sim_cs_list cs;
    int has_cs;
    sim_file_ref cs_file;
} sim_task_snap;

typedef struct sim_task {
    int id, op;
    uint32_t idx;
    int in[SIM_MAX_TASK_CH], n_in;
    int out[SIM_MAX_TASK_CH], n_out;
    uint32_t rr_in, rr_out;
    sim_backend *backend;
    uint64_t sink_count, sink_hash;
    uint64_t busy_until;
    int64_t watermark;   /* the last one this task emitted */
    uint64_t emitted;    /* records a source task emitted */
    int eos_in, finished;
    /* checkpoint in progress */
    int64_t cp;
    int barriers;
    int unaligned;
    sim_task_snap snap;
    int64_t last_acked; /* the last checkpoint whose ack the coordinator took */
} sim_task;

/* A restore starts an epoch: records below `start` (minus those in
 * flight in the restored snapshot) were processed under the earlier job. */
typedef sim_meta_epoch sim_epoch;

typedef struct sim_completed {
    int64_t id;
    char dir[SIM_PATH_MAX];
    int savepoint;
    int synchronous;   /* a stop-with-savepoint's savepoint */
    int owned;         /* the job may delete it once subsumed */
    int unclaimed;     /* restored in NO_CLAIM or LEGACY: never the job's */
    rt_strlist files;  /* private files, for deletion */
    rt_strlist shared; /* registered shared files */
    sim_file_ref *shared_refs; /* the handle of each, as written (uploader, size, xxh3) */
    /* The checkpoint as the coordinator holds it in memory (Flink's
     * CompletedCheckpoint object): the _metadata it wrote or loaded, except
     * that a reused foreign relative handle still names its own directory
     * (FLINK-39964 breaks only the file). A task failover restores from
     * this, never reading the _metadata back; NULL only for an entry whose
     * text could not be kept. */
    char *held;
    size_t held_len;
} sim_completed;

/* A checkpoint in progress (PendingCheckpoint). Each task's part moves
 * here when the task is done with it (its acknowledgement, with the
 * TaskStateSnapshot, is on its way), so the task can go on to the next
 * checkpoint while this one still waits for others. */
typedef struct sim_pending {
    int active;
    int64_t id;
    sim_kind kind;
    int savepoint, unaligned, canonical;
    int terminate; /* a stop-with-savepoint (a synchronous savepoint) */
    sim_sharing sharing;
    char dir[SIM_PATH_MAX];
    uint64_t triggered_at;
    int acks, failed;
    rt_error err;
    sim_task_snap *snaps; /* by task id: what the task acknowledged (or will) */
    /* FLINK-23949's measurement: SST bytes uploaded, and the bytes of the
     * SSTs RocksDB created since each subtask's previous checkpoint. */
    uint64_t sst_bytes_uploaded, sst_bytes_new;
} sim_pending;

/* How the last checkpoint or savepoint to end, ended (for the caller that
 * triggered it). */
typedef struct sim_pending_end {
    int64_t id;
    int failed;
    rt_error err;
    char dir[SIM_PATH_MAX];
} sim_pending_end;

/* The most checkpoints in progress at once the model holds
 * (execution.checkpointing.max-concurrent-checkpoints is bounded by it). */
#define SIM_MAX_PENDING SIM_MAX_CONCURRENT

struct sim_run {
    sim_config cfg;
    sim_job job;
    rt_loop loop;
    rt_prng net, ids, coord;
    char job_id[33];
    sim_task tasks[SIM_MAX_TASKS];
    int n_tasks;
    int op_first_task[SIM_MAX_OPS];
    sim_chan chans[SIM_MAX_CHANS];
    int n_chans;
    /* sources */
    uint64_t offset[SIM_MAX_SPLITS];
    uint64_t end[SIM_MAX_SPLITS]; /* UINT64_MAX: unbounded */
    uint32_t split_rr[SIM_MAX_TASKS];
    /* coordinator */
    int64_t next_cp;
    int periodic_on;
    uint64_t periodic_gen; /* tag of the live periodic chain */
    uint64_t last_complete_at;
    /* pendingCheckpoints, by ascending id; at most cfg.max_concurrent
     * (CheckpointRequestDecider's maxConcurrentCheckpointAttempts). */
    sim_pending pend[SIM_MAX_PENDING];
    int n_pend;
    sim_pending_end last_end;
    sim_completed *done;
    int n_done, cap_done;
    /* Subsumed checkpoints not discarded yet (CheckpointsCleaner's
     * subsumedCheckpoints): a restored NO_SHARING snapshot whose shared
     * files are still in use waits here. Not persisted: a coordinator
     * failover forgets them, leaving their files behind, as Flink does. */
    sim_completed *subsumed;
    int n_subsumed, cap_subsumed;
    sim_registry registry;
    /* Bytes of every inlined handle the coordinator's checkpoints (and the
     * one in progress) hold: what their _metadata is written from. */
    sim_bytes_pool inline_pool;
    int force_full; /* NO_CLAIM: the next checkpoint uploads everything */
    uint64_t slow_ms_seen; /* the store's slow_ms already charged to acks */
    char latest[SIM_PATH_MAX];
    /* lineage for the oracle */
    sim_epoch epochs[SIM_META_MAX_EPOCHS];
    int n_epochs;
    int restores;
    int started;
    sim_stats stats;
    /* Why the coordinator deletes what it deletes now (for on_delete): the
     * checkpoint whose completion it handles (-1: an abort) and the cause. */
    int64_t deleting_after;
    const char *deleting_cause;
    rt_error async_err; /* first internal error raised inside an event */
    int halted;         /* cfg.halt said stop: no event runs any more */
};

/* Runs the earliest event unless the run halts first (sim_config.halt):
 * 1 an event ran, 0 none is left, -1 halted. */
int sim_step(sim_run *r);

/* True if anything is stored under dir. */
int sim_store_has_dir(rt_store *store, const char *dir);

/* sim_task.c */
rt_err sim_build_tasks(sim_run *r, rt_error *e);
void sim_free_tasks(sim_run *r);
void sim_task_wake(sim_run *r, int task, uint64_t at);
void sim_chan_push(sim_run *r, sim_chan *c, const sim_item *it, int front);
void sim_start_sources(sim_run *r);
void sim_source_trigger(sim_run *r, sim_task *t, int64_t cp, int unaligned);
int sim_idle(const sim_run *r);
void sim_fail_async(sim_run *r, const rt_error *e);
rt_err sim_cs_push(sim_cs_list *l, const sim_chan *c, const sim_record *rec);
void sim_task_snap_reset(sim_task_snap *s);
rt_err sim_chan_restore(sim_run *r, const sim_cs_rec *rec, rt_error *e);
uint64_t sim_sink_hash(const sim_record *rec);

/* sim_channel_state.c */
/* Writes t's in-flight records into dir (its checkpoint's directory). */
rt_err sim_cs_write(sim_run *r, sim_task *t, const char *dir, rt_error *e);
/* Parses the channel-state file of subtask owner_idx of operator owner_uid:
 * checks the serialization version, then reads every channel's records
 * with the record type of the edge into that operator in `job` and appends
 * them to out. With job and out NULL it only counts the handles (n_handles
 * may be NULL). */
rt_err sim_cs_read(const uint8_t *data, size_t len, const char *what, const sim_version *engine,
                   sim_mutant mutant, const sim_job *job, const char *owner_uid, uint32_t owner_idx,
                   sim_cs_list *out, size_t *n_handles, rt_error *e);

/* sim_coordinator.c */
/* Starts (or restarts) the periodic trigger; stop cancels it. */
void sim_coord_start(sim_run *r);
void sim_coord_stop(sim_run *r);
int sim_coord_periodic_chains(const sim_run *r);
/* Triggers a checkpoint (savepoint: a savepoint into target_dir;
 * terminate: the synchronous savepoint of stop-with-savepoint); RT_EDECLINED
 * when max_concurrent are in progress. id_out (may be NULL) gets its id. */
rt_err sim_coord_trigger(sim_run *r, sim_kind kind, int savepoint, int terminate, const char *target_dir,
                         int64_t *id_out, rt_error *e);
/* The checkpoint in progress with this id, or NULL. */
sim_pending *sim_coord_pending(sim_run *r, int64_t id);
int sim_coord_max_concurrent(const sim_run *r);
void sim_coord_task_snapshot(sim_run *r, sim_task *t);
void sim_coord_task_done(sim_run *r, sim_task *t);
/* p (failed) is aborted by an event now. */
void sim_coord_abort_soon(sim_run *r, sim_pending *p);
/* Fails every checkpoint in progress with code and why; they abort as
 * events. */
void sim_coord_abort_all(sim_run *r, rt_err code, const char *why);
/* Frees every checkpoint in progress without aborting it (the run ends). */
void sim_coord_free_pending(sim_run *r);
/* The SharedStateRegistryKey of a shared file of subtask sub of uid. */
void sim_coord_shared_key(const sim_run *r, const char *uid, uint32_t sub, const sim_file_ref *f, char *out,
                          size_t cap);
rt_err sim_coord_wait(sim_run *r, rt_error *e);
void sim_completed_free(sim_completed *c);
/* Forgets the subsumed checkpoints still waiting to be discarded (their
 * files stay): the coordinator's memory is gone. */
void sim_coord_forget_subsumed(sim_run *r);
rt_err sim_coord_add_completed(sim_run *r, sim_completed *c, rt_error *e);
/* sim_completed_store.c */
/* Files of a completed checkpoint: shared ones with their creator. */
int sim_completed_add_file(sim_completed *c, const sim_file_ref *f);
rt_err sim_coord_save_store(sim_run *r, rt_error *e);
/* Adds a restored snapshot to the retained checkpoints and registers its
 * shared files; unclaimed (NO_CLAIM, LEGACY) protects them for good. */
rt_err sim_coord_adopt(sim_run *r, const sim_meta *m, const char *dir, int owned, int unclaimed, rt_error *e);
/* The coordinator keeps text (taken over) as its in-memory copy of the
 * retained entry at dir (the CompletedCheckpoint it loaded), unless that
 * entry has one or is not retained (then text is freed). */
void sim_coord_hold(sim_run *r, const char *dir, char *text, size_t len);
/* A restore's adoption, all or nothing: the completed-checkpoint store as
 * it will be (the snapshot appended, force_full) is written first, and
 * only once that worked do the retained list, the registry, force_full
 * and the checkpoint counter change (in steps that fail only out of
 * memory). A failed write leaves the coordinator as it was. */
rt_err sim_coord_adopt_restored(sim_run *r, const sim_meta *m, const char *dir, int owned, int unclaimed,
                                int force_full, rt_error *e);
/* Rebuilds the retained checkpoints and the registry from storage. */
rt_err sim_coord_load_store(sim_run *r, rt_error *e);

/* sim_metadata.c */
rt_err sim_metadata_write(sim_run *r, const sim_pending *p, sim_completed *c, rt_error *e);

/* sim_restore.c */
rt_err sim_restore_into(sim_run *r, const char *dir, sim_restore_mode mode, int allow,
                        int failover, rt_error *e);

/* sim_oracle.c */
rt_err sim_oracle_verify(sim_run *r, rt_error *e);
/* Keyed state only, as of the restored snapshot's cut (before anything of
 * the current epoch ran): what the State Processor API must read. */
rt_err sim_oracle_verify_cut(sim_run *r, rt_error *e);
/* Appends an epoch (copying the run's job); takes ownership of the
 * inflight arrays (malloc'd, may be NULL when n is 0). */
rt_err sim_epoch_begin(sim_run *r, const uint64_t *start, uint64_t *inflight_id, int *inflight_op,
                       size_t n, const int *fresh, rt_error *e);
void sim_epoch_free(sim_epoch *ep);

/* The writer's entry in the cache of parsed _metadata (sim_meta_cache): m
 * is what parsing exactly these bytes (held 0, against store and dir)
 * yields, made by the writer from the document it dumped them from, so the
 * next load of the bytes it stored need not parse them. Out of memory keeps
 * nothing (that load parses). c may be NULL. */
void sim_meta_cache_keep(sim_meta_cache *c, const char *text, size_t len, const rt_store *store, const char *dir,
                         const sim_meta *m);

#endif
