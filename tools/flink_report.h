/* flink_report: what `snapsim inspect` and `snapsim check` print about a
 * real Flink snapshot (flink/fl_snapshot.h, flink/fl_check.h), as text or
 * as one JSON object. */
#ifndef FLINK_REPORT_H
#define FLINK_REPORT_H

#include <jansson.h>

#include "fl_check.h"
#include "fl_snapshot.h"

/* inspect on a directory whose _metadata is Flink's binary format: exit 0
 * when every file is there with its recorded size, 1 when one is missing
 * or has another size, or the _metadata is unreadable (one line). */
int flink_inspect(const char *path, int json);
/* The snapshot as one JSON object (the body of inspect --json). */
json_t *flink_snapshot_json(const fl_snapshot *s);
json_t *flink_check_json(const fl_snapshot *s, const fl_check *c);
/* The same members for a PATH whose _metadata cannot be read (rejected). */
json_t *flink_check_unread_json(const char *path, const char *target, const char *backend, const char *reason);

#endif
