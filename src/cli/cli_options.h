/* SPDX-License-Identifier: MIT */
/*
 * cli_options.h - the option layer of every subcommand. A command describes its options in
 * one table (struct cli_option); the same table builds the getopt_long parser and prints
 * the option lines of the command's --help, so the two cannot disagree. The options that
 * several commands share (--help, --quiet, --verbose, --sim, --scenario, --sim-if-absent,
 * --json, --csv, --no-settle) are declared here once (CLI_OPTION_*) and handled here once, into a
 * struct cli_common; each command handles its own options in one callback.
 */
#ifndef JOULES_CLI_OPTIONS_H
#define JOULES_CLI_OPTIONS_H

#include <getopt.h>
#include <stdio.h>

#include "cli/cli_util.h"

/* Ids of the shared options, handled by the layer; a command's own ids start at
 * CLI_OPT_COMMAND (the workload options of cli_workload.h lie between). */
enum {
    CLI_OPT_HELP = 0x100,
    CLI_OPT_QUIET,
    CLI_OPT_SIM,
    CLI_OPT_SCENARIO,
    CLI_OPT_SIM_IF_ABSENT,
    CLI_OPT_JSON,
    CLI_OPT_CSV,
    CLI_OPT_NO_SETTLE,
    CLI_OPT_VERBOSE,
    CLI_OPT_AS_ROOT,
    CLI_OPT_COMMAND = 0x200,
};

struct cli_option {
    const char *name; /* long name without "--"; NULL: a short option only */
    char short_name;  /* 0: no short form */
    int has_arg;      /* no_argument, required_argument or optional_argument */
    const char *arg;  /* the value's name in the help ("FILE", "[PROFILE]"); NULL: none */
    const char *help; /* the explanation; each '\n' starts a continuation line */
    int id;           /* CLI_OPT_* or the command's own id, passed to its callback */
};

/* clang-format off */
#define CLI_OPTIONS_END        {NULL, 0, 0, NULL, NULL, 0}

/* The shared options. The explanation is the command's: what the option means differs
 * (the schema of --json, what --quiet silences); its name, value and handling do not. */
#define CLI_OPTION_HELP        {"help", 'h', no_argument, NULL, "this help", CLI_OPT_HELP}
#define CLI_OPTION_QUIET(text) {"quiet", 'q', no_argument, NULL, text, CLI_OPT_QUIET}
#define CLI_OPTION_VERBOSE(text) {"verbose", 'v', no_argument, NULL, text, CLI_OPT_VERBOSE}
/* A line of an option's help that reads exactly this prints the simulated profiles, as the
 * simulator lists them, so that no help text keeps a copy of the list. */
#define CLI_HELP_PROFILES "{profiles}"

#define CLI_OPTION_SIM(text)   {"sim", 0, optional_argument, "[PROFILE]", text, CLI_OPT_SIM}
#define CLI_OPTION_SCENARIO(text) {"scenario", 0, required_argument, "FILE", text, CLI_OPT_SCENARIO}
#define CLI_OPTION_SIM_IF_ABSENT(text) \
    {"sim-if-absent", 0, optional_argument, "[PROFILE]", text, CLI_OPT_SIM_IF_ABSENT}
#define CLI_OPTION_JSON(text)  {"json", 0, required_argument, "FILE", text, CLI_OPT_JSON}
#define CLI_OPTION_CSV(text)   {"csv", 0, required_argument, "FILE", text, CLI_OPT_CSV}
#define CLI_OPTION_NO_SETTLE(text) {"no-settle", 0, no_argument, NULL, text, CLI_OPT_NO_SETTLE}
/* Under sudo, the user's command runs as the invoking user (SUDO_UID) unless this is given. */
#define CLI_OPTION_AS_ROOT \
    {"as-root", 0, no_argument, NULL, \
     "under sudo, run the command as root too (by default it runs as\n" \
     "the invoking user, SUDO_UID/SUDO_GID; only joules keeps root)", CLI_OPT_AS_ROOT}
/* clang-format on */

/* What the shared options set. The command initialises it (src.settle_end) before parsing. */
struct cli_common {
    struct cli_source src; /* --sim, --scenario, --sim-if-absent, --no-settle */
    const char *json;      /* --json FILE, its name checked (cli_check_output_name) */
    const char *csv;       /* --csv FILE, likewise */
    int quiet;             /* -q, --quiet */
    int verbose;           /* -v, --verbose: how joules itself did (sampler rounds, ...) */
    int as_root;           /* --as-root: the user's command keeps joules's root (util_drop_plan) */
};

struct cli_command_spec {
    const char *name;                 /* in messages: "joules NAME: ..." */
    const char *help_head;            /* --help before the option lines ("Usage: ...") */
    const struct cli_option *options; /* ends with CLI_OPTIONS_END */
    const char *help_tail;            /* --help after the option lines */
    /* One of the command's own options (id >= 0x180), its value or NULL: 0, or
     * CLI_EXIT_USAGE with the message printed. May read optind/argv (--sim's next word).
     * NULL when the table holds shared options only. */
    int (*take)(void *ctx, int id, const char *value);
    /* A word that is no option of the table (or lacks its value): the message, and the exit
     * status. NULL: cli_getopt_error's messages. */
    int (*bad_option)(const struct cli_command_spec *spec, const char *word);
    /* --help, when the command shares another's (joules sim ab and idle print joules sim's).
     * NULL: cli_options_help. */
    void (*help)(FILE *out);
};

/*
 * Parse the options of argv[1..] in order, up to "--" or the first word that is not an
 * option (getopt_long's "+" mode; long names may be abbreviated). Returns 0 with optind at
 * the first operand, or nonzero when the command ends now with *status: 0 after --help
 * was printed on stdout, CLI_EXIT_USAGE after the message for a wrong option.
 */
int cli_options_parse(const struct cli_command_spec *spec, struct cli_common *common, void *ctx,
                      int argc, char **argv, int *status);

/* The command's --help: head, one line (or more) per option of its table, tail. */
void cli_options_help(const struct cli_command_spec *spec, FILE *out);

/* The option lines alone, as cli_options_help prints them. */
void cli_options_print(const struct cli_option *options, FILE *out);

#endif
