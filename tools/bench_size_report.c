/* bench_size_report: how the payload-state sizes are written down: a
 * section of bench.md with the targets checked, a "sizes" member of
 * bench.json, and two hand-written SVG plots. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench_size.h"

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }
static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }
static double restore_floor(const bench_size_point *p) { return p->floor_copy.wall_ms + p->floor_open.wall_ms; }

static rt_err io_fail(rt_error *e, const char *path, const char *what) {
    return RT_FAIL(e, RT_EIO, "bench: cannot %s %s", what, path);
}

/* ---- markdown ---- */

static void md_snapshots(FILE *f, const bench_sizes *s) {
    fprintf(f, "| target | records | SST (live) | plain copy | native savepoint | ×copy | canonical savepoint | ×copy | "
               "full checkpoint | ×copy | incremental checkpoint (1%% more) | uploaded / new SST bytes |\n"
               "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < s->n; i++) {
        const bench_size_point *p = &s->p[i];
        double c = p->floor_copy.wall_ms;
        fprintf(f, "| %" PRIu64 " MiB | %" PRIu64 " | %.1f MiB (%" PRIu64 " files) | %.0f ms | %.0f ms | %.2f | %.0f ms | "
                   "%.2f | %.0f ms | %.2f | %.0f ms (%.2f MiB) | %.2f |\n",
                p->mib, p->records, mib(p->sst_bytes), p->sst_files, c, p->sp_native.wall_ms,
                ratio(p->sp_native.wall_ms, c), p->sp_canonical.wall_ms, ratio(p->sp_canonical.wall_ms, c),
                p->cp_full.wall_ms, ratio(p->cp_full.wall_ms, c), p->cp_incr.wall_ms, mib(p->cp_incr.bytes),
                ratio((double)p->incr_sst_uploaded, (double)p->incr_sst_new));
    }
}

static void md_restores(FILE *f, const bench_sizes *s) {
    fprintf(f, "\n| target | copy + open (floor) | restore native | ×floor | restore canonical | ×floor | "
               "canonical / native | restore full cp | restore incremental cp | load | peak RSS |\n"
               "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < s->n; i++) {
        const bench_size_point *p = &s->p[i];
        double fl = restore_floor(p);
        fprintf(f, "| %" PRIu64 " MiB | %.0f ms (open %.0f ms) | %.0f ms | %.2f | %.0f ms | %.2f | %.2f | %.0f ms | "
                   "%.0f ms | %.1f s (CPU %.1f s) | %.0f MiB |\n",
                p->mib, fl, p->floor_open.wall_ms, p->rs_native.wall_ms, ratio(p->rs_native.wall_ms, fl),
                p->rs_canonical.wall_ms, ratio(p->rs_canonical.wall_ms, fl),
                ratio(p->rs_canonical.wall_ms, p->rs_native.wall_ms), p->rs_full.wall_ms, p->rs_incr.wall_ms,
                p->load_wall_ms / 1e3, p->load_cpu_ms / 1e3, (double)p->peak_rss_kb / 1024.0);
    }
}

static void md_targets(FILE *f, const bench_sizes *s) {
    fprintf(f, "\nTargets (issue #18), as measured in this run:\n\n");
    for (int i = 0; i < s->n; i++) {
        const bench_size_point *p = &s->p[i];
        double sp = ratio(p->sp_native.wall_ms, p->floor_copy.wall_ms);
        double up = ratio((double)p->incr_sst_uploaded, (double)p->incr_sst_new);
        fprintf(f, "- %" PRIu64 " MiB: native savepoint %.2f× the plain copy (target ≤ 1.5: %s); incremental "
                   "checkpoint uploaded %.2f× the new SST bytes (target ≤ 1.5: %s)\n",
                p->mib, sp, sp <= 1.5 ? "met" : "missed", up, up <= 1.5 && p->incr_sst_new ? "met" : "missed");
    }
    if (s->n > 0) {
        const bench_size_point *p = &s->p[s->n - 1];
        double r = ratio(p->rs_canonical.wall_ms, p->rs_native.wall_ms);
        fprintf(f, "- %" PRIu64 " MiB (the largest): native restore %.1f× faster than canonical (target ≥ 5: %s)\n",
                p->mib, r, r >= 5 ? "met" : "missed");
    }
}

