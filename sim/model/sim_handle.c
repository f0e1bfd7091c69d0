/* sim_handle: keyed-state handles and inlined bytes (see sim_handle.h). */
#include "sim_handle.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int sim_format_is_key_groups(const char *format) {
    return strcmp(format, "heap-native") == 0 || strcmp(format, SIM_FORMAT_KEY_GROUPS) == 0;
}

int sim_handle_is_key_groups(const sim_keyed_handle *h) { return sim_format_is_key_groups(h->format); }

rt_err sim_handle_check_reader(const char *reader, const char *format, const char *writer, rt_error *e) {
    if (strcmp(format, SIM_FORMAT_CANONICAL) == 0) return RT_OK;
    return sim_handle_check_native_reader(reader, format, writer, e);
}

rt_err sim_handle_check_native_reader(const char *reader, const char *format, const char *writer, rt_error *e) {
    if (sim_format_is_key_groups(format)) return RT_OK;
    if (strcmp(reader, "heap") == 0)
        return RT_FAIL(e, RT_EBACKEND,
                       "snapshot holds %s state written by the %s backend; the heap backend "
                       "reads only key-group streams (its own) or the canonical format",
                       format, writer);
    if (strcmp(format, SIM_FORMAT_ROCKSDB_NATIVE) == 0) return RT_OK;
    return RT_FAIL(e, RT_EBACKEND,
                   "snapshot holds %s state (written by the %s backend); the %s backend cannot read it",
                   format, writer[0] ? writer : "unknown", reader);
}

static const char *const type_names[] = {"absolute", "relative", "inlined"};

const char *sim_handle_type_name(sim_handle_type t) { return (unsigned)t < 3 ? type_names[t] : "?"; }

int sim_handle_type_parse(const char *s, sim_handle_type *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (sim_handle_type)i;
            return 0;
        }
    return -1;
}

const char *sim_file_ref_name(const sim_file_ref *f) {
    const char *slash = strrchr(f->path, '/');
    return slash ? slash + 1 : f->path;
}

int sim_path_under(const char *path, const char *dir) {
    if (dir == NULL || dir[0] == '\0') return 0;
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

void sim_handle_init(sim_keyed_handle *h) { memset(h, 0, sizeof *h); }

void sim_handle_free(sim_keyed_handle *h) {
    free(h->files);
    sim_handle_init(h);
}

rt_err sim_handle_add_file(sim_keyed_handle *h, const sim_file_ref *f, rt_error *e) {
    if (h->n_files == h->cap_files) {
        int cap = h->cap_files ? h->cap_files * 2 : 8;
        sim_file_ref *nf = realloc(h->files, (size_t)cap * sizeof *nf);
        if (nf == NULL) return RT_FAIL(e, RT_ENOMEM, "handle: out of memory");
        h->files = nf;
        h->cap_files = cap;
    }
    h->files[h->n_files++] = *f;
    return RT_OK;
}

rt_err sim_handle_copy(sim_keyed_handle *dst, const sim_keyed_handle *src, rt_error *e) {
    *dst = *src;
    dst->files = NULL;
    dst->n_files = dst->cap_files = 0;
    for (int i = 0; i < src->n_files; i++) {
        rt_err rc = sim_handle_add_file(dst, &src->files[i], e);
        if (rc != RT_OK) {
            sim_handle_free(dst);
            return rc;
        }
    }
    return RT_OK;
}

int sim_handle_is_one_stream(const sim_keyed_handle *h) { return strcmp(h->format, "rocksdb-native") != 0; }

/* ---- inlined bytes ---- */

void sim_bytes_init(sim_bytes_pool *p) { memset(p, 0, sizeof *p); }

void sim_bytes_free(sim_bytes_pool *p) {
    for (int i = 0; i < p->n; i++) free(p->e[i].data);
    free(p->e);
    sim_bytes_init(p);
}

/* Binary search: where name is or would be. */
static int slot(const sim_bytes_pool *p, const char *name, int *found) {
    int lo = 0, hi = p->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(p->e[mid].name, name);
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

rt_err sim_bytes_put(sim_bytes_pool *p, const char *name, const void *data, size_t len, rt_error *e) {
    assert(name != NULL);
    assert(data != NULL);
    if (strlen(name) >= SIM_PATH_MAX) return RT_FAIL(e, RT_EINTERNAL, "inlined state: name too long: %s", name);
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL) return RT_FAIL(e, RT_ENOMEM, "inlined state: out of memory");
    memcpy(copy, data, len);
    int found;
    int i = slot(p, name, &found);
    if (found) {
        free(p->e[i].data);
        p->e[i].data = copy;
        p->e[i].len = len;
        return RT_OK;
    }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        sim_bytes_entry *ne = realloc(p->e, (size_t)cap * sizeof *ne);
        if (ne == NULL) {
            free(copy);
            return RT_FAIL(e, RT_ENOMEM, "inlined state: out of memory");
        }
        p->e = ne;
        p->cap = cap;
    }
    memmove(&p->e[i + 1], &p->e[i], (size_t)(p->n - i) * sizeof p->e[0]);
    strcpy(p->e[i].name, name);
    p->e[i].data = copy;
    p->e[i].len = len;
    p->n++;
    return RT_OK;
}

const sim_bytes_entry *sim_bytes_get(const sim_bytes_pool *p, const char *name) {
    int found;
    int i = slot(p, name, &found);
    return found ? &p->e[i] : NULL;
}

static void remove_at(sim_bytes_pool *p, int i) {
    free(p->e[i].data);
    memmove(&p->e[i], &p->e[i + 1], (size_t)(p->n - i - 1) * sizeof p->e[0]);
    p->n--;
}

int sim_bytes_drop(sim_bytes_pool *p, const char *name) {
    int found;
    int i = slot(p, name, &found);
    if (found) remove_at(p, i);
    return found;
}

void sim_bytes_drop_under(sim_bytes_pool *p, const char *dir) {
    for (int i = p->n - 1; i >= 0; i--)
        if (sim_path_under(p->e[i].name, dir)) remove_at(p, i);
}

rt_err sim_bytes_merge(sim_bytes_pool *dst, const sim_bytes_pool *src, rt_error *e) {
    for (int i = 0; i < src->n; i++) {
        rt_err rc = sim_bytes_put(dst, src->e[i].name, src->e[i].data, src->e[i].len, e);
        if (rc != RT_OK) return rc;
    }
    return RT_OK;
}
