/* fl_meta: the _metadata parser (layout and sources in the header). One
 * function per element of MetadataV2V3SerializerBase and its subclasses,
 * named after the Java method it mirrors; each reads exactly what that
 * method reads, in the same order, and refuses what it would refuse. */
#include "fl_meta.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* MetadataSerializers registers V1..V6 (2.1, 2.2); V1 throws on read and V2
 * is the pre-1.11 layout no release of the lane writes. `introduced`: the
 * MetadataV3Serializer Javadoc ("introduced with Apache Flink 1.11.0"), and
 * for V4..V6 the first release whose Checkpoints.storeCheckpointMetadata
 * passes that serializer (sim/model/sim_version.c, source [ckp]). */
const fl_version_info fl_meta_versions[] = {
    {3, "MetadataV3Serializer", "1.11.0", 0, 0, 0},
    {4, "MetadataV4Serializer", "1.16.0", 1, 0, 0},
    {5, "MetadataV5Serializer", "2.0.0", 1, 1, 0},
    {6, "MetadataV6Serializer", "2.1.0", 1, 1, 1},
};
const int fl_meta_version_count = (int)(sizeof fl_meta_versions / sizeof fl_meta_versions[0]);

const fl_version_info *fl_meta_version(int version) {
    for (int i = 0; i < fl_meta_version_count; i++)
        if (fl_meta_versions[i].version == version) return &fl_meta_versions[i];
    return NULL;
}

const char *fl_meta_versions_list(void) {
    static char list[64];
    if (list[0] == '\0')
        for (int i = 0; i < fl_meta_version_count; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "",
                     fl_meta_versions[i].version);
    return list;
}

const char *fl_path_kind_name(fl_path_kind k) {
    switch (k) {
    case FL_PATH_ABSOLUTE: return "absolute";
    case FL_PATH_RELATIVE: return "relative";
    case FL_PATH_INLINED: return "inlined";
    default: return "none";
    }
}

const char *fl_handle_class(int type) {
    static const char *const names[] = {
        [FL_H_BYTE_STREAM] = "ByteStreamStateHandle",
        [FL_H_FILE_STREAM] = "FileStateHandle",
        [FL_H_KEY_GROUPS] = "KeyGroupsStateHandle",
        [FL_H_PARTITIONABLE_OP] = "OperatorStreamStateHandle",
        [FL_H_INCREMENTAL] = "IncrementalRemoteKeyedStateHandle",
        [FL_H_RELATIVE_STREAM] = "RelativeFileStateHandle",
        [FL_H_SAVEPOINT_KEY_GROUPS] = "KeyGroupsSavepointStateHandle",
        [FL_H_CHANGELOG] = "ChangelogStateBackendHandle",
        [FL_H_CHANGELOG_BYTES] = "InMemoryChangelogStateHandle",
        [FL_H_CHANGELOG_FILE] = "ChangelogStateHandleStreamImpl",
        [FL_H_INCREMENTAL_V2] = "IncrementalRemoteKeyedStateHandle",
        [FL_H_KEY_GROUPS_V2] = "KeyGroupsStateHandle",
        [FL_H_CHANGELOG_FILE_V2] = "ChangelogStateHandleStreamImpl",
        [FL_H_CHANGELOG_V2] = "ChangelogStateBackendHandle",
        [FL_H_SEGMENT_FILE] = "SegmentFileStateHandle",
        [FL_H_EMPTY_SEGMENT_FILE] = "EmptySegmentFileStateHandle",
        [FL_H_SEGMENT_PARTITIONABLE_OP] = "FileMergingOperatorStreamStateHandle",
    };
    if (type <= 0 || type >= (int)(sizeof names / sizeof names[0])) return NULL;
    return names[type];
}

typedef struct parser {
    fl_cursor c;
    fl_meta *m;
    const fl_version_info *v;
    int op, subtask;          /* where the next handle is found */
    const char *role;
    const char *local_path;
    fl_stream **tail;
} parser;

static rt_err read_keyed(parser *p, int depth, fl_keyed **out);

static rt_err too_deep(parser *p, int depth) {
    if (depth <= FL_NEST_MAX) return RT_OK;
    return fl_fail(&p->c, RT_EFORMAT, "offset %zu: state handles nested deeper than %d", p->c.pos, FL_NEST_MAX);
}

static rt_err unsupported(parser *p, size_t at, const char *what, int type) {
    return fl_fail(&p->c, RT_EFORMAT, "unsupported handle type %d at offset %zu (%s)", type, at, what);
}

/* "managed keyed" + "shared" -> "managed keyed/shared" */
static const char *sub_role(parser *p, const char *sub) {
    size_t n = strlen(p->role) + strlen(sub) + 2;
    char *s = fl_alloc(&p->c, n);
    if (s != NULL) snprintf(s, n, "%s/%s", p->role, sub);
    return s;
}