static void md_memory(FILE *f, const bench_sizes *s, const char *mem_svg) {
    fprintf(f, "\n#### Memory (peak RSS of a child process per configuration)\n\n");
    if (mem_svg) fprintf(f, "![peak RSS against state size, parallelism and retained checkpoints](%s)\n\n", mem_svg);
    fprintf(f, "| axis | state | parallelism | retained | records | wall | peak RSS |\n|---|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < s->n; i++)
        fprintf(f, "| state size | %" PRIu64 " MiB | 2 | 2 | %" PRIu64 " | (the size run above) | %.0f MiB |\n",
                s->p[i].mib, s->p[i].records, (double)s->p[i].peak_rss_kb / 1024.0);
    for (int i = 0; i < s->n_mem; i++) {
        const bench_mem_point *m = &s->mem[i];
        fprintf(f, "| %s | %" PRIu64 " MiB | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %.1f s | %.0f MiB |\n", m->axis,
                m->mib, m->parallelism, m->retained, m->records, m->wall_ms / 1e3, (double)m->peak_rss_kb / 1024.0);
    }
}

static int verified_count(const bench_sizes *s) {
    int n = 0;
    for (int i = 0; i < s->n; i++) n += s->p[i].verified;
    return n;
}

rt_err bench_sizes_append_md(const char *path, const bench_sizes *s, const char *time_svg, const char *mem_svg,
                             rt_error *e) {
    FILE *f = fopen(path, "a");
    if (f == NULL) return io_fail(e, path, "append to");
    fprintf(f, "\n## Large state: the payload job on RocksDB, against the physical floor\n\n"
               "`snapsim take --job payload` state (100 random bytes from the seeded PRNG a record, a key each; "
               "incremental RocksDB, 2 keyed subtasks, seed %" PRIu64 "), loaded to each target, then in one child "
               "process per size: the first (full) checkpoint and its restore, the floor, a native and a canonical "
               "savepoint each with its restore, 1%% more records and an incremental checkpoint with its restore. "
               "One measurement each (wall time), no rounds: at these sizes one operation is seconds. The floor is "
               "measured in the same child on the same bytes: *plain copy* copies the live RocksDB directories "
               "(SSTs, MANIFEST, OPTIONS) with read/write into the same file system; *open* opens each copy with "
               "its column families. Every restore was checked against the oracle (digest of the payload state, "
               "not timed): %d of %d.\n\n",
            s->seed, verified_count(s), 4 * s->n);
    if (time_svg) fprintf(f, "![time against state size per kind, with the floor](%s)\n\n", time_svg);
    md_snapshots(f, s);
    md_restores(f, s);
    md_targets(f, s);
    md_memory(f, s, mem_svg);
    if (ferror(f)) {
        fclose(f);
        return io_fail(e, path, "write");
    }
    return fclose(f) == 0 ? RT_OK : io_fail(e, path, "close");
}

/* ---- json ---- */

static json_t *sample_json(const bench_sample *x) {
    return json_pack("{s:f, s:f, s:I, s:I}", "wall_ms", x->wall_ms, "cpu_ms", x->cpu_ms, "bytes", (json_int_t)x->bytes,
                     "files", (json_int_t)x->files);
}

static json_t *point_json(const bench_size_point *p) {
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:i}", "target_mib", (json_int_t)p->mib,
                          "records", (json_int_t)p->records, "sst_bytes", (json_int_t)p->sst_bytes, "sst_files",
                          (json_int_t)p->sst_files, "load_wall_ms", p->load_wall_ms, "load_cpu_ms", p->load_cpu_ms,
                          "change_records", (json_int_t)p->change_records, "incr_sst_new", (json_int_t)p->incr_sst_new,
                          "incr_sst_uploaded", (json_int_t)p->incr_sst_uploaded, "peak_rss_kb",
                          (json_int_t)p->peak_rss_kb, "verified", p->verified);
    const struct {
        const char *name;
        const bench_sample *x;
    } parts[] = {{"savepoint_canonical", &p->sp_canonical}, {"savepoint_native", &p->sp_native},
                 {"checkpoint_full", &p->cp_full},         {"checkpoint_incremental", &p->cp_incr},
                 {"restore_canonical", &p->rs_canonical},  {"restore_native", &p->rs_native},
                 {"restore_full", &p->rs_full},            {"restore_incremental", &p->rs_incr},
                 {"floor_copy", &p->floor_copy},           {"floor_open", &p->floor_open}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) json_object_set_new(o, parts[i].name, sample_json(parts[i].x));
    return o;
}

