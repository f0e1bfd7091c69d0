/* test_coordinator: what must survive the coordinator's own failure, and
 * what a failed stop-with-savepoint must leave running. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"

static int init(void) { return sf_suite_init("coordinator"); }

/* A restarted coordinator rebuilds the same retained checkpoints and the
 * same registry from the completed-checkpoint store, and the job goes on
 * exactly-once. */
static void coordinator_failover(const char *backend) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 5);
    sim_run *r = sf_run(&c);
    sf_records(r, 900);
    int64_t before[8], after[8];
    int nb = sf_retained_ids(r, before, 8);
    int reg_before = r->registry.n;
    CU_ASSERT_FATAL(nb > 0);
    SF_OK(sim_run_coordinator_failover(r, &sf_err));
    int na = sf_retained_ids(r, after, 8);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT_EQUAL(memcmp(before, after, (size_t)nb * sizeof before[0]), 0);
    CU_ASSERT_EQUAL(r->registry.n, reg_before);
    /* Every rebuilt entry is confirmed: later checkpoints may reuse it. */
    for (int i = 0; i < r->registry.n; i++) CU_ASSERT(r->registry.e[i].confirmed);
    sf_records(r, 600);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

static void test_coordinator_failover_heap(void) { coordinator_failover("heap"); }
static void test_coordinator_failover_rocksdb(void) { coordinator_failover("rocksdb"); }

/* A damaged store file is a named error, not a guess. */
static void test_damaged_store_file(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 6);
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char path[128];
    snprintf(path, sizeof path, "%s/completed-checkpoints", sim_run_job_id(r));
    SF_OK(rt_store_put(s, path, "garbage\n", 8, &sf_err));
    CU_ASSERT_EQUAL(SF_RC(sim_run_coordinator_failover(r, &sf_err)), RT_EFORMAT);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* A store whose bytes are not what was written is a named error, never
 * fewer or other checkpoints: a one-bit flip turning a checkpoint's owned
 * flag from 1 to 0, or a write torn at a line boundary, would otherwise
 * parse (DefaultCompletedCheckpointStoreUtils fails the recovery when a
 * handle cannot be retrieved), nor a flip in the checksum line itself.
 * The store as written still loads. */
static void test_store_file_checksum(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 6);
    sim_run *r = sf_run(&c);
    sf_records(r, 500);
    char path[128];
    snprintf(path, sizeof path, "%s/completed-checkpoints", sim_run_job_id(r));
    uint8_t *data = NULL;
    size_t len = 0;
    SF_OK(rt_store_get(s, path, &data, &len, &sf_err));
    char *text = (char *)data;
    char *line = memchr(text, '\n', len) + 1; /* the first checkpoint: "<id> 1 0 <dir>" */
    char *owned = strchr(line, ' ') + 1;
    CU_ASSERT_EQUAL_FATAL(*owned, '1');
    *owned = '0';
    SF_OK(rt_store_put(s, path, data, len, &sf_err));
    CU_ASSERT_EQUAL(SF_RC(sim_run_coordinator_failover(r, &sf_err)), RT_ECHECKSUM);
    *owned = '1';
    /* One bit of the checksum line's hex flipped from a lowercase letter
     * to its capital (0x20): the same number to sscanf (fuzz seed 22159). */
    char *hex = strstr(text, "sum ") + 4;
    char *letter = strpbrk(hex, "abcdef");
    CU_ASSERT_PTR_NOT_NULL_FATAL(letter);
    *letter = (char)(*letter ^ 0x20);
    SF_OK(rt_store_put(s, path, data, len, &sf_err));
    CU_ASSERT_EQUAL(SF_RC(sim_run_coordinator_failover(r, &sf_err)), RT_ECHECKSUM);
    *letter = (char)(*letter ^ 0x20);
    size_t cut = (size_t)(strstr(text, "sum ") - text); /* torn right before the checksum line */
    SF_OK(rt_store_put(s, path, data, cut, &sf_err));
    CU_ASSERT_EQUAL(SF_RC(sim_run_coordinator_failover(r, &sf_err)), RT_ECHECKSUM);
    SF_OK(rt_store_put(s, path, data, len, &sf_err));
    SF_OK(sim_run_coordinator_failover(r, &sf_err));
    sim_store_entry en[8];
    int n = 0;
    SF_OK(sim_run_read_store(r, en, 8, &n, &sf_err));
    CU_ASSERT(n >= 1);
    CU_ASSERT(en[0].owned == 1);
    free(data);
    sf_records(r, 300);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* Stop-with-savepoint whose upload fails: the job keeps running and stays
 * exactly-once; a later stop succeeds. */
