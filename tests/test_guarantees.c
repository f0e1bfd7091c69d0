/* test_guarantees: the table is rediscovered, not copied. For each
 * built-in mutant (one mechanism broken on purpose) the cell fed by that
 * mechanism must change, and a cell fed by other mechanisms must not: a
 * cell of the same row where one stays, else the same kind of a row the
 * mechanism does not feed. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "drv_scenario.h"
#include "test_util.h"

static char work[512];

static int setup(void) { return tu_mkdtemp(work, sizeof work, "guarantees"); }
static int teardown(void) { return tu_rmtree(work); }

/* The outcome of one cell's scenario run, with or without a mutant. */
static void outcome(const char *scenario, sim_kind kind, const char *backend, int variant,
                    sim_mutant m, char *out, size_t cap) {
    char path[256];
    snprintf(path, sizeof path, "scenarios/%s.json", scenario);
    drv_scn *s = NULL;
    rt_error e;
    rt_error_clear(&e);
    CU_ASSERT_FATAL(drv_scn_load(&s, path, &e) == RT_OK);
    drv_scn_env env = {NULL, work, NULL, m, NULL};
    drv_scn_result res;
    CU_ASSERT_FATAL(drv_scn_run(s, kind, backend, variant, 1, &env, &res, &e) == RT_OK);
    snprintf(out, cap, "%s", res.outcome);
    drv_scn_free(s);
}

typedef struct flip {
    sim_mutant mutant;
    const char *scenario;
    sim_kind kind;       /* the cell the mechanism feeds */
    const char *backend;
    int variant;
    sim_kind control;    /* a cell of the same row that must not move */
} flip;

/* The cell flips under the mutant, the control cell (same row, same
 * backend, variant control_variant) does not. Returns the cell's outcome
 * without the mutant, for callers that want to say which way it flips. */
static void check_flip_with(const flip *f, int control_variant, char *base, size_t cap) {
    char mut[16], cbase[16], cmut[16];
    outcome(f->scenario, f->kind, f->backend, f->variant, SIM_MUT_NONE, base, cap);
    outcome(f->scenario, f->kind, f->backend, f->variant, f->mutant, mut, sizeof mut);
    outcome(f->scenario, f->control, f->backend, control_variant, SIM_MUT_NONE, cbase, sizeof cbase);
    outcome(f->scenario, f->control, f->backend, control_variant, f->mutant, cmut, sizeof cmut);
    if (strcmp(base, mut) == 0 || strcmp(cbase, cmut) != 0)
        fprintf(stderr, "\n  mutant %s on %s: %s %s -> %s, control %s %s -> %s\n", sim_mutant_name(f->mutant),
                f->scenario, sim_kind_name(f->kind), base, mut, sim_kind_name(f->control), cbase, cmut);
    CU_ASSERT_STRING_NOT_EQUAL(base, mut);
    CU_ASSERT_STRING_EQUAL(cbase, cmut);
}

/* The control cell is (control_scenario, f->control); the flipping cell
 * must also start from `from` (NULL: any outcome). */
static void check_flip_vs(const flip *f, const char *control_scenario, const char *from) {
    char base[16], mut[16], cbase[16], cmut[16];
    outcome(f->scenario, f->kind, f->backend, f->variant, SIM_MUT_NONE, base, sizeof base);
    outcome(f->scenario, f->kind, f->backend, f->variant, f->mutant, mut, sizeof mut);
    outcome(control_scenario, f->control, f->backend, f->variant, SIM_MUT_NONE, cbase, sizeof cbase);
    outcome(control_scenario, f->control, f->backend, f->variant, f->mutant, cmut, sizeof cmut);
    if (strcmp(base, mut) == 0 || strcmp(cbase, cmut) != 0 || (from && strcmp(base, from) != 0))
        fprintf(stderr, "\n  mutant %s on %s: %s %s -> %s, control %s %s %s -> %s\n", sim_mutant_name(f->mutant),
                f->scenario, sim_kind_name(f->kind), base, mut, control_scenario, sim_kind_name(f->control),
                cbase, cmut);
    if (from) CU_ASSERT_STRING_EQUAL(base, from);
    CU_ASSERT_STRING_NOT_EQUAL(base, mut);
    CU_ASSERT_STRING_EQUAL(cbase, cmut);
}

