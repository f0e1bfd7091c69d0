/* sim_registry: shared-state bookkeeping (see the header for the rule). */
#include "sim_registry.h"

#include <assert.h>
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

/* Binary search; returns the index where path is or would be. */
static int find_slot(const sim_registry *r, const char *path, int *found) {
    int lo = 0, hi = r->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(r->e[mid].path, path);
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

const sim_registry_entry *sim_registry_find(const sim_registry *r, const char *path) {
    int found;
    int i = find_slot(r, path, &found);
    return found ? &r->e[i] : NULL;
}

int sim_registry_is_confirmed(const sim_registry *r, const char *path) {
    const sim_registry_entry *en = sim_registry_find(r, path);
    return en != NULL && en->confirmed;
}

rt_err sim_registry_register(sim_registry *r, const char *path, int64_t id, int64_t created_by, rt_error *e) {
    assert(path != NULL && path[0] != '\0');
    assert(id >= 0);
    if (strlen(path) >= sizeof r->e[0].path)
        return RT_FAIL(e, RT_EINTERNAL, "registry: path too long: %s", path);
    int found;
    int i = find_slot(r, path, &found);
    if (found) {
        if (id > r->e[i].last_used) r->e[i].last_used = id;
        return RT_OK;
    }
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        sim_registry_entry *ne = realloc(r->e, (size_t)cap * sizeof *ne);
        if (ne == NULL) return RT_FAIL(e, RT_ENOMEM, "registry: out of memory");
        r->e = ne;
        r->cap = cap;
    }
    memmove(&r->e[i + 1], &r->e[i], (size_t)(r->n - i) * sizeof r->e[0]);
    memset(&r->e[i], 0, sizeof r->e[i]);
    strcpy(r->e[i].path, path);
    r->e[i].created_by = created_by > 0 && created_by < id ? created_by : id;
    r->e[i].last_used = id;
    r->e[i].confirmed = 0;
    r->n++;
    return RT_OK;
}

void sim_registry_confirm(sim_registry *r, int64_t id) {
    for (int i = 0; i < r->n; i++)
        if (r->e[i].created_by <= id && r->e[i].last_used >= id) r->e[i].confirmed = 1;
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
