/* SPDX-License-Identifier: MIT */
/*
 * compare_output.c - the reports of `joules compare`: the table (medians and intervals per
 * command, the ratios against the first, the verdicts and the warnings), the JSON (schema
 * joules.compare/1, docs/output.md) and the CSV (joules.compare.csv/1, one row per run).
 */
#include <math.h>
#include <string.h>

#include "compare/compare.h"
#include "io/atomic.h"
#include "io/json.h"

static void cell(char *buf, size_t len, const struct ab_interval *iv, int q, int ratio)
{
    if (!isfinite(iv->median)) {
        snprintf(buf, len, "n/a");
        return;
    }
    (void)q;
    if (ratio)
        snprintf(buf, len, "%.3f [%.3f, %.3f]", iv->median, iv->lo, iv->hi);
    else
        snprintf(buf, len, "%.4g [%.4g, %.4g]", iv->median, iv->lo, iv->hi);
}

/* Columns are padded to a width; a line is built whole so the last one's padding goes. */
struct line {
    char buf[512];
    size_t n;
};

static void line_add(struct line *l, const char *fmt_width_text, int width)
{
    int w = snprintf(l->buf + l->n, sizeof l->buf - l->n, " %-*s", width, fmt_width_text);
    if (w > 0 && l->n + (size_t)w < sizeof l->buf)
        l->n += (size_t)w;
}

static void line_put(FILE *out, struct line *l)
{
    while (l->n > 0 && l->buf[l->n - 1] == ' ')
        l->n--;
    l->buf[l->n] = '\0';
    fprintf(out, "%s\n", l->buf);
}

static int shown_q(const struct cmp_output *rep, int q)
{
    return q != CMP_Q_DYNAMIC || rep->has_dynamic;
}

/* Width of the first column: the longest label ("name/first", "name/base"), 12 to 30. */
static int label_width(const struct cmp_output *rep)
{
    size_t w = 12, first = strlen(rep->names[0]);
    for (int k = 0; k < rep->r->n_cmds; k++) {
        size_t l = strlen(rep->names[k]) + 1 + (first > 4 ? first : 4);
        if (l > w)
            w = l;
    }
    return w > 30 ? 30 : (int)w;
}

static void row(FILE *out, const struct cmp_output *rep, const char *label,
                const struct ab_interval *ivs, int ratio)
{
    struct line l = {.n = 0};
    int lw = label_width(rep);
    l.n = (size_t)snprintf(l.buf, sizeof l.buf, "   %-*.*s", lw, lw, label);
    for (int q = 0; q < CMP_Q_COUNT; q++) {
        if (!shown_q(rep, q))
            continue;
        char c[96];
        cell(c, sizeof c, &ivs[q], q, ratio);
        line_add(&l, c, 27);
    }
    line_put(out, &l);
}

