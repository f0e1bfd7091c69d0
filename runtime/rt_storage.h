/* rt_storage: the snapshot storage. One interface (put/get/list/delete/
 * rename) over two implementations, a sandboxed directory tree and an
 * in-memory tree, both behind the same fault hooks.
 *
 * Paths are always relative to the store's root, '/'-separated, with no
 * empty, "." or ".." component; anything else (absolute paths, "..",
 * symlinks met on the way in a directory store) is refused with
 * RT_ESANDBOX before any I/O is done. */
#ifndef RT_STORAGE_H
#define RT_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "rt_prng.h"

typedef enum {
    RT_OP_PUT,
    RT_OP_GET,
    RT_OP_LIST,
    RT_OP_DELETE,
    RT_OP_RENAME,
    RT_OP_COUNT
} rt_store_op;

typedef enum {
    RT_FAULT_NONE,
    RT_FAULT_EIO,     /* the call fails with RT_EIO, nothing changes */
    RT_FAULT_NOSPACE, /* put fails with RT_ENOSPC, nothing stored */
    RT_FAULT_TORN,    /* put reports success but only a prefix is stored */
    RT_FAULT_BITFLIP, /* put succeeds, then one bit of the stored file flips */
    RT_FAULT_LOST,    /* put reports success but the file never appears */
    RT_FAULT_SLOW,    /* the call succeeds after arg virtual milliseconds */
    RT_FAULT_KIND_COUNT
} rt_fault_kind;

const char *rt_fault_kind_name(rt_fault_kind k);
const char *rt_store_op_name(rt_store_op op);

/* Fires on the nth call (1-based) of op, counted from when the plan was
 * installed; once, or on every call from then on when persistent. A
 * non-empty path_prefix restricts the fault (and its counting) to paths
 * starting with it. arg: byte offset for a bit flip, kept length for a torn
 * write (both taken modulo the length), delay for a slow call. */
typedef struct rt_fault {
    rt_store_op op;
    uint64_t nth;
    rt_fault_kind kind;
    int persistent;
    uint64_t arg;
    char path_prefix[64];
} rt_fault;

#define RT_FAULT_PLAN_MAX 32

typedef struct rt_fault_plan {
    rt_fault faults[RT_FAULT_PLAN_MAX];
    int n;
} rt_fault_plan;

/* Swarm testing: the seed also draws which fault kinds are on and how many
 * faults of each, so some plans hammer one kind and others hold none.
 * max_faults bounds the plan; ops_horizon bounds nth. */
void rt_fault_plan_draw(rt_fault_plan *plan, rt_prng *prng, int max_faults, uint64_t ops_horizon);
/* One line per fault, e.g. "put#3 bitflip arg=17", for traces and replay. */
void rt_fault_plan_describe(const rt_fault_plan *plan, char *buf, size_t cap);

/* What happened when a fault fired: the storage tells its user, which
 * traces it. The store keeps the latest RT_FAULT_EVENTS_MAX of them (a
 * persistent fault may fire on hundreds of calls of one step). */
#define RT_FAULT_EVENTS_MAX 1024
typedef struct rt_fault_event {
    rt_store_op op;
    rt_fault_kind kind;
    char path[256];
} rt_fault_event;

typedef struct rt_store rt_store;

typedef struct rt_store_stats {
    uint64_t ops[RT_OP_COUNT];
    uint64_t files_written;
    uint64_t bytes_written;
    uint64_t faults_fired;
    uint64_t fault_events_dropped; /* fired faults pushed out of the full ring */
    uint64_t slow_ms; /* accumulated virtual delay from SLOW faults */
    uint64_t damaged_reads;        /* gets that returned a damaged file's bytes */
    char last_damaged_read[256];   /* the path of the latest of them */
} rt_store_stats;

/* A directory store rooted at root (made absolute and canonical). With
 * create, the root directory is made if missing; otherwise a missing root
 * is RT_ENOENT. */
rt_err rt_store_open_dir(rt_store **out, const char *root, int create, rt_error *e);
/* An in-memory store; its root reads "mem://<name>". */
rt_err rt_store_open_mem(rt_store **out, const char *name, rt_error *e);
void rt_store_close(rt_store *s);

/* The absolute root: a canonical filesystem path or "mem://name". */
const char *rt_store_root(const rt_store *s);
int rt_store_is_mem(const rt_store *s);

/* Checks a relative path against the sandbox rules (no I/O). */
rt_err rt_store_check_path(const char *path, rt_error *e);

/* Writes the whole file, replacing any old one (parents are created). */
rt_err rt_store_put(rt_store *s, const char *path, const void *data, size_t len, rt_error *e);
/* Reads the whole file into a malloc'd buffer (caller frees). */
rt_err rt_store_get(rt_store *s, const char *path, uint8_t **data, size_t *len, rt_error *e);
/* 1 if a regular file exists at path, 0 if not (no fault hooks). */
int rt_store_exists(rt_store *s, const char *path);
/* Size of the file, or RT_ENOENT. */
rt_err rt_store_size(rt_store *s, const char *path, uint64_t *size, rt_error *e);

typedef struct rt_strlist {
    char **items;
    size_t len, cap;
} rt_strlist;
void rt_strlist_free(rt_strlist *l);
int rt_strlist_push(rt_strlist *l, const char *s);
void rt_strlist_sort(rt_strlist *l);

/* Every regular file under dir ("" = the whole store), recursively, as
 * paths relative to the root, sorted bytewise. A missing dir lists nothing. */
rt_err rt_store_list(rt_store *s, const char *dir, rt_strlist *out, rt_error *e);
/* Deletes one file; a missing file is RT_ENOENT. */
rt_err rt_store_delete(rt_store *s, const char *path, rt_error *e);
/* Deletes every file under dir and the directories themselves. */
rt_err rt_store_delete_tree(rt_store *s, const char *dir, rt_error *e);
/* Renames a file or a whole directory; the target must not exist. */
rt_err rt_store_rename(rt_store *s, const char *from, const char *to, rt_error *e);

/* Turns an absolute location (root + "/" + rel) back into rel; a location
 * outside this store's root is RT_ESANDBOX. */
rt_err rt_store_relativize(const rt_store *s, const char *abs, char *rel, size_t cap, rt_error *e);
/* root + "/" + rel into buf. */
void rt_store_absolute(const rt_store *s, const char *rel, char *buf, size_t cap);

/* Installs a fault plan (copied; counters restart) or clears it (NULL). */
void rt_store_set_faults(rt_store *s, const rt_fault_plan *plan);
/* Suspends the installed plan (non-zero) or lets it act again (0): while
 * suspended no call counts toward a fault, none fires, stats.ops stays.
 * Returns the previous state. For a harness reading what the job wrote. */
int rt_store_suspend_faults(rt_store *s, int suspend);
/* 1 if the file at path holds bytes other than the put acknowledged (torn,
 * flipped), or is gone although acknowledged (lost), or was marked; 0 once
 * a clean put, a delete or a delete_tree has replaced or removed it. */
int rt_store_is_damaged(const rt_store *s, const char *path);
/* A harness damaged path on purpose: remember it as damaged. 0, or -1 when
 * out of memory. */
int rt_store_mark_damaged(rt_store *s, const char *path);
/* The faults fired since the last call, oldest first; returns how many
 * were copied (at most cap). */
size_t rt_store_drain_fault_events(rt_store *s, rt_fault_event *out, size_t cap);
const rt_store_stats *rt_store_get_stats(const rt_store *s);

#endif
