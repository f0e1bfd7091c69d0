/* sim_state: key groups, per-key values, their encoding and migration. */
#include "sim_state.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "rt_prng.h"

static const char *const kind_names[] = {"value", "list", "map"};
static const char *const field_names[SIM_F_KIND_COUNT] = {"count", "sum", "xor", "max", "min"};

const char *sim_state_kind_name(sim_state_kind k) {
    return (unsigned)k < 3 ? kind_names[k] : "?";
}

int sim_state_kind_parse(const char *s, sim_state_kind *out) {
    for (int i = 0; i < 3; i++)
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

uint32_t sim_key_group(uint64_t key, uint32_t max_parallelism) {
    assert(max_parallelism > 0);
    /* A fixed mix of the key, like Flink's murmur of the key's hashCode. */
    return (uint32_t)(rt_mix3(0x6b657967726f7570ULL, key, 0) % max_parallelism);
}

void sim_key_group_range(uint32_t maxp, uint32_t p, uint32_t index, uint32_t *lo, uint32_t *hi) {
    assert(p > 0 && p <= maxp);
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
    v->present = 1;
    switch (d->kind) {
    case SIM_STATE_VALUE:
        for (int i = 0; i < d->n_fields; i++) apply_field(&v->f[i], d->fields[i], value);
        break;
    case SIM_STATE_LIST: apply_top(v, value); break;
    case SIM_STATE_MAP: v->bucket[(uint64_t)value % SIM_BUCKETS]++; break;
    }
}

rt_err sim_state_compatible(const sim_state_desc *from, const sim_state_desc *to, rt_error *e) {
    if (from->kind != to->kind)
        return RT_FAIL(e, RT_ESCHEMA, "state '%s' was a %s state and is now a %s state",
                       from->name, sim_state_kind_name(from->kind), sim_state_kind_name(to->kind));
    return RT_OK;
}

rt_err sim_value_migrate(sim_value *v, const sim_state_desc *from, const sim_state_desc *to,
                         rt_error *e) {
    rt_err rc = sim_state_compatible(from, to, e);
    if (rc != RT_OK) return rc;
    if (from->kind != SIM_STATE_VALUE) return RT_OK;
    int64_t nf[SIM_MAX_FIELDS] = {0};
    for (int i = 0; i < to->n_fields; i++) {
        nf[i] = field_default(to->fields[i]);
        for (int j = 0; j < from->n_fields; j++)
            if (from->fields[j] == to->fields[i]) nf[i] = v->f[j];
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

/* Layout: one byte kind, one byte count, then count little-endian int64s
 * (value: fields in schema order; list: top values; map: bucket, count
 * pairs for non-empty buckets). */
size_t sim_value_encode(const sim_value *v, const sim_state_desc *d, uint8_t *buf, size_t cap) {
    assert(cap >= SIM_VALUE_BYTES_MAX);
    size_t at = 2;
    int count = 0;
    buf[0] = (uint8_t)d->kind;
    switch (d->kind) {
    case SIM_STATE_VALUE:
        for (int i = 0; i < d->n_fields; i++, count++) at = put_i64(buf, at, v->f[i]);
        break;
    case SIM_STATE_LIST:
        for (int i = 0; i < v->n_top; i++, count++) at = put_i64(buf, at, v->top[i]);
        break;
    case SIM_STATE_MAP:
        for (int i = 0; i < SIM_BUCKETS; i++)
            if (v->bucket[i]) {
                at = put_i64(buf, at, i);
                at = put_i64(buf, at, v->bucket[i]);
                count++;
            }
        break;
    }
    buf[1] = (uint8_t)count;
    assert(at <= SIM_VALUE_BYTES_MAX);
    return at;
}

rt_err sim_value_decode(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                        rt_error *e) {
    if (len < 2 || buf[0] != (uint8_t)d->kind)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value of %zu bytes is not a %s value", d->name,
                       len, sim_state_kind_name(d->kind));
    int count = buf[1];
    size_t width = d->kind == SIM_STATE_MAP ? 16 : 8;
    int max = d->kind == SIM_STATE_VALUE ? d->n_fields
              : d->kind == SIM_STATE_LIST ? SIM_TOP_N : SIM_BUCKETS;
    if (count > max || len != 2 + (size_t)count * width)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': value length %zu does not match its schema",
                       d->name, len);
    sim_value_init(v, d);
    v->present = 1;
    for (int i = 0; i < count; i++) {
        const uint8_t *p = buf + 2 + (size_t)i * width;
        if (d->kind == SIM_STATE_VALUE) v->f[i] = get_i64(p);
        else if (d->kind == SIM_STATE_LIST) v->top[v->n_top++] = get_i64(p);
        else {
            int64_t b = get_i64(p);
            if (b < 0 || b >= SIM_BUCKETS)
                return RT_FAIL(e, RT_EFORMAT, "state '%s': bucket %lld out of range", d->name,
                               (long long)b);
            v->bucket[b] = get_i64(p + 8);
        }
    }
    if (d->kind == SIM_STATE_VALUE && count != d->n_fields)
        return RT_FAIL(e, RT_EFORMAT, "state '%s': %d fields stored, schema has %d", d->name,
                       count, d->n_fields);
    return RT_OK;
}
