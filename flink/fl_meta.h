/* fl_meta: Apache Flink's binary checkpoint and savepoint `_metadata`, as
 * Checkpoints.storeCheckpointMetadata writes it (a magic number 0x4960672d,
 * an int version, then the body of that version's MetadataSerializer),
 * parsed into plain structs. The layout is MetadataV2V3SerializerBase's,
 * MetadataV3Serializer's (operators, subtasks, channel state),
 * MetadataV4Serializer's (CheckpointProperties appended, Java-serialized),
 * MetadataV5Serializer's (operator name and uid) and MetadataV6Serializer's
 * (channel state through ChannelStateHandleSerializerV2: merged handles),
 * read from the flink-runtime jars of 1.20.0 and 2.2.0 (javap) and the
 * sources. Versions outside fl_meta_versions are refused by number.
 *
 * Hostile input is expected: every length and count is checked against the
 * bytes left before anything is allocated, handles nest at most
 * FL_NEST_MAX deep, and all memory comes from one capped arena, so any
 * input ends in a parsed snapshot or one named error. */
#ifndef FL_META_H
#define FL_META_H

#include <stddef.h>
#include <stdint.h>

#include "fl_cursor.h"
#include "fl_jser.h"
#include "rt_err.h"

#define FL_MAGIC 0x4960672dU
#define FL_MASTER_STATE_MAGIC 0xc96b1696U
#define FL_NEST_MAX 8
/* The largest _metadata read (Flink's are kilobytes to a few megabytes). */
#define FL_METADATA_MAX_BYTES (64u * 1024u * 1024u)

/* A supported _metadata version and what its serializer adds. */
typedef struct fl_version_info {
    int version;
    const char *serializer;  /* Flink's class */
    const char *introduced;  /* the first Flink release that writes it */
    int has_properties;      /* V4+: CheckpointProperties at the end */
    int has_name_uid;        /* V5+: operator name and uid */
    int channel_v2;          /* V6+: typed (and merged) channel-state handles */
} fl_version_info;

extern const fl_version_info fl_meta_versions[];
extern const int fl_meta_version_count;
const fl_version_info *fl_meta_version(int version);
/* "3, 4, 5, 6" */
const char *fl_meta_versions_list(void);

/* The type bytes of MetadataV2V3SerializerBase. */
enum {
    FL_H_NULL = 0,
    FL_H_BYTE_STREAM = 1,        /* ByteStreamStateHandle: inlined bytes */
    FL_H_FILE_STREAM = 2,        /* FileStateHandle: an absolute path */
    FL_H_KEY_GROUPS = 3,         /* KeyGroupsStateHandle (v1; also as a stream handle) */
    FL_H_PARTITIONABLE_OP = 4,   /* OperatorStreamStateHandle */
    FL_H_INCREMENTAL = 5,        /* IncrementalRemoteKeyedStateHandle (v1) */
    FL_H_RELATIVE_STREAM = 6,    /* RelativeFileStateHandle */
    FL_H_SAVEPOINT_KEY_GROUPS = 7, /* KeyGroupsSavepointStateHandle */
    FL_H_CHANGELOG = 8,          /* ChangelogStateBackendHandle (v1) */
    FL_H_CHANGELOG_BYTES = 9,    /* InMemoryChangelogStateHandle */
    FL_H_CHANGELOG_FILE = 10,    /* ChangelogStateHandleStreamImpl (v1) */
    FL_H_INCREMENTAL_V2 = 11,
    FL_H_KEY_GROUPS_V2 = 12,
    FL_H_CHANGELOG_FILE_V2 = 13,
    FL_H_CHANGELOG_V2 = 14,
    FL_H_SEGMENT_FILE = 15,      /* SegmentFileStateHandle (file merging) */
    FL_H_EMPTY_SEGMENT_FILE = 16, /* EmptySegmentFileStateHandle */
    FL_H_SEGMENT_PARTITIONABLE_OP = 17 /* FileMergingOperatorStreamStateHandle */
};

/* How a stream handle holds its bytes. */
typedef enum {
    FL_PATH_NONE,     /* holds no bytes (a nested key-groups handle, an empty segment) */
    FL_PATH_ABSOLUTE, /* FileStateHandle, SegmentFileStateHandle: a path as written */
    FL_PATH_RELATIVE, /* RelativeFileStateHandle: relative to _metadata's directory */
    FL_PATH_INLINED   /* ByteStreamStateHandle: the bytes are in _metadata */
} fl_path_kind;

const char *fl_path_kind_name(fl_path_kind k); /* "absolute", "relative", "inlined", "none" */
/* Flink's class name of a handle type byte ("KeyGroupsStateHandle"), NULL if unknown. */
const char *fl_handle_class(int type);

struct fl_keyed;

/* One StreamStateHandle, and where it was found. Every stream handle of
 * the file is on the list fl_meta.streams, in file order. */
typedef struct fl_stream {
    int type;
    fl_path_kind kind;
    const char *path;        /* absolute or relative path as written; inlined: the handle name */
    int64_t size;            /* the state size recorded */
    const uint8_t *bytes;    /* inlined bytes (in the parse's own copy of the file) */
    uint32_t n_bytes;
    int64_t segment_start;   /* SegmentFileStateHandle: offset of the segment */
    int segment_scope;       /* CheckpointedStateScope ordinal */
    const char *logical_file; /* LogicalFileId */
    struct fl_keyed *nested; /* type 3 as a stream handle: the KeyGroupsStateHandle */
    size_t offset;           /* where the handle starts in _metadata */
    /* where it was found */
    int op;                  /* index into fl_meta.ops, -1 for none */
    int subtask;             /* subtask index, -1 for none */
    const char *role;        /* "managed keyed", "shared", "channel input", ... */
    const char *local_path;  /* HandleAndLocalPath's local name ("000012.sst"), or NULL */
    struct fl_stream *next;
} fl_stream;

