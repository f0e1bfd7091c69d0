/* bench_report: summaries of interleaved measurements, bench.md and
 * bench.json. */
#include "bench_report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_storage.h"

static double clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bench_watch bench_watch_start(void) {
    bench_watch w = {clock_ms(CLOCK_MONOTONIC), clock_ms(CLOCK_PROCESS_CPUTIME_ID)};
    return w;
}

void bench_watch_stop(const bench_watch *w, bench_sample *out) {
    out->wall_ms = clock_ms(CLOCK_MONOTONIC) - w->wall;
    out->cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - w->cpu;
}

static double metric_of(const bench_sample *s, bench_metric m) {
    switch (m) {
    case BENCH_WALL: return s->wall_ms;
    case BENCH_CPU: return s->cpu_ms;
    case BENCH_BYTES: return (double)s->bytes;
    case BENCH_FILES: return (double)s->files;
    case BENCH_RECORDS: return (double)s->records;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The q-quantile of sorted v (linear between neighbours). */
static double quantile(const double *v, int n, double q) {
    double pos = q * (n - 1);
    int lo = (int)pos;
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

static bench_summary summarize(double *v, int n) {
    bench_summary s = {0, 0, 0, 0, 0};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = quantile(v, n, 0.5);
    s.p25 = quantile(v, n, 0.25);
    s.p75 = quantile(v, n, 0.75);
    return s;
}

bench_summary bench_side_summary(const bench_side *s, bench_metric m) {
    double v[BENCH_REPS_MAX];
    for (int i = 0; i < s->n; i++) v[i] = metric_of(&s->s[i], m);
    return summarize(v, s->n);
}

bench_summary bench_ratio_summary(const bench_cmp *c, bench_metric m) {
    double v[BENCH_REPS_MAX];
    int n = 0;
    for (int i = 0; i < c->a.n && i < c->b.n; i++) {
        double a = metric_of(&c->a.s[i], m);
        if (a > 0) v[n++] = metric_of(&c->b.s[i], m) / a;
    }
    return summarize(v, n);
}

double bench_ratio_of_medians(const bench_cmp *c, bench_metric m) {
    double a = bench_side_summary(&c->a, m).median;
    return a > 0 ? bench_side_summary(&c->b, m).median / a : 0;
}

int bench_ratio_noisy(const bench_cmp *c, bench_metric m) {
    bench_summary r = bench_ratio_summary(c, m);
    return r.median > 0 && (r.p75 - r.p25) / r.median > BENCH_NOISY_SPREAD;
}

/* ---- markdown ---- */

static void fmt_bytes(char *buf, size_t cap, double b) {
    if (b >= 1e6)
        snprintf(buf, cap, "%.2f MB", b / 1e6);
    else if (b >= 1e3)
        snprintf(buf, cap, "%.1f kB", b / 1e3);
    else
        snprintf(buf, cap, "%.0f B", b);
}

static void fmt_ms(char *buf, size_t cap, double ms) {
    if (ms >= 100)
        snprintf(buf, cap, "%.0f", ms);
    else if (ms >= 10)
        snprintf(buf, cap, "%.1f", ms);
    else
        snprintf(buf, cap, "%.2f", ms);
}

static void fmt_ratio(char *buf, size_t cap, double r) {
    if (r == 0)
        snprintf(buf, cap, "n/a");
    else if (r >= 10)
        snprintf(buf, cap, "%.1f", r);
    else if (r >= 0.1)
        snprintf(buf, cap, "%.2f", r);
    else
        snprintf(buf, cap, "%.3f", r);
}

static void md_side(FILE *f, const char *tag, const bench_side *s) {
    bench_summary w = bench_side_summary(s, BENCH_WALL), c = bench_side_summary(s, BENCH_CPU),
                  b = bench_side_summary(s, BENCH_BYTES), n = bench_side_summary(s, BENCH_FILES),
                  r = bench_side_summary(s, BENCH_RECORDS);
    char wm[32], wl[32], wh[32], cm[32], bm[32];
    fmt_ms(wm, sizeof wm, w.median);
    fmt_ms(wl, sizeof wl, w.min);
    fmt_ms(wh, sizeof wh, w.max);
    fmt_ms(cm, sizeof cm, c.median);
    fmt_bytes(bm, sizeof bm, b.median);
    fprintf(f, "| %s: %s | %s | %s – %s | %s | %s (%.0f) | %.0f | %.0f |\n", tag, s->label, wm, wl, wh, cm,
            bm, b.median, n.median, r.median);
}

/* One sentence that reads the ratio out loud, noise included. */
static void md_reading(FILE *f, const bench_cmp *c) {
    double t = bench_ratio_of_medians(c, BENCH_WALL), b = bench_ratio_of_medians(c, BENCH_BYTES);
    bench_summary tr = bench_ratio_summary(c, BENCH_WALL);
    char ts[32], bs[32], lo[32], hi[32], q1[32], q3[32];
    fmt_ratio(ts, sizeof ts, t);
    fmt_ratio(bs, sizeof bs, b);
    fmt_ratio(lo, sizeof lo, tr.min);
    fmt_ratio(hi, sizeof hi, tr.max);
    fmt_ratio(q1, sizeof q1, tr.p25);
    fmt_ratio(q3, sizeof q3, tr.p75);
    fprintf(f, "Reading: %s takes %s× the wall time of %s", c->b.label, ts, c->a.label);
    if (t > 0 && t < 1)
        fprintf(f, " (%.1f× faster)", 1 / t);
    else if (t > 1)
        fprintf(f, " (%.1f× slower)", t);
    if (b > 0) fprintf(f, " and moves %s× the bytes", bs);
    fprintf(f, ". Per-round time ratios over %d rounds: %s – %s, middle half %s – %s: %s.\n\n",
            c->a.n < c->b.n ? c->a.n : c->b.n, lo, hi, q1, q3,
            bench_ratio_noisy(c, BENCH_WALL)
                ? "**noisy** (the middle half spreads over more than 25% of the median): trust the direction "
                  "more than the digits"
                : "stable (the middle half is within 25% of the median)");
}

static void md_cmp(FILE *f, const bench_cmp *c) {
    fprintf(f, "### %s. %s\n\n%s\n\n", c->id, c->title, c->what);
    fprintf(f, "| side | wall ms (median) | wall ms (min – max) | CPU ms (median) | bytes (median) | files | "
               "records during op |\n");
    fprintf(f, "|---|--:|--:|--:|--:|--:|--:|\n");
    md_side(f, "A", &c->a);
    md_side(f, "B", &c->b);
    char t[32], tl[32], tm[32], th[32], q1[32], q3[32], cr[32], br[32], fr[32];
    bench_summary tr = bench_ratio_summary(c, BENCH_WALL);
    fmt_ratio(t, sizeof t, bench_ratio_of_medians(c, BENCH_WALL));
    fmt_ratio(tl, sizeof tl, tr.min);
    fmt_ratio(tm, sizeof tm, tr.median);
    fmt_ratio(th, sizeof th, tr.max);
    fmt_ratio(q1, sizeof q1, tr.p25);
    fmt_ratio(q3, sizeof q3, tr.p75);
    fmt_ratio(cr, sizeof cr, bench_ratio_of_medians(c, BENCH_CPU));
    fmt_ratio(br, sizeof br, bench_ratio_of_medians(c, BENCH_BYTES));
    fmt_ratio(fr, sizeof fr, bench_ratio_of_medians(c, BENCH_FILES));
    fprintf(f, "| **ratio %s** | **%s** | per round %s – %s (middle half %s – %s, median %s)%s | %s | %s | %s | |\n\n",
            c->ratio_name, t, tl, th, q1, q3, tm, bench_ratio_noisy(c, BENCH_WALL) ? ", noisy" : "", cr, br, fr);
    md_reading(f, c);
    if (c->flag[0]) fprintf(f, "**Check:** %s\n\n", c->flag);
}

static rt_err io_fail(rt_error *e, const char *path, const char *what) {
    return RT_FAIL(e, RT_EIO, "bench: cannot %s %s: %s", what, path, strerror(errno));
}

static void md_scale(FILE *f, const bench_scale *sc, const char *svg_name);

rt_err bench_write_md(const char *path, const bench_facts *fa, const bench_cmp *c, int n,
                      const bench_scale *sc, const char *svg_name, rt_error *e) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return io_fail(e, path, "write");
    char local[32];
    fmt_bytes(local, sizeof local, (double)fa->rocks_local_bytes);
    fprintf(f, "# snapsim benchmarks%s\n\n", fa->quick ? " (quick smoke run: numbers are not meaningful)" : "");
    fprintf(f,
            "Generated by `snapsim bench` (`make bench`) on %s; the whole run took %.1f s. Each comparison\n"
            "interleaves its two sides in one process (A B, then B A, and so on), after %" PRIu64 " warm-up\n"
            "round(s) that are not counted, so both sides see the same machine load; the ratio is B / A, given as the ratio of\n"
            "the medians and as the range of the per-round ratios B_i / A_i. A ratio is marked noisy when the\n"
            "middle half of the per-round ratios (p25 – p75) spreads over more than 25%% of their median. A max\n"
            "far above the median on rocksdb is usually the synchronous L0 compaction the backend runs in the\n"
            "flush of a snapshot once a state holds 8 L0 files (a real, periodic cost, not noise). Wall time is\n"
            "CLOCK_MONOTONIC around the one engine call; CPU time is the process's (RocksDB's threads included).\n"
            "Bytes and files are what the operation wrote to the snapshot storage (sim_run_stats deltas),\n"
            "for restores the size of the snapshot read. \"records during op\": a snapshot lets the sources\n"
            "keep emitting while it is in flight (as a running job does), so that work is part of its time.\n\n",
            fa->started_utc, fa->total_s, fa->warmup);
    fprintf(f, "## Machine and setup\n\n| fact | value |\n|---|---|\n");
    fprintf(f, "| nproc | %d |\n| RocksDB (header) | %s (%s) |\n| kernel | %s |\n| compiler | %s |\n", fa->nproc,
            fa->rocksdb_version, fa->rocksdb_header, fa->kernel, fa->compiler);
    fprintf(f, "| storage and RocksDB work dirs | %s (%s) |\n", fa->tmp_dir, fa->tmp_fs);
    fprintf(f,
            "| job | sim_job_default, %" PRIu64 " keys, %u splits, keyed parallelism %u, max parallelism %u |\n"
            "| records loaded per run | %" PRIu64 " |\n| small change before a checkpoint | %" PRIu64
            " records |\n| rounds per comparison | %" PRIu64 " (+%" PRIu64 " warm-up) |\n| seed | %" PRIu64 " |\n",
            fa->keys, fa->splits, fa->parallelism, fa->max_parallelism, fa->records, fa->small_change, fa->reps,
            fa->warmup, fa->seed);
    fprintf(f, "| local RocksDB size of one loaded run | %s |\n", local);
    fprintf(f, "| oracle check | %s (%d runs checked after measuring) |\n\n",
            fa->all_verified ? "every run and every restored run agreed with the oracle" : "**a run disagreed**",
            fa->n_verified);
    fprintf(f, "## Headline ratios\n\n| comparison | ratio | time (median) | time per round: min – max "
               "(middle half) | bytes |\n|---|---|--:|--:|--:|\n");
    for (int i = 0; i < n; i++) {
        char t[32], lo[32], hi[32], q1[32], q3[32], b[32];
        bench_summary tr = bench_ratio_summary(&c[i], BENCH_WALL);
        fmt_ratio(t, sizeof t, bench_ratio_of_medians(&c[i], BENCH_WALL));
        fmt_ratio(lo, sizeof lo, tr.min);
        fmt_ratio(hi, sizeof hi, tr.max);
        fmt_ratio(q1, sizeof q1, tr.p25);
        fmt_ratio(q3, sizeof q3, tr.p75);
        fmt_ratio(b, sizeof b, bench_ratio_of_medians(&c[i], BENCH_BYTES));
        fprintf(f, "| %s. %s | %s | %s | %s – %s (%s – %s)%s | %s%s |\n", c[i].id, c[i].title, c[i].ratio_name, t,
                lo, hi, q1, q3, bench_ratio_noisy(&c[i], BENCH_WALL) ? " noisy" : "", b,
                c[i].flag[0] ? " (see check)" : "");
    }
    fprintf(f, "\n## Comparisons\n\n");
    for (int i = 0; i < n; i++) md_cmp(f, &c[i]);
    if (sc != NULL && sc->n > 0) md_scale(f, sc, svg_name);
    if (ferror(f)) {
        fclose(f);
        return io_fail(e, path, "write");
    }
    if (fclose(f) != 0) return io_fail(e, path, "close");
    return RT_OK;
}

/* ---- JSON ---- */

static json_t *num(double v) { return json_real(isfinite(v) ? v : 0); }

static json_t *summary_json(const bench_side *s, bench_metric m) {
    bench_summary x = bench_side_summary(s, m);
    json_t *samples = json_array();
    for (int i = 0; i < s->n; i++) {
        double v = metric_of(&s->s[i], m);
        json_array_append_new(samples, m == BENCH_WALL || m == BENCH_CPU ? num(v) : json_integer((json_int_t)v));
    }
    if (m == BENCH_WALL || m == BENCH_CPU)
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "min", num(x.min), "p25", num(x.p25), "median",
                         num(x.median), "p75", num(x.p75), "max", num(x.max), "samples", samples);
    return json_pack("{s:I, s:o, s:I, s:o}", "min", (json_int_t)x.min, "median", num(x.median), "max",
                     (json_int_t)x.max, "samples", samples);
}

static json_t *side_json(const bench_side *s) {
    return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "label", s->label, "rounds", s->n, "wall_ms",
                     summary_json(s, BENCH_WALL), "cpu_ms", summary_json(s, BENCH_CPU), "bytes",
                     summary_json(s, BENCH_BYTES), "files", summary_json(s, BENCH_FILES), "records_during_op",
                     summary_json(s, BENCH_RECORDS));
}

