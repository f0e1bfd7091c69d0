/* bench_size: the payload-state sizes of `snapsim bench`, each measured in
 * a child process (its peak RSS its own; forked before the parent ever
 * opens RocksDB, whose thread pools do not survive a fork), with the
 * physical floor of the same bytes measured in the same child. */
#include "bench_size.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rt_fd.h"
#include "rt_storage.h"
#include "sim_engine.h"

/* SST bytes a payload record makes, about: a 10-byte key, the 102-byte
 * value, RocksDB's 8-byte sequence/type and its index and filter share. */
#define BS_SST_BYTES_PER_RECORD 124
#define BS_PATH_MAX 1024
#define BS_DIR_DEPTH_MAX 4
#define BS_COPY_CHUNK (1u << 20)

uint64_t bench_size_records(uint64_t mib) { return mib * 1024 * 1024 / BS_SST_BYTES_PER_RECORD; }

/* ---- files ---- */

static rt_err make_dir(const char *path, rt_error *e) {
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return RT_FAIL(e, RT_EIO, "bench: cannot make directory %s: %s", path, strerror(errno));
    return RT_OK;
}

static rt_err join(char *out, const char *a, const char *b, rt_error *e) {
    if (snprintf(out, BS_PATH_MAX, "%s/%s", a, b) >= BS_PATH_MAX)
        return RT_FAIL(e, RT_EUSAGE, "bench: path too long under %s", a);
    return RT_OK;
}


/* Copies one file with plain read/write: the floor of any upload. */
static rt_err copy_file(const char *from, const char *to, uint8_t *buf, uint64_t *bytes, rt_error *e) {
    int in = open(from, O_RDONLY), out = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    rt_err rc = in >= 0 && out >= 0 ? RT_OK : RT_FAIL(e, RT_EIO, "bench: cannot copy %s: %s", from, strerror(errno));
    for (ssize_t n = 1; rc == RT_OK && n > 0;) {
        n = read(in, buf, BS_COPY_CHUNK);
        if (n < 0 || (n > 0 && write(out, buf, (size_t)n) != n))
            rc = RT_FAIL(e, RT_EIO, "bench: copying %s: %s", from, strerror(errno));
        if (n > 0) *bytes += (uint64_t)n;
    }
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0 && rc == RT_OK) rc = RT_FAIL(e, RT_EIO, "bench: closing %s", to);
    return rc;
}

typedef struct db_list {
    int n;
    char path[16][BS_PATH_MAX]; /* live RocksDB directories ("db-N") */
} db_list;

/* The live RocksDB directories under work (each subtask's "db-N"). */
static void find_dbs(const char *dir, int depth, db_list *out) {
    DIR *d = opendir(dir);
    if (d == NULL) return;
    for (struct dirent *x = readdir(d); x != NULL; x = readdir(d)) {
        char sub[BS_PATH_MAX];
        rt_error e;
        if (x->d_name[0] == '.' || join(sub, dir, x->d_name, &e) != RT_OK) continue;
        struct stat st;
        if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (strncmp(x->d_name, "db-", 3) == 0 && out->n < 16) snprintf(out->path[out->n++], BS_PATH_MAX, "%s", sub);
        else if (depth < BS_DIR_DEPTH_MAX) find_dbs(sub, depth + 1, out);
    }
    closedir(d);
}

/* Copies every file of db into to; counts the SST files and bytes. */
static rt_err copy_db(const char *db, const char *to, uint8_t *buf, uint64_t *sst_bytes, uint64_t *sst_files,
                      uint64_t *bytes, rt_error *e) {
    DIR *d = opendir(db);
    if (d == NULL) return RT_FAIL(e, RT_EIO, "bench: cannot list %s: %s", db, strerror(errno));
    rt_err rc = make_dir(to, e);
    for (struct dirent *x = readdir(d); rc == RT_OK && x != NULL; x = readdir(d)) {
        char from[BS_PATH_MAX], dst[BS_PATH_MAX];
        if (x->d_name[0] == '.' || strcmp(x->d_name, "LOCK") == 0) continue;
        rc = join(from, db, x->d_name, e);
        if (rc == RT_OK) rc = join(dst, to, x->d_name, e);
        uint64_t n = 0;
        if (rc == RT_OK) rc = copy_file(from, dst, buf, &n, e);
        *bytes += n;
        size_t len = strlen(x->d_name);
        if (len > 4 && strcmp(x->d_name + len - 4, ".sst") == 0) {
            *sst_bytes += n;
            (*sst_files)++;
        }
    }
    closedir(d);
    return rc;
}