static void check_flip(const flip *f) { check_flip_vs(f, f->scenario, NULL); }

/* Savepoints lose relocatability when their metadata holds their own
 * files by absolute path; the mutant leaves checkpoints alone. */
static void test_absolute_savepoint_paths(void) {
    flip f = {SIM_MUT_SAVEPOINT_ABSOLUTE, "relocatable", SIM_KIND_NATIVE, "heap", 0, SIM_KIND_ALIGNED};
    check_flip(&f);
    flip g = {SIM_MUT_SAVEPOINT_ABSOLUTE, "relocatable", SIM_KIND_CANONICAL, "rocksdb", 0, SIM_KIND_UNALIGNED};
    check_flip(&g);
}

/* If a patch release changed the channel-state serialization version,
 * unaligned checkpoints would stop surviving patch upgrades; aligned ones
 * would not. */
static void test_channel_format_per_patch(void) {
    flip f = {SIM_MUT_CS_FORMAT_PER_PATCH, "patch_upgrade", SIM_KIND_UNALIGNED, "heap", 1, SIM_KIND_ALIGNED};
    check_flip(&f);
}

/* The _metadata version gate (Checkpoints.loadCheckpointMetadata through
 * MetadataSerializers): a 1.15 reader refuses 1.16's V4, 1.20 refuses 2.0's
 * V5. Without the gate the downgrade goes through; a downgrade within one
 * metadata version (1.15.4 -> 1.15.0, variant 0) is not moved. */
static void test_metadata_version_gate(void) {
    char base[16];
    flip f = {SIM_MUT_IGNORE_METADATA_VERSION, "downgrade", SIM_KIND_CANONICAL, "heap", 1, SIM_KIND_CANONICAL};
    check_flip_with(&f, 0, base, sizeof base);
    CU_ASSERT_STRING_EQUAL(base, "rejected");
    flip g = {SIM_MUT_IGNORE_METADATA_VERSION, "downgrade", SIM_KIND_ALIGNED, "rocksdb", 4, SIM_KIND_ALIGNED};
    check_flip_with(&g, 0, base, sizeof base);
    CU_ASSERT_STRING_EQUAL(base, "rejected");
}

/* The SST footer check: 1.14's RocksDB 6.20.3 writes format_version 5,
 * 1.13's RocksDB 5.17 reads up to 4, so native RocksDB state does not go
 * back (variant 3); a canonical savepoint has no SST and stays. The same
 * from the RocksDB-bump row's step back (6.20.3 -> 5.17.2, variant 2). */
static void test_sst_footer_check(void) {
    char base[16];
    flip f = {SIM_MUT_IGNORE_SST_FOOTER, "downgrade", SIM_KIND_NATIVE, "rocksdb", 3, SIM_KIND_CANONICAL};
    check_flip_with(&f, 3, base, sizeof base);
    CU_ASSERT_STRING_EQUAL(base, "rejected");
    flip g = {SIM_MUT_IGNORE_SST_FOOTER, "rocksdb_bump", SIM_KIND_ALIGNED, "rocksdb", 2, SIM_KIND_CANONICAL};
    check_flip_with(&g, 2, base, sizeof base);
    CU_ASSERT_STRING_EQUAL(base, "rejected");
}

/* Dropping the in-flight records of an unaligned checkpoint loses data:
 * the oracle must see it; aligned checkpoints carry none. */
