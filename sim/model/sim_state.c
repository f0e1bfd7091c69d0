/* sim_state: key groups, per-key values, their encoding and migration. */
#include "sim_state.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_prng.h"

static const char *const kind_names[SIM_STATE_KIND_COUNT] = {"value", "list", "map", "payload"};
static const char *const field_names[SIM_F_KIND_COUNT] = {"count", "sum", "xor", "max", "min"};
static const char *const ftype_names[SIM_T_COUNT] = {"long", "string"};
static const char *const compat_names[] = {"compatibleAsIs", "compatibleAfterMigration",
                                           "compatibleWithReconfiguredSerializer", "incompatible"};

const char *sim_state_kind_name(sim_state_kind k) {
    return (unsigned)k < SIM_STATE_KIND_COUNT ? kind_names[k] : "?";
}

int sim_state_kind_parse(const char *s, sim_state_kind *out) {
    for (int i = 0; i < SIM_STATE_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (sim_state_kind)i;
            return 0;
        }
    return -1;
}

const char *sim_field_name(sim_field f) {
    return (unsigned)f < SIM_F_KIND_COUNT ? field_names[f] : "?";
}

int sim_field_parse(const char *s, sim_field *out) {
    for (int i = 0; i < SIM_F_KIND_COUNT; i++)
        if (strcmp(s, field_names[i]) == 0) {
            *out = (sim_field)i;
            return 0;
        }
    return -1;
}

const char *sim_ftype_name(sim_ftype t) { return (unsigned)t < SIM_T_COUNT ? ftype_names[t] : "?"; }

int sim_ftype_parse(const char *s, sim_ftype *out) {
    for (int i = 0; i < SIM_T_COUNT; i++)
        if (strcmp(s, ftype_names[i]) == 0) {
            *out = (sim_ftype)i;
            return 0;
        }
    return -1;
}

const char *sim_compat_name(sim_compat c) {
    return (unsigned)c <= SIM_COMPAT_INCOMPATIBLE ? compat_names[c] : "?";
}

int sim_state_consts(const sim_state_desc *d, uint8_t out[SIM_ENUM_MAX]) {
    assert(d->n_consts >= 0);
    assert(d->n_consts <= SIM_ENUM_MAX);
    if (d->n_consts == 0) {
        for (int i = 0; i < SIM_BUCKETS; i++) out[i] = (uint8_t)i;
        return SIM_BUCKETS;
    }
    memcpy(out, d->consts, (size_t)d->n_consts);
    return d->n_consts;
}

int sim_state_consts_default(const sim_state_desc *d) {
    if (d->kind != SIM_STATE_MAP || d->n_consts == 0) return 1;
    if (d->n_consts != SIM_BUCKETS) return 0;
    for (int i = 0; i < SIM_BUCKETS; i++)
        if (d->consts[i] != i) return 0;
    return 1;
}

uint32_t sim_key_group(uint64_t key, uint32_t max_parallelism) {
    assert(max_parallelism > 0);
    /* A fixed mix of the key, like Flink's murmur of the key's hashCode. */
    return (uint32_t)(rt_mix3(0x6b657967726f7570ULL, key, 0) % max_parallelism);
}

void sim_key_group_range(uint32_t maxp, uint32_t p, uint32_t index, uint32_t *lo, uint32_t *hi) {
    assert(p > 0);
    assert(p <= maxp);
    assert(index < p);
    *lo = (index * maxp + p - 1) / p;
    *hi = ((index + 1) * maxp - 1) / p;
    assert(*lo <= *hi);
}

uint32_t sim_key_group_owner(uint32_t kg, uint32_t maxp, uint32_t p) {
    assert(kg < maxp);
    uint32_t owner = kg * p / maxp;
    return owner;
}

static int64_t field_default(sim_field f) {
    if (f == SIM_F_MAX) return INT64_MIN;
    if (f == SIM_F_MIN) return INT64_MAX;
    return 0;
}

void sim_value_init(sim_value *v, const sim_state_desc *d) {
    memset(v, 0, sizeof *v);
    for (int i = 0; i < d->n_fields; i++) v->f[i] = field_default(d->fields[i]);
}

