/* sim_mutant: deliberate breakages of one mechanism each, switched on per
 * run (sim_config.mutant), never by default. A mutant that no test, no
 * matrix cell and no fuzz seed notices is a mechanism nobody checks. Each
 * has one id and is tested at one call site, like SQLite's
 * sqlite3FaultSim. */
#ifndef SIM_MUTANT_H
#define SIM_MUTANT_H

#define SIM_MUTANT_MAP(X)                                                                   \
    X(SIM_MUT_NONE, "none", "no mutant")                                                    \
    X(SIM_MUT_SAVEPOINT_ABSOLUTE, "savepoint-absolute-paths",                               \
      "savepoint _metadata holds its own files by absolute path (as entropy injection does)") \
    X(SIM_MUT_CS_FORMAT_PER_PATCH, "channel-format-per-patch",                              \
      "every patch release writes its own channel-state serialization version")             \
    X(SIM_MUT_IGNORE_METADATA_VERSION, "metadata-version-unchecked",                        \
      "restore reads _metadata of any version, newer than the engine's included")          \
    X(SIM_MUT_IGNORE_SST_FOOTER, "sst-footer-unchecked",                                    \
      "restore ignores the format_version in SST footers")                                  \
    X(SIM_MUT_DROP_CHANNEL_STATE, "drop-channel-state",                                     \
      "restore ignores the persisted in-flight records")                                    \
    X(SIM_MUT_NO_NATIVE_MIGRATION, "no-native-migration",                                   \
      "a native restore keeps values in the old schema")                                    \
    X(SIM_MUT_NO_CLAIM_INCREMENTAL, "no-claim-incremental",                                 \
      "the first checkpoint after a NO_CLAIM restore is incremental")                       \
    X(SIM_MUT_FLINK_26985, "FLINK-26985",                                                   \
      "a restore in LEGACY (or NO_CLAIM) mode does not raise highestNotClaimedCheckpointID: "\
      "the registry deletes the restored snapshot's shared files once unused")              \
    X(SIM_MUT_SCHEMA_UNCHECKED, "schema-unchecked",                                         \
      "an incompatible state or key serializer is restored as if it migrated")              \
    X(SIM_MUT_RECONFIGURE_AS_IS, "reconfigure-as-is",                                       \
      "a serializer that needs reconfiguring is used as the job declares it")               \
    X(SIM_MUT_CANONICAL_BACKEND_BOUND, "canonical-backend-bound",                           \
      "canonical state is read only by the backend that wrote it")                          \
    X(SIM_MUT_CODE_IGNORED, "operator-code-ignored",                                        \
      "keyed operators run version 1 of their code whatever the job says")                  \
    X(SIM_MUT_RECOVERED_OLD_CODE, "recovered-records-old-code",                             \
      "in-flight records restored from channel state run the old job's code") \
    X(SIM_MUT_FOREIGN_ABSOLUTE, "foreign-relative-absolute",                                \
      "a checkpoint writes a reused relative handle of another directory with its "         \
      "absolute path (FLINK-39964's fix, which no release has): the model no longer "       \
      "shows the bug real Flink has")                                                       \
    X(SIM_MUT_FLINK_25395, "FLINK-25395",                                                   \
      "RocksDB reuses SSTs it uploaded for a checkpoint not confirmed yet, whose cleanup "  \
      "may delete them")                                                                    \
    X(SIM_MUT_FLINK_23949, "FLINK-23949",                                                   \
      "RocksDB takes a savepoint's completion for its last completed checkpoint: the next " \
      "incremental checkpoint has no base and uploads everything")                          \
    X(SIM_MUT_FLINK_29913, "FLINK-29913",                                                   \
      "shared files are registered under backend id + SST name, not their physical path: " \
      "two checkpoints in progress collide and the registry discards one still in use")     \
    X(SIM_MUT_FLINK_21351, "FLINK-21351",                                                   \
      "a savepoint in the completed-checkpoint store subsumes the last checkpoint, which "  \
      "later incremental checkpoints still reference")                                      \
    X(SIM_MUT_FLINK_24611, "FLINK-24611",                                                   \
      "an aborted checkpoint's shared state is discarded with it, not left to subsumption") \
    X(SIM_MUT_SPA_READER_DEFAULT_BACKEND, "spa-reader-default-backend",                     \
      "the State Processor API reader opens every snapshot with the default (heap) "        \
      "backend, as SavepointReader.read without a backend does")                            \
    X(SIM_MUT_SPA_DROPS_CHANNEL_STATE, "spa-writer-drops-channel-state",                    \
      "the State Processor API writer carries untouched operators' keyed and operator "     \
      "state but not their channel state")                                                  \
    X(SIM_MUT_DISCARD_SHARED, "discard-deletes-shared",                                     \
      "a subsumed checkpoint's discard deletes its shared files too, though later "         \
      "checkpoints still reference them")                                                   \
    X(SIM_MUT_CONFIRM_NOTHING, "uploads-never-confirmed",                                 \
      "no completed checkpoint's uploads count as confirmed to the task (as if "            \
      "notifyCheckpointComplete never came), so every incremental checkpoint uploads "      \
      "every SST again")

typedef enum {
#define SIM_MUT_ENUM(id, name, what) id,
    SIM_MUTANT_MAP(SIM_MUT_ENUM)
#undef SIM_MUT_ENUM
    SIM_MUT_COUNT
} sim_mutant;

const char *sim_mutant_name(sim_mutant m);
const char *sim_mutant_what(sim_mutant m);
int sim_mutant_parse(const char *s, sim_mutant *out);

#endif
