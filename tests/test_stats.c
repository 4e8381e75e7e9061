/* SPDX-License-Identifier: MIT */
/*
 * test_stats.c - the shared statistics (core/stats.c): Student's quantiles against the
 * published table, and the 95 % half-width joules_repeat takes from its groups' energies, on
 * known data and at the edges (one group, equal groups, large values close together).
 */
#include <math.h>

#include "core/stats.h"
#include "testlib.h"

static void test_quantiles(void)
{
    /* Two-sided 95 % quantiles of Student's t (any statistics table). */
    static const struct {
        int df;
        double t;
    } table[] = {{1, 12.706}, {2, 4.303},  {3, 3.182}, {5, 2.571},
                 {10, 2.228}, {30, 2.042}, {63, 1.998}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        double t = joules__t975(table[i].df);
        CHECKF(fabs(t - table[i].t) <= 0.0015, "df %d: %.4f, table %.3f", table[i].df, t,
               table[i].t);
        CHECKF(t >= 1.95996, "df %d: below the normal quantile", table[i].df);
    }
    CHECK(isnan(joules__t975(0)));
    CHECK_NEAR(joules__t975(8), 2.306, 1e-3);
    CHECK_NEAR(joules__t975(60), 2.000, 0.002); /* table value 2.000 */
    CHECK_NEAR(joules__t975(1000), 1.962, 0.002);
    CHECK(joules__t975(40) < joules__t975(30) && joules__t975(40) > 1.96);
}

static void test_half_width(void)
{
    /* {1, 2, 3, 4}: mean 2.5, s = 1.2910, s / sqrt(4) = 0.6455, times t(3). */
    const double x[] = {1, 2, 3, 4};
    double expect = joules__t975(3) * sqrt(5.0 / 3.0) / 2.0;
    CHECKF(fabs(joules__mean_halfwidth95(x, 4) - expect) < 1e-12, "%.6f",
           joules__mean_halfwidth95(x, 4));
    CHECK(fabs(expect - 2.0540) < 0.0005); /* 3.182 x 0.6455 */
    /* Far from zero, close together: no cancellation. */
    const double y[] = {1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4};
    CHECKF(fabs(joules__mean_halfwidth95(y, 4) - expect) < 1e-6, "%.9f",
           joules__mean_halfwidth95(y, 4));
    const double same[] = {7.5, 7.5, 7.5};
    CHECK(joules__mean_halfwidth95(same, 3) == 0.0);
    CHECK(joules__mean_halfwidth95(x, 1) == 0.0);
    CHECK(joules__mean_halfwidth95(x, 0) == 0.0);
    /* Two groups: the whole of t(1) on s / sqrt(2). */
    const double two[] = {10, 12};
    CHECK(fabs(joules__mean_halfwidth95(two, 2) - 12.706) < 1e-9);
}

static void test_median(void)
{
    double odd[] = {3.0, 1.0, 2.0};
    CHECK(joules__median(odd, 3) == 2.0);
    CHECK(odd[0] == 1.0 && odd[2] == 3.0); /* sorted in place */
    double even[] = {4.0, 1.0, 3.0, 2.0};
    CHECK(joules__median(even, 4) == 2.5);
    double one[] = {7.0};
    CHECK(joules__median(one, 1) == 7.0);
    CHECK(isnan(joules__median(one, 0)));
    /* one stalled run of five moves it not at all */
    double runs[] = {1.0e-3, 1.0e-3, 7.0e-3, 1.1e-3, 0.9e-3};
    CHECK(joules__median(runs, 5) == 1.0e-3);
}

int main(void)
{
    RUN(test_quantiles);
    RUN(test_half_width);
    RUN(test_median);
    return t_end();
}
