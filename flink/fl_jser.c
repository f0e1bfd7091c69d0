/* fl_jser: a reader of the Java Object Serialization Stream Protocol
 * (java.io.ObjectStreamConstants; the grammar of the specification's
 * chapter 6), enough for the CheckpointProperties that MetadataV4Serializer
 * writes with ObjectOutputStream: objects, their class descriptors and
 * super classes, primitive and object fields, strings, enums, arrays,
 * back-references, and the block data of classes with a writeObject
 * method (skipped). Every element consumes at least one byte and every
 * count is checked against the bytes left; the recursion is bounded by
 * FL_JSER_DEPTH_MAX. */
#include "fl_jser.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define STREAM_MAGIC 0xACEDu
#define STREAM_VERSION 5
#define BASE_WIRE_HANDLE 0x7E0000

enum {
    TC_NULL = 0x70, TC_REFERENCE = 0x71, TC_CLASSDESC = 0x72, TC_OBJECT = 0x73, TC_STRING = 0x74,
    TC_ARRAY = 0x75, TC_CLASS = 0x76, TC_BLOCKDATA = 0x77, TC_ENDBLOCKDATA = 0x78, TC_RESET = 0x79,
    TC_BLOCKDATALONG = 0x7A, TC_EXCEPTION = 0x7B, TC_LONGSTRING = 0x7C, TC_PROXYCLASSDESC = 0x7D,
    TC_ENUM = 0x7E
};
enum { SC_WRITE_METHOD = 0x01, SC_SERIALIZABLE = 0x02, SC_EXTERNALIZABLE = 0x04, SC_BLOCK_DATA = 0x08 };

#define HANDLES_MAX 512
#define CLASSES_MAX 64
#define FIELDS_MAX 64
#define HIERARCHY_MAX 16

typedef struct jfield {
    char type;        /* B C D F I J S Z, or L / [ */
    const char *name;
} jfield;

typedef struct jclass {
    const char *name;
    uint8_t flags;
    int n_fields;
    jfield *fields;
    int super; /* index into classes, -1 for none */
} jclass;

typedef enum { H_CLASS, H_STRING, H_ENUM, H_OBJECT, H_OTHER } hkind;

typedef struct jhandle {
    hkind kind;
    const char *text; /* the string, the enum constant, the class name */
    int cls;          /* H_CLASS: index into classes */
} jhandle;

typedef struct jser {
    fl_cursor *c;
    fl_jobject *out;
    int n_handles, n_classes;
    jhandle handles[HANDLES_MAX];
    jclass classes[CLASSES_MAX];
} jser;

static rt_err read_content(jser *js, const char *path, int depth, const char **value);

static rt_err fail_at(jser *js, size_t at, const char *what) {
    return fl_fail(js->c, RT_EFORMAT, "offset %zu: checkpoint properties (Java serialization): %s", at, what);
}

static int new_handle(jser *js, hkind kind, const char *text, int cls) {
    if (js->n_handles >= HANDLES_MAX) {
        fail_at(js, js->c->pos, "too many objects (at most 512)");
        return -1;
    }
    js->handles[js->n_handles] = (jhandle){kind, text, cls};
    return js->n_handles++;
}

static rt_err record(jser *js, const char *path, const char *value) {
    if (path == NULL) return RT_OK; /* inside block data: not a field */
    if (js->out->n_pairs >= FL_JSER_PAIRS_MAX) return fail_at(js, js->c->pos, "more than 64 fields");
    js->out->pairs[js->out->n_pairs++] = (fl_jpair){path, value};
    return RT_OK;
}

static const char *join(jser *js, const char *path, const char *name) {
    if (path == NULL) return NULL;
    size_t n = strlen(path) + strlen(name) + 2;
    char *s = fl_alloc(js->c, n);
    if (s != NULL) snprintf(s, n, "%s%s%s", path, path[0] ? "." : "", name);
    return s;
}

static rt_err check_depth(jser *js, int depth) {
    if (depth <= FL_JSER_DEPTH_MAX) return RT_OK;
    return fail_at(js, js->c->pos, "objects nested deeper than 12");
}

