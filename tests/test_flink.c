/* test_flink: flink/ (the reader of real Flink snapshots) on the fixtures
 * of tests/fixtures/flink/, written by real Flink through the lane's
 * runner: what the C reader parses against what Flink's own
 * Checkpoints.loadCheckpointMetadata read (each fixture's inspect.json),
 * the files of a snapshot (existence, location, SST footers, problems), and
 * `snapsim check` verdicts against what real Flink did restoring snapshots
 * of the same releases, kinds and backends (matrix/observed/). */
#define _XOPEN_SOURCE 700
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fl_build.h"
#include "fl_check.h"
#include "fl_meta.h"
#include "fl_snapshot.h"
#include "flink_report.h"
#include "test_util.h"

#define FIXTURES "tests/fixtures/flink"
#define ORIGINAL "/tmp/fx" /* where make.sh had Flink write them */

static const char *const releases[] = {"1.20.3", "2.1.1"};
static const char *const kinds[] = {"canonical", "native", "aligned", "unaligned"};
static const char *const backends[] = {"hashmap", "rocksdb"};
#define N_FIXTURES 16

typedef struct fixture {
    const char *release, *kind, *backend;
    char dir[1024];      /* tests/fixtures/flink/<release>/<kind>-<backend> */
    char snap[PATH_MAX]; /* the directory holding _metadata */
} fixture;

static void fixture_at(int i, fixture *f) {
    f->release = releases[i / 8];
    f->kind = kinds[(i / 2) % 4];
    f->backend = backends[i % 2];
    snprintf(f->dir, sizeof f->dir, FIXTURES "/%s/%s-%s", f->release, f->kind, f->backend);
    char path_file[PATH_MAX + 8], rel[512] = "";
    snprintf(path_file, sizeof path_file, "%s/PATH", f->dir);
    FILE *in = fopen(path_file, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(in);
    CU_ASSERT_PTR_NOT_NULL(fgets(rel, sizeof rel, in));
    fclose(in);
    rel[strcspn(rel, "\n")] = '\0';
    snprintf(f->snap, sizeof f->snap, "%s/%s", f->dir, rel);
}

static json_t *fixture_json(const fixture *f, const char *name) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    CU_ASSERT_PTR_NOT_NULL(j);
    return j;
}

static int is_savepoint_kind(const char *kind) { return strcmp(kind, "canonical") == 0 || strcmp(kind, "native") == 0; }

static int same_str(json_t *j, const char *s) {
    if (json_is_null(j) || j == NULL) return s == NULL;
    return s != NULL && strcmp(json_string_value(j), s) == 0;
}

/* ---- the reader against Flink's own reading ---------------------------- */

static const char *short_class(const char *cls) {
    const char *dot = strrchr(cls, '.');
    return dot ? dot + 1 : cls;
}

/* Every stream handle with bytes in the runner's walk: "class|size|name". */
static void runner_streams(json_t *j, char list[][320], int *n, int cap) {
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) runner_streams(v, list, n, cap);
        return;
    }
    if (!json_is_object(j)) return;
    const char *cls = json_string_value(json_object_get(j, "class"));
    if (cls) {
        const char *c = short_class(cls);
        const char *name = NULL;
        if (strcmp(c, "RelativeFileStateHandle") == 0) name = json_string_value(json_object_get(j, "relative_path"));
        else if (strcmp(c, "FileStateHandle") == 0) name = json_string_value(json_object_get(j, "file"));
        else if (strcmp(c, "ByteStreamStateHandle") == 0) name = json_string_value(json_object_get(j, "handle_name"));
        if (name && *n < cap)
            snprintf(list[(*n)++], 320, "%s|%lld|%s", c, (long long)json_integer_value(json_object_get(j, "state_size")),
                     name);
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) runner_streams(v, list, n, cap);
}

static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void compare_streams(const fl_meta *m, json_t *truth) {
    static char mine[256][320], theirs[256][320];
    int n_mine = 0, n_theirs = 0;
    for (const fl_stream *h = m->streams; h && n_mine < 256; h = h->next) {
        if (h->kind == FL_PATH_NONE) continue;
        snprintf(mine[n_mine++], 320, "%s|%lld|%s", fl_handle_class(h->type), (long long)h->size, h->path);
    }
    runner_streams(json_object_get(truth, "operators"), theirs, &n_theirs, 256);
    CU_ASSERT_EQUAL(n_mine, n_theirs);
    qsort(mine, (size_t)n_mine, sizeof mine[0], cmp_str);
    qsort(theirs, (size_t)n_theirs, sizeof theirs[0], cmp_str);
    for (int i = 0; i < n_mine && i < n_theirs; i++) {
        if (strcmp(mine[i], theirs[i]) != 0) printf("\n  stream %d: C %s, Flink %s\n", i, mine[i], theirs[i]);
        CU_ASSERT_STRING_EQUAL(mine[i], theirs[i]);
    }
}

