/* test_restore: sim/sim_restore.c and what FLIP-193/203 promise about it:
 * restore modes and who owns the restored files, failover, rescaling,
 * relocation, crossing backends, schema migration, and clean rejection of
 * damaged or hostile snapshots with nothing half-restored left behind.
 * Every restore that works is checked against the exactly-once oracle. */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

/* The files of the snapshot in dir, _metadata included. */
static void snapshot_files(rt_store *s, const char *dir, rt_strlist *out) {
    sf_files f;
    sf_meta_files(s, dir, &f);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < f.n; i++) CU_ASSERT_FATAL(rt_strlist_push(out, f.f[i].ref.path) == 0);
    char meta[SIM_PATH_MAX + 16];
    snprintf(meta, sizeof meta, "%s/_metadata", dir);
    CU_ASSERT_FATAL(rt_strlist_push(out, meta) == 0);
    sf_files_free(&f);
}

static size_t count_existing(rt_store *s, const rt_strlist *l) {
    size_t n = 0;
    for (size_t i = 0; i < l->len; i++) n += rt_store_exists(s, l->items[i]) != 0;
    return n;
}

static size_t count_shared(rt_store *s, const char *dir) {
    sf_files f;
    sf_meta_files(s, dir, &f);
    size_t n = 0;
    for (size_t i = 0; i < f.n; i++) n += f.f[i].ref.shared != 0;
    sf_files_free(&f);
    return n;
}

/* How many of the files `l` are referenced by retained checkpoint id
 * (id < 0: by any). */
static size_t count_referenced(const sim_run *r, int64_t id, const rt_strlist *l) {
    rt_strlist used;
    sf_retained(r, id, &used);
    size_t n = 0;
    for (size_t i = 0; i < l->len; i++) n += sf_strlist_has(&used, l->items[i]) != 0;
    rt_strlist_free(&used);
    return n;
}

