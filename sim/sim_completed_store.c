/* sim_completed_store: the completed-checkpoint store as the HA services keep
 * it (ZooKeeper or Kubernetes in Flink): a small file in the checkpoint
 * storage, rewritten after every change, from which a restarted
 * coordinator rebuilds its retained checkpoints and its SharedStateRegistry.
 *   line 1: "snapsim-completed 1 force_full=<0|1> not_claimed=<id>"
 *   then one line per retained checkpoint: "<id> <owned> <unclaimed> <dir>"
 *   last line: "sum <xxh3 of everything before it, 16 hex digits>"
 * A store whose bytes are not what was written (a torn or flipped write) is
 * a named error, never fewer or other checkpoints: Flink's recovery fails
 * the same way when a checkpoint's state handle cannot be retrieved
 * (DefaultCompletedCheckpointStoreUtils.retrieveCompletedCheckpoints: "the
 * retrieved state handle is broken"). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define STORE_MAGIC "snapsim-completed 1"
#define STORE_SUM "sum "
#define STORE_SUM_LEN 21 /* "sum " + 16 hex digits + "\n" */

static void store_path(const sim_run *r, char *path, size_t cap) {
    snprintf(path, cap, "%s/completed-checkpoints", r->job_id);
}

/* The store as it would be with `extra` appended (NULL: none) and the
 * given header values: what a restore writes before it changes anything. */
static rt_err save_store_as(sim_run *r, int force_full, int64_t not_claimed, const sim_completed *extra,
                            rt_error *e) {
    char buf[8192], path[SIM_PATH_MAX];
    size_t n = (size_t)snprintf(buf, sizeof buf, STORE_MAGIC " force_full=%d not_claimed=%" PRId64 "\n",
                                force_full, not_claimed);
    for (int i = 0; i <= r->n_done && n < sizeof buf; i++) {
        const sim_completed *c = i < r->n_done ? &r->done[i] : extra;
        if (c != NULL)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%" PRId64 " %d %d %s\n", c->id, c->owned, c->unclaimed,
                                  c->dir);
    }
    if (n + STORE_SUM_LEN >= sizeof buf) return RT_FAIL(e, RT_EINTERNAL, "completed store too large");
    n += (size_t)snprintf(buf + n, sizeof buf - n, STORE_SUM "%016" PRIx64 "\n", sim_checksum(buf, n));
    store_path(r, path, sizeof path);
    return rt_store_put(r->cfg.store, path, buf, n, e);
}

