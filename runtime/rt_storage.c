/* rt_storage: the snapshot storage (a sandboxed directory tree or an
 * in-memory tree) behind one interface, with injectable faults.
 *
 * THE FAULT MODEL
 *
 * What is modelled is the storage as a checkpointing job sees it through
 * put/get/list/delete/rename: a remote file system or object store that can
 * refuse a call, run out of space, lose or damage what it acknowledged, or
 * be slow. Power loss of the machine running the store is not modelled: a
 * directory-store put writes a temporary file in the target's directory and
 * rename(2)s it into place (so a put that fails leaves the old file whole),
 * but nothing is fsync'd.
 *
 * Sandbox first. Every path is checked (rt_store_check_path, and in a
 * directory store an lstat of every existing component, refusing symlinks)
 * before anything else. A call refused by the sandbox never reaches the
 * storage: it is not counted in stats.ops and no fault counter moves.
 *
 * Counting. Each fault of the installed plan has its own counter, reset by
 * rt_store_set_faults. A call of op X bumps the counter of every fault on X
 * whose path_prefix is empty or a prefix of the call's path (the source
 * path for rename, the directory for list and delete_tree; delete_tree is a
 * DELETE call). A fault fires when its counter equals nth, or, if
 * persistent, on every call from the nth on. nth 0 never fires.
 * rt_store_exists and rt_store_size are neither faultable nor counted.
 *
 * What a fired fault does, by op:
 *
 *   kind      put                                  get        list/delete/rename
 *   eio       fails RT_EIO, nothing changes        fails EIO  fails RT_EIO
 *   nospace   fails RT_ENOSPC, nothing stored      fails EIO  fails RT_EIO
 *   torn      succeeds, stores the first arg%len   fails EIO  inert
 *             bytes (len 0: an empty file)
 *   bitflip   succeeds, stores all, then flips     fails EIO  inert
 *             bit arg%8 of byte (arg/8)%len
 *             (len 0: stores the empty file)
 *   lost      succeeds, stores nothing, and an     fails EIO  inert
 *             older file at the path is gone too
 *   slow      succeeds; stats.slow_ms += arg       same       same
 *
 * An inert fault counts calls but never fires (no event, no effect). When
 * several faults fire on one call, every slow one adds its delay and the
 * first other one in plan order decides the outcome; the rest of that call's
 * firings are dropped silently. A fault that fires with an effect is
 * appended to a ring of RT_FAULT_EVENTS_MAX events (the oldest is dropped
 * when full), drained by rt_store_drain_fault_events, and counted in
 * stats.faults_fired. A put whose outcome is reported as a success (also a
 * torn, flipped or lost one) counts in files_written, and bytes_written
 * grows by the length it was asked to write.
 *
 * The injected fault decides before the call looks at the stored files, so
 * an eio fault on get of a missing file is RT_EIO, not RT_ENOENT.
 *
 * Suspension. While faults are suspended (rt_store_suspend_faults) calls
 * reach the storage as if no plan were installed: no fault counts them, none
 * fires, and stats.ops does not move. It is how a harness reads what the job
 * wrote without changing what the job's own calls meet.
 *
 * Damage. The store remembers every path whose stored bytes differ from what
 * a put acknowledged: a torn or flipped put (of a non-empty file), a lost put,
 * or a path a harness damaged on purpose (rt_store_mark_damaged). A later put
 * that stores what it was given, a delete or a delete_tree forgets the mark;
 * a rename carries it along. A get that returns the bytes of a damaged file
 * counts in stats.damaged_reads (faults suspended or not), so a harness can
 * tell whether an operation that succeeded read damaged bytes.
 *
 * Both implementations share every rule above and every check on the
 * shape of the tree (a put onto a directory or below a file, a rename onto
 * an existing target or into itself), so they answer each call with the
 * same code. Error messages name the op and the root-relative path, never
 * the absolute root, so they are the same from run to run.
 */
#include "rt_storage.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RT_STORE_PATH_MAX 1024   /* a relative path is shorter than this */
#define RT_DAMAGED_MAX 4096      /* damaged paths tracked; beyond, the oldest is forgotten */
#define RT_MEM_FILES_MAX (1u << 20)
#define RT_WALK_DEPTH_MAX 512    /* a checked path has fewer components */
#define RT_TMP_TRIES_MAX 16
#define RT_MEM_NAME_MAX 200
#define RT_SLOW_MS_MAX 5000      /* drawn delays are in [1, this] */

typedef enum { NODE_NONE, NODE_FILE, NODE_DIR } node_kind;

typedef struct mem_file {
    char *path;
    uint8_t *data;
    size_t len;
} mem_file;

/* One implementation: leaves only, every rule lives in the common layer. */
typedef struct store_impl {
    rt_err (*guard)(rt_store *s, const char *rel, rt_error *e);
    rt_err (*stat)(rt_store *s, const char *rel, node_kind *kind, uint64_t *size, rt_error *e);
    rt_err (*put)(rt_store *s, const char *rel, const void *data, size_t len, rt_error *e);
    rt_err (*get)(rt_store *s, const char *rel, uint8_t **data, size_t *len, rt_error *e);
    rt_err (*list)(rt_store *s, const char *dir, rt_strlist *out, rt_error *e);
    rt_err (*del)(rt_store *s, const char *rel, rt_error *e);
    rt_err (*del_tree)(rt_store *s, const char *dir, rt_error *e);
    rt_err (*rename)(rt_store *s, const char *from, const char *to, rt_error *e);
    void (*close)(rt_store *s);
} store_impl;

struct rt_store {
    const store_impl *impl;
    char root[PATH_MAX];
    uint64_t tmp_seq;               /* directory store: temp file names */
    mem_file *files;                /* memory store: sorted by path */
    size_t files_len, files_cap;
    rt_fault_plan plan;
    uint64_t calls[RT_FAULT_PLAN_MAX]; /* per fault: matching calls so far */
    rt_fault_event events[RT_FAULT_EVENTS_MAX];
    size_t events_head, events_len;
    int suspended;      /* faults neither count nor fire (the harness reads) */
    rt_strlist damaged; /* paths whose stored bytes are not what was acknowledged */
    rt_store_stats stats;
};

/* ---- names ------------------------------------------------------------ */

static const char *const fault_kind_names[RT_FAULT_KIND_COUNT] = {
    [RT_FAULT_NONE] = "none",   [RT_FAULT_EIO] = "eio",         [RT_FAULT_NOSPACE] = "nospace",
    [RT_FAULT_TORN] = "torn",   [RT_FAULT_BITFLIP] = "bitflip", [RT_FAULT_LOST] = "lost",
    [RT_FAULT_SLOW] = "slow",
};

static const char *const op_names[RT_OP_COUNT] = {
    [RT_OP_PUT] = "put",       [RT_OP_GET] = "get",       [RT_OP_LIST] = "list",
    [RT_OP_DELETE] = "delete", [RT_OP_RENAME] = "rename",
};

const char *rt_fault_kind_name(rt_fault_kind k) {
    if ((unsigned)k >= RT_FAULT_KIND_COUNT) return "unknown";
    assert(fault_kind_names[k] != NULL);
    return fault_kind_names[k];
}

