/* SPDX-License-Identifier: MIT */
/*
 * test_start_virtual.c - intervals that cover the truth where windows begin or end with a
 * change the counter alone cannot place, in virtual time (vsim.h), against the simulator's
 * true energy:
 *   - windows begun in the first 100 ms of a simulated GPU's life, before its counter has
 *     stepped, on a steady load and at rest, at three phases of the counter's clock;
 *   - windows that begin with their work and end with it, as the talk's A/B experiment
 *     does: back-to-back kernels from rest, the GPU idle between windows, each end collected
 *     after the counter's next step (the settled figure). The end edge's interval then holds
 *     the fall and nothing after it says to what level: the interval takes that in.
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
    double sum_rel;
};

static void count(struct tally *t, const joules_domain_energy *de)
{
    double err = de->energy_j - de->sim_truth_j;
    t->n++;
    t->covered += fabs(err) <= de->uncertainty_j;
    t->sum_rel += fabs(err) / de->sim_truth_j;
    if (fabs(err) > de->uncertainty_j)
        printf("   missed: %.3f J vs %.3f J true (%+.3f %%), +/- %.3f J\n", de->energy_j,
               de->sim_truth_j, 100 * err / de->sim_truth_j, de->uncertainty_j);
}

/* End the window deferred, let the counter step, collect: the settled figure. */
static joules_measurement *end_settled(void)
{
    uint64_t ticket;
    joules_measurement *r = t_result(vs.m);
    CHECK_EQ_INT(joules_window_end_deferred(vs.m, "w", &ticket), 0);
    vsim_run_until(&vs, vsim_now_ns() + 150 * MS);
    CHECK_EQ_INT(joules_window_collect(vs.m, ticket, 0, r), 0);
    CHECK(r->domains[0].valid && r->domains[0].sim_truth_j > 0);
    return r;
}

static void test_early_in_life(void)
{
    static const char *loads[] = {"phase 10s util=1 alpha=0.7", "idle 10s"};
    struct tally t = {0};
    for (int l = 0; l < 2; l++)
        for (int phase = 0; phase < 100; phase += 37)
            for (int begin_ms = 0; begin_ms < 110; begin_ms += 11) {
                char text[256];
                snprintf(text, sizeof text, "profile a6000\ndevices 1\nsensor phase=%dms\n%s\n",
                         phase, loads[l]);
                vsim_open(&vs, text, begin_ms * 1e-3);
                CHECK_EQ_INT(joules_window_begin(vs.m, "w"), 0);
                vsim_run_until(&vs, vsim_now_ns() + 500 * MS);
                joules_measurement *r = end_settled();
                count(&t, &r->domains[0]);
                joules_measurement_free(r);
                vsim_close(&vs);
            }
    printf("   %d windows of 0.5 s begun 0-110 ms into the GPU's life: mean error %.3f %%, "
           "covered %d\n",
           t.n, 100 * t.sum_rel / t.n, t.covered);
    CHECKF(t.covered >= t.n * 95 / 100, "covered %d of %d", t.covered, t.n);
    CHECKF(t.sum_rel / t.n < 0.015, "mean error %.3f %%", 100 * t.sum_rel / t.n);
}

/* The talk's experiment: warm-up kernels, then windows of back-to-back kernels begun from
 * rest, the GPU idle between them for a while. */
static void windows_around_work(const char *profile, struct tally *t)
{
    char text[256];
    snprintf(text, sizeof text, "profile %s\ndevices 1\nidle 1000s context=1\n", profile);
    vsim_open(&vs, text, 0.3);
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(vsim_kernel(&vs, 2e12, 0.9), 0);
    for (int rep = 0; rep < 12; rep++) {
        vsim_run_until(&vs, vsim_now_ns() + (20 + 37 * rep % 130) * MS);
        CHECK_EQ_INT(joules_window_begin(vs.m, "w"), 0);
        for (int i = 0; i < 20; i++)
            CHECK_EQ_INT(vsim_kernel(&vs, 2e12, rep % 2 ? 0.5 : 0.9), 0);
        joules_measurement *r = end_settled();
        count(t, &r->domains[0]);
        joules_measurement_free(r);
    }
    vsim_close(&vs);
}

static void test_windows_around_work(void)
{
    struct tally t = {0};
    windows_around_work("a6000", &t);
    windows_around_work("a100", &t);
    windows_around_work("h100", &t);
    printf("   %d windows of 20 kernels from rest: mean error %.3f %%, covered %d\n", t.n,
           100 * t.sum_rel / t.n, t.covered);
    CHECKF(t.covered >= t.n * 95 / 100, "covered %d of %d", t.covered, t.n);
}

int main(void)
{
    vsim_load(&vs);
    RUN(test_early_in_life);
    RUN(test_windows_around_work);
    return t_end();
}