static void apply_field(int64_t *x, sim_field f, int64_t value) {
    switch (f) {
    case SIM_F_COUNT: *x += 1; break;
    case SIM_F_SUM: *x = (int64_t)((uint64_t)*x + (uint64_t)value); break;
    case SIM_F_XOR: *x ^= value; break;
    case SIM_F_MAX: if (value > *x) *x = value; break;
    case SIM_F_MIN: if (value < *x) *x = value; break;
    case SIM_F_KIND_COUNT: assert(0); break;
    }
}

void sim_payload_draw(int64_t value, uint8_t out[SIM_PAYLOAD_BYTES]) {
    rt_prng p;
    rt_prng_stream(&p, (uint64_t)value, 0x7061796c6f6164ULL); /* "payload" */
    for (size_t at = 0; at < SIM_PAYLOAD_BYTES; at += 8) {
        uint64_t x = rt_prng_next(&p);
        size_t n = SIM_PAYLOAD_BYTES - at < 8 ? SIM_PAYLOAD_BYTES - at : 8;
        for (size_t i = 0; i < n; i++) out[at + i] = (uint8_t)(x >> (8 * i));
    }
}

/* Keeps the bytewise largest payload: commutative and idempotent, so the
 * oracle need not know the order of a key's records. */
static void apply_payload(sim_value *v, int64_t value) {
    uint8_t drawn[SIM_PAYLOAD_BYTES];
    sim_payload_draw(value, drawn);
    if (!v->present || memcmp(drawn, v->payload, sizeof drawn) > 0) memcpy(v->payload, drawn, sizeof drawn);
}

static void apply_top(sim_value *v, int64_t value) {
    int n = v->n_top;
    if (n == SIM_TOP_N && value <= v->top[n - 1]) return;
    int i = n < SIM_TOP_N ? n : SIM_TOP_N - 1;
    while (i > 0 && v->top[i - 1] < value) {
        v->top[i] = v->top[i - 1];
        i--;
    }
    v->top[i] = value;
    if (n < SIM_TOP_N) v->n_top++;
}

void sim_value_apply(sim_value *v, const sim_state_desc *d, int64_t value) {
    if (d->kind == SIM_STATE_PAYLOAD) apply_payload(v, value);
    v->present = 1;
    switch (d->kind) {
    case SIM_STATE_PAYLOAD: break;
    case SIM_STATE_VALUE:
        for (int i = 0; i < d->n_fields; i++) apply_field(&v->f[i], d->fields[i], value);
        break;
    case SIM_STATE_LIST: apply_top(v, value); break;
    case SIM_STATE_MAP: v->bucket[(uint64_t)value % SIM_BUCKETS]++; break;
    }
}

static int field_index(const sim_state_desc *d, sim_field f) {
    for (int i = 0; i < d->n_fields; i++)
        if (d->fields[i] == f) return i;
    return -1;
}

/* PojoSerializerSnapshot.resolveSchemaCompatibility: a pre-existing field
 * whose serializer is incompatible (LongSerializer vs StringSerializer)
 * makes the POJO incompatible; fields added or removed need a migration.
 * Our serializer writes fields in declaration order (Flink's sorts them by
 * name), so a reordering is a layout change too. */
static rt_err resolve_pojo(const sim_state_desc *prior, const sim_state_desc *next, sim_compat *out,
                           rt_error *e) {
    int changed = prior->n_fields != next->n_fields;
    for (int i = 0; i < prior->n_fields; i++) {
        int j = field_index(next, prior->fields[i]);
        if (j < 0) {
            changed = 1;
            continue;
        }
        if (prior->types[i] != next->types[j])
            return RT_FAIL(e, RT_ESCHEMA,
                           "StateMigrationException: the new serializer of state '%s' is incompatible "
                           "with the old one: field '%s' was declared %s and is now %s (a POJO "
                           "field's type cannot change)",
                           next->name, sim_field_name(prior->fields[i]), sim_ftype_name(prior->types[i]),
                           sim_ftype_name(next->types[j]));
        changed |= j != i;
    }
    for (int j = 0; j < next->n_fields; j++) changed |= field_index(prior, next->fields[j]) < 0;
    *out = changed ? SIM_COMPAT_AFTER_MIGRATION : SIM_COMPAT_AS_IS;
    return RT_OK;
}

