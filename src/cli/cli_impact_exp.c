/* SPDX-License-Identifier: MIT */
/*
 * cli_impact_exp.c - the experiments' results as impact jobs: each arm of `joules ab`
 * (its measured windows pooled: total FLOP / total joules), each measured point of
 * `joules sweep` and the sweep as a whole; and the one-line-per-job table the sweep uses.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_impact.h"

int cli_impact_prec_from_ab(int ab_prec)
{
    switch (ab_prec) {
    case AB_TF32:
        return IMPACT_TF32;
    case AB_FP16:
    case AB_BF16:
        return IMPACT_FP16;
    case AB_FP64:
        return IMPACT_FP64;
    default:
        return IMPACT_FP32;
    }
}

static void set_device(struct cli_impact_job *j, const struct cli_impact *ci, const char *device,
                       int gpu)
{
    if (!gpu || !device || !device[0])
        return;
    snprintf(j->device_names[0], sizeof j->device_names[0], "%s", device);
    j->devices[0] = cli_impact_find_hw(ci, device);
    j->n_devices = 1;
}

/* Energies of windows in sequence: their bounds are independent, so they add in quadrature. */
static void add_energy(struct cli_impact_job *j, double e, double pm, double *var, int gpu)
{
    j->energy_j += e;
    *var += pm * pm;
    if (gpu)
        j->gpu_energy_j += e;
    else
        j->cpu_energy_j += e;
}

static void finish(struct cli_impact_job *j, double var, int gpu)
{
    j->energy_pm_j = sqrt(var);
    if (gpu)
        j->gpu_energy_pm_j = j->energy_pm_j;
}

int cli_impact_jobs_from_ab(struct cli_impact_job *jobs, int max, const struct cli_impact *ci,
                            const struct ab_result *r, int ab_prec, int gpu)
{
    int n = 0;
    for (int k = 0; k < r->n_arms && n < max; k++) {
        struct cli_impact_job *j = &jobs[n];
        memset(j, 0, sizeof *j);
        snprintf(j->subject, sizeof j->subject, "%s", ab_arm_name(r->arms[k]));
        j->precision = cli_impact_prec_from_ab(ab_prec);
        j->simulated = r->simulated;
        set_device(j, ci, r->device, gpu);
        double var = 0, flops = 0;
        int any = 0;
        for (int i = 0; i < r->n_runs; i++) {
            const struct ab_run_rec *rec = &r->runs[i];
            if (rec->slot != k || !rec->energy_valid)
                continue;
            add_energy(j, rec->energy_j, rec->uncertainty_j, &var, gpu);
            flops += r->flops * rec->products;
            j->duration_s += rec->time_s;
            any = 1;
        }
        if (!any)
            continue;
        j->flops = r->flops > 0 ? flops : -1;
        finish(j, var, gpu);
        cli_impact_compute(ci, j);
        n++;
    }
    return n;
}

int cli_impact_jobs_from_sweep(struct cli_impact_job *jobs, int max, const struct cli_impact *ci,
                               const struct sweep_result *r, int ab_prec, const char *unit)
{
    if (max < 2)
        return 0;
    struct cli_impact_job *all = &jobs[max - 1];
    memset(all, 0, sizeof *all);
    snprintf(all->subject, sizeof all->subject, "whole sweep");
    all->precision = cli_impact_prec_from_ab(ab_prec);
    all->simulated = r->simulated;
    set_device(all, ci, r->device, 1);
    double all_var = 0, all_flops = 0;
    int n = 0;
    for (int s = 0; s < r->n_steps_done; s++)
        for (int k = 0; k < r->n_arms && n < max - 1; k++) {
            const struct sweep_point *pt = &r->pt[s][k];
            if (!pt->valid)
                continue;
            struct cli_impact_job *j = &jobs[n++];
            memset(j, 0, sizeof *j);
            snprintf(j->subject, sizeof j->subject, "%s@%g%s", ab_arm_name(r->arms[k]), pt->setting,
                     unit);
            j->precision = all->precision;
            j->simulated = r->simulated;
            set_device(j, ci, r->device, 1);
            double var = 0;
            add_energy(j, pt->window_j, pt->uncertainty_j * pt->runs, &var, 1);
            add_energy(all, pt->window_j, pt->uncertainty_j * pt->runs, &all_var, 1);
            j->duration_s = pt->window_s;
            all->duration_s += pt->window_s;
            j->flops = r->flops > 0 ? r->flops * pt->runs : -1;
            all_flops += r->flops * pt->runs;
            finish(j, var, 1);
            cli_impact_compute(ci, j);
        }
    if (n == 0)
        return 0;
    all->flops = r->flops > 0 ? all_flops : -1;
    finish(all, all_var, 1);
    cli_impact_compute(ci, all);
    jobs[n] = *all;
    return n + 1;
}