static void test_drop_channel_state(void) {
    flip f = {SIM_MUT_DROP_CHANNEL_STATE, "rescaling", SIM_KIND_UNALIGNED, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip(&f);
}

/* Native snapshots migrate state in place; canonical migrates on read. */
static void test_native_migration(void) {
    flip f = {SIM_MUT_NO_NATIVE_MIGRATION, "schema_evolution", SIM_KIND_NATIVE, "heap", 0, SIM_KIND_CANONICAL};
    check_flip(&f);
    flip g = {SIM_MUT_NO_NATIVE_MIGRATION, "schema_evolution", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip(&g);
}

/* NO_CLAIM's forced full checkpoint is what keeps later checkpoints off
 * the restored files (RocksDB incremental; a canonical restore has no
 * SSTs to reuse). */
static void test_no_claim_full_checkpoint(void) {
    flip f = {SIM_MUT_NO_CLAIM_INCREMENTAL, "restore_no_claim", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip(&f);
}

/* FLINK-26985: highest_not_claimed is what protects a LEGACY restore's
 * files (of a checkpoint: a native savepoint's cell already ends at
 * FLINK-39964). */
static void test_registry_ownership(void) {
    flip f = {SIM_MUT_FLINK_26985, "restore_legacy", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip(&f);
}

/* State backend change works from a canonical savepoint only because any
 * backend reads the canonical format; native snapshots never did. */
static void test_canonical_backend_bound(void) {
    flip f = {SIM_MUT_CANONICAL_BACKEND_BOUND, "backend_change", SIM_KIND_CANONICAL, "heap", 0, SIM_KIND_NATIVE};
    check_flip_vs(&f, f.scenario, "works");
    flip g = {SIM_MUT_CANONICAL_BACKEND_BOUND, "backend_change", SIM_KIND_CANONICAL, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&g, g.scenario, "works");
}

/* A field's type change and a key type change are rejected only because
 * the restore resolves the serializers; every kind is rejected, so the
 * control is a compatible change of the same kind. */
static void test_schema_checked(void) {
    flip f = {SIM_MUT_SCHEMA_UNCHECKED, "schema_type_changed", SIM_KIND_CANONICAL, "heap", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&f, "schema_evolution", "rejected");
    flip g = {SIM_MUT_SCHEMA_UNCHECKED, "key_type_changed", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_NATIVE};
    check_flip_vs(&g, "schema_evolution", "rejected");
}

/* A reordered key enum reads native bytes only through the reconfigured
 * serializer (old ordinals); a canonical restore rewrites every entry. */
static void test_reconfigured_serializer(void) {
    flip f = {SIM_MUT_RECONFIGURE_AS_IS, "schema_reconfigured", SIM_KIND_NATIVE, "heap", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&f, f.scenario, "works");
    flip g = {SIM_MUT_RECONFIGURE_AS_IS, "schema_reconfigured", SIM_KIND_UNALIGNED, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&g, g.scenario, "works");
}

/* The non-arbitrary upgrade changes what the operator computes: if the new
 * code did not run, the oracle (which follows it) disagrees, in every kind;
 * the arbitrary upgrade's job keeps code version 1. */
static void test_new_code_runs(void) {
    flip f = {SIM_MUT_CODE_IGNORED, "non_arbitrary_upgrade", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&f, "arbitrary_upgrade", "works");
}

/* Records in flight in an unaligned checkpoint are processed by the new
 * job after the restore, and the oracle counts them under the new code;
 * an aligned checkpoint has none. */
static void test_recovered_records_new_code(void) {
    flip f = {SIM_MUT_RECOVERED_OLD_CODE, "non_arbitrary_upgrade", SIM_KIND_UNALIGNED, "heap", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&f, f.scenario, "works");
    flip g = {SIM_MUT_RECOVERED_OLD_CODE, "non_arbitrary_upgrade", SIM_KIND_UNALIGNED, "rocksdb", 0, SIM_KIND_NATIVE};
    check_flip_vs(&g, g.scenario, "works");
}

/* FLINK-39964, open in every release: a checkpoint that reuses a claimed
 * native savepoint's SSTs names them relative, re-anchored to its own
 * directory, so the cell is corrupted (as on real Flink); with the fix
 * (the mutant) it works. A canonical savepoint leaves no SSTs to reuse. */
static void test_flink_39964(void) {
    flip f = {SIM_MUT_FOREIGN_ABSOLUTE, "restore_claim", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&f, f.scenario, "corrupted");
    flip g = {SIM_MUT_FOREIGN_ABSOLUTE, "restore_legacy", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&g, g.scenario, "corrupted");
}

/* The bugs that reached Flink's users (scenarios/shipped/: each checks one
 * bug's symptom). Each mutant breaks its scenario, which works without it,
 * and leaves a matrix cell that does not exercise the mechanism alone. */

/* FLINK-24611: an abort must leave shared state to the registry; no cell of
 * the matrix aborts an acknowledged checkpoint. */
static void test_flink_24611(void) {
    flip f = {SIM_MUT_FLINK_24611, "shipped/flink_24611", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&f, "restore_claim", "works");
}

/* FLINK-25395: a task reuses only confirmed uploads; with one checkpoint
 * at a time nothing unconfirmed is ever there to reuse. */
static void test_flink_25395(void) {
    flip f = {SIM_MUT_FLINK_25395, "shipped/flink_25395", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&f, "restore_claim", "works");
}

/* FLINK-29913: two checkpoints in progress upload one SST; one at a time
 * (every matrix cell) never do. */
static void test_flink_29913(void) {
    flip f = {SIM_MUT_FLINK_29913, "shipped/flink_29913", SIM_KIND_ALIGNED, "rocksdb", 0, SIM_KIND_ALIGNED};
    check_flip_vs(&f, "restore_legacy", "works");
}

/* FLINK-21351: a savepoint in the store (Flink 1.14) must not subsume the
 * last checkpoint; from 1.15 savepoints are not in the store. */
static void test_flink_21351(void) {
    flip f = {SIM_MUT_FLINK_21351, "shipped/flink_21351", SIM_KIND_CANONICAL, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip_vs(&f, "restore_claim", "works");
    flip g = {SIM_MUT_FLINK_21351, "shipped/flink_21351", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_NATIVE};
    check_flip_vs(&g, "restore_claim", "works");
}

/* FLINK-23949: the checkpoint after a savepoint uploads only what is new;
 * a 1.15 savepoint is not notified to the tasks at all. */
static void test_flink_23949(void) {
    flip f = {SIM_MUT_FLINK_23949, "shipped/flink_23949", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_NATIVE};
    check_flip_vs(&f, "restore_claim", "works");
}

/* The State Processor API reader must open native state with the backend
 * that wrote it; canonical state reads into any. */
static void test_spa_reader_backend(void) {
    flip f = {SIM_MUT_SPA_READER_DEFAULT_BACKEND, "spa_read", SIM_KIND_NATIVE, "rocksdb", 0, SIM_KIND_CANONICAL};
    check_flip(&f);
}

/* The writer ships untouched operators as they are, and one with channel
 * state cannot be shipped (Flink's writer fails on it, as the lane saw): a
 * writer that dropped the in-flight records instead would write a
 * savepoint whose restore loses them; an aligned checkpoint has none. */
static void test_spa_writer_carries_channel_state(void) {
    flip f = {SIM_MUT_SPA_DROPS_CHANNEL_STATE, "spa_write", SIM_KIND_UNALIGNED, "heap", 0, SIM_KIND_ALIGNED};
    check_flip(&f);
}

/* SavepointWriter.getFinalOperatorStates ships existing OperatorStates as
 * Kryo records, which channel-state handles do not survive: rejected for
 * an unaligned checkpoint on both backends, an aligned one works. */
static void test_spa_writer_refuses_channel_state(void) {
    char out[32];
    outcome("spa_write", SIM_KIND_UNALIGNED, "heap", 0, SIM_MUT_NONE, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "rejected");
    outcome("spa_write", SIM_KIND_UNALIGNED, "rocksdb", 0, SIM_MUT_NONE, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "rejected");
    outcome("spa_write", SIM_KIND_ALIGNED, "heap", 0, SIM_MUT_NONE, out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "works");
}

/* Costs emerge from the mechanism too: if the registry confirmed no
 * upload, every incremental checkpoint would upload every SST again. No
 * outcome moves, but an incremental RocksDB cell writes more than 10% more
 * bytes (a cost regression for `matrix diff`); a heap cell writes the
 * same. */
static void cell_cost(const char *scenario, sim_kind kind, const char *backend, sim_mutant m, char *outcome_out,
                      uint64_t *bytes) {
    char path[256];
    snprintf(path, sizeof path, "scenarios/%s.json", scenario);
    drv_scn *s = NULL;
    rt_error e;
    CU_ASSERT_FATAL(drv_scn_load(&s, path, &e) == RT_OK);
    drv_scn_env env = {NULL, work, NULL, m, NULL};
    drv_scn_result res;
    CU_ASSERT_FATAL(drv_scn_run(s, kind, backend, 0, 1, &env, &res, &e) == RT_OK);
    snprintf(outcome_out, 16, "%s", res.outcome);
    *bytes = res.bytes;
    drv_scn_free(s);
}

static void test_incremental_costs(void) {
    char base[16], mut[16];
    uint64_t b0, b1;
    /* An aligned checkpoint: a native savepoint's cell ends at FLINK-39964. */
    cell_cost("restore_claim_reuse", SIM_KIND_ALIGNED, "rocksdb", SIM_MUT_NONE, base, &b0);
    cell_cost("restore_claim_reuse", SIM_KIND_ALIGNED, "rocksdb", SIM_MUT_CONFIRM_NOTHING, mut, &b1);
    CU_ASSERT_STRING_EQUAL(base, mut);
    CU_ASSERT(b1 * 10 > b0 * 11);
    if (b1 * 10 <= b0 * 11) fprintf(stderr, "\n  bytes %llu -> %llu\n", (unsigned long long)b0, (unsigned long long)b1);
    cell_cost("restore_claim_reuse", SIM_KIND_NATIVE, "heap", SIM_MUT_NONE, base, &b0);
    cell_cost("restore_claim_reuse", SIM_KIND_NATIVE, "heap", SIM_MUT_CONFIRM_NOTHING, mut, &b1);
    CU_ASSERT_STRING_EQUAL(base, mut);
    CU_ASSERT_EQUAL(b0, b1);
}

int suite_guarantees(void) {
    CU_pSuite s = CU_add_suite("guarantees", setup, teardown);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "absolute savepoint paths flip relocatable", test_absolute_savepoint_paths) ||
        !CU_add_test(s, "channel format per patch flips patch upgrade", test_channel_format_per_patch) ||
        !CU_add_test(s, "dropped channel state is corruption", test_drop_channel_state) ||
        !CU_add_test(s, "metadata version gate flips downgrade", test_metadata_version_gate) ||
        !CU_add_test(s, "SST footer check flips downgrade and bump", test_sst_footer_check) ||
        !CU_add_test(s, "native restore must migrate", test_native_migration) ||
        !CU_add_test(s, "no-claim first checkpoint is full", test_no_claim_full_checkpoint) ||
        !CU_add_test(s, "registry respects ownership (FLINK-26985)", test_registry_ownership) ||
        !CU_add_test(s, "any backend reads canonical state", test_canonical_backend_bound) ||
        !CU_add_test(s, "incompatible serializers are rejected", test_schema_checked) ||
        !CU_add_test(s, "a reconfigured serializer reads old bytes", test_reconfigured_serializer) ||
        !CU_add_test(s, "a non-arbitrary upgrade runs the new code", test_new_code_runs) ||
        !CU_add_test(s, "in-flight records run the new code", test_recovered_records_new_code) ||
        !CU_add_test(s, "reused foreign relative handles are re-anchored (FLINK-39964)", test_flink_39964) ||
        !CU_add_test(s, "an abort leaves shared state to subsumption (FLINK-24611)", test_flink_24611) ||
        !CU_add_test(s, "only confirmed uploads are reused (FLINK-25395)", test_flink_25395) ||
        !CU_add_test(s, "concurrent checkpoints do not collide in the registry (FLINK-29913)", test_flink_29913) ||
        !CU_add_test(s, "a savepoint keeps the last checkpoint (FLINK-21351)", test_flink_21351) ||
        !CU_add_test(s, "after a savepoint only new SSTs are uploaded (FLINK-23949)", test_flink_23949) ||
        !CU_add_test(s, "SPA reader opens native state with its backend", test_spa_reader_backend) ||
        !CU_add_test(s, "SPA writer carries untouched channel state", test_spa_writer_carries_channel_state) ||
        !CU_add_test(s, "SPA writer cannot ship channel state", test_spa_writer_refuses_channel_state) ||
        !CU_add_test(s, "incremental checkpoints reuse confirmed uploads (costs)", test_incremental_costs))
        return -1;
    return 0;
}