void cmp_output_table(FILE *out, const struct cmp_output *rep)
{
    const struct cmp_result *r = rep->r;
    const struct cmp_summary *s = rep->s;
    fprintf(
        out,
        "\n joules compare: %d command(s), %d complete round(s) (%s order), %d runs in %.1f s%s\n",
        r->n_cmds, r->rounds_done, rep->p->order == CMP_ORDER_RANDOM ? "random" : "ABBA", r->n_runs,
        r->elapsed_s, rep->simulated ? "   SIMULATED" : "");
    for (int k = 0; k < r->n_cmds; k++)
        fprintf(out, "   %-6s %s\n", rep->names[k], rep->command[k]);
    fprintf(out, "   energy: %s%s\n", rep->energy_source ? rep->energy_source : "?",
            rep->has_dynamic ? "; dynamic: minus the idle baseline x time" : "");
    fprintf(out, "   stopped: %s\n", cmp_stop_reason_text(r->stop_reason));
    if (rep->failure)
        fprintf(out, "   %s\n", rep->failure);
    fprintf(out, "\n   medians [%.0f %% CI]\n", 100 * s->level);
    struct line l = {.n = 0};
    l.n = (size_t)snprintf(l.buf, sizeof l.buf, "   %-*s", label_width(rep), "");
    for (int q = 0; q < CMP_Q_COUNT; q++)
        if (shown_q(rep, q)) {
            char h[40];
            snprintf(h, sizeof h, "%s (%s)", q == CMP_Q_EDP ? "EDP" : cmp_quantity_name(q),
                     cmp_quantity_unit(q));
            line_add(&l, h, 27);
        }
    line_put(out, &l);
    if (rep->baseline && s->have_baseline)
        row(out, rep, "baseline", s->baseline_q, 0);
    for (int k = 0; k < r->n_cmds; k++)
        row(out, rep, rep->names[k], s->q[k], 0);
    for (int k = 1; k < r->n_cmds; k++) {
        char lab[64];
        snprintf(lab, sizeof lab, "%s/%s", rep->names[k], rep->names[0]);
        row(out, rep, lab, s->ratio[k], 1);
    }
    if (rep->baseline && s->have_baseline)
        for (int k = 0; k < r->n_cmds; k++) {
            char lab[64];
            snprintf(lab, sizeof lab, "%s/base", rep->names[k]);
            row(out, rep, lab, s->vs_baseline[k], 1);
        }
    fputc('\n', out);
    char v[1024];
    for (int k = 1; k < r->n_cmds; k++) {
        cmp_verdict(s, rep->names[k], rep->names[0], k, 0, v, sizeof v);
        fprintf(out, "   %s%s\n", v, rep->simulated ? " (SIMULATED)" : "");
    }
    if (rep->baseline && s->have_baseline)
        for (int k = 0; k < r->n_cmds; k++) {
            char who[160];
            snprintf(who, sizeof who, "the baseline (%.120s)", rep->baseline->path);
            cmp_verdict(s, rep->names[k], who, k, 1, v, sizeof v);
            fprintf(out, "   %s (unpaired: runs of another time)\n", v);
        }
    char w[4096];
    if (cmp_warnings(r, s, rep->names, rep->precision, w, sizeof w) > 0) {
        fprintf(out, "\n   warnings:\n");
        for (char *line = strtok(w, "\n"); line; line = strtok(NULL, "\n"))
            fprintf(out, "   - %s\n", line);
    }
    if (rep->fail_if_more >= 0)
        fprintf(out, "\n   gate --fail-if-more %.1f %%: %s\n", 100 * rep->fail_if_more,
                rep->gate_failed ? "FAILED (the energy ratio's lower bound is above the allowance)"
                                 : "passed");
    fputc('\n', out);
}

static void quantities(io_json *j, const struct cmp_output *rep, const struct ab_interval *ivs,
                       int ratio)
{
    static const char *const keys[CMP_Q_COUNT] = {"energy_j", "time_s", "power_w", "edp_js",
                                                  "dynamic_j"};
    static const char *const rkeys[CMP_Q_COUNT] = {"energy", "time", "power", "edp", "dynamic"};
    for (int q = 0; q < CMP_Q_COUNT; q++)
        if (shown_q(rep, q))
            ab_interval_json(j, ratio ? rkeys[q] : keys[q], &ivs[q]);
}

