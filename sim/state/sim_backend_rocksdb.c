/* sim_backend_rocksdb: the keyed state backend on the real RocksDB library (C
 * API). One RocksDB instance per subtask in cfg->work_dir, one column family
 * per state, keys laid out as 2-byte big-endian key group + 8-byte
 * big-endian key so that RocksDB's bytewise order is (kg, key) order.
 *
 * RocksDB runs synchronously: no automatic compaction, no WAL, an explicit
 * flush before every snapshot, so its background threads have no work to
 * race on and file names and sizes follow from the operations alone. State
 * updates reach RocksDB in write batches (written before any read of a key
 * they hold, and before every scan, snapshot and restore) into a hash
 * memtable updated in place: the cost of one record stays a few hash
 * lookups, whatever the state's size. Block
 * checksum verification stays on everywhere: with it off, RocksDB 7.8.3
 * aborts the process on a damaged file instead of returning an error.
 *
 * Native snapshots follow Flink's RocksIncrementalSnapshotStrategy: a local
 * RocksDB checkpoint, SST files uploaded as shared state (reused by later
 * incremental checkpoints once their upload is confirmed), MANIFEST,
 * CURRENT, OPTIONS and WAL files as private state. Restore reads each SST's
 * format_version from its footer bytes first, so an SST too new for the
 * reader's RocksDB is rejected from the file, not from a flag. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "sim_backend.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_canonical.h"
#include "sim_sst_footer.h"

#define ROCKS_KEY_BYTES 10
#define ROCKS_KG_MAX 0xffffu           /* the key group must fit 2 bytes */
#define ROCKS_CF_MAX (2 * SIM_MAX_STATES + 1) /* default + restored + declared */
#define ROCKS_PENDING_MAX 8            /* checkpoints in flight we remember */
#define ROCKS_SST_MAP_MAX 4096         /* SSTs one checkpoint may hold */
#define ROCKS_DIR_FILES_MAX 8192       /* files in one local checkpoint */
#define ROCKS_L0_COMPACT_AT 8          /* L0 files per state before we compact */
#define ROCKS_NAME_MAX 64              /* sizeof(sim_file_ref.local_name) */
#define ROCKS_BATCH_MAX 500            /* RocksDBWriteBatchWrapper's default capacity */
#define ROCKS_MANIFEST_BYTES_MAX (64 * 1024) /* max_manifest_file_size */
#define ROCKS_MEMTABLE_BUCKETS 16384  /* hash buckets of one memtable (8 bytes each) */
#define ROCKS_INPLACE_LOCKS 1          /* inplace_update_num_locks (one writer thread) */
#define ROCKS_SKIP_HEIGHT 4            /* HashSkipListRepFactory's defaults */
#define ROCKS_SKIP_BRANCHING 4
#define ROCKS_BATCH_SLOTS 1024         /* the batch's key set: a power of two > 2 x max */
#define ROCKS_PAYLOAD_WRITE_BUFFER (4u << 20) /* write_buffer_size of payload states */

/* The SSTs one checkpoint uploaded or referenced, by local name (Flink's
 * uploadedSstFiles entry for that checkpoint): sorted, bounded. */
typedef struct rocks_sst_map {
    int64_t checkpoint_id;
    int n, cap;
    sim_file_ref *f;
} rocks_sst_map;

/* An open RocksDB with a handle on every one of its column families, as
 * RocksDB requires when opening. */
typedef struct rocks_db {
    rocksdb_t *db;
    int n_cf;
    char name[ROCKS_CF_MAX][SIM_NAME_MAX];
    rocksdb_column_family_handle_t *cf[ROCKS_CF_MAX];
} rocks_db;

/* Puts not yet written to RocksDB (Flink's RocksDBWriteBatchWrapper: a
 * WriteBatch of at most 500 entries, written with the WAL off), and the set
 * of (state, encoded key) it holds, so that a read of a key still in the
 * batch writes the batch first and every read sees every earlier write. */
typedef struct rocks_batch {
    rocksdb_writebatch_t *wb;
    int n;                               /* entries in wb == keys in the set */
    uint16_t used[ROCKS_BATCH_MAX];      /* occupied slots, to clear them */
    uint8_t full[ROCKS_BATCH_SLOTS];     /* slot occupied */
    uint8_t state[ROCKS_BATCH_SLOTS];
    uint8_t key[ROCKS_BATCH_SLOTS][ROCKS_KEY_BYTES];
} rocks_batch;

typedef struct rocks_backend {
    sim_backend base; /* first: the interface's pointer is ours */
    rocks_batch batch;
    char work_dir[PATH_MAX];
    char db_dir[PATH_MAX];
    unsigned dir_seq; /* names fresh directories: db-N, snap-N, restore-N */
    rocksdb_options_t *opts;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
    rocksdb_flushoptions_t *fopts;
    rocks_db live;
    rocksdb_column_family_handle_t *state_cf[SIM_MAX_STATES]; /* into live */
    int written; /* a put or restore happened: the fast restore needs none */
    int broken;  /* a restore failed: the caller must discard us */
    int has_base;
    rocks_sst_map base_map; /* last completed checkpoint's SSTs */
    int n_pending;
    rocks_sst_map pending[ROCKS_PENDING_MAX]; /* by ascending checkpoint id */
    /* The SSTs of the last checkpoint snapshot taken, completed or not (or
     * of the restored snapshot): what RocksDB had then, for measuring what
     * it created since. */
    rocks_sst_map last_taken;
} rocks_backend;

/* Process-wide like the Env (sim_backend.h): a forked child counts on
 * from its parent's counts. */
static sim_rocks_counts rocks_counts;

sim_rocks_counts sim_backend_rocksdb_counts(void) { return rocks_counts; }

static rocks_backend *as_rocks(sim_backend *b) {
    assert(b != NULL);
    assert(strcmp(b->ops->name, "rocksdb") == 0);
    return (rocks_backend *)b;
}

/* ---- errors ---------------------------------------------------------- */

/* RocksDB reports damage as "Corruption: ..." (block checksum mismatch,
 * bad magic, ...): those become checksum errors, the rest RocksDB errors.
 * Takes ownership of err. */
static rt_err rocks_fail_at(rt_error *e, char *err, const char *what, const char *name,
                            const char *file, int line) {
    assert(err != NULL);
    rt_err code = (strstr(err, "Corruption") != NULL || strstr(err, "checksum") != NULL)
                      ? RT_ECHECKSUM
                      : RT_EROCKSDB;
    rt_error_set(e, code, file, line, "rocksdb %s %s: %s", what, name, err);
    rocksdb_free(err);
    return code;
}
#define ROCKS_FAIL(e, err, what, name) rocks_fail_at((e), (err), (what), (name), __FILE__, __LINE__)

static rt_err check_usable(const rocks_backend *b, rt_error *e) {
    if (!b->broken) return RT_OK;
    return RT_FAIL(e, RT_EINTERNAL,
                   "rocksdb backend used after a failed restore (it must be discarded)");
}

/* ---- keys -------------------------------------------------------------- */

static void key_encode(uint32_t kg, uint64_t key, uint8_t out[ROCKS_KEY_BYTES]) {
    assert(kg <= ROCKS_KG_MAX);
    out[0] = (uint8_t)(kg >> 8);
    out[1] = (uint8_t)kg;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(key >> (56 - 8 * i));
}

static void key_decode(const uint8_t in[ROCKS_KEY_BYTES], uint32_t *kg, uint64_t *key) {
    *kg = (uint32_t)in[0] << 8 | in[1];
    uint64_t k = 0;
    for (int i = 0; i < 8; i++) k = k << 8 | in[2 + i];
    *key = k;
}

/* ---- local files ------------------------------------------------------- */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

/* rm -rf of a directory we own; a missing one is fine. */
static rt_err rm_tree(const char *path, rt_error *e) {
    assert(path != NULL);
    assert(strlen(path) > 1);
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT) return RT_OK;
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return RT_FAIL(e, RT_EIO, "rocksdb: cannot remove %s: %s", path, strerror(errno));
    return RT_OK;
}

static rt_err mkdir_p(const char *path, rt_error *e) {
    char buf[PATH_MAX];
    if (path[0] == '\0' || strlen(path) >= sizeof buf)
        return RT_FAIL(e, RT_EUSAGE, "rocksdb: bad work_dir '%s'", path);
    strcpy(buf, path);
    for (char *p = buf + 1;; p++) {
        int end = (*p == '\0');
        if (*p != '/' && !end) continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return RT_FAIL(e, RT_EIO, "rocksdb: cannot create %s: %s", buf, strerror(errno));
        if (end) return RT_OK;
        *p = '/';
    }
}

static rt_err join_path(char *out, size_t cap, const char *dir, const char *name, rt_error *e) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return RT_FAIL(e, RT_EINTERNAL, "rocksdb: path too long: %s/%s", dir, name);
    return RT_OK;
}

/* A directory under work_dir that nothing else uses (a stale one left by an
 * earlier process in the same work_dir is removed first). */
static rt_err fresh_dir(rocks_backend *b, const char *kind, char *out, size_t cap, rt_error *e) {
    char name[32];
    snprintf(name, sizeof name, "%s-%u", kind, b->dir_seq++);
    rt_err rc = join_path(out, cap, b->work_dir, name, e);
    if (rc != RT_OK) return rc;
    return rm_tree(out, e);
}

static rt_err read_local(const char *path, uint8_t **data, size_t *len, rt_error *e) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return RT_FAIL(e, RT_EIO, "rocksdb: cannot read %s: %s", path, strerror(errno));
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL) {
        close(fd);
        return RT_FAIL(e, RT_ENOMEM, "rocksdb: out of memory reading %s", path);
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return RT_FAIL(e, RT_EIO, "rocksdb: short read of %s", path);
    }
    *data = buf;
    *len = n;
    return RT_OK;
}

