/* cli: what every subcommand shares: the command table, help printing,
 * error reporting with the contract's exit codes, number parsing. */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "rt_err.h"

/* Exit codes of the CLI contract. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REJECTED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_CORRUPT = 3,
    CLI_EXIT_CRASH = 4,
    CLI_EXIT_UNKNOWN = 5 /* check: the model cannot decide */
};

typedef int (*cli_fn)(int argc, char **argv);

/* A word after the command with options of its own (matrix diff). */
typedef struct cli_subcommand {
    const char *name;
    const cli_opt *opts;
} cli_subcommand;

typedef struct cli_command {
    const char *name;
    cli_fn fn;
    const char *summary;
    const char *usage;          /* --help: synopsis and description; the option lines come from opts */
    const cli_opt *opts;        /* the table fn parses with (NULL: only subcommands) */
    const cli_subcommand *subs; /* NULL, or ending in a NULL name */
} cli_command;

extern const cli_command cli_commands[];

/* "error: <msg>" on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports e by its class: "error:" (exit 2), "rejected:" (exit 1),
 * "corrupted:" (exit 3) or "crashed:" (exit 4); returns the exit code. */
int cli_report_error(const rt_error *e);
int cli_exit_for(rt_err code);
/* Parses a non-negative decimal integer; 0 on success. */
int cli_parse_u64(const char *s, uint64_t *out);
/* A fresh private work directory for RocksDB instances, on tmpfs when
 * there is one (RocksDB fsyncs every flush): "<base>/snapsim-<tag>-XXXXXX". */
int cli_work_dir(char *buf, size_t cap, const char *tag);
/* Removes a directory tree this process made, without following links. */
void cli_remove_tree(const char *dir);
/* Empties a work directory of cli_work_dir (removes and makes it again). */
int cli_fresh_dir(const char *dir);
/* Prints the command's help to stdout: its usage text, then the option
 * lines of its table and of each subcommand's. */
int cli_print_help(const char *name);
void cli_help_write(FILE *out, const cli_command *c);
/* True if argv holds --help or -h. */
int cli_wants_help(int argc, char **argv);
/* Flushes stdout; 1 when its reader has gone (piped into head: SIGPIPE is
 * ignored, so the write fails with EPIPE), and a sweep should stop. */
int cli_stdout_gone(void);

#endif