static rt_err read_reference(jser *js, const jhandle **h) {
    size_t at = js->c->pos;
    int32_t wire = 0;
    rt_err rc = fl_i32(js->c, "a back-reference", &wire);
    if (rc != RT_OK) return rc;
    int64_t idx = (int64_t)wire - BASE_WIRE_HANDLE;
    if (idx < 0 || idx >= js->n_handles) return fail_at(js, at, "a back-reference to an object not yet read");
    *h = &js->handles[idx];
    return RT_OK;
}

/* A string element (TC_STRING, TC_LONGSTRING or a reference to one). */
static rt_err read_string(jser *js, uint8_t tc, const char **out) {
    size_t at = js->c->pos - 1;
    rt_err rc;
    if (tc == TC_REFERENCE) {
        const jhandle *h = NULL;
        rc = read_reference(js, &h);
        if (rc == RT_OK && h->kind != H_STRING) return fail_at(js, at, "a reference that should name a string");
        if (rc == RT_OK) *out = h->text;
        return rc;
    }
    if (tc == TC_STRING) {
        rc = fl_utf(js->c, "a serialized string", out);
    } else if (tc == TC_LONGSTRING) {
        int64_t n = 0;
        rc = fl_i64(js->c, "a long string's length", &n);
        if (rc == RT_OK && (n < 0 || (uint64_t)n > fl_left(js->c))) return fail_at(js, at, "a long string longer than the file");
        if (rc == RT_OK) rc = fl_utf_body(js->c, "a serialized long string", (size_t)n, out);
    } else {
        return fail_at(js, at, "a string expected");
    }
    if (rc == RT_OK && new_handle(js, H_STRING, *out, -1) < 0) rc = js->c->failed;
    return rc;
}

/* Skips annotations (a writeObject method's block data and objects) up to
 * TC_ENDBLOCKDATA. */
static rt_err skip_annotation(jser *js, int depth) {
    rt_err rc = check_depth(js, depth);
    while (rc == RT_OK) {
        uint8_t tc = 0;
        const uint8_t *skip = NULL;
        rc = fl_u8(js->c, "an annotation element", &tc);
        if (rc != RT_OK || tc == TC_ENDBLOCKDATA) return rc;
        if (tc == TC_BLOCKDATA) {
            uint8_t n = 0;
            rc = fl_u8(js->c, "a block data length", &n);
            if (rc == RT_OK) rc = fl_bytes(js->c, "block data", n, &skip);
        } else if (tc == TC_BLOCKDATALONG) {
            uint32_t n = 0;
            rc = fl_count(js->c, "a long block data length", 1, &n);
            if (rc == RT_OK) rc = fl_bytes(js->c, "block data", n, &skip);
        } else {
            js->c->pos--; /* an object: read as content, nothing recorded */
            const char *ignored = NULL;
            rc = read_content(js, NULL, depth + 1, &ignored);
        }
    }
    return rc;
}

static rt_err read_classdesc(jser *js, int depth, int *cls);

static rt_err read_fields(jser *js, jclass *k) {
    int16_t n = 0;
    rt_err rc = fl_i16(js->c, "a class's field count", &n);
    if (rc != RT_OK) return rc;
    if (n < 0 || n > FIELDS_MAX) return fail_at(js, js->c->pos - 2, "a class with a negative or huge field count");
    k->fields = fl_alloc(js->c, (size_t)(n ? n : 1) * sizeof *k->fields);
    if (k->fields == NULL) return js->c->failed;
    for (int i = 0; i < n && rc == RT_OK; i++) {
        size_t at = js->c->pos;
        uint8_t type = 0;
        rc = fl_u8(js->c, "a field's type code", &type);
        if (rc == RT_OK) rc = fl_utf(js->c, "a field's name", &k->fields[i].name);
        if (rc != RT_OK) break;
        k->fields[i].type = (char)type;
        if (type == 'L' || type == '[') {
            uint8_t tc = 0;
            const char *sig = NULL;
            rc = fl_u8(js->c, "a field's class name", &tc);
            if (rc == RT_OK) rc = read_string(js, tc, &sig);
        } else if (strchr("BCDFIJSZ", type) == NULL || type == 0) {
            rc = fail_at(js, at, "a field with an unknown type code");
        }
        k->n_fields = i + 1;
    }
    return rc;
}

