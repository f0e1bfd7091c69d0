/* sim_handle: what a snapshot records about one subtask's keyed state: the
 * format, the key-group range, the schemas, and every file with its size,
 * checksum, whether it is shared (may be referenced by several
 * checkpoints) and how it is held (a file by absolute or relative path, or
 * bytes inlined in _metadata). Paths here are always store-relative;
 * sim_metadata writes each handle by its type. */
#ifndef SIM_HANDLE_H
#define SIM_HANDLE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "sim_state.h"

#define SIM_PATH_MAX 256

/* How a piece of state is held, as Flink's StreamStateHandle classes
 * (MetadataV2V3SerializerBase writes each with its own type byte):
 *   SIM_HANDLE_FILE      FileStateHandle: an absolute path into the storage,
 *                        wherever _metadata is read from;
 *   SIM_HANDLE_RELATIVE  RelativeFileStateHandle: a file of the snapshot's
 *                        own directory, written as a path relative to it and
 *                        re-anchored to the directory _metadata is read from;
 *   SIM_HANDLE_BYTES     ByteStreamStateHandle: state no larger than the
 *                        memory threshold, its bytes inlined in _metadata
 *                        (the path is then only the handle's name).
 * FsCheckpointStreamFactory chooses: bytes below the threshold, else an
 * absolute path for shared scope (shared/) and a relative one for the
 * exclusive scope (the snapshot's own directory). */
typedef enum { SIM_HANDLE_FILE, SIM_HANDLE_RELATIVE, SIM_HANDLE_BYTES } sim_handle_type;

/* "absolute", "relative", "inlined". */
const char *sim_handle_type_name(sim_handle_type t);
int sim_handle_type_parse(const char *s, sim_handle_type *out);

typedef struct sim_file_ref {
    char path[SIM_PATH_MAX]; /* store-relative; for bytes, the handle's name */
    char local_name[64];     /* the backend's own name (e.g. 000012.sst) */
    uint64_t size;
    uint64_t xxh3;
    int shared;              /* registered with the SharedStateRegistry */
    int64_t created_by;      /* checkpoint that uploaded it (0: unknown) */
    uint8_t type;            /* sim_handle_type */
} sim_file_ref;

/* The last path component: what a RelativeFileStateHandle records as its
 * relative path (files lie directly in the snapshot's directory). */
const char *sim_file_ref_name(const sim_file_ref *f);
/* Whether path lies in directory dir (any depth). */
int sim_path_under(const char *path, const char *dir);

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
#define SIM_FORMAT_ROCKSDB_NATIVE "rocksdb-native"
#define SIM_FORMAT_CANONICAL "canonical"
int sim_handle_is_key_groups(const sim_keyed_handle *h);
int sim_format_is_key_groups(const char *format);
/* Whether the `reader` backend ("heap", "rocksdb") restores keyed state of
 * `format` in its own (native) restore, written by the `writer` backend (a
 * label for the message): a key-group stream (KeyGroupsStateHandle) both,
 * each with its own reader (HeapRestoreOperation,
 * RocksDBFullRestoreOperation); RocksDB's own files
 * (IncrementalRemoteKeyedStateHandle) only RocksDB. RT_EBACKEND otherwise.
 * Called by the heap and RocksDB backends' restore_native. */
rt_err sim_handle_check_native_reader(const char *reader, const char *format, const char *writer, rt_error *e);
/* The same for any format: canonical state (SavepointKeyedStateHandle) goes
 * to the canonical reader, which every backend has (sim/sim_restore.c
 * restore_handle); any other to the native rule above. Called by `snapsim
 * check` on real snapshots (flink/fl_check.c). */
rt_err sim_handle_check_reader(const char *reader, const char *format, const char *writer, rt_error *e);

void sim_handle_init(sim_keyed_handle *h);
void sim_handle_free(sim_keyed_handle *h);
rt_err sim_handle_add_file(sim_keyed_handle *h, const sim_file_ref *f, rt_error *e);
/* A deep copy of src into dst (dst is overwritten, not freed). */
rt_err sim_handle_copy(sim_keyed_handle *dst, const sim_keyed_handle *src, rt_error *e);
/* Which of MetadataV2V3SerializerBase's keyed handle classes h is: an
 * IncrementalRemoteKeyedStateHandle (the RocksDB backend's own files:
 * SSTs as shared state plus private files) or a KeyGroupsStateHandle (one
 * stream of key groups: heap snapshots, canonical savepoints). The State
 * Processor API copies the files of the second kind only. */
int sim_handle_is_one_stream(const sim_keyed_handle *h);

/* The bytes of inlined handles (ByteStreamStateHandle), by handle name:
 * whoever holds a _metadata that inlines them (a parsed snapshot, the
 * coordinator of a run) holds their bytes here. Sorted by name, so lookups
 * and walks are deterministic. */
typedef struct sim_bytes_entry {
    char name[SIM_PATH_MAX];
    uint8_t *data;
    size_t len;
} sim_bytes_entry;

typedef struct sim_bytes_pool {
    sim_bytes_entry *e;
    int n, cap;
} sim_bytes_pool;

void sim_bytes_init(sim_bytes_pool *p);
void sim_bytes_free(sim_bytes_pool *p);
/* Adds (or replaces) name's bytes, copying them. */
rt_err sim_bytes_put(sim_bytes_pool *p, const char *name, const void *data, size_t len, rt_error *e);
const sim_bytes_entry *sim_bytes_get(const sim_bytes_pool *p, const char *name);
/* Forgets name; 1 if it was there. */
int sim_bytes_drop(sim_bytes_pool *p, const char *name);
/* Forgets every name under dir. */
void sim_bytes_drop_under(sim_bytes_pool *p, const char *dir);
/* Adds every entry of src to dst. */
rt_err sim_bytes_merge(sim_bytes_pool *dst, const sim_bytes_pool *src, rt_error *e);

#endif
