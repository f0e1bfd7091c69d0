/* drv_flink: the scenario interpreter's second executor. It runs a scenario
 * on real Apache Flink releases through the conformance runner
 * (conformance/README.md): one JVM per engine step, `take` for the job up to
 * its snapshot and `restore` for the restored job up to its check, so a
 * snapshot taken on one release is restored on another. Results have the
 * model's shape (drv_scn_result) with impl "flink" and real release names.
 *
 * The lane is not deterministic: its oracle (in the runner) needs no order,
 * only the split offsets in the snapshot. A scenario step the runner cannot
 * perform (a fault plan, a failover, a second snapshot of one job) makes the
 * whole scenario `skipped`, with the step named: nothing is recorded for it.
 *
 * Bad runs are named results, never a hung sweep: a release with no runner
 * jar, a JVM that dies, a runner that outlives its time bound (killed) are
 * each `crashed` with the reason; the runner's and Flink's logs stay in the
 * run's directory. */
#ifndef DRV_FLINK_H
#define DRV_FLINK_H

#include "rt_err.h"

typedef struct drv_flink_opts {
    const char *runners_dir;     /* where runner-<release>.jar live (conformance/target) */
    const char *default_release; /* for steps that name no engine */
    const char *java;            /* the java launcher ("java") */
    unsigned timeout_s;          /* per JVM step; the runner gets the same bound */
} drv_flink_opts;

void drv_flink_defaults(drv_flink_opts *o);

/* The runner jar of a release; RT_ENOENT naming what to build when it was
 * never built (the lane skips that release), RT_EVERSION when its build
 * failed (conformance/build.sh left runner-<release>.FAILED: a result). */
rt_err drv_flink_runner(const drv_flink_opts *o, const char *release, char *jar, size_t cap,
                        rt_error *e);

#endif