static json_t *ratio_json(const bench_cmp *c, bench_metric m) {
    bench_summary r = bench_ratio_summary(c, m);
    return json_pack("{s:o, s:{s:o, s:o, s:o, s:o, s:o}, s:b}", "of_medians", num(bench_ratio_of_medians(c, m)),
                     "per_round", "min", num(r.min), "p25", num(r.p25), "median", num(r.median), "p75", num(r.p75),
                     "max", num(r.max), "noisy", bench_ratio_noisy(c, m));
}

static json_t *cmp_json(const bench_cmp *c) {
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:s?}", "id", c->id, "title",
                     c->title, "what", c->what, "ratio", c->ratio_name, "a", side_json(&c->a), "b",
                     side_json(&c->b), "ratios", "wall", ratio_json(c, BENCH_WALL), "cpu", ratio_json(c, BENCH_CPU),
                     "bytes", ratio_json(c, BENCH_BYTES), "files", ratio_json(c, BENCH_FILES), "check",
                     c->flag[0] ? c->flag : NULL);
}

static json_t *scale_json(const bench_scale *sc) {
    json_t *pts = json_array();
    for (int i = 0; sc != NULL && i < sc->n; i++) {
        const bench_scale_point *p = &sc->p[i];
        json_array_append_new(
            pts, json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)p->records,
                           "checkpoints", (json_int_t)p->checkpoints, "wall_ms", num(p->wall_ms), "cpu_ms",
                           num(p->cpu_ms), "bytes_written", (json_int_t)p->bytes_written, "files_written",
                           (json_int_t)p->files_written, "bytes_kept", (json_int_t)p->bytes_kept, "files_kept",
                           (json_int_t)p->files_kept, "sst_bytes_uploaded", (json_int_t)p->sst_bytes_uploaded,
                           "sst_bytes_new", (json_int_t)p->sst_bytes_new));
    }
    if (sc == NULL) return pts;
    return json_pack("{s:I, s:I, s:s, s:s, s:o}", "interval_ms", (json_int_t)sc->interval_ms, "keys",
                     (json_int_t)sc->keys, "backend", sc->backend, "kind", sc->kind, "points", pts);
}

