/* SPDX-License-Identifier: MIT */
/*
 * test_ab_gap.c - `joules ab`'s windows on the simulated GPU when the host holds the thread
 * back after a window's products (here 2 ms, as a stalled 2-core machine does): the GPU
 * idles before the end edge, and each window's interval still covers the simulator's truth.
 * Left out of the intervals, the gap puts the windows outside them; an idle that leaves the
 * end's interval a few percent below the one before looks like a change of load and widens
 * the interval further (docs/accuracy.md, "What is not modelled", gives the figures).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ab/ab.h"
#include "testlib.h"

#define GAP_S 0.002

/* The gap after a window's products, the most of a run (lead-ins and trails are fewer). */
static int gap_run(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len)
{
    static int most;
    int rc = ab_exec_sim_ops.run(x, slot, reps, done, err, len);
    if (reps > 1 && reps >= most) {
        most = reps;
        struct timespec ts = {0, (long)(GAP_S * 1e9)};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static void test_gap_is_in_the_interval(void)
{
    setenv("JOULES_SIM_PROFILE", "a6000", 1);
    setenv("JOULES_SIM_DEVICES", "1", 1);
    setenv("JOULES_SIM_PRIVILEGED", "1", 1);
    unsetenv("JOULES_SIM_SCENARIO");
    char err[256] = "";
    joules_monitor *m = t_open_sim_gpu(1, err, sizeof err);
    CHECKF(m != NULL, "joules_open: %s", err);
    if (!m)
        return;
    struct ab_exec_ops ops = ab_exec_sim_ops;
    ops.run = gap_run;
    struct ab_params p;
    memset(&p, 0, sizeof p);
    p.ops = &ops;
    p.executor = AB_EXEC_SIM;
    p.setup.n = 2048;
    p.setup.prec = AB_FP32;
    p.setup.seed = 1;
    p.setup.m = m;
    p.setup.gpu_domain = 0;
    p.setup.sim_library = JOULES_TEST_SIM_LIB;
    p.arms[0] = AB_ARM_NORMAL;
    p.arms[1] = AB_ARM_ZEROS;
    p.n_arms = 2;
    p.repeats = 3;
    p.min_window_s = 0.3;
    p.level = 0.95;
    p.energy_kinds = JOULES_KIND_GPU;
    p.status_domain = 0;
    p.sample_period_s = 0.05;
    /* Locked low, as in the talk's experiment: the windows' intervals are narrowest there. */
    CHECK_EQ_INT(joules_gpu_lock_clocks(m, 0, 1000, 1000), 0);
    struct ab_result r;
    CHECKF(ab_run(&p, &r, err, sizeof err) == 0, "ab_run: %s", err);
    CHECK_EQ_INT(r.n_runs, 6);
    for (int i = 0; i < r.n_runs; i++) {
        const struct ab_run_rec *x = &r.runs[i];
        CHECK(x->energy_valid && x->sim_truth_j > 0);
        double off = fabs(x->energy_j - x->sim_truth_j);
        printf("   window %d: %.3f J +/- %.3f (%.2f %%), truth %.3f J, host gap %.2f ms: %.2f "
               "times the interval\n",
               i, x->energy_j, x->uncertainty_j, 100 * x->uncertainty_j / x->energy_j,
               x->sim_truth_j, 1e3 * x->host_gap_s, off / x->uncertainty_j);
        /* the injected gap, less up to the simulator's 1 ms step (1.968 ms once under ASan) */
        CHECKF(x->host_gap_s >= GAP_S - 0.001, "host gap %.3f ms", 1e3 * x->host_gap_s);
        CHECKF(off <= x->uncertainty_j, "window %d: %.3f J off, +/- %.3f J", i, off,
               x->uncertainty_j);
    }
    CHECK_EQ_INT(joules_gpu_reset_clocks(m, 0), 0);
    ab_result_free(&r);
    joules_close(m);
}

int main(void)
{
    RUN(test_gap_is_in_the_interval);
    return t_end();
}
