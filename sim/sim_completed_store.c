/* sim_completed_store: the completed-checkpoint store as the HA services keep
 * it (ZooKeeper or Kubernetes in Flink): a small file in the checkpoint
 * storage, rewritten after every change, from which a restarted
 * coordinator rebuilds its retained checkpoints and its SharedStateRegistry.
 *   line 1: "snapsim-completed 1 force_full=<0|1> not_claimed=<id>"
 *   then one line per retained checkpoint: "<id> <owned> <unclaimed> <dir>" */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define STORE_MAGIC "snapsim-completed 1"

rt_err sim_coord_save_store(sim_run *r, rt_error *e) {
    char buf[8192], path[SIM_PATH_MAX];
    size_t n = (size_t)snprintf(buf, sizeof buf, STORE_MAGIC " force_full=%d not_claimed=%" PRId64 "\n",
                                r->force_full, r->registry.highest_not_claimed);
    for (int i = 0; i < r->n_done && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%" PRId64 " %d %d %s\n", r->done[i].id,
                              r->done[i].owned, r->done[i].unclaimed, r->done[i].dir);
    if (n >= sizeof buf) return RT_FAIL(e, RT_EINTERNAL, "completed store too large");
    snprintf(path, sizeof path, "%s/completed-checkpoints", r->job_id);
    return rt_store_put(r->cfg.store, path, buf, n, e);
}

int sim_completed_add_file(sim_completed *c, const sim_file_ref *f) {
    if (!f->shared) return rt_strlist_push(&c->files, f->path) != 0;
    sim_file_ref *nr = realloc(c->shared_refs, (c->shared.len + 1) * sizeof *nr);
    if (nr == NULL) return 1;
    c->shared_refs = nr;
    if (rt_strlist_push(&c->shared, f->path) != 0) return 1;
    nr[c->shared.len - 1] = *f;
    return 0;
}

static int collect(void *ctx, const char *op, uint32_t sub, const sim_file_ref *f) {
    (void)op;
    (void)sub;
    return sim_completed_add_file(ctx, f);
}

/* registerAllAfterRestored, file by file, each under its key. */
typedef struct restored_reg {
    sim_run *r;
    int64_t id;
    rt_err rc;
    rt_error *e;
} restored_reg;

static int register_restored(void *ctx, const char *op, uint32_t sub, const sim_file_ref *f) {
    restored_reg *rr = ctx;
    if (!f->shared) return 0;
    char key[SIM_PATH_MAX + 96];
    sim_coord_shared_key(rr->r, op, sub, f, key, sizeof key);
    rr->rc = sim_registry_register(&rr->r->registry, key, f->path, rr->id, f->created_by, rr->e);
    return rr->rc != RT_OK;
}

rt_err sim_coord_adopt(sim_run *r, const sim_meta *m, const char *dir, int owned, int unclaimed, rt_error *e) {
    sim_completed c;
    memset(&c, 0, sizeof c);
    c.id = m->checkpoint_id;
    c.owned = owned;
    c.unclaimed = unclaimed;
    snprintf(c.dir, sizeof c.dir, "%s", dir);
    char meta_path[SIM_PATH_MAX + 16];
    snprintf(meta_path, sizeof meta_path, "%s/_metadata", dir);
    rt_err rc = RT_OK;
    if (sim_meta_each_file(m, collect, &c) || rt_strlist_push(&c.files, meta_path) != 0)
        rc = RT_FAIL(e, RT_ENOMEM, "completed store: out of memory");
    /* registerAllAfterRestored; the strategy it was taken with is noted. */
    restored_reg rr = {r, c.id, RT_OK, e};
    if (rc == RT_OK && sim_meta_each_file(m, register_restored, &rr)) rc = rr.rc;
    if (rc == RT_OK) sim_registry_note_restored(&r->registry, c.id, strcmp(m->sharing, "NO_SHARING") == 0);
    /* The coordinator holds the snapshot's inlined state from now on. */
    if (rc == RT_OK) rc = sim_bytes_merge(&r->inline_pool, &m->inline_pool, e);
    if (rc == RT_OK) {
        sim_registry_confirm(&r->registry, c.id);
        if (unclaimed && r->cfg.mutant != SIM_MUT_FLINK_26985)
            sim_registry_set_not_claimed(&r->registry, c.id);
        rc = sim_coord_add_completed(r, &c, e);
    }
    sim_completed_free(&c);
    return rc;
}

/* One retained checkpoint back from its _metadata. */
static rt_err load_one(sim_run *r, int64_t id, int owned, int unclaimed, const char *dir, rt_error *e) {
    sim_meta m;
    rt_err rc = sim_meta_load(&m, r->cfg.store, dir, e);
    if (rc != RT_OK) return rc;
    if (m.checkpoint_id != id)
        rc = RT_FAIL(e, RT_EFORMAT, "completed store names checkpoint %" PRId64 " at %s, which holds %" PRId64, id,
                     dir, m.checkpoint_id);
    if (rc == RT_OK) rc = sim_coord_adopt(r, &m, dir, owned, unclaimed, e);
    sim_meta_free(&m);
    return rc;
}

rt_err sim_coord_load_store(sim_run *r, rt_error *e) {
    char path[SIM_PATH_MAX];
    snprintf(path, sizeof path, "%s/completed-checkpoints", r->job_id);
    uint8_t *data = NULL;
    size_t len = 0;
    rt_err rc = rt_store_get(r->cfg.store, path, &data, &len, e);
    if (rc == RT_ENOENT) return RT_OK; /* nothing completed yet */
    if (rc != RT_OK) return rc;
    char *text = realloc(data, len + 1);
    if (text == NULL) {
        free(data);
        return RT_FAIL(e, RT_ENOMEM, "completed store: out of memory");
    }
    text[len] = '\0';
    assert(r->n_done == 0 && r->registry.n == 0); /* a fresh coordinator */
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int force_full = 0;
    int64_t not_claimed = -1;
    if (line == NULL || sscanf(line, STORE_MAGIC " force_full=%d not_claimed=%" SCNd64, &force_full, &not_claimed) != 2)
        rc = RT_FAIL(e, RT_EFORMAT, "%s: not a completed-checkpoint store", path);
    /* Files of a snapshot restored without claim stay protected after the
     * snapshot itself left the retained list. */
    sim_registry_set_not_claimed(&r->registry, not_claimed);
    while (rc == RT_OK && (line = strtok_r(NULL, "\n", &save)) != NULL) {
        int64_t id;
        int owned, unclaimed, used = 0;
        if (sscanf(line, "%" SCNd64 " %d %d %n", &id, &owned, &unclaimed, &used) != 3 || used == 0)
            rc = RT_FAIL(e, RT_EFORMAT, "%s: malformed line '%s'", path, line);
        else
            rc = load_one(r, id, owned, unclaimed, line + used, e);
        if (rc == RT_OK && id + 1 > r->next_cp) r->next_cp = id + 1;
    }
    r->force_full = force_full;
    free(text);
    return rc;
}
