/* SPDX-License-Identifier: MIT */
/*
 * cli_workload.h - the workload options `joules ab` and `joules sweep` share: the matrix
 * product of src/ab (-n, -p/--precision, --arms, --seed, --sim-efficiency) and where it runs
 * (--executor, --gpu; --sim and --scenario are the shared options of cli_options.h). One
 * parser, so the two commands accept the same words with the same messages; each command's
 * table gives the explanations, whose defaults differ.
 */
#ifndef JOULES_CLI_WORKLOAD_H
#define JOULES_CLI_WORKLOAD_H

#include "ab/ab.h"
#include "cli/cli_options.h"

/* Ids of the workload options (between the shared ones and CLI_OPT_COMMAND). */
enum {
    CLI_OPT_N = 0x180,
    CLI_OPT_PRECISION,
    CLI_OPT_ARMS,
    CLI_OPT_SEED,
    CLI_OPT_EXECUTOR,
    CLI_OPT_GPU,
    CLI_OPT_EFFICIENCY,
    CLI_OPT_WORKLOAD_END,
};

/* clang-format off */
#define CLI_WORKLOAD_N(text)   {NULL, 'n', required_argument, "N", text, CLI_OPT_N}
#define CLI_WORKLOAD_PRECISION(text) \
    {"precision", 'p', required_argument, "P", text, CLI_OPT_PRECISION}
#define CLI_WORKLOAD_ARMS(text) {"arms", 0, required_argument, "LIST", text, CLI_OPT_ARMS}
#define CLI_WORKLOAD_SEED(text) {"seed", 0, required_argument, "S", text, CLI_OPT_SEED}
#define CLI_WORKLOAD_EXECUTOR(text) {"executor", 0, required_argument, "E", text, CLI_OPT_EXECUTOR}
#define CLI_WORKLOAD_EFFICIENCY(text) \
    {"sim-efficiency", 0, required_argument, "E", text, CLI_OPT_EFFICIENCY}
#define CLI_WORKLOAD_GPU(text) {"gpu", 0, required_argument, "N", text, CLI_OPT_GPU}
/* clang-format on */

static inline int cli_is_workload_option(int id)
{
    return id >= CLI_OPT_N && id < CLI_OPT_WORKLOAD_END;
}

struct cli_workload {
    /* what the command accepts, set before parsing */
    int allow_cpu;          /* --executor cpu (ab) */
    int min_arms;           /* --arms lists at least this many inputs (ab: 2, to compare) */
    int counts_as_numbers;  /* sweep: -n, --seed, --gpu read as numbers, the fraction dropped
                               ("not a number in" messages) */
    struct ab_setup *setup; /* receives prec, seed, sim_efficiency */
    int *arms, *n_arms;     /* receive --arms (AB_MAX_ARMS entries) */
    /* what the command line said */
    int executor;   /* AB_EXEC_*; -1 not given (set it before parsing) */
    long n;         /* -n; 0 not given */
    long gpu;       /* --gpu */
    int arms_given; /* --arms */
};

/* Take workload option id (cli_is_workload_option) with its value: 0, or CLI_EXIT_USAGE with
 * the message printed. */
int cli_workload_option(struct cli_workload *w, const char *cmd, int id, const char *value);

#endif
