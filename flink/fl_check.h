/* fl_check: whether a Flink release can restore a real snapshot, from the
 * model's own version data (sim/model/sim_version.c) and the model's own
 * restore rules, shared with it as functions:
 *   sim_version_check_metadata        the _metadata version the target reads
 *   sim_handle_check_reader           which backend restores which keyed format
 *   sim_version_check_sst             the SST format_version the target's RocksDB reads
 *   sim_version_check_channel_state   the channel-state serialization version
 * plus what any restore needs: every file there, with its recorded size
 * (sim/sim_restore.c fetch_verified). What the model does not decide is
 * "unknown", with the reason: files on a file system this tool cannot
 * see, a changelog backend, a key-group stream read by another backend
 * than the one that wrote it (the model decides that by the stream's bytes),
 * Kryo-serialized state across Kryo generations
 * (the table records them; no model mechanism decides them), and channel
 * state of a V3 snapshot that may come from a release before the model's
 * first. Nothing here is a table of verdicts. */
#ifndef FL_CHECK_H
#define FL_CHECK_H

#include "fl_snapshot.h"
#include "sim_version.h"

typedef enum { FL_RESTORES, FL_REJECTED, FL_UNKNOWN } fl_verdict;

const char *fl_verdict_name(fl_verdict v); /* "restores", "rejected", "unknown" */

#define FL_CHECK_REASONS_MAX 16

typedef struct fl_reason {
    fl_verdict verdict;  /* FL_REJECTED or FL_UNKNOWN */
    const char *rule;    /* "metadata-version", "backend", "sst-format", "files", ... */
    char text[RT_ERROR_MSG_MAX];
} fl_reason;

typedef struct fl_check {
    const sim_version *target;
    const char *backend;       /* "heap", "rocksdb", or NULL: not given */
    char writers[160];         /* the releases that may have written it */
    int n_writers;
    fl_verdict verdict;
    int n_reasons;
    int more_reasons;          /* reasons beyond FL_CHECK_REASONS_MAX, not kept */
    fl_reason reasons[FL_CHECK_REASONS_MAX];
} fl_check;

/* Checks s against target. backend: the target job's backend ("heap",
 * "hashmap" or "rocksdb"), or NULL; from: the release that wrote s when
 * the user knows it, or NULL (then every modelled release that writes its
 * _metadata version). RT_EUSAGE for a bad backend or a `from` that does
 * not write s's _metadata version; the verdict otherwise. */
rt_err fl_check_run(const fl_snapshot *s, const sim_version *target, const char *backend, const sim_version *from,
                    fl_check *out, rt_error *e);

#endif
