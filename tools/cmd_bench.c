/* cmd_bench: `snapsim bench`, the benchmarks as a program. These machines
 * are noisy, so nothing here is an absolute number to compare across runs:
 * each comparison measures its two sides interleaved (A B A B ...) in one
 * process and reports the medians and the ratio B/A with its spread.
 *
 * Real I/O: every run has a directory store and RocksDB work dirs on disk
 * under one temporary directory. Wall-clock time is read here, in the
 * front-end, around single engine calls; the simulation itself never sees
 * it. The runs load the built-in job with many keys and no periodic
 * checkpoints, so the only snapshots are the ones being measured. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "bench_fuzz.h"
#include "bench_report.h"
#include "bench_size.h"
#include "cli.h"
#include "cli_progress.h"
#include "commands.h"
#include "rt_storage.h"
#include "sim_engine.h"

typedef struct bench_opts {
    const char *out, *tmp, *sizes_arg;
    int n_sizes;
    uint64_t sizes[BENCH_SIZES_MAX];
    uint64_t keys, records, change, reps, warmup, seed;
    uint64_t scale_max, scale_interval_ms, fuzz_seeds;
    int quick, keep;
    cli_progress progress;
} bench_opts;

/* One job run with its own store and RocksDB work dir. */
typedef struct brun {
    const char *label;
    char store_dir[640], work_dir[640];
    rt_store *store;
    sim_config cfg;
    sim_run *run;
} brun;

typedef struct bench {
    bench_opts o;
    char root[512];
    bench_facts facts;
    bench_scale scale;
    bench_sizes sizes;
    bench_fuzz fuzz;
    brun incr, full, heap; /* rocksdb incremental, rocksdb full, heap */
    int n_restores;
    int lines; /* progress lines on stderr (cli_progress_lines) */
} bench;