/* Opens a copied RocksDB directory with all its column families and
 * closes it: what a native restore must do at least, after the copy. */
static rt_err open_db(const char *path, rt_error *e) {
    rocksdb_options_t *o = rocksdb_options_create();
    char *err = NULL;
    size_t n = 0;
    char **names = rocksdb_list_column_families(o, path, &n, &err);
    rt_err rc = err == NULL ? RT_OK : RT_FAIL(e, RT_EIO, "bench: listing column families of %s: %s", path, err);
    rocksdb_column_family_handle_t *h[32];
    const rocksdb_options_t *co[32];
    for (size_t i = 0; i < n && i < 32; i++) co[i] = o;
    if (rc == RT_OK && n > 32) rc = RT_FAIL(e, RT_EINTERNAL, "bench: %zu column families in %s", n, path);
    rocksdb_t *db = NULL;
    if (rc == RT_OK) db = rocksdb_open_column_families(o, path, (int)n, (const char *const *)names, co, h, &err);
    if (rc == RT_OK && err != NULL) rc = RT_FAIL(e, RT_EIO, "bench: opening %s: %s", path, err);
    if (db != NULL) {
        for (size_t i = 0; i < n; i++) rocksdb_column_family_handle_destroy(h[i]);
        rocksdb_close(db);
    }
    if (names != NULL) rocksdb_list_column_families_destroy(names, n);
    rocksdb_free(err);
    rocksdb_options_destroy(o);
    return rc;
}

/* The floor of one loaded run: copy its live RocksDB directories (timed:
 * floor_copy), then open each copy (timed: floor_open). */
static rt_err measure_floor(const char *work, const char *floor, bench_size_point *p, rt_error *e) {
    db_list dbs = {0};
    find_dbs(work, 0, &dbs);
    if (dbs.n == 0) return RT_FAIL(e, RT_EINTERNAL, "bench: no RocksDB directory under %s", work);
    uint8_t *buf = malloc(BS_COPY_CHUNK);
    if (buf == NULL) return RT_FAIL(e, RT_ENOMEM, "bench: no memory for the copy buffer");
    rt_err rc = make_dir(floor, e);
    char to[16][BS_PATH_MAX];
    bench_watch w = bench_watch_start();
    p->sst_bytes = p->sst_files = 0;
    for (int i = 0; rc == RT_OK && i < dbs.n; i++) {
        char name[16];
        snprintf(name, sizeof name, "db%d", i);
        rc = join(to[i], floor, name, e);
        if (rc == RT_OK) rc = copy_db(dbs.path[i], to[i], buf, &p->sst_bytes, &p->sst_files, &p->floor_copy.bytes, e);
    }
    bench_watch_stop(&w, &p->floor_copy);
    p->floor_copy.files = p->sst_files;
    w = bench_watch_start();
    for (int i = 0; rc == RT_OK && i < dbs.n; i++) rc = open_db(to[i], e);
    bench_watch_stop(&w, &p->floor_open);
    free(buf);
    bench_remove_tree(floor);
    return rc;
}

/* ---- one size ---- */

typedef struct bs_ctx {
    char root[BS_PATH_MAX], store_dir[BS_PATH_MAX], work_dir[BS_PATH_MAX];
    rt_store *store;
    sim_config cfg;
    sim_run *run;
    int n_restores;
} bs_ctx;

static rt_err ctx_open(bs_ctx *c, const char *root, uint64_t seed, rt_error *e) {
    snprintf(c->root, sizeof c->root, "%s", root);
    rt_err rc = join(c->store_dir, root, "store", e);
    if (rc == RT_OK) rc = join(c->work_dir, root, "work", e);
    if (rc == RT_OK) rc = make_dir(root, e);
    if (rc == RT_OK) rc = make_dir(c->store_dir, e);
    if (rc == RT_OK) rc = make_dir(c->work_dir, e);
    if (rc == RT_OK) rc = rt_store_open_dir(&c->store, c->store_dir, 1, e);
    if (rc != RT_OK) return rc;
    sim_config_defaults(&c->cfg);
    c->cfg.seed = c->cfg.source_seed = seed;
    sim_job_payload(&c->cfg.job);
    c->cfg.backend = "rocksdb";
    c->cfg.incremental = 1;
    c->cfg.interval_ms = 0; /* only the snapshots measured */
    c->cfg.store = c->store;
    c->cfg.work_dir = c->work_dir;
    return RT_OK;
}

static void ctx_close(bs_ctx *c) {
    sim_run_destroy(c->run);
    c->run = NULL;
    if (c->store) rt_store_close(c->store);
    c->store = NULL;
    bench_remove_tree(c->root);
}

