/* cmd_check: whether a Flink release can restore a real Flink snapshot,
 * decided by flink/fl_check.c from the model's own version data and
 * restore rules. Read-only. */
#include <getopt.h>
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

enum { C_TO = 300, C_FROM, C_BACKEND, C_JSON };

static int parse(check_opts *o, int argc, char **argv) {
    static const struct option longs[] = {{"to", required_argument, 0, C_TO},
                                          {"from", required_argument, 0, C_FROM},
                                          {"backend", required_argument, 0, C_BACKEND},
                                          {"json", no_argument, 0, C_JSON},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case C_TO: o->to = optarg; break;
        case C_FROM: o->from = optarg; break;
        case C_BACKEND: o->backend = optarg; break;
        case C_JSON: o->json = 1; break;
        default: return cli_usage_error("check: unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc) o->path = argv[optind++];
    if (optind < argc) return cli_usage_error("check: unexpected argument '%s'", argv[optind]);
    if (o->path == NULL) return cli_usage_error("check: PATH (a snapshot directory) is required");
    if (o->to == NULL) return cli_usage_error("check: --to RELEASE is required");
    return 0;
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
        return cli_report_error(&e);
    }
    fl_snapshot s;
    if (fl_snapshot_open(&s, o.path, &e) != RT_OK) return cli_report_error(&e);
    fl_check c;
    if (fl_check_run(&s, to, o.backend, from, &c, &e) != RT_OK) {
        fl_snapshot_close(&s);
        return cli_report_error(&e);
    }
    if (o.json) {
        json_t *j = flink_check_json(&s, &c);
        char *t = json_dumps(j, JSON_COMPACT);
        if (t) puts(t);
        free(t);
        json_decref(j);
    } else {
        print_text(&s, &c);
    }
    fl_snapshot_close(&s);
    if (c.verdict == FL_RESTORES) return CLI_EXIT_OK;
    fprintf(stderr, "%s: %s\n", fl_verdict_name(c.verdict), c.reasons[0].text);
    return c.verdict == FL_REJECTED ? CLI_EXIT_REJECTED : CLI_EXIT_UNKNOWN;
}
