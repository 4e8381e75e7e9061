/* SPDX-License-Identifier: MIT */
/*
 * sweep_baseline.c - the idle baseline (`joules idle`, src/io/baseline.h) beside the sweep's
 * fitted static part. The two are different quantities and are reported side by side, not
 * merged: the baseline is the whole GPU at rest in its idle P-state (low clocks, low voltage,
 * memory clocked down, cool die); the fit's static part is what the power model extrapolates
 * to zero switching at the load's voltage and temperature, at the lowest clock the sweep
 * held. Their difference says how much static power the load state adds over rest, within
 * both intervals (docs/sweep.md, "The idle baseline").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/json.h"
#include "sweep/sweep.h"
#include "util/util.h"

void sweep_baseline_compare(struct sweep_output *rep)
{
    struct sweep_baseline *bl = &rep->baseline;
    const struct sweep_result *r = rep->r;
    for (int k = 0; k < AB_MAX_ARMS; k++)
        memset(&bl->arm[k], 0, sizeof bl->arm[k]);
    if (!bl->b)
        return;
    for (int k = 0; k < r->n_arms; k++) {
        const struct sweep_fit *f = &rep->a[k].fit;
        struct sweep_static_cmp *c = &bl->arm[k];
        if (f->model == SWEEP_MODEL_NONE)
            continue;
        double flo = INFINITY, vlo = NAN;
        for (int s = 0; s < r->n_steps_done; s++) {
            const struct sweep_point *pt = &r->pt[s][k];
            if (pt->valid && isfinite(pt->clock_mhz) && pt->clock_mhz < flo)
                flo = pt->clock_mhz, vlo = pt->voltage_v;
        }
        if (!isfinite(flo))
            continue;
        double t = util_t975(f->l.n - f->l.p);
        c->have = 1;
        c->clock_mhz = flo;
        c->voltage_v = vlo;
        c->fit_w = sweep_fit_static(f, flo, vlo);
        c->fit_se_w = sweep_fit_static_se(f, flo, vlo);
        c->fit_ci_w = t * c->fit_se_w;
        c->diff_w = c->fit_w - bl->b->power_w;
        c->diff_ci_w = hypot(c->fit_ci_w, bl->b->power_uncertainty_w);
    }
}

/* What the difference means, in one sentence. */
static const char *meaning(const struct sweep_static_cmp *c)
{
    if (!isfinite(c->diff_ci_w))
        return "no interval for the fit (as many points as parameters): no conclusion";
    if (fabs(c->diff_w) <= c->diff_ci_w)
        return "the same within the intervals: the load state adds no static power the "
               "sweep can resolve";
    if (c->diff_w > 0)
        return "the fit's static part is above idle: leakage at load voltage and "
               "temperature, memory and board in their load state";
    return "the fit's static part is below idle, which the physics does not expect: part "
           "of the idle power is in the fit's dynamic term (alpha_idle switching at every "
           "clock) or the fit extrapolates too far; read the split with care";
}

void sweep_baseline_table(FILE *out, const struct sweep_output *rep)
{
    const struct sweep_baseline *bl = &rep->baseline;
    if (!bl->b)
        return;
    const io_baseline *b = bl->b;
    fprintf(out, "\nIdle baseline (joules idle): %.2f W +/- %.2f in %s, %s, %s old%s%s\n",
            b->power_w, b->power_uncertainty_w, b->clock_state, bl->file, bl->age,
            b->idle_ok ? "" : "; measured while NOT idle (--force)",
            b->simulated ? "  SIMULATED" : "");
    fprintf(out, "  idle is at the idle P-state's clock and voltage; the fit's static part at "
                 "load voltage and temperature\n");
    for (int k = 0; k < rep->r->n_arms; k++) {
        const struct sweep_static_cmp *c = &bl->arm[k];
        const char *arm =
            rep->p->workload == SWEEP_WL_PRODUCT ? ab_arm_name(rep->r->arms[k]) : "command";
        if (!c->have) {
            fprintf(out, "  %s: no fitted static part to compare\n", arm);
            continue;
        }
        char v[32] = "";
        if (isfinite(c->voltage_v))
            snprintf(v, sizeof v, ", %.3f V", c->voltage_v);
        fprintf(out,
                "  %s: fitted static part %.2f W +/- %.2f at %.0f MHz%s; minus idle: %+.2f W "
                "+/- %.2f (95 %%)\n",
                arm, c->fit_w, c->fit_ci_w, c->clock_mhz, v, c->diff_w, c->diff_ci_w);
        fprintf(out, "    %s\n", meaning(c));
    }
}

void sweep_baseline_json(io_json *j, const struct sweep_output *rep)
{
    const struct sweep_baseline *bl = &rep->baseline;
    if (!bl->b)
        return;
    const io_baseline *b = bl->b;
    io_json_key(j, "baseline");
    io_json_object_begin(j);
    io_json_kv_string(j, "file", bl->file);
    io_json_kv_number(j, "age_s", bl->age_s);
    io_json_kv_string(j, "clock_state", b->clock_state);
    io_json_kv_bool(j, "simulated", b->simulated);
    io_json_kv_bool(j, "idle_ok", b->idle_ok);
    io_json_kv_number(j, "power_w", b->power_w);
    io_json_kv_number(j, "uncertainty_w", b->power_uncertainty_w);
    io_json_key(j, "arms");
    io_json_array_begin(j);
    for (int k = 0; k < rep->r->n_arms; k++) {
        const struct sweep_static_cmp *c = &bl->arm[k];
        io_json_object_begin(j);
        io_json_kv_string(j, "name",
                          rep->p->workload == SWEEP_WL_PRODUCT ? ab_arm_name(rep->r->arms[k])
                                                               : "command");
        io_json_kv_number(j, "clock_mhz", c->have ? c->clock_mhz : NAN);
        io_json_kv_number(j, "voltage_v", c->have ? c->voltage_v : NAN);
        io_json_kv_number(j, "fit_static_w", c->have ? c->fit_w : NAN);
        io_json_kv_number(j, "fit_static_uncertainty_w", c->have ? c->fit_ci_w : NAN);
        io_json_kv_number(j, "difference_w", c->have ? c->diff_w : NAN);
        io_json_kv_number(j, "difference_uncertainty_w", c->have ? c->diff_ci_w : NAN);
        io_json_object_end(j);
    }
    io_json_array_end(j);
    io_json_object_end(j);
}
