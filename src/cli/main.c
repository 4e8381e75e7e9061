/* SPDX-License-Identifier: MIT */
/*
 * main.c - `joules`: the table of subcommands and the dispatch to them. Each subcommand
 * parses its own options and prints its own help through cli_options.h (commands.h); this
 * file only knows names.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_restore.h"
#include "cli/cli_util.h"
#include "cli/cli_signal.h"
#include "cli/commands.h"

static const struct cli_command commands[] = {
    {"info", "GPUs, CPU energy domains, methods, limits and clocks; why a sensor is absent",
     cmd_info},
    {"run", "energy, time and power of a command, per domain (like perf stat)", cmd_run},
    {"repeat", "energy of ONE run of a short command, from many runs in phase-shifted groups",
     cmd_repeat},
    {"ab", "the talk's A/B experiment: same product, N(0,1) vs zeros: same time, not same energy",
     cmd_ab},
    {"compare", "is B cheaper than A? any commands, interleaved runs, energy ratio with its CI",
     cmd_compare},
    {"sim", "simulated GPU physics faster than real time: thermal runaway, A/B, idle", cmd_sim},
    {"watch", "power over time, live: GPU power, clocks, P-state; CSV series and chart", cmd_watch},
    {"idle", "static power of each device at rest; stored as the baseline `run` subtracts",
     cmd_idle},
    {"sweep", "clock or power-limit sweep: fit P = P_static + k f V^2, energy-optimal setting",
     cmd_sweep},
    {"serve", "Prometheus/OpenMetrics exporter: energy, power, clocks at /metrics", cmd_serve},
    {"restore", "put back clocks and power limits a killed joules left changed (its journal)",
     cmd_restore},
    {"merge", "sum the node results of a Slurm/MPI job (run --cluster-dir) into one job result",
     cmd_merge},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "joules %s - measure the energy of computations on GPUs and CPUs\n\n",
            JOULES_VERSION_STRING);
    fprintf(out, "Usage: joules COMMAND [OPTIONS] [ARGS]\n"
                 "       joules help COMMAND | joules COMMAND --help\n"
                 "       joules --version\n\n"
                 "Commands:\n");
    for (const struct cli_command *c = commands; c->name; c++)
        fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out,
            "\nExamples:\n"
            "  joules info                          what can be measured here, and why not\n"
            "  joules run -- python3 train.py       energy of a command on the real sensors\n"
            "  joules run --sim -- sleep 2          the same on the simulated GPU (SIMULATED)\n"
            "\nEnvironment:\n"
            "  JOULES_NVML_LIBRARY  path of libnvidia-ml.so.1 to load (default: the system's)\n"
            "  JOULES_SYSFS_ROOT    directory standing for /sys (RAPL powercap tree)\n"
            "  JOULES_SIM_LIBRARY   path of the simulated GPU library (default: "
            "<bin>/../lib/joules/)\n"
            "\nExit status: 0 on success, 1 when joules fails, 2 on a wrong command line; "
            "`joules run`\nexits with the status of the command it measured.\n");
}

static const struct cli_command *find(const char *name)
{
    for (const struct cli_command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Edit distance, for "did you mean"; names are short. */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 31 || lb > 31)
        return 99;
    int d[32][32];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int k = 0; k <= lb; k++)
        d[0][k] = k;
    for (int i = 1; i <= la; i++)
        for (int k = 1; k <= lb; k++) {
            int best = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
            if (d[i - 1][k] + 1 < best)
                best = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < best)
                best = d[i][k - 1] + 1;
            d[i][k] = best;
        }
    return d[la][lb];
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "joules: unknown command '%s'\n", name);
    for (const struct cli_command *c = commands; c->name; c++)
        if (distance(name, c->name) <= 2 || strncmp(name, c->name, strlen(name)) == 0) {
            fprintf(stderr, "Did you mean 'joules %s'?\n", c->name);
            break;
        }
    fprintf(stderr, "Try 'joules --help' for the list of commands.\n");
    return CLI_EXIT_USAGE;
}

/* A descriptor 0-2 closed by the caller (`joules ... >&-`) is opened on /dev/null: otherwise
 * the next file joules opens (a report's temporary file) takes its number, and what is
 * printed to that stream lands in the report. 0, or -1 where /dev/null cannot be opened. */
static int open_standard_descriptors(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1)
            continue;
        /* open() returns the lowest free number: the closed one, lower ones being open. */
        int got = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (got != fd) {
            if (got >= 0)
                close(got);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (open_standard_descriptors() != 0)
        return 1;
    cli_catch_xfsz();
    cli_stop_guard_stdout();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(word, "--version") == 0 || strcmp(word, "-V") == 0) {
        printf("joules %s (libjoules %s)\n", JOULES_VERSION_STRING, joules_version());
        return 0;
    }
    if (strcmp(word, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return 0;
        }
        const struct cli_command *c = find(argv[2]);
        if (!c)
            return unknown_command(argv[2]);
        char *help_argv[] = {argv[2], "--help", NULL};
        return c->fn(2, help_argv);
    }
    if (word[0] == '-') {
        fprintf(stderr, "joules: unknown option '%s' (options come after the command)\n", word);
        fprintf(stderr, "Try 'joules --help'.\n");
        return CLI_EXIT_USAGE;
    }
    const struct cli_command *c = find(word);
    if (!c)
        return unknown_command(word);
    if (strcmp(c->name, "restore") != 0)
        cli_journal_notice();
    return c->fn(argc - 1, argv + 1);
}
