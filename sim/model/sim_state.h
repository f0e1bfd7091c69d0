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
#define SIM_ENUM_MAX 16 /* constants of a map state's key enum */

/* A payload state (a ValueState<byte[]> of SIM_PAYLOAD_BYTES random bytes)
 * is the shape of a large state: each record's value seeds the PRNG that
 * draws the bytes, incompressible, and a key keeps the largest payload
 * (bytewise) of the records it got, so the update stays commutative; a job
 * whose keys are all distinct (sim_job_payload) stores one payload per
 * record and its state grows with the records. */
typedef enum { SIM_STATE_VALUE, SIM_STATE_LIST, SIM_STATE_MAP, SIM_STATE_PAYLOAD } sim_state_kind;
#define SIM_STATE_KIND_COUNT 4
#define SIM_PAYLOAD_BYTES 100

/* The fields a value state may carry; each has a fixed update rule. */
typedef enum { SIM_F_COUNT, SIM_F_SUM, SIM_F_XOR, SIM_F_MAX, SIM_F_MIN, SIM_F_KIND_COUNT } sim_field;

/* The declared type of a POJO field or of the key: which serializer writes
 * it (Flink's LongSerializer, StringSerializer). The value is an int64
 * either way; the bytes differ. */
typedef enum { SIM_T_LONG, SIM_T_STRING, SIM_T_COUNT } sim_ftype;

/* A state descriptor and its schema (what Flink calls the serializer
 * snapshot): written into every snapshot, compared on restore.
 * A value state is a POJO: fields by name (the update rule) and declared
 * type. A map state maps a key enum (constants "B0".."B15"; a record's
 * value picks B<value % SIM_BUCKETS>) to counts; the enum's serializer
 * writes a constant's position in `consts`, like Flink's EnumSerializer. */
typedef struct sim_state_desc {
    char name[SIM_NAME_MAX];
    sim_state_kind kind;
    int schema_version;
    int n_fields;                     /* value states only */
    sim_field fields[SIM_MAX_FIELDS]; /* value states only */
    sim_ftype types[SIM_MAX_FIELDS];  /* value states only; 0 = long */
    int n_consts;                     /* map states: 0 = declared B0..B7 */
    uint8_t consts[SIM_ENUM_MAX];     /* map states: constant at each ordinal */
} sim_state_desc;

/* One key's decoded value in one state. */
typedef struct sim_value {
    int present;
    int64_t f[SIM_MAX_FIELDS]; /* value state: in schema order */
    int n_top;
    int64_t top[SIM_TOP_N];     /* list state: largest first */
    int64_t bucket[SIM_BUCKETS]; /* map state: count per value bucket */
    uint8_t payload[SIM_PAYLOAD_BYTES]; /* payload state */
} sim_value;

const char *sim_state_kind_name(sim_state_kind k);
int sim_state_kind_parse(const char *s, sim_state_kind *out);
const char *sim_field_name(sim_field f);
int sim_field_parse(const char *s, sim_field *out);
const char *sim_ftype_name(sim_ftype t);
int sim_ftype_parse(const char *s, sim_ftype *out);
/* A map state's key-enum constants in ordinal order (the default B0..B7
 * when none are declared); returns how many. */
int sim_state_consts(const sim_state_desc *d, uint8_t out[SIM_ENUM_MAX]);
/* 1 unless a map state declares other constants, or another order, than
 * the default B0..B7. */
int sim_state_consts_default(const sim_state_desc *d);

/* Key groups (Flink's KeyGroupRangeAssignment, written from its contract). */
uint32_t sim_key_group(uint64_t key, uint32_t max_parallelism);
void sim_key_group_range(uint32_t max_parallelism, uint32_t parallelism, uint32_t index,
                         uint32_t *lo, uint32_t *hi);
uint32_t sim_key_group_owner(uint32_t kg, uint32_t max_parallelism, uint32_t parallelism);

void sim_value_init(sim_value *v, const sim_state_desc *d);
/* The payload a record value draws (rt_prng seeded from it). */
void sim_payload_draw(int64_t value, uint8_t out[SIM_PAYLOAD_BYTES]);
/* Applies one record value under the descriptor's schema. */
void sim_value_apply(sim_value *v, const sim_state_desc *d, int64_t value);
/* Moves v from schema `from` to schema `to` (same kind): fields matched by
 * name, new fields get their neutral default, removed fields are dropped.
 * Whether the change is allowed at all is sim_state_resolve's question. */
rt_err sim_value_migrate(sim_value *v, const sim_state_desc *from, const sim_state_desc *to,
                         rt_error *e);
int sim_value_equal(const sim_value *a, const sim_value *b, const sim_state_desc *d);
/* Human-readable form for error messages and the State Processor API. */
void sim_value_format(const sim_value *v, const sim_state_desc *d, char *buf, size_t cap);

/* Serialized form: what backends store, as the descriptor's serializer
 * writes it (a long field as 8 bytes, a string field as its decimal text,
 * a map bucket as its constant's ordinal). Returns the byte length written
 * (<= cap; SIM_VALUE_BYTES_MAX is always enough). */
#define SIM_VALUE_BYTES_MAX 160
size_t sim_value_encode(const sim_value *v, const sim_state_desc *d, uint8_t *buf, size_t cap);
rt_err sim_value_decode(sim_value *v, const sim_state_desc *d, const uint8_t *buf, size_t len,
                        rt_error *e);

/* Flink's four answers (TypeSerializerSchemaCompatibility) to "can state
 * written with `prior` be used with `next`?". */
typedef enum {
    SIM_COMPAT_AS_IS,              /* same serialization: use next */
    SIM_COMPAT_AFTER_MIGRATION,    /* read with prior, write with next */
    SIM_COMPAT_RECONFIGURED,       /* use a reconfigured next that reads prior's bytes */
    SIM_COMPAT_INCOMPATIBLE        /* no way: StateMigrationException */
} sim_compat;

const char *sim_compat_name(sim_compat c);

/* Resolves prior (the serializer snapshot in the snapshot) against next
 * (the job's descriptor), as PojoSerializerSnapshot, EnumSerializerSnapshot
 * and the composite list/map snapshots do: a value state with fields added
 * or removed migrates, one whose pre-existing field changed its declared
 * type is incompatible; a map state whose key enum lists its constants in
 * another order (or adds some) is compatible with a reconfigured
 * serializer that keeps prior's ordinals and appends the new constants,
 * and one that lost a constant is incompatible; a changed state kind is
 * incompatible. Fills *serializer with what the backend must register
 * (next, or the reconfigured one) unless incompatible, which is
 * RT_ESCHEMA with the reason. */
rt_err sim_state_resolve(const sim_state_desc *prior, const sim_state_desc *next, sim_compat *out,
                         sim_state_desc *serializer, rt_error *e);

#endif
