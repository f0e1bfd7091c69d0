/* mx_cells: a cell is (row, kind); it aggregates every result of a run for
 * that row and kind. This file turns outcome counts into the observed
 * symbol, the per-backend split, and a verdict against one expectation. */
#ifndef MX_CELLS_H
#define MX_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include "mx.h"
#include "mx_expect.h"

typedef struct mx_counts {
    int64_t works;
    int64_t rejected;
    int64_t corrupted;
    int64_t crashed;
} mx_counts;

/* How one source's expectation compares with what was observed. */
typedef enum {
    MX_VERDICT_NO_DATA = 0,        /* no result for the cell */
    MX_VERDICT_AGREES,             /* observed what the source says */
    MX_VERDICT_NOT_GUARANTEED,     /* "!" and it works: ok, not guaranteed */
    MX_VERDICT_ANSWERED,           /* the source leaves it open: we report */
    MX_VERDICT_UNDOCUMENTED_PASS,  /* ✗ expected, but it works */
    MX_VERDICT_REGRESSION,         /* ✓ expected, but it is rejected */
    MX_VERDICT_BUG                 /* corrupted or crashed: always a bug */
} mx_verdict;

#define MX_SPLIT_MAX 512

int64_t mx_counts_total(const mx_counts *c);
/* Adds one outcome ("works"...); -1 for an unknown outcome. */
int mx_counts_add(mx_counts *c, const char *outcome);

/* ✓ all works, ✗ all rejected, ◐ a mix, CORRUPTED / CRASHED if any, — none. */
const char *mx_symbol(const mx_counts *c);
/* True for ◐, CORRUPTED and CRASHED: the cell lists where it differs. */
int mx_symbol_needs_split(const mx_counts *c);

/* The split of a cell's results r[0..n) sorted by backend then versions:
 * "heap ✓ / rocksdb ✗"; a backend that is itself mixed is listed per
 * version pair ("rocksdb 1.15.0->1.16.0 ✓ / rocksdb 1.17.0->1.18.0 ✗"). */
void mx_split(const mx_result *r, size_t n, char *buf, size_t cap);

mx_verdict mx_compare(mx_expect x, const mx_counts *c);
/* 1 when the source marks the cell "!" (works today, not guaranteed) and
 * something in it was observed to work (no bug): the caveat a rendered
 * cell carries beside its observed symbol, so a copied table keeps it. */
int mx_caveat_not_guaranteed(mx_expect x, const mx_counts *c);
const char *mx_verdict_name(mx_verdict v);
/* Regression, bug or undocumented pass: marked in the table. */
int mx_verdict_disagrees(mx_verdict v);

#endif
