/* sim_job: the job graph. A chain of operators (source, stateless maps,
 * keyed operators, one sink); each operator has a uid, a parallelism and a
 * max parallelism, and the edge into it has a partitioning and a record
 * type. Sources read `splits` splits whose records are a pure function of
 * (source seed, split, offset), so the oracle can recompute any of them. */
#ifndef SIM_JOB_H
#define SIM_JOB_H

#include <stdint.h>

#include "rt_err.h"
#include "sim_state.h"

#define SIM_MAX_OPS 6
#define SIM_MAX_SPLITS 16
#define SIM_TYPE_MAX 48

typedef enum { SIM_OP_SOURCE, SIM_OP_MAP, SIM_OP_KEYED, SIM_OP_SINK } sim_op_kind;
typedef enum { SIM_EDGE_FORWARD, SIM_EDGE_HASH, SIM_EDGE_REBALANCE } sim_edge_kind;

typedef struct sim_op {
    char uid[SIM_NAME_MAX];
    sim_op_kind kind;
    uint32_t parallelism;
    uint32_t max_parallelism;
    int code_version;  /* which version of the operator's code (sim_op_process) */
    sim_ftype key_type; /* keyed operators: the declared type of the key */
    uint32_t cost_ms;  /* virtual processing time per record */
    sim_edge_kind in_edge;        /* edge from the previous operator */
    char in_type[SIM_TYPE_MAX];   /* record type on that edge */
    int n_states;
    sim_state_desc states[SIM_MAX_STATES];
} sim_op;

typedef struct sim_job {
    char name[SIM_NAME_MAX];
    uint32_t splits;
    uint32_t keys;
    /* 0: a record's key is drawn from its (seed, split, offset) below keys;
     * 1: record (split, offset) has key offset * splits + split, a key of
     * its own (JSON "key_per_record"; the payload job). */
    int key_per_record;
    int n_ops;
    sim_op ops[SIM_MAX_OPS];
} sim_job;

/* A record on the wire. Its id is (split << 40 | offset): every record
 * type carries it, so in-flight records can be named in metadata. */
typedef struct sim_record {
    uint64_t id;
    uint64_t key;
    int64_t value;
} sim_record;

#define SIM_RECORD_ID(split, offset) (((uint64_t)(split) << 40) | (uint64_t)(offset))
#define SIM_RECORD_SPLIT(id) ((uint32_t)((id) >> 40))
#define SIM_RECORD_OFFSET(id) ((id) & ((1ULL << 40) - 1))

sim_record sim_record_make(uint64_t source_seed, const sim_job *job, uint32_t split,
                           uint64_t offset);

/* The keyed operator's user code, by version: what one record does to one
 * of its states. Version 1 folds the record's value in once; version 2 (the
 * new code of a non-arbitrary upgrade: same graph, same record types)
 * folds it in twice, so every record it processes, in-flight ones restored
 * from channel state included, leaves other state behind. Sources, maps and
 * sinks pass records through unchanged in every version. */
#define SIM_CODE_VERSION_MAX 2
void sim_op_process(int code_version, sim_value *v, const sim_state_desc *d, int64_t value);

const char *sim_op_kind_name(sim_op_kind k);
const char *sim_edge_kind_name(sim_edge_kind k);

void sim_job_default(sim_job *job);
/* The built-in job of a large state: the default job's graph, whose keyed
 * operator "store" holds one payload state ("payload", SIM_PAYLOAD_BYTES
 * random bytes a record), each record writing a key of its own
 * (key_per_record), so the state grows by one payload a record. */
#define SIM_PAYLOAD_KEYS 2147483647u
void sim_job_payload(sim_job *job);
/* Fills job with the built-in job called name ("default", "payload");
 * 0 if there is one, -1 if not. */
int sim_job_builtin(sim_job *job, const char *name);
/* Parses a JSON job graph (see scenarios/jobs/ *.json); errors name the
 * field. `what` names the source (file name) in messages. */
rt_err sim_job_load(sim_job *job, const char *path, rt_error *e);
/* jansson object in and out (metadata embeds the job). */
struct json_t;
rt_err sim_job_from_json(sim_job *job, struct json_t *root, const char *what, rt_error *e);
struct json_t *sim_job_to_json(const sim_job *job);
rt_err sim_job_validate(const sim_job *job, const char *what, rt_error *e);
int sim_job_find(const sim_job *job, const char *uid);
/* The virtual time the job needs for `records` records at its slowest
 * operator (cost_ms per record, spread over its parallel subtasks): what a
 * run of that many records lasts, about. */
uint64_t sim_job_run_ms(const sim_job *job, uint64_t records);

struct json_t *sim_schema_to_json(const sim_state_desc *d);
rt_err sim_schema_from_json(sim_state_desc *d, struct json_t *j, const char *what, rt_error *e);

#endif