static int is_retained(const sim_run *r, int64_t id) {
    int64_t ids[16];
    int n = sf_retained_ids(r, ids, 16);
    for (int i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

static int64_t checkpoint_id_of(rt_store *s, const char *dir) {
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    int64_t id = m.checkpoint_id;
    sim_meta_free(&m);
    return id;
}

/* A checkpoint of a first job with enough state for several SSTs. */
static void first_job_checkpoint(rt_store *s, const char *backend, uint64_t seed, char *dir, size_t cap) {
    sim_config c;
    sf_config(&c, s, backend, seed);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    sf_snapshot(r, SIM_KIND_ALIGNED, dir, cap);
    sim_run_destroy(r);
}

/* ---- restore modes (FLIP-193) ---------------------------------------------- */

static void no_claim(const char *backend) {
    rt_store *s = sf_mem_store();
    char chk[SIM_PATH_MAX], first[SIM_PATH_MAX];
    first_job_checkpoint(s, backend, 61, chk, sizeof chk);
    int64_t restored_id = checkpoint_id_of(s, chk);
    rt_strlist restored;
    snapshot_files(s, chk, &restored);
    if (strcmp(backend, "rocksdb") == 0) CU_ASSERT(count_shared(s, chk) > 0);

    sim_config c;
    sf_config(&c, s, backend, 62);
    sim_run *r = sf_restored(&c, chk, SIM_MODE_NO_CLAIM);
    sf_snapshot(r, SIM_KIND_ALIGNED, first, sizeof first);
    int64_t first_id = checkpoint_id_of(s, first);
    CU_ASSERT_EQUAL(first_id, restored_id + 1);
    /* The first checkpoint is full: it references nothing restored. */
    CU_ASSERT_FATAL(is_retained(r, first_id));
    CU_ASSERT(count_referenced(r, first_id, &restored) == 0);
    char *text = sf_read_metadata(s, first);
    CU_ASSERT(strstr(text, "\"sharing\": \"FORWARD\"") != NULL);
    free(text);

    sf_records(r, 1200);
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    CU_ASSERT(!is_retained(r, restored_id));
    CU_ASSERT(sim_run_checkpoint_count(r) > 2 * c.retained + 2);
    CU_ASSERT(count_referenced(r, -1, &restored) == 0);
    CU_ASSERT_EQUAL(count_existing(s, &restored), restored.len); /* never deleted */
    sf_verify(r);
    rt_strlist_free(&restored);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_no_claim_rocksdb(void) { no_claim("rocksdb"); }
static void test_no_claim_heap(void) { no_claim("heap"); }

static void claim(const char *backend) {
    rt_store *s = sf_mem_store();
    char chk[SIM_PATH_MAX], meta[SIM_PATH_MAX + 16];
    first_job_checkpoint(s, backend, 63, chk, sizeof chk);
    int64_t restored_id = checkpoint_id_of(s, chk);
    rt_strlist restored;
    snapshot_files(s, chk, &restored);
    snprintf(meta, sizeof meta, "%s/_metadata", chk);

    sim_config c;
    sf_config(&c, s, backend, 64);
    sim_run *r = sf_restored(&c, chk, SIM_MODE_CLAIM);
    sf_records(r, 1200);
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    CU_ASSERT_FATAL(!is_retained(r, restored_id));
    /* Once subsumed, what nothing retained uses is gone; what is still
     * used (reused SSTs) is there. */
    rt_strlist used;
    sf_retained(r, -1, &used);
    size_t gone = 0;
    for (size_t i = 0; i < restored.len; i++) {
        int exists = rt_store_exists(s, restored.items[i]);
        int needed = sf_strlist_has(&used, restored.items[i]);
        if (exists != needed)
            fprintf(stderr, "\n%s: exists %d, referenced %d\n", restored.items[i], exists, needed);
        CU_ASSERT_EQUAL(exists, needed);
        gone += !exists;
    }
    CU_ASSERT(gone > 0);
    CU_ASSERT(!rt_store_exists(s, meta));
    if (strcmp(backend, "heap") == 0) CU_ASSERT_EQUAL(gone, restored.len);
    sf_verify(r);
    rt_strlist_free(&used);
    rt_strlist_free(&restored);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_claim_rocksdb(void) { claim("rocksdb"); }
static void test_claim_heap(void) { claim("heap"); }

static void legacy(const char *backend) {
    rt_store *s = sf_mem_store();
    char chk[SIM_PATH_MAX], first[SIM_PATH_MAX];
    first_job_checkpoint(s, backend, 65, chk, sizeof chk);
    int64_t restored_id = checkpoint_id_of(s, chk);
    rt_strlist restored;
    snapshot_files(s, chk, &restored);

    sim_config c;
    sf_config(&c, s, backend, 66);
    sim_run *r = sf_restored(&c, chk, SIM_MODE_LEGACY);
    sf_snapshot(r, SIM_KIND_ALIGNED, first, sizeof first);
    /* Later checkpoints may depend on the restored files (incremental). */
    if (c.incremental) CU_ASSERT(count_referenced(r, checkpoint_id_of(s, first), &restored) > 0);
    sf_records(r, 1200);
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    CU_ASSERT(!is_retained(r, restored_id));
    CU_ASSERT_EQUAL(count_existing(s, &restored), restored.len); /* never deleted */
    sf_verify(r);
    rt_strlist_free(&restored);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_legacy_rocksdb(void) { legacy("rocksdb"); }
static void test_legacy_heap(void) { legacy("heap"); }

/* ---- failover ------------------------------------------------------------- */

static uint64_t offsets_total(const sim_run *r) {
    uint64_t n = 0;
    for (uint32_t s = 0; s < r->job.splits; s++) n += r->offset[s];
    return n;
}

static uint64_t meta_offsets_total(rt_store *s, const char *dir) {
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    uint64_t n = 0;
    for (int o = 0; o < m.n_ops; o++)
        for (int i = 0; i < m.ops[o].n_sub; i++)
            for (int k = 0; k < m.ops[o].sub[i].n_offsets; k++) n += m.ops[o].sub[i].offset[k];
    sim_meta_free(&m);
    return n;
}

static void failover(const char *backend, int unaligned) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 71);
    c.unaligned = unaligned;
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char latest[SIM_PATH_MAX];
    snprintf(latest, sizeof latest, "%s", sim_run_latest_checkpoint(r));
    CU_ASSERT_FATAL(latest[0] != '\0');
    uint64_t emitted = offsets_total(r), at_checkpoint = meta_offsets_total(s, latest);
    CU_ASSERT(at_checkpoint < emitted);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    /* The job went back to the checkpoint: its offsets, its in-flight data. */
    CU_ASSERT_EQUAL(offsets_total(r), at_checkpoint);
    size_t inflight = r->epochs[r->n_epochs - 1].n_inflight;
    CU_ASSERT_EQUAL(inflight > 0, unaligned);
    sf_records(r, 1000);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_failover_heap_aligned(void) { failover("heap", 0); }
static void test_failover_heap_unaligned(void) { failover("heap", 1); }
static void test_failover_rocksdb_aligned(void) { failover("rocksdb", 0); }
static void test_failover_rocksdb_unaligned(void) { failover("rocksdb", 1); }

/* ---- rescaling 2 -> 3 -> 1 ------------------------------------------------ */

static void rescale(const char *backend, sim_kind kind) {
    static const uint32_t par[3] = {2, 3, 1};
    rt_store *s = sf_mem_store();
    char dir[SIM_PATH_MAX] = "";
    for (int stage = 0; stage < 3; stage++) {
        sim_config c;
        sf_config(&c, s, backend, 80 + (uint64_t)stage);
        c.unaligned = kind == SIM_KIND_UNALIGNED;
        /* Only the snapshots that are restored; restored in-flight data
         * must then get moving without a checkpoint barrier's help. */
        c.interval_ms = 0;
        sf_set_parallelism(&c, par[stage]);
        sim_run *r = stage == 0 ? sf_run(&c) : sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
        CU_ASSERT_EQUAL(r->n_tasks, 3 * (int)par[stage]);
        sf_records(r, 600);
        if (stage < 2) sf_snapshot(r, kind, dir, sizeof dir);
        rt_err rc = SF_RC(sim_run_verify(r, &sf_err));
        if (rc != RT_OK)
            fprintf(stderr, "\n%s %s stage %d (parallelism %u): %s\n", backend, sim_kind_name(kind), stage,
                    par[stage], sf_err.msg);
        CU_ASSERT_EQUAL(rc, RT_OK);
        sim_run_destroy(r);
    }
    rt_store_close(s);
}

static void rescale_all(const char *backend) {
    for (int k = SIM_KIND_CANONICAL; k <= SIM_KIND_UNALIGNED; k++) rescale(backend, (sim_kind)k);
}

static void test_rescale_heap(void) { rescale_all("heap"); }
static void test_rescale_rocksdb(void) { rescale_all("rocksdb"); }

/* ---- relocation ----------------------------------------------------------- */

/* Moves dir to moved/<its name> and deletes the job's checkpoint storage
 * and the original parent; returns the new place in out. */
static void relocate(rt_store *s, const char *dir, const char *job, char *out, size_t cap) {
    const char *base = strrchr(dir, '/');
    snprintf(out, cap, "moved/%s", base ? base + 1 : dir);
    SF_OK(SF_RC(rt_store_rename(s, dir, out, &sf_err)));
    SF_OK(SF_RC(rt_store_delete_tree(s, job, &sf_err)));
    SF_OK(SF_RC(rt_store_delete_tree(s, "savepoints", &sf_err)));
    rt_strlist left = {0};
    SF_OK(SF_RC(rt_store_list(s, "", &left, &sf_err)));
    for (size_t i = 0; i < left.len; i++) CU_ASSERT(strncmp(left.items[i], "moved/", 6) == 0);
    rt_strlist_free(&left);
}

static void relocated_native_savepoint(const char *backend) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 91);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char sp[SIM_PATH_MAX], job[64], moved[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    snprintf(job, sizeof job, "%s", sim_run_job_id(r));
    sim_run_destroy(r);
    relocate(s, sp, job, moved, sizeof moved);

    sf_config(&c, s, backend, 92);
    r = sf_restored(&c, moved, SIM_MODE_NO_CLAIM);
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_relocated_savepoint_heap(void) { relocated_native_savepoint("heap"); }
static void test_relocated_savepoint_rocksdb(void) { relocated_native_savepoint("rocksdb"); }

/* A checkpoint holds its exclusive state (the heap backend's whole
 * snapshot) by paths relative to its own directory, as Flink's
 * FsCheckpointStreamFactory writes them: moved, it still restores. Shared
 * state (RocksDB's incremental SSTs in shared/) is held by absolute path:
 * without the original storage the restore is rejected, naming the
 * missing original, and nothing is half-restored. */
static void checkpoint_storage_gone(const char *backend, int relocates) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 93);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char chk[SIM_PATH_MAX], job[64], moved[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_ALIGNED, chk, sizeof chk);
    snprintf(job, sizeof job, "%s", sim_run_job_id(r));
    sim_run_destroy(r);
    relocate(s, chk, job, moved, sizeof moved);

    sf_image img;
    sf_image_take(s, &img);
    sf_config(&c, s, backend, 94);
    r = sf_run(&c);
    rt_err rc = SF_RC(sim_run_restore(r, moved, SIM_MODE_NO_CLAIM, 0, &sf_err));
    if (relocates) {
        SF_OK(rc);
    } else {
        CU_ASSERT_EQUAL(rc, RT_ENOENT);
        CU_ASSERT(strstr(sf_err.msg, job) != NULL); /* names the missing original */
        CU_ASSERT(sf_run_is_empty(r));
        CU_ASSERT(sf_image_same(s, &img));
    }
    sf_image_free(&img);
    /* Nothing half-restored: the job runs (from scratch if rejected) and agrees. */
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_checkpoint_storage_gone_heap(void) { checkpoint_storage_gone("heap", 1); }
static void test_checkpoint_storage_gone_rocksdb(void) { checkpoint_storage_gone("rocksdb", 0); }

/* ---- handle types ------------------------------------------------------------ */

/* The type every handle of dir/_metadata is written with, counted. */
static void handle_types(rt_store *s, const char *dir, int counts[3]) {
    sim_meta m;
    SF_OK(SF_RC(sim_meta_load(&m, s, dir, &sf_err)));
    memcpy(counts, m.n_handles, sizeof m.n_handles);
    sim_meta_free(&m);
}

/* Below the memory threshold state is inlined in _metadata, so a tiny
 * RocksDB checkpoint (whose SSTs would otherwise be absolute handles into
 * shared/) holds no absolute handle and relocates; with a threshold of 0
 * the same checkpoint names its shared SSTs by absolute path and does not. */
static void tiny_checkpoint(uint32_t threshold, int relocates) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 95);
    c.memory_threshold = threshold;
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    char chk[SIM_PATH_MAX], job[64], moved[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_ALIGNED, chk, sizeof chk);
    snprintf(job, sizeof job, "%s", sim_run_job_id(r));
    sim_run_destroy(r);
    int types[3];
    handle_types(s, chk, types);
    CU_ASSERT_EQUAL(types[SIM_HANDLE_FILE] == 0, relocates);
    CU_ASSERT_EQUAL(types[SIM_HANDLE_BYTES] > 0, threshold > 0);
    relocate(s, chk, job, moved, sizeof moved);
    sf_config(&c, s, "rocksdb", 96);
    r = sf_run(&c);
    rt_err rc = SF_RC(sim_run_restore(r, moved, SIM_MODE_NO_CLAIM, 0, &sf_err));
    CU_ASSERT_EQUAL(rc, relocates ? RT_OK : RT_ENOENT);
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_tiny_checkpoint_relocates(void) {
    tiny_checkpoint(SIM_MEMORY_THRESHOLD_DEFAULT, 1);
    tiny_checkpoint(0, 0);
}

/* Inlined bytes are part of the sealed _metadata: one flipped hex digit
 * is damage with a name, not a wrong restore. */
static void test_inlined_state_sealed(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 97);
    c.memory_threshold = SIM_MEMORY_THRESHOLD_DEFAULT;
    c.unaligned = 1;
    sim_run *r = sf_run(&c);
    sf_records(r, 900);
    char chk[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, chk, sizeof chk);
    sim_run_destroy(r);
    char *text = sf_read_metadata(s, chk);
    char *data = strstr(text, "\"data\": \""); /* channel state is tiny: inlined */
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    data += strlen("\"data\": \"");
    data[4] = data[4] == '0' ? '1' : '0';
    sf_write_metadata(s, chk, text);
    sf_config(&c, s, "heap", 98);
    r = sf_run(&c);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, chk, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ECHECKSUM);
    CU_ASSERT(sf_run_is_empty(r));
    sim_run_destroy(r);
    free(text);
    rt_store_close(s);
}