/* O_EXCL: a handle listing one local name twice is refused, not merged. */
static rt_err write_local(const char *path, const uint8_t *data, size_t len, rt_error *e) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return RT_FAIL(e, errno == EEXIST ? RT_EFORMAT : RT_EIO, "rocksdb: cannot write %s: %s",
                       path, errno == EEXIST ? "listed twice in the handle" : strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w <= 0) break;
        done += (size_t)w;
    }
    int closed = close(fd);
    if (done != len || closed != 0)
        return RT_FAIL(e, RT_EIO, "rocksdb: short write of %s", path);
    return RT_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* The regular files of dir, sorted bytewise (never readdir's order). */
static rt_err list_sorted(const char *dir, char (**names)[ROCKS_NAME_MAX], int *n, rt_error *e) {
    DIR *d = opendir(dir);
    if (d == NULL) return RT_FAIL(e, RT_EIO, "rocksdb: cannot list %s: %s", dir, strerror(errno));
    char(*out)[ROCKS_NAME_MAX] = NULL;
    int count = 0, cap = 0;
    rt_err rc = RT_OK;
    for (struct dirent *de; rc == RT_OK && (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (strlen(de->d_name) >= ROCKS_NAME_MAX || count == ROCKS_DIR_FILES_MAX) {
            rc = RT_FAIL(e, RT_EINTERNAL, "rocksdb: unexpected file %s in %s", de->d_name, dir);
            break;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            void *grown = realloc(out, (size_t)cap * sizeof *out);
            if (grown == NULL) rc = RT_FAIL(e, RT_ENOMEM, "rocksdb: out of memory");
            else out = grown;
        }
        if (rc == RT_OK) strcpy(out[count++], de->d_name);
    }
    closedir(d);
    if (rc != RT_OK) {
        free(out);
        return rc;
    }
    if (count > 1) qsort(out, (size_t)count, sizeof *out, cmp_name);
    *names = out;
    *n = count;
    return RT_OK;
}

static int is_sst(const char *name) {
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".sst") == 0;
}

/* ---- SST maps (Flink's uploadedSstFiles) -------------------------------- */

static void map_free(rocks_sst_map *m) {
    free(m->f);
    memset(m, 0, sizeof *m);
}

static const sim_file_ref *map_find(const rocks_sst_map *m, const char *local_name) {
    int lo = 0, hi = m->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(m->f[mid].local_name, local_name);
        if (c == 0) return &m->f[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* Appends; callers add in sorted order (or sort once with map_sort). */
static rt_err map_add(rocks_sst_map *m, const sim_file_ref *f, rt_error *e) {
    if (m->n == ROCKS_SST_MAP_MAX)
        return RT_FAIL(e, RT_EINTERNAL, "rocksdb: more than %d SST files in one snapshot",
                       ROCKS_SST_MAP_MAX);
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 16;
        sim_file_ref *grown = realloc(m->f, (size_t)cap * sizeof *grown);
        if (grown == NULL) return RT_FAIL(e, RT_ENOMEM, "rocksdb: out of memory");
        m->f = grown;
        m->cap = cap;
    }
    m->f[m->n++] = *f;
    return RT_OK;
}

static int cmp_ref(const void *a, const void *b) {
    return strcmp(((const sim_file_ref *)a)->local_name, ((const sim_file_ref *)b)->local_name);
}

static void map_sort(rocks_sst_map *m) {
    if (m->n > 1) qsort(m->f, (size_t)m->n, sizeof *m->f, cmp_ref);
    for (int i = 1; i < m->n; i++) assert(strcmp(m->f[i - 1].local_name, m->f[i].local_name) < 0);
}

static void pending_remove(rocks_backend *b, int i) {
    assert(i >= 0);
    assert(i < b->n_pending);
    map_free(&b->pending[i]);
    memmove(&b->pending[i], &b->pending[i + 1],
            (size_t)(b->n_pending - i - 1) * sizeof b->pending[0]);
    b->n_pending--;
    memset(&b->pending[b->n_pending], 0, sizeof b->pending[0]);
}

static int pending_find(const rocks_backend *b, int64_t id) {
    for (int i = 0; i < b->n_pending; i++)
        if (b->pending[i].checkpoint_id == id) return i;
    return -1;
}

/* Takes ownership of m; keeps the list sorted by id and bounded (the
 * oldest pending checkpoint is forgotten first: it can no longer become
 * the base once a later one completes anyway). */
static void pending_put(rocks_backend *b, rocks_sst_map *m) {
    int old = pending_find(b, m->checkpoint_id);
    if (old >= 0) pending_remove(b, old);
    if (b->n_pending == ROCKS_PENDING_MAX) pending_remove(b, 0);
    int at = b->n_pending;
    while (at > 0 && b->pending[at - 1].checkpoint_id > m->checkpoint_id) at--;
    memmove(&b->pending[at + 1], &b->pending[at],
            (size_t)(b->n_pending - at) * sizeof b->pending[0]);
    b->pending[at] = *m;
    b->n_pending++;
    memset(m, 0, sizeof *m);
    assert(b->n_pending <= ROCKS_PENDING_MAX);
}

/* Whether the map holds this SST (same name, same size). */
static int sst_in(const rocks_sst_map *m, const char *name, uint64_t size) {
    const sim_file_ref *f = map_find(m, name);
    return f != NULL && f->size == size;
}

/* A copy of m's names and sizes as the last snapshot taken. */
static rt_err remember_taken(rocks_backend *b, const rocks_sst_map *m, rt_error *e) {
    rocks_sst_map copy = {.checkpoint_id = m->checkpoint_id};
    for (int i = 0; i < m->n; i++) {
        rt_err rc = map_add(&copy, &m->f[i], e);
        if (rc != RT_OK) {
            map_free(&copy);
            return rc;
        }
    }
    map_sort(&copy);
    map_free(&b->last_taken);
    b->last_taken = copy;
    return RT_OK;
}

static void set_base(rocks_backend *b, rocks_sst_map *m) {
    map_free(&b->base_map);
    b->base_map = *m;
    b->has_base = 1;
    memset(m, 0, sizeof *m);
}

/* ---- opening a DB ------------------------------------------------------- */

static int db_find(const rocks_db *d, const char *name) {
    for (int i = 0; i < d->n_cf; i++)
        if (strcmp(d->name[i], name) == 0) return i;
    return -1;
}

static rt_err db_add_name(rocks_db *d, const char *name, const char *dir, rt_error *e) {
    if (db_find(d, name) >= 0) return RT_OK;
    if (d->n_cf == ROCKS_CF_MAX || strlen(name) >= SIM_NAME_MAX)
        return RT_FAIL(e, RT_EFORMAT, "rocksdb: unexpected column family '%s' in %s", name, dir);
    strcpy(d->name[d->n_cf++], name);
    return RT_OK;
}

/* The column families of the DB in dir ("default" for a new one). */
static rt_err db_existing_cfs(rocks_db *d, const rocksdb_options_t *opts, const char *dir,
                              rt_error *e) {
    char current[PATH_MAX];
    rt_err rc = join_path(current, sizeof current, dir, "CURRENT", e);
    if (rc != RT_OK) return rc;
    if (access(current, F_OK) != 0) return db_add_name(d, "default", dir, e);
    char *err = NULL;
    size_t n = 0;
    char **names = rocksdb_list_column_families(opts, dir, &n, &err);
    /* The list is allocated even on error (malloc(0)): always free it. */
    for (size_t i = 0; i < n && rc == RT_OK && err == NULL; i++)
        rc = db_add_name(d, names[i], dir, e);
    if (names != NULL) rocksdb_list_column_families_destroy(names, n);
    if (err != NULL) return ROCKS_FAIL(e, err, "listing column families of", dir);
    return rc;
}

static void db_close(rocks_db *d) {
    for (int i = 0; i < d->n_cf; i++)
        if (d->cf[i] != NULL) rocksdb_column_family_handle_destroy(d->cf[i]);
    if (d->db != NULL) rocksdb_close(d->db);
    memset(d, 0, sizeof *d);
}

/* Opens dir with every column family it has plus (read-write only) one per
 * declared state. */
static rt_err db_open(rocks_db *d, const rocksdb_options_t *opts, const char *dir,
                      const sim_backend *sb, int read_only, rt_error *e) {
    memset(d, 0, sizeof *d);
    rt_err rc = db_existing_cfs(d, opts, dir, e);
    for (int i = 0; i < sb->n_states && rc == RT_OK && !read_only; i++)
        rc = db_add_name(d, sb->states[i].name, dir, e);
    if (rc != RT_OK) return rc;
    const char *names[ROCKS_CF_MAX];
    const rocksdb_options_t *cf_opts[ROCKS_CF_MAX];
    for (int i = 0; i < d->n_cf; i++) {
        names[i] = d->name[i];
        cf_opts[i] = opts;
    }
    char *err = NULL;
    d->db = read_only ? rocksdb_open_for_read_only_column_families(opts, dir, d->n_cf, names,
                                                                   cf_opts, d->cf, 0, &err)
                      : rocksdb_open_column_families(opts, dir, d->n_cf, names, cf_opts, d->cf,
                                                     &err);
    rocks_counts.opens++;
    if (err != NULL) {
        d->db = NULL;
        memset(d->cf, 0, sizeof d->cf);
        return ROCKS_FAIL(e, err, "opening", dir);
    }
    return RT_OK;
}

static void bind_states(rocks_backend *b) {
    for (int i = 0; i < b->base.n_states; i++) {
        int at = db_find(&b->live, b->base.states[i].name);
        assert(at >= 0);
        b->state_cf[i] = b->live.cf[at];
    }
}

/* 1 if every state of the backend is a payload state (sim_state.h). */
static int payload_only(const sim_backend *b) {
    for (int i = 0; i < b->n_states; i++)
        if (b->states[i].kind != SIM_STATE_PAYLOAD) return 0;
    return b->n_states > 0;
}

/* The process's Env (RocksDB's default one, whose pools are process-wide
 * anyway): made once, never destroyed (instances of forked children use
 * their own copy). */
static rocksdb_env_t *shared_env(void) {
    static rocksdb_env_t *env;
    if (env == NULL) {
        env = rocksdb_create_default_env();
        rocksdb_env_set_high_priority_background_threads(env, 1);
        rocksdb_env_set_low_priority_background_threads(env, 1);
    }
    return env;
}

/* *opts with one more option set from RocksDB's options-string syntax
 * (a copy of everything else: Env, table factory, memtable, extractor). */
static rt_err with_option(rocksdb_options_t **opts, const char *setting, rt_error *e) {
    rocksdb_options_t *out = rocksdb_options_create();
    if (out == NULL) return RT_FAIL(e, RT_ENOMEM, "rocksdb: cannot allocate options");
    char *err = NULL;
    rocksdb_get_options_from_string(*opts, setting, out, &err);
    if (err != NULL) {
        rocksdb_options_destroy(out);
        return ROCKS_FAIL(e, err, "setting option", setting);
    }
    rocksdb_options_destroy(*opts);
    *opts = out;
    return RT_OK;
}

static rt_err make_options(rocks_backend *b, rt_error *e) {
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    b->opts = rocksdb_options_create();
    b->ropts = rocksdb_readoptions_create();
    b->wopts = rocksdb_writeoptions_create();
    b->fopts = rocksdb_flushoptions_create();
    b->batch.wb = rocksdb_writebatch_create();
    if (t == NULL || !b->opts || !b->ropts || !b->wopts || !b->fopts || !b->batch.wb) {
        if (t != NULL) rocksdb_block_based_options_destroy(t);
        return RT_FAIL(e, RT_ENOMEM, "rocksdb: cannot allocate options");
    }
    rocksdb_block_based_options_set_format_version(t, b->base.engine->sst_format_write);
    /* A full bloom filter of 10 bits per key in every SST, as Flink's
     * RocksDBResourceContainer builds with state.backend.rocksdb.use-bloom-filter
     * (bits-per-key 10, block-based-mode false): a read of a key an SST
     * does not hold (a key seen for the first time, or one held only by an
     * older file) skips that file instead of searching its blocks. */
    rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_options_set_block_based_table_factory(b->opts, t); /* copies t */
    rocksdb_block_based_options_destroy(t);
    rocksdb_options_set_create_if_missing(b->opts, 1);
    rocksdb_options_set_create_missing_column_families(b->opts, 1);
    /* Synchronous and deterministic: nothing happens in the background. */
    rocksdb_options_set_disable_auto_compactions(b->opts, 1);
    rocksdb_options_set_stats_dump_period_sec(b->opts, 0);
    rocksdb_options_set_stats_persist_period_sec(b->opts, 0);
    rocksdb_options_set_info_log_level(b->opts, 3 /* ERROR: keep LOG small */);
    rocksdb_options_set_keep_log_file_num(b->opts, 1);
    rocksdb_options_set_paranoid_checks(b->opts, 1);
    /* With every file open (max_open_files -1), RocksDB loads the table
     * readers of new files on each open and after each flush's MANIFEST
     * write, in max_file_opening_threads threads made for that (16): a
     * fuzz seed started some 160 threads, one flush at a time. One loads
     * them in the caller's thread. */
    rocksdb_options_set_max_file_opening_threads(b->opts, 1);
    /* The MANIFEST gains a record with every flush and compaction, and
     * every checkpoint uploads it whole (private state): left at RocksDB's
     * 1 GiB it grows with the run, and so does each checkpoint. Rolled over
     * at this size, RocksDB starts a new one holding only the live files. */
    rocksdb_options_set_max_manifest_file_size(b->opts, ROCKS_MANIFEST_BYTES_MAX);
    /* The simulator's own (Flink leaves RocksDB's 4 MiB): every new
     * MANIFEST (one per DB opened, one per roll-over) is preallocated
     * with fallocate and cut back at close; on the tmpfs the work
     * directories live on, that allocates, zeroes and frees 4 MiB of
     * pages per MANIFEST of a few hundred bytes (a fifth of a version
     * scenario's kernel time). Preallocating our roll-over size instead
     * changes no byte of any file. */
    rocksdb_options_set_manifest_preallocation_size(b->opts, ROCKS_MANIFEST_BYTES_MAX);
    /* One Env for every instance of the process, with fixed pools: one
     * flush thread (HIGH) and one compaction thread (LOW: manual
     * compactions only). Flink's PredefinedOptions name no Env, so every
     * instance of a TaskManager shares RocksDB's default one; here it is
     * named once and its pools fixed. Nothing ever runs in two threads at
     * once: every flush and compaction is waited for. */
    rocksdb_options_set_env(b->opts, shared_env());
    /* fdatasync, not fsync, as PredefinedOptions.DEFAULT sets (Flink does
     * not recover from RocksDB's local files; nor do we: the snapshot is
     * the durable copy). */
    rocksdb_options_set_use_fsync(b->opts, 0);
    /* A state update overwrites its key's value in the memtable when the new
     * one is no longer (inplace_update_support; needs the memtable written
     * by one thread): the memtable then holds one entry per key instead of
     * one per update, so reads and writes search a small skip list. Nothing
     * iterates while we write (a scan writes the batch first and runs to
     * its end before the next record), the case the option warns about. */
    rocksdb_options_set_allow_concurrent_memtable_write(b->opts, 0);
    /* Not for payload states: their keys are new (one a record), and with
     * in-place updates on, every put first searches the memtable for the
     * key (MemTable::Update) before inserting it: two skip-list searches a
     * put instead of one, the largest cost of a large take's records. */
    rocksdb_options_set_inplace_update_support(b->opts, !payload_only(&b->base));
    /* The in-place updates take a lock striped by key hash, and every new
     * memtable (one per flush, one per column family opened) builds all of
     * them: RocksDB's 10000 cost more than the flush of a small memtable.
     * One thread writes and reads: one stripe is enough. */
    rocksdb_options_set_inplace_update_num_locks(b->opts, ROCKS_INPLACE_LOCKS);
    /* The memtable is a hash table of whole keys (a prefix extractor of the
     * key's full length and the hash-skip-list memtable, made for point
     * lookups): a read or an update hashes its key to a bucket instead of
     * searching one skip list of the whole memtable (the hash-link-list one
     * cost more: its flush iterator adds every bucket's size to a
     * histogram). Iterators ask for total order (a scan, a restore's copy, a
     * verification), which the memtable gives by sorting a copy of itself;
     * the SST files are the same block-based tables. */
    /* Not for payload states (a key written once, by one record): there
     * the hash memtable saves no search, and each flush sorts a copy of a
     * memtable of a whole write buffer, which cost most of a large take's
     * CPU; RocksDB's default skip list is sorted already. */
    /* Payload states get a smaller write buffer than RocksDB's 64 MiB
     * (Flink's state.backend.rocksdb.writebuffer.size is a knob users turn
     * too): a put of a new random key searches the whole skip list, and in
     * a memtable of 64 MiB of such keys most of that search misses the CPU
     * cache; in one of 4 MiB far less (a take of 2.5 M records: 24 s of
     * CPU at 64 MiB, 19 s at 4). The flushes write the same entries into
     * more, smaller SSTs. */
    if (payload_only(&b->base)) rocksdb_options_set_write_buffer_size(b->opts, ROCKS_PAYLOAD_WRITE_BUFFER);
    if (!payload_only(&b->base)) {
        rocksdb_options_set_prefix_extractor(b->opts,
                                             rocksdb_slicetransform_create_fixed_prefix(ROCKS_KEY_BYTES));
        rocksdb_options_set_hash_skip_list_rep(b->opts, ROCKS_MEMTABLE_BUCKETS, ROCKS_SKIP_HEIGHT,
                                               ROCKS_SKIP_BRANCHING);
    }
    /* RocksDB counts every key comparison into its thread-local perf
     * context by default (kEnableCount): a thread-local lookup per
     * comparison that nothing here reads. Off for this (the only) thread. */
    rocksdb_set_perf_level(rocksdb_disable);
    rocksdb_readoptions_set_total_order_seek(b->ropts, 1);
    rocksdb_readoptions_set_verify_checksums(b->ropts, 1); /* never off: see the top */
    rocksdb_writeoptions_disable_WAL(b->wopts, 1); /* durability comes from snapshots */
    rocksdb_flushoptions_set_wait(b->fopts, 1);
    /* Every DB closed here is removed right after (a destroyed backend, the
     * empty DB a fast restore replaces, a restore's source): RocksDB's
     * flush at close of what the memtables hold (there is no WAL) wrote
     * SSTs only for them to be deleted, a fifth of a version scenario's
     * RocksDB time. Not in the C API: set from an options string. */
    return with_option(&b->opts, "avoid_flush_during_shutdown=true", e);
}

/* ---- the write batch ---------------------------------------------------- */

static uint32_t batch_hash(int state, const uint8_t k[ROCKS_KEY_BYTES]) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)state;
    for (int i = 0; i < ROCKS_KEY_BYTES; i++) h = (h ^ k[i]) * 0x100000001b3ULL; /* FNV-1a */
    return (uint32_t)(h ^ h >> 29) & (ROCKS_BATCH_SLOTS - 1);
}

