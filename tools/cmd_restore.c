/* cmd_restore: restore a snapshot directory, run on, check the oracle.
 * The storage opened is the snapshot's own: for a savepoint its parent
 * directory (paths are relative), for a checkpoint the checkpoint storage
 * its _metadata names (paths are absolute into it). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <assert.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "mx.h"
#include "session.h"
#include "sim_metadata.h"

typedef struct restore_opts {
    job_opts j;
    const char *path;
    char path_buf[PATH_MAX];
    sim_restore_mode mode;
    int allow;
} restore_opts;

static int parse_mode(void *target, const char *value) { return sim_mode_parse(value, target); }

/* Flink's CLI spellings of `flink run` too: -s PATH (fromSavepoint), -rm
 * MODE (restoreMode), -n (allowNonRestoredState). */
const cli_opt restore_options[] = {
    CLI_INCLUDE(restore_opts, j, job_opts, job_options),
    {.kind = CLI_OPT_STRING, .letter = 's', .name = "fromSavepoint", .arg = "PATH", .off = CLI_OFF(restore_opts, path, const char *),
     .help = "the snapshot to restore (or PATH as the argument; PATH/_metadata too)"},
    {.kind = CLI_OPT_CALL, .name = "mode", .other = "--restoreMode -rm", .arg = "M", .fn = parse_mode,
     .off = CLI_OFF(restore_opts, mode, sim_restore_mode), .wants = "claim, no-claim or legacy (no_claim too)",
     .help = "restore mode: claim, no-claim (default) or legacy"},
    {.kind = CLI_OPT_FLAG, .letter = 'n', .name = "allow-non-restored-state", .other = "--allowNonRestoredState",
     .off = CLI_OFF(restore_opts, allow, int), .help = "skip snapshot state no operator of the job takes"},
    CLI_END,
};

static int parse(restore_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    job_opts_defaults(&o->j);
    o->mode = SIM_MODE_NO_CLAIM;
    int first = 0;
    int rc = cli_parse(restore_options, o, argc, argv, "restore", &first);
    if (rc) return rc;
    if (o->path == NULL && first < argc) o->path = argv[first++];
    if (o->path == NULL) return cli_usage_error("restore: PATH (a snapshot directory) is required");
    if (first < argc) return cli_usage_error("restore: unexpected argument '%s'", argv[first]);
    /* Flink accepts the _metadata file's path as well as its directory. */
    size_t n = strlen(o->path);
    if (n >= 10 && strcmp(o->path + n - 10, "/_metadata") == 0) {
        snprintf(o->path_buf, sizeof o->path_buf, "%.*s", (int)(n - 10), o->path);
        o->path = o->path_buf;
    }
    if (o->j.backend == NULL) return cli_usage_error("restore: --backend heap|rocksdb is required");
    return 0;
}

/* Opens the storage the snapshot lives in and finds its directory there. */
static rt_err open_snapshot(const char *path, session *s, char *dir, size_t cap, sim_job *job,
                            rt_error *e) {
    char real[PATH_MAX], parent[PATH_MAX], base[PATH_MAX];
    struct stat st;
    if (realpath(path, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return RT_FAIL(e, RT_EINPUT, "%s: no such snapshot directory", path);
    snprintf(parent, sizeof parent, "%s", real);
    snprintf(base, sizeof base, "%s", real);
    rt_store *meta_store = NULL;
    rt_err rc = rt_store_open_dir(&meta_store, dirname(parent), 0, e);
    if (rc != RT_OK) return rc;
    /* Parsed as written first: whether the directory alone is enough
     * decides which storage it is restored from. */
    char meta_path[PATH_MAX + 16];
    snprintf(meta_path, sizeof meta_path, "%s/_metadata", basename(base));
    uint8_t *text = NULL;
    size_t len = 0;
    sim_meta m;
    rc = rt_store_get(meta_store, meta_path, &text, &len, e);
    if (rc == RT_ENOENT) rc = RT_FAIL(e, RT_ENOENT, "%s: no _metadata: not a snapshot directory", real);
    if (rc == RT_OK) rc = sim_meta_parse(&m, (const char *)text, len, NULL, "", meta_path, e);
    free(text);
    if (rc != RT_OK) {
        rt_store_close(meta_store);
        return rc;
    }
    *job = m.job;
    if (sim_meta_self_contained(&m)) {
        s->store = meta_store;
        snprintf(dir, cap, "%s", basename(base));
        sim_meta_free(&m);
        return RT_OK;
    }
    rt_store_close(meta_store);
    rc = rt_store_open_dir(&s->store, m.storage_root, 0, e);
    if (rc != RT_OK)
        rc = RT_FAIL(e, RT_ENOENT,
                     "checkpoint storage %s is gone: a checkpoint references files there by absolute "
                     "path and is not self-contained", m.storage_root);
    else if (rt_store_relativize(s->store, real, dir, cap, e) != RT_OK)
        rc = RT_FAIL(e, RT_ESANDBOX,
                     "checkpoint %s was moved out of its storage %s: checkpoints are not relocatable",
                     real, m.storage_root);
    sim_meta_free(&m);
    return rc;
}

/* Files under the snapshot's directory (what a CLAIM restore may delete
 * there; a checkpoint's shared files live beside it in the storage). */
static long snapshot_files_n;
static int count_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)p; (void)sb; (void)ftw;
    if (flag == FTW_F) snapshot_files_n++;
    return 0;
}
static long count_files(const char *dir) {
    snapshot_files_n = 0;
    if (nftw(dir, count_one, 16, FTW_PHYS) != 0) return 0; /* gone: nothing left */
    return snapshot_files_n;
}