int cmp_output_json(FILE *out, const struct cmp_output *rep)
{
    const struct cmp_result *r = rep->r;
    const struct cmp_summary *s = rep->s;
    const struct cmp_params *p = rep->p;
    io_json j;
    io_json_init(&j, out, 1);
    io_json_object_begin(&j);
    io_json_kv_string(&j, "schema", CMP_SCHEMA);
    io_json_kv_string(&j, "joules_version", joules_version());
    io_json_kv_bool(&j, "simulated", rep->simulated);
    io_json_key(&j, "settings");
    io_json_object_begin(&j);
    io_json_kv_string(&j, "order", p->order == CMP_ORDER_RANDOM ? "random" : "abba");
    io_json_kv_int(&j, "seed", (long long)p->seed);
    io_json_kv_int(&j, "warmup", p->warmup);
    io_json_kv_int(&j, "runs", p->runs);
    io_json_kv_number(&j, "precision", rep->precision);
    io_json_kv_number(&j, "max_time_s", p->max_time_s);
    io_json_kv_number(&j, "level", s->level);
    if (rep->fail_if_more >= 0)
        io_json_kv_number(&j, "fail_if_more", rep->fail_if_more);
    io_json_object_end(&j);
    io_json_kv_string(&j, "energy_source", rep->energy_source);
    io_json_kv_bool(&j, "dynamic", rep->has_dynamic);
    io_json_kv_int(&j, "rounds", r->rounds_done);
    io_json_kv_number(&j, "elapsed_s", r->elapsed_s);
    io_json_kv_string(&j, "stop_reason", cmp_stop_reason_text(r->stop_reason));
    io_json_kv_bool(&j, "interrupted", r->stop_reason == CMP_STOP_INTERRUPTED);
    if (rep->failure)
        io_json_kv_string(&j, "failure", rep->failure);
    io_json_key(&j, "commands");
    io_json_array_begin(&j);
    for (int k = 0; k < r->n_cmds; k++) {
        io_json_object_begin(&j);
        io_json_kv_string(&j, "name", rep->names[k]);
        io_json_kv_string(&j, "command", rep->command[k]);
        quantities(&j, rep, s->q[k], 0);
        io_json_kv_int(&j, "outliers", s->n_outliers[k]);
        io_json_kv_bool(&j, "exit_status_varies", s->status_varies[k]);
        io_json_kv_number(&j, "relative_uncertainty", s->rel_uncertainty[k]);
        /* The runs again as plain arrays: what --baseline reads back. */
        io_json_key(&j, "runs_energy_j");
        io_json_array_begin(&j);
        for (int i = 0; i < r->n_runs; i++)
            if (r->runs[i].cmd == k)
                io_json_number(&j, cmp_run_value(&r->runs[i], CMP_Q_ENERGY));
        io_json_array_end(&j);
        io_json_key(&j, "runs_time_s");
        io_json_array_begin(&j);
        for (int i = 0; i < r->n_runs; i++)
            if (r->runs[i].cmd == k)
                io_json_number(&j, r->runs[i].time_s);
        io_json_array_end(&j);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    char v[1024];
    io_json_key(&j, "ratios");
    io_json_array_begin(&j);
    for (int k = 1; k < r->n_cmds; k++) {
        io_json_object_begin(&j);
        io_json_kv_string(&j, "of", rep->names[k]);
        io_json_kv_string(&j, "over", rep->names[0]);
        io_json_kv_string(&j, "pairing", "paired by round");
        quantities(&j, rep, s->ratio[k], 1);
        cmp_verdict(s, rep->names[k], rep->names[0], k, 0, v, sizeof v);
        io_json_kv_string(&j, "verdict", v);
        io_json_object_end(&j);
    }
    if (rep->baseline && s->have_baseline)
        for (int k = 0; k < r->n_cmds; k++) {
            io_json_object_begin(&j);
            io_json_kv_string(&j, "of", rep->names[k]);
            io_json_kv_string(&j, "over", "baseline");
            io_json_kv_string(&j, "pairing", "unpaired");
            quantities(&j, rep, s->vs_baseline[k], 1);
            cmp_verdict(s, rep->names[k], "the baseline", k, 1, v, sizeof v);
            io_json_kv_string(&j, "verdict", v);
            io_json_object_end(&j);
        }
    io_json_array_end(&j);
    if (rep->baseline) {
        io_json_key(&j, "baseline");
        io_json_object_begin(&j);
        io_json_kv_string(&j, "file", rep->baseline->path);
        io_json_kv_string(&j, "name", rep->baseline->name);
        io_json_kv_int(&j, "runs", rep->baseline->n);
        ab_interval_json(&j, "energy_j", &s->baseline_q[CMP_Q_ENERGY]);
        ab_interval_json(&j, "time_s", &s->baseline_q[CMP_Q_TIME]);
        io_json_object_end(&j);
    }
    if (rep->fail_if_more >= 0) {
        io_json_key(&j, "gate");
        io_json_object_begin(&j);
        io_json_kv_number(&j, "fail_if_more", rep->fail_if_more);
        io_json_kv_bool(&j, "failed", rep->gate_failed);
        io_json_object_end(&j);
    }
    char w[4096];
    cmp_warnings(r, s, rep->names, rep->precision, w, sizeof w);
    io_json_key(&j, "warnings");
    io_json_array_begin(&j);
    for (char *line = strtok(w, "\n"); line; line = strtok(NULL, "\n"))
        io_json_string(&j, line);
    io_json_array_end(&j);
    io_json_key(&j, "runs");
    io_json_array_begin(&j);
    for (int i = 0; i < r->n_runs; i++) {
        const struct cmp_run *x = &r->runs[i];
        io_json_object_begin(&j);
        io_json_kv_int(&j, "index", i);
        io_json_kv_int(&j, "round", x->round);
        io_json_kv_string(&j, "command", rep->names[x->cmd]);
        io_json_kv_bool(&j, "energy_valid", x->energy_valid);
        io_json_kv_number(&j, "energy_j", x->energy_valid ? x->energy_j : NAN);
        io_json_kv_number(&j, "energy_uncertainty_j", x->energy_valid ? x->uncertainty_j : NAN);
        if (rep->has_dynamic)
            io_json_kv_number(&j, "dynamic_j", x->dynamic_j);
        io_json_kv_number(&j, "time_s", x->time_s);
        io_json_kv_number(&j, "power_w", cmp_run_value(x, CMP_Q_POWER));
        io_json_kv_number(&j, "start_s", x->start_s);
        io_json_kv_int(&j, "exit_status", x->exit_status);
        io_json_kv_bool(&j, "outlier", x->outlier);
        if (x->sim_truth_j >= 0)
            io_json_kv_number(&j, "sim_truth_j", x->sim_truth_j);
        if (!x->energy_valid)
            io_json_kv_string(&j, "note", x->note);
        io_json_object_end(&j);
    }
    io_json_array_end(&j);
    io_json_object_end(&j);
    return io_json_finish(&j);
}

/* A CSV field: quoted, with quotes doubled, when it holds a comma, a quote or a line end. */
static void csv_text(FILE *out, const char *t)
{
    if (!strpbrk(t, ",\"\r\n")) {
        fputs(t, out);
        return;
    }
    fputc('"', out);
    for (; *t; t++) {
        if (*t == '"')
            fputc('"', out);
        fputc(*t, out);
    }
    fputc('"', out);
}

int cmp_output_csv(FILE *out, const struct cmp_output *rep)
{
    const struct cmp_result *r = rep->r;
    fprintf(out, "schema,simulated,index,round,command,energy_valid,energy_j,"
                 "energy_uncertainty_j,dynamic_j,time_s,power_w,edp_js,start_s,exit_status,"
                 "outlier,sim_truth_j\n");
    for (int i = 0; i < r->n_runs; i++) {
        const struct cmp_run *x = &r->runs[i];
        fprintf(out, "%s,%d,%d,%d,", CMP_CSV_SCHEMA, rep->simulated, i, x->round);
        csv_text(out, rep->names[x->cmd]);
        double v[6] = {
            cmp_run_value(x, CMP_Q_ENERGY),        x->energy_valid ? x->uncertainty_j : NAN,
            rep->has_dynamic ? x->dynamic_j : NAN, x->time_s,
            cmp_run_value(x, CMP_Q_POWER),         cmp_run_value(x, CMP_Q_EDP)};
        fprintf(out, ",%d", x->energy_valid);
        for (int q = 0; q < 6; q++) {
            if (isfinite(v[q]))
                fprintf(out, ",%.9g", v[q]);
            else
                fputs(",", out);
        }
        fprintf(out, ",%.6f,%d,%d,", x->start_s, x->exit_status, x->outlier);
        if (x->sim_truth_j >= 0)
            fprintf(out, "%.9g", x->sim_truth_j);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}

int cmp_files_open(struct cmp_files *o, char *err, size_t len)
{
    char e[512];
    o->json_open = o->csv_open = 0;
    if (o->json) {
        if (io_atomic_open(&o->json_out, o->json, e, sizeof e) != 0) {
            snprintf(err, len, "--json: %s", e);
            return -1;
        }
        o->json_open = 1;
    }
    if (o->csv) {
        if (io_atomic_open(&o->csv_out, o->csv, e, sizeof e) != 0) {
            snprintf(err, len, "--csv: %s", e);
            cmp_files_abort(o);
            return -1;
        }
        o->csv_open = 1;
    }
    if (o->svg) {
        /* Only a probe: the figure is written whole at the end. */
        io_atomic probe;
        if (io_atomic_open(&probe, o->svg, e, sizeof e) != 0) {
            snprintf(err, len, "--svg: %s", e);
            cmp_files_abort(o);
            return -1;
        }
        io_atomic_abort(&probe);
    }
    return 0;
}

void cmp_files_abort(struct cmp_files *o)
{
    if (o->json_open)
        io_atomic_abort(&o->json_out);
    if (o->csv_open)
        io_atomic_abort(&o->csv_out);
    o->json_open = o->csv_open = 0;
}

static int commit(io_atomic *a, int *open, const char *opt,
                  int (*write)(FILE *, const struct cmp_output *), const struct cmp_output *rep,
                  char *err, size_t len)
{
    char e[512];
    if (!*open)
        return 0;
    *open = 0;
    if (write(a->f, rep) != 0) {
        io_atomic_abort(a);
        snprintf(err, len, "joules compare: %s: writing failed; no file was written\n", opt);
        return -1;
    }
    if (io_atomic_commit(a, e, sizeof e) != 0) {
        snprintf(err, len, "joules compare: %s: %s; no file was written\n", opt, e);
        return -1;
    }
    return 0;
}

int cmp_files_write(struct cmp_files *o, const struct cmp_output *rep, char *err, size_t len)
{
    size_t used;
    int rc = 0;
    if (len)
        err[0] = '\0';
    rc |= commit(&o->json_out, &o->json_open, "--json", cmp_output_json, rep, err, len);
    used = strlen(err);
    rc |= commit(&o->csv_out, &o->csv_open, "--csv", cmp_output_csv, rep, err + used, len - used);
    used = strlen(err);
    char e[512];
    if (o->svg && cmp_output_svg(o->svg, rep, e, sizeof e) != 0) {
        snprintf(err + used, len - used, "joules compare: --svg: %s\n", e);
        rc = -1;
    }
    return rc;
}