/* The slot of (state, k) in the batch's key set, or the free slot where it
 * would go (the set is at most half full: there always is one). */
static int batch_slot(const rocks_batch *q, int state, const uint8_t k[ROCKS_KEY_BYTES]) {
    uint32_t at = batch_hash(state, k);
    for (int probe = 0; probe < ROCKS_BATCH_SLOTS; probe++) {
        if (!q->full[at] || (q->state[at] == state && memcmp(q->key[at], k, ROCKS_KEY_BYTES) == 0))
            return (int)at;
        at = (at + 1) & (ROCKS_BATCH_SLOTS - 1);
    }
    assert(0 && "the batch's key set is never full");
    return -1;
}

/* Writes the batch into RocksDB in one write (WAL off) and empties it. */
static rt_err batch_flush(rocks_backend *b, rt_error *e) {
    rocks_batch *q = &b->batch;
    if (q->n == 0) return RT_OK;
    char *err = NULL;
    rocksdb_write(b->live.db, b->wopts, q->wb, &err);
    rocks_counts.writes++;
    rocksdb_writebatch_clear(q->wb);
    for (int i = 0; i < q->n; i++) q->full[q->used[i]] = 0;
    q->n = 0;
    if (err != NULL) return ROCKS_FAIL(e, err, "writing a batch into", b->db_dir);
    return RT_OK;
}

