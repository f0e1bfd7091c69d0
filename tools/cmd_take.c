/* cmd_take: take, savepoint and stop: run the job under a directory store
 * and take one snapshot. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "mx.h"
#include "session.h"

typedef struct take_opts {
    job_opts j;
    const char *kind, *type;
    int drain;
} take_opts;

#define TAKE_JOB_OPTIONS                                            \
    CLI_INCLUDE(take_opts, j, job_opts, job_options),               \
    CLI_INCLUDE(take_opts, j, job_opts, snapshot_options)
#define TAKE_NOT_KIND CLI_REFUSE("kind", "takes --type native|canonical, not --kind (a savepoint is one of those)")
#define TAKE_TYPE CLI_STRING(take_opts, type, "type", "native|canonical", \
                             "the savepoint's format (NATIVE, CANONICAL too; default: the engine's)")

const cli_opt take_options[] = {
    TAKE_JOB_OPTIONS,
    CLI_STRING(take_opts, kind, "kind", "K", "snapshot kind (required)"),
    CLI_END,
};
const cli_opt savepoint_options[] = {TAKE_JOB_OPTIONS, TAKE_TYPE, TAKE_NOT_KIND, CLI_END};
const cli_opt stop_options[] = {
    TAKE_JOB_OPTIONS,
    TAKE_TYPE,
    CLI_FLAG(take_opts, drain, "drain", "the sources finish and all in-flight data is processed first"),
    TAKE_NOT_KIND,
    CLI_END,
};

typedef enum { TAKE_ANY, TAKE_SAVEPOINT, TAKE_STOP } take_mode;

static const cli_opt *const take_tables[] = {take_options, savepoint_options, stop_options};

static int take_common(int argc, char **argv, const char *cmd, take_mode mode) {
    take_opts x;
    memset(&x, 0, sizeof x);
    job_opts_defaults(&x.j);
    int first = 0;
    int rc = cli_parse(take_tables[mode], &x, argc, argv, cmd, &first);
    if (rc) return rc;
    job_opts o = x.j;
    /* `flink savepoint :jobId [:targetDirectory]`: the directory may come
     * as the one argument of savepoint and stop. */
    if (first < argc && o.out == NULL && mode != TAKE_ANY) o.out = argv[first++];
    if (first < argc) return cli_usage_error("%s: unexpected argument '%s'", cmd, argv[first]);
    const char *kind_s = mode == TAKE_ANY ? x.kind : x.type;
    if (kind_s == NULL && mode == TAKE_ANY) return cli_usage_error("%s: --kind is required", cmd);
    if (kind_s == NULL) { /* like `flink savepoint` without --type: the engine's default */
        const sim_version *v = o.engine ? sim_version_find(o.engine) : sim_version_default();
        kind_s = v ? v->default_savepoint_format : "canonical";
    }
    char lower[16];
    if (mode != TAKE_ANY) { /* Flink spells the types NATIVE and CANONICAL */
        size_t i = 0;
        for (; kind_s[i] && i + 1 < sizeof lower; i++) lower[i] = (char)tolower((unsigned char)kind_s[i]);
        lower[i] = '\0';
        kind_s = lower;
    }
    sim_kind kind;
    if (sim_kind_parse(kind_s, &kind) != 0 || (mode != TAKE_ANY && kind > SIM_KIND_NATIVE))
        return cli_usage_error("%s: unknown %s '%s' (%s)", cmd, mode == TAKE_ANY ? "kind" : "type", kind_s,
                               mode == TAKE_ANY ? "canonical, native, aligned, unaligned" : "native, canonical");
    if (o.out == NULL) return cli_usage_error("%s: --out DIR is required", cmd);
    rt_error e;
    rt_error_clear(&e);
    sim_config cfg;
    if (job_opts_config(&o, &cfg, &e) != RT_OK) return cli_report_error(&e);
    cfg.unaligned = kind == SIM_KIND_UNALIGNED;
    session s;
    if (session_open(&s, o.trace_file, &e) != RT_OK) return cli_report_error(&e);
    sim_run *r = NULL;
    char dir[512] = "", abs[1024] = "";
    cfg.trace = &s.trace;
    cfg.work_dir = s.work_dir;
    if (rt_store_open_dir(&s.store, o.out, 1, &e) == RT_OK) {
        cfg.store = s.store;
        if (sim_run_create(&r, &cfg, &e) == RT_OK && sim_run_records(r, o.records, &e) == RT_OK) {
            if (mode == TAKE_STOP)
                sim_run_stop_with_savepoint(r, kind, x.drain, "", dir, sizeof dir, &e);
            else
                sim_run_snapshot(r, kind, "", dir, sizeof dir, &e);
        }
    }
    if (dir[0] && e.code == RT_OK) rt_store_absolute(s.store, dir, abs, sizeof abs);
    int exit_code = e.code == RT_OK ? CLI_EXIT_OK : cli_exit_for(e.code);
    /* A usage error is no outcome: its error line alone, as restore's. */
    if (o.json && rt_err_class_of(e.code) != RT_CLASS_USAGE) {
        /* path: the snapshot's directory, null when none was taken. */
        json_t *extra = json_pack("{s:o, s:s}", "path", abs[0] ? mx_json_text(abs) : json_null(), "kind",
                                  sim_kind_name(kind));
        session_print_json(&s, r, &e, extra);
    } else if (e.code == RT_OK) {
        puts(abs);
    }
    if (e.code != RT_OK) cli_report_error(&e);
    sim_run_destroy(r);
    session_close(&s);
    return exit_code;
}

int cmd_take(int argc, char **argv) { return take_common(argc, argv, "take", TAKE_ANY); }
int cmd_savepoint(int argc, char **argv) { return take_common(argc, argv, "savepoint", TAKE_SAVEPOINT); }
int cmd_stop(int argc, char **argv) { return take_common(argc, argv, "stop", TAKE_STOP); }
