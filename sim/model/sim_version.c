/* sim_version: the simulated engine versions and the RocksDB releases they
 * bundle. This table is the only place versions live; a change of channel
 * state format or of the metadata version is data here, and what breaks
 * because of it is found by running the scenarios, not written down.
 *
 * SST format_version limits follow RocksDB's own history: format_version 4
 * appeared in 5.16, 5 in 6.6; 6.x writes 4 by default, 7.x/8.x write 5.
 * Debian's librocksdb (7.8.3) writes and reads every one of them, so the
 * simulated reader limit is enforced by sim/state/sim_sst_footer.c from the bytes. */
#include "sim_version.h"

#include <stdio.h>
#include <string.h>

/* A RocksDB release: name, SST format_version written, highest read. Each
 * is written once, here, and used by both tables below. */
#define ROCKS_5_17_2 "5.17.2", 2, 4
#define ROCKS_6_20_3 "6.20.3", 4, 5
#define ROCKS_8_10_0 "8.10.0", 5, 5

#define V(name, ma, mi, pa, mw, rmin, rmax, cs, rocks) {name, ma, mi, pa, mw, rmin, rmax, cs, "canonical", rocks}

const sim_version sim_versions[] = {
    V("1.13.6", 1, 13, 6, 3, 1, 3, 1, ROCKS_5_17_2),
    V("1.14.0", 1, 14, 0, 3, 1, 3, 2, ROCKS_6_20_3),
    V("1.14.6", 1, 14, 6, 3, 1, 3, 2, ROCKS_6_20_3),
    V("1.15.0", 1, 15, 0, 3, 1, 3, 3, ROCKS_6_20_3),
    V("1.15.4", 1, 15, 4, 3, 1, 3, 3, ROCKS_6_20_3),
    V("1.16.0", 1, 16, 0, 4, 1, 4, 4, ROCKS_6_20_3),
    V("1.16.3", 1, 16, 3, 4, 1, 4, 4, ROCKS_6_20_3),
    V("1.17.2", 1, 17, 2, 4, 1, 4, 5, ROCKS_6_20_3),
    V("1.18.1", 1, 18, 1, 4, 1, 4, 6, ROCKS_6_20_3),
    V("1.19.1", 1, 19, 1, 4, 1, 4, 7, ROCKS_8_10_0),
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
    char known[256] = "";
    for (int i = 0; i < sim_version_count; i++) {
        strncat(known, sim_versions[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < sim_version_count) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    RT_FAIL(e, RT_EUSAGE, "unknown engine version '%s' (known: %s)", name, known);
    return NULL;
}

const sim_version *sim_version_default(void) { return sim_version_find("1.15.0"); }

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
    out->rocksdb_release = rel->name;
    out->sst_format_write = rel->sst_format_write;
    out->sst_format_read_max = rel->sst_format_read_max;
    return RT_OK;
}