static rt_err new_class(jser *js, const char *name, int *cls) {
    if (js->n_classes >= CLASSES_MAX) return fail_at(js, js->c->pos, "too many classes (at most 64)");
    *cls = js->n_classes++;
    js->classes[*cls] = (jclass){name, 0, 0, NULL, -1};
    if (new_handle(js, H_CLASS, name, *cls) < 0) return js->c->failed;
    return RT_OK;
}

static rt_err read_plain_classdesc(jser *js, int depth, int *cls) {
    const char *name = NULL;
    int64_t suid = 0;
    rt_err rc = fl_utf(js->c, "a class name", &name);
    if (rc == RT_OK) rc = fl_i64(js->c, "a serialVersionUID", &suid);
    if (rc == RT_OK) rc = new_class(js, name, cls);
    if (rc == RT_OK) rc = fl_u8(js->c, "class flags", &js->classes[*cls].flags);
    if (rc == RT_OK) rc = read_fields(js, &js->classes[*cls]);
    if (rc == RT_OK) rc = skip_annotation(js, depth + 1);
    int super = -1;
    if (rc == RT_OK) rc = read_classdesc(js, depth + 1, &super);
    if (rc == RT_OK) js->classes[*cls].super = super;
    return rc;
}

static rt_err read_proxy_classdesc(jser *js, int depth, int *cls) {
    rt_err rc = new_class(js, "(proxy)", cls);
    uint32_t n = 0;
    if (rc == RT_OK) rc = fl_count(js->c, "a proxy's interface count", 2, &n);
    for (uint32_t i = 0; i < n && rc == RT_OK; i++) {
        const char *iface = NULL;
        rc = fl_utf(js->c, "a proxy interface name", &iface);
    }
    if (rc == RT_OK) js->classes[*cls].flags = SC_SERIALIZABLE;
    if (rc == RT_OK) rc = skip_annotation(js, depth + 1);
    int super = -1;
    if (rc == RT_OK) rc = read_classdesc(js, depth + 1, &super);
    if (rc == RT_OK) js->classes[*cls].super = super;
    return rc;
}

/* classDesc: a new descriptor, a reference to one, or TC_NULL (-1). */
static rt_err read_classdesc(jser *js, int depth, int *cls) {
    rt_err rc = check_depth(js, depth);
    uint8_t tc = 0;
    size_t at = js->c->pos;
    if (rc == RT_OK) rc = fl_u8(js->c, "a class descriptor", &tc);
    if (rc != RT_OK) return rc;
    *cls = -1;
    switch (tc) {
    case TC_NULL: return RT_OK;
    case TC_CLASSDESC: return read_plain_classdesc(js, depth, cls);
    case TC_PROXYCLASSDESC: return read_proxy_classdesc(js, depth, cls);
    case TC_REFERENCE: {
        const jhandle *h = NULL;
        rc = read_reference(js, &h);
        if (rc == RT_OK && h->kind != H_CLASS) return fail_at(js, at, "a reference that should name a class");
        if (rc == RT_OK) *cls = h->cls;
        return rc;
    }
    default: return fail_at(js, at, "a class descriptor expected");
    }
}

static size_t prim_size(char type) {
    switch (type) {
    case 'B': case 'Z': return 1;
    case 'C': case 'S': return 2;
    case 'I': case 'F': return 4;
    default: return 8; /* J, D */
    }
}

static rt_err read_primitive(jser *js, char type, const char *path) {
    const uint8_t *p = NULL;
    size_t n = prim_size(type);
    rt_err rc = fl_bytes(js->c, "a primitive field", n, &p);
    if (rc != RT_OK || path == NULL) return rc;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    char *s = fl_alloc(js->c, 24);
    if (s == NULL) return js->c->failed;
    if (type == 'Z') snprintf(s, 24, "%s", v ? "true" : "false");
    else if (type == 'B') snprintf(s, 24, "%d", (int)(int8_t)v);
    else if (type == 'S') snprintf(s, 24, "%d", (int)(int16_t)v);
    else if (type == 'I') snprintf(s, 24, "%" PRId32, (int32_t)(uint32_t)v);
    else if (type == 'J') snprintf(s, 24, "%" PRId64, (int64_t)v);
    else snprintf(s, 24, "0x%" PRIx64, v); /* C, F, D: their bits */
    return record(js, path, s);
}

