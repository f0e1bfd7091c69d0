/* test_flink_hostile: flink/fl_meta.c and flink/fl_jser.c on input nobody
 * should trust: every truncation of real _metadata files, flipped bytes,
 * random bytes, counts and lengths far beyond the file, handles nested
 * without end, handle types and versions the reader does not know. Each
 * must end in one named error (or a parse), never a crash, a read past
 * the end or an allocation the input does not pay for; the sanitizer
 * build (make sanitize) runs these under ASan and UBSan. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_build.h"
#include "fl_jser.h"
#include "fl_meta.h"
#include "rt_prng.h"

static const char *const fixtures[] = {
    "tests/fixtures/flink/1.20.3/unaligned-rocksdb",
    "tests/fixtures/flink/2.1.1/unaligned-rocksdb",
    "tests/fixtures/flink/1.20.3/native-rocksdb",
    "tests/fixtures/flink/2.1.1/canonical-hashmap",
};

/* A fixture's _metadata bytes (malloc'd). */
static uint8_t *fixture_metadata(const char *dir, size_t *len) {
    char path[1024], rel[512] = "";
    snprintf(path, sizeof path, "%s/PATH", dir);
    FILE *in = fopen(path, "r");
    if (in == NULL || fgets(rel, sizeof rel, in) == NULL) {
        if (in) fclose(in);
        return NULL;
    }
    fclose(in);
    rel[strcspn(rel, "\n")] = '\0';
    snprintf(path, sizeof path, "%s/%s/_metadata", dir, rel);
    in = fopen(path, "rb");
    if (in == NULL) return NULL;
    uint8_t *data = malloc(1 << 20);
    *len = data ? fread(data, 1, 1 << 20, in) : 0;
    fclose(in);
    return data;
}

/* Parses; on failure the error must be a named format or version error. */
static rt_err parse(const uint8_t *data, size_t len, rt_error *e) {
    fl_meta m;
    rt_error_clear(e);
    rt_err rc = fl_meta_parse(&m, data, len, "_metadata", e);
    if (rc == RT_OK) {
        fl_meta_free(&m);
        return rc;
    }
    CU_ASSERT_TRUE(rc == RT_EFORMAT || rc == RT_EVERSION);
    CU_ASSERT_EQUAL(e->code, rc);
    CU_ASSERT_TRUE(strncmp(e->msg, "_metadata: ", 11) == 0 && strlen(e->msg) > 20);
    CU_ASSERT_PTR_NULL(strchr(e->msg, '\n'));
    return rc;
}

static void t_every_truncation(void) {
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        size_t len = 0;
        uint8_t *data = fixture_metadata(fixtures[f], &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        rt_error e;
        CU_ASSERT_EQUAL(parse(data, len, &e), RT_OK);
        for (size_t n = 0; n < len; n++) {
            rt_err rc = parse(data, n, &e);
            CU_ASSERT_EQUAL(rc, RT_EFORMAT);
            if (rc != RT_EFORMAT) printf("\n  %s: the first %zu bytes parsed\n", fixtures[f], n);
        }
        free(data);
    }
}

static void t_flipped_bytes(void) {
    for (size_t f = 0; f < 2; f++) {
        size_t len = 0;
        uint8_t *data = fixture_metadata(fixtures[f], &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        static const uint8_t masks[] = {0x01, 0x80, 0xFF};
        rt_error e;
        for (size_t i = 0; i < len; i++)
            for (size_t k = 0; k < sizeof masks; k++) {
                data[i] ^= masks[k];
                parse(data, len, &e);
                data[i] ^= masks[k];
            }
        free(data);
    }
}

static void t_random_bytes(void) {
    rt_prng p;
    rt_prng_seed(&p, 20240615);
    uint8_t buf[600];
    rt_error e;
    int parsed = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rt_prng_below(&p, sizeof buf);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rt_prng_next(&p);
        if (len >= 8 && round % 2 == 0) { /* a valid header, so the body is reached */
            fb w;
            fb_header(&w, 3 + (int)rt_prng_below(&p, 4), 0);
            memcpy(buf, w.b, 8);
        }
        parsed += parse(buf, len, &e) == RT_OK;
    }
    CU_ASSERT_TRUE(parsed < 20000);
}

/* The start of a V3 body with one operator and one subtask, up to its
 * managed keyed handle. */