static void test_failed_stop_keeps_running(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 7);
    sim_run *r = sf_run(&c);
    sf_records(r, 600);
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){RT_OP_PUT, 1, RT_FAULT_EIO, 1, 0, "savepoints"};
    rt_store_set_faults(s, &plan);
    char dir[256];
    CU_ASSERT_EQUAL(SF_RC(sim_run_stop_with_savepoint(r, SIM_KIND_CANONICAL, 0, "savepoints", dir, sizeof dir,
                                                      &sf_err)), RT_EIO);
    rt_store_set_faults(s, NULL);
    int64_t done = sim_run_checkpoint_count(r);
    sf_records(r, 400); /* still running: records flow, checkpoints complete */
    CU_ASSERT(sim_run_checkpoint_count(r) > done);
    SF_OK(sim_run_stop_with_savepoint(r, SIM_KIND_CANONICAL, 1, "savepoints", dir, sizeof dir, &sf_err));
    sf_verify(r);
    sim_run *back = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    sf_records(back, 300);
    sf_verify(back);
    sim_run_destroy(back);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* Each snapshot stops the periodic trigger and starts it again; the
 * stopped chain must end, or after N snapshots N+1 chains trigger
 * checkpoints and the configured interval is not what runs. */
static void test_periodic_trigger_one_chain(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 9);
    sim_run *r = sf_run(&c);
    sf_records(r, 300);
    CU_ASSERT_EQUAL(sim_coord_periodic_chains(r), 1);
    char dir[256];
    for (int i = 0; i < 3; i++) {
        sf_snapshot(r, i == 1 ? SIM_KIND_CANONICAL : SIM_KIND_ALIGNED, dir, sizeof dir);
        sf_records(r, 400); /* > one interval: a cancelled chain has fired and ended */
        CU_ASSERT_EQUAL(sim_coord_periodic_chains(r), 1);
    }
    /* And the interval holds: no more triggers than the time allows. */
    const sim_stats *st = sim_run_stats(r);
    uint64_t t0 = st->virtual_ms, n0 = st->checkpoints_completed + st->checkpoints_failed;
    sf_records(r, 1500);
    st = sim_run_stats(r); /* refreshes the virtual time */
    uint64_t t1 = st->virtual_ms, n1 = st->checkpoints_completed + st->checkpoints_failed;
    CU_ASSERT(n1 > n0);
    CU_ASSERT(n1 - n0 <= (t1 - t0) / c.interval_ms + 1);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

/* ---- checkpoints in progress at once ---- */

/* A run whose keyed subtask agg-1 uploads slowly (each shared put of it
 * delays its acknowledgement), so that checkpoints overlap when allowed. */
static sim_run *slow_run(rt_store *s, sim_config *c, int max_concurrent, uint64_t slow_ms) {
    sf_config(c, s, "rocksdb", 21);
    c->max_concurrent = max_concurrent;
    c->interval_ms = 50;
    sim_run *r = sf_run(c);
    rt_fault_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.n = 1;
    plan.faults[0] = (rt_fault){RT_OP_PUT, 1, RT_FAULT_SLOW, 1, slow_ms, ""};
    snprintf(plan.faults[0].path_prefix, sizeof plan.faults[0].path_prefix, "%s/shared/agg-1-", sim_run_job_id(r));
    rt_store_set_faults(s, &plan);
    return r;
}

/* Steps the loop until n more records were emitted, watching the
 * coordinator after every event: returns the most checkpoints seen in
 * progress at once; *order_ok is cleared if pendingCheckpoints is ever out
 * of id order or still holds a checkpoint older than the last completed
 * one (CheckpointCoordinator.dropSubsumedCheckpoints). */
static int watch_pending(sim_run *r, uint64_t records, int *order_ok) {
    int most = 0;
    *order_ok = 1;
    SF_OK(SF_RC(sim_run_records(r, 1, &sf_err)));
    uint64_t want = sim_run_stats(r)->records_emitted + records;
    for (uint32_t sp = 0; sp < r->job.splits; sp++) r->end[sp] = UINT64_MAX;
    sim_start_sources(r);
    for (uint64_t ev = 0; ev < 2000000 && sim_run_stats(r)->records_emitted < want; ev++) {
        if (!rt_loop_step(&r->loop)) break;
        if (r->n_pend > most) most = r->n_pend;
        for (int i = 0; i < r->n_pend; i++) {
            if (i > 0 && r->pend[i - 1].id >= r->pend[i].id) *order_ok = 0;
            if (!r->pend[i].savepoint && r->pend[i].id < r->stats.last_checkpoint_id) *order_ok = 0;
        }
    }
    for (uint32_t sp = 0; sp < r->job.splits; sp++) r->end[sp] = r->offset[sp];
    return most;
}