/* A progress line, or a part of one, on stderr when they are on. */
__attribute__((format(printf, 2, 3))) static void say(const bench *b, const char *fmt, ...) {
    if (!b->lines) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

enum { CMP_SP_ROCKS, CMP_SP_HEAP, CMP_RS_ROCKS, CMP_RS_HEAP, CMP_CP_INCR, CMP_CP_HEAP_FULL, CMP_CP_HEAP_INCR,
       CMP_COUNT };

/* ---- directories ---- */

static rt_err make_dir(const char *path, rt_error *e) {
    char buf[640];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return RT_FAIL(e, RT_EUSAGE, "bench: path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return RT_FAIL(e, RT_EIO, "bench: cannot make directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return RT_FAIL(e, RT_EIO, "bench: cannot make directory %s: %s", buf, strerror(errno));
    return RT_OK;
}

static rt_err sub_dir(const bench *b, const char *name, char *out, size_t cap, rt_error *e) {
    if ((size_t)snprintf(out, cap, "%s/%s", b->root, name) >= cap)
        return RT_FAIL(e, RT_EUSAGE, "bench: temporary path too long under %s", b->root);
    return make_dir(out, e);
}


/* Bytes in the regular files under dir (a local RocksDB directory). */
static uint64_t tree_bytes(const char *dir) {
    rt_store *s = NULL;
    rt_error e;
    rt_strlist l = {0};
    uint64_t total = 0;
    if (rt_store_open_dir(&s, dir, 0, &e) != RT_OK) return 0;
    if (rt_store_list(s, "", &l, &e) == RT_OK)
        for (size_t i = 0; i < l.len; i++) {
            uint64_t sz = 0;
            if (rt_store_size(s, l.items[i], &sz, &e) == RT_OK) total += sz;
        }
    rt_strlist_free(&l);
    rt_store_close(s);
    return total;
}

/* Size of a snapshot directory in a store: what a restore reads. */
static rt_err snapshot_bytes(rt_store *s, const char *dir, uint64_t *bytes, uint64_t *files, rt_error *e) {
    rt_strlist l = {0};
    rt_err rc = rt_store_list(s, dir, &l, e);
    *bytes = 0;
    *files = l.len;
    for (size_t i = 0; rc == RT_OK && i < l.len; i++) {
        uint64_t sz = 0;
        rc = rt_store_size(s, l.items[i], &sz, e);
        *bytes += sz;
    }
    rt_strlist_free(&l);
    return rc;
}

/* ---- runs ---- */

static void base_config(const bench *b, sim_config *cfg, const char *backend, int incremental) {
    sim_config_defaults(cfg);
    cfg->seed = b->o.seed;
    cfg->source_seed = b->o.seed;
    cfg->job.keys = (uint32_t)b->o.keys;
    cfg->backend = backend;
    cfg->incremental = incremental;
    cfg->interval_ms = 0; /* only the snapshots we measure */
}

static rt_err run_open(bench *b, brun *r, const char *label, const char *backend, int incremental, rt_error *e) {
    char name[96];
    r->label = label;
    snprintf(name, sizeof name, "store-%s", label);
    rt_err rc = sub_dir(b, name, r->store_dir, sizeof r->store_dir, e);
    snprintf(name, sizeof name, "work-%s", label);
    if (rc == RT_OK) rc = sub_dir(b, name, r->work_dir, sizeof r->work_dir, e);
    if (rc == RT_OK) rc = rt_store_open_dir(&r->store, r->store_dir, 1, e);
    if (rc != RT_OK) return rc;
    base_config(b, &r->cfg, backend, incremental);
    r->cfg.store = r->store;
    r->cfg.work_dir = r->work_dir;
    rc = sim_run_create(&r->run, &r->cfg, e);
    if (rc != RT_OK) rt_error_prefix(e, "bench: %s: ", label);
    return rc;
}

static void run_close(brun *r) {
    sim_run_destroy(r->run);
    r->run = NULL;
    if (r->store) rt_store_close(r->store);
    r->store = NULL;
}

static rt_err run_load(bench *b, brun *r, rt_error *e) {
    bench_watch sw = bench_watch_start();
    bench_sample s;
    rt_err rc = sim_run_records(r->run, b->o.records, e);
    bench_watch_stop(&sw, &s);
    if (rc != RT_OK) {
        rt_error_prefix(e, "bench: loading %s: ", r->label);
        return rc;
    }
    say(b, "bench: loaded %-20s %" PRIu64 " records over %" PRIu64 " keys in %.1f s\n", r->label,
            b->o.records, b->o.keys, s.wall_ms / 1e3);
    return RT_OK;
}

/* Times one sim_run_snapshot call; bytes and files from sim_run_stats. */
static rt_err timed_snapshot(brun *r, sim_kind kind, bench_sample *out, char *dir, size_t cap, rt_error *e) {
    sim_stats before = *sim_run_stats(r->run);
    bench_watch sw = bench_watch_start();
    rt_err rc = sim_run_snapshot(r->run, kind, "", dir, cap, e);
    bench_watch_stop(&sw, out);
    if (rc != RT_OK) {
        rt_error_prefix(e, "bench: %s %s snapshot: ", r->label, sim_kind_name(kind));
        return rc;
    }
    const sim_stats *after = sim_run_stats(r->run);
    out->bytes = after->bytes_written - before.bytes_written;
    out->files = after->files_written - before.files_written;
    out->records = after->records_emitted - before.records_emitted;
    return RT_OK;
}

/* Times sim_run_restore of dir into a fresh run of src's configuration
 * (its own RocksDB work dir); bytes/files: the snapshot read. With verify,
 * the restored run is then checked against the oracle (not timed). */
static rt_err timed_restore(bench *b, const brun *src, const char *dir, int verify, bench_sample *out,
                            rt_error *e) {
    char work[640], name[64];
    snprintf(name, sizeof name, "work-restore-%d", b->n_restores++);
    rt_err rc = sub_dir(b, name, work, sizeof work, e);
    if (rc == RT_OK) rc = snapshot_bytes(src->store, dir, &out->bytes, &out->files, e);
    if (rc != RT_OK) return rc;
    int verified = 0;
    out->records = 0;
    rc = bench_restore_timed(&src->cfg, work, dir, verify, out, &verified, e);
    b->facts.n_verified += verified;
    if (rc != RT_OK) rt_error_prefix(e, "bench: restoring %s into %s: ", dir, src->cfg.backend);
    rmdir(work);
    return rc;
}

static void cmp_init(bench_cmp *c, const char *id, const char *title, const char *ratio, const char *a,
                     const char *b_label, const char *what) {
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->title, sizeof c->title, "%s", title);
    snprintf(c->ratio_name, sizeof c->ratio_name, "%s", ratio);
    snprintf(c->a.label, sizeof c->a.label, "%s", a);
    snprintf(c->b.label, sizeof c->b.label, "%s", b_label);
    snprintf(c->what, sizeof c->what, "%s", what);
}

/* Keeps a sample unless the round is a warm-up. */
static void keep(bench_side *s, int round, uint64_t warmup, const bench_sample *x) {
    if (round >= (int)warmup && s->n < BENCH_REPS_MAX) s->s[s->n++] = *x;
}

static const char *round_name(int round, uint64_t warmup, char *buf, size_t cap) {
    if (round < (int)warmup)
        snprintf(buf, cap, "warm-up");
    else
        snprintf(buf, cap, "round %d", round - (int)warmup + 1);
    return buf;
}

/* ---- the comparisons ---- */

/* 1: canonical vs native savepoint of the same state, on both backends;
 * the last pair of each backend stays for the restore comparison. */
static rt_err bench_savepoints(bench *b, bench_cmp *cmp, char keep_dirs[4][512], rt_error *e) {
    brun *runs[2] = {&b->incr, &b->heap};
    bench_cmp *c[2] = {&cmp[CMP_SP_ROCKS], &cmp[CMP_SP_HEAP]};
    int rounds = (int)(b->o.warmup + b->o.reps);
    for (int round = 0; round < rounds; round++) {
        char rn[32];
        say(b, "bench: savepoints %-9s", round_name(round, b->o.warmup, rn, sizeof rn));
        for (int k = 0; k < 2; k++) {
            bench_sample sc, sn;
            char dc[512], dn[512];
            rt_err rc;
            if (round % 2 == 0) { /* A B, then B A: neither side is always first */
                rc = timed_snapshot(runs[k], SIM_KIND_CANONICAL, &sc, dc, sizeof dc, e);
                if (rc == RT_OK) rc = timed_snapshot(runs[k], SIM_KIND_NATIVE, &sn, dn, sizeof dn, e);
            } else {
                rc = timed_snapshot(runs[k], SIM_KIND_NATIVE, &sn, dn, sizeof dn, e);
                if (rc == RT_OK) rc = timed_snapshot(runs[k], SIM_KIND_CANONICAL, &sc, dc, sizeof dc, e);
            }
            if (rc != RT_OK) return rc;
            keep(&c[k]->a, round, b->o.warmup, &sc);
            keep(&c[k]->b, round, b->o.warmup, &sn);
            say(b, "  %s canonical %.1f ms native %.1f ms", runs[k]->cfg.backend, sc.wall_ms, sn.wall_ms);
            if (round == rounds - 1) {
                snprintf(keep_dirs[2 * k], 512, "%s", dc);
                snprintf(keep_dirs[2 * k + 1], 512, "%s", dn);
            } else { /* savepoints share nothing: removing one affects no other snapshot */
                if (rt_store_delete_tree(runs[k]->store, dc, e) != RT_OK ||
                    rt_store_delete_tree(runs[k]->store, dn, e) != RT_OK)
                    return e->code;
            }
        }
        say(b, "\n");
    }
    return RT_OK;
}

/* 2: restore from the canonical vs the native savepoint. */
static rt_err bench_restores(bench *b, bench_cmp *cmp, char dirs[4][512], rt_error *e) {
    const brun *src[2] = {&b->incr, &b->heap};
    bench_cmp *c[2] = {&cmp[CMP_RS_ROCKS], &cmp[CMP_RS_HEAP]};
    int rounds = (int)(b->o.warmup + b->o.reps);
    for (int round = 0; round < rounds; round++) {
        char rn[32];
        say(b, "bench: restores   %-9s", round_name(round, b->o.warmup, rn, sizeof rn));
        for (int k = 0; k < 2; k++) {
            bench_sample sc = {0}, sn = {0};
            int verify = round == 0; /* once per side: the restored state must be right */
            int first = round % 2;    /* A B, then B A */
            bench_sample *out[2] = {&sc, &sn};
            rt_err rc = timed_restore(b, src[k], dirs[2 * k + first], verify, out[first], e);
            if (rc == RT_OK) rc = timed_restore(b, src[k], dirs[2 * k + !first], verify, out[!first], e);
            if (rc != RT_OK) return rc;
            keep(&c[k]->a, round, b->o.warmup, &sc);
            keep(&c[k]->b, round, b->o.warmup, &sn);
            say(b, "  %s canonical %.1f ms native %.1f ms", src[k]->cfg.backend, sc.wall_ms, sn.wall_ms);
        }
        say(b, "\n");
    }
    return RT_OK;
}

/* 3 and 4: after a small change, a checkpoint on rocksdb incremental,
 * rocksdb full and heap (always full), interleaved. */
static rt_err bench_checkpoints(bench *b, bench_cmp *cmp, rt_error *e) {
    brun *runs[3] = {&b->full, &b->incr, &b->heap};
    char dir[512];
    bench_sample s[3];
    /* The first checkpoint of each run uploads everything: it is the base
     * the incremental run builds on, not part of the comparison. */
    for (int k = 0; k < 3; k++) {
        rt_err rc = timed_snapshot(runs[k], SIM_KIND_ALIGNED, &s[k], dir, sizeof dir, e);
        if (rc != RT_OK) return rc;
    }
    say(b, "bench: first checkpoints (base, not counted): rocksdb-full %.1f ms, rocksdb-incr %.1f ms, "
                    "heap %.1f ms\n", s[0].wall_ms, s[1].wall_ms, s[2].wall_ms);
    int rounds = (int)(b->o.warmup + b->o.reps);
    for (int round = 0; round < rounds; round++) {
        char rn[32];
        say(b, "bench: checkpoints %-9s", round_name(round, b->o.warmup, rn, sizeof rn));
        for (int j = 0; j < 3; j++) {
            int k = (j + round) % 3; /* rotate who goes first */
            rt_err rc = sim_run_records(runs[k]->run, b->o.change, e);
            if (rc != RT_OK) {
                rt_error_prefix(e, "bench: %s: ", runs[k]->label);
                return rc;
            }
            rc = timed_snapshot(runs[k], SIM_KIND_ALIGNED, &s[k], dir, sizeof dir, e);
            if (rc != RT_OK) return rc;
            say(b, "  %s %.1f ms %.0f kB", runs[k]->label, s[k].wall_ms, (double)s[k].bytes / 1e3);
        }
        say(b, "\n");
        keep(&cmp[CMP_CP_INCR].a, round, b->o.warmup, &s[0]);
        keep(&cmp[CMP_CP_INCR].b, round, b->o.warmup, &s[1]);
        keep(&cmp[CMP_CP_HEAP_FULL].a, round, b->o.warmup, &s[2]);
        keep(&cmp[CMP_CP_HEAP_FULL].b, round, b->o.warmup, &s[0]);
        keep(&cmp[CMP_CP_HEAP_INCR].a, round, b->o.warmup, &s[2]);
        keep(&cmp[CMP_CP_HEAP_INCR].b, round, b->o.warmup, &s[1]);
    }
    return RT_OK;
}

static void setup_cmps(const bench *b, bench_cmp *c) {
    char what[512];
    cmp_init(&c[CMP_SP_ROCKS], "1a", "Taking a savepoint: canonical vs native (rocksdb, incremental)",
             "native / canonical", "canonical savepoint", "native savepoint",
             "One sim_run_snapshot call per side on the same loaded run, alternating. Canonical iterates every "
             "entry and writes the backend-independent format; native flushes, makes a local RocksDB checkpoint "
             "and uploads all its files (NO_SHARING: a full copy).");
    cmp_init(&c[CMP_SP_HEAP], "1b", "Taking a savepoint: canonical vs native (heap)", "native / canonical",
             "canonical savepoint", "native savepoint",
             "As 1a on a heap-backend run of the same job: native is the heap backend's own dump format.");
    cmp_init(&c[CMP_RS_ROCKS], "2a", "Restoring: canonical vs native savepoint (rocksdb, incremental)",
             "native / canonical", "restore canonical", "restore native",
             "Time of sim_run_restore (NO_CLAIM) into a fresh rocksdb run, from the last savepoints of 1a. "
             "Canonical must re-insert every entry into RocksDB; native downloads the SST files and opens them. "
             "Bytes/files: the size of the savepoint read. The first round of each side is also checked against "
             "the oracle (not timed).");
    cmp_init(&c[CMP_RS_HEAP], "2b", "Restoring: canonical vs native savepoint (heap)", "native / canonical",
             "restore canonical", "restore native", "As 2a into a fresh heap run, from the savepoints of 1b.");
    snprintf(what, sizeof what,
             "A checkpoint (aligned) right after %" PRIu64 " more records, on two rocksdb runs loaded alike: one "
             "with state.backend.incremental on (uploads only new SSTs, references the rest), one with it off "
             "(uploads every file). Time includes subsuming the older checkpoint (2 retained).",
             b->o.change);
    cmp_init(&c[CMP_CP_INCR], "3", "Checkpoint after a small change: incremental vs full (rocksdb)",
             "incremental / full", "full checkpoint", "incremental checkpoint", what);
    cmp_init(&c[CMP_CP_HEAP_FULL], "4a", "Checkpoint of the same state: heap vs rocksdb (full)", "rocksdb / heap",
             "heap checkpoint", "rocksdb full checkpoint",
             "The same checkpoints as 3: the heap run (always a full dump) against the rocksdb run with "
             "incremental off, measured in the same rounds.");
    cmp_init(&c[CMP_CP_HEAP_INCR], "4b", "Checkpoint of the same state: heap vs rocksdb (incremental)",
             "rocksdb / heap", "heap checkpoint", "rocksdb incremental checkpoint",
             "The same checkpoints as 3: the heap run against the rocksdb run with incremental on.");
}

/* ---- machine facts ---- */

static void rocksdb_header_version(bench_facts *f) {
    static const char *paths[] = {"/usr/include/rocksdb/version.h", "/usr/local/include/rocksdb/version.h"};
    snprintf(f->rocksdb_version, sizeof f->rocksdb_version, "unknown");
    snprintf(f->rocksdb_header, sizeof f->rocksdb_header, "no rocksdb/version.h found");
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        FILE *in = fopen(paths[i], "r");
        if (in == NULL) continue;
        int major = -1, minor = -1, patch = -1, v;
        char line[256];
        while (fgets(line, sizeof line, in)) {
            if (sscanf(line, " #define ROCKSDB_MAJOR %d", &v) == 1) major = v;
            if (sscanf(line, " #define ROCKSDB_MINOR %d", &v) == 1) minor = v;
            if (sscanf(line, " #define ROCKSDB_PATCH %d", &v) == 1) patch = v;
        }
        fclose(in);
        if (major < 0 || minor < 0 || patch < 0) continue;
        snprintf(f->rocksdb_version, sizeof f->rocksdb_version, "%d.%d.%d", major, minor, patch);
        snprintf(f->rocksdb_header, sizeof f->rocksdb_header, "%s", paths[i]);
        return;
    }
}

