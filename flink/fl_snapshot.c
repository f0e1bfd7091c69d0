/* fl_snapshot: resolving and checking the files of a real snapshot (see
 * the header). Paths are compared lexically after normalisation, as Flink's
 * Path does: no symbolic link of a handle's path is followed. */
#include "fl_snapshot.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim_sst_footer.h"

#define KRYO_SCAN_BYTES (1u << 20) /* serializer snapshots open a state file */
#define PATH_DEPTH_MAX 256

const char *fl_location_name(fl_location l) {
    switch (l) {
    case FL_LOC_INLINED: return "inlined";
    case FL_LOC_INSIDE: return "inside";
    case FL_LOC_JOB: return "job";
    case FL_LOC_OUTSIDE: return "outside";
    default: return "remote";
    }
}

const char *fl_problem_name(int bit) {
    static const char *const names[FL_PROB_KINDS] = {"missing", "size-mismatch", "outside",
                                                     "absolute-in-savepoint", "other-snapshot", "unchecked"};
    return bit >= 0 && bit < FL_PROB_KINDS ? names[bit] : "?";
}

/* Lexical normalisation of an absolute path: no "//", ".", "..". 0 when
 * it does not fit. */
static int normalize(const char *in, char *out, size_t cap) {
    assert(in[0] == '/');
    size_t starts[PATH_DEPTH_MAX];
    int depth = 0;
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = in; *p;) {
        while (*p == '/') p++;
        const char *q = p;
        while (*q && *q != '/') q++;
        size_t len = (size_t)(q - p);
        if (len == 0) break;
        if (len == 1 && p[0] == '.') {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (depth > 0) n = starts[--depth];
        } else {
            if (depth >= PATH_DEPTH_MAX || n + len + 2 > cap) return 0;
            starts[depth++] = n;
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p = q;
    }
    if (n == 0) out[n++] = '/';
    out[n] = '\0';
    return 1;
}

/* Whether path lies under dir (both normalised). */
static int under(const char *path, const char *dir) {
    size_t n = strlen(dir);
    return n > 0 && strncmp(path, dir, n) == 0 && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* The local path of a FileStateHandle's path as Flink writes it
 * (Path.toString: "file:/x", "file:///x", or a bare "/x"); 0 for another
 * file system. */
static int local_path_of(const char *uri, char *out, size_t cap) {
    const char *p = uri;
    if (strncmp(p, "file:", 5) == 0) {
        p += 5;
        if (p[0] == '/' && p[1] == '/') {
            p += 2;
            const char *slash = strchr(p, '/');
            if (slash == NULL) return 0;
            size_t host = (size_t)(slash - p);
            if (host != 0 && !(host == 9 && strncmp(p, "localhost", 9) == 0)) return 0;
            p = slash;
        }
    }
    if (p[0] != '/') return 0; /* another scheme, or no absolute path */
    return normalize(p, out, cap);
}

static void parent_of(const char *path, char *out, size_t cap) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash == out) out[1] = '\0';
    else if (slash) *slash = '\0';
}

static const char *base_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Another snapshot's directory above path: an ancestor holding _metadata
 * that is not this snapshot, or another job's shared/ or taskowned/. */
static int other_snapshot(const fl_snapshot *s, const char *path, char *other, size_t cap) {
    char dir[PATH_MAX], meta[PATH_MAX + 16];
    parent_of(path, dir, sizeof dir);
    for (int i = 0; i < PATH_DEPTH_MAX && strcmp(dir, "/") != 0; i++) {
        if (strcmp(dir, s->dir) == 0) return 0;
        struct stat st;
        snprintf(meta, sizeof meta, "%s/_metadata", dir);
        if (stat(meta, &st) == 0) {
            snprintf(other, cap, "%s", dir);
            return 1;
        }
        char up[PATH_MAX];
        parent_of(dir, up, sizeof up);
        /* <root>/<job>/shared|taskowned/...: whose job? */
        const char *b = base_of(dir);
        if (s->job_dir[0] && (strcmp(b, "shared") == 0 || strcmp(b, "taskowned") == 0) &&
            strcmp(up, s->job_dir) != 0) {
            char root[PATH_MAX], job_root[PATH_MAX];
            parent_of(up, root, sizeof root);
            parent_of(s->job_dir, job_root, sizeof job_root);
            if (strcmp(root, job_root) == 0) {
                snprintf(other, cap, "%s", up);
                return 1;
            }
        }
        snprintf(dir, sizeof dir, "%s", up);
    }
    return 0;
}

static fl_location locate(const fl_snapshot *s, const char *path) {
    if (under(path, s->dir)) return FL_LOC_INSIDE;
    if (s->job_dir[0]) {
        char shared[PATH_MAX + 16], owned[PATH_MAX + 16];
        snprintf(shared, sizeof shared, "%s/shared", s->job_dir);
        snprintf(owned, sizeof owned, "%s/taskowned", s->job_dir);
        if (under(path, shared) || under(path, owned)) return FL_LOC_JOB;
    }
    return FL_LOC_OUTSIDE;
}

