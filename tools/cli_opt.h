/* cli_opt: one option table per command drives both its parsing and its
 * --help, as git's parse-options does (parse-options.h: an array of
 * {short, long, argument name, help, kind and target} from which the
 * parser and the `-h` text both come, so they cannot drift apart).
 *
 * A table is a static array of cli_opt ending in CLI_OPT_END. Targets are
 * offsets into the command's own options struct, so tables are constant and
 * can be shared: CLI_OPT_INCLUDE takes another table whose targets live at an
 * offset of this one's (the job options of take, savepoint, stop and
 * restore are one table). From the flattened table cli_parse builds the
 * getopt_long array, the short-option string and the rewriting of one-dash
 * spellings of several letters (Flink's -rm); cli_opt_help prints the option
 * lines of --help. */
#ifndef CLI_OPT_H
#define CLI_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_opt_kind {
    CLI_OPT_END = 0,
    CLI_OPT_STRING,  /* const char *: the value as given */
    CLI_OPT_FLAG,    /* int: set to 1; takes no value */
    CLI_OPT_U64,     /* uint64_t: a decimal number within [min, max] */
    CLI_OPT_CALL,    /* fn(target, value) parses the value: 0 taken, else refused */
    CLI_OPT_REFUSE,  /* not listed: refused with `help` as the reason (a hint) */
    CLI_OPT_INCLUDE, /* the options of `sub`, their targets at `off` of this one's */
} cli_opt_kind;

typedef struct cli_opt {
    cli_opt_kind kind;
    char letter;       /* the one-letter spelling (-s), or 0 */
    const char *name;  /* the long name, without its dashes */
    const char *other; /* more spellings, space-separated, with their dashes:
                          "--restoreMode -rm" (a one-dash one of several letters
                          is rewritten to --name before getopt sees it) */
    const char *arg;   /* the value's name in help ("N", "DIR"); NULL: a flag */
    const char *help;  /* the help text; "\n" continues it on the next line */
    size_t off;        /* the target's offset in the options struct */
    size_t seen_off;   /* with has_seen: an int set to 1 when the option is given */
    int has_seen;
    uint64_t min, max; /* CLI_OPT_U64's range */
    const char *unit;  /* CLI_OPT_U64: "ms", "bytes" (the error names the range with it) */
    int (*fn)(void *target, const char *value); /* CLI_OPT_CALL */
    const char *wants; /* CLI_OPT_CALL: what a good value is, for the error */
    const struct cli_opt *sub; /* CLI_OPT_INCLUDE */
} cli_opt;

/* offsetof(T, f), refused at compile time unless T's field f is of type FT
 * (comparing pointers to distinct types is a constraint violation). */
#define CLI_OFF(T, f, FT) (offsetof(T, f) + 0 * sizeof(&((T *)0)->f == (FT *)0))

#define CLI_STRING(T, f, nm, argn, hlp) \
    {.kind = CLI_OPT_STRING, .name = nm, .arg = argn, .help = hlp, .off = CLI_OFF(T, f, const char *)}
#define CLI_FLAG(T, f, nm, hlp) {.kind = CLI_OPT_FLAG, .name = nm, .help = hlp, .off = CLI_OFF(T, f, int)}
#define CLI_U64(T, f, nm, argn, lo, hi, hlp) \
    {.kind = CLI_OPT_U64, .name = nm, .arg = argn, .help = hlp, .off = CLI_OFF(T, f, uint64_t), .min = lo, .max = hi}
/* A CLI_U64 that also sets the int seenf when given (0 may be a value). */
#define CLI_U64_SEEN(T, f, seenf, nm, argn, lo, hi, hlp)                                                  \
    {.kind = CLI_OPT_U64, .name = nm, .arg = argn, .help = hlp, .off = CLI_OFF(T, f, uint64_t), .min = lo, \
     .max = hi, .has_seen = 1, .seen_off = CLI_OFF(T, seenf, int)}
#define CLI_CALL(T, f, FT, nm, argn, func, want, hlp)                                                  \
    {.kind = CLI_OPT_CALL, .name = nm, .arg = argn, .help = hlp, .off = CLI_OFF(T, f, FT), .fn = func, \
     .wants = want}
#define CLI_REFUSE(nm, reason) {.kind = CLI_OPT_REFUSE, .name = nm, .help = reason}
#define CLI_INCLUDE(T, f, FT, table) {.kind = CLI_OPT_INCLUDE, .off = CLI_OFF(T, f, FT), .sub = table}
#define CLI_END {.kind = CLI_OPT_END}

/* Bounds of a flattened table and of one option's spellings. */
#define CLI_OPT_MAX 48
#define CLI_SPELLINGS_MAX 5

/* Parses argv[1..] (argv[0] is the command's name) into opts by table,
 * GNU getopt_long style (options and arguments in any order, "--" ends the
 * options). *first is the index of the first argument that is no option.
 * Returns 0, or CLI_EXIT_USAGE after printing a one-line error:
 * "error: CMD: unknown option '--x' (see snapsim CMD --help)",
 * "error: CMD: --records wants a number up to 10000000, not 'x'". */
int cli_parse(const cli_opt *table, void *opts, int argc, char **argv, const char *cmd, int *first);
/* The option the last cli_parse refused as unknown or as one it only names
 * to refuse (CLI_OPT_REFUSE); "" if it refused none:
 * lets a test tell "unknown" from "a bad value". */
const char *cli_parse_refused(void);

/* Prints the table's option lines, one per option (spellings, value, help). */
void cli_opt_help(FILE *out, const cli_opt *table);
/* Calls fn for every spelling a parse of table accepts ("--seed", "-s",
 * "-rm"), with whether it takes a value; refused hints are not spellings. */
void cli_opt_each_spelling(const cli_opt *table, void (*fn)(void *ctx, const char *spelling, int takes_value),
                           void *ctx);

/* --shard I/N (0 <= I < N) into a cli_shard. */
typedef struct cli_shard {
    int i, n;
} cli_shard;
int cli_opt_shard(void *target, const char *value);

#endif
