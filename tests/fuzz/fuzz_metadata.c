/* fuzz_metadata: the libFuzzer target of flink/fl_meta.c (`make
 * fuzz-metadata`, built with clang -fsanitize=fuzzer,address,undefined).
 * Any input must end in a parsed snapshot or one named error; a parsed
 * one is walked completely (every stream handle, every keyed handle, the
 * properties), so that a structure the parser built wrongly is read by
 * ASan too. The seeds are real Flink _metadata files (tests/fixtures/flink)
 * and small hand-made ones; tests/fuzz/metadata-corpus/ is the committed,
 * minimized corpus. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fl_meta.h"

static size_t sink;

static int touch_keyed(void *ctx, const fl_operator *op, const fl_subtask *st, const fl_keyed *k) {
    (void)ctx;
    sink += strlen(op->id) + (size_t)st->index + (size_t)k->kg_count + k->n_shared + k->n_private;
    for (uint32_t i = 0; i < k->n_shared; i++) sink += strlen(k->shared[i].local_path);
    for (uint32_t i = 0; i < k->n_private; i++) sink += strlen(k->private_state[i].local_path);
    if (k->state_handle_id) sink += strlen(k->state_handle_id);
    if (k->backend_id) sink += strlen(k->backend_id);
    return 0;
}

static void walk(const fl_meta *m) {
    for (const fl_stream *h = m->streams; h; h = h->next) {
        const char *cls = fl_handle_class(h->type);
        assert(cls != NULL);
        sink += strlen(cls) + strlen(fl_path_kind_name(h->kind)) + strlen(h->role);
        if (h->path) sink += strlen(h->path);
        if (h->local_path) sink += strlen(h->local_path);
        for (uint32_t i = 0; i < h->n_bytes; i++) sink += h->bytes[i];
    }
    for (uint32_t o = 0; o < m->n_ops; o++) {
        const fl_operator *op = &m->ops[o];
        if (op->uid) sink += strlen(op->uid);
        if (op->name) sink += strlen(op->name);
        for (uint32_t s = 0; s < op->n_subtasks; s++) {
            const fl_subtask *st = &op->subtasks[s];
            const fl_op_state *ops[2] = {st->managed_op, st->raw_op};
            for (int k = 0; k < 2; k++)
                for (uint32_t i = 0; ops[k] && i < ops[k]->n_states; i++) sink += strlen(ops[k]->states[i].name);
            for (uint32_t i = 0; i < st->n_input; i++) sink += (size_t)st->input[i].size;
            for (uint32_t i = 0; i < st->n_output; i++) sink += (size_t)st->output[i].size;
        }
    }
    fl_meta_each_keyed(m, touch_keyed, NULL);
    for (int i = 0; i < m->props.raw.n_pairs; i++)
        sink += strlen(m->props.raw.pairs[i].path) + strlen(m->props.raw.pairs[i].value);
    assert(m->arena.used_bytes <= m->arena.cap_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fl_meta m;
    rt_error e;
    rt_error_clear(&e);
    if (fl_meta_parse(&m, data, size, "_metadata", &e) == RT_OK) {
        walk(&m);
        fl_meta_free(&m);
        return 0;
    }
    /* a named error: a format or version error with a message */
    if (!(e.code == RT_EFORMAT || e.code == RT_EVERSION) || e.msg[0] == '\0' || strchr(e.msg, '\n')) abort();
    return 0;
}