static int subtask_has_state(const fl_subtask *st) {
    return st->managed_op || st->raw_op || st->managed_keyed || st->raw_keyed || st->n_input || st->n_output;
}

static const fl_subtask *find_subtask(const fl_operator *op, int index) {
    for (uint32_t s = 0; s < op->n_subtasks; s++)
        if (op->subtasks[s].index == index) return &op->subtasks[s];
    return NULL;
}

static void compare_subtask(const fl_subtask *st, json_t *js) {
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "managed_keyed")), st->managed_keyed ? 1u : 0u);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "raw_keyed")), st->raw_keyed ? 1u : 0u);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "managed_operator")), st->managed_op ? 1u : 0u);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "raw_operator")), st->raw_op ? 1u : 0u);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "input_channel")), st->n_input);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(js, "result_subpartition")), st->n_output);
    json_t *mk = json_array_get(json_object_get(js, "managed_keyed"), 0);
    if (mk && st->managed_keyed) {
        CU_ASSERT_STRING_EQUAL(short_class(json_string_value(json_object_get(mk, "class"))),
                               fl_handle_class(st->managed_keyed->type));
        char range[96];
        snprintf(range, sizeof range, "KeyGroupRange{startKeyGroup=%d, endKeyGroup=%d}", (int)st->managed_keyed->kg_start,
                 (int)(st->managed_keyed->kg_start + st->managed_keyed->kg_count - 1));
        CU_ASSERT_TRUE(same_str(json_object_get(mk, "key_groups"), range));
    }
}

static void compare_operator(const fl_operator *op, json_t *jo) {
    CU_ASSERT_TRUE(same_str(json_object_get(jo, "operator_id"), op->id));
    CU_ASSERT_TRUE(same_str(json_object_get(jo, "uid_stored"), op->uid));
    CU_ASSERT_TRUE(same_str(json_object_get(jo, "name_stored"), op->name));
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(jo, "parallelism")), op->parallelism);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(jo, "max_parallelism")), op->max_parallelism);
    json_t *coord = json_object_get(jo, "coordinator_state");
    CU_ASSERT_EQUAL(json_is_null(coord), op->coordinator == NULL);
    if (op->coordinator && !json_is_null(coord))
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(coord, "inline_bytes")), op->coordinator->n_bytes);
    json_t *subs = json_object_get(jo, "subtasks");
    size_t with_state = 0;
    for (uint32_t s = 0; s < op->n_subtasks; s++) with_state += subtask_has_state(&op->subtasks[s]);
    CU_ASSERT_EQUAL(json_array_size(subs), with_state);
    size_t i;
    json_t *js;
    json_array_foreach(subs, i, js) {
        const fl_subtask *st = find_subtask(op, (int)json_integer_value(json_object_get(js, "subtask")));
        CU_ASSERT_PTR_NOT_NULL(st);
        if (st) compare_subtask(st, js);
    }
}

static void compare_props(const fl_meta *m, json_t *truth) {
    json_t *p = json_object_get(truth, "properties");
    CU_ASSERT_TRUE(m->props.present);
    CU_ASSERT_EQUAL(json_is_true(json_object_get(p, "is_savepoint")), m->props.savepoint);
    json_t *fmt = json_object_get(p, "format_type");
    if (fmt) CU_ASSERT_TRUE(same_str(fmt, m->props.format_type));
    json_t *sharing = json_object_get(p, "sharing_files_strategy");
    /* the runner reports NO_SHARING for savepoints (SavepointType's own
     * strategy); the stored SavepointType has no such field */
    if (sharing && !m->props.savepoint) CU_ASSERT_TRUE(same_str(sharing, m->props.sharing));
}

static void t_reader_matches_runner(void) {
    for (int i = 0; i < N_FIXTURES; i++) {
        fixture f;
        fixture_at(i, &f);
        json_t *truth = fixture_json(&f, "inspect.json");
        char meta[PATH_MAX + 16];
        snprintf(meta, sizeof meta, "%s/_metadata", f.snap);
        fl_meta m;
        rt_error e;
        rt_error_clear(&e);
        CU_ASSERT_EQUAL_FATAL(fl_meta_load(&m, meta, &e), RT_OK);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(truth, "metadata_version")), m.version);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(truth, "metadata_bytes")), (json_int_t)m.file_bytes);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(truth, "checkpoint_id")), m.checkpoint_id);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(truth, "channel_state_handles")),
                        (json_int_t)m.n_channel_handles);
        CU_ASSERT_EQUAL(m.trailing_bytes, 0u);
        compare_props(&m, truth);
        json_t *ops = json_object_get(truth, "operators");
        CU_ASSERT_EQUAL(json_array_size(ops), m.n_ops);
        for (uint32_t o = 0; o < m.n_ops && o < json_array_size(ops); o++) compare_operator(&m.ops[o], json_array_get(ops, o));
        compare_streams(&m, truth);
        fl_meta_free(&m);
        json_decref(truth);
    }
}

