/* mx_expect: expectation sources. Each published table is one data file in
 * matrix/expect/ and one source in the database; the code only knows the
 * vocabulary (yes|no|maybe|unknown), never a cell's value. */
#ifndef MX_EXPECT_H
#define MX_EXPECT_H

#include "mx.h"

typedef enum {
    MX_EXPECT_UNKNOWN = 0, /* the source does not say, or leaves it open */
    MX_EXPECT_YES,         /* ✓ supported and guaranteed */
    MX_EXPECT_NO,          /* ✗ not supported */
    MX_EXPECT_MAYBE        /* ! works today but not guaranteed */
} mx_expect;

/* The source whose expectation the table marks disagreements against. */
#define MX_SOURCE_DOCS "docs"

/* "yes" -> MX_EXPECT_YES ...; -1 for anything else. */
int mx_expect_parse(const char *s);
const char *mx_expect_name(mx_expect x);   /* "yes" */
const char *mx_expect_symbol(mx_expect x); /* "✓" */

/* The expectation of source for (row, kind); MX_EXPECT_UNKNOWN when the
 * source has no such cell (or no such source is loaded). */
rt_err mx_expect_lookup(mx_db *db, const char *source, const char *row, const char *kind,
                        mx_expect *out, rt_error *e);

/* Loads one expectation file (replacing that source's cells). */
rt_err mx_load_expectation_file(mx_db *db, const char *path, rt_error *e);

#endif
