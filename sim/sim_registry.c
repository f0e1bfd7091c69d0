/* sim_registry: shared-state bookkeeping (see the header for the rule). */
#include "sim_registry.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_registry_init(sim_registry *r) {
    memset(r, 0, sizeof *r);
    r->highest_not_claimed = -1;
}

void sim_registry_free(sim_registry *r) {
    free(r->e);
    sim_registry_init(r);
}

/* Binary search; returns the index where key is or would be. */
static int find_slot(const sim_registry *r, const char *key, int *found) {
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(r->e[mid].key, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

const sim_registry_entry *sim_registry_find(const sim_registry *r, const char *key) {
    int found;
    int i = find_slot(r, key, &found);
    return found ? &r->e[i] : NULL;
}

const sim_registry_entry *sim_registry_find_path(const sim_registry *r, const char *path) {
    const sim_registry_entry *en = sim_registry_find(r, path);
    if (en != NULL && strcmp(en->path, path) == 0) return en;
    if (!r->keys_differ) return NULL;
    for (int i = 0; i < r->n; i++) /* bounded by the registry's size */
        if (strcmp(r->e[i].path, path) == 0) return &r->e[i];
    return NULL;
}

int sim_registry_is_confirmed(const sim_registry *r, const char *path) {
    const sim_registry_entry *en = sim_registry_find_path(r, path);
    return en != NULL && en->confirmed;
}

/* A new entry at slot i. */
static rt_err insert_at(sim_registry *r, int i, const char *key, const char *path, int64_t created_by, int64_t id,
                        rt_error *e) {
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        sim_registry_entry *ne = realloc(r->e, (size_t)cap * sizeof *ne);
        if (ne == NULL) return RT_FAIL(e, RT_ENOMEM, "registry: out of memory");
        r->e = ne;
        r->cap = cap;
    }
    memmove(&r->e[i + 1], &r->e[i], (size_t)(r->n - i) * sizeof r->e[0]);
    memset(&r->e[i], 0, sizeof r->e[i]);
    strcpy(r->e[i].key, key);
    strcpy(r->e[i].path, path);
    r->e[i].created_by = created_by;
    r->e[i].last_used = id;
    r->keys_differ |= strcmp(key, path) != 0;
    r->n++;
    /* Sorted by key (find_slot's binary search needs it). */
    assert(i == 0 || strcmp(r->e[i - 1].key, r->e[i].key) < 0);
    assert(i == r->n - 1 || strcmp(r->e[i].key, r->e[i + 1].key) < 0);
    return RT_OK;
}

static rt_err check_key(const char *key, const char *path, int64_t id, rt_error *e) {
    assert(key != NULL);
    assert(key[0] != '\0');
    assert(path != NULL);
    assert(path[0] != '\0');
    assert(id >= 0);
    if (strlen(key) >= sizeof ((sim_registry_entry *)0)->key || strlen(path) >= sizeof ((sim_registry_entry *)0)->path)
        return RT_FAIL(e, RT_EINTERNAL, "registry: path too long: %s", path);
    return RT_OK;
}

rt_err sim_registry_register(sim_registry *r, const char *key, const char *path, int64_t id, int64_t created_by,
                             rt_error *e) {
    if (key == NULL) key = path;
    rt_err rc = check_key(key, path, id, e);
    if (rc != RT_OK) return rc;
    int found;
    int i = find_slot(r, key, &found);
    if (found) {
        if (id > r->e[i].last_used) r->e[i].last_used = id;
        return RT_OK;
    }
    return insert_at(r, i, key, path, created_by > 0 && created_by < id ? created_by : id, id, e);
}

static int same_handle(const sim_registry_entry *en, const sim_file_ref *f) {
    if (strcmp(en->path, f->path) != 0) return 0;
    return (en->size == 0 && en->xxh3 == 0) || (en->size == f->size && en->xxh3 == f->xxh3);
}

static void set_handle(sim_registry_entry *en, const sim_file_ref *f) {
    strcpy(en->path, f->path);
    en->size = f->size;
    en->xxh3 = f->xxh3;
    en->type = f->type;
}

/* What the caller's handle becomes: the registered one (only ever another
 * file when two handles met under one key). */
static void take_registered(const sim_registry_entry *en, sim_file_ref *f) {
    if (strcmp(en->path, f->path) == 0) return;
    strcpy(f->path, en->path);
    f->size = en->size;
    f->xxh3 = en->xxh3;
    f->type = en->type;
    f->created_by = en->created_by;
}

static void set_discard(char *discard, size_t cap, const char *path) {
    if (discard != NULL && cap > 0) snprintf(discard, cap, "%s", path);
}

rt_err sim_registry_register_ref(sim_registry *r, const char *key, sim_file_ref *f, int64_t id,
                                 sim_reg_outcome *out, char *discard, size_t cap, rt_error *e) {
    if (key == NULL) key = f->path;
    set_discard(discard, cap, "");
    rt_err rc = check_key(key, f->path, id, e);
    if (rc != RT_OK) return rc;
    int found;
    int i = find_slot(r, key, &found);
    if (!found) {
        if (f->created_by < id) /* a placeholder: it must name a registered upload */
            return RT_FAIL(e, RT_EINTERNAL, "registry: checkpoint %lld references unknown state %s",
                           (long long)id, f->path);
        rc = insert_at(r, i, key, f->path, id, id, e);
        if (rc == RT_OK) set_handle(&r->e[i], f);
        if (out) *out = SIM_REG_NEW;
        return rc;
    }
    sim_registry_entry *en = &r->e[i];
    sim_reg_outcome what = SIM_REG_REUSED;
    if (!same_handle(en, f)) {
        /* Another handle under the key. Unconfirmed, the old one is a
         * leftover of a failed attempt (a re-upload after a failover): the
         * new one wins and the old is discarded. Confirmed, the old one is
         * in a completed checkpoint: it stays and the new one is discarded.
         * Under one path (the same file written again) nothing is. */
        what = en->confirmed ? SIM_REG_KEPT : SIM_REG_REPLACED;
        int other = strcmp(en->path, f->path) != 0;
        if (other) set_discard(discard, cap, en->confirmed ? f->path : en->path);
        if (!en->confirmed) set_handle(en, f);
    }
    take_registered(en, f);
    if (id > en->last_used) en->last_used = id;
    if (out) *out = what;
    return RT_OK;
}

void sim_registry_confirm(sim_registry *r, int64_t id) {
    for (int i = 0; i < r->n; i++)
        if (r->e[i].last_used == id) r->e[i].confirmed = 1;
}

static rt_err drop_where(sim_registry *r, int (*pred)(const sim_registry_entry *, int64_t),
                         int64_t arg, rt_strlist *to_delete, rt_error *e) {
    int w = 0;
    for (int i = 0; i < r->n; i++) {
        const sim_registry_entry *en = &r->e[i];
        if (!pred(en, arg)) {
            r->e[w++] = r->e[i];
            continue;
        }
        /* Only files created after the last unclaimed restore are ours. */
        if (en->created_by > r->highest_not_claimed && to_delete != NULL)
            if (rt_strlist_push(to_delete, en->path) != 0)
                return RT_FAIL(e, RT_ENOMEM, "registry: out of memory");
    }
    r->n = w;
    return RT_OK;
}

static int unused_before(const sim_registry_entry *en, int64_t lowest) {
    return en->last_used < lowest;
}

rt_err sim_registry_unregister_unused(sim_registry *r, int64_t lowest_retained,
                                      rt_strlist *to_delete, rt_error *e) {
    return drop_where(r, unused_before, lowest_retained, to_delete, e);
}

void sim_registry_set_not_claimed(sim_registry *r, int64_t id) {
    if (id > r->highest_not_claimed) r->highest_not_claimed = id;
}

void sim_registry_note_restored(sim_registry *r, int64_t id, int no_sharing) {
    if (!no_sharing) return;
    for (int i = 0; i < r->n_restored_no_sharing; i++)
        if (r->restored_no_sharing[i] == id) return;
    /* Bounded: restores of one coordinator; the oldest is forgotten. */
    if (r->n_restored_no_sharing == SIM_REGISTRY_MAX_RESTORED) {
        memmove(&r->restored_no_sharing[0], &r->restored_no_sharing[1],
                (SIM_REGISTRY_MAX_RESTORED - 1) * sizeof r->restored_no_sharing[0]);
        r->n_restored_no_sharing--;
    }
    r->restored_no_sharing[r->n_restored_no_sharing++] = id;
}

int sim_registry_in_use(const sim_registry *r, int64_t id) {
    int restored = 0;
    for (int i = 0; i < r->n_restored_no_sharing; i++) restored |= r->restored_no_sharing[i] == id;
    if (!restored) return 0;
    for (int i = 0; i < r->n; i++)
        if (r->e[i].created_by == id) return 1;
    return 0;
}
