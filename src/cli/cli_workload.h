/* SPDX-License-Identifier: MIT */
/*
 * cli_workload.h - the workload options `joules ab` and `joules sweep` share: the matrix
 * product of src/ab (-n, -p/--precision, --arms, --seed, --sim-efficiency) and where it runs
 * (--executor, --gpu, --sim, --scenario). One parser, so the two commands accept the same
 * words with the same messages.
 */
#ifndef JOULES_CLI_WORKLOAD_H
#define JOULES_CLI_WORKLOAD_H

#include <getopt.h>

#include "ab/ab.h"
#include "cli/cli_util.h"

/* Long-option values of the workload options (between CLI_OPT_* and the commands' 0x200). */
enum {
    CLI_OPT_ARMS = 0x180,
    CLI_OPT_SEED,
    CLI_OPT_EXECUTOR,
    CLI_OPT_GPU,
    CLI_OPT_EFFICIENCY,
};

/* The short options ("n:p:") and the long ones, for the commands' tables. */
#define CLI_WORKLOAD_SHORTOPTS "n:p:"
#define CLI_WORKLOAD_LONGOPTS                                                                      \
    {"precision", required_argument, NULL, 'p'}, {"arms", required_argument, NULL, CLI_OPT_ARMS},  \
        {"seed", required_argument, NULL, CLI_OPT_SEED},                                           \
        {"executor", required_argument, NULL, CLI_OPT_EXECUTOR},                                   \
        {"sim", optional_argument, NULL, CLI_OPT_SIM},                                             \
        {"scenario", required_argument, NULL, CLI_OPT_SCENARIO},                                   \
        {"sim-efficiency", required_argument, NULL, CLI_OPT_EFFICIENCY},                           \
    {                                                                                              \
        "gpu", required_argument, NULL, CLI_OPT_GPU                                                \
    }

/* cli_workload_option: c is none of the workload options. */
#define CLI_WORKLOAD_OTHER (-1)

struct cli_workload {
    /* what the command accepts, set before parsing */
    int allow_cpu;          /* --executor cpu (ab) */
    int min_arms;           /* --arms lists at least this many inputs (ab: 2, to compare) */
    int counts_as_numbers;  /* sweep: -n, --seed, --gpu read as numbers, the fraction dropped
                               ("not a number in" messages), as it always has */
    struct ab_setup *setup; /* receives prec, seed, sim_efficiency */
    int *arms, *n_arms;     /* receive --arms (AB_MAX_ARMS entries) */
    struct cli_source *src; /* receives --sim, --scenario */
    /* what the command line said */
    int executor;   /* AB_EXEC_*; -1 not given (set it before parsing) */
    long n;         /* -n; 0 not given */
    long gpu;       /* --gpu */
    int arms_given; /* --arms */
};

/* Take option c just returned by getopt_long (optarg, optind). 0, CLI_EXIT_USAGE with the
 * message printed, or CLI_WORKLOAD_OTHER when c is not a workload option. */
int cli_workload_option(struct cli_workload *w, const char *cmd, int c, int argc, char **argv);

#endif
