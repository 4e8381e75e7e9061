/* SPDX-License-Identifier: MIT */
/*
 * bench_edges.c - bench_accuracy's windows (part 1) in the simulated GPU's virtual time.
 *
 * The same loads, sensors and four methods (naive polling, raw counter, joules windows with
 * the end extrapolated, and settled), but the core runs on the simulator's clock
 * (joules__set_clock) and nothing sleeps: the tracker's rounds are driven every simulated
 * millisecond, the naive poller reads every 100 ms, and a settled end keeps the clock moving
 * while it waits; a deferred end (joules_window_end_deferred) read at the same instant is
 * collected after it and tallied apart. A cell then holds many windows (--windows, default 40),
 * begun at phases spread evenly over the counter's period and the load's, and the run is
 * deterministic: what the estimator does is seen apart from the scheduling of a shared machine,
 * which the real-time bench_accuracy keeps in.
 *
 * Usage: bench_edges [--windows N] [--profile NAME] [--load TEXT] [--phase MS] [--old-driver]
 *                    [--verbose]
 * --old-driver: a driver before R535, without power fields 185/186: joules reads
 * nvmlDeviceGetPowerUsage, a 1-s moving average on the H100 and A6000.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accuracy.h"
#include "vsim.h"

static struct vsim vs;
static struct acc_poller naive;

static void open_cell(const char *profile, const char *sensor_line, const char *load)
{
    char text[1024];
    snprintf(text, sizeof text, "profile %s\ndevices 1\n%s%s", profile, sensor_line, load);
    acc_vnaive_attach(&vs, &naive);
    /* The profile's own reading window. The same with --old-driver: the simulated 1-s average
     * is the mean of the last ten such readings, which gives each back. */
    acc_floor_attach(&vs, 0);
    vsim_open(&vs, text, 1.0); /* the counter's clock is learnt in about a second */
}

static int verbose;

/* Deferred ends (joules_window_end_deferred), collected once the settled end has seen the
 * counter step: what a loop of windows gets without waiting. Against the goals' windows. */
static struct {
    int n, covered, long_n, long_within, mid_n, mid_within;
    double sum, gap; /* sum of |error|; largest |deferred - settled| / truth */
} dfr;

static void deferred_tally(double length_s, double naive_j, double truth,
                           const joules_domain_energy *d, const joules_domain_energy *s)
{
    double err = fabs(d->energy_j - truth) / truth;
    dfr.n++;
    dfr.sum += err;
    dfr.covered += fabs(d->energy_j - truth) <= d->uncertainty_j;
    dfr.gap = fmax(dfr.gap, fabs(d->energy_j - s->energy_j) / truth);
    if (length_s >= 1.0) {
        dfr.long_n++;
        dfr.long_within += err <= 0.005;
    } else if (length_s >= 0.05 && length_s <= 0.5 && fabs(naive_j - truth) / truth >= 0.10) {
        dfr.mid_n++;
        dfr.mid_within += err <= 0.05;
    }
}

static void one_window(int64_t length_ns, struct acc_stats st[ACC_METHODS], struct acc_goals *g,
                       struct acc_stats *floor)
{
    joules_domain_energy ra_dom[16];
    joules_measurement ra;
    joules_measurement_init(&ra, ra_dom, 16);
    joules_domain_energy rb_dom[16];
    joules_measurement rb;
    joules_measurement_init(&rb, rb_dom, 16);
    joules_domain_energy rd_dom[16];
    joules_measurement rd;
    joules_measurement_init(&rd, rd_dom, 16);
    int64_t t0 = vsim_now_ns();
    unsigned long long c0 = vsim_counter_mj(&vs);
    uint64_t ticket = 0;
    joules_window_begin(vs.m, "joules");
    joules_window_begin(vs.m, "settled");
    joules_window_begin(vs.m, "deferred");
    vsim_run_until(&vs, t0 + length_ns);
    int64_t t1 = vsim_now_ns();
    unsigned long long c1 = vsim_counter_mj(&vs);
    joules_window_end(vs.m, "joules", &ra);
    joules_window_end_deferred(vs.m, "deferred", &ticket);
    joules_window_end_busy(vs.m, "settled", &rb, vsim_busy_tick, &vs);
    joules_window_collect(vs.m, ticket, 0, &rd);
    const joules_domain_energy *a = &ra.domains[0], *b = &rb.domains[0];
    double truth = vsim_truth_j(&vs, t0, t1);
    double naive_j = acc_naive_energy(&naive, t0, t1);
    deferred_tally((double)length_ns * 1e-9, naive_j, truth, &rd.domains[0], b);
    double fl = acc_floor_window(t0, t1); /* the settled end has seen the step after t1 */
    if (fl >= 0)
        acc_add(floor, 1 + fl, 1, 0);
    if (verbose)
        printf("    at %8.3f s, %5.3f s: truth %9.4f J, joules %+7.2f %% +/- %6.2f, settled %+7.2f "
               "%% +/- %6.2f\n",
               (double)(t0 - vs.start_ns) * 1e-9, (double)length_ns * 1e-9, truth,
               100 * (a->energy_j - truth) / truth, 100 * a->uncertainty_j / truth,
               100 * (b->energy_j - truth) / truth, 100 * b->uncertainty_j / truth);
    acc_tally(g, st, (double)length_ns * 1e-9, naive_j, (double)(c1 - c0) * 1e-3, truth, a, b);
}

