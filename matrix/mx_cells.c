/* mx_cells: outcome counts -> observed symbol, per-backend split, and the
 * verdict of one expectation against what was observed. Pure functions. */
#include "mx_cells.h"

#include <assert.h>
#include <string.h>

#define SYM_WORKS "✓"
#define SYM_REJECTED "✗"
#define SYM_MIXED "◐"
#define SYM_CORRUPTED "CORRUPTED"
#define SYM_CRASHED "CRASHED"
#define SYM_NONE "—"

int64_t mx_counts_total(const mx_counts *c) {
    assert(c != NULL);
    return c->works + c->rejected + c->corrupted + c->crashed;
}

int mx_counts_add(mx_counts *c, const char *outcome) {
    assert(c != NULL);
    assert(outcome != NULL);
    if (strcmp(outcome, "works") == 0) c->works++;
    else if (strcmp(outcome, "rejected") == 0) c->rejected++;
    else if (strcmp(outcome, "corrupted") == 0) c->corrupted++;
    else if (strcmp(outcome, "crashed") == 0) c->crashed++;
    else return -1;
    return 0;
}

/* Bugs first: one crashed or corrupted result names the whole cell. */
const char *mx_symbol(const mx_counts *c) {
    assert(c != NULL);
    if (c->crashed > 0) return SYM_CRASHED;
    if (c->corrupted > 0) return SYM_CORRUPTED;
    if (c->works > 0 && c->rejected > 0) return SYM_MIXED;
    if (c->works > 0) return SYM_WORKS;
    if (c->rejected > 0) return SYM_REJECTED;
    assert(mx_counts_total(c) == 0);
    return SYM_NONE;
}

int mx_symbol_needs_split(const mx_counts *c) {
    return c->crashed > 0 || c->corrupted > 0 || (c->works > 0 && c->rejected > 0);
}

/* Appends "sep label sym" to buf; once full, ends it with "…" and stops. */
static void append_part(char *buf, size_t cap, const char *label, const char *sym) {
    size_t used = strlen(buf);
    size_t need = strlen(label) + strlen(sym) + 5;
    if (strstr(buf, "…") != NULL) return;
    if (used + need + sizeof "…" > cap) {
        if (used + sizeof " …" <= cap) strcat(buf, " …");
        return;
    }
    if (used > 0) strcat(buf, " / ");
    strcat(buf, label);
    strcat(buf, " ");
    strcat(buf, sym);
}

static size_t group_end(const mx_result *r, size_t n, size_t from, int by_versions) {
    size_t i = from + 1;
    while (i < n && strcmp(r[i].backend, r[from].backend) == 0 &&
           (!by_versions || strcmp(r[i].versions, r[from].versions) == 0))
        i++;
    return i;
}

static mx_counts count_range(const mx_result *r, size_t from, size_t to) {
    mx_counts c = {0, 0, 0, 0};
    for (size_t i = from; i < to; i++) {
        int bad = mx_counts_add(&c, r[i].outcome);
        assert(bad == 0); /* the schema's CHECK keeps outcomes valid */
        (void)bad;
    }
    return c;
}

/* A mixed backend is listed per version pair; a backend whose results all
 * share one version pair stays one entry. */
static void split_backend(const mx_result *r, size_t from, size_t to, char *buf, size_t cap) {
    mx_counts c = count_range(r, from, to);
    int one_version = group_end(r, to, from, 1) == to;
    if (!mx_symbol_needs_split(&c) || one_version) {
        append_part(buf, cap, r[from].backend, mx_symbol(&c));
        return;
    }
    for (size_t i = from; i < to;) {
        size_t end = group_end(r, to, i, 1);
        mx_counts v = count_range(r, i, end);
        char label[sizeof r->backend + sizeof r->versions + 2];
        strcpy(label, r[i].backend);
        strcat(label, " ");
        strcat(label, r[i].versions);
        append_part(buf, cap, label, mx_symbol(&v));
        i = end;
    }
}

void mx_split(const mx_result *r, size_t n, char *buf, size_t cap) {
    assert(buf != NULL);
    assert(cap > sizeof " …");
    buf[0] = '\0';
    for (size_t i = 0; i < n;) {
        size_t end = group_end(r, n, i, 0);
        assert(end > i);
        split_backend(r, i, end, buf, cap);
        i = end;
    }
}

mx_verdict mx_compare(mx_expect x, const mx_counts *c) {
    assert(c != NULL);
    if (mx_counts_total(c) == 0) return MX_VERDICT_NO_DATA;
    if (c->corrupted > 0 || c->crashed > 0) return MX_VERDICT_BUG;
    int all_work = c->rejected == 0;
    switch (x) {
    case MX_EXPECT_YES: return all_work ? MX_VERDICT_AGREES : MX_VERDICT_REGRESSION;
    /* Any combination that works where the source says "no" is news. */
    case MX_EXPECT_NO: return c->works > 0 ? MX_VERDICT_UNDOCUMENTED_PASS : MX_VERDICT_AGREES;
    case MX_EXPECT_MAYBE: return all_work ? MX_VERDICT_NOT_GUARANTEED : MX_VERDICT_AGREES;
    case MX_EXPECT_UNKNOWN: return MX_VERDICT_ANSWERED;
    }
    assert(0 && "unknown expectation");
    return MX_VERDICT_NO_DATA;
}

int mx_caveat_not_guaranteed(mx_expect x, const mx_counts *c) {
    assert(c != NULL);
    return x == MX_EXPECT_MAYBE && c->works > 0 && c->corrupted == 0 && c->crashed == 0;
}

const char *mx_verdict_name(mx_verdict v) {
    static const char *const names[] = {
        [MX_VERDICT_NO_DATA] = "no data",
        [MX_VERDICT_AGREES] = "agrees",
        [MX_VERDICT_NOT_GUARANTEED] = "works, not guaranteed",
        [MX_VERDICT_ANSWERED] = "not stated there, observed here",
        [MX_VERDICT_UNDOCUMENTED_PASS] = "undocumented pass",
        [MX_VERDICT_REGRESSION] = "regression",
        [MX_VERDICT_BUG] = "bug",
    };
    assert((unsigned)v < sizeof names / sizeof names[0]);
    return names[v];
}

int mx_verdict_disagrees(mx_verdict v) {
    return v == MX_VERDICT_UNDOCUMENTED_PASS || v == MX_VERDICT_REGRESSION || v == MX_VERDICT_BUG;
}
