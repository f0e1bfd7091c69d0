/* sim_state: keyed state as the operators see it: key groups, the state
 * descriptors with their schemas, and the per-key values with their
 * serialization and schema migration. Every update is commutative (count,
 * sum, xor, max, min, top-3, bucket counts) so the oracle can recompute a
 * key's state without knowing the order in which records arrived. */
#ifndef SIM_STATE_H
#define SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "rt_err.h"

#define SIM_MAX_STATES 4
#define SIM_MAX_FIELDS 6
#define SIM_TOP_N 3
#define SIM_BUCKETS 8
#define SIM_NAME_MAX 32

typedef enum { SIM_STATE_VALUE, SIM_STATE_LIST, SIM_STATE_MAP } sim_state_kind;

/* The fields a value state may carry; each has a fixed update rule. */
typedef enum { SIM_F_COUNT, SIM_F_SUM, SIM_F_XOR, SIM_F_MAX, SIM_F_MIN, SIM_F_KIND_COUNT } sim_field;

/* A state descriptor and its schema (what Flink calls the serializer
 * snapshot): written into every snapshot, compared on restore. */
typedef struct sim_state_desc {
    char name[SIM_NAME_MAX];
    sim_state_kind kind;
    int schema_version;
    int n_fields;                     /* value states only */
    sim_field fields[SIM_MAX_FIELDS]; /* value states only */
} sim_state_desc;

/* One key's decoded value in one state. */
typedef struct sim_value {
    int present;
    int64_t f[SIM_MAX_FIELDS]; /* value state: in schema order */
    int n_top;
    int64_t top[SIM_TOP_N];     /* list state: largest first */
    int64_t bucket[SIM_BUCKETS]; /* map state: count per value bucket */
} sim_value;

const char *sim_state_kind_name(sim_state_kind k);
int sim_state_kind_parse(const char *s, sim_state_kind *out);
const char *sim_field_name(sim_field f);
int sim_field_parse(const char *s, sim_field *out);

/* Key groups (Flink's KeyGroupRangeAssignment, written from its contract). */
uint32_t sim_key_group(uint64_t key, uint32_t max_parallelism);
void sim_key_group_range(uint32_t max_parallelism, uint32_t parallelism, uint32_t index,
                         uint32_t *lo, uint32_t *hi);
uint32_t sim_key_group_owner(uint32_t kg, uint32_t max_parallelism, uint32_t parallelism);

void sim_value_init(sim_value *v, const sim_state_desc *d);
/* Applies one record value under the descriptor's schema. */
void sim_value_apply(sim_value *v, const sim_state_desc *d, int64_t value);
/* Moves v from schema `from` to schema `to` (same kind): fields matched by
 * name, new fields get their neutral default, removed fields are dropped. */
rt_err sim_value_migrate(sim_value *v, const sim_state_desc *from, const sim_state_desc *to,
                         rt_error *e);
int sim_value_equal(const sim_value *a, const sim_value *b, const sim_state_desc *d);
/* Human-readable form for error messages and the State Processor API. */
void sim_value_format(const sim_value *v, const sim_state_desc *d, char *buf, size_t cap);

/* Serialized form: what backends store. Returns the byte length written
 * (<= cap; SIM_VALUE_BYTES_MAX is always enough). */
#define SIM_VALUE_BYTES_MAX 160
size_t sim_value_encode(const sim_value *v, const sim_state_desc *d, uint8_t *buf, size_t cap);
rt_err sim_value_decode(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                        rt_error *e);

/* Whether a restore can migrate from -> to, with the reason if not. */
rt_err sim_state_compatible(const sim_state_desc *from, const sim_state_desc *to, rt_error *e);

#endif
