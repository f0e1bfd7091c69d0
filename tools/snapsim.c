/* snapsim: the command-line front-end; dispatches to the subcommand table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int usage(FILE *out) {
    fputs("usage: snapsim <command> [options]   (snapsim <command> --help for details)\n\n"
          "Deterministic simulator of Flink-style checkpoints and savepoints.\n\ncommands:\n",
          out);
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    return 0;
}

int main(int argc, char **argv) {
    /* `snapsim ... | head` closes the pipe early: a write then fails with
     * EPIPE, which the output code tolerates, instead of a SIGPIPE death
     * that reads as a crash (exit 141). */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) return cli_print_help(argv[2]);
        return usage(stdout);
    }
    if (name[0] == '-') return cli_usage_error("unknown option '%s' (try snapsim --help)", name);
    for (const cli_command *c = cli_commands; c->name; c++) {
        if (strcmp(c->name, name) != 0) continue;
        if (cli_wants_help(argc - 1, argv + 1)) return cli_print_help(name);
        return c->fn(argc - 1, argv + 1);
    }
    return cli_usage_error("unknown command '%s' (try snapsim --help)", name);
}