static int const_index(const uint8_t *c, int n, int constant) {
    for (int i = 0; i < n; i++)
        if (c[i] == constant) return i;
    return -1;
}

/* EnumSerializerSnapshot.resolveSchemaCompatibility (the map's key
 * serializer, nested in MapSerializerSnapshot): the same constants in the
 * same order are as is; otherwise the serializer is reconfigured to the
 * previous constants in their previous order, new ones appended, so every
 * stored ordinal keeps its meaning. A constant that is gone cannot be
 * restored. */
static rt_err resolve_enum(const sim_state_desc *prior, const sim_state_desc *next, sim_compat *out,
                           sim_state_desc *ser, rt_error *e) {
    uint8_t pc[SIM_ENUM_MAX], nc[SIM_ENUM_MAX];
    int np = sim_state_consts(prior, pc), nn = sim_state_consts(next, nc);
    if (np == nn && memcmp(pc, nc, (size_t)np) == 0) {
        *out = SIM_COMPAT_AS_IS;
        return RT_OK;
    }
    for (int i = 0; i < np; i++)
        if (const_index(nc, nn, pc[i]) < 0)
            return RT_FAIL(e, RT_ESCHEMA,
                           "StateMigrationException: the new serializer of state '%s' is incompatible "
                           "with the old one: its key enum lost constant B%d",
                           next->name, pc[i]);
    ser->n_consts = 0;
    for (int i = 0; i < np; i++) ser->consts[ser->n_consts++] = pc[i];
    for (int j = 0; j < nn; j++)
        if (const_index(pc, np, nc[j]) < 0) ser->consts[ser->n_consts++] = nc[j];
    assert(ser->n_consts == nn);
    *out = SIM_COMPAT_RECONFIGURED;
    return RT_OK;
}

rt_err sim_state_resolve(const sim_state_desc *prior, const sim_state_desc *next, sim_compat *out,
                         sim_state_desc *serializer, rt_error *e) {
    assert(strcmp(prior->name, next->name) == 0);
    *out = SIM_COMPAT_INCOMPATIBLE;
    *serializer = *next;
    if (prior->kind != next->kind)
        return RT_FAIL(e, RT_ESCHEMA, "state '%s' was a %s state and is now a %s state",
                       prior->name, sim_state_kind_name(prior->kind), sim_state_kind_name(next->kind));
    switch (next->kind) {
    case SIM_STATE_VALUE: return resolve_pojo(prior, next, out, e);
    case SIM_STATE_MAP: return resolve_enum(prior, next, out, serializer, e);
    case SIM_STATE_LIST:
    case SIM_STATE_PAYLOAD: *out = SIM_COMPAT_AS_IS; return RT_OK;
    }
    assert(0);
    return RT_FAIL(e, RT_EINTERNAL, "state '%s': unknown kind", next->name);
}

rt_err sim_value_migrate(sim_value *v, const sim_state_desc *from, const sim_state_desc *to,
                         rt_error *e) {
    if (from->kind != to->kind)
        return RT_FAIL(e, RT_ESCHEMA, "state '%s' was a %s state and is now a %s state",
                       from->name, sim_state_kind_name(from->kind), sim_state_kind_name(to->kind));
    if (from->kind != SIM_STATE_VALUE) return RT_OK;
    int64_t nf[SIM_MAX_FIELDS] = {0};
    for (int i = 0; i < to->n_fields; i++) {
        int j = field_index(from, to->fields[i]);
        nf[i] = j >= 0 ? v->f[j] : field_default(to->fields[i]);
    }
    memset(v->f, 0, sizeof v->f);
    memcpy(v->f, nf, (size_t)to->n_fields * sizeof nf[0]);
    return RT_OK;
}

