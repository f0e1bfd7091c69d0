/* test_registry: sim/sim_registry.c as Flink's SharedStateRegistryImpl:
 * registerReference's branches, checkpointCompleted's confirmation,
 * createdBy at first registration, deletion only of owned files no longer
 * used, and a restored NO_SHARING snapshot held in use by its shared files. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim_registry.h"

static sim_file_ref ref(const char *path, int64_t created_by, uint64_t size, uint64_t xxh3) {
    sim_file_ref f;
    memset(&f, 0, sizeof f);
    strcpy(f.path, path);
    f.created_by = created_by;
    f.size = size;
    f.xxh3 = xxh3;
    f.shared = 1;
    return f;
}

static sim_reg_outcome reg(sim_registry *r, const sim_file_ref *f, int64_t id) {
    rt_error e;
    sim_reg_outcome out = SIM_REG_NEW;
    sim_file_ref copy = *f;
    char discard[64];
    CU_ASSERT_EQUAL(sim_registry_register_ref(r, NULL, &copy, id, &out, discard, sizeof discard, &e), RT_OK);
    CU_ASSERT_STRING_EQUAL(discard, ""); /* one path per key: nothing to discard */
    CU_ASSERT_STRING_EQUAL(copy.path, f->path);
    return out;
}

static void test_register_branches(void) {
    sim_registry r;
    sim_registry_init(&r);
    sim_file_ref a = ref("job/shared/a.sst", 3, 100, 0xa);
    CU_ASSERT_EQUAL(reg(&r, &a, 3), SIM_REG_NEW);
    CU_ASSERT_EQUAL(reg(&r, &a, 4), SIM_REG_REUSED); /* a placeholder for it */
    /* A placeholder for something never registered is a bug of the caller. */
    sim_file_ref ghost = ref("job/shared/ghost.sst", 2, 10, 0x9);
    rt_error e;
    CU_ASSERT_EQUAL(sim_registry_register_ref(&r, NULL, &ghost, 5, NULL, NULL, 0, &e), RT_EINTERNAL);
    CU_ASSERT_PTR_NULL(sim_registry_find(&r, ghost.path));
    /* Another handle under an unconfirmed key replaces it... */
    sim_file_ref b = ref("job/shared/b.sst", 5, 50, 0xb), b2 = ref("job/shared/b.sst", 6, 51, 0xbb);
    CU_ASSERT_EQUAL(reg(&r, &b, 5), SIM_REG_NEW);
    CU_ASSERT_EQUAL(reg(&r, &b2, 6), SIM_REG_REPLACED);
    CU_ASSERT_EQUAL(sim_registry_find(&r, b.path)->xxh3, 0xbb);
    CU_ASSERT_EQUAL(sim_registry_find(&r, b.path)->created_by, 5); /* createdBy: the first registration */
    /* ...under a confirmed one it does not. */
    sim_registry_confirm(&r, 6);
    sim_file_ref b3 = ref("job/shared/b.sst", 7, 52, 0xbbb);
    CU_ASSERT_EQUAL(reg(&r, &b3, 7), SIM_REG_KEPT);
    CU_ASSERT_EQUAL(sim_registry_find(&r, b.path)->xxh3, 0xbb);
    CU_ASSERT_EQUAL(sim_registry_find(&r, b.path)->last_used, 7);
    sim_registry_free(&r);
}

/* Two files under one key (a key that is not the physical path, as before
 * FLINK-29913): unconfirmed, the registry takes the new file and the old
 * one is to be discarded; confirmed, the old one stays, the caller's
 * handle becomes it and the new file is to be discarded. */
static void test_two_files_one_key(void) {
    sim_registry r;
    sim_registry_init(&r);
    rt_error e;
    char discard[64];
    sim_file_ref k1 = ref("job/shared/op-0-1-000012.sst", 1, 10, 0x1), k2 = ref("job/shared/op-0-2-000012.sst", 2, 10, 0x2);
    sim_reg_outcome out;
    CU_ASSERT_EQUAL(sim_registry_register_ref(&r, "op-0-000012.sst", &k1, 1, &out, discard, sizeof discard, &e), RT_OK);
    CU_ASSERT_EQUAL(out, SIM_REG_NEW);
    CU_ASSERT_EQUAL(sim_registry_register_ref(&r, "op-0-000012.sst", &k2, 2, &out, discard, sizeof discard, &e), RT_OK);
    CU_ASSERT_EQUAL(out, SIM_REG_REPLACED);
    CU_ASSERT_STRING_EQUAL(discard, k1.path); /* still in checkpoint 1, which has not completed yet */
    CU_ASSERT_STRING_EQUAL(k2.path, "job/shared/op-0-2-000012.sst");
    CU_ASSERT_PTR_NOT_NULL(sim_registry_find_path(&r, k2.path));
    CU_ASSERT_PTR_NULL(sim_registry_find_path(&r, k1.path));
    sim_registry_confirm(&r, 2);
    sim_file_ref k3 = ref("job/shared/op-0-3-000012.sst", 3, 10, 0x3);
    CU_ASSERT_EQUAL(sim_registry_register_ref(&r, "op-0-000012.sst", &k3, 3, &out, discard, sizeof discard, &e), RT_OK);
    CU_ASSERT_EQUAL(out, SIM_REG_KEPT);
    CU_ASSERT_STRING_EQUAL(discard, "job/shared/op-0-3-000012.sst");
    CU_ASSERT_STRING_EQUAL(k3.path, k2.path); /* the registered handle replaces the new one */
    CU_ASSERT_EQUAL(k3.xxh3, 0x2);
    sim_registry_free(&r);
}

