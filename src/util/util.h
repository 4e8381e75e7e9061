/* SPDX-License-Identifier: MIT */
/*
 * util.h - small helpers every layer may call (util.c): the monotonic clock, the median and
 * Student's quantile. They hold no state and know nothing of monitors, so the core, the
 * writers, the experiments and the command line share one copy instead of each keeping its
 * own. Internal: the `util_` prefix keeps them apart from the public `joules_` API.
 */
#ifndef JOULES_UTIL_H
#define JOULES_UTIL_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns: the clock of the executors, the samplers and the windows. */
int64_t util_now_ns(void);

/* Ascending order of doubles, for qsort. */
int util_cmp_double(const void *a, const void *b);
/* Sort x[0..n) in place, ascending. */
void util_sort(double *x, int n);
/* The median of x[0..n) already sorted ascending (NAN when n < 1). */
double util_median_sorted(const double *x, int n);
/* The median of x[0..n), which it sorts in place (NAN when n < 1). */
double util_median(double *x, int n);

/* Two-sided 95 % quantile of Student's t with df degrees of freedom (NAN when df < 1). */
double util_t975(int df);

#endif
