# snapsim: `make` builds ./snapsim; `make matrix` runs the main job;
# `make test` runs the CUnit suite, the determinism checks and the sanitizer
# build. Missing Debian packages are installed first (tools/deps.sh).

CC      ?= gcc
BUILD   ?= build
PKGS     = rocksdb jansson libxxhash sqlite3
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
                   -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(INCLUDES)
SRC_DIRS = runtime sim/model sim/state flink sim driver matrix tools
INCLUDES = $(addprefix -I,$(SRC_DIRS))
LDLIBS   = -lrocksdb -ljansson -lxxhash -lsqlite3 -lm
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC  = $(sort $(foreach d,$(filter-out tools,$(SRC_DIRS)),$(wildcard $(d)/*.c))) $(filter-out tools/snapsim.c,$(wildcard tools/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC = $(sort $(wildcard tests/*.c))
TEST_OBJ = $(TEST_SRC:%.c=$(BUILD)/%.o)
DEPS_OK  = build/.deps-ok

.PHONY: all deps test layout targets unit conformance conformance-smoke determinism sanitize coverage matrix mutants bench clean cppcheck fuzz-metadata
.DEFAULT_GOAL := all

all: snapsim

$(DEPS_OK): tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p build && touch $@

deps: $(DEPS_OK)

$(BUILD)/%.o: %.c $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libsnapsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

snapsim: $(BUILD)/tools/snapsim.o $(BUILD)/libsnapsim.a
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/snapsim: $(BUILD)/tools/snapsim.o $(BUILD)/libsnapsim.a
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/libsnapsim.a
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcunit -o $@

# The suite: unit tests, then the same seed twice and under libfaketime,
# then everything again under ASan+UBSan.
test: layout targets unit determinism cppcheck conformance-smoke sanitize

# Steps of `make test`, not documented as targets of their own.
INTERNAL = deps layout targets unit determinism conformance-smoke

layout:
	sh tests/layout.sh

# Every documented target works: the README and the Makefile agree, and the
# targets make test does not otherwise run (coverage, bench) build and run
# in a quick mode.
targets: snapsim
	sh tests/targets.sh
	@mkdir -p build
	$(MAKE) --no-print-directory coverage COVERAGE_RUN=quick COVERAGE_OUT=build-cov/report >build/coverage-quick.log 2>&1 \
	  || { cat build/coverage-quick.log; exit 1; }
	@grep -q "functions reached by some cell" build-cov/report/restore-map.md || { echo "coverage: no restore map"; exit 1; }
	./snapsim bench --quick --out build/bench-quick >build/bench-quick.log 2>&1 || { cat build/bench-quick.log; exit 1; }
	@test -s build/bench-quick/bench-scale.svg || { echo "bench: no scale plot written"; exit 1; }
	@grep -q '^## Fuzz' build/bench-quick/bench.md || { echo "bench: no fuzz section written"; exit 1; }
	@test -s build/bench-quick/bench-size-time.svg && test -s build/bench-quick/bench-size-memory.svg || { echo "bench: no size plots written"; exit 1; }

unit: $(BUILD)/run_tests snapsim
	$(BUILD)/run_tests

determinism: snapsim
	sh tests/determinism.sh ./snapsim
	sh tests/cli.sh ./snapsim

sanitize: $(DEPS_OK)
	$(MAKE) --no-print-directory BUILD=build-san CFLAGS="-O1 -g $(SAN)" build-san/run_tests build-san/snapsim
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 build-san/run_tests
	ASAN_OPTIONS=detect_leaks=1 sh tests/determinism.sh build-san/snapsim

# COVERAGE_RUN=quick: one scenario and the determinism checks instead of the
# whole suite (make test's check that the target still builds and runs).
COVERAGE_RUN ?= full
COVERAGE_OUT ?= reports/coverage
coverage: $(DEPS_OK)
	$(MAKE) --no-print-directory BUILD=build-cov CFLAGS="-O0 -g --coverage" build-cov/run_tests build-cov/snapsim
	lcov -q --zerocounters -d build-cov
	$(if $(filter quick,$(COVERAGE_RUN)),,build-cov/run_tests)
	sh tests/determinism.sh build-cov/snapsim >/dev/null
	@# a rejected cell (the RocksDB step back) is an outcome, exit 1; only >1 fails
	build-cov/snapsim scenario run scenarios/rocksdb_bump.json --kind native >/dev/null; test $$? -le 1
	lcov -q --capture -d build-cov -o build-cov/coverage.info
	lcov -q --remove build-cov/coverage.info '/usr/*' '*/tests/*' -o build-cov/coverage.info
	genhtml -q build-cov/coverage.info -o $(COVERAGE_OUT)
	@# which restore and format-reading functions each cell reaches
	sh tools/coverage_map.sh build-cov/snapsim $(COVERAGE_OUT) $(COVERAGE_RUN)
	@echo "coverage report: $(COVERAGE_OUT)/index.html, restore map: $(COVERAGE_OUT)/restore-map.md"

matrix: snapsim
	./snapsim matrix --db reports/matrix.db --out reports

# Every built-in mutant under the matrix, the shipped-bug scenarios and a
# fuzz budget: reports/mutants.md says what killed each (long: the matrix
# runs once per mutant).
mutants: snapsim
	./snapsim mutants --out reports

bench: snapsim
	./snapsim bench --out reports

# The real-Flink lane: one runner jar per Flink release from Maven Central
# (conformance/build.sh), then every run of conformance/lane.tsv on real
# Flink (tools/conformance.sh, CONFORMANCE_JOBS workers); the results are
# data in matrix/observed/*.json (commit them), shown by make matrix.
# CONFORMANCE_ONLY=FILE[,FILE...] runs those lines of the plan.
CONFORMANCE_RELEASE ?= 1.20.3
CONFORMANCE_JOBS ?= 2
conformance: snapsim
	bash conformance/build.sh $(CONFORMANCE_RELEASES)
	bash tools/conformance.sh --jobs $(CONFORMANCE_JOBS) $(if $(CONFORMANCE_ONLY),--only $(CONFORMANCE_ONLY))

# A step of make test: one release, one scenario, one kind on real Flink.
conformance-smoke: snapsim
	@mkdir -p build
	bash conformance/build.sh $(CONFORMANCE_RELEASE) 2>build/conformance-smoke-build.log \
	  || { cat build/conformance-smoke-build.log; exit 1; }
	./snapsim scenario run scenarios/relocatable.json --kind canonical --backend heap --impl flink \
	  --release $(CONFORMANCE_RELEASE) --out build/conformance-smoke

# libFuzzer on the reader of real Flink _metadata (flink/), under ASan and
# UBSan, for FUZZ_SECONDS, from the committed corpus (real files and
# hand-made ones); new inputs go to build-fuzz/corpus, findings to
# build-fuzz/ (crash-*, leak-*, timeout-*). Not a step of make test.
FUZZ_SECONDS ?= 600
FUZZ_SRC = tests/fuzz/fuzz_metadata.c flink/fl_cursor.c flink/fl_jser.c flink/fl_meta.c runtime/rt_err.c
fuzz-metadata:
	@sh tools/deps.sh clang libclang-rt-dev
	@mkdir -p build-fuzz/corpus
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iruntime -Iflink $(FUZZ_SRC) -o build-fuzz/fuzz_metadata
	build-fuzz/fuzz_metadata -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
	  -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
	  build-fuzz/corpus tests/fuzz/metadata-corpus

cppcheck: $(DEPS_OK)
	cppcheck -q --std=c11 --enable=warning,performance,portability --error-exitcode=1 \
	  --suppress=missingIncludeSystem $(INCLUDES) $(SRC_DIRS)

clean:
	rm -rf build build-san build-cov build-fuzz snapsim conformance/target

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/tools/snapsim.d
