/* suites: every CUnit suite of the project, one line each.
 * X(name): tests/test_<module>.c defines `int suite_<name>(void)`, which
 * adds its suite with CU_add_suite and its tests, returning 0 on success. */
#define TEST_SUITES(X) \
    X(runtime)         \
    X(storage)         \
    X(matrix)          \
    X(rocksdb)         \
    X(guarantees)      \
    X(engine)          \
    X(restore)         \
    X(payload)         \
    X(coordinator)     \
    X(upgrade)         \
    X(fuzz)            \
    X(replay)          \
    X(spa)             \
    X(scenario)         \
    X(registry)        \
    X(flink)           \
    X(flink_hostile)   \
    X(cli)
