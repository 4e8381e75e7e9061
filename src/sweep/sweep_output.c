/* SPDX-License-Identifier: MIT */
/*
 * sweep_output.c - the files of a sweep: JSON (schema joules.sweep/1, docs/output.md) and an
 * SVG figure of two charts stacked: energy and time per run against the clock held, and the
 * fitted power curve over the measured points. Simulated sweeps say so in both.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/atomic.h"
#include "io/extra.h"
#include "io/json.h"
#include "io/plot_svg.h"
#include "sweep/sweep.h"
#include "util/util.h"

#define CURVE_POINTS 120

static void kv_interval(io_json *j, const char *key, double v, double se, int df)
{
    double t = util_t975(df);
    io_json_key(j, key);
    io_json_object_begin(j);
    io_json_kv_number(j, "value", v);
    io_json_kv_number(j, "se", se);
    io_json_kv_number(j, "lo", v - t * se);
    io_json_kv_number(j, "hi", v + t * se);
    io_json_object_end(j);
}

static void json_fit(io_json *j, const struct sweep_output *rep, int k)
{
    const struct sweep_arm_analysis *an = &rep->a[k];
    const struct sweep_fit *f = &an->fit;
    io_json_key(j, "fit");
    io_json_object_begin(j);
    io_json_kv_string(j, "model", sweep_model_name(f->model));
    if (f->model == SWEEP_MODEL_NONE) {
        io_json_kv_string(j, "why", f->why);
        io_json_object_end(j);
        return;
    }
    int df = f->l.n - f->l.p;
    static const char *nm[3][3] = {{"a_w", "k_w_per_mhz_v2", ""},
                                   {"a_w", "b_w_per_v2", "k_w_per_mhz_v2"},
                                   {"a_w", "b_w_per_mhz", "c_w_per_mhz3"}};
    int row = f->model == SWEEP_MODEL_FV2 ? 0 : f->model == SWEEP_MODEL_FV2_LEAK ? 1 : 2;
    io_json_key(j, "params");
    io_json_object_begin(j);
    for (int i = 0; i < f->l.p; i++)
        kv_interval(j, nm[row][i], f->l.beta[i], f->l.se[i], df);
    io_json_object_end(j);
    io_json_kv_int(j, "points", f->l.n);
    io_json_kv_number(j, "r2", f->l.r2);
    io_json_kv_number(j, "rmse_w", f->l.rmse);
    io_json_kv_number(j, "max_abs_residual_w", f->max_abs_resid_w);
    if (isfinite(an->c_eff_fit_f))
        kv_interval(j, "c_eff_f", an->c_eff_fit_f, an->c_eff_se_f, df);
    io_json_object_end(j);
}

static void json_point(io_json *j, const struct sweep_output *rep, int s, int k)
{
    const struct sweep_point *pt = &rep->r->pt[s][k];
    const struct sweep_fit *f = &rep->a[k].fit;
    io_json_object_begin(j);
    io_json_kv_int(j, "step", s);
    io_json_kv_number(j, "setting", pt->setting);
    io_json_kv_bool(j, "valid", pt->valid);
    if (!pt->valid)
        io_json_kv_string(j, "note", pt->note);
    io_json_kv_int(j, "runs", pt->runs);
    io_json_kv_number(j, "window_s", pt->window_s);
    io_json_kv_number(j, "time_s", pt->time_s);
    io_json_kv_number(j, "energy_j", pt->energy_j);
    io_json_kv_number(j, "uncertainty_j", pt->uncertainty_j);
    io_json_kv_number(j, "power_w", pt->power_w);
    io_json_kv_number(j, "edp_js", pt->energy_j * pt->time_s);
    io_json_kv_number(j, "clock_mhz", pt->clock_mhz);
    io_json_kv_number(j, "voltage_v", pt->voltage_v);
    io_json_kv_number(j, "temperature_c", pt->temperature_c);
    io_json_kv_number(j, "temperature_min_c", pt->temp_min_c);
    io_json_kv_number(j, "temperature_max_c", pt->temp_max_c);
    io_json_kv_number(j, "power_limit_w", pt->power_limit_w);
    io_json_kv_int(j, "clock_event_reasons", (long long)pt->reasons);
    if (f->model != SWEEP_MODEL_NONE && pt->valid) {
        io_json_kv_number(j, "fit_static_w", sweep_fit_static(f, pt->clock_mhz, pt->voltage_v));
        io_json_kv_number(j, "fit_dynamic_w", sweep_fit_dynamic(f, pt->clock_mhz, pt->voltage_v));
    }
    if (rep->r->simulated) {
        io_json_kv_number(j, "sim_truth_j", pt->sim_truth_j >= 0 ? pt->sim_truth_j : NAN);
        io_json_kv_number(j, "sim_true_static_w", pt->true_static_w);
        io_json_kv_number(j, "sim_true_alpha", pt->true_alpha);
    }
    io_json_object_end(j);
}

static void json_optimum(io_json *j, const struct sweep_output *rep, int k)
{
    const struct sweep_optimum *o = &rep->a[k].opt;
    const struct sweep_result *r = rep->r;
    io_json_key(j, "optimum");
    if (!o->have) {
        io_json_null(j);
        return;
    }
    io_json_object_begin(j);
    const struct {
        const char *key;
        int step;
    } w[3] = {{"min_energy", o->step_energy}, {"min_edp", o->step_edp}, {"reference", o->step_ref}};
    for (int i = 0; i < 3; i++) {
        const struct sweep_point *pt = &r->pt[w[i].step][k];
        io_json_key(j, w[i].key);
        io_json_object_begin(j);
        io_json_kv_int(j, "step", w[i].step);
        io_json_kv_number(j, "setting", pt->setting);
        io_json_kv_number(j, "clock_mhz", pt->clock_mhz);
        io_json_kv_number(j, "energy_j", pt->energy_j);
        io_json_kv_number(j, "time_s", pt->time_s);
        if (i < 2) {
            io_json_kv_number(j, "energy_saved_pct",
                              i == 0 ? o->saved_energy_pct : o->edp_saved_energy_pct);
            io_json_kv_number(j, "time_lost_pct", i == 0 ? o->lost_time_pct : o->edp_lost_time_pct);
            io_json_kv_bool(j, "beyond_noise",
                            i == 0 ? o->energy_beyond_noise : o->edp_beyond_noise);
        }
        io_json_object_end(j);
    }
    io_json_kv_number(j, "model_min_energy_clock_mhz", o->model_clock_mhz);
    io_json_object_end(j);
}

int sweep_output_json(FILE *out, const struct sweep_output *rep)
{
    const struct sweep_result *r = rep->r;
    const struct sweep_params *p = rep->p;
    io_json j;
    io_json_init(&j, out, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", SWEEP_SCHEMA);
    io_json_kv_bool(&j, "simulated", r->simulated);
    io_json_kv_string(&j, "profile", rep->profile);
    io_json_kv_string(&j, "device", r->device);
    io_json_kv_string(&j, "energy_source", r->energy_source);
    io_json_kv_string(&j, "mode", p->mode == SWEEP_CLOCKS ? "clocks" : "power_limits");
    io_json_kv_string(&j, "setting_unit", p->mode == SWEEP_CLOCKS ? "MHz" : "W");
    io_json_key(&j, "settings");
    io_json_array_begin(&j);
    for (int s = 0; s < p->n_steps; s++)
        io_json_number(&j, p->settings[s]);
    io_json_array_end(&j);
    io_json_key(&j, "workload");
    io_json_object_begin(&j);
    if (p->workload == SWEEP_WL_PRODUCT) {
        io_json_kv_string(&j, "kind", "product");
        io_json_kv_string(&j, "executor", p->ops->name);
        io_json_kv_int(&j, "n", p->setup.n);
        io_json_kv_string(&j, "precision", ab_prec_name(p->setup.prec));
        io_json_kv_number(&j, "flops_per_run", r->flops);
    } else {
        io_json_kv_string(&j, "kind", "command");
        io_json_kv_string(&j, "command", rep->command);
    }
    io_json_kv_number(&j, "warmup_s", p->warmup_s);
    io_json_kv_number(&j, "cooldown_s", p->cooldown_s);
    io_json_kv_number(&j, "min_window_s", p->min_window_s);
    io_json_object_end(&j);
    io_json_kv_int(&j, "steps_planned", p->n_steps);
    io_json_kv_int(&j, "steps_done", r->n_steps_done);
    io_json_kv_bool(&j, "complete", r->n_steps_done == p->n_steps && !rep->failure);
    io_json_kv_bool(&j, "interrupted", r->interrupted);
    if (rep->signal)
        io_json_kv_int(&j, "signal", rep->signal);
    else
        io_json_kv_null(&j, "signal");
    io_json_kv_string(&j, "failure", rep->failure);
    if (r->failed_step >= 0)
        io_json_kv_int(&j, "failed_step", r->failed_step);
    else
        io_json_kv_null(&j, "failed_step");
    if (rep->restored >= 0)
        io_json_kv_bool(&j, "restored", rep->restored);
    else
        io_json_kv_null(&j, "restored");
    io_json_kv_bool(&j, "voltage_known", r->voltage_known);
    io_json_key(&j, "arms");
    io_json_array_begin(&j);
    for (int k = 0; k < r->n_arms; k++) {
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name",
                          p->workload == SWEEP_WL_PRODUCT ? ab_arm_name(r->arms[k]) : "command");
        if (p->workload == SWEEP_WL_PRODUCT) {
            io_json_kv_number(&j, "toggle_rate", r->info[k].toggle >= 0 ? r->info[k].toggle : NAN);
            io_json_kv_number(&j, "alpha", r->info[k].alpha >= 0 ? r->info[k].alpha : NAN);
        }
        io_json_key(&j, "points");
        io_json_array_begin(&j);
        for (int s = 0; s < r->n_steps_done; s++)
            json_point(&j, rep, s, k);
        io_json_array_end(&j);
        json_fit(&j, rep, k);
        json_optimum(&j, rep, k);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    io_json_key(&j, "activity_ratios");
    io_json_array_begin(&j);
    for (int k = 1; k < r->n_arms; k++) {
        io_json_object_begin(&j);
        io_json_kv_string(&j, "of", ab_arm_name(r->arms[0]));
        io_json_kv_string(&j, "to", ab_arm_name(r->arms[k]));
        io_json_kv_number(&j, "ratio", rep->k_ratio[k]);
        io_json_kv_number(&j, "lo", rep->k_ratio_lo[k]);
        io_json_kv_number(&j, "hi", rep->k_ratio_hi[k]);
        io_json_kv_number(&j, "sim_true_ratio", rep->k_ratio_true[k]);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    sweep_baseline_json(&j, rep);
    io_json_key(&j, "sim_truth");
    if (r->truth.have) {
        const struct sweep_truth *t = &r->truth;
        io_json_object_begin(&j);
        io_json_kv_number(&j, "c_eff_f", t->c_eff_f);
        io_json_kv_number(&j, "alpha_idle", t->alpha_idle);
        io_json_kv_number(&j, "p_board_w", t->p_board_w);
        io_json_kv_number(&j, "p_mem_static_w", t->p_mem_static_w);
        io_json_kv_number(&j, "leak_ref_w", t->leak_ref_w);
        io_json_kv_number(&j, "leak_t_double_c", t->leak_t_double_c);
        io_json_kv_number(&j, "v_floor_v", t->v_floor_v);
        io_json_kv_number(&j, "f_ridge_mhz", t->f_ridge_mhz);
        io_json_kv_number(&j, "v_max_v", t->v_max_v);
        io_json_kv_number(&j, "clk_min_mhz", t->clk_min_mhz);
        io_json_kv_number(&j, "clk_max_mhz", t->clk_max_mhz);
        io_json_kv_number(&j, "clk_step_mhz", t->clk_step_mhz);
        io_json_kv_number(&j, "tdp_w", t->tdp_w);
        io_json_object_end(&j);
    } else {
        io_json_null(&j);
    }
    if (rep->extra && rep->extra->json)
        rep->extra->json(&j, rep->extra->ctx);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

/* ---- SVG ---------------------------------------------------------------------------------- */