static const double lengths_s[] = {0.01, 0.05, 0.2, 0.5, 1.0, 5.0};

static void run_cell(const struct acc_load *ld, const char *profile, const char *sensor_line,
                     int n_windows, struct acc_goals *g)
{
    open_cell(profile, sensor_line, ld->scenario);
    for (size_t li = 0; li < sizeof lengths_s / sizeof lengths_s[0]; li++) {
        struct acc_stats st[ACC_METHODS];
        struct acc_stats floor = {0};
        memset(st, 0, sizeof st);
        for (int i = 0; i < n_windows; i++) {
            /* Gaps from an even, deterministic sequence over 0-1 s (whole ms: the
             * simulator's step) put each begin at another phase of the counter and load. */
            double u = fmod(0.6180339887498949 * (double)(i + 1), 1.0);
            vsim_run_until(&vs, vsim_now_ns() + 1000000LL * (int64_t)(1 + 999 * u));
            one_window((int64_t)llround(lengths_s[li] * 1e9), st, g, &floor);
        }
        acc_print_row(g, li == 0 ? ld->name : "", lengths_s[li], st, &floor);
    }
    acc_floor_detach();
    vsim_close(&vs);
}

struct matrix {
    const char *sensor_line;
    int n_windows;
};

static void matrix_cell(const struct acc_load *ld, const char *profile, void *ctx,
                        struct acc_goals *g)
{
    const struct matrix *mx = ctx;
    run_cell(ld, profile, mx->sensor_line, mx->n_windows, g);
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_edges [--windows N] [--profile NAME] [--load TEXT] [--phase MS] "
                    "[--old-driver] [--verbose]\n"
                    "  N: windows per cell, 1-1000 (default 40); profiles: a100-sxm4-80gb, "
                    "h100-sxm5, a6000\n"
                    "  TEXT: part of a load's name; MS: where the counter steps within each "
                    "100 ms, 0-99\n"
                    "  --old-driver: no power fields (drivers before R535): joules reads "
                    "nvmlDeviceGetPowerUsage\n");
    return 2;
}

int main(int argc, char **argv)
{
    int n_windows = 40;
    const char *only_profile = NULL, *only_load = NULL;
    static char sensor_line[96] = "";
    long phase_ms = -1;
    int old_driver = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--windows") && i + 1 < argc) {
            n_windows = (int)strtol(argv[++i], &end, 10);
            if (*end || n_windows < 1 || n_windows > 1000)
                return usage();
        } else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
            only_profile = argv[++i];
        } else if (!strcmp(argv[i], "--load") && i + 1 < argc) {
            only_load = argv[++i];
        } else if (!strcmp(argv[i], "--phase") && i + 1 < argc) {
            phase_ms = strtol(argv[++i], &end, 10);
            if (*end || phase_ms < 0 || phase_ms > 99)
                return usage();
        } else if (!strcmp(argv[i], "--old-driver")) {
            old_driver = 1;
        } else if (!strcmp(argv[i], "--verbose")) {
            verbose = 1;
        } else {
            return usage();
        }
    }
    if (phase_ms >= 0)
        snprintf(sensor_line, sizeof sensor_line, "sensor phase=%ldms\n", phase_ms);
    if (old_driver) {
        acc_sensor_names = acc_sensor_old_driver;
        snprintf(sensor_line + strlen(sensor_line), sizeof sensor_line - strlen(sensor_line),
                 "fault old-driver\n");
    }
    vsim_load(&vs);
    acc_show_floor = 1;
    pthread_mutex_init(&naive.lock, NULL);
    printf("Accuracy on the SIMULATED GPU in virtual time: |error| vs the simulator's true "
           "energy,\nmean / worst (%%), %d windows per cell; cover = windows whose +/- interval "
           "contained the truth.\n",
           n_windows);
    if (phase_ms >= 0)
        printf("Sensor clock moved: the counter steps %ld ms into each 100 ms\n", phase_ms);
    if (old_driver)
        printf("Driver before R535 (no power fields): joules reads nvmlDeviceGetPowerUsage, a "
               "1-s average on the H100 and A6000\n");
    struct matrix ctx = {sensor_line, n_windows};
    if (acc_run_matrix(acc_n_profiles, only_profile, only_load, matrix_cell, &ctx) != 0)
        return 2;
    printf("deferred ends (ended at once, collected after the counter's step, no wait): mean "
           "|error| %.2f %%, covered %d/%d;\n  >= 1 s within 0.5 %%: %d of %d; hard 50-500 ms "
           "within 5 %%: %d of %d; farthest from settled: %.3f %% of the truth\n",
           100 * dfr.sum / (dfr.n ? dfr.n : 1), dfr.covered, dfr.n, dfr.long_within, dfr.long_n,
           dfr.mid_within, dfr.mid_n, 100 * dfr.gap);
    pthread_mutex_destroy(&naive.lock);
    return 0;
}
