/* fl_jser: reads the one object Java serialization wrote with
 * ObjectOutputStream.writeObject (the Object Serialization Stream Protocol:
 * magic 0xACED, version 5, then TC_OBJECT with its class descriptors), as
 * MetadataV4Serializer appends CheckpointProperties to _metadata. No class
 * is instantiated and no code runs: the object becomes a flat list of
 * (field path, value) pairs, e.g. "checkpointType" = the class name
 * "org.apache.flink.runtime.checkpoint.SavepointType",
 * "checkpointType.formatType" = "NATIVE" (an enum constant), "forced" =
 * "false". Bounded: nesting, handles, fields and pairs each have a cap, and
 * anything the grammar allows but this reader does not follow (custom
 * externalizable data, TC_RESET, TC_EXCEPTION) is a named error. */
#ifndef FL_JSER_H
#define FL_JSER_H

#include "fl_cursor.h"

#define FL_JSER_PAIRS_MAX 64
#define FL_JSER_DEPTH_MAX 12

typedef struct fl_jpair {
    const char *path;  /* "" for the object itself: its value is its class */
    const char *value; /* a string, an enum constant, a class name, "true", "12", "null" */
} fl_jpair;

typedef struct fl_jobject {
    int n_pairs;
    fl_jpair pairs[FL_JSER_PAIRS_MAX];
} fl_jobject;

/* Reads the stream header and one object at the cursor. */
rt_err fl_jser_read(fl_cursor *c, fl_jobject *out);
/* The value at path, or NULL. */
const char *fl_jser_get(const fl_jobject *o, const char *path);

#endif