rt_err bench_sizes_add_json(const char *path, const bench_sizes *s, rt_error *e) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL) return RT_FAIL(e, RT_EIO, "bench: cannot read back %s: %s", path, je.text);
    json_t *pts = json_array(), *mem = json_array();
    for (int i = 0; i < s->n; i++) json_array_append_new(pts, point_json(&s->p[i]));
    for (int i = 0; i < s->n_mem; i++) {
        const bench_mem_point *m = &s->mem[i];
        json_array_append_new(mem, json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:I}", "axis", m->axis, "mib",
                                             (json_int_t)m->mib, "parallelism", (json_int_t)m->parallelism, "retained",
                                             (json_int_t)m->retained, "records", (json_int_t)m->records, "wall_ms",
                                             m->wall_ms, "peak_rss_kb", (json_int_t)m->peak_rss_kb));
    }
    json_object_set_new(root, "sizes", json_pack("{s:s, s:I, s:o, s:o}", "job", "payload", "seed", (json_int_t)s->seed,
                                                 "points", pts, "memory", mem));
    int rc = json_dump_file(root, path, JSON_INDENT(2));
    json_decref(root);
    return rc == 0 ? RT_OK : io_fail(e, path, "write");
}

/* ---- svg ---- */

#define PW 360 /* one panel */
#define PH 260
#define PAD 52

typedef struct series {
    const char *name, *color;
    int dashed;
    int n;
    double x[BENCH_SIZES_MAX + BENCH_MEM_POINTS_MAX], y[BENCH_SIZES_MAX + BENCH_MEM_POINTS_MAX];
} series;

typedef struct panel {
    int x0;
    double xlo, xhi, ylo, yhi; /* log10 ranges when logs */
    int log_y;
} panel;

static double px(const panel *p, double v) {
    double t = (log10(v > 0 ? v : 1) - p->xlo) / (p->xhi - p->xlo);
    return p->x0 + PAD + t * (PW - PAD - 16);
}

static double py(const panel *p, double v) {
    double t = p->log_y ? (log10(v > 0 ? v : 1e-9) - p->ylo) / (p->yhi - p->ylo) : (v - p->ylo) / (p->yhi - p->ylo);
    return PH - PAD + 8 - t * (PH - PAD - 24);
}

static void range_of(const series *s, int n, double *xlo, double *xhi, double *ylo, double *yhi) {
    *xlo = *ylo = INFINITY;
    *xhi = *yhi = -INFINITY;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s[i].n; j++) {
            *xlo = fmin(*xlo, s[i].x[j]);
            *xhi = fmax(*xhi, s[i].x[j]);
            *ylo = fmin(*ylo, s[i].y[j]);
            *yhi = fmax(*yhi, s[i].y[j]);
        }
}