/* inspect --json's handle_classes count every handle object by class, as
 * Flink's own walk does. */
static void t_inspect_json_matches_runner(void) {
    for (int i = 0; i < N_FIXTURES; i++) {
        fixture f;
        fixture_at(i, &f);
        json_t *truth = fixture_json(&f, "inspect.json");
        fl_snapshot s;
        rt_error e;
        rt_error_clear(&e);
        CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, f.snap, &e), RT_OK);
        json_t *mine = flink_snapshot_json(&s);
        json_t *theirs = json_object_get(truth, "handle_classes");
        CU_ASSERT_TRUE(json_equal(json_object_get(mine, "handle_classes"), theirs));
        if (!json_equal(json_object_get(mine, "handle_classes"), theirs)) {
            char *a = json_dumps(json_object_get(mine, "handle_classes"), JSON_SORT_KEYS);
            char *b = json_dumps(theirs, JSON_SORT_KEYS);
            printf("\n  %s: C %s\n  Flink %s\n", f.dir, a, b);
            free(a);
            free(b);
        }
        CU_ASSERT_TRUE(same_str(json_object_get(mine, "type"), is_savepoint_kind(f.kind) ? "savepoint" : "checkpoint"));
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(mine, "checkpoint_id")),
                        json_integer_value(json_object_get(truth, "checkpoint_id")));
        json_decref(mine);
        fl_snapshot_close(&s);
        json_decref(truth);
    }
}

/* ---- the files of a snapshot ------------------------------------------- */

static void t_fixture_files(void) {
    for (int i = 0; i < N_FIXTURES; i++) {
        fixture f;
        fixture_at(i, &f);
        fl_snapshot s;
        rt_error e;
        rt_error_clear(&e);
        CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, f.snap, &e), RT_OK);
        int savepoint = is_savepoint_kind(f.kind);
        CU_ASSERT_EQUAL(s.savepoint, savepoint);
        CU_ASSERT_STRING_EQUAL(s.kind_from, "checkpoint properties");
        CU_ASSERT_STRING_EQUAL(s.format, strcmp(f.kind, "canonical") == 0 ? "canonical" : "native");
        int rocks_native = strcmp(f.backend, "rocksdb") == 0 && strcmp(f.kind, "canonical") != 0;
        CU_ASSERT_STRING_EQUAL(s.backend, rocks_native ? "rocksdb" : strcmp(f.kind, "canonical") == 0
                                                                         ? "any (canonical)"
                                                                         : "heap or rocksdb (a key-group stream)");
        CU_ASSERT_EQUAL(s.n_sst, rocks_native ? 4u : 0u);
        /* RocksDB's incremental checkpoints keep their files in the job's
         * shared/ by absolute path; everything else is relative or inlined. */
        int absolute = rocks_native && !savepoint;
        CU_ASSERT_EQUAL(s.self_contained, !absolute);
        CU_ASSERT_EQUAL(s.n_problem[3], 0u); /* no absolute path in a savepoint */
        CU_ASSERT_EQUAL(s.n_kind[FL_PATH_INLINED], 1u); /* the source's coordinator state */
        for (size_t k = 0; k < s.n_files; k++) {
            const fl_file *x = &s.files[k];
            if (x->h->kind == FL_PATH_ABSOLUTE) {
                /* they point where Flink wrote them, not into the copy */
                CU_ASSERT_TRUE(strncmp(x->where, ORIGINAL "/", strlen(ORIGINAL) + 1) == 0);
                CU_ASSERT_NOT_EQUAL(x->location, FL_LOC_INSIDE);
                CU_ASSERT_TRUE(x->problems & FL_PROB_OUTSIDE);
                continue;
            }
            CU_ASSERT_EQUAL(x->exists, 1);
            CU_ASSERT_EQUAL(x->actual_size, x->h->size);
            CU_ASSERT_EQUAL(x->problems, 0);
            CU_ASSERT_EQUAL(x->location, x->h->kind == FL_PATH_INLINED ? FL_LOC_INLINED : FL_LOC_INSIDE);
            if (x->sst) CU_ASSERT_EQUAL(x->sst_format, 5); /* RocksDB 6.20.3 and 8.10 write 5 */
        }
        fl_snapshot_close(&s);
    }
}

