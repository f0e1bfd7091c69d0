/* drv_internal: what the scenario interpreter's executors share (the model
 * executor in drv_scenario.c, the real-Flink one in drv_flink.c). Private
 * to driver/. */
#ifndef DRV_INTERNAL_H
#define DRV_INTERNAL_H

#include <jansson.h>

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

#endif