/* FLINK-39964: after a CLAIM restore of a native RocksDB savepoint the next
 * incremental checkpoints reuse the savepoint's SSTs, relative handles of
 * the savepoint's directory. Flink writes them relative into the
 * checkpoint (MetadataV2V3SerializerBase), the reader re-anchors them to
 * the checkpoint's own directory, and whoever reads that _metadata back
 * (a coordinator failover, a new job restoring the retained checkpoint)
 * finds nothing: so in every release (seen on real Flink 1.20.0, 1.20.3,
 * 2.1.1, 2.3.0). A task failover restores the checkpoint the coordinator
 * holds in memory, whose handles still name the savepoint's files: it goes
 * on (seen on real Flink 1.20.3: the lane's restore_claim). With the fix
 * (the foreign-relative-absolute mutant) the _metadata is right too.
 * Returns the coordinator failover's code; *task_rc the task failover's. */
static rt_err claim_then_failover(sim_mutant mutant, int *reused, rt_err *task_rc) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 99);
    sim_run *r = sf_run(&c);
    sf_records(r, 700);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    sim_run_destroy(r);
    sf_config(&c, s, "rocksdb", 100);
    c.mutant = mutant;
    r = sf_restored(&c, sp, SIM_MODE_CLAIM);
    sf_records(r, 400);
    /* The latest checkpoint references the savepoint's files: by absolute path. */
    const char *latest = sim_run_latest_checkpoint(r);
    CU_ASSERT_FATAL(latest[0] != '\0' && strcmp(latest, sp) != 0);
    sf_files f;
    sf_meta_files(s, latest, &f);
    *reused = 0;
    for (size_t i = 0; i < f.n; i++) *reused += sim_path_under(f.f[i].ref.path, sp);
    sf_files_free(&f);
    char *text = sf_read_metadata(s, latest);
    char abs[SIM_PATH_MAX + 64];
    rt_store_absolute(s, sp, abs, sizeof abs);
    if (mutant == SIM_MUT_FOREIGN_ABSOLUTE) CU_ASSERT(*reused == 0 || strstr(text, abs) != NULL);
    if (mutant == SIM_MUT_NONE) CU_ASSERT(strstr(text, abs) == NULL); /* relative: re-anchored */
    free(text);
    rt_err rc = *task_rc = SF_RC(sim_run_failover(r, &sf_err));
    /* the same checkpoint read back from its _metadata (a coordinator
     * failover) meets the bug */
    if (rc == RT_OK) rc = SF_RC(sim_run_coordinator_failover(r, &sf_err));
    if (rc == RT_OK) {
        sf_records(r, 200);
        sf_verify(r);
    }
    sim_run_destroy(r);
    rt_store_close(s);
    return rc;
}

/* A restore is all or nothing: a CLAIM restore whose write of the job's
 * completed-checkpoint store fails leaves the run without the snapshot (no
 * latest checkpoint, nothing retained, the checkpoint counter where it
 * was), and a retry once the storage is back restores it. */
static int count_retained(void *ctx, int64_t id, const char *path) {
    (void)id;
    (void)path;
    ++*(int *)ctx;
    return 0;
}

static void test_restore_all_or_nothing(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 41);
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    sim_run_destroy(r);
    sf_config(&c, s, "rocksdb", 42);
    r = sf_run(&c);
    int64_t count = sim_run_checkpoint_count(r);
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){RT_OP_PUT, 1, RT_FAULT_EIO, 1, 0, ""};
    snprintf(plan.faults[0].path_prefix, sizeof plan.faults[0].path_prefix, "%s/completed-checkpoints",
             sim_run_job_id(r));
    rt_store_set_faults(s, &plan);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, sp, SIM_MODE_CLAIM, 0, &sf_err)), RT_EIO);
    rt_store_set_faults(s, NULL);
    CU_ASSERT_STRING_EQUAL(sim_run_latest_checkpoint(r), "");
    CU_ASSERT_EQUAL(sim_run_checkpoint_count(r), count);
    int retained = 0;
    sim_run_each_retained_file(r, count_retained, &retained);
    CU_ASSERT_EQUAL(retained, 0);
    SF_OK(SF_RC(sim_run_restore(r, sp, SIM_MODE_CLAIM, 0, &sf_err)));
    CU_ASSERT_STRING_EQUAL(sim_run_latest_checkpoint(r), sp);
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_claimed_savepoint_files_resolve(void) {
    int reused = 0;
    rt_err task_rc = RT_EINTERNAL;
    CU_ASSERT_EQUAL(claim_then_failover(SIM_MUT_FOREIGN_ABSOLUTE, &reused, &task_rc), RT_OK);
    CU_ASSERT_EQUAL(task_rc, RT_OK);
    CU_ASSERT(reused > 0); /* the mechanism is exercised: SSTs were reused */
    task_rc = RT_EINTERNAL;
    CU_ASSERT_EQUAL(claim_then_failover(SIM_MUT_NONE, &reused, &task_rc), RT_ENOENT);
    CU_ASSERT_EQUAL(task_rc, RT_OK); /* from memory, as Flink's CompletedCheckpoint */
}

/* The coordinator restores a task failover from the CompletedCheckpoint it
 * holds in memory, never reading the _metadata back: with the latest
 * checkpoint's _metadata damaged, a task failover restores it and the state
 * is exact, also after a coordinator failover recovered the store once (it
 * keeps what it read); a second coordinator failover, which reads the file
 * again, meets the damage. A restored snapshot is held the same way. */
static void damage_metadata(rt_store *s, const char *dir) {
    char path[SIM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    SF_OK(SF_RC(rt_store_get(s, path, &data, &len, &sf_err)));
    CU_ASSERT_FATAL(len > 40);
    data[len / 2] ^= 0x5a;
    SF_OK(SF_RC(rt_store_put(s, path, data, len, &sf_err)));
    free(data);
}

static void test_task_failover_reads_no_metadata(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 61);
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    char latest[SIM_PATH_MAX];
    snprintf(latest, sizeof latest, "%s", sim_run_latest_checkpoint(r));
    CU_ASSERT_FATAL(latest[0] != '\0');
    damage_metadata(s, latest);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    CU_ASSERT_STRING_EQUAL(sim_run_latest_checkpoint(r), latest);
    sf_verify(r);
    sim_run_destroy(r);

    /* recovered once by a new coordinator, then held */
    sf_config(&c, s, "rocksdb", 62);
    r = sf_run(&c);
    sf_records(r, 600);
    snprintf(latest, sizeof latest, "%s", sim_run_latest_checkpoint(r));
    SF_OK(SF_RC(sim_run_coordinator_failover(r, &sf_err)));
    damage_metadata(s, latest);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    sf_verify(r);
    CU_ASSERT_EQUAL(SF_RC(sim_run_coordinator_failover(r, &sf_err)), RT_ECHECKSUM);
    sim_run_destroy(r);

    /* a restored savepoint, before the restored job's first checkpoint */
    sf_config(&c, s, "heap", 63);
    r = sf_run(&c);
    sf_records(r, 300);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_CANONICAL, sp, sizeof sp);
    sim_run_destroy(r);
    sf_config(&c, s, "heap", 64);
    c.interval_ms = 0; /* no checkpoint of its own before the failover */
    r = sf_restored(&c, sp, SIM_MODE_CLAIM);
    CU_ASSERT_STRING_EQUAL(sim_run_latest_checkpoint(r), sp);
    damage_metadata(s, sp);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    sf_records(r, 50);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* A claimed native savepoint shares nothing, so the SSTs later checkpoints
 * reuse lie in its own directory: once subsumed it is kept whole (its
 * _metadata too) while any of them is in use, and discarded whole after
 * (SharedStateRegistryImpl's preventsDiscardingCreatedCheckpoint). */
static void test_claimed_savepoint_folder_kept(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 101);
    sim_run *r = sf_run(&c);
    sf_records(r, 700);
    char sp[SIM_PATH_MAX], meta[SIM_PATH_MAX + 16];
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    sim_run_destroy(r);
    snprintf(meta, sizeof meta, "%s/_metadata", sp);
    int64_t sp_id = checkpoint_id_of(s, sp);
    sf_config(&c, s, "rocksdb", 102);
    r = sf_restored(&c, sp, SIM_MODE_CLAIM);
    int kept_in_use = 0;
    for (int step = 0; step < 40; step++) {
        sf_records(r, 60);
        rt_strlist used;
        sf_retained(r, -1, &used);
        int uses = 0;
        for (size_t i = 0; i < used.len; i++) uses += sim_path_under(used.items[i], sp);
        rt_strlist_free(&used);
        if (!is_retained(r, sp_id) && uses) {
            kept_in_use++;
            CU_ASSERT(rt_store_exists(s, meta)); /* subsumed, still in use: kept whole */
        }
    }
    CU_ASSERT(kept_in_use > 0); /* the case was reached */
    SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
    rt_strlist left = {0};
    SF_OK(SF_RC(rt_store_list(s, sp, &left, &sf_err)));
    CU_ASSERT_EQUAL(left.len, 0); /* nothing uses it any more: discarded whole */
    rt_strlist_free(&left);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* ---- backend change -------------------------------------------------------- */

static void crosses(const char *from, const char *to) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, from, 101);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char canon[SIM_PATH_MAX], native[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_CANONICAL, canon, sizeof canon);
    sf_snapshot(r, SIM_KIND_NATIVE, native, sizeof native);
    sim_run_destroy(r);

    /* The native one is the other backend's own format: the heap's (a
     * KeyGroupsStateHandle) fails in RocksDB's full-restore reader on its
     * bytes; incremental RocksDB's SST handle is a class the heap backend
     * does not read. A clean no either way, and a job that afterwards
     * starts from nothing. */
    sf_config(&c, s, to, 102);
    r = sf_run(&c);
    int heap_to_rocks = strcmp(from, "heap") == 0;
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, native, SIM_MODE_NO_CLAIM, 0, &sf_err)),
                    heap_to_rocks ? RT_EFORMAT : RT_EBACKEND);
    CU_ASSERT_PTR_NOT_NULL(strstr(sf_err.msg, heap_to_rocks ? "KeyGroupsStateHandle" : "rocksdb-native"));
    CU_ASSERT(sf_run_is_empty(r));
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);

    sf_config(&c, s, to, 103);
    r = sf_restored(&c, canon, SIM_MODE_NO_CLAIM);
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_canonical_heap_to_rocksdb(void) { crosses("heap", "rocksdb"); }
static void test_canonical_rocksdb_to_heap(void) { crosses("rocksdb", "heap"); }

