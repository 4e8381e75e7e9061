/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the core's statistics (stats.c): the spread of `joules_repeat`'s groups and the
 * median its warm runs are timed by, on top of src/util (the other layers call util_
 * directly). Internal to the core: no monitor state.
 */
#ifndef JOULES_CORE_STATS_H
#define JOULES_CORE_STATS_H

/* Two-sided 95 % quantile of Student's t with df degrees of freedom (NAN when df < 1). */
double joules__t975(int df);
/* The 95 % half-width of the mean of x[0..n): t(n - 1) * s / sqrt(n); 0 when n < 2. */
double joules__mean_halfwidth95(const double *x, int n);

/* Sort x[0..n) in place, ascending. */
void joules__sort(double *x, int n);
/* The median of x[0..n), which it sorts in place (NAN when n < 1). */
double joules__median(double *x, int n);

#endif
