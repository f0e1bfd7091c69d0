/* drv_scenario: the scenario language (scenarios/ *.json, data only) and
 * its interpreter. A scenario is a list of steps (start, run, snapshot,
 * savepoint and stop with Flink's REST bodies, relocate, restore, failover,
 * State Processor API read and write, corrupt, fault, check) with the
 * placeholders $KIND, $BACKEND, $OTHER_BACKEND, $FROM and $TO, run once per
 * (kind, backend, variant). Errors in a file name the file, the step and
 * the problem. */
#ifndef DRV_SCENARIO_H
#define DRV_SCENARIO_H

#include <stdint.h>
#include <stdio.h>

#include "rt_err.h"
#include "sim_engine.h"

typedef struct drv_scn drv_scn;

/* FLIP-193 ownership as it happened: each restore of the scenario, and the
 * engine's deletions of the restored snapshot's files, grouped by the
 * checkpoint whose completion deleted them and by cause (sim_deletion). */
#define DRV_OWN_RESTORES_MAX 4
#define DRV_OWN_EVENTS_MAX 12
typedef struct drv_own_restore {
    char mode[12];        /* claim|no-claim|legacy */
    char snapshot[12];    /* savepoint|checkpoint */
    int64_t snapshot_id;  /* its checkpoint id */
    uint32_t files, gone; /* files it held (its _metadata too), and how many the job deleted */
    uint32_t referenced;  /* of them, how many the job's later retained checkpoints used at its end */
} drv_own_restore;
typedef struct drv_own_event {
    int restore;              /* index into restores */
    int64_t after_checkpoint; /* -1: an abort */
    uint64_t virtual_ms;      /* of the group's first deletion */
    uint32_t files;
    char cause[12];           /* subsumed|unused|replaced|aborted */
    char example[64];         /* one of the files, by name */
} drv_own_event;

typedef struct drv_scn_result {
    char outcome[16];  /* works|rejected|corrupted|crashed */
    char impl[8];      /* "model" or "flink" (the executor) */
    int skipped;       /* flink: the lane cannot run this scenario (err says which step) */
    rt_error err;      /* why, when not works */
    char backend[32];  /* "heap" or "heap->rocksdb" */
    char versions[48]; /* "1.15.0" or "1.15.0->1.16.0" */
    char digest[17];
    uint64_t virtual_ms, files, bytes;
    int n_restores, n_events, events_dropped;
    drv_own_restore restores[DRV_OWN_RESTORES_MAX];
    drv_own_event events[DRV_OWN_EVENTS_MAX];
} drv_scn_result;

/* Loads and validates a scenario file (every step's fields checked). */
rt_err drv_scn_load(drv_scn **out, const char *path, rt_error *e);
void drv_scn_free(drv_scn *s);
const char *drv_scn_name(const drv_scn *s);
const char *drv_scn_row(const drv_scn *s);
int drv_scn_variant_count(const drv_scn *s);
/* How many steps the scenario has, and whether one of them starts or
 * restores with incremental checkpoints (the matrix's queue orders by them). */
int drv_scn_step_count(const drv_scn *s);
int drv_scn_uses_incremental(const drv_scn *s);
/* Whether the scenario runs for this snapshot kind (its "kinds" list). */
int drv_scn_has_kind(const drv_scn *s, sim_kind kind);
/* Whether the scenario runs for this backend (its "backends" list). */
int drv_scn_has_backend(const drv_scn *s, const char *backend);

/* FLINK-39964, in every release: whether the checkpoint m (as the reader
 * resolved it) names, where the store holds nothing, a relative handle it
 * reused (not its own upload) of a file of the restored snapshot (same
 * name, elsewhere), re-anchored to the checkpoint's own directory. If so,
 * msg says which file and why. A missing file of its own (a lost write)
 * is not this. */
int drv_scn_flink_39964(const sim_meta *m, rt_store *store, const rt_strlist *restored, char *msg, size_t cap);

typedef struct drv_scn_env {
    const char *out_dir;  /* a directory store there; NULL: in memory */
    const char *work_dir; /* local directory for RocksDB instances */
    FILE *trace_out;      /* JSONL trace, or NULL */
    sim_mutant mutant;    /* SIM_MUT_NONE unless testing the tests */
    const struct drv_flink_opts *flink; /* non-NULL: run on real Flink (drv_flink.h) */
} drv_scn_env;

/* Runs one combination. Returns RT_OK when the scenario ran (whatever its
 * outcome, which is in *res), or an error when it could not be run at all
 * (a usage error in the scenario, the environment). */
rt_err drv_scn_run(const drv_scn *s, sim_kind kind, const char *backend, int variant, uint64_t seed,
                   const drv_scn_env *env, drv_scn_result *res, rt_error *e);

#endif