static const char *fs_name(long type) {
    switch ((unsigned long)type) {
    case 0xEF53UL: return "ext2/3/4";
    case 0x01021994UL: return "tmpfs (memory, not disk)";
    case 0x58465342UL: return "xfs";
    case 0x9123683EUL: return "btrfs";
    case 0x794C7630UL: return "overlayfs";
    case 0x6969UL: return "nfs";
    default: return "other";
    }
}

static void gather_facts(bench *b) {
    bench_facts *f = &b->facts;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    f->nproc = n > 0 ? (int)n : 0;
    rocksdb_header_version(f);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(f->kernel, sizeof f->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    else
        snprintf(f->kernel, sizeof f->kernel, "unknown");
#ifdef __VERSION__
    snprintf(f->compiler, sizeof f->compiler, "%s", __VERSION__);
#else
    snprintf(f->compiler, sizeof f->compiler, "unknown");
#endif
    snprintf(f->tmp_dir, sizeof f->tmp_dir, "%s", b->root);
    struct statfs sf;
    snprintf(f->tmp_fs, sizeof f->tmp_fs, "%s", statfs(b->root, &sf) == 0 ? fs_name((long)sf.f_type) : "unknown");
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(f->started_utc, sizeof f->started_utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
    f->quick = b->o.quick;
    f->seed = b->o.seed;
    f->keys = b->o.keys;
    f->records = b->o.records;
    f->small_change = b->o.change;
    f->reps = b->o.reps;
    f->warmup = b->o.warmup;
    sim_job job;
    sim_job_default(&job);
    f->splits = job.splits;
    for (int i = 0; i < job.n_ops; i++)
        if (job.ops[i].kind == SIM_OP_KEYED) {
            f->parallelism = job.ops[i].parallelism;
            f->max_parallelism = job.ops[i].max_parallelism;
        }
    f->all_verified = 1;
}

/* ---- the scale sweep ---- */

/* Files and bytes under a store directory. */
static void tree_count(const char *dir, uint64_t *bytes, uint64_t *files) {
    rt_store *s = NULL;
    rt_error e;
    rt_strlist l = {0};
    *bytes = 0;
    *files = 0;
    if (rt_store_open_dir(&s, dir, 0, &e) != RT_OK) return;
    if (rt_store_list(s, "", &l, &e) == RT_OK)
        for (size_t i = 0; i < l.len; i++) {
            uint64_t sz = 0;
            if (rt_store_size(s, l.items[i], &sz, &e) == RT_OK) *bytes += sz;
        }
    *files = l.len;
    rt_strlist_free(&l);
    rt_store_close(s);
}

/* One take run of `records` at the sweep's interval, timed whole. */
static rt_err scale_run(bench *b, int i, uint64_t records, bench_scale_point *p, rt_error *e) {
    char name[64], store_dir[640], work_dir[640];
    snprintf(name, sizeof name, "scale-store-%d", i);
    rt_err rc = sub_dir(b, name, store_dir, sizeof store_dir, e);
    snprintf(name, sizeof name, "scale-work-%d", i);
    if (rc == RT_OK) rc = sub_dir(b, name, work_dir, sizeof work_dir, e);
    rt_store *store = NULL;
    if (rc == RT_OK) rc = rt_store_open_dir(&store, store_dir, 1, e);
    if (rc != RT_OK) return rc;
    sim_config cfg;
    sim_config_defaults(&cfg);
    cfg.seed = cfg.source_seed = b->o.seed;
    cfg.backend = "rocksdb";
    cfg.incremental = 1;
    cfg.interval_ms = b->o.scale_interval_ms;
    cfg.store = store;
    cfg.work_dir = work_dir;
    sim_run *run = NULL;
    char dir[512];
    bench_watch sw = bench_watch_start();
    bench_sample s;
    rc = sim_run_create(&run, &cfg, e);
    if (rc == RT_OK) rc = sim_run_records(run, records, e);
    if (rc == RT_OK) rc = sim_run_snapshot(run, SIM_KIND_NATIVE, "", dir, sizeof dir, e);
    bench_watch_stop(&sw, &s);
    if (rc == RT_OK) {
        const sim_stats *st = sim_run_stats(run);
        p->records = records;
        p->checkpoints = st->checkpoints_completed;
        p->wall_ms = s.wall_ms;
        p->cpu_ms = s.cpu_ms;
        p->bytes_written = st->bytes_written;
        p->files_written = st->files_written;
        p->sst_bytes_uploaded = st->sst_bytes_uploaded;
        p->sst_bytes_new = st->sst_bytes_new;
    }
    sim_run_destroy(run);
    rt_store_close(store);
    if (rc == RT_OK) tree_count(store_dir, &p->bytes_kept, &p->files_kept);
    bench_remove_tree(store_dir);
    bench_remove_tree(work_dir);
    if (rc != RT_OK) rt_error_prefix(e, "bench: scale run of %" PRIu64 " records: ", records);
    return rc;
}

/* Record counts from scale_max/100 to scale_max, half a decade apart. */
static rt_err bench_scale_sweep(bench *b, rt_error *e) {
    bench_scale *sc = &b->scale;
    sim_job job;
    sim_job_default(&job);
    sc->interval_ms = b->o.scale_interval_ms;
    sc->keys = job.keys;
    sc->backend = "rocksdb";
    sc->kind = "native";
    sc->n = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t records = (uint64_t)((double)b->o.scale_max * pow(10.0, (i - 4) / 2.0) + 0.5);
        bench_scale_point *p = &sc->p[sc->n];
        rt_err rc = scale_run(b, i, records, p, e);
        if (rc != RT_OK) return rc;
        sc->n++;
        say(b, "bench: scale %8" PRIu64 " records: %4" PRIu64 " checkpoints, %.1f s (cpu %.1f s), %.1f MB "
                        "written, %.1f MB kept, SST uploaded/new %.2f\n",
                records, p->checkpoints, p->wall_ms / 1e3, p->cpu_ms / 1e3, (double)p->bytes_written / 1e6,
                (double)p->bytes_kept / 1e6,
                p->sst_bytes_new ? (double)p->sst_bytes_uploaded / (double)p->sst_bytes_new : 0.0);
    }
    return RT_OK;
}

/* ---- the payload sizes (each in a child process) ---- */

static rt_err bench_size_part(bench *b, rt_error *e) {
    bench_sizes *s = &b->sizes;
    s->seed = b->o.seed;
    char root[640];
    snprintf(root, sizeof root, "%s/size", b->root);
    for (int i = 0; i < b->o.n_sizes; i++) {
        bench_size_point *p = &s->p[s->n];
        rt_err rc = bench_size_measure(root, b->o.seed, b->o.sizes[i], p, e);
        if (rc != RT_OK) return rc;
        s->n++;
        say(b, "bench: size %4" PRIu64 " MiB: %.1f MiB SST, load %.1f s; savepoint native %.0f ms canonical %.0f "
                        "ms (copy %.0f ms); restore native %.0f ms canonical %.0f ms (copy+open %.0f ms); incr "
                        "uploaded/new %.2f; peak RSS %.0f MiB\n",
                p->mib, (double)p->sst_bytes / 1048576.0, p->load_wall_ms / 1e3, p->sp_native.wall_ms,
                p->sp_canonical.wall_ms, p->floor_copy.wall_ms, p->rs_native.wall_ms, p->rs_canonical.wall_ms,
                p->floor_copy.wall_ms + p->floor_open.wall_ms,
                p->incr_sst_new ? (double)p->incr_sst_uploaded / (double)p->incr_sst_new : 0.0,
                (double)p->peak_rss_kb / 1024.0);
    }
    /* Memory against parallelism and retained checkpoints, at the smallest size. */
    static const uint64_t axis_values[] = {1, 2, 4};
    for (int a = 0; a < 2 && b->o.n_sizes > 0; a++)
        for (size_t i = 0; i < sizeof axis_values / sizeof axis_values[0]; i++) {
            bench_mem_point *m = &s->mem[s->n_mem];
            memset(m, 0, sizeof *m);
            m->axis = a == 0 ? "parallelism" : "retained";
            m->mib = b->o.sizes[0];
            m->parallelism = a == 0 ? axis_values[i] : 2;
            m->retained = a == 1 ? axis_values[i] : 2;
            rt_err rc = bench_mem_measure(root, b->o.seed, m, e);
            if (rc != RT_OK) return rc;
            s->n_mem++;
            say(b, "bench: memory %s %" PRIu64 ": peak RSS %.0f MiB (%.1f s)\n", m->axis,
                    a == 0 ? m->parallelism : m->retained, (double)m->peak_rss_kb / 1024.0, m->wall_ms / 1e3);
        }
    return RT_OK;
}

/* ---- fuzz seeds and their RocksDB floor ---- */

static rt_err bench_fuzz_part(bench *b, rt_error *e) {
    /* Where `snapsim fuzz` runs its seeds (tmpfs when there is one), not
     * --tmp: the floor is that of a sweep's seeds. */
    char root[640];
    if (cli_work_dir(root, sizeof root, "bench-fuzz") != 0)
        return RT_FAIL(e, RT_EIO, "bench: cannot make a work directory for the fuzz seeds");
    say(b, "bench: fuzz: %" PRIu64 " seeds under %s, then the unit costs\n", b->o.fuzz_seeds, root);
    rt_err rc = bench_fuzz_measure(root, 1, b->o.fuzz_seeds, (int)b->o.reps, &b->fuzz, e);
    cli_remove_tree(root);
    if (rc != RT_OK) return rc;
    const bench_fuzz *f = &b->fuzz;
    say(b, "bench: fuzz: %.1f seeds per CPU-s; a rocksdb seed %.1f ms CPU, its RocksDB floor %.1f ms (open %.2f ms, "
           "snapshot %.2f ms, read %.2f us)\n",
        1e3 * (double)f->seeds / (f->cpu_heap_ms + f->cpu_rocks_ms), f->n_rocks ? f->cpu_rocks_ms / (double)f->n_rocks : 0,
        bench_fuzz_floor_ms(f), f->open.cpu_ms, f->snapshot.cpu_ms, f->get_us);
    return RT_OK;
}

/* ---- the whole run ---- */

static rt_err verify_run(bench *b, brun *r, rt_error *e) {
    rt_err rc = sim_run_verify(r->run, e);
    if (rc != RT_OK) {
        b->facts.all_verified = 0;
        rt_error_prefix(e, "bench: %s after measuring: ", r->label);
        return rc;
    }
    b->facts.n_verified++;
    return RT_OK;
}

/* Measured facts that contradict the mechanism being measured: said in
 * the report, never corrected. */
static void check_results(const bench *b, bench_cmp *cmp) {
    double inc = bench_ratio_of_medians(&cmp[CMP_CP_INCR], BENCH_BYTES);
    if (inc >= 0.9)
        snprintf(cmp[CMP_CP_INCR].flag, sizeof cmp[CMP_CP_INCR].flag,
                 "after a change of %" PRIu64 " records the incremental checkpoint uploaded %.0f%% of the bytes "
                 "of the full one: it reused (almost) no earlier upload. With a confirmed earlier checkpoint it "
                 "should upload only the SSTs flushed since; this looks like a defect in the incremental path "
                 "(the backend's base of uploaded files is not being set), not noise.",
                 b->o.change, 100 * inc);
}

static rt_err bench_all(bench *b, bench_cmp *cmp, rt_error *e) {
    /* First: the children must fork from a process that never opened RocksDB. */
    rt_err rc = bench_size_part(b, e);
    if (rc == RT_OK) rc = bench_fuzz_part(b, e);
    if (rc == RT_OK) rc = run_open(b, &b->incr, "rocksdb-incr", "rocksdb", 1, e);
    if (rc == RT_OK) rc = run_open(b, &b->full, "rocksdb-full", "rocksdb", 0, e);
    if (rc == RT_OK) rc = run_open(b, &b->heap, "heap", "heap", 0, e);
    if (rc == RT_OK) rc = run_load(b, &b->incr, e);
    if (rc == RT_OK) rc = run_load(b, &b->full, e);
    if (rc == RT_OK) rc = run_load(b, &b->heap, e);
    /* Checkpoints first, while the three runs have the same history (the
     * savepoints below flush the incremental run's RocksDB again and again,
     * which the full run would not see). */
    if (rc == RT_OK) rc = bench_checkpoints(b, cmp, e);
    char sp_dirs[4][512];
    if (rc == RT_OK) rc = bench_savepoints(b, cmp, sp_dirs, e);
    if (rc == RT_OK) rc = bench_restores(b, cmp, sp_dirs, e);
    if (rc == RT_OK) b->facts.rocks_local_bytes = tree_bytes(b->incr.work_dir);
    if (rc == RT_OK) {
        say(b, "bench: checking every run against the oracle\n");
        rc = verify_run(b, &b->incr, e);
        if (rc == RT_OK) rc = verify_run(b, &b->full, e);
        if (rc == RT_OK) rc = verify_run(b, &b->heap, e);
    }
    run_close(&b->incr);
    run_close(&b->full);
    run_close(&b->heap);
    if (rc == RT_OK) rc = bench_scale_sweep(b, e);
    return rc;
}

/* Zero in rounds, keys, records and change: the mode's default. */
const cli_opt bench_options[] = {
    CLI_STRING(bench_opts, out, "out", "DIR", "report directory (default reports)"),
    CLI_FLAG(bench_opts, quick, "quick", "tiny smoke run (a few seconds; numbers not meaningful)"),
    CLI_U64(bench_opts, reps, "rounds", "N", 0, UINT64_MAX, "counted rounds per comparison (default 15, quick 3)"),
    CLI_U64(bench_opts, keys, "keys", "N", 0, UINT64_MAX, "keys of the built-in job (default 50000, quick 2000)"),
    CLI_U64(bench_opts, records, "records", "N", 0, UINT64_MAX, "records loaded into each run (default 200000, quick 8000)"),
    CLI_U64(bench_opts, change, "change", "N", 0, UINT64_MAX, "records between checkpoints in 3 and 4 (default 1000, quick 100)"),
    CLI_U64(bench_opts, seed, "seed", "N", 0, UINT64_MAX, "seed of the runs (default 1)"),
    CLI_STRING(bench_opts, tmp, "tmp", "DIR", "where the temporary files go (default $TMPDIR or /tmp)"),
    CLI_FLAG(bench_opts, keep, "keep", "keep the temporary files and print where they are"),
    CLI_U64(bench_opts, scale_max, "scale-max", "N", 0, UINT64_MAX,
            "records of the largest scale-sweep run (default 2000000, quick 20000)"),
    CLI_STRING(bench_opts, sizes_arg, "sizes", "MIB,..",
               "payload-state sizes in MiB against the floor (default 16,64,256,\nquick 2; \"none\" skips them)"),
    CLI_U64(bench_opts, scale_interval_ms, "scale-interval", "MS", 0, UINT64_MAX,
            "checkpoint interval of the sweep, virtual ms (default 10000, quick 1000)"),
    CLI_U64(bench_opts, fuzz_seeds, "fuzz-seeds", "N", 0, 100000,
            "fuzz seeds timed for seeds/s and their RocksDB floor (default 200,\nquick 5)"),
    CLI_INCLUDE(bench_opts, progress, cli_progress, cli_progress_options),
    CLI_END,
};

/* "16,64,256": 1..BENCH_SIZES_MAX sizes of 1..4096 MiB, ascending; "none": no size. */
static int parse_sizes(bench_opts *o) {
    const char *s = o->sizes_arg ? o->sizes_arg : o->quick ? "2" : "16,64,256";
    o->n_sizes = 0;
    if (strcmp(s, "none") == 0) return 0;
    while (*s) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (end == s || errno || v < 1 || v > 4096 || (*end != ',' && *end != '\0') || o->n_sizes == BENCH_SIZES_MAX ||
            (o->n_sizes > 0 && v <= o->sizes[o->n_sizes - 1]))
            return cli_usage_error("bench: --sizes wants up to %d ascending sizes of 1..4096 MiB, comma-separated, "
                                   "or none (got '%s')", BENCH_SIZES_MAX, o->sizes_arg);
        o->sizes[o->n_sizes++] = v;
        s = *end ? end + 1 : end;
    }
    return 0;
}

