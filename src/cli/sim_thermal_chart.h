/* SPDX-License-Identifier: MIT */
/*
 * sim_thermal_chart.h - the chart of `joules sim thermal`: three cases (strong cooling with
 * the governor, weak cooling without, weak cooling with), each case's temperature and power,
 * the board's shutdown and slowdown temperatures, where the unguarded case is lost, and
 * every clock step of the governed case, the last one explained.
 */
#ifndef JOULES_CLI_SIM_THERMAL_CHART_H
#define JOULES_CLI_SIM_THERMAL_CHART_H

#include <stddef.h>

#define SIM_THERMAL_CASES 3

struct sim_thermal_chart {
    size_t n;                          /* samples per case, one second apart */
    const double *t, *temp, *pw, *clk; /* case k's samples at [k * n, (k + 1) * n); NaN: lost */
    const double *lost_at;             /* per case: second the GPU was lost, -1: never */
    const char *const *names;          /* per case */
    const char *devname;
    double alpha;                  /* the load's switching activity */
    double shutdown_c, slowdown_c; /* thresholds; <= 0: unknown, not drawn */
};

/* The shutdown and slowdown temperatures (NVML thresholds 0 and 1) of GPU 0 of the loaded
 * simulated library `sim` (a dlopen handle), into c; -1 where unknown. */
void sim_thermal_chart_thresholds(void *sim, struct sim_thermal_chart *c);

/* Write the chart to path atomically. 0, or -1 with a message in err. */
int sim_thermal_chart_save(const char *path, const struct sim_thermal_chart *c, char *err,
                           size_t len);

#endif
