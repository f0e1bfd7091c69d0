/* commands: one entry point per snapsim subcommand (tools/cmd_*.c). */
#ifndef COMMANDS_H
#define COMMANDS_H

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

#endif