rt_err bench_write_json(const char *path, const bench_facts *fa, const bench_cmp *c, int n,
                        const bench_scale *sc, rt_error *e) {
    json_t *cmps = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(cmps, cmp_json(&c[i]));
    json_t *root = json_pack(
        "{s:s, s:o, s:b, s:{s:i, s:s, s:s, s:s, s:s, s:s, s:s}, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i}, s:I, s:{s:b, s:i}, s:f, s:o}",
        "started_utc", fa->started_utc, "total_s", num(fa->total_s), "quick", fa->quick, "machine", "nproc",
        fa->nproc, "rocksdb_version", fa->rocksdb_version, "rocksdb_header", fa->rocksdb_header, "kernel",
        fa->kernel, "compiler", fa->compiler, "tmp_dir", fa->tmp_dir, "tmp_fs", fa->tmp_fs, "config", "seed",
        (json_int_t)fa->seed, "keys", (json_int_t)fa->keys, "records", (json_int_t)fa->records, "small_change",
        (json_int_t)fa->small_change, "rounds", (json_int_t)fa->reps, "warmup_rounds", (json_int_t)fa->warmup,
        "splits", (int)fa->splits, "parallelism", (int)fa->parallelism, "max_parallelism",
        (int)fa->max_parallelism, "rocks_local_bytes", (json_int_t)fa->rocks_local_bytes, "oracle", "all_agree",
        fa->all_verified, "runs_checked", fa->n_verified, "noisy_spread", BENCH_NOISY_SPREAD, "comparisons", cmps);
    if (root != NULL) json_object_set_new(root, "scale", scale_json(sc));
    if (root == NULL) return RT_FAIL(e, RT_EINTERNAL, "bench: cannot build the JSON report");
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    if (rc != 0) return io_fail(e, path, "write");
    return RT_OK;
}

