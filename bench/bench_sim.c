/* SPDX-License-Identifier: MIT */
/*
 * bench_sim.c - speed of the simulated GPU: simulated seconds per wall-clock second for one
 * device stepped at 1 ms (virtual time, a busy power-capped phase so the governor works every
 * step), the cost of one NVML call in real time, and the catch-up after a long idle period.
 * Goal: >= 1000x real time. The library is reached through dlopen, as a client would.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "abi/nvml_abi.h"
#include "abi/jsim.h"
#include "vsim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *sym(void *h, const char *name)
{
    return vsim_sym(h, name, "bench_sim");
}

int main(void)
{
    void *h = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "bench_sim: %s\n", dlerror());
        return 1;
    }
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*power)(nvmlDevice_t, unsigned *);
    jsimReconfigure_fn reconf;
    jsimAdvance_fn advance;
    *(void **)&init = sym(h, "nvmlInit_v2");
    *(void **)&handle = sym(h, "nvmlDeviceGetHandleByIndex_v2");
    *(void **)&power = sym(h, "nvmlDeviceGetPowerUsage");
    *(void **)&reconf = sym(h, JSIM_SYMBOL_RECONFIGURE);
    *(void **)&advance = sym(h, JSIM_SYMBOL_ADVANCE);
    if (init() != NVML_SUCCESS)
        return 1;

    /* 1. Virtual time: one A100 under a power-capped load with a varying phase. */
    reconf("profile a100\nphase 1s util=1 alpha=0.9\nphase 1s util=0.5 alpha=0.5\n"
           "repeat forever\n",
           JSIM_FLAG_VIRTUAL_TIME);
    double sim_s = 600, t0 = now_s();
    advance(sim_s);
    double wall = now_s() - t0;
    printf("sim speed (1 device, 1 ms steps, busy): %.0f simulated s per wall s (%.0f ns/step)\n",
           sim_s / wall, wall / (sim_s * 1000) * 1e9);
    printf("goal >= 1000x: %s\n", sim_s / wall >= 1000 ? "met" : "NOT met");

    /* 2. Real time: cost of one call (the model is kept up to date on every call). */
    nvmlDevice_t d;
    unsigned p;
    reconf("profile a6000\nphase 100s util=1 alpha=0.7\n", 0);
    handle(0, &d);
    int n = 200000;
    t0 = now_s();
    for (int i = 0; i < n; i++)
        power(d, &p);
    wall = now_s() - t0;
    printf("nvmlDeviceGetPowerUsage in real time: %.2f us per call (%d calls)\n", wall / n * 1e6,
           n);

    /* 3. Catch-up: an hour of idle in one call. */
    reconf("profile h100\nidle 10000s\n", JSIM_FLAG_VIRTUAL_TIME);
    t0 = now_s();
    advance(3600);
    wall = now_s() - t0;
    printf("catch-up of 1 h idle: %.3f s wall\n", wall);
    return 0;
}
