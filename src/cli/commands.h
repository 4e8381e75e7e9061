/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the subcommands of `joules`. Each lives in its own cmd_<name>.c, describes
 * its options in one table that cli_options.h turns into its parser and the option lines of
 * its --help, and returns the process exit status (2 for bad usage). main.c holds the table
 * that dispatches to them.
 */
#ifndef JOULES_CLI_COMMANDS_H
#define JOULES_CLI_COMMANDS_H

struct cli_command {
    const char *name;
    const char *summary; /* one line for `joules --help` */
    int (*fn)(int argc, char **argv);
};

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_repeat(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_ab(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_idle(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_merge(int argc, char **argv);

#endif