/* Copies a flat directory (a savepoint's) into dst. */
static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int ok = in && out;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok ? 0 : -1;
}

static int copy_dir(const char *from, const char *to) {
    if (mkdir(to, 0755) != 0) return -1;
    DIR *d = opendir(from);
    if (d == NULL) return -1;
    struct dirent *ent;
    int rc = 0;
    while (rc == 0 && (ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        char a[PATH_MAX], b[PATH_MAX];
        snprintf(a, sizeof a, "%s/%s", from, ent->d_name);
        snprintf(b, sizeof b, "%s/%s", to, ent->d_name);
        struct stat st;
        if (stat(a, &st) != 0) rc = -1;
        else rc = S_ISDIR(st.st_mode) ? copy_dir(a, b) : copy_file(a, b);
    }
    closedir(d);
    return rc;
}

static fl_file *file_with_role(fl_snapshot *s, const char *role_prefix) {
    for (size_t i = 0; i < s->n_files; i++)
        if (strncmp(s->files[i].h->role, role_prefix, strlen(role_prefix)) == 0) return &s->files[i];
    return NULL;
}

static fl_check check_of(const char *dir, const char *to, const char *backend) {
    fl_snapshot s;
    fl_check c;
    rt_error e;
    rt_error_clear(&e);
    memset(&c, 0, sizeof c);
    c.verdict = FL_UNKNOWN;
    if (fl_snapshot_open(&s, dir, &e) != RT_OK) {
        CU_FAIL("snapshot did not open");
        printf("\n  %s\n", e.msg);
        return c;
    }
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find(to), backend, NULL, &c, &e), RT_OK);
    fl_snapshot_close(&s);
    return c;
}

static int has_rule(const fl_check *c, fl_verdict v, const char *rule, const char *text) {
    for (int i = 0; i < c->n_reasons; i++)
        if (c->reasons[i].verdict == v && strcmp(c->reasons[i].rule, rule) == 0 &&
            (text == NULL || strstr(c->reasons[i].text, text) != NULL))
            return 1;
    return 0;
}

/* A copy of a fixture's snapshot directory (savepoints and self-contained
 * checkpoints: everything relative). */
static int copy_fixture(int index, char *tmp, size_t cap, char *snap, size_t snap_cap) {
    fixture f;
    fixture_at(index, &f);
    if (tu_mkdtemp(tmp, cap, "flink") != 0) return -1;
    snprintf(snap, snap_cap, "%s/chk-1", tmp);
    if (is_savepoint_kind(f.kind)) snprintf(snap, snap_cap, "%s/savepoint-copy", tmp);
    return copy_dir(f.snap, snap);
}

#define FX(rel, kind, backend) ((rel) * 8 + (kind) * 2 + (backend))
enum { R120 = 0, R211 = 1, CANONICAL = 0, NATIVE = 1, ALIGNED = 2, UNALIGNED = 3, HEAP = 0, ROCKS = 1 };

static void t_missing_and_damaged_files(void) {
    char tmp[512], snap[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(copy_fixture(FX(R120, CANONICAL, HEAP), tmp, sizeof tmp, snap, sizeof snap), 0);
    fl_check c = check_of(snap, "1.20.3", "heap");
    CU_ASSERT_EQUAL(c.verdict, FL_RESTORES);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, snap, &e), RT_OK);
    fl_file *keyed = file_with_role(&s, "managed keyed");
    fl_file *op = file_with_role(&s, "managed operator");
    CU_ASSERT_PTR_NOT_NULL_FATAL(keyed);
    CU_ASSERT_PTR_NOT_NULL_FATAL(op);
    char keyed_path[PATH_MAX], op_path[PATH_MAX];
    snprintf(keyed_path, sizeof keyed_path, "%s", keyed->where);
    snprintf(op_path, sizeof op_path, "%s", op->where);
    fl_snapshot_close(&s);
    CU_ASSERT_EQUAL(unlink(keyed_path), 0);
    FILE *out = fopen(op_path, "ab");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    fputc('x', out);
    fclose(out);
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, snap, &e), RT_OK);
    CU_ASSERT_EQUAL(s.n_problem[0], 1u);
    CU_ASSERT_EQUAL(s.n_problem[1], 1u);
    CU_ASSERT_TRUE(file_with_role(&s, "managed keyed")->problems & FL_PROB_MISSING);
    CU_ASSERT_TRUE(file_with_role(&s, "managed operator")->problems & FL_PROB_SIZE);
    fl_snapshot_close(&s);
    c = check_of(snap, "1.20.3", "heap");
    CU_ASSERT_EQUAL(c.verdict, FL_REJECTED);
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "files", "is missing"));
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "files", "metadata says"));
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

