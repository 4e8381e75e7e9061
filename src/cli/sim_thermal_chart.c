/* SPDX-License-Identifier: MIT */
/* sim_thermal_chart.c - the chart of `joules sim thermal` (see sim_thermal_chart.h). */
#include "cli/sim_thermal_chart.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>

#include "abi/nvml_abi.h"
#include "io/plot_svg.h"

#define THERMAL_MAX_STEPS 256

void sim_thermal_chart_thresholds(void *sim, struct sim_thermal_chart *c)
{
    typedef nvmlReturn_t (*threshold_fn)(nvmlDevice_t, unsigned, unsigned *);
    typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
    threshold_fn get = (threshold_fn)dlsym(sim, "nvmlDeviceGetTemperatureThreshold");
    handle_fn handle = (handle_fn)dlsym(sim, "nvmlDeviceGetHandleByIndex_v2");
    nvmlDevice_t dev;
    unsigned v;
    c->shutdown_c = c->slowdown_c = -1;
    if (!get || !handle || handle(0, &dev) != NVML_SUCCESS)
        return;
    if (get(dev, 0, &v) == NVML_SUCCESS)
        c->shutdown_c = v;
    if (get(dev, 1, &v) == NVML_SUCCESS)
        c->slowdown_c = v;
}

/* The chart: each case's temperature (left) and power (right), the thresholds, where the
 * unguarded case is lost, and every clock step the governor makes (so that a step of the
 * curves is never unexplained), the last one labelled. */
int sim_thermal_chart_save(const char *path, const struct sim_thermal_chart *d, char *err,
                           size_t len)
{
    struct plot_series series[2 * SIM_THERMAL_CASES + 1];
    static const char *const colors[SIM_THERMAL_CASES] = {"#1f77b4", "#d62728", "#2ca02c"};
    char labels[2 * SIM_THERMAL_CASES][96];
    size_t n = d->n;
    for (int k = 0; k < SIM_THERMAL_CASES; k++) {
        snprintf(labels[k], sizeof labels[k], "temperature: %s", d->names[k]);
        snprintf(labels[SIM_THERMAL_CASES + k], sizeof labels[0], "power: %s", d->names[k]);
        series[k] = (struct plot_series){
            .name = labels[k], .x = d->t + k * n, .y = d->temp + k * n, .n = n, .color = colors[k]};
        series[SIM_THERMAL_CASES + k] = (struct plot_series){.name = labels[SIM_THERMAL_CASES + k],
                                                             .x = d->t + k * n,
                                                             .y = d->pw + k * n,
                                                             .n = n,
                                                             .color = colors[k],
                                                             .right_axis = 1,
                                                             .dashed = 1};
    }
    /* The governed weak-cooling case: where its clock changes, on its power curve. */
    const int g = 2;
    double step_t[THERMAL_MAX_STEPS], step_p[THERMAL_MAX_STEPS];
    size_t n_steps = 0, last = 0;
    for (size_t i = 1; i < n; i++) {
        double a = d->clk[g * n + i - 1], b = d->clk[g * n + i];
        if (!isfinite(a) || !isfinite(b) || a == b || n_steps == THERMAL_MAX_STEPS)
            continue;
        step_t[n_steps] = d->t[g * n + i];
        step_p[n_steps++] = d->pw[g * n + i];
        last = i;
    }
    int ns = 2 * SIM_THERMAL_CASES;
    if (n_steps > 0)
        series[ns++] = (struct plot_series){.name = "governor changes the clock",
                                            .x = step_t,
                                            .y = step_p,
                                            .n = n_steps,
                                            .color = colors[g],
                                            .right_axis = 1,
                                            .marker = 3,
                                            .no_line = 1};
    struct plot_hline hl[2];
    char hl_label[2][64], mk_label[2][160];
    int nh = 0, nm = 0;
    double shutdown_c = d->shutdown_c, slowdown_c = d->slowdown_c;
    if (shutdown_c > 0) {
        snprintf(hl_label[nh], sizeof hl_label[0], "shutdown %.0f °C", shutdown_c);
        hl[nh] = (struct plot_hline){shutdown_c, 0, hl_label[nh], "#c00000"};
        nh++;
    }
    if (slowdown_c > 0) {
        snprintf(hl_label[nh], sizeof hl_label[0], "HW slowdown %.0f °C (clocks halved)",
                 slowdown_c);
        hl[nh] = (struct plot_hline){slowdown_c, 0, hl_label[nh], "#ff7f0e"};
        nh++;
    }
    struct plot_mark mk[2];
    if (d->lost_at[1] >= 1) {
        size_t i = (size_t)d->lost_at[1] - 1; /* the last reading before the board dropped */
        snprintf(mk_label[nm], sizeof mk_label[0], "%.0f s: shutdown, the GPU is lost",
                 d->lost_at[1]);
        mk[nm] = (struct plot_mark){d->t[n + i], d->temp[n + i], 0, mk_label[nm], colors[1]};
        nm++;
    }
    if (n_steps > 0) {
        snprintf(mk_label[nm], sizeof mk_label[0],
                 "%.0f s: the governor %s the clock %.0f -> %.0f MHz at %.1f °C",
                 d->t[g * n + last],
                 d->clk[g * n + last] > d->clk[g * n + last - 1] ? "raises" : "lowers",
                 d->clk[g * n + last - 1], d->clk[g * n + last], d->temp[g * n + last - 1]);
        mk[nm] =
            (struct plot_mark){d->t[g * n + last], d->pw[g * n + last], 1, mk_label[nm], "#000000"};
        nm++;
    }
    char sub[256];
    snprintf(sub, sizeof sub,
             "%s, constant load (alpha %.2f); governor: clock down when hot, a step up "
             "when cooled",
             d->devname, d->alpha);
    struct plot_chart chart = {.title = "Temperature-leakage loop: runaway and its control",
                               .subtitle = sub,
                               .x_label = "time (s)",
                               .y_label = "temperature (°C)",
                               .y2_label = "power (W)",
                               .height = 620,
                               .simulated = 1,
                               .series = series,
                               .n_series = ns,
                               .hlines = hl,
                               .n_hlines = nh,
                               .marks = mk,
                               .n_marks = nm};
    return plot_svg_save(path, &chart, err, len);
}
