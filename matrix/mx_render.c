/* mx_render: mx_render_all writes every report of the latest run into a
 * directory. Each file is written beside its final name and renamed into
 * place, so a failed render never leaves a half-written report. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mx_report.h"

typedef rt_err (*render_fn)(mx_db *db, const mx_report *rep, FILE *f, rt_error *e);

static const struct {
    const char *name;
    render_fn fn;
} outputs[] = {
    {"guarantees.md", mx_render_md},  {"index.html", mx_render_html},
    {"results.csv", mx_export_csv},   {"results.json", mx_export_json},
    {"junit.xml", mx_export_junit},
};

static rt_err render_one(mx_db *db, const mx_report *rep, const char *dir, const char *name,
                         render_fn fn, rt_error *e) {
    char path[MX_PATH_MAX], tmp[MX_PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp)
        return RT_FAIL(e, RT_EINPUT, "%s/%s: path too long", dir, name);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) return RT_FAIL(e, RT_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    rt_err rc = fn(db, rep, f, e);
    int write_failed = ferror(f);
    if (fclose(f) != 0) write_failed = 1;
    if (rc == RT_OK && write_failed) rc = RT_FAIL(e, RT_EIO, "%s: write failed", tmp);
    if (rc == RT_OK && rename(tmp, path) != 0)
        rc = RT_FAIL(e, RT_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc != RT_OK) {
        remove(tmp);
        rt_error_prefix(e, "render %s: ", path);
    }
    return rc;
}

static int file_exists(const char *dir, const char *name) {
    char path[MX_PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

rt_err mx_render_all(mx_db *db, const char *out_dir, rt_error *e) {
    assert(db != NULL);
    assert(out_dir != NULL);
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST)
        return RT_FAIL(e, RT_EIO, "%s: cannot create the report directory: %s", out_dir,
                       strerror(errno));
    mx_report rep;
    rt_err rc = mx_report_load(db, &rep, e);
    if (rc != RT_OK) return rc;
    rep.has_bench = file_exists(out_dir, "bench.md");
    rep.has_restore_map = file_exists(out_dir, "coverage/restore-map.md");
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0] && rc == RT_OK; i++)
        rc = render_one(db, &rep, out_dir, outputs[i].name, outputs[i].fn, e);
    mx_report_free(&rep);
    return rc;
}
