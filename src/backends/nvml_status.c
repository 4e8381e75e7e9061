/* SPDX-License-Identifier: MIT */
/*
 * nvml_status.c - the GPU operations of an NVML domain: its description and live state
 * (joules_gpu_status, the sampler's live figures), locked clocks and power limits, and on the
 * simulated GPU the simulator's true energy. Each value the driver does not report is left
 * at -1, never guessed.
 */
#include <stdio.h>
#include <string.h>

#include "backends/nvml_lib.h"

static const char *arch_name(unsigned a)
{
    switch (a) {
    case NVML_DEVICE_ARCH_KEPLER:
        return "Kepler";
    case NVML_DEVICE_ARCH_MAXWELL:
        return "Maxwell";
    case NVML_DEVICE_ARCH_PASCAL:
        return "Pascal";
    case NVML_DEVICE_ARCH_VOLTA:
        return "Volta";
    case NVML_DEVICE_ARCH_TURING:
        return "Turing";
    case NVML_DEVICE_ARCH_AMPERE:
        return "Ampere";
    case NVML_DEVICE_ARCH_ADA:
        return "Ada";
    case NVML_DEVICE_ARCH_HOPPER:
        return "Hopper";
    case NVML_DEVICE_ARCH_BLACKWELL:
        return "Blackwell";
    default:
        return "unknown";
    }
}

double joules__nvml_mw_or(fn_dev_u32p f, nvmlDevice_t h)
{
    unsigned v = 0;
    return (f && f(h, &v) == NVML_SUCCESS) ? (double)v * 1e-3 : -1.0;
}

static int clock_or(fn_dev_type_u32p f, nvmlDevice_t h, unsigned type)
{
    unsigned v = 0;
    return (f && f(h, type, &v) == NVML_SUCCESS) ? (int)v : -1;
}

/* The 1-s average power: field 185, or the reading itself where it is that average (GA10x or
 * newer on a driver before R535); -1 when neither. */
static double avg_power_w(struct joules__domain *d)
{
    struct nvml_dev *dev = d->backend;
    double p;
    nvmlReturn_t r;
    if (d->power_window_s >= 1.0)
        return joules__nvml_read_power(dev, &p, &r) == 0 ? p : -1.0;
    unsigned mw = 0;
    if (joules__nvml_field_u32(dev->lib, dev->handle, NVML_FI_DEV_POWER_AVERAGE, &mw) ==
        NVML_SUCCESS)
        return (double)mw * 1e-3;
    return -1.0;
}

/* The sampler's per-round read: only what changes (power averages, clocks, temperature,
 * P-state, utilisation, reasons), a handful of calls instead of dev_status's twenty;
 * dev_status takes these from it. */
int joules__nvml_live(struct joules__domain *d, struct joules__gpu_live *out, char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    struct nvml_lib *lib = dev->lib;
    nvmlDevice_t h = dev->handle;
    (void)msg;
    (void)len;
    out->power_avg_w = avg_power_w(d);
    out->power_limit_w = joules__nvml_mw_or(lib->power_enforced, h);
    out->clock_sm_mhz = clock_or(lib->clock_info, h, NVML_CLOCK_SM);
    out->clock_mem_mhz = clock_or(lib->clock_info, h, NVML_CLOCK_MEM);
    out->temperature_c = clock_or(lib->temperature, h, NVML_TEMPERATURE_GPU);
    unsigned ps = NVML_PSTATE_UNKNOWN;
    out->pstate = (lib->pstate && lib->pstate(h, &ps) == NVML_SUCCESS && ps < 16) ? (int)ps : -1;
    nvmlUtilization_t u;
    out->utilization_gpu_pct =
        (lib->utilization && lib->utilization(h, &u) == NVML_SUCCESS) ? (int)u.gpu : -1;
    unsigned long long reasons = 0;
    out->clock_event_reasons =
        (lib->reasons && lib->reasons(h, &reasons) == NVML_SUCCESS) ? reasons : 0;
    return 0;
}

