/* cli_progress: whether a long command (matrix, fuzz, bench, mutants,
 * scenario run) writes its progress lines and its closing summary to
 * stderr. The rule is git's (Documentation/git-clone.txt, --progress):
 * progress is shown when stderr is a terminal, --progress shows it anyway
 * (a CI log), and --quiet (-q) silences it and the summary too. Errors and
 * what a command prints on stdout are never silenced. */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include "cli_opt.h"

typedef struct cli_progress {
    int quiet;  /* --quiet, -q */
    int forced; /* --progress */
} cli_progress;

/* --quiet and --progress, targets in a cli_progress: CLI_INCLUDE it. */
extern const cli_opt cli_progress_options[];

/* Progress lines: stderr is a terminal or --progress, and no --quiet. */
int cli_progress_lines(const cli_progress *p);
/* The closing summary on stderr: unless --quiet. */
int cli_progress_summary(const cli_progress *p);

#endif