static int embed(FILE *f, const struct plot_chart *c, int y)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m)
        return -1;
    int rc = plot_svg_write(m, c);
    if (fclose(m) != 0)
        rc = -1;
    const char *root = rc == 0 && buf ? strstr(buf, "<svg ") : NULL;
    if (root) {
        fprintf(f, "<svg x=\"0\" y=\"%d\" ", y);
        fputs(root + 5, f);
    }
    free(buf);
    return root && !ferror(f) ? 0 : -1;
}

/* Arms drawn one over another: the first widest, so that equal curves (the time of two
 * inputs at one clock) stay visible as a wide line with a thin one inside it. */
static double arm_width(int k)
{
    return k == 0 ? 4.5 : k == 1 ? 1.8 : 1.2;
}

int sweep_output_svg(const char *path, const struct sweep_output *rep, char *err, size_t len)
{
    const struct sweep_result *r = rep->r;
    if (plot_svg_check_path(path, err, len) != 0)
        return -1;
    static const char *colors[AB_MAX_ARMS] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd",
                                              "#ff7f0e", "#8c564b", "#e377c2"};
    int n = r->n_steps_done;
    const size_t per_arm = 7 * SWEEP_MAX_STEPS + 2 * CURVE_POINTS;
    double *buf = calloc((size_t)AB_MAX_ARMS * per_arm, sizeof *buf);
    struct plot_series top[2 * AB_MAX_ARMS], bottom[2 * AB_MAX_ARMS];
    struct plot_mark marks[AB_MAX_ARMS];
    char names[4 * AB_MAX_ARMS][96], mark_names[AB_MAX_ARMS][96];
    if (!buf) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    int nt = 0, nb = 0, nm = 0;
    for (int k = 0; k < r->n_arms; k++) {
        double *x = buf + (size_t)k * per_arm;
        double *e = x + SWEEP_MAX_STEPS, *t = e + SWEEP_MAX_STEPS, *pw = t + SWEEP_MAX_STEPS;
        double *v = pw + SWEEP_MAX_STEPS, *eu = v + SWEEP_MAX_STEPS, *pu = eu + SWEEP_MAX_STEPS;
        double *cx = pu + SWEEP_MAX_STEPS, *cy = cx + CURVE_POINTS;
        int m = 0;
        for (int s = 0; s < n; s++) { /* sorted by held clock for the lines */
            const struct sweep_point *pt = &r->pt[s][k];
            if (!pt->valid || !isfinite(pt->clock_mhz))
                continue;
            int i = m++;
            while (i > 0 && x[i - 1] > pt->clock_mhz) {
                x[i] = x[i - 1], e[i] = e[i - 1], t[i] = t[i - 1], pw[i] = pw[i - 1],
                v[i] = v[i - 1], eu[i] = eu[i - 1], pu[i] = pu[i - 1];
                i--;
            }
            x[i] = pt->clock_mhz, e[i] = pt->energy_j, t[i] = pt->time_s, pw[i] = pt->power_w;
            v[i] = pt->voltage_v;
            eu[i] = pt->uncertainty_j;
            /* the power's interval: the energy's, relative (the time is far more exact) */
            pu[i] = pt->energy_j > 0 ? pt->power_w * pt->uncertainty_j / pt->energy_j : NAN;
        }
        if (m == 0)
            continue;
        const char *arm =
            rep->p->workload == SWEEP_WL_PRODUCT ? ab_arm_name(r->arms[k]) : "command";
        int shape = 1 + k % 3;
        snprintf(names[4 * k], sizeof names[0], "energy per run, %s (+/- 95 %%)", arm);
        snprintf(names[4 * k + 1], sizeof names[0], "time per run, %s", arm);
        snprintf(names[4 * k + 2], sizeof names[0], "measured power, %s (+/- 95 %%)", arm);
        snprintf(names[4 * k + 3], sizeof names[0], "fit %s, %s",
                 sweep_model_name(rep->a[k].fit.model), arm);
        top[nt++] = (struct plot_series){.name = names[4 * k],
                                         .x = x,
                                         .y = e,
                                         .n = (size_t)m,
                                         .color = colors[k],
                                         .marker = shape,
                                         .y_err = eu,
                                         .line_width = 1.2};
        top[nt++] = (struct plot_series){.name = names[4 * k + 1],
                                         .x = x,
                                         .y = t,
                                         .n = (size_t)m,
                                         .color = colors[k],
                                         .right_axis = 1,
                                         .dashed = 1,
                                         .line_width = arm_width(k)};
        bottom[nb++] = (struct plot_series){.name = names[4 * k + 2],
                                            .x = x,
                                            .y = pw,
                                            .n = (size_t)m,
                                            .color = colors[k],
                                            .marker = shape,
                                            .no_line = 1,
                                            .y_err = pu};
        if (rep->a[k].fit.model != SWEEP_MODEL_NONE && m >= 2) {
            for (int g = 0; g < CURVE_POINTS; g++) {
                cx[g] = x[0] + (x[m - 1] - x[0]) * g / (CURVE_POINTS - 1);
                cy[g] = sweep_fit_total(&rep->a[k].fit, cx[g], sweep_interp(x, v, m, cx[g]));
            }
            bottom[nb++] = (struct plot_series){.name = names[4 * k + 3],
                                                .x = cx,
                                                .y = cy,
                                                .n = CURVE_POINTS,
                                                .color = colors[k],
                                                .dashed = 1};
        }
        const struct sweep_optimum *o = &rep->a[k].opt;
        if (o->have && o->step_energy >= 0) {
            const struct sweep_point *b = &r->pt[o->step_energy][k];
            snprintf(mark_names[nm], sizeof mark_names[0], "least energy, %s: %.0f MHz", arm,
                     b->clock_mhz);
            marks[nm] = (struct plot_mark){
                .x = b->clock_mhz, .y = b->energy_j, .label = mark_names[nm], .color = colors[k]};
            nm++;
        }
    }
    if (nt == 0) {
        free(buf);
        snprintf(err, len, "%s: nothing to plot (no step measured)", path);
        return -1;
    }
    char sub[256];
    snprintf(sub, sizeof sub,
             "%s%s; %s per step; points measured, lines join them; ringed: least energy", r->device,
             r->simulated ? " -- SIMULATED" : "",
             rep->p->mode == SWEEP_CLOCKS ? "clock locked" : "power limit set");
    struct plot_chart c1 = {.title = "Energy and time per run against the clock held",
                            .subtitle = sub,
                            .x_label = "graphics clock held (MHz)",
                            .y_label = "energy per run (J)",
                            .y2_label = "time per run (s)",
                            .width = 960,
                            .height = 480,
                            .simulated = r->simulated,
                            .series = top,
                            .n_series = nt,
                            .marks = marks,
                            .n_marks = nm};
    struct plot_chart c2 = {.title = "Power: measured points and the fitted model (dashed)",
                            .x_label = "graphics clock held (MHz)",
                            .y_label = "power (W)",
                            .width = 960,
                            .height = 480,
                            .simulated = r->simulated,
                            .series = bottom,
                            .n_series = nb};
    io_atomic a;
    if (io_atomic_open(&a, path, err, len) != 0) {
        free(buf);
        return -1;
    }
    fprintf(a.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"960\" "
                 "viewBox=\"0 0 960 960\" font-family=\"sans-serif\" font-size=\"12\">\n"
                 "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    int rc = embed(a.f, &c1, 0);
    if (rc == 0)
        rc = embed(a.f, &c2, 480);
    fputs("</svg>\n", a.f);
    free(buf);
    if (rc != 0 || ferror(a.f)) {
        snprintf(err, len, "%s: write error", path);
        io_atomic_abort(&a);
        return -1;
    }
    return io_atomic_commit(&a, err, len);
}
