/* SPDX-License-Identifier: MIT */
/*
 * cli_impact_svg.c - the efficiency chart in the manner of Epoch AI's "energy efficiency of
 * leading ML hardware": the peak FLOP per joule (peak FLOP/s / TDP) of the table's chips
 * with a known release year, by year, at the run's precision, and each subject's measured
 * GFLOP/J as a dashed line across them (io/plot_svg.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_impact.h"
#include "io/plot_svg.h"

#define MAX_POINTS 64
#define MAX_RUNS   8

int cli_impact_svg(const char *path, const struct cli_impact *ci, const struct cli_impact_job *jobs,
                   int n, char *err, size_t len)
{
    int prec = n > 0 ? jobs[0].eff.precision : IMPACT_FP32;
    double x[MAX_POINTS], y[MAX_POINTS];
    int k = 0;
    /* Chips with a year and a peak at this precision, one point per year (the best). */
    for (int i = 0; i < ci->hw.n && k < MAX_POINTS; i++) {
        const struct impact_hw *h = &ci->hw.rows[i];
        double yr = h->num[IMPACT_F_YEAR], v = impact_peak_flop_per_j(h, prec) / 1e9;
        if (isnan(yr) || isnan(v))
            continue;
        int at = -1;
        for (int m = 0; m < k; m++)
            if (x[m] == yr)
                at = m;
        if (at >= 0) {
            if (v > y[at])
                y[at] = v;
            continue;
        }
        x[k] = yr;
        y[k++] = v;
    }
    for (int a = 1; a < k; a++) /* by year, for the line */
        for (int b = a; b > 0 && x[b - 1] > x[b]; b--) {
            double t = x[b], u = y[b];
            x[b] = x[b - 1], y[b] = y[b - 1];
            x[b - 1] = t, y[b - 1] = u;
        }
    if (k == 0) {
        snprintf(err, len, "no chip of the table has both a release year and a %s peak and TDP",
                 impact_precision_name(prec));
        return -1;
    }
    double x0 = x[0] - 1, x1 = x[k - 1] + 1;
    struct plot_series s[1 + MAX_RUNS];
    static double rx[MAX_RUNS][2], ry[MAX_RUNS][2];
    static char names[MAX_RUNS][96];
    int ns = 0;
    s[ns++] = (struct plot_series){.name = "peak FLOP/J of the table's GPUs (peak / TDP), by "
                                           "release year",
                                   .x = x,
                                   .y = y,
                                   .n = (size_t)k,
                                   .color = "#1f77b4"};
    int simulated = 0;
    for (int i = 0; i < n && i < MAX_RUNS; i++) {
        if (isnan(jobs[i].eff.gflop_per_j))
            continue;
        rx[i][0] = x0, rx[i][1] = x1;
        ry[i][0] = ry[i][1] = jobs[i].eff.gflop_per_j;
        snprintf(names[i], sizeof names[i], "%s: %.4g GFLOP/J measured%s", jobs[i].subject,
                 jobs[i].eff.gflop_per_j, jobs[i].n_devices ? " on " : "");
        if (jobs[i].n_devices)
            strncat(names[i], jobs[i].device_names[0], sizeof names[i] - strlen(names[i]) - 1);
        s[ns++] = (struct plot_series){
            .name = names[i], .x = rx[i], .y = ry[i], .n = 2, .dashed = 1, .color = NULL};
        simulated |= jobs[i].simulated;
    }
    if (ns == 1) {
        snprintf(err, len, "no GFLOP/J to mark: give the work with --flops");
        return -1;
    }
    char sub[160];
    snprintf(sub, sizeof sub, "%s, dense; sources: data/hardware.tsv (Epoch AI and vendors)",
             impact_precision_name(prec));
    struct plot_chart c = {.title = "Energy efficiency: this work against GPU peaks",
                           .subtitle = sub,
                           .x_label = "release year",
                           .y_label = "GFLOP per joule",
                           .simulated = simulated,
                           .series = s,
                           .n_series = ns};
    return plot_svg_save(path, &c, err, len);
}
