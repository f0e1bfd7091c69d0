/* sim_fixture: helpers shared by the engine and restore suites. */
#include "sim_fixture.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

rt_error sf_err;

static char g_tmp[512];
static unsigned g_store_seq;

void sf_check_ok(rt_err rc, const char *what, const char *file, int line) {
    if (rc != RT_OK)
        fprintf(stderr, "\n%s:%d: %s -> %s: %s (detected at %s:%d)\n", file, line, what,
                rt_err_name(rc), sf_err.msg, sf_err.file ? sf_err.file : "?", sf_err.line);
    CU_ASSERT_EQUAL_FATAL(rc, RT_OK);
}

/* RocksDB fsyncs on every flush and checkpoint: on a disk that is most of
 * a test's time, so its work dirs go to tmpfs (/dev/shm, as the design
 * allows for sweeps) unless TMPDIR says where. tu_rmtree removes either. */
int sf_suite_init(const char *tag) {
    const char *t = getenv("TMPDIR");
    if ((t == NULL || *t == '\0') && access("/dev/shm", W_OK | X_OK) == 0) {
        snprintf(g_tmp, sizeof g_tmp, "/dev/shm/snapsim-test-%s-XXXXXX", tag);
        if (mkdtemp(g_tmp) != NULL) return 0;
    }
    return tu_mkdtemp(g_tmp, sizeof g_tmp, tag);
}

int sf_suite_cleanup(void) { return tu_rmtree(g_tmp) == 0 ? 0 : -1; }

const char *sf_tmp(void) { return g_tmp; }

rt_store *sf_mem_store(void) {
    char name[32];
    snprintf(name, sizeof name, "sf-%u", g_store_seq++);
    rt_store *s = NULL;
    SF_OK(SF_RC(rt_store_open_mem(&s, name, &sf_err)));
    return s;
}

void sf_config(sim_config *c, rt_store *s, const char *backend, uint64_t seed) {
    sim_config_defaults(c);
    c->seed = seed;
    c->source_seed = 0x5eed;
    c->store = s;
    c->backend = backend;
    c->incremental = strcmp(backend, "rocksdb") == 0;
    c->work_dir = g_tmp;
    c->interval_ms = 250; /* a checkpoint every ~170 records */
    /* Every piece of state a file: these suites look at snapshot files (the
     * inlining tests set a threshold themselves). */
    c->memory_threshold = 0;
}

void sf_set_parallelism(sim_config *c, uint32_t p) {
    for (int i = 0; i < c->job.n_ops; i++) c->job.ops[i].parallelism = p;
}

sim_run *sf_run(const sim_config *c) {
    sim_run *r = NULL;
    SF_OK(SF_RC(sim_run_create(&r, c, &sf_err)));
    return r;
}

sim_run *sf_restored(const sim_config *c, const char *dir, sim_restore_mode mode) {
    sim_run *r = sf_run(c);
    rt_err rc = SF_RC(sim_run_restore(r, dir, mode, 0, &sf_err));
    if (rc != RT_OK) sim_run_destroy(r);
    SF_OK(rc);
    return r;
}

void sf_records(sim_run *r, uint64_t n) { SF_OK(SF_RC(sim_run_records(r, n, &sf_err))); }

void sf_snapshot(sim_run *r, sim_kind kind, char *dir, size_t cap) {
    SF_OK(SF_RC(sim_run_snapshot(r, kind, "savepoints", dir, cap, &sf_err)));
    CU_ASSERT_FATAL(dir[0] != '\0');
}

void sf_verify(sim_run *r) { SF_OK(SF_RC(sim_run_verify(r, &sf_err))); }

/* ---- files ---- */

void sf_files_free(sf_files *l) {
    free(l->f);
    memset(l, 0, sizeof *l);
}

static int add_file(void *ctx, const char *op, uint32_t sub, const sim_file_ref *f) {
    sf_files *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        sf_file *nf = realloc(l->f, cap * sizeof *nf);
        if (nf == NULL) return 1;
        l->f = nf;
        l->cap = cap;
    }
    sf_file *x = &l->f[l->n++];
    snprintf(x->op, sizeof x->op, "%s", op);
    x->subtask = sub;
    x->ref = *f;
    return 0;
}

void sf_meta_files(rt_store *s, const char *dir, sf_files *out) {
    sim_meta m;
    memset(out, 0, sizeof *out);
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    int bad = sim_meta_each_file(&m, add_file, out);
    sim_meta_free(&m);
    CU_ASSERT_FATAL(!bad);
}

int sf_files_has(const sf_files *l, const char *path) {
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->f[i].ref.path, path) == 0) return 1;
    return 0;
}

typedef struct retained_ctx {
    int64_t id;
    rt_strlist *out;
} retained_ctx;

