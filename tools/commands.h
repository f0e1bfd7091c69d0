/* commands: one entry point per snapsim subcommand (tools/cmd_*.c). */
#ifndef COMMANDS_H
#define COMMANDS_H

#include "cli_opt.h"

int cmd_take(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_scenario(int argc, char **argv);
int cmd_matrix(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_mutants(int argc, char **argv);
int cmd_savepoint(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* The option table each command parses with (and its --help lists). */
extern const cli_opt take_options[], savepoint_options[], stop_options[], restore_options[], inspect_options[],
    check_options[], scenario_run_options[], matrix_options[], matrix_diff_options[], matrix_no_options[],
    fuzz_options[], replay_options[], mutants_options[], bench_options[];

#endif
