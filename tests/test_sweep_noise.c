/* SPDX-License-Identifier: MIT */
/*
 * test_sweep_noise.c - the sweep names an optimum only when it stands out of the noise: a
 * saving inside the energy intervals, or between settings held at the same clock, is not
 * recommended (table and JSON say so); a clear saving still is; and when the fit has too few
 * clocks its message counts distinct clocks, not points. Synthetic sweeps, no device.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep.h"
#include "testlib.h"

static struct sweep_params params;
static struct sweep_result result;
static struct sweep_output rep;

/* A one-arm clock sweep of n steps: setting, clock held, energy per run and its +/-. */
static void make(int n, const double *set, const double *held, const double *e, const double *u)
{
    memset(&params, 0, sizeof params);
    memset(&result, 0, sizeof result);
    memset(&rep, 0, sizeof rep);
    params.mode = SWEEP_CLOCKS;
    params.workload = SWEEP_WL_COMMAND;
    params.n_steps = n;
    result.n_steps_done = n;
    result.n_arms = 1;
    result.failed_step = -1;
    snprintf(result.device, sizeof result.device, "synthetic");
    for (int s = 0; s < n; s++) {
        struct sweep_point *pt = &result.pt[s][0];
        params.settings[s] = set[s];
        pt->valid = 1;
        pt->runs = 10;
        pt->setting = set[s];
        pt->clock_mhz = held[s];
        pt->voltage_v = NAN;
        pt->energy_j = e[s];
        pt->uncertainty_j = u[s];
        pt->time_s = 1000.0 / held[s];
        pt->power_w = e[s] / pt->time_s;
        pt->sim_truth_j = -1;
        pt->temperature_c = 40;
        pt->true_static_w = pt->true_alpha = pt->power_limit_w = NAN;
    }
    rep.p = &params;
    rep.r = &result;
    rep.restored = -1;
    rep.command = "work";
    sweep_analyze(&rep);
}

/* The table and the JSON of rep, in buf. */
static void render(char *table, size_t tlen, char *json, size_t jlen)
{
    FILE *f = fmemopen(table, tlen, "w");
    sweep_output_table(f, &rep);
    fclose(f);
    f = fmemopen(json, jlen, "w");
    CHECK(sweep_output_json(f, &rep) == 0);
    fclose(f);
}

static char table[16384], json[32768];

/* Settings above what the board holds: every step held at one clock; the lowest energy comes
 * from drift and must not be recommended, even with intervals that do not overlap. */
static void same_clock_held(void)
{
    double set[] = {3000, 3100, 3200}, held[] = {1785, 1785, 1785};
    double e[] = {0.1489, 0.1496, 0.1511}, u[] = {0.0001, 0.0001, 0.0001};
    make(3, set, held, e, u);
    const struct sweep_optimum *o = &rep.a[0].opt;
    CHECK(o->have);
    CHECK_EQ_INT(o->step_energy, 0);
    CHECK_EQ_INT(o->energy_beyond_noise, 0);
    CHECK_EQ_INT(o->edp_beyond_noise, 0);
    render(table, sizeof table, json, sizeof json);
    CHECKF(strstr(table, "least energy per run: no setting beyond the noise") != NULL, "%s", table);
    CHECKF(strstr(table, "Note: 2 steps held the clock of an earlier step") != NULL, "%s", table);
    CHECKF(strstr(json, "\"beyond_noise\": false") || strstr(json, "\"beyond_noise\":false"), "%s",
           json);
    /* The fit's message counts clocks, not points. */
    CHECK_EQ_INT(rep.a[0].fit.model, SWEEP_MODEL_NONE);
    CHECKF(strstr(rep.a[0].fit.why, "1 distinct clock (3 points)") != NULL, "%s", rep.a[0].fit.why);
}

/* Distinct clocks, but the saving is inside the +/-: no optimum named. */
static void inside_the_interval(void)
{
    double set[] = {1000, 1500, 2000}, held[] = {1000, 1500, 2000};
    double e[] = {10.00, 9.95, 10.02}, u[] = {0.05, 0.05, 0.05};
    make(3, set, held, e, u);
    const struct sweep_optimum *o = &rep.a[0].opt;
    CHECK_EQ_INT(o->step_energy, 1);
    CHECK_EQ_INT(o->energy_beyond_noise, 0);
    render(table, sizeof table, json, sizeof json);
    CHECKF(strstr(table, "no setting beyond the noise") != NULL, "%s", table);
    CHECKF(strstr(table, "least energy per run: 1500 MHz") == NULL, "%s", table);
}

/* A clear saving is still named, with the steps that tie with it counted. */
static void clear_saving(void)
{
    double set[] = {1000, 1200, 1400, 1600}, held[] = {1000, 1200, 1400, 1600};
    double e[] = {9.0, 8.0, 8.02, 10.0}, u[] = {0.05, 0.05, 0.05, 0.05};
    make(4, set, held, e, u);
    const struct sweep_optimum *o = &rep.a[0].opt;
    CHECK_EQ_INT(o->step_energy, 1);
    CHECK_EQ_INT(o->energy_beyond_noise, 1);
    CHECK_EQ_INT(o->energy_ties, 1);
    render(table, sizeof table, json, sizeof json);
    CHECKF(strstr(table, "least energy per run: 1200 MHz") != NULL, "%s", table);
    CHECKF(strstr(table, "1 other setting within the +/-") != NULL, "%s", table);
    CHECKF(strstr(json, "\"beyond_noise\": true") || strstr(json, "\"beyond_noise\":true"), "%s",
           json);
}

/* Clocks held a few MHz apart (a mean over a window) are not two clocks to the fit. */
static void near_clocks_are_one(void)
{
    double f[] = {1785, 1783.5, 1786}, v[] = {0.95, 0.956, 0.95}, p[] = {295.5, 300.5, 295.6};
    struct sweep_fit fit;
    CHECK(sweep_fit_power(f, v, p, 3, &fit) != 0);
    CHECKF(strstr(fit.why, "1 distinct clock (3 points)") != NULL, "%s", fit.why);
    double f2[] = {1000, 1500, 1505}, v2[] = {0.8, 0.9, 0.9}, p2[] = {100, 150, 151};
    CHECK(sweep_fit_power(f2, v2, p2, 3, &fit) != 0);
    CHECKF(strstr(fit.why, "2 distinct clocks (3 points)") != NULL, "%s", fit.why);
}

int main(void)
{
    RUN(same_clock_held);
    RUN(inside_the_interval);
    RUN(clear_saving);
    RUN(near_clocks_are_one);
    return t_end();
}