/* CheckpointRequestDecider: never more than maxConcurrentCheckpointAttempts
 * in progress, and that many when acknowledgements are slow; the job stays
 * exactly-once and every retained checkpoint restores. */
static void test_max_concurrent(void) {
    for (int max = 1; max <= 3; max++) {
        rt_store *s = sf_mem_store();
        sim_config c;
        sim_run *r = slow_run(s, &c, max, 120);
        int order_ok;
        int most = watch_pending(r, 600, &order_ok);
        if (most != max) fprintf(stderr, "\n  max concurrent %d: %d in progress at most\n", max, most);
        CU_ASSERT_EQUAL(most, max);
        CU_ASSERT(order_ok);
        rt_store_set_faults(s, NULL);
        sf_verify(r);
        char dir[256];
        snprintf(dir, sizeof dir, "%s", sim_run_latest_checkpoint(r));
        CU_ASSERT_FATAL(dir[0] != '\0');
        sim_run *back = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
        sf_records(back, 200);
        sf_verify(back);
        sim_run_destroy(back);
        sim_run_destroy(r);
        rt_store_close(s);
    }
}

/* Unaligned checkpoints (and an alignment timeout) need one checkpoint at
 * a time, as Flink's CheckpointConfig says; beyond the bound is refused. */
static void test_concurrent_needs_aligned(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "heap", 3);
    c.max_concurrent = 2;
    c.unaligned = 1;
    sim_run *r = NULL;
    CU_ASSERT_EQUAL(SF_RC(sim_run_create(&r, &c, &sf_err)), RT_EUSAGE);
    c.unaligned = 0;
    c.aligned_timeout_ms = 10;
    CU_ASSERT_EQUAL(SF_RC(sim_run_create(&r, &c, &sf_err)), RT_EUSAGE);
    c.aligned_timeout_ms = 0;
    c.max_concurrent = SIM_MAX_CONCURRENT + 1;
    CU_ASSERT_EQUAL(SF_RC(sim_run_create(&r, &c, &sf_err)), RT_EUSAGE);
    CU_ASSERT_PTR_NULL(r);
    rt_store_close(s);
}

/* receiveAcknowledgeMessage registers a task's shared files as its
 * acknowledgement arrives, unconfirmed; the completion confirms them. */
static void test_register_on_ack(void) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, "rocksdb", 4);
    c.interval_ms = 0; /* only the checkpoint triggered here */
    sim_run *r = sf_run(&c);
    sf_records(r, 300);
    int64_t id = 0;
    SF_OK(SF_RC(sim_coord_trigger(r, SIM_KIND_ALIGNED, 0, 0, NULL, &id, &sf_err)));
    int seen_partial = 0;
    for (int ev = 0; ev < 100000 && sim_coord_pending(r, id) != NULL; ev++) {
        CU_ASSERT_FATAL(rt_loop_step(&r->loop));
        const sim_pending *p = sim_coord_pending(r, id);
        if (p == NULL || p->acks == 0 || p->acks == r->n_tasks) continue;
        int unconfirmed = 0;
        for (int i = 0; i < r->registry.n; i++)
            unconfirmed += r->registry.e[i].created_by == id && !r->registry.e[i].confirmed;
        seen_partial |= unconfirmed > 0;
    }
    CU_ASSERT(seen_partial); /* some acknowledged, not complete: registered, not confirmed */
    CU_ASSERT_EQUAL(r->stats.last_checkpoint_id, id);
    int mine = 0;
    for (int i = 0; i < r->registry.n; i++)
        if (r->registry.e[i].created_by == id) {
            mine++;
            CU_ASSERT(r->registry.e[i].confirmed);
        }
    CU_ASSERT(mine > 0);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
}

int suite_coordinator(void) {
    CU_pSuite s = CU_add_suite("coordinator", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "coordinator failover (heap)", test_coordinator_failover_heap) ||
        !CU_add_test(s, "coordinator failover (rocksdb)", test_coordinator_failover_rocksdb) ||
        !CU_add_test(s, "damaged completed-checkpoint store", test_damaged_store_file) ||
        !CU_add_test(s, "the completed store is checksummed", test_store_file_checksum) ||
        !CU_add_test(s, "failed stop-with-savepoint keeps the job running", test_failed_stop_keeps_running) ||
        !CU_add_test(s, "one periodic trigger chain after snapshots", test_periodic_trigger_one_chain) ||
        !CU_add_test(s, "max concurrent checkpoints in progress", test_max_concurrent) ||
        !CU_add_test(s, "concurrent checkpoints need aligned ones", test_concurrent_needs_aligned) ||
        !CU_add_test(s, "shared state registered on acknowledgement", test_register_on_ack))
        return -1;
    return 0;
}
