/* SPDX-License-Identifier: MIT */
/*
 * calc.c - efficiency and emissions (docs/impact.md has the formulas and a worked example).
 *
 * Uncertainties are first order: a FLOP count is exact, so the relative +/- of GFLOP/J is
 * that of the energy; PUE and intensity are taken as given, so the +/- of use emissions is
 * the energy's +/- scaled by them. Embodied emissions are a range (two published figures),
 * not a +/-, and stay apart from it.
 */
#include <math.h>
#include <string.h>

#include "impact/impact.h"

const char *const impact_reference_keys[IMPACT_N_REFERENCES] = {"v100-sxm2", "a100-sxm4-40gb",
                                                                "h100-sxm5", "b200"};

/* Hours in a year as Boavizta counts a GPU's life (3 years = 26,280 h). */
#define HOURS_PER_YEAR 8760.0
#define J_PER_KWH      3.6e6

void impact_efficiency(double flops, double energy_j, double energy_pm_j, int precision,
                       const struct impact_hw *hw, const struct impact_hw_table *t,
                       struct impact_efficiency *e)
{
    memset(e, 0, sizeof *e);
    e->precision = precision;
    e->gflop_per_j = e->gflop_per_j_pm = NAN;
    if (flops >= 0 && energy_j > 0) {
        e->gflop_per_j = flops / energy_j / 1e9;
        e->gflop_per_j_pm = e->gflop_per_j * (energy_pm_j > 0 ? energy_pm_j / energy_j : 0);
    }
    e->peak_gflop_per_j = impact_peak_flop_per_j(hw, precision) / 1e9;
    e->share_of_peak = e->gflop_per_j / e->peak_gflop_per_j;
    for (int r = 0; r < IMPACT_N_REFERENCES; r++) {
        const struct impact_hw *ref = t ? impact_hw_by_name(t, impact_reference_keys[r]) : NULL;
        e->ref_gflop_per_j[r] = impact_peak_flop_per_j(ref, precision) / 1e9;
        e->ref_share[r] = e->gflop_per_j / e->ref_gflop_per_j[r];
    }
}

void impact_emissions(double energy_j, double energy_pm_j, double duration_s, double pue,
                      const struct impact_grid *grid, double lifetime_y,
                      const struct impact_hw *const *devices, int n_devices,
                      struct impact_emissions *o)
{
    memset(o, 0, sizeof *o);
    o->device_energy_j = energy_j;
    o->device_energy_pm_j = energy_pm_j;
    o->pue = pue;
    o->facility_energy_j = energy_j * pue;
    o->facility_energy_pm_j = energy_pm_j * pue;
    o->lifetime_y = lifetime_y;
    o->duration_s = duration_s;
    o->have_grid = grid && grid->set;
    o->g_per_kwh = o->have_grid ? grid->g_per_kwh : NAN;
    o->use_g = o->facility_energy_j / J_PER_KWH * o->g_per_kwh;
    o->use_pm_g = o->facility_energy_pm_j / J_PER_KWH * o->g_per_kwh;

    /* Each device carries its manufacturing footprint spread evenly over its life. */
    double low = n_devices > 0 ? 0 : NAN, high = low;
    double share_of_life = duration_s / 3600.0 / (lifetime_y * HOURS_PER_YEAR);
    for (int i = 0; i < n_devices; i++) {
        const struct impact_hw *d = devices[i];
        double l = d ? d->num[IMPACT_F_EMBODIED_LOW_KG] : NAN;
        double h = d ? d->num[IMPACT_F_EMBODIED_HIGH_KG] : NAN;
        low += l * 1e3 * share_of_life;
        high += h * 1e3 * share_of_life;
    }
    o->embodied_low_g = low;
    o->embodied_high_g = high;
    /* The share of use is lowest against the high end of manufacturing. */
    o->use_share_low = o->use_g / (o->use_g + high);
    o->use_share_high = o->use_g / (o->use_g + low);
}
