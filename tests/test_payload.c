/* test_payload: the payload state (sim_state.h) and the built-in payload
 * job: its values are the PRNG's bytes, it goes through the backends and
 * formats like any state, and the oracle's digest check of payload-only
 * operators (sim_oracle.c) finds a changed byte, a lost entry and a lost
 * in-flight record. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim_fixture.h"

static int init(void) { return sf_suite_init("payload"); }

static void payload_config(sim_config *c, rt_store *s, const char *backend, uint64_t seed) {
    sf_config(c, s, backend, seed);
    sim_job_payload(&c->job);
}

/* The draw is a pure function of the value, incompressible in practice
 * (no byte value dominates), and encodes to its own bytes. */
static void test_payload_value(void) {
    uint8_t a[SIM_PAYLOAD_BYTES], b[SIM_PAYLOAD_BYTES];
    sim_payload_draw(42, a);
    sim_payload_draw(42, b);
    CU_ASSERT(memcmp(a, b, sizeof a) == 0);
    sim_payload_draw(43, b);
    CU_ASSERT(memcmp(a, b, sizeof a) != 0);
    int counts[256] = {0}, most = 0;
    for (int i = 0; i < SIM_PAYLOAD_BYTES; i++)
        if (++counts[a[i]] > most) most = counts[a[i]];
    CU_ASSERT(most <= 4);
    sim_state_desc d = {.name = "p", .kind = SIM_STATE_PAYLOAD, .schema_version = 1};
    sim_value v, w;
    sim_value_init(&v, &d);
    sim_value_apply(&v, &d, 42);
    sim_value_apply(&v, &d, 43);
    sim_value_init(&w, &d);
    sim_value_apply(&w, &d, 43);
    sim_value_apply(&w, &d, 42);
    CU_ASSERT(sim_value_equal(&v, &w, &d)); /* commutative */
    uint8_t buf[SIM_VALUE_BYTES_MAX];
    size_t len = sim_value_encode(&v, &d, buf, sizeof buf);
    CU_ASSERT_EQUAL(len, 2 + SIM_PAYLOAD_BYTES);
    CU_ASSERT(memcmp(buf + 2, v.payload, SIM_PAYLOAD_BYTES) == 0);
    SF_OK(SF_RC(sim_value_decode(&w, &d, buf, len, &sf_err)));
    CU_ASSERT(sim_value_equal(&v, &w, &d));
    CU_ASSERT_EQUAL(SF_RC(sim_value_decode(&w, &d, buf, len - 1, &sf_err)), RT_EFORMAT);
}

/* Takes a snapshot of kind on `from`, restores it on `to`, runs more
 * records, checks against the oracle; returns the restored run. */
static sim_run *round_trip(rt_store *s, sim_kind kind, const char *from, const char *to, uint32_t keys) {
    sim_config c;
    payload_config(&c, s, from, 71);
    if (keys) c.job.keys = keys, c.job.key_per_record = 0;
    sim_run *r = sf_run(&c);
    sf_records(r, 3000);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, kind, dir, sizeof dir);
    sf_verify(r);
    sim_run_destroy(r);
    payload_config(&c, s, to, 72);
    if (keys) c.job.keys = keys, c.job.key_per_record = 0;
    sim_run *back = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    SF_OK(SF_RC(sim_run_verify(back, &sf_err)));
    return back;
}