/* The classes of an object's hierarchy, most super first. */
static rt_err hierarchy(jser *js, int cls, int *chain, int *n) {
    *n = 0;
    for (int k = cls; k >= 0; k = js->classes[k].super) {
        if (*n >= HIERARCHY_MAX) return fail_at(js, js->c->pos, "a class hierarchy deeper than 16 (or a loop)");
        chain[(*n)++] = k;
    }
    return RT_OK;
}

static rt_err read_class_data(jser *js, const jclass *k, const char *path, int depth) {
    rt_err rc = RT_OK;
    if (k->flags & SC_SERIALIZABLE) {
        for (int f = 0; f < k->n_fields && rc == RT_OK; f++) {
            const char *fpath = join(js, path, k->fields[f].name);
            if (path != NULL && fpath == NULL) return js->c->failed;
            if (k->fields[f].type == 'L' || k->fields[f].type == '[') {
                const char *ignored = NULL;
                rc = read_content(js, fpath, depth + 1, &ignored);
            } else {
                rc = read_primitive(js, k->fields[f].type, fpath);
            }
        }
        if (rc == RT_OK && (k->flags & SC_WRITE_METHOD)) rc = skip_annotation(js, depth + 1);
    } else if (k->flags & SC_EXTERNALIZABLE) {
        if (!(k->flags & SC_BLOCK_DATA))
            return fail_at(js, js->c->pos, "an externalizable class without block data (protocol 1)");
        rc = skip_annotation(js, depth + 1);
    }
    return rc;
}

static rt_err read_object(jser *js, const char *path, int depth, const char **value) {
    int cls = -1;
    size_t at = js->c->pos;
    rt_err rc = read_classdesc(js, depth + 1, &cls);
    if (rc != RT_OK) return rc;
    if (cls < 0) return fail_at(js, at, "an object without a class");
    if (new_handle(js, H_OBJECT, js->classes[cls].name, -1) < 0) return js->c->failed;
    *value = js->classes[cls].name;
    rc = record(js, path, *value);
    int chain[HIERARCHY_MAX], n = 0;
    if (rc == RT_OK) rc = hierarchy(js, cls, chain, &n);
    for (int i = n - 1; i >= 0 && rc == RT_OK; i--) rc = read_class_data(js, &js->classes[chain[i]], path, depth);
    return rc;
}

static rt_err read_enum(jser *js, const char *path, int depth, const char **value) {
    int cls = -1;
    rt_err rc = read_classdesc(js, depth + 1, &cls);
    int h = rc == RT_OK ? new_handle(js, H_ENUM, NULL, -1) : -1;
    if (rc == RT_OK && h < 0) rc = js->c->failed;
    uint8_t tc = 0;
    if (rc == RT_OK) rc = fl_u8(js->c, "an enum constant", &tc);
    if (rc == RT_OK) rc = read_string(js, tc, value);
    if (rc == RT_OK) js->handles[h].text = *value;
    if (rc == RT_OK) rc = record(js, path, *value);
    return rc;
}

