/* SPDX-License-Identifier: MIT */
/*
 * accuracy_goals.c - the error statistics of the accuracy benchmarks: per cell and method,
 * and the tallies behind the goals of issue 7 (windows of 1 s and more; windows of 50 to
 * 500 ms where naive polling is off by 10 % or more; intervals that cover the truth), the
 * naive method over polled samples, and the simulator's truth.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "accuracy.h"

double acc_naive_energy(struct acc_poller *p, int64_t t0, int64_t t1)
{
    pthread_mutex_lock(&p->lock);
    double e = 0.0, last_p = 0.0;
    int inside = 0;
    int64_t prev_t = 0;
    double prev_p = 0.0;
    for (int i = 0; i < p->n; i++) {
        if (p->t_ns[i] <= t0)
            last_p = p->p_w[i];
        if (p->t_ns[i] < t0 || p->t_ns[i] > t1)
            continue;
        if (inside)
            e += 0.5 * (prev_p + p->p_w[i]) * (double)(p->t_ns[i] - prev_t) * 1e-9;
        prev_t = p->t_ns[i];
        prev_p = p->p_w[i];
        inside++;
    }
    pthread_mutex_unlock(&p->lock);
    return inside >= 2 ? e : last_p * (double)(t1 - t0) * 1e-9;
}

double acc_truth_between(struct acc_sim *s, int64_t t0, int64_t t1)
{
    double e0 = 0, e1 = 0;
    s->truth(s->dev, (long long)t0, &e0);
    s->truth(s->dev, (long long)t1, &e1);
    return e1 - e0;
}

void acc_add(struct acc_stats *s, double measured, double truth, double unc)
{
    double rel = truth > 0 ? fabs(measured - truth) / truth : 0.0;
    s->n++;
    s->sum_abs += rel;
    s->worst = rel > s->worst ? rel : s->worst;
    s->covered += fabs(measured - truth) <= unc;
}

void acc_print_cell(const struct acc_stats *s)
{
    if (s->n)
        printf(" %6.2f / %6.2f", 100 * s->sum_abs / s->n, 100 * s->worst);
    else
        printf(" %15s", "n/a");
}

void acc_merge(struct acc_stats *into, const struct acc_stats *s)
{
    into->n += s->n;
    into->sum_abs += s->sum_abs;
    into->covered += s->covered;
    into->worst = s->worst > into->worst ? s->worst : into->worst;
}

double acc_mean_pct(const struct acc_stats *s)
{
    return s->n ? 100 * s->sum_abs / s->n : 0.0;
}

static double rel_err(double measured, double truth)
{
    return truth > 0 ? fabs(measured - truth) / truth : 0.0;
}

void acc_tally(struct acc_goals *g, struct acc_stats st[ACC_METHODS], double window_s, double naive,
               double counter, double truth, const joules_domain_energy *joules,
               const joules_domain_energy *settled)
{
    const joules_domain_energy *a = joules, *b = settled;
    acc_add(&st[ACC_NAIVE], naive, truth, 0);
    acc_add(&st[ACC_COUNTER], counter, truth, 0);
    acc_add(&st[ACC_JOULES], a->energy_j, a->sim_truth_j, a->uncertainty_j);
    acc_add(&st[ACC_SETTLED], b->energy_j, b->sim_truth_j, b->uncertainty_j);
    if (window_s >= 1.0) {
        acc_add(&g->long_joules, a->energy_j, a->sim_truth_j, a->uncertainty_j);
        acc_add(&g->long_settled, b->energy_j, b->sim_truth_j, b->uncertainty_j);
        g->long_within[ACC_COUNTER] += rel_err(counter, truth) <= 0.005;
        g->long_within[ACC_JOULES] += rel_err(a->energy_j, a->sim_truth_j) <= 0.005;
        g->long_within[ACC_SETTLED] += rel_err(b->energy_j, b->sim_truth_j) <= 0.005;
    }
    if (window_s >= 0.05 && window_s <= 0.5 && rel_err(naive, truth) >= 0.10) {
        g->mid_hard++;
        g->mid_hard_within[ACC_COUNTER] += rel_err(counter, truth) <= 0.05;
        g->mid_hard_within[ACC_JOULES] += rel_err(a->energy_j, a->sim_truth_j) <= 0.05;
        g->mid_hard_within[ACC_SETTLED] += rel_err(b->energy_j, b->sim_truth_j) <= 0.05;
    }
}

int acc_show_floor;

/* Over the goal, or beyond the sensors' floor too (the floor's mean above the goal). */
static const char *judge(double settled, double floor_mean, double goal, int *total, int *met,
                         int *beyond, int *reach_met)
{
    (*total)++;
    int over = settled > goal;
    *met += !over;
    if (floor_mean > goal) {
        (*beyond)++;
        return over ? "  over goal; floor above the goal" : "  met; floor above the goal";
    }
    *reach_met += !over;
    return over ? "  over goal" : "";
}

