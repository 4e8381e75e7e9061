/* SPDX-License-Identifier: MIT */
/*
 * bench_sim.c - speed of the simulated GPU: simulated seconds per wall-clock second for one
 * device stepped at 1 ms (virtual time, a busy power-capped phase so the governor works every
 * step), the cost of one NVML call in real time, on a private model and on the shared
 * machine (measured in a child process: a process uses one machine), and the catch-up after
 * a long idle period. Goals: >= 1000x real time; a call on the shared machine <= 1.5 times
 * its cost on a private model. The library is reached through dlopen, as a client would.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

#define CALLS 200000
static const char *busy = "profile a6000\nphase 100s util=1 alpha=0.7\n";

/* Seconds per nvmlDeviceGetPowerUsage, the model kept up to date on every call (best of 5:
 * the machine's other load only ever adds). */
static double call_cost_s(nvmlReturn_t (*power)(nvmlDevice_t, unsigned *), nvmlDevice_t d)
{
    unsigned p;
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        for (int i = 0; i < CALLS; i++)
            power(d, &p);
        double per = (now_s() - t0) / CALLS;
        best = per < best ? per : best;
    }
    return best;
}

/* The child: the same call on the shared machine JOULES_SIM_MACHINE names. */
static int shared_child(void *h)
{
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*power)(nvmlDevice_t, unsigned *);
    *(void **)&init = sym(h, "nvmlInit_v2");
    *(void **)&handle = sym(h, "nvmlDeviceGetHandleByIndex_v2");
    *(void **)&power = sym(h, "nvmlDeviceGetPowerUsage");
    nvmlDevice_t d;
    if (init() != NVML_SUCCESS || handle(0, &d) != NVML_SUCCESS)
        return 1;
    printf("%.9f\n", call_cost_s(power, d));
    return 0;
}

int main(int argc, char **argv)
{
    int child = argc > 1 && !strcmp(argv[1], "shared");
    if (!child) /* the parent's model is its own: virtual time needs it */
        setenv("JOULES_SIM_MACHINE", "private", 1);
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
    if (child)
        return shared_child(h);
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
    reconf(busy, 0);
    handle(0, &d);
    double priv = call_cost_s(power, d);
    printf("nvmlDeviceGetPowerUsage in real time, private model: %.3f us per call\n", priv * 1e6);

    /* 2b. The same call on the shared machine (same scenario), in a child process. */
    char exe[1024], scn[256], name[64], cmd[1200];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    snprintf(name, sizeof name, "joules-bench-sim-%d", (int)getpid());
    snprintf(scn, sizeof scn, "/tmp/%s.scn", name);
    FILE *f = fopen(scn, "w");
    if (len > 0 && f) {
        exe[len] = '\0';
        fputs(busy, f);
        fclose(f);
        setenv("JOULES_SIM_MACHINE", name, 1);
        setenv("JOULES_SIM_SCENARIO", scn, 1);
        snprintf(cmd, sizeof cmd, "'%s' shared", exe);
        FILE *c = popen(cmd, "r");
        double shared = 0;
        if (c && fscanf(c, "%lf", &shared) == 1 && shared > 0) {
            printf("nvmlDeviceGetPowerUsage in real time, shared machine: %.3f us per call "
                   "(%.2f x private; goal <= 1.5x: %s)\n",
                   shared * 1e6, shared / priv, shared / priv <= 1.5 ? "met" : "NOT met");
        } else {
            printf("shared machine: the child gave no figure\n");
        }
        if (c)
            pclose(c);
        /* Two processes calling at once: each call takes the machine's lock in turn. */
        FILE *c1 = popen(cmd, "r"), *c2 = popen(cmd, "r");
        double s1 = 0, s2 = 0;
        if (c1 && c2 && fscanf(c1, "%lf", &s1) == 1 && fscanf(c2, "%lf", &s2) == 1)
            printf("the same, two processes calling at once: %.3f and %.3f us per call\n", s1 * 1e6,
                   s2 * 1e6);
        if (c1)
            pclose(c1);
        if (c2)
            pclose(c2);
        unlink(scn);
        jsimResetMachine_fn reset;
        *(void **)&reset = sym(h, JSIM_SYMBOL_RESET_MACHINE);
        reset(name);
        setenv("JOULES_SIM_MACHINE", "private", 1);
        unsetenv("JOULES_SIM_SCENARIO");
    }

    /* 3. Catch-up: an hour of idle in one call. */
    reconf("profile h100\nidle 10000s\n", JSIM_FLAG_VIRTUAL_TIME);
    t0 = now_s();
    advance(3600);
    wall = now_s() - t0;
    printf("catch-up of 1 h idle: %.3f s wall\n", wall);
    return 0;
}
