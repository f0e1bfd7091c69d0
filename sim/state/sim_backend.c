/* sim_backend: the parts of the backend interface every backend shares:
 * creation by name and the single upload path with checksums. */
#include "sim_backend.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

const char *sim_sharing_name(sim_sharing s) {
    switch (s) {
    case SIM_SHARE_FORWARD_BACKWARD: return "FORWARD_BACKWARD";
    case SIM_SHARE_FORWARD: return "FORWARD";
    case SIM_SHARE_NO_SHARING: return "NO_SHARING";
    }
    return "?";
}

rt_err sim_backend_create(sim_backend **out, const sim_backend_config *cfg, rt_error *e) {
    assert(cfg != NULL);
    assert(cfg->kind != NULL);
    assert(cfg->kg_lo <= cfg->kg_hi);
    rt_err rc;
    if (strcmp(cfg->kind, "heap") == 0) rc = sim_backend_heap_create(out, cfg, e);
    else if (strcmp(cfg->kind, "rocksdb") == 0) rc = sim_backend_rocksdb_create(out, cfg, e);
    else return RT_FAIL(e, RT_EUSAGE, "unknown state backend '%s' (known: heap, rocksdb)", cfg->kind);
    if (rc == RT_OK) {
        (*out)->key_type = cfg->key_type;
        (*out)->bugs = cfg->bugs;
    }
    return rc;
}

void sim_backend_destroy(sim_backend *b) {
    if (b != NULL) b->ops->destroy(b);
}

uint64_t sim_checksum(const void *data, size_t len) { return XXH3_64bits(data, len); }

rt_err sim_upload(sim_snap_ctx *ctx, const char *path, const void *data, size_t len,
                  sim_file_ref *f, rt_error *e) {
    assert(ctx->store != NULL);
    if (strlen(path) >= sizeof f->path)
        return RT_FAIL(e, RT_EINTERNAL, "upload: path too long: %s", path);
    memset(f, 0, sizeof *f);
    strcpy(f->path, path);
    f->size = len;
    f->xxh3 = sim_checksum(data, len);
    f->created_by = ctx->checkpoint_id;
    if (ctx->inline_pool != NULL && ctx->memory_threshold > 0 && len <= ctx->memory_threshold) {
        f->type = SIM_HANDLE_BYTES; /* a ByteStreamStateHandle named after the path */
        return sim_bytes_put(ctx->inline_pool, path, data, len, e);
    }
    rt_err rc = rt_store_put(ctx->store, path, data, len, e);
    if (rc != RT_OK) return rc;
    /* Shared scope is written absolute; the exclusive scope relative. */
    int exclusive = sim_path_under(path, ctx->dir) && !sim_path_under(path, ctx->shared_dir);
    f->type = exclusive ? SIM_HANDLE_RELATIVE : SIM_HANDLE_FILE;
    ctx->files_written++;
    ctx->bytes_written += len;
    return RT_OK;
}