static int parse_opts(bench_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->out = "reports";
    o->seed = 1;
    int first = 0;
    int rc = cli_parse(bench_options, o, argc, argv, "bench", &first);
    if (rc) return rc;
    uint64_t reps = o->reps, keys = o->keys, records = o->records, change = o->change;
    uint64_t scale_max = o->scale_max, scale_interval = o->scale_interval_ms;
    if (first < argc) return cli_usage_error("bench: unexpected argument '%s'", argv[first]);
    o->keys = keys ? keys : o->quick ? 2000 : 50000;
    o->records = records ? records : o->quick ? 8000 : 200000;
    o->change = change ? change : o->quick ? 100 : 1000;
    o->reps = reps ? reps : o->quick ? 3 : 15;
    o->scale_max = scale_max ? scale_max : o->quick ? 20000 : 2000000;
    o->scale_interval_ms = scale_interval ? scale_interval : o->quick ? 1000 : 10000;
    if (o->fuzz_seeds == 0) o->fuzz_seeds = o->quick ? 5 : 200;
    if (o->scale_max < 100 || o->scale_max > 10000000)
        return cli_usage_error("bench: --scale-max wants 100..10000000 records");
    if (o->scale_interval_ms > 3600000) return cli_usage_error("bench: --scale-interval wants 1..3600000 ms");
    if (parse_sizes(o)) return CLI_EXIT_USAGE;
    o->warmup = 1;
    if (o->reps + o->warmup > BENCH_REPS_MAX)
        return cli_usage_error("bench: --rounds wants 1..%d", BENCH_REPS_MAX - 1);
    if (o->keys > 10000000 || o->records > 10000000 || o->change > 10000000)
        return cli_usage_error("bench: --keys, --records and --change go up to 10000000");
    return 0;
}