/* Before RocksDB is read for (state, k): the batch must not hold it. */
static rt_err batch_before_read(rocks_backend *b, int state, const uint8_t k[ROCKS_KEY_BYTES],
                                rt_error *e) {
    rocks_batch *q = &b->batch;
    if (q->n == 0 || !q->full[batch_slot(q, state, k)]) return RT_OK;
    return batch_flush(b, e);
}

static rt_err batch_put(rocks_backend *b, int state, const uint8_t k[ROCKS_KEY_BYTES],
                        const uint8_t *val, size_t len, rt_error *e) {
    rocks_batch *q = &b->batch;
    int at = batch_slot(q, state, k);
    if (q->full[at]) { /* a second put of the same key: write the first one */
        rt_err rc = batch_flush(b, e);
        if (rc != RT_OK) return rc;
        at = batch_slot(q, state, k);
    }
    assert(!q->full[at]);
    assert(q->n < ROCKS_BATCH_MAX);
    q->full[at] = 1;
    q->state[at] = (uint8_t)state;
    memcpy(q->key[at], k, ROCKS_KEY_BYTES);
    q->used[q->n++] = (uint16_t)at;
    rocksdb_writebatch_put_cf(q->wb, b->state_cf[state], (const char *)k, ROCKS_KEY_BYTES,
                              (const char *)val, len);
    return q->n == ROCKS_BATCH_MAX ? batch_flush(b, e) : RT_OK;
}

/* ---- the empty DB, made once a process ------------------------------ */

/* Flink opens a new RocksDB with its default column family and creates one
 * column family per state as the state is registered
 * (RocksDBOperationUtils.createColumnFamily), and so does an open with
 * create_missing_column_families: RocksDB writes, then parses back, a new
 * OPTIONS file for each one, two thirds of the cost of a new instance
 * (9.4 ms of CPU with three states, 3.5 ms to open the same DB once it
 * exists). Every new DB of a process with the same column families and
 * options is the same empty DB, so the first one's files are kept in memory
 * and every new DB (the first one too: whether the template was made before
 * changes no file name) is written from them and opened as an existing DB:
 * CURRENT, IDENTITY, MANIFEST and the empty WAL. The OPTIONS file is left
 * out (the open writes the options it is given) and so are LOCK and LOG.
 * The copies share the IDENTITY (a random UUID nothing here reads). */
#define ROCKS_TEMPLATES_MAX 16
#define ROCKS_TEMPLATE_FILES_MAX 8

typedef struct rocks_template {
    char *key; /* format_version, payload_only, the column family names */
    int n_files;
    char name[ROCKS_TEMPLATE_FILES_MAX][ROCKS_NAME_MAX];
    uint8_t *data[ROCKS_TEMPLATE_FILES_MAX];
    size_t len[ROCKS_TEMPLATE_FILES_MAX];
} rocks_template;

/* Process-wide like the Env, never freed; a forked child reads its copy. */
static rocks_template rocks_templates[ROCKS_TEMPLATES_MAX];
static int rocks_n_templates;

static char *template_key(const rocks_backend *b) {
    size_t cap = 32;
    for (int i = 0; i < b->base.n_states; i++) cap += strlen(b->base.states[i].name) + 1;
    char *k = malloc(cap);
    if (k == NULL) return NULL;
    int n = snprintf(k, cap, "%d/%d", b->base.engine->sst_format_write, payload_only(&b->base));
    for (int i = 0; i < b->base.n_states; i++)
        n += snprintf(k + n, cap - (size_t)n, "/%s", b->base.states[i].name);
    assert((size_t)n < cap);
    return k;
}

static int template_keeps(const char *name) {
    return strcmp(name, "LOCK") != 0 && strncmp(name, "LOG", 3) != 0 &&
           strncmp(name, "OPTIONS-", 8) != 0;
}

/* Makes the empty DB in work_dir/template (not a fresh_dir: the sequence
 * of directory names must not depend on whether this process made it
 * before) and keeps its files. */
static rt_err template_make(rocks_backend *b, rocks_template *t, rt_error *e) {
    char dir[PATH_MAX];
    rt_err rc = join_path(dir, sizeof dir, b->work_dir, "template", e);
    if (rc == RT_OK) rc = rm_tree(dir, e);
    rocks_db d;
    if (rc == RT_OK) rc = db_open(&d, b->opts, dir, &b->base, 0, e);
    if (rc != RT_OK) return rc;
    db_close(&d);
    char(*names)[ROCKS_NAME_MAX] = NULL;
    int n = 0;
    rc = list_sorted(dir, &names, &n, e);
    for (int i = 0; i < n && rc == RT_OK; i++) {
        if (!template_keeps(names[i])) continue;
        if (t->n_files == ROCKS_TEMPLATE_FILES_MAX) {
            rc = RT_FAIL(e, RT_EINTERNAL, "rocksdb: unexpected file %s in a new DB", names[i]);
            break;
        }
        char path[PATH_MAX];
        int at = t->n_files;
        rc = join_path(path, sizeof path, dir, names[i], e);
        if (rc == RT_OK) rc = read_local(path, &t->data[at], &t->len[at], e);
        if (rc == RT_OK) strcpy(t->name[t->n_files++], names[i]);
    }
    free(names);
    rt_err rm = rm_tree(dir, rc == RT_OK ? e : NULL);
    return rc != RT_OK ? rc : rm;
}

static void template_free(rocks_template *t) {
    free(t->key);
    for (int i = 0; i < t->n_files; i++) free(t->data[i]);
    memset(t, 0, sizeof *t);
}

/* The template for b's column families and options, made if need be. */
static rt_err template_for(rocks_backend *b, const rocks_template **out, rt_error *e) {
    char *key = template_key(b);
    if (key == NULL) return RT_FAIL(e, RT_ENOMEM, "rocksdb: out of memory");
    for (int i = 0; i < rocks_n_templates; i++) {
        if (strcmp(rocks_templates[i].key, key) == 0) {
            free(key);
            *out = &rocks_templates[i];
            return RT_OK;
        }
    }
    rocks_template t = {.key = key};
    rt_err rc = template_make(b, &t, e);
    if (rc != RT_OK) {
        template_free(&t);
        return rc;
    }
    if (rocks_n_templates == ROCKS_TEMPLATES_MAX) template_free(&rocks_templates[--rocks_n_templates]);
    rocks_templates[rocks_n_templates] = t;
    *out = &rocks_templates[rocks_n_templates++];
    return RT_OK;
}

/* Writes a new empty DB with b's column families into dir (absent). */
static rt_err write_new_db(rocks_backend *b, const char *dir, rt_error *e) {
    const rocks_template *t = NULL;
    rt_err rc = template_for(b, &t, e);
    if (rc == RT_OK) rc = mkdir_p(dir, e);
    for (int i = 0; rc == RT_OK && i < t->n_files; i++) {
        char path[PATH_MAX];
        rc = join_path(path, sizeof path, dir, t->name[i], e);
        if (rc == RT_OK) rc = write_local(path, t->data[i], t->len[i], e);
    }
    return rc;
}

/* ---- get / put / scan ------------------------------------------------- */

/* The live DB is opened on first use, not when the backend is made: a
 * backend whose first act is a fast restore (a restored task) takes the
 * restored files as its DB and never makes an empty one only to remove
 * it (its MANIFEST, OPTIONS, column families, LOG, each written and
 * verified). */
static rt_err ensure_live(rocks_backend *b, rt_error *e) {
    if (b->live.db != NULL) return RT_OK;
    rt_err rc = fresh_dir(b, "db", b->db_dir, sizeof b->db_dir, e);
    if (rc == RT_OK) rc = write_new_db(b, b->db_dir, e);
    if (rc == RT_OK) rc = db_open(&b->live, b->opts, b->db_dir, &b->base, 0, e);
    if (rc == RT_OK) bind_states(b);
    return rc;
}

static rt_err check_state(rocks_backend *b, int state, rt_error *e) {
    if (state >= 0 && state < b->base.n_states) {
        rt_err rc = check_usable(b, e);
        return rc == RT_OK ? ensure_live(b, e) : rc;
    }
    return RT_FAIL(e, RT_EINTERNAL, "rocksdb: no state #%d (the backend has %d)", state,
                   b->base.n_states);
}

