/* fl_cursor: reading what Java's DataOutputStream wrote (big-endian
 * integers, writeUTF's modified UTF-8 with a 2-byte length) from a bounded
 * buffer, and the arena the parsed structures live in. Every read checks
 * the bytes left first; the first short or malformed read is one
 * RT_EFORMAT naming what was read and at which offset, and every later
 * read of the same cursor fails at once (a sticky error), so callers may
 * check after a group of reads. Nothing here knows Flink's classes. */
#ifndef FL_CURSOR_H
#define FL_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"

/* All memory of one parse, freed at once. The total is capped so that a
 * hostile count cannot make the parser allocate without bound. */
typedef struct fl_arena {
    struct fl_chunk *chunks;
    size_t used_bytes;
    size_t cap_bytes;
} fl_arena;

void fl_arena_init(fl_arena *a, size_t cap_bytes);
/* Zeroed memory, aligned for any type; NULL when the cap would be passed
 * or malloc fails. */
void *fl_arena_alloc(fl_arena *a, size_t n);
void fl_arena_free(fl_arena *a);

typedef struct fl_cursor {
    const uint8_t *data;
    size_t len;
    size_t pos;
    const char *file; /* names the input in messages ("_metadata") */
    fl_arena *arena;
    rt_error *e;
    rt_err failed; /* sticky: RT_OK until the first failure */
} fl_cursor;

void fl_cursor_init(fl_cursor *c, const uint8_t *data, size_t len, const char *file, fl_arena *arena,
                    rt_error *e);
size_t fl_left(const fl_cursor *c);
/* Fails the cursor (the first failure sticks) with a printf-style message
 * after the input's name; messages name the offset. Returns the code. */
rt_err fl_fail(fl_cursor *c, rt_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

rt_err fl_u8(fl_cursor *c, const char *what, uint8_t *out);
rt_err fl_i8(fl_cursor *c, const char *what, int8_t *out);
rt_err fl_bool(fl_cursor *c, const char *what, int *out);
rt_err fl_i16(fl_cursor *c, const char *what, int16_t *out);
rt_err fl_u16(fl_cursor *c, const char *what, uint16_t *out);
rt_err fl_i32(fl_cursor *c, const char *what, int32_t *out);
rt_err fl_i64(fl_cursor *c, const char *what, int64_t *out);
/* n raw bytes, returned in place (not copied). */
rt_err fl_bytes(fl_cursor *c, const char *what, size_t n, const uint8_t **out);
/* A count written as a Java int: negative is an error, and each element
 * takes at least min_bytes, so a count the bytes left cannot hold is
 * refused before anything is allocated for it. */
rt_err fl_count(fl_cursor *c, const char *what, size_t min_bytes, uint32_t *out);
/* writeUTF: a 2-byte length and modified UTF-8, checked as
 * DataInputStream.readUTF checks it; copied into the arena as a C string
 * (a NUL byte inside is refused). */
rt_err fl_utf(fl_cursor *c, const char *what, const char **out);
/* The same string bytes of an n-byte body (Java serialization's long
 * strings use an 8-byte length). */
rt_err fl_utf_body(fl_cursor *c, const char *what, size_t n, const char **out);

/* s as one printable line for a message: control bytes (a newline in a
 * path read from _metadata) become \xNN, and it is cut to fit cap. */
const char *fl_printable(const char *s, char *buf, size_t cap);

/* Memory from the cursor's arena; fails the cursor (RT_ENOMEM naming the
 * cap) when there is none. */
void *fl_alloc(fl_cursor *c, size_t n);

#endif