static void test_payload_round_trips(void) {
    static const struct {
        sim_kind kind;
        const char *from, *to;
    } cases[] = {{SIM_KIND_NATIVE, "rocksdb", "rocksdb"},   {SIM_KIND_CANONICAL, "rocksdb", "heap"},
                 {SIM_KIND_CANONICAL, "heap", "rocksdb"},   {SIM_KIND_NATIVE, "heap", "heap"},
                 {SIM_KIND_ALIGNED, "rocksdb", "rocksdb"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rt_store *s = sf_mem_store();
        sim_run *r = round_trip(s, cases[i].kind, cases[i].from, cases[i].to, 0);
        sf_records(r, 500);
        SF_OK(SF_RC(sim_run_drain(r, &sf_err)));
        sf_verify(r);
        sim_run_destroy(r);
        rt_store_close(s);
    }
}

/* With few keys many records meet at a key: the largest payload must win
 * whatever the order, in the backends and in the oracle alike. */
static void test_payload_shared_keys(void) {
    rt_store *s = sf_mem_store();
    sim_run *r = round_trip(s, SIM_KIND_NATIVE, "rocksdb", "rocksdb", 40);
    sim_run_destroy(r);
    rt_store_close(s);
}

typedef struct first_entry {
    int found;
    uint32_t kg;
    uint64_t key;
    uint8_t val[SIM_VALUE_BYTES_MAX];
    size_t len;
} first_entry;

static int take_first(void *ctx, int state, uint32_t kg, uint64_t key, const uint8_t *val, size_t len) {
    first_entry *f = ctx;
    (void)state;
    f->found = 1;
    f->kg = kg;
    f->key = key;
    memcpy(f->val, val, len);
    f->len = len;
    return 1;
}

/* One byte of one restored payload changed: the oracle's digest differs. */
static void test_payload_corrupt_byte(void) {
    const char *backends[] = {"rocksdb", "heap"};
    for (int k = 0; k < 2; k++) {
        rt_store *s = sf_mem_store();
        sim_run *r = round_trip(s, SIM_KIND_NATIVE, backends[k], backends[k], 0);
        int o = sim_job_find(&r->job, "store");
        CU_ASSERT_FATAL(o >= 0);
        sim_backend *b = r->tasks[r->op_first_task[o]].backend;
        first_entry f = {0};
        SF_OK(SF_RC(b->ops->scan(b, 0, take_first, &f, &sf_err)));
        CU_ASSERT_FATAL(f.found);
        f.val[f.len - 1] ^= 0x01;
        SF_OK(SF_RC(b->ops->put(b, 0, f.kg, f.key, f.val, f.len, &sf_err)));
        CU_ASSERT_EQUAL(SF_RC(sim_run_verify(r, &sf_err)), RT_ECORRUPT);
        CU_ASSERT(strstr(sf_err.msg, "digest") != NULL);
        f.val[f.len - 1] ^= 0x01; /* the control: the byte back, the oracle agrees */
        SF_OK(SF_RC(b->ops->put(b, 0, f.kg, f.key, f.val, f.len, &sf_err)));
        SF_OK(SF_RC(sim_run_verify(r, &sf_err)));
        sim_run_destroy(r);
        rt_store_close(s);
    }
}

/* Restoring an unaligned checkpoint under the drop-channel-state mutant
 * loses the in-flight records' entries: the oracle says so, and without
 * the mutant it agrees. */
static int restore_unaligned(sim_mutant m) {
    rt_store *s = sf_mem_store();
    sim_config c;
    payload_config(&c, s, "rocksdb", 73);
    c.unaligned = 1;
    sim_run *r = sf_run(&c);
    sf_records(r, 2000);
    char dir[SIM_PATH_MAX];
    sf_snapshot(r, SIM_KIND_UNALIGNED, dir, sizeof dir);
    sim_run_destroy(r);
    payload_config(&c, s, "rocksdb", 74);
    c.unaligned = 1;
    c.mutant = m;
    sim_run *back = sf_restored(&c, dir, SIM_MODE_NO_CLAIM);
    sf_records(back, 200);
    SF_OK(SF_RC(sim_run_drain(back, &sf_err)));
    rt_err rc = SF_RC(sim_run_verify(back, &sf_err));
    sim_run_destroy(back);
    rt_store_close(s);
    return rc;
}

static void test_payload_mutant(void) {
    CU_ASSERT_EQUAL(restore_unaligned(SIM_MUT_NONE), RT_OK);
    CU_ASSERT_EQUAL(restore_unaligned(SIM_MUT_DROP_CHANNEL_STATE), RT_ECORRUPT);
}

int suite_payload(void) {
    CU_pSuite s = CU_add_suite("payload", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"payload value: drawn, commutative, its own bytes", test_payload_value},
        {"payload job: restores equal the oracle (native, canonical, checkpoint)", test_payload_round_trips},
        {"payload job: shared keys keep the largest payload", test_payload_shared_keys},
        {"payload job: a changed byte fails the oracle's digest", test_payload_corrupt_byte},
        {"payload job: lost in-flight records fail the oracle", test_payload_mutant},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (CU_add_test(s, tests[i].name, tests[i].fn) == NULL) return -1;
    return 0;
}