void cli_impact_print_compact(FILE *out, const struct cli_impact *ci,
                              const struct cli_impact_job *jobs, int n)
{
    fprintf(out, "\n   Efficiency and emissions (docs/impact.md)%s\n",
            n > 0 && jobs[0].simulated ? "   SIMULATED" : "");
    fprintf(out, "   %-22s %20s %9s %14s %16s\n", "subject", "GFLOP/J", "of peak", "facility J",
            "CO2e use g");
    for (int i = 0; i < n; i++) {
        const struct cli_impact_job *j = &jobs[i];
        char eff[40] = "n/a", share[16] = "n/a", co2[40] = "n/a";
        if (!isnan(j->eff.gflop_per_j))
            snprintf(eff, sizeof eff, "%.4g +/- %.2g", j->eff.gflop_per_j, j->eff.gflop_per_j_pm);
        if (!isnan(j->eff.share_of_peak))
            snprintf(share, sizeof share, "%.2f%%", 100 * j->eff.share_of_peak);
        if (j->em.have_grid)
            snprintf(co2, sizeof co2, "%.4g +/- %.2g", j->em.use_g, j->em.use_pm_g);
        fprintf(out, "   %-22s %20s %9s %14.6g %16s\n", j->subject, eff, share,
                j->em.facility_energy_j, co2);
    }
    const struct cli_impact_job *last = n > 0 ? &jobs[n - 1] : NULL;
    if (last && !isnan(last->em.embodied_low_g))
        fprintf(out, "   embodied (%s): %.4g .. %.4g g over %.4g h of a %g-year life\n",
                last->subject, last->em.embodied_low_g, last->em.embodied_high_g,
                last->em.duration_s / 3600.0, last->em.lifetime_y);
    if (!ci->grid.set)
        cli_impact_hint(out, NULL);
}

void cli_impact_report_ab(const struct cli_impact_opts *o, const struct cli_impact *ci,
                          const char *cmd, const struct ab_result *r, const struct ab_params *p,
                          struct cli_impact_report *out)
{
    static struct cli_impact_job jobs[AB_MAX_ARMS];
    memset(out, 0, sizeof *out);
    int n = cli_impact_jobs_from_ab(jobs, AB_MAX_ARMS, ci, r, p->setup.prec,
                                    p->executor != AB_EXEC_CPU);
    if (n == 0)
        return;
    cli_impact_print(stdout, ci, jobs, n);
    (void)cli_impact_write(o, ci, cmd, jobs, n);
    *out = (struct cli_impact_report){ci, cmd, jobs, n, o->given || ci->grid.set};
}

void cli_impact_report_sweep(const struct cli_impact_opts *o, const struct cli_impact *ci,
                             const char *cmd, const struct sweep_result *r,
                             const struct sweep_params *p, struct cli_impact_report *out)
{
    enum { MAX_JOBS = SWEEP_MAX_STEPS * AB_MAX_ARMS + 1 };
    static struct cli_impact_job jobs[MAX_JOBS];
    memset(out, 0, sizeof *out);
    int n = cli_impact_jobs_from_sweep(jobs, MAX_JOBS, ci, r, p->setup.prec,
                                       p->mode == SWEEP_CLOCKS ? "MHz" : "W");
    if (n == 0)
        return;
    cli_impact_print_compact(stdout, ci, jobs, n);
    (void)cli_impact_write(o, ci, cmd, jobs, n);
    *out = (struct cli_impact_report){ci, cmd, jobs, n, o->given || ci->grid.set};
}