static rt_err make_root(bench *b, rt_error *e) {
    const char *base = b->o.tmp ? b->o.tmp : getenv("TMPDIR");
    if (base == NULL || *base == '\0') base = "/tmp";
    if ((size_t)snprintf(b->root, sizeof b->root, "%s/snapsim-bench-XXXXXX", base) >= sizeof b->root)
        return RT_FAIL(e, RT_EUSAGE, "bench: temporary directory path too long: %s", base);
    if (mkdtemp(b->root) == NULL) {
        int err = errno;
        b->root[0] = '\0';
        return RT_FAIL(e, RT_EIO, "bench: cannot make a temporary directory under %s: %s", base, strerror(err));
    }
    return RT_OK;
}

static rt_err write_reports(const bench *b, const bench_cmp *cmp, char *md, char *js, size_t cap, rt_error *e) {
    snprintf(md, cap, "%s/bench.md", b->o.out);
    snprintf(js, cap, "%s/bench.json", b->o.out);
    char svg[700];
    snprintf(svg, sizeof svg, "%s/bench-scale.svg", b->o.out);
    rt_err rc = bench_write_md(md, &b->facts, cmp, CMP_COUNT, &b->scale, "bench-scale.svg", e);
    if (rc == RT_OK) rc = bench_write_json(js, &b->facts, cmp, CMP_COUNT, &b->scale, e);
    if (rc == RT_OK) rc = bench_write_scale_svg(svg, &b->scale, e);
    if (rc == RT_OK) rc = bench_fuzz_append_md(md, &b->fuzz, e);
    if (rc == RT_OK) rc = bench_fuzz_add_json(js, &b->fuzz, e);
    if (rc != RT_OK || b->sizes.n == 0) return rc;
    char tsvg[700], msvg[700];
    snprintf(tsvg, sizeof tsvg, "%s/bench-size-time.svg", b->o.out);
    snprintf(msvg, sizeof msvg, "%s/bench-size-memory.svg", b->o.out);
    rc = bench_sizes_append_md(md, &b->sizes, "bench-size-time.svg", "bench-size-memory.svg", e);
    if (rc == RT_OK) rc = bench_sizes_add_json(js, &b->sizes, e);
    if (rc == RT_OK) rc = bench_write_sizes_svg(tsvg, &b->sizes, e);
    if (rc == RT_OK) rc = bench_write_memory_svg(msvg, &b->sizes, e);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    static bench b; /* large sample arrays: keep them off the stack */
    static bench_cmp cmp[CMP_COUNT];
    memset(&b, 0, sizeof b);
    int rc = parse_opts(&b.o, argc, argv);
    if (rc) return rc;
    rt_error e;
    rt_error_clear(&e);
    bench_watch total = bench_watch_start();
    /* The report directory first: a bad --out fails before the long part. */
    if (make_dir(b.o.out, &e) != RT_OK || make_root(&b, &e) != RT_OK) return cli_report_error(&e);
    gather_facts(&b);
    setup_cmps(&b, cmp);
    b.lines = cli_progress_lines(&b.o.progress);
    say(&b, "bench: %s run: %" PRIu64 " keys, %" PRIu64 " records per run, %" PRIu64 " rounds (+%" PRIu64
                    " warm-up), files under %s (%s)\n",
            b.o.quick ? "quick" : "full", b.o.keys, b.o.records, b.o.reps, b.o.warmup, b.root, b.facts.tmp_fs);
    rt_err err = bench_all(&b, cmp, &e);
    if (err == RT_OK) check_results(&b, cmp);
    bench_sample spent;
    bench_watch_stop(&total, &spent);
    b.facts.total_s = spent.wall_ms / 1e3;
    if (b.o.keep) /* where they are is no progress: said even with --quiet */
        fprintf(stderr, "bench: kept the temporary files in %s\n", b.root);
    else
        bench_remove_tree(b.root);
    if (err != RT_OK) return cli_report_error(&e);
    char md[700], js[700];
    if (write_reports(&b, cmp, md, js, sizeof md, &e) != RT_OK) return cli_report_error(&e);
    if (cli_progress_summary(&b.o.progress)) fprintf(stderr, "bench: done in %.1f s\n", b.facts.total_s);
    printf("%s\n%s\n", md, js);
    return CLI_EXIT_OK;
}
