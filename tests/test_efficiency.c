/* SPDX-License-Identifier: MIT */
/*
 * test_efficiency.c - joules_efficiency: GFLOP per joule of a window and its +/- against
 * hand-computed values (two simulated GPUs, one of them unmeasured), the refusals (a count
 * that is negative or not a number, a result with no valid energy, one that is not the
 * monitor's), and a real window whose figure is its own flops / energy.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "joules.h"
#include "testlib.h"

static joules_monitor *open_two_gpus(void)
{
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    setenv("JOULES_SIM_DEVICES", "2", 1);
    char err[256] = "";
    joules_monitor *m = t_open_sim_gpu(0, err, sizeof err);
    CHECKF(m != NULL, "joules_open: %s", err);
    if (m)
        CHECK_EQ_INT(joules_domain_count(m), 2);
    return m;
}

static void set_domain(joules_domain_energy *de, int index, int valid, double e_j, double pm_j)
{
    memset(de, 0, sizeof *de);
    de->domain = index;
    de->valid = valid;
    de->error = valid ? 0 : JOULES_E_DEVICE_LOST;
    de->method = JOULES_METHOD_COUNTER;
    de->energy_j = e_j;
    de->uncertainty_j = pm_j;
}

static void test_hand_computed(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_domain_energy dom[2];
    joules_measurement r;
    CHECK_EQ_INT(joules_measurement_init(&r, dom, 2), 0);
    r.n_domains = 2;
    set_domain(&dom[0], 0, 1, 100.0, 3.0);
    set_domain(&dom[1], 1, 1, 50.0, 4.0);
    joules_efficiency_result e;
    /* 3e12 FLOP over 150 J +/- 5 J (3 and 4 in quadrature): 20 GFLOP/J +/- 20 * 5 / 150. */
    CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
    CHECK_NEAR(e.energy_j, 150.0, 1e-12);
    CHECK_NEAR(e.uncertainty_j, 5.0, 1e-12);
    CHECK_EQ_INT(e.n_domains, 2);
    CHECK_EQ_INT(e.n_gpus, 2);
    CHECK_NEAR(e.gflop_per_j, 20.0, 1e-12);
    CHECK_NEAR(e.gflop_per_j_pm, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j, 20.0, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j_pm, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(e.flops, 3e12, 0);

    /* The second GPU lost: 3e12 over 100 J +/- 3 J is 30 GFLOP/J +/- 0.9. */
    set_domain(&dom[1], 1, 0, 50.0, 4.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 3e12, &e), 0);
    CHECK_EQ_INT(e.n_domains, 1);
    CHECK_EQ_INT(e.n_gpus, 1);
    CHECK_NEAR(e.gflop_per_j, 30.0, 1e-12);
    CHECK_NEAR(e.gflop_per_j_pm, 0.9, 1e-12);
    CHECK_NEAR(e.gpu_gflop_per_j, 30.0, 1e-12);

    /* No work is 0 GFLOP/J, exactly. */
    CHECK_EQ_INT(joules_efficiency(m, &r, 0.0, &e), 0);
    CHECK(e.gflop_per_j == 0.0 && e.gflop_per_j_pm == 0.0);
    joules_close(m);
}

static void test_refusals(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_domain_energy dom[2];
    joules_measurement r;
    CHECK_EQ_INT(joules_measurement_init(&r, dom, 2), 0);
    snprintf(r.name, sizeof r.name, "w");
    r.n_domains = 2;
    set_domain(&dom[0], 0, 1, 10.0, 1.0);
    set_domain(&dom[1], 1, 1, 10.0, 1.0);
    joules_efficiency_result e;
    const double bad[] = {-1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(joules_efficiency(m, &r, bad[i], &e) == JOULES_E_INVALID, "flops %g", bad[i]);
        CHECKF(strstr(joules_last_error(m), "FLOP count") != NULL, "%s", joules_last_error(m));
        CHECK(isnan(e.gflop_per_j) && isnan(e.gpu_gflop_per_j));
    }
    CHECK_EQ_INT(joules_efficiency(m, NULL, 1e9, &e), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, NULL), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_efficiency(NULL, &r, 1e9, &e), JOULES_E_INVALID);

    /* More domains than the monitor has: not its result. */
    r.n_domains = 3;
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_INVALID);
    r.n_domains = 2;

    /* Nothing valid: no energy to divide by. */
    set_domain(&dom[0], 0, 0, 10.0, 1.0);
    set_domain(&dom[1], 1, 0, 10.0, 1.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_NO_DOMAIN);
    CHECKF(strstr(joules_last_error(m), "no valid energy") != NULL, "%s", joules_last_error(m));
    CHECK(isnan(e.gflop_per_j) && e.n_domains == 0);
    /* Valid but 0 J: refused the same way. */
    set_domain(&dom[0], 0, 1, 0.0, 0.0);
    CHECK_EQ_INT(joules_efficiency(m, &r, 1e9, &e), JOULES_E_NO_DOMAIN);
    joules_close(m);
}

static void test_real_window(void)
{
    joules_monitor *m = open_two_gpus();
    if (!m)
        return;
    joules_measurement *r = t_result(m);
    CHECK_EQ_INT(joules_window_begin(m, "w"), 0);
    t_sleep(0.3);
    CHECK_EQ_INT(joules_window_end(m, "w", r), 0);
    joules_efficiency_result e;
    const double flops = 5e12;
    CHECKF(joules_efficiency(m, r, flops, &e) == 0, "%s", joules_last_error(m));
    CHECK_NEAR(e.energy_j, r->total_energy_j, 1e-9 * r->total_energy_j);
    CHECK_NEAR(e.uncertainty_j, r->total_uncertainty_j, 1e-9 * r->total_energy_j);
    CHECK_NEAR(e.gflop_per_j, flops / 1e9 / r->total_energy_j, 1e-9 * e.gflop_per_j);
    CHECK_NEAR(e.gflop_per_j_pm, e.gflop_per_j * r->total_uncertainty_j / r->total_energy_j,
               1e-9 * e.gflop_per_j);
    joules_measurement_free(r);
    joules_close(m);
}

int main(void)
{
    RUN(test_hand_computed);
    RUN(test_refusals);
    RUN(test_real_window);
    return t_end();
}
