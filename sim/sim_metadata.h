/* sim_metadata: the _metadata file of a snapshot (jansson, versioned). It
 * names the engine, the kind and format, the job graph, the lineage the
 * oracle needs, and for each subtask its keyed-state handle, source
 * offsets, sink totals and channel-state handle, each with its size and
 * xxh3, written by its type as MetadataV2V3SerializerBase does: an
 * absolute path, a path relative to the snapshot's own directory (re-
 * anchored to wherever _metadata is read from: what makes a snapshot
 * relocatable), or the bytes themselves. */
#ifndef SIM_METADATA_H
#define SIM_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "sim_handle.h"
#include "sim_job.h"
#include "sim_mutant.h"
#include "sim_version.h"

#define SIM_METADATA_MAGIC "snapsim-metadata"

typedef struct sim_meta_subtask {
    uint32_t index;
    int has_keyed;
    sim_keyed_handle keyed;
    int n_offsets;
    uint32_t split[SIM_MAX_SPLITS];
    uint64_t offset[SIM_MAX_SPLITS];
    int has_sink;
    uint64_t sink_count, sink_hash;
    int has_cs;
    sim_file_ref cs_file;
} sim_meta_subtask;

typedef struct sim_meta_op {
    char uid[SIM_NAME_MAX];
    uint32_t parallelism, max_parallelism;
    int n_sub;
    sim_meta_subtask *sub;
} sim_meta_op;

typedef struct sim_meta_epoch {
    sim_job job;
    uint64_t start[SIM_MAX_SPLITS];
    size_t n_inflight;
    uint64_t *inflight_id;  /* sorted */
    int *inflight_op;       /* operator index the record was going into */
    int fresh[SIM_MAX_OPS];
} sim_meta_epoch;

#define SIM_META_MAX_EPOCHS 16

typedef struct sim_meta {
    int version;
    char engine[16];
    char job_id[40];
    int64_t checkpoint_id;
    int savepoint;
    char snapshot_kind[16]; /* canonical|native|aligned|unaligned */
    char format[16];        /* canonical|native */
    char backend[16];
    int incremental;
    char sharing[24];
    int n_handles[3];       /* by sim_handle_type */
    char storage_root[512]; /* named when some handle is absolute */
    uint64_t source_seed;
    sim_job job;
    int n_epochs;
    sim_meta_epoch epochs[SIM_META_MAX_EPOCHS];
    int n_ops;
    sim_meta_op ops[SIM_MAX_OPS];
    sim_bytes_pool inline_pool; /* the bytes of its inlined handles */
} sim_meta;

/* Parses _metadata text. dir is the store-relative directory holding it:
 * relative paths resolve against it, absolute ones against the store's
 * root (RT_ESANDBOX if outside). `store` may be NULL to keep paths as they
 * are written (inspect of a foreign snapshot). */
rt_err sim_meta_parse(sim_meta *m, const char *text, size_t len, const rt_store *store,
                      const char *dir, const char *what, rt_error *e);
/* The same, of the coordinator's in-memory copy of a completed checkpoint
 * (sim_completed.held): a relative handle of another directory keeps the
 * file it names ("resolved"), as Flink's in-memory handle does. */
rt_err sim_meta_parse_held(sim_meta *m, const char *text, size_t len, const rt_store *store, const char *dir,
                           const char *what, rt_error *e);
void sim_meta_free(sim_meta *m);
/* Recomputes the checksum a _metadata text carries (in place); -1 if it
 * has none. For tools and tests that edit metadata on purpose. */
int sim_meta_seal(char *text, size_t len);
/* Writes m as dir/_metadata (sealed), each handle by its type relative to
 * dir, inlined bytes from m->inline_pool: how the State Processor API
 * stores the snapshot it composed. */
rt_err sim_meta_write(rt_store *store, const char *dir, const sim_meta *m, sim_mutant mutant, rt_error *e);
/* Reads and parses dir/_metadata from the store. */
rt_err sim_meta_load(sim_meta *m, rt_store *store, const char *dir, rt_error *e);
/* The same, and (when it parsed) *text receives the bytes read (the caller
 * frees them): what a coordinator keeps in memory once it loaded a
 * checkpoint (sim_coord_hold). */
rt_err sim_meta_load_kept(sim_meta *m, rt_store *store, const char *dir, char **text, size_t *text_len,
                          rt_error *e);
/* A deep copy of src into dst (dst is overwritten, not freed; on error
 * nothing is left to free). */
rt_err sim_meta_copy(sim_meta *dst, const sim_meta *src, rt_error *e);

/* ---- parsed once: the cache of parsed _metadata ----
 * A fuzz case reads the same _metadata many times (the engine's restores
 * and recoveries, the judge after every action), and parsing is most of a
 * case's own work. The cache keeps each parse by what it was parsed from:
 * the store's root (absolute handles resolve against it), the directory
 * (relative ones re-anchor to it), whether it was the coordinator's held
 * copy, and the bytes themselves (length, xxh3, and then every byte), never
 * the path alone: a file a fault tore or the fuzzer damaged is different
 * bytes, so it misses and is parsed (and rejected) again. A hit hands out a
 * deep copy, the same sim_meta a parse of those bytes makes. Failed parses
 * are not kept. At most SIM_META_CACHE_ENTRIES entries; the one used least
 * recently goes first (a counter, not a clock). Owned by one case: no
 * global state, nothing crosses seeds. */
#define SIM_META_CACHE_ENTRIES 32
typedef struct sim_meta_cache sim_meta_cache;
typedef struct sim_meta_cache_stats {
    uint64_t hits, misses, stored, evicted;
} sim_meta_cache_stats;
rt_err sim_meta_cache_create(sim_meta_cache **out, rt_error *e);
void sim_meta_cache_free(sim_meta_cache *c);
const sim_meta_cache_stats *sim_meta_cache_stats_of(const sim_meta_cache *c);
/* sim_meta_parse (held 0) or sim_meta_parse_held (held 1) through cache
 * c (NULL: a plain parse). */
rt_err sim_meta_parse_in(sim_meta_cache *c, sim_meta *m, const char *text, size_t len, const rt_store *store,
                         const char *dir, const char *what, int held, rt_error *e);
/* sim_meta_load_kept through cache c (NULL: a plain load); text may be
 * NULL (sim_meta_load). The bytes are always read from the store (its
 * faults and damaged-read counters see every load); only the parse of
 * bytes parsed before is saved. */
rt_err sim_meta_load_in(sim_meta_cache *c, sim_meta *m, rt_store *store, const char *dir, char **text,
                        size_t *text_len, rt_error *e);

/* Every file the snapshot references, in a stable order. */
typedef int (*sim_meta_file_fn)(void *ctx, const char *op, uint32_t subtask, const sim_file_ref *f);
int sim_meta_each_file(const sim_meta *m, sim_meta_file_fn fn, void *ctx);
/* A sim_meta_file_fn that appends the path of each file (not of inlined
 * state) to an rt_strlist (ctx). */
int sim_meta_push_path(void *strlist, const char *op, uint32_t subtask, const sim_file_ref *f);
/* No handle is absolute: the directory alone holds (or inlines) all it
 * needs, and can be moved. */
int sim_meta_self_contained(const sim_meta *m);

#endif
