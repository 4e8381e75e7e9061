/* SPDX-License-Identifier: MIT */
/*
 * nvml_device.c - identity and status queries of the simulated GPUs: name, UUID, PCI,
 * architecture, memory, processes, PCIe, fan, utilisation, P-state and temperatures.
 * Every function follows the same order of checks as NVML: UNINITIALIZED, then a bad handle
 * (INVALID_ARGUMENT), then GPU_IS_LOST and injected faults, then NULL outputs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/nvml_exports.h"
#include "sim/sim.h"

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index)
{
    DEV_ENTER(device);
    if (!index)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *index = (unsigned)d->index;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    DEV_ENTER(device);
    rc = sim_copy_str(name, length, d->name);
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    DEV_ENTER(device);
    rc = sim_copy_str(uuid, length, d->uuid);
    DEV_RETURN();
}

/* Bus = 0x01 + index; the v1 struct is 52 bytes: legacy bus id, five ids, four reserved. */
static nvmlReturn_t pci_info(nvmlDevice_t device, nvmlPciInfo_t *pci, int full)
{
    DEV_ENTER(device);
    if (!pci) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
        DEV_RETURN();
    }
    unsigned bus = 0x01 + (unsigned)d->index;
    char legacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE];
    snprintf(legacy, sizeof legacy, "%04X:%02X:00.0", 0u, bus & 0xFF);
    if (full) {
        memset(pci, 0, sizeof *pci);
        snprintf(pci->busId, sizeof pci->busId, "%08X:%02X:00.0", 0u, bus & 0xFF);
    } else {
        memset(pci, 0, 52);
    }
    memcpy(pci->busIdLegacy, legacy, sizeof legacy);
    pci->domain = 0;
    pci->bus = bus;
    pci->device = 0;
    pci->pciDeviceId = d->p.pci_device_id;
    pci->pciSubSystemId = d->p.pci_subsys_id;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    return pci_info(device, pci, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    return pci_info(device, pci, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    return pci_info(device, pci, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int *arch)
{
    DEV_ENTER(device);
    if (!arch)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *arch = d->p.arch;
    DEV_RETURN();
}

#define CONTEXT_BYTES (256ull * 1024ull * 1024ull) /* what a CUDA context holds */

/*
 * The processes with work on a device: the one whose kernel runs on it, and the one that
 * loaded the scenario while the scenario's phase keeps a context there (lock held).
 */
int sim_work_pids(const struct sim_dev *d, int pids[2])
{
    int n = 0;
    const struct sim_phase *ph = sim_model_phase(sim_m);
    if (d->kernel.active && d->kernel_pid > 0)
        pids[n++] = d->kernel_pid;
    if ((ph->util > 0 || ph->context) && sim_m->loader_pid > 0 &&
        (n == 0 || pids[0] != sim_m->loader_pid))
        pids[n++] = sim_m->loader_pid;
    return n;
}

/* Memory: a context holds 256 MiB; v1 "used" includes the driver's reserved memory. */
static void memory(const struct sim_dev *d, unsigned long long *total, unsigned long long *reserved,
                   unsigned long long *used)
{
    const unsigned long long mib = 1024ull * 1024ull;
    int pids[2];
    unsigned long long n = (unsigned long long)sim_work_pids(d, pids);
    *total = d->p.mem_total_mib * mib;
    *reserved = d->p.mem_reserved_mib * mib;
    *used = d->pstate != d->p.pstate_idle || d->util > 0 ? CONTEXT_BYTES : 0;
    if (n * CONTEXT_BYTES > *used)
        *used = n * CONTEXT_BYTES;
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *m)
{
    DEV_ENTER(device);
    if (!m) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        unsigned long long total, reserved, used;
        memory(d, &total, &reserved, &used);
        m->total = total;
        m->used = used + reserved;
        m->free = total - m->used;
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *m)
{
    DEV_ENTER(device);
    if (!m) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (m->version != nvmlMemory_v2) {
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    } else {
        unsigned long long total, reserved, used;
        memory(d, &total, &reserved, &used);
        m->total = total;
        m->reserved = reserved;
        m->used = used;
        m->free = total - reserved - used;
    }
    DEV_RETURN();
}

/*
 * The NVML sizing protocol: *count in, the entries needed out; INSUFFICIENT_SIZE when the
 * buffer is short (or NULL with processes to list). v1 entries lack the instance ids.
 */
static nvmlReturn_t processes(nvmlDevice_t device, unsigned int *count, void *infos, int v1,
                              int compute)
{
    DEV_ENTER(device);
    int pids[2];
    int n = compute ? sim_work_pids(d, pids) : 0; /* no graphics work is ever simulated */
    if (!count) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (*count < (unsigned)n || (n > 0 && !infos)) {
        *count = (unsigned)n;
        rc = NVML_ERROR_INSUFFICIENT_SIZE;
    } else {
        for (int i = 0; i < n; i++) {
            if (v1) {
                nvmlProcessInfo_v1_t *e = (nvmlProcessInfo_v1_t *)infos + i;
                e->pid = (unsigned)pids[i];
                e->usedGpuMemory = CONTEXT_BYTES;
            } else {
                nvmlProcessInfo_t *e = (nvmlProcessInfo_t *)infos + i;
                e->pid = (unsigned)pids[i];
                e->usedGpuMemory = CONTEXT_BYTES;
                e->gpuInstanceId = 0xFFFFFFFFu; /* no MIG: NVML's "invalid" id */
                e->computeInstanceId = 0xFFFFFFFFu;
            }
        }
        *count = (unsigned)n;
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
                                                              unsigned int *count,
                                                              nvmlProcessInfo_v1_t *infos)
{
    return processes(device, count, infos, 1, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
                                                                 unsigned int *count,
                                                                 nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                 unsigned int *count,
                                                                 nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device,
                                                               unsigned int *count,
                                                               nvmlProcessInfo_v1_t *infos)
{
    return processes(device, count, infos, 1, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device,
                                                                  unsigned int *count,
                                                                  nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device,
                                                                  unsigned int *count,
                                                                  nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 0);
}

/* MPS: no MPS server runs on a simulated machine, so no process is listed. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses(nvmlDevice_t device,
                                                                 unsigned int *count,
                                                                 nvmlProcessInfo_v1_t *infos)
{
    return processes(device, count, infos, 1, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v2(nvmlDevice_t device,
                                                                    unsigned int *count,
                                                                    nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMPSComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                    unsigned int *count,
                                                                    nvmlProcessInfo_t *infos)
{
    return processes(device, count, infos, 0, 0);
}

/* PCIe: Gen4 x16 on Ampere, Gen5 x16 on Hopper (gpu-profiles.md §1). */
static nvmlReturn_t pcie(nvmlDevice_t device, unsigned int *out, int width)
{
    DEV_ENTER(device);
    if (!out)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *out = width ? 16 : d->p.arch == NVML_DEVICE_ARCH_HOPPER ? 5 : 4;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *gen)
{
    return pcie(device, gen, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *width)
{
    return pcie(device, width, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *gen)
{
    return pcie(device, gen, 0);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *width)
{
    return pcie(device, width, 1);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, unsigned int counter,
                                                     unsigned int *value)
{
    DEV_ENTER(device);
    (void)d;
    if (!value || counter > 1)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *value = 0; /* KB/s: the model has no host traffic */
    DEV_RETURN();
}

/* Fan (A6000 only): 30 % up to 50 °C, 100 % at 85 °C. Shown, not modelled (R_th is fixed). */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed)
{
    DEV_ENTER(device);
    if (!speed) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else if (!d->p.has_fan) {
        rc = NVML_ERROR_NOT_SUPPORTED;
    } else {
        double s = 30 + (d->temp_c - 50) * 2;
        *speed = (unsigned)(s < 30 ? 30 : s > 100 ? 100 : s);
    }
    DEV_RETURN();
}

static nvmlReturn_t codec(nvmlDevice_t device, unsigned int *u, unsigned int *period)
{
    DEV_ENTER(device);
    (void)d;
    if (!u || !period) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        *u = 0;
        *period = 167000;
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device,
                                                         unsigned int *utilization,
                                                         unsigned int *sampling_period_us)
{
    return codec(device, utilization, sampling_period_us);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device,
                                                         unsigned int *utilization,
                                                         unsigned int *sampling_period_us)
{
    return codec(device, utilization, sampling_period_us);
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *u)
{
    DEV_ENTER(device);
    if (!u) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    } else {
        u->gpu = (unsigned)lround(d->util * 100);
        u->memory = (unsigned)lround(fmin(100, d->mem_gbs / d->p.mem_bw_gbs * 100));
    }
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, unsigned int *pstate)
{
    DEV_ENTER(device);
    if (!pstate)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *pstate = (unsigned)d->pstate;
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned int sensor,
                                                  unsigned int *temp)
{
    DEV_ENTER(device);
    if (!temp || sensor != NVML_TEMPERATURE_GPU)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        *temp = (unsigned)lround(fmax(0, d->temp_c));
    DEV_RETURN();
}

JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device, nvmlTemperature_v1_t *t)
{
    DEV_ENTER(device);
    if (!t)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (t->version != nvmlTemperature_v1)
        rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
    else if (t->sensorType != NVML_TEMPERATURE_GPU)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else
        t->temperature = (int)lround(d->temp_c);
    DEV_RETURN();
}

/* nvmlTemperatureThresholds_t: SHUTDOWN 0, SLOWDOWN 1, MEM_MAX 2, GPU_MAX 3, ACOUSTIC_* 4-6. */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device,
                                                           unsigned int threshold,
                                                           unsigned int *temp)
{
    DEV_ENTER(device);
    int v = -1;
    switch (threshold) {
    case 0:
        v = d->p.t_shutdown;
        break;
    case 1:
        v = d->p.t_slowdown;
        break;
    case 2:
        v = d->p.t_mem_max > 0 ? d->p.t_mem_max : -1;
        break;
    case 3:
        v = d->p.t_max_op;
        break;
    case 5:
        v = d->p.has_fan ? d->p.t_sw : -1; /* the "target" temperature of GA102 boards */
        break;
    default:
        if (threshold > 7)
            rc = NVML_ERROR_INVALID_ARGUMENT;
        break;
    }
    if (rc == NVML_SUCCESS && !temp)
        rc = NVML_ERROR_INVALID_ARGUMENT;
    else if (rc == NVML_SUCCESS && v < 0)
        rc = NVML_ERROR_NOT_SUPPORTED;
    else if (rc == NVML_SUCCESS)
        *temp = (unsigned)v;
    DEV_RETURN();
}
