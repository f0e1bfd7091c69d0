/* sim_version: the simulated engine versions, as data. Each row says which
 * _metadata versions the engine reads and writes, its channel-state format,
 * its default savepoint format, and the RocksDB release it bundles: the SST
 * format_version it writes and the highest it can read. */
#ifndef SIM_VERSION_H
#define SIM_VERSION_H

#include "rt_err.h"

typedef struct sim_version {
    const char *name;            /* "1.15.0" */
    int major, minor, patch;
    int metadata_write;          /* _metadata version written */
    int metadata_read_min;
    int metadata_read_max;
    int channel_state_format;    /* version of the channel-state format */
    const char *default_savepoint_format; /* "canonical" (released Flink) */
    const char *rocksdb_release; /* bundled RocksDB (FRocksDB) release */
    int sst_format_write;        /* block-based table format_version written */
    int sst_format_read_max;     /* highest format_version readable */
} sim_version;

extern const sim_version sim_versions[];
extern const int sim_version_count;

const sim_version *sim_version_find(const char *name);
/* NULL and an RT_EUSAGE error listing the known versions when unknown. */
const sim_version *sim_version_lookup(const char *name, rt_error *e);
const sim_version *sim_version_default(void);

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
