/* sim_handle: keyed-state handles (see sim_handle.h). */
#include "sim_handle.h"

#include <stdlib.h>
#include <string.h>

int sim_handle_is_key_groups(const sim_keyed_handle *h) {
    return strcmp(h->format, "heap-native") == 0 || strcmp(h->format, SIM_FORMAT_KEY_GROUPS) == 0;
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