static rt_err timed_snapshot(bs_ctx *c, sim_kind kind, bench_sample *out, char *dir, rt_error *e) {
    sim_stats before = *sim_run_stats(c->run);
    bench_watch w = bench_watch_start();
    rt_err rc = sim_run_snapshot(c->run, kind, "", dir, BS_PATH_MAX, e);
    bench_watch_stop(&w, out);
    if (rc != RT_OK) {
        rt_error_prefix(e, "bench: %s snapshot: ", sim_kind_name(kind));
        return rc;
    }
    out->bytes = sim_run_stats(c->run)->bytes_written - before.bytes_written;
    out->files = sim_run_stats(c->run)->files_written - before.files_written;
    return RT_OK;
}

/* Restores dir into a fresh run (its own work dir), timed; then checks it
 * against the oracle (not timed). */
static rt_err timed_restore(bs_ctx *c, const char *dir, bench_sample *out, int *verified, rt_error *e) {
    char work[BS_PATH_MAX], name[32];
    snprintf(name, sizeof name, "restore-%d", c->n_restores++);
    rt_err rc = join(work, c->root, name, e);
    if (rc == RT_OK) rc = make_dir(work, e);
    if (rc != RT_OK) return rc;
    rc = bench_restore_timed(&c->cfg, work, dir, 1, out, verified, e);
    if (rc != RT_OK) rt_error_prefix(e, "bench: restoring %s: ", dir);
    bench_remove_tree(work);
    return rc;
}

rt_err bench_restore_timed(const sim_config *cfg, const char *work, const char *dir, int verify, bench_sample *out,
                           int *verified, rt_error *e) {
    sim_config run_cfg = *cfg;
    run_cfg.work_dir = work;
    sim_run *run = NULL;
    rt_err rc = sim_run_create(&run, &run_cfg, e);
    if (rc == RT_OK) {
        bench_watch w = bench_watch_start();
        rc = sim_run_restore(run, dir, SIM_MODE_NO_CLAIM, 0, e);
        bench_watch_stop(&w, out);
    }
    if (rc == RT_OK && verify) {
        rc = sim_run_verify(run, e);
        if (rc == RT_OK) (*verified)++;
    }
    sim_run_destroy(run);
    return rc;
}

static rt_err measure_load(bs_ctx *c, bench_size_point *p, rt_error *e) {
    rt_err rc = sim_run_create(&c->run, &c->cfg, e);
    if (rc != RT_OK) return rc;
    bench_sample s = {0};
    bench_watch w = bench_watch_start();
    rc = sim_run_records(c->run, p->records, e);
    bench_watch_stop(&w, &s);
    p->load_wall_ms = s.wall_ms;
    p->load_cpu_ms = s.cpu_ms;
    return rc;
}

/* A savepoint of kind, then its restore; the savepoint is removed after
 * (it shares nothing). */
static rt_err measure_savepoint(bs_ctx *c, sim_kind kind, bench_sample *sp, bench_sample *rs, int *verified,
                                rt_error *e) {
    char dir[BS_PATH_MAX];
    rt_err rc = timed_snapshot(c, kind, sp, dir, e);
    if (rc == RT_OK) rc = timed_restore(c, dir, rs, verified, e);
    if (rc == RT_OK) rc = rt_store_delete_tree(c->store, dir, e);
    return rc;
}

static rt_err measure_size(const char *root, uint64_t seed, bench_size_point *p, rt_error *e) {
    bs_ctx c;
    memset(&c, 0, sizeof c);
    char dir[BS_PATH_MAX], floor[BS_PATH_MAX];
    p->records = bench_size_records(p->mib);
    rt_err rc = ctx_open(&c, root, seed, e);
    if (rc == RT_OK) rc = measure_load(&c, p, e);
    /* The first checkpoint of the incremental run uploads every SST: the
     * full checkpoint; restored before the next one subsumes it. */
    if (rc == RT_OK) rc = timed_snapshot(&c, SIM_KIND_ALIGNED, &p->cp_full, dir, e);
    if (rc == RT_OK) rc = timed_restore(&c, dir, &p->rs_full, &p->verified, e);
    if (rc == RT_OK) rc = join(floor, root, "floor", e);
    if (rc == RT_OK) rc = measure_floor(c.work_dir, floor, p, e);
    if (rc == RT_OK) rc = measure_savepoint(&c, SIM_KIND_NATIVE, &p->sp_native, &p->rs_native, &p->verified, e);
    if (rc == RT_OK) rc = measure_savepoint(&c, SIM_KIND_CANONICAL, &p->sp_canonical, &p->rs_canonical, &p->verified, e);
    /* 1% more records: with a key per record, 1% new keys. */
    p->change_records = p->records / 100 ? p->records / 100 : 1;
    if (rc == RT_OK) rc = sim_run_records(c.run, p->change_records, e);
    if (rc == RT_OK) rc = timed_snapshot(&c, SIM_KIND_ALIGNED, &p->cp_incr, dir, e);
    if (rc == RT_OK) {
        p->incr_sst_uploaded = sim_run_stats(c.run)->last_sst_bytes_uploaded;
        p->incr_sst_new = sim_run_stats(c.run)->last_sst_bytes_new;
        rc = timed_restore(&c, dir, &p->rs_incr, &p->verified, e);
    }
    ctx_close(&c);
    return rc;
}