/* ---- the scale sweep ---- */

static double per_record(double v, uint64_t records) { return records ? v / (double)records : 0; }

/* How far the last point's cost per record is from the first one's. */
static double growth(const bench_scale *sc, double (*get)(const bench_scale_point *)) {
    const bench_scale_point *a = &sc->p[0], *z = &sc->p[sc->n - 1];
    double pa = per_record(get(a), a->records), pz = per_record(get(z), z->records);
    return pa > 0 ? pz / pa : 0;
}

static double get_cpu(const bench_scale_point *p) { return p->cpu_ms; }
static double get_written(const bench_scale_point *p) { return (double)p->bytes_written; }

static void md_scale(FILE *f, const bench_scale *sc, const char *svg_name) {
    fprintf(f, "## Scale: cost against records at a fixed interval\n\n"
               "One run per row, as `snapsim take --kind %s --backend %s --incremental --records N --interval %" PRIu64
               "` does it (the built-in job, %" PRIu64 " keys): the records, the periodic checkpoints, the final "
               "snapshot. Time is the whole run (wall and CPU, one process); bytes written are everything the run "
               "wrote to the snapshot storage; bytes kept is what the storage holds at the end (retained "
               "checkpoints and the snapshot). SST uploaded / new: the SST bytes the completed checkpoints "
               "uploaded, against the bytes of the SSTs RocksDB's live-file metadata showed as created since each "
               "subtask's previous checkpoint (an incremental checkpoint uploads a file once: 1.00).\n\n",
            sc->kind, sc->backend, sc->interval_ms, sc->keys);
    if (svg_name != NULL) fprintf(f, "![records against time, bytes written and bytes kept](%s)\n\n", svg_name);
    fprintf(f, "| records | checkpoints | wall | CPU | CPU per record | bytes written | written per record | "
               "bytes kept | SST uploaded / new |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < sc->n; i++) {
        const bench_scale_point *p = &sc->p[i];
        char bw[32], bk[32], bpr[32];
        fmt_bytes(bw, sizeof bw, (double)p->bytes_written);
        fmt_bytes(bk, sizeof bk, (double)p->bytes_kept);
        fmt_bytes(bpr, sizeof bpr, per_record((double)p->bytes_written, p->records));
        fprintf(f, "| %" PRIu64 " | %" PRIu64 " | %.2f s | %.2f s | %.1f µs | %s | %s | %s | %.2f |\n", p->records,
                p->checkpoints, p->wall_ms / 1e3, p->cpu_ms / 1e3, 1e3 * per_record(p->cpu_ms, p->records), bw, bpr, bk,
                p->sst_bytes_new ? (double)p->sst_bytes_uploaded / (double)p->sst_bytes_new : 0.0);
    }
    for (int i = 0; i < sc->n; i++)
        if (sc->p[i].sst_bytes_uploaded > sc->p[i].sst_bytes_new)
            fprintf(f, "\n**Check:** the run of %" PRIu64 " records uploaded %" PRIu64 " SST bytes where RocksDB "
                       "created %" PRIu64 ": some checkpoint uploaded an SST it had uploaded before (a defect in the "
                       "incremental path, not noise).\n",
                    sc->p[i].records, sc->p[i].sst_bytes_uploaded, sc->p[i].sst_bytes_new);
    if (sc->n >= 2)
        fprintf(f, "\nFrom %" PRIu64 " to %" PRIu64 " records (x%.0f): CPU per record x%.2f, bytes written per record "
                   "x%.2f (1.00 is linear).\n\n",
                sc->p[0].records, sc->p[sc->n - 1].records,
                (double)sc->p[sc->n - 1].records / (double)sc->p[0].records, growth(sc, get_cpu),
                growth(sc, get_written));
}

