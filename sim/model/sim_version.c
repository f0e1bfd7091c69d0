/* sim_version: the simulated engine versions and the RocksDB releases they
 * bundle. This table is the only place versions live; what breaks because
 * of a value here is found by running the scenarios, not written down.
 *
 * Sources, so that every value can be checked again:
 *  [ckp]  _metadata written: the serializer Checkpoints.storeCheckpointMetadata
 *         passes, read: the serializers MetadataSerializers registers, both read
 *         from the flink-runtime jar of 1.15.4, 1.16.3, 1.17.2, 1.20.0, 2.0.0,
 *         2.1.0 and 2.2.0 (javap) and from the Checkpoints.java source of a 1.14.4
 *         and a 1.19 tree: 1.14/1.15 write V3 and read 1..3; 1.16-1.20 write V4
 *         and read 1..4; 2.0 writes V5 (operator name and uid) and reads 1..5;
 *         2.1 and 2.2 write V6 (merged channel-state handles) and read 1..6.
 *         MetadataV1Serializer is registered but its deserialize throws "This
 *         savepoint / checkpoint version (Flink 1.1 / 1.2) is no longer
 *         supported", so the lowest readable version is 2.
 *  [pom]  the frocksdbjni dependency of flink-statebackend-rocksdb's pom, read for
 *         1.13.6, 1.14.6, 1.16.3, 1.17.2, 1.18.1, 1.19.1, 1.20.0, 2.0.0, 2.1.0, 2.2.0
 *         (FLINK-14482, FLINK-24932, FLINK-35578).
 *  [bld]  RocksDBKeyedStateBackendBuilder (javap of 1.13.6, 1.14.6, 1.15.4, 1.16.3,
 *         1.20.0, 2.0.0): without incremental checkpoints it builds
 *         RocksFullSnapshotStrategy up to 1.15 and RocksNativeFullSnapshotStrategy
 *         from 1.16 on (so 1.16-1.20 already snapshot SST files, not only 2.x).
 *  [kryo] Kryo 2.24 in every 1.x; Kryo 5.6 in 2.x (docs/content/release-notes/
 *         flink-2.0.md: "State compatibility is not guaranteed between 1.x and 2.x").
 *  [sp]   savepoints in the completed-checkpoint store: from 1.7 (FLINK-10354)
 *         every savepoint was added to it, counted in num-retained, used for
 *         recovery and notified to the tasks; from 1.15 (FLINK-25191,
 *         docs/content/docs/ops/state/savepoints.md: "Starting from Flink 1.15
 *         intermediate savepoints ... are not used for recovery and do not
 *         commit any side effects") none is; CheckpointCoordinator's
 *         completePendingCheckpoint adds only non-savepoints.
 *  [?]    a patch release not itself inspected: taken to match the inspected
 *         release of its minor line (1.13.6 and 1.18.1 _metadata, 1.15.x and 1.20.1
 *         poms); said so in the row's comment.
 *
 * SST format_version per RocksDB release (written by default / highest read),
 * from RocksDB's include/rocksdb/table.h and BlockBasedTableSupportedVersion:
 * 5.17: 2 / 4; 6.20.3: 5 / 5; 8.10: 5 / 6. RocksJava's own default follows
 * (Flink builds `new BlockBasedTableConfig()`): the 6.20.3-ververica-2.0 jar's
 * BlockBasedTableConfig constructor sets formatVersion = 5 (javap); 5.17 and
 * 8.10 are DESIGN.md's verified values, not re-read here. Debian's librocksdb
 * (7.8.3, which writes and reads 5 at most) writes every SST; the simulated
 * reader limit is enforced from the footer bytes (sim/state/sim_sst_footer.c).
 * A 9.x release (writes 6) cannot be simulated: 7.8.3 refuses to write 6. */
#include "sim_version.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* A RocksDB release: name, SST format_version written, highest read. Each
 * is written once, here, and used by both tables below. */