static fl_stream *new_stream(parser *p, int type, size_t at) {
    fl_stream *s = fl_alloc(&p->c, sizeof *s);
    if (s == NULL) return NULL;
    s->type = type;
    s->offset = at;
    s->op = p->op;
    s->subtask = p->subtask;
    s->role = p->role;
    s->local_path = p->local_path;
    s->size = -1;
    *p->tail = s;
    p->tail = &s->next;
    p->m->n_streams++;
    return s;
}

static rt_err read_key_groups_body(parser *p, int depth, int type, fl_keyed *k);

/* deserializeStreamStateHandle: the type is read with read(), unsigned. */
static rt_err read_stream(parser *p, int depth, fl_stream **out) {
    *out = NULL;
    size_t at = p->c.pos;
    uint8_t type = 0;
    rt_err rc = too_deep(p, depth);
    if (rc == RT_OK) rc = fl_u8(&p->c, "a stream handle's type", &type);
    if (rc != RT_OK || type == FL_H_NULL) return rc;
    if (type != FL_H_FILE_STREAM && type != FL_H_BYTE_STREAM && type != FL_H_RELATIVE_STREAM &&
        type != FL_H_KEY_GROUPS && type != FL_H_SEGMENT_FILE && type != FL_H_EMPTY_SEGMENT_FILE)
        return unsupported(p, at, "not a StreamStateHandle", type);
    fl_stream *s = new_stream(p, type, at);
    if (s == NULL) return p->c.failed;
    *out = s;
    switch (type) {
    case FL_H_FILE_STREAM:
        s->kind = FL_PATH_ABSOLUTE;
        rc = fl_i64(&p->c, "a file handle's size", &s->size);
        if (rc == RT_OK) rc = fl_utf(&p->c, "a file handle's path", &s->path);
        return rc;
    case FL_H_BYTE_STREAM: {
        s->kind = FL_PATH_INLINED;
        rc = fl_utf(&p->c, "an inlined handle's name", &s->path);
        if (rc == RT_OK) rc = fl_count(&p->c, "an inlined handle's byte count", 1, &s->n_bytes);
        if (rc == RT_OK) rc = fl_bytes(&p->c, "inlined state", s->n_bytes, &s->bytes);
        s->size = s->n_bytes;
        return rc;
    }
    case FL_H_RELATIVE_STREAM:
        s->kind = FL_PATH_RELATIVE;
        rc = fl_utf(&p->c, "a relative handle's path", &s->path);
        if (rc == RT_OK) rc = fl_i64(&p->c, "a relative handle's size", &s->size);
        return rc;
    case FL_H_KEY_GROUPS:
        s->nested = fl_alloc(&p->c, sizeof *s->nested);
        if (s->nested == NULL) return p->c.failed;
        return read_key_groups_body(p, depth + 1, FL_H_KEY_GROUPS, s->nested);
    case FL_H_SEGMENT_FILE: {
        s->kind = FL_PATH_ABSOLUTE;
        int32_t scope = 0;
        rc = fl_i64(&p->c, "a segment's start", &s->segment_start);
        if (rc == RT_OK) rc = fl_i64(&p->c, "a segment's size", &s->size);
        if (rc == RT_OK) rc = fl_i32(&p->c, "a segment's scope", &scope);
        if (rc == RT_OK && (scope < 0 || scope > 1))
            return fl_fail(&p->c, RT_EFORMAT, "offset %zu: segment scope %d is not EXCLUSIVE or SHARED",
                           p->c.pos - 4, (int)scope);
        s->segment_scope = scope;
        if (rc == RT_OK) rc = fl_utf(&p->c, "a segment's file path", &s->path);
        if (rc == RT_OK) rc = fl_utf(&p->c, "a segment's logical file id", &s->logical_file);
        return rc;
    }
    default: /* FL_H_EMPTY_SEGMENT_FILE: the singleton, nothing stored */
        s->size = 0;
        return RT_OK;
    }
}

/* KEY_GROUPS_HANDLE, KEY_GROUPS_HANDLE_V2, SAVEPOINT_KEY_GROUPS_HANDLE:
 * the range, one offset per key group, the stream, and (v2) the id. */
static rt_err read_key_groups_body(parser *p, int depth, int type, fl_keyed *k) {
    k->type = type;
    rt_err rc = too_deep(p, depth);
    size_t at = p->c.pos;
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group range start", &k->kg_start);
    if (rc == RT_OK) rc = fl_count(&p->c, "a key-group count", 8, &k->n_offsets);
    if (rc != RT_OK) return rc;
    if (k->kg_start < 0)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: key-group range starts at %d", at, (int)k->kg_start);
    k->kg_count = (int32_t)k->n_offsets;
    const uint8_t *offsets = NULL;
    rc = fl_bytes(&p->c, "key-group offsets", (size_t)k->n_offsets * 8, &offsets);
    if (rc == RT_OK) rc = read_stream(p, depth + 1, &k->delegate);
    if (rc == RT_OK && type == FL_H_KEY_GROUPS_V2) rc = fl_utf(&p->c, "a state handle id", &k->state_handle_id);
    return rc;
}