/* ---- schema evolution ------------------------------------------------------- */

/* scenarios/jobs/schema-v2.json: the value state's fields change. */
static void job_schema_v2(sim_job *job) {
    sim_job_default(job);
    sim_state_desc *d = &job->ops[1].states[0];
    CU_ASSERT_FATAL(strcmp(d->name, "stats") == 0 && d->kind == SIM_STATE_VALUE);
    d->schema_version = 2;
    d->n_fields = 3;
    d->fields[0] = SIM_F_COUNT;
    d->fields[1] = SIM_F_SUM;
    d->fields[2] = SIM_F_MAX;
}

static void schema_migration(sim_kind kind) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 111);
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, kind, sp, sizeof sp);
    sim_run_destroy(r);

    sf_config(&c, s, "rocksdb", 112);
    job_schema_v2(&c.job);
    r = sf_restored(&c, sp, SIM_MODE_NO_CLAIM);
    sf_records(r, 500);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_schema_migration_canonical(void) { schema_migration(SIM_KIND_CANONICAL); }
static void test_schema_migration_native(void) { schema_migration(SIM_KIND_NATIVE); }

/* Two subtasks' native state into one: the migration runs once over the
 * whole backend, after every handle is in (migrating after each handle
 * would read the first one's migrated values with the old schema). The
 * fields are reordered, so a second migration of a value is never a no-op. */
static void test_schema_migration_rescaled(void) {
    const char *backends[] = {"heap", "rocksdb"};
    for (int b = 0; b < 2; b++) {
        rt_store *s = sf_mem_store();
        sim_config c;
        sf_config(&c, s, backends[b], 113);
        sim_run *r = sf_run(&c);
        sf_records(r, 1000);
        char sp[SIM_PATH_MAX];
        sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
        sim_run_destroy(r);
        sf_config(&c, s, backends[b], 114);
        sim_state_desc *d = &c.job.ops[1].states[0];
        d->fields[0] = SIM_F_XOR;
        d->fields[2] = SIM_F_COUNT;
        sf_set_parallelism(&c, 1);
        r = sf_restored(&c, sp, SIM_MODE_NO_CLAIM);
        sf_records(r, 500);
        sf_verify(r);
        sim_run_destroy(r);
        rt_store_close(s);
    }
}

/* Flink's four answers for a POJO value state: the same fields as is, a
 * field added or removed after migration, a pre-existing field whose type
 * changed incompatible (even with other fields added). */
static void test_resolve_pojo(void) {
    sim_job j;
    sim_job_default(&j);
    sim_state_desc prior = j.ops[1].states[0], next = prior, ser;
    sim_compat c;
    rt_error e;
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_OK);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_AS_IS);
    next.fields[2] = SIM_F_MAX; /* xor removed, max added */
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_OK);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_AFTER_MIGRATION);
    CU_ASSERT_EQUAL(ser.fields[2], SIM_F_MAX);
    next = prior;
    next.types[1] = SIM_T_STRING;
    next.fields[3] = SIM_F_MIN;
    next.n_fields = 4;
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_ESCHEMA);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_INCOMPATIBLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "field 'sum' was declared long and is now string"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "StateMigrationException"));
    next = prior;
    next.kind = SIM_STATE_LIST;
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_ESCHEMA);
}

static void set_consts(sim_state_desc *d, const uint8_t *c, int n) {
    memcpy(d->consts, c, (size_t)n);
    d->n_consts = n;
}

/* EnumSerializerSnapshot for the map state's key enum: another order, or
 * a new constant, is compatible with a serializer reconfigured to the old
 * ordinals with new constants appended; a lost constant is incompatible. */
static void test_resolve_enum(void) {
    sim_job j;
    sim_job_default(&j);
    sim_state_desc prior = j.ops[1].states[2], next = prior, ser;
    CU_ASSERT_FATAL(prior.kind == SIM_STATE_MAP);
    sim_compat c;
    rt_error e;
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_OK);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_AS_IS);
    const uint8_t reversed[] = {7, 6, 5, 4, 3, 2, 1, 0}, grown[] = {9, 7, 6, 5, 4, 3, 2, 1, 0};
    const uint8_t old_order[] = {0, 1, 2, 3, 4, 5, 6, 7, 9};
    set_consts(&next, reversed, 8);
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_OK);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_RECONFIGURED);
    CU_ASSERT(sim_state_consts_default(&ser)); /* the old ordinals, not the job's */
    set_consts(&next, grown, 9);
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_OK);
    CU_ASSERT_EQUAL(c, SIM_COMPAT_RECONFIGURED);
    CU_ASSERT_EQUAL(ser.n_consts, 9);
    CU_ASSERT(memcmp(ser.consts, old_order, 9) == 0); /* B9 appended */
    set_consts(&prior, old_order, 9);
    set_consts(&next, reversed, 8);
    CU_ASSERT_EQUAL(sim_state_resolve(&prior, &next, &c, &ser, &e), RT_ESCHEMA);
    CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "lost constant B9"));
}

/* The serializers' bytes: a string field is its decimal text, a map bucket
 * its constant's ordinal; read with another serializer, the bytes fail
 * (a long read as a string) or mean another bucket (another enum order). */
static void test_value_bytes(void) {
    sim_job j;
    sim_job_default(&j);
    sim_state_desc longs = j.ops[1].states[0], strings = longs;
    strings.types[1] = SIM_T_STRING;
    sim_value v, got;
    sim_value_init(&v, &longs);
    sim_value_apply(&v, &longs, 123456);
    uint8_t buf[SIM_VALUE_BYTES_MAX];
    rt_error e;
    size_t n = sim_value_encode(&v, &strings, buf, sizeof buf);
    CU_ASSERT_EQUAL(n, 2 + 8 + 1 + 6 + 8);
    CU_ASSERT(memcmp(buf + 11, "123456", 6) == 0);
    CU_ASSERT_EQUAL(sim_value_decode(&got, &strings, buf, n, &e), RT_OK);
    CU_ASSERT(sim_value_equal(&got, &v, &strings));
    n = sim_value_encode(&v, &longs, buf, sizeof buf);
    CU_ASSERT_EQUAL(sim_value_decode(&got, &strings, buf, n, &e), RT_EFORMAT);

    sim_state_desc map = j.ops[1].states[2], rev = map;
    const uint8_t reversed[] = {7, 6, 5, 4, 3, 2, 1, 0};
    set_consts(&rev, reversed, 8);
    sim_value_init(&v, &map);
    sim_value_apply(&v, &map, 8 * 1000 + 2); /* bucket 2 */
    n = sim_value_encode(&v, &rev, buf, sizeof buf);
    CU_ASSERT_EQUAL(sim_value_decode(&got, &rev, buf, n, &e), RT_OK);
    CU_ASSERT_EQUAL(got.bucket[2], 1);
    CU_ASSERT_EQUAL(sim_value_decode(&got, &map, buf, n, &e), RT_OK);
    CU_ASSERT_EQUAL(got.bucket[5], 1); /* ordinal 5 is B5 under the default order */
    CU_ASSERT_EQUAL(got.bucket[2], 0);
}