#define ROCKS_5_17_2 "5.17.2", 2, 4
#define ROCKS_6_20_3 "6.20.3", 5, 5
#define ROCKS_8_10_0 "8.10.0", 5, 6

#define KG SIM_FULL_KEY_GROUPS
#define SST SIM_FULL_NATIVE_SST
#define V(name, ma, mi, pa, mw, rmax, frocks, rocks, full, kryo) \
    {name, ma, mi, pa, mw, 2, rmax, "canonical", frocks, rocks, full, kryo, SP_IN_STORE(ma, mi)}
/* [sp] */
#define SP_IN_STORE(ma, mi) ((ma) == 1 && (mi) < 15)

const sim_version sim_versions[] = {
    /* [ckp?] V3 as 1.14; [pom] 5.17.2-ververica-2.1; [bld] */
    V("1.13.6", 1, 13, 6, 3, 3, "5.17.2-ververica-2.1", ROCKS_5_17_2, KG, 2),
    /* [ckp] (1.14.4 source) [pom] (1.14.6) [bld] (1.14.6) */
    V("1.14.0", 1, 14, 0, 3, 3, "6.20.3-ververica-1.0", ROCKS_6_20_3, KG, 2),
    V("1.14.6", 1, 14, 6, 3, 3, "6.20.3-ververica-1.0", ROCKS_6_20_3, KG, 2),
    /* [ckp] (1.15.4) [pom?] as 1.14.6 and 1.16.3 [bld] (1.15.4) */
    V("1.15.0", 1, 15, 0, 3, 3, "6.20.3-ververica-1.0", ROCKS_6_20_3, KG, 2),
    V("1.15.4", 1, 15, 4, 3, 3, "6.20.3-ververica-1.0", ROCKS_6_20_3, KG, 2),
    /* [ckp] (1.16.3) [pom] (1.16.3) [bld] (1.16.3) */
    V("1.16.0", 1, 16, 0, 4, 4, "6.20.3-ververica-1.0", ROCKS_6_20_3, SST, 2),
    V("1.16.3", 1, 16, 3, 4, 4, "6.20.3-ververica-1.0", ROCKS_6_20_3, SST, 2),
    /* [ckp] (1.17.2) [pom] (1.17.2) [bld] as 1.16.3 and 1.20.0 */
    V("1.17.2", 1, 17, 2, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [ckp?] between 1.17.2 and 1.19, both V4 [pom] (1.18.1) [bld] as above */
    V("1.18.1", 1, 18, 1, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [ckp] (1.19 source) [pom] (1.19.1: 1.19 does not bundle RocksDB 8.10) */
    V("1.19.1", 1, 19, 1, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [?] as 1.19.1 (a patch release changes none of these); a real-Flink lane release */
    V("1.19.3", 1, 19, 3, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [ckp] (1.20.0) [pom] (1.20.0; 1.20.1 [?]) [bld] (1.20.0) */
    V("1.20.0", 1, 20, 0, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    V("1.20.1", 1, 20, 1, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [?] as 1.20.0; a real-Flink lane release */
    V("1.20.3", 1, 20, 3, 4, 4, "6.20.3-ververica-2.0", ROCKS_6_20_3, SST, 2),
    /* [ckp] (2.0.0) [pom] (2.0.0) [bld] (2.0.0) [kryo]; 2.0.1 [?] */
    V("2.0.0", 2, 0, 0, 5, 5, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
    V("2.0.1", 2, 0, 1, 5, 5, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
    /* [ckp] (2.1.0) [pom] (2.1.0) [kryo]; 2.1.1 [?] */
    V("2.1.0", 2, 1, 0, 6, 6, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
    V("2.1.1", 2, 1, 1, 6, 6, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
    /* [ckp] (2.2.0) [pom] (2.2.0) [kryo] */
    V("2.2.0", 2, 2, 0, 6, 6, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
    /* [?] as 2.2.0; a real-Flink lane release */
    V("2.2.1", 2, 2, 1, 6, 6, "8.10.0-ververica-1.0", ROCKS_8_10_0, SST, 5),
};
const int sim_version_count = (int)(sizeof sim_versions / sizeof sim_versions[0]);

const sim_version *sim_version_find(const char *name) {
    for (int i = 0; i < sim_version_count; i++)
        if (strcmp(sim_versions[i].name, name) == 0) return &sim_versions[i];
    return NULL;
}

const sim_version *sim_version_lookup(const char *name, rt_error *e) {
    const sim_version *v = sim_version_find(name);
    if (v != NULL) return v;
    char known[320] = "";
    for (int i = 0; i < sim_version_count; i++) {
        strncat(known, sim_versions[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < sim_version_count) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    RT_FAIL(e, RT_EUSAGE, "unknown engine version '%s' (known: %s)", name, known);
    return NULL;
}

/* 1.15 is the release whose documentation first printed the "Checkpoints vs.
 * Savepoints" table (and the FLIP-203 native savepoints it describes). */
const sim_version *sim_version_default(void) { return sim_version_find("1.15.0"); }

rt_err sim_version_check_metadata(const sim_version *reader, int version, const char *writer, rt_error *e) {
    assert(reader != NULL);
    if (version >= reader->metadata_read_min && version <= reader->metadata_read_max) return RT_OK;
    return RT_FAIL(e, RT_EVERSION,
                   "_metadata version %d (written by engine %s) cannot be read by engine %s "
                   "(reads versions %d..%d)",
                   version, writer, reader->name, reader->metadata_read_min, reader->metadata_read_max);
}

rt_err sim_version_check_sst(const sim_version *reader, uint32_t format_version, const char *file, rt_error *e) {
    assert(reader != NULL);
    if (format_version <= (uint32_t)reader->sst_format_read_max) return RT_OK;
    return RT_FAIL(e, RT_EVERSION,
                   "SST file %s has format_version %u; engine %s bundles RocksDB %s, "
                   "which reads format_version up to %d",
                   file, format_version, reader->name, reader->rocksdb_release, reader->sst_format_read_max);
}

/* ChannelStateSerializerImpl.SERIALIZATION_VERSION = 0 (javap of 2.2.0; the
 * same constant in every release's source since 1.11). */
uint32_t sim_version_channel_state_serialization(const sim_version *v) {
    assert(v != NULL);
    return 0;
}

rt_err sim_version_check_channel_state(const sim_version *reader, uint32_t found, uint32_t reads, const char *what,
                                       rt_error *e) {
    assert(reader != NULL);
    if (found == reads) return RT_OK;
    return RT_FAIL(e, RT_ECHANNEL, "%s: unsupported channel state serialization version %u (engine %s reads %u)",
                   what, found, reader->name, reads);
}

static const sim_rocksdb_release rocksdb_releases[] = {
    {ROCKS_5_17_2},
    {ROCKS_6_20_3},
    {ROCKS_8_10_0},
};

const sim_rocksdb_release *sim_rocksdb_find(const char *name) {
    for (size_t i = 0; i < sizeof rocksdb_releases / sizeof rocksdb_releases[0]; i++)
        if (strcmp(rocksdb_releases[i].name, name) == 0) return &rocksdb_releases[i];
    return NULL;
}

rt_err sim_version_with_rocksdb(const sim_version *base, const char *release, sim_version *out,
                                rt_error *e) {
    const sim_rocksdb_release *rel = sim_rocksdb_find(release);
    if (rel == NULL)
        return RT_FAIL(e, RT_EUSAGE, "unknown RocksDB release '%s' (known: 5.17.2, 6.20.3, 8.10.0)", release);
    *out = *base;
    out->frocksdb = rel->name; /* a user's own build of that release */
    out->rocksdb_release = rel->name;
    out->sst_format_write = rel->sst_format_write;
    out->sst_format_read_max = rel->sst_format_read_max;
    return RT_OK;
}