/* deserializeHandleAndLocalPathList: a local name and a stream handle each. */
static rt_err read_local_list(parser *p, int depth, const char *what, uint32_t *n, fl_local_handle **out) {
    const char *saved_role = p->role;
    rt_err rc = fl_count(&p->c, what, 3, n);
    if (rc != RT_OK) return rc;
    *out = fl_alloc(&p->c, (size_t)(*n ? *n : 1) * sizeof **out);
    const char *role = sub_role(p, what);
    if (*out == NULL || role == NULL) return p->c.failed;
    p->role = role;
    for (uint32_t i = 0; i < *n && rc == RT_OK; i++) {
        rc = fl_utf(&p->c, "a local file name", &(*out)[i].local_path);
        p->local_path = (*out)[i].local_path;
        if (rc == RT_OK) rc = read_stream(p, depth + 1, &(*out)[i].handle);
        p->local_path = NULL;
    }
    p->role = saved_role;
    return rc;
}

/* deserializeIncrementalStateHandle */
static rt_err read_incremental(parser *p, int depth, int type, fl_keyed *k) {
    int v2 = type == FL_H_INCREMENTAL_V2;
    k->checkpointed_size = -1;
    rt_err rc = fl_i64(&p->c, "an incremental handle's checkpoint id", &k->checkpoint_id);
    if (rc == RT_OK) rc = fl_utf(&p->c, "a backend id", &k->backend_id);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group range start", &k->kg_start);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group count", &k->kg_count);
    if (rc == RT_OK && v2) rc = fl_i64(&p->c, "a checkpointed size", &k->checkpointed_size);
    const char *saved_role = p->role;
    const char *meta_role = rc == RT_OK ? sub_role(p, "meta") : NULL;
    if (rc == RT_OK && meta_role == NULL) rc = p->c.failed;
    p->role = meta_role;
    if (rc == RT_OK) rc = read_stream(p, depth + 1, &k->meta);
    p->role = saved_role;
    if (rc == RT_OK) rc = read_local_list(p, depth, "shared", &k->n_shared, &k->shared);
    if (rc == RT_OK) rc = read_local_list(p, depth, "private", &k->n_private, &k->private_state);
    if (rc == RT_OK && v2) rc = fl_utf(&p->c, "a state handle id", &k->state_handle_id);
    return rc;
}

static rt_err read_keyed_list(parser *p, int depth, const char *what, uint32_t *n, fl_keyed ***out) {
    rt_err rc = fl_count(&p->c, what, 1, n);
    if (rc != RT_OK) return rc;
    *out = fl_alloc(&p->c, (size_t)(*n ? *n : 1) * sizeof **out);
    if (*out == NULL) return p->c.failed;
    for (uint32_t i = 0; i < *n && rc == RT_OK; i++) rc = read_keyed(p, depth + 1, &(*out)[i]);
    return rc;
}

/* CHANGELOG_HANDLE(_V2): a ChangelogStateBackendHandle nests keyed handles. */
static rt_err read_changelog(parser *p, int depth, int type, fl_keyed *k) {
    int64_t checkpointed = 0;
    rt_err rc = fl_i32(&p->c, "a key-group range start", &k->kg_start);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group count", &k->kg_count);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a checkpointed size", &checkpointed);
    k->checkpointed_size = checkpointed;
    if (rc == RT_OK) rc = read_keyed_list(p, depth, "materialized handles", &k->n_base, &k->base);
    if (rc == RT_OK) rc = read_keyed_list(p, depth, "non-materialized handles", &k->n_delta, &k->delta);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a materialization id", &k->materialization_id);
    k->checkpoint_id = k->materialization_id;
    if (rc == RT_OK && type == FL_H_CHANGELOG_V2) rc = fl_i64(&p->c, "a checkpoint id", &k->checkpoint_id);
    if (rc == RT_OK) rc = fl_utf(&p->c, "a state handle id", &k->state_handle_id);
    return rc;
}

/* CHANGELOG_BYTE_INCREMENT_HANDLE: state changes inlined. */
static rt_err read_changelog_bytes(parser *p, fl_keyed *k) {
    rt_err rc = fl_i32(&p->c, "a key-group range start", &k->kg_start);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group count", &k->kg_count);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a sequence number", &k->seq_from);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a sequence number", &k->seq_to);
    if (rc == RT_OK) rc = fl_count(&p->c, "a state change count", 8, &k->n_changes);
    for (uint32_t i = 0; i < k->n_changes && rc == RT_OK; i++) {
        int32_t key_group = 0;
        uint32_t n = 0;
        const uint8_t *bytes = NULL;
        rc = fl_i32(&p->c, "a state change's key group", &key_group);
        if (rc == RT_OK) rc = fl_count(&p->c, "a state change's length", 1, &n);
        if (rc == RT_OK) rc = fl_bytes(&p->c, "a state change", n, &bytes);
    }
    if (rc == RT_OK) rc = fl_utf(&p->c, "a state handle id", &k->state_handle_id);
    return rc;
}