static rt_err read_array(jser *js, const char *path, int depth, const char **value) {
    int cls = -1;
    size_t at = js->c->pos;
    rt_err rc = read_classdesc(js, depth + 1, &cls);
    if (rc != RT_OK) return rc;
    const char *name = cls >= 0 ? js->classes[cls].name : "";
    if (name[0] != '[' || name[1] == '\0') return fail_at(js, at, "an array whose class is not an array type");
    if (new_handle(js, H_OTHER, name, -1) < 0) return js->c->failed;
    char elem = name[1];
    int primitive = elem != 'L' && elem != '[';
    if (primitive && strchr("BCDFIJSZ", elem) == NULL) return fail_at(js, at, "an array of an unknown type");
    uint32_t n = 0;
    rc = fl_count(js->c, "an array's length", primitive ? prim_size(elem) : 1, &n);
    const uint8_t *skip = NULL;
    if (rc == RT_OK && primitive) rc = fl_bytes(js->c, "array data", (size_t)n * prim_size(elem), &skip);
    for (uint32_t i = 0; !primitive && i < n && rc == RT_OK; i++) {
        const char *ignored = NULL;
        rc = read_content(js, NULL, depth + 1, &ignored);
    }
    *value = name;
    if (rc == RT_OK) rc = record(js, path, name);
    return rc;
}

static rt_err read_referenced(jser *js, const char *path, const char **value) {
    const jhandle *h = NULL;
    rt_err rc = read_reference(js, &h);
    if (rc != RT_OK) return rc;
    *value = h->text ? h->text : "(reference)";
    return record(js, path, *value);
}

/* One element of content: its value goes to *value and, with a path, into
 * the pairs. */
static rt_err read_content(jser *js, const char *path, int depth, const char **value) {
    rt_err rc = check_depth(js, depth);
    size_t at = js->c->pos;
    uint8_t tc = 0;
    if (rc == RT_OK) rc = fl_u8(js->c, "a serialized element", &tc);
    if (rc != RT_OK) return rc;
    switch (tc) {
    case TC_NULL: *value = "null"; return record(js, path, *value);
    case TC_REFERENCE: return read_referenced(js, path, value);
    case TC_OBJECT: return read_object(js, path, depth, value);
    case TC_ENUM: return read_enum(js, path, depth, value);
    case TC_ARRAY: return read_array(js, path, depth, value);
    case TC_STRING:
    case TC_LONGSTRING:
        rc = read_string(js, tc, value);
        return rc == RT_OK ? record(js, path, *value) : rc;
    case TC_CLASS: {
        int cls = -1;
        rc = read_classdesc(js, depth + 1, &cls);
        if (rc == RT_OK && new_handle(js, H_OTHER, cls >= 0 ? js->classes[cls].name : "null", -1) < 0)
            rc = js->c->failed;
        *value = cls >= 0 ? js->classes[cls].name : "null";
        return rc == RT_OK ? record(js, path, *value) : rc;
    }
    case TC_CLASSDESC:
    case TC_PROXYCLASSDESC: {
        int cls = -1;
        js->c->pos--;
        rc = read_classdesc(js, depth + 1, &cls);
        *value = cls >= 0 ? js->classes[cls].name : "null";
        return rc == RT_OK ? record(js, path, *value) : rc;
    }
    default: {
        char what[64];
        snprintf(what, sizeof what, "element 0x%02x is not supported here", tc);
        return fail_at(js, at, what);
    }
    }
}

rt_err fl_jser_read(fl_cursor *c, fl_jobject *out) {
    assert(c != NULL);
    assert(out != NULL);
    out->n_pairs = 0;
    size_t at = c->pos;
    uint16_t magic = 0, version = 0;
    rt_err rc = fl_u16(c, "the Java serialization magic", &magic);
    if (rc == RT_OK) rc = fl_u16(c, "the Java serialization version", &version);
    if (rc != RT_OK) return rc;
    if (magic != STREAM_MAGIC || version != STREAM_VERSION)
        return fl_fail(c, RT_EFORMAT, "offset %zu: checkpoint properties: not a Java serialization stream "
                       "(magic 0x%04x version %u, expected 0xaced version 5)", at, magic, version);
    jser *js = fl_alloc(c, sizeof *js);
    if (js == NULL) return c->failed;
    js->c = c;
    js->out = out;
    const char *value = NULL;
    rc = read_content(js, "", 0, &value);
    assert(rc != RT_OK || out->n_pairs > 0);
    return rc;
}

const char *fl_jser_get(const fl_jobject *o, const char *path) {
    for (int i = 0; i < o->n_pairs; i++)
        if (strcmp(o->pairs[i].path, path) == 0) return o->pairs[i].value;
    return NULL;
}