/* Reads n bytes at offset (from the end when from_end) of the file's
 * bytes, inlined or local: the count read, or -1. */
static long read_part(const fl_file *f, uint8_t *buf, size_t n, int from_end) {
    const fl_stream *h = f->h;
    if (h->kind == FL_PATH_INLINED) {
        size_t k = h->n_bytes < n ? h->n_bytes : n;
        memcpy(buf, h->bytes + (from_end ? h->n_bytes - k : 0), k);
        return (long)k;
    }
    if (f->exists != 1 || f->actual_size < 0) return -1;
    FILE *in = fopen(f->where, "rb");
    if (in == NULL) return -1;
    size_t size = (size_t)f->actual_size;
    size_t k = size < n ? size : n;
    long got = -1;
    if (fseek(in, from_end ? (long)(size - k) : 0, SEEK_SET) == 0) got = (long)fread(buf, 1, k, in);
    fclose(in);
    return got;
}

static void read_footer(fl_file *f) {
    uint8_t tail[SIM_SST_FOOTER_BYTES];
    long n = read_part(f, tail, sizeof tail, 1);
    if (n < 0) {
        snprintf(f->sst_error, sizeof f->sst_error, "not readable");
        return;
    }
    rt_error e;
    rt_error_clear(&e);
    uint32_t v = 0;
    if (sim_sst_footer_version(tail, (size_t)n, f->h->local_path, &v, &e) == RT_OK) f->sst_format = (int)v;
    else fl_printable(e.msg, f->sst_error, sizeof f->sst_error);
}

/* A handle of a state's serialized form (not RocksDB's files): does it
 * name a Kryo serializer snapshot? */
static void scan_kryo(fl_file *f) {
    const char *role = f->h->role;
    const char *slash = strchr(role, '/');
    int state = (strncmp(role, "managed", 7) == 0 || strncmp(role, "raw", 3) == 0) &&
                (slash == NULL || strcmp(slash, "/meta") == 0);
    if (!state) return;
    uint8_t *buf = malloc(KRYO_SCAN_BYTES);
    long n = buf ? read_part(f, buf, KRYO_SCAN_BYTES, 0) : -1;
    static const char needle[] = "KryoSerializer";
    for (long i = 0; n > 0 && i + (long)sizeof needle - 1 <= n; i++)
        if (memcmp(buf + i, needle, sizeof needle - 1) == 0) {
            f->kryo = 1;
            break;
        }
    free(buf);
}

static void check_exists(fl_file *f) {
    struct stat st;
    if (stat(f->where, &st) != 0) {
        f->exists = 0;
        f->problems |= FL_PROB_MISSING;
        return;
    }
    f->exists = 1;
    f->actual_size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    const fl_stream *h = f->h;
    int64_t want_end = h->type == FL_H_SEGMENT_FILE ? h->segment_start + h->size : h->size;
    int wrong = h->type == FL_H_SEGMENT_FILE ? f->actual_size < want_end : f->actual_size != h->size;
    if (h->size >= 0 && wrong) f->problems |= FL_PROB_SIZE;
}

static void resolve(fl_snapshot *s, fl_file *f) {
    const fl_stream *h = f->h;
    f->exists = -1;
    f->actual_size = -1;
    f->sst_format = -1;
    if (h->kind == FL_PATH_INLINED) {
        f->location = FL_LOC_INLINED;
        f->exists = 1;
        f->actual_size = h->n_bytes;
    } else {
        char joined[2 * PATH_MAX + 2];
        int local = 1;
        if (h->kind == FL_PATH_RELATIVE) {
            /* RelativeFileStateHandle: new Path(exclusive dir, relative path) */
            snprintf(joined, sizeof joined, "%s/%s", s->dir, h->path);
            local = normalize(joined, f->where, sizeof f->where);
        } else {
            local = local_path_of(h->path, f->where, sizeof f->where);
        }
        if (!local) {
            f->where[0] = '\0';
            f->location = FL_LOC_REMOTE;
            f->problems |= FL_PROB_UNCHECKED;
        } else {
            f->location = locate(s, f->where);
            if (f->location == FL_LOC_OUTSIDE) f->problems |= FL_PROB_OUTSIDE;
            if (f->location != FL_LOC_INSIDE && other_snapshot(s, f->where, f->other, sizeof f->other))
                f->problems |= FL_PROB_OTHER_SNAPSHOT;
            check_exists(f);
        }
    }
    if (s->savepoint == 1 && h->kind == FL_PATH_ABSOLUTE) f->problems |= FL_PROB_ABSOLUTE_SAVEPOINT;
    size_t n = h->local_path ? strlen(h->local_path) : 0;
    f->sst = n > 4 && strcmp(h->local_path + n - 4, ".sst") == 0;
    if (f->sst) read_footer(f);
    scan_kryo(f);
}

/* Savepoint or checkpoint: CheckpointProperties say it (V4+); without them
 * the directory name (chk-N, savepoint-...) does. */
