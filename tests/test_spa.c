/* test_spa: the State Processor API and the version and upgrade rows, at
 * the level of single restores: what each guarantee row rests on. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fixture.h"
#include "drv_spa.h"

static int init(void) { return sf_suite_init("spa"); }

static rt_store *snapshot(const char *backend, sim_kind kind, const char *engine, char *dir, size_t cap) {
    rt_store *s = sf_mem_store();
    sim_config c;
    sf_config(&c, s, backend, 41);
    if (engine) c.engine = sim_version_find(engine);
    c.unaligned = kind == SIM_KIND_UNALIGNED;
    sim_run *r = sf_run(&c);
    sf_records(r, 900);
    sf_snapshot(r, kind, dir, cap);
    sim_run_destroy(r);
    return s;
}

/* The reader goes through restore and checks the oracle at the cut. */
static void test_read_matches_oracle(void) {
    const char *backends[] = {"heap", "rocksdb"};
    sim_kind kinds[] = {SIM_KIND_CANONICAL, SIM_KIND_NATIVE, SIM_KIND_ALIGNED};
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 3; k++) {
            char dir[256];
            rt_store *s = snapshot(backends[b], kinds[k], NULL, dir, sizeof dir);
            CU_ASSERT_EQUAL(SF_RC(drv_spa_read(s, dir, sim_version_default(), sf_tmp(), NULL, &sf_err)), RT_OK);
            rt_store_close(s);
        }
}

/* In-flight records are not keyed state: reading an unaligned checkpoint's
 * keyed state alone would silently lose them. */
static void test_read_rejects_in_flight(void) {
    char dir[256];
    rt_store *s = snapshot("heap", SIM_KIND_UNALIGNED, NULL, dir, sizeof dir);
    CU_ASSERT_EQUAL(SF_RC(drv_spa_read(s, dir, sim_version_default(), sf_tmp(), NULL, &sf_err)), RT_ECHANNEL);
    rt_store_close(s);
}

static void test_read_damaged(void) {
    char dir[256];
    rt_store *s = snapshot("heap", SIM_KIND_CANONICAL, NULL, dir, sizeof dir);
    sf_files files = {0};
    sf_meta_files(s, dir, &files);
    CU_ASSERT_FATAL(files.n > 0);
    uint8_t *data;
    size_t len;
    SF_OK(rt_store_get(s, files.f[0].ref.path, &data, &len, &sf_err));
    data[len / 2] ^= 1;
    SF_OK(rt_store_put(s, files.f[0].ref.path, data, len, &sf_err));
    free(data);
    CU_ASSERT_EQUAL(SF_RC(drv_spa_read(s, dir, sim_version_default(), sf_tmp(), NULL, &sf_err)), RT_ECHECKSUM);
    sf_files_free(&files);
    rt_store_close(s);
}

static rt_err restore_with(rt_store *s, const char *dir, const char *job_file, const char *engine);

/* A flipped byte in _metadata itself (an offset's digit, a key's letter)
 * is damage with a name, found before anything else is read. */
static void test_damaged_metadata(void) {
    char dir[256];
    rt_store *s = snapshot("heap", SIM_KIND_ALIGNED, NULL, dir, sizeof dir);
    char path[300];
    snprintf(path, sizeof path, "%s/_metadata", dir);
    uint8_t *data;
    size_t len;
    SF_OK(rt_store_get(s, path, &data, &len, &sf_err));
    const char *probes[] = {"\"offsets\"", "\"schema_version\"", "\"source_seed\""};
    for (int i = 0; i < 3; i++) {
        char *at = strstr((char *)data, probes[i]);
        CU_ASSERT_FATAL(at != NULL);
        at[3] ^= 0x04;
        SF_OK(rt_store_put(s, path, data, len, &sf_err));
        CU_ASSERT_EQUAL(restore_with(s, dir, NULL, NULL), RT_ECHECKSUM);
        at[3] ^= 0x04;
    }
    SF_OK(rt_store_put(s, path, data, len, &sf_err));
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, NULL), RT_OK);
    free(data);
    rt_store_close(s);
}

/* What the writer wrote restores on either backend and continues
 * exactly-once; a native input is refused by the writer's one format. */