/* CHANGELOG_FILE_INCREMENT_HANDLE(_V2): (offset, stream handle) pairs. */
static rt_err read_changelog_file(parser *p, int depth, int type, fl_keyed *k) {
    rt_err rc = fl_i32(&p->c, "a key-group range start", &k->kg_start);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a key-group count", &k->kg_count);
    if (rc == RT_OK) rc = fl_count(&p->c, "a changelog handle count", 9, &k->n_handles);
    if (rc != RT_OK) return rc;
    k->handles = fl_alloc(&p->c, (size_t)(k->n_handles ? k->n_handles : 1) * sizeof *k->handles);
    if (k->handles == NULL) return p->c.failed;
    for (uint32_t i = 0; i < k->n_handles && rc == RT_OK; i++) {
        int64_t offset = 0;
        rc = fl_i64(&p->c, "a changelog offset", &offset);
        if (rc == RT_OK) rc = read_stream(p, depth + 1, &k->handles[i]);
    }
    int64_t size = 0;
    if (rc == RT_OK) rc = fl_i64(&p->c, "a changelog size", &size);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a checkpointed size", &k->checkpointed_size);
    if (rc == RT_OK) rc = fl_utf(&p->c, "a state handle id", &k->state_handle_id);
    if (rc == RT_OK && type == FL_H_CHANGELOG_FILE_V2) rc = fl_utf(&p->c, "a storage identifier", &k->storage_id);
    return rc;
}

/* deserializeKeyedStateHandle: the type is read with readByte(), signed. */
static rt_err read_keyed(parser *p, int depth, fl_keyed **out) {
    *out = NULL;
    size_t at = p->c.pos;
    int8_t type = 0;
    rt_err rc = too_deep(p, depth);
    if (rc == RT_OK) rc = fl_i8(&p->c, "a keyed handle's type", &type);
    if (rc != RT_OK || type == FL_H_NULL) return rc;
    int known = type == FL_H_KEY_GROUPS || type == FL_H_KEY_GROUPS_V2 || type == FL_H_SAVEPOINT_KEY_GROUPS ||
                type == FL_H_INCREMENTAL || type == FL_H_INCREMENTAL_V2 || type == FL_H_CHANGELOG ||
                type == FL_H_CHANGELOG_V2 || type == FL_H_CHANGELOG_BYTES || type == FL_H_CHANGELOG_FILE ||
                type == FL_H_CHANGELOG_FILE_V2;
    if (!known) return unsupported(p, at, "not a KeyedStateHandle", type);
    fl_keyed *k = fl_alloc(&p->c, sizeof *k);
    if (k == NULL) return p->c.failed;
    k->type = type;
    k->offset = at;
    k->checkpointed_size = -1;
    *out = k;
    switch (type) {
    case FL_H_INCREMENTAL:
    case FL_H_INCREMENTAL_V2: return read_incremental(p, depth, type, k);
    case FL_H_CHANGELOG:
    case FL_H_CHANGELOG_V2: return read_changelog(p, depth, type, k);
    case FL_H_CHANGELOG_BYTES: return read_changelog_bytes(p, k);
    case FL_H_CHANGELOG_FILE:
    case FL_H_CHANGELOG_FILE_V2: return read_changelog_file(p, depth, type, k);
    default: return read_key_groups_body(p, depth, type, k);
    }
}

/* deserializeOperatorStateHandle: a state-name -> (mode, offsets) map,
 * then (file merging) two directories and a flag, then the stream. */
