/* SPDX-License-Identifier: MIT */
/*
 * test_repeat.c - joules_repeat on the simulated GPU: the energy per repetition of a short,
 * bursty kernel, with the energy counter and without it (power integrated from a sensor that
 * sees 25 ms of every 100 ms), against the simulator's true energy.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/stats.h"
#include "joules.h"
#include "abi/jsim.h"
#include "testlib.h"

#define MAX_TIMED 512

struct burst {
    nvmlDevice_t dev;
    jsimRunKernel_fn run;
    int calls;
    int fail_at;
    double took_s[MAX_TIMED]; /* each call's wall time */
};

/*
 * Whether the host stalled a call by more than 8 ms over the median. A stall inside a kept
 * group lengthens it off a whole number of periods, the case the 1 % bound is not for: its
 * error grows, inside a wider interval (docs/accuracy.md gives the figures).
 */
static int disturbed(const struct burst *b)
{
    int n = b->calls < MAX_TIMED ? b->calls : MAX_TIMED;
    if (n < 3)
        return 0;
    double sorted[MAX_TIMED];
    memcpy(sorted, b->took_s, (size_t)n * sizeof sorted[0]);
    double median = joules__median(sorted, n); /* sorts */
    return sorted[n - 1] > median + 0.008;
}

static int burst_once(struct burst *b);

/* One repetition: a ~30 ms fp32 kernel, then 20 ms of rest. */
static int burst_work(void *user)
{
    struct burst *b = user;
    if (++b->calls == b->fail_at)
        return 5;
    double t0 = t_mono_s();
    int rc = burst_once(b);
    if (b->calls <= MAX_TIMED)
        b->took_s[b->calls - 1] = t_mono_s() - t0;
    return rc;
}

static int burst_once(struct burst *b)
{
    jsimKernel k;
    memset(&k, 0, sizeof k);
    k.version = JSIM_STRUCT_VERSION(jsimKernel);
    k.precision = JSIM_PREC_FP32;
    k.flops = 5e11;
    k.alpha = 0.8;
    jsimKernelResult r;
    memset(&r, 0, sizeof r);
    r.version = JSIM_STRUCT_VERSION(jsimKernelResult);
    if (b->run(b->dev, &k, &r) != NVML_SUCCESS)
        return 1;
    t_sleep(0.02);
    return 0;
}