/* ---- one memory point ---- */

static rt_err measure_mem(const char *root, uint64_t seed, bench_mem_point *m, rt_error *e) {
    bs_ctx c;
    memset(&c, 0, sizeof c);
    char dir[BS_PATH_MAX];
    rt_err rc = ctx_open(&c, root, seed, e);
    if (rc != RT_OK) return rc;
    for (int i = 0; i < c.cfg.job.n_ops; i++)
        if (c.cfg.job.ops[i].kind == SIM_OP_KEYED) c.cfg.job.ops[i].parallelism = (uint32_t)m->parallelism;
    c.cfg.retained = (int)m->retained;
    m->records = bench_size_records(m->mib);
    /* about 8 periodic checkpoints, so that `retained` of them are kept */
    c.cfg.interval_ms = sim_job_run_ms(&c.cfg.job, m->records) / 8 + 1;
    bench_sample s = {0};
    bench_watch w = bench_watch_start();
    rc = sim_run_create(&c.run, &c.cfg, e);
    if (rc == RT_OK) rc = sim_run_records(c.run, m->records, e);
    if (rc == RT_OK) rc = sim_run_snapshot(c.run, SIM_KIND_NATIVE, "", dir, sizeof dir, e);
    bench_watch_stop(&w, &s);
    m->wall_ms = s.wall_ms;
    ctx_close(&c);
    return rc;
}

/* ---- child processes ---- */

typedef struct bs_answer {
    rt_err rc;
    char msg[RT_ERROR_MSG_MAX];
    bench_size_point size;
    bench_mem_point mem;
} bs_answer;

/* Runs one measurement (a size if mem is NULL) in a child; the child's
 * peak RSS comes from wait4. */
static rt_err in_child(const char *root, uint64_t seed, bench_size_point *size, bench_mem_point *mem, long *rss_kb,
                       rt_error *e) {
    int fd[2];
    if (pipe(fd) != 0) return RT_FAIL(e, RT_EIO, "bench: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return RT_FAIL(e, RT_EIO, "bench: cannot fork: %s", strerror(errno));
    if (pid == 0) {
        static bs_answer a;
        rt_error ce;
        rt_error_clear(&ce);
        close(fd[0]);
        if (mem) a.mem = *mem;
        else a.size = *size;
        a.rc = mem ? measure_mem(root, seed, &a.mem, &ce) : measure_size(root, seed, &a.size, &ce);
        snprintf(a.msg, sizeof a.msg, "%s", ce.msg);
        _exit(rt_fd_write_all(fd[1], &a, sizeof a) == 0 ? 0 : 3);
    }
    close(fd[1]);
    static bs_answer a;
    size_t got = rt_fd_read_all(fd[0], &a, sizeof a);
    close(fd[0]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (wait4(pid, &status, 0, &ru) != pid || got != sizeof a || !WIFEXITED(status))
        return RT_FAIL(e, RT_EINTERNAL, "bench: the measuring child died (status %d)", status);
    if (a.rc != RT_OK) return RT_FAIL(e, a.rc, "%s", a.msg);
    if (mem) *mem = a.mem;
    else *size = a.size;
    *rss_kb = ru.ru_maxrss;
    return RT_OK;
}

rt_err bench_size_measure(const char *root, uint64_t seed, uint64_t mib, bench_size_point *p, rt_error *e) {
    memset(p, 0, sizeof *p);
    p->mib = mib;
    return in_child(root, seed, p, NULL, &p->peak_rss_kb, e);
}

rt_err bench_mem_measure(const char *root, uint64_t seed, bench_mem_point *m, rt_error *e) {
    return in_child(root, seed, NULL, m, &m->peak_rss_kb, e);
}
