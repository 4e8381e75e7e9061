/* SPDX-License-Identifier: MIT */
/*
 * sweep_analysis.c - what a sweep means: the fitted power model per arm (static and dynamic
 * parts with 95 % intervals, R^2, residuals), the energy-optimal and EDP-optimal settings
 * with their cost in time against the highest setting, the ratio of effective switching
 * activity between arms (ratio of fitted k), and, on the simulated GPU, the simulator's true
 * parameters beside the fitted ones. The table is in sweep_table.c, the files in
 * sweep_output.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/sweep.h"
#include "util/util.h"

#define GRID_POINTS 400

struct pts {
    int n, step[SWEEP_MAX_STEPS];
    double f[SWEEP_MAX_STEPS], v[SWEEP_MAX_STEPS], p[SWEEP_MAX_STEPS], t[SWEEP_MAX_STEPS];
};

/* Valid points of one arm, sorted by held clock. */
static void collect(const struct sweep_result *r, int slot, struct pts *o)
{
    o->n = 0;
    for (int s = 0; s < r->n_steps_done; s++) {
        const struct sweep_point *pt = &r->pt[s][slot];
        if (!pt->valid || !isfinite(pt->clock_mhz) || !isfinite(pt->power_w))
            continue;
        int i = o->n++;
        while (i > 0 && o->f[i - 1] > pt->clock_mhz) { /* insertion sort */
            o->f[i] = o->f[i - 1], o->v[i] = o->v[i - 1], o->p[i] = o->p[i - 1];
            o->t[i] = o->t[i - 1], o->step[i] = o->step[i - 1];
            i--;
        }
        o->f[i] = pt->clock_mhz, o->v[i] = pt->voltage_v, o->p[i] = pt->power_w;
        o->t[i] = pt->time_s, o->step[i] = s;
    }
}

static double alpha_tot(const struct sweep_output *rep, int slot)
{
    const struct sweep_result *r = rep->r;
    double sum = 0;
    int n = 0;
    for (int s = 0; s < r->n_steps_done; s++)
        if (isfinite(r->pt[s][slot].true_alpha))
            sum += r->pt[s][slot].true_alpha, n++;
    return n ? r->truth.alpha_idle + sum / n : NAN;
}

static void optimum(const struct sweep_output *rep, int slot, const struct pts *ps,
                    struct sweep_arm_analysis *an)
{
    const struct sweep_result *r = rep->r;
    struct sweep_optimum *o = &an->opt;
    o->step_energy = o->step_edp = o->step_ref = -1;
    o->model_clock_mhz = NAN;
    for (int s = 0; s < r->n_steps_done; s++) {
        const struct sweep_point *pt = &r->pt[s][slot];
        if (!pt->valid)
            continue;
        if (o->step_energy < 0 || pt->energy_j < r->pt[o->step_energy][slot].energy_j)
            o->step_energy = s;
        const struct sweep_point *e = o->step_edp >= 0 ? &r->pt[o->step_edp][slot] : NULL;
        if (!e || pt->energy_j * pt->time_s < e->energy_j * e->time_s)
            o->step_edp = s;
        if (o->step_ref < 0 || pt->setting > r->pt[o->step_ref][slot].setting)
            o->step_ref = s;
    }
    o->have = o->step_energy >= 0;
    if (!o->have)
        return;
    const struct sweep_point *ref = &r->pt[o->step_ref][slot];
    const struct sweep_point *be = &r->pt[o->step_energy][slot], *bd = &r->pt[o->step_edp][slot];
    o->saved_energy_pct = 100 * (ref->energy_j - be->energy_j) / ref->energy_j;
    o->lost_time_pct = 100 * (be->time_s - ref->time_s) / ref->time_s;
    o->edp_saved_energy_pct = 100 * (ref->energy_j - bd->energy_j) / ref->energy_j;
    o->edp_lost_time_pct = 100 * (bd->time_s - ref->time_s) / ref->time_s;
    /* The model's optimum: fitted power times a fitted time t(f) = c0 + c1 / f. */
    if (an->fit.model == SWEEP_MODEL_NONE || ps->n < 3)
        return;
    double X[SWEEP_MAX_STEPS * 2];
    for (int i = 0; i < ps->n; i++)
        X[2 * i] = 1, X[2 * i + 1] = 1 / ps->f[i];
    struct sweep_lsq tl;
    if (sweep_lsq(X, ps->t, ps->n, 2, &tl) != 0)
        return;
    double best = INFINITY;
    for (int g = 0; g <= GRID_POINTS; g++) {
        double f = ps->f[0] + (ps->f[ps->n - 1] - ps->f[0]) * g / GRID_POINTS;
        double v = sweep_interp(ps->f, ps->v, ps->n, f);
        double e = sweep_fit_total(&an->fit, f, v) * (tl.beta[0] + tl.beta[1] / f);
        if (e < best)
            best = e, o->model_clock_mhz = f;
    }
}

void sweep_analyze(struct sweep_output *rep)
{
    const struct sweep_result *r = rep->r;
    for (int k = 0; k < r->n_arms; k++) {
        struct sweep_arm_analysis *an = &rep->a[k];
        memset(an, 0, sizeof *an);
        struct pts ps;
        collect(r, k, &ps);
        sweep_fit_power(ps.f, r->voltage_known ? ps.v : NULL, ps.p, ps.n, &an->fit);
        an->c_eff_fit_f = an->c_eff_se_f = NAN;
        int ki = sweep_fit_k_index(an->fit.model);
        double at = alpha_tot(rep, k);
        if (r->truth.have && ki >= 0 && an->fit.model != SWEEP_MODEL_POLY && at > 0) {
            /* k is in W / (MHz V^2) = alpha_tot C_eff 1e6 */
            an->c_eff_fit_f = an->fit.l.beta[ki] / (at * 1e6);
            an->c_eff_se_f = an->fit.l.se[ki] / (at * 1e6);
        }
        optimum(rep, k, &ps, an);
    }
    for (int k = 1; k < r->n_arms; k++) {
        rep->k_ratio[k] = rep->k_ratio_lo[k] = rep->k_ratio_hi[k] = rep->k_ratio_true[k] = NAN;
        const struct sweep_fit *f0 = &rep->a[0].fit, *fk = &rep->a[k].fit;
        int i0 = sweep_fit_k_index(f0->model), ik = sweep_fit_k_index(fk->model);
        if (i0 < 0 || ik < 0 || f0->model != fk->model || !(fk->l.beta[ik] > 0))
            continue;
        double a = f0->l.beta[i0], b = fk->l.beta[ik];
        double rel = sqrt(pow(f0->l.se[i0] / a, 2) + pow(fk->l.se[ik] / b, 2));
        int df = f0->l.n - f0->l.p < fk->l.n - fk->l.p ? f0->l.n - f0->l.p : fk->l.n - fk->l.p;
        double t = util_t975(df);
        rep->k_ratio[k] = a / b;
        rep->k_ratio_lo[k] = a / b * exp(-t * rel);
        rep->k_ratio_hi[k] = a / b * exp(t * rel);
        double t0 = alpha_tot(rep, 0), tk = alpha_tot(rep, k);
        if (t0 > 0 && tk > 0)
            rep->k_ratio_true[k] = t0 / tk;
    }
    sweep_baseline_compare(rep);
}