/* The one line a restore answers with: what was restored, how it went,
 * and what the mode did to the snapshot. */
static void print_summary(const restore_opts *o, sim_run *r, const rt_error *e, long before, long after) {
    const sim_stats *st = r ? sim_run_stats(r) : NULL;
    assert(e->code == RT_OK); /* a failure is the error line on stderr */
    printf("works: restored %s in %s mode, ran %" PRIu64 " records, state matches the oracle, %" PRIu64
           " checkpoints; ",
           o->path, sim_mode_name(o->mode), o->j.records, st ? (uint64_t)st->checkpoints_completed : 0);
    if (o->mode == SIM_MODE_CLAIM)
        printf("claim: the job owns the snapshot, %ld of its %ld files deleted once subsumed\n", before - after,
               before);
    else
        printf("%s: the snapshot is the user's, %ld of its %ld files left\n", sim_mode_name(o->mode), after, before);
}

int cmd_restore(int argc, char **argv) {
    restore_opts o;
    int rc = parse(&o, argc, argv);
    if (rc) return rc;
    rt_error e;
    rt_error_clear(&e);
    sim_config cfg;
    if (job_opts_config(&o.j, &cfg, &e) != RT_OK) return cli_report_error(&e);
    session s;
    if (session_open(&s, o.j.trace_file, &e) != RT_OK) return cli_report_error(&e);
    char dir[1024];
    sim_job snap_job;
    sim_run *r = NULL;
    long before = 0;
    if (open_snapshot(o.path, &s, dir, sizeof dir, &snap_job, &e) == RT_OK) {
        before = count_files(o.path);
        if (o.j.job_file == NULL) {
            /* Without --job the job is the snapshot's own, rescaled if asked. */
            cfg.job = snap_job;
            for (int i = 0; o.j.have_parallelism && i < cfg.job.n_ops; i++)
                if (cfg.job.ops[i].kind == SIM_OP_KEYED) cfg.job.ops[i].parallelism = (uint32_t)o.j.parallelism;
        }
        cfg.store = s.store;
        cfg.trace = &s.trace;
        cfg.work_dir = s.work_dir;
        if (sim_run_create(&r, &cfg, &e) == RT_OK && sim_run_restore(r, dir, o.mode, o.allow, &e) == RT_OK &&
            sim_run_records(r, o.j.records, &e) == RT_OK)
            sim_run_verify(r, &e);
    }
    int exit_code = cli_exit_for(e.code);
    long after = before ? count_files(o.path) : 0;
    if (o.j.json && rt_err_class_of(e.code) != RT_CLASS_USAGE) {
        /* What the summary line says: the snapshot, the mode, the records
         * run, and what the mode left or deleted. */
        json_t *extra = json_pack("{s:o, s:s, s:I, s:I, s:I}", "path", mx_json_text(o.path), "mode", sim_mode_name(o.mode),
                                  "records", (json_int_t)o.j.records, "snapshot_files", (json_int_t)before,
                                  "snapshot_files_deleted", (json_int_t)(before - after));
        session_print_json(&s, r, &e, extra);
    } else if (e.code == RT_OK) {
        print_summary(&o, r, &e, before, after);
    }
    if (e.code != RT_OK) cli_report_error(&e);
    sim_run_destroy(r);
    session_close(&s);
    return exit_code;
}