static void one_subtask(fb *w) {
    fb_header(w, 3, 1);
    fb_operator(w, 1, 1);
    fb_subtask_begin(w, 0);
}

static void expect_error(const fb *w, rt_err code, const char *text) {
    rt_error e;
    rt_err rc = parse(w->b, w->n, &e);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, text));
    if (rc != code || strstr(e.msg, text) == NULL) printf("\n  want '%s', got: %s\n", text, e.msg);
}

static void t_huge_counts_and_lengths(void) {
    fb w;
    fb_header(&w, 3, 0);
    w.n -= 8; /* master count and operator count again */
    fb_u32(&w, 0x7fffffff);
    expect_error(&w, RT_EFORMAT, "the master state count is 2147483647, more than the 0 bytes left can hold");
    fb_header(&w, 4, 0x7fffffff);
    expect_error(&w, RT_EFORMAT, "the operator count is 2147483647");
    fb_header(&w, 3, 0x80000000u);
    expect_error(&w, RT_EFORMAT, "the operator count is negative");
    fb_header(&w, 3, 1);
    fb_operator(&w, 1, 0x7fffffff);
    expect_error(&w, RT_EFORMAT, "subtask state count 2147483647");
    one_subtask(&w);
    fb_u8(&w, 3); /* KeyGroupsStateHandle */
    fb_u32(&w, 0);
    fb_u32(&w, 0x10000000); /* key groups, each an 8-byte offset */
    expect_error(&w, RT_EFORMAT, "a key-group count is 268435456");
    one_subtask(&w);
    fb_key_groups(&w);
    fb_u8(&w, 1); /* an inlined handle */
    fb_utf(&w, "x");
    fb_u32(&w, 0x7ffffff0);
    expect_error(&w, RT_EFORMAT, "an inlined handle's byte count is 2147483632");
    one_subtask(&w);
    fb_key_groups(&w);
    fb_u8(&w, 2);
    fb_u64(&w, 1);
    fb_u16(&w, 0xffff); /* a path of 65535 bytes, 3 there */
    fb_u8(&w, '/');
    fb_u8(&w, 'x');
    fb_u8(&w, 'y');
    expect_error(&w, RT_EFORMAT, "truncated at offset");
    one_subtask(&w);
    fb_u8(&w, 5); /* IncrementalRemoteKeyedStateHandle */
    fb_u64(&w, 1);
    fb_utf(&w, "backend");
    fb_u32(&w, 0);
    fb_u32(&w, 128);
    fb_u8(&w, 0);           /* no meta handle */
    fb_u32(&w, 0x7fffffff); /* shared files */
    expect_error(&w, RT_EFORMAT, "shared is 2147483647");
}

static void t_bad_strings(void) {
    fb w;
    one_subtask(&w);
    fb_key_groups(&w);
    fb_u8(&w, 2);
    fb_u64(&w, 1);
    fb_u16(&w, 2);
    fb_u8(&w, 0x80); /* a continuation byte cannot start a character */
    fb_u8(&w, 'x');
    expect_error(&w, RT_EFORMAT, "malformed modified UTF-8");
    w.n -= 2;
    fb_u8(&w, 'x');
    fb_u8(&w, 0); /* modified UTF-8 writes U+0000 as C0 80 */
    expect_error(&w, RT_EFORMAT, "holds a NUL byte");
    w.n -= 2;
    fb_u8(&w, 0xC3); /* two bytes of a three-byte character */
    fb_u8(&w, 0xA9);
    fb_subtask_end(&w);
    rt_error e;
    CU_ASSERT_EQUAL(parse(w.b, w.n, &e), RT_OK); /* "é", a real two-byte character */
}

/* n changelog handles, each holding the next as its only materialized
 * part, around a key-groups handle. */
static void nested_changelog(fb *w, int n) {
    one_subtask(w);
    for (int i = 0; i < n; i++) {
        fb_u8(w, 8); /* ChangelogStateBackendHandle */
        fb_u32(w, 0);
        fb_u32(w, 128);
        fb_u64(w, 0);
        fb_u32(w, 1);
    }
    fb_key_groups(w);
    fb_relative_handle(w, "f", 1);
    for (int i = 0; i < n; i++) {
        fb_u32(w, 0); /* no non-materialized part */
        fb_u64(w, 1);
        fb_utf(w, "id");
    }
    fb_subtask_end(w);
}

/* KeyGroupsStateHandle is also a stream handle (type 3): each one's stream
 * the next. */