static void classify(fl_snapshot *s) {
    const fl_props *p = &s->meta.props;
    const char *base = base_of(s->dir);
    if (p->present && p->snapshot_class) {
        s->savepoint = p->savepoint;
        s->kind_from = "checkpoint properties";
    } else if (strncmp(base, "chk-", 4) == 0 || strncmp(base, "savepoint-", 10) == 0) {
        s->savepoint = base[0] == 's';
        s->kind_from = "directory name";
    } else {
        s->savepoint = -1;
        s->kind_from = "unknown";
    }
    if (s->savepoint == 0) s->format = "native"; /* checkpoints: the backend's own format */
    else if (p->format_type && strcmp(p->format_type, "CANONICAL") == 0) s->format = "canonical";
    else if (p->format_type && strcmp(p->format_type, "NATIVE") == 0) s->format = "native";
    else s->format = "unknown";
    if (s->savepoint == 0) {
        char parent[PATH_MAX];
        parent_of(s->dir, parent, sizeof parent);
        snprintf(s->job_dir, sizeof s->job_dir, "%s", parent);
    }
}

typedef struct backend_seen {
    int incremental, key_groups, savepoint_kg, changelog;
} backend_seen;

static int see_keyed(void *ctx, const fl_operator *op, const fl_subtask *st, const fl_keyed *k) {
    (void)op;
    (void)st;
    backend_seen *b = ctx;
    if (k->type == FL_H_INCREMENTAL || k->type == FL_H_INCREMENTAL_V2) b->incremental = 1;
    else if (k->type == FL_H_SAVEPOINT_KEY_GROUPS) b->savepoint_kg = 1;
    else if (k->type == FL_H_KEY_GROUPS || k->type == FL_H_KEY_GROUPS_V2) b->key_groups = 1;
    else b->changelog = 1;
    return 0;
}

/* What the keyed handles say of the backend that wrote them. */
static void backend_of(fl_snapshot *s) {
    backend_seen b = {0, 0, 0, 0};
    fl_meta_each_keyed(&s->meta, see_keyed, &b);
    if (b.changelog) s->backend = "changelog";
    else if (b.incremental) s->backend = "rocksdb";
    else if (b.key_groups) s->backend = "heap or rocksdb (a key-group stream)";
    else if (b.savepoint_kg) s->backend = "any (canonical)";
    else s->backend = "none (no keyed state)";
    for (size_t i = 0; i < s->n_files; i++)
        if (s->files[i].h->local_path && strstr(s->files[i].h->role, "/shared") && s->files[i].location == FL_LOC_JOB)
            s->incremental = 1;
}

static rt_err collect(fl_snapshot *s, rt_error *e) {
    size_t n = 0;
    for (const fl_stream *h = s->meta.streams; h; h = h->next)
        if (h->kind != FL_PATH_NONE) n++;
    s->files = calloc(n ? n : 1, sizeof *s->files);
    if (s->files == NULL) return RT_FAIL(e, RT_ENOMEM, "%s: out of memory", s->dir);
    for (const fl_stream *h = s->meta.streams; h; h = h->next) {
        if (h->kind == FL_PATH_NONE) continue;
        fl_file *f = &s->files[s->n_files++];
        f->h = h;
        resolve(s, f);
        f->first = 1;
        for (size_t j = 0; j + 1 < s->n_files && f->where[0]; j++)
            if (strcmp(s->files[j].where, f->where) == 0) f->first = 0;
        s->n_kind[h->kind]++;
        s->n_sst += f->sst;
        s->n_kryo += f->kryo;
        for (int b = 0; b < FL_PROB_KINDS; b++)
            if (f->problems & (1 << b)) s->n_problem[b]++;
    }
    assert(s->n_files == n);
    s->self_contained = s->n_kind[FL_PATH_ABSOLUTE] == 0;
    return RT_OK;
}

int fl_snapshot_is_flink(const char *dir) {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    FILE *in = fopen(path, "rb");
    if (in == NULL) return 0;
    uint8_t head[4];
    size_t n = fread(head, 1, sizeof head, in);
    fclose(in);
    return fl_meta_is_flink(head, n);
}

rt_err fl_snapshot_open(fl_snapshot *s, const char *path, rt_error *e) {
    assert(s != NULL);
    assert(path != NULL);
    memset(s, 0, sizeof *s);
    char real[PATH_MAX];
    if (realpath(path, real) == NULL) return RT_FAIL(e, RT_ENOENT, "%s: no such snapshot directory", path);
    if (!normalize(real, s->dir, sizeof s->dir)) return RT_FAIL(e, RT_EUSAGE, "%s: path too long", path);
    char meta[PATH_MAX + 16];
    snprintf(meta, sizeof meta, "%s/_metadata", s->dir);
    rt_err rc = fl_meta_load(&s->meta, meta, e);
    if (rc != RT_OK) return rc;
    classify(s);
    rc = collect(s, e);
    if (rc != RT_OK) {
        fl_snapshot_close(s);
        return rc;
    }
    backend_of(s);
    return RT_OK;
}

void fl_snapshot_close(fl_snapshot *s) {
    if (s == NULL) return;
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
    fl_meta_free(&s->meta);
}