static rt_err rocks_get(sim_backend *sb, int state, uint32_t kg, uint64_t key, uint8_t *val,
                        size_t cap, size_t *len, int *found, rt_error *e) {
    rocks_backend *b = as_rocks(sb);
    rt_err rc = check_state(b, state, e);
    if (rc != RT_OK) return rc;
    uint8_t k[ROCKS_KEY_BYTES];
    key_encode(kg, key, k);
    rc = batch_before_read(b, state, k, e);
    if (rc != RT_OK) return rc;
    char *err = NULL;
    rocks_counts.gets++;
    rocksdb_pinnableslice_t *p = rocksdb_get_pinned_cf(b->live.db, b->ropts, b->state_cf[state],
                                                       (const char *)k, sizeof k, &err);
    if (err != NULL) return ROCKS_FAIL(e, err, "get in state", b->base.states[state].name);
    *found = (p != NULL);
    *len = 0;
    if (p == NULL) return RT_OK;
    size_t n = 0;
    const char *v = rocksdb_pinnableslice_value(p, &n);
    if (n > cap) rc = RT_FAIL(e, RT_EINTERNAL, "rocksdb: value of %zu bytes exceeds %zu", n, cap);
    else {
        memcpy(val, v, n);
        *len = n;
    }
    rocksdb_pinnableslice_destroy(p);
    return rc;
}

static rt_err rocks_put(sim_backend *sb, int state, uint32_t kg, uint64_t key, const uint8_t *val,
                        size_t len, rt_error *e) {
    rocks_backend *b = as_rocks(sb);
    rt_err rc = check_state(b, state, e);
    if (rc != RT_OK) return rc;
    if (kg < b->base.kg_lo || kg > b->base.kg_hi)
        return RT_FAIL(e, RT_EINTERNAL, "rocksdb: key group %u outside [%u, %u]", kg,
                       b->base.kg_lo, b->base.kg_hi);
    uint8_t k[ROCKS_KEY_BYTES];
    key_encode(kg, key, k);
    b->written = 1;
    rc = batch_put(b, state, k, val, len, e);
    if (rc != RT_OK) rt_error_prefix(e, "put in state %s: ", b->base.states[state].name);
    return rc;
}

/* Visits every entry of one column family with checksums verified; fn
 * returns <0 to fail (having set e), >0 to stop, 0 to go on. */
typedef int (*cf_visit_fn)(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                           size_t vlen, rt_error *e);

static rt_err cf_iterate(rocksdb_t *db, const rocksdb_readoptions_t *ro,
                         rocksdb_column_family_handle_t *cf, const char *what, cf_visit_fn fn,
                         void *ctx, rt_error *e) {
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(db, ro, cf);
    int stop = 0;
    for (rocksdb_iter_seek_to_first(it); !stop && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);
        stop = fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen, e);
    }
    char *err = NULL;
    if (stop >= 0) rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    if (stop < 0) return e != NULL ? e->code : RT_EINTERNAL;
    if (err != NULL) return ROCKS_FAIL(e, err, "reading", what);
    return RT_OK;
}

static int bad_key(size_t klen, const char *what, rt_error *e) {
    RT_FAIL(e, RT_EFORMAT, "rocksdb: key of %zu bytes in state %s (expected %d)", klen, what,
            ROCKS_KEY_BYTES);
    return -1;
}

typedef struct scan_ctx {
    const char *state_name;
    int state;
    sim_scan_fn fn;
    void *fn_ctx;
} scan_ctx;

static int scan_visit(void *c, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                      rt_error *e) {
    scan_ctx *s = c;
    if (klen != ROCKS_KEY_BYTES) return bad_key(klen, s->state_name, e);
    uint32_t kg;
    uint64_t key;
    key_decode(k, &kg, &key);
    return s->fn(s->fn_ctx, s->state, kg, key, v, vlen) != 0 ? 1 : 0;
}

static rt_err rocks_scan(sim_backend *sb, int state, sim_scan_fn fn, void *ctx, rt_error *e) {
    rocks_backend *b = as_rocks(sb);
    rt_err rc = check_state(b, state, e);
    if (rc != RT_OK) return rc;
    rc = batch_flush(b, e);
    if (rc != RT_OK) return rc;
    scan_ctx s = {b->base.states[state].name, state, fn, ctx};
    return cf_iterate(b->live.db, b->ropts, b->state_cf[state], s.state_name, scan_visit, &s, e);
}

/* ---- snapshots ---------------------------------------------------------- */

/* Flushes every memtable, then compacts a state whose L0 grew past the
 * bound (synchronously: CompactRange returns when done), so file counts
 * stay bounded over long runs without any background compaction. */
static void compact_l0(rocks_backend *b) {
    for (int i = 0; i < b->base.n_states; i++) {
        rocksdb_column_family_handle_t *cf = b->state_cf[i];
        char *l0 = rocksdb_property_value_cf(b->live.db, cf, "rocksdb.num-files-at-level0");
        long files = l0 != NULL ? strtol(l0, NULL, 10) : 0;
        rocksdb_free(l0);
        if (files >= ROCKS_L0_COMPACT_AT)
            rocksdb_compact_range_cf(b->live.db, cf, NULL, 0, NULL, 0);
    }
}

static rt_err flush_all(rocks_backend *b, rt_error *e) {
    rt_err rc = batch_flush(b, e);
    if (rc != RT_OK) return rc;
    for (int i = 0; i < b->live.n_cf; i++) {
        char *err = NULL;
        rocksdb_flush_cf(b->live.db, b->fopts, b->live.cf[i], &err);
        rocks_counts.flushes++;
        if (err != NULL) return ROCKS_FAIL(e, err, "flushing", b->live.name[i]);
    }
    compact_l0(b);
    return RT_OK;
}

static rt_err make_checkpoint(rocks_backend *b, const char *dir, rt_error *e) {
    char *err = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(b->live.db, &err);
    if (err != NULL) return ROCKS_FAIL(e, err, "creating a checkpoint object for", b->db_dir);
    rocksdb_checkpoint_create(cp, dir, 0, &err);
    rocks_counts.checkpoints++;
    rocksdb_checkpoint_object_destroy(cp);
    if (err != NULL) return ROCKS_FAIL(e, err, "creating checkpoint", dir);
    return RT_OK;
}

typedef struct snap_stats {
    int uploaded, reused;
    uint64_t bytes_uploaded, bytes_reused;
} snap_stats;

/* An earlier upload of this SST that this checkpoint may reference by
 * placeholder (RocksIncrementalSnapshotStrategy's confirmedSstFiles): only
 * incremental FORWARD_BACKWARD checkpoints, only files of the last
 * checkpoint the task was told completed (notifyCheckpointComplete: the
 * coordinator has confirmed them), and only the same file (same size).
 * The task knows nothing else of the coordinator's registry. *confirmed
 * says whether it was such a file: FLINK-25395's bug also takes the files
 * of the latest snapshot taken, completed or not (the uploadedStateIDs of
 * FLINK-24611, reverted by FLINK-25395's fix). */
static const sim_file_ref *reusable(const rocks_backend *b, const sim_snap_ctx *ctx,
                                    const char *name, uint64_t size, int *confirmed) {
    if (ctx->sharing != SIM_SHARE_FORWARD_BACKWARD || !b->base.incremental ||
        (b->base.bugs & SIM_BACKEND_BUG_CONFIRM_NOTHING))
        return NULL;
    const sim_file_ref *f = NULL;
    *confirmed = 0;
    if ((b->base.bugs & SIM_BACKEND_BUG_REUSE_UNCONFIRMED) && b->n_pending > 0)
        f = map_find(&b->pending[b->n_pending - 1], name);
    if (f == NULL && b->has_base) {
        f = map_find(&b->base_map, name);
        *confirmed = 1;
    }
    return f != NULL && f->size == size ? f : NULL;
}

/* Where a new file goes: SSTs of checkpoints into shared_dir (unique by
 * subtask, checkpoint and local name), everything of a savepoint and every
 * private file into the snapshot's own dir. */
static rt_err store_path(const sim_snap_ctx *ctx, const char *name, char *out, size_t cap,
                         rt_error *e) {
    int shared = is_sst(name) && ctx->sharing != SIM_SHARE_NO_SHARING;
    if (shared && ctx->shared_dir == NULL)
        return RT_FAIL(e, RT_EINTERNAL, "rocksdb: %s checkpoint without a shared dir",
                       sim_sharing_name(ctx->sharing));
    int n = shared ? snprintf(out, cap, "%s/%s-%" PRId64 "-%s", ctx->shared_dir,
                              ctx->file_prefix, ctx->checkpoint_id, name)
                   : snprintf(out, cap, "%s/%s-%s", ctx->dir, ctx->file_prefix, name);
    if (n < 0 || (size_t)n >= cap)
        return RT_FAIL(e, RT_EINTERNAL, "rocksdb: snapshot path too long for %s", name);
    return RT_OK;
}

static rt_err upload_new(const char *local, const char *name, sim_snap_ctx *ctx,
                         sim_file_ref *ref, rt_error *e) {
    char path[SIM_PATH_MAX];
    rt_err rc = store_path(ctx, name, path, sizeof path, e);
    uint8_t *data = NULL;
    size_t len = 0;
    if (rc == RT_OK) rc = read_local(local, &data, &len, e);
    if (rc == RT_OK) rc = sim_upload(ctx, path, data, len, ref, e);
    free(data);
    return rc;
}

