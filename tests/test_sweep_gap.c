/* SPDX-License-Identifier: MIT */
/*
 * test_sweep_gap.c - `joules sweep` on the simulated GPU when the host holds the thread back
 * after one step's products (as a loaded 2-core machine does now and then): the GPU idles
 * inside that window, whose mean power then reads low although its energy is right. The fit
 * weighs each step by what its power may be off by (its energy's interval and the idle the
 * host left around its edges), so the stalled step does not pull the fitted static power off
 * at every clock; the step itself still reports its idle as a host gap.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sweep/sweep.h"
#include "testlib.h"

#define STALL_S    0.020
#define STALL_MAIN 3 /* the main run (lead-in, then products, per step) to stall after */

static int prev_reps, mains;

/* The main run of a step is the one of more than one product right after the lead-in. */
static int stall_run(struct ab_exec *x, int slot, int reps, int *done, char *err, size_t len)
{
    int rc = ab_exec_sim_ops.run(x, slot, reps, done, err, len);
    int main_run = reps > 1 && prev_reps > 1 && reps > prev_reps;
    prev_reps = reps;
    if (main_run && ++mains == STALL_MAIN) {
        struct timespec ts = {0, (long)(STALL_S * 1e9)};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static void test_stalled_step_does_not_move_the_fit(void)
{
    char dir[256], scn[512], err[256] = "";
    CHECK(t_mkdtemp(dir, sizeof dir) == 0);
    snprintf(scn, sizeof scn, "%s/cool.scn", dir);
    CHECK_EQ_INT(t_write_file(scn, "profile test\ncooling r=0.005\npower-limit 150\n"), 0);
    setenv("JOULES_SIM_SCENARIO", scn, 1);
    setenv("JOULES_SIM_PRIVILEGED", "1", 1);
    unsetenv("JOULES_SIM_PROFILE");
    unsetenv("JOULES_SIM_DEVICES");
    joules_monitor *m = t_open_sim_gpu(1, err, sizeof err);
    CHECKF(m != NULL, "joules_open: %s", err);
    if (!m)
        return;
    struct ab_exec_ops ops = ab_exec_sim_ops;
    ops.run = stall_run;
    static struct sweep_params p;
    memset(&p, 0, sizeof p);
    p.mode = SWEEP_CLOCKS;
    for (int i = 0; i < 11; i++)
        p.settings[i] = 500 + 100 * i;
    p.n_steps = 11;
    p.workload = SWEEP_WL_PRODUCT;
    p.ops = &ops;
    p.setup.n = 2048;
    p.setup.prec = AB_FP32;
    p.setup.seed = 1;
    p.setup.m = m;
    p.setup.gpu_domain = 0;
    p.setup.sim_library = JOULES_TEST_SIM_LIB;
    p.arms[0] = AB_ARM_NORMAL;
    p.n_arms = 1;
    p.warmup_s = 0.1;
    p.cooldown_s = 0;
    p.min_window_s = 0.25;
    static struct sweep_result r;
    CHECKF(sweep_run(&p, &r, err, sizeof err) == 0, "sweep_run: %s", err);
    joules_gpu_reset_clocks(m, 0);
    CHECK_EQ_INT(r.n_steps_done, 11);
    CHECK(mains >= STALL_MAIN && r.voltage_known);
    static struct sweep_output rep;
    memset(&rep, 0, sizeof rep);
    rep.p = &p;
    rep.r = &r;
    sweep_analyze(&rep);
    const struct sweep_fit *fit = &rep.a[0].fit;
    CHECK_EQ_INT(fit->model, SWEEP_MODEL_FV2_LEAK);
    int stalled = 0;
    double worst = 0;
    for (int s = 0; s < r.n_steps_done; s++) {
        const struct sweep_point *pt = &r.pt[s][0];
        CHECK(pt->valid && pt->sim_truth_j > 0 && isfinite(pt->true_static_w));
        double ratio = sweep_fit_static(fit, pt->clock_mhz, pt->voltage_v) / pt->true_static_w;
        worst = fmax(worst, fabs(ratio - 1));
        if (pt->host_gap_s >= STALL_S - 0.001)
            stalled++;
        printf("   %4.0f MHz: %.2f W mean (energy %+.3f %% from the truth), host gap %.2f ms, "
               "fitted static %.3f of the true\n",
               pt->clock_mhz, pt->power_w, 100 * (pt->energy_j / pt->sim_truth_j - 1),
               1e3 * pt->host_gap_s, ratio);
        /* The stalled step's energy moves with the idle in its edges' intervals, as far as
         * its interval, widened by the gap, says; the others stay close. */
        CHECKF(fabs(pt->energy_j - pt->sim_truth_j) <= pt->uncertainty_j, "step %d: +/- %.3f %%", s,
               100 * pt->uncertainty_j / pt->energy_j);
        if (pt->host_gap_s < STALL_S - 0.001)
            CHECKF(fabs(pt->energy_j / pt->sim_truth_j - 1) < 0.02, "step %d energy", s);
    }
    /* The stall is seen where it happened, and only the stalled step knows of it. */
    CHECK_EQ_INT(stalled, 1);
    /* The assertion of test_cli_sweep's test_fit_recovers_truth_and_optimum. */
    CHECKF(worst < 0.05, "fitted static power off by %.2f %% at worst", 100 * worst);
    joules_close(m);
    t_rmtree(dir);
}

int main(void)
{
    RUN(test_stalled_step_does_not_move_the_fit);
    return t_end();
}