int sim_value_equal(const sim_value *a, const sim_value *b, const sim_state_desc *d) {
    if (a->present != b->present) return 0;
    switch (d->kind) {
    case SIM_STATE_VALUE:
        return memcmp(a->f, b->f, (size_t)d->n_fields * sizeof a->f[0]) == 0;
    case SIM_STATE_LIST:
        return a->n_top == b->n_top &&
               memcmp(a->top, b->top, (size_t)a->n_top * sizeof a->top[0]) == 0;
    case SIM_STATE_MAP: return memcmp(a->bucket, b->bucket, sizeof a->bucket) == 0;
    case SIM_STATE_PAYLOAD: return memcmp(a->payload, b->payload, sizeof a->payload) == 0;
    }
    return 0;
}

void sim_value_format(const sim_value *v, const sim_state_desc *d, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
#define OUT(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
    switch (d->kind) {
    case SIM_STATE_VALUE:
        OUT("{");
        for (int i = 0; i < d->n_fields && n < cap; i++)
            OUT("%s\"%s\":%lld", i ? "," : "", sim_field_name(d->fields[i]), (long long)v->f[i]);
        OUT("}");
        break;
    case SIM_STATE_LIST:
        OUT("[");
        for (int i = 0; i < v->n_top && n < cap; i++) OUT("%s%lld", i ? "," : "", (long long)v->top[i]);
        OUT("]");
        break;
    case SIM_STATE_MAP:
        OUT("{");
        for (int i = 0, first = 1; i < SIM_BUCKETS && n < cap; i++)
            if (v->bucket[i]) {
                OUT("%s\"%d\":%lld", first ? "" : ",", i, (long long)v->bucket[i]);
                first = 0;
            }
        OUT("}");
        break;
    case SIM_STATE_PAYLOAD: /* the first bytes, in hex: enough to tell two apart */
        OUT("0x");
        for (int i = 0; i < 8 && n < cap; i++) OUT("%02x", v->payload[i]);
        OUT("..(%d bytes)", SIM_PAYLOAD_BYTES);
        break;
    }
#undef OUT
}

static size_t put_i64(uint8_t *buf, size_t at, int64_t x) {
    uint64_t u = (uint64_t)x;
    for (int i = 0; i < 8; i++) buf[at + (size_t)i] = (uint8_t)(u >> (8 * i));
    return at + 8;
}

static int64_t get_i64(const uint8_t *buf) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)buf[i] << (8 * i);
    return (int64_t)u;
}

/* A field as its declared type's serializer writes it: a long as 8 bytes,
 * a string (here always a number's decimal text) as one length byte and
 * the characters. */
static size_t put_field(uint8_t *buf, size_t at, sim_ftype t, int64_t x) {
    if (t == SIM_T_LONG) return put_i64(buf, at, x);
    char text[24];
    int n = snprintf(text, sizeof text, "%" PRId64, x);
    assert(n > 0);
    assert(n < (int)sizeof text);
    buf[at] = (uint8_t)n;
    memcpy(buf + at + 1, text, (size_t)n);
    return at + 1 + (size_t)n;
}

/* Reads one field at *at; 0 if the bytes are not a field of type t. */
static int get_field(const uint8_t *buf, size_t len, size_t *at, sim_ftype t, int64_t *x) {
    if (t == SIM_T_LONG) {
        if (len - *at < 8) return 0;
        *x = get_i64(buf + *at);
        *at += 8;
        return 1;
    }
    size_t n = len - *at >= 1 ? buf[*at] : 0;
    if (n == 0 || n > 20 || len - *at < 1 + n) return 0;
    char text[24], *end = NULL;
    memcpy(text, buf + *at + 1, n);
    text[n] = '\0';
    long long v = strtoll(text, &end, 10);
    if (end != text + n) return 0;
    *x = (int64_t)v;
    *at += 1 + n;
    return 1;
}

/* Layout: one byte kind, one byte count, then count entries (value: fields
 * in schema order, each as its type writes it; list: the top values as
 * little-endian int64s; map: (ordinal of the bucket's constant, count)
 * int64 pairs for non-empty buckets, in bucket order). */