rt_err sim_coord_save_store(sim_run *r, rt_error *e) {
    return save_store_as(r, r->force_full, r->registry.highest_not_claimed, NULL, e);
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

/* The retained entry a restored snapshot becomes (nothing changes yet). */
static rt_err stage_entry(const sim_meta *m, const char *dir, int owned, int unclaimed, sim_completed *c,
                          rt_error *e) {
    memset(c, 0, sizeof *c);
    c->id = m->checkpoint_id;
    c->owned = owned;
    c->unclaimed = unclaimed;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    char meta_path[SIM_PATH_MAX + 16];
    snprintf(meta_path, sizeof meta_path, "%s/_metadata", dir);
    if (sim_meta_each_file(m, collect, c) || rt_strlist_push(&c->files, meta_path) != 0) {
        sim_completed_free(c);
        return RT_FAIL(e, RT_ENOMEM, "completed store: out of memory");
    }
    return RT_OK;
}

/* An unclaimed (NO_CLAIM, LEGACY) restore protects its files for good
 * (highest_not_claimed; FLINK-26985 forgot to). */
static int protects(const sim_run *r, const sim_completed *c) {
    return c->unclaimed && r->cfg.mutant != SIM_MUT_FLINK_26985;
}

/* registerAllAfterRestored and the entry into the retained list: fails
 * only out of memory. */
static rt_err apply_entry(sim_run *r, const sim_meta *m, sim_completed *c, rt_error *e) {
    /* registerAllAfterRestored; the strategy it was taken with is noted. */
    restored_reg rr = {r, c->id, RT_OK, e};
    rt_err rc = sim_meta_each_file(m, register_restored, &rr) ? rr.rc : RT_OK;
    if (rc == RT_OK) sim_registry_note_restored(&r->registry, c->id, strcmp(m->sharing, "NO_SHARING") == 0);
    /* The coordinator holds the snapshot's inlined state from now on. */
    if (rc == RT_OK) rc = sim_bytes_merge(&r->inline_pool, &m->inline_pool, e);
    if (rc == RT_OK) {
        sim_registry_confirm(&r->registry, c->id);
        if (protects(r, c)) sim_registry_set_not_claimed(&r->registry, c->id);
        rc = sim_coord_add_completed(r, c, e);
    }
    sim_completed_free(c);
    return rc;
}

rt_err sim_coord_adopt(sim_run *r, const sim_meta *m, const char *dir, int owned, int unclaimed, rt_error *e) {
    sim_completed c;
    rt_err rc = stage_entry(m, dir, owned, unclaimed, &c, e);
    return rc == RT_OK ? apply_entry(r, m, &c, e) : rc;
}

rt_err sim_coord_adopt_restored(sim_run *r, const sim_meta *m, const char *dir, int owned, int unclaimed,
                                int force_full, rt_error *e) {
    sim_completed c;
    rt_err rc = stage_entry(m, dir, owned, unclaimed, &c, e);
    if (rc != RT_OK) return rc;
    int64_t not_claimed = r->registry.highest_not_claimed;
    if (protects(r, &c) && c.id > not_claimed) not_claimed = c.id; /* as set_not_claimed will */
    rc = save_store_as(r, force_full, not_claimed, &c, e);
    if (rc != RT_OK) {
        sim_completed_free(&c); /* nothing changed: the store write came first */
        return rc;
    }
    r->force_full = force_full;
    if (m->checkpoint_id + 1 > r->next_cp) r->next_cp = m->checkpoint_id + 1;
    return apply_entry(r, m, &c, e);
}

/* One retained checkpoint back from its _metadata. */
void sim_coord_hold(sim_run *r, const char *dir, char *text, size_t len) {
    for (int i = 0; i < r->n_done && text; i++)
        if (strcmp(r->done[i].dir, dir) == 0 && r->done[i].held == NULL) {
            r->done[i].held = text;
            r->done[i].held_len = len;
            return;
        }
    free(text);
}

/* A recovering coordinator loads each retained checkpoint once
 * (DefaultCompletedCheckpointStoreUtils.retrieveCompletedCheckpoints) and
 * keeps what it read in memory. */
static rt_err load_one(sim_run *r, int64_t id, int owned, int unclaimed, const char *dir, rt_error *e) {
    sim_meta m;
    char *text = NULL;
    size_t len = 0;
    rt_err rc = sim_meta_load_in(r->cfg.meta_cache, &m, r->cfg.store, dir, &text, &len, e);
    if (rc != RT_OK) return rc;
    if (m.checkpoint_id != id)
        rc = RT_FAIL(e, RT_EFORMAT, "completed store names checkpoint %" PRId64 " at %s, which holds %" PRId64, id,
                     dir, m.checkpoint_id);
    if (rc == RT_OK) rc = sim_coord_adopt(r, &m, dir, owned, unclaimed, e);
    if (rc == RT_OK) sim_coord_hold(r, dir, text, len);
    else free(text);
    sim_meta_free(&m);
    return rc;
}

/* The text of a store without its checksum line, once the checksum holds. */
static rt_err check_sum(char *text, size_t *len, const char *path, rt_error *e) {
    if (strncmp(text, STORE_MAGIC " ", strlen(STORE_MAGIC) + 1) != 0)
        return RT_FAIL(e, RT_EFORMAT, "%s: not a completed-checkpoint store", path);
    uint64_t want = 0;
    char *sum = *len >= STORE_SUM_LEN ? text + *len - STORE_SUM_LEN : NULL;
    if (sum == NULL || (sum > text && sum[-1] != '\n') || strncmp(sum, STORE_SUM, strlen(STORE_SUM)) != 0 ||
        sscanf(sum + strlen(STORE_SUM), "%16" SCNx64, &want) != 1 || text[*len - 1] != '\n')
        return RT_FAIL(e, RT_ECHECKSUM, "%s: the completed-checkpoint store is cut short (no checksum line)", path);
    size_t body = (size_t)(sum - text);
    /* The line as the writer writes it, byte for byte: sscanf's %x also
     * takes "A" for "a", and a flipped bit that only changes a hex
     * digit's case would be read as the same sum (fuzz seed 22159). */
    char line[STORE_SUM_LEN + 1];
    snprintf(line, sizeof line, STORE_SUM "%016" PRIx64 "\n", want);
    if (sim_checksum(text, body) != want || memcmp(sum, line, STORE_SUM_LEN) != 0)
        return RT_FAIL(e, RT_ECHECKSUM, "%s: the completed-checkpoint store is damaged (checksum mismatch)", path);
    text[body] = '\0';
    *len = body;
    return RT_OK;
}

/* Parses a store's text (NUL-terminated, modified): its header and each
 * line, handed to fn in order; fn's error stops the walk. */
typedef rt_err (*store_line_fn)(void *ctx, const sim_store_entry *en, rt_error *e);

static rt_err parse_store(char *text, size_t len, const char *path, int *force_full, int64_t *not_claimed,
                          store_line_fn fn, void *ctx, rt_error *e) {
    rt_err rc = check_sum(text, &len, path, e);
    if (rc != RT_OK) return rc;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (line == NULL || sscanf(line, STORE_MAGIC " force_full=%d not_claimed=%" SCNd64, force_full, not_claimed) != 2)
        return RT_FAIL(e, RT_EFORMAT, "%s: not a completed-checkpoint store", path);
    while (rc == RT_OK && (line = strtok_r(NULL, "\n", &save)) != NULL) {
        sim_store_entry en;
        int used = 0;
        memset(&en, 0, sizeof en);
        if (sscanf(line, "%" SCNd64 " %d %d %n", &en.id, &en.owned, &en.unclaimed, &used) != 3 || used == 0 ||
            strlen(line + used) >= sizeof en.dir)
            return RT_FAIL(e, RT_EFORMAT, "%s: malformed line '%.200s'", path, line);
        memcpy(en.dir, line + used, strlen(line + used) + 1);
        rc = fn(ctx, &en, e);
    }
    return rc;
}

/* The store file as text (NUL-terminated, caller frees); *text NULL when
 * nothing was ever persisted. */
static rt_err read_store(const sim_run *r, char **text, size_t *len, rt_error *e) {
    char path[SIM_PATH_MAX];
    store_path(r, path, sizeof path);
    uint8_t *data = NULL;
    *text = NULL;
    *len = 0;
    rt_err rc = rt_store_get(r->cfg.store, path, &data, len, e);
    if (rc == RT_ENOENT) return RT_OK; /* nothing completed yet */
    if (rc != RT_OK) return rc;
    *text = realloc(data, *len + 1);
    if (*text == NULL) {
        free(data);
        return RT_FAIL(e, RT_ENOMEM, "completed store: out of memory");
    }
    (*text)[*len] = '\0';
    return RT_OK;
}

static rt_err adopt_line(void *ctx, const sim_store_entry *en, rt_error *e) {
    sim_run *r = ctx;
    rt_err rc = load_one(r, en->id, en->owned, en->unclaimed, en->dir, e);
    if (rc == RT_OK && en->id + 1 > r->next_cp) r->next_cp = en->id + 1;
    return rc;
}

rt_err sim_coord_load_store(sim_run *r, rt_error *e) {
    char *text = NULL, path[SIM_PATH_MAX];
    size_t len = 0;
    rt_err rc = read_store(r, &text, &len, e);
    if (rc != RT_OK || text == NULL) return rc;
    assert(r->n_done == 0); /* a fresh coordinator */
    assert(r->registry.n == 0);
    store_path(r, path, sizeof path);
    int force_full = 0;
    int64_t not_claimed = -1;
    rc = parse_store(text, len, path, &force_full, &not_claimed, adopt_line, r, e);
    /* Files of a snapshot restored without claim stay protected after the
     * snapshot itself left the retained list (the registry keeps the
     * highest id it is told). */
    if (rc == RT_OK) sim_registry_set_not_claimed(&r->registry, not_claimed);
    r->force_full = force_full;
    free(text);
    return rc;
}

typedef struct list_ctx {
    sim_store_entry *out;
    int cap, n;
} list_ctx;

static rt_err list_line(void *ctx, const sim_store_entry *en, rt_error *e) {
    list_ctx *l = ctx;
    if (l->n == l->cap) return RT_FAIL(e, RT_EINPUT, "completed store lists more than %d checkpoints", l->cap);
    l->out[l->n++] = *en;
    return RT_OK;
}

rt_err sim_run_read_store(const sim_run *r, sim_store_entry *out, int cap, int *n, rt_error *e) {
    assert(out != NULL);
    assert(n != NULL);
    assert(cap >= 0);
    *n = 0;
    char *text = NULL, path[SIM_PATH_MAX];
    size_t len = 0;
    rt_err rc = read_store(r, &text, &len, e);
    if (rc != RT_OK || text == NULL) return rc;
    store_path(r, path, sizeof path);
    int force_full = 0;
    int64_t not_claimed = -1;
    list_ctx l = {out, cap, 0};
    rc = parse_store(text, len, path, &force_full, &not_claimed, list_line, &l, e);
    free(text);
    *n = rc == RT_OK ? l.n : 0;
    return rc;
}
