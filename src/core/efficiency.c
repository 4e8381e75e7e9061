/* SPDX-License-Identifier: MIT */
/*
 * efficiency.c - GFLOP per joule of a measured window from the caller's work count, and its
 * place against the hardware's peak (joules_efficiency, joules_efficiency_at, see joules.h).
 * The peaks come from the shipped hardware table through src/impact, the one parser of it
 * that the command line uses too, so a window in C or Python and `joules run --flops` place
 * the same figure the same way.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "impact/impact.h"

_Static_assert((int)JOULES_PRECISION_FP64 == (int)IMPACT_FP64 &&
                   (int)JOULES_PRECISION_FP32 == (int)IMPACT_FP32 &&
                   (int)JOULES_PRECISION_TF32 == (int)IMPACT_TF32 &&
                   (int)JOULES_PRECISION_FP16 == (int)IMPACT_FP16 &&
                   (int)JOULES_PRECISION_FP8 == (int)IMPACT_FP8 &&
                   (int)JOULES_PRECISION_INT8 == (int)IMPACT_INT8,
               "joules_precision follows the table's peak columns");
_Static_assert(JOULES_N_REFERENCES == IMPACT_N_REFERENCES, "one list of reference generations");

int joules_precision_parse(const char *name)
{
    int p = impact_precision_parse(name);
    return p < 0 ? JOULES_E_INVALID : p;
}

const char *joules_precision_name(joules_precision precision)
{
    if (precision == JOULES_PRECISION_NONE)
        return "none";
    return impact_precision_name((int)precision);
}

/* GFLOP/J and its +/-: the count is exact, so the relative uncertainty is the energy's. */
static void eff__ratio(double flops, double energy_j, double pm_j, double *gflop_per_j, double *pm)
{
    *gflop_per_j = flops / energy_j / 1e9;
    *pm = *gflop_per_j * (pm_j / energy_j);
}

static void eff__unplaced(joules_efficiency_result *out, joules_precision precision)
{
    out->precision = precision;
    out->simulated = 0;
    out->gpu_model[0] = '\0';
    out->peak_gflop_per_j = out->share_of_peak = out->share_of_peak_pm = NAN;
    for (int k = 0; k < JOULES_N_REFERENCES; k++) {
        snprintf(out->ref_model[k], sizeof out->ref_model[k], "%s", impact_reference_keys[k]);
        out->ref_peak_gflop_per_j[k] = out->ref_share[k] = NAN;
    }
    out->message[0] = '\0';
}

/* The table's row of the window's GPUs: NULL, with the reason in out->message, when there is
 * no GPU, when a GPU's model is not in the table, or when the GPUs differ. */
static const struct impact_hw *eff__gpu_row(const joules_monitor *m, const joules_measurement *r,
                                            const struct impact_hw_table *t,
                                            joules_efficiency_result *out)
{
    const struct impact_hw *row = NULL;
    int n = 0;
    for (int i = 0; i < r->n_domains; i++) {
        const joules_domain_energy *de = &r->domains[i];
        if (!de->valid || de->domain < 0 || de->domain >= m->n_domains)
            continue;
        const joules_domain_info *info = &m->domains[de->domain].info;
        if (info->kind != JOULES_KIND_GPU)
            continue;
        const struct impact_hw *hw = impact_hw_by_device(t, info->device);
        out->simulated |= info->simulated;
        if (!hw) {
            snprintf(out->message, sizeof out->message, "%.32s '%.64s' is not a model of %.120s",
                     info->name, info->device, t->path);
            return NULL;
        }
        if (n++ > 0 && hw != row) {
            snprintf(out->message, sizeof out->message,
                     "the GPUs are of different models (%s, %s): no one peak", row->key, hw->key);
            return NULL;
        }
        row = hw;
    }
    if (!row)
        snprintf(out->message, sizeof out->message,
                 "no valid GPU in the window: placed against the reference generations only");
    return row;
}

/* The share of this GPU's peak and of the reference generations' peaks, at out->precision,
 * for the headline figure (the GPUs' when measured, else the total's). */
static int eff__place(const joules_monitor *m, const joules_measurement *r,
                      joules_efficiency_result *out)
{
    char dir[4096], hw_path[4200], src_path[4200], err[IMPACT_ERR_MAX];
    impact_data_dir(dir, sizeof dir);
    snprintf(hw_path, sizeof hw_path, "%s/hardware.tsv", dir);
    snprintf(src_path, sizeof src_path, "%s/hardware-sources.tsv", dir);
    struct impact_hw_table t;
    int rc = impact_hw_load(&t, hw_path, src_path, err, sizeof err);
    if (rc != 0) {
        snprintf(out->message, sizeof out->message, "%.*s", (int)sizeof out->message - 1, err);
        return joules__fail(m, rc == IMPACT_ERR_IO ? JOULES_E_IO : JOULES_E_PARSE,
                            "joules_efficiency_at: %s", err);
    }
    const struct impact_hw *row = eff__gpu_row(m, r, &t, out);
    if (row)
        snprintf(out->gpu_model, sizeof out->gpu_model, "%s", row->key);
    int on_gpus = out->n_gpus > 0 && !isnan(out->gpu_gflop_per_j);
    double e_j = on_gpus ? out->gpu_energy_j : out->energy_j;
    double pm_j = on_gpus ? out->gpu_uncertainty_j : out->uncertainty_j;
    double headline_pm = on_gpus ? out->gpu_gflop_per_j_pm : out->gflop_per_j_pm;
    struct impact_efficiency e;
    impact_efficiency(out->flops, e_j, pm_j, (int)out->precision, row, &t, &e);
    out->peak_gflop_per_j = e.peak_gflop_per_j;
    out->share_of_peak = e.share_of_peak;
    out->share_of_peak_pm = headline_pm / e.peak_gflop_per_j;
    for (int k = 0; k < JOULES_N_REFERENCES; k++) {
        out->ref_peak_gflop_per_j[k] = e.ref_gflop_per_j[k];
        out->ref_share[k] = e.ref_share[k];
    }
    if (row && isnan(e.peak_gflop_per_j))
        snprintf(out->message, sizeof out->message,
                 "%s has no %s peak or no TDP in %.160s (line %d)", row->key,
                 impact_precision_name((int)out->precision), t.path, row->line);
    impact_hw_free(&t);
    return 0;
}

int joules_efficiency_at(const joules_monitor *m, const joules_measurement *r, double flops,
                         joules_precision precision, joules_efficiency_result *out)
{
    if (!m || !r || !out)
        return joules__fail(m, JOULES_E_INVALID, "joules_efficiency: NULL argument");
    memset(out, 0, sizeof *out);
    out->gflop_per_j = out->gflop_per_j_pm = NAN;
    out->gpu_gflop_per_j = out->gpu_gflop_per_j_pm = NAN;
    eff__unplaced(out, precision);
    if (precision < JOULES_PRECISION_NONE || precision > JOULES_PRECISION_INT8)
        return joules__fail(m, JOULES_E_INVALID,
                            "joules_efficiency_at: precision %d is none of joules_precision",
                            (int)precision);
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
    return precision == JOULES_PRECISION_NONE ? 0 : eff__place(m, r, out);
}

int joules_efficiency(const joules_monitor *m, const joules_measurement *r, double flops,
                      joules_efficiency_result *out)
{
    return joules_efficiency_at(m, r, flops, JOULES_PRECISION_NONE, out);
}