size_t sim_value_encode(const sim_value *v, const sim_state_desc *d, uint8_t *buf, size_t cap) {
    assert(cap >= SIM_VALUE_BYTES_MAX);
    size_t at = 2;
    int count = 0;
    uint8_t c[SIM_ENUM_MAX];
    int nc = d->kind == SIM_STATE_MAP ? sim_state_consts(d, c) : 0;
    buf[0] = (uint8_t)d->kind;
    switch (d->kind) {
    case SIM_STATE_VALUE:
        for (int i = 0; i < d->n_fields; i++, count++) at = put_field(buf, at, d->types[i], v->f[i]);
        break;
    case SIM_STATE_LIST:
        for (int i = 0; i < v->n_top; i++, count++) at = put_i64(buf, at, v->top[i]);
        break;
    case SIM_STATE_MAP:
        for (int i = 0; i < SIM_BUCKETS; i++)
            if (v->bucket[i]) {
                int ordinal = const_index(c, nc, i);
                assert(ordinal >= 0); /* the job loader requires every bucket's constant */
                at = put_i64(buf, at, ordinal);
                at = put_i64(buf, at, v->bucket[i]);
                count++;
            }
        break;
    case SIM_STATE_PAYLOAD: /* Flink's BytePrimitiveArraySerializer: the bytes */
        memcpy(buf + at, v->payload, SIM_PAYLOAD_BYTES);
        at += SIM_PAYLOAD_BYTES;
        count = 1;
        break;
    }
    buf[1] = (uint8_t)count;
    assert(at <= SIM_VALUE_BYTES_MAX);
    return at;
}

static rt_err decode_pojo(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                          int count, rt_error *e) {
    if (count != d->n_fields)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': %d fields stored, schema has %d", d->name,
                       count, d->n_fields);
    size_t at = 2;
    for (int i = 0; i < count; i++)
        if (!get_field(buf, len, &at, d->types[i], &v->f[i]))
            return RT_FAIL(e, RT_EFORMAT, "state '%s': field '%s' is not a %s", d->name,
                           sim_field_name(d->fields[i]), sim_ftype_name(d->types[i]));
    if (at != len)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value length %zu does not match its schema",
                       d->name, len);
    return RT_OK;
}

static rt_err decode_map(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                         int count, rt_error *e) {
    uint8_t c[SIM_ENUM_MAX];
    int nc = sim_state_consts(d, c);
    if (count > SIM_ENUM_MAX || len != 2 + (size_t)count * 16)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value length %zu does not match its schema",
                       d->name, len);
    for (int i = 0; i < count; i++) {
        const uint8_t *p = buf + 2 + (size_t)i * 16;
        int64_t ordinal = get_i64(p);
        if (ordinal < 0 || ordinal >= nc || c[ordinal] >= SIM_BUCKETS)
            return RT_FAIL(e, RT_EFORMAT, "state '%s': key ordinal %lld names no bucket", d->name,
                           (long long)ordinal);
        v->bucket[c[ordinal]] = get_i64(p + 8);
    }
    return RT_OK;
}

rt_err sim_value_decode(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                        rt_error *e) {
    if (len < 2 || buf[0] != (uint8_t)d->kind)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value of %zu bytes is not a %s value", d->name,
                       len, sim_state_kind_name(d->kind));
    int count = buf[1];
    sim_value_init(v, d);
    v->present = 1;
    if (d->kind == SIM_STATE_VALUE) return decode_pojo(v, d, buf, len, count, e);
    if (d->kind == SIM_STATE_MAP) return decode_map(v, d, buf, len, count, e);
    if (d->kind == SIM_STATE_PAYLOAD) {
        if (count != 1 || len != 2 + SIM_PAYLOAD_BYTES)
            return RT_FAIL(e, RT_EFORMAT, "state '%s': payload value of %zu bytes, expected %d", d->name,
                           len, 2 + SIM_PAYLOAD_BYTES);
        memcpy(v->payload, buf + 2, SIM_PAYLOAD_BYTES);
        return RT_OK;
    }
    if (count > SIM_TOP_N || len != 2 + (size_t)count * 8)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value length %zu does not match its schema",
                       d->name, len);
    for (int i = 0; i < count; i++) v->top[v->n_top++] = get_i64(buf + 2 + (size_t)i * 8);
    return RT_OK;
}