static rt_err read_op_state(parser *p, fl_op_state **out) {
    *out = NULL;
    size_t at = p->c.pos;
    int8_t type = 0;
    rt_err rc = fl_i8(&p->c, "an operator handle's type", &type);
    if (rc != RT_OK || type == FL_H_NULL) return rc;
    if (type != FL_H_PARTITIONABLE_OP && type != FL_H_SEGMENT_PARTITIONABLE_OP)
        return unsupported(p, at, "not an OperatorStateHandle", type);
    fl_op_state *o = fl_alloc(&p->c, sizeof *o);
    if (o == NULL) return p->c.failed;
    o->type = type;
    *out = o;
    rc = fl_count(&p->c, "an operator state count", 7, &o->n_states);
    if (rc != RT_OK) return rc;
    o->states = fl_alloc(&p->c, (size_t)(o->n_states ? o->n_states : 1) * sizeof *o->states);
    if (o->states == NULL) return p->c.failed;
    for (uint32_t i = 0; i < o->n_states && rc == RT_OK; i++) {
        fl_op_state_entry *s = &o->states[i];
        int8_t mode = 0;
        const uint8_t *offsets = NULL;
        rc = fl_utf(&p->c, "an operator state name", &s->name);
        if (rc == RT_OK) rc = fl_i8(&p->c, "a distribution mode", &mode);
        if (rc == RT_OK && (mode < 0 || mode > 2)) /* OperatorStateHandle.Mode.values()[mode] */
            return fl_fail(&p->c, RT_EFORMAT, "offset %zu: distribution mode %d is not SPLIT_DISTRIBUTE, "
                           "UNION or BROADCAST", p->c.pos - 1, (int)mode);
        s->mode = mode;
        if (rc == RT_OK) rc = fl_count(&p->c, "an operator state's offset count", 8, &s->n_offsets);
        if (rc == RT_OK) rc = fl_bytes(&p->c, "operator state offsets", (size_t)s->n_offsets * 8, &offsets);
    }
    if (rc == RT_OK && type == FL_H_SEGMENT_PARTITIONABLE_OP) {
        rc = fl_utf(&p->c, "a task-owned directory", &o->taskowned_dir);
        if (rc == RT_OK) rc = fl_utf(&p->c, "a shared directory", &o->shared_dir);
        if (rc == RT_OK) rc = fl_bool(&p->c, "an empty flag", &o->empty);
    }
    if (rc == RT_OK) rc = read_stream(p, 1, &o->delegate);
    return rc;
}

/* ChannelStateHandleSerializerV1.deserializeChannelStateHandle */
static rt_err read_channel_body(parser *p, fl_channel *ch) {
    const uint8_t *offsets = NULL;
    rt_err rc = fl_i32(&p->c, "a channel handle's subtask", &ch->subtask);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a channel's gate or partition", &ch->info_a);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a channel's index", &ch->info_b);
    if (rc == RT_OK) rc = fl_count(&p->c, "a channel handle's offset count", 8, &ch->n_offsets);
    if (rc == RT_OK) rc = fl_bytes(&p->c, "channel offsets", (size_t)ch->n_offsets * 8, &offsets);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a channel handle's size", &ch->size);
    if (rc == RT_OK) rc = read_stream(p, 1, &ch->delegate);
    return rc;
}

/* ChannelStateHandleSerializerV2.deserializeMergedChannelStateHandle */
static rt_err read_merged_channel(parser *p, fl_channel *ch) {
    const uint8_t *offsets = NULL;
    ch->merged = 1;
    ch->info_a = ch->info_b = -1;
    rt_err rc = fl_i32(&p->c, "a merged channel handle's subtask", &ch->subtask);
    if (rc == RT_OK) rc = fl_i64(&p->c, "a merged channel handle's size", &ch->size);
    if (rc == RT_OK) rc = read_stream(p, 1, &ch->delegate);
    if (rc == RT_OK) rc = fl_count(&p->c, "a merged handle's offsets length", 1, &ch->n_offsets);
    if (rc == RT_OK) rc = fl_bytes(&p->c, "serialized channel offsets", ch->n_offsets, &offsets);
    return rc;
}

/* One channel handle: V1 has no type byte; V2 types 1/3 (input) and 2/4
 * (output), read with read(). */
static rt_err read_channel(parser *p, int input, fl_channel *ch) {
    ch->input = input;
    p->m->n_channel_handles++;
    if (!p->v->channel_v2) return read_channel_body(p, ch);
    size_t at = p->c.pos;
    uint8_t type = 0;
    rt_err rc = fl_u8(&p->c, "a channel handle's type", &type);
    if (rc != RT_OK) return rc;
    if (type == (input ? 1 : 2)) return read_channel_body(p, ch);
    if (type == (input ? 3 : 4)) return read_merged_channel(p, ch);
    return fl_fail(&p->c, RT_EFORMAT, "unsupported handle type %d at offset %zu (not an %s channel state handle)",
                   type, at, input ? "input" : "output");
}

static rt_err read_channels(parser *p, int input, uint32_t *n, fl_channel **out) {
    const char *saved = p->role;
    rt_err rc = fl_count(&p->c, input ? "an input channel handle count" : "an output channel handle count", 1, n);
    if (rc != RT_OK) return rc;
    *out = fl_alloc(&p->c, (size_t)(*n ? *n : 1) * sizeof **out);
    if (*out == NULL) return p->c.failed;
    p->role = input ? "channel input" : "channel output";
    for (uint32_t i = 0; i < *n && rc == RT_OK; i++) rc = read_channel(p, input, &(*out)[i]);
    p->role = saved;
    return rc;
}

