/* sim_handle: what a snapshot records about one subtask's keyed state: the
 * format, the key-group range, the schemas, and every file with its size,
 * checksum and whether it is shared (may be referenced by several
 * checkpoints). Paths here are always store-relative; sim_metadata turns
 * them into absolute (checkpoints) or snapshot-relative (savepoints). */
#ifndef SIM_HANDLE_H
#define SIM_HANDLE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "sim_state.h"

#define SIM_PATH_MAX 256

typedef struct sim_file_ref {
    char path[SIM_PATH_MAX]; /* store-relative */
    char local_name[64];     /* the backend's own name (e.g. 000012.sst) */
    uint64_t size;
    uint64_t xxh3;
    int shared;              /* registered with the SharedStateRegistry */
    int64_t created_by;      /* checkpoint that uploaded it (0: unknown) */
} sim_file_ref;

typedef struct sim_keyed_handle {
    char format[24];  /* "heap-native", "rocksdb-native", "key-groups", "canonical" */
    char backend[16]; /* backend that wrote it ("heap", "rocksdb") */
    uint32_t kg_lo, kg_hi;
    int incremental;
    int sst_format_version; /* rocksdb-native only: format_version written */
    int64_t checkpoint_id;
    sim_ftype key_type; /* the key serializer (KeyedBackendSerializationProxy) */
    int n_states;
    sim_state_desc states[SIM_MAX_STATES];
    int n_files, cap_files;
    sim_file_ref *files;
} sim_keyed_handle;

/* The handle kinds, after Flink's classes: "canonical" a
 * SavepointKeyedStateHandle; "rocksdb-native" an IncrementalRemoteKeyedStateHandle
 * of SST files; "heap-native" (a heap snapshot) and "key-groups" (a RocksDB
 * full snapshot) both a KeyGroupsStateHandle, read by whichever backend
 * restores it with its own reader. */
#define SIM_FORMAT_KEY_GROUPS "key-groups"
int sim_handle_is_key_groups(const sim_keyed_handle *h);

void sim_handle_init(sim_keyed_handle *h);
void sim_handle_free(sim_keyed_handle *h);
rt_err sim_handle_add_file(sim_keyed_handle *h, const sim_file_ref *f, rt_error *e);

#endif
