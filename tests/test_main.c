/* test_main: runs every suite of tests/suites.h; `run_tests NAME` runs the
 * suites whose name contains NAME. Exit 1 on any failure. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "suites.h"

#define DECLARE(name) int suite_##name(void);
TEST_SUITES(DECLARE)
#undef DECLARE

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
#define ADD(name)                                                     \
    if (only == NULL || strstr(#name, only) != NULL) {                \
        if (suite_##name() != 0) {                                    \
            fprintf(stderr, "cannot register suite %s\n", #name);     \
            CU_cleanup_registry();                                    \
            return 2;                                                 \
        }                                                             \
    }
    TEST_SUITES(ADD)
#undef ADD
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (run == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
