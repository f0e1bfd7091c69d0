/* cmd_check: whether a Flink release can restore a real Flink snapshot,
 * decided by flink/fl_check.c from the model's own version data and
 * restore rules. Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "flink_report.h"

typedef struct check_opts {
    const char *path, *to, *from, *backend;
    int json;
} check_opts;

const cli_opt check_options[] = {
    CLI_STRING(check_opts, to, "to", "RELEASE", "the Flink release that restores (required)"),
    CLI_STRING(check_opts, backend, "backend", "heap|hashmap|rocksdb", "the restoring job's state backend"),
    CLI_STRING(check_opts, from, "from", "RELEASE", "the release that wrote the snapshot, where it cannot\nbe told from the snapshot"),
    CLI_FLAG(check_opts, json, "json", "print the verdict and the reasons as one JSON object"),
    CLI_END,
};

static int parse(check_opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    int first = 0;
    int rc = cli_parse(check_options, o, argc, argv, "check", &first);
    if (rc) return rc;
    if (first < argc) o->path = argv[first++];
    if (first < argc) return cli_usage_error("check: unexpected argument '%s'", argv[first]);
    if (o->path == NULL) return cli_usage_error("check: PATH (a snapshot directory) is required");
    if (o->to == NULL) return cli_usage_error("check: --to RELEASE is required");
    return 0;
}

static void print_json(json_t *j) {
    char *t = json_dumps(j, JSON_COMPACT);
    if (t) puts(t);
    free(t);
    json_decref(j);
}

static void print_text(const fl_snapshot *s, const fl_check *c) {
    printf("snapshot   %s (%s, _metadata V%d)\n", s->dir,
           s->savepoint < 0 ? "unknown type" : s->savepoint ? "savepoint" : "checkpoint", (int)s->meta.version);
    printf("written by %s\n", c->writers);
    printf("target     Flink %s, backend %s\n", c->target->name, c->backend ? c->backend : "(not given)");
    printf("verdict    %s\n", fl_verdict_name(c->verdict));
    for (int i = 0; i < c->n_reasons; i++)
        printf("  %-8s %s: %s\n", fl_verdict_name(c->reasons[i].verdict), c->reasons[i].rule, c->reasons[i].text);
    if (c->more_reasons) printf("  ... and %d more\n", c->more_reasons);
}

/* A PATH check cannot read: rejected (with --json, as one object too). */
static int unread(const check_opts *o, const sim_version *to, const rt_error *e) {
    if (o->json) print_json(flink_check_unread_json(o->path, to->name, o->backend, e->msg));
    return cli_report_error(e);
}

int cmd_check(int argc, char **argv) {
    check_opts o;
    int rc = parse(&o, argc, argv);
    if (rc != 0) return rc;
    rt_error e;
    rt_error_clear(&e);
    const sim_version *to = sim_version_lookup(o.to, &e);
    const sim_version *from = to && o.from ? sim_version_lookup(o.from, &e) : NULL;
    if (to == NULL || (o.from && from == NULL)) return cli_report_error(&e);
    if (!fl_snapshot_is_flink(o.path)) {
        RT_FAIL(&e, RT_ENOENT, "%s: no Flink _metadata (binary, magic 0x4960672d): not a Flink snapshot directory",
                o.path);
        return unread(&o, to, &e);
    }
    fl_snapshot s;
    if (fl_snapshot_open(&s, o.path, &e) != RT_OK) return unread(&o, to, &e);
    fl_check c;
    if (fl_check_run(&s, to, o.backend, from, &c, &e) != RT_OK) {
        fl_snapshot_close(&s);
        return cli_report_error(&e);
    }
    if (o.json) {
        print_json(flink_check_json(&s, &c));
    } else {
        print_text(&s, &c);
    }
    fl_snapshot_close(&s);
    if (c.verdict == FL_RESTORES) return CLI_EXIT_OK;
    fprintf(stderr, "%s: %s\n", fl_verdict_name(c.verdict), c.reasons[0].text);
    return c.verdict == FL_REJECTED ? CLI_EXIT_REJECTED : CLI_EXIT_UNKNOWN;
}