/* One panel of series, x logarithmic, y logarithmic or linear from 0. */
static void draw_panel(FILE *f, int x0, const char *title, const char *xlabel, const series *s, int n, int log_y) {
    panel p = {.x0 = x0, .log_y = log_y};
    double xlo, xhi, ylo, yhi;
    range_of(s, n, &xlo, &xhi, &ylo, &yhi);
    p.xlo = floor(log10(xlo > 0 ? xlo : 1));
    p.xhi = ceil(log10(xhi > 0 ? xhi : 1) + 1e-9);
    if (p.xhi <= p.xlo) p.xhi = p.xlo + 1;
    p.ylo = log_y ? floor(log10(ylo > 0 ? ylo : 1)) : 0;
    p.yhi = log_y ? ceil(log10(yhi > 0 ? yhi : 1) + 1e-9) : (yhi > 0 ? yhi * 1.1 : 1);
    if (p.yhi <= p.ylo) p.yhi = p.ylo + 1;
    fprintf(f, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s</text>\n", x0 + PAD, title);
    for (double d = p.xlo; d <= p.xhi + 1e-9; d += 0.5) {
        double x = px(&p, pow(10, d));
        fprintf(f, "<line x1=\"%.1f\" y1=\"28\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"%d\" "
                   "font-size=\"10\" text-anchor=\"middle\">%.3g</text>\n",
                x, x, PH - PAD + 8, x, PH - PAD + 22, pow(10, d));
    }
    for (int k = 0; k <= 4; k++) {
        double v = log_y ? pow(10, p.ylo + (p.yhi - p.ylo) * k / 4) : p.ylo + (p.yhi - p.ylo) * k / 4;
        double y = py(&p, v);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" "
                   "font-size=\"10\" text-anchor=\"end\">%.3g</text>\n",
                x0 + PAD, y, x0 + PW - 16, y, x0 + PAD - 4, y + 3, v);
    }
    for (int i = 0; i < n; i++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", s[i].color,
                s[i].dashed ? " stroke-dasharray=\"5 3\"" : "");
        for (int j = 0; j < s[i].n; j++) fprintf(f, "%.1f,%.1f ", px(&p, s[i].x[j]), py(&p, s[i].y[j]));
        fprintf(f, "\"/>\n");
        for (int j = 0; j < s[i].n; j++)
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(&p, s[i].x[j]), py(&p, s[i].y[j]),
                    s[i].color);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x0 + PW / 2 + PAD / 2,
            PH - 8, xlabel);
}

static void legend(FILE *f, int x, int y, const series *s, int n) {
    for (int i = 0; i < n; i++)
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" "
                   "y=\"%d\" font-size=\"11\">%s</text>\n",
                x, y + 16 * i, x + 22, y + 16 * i, s[i].color, s[i].dashed ? " stroke-dasharray=\"5 3\"" : "", x + 28,
                y + 16 * i + 4, s[i].name);
}

static rt_err svg_close(FILE *f, const char *path, rt_error *e) {
    fprintf(f, "</svg>\n");
    if (ferror(f)) {
        fclose(f);
        return io_fail(e, path, "write");
    }
    return fclose(f) == 0 ? RT_OK : io_fail(e, path, "close");
}

static FILE *svg_open(const char *path, int w, int h) {
    FILE *f = fopen(path, "w");
    if (f)
        fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n"
                   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                w, h);
    return f;
}

static void add(series *s, double x, double y) {
    if (s->n < BENCH_SIZES_MAX + BENCH_MEM_POINTS_MAX) {
        s->x[s->n] = x;
        s->y[s->n++] = y;
    }
}