void acc_print_row(struct acc_goals *g, const char *load, double window_s,
                   const struct acc_stats st[ACC_METHODS], const struct acc_stats *floor)
{
    printf("%-22s %6gs ", load, window_s);
    for (int k = 0; k < ACC_METHODS; k++) {
        acc_print_cell(&st[k]);
        acc_merge(&g->all[k], &st[k]);
    }
    double floor_mean = floor && floor->n ? floor->sum_abs / floor->n : 0.0;
    if (acc_show_floor) {
        if (floor && floor->n)
            printf(" %6.2f", 100 * floor_mean);
        else
            printf(" %6s", "n/a");
    }
    /* The goals per cell, on the settled method's mean (the CLI's default). */
    double settled = st[ACC_SETTLED].n ? st[ACC_SETTLED].sum_abs / st[ACC_SETTLED].n : 0.0;
    double naive = st[ACC_NAIVE].n ? st[ACC_NAIVE].sum_abs / st[ACC_NAIVE].n : 0.0;
    const char *verdict = "";
    if (window_s >= 1.0)
        verdict = judge(settled, floor_mean, 0.005, &g->cells_long, &g->cells_long_met,
                        &g->cells_long_floor, &g->cells_long_reach_met);
    else if (window_s >= 0.05 && window_s <= 0.5 && naive >= 0.10)
        verdict = judge(settled, floor_mean, 0.05, &g->cells_mid, &g->cells_mid_met,
                        &g->cells_mid_floor, &g->cells_mid_reach_met);
    printf("  %3d/%-3d %3d/%-3d%s\n", st[ACC_JOULES].covered, st[ACC_JOULES].n,
           st[ACC_SETTLED].covered, st[ACC_SETTLED].n, verdict);
    fflush(stdout);
}

void acc_print_header(void)
{
    printf("%-22s %7s  %15s %15s %15s %15s", "load", "window", "naive", "counter", "joules",
           "settled");
    if (acc_show_floor)
        printf(" %6s", "floor");
    printf("  %7s %7s\n", "cover", "cover-s");
}

static double pct(int a, int b)
{
    return b ? 100.0 * a / b : 0.0;
}

static double mean_pct(const struct acc_stats *s)
{
    return s->n ? 100 * s->sum_abs / s->n : 0.0;
}

void acc_print_goals(const struct acc_goals *g)
{
    const struct acc_stats *a = g->all;
    if (!a[ACC_NAIVE].n)
        return;
    printf("\nAll windows: mean |error| naive %.2f %%, counter %.2f %%, joules %.2f %%, settled "
           "%.2f %%\n",
           mean_pct(&a[ACC_NAIVE]), mean_pct(&a[ACC_COUNTER]), mean_pct(&a[ACC_JOULES]),
           mean_pct(&a[ACC_SETTLED]));
    printf("interval covered the truth: joules %d/%d (%.1f %%), settled %d/%d (%.1f %%)\n",
           a[ACC_JOULES].covered, a[ACC_JOULES].n, pct(a[ACC_JOULES].covered, a[ACC_JOULES].n),
           a[ACC_SETTLED].covered, a[ACC_SETTLED].n, pct(a[ACC_SETTLED].covered, a[ACC_SETTLED].n));
    if (g->long_settled.n)
        printf(
            "windows >= 1 s: %d; within 0.5 %%: counter %d, joules %d, settled %d; worst |error| "
            "joules %.3f %%, settled %.3f %%\n",
            g->long_settled.n, g->long_within[ACC_COUNTER], g->long_within[ACC_JOULES],
            g->long_within[ACC_SETTLED], 100 * g->long_joules.worst, 100 * g->long_settled.worst);
    if (g->mid_hard)
        printf("windows of 50-500 ms where naive is off by >= 10 %%: %d; within 5 %%: counter "
               "%d, joules %d, settled %d\n",
               g->mid_hard, g->mid_hard_within[ACC_COUNTER], g->mid_hard_within[ACC_JOULES],
               g->mid_hard_within[ACC_SETTLED]);
    printf("cells on the settled mean: >= 1 s within 0.5 %%: %d of %d; 50-500 ms where naive's "
           "mean is >= 10 %% off, within 5 %%: %d of %d (the others: \"over goal\")\n",
           g->cells_long_met, g->cells_long, g->cells_mid_met, g->cells_mid);
    if (acc_show_floor)
        printf("cells within the sensors' reach (floor's mean under the goal): >= 1 s: %d of %d "
               "met; 50-500 ms: %d of %d met. Cells whose floor is above the goal: %d and %d\n",
               g->cells_long_reach_met, g->cells_long - g->cells_long_floor, g->cells_mid_reach_met,
               g->cells_mid - g->cells_mid_floor, g->cells_long_floor, g->cells_mid_floor);
}

int acc_run_matrix(int n_profiles, const char *only_profile, const char *only_load,
                   acc_cell_fn cell, void *ctx)
{
    static struct acc_goals g;
    memset(&g, 0, sizeof g);
    int cells = 0;
    for (int pi = 0; pi < n_profiles && pi < acc_n_profiles; pi++) {
        if (only_profile && strcmp(only_profile, acc_profiles[pi]))
            continue;
        printf("\n== %s (sensor: %s)\n", acc_profiles[pi], acc_sensor_names[pi]);
        acc_print_header();
        for (int li = 0; li < acc_n_loads; li++)
            if (!only_load || strstr(acc_loads[li].name, only_load)) {
                cell(&acc_loads[li], acc_profiles[pi], ctx, &g);
                cells++;
            }
    }
    if (!cells) {
        fprintf(stderr, "no cell matches: profiles are a100-sxm4-80gb, h100-sxm5, a6000; loads: "
                        "steady, square 1 s, square 400 ms, square 100 ms, bursts\n");
        return -1;
    }
    acc_print_goals(&g);
    return 0;
}