typedef struct fl_local_handle {
    const char *local_path;
    fl_stream *handle;
} fl_local_handle;

/* A KeyedStateHandle of any supported type. */
typedef struct fl_keyed {
    int type;
    int32_t kg_start, kg_count;
    uint32_t n_offsets;             /* key-group offsets recorded */
    fl_stream *delegate;            /* key-groups handles: the stream */
    const char *state_handle_id;    /* v2 handles */
    /* IncrementalRemoteKeyedStateHandle */
    int64_t checkpoint_id;
    const char *backend_id;
    int64_t checkpointed_size;      /* v2; -1 unknown */
    fl_stream *meta;                /* the backend's meta data stream */
    uint32_t n_shared, n_private;
    fl_local_handle *shared, *private_state;
    /* ChangelogStateBackendHandle */
    uint32_t n_base, n_delta;
    struct fl_keyed **base, **delta;
    int64_t materialization_id;
    /* changelog increments */
    int64_t seq_from, seq_to;
    uint32_t n_changes;
    uint32_t n_handles;
    fl_stream **handles;
    const char *storage_id;
    size_t offset;
} fl_keyed;

typedef struct fl_op_state_entry {
    const char *name;
    int mode;                /* OperatorStateHandle.Mode ordinal */
    uint32_t n_offsets;
} fl_op_state_entry;

/* OperatorStreamStateHandle or FileMergingOperatorStreamStateHandle. */
typedef struct fl_op_state {
    int type;
    uint32_t n_states;
    fl_op_state_entry *states;
    const char *taskowned_dir, *shared_dir; /* file merging */
    int empty;                              /* file merging: EmptyFileMerging... */
    fl_stream *delegate;
} fl_op_state;

/* InputChannelStateHandle / ResultSubpartitionStateHandle, or (V6) their
 * merged forms. */
typedef struct fl_channel {
    int input;               /* 1 input channel, 0 result subpartition */
    int merged;
    int32_t subtask;
    int32_t info_a, info_b;  /* gate and channel, or partition and subpartition */
    uint32_t n_offsets;      /* offsets (or merged: bytes of serialized offsets) */
    int64_t size;
    fl_stream *delegate;
} fl_channel;

typedef struct fl_subtask {
    int32_t index;
    int finished;            /* FinishedOperatorSubtaskState: no state */
    fl_op_state *managed_op, *raw_op;
    fl_keyed *managed_keyed, *raw_keyed;
    uint32_t n_input, n_output;
    fl_channel *input, *output;
} fl_subtask;

typedef struct fl_operator {
    char id[33];             /* OperatorID in hex, as Flink prints it */
    const char *name, *uid;  /* V5+, NULL when not stored */
    int32_t parallelism, max_parallelism;
    fl_stream *coordinator;  /* ByteStreamStateHandle or NULL */
    int fully_finished;
    uint32_t n_subtasks;
    fl_subtask *subtasks;
} fl_operator;

typedef struct fl_master {
    const char *name;
    int32_t version;
    uint32_t n_bytes;
} fl_master;

/* CheckpointProperties (V4+), from its Java serialization. Booleans are -1
 * when absent. */
typedef struct fl_props {
    int present;
    const char *snapshot_class; /* SavepointType or CheckpointType (full name) */
    int savepoint;
    const char *type_name;      /* "Savepoint", "Checkpoint", "Full Checkpoint", ... */
    const char *format_type;    /* savepoints: "CANONICAL" or "NATIVE" */
    const char *post_action;    /* savepoints: NONE, SUSPEND, TERMINATE */
    const char *sharing;        /* checkpoints: FORWARD_BACKWARD, FORWARD, NO_SHARING */
    int forced, discard_subsumed, discard_finished, discard_cancelled, discard_failed,
        discard_suspended, unclaimed;
    fl_jobject raw;
} fl_props;

typedef struct fl_meta {
    int32_t version;
    int64_t checkpoint_id;
    uint32_t n_masters;
    fl_master *masters;
    uint32_t n_ops;
    fl_operator *ops;
    fl_props props;
    fl_stream *streams;      /* every stream handle, in file order */
    size_t n_streams;
    size_t n_channel_handles;
    size_t file_bytes;
    size_t trailing_bytes;   /* after what the version defines (Flink ignores them) */
    fl_arena arena;
} fl_meta;

/* Whether data starts with the _metadata magic number. */
int fl_meta_is_flink(const uint8_t *data, size_t len);
/* Parses data[0..len); on failure m holds nothing (it is freed). file only
 * names the input in messages. */
rt_err fl_meta_parse(fl_meta *m, const uint8_t *data, size_t len, const char *file, rt_error *e);
/* Reads and parses path (a _metadata file), at most FL_METADATA_MAX_BYTES. */
rt_err fl_meta_load(fl_meta *m, const char *path, rt_error *e);
void fl_meta_free(fl_meta *m);

/* Calls fn for every keyed handle of the snapshot, nested ones included
 * (depth first); stops when fn returns non-zero and returns that. */
int fl_meta_each_keyed(const fl_meta *m, int (*fn)(void *ctx, const fl_operator *op, const fl_subtask *st,
                                                   const fl_keyed *k), void *ctx);

#endif