/* deserializeSubtaskState (base) and its channel-state collections (V3+). */
static rt_err read_subtask_state(parser *p, fl_subtask *st) {
    int32_t has = 0;
    rt_err rc = fl_i32(&p->c, "a managed operator state flag", &has);
    p->role = "managed operator";
    if (rc == RT_OK && has != 0) rc = read_op_state(p, &st->managed_op);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a raw operator state flag", &has);
    p->role = "raw operator";
    if (rc == RT_OK && has != 0) rc = read_op_state(p, &st->raw_op);
    p->role = "managed keyed";
    if (rc == RT_OK) rc = read_keyed(p, 1, &st->managed_keyed);
    p->role = "raw keyed";
    if (rc == RT_OK) rc = read_keyed(p, 1, &st->raw_keyed);
    if (rc == RT_OK) rc = read_channels(p, 1, &st->n_input, &st->input);
    if (rc == RT_OK) rc = read_channels(p, 0, &st->n_output, &st->output);
    return rc;
}

static void hex_id(const uint8_t *b, char out[33]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[32] = '\0';
}

static rt_err read_subtasks(parser *p, fl_operator *op) {
    rt_err rc = RT_OK;
    op->subtasks = fl_alloc(&p->c, (size_t)(op->n_subtasks ? op->n_subtasks : 1) * sizeof *op->subtasks);
    if (op->subtasks == NULL) return p->c.failed;
    for (uint32_t j = 0; j < op->n_subtasks && rc == RT_OK; j++) {
        fl_subtask *st = &op->subtasks[j];
        int32_t stored = 0;
        rc = fl_i32(&p->c, "a subtask index", &stored);
        if (rc != RT_OK) break;
        /* A finished subtask is stored as -(index + 1). */
        st->finished = stored < 0;
        st->index = stored < 0 ? (int32_t)(-(int64_t)stored - 1) : stored;
        p->subtask = st->index;
        if (!st->finished) rc = read_subtask_state(p, st);
    }
    p->subtask = -1;
    return rc;
}

/* MetadataV5Serializer / MetadataV3Serializer.deserializeOperatorState */
static rt_err read_operator(parser *p, fl_operator *op) {
    rt_err rc = RT_OK;
    if (p->v->has_name_uid) {
        rc = fl_utf(&p->c, "an operator name", &op->name);
        if (rc == RT_OK) rc = fl_utf(&p->c, "an operator uid", &op->uid);
        if (op->name && op->name[0] == '\0') op->name = NULL; /* "" stands for none */
        if (op->uid && op->uid[0] == '\0') op->uid = NULL;
    }
    const uint8_t *id = NULL;
    if (rc == RT_OK) rc = fl_bytes(&p->c, "an operator id", 16, &id);
    if (rc == RT_OK) hex_id(id, op->id);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a parallelism", &op->parallelism);
    if (rc == RT_OK) rc = fl_i32(&p->c, "a max parallelism", &op->max_parallelism);
    size_t at = p->c.pos;
    p->role = "coordinator";
    if (rc == RT_OK) rc = read_stream(p, 1, &op->coordinator);
    if (rc != RT_OK) return rc;
    if (op->coordinator != NULL && op->coordinator->type != FL_H_BYTE_STREAM)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: coordinator state must be a ByteStreamStateHandle, "
                       "found a %s", at, fl_handle_class(op->coordinator->type));
    at = p->c.pos;
    int32_t n = 0;
    rc = fl_i32(&p->c, "a subtask state count", &n);
    if (rc != RT_OK) return rc;
    if (n < 0) { /* FullyFinishedOperatorState */
        op->fully_finished = 1;
        if (op->coordinator != NULL)
            return fl_fail(&p->c, RT_EFORMAT, "offset %zu: a fully finished operator has coordinator state", at);
        return RT_OK;
    }
    if ((size_t)n > fl_left(&p->c) / 4)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: subtask state count %d is more than the %zu bytes left "
                       "can hold", at, (int)n, fl_left(&p->c));
    op->n_subtasks = (uint32_t)n;
    return read_subtasks(p, op);
}

/* deserializeMasterState: magic, length, then exactly that many bytes of
 * version, name and payload. */
static rt_err read_master(parser *p, fl_master *ms) {
    size_t at = p->c.pos;
    int32_t magic = 0;
    uint32_t n = 0;
    rt_err rc = fl_i32(&p->c, "a master state's magic number", &magic);
    if (rc == RT_OK && (uint32_t)magic != FL_MASTER_STATE_MAGIC)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: incorrect magic number 0x%08x in a master state "
                       "(expected 0x%08x)", at, (unsigned)magic, FL_MASTER_STATE_MAGIC);
    if (rc == RT_OK) rc = fl_count(&p->c, "a master state's length", 1, &n);
    if (rc == RT_OK && n == 0)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: zero length for master state bytes", p->c.pos - 4);
    if (rc != RT_OK) return rc;
    size_t end = p->c.pos + n, saved_len = p->c.len;
    p->c.len = end; /* the body may not read past its own length */
    const uint8_t *payload = NULL;
    rc = fl_i32(&p->c, "a master state's version", &ms->version);
    if (rc == RT_OK) rc = fl_utf(&p->c, "a master state's name", &ms->name);
    if (rc == RT_OK) rc = fl_count(&p->c, "a master state's payload length", 1, &ms->n_bytes);
    if (rc == RT_OK) rc = fl_bytes(&p->c, "a master state's payload", ms->n_bytes, &payload);
    if (rc == RT_OK && p->c.pos != end)
        rc = fl_fail(&p->c, RT_EFORMAT, "offset %zu: found trailing bytes in master state", p->c.pos);
    p->c.len = saved_len;
    return rc;
}

