/* cli_progress: see cli_progress.h. */
#include "cli_progress.h"

#include <assert.h>
#include <unistd.h>

const cli_opt cli_progress_options[] = {
    {.kind = CLI_OPT_FLAG, .letter = 'q', .name = "quiet", .help = "no progress lines and no summary on stderr",
     .off = CLI_OFF(cli_progress, quiet, int)},
    CLI_FLAG(cli_progress, forced, "progress",
             "progress lines on stderr even when it is no terminal (by\ndefault only on a terminal)"),
    CLI_END,
};

int cli_progress_lines(const cli_progress *p) {
    assert(p != NULL);
    if (p->quiet) return 0;
    return p->forced || isatty(STDERR_FILENO);
}

int cli_progress_summary(const cli_progress *p) {
    assert(p != NULL);
    return !p->quiet;
}