/* A synthetic snapshot: the reader's verdicts on where files lie. */
static void t_locations_and_other_snapshots(void) {
    char tmp[512], dir[PATH_MAX], other[PATH_MAX], path[PATH_MAX + 64];
    CU_ASSERT_EQUAL_FATAL(tu_mkdtemp(tmp, sizeof tmp, "flink"), 0);
    snprintf(dir, sizeof dir, "%s/savepoint-abc", tmp);
    snprintf(other, sizeof other, "%s/chk-9", tmp);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(other, 0755), 0);
    fb w;
    fb_header(&w, 3, 1);
    CU_ASSERT_EQUAL(fb_write(&w, other), 0); /* chk-9 is a snapshot (it has _metadata) */
    snprintf(path, sizeof path, "%s/state", other);
    CU_ASSERT_EQUAL(copy_file(FIXTURES "/1.20.3/canonical-hashmap/PATH", path), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    fb_header(&w, 3, 1);
    fb_operator(&w, 1, 3);
    fb_subtask_begin(&w, 0);
    fb_key_groups(&w);
    fb_file_handle(&w, path, (uint64_t)st.st_size); /* absolute, into chk-9 */
    fb_subtask_end(&w);
    fb_subtask_begin(&w, 1);
    fb_key_groups(&w);
    snprintf(path, sizeof path, "file://%s/gone", tmp);
    fb_file_handle(&w, path, 10); /* absolute, missing */
    fb_subtask_end(&w);
    fb_subtask_begin(&w, 2);
    fb_key_groups(&w);
    fb_relative_handle(&w, "../chk-9/state", (uint64_t)st.st_size); /* relative, escaping */
    fb_subtask_end(&w);
    CU_ASSERT_EQUAL_FATAL(fb_write(&w, dir), 0);
    fl_snapshot s;
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, dir, &e), RT_OK);
    CU_ASSERT_EQUAL(s.savepoint, 1); /* V3: from the directory name */
    CU_ASSERT_STRING_EQUAL(s.kind_from, "directory name");
    CU_ASSERT_EQUAL_FATAL(s.n_files, 3u);
    CU_ASSERT_EQUAL(s.files[0].problems, FL_PROB_OUTSIDE | FL_PROB_ABSOLUTE_SAVEPOINT | FL_PROB_OTHER_SNAPSHOT);
    CU_ASSERT_STRING_EQUAL(s.files[0].other, other);
    CU_ASSERT_EQUAL(s.files[1].problems, FL_PROB_OUTSIDE | FL_PROB_ABSOLUTE_SAVEPOINT | FL_PROB_MISSING);
    CU_ASSERT_EQUAL(s.files[2].problems, FL_PROB_OUTSIDE | FL_PROB_OTHER_SNAPSHOT);
    CU_ASSERT_EQUAL(s.files[2].exists, 1);
    CU_ASSERT_FALSE(s.self_contained);
    fl_check c;
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.15.0"), NULL, NULL, &c, &e), RT_OK);
    CU_ASSERT_EQUAL(c.verdict, FL_REJECTED);
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "relocation", "cannot be relocated"));
    CU_ASSERT_EQUAL(c.n_reasons, 1);
    fl_snapshot_close(&s);
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

/* ---- check: each rule on a changed copy ---------------------------------- */

static void patch(const char *path, long offset_from_end, const void *bytes, size_t n) {
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fseek(f, offset_from_end, offset_from_end < 0 ? SEEK_END : SEEK_SET), 0);
    CU_ASSERT_EQUAL(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* The SST footer's format_version decides against the target's RocksDB:
 * 6 is read by 2.x's RocksDB 8.10, not by 1.x's 6.20.3. */
static void t_check_sst_format(void) {
    char tmp[512], snap[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(copy_fixture(FX(R120, NATIVE, ROCKS), tmp, sizeof tmp, snap, sizeof snap), 0);
    CU_ASSERT_EQUAL(check_of(snap, "1.20.3", "rocksdb").verdict, FL_RESTORES);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, snap, &e), RT_OK);
    char sst[PATH_MAX] = "";
    for (size_t i = 0; i < s.n_files; i++)
        if (s.files[i].sst) snprintf(sst, sizeof sst, "%s", s.files[i].where);
    fl_snapshot_close(&s);
    const uint8_t six[4] = {6, 0, 0, 0}; /* fixed32 little-endian, 12 bytes from the end */
    patch(sst, -12, six, 4);
    fl_check c = check_of(snap, "1.20.3", "rocksdb");
    CU_ASSERT_EQUAL(c.verdict, FL_REJECTED);
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "sst-format", "format_version 6"));
    CU_ASSERT_EQUAL(check_of(snap, "2.0.0", "rocksdb").verdict, FL_RESTORES);
    const uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* no footer magic */
    patch(sst, -8, junk, 8);
    c = check_of(snap, "2.0.0", "rocksdb");
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "sst-format", "block-based table footer"));
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

