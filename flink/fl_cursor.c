/* fl_cursor: the bounded big-endian reader and the capped arena (see the
 * header). Pure: bytes in, values out; it never reads past len. */
#include "fl_cursor.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FL_CHUNK_BYTES (64u * 1024u)

typedef struct fl_chunk {
    struct fl_chunk *next;
    size_t size, used;
    max_align_t data[]; /* aligned for any type */
} fl_chunk;

void fl_arena_init(fl_arena *a, size_t cap_bytes) {
    assert(a != NULL);
    a->chunks = NULL;
    a->used_bytes = 0;
    a->cap_bytes = cap_bytes;
}

void *fl_arena_alloc(fl_arena *a, size_t n) {
    assert(a != NULL);
    size_t align = sizeof(max_align_t);
    size_t need = n == 0 ? align : (n + align - 1) / align * align;
    if (need < n || need > a->cap_bytes - a->used_bytes || a->used_bytes > a->cap_bytes) return NULL;
    fl_chunk *c = a->chunks;
    if (c == NULL || c->size - c->used < need) {
        size_t size = need > FL_CHUNK_BYTES ? need : FL_CHUNK_BYTES;
        c = malloc(sizeof *c + size);
        if (c == NULL) return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->chunks;
        a->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += need;
    a->used_bytes += need;
    memset(p, 0, n);
    assert(c->used <= c->size);
    return p;
}

void fl_arena_free(fl_arena *a) {
    if (a == NULL) return;
    while (a->chunks) {
        fl_chunk *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
    a->used_bytes = 0;
}

void fl_cursor_init(fl_cursor *c, const uint8_t *data, size_t len, const char *file, fl_arena *arena,
                    rt_error *e) {
    assert(c != NULL);
    assert(data != NULL || len == 0);
    c->data = data;
    c->len = len;
    c->pos = 0;
    c->file = file ? file : "_metadata";
    c->arena = arena;
    c->e = e;
    c->failed = RT_OK;
}

size_t fl_left(const fl_cursor *c) { return c->len - c->pos; }

rt_err fl_fail(fl_cursor *c, rt_err code, const char *fmt, ...) {
    assert(code != RT_OK);
    if (c->failed != RT_OK) return c->failed; /* the first failure names the problem */
    char msg[RT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->failed = code;
    return RT_FAIL(c->e, code, "%s: %s", c->file, msg);
}

/* Room for n more bytes, or the cursor fails naming what needed them. */
static rt_err need(fl_cursor *c, const char *what, size_t n) {
    if (c->failed != RT_OK) return c->failed;
    if (n <= fl_left(c)) return RT_OK;
    return fl_fail(c, RT_EFORMAT, "truncated at offset %zu: %s needs %zu bytes, %zu left", c->pos, what, n,
                   fl_left(c));
}

static uint64_t load_be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static rt_err read_be(fl_cursor *c, const char *what, int n, uint64_t *out) {
    rt_err rc = need(c, what, (size_t)n);
    if (rc != RT_OK) return rc;
    *out = load_be(c->data + c->pos, n);
    c->pos += (size_t)n;
    return RT_OK;
}

rt_err fl_u8(fl_cursor *c, const char *what, uint8_t *out) {
    uint64_t v = 0;
    rt_err rc = read_be(c, what, 1, &v);
    *out = (uint8_t)v;
    return rc;
}

rt_err fl_i8(fl_cursor *c, const char *what, int8_t *out) {
    uint8_t v = 0;
    rt_err rc = fl_u8(c, what, &v);
    *out = (int8_t)v;
    return rc;
}

rt_err fl_bool(fl_cursor *c, const char *what, int *out) {
    uint8_t v = 0;
    rt_err rc = fl_u8(c, what, &v);
    *out = v != 0; /* DataInputStream.readBoolean: any non-zero byte */
    return rc;
}

rt_err fl_u16(fl_cursor *c, const char *what, uint16_t *out) {
    uint64_t v = 0;
    rt_err rc = read_be(c, what, 2, &v);
    *out = (uint16_t)v;
    return rc;
}

rt_err fl_i16(fl_cursor *c, const char *what, int16_t *out) {
    uint16_t v = 0;
    rt_err rc = fl_u16(c, what, &v);
    *out = (int16_t)v;
    return rc;
}

rt_err fl_i32(fl_cursor *c, const char *what, int32_t *out) {
    uint64_t v = 0;
    rt_err rc = read_be(c, what, 4, &v);
    *out = (int32_t)(uint32_t)v;
    return rc;
}

rt_err fl_i64(fl_cursor *c, const char *what, int64_t *out) {
    uint64_t v = 0;
    rt_err rc = read_be(c, what, 8, &v);
    *out = (int64_t)v;
    return rc;
}

rt_err fl_bytes(fl_cursor *c, const char *what, size_t n, const uint8_t **out) {
    rt_err rc = need(c, what, n);
    if (rc != RT_OK) return rc;
    *out = c->data + c->pos;
    c->pos += n;
    return RT_OK;
}

rt_err fl_count(fl_cursor *c, const char *what, size_t min_bytes, uint32_t *out) {
    size_t at = c->pos;
    int32_t n = 0;
    rt_err rc = fl_i32(c, what, &n);
    if (rc != RT_OK) return rc;
    if (n < 0) return fl_fail(c, RT_EFORMAT, "offset %zu: %s is negative (%d)", at, what, (int)n);
    assert(min_bytes > 0);
    if ((size_t)n > fl_left(c) / min_bytes)
        return fl_fail(c, RT_EFORMAT, "offset %zu: %s is %d, more than the %zu bytes left can hold", at, what,
                       (int)n, fl_left(c));
    *out = (uint32_t)n;
    return RT_OK;
}

const char *fl_printable(const char *s, char *buf, size_t cap) {
    assert(buf != NULL);
    assert(cap >= 8);
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && n + 5 < cap; p++) {
        if (*p < 0x20 || *p == 0x7f) n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", *p);
        else buf[n++] = (char)*p;
    }
    buf[n] = '\0';
    return buf;
}

void *fl_alloc(fl_cursor *c, size_t n) {
    if (c->failed != RT_OK) return NULL;
    void *p = fl_arena_alloc(c->arena, n);
    if (p == NULL)
        fl_fail(c, RT_ENOMEM, "offset %zu: out of memory (the parse may use at most %zu bytes)", c->pos,
                c->arena->cap_bytes);
    return p;
}

/* The length of one character of modified UTF-8 at p (at most `left`
 * bytes), as DataInputStream.readUTF decodes it, or 0 when malformed. */
static size_t utf_char_len(const uint8_t *p, size_t left) {
    switch (p[0] >> 4) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: return 1;
    case 12: case 13: return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    case 14: return left >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    default: return 0; /* 10xx xxxx and 1111 xxxx start no character */
    }
}

rt_err fl_utf_body(fl_cursor *c, const char *what, size_t n, const char **out) {
    size_t at = c->pos;
    const uint8_t *p = NULL;
    rt_err rc = fl_bytes(c, what, n, &p);
    if (rc != RT_OK) return rc;
    for (size_t i = 0; i < n;) {
        if (p[i] == 0)
            return fl_fail(c, RT_EFORMAT, "offset %zu: %s holds a NUL byte", at + i, what);
        size_t k = utf_char_len(p + i, n - i);
        if (k == 0) return fl_fail(c, RT_EFORMAT, "offset %zu: %s is malformed modified UTF-8", at + i, what);
        i += k;
    }
    char *s = fl_alloc(c, n + 1);
    if (s == NULL) return c->failed;
    memcpy(s, p, n);
    s[n] = '\0';
    *out = s;
    return RT_OK;
}

rt_err fl_utf(fl_cursor *c, const char *what, const char **out) {
    uint16_t n = 0;
    rt_err rc = fl_u16(c, what, &n);
    if (rc != RT_OK) return rc;
    return fl_utf_body(c, what, n, out);
}