/* A run of the default job with a different key type. */
static void job_string_keys(sim_job *job) {
    sim_job_default(job);
    job->ops[1].key_type = SIM_T_STRING;
}

/* Keys never evolve: a key type change is refused before anything is
 * restored, from every format and backend. */
static void test_key_type_is_fixed(void) {
    const char *backends[] = {"heap", "rocksdb"};
    const sim_kind kinds[] = {SIM_KIND_CANONICAL, SIM_KIND_NATIVE, SIM_KIND_UNALIGNED};
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 3; k++) {
            rt_store *s = sf_mem_store();
            sim_config c;
            sf_config(&c, s, backends[b], 115);
            sim_run *r = sf_run(&c);
            sf_records(r, 600);
            char sp[SIM_PATH_MAX];
            sf_snapshot(r, kinds[k], sp, sizeof sp);
            sim_run_destroy(r);
            sf_config(&c, s, backends[b], 116);
            job_string_keys(&c.job);
            r = sf_run(&c);
            CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, sp, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ESCHEMA);
            CU_ASSERT_PTR_NOT_NULL(strstr(sf_err.msg, "key serializer (string) must be compatible"));
            CU_ASSERT(sf_run_is_empty(r));
            sim_run_destroy(r);
            rt_store_close(s);
        }
}

/* The key serializer travels in each keyed handle: string keys restore
 * their own snapshot, long keys do not. */
static void test_key_type_recorded(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 117);
    job_string_keys(&c.job);
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    sim_run_destroy(r);
    r = sf_restored(&c, sp, SIM_MODE_NO_CLAIM);
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    sf_config(&c, s, "rocksdb", 118);
    r = sf_run(&c);
    CU_ASSERT_EQUAL(SF_RC(sim_run_restore(r, sp, SIM_MODE_NO_CLAIM, 0, &sf_err)), RT_ESCHEMA);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* The map state's key enum in the reverse order. */
static void job_enum_reversed(sim_job *job) {
    sim_job_default(job);
    const uint8_t reversed[] = {7, 6, 5, 4, 3, 2, 1, 0};
    set_consts(&job->ops[1].states[2], reversed, 8);
}

/* After a reconfiguration the backend keeps writing the old ordinals: the
 * next snapshot records the reconfigured serializer, not the job's, and
 * restores into the same job again. */
static void test_reconfigured_serializer_sticks(void) {
    const char *backends[] = {"heap", "rocksdb"};
    for (int b = 0; b < 2; b++) {
        rt_store *s = sf_mem_store();
        sim_config c;
        sf_config(&c, s, backends[b], 119);
        sim_run *r = sf_run(&c);
        sf_records(r, 800);
        char sp[SIM_PATH_MAX], sp2[SIM_PATH_MAX];
        sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
        sim_run_destroy(r);
        sf_config(&c, s, backends[b], 120);
        job_enum_reversed(&c.job);
        r = sf_restored(&c, sp, SIM_MODE_NO_CLAIM);
        sf_records(r, 400);
        sf_verify(r);
        sf_snapshot(r, SIM_KIND_NATIVE, sp2, sizeof sp2);
        sim_run_destroy(r);
        sim_meta m;
        SF_OK(sim_meta_load(&m, s, sp2, &sf_err));
        int agg = -1;
        for (int i = 0; i < m.n_ops; i++)
            if (strcmp(m.ops[i].uid, "agg") == 0) agg = i;
        CU_ASSERT_FATAL(agg >= 0 && m.ops[agg].n_sub > 0 && m.ops[agg].sub[0].has_keyed);
        const sim_state_desc *d = &m.ops[agg].sub[0].keyed.states[2];
        CU_ASSERT_STRING_EQUAL(d->name, "buckets");
        CU_ASSERT(sim_state_consts_default(d));
        sim_meta_free(&m);
        r = sf_restored(&c, sp2, SIM_MODE_NO_CLAIM);
        sf_records(r, 300);
        sf_verify(r);
        sim_run_destroy(r);
        rt_store_close(s);
    }
}

/* ---- damaged snapshots ------------------------------------------------------ */

/* One failed restore: the error, nothing read into the run, nothing
 * written to the store. */
static uint64_t expect_rejected(sim_run *r, rt_store *s, const char *dir, rt_err want, const char *names) {
    sf_image img;
    sf_image_take(s, &img);
    uint64_t gets = rt_store_get_stats(s)->ops[RT_OP_GET];
    rt_err rc = SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err));
    gets = rt_store_get_stats(s)->ops[RT_OP_GET] - gets;
    if (rc != want)
        fprintf(stderr, "\nrestore %s: got %s (%s), want %s\n", dir, rt_err_name(rc), sf_err.msg,
                rt_err_name(want));
    CU_ASSERT_EQUAL(rc, want);
    if (names != NULL) CU_ASSERT(strstr(sf_err.msg, names) != NULL);
    CU_ASSERT(sf_run_is_empty(r));
    CU_ASSERT(sf_image_same(s, &img));
    sf_image_free(&img);
    return gets;
}

/* What kind of file this is: its local name without digits (000012.sst
 * -> .sst, MANIFEST-000005 -> MANIFEST-), or its extension. */
static void file_kind(const sf_file *f, char *out, size_t cap) {
    const char *name = f->ref.local_name;
    if (name[0] == '\0') name = strrchr(f->ref.path, '.') ? strrchr(f->ref.path, '.') : f->ref.path;
    size_t n = 0;
    for (; *name && n + 1 < cap; name++)
        if (*name < '0' || *name > '9') out[n++] = *name;
    out[n] = '\0';
}

/* Whether a later file of f is of this kind. */
static int kind_again(const sf_files *f, size_t after, const char *kind) {
    char k[64];
    for (size_t i = after + 1; i < f->n; i++) {
        file_kind(&f->f[i], k, sizeof k);
        if (strcmp(k, kind) == 0) return 1;
    }
    return 0;
}

/* Flips one byte of the last file of each kind (an SST, a MANIFEST, a
 * heap dump, a channel-state file, ...), then deletes it: each a clean
 * rejection naming the file that leaves nothing restored, although the
 * files before it were good; the same run then restores the intact
 * snapshot and agrees with the oracle. */
static void damage_each_file(const char *backend, sim_kind kind, int min_kinds) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 121);
    c.unaligned = kind == SIM_KIND_UNALIGNED;
    sim_run *r = sf_run(&c);
    sf_records(r, 1000);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, kind, dir, sizeof dir);
    sim_run_destroy(r);

    sf_files f;
    sf_meta_files(s, dir, &f);
    CU_ASSERT(f.n > 1);
    sf_config(&c, s, backend, 122);
    c.unaligned = kind == SIM_KIND_UNALIGNED;
    r = sf_run(&c);
    int kinds = 0;
    for (size_t i = 0; i < f.n; i++) {
        char fk[64];
        file_kind(&f.f[i], fk, sizeof fk);
        if (kind_again(&f, i, fk)) continue; /* the last one: the others restore first */
        kinds++;
        const char *p = f.f[i].ref.path;
        uint8_t *data = NULL;
        size_t len = 0;
        SF_OK(SF_RC(rt_store_get(s, p, &data, &len, &sf_err)));
        CU_ASSERT_FATAL(len > 0);
        data[len / 2] ^= 0x10;
        SF_OK(SF_RC(rt_store_put(s, p, data, len, &sf_err)));
        expect_rejected(r, s, dir, RT_ECHECKSUM, p);
        SF_OK(SF_RC(rt_store_delete(s, p, &sf_err)));
        expect_rejected(r, s, dir, RT_ENOENT, p);
        data[len / 2] ^= 0x10;
        SF_OK(SF_RC(rt_store_put(s, p, data, len, &sf_err)));
        free(data);
    }
    CU_ASSERT(kinds >= min_kinds);
    sf_files_free(&f);
    SF_OK(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err)));
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_damage_heap_native(void) { damage_each_file("heap", SIM_KIND_NATIVE, 1); }
static void test_damage_heap_unaligned(void) { damage_each_file("heap", SIM_KIND_UNALIGNED, 2); }
static void test_damage_rocksdb_native(void) { damage_each_file("rocksdb", SIM_KIND_NATIVE, 4); }
static void test_damage_rocksdb_aligned(void) { damage_each_file("rocksdb", SIM_KIND_ALIGNED, 4); }