/* One file of the local checkpoint into the handle (and, for an SST of a
 * checkpoint, into the map of what this checkpoint holds). */
static rt_err snapshot_file(rocks_backend *b, sim_snap_ctx *ctx, const char *dir,
                            const char *name, rocks_sst_map *made, sim_keyed_handle *out,
                            snap_stats *st, rt_error *e) {
    char local[PATH_MAX];
    rt_err rc = join_path(local, sizeof local, dir, name, e);
    struct stat sbuf;
    if (rc == RT_OK && stat(local, &sbuf) != 0)
        rc = RT_FAIL(e, RT_EIO, "rocksdb: cannot stat %s: %s", local, strerror(errno));
    if (rc != RT_OK) return rc;
    sim_file_ref ref;
    int confirmed = 0;
    const sim_file_ref *old = is_sst(name) ? reusable(b, ctx, name, (uint64_t)sbuf.st_size, &confirmed) : NULL;
    if (old != NULL) {
        ref = *old; /* a placeholder: the earlier upload, confirmed */
        /* Unconfirmed (FLINK-25395's bug), the original handle is sent
         * again: to the registry it is this checkpoint's own. */
        if (!confirmed) ref.created_by = ctx->checkpoint_id;
        st->reused++;
        st->bytes_reused += ref.size;
    } else {
        rc = upload_new(local, name, ctx, &ref, e);
        if (rc != RT_OK) return rc;
        st->uploaded++;
        st->bytes_uploaded += ref.size;
        if (is_sst(name)) ctx->sst_bytes_uploaded += ref.size;
    }
    snprintf(ref.local_name, sizeof ref.local_name, "%s", name);
    ref.shared = is_sst(name); /* SSTs are shared state, even a savepoint's */
    if (ref.shared && ctx->sharing != SIM_SHARE_NO_SHARING) rc = map_add(made, &ref, e);
    if (rc == RT_OK) rc = sim_handle_add_file(out, &ref, e);
    return rc;
}

static void fill_header(const rocks_backend *b, const sim_snap_ctx *ctx, sim_keyed_handle *out) {
    sim_handle_init(out);
    strcpy(out->format, "rocksdb-native");
    strcpy(out->backend, "rocksdb");
    out->kg_lo = b->base.kg_lo;
    out->kg_hi = b->base.kg_hi;
    out->incremental = b->base.incremental;
    out->sst_format_version = b->base.engine->sst_format_write;
    out->checkpoint_id = ctx->checkpoint_id;
    out->n_states = b->base.n_states;
    memcpy(out->states, b->base.states, sizeof out->states);
    out->key_type = b->base.key_type;
}

/* Uploads the files of the local checkpoint in dir in sorted order. */
static rt_err upload_checkpoint(rocks_backend *b, sim_snap_ctx *ctx, const char *dir,
                                rocks_sst_map *made, sim_keyed_handle *out, snap_stats *st,
                                rt_error *e) {
    char(*names)[ROCKS_NAME_MAX] = NULL;
    int n = 0;
    rt_err rc = list_sorted(dir, &names, &n, e);
    for (int i = 0; i < n && rc == RT_OK; i++)
        rc = snapshot_file(b, ctx, dir, names[i], made, out, st, e);
    free(names);
    return rc;
}

static void trace_snapshot(const rocks_backend *b, const sim_snap_ctx *ctx,
                           const sim_keyed_handle *out, const snap_stats *st) {
    if (ctx->trace == NULL) return;
    /* Counts and sizes only: SST bytes carry random ids and wall-clock times. */
    rt_trace_event(ctx->trace, ctx->now_ms, "rocksdb_snapshot",
                   "\"chk\":%" PRId64 ",\"prefix\":\"%s\",\"sharing\":\"%s\",\"incremental\":%d,"
                   "\"kg\":[%u,%u],\"files\":%d,\"uploaded\":%d,\"reused\":%d,"
                   "\"bytes_uploaded\":%" PRIu64 ",\"bytes_reused\":%" PRIu64,
                   ctx->checkpoint_id, ctx->file_prefix, sim_sharing_name(ctx->sharing),
                   b->base.incremental, b->base.kg_lo, b->base.kg_hi, out->n_files, st->uploaded,
                   st->reused, st->bytes_uploaded, st->bytes_reused);
}

/* The SST files RocksDB's own metadata lists as live (rocksdb_livefiles,
 * every column family), by name and size: measured beside the upload, not
 * from the local checkpoint the upload reads. */
static rt_err live_ssts(const rocks_backend *b, rocks_sst_map *out, rt_error *e) {
    const rocksdb_livefiles_t *lf = rocksdb_livefiles(b->live.db);
    if (lf == NULL) return RT_FAIL(e, RT_EROCKSDB, "rocksdb: no live-file metadata for %s", b->db_dir);
    rt_err rc = RT_OK;
    int n = rocksdb_livefiles_count(lf);
    for (int i = 0; i < n && rc == RT_OK; i++) {
        const char *name = rocksdb_livefiles_name(lf, i);
        while (*name == '/') name++; /* "/000012.sst" */
        sim_file_ref f;
        memset(&f, 0, sizeof f);
        if (strlen(name) >= sizeof f.local_name || !is_sst(name))
            rc = RT_FAIL(e, RT_EINTERNAL, "rocksdb: unexpected live file '%s'", name);
        else {
            snprintf(f.local_name, sizeof f.local_name, "%s", name);
            f.size = (uint64_t)rocksdb_livefiles_size(lf, i);
            rc = map_add(out, &f, e);
        }
    }
    rocksdb_livefiles_destroy(lf);
    if (rc == RT_OK) map_sort(out);
    return rc;
}

/* Bytes of the live SSTs RocksDB created since the last checkpoint snapshot
 * taken (a name and size it did not have then); *live keeps the live set,
 * for the caller to remember once a checkpoint's snapshot worked. */
static rt_err measure_new_ssts(rocks_backend *b, sim_snap_ctx *ctx, rocks_sst_map *live,
                               rt_error *e) {
    rt_err rc = live_ssts(b, live, e);
    for (int i = 0; rc == RT_OK && i < live->n; i++)
        if (!sst_in(&b->last_taken, live->f[i].local_name, live->f[i].size))
            ctx->sst_bytes_new += live->f[i].size;
    return rc;
}

/* Fills out from scratch (anything it held is overwritten, not freed). On
 * failure out keeps the files uploaded so far, for the caller to clean up,
 * and nothing is remembered for later checkpoints. */
static rt_err rocks_snapshot(sim_backend *sb, sim_snap_ctx *ctx, sim_keyed_handle *out,
                             rt_error *e) {
    rocks_backend *b = as_rocks(sb);
    assert(ctx != NULL);
    assert(ctx->store != NULL);
    assert(ctx->dir != NULL);
    assert(ctx->file_prefix != NULL);
    /* RocksDBKeyedStateBackendBuilder: without incremental checkpoints an
     * engine up to 1.15 snapshots with RocksFullSnapshotStrategy, a
     * key-group stream and no SSTs (a native savepoint too: it runs the
     * checkpoint strategy); later ones with RocksNativeFullSnapshotStrategy. */
    if (!b->base.incremental && b->base.engine->full_snapshot == SIM_FULL_KEY_GROUPS) {
        rt_err rc = check_usable(b, e);
        if (rc == RT_OK) rc = sim_key_groups_write(sb, ctx, out, e);
        return rc;
    }
    fill_header(b, ctx, out);
    rt_err rc = check_usable(b, e);
    if (rc == RT_OK) rc = ensure_live(b, e);
    rocks_sst_map live = {.checkpoint_id = ctx->checkpoint_id};
    if (rc == RT_OK) rc = flush_all(b, e);
    if (rc == RT_OK) rc = measure_new_ssts(b, ctx, &live, e);
    char dir[PATH_MAX];
    if (rc == RT_OK) rc = fresh_dir(b, "snap", dir, sizeof dir, e);
    if (rc != RT_OK) {
        map_free(&live);
        return rc;
    }
    rocks_sst_map made = {.checkpoint_id = ctx->checkpoint_id};
    snap_stats st = {0, 0, 0, 0};
    rc = make_checkpoint(b, dir, e);
    if (rc == RT_OK) rc = upload_checkpoint(b, ctx, dir, &made, out, &st, e);
    rt_err rm = rm_tree(dir, rc == RT_OK ? e : NULL);
    if (rc == RT_OK) rc = rm;
    if (rc != RT_OK) {
        map_free(&made);
        map_free(&live);
        return rc;
    }
    /* A savepoint (NO_SHARING) is never a base: the next checkpoint stays
     * incremental against the last checkpoint, and is measured against it. */
    if (ctx->sharing != SIM_SHARE_NO_SHARING) {
        map_sort(&made);
        pending_put(b, &made);
        map_free(&b->last_taken);
        b->last_taken = live;
    } else {
        map_free(&made);
        map_free(&live);
    }
    trace_snapshot(b, ctx, out, &st);
    return RT_OK;
}

/* Flink's notifyCheckpointComplete (with FLINK-23949): only a checkpoint we
 * hold a map for becomes the base; a savepoint's id changes nothing.
 * Before the fix any completed id newer than the base became the last
 * completed checkpoint and the maps below it were dropped: after a
 * savepoint the next checkpoint had no base and uploaded everything. */
