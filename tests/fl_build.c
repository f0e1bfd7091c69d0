/* fl_build: the test-side _metadata writer (see the header). */
#include "fl_build.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void fb_u8(fb *w, uint8_t v) {
    assert(w->n < FB_CAP);
    w->b[w->n++] = v;
}

void fb_u16(fb *w, uint16_t v) {
    fb_u8(w, (uint8_t)(v >> 8));
    fb_u8(w, (uint8_t)v);
}

void fb_u32(fb *w, uint32_t v) {
    fb_u16(w, (uint16_t)(v >> 16));
    fb_u16(w, (uint16_t)v);
}

void fb_u64(fb *w, uint64_t v) {
    fb_u32(w, (uint32_t)(v >> 32));
    fb_u32(w, (uint32_t)v);
}

void fb_utf(fb *w, const char *s) {
    size_t n = strlen(s);
    assert(n < 65536);
    fb_u16(w, (uint16_t)n);
    for (size_t i = 0; i < n; i++) fb_u8(w, (uint8_t)s[i]);
}

void fb_header(fb *w, int version, uint32_t n_ops) {
    w->n = 0;
    fb_u32(w, 0x4960672dU);
    fb_u32(w, (uint32_t)version);
    fb_u64(w, 7);
    fb_u32(w, 0);
    fb_u32(w, n_ops);
}

void fb_operator(fb *w, uint8_t seed, uint32_t n_subtasks) {
    for (int i = 0; i < 16; i++) fb_u8(w, (uint8_t)(seed + i));
    fb_u32(w, 1);
    fb_u32(w, 128);
    fb_u8(w, 0);
    fb_u32(w, n_subtasks);
}

void fb_subtask_begin(fb *w, int32_t index) {
    fb_u32(w, (uint32_t)index);
    fb_u32(w, 0);
    fb_u32(w, 0);
}

void fb_subtask_end(fb *w) {
    fb_u8(w, 0);
    fb_u32(w, 0);
    fb_u32(w, 0);
}

void fb_key_groups(fb *w) {
    fb_u8(w, 3);
    fb_u32(w, 0);
    fb_u32(w, 1);
    fb_u64(w, 0);
}

void fb_file_handle(fb *w, const char *path, uint64_t size) {
    fb_u8(w, 2);
    fb_u64(w, size);
    fb_utf(w, path);
}

void fb_relative_handle(fb *w, const char *path, uint64_t size) {
    fb_u8(w, 6);
    fb_utf(w, path);
    fb_u64(w, size);
}

int fb_write(const fb *w, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    FILE *out = fopen(path, "wb");
    if (out == NULL) return -1;
    size_t put = fwrite(w->b, 1, w->n, out);
    return fclose(out) == 0 && put == w->n ? 0 : -1;
}
