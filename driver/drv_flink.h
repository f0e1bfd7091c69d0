/* drv_flink: the scenario interpreter's second executor. It runs a scenario
 * on real Apache Flink releases through the conformance runner
 * (conformance/README.md): one runner command per engine step (a fresh JVM,
 * or a serving JVM of the step's release kept in a pool), `take` for the job up to
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

/* Serving runner JVMs kept between steps (drv_flink_pool.c): one per
 * release and process, each command still on its own MiniCluster. */
typedef struct drv_flink_pool drv_flink_pool;
drv_flink_pool *drv_flink_pool_new(void);
/* Ends every serving JVM and frees the pool (NULL: nothing). */
void drv_flink_pool_free(drv_flink_pool *p);

typedef struct drv_flink_opts {
    const char *runners_dir;     /* where runner-<release>.jar live (conformance/target) */
    const char *default_release; /* for steps that name no engine */
    const char *java;            /* the java launcher ("java") */
    unsigned timeout_s;          /* per JVM step; the runner gets the same bound */
    int jvm_per_step;            /* --jvm-per-step: the runner (tools/runner.c) makes no pool */
    drv_flink_pool *pool;        /* NULL: a fresh JVM per step */
} drv_flink_opts;

void drv_flink_defaults(drv_flink_opts *o);

/* The runner jar of a release; RT_ENOENT naming what to build when it was
 * never built (the lane skips that release), RT_EVERSION when its build
 * failed (conformance/build.sh left runner-<release>.FAILED: a result). */
rt_err drv_flink_runner(const drv_flink_opts *o, const char *release, char *jar, size_t cap,
                        rt_error *e);

#endif
