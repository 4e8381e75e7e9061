/* SPDX-License-Identifier: MIT */
/*
 * ab_analysis.c - what the A/B experiment's windows mean: medians with confidence intervals
 * per arm, the paired ratios of the first arm to the others (window by window within a
 * round), and one plain sentence on what they say. The formats are in ab_output.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"

double ab_run_value(const struct ab_run_rec *rec, int q)
{
    switch (q) {
    case AB_Q_ENERGY:
        return rec->energy_valid ? rec->energy_j : NAN;
    case AB_Q_TIME:
        return rec->time_s;
    case AB_Q_POWER:
        return rec->energy_valid ? rec->power_w : NAN;
    case AB_Q_GFLOPS:
        return rec->gflops;
    default:
        return rec->energy_valid ? rec->gflop_per_j : NAN;
    }
}

void ab_summarize(const struct ab_result *r, double level, struct ab_summary *s)
{
    memset(s, 0, sizeof *s);
    int n = r->n_runs > 0 ? r->n_runs : 1;
    double *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return;
    for (int k = 0; k < r->n_arms; k++)
        for (int q = 0; q < AB_Q_COUNT; q++) {
            int m = 0;
            for (int i = 0; i < r->n_runs; i++)
                if (r->runs[i].slot == k)
                    v[m++] = ab_run_value(&r->runs[i], q);
            s->arm[k][q] = ab_median_ci(v, m, level);
            if (k == 0)
                continue;
            /* Paired ratios: the windows of arm 0 and arm k of the same round, adjacent in
             * time, so drift cancels in each ratio. */
            m = 0;
            for (int i = 0; i < r->n_runs; i++) {
                if (r->runs[i].slot != 0)
                    continue;
                for (int j = 0; j < r->n_runs; j++)
                    if (r->runs[j].slot == k && r->runs[j].round == r->runs[i].round) {
                        double a = ab_run_value(&r->runs[i], q), b = ab_run_value(&r->runs[j], q);
                        v[m++] = b != 0 ? a / b : NAN;
                    }
            }
            s->ratio[k][q] = ab_median_ci(v, m, level);
        }
    free(v);
}

static int contains_one(const struct ab_interval *iv, double slack)
{
    return iv->lo <= 1.0 + slack && iv->hi >= 1.0 - slack;
}

unsigned long long ab_arm_reasons(const struct ab_result *r, int k)
{
    unsigned long long x = 0;
    for (int i = 0; i < r->n_runs; i++)
        if (r->runs[i].slot == k)
            x |= r->runs[i].reasons;
    return x;
}

void ab_conclusion(const struct ab_output *rep, int k, char *buf, size_t len)
{
    const struct ab_result *r = rep->r;
    const struct ab_interval *tr = &rep->s.ratio[k][AB_Q_TIME], *er = &rep->s.ratio[k][AB_Q_ENERGY];
    const char *a = ab_arm_name(r->arms[0]), *b = ab_arm_name(r->arms[k]);
    size_t u = 0;
#define SAY(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(buf + u, len > u ? len - u : 0, __VA_ARGS__);                            \
        if (w_ > 0)                                                                                \
            u += (size_t)w_;                                                                       \
    } while (0)
    buf[0] = '\0';
    if (tr->n == 0) {
        SAY("%s vs %s: no complete pair of windows was measured", a, b);
        return;
    }
    int same_time = contains_one(tr, 0.0) || fabs(tr->median - 1.0) < 0.02;
    SAY("%s vs %s: ", a, b);
    if (same_time)
        SAY("same time (ratio %.2f [%.2f, %.2f])", tr->median, tr->lo, tr->hi);
    else
        SAY("%s took %.0f %% %s (time ratio %.2f [%.2f, %.2f])", a, fabs(tr->median - 1) * 100,
            tr->median > 1 ? "longer" : "less time", tr->median, tr->lo, tr->hi);
    if (!r->energy_available || er->n == 0) {
        SAY("; energy not measured (%s)", r->energy_why[0] ? r->energy_why : "no energy sensor");
        return;
    }
    if (contains_one(er, 0.0)) {
        SAY(", the same energy within the interval (ratio %.2f [%.2f, %.2f])", er->median, er->lo,
            er->hi);
        return;
    }
    SAY(", %.0f %% %s energy on %s inputs (ratio %.2f [%.2f, %.2f])", fabs(er->median - 1) * 100,
        er->median > 1 ? "more" : "less", a, er->median, er->lo, er->hi);
    const char *more = er->median > 1 ? a : b;
    unsigned long long rs = ab_arm_reasons(r, er->median > 1 ? 0 : k);
    if (same_time)
        SAY(": same work, same clock, same time; the %s values switched more transistors "
            "(data-dependent dynamic power, the alpha of P = alpha C V^2 f)",
            more);
    else if (rs & 0x4ull)
        SAY(": at the power limit the GPU lowered its clock for the %s inputs, which switch "
            "more transistors (SW power cap): the data changed the speed too",
            more);
}