/* ---- hostile or broken _metadata --------------------------------------------- */

/* The text with the first keyed file's path replaced, held as `type`. */
static char *with_first_path(const char *text, const char *path, const char *type) {
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    json_t *ops = json_object_get(root, "operators"), *target = NULL;
    for (size_t o = 0; target == NULL && o < json_array_size(ops); o++) {
        json_t *subs = json_object_get(json_array_get(ops, o), "subtasks");
        for (size_t i = 0; target == NULL && i < json_array_size(subs); i++) {
            json_t *files = json_object_get(json_object_get(json_array_get(subs, i), "keyed"), "files");
            target = json_array_get(files, 0);
        }
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(target);
    CU_ASSERT_FATAL(json_object_set_new(target, "path", json_string(path)) == 0);
    CU_ASSERT_FATAL(json_object_set_new(target, "type", json_string(type)) == 0);
    char *out = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    return out;
}

/* Restores dir whose _metadata is `text`: rejected with want while the
 * metadata is parsed, before any file but _metadata was read. */
static void expect_bad_metadata(sim_run *r, rt_store *s, const char *dir, const char *text, rt_err want) {
    sf_write_metadata(s, dir, text);
    sim_meta m;
    CU_ASSERT_EQUAL(SF_RC(sim_meta_load(&m, s, dir, &sf_err)), want);
    CU_ASSERT_EQUAL(expect_rejected(r, s, dir, want, NULL), 1);
}

/* Paths of `type` (relative or absolute) that must not leave the storage. */
static void bad_metadata(rt_store *s, sim_kind kind, const char *type, const char *const *paths, int n_paths) {
    sim_config c;
    sf_config(&c, s, "heap", 131 + (uint64_t)kind);
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, kind, dir, sizeof dir);
    sim_run_destroy(r);
    char *good = sf_read_metadata(s, dir);

    c.seed++;
    r = sf_run(&c);
    for (int i = 0; i < n_paths; i++) {
        char *bad = with_first_path(good, paths[i], type);
        expect_bad_metadata(r, s, dir, bad, RT_ESANDBOX);
        free(bad);
    }
    static const char *const malformed[] = {"", "{", "[]", "{\"magic\": \"snapsim-metadata\"}", "null"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        expect_bad_metadata(r, s, dir, malformed[i], RT_EFORMAT);
    char *half = strdup(good);
    half[strlen(half) / 2] = '\0';
    expect_bad_metadata(r, s, dir, half, RT_EFORMAT);
    free(half);
    char *magic = strdup(good);
    char *at = strstr(magic, "snapsim-metadata");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    at[0] = 'S';
    expect_bad_metadata(r, s, dir, magic, RT_EFORMAT);
    free(magic);

    /* The intact metadata still restores in the same run. */
    sf_write_metadata(s, dir, good);
    SF_OK(SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err)));
    sf_records(r, 200);
    sf_verify(r);
    free(good);
    sim_run_destroy(r);
}

static void test_bad_metadata_mem(void) {
    rt_store *s = sf_mem_store();
    char other_root[128], prefix_trick[128], dotdot[128];
    snprintf(other_root, sizeof other_root, "mem://elsewhere/x.heap");
    snprintf(prefix_trick, sizeof prefix_trick, "%s-evil/x.heap", rt_store_root(s));
    snprintf(dotdot, sizeof dotdot, "%s/../x.heap", rt_store_root(s));
    const char *sp_paths[] = {"../x", "../../../x", "/etc/passwd", "a/../../x"};
    const char *chk_paths[] = {"/etc/passwd", other_root, prefix_trick, dotdot, "relative/x.heap"};
    bad_metadata(s, SIM_KIND_CANONICAL, "relative", sp_paths, 4);
    bad_metadata(s, SIM_KIND_ALIGNED, "absolute", chk_paths, 5);
    rt_store_close(s);
}

/* On a directory store, with a real file just outside its root that a
 * path escaping the sandbox would reach. */
static void test_bad_metadata_dir(void) {
    char root[PATH_MAX], outside[PATH_MAX], abs_outside[PATH_MAX], sibling[PATH_MAX];
    snprintf(root, sizeof root, "%s/store", sf_tmp());
    snprintf(outside, sizeof outside, "%s/outside.heap", sf_tmp());
    FILE *fp = fopen(outside, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("not yours", fp);
    fclose(fp);
    rt_store *s = NULL;
    SF_OK(SF_RC(rt_store_open_dir(&s, root, 1, &sf_err)));
    snprintf(abs_outside, sizeof abs_outside, "%s/../outside.heap", rt_store_root(s));
    snprintf(sibling, sizeof sibling, "%s-evil/outside.heap", rt_store_root(s));
    const char *sp_paths[] = {"../../../outside.heap", "../../outside.heap", abs_outside};
    const char *chk_paths[] = {outside, abs_outside, sibling};
    bad_metadata(s, SIM_KIND_NATIVE, "relative", sp_paths, 3);
    bad_metadata(s, SIM_KIND_ALIGNED, "absolute", chk_paths, 3);
    rt_store_close(s);
    fp = fopen(outside, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    char buf[32] = "";
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, fp));
    fclose(fp);
    CU_ASSERT_STRING_EQUAL(buf, "not yours");
}

/* The first file path of a parsed snapshot ("" if none). */
static const char *first_path(const sim_meta *m) {
    for (int o = 0; o < m->n_ops; o++)
        for (int i = 0; i < m->ops[o].n_sub; i++)
            if (m->ops[o].sub[i].has_keyed && m->ops[o].sub[i].keyed.n_files > 0)
                return m->ops[o].sub[i].keyed.files[0].path;
    return "";
}

/* text with its checkpoint id changed and sealed again: a valid _metadata
 * that differs from text (the caller frees it). */
static char *with_checkpoint_id(const char *text, int64_t id) {
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_FATAL(json_object_set_new(root, "checkpoint_id", json_integer(id)) == 0);
    char *out = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_FATAL(sim_meta_seal(out, strlen(out)) == 0);
    return out;
}

/* The cache of parsed _metadata (sim_meta_cache) is exact: the writer's
 * entry fills it and a load of the same bytes hits, but changed bytes
 * at the same path (rewritten, truncated) and the same bytes in another
 * directory (relative handles re-anchor) are parsed again, as a load
 * without the cache parses them; a restore through the run's cache meets
 * the damage. */