static void test_write(void) {
    char dir[256], out[256];
    rt_store *s = snapshot("rocksdb", SIM_KIND_CANONICAL, NULL, dir, sizeof dir);
    SF_OK(drv_spa_write(s, dir, "spa", sim_version_default(), sf_tmp(), out, sizeof out, &sf_err));
    CU_ASSERT(strncmp(out, "spa/", 4) == 0);
    sim_config c;
    sf_config(&c, s, "heap", 42);
    sim_run *r = sf_restored(&c, out, SIM_MODE_NO_CLAIM);
    sf_records(r, 400);
    sf_verify(r);
    sim_run_destroy(r);
    rt_store_close(s);
    s = snapshot("rocksdb", SIM_KIND_NATIVE, NULL, dir, sizeof dir);
    CU_ASSERT_EQUAL(SF_RC(drv_spa_write(s, dir, "spa", sim_version_default(), sf_tmp(), out, sizeof out, &sf_err)),
                    RT_EFORMAT);
    rt_store_close(s);
}

/* Restores dir with the given job file and engine; returns the code. */
static rt_err restore_with(rt_store *s, const char *dir, const char *job_file, const char *engine) {
    sim_config c;
    sf_config(&c, s, "heap", 43);
    if (job_file) {
        rt_error e;
        CU_ASSERT_FATAL(sim_job_load(&c.job, job_file, &e) == RT_OK);
    }
    if (engine) c.engine = sim_version_find(engine);
    sim_run *r = sf_run(&c);
    rt_err rc = SF_RC(sim_run_restore(r, dir, SIM_MODE_NO_CLAIM, 0, &sf_err));
    if (rc == RT_OK) {
        sf_records(r, 300);
        sf_verify(r);
    }
    sim_run_destroy(r);
    return rc;
}

/* Channel state is keyed by channel index and holds no record type, as in
 * Flink: a reshaped graph whose edges out of the stateful operators keep
 * their record types reads the in-flight data without any name check (the
 * records the old source had overtaken go to its new successor); new
 * operator code on the same graph is fine (the docs' "non-arbitrary"
 * upgrade). Misread record types: test_engine's channel-state tests. */
static void test_unaligned_job_upgrades(void) {
    char dir[256];
    rt_store *s = snapshot("heap", SIM_KIND_UNALIGNED, NULL, dir, sizeof dir);
    CU_ASSERT_EQUAL(restore_with(s, dir, "scenarios/jobs/reshaped.json", NULL), RT_OK);
    CU_ASSERT_EQUAL(restore_with(s, dir, "scenarios/jobs/new-code.json", NULL), RT_OK);
    rt_store_close(s);
}

/* Channel state has one serialization version in every release modelled
 * (ChannelStateSerializerImpl), so an unaligned checkpoint crosses minor
 * and major releases as far as its channel state goes; the metadata
 * version gates downgrades. */
static void test_versions(void) {
    char dir[256];
    rt_store *s = snapshot("heap", SIM_KIND_UNALIGNED, "1.15.0", dir, sizeof dir);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "1.16.0"), RT_OK);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "1.15.4"), RT_OK);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "2.0.0"), RT_OK);
    rt_store_close(s);
    s = snapshot("heap", SIM_KIND_UNALIGNED, "2.0.0", dir, sizeof dir);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "1.20.1"), RT_EVERSION);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "2.2.0"), RT_OK);
    rt_store_close(s);
    s = snapshot("heap", SIM_KIND_ALIGNED, "1.15.0", dir, sizeof dir);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "1.16.0"), RT_OK);
    rt_store_close(s);
    s = snapshot("heap", SIM_KIND_CANONICAL, "1.16.3", dir, sizeof dir);
    CU_ASSERT_EQUAL(restore_with(s, dir, NULL, "1.15.4"), RT_EVERSION);
    rt_store_close(s);
}

int suite_spa(void) {
    CU_pSuite s = CU_add_suite("spa", init, sf_suite_cleanup);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "reader matches the oracle at the cut", test_read_matches_oracle) ||
        !CU_add_test(s, "reader rejects in-flight state", test_read_rejects_in_flight) ||
        !CU_add_test(s, "reader rejects a damaged file", test_read_damaged) ||
        !CU_add_test(s, "writer output restores; native input refused", test_write) ||
        !CU_add_test(s, "damaged _metadata is a named error", test_damaged_metadata) ||
        !CU_add_test(s, "unaligned: reshaped graph and new code", test_unaligned_job_upgrades) ||
        !CU_add_test(s, "minor/patch/downgrade versions", test_versions))
        return -1;
    return 0;
}