static joules_monitor *open_sim(const char *scenario_text, char *dir, struct burst *b)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/s.scn", dir);
    t_write_file(path, scenario_text);
    setenv("JOULES_SIM_SCENARIO", path, 1);
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m = NULL;
    char err[256] = "";
    CHECKF(joules_open(&m, &o, err, sizeof err) == 0, "open: %s", err);
    void *dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_NOLOAD);
    CHECK(dl != NULL);
    typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
    ((handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2"))(0, &b->dev);
    b->run = (jsimRunKernel_fn)dlsym(dl, JSIM_SYMBOL_RUN_KERNEL);
    dlclose(dl); /* the monitor keeps the library loaded */
    CHECK(b->run != NULL);
    return m;
}

static void check_per_rep(const joules_repeat_result *r, double tol, const char *what,
                          const struct burst *b)
{
    if (disturbed(b)) {
        printf("   %s: a call ran over its median by more than 8 ms (a host stall): bound %.0f "
               "%% instead of %.0f %%\n",
               what, 100 * 5 * tol, 100 * tol);
        tol *= 5;
    }
    const joules_domain_energy *de = &r->per_rep.domains[0];
    CHECKF(de->valid, "%s: %s", what, de->message);
    CHECK(r->per_rep.simulated);
    CHECKF(de->sim_truth_j > 0, "%s: no truth", what);
    double rel = fabs(de->energy_j - de->sim_truth_j) / de->sim_truth_j;
    printf("   %s: %.4f J per repetition +/- %.4f, truth %.4f J (%.2f %%), %d kept of %d\n", what,
           de->energy_j, de->uncertainty_j, de->sim_truth_j, 100 * rel, r->repetitions_kept,
           r->repetitions_run);
    CHECKF(rel < tol, "%s: %.3f %% off", what, 100 * rel);
    CHECKF(fabs(de->energy_j - de->sim_truth_j) <= de->uncertainty_j,
           "%s: interval does not cover the truth", what);
    CHECK(r->time_per_rep_s > 0.03 && r->time_per_rep_s < 0.2);
}

static char dir[4096];

/* A monitor on the scenario and options asking for min_time_s of measured time. */
static joules_monitor *setup(const char *scenario, struct burst *b, joules_repeat_options *o,
                             double min_time_s)
{
    joules_monitor *m = open_sim(scenario, dir, b);
    joules_repeat_options_init(o);
    o->min_time_s = min_time_s;
    return m;
}

static void test_with_counter(void)
{
    struct burst b = {0};
    joules_repeat_options o;
    joules_monitor *m = setup("idle 0.2s\n", &b, &o, 1.2);
    if (!m)
        return;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    CHECK_EQ_INT(joules_repeat(m, burst_work, &b, &o, &r), 0);
    CHECK_EQ_INT(r.groups, 4);
    CHECK_EQ_INT(r.per_rep.domains[0].method, JOULES_METHOD_COUNTER);
    check_per_rep(&r, 0.01, "counter", &b);
    joules_close(m);
}

static void test_without_counter(void)
{
    struct burst b = {0};
    joules_repeat_options o;
    joules_monitor *m = setup("idle 0.2s\nfault no-energy\n", &b, &o, 1.6);
    if (!m)
        return;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    CHECK_EQ_INT(joules_repeat(m, burst_work, &b, &o, &r), 0);
    CHECK_EQ_INT(r.per_rep.domains[0].method, JOULES_METHOD_INTEGRATED);
    check_per_rep(&r, 0.05, "integrated, 25/100 sensor", &b);
    /* The same load ran before and after each group: the sensor's lag moves no energy out of
     * a group, and the interval is not widened for it. What is left is the groups' own
     * spread, small with groups that last a whole number of periods (docs/accuracy.md). */
    const joules_domain_energy *de = &r.per_rep.domains[0];
    if (!disturbed(&b)) /* a stalled group spreads from the others, past this bound */
        CHECKF(de->uncertainty_j < 0.1 * de->energy_j, "+/- %.1f %%",
               100 * de->uncertainty_j / de->energy_j);
    joules_close(m);
}

/* Work whose first call is slow (a cold start: 4 ms, then 1 ms). */
static int cold_work(void *user)
{
    int *calls = user;
    struct timespec ts = {0, (*calls)++ == 0 ? 4000000L : 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

/* Sized from the cold first call, the groups kept a quarter of min_time_s. */
static void test_min_time_from_warm_runs(void)
{
    struct burst b = {0};
    joules_repeat_options o;
    joules_monitor *m = setup("idle 0.2s\n", &b, &o, 0.5);
    if (!m)
        return;
    int calls = 0;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    CHECK_EQ_INT(joules_repeat(m, cold_work, &calls, &o, &r), 0);
    double measured_s = r.time_per_rep_s * r.repetitions_kept;
    printf("   cold first run: %d kept, %.3f s measured of 0.5 s\n", r.repetitions_kept,
           measured_s);
    /* 5 % to spare, less what a loaded machine does to 1 ms sleeps */
    CHECKF(measured_s >= 0.45 && measured_s < 0.75, "%.3f s measured", measured_s);
    CHECK_EQ_INT(r.repetitions_kept % 4, 0); /* every group keeps as many runs */
    joules_close(m);
}

static void test_errors(void)
{
    struct burst b = {0};
    joules_monitor *m = open_sim("idle 0.2s\n", dir, &b);
    if (!m)
        return;
    joules_domain_energy r_dom[16];
    joules_repeat_result r;
    joules_measurement_init(&r.per_rep, r_dom, 16);
    joules_repeat_options o;
    joules_repeat_options_init(&o);
    o.groups = -1;
    CHECK_EQ_INT(joules_repeat(m, burst_work, &b, &o, &r), JOULES_E_INVALID);
    CHECK_EQ_INT(joules_repeat(m, NULL, &b, NULL, &r), JOULES_E_INVALID);
    o.groups = 2;
    o.repetitions = 4;
    b.fail_at = 3;
    CHECK_EQ_INT(joules_repeat(m, burst_work, &b, &o, &r), JOULES_E_SYNC);
    CHECK(strstr(joules_last_error(m), "returned 5") != NULL);
    /* A failure inside a group leaves no window open behind it. */
    CHECK_EQ_INT(joules_window_begin(m, "joules_repeat#0"), 0);
    joules_close(m);
}

int main(void)
{
    if (t_mkdtemp(dir, sizeof dir) != 0)
        return 1;
    RUN(test_errors);
    RUN(test_with_counter);
    RUN(test_without_counter);
    RUN(test_min_time_from_warm_runs);
    t_rmtree(dir);
    return t_end();
}
