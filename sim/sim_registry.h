/* sim_registry: the SharedStateRegistry, modelled on Flink's
 * SharedStateRegistryImpl (FLINK-24611): every shared file records the
 * checkpoint that created it, the last checkpoint that used it and whether
 * that upload was confirmed. On subsumption a file is deleted when its last
 * use is below the lowest retained checkpoint, but only if it was created
 * after highest_not_claimed (raised by NO_CLAIM and LEGACY restores, so
 * files of a snapshot the job does not own are never deleted). */
#ifndef SIM_REGISTRY_H
#define SIM_REGISTRY_H

#include <stdint.h>

#include "rt_err.h"
#include "rt_storage.h"

typedef struct sim_registry_entry {
    char path[256];      /* store-relative */
    int64_t created_by;  /* checkpoint id that first registered it */
    int64_t last_used;   /* highest checkpoint id that references it */
    int confirmed;       /* the creating checkpoint completed */
} sim_registry_entry;

typedef struct sim_registry {
    sim_registry_entry *e; /* sorted by path */
    int n, cap;
    int64_t highest_not_claimed;
} sim_registry;

void sim_registry_init(sim_registry *r);
void sim_registry_free(sim_registry *r);
/* Records that checkpoint `id` references path (registering it if new).
 * created_by, when known (> 0), names the checkpoint that uploaded it: a
 * recovering coordinator must not take a restored snapshot's file for one
 * of its own just because a later checkpoint is the first it sees. */
rt_err sim_registry_register(sim_registry *r, const char *path, int64_t id, int64_t created_by, rt_error *e);
/* Marks every entry created by checkpoint id as confirmed (it completed). */
void sim_registry_confirm(sim_registry *r, int64_t id);
/* Drops entries whose last use is below lowest_retained; those created
 * after highest_not_claimed are appended to to_delete (owned), the others
 * are only forgotten. */
rt_err sim_registry_unregister_unused(sim_registry *r, int64_t lowest_retained,
                                      rt_strlist *to_delete, rt_error *e);
/* A NO_CLAIM or LEGACY restore of checkpoint id: never delete what it has. */
void sim_registry_set_not_claimed(sim_registry *r, int64_t id);
const sim_registry_entry *sim_registry_find(const sim_registry *r, const char *path);
/* True if path is registered and its upload confirmed: the only kind of
 * file an incremental checkpoint may reference by placeholder. */
int sim_registry_is_confirmed(const sim_registry *r, const char *path);

#endif
