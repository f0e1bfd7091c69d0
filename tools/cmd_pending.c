/* cmd_pending: subcommands that later issues fill in. Each one says so
 * instead of pretending; remove its line here when it lands. */
#include "cli.h"
#include "commands.h"