/* ---- SVG ---- */

#define SVG_W 300 /* one panel */
#define SVG_H 240
#define SVG_PAD 48

typedef struct svg_axis {
    double lo, hi; /* log10 range */
} svg_axis;

static svg_axis log_axis(double lo, double hi) {
    svg_axis a = {floor(log10(lo > 0 ? lo : 1)), ceil(log10(hi > 0 ? hi : 1))};
    if (a.hi <= a.lo) a.hi = a.lo + 1;
    return a;
}

static double svg_x(const svg_axis *a, int panel, double v) {
    double t = (log10(v) - a->lo) / (a->hi - a->lo);
    return panel * SVG_W + SVG_PAD + t * (SVG_W - SVG_PAD - 12);
}

static double svg_y(const svg_axis *a, double v) {
    double t = (log10(v > 0 ? v : 1) - a->lo) / (a->hi - a->lo);
    return SVG_H - SVG_PAD + 8 - t * (SVG_H - SVG_PAD - 20);
}

static void svg_panel(FILE *f, int panel, const char *title, const char *unit, const bench_scale *sc,
                      const double *vals, const svg_axis *xa) {
    double lo = vals[0], hi = vals[0];
    for (int i = 0; i < sc->n; i++) {
        if (vals[i] < lo) lo = vals[i];
        if (vals[i] > hi) hi = vals[i];
    }
    /* the linear reference from the first point spans the whole x range */
    double lin_hi = vals[0] * (double)sc->p[sc->n - 1].records / (double)sc->p[0].records;
    svg_axis ya = log_axis(lo, lin_hi > hi ? lin_hi : hi);
    int x0 = panel * SVG_W;
    fprintf(f, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s (%s, log)</text>\n", x0 + SVG_PAD, title, unit);
    for (double d = xa->lo; d <= xa->hi + 1e-9; d += 1) {
        double x = svg_x(xa, panel, pow(10, d));
        fprintf(f, "<line x1=\"%.1f\" y1=\"28\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">1e%.0f</text>\n",
                x, x, SVG_H - SVG_PAD + 8, x, SVG_H - SVG_PAD + 22, d);
    }
    for (double d = ya.lo; d <= ya.hi + 1e-9; d += 1) {
        double y = svg_y(&ya, pow(10, d));
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">1e%.0f</text>\n",
                x0 + SVG_PAD, y, x0 + SVG_W - 12, y, x0 + SVG_PAD - 4, y + 3, d);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n",
            svg_x(xa, panel, (double)sc->p[0].records), svg_y(&ya, vals[0]),
            svg_x(xa, panel, (double)sc->p[sc->n - 1].records), svg_y(&ya, lin_hi));
    fprintf(f, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"");
    for (int i = 0; i < sc->n; i++)
        fprintf(f, "%.1f,%.1f ", svg_x(xa, panel, (double)sc->p[i].records), svg_y(&ya, vals[i]));
    fprintf(f, "\"/>\n");
    for (int i = 0; i < sc->n; i++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\"/>\n",
                svg_x(xa, panel, (double)sc->p[i].records), svg_y(&ya, vals[i]));
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">records</text>\n",
            x0 + SVG_W / 2 + SVG_PAD / 2, SVG_H - 6);
}

