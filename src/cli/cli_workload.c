/* SPDX-License-Identifier: MIT */
/*
 * cli_workload.c - the workload options of `joules ab` and `joules sweep` (cli_workload.h).
 */
#include "cli/cli_workload.h"

#include <stdio.h>
#include <string.h>

/* A comma-separated list of inputs, each once, at least w->min_arms of them. */
static int parse_arms(struct cli_workload *w, const char *cmd, const char *v)
{
    char buf[256];
    if (strlen(v) >= sizeof buf)
        return cli_usage_error(cmd, "--arms: list too long");
    snprintf(buf, sizeof buf, "%s", v);
    *w->n_arms = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int a = ab_arm_from_name(t);
        if (a < 0)
            return cli_usage_error(cmd,
                                   "--arms: unknown input '%s' (normal, zeros, constant, "
                                   "uniform, sparse, onebit, truncated)",
                                   t);
        for (int k = 0; k < *w->n_arms; k++)
            if (w->arms[k] == a)
                return cli_usage_error(cmd, "--arms: '%s' is listed twice", t);
        w->arms[(*w->n_arms)++] = a;
    }
    if (*w->n_arms >= w->min_arms && *w->n_arms > 0)
        return 0;
    if (w->min_arms >= 2)
        return cli_usage_error(cmd, "--arms needs at least two inputs to compare, e.g. "
                                    "normal,zeros");
    return cli_usage_error(cmd, "--arms: empty list");
}

/* -n, --seed, --gpu: integers, or numbers truncated where the command always read them so. */
static int parse_count(const struct cli_workload *w, const char *cmd, const char *opt,
                       const char *v, long lo, long hi, long *out)
{
    if (!w->counts_as_numbers)
        return cli_parse_long(cmd, opt, v, lo, hi, out);
    double x;
    int rc = cli_parse_double(cmd, opt, v, (double)lo, (double)hi, &x);
    if (rc == 0)
        *out = (long)x;
    return rc;
}

static int parse_executor(struct cli_workload *w, const char *cmd, const char *v)
{
    for (int e = 0; e < AB_EXEC_COUNT; e++)
        if (strcmp(v, ab_executor_name(e)) == 0 && (e != AB_EXEC_CPU || w->allow_cpu)) {
            w->executor = e;
            return 0;
        }
    if (w->allow_cpu)
        return cli_usage_error(cmd, "--executor: unknown '%s' (sim, cuda, cpu)", v);
    return cli_usage_error(cmd, "--executor: '%s' is not sim or cuda (a sweep sets a GPU's clocks)",
                           v);
}

int cli_workload_option(struct cli_workload *w, const char *cmd, int id, const char *value)
{
    long lv;
    int rc;
    switch (id) {
    case CLI_OPT_N:
        return parse_count(w, cmd, "-n", value, 2, 100000, &w->n);
    case CLI_OPT_PRECISION:
        if ((w->setup->prec = ab_prec_from_name(value)) < 0)
            return cli_usage_error(cmd, "--precision: unknown '%s' (fp32, tf32, fp16, bf16, fp64)",
                                   value);
        return 0;
    case CLI_OPT_ARMS:
        w->arms_given = 1;
        return parse_arms(w, cmd, value);
    case CLI_OPT_SEED:
        if ((rc = parse_count(w, cmd, "--seed", value, 0, 2147483647L, &lv)))
            return rc;
        w->setup->seed = (uint64_t)lv;
        return 0;
    case CLI_OPT_EXECUTOR:
        return parse_executor(w, cmd, value);
    case CLI_OPT_GPU:
        return parse_count(w, cmd, "--gpu", value, 0, 63, &w->gpu);
    case CLI_OPT_EFFICIENCY:
        return cli_parse_double(cmd, "--sim-efficiency", value, 0.001, 1,
                                &w->setup->sim_efficiency);
    default:
        return 0;
    }
}