int joules__nvml_status(struct joules__domain *d, joules_gpu_status *out, char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    struct nvml_lib *lib = dev->lib;
    nvmlDevice_t h = dev->handle;
    memset(out, 0, sizeof *out);
    nvmlReturn_t r = joules__nvml_read_dev_str(lib->name, h, out->name, sizeof out->name);
    if (r != NVML_SUCCESS)
        return joules__nvml_fail(lib, r, "nvmlDeviceGetName", d->info.name, msg, len);
    snprintf(out->uuid, sizeof out->uuid, "%s", d->info.uuid);
    snprintf(out->bus_id, sizeof out->bus_id, "%s", d->info.bus_id);
    if (!lib->driver_version ||
        joules__nvml_read_sys_str(lib->driver_version, out->driver_version,
                                  sizeof out->driver_version) != NVML_SUCCESS)
        snprintf(out->driver_version, sizeof out->driver_version, "unknown");
    unsigned a = NVML_DEVICE_ARCH_UNKNOWN;
    if (lib->arch)
        (void)lib->arch(h, &a);
    snprintf(out->architecture, sizeof out->architecture, "%s", arch_name(a));
    out->simulated = lib->simulated;
    double p = -1.0;
    nvmlReturn_t pr;
    out->power_w =
        (dev->power != POWER_NONE && joules__nvml_read_power(dev, &p, &pr) == 0) ? p : -1.0;
    if (d->power_window_s >= 1.0)
        out->power_w = -1.0; /* the reading is that average, not power now */
    struct joules__gpu_live live;
    joules__nvml_live(d, &live, msg, len);
    out->power_avg_w = live.power_avg_w;
    out->power_limit_enforced_w = live.power_limit_w;
    out->clock_sm_mhz = live.clock_sm_mhz;
    out->clock_mem_mhz = live.clock_mem_mhz;
    out->temperature_c = live.temperature_c;
    out->pstate = live.pstate;
    out->utilization_gpu_pct = live.utilization_gpu_pct;
    out->clock_event_reasons = live.clock_event_reasons;
    out->power_limit_w = joules__nvml_mw_or(lib->power_limit, h);
    out->power_limit_default_w = joules__nvml_mw_or(lib->power_default, h);
    unsigned lo = 0, hi = 0;
    if (lib->limit_constraints && lib->limit_constraints(h, &lo, &hi) == NVML_SUCCESS) {
        out->power_limit_min_w = lo * 1e-3;
        out->power_limit_max_w = hi * 1e-3;
    } else {
        out->power_limit_min_w = out->power_limit_max_w = -1.0;
    }
    out->clock_sm_max_mhz = clock_or(lib->max_clock, h, NVML_CLOCK_SM);
    nvmlMemory_t mem;
    if (lib->memory && lib->memory(h, &mem) == NVML_SUCCESS) {
        out->memory_total_bytes = mem.total;
        out->memory_used_bytes = mem.used;
    }
    unsigned long long mj = 0;
    out->energy_counter_j =
        (dev->have_counter && lib->energy(h, &mj) == NVML_SUCCESS) ? (double)mj * 1e-3 : -1.0;
    return 0;
}

int joules__nvml_lock_clocks(struct joules__domain *d, unsigned min_mhz, unsigned max_mhz,
                             char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    if (!dev->lib->lock_clocks) {
        joules__msg(msg, len, "this NVML has no nvmlDeviceSetGpuLockedClocks (Volta or newer)");
        return JOULES_E_NOT_SUPPORTED;
    }
    nvmlReturn_t r = dev->lib->lock_clocks(dev->handle, min_mhz, max_mhz);
    return r == NVML_SUCCESS
               ? 0
               : joules__nvml_fail(dev->lib, r, "nvmlDeviceSetGpuLockedClocks", NULL, msg, len);
}

int joules__nvml_reset_clocks(struct joules__domain *d, char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    if (!dev->lib->reset_clocks) {
        joules__msg(msg, len, "this NVML has no nvmlDeviceResetGpuLockedClocks");
        return JOULES_E_NOT_SUPPORTED;
    }
    nvmlReturn_t r = dev->lib->reset_clocks(dev->handle);
    return r == NVML_SUCCESS
               ? 0
               : joules__nvml_fail(dev->lib, r, "nvmlDeviceResetGpuLockedClocks", NULL, msg, len);
}

int joules__nvml_set_power_limit(struct joules__domain *d, double limit_w, char *msg, size_t len)
{
    struct nvml_dev *dev = d->backend;
    if (!dev->lib->set_power_limit) {
        joules__msg(msg, len, "this NVML has no nvmlDeviceSetPowerManagementLimit");
        return JOULES_E_NOT_SUPPORTED;
    }
    nvmlReturn_t r = dev->lib->set_power_limit(dev->handle, (unsigned)(limit_w * 1000.0 + 0.5));
    return r == NVML_SUCCESS ? 0
                             : joules__nvml_fail(dev->lib, r, "nvmlDeviceSetPowerManagementLimit",
                                                 NULL, msg, len);
}

int joules__nvml_sim_truth(struct joules__domain *d, int64_t t0_ns, int64_t t1_ns, double *energy_j)
{
    struct nvml_dev *dev = d->backend;
    double e0, e1;
    if (!dev->lib->sim_true_energy ||
        dev->lib->sim_true_energy(dev->handle, (long long)t0_ns, &e0) != NVML_SUCCESS ||
        dev->lib->sim_true_energy(dev->handle, (long long)t1_ns, &e1) != NVML_SUCCESS)
        return JOULES_E_NOT_SUPPORTED;
    *energy_j = e1 - e0;
    return 0;
}
