/* drv_internal: what the scenario interpreter's executors share (the model
 * executor in drv_scenario.c, the real-Flink one in drv_flink.c). Private
 * to driver/. */
#ifndef DRV_INTERNAL_H
#define DRV_INTERNAL_H

#include <jansson.h>
#include <sys/types.h>

#include "drv_flink.h"
#include "drv_scenario.h"

const char *drv_scn_path(const drv_scn *s);
/* The steps array (borrowed) and the folder job files are relative to. */
json_t *drv_scn_steps(const drv_scn *s);
const char *drv_scn_base_dir(const drv_scn *s);
/* The variant's "from" and "to" (NULL when the scenario has no variants). */
rt_err drv_scn_variant(const drv_scn *s, int variant, const char **from, const char **to, rt_error *e);

/* Expands $KIND, $BACKEND, $OTHER_BACKEND, $FROM and $TO in a step field. */
const char *drv_scn_expand(const char *v, sim_kind kind, const char *backend, const char *from, const char *to);

/* The real-Flink executor (drv_flink.c): same contract as drv_scn_run. */
rt_err drv_flink_run(const drv_scn *s, sim_kind kind, const char *backend, int variant, uint64_t seed,
                     const drv_scn_env *env, drv_scn_result *res, rt_error *e);

/* The lane's clock (monotonic seconds) and a read of a runner's stdout
 * until it closes, or (line) until a whole line came, or deadline: -1 when
 * the deadline passed, else 0 (drv_flink_pool.c). */
double drv_fl_now(void);
int drv_fl_read(int fd, char *buf, size_t cap, size_t *len, double deadline, int line);
/* Starts java with args (args[0] is java), stderr into err_log, stdout into
 * a pipe (*from); stdin from a pipe (*to) when to is not NULL, else from
 * /dev/null. Both ends are close-on-exec. 0, or -1 with why filled. */
int drv_fl_spawn(const char *java, const char *const *args, const char *err_log, pid_t *pid, int *to, int *from,
                 char *why, size_t why_cap);

/* One command on the serving JVM of jar (started when there is none, its
 * stderr into err_log): DRV_FL_ANSWER with the answer line in buf (*len
 * bytes, no newline); DRV_FL_TIMEOUT (killed) or DRV_FL_DIED with *status
 * its wait status; DRV_FL_ERROR with why filled (no JVM could be asked). */
typedef enum { DRV_FL_ANSWER, DRV_FL_TIMEOUT, DRV_FL_DIED, DRV_FL_ERROR } drv_fl_call;
drv_fl_call drv_flink_pool_call(drv_flink_pool *p, const char *java, const char *jar, const char *const *args,
                                double deadline, const char *err_log, char *buf, size_t cap, size_t *len,
                                int *status, char *why, size_t why_cap);
/* Ends the serving JVM of jar, if any (after an answer other than works). */
void drv_flink_pool_drop(drv_flink_pool *p, const char *jar);

#endif
