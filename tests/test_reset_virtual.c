/* SPDX-License-Identifier: MIT */
/*
 * test_reset_virtual.c - an energy-counter reset (a driver reload: the counter restarts from
 * zero, `fault reset` in a scenario) inside a window, in virtual time (vsim.h), against the
 * simulator's true energy. The energy between the last update before the reset and the reset
 * itself is in no counter value: the tracker places the reset between two of its reads and
 * recovers that part from the readings, and the window's interval takes in what the recovery
 * may miss. The reset is put at 20 phases of the counter's period, on a steady load and on
 * the 1 s square wave (the reset inside the on half).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "vsim.h"

#define MS 1000000LL

static struct vsim vs;

struct tally {
    int n, covered;
    double sum_rel, worst_rel, sum_u_rel;
};

/* One window from 1.5 s to 3.0 s of scenario time, the counter reset at reset_s. */
static void one_window(const char *profile, const char *load, double reset_s, struct tally *t)
{
    char text[512];
    snprintf(text, sizeof text, "profile %s\ndevices 1\n%s\nfault reset at=%.4fs\n", profile, load,
             reset_s);
    vsim_open(&vs, text, 1.5);
    uint64_t ticket;
    CHECK_EQ_INT(joules_window_begin(vs.m, "w"), 0);
    vsim_run_until(&vs, vs.start_ns + 3000 * MS);
    CHECK_EQ_INT(joules_window_end_deferred(vs.m, "w", &ticket), 0);
    vsim_run_until(&vs, vsim_now_ns() + 250 * MS);
    joules_measurement *r = t_result(vs.m);
    CHECK_EQ_INT(joules_window_collect(vs.m, ticket, 0, r), 0);
    const joules_domain_energy *de = &r->domains[0];
    CHECK(de->valid && de->sim_truth_j > 0);
    double err = de->energy_j - de->sim_truth_j;
    double rel = fabs(err) / de->sim_truth_j;
    t->n++;
    t->covered += fabs(err) <= de->uncertainty_j;
    t->sum_rel += rel;
    t->worst_rel = fmax(t->worst_rel, rel);
    t->sum_u_rel += de->uncertainty_j / de->sim_truth_j;
    if (fabs(err) > de->uncertainty_j)
        printf("   %s reset at %.4f s: %.3f J vs %.3f J true (%+.3f %%), +/- %.3f J\n", profile,
               reset_s, de->energy_j, de->sim_truth_j, 100 * err / de->sim_truth_j,
               de->uncertainty_j);
    joules_measurement_free(r);
    vsim_close(&vs);
}

static void check_load(const char *profile, const char *load, const char *what, double max_u)
{
    struct tally t = {0};
    for (int i = 0; i < 20; i++)
        one_window(profile, load, 2.2 + i * 0.0051, &t);
    printf("   %s, %s: %d windows across a reset, mean error %.3f %%, worst %.3f %%, "
           "covered %d, mean +/- %.3f %%\n",
           profile, what, t.n, 100 * t.sum_rel / t.n, 100 * t.worst_rel, t.covered,
           100 * t.sum_u_rel / t.n);
    CHECKF(t.covered >= t.n * 95 / 100, "covered %d of %d", t.covered, t.n);
    /* Recovered, not merely covered: a lost update would leave the windows 0-7 % low. */
    CHECKF(t.sum_rel / t.n < 0.005, "mean error %.3f %%", 100 * t.sum_rel / t.n);
    /* Widened by what the recovery may miss: little on a steady load; on a load that changes
     * often, by a change that the readings cannot rule out since the last step. */
    CHECKF(t.sum_u_rel / t.n < max_u, "mean +/- %.3f %%", 100 * t.sum_u_rel / t.n);
}

static void test_steady_load(void)
{
    check_load("a100-sxm4-80gb", "phase 10s util=1 alpha=0.7", "steady load", 0.01);
    check_load("a6000", "phase 10s util=1 alpha=0.7", "steady load", 0.01);
}

static void test_square_wave(void)
{
    check_load("a100-sxm4-80gb", "phase 0.5s util=1 alpha=0.7\nidle 0.5s context=1\nrepeat forever",
               "1 s square", 0.15);
    check_load("h100", "phase 0.5s util=1 alpha=0.7\nidle 0.5s context=1\nrepeat forever",
               "1 s square", 0.15);
}

int main(void)
{
    vsim_load(&vs);
    RUN(test_steady_load);
    RUN(test_square_wave);
    return t_end();
}
