/* SPDX-License-Identifier: MIT */
/*
 * efficiency.c - GFLOP per joule of a measured window from the caller's work count
 * (joules_efficiency, see joules.h). The library knows only the energy: the share of a
 * GPU's peak needs the hardware table, which the command line and the binding read.
 */
#include <math.h>
#include <string.h>

#include "core/core.h"

/* GFLOP/J and its +/-: the count is exact, so the relative uncertainty is the energy's. */
static void eff__ratio(double flops, double energy_j, double pm_j, double *gflop_per_j, double *pm)
{
    *gflop_per_j = flops / energy_j / 1e9;
    *pm = *gflop_per_j * (pm_j / energy_j);
}

int joules_efficiency(const joules_monitor *m, const joules_measurement *r, double flops,
                      joules_efficiency_result *out)
{
    if (!m || !r || !out)
        return joules__fail(m, JOULES_E_INVALID, "joules_efficiency: NULL argument");
    memset(out, 0, sizeof *out);
    out->gflop_per_j = out->gflop_per_j_pm = NAN;
    out->gpu_gflop_per_j = out->gpu_gflop_per_j_pm = NAN;
    if (!isfinite(flops) || flops < 0)
        return joules__fail(m, JOULES_E_INVALID,
                            "joules_efficiency: a FLOP count is a finite number >= 0, not %g",
                            flops);
    if (r->n_domains < 0 || r->n_domains > m->n_domains || (r->n_domains > 0 && !r->domains))
        return joules__fail(m, JOULES_E_INVALID,
                            "joules_efficiency: the result has %d domains, the monitor %d",
                            r->n_domains, m->n_domains);
    out->flops = flops;
    double var_total = 0, var_gpu = 0;
    for (int i = 0; i < r->n_domains; i++) {
        const joules_domain_energy *de = &r->domains[i];
        if (!de->valid || de->domain < 0 || de->domain >= m->n_domains)
            continue;
        const joules_domain_info *info = &m->domains[de->domain].info;
        if (info->counted_in_total) {
            out->energy_j += de->energy_j;
            var_total += de->uncertainty_j * de->uncertainty_j;
            out->n_domains++;
        }
        if (info->kind == JOULES_KIND_GPU) {
            out->gpu_energy_j += de->energy_j;
            var_gpu += de->uncertainty_j * de->uncertainty_j;
            out->n_gpus++;
        }
    }
    out->uncertainty_j = sqrt(var_total);
    out->gpu_uncertainty_j = sqrt(var_gpu);
    if (out->n_domains == 0 || !(out->energy_j > 0))
        return joules__fail(m, JOULES_E_NO_DOMAIN,
                            "joules_efficiency: window '%s' has no valid energy above 0 J (%d "
                            "of %d domains valid and counted)",
                            r->name, out->n_domains, r->n_domains);
    eff__ratio(flops, out->energy_j, out->uncertainty_j, &out->gflop_per_j, &out->gflop_per_j_pm);
    if (out->n_gpus > 0 && out->gpu_energy_j > 0)
        eff__ratio(flops, out->gpu_energy_j, out->gpu_uncertainty_j, &out->gpu_gflop_per_j,
                   &out->gpu_gflop_per_j_pm);
    return 0;
}