rt_err bench_write_scale_svg(const char *path, const bench_scale *sc, rt_error *e) {
    if (sc == NULL || sc->n < 2) return RT_FAIL(e, RT_EINTERNAL, "bench: the scale sweep needs 2 points to plot");
    FILE *f = fopen(path, "w");
    if (f == NULL) return io_fail(e, path, "open");
    double t[BENCH_SCALE_POINTS_MAX], w[BENCH_SCALE_POINTS_MAX], k[BENCH_SCALE_POINTS_MAX];
    for (int i = 0; i < sc->n; i++) {
        t[i] = sc->p[i].wall_ms / 1e3;
        w[i] = (double)sc->p[i].bytes_written / 1e6;
        k[i] = (double)sc->p[i].bytes_kept / 1e6;
    }
    svg_axis xa = log_axis((double)sc->p[0].records, (double)sc->p[sc->n - 1].records);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            3 * SVG_W, SVG_H + 14);
    svg_panel(f, 0, "wall time", "s", sc, t, &xa);
    svg_panel(f, 1, "bytes written", "MB", sc, w, &xa);
    svg_panel(f, 2, "bytes kept", "MB", sc, k, &xa);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">dashed: linear in records from the smallest "
               "run; interval %" PRIu64 " ms</text>\n</svg>\n",
            SVG_PAD, SVG_H + 10, sc->interval_ms);
    if (ferror(f)) {
        fclose(f);
        return io_fail(e, path, "write");
    }
    if (fclose(f) != 0) return io_fail(e, path, "close");
    return RT_OK;
}

void bench_remove_tree(const char *dir) {
    rt_store *s = NULL;
    rt_error e;
    if (rt_store_open_dir(&s, dir, 0, &e) == RT_OK) {
        rt_store_delete_tree(s, "", &e);
        rt_store_close(s);
    }
    rmdir(dir);
}
