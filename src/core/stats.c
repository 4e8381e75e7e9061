/* SPDX-License-Identifier: MIT */
/*
 * stats.c - Student's quantile and how far the mean of a few repeated estimates may be from
 * what they estimate (stats.h). joules_repeat bounds its error per repetition with it, from
 * the energies of its phase-shifted groups; `joules sweep` gives its fits' intervals.
 */
#include "core/stats.h"

#include <math.h>
#include <stdlib.h>

double joules__t975(int df)
{
    /* df = 1..30 from the table; beyond, the normal quantile with a 1/df term. */
    static const double t[30] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (df < 1)
        return NAN;
    if (df <= 30)
        return t[df - 1];
    return 1.95996 + 2.4 / df;
}

double joules__mean_halfwidth95(const double *x, int n)
{
    if (n < 2)
        return 0.0;
    double mean = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return joules__t975(n - 1) * sqrt(ss / (n - 1) / n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void joules__sort(double *x, int n)
{
    if (n > 1)
        qsort(x, (size_t)n, sizeof x[0], cmp_double);
}

double joules__median(double *x, int n)
{
    if (n < 1)
        return NAN;
    joules__sort(x, n);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}
