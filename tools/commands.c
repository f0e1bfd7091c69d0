/* commands: the subcommand table. Each entry's help is its usage text and
 * the option lines of the table its command parses with (tools/cli_opt.h);
 * tests check that every command of the contract answers --help and that
 * the help lists exactly what the parser takes, so the table is the one
 * place to add a command or an option. */
#include "cli.h"
#include "commands.h"

#include <stddef.h>

static const cli_subcommand scenario_subs[] = {{"run", scenario_run_options}, {NULL, NULL}};
static const cli_subcommand matrix_subs[] = {
    {"diff", matrix_diff_options}, {"merge", matrix_no_options}, {"render", matrix_no_options}, {NULL, NULL}};

const cli_command cli_commands[] = {
    {"take", cmd_take, "run a job and take one snapshot of a kind",
     "usage: snapsim take --kind canonical|native|aligned|unaligned --backend heap|rocksdb\n"
     "                    --out DIR [--engine V] [--incremental] [--seed N] [--records N]\n"
     "                    [--parallelism N] [--job FILE] [--memory-threshold B] [--json]\n"
     "                    [--max-concurrent-checkpoints N] [--interval MS]\n"
     "Runs the job for N records with periodic checkpoints stored under DIR, then takes one\n"
     "snapshot of the given kind and prints its path (the directory holding _metadata).\n"
     "canonical|native are savepoints (own directory under DIR); aligned|unaligned are\n"
     "checkpoints (DIR/<job>/chk-N).\n", take_options, NULL},
    {"restore", cmd_restore, "restore a snapshot, run on, check against the oracle",
     "usage: snapsim restore PATH|-s PATH --backend heap|rocksdb [--engine V]\n"
     "                    [--mode claim|no-claim|legacy] [--parallelism N] [--job FILE]\n"
     "                    [--allow-non-restored-state] [--records N] [--seed N] [--json]\n"
     "                    [--trace FILE] [--memory-threshold B] [--max-concurrent-checkpoints N]\n"
     "                    [--interval MS]\n"
     "Restores the job from the snapshot at PATH, runs N more records, drains, and checks the\n"
     "keyed state and the sink output against the exactly-once oracle. Without --job the job is\n"
     "the snapshot's own (rescaled by --parallelism). The restored job writes its checkpoints\n"
     "into the snapshot's storage (a savepoint's parent directory, a checkpoint's storage root)\n"
     "under a new job directory; in claim mode it may delete the restored snapshot's files once\n"
     "they are subsumed, in no-claim and legacy mode never. It answers one line on stdout\n"
     "(what was restored, the oracle's verdict, how many of the snapshot directory's files\n"
     "the mode left or deleted); --json adds snapshot_files and snapshot_files_deleted.\n"
     "Flink's spellings are accepted too (as `flink run` takes them): -s PATH or\n"
     "--fromSavepoint PATH, -rm or --restoreMode claim|no_claim|legacy, -n or\n"
     "--allowNonRestoredState, PATH/_metadata for PATH. The default mode is no-claim.\n"
     "Exit: 0 works, 1 rejected, 2 usage, 3 corrupted.\n", restore_options, NULL},
    {"inspect", cmd_inspect, "show what a snapshot holds (snapsim's or a real Flink one)",
     "usage: snapsim inspect PATH [--json]\n"
     "Prints the snapshot's metadata version, kind, format, engine, operators and their state\n"
     "handles, every handle with its type (absolute, relative or inlined in _metadata), size\n"
     "and owner, any file missing or outside the snapshot's storage, and whether the snapshot\n"
     "is self-contained and relocatable (no absolute handle).\n"
     "A real Flink snapshot (binary _metadata, versions 3, 4, 5 and 6: Flink 1.11 to 2.2) is\n"
     "read as Flink writes it: savepoint or checkpoint (from its CheckpointProperties),\n"
     "canonical or native, operators (id, uid and name where stored, parallelism, max\n"
     "parallelism), every state handle by class, channel-state handles, and every file with\n"
     "its path kind, size, whether it exists, where it lies, the SST format_version of RocksDB\n"
     "files (from their footers) and its problems: missing, another size, outside the\n"
     "snapshot, an absolute path in a savepoint, a reference into another snapshot.\n"
     "Exit status: 0 every file is there and intact, 1 a file is missing, damaged or outside\n"
     "the storage (a real snapshot: missing or of another size), PATH holds no _metadata (as\n"
     "restore answers) or its _metadata is unreadable, 2 a usage error.\n", inspect_options, NULL},
    {"check", cmd_check, "can Flink release R restore this real Flink snapshot?",
     "usage: snapsim check PATH --to RELEASE [--backend heap|hashmap|rocksdb] [--from RELEASE]\n"
     "                     [--json]\n"
     "Decides, without a JVM, whether Flink RELEASE restores the real Flink snapshot at PATH,\n"
     "from the model's own version data and restore rules: the _metadata version the release\n"
     "reads, which backend reads which state handles (--backend: the restoring job's), the\n"
     "SST format_version its RocksDB reads (from each SST's footer), the channel-state\n"
     "serialization version, and every file there with its recorded size (a snapshot with\n"
     "absolute paths that was moved loses them). What the model does not decide is unknown,\n"
     "with the reason: a key-group stream read by another backend than its writer's,\n"
     "Kryo-serialized state across Kryo generations (1.x -> 2.x), channel state of a V3\n"
     "snapshot that may predate the model's releases (name the writer with --from), a\n"
     "changelog backend, files on a remote file system.\n"
     "Prints the verdict and every reason (--json: one object).\n"
     "Exit status: 0 restores, 1 rejected (or PATH is no Flink snapshot), 2 a usage error,\n"
     "5 unknown.\n", check_options, NULL},
    {"scenario", cmd_scenario, "run one scenario script",
     "usage: snapsim scenario run FILE [--kind K] [--backend B] [--seed N] [--json]\n"
     "                                 [--out DIR] [--trace FILE] [--mutant NAME]\n"
     "                                 [--impl model|flink] [--release R] [--runners DIR]\n"
     "Runs the JSON scenario FILE with $KIND and $BACKEND expanded (default: every kind on\n"
     "both backends) and prints one outcome per combination. --out keeps the snapshot storage\n"
     "as directories under DIR (default: in memory); --trace writes the JSONL trace;\n"
     "--mutant runs with one mechanism broken.\n"
     "--impl flink runs the steps on real Apache Flink instead of the model, one JVM per\n"
     "engine step, through conformance/target/runner-<release>.jar (--runners DIR; build them\n"
     "with conformance/build.sh). Steps that name no engine use --release (default 1.20.3).\n"
     "A scenario the lane cannot perform (faults, a coordinator failover, a second snapshot of one job)\n"
     "prints 'skipped' and the step; with --out the snapshots and the JVMs' logs stay there.\n"
     "Exit status: the worst outcome (0 works, 1 rejected, 3 corrupted, 4 crashed).\n", NULL, scenario_subs},
    {"matrix", cmd_matrix, "run every scenario, record and render the matrix",
     "usage: snapsim matrix [--db FILE] [--out DIR] [--jobs N] [--shard I/N] [--seed N]\n"
     "                      [--scenarios DIR] [--expect DIR] [--started ISO-TIME]\n"
     "                      [--kind K] [--backend B] [--observed DIR]\n"
     "                      [--impl flink [--release R] [--runners DIR] [--observed-out FILE]]\n"
     "       snapsim matrix diff OLD.db NEW.db [--impls OLD_IMPL,NEW_IMPL]\n"
     "       snapsim matrix merge OUT.db IN.db...\n"
     "       snapsim matrix render DB OUT-DIR\n"
     "Runs every scenario in scenarios/ against every snapshot kind and backend, records the\n"
     "results in the SQLite database (default reports/matrix.db) and renders guarantees.md\n"
     "and index.html into DIR (default reports).\n"
     "--kind/--backend run only those combinations. --observed DIR (default matrix/observed)\n"
     "holds real-Flink results shown beside the model's; --impl flink runs the scenarios on\n"
     "real Flink instead (see scenario run --help) and --observed-out writes them there.\n"
     "diff lists regressions and changes between two runs, and apart from them every change in\n"
     "files and bytes written per result (COST), flagging more than 10% more bytes as a cost\n"
     "regression (COST-REGRESSION); it exits 1 on an outcome or a cost regression.\n"
     "--impls model,flink compares the model's results in OLD.db with real Flink's in NEW.db\n"
     "(one file may be both) and exits 1 when they disagree.\n"
     "Several runs may write one database at once (they take turns; each waits up to 30 s\n"
     "for the other's write). Each run has its own id, so merge keeps runs apart even when\n"
     "they began in the same second.\n"
     "merge combines the databases of sharded runs into OUT.db: give every shard the same\n"
     "--started so they merge into one run, then render the merged database, e.g.\n"
     "  t=$(date -u +%Y-%m-%dT%H:%M:%SZ); for i in 0 1; do snapsim matrix --shard $i/2 \\\n"
     "     --started $t --db s$i.db --out r$i & done; wait\n"
     "  snapsim matrix merge all.db s0.db s1.db && snapsim matrix render all.db reports\n", matrix_options,
     matrix_subs},
    {"fuzz", cmd_fuzz, "fault-injection sweep over many seeds",
     "usage: snapsim fuzz --seeds N [--from S] [--shard I/N] [--db FILE] [--json] [--mutant NAME]\n"
     "       snapsim fuzz --minimize SEED [--mutant NAME]\n"
     "Runs N seeds (from S, default 1). Each seed draws a job (backend, alignment, parallelism,\n"
     "retention, max concurrent checkpoints: 2 or 3 for some aligned jobs), which storage fault\n"
     "kinds are on and where (swarm testing), and a list of\n"
     "actions (records, savepoints, task and coordinator failovers, restores in every mode and\n"
     "parallelism, stop-with-savepoint, damage to a stored file); two thirds of the seeds also\n"
     "draw a motif leading into a risky sequence (a CLAIM, NO_CLAIM or LEGACY restore whose\n"
     "next checkpoints reuse files, then a task or coordinator failover; a savepoint between\n"
     "incremental checkpoints; stop-with-savepoint under faults), counted at the end.\n"
     "Every rejection must be explained by a fault that named its file, or by damage, else it\n"
     "is a violation; so is anything that works after reading damaged bytes. After every\n"
     "action, with the faults suspended (the harness's own reads never meet them): retained\n"
     "checkpoints' files exist (also after every subsumption), no savepoint file is deleted,\n"
     "no checkpoint after a NO_CLAIM restore uses the restored files, the persisted completed-\n"
     "checkpoint store lists exactly what the coordinator retains, and an incremental\n"
     "checkpoint uploaded no file its base already held, and every file a completed\n"
     "checkpoint's _metadata names, as the reader resolves it, exists. Then the faults stop: a\n"
     "checkpoint must complete within a bound and the state must match the oracle. Exits 1 and\n"
     "prints the replay command when an invariant is violated. A seed that meets a Flink bug\n"
     "open in every release (FLINK-39964: a restored savepoint's relative handle re-anchored\n"
     "into a checkpoint) ends there and prints a KNOWN line: not a violation (--mutant\n"
     "foreign-relative-absolute runs with its fix). Each seed runs in a child process: an\n"
     "engine that aborts on a seed (an assertion, a sanitizer, a signal) makes that seed a\n"
     "crashed violation with its replay command, and the sweep goes on. --db records every\n"
     "seed in the results table. --shard I/N takes every N-th seed, for parallel processes.\n"
     "--minimize SEED shrinks the seed's failing case, as Hypothesis does, to a 1-minimal one\n"
     "that breaks the same invariant (its choices: deleted in spans, lowered toward 0, until no\n"
     "single deletion or lowering keeps it failing; a FLINK-39964 ending is no failure) and\n"
     "prints it with the replay command that reproduces it (a replay of its choices). Exit 0 when\n"
     "minimized, 2 when the seed's case does not fail.\n",
     fuzz_options, NULL},
    {"replay", cmd_replay, "replay one seed exactly, with its trace",
     "usage: snapsim replay --seed N [--case C] [--trace FILE] [--json] [--mutant NAME]\n"
     "                      [--until T] [--break EVENT[:N]]\n"
     "Runs one fuzz seed again, exactly, writing its JSONL trace to FILE, and prints the case:\n"
     "faults, actions, outcome, trace digest and the unseed (the next PRNG draws after the run:\n"
     "a replay that prints another unseed diverged). Exit 1 if an invariant is violated.\n"
     "--until T stops before the first event after the case's virtual time T ms (over all its\n"
     "jobs: a restore's new job starts its own clock, the trace's t, at 0); --break EVENT[:N]\n"
     "after the step that wrote the N-th (default 1st) trace event EVENT. Either prints where it\n"
     "stopped and the coordinator, SharedStateRegistry and task state there (JSON with --json);\n"
     "the trace ends at the stop, a prefix of the full one. Exit 0 when it stopped, 1 (with the\n"
     "final state) when the case ended first, 2 for an unknown EVENT (the known ones are listed).\n"
     "--case C runs the case of choices C (hex joined by '.', as fuzz's minimizer prints them)\n"
     "with the seed's engine streams, instead of the seed's own draws; 2 if C is malformed.\n",
     replay_options, NULL},
    {"mutants", cmd_mutants, "check that the matrix, the shipped-bug scenarios and fuzzing kill every mutant",
     "usage: snapsim mutants [--jobs N] [--scenarios DIR] [--shipped DIR] [--seeds N]\n"
     "                       [--mutant NAME]... [--out DIR]\n"
     "Runs the matrix (--scenarios, default scenarios), the shipped-bug scenarios (--shipped,\n"
     "default scenarios/shipped: each checks the symptom of one bug that reached Flink's users)\n"
     "and a fuzz budget (--seeds, default 60; 0 skips it) under each built-in mutant (one\n"
     "mechanism broken on purpose: every mutant of sim/sim_mutant.h, those named FLINK-NNNNN\n"
     "putting back that Flink bug), or only the ones named by --mutant. Prints, per mutant, what\n"
     "killed it: the matrix results that changed outcome (or, if none did, cost more than 10%\n"
     "more bytes), the shipped-bug scenario that stopped working, the first fuzz seed that\n"
     "broke an invariant (so the number of seeds it took);\n"
     "--out DIR writes the same table to DIR/mutants.md. Every shipped-bug scenario must work\n"
     "without a mutant. Exits 1 if a mutant survives all three, 0 otherwise.\n", mutants_options, NULL},
    {"savepoint", cmd_savepoint, "run a job and trigger a savepoint",
     "usage: snapsim savepoint [DIR] [--type native|canonical] [--out DIR] [job options of take]\n"
     "Flink's own shape: like `flink savepoint [targetDirectory] --type` (NATIVE and\n"
     "CANONICAL too), the savepoint lands in its own directory under DIR; prints its path. Without --type the engine version's default\n"
     "format is used (canonical in every released version, as in Flink).\n", savepoint_options, NULL},
    {"stop", cmd_stop, "run a job and stop it with a savepoint",
     "usage: snapsim stop [DIR] [--type native|canonical] [--drain] [--out DIR] [job options of take]\n"
     "Stop-with-savepoint; with --drain the sources finish and all in-flight data is\n"
     "processed first. If the savepoint fails the job keeps running.\n", stop_options, NULL},
    {"bench", cmd_bench, "side-by-side benchmarks of snapshots and restores (make bench)",
     "usage: snapsim bench [--out DIR] [--quick] [--rounds N] [--keys N] [--records N]\n"
     "                     [--change N] [--seed N] [--tmp DIR] [--keep] [--scale-max N]\n"
     "                     [--scale-interval MS]\n"
     "Measures, on real files (a directory store and RocksDB work dirs under a temporary\n"
     "directory), pairs of operations side by side, interleaved (A B, B A, ...) in one process\n"
     "after a warm-up round, and reports each side's min/median/max wall and CPU time, the bytes and\n"
     "files written (or read), and the ratio B/A with its per-round spread (noisy when the middle\n"
     "half of the per-round ratios spreads over more than 25% of their median):\n"
     "  1 taking a canonical vs a native savepoint of the same state (rocksdb; heap)\n"
     "  2 restoring from the canonical vs the native savepoint (rocksdb; heap)\n"
     "  3 an incremental vs a full rocksdb checkpoint after a small change\n"
     "  4 a heap vs a rocksdb checkpoint of the same state (full; incremental)\n"
     "then the scale sweep: one take run (native, rocksdb incremental, the built-in job) per\n"
     "record count from scale-max/100 to scale-max at one fixed interval: records against time,\n"
     "bytes written, bytes kept, and SST bytes uploaded against those RocksDB created.\n"
     "Writes DIR/bench.md, DIR/bench.json and DIR/bench-scale.svg (with nproc and the RocksDB\n"
     "header version); progress goes to stderr. Every run is checked against the oracle after\n"
     "measuring.\n", bench_options, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