static int prop_bool(const fl_jobject *o, const char *name) {
    const char *v = fl_jser_get(o, name);
    return v == NULL ? -1 : strcmp(v, "true") == 0;
}

/* MetadataV4Serializer.deserializeProperties: one Java-serialized
 * CheckpointProperties (fields: checkpointType, forced, discard*,
 * unclaimed; checkpointType a SavepointType (name, postCheckpointAction,
 * formatType) or CheckpointType (name, sharingFilesStrategy)). */
static rt_err read_props(parser *p) {
    fl_props *pr = &p->m->props;
    size_t at = p->c.pos;
    rt_err rc = fl_jser_read(&p->c, &pr->raw);
    if (rc != RT_OK) return rc;
    const char *cls = fl_jser_get(&pr->raw, "");
    char shown[160];
    if (cls == NULL || strcmp(cls, "org.apache.flink.runtime.checkpoint.CheckpointProperties") != 0)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: checkpoint properties hold a %s, not a CheckpointProperties",
                       at, fl_printable(cls ? cls : "(nothing)", shown, sizeof shown));
    pr->present = 1;
    pr->snapshot_class = fl_jser_get(&pr->raw, "checkpointType");
    const char *dot = pr->snapshot_class ? strrchr(pr->snapshot_class, '.') : NULL;
    pr->savepoint = dot != NULL && strcmp(dot, ".SavepointType") == 0;
    pr->type_name = fl_jser_get(&pr->raw, "checkpointType.name");
    pr->format_type = fl_jser_get(&pr->raw, "checkpointType.formatType");
    pr->post_action = fl_jser_get(&pr->raw, "checkpointType.postCheckpointAction");
    pr->sharing = fl_jser_get(&pr->raw, "checkpointType.sharingFilesStrategy");
    pr->forced = prop_bool(&pr->raw, "forced");
    pr->discard_subsumed = prop_bool(&pr->raw, "discardSubsumed");
    pr->discard_finished = prop_bool(&pr->raw, "discardFinished");
    pr->discard_cancelled = prop_bool(&pr->raw, "discardCancelled");
    pr->discard_failed = prop_bool(&pr->raw, "discardFailed");
    pr->discard_suspended = prop_bool(&pr->raw, "discardSuspended");
    pr->unclaimed = prop_bool(&pr->raw, "unclaimed");
    return RT_OK;
}

static rt_err read_header(parser *p) {
    int32_t magic = 0, version = 0;
    rt_err rc = fl_i32(&p->c, "the magic number", &magic);
    if (rc != RT_OK) return rc;
    if ((uint32_t)magic != FL_MAGIC)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: not a Flink _metadata file (magic number 0x%08x, "
                       "expected 0x%08x)", (size_t)0, (unsigned)magic, FL_MAGIC);
    rc = fl_i32(&p->c, "the metadata version", &version);
    if (rc != RT_OK) return rc;
    p->m->version = version;
    p->v = fl_meta_version(version);
    if (p->v == NULL)
        return fl_fail(&p->c, RT_EVERSION, "_metadata version %d is not supported (supported: %s)", (int)version,
                       fl_meta_versions_list());
    return RT_OK;
}

static rt_err read_body(parser *p) {
    fl_meta *m = p->m;
    size_t at = p->c.pos;
    rt_err rc = fl_i64(&p->c, "the checkpoint id", &m->checkpoint_id);
    if (rc == RT_OK && m->checkpoint_id < 0)
        return fl_fail(&p->c, RT_EFORMAT, "offset %zu: invalid checkpoint id %" PRId64, at, m->checkpoint_id);
    if (rc == RT_OK) rc = fl_count(&p->c, "the master state count", 9, &m->n_masters);
    if (rc != RT_OK) return rc;
    m->masters = fl_alloc(&p->c, (size_t)(m->n_masters ? m->n_masters : 1) * sizeof *m->masters);
    if (m->masters == NULL) return p->c.failed;
    for (uint32_t i = 0; i < m->n_masters && rc == RT_OK; i++) rc = read_master(p, &m->masters[i]);
    size_t op_min = 16 + 4 + 4 + 1 + 4 + (p->v->has_name_uid ? 4 : 0);
    if (rc == RT_OK) rc = fl_count(&p->c, "the operator count", op_min, &m->n_ops);
    if (rc != RT_OK) return rc;
    m->ops = fl_alloc(&p->c, (size_t)(m->n_ops ? m->n_ops : 1) * sizeof *m->ops);
    if (m->ops == NULL) return p->c.failed;
    for (uint32_t i = 0; i < m->n_ops && rc == RT_OK; i++) {
        p->op = (int)i;
        rc = read_operator(p, &m->ops[i]);
    }
    p->op = -1;
    p->role = "checkpoint";
    if (rc == RT_OK && p->v->has_properties) rc = read_props(p);
    m->trailing_bytes = fl_left(&p->c);
    return rc;
}

