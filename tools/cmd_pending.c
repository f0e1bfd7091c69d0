/* cmd_pending: subcommands that later issues fill in. Each one says so
 * instead of pretending; remove its line here when it lands. */
#include "cli.h"
#include "commands.h"

int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; return cli_not_implemented("bench"); }
