/* SPDX-License-Identifier: MIT */
/*
 * nvml_exports.h - prototypes of every symbol the simulated libnvidia-ml.so.1 exports: the
 * NVML subset (shared/reference/nvml.md §8, plus what nvtop requires) and the jsim
 * extension entry points (jsim.h). JSIM_EXPORT gives them default visibility; everything
 * else in the library stays hidden.
 */
#ifndef JOULES_SIM_NVML_EXPORTS_H
#define JOULES_SIM_NVML_EXPORTS_H

#include <stddef.h>

#include "abi/nvml_abi.h"
#include "abi/jsim.h"

#define JSIM_EXPORT __attribute__((visibility("default")))

/* init, errors, system */
JSIM_EXPORT nvmlReturn_t nvmlInit(void);
JSIM_EXPORT nvmlReturn_t nvmlInit_v2(void);
JSIM_EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags);
JSIM_EXPORT nvmlReturn_t nvmlShutdown(void);
JSIM_EXPORT const char *nvmlErrorString(nvmlReturn_t result);
JSIM_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length);
JSIM_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length);
JSIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version);
JSIM_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version);

/* enumeration and identity */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char *uuid, nvmlDevice_t *device);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int *index);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfo_t *pci);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetArchitecture(nvmlDevice_t device, unsigned int *arch);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device,
                                                              unsigned int *count,
                                                              nvmlProcessInfo_v1_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device,
                                                                 unsigned int *count,
                                                                 nvmlProcessInfo_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device,
                                                                 unsigned int *count,
                                                                 nvmlProcessInfo_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device,
                                                               unsigned int *count,
                                                               nvmlProcessInfo_v1_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device,
                                                                  unsigned int *count,
                                                                  nvmlProcessInfo_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device,
                                                                  unsigned int *count,
                                                                  nvmlProcessInfo_t *infos);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *gen);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *width);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device,
                                                             unsigned int *gen);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *width);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, unsigned int counter,
                                                     unsigned int *value);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device,
                                                         unsigned int *utilization,
                                                         unsigned int *sampling_period_us);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device,
                                                         unsigned int *utilization,
                                                         unsigned int *sampling_period_us);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device,
                                                       nvmlUtilization_t *utilization);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, unsigned int *pstate);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, unsigned int sensor,
                                                  unsigned int *temp);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureV(nvmlDevice_t device,
                                                   nvmlTemperature_v1_t *temperature);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device,
                                                           unsigned int threshold,
                                                           unsigned int *temp);

/* power and energy */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device,
                                                             unsigned long long *energy);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetFieldValues(nvmlDevice_t device, int count,
                                                  nvmlFieldValue_t *values);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t device,
                                                           unsigned int *limit);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device,
                                                                      unsigned int *min_limit,
                                                                      unsigned int *max_limit);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device,
                                                                  unsigned int *limit);
JSIM_EXPORT nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t device, unsigned int limit);
JSIM_EXPORT nvmlReturn_t nvmlDeviceSetPowerManagementLimit_v2(nvmlDevice_t device,
                                                              nvmlPowerValue_v2_t *value);

/* clocks */
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, unsigned int type,
                                                unsigned int *clock);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, unsigned int type,
                                                   unsigned int *clock);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetClock(nvmlDevice_t device, unsigned int type, unsigned int id,
                                            unsigned int *clock);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedMemoryClocks(nvmlDevice_t device,
                                                            unsigned int *count,
                                                            unsigned int *clocks);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetSupportedGraphicsClocks(nvmlDevice_t device,
                                                              unsigned int mem_clock,
                                                              unsigned int *count,
                                                              unsigned int *clocks);
JSIM_EXPORT nvmlReturn_t nvmlDeviceSetGpuLockedClocks(nvmlDevice_t device, unsigned int min_mhz,
                                                      unsigned int max_mhz);
JSIM_EXPORT nvmlReturn_t nvmlDeviceResetGpuLockedClocks(nvmlDevice_t device);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device,
                                                                unsigned long long *reasons);
JSIM_EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device,
                                                                   unsigned long long *reasons);

/* jsim extension entry points (jsim.h) */
JSIM_EXPORT int jsimIsSimulated(void);
JSIM_EXPORT nvmlReturn_t jsimLastError(char *buf, unsigned int len);
JSIM_EXPORT nvmlReturn_t jsimGetTrueEnergy(nvmlDevice_t dev, long long t_ns, double *energy_j);
JSIM_EXPORT nvmlReturn_t jsimGetTruePower(nvmlDevice_t dev, double *power_w);
JSIM_EXPORT nvmlReturn_t jsimGetStatedAccuracy(nvmlDevice_t dev, double *relative);
JSIM_EXPORT nvmlReturn_t jsimGetState(nvmlDevice_t dev, jsimState *state);
JSIM_EXPORT nvmlReturn_t jsimReconfigure(const char *scenario_text, unsigned int flags);
JSIM_EXPORT nvmlReturn_t jsimAdvance(double seconds);
JSIM_EXPORT nvmlReturn_t jsimNow(long long *t_ns);
JSIM_EXPORT nvmlReturn_t jsimRunKernel(nvmlDevice_t dev, const jsimKernel *kernel,
                                       jsimKernelResult *result);
JSIM_EXPORT nvmlReturn_t jsimLaunchKernel(nvmlDevice_t dev, const jsimKernel *kernel);
JSIM_EXPORT nvmlReturn_t jsimToggleRate(const void *data, size_t count, int precision,
                                        double *rate);
JSIM_EXPORT nvmlReturn_t jsimAlphaFromToggle(nvmlDevice_t dev, double toggle, double *alpha);
JSIM_EXPORT nvmlReturn_t jsimGetModel(nvmlDevice_t dev, jsimModel *model);
JSIM_EXPORT nvmlReturn_t jsimVoltageAt(nvmlDevice_t dev, double f_mhz, double *volts);
JSIM_EXPORT nvmlReturn_t jsimGetMachine(jsimMachine *machine);
JSIM_EXPORT nvmlReturn_t jsimResetMachine(const char *name);

/* The prologue of a device query, shared by the NVML entry points: declares d (the device)
 * and rc (the result so far), returns at once on a bad handle, a lost GPU or an injected
 * error; DEV_RETURN() leaves the model's lock and returns rc. */
#define DEV_ENTER(h)                                                                               \
    struct sim_dev *d;                                                                             \
    nvmlReturn_t rc = sim_enter_dev((h), &d);                                                      \
    if (rc != NVML_SUCCESS)                                                                        \
        return rc;

#define DEV_RETURN()                                                                               \
    do {                                                                                           \
        sim_leave();                                                                               \
        return rc;                                                                                 \
    } while (0)

#endif /* JOULES_SIM_NVML_EXPORTS_H */
