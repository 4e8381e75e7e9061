/* SPDX-License-Identifier: MIT */
/*
 * vsim.h - a monitor on the simulated GPU in virtual time, for deterministic tests and
 * benchmarks of the edge estimator: the core runs on the simulator's clock
 * (joules__set_clock), nothing sleeps (joules_repeat's waits advance the clock), and the
 * tracker's rounds are driven every simulated millisecond.
 */
#ifndef JOULES_TESTS_VSIM_H
#define JOULES_TESTS_VSIM_H

#include <stdint.h>

#include "abi/nvml_abi.h"
#include "joules.h"

struct vsim {
    void *dl;
    nvmlDevice_t dev;
    joules_monitor *m;
    int64_t start_ns; /* when the scenario started */
    /* Called after each simulated millisecond (NULL: none). */
    void (*on_tick)(struct vsim *v, void *user);
    void *user;
};

/* dlsym, or exit saying which symbol the simulator lacks (`who: the simulator lacks NAME`). */
void *vsim_sym(void *dl, const char *name, const char *who);
/* Load the simulator once (exits on failure: nothing to test without it). */
void vsim_load(struct vsim *v);
/* Restart the simulator on a scenario (profile, sensor lines included) in virtual time and
 * open a monitor on it (settle_end off); then let warmup_s of simulated time pass. */
void vsim_open(struct vsim *v, const char *scenario_text, double warmup_s);
void vsim_close(struct vsim *v);
int64_t vsim_now_ns(void);
void vsim_run_until(struct vsim *v, int64_t t_ns);
/* Let ns of simulated time pass without driving the monitor: a host stalled as a whole (safe
 * to call from inside the core, e.g. from a clock set with joules__set_clock). */
void vsim_stall(int64_t ns);
/* A busy hook for joules_window_end_busy: one simulated millisecond per call. */
int vsim_busy_tick(void *vsim);
/* Run an fp32 kernel of flops at activity alpha to its end, a millisecond at a time (the
 * monitor driven at each); -1 if the simulator refuses it, the device is lost, or it runs
 * past 100 s. */
int vsim_kernel(struct vsim *v, double flops, double alpha);
/* Run until the counter steps; the first simulated millisecond that shows the step. */
int64_t vsim_next_step(struct vsim *v);
/* What part of each counter interval the profile's power reading averages, in ms. */
int vsim_sensor_window_ms(struct vsim *v);
/* The simulator's raw counter (mJ), its nvmlDeviceGetPowerUsage (W) and true energy. */
unsigned long long vsim_counter_mj(struct vsim *v);
double vsim_power_usage_w(struct vsim *v);
double vsim_truth_j(struct vsim *v, int64_t t0_ns, int64_t t1_ns);

#endif