static void rocks_notify_complete(sim_backend *sb, int64_t id) {
    rocks_backend *b = as_rocks(sb);
    int at = pending_find(b, id);
    if (at < 0 && (b->base.bugs & SIM_BACKEND_BUG_SAVEPOINT_IS_BASE) &&
        (!b->has_base || id > b->base_map.checkpoint_id)) {
        rocks_sst_map none = {.checkpoint_id = id};
        set_base(b, &none);
        while (b->n_pending > 0 && b->pending[0].checkpoint_id < id) pending_remove(b, 0);
    }
    if (at < 0) return;
    if (b->has_base && id <= b->base_map.checkpoint_id) return;
    set_base(b, &b->pending[at]);
    while (b->n_pending > 0 && b->pending[0].checkpoint_id <= id) pending_remove(b, 0);
    assert(pending_find(b, id) < 0);
}

static void rocks_notify_abort(sim_backend *sb, int64_t id) {
    rocks_backend *b = as_rocks(sb);
    int at = pending_find(b, id);
    if (at >= 0) pending_remove(b, at);
    assert(pending_find(b, id) < 0);
}

/* ---- restore ---------------------------------------------------------- */

static rt_err check_local_name(const sim_file_ref *f, rt_error *e) {
    const char *n = f->local_name;
    size_t len = strnlen(n, sizeof f->local_name);
    if (len == 0 || len == sizeof f->local_name || strchr(n, '/') != NULL ||
        strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return RT_FAIL(e, RT_EFORMAT, "rocksdb: snapshot file %s has a bad local name '%.*s'",
                       f->path, (int)len, n);
    return RT_OK;
}

/* The reader's RocksDB must understand the SST's table format, read from
 * the footer bytes themselves (the rule: sim_version_check_sst). */
static rt_err check_sst_version(const sim_restore_ctx *ctx, const sim_file_ref *f,
                                const uint8_t *data, size_t len, rt_error *e) {
    uint32_t v = 0;
    rt_err rc = sim_sst_footer_version(data, len, f->path, &v, e);
    if (rc != RT_OK) return rc;
    return sim_version_check_sst(ctx->engine, v, f->path, e); /* shared with `snapsim check` */
}

/* Fetches every file of h into dir under its local name, checking SST
 * footers before RocksDB ever sees the bytes. */
static rt_err fetch_files(const sim_restore_ctx *ctx, const sim_keyed_handle *h, const char *dir,
                          rt_error *e) {
    if (mkdir(dir, 0755) != 0)
        return RT_FAIL(e, RT_EIO, "rocksdb: cannot create %s: %s", dir, strerror(errno));
    for (int i = 0; i < h->n_files; i++) {
        const sim_file_ref *f = &h->files[i];
        char local[PATH_MAX];
        rt_err rc = check_local_name(f, e);
        if (rc == RT_OK) rc = join_path(local, sizeof local, dir, f->local_name, e);
        uint8_t *data = NULL;
        size_t len = 0;
        if (rc == RT_OK) rc = ctx->fetch(ctx->fetch_ctx, f, &data, &len, e);
        if (rc == RT_OK && is_sst(f->local_name)) rc = check_sst_version(ctx, f, data, len, e);
        if (rc == RT_OK) rc = write_local(local, data, len, e);
        free(data);
        if (rc != RT_OK) return rc;
    }
    /* Without CURRENT, RocksDB would quietly create an empty DB here. */
    char current[PATH_MAX];
    rt_err rc = join_path(current, sizeof current, dir, "CURRENT", e);
    if (rc == RT_OK && access(current, F_OK) != 0)
        rc = RT_FAIL(e, RT_EFORMAT, "rocksdb-native handle of checkpoint %" PRId64
                     " lists no CURRENT file", h->checkpoint_id);
    return rc;
}

typedef struct verify_ctx {
    const char *cf_name;
    int declared; /* a state of ours: keys must be ours too */
    uint32_t kg_lo, kg_hi;
    uint64_t entries;
} verify_ctx;

static int verify_visit(void *c, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                        rt_error *e) {
    (void)v; (void)vlen;
    verify_ctx *x = c;
    x->entries++;
    if (!x->declared) return 0;
    if (klen != ROCKS_KEY_BYTES) return bad_key(klen, x->cf_name, e);
    uint32_t kg;
    uint64_t key;
    key_decode(k, &kg, &key);
    if (kg >= x->kg_lo && kg <= x->kg_hi) return 0;
    RT_FAIL(e, RT_EFORMAT, "rocksdb: state %s holds key group %u outside the handle's [%u, %u]",
            x->cf_name, kg, x->kg_lo, x->kg_hi);
    return -1;
}

/* Reads every block of every column family with checksums verified, so a
 * damaged block fails the restore now, not on some later read. */
static rt_err verify_all(const rocks_backend *b, const rocks_db *d, uint64_t *entries,
                         rt_error *e) {
    *entries = 0;
    for (int i = 0; i < d->n_cf; i++) {
        int declared = 0;
        for (int s = 0; s < b->base.n_states; s++)
            declared |= strcmp(b->base.states[s].name, d->name[i]) == 0;
        verify_ctx x = {d->name[i], declared, b->base.kg_lo, b->base.kg_hi, 0};
        rt_err rc = cf_iterate(d->db, b->ropts, d->cf[i], d->name[i], verify_visit, &x, e);
        if (rc != RT_OK) return rc;
        *entries += x.entries;
    }
    return RT_OK;
}

/* States the restored DB holds but this job does not declare are dropped:
 * later snapshots should not carry what nobody can read. */
static rt_err drop_undeclared(rocks_backend *b, rocks_db *d, rt_error *e) {
    for (int i = d->n_cf - 1; i >= 0; i--) {
        int keep = strcmp(d->name[i], "default") == 0;
        for (int s = 0; s < b->base.n_states; s++)
            keep |= strcmp(b->base.states[s].name, d->name[i]) == 0;
        if (keep) continue;
        char *err = NULL;
        rocksdb_drop_column_family(d->db, d->cf[i], &err);
        if (err != NULL) return ROCKS_FAIL(e, err, "dropping column family", d->name[i]);
        rocksdb_column_family_handle_destroy(d->cf[i]);
        d->n_cf--;
        memmove(&d->cf[i], &d->cf[i + 1], (size_t)(d->n_cf - i) * sizeof d->cf[0]);
        memmove(&d->name[i], &d->name[i + 1], (size_t)(d->n_cf - i) * sizeof d->name[0]);
    }
    return RT_OK;
}

/* The restored SSTs become the base of the next incremental checkpoint
 * (Flink: lastCompletedCheckpointId and uploadedSstFiles from the handle),
 * so a CLAIM or LEGACY restore may reuse them. */
static rt_err seed_base(rocks_backend *b, const sim_keyed_handle *h, rt_error *e) {
    rocks_sst_map m = {.checkpoint_id = h->checkpoint_id};
    for (int i = 0; i < h->n_files; i++) {
        if (!h->files[i].shared || !is_sst(h->files[i].local_name)) continue;
        rt_err rc = map_add(&m, &h->files[i], e);
        if (rc != RT_OK) {
            map_free(&m);
            return rc;
        }
    }
    map_sort(&m);
    while (b->n_pending > 0) pending_remove(b, 0);
    rt_err rc = remember_taken(b, &m, e);
    if (rc != RT_OK) {
        map_free(&m);
        return rc;
    }
    set_base(b, &m);
    return RT_OK;
}

/* Same key groups, nothing written yet: the restored files become our DB
 * (after every block was verified); the old, empty DB goes away. */
static rt_err restore_fast(rocks_backend *b, const char *dir, const sim_keyed_handle *h,
                           uint64_t *entries, rt_error *e) {
    rocks_db d;
    rt_err rc = db_open(&d, b->opts, dir, &b->base, 0, e);
    if (rc != RT_OK) return rc;
    rc = verify_all(b, &d, entries, e);
    if (rc == RT_OK) rc = drop_undeclared(b, &d, e);
    if (rc == RT_OK) rc = seed_base(b, h, e);
    if (rc != RT_OK) {
        db_close(&d);
        return rc;
    }
    db_close(&b->live);
    if (b->db_dir[0] != '\0') rc = rm_tree(b->db_dir, e); /* never opened: nothing to remove */
    b->live = d;
    snprintf(b->db_dir, sizeof b->db_dir, "%s", dir);
    bind_states(b);
    return rc;
}

typedef struct copy_ctx {
    const char *cf_name;
    rocksdb_writebatch_t *batch;
    rocksdb_column_family_handle_t *to;
    uint32_t kg_lo, kg_hi;
    uint64_t copied;
} copy_ctx;

static int copy_visit(void *c, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                      rt_error *e) {
    copy_ctx *x = c;
    if (klen != ROCKS_KEY_BYTES) return bad_key(klen, x->cf_name, e);
    uint32_t kg;
    uint64_t key;
    key_decode(k, &kg, &key);
    if (kg < x->kg_lo || kg > x->kg_hi) return 0;
    rocksdb_writebatch_put_cf(x->batch, x->to, (const char *)k, klen, (const char *)v, vlen);
    x->copied++;
    return 0;
}

/* Every entry of our key groups, from every declared state the source DB
 * has, into one batch; every block of those states is read (verified). */
static rt_err copy_range(rocks_backend *b, rocks_db *src, rocksdb_writebatch_t *batch,
                         uint64_t *copied, rt_error *e) {
    *copied = 0;
    for (int s = 0; s < b->base.n_states; s++) {
        int at = db_find(src, b->base.states[s].name);
        if (at < 0) continue;
        copy_ctx x = {src->name[at], batch, b->state_cf[s], b->base.kg_lo, b->base.kg_hi, 0};
        rt_err rc = cf_iterate(src->db, b->ropts, src->cf[at], src->name[at], copy_visit, &x, e);
        if (rc != RT_OK) return rc;
        *copied += x.copied;
    }
    return RT_OK;
}

/* Rescaling: the handle's DB opened read-only beside ours; our key groups
 * are copied in one atomic write once every one of them was read. */
static rt_err restore_copy(rocks_backend *b, const char *dir, uint64_t *entries, rt_error *e) {
    rocks_db src;
    rt_err rc = db_open(&src, b->opts, dir, &b->base, 1, e);
    if (rc != RT_OK) return rc;
    rocksdb_writebatch_t *batch = rocksdb_writebatch_create();
    rc = copy_range(b, &src, batch, entries, e);
    db_close(&src);
    if (rc == RT_OK) {
        char *err = NULL;
        rocksdb_write(b->live.db, b->wopts, batch, &err);
        rocks_counts.writes++;
        if (err != NULL) rc = ROCKS_FAIL(e, err, "writing restored entries into", b->db_dir);
    }
    rocksdb_writebatch_destroy(batch);
    if (rc == RT_OK) rc = rm_tree(dir, e);
    return rc;
}

/* Names the snapshot file whose local name RocksDB's message mentions. */
static void name_store_file(const sim_keyed_handle *h, rt_error *e) {
    if (e == NULL) return;
    for (int i = 0; i < h->n_files; i++) {
        if (h->files[i].local_name[0] == '\0' || strstr(e->msg, h->files[i].local_name) == NULL)
            continue;
        size_t used = strlen(e->msg);
        snprintf(e->msg + used, sizeof e->msg - used, " (snapshot file %s)", h->files[i].path);
        return;
    }
}

static rt_err restore_handle(rocks_backend *b, const sim_restore_ctx *ctx,
                             const sim_keyed_handle *h, rt_error *e) {
    char dir[PATH_MAX];
    int fast = !b->written && h->kg_lo == b->base.kg_lo && h->kg_hi == b->base.kg_hi;
    rt_err rc = fast ? RT_OK : ensure_live(b, e); /* the copy goes into it */
    if (rc == RT_OK) rc = fresh_dir(b, fast ? "db" : "restore", dir, sizeof dir, e);
    if (rc == RT_OK) rc = fetch_files(ctx, h, dir, e);
    uint64_t entries = 0;
    if (rc == RT_OK)
        rc = fast ? restore_fast(b, dir, h, &entries, e) : restore_copy(b, dir, &entries, e);
    if (rc != RT_OK) {
        name_store_file(h, e);
        if (strcmp(dir, b->db_dir) != 0) rm_tree(dir, NULL);
        return rc;
    }
    b->written = 1;
    if (ctx->trace != NULL)
        rt_trace_event(ctx->trace, ctx->now_ms, "rocksdb_restore",
                       "\"chk\":%" PRId64 ",\"kg\":[%u,%u],\"from\":[%u,%u],\"path\":\"%s\","
                       "\"files\":%d,\"entries\":%" PRIu64,
                       h->checkpoint_id, b->base.kg_lo, b->base.kg_hi, h->kg_lo, h->kg_hi,
                       fast ? "fast" : "rescale", h->n_files, entries);
    return RT_OK;
}

/* RocksDBFullRestoreOperation: a KeyGroupsStateHandle is read as a
 * key-group stream and every entry of our key groups put into the DB,
 * whoever wrote it (a heap snapshot's bytes fail in the reader). */
static rt_err restore_key_groups(rocks_backend *b, const sim_restore_ctx *ctx,
                                 const sim_keyed_handle *h, rt_error *e) {
    rt_err rc = sim_key_groups_read(&b->base, ctx, h, e);
    if (rc != RT_OK && strcmp(h->format, SIM_FORMAT_KEY_GROUPS) != 0)
        rt_error_prefix(e, "the %s backend's key-group stream (KeyGroupsStateHandle) read by "
                        "RocksDBFullRestoreOperation: ", h->backend);
    if (rc == RT_OK && ctx->trace != NULL)
        rt_trace_event(ctx->trace, ctx->now_ms, "rocksdb_restore",
                       "\"chk\":%" PRId64 ",\"kg\":[%u,%u],\"from\":[%u,%u],\"path\":\"key-groups\","
                       "\"files\":%d",
                       h->checkpoint_id, b->base.kg_lo, b->base.kg_hi, h->kg_lo, h->kg_hi, h->n_files);
    return rc;
}

/* All-or-nothing per handle; after any failure the backend refuses all
 * further use (an earlier handle of the same restore may be in it). */
static rt_err rocks_restore(sim_backend *sb, const sim_restore_ctx *ctx, const sim_keyed_handle *h,
                            rt_error *e) {
    rocks_backend *b = as_rocks(sb);
    assert(ctx != NULL);
    assert(ctx->fetch != NULL);
    assert(ctx->engine != NULL);
    assert(h != NULL);
    rt_err rc = check_usable(b, e);
    if (rc == RT_OK) rc = batch_flush(b, e); /* earlier writes come before the restored ones */
    if (rc != RT_OK) return rc;
    if (sim_handle_is_key_groups(h))
        rc = restore_key_groups(b, ctx, h, e);
    else if ((rc = sim_handle_check_native_reader("rocksdb", h->format, h->backend, e)) != RT_OK)
        ; /* not RocksDB's own files: the rule shared with `snapsim check` */
    else if (h->kg_hi < b->base.kg_lo || h->kg_lo > b->base.kg_hi)
        return RT_OK; /* no key group of ours: nothing to read */
    else
        rc = restore_handle(b, ctx, h, e);
    if (rc != RT_OK) b->broken = 1;
    return rc;
}

/* ---- lifecycle -------------------------------------------------------- */

static void rocks_destroy(sim_backend *sb) {
    rocks_backend *b = as_rocks(sb);
    if (b->batch.wb != NULL) rocksdb_writebatch_destroy(b->batch.wb); /* the DB goes too */
    db_close(&b->live);
    if (b->opts) rocksdb_options_destroy(b->opts);
    if (b->ropts) rocksdb_readoptions_destroy(b->ropts);
    if (b->wopts) rocksdb_writeoptions_destroy(b->wopts);
    if (b->fopts) rocksdb_flushoptions_destroy(b->fopts);
    while (b->n_pending > 0) pending_remove(b, 0);
    map_free(&b->base_map);
    map_free(&b->last_taken);
    if (b->work_dir[0] != '\0') rm_tree(b->work_dir, NULL);
    free(b);
}

static const sim_backend_ops rocks_ops = {
    .name = "rocksdb",
    .get = rocks_get,
    .put = rocks_put,
    .scan = rocks_scan,
    .snapshot_native = rocks_snapshot,
    .restore_native = rocks_restore,
    .notify_complete = rocks_notify_complete,
    .notify_abort = rocks_notify_abort,
    .destroy = rocks_destroy,
};

static rt_err check_config(const sim_backend_config *cfg, rt_error *e) {
    if (cfg->engine == NULL || cfg->work_dir == NULL || cfg->work_dir[0] == '\0')
        return RT_FAIL(e, RT_EUSAGE, "rocksdb backend needs an engine version and a work_dir");
    if (cfg->kg_lo > cfg->kg_hi || cfg->kg_hi > ROCKS_KG_MAX)
        return RT_FAIL(e, RT_EUSAGE, "rocksdb: bad key-group range [%u, %u]", cfg->kg_lo,
                       cfg->kg_hi);
    if (cfg->n_states < 0 || cfg->n_states > SIM_MAX_STATES)
        return RT_FAIL(e, RT_EUSAGE, "rocksdb: %d states (at most %d)", cfg->n_states,
                       SIM_MAX_STATES);
    /* Leaves room for the DB, snapshot and file names below work_dir. */
    if (strlen(cfg->work_dir) >= PATH_MAX / 2)
        return RT_FAIL(e, RT_EUSAGE, "rocksdb: work_dir too long: %s", cfg->work_dir);
    for (int i = 0; i < cfg->n_states; i++) {
        const char *n = cfg->states[i].name;
        if (n[0] == '\0' || strcmp(n, "default") == 0)
            return RT_FAIL(e, RT_EUSAGE, "rocksdb: state name '%s' is reserved", n);
        for (int j = 0; j < i; j++)
            if (strcmp(n, cfg->states[j].name) == 0)
                return RT_FAIL(e, RT_EUSAGE, "rocksdb: state '%s' declared twice", n);
    }
    return RT_OK;
}

static rt_err rocks_open_fresh(rocks_backend *b, rt_error *e) {
    rt_err rc = mkdir_p(b->work_dir, e);
    if (rc == RT_OK) rc = make_options(b, e);
    return rc; /* the DB itself: ensure_live */
}

rt_err sim_backend_rocksdb_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e) {
    assert(out != NULL);
    assert(cfg != NULL);
    rt_err rc = check_config(cfg, e);
    if (rc != RT_OK) return rc;
    rocks_backend *b = calloc(1, sizeof *b);
    if (b == NULL) return RT_FAIL(e, RT_ENOMEM, "rocksdb: out of memory");
    b->base.ops = &rocks_ops;
    b->base.kg_lo = cfg->kg_lo;
    b->base.kg_hi = cfg->kg_hi;
    b->base.max_parallelism = cfg->max_parallelism;
    b->base.n_states = cfg->n_states;
    if (cfg->n_states > 0)
        memcpy(b->base.states, cfg->states, (size_t)cfg->n_states * sizeof cfg->states[0]);
    b->base.incremental = cfg->incremental;
    b->base.engine = cfg->engine;
    snprintf(b->work_dir, sizeof b->work_dir, "%s", cfg->work_dir);
    rc = rocks_open_fresh(b, e);
    if (rc != RT_OK) {
        rocks_destroy(&b->base);
        return rc;
    }
    *out = &b->base;
    return RT_OK;
}
