/* fl_build: writes small _metadata files for tests, in Flink's layout
 * (big-endian, writeUTF strings), so that a test can state exactly which
 * handle, count or nesting the reader meets. Only what tests need: V3
 * bodies (no CheckpointProperties) and any bytes after the header. */
#ifndef FL_BUILD_H
#define FL_BUILD_H

#include <stddef.h>
#include <stdint.h>

#define FB_CAP 65536

typedef struct fb {
    uint8_t b[FB_CAP];
    size_t n;
} fb;

void fb_u8(fb *w, uint8_t v);
void fb_u16(fb *w, uint16_t v);
void fb_u32(fb *w, uint32_t v);
void fb_u64(fb *w, uint64_t v);
void fb_utf(fb *w, const char *s);
/* magic, version, checkpoint id 7, no master states, n_ops operators to follow */
void fb_header(fb *w, int version, uint32_t n_ops);
/* One operator (id from `seed`), parallelism 1, no coordinator state,
 * n_subtasks subtasks to follow. */
void fb_operator(fb *w, uint8_t seed, uint32_t n_subtasks);
/* Subtask `index` up to its managed keyed handle: no operator state; the
 * caller writes the keyed handle and then calls fb_subtask_end. */
void fb_subtask_begin(fb *w, int32_t index);
/* No raw keyed state, no channel state. */
void fb_subtask_end(fb *w);
/* A KeyGroupsStateHandle (type 3) of one key group; the caller writes its
 * stream handle next. */
void fb_key_groups(fb *w);
void fb_file_handle(fb *w, const char *path, uint64_t size);
void fb_relative_handle(fb *w, const char *path, uint64_t size);
/* Writes w to dir/_metadata (dir must exist); 0 on success. */
int fb_write(const fb *w, const char *dir);

#endif
