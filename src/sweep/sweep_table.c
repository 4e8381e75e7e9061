/* SPDX-License-Identifier: MIT */
/*
 * sweep_table.c - the sweep for people, on standard output: per arm the fitted power model
 * with its intervals, the measured steps, and the energy-optimal and EDP-optimal settings
 * against the highest one (the figures come from sweep_analysis.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep.h"
#include "util/util.h"

static const char *unit(const struct sweep_output *rep)
{
    return rep->p->mode == SWEEP_CLOCKS ? "MHz" : "W";
}

static const char *arm_label(const struct sweep_output *rep, int k)
{
    return rep->p->workload == SWEEP_WL_PRODUCT ? ab_arm_name(rep->r->arms[k]) : "command";
}

static void fit_lines(FILE *out, const struct sweep_output *rep, int k)
{
    const struct sweep_arm_analysis *an = &rep->a[k];
    const struct sweep_fit *f = &an->fit;
    fprintf(out, "\nPower model, %s: ", arm_label(rep, k));
    if (f->model == SWEEP_MODEL_NONE) {
        fprintf(out, "no fit (%s)\n", f->why);
        return;
    }
    double t = util_t975(f->l.n - f->l.p);
    fprintf(out, "%s  (f in MHz, V in volts; 95 %% intervals)\n", sweep_model_name(f->model));
    static const char *nm[3][3] = {{"a (static, W)", "k (W/(MHz V^2))", ""},
                                   {"a (constant, W)", "b (leakage, W/V^2)", "k (W/(MHz V^2))"},
                                   {"a (static, W)", "b (W/MHz)", "c (W/MHz^3)"}};
    int row = f->model == SWEEP_MODEL_FV2 ? 0 : f->model == SWEEP_MODEL_FV2_LEAK ? 1 : 2;
    for (int j = 0; j < f->l.p; j++)
        fprintf(out, "  %-20s %12.6g +/- %.3g\n", nm[row][j], f->l.beta[j], t * f->l.se[j]);
    fprintf(out, "  R^2 = %.6f, residuals: rms %.3g W, max %.3g W over %d points\n", f->l.r2,
            f->l.rmse, f->max_abs_resid_w, f->l.n);
    const struct sweep_result *r = rep->r;
    double flo = INFINITY, fhi = -INFINITY, vlo = NAN, vhi = NAN;
    for (int s = 0; s < r->n_steps_done; s++) {
        const struct sweep_point *pt = &r->pt[s][k];
        if (!pt->valid || !isfinite(pt->clock_mhz))
            continue;
        if (pt->clock_mhz < flo)
            flo = pt->clock_mhz, vlo = pt->voltage_v;
        if (pt->clock_mhz > fhi)
            fhi = pt->clock_mhz, vhi = pt->voltage_v;
    }
    if (isfinite(flo))
        fprintf(out,
                "  static / dynamic power: %.1f W / %.1f W at %.0f MHz, %.1f W / %.1f W at "
                "%.0f MHz\n",
                sweep_fit_static(f, flo, vlo), sweep_fit_dynamic(f, flo, vlo), flo,
                sweep_fit_static(f, fhi, vhi), sweep_fit_dynamic(f, fhi, vhi), fhi);
    if (isfinite(an->c_eff_fit_f))
        fprintf(out,
                "  C_eff = k / (alpha_idle + alpha) = %.1f +/- %.1f nF (alpha from the "
                "simulator)\n",
                an->c_eff_fit_f * 1e9, t * an->c_eff_se_f * 1e9);
}

static void optimum_lines(FILE *out, const struct sweep_output *rep, int k)
{
    const struct sweep_optimum *o = &rep->a[k].opt;
    const struct sweep_result *r = rep->r;
    if (!o->have)
        return;
    const struct sweep_point *be = &r->pt[o->step_energy][k], *bd = &r->pt[o->step_edp][k];
    const struct sweep_point *ref = &r->pt[o->step_ref][k];
    fprintf(out, "Optimum, %s (against %g %s: %.4g J, %.4g s per run):\n", arm_label(rep, k),
            ref->setting, unit(rep), ref->energy_j, ref->time_s);
    fprintf(out,
            "  least energy per run: %g %s (%.0f MHz held): %.4g J, %.1f %% less energy, "
            "%+.1f %% time\n",
            be->setting, unit(rep), be->clock_mhz, be->energy_j, o->saved_energy_pct,
            o->lost_time_pct);
    fprintf(out,
            "  least energy x delay: %g %s (%.0f MHz held): %.4g J, %.1f %% less energy, "
            "%+.1f %% time\n",
            bd->setting, unit(rep), bd->clock_mhz, bd->energy_j, o->edp_saved_energy_pct,
            o->edp_lost_time_pct);
    if (isfinite(o->model_clock_mhz))
        fprintf(out, "  fitted model's minimum of energy per run: %.0f MHz\n", o->model_clock_mhz);
}

void sweep_output_table(FILE *out, const struct sweep_output *rep)
{
    const struct sweep_result *r = rep->r;
    const struct sweep_params *p = rep->p;
    fprintf(out, "joules sweep%s\n",
            r->simulated ? " -- SIMULATED (output of the simulated GPU's model, not a measurement)"
                         : "");
    fprintf(out, "GPU: %s%s%s%s; ", r->device, rep->profile ? " [profile " : "",
            rep->profile ? rep->profile : "", rep->profile ? "]" : "");
    if (p->workload == SWEEP_WL_PRODUCT)
        fprintf(out, "workload: C = A.B, n = %d, %s (%s executor), one run = one product\n",
                p->setup.n, ab_prec_name(p->setup.prec), p->ops->name);
    else
        fprintf(out, "workload: %s, one run = one execution\n", rep->command);
    fprintf(out, "%s per step; energy: %s\n",
            p->mode == SWEEP_CLOCKS ? "graphics clock locked" : "power limit set",
            r->energy_source);
    fprintf(out, "\n%4s %9s %-8s %8s %6s %11s %22s %8s %8s %s\n", "step",
            p->mode == SWEEP_CLOCKS ? "set MHz" : "limit W", "arm", "held MHz", "V", "time/run s",
            "energy/run J", "power W", "temp C", "reasons");
    for (int s = 0; s < r->n_steps_done; s++)
        for (int k = 0; k < r->n_arms; k++) {
            const struct sweep_point *pt = &r->pt[s][k];
            char e[64] = "n/a", v[16] = "-";
            if (pt->valid)
                snprintf(e, sizeof e, "%.4g +/- %.2g", pt->energy_j, pt->uncertainty_j);
            if (isfinite(pt->voltage_v))
                snprintf(v, sizeof v, "%.3f", pt->voltage_v);
            fprintf(out, "%4d %9g %-8s %8.0f %6s %11.5f %22s %8.1f %8.1f 0x%llx%s\n", s,
                    pt->setting, arm_label(rep, k), pt->clock_mhz, v, pt->time_s, e, pt->power_w,
                    pt->temperature_c, pt->reasons, r->simulated ? "  SIMULATED" : "");
        }
    for (int k = 0; k < r->n_arms; k++) {
        fit_lines(out, rep, k);
        optimum_lines(out, rep, k);
    }
    for (int k = 1; k < r->n_arms; k++)
        if (isfinite(rep->k_ratio[k])) {
            fprintf(out,
                    "\nEffective switching activity, %s / %s (ratio of fitted k): %.3f [%.3f, "
                    "%.3f] (95 %%)",
                    arm_label(rep, 0), arm_label(rep, k), rep->k_ratio[k], rep->k_ratio_lo[k],
                    rep->k_ratio_hi[k]);
            if (isfinite(rep->k_ratio_true[k]))
                fprintf(out, "; simulator's true (alpha_idle + alpha) ratio %.3f",
                        rep->k_ratio_true[k]);
            fputc('\n', out);
        }
    sweep_baseline_table(out, rep);
    if (r->truth.have) {
        const struct sweep_truth *t = &r->truth;
        fprintf(out,
                "\nSimulator's true parameters (jsimGetModel): C_eff %.1f nF, P_board %.1f W, "
                "P_mem_static %.1f W, leakage %.1f W at %.3f V and 25 C (doubling every %.0f C), "
                "V(f) %.3f V to %.0f MHz then linear to %.3f V at %.0f MHz\n",
                t->c_eff_f * 1e9, t->p_board_w, t->p_mem_static_w, t->leak_ref_w, t->v_floor_v,
                t->leak_t_double_c, t->v_floor_v, t->f_ridge_mhz, t->v_max_v, t->clk_max_mhz);
    }
    if (rep->signal)
        fprintf(out, "\nInterrupted by signal %d after %d of %d steps: partial results.\n",
                rep->signal, r->n_steps_done, p->n_steps);
    if (rep->failure)
        fprintf(out, "\nStopped: %s; %d of %d steps measured.\n", rep->failure, r->n_steps_done,
                p->n_steps);
    if (rep->restored == 1)
        fprintf(out, "Settings restored (%s).\n",
                p->mode == SWEEP_CLOCKS ? "clocks reset" : "power limit back to its value");
    else if (rep->restored == 0)
        fprintf(out, "Settings NOT restored: see the message on standard error.\n");
}
