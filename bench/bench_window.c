/* SPDX-License-Identifier: MIT */
/*
 * bench_window.c - what a window costs: begin+end with the simulated GPU, and the part of
 * it that is ours, i.e. the window time minus the NVML calls it makes (one energy read and
 * one power read per GPU per edge), timed separately through the same library.
 * Goal (issue 2): under 2 us per GPU of our own time. Also: the same with deferred ends.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi/nvml_abi.h"
#include "joules.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef nvmlReturn_t (*energy_fn)(nvmlDevice_t, unsigned long long *);
typedef nvmlReturn_t (*fields_fn)(nvmlDevice_t, int, nvmlFieldValue_t *);
typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);

/* Seconds per read of energy + instant power for one GPU, called directly. */
static double nvml_read_cost(int gpus, int iters)
{
    void *dl = dlopen(JOULES_TEST_SIM_LIB, RTLD_NOW | RTLD_NOLOAD);
    if (!dl)
        return -1.0;
    energy_fn energy = (energy_fn)dlsym(dl, "nvmlDeviceGetTotalEnergyConsumption");
    fields_fn fields = (fields_fn)dlsym(dl, "nvmlDeviceGetFieldValues");
    handle_fn handle = (handle_fn)dlsym(dl, "nvmlDeviceGetHandleByIndex_v2");
    nvmlDevice_t devs[16];
    for (int g = 0; g < gpus; g++)
        handle((unsigned)g, &devs[g]);
    double t0 = now_s();
    for (int i = 0; i < iters; i++)
        for (int g = 0; g < gpus; g++) {
            unsigned long long mj;
            nvmlFieldValue_t fv;
            memset(&fv, 0, sizeof fv);
            fv.fieldId = NVML_FI_DEV_POWER_INSTANT;
            energy(devs[g], &mj);
            fields(devs[g], 1, &fv);
        }
    double dt = now_s() - t0;
    dlclose(dl);
    return dt / iters / gpus;
}

static int run(int gpus)
{
    char count[8];
    snprintf(count, sizeof count, "%d", gpus);
    setenv("JOULES_SIM_PROFILE", "a100-sxm4-80gb", 1);
    setenv("JOULES_SIM_DEVICES", count, 1);
    joules_options o;
    joules_options_init(&o);
    o.nvml_library = JOULES_TEST_SIM_LIB;
    o.kinds = JOULES_KIND_GPU;
    joules_monitor *m;
    char err[256];
    if (joules_open(&m, &o, err, sizeof err) != 0 || joules_domain_count(m) != gpus) {
        fprintf(stderr, "bench_window: cannot open %d simulated GPUs: %s\n", gpus, err);
        return 1;
    }
    joules_measurement *meas;
    if (joules_measurement_alloc(m, &meas) != 0) {
        fprintf(stderr, "bench_window: %s\n", joules_last_error(m));
        joules_close(m);
        return 1;
    }
    const int iters = 20000;
    for (int i = 0; i < 1000; i++) { /* warm caches and the simulator */
        joules_window_begin(m, "w");
        joules_window_end(m, "w", meas);
    }
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        joules_window_begin(m, "w");
        joules_window_end(m, "w", meas);
    }
    double per_window = (now_s() - t0) / iters;
    double per_read = nvml_read_cost(gpus, iters);
    double ours = per_window - 2.0 * gpus * per_read;
    printf("gpus=%d  window begin+end: %.2f us  NVML reads inside it: %.2f us  "
           "ours: %.2f us total, %.2f us per GPU (goal < 2 us per GPU)\n",
           gpus, per_window * 1e6, 2.0 * gpus * per_read * 1e6, ours * 1e6, ours / gpus * 1e6);
    /* Deferred ends, collected in batches of 100 (the tracker refines them meanwhile). */
    uint64_t tickets[100];
    t0 = now_s();
    for (int i = 0; i < iters / 100; i++) {
        for (int j = 0; j < 100; j++) {
            joules_window_begin(m, "w");
            joules_window_end_deferred(m, "w", &tickets[j]);
        }
        for (int j = 0; j < 100; j++)
            joules_window_collect(m, tickets[j], 0, meas);
    }
    double per_deferred = (now_s() - t0) / iters;
    printf("gpus=%d  deferred begin+end+collect: %.2f us (%.2f x a plain window)\n", gpus,
           per_deferred * 1e6, per_deferred / per_window);
    joules_measurement_free(meas);
    joules_close(m);
    return 0;
}

int main(void)
{
    int rc = 0;
    rc |= run(1);
    rc |= run(4);
    rc |= run(8);
    return rc;
}
