/* sim_version: the simulated engine versions, as data. Each row says which
 * _metadata versions the engine reads and writes, its default savepoint
 * format, the RocksDB release it bundles (the SST format_version it writes
 * and the highest it can read), the snapshot strategy of a non-incremental
 * RocksDB backend, and the Kryo generation of its built-in serializers.
 * Every value carries its source in sim_version.c. */
#ifndef SIM_VERSION_H
#define SIM_VERSION_H

#include <stdint.h>

#include "rt_err.h"

/* How a non-incremental RocksDB backend snapshots (RocksDBKeyedStateBackendBuilder
 * picks the strategy): a key-group stream (RocksFullSnapshotStrategy, written by
 * FullSnapshotAsyncWriter into a KeyGroupsStateHandle) or the SST files of a
 * local RocksDB checkpoint (RocksNativeFullSnapshotStrategy). */
typedef enum { SIM_FULL_KEY_GROUPS, SIM_FULL_NATIVE_SST } sim_full_snapshot;

typedef struct sim_version {
    const char *name;            /* "1.15.0" */
    int major, minor, patch;
    int metadata_write;          /* _metadata version written */
    int metadata_read_min;
    int metadata_read_max;
    const char *default_savepoint_format; /* "canonical" (released Flink) */
    const char *frocksdb;        /* the frocksdbjni artifact version bundled */
    const char *rocksdb_release; /* the RocksDB release it is built from */
    int sst_format_write;        /* block-based table format_version written */
    int sst_format_read_max;     /* highest format_version readable */
    sim_full_snapshot full_snapshot;
    int kryo_major;              /* 2 (Kryo 2.24) in 1.x, 5 (Kryo 5.6) in 2.x */
    /* Savepoints go into the completed-checkpoint store (counted in
     * num-retained, used for recovery, notified to the tasks): 1.7-1.14. */
    int savepoints_in_store;
} sim_version;

extern const sim_version sim_versions[];
extern const int sim_version_count;

const sim_version *sim_version_find(const char *name);
/* NULL and an RT_EUSAGE error listing the known versions when unknown. */
const sim_version *sim_version_lookup(const char *name, rt_error *e);
const sim_version *sim_version_default(void);

/* The restore checks that follow from this table alone. Each is called by
 * the model's restore and by `snapsim check` on real Flink snapshots
 * (flink/fl_check.c), so the two cannot drift apart. */

/* Checkpoints.loadCheckpointMetadata: MetadataSerializers knows the
 * versions up to the reader's own; any other is "Unrecognized checkpoint
 * version". RT_EVERSION naming the writer (a label) and the reader's range.
 * Called by sim/sim_restore.c (check_version). */
rt_err sim_version_check_metadata(const sim_version *reader, int version, const char *writer, rt_error *e);
/* The reader's RocksDB must understand an SST's table format_version (read
 * from its footer). Called by sim/state/sim_backend_rocksdb.c
 * (check_sst_version). */
rt_err sim_version_check_sst(const sim_version *reader, uint32_t format_version, const char *file, rt_error *e);
/* ChannelStateSerializerImpl.SERIALIZATION_VERSION, the int that starts
 * every channel-state file: 0 in every release modelled. */
uint32_t sim_version_channel_state_serialization(const sim_version *v);
/* A channel-state file of serialization version `found` read by an engine
 * that reads `reads`. Called by sim/sim_channel_state.c (sim_cs_read). */
rt_err sim_version_check_channel_state(const sim_version *reader, uint32_t found, uint32_t reads, const char *what,
                                       rt_error *e);

/* A RocksDB release as the engines bundle it: what format_version its SST
 * writer produces by default and the highest it reads. */
typedef struct sim_rocksdb_release {
    const char *name;
    int sst_format_write;
    int sst_format_read_max;
} sim_rocksdb_release;

const sim_rocksdb_release *sim_rocksdb_find(const char *name);
/* base with its bundled RocksDB swapped for `release` (a user replacing the
 * RocksDB jar): RT_EUSAGE for an unknown release. */
rt_err sim_version_with_rocksdb(const sim_version *base, const char *release, sim_version *out,
                                rt_error *e);

#endif
