/* mx_ownership: the restores and deletions tables of a matrix (FLIP-193
 * ownership as it happened) and their section of the reports. */
#ifndef MX_OWNERSHIP_H
#define MX_OWNERSHIP_H

#include <stdio.h>

#include "mx.h"
#include "mx_internal.h"
#include "mx_report.h"

/* The result's restores and deletions are well formed (bounds, names). */
rt_err mx_ownership_check(const mx_db *db, const mx_result *r, rt_error *e);
/* Records them for the result just inserted as result_id. */
rt_err mx_ownership_record(mx_db *db, int64_t result_id, const mx_result *r, rt_error *e);
/* Copies result `from` of src's rows to result `to` of dst (a merge). */
rt_err mx_ownership_copy(mx_db *src, int64_t from, mx_db *dst, int64_t to, rt_error *e);
/* The ownership timeline of the latest run, per restore mode. */
rt_err mx_ownership_md(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);
rt_err mx_ownership_html(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);

#endif
