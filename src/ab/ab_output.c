/* SPDX-License-Identifier: MIT */
/*
 * ab_output.c - the A/B experiment's results in every format: the human table, JSON
 * (joules.ab/1), CSV (joules.ab.csv/1, one row per window) and an SVG figure (bars with
 * intervals above the power time series). docs/output.md documents the schemas; the
 * figures come from ab_analysis.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "io/extra.h"
#include "io/json.h"
#include "io/plot_svg.h"

static const char *const q_names[AB_Q_COUNT] = {"energy_j", "time_s", "power_w", "gflops",
                                                "gflop_per_j"};

static const char *ci_label(const struct ab_output *rep, char *buf, size_t len)
{
    snprintf(buf, len, "%.0f %% CI", rep->p->level * 100);
    return buf;
}

static void cell(FILE *out, const struct ab_interval *iv, int dec, int last)
{
    char m[32], lo[32], hi[32], all[112];
    if (iv->n == 0 || !isfinite(iv->median)) {
        fprintf(out, last ? "  %s" : "  %-24s", "n/a");
        return;
    }
    snprintf(m, sizeof m, "%.*f", dec, iv->median);
    snprintf(lo, sizeof lo, "%.*f", dec, iv->lo);
    snprintf(hi, sizeof hi, "%.*f", dec, iv->hi);
    snprintf(all, sizeof all, "%s [%s, %s]", m, lo, hi);
    fprintf(out, last ? "  %s" : "  %-24s", all);
}

static const int q_dec[AB_Q_COUNT] = {2, 4, 1, 0, 2};

void ab_output_table(FILE *out, const struct ab_output *rep)
{
    const struct ab_result *r = rep->r;
    const struct ab_params *p = rep->p;
    char ci[32];
    fprintf(out, "\njoules ab: C = A.B, n = %d, %s, %s executor%s%s\n", p->setup.n,
            ab_prec_name(p->setup.prec), ab_executor_name(p->executor), r->device[0] ? ", " : "",
            r->device);
    fprintf(out,
            "  %d product%s (%.0f GFLOP) per window, %d complete round%s of %d arms, ABBA "
            "order",
            r->products, r->products == 1 ? "" : "s", r->flops * r->products * 1e-9, r->rounds_done,
            r->rounds_done == 1 ? "" : "s", r->n_arms);
    if (rep->lock_mhz)
        fprintf(out, "; clocks locked at %d MHz", rep->lock_mhz);
    fputc('\n', out);
    if (r->energy_available)
        fprintf(out, "  energy: %s\n", r->energy_source);
    else
        fprintf(out, "  energy: not measured: %s\n", r->energy_why);
    if (r->simulated)
        fprintf(out, "  SIMULATED: every figure comes from the simulated GPU's model "
                     "(docs/physics.md), not from a measurement\n");
    fprintf(out, "\n  medians over windows [%s]\n", ci_label(rep, ci, sizeof ci));
    fprintf(out, "  %-14s%-26s%-26s%-26s%s\n", "arm", "energy (J)", "time (s)", "power (W)",
            "GFLOP/J");
    for (int k = 0; k < r->n_arms; k++) {
        fprintf(out, "  %-12s", ab_arm_name(r->arms[k]));
        cell(out, &rep->s.arm[k][AB_Q_ENERGY], q_dec[AB_Q_ENERGY], 0);
        cell(out, &rep->s.arm[k][AB_Q_TIME], q_dec[AB_Q_TIME], 0);
        cell(out, &rep->s.arm[k][AB_Q_POWER], q_dec[AB_Q_POWER], 0);
        cell(out, &rep->s.arm[k][AB_Q_GFLOP_PER_J], q_dec[AB_Q_GFLOP_PER_J], 1);
        fputc('\n', out);
    }
    for (int k = 1; k < r->n_arms; k++) {
        char name[32];
        snprintf(name, sizeof name, "%.6s/%.5s", ab_arm_name(r->arms[0]), ab_arm_name(r->arms[k]));
        fprintf(out, "  %-12s", name);
        for (int q = 0; q < AB_Q_COUNT; q++)
            if (q != AB_Q_GFLOPS)
                cell(out, &rep->s.ratio[k][q], 3, q == AB_Q_GFLOP_PER_J);
        fputc('\n', out);
    }
    fputc('\n', out);
    for (int k = 0; k < r->n_arms; k++) {
        const struct ab_interval *g = &rep->s.arm[k][AB_Q_GFLOPS];
        fprintf(out, "  %-12s %8.0f GFLOP/s", ab_arm_name(r->arms[k]), g->median);
        double clk = 0, temp = 0;
        int nc = 0;
        for (int i = 0; i < r->n_runs; i++)
            if (r->runs[i].slot == k && isfinite(r->runs[i].clock_mhz)) {
                clk += r->runs[i].clock_mhz;
                temp += r->runs[i].temperature_c;
                nc++;
            }
        if (nc)
            fprintf(out, ", clock %.0f MHz, %.0f C", clk / nc, temp / nc);
        unsigned long long rs = ab_arm_reasons(r, k);
        if (p->status_domain >= 0)
            fprintf(out, ", reasons 0x%llx%s", rs,
                    rs & 0x4ull    ? " (SW power cap)"
                    : rs & 0x60ull ? " (thermal)"
                    : rs == 0      ? " (none)"
                                   : "");
        if (r->info[k].toggle >= 0)
            fprintf(out, ", toggle %.3f, alpha %.3f", r->info[k].toggle, r->info[k].alpha);
        const struct ab_check *c = &r->check[k];
        if (c->checked)
            fprintf(out, "; check %s (%d entries, worst %.2g of tolerance)",
                    c->passed ? "passed" : "FAILED", c->samples, c->max_err_ratio);
        else if (c->note[0])
            fprintf(out, "; %s", c->note);
        fputc('\n', out);
    }
    fputc('\n', out);
    for (int k = 1; k < r->n_arms; k++) {
        char s[1024];
        ab_conclusion(rep, k, s, sizeof s);
        fprintf(out, "  %s.%s\n", s, r->simulated ? " (SIMULATED)" : "");
    }
    if (r->interrupted)
        fprintf(out,
                "  Interrupted%s: %d window%s measured; the interrupted window was "
                "dropped.\n",
                rep->signal == SIGINT ? " (SIGINT)"
                : rep->signal         ? " (signal)"
                                      : "",
                r->n_runs, r->n_runs == 1 ? "" : "s");
}

void ab_interval_json(io_json *j, const char *key, const struct ab_interval *iv)
{
    io_json_key(j, key);
    io_json_object_begin(j);
    io_json_kv_number(j, "median", iv->median);
    io_json_kv_number(j, "lo", iv->lo);
    io_json_kv_number(j, "hi", iv->hi);
    io_json_kv_number(j, "coverage", iv->coverage);
    io_json_kv_int(j, "n", iv->n);
    io_json_object_end(j);
}

int ab_output_json(FILE *out, const struct ab_output *rep)
{
    const struct ab_result *r = rep->r;
    const struct ab_params *p = rep->p;
    io_json j;
    io_json_init(&j, out, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", AB_SCHEMA);
    io_json_kv_bool(&j, "simulated", r->simulated);
    io_json_kv_string(&j, "executor", ab_executor_name(p->executor));
    io_json_kv_string(&j, "device", r->device[0] ? r->device : NULL);
    io_json_kv_string(&j, "profile", rep->profile);
    io_json_kv_int(&j, "n", p->setup.n);
    io_json_kv_string(&j, "precision", ab_prec_name(p->setup.prec));
    io_json_kv_int(&j, "seed", (long long)p->setup.seed);
    io_json_kv_int(&j, "repeats", p->repeats);
    io_json_kv_int(&j, "rounds_done", r->rounds_done);
    io_json_kv_number(&j, "min_window_s", p->min_window_s);
    io_json_kv_int(&j, "products_per_window", r->products);
    io_json_kv_number(&j, "flops_per_product", r->flops);
    io_json_kv_string(&j, "order", "ABBA");
    io_json_kv_number(&j, "ci_level", p->level);
    io_json_kv_string(&j, "ci_method", "order statistics of the median (binomial)");
    if (p->executor == AB_EXEC_SIM)
        io_json_kv_number(&j, "sim_efficiency",
                          p->setup.sim_efficiency > 0 ? p->setup.sim_efficiency : 0.9);
    io_json_key(&j, "clocks");
    io_json_object_begin(&j);
    if (rep->lock_mhz)
        io_json_kv_int(&j, "locked_mhz", rep->lock_mhz);
    else
        io_json_kv_null(&j, "locked_mhz");
    if (rep->locked_clock_mhz >= 0)
        io_json_kv_int(&j, "reported_mhz", rep->locked_clock_mhz);
    else
        io_json_kv_null(&j, "reported_mhz");
    if (rep->clocks_restored >= 0)
        io_json_kv_bool(&j, "restored", rep->clocks_restored);
    else
        io_json_kv_null(&j, "restored");
    io_json_object_end(&j);
    io_json_kv_bool(&j, "energy_available", r->energy_available);
    io_json_kv_string(&j, "energy_source", r->energy_available ? r->energy_source : NULL);
    io_json_kv_string(&j, "energy_unavailable_reason", r->energy_available ? NULL : r->energy_why);
    io_json_kv_bool(&j, "interrupted", r->interrupted);
    io_json_kv_string(&j, "failure", rep->failure);
    io_json_key(&j, "arms");
    io_json_array_begin(&j);
    for (int k = 0; k < r->n_arms; k++) {
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", ab_arm_name(r->arms[k]));
        io_json_kv_string(&j, "inputs", ab_arm_description(r->arms[k]));
        io_json_kv_number(&j, "toggle_rate", r->info[k].toggle >= 0 ? r->info[k].toggle : NAN);
        io_json_kv_number(&j, "sim_alpha", r->info[k].alpha >= 0 ? r->info[k].alpha : NAN);
        io_json_kv_number(&j, "warm_product_time_s", r->warm_time_s[k]);
        const struct ab_check *c = &r->check[k];
        io_json_key(&j, "check");
        io_json_object_begin(&j);
        io_json_kv_bool(&j, "checked", c->checked);
        if (c->checked) {
            io_json_kv_bool(&j, "passed", c->passed);
            io_json_kv_int(&j, "samples", c->samples);
            io_json_kv_number(&j, "max_error_over_tolerance", c->max_err_ratio);
            io_json_kv_number(&j, "max_relative_error", c->max_rel_err);
        }
        io_json_kv_string(&j, "note", c->note);
        io_json_object_end(&j);
        io_json_key(&j, "summary");
        io_json_object_begin(&j);
        for (int q = 0; q < AB_Q_COUNT; q++)
            ab_interval_json(&j, q_names[q], &rep->s.arm[k][q]);
        io_json_object_end(&j);
        io_json_key(&j, "runs");
        io_json_array_begin(&j);
        for (int i = 0; i < r->n_runs; i++) {
            const struct ab_run_rec *x = &r->runs[i];
            if (x->slot != k)
                continue;
            io_json_object_begin(&j);
            io_json_kv_int(&j, "window", i);
            io_json_kv_int(&j, "round", x->round);
            io_json_kv_int(&j, "products", x->products);
            io_json_kv_number(&j, "time_s", x->time_s);
            io_json_kv_number(&j, "energy_j", ab_run_value(x, AB_Q_ENERGY));
            io_json_kv_number(&j, "uncertainty_j", x->energy_valid ? x->uncertainty_j : NAN);
            io_json_kv_number(&j, "power_w", ab_run_value(x, AB_Q_POWER));
            io_json_kv_number(&j, "gflops", x->gflops);
            io_json_kv_number(&j, "gflop_per_j", ab_run_value(x, AB_Q_GFLOP_PER_J));
            io_json_kv_number(&j, "clock_mhz", x->clock_mhz);
            io_json_kv_number(&j, "temperature_c", x->temperature_c);
            io_json_kv_int(&j, "clock_event_reasons", (long long)x->reasons);
            io_json_kv_number(&j, "sim_truth_j", x->sim_truth_j >= 0 ? x->sim_truth_j : NAN);
            io_json_kv_number(&j, "host_gap_s", x->host_gap_s);
            if (!x->energy_valid)
                io_json_kv_string(&j, "note", x->note);
            io_json_object_end(&j);
        }
        io_json_array_end(&j);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    io_json_key(&j, "ratios");
    io_json_array_begin(&j);
    for (int k = 1; k < r->n_arms; k++) {
        char s[1024];
        io_json_object_begin(&j);
        io_json_kv_string(&j, "numerator", ab_arm_name(r->arms[0]));
        io_json_kv_string(&j, "denominator", ab_arm_name(r->arms[k]));
        for (int q = 0; q < AB_Q_COUNT; q++)
            ab_interval_json(&j, q_names[q], &rep->s.ratio[k][q]);
        ab_conclusion(rep, k, s, sizeof s);
        io_json_kv_string(&j, "conclusion", s);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    if (rep->extra && rep->extra->json)
        rep->extra->json(&j, rep->extra->ctx);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

int ab_output_csv(FILE *out, const struct ab_output *rep)
{
    const struct ab_result *r = rep->r;
    fprintf(out, "schema,executor,simulated,precision,n,arm,window,round,products,time_s,energy_j,"
                 "uncertainty_j,power_w,gflops,gflop_per_j,clock_mhz,temperature_c,"
                 "clock_event_reasons");
    if (rep->extra && rep->extra->csv_header)
        rep->extra->csv_header(out, rep->extra->ctx);
    fputc('\n', out);
    for (int i = 0; i < r->n_runs; i++) {
        const struct ab_run_rec *x = &r->runs[i];
        fprintf(out, "%s,%s,%d,%s,%d,%s,%d,%d,%d,%.6f", AB_CSV_SCHEMA,
                ab_executor_name(rep->p->executor), r->simulated, ab_prec_name(rep->p->setup.prec),
                rep->p->setup.n, ab_arm_name(r->arms[x->slot]), i, x->round, x->products,
                x->time_s);
        double v[] = {ab_run_value(x, AB_Q_ENERGY),
                      x->energy_valid ? x->uncertainty_j : NAN,
                      ab_run_value(x, AB_Q_POWER),
                      x->gflops,
                      ab_run_value(x, AB_Q_GFLOP_PER_J),
                      x->clock_mhz,
                      x->temperature_c};
        for (size_t q = 0; q < sizeof v / sizeof v[0]; q++)
            if (isfinite(v[q]))
                fprintf(out, ",%.6g", v[q]);
            else
                fputs(",", out);
        fprintf(out, ",0x%llx", x->reasons);
        if (rep->extra && rep->extra->csv_row)
            rep->extra->csv_row(out, rep->extra->ctx, ab_arm_name(r->arms[x->slot]));
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

int ab_output_svg(const char *path, const struct ab_output *rep, char *err, size_t len)
{
    const struct ab_result *r = rep->r;
    static const int qs[] = {AB_Q_ENERGY, AB_Q_TIME, AB_Q_POWER, AB_Q_GFLOP_PER_J};
    static const char *const titles[] = {"energy per window", "time per window", "average power",
                                         "efficiency"};
    static const char *const units[] = {"J", "s", "W", "GFLOP/J"};
    struct plot_bar bars[4][AB_MAX_ARMS];
    struct plot_bar_group groups[4];
    for (int g = 0; g < 4; g++) {
        for (int k = 0; k < r->n_arms; k++) {
            const struct ab_interval *iv = &rep->s.arm[k][qs[g]];
            bars[g][k] =
                (struct plot_bar){ab_arm_name(r->arms[k]), iv->median, iv->lo, iv->hi, NULL};
        }
        groups[g] = (struct plot_bar_group){titles[g], units[g], bars[g], r->n_arms};
    }
    char title[320], sub[1100], note[200], conc[1024] = "";
    snprintf(title, sizeof title, "Same product, different inputs: C = A.B, n = %d, %s%s%s",
             rep->p->setup.n, ab_prec_name(rep->p->setup.prec), r->device[0] ? ", " : "",
             r->device);
    (void)conc;
    sub[0] = '\0';
    if (r->n_arms > 1) {
        const struct ab_interval *tr = &rep->s.ratio[1][AB_Q_TIME],
                                 *er = &rep->s.ratio[1][AB_Q_ENERGY];
        snprintf(sub, sizeof sub,
                 "%s/%s: time ratio %.3f [%.3f, %.3f], energy ratio %.3f [%.3f, %.3f]",
                 ab_arm_name(r->arms[0]), ab_arm_name(r->arms[1]), tr->median, tr->lo, tr->hi,
                 er->median, er->lo, er->hi);
    }
    snprintf(note, sizeof note,
             "medians of %d windows per arm (%d products each); whiskers: %.0f %% CI of the "
             "median (order statistics)%s",
             r->rounds_done, r->products, rep->p->level * 100,
             rep->lock_mhz ? "; clocks locked" : "");
    struct plot_bar_chart bc = {title, sub, 960, 380, r->simulated, note, groups, 4};

    /* Power over time: one series per arm, broken where another arm (or nothing) ran. */
    size_t n = r->n_samples;
    double *x = malloc((n + 1) * sizeof *x), *ys = malloc((n + 1) * (AB_MAX_ARMS + 1) * sizeof *ys);
    struct plot_series ser[AB_MAX_ARMS + 1];
    int ns = 0;
    if (!x || !ys) {
        free(x);
        free(ys);
        snprintf(err, len, "out of memory for the figure");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        x[i] = r->samples[i].t_s;
    for (int k = -1; k < r->n_arms; k++) {
        double *y = ys + (size_t)(k + 1) * (n + 1);
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            int slot = r->samples[i].slot, keep = slot == k;
            /* The grey links join every window to the next: the samples between windows and
             * the last and first samples of the windows on either side of them. */
            if (k < 0 && !keep)
                keep = (i > 0 && r->samples[i - 1].slot != slot) ||
                       (i + 1 < n && r->samples[i + 1].slot != slot);
            y[i] = keep ? r->samples[i].power_w : NAN;
            any |= keep;
        }
        if (any)
            ser[ns++] =
                (struct plot_series){.name = k < 0 ? "between windows" : ab_arm_name(r->arms[k]),
                                     .x = x,
                                     .y = y,
                                     .n = n,
                                     .color = k < 0 ? "#999999" : NULL,
                                     .dashed = k < 0};
    }
    /* Palette order as in the bars: arm k takes colour k. */
    static const char *const pal[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2"};
    for (int s = 0, k = 0; s < ns; s++)
        if (!ser[s].color)
            ser[s].color = pal[k++ % 7];
    struct plot_chart lc = {.title = "Power during the run (sampled with joules_sampler)",
                            .subtitle = r->energy_available ? r->energy_source : NULL,
                            .x_label = "time since the first window (s)",
                            .y_label = "power (W)",
                            .width = 960,
                            .height = 400,
                            .simulated = r->simulated,
                            .series = ser,
                            .n_series = ns};
    int rc = plot_svg_figure_save(path, &bc, ns > 0 ? &lc : NULL, err, len);
    free(x);
    free(ys);
    return rc;
}
