/* drv_fuzz_case: the state of one fuzz case, shared by the case's driver
 * (drv_fuzz.c: the draw, the actions, the phases) and its judge
 * (drv_fuzz_judge.c: faults noted, rejections explained, invariants, the
 * persisted store, costs, and the risky sequences the case went through).
 * Private to the fuzzer. */
#ifndef DRV_FUZZ_CASE_H
#define DRV_FUZZ_CASE_H

#include <stdint.h>

#include "drv_fuzz.h"
#include "rt_prng.h"
#include "rt_storage.h"
#include "rt_trace.h"
#include "sim_engine.h"
#include "sim_metadata.h"

#define FUZZ_MAX_ACTIONS 10
#define FUZZ_MAX_SAVEPOINTS 8
#define FUZZ_MAX_BASE 16 /* keyed subtasks whose last snapshot is remembered */

typedef enum {
    A_RUN,
    A_SAVEPOINT,
    A_FAILOVER,
    A_COORD_FAILOVER,
    A_RESTORE,
    A_STOP,
    A_DAMAGE,
    A_KIND_COUNT
} fuzz_action;

extern const char *const drv_fuzz_action_names[A_KIND_COUNT];

typedef struct fuzz_savepoint {
    char dir[256];
    rt_strlist files;
} fuzz_savepoint;

/* One keyed subtask's RocksDB files in the snapshot an incremental
 * checkpoint may build on: SSTs by local name and size, every path. */
typedef struct fuzz_base {
    char uid[64];
    uint32_t kg_lo, kg_hi;
    int64_t id;
    rt_strlist paths;
    rt_strlist sst_names; /* "<local name> <size>" */
} fuzz_base;

typedef struct fuzz_case {
    uint64_t seed;
    rt_prng prng;
    sim_config cfg;
    rt_store *store;
    rt_trace trace;
    sim_run *run;
    int runs;
    uint64_t unseed;
    fuzz_savepoint sp[FUZZ_MAX_SAVEPOINTS];
    int n_sp;
    /* What faults did, as the storage told it after each action. */
    rt_strlist damaged;  /* paths a fault (or the fuzzer) wrote wrongly or lost: for good */
    rt_strlist faulted;  /* paths a fault refused a call on, this action only */
    int slow_fired;      /* a slow fault fired in this case (timeouts follow) */
    int events_lost;     /* the fault ring overflowed: not every firing is known */
    int store_stale;     /* a fault hit the completed store since it last matched */
    uint64_t dropped_seen, harness_damaged_reads;
    /* Ownership: what restores handed over. */
    rt_strlist claimed;  /* files of every snapshot restored in CLAIM mode */
    rt_strlist unowned;  /* files of the snapshot restored in NO_CLAIM mode */
    int64_t unowned_id;  /* its checkpoint id */
    /* The current job's last restore, for the risky sequences. */
    int restore_mode;    /* sim_restore_mode, or -1: never restored */
    int64_t restored_id;
    rt_strlist restored; /* its files */
    int reused;          /* a checkpoint after it built on earlier files */
    int sp_state;        /* 0, 1 incremental checkpoint, 2 then a savepoint */
    /* What the next incremental checkpoint may reuse (per keyed subtask). */
    fuzz_base base[FUZZ_MAX_BASE];
    int n_base;
    /* Checkpoints up to this id were triggered before the base completed
     * (2-3 at once): their tasks may have snapshotted knowing only an
     * older base, so their uploads are not held against this one. */
    int64_t overlap_until;
    /* A violation seen inside the job's own steps (the completion hook). */
    char hook_violation[RT_ERROR_MSG_MAX];
    const char *hook_class; /* its class: the message without ids (drv_fuzz_result.violation) */
    /* A known Flink bug's symptom seen there (it ends the case, no violation). */
    char hook_known[RT_ERROR_MSG_MAX];
    char offender[320];
    drv_fuzz_result *res;
    uint64_t files, bytes, virtual_ms;
    /* replay --until/--break (NULL: none) */
    const drv_fuzz_stop *stop;
    uint64_t stop_seen;  /* the stop's event met so often */
    uint64_t stop_line, stop_event_ms; /* the matching event (0: not yet) */
    char stop_text[2048];
    int halted;          /* the case stopped: it does nothing more */
    const char *action;  /* the action in progress */
} fuzz_case;

/* drv_fuzz_judge.c */
/* Reads dir/_metadata with the faults suspended (the harness's own read). */
rt_err fuzz_harness_load(fuzz_case *fc, sim_meta *m, const char *dir, rt_error *e);
/* Damaged-file reads of the engine (the harness's own excluded). */
uint64_t fuzz_engine_damaged_reads(const fuzz_case *fc);
/* Drains the storage's fault events into damaged / faulted / the flags. */
void fuzz_note_faults(fuzz_case *fc);
rt_err fuzz_violation(fuzz_case *fc, rt_error *e, const char *what, const char *detail);
/* After an action: rc judged (a rejection must be explained), damaged
 * reads, then every invariant with the faults suspended. */
rt_err fuzz_judge(fuzz_case *fc, rt_err rc, fuzz_action a, int own_recovery, uint64_t damaged_reads_before,
                  rt_error *e);
/* The fuzzer damaged path itself: remembered as damaged for good. */
void fuzz_note_damage(fuzz_case *fc, const char *path);
rt_err fuzz_check_invariants(fuzz_case *fc, rt_error *e);
/* The sim_completed_fn the fuzzer installs. */
void fuzz_on_completed(void *ctx, const sim_run *r, int64_t id, const char *dir, int savepoint);
/* The base the next incremental checkpoint builds on: the snapshot in dir
 * (restored, or recovered by a failover), or none (dir NULL or ""). */
void fuzz_set_base(fuzz_case *fc, const char *dir);
void fuzz_free_base(fuzz_case *fc);
/* A restore of dir in mode into the current job: the sequence tracking. */
void fuzz_note_restore(fuzz_case *fc, const char *dir, sim_restore_mode mode);
/* A failover or coordinator failover is about to run. */
void fuzz_note_failover(fuzz_case *fc);

#endif