/* checkpointCompleted(id) confirms what id was the last to use. */
static void test_confirm_last_use(void) {
    sim_registry r;
    sim_registry_init(&r);
    sim_file_ref a = ref("job/shared/a.sst", 3, 1, 1), c = ref("job/shared/c.sst", 4, 1, 2);
    reg(&r, &a, 3);
    reg(&r, &c, 4);
    reg(&r, &a, 4);
    sim_registry_confirm(&r, 3);
    CU_ASSERT(!sim_registry_is_confirmed(&r, a.path)); /* last used by 4 */
    CU_ASSERT(!sim_registry_is_confirmed(&r, c.path));
    sim_registry_confirm(&r, 4);
    CU_ASSERT(sim_registry_is_confirmed(&r, a.path));
    CU_ASSERT(sim_registry_is_confirmed(&r, c.path));
    sim_registry_free(&r);
}

static void test_unregister_unused(void) {
    sim_registry r;
    sim_registry_init(&r);
    rt_error e;
    CU_ASSERT_EQUAL(sim_registry_register(&r, NULL, "sp/x.sst", 10, 10, &e), RT_OK); /* restored */
    sim_registry_set_not_claimed(&r, 10);
    sim_file_ref a = ref("job/shared/a.sst", 11, 1, 1);
    reg(&r, &a, 11);
    rt_strlist gone = {0};
    CU_ASSERT_EQUAL(sim_registry_unregister_unused(&r, 12, &gone, &e), RT_OK);
    CU_ASSERT_EQUAL(gone.len, 1); /* a.sst; the restored x.sst is only forgotten */
    CU_ASSERT_STRING_EQUAL(gone.items[0], a.path);
    CU_ASSERT_EQUAL(r.n, 0);
    rt_strlist_free(&gone);
    sim_registry_free(&r);
}

/* A restored NO_SHARING snapshot is in use while a file it registered is;
 * a restored checkpoint that shares never holds itself in use. */
static void test_restored_in_use(void) {
    sim_registry r;
    sim_registry_init(&r);
    rt_error e;
    CU_ASSERT_EQUAL(sim_registry_register(&r, NULL, "sp/x.sst", 20, 20, &e), RT_OK);
    sim_registry_note_restored(&r, 20, 1);
    CU_ASSERT_EQUAL(sim_registry_register(&r, NULL, "job/shared/y.sst", 21, 21, &e), RT_OK);
    sim_registry_note_restored(&r, 21, 0);
    CU_ASSERT(sim_registry_in_use(&r, 20));
    CU_ASSERT(!sim_registry_in_use(&r, 21));
    sim_file_ref x = ref("sp/x.sst", 20, 0, 0);
    reg(&r, &x, 22); /* a later checkpoint reuses it */
    rt_strlist gone = {0};
    CU_ASSERT_EQUAL(sim_registry_unregister_unused(&r, 22, &gone, &e), RT_OK);
    CU_ASSERT(sim_registry_in_use(&r, 20));
    CU_ASSERT_EQUAL(sim_registry_unregister_unused(&r, 23, &gone, &e), RT_OK);
    CU_ASSERT(!sim_registry_in_use(&r, 20));
    CU_ASSERT(gone.len == 2 && strcmp(gone.items[gone.len - 1], "sp/x.sst") == 0);
    rt_strlist_free(&gone);
    sim_registry_free(&r);
}

int suite_registry(void) {
    CU_pSuite s = CU_add_suite("registry", NULL, NULL);
    if (s == NULL) return -1;
    if (!CU_add_test(s, "registerReference: new, placeholder, duplicates", test_register_branches) ||
        !CU_add_test(s, "two files under one key: one is discarded", test_two_files_one_key) ||
        !CU_add_test(s, "checkpointCompleted confirms the last use", test_confirm_last_use) ||
        !CU_add_test(s, "unused owned files deleted, unclaimed forgotten", test_unregister_unused) ||
        !CU_add_test(s, "restored NO_SHARING snapshot in use while its files are", test_restored_in_use))
        return -1;
    return 0;
}