static void test_meta_cache_exact(void) {
    rt_store *s = sf_mem_store();
    sim_meta_cache *cache = NULL;
    SF_OK(SF_RC(sim_meta_cache_create(&cache, &sf_err)));
    sim_config c;
    sf_config(&c, s, "heap", 151);
    c.memory_threshold = 0; /* files, not inlined bytes: paths to resolve */
    c.meta_cache = cache;
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char sp[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_CANONICAL, sp, sizeof sp);
    sim_run_destroy(r);
    const sim_meta_cache_stats *st = sim_meta_cache_stats_of(cache);
    CU_ASSERT(st->stored >= 1); /* the writer's own entry */
    uint64_t hits = st->hits;

    sim_meta a, b;
    SF_OK(SF_RC(sim_meta_load_in(cache, &a, s, sp, NULL, NULL, &sf_err)));
    CU_ASSERT_EQUAL(st->hits, hits + 1);
    SF_OK(SF_RC(sim_meta_load(&b, s, sp, &sf_err)));
    CU_ASSERT_EQUAL(a.checkpoint_id, b.checkpoint_id);
    CU_ASSERT_EQUAL(a.n_ops, b.n_ops);
    CU_ASSERT_STRING_EQUAL(first_path(&a), first_path(&b));
    CU_ASSERT(strncmp(first_path(&a), sp, strlen(sp)) == 0);
    int64_t id = a.checkpoint_id;
    sim_meta_free(&a);
    sim_meta_free(&b);

    /* Other bytes at the same path: the new parse, not the kept one. */
    char *text = sf_read_metadata(s, sp);
    char *changed = with_checkpoint_id(text, id + 1000);
    sf_write_metadata(s, sp, changed);
    SF_OK(SF_RC(sim_meta_load_in(cache, &a, s, sp, NULL, NULL, &sf_err)));
    CU_ASSERT_EQUAL(a.checkpoint_id, id + 1000);
    sim_meta_free(&a);

    /* The same bytes in another directory: resolved there. */
    char moved[SIM_PATH_MAX + 8];
    snprintf(moved, sizeof moved, "moved/%s", sp);
    sf_write_metadata(s, moved, changed);
    SF_OK(SF_RC(sim_meta_load_in(cache, &a, s, moved, NULL, NULL, &sf_err)));
    CU_ASSERT(strncmp(first_path(&a), moved, strlen(moved)) == 0);
    sim_meta_free(&a);

    /* Cut short: damaged, as without the cache, also for a restore. */
    text[strlen(text) - 40] = '\0';
    sf_write_metadata(s, sp, text);
    CU_ASSERT_EQUAL(SF_RC(sim_meta_load_in(cache, &a, s, sp, NULL, NULL, &sf_err)),
                    SF_RC(sim_meta_load(&b, s, sp, &sf_err)));
    CU_ASSERT_NOT_EQUAL(SF_RC(sim_meta_load_in(cache, &a, s, sp, NULL, NULL, &sf_err)), RT_OK);
    c.seed++;
    r = sf_run(&c);
    CU_ASSERT_NOT_EQUAL(sim_run_restore(r, sp, SIM_MODE_NO_CLAIM, 0, &sf_err), RT_OK);
    CU_ASSERT_EQUAL(sf_run_is_empty(r), 1);
    sim_run_destroy(r);
    CU_ASSERT_EQUAL(st->hits, hits + 1); /* nothing but the unchanged load hit */
    free(text);
    free(changed);
    sim_meta_cache_free(cache);
    rt_store_close(s);
}

/* ---- the writer and the reader agree ----
 * The writer fills the cache from the document it dumped, without parsing
 * the text (sim/sim_metadata.c keep_written). Every _metadata a run writes
 * must then read back, from its bytes, as exactly what the writer kept. */

/* The first field where a and b differ, or NULL. */
static const char *handle_diff(const sim_keyed_handle *a, const sim_keyed_handle *b) {
    if (strcmp(a->format, b->format) || strcmp(a->backend, b->backend)) return "keyed format or backend";
    if (a->kg_lo != b->kg_lo || a->kg_hi != b->kg_hi) return "key groups";
    if (a->incremental != b->incremental || a->sst_format_version != b->sst_format_version) return "keyed flags";
    if (a->checkpoint_id != b->checkpoint_id || a->key_type != b->key_type) return "keyed id or key type";
    if (a->n_states != b->n_states || memcmp(a->states, b->states, (size_t)a->n_states * sizeof *a->states))
        return "keyed states";
    if (a->n_files != b->n_files) return "number of keyed files";
    for (int i = 0; i < a->n_files; i++)
        if (memcmp(&a->files[i], &b->files[i], sizeof a->files[i])) return "a keyed file";
    return NULL;
}

static const char *subtask_diff(const sim_meta_subtask *a, const sim_meta_subtask *b) {
    if (a->index != b->index || a->has_keyed != b->has_keyed) return "subtask index or keyed";
    const char *d = a->has_keyed ? handle_diff(&a->keyed, &b->keyed) : NULL;
    if (d) return d;
    if (a->n_offsets != b->n_offsets || memcmp(a->split, b->split, sizeof a->split) ||
        memcmp(a->offset, b->offset, sizeof a->offset))
        return "source offsets";
    if (a->has_sink != b->has_sink || a->sink_count != b->sink_count || a->sink_hash != b->sink_hash)
        return "sink";
    if (a->has_cs != b->has_cs || (a->has_cs && memcmp(&a->cs_file, &b->cs_file, sizeof a->cs_file)))
        return "channel state";
    return NULL;
}

static const char *epoch_diff(const sim_meta_epoch *a, const sim_meta_epoch *b) {
    if (memcmp(&a->job, &b->job, sizeof a->job) || memcmp(a->start, b->start, sizeof a->start)) return "epoch job";
    if (a->n_inflight != b->n_inflight || memcmp(a->fresh, b->fresh, sizeof a->fresh)) return "epoch";
    if (a->n_inflight && (memcmp(a->inflight_id, b->inflight_id, a->n_inflight * sizeof *a->inflight_id) ||
                          memcmp(a->inflight_op, b->inflight_op, a->n_inflight * sizeof *a->inflight_op)))
        return "in-flight records";
    return NULL;
}

static const char *meta_diff(const sim_meta *a, const sim_meta *b) {
    if (a->version != b->version || strcmp(a->engine, b->engine) || strcmp(a->job_id, b->job_id)) return "header";
    if (a->checkpoint_id != b->checkpoint_id || a->savepoint != b->savepoint) return "id or type";
    if (strcmp(a->snapshot_kind, b->snapshot_kind) || strcmp(a->format, b->format) ||
        strcmp(a->backend, b->backend) || strcmp(a->sharing, b->sharing) || a->incremental != b->incremental)
        return "kind, format, backend or sharing";
    if (memcmp(a->n_handles, b->n_handles, sizeof a->n_handles)) return "handle counts";
    if (strcmp(a->storage_root, b->storage_root) || a->source_seed != b->source_seed) return "root or seed";
    if (memcmp(&a->job, &b->job, sizeof a->job)) return "job";
    if (a->n_epochs != b->n_epochs || a->n_ops != b->n_ops) return "number of epochs or operators";
    for (int i = 0; i < a->n_epochs; i++) {
        const char *d = epoch_diff(&a->epochs[i], &b->epochs[i]);
        if (d) return d;
    }
    for (int o = 0; o < a->n_ops; o++) {
        const sim_meta_op *x = &a->ops[o], *y = &b->ops[o];
        if (strcmp(x->uid, y->uid) || x->parallelism != y->parallelism || x->max_parallelism != y->max_parallelism ||
            x->n_sub != y->n_sub)
            return "operator";
        for (int i = 0; i < x->n_sub; i++) {
            const char *d = subtask_diff(&x->sub[i], &y->sub[i]);
            if (d) return d;
        }
    }
    if (a->inline_pool.n != b->inline_pool.n) return "number of inlined handles";
    for (int i = 0; i < a->inline_pool.n; i++) {
        const sim_bytes_entry *x = &a->inline_pool.e[i], *y = &b->inline_pool.e[i];
        if (strcmp(x->name, y->name) || x->len != y->len || memcmp(x->data, y->data, x->len)) return "inlined bytes";
    }
    return NULL;
}

typedef struct agree_ctx {
    sim_meta_cache *cache;
    rt_store *store;
    int checked, inlined, foreign, absolute, inflight;
} agree_ctx;

/* sim_completed_fn: the load right after the write is the writer's entry
 * (a hit, no parse), and equals a plain parse of the stored bytes. */
static void check_agree(void *ctx, const sim_run *r, int64_t id, const char *dir, int savepoint) {
    agree_ctx *x = ctx;
    (void)r;
    (void)id;
    (void)savepoint;
    const sim_meta_cache_stats *st = sim_meta_cache_stats_of(x->cache);
    uint64_t hits = st->hits, misses = st->misses;
    sim_meta kept, parsed;
    SF_OK(SF_RC(sim_meta_load_in(x->cache, &kept, x->store, dir, NULL, NULL, &sf_err)));
    CU_ASSERT_EQUAL(st->hits, hits + 1);
    CU_ASSERT_EQUAL(st->misses, misses);
    SF_OK(SF_RC(sim_meta_load(&parsed, x->store, dir, &sf_err)));
    const char *d = meta_diff(&kept, &parsed);
    if (d) fprintf(stderr, "\n  %s/_metadata: writer and reader disagree on its %s\n", dir, d);
    CU_ASSERT_PTR_NULL(d);
    x->checked++;
    x->inlined += parsed.n_handles[SIM_HANDLE_BYTES] > 0;
    x->absolute += parsed.n_handles[SIM_HANDLE_FILE] > 0;
    for (int i = 0; i < parsed.n_epochs; i++) x->inflight += parsed.epochs[i].n_inflight > 0;
    const sim_meta *m = &parsed;
    for (int o = 0; o < m->n_ops; o++)
        for (int s = 0; s < m->ops[o].n_sub; s++)
            for (int f = 0; m->ops[o].sub[s].has_keyed && f < m->ops[o].sub[s].keyed.n_files; f++) {
                const sim_file_ref *fr = &m->ops[o].sub[s].keyed.files[f];
                /* reused from the savepoint, named where it is not (FLINK-39964) */
                x->foreign += fr->type == SIM_HANDLE_RELATIVE && !rt_store_exists(x->store, fr->path);
            }
    sim_meta_free(&kept);
    sim_meta_free(&parsed);
}