int fl_meta_is_flink(const uint8_t *data, size_t len) {
    return data != NULL && len >= 4 &&
           ((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3]) == FL_MAGIC;
}

rt_err fl_meta_parse(fl_meta *m, const uint8_t *data, size_t len, const char *file, rt_error *e) {
    assert(m != NULL);
    memset(m, 0, sizeof *m);
    if (len > FL_METADATA_MAX_BYTES)
        return RT_FAIL(e, RT_EFORMAT, "%s: %zu bytes, more than the %u a _metadata file may have", file ? file : "_metadata",
                       len, FL_METADATA_MAX_BYTES);
    /* Every parsed element takes at least one byte of input and at most a
     * few hundred bytes of structs: the cap follows the input's size. */
    fl_arena_init(&m->arena, (size_t)256 * len + ((size_t)1 << 20));
    uint8_t *copy = fl_arena_alloc(&m->arena, len);
    if (copy == NULL) {
        fl_arena_free(&m->arena);
        return RT_FAIL(e, RT_ENOMEM, "%s: out of memory", file ? file : "_metadata");
    }
    if (len) memcpy(copy, data, len);
    m->file_bytes = len;
    parser p;
    memset(&p, 0, sizeof p);
    fl_cursor_init(&p.c, copy, len, file, &m->arena, e);
    p.m = m;
    p.op = p.subtask = -1;
    p.role = "checkpoint";
    p.tail = &m->streams;
    rt_err rc = read_header(&p);
    if (rc == RT_OK) rc = read_body(&p);
    if (rc != RT_OK) {
        assert(p.c.failed != RT_OK);
        fl_meta_free(m);
        return rc;
    }
    return RT_OK;
}

rt_err fl_meta_load(fl_meta *m, const char *path, rt_error *e) {
    FILE *in = fopen(path, "rb");
    if (in == NULL)
        return RT_FAIL(e, errno == ENOENT ? RT_ENOENT : RT_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(in);
        return RT_FAIL(e, RT_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > FL_METADATA_MAX_BYTES) {
        fclose(in);
        return RT_FAIL(e, RT_EFORMAT, "%s: %lld bytes, more than the %u a _metadata file may have", path,
                       (long long)st.st_size, FL_METADATA_MAX_BYTES);
    }
    size_t cap = (size_t)st.st_size;
    uint8_t *data = malloc(cap + 1);
    size_t len = data ? fread(data, 1, cap + 1, in) : 0;
    int err = ferror(in);
    fclose(in);
    rt_err rc;
    if (data == NULL) rc = RT_FAIL(e, RT_ENOMEM, "%s: out of memory", path);
    else if (err || len != cap) rc = RT_FAIL(e, RT_EIO, "%s: read error (the file changed while read)", path);
    else rc = fl_meta_parse(m, data, len, path, e);
    free(data);
    return rc;
}

void fl_meta_free(fl_meta *m) {
    if (m == NULL) return;
    fl_arena_free(&m->arena);
    memset(m, 0, sizeof *m);
}

static int each_keyed(const fl_operator *op, const fl_subtask *st, const fl_keyed *k, int depth,
                      int (*fn)(void *, const fl_operator *, const fl_subtask *, const fl_keyed *), void *ctx) {
    if (k == NULL || depth > FL_NEST_MAX + 1) return 0;
    int r = fn(ctx, op, st, k);
    for (uint32_t i = 0; r == 0 && i < k->n_base; i++) r = each_keyed(op, st, k->base[i], depth + 1, fn, ctx);
    for (uint32_t i = 0; r == 0 && i < k->n_delta; i++) r = each_keyed(op, st, k->delta[i], depth + 1, fn, ctx);
    if (r == 0 && k->delegate && k->delegate->nested)
        r = each_keyed(op, st, k->delegate->nested, depth + 1, fn, ctx);
    return r;
}

int fl_meta_each_keyed(const fl_meta *m, int (*fn)(void *ctx, const fl_operator *op, const fl_subtask *st,
                                                   const fl_keyed *k), void *ctx) {
    for (uint32_t o = 0; o < m->n_ops; o++)
        for (uint32_t s = 0; s < m->ops[o].n_subtasks; s++) {
            const fl_subtask *st = &m->ops[o].subtasks[s];
            int r = each_keyed(&m->ops[o], st, st->managed_keyed, 0, fn, ctx);
            if (r == 0) r = each_keyed(&m->ops[o], st, st->raw_keyed, 0, fn, ctx);
            if (r) return r;
        }
    return 0;
}