static void nested_key_groups(fb *w, int n) {
    one_subtask(w);
    for (int i = 0; i < n; i++) fb_key_groups(w);
    fb_relative_handle(w, "f", 1);
    fb_subtask_end(w);
}

static void t_deep_nesting(void) {
    fb w;
    rt_error e;
    nested_changelog(&w, 3);
    CU_ASSERT_EQUAL(parse(w.b, w.n, &e), RT_OK);
    nested_changelog(&w, 1000);
    expect_error(&w, RT_EFORMAT, "state handles nested deeper than 8");
    nested_key_groups(&w, 3);
    CU_ASSERT_EQUAL(parse(w.b, w.n, &e), RT_OK);
    nested_key_groups(&w, 2000);
    expect_error(&w, RT_EFORMAT, "state handles nested deeper than 8");
}

static void t_unknown_handle_types(void) {
    fb w;
    char want[96];
    one_subtask(&w);
    size_t at = w.n;
    fb_u8(&w, 99);
    snprintf(want, sizeof want, "unsupported handle type 99 at offset %zu (not a KeyedStateHandle)", at);
    expect_error(&w, RT_EFORMAT, want);
    w.n = at;
    fb_u8(&w, 0xFB); /* readByte: -5 */
    snprintf(want, sizeof want, "unsupported handle type -5 at offset %zu", at);
    expect_error(&w, RT_EFORMAT, want);
    w.n = at;
    fb_key_groups(&w);
    at = w.n;
    fb_u8(&w, 4); /* an operator handle where a stream handle belongs */
    snprintf(want, sizeof want, "unsupported handle type 4 at offset %zu (not a StreamStateHandle)", at);
    expect_error(&w, RT_EFORMAT, want);
    fb_header(&w, 3, 1);
    fb_operator(&w, 1, 1);
    fb_u32(&w, 0);
    fb_u32(&w, 1); /* managed operator state present */
    at = w.n;
    fb_u8(&w, 9);
    snprintf(want, sizeof want, "unsupported handle type 9 at offset %zu (not an OperatorStateHandle)", at);
    expect_error(&w, RT_EFORMAT, want);
    fb_header(&w, 6, 1); /* V6: typed channel-state handles */
    for (int i = 0; i < 4; i++) fb_u8(&w, 0); /* V5+ name and uid: "" and "" */
    fb_operator(&w, 1, 1);
    fb_subtask_begin(&w, 0);
    fb_u8(&w, 0);
    fb_u8(&w, 0);
    fb_u32(&w, 1);
    at = w.n;
    fb_u8(&w, 2); /* an output handle's type among the input handles */
    snprintf(want, sizeof want, "unsupported handle type 2 at offset %zu (not an input channel state handle)", at);
    expect_error(&w, RT_EFORMAT, want);
}

static void t_versions_and_magic(void) {
    static const int bad[] = {0, 1, 2, 7, 100, -1};
    fb w;
    char want[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fb_header(&w, bad[i], 0);
        snprintf(want, sizeof want, "_metadata version %d is not supported (supported: 3, 4, 5, 6)", bad[i]);
        expect_error(&w, RT_EVERSION, want);
    }
    fb_header(&w, 3, 0);
    w.b[0] ^= 1;
    expect_error(&w, RT_EFORMAT, "not a Flink _metadata file (magic number 0x4860672d, expected 0x4960672d)");
    CU_ASSERT_FALSE(fl_meta_is_flink(w.b, w.n));
    CU_ASSERT_FALSE(fl_meta_is_flink(w.b, 3));
    fb_header(&w, 3, 0);
    rt_error e;
    CU_ASSERT_EQUAL(parse(w.b, w.n, &e), RT_OK);
    w.b[8] = 0x80; /* checkpoint id < 0 */
    expect_error(&w, RT_EFORMAT, "invalid checkpoint id");
}

