/* SPDX-License-Identifier: MIT */
/*
 * util.c - the monotonic clock, the median and Student's quantile (util.h).
 */
#include "util/util.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

int64_t util_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int util_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void util_sort(double *x, int n)
{
    if (n > 1)
        qsort(x, (size_t)n, sizeof x[0], util_cmp_double);
}

double util_median_sorted(const double *x, int n)
{
    if (n < 1)
        return NAN;
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

double util_median(double *x, int n)
{
    util_sort(x, n);
    return util_median_sorted(x, n);
}

double util_t975(int df)
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
