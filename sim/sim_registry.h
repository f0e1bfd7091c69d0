/* sim_registry: the SharedStateRegistry, modelled on Flink's
 * SharedStateRegistryImpl (FLINK-24611): every shared file records the
 * checkpoint that first registered it, the last checkpoint that used it and
 * whether that use was confirmed (the checkpoint completed). On subsumption
 * a file is deleted when its last use is below the lowest retained
 * checkpoint, but only if it was created after highest_not_claimed (raised
 * by NO_CLAIM and LEGACY restores, so files of a snapshot the job does not
 * own are never deleted). A restored NO_SHARING snapshot (a native savepoint
 * claimed by a CLAIM restore) holds its shared files in its own directory:
 * it is "in use" while any of them is, and must not be discarded until then. */
#ifndef SIM_REGISTRY_H
#define SIM_REGISTRY_H

#include <stdint.h>

#include "rt_err.h"
#include "rt_storage.h"
#include "sim_handle.h"

typedef struct sim_registry_entry {
    /* SharedStateRegistryKey. Since FLINK-29913 the handle's
     * PhysicalStateHandleID (its path), so two uploads never collide; the
     * caller makes it (equal to path unless a mutant says otherwise). */
    char key[256];
    char path[256];      /* store-relative path of the registered handle */
    uint64_t size, xxh3; /* the registered handle (0, 0: not known) */
    uint8_t type;        /* its sim_handle_type */
    int64_t created_by;  /* checkpoint id that first registered it */
    int64_t last_used;   /* highest checkpoint id that references it */
    int confirmed;       /* a checkpoint that used it completed */
} sim_registry_entry;

#define SIM_REGISTRY_MAX_RESTORED 16

typedef struct sim_registry {
    sim_registry_entry *e; /* sorted by key */
    int n, cap;
    int keys_differ; /* some key is not its entry's path: look paths up one by one */
    int64_t highest_not_claimed;
    /* restoredCheckpointSharingStrategies: the restored snapshots that
     * shared nothing (NO_SHARING), by checkpoint id. */
    int64_t restored_no_sharing[SIM_REGISTRY_MAX_RESTORED];
    int n_restored_no_sharing;
} sim_registry;

/* What registering a reference did (registerReference's branches). */
typedef enum {
    SIM_REG_NEW,      /* a new key: a new entry */
    SIM_REG_REUSED,   /* the registered handle again, or a placeholder for it */
    SIM_REG_REPLACED, /* another handle under an unconfirmed key: the new one wins */
    SIM_REG_KEPT      /* another handle under a confirmed key: the old one stays */
} sim_reg_outcome;

void sim_registry_init(sim_registry *r);
void sim_registry_free(sim_registry *r);
/* registerReference for checkpoint `id` (on its acknowledgement): f is its
 * own new upload (f->created_by == id) or a placeholder for an earlier one,
 * under key (NULL: f->path). A placeholder must name a registered entry
 * ("Attempt to reference unknown state": RT_EINTERNAL). f becomes the
 * registered handle (IncrementalRemoteKeyedStateHandle replaces its own
 * with what the registry returns). When the registry keeps one of two
 * different handles of one key, discard (cap bytes, may be NULL) receives
 * the path of the other, for the caller to delete (scheduleAsyncDelete),
 * else "". out (may be NULL) receives the branch taken. */
rt_err sim_registry_register_ref(sim_registry *r, const char *key, sim_file_ref *f, int64_t id,
                                 sim_reg_outcome *out, char *discard, size_t cap, rt_error *e);
/* registerAllAfterRestored, one file: a restored or reloaded checkpoint `id`
 * references path, under key (NULL: path). created_by, when known (> 0 and
 * older), names the checkpoint that uploaded it: a recovering coordinator
 * must not take a restored snapshot's file for one of its own just because
 * a later checkpoint is the first it sees. */
rt_err sim_registry_register(sim_registry *r, const char *key, const char *path, int64_t id, int64_t created_by,
                             rt_error *e);
/* checkpointCompleted: the entries checkpoint id was the last to use are
 * confirmed. */
void sim_registry_confirm(sim_registry *r, int64_t id);
/* Drops entries whose last use is below lowest_retained; those created
 * after highest_not_claimed are appended to to_delete (owned), the others
 * are only forgotten. */
rt_err sim_registry_unregister_unused(sim_registry *r, int64_t lowest_retained,
                                      rt_strlist *to_delete, rt_error *e);
/* A NO_CLAIM or LEGACY restore of checkpoint id: never delete what it has. */
void sim_registry_set_not_claimed(sim_registry *r, int64_t id);
/* A restored snapshot `id` and whether it shared nothing (NO_SHARING). */
void sim_registry_note_restored(sim_registry *r, int64_t id, int no_sharing);
/* preventsDiscardingCreatedCheckpoint: checkpoint id is a restored
 * NO_SHARING snapshot and some file it registered is still in use. */
int sim_registry_in_use(const sim_registry *r, int64_t id);
/* The entry of a key, or NULL. */
const sim_registry_entry *sim_registry_find(const sim_registry *r, const char *key);
/* The entry whose registered handle is path, or NULL. */
const sim_registry_entry *sim_registry_find_path(const sim_registry *r, const char *path);
/* True if path is registered and its upload confirmed: the only kind of
 * file an incremental checkpoint may reference by placeholder. */
int sim_registry_is_confirmed(const sim_registry *r, const char *path);

#endif