static void t_master_states(void) {
    fb w;
    fb_header(&w, 3, 0);
    w.n -= 8;
    fb_u32(&w, 1); /* one master state */
    fb_u32(&w, 0xc96b1696U);
    fb_u32(&w, 4 + 2 + 1 + 4 + 2 + 1); /* version, name "m", payload of 2, one byte too many */
    fb_u32(&w, 1);
    fb_utf(&w, "m");
    fb_u32(&w, 2);
    fb_u16(&w, 0xabcd);
    fb_u8(&w, 0);
    fb_u32(&w, 0);
    expect_error(&w, RT_EFORMAT, "found trailing bytes in master state");
    w.n = 16;
    fb_u32(&w, 1);
    fb_u32(&w, 0x12345678);
    fb_u32(&w, 4);
    fb_u32(&w, 0);
    expect_error(&w, RT_EFORMAT, "incorrect magic number 0x12345678 in a master state");
    w.n = 16;
    fb_u32(&w, 1);
    fb_u32(&w, 0xc96b1696U);
    fb_u32(&w, 10); /* version, name "", payload length 20: more than its 10 bytes hold */
    fb_u32(&w, 1);
    fb_utf(&w, "");
    fb_u32(&w, 20);
    fb_u8(&w, 0);
    fb_u32(&w, 0);
    expect_error(&w, RT_EFORMAT, "payload length is 20");
}

static void t_arena_cap(void) {
    fl_arena a;
    fl_arena_init(&a, 1000);
    CU_ASSERT_PTR_NOT_NULL(fl_arena_alloc(&a, 600));
    CU_ASSERT_PTR_NULL(fl_arena_alloc(&a, 600));
    CU_ASSERT_PTR_NOT_NULL(fl_arena_alloc(&a, 300));
    CU_ASSERT_TRUE(a.used_bytes <= a.cap_bytes);
    CU_ASSERT_PTR_NULL(fl_arena_alloc(&a, (size_t)-1));
    fl_arena_free(&a);
    CU_ASSERT_EQUAL(a.used_bytes, 0u);
}

/* A parse allocates in proportion to its input: the arena's cap follows
 * the file's size, and a file of 12000 finished subtasks stays under it. */
static void t_allocation_follows_input(void) {
    static fb w;
    fb_header(&w, 3, 1);
    fb_operator(&w, 1, 12000);
    for (int i = 0; i < 12000; i++) fb_u32(&w, (uint32_t)(-(i + 1))); /* finished: no state */
    fl_meta m;
    rt_error e;
    CU_ASSERT_EQUAL_FATAL(fl_meta_parse(&m, w.b, w.n, "_metadata", &e), RT_OK);
    CU_ASSERT_EQUAL(m.ops[0].n_subtasks, 12000u);
    CU_ASSERT_TRUE(m.ops[0].subtasks[11999].finished);
    CU_ASSERT_EQUAL(m.ops[0].subtasks[11999].index, 11999);
    CU_ASSERT_TRUE(m.arena.used_bytes <= m.arena.cap_bytes);
    CU_ASSERT_TRUE(m.arena.used_bytes < 64 * w.n + (1u << 20));
    fl_meta_free(&m);
}

/* ---- Java serialization (CheckpointProperties) ------------------------------ */

/* The pairs' strings live in the arena: it is kept until the next call
 * (and freed by jser_done). */
static fl_arena g_jser_arena;

static void jser_done(void) { fl_arena_free(&g_jser_arena); }

static rt_err jser(const fb *w, fl_jobject *o, rt_error *e) {
    jser_done();
    fl_arena_init(&g_jser_arena, 1 << 20);
    fl_cursor c;
    rt_error_clear(e);
    fl_cursor_init(&c, w->b, w->n, "_metadata", &g_jser_arena, e);
    return fl_jser_read(&c, o);
}

static void class_desc(fb *w, const char *name, uint8_t flags, int n_fields) {
    fb_u8(w, 0x72);
    fb_utf(w, name);
    fb_u64(w, 1);
    fb_u8(w, flags);
    fb_u16(w, (uint16_t)n_fields);
}

