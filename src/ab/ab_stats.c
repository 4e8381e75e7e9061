/* SPDX-License-Identifier: MIT */
/*
 * ab_stats.c - medians and their distribution-free confidence intervals (order statistics
 * of the binomial(n, 1/2) law). Chosen over a bootstrap because it needs no random draws,
 * makes no assumption on the shape of the distribution, and says exactly what coverage a
 * handful of repeats can give (docs/ab.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ab/ab.h"
#include "util/util.h"

/* Finite values of x, sorted, into a new array; *m their count. NULL if none or no memory. */
static double *sorted_finite(const double *x, int n, int *m)
{
    *m = 0;
    if (n <= 0)
        return NULL;
    double *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]))
            s[(*m)++] = x[i];
    if (*m == 0) {
        free(s);
        return NULL;
    }
    util_sort(s, *m);
    return s;
}

double ab_median(const double *x, int n)
{
    int m;
    double *s = sorted_finite(x, n, &m);
    if (!s)
        return NAN;
    double v = util_median_sorted(s, m);
    free(s);
    return v;
}

double ab_order_coverage(int n, int k)
{
    /* P(k <= B <= n-k) for B ~ Bin(n, 1/2), k >= 1: the median lies in [x(k), x(n+1-k)]. */
    if (n <= 0 || k < 1 || 2 * k > n + 1)
        return 0.0;
    double tail = 0, logc = 0; /* log C(n, j) */
    for (int j = 0; j < k; j++) {
        if (j > 0)
            logc += log((double)(n - j + 1)) - log((double)j);
        tail += exp(logc - n * log(2.0));
    }
    double c = 1.0 - 2.0 * tail;
    return c < 0 ? 0 : c;
}

struct ab_interval ab_median_ci(const double *x, int n, double level)
{
    struct ab_interval r = {NAN, NAN, NAN, 0, 0};
    int m;
    double *s = sorted_finite(x, n, &m);
    if (!s)
        return r;
    r.n = m;
    r.median = util_median_sorted(s, m);
    int best = 1;
    for (int k = 1; 2 * k <= m + 1; k++) {
        if (ab_order_coverage(m, k) >= level)
            best = k;
        else
            break;
    }
    r.lo = s[best - 1];
    r.hi = s[m - best];
    r.coverage = ab_order_coverage(m, best);
    free(s);
    return r;
}