rt_err bench_write_sizes_svg(const char *path, const bench_sizes *s, rt_error *e) {
    if (s->n < 1) return RT_FAIL(e, RT_EINTERNAL, "bench: no size to plot");
    series snap[] = {{.name = "canonical savepoint", .color = "#d62728"}, {.name = "native savepoint", .color = "#1f77b4"},
                     {.name = "full checkpoint", .color = "#2ca02c"},     {.name = "incremental checkpoint", .color = "#9467bd"},
                     {.name = "floor: plain copy", .color = "#555", .dashed = 1}};
    series rest[] = {{.name = "restore canonical", .color = "#d62728"}, {.name = "restore native", .color = "#1f77b4"},
                     {.name = "restore full cp", .color = "#2ca02c"},   {.name = "restore incremental cp", .color = "#9467bd"},
                     {.name = "floor: copy + open", .color = "#555", .dashed = 1}};
    for (int i = 0; i < s->n; i++) {
        const bench_size_point *p = &s->p[i];
        double x = mib(p->sst_bytes) > 0 ? mib(p->sst_bytes) : (double)p->mib;
        add(&snap[0], x, p->sp_canonical.wall_ms / 1e3);
        add(&snap[1], x, p->sp_native.wall_ms / 1e3);
        add(&snap[2], x, p->cp_full.wall_ms / 1e3);
        add(&snap[3], x, p->cp_incr.wall_ms / 1e3);
        add(&snap[4], x, p->floor_copy.wall_ms / 1e3);
        add(&rest[0], x, p->rs_canonical.wall_ms / 1e3);
        add(&rest[1], x, p->rs_native.wall_ms / 1e3);
        add(&rest[2], x, p->rs_full.wall_ms / 1e3);
        add(&rest[3], x, p->rs_incr.wall_ms / 1e3);
        add(&rest[4], x, restore_floor(p) / 1e3);
    }
    FILE *f = svg_open(path, 2 * PW + 190, PH + 16);
    if (f == NULL) return io_fail(e, path, "open");
    draw_panel(f, 0, "taking (wall s, log)", "state: live SST MiB (log)", snap, 5, 1);
    draw_panel(f, PW, "restoring (wall s, log)", "state: live SST MiB (log)", rest, 5, 1);
    legend(f, 2 * PW + 4, 40, snap, 5);
    legend(f, 2 * PW + 4, 140, rest + 0, 5);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">payload job, RocksDB incremental; "
               "one measurement per point</text>\n", PAD, PH + 12);
    return svg_close(f, path, e);
}

rt_err bench_write_memory_svg(const char *path, const bench_sizes *s, rt_error *e) {
    series size = {.name = "state size (MiB)", .color = "#1f77b4"};
    series par = {.name = "parallelism", .color = "#2ca02c"};
    series ret = {.name = "retained checkpoints", .color = "#9467bd"};
    for (int i = 0; i < s->n; i++)
        add(&size, mib(s->p[i].sst_bytes) > 0 ? mib(s->p[i].sst_bytes) : (double)s->p[i].mib,
            (double)s->p[i].peak_rss_kb / 1024.0);
    for (int i = 0; i < s->n_mem; i++) {
        const bench_mem_point *m = &s->mem[i];
        if (strcmp(m->axis, "parallelism") == 0) add(&par, (double)m->parallelism, (double)m->peak_rss_kb / 1024.0);
        else add(&ret, (double)m->retained, (double)m->peak_rss_kb / 1024.0);
    }
    if (size.n < 1) return RT_FAIL(e, RT_EINTERNAL, "bench: no memory point to plot");
    FILE *f = svg_open(path, 3 * PW, PH + 16);
    if (f == NULL) return io_fail(e, path, "open");
    draw_panel(f, 0, "peak RSS (MiB) against state", "live SST MiB (log)", &size, 1, 0);
    if (par.n) draw_panel(f, PW, "peak RSS (MiB) against parallelism", "keyed subtasks (log)", &par, 1, 0);
    if (ret.n) draw_panel(f, 2 * PW, "peak RSS (MiB) against retained", "retained checkpoints (log)", &ret, 1, 0);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">peak RSS of one child process per point "
               "(getrusage); payload job on RocksDB</text>\n", PAD, PH + 12);
    return svg_close(f, path, e);
}