static void t_java_serialization(void) {
    fb w;
    fl_jobject o;
    rt_error e;
    w.n = 0;
    fb_u16(&w, 0xACED);
    fb_u16(&w, 5);
    fb_u8(&w, 0x73);
    class_desc(&w, "A", 0x02, 2);
    fb_u8(&w, 'Z');
    fb_utf(&w, "flag");
    fb_u8(&w, 'L');
    fb_utf(&w, "next");
    fb_u8(&w, 0x74);
    fb_utf(&w, "LA;");
    fb_u8(&w, 0x78); /* no annotation */
    fb_u8(&w, 0x70); /* no super class */
    fb_u8(&w, 1);    /* flag = true */
    size_t body = w.n;
    fb_u8(&w, 0x70); /* next = null */
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_OK);
    CU_ASSERT_STRING_EQUAL(fl_jser_get(&o, ""), "A");
    CU_ASSERT_STRING_EQUAL(fl_jser_get(&o, "flag"), "true");
    CU_ASSERT_STRING_EQUAL(fl_jser_get(&o, "next"), "null");
    /* next = a new A, whose next is a new A, ...: nested without end */
    w.n = body;
    for (int i = 0; i < 40; i++) {
        fb_u8(&w, 0x73);
        fb_u8(&w, 0x71);
        fb_u32(&w, 0x7E0000); /* A's class descriptor, by reference */
        fb_u8(&w, 0);
    }
    fb_u8(&w, 0x70);
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "objects nested deeper than 12"));
    w.n = body; /* an element the reader does not follow */
    fb_u8(&w, 0x79);
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "element 0x79 is not supported"));
    w.n = body; /* a reference to a handle not yet assigned */
    fb_u8(&w, 0x71);
    fb_u32(&w, 0x7E0040);
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a back-reference to an object not yet read"));
    /* a class whose super class is itself */
    w.n = 4;
    fb_u8(&w, 0x73);
    class_desc(&w, "B", 0x02, 0);
    fb_u8(&w, 0x78);
    fb_u8(&w, 0x71);
    fb_u32(&w, 0x7E0000);
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "a class hierarchy deeper than 16 (or a loop)"));
    w.n = 0;
    fb_u16(&w, 0xACED);
    fb_u16(&w, 4);
    CU_ASSERT_EQUAL(jser(&w, &o, &e), RT_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a Java serialization stream"));
    jser_done();
}

/* The committed fuzz corpus (tests/fuzz/metadata-corpus) is a regression
 * suite too: findings of make fuzz-metadata stay there as regress-*. */
static void t_fuzz_corpus(void) {
    DIR *d = opendir("tests/fuzz/metadata-corpus");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *ent;
    int n = 0, regressions = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "tests/fuzz/metadata-corpus/%s", ent->d_name);
        FILE *in = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(in);
        static uint8_t buf[1 << 17];
        size_t len = fread(buf, 1, sizeof buf, in);
        fclose(in);
        rt_error e;
        parse(buf, len, &e); /* a parse, or one named line */
        n++;
        regressions += strncmp(ent->d_name, "regress-", 8) == 0;
    }
    closedir(d);
    CU_ASSERT_TRUE(n >= 16);
    CU_ASSERT_TRUE(regressions >= 1);
}

/* Strings read from _metadata go into messages as one printable line. */
static void t_printable(void) {
    char buf[32];
    CU_ASSERT_STRING_EQUAL(fl_printable("a\nb\x1b", buf, sizeof buf), "a\\x0ab\\x1b");
    CU_ASSERT_STRING_EQUAL(fl_printable(NULL, buf, sizeof buf), "");
    CU_ASSERT_TRUE(strlen(fl_printable("0123456789012345678901234567890123456789", buf, sizeof buf)) < sizeof buf);
}

#define PAIR(fn, name) {name, fn}

int suite_flink_hostile(void) {
    CU_pSuite s = CU_add_suite("flink_hostile", NULL, NULL);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        PAIR(t_every_truncation, "real _metadata truncated at every offset: a named error"),
        PAIR(t_flipped_bytes, "every byte of real _metadata flipped: a parse or a named error"),
        PAIR(t_random_bytes, "random bytes, with and without a valid header"),
        PAIR(t_huge_counts_and_lengths, "counts and lengths beyond the file are refused before allocating"),
        PAIR(t_bad_strings, "malformed modified UTF-8 and NUL bytes"),
        PAIR(t_deep_nesting, "handles nested deeper than 8"),
        PAIR(t_unknown_handle_types, "unknown handle types by number and offset"),
        PAIR(t_versions_and_magic, "unsupported versions by number, a wrong magic"),
        PAIR(t_master_states, "master states: trailing bytes, magic, lengths"),
        PAIR(t_arena_cap, "the arena keeps its cap"),
        PAIR(t_allocation_follows_input, "allocation follows the input's size"),
        PAIR(t_java_serialization, "Java serialization: nesting, loops, references, unknown elements"),
        PAIR(t_fuzz_corpus, "the committed fuzz corpus, findings included: a parse or one named line"),
        PAIR(t_printable, "strings from _metadata are printed as one line"),
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
