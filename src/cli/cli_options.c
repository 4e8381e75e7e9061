/* SPDX-License-Identifier: MIT */
/*
 * cli_options.c - the option layer (cli_options.h): getopt_long driven by a command's
 * table, the shared options, and the option lines of --help printed from the same table.
 */
#include "cli/cli_options.h"
#include "cli/cli_profiles.h"

#include <stdlib.h>
#include <string.h>

/* More than any command has; a longer table is a programming error, caught on first use. */
#define CLI_OPTIONS_MAX 48
/* getopt_long's value for the i-th entry: above every character and every option id. */
#define CLI_OPTION_VAL(i) (0x10000 + (i))
/* Wider labels go on a line of their own, so that one long option does not push every
 * explanation to the right. */
#define CLI_LABEL_MAX 20

static int table_size(const struct cli_option *o)
{
    int n = 0;
    while (o[n].name || o[n].short_name)
        n++;
    return n;
}

/* The index of the entry getopt_long's return value c stands for, or -1. */
static int entry_of(const struct cli_option *o, int n, int c)
{
    if (c >= CLI_OPTION_VAL(0) && c < CLI_OPTION_VAL(n))
        return c - CLI_OPTION_VAL(0);
    for (int i = 0; i < n; i++)
        if (o[i].short_name && o[i].short_name == c)
            return i;
    return -1;
}

/* getopt_long's tables from the command's: "+:" (stop at the first operand; ':' for a
 * missing value) then each short name with ':' or "::" for its value. */
static void build(const struct cli_option *o, int n, struct option *longopts, char *shortopts)
{
    int k = 0;
    char *s = shortopts;
    *s++ = '+';
    *s++ = ':';
    for (int i = 0; i < n; i++) {
        /* Spellings of one option (--normalise, --normalize) share their value, so that
         * getopt_long takes an abbreviation of both as that option, not as ambiguous. */
        int first = 0;
        while (o[first].id != o[i].id || o[first].has_arg != o[i].has_arg)
            first++;
        if (o[i].name)
            longopts[k++] = (struct option){o[i].name, o[i].has_arg, NULL, CLI_OPTION_VAL(first)};
        if (o[i].short_name) {
            *s++ = o[i].short_name;
            if (o[i].has_arg != no_argument)
                *s++ = ':';
            if (o[i].has_arg == optional_argument)
                *s++ = ':';
        }
    }
    longopts[k] = (struct option){NULL, 0, NULL, 0};
    *s = '\0';
}

/* A shared option: 0, or CLI_EXIT_USAGE with the message printed. */
static int take_shared(const struct cli_command_spec *spec, struct cli_common *com,
                       const struct cli_option *o, int argc, char **argv)
{
    switch (o->id) {
    case CLI_OPT_QUIET:
        com->quiet = 1;
        return 0;
    case CLI_OPT_VERBOSE:
        com->verbose = 1;
        return 0;
    case CLI_OPT_AS_ROOT:
        com->as_root = 1;
        return 0;
    case CLI_OPT_NO_SETTLE:
        com->src.settle_end = 0;
        return 0;
    case CLI_OPT_SIM:
    case CLI_OPT_SIM_IF_ABSENT:
        return cli_take_sim_option(&com->src, spec->name, o->id == CLI_OPT_SIM_IF_ABSENT, argc,
                                   argv);
    case CLI_OPT_SCENARIO:
        return cli_take_scenario_option(&com->src, spec->name, optarg);
    case CLI_OPT_JSON:
    case CLI_OPT_CSV: {
        int rc =
            cli_check_output_name(spec->name, o->id == CLI_OPT_JSON ? "--json" : "--csv", optarg);
        if (rc == 0)
            *(o->id == CLI_OPT_JSON ? &com->json : &com->csv) = optarg;
        return rc;
    }
    default:
        return 0;
    }
}

int cli_options_parse(const struct cli_command_spec *spec, struct cli_common *common, void *ctx,
                      int argc, char **argv, int *status)
{
    struct option longopts[CLI_OPTIONS_MAX + 1];
    char shortopts[2 + 3 * CLI_OPTIONS_MAX + 1];
    int n = table_size(spec->options);
    if (n > CLI_OPTIONS_MAX)
        abort();
    build(spec->options, n, longopts, shortopts);
    optind = 0; /* a full reset of getopt's state: each command parses afresh */
    opterr = 0;
    int c;
    *status = 0;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int i = entry_of(spec->options, n, c);
        if (i < 0) { /* '?' or ':' */
            *status = spec->bad_option ? spec->bad_option(spec, optind > 0 ? argv[optind - 1] : "?")
                                       : cli_getopt_error(spec->name, c, argv);
            return 1;
        }
        const struct cli_option *o = &spec->options[i];
        if (o->id == CLI_OPT_HELP) {
            if (spec->help)
                spec->help(stdout);
            else
                cli_options_help(spec, stdout);
            return 1;
        }
        if (o->id >= CLI_OPT_HELP && o->id <= CLI_OPT_AS_ROOT)
            *status = take_shared(spec, common, o, argc, argv);
        else if (spec->take)
            *status = spec->take(ctx, o->id, optarg);
        if (*status)
            return 1;
    }
    return 0;
}

/* "-q, --quiet", "--json FILE", "-n N", "--sim [PROFILE]". */
static void label(const struct cli_option *o, char *buf, size_t len)
{
    char shortname[8] = "";
    if (o->short_name)
        snprintf(shortname, sizeof shortname, "-%c%s", o->short_name, o->name ? ", " : "");
    snprintf(buf, len, "%s%s%s%s%s", shortname, o->name ? "--" : "", o->name ? o->name : "",
             o->arg ? " " : "", o->arg ? o->arg : "");
}

void cli_options_print(const struct cli_option *options, FILE *out)
{
    char text[96];
    int width = 0;
    for (const struct cli_option *o = options; o->name || o->short_name; o++) {
        label(o, text, sizeof text);
        int w = (int)strlen(text);
        if (w <= CLI_LABEL_MAX && w > width)
            width = w;
    }
    for (const struct cli_option *o = options; o->name || o->short_name; o++) {
        label(o, text, sizeof text);
        const char *h = o->help ? o->help : "";
        if ((int)strlen(text) > width) /* a long label on a line of its own */
            fprintf(out, "  %s\n  %-*s  ", text, width, "");
        else
            fprintf(out, "  %-*s  ", width, text);
        for (;;) { /* the explanation, its continuation lines under its first */
            const char *nl = strchr(h, '\n');
            int len = nl ? (int)(nl - h) : (int)strlen(h);
            if (len == (int)strlen(CLI_HELP_PROFILES) &&
                strncmp(h, CLI_HELP_PROFILES, (size_t)len) == 0) {
                char list[256];
                cli_sim_profile_list(list, sizeof list, 0);
                fprintf(out, "PROFILE: %s\n", list);
            } else {
                fprintf(out, "%.*s\n", len, h);
            }
            if (!nl || !nl[1])
                break;
            h = nl + 1;
            fprintf(out, "  %-*s  ", width, "");
        }
    }
}

void cli_options_help(const struct cli_command_spec *spec, FILE *out)
{
    fputs(spec->help_head, out);
    cli_options_print(spec->options, out);
    fputs(spec->help_tail, out);
}