static int add_retained(void *ctx, int64_t id, const char *path) {
    retained_ctx *x = ctx;
    if (x->id >= 0 && id != x->id) return 0;
    return rt_strlist_push(x->out, path) != 0;
}

void sf_retained(const sim_run *r, int64_t id, rt_strlist *out) {
    retained_ctx x = {id, out};
    memset(out, 0, sizeof *out);
    CU_ASSERT_FATAL(sim_run_each_retained_file(r, add_retained, &x) == 0);
}

int sf_strlist_has(const rt_strlist *l, const char *s) {
    for (size_t i = 0; i < l->len; i++)
        if (strcmp(l->items[i], s) == 0) return 1;
    return 0;
}

typedef struct ids_ctx {
    int64_t *ids;
    int n, cap;
} ids_ctx;

static int add_id(void *ctx, int64_t id, const char *path) {
    (void)path;
    ids_ctx *x = ctx;
    for (int i = 0; i < x->n; i++)
        if (x->ids[i] == id) return 0;
    if (x->n == x->cap) return 1;
    int at = x->n++;
    while (at > 0 && x->ids[at - 1] > id) {
        x->ids[at] = x->ids[at - 1];
        at--;
    }
    x->ids[at] = id;
    return 0;
}

int sf_retained_ids(const sim_run *r, int64_t *ids, int cap) {
    ids_ctx x = {ids, 0, cap};
    CU_ASSERT_FATAL(sim_run_each_retained_file(r, add_id, &x) == 0);
    return x.n;
}

/* ---- store images ---- */

void sf_image_take(rt_store *s, sf_image *img) {
    memset(img, 0, sizeof *img);
    SF_OK(SF_RC(rt_store_list(s, "", &img->paths, &sf_err)));
    img->data = calloc(img->paths.len + 1, sizeof *img->data);
    img->len = calloc(img->paths.len + 1, sizeof *img->len);
    CU_ASSERT_FATAL(img->data != NULL && img->len != NULL);
    for (size_t i = 0; i < img->paths.len; i++)
        SF_OK(SF_RC(rt_store_get(s, img->paths.items[i], &img->data[i], &img->len[i], &sf_err)));
}

void sf_image_free(sf_image *img) {
    for (size_t i = 0; i < img->paths.len; i++) free(img->data[i]);
    free(img->data);
    free(img->len);
    rt_strlist_free(&img->paths);
    memset(img, 0, sizeof *img);
}

int sf_image_same(rt_store *s, const sf_image *img) {
    sf_image now;
    sf_image_take(s, &now);
    int same = now.paths.len == img->paths.len;
    for (size_t i = 0; same && i < now.paths.len; i++)
        same = strcmp(now.paths.items[i], img->paths.items[i]) == 0 && now.len[i] == img->len[i] &&
               memcmp(now.data[i], img->data[i], now.len[i]) == 0;
    sf_image_free(&now);
    return same;
}

/* ---- the run's content ---- */

static int count_entry(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    (void)state;
    (void)kg;
    (void)key;
    (void)val;
    (void)len;
    (*(uint64_t *)ctx)++;
    return 0;
}

int sf_run_is_empty(sim_run *r) {
    for (uint32_t s = 0; s < SIM_MAX_SPLITS; s++)
        if (r->offset[s] != 0) return 0;
    for (int i = 0; i < r->n_tasks; i++) {
        sim_task *t = &r->tasks[i];
        if (t->sink_count != 0 || t->sink_hash != 0) return 0;
        for (int s = 0; t->backend != NULL && s < t->backend->n_states; s++) {
            uint64_t n = 0;
            if (t->backend->ops->scan(t->backend, s, count_entry, &n, &sf_err) != RT_OK || n != 0)
                return 0;
        }
    }
    for (int i = 0; i < r->n_chans; i++)
        if (r->chans[i].len != 0) return 0;
    return r->n_done == 0 && r->registry.n == 0;
}

char *sf_read_metadata(rt_store *s, const char *dir) {
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    SF_OK(SF_RC(rt_store_get(s, path, &data, &len, &sf_err)));
    char *text = malloc(len + 1);
    CU_ASSERT_FATAL(text != NULL);
    memcpy(text, data, len);
    text[len] = '\0';
    free(data);
    return text;
}

/* Writes text as dir/_metadata, resealed when it carries a checksum, so a
 * test's deliberate edit reaches the check it aims at. */
void sf_write_metadata(rt_store *s, const char *dir, const char *text) {
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    char *copy = strdup(text);
    CU_ASSERT_FATAL(copy != NULL);
    sim_meta_seal(copy, strlen(copy));
    SF_OK(SF_RC(rt_store_put(s, path, copy, strlen(copy), &sf_err)));
    free(copy);
}
