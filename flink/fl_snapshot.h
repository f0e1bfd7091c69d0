/* fl_snapshot: a real Flink snapshot directory as a user has it: its
 * parsed _metadata and every file its handles name, resolved the way
 * Flink resolves them (a RelativeFileStateHandle against the directory
 * _metadata is read from, a FileStateHandle as written), with whether each
 * is there, its size, where it lies (inside the snapshot, in its job's
 * shared/ or taskowned/ directory, elsewhere), the SST format_version of
 * RocksDB files from their footers, and the problems a restore would meet.
 * Read-only: nothing is written and no path is followed beyond stat and
 * reading file heads and tails. */
#ifndef FL_SNAPSHOT_H
#define FL_SNAPSHOT_H

#include <limits.h>

#include "fl_meta.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Where a file lies. */
typedef enum {
    FL_LOC_INLINED, /* in _metadata */
    FL_LOC_INSIDE,  /* under the snapshot's directory */
    FL_LOC_JOB,     /* a checkpoint's own job: <job>/shared or <job>/taskowned */
    FL_LOC_OUTSIDE, /* elsewhere on the local file system */
    FL_LOC_REMOTE   /* another file system (s3://, hdfs://): not checked */
} fl_location;

const char *fl_location_name(fl_location l);

/* Problems, a bit set. */
enum {
    FL_PROB_MISSING = 1 << 0,           /* a local file that is not there */
    FL_PROB_SIZE = 1 << 1,              /* there, but not the size recorded */
    FL_PROB_OUTSIDE = 1 << 2,           /* outside the snapshot (and its job) */
    FL_PROB_ABSOLUTE_SAVEPOINT = 1 << 3, /* an absolute path in a savepoint */
    FL_PROB_OTHER_SNAPSHOT = 1 << 4,    /* a reference into another snapshot or job */
    FL_PROB_UNCHECKED = 1 << 5          /* on a file system this tool cannot see */
};
#define FL_PROB_KINDS 6
/* "missing", "size-mismatch", "outside", "absolute-in-savepoint",
 * "other-snapshot", "unchecked" for the bit `bit` (0..FL_PROB_KINDS-1). */
const char *fl_problem_name(int bit);

typedef struct fl_file {
    const fl_stream *h;
    fl_location location;
    char where[PATH_MAX];  /* the resolved local path ("" when inlined or remote) */
    int exists;            /* 1, 0, or -1 unknown (remote, inlined: 1) */
    int64_t actual_size;   /* -1 unknown */
    int problems;
    char other[PATH_MAX];  /* FL_PROB_OTHER_SNAPSHOT: the other snapshot or job directory */
    int sst;               /* the local name ends in .sst */
    int sst_format;        /* its footer's format_version, -1 unknown */
    char sst_error[RT_ERROR_MSG_MAX];
    int kryo;              /* the stream names a Kryo serializer (KryoSerializer...) */
    int first;             /* the first handle of this path (channel state shares files) */
} fl_file;

typedef struct fl_snapshot {
    char dir[PATH_MAX];     /* the snapshot's directory, real path */
    char job_dir[PATH_MAX]; /* a checkpoint's job directory (parent of chk-N), or "" */
    fl_meta meta;
    int savepoint;          /* 1, 0, or -1 when not known (V3 stores no properties) */
    const char *kind_from;  /* "checkpoint properties", "directory name", "handles" */
    const char *format;     /* "canonical", "native" or "unknown" */
    const char *backend;    /* what the handles say: "rocksdb", "heap or rocksdb", ... */
    int incremental;        /* a checkpoint reusing shared files */
    size_t n_files;
    fl_file *files;
    size_t n_kind[4];       /* per fl_path_kind */
    size_t n_problem[FL_PROB_KINDS];
    size_t n_sst;
    size_t n_kryo;
    int self_contained;     /* no absolute path: the directory can be moved */
} fl_snapshot;

/* Opens the snapshot in directory path (its _metadata must be Flink's
 * binary format: fl_meta_is_flink). */
rt_err fl_snapshot_open(fl_snapshot *s, const char *path, rt_error *e);
void fl_snapshot_close(fl_snapshot *s);
/* Whether dir/_metadata starts with Flink's magic number. */
int fl_snapshot_is_flink(const char *dir);

#endif
