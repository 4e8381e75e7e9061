/* SPDX-License-Identifier: MIT */
/*
 * testlib.h - the small harness every C test uses: checks that count and report, a
 * closing "N passed, N failed" line; the helpers it shares with the benchmarks are in
 * support/support.h.
 */
#ifndef JOULES_TESTLIB_H
#define JOULES_TESTLIB_H

#include <stddef.h>

#include "support.h"

extern int t_passed;
extern int t_failed;
extern int t_skipped;

void t_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define CHECK(cond)       t_check(!!(cond), __FILE__, __LINE__, #cond, NULL)
#define CHECKF(cond, ...) t_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                                    \
        t_check(t_a_ == t_b_, __FILE__, __LINE__, #a " == " #b, "%lld != %lld", t_a_, t_b_);       \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double t_a_ = (double)(a), t_b_ = (double)(b), t_t_ = (double)(tol);                       \
        t_check(t_a_ - t_b_ <= t_t_ && t_b_ - t_a_ <= t_t_, __FILE__, __LINE__, #a " ~ " #b,       \
                "%.9g vs %.9g (tol %.3g)", t_a_, t_b_, t_t_);                                      \
    } while (0)

/* Run a named test case function, printing its name. */
#define RUN(fn)                                                                                    \
    do {                                                                                           \
        t_begin(#fn);                                                                              \
        fn();                                                                                      \
    } while (0)

void t_begin(const char *name);
/* Marks the current case as not run here, with why (printed as "SKIP case: why"); the
 * case returns right after. */
void t_skip(const char *why);
/* Prints the closing line and returns the process exit status: 1 when a check failed,
 * T_SKIP_EXIT when none failed but a case was skipped (CTest's SKIP_RETURN_CODE, so the
 * program shows as Skipped, never as Passed), 0 otherwise. */
#define T_SKIP_EXIT 77
int t_end(void);

#endif
