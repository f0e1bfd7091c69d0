/* sim_buf: a growable byte buffer for writing the binary snapshot formats,
 * and a bounds-checked reader for loading them: every short read becomes
 * one RT_EFORMAT naming the file, never a read past the end. */
#ifndef SIM_BUF_H
#define SIM_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"
#include "sim_state.h"

typedef struct sim_buf {
    uint8_t *data;
    size_t len, cap;
    int oom; /* sticky: set by the first failed allocation */
} sim_buf;

void sim_buf_init(sim_buf *b);
void sim_buf_free(sim_buf *b);
/* Grows the capacity to at least cap bytes (one allocation for a writer
 * that knows its size). */
void sim_buf_reserve(sim_buf *b, size_t cap);
void sim_buf_bytes(sim_buf *b, const void *p, size_t n);
void sim_buf_u8(sim_buf *b, uint8_t x);
void sim_buf_u32(sim_buf *b, uint32_t x);
void sim_buf_u64(sim_buf *b, uint64_t x);
void sim_buf_str(sim_buf *b, const char *s);
void sim_buf_schema(sim_buf *b, const sim_state_desc *d);
/* Appends the xxh3 of everything so far: the trailing checksum. */
void sim_buf_seal(sim_buf *b);

typedef struct sim_reader {
    const uint8_t *p;
    size_t len, at;
    const char *what; /* file name for messages */
    int bad;
} sim_reader;

/* Checks the trailing checksum and the magic; on success the reader is
 * positioned after the magic and its length excludes the checksum. */
rt_err sim_reader_open(sim_reader *r, const uint8_t *p, size_t len, const char *magic,
                       const char *what, rt_error *e);
uint8_t sim_read_u8(sim_reader *r);
uint32_t sim_read_u32(sim_reader *r);
uint64_t sim_read_u64(sim_reader *r);
const uint8_t *sim_read_bytes(sim_reader *r, size_t n);
void sim_read_str(sim_reader *r, char *out, size_t cap);
void sim_read_schema(sim_reader *r, sim_state_desc *d);
/* RT_EFORMAT if any read ran short or a value was out of range. */
rt_err sim_reader_check(const sim_reader *r, rt_error *e);

struct sim_backend;
struct sim_snap_ctx;
struct sim_keyed_handle;
/* Uploads a one-file snapshot of backend b (<dir>/<prefix>.<suffix>) and
 * fills out with its format, key groups and schemas. */
rt_err sim_upload_buffer(struct sim_snap_ctx *ctx, const struct sim_backend *b, const sim_buf *buf,
                         const char *format, const char *suffix, struct sim_keyed_handle *out, rt_error *e);

#endif