const char *rt_store_op_name(rt_store_op op) {
    if ((unsigned)op >= RT_OP_COUNT) return "unknown";
    assert(op_names[op] != NULL);
    return op_names[op];
}

/* ---- string lists ------------------------------------------------------ */

void rt_strlist_free(rt_strlist *l) {
    if (l == NULL) return;
    for (size_t i = 0; i < l->len; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

int rt_strlist_push(rt_strlist *l, const char *s) {
    assert(l != NULL);
    assert(s != NULL);
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **items = realloc(l->items, cap * sizeof *items);
        if (items == NULL) return -1;
        l->items = items;
        l->cap = cap;
    }
    char *copy = strdup(s);
    if (copy == NULL) return -1;
    l->items[l->len++] = copy;
    return 0;
}

static int strlist_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rt_strlist_sort(rt_strlist *l) {
    assert(l != NULL);
    if (l->len > 1) qsort(l->items, l->len, sizeof *l->items, strlist_cmp);
    assert(l->len < 2 || strcmp(l->items[0], l->items[l->len - 1]) <= 0);
}

/* ---- the sandbox -------------------------------------------------------- */

/* Why the component [c, c+n) is refused, or NULL. */
static const char *bad_component(const char *c, size_t n) {
    if (n == 0) return "empty component";
    if (n == 1 && c[0] == '.') return "\".\" component";
    if (n == 2 && c[0] == '.' && c[1] == '.') return "\"..\" component";
    return NULL;
}

static const char *path_problem(const char *path) {
    if (path[0] == '\0') return "empty path";
    if (strlen(path) >= RT_STORE_PATH_MAX) return "path too long";
    if (path[0] == '/') return "absolute path";
    if (strchr(path, '\\') != NULL) return "backslash in path";
    const char *c = path;
    for (;;) { /* bounded: each pass moves past one '/' */
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        const char *why = bad_component(c, n);
        if (why != NULL || slash == NULL) return why;
        c = slash + 1;
    }
}

rt_err rt_store_check_path(const char *path, rt_error *e) {
    if (path == NULL) return RT_FAIL(e, RT_ESANDBOX, "path escapes the sandbox: no path");
    const char *why = path_problem(path);
    if (why == NULL) return RT_OK;
    assert(why[0] != '\0');
    return RT_FAIL(e, RT_ESANDBOX, "path \"%.300s%s\" escapes the sandbox: %s", path,
                   strlen(path) > 300 ? "..." : "", why);
}

static int has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- faults ------------------------------------------------------------- */

typedef struct fault_hit {
    rt_fault_kind planned; /* the kind in the plan */
    rt_fault_kind effect;  /* what it does to this op (see the table above) */
    uint64_t arg;
} fault_hit;

static rt_fault_kind fault_effect(rt_store_op op, rt_fault_kind kind) {
    if (op == RT_OP_PUT || kind == RT_FAULT_SLOW || kind == RT_FAULT_NONE) return kind;
    if (op == RT_OP_GET) return RT_FAULT_EIO;
    if (kind == RT_FAULT_EIO || kind == RT_FAULT_NOSPACE) return RT_FAULT_EIO;
    return RT_FAULT_NONE; /* torn, bitflip, lost: inert off put and get */
}

static void fault_event_push(rt_store *s, rt_store_op op, rt_fault_kind kind, const char *path) {
    assert(s->events_len <= RT_FAULT_EVENTS_MAX);
    if (s->events_len == RT_FAULT_EVENTS_MAX) { /* drop the oldest */
        s->events_head = (s->events_head + 1) % RT_FAULT_EVENTS_MAX;
        s->events_len--;
        s->stats.fault_events_dropped++;
    }
    rt_fault_event *ev = &s->events[(s->events_head + s->events_len) % RT_FAULT_EVENTS_MAX];
    ev->op = op;
    ev->kind = kind;
    size_t n = strlen(path);
    if (n >= sizeof ev->path) n = sizeof ev->path - 1;
    memcpy(ev->path, path, n);
    ev->path[n] = '\0';
    s->events_len++;
    s->stats.faults_fired++;
}

static int fault_fires(rt_store *s, int i, rt_store_op op, const char *path) {
    const rt_fault *f = &s->plan.faults[i];
    if (f->op != op) return 0;
    if (f->path_prefix[0] != '\0' && !has_prefix(path, f->path_prefix)) return 0;
    uint64_t n = ++s->calls[i];
    assert(n > 0);
    return f->nth > 0 && (n == f->nth || (f->persistent && n > f->nth));
}

/* A call reaching the storage: counts it, lets every matching fault see it,
 * applies slow delays, and returns the one other fault that decides. */
static fault_hit call_begin(rt_store *s, rt_store_op op, const char *path) {
    assert((unsigned)op < RT_OP_COUNT);
    assert(s->plan.n >= 0);
    assert(s->plan.n <= RT_FAULT_PLAN_MAX);
    fault_hit hit = {RT_FAULT_NONE, RT_FAULT_NONE, 0};
    if (s->suspended) return hit; /* the harness's own call: not the job's */
    s->stats.ops[op]++;
    for (int i = 0; i < s->plan.n; i++) {
        if (!fault_fires(s, i, op, path)) continue;
        const rt_fault *f = &s->plan.faults[i];
        rt_fault_kind effect = fault_effect(op, f->kind);
        if (effect == RT_FAULT_SLOW) {
            s->stats.slow_ms += f->arg;
            fault_event_push(s, op, f->kind, path);
        } else if (effect != RT_FAULT_NONE && hit.effect == RT_FAULT_NONE) {
            hit = (fault_hit){f->kind, effect, f->arg};
            fault_event_push(s, op, f->kind, path);
        }
    }
    return hit;
}

/* The error of an eio or nospace outcome ("" is the root of the store). */
static rt_err fault_fail(rt_store_op op, const char *path, fault_hit hit, rt_error *e) {
    assert(hit.effect == RT_FAULT_EIO || hit.effect == RT_FAULT_NOSPACE);
    assert(hit.planned != RT_FAULT_NONE);
    if (path[0] == '\0') path = "(root)";
    int nospace = hit.effect == RT_FAULT_NOSPACE;
    const char *what = nospace ? "no space left" : "I/O error";
    if (hit.planned == hit.effect)
        return RT_FAIL(e, nospace ? RT_ENOSPC : RT_EIO, "%s %s: injected %s", rt_store_op_name(op),
                       path, what);
    return RT_FAIL(e, RT_EIO, "%s %s: injected %s (%s fault)", rt_store_op_name(op), path, what,
                   rt_fault_kind_name(hit.planned));
}

void rt_store_set_faults(rt_store *s, const rt_fault_plan *plan) {
    assert(s != NULL);
    memset(&s->plan, 0, sizeof s->plan);
    memset(s->calls, 0, sizeof s->calls);
    if (plan == NULL) return;
    assert(plan->n >= 0);
    assert(plan->n <= RT_FAULT_PLAN_MAX);
    s->plan = *plan;
    for (int i = 0; i < RT_FAULT_PLAN_MAX; i++) {
        char *p = s->plan.faults[i].path_prefix;
        p[sizeof s->plan.faults[i].path_prefix - 1] = '\0';
    }
}

int rt_store_suspend_faults(rt_store *s, int suspend) {
    assert(s != NULL);
    int was = s->suspended;
    s->suspended = suspend != 0;
    return was;
}

size_t rt_store_drain_fault_events(rt_store *s, rt_fault_event *out, size_t cap) {
    assert(s != NULL);
    assert(out != NULL || cap == 0);
    size_t n = s->events_len < cap ? s->events_len : cap;
    for (size_t i = 0; i < n; i++)
        out[i] = s->events[(s->events_head + i) % RT_FAULT_EVENTS_MAX];
    s->events_head = (s->events_head + n) % RT_FAULT_EVENTS_MAX;
    s->events_len -= n;
    return n;
}

const rt_store_stats *rt_store_get_stats(const rt_store *s) {
    assert(s != NULL);
    return &s->stats;
}

/* ---- damage: what the store holds is not what was acknowledged ----------- */

static int under_dir(const char *path, const char *dir) {
    size_t n = strlen(dir);
    if (n == 0) return 1;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static size_t damaged_find(const rt_store *s, const char *path) {
    for (size_t i = 0; i < s->damaged.len; i++)
        if (strcmp(s->damaged.items[i], path) == 0) return i;
    return SIZE_MAX;
}

static void damaged_remove_at(rt_store *s, size_t i) {
    assert(i < s->damaged.len);
    free(s->damaged.items[i]);
    /* Keeps the order of marking: the oldest is first. */
    memmove(&s->damaged.items[i], &s->damaged.items[i + 1], (s->damaged.len - i - 1) * sizeof *s->damaged.items);
    s->damaged.len--;
}

static void damaged_forget(rt_store *s, const char *path) {
    size_t i = damaged_find(s, path);
    if (i != SIZE_MAX) damaged_remove_at(s, i);
}

static void damaged_forget_under(rt_store *s, const char *dir) {
    for (size_t i = s->damaged.len; i-- > 0;)
        if (under_dir(s->damaged.items[i], dir)) damaged_remove_at(s, i);
}

static int damaged_mark(rt_store *s, const char *path) {
    if (damaged_find(s, path) != SIZE_MAX) return 0;
    if (s->damaged.len == RT_DAMAGED_MAX) damaged_remove_at(s, 0);
    return rt_strlist_push(&s->damaged, path);
}

/* A rename carries the marks of from (a file or a whole directory) to to. */
static void damaged_rename(rt_store *s, const char *from, const char *to) {
    size_t n = strlen(from);
    for (size_t i = 0; i < s->damaged.len; i++) {
        const char *p = s->damaged.items[i];
        if (!under_dir(p, from)) continue;
        char moved[RT_STORE_PATH_MAX * 2];
        snprintf(moved, sizeof moved, "%s%s", to, p + n);
        char *copy = strdup(moved);
        if (copy == NULL) continue; /* keeps the old name: a mark is never invented */
        free(s->damaged.items[i]);
        s->damaged.items[i] = copy;
    }
}

int rt_store_is_damaged(const rt_store *s, const char *path) {
    assert(s != NULL);
    assert(path != NULL);
    return damaged_find(s, path) != SIZE_MAX;
}

int rt_store_mark_damaged(rt_store *s, const char *path) {
    assert(s != NULL);
    assert(path != NULL);
    return damaged_mark(s, path);
}

/* ---- fault plans: drawing and describing -------------------------------- */

static int kind_put_only(rt_fault_kind k) {
    return k == RT_FAULT_TORN || k == RT_FAULT_BITFLIP || k == RT_FAULT_LOST ||
           k == RT_FAULT_NOSPACE;
}

static int kind_may_persist(rt_fault_kind k) {
    return k == RT_FAULT_EIO || k == RT_FAULT_NOSPACE || k == RT_FAULT_SLOW;
}

static int kind_has_arg(rt_fault_kind k) {
    return k == RT_FAULT_TORN || k == RT_FAULT_BITFLIP || k == RT_FAULT_SLOW;
}

static uint64_t draw_arg(rt_prng *p, rt_fault_kind k) {
    if (k == RT_FAULT_SLOW) return (uint64_t)rt_prng_range(p, 1, RT_SLOW_MS_MAX);
    if (k == RT_FAULT_TORN || k == RT_FAULT_BITFLIP) return rt_prng_below(p, UINT64_C(1) << 32);
    return 0;
}

static rt_fault draw_fault(rt_prng *p, const rt_fault_kind *on, int on_len, uint64_t horizon) {
    assert(on_len > 0);
    assert(horizon >= 1);
    rt_fault f;
    memset(&f, 0, sizeof f);
    f.kind = on[rt_prng_below(p, (uint64_t)on_len)];
    f.op = kind_put_only(f.kind) ? RT_OP_PUT : (rt_store_op)rt_prng_below(p, RT_OP_COUNT);
    f.nth = 1 + rt_prng_below(p, horizon);
    f.persistent = kind_may_persist(f.kind) && rt_prng_chance(p, 1, 8);
    f.arg = draw_arg(p, f.kind);
    return f;
}

/* Swarm: every kind is on with probability 1/2, then a fault count in
 * [0, max_faults] (drawn even when no kind is on, so the draws that follow
 * keep their place); max_faults above RT_FAULT_PLAN_MAX is clamped. */
void rt_fault_plan_draw(rt_fault_plan *plan, rt_prng *prng, int max_faults, uint64_t ops_horizon) {
    assert(plan != NULL);
    assert(prng != NULL);
    assert(max_faults >= 0);
    if (max_faults > RT_FAULT_PLAN_MAX) max_faults = RT_FAULT_PLAN_MAX;
    if (ops_horizon == 0) ops_horizon = 1;
    memset(plan, 0, sizeof *plan);
    rt_fault_kind on[RT_FAULT_KIND_COUNT];
    int on_len = 0;
    for (int k = RT_FAULT_EIO; k < RT_FAULT_KIND_COUNT; k++)
        if (rt_prng_chance(prng, 1, 2)) on[on_len++] = (rt_fault_kind)k;
    int count = (int)rt_prng_range(prng, 0, max_faults);
    if (on_len == 0) return;
    for (int i = 0; i < count; i++) plan->faults[i] = draw_fault(prng, on, on_len, ops_horizon);
    plan->n = count;
    assert(plan->n <= RT_FAULT_PLAN_MAX);
}

/* Appends one fault's text at buf (cap > 0); returns the length written. */
static size_t describe_one(const rt_fault *f, const char *sep, char *buf, size_t cap) {
    assert(cap > 0);
    char arg[32] = "", prefix[80] = "";
    if (kind_has_arg(f->kind)) snprintf(arg, sizeof arg, " arg=%" PRIu64, f->arg);
    if (f->path_prefix[0] != '\0') snprintf(prefix, sizeof prefix, " prefix=%.63s", f->path_prefix);
    int n = snprintf(buf, cap, "%s%s#%" PRIu64 "%s %s%s%s", sep, rt_store_op_name(f->op), f->nth,
                     f->persistent ? "+" : "", rt_fault_kind_name(f->kind), arg, prefix);
    assert(n >= 0);
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* "put#3 bitflip arg=17; get#2+ eio": '+' marks a persistent fault (from
 * the nth call on); "none" for an empty plan. Truncated to cap. */
void rt_fault_plan_describe(const rt_fault_plan *plan, char *buf, size_t cap) {
    assert(plan != NULL);
    assert(buf != NULL);
    assert(cap > 0);
    buf[0] = '\0';
    if (plan->n == 0) {
        snprintf(buf, cap, "none");
        return;
    }
    size_t used = 0;
    for (int i = 0; i < plan->n && used + 1 < cap; i++)
        used += describe_one(&plan->faults[i], i ? "; " : "", buf + used, cap - used);
}

/* ---- errors from the operating system ----------------------------------- */

static rt_err errno_code(int err) {
    switch (err) {
    case ENOENT: case ENOTDIR: return RT_ENOENT;
    case EEXIST: case ENOTEMPTY: case EISDIR: return RT_EEXIST;
    case ENOSPC: case EDQUOT: return RT_ENOSPC;
    case ENOMEM: return RT_ENOMEM;
    case ELOOP: return RT_ESANDBOX;
    default: return RT_EIO;
    }
}

#define SYS_FAIL(e, err, what, rel) \
    RT_FAIL((e), errno_code(err), "%s %s: %s", (what), (rel), strerror(err))

/* ---- the directory store ------------------------------------------------ */

/* root + "/" + rel; open() guarantees it fits for a checked rel. */
static void dir_abs(const rt_store *s, const char *rel, char *buf, size_t cap) {
    assert(cap == PATH_MAX);
    int n = rel[0] ? snprintf(buf, cap, "%s/%s", s->root, rel) : snprintf(buf, cap, "%s", s->root);
    assert(n > 0);
    assert((size_t)n < cap);
}

/* Refuses a symlink in any existing component of rel, the last one too. */
static rt_err dir_guard(rt_store *s, const char *rel, rt_error *e) {
    assert(rel[0] != '\0');
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    for (size_t i = strlen(s->root) + 1;; i++) { /* bounded by the string */
        if (abs[i] != '/' && abs[i] != '\0') continue;
        char c = abs[i];
        abs[i] = '\0';
        struct stat st;
        int r = lstat(abs, &st), err = errno;
        abs[i] = c;
        if (r != 0 && (err == ENOENT || err == ENOTDIR)) return RT_OK; /* nothing below */
        if (r != 0) return SYS_FAIL(e, err, "lstat", rel);
        if (S_ISLNK(st.st_mode))
            return RT_FAIL(e, RT_ESANDBOX, "\"%.*s\" is a symbolic link (refused by the sandbox)",
                           (int)(i - strlen(s->root) - 1), rel);
        if (c == '\0') return RT_OK;
    }
}

static rt_err dir_stat(rt_store *s, const char *rel, node_kind *kind, uint64_t *size, rt_error *e) {
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    struct stat st;
    *kind = NODE_NONE;
    *size = 0;
    if (lstat(abs, &st) != 0) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) return RT_OK;
        return SYS_FAIL(e, err, "lstat", rel);
    }
    if (S_ISLNK(st.st_mode)) return RT_FAIL(e, RT_ESANDBOX, "%s is a symbolic link", rel);
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return RT_FAIL(e, RT_EINPUT, "%s is neither a regular file nor a directory", rel);
    *kind = S_ISDIR(st.st_mode) ? NODE_DIR : NODE_FILE;
    *size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    assert(*kind != NODE_NONE);
    return RT_OK;
}

/* mkdir -p of rel's parent directories (not of rel itself). */
static rt_err dir_mkdirs(rt_store *s, const char *rel, rt_error *e) {
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    size_t start = strlen(s->root) + 1;
    assert(abs[start - 1] == '/');
    for (size_t i = start; abs[i] != '\0'; i++) {
        if (abs[i] != '/') continue;
        abs[i] = '\0';
        struct stat st;
        if (mkdir(abs, 0755) != 0 && errno != EEXIST) return SYS_FAIL(e, errno, "mkdir", rel);
        if (lstat(abs, &st) != 0) return SYS_FAIL(e, errno, "lstat", rel);
        if (S_ISLNK(st.st_mode)) return RT_FAIL(e, RT_ESANDBOX, "%s: a parent became a symlink", rel);
        if (!S_ISDIR(st.st_mode)) return RT_FAIL(e, RT_EEXIST, "%s: %s is a file", rel, abs + start);
        abs[i] = '/';
    }
    return RT_OK;
}

/* Removes rel's parent directories that became empty, deepest first, up
 * to (not including) the root. */
static void dir_prune(rt_store *s, const char *rel) {
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    char *stop = abs + strlen(s->root);
    assert(*stop == '/');
    for (char *slash = strrchr(abs, '/'); slash != NULL && slash > stop; slash = strrchr(abs, '/')) {
        *slash = '\0';
        if (rmdir(abs) != 0) return; /* not empty (or gone): stop there */
    }
}

static rt_err write_all(int fd, const uint8_t *p, size_t len, const char *rel, rt_error *e) {
    size_t done = 0;
    while (done < len) { /* each pass writes at least one byte or fails */
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return SYS_FAIL(e, errno, "write", rel);
        if (n == 0) return RT_FAIL(e, RT_EIO, "write %s: wrote nothing", rel);
        done += (size_t)n;
    }
    assert(done == len);
    return RT_OK;
}

/* Writes data to a fresh temporary file next to abs; its name into tmp. */
static rt_err dir_write_tmp(rt_store *s, const char *abs, const char *rel, const void *data,
                            size_t len, char *tmp, rt_error *e) {
    const char *slash = strrchr(abs, '/');
    assert(slash != NULL);
    int fd = -1;
    for (int tries = 0; tries < RT_TMP_TRIES_MAX && fd < 0; tries++) {
        snprintf(tmp, PATH_MAX, "%.*s/.snapsim-tmp-%" PRIu64, (int)(slash - abs), abs, s->tmp_seq++);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) return SYS_FAIL(e, errno, "create temporary file for", rel);
    rt_err rc = write_all(fd, data, len, rel, e);
    if (close(fd) != 0 && rc == RT_OK) rc = SYS_FAIL(e, errno, "close", rel);
    if (rc != RT_OK) unlink(tmp);
    return rc;
}

static rt_err dir_put(rt_store *s, const char *rel, const void *data, size_t len, rt_error *e) {
    rt_err rc = dir_mkdirs(s, rel, e);
    if (rc != RT_OK) return rc;
    char abs[PATH_MAX], tmp[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    rc = dir_write_tmp(s, abs, rel, data, len, tmp, e);
    if (rc != RT_OK) return rc;
    if (rename(tmp, abs) != 0) {
        int err = errno;
        unlink(tmp);
        return SYS_FAIL(e, err, "rename into place", rel);
    }
    return RT_OK;
}

static rt_err read_all(int fd, uint8_t *buf, size_t len, const char *rel, rt_error *e) {
    size_t done = 0;
    while (done < len) { /* each pass reads at least one byte or fails */
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return SYS_FAIL(e, errno, "read", rel);
        if (n == 0) return RT_FAIL(e, RT_EIO, "read %s: file shrank while reading", rel);
        done += (size_t)n;
    }
    assert(done == len);
    return RT_OK;
}

static rt_err dir_get(rt_store *s, const char *rel, uint8_t **data, size_t *len, rt_error *e) {
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return SYS_FAIL(e, errno, "open", rel);
    struct stat st;
    rt_err rc = RT_OK;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) != 0) rc = SYS_FAIL(e, errno, "fstat", rel);
    else if (!S_ISREG(st.st_mode)) rc = RT_FAIL(e, RT_ENOENT, "get %s: not a regular file", rel);
    else if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
        rc = RT_FAIL(e, RT_ENOMEM, "get %s: out of memory", rel);
    else rc = read_all(fd, buf, (size_t)st.st_size, rel, e);
    close(fd);
    if (rc != RT_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = (size_t)st.st_size;
    return RT_OK;
}

/* A recursive walk: regular files (with all, every non-directory) into
 * files, directories into dirs (if non-NULL), as root-relative paths. */
typedef struct walk_ctx {
    rt_store *s;
    char rel[PATH_MAX];
    rt_strlist *files, *dirs;
    int all;
} walk_ctx;

static rt_err walk_dir(walk_ctx *w, size_t rel_len, int depth, rt_error *e);

static rt_err walk_entry(walk_ctx *w, size_t rel_len, const char *name, int depth, rt_error *e) {
    size_t n = strlen(name), room = PATH_MAX - strlen(w->s->root) - 2;
    size_t at = rel_len ? rel_len + 1 : 0;
    if (at + n >= room) return RT_FAIL(e, RT_EIO, "list %s: path too long", w->rel);
    if (rel_len) w->rel[rel_len] = '/';
    memcpy(w->rel + at, name, n + 1);
    char abs[PATH_MAX];
    dir_abs(w->s, w->rel, abs, sizeof abs);
    struct stat st;
    if (lstat(abs, &st) != 0) return SYS_FAIL(e, errno, "lstat", w->rel);
    rt_strlist *into = S_ISDIR(st.st_mode) ? w->dirs : (S_ISREG(st.st_mode) || w->all) ? w->files : NULL;
    if (into != NULL && rt_strlist_push(into, w->rel) != 0)
        return RT_FAIL(e, RT_ENOMEM, "list %s: out of memory", w->rel);
    if (S_ISDIR(st.st_mode)) return walk_dir(w, at + n, depth + 1, e);
    return RT_OK;
}

static rt_err walk_dir(walk_ctx *w, size_t rel_len, int depth, rt_error *e) {
    assert(rel_len < PATH_MAX);
    if (depth > RT_WALK_DEPTH_MAX) return RT_FAIL(e, RT_EIO, "list %s: tree too deep", w->rel);
    w->rel[rel_len] = '\0';
    char abs[PATH_MAX];
    dir_abs(w->s, w->rel, abs, sizeof abs);
    DIR *d = opendir(abs);
    if (d == NULL) return SYS_FAIL(e, errno, "opendir", w->rel);
    rt_err rc = RT_OK;
    struct dirent *de;
    /* readdir's order does not matter: every caller sorts the result. */
    while (rc == RT_OK && (errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        rc = walk_entry(w, rel_len, de->d_name, depth, e);
        w->rel[rel_len] = '\0';
    }
    if (rc == RT_OK && errno != 0) rc = SYS_FAIL(e, errno, "readdir", w->rel);
    closedir(d);
    return rc;
}

static rt_err dir_walk(rt_store *s, const char *dir, rt_strlist *files, rt_strlist *dirs, int all,
                       rt_error *e) {
    walk_ctx *w = calloc(1, sizeof *w);
    if (w == NULL) return RT_FAIL(e, RT_ENOMEM, "list %s: out of memory", dir);
    *w = (walk_ctx){.s = s, .files = files, .dirs = dirs, .all = all};
    size_t n = strlen(dir);
    assert(n < RT_STORE_PATH_MAX);
    memcpy(w->rel, dir, n + 1);
    rt_err rc = walk_dir(w, n, 0, e);
    free(w);
    return rc;
}

static rt_err dir_list(rt_store *s, const char *dir, rt_strlist *out, rt_error *e) {
    return dir_walk(s, dir, out, NULL, 0, e);
}

static rt_err dir_del(rt_store *s, const char *rel, rt_error *e) {
    char abs[PATH_MAX];
    dir_abs(s, rel, abs, sizeof abs);
    if (unlink(abs) != 0) return SYS_FAIL(e, errno, "delete", rel);
    dir_prune(s, rel);
    return RT_OK;
}

/* Removes files in sorted order, then directories deepest first (reverse
 * sorted order puts "a/b" before "a"). */
static rt_err dir_remove_all(rt_store *s, rt_strlist *files, rt_strlist *dirs, rt_error *e) {
    char abs[PATH_MAX];
    rt_strlist_sort(files);
    rt_strlist_sort(dirs);
    for (size_t i = 0; i < files->len; i++) {
        dir_abs(s, files->items[i], abs, sizeof abs);
        if (unlink(abs) != 0) return SYS_FAIL(e, errno, "delete", files->items[i]);
    }
    for (size_t i = dirs->len; i > 0; i--) {
        dir_abs(s, dirs->items[i - 1], abs, sizeof abs);
        if (rmdir(abs) != 0) return SYS_FAIL(e, errno, "rmdir", dirs->items[i - 1]);
    }
    return RT_OK;
}

static rt_err dir_del_tree(rt_store *s, const char *dir, rt_error *e) {
    rt_strlist files = {0}, dirs = {0};
    rt_err rc = dir_walk(s, dir, &files, &dirs, 1, e);
    if (rc == RT_OK) rc = dir_remove_all(s, &files, &dirs, e);
    rt_strlist_free(&files);
    rt_strlist_free(&dirs);
    if (rc != RT_OK || dir[0] == '\0') return rc; /* the root itself stays */
    char abs[PATH_MAX];
    dir_abs(s, dir, abs, sizeof abs);
    if (rmdir(abs) != 0) return SYS_FAIL(e, errno, "rmdir", dir);
    dir_prune(s, dir);
    return RT_OK;
}

static rt_err dir_rename(rt_store *s, const char *from, const char *to, rt_error *e) {
    rt_err rc = dir_mkdirs(s, to, e);
    if (rc != RT_OK) return rc;
    char abs_from[PATH_MAX], abs_to[PATH_MAX];
    dir_abs(s, from, abs_from, sizeof abs_from);
    dir_abs(s, to, abs_to, sizeof abs_to);
    if (rename(abs_from, abs_to) != 0) return SYS_FAIL(e, errno, "rename", from);
    dir_prune(s, from);
    return RT_OK;
}

static void dir_close(rt_store *s) { (void)s; }

static const store_impl dir_impl = {
    dir_guard, dir_stat, dir_put, dir_get, dir_list, dir_del, dir_del_tree, dir_rename, dir_close,
};

/* ---- the in-memory store ------------------------------------------------ */

/* The first index whose path is >= key (binary search). */
static size_t mem_lower(const rt_store *s, const char *key) {
    size_t lo = 0, hi = s->files_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->files[mid].path, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    assert(lo <= s->files_len);
    return lo;
}

/* The index of rel, or files_len when absent. */
static size_t mem_find(const rt_store *s, const char *rel) {
    size_t i = mem_lower(s, rel);
    if (i < s->files_len && strcmp(s->files[i].path, rel) == 0) return i;
    return s->files_len;
}

/* [*lo, *hi): every file under dir ("" = all), a contiguous sorted range. */
static void mem_range(const rt_store *s, const char *dir, size_t *lo, size_t *hi) {
    char prefix[RT_STORE_PATH_MAX + 2];
    size_t n = strlen(dir);
    assert(n < RT_STORE_PATH_MAX);
    memcpy(prefix, dir, n);
    if (n > 0) prefix[n++] = '/';
    prefix[n] = '\0';
    *lo = mem_lower(s, prefix);
    *hi = *lo;
    while (*hi < s->files_len && strncmp(s->files[*hi].path, prefix, n) == 0) (*hi)++;
    assert(*hi >= *lo);
}

static rt_err mem_guard(rt_store *s, const char *rel, rt_error *e) {
    (void)s; (void)rel; (void)e;
    return RT_OK; /* no symlinks in memory */
}

static rt_err mem_stat(rt_store *s, const char *rel, node_kind *kind, uint64_t *size, rt_error *e) {
    (void)e;
    size_t i = mem_find(s, rel), lo, hi;
    *size = 0;
    if (i < s->files_len) {
        *kind = NODE_FILE;
        *size = s->files[i].len;
        return RT_OK;
    }
    mem_range(s, rel, &lo, &hi);
    *kind = (rel[0] == '\0' || hi > lo) ? NODE_DIR : NODE_NONE;
    return RT_OK;
}

static rt_err mem_insert(rt_store *s, const char *rel, uint8_t *copy, size_t len, rt_error *e) {
    if (s->files_len >= RT_MEM_FILES_MAX) return RT_FAIL(e, RT_ENOSPC, "put %s: store is full", rel);
    if (s->files_len == s->files_cap) {
        size_t cap = s->files_cap ? s->files_cap * 2 : 64;
        mem_file *f = realloc(s->files, cap * sizeof *f);
        if (f == NULL) return RT_FAIL(e, RT_ENOMEM, "put %s: out of memory", rel);
        s->files = f;
        s->files_cap = cap;
    }
    char *path = strdup(rel);
    if (path == NULL) return RT_FAIL(e, RT_ENOMEM, "put %s: out of memory", rel);
    size_t i = mem_lower(s, rel);
    memmove(&s->files[i + 1], &s->files[i], (s->files_len - i) * sizeof *s->files);
    s->files[i].path = path;
    s->files[i].data = copy;
    s->files[i].len = len;
    s->files_len++;
    return RT_OK;
}

static rt_err mem_put(rt_store *s, const char *rel, const void *data, size_t len, rt_error *e) {
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) return RT_FAIL(e, RT_ENOMEM, "put %s: out of memory", rel);
    if (len) memcpy(copy, data, len);
    size_t i = mem_find(s, rel);
    if (i < s->files_len) { /* replace */
        free(s->files[i].data);
        s->files[i].data = copy;
        s->files[i].len = len;
        return RT_OK;
    }
    rt_err rc = mem_insert(s, rel, copy, len, e);
    if (rc != RT_OK) free(copy);
    return rc;
}

static rt_err mem_get(rt_store *s, const char *rel, uint8_t **data, size_t *len, rt_error *e) {
    size_t i = mem_find(s, rel);
    if (i == s->files_len) return RT_FAIL(e, RT_ENOENT, "get %s: no such file", rel);
    uint8_t *buf = malloc(s->files[i].len ? s->files[i].len : 1);
    if (buf == NULL) return RT_FAIL(e, RT_ENOMEM, "get %s: out of memory", rel);
    if (s->files[i].len) memcpy(buf, s->files[i].data, s->files[i].len);
    *data = buf;
    *len = s->files[i].len;
    return RT_OK;
}

static rt_err mem_list(rt_store *s, const char *dir, rt_strlist *out, rt_error *e) {
    size_t lo, hi;
    mem_range(s, dir, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        if (rt_strlist_push(out, s->files[i].path) != 0)
            return RT_FAIL(e, RT_ENOMEM, "list %s: out of memory", dir);
    return RT_OK;
}

static void mem_remove_range(rt_store *s, size_t lo, size_t hi) {
    assert(lo <= hi);
    assert(hi <= s->files_len);
    for (size_t i = lo; i < hi; i++) {
        free(s->files[i].path);
        free(s->files[i].data);
    }
    if (hi < s->files_len) /* files is NULL in a store never written */
        memmove(&s->files[lo], &s->files[hi], (s->files_len - hi) * sizeof *s->files);
    s->files_len -= hi - lo;
}

static rt_err mem_del(rt_store *s, const char *rel, rt_error *e) {
    size_t i = mem_find(s, rel);
    if (i == s->files_len) return RT_FAIL(e, RT_ENOENT, "delete %s: no such file", rel);
    mem_remove_range(s, i, i + 1);
    return RT_OK;
}

static rt_err mem_del_tree(rt_store *s, const char *dir, rt_error *e) {
    (void)e;
    size_t lo, hi;
    mem_range(s, dir, &lo, &hi);
    mem_remove_range(s, lo, hi);
    return RT_OK;
}

static int mem_file_cmp(const void *a, const void *b) {
    return strcmp(((const mem_file *)a)->path, ((const mem_file *)b)->path);
}

/* Renames the file from, or every file under from/, to the same path
 * under to. New names are made first, so running out of memory changes
 * nothing. Paths are unique, so the re-sort is a total order. */
static rt_err mem_rename(rt_store *s, const char *from, const char *to, rt_error *e) {
    size_t lo = mem_find(s, from), hi = lo + 1, n_from = strlen(from);
    if (lo == s->files_len) mem_range(s, from, &lo, &hi);
    assert(hi > lo);
    char **names = calloc(hi - lo, sizeof *names);
    int failed = names == NULL;
    for (size_t i = lo; i < hi && !failed; i++) {
        const char *rest = s->files[i].path + n_from;
        names[i - lo] = malloc(strlen(to) + strlen(rest) + 1);
        failed = names[i - lo] == NULL;
        if (!failed) sprintf(names[i - lo], "%s%s", to, rest);
    }
    if (failed) {
        for (size_t i = 0; names != NULL && i < hi - lo; i++) free(names[i]);
        free(names);
        return RT_FAIL(e, RT_ENOMEM, "rename %s: out of memory", from);
    }
    for (size_t i = lo; i < hi; i++) {
        free(s->files[i].path);
        s->files[i].path = names[i - lo];
    }
    free(names);
    qsort(s->files, s->files_len, sizeof *s->files, mem_file_cmp);
    return RT_OK;
}

static void mem_close(rt_store *s) {
    mem_remove_range(s, 0, s->files_len);
    free(s->files);
    s->files = NULL;
}

static const store_impl mem_impl = {
    mem_guard, mem_stat, mem_put, mem_get, mem_list, mem_del, mem_del_tree, mem_rename, mem_close,
};

/* ---- opening and closing ------------------------------------------------ */

static rt_err store_new(rt_store **out, const store_impl *impl, const char *root, rt_error *e) {
    assert(strlen(root) < PATH_MAX);
    rt_store *s = calloc(1, sizeof *s);
    if (s == NULL) return RT_FAIL(e, RT_ENOMEM, "open store %s: out of memory", root);
    s->impl = impl;
    memcpy(s->root, root, strlen(root) + 1);
    *out = s;
    assert(s->plan.n == 0);
    return RT_OK;
}

/* mkdir -p of a root given by the user (relative to the working directory
 * or absolute; symlinks in it are the user's choice and are resolved). */
static rt_err mkdir_root(const char *root, rt_error *e) {
    char buf[PATH_MAX];
    size_t n = strlen(root);
    if (n >= sizeof buf) return RT_FAIL(e, RT_EINPUT, "store root too long: %.100s...", root);
    memcpy(buf, root, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return SYS_FAIL(e, errno, "create store root", buf);
        buf[i] = c;
    }
    return RT_OK;
}

rt_err rt_store_open_dir(rt_store **out, const char *root, int create, rt_error *e) {
    assert(out != NULL);
    *out = NULL;
    if (root == NULL || root[0] == '\0') return RT_FAIL(e, RT_EUSAGE, "open store: no root directory");
    if (create) {
        rt_err rc = mkdir_root(root, e);
        if (rc != RT_OK) return rc;
    }
    char canon[PATH_MAX];
    if (realpath(root, canon) == NULL) return SYS_FAIL(e, errno, "open store root", root);
    struct stat st;
    if (stat(canon, &st) != 0) return SYS_FAIL(e, errno, "open store root", root);
    if (!S_ISDIR(st.st_mode)) return RT_FAIL(e, RT_EINPUT, "store root %s is not a directory", root);
    if (strlen(canon) + RT_STORE_PATH_MAX + 2 > PATH_MAX)
        return RT_FAIL(e, RT_EINPUT, "store root %s is too long", root);
    return store_new(out, &dir_impl, canon, e);
}

rt_err rt_store_open_mem(rt_store **out, const char *name, rt_error *e) {
    assert(out != NULL);
    *out = NULL;
    if (name == NULL || strlen(name) > RT_MEM_NAME_MAX || strchr(name, '/') != NULL)
        return RT_FAIL(e, RT_EUSAGE, "open memory store: bad name \"%.100s\"", name ? name : "");
    char root[PATH_MAX];
    snprintf(root, sizeof root, "mem://%s", name);
    return store_new(out, &mem_impl, root, e);
}

void rt_store_close(rt_store *s) {
    if (s == NULL) return;
    assert(s->impl != NULL);
    s->impl->close(s);
    rt_strlist_free(&s->damaged);
    free(s);
}

const char *rt_store_root(const rt_store *s) {
    assert(s != NULL);
    return s->root;
}

int rt_store_is_mem(const rt_store *s) {
    assert(s != NULL);
    return s->impl == &mem_impl;
}

/* ---- the interface: sandbox, faults, shape checks, then the leaf -------- */

/* The sandbox gate of every call; "" (the root) only where allow_root. */
static rt_err enter(rt_store *s, const char *op, const char *path, int allow_root, rt_error *e) {
    assert(s != NULL);
    assert(op != NULL);
    if (allow_root && path != NULL && path[0] == '\0') return RT_OK;
    rt_err rc = rt_store_check_path(path, e);
    if (rc != RT_OK) {
        rt_error_prefix(e, "%s: ", op);
        return rc;
    }
    rc = s->impl->guard(s, path, e);
    if (rc != RT_OK) rt_error_prefix(e, "%s %s: ", op, path);
    return rc;
}

static rt_err node_of(rt_store *s, const char *rel, node_kind *kind, rt_error *e) {
    uint64_t size;
    return s->impl->stat(s, rel, kind, &size, e);
}

/* No parent of rel may be a file (a put or rename below a file). */
static rt_err check_parents(rt_store *s, const char *op, const char *rel, rt_error *e) {
    char buf[RT_STORE_PATH_MAX];
    size_t n = strlen(rel);
    assert(n < sizeof buf);
    memcpy(buf, rel, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        node_kind k;
        rt_err rc = node_of(s, buf, &k, e);
        if (rc != RT_OK) return rc;
        if (k == NODE_FILE) return RT_FAIL(e, RT_EEXIST, "%s %s: %s is a file", op, rel, buf);
        buf[i] = '/';
    }
    return RT_OK;
}

static rt_err put_plain(rt_store *s, const char *path, const void *data, size_t len, rt_error *e) {
    node_kind k;
    rt_err rc = node_of(s, path, &k, e);
    if (rc != RT_OK) return rc;
    if (k == NODE_DIR) return RT_FAIL(e, RT_EEXIST, "put %s: is a directory", path);
    rc = check_parents(s, "put", path, e);
    if (rc != RT_OK) return rc;
    return s->impl->put(s, path, data, len, e);
}

static rt_err put_bitflip(rt_store *s, const char *path, const void *data, size_t len, uint64_t arg,
                          rt_error *e) {
    if (len == 0) return put_plain(s, path, data, len, e);
    uint8_t *copy = malloc(len);
    if (copy == NULL) return RT_FAIL(e, RT_ENOMEM, "put %s: out of memory", path);
    memcpy(copy, data, len);
    copy[(arg / 8) % len] ^= (uint8_t)(1u << (arg % 8));
    rt_err rc = put_plain(s, path, copy, len, e);
    free(copy);
    return rc;
}

/* Reports success, stores nothing, and an older file at path is gone. */
static rt_err put_lost(rt_store *s, const char *path, rt_error *e) {
    node_kind k;
    rt_err rc = node_of(s, path, &k, e);
    if (rc != RT_OK || k != NODE_FILE) return rc;
    return s->impl->del(s, path, e);
}

rt_err rt_store_put(rt_store *s, const char *path, const void *data, size_t len, rt_error *e) {
    assert(data != NULL || len == 0);
    rt_err rc = enter(s, "put", path, 0, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_PUT, path);
    switch (hit.effect) {
    case RT_FAULT_EIO:
    case RT_FAULT_NOSPACE: return fault_fail(RT_OP_PUT, path, hit, e);
    case RT_FAULT_LOST: rc = put_lost(s, path, e); break;
    case RT_FAULT_TORN: rc = put_plain(s, path, data, len ? hit.arg % len : 0, e); break;
    case RT_FAULT_BITFLIP: rc = put_bitflip(s, path, data, len, hit.arg, e); break;
    default: rc = put_plain(s, path, data, len, e); break;
    }
    if (rc != RT_OK) return rc;
    int wrong = hit.effect == RT_FAULT_LOST || (len > 0 && (hit.effect == RT_FAULT_TORN || hit.effect == RT_FAULT_BITFLIP));
    if (wrong) damaged_mark(s, path);
    else damaged_forget(s, path);
    s->stats.files_written++;
    s->stats.bytes_written += len;
    return RT_OK;
}

rt_err rt_store_get(rt_store *s, const char *path, uint8_t **data, size_t *len, rt_error *e) {
    assert(data != NULL);
    assert(len != NULL);
    *data = NULL;
    *len = 0;
    rt_err rc = enter(s, "get", path, 0, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_GET, path);
    if (hit.effect == RT_FAULT_EIO) return fault_fail(RT_OP_GET, path, hit, e);
    node_kind k;
    rc = node_of(s, path, &k, e);
    if (rc != RT_OK) return rc;
    if (k != NODE_FILE)
        return RT_FAIL(e, RT_ENOENT, "get %s: %s", path, k == NODE_DIR ? "is a directory" : "no such file");
    rc = s->impl->get(s, path, data, len, e);
    assert(rc != RT_OK || *data != NULL);
    if (rc == RT_OK && damaged_find(s, path) != SIZE_MAX) {
        s->stats.damaged_reads++;
        snprintf(s->stats.last_damaged_read, sizeof s->stats.last_damaged_read, "%s", path);
    }
    return rc;
}

int rt_store_exists(rt_store *s, const char *path) {
    assert(s != NULL);
    rt_error quiet;
    rt_error_clear(&quiet);
    if (rt_store_check_path(path, &quiet) != RT_OK) return 0;
    if (s->impl->guard(s, path, &quiet) != RT_OK) return 0;
    node_kind k;
    return node_of(s, path, &k, &quiet) == RT_OK && k == NODE_FILE;
}

rt_err rt_store_size(rt_store *s, const char *path, uint64_t *size, rt_error *e) {
    assert(size != NULL);
    *size = 0;
    rt_err rc = enter(s, "size", path, 0, e);
    if (rc != RT_OK) return rc;
    node_kind k;
    rc = s->impl->stat(s, path, &k, size, e);
    if (rc != RT_OK) return rc;
    if (k != NODE_FILE) return RT_FAIL(e, RT_ENOENT, "size %s: no such file", path);
    return RT_OK;
}

rt_err rt_store_list(rt_store *s, const char *dir, rt_strlist *out, rt_error *e) {
    assert(out != NULL);
    rt_strlist_free(out); /* the result replaces what out held */
    rt_err rc = enter(s, "list", dir, 1, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_LIST, dir);
    if (hit.effect == RT_FAULT_EIO) return fault_fail(RT_OP_LIST, dir, hit, e);
    node_kind k;
    rc = node_of(s, dir, &k, e);
    if (rc != RT_OK || k != NODE_DIR) return rc; /* a missing dir lists nothing */
    rc = s->impl->list(s, dir, out, e);
    if (rc != RT_OK) {
        rt_strlist_free(out);
        return rc;
    }
    rt_strlist_sort(out);
    return RT_OK;
}

rt_err rt_store_delete(rt_store *s, const char *path, rt_error *e) {
    rt_err rc = enter(s, "delete", path, 0, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_DELETE, path);
    if (hit.effect == RT_FAULT_EIO) return fault_fail(RT_OP_DELETE, path, hit, e);
    damaged_forget(s, path); /* whatever was there is meant to be gone */
    node_kind k;
    rc = node_of(s, path, &k, e);
    if (rc != RT_OK) return rc;
    if (k != NODE_FILE)
        return RT_FAIL(e, RT_ENOENT, "delete %s: %s", path, k == NODE_DIR ? "is a directory" : "no such file");
    return s->impl->del(s, path, e);
}

/* A missing dir is fine (nothing to delete); a file is RT_EINPUT; "" empties
 * the whole store but keeps its root. */
rt_err rt_store_delete_tree(rt_store *s, const char *dir, rt_error *e) {
    rt_err rc = enter(s, "delete tree", dir, 1, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_DELETE, dir);
    if (hit.effect == RT_FAULT_EIO) return fault_fail(RT_OP_DELETE, dir, hit, e);
    node_kind k;
    rc = node_of(s, dir, &k, e);
    if (rc != RT_OK) return rc;
    if (k == NODE_FILE) return RT_FAIL(e, RT_EINPUT, "delete tree %s: is a file, not a directory", dir);
    damaged_forget_under(s, dir);
    if (k == NODE_NONE) return RT_OK;
    return s->impl->del_tree(s, dir, e);
}

/* The shape rules of a rename, after the faults had their say. */
static rt_err rename_allowed(rt_store *s, const char *from, const char *to, rt_error *e) {
    size_t n = strlen(from);
    if (strncmp(to, from, n) == 0 && to[n] == '/')
        return RT_FAIL(e, RT_EINPUT, "rename %s -> %s: cannot move into itself", from, to);
    node_kind kf, kt;
    rt_err rc = node_of(s, from, &kf, e);
    if (rc == RT_OK) rc = node_of(s, to, &kt, e);
    if (rc != RT_OK) return rc;
    if (kf == NODE_NONE) return RT_FAIL(e, RT_ENOENT, "rename %s -> %s: no such file or directory", from, to);
    if (kt != NODE_NONE) return RT_FAIL(e, RT_EEXIST, "rename %s -> %s: target exists", from, to);
    return check_parents(s, "rename to", to, e);
}

rt_err rt_store_rename(rt_store *s, const char *from, const char *to, rt_error *e) {
    rt_err rc = enter(s, "rename", from, 0, e);
    if (rc == RT_OK) rc = enter(s, "rename", to, 0, e);
    if (rc != RT_OK) return rc;
    fault_hit hit = call_begin(s, RT_OP_RENAME, from);
    if (hit.effect == RT_FAULT_EIO) return fault_fail(RT_OP_RENAME, from, hit, e);
    rc = rename_allowed(s, from, to, e);
    if (rc == RT_OK) rc = s->impl->rename(s, from, to, e);
    if (rc == RT_OK) damaged_rename(s, from, to);
    return rc;
}

/* ---- absolute locations ------------------------------------------------- */

rt_err rt_store_relativize(const rt_store *s, const char *abs, char *rel, size_t cap, rt_error *e) {
    assert(s != NULL);
    assert(abs != NULL);
    assert(rel != NULL);
    assert(cap > 0);
    rel[0] = '\0';
    size_t n = strlen(s->root);
    if (strncmp(abs, s->root, n) != 0 || abs[n] != '/' || path_problem(abs + n + 1) != NULL)
        return RT_FAIL(e, RT_ESANDBOX, "%.200s is outside the store root %.200s", abs, s->root);
    if (strlen(abs + n + 1) >= cap)
        return RT_FAIL(e, RT_EINPUT, "%.200s: relative path does not fit %zu bytes", abs, cap);
    memcpy(rel, abs + n + 1, strlen(abs + n + 1) + 1);
    return RT_OK;
}

/* root + "/" + rel, or just the root for an empty rel; truncated to cap. */
void rt_store_absolute(const rt_store *s, const char *rel, char *buf, size_t cap) {
    assert(s != NULL);
    assert(rel != NULL);
    assert(buf != NULL);
    assert(cap > 0);
    size_t n = strlen(s->root);
    const char *sep = n > 0 && s->root[n - 1] == '/' ? "" : "/"; /* a root of "/" */
    if (rel[0] == '\0') snprintf(buf, cap, "%s", s->root);
    else snprintf(buf, cap, "%s%s%s", s->root, sep, rel);
}
