/* SPDX-License-Identifier: MIT */
/*
 * stats.c - how far the mean of a few repeated estimates may be from what they estimate
 * (stats.h). joules_repeat bounds its error per repetition with it, from the energies of its
 * phase-shifted groups.
 */
#include "core/stats.h"

#include "util/util.h"

#include <math.h>

double joules__t975(int df)
{
    return util_t975(df);
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

void joules__sort(double *x, int n)
{
    util_sort(x, n);
}

double joules__median(double *x, int n)
{
    return util_median(x, n);
}