static void t_check_backend(void) {
    fixture f;
    fixture_at(FX(R120, NATIVE, ROCKS), &f);
    fl_check c = check_of(f.snap, "1.20.3", "hashmap");
    CU_ASSERT_EQUAL(c.verdict, FL_REJECTED);
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "backend", "the heap backend reads only"));
    fixture_at(FX(R120, CANONICAL, ROCKS), &f);
    CU_ASSERT_EQUAL(check_of(f.snap, "1.20.3", "heap").verdict, FL_RESTORES);
    /* the heap's key-group stream read by RocksDB: the model decides by the
     * bytes (it rejects its own heap stream), this check cannot: unknown */
    fixture_at(FX(R120, NATIVE, HEAP), &f);
    c = check_of(f.snap, "1.20.3", "rocksdb");
    CU_ASSERT_EQUAL(c.verdict, FL_UNKNOWN);
    CU_ASSERT_TRUE(has_rule(&c, FL_UNKNOWN, "backend", "written by the heap backend"));
    CU_ASSERT_EQUAL(check_of(f.snap, "1.20.3", "hashmap").verdict, FL_RESTORES);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, f.snap, &e), RT_OK);
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.20.3"), "cassandra", NULL, &c, &e), RT_EUSAGE);
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.20.3"), NULL, sim_version_find("2.1.1"), &c, &e), RT_EUSAGE);
    fl_snapshot_close(&s);
}

static void t_check_channel_state_version(void) {
    char tmp[512], snap[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(copy_fixture(FX(R211, UNALIGNED, HEAP), tmp, sizeof tmp, snap, sizeof snap), 0);
    CU_ASSERT_EQUAL(check_of(snap, "2.2.0", "heap").verdict, FL_RESTORES);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, snap, &e), RT_OK);
    fl_file *ch = file_with_role(&s, "channel");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", ch->where);
    fl_snapshot_close(&s);
    const uint8_t one[4] = {0, 0, 0, 1};
    patch(path, 0, one, 4);
    fl_check c = check_of(snap, "2.2.0", "heap");
    CU_ASSERT_EQUAL(c.verdict, FL_REJECTED);
    CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "channel-state", "serialization version 1"));
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

/* Kryo-serialized state across Kryo generations is unknown, not a verdict
 * the model makes; within one generation the other rules decide. */
static void t_check_kryo_unknown(void) {
    char tmp[512], snap[PATH_MAX];
    CU_ASSERT_EQUAL_FATAL(copy_fixture(FX(R120, CANONICAL, HEAP), tmp, sizeof tmp, snap, sizeof snap), 0);
    CU_ASSERT_EQUAL(check_of(snap, "2.0.0", "heap").verdict, FL_RESTORES);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, snap, &e), RT_OK);
    CU_ASSERT_EQUAL(s.n_kryo, 0u);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", file_with_role(&s, "managed keyed")->where);
    fl_snapshot_close(&s);
    patch(path, 64, "KryoSerializer", 14); /* inside its serializer snapshots, size unchanged */
    fl_check c = check_of(snap, "2.0.0", "heap");
    CU_ASSERT_EQUAL(c.verdict, FL_UNKNOWN);
    CU_ASSERT_TRUE(has_rule(&c, FL_UNKNOWN, "kryo", "Kryo 2"));
    CU_ASSERT_EQUAL(check_of(snap, "1.20.0", "heap").verdict, FL_RESTORES);
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

/* V3 channel state may come from 1.11/1.12, before the model's releases:
 * unknown, unless the writer is named. */