static void agree_config(sim_config *c, agree_ctx *x, const char *backend, uint64_t seed) {
    sf_config(c, x->store, backend, seed);
    c->meta_cache = x->cache;
    c->on_completed = check_agree;
    c->observer = x;
}

/* Checkpoints and savepoints of every kind, inlined bytes, relative,
 * foreign-relative (after a CLAIM restore) and absolute handles, in-flight
 * records: each document the run writes reads back as the writer kept it. */
static void test_meta_writer_reader_agree(void) {
    agree_ctx x = {NULL, sf_mem_store(), 0, 0, 0, 0, 0};
    SF_OK(SF_RC(sim_meta_cache_create(&x.cache, &sf_err)));
    char sp[SIM_PATH_MAX], nat[SIM_PATH_MAX];
    sim_config c;
    /* heap, small state inlined, aligned checkpoints and both savepoints */
    agree_config(&c, &x, "heap", 161);
    c.memory_threshold = SIM_MEMORY_THRESHOLD_DEFAULT;
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    sf_snapshot(r, SIM_KIND_CANONICAL, sp, sizeof sp);
    sf_snapshot(r, SIM_KIND_NATIVE, sp, sizeof sp);
    sim_run_destroy(r);
    /* RocksDB, incremental, unaligned checkpoints (channel state), and
     * after a failover to one the lineage names in-flight records */
    agree_config(&c, &x, "rocksdb", 162);
    c.unaligned = 1;
    r = sf_run(&c);
    sf_records(r, 600);
    SF_OK(SF_RC(sim_run_failover(r, &sf_err)));
    sf_records(r, 400);
    sf_snapshot(r, SIM_KIND_UNALIGNED, sp, sizeof sp);
    sf_snapshot(r, SIM_KIND_NATIVE, nat, sizeof nat);
    sim_run_destroy(r);
    /* CLAIM of the native savepoint: checkpoints reuse its SSTs */
    agree_config(&c, &x, "rocksdb", 163);
    r = sf_restored(&c, nat, SIM_MODE_CLAIM);
    sf_records(r, 600);
    sim_run_destroy(r);
    /* a savepoint written with absolute paths (storage_root named) */
    agree_config(&c, &x, "heap", 164);
    c.mutant = SIM_MUT_SAVEPOINT_ABSOLUTE;
    r = sf_run(&c);
    sf_records(r, 300);
    sf_snapshot(r, SIM_KIND_CANONICAL, sp, sizeof sp);
    sim_run_destroy(r);
    CU_ASSERT(x.checked >= 10);
    CU_ASSERT(x.inlined > 0);
    CU_ASSERT(x.foreign > 0);
    CU_ASSERT(x.absolute > 0);
    CU_ASSERT(x.inflight > 0);
    sim_meta_cache_free(x.cache);
    rt_store_close(x.store);
}

static void test_no_metadata(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 141);
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char sp[SIM_PATH_MAX], meta[SIM_PATH_MAX + 16], shared[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_CANONICAL, sp, sizeof sp);
    snprintf(shared, sizeof shared, "%s", sim_run_job_id(r)); /* a directory of files, no snapshot */
    sim_run_destroy(r);
    snprintf(meta, sizeof meta, "%s/_metadata", sp);
    SF_OK(SF_RC(rt_store_delete(s, meta, &sf_err)));

    c.seed++;
    r = sf_run(&c);
    expect_rejected(r, s, sp, RT_ENOENT, "_metadata");
    expect_rejected(r, s, "nowhere/at-all", RT_ENOENT, "_metadata");
    expect_rejected(r, s, shared, RT_ENOENT, "_metadata");
    sim_run_destroy(r);
    rt_store_close(s);
}

/* ---- registration ------------------------------------------------------------- */

static int init(void) { return sf_suite_init("restore"); }

int suite_restore(void) {
    CU_pSuite s = CU_add_suite("restore", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"no-claim: first checkpoint full, restored files kept (rocksdb)", test_no_claim_rocksdb},
        {"no-claim: restored files kept (heap)", test_no_claim_heap},
        {"claim: restored files deleted once subsumed (rocksdb)", test_claim_rocksdb},
        {"claim: restored files deleted once subsumed (heap)", test_claim_heap},
        {"legacy: restored files reused, never deleted (rocksdb)", test_legacy_rocksdb},
        {"legacy: restored files never deleted (heap)", test_legacy_heap},
        {"failover matches the oracle (heap, aligned)", test_failover_heap_aligned},
        {"failover matches the oracle (heap, unaligned)", test_failover_heap_unaligned},
        {"failover matches the oracle (rocksdb, aligned)", test_failover_rocksdb_aligned},
        {"failover matches the oracle (rocksdb, unaligned)", test_failover_rocksdb_unaligned},
        {"rescaling 2-3-1, every kind (heap)", test_rescale_heap},
        {"rescaling 2-3-1, every kind (rocksdb)", test_rescale_rocksdb},
        {"relocated native savepoint restores (heap)", test_relocated_savepoint_heap},
        {"relocated native savepoint restores (rocksdb)", test_relocated_savepoint_rocksdb},
        {"checkpoint of exclusive state relocates (heap)", test_checkpoint_storage_gone_heap},
        {"checkpoint with shared state needs its storage (rocksdb)", test_checkpoint_storage_gone_rocksdb},
        {"a tiny checkpoint is inlined and relocates", test_tiny_checkpoint_relocates},
        {"inlined state is sealed in _metadata", test_inlined_state_sealed},
        {"claimed savepoint's reused files are re-anchored (FLINK-39964)", test_claimed_savepoint_files_resolve},
        {"a task failover restores the checkpoint held in memory, not its _metadata", test_task_failover_reads_no_metadata},
        {"a restore whose store write fails leaves nothing behind", test_restore_all_or_nothing},
        {"claimed savepoint kept whole while its files are in use", test_claimed_savepoint_folder_kept},
        {"canonical savepoint heap -> rocksdb", test_canonical_heap_to_rocksdb},
        {"canonical savepoint rocksdb -> heap", test_canonical_rocksdb_to_heap},
        {"schema migration, canonical (rocksdb)", test_schema_migration_canonical},
        {"schema migration, native (rocksdb)", test_schema_migration_native},
        {"schema migration while rescaling 2 -> 1", test_schema_migration_rescaled},
        {"POJO schema: as is, after migration, incompatible", test_resolve_pojo},
        {"key enum: reconfigured, or incompatible", test_resolve_enum},
        {"serializer bytes: string fields, enum ordinals", test_value_bytes},
        {"key type change rejected, nothing restored", test_key_type_is_fixed},
        {"key serializer recorded in the handle", test_key_type_recorded},
        {"reconfigured serializer written from then on", test_reconfigured_serializer_sticks},
        {"damaged file rejected, nothing restored (heap native)", test_damage_heap_native},
        {"damaged file rejected, nothing restored (heap unaligned)", test_damage_heap_unaligned},
        {"damaged file rejected, nothing restored (rocksdb native)", test_damage_rocksdb_native},
        {"damaged file rejected, nothing restored (rocksdb aligned)", test_damage_rocksdb_aligned},
        {"hostile or malformed _metadata (memory store)", test_bad_metadata_mem},
        {"hostile _metadata (directory store)", test_bad_metadata_dir},
        {"no _metadata", test_no_metadata},
        {"parsed _metadata kept by its bytes, not its path", test_meta_cache_exact},
        {"every _metadata reads back as its writer kept it", test_meta_writer_reader_agree},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
