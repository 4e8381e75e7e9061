/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.h - `joules run`'s option ids, table and help text (cmd_run_options.c), shared
 * with cmd_run.c, which takes them.
 */
#ifndef JOULES_CLI_CMD_RUN_H
#define JOULES_CLI_CMD_RUN_H

#include "cli/cli_options.h"

enum { OPT_SAMPLE = CLI_OPT_COMMAND, OPT_SERIES, OPT_PLOT, OPT_NORMALISE, OPT_CLUSTER_DIR };

extern const char run_help_head[];
extern const char run_help_tail[];
extern const struct cli_option run_options[];

#endif