static void t_check_v3_channel_state_unknown(void) {
    char tmp[512], dir[PATH_MAX], path[PATH_MAX + 16];
    CU_ASSERT_EQUAL_FATAL(tu_mkdtemp(tmp, sizeof tmp, "flink"), 0);
    snprintf(dir, sizeof dir, "%s/chk-3", tmp);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/cs", dir);
    FILE *out = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (int i = 0; i < 12; i++) fputc(0, out); /* version 0, then data */
    fclose(out);
    fb w;
    fb_header(&w, 3, 1);
    fb_operator(&w, 1, 1);
    fb_subtask_begin(&w, 0);
    fb_u8(&w, 0);  /* no managed keyed */
    fb_u8(&w, 0);  /* no raw keyed */
    fb_u32(&w, 1); /* one input channel handle (V1: no type byte) */
    fb_u32(&w, 0);
    fb_u32(&w, 0);
    fb_u32(&w, 0);
    fb_u32(&w, 1);
    fb_u64(&w, 4);
    fb_u64(&w, 12);
    fb_relative_handle(&w, "cs", 12);
    fb_u32(&w, 0); /* no output channel handles */
    CU_ASSERT_EQUAL_FATAL(fb_write(&w, dir), 0);
    fl_snapshot s;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_snapshot_open(&s, dir, &e), RT_OK);
    CU_ASSERT_EQUAL(s.meta.n_channel_handles, 1u);
    CU_ASSERT_EQUAL(s.savepoint, 0);
    fl_check c;
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.15.0"), NULL, NULL, &c, &e), RT_OK);
    CU_ASSERT_EQUAL(c.verdict, FL_UNKNOWN);
    CU_ASSERT_TRUE(has_rule(&c, FL_UNKNOWN, "channel-state", "1.11.0"));
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.15.0"), NULL, sim_version_find("1.14.6"), &c, &e), RT_OK);
    CU_ASSERT_EQUAL(c.verdict, FL_RESTORES);
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("1.16.0"), NULL, sim_version_find("1.14.6"), &c, &e), RT_OK);
    CU_ASSERT_EQUAL(c.verdict, FL_RESTORES);
    CU_ASSERT_EQUAL(fl_check_run(&s, sim_version_find("2.0.0"), NULL, sim_version_find("1.15.4"), &c, &e), RT_OK);
    CU_ASSERT_EQUAL(c.verdict, FL_RESTORES);
    fl_snapshot_close(&s);
    CU_ASSERT_EQUAL(tu_rmtree(tmp), 0);
}

/* ---- check against what real Flink did ----------------------------------- */

/* The absolute files of a fixture (RocksDB's shared/) at the place Flink
 * wrote them, copied from the fixture where missing; returns how many
 * files and directories were made, their paths in placed[] (in the order
 * made) to remove after, newest first. */
static int place_originals(const fixture *f, char placed[][PATH_MAX], int cap) {
    fl_snapshot s;
    rt_error e;
    if (fl_snapshot_open(&s, f->snap, &e) != RT_OK) return 0;
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof prefix, ORIGINAL "/%s/%s-%s/", f->release, f->kind, f->backend);
    int n = 0;
    for (size_t i = 0; i < s.n_files && n < cap; i++) {
        const fl_file *x = &s.files[i];
        if (x->h->kind != FL_PATH_ABSOLUTE || x->exists == 1 || strncmp(x->where, prefix, strlen(prefix)) != 0) continue;
        char from[2 * PATH_MAX], dir[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s", f->dir, x->where + strlen(prefix));
        snprintf(dir, sizeof dir, "%s", x->where);
        for (char *p = dir + 1; *p && n < cap; p++) /* mkdir -p of its directory */
            if (*p == '/') {
                *p = '\0';
                if (mkdir(dir, 0755) == 0) snprintf(placed[n++], PATH_MAX, "%s", dir);
                *p = '/';
            }
        if (n < cap && copy_file(from, x->where) == 0) snprintf(placed[n++], PATH_MAX, "%s", x->where);
    }
    fl_snapshot_close(&s);
    return n;
}

static void t_check_matches_observed(void) {
    static const char *const files[] = {"matrix/observed/flink-versions-heap.json",
                                        "matrix/observed/flink-versions-rocksdb.json"};
    int compared = 0, rejected = 0;
    for (int fi = 0; fi < 2; fi++) {
        json_error_t err;
        json_t *obs = json_load_file(files[fi], 0, &err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(obs);
        size_t i;
        json_t *row;
        json_array_foreach(json_object_get(obs, "results"), i, row) {
            const char *versions = json_string_value(json_object_get(row, "versions"));
            const char *kind = json_string_value(json_object_get(row, "kind"));
            const char *backend = json_string_value(json_object_get(row, "backend"));
            const char *outcome = json_string_value(json_object_get(row, "outcome"));
            char from[16] = "", to[16] = "";
            if (!versions || sscanf(versions, "%15[^-]->%15s", from, to) != 2) continue;
            for (int x = 0; x < N_FIXTURES; x++) {
                fixture f;
                fixture_at(x, &f);
                int heap = strcmp(f.backend, "hashmap") == 0;
                if (strcmp(f.release, from) != 0 || strcmp(f.kind, kind) != 0 ||
                    strcmp(backend, heap ? "heap" : "rocksdb") != 0)
                    continue;
                static char placed[64][PATH_MAX];
                int n_placed = place_originals(&f, placed, 64);
                fl_check c = check_of(f.snap, to, backend);
                fl_verdict want = strcmp(outcome, "works") == 0 ? FL_RESTORES : FL_REJECTED;
                if (c.verdict != want)
                    printf("\n  %s %s %s->%s: real Flink %s, check %s (%s)\n", kind, backend, from, to, outcome,
                           fl_verdict_name(c.verdict), c.n_reasons ? c.reasons[0].text : "");
                CU_ASSERT_EQUAL(c.verdict, want);
                if (want == FL_REJECTED) CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "metadata-version", "version 6"));
                compared++;
                rejected += want == FL_REJECTED;
                for (int k = n_placed - 1; k >= 0; k--) CU_ASSERT_EQUAL(remove(placed[k]), 0);
            }
        }
        json_decref(obs);
    }
    /* 1.20.3 -> 1.20.0 and -> 2.0.0, 2.1.1 -> 2.0.1 and -> 2.2.0, each kind on both backends */
    CU_ASSERT_EQUAL(compared, 32);
    CU_ASSERT_EQUAL(rejected, 8);
}

/* Backend changes real Flink 1.20.3 did (matrix/observed/flink.json): a
 * verdict of check is never the opposite of Flink's; where the model
 * decides by bytes check cannot read (the heap's key-group stream read by
 * RocksDB), it says unknown. */
static void t_check_backend_change_observed(void) {
    json_error_t err;
    json_t *obs = json_load_file("matrix/observed/flink.json", 0, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obs);
    int counts[3] = {0, 0, 0};
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(obs, "results"), i, row) {
        if (!same_str(json_object_get(row, "scenario"), "backend_change")) continue;
        const char *kind = json_string_value(json_object_get(row, "kind"));
        const char *change = json_string_value(json_object_get(row, "backend"));
        const char *release = json_string_value(json_object_get(row, "versions"));
        int works = same_str(json_object_get(row, "outcome"), "works");
        char from[16] = "", to[16] = "";
        CU_ASSERT_EQUAL_FATAL(sscanf(change, "%15[^-]->%15s", from, to), 2);
        int k = 0;
        while (k < 4 && strcmp(kinds[k], kind) != 0) k++;
        CU_ASSERT_TRUE_FATAL(k < 4 && strcmp(release, "1.20.3") == 0);
        fixture f;
        fixture_at(FX(R120, k, strcmp(from, "heap") == 0 ? HEAP : ROCKS), &f);
        static char placed[64][PATH_MAX];
        int n_placed = place_originals(&f, placed, 64);
        fl_check c = check_of(f.snap, release, to);
        if (works) CU_ASSERT_EQUAL(c.verdict, FL_RESTORES);
        if (!works) CU_ASSERT_NOT_EQUAL(c.verdict, FL_RESTORES);
        if (c.verdict == FL_UNKNOWN) CU_ASSERT_TRUE(has_rule(&c, FL_UNKNOWN, "backend", "key-group stream"));
        if (c.verdict == FL_REJECTED) CU_ASSERT_TRUE(has_rule(&c, FL_REJECTED, "backend", "the heap backend reads only"));
        counts[c.verdict]++;
        for (int x = n_placed - 1; x >= 0; x--) CU_ASSERT_EQUAL(remove(placed[x]), 0);
    }
    json_decref(obs);
    /* canonical both ways; RocksDB's own files on the heap; the heap's streams on RocksDB */
    CU_ASSERT_EQUAL(counts[FL_RESTORES], 2);
    CU_ASSERT_EQUAL(counts[FL_REJECTED], 3);
    CU_ASSERT_EQUAL(counts[FL_UNKNOWN], 3);
}

#define PAIR(fn, name) {name, fn}

int suite_flink(void) {
    CU_pSuite s = CU_add_suite("flink", NULL, NULL);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        PAIR(t_reader_matches_runner, "the reader parses what Flink read (16 real snapshots)"),
        PAIR(t_inspect_json_matches_runner, "inspect --json counts handle classes as Flink's walk"),
        PAIR(t_fixture_files, "files of real snapshots: kinds, locations, existence, SST footers"),
        PAIR(t_missing_and_damaged_files, "a missing and a resized file are problems and rejections"),
        PAIR(t_locations_and_other_snapshots, "outside, absolute in a savepoint, other snapshot, relocation"),
        PAIR(t_check_sst_format, "check: the SST footer against the target's RocksDB"),
        PAIR(t_check_backend, "check: which backend reads which handles"),
        PAIR(t_check_channel_state_version, "check: the channel-state serialization version"),
        PAIR(t_check_kryo_unknown, "check: Kryo across generations is unknown"),
        PAIR(t_check_v3_channel_state_unknown, "check: V3 channel state of an unmodelled writer is unknown"),
        PAIR(t_check_matches_observed, "check agrees with real Flink's restores (matrix/observed)"),
        PAIR(t_check_backend_change_observed, "check on real Flink's backend changes: never the opposite verdict"),
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
